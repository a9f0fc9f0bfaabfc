"""Tickets: per-parameter and end-to-end errors, parameter counts, ER containment, fixed-size
density, prune compatibility, save/load, and clear errors."""

import numpy as np
import pytest

from subsetsum import Ticket, construct_ticket
from subsetsum.tickets.graph import parse_target

ACTIVATIONS = ["ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Identity"]


def _torch_target(widths, activation, seed=0, output=None):
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(seed)
    mods = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            mods.append(getattr(nn, activation)())
    if output is not None:
        mods.append(getattr(nn, output)())
    return nn.Sequential(*mods)


def _inputs(n, d, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, d))


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_errors_within_eps_and_bound(method, activation):
    net = _torch_target([4, 6, 5, 3], activation)
    ticket = construct_ticket(net, method=method, eps=0.01, rho=20, seed=0)
    assert ticket.failed == []
    for err, eps in zip(ticket.errors, ticket.metadata["eps"]):
        assert err.max() <= eps + 1e-12
    sup = ticket.verify(_inputs(10_000, 4))
    assert sup <= ticket.error_bound()


@pytest.mark.parametrize("widths", [[3, 2], [3, 5, 2], [2, 4, 4, 4, 1]])
def test_output_eps_bounds_the_end_to_end_error(widths):
    rng = np.random.default_rng(0)
    target = [(rng.uniform(-0.5, 0.5, (b, a)), rng.uniform(-0.5, 0.5, b)) for a, b in zip(widths[:-1], widths[1:])]
    ticket = construct_ticket(target, output_eps=0.05, rho=24, method="2L", seed=1)
    assert ticket.failed == []
    assert ticket.error_bound() <= 0.05
    assert ticket.verify(_inputs(10_000, widths[0])) <= 0.05


def test_large_weights_are_rescaled():
    rng = np.random.default_rng(2)
    target = [(rng.uniform(-5, 5, (3, 2)), rng.uniform(-3, 3, 3)), (rng.uniform(-4, 4, (1, 3)), np.zeros(1))]
    ticket = construct_ticket(target, eps=0.05, rho=20, method="2L")
    assert max(ticket.metadata["target_scale"]) > 4
    assert ticket.failed == []
    assert ticket.verify(_inputs(2000, 2)) <= ticket.error_bound()


def test_parameter_counts_follow_the_construction():
    net = _torch_target([4, 6, 3], "ReLU")
    ticket = construct_ticket(net, method="L+1", rho=20)
    masks = ticket.masks
    # every kept edge of a combine layer is an element of some subset; alive block neurons keep
    # exactly one edge; the output layer keeps all its subset edges
    assert ticket.metadata["subset_edges"][-1] == int(masks[-1].sum())
    used = masks[1].any(axis=0)
    assert (masks[0][used].sum(axis=1) + ticket.bias_masks[0][used] == 1).all()
    assert int(masks[0].sum()) + int(ticket.bias_masks[0].sum()) == int(used.sum())
    assert not masks[0][~used].any()
    report = ticket.report(samples=100)
    assert report.parameters == sum(int(m.sum()) for m in masks) + int(ticket.bias_masks[0].sum())
    assert report.layers[-1].neurons == 3


@pytest.mark.parametrize("scheme", ["uniform", "erk", "balanced", "pyramidal"])
def test_er_tickets_stay_inside_the_er_mask(scheme):
    net = _torch_target([4, 6, 3], "ReLU")
    ticket = construct_ticket(net, density=0.5, density_scheme=scheme, seed=3)
    assert ticket.source_masks is not None
    for mask, er in zip(ticket.masks, ticket.source_masks):
        if er is not None:
            assert not (mask & ~er).any()
    assert ticket.metadata["group_sizes"][1] >= 15  # widened base sets


def test_fixed_size_tickets_have_exact_subset_edges():
    net = _torch_target([4, 6, 3], "Tanh")
    k = 3
    ticket = construct_ticket(net, method="2L", subset_size=k, rho=16, seed=0)
    for s, (kind, t) in enumerate(ticket.metadata["roles"]):
        if kind == "combine":
            n_out, n_in = ticket.target.weights[t].shape
            problems = n_out * (n_in + 1)  # one per weight and bias
            copy_rows = ticket.masks[s][:n_out]  # the rows after them are constant neurons
            assert int(copy_rows.sum()) == k * problems == ticket.metadata["subset_edges"][s]


