"""``subsetsum prune``: pruning at initialization (003) and random pruning (004), as CSV and plots.

Three experiments, each written as CSV files and one PNG (docs/pruning_at_init.md shows them):

* ``linear`` -- 003_3a02d48777e82c5c.txt's linear-features setting: the relative error
  ``||X^T w - X^T w~||^2 / ||X^T w||^2`` of a masked weight vector against the density, for
  magnitude top-k, SynFlow top-k (inputs = the feature norms, eq. 4), sketching with the optimal
  p^0 (Algorithm 1, eq. 2) and randomized SynFlow (section 8), beside Lemma 4.1 (exact) and, on
  Gaussian data, Lemma 4.2's bound and the exact Gaussian expectation; on Gaussian and on
  structured data (features of very different scales). Files ``linear_features.csv``,
  ``prune_linear_features.png``.
* ``pruning`` -- 004_50c3a4ac78252c91.txt: the pruning budget of section 3 against the
  simulated disconnection probability of its random pruning algorithm (and the exact
  balls-and-bins probability the budget bounds), subset-sum tickets surviving random pruning of
  their source edges (the ER-masked solver), and path products of deep random graphs against
  section 7's independence estimate. Files ``random_pruning.csv``, ``ticket_survival.csv``,
  ``path_products.csv``, ``prune_random_pruning.png``.
* ``tickets`` -- a strong ticket from :func:`subsetsum.construct_ticket` on a small random
  8-16-4 ReLU target beside pruning the target itself (random, magnitude, sketching, SynFlow,
  randomized SynFlow) at equal end-to-end error: what each keeps. Files
  ``tickets_vs_pruning.csv``, ``tickets.csv``, ``prune_tickets.png``.

SynFlow needs torch; without it those lines are skipped with a note. Everything is seeded from
``--seed`` through explicit numpy Generators.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

EXPERIMENTS = ("linear", "pruning", "tickets")

# (width, depth, case) of the random-pruning panels.
PRUNING_CONFIGS = ((3, 5, "simple"), (4, 4, "simple"), (3, 8, "multivariate"))
QUICK_PRUNING_CONFIGS = ((2, 4, "simple"),)

DEFAULT_TRIALS = 4000
QUICK_TRIALS = 40


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Adds the subcommand's options to ``parser``; bad values are argparse errors (status 2).

    >>> p = argparse.ArgumentParser(); configure_parser(p)
    >>> p.parse_args(["--only", "linear", "--only", "tickets"]).only
    ['linear', 'tickets']
    """
    from .cli import int_at_least, output_folder

    parser.set_defaults(_parser=parser)
    parser.add_argument("--out", type=output_folder, default=Path("prune-out"),
                        help="output folder for the CSV and PNG files, created if missing (default: %(default)s)")
    parser.add_argument("--trials", type=int_at_least(2), default=None,
                        help=f"Monte-Carlo trials per point of the random-graph simulations (default: "
                             f"{DEFAULT_TRIALS}, {QUICK_TRIALS} with --quick; the other experiments use "
                             "a tenth, at least 20)")
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="seed of every random draw (default: 0)")
    parser.add_argument("--quick", action="store_true", help="small sizes and few trials: seconds, for tests")
    parser.add_argument("--only", action="append", choices=EXPERIMENTS, default=None,
                        help="run only this experiment (repeatable; default: all)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                        help="where the ticket-survival problems are solved (default: %(default)s)")
    parser.add_argument("--no-plots", action="store_true", help="write the CSV files only (no matplotlib needed)")
    parser.add_argument("--no-progress", action="store_true", help="do not report the stages on stderr")


def main(args: argparse.Namespace) -> int:
    """Runs the experiments; returns the exit status."""
    from .cli import check_plots_and_device, make_output_folder

    plots = not args.no_plots
    device = check_plots_and_device(args)
    out = make_output_folder(args, "--out", Path(args.out))
    trials = args.trials if args.trials is not None else (QUICK_TRIALS if args.quick else DEFAULT_TRIALS)
    chosen = args.only or list(EXPERIMENTS)
    seeds = dict(zip(EXPERIMENTS, np.random.SeedSequence(args.seed).spawn(len(EXPERIMENTS))))
    notes: list[str] = []
    written: list[Path] = []
    started = time.perf_counter()
    for name in EXPERIMENTS:
        if name not in chosen:
            continue
        if not args.no_progress:
            print(f"subsetsum prune: {name} ...", file=sys.stderr, flush=True)
        rng = np.random.default_rng(seeds[name])
        if name == "linear":
            result = _linear_features(args.quick, max(20, trials // 10), rng, notes)
            written += _write_rows(out, {"linear_features.csv": result["rows"]})
            if plots:
                written.append(_plot_linear(out, result))
        elif name == "pruning":
            result = _random_pruning(args.quick, trials, rng, device, notes)
            written += _write_rows(out, {"random_pruning.csv": result["pruning"],
                                         "ticket_survival.csv": result["survival"],
                                         "path_products.csv": result["paths"]})
            if plots:
                written.append(_plot_pruning(out, result))
        else:
            result = _tickets(args.quick, max(20, trials // 10), rng, notes)
            written += _write_rows(out, {"tickets_vs_pruning.csv": result["rows"], "tickets.csv": result["tickets"]})
            if plots:
                written.append(_plot_tickets(out, result))
            _print_tickets(result)
    print(f"subsetsum prune: {', '.join(chosen)} in {time.perf_counter() - started:.1f} s")
    for note in notes:
        print(f"  note: {note}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _write_rows(out: Path, tables: dict) -> list[Path]:
    from . import stats

    return [stats.write_csv(out / name, rows, list(rows[0]) if rows else ["empty"]) for name, rows in tables.items()]


def _torch_or_note(notes: list, what: str):
    try:
        import torch
    except ImportError:
        notes.append(f"{what}: skipped (SynFlow needs torch)")
        return None
    return torch


# --------------------------------------------------------------------------------------------
# (a) linear features (003)


def _linear_features(quick: bool, trials: int, rng: np.random.Generator, notes: list) -> dict:
    from . import masks, stats, theory

    d, n = (60, 32) if quick else (400, 128)
    densities = np.geomspace(0.03, 0.6, 4 if quick else 10)
    w = rng.standard_normal(d)
    gaussian = rng.standard_normal((d, n)) / math.sqrt(n)
    # structured: the same kind of data with features of very different scales (log-normal)
    structured = gaussian * np.exp(rng.standard_normal(d))[:, None]
    torch = _torch_or_note(notes, "linear: SynFlow top-k and randomized SynFlow")
    rows, curves = [], {}
    for data, x in (("gaussian", gaussian), ("structured", structured)):
        features = x.T @ w
        base = float(features @ features)
        norms = np.sqrt(np.einsum("kn,kn->k", x, x))
        p0 = masks.optimal_probabilities(w, norms)

        def rel(masked_w):
            r = x.T @ (w - masked_w)
            return float(r @ r) / base

        def add(method, density, value, stderr=0.0, samples=""):
            rows.append({"data": data, "method": method, "density": float(density), "samples": samples,
                         "relative_error": value, "stderr": stderr})
            curves.setdefault((data, method), []).append((float(density), value, stderr))

        scores = None
        if torch is not None:
            lin = torch.nn.Linear(d, 1, bias=False)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w[None, :]))
            # eq. (4): SynFlow fed the feature norms ||X_(i)||; its scores are ||X_(i)|| |w_i|
            scores = masks.synflow_scores(lin, (d,), inputs=norms)["weight"][0]
        for q in densities:
            add("magnitude top-k", q, rel(w * masks.topk_mask(np.abs(w), q)))
            if scores is not None:
                add("SynFlow top-k", q, rel(w * masks.topk_mask(scores, q)))
                errs = [rel(w * masks.randomized_mask(scores, q, seed=rng)) for _ in range(trials)]
                add("randomized SynFlow", q, float(np.mean(errs)), float(np.std(errs) / math.sqrt(trials)))
            s = theory.sketch_samples_for_density(p0, q)
            at = float(theory.sketch_expected_density(p0, s))
            sim = stats.simulate_sketch_error(x, w, s, trials, seed=rng)
            add("sketching p0", at, sim.mean / base, sim.stderr / base, s)
            add("Lemma 4.1", at, theory.sketch_error(x, w, s) / base, samples=s)
            if data == "gaussian":
                add("Lemma 4.2 bound", at, theory.sketch_error_bound(w, s) / base, samples=s)
                add("E over Gaussian X", at, theory.sketch_error_gaussian(w, s, n_examples=n) / base, samples=s)
    return {"rows": rows, "curves": curves, "d": d, "n": n}


def _plot_linear(out: Path, result: dict) -> Path:
    fig, axes = _figure(11.0, 4.2, 2)
    styles = {"magnitude top-k": dict(marker="o"), "SynFlow top-k": dict(marker="s", ls="--"),
              "randomized SynFlow": dict(marker="^"), "sketching p0": dict(marker="D"),
              "Lemma 4.1": dict(color="k", lw=1.0), "Lemma 4.2 bound": dict(color="0.5", ls=":", lw=1.5),
              "E over Gaussian X": dict(color="0.3", ls="--", lw=1.0)}
    for ax, data in zip(axes, ("gaussian", "structured")):
        for (name, method), pts in result["curves"].items():
            if name != data:
                continue
            pts = sorted(pts)
            x = [p[0] for p in pts]
            y = [p[1] for p in pts]
            ax.plot(x, y, ms=3.5, label=method, **styles.get(method, {}))
        title = ("Gaussian X ~ N(0, I/n)" if data == "gaussian" else "structured X (log-normal feature scales)")
        ax.set(title=f"{title}, d={result['d']}, n={result['n']}", xlabel="density (fraction of weights kept)",
               ylabel="||X^T w - X^T w~||^2 / ||X^T w||^2", xscale="log", yscale="log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
        ax.title.set_fontsize(9)
        _plain_minor_ticks(ax)
        ticks = (0.03, 0.05, 0.1, 0.2, 0.3, 0.6)  # the grid spans 0.03 .. 0.6
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    return _save(fig, out / "prune_linear_features.png")


# --------------------------------------------------------------------------------------------
# (b) random pruning (004)


def _random_pruning(quick: bool, trials: int, rng: np.random.Generator, device: str, notes: list) -> dict:
    from . import stats, theory

    pruning = []
    for width, depth, case in (QUICK_PRUNING_CONFIGS if quick else PRUNING_CONFIGS):
        bins = depth - 1 if case == "simple" else depth - 2
        ks = np.arange(0, bins * width * width + 1)
        sim = stats.simulate_random_pruning(width, depth, ks, trials, case=case, seed=rng)
        exact = np.asarray(theory.layer_emptied_probability(ks, width, depth, case=case))
        bound = np.asarray(theory.pruning_disconnection_bound(ks, width, depth, case=case))
        budget_e = theory.pruning_budget(width, depth, case=case)
        budget_20 = theory.pruning_budget(width, depth, c=20.0, case=case)
        for k, dis, emp, ex, b in zip(ks, sim.disconnected_estimates(), sim.emptied_estimates(), exact, bound):
            pruning.append({"width": width, "depth": depth, "case": case, "prunes": int(k), "trials": trials,
                            "disconnected": dis.probability, "disconnected_lower": dis.lower,
                            "disconnected_upper": dis.upper, "emptied": emp.probability,
                            "emptied_exact": float(ex), "paper_bound": float(b),
                            "budget_c_e": budget_e, "budget_c_20": budget_20})
        at_budget = [r for r in pruning if r["width"] == width and r["depth"] == depth and r["case"] == case
                     and r["prunes"] == math.ceil(budget_e) - 1]
        if at_budget and at_budget[0]["disconnected_lower"] > 1.0 / math.e:
            notes.append(f"pruning w={width} d={depth} {case}: disconnected above 1/e within the budget")

    survival = []
    survival_trials = max(20, trials // 10)
    problems = 20
    for n in ((10,) if quick else (12, 16, 20)):
        total = problems * n
        removed = np.unique(np.round(np.linspace(0, total, 6 if quick else 21)).astype(np.int64))
        sv = stats.simulate_ticket_survival(problems, n, 0.01, removed, survival_trials, seed=rng, device=device)
        for k, est, pred in zip(sv.removed, sv.survival_estimates(), sv.independent_prediction()):
            survival.append({"problems": problems, "n": n, "eps": 0.01, "removed": int(k),
                             "fraction_removed": int(k) / total, "trials": survival_trials,
                             "survived": est.probability, "lower": est.lower, "upper": est.upper,
                             "independent_prediction": float(pred)})

    paths = []
    target, eps = 0.3, 0.01
    for depth in ((2, 3) if quick else (2, 3, 4)):
        max_width = int(round((2 ** (8 if quick else 12)) ** (1.0 / (depth - 1))))
        widths = np.unique(np.round(np.geomspace(1, max_width, 5 if quick else 9)).astype(int))
        for w in widths:
            est = stats.simulate_path_products(target, eps, depth, int(w), trials, seed=rng)
            paper_p = eps / 2.0  # 004 section 7.3: p >= eps / (2x), x = 1
            paths.append({"target": target, "eps": eps, "depth": depth, "width": int(w),
                          "paths": int(w) ** (depth - 1), "trials": trials, "measured": est.probability,
                          "lower": est.lower, "upper": est.upper,
                          "independent_estimate": float(theory.path_ticket_probability(target, eps, depth, int(w))),
                          "paper_estimate": -math.expm1(int(w) ** (depth - 1) * math.log1p(-paper_p))})
    return {"pruning": pruning, "survival": survival, "paths": paths}


def _plot_pruning(out: Path, result: dict) -> Path:
    from matplotlib.figure import Figure

    configs = sorted({(r["width"], r["depth"], r["case"]) for r in result["pruning"]},
                     key=lambda c: (c[2] != "simple", c))
    fig = Figure(figsize=(13.5, 7.6), dpi=90, layout="constrained")
    grid = fig.subplots(2, 3, squeeze=False)
    for ax, (w, d, case) in zip(grid[0], configs):
        rows = [r for r in result["pruning"] if (r["width"], r["depth"], r["case"]) == (w, d, case)]
        k = np.array([r["prunes"] for r in rows])
        line, = ax.plot(k, [r["disconnected"] for r in rows], lw=1.4, label="simulated: network disconnected")
        ax.fill_between(k, [r["disconnected_lower"] for r in rows], [r["disconnected_upper"] for r in rows],
                        color=line.get_color(), alpha=0.25, lw=0)
        ax.plot(k, [r["emptied"] for r in rows], "o", ms=2.5, label="simulated: a layer picked w^2 times")
        ax.plot(k, [r["emptied_exact"] for r in rows], color="k", lw=1, label="exact balls-and-bins probability")
        ax.plot(k, np.minimum([r["paper_bound"] for r in rows], 1.05), ls="--", color="0.4", lw=1,
                label="004's bound (clipped at 1)")
        for c, ls in (("budget_c_e", ":"), ("budget_c_20", "-.")):
            ax.axvline(rows[0][c], color="C3", ls=ls, lw=1,
                       label=f"budget, P <= {'1/e' if c == 'budget_c_e' else '1/20'}: k < {rows[0][c]:.1f}")
        ax.set(title=f"004 random pruning, w={w}, d={d} ({case})", xlabel="edges pruned k",
               ylabel="probability", ylim=(-0.02, 1.05))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="upper left")
    for ax in grid[0][len(configs):]:
        ax.set_axis_off()
    ax = grid[1][0]
    for n in sorted({r["n"] for r in result["survival"]}):
        rows = [r for r in result["survival"] if r["n"] == n]
        f = [r["fraction_removed"] for r in rows]
        line, = ax.plot(f, [r["survived"] for r in rows], marker="o", ms=3, label=f"n={n} edges per weight")
        ax.fill_between(f, [r["lower"] for r in rows], [r["upper"] for r in rows], color=line.get_color(),
                        alpha=0.25, lw=0)
        ax.plot(f, [r["independent_prediction"] for r in rows], ls=":", color=line.get_color(), lw=1)
    ax.set(title=f"subset-sum ticket ({result['survival'][0]['problems']} weights, eps=0.01) under random pruning",
           xlabel="fraction of source edges pruned", ylabel="P(every weight still within eps)", ylim=(-0.02, 1.02))
    ax.text(0.98, 0.98, "dotted: (per-weight success)^20", transform=ax.transAxes, ha="right", va="top", fontsize=7)
    ax = grid[1][1]
    for depth in sorted({r["depth"] for r in result["paths"]}):
        rows = [r for r in result["paths"] if r["depth"] == depth]
        paths = [r["paths"] for r in rows]
        line, = ax.plot(paths, [r["measured"] for r in rows], marker="o", ms=3, label=f"d={depth}: measured")
        ax.fill_between(paths, [r["lower"] for r in rows], [r["upper"] for r in rows], color=line.get_color(),
                        alpha=0.25, lw=0)
        ax.plot(paths, [r["independent_estimate"] for r in rows], ls="--", color=line.get_color(), lw=1,
                label=f"d={depth}: 1-(1-p)^paths, exact p")
    rows = sorted(result["paths"], key=lambda r: r["paths"])
    ax.plot([r["paths"] for r in rows], [r["paper_estimate"] for r in rows], ls=":", color="k", lw=1,
            label="004 sec. 7.3 with p = eps/2 (uniform products)")
    ax.set(title="path products of d uniforms within eps=0.01 of 0.3", xlabel="s-t paths w^(d-1)",
           ylabel="P(some path within eps)", xscale="log", ylim=(-0.02, 1.02))
    grid[1][2].set_axis_off()
    for ax in grid[1][:2]:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5)
    for ax in grid.ravel():
        ax.title.set_fontsize(8.5)
    return _save(fig, out / "prune_random_pruning.png")


# --------------------------------------------------------------------------------------------
# (c) strong tickets against pruning the target


def _target(rng: np.random.Generator, widths=(8, 16, 4)) -> list:
    """A random ReLU target with PyTorch's default initialisation scale, U(-1/sqrt(fan_in), ...)."""
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)), rng.uniform(-bound, bound, fan_out)))
    return layers


