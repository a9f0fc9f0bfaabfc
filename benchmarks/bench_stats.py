"""One ``subsetsum.stats`` estimate over many random problems, timed end to end.

    python benchmarks/bench_stats.py                      # 10^8 problems on the CPU (and GPU)
    python benchmarks/bench_stats.py --count 10000000     # fewer, extrapolated to 10^8
    python benchmarks/bench_stats.py --write              # also rewrite results/stats.md

The grid point is the published L+1/2L setting (001_d33223a708772bec.txt, section 3): n = 15
Uniform[-1, 1] elements, a Uniform[-1, 1] target, the smallest subset of at most 10 elements
within eps = 0.01 (``mode="min_size"``). The time covers everything an estimate does: drawing
the problems on the host, solving them chunk by chunk, and the success count and histograms.
A small untimed warm-up starts the threads first. When a CUDA device is present the same
problems (same seed) are solved there too, and the two estimates must agree exactly.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import subsetsum
from subsetsum import stats

SCENARIO = stats.Scenario(n=15, eps=0.01, mode="min_size", max_size=10)
RESULTS = Path(__file__).resolve().parent / "results" / "stats.md"
TARGET_COUNT = 10 ** 8


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(count: int, device: str, seed: int):
    stats.estimate(SCENARIO, 10_000, seed=seed + 1, device=device)  # warm-up, untimed
    start = time.perf_counter()
    est = stats.estimate(SCENARIO, count, seed=seed, device=device)
    return time.perf_counter() - start, est


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=TARGET_COUNT, help="problems (default: 10^8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="rewrite benchmarks/results/stats.md")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count: expected an int >= 1")

    devices = ["cpu"] + (["cuda"] if subsetsum.cuda_available() else [])
    rows, estimates = [], {}
    for device in devices:
        seconds, est = timed(args.count, device, args.seed)
        estimates[device] = est
        rate = args.count / seconds
        rows.append((device, args.count, seconds, rate, TARGET_COUNT / rate, est))
        print(f"{device}: {args.count:,} problems in {seconds:.1f} s = {rate:,.0f} problems/s; "
              f"10^8 in {TARGET_COUNT / rate:.0f} s; P(found) = {est.probability:.5f} "
              f"[{est.lower:.5f}, {est.upper:.5f}], mean size {est.mean_size:.3f}")
    if "cuda" in estimates:
        assert estimates["cuda"].successes == estimates["cpu"].successes, "CPU and GPU estimates differ"
    if args.write:
        write_results(rows)
    return 0


def write_results(rows) -> None:
    lines = [
        "# `subsetsum.stats` throughput",
        "",
        "One `stats.estimate` of the published L+1/2L setting (n = 15 Uniform[-1, 1] elements and",
        "target, smallest subset of at most 10 within eps = 0.01), timed end to end: drawing the",
        "problems with numpy on the host, solving them in chunks, counting and histogramming.",
        "Made by `python benchmarks/bench_stats.py --write`.",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores visible, "
        f"{subsetsum.compile_options()['cpu_threads']} OpenMP threads",
        f"- subsetsum {subsetsum.__version__}, numpy {__import__('numpy').__version__}, "
        f"Python {platform.python_version()}",
        "",
        "| device | problems timed | seconds | problems/s | 10^8 problems (s) | P(found) [95% Wilson] | mean size |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for device, count, seconds, rate, full, est in rows:
        lines.append(f"| {device} | {count:,} | {seconds:.1f} | {rate:,.0f} | {full:.0f}"
                     f"{'' if count == TARGET_COUNT else ' (extrapolated)'} | "
                     f"{est.probability:.5f} [{est.lower:.5f}, {est.upper:.5f}] | {est.mean_size:.3f} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
