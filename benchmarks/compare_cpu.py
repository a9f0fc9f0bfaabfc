"""Side-by-side CPU comparison of subsetsum with the solvers people use instead.

    python benchmarks/compare_cpu.py            # full run (about 15 minutes on 2 cores)
    python benchmarks/compare_cpu.py --quick    # a tenth of the problems, short peer budgets

Writes ``benchmarks/results/solve-cpu.md`` (or ``--output``): one table per scenario, the issue's
targets with the measured figures, the machine and the command line.

Every solver gets the SAME problems (targets and elements i.i.d. Uniform[-1, 1], float32, seeded;
see ``instances.py``). Before anything is timed, subsetsum's results are checked against the numba
reference (``backend="numba"``) on a sample, or where the reference cannot run, against the plain
meet-in-the-middle below; a disagreement is recorded and makes the script exit with status 1.

Solvers:

- ``subsetsum cpu``: the compiled OpenMP core on all cores, and on 1 thread.
- ``numba reference``: ``backend="numba"``, the package's plain exact implementation, on all
  cores and on 1 thread ("per core" ratios compare the two 1-thread rows).
- ``numba MITM``: a plain meet-in-the-middle for ``"best"`` written here in numba (sort both half
  sums, one two-pointer sweep), parallel over problems on all cores.
- ``itertools (published)``: mirrors the search of the published L+1/2L research code: for each
  problem, ``itertools.combinations`` of increasing size, each combination summed with
  ``np.sum(values[np.array(ind)])``, stop at the first within eps (``"min_size"``,
  ``"fixed_size"``), otherwise keep the best. ``itertools (plain sum)`` is the same search
  summing Python floats, a faster pure-Python variant. Sizes 0..max_size as in the contract.
- ``FLSSS`` (PyPI ``flsss``): integer band search; elements and targets scaled by 1e6 and
  rounded, band ``[z - eps, z + eps]``. ``"min_size"``: one call per size 1, 2, ... until one
  returns a subset; ``"fixed_size"``: one call with ``len=k``. It has no objective, so it does not
  run ``"best"``.
- ``OR-Tools CP-SAT`` and ``HiGHS``: the same scaled-integer model (binary x_i, d >= |Z - sum A_i
  x_i| as two linear rows, minimise d; ``sum x_i = k`` for ``"fixed_size"``). ``"best"`` asks for
  the optimum of the scaled model; ``"fixed_size"`` sets the absolute gap to eps so they stop,
  like subsetsum's ``first_hit``, once a subset within eps is proven good enough. One thread each.

The peers solve one problem per call, so they run on the first problems of the batch until
their time budget is spent; their problems/s is that sample's rate (a million problems would
take a million times the mean). Where not even one problem finishes in the budget (itertools for
``"best"`` at large n), the rate is extrapolated from the combinations enumerated per second and
the table says so. Errors and found flags are always recomputed here, in float64, from the
subset each solver returned.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numba  # noqa: E402

import subsetsum  # noqa: E402
from instances import Setting, disagreements, make_problems, recomputed_errors  # noqa: E402
from recording import cpu_model, proc_field  # noqa: E402
from subsetsum import _reference  # noqa: E402
from subsetsum.solve import default_threads  # noqa: E402

# Integer models resolve 1 / SCALE; 1e6 keeps every sum of up to 64 elements far inside int64 and
# float64's exact integer range.
SCALE = 1e6


@dataclass(frozen=True)
class Scenario:
    setting: Setting
    count: int  # problems for the batched solvers (full run; --quick takes a tenth)
    dtype: str = "float32"


SCENARIOS = [
    Scenario(Setting("min_size", 15, max_size=10), 1_000_000),
    Scenario(Setting("best", 15), 200_000),
    Scenario(Setting("best", 20), 50_000),
    Scenario(Setting("best", 24), 20_000),
    Scenario(Setting("best", 32), 2_000),
    Scenario(Setting("fixed_size", 64, k=8), 1_000_000),
]


@dataclass
class Row:
    """One solver's figures on one scenario."""

    solver: str
    threads: int | None
    problems: int = 0
    seconds: float = math.nan
    errors: np.ndarray | None = None
    sizes: np.ndarray | None = None
    found: np.ndarray | None = None
    rate: float | None = None  # problems/s when not problems / seconds (extrapolated)
    notes: list[str] = field(default_factory=list)

    @property
    def problems_per_second(self) -> float:
        if self.rate is not None:
            return self.rate
        return self.problems / self.seconds if self.problems and self.seconds > 0 else math.nan


