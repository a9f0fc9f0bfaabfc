"""Random ``solve()`` calls and the contract their results must keep.

``make_call(seed, index)`` builds call number ``index`` of a seed, always the same one: mostly
well-formed calls over adversarial data (equal values, zeros, integers, magnitudes 1e-20..1e20,
values near the overflow limit, subnormals, targets exactly at an index-order subset sum, one ulp
or exactly eps away, or far off), in every accepted input form (lists, float16/32/64, integers,
big-endian, torch tensors including bfloat16, read-only, strided), and a share of malformed calls
(one argument broken). ``run_call`` runs one and returns an outcome:

- ``ok``: a result that keeps the contract (``check_result``), or the clean error a malformed
  call must raise: ValueError, TypeError (RuntimeError for backend='cuda' without a GPU) with a
  message that starts with the argument's name;
- ``break``: anything else: a wrong or inconsistent result, an error on a well-formed call, a
  result for a malformed one, another exception type, a message naming no argument.

Crashes and overruns are the runner's to see (run.py). Every result whose problems have at most
``BRUTE_LIMIT`` present elements is compared bit for bit with the itertools brute force of
``tests/_brute.py`` (the contract sums in index order in float64, so there is one right answer).
"""

from __future__ import annotations

import math
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TESTS_DIR = Path(__file__).resolve().parent.parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from _brute import as_numpy, assert_results_equal, brute_solve_one  # noqa: E402

MODES = ("best", "min_size", "fixed_size")
ALGORITHMS = {
    "best": {"gray_code": 30, "meet_in_the_middle": 44},
    "min_size": {"gray_code": 30, "increasing_size": 64},
    "fixed_size": {"gray_code": 30, "exact_combinations": 256, "first_hit": 256},
}
MAX_N = {"best": 44, "min_size": 64, "fixed_size": 256}
BRUTE_LIMIT = 12  # problems with at most this many present elements are checked exhaustively
BRUTE_ROWS = 8  # ... the first this many of a batch (the rest: everything but optimality)
ARGUMENT = re.compile(
    r"^(targets and bases|targets|bases|mask|eps|mode|k|max_size|backend|algorithm|num_threads|"
    r"progress|work_limit)\b"
)
GRID = np.array([-1.0, -0.5, -0.25, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0])
VALUE_KINDS = ("uniform", "grid", "integers", "repeated", "few", "zeros", "spread", "cancel",
               "tiny", "huge", "float32_extremes")


@dataclass
class Call:
    """One solve() call: positional targets and bases, keyword arguments, what must happen."""

    targets: object
    bases: object
    kwargs: dict
    expect: str  # "result", "error" or "either"
    label: str
    solved: tuple | None = None  # (targets, bases, mask) as solved: numpy float32/float64, bool
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# data


def _values(rng, shape, kind) -> np.ndarray:
    batch, n = shape
    if kind == "uniform":
        return rng.uniform(-1, 1, shape)
    if kind == "grid":
        return rng.choice(GRID, shape)
    if kind == "integers":
        return rng.integers(-5, 6, shape).astype(np.float64)
    if kind == "repeated":
        return np.repeat(rng.choice([0.1, 0.7, 1 / 3, 0.5, -0.25, 1e-3], (batch, 1)), n, axis=1)
    if kind == "few":
        return rng.choice(rng.uniform(-1, 1, 3), shape)
    if kind == "zeros":
        return np.zeros(shape)
    if kind == "spread":
        return rng.uniform(-1, 1, shape) * 10.0 ** rng.integers(-20, 21, shape)
    if kind == "cancel":
        return rng.choice([1e16, -1e16, 1.0, 0.5, 3.0, 1e-8, -1.0], shape)
    if kind == "tiny":
        return rng.choice([5e-324, -5e-324, 1e-310, 2.2e-308, 0.0, 1e-300], shape)
    if kind == "huge":  # around the limit: |target| + sum |elements| < 2**1021, else an error
        return rng.choice([1e300, -1e300, 1e306, 2.0**1015, -(2.0**1016), 1e308], shape)
    return rng.choice([3.0e38, -3.0e38, 1e-45, 1e30, -1e-30, 65504.0], shape)  # float32_extremes


