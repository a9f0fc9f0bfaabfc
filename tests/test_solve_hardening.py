"""solve() hardening (issue 11, items 1-7): overflow, work bounds, Ctrl-C, index-order sums,
one subset across algorithms, read-only inputs, messages.

Calls that crashed or never returned before the fix run in a subprocess with a timeout, so a
regression fails the test instead of killing or hanging the run.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import subsetsum
from _brute import as_numpy, assert_algorithms_match_brute, assert_results_equal

solve_module = importlib.import_module("subsetsum.solve")
PACKAGE_ROOT = str(Path(subsetsum.__file__).resolve().parent.parent)
ALL_ALGORITHMS = {
    "best": ["gray_code", "meet_in_the_middle"],
    "min_size": ["gray_code", "increasing_size"],
    "fixed_size": ["gray_code", "exact_combinations"],
}


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env


def run_isolated(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter; a timeout fails the calling test."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=child_env(),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not return within {timeout} s:\n{code}")


def check_result(result, targets, bases, mask, *, eps, mode, k=None, max_size=None):
    """What holds for any result: recomputed sums and errors, found, sizes, masks."""
    bases = np.asarray(bases)
    n = bases.shape[1]
    chosen = result.to_mask(n)
    sums, errors = as_numpy(result.sums), as_numpy(result.errors)
    found, sizes = as_numpy(result.found), as_numpy(result.sizes)
    exhausted = as_numpy(result.exhausted)
    assert exhausted.dtype == np.bool_ and exhausted.shape == (len(targets),)
    present = np.ones_like(chosen) if mask is None else np.asarray(mask, bool)
    assert not (chosen & ~present).any()
    np.testing.assert_array_equal(sizes, chosen.sum(axis=1))
    feasible = np.ones(len(targets), bool)
    for b in range(len(targets)):
        total = 0.0
        for i in np.flatnonzero(chosen[b]):
            total += float(bases[b, i])
        assert sums[b] == total
        assert errors[b] == abs(float(np.asarray(targets)[b]) - total)
    if mode == "fixed_size":
        feasible = present.sum(axis=1) >= k
        assert (sizes[feasible] == k).all()
    if mode == "min_size" and max_size is not None:
        assert (sizes <= max_size).all()
    np.testing.assert_array_equal(found, feasible & (errors <= eps))


# --------------------------------------------------------------------------------------------
# 1. sums that overflow float64: a clear error, never a crash or a wrong answer


OVERFLOW_CALLS = [
    "solve([0.0], [[1e308] * 64], eps=0.1, mode='fixed_size', k=64)",
    "solve([0.0], [[1e308] * 12], eps=0.1, mode='fixed_size', k=11)",
    "solve([0.0], [[1e308, 1e308]], eps=0.1, mode='fixed_size', k=2, algorithm='gray_code')",
    "solve([1e308], [[1e308, 1e308, -1e308]], eps=0.1, mode='best')",
    "solve([0.0], [[1e308] * 40], eps=0.1, mode='min_size')",
    "solve([0.0], [[1e308] * 12], eps=0.1, mode='fixed_size', k=11, backend='numba')",
]


@pytest.mark.parametrize("call", OVERFLOW_CALLS)
def test_overflowing_sums_raise_a_clear_error(call):
    done = run_isolated(f"""
        from subsetsum import solve
        try:
            {call}
        except ValueError as exc:
            print("ValueError:", exc)
        else:
            print("returned")
    """)
    assert done.returncode == 0, done.stderr  # a crash (SIGSEGV, SIGBUS) fails here
    assert "ValueError: bases: problem 0" in done.stdout and "overflow" in done.stdout


@pytest.mark.parametrize("backend", ["cpu", "numba"])
def test_sums_just_below_the_limit_are_solved(backend):
    # |target| + sum of |elements| just under 2**1021: solved, and both backends agree; the
    # masked-out huge element does not count.
    big = 2.0**1017
    bases = np.array([[big, big, -big, 2 * big, 1.5e308]])
    mask = np.array([[True, True, True, True, False]])
    targets = np.array([3 * big])
    result = subsetsum.solve(targets, bases, mask=mask, eps=1.0, mode="best", backend=backend)
    assert as_numpy(result.found).tolist() == [True]
    assert result.to_mask(5).tolist() == [[True, False, False, True, False]]
    with pytest.raises(ValueError, match="bases: problem 0"):
        subsetsum.solve(targets * 4, bases, mask=mask, eps=1.0, mode="best", backend=backend)


def test_overflow_error_names_the_problem():
    bases = np.zeros((5, 3))
    bases[3] = [1e308, 1e308, 0.0]
    with pytest.raises(ValueError, match=r"bases: problem 3: .*2\*\*1021"):
        subsetsum.solve(np.zeros(5), bases, eps=0.1, mode="best")


# --------------------------------------------------------------------------------------------
# 2. bounded work per problem, with an honest flag


ENDLESS_CALLS = {
    "min_size unreachable target": (
        "solve([1e20], rng.uniform(-1, 1, (1, 64)), eps=0.01, mode='min_size')"),
    "min_size tiny eps": "solve([0.3], rng.uniform(-1, 1, (1, 64)), eps=1e-12, mode='min_size')",
    "min_size integers, half-integer target": (
        "solve([0.5], rng.integers(-5, 6, (1, 64)).astype(float), eps=0.01, mode='min_size')"),
    "min_size few distinct values": (
        "solve([0.55], rng.choice([0.1, 0.3, -0.2], (1, 40)), eps=0.01, mode='min_size')"),
    "exact_combinations 22 equal": (
        "solve([0.55], [[0.1] * 22], eps=0.01, mode='fixed_size', k=11, "
        "algorithm='exact_combinations')"),
    "first_hit integers": (
        "solve([0.5], rng.integers(-5, 6, (1, 256)).astype(float), eps=0.01, mode='fixed_size',"
        " k=10)"),
    "first_hit tiny eps": (
        "solve([0.3], rng.uniform(-1, 1, (1, 256)), eps=1e-15, mode='fixed_size', k=100)"),
}


@pytest.mark.parametrize("call", ENDLESS_CALLS.values(), ids=list(ENDLESS_CALLS))
def test_degenerate_calls_return_promptly(call):
    done = run_isolated(f"""
        import time
        import numpy as np
        from subsetsum import solve
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        r = {call}
        print(time.perf_counter() - start, r.exhausted.tolist(), r.found.tolist())
    """, timeout=60)
    assert done.returncode == 0, done.stderr
    seconds = float(done.stdout.split()[0])
    assert seconds < 10.0, done.stdout


def test_exhausted_flags_the_bound_and_results_stay_exact():
    rng = np.random.default_rng(1)
    bases = rng.integers(-5, 6, (4, 40)).astype(np.float64)
    targets = np.full(4, 0.5)  # no subset sum of integers is within eps
    for mode, options in [("min_size", {}), ("fixed_size", {"k": 15}),
                          ("fixed_size", {"k": 15, "algorithm": "first_hit"}),
                          ("best", {"algorithm": "gray_code"})]:
        n = 28 if options.get("algorithm") == "gray_code" else 40
        x = np.ascontiguousarray(bases[:, :n])
        result = subsetsum.solve(targets, x, eps=0.01, mode=mode, work_limit=10_000, **options)
        assert result.exhausted.all(), (mode, options)
        assert not result.found.any()
        check_result(result, targets, x, None, eps=0.01, mode=mode, k=options.get("k"))
        # The bound counts steps, not time: the same results on any thread count.
        again = subsetsum.solve(targets, x, eps=0.01, mode=mode, work_limit=10_000,
                                num_threads=1, **options)
        assert_results_equal(result, again, exact=True)
        np.testing.assert_array_equal(result.exhausted, again.exhausted)


def test_exhausted_false_when_the_search_finishes():
    rng = np.random.default_rng(2)
    bases = rng.uniform(-1, 1, (200, 15)).astype(np.float32)
    targets = rng.uniform(-1, 1, 200).astype(np.float32)
    for mode, options in [("best", {}), ("min_size", {"max_size": 10}),
                          ("fixed_size", {"k": 5}), ("fixed_size", {"k": 5, "algorithm": "first_hit"})]:
        for backend in ("cpu", "numba"):
            result = subsetsum.solve(targets, bases, eps=0.01, mode=mode, backend=backend,
                                     **options)
            assert not result.exhausted.any() and result.exhausted.dtype == np.bool_


def test_a_larger_work_limit_finishes_what_a_small_one_stops():
    rng = np.random.default_rng(3)
    bases = rng.uniform(-1, 1, (3, 40))
    targets = rng.uniform(-1, 1, 3)
    small = subsetsum.solve(targets, bases, eps=1e-7, mode="min_size", work_limit=50)
    large = subsetsum.solve(targets, bases, eps=1e-7, mode="min_size")
    assert small.exhausted.all() and not large.exhausted.any()
    assert (large.found | (large.errors <= small.errors)).all()


def test_torch_results_carry_exhausted():
    result = subsetsum.solve(torch.tensor([0.5]), torch.tensor([[1.0, 2.0, 3.0]]), eps=0.1,
                             mode="best")
    assert isinstance(result.exhausted, torch.Tensor) and result.exhausted.dtype == torch.bool
    assert result.exhausted.tolist() == [False]


@pytest.mark.parametrize("value, error", [(0, ValueError), (-5, ValueError), (2**62, ValueError),
                                          (1.5, TypeError), (True, TypeError), ("10", TypeError)])
def test_bad_work_limit_names_the_argument(value, error):
    with pytest.raises(error, match="work_limit"):
        subsetsum.solve([0.5], [[0.25, 0.25]], eps=0.1, mode="best", work_limit=value)


# --------------------------------------------------------------------------------------------
# 3. Ctrl-C within a second, also inside one long search

INTERRUPT_SCRIPT = """
import sys, time
import numpy as np
import subsetsum
rng = np.random.default_rng(0)
kind = sys.argv[1]
if kind.startswith("min_size"):  # integers, half-integer target: no sum within eps, search never ends
    x, t, opts = rng.integers(-5, 6, (64, 64)).astype(float), np.full(64, 0.5), dict(mode="min_size")
    if kind == "min_size_one_thread":  # the caller watches a single worker thread
        opts["num_threads"] = 1