def test_prune_compatibility_and_baked_modules():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import prune

    net = _torch_target([4, 5, 2], "ReLU")
    ticket = construct_ticket(net, rho=12)
    x = _inputs(64, 4)
    expected = ticket.forward(x)
    module = ticket.to_module()
    lin = module[0]
    assert hasattr(lin, "weight_orig") and hasattr(lin, "weight_mask")
    assert torch.equal(lin.weight_mask.bool(), torch.from_numpy(ticket.masks[0]))
    with torch.no_grad():
        out = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
    assert np.abs(out - expected).max() < 1e-4
    for m in module:
        if isinstance(m, torch.nn.Linear):
            prune.remove(m, "weight")
            if m.bias is not None:
                prune.remove(m, "bias")
    baked = ticket.to_module(baked=True)
    with torch.no_grad():
        xs = torch.tensor(x, dtype=torch.float32)
        assert torch.allclose(module(xs), baked(xs))


def test_save_load_identity(tmp_path):
    net = _torch_target([4, 5, 2], "Sigmoid")
    for kwargs in [dict(), dict(density=0.6), dict(source=_torch_target([4, 4 * 40 + 40, 5 * 15 + 15, 2], "Tanh"))]:
        if "source" in kwargs:
            net = _torch_target([4, 5, 2], "Tanh")
        ticket = construct_ticket(net, **kwargs)
        path = tmp_path / "ticket.safetensors"
        ticket.save(path)
        loaded = Ticket.load(path)
        assert all((a == b).all() for a, b in zip(ticket.masks, loaded.masks))
        assert loaded.scales == ticket.scales and loaded.metadata == ticket.metadata
        x = _inputs(50, 4)
        assert (loaded.forward(x) == ticket.forward(x)).all()


def test_user_source_scales_and_too_small_source():
    torch = pytest.importorskip("torch")
    from torch import nn

    net = _torch_target([3, 4, 2], "ReLU")
    big = nn.Sequential(nn.Linear(3, 3 * 40 + 60), nn.ReLU(), nn.Linear(180, 4 * 15 + 30), nn.ReLU(), nn.Linear(90, 2))
    ticket = construct_ticket(net, source=big, rho=15)
    assert len(ticket.scales) == 3 and ticket.metadata["unit_scales"][0] == pytest.approx(np.sqrt(3), rel=0.2)
    assert ticket.verify(_inputs(500, 3)) < 0.5
    small = nn.Sequential(nn.Linear(3, 50), nn.ReLU(), nn.Linear(50, 90), nn.ReLU(), nn.Linear(90, 2))
    with pytest.raises(ValueError, match=r"source layer 0 is too small.*needs at least"):
        construct_ticket(net, source=small)
    with pytest.raises(ValueError, match="needs 3 linear layers"):
        construct_ticket(net, source=nn.Sequential(nn.Linear(3, 2)))


def test_strict_raises_and_failures_are_listed():
    rng = np.random.default_rng(0)
    target = [(rng.uniform(-1, 1, (6, 5)), rng.uniform(-1, 1, 6))]
    ticket = construct_ticket(target, eps=1e-4, rho=6, max_size=2)
    assert ticket.failed and all(len(f) == 3 for f in ticket.failed)
    assert "missing eps" in str(ticket.report(samples=10))
    with pytest.raises(ValueError, match="strict"):
        construct_ticket(target, eps=1e-4, rho=6, max_size=2, strict=True)


def test_bad_targets_and_arguments():
    torch = pytest.importorskip("torch")
    from torch import nn

    with pytest.raises(ValueError, match="unsupported activation"):
        construct_ticket(nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="unsupported activation"):
        construct_ticket(nn.Sequential(nn.Linear(2, 3), nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="input features"):
        construct_ticket([(np.ones((3, 2)), None), (np.ones((1, 4)), None)])
    with pytest.raises(ValueError, match="bias: expected shape"):
        construct_ticket([(np.ones((3, 2)), np.ones(2))])
    with pytest.raises(ValueError, match="activation"):
        parse_target([(np.ones((3, 2)), None)], activation="swish")
    with pytest.raises(ValueError, match="method"):
        construct_ticket([(np.ones((1, 2)), None)], method="3L")
    with pytest.raises(ValueError, match="eps"):
        construct_ticket([(np.ones((1, 2)), None)], eps=0)
    with pytest.raises(ValueError, match="rho"):
        construct_ticket([(np.ones((1, 2)), None)], rho=40)
    with pytest.raises(ValueError, match="looks-linear"):
        construct_ticket(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)), source="uniform")
    with pytest.raises(ValueError, match="NaN"):
        construct_ticket([(np.full((1, 2), np.nan), None)])
    with pytest.raises(ValueError, match="x: expected shape"):
        construct_ticket([(np.ones((1, 2)) * 0.5, None)]).verify(np.zeros((3, 3)))