def _index_order_sum(row, chosen) -> float:
    total = 0.0
    for i in np.flatnonzero(chosen):
        total += float(row[i])
    return total


def _targets(rng, bases, eps) -> np.ndarray:
    """Per row: a subset's index-order sum, that plus or minus exactly eps, one ulp off it, or
    a free value (0, far away, uniform)."""
    batch, n = bases.shape
    out = np.empty(batch)
    for b in range(batch):
        total = _index_order_sum(bases[b], rng.random(n) < 0.5)
        choice = rng.integers(9)
        if choice <= 2:
            out[b] = total
        elif choice == 3:
            out[b] = total + eps
        elif choice == 4:
            out[b] = total - eps
        elif choice == 5:
            out[b] = np.nextafter(total, rng.choice([-np.inf, np.inf]))
        elif choice == 6:
            out[b] = rng.choice([0.0, 1e20, -1e20, 1e16, 0.3000000000000001, -2.27])
        else:
            out[b] = rng.uniform(-2, 2) * (float(np.abs(bases[b]).sum()) if n else 1.0)
    return out


def _solved_dtype(kind: str) -> np.dtype:
    return np.dtype(np.float32 if kind in ("float32", "float16", "bfloat16", ">f4")
                    else np.float64)


# --------------------------------------------------------------------------------------------
# calls


def _sizes(rng, mode):
    """(n, batch) for a well-formed call of `mode`: mostly small, some at each algorithm's
    range, batches small where a problem can take long."""
    r = rng.random()
    if r < 0.62:
        n = int(rng.integers(1, 13))
    elif r < 0.82:
        n = int(rng.integers(13, 25))
    else:
        n = int(rng.integers(25, MAX_N[mode] + 1))
    if n <= 12:
        batch = int(rng.choice([0, 1, 2, 5, 8, 40, 200], p=[0.02, 0.25, 0.2, 0.25, 0.13, 0.1, 0.05]))
    elif n <= 24:
        batch = int(rng.integers(1, 9))
    else:
        batch = int(rng.integers(1, 3))
    return n, batch


def _options(rng, mode, n, kind):
    """mode-specific keyword arguments (k, max_size, algorithm) for n elements."""
    kwargs = {}
    if mode == "fixed_size":
        k = int(rng.integers(0, n + 1))
        if n > 20 and rng.random() < 0.7:
            k = min(k, int(rng.integers(0, 5)))
        kwargs["k"] = k
    if mode == "min_size" and rng.random() < 0.6:
        kwargs["max_size"] = int(rng.integers(0, n + 3))
    choices = [name for name, limit in ALGORITHMS[mode].items() if n <= limit]
    if rng.random() < 0.4 and choices:
        kwargs["algorithm"] = str(rng.choice(choices))
    return kwargs


def _numba_affordable(mode, n, kwargs) -> bool:
    if mode == "best":
        return n <= 16
    if mode == "min_size":
        top = min(kwargs.get("max_size", n), n)
        return sum(math.comb(n, s) for s in range(top + 1)) <= 1 << 16
    return math.comb(n, kwargs["k"]) <= 1 << 16


def _wrap(rng, targets, bases, mask, dtype_kind, call_notes):
    """targets, bases, mask in a random accepted container."""
    form = rng.choice(["numpy", "numpy", "numpy", "list", "torch", "read_only", "strided"])
    if dtype_kind == "bfloat16":
        form = "torch"
    if dtype_kind == "bool" or (form == "list" and bases.shape[0] == 0):
        form = "numpy"  # ([] cannot say (0, n))
    call_notes.append(form)
    if form == "list":
        return targets.tolist(), bases.tolist(), None if mask is None else mask.tolist()
    if form == "torch":
        import torch

        torch_dtype = {"float32": torch.float32, "float64": torch.float64,
                       "float16": torch.float16, "bfloat16": torch.bfloat16}.get(dtype_kind)
        if torch_dtype is None:
            return targets, bases, mask  # integers and byte orders stay numpy
        t = torch.tensor(targets.astype(np.float64), dtype=torch_dtype)
        x = torch.tensor(bases.astype(np.float64), dtype=torch_dtype)
        return t, x, None if mask is None else torch.from_numpy(mask.copy())
    if form == "read_only":
        for a in (targets, bases, mask):
            if a is not None:
                a.setflags(write=False)
        return targets, bases, mask
    if form == "strided":
        wide = np.zeros((bases.shape[0], 2 * bases.shape[1]), dtype=bases.dtype)
        wide[:, ::2] = bases
        return targets, wide[:, ::2], mask
    return targets, bases, mask