# --------------------------------------------------------------------------------------------
# subsetsum and the numba baselines (batched)


def time_batched(run: Callable[[int], object], count: int, budget: float, repeats: int):
    """(problems, best seconds, result) of ``run(m)`` on the first m problems.

    ``m`` is ``count`` unless a calibration says that would take longer than the budget; the
    calibration doubles its batch until one call takes 0.1 s, so that fixed per-call costs
    (starting threads) do not pass for per-problem costs. The best of ``repeats`` runs is kept,
    as long as the repeats fit the budget.
    """
    probe = min(count, 8)
    while True:
        start = time.perf_counter()
        run(probe)
        seconds = time.perf_counter() - start
        if seconds >= 0.1 or probe == count:
            break
        probe = min(count, probe * 2)
    per_problem = seconds / probe
    problems = count if per_problem * count <= budget else max(probe, int(budget / per_problem))
    best, result = math.inf, None
    spent = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        result = run(problems)
        seconds = time.perf_counter() - start
        best, spent = min(best, seconds), spent + seconds
        if spent + seconds > budget:
            break
    return problems, best, result


def subsetsum_row(name, targets, bases, setting, threads, backend, count, budget, repeats):
    options = dict(setting.solve_options(), backend=backend, num_threads=threads)
    warm = min(count, 1000)
    subsetsum.solve(targets[:warm], bases[:warm], **options)  # compiles numba, starts threads
    problems, seconds, result = time_batched(
        lambda m: subsetsum.solve(targets[:m], bases[:m], **options), count, budget, repeats
    )
    used = threads or (numba.get_num_threads() if backend == "numba" else default_threads())
    row = Row(name, used, problems, seconds, result.errors, result.sizes, result.found)
    # The reference ignores the algorithm solve() picked: it always enumerates exhaustively.
    row.notes.append("exhaustive enumeration" if backend == "numba" else f"algorithm {result.algorithm}")
    if problems < count:
        row.notes.append(f"first {problems:,} of {count:,} problems (time budget)")
    return row


@numba.njit(parallel=True, cache=False)
def _mitm_best_kernel(targets, bases, out_subsets):
    """Plain meet in the middle for ``"best"``: one problem per prange iteration.

    All sums of each half (doubling: the sums with element i are the earlier sums plus x_i),
    both sorted, then one sweep with a pointer rising through the left sums and one falling
    through the right sums finds the pair closest to the target.
    """
    batch, n = bases.shape
    half = n // 2
    for b in numba.prange(batch):
        x = bases[b].astype(np.float64)
        z = np.float64(targets[b])
        left = np.zeros(1 << half)
        right = np.zeros(1 << (n - half))
        for i in range(half):
            left[1 << i: 2 << i] = left[: 1 << i] + x[i]
        for i in range(n - half):
            right[1 << i: 2 << i] = right[: 1 << i] + x[half + i]
        left_order = np.argsort(left)
        right_order = np.argsort(right)
        i, j = 0, right.size - 1
        best_err, best_i, best_j = np.inf, 0, 0
        while i < left.size and j >= 0:
            s = left[left_order[i]] + right[right_order[j]]
            err = abs(z - s)
            if err < best_err:
                best_err, best_i, best_j = err, i, j
            if s < z:
                i += 1
            else:
                j -= 1
        out_subsets[b] = np.uint64(left_order[best_i]) | (
            np.uint64(right_order[best_j]) << np.uint64(half)
        )


def mitm_best(targets, bases):
    subsets = np.zeros(targets.shape[0], dtype=np.uint64)
    _mitm_best_kernel(targets, bases, subsets)
    return subsets


def mitm_row(targets, bases, setting, count, budget, repeats):
    mitm_best(targets[:4], bases[:4])  # compile
    problems, seconds, subsets = time_batched(
        lambda m: mitm_best(targets[:m], bases[:m]), count, budget, repeats
    )
    errors = recomputed_errors(targets[:problems], bases[:problems], subsets)
    sizes = np.array([bin(int(s)).count("1") for s in subsets], dtype=np.int32)
    row = Row("numba MITM (plain)", numba.get_num_threads(), problems, seconds, errors, sizes,
              errors <= setting.eps)
    if problems < count:
        row.notes.append(f"first {problems:,} of {count:,} problems (time budget)")
    return row


