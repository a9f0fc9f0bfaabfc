"""solve() on the compiled CPU core against the brute force and the numba reference, every mode
and every algorithm that solves it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import subsetsum
from _brute import as_numpy, assert_results_equal, brute_solve, random_problems

MODES = ("best", "min_size", "fixed_size")
DTYPES = (np.float32, np.float64)

# Which algorithm solves which modes, and up to how many elements per problem.
ALGORITHM_TABLE = {
    "gray_code": (("best", "min_size", "fixed_size"), 30),
    "meet_in_the_middle": (("best",), 44),
    "increasing_size": (("min_size",), 64),
    "exact_combinations": (("fixed_size",), 256),
    "first_hit": (("fixed_size",), 256),
}

EXACT_ALGORITHMS = {
    mode: [name for name, (modes, _) in ALGORITHM_TABLE.items() if mode in modes
           and name != "first_hit"]
    for mode in MODES
}


def size_options(rng, mode: str, n: int) -> dict:
    """A random max_size (min_size) or k (fixed_size) for an n-element batch."""
    if mode == "min_size":
        return {"max_size": int(rng.integers(0, n + 1))}
    if mode == "fixed_size":
        return {"k": int(rng.integers(0, n + 1))}
    return {}


def mode_id(mode: str, dtype, masked: bool) -> list:
    """A seed for numpy.random.default_rng distinct for each parameter combination."""
    return [MODES.index(mode), np.dtype(dtype).itemsize, int(masked)]


def test_algorithm_table_matches_the_build():
    assert sorted(subsetsum.algorithm_names()) == sorted(ALGORITHM_TABLE)
    assert subsetsum.compile_options()["max_elements"] == {
        name: limit for name, (_, limit) in ALGORITHM_TABLE.items()
    }
    for name, (modes, limit) in ALGORITHM_TABLE.items():
        for mode in MODES:
            options = {"k": 1} if mode == "fixed_size" else {}
            args = ([0.5], [[0.25, 0.25]])
            if mode in modes:
                assert subsetsum.solve(*args, eps=0.1, mode=mode, algorithm=name,
                                       **options).algorithm == name
            else:
                with pytest.raises(ValueError, match="algorithm"):
                    subsetsum.solve(*args, eps=0.1, mode=mode, algorithm=name, **options)


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_cpu_matches_brute_force(mode, dtype, masked, cpu_search):
    rng = np.random.default_rng(mode_id(mode, dtype, masked))
    for n in range(1, 12):
        targets, bases, mask = random_problems(rng, 50, n, dtype, masked=masked)
        eps = float(rng.choice([1e-9, 0.01, 0.1, 0.25]))
        options = size_options(rng, mode, n)
        result = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode=mode, backend="cpu",
                                 **options)
        expected = brute_solve(targets, bases, mask, eps=eps, mode=mode, **options)
        assert_results_equal(result, expected, exact=True,
                             problems=(targets, bases, mask),
                             context=f"mode={mode} n={n} eps={eps} {options}")


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "mode, algorithm",
    [(mode, name) for mode in MODES for name in ["auto"] + EXACT_ALGORITHMS[mode]],
)
def test_cpu_algorithms_match_reference(mode, algorithm, dtype, masked):
    rng = np.random.default_rng(mode_id(mode, dtype, masked) + [len(algorithm)])
    for n in (1, 2, 5, 8, 12, 13, 14, 15, 16):
        targets, bases, mask = random_problems(rng, 150, n, dtype, masked=masked)
        eps = float(rng.choice([1e-9, 0.01, 0.1]))
        options = size_options(rng, mode, n)
        result = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode=mode, backend="cpu",
                                 algorithm=algorithm, **options)
        if algorithm != "auto":
            assert result.algorithm == algorithm
        expected = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode=mode,
                                   backend="numba", **options)
        assert_results_equal(result, expected, exact=True,
                             problems=(targets, bases, mask),
                             context=f"mode={mode} algorithm={algorithm} n={n} eps={eps} {options}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, batch", [(17, 300), (20, 300), (22, 120), (24, 40)])
def test_meet_in_the_middle_matches_gray_code(n, batch, dtype):
    rng = np.random.default_rng([n, np.dtype(dtype).itemsize])
    # Masks shrink the effective n, so the largest n runs unmasked.
    targets, bases, mask = random_problems(rng, batch, n, dtype, masked=n in (17, 22))
    results = {
        name: subsetsum.solve(targets, bases, mask=mask, eps=1e-3, mode="best", backend="cpu",
                              algorithm=name)
        for name in ("meet_in_the_middle", "gray_code")
    }
    assert {name: r.algorithm for name, r in results.items()} == {
        name: name for name in results
    }
    assert_results_equal(results["meet_in_the_middle"], results["gray_code"],
                         exact=True, problems=(targets, bases, mask),
                         context=f"n={n}")


# Bases whose subset sums repeat massively: every tie must still be resolved by the contract,
# and meet in the middle must stay linear in the list length (a per-tie rescan once took a minute
# on the first of these).
MANY_EQUAL_SUMS = [
    ([0.0] * 10 + [0.25] * 10, 0.3),
    ([0.5, -0.5] * 10, 0.3),
    ([0.5, -0.5] * 10, 0.5),
    ([1.0] * 20, 7.5),
    ([2.0**-20] * 20, 1.0e6),
    ([0.0] * 20, -1.0),
]


@pytest.mark.parametrize("bases, target", MANY_EQUAL_SUMS)
def test_meet_in_the_middle_resolves_many_equal_sums(bases, target):
    bases = np.array([bases], dtype=np.float32)
    targets = np.array([target], dtype=np.float32)
    results = [subsetsum.solve(targets, bases, eps=1e-3, mode="best", algorithm=name)
               for name in ("meet_in_the_middle", "gray_code")]
    assert_results_equal(results[0], results[1], exact=True, problems=(targets, bases, None))


@pytest.mark.parametrize("n", [13, 16, 19])
def test_meet_in_the_middle_resolves_random_ties(n):
    # Small integers (and halves) make most subset sums repeat and errors tie on both sides of
    # the target, so the tie-resolving sweep runs on nearly every problem.
    rng = np.random.default_rng([n, 7])
    bases = (rng.integers(-4, 5, size=(300, n)) / 2).astype(np.float32)
    targets = (rng.integers(-12, 13, size=300) / 4).astype(np.float32)
    results = [subsetsum.solve(targets, bases, eps=1e-3, mode="best", algorithm=name)
               for name in ("meet_in_the_middle", "gray_code")]
    assert_results_equal(results[0], results[1], exact=True, problems=(targets, bases, None))


@pytest.mark.parametrize("dtype", DTYPES)
def test_min_size_larger_n_matches_reference(dtype, cpu_search):
    # increasing_size beyond gray_code's reach of the tests above, with a small max_size.
    rng = np.random.default_rng([40, np.dtype(dtype).itemsize])
    for n, max_size in [(20, 4), (32, 3), (48, 2), (64, 3)]:
        targets, bases, mask = random_problems(rng, 100, n, dtype, masked=n % 32 == 0)
        targets = targets * dtype(0.5)
        kwargs = dict(mask=mask, eps=0.002, mode="min_size", max_size=max_size)
        result = subsetsum.solve(targets, bases, backend="cpu", **kwargs)
        expected = subsetsum.solve(targets, bases, backend="numba", **kwargs)
        assert_results_equal(result, expected, exact=True,
                             problems=(targets, bases, mask), context=f"n={n}")


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, k", [(65, 0), (65, 1), (66, 65), (80, 2), (128, 3), (256, 1),
                                  (256, 2), (256, 3)])
def test_fixed_size_wide_matches_reference(n, k, dtype, masked):
    rng = np.random.default_rng([n, k, np.dtype(dtype).itemsize, int(masked)])
    batch = 20 if math.comb(n, k) > 10**5 else 60
    # Sparse masks make some problems infeasible (fewer than k present elements).
    targets, bases, mask = random_problems(rng, batch, n, dtype, masked=masked,
                                           mask_density=0.99 if k > 3 else 0.5)
    result = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode="fixed_size", k=k,
                             backend="cpu", algorithm="exact_combinations")
    assert result.subsets is None
    assert as_numpy(result.indices).shape == (batch, k)
    expected = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode="fixed_size", k=k,
                               backend="numba")
    np.testing.assert_array_equal(as_numpy(result.indices) >= 0,
                                  as_numpy(expected.indices) >= 0)
    assert_results_equal(result, expected, exact=True,
                         problems=(targets, bases, mask), context=f"n={n} k={k}")


def check_first_hit(result, targets, bases, mask, *, eps, k, expected):
    """first_hit: same found flags as the exact reference; every hit a valid k-subset."""
    found = as_numpy(result.found)
    np.testing.assert_array_equal(found, as_numpy(expected.found))
    n = bases.shape[1]
    chosen = result.to_mask(n)
    errors = as_numpy(result.errors)
    for b in np.flatnonzero(found):
        assert errors[b] <= eps
        assert chosen[b].sum() == k
        if mask is not None:
            assert not (chosen[b] & ~mask[b]).any(), f"problem {b} chose a masked element"
        if result.indices is not None:
            row = as_numpy(result.indices)[b]
            assert len(set(row.tolist())) == k and (np.diff(row) > 0).all()
        total = 0.0
        for i in np.flatnonzero(chosen[b]):
            total += float(bases[b, i])
        assert as_numpy(result.sums)[b] == total
        assert errors[b] == abs(float(targets[b]) - total)
        assert as_numpy(result.sizes)[b] == k


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, k", [(6, 3), (12, 1), (16, 5), (16, 16), (40, 3), (64, 2),
                                  (70, 2), (120, 3), (256, 2)])
def test_first_hit_found_flags_match_reference(n, k, dtype, masked):
    rng = np.random.default_rng([n, k, np.dtype(dtype).itemsize, int(masked), 1])
    batch = 40 if math.comb(n, k) > 10**5 else 150
    targets, bases, mask = random_problems(rng, batch, n, dtype, masked=masked,
                                           mask_density=0.6)
    for eps in (1e-3, 0.05):
        result = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode="fixed_size", k=k,
                                 backend="cpu", algorithm="first_hit")
        assert result.algorithm == "first_hit"
        expected = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode="fixed_size", k=k,
                                   backend="numba")
        check_first_hit(result, targets, bases, mask, eps=eps, k=k, expected=expected)


def test_large_fixed_size_auto_gives_valid_hits():
    rng = np.random.default_rng(11)
    n, k = 200, 10
    targets, bases, mask = random_problems(rng, 30, n, np.float32, masked=True)
    result = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode="fixed_size", k=k)
    assert result.algorithm in ALGORITHM_TABLE
    found = as_numpy(result.found)
    chosen = result.to_mask(n)
    assert (chosen[found].sum(axis=1) == k).all()
    assert not (chosen & ~mask).any()
    assert (as_numpy(result.errors)[found] <= 0.01).all()


def exact_algorithms_with_wide(mode: str) -> list:
    """(algorithm, n) pairs: every exact algorithm of the mode, plus n > 64 for fixed_size."""
    pairs = [(name, 4) for name in ["auto"] + EXACT_ALGORITHMS[mode]]
    if mode == "fixed_size":
        pairs.append(("exact_combinations", 70))
    return pairs


# Errors that round to the same float64: a tiny element changes the sum but not |z - s|, so the
# contract's tie rules decide (fewer elements, then the smaller bit pattern), not the exact sums.
ROUNDED_TIES = [
    ("best", {}, {0: 0.0, 1: 1e-20}, 1.0),
    ("best", {}, {0: 1e-20, 1: 0.0}, -1.0),
    ("best", {}, {0: 0.5, 1: -1e-20}, 0.25),
    ("min_size", {}, {0: 0.0, 1: 1e-20}, 1.0),
    ("min_size", {"max_size": 1}, {0: 0.5, 1: 0.5 + 2.0**-23, 2: 1e-20}, 2.0),
    ("fixed_size", {"k": 1}, {0: 0.0, 1: 1e-20}, 1.0),
    ("fixed_size", {"k": 1}, {0: 1e-20, 1: 0.0}, 1.0),
    ("fixed_size", {"k": 2}, {0: 0.5, 1: 0.0, 2: -1e-20, 3: 0.5}, 4.0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "mode, options, elements, target, algorithm, n",
    [case + pair for case in ROUNDED_TIES for pair in exact_algorithms_with_wide(case[0])],
    ids=[f"{case[0]}{number}-{name}-n{n}" for number, case in enumerate(ROUNDED_TIES)
         for name, n in exact_algorithms_with_wide(case[0])],
)
def test_rounded_error_ties_follow_the_contract(mode, options, elements, target, algorithm, n,
                                                dtype, cpu_search):
    # Elements sit at the given indices (spread over the row when n > 64); the rest are masked.
    positions = {i: i * (n - 1) // 3 for i in elements} if n > 64 else {i: i for i in elements}
    bases = np.zeros((1, n), dtype=dtype)
    mask = np.zeros((1, n), dtype=bool)
    for i, value in elements.items():
        bases[0, positions[i]] = value
        mask[0, positions[i]] = True
    targets = np.array([target], dtype=dtype)
    result = subsetsum.solve(targets, bases, mask=mask, eps=1e-3, mode=mode, backend="cpu",
                             algorithm=algorithm, **options)
    expected = brute_solve(targets, bases, mask, eps=1e-3, mode=mode, **options)
    reference = subsetsum.solve(targets, bases, mask=mask, eps=1e-3, mode=mode, backend="numba",
                                **options)
    assert_results_equal(reference, expected, exact=True, context="reference")
    assert_results_equal(result, expected, exact=True, problems=(targets, bases, mask),
                         context=f"mode={mode} algorithm={algorithm} {options}")


@pytest.mark.parametrize("n", [3, 8, 9, 16, 17, 33, 57, 64])
def test_min_size_triples_with_many_ties_match_the_reference(n, cpu_search):
    """Size 3 of min_size with many equal sums: values on a quarter grid, targets between its
    points (no subset meets them, so every problem ends with the best subset of up to three),
    and on it; the first triple in index order among equal errors, as the reference picks it."""
    rng = np.random.default_rng([3, n])
    bases = rng.integers(-4, 5, (600, n)) / 4
    targets = np.concatenate([rng.integers(-12, 13, 300) / 4 + 0.1, rng.integers(-12, 13, 300) / 4])
    _assert_min_size_matches_the_reference(targets, bases, rng.random((600, n)) < 0.85, max_size=3)


@pytest.mark.parametrize("n", [2, 8, 9, 16, 17, 36, 57, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_min_size_pairs_with_many_ties_match_the_reference(n, dtype, cpu_search):
    """Size 2 of min_size with many equal sums (values on a quarter grid, targets on and off it):
    the first pair in index order among equal errors, as the reference picks it, whether the CPU
    tries every pair (in vectors of either width) or searches the sorted elements."""
    rng = np.random.default_rng(n)
    bases = (rng.integers(-4, 5, (3000, n)) / 4).astype(dtype)
    targets = np.concatenate([rng.integers(-8, 9, 1500) / 4, rng.uniform(-2, 2, 1500)]).astype(dtype)
    _assert_min_size_matches_the_reference(targets, bases, rng.random((3000, n)) < 0.8, max_size=2)


@pytest.mark.parametrize("size, n", [(2, 48), (2, 64), (3, 32), (3, 47), (3, 64)])
def test_min_size_near_ties_within_rounding_match_the_reference(size, n, cpu_search):
    """Subsets whose errors differ by a few units in the last place, elements of mixed magnitude:
    from 48 elements (pairs) and 32 (triples) the vector search ranks subsets by errors rounded
    otherwise and searches again exactly only near the smallest; it must still return the
    reference's subset and error, bit for bit."""
    rng = np.random.default_rng([size, n])
    count = 400
    bases = rng.uniform(-1, 1, (count, n)) * np.where(rng.random((count, n)) < 0.2, 1e3, 1.0)
    targets = np.empty(count)
    for row, elements in enumerate(bases):
        goal = rng.uniform(-2, 2) * (1e3 if row % 2 else 1.0)
        for _ in range(4):  # four subsets summing to `goal` within a few units in the last place
            chosen = rng.choice(n, size, replace=False)
            rest = elements[chosen[:-1]].sum()
            elements[chosen[-1]] = (goal - rest) + rng.integers(-3, 4) * np.spacing(goal)
        targets[row] = goal + rng.integers(-2, 3) * np.spacing(goal)
    _assert_min_size_matches_the_reference(
        targets, bases, rng.random((count, n)) < 0.9, max_size=size, eps=1e-300)


