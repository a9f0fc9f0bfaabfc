"""Problem instances and result checks shared by the CPU benchmarks.

Both ``bench_solve.py`` and ``compare_cpu.py`` draw their problems here, with the generator that
``subsetsum throughput`` uses, so the three report figures for the same distribution:
targets and elements i.i.d. Uniform[-1, 1], seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from subsetsum._throughput import random_problems


@dataclass(frozen=True)
class Setting:
    """One batch of problems: the ``solve()`` keyword arguments and how many problems."""

    mode: str
    n: int
    eps: float = 0.01
    max_size: int | None = None
    k: int | None = None

    @property
    def label(self) -> str:
        extra = {"min_size": f" max_size={self.max_size}", "fixed_size": f" k={self.k}"}
        return f"{self.mode} n={self.n}{extra.get(self.mode, '')} eps={self.eps:g}"

    def solve_options(self) -> dict:
        return dict(eps=self.eps, mode=self.mode, max_size=self.max_size, k=self.k)


def make_problems(setting: Setting, count: int, dtype, seed: int):
    """``(targets, bases)`` for ``count`` problems of ``setting``; the seed names the stream.

    The generator is keyed on (seed, n) so that settings of different sizes draw independent
    problems while one setting always draws the same ones.
    """
    rng = np.random.default_rng([seed, setting.n])
    return random_problems(count, setting.n, dtype, rng)


def recomputed_errors(targets, bases, subsets) -> np.ndarray:
    """``|target - sum of the chosen elements|`` in float64, from the subset bit patterns."""
    n = bases.shape[1]
    bits = (subsets[:, None] >> np.arange(n, dtype=np.uint64)) & np.uint64(1)
    chosen = bits.astype(bool)
    sums = np.where(chosen, bases.astype(np.float64), 0.0).sum(axis=1)
    return np.abs(targets.astype(np.float64) - sums)


def disagreements(result, reference, setting: Setting, targets, bases) -> list[str]:
    """What differs between a result and the reference on the same problems (empty: agree).

    Every mode is deterministic, so the found flags and sizes must match exactly and errors to
    rounding; ``"best"`` may break exact ties differently in float64, so there only the error is
    compared; ``"first_hit"`` stops at any subset within eps, so there the errors are not compared
    (the found flags still are). Each result's errors must also be what its own subsets give.
    """
    problems = []
    atol = 1e-9
    for name, res in (("result", result), ("reference", reference)):
        if res.subsets is not None:
            own = recomputed_errors(targets, bases, np.asarray(res.subsets))
            bad = int(np.sum(~np.isclose(own, np.asarray(res.errors), rtol=0, atol=atol)))
            if bad:
                problems.append(f"{bad} {name} errors differ from the errors of its own subsets")
    found_diff = int(np.sum(np.asarray(result.found) != np.asarray(reference.found)))
    if found_diff:
        problems.append(f"{found_diff} found flags differ")
    err_diff = int(np.sum(~np.isclose(result.errors, reference.errors, rtol=0, atol=atol)))
    if err_diff and result.algorithm != "first_hit":
        problems.append(f"{err_diff} errors differ by more than {atol:g}")
    if setting.mode != "best":
        size_diff = int(np.sum(np.asarray(result.sizes) != np.asarray(reference.sizes)))
        if size_diff:
            problems.append(f"{size_diff} sizes differ")
    return problems