# --------------------------------------------------------------------------------------------
# one-problem-at-a-time peers


class OutOfTime(Exception):
    """The time budget ran out in the middle of a problem."""


def itertools_search(z, values, sizes, eps, stop_within_eps, subset_sum, deadline, counter):
    """The published research code's search over ``combinations(range(n), size)``.

    Returns the chosen indices. ``counter[0]`` counts the combinations summed, so that a problem
    cut off by the deadline still tells the enumeration rate.
    """
    n = len(values)
    best_err, best = math.inf, ()
    for size in sizes:
        for count, ind in enumerate(combinations(range(n), size)):
            if not count & 4095 and time.perf_counter() > deadline:
                raise OutOfTime
            counter[0] += 1
            err = abs(z - subset_sum(ind))
            if err < best_err:
                best_err, best = err, ind
            if stop_within_eps and err <= eps:
                return best
    return best


def run_per_problem(name, solve_one, targets, bases, setting, budget, threads=1):
    """Row of a solver that returns the chosen indices of one problem per call."""
    start = time.perf_counter()
    deadline = start + budget
    chosen_rows, notes = [], {}
    counter = [0]
    try:
        for b in range(targets.shape[0]):
            if time.perf_counter() > deadline:
                break
            chosen_rows.append(solve_one(b, deadline, counter, notes))
    except OutOfTime:
        pass
    seconds = time.perf_counter() - start
    row = Row(name, threads, len(chosen_rows), seconds)
    if chosen_rows:
        m = len(chosen_rows)
        mask = np.zeros((m, setting.n), dtype=bool)
        for b, ind in enumerate(chosen_rows):
            mask[b, list(ind)] = True
        sums = np.where(mask, bases[:m].astype(np.float64), 0.0).sum(axis=1)
        row.errors = np.abs(targets[:m].astype(np.float64) - sums)
        row.sizes = mask.sum(axis=1).astype(np.int32)
        row.found = row.errors <= setting.eps
        if setting.mode == "fixed_size":
            row.found &= row.sizes == setting.k
        row.notes.append(f"sample of {m:,} problems in {seconds:.1f} s")
    elif counter[0]:
        per_problem = combinations_per_problem(setting)
        row.rate = counter[0] / seconds / per_problem
        row.notes.append(
            f"no problem finished in {budget:.0f} s: extrapolated from {counter[0] / seconds:,.0f} "
            f"combinations/s and {per_problem:,} combinations per problem"
        )
    for text, count in notes.items():
        row.notes.append(f"{count} {text}")
    return row


def combinations_per_problem(setting: Setting) -> int:
    """Combinations an exhaustive search sums per problem (``"best"``: every subset)."""
    if setting.mode == "fixed_size":
        return math.comb(setting.n, setting.k)
    return sum(math.comb(setting.n, s) for s in range(search_sizes(setting).stop))


def search_sizes(setting: Setting) -> range:
    if setting.mode == "fixed_size":
        return range(setting.k, setting.k + 1)
    if setting.mode == "min_size":
        return range(0, setting.max_size + 1)
    return range(0, setting.n + 1)


def itertools_rows(targets, bases, setting, budget):
    sizes = search_sizes(setting)
    stop = setting.mode != "best"
    rows = []
    for name, make_sum in (
        ("itertools (published)", lambda v: (lambda ind: np.sum(v[np.array(ind, dtype=int)]))),
        ("itertools (plain sum)", lambda v: (lambda ind: sum(v[i] for i in ind))),
    ):
        published = name.endswith("(published)")

        def solve_one(b, deadline, counter, notes, make_sum=make_sum, published=published):
            values = bases[b].astype(np.float64)
            if not published:
                values = values.tolist()
            return itertools_search(float(targets[b]), values, sizes, setting.eps, stop,
                                    make_sum(values), deadline, counter)

        rows.append(run_per_problem(name, solve_one, targets, bases, setting, budget))
    return rows


def scaled(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64) * SCALE).astype(np.int64)


