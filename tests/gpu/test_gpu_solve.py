"""CUDA backend against the CPU backend: identical subsets on large random batches.

Marked `gpu`: skipped, visibly, where the CUDA module or a device is missing (tests/conftest.py).
"""

import numpy as np
import pytest

import subsetsum
from subsetsum import _gpu

pytestmark = pytest.mark.gpu

torch = pytest.importorskip("torch")

CASES = [
    # (mode, n, kwargs, batch)
    ("min_size", 15, {"max_size": 10}, 1_000_000),
    ("min_size", 40, {"max_size": 6}, 200_000),
    ("best", 10, {}, 1_000_000),
    ("best", 20, {}, 200_000),
    ("fixed_size", 20, {"k": 5}, 200_000),
    ("fixed_size", 64, {"k": 8}, 1_000_000),
    ("fixed_size", 100, {"k": 6}, 100_000),
]


def _instances(batch, n, dtype, seed, masked):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(batch, n)).astype(dtype)
    t = rng.uniform(-1, 1, size=batch).astype(dtype)
    m = rng.random((batch, n)) < 0.7 if masked else None
    return t, x, m


def _assert_same(cpu, gpu):
    np.testing.assert_array_equal(_gpu.numpy_of(gpu.found), cpu.found)
    np.testing.assert_array_equal(_gpu.numpy_of(gpu.exhausted), cpu.exhausted)
    np.testing.assert_array_equal(_gpu.numpy_of(gpu.sizes), cpu.sizes)
    if cpu.subsets is not None:
        np.testing.assert_array_equal(_gpu.numpy_of(gpu.subsets), cpu.subsets)
    else:
        np.testing.assert_array_equal(_gpu.numpy_of(gpu.indices), cpu.indices)
    np.testing.assert_array_equal(_gpu.numpy_of(gpu.errors), cpu.errors)
    assert gpu.algorithm == cpu.algorithm


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode,n,kwargs,batch", CASES)
def test_torch_cuda_matches_cpu(mode, n, kwargs, batch, dtype, masked):
    t, x, m = _instances(batch, n, dtype, seed=n * 7 + batch % 97, masked=masked)
    cpu = subsetsum.solve(t, x, eps=0.01, mode=mode, mask=m, **kwargs)
    dev = torch.device("cuda")
    gpu = subsetsum.solve(
        torch.from_numpy(t).to(dev), torch.from_numpy(x).to(dev), eps=0.01, mode=mode,
        mask=None if m is None else torch.from_numpy(m).to(dev), **kwargs,
    )
    assert gpu.sums.device.type == "cuda"
    _assert_same(cpu, gpu)


@pytest.mark.parametrize("first_pass_sizes", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,eps,max_size", [(15, 0.01, 10), (15, 1e-4, 4), (30, 0.01, 10), (40, 0.01, 3),
                                            (3, 0.01, 3), (64, 0.01, 6)])
def test_min_size_kernels_match_cpu(n, eps, max_size, dtype, first_pass_sizes):
    """Every min_size launch (one pass; two passes with sizes up to 1, 2, 3 first) gives the CPU
    backend's answers: problems settled by the first pass and those left to the second
    (tight eps, small max_size, n where size 3 is not exhaustive); ties from quarter-step values;
    targets within eps of 0 (the empty subset); float64 rows too large for pass 1's check."""
    from subsetsum import _cuda

    t, x, m = _instances(120_000, n, dtype, seed=n + max_size, masked=True)
    x[:20_000] = np.round(x[:20_000] * 4) / 4  # many equal sums
    t[20_000:21_000] *= eps / 2  # the empty subset is within eps
    if dtype == np.float64:  # sum |x| between half the solver's limit (2^1021) and the limit
        rows = slice(21_000, 21_100)
        x[rows] *= 1.5 * 2.0 ** 1020 / np.maximum(np.abs(np.where(m[rows], x[rows], 0)).sum(axis=1, keepdims=True), 1.0)
    cpu = subsetsum.solve(t, x, eps=eps, mode="min_size", max_size=max_size, mask=m)
    dev = torch.device("cuda")
    default = _cuda.min_size_first_pass_sizes()
    _cuda.set_min_size_first_pass_sizes(first_pass_sizes)
    try:
        gpu = subsetsum.solve(torch.from_numpy(t).to(dev), torch.from_numpy(x).to(dev), eps=eps,
                              mode="min_size", max_size=max_size, mask=torch.from_numpy(m).to(dev))
    finally:
        _cuda.set_min_size_first_pass_sizes(default)
    _assert_same(cpu, gpu)


