"""Tickets end to end: every parameter within tolerance, measured errors within the certified
bound and within output_eps, repair of forced misses, honest warnings, fixed-size tickets of a
size known in advance, ER containment, modules, save/load, user sources and clear errors."""

import warnings

import numpy as np
import pytest

from subsetsum import Ticket, TicketToleranceError, TicketWarning, construct_ticket
from subsetsum.tickets.graph import parse_target

ACTIVATIONS = ["ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Identity"]


def _torch_target(widths, activation, seed=0, output=None, std=None):
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(seed)
    mods = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        lin = nn.Linear(a, b)
        if std is not None:
            with torch.no_grad():
                lin.weight.normal_(0.0, std)
                lin.bias.normal_(0.0, std)
        mods.append(lin)
        if i < len(widths) - 2:
            mods.append(getattr(nn, activation)())
    if output is not None:
        mods.append(getattr(nn, output)())
    return nn.Sequential(*mods)


def _inputs(n, d, seed=1, bound=1.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-bound, bound, size=(n, d))
    x[: min(n, 2 ** min(d, 10))] = bound * np.sign(rng.uniform(-1, 1, size=(min(n, 2 ** min(d, 10)), d)))
    return x  # random points and corners of the box


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_default_tickets_meet_every_tolerance(method, activation):
    net = _torch_target([4, 6, 5, 3], activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TicketWarning)
        ticket = construct_ticket(net, method=method, eps=0.01, seed=0)
    assert ticket.failed == []
    for err, tol in zip(ticket.errors, ticket.metadata["tolerances"]):
        assert err.max() <= tol
    assert ticket.verify(_inputs(5000, 4)) <= ticket.error_bound()


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("activation,widths", [("ReLU", [5, 7, 3]), ("LeakyReLU", [4, 6, 6, 2]),
                                               ("Tanh", [3, 5, 5, 5, 2]), ("Sigmoid", [5, 8, 8, 3])])
def test_output_eps_holds_on_random_targets(method, activation, widths):
    net = _torch_target(widths, activation, seed=len(widths), std=1.0)  # weights N(0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TicketWarning)
        ticket = construct_ticket(net, method=method, output_eps=0.05, seed=2)
    assert ticket.failed == []
    assert ticket.error_bound() <= 0.05
    assert ticket.verify(_inputs(4000, widths[0])) <= ticket.error_bound()
    report = ticket.report(samples=500)
    assert report.holds() == {"tolerances": True, "certified_bound": True, "output_eps": True}


def test_input_bound_sets_the_domain():
    net = _torch_target([3, 5, 2], "Tanh", seed=3)
    ticket = construct_ticket(net, method="2L", output_eps=0.05, input_bound=3.0)
    assert ticket.error_bound() <= 0.05
    assert ticket.verify(_inputs(4000, 3, bound=3.0)) <= ticket.error_bound()
    report = ticket.report(samples=500)
    assert report.input_bound == 3.0 and "[-3, 3]^d" in str(report)


def test_large_weights_are_rescaled():
    rng = np.random.default_rng(2)
    target = [(rng.uniform(-5, 5, (3, 2)), rng.uniform(-3, 3, 3)), (rng.uniform(-4, 4, (1, 3)), np.zeros(1))]
    ticket = construct_ticket(target, eps=0.05, method="2L")
    assert max(s for s in ticket.metadata["element_scales"] if s) > 4
    assert ticket.failed == []
    assert ticket.verify(_inputs(2000, 2)) <= ticket.error_bound()


def test_repair_removes_forced_misses():
    net = _torch_target([6, 8, 3], "ReLU", seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TicketWarning)
        first = construct_ticket(net, method="L+1", rho=5, repair=False, seed=4)
    assert first.failed  # base sets of 5 leave misses
    repaired = construct_ticket(net, method="L+1", rho=5, seed=4)
    assert repaired.failed == []
    log = repaired.metadata["repair"]
    assert log["problems"] > 0 and sum(log["added_rows"]) > 0 and log["unrepaired"] == 0
    # generated sources grow by rows
    assert repaired.shapes[0][0] > first.shapes[0][0]
    assert repaired.verify(_inputs(2000, 6)) <= repaired.error_bound()