def _well_formed(rng) -> Call:
    mode = str(rng.choice(MODES))
    n, batch = _sizes(rng, mode)
    kind = str(rng.choice(VALUE_KINDS, p=[0.2, 0.12, 0.12, 0.08, 0.08, 0.04, 0.12, 0.08, 0.05,
                                          0.05, 0.06]))
    if n > 24:  # degenerate kinds there run to the work bound: a few problems at most
        batch = min(batch, 2)
    dtype_kind = str(rng.choice(["float64", "float32", "float16", "int", "bool", ">f4", ">f8",
                                 "bfloat16"],
                                p=[0.45, 0.3, 0.04, 0.07, 0.02, 0.04, 0.04, 0.04]))
    if kind in ("huge", "tiny", "spread", "cancel") and dtype_kind not in (">f8", "float64"):
        dtype_kind = "float64"
    if kind == "float32_extremes" and dtype_kind not in ("float32", "float64", ">f4", ">f8"):
        dtype_kind = "float32"
    raw = _values(rng, (batch, n), kind)
    if dtype_kind == "int":
        raw = np.round(raw * 4).clip(-1e9, 1e9)
    if dtype_kind == "bool":
        raw = (raw > 0).astype(np.float64)
    solved_dtype = _solved_dtype(dtype_kind)
    with np.errstate(over="ignore"):
        solved_bases = raw.astype(solved_dtype)
    if dtype_kind == "float16":
        solved_bases = raw.astype(np.float16).astype(np.float32)
    if dtype_kind == "bfloat16":
        import torch

        solved_bases = torch.tensor(raw).to(torch.bfloat16).float().numpy()
    solved_bases = np.where(np.isfinite(solved_bases), solved_bases, 0).astype(solved_dtype)
    eps = float(rng.choice([1e-12, 1e-3, 0.01, 0.01, 0.1, 0.5, 3.0, 5e-324]))
    raw_targets = _targets(rng, solved_bases.astype(np.float64), eps)
    with np.errstate(over="ignore"):
        solved_targets = raw_targets.astype(solved_dtype)
    if dtype_kind in ("float16", "bfloat16"):
        # targets take the dtype of bases (float32); in float16 form they round first
        if dtype_kind == "float16":
            raw_targets = raw_targets.astype(np.float16).astype(np.float64)
        else:
            import torch

            raw_targets = torch.tensor(raw_targets).to(torch.bfloat16).double().numpy()
        solved_targets = raw_targets.astype(np.float32)
    if dtype_kind in ("int", "bool"):
        raw_targets = np.round(raw_targets).clip(-1e9, 1e9)
        solved_targets = raw_targets.astype(np.float64)
    finite = np.isfinite(solved_targets)
    raw_targets = np.where(finite, raw_targets, 0.0)
    solved_targets = np.where(finite, solved_targets, 0).astype(solved_dtype)
    mask = None
    if rng.random() < 0.3:
        mask = rng.random((batch, n)) < rng.choice([0.3, 0.7, 0.95, 1.0, 0.0])
    kwargs = {"eps": eps, "mode": mode, **_options(rng, mode, n, kind)}
    backend = str(rng.choice(["cpu", "auto", "numba"], p=[0.55, 0.3, 0.15]))
    if backend == "numba" and not _numba_affordable(mode, n, kwargs):
        backend = "cpu"
    kwargs["backend"] = backend
    if rng.random() < 0.1:
        kwargs["num_threads"] = int(rng.choice([1, 2]))
    if rng.random() < 0.1:
        kwargs["work_limit"] = int(rng.choice([1, 100, 10_000, 1_000_000]))
    if rng.random() < 0.05:
        kwargs["progress"] = False
    # the input arrays in their declared dtype
    if dtype_kind == "int":
        bases_in, targets_in = raw.astype(np.int64), raw_targets.astype(np.int64)
    elif dtype_kind == "bool":
        bases_in, targets_in = raw.astype(bool), raw_targets.astype(np.float64).astype(bool)
        solved_targets = targets_in.astype(np.float64)
    elif dtype_kind in (">f4", ">f8"):
        bases_in, targets_in = solved_bases.astype(dtype_kind), solved_targets.astype(dtype_kind)
    elif dtype_kind == "float16":
        bases_in, targets_in = solved_bases.astype(np.float16), raw_targets.astype(np.float16)
    elif dtype_kind == "bfloat16":
        bases_in, targets_in = solved_bases, raw_targets
    else:
        bases_in, targets_in = solved_bases.copy(), solved_targets.copy()
    notes = [kind, dtype_kind]
    targets_in, bases_in, mask_in = _wrap(rng, np.array(targets_in), np.array(bases_in), mask,
                                          dtype_kind, notes)
    if mask is not None:
        kwargs["mask"] = mask_in
    # Rows near the overflow limit raise; rows of float16 values may overflow float32 targets:
    # either outcome is fine as long as it is the documented one (checked in run_call).
    magnitude = np.abs(solved_bases.astype(np.float64))
    if mask is not None:
        magnitude = np.where(mask, magnitude, 0.0)
    with np.errstate(over="ignore"):
        row_sums = np.abs(solved_targets.astype(np.float64)) + magnitude.sum(axis=1)
    expect = "result" if (row_sums < 2.0**1021).all() or batch == 0 else "error"
    if expect == "error":
        notes.append("over the sum limit")
    label = (f"{mode} n={n} B={batch} {kind} {dtype_kind} "
             f"{ {k: v for k, v in kwargs.items() if k not in ('mask', 'mode')} }")
    return Call(targets_in, bases_in, kwargs, expect, label,
                solved=(solved_targets, solved_bases, mask), notes=notes)