elif kind == "first_hit":
    x, t, opts = (rng.integers(-5, 6, (64, 256)).astype(float), np.full(64, 0.5),
                  dict(mode="fixed_size", k=100))
elif kind == "gray_code":
    x, t, opts = rng.uniform(-1, 1, (64, 30)), rng.uniform(-1, 1, 64), dict(mode="best", algorithm="gray_code")
elif kind == "numba":
    x, t, opts = rng.uniform(-1, 1, (64, 30)), rng.uniform(-1, 1, 64), dict(mode="best", backend="numba")
subsetsum.solve(t[:1], x[:1, :8], eps=0.01, **{**opts, "work_limit": 100, **({"k": 2} if "k" in opts else {})})
print("solving", flush=True)
try:
    subsetsum.solve(t, x, eps=0.01, work_limit=2**60, **opts)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("kind", ["min_size", "min_size_one_thread", "first_hit", "gray_code", "numba"])
def test_ctrl_c_stops_a_long_search_within_a_second(kind):
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPT_SCRIPT, kind], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "solving", proc.stderr.read()
        time.sleep(0.7)  # well inside the first problems' searches
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{kind}: Ctrl-C ignored for 10 s")
    assert out.startswith("interrupted"), (out, err)
    latency = float(out.split()[1]) - sent
    assert latency < 1.0, latency


