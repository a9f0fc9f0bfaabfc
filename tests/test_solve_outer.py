"""solve_outer (elements gathered as each problem is loaded) against solve on the gathered
bases: the same subsets, sums, errors, sizes and found flags in every mode, with and without a
per-group mask, across chunk boundaries; and its input checks."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from subsetsum.solve import solve, solve_outer
from subsetsum.tickets.solve import gather_elements

solve_module = importlib.import_module("subsetsum.solve")  # the module (the package exports the function)

MODES = [dict(mode="min_size", max_size=3), dict(mode="min_size"), dict(mode="best"),
         dict(mode="fixed_size", k=2), dict(mode="fixed_size", k=3, algorithm="first_hit")]


def _same(a, b) -> bool:
    fields = ("subsets", "indices", "sums", "errors", "sizes", "found", "exhausted")
    return all((getattr(a, f) is None and getattr(b, f) is None) or np.array_equal(getattr(a, f), getattr(b, f))
               for f in fields)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), kw=st.sampled_from(MODES), masked=st.booleans(),
       small_chunks=st.booleans())
def test_solve_outer_equals_solve_on_gathered_bases(seed, kw, masked, small_chunks):
    rng = np.random.default_rng(seed)
    rows, groups, n = int(rng.integers(1, 6)), int(rng.integers(1, 9)), int(rng.integers(3, 15))
    w = rng.uniform(-1, 1, (rows, groups * n)).astype(np.float32)
    mult = rng.uniform(0, 3, (groups, n))
    targets = rng.uniform(-2, 2, rows * groups)
    targets[rng.random(targets.size) < 0.2] = 0.0  # zero targets: the empty subset (min_size)
    mask = rng.random((groups, n)) < 0.8 if masked else None
    old = solve_module._CHUNK_WORK
    if small_chunks:  # problems split over several compiled calls: each starts at its offset
        solve_module._CHUNK_WORK = 1
    try:
        got = solve_outer(targets, w, mult, eps=0.05, mask=mask, **kw)
    finally:
        solve_module._CHUNK_WORK = old
    expected = solve(targets, gather_elements(w, mult), eps=0.05,
                     mask=None if mask is None else np.tile(mask, (rows, 1)), **kw)
    assert _same(got, expected)


def test_solve_outer_checks_its_inputs():
    w = np.zeros((2, 6), np.float32)
    mult = np.ones((3, 2))
    with pytest.raises(ValueError, match="w, mult"):
        solve_outer(np.zeros(6), w, np.ones((2, 2)), eps=0.1, mode="min_size")
    with pytest.raises(ValueError, match="targets"):
        solve_outer(np.zeros(5), w, mult, eps=0.1, mode="min_size")
    with pytest.raises(ValueError, match="targets"):
        solve_outer(np.full(6, np.nan), w, mult, eps=0.1, mode="min_size")
    with pytest.raises(ValueError, match="mask"):
        solve_outer(np.zeros(6), w, mult, eps=0.1, mode="min_size", mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="eps"):
        solve_outer(np.zeros(6), w, mult, eps=-1.0, mode="min_size")
    bad = w.copy()
    bad[1, 3] = np.inf  # row 1, group 1: problem 4
    with pytest.raises(ValueError, match="finite values, found NaN or inf in problem 4"):
        solve_outer(np.ones(6), bad, mult, eps=0.1, mode="min_size")