# Malformations: (name, function(call, rng) -> None editing the call in place)
def _malformed(rng) -> Call:
    call = _well_formed(rng)
    batch, width = call.solved[1].shape
    call.expect = "error"
    call.solved = None
    kw = call.kwargs
    what = int(rng.integers(20))
    if what == 0:
        kw["eps"] = rng.choice([0.0, -1.0, float("nan"), float("inf")])
    elif what == 1:
        kw["eps"] = [None, "0.1", True, [0.1]][rng.integers(4)]
    elif what == 2:
        kw["mode"] = [None, "closest", "BEST"][rng.integers(3)]
    elif what == 3:
        if kw["mode"] == "fixed_size":
            kw["k"] = [-1, width + 1, 2.5, True, None][rng.integers(5)]
            if kw["k"] is None:
                del kw["k"]
        else:
            kw["k"] = 1
    elif what == 4:
        if kw["mode"] == "min_size":
            kw["max_size"] = [-1, 2.5, "3"][rng.integers(3)]
        else:
            kw["max_size"] = 2
    elif what == 5:
        kw["backend"] = ["gpu", 3, "cuda"][rng.integers(3)]
    elif what == 6:
        other = [m for m in MODES if m != kw["mode"]][rng.integers(2)]
        wrong = [a for a in ALGORITHMS[other] if a not in ALGORITHMS[kw["mode"]]]
        kw["algorithm"] = wrong[0] if wrong else "dynamic_programming"
    elif what == 7:
        kw["num_threads"] = [0, -1, 2**31, 10**6, 1.5, "2"][rng.integers(6)]
    elif what == 8:
        kw["work_limit"] = [0, -1, 2**70, 1.5, "5"][rng.integers(5)]
    elif what == 9:
        kw["progress"] = ["yes", 3][rng.integers(2)]
    elif what == 10:
        call.targets = np.zeros(batch + 1)
    elif what == 11:
        call.targets = [np.float64(0.5), np.zeros((2, 2)), "x", np.array([np.nan] * 3)][
            rng.integers(4)]
    elif what == 12:
        call.bases = [np.zeros(4), np.zeros((2, 2, 2)), np.float64(1.0), [[0.5, 0.25], [0.5]],
                      np.array([["a", "b"]]), np.ones((1, 3), complex)][rng.integers(6)]
        call.targets = np.zeros(1 if rng.random() < 0.5 else 2)
    elif what == 13:
        bases = np.zeros((max(batch, 1), width))
        bases.flat[rng.integers(bases.size)] = rng.choice([np.nan, np.inf, -np.inf])
        call.bases = bases
        call.targets = np.zeros(bases.shape[0])
        kw.pop("mask", None)
    elif what == 14:
        shape = (batch, width)
        kw["mask"] = [np.ones((batch, width + 1), bool), np.ones(shape, np.float32),
                      np.full(shape, 2, np.int8)][rng.integers(3)]
        if batch == 0:  # nothing to find out of range in an empty mask
            kw["mask"] = np.ones((batch, width + 1), bool)
    elif what == 15:
        import torch

        call.targets = torch.zeros(batch)
        call.bases = np.zeros((batch, width))
    elif what == 16:
        kw["mode"] = "best"
        kw.pop("k", None)
        kw.pop("max_size", None)
        kw["algorithm"] = "gray_code"
        call.bases = np.zeros((1, 31))
        call.targets = np.zeros(1)
    elif what == 17:
        kw["mode"] = "min_size"
        kw.pop("k", None)
        kw.pop("max_size", None)
        kw.pop("algorithm", None)
        call.bases = np.zeros((2, 65))
        call.targets = np.zeros(2)
    elif what == 18:
        call.bases = np.full((2, 3), 1e308)
        call.targets = np.zeros(2)
        kw.pop("mask", None)
        kw["mode"], kw["eps"] = "best", 0.1
        for name in ("k", "max_size", "algorithm"):
            kw.pop(name, None)
        kw["backend"] = "cpu"
        kw.pop("work_limit", None)
    else:
        call.targets = np.array([1e39])
        call.bases = np.full((1, 3), 0.25, np.float32)
        kw.pop("mask", None)
    call.label = f"malformed#{what}: {call.label}"
    return call