# --------------------------------------------------------------------------------------------
# 4 and 5. Every algorithm returns the contract's subset: index-order float64 sums, one
# tie-break, found and sizes decided on the recomputed sum


def test_gray_code_running_sum_does_not_drift():
    # {0, 1} sums to 1e16 + 1 = 1e16 and misses by 1; {1} alone is exact.
    for algorithm in ("auto", "gray_code", "meet_in_the_middle"):
        r = subsetsum.solve([1.0], [[1e16, 1.0]], eps=0.5, mode="best", algorithm=algorithm)
        assert (int(r.subsets[0]), float(r.errors[0]), bool(r.found[0])) == (2, 0.0, True)
    r = subsetsum.solve([1.0], [[1e16, 1.0]], eps=0.5, mode="best", backend="numba")
    assert int(r.subsets[0]) == 2


@pytest.mark.parametrize("target, values, eps, bits", [
    (0.3, [1e16, 0.3], 0.1, 0b10),  # the running sum lost 0.3 inside 1e16 + 0.3 - 1e16
    (1.8, [1.0, 0.2, 0.3, 1.0, 0.3], 0.1, 0b10111),  # exact ties, one of them drifted away
    (3.3, [0.1, 3.0, -1e16, 3.0, 0.3], 1e-17, 0b10010),
])
@pytest.mark.parametrize("backend, algorithm", [("cpu", "gray_code"), ("cpu", "increasing_size"),
                                                ("numba", "auto")])
