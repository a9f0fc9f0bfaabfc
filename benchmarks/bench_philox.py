"""Philox source-weight fills: the scalar reference beside the AVX2 and AVX-512 kernels.

    python benchmarks/bench_philox.py            # about 1.5 minutes on 2 cores
    python benchmarks/bench_philox.py --quick    # smaller fills, no ticket builds

Every kernel the CPU runs fills the same layouts in one process (``kernel=`` of
``_core.philox_uniform_into`` / ``philox_bernoulli_into``); each must equal the scalar fill bit for
bit before it is timed. Repeats go round-robin over the kernels and the best of each is kept, so
load from other processes spreads over all of them. Layouts:

- an outer block of consecutive columns (2000 x 16000), uniform and Bernoulli(0.5);
- the call that dominates a ticket build: an outer block of 22 rows by 183,456 sorted columns with
  gaps (the members of a layer's groups, half the columns of an ER-masked layer);
- pairs (``outer=False``) in 30-column runs of one row, as the ticket gathers its groups;
- pairs at random positions.

Then two LeNet-shape L+1 ticket builds (784-300-100-10, defaults, as in bench_ticket.py), one with
the fills forced to the scalar kernel and one with the default, with the time spent in fills.
Writes benchmarks/results/philox.md with the machine's description.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "philox.md")
sys.path.insert(0, HERE)
from recording import cpu_model, proc_field, write_results  # noqa: E402

from subsetsum import _core  # noqa: E402

KERNELS = ("scalar", "avx2", "avx512")
SEED, STREAM, LAYER = 2024, 0, 1


def kernel_runs_here(kernel: str) -> bool:
    one = np.zeros(1, np.int64)
    try:
        _core.philox_uniform_into(0, 0, 0, one, one, np.empty((1, 1), np.float32), True, 1,
                                  kernel=kernel)
    except ValueError:
        return False
    return True


def layouts(quick: bool, rng: np.random.Generator):
    """(name, rows, cols, outer, threshold or None for uniform)."""
    scale = 8 if quick else 1
    rows = np.arange(2000 // scale, dtype=np.int64)
    cols = np.arange(16000, dtype=np.int64)
    ticket_width = 183_456 // scale
    ticket_cols = np.sort(rng.choice(2 * ticket_width, ticket_width, replace=False)).astype(np.int64)
    groups = (1 << 20) // 30 // scale
    run_rows = np.repeat(rng.integers(0, 5000, groups), 30).astype(np.int64)
    run_cols = (rng.integers(0, 2**20, groups)[:, None] + np.arange(30)).ravel().astype(np.int64)
    pairs = (1 << 20) // scale
    return [
        (f"outer {rows.size} x {cols.size}, consecutive columns, uniform", rows, cols, True, None),
        (f"outer {rows.size} x {cols.size}, consecutive columns, Bernoulli(0.5)", rows, cols, True,
         2**31),
        (f"outer 22 x {ticket_cols.size:,}, sorted columns with gaps (ticket layer), uniform",
         np.arange(22, dtype=np.int64), ticket_cols, True, None),
        (f"pairs {run_rows.size:,} in 30-column runs of one row (ticket groups), uniform", run_rows,
         run_cols, False, None),
        (f"pairs {pairs:,} at random positions, uniform",
         rng.integers(0, 2**32, pairs).astype(np.int64), rng.integers(0, 2**34, pairs).astype(np.int64),
         False, None),
    ]


def filler(rows, cols, outer, threshold):
    shape = (rows.size, cols.size) if outer else (rows.size,)
    out = np.empty(shape, np.float32 if threshold is None else np.bool_)

    def run(kernel: str, threads: int) -> np.ndarray:
        if threshold is None:
            _core.philox_uniform_into(SEED, STREAM, LAYER, rows, cols, out, outer, threads,
                                      kernel=kernel)
        else:
            _core.philox_bernoulli_into(SEED, STREAM, LAYER, rows, cols, threshold, out, outer,
                                        threads, kernel=kernel)
        return out

    return run, out.size


def time_fills(kernels, quick: bool):
    rows_out = []
    repeats = 3 if quick else 7
    threads_list = sorted({1, os.cpu_count() or 1})
    for name, rows, cols, outer, threshold in layouts(quick, np.random.default_rng(0)):
        run, values = filler(rows, cols, outer, threshold)
        expected = run("scalar", 1).copy()
        for kernel in kernels:
            assert np.array_equal(run(kernel, 1), expected), f"{kernel} differs from scalar: {name}"
        for threads in threads_list:
            best = {kernel: float("inf") for kernel in kernels}
            for _ in range(repeats):
                for kernel in kernels:
                    start = time.perf_counter()
                    run(kernel, threads)
                    best[kernel] = min(best[kernel], time.perf_counter() - start)
            ns = {kernel: best[kernel] / values * 1e9 for kernel in kernels}
            rows_out.append((name, values, threads, ns))
            print(name, f"threads={threads}",
                  ", ".join(f"{k} {v:.2f} ns/value" for k, v in ns.items()), flush=True)
    return rows_out


def time_ticket(forced_kernel: str | None):
    """A LeNet-shape L+1 build (bench_ticket.py's target and defaults); fills forced to
    ``forced_kernel`` (None: the default). Returns (wall seconds, seconds inside the fills)."""
    from bench_ticket import make_target

    from subsetsum import construct_ticket

    names = ("philox_uniform_into", "philox_bernoulli_into")
    originals = {name: getattr(_core, name) for name in names}
    in_fills = [0.0]

    def timed(function):
        @functools.wraps(function)
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                in_fills[0] += time.perf_counter() - start
        return call

    try:
        for name, function in originals.items():
            if forced_kernel is not None:
                function = functools.partial(function, kernel=forced_kernel)
            setattr(_core, name, timed(function))
        target = make_target([784, 300, 100, 10])
        start = time.perf_counter()
        construct_ticket(target, method="L+1", eps=0.01, seed=0, progress=False)
        wall = time.perf_counter() - start
    finally:
        for name, function in originals.items():
            setattr(_core, name, function)
    return wall, in_fills[0]


def cpu_flags() -> str:
    flags = set(proc_field("/proc/cpuinfo", "flags").split())
    wanted = ["avx2", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
    return ", ".join(f for f in wanted if f in flags) or "none of avx2/avx512"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller fills, no ticket builds")
    parser.add_argument("--output", default=RESULTS, help="results file (default: %(default)s)")
    args = parser.parse_args(argv)

    kernels = [k for k in KERNELS if kernel_runs_here(k)]
    auto = kernels[-1]  # kAuto: the widest kernel the CPU runs (csrc/cpu/philox_fill.hpp)
    load_start = os.getloadavg()[0]
    fills = time_fills(kernels, args.quick)
    builds = []
    if not args.quick:
        for forced in ("scalar", None, "scalar", None):  # interleaved, best of two each
            wall, in_fills = time_ticket(forced)
            builds.append((forced or f"auto ({auto})", wall, in_fills))
            print(builds[-1], flush=True)
    load_end = os.getloadavg()[0]

    simd = [k for k in kernels if k != "scalar"]
    lines = [
        "# Philox source-weight fills: scalar and SIMD kernels",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores ({cpu_flags()}), Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')} (load average {load_start:.2f} "
        f"at the start, {load_end:.2f} at the end). `python benchmarks/bench_philox.py"
        f"{' --quick' if args.quick else ''}`.",
        "",
        "Nanoseconds per value, best of "
        f"{3 if args.quick else 7} repeats taken round-robin over the kernels in one process "
        "(`kernel=` of `_core.philox_uniform_into`); every kernel's output equals the scalar "
        f"reference's bit for bit. `auto` (the default) runs {auto} on this CPU. Ratios are scalar "
        "time / kernel time.",
        "",
        "| fill | values | threads | scalar (ns/value) | "
        + " | ".join(f"{k} (ns/value) | {k} speedup" for k in simd) + " |",
        "|---|---:|---:|---:|" + "---:|---:|" * len(simd),
    ]
    for name, values, threads, ns in fills:
        cells = " | ".join(f"{ns[k]:.2f} | {ns['scalar'] / ns[k]:.1f}x" for k in simd)
        lines.append(f"| {name} | {values:,} | {threads} | {ns['scalar']:.2f} | {cells} |")
    if "avx2" in simd and "avx512" in simd:
        ratios = [ns["avx2"] / ns["avx512"] for _name, _values, _threads, ns in fills]
        lines += [
            "",
            f"AVX-512 over AVX2: {min(ratios):.1f}x to {max(ratios):.1f}x across these fills, so "
            "`auto` takes AVX-512 where the CPU has it (16 lanes, one-instruction masked shuffles "
            "and three-way xors against AVX2's 8 lanes and blends). How each layout runs: "
            "consecutive columns straight from the kernel in column order, four values per lane; "
            "other outer columns through per-row lists of the blocks they need (a block once per "
            "run of neighbours sharing it); pairs one lane per value.",
        ]
    if builds:
        best = {}
        for kernel, wall, in_fills in builds:
            if kernel not in best or wall < best[kernel][0]:
                best[kernel] = (wall, in_fills)
        lines += [
            "",
            "LeNet-shape L+1 ticket (784-300-100-10, random Uniform[-1, 1] target, defaults, as in "
            "`bench_ticket.py`), built in this process with every fill forced to one kernel; best "
            "of two builds each, interleaved. Time in fills: inside `philox_uniform_into` and "
            "`philox_bernoulli_into`, all cores.",
            "",
            "| fills | wall (s) | in fills (s) | fills' share |",
            "|---|---:|---:|---:|",
        ]
        for kernel, (wall, in_fills) in best.items():
            lines.append(f"| {kernel} | {wall:.1f} | {in_fills:.2f} | {in_fills / wall:.0%} |")
    write_results(args.output, lines + [""])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
