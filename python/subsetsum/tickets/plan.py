"""The plan of a construction: per source layer its role, base-set sizes, scale and tolerance.

Both constructions are sequences of two kinds of source layers (:mod:`.methods`):

``block``
    Univariate neurons (001_d33223a708772bec.txt, Thm 2.5): neuron k keeps one edge, to the
    neuron that represents input j, so ``phi(a_k x_j) ~ mu(a_k) a_k x_j`` near 0 (Assumption 2.3).
    A block is split by the sign of a_k when m_plus != m_minus, or made of looks-linear pairs
    (k, k ^ 1) whose opposite weights cancel the intercept d (Assumption 2.2, Thm 2.6). Extra
    "constant" neurons carry a fixed value for the biases of the next layer.
``combine``
    Neurons that represent target neurons (``copies`` of each in L+1's hidden layers). For target
    weight w_ij, one subset-sum problem per group of the input's representatives: the elements are
    the edge weights times the representative's multiplier (a product of two source weights after a
    block layer, 1 after a combine layer, Thm 2.7); biases use the constant neurons.

Units: ticket weight = ``scale_s * source_weight`` with ``scale_s = factor_s * unit_s`` (``unit_s``
maps a user source to Uniform[-1, 1] units, 1 for a generated one). The factors: ``sigma_t`` on
block layers (first-layer scale, Thm 2.5: small enough that the linearisation remainder of tanh /
sigmoid stays below the tolerance), ``E_s / (kappa sigma_t)`` on combine layers after a block and
``E_s`` after a combine, where ``E_s`` is the layer's element scale chosen by the sizing (elements
are ``E_s`` times a product of two uniforms, or times one uniform) and ``kappa = m_plus + m_minus``
(``m_plus`` for unsplit blocks) is Lemma 2.4's identity factor.

Residual targets add skip layers (:class:`SkipPlan`, roles from :func:`.methods.skip_roles`):
their problems have the elements of the combine layer they add into (copies: one uniform;
block neurons: a product), so they share its tolerance and element scale; the layer they read
is sized for its largest reader (the copies or block neurons of p serve both the layer after p
and the joins that add p), and a block's first-layer scale is the smallest any reader needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import sizing
from .activations import Activation
from .bounds import allocate_tolerances, layer_models
from .graph import TargetNetwork
from .methods import LayerRole, SkipRole, layer_roles, skip_roles
from .source import layer_densities

__all__ = ["LayerPlan", "SkipPlan", "Plan", "make_plan", "estimate_seconds", "SOLVER_LIMITS"]

# Elements per problem the solver takes: min_size (increasing_size) and fixed_size.
SOLVER_LIMITS = {"min_size": 64, "fixed_size": 256}
# Element scale candidates, in units of the layer's largest target parameter.
SCALE_CHOICES = {"uniform": (1.0, 1.25, 1.5, 2.0, 3.0, 4.0), "product": (1.0, 1.5, 2.0, 3.0, 4.0)}
# Element scale of uniform layers, relative to their largest parameter, assumed when splitting
# output_eps before the sizing has chosen one.
TYPICAL_SCALE = 1.5
# Element scale without a table to choose from (the published construction's ranges).
DEFAULT_SCALE = {"uniform": 1.0, "product": 2.0}
# Constants are chosen with values within this factor of the value the bias problems want.
CONSTANT_RANGE = 2.0
# Copies per hidden neuron assumed when problem counts are needed before the sizes exist.
GUESS_COPIES = 20


@dataclass
class LayerPlan:
    """One source layer.

    role : LayerRole
    init : "uniform", "looks_linear" (generated) or "user"
    group_size : block: neurons (pairs) per input and sign; combine: copies per target neuron
    n_consts : constant neurons (pairs) laid out in this layer for the next one's biases
    pairs, split : block (and constant) neurons come in looks-linear pairs / by the sign of a_k
    density : ER density p_s of this layer's edges
    factor : construction factor of the layer (scale = factor * unit)
    element_scale : E_s of a combine layer (its problems' elements are E_s times the distribution)
    distribution : "product" or "uniform" (combine layers), the elements' distribution
    tolerance : subset-sum tolerance of a combine layer's problems
    const_value : the value constants in this layer aim at (so the next layer's bias elements
        have the element scale of its weights)
    sizing : how the next layer's base sets were sized: "table", "measured", "rho" or "theory"
    expected_misses : the sizing's expected misses of the next layer's first solve (weights, biases)
    """

    role: LayerRole
    init: str
    group_size: int = 0
    n_consts: int = 0
    pairs: bool = False
    split: bool = False
    density: float = 1.0
    factor: float = 1.0
    unit: float = 1.0
    element_scale: float = 1.0
    distribution: str = "uniform"
    tolerance: float = 0.0
    const_value: float = 1.0
    sizing: str = ""
    expected_misses: tuple = (0.0, 0.0)

    @property
    def scale(self) -> float:
        return self.factor * self.unit


@dataclass
class SkipPlan:
    """One source skip layer (:class:`~.methods.SkipRole`): a weight matrix into combine layer
    ``role.into`` over the rows of layer ``role.source``, read through ``fan`` columns per row
    (the part's op, :mod:`.maps`); ``factor``: ticket weight = factor * source weight (the
    combine layer's element scale, over ``kappa sigma`` of the block it reads when it reads one)."""

    role: SkipRole
    init: str
    fan: int
    density: float = 1.0
    factor: float = 1.0

    @property
    def scale(self) -> float:
        return self.factor


@dataclass
class Plan:
    """Everything the build needs before drawing the source.

    layers : list of LayerPlan (one per source layer)
    tolerances : per target layer, the subset-sum tolerance of its parameters
    sigma : per target layer, the first-layer scale of its block (1 without one)
    bounds : per target layer t, the activation bounds of its inputs over [-M, M]^d
    """

    method: str
    layers: list
    activation: Activation
    tolerances: list
    sigma: list
    bounds: list
    mode: str
    max_size: int | None
    subset_size: int | None
    delta: float
    input_bound: float
    notes: list = field(default_factory=list)
    skips: list = field(default_factory=list)

    @property
    def roles(self) -> list:
        return [lay.role for lay in self.layers]

    def readers(self, s: int) -> list:
        """The combine layers that read the rows of source layer s: the next one, and the ones
        that add s through a skip layer."""
        return [s + 1] + [sk.role.into for sk in self.skips if sk.role.source == s]

    def kappa(self, s: int) -> float:
        """Lemma 2.4's identity factor of block layer s."""
        act, lay = self.activation, self.layers[s]
        return act.m_plus + act.m_minus if (lay.pairs or lay.split) else act.m_plus

    def element_limit(self) -> int:
        return SOLVER_LIMITS[self.mode]


def _combine_inputs(plan_layers, s):
    """(kind, groups per input) of combine layer s: block-based or copies, and 2 for sign splits."""
    prev = plan_layers[s - 1]
    if prev.role.kind == "block":
        return "product", (2 if prev.split else 1)
    return "uniform", 1


def make_plan(target: TargetNetwork, options, *, user_units=None, user_widths=None, user_samples=None) -> Plan:
    """Lay out the construction for ``target`` with validated ``options``
    (:class:`~.options.TicketOptions`).

    ``user_units``: per-layer unit scales of a user source (None: generated); ``user_samples``:
    per layer a sample of its weights in Uniform[-1, 1] units (user sources are sized on the fly
    with their own distribution); ``user_widths``: their widths, for the density schemes.
    """
    act = target.activation
    roles = layer_roles(options.method, target.depth)
    n_layers = len(roles)
    mode = "fixed_size" if options.subset_size is not None else "min_size"
    looks_linear = options.init == "looks_linear"
    layers = []
    for s, role in enumerate(roles):
        init = "user" if options.init == "user" else (
            "looks_linear" if looks_linear and (options.method == "2L" or s <= 1) else "uniform")
        lay = LayerPlan(role, init)
        if role.kind == "block":
            lay.pairs = init == "looks_linear"
            lay.split = not lay.pairs and act.needs_sign_split
        lay.unit = 1.0 if user_units is None else float(user_units[s])
        layers.append(lay)
    bounds = target.activation_bounds(options.input_bound)
    plan = Plan(options.method, layers, act, [options.eps] * target.depth, [1.0] * target.depth, bounds, mode,
                options.max_size, options.subset_size, options.delta, options.input_bound)
    for role in skip_roles(options.method, target):
        op = target.skips[role.target_layer][role.part - 1][1]
        plan.skips.append(SkipPlan(role, layers[role.into].init, op.fan))
    if options.subset_size is not None and options.rho != "auto" and options.rho <= options.subset_size:
        raise ValueError(f"subset_size: expected less than rho = {options.rho} (the base-set size): with "
                         f"subset_size >= rho every element is used and no choice is left; got {options.subset_size}")

    # tolerances: the per-parameter eps, or the split of output_eps (bounds.allocate_tolerances)
    if options.output_eps is not None:
        models = layer_models(target, options.method, split=any(lay.split for lay in layers),
                              smooth=act.cubic > 0)
        problems = _guessed_problem_counts(target, plan)
        # element scales are not sized yet: a typical choice (the certified bound checks the result)
        scales = [TYPICAL_SCALE * max(float(np.abs(w).max(initial=0.0)), float(np.abs(b).max(initial=0.0)), 1e-12)
                  for w, b in zip(target.weights, target.biases)]
        plan.tolerances = allocate_tolerances(target, models, options.output_eps, cap=options.eps,
                                              problems=problems, element_scales=scales,
                                              input_bound=options.input_bound)
    if options.tolerance_scale != 1.0:
        plan.tolerances = [min(options.eps, t * options.tolerance_scale) for t in plan.tolerances]

    densities = [1.0] * n_layers
    for _ in range(4):  # sizes <-> densities (ERK, balanced and pyramidal depend on the widths)
        for lay, p in zip(layers, densities):
            lay.density = p
        _size_layers(target, plan, options, user_samples)
        if options.density >= 1.0:
            break
        shapes = _planned_shapes(target, plan, user_widths)
        new = list(layer_densities(shapes, options.density, options.density_scheme))
        if np.allclose(new, densities):
            break
        densities = new
    _scales(target, plan, options)
    for sk in plan.skips:
        sk.density = layers[sk.role.into].density
    return plan


def layer_fans(plan, target) -> list[int]:
    """Columns per row of the layer before, per source layer (:mod:`.maps`): a combine layer
    reads like its target layer (a convolution's kernel offsets, a flattened map's positions),
    a block reads one column per row (a 1x1 convolution on a map)."""
    return [1 if lay.role.kind == "block" else target.op(lay.role.target_layer).fan for lay in plan.layers]


def _guessed_problem_counts(target, plan) -> list[int]:
    """Subset-sum problems per target layer (weights and biases), with GUESS_COPIES copies per
    hidden neuron of L+1 (the split of output_eps comes before the sizing)."""
    counts = [0] * target.depth
    layers = plan.layers
    for s, lay in enumerate(layers):
        if lay.role.kind != "combine":
            continue
        t = lay.role.target_layer
        n_out, n_in = target.weights[t].shape
        copies = 1 if lay.role.single_copy else GUESS_COPIES
        _kind, per_input = _combine_inputs(layers, s)
        counts[t] = n_out * copies * (n_in * per_input + int(np.any(target.biases[t] != 0)))
    return counts


def _planned_shapes(target, plan, user_widths):
    if user_widths is not None:
        widths = list(user_widths)
    else:
        widths = []
        for s, lay in enumerate(plan.layers):
            t = lay.role.target_layer
            if lay.role.kind == "block":
                n_in = target.widths[t]
                per = lay.group_size * (2 if lay.split else 1) * (2 if lay.pairs else 1)
                widths.append(int(n_in * per / max(lay.density, 1e-3)) + lay.n_consts * (2 if lay.pairs else 1))
            else:
                copies = 1 if lay.role.single_copy else lay.group_size
                widths.append(target.widths[t + 1] * copies + lay.n_consts)
    shapes, in_f = [], target.widths[0]
    for w, fan in zip(widths, layer_fans(plan, target)):
        shapes.append((w, in_f * fan))  # lowered columns
        in_f = w
    return shapes


def _size_layers(target, plan, options, user_samples):
    """Base-set sizes of every layer (group sizes, copies, constants) and element scales."""
    layers = plan.layers
    limit = plan.element_limit()
    act = plan.activation
    n_layers = len(layers)
    # for L+1 the copies of layer s are the base sets of layer s + 1: size back to front
    weight_sizes = {}
    magnitudes = {}  # per target layer, its weights' |w| sorted once (sizing.Magnitudes)
    for _round in range(3):
        counts = {}
        for s in range(n_layers):
            lay = layers[s]
            if lay.role.kind != "combine":
                continue
            t = lay.role.target_layer
            n_out, n_in = target.weights[t].shape
            copies = 1 if lay.role.single_copy else max(weight_sizes.get(r, GUESS_COPIES) for r in plan.readers(s))
            _kind, per_input = _combine_inputs(layers, s)
            has_bias = bool(np.any(target.biases[t] != 0))
            counts[s] = (n_out * copies * n_in * per_input, n_out * copies * int(has_bias))
        costs = _element_costs(target, layers, counts)
        shares = _delta_shares(counts, costs)
        for s in range(n_layers):
            lay = layers[s]
            if lay.role.kind != "combine":
                continue
            t = lay.role.target_layer
            prev = layers[s - 1]
            dist, per_input = _combine_inputs(layers, s)
            n_out = target.weights[t].shape[0]
            copies = 1 if lay.role.single_copy else max(weight_sizes.get(r, GUESS_COPIES) for r in plan.readers(s))
            tol = plan.tolerances[t]
            w_t, b_t = target.weights[t], target.biases[t]
            largest = max(float(np.abs(w_t).max(initial=0.0)), float(np.abs(b_t).max(initial=0.0)))
            q = lay.density * (lay.density if prev.pairs else 1.0)
            lay.distribution = dist
            lay.tolerance = tol
            if options.rho != "auto":
                m = int(options.rho)
                lay.element_scale = (2.0 if dist == "product" else 1.0) * max(largest, tol)
                m_bias = m
                misses = (float("nan"), float("nan"))
                how = "rho"
            else:
                w_budget = plan.delta * shares[s][0]
                b_budget = plan.delta * shares[s][1]
                sample = None if user_samples is None else _user_distribution(user_samples, s, dist)
                if t not in magnitudes:
                    magnitudes[t] = sizing.Magnitudes(np.abs(w_t))
                m, scale, w_misses, how = _choose_size(
                    dist, sample, tol, largest, magnitudes[t], copies * per_input,
                    w_budget, q, plan, limit, options, costs[s][0])
                lay.element_scale = scale
                if counts[s][1]:
                    m_bias, b_misses, _how = _bias_size(np.abs(b_t), tol, scale, copies, b_budget, q, plan,
                                                        limit, options, sample)
                else:
                    m_bias, b_misses = 0, 0.0
                misses = (w_misses, b_misses)
            prev.sizing = how
            prev.expected_misses = misses
            weight_sizes[s] = m
            if prev.role.kind == "block":
                prev.group_size = m
            else:
                prev.group_size = m  # copies of the previous target layer
            for sk in plan.skips:  # the layers a skip reads serve their largest reader
                if sk.role.into == s:
                    read = layers[sk.role.source]
                    read.group_size = max(read.group_size, m)
            needs_bias = bool(np.any(b_t != 0))
            prev.n_consts = m_bias if needs_bias else 0
            if needs_bias and options.init == "user" and act.needs_sign_split:
                prev.n_consts *= 2  # a user source's constants vanish for about half the rows
        # constants feeding constants: where phi(0) = 0 (or the next layer pairs its neurons), a
        # layer's constants are made from the previous layer's through one edge each
        for s in range(n_layers - 2, -1, -1):
            nxt = layers[s + 1]
            if nxt.n_consts > 0 and (act.intercept == 0 or nxt.pairs):
                layers[s].n_consts = max(layers[s].n_consts, nxt.n_consts)
    for lay in layers:
        if lay.role.kind == "combine" and lay.role.single_copy:
            lay.group_size = 1


def _element_costs(target, layers, counts) -> dict:
    """What one more element per base set costs, per problem family {s: (weights, biases)}: a
    block neuron costs one source row per group, a constant one row, but one more copy of every
    input neuron of an L+1 layer adds rows to the layer before, each with its own problems and
    about two kept edges per problem."""
    costs = {}
    for s, (n_w, n_b) in counts.items():
        prev = layers[s - 1]
        t = layers[s].role.target_layer
        n_in = target.widths[t]  # input neurons (channels): one more element adds a row for each
        if prev.role.kind == "block":
            cost = n_in * (2 if prev.split else 1)
        else:
            t_prev = prev.role.target_layer
            n_prev_in = target.weights[t_prev].shape[1]
            per_input = 2 if (layers[s - 2].role.kind == "block" and layers[s - 2].split) else 1
            cost = n_in * (n_prev_in * per_input + 1) * 2
        costs[s] = (float(cost) if n_w else 0.0, 1.0 if n_b else 0.0)
    return costs


def _delta_shares(counts, costs) -> dict:
    """How delta is split over the problem families {s: (weights, biases)}: half in proportion to
    the problems (an equal miss probability per problem), half in proportion to the marginal cost
    of an element (the split minimising the total cost when miss rates decay alike with m)."""
    total_problems = sum(a + b for a, b in counts.values()) or 1
    total_cost = sum(a + b for a, b in costs.values()) or 1.0
    return {s: tuple(0.5 * counts[s][k] / total_problems + 0.5 * costs[s][k] / total_cost for k in range(2))
            for s in counts}


def _user_distribution(samples, s, dist):
    """Element values of combine layer s of a user source, in Uniform[-1, 1] units."""
    rng = np.random.default_rng(s)
    v = samples[s]
    if dist == "uniform":
        return v
    a = samples[s - 1]
    n = min(200_000, v.size * 4)
    return a[rng.integers(0, a.size, n)] * v[rng.integers(0, v.size, n)]


def _choose_size(dist, sample, tol, largest, magnitudes, multiplicity, budget, q, plan, limit, options, cost):
    """(m, element scale, expected misses, how) for one combine layer's weight problems, whose
    targets' magnitudes are ``magnitudes`` (:class:`~.sizing.Magnitudes`), each target
    ``multiplicity`` problems.

    ``dist``: "product" or "uniform"; ``sample``: a user source's element values (or None);
    ``cost``: what one more element per base set costs (:func:`_element_costs`). With the table
    every candidate scale of SCALE_CHOICES is sized, and the one with the smallest cost wins:
    kept edges (problems x mean subset size, larger for a larger scale, whose relative tolerance
    is smaller) plus ``m * cost``. A measured curve (costlier to get) is taken at the default
    scale only."""
    if largest <= 0:
        return 1, 1.0, 0.0, "table"
    use_table = sample is None and plan.mode == "min_size" and plan.max_size == sizing.TABLE_MAX_SIZE
    choices = SCALE_CHOICES[dist] if use_table else (DEFAULT_SCALE[dist],)
    name = dist
    if sample is not None:
        dist = sample
    best = None
    m_min = (plan.subset_size + 1) if plan.subset_size else 1
    problems = magnitudes.problems * multiplicity
    for c in choices:
        scale = c * max(largest, tol)
        counts = magnitudes.counts(scale) * multiplicity
        eps_rel = tol / scale
        if best is not None and eps_rel < sizing.TABLE_EPS[-1]:
            break  # larger scales only push the tolerance further below the measured grid (and slow the solver)
        if use_table:
            table = sizing.load_table()

            def curve(m, zbin, _eps=eps_rel):
                return table.log10_p(dist, _eps, m, zbin)
            how = "table"
        else:
            curve = _measured_curve(dist, eps_rel, magnitudes.z_abs / scale, plan, limit, options)
            how = "measured"
        m, misses = sizing.required_size(curve, None, budget, counts=counts, q=q,
                                         m_min=m_min, m_max=_members_limit(limit, q))
        objective = m * cost
        if use_table:
            objective += problems * sizing.load_table().mean_size(name, eps_rel, m, counts=counts)
        key = (misses > budget, misses if misses > budget else objective)  # meeting delta comes first
        if best is None or key < best[0]:
            best = (key, m, scale, misses, how)
    return best[1:]


def _bias_size(b_abs, tol, weight_scale, copies, budget, q, plan, limit, options, sample):
    """(m, expected misses, how) for the constants of one combine layer's bias problems: their
    elements are constants near the layer's const value times combine weights, i.e. uniform at
    about 3/4 of the weight problems' element scale (constants are chosen within a factor 2)."""
    scale = 0.75 * weight_scale
    z_rel = b_abs / scale
    eps_rel = tol / scale
    m_min = (plan.subset_size + 1) if plan.subset_size else 1
    if plan.mode == "min_size" and plan.max_size == sizing.TABLE_MAX_SIZE:
        table = sizing.load_table()

        def curve(m, zbin):
            return table.log10_p("uniform", eps_rel, m, zbin)
        how = "table"
    else:
        curve = _measured_curve("uniform", eps_rel, z_rel, plan, limit, options)
        how = "measured"
    m, misses = sizing.required_size(curve, z_rel, budget, weights=np.full(z_rel.size, copies), q=q,
                                     m_min=m_min, m_max=_members_limit(limit, q))
    return m, misses, how


def _members_limit(limit: int, q: float) -> int:
    """Largest planned group: about ``limit`` existing elements after an ER mask keeps each with
    probability q (problems are compacted to their existing elements before solving)."""
    from .solve import MEMBERS_CAP_FACTOR

    return int(min(MEMBERS_CAP_FACTOR * limit, max(limit, math.floor(limit / max(q, 1e-9)))))


_MEASURED_TRIALS = 10_000
# Sizes measured above the smallest admissible one: denser where the curve bends.
_MEASURED_OFFSETS = (0, 1, 2, 3, 5, 8, 12, 17, 23, 30, 38, 47, 57, 70, 90, 120, 160, 200)
_MEASUREMENT_SEED = 20221


def _measured_curve(dist, eps_rel, z_rel, plan, limit, options):
    """A failure curve measured now, for settings the table does not hold."""
    k = plan.subset_size
    start = (k + 1) if k else 1
    m_values = [start + d for d in _MEASURED_OFFSETS if start + d <= limit]
    z_values = np.asarray(z_rel, dtype=np.float64)
    z_values = np.concatenate([z_values, -z_values]) if z_values.size else np.zeros(1)
    # a fixed seed: sizes depend on the target and the options, never on the ticket's seed
    curve = sizing.measure_curve(dist, eps_rel, m_values, _MEASURED_TRIALS, max_size=plan.max_size, k=k,
                                 z_values=z_values, seed=_MEASUREMENT_SEED)
    return curve.log10_p


def _scales(target, plan, options):
    """Construction factors of every layer, first-layer scales sigma_t and constants' values."""
    layers = plan.layers
    act = plan.activation
    k_max = plan.subset_size or plan.max_size or 10
    for s, lay in enumerate(layers):
        t = lay.role.target_layer
        if lay.role.kind == "block":
            kappa = plan.kappa(s)
            sigma = 1.0
            if act.cubic > 0:
                c_pair = act.cubic * (2.0 if lay.pairs else 1.0)
                for r in plan.readers(s):  # a skip's reader asks for its own tolerance and bounds
                    t_r = layers[r].role.target_layer
                    big_b = 1.05 * max(1e-12, float(plan.bounds[t_r].max(initial=0.0)))
                    sig2 = plan.tolerances[t_r] * kappa / (k_max * layers[r].element_scale * c_pair * big_b ** 2)
                    sigma = min(sigma, math.sqrt(sig2))
            plan.sigma[t] = sigma
            lay.factor = sigma
            # the next layer's bias elements are const * E / (kappa sigma) * v: aim at kappa sigma
            lay.const_value = kappa * sigma
        else:
            prev = layers[s - 1]
            if prev.role.kind == "block":
                lay.factor = lay.element_scale / (plan.kappa(s - 1) * plan.sigma[t])
            else:
                lay.factor = lay.element_scale
            lay.const_value = 1.0
    for sk in plan.skips:
        read = layers[sk.role.source]
        scale = layers[sk.role.into].element_scale
        sk.factor = (scale / (plan.kappa(sk.role.source) * plan.sigma[read.role.target_layer])
                     if read.role.kind == "block" else scale)
    return plan


def estimate_seconds(plan: Plan, target: TargetNetwork, *, budget: float = 0.05) -> float:
    """Seconds the first solve of ``plan`` will take on this machine, from a timed sample of each
    combine layer's problems (its element distribution, base-set size, tolerance and targets):
    64 problems, then as many as fill ``budget`` seconds at that rate (so a call's fixed cost
    does not count as per-problem time).

    >>> from subsetsum.tickets.graph import parse_target
    >>> from subsetsum.tickets.options import TicketOptions
    >>> t = parse_target([(np.full((3, 2), 0.5), np.zeros(3)), (np.ones((1, 3)), np.zeros(1))])
    >>> 0 < estimate_seconds(make_plan(t, TicketOptions.create()), t) < 10
    True
    """
    import time as _time

    from ..solve import solve

    rng = np.random.default_rng(0)
    total = 0.0
    for s, lay in enumerate(plan.layers):
        if lay.role.kind != "combine":
            continue
        t = lay.role.target_layer
        w_t = target.weights[t]
        prev = plan.layers[s - 1]
        per_input = 2 if (prev.role.kind == "block" and prev.split) else 1
        problems = w_t.shape[0] * lay.group_size * (w_t.shape[1] * per_input + 1)
        m = max(1, min(prev.group_size, plan.element_limit()))
        z_pool = np.abs(w_t).ravel() / lay.element_scale
        kwargs = dict(eps=lay.tolerance / lay.element_scale, mode=plan.mode)
        if plan.mode == "min_size":
            kwargs["max_size"] = plan.max_size
        else:
            kwargs.update(k=min(plan.subset_size, m), algorithm="first_hit")

        def timed(count):
            z = z_pool[rng.integers(0, z_pool.size, count)] * rng.choice([-1.0, 1.0], count)
            x = sizing.sample_elements(lay.distribution, rng, (count, m))
            start = _time.perf_counter()
            solve(z, x, **kwargs)
            return _time.perf_counter() - start

        first = 64
        spent = timed(first)
        per = spent / first
        more = int(min(problems, budget / max(per, 1e-9)))
        if more > 4 * first:
            per = timed(more) / more
        total += per * problems
    return total
