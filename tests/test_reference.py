"""subsetsum._reference (the numba oracle) against the itertools brute force; known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from subsetsum import _reference
from _brute import brute_solve, random_problems

MODES = ("best", "min_size", "fixed_size")


def reference_solve(targets, bases, mask=None, *, eps, mode, max_size=None, k=None, num_threads=0):
    """Calls _reference.solve_into the way solve() does; returns a dict of the output arrays."""
    batch, n = bases.shape
    wide = mode == "fixed_size" and n > 64
    out = {
        "subsets": None if wide else np.zeros(batch, dtype=np.uint64),
        "indices": np.full((batch, k), -1, dtype=np.int64) if wide else None,
        "sums": np.zeros(batch, dtype=np.float64),
        "errors": np.zeros(batch, dtype=np.float64),
        "sizes": np.zeros(batch, dtype=np.int32),
        "found": np.zeros(batch, dtype=bool),
        "status": np.zeros(batch, dtype=np.uint8),
    }
    max_size = min(n, max_size) if mode == "min_size" and max_size is not None else n
    _reference.solve_into(
        targets, bases, mask, mode, max_size, k if mode == "fixed_size" else 0, eps,
        "reference", out["subsets"], out["indices"], out["sums"], out["errors"], out["sizes"],
        out["found"], out["status"], num_threads,
    )
    return out


def assert_matches_brute(out, expected, *, exact: bool):
    """exact: float32 inputs (identical subsets); else float64 (errors within rounding)."""
    errors = np.array([e.error for e in expected])
    np.testing.assert_array_equal(out["sizes"], [e.size for e in expected])
    np.testing.assert_array_equal(out["found"], [e.found for e in expected])
    if exact:
        np.testing.assert_array_equal(out["errors"], errors)
        np.testing.assert_array_equal(out["sums"], [e.total for e in expected])
        if out["subsets"] is not None:
            np.testing.assert_array_equal(out["subsets"], np.array([e.bits for e in expected],
                                                                   dtype=np.uint64))
        else:
            k = out["indices"].shape[1]
            rows = [e.indices if e.indices else (-1,) * k for e in expected]
            np.testing.assert_array_equal(out["indices"], np.array(rows, dtype=np.int64))
    else:
        np.testing.assert_allclose(out["errors"], errors, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_reference_matches_brute_force(mode, dtype, masked):
    rng = np.random.default_rng([MODES.index(mode), np.dtype(dtype).itemsize, masked])
    for n in range(1, 13):
        batch = 60
        targets, bases, mask = random_problems(rng, batch, n, dtype, masked=masked)
        eps = float(rng.choice([1e-9, 0.01, 0.1, 0.25]))
        options = {}
        if mode == "min_size":
            options["max_size"] = int(rng.integers(0, n + 1))
        if mode == "fixed_size":
            options["k"] = int(rng.integers(0, n + 1))
        out = reference_solve(targets, bases, mask, eps=eps, mode=mode, **options)
        expected = brute_solve(targets, bases, mask, eps=eps, mode=mode, **options)
        assert_matches_brute(out, expected, exact=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reference_fixed_size_wide_matches_brute_force(dtype):
    # n > 64: results come as indices; ties are broken on the largest differing index.
    rng = np.random.default_rng(7)
    for n, k in [(65, 1), (70, 2), (90, 2), (66, 0), (67, 3)]:
        targets, bases, mask = random_problems(rng, 12, n, dtype, masked=True, mask_density=0.9)
        out = reference_solve(targets, bases, mask, eps=0.01, mode="fixed_size", k=k)
        expected = brute_solve(targets, bases, mask, eps=0.01, mode="fixed_size", k=k)
        assert_matches_brute(out, expected, exact=True)


def test_reference_infeasible_fixed_size():
    bases = np.array([[0.5, 0.25, 0.125], [0.5, 0.25, 0.125]], dtype=np.float32)
    targets = np.array([-0.75, 0.75], dtype=np.float32)
    mask = np.array([[True, False, False], [True, True, False]])
    out = reference_solve(targets, bases, mask, eps=0.5, mode="fixed_size", k=2)
    assert out["subsets"].tolist() == [0, 3]
    assert out["sums"].tolist() == [0.0, 0.75]
    assert out["errors"].tolist() == [0.75, 0.0]
    assert out["sizes"].tolist() == [0, 2]
    assert out["found"].tolist() == [False, True]


def test_reference_infeasible_fixed_size_wide_rows_stay_minus_one():
    n = 70
    bases = np.full((2, n), 0.25)
    targets = np.array([0.5, 0.5])
    mask = np.zeros((2, n), dtype=bool)
    mask[0, [3, 69]] = True
    mask[1, 5] = True
    out = reference_solve(targets, bases, mask, eps=0.1, mode="fixed_size", k=2)
    assert out["indices"].tolist() == [[3, 69], [-1, -1]]
    assert out["found"].tolist() == [True, False]
    assert out["errors"].tolist() == [0.0, 0.5]


@pytest.mark.parametrize(
    "mode, values, target, options, expected_bits",
    [
        # Equal errors: the smaller subset wins, then the smaller bit pattern.
        ("best", [0.5, 0.5], 0.5, {}, 0b01),
        ("best", [0.0, 0.5], 0.5, {}, 0b10),
        ("best", [0.25, 0.25, 0.5], 0.5, {}, 0b100),
        ("best", [0.25, 0.75], 0.5, {}, 0b01),  # {0} and {1} both miss by 0.25
        ("best", [1.0, 2.0], -3.0, {}, 0b00),
        # min_size stops at the first size within eps, even if a larger one is exact.
        ("min_size", [0.5, 0.25, 0.125, 0.625], 0.75, {"max_size": 3}, 0b1000),
        ("min_size", [0.5, 0.25, 0.125, 0.625], 0.75, {"max_size": 0}, 0b0000),
        # Nothing within eps up to max_size: the best of size <= max_size, found False.
        ("min_size", [1.0, 2.0, 4.0], 7.0, {"max_size": 2}, 0b110),
        ("fixed_size", [0.5, 0.5, 0.5, 0.0], 1.0, {"k": 2}, 0b0011),
        ("fixed_size", [0.0, 0.0, 1.0], 1.0, {"k": 3}, 0b111),
        ("fixed_size", [0.0, 0.0, 1.0], 1.0, {"k": 0}, 0b000),
    ],
)
def test_reference_known_answers(mode, values, target, options, expected_bits):
    bases = np.array([values], dtype=np.float32)
    targets = np.array([target], dtype=np.float32)
    out = reference_solve(targets, bases, eps=0.2, mode=mode, **options)
    assert int(out["subsets"][0]) == expected_bits
    chosen = [v for i, v in enumerate(values) if expected_bits >> i & 1]
    assert out["sizes"][0] == len(chosen)
    assert out["sums"][0] == sum(chosen)
    assert out["errors"][0] == abs(target - sum(chosen))
    assert out["found"][0] == (abs(target - sum(chosen)) <= 0.2)


def test_reference_masked_elements_never_chosen():
    bases = np.array([[0.5, 0.25, 0.25]] * 3, dtype=np.float64)
    targets = np.array([0.5, 0.5, 0.5])
    mask = np.array([[True, True, True], [False, True, True], [False, False, False]])
    out = reference_solve(targets, bases, mask, eps=1e-9, mode="best")
    assert out["subsets"].tolist() == [0b001, 0b110, 0b000]
    assert out["found"].tolist() == [True, True, False]


def test_reference_threads_identical_and_restored():
    import numba

    rng = np.random.default_rng(3)
    targets, bases, mask = random_problems(rng, 300, 10, np.float32, masked=True)
    before = numba.get_num_threads()
    one = reference_solve(targets, bases, mask, eps=0.01, mode="min_size", max_size=5,
                          num_threads=1)
    assert numba.get_num_threads() == before
    many = reference_solve(targets, bases, mask, eps=0.01, mode="min_size", max_size=5,
                           num_threads=64)
    assert numba.get_num_threads() == before
    for name in ("subsets", "sums", "errors", "sizes", "found"):
        np.testing.assert_array_equal(one[name], many[name])


@pytest.mark.parametrize(
    "mode, n, options",
    [
        ("best", 31, {}),
        ("min_size", 40, {"max_size": 40}),
        ("fixed_size", 256, {"k": 5}),
    ],
)
def test_reference_refuses_unaffordable_enumeration(mode, n, options):
    bases = np.zeros((1, n))
    with pytest.raises(ValueError, match="bases"):
        reference_solve(np.zeros(1), bases, eps=0.1, mode=mode, **options)


def test_reference_limits_are_just_affordable():
    # The largest accepted sizes pass the check without running anything.
    _reference.check_affordable("best", 30, 30, 0)
    _reference.check_affordable("min_size", 30, 30, 0)
    _reference.check_affordable("fixed_size", 256, 3, 3)
    assert math.comb(256, 3) <= _reference.MAX_SUBSETS_FIXED_SIZE


def test_reference_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        reference_solve(np.zeros(1), np.zeros((1, 2)), eps=0.1, mode="largest")
