"""The torch code path of a device build (tickets/block_torch.py), run on torch's CPU device:
the same blocks and the same tickets as the numpy path, bit for bit. A GPU build runs this very
code with the tensors on the GPU (tests/gpu compares the two devices)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from subsetsum import _philox, construct_ticket, solve  # noqa: E402
from subsetsum.tickets import options as options_module  # noqa: E402
from subsetsum.tickets._kernels import compact  # noqa: E402
from subsetsum.tickets.block_torch import chosen_pairs, compact_tensor, solve_block_torch  # noqa: E402
from subsetsum.tickets.solve import BlockSettings, solve_block  # noqa: E402
from subsetsum.tickets.source import ERMasks, GeneratedSource, UserSource  # noqa: E402


def _assert_same(on_torch, on_numpy):
    for name, a, b in zip(["counts", "positions", "errors", "found", "weights"], on_torch, on_numpy):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


def _matrix(rng, n_groups, width, n_cols, *, pairs=False, padded=False):
    members = rng.choice(n_cols // 2, size=n_groups * width, replace=False).astype(np.int64) * 2
    mult = rng.choice([-1.0, 1.0], size=(n_groups, width)) * rng.uniform(0.5, 2.0, (n_groups, width))
    if padded:  # groups of unequal sizes share a block's width: the tail of some is padding
        for g in range(0, n_groups, 2):
            mult[g, rng.integers(1, width):] = 0.0
    pair_cols = np.repeat(rng.random(n_groups) < 0.5, width) if pairs else np.zeros(n_groups * width, bool)
    return members, pair_cols, mult, mult != 0


CASES = {
    # name: (inits, layer, n_groups, width, limit, er density, pairs, padded, fan, mode)
    "uniform": (["uniform", "uniform"], 1, 5, 12, 64, None, False, False, 1, "min_size"),
    "padded": (["uniform", "uniform"], 1, 6, 10, 64, None, False, True, 1, "min_size"),
    "wider than the limit": (["uniform", "uniform"], 1, 3, 40, 16, None, False, True, 1, "min_size"),
    "looks-linear first layer": (["looks_linear", "uniform"], 0, 4, 10, 64, None, False, False, 1, "min_size"),
    "looks-linear with fan": (["looks_linear", "looks_linear"], 1, 4, 10, 64, None, False, False, 9, "min_size"),
    "ER with pairs": (["looks_linear", "looks_linear"], 1, 5, 14, 64, 0.6, True, True, 1, "min_size"),
    "ER wider than the limit": (["uniform", "uniform"], 1, 3, 30, 12, 0.5, False, False, 1, "min_size"),
    "fixed size": (["uniform", "uniform"], 1, 5, 12, 64, None, False, False, 1, "fixed_size"),
    "fixed size ER": (["uniform", "uniform"], 1, 4, 8, 64, 0.4, False, False, 1, "fixed_size"),
}


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(CASES))
def test_torch_block_equals_numpy_block(case, device):
    inits, s, n_groups, width, limit, density, pairs, padded, fan, mode = CASES[case]
    rng = np.random.default_rng(len(case))
    src = GeneratedSource(11, inits, [True] + [False] * (len(inits) - 1), (1, fan))
    er = None if density is None else ERMasks(5, [density] * len(inits))
    matrix = _matrix(rng, n_groups, width, 4000, pairs=pairs, padded=padded)
    rows = np.sort(rng.choice(500, size=9, replace=False)).astype(np.int64)
    targets = rng.uniform(-1.5, 1.5, rows.size * n_groups)
    targets[rng.random(targets.size) < 0.2] = 0.0  # zero targets issue no problem
    block = BlockSettings(mode, 5 if mode == "min_size" else None, 3 if mode == "fixed_size" else None,
                          limit, 0.02, fan)
    args = (src, er, s, matrix, block)
    on_numpy = solve_block(*args, None, rows, targets)
    on_torch = solve_block_torch(*args, device, rows, targets)
    _assert_same(on_torch, on_numpy)
    assert on_numpy[1].size > 0 and on_numpy[3].any()  # the case chose something


def test_torch_block_of_a_user_source_equals_numpy_block():
    rng = np.random.default_rng(4)
    src = UserSource([(rng.uniform(-1, 1, (30, 8)).astype(np.float32), None),
                      (rng.uniform(-1, 1, (20, 30)).astype(np.float32), None)])
    members = rng.permutation(30)[:24].astype(np.int64)
    mult = rng.uniform(-1, 1, (2, 12))
    matrix = (members, np.zeros(24, bool), mult, mult != 0)
    rows = np.arange(20, dtype=np.int64)
    targets = rng.uniform(-1, 1, 40)
    block = BlockSettings("min_size", 4, None, 64, 0.05)
    _assert_same(solve_block_torch(src, None, 1, matrix, block, "cpu", rows, targets),
                 solve_block(src, None, 1, matrix, block, None, rows, targets))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 20), st.integers(1, 25), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_compact_tensor_equals_the_compiled_compact(n_probs, width, limit, p_ok, seed):
    rng = np.random.default_rng(seed)
    elements = rng.uniform(-1, 1, (n_probs, width))
    ok = rng.random((n_probs, width)) < p_ok
    want = compact(elements, ok, limit)
    got = compact_tensor(torch.from_numpy(elements), torch.from_numpy(ok), limit)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b)


@pytest.mark.parametrize("mode,n", [("best", 10), ("min_size", 64), ("fixed_size", 20)])
def test_chosen_pairs_equal_chosen_elements(mode, n):
    rng = np.random.default_rng(n)
    targets = rng.uniform(-2, 2, 300)
    bases = rng.uniform(-1, 1, (300, n))
    kwargs = {"best": {}, "min_size": {"max_size": 3}, "fixed_size": {"k": 3, "algorithm": "first_hit"}}[mode]
    on_host = solve(targets, bases, eps=0.05, mode=mode, **kwargs).chosen_elements()
    result = solve(torch.from_numpy(targets), torch.from_numpy(bases), eps=0.05, mode=mode, **kwargs)
    for on_torch in (chosen_pairs(result), chosen_pairs(result, n)):
        for a, b in zip(on_torch, on_host):
            np.testing.assert_array_equal(a.numpy(), b)
    assert on_host[0].size > 0


@pytest.mark.parametrize("device", DEVICES)
def test_tensor_draws_equal_numpy_draws_and_check_their_arguments(device):
    rows = torch.tensor([0, 5, 2**32 - 1], device=device)
    cols = torch.tensor([3, 2**34 - 1, 0, 7], device=device)
    drawn = _philox.uniform_tensor(9, 0, 3, rows, cols)
    assert drawn.device == rows.device
    np.testing.assert_array_equal(drawn.cpu().numpy(), _philox.uniform(9, 0, 3, rows.cpu().numpy(), cols.cpu().numpy()))
    big_rows = torch.arange(0, 2**32, 2**20, device=device)  # a gather of 4096 x 4 values and its pairs
    np.testing.assert_array_equal(_philox.uniform_tensor(9, 0, 3, big_rows, cols).cpu().numpy(),
                                  _philox.uniform(9, 0, 3, big_rows.cpu().numpy(), cols.cpu().numpy()))
    for p in (0.0, 0.3, 1.0):
        np.testing.assert_array_equal(
            _philox.bernoulli_tensor(9, 1, 3, rows, cols[:3], p, outer=False).cpu().numpy(),
            _philox.bernoulli(9, 1, 3, rows.cpu().numpy(), cols[:3].cpu().numpy(), p, outer=False))
    with pytest.raises(ValueError, match="rows"):
        _philox.uniform_tensor(9, 0, 3, torch.tensor([2**32], device=device), cols)
    with pytest.raises(ValueError, match="outer=False"):
        _philox.uniform_tensor(9, 0, 3, rows, cols, outer=False)


@pytest.fixture
def torch_cpu_builds(monkeypatch):
    """``device="cpu"`` normally means the numpy path; here it runs the device path's torch code
    on the host, as a GPU build would on its device. Yields the blocks that path solved."""
    from subsetsum.tickets import block_torch

    monkeypatch.setattr(options_module, "_check_device", lambda device: None if device is None else str(device))
    calls = []

    def counted(*args):
        calls.append(args[5])
        return solve_block_torch(*args)

    monkeypatch.setattr(block_torch, "solve_block_torch", counted)
    return calls


def _mlp(widths, seed=0):
    from torch import nn

    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _conv():
    from torch import nn

    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 2)), (2, 5, 5)


TICKETS = {
    "L+1": dict(method="L+1"),
    "2L": dict(method="2L"),
    "L+1 ER": dict(method="L+1", density=0.5),
    "2L fixed size": dict(method="2L", subset_size=3),
    "L+1 fixed size ER": dict(method="L+1", subset_size=3, density=0.6),
}


def _same_ticket(a, b):
    assert a.shapes == b.shapes
    for (ra, ca), (rb, cb) in zip(a.edges, b.edges):
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ca, cb)
    for x, y in zip(a.bias_rows, b.bias_rows):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y)
    for x, y in zip(a.errors, b.errors):
        np.testing.assert_array_equal(x, y)
    assert a.failed == b.failed == []


@pytest.mark.parametrize("name", list(TICKETS))
def test_ticket_built_by_the_torch_path_is_the_numpy_ticket(torch_cpu_builds, name):
    net = _mlp([5, 7, 3], seed=len(name))
    kwargs = dict(TICKETS[name], eps=0.02, seed=4)
    _same_ticket(construct_ticket(net, device="cpu", **kwargs), construct_ticket(net, **kwargs))
    assert torch_cpu_builds and set(torch_cpu_builds) == {"cpu"}


def test_conv_ticket_built_by_the_torch_path_is_the_numpy_ticket(torch_cpu_builds):
    net, shape = _conv()
    kwargs = dict(method="L+1", eps=0.05, seed=2, input_shape=shape)
    _same_ticket(construct_ticket(net, device="cpu", **kwargs), construct_ticket(net, **kwargs))
    assert torch_cpu_builds
    assert torch_cpu_builds and set(torch_cpu_builds) == {"cpu"}


def test_residual_ticket_built_by_the_torch_path_is_the_numpy_ticket(torch_cpu_builds):
    from test_ticket_residual import ACT, make_target

    net, shape = make_target("projection", list(ACT)[0])
    kwargs = dict(method="2L", eps=0.05, seed=1, input_shape=shape)
    _same_ticket(construct_ticket(net, device="cpu", **kwargs), construct_ticket(net, **kwargs))
    assert torch_cpu_builds


@pytest.mark.parametrize("how", [{}, {"compact": True}, {"sparse": True}, {"baked": True}], ids=str)
def test_modules_of_a_torch_path_ticket_are_those_of_the_numpy_ticket(torch_cpu_builds, how):
    net = _mlp([4, 6, 2], seed=3)
    on_torch = construct_ticket(net, device="cpu", seed=1)
    assert on_torch.device == "cpu"
    a, b = on_torch.to_module(**how).state_dict(), construct_ticket(net, seed=1).to_module(**how).state_dict()
    assert a.keys() == b.keys()
    for name in a:
        x, y = (t.to_dense() if t.is_sparse else t for t in (a[name], b[name]))
        assert torch.equal(x, y), name


def test_user_source_device_copies_are_made_once_and_not_pickled():
    import pickle

    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    src = UserSource([(w, None)])
    rows, cols = torch.tensor([3, 1]), torch.tensor([2, 0])
    np.testing.assert_array_equal(src.weights_tensor(0, rows, cols).numpy(), src.weights(0, [3, 1], [2, 0]))
    np.testing.assert_array_equal(src.weights_tensor(0, rows, cols, outer=False).numpy(), [11.0, 3.0])
    assert src._layer_on(0, rows.device) is src._layer_on(0, rows.device)  # one copy per device
    back = pickle.loads(pickle.dumps(src))
    assert "_copies" not in back.__dict__
    np.testing.assert_array_equal(back.layers[0][0], w)