def test_forced_miss_warns_and_strict_raises():
    rng = np.random.default_rng(0)
    target = [(rng.uniform(-1, 1, (6, 5)), rng.uniform(-1, 1, 6))]
    with pytest.warns(TicketWarning, match=r"target parameters stayed above their tolerance.*target layer 0"):
        ticket = construct_ticket(target, eps=1e-4, rho=4, max_size=2)
    assert ticket.failed and all(len(f) == 3 for f in ticket.failed)
    report = ticket.report(samples=50)
    assert report.lemma_bound is None and "n/a" in str(report)
    assert ticket.verify(_inputs(500, 5)) <= ticket.error_bound()  # the certificate holds anyway
    with pytest.raises(TicketToleranceError, match="strict"):
        construct_ticket(target, eps=1e-4, rho=4, max_size=2, strict=True)


def test_smaller_delta_gives_larger_base_sets():
    net = _torch_target([8, 10, 4], "ReLU", seed=5)
    loose = construct_ticket(net, method="2L", delta=0.5)
    tight = construct_ticket(net, method="2L", delta=1e-4)
    assert all(a <= b for a, b in zip(loose.metadata["group_sizes"], tight.metadata["group_sizes"]))
    assert sum(tight.metadata["group_sizes"]) > sum(loose.metadata["group_sizes"])
    for meta in (loose.metadata, tight.metadata):
        for entry in meta["sizing"]:
            if entry is not None:
                assert entry["how"] == "table"
                assert sum(entry["expected_misses"]) <= meta["delta"]


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("activation", ["ReLU", "Tanh", "Sigmoid"])
def test_fixed_size_tickets_have_the_size_of_their_formula(method, activation):
    net = _torch_target([4, 6, 3], activation)
    counts = set()
    for seed in range(3):
        ticket = construct_ticket(net, method=method, subset_size=3, seed=seed)
        assert ticket.failed == []
        assert ticket.parameters == ticket.size_formula()
        counts.add(ticket.parameters)
        for s, (kind, t) in enumerate(ticket.metadata["roles"]):
            if kind == "combine":
                terms = [x["count"] for x in ticket.metadata["size_formula"]["terms"] if x["layer"] == s]
                assert ticket.metadata["subset_edges"][s] == sum(terms)
    assert len(counts) == 1  # the same for every seed


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("activation", ["Tanh", "Sigmoid"])
def test_fixed_size_formula_counts_what_the_repair_pass_added(method, activation):
    # a large delta leaves work to the repair pass: new block neurons, constants or copies
    net = _torch_target([4, 6, 3], activation)
    repaired = []
    for seed in range(8):
        ticket = construct_ticket(net, method=method, subset_size=3, seed=seed, delta=0.9)
        assert ticket.failed == []
        assert ticket.parameters == ticket.size_formula()
        repaired += ticket.metadata["repair"]["added"]
    assert repaired, "no seed needed a repair: the test no longer exercises the repaired formula"


def test_default_delta_is_smaller_for_fixed_size_tickets():
    from subsetsum.tickets.options import DEFAULT_DELTA, FIXED_SIZE_DELTA

    net = _torch_target([4, 6, 3], "ReLU")
    assert construct_ticket(net, method="2L").metadata["delta"] == DEFAULT_DELTA
    assert construct_ticket(net, method="2L", subset_size=3).metadata["delta"] == FIXED_SIZE_DELTA
    assert construct_ticket(net, method="2L", subset_size=3, delta=0.2).metadata["delta"] == 0.2
    assert FIXED_SIZE_DELTA < DEFAULT_DELTA


def test_fixed_size_needs_a_choice():
    with pytest.raises(ValueError, match="subset_size"):
        construct_ticket([(np.ones((2, 3)) * 0.5, np.zeros(2))], rho=4, subset_size=4)


@pytest.mark.parametrize("scheme", ["uniform", "erk", "balanced", "pyramidal"])
def test_er_tickets_stay_inside_the_er_mask(scheme):
    net = _torch_target([4, 6, 3], "ReLU")
    ticket = construct_ticket(net, density=0.5, density_scheme=scheme, seed=3)
    assert ticket.er is not None and ticket.failed == []
    for s, (rows, cols) in enumerate(ticket.edges):
        mask = ticket.er.mask(s, rows, cols, outer=False)
        assert mask is None or mask.all()
    dense = construct_ticket(net, seed=3)
    assert sum(ticket.metadata["group_sizes"]) > sum(dense.metadata["group_sizes"])  # thinned base sets


