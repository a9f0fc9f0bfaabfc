"""Properties every solve() result has, on hypothesis-generated batches (adversarial ones too)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import subsetsum
from _brute import as_numpy, assert_results_equal

MODES = ("best", "min_size", "fixed_size")
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values whose float32 subset sums are all exact in float64 (nonzero magnitudes within
# 2^-12..2^13, so every sum of up to 10 fits the 53-bit mantissa): any summation order gives the
# same sums, and results must agree bit for bit across backends.
_dyadic = st.sampled_from([0.0, 0.0, 0.5, -0.5, 0.25, 1.0, -1.0, 0.75])
_unit = st.floats(-1.0, 1.0, width=32).map(lambda v: v if abs(v) >= 2.0**-12 else 0.0)
_scaled = st.builds(
    lambda sign, mantissa, exponent: sign * mantissa * 2.0**exponent,
    st.sampled_from([-1.0, 1.0]), st.floats(1.0, 2.0, width=32, exclude_max=True),
    st.integers(-12, 12),
)
EXACT_VALUES = st.one_of(_dyadic, _unit, _scaled)

# Magnitudes far apart (sums round in float64), and targets far outside the reachable range.
ADVERSARIAL_VALUES = st.one_of(
    _dyadic,
    st.floats(-1e30, 1e30),
    st.sampled_from([1e30, -1e30, 1e-30, -1e-30, 3.0e38, -3.0e38, 1e-45, 65504.0]),
    st.floats(-1.0, 1.0, width=32).map(lambda v: v * 1e-20),
)
ADVERSARIAL_TARGETS = st.one_of(
    ADVERSARIAL_VALUES, st.sampled_from([1e38, -1e38, 1e6, -1e6, 0.0])
)


@st.composite
def batches(draw, values=EXACT_VALUES, targets=None, *, max_n=10, min_n=1, modes=MODES,
            max_k=None):
    """(targets (B,), bases (B, n), mask (B, n) or None, dtype, options for solve)."""
    n = draw(st.integers(min_n, max_n))
    batch = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rows = draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=batch,
                         max_size=batch))
    bases = np.array(rows, dtype=dtype)
    # Targets: free values or sums of random subsets (exact hits and ties).
    target_list = []
    for b in range(batch):
        if draw(st.booleans()):
            chosen = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            target_list.append(float(bases[b][np.array(chosen)].astype(np.float64).sum()))
        else:
            target_list.append(draw(values if targets is None else targets))
    with np.errstate(over="ignore"):
        target_array = np.array(target_list, dtype=np.float64).astype(dtype)
    target_array = np.where(np.isfinite(target_array), target_array, dtype(0.0))
    mask = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.lists(st.booleans(), min_size=n, max_size=n),
                                      min_size=batch, max_size=batch)), dtype=bool)
    mode = draw(st.sampled_from(modes))
    options = {"mode": mode, "eps": draw(st.sampled_from([1e-12, 1e-3, 0.05, 0.5, 3.0]))}
    if mode == "min_size" and draw(st.booleans()):
        options["max_size"] = draw(st.integers(0, n + 2))
    if mode == "fixed_size":
        options["k"] = draw(st.integers(0, n if max_k is None else min(n, max_k)))
    return target_array, bases, mask, dtype, options


def check_invariants(result, targets, bases, mask, options):
    """The contract's promises that hold for any correct answer."""
    n = bases.shape[1]
    mode, eps = options["mode"], options["eps"]
    chosen = result.to_mask(n)
    sums, errors = as_numpy(result.sums), as_numpy(result.errors)
    sizes, found = as_numpy(result.sizes), as_numpy(result.found)
    present = np.ones_like(chosen) if mask is None else mask
    assert not (chosen & ~present).any(), "a masked element was chosen"
    np.testing.assert_array_equal(sizes, chosen.sum(axis=1))
    for b in range(len(targets)):
        total = 0.0
        for i in np.flatnonzero(chosen[b]):
            total += float(bases[b, i])
        assert sums[b] == total, f"problem {b}: sums is not the chosen elements' sum"
        assert errors[b] == abs(float(targets[b]) - total), f"problem {b}: errors inconsistent"
    feasible = np.ones(len(targets), dtype=bool)
    if mode == "min_size":
        assert (sizes <= options.get("max_size", n)).all()
    if mode == "fixed_size":
        k = options["k"]
        feasible = present.sum(axis=1) >= k
        assert (sizes[feasible] == k).all()
        assert (sizes[~feasible] == 0).all()
        if result.indices is not None:
            indices = as_numpy(result.indices)
            assert (indices[~feasible] == -1).all()
            assert (np.diff(indices[feasible], axis=1) > 0).all()
    assert (errors[found] <= eps).all()
    np.testing.assert_array_equal(found, feasible & (errors <= eps))
    assert not as_numpy(result.exhausted).any(), "a problem this small hit the work bound"