@pytest.mark.parametrize("threads", [0, 32, 128, 256])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,batch", [(5, 50_000), (13, 50_000), (20, 20_000), (24, 5_000), (30, 300)])
def test_best_team_kernel_matches_cpu(n, batch, dtype, threads):
    """best by meet in the middle, one problem per thread (0) or per block of threads
    (mitm_team.hpp): the CPU backend's answers, ties (quarter-step values) and masks included."""
    from subsetsum import _cuda

    t, x, m = _instances(batch, n, dtype, seed=n + threads, masked=True)
    x[: batch // 5] = np.round(x[: batch // 5] * 4) / 4  # many equal sums
    t[: batch // 10] = np.round(t[: batch // 10] * 8) / 8
    cpu = subsetsum.solve(t, x, eps=0.01, mode="best", mask=m, algorithm="meet_in_the_middle")
    dev = torch.device("cuda")
    default = _cuda.best_team_threads()
    _cuda.set_best_team_threads(threads)
    try:
        gpu = subsetsum.solve(torch.from_numpy(t).to(dev), torch.from_numpy(x).to(dev), eps=0.01, mode="best",
                              mask=torch.from_numpy(m).to(dev), algorithm="meet_in_the_middle")
    finally:
        _cuda.set_best_team_threads(default)
    _assert_same(cpu, gpu)


def test_every_algorithm_matches_cpu():
    t, x, m = _instances(20_000, 14, np.float32, seed=3, masked=True)
    dev = torch.device("cuda")
    tt, xx, mm = (torch.from_numpy(a).to(dev) for a in (t, x, m))
    for mode, kwargs in [("best", {}), ("min_size", {"max_size": 5}), ("fixed_size", {"k": 4})]:
        for alg in subsetsum._core.algorithms_for_mode(mode):
            cpu = subsetsum.solve(t, x, eps=0.01, mode=mode, mask=m, algorithm=alg, **kwargs)
            gpu = subsetsum.solve(tt, xx, eps=0.01, mode=mode, mask=mm, algorithm=alg, **kwargs)
            _assert_same(cpu, gpu)


def test_cupy_inputs_and_results_stay_on_device():
    cp = pytest.importorskip("cupy")
    t, x, m = _instances(50_000, 15, np.float32, seed=5, masked=True)
    cpu = subsetsum.solve(t, x, eps=0.01, mode="min_size", max_size=10, mask=m)
    gpu = subsetsum.solve(cp.asarray(t), cp.asarray(x), eps=0.01, mode="min_size", max_size=10,
                          mask=cp.asarray(m))
    assert isinstance(gpu.subsets, cp.ndarray)
    _assert_same(cpu, gpu)


def test_non_default_stream():
    t, x, _ = _instances(100_000, 15, np.float32, seed=9, masked=False)
    cpu = subsetsum.solve(t, x, eps=0.01, mode="min_size", max_size=10)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        tt = torch.from_numpy(t).cuda()
        xx = torch.from_numpy(x).cuda()
        gpu = subsetsum.solve(tt, xx, eps=0.01, mode="min_size", max_size=10)
    stream.synchronize()
    _assert_same(cpu, gpu)


def test_host_arrays_with_cuda_backend():
    t, x, m = _instances(100_000, 64, np.float32, seed=11, masked=True)
    cpu = subsetsum.solve(t, x, eps=0.01, mode="fixed_size", k=8, mask=m)
    gpu = subsetsum.solve(t, x, eps=0.01, mode="fixed_size", k=8, mask=m, backend="cuda")
    assert isinstance(gpu.subsets, np.ndarray)
    _assert_same(cpu, gpu)


def test_chunked_batches(monkeypatch):
    t, x, _ = _instances(100_003, 15, np.float64, seed=13, masked=False)
    monkeypatch.setattr(_gpu, "DEVICE_SLICE", 4099)
    cpu = subsetsum.solve(t, x, eps=0.01, mode="min_size", max_size=10)
    calls = []
    gpu = subsetsum.solve(torch.from_numpy(t).cuda(), torch.from_numpy(x).cuda(), eps=0.01,
                          mode="min_size", max_size=10, progress=lambda d, tot: calls.append(d))
    assert calls[-1] == len(t) and len(calls) == -(-len(t) // 4099)
    _assert_same(cpu, gpu)


def test_bad_device_inputs():
    x = torch.rand(10, 5, device="cuda")
    with pytest.raises(TypeError, match="targets and bases"):
        subsetsum.solve(torch.rand(10), x, eps=0.1, mode="best")
    with pytest.raises(ValueError, match="bases"):
        bad = x.clone()
        bad[0, 0] = float("nan")
        subsetsum.solve(torch.rand(10, device="cuda"), bad, eps=0.1, mode="best")
    with pytest.raises(ValueError, match="mask"):
        subsetsum.solve(torch.rand(10, device="cuda"), x, eps=0.1, mode="best",
                        mask=torch.ones(10, 4, dtype=torch.bool, device="cuda"))
    with pytest.raises(ValueError, match="backend"):
        subsetsum.solve(torch.rand(10, device="cuda"), x, eps=0.1, mode="best", backend="cpu")
    empty = subsetsum.solve(torch.rand(0, device="cuda"), torch.rand(0, 5, device="cuda"),
                            eps=0.1, mode="best")
    assert len(empty) == 0


def test_float64_spread_values_and_work_bound_match_cpu():
    # Sums that round (index-order sums decide), and problems the work bound stops: the same
    # subsets and the same exhausted flags as on the CPU.
    rng = np.random.default_rng(17)
    x = rng.uniform(-1, 1, (4000, 24)) * 10.0 ** rng.integers(-8, 9, (4000, 24))
    t = rng.uniform(-1, 1, 4000) * 10.0 ** rng.integers(-8, 9, 4000)
    ints = rng.integers(-5, 6, (200, 40)).astype(np.float64)
    dev = torch.device("cuda")
    for targets, bases, kwargs in [
        (t, x, dict(mode="best")),
        (t, x, dict(mode="min_size", max_size=8)),
        (t, x, dict(mode="fixed_size", k=6)),
        (np.full(200, 0.5), ints, dict(mode="min_size", work_limit=20_000)),
        (np.full(200, 0.5), ints, dict(mode="fixed_size", k=12, work_limit=20_000)),
    ]:
        cpu = subsetsum.solve(targets, bases, eps=1e-6, **kwargs)
        gpu = subsetsum.solve(torch.from_numpy(targets).to(dev), torch.from_numpy(bases).to(dev),
                              eps=1e-6, **kwargs)
        _assert_same(cpu, gpu)


def test_overflowing_sums_and_read_only_host_arrays():
    with pytest.raises(ValueError, match="bases: problem 1"):
        subsetsum.solve(torch.zeros(2, device="cuda", dtype=torch.float64),
                        torch.tensor([[0.5, 0.5], [1e308, 1e308]], device="cuda",
                                     dtype=torch.float64), eps=0.1,
                        mode="best")
    x = np.frombuffer(np.full(6, 0.25).tobytes()).reshape(2, 3)
    t = np.frombuffer(np.array([0.5, 0.75]).tobytes())
    gpu = subsetsum.solve(t, x, eps=1e-9, mode="best", backend="cuda")
    assert gpu.found.tolist() == [True, True]