@pytest.mark.filterwarnings("ignore::subsetsum.tickets.TicketWarning")  # a fixed rho may leave misses
@pytest.mark.parametrize("method", ["L+1", "2L"])
def test_er_tickets_repaired_at_a_fixed_size_stay_inside_the_er_mask(method):
    """The repair pass re-solves problems with their groups' existing elements only, also when
    every group it reads has the same width (a fixed rho: no padding to mask)."""
    rng = np.random.default_rng(0)
    target = [(rng.uniform(-1, 1, (20, 12)), rng.uniform(-1, 1, 20)),
              (rng.uniform(-1, 1, (5, 20)), rng.uniform(-1, 1, 5))]
    ticket = construct_ticket(target, method=method, rho=15, density=0.5, seed=1, progress=False)
    assert ticket.metadata["repair"]["problems"] > 0
    for s, (rows, cols) in enumerate(ticket.edges):
        mask = ticket.er.mask(s, rows, cols, outer=False)
        assert mask is None or mask.all(), f"layer {s}: {int((~mask).sum())} kept edges outside the ER mask"


def test_modules_prune_compatible_baked_and_compact():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import prune

    net = _torch_target([4, 5, 2], "ReLU")
    ticket = construct_ticket(net)
    x = _inputs(64, 4)
    expected = ticket.forward(x)
    xs = torch.tensor(x, dtype=torch.float32)
    module = ticket.to_module()
    lin = module[0]
    assert hasattr(lin, "weight_orig") and hasattr(lin, "weight_mask")
    assert torch.equal(lin.weight_mask.bool(), torch.from_numpy(ticket.masks()[0]))
    with torch.no_grad():
        out = module(xs).double().numpy()
        assert np.abs(out - expected).max() < 1e-4
        compact = ticket.to_module(compact=True)
        assert np.abs(compact(xs).double().numpy() - expected).max() < 1e-4
        baked = ticket.to_module(compact=True, baked=True)
        assert torch.allclose(compact(xs), baked(xs))
    widths = [m.out_features for m in compact if isinstance(m, torch.nn.Linear)]
    assert widths[0] < ticket.shapes[0][0] and widths[-1] == 2
    kept = sum(int(m.weight_mask.sum()) + int(m.bias_mask.sum() if hasattr(m, "bias_mask") else 0)
               for m in compact if isinstance(m, torch.nn.Linear))
    assert kept == ticket.parameters
    for m in module:
        if isinstance(m, torch.nn.Linear):
            prune.remove(m, "weight")
            if m.bias is not None:
                prune.remove(m, "bias")


def test_save_load_identity(tmp_path):
    cases = [(_torch_target([4, 5, 2], "Sigmoid"), {}),
             (_torch_target([4, 5, 2], "ReLU"), {"density": 0.6}),
             (_torch_target([4, 5, 2], "Tanh"), {"source": _torch_target([4, 4 * 120, 5 * 60, 2], "Tanh")})]
    for net, kwargs in cases:
        ticket = construct_ticket(net, **kwargs)
        path = tmp_path / "ticket.safetensors"
        ticket.save(path)
        loaded = Ticket.load(path)
        assert all((a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(ticket.edges, loaded.edges))
        assert loaded.scales == ticket.scales and loaded.metadata == ticket.metadata
        assert loaded.error_bound() == ticket.error_bound()
        x = _inputs(50, 4)
        assert (loaded.forward(x) == ticket.forward(x)).all()


def test_user_source_scales_spare_rows_and_errors():
    pytest.importorskip("torch")
    from torch import nn

    net = _torch_target([3, 4, 2], "ReLU")
    big = nn.Sequential(nn.Linear(3, 3 * 150), nn.ReLU(), nn.Linear(450, 4 * 60 + 80), nn.ReLU(),
                        nn.Linear(320, 2))
    ticket = construct_ticket(net, source=big, rho=20)
    assert len(ticket.scales) == 3 and ticket.metadata["unit_scales"][0] == pytest.approx(np.sqrt(3), rel=0.2)
    assert ticket.failed == []
    assert ticket.verify(_inputs(500, 3)) <= ticket.error_bound()
    small = nn.Sequential(nn.Linear(3, 50), nn.ReLU(), nn.Linear(50, 90), nn.ReLU(), nn.Linear(90, 2))
    with pytest.raises(ValueError, match=r"source layer 0 is too small.*needs at least"):
        construct_ticket(net, source=small)
    with pytest.raises(ValueError, match="needs 3 linear layers"):
        construct_ticket(net, source=nn.Sequential(nn.Linear(3, 2)))


def test_user_source_without_spare_rows_reports_it():
    pytest.importorskip("torch")
    from torch import nn

    net = _torch_target([3, 4, 2], "ReLU", seed=2)
    rho = 5
    tight = nn.Sequential(nn.Linear(3, 3 * 2 * rho + 2 * rho), nn.ReLU(), nn.Linear(3 * 2 * rho + 2 * rho, 4 * rho + 2 * rho),
                          nn.ReLU(), nn.Linear(4 * rho + 2 * rho, 2))
    with pytest.warns(TicketWarning, match=r"ran out of spare rows for the repair pass \(about \d+ more in source layer"):
        construct_ticket(net, source=tight, rho=rho, eps=1e-3)


def test_report_separates_the_bounds():
    net = _torch_target([4, 6, 3], "Tanh")
    ticket = construct_ticket(net, method="2L", output_eps=0.1)
    text = str(ticket.report(samples=200))
    for phrase in ("requested output_eps", "certified bound", "Lemma 2.8 bound", "measured", "tolerance"):
        assert phrase in text
    report = ticket.report(samples=200)
    assert report.sup_error <= report.certified_bound <= 0.1
    assert report.relative_error == pytest.approx(report.sup_error / ticket.target.output_range().max())


def test_degenerate_requests_warn():
    rng = np.random.default_rng(0)
    target = [(rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 3))]
    with pytest.warns(TicketWarning, match="keeps nothing"):
        construct_ticket(target, eps=10.0)
    with pytest.warns(TicketWarning) as record:
        construct_ticket(target, density=0.02, eps=1e-3)
    assert any("largest size the solver allows" in str(w.message) and "ER density" in str(w.message) for w in record)