def flsss_row(targets, bases, setting, budget):
    try:
        import flsss
    except ImportError as exc:
        return Row("FLSSS", None, notes=[f"not run: flsss does not import ({exc})"])
    if setting.mode == "best":
        return Row("FLSSS", None, notes=["not run: FLSSS finds subsets in a band; it has no "
                                          "objective to minimise"])
    eps_units = int(math.floor(setting.eps * SCALE))
    sizes = search_sizes(setting)

    def solve_one(b, deadline, counter, notes):
        values = scaled(bases[b])
        z = int(scaled(targets[b]))
        for size in sizes:
            if size == 0:
                if abs(z) <= eps_units:
                    return ()
                continue
            limit = max(0.01, deadline - time.perf_counter())
            hits = flsss.gen(values, z - eps_units, z + eps_units, len=size, n_solutions=1,
                             time_limit=limit, n_threads=1)
            if hits:
                return tuple(int(i) for i in hits[0])
            if time.perf_counter() > deadline:
                raise OutOfTime
        notes["no subset within eps (counted as the empty subset)"] = (
            notes.get("no subset within eps (counted as the empty subset)", 0) + 1
        )
        return ()

    return run_per_problem("FLSSS", solve_one, targets, bases, setting, budget)


def cpsat_row(targets, bases, setting, budget, per_problem_limit):
    try:
        from ortools.sat.python import cp_model
    except ImportError as exc:
        return Row("OR-Tools CP-SAT", None, notes=[f"not run: ortools does not import ({exc})"])
    if setting.mode == "min_size":
        return Row("OR-Tools CP-SAT", None, notes=["not run: compared on best and fixed_size"])
    n = setting.n

    def solve_one(b, deadline, counter, notes):
        values = scaled(bases[b]).tolist()
        z = int(scaled(targets[b]))
        model = cp_model.CpModel()
        x = [model.new_bool_var(f"x{i}") for i in range(n)]
        total = cp_model.LinearExpr.weighted_sum(x, values)
        bound = abs(z) + sum(abs(v) for v in values)
        d = model.new_int_var(0, bound, "d")
        model.add(total - z <= d)
        model.add(z - total <= d)
        if setting.mode == "fixed_size":
            model.add(sum(x) == setting.k)
        model.minimize(d)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(
            0.01, min(per_problem_limit, deadline - time.perf_counter()))
        if setting.mode == "fixed_size":
            solver.parameters.absolute_gap_limit = setting.eps * SCALE
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise OutOfTime
        if status != cp_model.OPTIMAL and time.perf_counter() >= deadline:
            raise OutOfTime  # cut short by the sample's budget, not by its own limit
        if status == cp_model.FEASIBLE and setting.mode == "best":
            notes["stopped at the time limit, not proven optimal"] = (
                notes.get("stopped at the time limit, not proven optimal", 0) + 1)
        return tuple(i for i in range(n) if solver.boolean_value(x[i]))

    return run_per_problem("OR-Tools CP-SAT", solve_one, targets, bases, setting, budget)


