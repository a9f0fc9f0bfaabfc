"""GPU throughput of subsetsum.solve, side by side with the CPU backend and a plain numba.cuda
kernel, in one process. Writes benchmarks/results/solve-gpu.md.

    python benchmarks/bench_gpu.py            # full run (needs a CUDA device)
    python benchmarks/bench_gpu.py --quick    # small batches

Each scenario first checks a sample of GPU results against the CPU backend (identical subsets),
then times the GPU with explicit synchronisation (best of several runs).
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

import subsetsum

# (mode, n, kwargs, dtype, batch)
SCENARIOS = [
    ("min_size", 15, {"max_size": 10}, torch.float32, 1 << 27),
    ("min_size", 15, {"max_size": 10}, torch.float64, 1 << 26),
    ("min_size", 30, {"max_size": 10}, torch.float32, 1 << 25),
    ("best", 12, {}, torch.float32, 1 << 22),
    ("best", 20, {}, torch.float32, 1 << 18),
    ("best", 24, {}, torch.float32, 1 << 16),
    ("fixed_size", 64, {"k": 8}, torch.float32, 1 << 24),
    ("fixed_size", 20, {"k": 5}, torch.float32, 1 << 22),
]
EPS = 0.01
# min_size's first-pass settings timed side by side (0: one pass; csrc/cuda/min_size_two_pass.cuh)
FIRST_PASS_SIZES = (0, 1, 2, 3)
# best's meet in the middle: one problem per thread (0), or per block of this many threads
TEAM_THREADS = (0, 32, 64, 128, 256)

# Peak memory bandwidth by device name (vendor figures, bytes/s).
PEAK_BANDWIDTH = {"H100 80GB HBM3": 3.35e12, "H100 PCIe": 2.0e12, "H100 NVL": 3.9e12,
                  "H200": 4.8e12, "A100-SXM4-80GB": 2.04e12, "A100-SXM4-40GB": 1.56e12}


def peak_bandwidth(name: str) -> float | None:
    for key, value in PEAK_BANDWIDTH.items():
        if key in name:
            return value
    return None


def gpu_time(fn, repeats: int) -> float:
    fn()
    torch.cuda.synchronize()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def numba_cuda_min_size(n: int):
    """A straightforward numba.cuda kernel: one thread per problem, every subset in Gray-code
    order, best per size; min_size answer from those. None when numba.cuda is unusable."""
    try:
        from numba import cuda
        if not cuda.is_available():
            return None
    except Exception:
        return None

    @cuda.jit
    def kernel(targets, bases, eps, max_size, out_bits, out_err):
        b = cuda.grid(1)
        if b >= bases.shape[0]:
            return
        best_err = cuda.local.array(65, dtype=np.float64)
        best_bits = cuda.local.array(65, dtype=np.int64)
        for s in range(n + 1):
            best_err[s] = math.inf
            best_bits[s] = 0
        z = np.float64(targets[b])
        best_err[0] = abs(z)
        total = 0.0
        bits = 0
        size = 0
        for g in range(1, 1 << n):
            bit = 0
            while not (g >> bit) & 1:
                bit += 1
            bits ^= 1 << bit
            if (bits >> bit) & 1:
                total += np.float64(bases[b, bit])
                size += 1
            else:
                total -= np.float64(bases[b, bit])
                size -= 1
            err = abs(z - total)
            if err < best_err[size]:
                best_err[size] = err
                best_bits[size] = bits
        pick = -1
        for s in range(max_size + 1):
            if best_err[s] <= eps:
                pick = s
                break
        if pick < 0:
            pick = 0
            for s in range(1, max_size + 1):
                if best_err[s] < best_err[pick]:
                    pick = s
        out_bits[b] = best_bits[pick]
        out_err[b] = best_err[pick]

    def run(t, x, max_size):
        batch = x.shape[0]
        bits = torch.empty(batch, dtype=torch.int64, device="cuda")
        err = torch.empty(batch, dtype=torch.float64, device="cuda")
        threads = 128
        kernel[(batch + threads - 1) // threads, threads](
            cuda.as_cuda_array(t), cuda.as_cuda_array(x), EPS, max_size,
            cuda.as_cuda_array(bits), cuda.as_cuda_array(err))
        return bits, err

    return run


# The same plain enumeration as numba_cuda_min_size, in CUDA C through cupy.RawKernel: the
# device baseline where numba.cuda cannot compile (numba 0.68 against numpy 2).
PLAIN_MIN_SIZE_SOURCE = r"""
extern "C" __global__ void plain_min_size(const float* targets, const float* bases, long long batch,
                                          int n, double eps, int max_size,
                                          long long* out_bits, double* out_err) {
  const long long b = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (b >= batch) return;
  double best_err[65];
  long long best_bits[65];
  for (int s = 0; s <= n; ++s) { best_err[s] = 1e300; best_bits[s] = 0; }
  const double z = targets[b];
  best_err[0] = fabs(z);
  double total = 0.0;
  long long bits = 0;
  int size = 0;
  for (long long g = 1; g < (1LL << n); ++g) {
    const int bit = __ffsll(g) - 1;
    bits ^= 1LL << bit;
    if ((bits >> bit) & 1) { total += (double)bases[b * n + bit]; ++size; }
    else { total -= (double)bases[b * n + bit]; --size; }
    const double err = fabs(z - total);
    if (err < best_err[size]) { best_err[size] = err; best_bits[size] = bits; }
  }
  int pick = -1;
  for (int s = 0; s <= max_size; ++s) if (best_err[s] <= eps) { pick = s; break; }
  if (pick < 0) {
    pick = 0;
    for (int s = 1; s <= max_size; ++s) if (best_err[s] < best_err[pick]) pick = s;
  }
  out_bits[b] = best_bits[pick];
  out_err[b] = best_err[pick];
}
"""


def cupy_plain_min_size():
    """The plain enumeration kernel compiled by cupy (NVRTC); None when cupy is unusable."""
    try:
        import cupy
        kernel = cupy.RawKernel(PLAIN_MIN_SIZE_SOURCE, "plain_min_size")
    except Exception:
        return None

    def run(t, x, max_size):
        batch, n = x.shape
        bits = torch.empty(batch, dtype=torch.int64, device="cuda")
        err = torch.empty(batch, dtype=torch.float64, device="cuda")
        threads = 128
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            kernel(((batch + threads - 1) // threads,), (threads,),
                   (cupy.asarray(t), cupy.asarray(x), cupy.int64(batch), cupy.int32(n),
                    cupy.float64(EPS), cupy.int32(max_size), cupy.asarray(bits), cupy.asarray(err)))
        return bits, err

    return run


def setting_rates(get, set_to, values, sample_solve, reference, run_gpu, batch):
    """Problems/s of ``run_gpu`` at every value of a kernel setting (``get``/``set_to``: its
    getter and setter in subsetsum._cuda), and whether each value gave ``reference``'s subsets on
    the sample; the setting is restored afterwards."""
    default = get()
    rates, same = {}, True
    try:
        for value in values:
            set_to(value)
            same = same and bool(torch.equal(sample_solve().subsets, reference.subsets))
            rates[value] = batch / gpu_time(run_gpu, repeats=3)
    finally:
        set_to(default)
    return rates, same


def driver_version() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small batches")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "solve-gpu.md"))
    args = parser.parse_args()
    if not subsetsum.cuda_available():
        raise SystemExit("bench_gpu: no CUDA device (subsetsum.cuda_available() is False)")

    name = torch.cuda.get_device_name()
    peak = peak_bandwidth(name)
    gen = torch.Generator(device="cuda").manual_seed(0)
    rows = []
    for mode, n, kwargs, dtype, batch in SCENARIOS:
        if args.quick:
            batch = max(1 << 12, batch >> 6)
        x = torch.rand(batch, n, generator=gen, device="cuda", dtype=dtype) * 2 - 1
        t = torch.rand(batch, generator=gen, device="cuda", dtype=dtype) * 2 - 1

        def run_gpu(t=t, x=x, mode=mode, kwargs=kwargs):  # bound now: the loop deletes t and x
            return subsetsum.solve(t, x, eps=EPS, mode=mode, **kwargs)

        # correctness first: a sample against the CPU backend
        sample = min(batch, 20_000)
        ref = subsetsum.solve(t[:sample].cpu().numpy(), x[:sample].cpu().numpy(), eps=EPS, mode=mode, **kwargs)
        res = subsetsum.solve(t[:sample], x[:sample], eps=EPS, mode=mode, **kwargs)
        key = "subsets" if ref.subsets is not None else "indices"
        agree = bool(np.array_equal(getattr(res, key).cpu().numpy(), getattr(ref, key)))

        seconds = gpu_time(run_gpu, repeats=3)
        result = run_gpu()
        gpu_rate = batch / seconds
        from subsetsum import _cuda

        def sample_solve(t=t, x=x, mode=mode, kwargs=kwargs):
            return subsetsum.solve(t[:sample], x[:sample], eps=EPS, mode=mode, **kwargs)

        first_pass_rates, team_rates = {}, {}
        if mode == "min_size":  # every first-pass setting of the two-pass launch, same instances
            first_pass_rates, same = setting_rates(_cuda.min_size_first_pass_sizes, _cuda.set_min_size_first_pass_sizes,
                                                   FIRST_PASS_SIZES, sample_solve, res, run_gpu, batch)
            agree = agree and same
        if mode == "best" and result.algorithm == "meet_in_the_middle":  # one problem per thread or per block
            team_rates, same = setting_rates(_cuda.best_team_threads, _cuda.set_best_team_threads, TEAM_THREADS,
                                             sample_solve, res, run_gpu, batch)
            agree = agree and same
        item = x.element_size()
        bytes_moved = batch * (n * item + item + 8 + 8 + 8 + 4 + 1)
        bandwidth = bytes_moved / seconds

        # the CPU backend of this machine, on a slice of the same instances
        cpu_batch = min(batch, 200_000 if mode != "best" else 2_000)
        xc, tc = x[:cpu_batch].cpu().numpy(), t[:cpu_batch].cpu().numpy()
        start = time.perf_counter()
        subsetsum.solve(tc, xc, eps=EPS, mode=mode, **kwargs)
        cpu_rate = cpu_batch / (time.perf_counter() - start)

        numba_rate = plain_rate = None
        if mode == "min_size" and n <= 20 and dtype == torch.float32:
            nb = min(batch, 1 << 20)
            tn, xn = t[:nb].contiguous(), x[:nb].contiguous()
            kernel = numba_cuda_min_size(n)
            if kernel is not None:
                try:
                    numba_rate = nb / gpu_time(lambda: kernel(tn, xn, kwargs["max_size"]), repeats=2)
                except Exception as exc:  # driver/toolkit mismatch: report, do not fail the run
                    print(f"numba.cuda kernel failed: {exc!r}")
            plain = cupy_plain_min_size()
            if plain is not None:
                bits, err = plain(tn[:sample], xn[:sample], kwargs["max_size"])
                ours = subsetsum.solve(tn[:sample], xn[:sample], eps=EPS, mode=mode, **kwargs)
                # same answer where the plain kernel's pick is unique: compare errors and found
                plain_found = err <= EPS
                if not torch.equal(plain_found.cpu(), ours.found.cpu()):
                    print("cupy plain kernel: found flags differ from subsetsum's")
                plain_rate = nb / gpu_time(lambda: plain(tn, xn, kwargs["max_size"]), repeats=2)
        rows.append(dict(
            mode=mode, n=n, params=", ".join(f"{k}={v}" for k, v in kwargs.items()),
            dtype=str(dtype).replace("torch.", ""), batch=batch, algorithm=result.algorithm,
            gpu=gpu_rate, first_pass=first_pass_rates, team=team_rates, cpu=cpu_rate, numba=numba_rate, plain=plain_rate, bandwidth=bandwidth,
            found=float(result.found.float().mean()), agree=agree,
        ))
        print(rows[-1], flush=True)
        del x, t, result
        torch.cuda.empty_cache()

    lines = [
        "# subsetsum.solve on the GPU",
        "",
        f"Recorded {datetime.date.today()} by `python benchmarks/bench_gpu.py{' --quick' if args.quick else ''}`.",
        "",
        f"- device: {name}, driver {driver_version()}, CUDA runtime {subsetsum.compile_options()['cuda_runtime']}",
        f"- host: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (CPU column uses all of them)",
        f"- torch {torch.__version__}, eps = {EPS}, inputs Uniform[-1, 1] generated on the device",
        f"- peak memory bandwidth used for the ratio: {peak/1e12:.2f} TB/s" if peak else "- peak memory bandwidth: unknown device",
        "",
        "| mode | n | params | dtype | batch | algorithm | GPU problems/s | min_size first pass 0 / 1 / 2 / 3 | best: thread per problem / block of 32 / 64 / 128 / 256 | CPU problems/s | GPU/CPU | plain CUDA kernel problems/s | GPU/plain | numba.cuda problems/s | GPU/numba | bandwidth GB/s | % of peak | found | same subsets as CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        numba = f"{r['numba']:.3g}" if r["numba"] else "-"
        ratio_numba = f"{r['gpu'] / r['numba']:.1f}x" if r["numba"] else "-"
        plain = f"{r['plain']:.3g}" if r["plain"] else "-"
        first_pass = " / ".join(f"{r['first_pass'][k]:.3g}" for k in FIRST_PASS_SIZES) if r["first_pass"] else "-"
        team = " / ".join(f"{r['team'][k]:.3g}" for k in TEAM_THREADS) if r["team"] else "-"
        ratio_plain = f"{r['gpu'] / r['plain']:.1f}x" if r["plain"] else "-"
        pct = f"{100 * r['bandwidth'] / peak:.1f}%" if peak else "-"
        lines.append(
            f"| {r['mode']} | {r['n']} | {r['params']} | {r['dtype']} | {r['batch']:,} | {r['algorithm']} "
            f"| {r['gpu']:.3g} | {first_pass} | {team} | {r['cpu']:.3g} | {r['gpu'] / r['cpu']:.0f}x | {plain} | {ratio_plain} | {numba} | {ratio_numba} "
            f"| {r['bandwidth'] / 1e9:.1f} | {pct} | {r['found']:.4f} | {'yes' if r['agree'] else 'NO'} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
