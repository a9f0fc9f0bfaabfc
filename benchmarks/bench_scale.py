"""Scale of ticket construction: MLP targets shaped like 4096-4096-2048-1000 (25 million weights),
scaled down by a factor s per width, L+1 and 2L with default sizing; time, problems per second,
peak memory, ticket size on disk, and the sharded build on a local Ray cluster.

    python benchmarks/bench_scale.py                 # s = 16, 8, 4; writes results/scale.md
    python benchmarks/bench_scale.py --full          # and the full target (s = 1; about 12 min, 4 GB)
    python benchmarks/bench_scale.py --scales 16     # a quick look (no file written)

Every build runs in its own process (peak RSS is the process's). The Ray rows use a local cluster
of 2 worker CPUs. The 64-worker projection splits the local build's work into the jobs' CPU time
(the process's CPU time less the calling thread's) and the driver's (the calling thread's CPU
time: bookkeeping, which stays on one machine): with W one-core workers,
wall(W) between max(driver, jobs / W) (the driver records while the jobs run) and driver + jobs / W. The full-size projection scales each
measured figure by the problems (time) or kept edges (memory) of the full target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "scale.md")
sys.path.insert(0, HERE)
from recording import DeviceMemoryPeak, cpu_model, write_results  # noqa: E402

FULL = (4096, 4096, 2048, 1000)
DEFAULT_SCALES = (16, 8, 4)


def widths_for(scale: int) -> list[int]:
    return [max(1, round(w / scale)) for w in FULL]


def make_target(widths, seed=0):
    """Random Uniform[-1, 1] weights and biases (the papers' normalised range)."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (b, a)), rng.uniform(-1, 1, b)) for a, b in zip(widths[:-1], widths[1:])]


def run_one(method: str, scale: int, executor: str, device: str | None = None) -> dict:
    """One build in this process (on ``device``: None or "cuda"); returns a JSON-able dict."""
    import contextlib

    from subsetsum import construct_ticket
    from subsetsum.tickets.executor import Executor, get_executor

    class CountingExecutor(Executor):
        """The local executor a build would use (a job per CPU at a time, each on one core; on a
        device one at a time), counting jobs."""

        def __init__(self):
            self.inner, self.jobs = get_executor(None, jobs_use_every_core=device is not None), 0

        def share(self, value):
            return value

        def map(self, fn, jobs):
            for result in self.inner.map(fn, jobs):
                self.jobs += 1
                yield result

    widths = widths_for(scale)
    target = make_target(widths)
    timing = CountingExecutor() if executor == "local" else None
    memory = DeviceMemoryPeak() if device == "cuda" else contextlib.nullcontext()
    # CPU seconds: the calling thread's are the driver's; the rest of the process's are the jobs'
    # (their threads, and the OpenMP threads their solver calls run on)
    start, driver_start, process_start = time.perf_counter(), time.thread_time(), time.process_time()
    with memory:
        ticket = construct_ticket(target, method=method, seed=0, progress=False, device=device,
                                  executor=timing if timing is not None else executor)
    wall, driver = time.perf_counter() - start, time.thread_time() - driver_start
    jobs_cpu = time.process_time() - process_start - driver
    build_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "t.ticket")
        ticket.save(path)
        saved = os.path.getsize(path)
    meta = ticket.metadata
    return {
        "method": method, "scale": scale, "widths": widths, "executor": executor, "device": device or "cpu",
        "wall_s": wall, "peak_device_mb": memory.peak_mb if device == "cuda" else None,
        "job_s": jobs_cpu if timing is not None else None, "jobs": timing.jobs if timing is not None else None,
        "driver_s": driver,
        "problems": meta["problems"], "parameters": ticket.parameters, "target_parameters": ticket.target.num_parameters,
        "source_weights": sum(r * c for r, c in ticket.shapes), "build_peak_rss_mb": build_peak,
        "peak_rss_mb": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024.0, "saved_bytes": saved, "failed": len(ticket.failed),
        "group_sizes": meta["group_sizes"],
    }


