"""``subsetsum stats``: Monte-Carlo subset-sum statistics, written as CSV files and PNG plots.

Experiments (each a :func:`subsetsum.stats.sweep`, one solve call per grid point):

* ``rss``: success probability against n for plain random subset sum -- uniform bases at three
  tolerances, normal and product (2L) bases at eps = 0.01 -- and the fitted constant C of
  ``n >= C log(1 / min(eps, delta))`` (001_d33223a708772bec.txt, section 2) and Lueker's decay
  rate b (000_79c8cccaad099f72.txt, proof of Lemma A.1);
* ``er``: the same for ER(p)-masked uniform bases at several p, and the measured width factor
  ``n(p) / n(1)`` beside ``1 / log(1 / (1 - p))`` (000, Lemma 2.4);
* ``rfss``: success against n for subsets of exactly k, and the required n against k / n
  beside the shape of 002_9a3e2d17b88c5f76.txt, Theorem 2;
* ``distributions``: error and subset-size distributions for n = 15, eps = 0.01, uniform and
  product bases (the published L+1/2L setting, 001 section 3);
* theory-only curves: 000 Figure 2 and 002 Figure 1.

Success counts use ``mode="best"`` up to n = 22 (its meet-in-the-middle search costs the same
whether or not a problem succeeds) and ``mode="min_size"`` above (it stops at the first size that works); both succeed exactly when
some subset is within eps. Grids over n end where the first-moment estimate
:func:`subsetsum.theory.expected_solution_count` says success is near certain.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

# Level at which "required n" is read off a success curve: 1 - delta for the RSS/ER bounds
# (which hold with probability 1 - delta) and a constant probability for RFSS (Theorem 2
# guarantees a constant c_thm, not 1 - delta).
RSS_DELTA = 0.1
RFSS_LEVEL = 0.5

# Expected number of solutions at which a grid over n stops: success is then ~1 - e^-8.
GRID_END_EXPECTED_SOLUTIONS = 8.0

# Above this many elements "best" (exhaustive meet in the middle over all n elements, masked or
# not) is dearer than "min_size", which stops at the first size that works and skips masked
# elements; below it "best" is cheaper where many problems fail.
BEST_MODE_MAX_ELEMENTS = 22

DEFAULT_SAMPLES = 20_000
QUICK_SAMPLES = 300


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Adds the subcommand's options to ``parser``; bad values are argparse errors (status 2)."""
    from .cli import int_at_least, output_folder

    parser.set_defaults(_parser=parser)
    parser.add_argument("--out", type=output_folder, default=Path("stats-out"),
                        help="output folder for the CSV and PNG files, created if missing (default: %(default)s)")
    parser.add_argument("--samples", type=int_at_least(1), default=None,
                        help=f"random problems per grid point (default: {DEFAULT_SAMPLES}, "
                             f"{QUICK_SAMPLES} with --quick)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="seed of all random problems (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="small grids and few samples: a run of seconds, for tests and CI")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to draw (uniform and product bases) and solve; the problems "
                             "and results do not depend on it (default: %(default)s)")
    parser.add_argument("--threads", type=int_at_least(1), default=None,
                        help="CPU threads per solve (default: all cores; 1 per Ray task)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="solve here (default) or as Ray tasks on the cluster ray.init connects to "
                             "(pip install \"subsetsum[distributed]\"); the results are the same")
    parser.add_argument("--no-plots", action="store_true",
                        help="write the CSV files only (no matplotlib needed)")
    parser.add_argument("--no-progress", action="store_true",
                        help="do not show a progress bar")