def highs_row(targets, bases, setting, budget, per_problem_limit):
    try:
        import highspy
    except ImportError as exc:
        return Row("HiGHS", None, notes=[f"not run: highspy does not import ({exc})"])
    if setting.mode == "min_size":
        return Row("HiGHS", None, notes=["not run: compared on best and fixed_size"])
    n = setting.n
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", 0.0)
    # The scaled objective is an integer at every vertex, so a gap below 1 proves the optimum.
    gap = setting.eps * SCALE if setting.mode == "fixed_size" else 0.999
    highs.setOptionValue("mip_abs_gap", gap)
    inf = highspy.kHighsInf
    fixed = setting.mode == "fixed_size"

    def solve_one(b, deadline, counter, notes):
        values = scaled(bases[b]).astype(np.float64)
        z = float(scaled(targets[b]))
        lp = highspy.HighsLp()
        lp.num_col_ = n + 1
        lp.num_row_ = 3 if fixed else 2
        lp.col_cost_ = np.r_[np.zeros(n), 1.0]
        lp.col_lower_ = np.zeros(n + 1)
        lp.col_upper_ = np.r_[np.ones(n), inf]
        # rows: sum A x - d <= Z;  sum A x + d >= Z;  (fixed size) sum x = k
        lp.row_lower_ = np.array([-inf, z] + ([setting.k] if fixed else []), dtype=np.float64)
        lp.row_upper_ = np.array([z, inf] + ([setting.k] if fixed else []), dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        columns = np.arange(n + 1, dtype=np.int32)
        index = [columns, columns] + ([columns[:n]] if fixed else [])
        value = [np.r_[values, -1.0], np.r_[values, 1.0]] + ([np.ones(n)] if fixed else [])
        lp.a_matrix_.start_ = np.cumsum([0] + [len(i) for i in index]).astype(np.int32)
        lp.a_matrix_.index_ = np.concatenate(index).astype(np.int32)
        lp.a_matrix_.value_ = np.concatenate(value)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous]
        highs.setOptionValue(
            "time_limit", max(0.01, min(per_problem_limit, deadline - time.perf_counter())))
        highs.passModel(lp)
        highs.run()
        status = highs.getModelStatus()
        solution = highs.getSolution()
        if not solution.value_valid:
            raise OutOfTime
        if status != highspy.HighsModelStatus.kOptimal and time.perf_counter() >= deadline:
            raise OutOfTime  # cut short by the sample's budget, not by its own limit
        if status != highspy.HighsModelStatus.kOptimal and setting.mode == "best":
            notes["stopped at the time limit, not proven optimal"] = (
                notes.get("stopped at the time limit, not proven optimal", 0) + 1)
        col = np.asarray(solution.col_value[:n])
        return tuple(int(i) for i in np.nonzero(col > 0.5)[0])

    return run_per_problem("HiGHS", solve_one, targets, bases, setting, budget)


def run_isolated(function, *args):
    """``function(*args)`` in a freshly spawned Python process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


# --------------------------------------------------------------------------------------------
# checks, the run, the report


def check_subsetsum(targets, bases, setting, sample):
    """Messages describing how subsetsum's cpu backend disagrees with a reference on a sample."""
    t, x = targets[:sample], bases[:sample]
    result = subsetsum.solve(t, x, **setting.solve_options())
    try:
        _reference.check_affordable(setting.mode, setting.n, setting.max_size or setting.n,
                                    setting.k or 0)
    except ValueError:
        if setting.mode == "best":
            errors = recomputed_errors(t, x, mitm_best(t, x))
            bad = int(np.sum(~np.isclose(result.errors, errors, rtol=0, atol=1e-9)))
            return "numba MITM", [f"{bad} errors differ from the MITM optimum"] if bad else []
        issues = []
        if not np.all(np.asarray(result.sizes) == setting.k):
            issues.append("some subsets do not have k elements")
        own = recomputed_errors(t, x, np.asarray(result.subsets))
        if not np.allclose(own, result.errors, rtol=0, atol=1e-9):
            issues.append("errors differ from the errors of the chosen subsets")
        if not np.array_equal(result.found, own <= setting.eps):
            issues.append("found flags differ from error <= eps")
        return "validity (no affordable reference)", issues
    reference = subsetsum.solve(t, x, backend="numba", **setting.solve_options())
    return "numba reference", disagreements(result, reference, setting, t, x)


def run_scenario(scenario: Scenario, args) -> tuple[list[Row], str, list[str]]:
    setting = scenario.setting
    count = scenario.count // 10 if args.quick else scenario.count
    targets, bases = make_problems(setting, count, scenario.dtype, args.seed)
    log(f"\n== {setting.label} {scenario.dtype}: {count:,} problems")

    # The exhaustive reference needs ~2^n steps per problem: keep its check to a few seconds.
    check_sample = min(count, 4096 if setting.n <= 16 else 256 if setting.n <= 20 else 48)
    checked_against, issues = check_subsetsum(targets, bases, setting, check_sample)
    log(f"   check against {checked_against} on {check_sample} problems: "
        f"{'agree' if not issues else '; '.join(issues)}")

    budget, repeats = (2.0, 1) if args.quick else (10.0, 3)
    peer_budget = 3.0 if args.quick else 15.0
    rows = []

    def add(row):
        rows.append(row)
        rate = row.problems_per_second
        shown = "–" if math.isnan(rate) else f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}"
        log(f"   {row.solver:<28} {shown:>14} problems/s  {'; '.join(row.notes)}")

    add(subsetsum_row("subsetsum cpu", targets, bases, setting, None, "cpu", count, budget, repeats))
    add(subsetsum_row("subsetsum cpu, 1 thread", targets, bases, setting, 1, "cpu", count, budget,
                      repeats))
    try:
        _reference.check_affordable(setting.mode, setting.n, setting.max_size or setting.n,
                                    setting.k or 0)
        add(subsetsum_row("numba reference", targets, bases, setting, None, "numba", count,
                          budget, repeats))
        add(subsetsum_row("numba reference, 1 thread", targets, bases, setting, 1, "numba",
                          count, budget, repeats))
    except ValueError as exc:
        add(Row("numba reference", None, notes=[f"not run: {exc}"]))
    if setting.mode == "best":
        add(mitm_row(targets, bases, setting, count, budget, repeats))
    for row in itertools_rows(targets, bases, setting, peer_budget):
        add(row)
    add(flsss_row(targets, bases, setting, peer_budget))
    per_problem_limit = peer_budget / 3
    add(cpsat_row(targets, bases, setting, peer_budget, per_problem_limit))
    # highspy and ortools each load their own HiGHS library with clashing symbols, so whichever
    # is imported second fails: HiGHS runs in a fresh process (started before its clock starts).
    prefix = min(count, 50_000)
    add(run_isolated(highs_row, targets[:prefix], bases[:prefix], setting, peer_budget,
                     per_problem_limit))
    return rows, checked_against, issues