def child(method, scale, executor) -> dict:
    cmd = [sys.executable, __file__, "--one", json.dumps([method, scale, executor])]
    if executor == "ray":
        # a local cluster of two worker CPUs, started in the child so its memory is not the driver's
        cmd = [sys.executable, "-c",
               "import ray, runpy, sys; ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False); "
               f"sys.argv = {[__file__, '--one', json.dumps([method, scale, executor])]!r}; "
               "runpy.run_path(sys.argv[0], run_name='__main__')"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _split(row) -> str:
    """How a local build's time divides: the jobs' CPU time (one core each) and the driver's."""
    return (f"the jobs took {row['job_s']:.1f} CPU s ({row['jobs']} jobs, each on one core; the process's CPU time "
            f"apart from the calling thread's), the driver (the calling thread: bookkeeping, planning and finishing) "
            f"{row['driver_s']:.1f} CPU s")


def _with_workers(row, per_unit: float, unit: str, workers: int = 64) -> str:
    """The wall time projected for ``workers`` one-core workers, in ``unit`` (``per_unit`` seconds
    each): between the driver and the jobs overlapping fully and not at all."""
    jobs = row["job_s"] / workers
    low, high = max(row["driver_s"], jobs) / per_unit, (row["driver_s"] + jobs) / per_unit
    return f"about {low:.1f} to {high:.1f} {unit}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=list(DEFAULT_SCALES))
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray rows")
    parser.add_argument("--full", action="store_true", help="also build the full 25M-weight target (s = 1)")
    parser.add_argument("--full-json", type=str, default=None,
                        help="with --full: JSON lines of full-target rows already measured (read if the file "
                             "exists, else written as they finish)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(*json.loads(args.one))))  # [method, scale, executor(, device)]
        return 0
    load_start = os.getloadavg()[0]
    rows = []
    cached = {}
    if args.full_json and os.path.exists(args.full_json):
        with open(args.full_json) as f:
            cached = {(r["method"], r["scale"]): r for r in map(json.loads, f) if r}
    full_rows = args.full or any(scale == 1 for _m, scale in cached)
    scales = list(args.scales) + ([1] if full_rows and 1 not in args.scales else [])
    for scale in scales:
        for method in ("L+1", "2L"):
            if scale == 1 and not args.full and (method, scale) not in cached:
                continue  # a full-target row only where measured or asked for
            row = cached.get((method, scale)) or child(method, scale, "local")
            rows.append(row)
            print(json.dumps(row), flush=True)
            if scale == 1 and args.full_json and (method, scale) not in cached:
                with open(args.full_json, "a") as f:
                    f.write(json.dumps(row) + "\n")
    smallest = max(scales)
    if not args.no_ray:
        for method in ("L+1", "2L"):
            row = child(method, smallest, "ray")
            rows.append(row)
            print(json.dumps(row), flush=True)
    if list(args.scales) != list(DEFAULT_SCALES):
        return 0
    load_end = os.getloadavg()[0]
    lines = [
        "# Scale: MLP targets shaped like 4096-4096-2048-1000, scaled down",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')} (load average {load_start:.2f} at the start, "
        f"{load_end:.2f} at the end). Random Uniform[-1, 1] weights and biases, eps = 0.01, default sizing "
        "(delta = 0.5) and repair; every build in its own process (`python benchmarks/bench_scale.py`).",
        "",
        "| target (1/s of every width) | method | executor | target weights | problems | wall (s) | problems/s | "
        "peak RSS (MB) | ticket parameters | saved ticket (MB) | peak RSS per kept edge (B) | above tolerance |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {'-'.join(map(str, r['widths']))} (s = {r['scale']}) | {r['method']} | {r['executor']} | "
            f"{r['target_parameters']:,} | {r['problems']:,} | {r['wall_s']:.1f} | {r['problems'] / r['wall_s']:,.0f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['parameters']:,} | {r['saved_bytes'] / 2**20:,.1f} | "
            f"{r['peak_rss_mb'] * 2**20 / max(r['parameters'], 1):.0f} | {r['failed']} |")
    local = {(r["method"], r["scale"]): r for r in rows if r["executor"] == "local"}
    lines += ["", "## Ray on a local 2-CPU cluster against the single process (same ticket, bit for bit)", ""]
    for r in rows:
        if r["executor"] == "ray":
            base = local[(r["method"], r["scale"])]
            lines.append(f"- {r['method']} (s = {r['scale']}): {r['wall_s']:.1f} s on Ray, {base['wall_s']:.1f} s in one "
                         f"process ({r['wall_s'] / base['wall_s']:.2f}x).")
    lines += ["", "## Projections", ""]
    for method in ("L+1", "2L"):
        full = local.get((method, 1))
        if full is not None:
            lines.append(
                f"- {method}, full target measured: {full['wall_s'] / 60:.1f} min in one process, "
                f"{full['peak_rss_mb'] / 1024:.1f} GB peak, {full['saved_bytes'] / 2**30:.2f} GiB saved; "
                f"{_split(full)}, so {_with_workers(full, 60, 'min')} with 64 workers.")
            continue
        base = local[(method, min(args.scales))]
        full_problems_factor = min(args.scales) ** 2  # problems scale with the product of adjacent widths
        lines.append(
            f"- {method}: at s = {base['scale']}, of the {base['wall_s']:.1f} s: {_split(base)}. With 64 workers: "
            f"{_with_workers(base, 1, 's')} at this size; for the full 25M-weight target (about "
            f"{full_problems_factor}x the problems and kept edges): about "
            f"{full_problems_factor * base['wall_s'] / 60:.0f} min in one process on this machine, "
            f"{_with_workers(base, 60 / full_problems_factor, 'min')} with 64 workers, and a peak RSS of "
            f"about {full_problems_factor * base['peak_rss_mb'] / 1024:.0f} GB at this size's bytes per kept edge.")
    lines += [
        "",
        "Reading the figures: the full L+1 target solves about 1.55 billion subset-sum problems and keeps "
        "about 2.75 billion edges. The ticket holds its kept edges by row, each row's columns as varints of "
        "their gaps (tickets/edges.py, csrc/cpu/varint_rows.hpp: about 1.1 bytes per kept edge here, and "
        "the saved file the same), during the build too: solved blocks are kept as compressed chunks and "
        "merged a batch of rows at a time, so the peak is about 1.4 bytes per kept edge at full size. "
        "The jobs (drawing, gathering and solving blocks) run a CPU's worth at a time, each on one core, "
        "while the driver's single-threaded bookkeeping (on the calling thread) records the blocks already "
        "solved; the bookkeeping stays on one machine: a cluster divides only the jobs. Small builds are dominated by the "
        "interpreter and libraries (about 40 MB). The 2L construction keeps about 30 times fewer edges. "
        "Timings on this shared VM vary by up to 40% (load averages above).",
    ]
    write_results(RESULTS, lines)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