@PROPERTY_SETTINGS
@given(batches())
def test_results_keep_the_contract_and_backends_agree(problem):
    targets, bases, mask, dtype, options = problem
    cpu = subsetsum.solve(targets, bases, mask=mask, backend="cpu", **options)
    numba_result = subsetsum.solve(targets, bases, mask=mask, backend="numba", **options)
    for result in (cpu, numba_result):
        check_invariants(result, targets, bases, mask, options)
    if options["mode"] != "fixed_size":
        # The empty set is always a candidate, and sums are exact here.
        assert (as_numpy(cpu.errors) <= np.abs(targets.astype(np.float64)) + 1e-12).all()
    assert_results_equal(cpu, numba_result, exact=True,
                         problems=(targets, bases, mask), context=str(options))


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(batches(min_n=65, max_n=80, modes=("fixed_size",), max_k=2))
def test_wide_fixed_size_keeps_the_contract_and_backends_agree(problem):
    targets, bases, mask, dtype, options = problem
    cpu = subsetsum.solve(targets, bases, mask=mask, backend="cpu", **options)
    numba_result = subsetsum.solve(targets, bases, mask=mask, backend="numba", **options)
    assert cpu.subsets is None and cpu.indices is not None
    for result in (cpu, numba_result):
        check_invariants(result, targets, bases, mask, options)
    assert_results_equal(cpu, numba_result, exact=True,
                         problems=(targets, bases, mask), context=str(options))


@PROPERTY_SETTINGS
@given(batches(ADVERSARIAL_VALUES, ADVERSARIAL_TARGETS))
def test_adversarial_values_keep_the_contract(problem):
    # Sums round here; every backend still ranks subsets by the same index-order float64 sums,
    # so they agree bit for bit.
    targets, bases, mask, _, options = problem
    results = []
    for backend in ("cpu", "numba"):
        result = subsetsum.solve(targets, bases, mask=mask, backend=backend, **options)
        check_invariants(result, targets, bases, mask, options)
        results.append(result)
    assert_results_equal(results[0], results[1], exact=True, problems=(targets, bases, mask),
                         context=str(options))


@PROPERTY_SETTINGS
@given(batches(max_n=12, modes=("fixed_size",)), st.sampled_from([1e-3, 0.05]))
def test_first_hit_hits_are_valid(problem, eps):
    targets, bases, mask, _, options = problem
    options = dict(options, eps=eps)
    result = subsetsum.solve(targets, bases, mask=mask, backend="cpu", algorithm="first_hit",
                             **options)
    check_invariants(result, targets, bases, mask, options)
    exact = subsetsum.solve(targets, bases, mask=mask, backend="numba", **options)
    np.testing.assert_array_equal(as_numpy(result.found), as_numpy(exact.found))


@given(st.lists(st.integers(0, 2**64 - 1), max_size=40), st.sampled_from([1, 7, 64]))
def test_chosen_elements_are_the_set_bits_of_the_subsets(patterns, n):
    """chosen_elements: every set bit of every subset, problem-major, elements increasing
    (np.nonzero of the dense mask), whatever bits are set (the top bit included)."""
    bits = np.array(patterns, dtype=np.uint64) & np.uint64(2**n - 1 if n < 64 else 2**64 - 1)
    result = subsetsum.SolveResult(subsets=bits, indices=None, sums=np.zeros(bits.size), errors=np.zeros(bits.size),
                                   sizes=np.zeros(bits.size, np.int32), found=np.zeros(bits.size, bool),
                                   exhausted=np.zeros(bits.size, bool), algorithm="x")
    dense = (bits[:, None] >> np.arange(n, dtype=np.uint64)[None, :]) & np.uint64(1)
    expected = np.nonzero(dense)
    for ordered in (True, False):
        problems, elements = result.chosen_elements(ordered=ordered)
        assert problems.dtype == elements.dtype == np.int64
        np.testing.assert_array_equal(problems, expected[0])
        np.testing.assert_array_equal(elements, expected[1])