def make_call(seed: int, index: int) -> Call:
    """Call number `index` of `seed` (the same call every time)."""
    rng = np.random.default_rng([seed, index])
    if rng.random() < 0.12:
        return _malformed(rng)
    return _well_formed(rng)


# --------------------------------------------------------------------------------------------
# running and checking


class ContractBreak(AssertionError):
    pass


def check_result(call: Call, result) -> None:
    """Raises ContractBreak unless `result` keeps the contract for `call`."""
    import subsetsum

    targets, bases, mask = call.solved
    kw = call.kwargs
    mode, eps = kw["mode"], float(kw["eps"])
    batch, n = bases.shape
    if len(result) != batch:
        raise ContractBreak(f"{len(result)} results for {batch} problems")
    fields = {name: as_numpy(getattr(result, name)) for name in
              ("sums", "errors", "sizes", "found", "exhausted")}
    for name, dtype in (("sums", np.float64), ("errors", np.float64), ("sizes", np.int32),
                        ("found", np.bool_), ("exhausted", np.bool_)):
        if fields[name].dtype != dtype or fields[name].shape != (batch,):
            raise ContractBreak(f"{name}: dtype {fields[name].dtype} shape {fields[name].shape}")
    if result.algorithm not in subsetsum.algorithm_names():
        raise ContractBreak(f"algorithm {result.algorithm!r}")
    chosen = result.to_mask(n)
    present = np.ones((batch, n), bool) if mask is None else mask
    k = kw.get("k")
    max_size = kw.get("max_size")
    for b in range(batch):
        row_chosen = chosen[b]
        if (row_chosen & ~present[b]).any():
            raise ContractBreak(f"problem {b}: a masked-out element was chosen")
        total = _index_order_sum(bases[b].astype(np.float64), row_chosen)
        z = float(targets[b])
        error = abs(z - total)
        size = int(row_chosen.sum())
        feasible = mode != "fixed_size" or present[b].sum() >= k
        expected_found = bool(feasible and error <= eps)
        got = (fields["sums"][b], fields["errors"][b], int(fields["sizes"][b]),
               bool(fields["found"][b]))
        if got != (total, error, size, expected_found):
            raise ContractBreak(f"problem {b}: sums/errors/sizes/found {got} but the chosen "
                                f"subset gives {(total, error, size, expected_found)}")
        if mode == "fixed_size" and size != (k if feasible else 0):
            raise ContractBreak(f"problem {b}: size {size} for k = {k}")
        if mode == "min_size" and max_size is not None and size > max_size:
            raise ContractBreak(f"problem {b}: size {size} > max_size {max_size}")
        if fields["exhausted"][b] and kw.get("backend") == "numba":
            raise ContractBreak(f"problem {b}: exhausted on the numba backend")
        m = int(present[b].sum())
        if m > BRUTE_LIMIT or b >= BRUTE_ROWS:
            continue
        if fields["exhausted"][b]:
            if "work_limit" not in kw:
                raise ContractBreak(f"problem {b}: {m} elements exhausted the default bound")
            continue
        expected = brute_solve_one(z, bases[b].astype(np.float64), present[b], eps=eps,
                                   mode=mode, max_size=max_size, k=k)
        if result.algorithm == "first_hit":
            if bool(fields["found"][b]) != expected.found:
                raise ContractBreak(f"problem {b}: first_hit found {fields['found'][b]}, "
                                    f"a k-subset within eps exists: {expected.found}")
            continue
        try:
            row = _row(result, b)
            assert_results_equal(row, [expected], exact=True, problems=(
                targets[b:b + 1], bases[b:b + 1], None if mask is None else mask[b:b + 1]))
        except AssertionError as exc:
            raise ContractBreak(f"problem {b}: not the contract's subset\n{exc}") from None


