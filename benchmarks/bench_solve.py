"""pytest-benchmark suite: ``solve()`` per mode, n and dtype, compiled cpu core against numba.

    pytest benchmarks/bench_solve.py                     # all settings (about 5 minutes)
    pytest benchmarks/bench_solve.py -k "min_size"       # one mode
    pytest benchmarks/bench_solve.py --benchmark-json=out.json

Not collected by a plain ``pytest`` (``testpaths`` is ``tests/`` and this file is not named
``test_*``); run it by path. Each setting is timed on the cpu backend (all cores) and on the
numba reference (``backend="numba"``, all cores), in float32 and float64, on the same seeded
problems (``instances.py``). Every case first checks a sample of the problems against the numba
reference, then times.

The numba reference enumerates exhaustively, so it solves fewer problems per round than the cpu
backend: pytest-benchmark's tables (one group per setting, dtype and backend) give seconds per
round, and the summary at the end gives what compares, problems/s of both backends and their
ratio, per setting and dtype.
"""

from __future__ import annotations

import pytest

import subsetsum
from subsetsum import _reference

from instances import Setting, disagreements, make_problems, recomputed_errors

# (setting, problems per round on the cpu backend, problems per round on the numba reference)
CASES = [
    (Setting("min_size", 15, max_size=10), 200_000, 20_000),
    (Setting("min_size", 20, max_size=10), 50_000, 2_000),
    (Setting("best", 15), 50_000, 2_000),
    (Setting("best", 20), 5_000, 100),
    (Setting("best", 24), 2_000, 8),
    (Setting("best", 32), 200, 0),
    (Setting("fixed_size", 20, k=5), 50_000, 2_000),
    (Setting("fixed_size", 64, k=8), 200_000, 0),
]
DTYPES = ("float32", "float64")
BACKENDS = ("cpu", "numba")
CHECK_SAMPLE = 32
SEED = 0


def case_id(case) -> str:
    setting = case[0]
    extra = {"min_size": f"-max{setting.max_size}", "fixed_size": f"-k{setting.k}"}
    return f"{setting.mode}-n{setting.n}{extra.get(setting.mode, '')}"


def reference_affordable(setting: Setting) -> bool:
    try:
        _reference.check_affordable(setting.mode, setting.n, setting.max_size or setting.n,
                                    setting.k or 0)
    except ValueError:
        return False
    return True


def check_sample(setting: Setting, targets, bases) -> None:
    """Fails the case when the cpu backend disagrees with the numba reference on a sample."""
    t, x = targets[:CHECK_SAMPLE], bases[:CHECK_SAMPLE]
    result = subsetsum.solve(t, x, **setting.solve_options())
    if reference_affordable(setting):
        reference = subsetsum.solve(t, x, backend="numba", **setting.solve_options())
        assert disagreements(result, reference, setting, t, x) == []
    else:
        # No exhaustive oracle at this size: the answer must at least be what it claims.
        own = recomputed_errors(t, x, result.subsets)
        assert (abs(own - result.errors) <= 1e-9).all()
        assert ((own <= setting.eps) == result.found).all()
        if setting.mode == "fixed_size":
            assert (result.sizes == setting.k).all()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_solve(benchmark, record_throughput, case, dtype, backend):
    setting, cpu_count, numba_count = case
    if backend == "numba" and not reference_affordable(setting):
        pytest.skip(f"the numba reference cannot enumerate {setting.label} exhaustively")
    count = cpu_count if backend == "cpu" else numba_count
    targets, bases = make_problems(setting, count, dtype, SEED)
    check_sample(setting, targets, bases)

    options = dict(setting.solve_options(), backend=backend)
    subsetsum.solve(targets[:8], bases[:8], **options)  # compile and start threads untimed
    # Round times of the two backends cover different problem counts, so each gets its own
    # group; the session summary puts their problems/s side by side.
    benchmark.group = f"{setting.label} {dtype} {backend}: {count:,} problems per round"
    benchmark.extra_info["problems"] = count
    result = benchmark.pedantic(
        subsetsum.solve, args=(targets, bases), kwargs=options, rounds=3, iterations=1,
    )
    rate = count / benchmark.stats.stats.min
    benchmark.extra_info["problems_per_second"] = rate
    benchmark.extra_info["algorithm"] = result.algorithm
    benchmark.extra_info["found"] = float(result.found.mean())
    record_throughput(f"{setting.label} {dtype}", backend, rate)