def main(args: argparse.Namespace) -> int:
    """Runs every experiment; returns the exit status."""
    from . import stats
    from .cli import check_plots_and_device, make_output_folder, usage_error

    samples = args.samples if args.samples is not None else (QUICK_SAMPLES if args.quick else DEFAULT_SAMPLES)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        usage_error(args, f"argument --samples: expected an int >= 1, got {samples!r}")
    if args.seed < 0:
        usage_error(args, f"argument --seed: expected an int >= 0, got {args.seed}")
    if args.threads is not None:
        import importlib

        solve_module = importlib.import_module("subsetsum.solve")  # the module (the package's .solve is the function)
        limit = getattr(solve_module, "max_threads", lambda: None)()  # the solver's own ceiling
        if args.threads < 1 or (limit is not None and args.threads > limit):
            usage_error(args, f"argument --threads: expected an int in [1, {limit}], got {args.threads}")
    plots = not args.no_plots
    device = check_plots_and_device(args)
    if args.executor == "ray":
        from .tickets.executor import get_executor

        try:
            get_executor("ray")
        except ImportError as exc:
            usage_error(args, f"argument --executor: {exc}")
    out = make_output_folder(args, "--out", Path(args.out))

    plan = _plan(args.quick)
    total = samples * sum(len(grid) for grid in plan.values())
    bar, update = _progress(total, disabled=args.no_progress)
    seeds = np.random.SeedSequence(args.seed).spawn(len(plan))
    results = {}
    started = time.perf_counter()
    try:
        for (name, grid), child in zip(plan.items(), seeds):
            results[name] = stats.sweep(grid, samples, seed=int(child.generate_state(1)[0]),
                                        device=device, num_threads=args.threads, progress=update,
                                        keep_samples=False, executor=args.executor)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started

    fits = _fits(results, plan)
    written = _write_tables(out, results, fits, samples, args, device, elapsed)
    if plots:
        written += _write_plots(out, results, fits)
    print(f"subsetsum stats: {total:,} problems in {elapsed:.1f} s on {device}; fitted constants:")
    for row in fits["rows"]:
        if math.isfinite(row["value"]):
            print(f"  {row['name']:<28} {row['value']:>10.4g}  {row['description']}")
    for note in fits["notes"]:
        print(f"  skipped {note}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


# --------------------------------------------------------------------------------------------
# the plan


def _mode_for(n: int) -> str:
    return "best" if n <= BEST_MODE_MAX_ELEMENTS else "min_size"


def _grid_end(eps: float, *, k: int | None = None, cap: int = 64) -> int:
    """Smallest n whose first-moment estimate reaches GRID_END_EXPECTED_SOLUTIONS (uniform)."""
    from . import theory

    start = 1 if k is None else k + 1
    for n in range(start, cap + 1):
        if theory.expected_solution_count(n, eps, k=k) >= GRID_END_EXPECTED_SOLUTIONS:
            return n
    return cap


def _plan(quick: bool) -> dict:
    """Grid points of every experiment, by experiment name."""
    from .stats import Scenario

    plan = {}
    # rss: (base, eps) curves, n = 1 .. grid end (products need more elements: their magnitude
    # is smaller, so the grid runs further).
    curves = [("uniform", 0.1), ("uniform", 0.01), ("normal", 0.01), ("product", 0.01)]
    if not quick:
        curves.insert(2, ("uniform", 0.001))
    rss = []
    for base, eps in curves:
        end = _grid_end(eps, cap=40)
        end = end if base == "uniform" else int(1.6 * end) + 2
        if quick:
            end = min(end, 10)
        rss += [Scenario(n=n, eps=eps, mode=_mode_for(n), base=base) for n in range(1, end + 1)]
    plan["rss"] = rss

    # er: uniform bases, eps = 0.01, density p; the dense grid end divided by p (<= 64).
    densities = (1.0, 0.5) if quick else (1.0, 0.7, 0.5, 0.3, 0.2)
    dense_end = _grid_end(0.01)
    er = []
    for p in densities:
        end = min(64, math.ceil(1.5 * dense_end / p))
        if quick:
            end = min(end, 20)
        step = 1 if end <= 24 else 2
        er += [Scenario(n=n, eps=0.01, mode=_mode_for(n), density=p) for n in range(1, end + 1, step)]
    plan["er"] = er

    # rfss: subsets of exactly k; grid from k + 1 to the grid end (<= 256, n > 64 is fine).
    ks = (1, 2, 3) if quick else (1, 2, 3, 4, 6, 8)
    rfss = []
    for k in ks:
        end = _grid_end(0.01, k=k, cap=256)
        if quick:
            end = min(end, 24)
        ns = np.unique(np.round(np.geomspace(k + 1, end, 8 if quick else 18)).astype(int))
        rfss += [Scenario(n=int(n), eps=0.01, mode="fixed_size", k=k) for n in ns]
    plan["rfss"] = rfss

    # distributions: n = 15, eps = 0.01; smallest errors ("best") and smallest sizes
    # ("min_size", at most 10 elements: 001 section 3).
    plan["distributions"] = [
        Scenario(n=15, eps=0.01, mode=mode, base=base, **({"max_size": 10} if mode == "min_size" else {}))
        for base in ("uniform", "product") for mode in ("best", "min_size")
    ]
    return plan


def _progress(total: int, *, disabled: bool):
    if disabled:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="problem", unit_scale=True, desc="subsetsum stats", file=sys.stderr)
    return bar, bar.update


