"""``subsetsum throughput``: solve many random problems and print speed and quality.

The defaults are the setting of the published L+1/2L experiments (``mode="min_size"``, n = 15
Uniform[-1, 1] elements, max size 10, eps = 0.01), in float32, a million problems. The targets
and elements are drawn from a seeded ``numpy.random.Generator``, so a run is reproducible and two
backends given the same options solve the same problems.

Only the solve is timed: drawing the problems, a small warm-up solve (numba compilation, thread
start-up) and printing are not.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

# How many problems the untimed warm-up solves; enough to compile and start every thread.
_WARMUP_PROBLEMS = 1000


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Adds the subcommand's options to ``parser``."""
    from .solve import BACKENDS, MODES

    parser.add_argument("--count", type=int, default=1_000_000,
                        help="number of problems to solve (default: %(default)s)")
    parser.add_argument("--n", type=int, default=15,
                        help="elements per problem (default: %(default)s)")
    parser.add_argument("--mode", choices=MODES, default="min_size",
                        help="what to solve (default: %(default)s)")
    parser.add_argument("--eps", type=float, default=0.01,
                        help="tolerance: a problem is found when |target - sum| <= eps "
                             "(default: %(default)s)")
    parser.add_argument("--max-size", type=int, default=10,
                        help="largest subset size for --mode min_size (default: %(default)s)")
    parser.add_argument("--k", type=int, default=None,
                        help="subset size for --mode fixed_size (required there)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="element and target dtype (default: %(default)s)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="solver backend; 'cuda' copies the problems to the GPU "
                             "(default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random problems (default: %(default)s)")


def random_problems(count: int, n: int, dtype, rng: np.random.Generator):
    """``(targets, bases)``: ``count`` problems with targets and elements i.i.d. Uniform[-1, 1].

    Drawn directly in ``dtype`` so a million float32 problems never pass through float64.
    """
    dtype = np.dtype(dtype)
    bases = rng.random((count, n), dtype=dtype)
    bases *= 2
    bases -= 1
    targets = rng.random(count, dtype=dtype)
    targets *= 2
    targets -= 1
    return targets, bases


def _check_options(args) -> str | None:
    """A message naming the bad option, or None."""
    if args.count < 1:
        return f"--count: expected an int >= 1, got {args.count}"
    if args.n < 1:
        return f"--n: expected an int >= 1, got {args.n}"
    if args.mode == "fixed_size" and args.k is None:
        return "--k: --mode fixed_size needs the subset size --k"
    if args.mode != "fixed_size" and args.k is not None:
        return f"--k: only used by --mode fixed_size, got --k {args.k} with --mode {args.mode}"
    if args.threads is not None and args.threads < 1:
        return f"--threads: expected an int >= 1, got {args.threads}"
    return None


def main(args) -> int:
    """Runs the subcommand; returns the process exit status."""
    from .solve import default_threads, solve

    problem = _check_options(args)
    if problem is not None:
        print(f"subsetsum throughput: error: {problem}", file=sys.stderr)
        return 2

    rng = np.random.default_rng(args.seed)
    targets, bases = random_problems(args.count, args.n, args.dtype, rng)
    options = dict(
        eps=args.eps,
        mode=args.mode,
        max_size=args.max_size if args.mode == "min_size" else None,
        k=args.k,
        backend=args.backend,
        num_threads=args.threads,
    )
    warmup = min(args.count, _WARMUP_PROBLEMS)
    try:
        solve(targets[:warmup], bases[:warmup], **options)
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"subsetsum throughput: error: {exc}", file=sys.stderr)
        return 2

    start = time.perf_counter()
    result = solve(targets, bases, progress=sys.stderr.isatty(), **options)
    seconds = time.perf_counter() - start

    sizes = {"min_size": f", max_size={args.max_size}", "fixed_size": f", k={args.k}"}
    # Host arrays under backend="auto" run on the compiled CPU core.
    backend = "cpu" if args.backend == "auto" else args.backend
    if backend == "cuda":
        workers = "GPU"
    else:
        if args.threads is not None:
            threads = args.threads
        elif backend == "numba":
            import numba

            threads = numba.get_num_threads()
        else:
            threads = default_threads()
        workers = f"{threads} thread{'s' if threads != 1 else ''}"
    print(
        f"problems:   {args.count} (mode={args.mode}, n={args.n}, eps={args.eps:g}"
        f"{sizes.get(args.mode, '')}, {args.dtype} Uniform[-1, 1], seed={args.seed})"
    )
    print(f"backend:    {backend}, algorithm {result.algorithm}, {workers}")
    print(f"time:       {seconds:.3f} s")
    print(f"throughput: {args.count / seconds:,.0f} problems/s")
    print(f"found:      {float(np.mean(result.found)):.4%}")
    print(f"mean error: {float(np.mean(result.errors)):.3e}")
    print(f"mean size:  {float(np.mean(result.sizes)):.3f}")
    return 0
