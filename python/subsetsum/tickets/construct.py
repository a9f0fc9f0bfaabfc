"""``construct_ticket``: options -> target graph -> plan -> source -> solve -> Ticket.

Data flow: the arguments are validated, the target is parsed (:mod:`.graph`), the source network
is laid out (:mod:`.plan` with the layer sequence of :mod:`.methods`), the source is drawn or read
(:mod:`.source`), every subset-sum problem is solved in batched :func:`subsetsum.solve` calls,
and masks, scales and errors are wrapped in a :class:`~.ticket.Ticket`.
"""

from __future__ import annotations

from .._checks import check_int, check_positive_float
from .graph import parse_target
from .methods import METHODS, layer_roles
from .plan import build, make_plan
from .source import DENSITY_SCHEMES, GeneratedSource, er_mask, layer_densities, parse_source, unit_scale
from .ticket import Ticket

__all__ = ["construct_ticket"]


def construct_ticket(
    target,
    *,
    method: str = "L+1",
    eps: float = 0.01,
    output_eps: float | None = None,
    rho: int | None = None,
    max_size: int = 10,
    source=None,
    density: float = 1.0,
    density_scheme: str = "uniform",
    subset_size: int | None = None,
    seed: int = 0,
    device=None,
    strict: bool = False,
    progress=None,
) -> "Ticket":
    """Prune a random source network so that it approximates ``target``.

    Parameters
    ----------
    target : torch.nn.Sequential or list of (weight, bias)
        ``nn.Linear`` layers with ReLU, LeakyReLU, Tanh, Sigmoid or Identity between them (one
        activation for all hidden layers, optionally one after the last layer), or weights
        (n_l, n_{l-1}) and biases (n_l,) in PyTorch layout (ReLU between layers). Any depth and
        magnitude: a layer with parameters above 1 is handled by a larger scale factor.
    method : {"L+1", "2L"}
        001_d33223a708772bec.txt: "L+1" (Thm 2.9; rho copies of each hidden target neuron, one
        copy of each output) or "2L" (Thm 2.5/2.6 for every layer).
    eps : float > 0
        Largest error of any single target parameter (weight or bias).
    output_eps : float > 0, optional
        Largest end-to-end error ``sup ||f_target - f_ticket||_1`` on [-1, 1]^d; turned into
        per-layer tolerances with Lemma 2.8 (``eps`` stays an upper limit).
    rho : int >= 1, optional
        Base-set size of every subset-sum problem: copies per target neuron (L+1) and neurons
        (or looks-linear pairs) per univariate block and sign. Default 15, widened by
        ``1 / log(1/(1-p))`` for ER sources (000_79c8cccaad099f72.txt, Lemma 2.4; capped so a
        problem fits the solver: 32 elements, 128 with ``subset_size``); a value given here is
        used as is.
    max_size : int >= 1
        Largest subset per problem (``mode="min_size"``, as in 001's experiments).
    source : None, "uniform", "looks_linear", torch module or list of arrays
        None: "looks_linear" for activations with phi(0) != 0 (sigmoid, Thm 2.6), else
        "uniform" (Uniform[-1, 1], Assumption 2.1), generated from ``seed``. A user source
        (any init, e.g. PyTorch's default) must have the construction's depth and at least its
        widths; per-layer scale factors map it to Uniform[-1, 1] units and are stored.
    density : float in (0, 1]
        Overall density of an Erdős–Rényi source (1: dense).
    density_scheme : {"uniform", "erk", "balanced", "pyramidal"}
        Layer-wise ER densities (000_79c8cccaad099f72.txt, "Sparsity Ratios").
    subset_size : int >= 1, optional
        Every parameter uses exactly this many source edges (looks-linear pairs: pairs), solved
        with ``mode="fixed_size"`` (002_9a3e2d17b88c5f76.txt, section 4): the subset edges of
        every combine layer are fixed in advance.
    seed : int >= 0
        Seeds the generated source and the ER masks.
    device : str, optional
        "cuda" or "cuda:N" solves on that GPU (bases are built on the host); default: the host.
    strict : bool
        Raise ValueError when any parameter misses its tolerance (otherwise they are counted
        and listed in ``ticket.report()``).
    progress : bool or callable(done, total), optional
        Progress over all subset-sum problems (tqdm bar for True; default: a bar from 2 million
        problems on). Ctrl-C stops between batches.

    Returns
    -------
    Ticket

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> target = [(rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, 4)), (rng.uniform(-1, 1, (2, 4)), np.zeros(2))]
    >>> ticket = construct_ticket(target, method="L+1", eps=0.01, seed=0)
    >>> # layer 0: 3 inputs x (15 + 15 neurons, one block per sign) + 60 slack + 30 constants;
    >>> # layer 1: 15 copies of 4 neurons; layer 2: the 2 outputs
    >>> [m.shape for m in ticket.masks]
    [(180, 3), (60, 180), (2, 60)]
    >>> bool(ticket.verify(rng.uniform(-1, 1, (1000, 3))) <= ticket.error_bound())
    True
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    eps = check_positive_float("eps", eps)
    if output_eps is not None:
        output_eps = check_positive_float("output_eps", output_eps)
    widen = rho is None
    if subset_size is not None:
        subset_size = check_int("subset_size", subset_size, 1)
    rho = 15 if rho is None else check_int("rho", rho, 1)
    limit = 64 if subset_size is None else 256  # solver's elements per problem (min_size / fixed_size)
    if rho > limit // 2:
        raise ValueError(f"rho: expected at most {limit // 2} (sign-split blocks make problems of 2 * rho "
                         f"elements; the solver takes {limit}), got {rho}")
    max_size = check_int("max_size", max_size, 1)
    if density_scheme not in DENSITY_SCHEMES:
        raise ValueError(f"density_scheme: expected one of {DENSITY_SCHEMES}, got {density_scheme!r}")
    layer_densities([(1, 1)], density, density_scheme)  # validates density
    seed = check_int("seed", seed, 0)
    if not isinstance(strict, bool):
        raise TypeError(f"strict: expected a bool, got {type(strict).__name__}")
    if device is not None and not (isinstance(device, str) or type(device).__module__.startswith("torch")):
        raise TypeError(f"device: expected None or a string like 'cuda', got {type(device).__name__}")
    if device is not None and str(device) != "cpu" and not str(device).startswith("cuda"):
        raise ValueError(f"device: expected None, 'cpu' or 'cuda[:N]', got {device!r}")
    if device is not None and str(device) == "cpu":
        device = None

    tgt = parse_target(target)
    depth = tgt.depth
    eps_l = [eps] * depth
    if output_eps is not None:
        eps_l = [min(eps, e) for e in tgt.per_layer_eps(output_eps)]
    roles = layer_roles(method, depth)

    user_layers = None
    if source is None:
        init = "looks_linear" if tgt.activation.intercept != 0 else "uniform"
    elif isinstance(source, str):
        if source not in ("uniform", "looks_linear"):
            raise ValueError(f"source: expected None, 'uniform', 'looks_linear', a torch module or a list of arrays, got {source!r}")
        init = source
    else:
        init = "user"
        user_layers = parse_source(source)
        if len(user_layers) != len(roles):
            raise ValueError(f"source: the {method} construction of a depth-{depth} target needs "
                             f"{len(roles)} linear layers, got {len(user_layers)}")
    if tgt.activation.intercept != 0 and init != "looks_linear":
        raise ValueError(f"source: the {tgt.activation.name} activation has phi(0) = {tgt.activation.intercept}, "
                         "so its univariate blocks need the looks-linear source of 001_d33223a708772bec.txt, "
                         "Assumption 2.2 / Thm 2.6; pass source=None or source='looks_linear'")
    ll_layers = [init == "looks_linear" and (method == "2L" or s <= 1) for s in range(len(roles))]

    plan = make_plan(
        tgt, roles, rho=rho, widen=widen, eps=eps_l,
        elements_per_problem=subset_size or max_size, looks_linear_layers=ll_layers,
        max_elements=limit,
        density_fn=lambda shapes: layer_densities(shapes, density, density_scheme),
        source_widths=None if user_layers is None else [w.shape[0] for w, _b in user_layers],
    )
    factors = plan.construction_factors()

    if user_layers is None:
        shapes, in_f = [], tgt.widths[0]
        for lay in plan.layouts:
            shapes.append((lay.width, in_f))
            in_f = lay.width
        shapes[-1] = (tgt.widths[-1], shapes[-1][1])
        generated = GeneratedSource(seed, shapes, [lay.init for lay in plan.layouts],
                                    [s == 0 for s in range(len(shapes))])
        units = [1.0] * len(shapes)
        layer_fn = generated.layer
        source_record = generated
    else:
        _check_user_widths(user_layers, plan, tgt, method)
        shapes = [w.shape for w, _b in user_layers]
        units = [unit_scale(w) for w, _b in user_layers]
        layer_fn = user_layers.__getitem__
        source_record = user_layers
    scales = [f * u for f, u in zip(factors, units)]
    densities = [lay.density for lay in plan.layouts]
    er_cache = {}

    def er_fn(s):
        if s not in er_cache:
            er_cache[s] = er_mask(tuple(shapes[s]), densities[s], seed, s)
        return er_cache[s]

    result = build(plan, tgt, layer_fn, er_fn, scales, mode="min_size" if subset_size is None else "fixed_size",
                   max_size=max_size, subset_size=subset_size, device=device, progress=progress)
    source_masks = None if density >= 1.0 else [er_fn(s) for s in range(len(shapes))]
    metadata = {
        "method": method,
        "eps": eps_l,
        "tolerance": plan.tolerance,
        "output_eps": output_eps,
        "rho": rho,
        "rho_widened": widen,
        "group_sizes": [lay.group_size for lay in plan.layouts],
        "constant_neurons": [lay.n_consts for lay in plan.layouts],
        "roles": [[r.kind, r.target_layer] for r in roles],
        "max_size": max_size,
        "subset_size": subset_size,
        "density": density,
        "density_scheme": density_scheme,
        "layer_densities": densities,
        "first_layer_scale": plan.sigma,
        "target_scale": plan.target_scale,
        "unit_scales": units,
        "seed": seed,
        "failed": [list(f) for f in result.failed],
        "problems": result.problems,
        "subset_edges": result.subset_edges,
        "seconds": result.seconds,
    }
    ticket = Ticket(tgt, result.masks, result.bias_masks, source_masks, scales, source_record, metadata,
                    result.errors)
    if strict and result.failed:
        raise ValueError(f"strict: {len(result.failed)} target parameters missed their tolerance, e.g. "
                         f"(layer, row, col) = {result.failed[:5]}; raise rho or max_size, or relax eps")
    return ticket


def _check_user_widths(layers, plan, tgt, method):
    if layers[0][0].shape[1] != tgt.widths[0]:
        raise ValueError(f"source layer 0: expected {tgt.widths[0]} input features (the target's), "
                         f"got {layers[0][0].shape[1]}")
    if layers[-1][0].shape[0] != tgt.widths[-1]:
        raise ValueError(f"source layer {len(layers) - 1}: expected {tgt.widths[-1]} outputs (the target's), "
                         f"got {layers[-1][0].shape[0]}")
    for s, ((w, _b), lay) in enumerate(zip(layers, plan.layouts)):
        if w.shape[0] < lay.rows:
            what = (f"{lay.group_size} neurons per block for {tgt.widths[lay.role.target_layer]} inputs"
                    if lay.role.kind == "block" else
                    f"{lay.group_size} copies of {tgt.widths[lay.role.target_layer + 1]} target neurons")
            raise ValueError(f"source layer {s} is too small for the {method} construction: it has {w.shape[0]} "
                             f"neurons and needs at least {lay.rows} ({what} + {lay.n_consts} constant neurons)")