def find(rows: list[Row], solver: str) -> Row | None:
    for row in rows:
        if row.solver == solver and not math.isnan(row.problems_per_second):
            return row
    return None


def numba_baseline(rows: list[Row]) -> Row | None:
    """The numba reference where it runs, else the plain MITM (``"best"`` at n > 30)."""
    return find(rows, "numba reference") or find(rows, "numba MITM (plain)")


def ratio(row: Row, baseline: Row | None) -> str:
    if baseline is None or math.isnan(row.problems_per_second):
        return "–"
    value = row.problems_per_second / baseline.problems_per_second
    return f"{value:,.0f}×" if value >= 100 else f"{value:.3g}×"



def quality(row: Row) -> tuple[str, str, str]:
    if row.found is None:
        return "–", "–", "–"
    return (f"{np.mean(row.found):.2%}", f"{np.mean(row.errors):.2e}",
            f"{np.mean(row.sizes):.2f}")


def scenario_table(rows: list[Row]) -> list[str]:
    base_it = find(rows, "itertools (published)")
    base_nb = numba_baseline(rows)
    lines = [
        "| solver | threads | problems timed | problems/s | × itertools (published) "
        f"| × {base_nb.solver if base_nb else 'numba'} | found | mean error | mean size | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        rate = row.problems_per_second
        rate_text = "–" if math.isnan(rate) else (f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}")
        if row.rate is not None:
            rate_text += " (extrapolated)"
        found, error, size = quality(row)
        lines.append(
            f"| {row.solver} | {row.threads or '–'} | {row.problems:,} | {rate_text} "
            f"| {ratio(row, base_it)} | {ratio(row, base_nb)} | {found} | {error} | {size} "
            f"| {'; '.join(row.notes)} |"
        )
    return lines


def targets_table(results: dict[str, list[Row]]) -> list[str]:
    """The issue's targets next to the measured figures (2-core machine)."""
    lines = ["| scenario | target | measured | met |", "|---|---|---:|:---:|"]

    def rate(label, solver):
        row = find(results.get(label, []), solver)
        return row.problems_per_second if row else math.nan

    def line(label, text, value, threshold, fmt):
        met = "–" if math.isnan(value) else ("yes" if value >= threshold else "no")
        shown = "–" if math.isnan(value) else fmt.format(value)
        lines.append(f"| {label} | {text} | {shown} | {met} |")

    label = Setting("min_size", 15, max_size=10).label
    if label in results:
        cpu = rate(label, "subsetsum cpu")
        line(label, "≥ 4,000,000 problems/s", cpu, 4e6, "{:,.0f}")
        line(label, "≥ 1000× itertools (published)", cpu / rate(label, "itertools (published)"),
             1000, "{:,.0f}×")
        line(label, "≥ 2× numba reference per core (1 thread each)",
             rate(label, "subsetsum cpu, 1 thread") / rate(label, "numba reference, 1 thread"),
             2, "{:.2f}×")
        line(label, "≥ 2× numba reference (all cores each)",
             cpu / rate(label, "numba reference"), 2, "{:.2f}×")
    label = Setting("best", 24).label
    if label in results:
        line(label, "≥ 100,000 problems/s", rate(label, "subsetsum cpu"), 1e5, "{:,.0f}")
    label = Setting("best", 32).label
    if label in results:
        line(label, "≥ 5,000 problems/s", rate(label, "subsetsum cpu"), 5e3, "{:,.0f}")
        line(label, "≥ 10× numba MITM (plain)",
             rate(label, "subsetsum cpu") / rate(label, "numba MITM (plain)"), 10, "{:.1f}×")
    label = Setting("fixed_size", 64, k=8).label
    if label in results:
        line(label, "≥ 500,000 problems/s", rate(label, "subsetsum cpu"), 5e5, "{:,.0f}")
        row = find(results[label], "subsetsum cpu")
        found = float(np.mean(row.found)) if row is not None else math.nan
        line(label, "≥ 99% found", found, 0.99, "{:.2%}")
    return lines


def machine_description() -> list[str]:
    memory = proc_field("/proc/meminfo", "MemTotal")
    memory_gib = f"{int(memory.split()[0]) / 2**20:.1f} GiB" if memory != "unknown" else memory
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = [f"numpy {np.__version__}", f"numba {numba.__version__}",
                f"subsetsum {subsetsum.__version__}"]
    for module, label in (("flsss", "flsss"), ("ortools", "ortools"), ("highspy", "highspy")):
        try:
            from importlib.metadata import version

            versions.append(f"{label} {version(module)}")
        except Exception:
            versions.append(f"{label} not installed")
    options = subsetsum.compile_options()
    return [
        f"- CPU: {cpu_model()}, {cores} cores usable "
        f"(os.cpu_count() = {os.cpu_count()}); subsetsum OpenMP: {options['openmp']}, "
        f"{options['cpu_threads']} threads",
        f"- RAM: {memory_gib}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
    ]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the problems and short time budgets (about 3 minutes)")
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "solve-cpu.md",
                        help="the markdown file to write (default: %(default)s)")
    parser.add_argument("--scenario", action="append", default=None, metavar="LABEL",
                        help="run only scenarios whose label contains LABEL (repeatable), "
                             "e.g. 'best n=32'")
    parser.add_argument("--seed", type=int, default=0, help="seed of the problems (default: 0)")
    args = parser.parse_args(argv)

    scenarios = [s for s in SCENARIOS
                 if not args.scenario or any(p in s.setting.label for p in args.scenario)]
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    results, sections, failures = {}, [], []
    for scenario in scenarios:
        rows, checked_against, issues = run_scenario(scenario, args)
        label = scenario.setting.label
        results[label] = rows
        count = scenario.count // 10 if args.quick else scenario.count
        check = "agree" if not issues else "DISAGREE: " + "; ".join(issues)
        if issues:
            failures.append(f"{label}: {check}")
        sections += [
            f"### {label}, {scenario.dtype} Uniform[-1, 1], {count:,} problems", "",
            f"Check before timing, subsetsum cpu against {checked_against}: {check}.", "",
            *scenario_table(rows), "",
        ]
    load_after = os.getloadavg()

    command = "python benchmarks/compare_cpu.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    lines = [
        "# subsetsum on the CPU, side by side",
        "",
        f"Written by `{command}` on {started:%Y-%m-%d %H:%M %Z}"
        + (" (--quick: a tenth of the problems, short peer budgets)." if args.quick else "."),
        "How each solver is run and what the columns mean: the docstring of "
        "`benchmarks/compare_cpu.py` and `benchmarks/README.md`.",
        "",
        "## Machine",
        "",
        *machine_description(),
        f"- Load average (1 min) at the start: {load_before[0]:.2f}, at the end: "
        f"{load_after[0]:.2f} (other work on the machine makes the figures noisy)",
        "",
        "## Targets",
        "",
        *targets_table(results),
        "",
        "## Scenarios",
        "",
        "Peers that solve one problem per call ran on the first problems of each batch for a "
        "fixed time budget; their problems/s is that sample's rate. \"× numba\" compares with the "
        "numba reference where it can run, otherwise with the plain numba MITM.",
        "",
        *sections,
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    log(f"\nwrote {args.output}")
    for failure in failures:
        log(f"check failed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
