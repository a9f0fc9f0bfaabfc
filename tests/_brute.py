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
