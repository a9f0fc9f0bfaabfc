"""`subsetsum ticket`: a saved target in, a saved ticket out that meets what was asked; usage
errors for bad files and options."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from subsetsum import Ticket  # noqa: E402
from subsetsum.cli import main  # noqa: E402


@pytest.fixture
def saved_mlp(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    path = tmp_path / "mlp.pt"
    torch.save(net, path)
    return net, path


def test_ticket_command_builds_and_saves(saved_mlp, tmp_path, capsys):
    net, path = saved_mlp
    out = tmp_path / "out" / "mlp.ticket"
    assert main(["ticket", str(path), "--out", str(out), "--output-eps", "0.05", "--samples", "500"]) == 0
    printed = capsys.readouterr().out
    assert "saved to" in printed
    ticket = Ticket.load(out)
    assert ticket.failed == [] and ticket.error_bound() <= 0.05
    x = np.random.default_rng(0).uniform(-1, 1, (300, 5))
    with torch.no_grad():
        expected = net.double()(torch.from_numpy(x)).numpy()
    assert np.abs(ticket.forward(x) - expected).max() <= ticket.error_bound()


def test_ticket_command_can_skip_the_measured_error(saved_mlp, tmp_path, capsys):
    _net, path = saved_mlp
    assert main(["ticket", str(path), "--out", str(tmp_path / "t.ticket"), "--samples", "0"]) == 0
    assert "not measured (samples=0)" in capsys.readouterr().out


def test_ticket_command_builds_a_conv_ticket(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 2))
    path = tmp_path / "cnn.pt"
    torch.save(net, path)
    out = tmp_path / "cnn.ticket"
    assert main(["ticket", str(path), "--out", str(out), "--method", "2L", "--input-shape", "1", "4", "4",
                 "--samples", "50"]) == 0
    assert Ticket.load(out).target.input_shape == (1, 4, 4)


@pytest.mark.parametrize("argv, message", [
    (["missing.pt", "--out", "t.ticket"], "is not a file"),
    (["{target}", "--out", "t.ticket", "--eps", "0"], "--eps"),
    (["{target}", "--out", "t.ticket", "--method", "3L"], "--method"),
    (["{target}", "--out", "t.ticket", "--input-shape", "1", "4", "4"], "input_shape"),
    (["{state}", "--out", "t.ticket"], "holds a OrderedDict"),
])
def test_ticket_command_usage_errors(saved_mlp, tmp_path, monkeypatch, capsys, argv, message):
    net, path = saved_mlp
    state = tmp_path / "state.pt"
    torch.save(net.state_dict(), state)
    monkeypatch.chdir(tmp_path)
    argv = [a.format(target=path, state=state) for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(["ticket", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def _edges(ticket):
    return [(r.tolist(), c.tolist()) for r, c in ticket.edges], [e.tolist() for e in ticket.errors]


def test_an_interrupted_ticket_command_resumes_from_its_checkpoint(saved_mlp, tmp_path, monkeypatch, capsys):
    from subsetsum.tickets import solve as solve_module

    _net, path = saved_mlp
    monkeypatch.setattr(solve_module, "ELEMENTS_PER_CALL", 2_000)  # many shards for a small target
    real = solve_module.solve_block
    calls = {"n": 0, "whole": 0, "again": 0}

    def counted(key):
        def job(*args):
            calls[key] += 1
            return real(*args)
        return job

    whole = tmp_path / "whole.ticket"
    monkeypatch.setattr(solve_module, "solve_block", counted("whole"))
    assert main(["ticket", str(path), "--out", str(whole), "--no-checkpoint", "--samples", "100"]) == 0
    assert not (tmp_path / "whole.ticket.partial").exists()
    assert calls["whole"] > 6

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(*args)

    out = tmp_path / "resumed.ticket"
    monkeypatch.setattr(solve_module, "solve_block", interrupted)
    try:
        status = main(["ticket", str(path), "--out", str(out), "--samples", "100"])
    except KeyboardInterrupt:
        status = 130
    assert status != 0 and not out.exists()
    folder = tmp_path / "resumed.ticket.partial"
    assert len(list(folder.glob("*.result"))) == 3

    monkeypatch.setattr(solve_module, "solve_block", counted("again"))
    capsys.readouterr()
    assert main(["ticket", str(path), "--out", str(out), "--samples", "100"]) == 0
    assert "resuming from" in capsys.readouterr().out
    assert not folder.exists()  # removed once the ticket is saved
    assert calls["again"] == calls["whole"] - 3  # only the shards that had not finished
    assert _edges(Ticket.load(out)) == _edges(Ticket.load(whole))


def test_a_checkpoint_of_another_build_is_refused(saved_mlp, tmp_path, capsys):
    _net, path = saved_mlp
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"fingerprint": "something else"}')
    with pytest.raises(SystemExit) as exit_info:
        main(["ticket", str(path), "--out", str(tmp_path / "t.ticket"), "--checkpoint", str(folder)])
    assert exit_info.value.code == 2
    assert "--checkpoint" in capsys.readouterr().err
