"""solve() input handling: every bad input is rejected naming the argument; every accepted form of
input (lists, other dtypes, non-contiguous arrays, torch tensors, empty batches) works."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import subsetsum
from _brute import as_numpy, assert_results_equal, random_problems

solve_module = importlib.import_module("subsetsum.solve")

BATCH, N = 4, 6


def valid_problem(dtype=np.float32):
    """A small valid (targets (4,), bases (4, 6)) pair."""
    rng = np.random.default_rng(0)
    targets, bases, _ = random_problems(rng, BATCH, N, dtype, masked=False)
    return targets, bases


def with_value(array, index, value):
    """A copy of array with one entry replaced."""
    array = array.copy()
    array[index] = value
    return array


TARGETS, BASES = valid_problem()

# (description, targets, bases, keyword arguments, exception, argument named in the message)
BAD_INPUTS = [
    ("1-D bases", TARGETS, BASES[0], {}, ValueError, "bases"),
    ("3-D bases", TARGETS, BASES[:, :, None], {}, ValueError, "bases"),
    ("too few targets", TARGETS[:3], BASES, {}, ValueError, "targets"),
    ("too many targets", np.zeros(5, np.float32), BASES, {}, ValueError, "targets"),
    ("2-D targets", TARGETS[:, None], BASES, {}, ValueError, "targets"),
    ("scalar target", np.float32(0.5), BASES, {}, ValueError, "targets"),
    ("no elements", TARGETS, np.zeros((BATCH, 0), np.float32), {}, ValueError, "bases"),
    ("NaN target", with_value(TARGETS, 1, np.nan), BASES, {}, ValueError, "targets"),
    ("inf target", with_value(TARGETS, 0, np.inf), BASES, {}, ValueError, "targets"),
    ("-inf target", with_value(TARGETS, 3, -np.inf), BASES, {}, ValueError, "targets"),
    ("NaN in bases", TARGETS, with_value(BASES, (2, 3), np.nan), {}, ValueError, "bases"),
    ("inf in bases", TARGETS, with_value(BASES, (0, 5), np.inf), {}, ValueError, "bases"),
    ("-inf in bases", TARGETS, with_value(BASES, (3, 0), -np.inf), {}, ValueError, "bases"),
    ("string bases", TARGETS, BASES.astype(str), {}, TypeError, "bases"),
    ("complex bases", TARGETS, BASES.astype(np.complex64), {}, TypeError, "bases"),
    ("ragged bases", TARGETS, [[0.5, 0.25]] * 3 + [[0.5]], {}, TypeError, "bases"),
    ("string targets", TARGETS.astype(str), BASES, {}, TypeError, "targets"),
    ("eps zero", TARGETS, BASES, {"eps": 0.0}, ValueError, "eps"),
    ("eps negative", TARGETS, BASES, {"eps": -0.1}, ValueError, "eps"),
    ("eps NaN", TARGETS, BASES, {"eps": float("nan")}, ValueError, "eps"),
    ("eps inf", TARGETS, BASES, {"eps": float("inf")}, ValueError, "eps"),
    ("eps string", TARGETS, BASES, {"eps": "0.1"}, TypeError, "eps"),
    ("eps None", TARGETS, BASES, {"eps": None}, TypeError, "eps"),
    ("eps bool", TARGETS, BASES, {"eps": True}, TypeError, "eps"),
    ("eps array", TARGETS, BASES, {"eps": np.array([0.1, 0.2])}, TypeError, "eps"),
    ("unknown mode", TARGETS, BASES, {"mode": "closest"}, ValueError, "mode"),
    ("mode None", TARGETS, BASES, {"mode": None}, ValueError, "mode"),
    ("unknown backend", TARGETS, BASES, {"backend": "gpu"}, ValueError, "backend"),
    ("unknown algorithm", TARGETS, BASES, {"algorithm": "dynamic_programming"}, ValueError,
     "algorithm"),
    ("algorithm for another mode", TARGETS, BASES,
     {"mode": "min_size", "algorithm": "meet_in_the_middle"}, ValueError, "algorithm"),
    ("algorithm for another mode", TARGETS, BASES,
     {"mode": "best", "algorithm": "increasing_size"}, ValueError, "algorithm"),
    ("algorithm for another mode", TARGETS, BASES,
     {"mode": "best", "algorithm": "first_hit"}, ValueError, "algorithm"),
    ("algorithm for another mode", TARGETS, BASES,
     {"mode": "fixed_size", "k": 2, "algorithm": "meet_in_the_middle"}, ValueError,
     "algorithm"),
    ("k missing", TARGETS, BASES, {"mode": "fixed_size"}, ValueError, "k"),
    ("k > n", TARGETS, BASES, {"mode": "fixed_size", "k": N + 1}, ValueError, "k"),
    ("k negative", TARGETS, BASES, {"mode": "fixed_size", "k": -1}, ValueError, "k"),
    ("k float", TARGETS, BASES, {"mode": "fixed_size", "k": 2.0}, TypeError, "k"),
    ("k bool", TARGETS, BASES, {"mode": "fixed_size", "k": True}, TypeError, "k"),
    ("k with best", TARGETS, BASES, {"mode": "best", "k": 2}, ValueError, "k"),
    ("k with min_size", TARGETS, BASES, {"mode": "min_size", "k": 2}, ValueError, "k"),
    ("max_size negative", TARGETS, BASES, {"mode": "min_size", "max_size": -1}, ValueError,
     "max_size"),
    ("max_size float", TARGETS, BASES, {"mode": "min_size", "max_size": 2.5}, TypeError,
     "max_size"),
    ("max_size with best", TARGETS, BASES, {"mode": "best", "max_size": 3}, ValueError,
     "max_size"),
    ("max_size with fixed_size", TARGETS, BASES, {"mode": "fixed_size", "k": 2, "max_size": 3},
     ValueError, "max_size"),
    ("mask wrong shape", TARGETS, BASES, {"mask": np.ones((BATCH, N + 1), bool)}, ValueError,
     "mask"),
    ("mask 1-D", TARGETS, BASES, {"mask": np.ones(N, bool)}, ValueError, "mask"),
    ("mask float", TARGETS, BASES, {"mask": np.ones((BATCH, N), np.float32)}, TypeError, "mask"),
    ("mask ints not 0/1", TARGETS, BASES, {"mask": np.full((BATCH, N), 2, np.int8)}, TypeError,
     "mask"),
    ("mask negative ints", TARGETS, BASES, {"mask": -np.ones((BATCH, N), np.int64)}, TypeError,
     "mask"),
    ("num_threads zero", TARGETS, BASES, {"num_threads": 0}, ValueError, "num_threads"),
    ("num_threads string", TARGETS, BASES, {"num_threads": "2"}, TypeError, "num_threads"),
    ("progress string", TARGETS, BASES, {"progress": "yes"}, TypeError, "progress"),
    ("torch targets, numpy bases", torch.from_numpy(TARGETS), BASES, {}, TypeError, "targets"),
    ("numpy targets, torch bases", TARGETS, torch.from_numpy(BASES), {}, TypeError, "bases"),
]

# n beyond each algorithm's limit: (mode, options, n)
TOO_LARGE = [
    ("best", {}, 45),
    ("best", {"algorithm": "gray_code"}, 31),
    ("best", {"algorithm": "meet_in_the_middle"}, 45),
    ("min_size", {"algorithm": "gray_code"}, 31),
    ("min_size", {}, 65),
    ("min_size", {"max_size": 3}, 65),
    ("fixed_size", {"k": 2}, 257),
    ("fixed_size", {"k": 2, "algorithm": "first_hit"}, 257),
    ("fixed_size", {"k": 2, "algorithm": "gray_code"}, 31),
]


@pytest.mark.parametrize("backend", ["cpu", "numba"])
@pytest.mark.parametrize(
    "targets, bases, options, error, argument",
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_names_the_argument(targets, bases, options, error, argument, backend):
    kwargs = {"eps": 0.1, "mode": "best", "backend": backend, **options}
    with pytest.raises(error, match=argument):
        subsetsum.solve(targets, bases, **kwargs)


@pytest.mark.parametrize("backend", ["cpu", "numba"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_element_is_named_with_its_problem_unless_masked_out(value, backend):
    """The backends themselves refuse a problem with a NaN or inf element (no pass over every
    element beforehand): the error names bases and the problem; a masked-out element is not
    part of its problem, so the same value there changes nothing."""
    bases = with_value(BASES, (2, 3), value)
    kwargs = {"eps": 0.1, "mode": "min_size", "backend": backend}
    with pytest.raises(ValueError, match=r"^bases: expected finite values, found NaN or inf in problem 2$"):
        subsetsum.solve(TARGETS, bases, **kwargs)
    mask = np.ones(BASES.shape, bool)
    mask[2, 3] = False
    got = subsetsum.solve(TARGETS, bases, mask=mask, **kwargs)
    expected = subsetsum.solve(TARGETS, BASES, mask=mask, **kwargs)
    assert_results_equal(got, expected, exact=True)


@pytest.mark.parametrize("mode, options, n", TOO_LARGE)
def test_too_many_elements_names_bases(mode, options, n):
    bases = np.zeros((2, n), np.float32)
    with pytest.raises(ValueError, match=rf"bases: .*n = {n}"):
        subsetsum.solve(np.zeros(2, np.float32), bases, eps=0.1, mode=mode, **options)


@pytest.mark.parametrize("mode, n, options", [("best", 31, {}), ("min_size", 40, {}),
                                              ("fixed_size", 200, {"k": 10})])
def test_numba_backend_refuses_unaffordable_enumeration(mode, n, options):
    with pytest.raises(ValueError, match="bases"):
        subsetsum.solve(np.zeros(1), np.zeros((1, n)), eps=0.1, mode=mode, backend="numba",
                        **options)


def test_bad_input_on_empty_batch_is_still_rejected():
    empty_targets, empty_bases = np.zeros(0), np.zeros((0, 5))
    with pytest.raises(ValueError, match="eps"):
        subsetsum.solve(empty_targets, empty_bases, eps=-1.0, mode="best")
    with pytest.raises(ValueError, match="k"):
        subsetsum.solve(empty_targets, empty_bases, eps=0.1, mode="fixed_size", k=6)


# --------------------------------------------------------------------------------------------
# accepted inputs


@pytest.mark.parametrize("backend", ["cpu", "numba"])
@pytest.mark.parametrize(
    "mode, options, n",
    [("best", {}, 5), ("min_size", {"max_size": 2}, 5), ("fixed_size", {"k": 2}, 5),
     ("fixed_size", {"k": 2}, 70)],
)
def test_empty_batch_gives_empty_results(mode, options, n, backend):
    result = subsetsum.solve(np.zeros(0, np.float32), np.zeros((0, n), np.float32), eps=0.1,
                             mode=mode, backend=backend, **options)
    assert len(result) == 0
    assert result.sums.shape == result.errors.shape == (0,)
    assert result.sums.dtype == result.errors.dtype == np.float64
    assert result.sizes.shape == (0,) and result.sizes.dtype == np.int32
    assert result.found.shape == (0,) and result.found.dtype == np.bool_
    if n > 64:
        assert result.subsets is None and result.indices.shape == (0, options["k"])
    else:
        assert result.indices is None
        assert result.subsets.shape == (0,) and result.subsets.dtype == np.uint64
    assert result.to_mask(n).shape == (0, n)


@pytest.mark.parametrize("backend", ["cpu", "numba"])
def test_lists_work_and_run_in_float64(backend):
    targets = [0.3, -0.1]
    bases = [[0.1, 0.2, 0.4], [-0.1, 0.05, -0.3]]
    result = subsetsum.solve(targets, bases, eps=1e-9, mode="best", backend=backend)
    expected = subsetsum.solve(np.array(targets), np.array(bases), eps=1e-9, mode="best",
                               backend=backend)
    assert_results_equal(result, expected, exact=True)
    assert isinstance(result.sums, np.ndarray)
    assert result.to_mask(3).tolist() == [[True, True, False], [True, False, False]]


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_])
def test_integer_arrays_run_as_float64(dtype):
    rng = np.random.default_rng(1)
    high = 2 if dtype == np.bool_ else 5
    bases = rng.integers(0, high, size=(50, 8)).astype(dtype)
    targets = rng.integers(0, 3 * high, size=50).astype(dtype)
    for mode, options in [("best", {}), ("min_size", {"max_size": 3}), ("fixed_size", {"k": 3})]:
        result = subsetsum.solve(targets, bases, eps=0.5, mode=mode, **options)
        expected = subsetsum.solve(targets.astype(np.float64), bases.astype(np.float64),
                                   eps=0.5, mode=mode, **options)
        assert_results_equal(result, expected, exact=True, context=f"{dtype} {mode}")


def test_float16_runs_as_float32():
    rng = np.random.default_rng(2)
    targets, bases, mask = random_problems(rng, 100, 9, np.float16, masked=True)
    result = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode="min_size", max_size=4)
    expected = subsetsum.solve(targets.astype(np.float32), bases.astype(np.float32), mask=mask,
                               eps=0.01, mode="min_size", max_size=4)
    assert_results_equal(result, expected, exact=True)


def test_mixed_float_dtypes_follow_bases():
    targets, bases = valid_problem(np.float32)
    result = subsetsum.solve(targets.astype(np.float64), bases, eps=0.01, mode="best")
    expected = subsetsum.solve(targets, bases, eps=0.01, mode="best")
    assert_results_equal(result, expected, exact=True)


@pytest.mark.parametrize("backend", ["cpu", "numba"])
def test_non_contiguous_arrays_work(backend):
    rng = np.random.default_rng(3)
    targets, bases, mask = random_problems(rng, 120, 20, np.float32, masked=True)
    strided = dict(targets=targets[::2], bases=bases[::2, ::2], mask=mask[::2, ::2])
    fortran = dict(targets=targets, bases=np.asfortranarray(bases[:, :10]),
                   mask=np.asfortranarray(mask[:, :10]))
    for arrays in (strided, fortran):
        contiguous = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        assert not arrays["bases"].flags.c_contiguous
        for mode, options in [("best", {}), ("fixed_size", {"k": 4})]:
            result = subsetsum.solve(arrays["targets"], arrays["bases"], mask=arrays["mask"],
                                     eps=0.01, mode=mode, backend=backend, **options)
            expected = subsetsum.solve(contiguous["targets"], contiguous["bases"],
                                       mask=contiguous["mask"], eps=0.01, mode=mode,
                                       backend=backend, **options)
            assert_results_equal(result, expected, exact=True, context=mode)


@pytest.mark.parametrize("backend", ["cpu", "numba"])
@pytest.mark.parametrize("n, mode, options", [(8, "best", {}), (8, "min_size", {"max_size": 3}),
                                              (70, "fixed_size", {"k": 2})])
def test_torch_cpu_tensors_give_torch_results(n, mode, options, backend):
    rng = np.random.default_rng(4)
    targets, bases, mask = random_problems(rng, 40, n, np.float32, masked=True)
    result = subsetsum.solve(torch.from_numpy(targets), torch.from_numpy(bases),
                             mask=torch.from_numpy(mask), eps=0.01, mode=mode, backend=backend,
                             **options)
    expected = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode=mode, backend=backend,
                               **options)
    for name in ("subsets", "indices", "sums", "errors", "sizes", "found"):
        field = getattr(result, name)
        assert (field is None) == (getattr(expected, name) is None)
        if field is not None:
            assert isinstance(field, torch.Tensor) and field.device.type == "cpu", name
    assert_results_equal(result, expected, exact=True)
    np.testing.assert_array_equal(result.to_mask(n), expected.to_mask(n))


def test_torch_tensors_requiring_grad_and_float64_work():
    targets, bases = valid_problem(np.float64)
    t = torch.tensor(targets, requires_grad=True)
    x = torch.tensor(bases, requires_grad=True)
    result = subsetsum.solve(t, x, eps=0.01, mode="best")
    expected = subsetsum.solve(targets, bases, eps=0.01, mode="best")
    assert isinstance(result.errors, torch.Tensor) and result.errors.dtype == torch.float64
    assert_results_equal(result, expected, exact=True)


def test_integer_mask_equals_bool_mask():
    rng = np.random.default_rng(5)
    targets, bases, mask = random_problems(rng, 60, 10, np.float32, masked=True)
    for mask_dtype in (np.uint8, np.int64):
        result = subsetsum.solve(targets, bases, mask=mask.astype(mask_dtype), eps=0.01,
                                 mode="best")
        expected = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode="best")
        assert_results_equal(result, expected, exact=True, context=str(mask_dtype))


@pytest.mark.parametrize("eps", [1, np.float32(0.5), np.int64(2), 1e-300])
def test_eps_accepts_real_scalars(eps):
    result = subsetsum.solve([0.75], [[0.25, 0.5]], eps=eps, mode="best")
    assert result.found.tolist() == [True]


@pytest.mark.parametrize("backend", ["cpu", "numba"])
def test_progress_callable_sees_every_chunk(monkeypatch, backend):
    # A tiny chunk budget forces several chunks, so progress is reported more than once.
    monkeypatch.setattr(solve_module, "_CHUNK_WORK", 1.0)
    rng = np.random.default_rng(6)
    targets, bases, _ = random_problems(rng, 23, 6, np.float32, masked=False)
    calls = []
    result = subsetsum.solve(targets, bases, eps=0.01, mode="best", backend=backend,
                             progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 2
    assert all(total == 23 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 23 and done[0] > 0
    monkeypatch.undo()
    expected = subsetsum.solve(targets, bases, eps=0.01, mode="best", backend=backend)
    assert_results_equal(result, expected, exact=True)


def test_progress_bar_and_disabled_progress(capsys):
    targets, bases = valid_problem()
    shown = subsetsum.solve(targets, bases, eps=0.01, mode="best", progress=True)
    assert "subset sum" in capsys.readouterr().err
    hidden = subsetsum.solve(targets, bases, eps=0.01, mode="best", progress=False)
    assert capsys.readouterr().err == ""
    assert_results_equal(shown, hidden, exact=True)


def test_to_mask_from_subsets_and_indices():
    result = subsetsum.solve([0.5], [[0.25, 0.25, 0.7]], eps=1e-9, mode="best")
    assert result.to_mask(3).tolist() == [[True, True, False]]
    assert result.to_mask(3).dtype == np.bool_

    n = 70
    bases = np.zeros((2, n))
    bases[0, [2, 69]] = [0.25, 0.5]
    bases[1, [0, 65]] = [1.0, 2.0]
    mask = np.ones((2, n), dtype=bool)
    mask[1, 1:] = False  # only one element left: infeasible for k = 2
    result = subsetsum.solve([0.75, 3.0], bases, mask=mask, eps=1e-9, mode="fixed_size", k=2)
    assert as_numpy(result.indices).tolist() == [[2, 69], [-1, -1]]
    expected = np.zeros((2, n), dtype=bool)
    expected[0, [2, 69]] = True
    np.testing.assert_array_equal(result.to_mask(n), expected)
    assert result.found.tolist() == [True, False]