def test_deterministic_and_seeded():
    net = _torch_target([4, 5, 2], "LeakyReLU")
    a, b = construct_ticket(net, seed=11), construct_ticket(net, seed=11)
    c = construct_ticket(net, seed=12)
    assert all((x[0] == y[0]).all() and (x[1] == y[1]).all() for x, y in zip(a.edges, b.edges))
    assert any(x[0].size != y[0].size or (x[0] != y[0]).any() for x, y in zip(a.edges, c.edges))


def test_progress_callback_sees_every_problem():
    seen = []
    construct_ticket(_torch_target([4, 5, 2], "ReLU"), progress=lambda done, total: seen.append((done, total)))
    assert seen and all(d <= t for d, t in seen)
    assert seen[-1][0] == seen[-1][1]


def test_bad_targets_and_arguments():
    pytest.importorskip("torch")
    from torch import nn

    with pytest.raises(ValueError, match=r"module 1 \(GELU\) is not supported; expected nn.Linear, nn.Conv2d, an activation"):
        construct_ticket(nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match=r"module 1 \(Conv1d\) is not supported"):
        construct_ticket(nn.Sequential(nn.Linear(2, 3), nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="Dropout.*training mode.*eval"):
        construct_ticket(nn.Sequential(nn.Dropout(0.2), nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)))
    evaluated = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.5),
                              nn.Linear(3, 1)).eval()
    assert construct_ticket(evaluated).target.widths == [2, 3, 1]
    import subsetsum

    if not subsetsum.cuda_available():
        with pytest.raises(ValueError, match="device: 'cuda' was asked for but no CUDA device is available"):
            construct_ticket(evaluated, device="cuda")
    with pytest.raises(ValueError, match="input features"):
        construct_ticket([(np.ones((3, 2)), None), (np.ones((1, 4)), None)])
    with pytest.raises(ValueError, match="bias: expected shape"):
        construct_ticket([(np.ones((3, 2)), np.ones(2))])
    with pytest.raises(ValueError, match="activation"):
        parse_target([(np.ones((3, 2)), None)], activation="swish")
    one = [(np.ones((1, 2)) * 0.5, None)]
    for kwargs, exc, pattern in [
        (dict(method="3L"), ValueError, "method"),
        (dict(eps=0), ValueError, "eps"),
        (dict(rho=100), ValueError, "rho"),
        (dict(rho="big"), ValueError, "rho"),
        (dict(rho=2.5), TypeError, "rho"),
        (dict(delta=1.5), ValueError, "delta"),
        (dict(delta=0), ValueError, "delta"),
        (dict(input_bound=-1), ValueError, "input_bound"),
        (dict(max_size=0), ValueError, "max_size"),
        (dict(repair="yes"), TypeError, "repair"),
        (dict(device="tpu"), ValueError, "device"),
        (dict(progress=3), TypeError, "progress"),
    ]:
        with pytest.raises(exc, match=pattern):
            construct_ticket(one, **kwargs)
    with pytest.raises(ValueError, match="looks-linear"):
        construct_ticket(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)), source="uniform")
    with pytest.raises(ValueError, match="NaN"):
        construct_ticket([(np.full((1, 2), np.nan), None)])
    with pytest.raises(ValueError, match="x: expected shape"):
        construct_ticket(one).verify(np.zeros((3, 3)))


