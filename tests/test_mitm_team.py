"""The GPU's block-per-problem meet in the middle (csrc/include/subsetsum/mitm_team.hpp), its
threads run one after another on the host: for every team size the same answers, bit for bit,
as the one-thread search, including massive ties, masks and rounding sums."""

import numpy as np
import pytest

import subsetsum
from subsetsum import _core
from _brute import assert_results_equal, random_problems


class _TeamResult:
    """The fields assert_results_equal reads."""

    def __init__(self, subsets, sums, errors, sizes, found, status):
        self.subsets, self.sums, self.errors, self.sizes, self.found = subsets, sums, errors, sizes, found
        self.status = status
        self.indices = None


def solve_by_team(targets, bases, mask, threads, eps=1e-3):
    batch = bases.shape[0]
    out = dict(out_subsets=np.zeros(batch, np.uint64), out_sums=np.zeros(batch), out_errors=np.zeros(batch),
               out_sizes=np.zeros(batch, np.int32), out_found=np.zeros(batch, bool),
               out_status=np.zeros(batch, np.uint8))
    _core.solve_best_team_into(targets, np.ascontiguousarray(bases), mask, threads, eps, **out)
    return _TeamResult(*(out[k] for k in ("out_subsets", "out_sums", "out_errors", "out_sizes", "out_found",
                                           "out_status")))


def _check(targets, bases, mask, threads, context=""):
    want = subsetsum.solve(targets, bases, mask=mask, eps=1e-3, mode="best", backend="cpu",
                           algorithm="meet_in_the_middle")
    got = solve_by_team(targets, bases, mask, threads)
    for name in ("subsets", "sums", "errors", "sizes", "found"):
        np.testing.assert_array_equal(getattr(got, name), np.asarray(getattr(want, name)),
                                      err_msg=f"{name} {context} threads={threads}")
    np.testing.assert_array_equal(got.status, 0, err_msg=context)


@pytest.mark.parametrize("threads", [1, 3, 32, 256])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, batch, masked", [(1, 50, False), (5, 200, True), (13, 200, False),
                                              (20, 60, True), (24, 12, False)])
def test_team_equals_one_thread_on_random_problems(threads, dtype, n, batch, masked):
    rng = np.random.default_rng([n, threads, np.dtype(dtype).itemsize])
    targets, bases, mask = random_problems(rng, batch, n, dtype, masked=masked)
    _check(targets, bases, mask, threads, f"n={n}")


@pytest.mark.parametrize("threads", [5, 256])
def test_team_beyond_32_elements(threads):
    """n = 36: the 64-element capacity (lists of 2^18 entries), masked rows included."""
    rng = np.random.default_rng([36, threads])
    targets, bases, mask = random_problems(rng, 6, 36, np.float64, masked=True, mask_density=0.95)
    _check(targets, bases, mask, threads, "n=36")


@pytest.mark.parametrize("threads", [1, 7, 64, 256])
@pytest.mark.parametrize("n", [13, 16, 19])
def test_team_resolves_ties_as_one_thread(threads, n):
    """Small integers and halves: most subset sums repeat and errors tie on both sides of the
    target, so the tie-resolving sweep runs on nearly every problem."""
    rng = np.random.default_rng([n, 7])
    bases = (rng.integers(-4, 5, size=(200, n)) / 2).astype(np.float32)
    targets = (rng.integers(-12, 13, size=200) / 4).astype(np.float32)
    _check(targets, bases, None, threads, f"n={n}")


@pytest.mark.parametrize("threads", [2, 128])
def test_team_with_rounding_sums_and_equal_errors(threads):
    """float64 elements of mixed magnitudes (sums that round: the near-pairs pass), and rows
    whose subsets all tie (the empty subset, settled by thread 0 alone)."""
    rng = np.random.default_rng(5)
    bases = rng.uniform(-1, 1, (100, 18)) * 10.0 ** rng.integers(-12, 3, (100, 18))
    targets = rng.uniform(-3, 3, 100)
    bases[:5] = 0.0
    _check(targets, bases, None, threads)


def test_team_checks_its_thread_count():
    targets, bases = np.zeros(1), np.zeros((1, 4))
    for bad in (0, 257):
        with pytest.raises(ValueError, match="threads"):
            solve_by_team(targets, bases, None, bad)


def test_gpu_team_setting_is_checked_without_a_device():
    """The switch between the one-thread and the block kernel (compiled here, run on a GPU)."""
    if not subsetsum.compile_options()["cuda_module"]:
        pytest.skip("the CUDA module was not built")
    from subsetsum import _cuda

    default = _cuda.best_team_threads()
    try:
        for threads in (-1, 0, 32, 256):
            _cuda.set_best_team_threads(threads)
            assert _cuda.best_team_threads() == threads
        for bad in (-2, -32, 33, 288):
            with pytest.raises(ValueError, match="threads"):
                _cuda.set_best_team_threads(bad)
    finally:
        _cuda.set_best_team_threads(default)