def test_min_size_sums_do_not_drift(backend, algorithm, target, values, eps, bits):
    r = subsetsum.solve([target], [values], eps=eps, mode="min_size", backend=backend,
                        algorithm=algorithm)
    assert (int(r.subsets[0]), float(r.errors[0]), bool(r.found[0])) == (bits, 0.0, True)


@pytest.mark.parametrize("algorithm", ["auto", "gray_code", "meet_in_the_middle", "numba"])
def test_ties_across_algorithms_give_the_contract_subset(algorithm):
    backend = "numba" if algorithm == "numba" else "cpu"
    r = subsetsum.solve([1.7], [[0.7] * 4 + [1.0] * 4], eps=1e-9, mode="best", backend=backend,
                        algorithm="auto" if backend == "numba" else algorithm)
    assert int(r.subsets[0]) == 0b10001


def test_first_hit_decides_found_on_the_recomputed_sum():
    r = subsetsum.solve([-2.2699999999999996], [[-0.94, -0.05, -0.05, -0.94, -0.84]], eps=0.5,
                        mode="fixed_size", k=4, algorithm="first_hit")
    assert bool(r.found[0]) and float(r.errors[0]) <= 0.5
    assert float(r.errors[0]) == abs(-2.2699999999999996 - float(r.sums[0]))


def spread_problems(rng, batch: int, n: int):
    """float64 rows whose sums round: magnitudes 1e-8..1e16, repeated tenths, integers, and
    targets at a subset's index-order sum, one ulp off it, eps away, or far."""
    kinds = [
        lambda: rng.choice([1e16, 1.0, -1e16, 3.0, 0.5, 1e-8, -1.0], n),
        lambda: rng.choice([0.1, 0.7, 1.0, -0.3, 0.2, 0.0], n),
        lambda: rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-12, 12, n),
        lambda: np.full(n, rng.choice([0.1, 0.7, 1 / 3])),
        lambda: rng.integers(-3, 4, n) + rng.choice([0.0, 0.1], n),
    ]
    bases = np.array([kinds[rng.integers(len(kinds))]() for _ in range(batch)])
    targets = np.empty(batch)
    for b in range(batch):
        total = 0.0
        for i in np.flatnonzero(rng.random(n) < 0.5):
            total += float(bases[b, i])
        targets[b] = rng.choice([total, np.nextafter(total, np.inf), total + 0.01, total - 1e-3,
                                 rng.choice([0.3000000000000001, 1.7, -2.27, 1e20, 1e16])])
    return targets, bases