# --------------------------------------------------------------------------------------------
# fits


def _curves(estimates, key):
    """Estimates grouped by key(scenario), each group sorted by n."""
    groups = {}
    for e in estimates:
        groups.setdefault(key(e.scenario), []).append(e)
    return {g: sorted(v, key=lambda e: e.scenario.n) for g, v in groups.items()}


def _skip(fits: dict, name: str, reason: str) -> None:
    """Records a fit left out: a row with value nan in fits.csv and a line in the summary."""
    fits["rows"].append({"name": name, "value": float("nan"), "description": reason})
    fits["notes"].append(f"{name}: {reason}")


def _fits(results: dict, plan: dict) -> dict:
    """Every fitted constant; a fit the measurements cannot support is skipped with a note
    (``fits["notes"]``), never an error, so a short run still writes every file."""
    from . import stats, theory

    rows = []
    fits = {"rows": rows, "notes": []}

    rss = _curves(results["rss"], lambda s: (s.base_name, s.eps))
    fits["rss_required"] = {}
    for (base, eps), est in rss.items():
        need = stats.required_n(est, 1.0 - RSS_DELTA)
        fits["rss_required"][(base, eps)] = need
        if math.isfinite(need):
            rows.append({"name": f"C_rss[{base},eps={eps:g}]",
                         "value": need / float(theory.subset_sum_n(eps, RSS_DELTA)),
                         "description": f"n(P={1 - RSS_DELTA:g}) / log(1/min(eps, {RSS_DELTA:g})), 001 sec. 2"})
    uniform = [(eps, fits["rss_required"][("uniform", eps)]) for (b, eps) in rss if b == "uniform"]
    if len(uniform) >= 1:
        c, _ = stats.fit_subset_sum_constant([u[1] for u in uniform], [u[0] for u in uniform], RSS_DELTA)
        fits["C_rss_uniform"] = c
        rows.append({"name": "C_rss[uniform, fit]", "value": c,
                     "description": "least squares over the uniform tolerances"})
    # Lueker's decay rate from the failure counts of the uniform eps = 0.01 curve.
    est = rss.get(("uniform", 0.01), [])
    fits["lueker"] = None
    try:
        a, b = stats.fit_failure_decay([e.scenario.n for e in est], [e.successes for e in est],
                                       [e.trials for e in est], 0.01)
    except ValueError as exc:
        _skip(fits, "lueker_b[uniform]", f"not fitted: {exc}")
    else:
        if math.isfinite(b) and b > 0 and math.isfinite(a) and a > 0:
            fits["lueker"] = (a, b)
            rows.append({"name": "lueker_b[uniform]", "value": b,
                         "description": "P(fail) ~ a exp(-b n)/eps, per element (000 proof of Lemma A.1)"})
            rows.append({"name": "lueker_a[uniform]", "value": a, "description": "the scale a of that fit"})
        else:  # noise: with few samples the failure rates need not fall with n
            _skip(fits, "lueker_b[uniform]",
                  f"not fitted: the measured failure rates do not fall with n (fitted b = {b:.3g}, "
                  "needs b > 0); more --samples")

    er = _curves(results["er"], lambda s: s.density)
    need = {p: stats.required_n(est, 1.0 - RSS_DELTA) for p, est in er.items()}
    fits["er_required"] = need
    dense = need.get(1.0, float("nan"))
    ps = np.array(sorted(p for p in need if p < 1.0))
    factors = np.array([need[p] / dense for p in ps])
    fits["er_factors"] = (ps, factors)
    for p, f in zip(ps, factors):
        rows.append({"name": f"width_factor[p={p:g}]", "value": f,
                     "description": f"n(p) / n(1) at P = {1 - RSS_DELTA:g}; 1/log(1/(1-p)) = "
                                    f"{float(theory.er_width_factor(p)):.3f}"})
    if ps.size and np.isfinite(factors).any():
        c, _ = stats.fit_proportional(factors, np.asarray(theory.er_width_factor(ps)))
        b = stats.fit_er_decay_rate(np.append(ps, 1.0), np.append(factors, 1.0))
        fits["er_C"], fits["er_b"] = c, b
        rows.append({"name": "C_er", "value": c,
                     "description": "n(p)/n(1) ~ C / log(1/(1-p)) (000 Lemma 2.4), least squares"})
        rows.append({"name": "b_er", "value": b,
                     "description": "n(p)/n(1) = b / log(1/(1-p(1-e^-b))) (000 proof of Lemma A.1)"})

    rfss = _curves(results["rfss"], lambda s: s.k)
    ks = np.array(sorted(rfss))
    need_k = np.array([stats.required_n(rfss[k], RFSS_LEVEL) for k in ks])
    fits["rfss_required"] = (ks, need_k)
    for k, n in zip(ks, need_k):
        rows.append({"name": f"rfss_n[k={k}]", "value": n,
                     "description": f"n where P(exactly {k} within 0.01) = {RFSS_LEVEL:g}"})
    if np.isfinite(need_k).any():
        c, _ = stats.fit_rfss_constant(need_k, ks, 0.01)
        fits["rfss_c"] = c
        rows.append({"name": "c_hyp", "value": c,
                     "description": f"n >= c log2(k/eps)/H2(k/n) at P = {RFSS_LEVEL:g} (002 Thm 2)"})
    return fits


