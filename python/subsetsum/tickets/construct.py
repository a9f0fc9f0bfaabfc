"""``construct_ticket``: options -> target graph -> plan -> source -> solve -> repair -> Ticket.

Stages, one module each: :mod:`.options` validates every argument, :mod:`.graph` parses the
target, :mod:`.plan` lays out the construction (roles from :mod:`.methods`, base-set sizes from
:mod:`.sizing`, tolerances from :mod:`.bounds`), :mod:`.source` gives the source network,
:mod:`.solve` solves every subset-sum problem and :mod:`.repair` grows what missed; the result is
a :class:`~.ticket.Ticket`.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .bounds import lemma_2_8_bound
from .graph import parse_target
from .methods import layer_roles
from .options import TicketOptions, TicketToleranceError, TicketWarning
from .plan import estimate_seconds, layer_fans, make_plan
from .repair import repair_layer
from .solve import Builder
from .source import ERMasks, GeneratedSource, UserSource, parse_source, unit_scale
from .ticket import Ticket

__all__ = ["construct_ticket"]

# Builds spent on output_eps: one whose certified bound exceeds it is rebuilt with tolerances
# scaled down by the ratio; one whose bound is below CALIBRATED * output_eps is rebuilt once with
# tolerances scaled up (a smaller ticket), and the smaller of the tickets that meet it is kept.
OUTPUT_EPS_ATTEMPTS = 4
CALIBRATED = 0.5
# ... unless the builds so far took longer than this: a long build is not repeated for size alone.
CALIBRATION_SECONDS = 60.0
# Requests whose first solve is estimated to take longer are refused (with the estimate).
MAX_SECONDS = 24 * 3600.0
# A progress bar is shown by default when the first solve is estimated to take this long.
SHOW_PROGRESS_SECONDS = 10.0


def construct_ticket(
    target,
    *,
    method: str = "L+1",
    eps: float = 0.01,
    output_eps: float | None = None,
    rho="auto",
    delta: float | None = None,
    max_size: int = 10,
    input_bound: float = 1.0,
    source=None,
    density: float = 1.0,
    density_scheme: str = "uniform",
    subset_size: int | None = None,
    seed: int = 0,
    device=None,
    repair: bool = True,
    strict: bool = False,
    progress=None,
    state_dict=None,
    executor=None,
    input_shape=None,
) -> Ticket:
    """Prune a random source network so that it approximates ``target``.

    Parameters
    ----------
    target : torch.nn.Sequential or list of (weight, bias)
        ``nn.Linear`` layers with ReLU, LeakyReLU, Tanh, Sigmoid or Identity between them (one
        activation for all hidden layers, optionally one after the last layer), or weights
        (n_l, n_{l-1}) and biases (n_l,) in PyTorch layout (ReLU between layers). Any depth and
        magnitude. Layers pruned with ``torch.nn.utils.prune`` are read with their masks (zero
        weights issue no subset-sum problem and are exact); an ``nn.BatchNorm1d`` in eval mode
        directly after an ``nn.Linear`` is folded into it (:func:`~.graph.parse_target`).
        Convolutional: ``nn.Conv2d`` layers (any kernel, stride, zero padding, dilation, groups;
        ``nn.BatchNorm2d`` folded), then ``nn.Flatten`` and ``nn.Linear`` layers; give
        ``input_shape``. Every kernel entry is one subset-sum problem over the copies (L+1) or
        the 1x1-convolution block (2L) of its input channel (Burkholz, ICML 2022; :mod:`.maps`),
        and the ticket's layers are ``nn.Conv2d`` with the target's geometry.
    method : {"L+1", "2L"}
        001_d33223a708772bec.txt: "L+1" (Thm 2.9; copies of each hidden target neuron, one copy
        of each output) or "2L" (Thm 2.5/2.6 for every layer).
    eps : float > 0
        Largest error of any single target parameter (weight or bias): its subset sum is within
        eps of it.
    output_eps : float > 0, optional
        Largest end-to-end error ``sup_x max_i |f_i(x) - g_i(x)|`` over ``[-input_bound,
        input_bound]^d``. Split into per-layer tolerances (at most ``eps``) by the neuron-wise
        error recursion of :mod:`subsetsum.tickets.bounds` (Lemma 2.8 of 001 with the target's
        own weights and activation bounds), and checked on the built ticket by its certified
        bound; a ticket whose certified bound exceeds it is rebuilt with smaller tolerances.
    rho : "auto" or int >= 1
        Base-set sizes. "auto": per source layer (and sign of a split block), the smallest size
        whose expected first-solve misses stay within that layer's share of ``delta``, read from
        measured failure curves (:mod:`subsetsum.tickets.sizing`) for the layer's element
        distribution, tolerance, targets and ER density. An int: that size for every problem
        (copies per target neuron in L+1, neurons per block and sign), as given.
    delta : float in (0, 1) or None
        None (default): 0.5, or 0.01 for a fixed-size ticket (``subset_size``), whose size is
        fixed before solving unless a repair adds neurons. Allowed probability that the first solve leaves any parameter above its tolerance (the
        sizes make the expected number of such misses at most delta, so by the union bound the
        probability is at most delta). Whatever the first solve leaves, the repair pass mends, so
        delta trades source width and ticket size against repair work; the default 0.5 gives the
        smallest tickets of the benchmark (0.01: ~1.26x the parameters for the LeNet-shape L+1).
    max_size : int >= 1
        Largest subset per problem (``mode="min_size"``, as in 001's experiments).
    input_bound : float > 0
        M of 001 Thm 2.7: inputs lie in ``[-M, M]^d``; tolerances, bounds and the measured error
        use that domain (normalised images reach |x| = 2.8).
    source : None, "uniform", "looks_linear", torch module or list of arrays
        None: "looks_linear" for activations with phi(0) != 0 (sigmoid, Thm 2.6), else "uniform"
        (Uniform[-1, 1], Assumption 2.1), generated from ``seed`` (virtual: every weight a pure
        function of its coordinates, :mod:`subsetsum.tickets.source`). A user source (any init,
        e.g. PyTorch's default) must have the construction's depth and enough rows; per-layer
        scale factors map it to Uniform[-1, 1] units and are stored; its unused rows serve the
        repair pass.
    density : float in (0, 1]
        Overall density of an Erdős–Rényi source (1: dense).
    density_scheme : {"uniform", "erk", "balanced", "pyramidal"}
        Layer-wise ER densities (000_79c8cccaad099f72.txt, "Sparsity Ratios").
    subset_size : int >= 1, optional
        Every subset-sum problem keeps exactly this many source edges (a looks-linear pair: two),
        solved with ``mode="fixed_size"`` (002_9a3e2d17b88c5f76.txt, section 4). The ticket's
        size is then known before solving: ``metadata["size_formula"]`` (see
        :meth:`Ticket.size_formula`); univariate blocks and constant neurons are kept whole.
    seed : int >= 0
        Seeds the generated source and the ER masks.
    device : str, optional
        "cuda" or "cuda:N" solves on that GPU; default: the host.
    repair : bool
        Grow and re-solve what the first solve left above tolerance (:mod:`subsetsum.tickets.repair`).
    strict : bool
        Raise :class:`~subsetsum.TicketToleranceError` instead of warning when a parameter stays
        above its tolerance or the certified bound above ``output_eps``.
    progress : bool or callable(done, total), optional
        Progress over all subset-sum problems (a tqdm bar for True; default: a bar when the first
        solve is estimated, from a timed sample, to take 10 s or more). Ctrl-C stops between
        batches. A request estimated to need more than a day of solving is refused with the
        estimate.
    state_dict : mapping of str to tensors or arrays, optional
        The target's weights for a Sequential ``target`` used as a skeleton (not modified), named
        as ``target.state_dict()`` names them; pruned entries (``"0.weight_orig"`` and
        ``"0.weight_mask"``) are read as their product. Missing, unexpected and misshapen entries
        raise ValueError naming the key and the expected shape.
    executor : None, "local", "ray" or an executor, optional
        Where the first solve of every combine layer runs, sharded by blocks of rows (each
        block: its source weights and ER mask regenerated from the seed, then solved). None or
        "local": in this process, a block per CPU at a time (each on one core) while the
        blocks already solved are recorded; a :class:`~subsetsum.tickets.executor.LocalExecutor`
        sets how many (``threads=1``: one block at a time on every core, as device builds
        run theirs). "ray": as Ray tasks (``pip install "subsetsum[distributed]"``)
        on the cluster ``ray.init`` connected to; call ``ray.init(address=...)`` first to use
        one, else a local cluster is started. A :class:`~subsetsum.tickets.executor.RayExecutor`
        sets the tasks in flight, GPUs per task (needed with ``device``) and retries. The results
        are consumed in block order and the repair pass runs here, so the ticket is identical,
        bit for bit, to the local one. A user source is sent to the object store once per layer.
    input_shape : (C, H, W), optional
        The shape of one input of a convolutional target (required for one, refused otherwise).

    Returns
    -------
    Ticket

    Warns
    -----
    TicketWarning
        When anything stays above its tolerance (naming the count, the worst error and the
        layer), and for requests that make degenerate tickets (eps at least the largest
        parameter, base sets the solver cannot make large enough, an explicit rho far below the
        sizing's).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> target = [(rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, 4)), (rng.uniform(-1, 1, (2, 4)), np.zeros(2))]
    >>> ticket = construct_ticket(target, method="L+1", eps=0.01, seed=0)
    >>> ticket.failed, ticket.max_errors() <= 0.01
    ([], True)
    >>> x = rng.uniform(-1, 1, (1000, 3))
    >>> bool(ticket.verify(x) <= ticket.error_bound())
    True

    A pruned target, its weights given as a state dict for a skeleton:

    >>> import torch
    >>> from torch.nn.utils import prune
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> _ = prune.l1_unstructured(net[0], "weight", amount=0.5)
    >>> skeleton = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> ticket = construct_ticket(skeleton, state_dict=net.state_dict(), seed=0)
    >>> ticket.target.num_parameters, ticket.target.total_parameters, ticket.failed
    (20, 26, [])
    """
    tgt = parse_target(target, state_dict=state_dict, input_shape=input_shape)
    options = TicketOptions.create(
        method=method, eps=eps, output_eps=output_eps, rho=rho, delta=delta, max_size=max_size,
        input_bound=input_bound, source=source, density=density, density_scheme=density_scheme,
        subset_size=subset_size, seed=seed, device=device, repair=repair, strict=strict, progress=progress,
        activation_intercept=tgt.activation.intercept, executor=executor)
    if tgt.activation.intercept != 0 and options.init != "looks_linear":
        raise ValueError(f"source: the {tgt.activation.name} activation has phi(0) = {tgt.activation.intercept}, "
                         "so its univariate blocks need the looks-linear source of 001_d33223a708772bec.txt, "
                         "Assumption 2.2 / Thm 2.6; pass source=None or source='looks_linear'")
    roles = layer_roles(options.method, tgt.depth)
    if tgt.convolutional:
        _check_convolutions(tgt, options)
    user = None
    if options.init == "user":
        if tgt.residual:
            raise ValueError("source: a residual target is built on a generated source (source=None or "
                             "'looks_linear'); a user-given source is read as a chain of linear layers, without the "
                             "skip layers the construction needs")
        user = parse_source(source)
        if len(user) != len(roles):
            raise ValueError(f"source: the {options.method} construction of a depth-{tgt.depth} target needs "
                             f"{len(roles)} linear layers, got {len(user)}")
        _check_user_ends(user, tgt)
    start = time.perf_counter()
    attempts = []
    best = plan = None
    for _attempt in range(OUTPUT_EPS_ATTEMPTS):
        ticket, built_plan = _build(tgt, options, user)
        bound = float(ticket.error_bound())
        attempts.append(bound)
        if options.output_eps is None or not options.repair:
            best, plan = ticket, built_plan
            break
        if bound <= options.output_eps:
            if best is None or ticket.parameters < best.parameters:
                best, plan = ticket, built_plan
            if (bound >= CALIBRATED * options.output_eps or options.tolerance_scale > 1.0
                    or time.perf_counter() - start > CALIBRATION_SECONDS):
                break
            # well inside the budget: larger tolerances make a smaller ticket
            # (a bit less than the ratio: smaller base sets also sum larger subsets, a second-order effect)
            options = options.tightened(min(4.0, (0.9 * options.output_eps / max(bound, 1e-300)) ** 0.8))
        elif best is not None:  # the larger tolerances overshot: keep the ticket that met it
            break
        else:
            options = options.tightened(0.9 * options.output_eps / bound)
    ticket = best if best is not None else ticket
    plan = plan if plan is not None else built_plan
    ticket.metadata["output_eps_attempts"] = attempts
    ticket.metadata["seconds"] = time.perf_counter() - start
    _warn_degenerate(tgt, plan, options)
    _report_misses(ticket, options)
    return ticket


def _check_convolutions(tgt, options) -> None:
    """What the convolutional rules need (:mod:`.maps`): a generated source, and a kernel offset
    that never reads padding in every convolution whose constants carry a bias onwards."""
    if options.init == "user":
        raise ValueError("source: a convolutional target is built on a generated source (source=None or "
                         "'looks_linear'); user-given sources are read as fully connected layers")
    for t in range(tgt.depth):
        op = tgt.op(t)
        if op.kind == "conv" and op.always_inside_tap() is None and any(np.any(b != 0) for b in tgt.biases[t:]):
            raise ValueError(f"target: convolution {t} (padding {op.padding}, kernel {op.kernel}, stride "
                             f"{op.stride}, dilation {op.dilation} on a {op.in_size} map) has no kernel offset that "
                             "reads inside the map at every output position, so the constant channels that carry "
                             "the biases (zero-padded like every channel) cannot reach all of them")


def _build(tgt, options, user):
    user_units = user_samples = user_widths = None
    if user is not None:
        user_units = [unit_scale(w) for w, _b in user]
        rng = np.random.default_rng(0)
        user_samples = [(u * w.ravel()[rng.integers(0, w.size, min(w.size, 100_000))]).astype(np.float64)
                        for u, (w, _b) in zip(user_units, user)]
        user_widths = [w.shape[0] for w, _b in user]
    plan_start = time.perf_counter()
    plan = make_plan(tgt, options, user_units=user_units, user_widths=user_widths, user_samples=user_samples)
    plan_seconds = time.perf_counter() - plan_start
    if user is None:
        # skip layers are weight matrices numbered after the layers (their index keys their weights)
        src = GeneratedSource(options.seed, [lay.init for lay in plan.layers] + [sk.init for sk in plan.skips],
                              [s == 0 for s in range(len(plan.layers))] + [False] * len(plan.skips),
                              tuple(layer_fans(plan, tgt)) + tuple(sk.fan for sk in plan.skips))
    else:
        _check_user_widths(user, plan, tgt, options.method)
        src = UserSource(user)
    er = (ERMasks(options.seed, [lay.density for lay in plan.layers] + [sk.density for sk in plan.skips])
          if options.density < 1.0 else None)
    estimate = estimate_seconds(plan, tgt)
    if estimate > MAX_SECONDS:
        tolerances = ", ".join(f"{t:.2g}" for t in plan.tolerances)
        raise ValueError(f"eps: this request implies about {estimate / 3600:,.0f} hours of solving on this machine "
                         f"(per-layer tolerances {tolerances}, base sets up to {max(l.group_size for l in plan.layers)}"
                         " elements); relax eps or output_eps, or raise max_size")
    progress = options.progress if options.progress is not None else estimate >= SHOW_PROGRESS_SECONDS
    builder = Builder(plan, tgt, src, er, device=options.device, progress=progress,
                      keep_structure=options.subset_size is not None, executor=options.executor)
    start = time.perf_counter()
    repair_seconds = 0.0
    try:
        for s, lay in enumerate(plan.layers):
            if lay.role.kind == "block":
                builder.build_block(s)
            else:
                builder.build_combine(s)
                if options.repair:
                    repair_start = time.perf_counter()
                    repair_layer(builder, s)
                    repair_seconds += time.perf_counter() - repair_start
    finally:
        builder.progress.close()
    result = builder.finalize(start)
    metadata = _metadata(tgt, plan, options, result)
    metadata["plan_seconds"] = plan_seconds
    metadata["constant_extra_edges"] = [int(state.constant_extra_edges) for state in builder.states]
    metadata["repair"]["seconds"] = repair_seconds
    ticket = Ticket(tgt, result.shapes, result.edges, result.bias_rows,
                    [lay.scale for lay in plan.layers] + [sk.scale for sk in plan.skips], src, er,
                    metadata, result.errors, result.output_bounds, device=options.device)
    return ticket, plan


def _metadata(tgt, plan, options, result) -> dict:
    layers = plan.layers
    meta = {
        "method": options.method,
        "eps": options.eps,
        "tolerances": [float(t) for t in plan.tolerances],
        "output_eps": options.output_eps,
        "delta": options.delta,
        "rho": options.rho,
        "max_size": options.max_size,
        "subset_size": options.subset_size,
        "input_bound": options.input_bound,
        "density": options.density,
        "density_scheme": options.density_scheme,
        "seed": options.seed,
        "roles": [[lay.role.kind, lay.role.target_layer] for lay in layers],
        "group_sizes": [int(lay.group_size) for lay in layers],
        "constant_neurons": [int(lay.n_consts) for lay in layers],
        "layer_densities": [float(lay.density) for lay in layers],
        "element_scales": [float(lay.element_scale) if lay.role.kind == "combine" else None for lay in layers],
        "sizing": [{"how": lay.sizing, "expected_misses": [float(x) for x in lay.expected_misses]}
                   if lay.sizing else None for lay in layers],
        "first_layer_scale": [float(s) for s in plan.sigma],
        "unit_scales": [float(lay.unit) for lay in layers],
        "failed": [list(f) for f in result.failed],
        "problems": int(result.problems),
        "subset_edges": [int(x) for x in result.subset_edges],
        "repair": {k: _plain(v) for k, v in result.repair.items()},
        "source_widths": [int(shape[0]) for shape in result.shapes],
        "lemma_2_8_bound": float(lemma_2_8_bound(tgt, plan.tolerances, options.input_bound)),
        "build_seconds": float(result.seconds),
    }
    if plan.skips:  # weight matrices after the layers': [into, source, target layer, part, fan]
        meta["skips"] = [[sk.role.into, sk.role.source, sk.role.target_layer, sk.role.part, sk.fan]
                         for sk in plan.skips]
    if options.subset_size is not None:
        meta["size_formula"] = _size_formula(tgt, plan, options, result)
    return meta


def _plain(value):
    """A repair-log entry as JSON-ready Python ints, floats, lists and str-keyed dicts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def _size_formula(tgt, plan, options, result) -> dict:
    """The fixed-size ticket's parameter count, term by term: every problem (one per nonzero
    weight or bias and copy, and sign of a split block) keeps ``k`` edges (``2k`` for looks-linear
    pairs), every block neuron one edge (a pair two), every constant neuron one edge or bias (a
    pair two, through a paired constant four)."""
    k = options.subset_size
    terms = []
    for s, lay in enumerate(plan.layers):
        if lay.role.kind == "combine":
            prev = plan.layers[s - 1]
            t = lay.role.target_layer
            per = 2 if (prev.role.kind == "block" and prev.split) else 1
            copies = lay.group_size
            problems = int(np.count_nonzero(tgt.weights[t])) * copies * per  # zero weights issue none
            width = 2 if prev.pairs else 1
            terms.append({"layer": s, "what": "subset edges", "count": k * width * problems})
            if np.any(tgt.biases[t] != 0) and prev.n_consts:
                terms.append({"layer": s, "what": "bias subset edges",
                              "count": k * width * int(np.count_nonzero(tgt.biases[t])) * copies})
    # what the repair pass added (rarely: fixed-size tickets are sized with a small delta)
    structure = []
    for added in result.repair["added"]:
        s, kind, count = added["layer"], added["kind"], added["count"]
        lay = plan.layers[s]
        if kind == "copies":  # new rows of combine layer s, each solving its neuron's problems
            prev = plan.layers[s - 1]
            t, j = lay.role.target_layer, added["input"]
            per = 2 if (prev.role.kind == "block" and prev.split) else 1
            width = 2 if prev.pairs else 1
            problems = int(np.count_nonzero(tgt.weights[t][j])) * per
            if prev.n_consts:
                problems += int(tgt.biases[t][j] != 0)
            terms.append({"layer": s, "what": "repair: subset edges of new copies", "count": k * width * problems * count})
        elif kind == "block":
            structure.append({"layer": s, "what": "block neurons", "edges": count * (2 if lay.pairs else 1)})
        else:
            structure.append({"layer": s, "what": "constants", "constants": count})
    return {"k": k, "terms": terms, "repair": structure}


def _warn_degenerate(tgt, plan, options) -> None:
    for t, tol in enumerate(plan.tolerances):
        largest = max(float(np.abs(tgt.weights[t]).max(initial=0.0)), float(np.abs(tgt.biases[t]).max(initial=0.0)))
        if largest > 0 and tol >= largest:
            warnings.warn(f"eps: the tolerance {tol:.3g} of target layer {t} is at least its largest parameter "
                          f"({largest:.3g}), so the empty subset meets it and the ticket keeps nothing of that "
                          "layer; pass a smaller eps", TicketWarning, stacklevel=3)
    for s, lay in enumerate(plan.layers):
        if not lay.sizing or lay.sizing == "rho":
            continue
        w_miss, b_miss = lay.expected_misses
        if w_miss + b_miss > options.delta:
            why = (f"the ER density {lay.density:.3g} of the next layer removes elements" if plan.layers[s + 1].density < 1
                   else f"the tolerance {plan.tolerances[lay.role.target_layer]:.3g} is small")
            warnings.warn(f"delta: the base sets of source layer {s} are at the largest size the solver allows "
                          f"({lay.group_size} elements) and still expect {w_miss + b_miss:.3g} misses in the first "
                          f"solve ({why}); the repair pass grows what misses", TicketWarning, stacklevel=3)


def _report_misses(ticket, options) -> None:
    failed = ticket.failed
    problems = []
    if failed:
        worst_t, worst = 0, -1.0
        for t, err in enumerate(ticket.errors):
            e = float(err.max(initial=0.0) - ticket.metadata["tolerances"][t])
            if e > worst:
                worst_t, worst = t, e
        per_layer = {}
        for t, _i, _j in failed:
            per_layer[t] = per_layer.get(t, 0) + 1
        layers = ", ".join(f"{n} in target layer {t}" for t, n in sorted(per_layer.items()))
        short = ticket.metadata["repair"].get("rows_short", {})
        if short:
            need = ", ".join(f"about {n} more in source layer {s}" for s, n in sorted(short.items(), key=lambda x: int(x[0])))
            hint = f"; the user source ran out of spare rows for the repair pass ({need})"
        else:
            hint = "; raise max_size, lower delta (larger base sets) or relax eps"
        problems.append(f"{len(failed)} target parameters stayed above their tolerance ({layers}); the worst error "
                        f"is {float(ticket.errors[worst_t].max()):.3g} in target layer {worst_t} (tolerance "
                        f"{ticket.metadata['tolerances'][worst_t]:.3g}){hint}")
    bound = ticket.error_bound()
    if options.output_eps is not None and bound > options.output_eps:
        problems.append(f"output_eps: the certified end-to-end bound {bound:.3g} exceeds output_eps = "
                        f"{options.output_eps:.3g} (see ticket.report())")
    if not problems:
        return
    message = "; ".join(problems)
    if options.strict:
        raise TicketToleranceError("strict: " + message)
    warnings.warn(message, TicketWarning, stacklevel=3)


def _check_user_ends(layers, tgt):
    if layers[0][0].shape[1] != tgt.widths[0]:
        raise ValueError(f"source layer 0: expected {tgt.widths[0]} input features (the target's), "
                         f"got {layers[0][0].shape[1]}")
    if layers[-1][0].shape[0] != tgt.widths[-1]:
        raise ValueError(f"source layer {len(layers) - 1}: expected {tgt.widths[-1]} outputs (the target's), "
                         f"got {layers[-1][0].shape[0]}")


def _check_user_widths(layers, plan, tgt, method):
    for s, ((w, _b), lay) in enumerate(zip(layers, plan.layers)):
        t = lay.role.target_layer
        if lay.role.kind == "block":
            per = lay.group_size * (2 if lay.split else 1) * (2 if lay.pairs else 1)
            need = tgt.widths[t] * per + lay.n_consts
            what = f"{lay.group_size} neurons per block{' and sign' if lay.split else ''} for {tgt.widths[t]} inputs"
        else:
            copies = lay.group_size
            need = tgt.widths[t + 1] * copies + lay.n_consts
            what = f"{copies} copies of {tgt.widths[t + 1]} target neurons"
        if w.shape[0] < need:
            raise ValueError(f"source layer {s} is too small for the {method} construction: it has {w.shape[0]} "
                             f"neurons and needs at least {need} ({what} + {lay.n_consts} constant neurons)")