@pytest.mark.parametrize("mode", ["best", "min_size", "fixed_size"])
def test_magnitude_spread_matches_brute_force_exactly(mode):
    # Bit for bit in float64: every algorithm and the reference pick the brute force's subset.
    rng = np.random.default_rng(["best", "min_size", "fixed_size"].index(mode))
    for n in range(1, 11):
        targets, bases = spread_problems(rng, 30, n)
        mask = rng.random(bases.shape) < 0.85 if n % 3 == 0 else None
        eps = float(rng.choice([1e-12, 0.01, 0.5]))
        options = {}
        if mode == "min_size":
            options["max_size"] = int(rng.integers(0, n + 1))
        if mode == "fixed_size":
            options["k"] = int(rng.integers(0, n + 1))
        assert_algorithms_match_brute(targets, bases, mask, eps=eps, mode=mode, options=options,
                                      algorithms=["auto"] + ALL_ALGORITHMS[mode], context=f"n={n}")


@pytest.mark.parametrize("n", [14, 17, 20])
def test_magnitude_spread_larger_n_algorithms_agree(n):
    rng = np.random.default_rng([n, 11])
    targets, bases = spread_problems(rng, 40, n)
    for mode, options, algorithms in [
        ("best", {}, ["meet_in_the_middle"]),
        ("min_size", {"max_size": 6}, ["increasing_size"]),
        ("fixed_size", {"k": 5}, ["exact_combinations"]),
    ]:
        reference = subsetsum.solve(targets, bases, eps=1e-6, mode=mode, algorithm="gray_code",
                                    **options)
        for algorithm in algorithms:
            result = subsetsum.solve(targets, bases, eps=1e-6, mode=mode, algorithm=algorithm,
                                     **options)
            assert_results_equal(result, reference, exact=True, problems=(targets, bases, None),
                                 context=f"{mode} {algorithm}")


# --------------------------------------------------------------------------------------------
# 6. read-only inputs


def read_only(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


@pytest.mark.parametrize("backend", ["cpu", "numba"])
def test_read_only_inputs_are_accepted(tmp_path, backend):
    rng = np.random.default_rng(4)
    bases = rng.uniform(-1, 1, (20, 9))
    targets = rng.uniform(-1, 1, 20)
    mask = rng.random((20, 9)) < 0.8
    expected = subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode="min_size",
                               backend=backend)
    np.save(tmp_path / "bases.npy", bases)
    forms = {
        "frombuffer": (np.frombuffer(targets.tobytes()),
                       np.frombuffer(bases.tobytes()).reshape(bases.shape),
                       np.frombuffer(mask.tobytes(), dtype=bool).reshape(mask.shape)),
        "mmap": (read_only(targets), np.load(tmp_path / "bases.npy", mmap_mode="r"),
                 read_only(mask)),
        "writeable=False": (read_only(targets), read_only(bases), read_only(mask)),
    }
    for name, (t, x, m) in forms.items():
        assert not x.flags.writeable
        result = subsetsum.solve(t, x, mask=m, eps=0.01, mode="min_size", backend=backend)
        assert_results_equal(result, expected, exact=True, context=name)
    np.testing.assert_array_equal(np.load(tmp_path / "bases.npy"), bases)  # nothing written


# --------------------------------------------------------------------------------------------
# 7. messages and documented conversions


def test_bfloat16_torch_tensors_run_as_float32():
    rng = np.random.default_rng(5)
    bases = torch.tensor(rng.uniform(-1, 1, (30, 8)), dtype=torch.bfloat16)
    targets = torch.tensor(rng.uniform(-1, 1, 30), dtype=torch.bfloat16)
    result = subsetsum.solve(targets, bases, eps=0.01, mode="best")
    expected = subsetsum.solve(targets.float(), bases.float(), eps=0.01, mode="best")
    assert isinstance(result.sums, torch.Tensor)
    assert_results_equal(result, expected, exact=True)