def test_user_source_is_copied():
    torch = pytest.importorskip("torch")
    from torch import nn

    net = _torch_target([3, 4, 2], "ReLU")
    big = nn.Sequential(nn.Linear(3, 3 * 150), nn.ReLU(), nn.Linear(450, 4 * 60 + 80), nn.ReLU(),
                        nn.Linear(320, 2))
    ticket = construct_ticket(net, source=big, rho=20)
    x = _inputs(200, 3)
    before = ticket.forward(x)
    with torch.no_grad():
        for p in big.parameters():
            p.uniform_(-5, 5)  # re-initialised in place by the caller
    assert (ticket.forward(x) == before).all()


def test_load_refuses_changed_files(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    import json

    ticket = construct_ticket(_torch_target([4, 5, 2], "ReLU"), seed=3)
    path = tmp_path / "t.safetensors"
    ticket.save(path)

    def rewrite(edit_header=None, edit_tensors=None):
        with safe_open(str(path), framework="numpy") as f:
            header = json.loads(f.metadata()["subsetsum"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        if edit_header:
            edit_header(header)
        if edit_tensors:
            edit_tensors(tensors)
        bad = tmp_path / "bad.safetensors"
        save_file(tensors, str(bad), metadata={"subsetsum": json.dumps(header)})
        return bad

    with pytest.raises(ValueError, match="field 'source' was changed"):
        Ticket.load(rewrite(edit_header=lambda h: h["source"].__setitem__("seed", 4)))
    with pytest.raises(ValueError, match="field 'shapes' was changed"):
        Ticket.load(rewrite(edit_header=lambda h: h["shapes"][0].__setitem__(0, 7)))
    with pytest.raises(ValueError, match="field 'errors.0' is missing"):
        Ticket.load(rewrite(edit_tensors=lambda t: t.pop("errors.0")))
    with pytest.raises(ValueError, match="lacks the field 'checksums'"):
        Ticket.load(rewrite(edit_header=lambda h: h.pop("checksums")))
    with pytest.raises(ValueError, match="not a ticket"):
        save_file({"x": np.zeros(2)}, str(tmp_path / "other.safetensors"))
        Ticket.load(tmp_path / "other.safetensors")
    assert Ticket.load(path).parameters == ticket.parameters


def test_fixed_size_with_fewer_elements_than_k_reports_misses():
    net = _torch_target([4, 5, 2], "ReLU")
    with pytest.warns(TicketWarning, match="stayed above their tolerance"):
        ticket = construct_ticket(net, rho=6, subset_size=5, density=0.15, repair=False, seed=1)
    assert ticket.failed


def test_progress_bar_shows_the_peak_memory(capfd):
    net = _torch_target([4, 6, 3], "ReLU")
    construct_ticket(net, method="2L", progress=True)
    shown = capfd.readouterr().err
    assert "problem" in shown and "peak RSS" in shown and "MB" in shown


@pytest.mark.parametrize("compact", [False, True])
def test_sparse_modules_hold_only_the_kept_weights(compact):
    torch = pytest.importorskip("torch")
    from subsetsum.tickets.modules import SparseLinear

    net = _torch_target([5, 7, 3], "Tanh")
    ticket = construct_ticket(net, method="L+1", seed=0)
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (50, 5)).astype(np.float32))
    dense = ticket.to_module(compact=compact)
    sparse = ticket.to_module(compact=compact, sparse=True)
    layers = [m for m in sparse.modules() if isinstance(m, SparseLinear)]
    assert len(layers) == len(ticket.shapes) == ticket.target.depth + 1  # L+1: one more layer than the target
    assert sum(m.weight._nnz() for m in layers) == sum(r.size for r, _c in ticket.edges)
    with torch.no_grad():
        assert torch.allclose(sparse(x), dense(x), atol=1e-5)
    assert np.abs(sparse(x).detach().numpy() - ticket.forward(x.double().numpy())).max() < 1e-4


def test_large_tickets_become_sparse_modules(monkeypatch):
    from subsetsum.tickets import ticket as ticket_module
    from subsetsum.tickets.modules import SparseLinear

    ticket = construct_ticket(_torch_target([5, 7, 3], "ReLU"), method="2L", seed=0)
    assert not any(isinstance(m, SparseLinear) for m in ticket.to_module().modules())
    monkeypatch.setattr(ticket_module, "SPARSE_ABOVE", 10)
    assert any(isinstance(m, SparseLinear) for m in ticket.to_module().modules())
    assert not any(isinstance(m, SparseLinear) for m in ticket.to_module(sparse=False).modules())
    with pytest.raises(TypeError, match="sparse"):
        ticket.to_module(sparse="yes")


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("mode", ["min_size", "fixed_size"])
def test_device_solve_call_equals_host_call_on_torch_cpu_tensors(mode, masked):
    """The device branch of a ticket's batched solve (torch tensors on ``device``) run on torch's
    CPU device gives the host branch's answer, with and without a mask (a ticket built with
    device="cuda" once failed on unmasked problems)."""
    import types

    from subsetsum.tickets.solve import _solve_call

    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    targets = rng.uniform(-1, 1, 500)
    elements = rng.uniform(-1, 1, (500, 12))
    mask = rng.random((500, 12)) < 0.8 if masked else None
    plan = types.SimpleNamespace(mode=mode, max_size=6, subset_size=3)
    host = _solve_call(targets, elements, mask, 0.01, plan, None)
    device = _solve_call(targets, elements, mask, 0.01, plan, "cpu")
    for a, b in zip(host, device):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _blocked_forward_cases():
    from test_ticket_conv import make_target as conv_target
    from test_ticket_residual import make_target as residual_target

    rng = np.random.default_rng(0)
    mlp = [(rng.uniform(-1, 1, (6, 5)), rng.uniform(-1, 1, 6)), (rng.uniform(-1, 1, (3, 6)), rng.uniform(-1, 1, 3))]
    yield "mlp", mlp, (5,)
    net, shape = conv_target("k3 stride2 pad1, flatten")
    yield "conv", net, shape
    net, shape = residual_target("identity", "relu")
    yield "residual", net, shape


@pytest.mark.parametrize("case", ["mlp", "conv", "residual"])
def test_forward_of_layers_too_large_to_cache_regenerates_the_same_weights(monkeypatch, case):
    """Layers above FORWARD_CACHE_EDGES are evaluated by row blocks with their weights
    regenerated from the source: the same outputs as the cached path, whatever the block."""
    from subsetsum.tickets import ticket as ticket_module

    name, target, shape = next(c for c in _blocked_forward_cases() if c[0] == case)
    t = construct_ticket(target, method="2L", seed=3, progress=False,
                         **({} if shape == (5,) else {"input_shape": shape}))
    x = np.random.default_rng(1).uniform(-1, 1, (40, *shape))
    cached = t.forward(x)
    for block in (1, 7, 1 << 22):
        monkeypatch.setattr(ticket_module, "FORWARD_CACHE_EDGES", 0)
        monkeypatch.setattr(ticket_module, "FORWARD_BLOCK_EDGES", block)
        t._cache.clear()
        np.testing.assert_allclose(t.forward(x), cached, rtol=0, atol=1e-12)
        assert all(layer[0] is None for layer in t._sparse_layers())


def test_report_samples_shrink_for_large_tickets_and_zero_skips_the_measurement(monkeypatch):
    from subsetsum.tickets import ticket as ticket_module

    t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))], progress=False)
    assert t.report().samples == 10_000
    kept = sum(e.size for e in t.edges)
    monkeypatch.setattr(ticket_module, "REPORT_EDGE_EVALUATIONS", kept * 500)
    assert t.report().samples == 500
    monkeypatch.setattr(ticket_module, "REPORT_EDGE_EVALUATIONS", 1)
    assert t.report().samples == ticket_module.REPORT_MIN_SAMPLES
    skipped = t.report(samples=0)
    assert skipped.sup_error is None and skipped.relative_error is None
    assert "certified_bound" not in skipped.holds() and skipped.holds()["tolerances"]
    assert "not measured" in str(skipped)
    with pytest.raises(ValueError, match="samples"):
        t.report(samples=-1)