def _forward(layers, x, weights=None):
    h = x
    for i, (w, b) in enumerate(layers):
        w = w if weights is None else weights[i]
        h = h @ w.T + b
        if i + 1 < len(layers):
            h = np.maximum(h, 0.0)
    return h


def _tickets(quick: bool, trials: int, rng: np.random.Generator, notes: list) -> dict:
    from . import masks, theory
    from .tickets import construct_ticket

    layers = _target(rng)
    x = rng.uniform(-1.0, 1.0, size=(500 if quick else 4000, layers[0][0].shape[1]))
    reference = _forward(layers, x)
    n_weights = sum(w.size for w, _b in layers)
    n_biases = sum(b.size for _w, b in layers)
    target_params = n_weights + n_biases
    names = [f"{2 * i}.weight" for i in range(len(layers))]  # nn.Sequential(Linear, ReLU, Linear)

    def sup_error(weights) -> float:
        return float(np.abs(_forward(layers, x, weights) - reference).max())

    # inputs each layer sees over x: the feature norms of 003 eq. (2)
    inputs, h = [], x
    for i, (w, b) in enumerate(layers):
        inputs.append(np.sqrt((h * h).sum(axis=0)))
        h = h @ w.T + b
        if i + 1 < len(layers):
            h = np.maximum(h, 0.0)
    densities = np.geomspace(0.05, 0.95, 5 if quick else 14)
    magnitudes = {name: np.abs(w) for name, (w, _b) in zip(names, layers)}
    torch = _torch_or_note(notes, "tickets: SynFlow top-k and randomized SynFlow")
    synflow = None
    if torch is not None:
        module = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).double()
        with torch.no_grad():
            for i, (w, b) in enumerate(layers):
                module[2 * i].weight.copy_(torch.from_numpy(w))
                module[2 * i].bias.copy_(torch.from_numpy(b))
        synflow = masks.synflow_scores(module, (layers[0][0].shape[1],))
    rows = []

    def add(method, density, errors):
        errors = np.asarray(errors, dtype=np.float64)
        rows.append({"method": method, "density": float(density),
                     "parameters": int(round(density * n_weights)) + n_biases,
                     "sup_error": float(errors.mean()),
                     "stderr": float(errors.std() / math.sqrt(errors.size)) if errors.size > 1 else 0.0})

    for q in densities:
        keep = max(1, int(round(q * n_weights)))
        errs = []
        for _ in range(trials):  # 004-style: prune edges uniformly at random, keep `keep`
            flat = np.zeros(n_weights, bool)
            flat[rng.choice(n_weights, keep, replace=False)] = True
            parts, start = [], 0
            for w, _b in layers:
                parts.append(w * flat[start:start + w.size].reshape(w.shape))
                start += w.size
            errs.append(sup_error(parts))
        add("random", q, errs)
        m = masks.topk_mask(magnitudes, q)
        add("magnitude top-k", q, [sup_error([w * m[name] for name, (w, _b) in zip(names, layers)])])
        errs = []
        for _ in range(trials):
            parts = []
            for (w, _b), norms in zip(layers, inputs):
                p = masks.optimal_probabilities(w, norms[None, :])
                s = theory.sketch_samples_for_density(p, min(q, float(np.mean(p > 0))))
                parts.append(masks.sketch_mask(w, p, s, seed=rng).weights)
            errs.append(sup_error(parts))
        add("sketching p0", q, errs)
        if synflow is not None:
            m = masks.topk_mask(synflow, q)
            add("SynFlow top-k", q, [sup_error([w * m[name] for name, (w, _b) in zip(names, layers)])])
            errs = []
            for _ in range(trials):
                m = masks.randomized_mask(synflow, q, seed=rng)
                errs.append(sup_error([w * m[name] for name, (w, _b) in zip(names, layers)]))
            add("randomized SynFlow", q, errs)

    tickets = []
    methods_seen = sorted({r["method"] for r in rows})
    for method in (("2L",) if quick else ("L+1", "2L")):
        for eps in ((0.03,) if quick else (0.1, 0.03, 0.01, 0.003)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ticket = construct_ticket(layers, method=method, eps=eps, seed=int(rng.integers(2**31)),
                                          progress=False)
            for warning in caught:
                notes.append(f"tickets: {method} eps={eps}: {warning.message}")
            report = ticket.report(samples=200)
            err = float(ticket.verify(x))
            row = {"method": method, "eps": eps, "parameters": ticket.parameters,
                   "x_target_parameters": ticket.parameters / target_params, "density_in_source": report.density,
                   "source_parameters": int(round(ticket.parameters / report.density)),
                   "sup_error": err, "certified_bound": ticket.error_bound()}
            for pm in methods_seen:
                need = _density_for_error([(r["density"], r["sup_error"]) for r in rows if r["method"] == pm], err)
                row[f"target_density_{pm}"] = need
            tickets.append(row)
    return {"rows": rows, "tickets": tickets, "target_parameters": target_params, "n_weights": n_weights}


def _density_for_error(curve: list, error: float) -> float:
    """Smallest density at which a pruning curve's mean error is at most ``error`` (interpolated
    in log error between grid points); 1.0 (only the unpruned target) when no grid point gets there."""
    curve = sorted(curve)
    for i, (q, e) in enumerate(curve):
        if e <= error:
            if i == 0:
                return q
            q0, e0 = curve[i - 1]
            if e0 <= 0 or e <= 0:
                return q
            frac = (math.log(e0) - math.log(error)) / (math.log(e0) - math.log(e))
            return q0 + frac * (q - q0)
    return 1.0


def _print_tickets(result: dict) -> None:
    print(f"tickets against pruning the target ({result['target_parameters']} parameters), at equal sup error:")
    for t in result["tickets"]:
        needs = ", ".join(f"{k[len('target_density_'):]} {v:.2f}" for k, v in t.items()
                          if k.startswith("target_density_"))
        print(f"  {t['method']:3s} eps={t['eps']:<6g} error {t['sup_error']:.4f}: {t['parameters']} parameters "
              f"({t['x_target_parameters']:.1f}x target, density {t['density_in_source']:.4f} of its source); "
              f"target density needed: {needs}")


def _plot_tickets(out: Path, result: dict) -> Path:
    fig, (ax_p, ax_d) = _figure(11.5, 4.4, 2)
    methods = sorted({r["method"] for r in result["rows"]})
    for method in methods:
        rows = sorted((r for r in result["rows"] if r["method"] == method), key=lambda r: r["density"])
        ax_p.plot([r["parameters"] for r in rows], [r["sup_error"] for r in rows], marker="o", ms=3, label=method)
        ax_d.plot([r["sup_error"] for r in rows], [r["density"] for r in rows], marker="o", ms=3,
                  label=f"{method} (of the target)")
    for method, marker in (("L+1", "*"), ("2L", "P")):
        ts = [t for t in result["tickets"] if t["method"] == method]
        if not ts:
            continue
        ax_p.plot([t["parameters"] for t in ts], [t["sup_error"] for t in ts], marker, ms=10, color="k",
                  label=f"strong ticket {method}")
        ax_d.plot([t["sup_error"] for t in ts], [t["density_in_source"] for t in ts], marker, ms=10, color="k",
                  label=f"strong ticket {method} (of its source)")
        for t in ts:
            ax_p.annotate(f"eps={t['eps']:g}", (t["parameters"], t["sup_error"]), textcoords="offset points",
                          xytext=(5, 3), fontsize=6.5)
    ax_p.axvline(result["target_parameters"], color="0.5", ls=":", lw=1)
    ax_p.set(title="8-16-4 ReLU target: error against parameters kept", xlabel="parameters kept (weights + biases)",
             ylabel="sup |target - pruned| over 4000 inputs", xscale="log", yscale="log")
    ax_d.set(title="density at equal error: ticket (in its source) vs pruning the target", xlabel="sup error",
             ylabel="density (fraction kept)", xscale="log", yscale="log")
    for ax in (ax_p, ax_d):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6.5)
        ax.title.set_fontsize(9)
        _plain_minor_ticks(ax)
    return _save(fig, out / "prune_tickets.png")


# --------------------------------------------------------------------------------------------


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _plain_minor_ticks(ax) -> None:
    """No labels on minor log ticks: they overlap."""
    from matplotlib.ticker import NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=90)
    return path