class _Row:
    """One problem of a result, shaped like a result (for assert_results_equal)."""

    def __init__(self, result, b):
        pick = slice(b, b + 1)
        for name in ("subsets", "indices", "sums", "errors", "sizes", "found"):
            value = getattr(result, name)
            setattr(self, name, None if value is None else as_numpy(value)[pick])


def _row(result, b):
    return _Row(result, b)


def run_call(call: Call, recheck_threads: bool = False) -> tuple[str, str]:
    """Runs one call in this process: ("ok" | "break", detail)."""
    import warnings

    import subsetsum

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = subsetsum.solve(call.targets, call.bases, **call.kwargs)
        except (ValueError, TypeError, RuntimeError) as exc:
            message = str(exc)
            if isinstance(exc, RuntimeError) and call.kwargs.get("backend") != "cuda":
                return "break", f"RuntimeError: {message}"
            if not ARGUMENT.match(message):
                return "break", f"{type(exc).__name__} naming no argument: {message}"
            if call.expect == "result":
                return "break", f"{type(exc).__name__} on a well-formed call: {message}"
            return "ok", f"error: {type(exc).__name__}: {message.split(':')[0]}"
        except Exception:  # noqa: BLE001 - every other exception is a finding
            return "break", traceback.format_exc(limit=6)
    if caught:
        return "break", f"warning: {caught[0].category.__name__}: {caught[0].message}"
    if call.expect == "error":
        return "break", "returned a result, an error was due"
    if call.solved is None:
        return "ok", "result"
    try:
        check_result(call, result)
        if recheck_threads and call.kwargs.get("backend") in ("cpu", "auto"):
            again = subsetsum.solve(call.targets, call.bases, **{**call.kwargs, "num_threads": 1})
            assert_results_equal(again, result, exact=True)
            np.testing.assert_array_equal(as_numpy(again.exhausted), as_numpy(result.exhausted))
    except AssertionError as exc:
        return "break", str(exc)
    return "ok", "result"
