"""Brute-force subset sum with itertools and numpy: the tests' independent third opinion.

Shares no code with the package. Every candidate subset is listed with
``itertools.combinations``; its sum is accumulated in float64 column by column in increasing index
order (exactly what the solver contract prescribes), and the winner is picked by the contract's
order: (error, size, set as a big integer with bit i for element i). Only for tiny problems.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BruteSolution:
    """One problem's answer.

    indices: the chosen element indices, ascending (empty for infeasible fixed-size problems);
    bits: Python int with bit i set for each chosen i; total, error: float64; size: int;
    found: bool.
    """

    indices: tuple
    bits: int
    total: float
    error: float
    size: int
    found: bool


def _best_of_size(z: float, values: np.ndarray, present: list, size: int):
    """(error, bits, indices) of the best subset of exactly `size` present elements."""
    listed = list(itertools.combinations(present, size))
    combos = np.array(listed, dtype=np.int64).reshape(len(listed), size)
    sums = np.zeros(combos.shape[0], dtype=np.float64)
    for column in range(size):
        sums = sums + values[combos[:, column]]
    errors = np.abs(z - sums)
    smallest = errors.min()
    tied = combos[errors == smallest]
    keyed = [(sum(1 << int(i) for i in row), tuple(int(i) for i in row)) for row in tied]
    bits, indices = min(keyed)
    return float(smallest), bits, indices


def _solution(z: float, values: np.ndarray, indices: tuple, eps: float, feasible=True):
    total = 0.0
    for i in indices:
        total += float(values[i])
    error = abs(z - total)
    return BruteSolution(
        indices=indices,
        bits=sum(1 << i for i in indices),
        total=total,
        error=error,
        size=len(indices),
        found=bool(feasible and error <= eps),
    )


def brute_solve_one(target, row, mask_row, *, eps, mode, max_size=None, k=None) -> BruteSolution:
    """Solves one problem by listing every candidate.

    target: scalar; row: float array (n,); mask_row: bool array (n,) or None; mode, max_size, k
    as in :func:`subsetsum.solve` (max_size defaults to n).
    """
    values = np.asarray(row).astype(np.float64)
    z = float(np.float64(target))
    n = values.shape[0]
    present = [i for i in range(n) if mask_row is None or bool(mask_row[i])]
    m = len(present)

    if mode == "fixed_size":
        if k > m:
            return BruteSolution((), 0, 0.0, abs(z), 0, False)
        _, _, indices = _best_of_size(z, values, present, k)
        return _solution(z, values, indices, eps)

    if mode == "best":
        sizes = range(m + 1)
    elif mode == "min_size":
        sizes = range(min(n if max_size is None else max_size, m) + 1)
    else:
        raise ValueError(f"mode: unknown mode {mode!r}")

    per_size = []
    for size in sizes:
        error, bits, indices = _best_of_size(z, values, present, size)
        if mode == "min_size" and error <= eps:
            return _solution(z, values, indices, eps)
        per_size.append((error, size, bits, indices))
    _, _, _, indices = min(per_size)
    return _solution(z, values, indices, eps)


def brute_solve(targets, bases, mask=None, *, eps, mode, max_size=None, k=None) -> list:
    """brute_solve_one for every row: targets (B,), bases (B, n), mask (B, n) or None."""
    return [
        brute_solve_one(
            targets[b], bases[b], None if mask is None else mask[b],
            eps=eps, mode=mode, max_size=max_size, k=k,
        )
        for b in range(len(targets))
    ]


# --------------------------------------------------------------------------------------------
# random instances shared by the test files

GRID = np.array([-1.0, -0.5, -0.25, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0])


def random_problems(rng: np.random.Generator, batch: int, n: int, dtype, *, masked: bool,
                    mask_density: float = 0.7):
    """(targets (B,), bases (B, n), mask (B, n) bool or None) mixing three kinds of rows.

    A third each: uniform values and targets; values from a small dyadic grid with zeros and
    duplicates and grid targets (many exact ties, errors of exactly 0); uniform values with the
    target the sum of a random subset, sometimes nudged (exact and near hits). Arrays are of
    ``dtype`` (float32 or float64).
    """
    bases = rng.uniform(-1.0, 1.0, size=(batch, n))
    targets = rng.uniform(-2.0, 2.0, size=batch)
    kinds = rng.integers(0, 3, size=batch)
    grid_rows = kinds == 1
    bases[grid_rows] = rng.choice(GRID, size=(int(grid_rows.sum()), n))
    targets[grid_rows] = rng.choice(GRID * 2.0, size=int(grid_rows.sum()))
    hit_rows = np.flatnonzero(kinds == 2)
    bases = bases.astype(dtype)
    for b in hit_rows:
        chosen = rng.random(n) < 0.5
        nudge = rng.choice([0.0, 0.0, 1e-3, -0.02])
        targets[b] = float(bases[b][chosen].astype(np.float64).sum()) + nudge
    targets = targets.astype(dtype)
    mask = rng.random((batch, n)) < mask_density if masked else None
    return targets, bases, mask


# --------------------------------------------------------------------------------------------
# comparing results


def as_numpy(a):
    """numpy view of a result field (numpy array, torch tensor or None)."""
    if a is None:
        return None
    if type(a).__module__.split(".")[0] == "torch":
        return a.detach().cpu().numpy()
    return np.asarray(a)


def _fields(result) -> dict:
    """A SolveResult (or list of BruteSolution) as numpy arrays keyed by field name."""
    if isinstance(result, list):
        rows = [e.indices for e in result]
        width = max((len(r) for r in rows), default=0)
        return {
            "bits": [e.bits for e in result],
            "indices": rows,
            "sums": np.array([e.total for e in result], dtype=np.float64),
            "errors": np.array([e.error for e in result], dtype=np.float64),
            "sizes": np.array([e.size for e in result], dtype=np.int64),
            "found": np.array([e.found for e in result], dtype=bool),
            "width": width,
        }
    subsets, indices = as_numpy(result.subsets), as_numpy(result.indices)
    if subsets is not None:
        bits = [int(v) for v in subsets]
        rows = [tuple(i for i in range(64) if v >> i & 1) for v in bits]
    else:
        rows = [tuple(int(i) for i in r if i >= 0) for r in indices]
        bits = [sum(1 << i for i in r) for r in rows]
    return {
        "bits": bits,
        "indices": rows,
        "sums": as_numpy(result.sums).astype(np.float64),
        "errors": as_numpy(result.errors).astype(np.float64),
        "sizes": as_numpy(result.sizes).astype(np.int64),
        "found": as_numpy(result.found).astype(bool),
    }


def assert_results_equal(actual, expected, *, exact: bool, problems=None, context: str = ""):
    """Two results agree (each a SolveResult or a list of BruteSolution).

    Sizes and found flags always; with ``exact`` (float32 inputs) also the chosen subsets, sums
    and errors bit for bit, else (float64) errors within float64 rounding. ``problems``:
    optional (targets, bases, mask) printed for the first problem that differs.
    """
    a, e = _fields(actual), _fields(expected)
    differs = (a["sizes"] != e["sizes"]) | (a["found"] != e["found"])
    if exact:
        differs |= np.array([x != y for x, y in zip(a["bits"], e["bits"])], dtype=bool)
        differs |= (a["sums"] != e["sums"]) | (a["errors"] != e["errors"])
    else:
        differs |= ~np.isclose(a["errors"], e["errors"], rtol=1e-12, atol=1e-13)
    bad = np.flatnonzero(differs)
    if bad.size == 0:
        return
    b = int(bad[0])
    lines = [f"{context}: {bad.size} of {differs.size} problems differ; first is problem {b}"]
    if problems is not None:
        targets, bases, mask = problems
        lines.append(f"  target = {as_numpy(targets)[b]!r}")
        lines.append(f"  bases  = {as_numpy(bases)[b].tolist()!r} ({as_numpy(bases).dtype})")
        if mask is not None:
            lines.append(f"  mask   = {as_numpy(mask)[b].astype(int).tolist()!r}")
    for label, f in (("actual", a), ("expected", e)):
        lines.append(
            f"  {label}: indices {f['indices'][b]} sum {f['sums'][b]!r} error {f['errors'][b]!r} "
            f"size {f['sizes'][b]} found {f['found'][b]}"
        )
    raise AssertionError("\n".join(lines))


def assert_algorithms_match_brute(targets, bases, mask, *, eps, mode, options, algorithms, context=""):
    """Every cpu algorithm of ``algorithms`` and the numba reference return the brute force's
    subsets exactly (none exhausted); for fixed_size, ``first_hit`` agrees on ``found``."""
    import subsetsum

    expected = brute_solve(targets, bases, mask, eps=eps, mode=mode, **options)
    runs = [("cpu", a) for a in algorithms] + [("numba", "auto")]
    for backend, algorithm in runs:
        result = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode=mode, backend=backend,
                                 algorithm=algorithm, **options)
        assert not result.exhausted.any()
        assert_results_equal(result, expected, exact=True, problems=(targets, bases, mask),
                             context=f"{backend} {algorithm} {mode} eps={eps} {options} {context}")
    if mode == "fixed_size":
        hit = subsetsum.solve(targets, bases, mask=mask, eps=eps, mode=mode, algorithm="first_hit", **options)
        np.testing.assert_array_equal(hit.found, [e.found for e in expected])
