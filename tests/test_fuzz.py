"""Fuzzing at CI size: hypothesis-made adversarial problems checked bit for bit against the brute
force, and a share of the subprocess-isolated random-call runner (tests/fuzz/).

On demand, the same runner at 10^5 calls (about 15 minutes on 2 cores):

    python -m tests.fuzz.run --calls 100000
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _brute import assert_algorithms_match_brute
from fuzz import run as fuzz_run

FUZZ_SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ALGORITHMS = {
    "best": ["auto", "gray_code", "meet_in_the_middle"],
    "min_size": ["auto", "gray_code", "increasing_size"],
    "fixed_size": ["auto", "gray_code", "exact_combinations"],
}

# float64 values whose sums round and tie: repeated decimals, cancelling magnitudes, integers
TRICKY = st.one_of(
    st.sampled_from([0.1, 0.2, 0.3, 0.7, 1 / 3, 1.0, -1.0, 0.0, 0.0, 3.0, 0.5, -0.25]),
    st.sampled_from([1e16, -1e16, 2.0**53, 1e-8, -1e-8, 2.0**-30, 1e300, -1e300]),
    st.integers(-4, 4).map(float),
    st.floats(-1.0, 1.0).map(lambda v: v * 1e-12),
    st.floats(-2.0, 2.0, allow_subnormal=False),
)


@st.composite
def problems(draw):
    """(targets (B,), bases (B, n) float64, mask or None, mode, eps, options)."""
    n = draw(st.integers(1, 9))
    batch = draw(st.integers(1, 4))
    bases = np.array(draw(st.lists(st.lists(TRICKY, min_size=n, max_size=n), min_size=batch,
                                   max_size=batch)))
    eps = draw(st.sampled_from([1e-15, 1e-9, 0.01, 0.5, 2.0]))
    targets = []
    for b in range(batch):
        chosen = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        total = 0.0
        for i in np.flatnonzero(chosen):
            total += float(bases[b, i])
        how = draw(st.sampled_from(["at", "up", "down", "plus_eps", "minus_eps", "free"]))
        targets.append({
            "at": total, "up": np.nextafter(total, np.inf), "down": np.nextafter(total, -np.inf),
            "plus_eps": total + eps, "minus_eps": total - eps,
            "free": draw(st.sampled_from([0.0, 1.7, -2.27, 0.3000000000000001, 1e20, 1e16])),
        }[how])
    mask = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.lists(st.booleans(), min_size=n, max_size=n),
                                      min_size=batch, max_size=batch)))
    mode = draw(st.sampled_from(["best", "min_size", "fixed_size"]))
    options = {}
    if mode == "min_size" and draw(st.booleans()):
        options["max_size"] = draw(st.integers(0, n))
    if mode == "fixed_size":
        options["k"] = draw(st.integers(0, n))
    return np.array(targets), bases, mask, mode, eps, options


@FUZZ_SETTINGS
@given(problems())
def test_every_algorithm_returns_the_brute_force_subset(problem):
    targets, bases, mask, mode, eps, options = problem
    magnitude = np.abs(targets) + np.abs(np.where(mask if mask is not None else True, bases,
                                                  0)).sum(axis=1)
    if not (magnitude < 2.0**1021).all():
        return  # covered by the overflow tests: a clear ValueError
    assert_algorithms_match_brute(targets, bases, mask, eps=eps, mode=mode, options=options,
                                  algorithms=ALGORITHMS[mode])


def test_random_calls_keep_the_contract():
    # A CI-sized share of `python -m tests.fuzz.run` (every call in a worker subprocess).
    summary = fuzz_run.run(300, seed=20240611, workers=2, watchdog=20.0)
    assert summary.calls == 300
    assert not summary.findings, summary.report()
    assert summary.results > 150 and summary.errors > 10


def test_runner_reports_crashes_and_overruns():
    # Self-test mode: call 1 kills its worker with SIGSEGV, call 2 sleeps past the watchdog.
    summary = fuzz_run.run(4, seed=0, workers=1, watchdog=3.0, self_test=True)
    kinds = {f.index: f.kind for f in summary.findings}
    assert kinds == {1: "crash", 2: "timeout"}, summary.report()
    assert summary.calls == 4
