"""Ctrl-C (SIGINT) latency of ``solve()`` on degenerate inputs: every mode, every algorithm, and
the numba reference.

Each case runs in a subprocess that starts a call whose every problem would search for seconds
or more (degenerate data and a work_limit of 2**60, so the search itself must notice the
interrupt: between problems is not enough), waits ``--delay`` seconds into the call, sends
SIGINT, and measures from the signal to KeyboardInterrupt in the child (latency) and to the
child's exit. Clocks: CLOCK_MONOTONIC, shared by both processes. POSIX only.

    python benchmarks/sigint_latency.py                        # prints a markdown report
    python benchmarks/sigint_latency.py --output benchmarks/results/sigint-latency.md
    python benchmarks/sigint_latency.py --case "min_size increasing_size" --repeats 3

Goal (issue 11): under 1 s everywhere.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recording import cpu_model  # noqa: E402

# (name, inputs: python expression of (targets, bases) from rng, solve keyword arguments, what
# makes it long)
CASES = [
    ("best gray_code", "rng.uniform(-1, 1, 64), rng.uniform(-1, 1, (64, 30))",
     dict(mode="best", algorithm="gray_code"), "n = 30: 2^30 subsets per problem"),
    ("best meet_in_the_middle", "rng.uniform(-1, 1, 4000), rng.uniform(-1, 1, (4000, 44))",
     dict(mode="best", algorithm="meet_in_the_middle"),
     "n = 44 float64: about 0.25 s per problem, bounded by n (no bound to raise)"),
    ("best meet_in_the_middle, near ties", "np.full(4000, 0.55), np.full((4000, 44), 0.1)",
     dict(mode="best", algorithm="meet_in_the_middle"),
     "44 x 0.1 in float64: every pair is a near tie, re-added in index order"),
    ("min_size increasing_size",
     "np.full(64, 0.5), rng.integers(-5, 6, (64, 64)).astype(float)",
     dict(mode="min_size", algorithm="increasing_size"),
     "integers, half-integer target: no sum within eps, a search of all sizes"),
    ("min_size gray_code", "rng.uniform(-1, 1, 64), rng.uniform(-1, 1, (64, 30))",
     dict(mode="min_size", algorithm="gray_code"), "n = 30: 2^30 subsets per problem"),
    ("fixed_size exact_combinations", "np.full(64, 0.3), rng.uniform(-1, 1, (64, 200))",
     dict(mode="fixed_size", k=100, algorithm="exact_combinations", eps=1e-12),
     "C(200, 100) subsets, eps = 1e-12"),
    ("fixed_size first_hit",
     "np.full(64, 0.5), rng.integers(-5, 6, (64, 256)).astype(float)",
     dict(mode="fixed_size", k=100, algorithm="first_hit"),
     "integers, half-integer target: no hit exists"),
    ("fixed_size gray_code", "rng.uniform(-1, 1, 64), rng.uniform(-1, 1, (64, 30))",
     dict(mode="fixed_size", k=15, algorithm="gray_code"), "n = 30: 2^30 subsets per problem"),
    ("best numba", "rng.uniform(-1, 1, 64), rng.uniform(-1, 1, (64, 30))",
     dict(mode="best", backend="numba"), "reference, n = 30: 2^30 subsets per problem"),
    ("min_size numba", "np.full(64, 0.5), rng.integers(-5, 6, (64, 30)).astype(float)",
     dict(mode="min_size", backend="numba"), "reference, every size of n = 30"),
    ("fixed_size numba", "rng.uniform(-1, 1, 64), rng.uniform(-1, 1, (64, 100))",
     dict(mode="fixed_size", k=5, backend="numba"), "reference, C(100, 5) = 7.5e7 per problem"),
]

CHILD = """
import sys, time
import numpy as np
import subsetsum
rng = np.random.default_rng(0)
targets, bases = {inputs}
options = dict(eps=0.01, work_limit=2**60)
options.update({options!r})
warm = dict(options, work_limit=1000)
if warm.get("k"):
    warm["k"] = 2
subsetsum.solve(targets[:1], bases[:1, :8], **warm)  # imports, compilation, thread start-up
print("solving", time.monotonic(), flush=True)
try:
    subsetsum.solve(targets, bases, **options)
    print("finished", time.monotonic(), flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


def measure(inputs: str, options: dict, delay: float, timeout: float) -> tuple[float, float]:
    """(seconds from SIGINT to KeyboardInterrupt, to the child's exit); inf when ignored."""
    code = textwrap.dedent(CHILD).format(inputs=inputs, options=options)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        if not first or first[0] != "solving":
            raise RuntimeError(f"child did not start: {first} {proc.stderr.read()}")
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
        exited = time.monotonic()
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return float("inf"), float("inf")
    words = out.split()
    if not words or words[0] != "interrupted":
        raise RuntimeError(f"child was not interrupted: {out!r} {err[-2000:]}")
    return float(words[1]) - sent, exited - sent


def machine() -> list[str]:
    import numba
    import numpy as np

    import subsetsum

    model = cpu_model()
    options = subsetsum.compile_options()
    return [
        f"- CPU: {model}, {os.cpu_count()} cores usable; subsetsum OpenMP: {options['openmp']}, "
        f"{options['cpu_threads']} threads; default work_limit {options['default_work_limit']}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; numpy {np.__version__}, numba {numba.__version__}",
        f"- Load average (1 min) at the start: {os.getloadavg()[0]:.2f}",
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="runs per case (default: 5)")
    parser.add_argument("--delay", type=float, default=1.0,
                        help="seconds into the call before SIGINT (default: 1.0)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait after SIGINT before giving up (default: 30)")
    parser.add_argument("--case", default=None, help="run only the case with this name")
    parser.add_argument("--output", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    if os.name != "posix":
        print("SIGINT latency: POSIX only", file=sys.stderr)
        return 2
    lines = [
        "# Ctrl-C (SIGINT) latency of solve()",
        "",
        f"Written by `python benchmarks/sigint_latency.py` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: each case starts a "
        f"call whose problems each search for seconds or longer (work_limit = 2**60), sends "
        f"SIGINT {args.delay:g} s into it, and times KeyboardInterrupt in the child and the "
        f"child's exit ({args.repeats} runs each). Goal: under 1 s everywhere.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Latency",
        "",
        "| case | long because | KeyboardInterrupt after SIGINT, median (max) | process exit, median (max) |",
        "|---|---|---:|---:|",
    ]
    worst = 0.0
    for name, inputs, options, why in CASES:
        if args.case and name != args.case:
            continue
        raised, exited = zip(*(measure(inputs, options, args.delay, args.timeout)
                               for _ in range(args.repeats)))
        worst = max(worst, max(raised))
        row = (f"| {name} | {why} | {1000 * statistics.median(raised):.0f} ms "
               f"({1000 * max(raised):.0f} ms) | {1000 * statistics.median(exited):.0f} ms "
               f"({1000 * max(exited):.0f} ms) |")
        lines.append(row)
        print(row, flush=True)
    lines += ["", f"Largest latency: {1000 * worst:.0f} ms.", ""]
    report = "\n".join(lines)
    print(report)
    if args.output:
        with open(args.output, "w") as f:
            f.write(report)
    return 0 if worst < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