def test_cpu_searches_are_named_and_narrowed_by_name():
    from subsetsum import _core

    searches = _core.cpu_searches()
    assert searches[0] == "scalar" and set(searches) <= {"scalar", "avx2", "avx512"}
    assert _core.cpu_search() == searches[-1]  # the widest by default
    for bad in ("sse2", "AVX2", "avx1024"):
        with pytest.raises(ValueError, match=r"^search: expected one this CPU runs \('scalar'"):
            _core.set_cpu_search(bad)
    assert _core.cpu_search() == searches[-1]  # a refused name changes nothing
    try:
        _core.set_cpu_search("scalar")
        assert _core.cpu_search() == "scalar"
    finally:
        _core.set_cpu_search(searches[-1])


def _assert_min_size_matches_the_reference(targets, bases, mask, *, max_size, eps=1e-3):
    """min_size on the CPU and in the reference, without and with ``mask``: the same subsets, the
    same errors."""
    for m in (None, mask):
        kwargs = dict(eps=eps, mode="min_size", max_size=max_size, mask=m)
        cpu = subsetsum.solve(targets, bases, backend="cpu", **kwargs)
        ref = subsetsum.solve(targets, bases, backend="numba", **kwargs)
        np.testing.assert_array_equal(cpu.subsets, ref.subsets)
        np.testing.assert_array_equal(cpu.errors, ref.errors)