@pytest.mark.parametrize("threads", [2**31, 2**40, 10**6, 1000])
def test_absurd_thread_counts_name_num_threads(threads):
    # In a subprocess: starting a thousand OpenMP threads can abort the process.
    done = run_isolated(f"""
        import subsetsum
        try:
            subsetsum.solve([0.5], [[0.25, 0.25]], eps=0.1, mode="best", num_threads={threads})
        except ValueError as exc:
            print(exc)
    """)
    assert done.returncode == 0, done.stderr
    assert re.match(r"num_threads: expected an int in \[1, \d+\]", done.stdout), done.stdout


def test_thread_counts_up_to_the_limit_work():
    limit = solve_module.max_threads()
    result = subsetsum.solve([0.5], [[0.25, 0.25]], eps=0.1, mode="best", num_threads=limit)
    assert result.found.tolist() == [True]


@pytest.mark.parametrize("target", [np.float64(0.5), np.array(0.5), 0.5, torch.tensor(0.5)])
def test_0d_targets_name_targets(target):
    bases = [[0.25, 0.25]]
    bases = torch.tensor(bases) if isinstance(target, torch.Tensor) else np.array(bases)
    with pytest.raises(ValueError, match=r"targets: expected shape \(1,\).*0-d"):
        subsetsum.solve(target, bases, eps=0.1, mode="best")


def test_0d_bases_name_bases():
    with pytest.raises(ValueError, match=r"bases: expected shape \(B, n\), got shape \(\)"):
        subsetsum.solve([0.5], np.float64(0.25), eps=0.1, mode="best")


@pytest.mark.parametrize("dtype", [">f4", ">f8", "<f4", ">f2", ">i4"])
def test_big_endian_arrays_keep_their_width(dtype):
    rng = np.random.default_rng(6)
    native = np.dtype(dtype).newbyteorder("=")
    bases = (rng.uniform(-1, 1, (40, 10)) * (8 if native.kind == "i" else 1)).astype(native)
    targets = (rng.uniform(-1, 1, 40) * (8 if native.kind == "i" else 1)).astype(native)
    result = subsetsum.solve(targets.astype(dtype), bases.astype(dtype), eps=0.01, mode="best")
    expected = subsetsum.solve(targets, bases, eps=0.01, mode="best")
    assert_results_equal(result, expected, exact=True)
    solved_in = solve_module.float_dtype("bases", np.dtype(dtype))
    assert solved_in == solve_module.float_dtype("bases", native)


@pytest.mark.parametrize("targets", [np.array([1e39]), [1e39], np.array([-3.5e38, 0.5])])
def test_float64_target_too_large_for_float32_bases(targets):
    bases = np.full((len(targets), 3), 0.25, dtype=np.float32)
    with pytest.raises(ValueError, match=r"targets: the finite value .* does not fit float32"):
        subsetsum.solve(targets, bases, eps=0.1, mode="best")
    # NaN and inf are still reported as such
    with pytest.raises(ValueError, match="targets: expected finite values"):
        subsetsum.solve(np.full(len(targets), np.inf), bases, eps=0.1, mode="best")


def test_signal_checks_are_per_thread_and_change_no_result():
    """Solves with the Ctrl-C checks off (a Ray task's, a job thread's) run on the calling thread
    alone and return what they return with them on."""
    import threading

    from subsetsum import _core

    rng = np.random.default_rng(5)
    x, t = rng.uniform(-1, 1, (300, 20)), rng.uniform(-2, 2, 300)
    watched = subsetsum.solve(t, x, eps=1e-3, mode="min_size", num_threads=1)
    assert _core.set_signal_checks(False) is True
    try:
        other = []
        worker = threading.Thread(target=lambda: other.append(_core.set_signal_checks(True)))
        worker.start()
        worker.join()
        assert other == [True]  # another thread keeps its own setting
        alone = subsetsum.solve(t, x, eps=1e-3, mode="min_size", num_threads=1)
        spread = subsetsum.solve(t, x, eps=1e-3, mode="min_size", num_threads=2)
    finally:
        assert _core.set_signal_checks(True) is False
    for r in (alone, spread):
        assert np.array_equal(r.subsets, watched.subsets) and np.array_equal(r.errors, watched.errors)
