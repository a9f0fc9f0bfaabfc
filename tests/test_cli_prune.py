"""``subsetsum prune``: the quick run writes every file with sane numbers; bad options are usage errors."""

import argparse
import csv
import math

import pytest

from subsetsum import _prune_cli, theory


def _run(argv):
    parser = argparse.ArgumentParser(prog="subsetsum prune")
    _prune_cli.configure_parser(parser)
    return _prune_cli.main(parser.parse_args(argv))


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_quick_run_writes_every_file(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    # every figure is built, but only recorded: rendering log axes costs seconds (one figure is
    # rendered for real below)
    saved = []

    def record(fig, path):
        saved.append((path.name, len(fig.axes)))
        path.write_bytes(b"")
        return path

    monkeypatch.setattr(_prune_cli, "_save", record)
    out = tmp_path / "prune"
    assert _run(["--quick", "--out", str(out), "--no-progress"]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"linear_features.csv", "random_pruning.csv", "ticket_survival.csv", "path_products.csv",
                     "tickets_vs_pruning.csv", "tickets.csv", "prune_linear_features.png",
                     "prune_random_pruning.png", "prune_tickets.png"}
    assert dict(saved) == {"prune_linear_features.png": 2, "prune_random_pruning.png": 6, "prune_tickets.png": 2}

    linear = _rows(out / "linear_features.csv")
    methods = {r["method"] for r in linear}
    assert {"magnitude top-k", "sketching p0", "Lemma 4.1", "Lemma 4.2 bound"} <= methods
    sketch = {(r["data"], r["samples"]): float(r["relative_error"]) for r in linear if r["method"] == "sketching p0"}
    lemma = {(r["data"], r["samples"]): float(r["relative_error"]) for r in linear if r["method"] == "Lemma 4.1"}
    for key, value in sketch.items():  # Monte Carlo of Algorithm 1 against the exact Lemma 4.1
        assert value == pytest.approx(lemma[key], rel=0.5)

    pruning = _rows(out / "random_pruning.csv")
    for r in pruning:
        assert float(r["emptied"]) <= float(r["disconnected"]) <= 1.0
        budget = theory.pruning_budget(int(r["width"]), int(r["depth"]), case=r["case"])
        assert float(r["budget_c_e"]) == pytest.approx(budget)
    survival = _rows(out / "ticket_survival.csv")
    assert float(survival[0]["survived"]) >= float(survival[-1]["survived"]) == 0.0
    paths = _rows(out / "path_products.csv")
    assert all(0.0 <= float(r["measured"]) <= 1.0 for r in paths)

    tickets = _rows(out / "tickets.csv")
    assert tickets and all(float(t["sup_error"]) <= float(t["certified_bound"]) + 1e-9 for t in tickets)
    assert all(0.0 < float(t[f"target_density_{m}"]) <= 1.0 for t in tickets for m in ("random", "sketching p0"))
    printed = capsys.readouterr().out
    assert "tickets against pruning the target" in printed and "wrote" in printed


def test_only_one_experiment_renders_its_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "pruning"
    assert _run(["--quick", "--only", "pruning", "--out", str(out), "--no-progress"]) == 0
    assert {p.name for p in out.iterdir()} == {"random_pruning.csv", "ticket_survival.csv", "path_products.csv",
                                               "prune_random_pruning.png"}
    data = (out / "prune_random_pruning.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 250_000
    rows = _rows(out / "random_pruning.csv")
    k = math.ceil(float(rows[0]["budget_c_e"])) - 1
    assert float(rows[k]["disconnected_lower"]) <= 1 / math.e


@pytest.mark.parametrize("argv, option", [
    (["--trials", "1"], "--trials"),
    (["--seed", "-2"], "--seed"),
    (["--only", "everything"], "--only"),
    (["--device", "tpu"], "--device"),
])
def test_bad_options_are_usage_errors(tmp_path, capsys, argv, option):
    with pytest.raises(SystemExit) as exc:
        _run(argv + ["--quick", "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: subsetsum prune") and option in err


def test_out_on_a_file_is_a_usage_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as exc:
        _run(["--quick", "--out", str(blocker / "sub"), "--no-plots"])
    assert exc.value.code == 2 and "argument --out" in capsys.readouterr().err