# --------------------------------------------------------------------------------------------
# tables and plots


def _write_tables(out: Path, results: dict, fits: dict, samples: int, args, device: str,
                  elapsed: float) -> list[Path]:
    from . import stats

    written = []
    for name, est in results.items():
        written.append(stats.write_csv(out / f"{name}.csv", stats.estimates_to_rows(est),
                                       stats.CSV_COLUMNS))
    hist_rows, size_rows = [], []
    for e in results["distributions"]:
        s = e.scenario
        for lo, hi, count in zip(stats.ERROR_BIN_EDGES[:-1], stats.ERROR_BIN_EDGES[1:], e.error_counts):
            if count:
                hist_rows.append({"base": s.base_name, "mode": s.mode, "error_lo": lo, "error_hi": hi,
                                  "count": int(count)})
        for size, count in enumerate(e.size_counts):
            size_rows.append({"base": s.base_name, "mode": s.mode, "size": size, "count": int(count)})
    written.append(stats.write_csv(out / "error_histogram.csv", hist_rows,
                                   ("base", "mode", "error_lo", "error_hi", "count")))
    written.append(stats.write_csv(out / "size_histogram.csv", size_rows, ("base", "mode", "size", "count")))
    meta = [{"name": "samples_per_point", "value": samples, "description": "random problems per grid point"},
            {"name": "seed", "value": args.seed, "description": "--seed"},
            {"name": "seconds", "value": elapsed, "description": f"wall time of the sweeps on {device}"}]
    written.append(stats.write_csv(out / "fits.csv", fits["rows"] + meta, ("name", "value", "description")))
    return written


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _interval_plot(ax, est, label):
    ns = [e.scenario.n for e in est]
    p = np.array([e.probability for e in est])
    lo = np.array([e.lower for e in est])
    hi = np.array([e.upper for e in est])
    line, = ax.plot(ns, p, marker="o", ms=3, lw=1.2, label=label)
    ax.fill_between(ns, lo, hi, color=line.get_color(), alpha=0.25, lw=0)
    return line


def _write_plots(out: Path, results: dict, fits: dict) -> list[Path]:
    from . import stats, theory

    written = []
    # 1. Phase transitions.
    fig, (ax_rss, ax_er, ax_rfss) = _figure(13.5, 4.0, 3)
    for (base, eps), est in _curves(results["rss"], lambda s: (s.base_name, s.eps)).items():
        line = _interval_plot(ax_rss, est, f"{base}, eps={eps:g}")
        if base == "uniform":
            ns = np.arange(1, est[-1].scenario.n + 1)
            heuristic = [1 - math.exp(-theory.expected_solution_count(int(n), eps)) for n in ns]
            ax_rss.plot(ns, heuristic, ls=":", color=line.get_color(), lw=1)
    ax_rss.set(title="random subset sum", xlabel="n (elements)", ylabel="P(some subset within eps)")
    for p, est in sorted(_curves(results["er"], lambda s: s.density).items(), reverse=True):
        _interval_plot(ax_er, est, f"p={p:g}")
    ax_er.set(title="ER(p)-masked uniform, eps=0.01", xlabel="n (elements before the mask)")
    for k, est in sorted(_curves(results["rfss"], lambda s: s.k).items()):
        _interval_plot(ax_rfss, est, f"k={k}")
    ax_rfss.set(title="RFSS: exactly k elements, eps=0.01", xlabel="n (elements)", xscale="log")
    for ax in (ax_rss, ax_er, ax_rfss):
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax_rss.text(0.98, 0.02, "dotted: 1 - exp(-E[#solutions])", transform=ax_rss.transAxes,
                ha="right", va="bottom", fontsize=7)
    written.append(_save(fig, out / "phase_transitions.png"))

    # 2. Width factor and RFSS required n.
    fig, (ax_w, ax_k) = _figure(10.0, 4.0, 2)
    ps, factors = fits["er_factors"]
    if ps.size:
        grid = np.linspace(min(ps.min(), 0.15), 0.95, 200)
        ax_w.plot(ps, factors, "o", color="k", label=f"measured n(p)/n(1) at P={1 - RSS_DELTA:g}")
        if "er_C" in fits:
            ax_w.plot(grid, fits["er_C"] * np.asarray(theory.er_width_factor(grid)),
                      label=f"{fits['er_C']:.2f} / log(1/(1-p))  (000 Lemma 2.4)")
            ax_w.plot(grid, np.asarray(theory.er_relative_width(grid, fits["er_b"])), ls="--",
                      label=f"b / log(1/(1-p(1-e^-b))), b={fits['er_b']:.2f} (fit)")
        if fits.get("lueker"):
            b = fits["lueker"][1]
            ax_w.plot(grid, np.asarray(theory.er_relative_width(grid, b)), ls=":",
                      label=f"same, b={b:.2f} from the dense failure decay")
        ax_w.plot(grid, np.asarray(theory.er_width_factor(grid)), color="0.6", lw=1,
                  label="1 / log(1/(1-p))")
    ax_w.set(title="ER width factor (uniform, eps=0.01)", xlabel="density p", ylabel="n(p) / n(1)")
    ax_w.grid(alpha=0.3)
    ax_w.legend(fontsize=7)
    ks, need_k = fits["rfss_required"]
    ok = np.isfinite(need_k)
    if ok.any():
        ax_k.plot(ks[ok] / need_k[ok], need_k[ok], "o-", color="k", label=f"measured n at P={RFSS_LEVEL:g}")
        for k, n in zip(ks[ok], need_k[ok]):
            ax_k.annotate(f"k={k}", (k / n, n), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if "rfss_c" in fits:
            c = fits["rfss_c"]
            kk = np.arange(1, int(ks.max()) + 1)
            bound = np.array([theory.rfss_min_n(int(k), 0.01, constant=c, max_density=0.99) for k in kk])
            ax_k.plot(kk / bound, bound, "--", label=f"{c:.2f} log2(k/eps) / H2(k/n)  (002 Thm 2)")
            lower = np.array([theory.rfss_lower_bound_n(int(k), 0.01) for k in kk])
            ax_k.plot(kk / lower, lower, ":", label="(1/2) log2(k/eps) / H2(k/n)  (002 Thm 5, d=1)")
    ax_k.set(title="RFSS required n (eps=0.01)", xlabel="k / n (ticket density)", ylabel="n",
             xscale="log", yscale="log")
    ax_k.grid(alpha=0.3, which="both")
    from matplotlib.ticker import NullFormatter

    for axis in (ax_k.xaxis, ax_k.yaxis):  # minor labels on a log axis overlap
        axis.set_minor_formatter(NullFormatter())
    ax_k.legend(fontsize=7)
    written.append(_save(fig, out / "width_factor_and_rfss.png"))

    # 3. Distributions.
    fig, (ax_e, ax_s) = _figure(10.0, 3.8, 2)
    centers = np.sqrt(stats.ERROR_BIN_EDGES[1:-2] * stats.ERROR_BIN_EDGES[2:-1])
    for e in results["distributions"]:
        s = e.scenario
        if s.mode == "best":
            counts = e.error_counts[1:-1].astype(float)
            # counts per decade, so the curve does not depend on the bin width
            ax_e.plot(centers, counts / e.trials / 0.02, label=f"{s.base_name} (median {e.error_quantile(0.5):.1e})")
        else:
            sizes = np.arange(e.size_counts.size)
            width = 0.4
            shift = -width / 2 if s.base_name == "uniform" else width / 2
            ax_s.bar(sizes + shift, e.size_counts / e.trials, width=width,
                     label=f"{s.base_name} (found {e.probability:.3f}, mean {e.mean_size:.2f})")
    ax_e.axvline(0.01, color="0.5", ls="--", lw=1)
    ax_e.set(title="smallest error, n=15 (mode best)", xlabel="|target - sum|", xscale="log",
             ylabel="density per decade", xlim=(1e-9, 1))
    ax_s.set(title="smallest subset within 0.01, n=15, size <= 10", xlabel="subset size",
             ylabel="fraction of problems", xlim=(-0.6, 10.6))
    for ax in (ax_e, ax_s):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    written.append(_save(fig, out / "distributions.png"))

    # 4. Theory-only curves: 000 Figure 2 and 002 Figure 1.
    fig, (ax_f2, ax_f1) = _figure(10.0, 3.8, 2)
    sparsity = np.linspace(0.0, 0.99, 100)
    width = [int(theory.er_representation_widths([784, 128, 10], [1 - s, 1 - s], 0.001)[1]) for s in sparsity]
    ax_f2.plot(sparsity, width)
    ax_f2.set(title="000 Fig. 2: ER width n_S,1, target [d,128,10], 1-delta=0.999",
              xlabel="sparsity 1 - p", ylabel="width of source layer 1", yscale="log")
    ax_f2.grid(alpha=0.3, which="both")
    gammas = np.geomspace(1e-4, 0.5, 80)
    over = [theory.sparse_ticket_size([10, 10], g, 0.01, simplified=True).overparameterization for g in gammas]
    ax_f1.plot(gammas, over, label="002 Thm 3 (eq. 29, c_amp = 1)")
    ax_f1.set(title="002 Fig. 1: overparameterization vs ticket density (d=10, eps=0.01)",
              xlabel="ticket density gamma", ylabel="m / m_t", xscale="log", yscale="log")
    ax_f1.grid(alpha=0.3, which="both")
    ax_f1.legend(fontsize=7)
    for ax in (ax_f2, ax_f1):
        ax.title.set_fontsize(8)
    written.append(_save(fig, out / "theory_curves.png"))
    return written


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=90)
    return path
