"""Shared machinery of the L+1 and 2L constructions: layer layout, scales, batched solving.

Both constructions are sequences of two kinds of source layers (see :mod:`.l_plus_one` and
:mod:`.two_l` for the sequences):

``block``
    Univariate neurons (001_d33223a708772bec.txt, Thm 2.5): neuron k keeps one edge, to the
    neuron that represents input j, so ``phi(a_k x_j) ~ mu(a_k) a_k x_j`` near 0 (Assumption 2.3).
    A block is split by the sign of a_k when m_plus != m_minus, or made of looks-linear pairs
    (k, k + out/2) whose opposite weights cancel the intercept d (Assumption 2.2, Thm 2.6). Extra
    "constant" neurons carry a fixed value for the biases of the next layer.
``combine``
    Neurons that represent target neurons (``copies`` of each). For target weight w_ij, one
    subset-sum problem per group of the input's representatives: the elements are the edge
    weights times the representative's multiplier (a product of two source weights after a
    block layer, 1 after a combine layer, Thm 2.7); biases use the constant neurons.

Every problem of a layer is independent of every other (elements depend only on source weights
and constant-neuron values), so a layer is solved in a few large batched :func:`subsetsum.solve`
calls; a final backward pass drops neurons no kept edge uses.

Units: ticket weight = ``scale_l * source_weight * mask``; the construction's scale factors are
``sigma_t`` on block layers (first-layer scale, Thm 2.5: small enough for the linearisation of
tanh/sigmoid), ``PRODUCT_RANGE * s_t / (kappa sigma_t)`` on combine layers after a block and
``s_t`` after a combine, where ``s_t = max(1, max |theta_t|)`` rescales large target weights and
``kappa = m_plus + m_minus`` (``m`` for unsplit blocks) is Lemma 2.4's identity factor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .methods import LayerRole
from .source import er_widening
from .activations import Activation
from .graph import TargetNetwork

__all__ = ["LayerRole", "LayerLayout", "Plan", "make_plan", "build", "BuildResult"]

# Problems handed to one solve call: bounds the bases array (float64, up to ~60 elements each)
# to a few hundred MB while keeping calls few and large.
_PROBLEMS_PER_CALL = 1 << 19

# Range of the second factor of product bases, relative to Thm 2.5's 1/(kappa sigma): a product of
# two Uniform[-1, 1] variables rarely exceeds 0.5, so with 15 elements targets near 1 miss eps = 0.01
# in ~10% of problems; doubling the range brings that to ~2% with subsets of the same size.
PRODUCT_RANGE = 2.0


@dataclass
class LayerLayout:
    """Where things live in one source layer (rows = output neurons, PyTorch layout).

    Block layers: neurons (pairs: slots in the top half, partners ``+ half``) are assigned to
    inputs in row order, skipping those without the needed edge or sign, with some slack rows;
    combine layers: copy c of target neuron i is row
    ``i*copies + c``. Constant neurons follow the blocks / copies.
    """

    role: LayerRole
    rows: int               # rows the construction uses
    group_size: int         # block: neurons (pairs) per group; combine: copies per target neuron
    n_consts: int           # constant neurons in this layer
    pairs: bool = False     # block of looks-linear pairs
    split: bool = False     # block split by sign
    init: str = "uniform"   # generated init of this layer
    width: int = 0          # rows of the generated layer (>= rows)
    density: float = 1.0    # ER density p_l


@dataclass
class Plan:
    layouts: list
    roles: list
    activation: Activation
    output_activation: Activation | None
    eps: list               # per-parameter budget per target layer
    tolerance: list         # subset-sum tolerance per target layer (half of eps after tanh/sigmoid blocks)
    sigma: list             # first-layer scale per target layer (Thm 2.5)
    target_scale: list      # s_t

    def construction_factors(self) -> list[float]:
        """Scale factor of each source layer before mapping the source to Uniform[-1, 1] units."""
        factors = []
        for s, (role, lay) in enumerate(zip(self.roles, self.layouts)):
            t = role.target_layer
            if role.kind == "block":
                factors.append(self.sigma[t])
            elif s > 0 and self.roles[s - 1].kind == "block":
                factors.append(PRODUCT_RANGE * self.target_scale[t] / (self.kappa(self.layouts[s - 1]) * self.sigma[t]))
            else:
                factors.append(self.target_scale[t])
        return factors

    def kappa(self, block: LayerLayout) -> float:
        act = self.activation
        return act.m_plus + act.m_minus if (block.pairs or block.split) else act.m_plus


def make_plan(
    target: TargetNetwork,
    roles: list,
    *,
    rho: int,
    widen: bool,
    eps: list,
    elements_per_problem: int,
    looks_linear_layers: list,
    max_elements: int,
    density_fn,
    source_widths: list | None,
) -> Plan:
    """Layout of every source layer.

    ``density_fn(shapes) -> list of p_l``; ``widen``: base sets grow by
    :func:`subsetsum.sources.er_widening` (000_79c8cccaad099f72.txt, Lemma 2.4);
    ``elements_per_problem``: max_size or subset_size (bounds the linearisation error);
    ``max_elements``: the solver's limit on elements per problem for the mode (caps widening);
    ``looks_linear_layers``: which generated layers follow Assumption 2.2 (their blocks use pairs);
    ``source_widths``: a user source's layer widths (rows), or None for a generated source.
    """
    act = target.activation
    n_layers = len(roles)
    widths = target.widths
    ll_layers = list(looks_linear_layers)
    densities = [1.0] * n_layers
    layouts = None
    for _ in range(4):  # widths <-> densities fixed point (ERK, balanced, pyramidal depend on widths)
        layouts = _layouts(target, roles, rho, widen, densities, ll_layers, max_elements)
        shapes = []
        for s, lay in enumerate(layouts):
            in_f = widths[0] if s == 0 else (source_widths[s - 1] if source_widths else layouts[s - 1].width)
            out_f = source_widths[s] if source_widths else lay.width
            shapes.append((out_f, in_f))
        new = list(density_fn(shapes))
        if new == densities:
            break
        densities = new
    for lay, p in zip(layouts, densities):
        lay.density = p

    bounds = target.activation_bounds()
    target_scale = [max(1.0, float(np.abs(w).max(initial=0)), float(np.abs(b).max(initial=0)))
                    for w, b in zip(target.weights, target.biases)]
    sigma, tolerance = [], []
    for t in range(target.depth):
        block = next((lay for lay in layouts if lay.role.kind == "block" and lay.role.target_layer == t), None)
        if block is None or act.cubic == 0:
            sigma.append(1.0)
            tolerance.append(eps[t])
            continue
        kappa = act.m_plus + act.m_minus if (block.pairs or block.split) else act.m_plus
        n_used = 2 if block.pairs else 1
        big_m = max(1.0, float(bounds[t].max()))
        # per weight: elements * n_used * |scale2 w2| * cubic * (sigma M)^3 <= eps_t / 2
        sig2 = eps[t] * kappa / (2.0 * elements_per_problem * n_used * act.cubic * big_m ** 3
                                 * PRODUCT_RANGE * target_scale[t])
        sigma.append(min(1.0, math.sqrt(sig2)))
        tolerance.append(eps[t] / 2.0)
    return Plan(layouts, roles, act, target.output_activation, list(eps), tolerance, sigma, target_scale)


def _layouts(target, roles, rho, widen, densities, ll_layers, max_elements) -> list:
    act = target.activation
    widths = target.widths
    n_layers = len(roles)

    def base_size(s):  # elements per problem of combine layer s
        if not widen:
            return rho
        p = densities[s] * (densities[s - 1] if roles[s - 1].kind == "block" else 1.0)
        # sign-split blocks and doubled constants make problems twice as wide as the base set
        return min(int(math.ceil(rho * er_widening(p))), max_elements // 2)

    # constant neurons, from the back: a layer needs them for the next combine layer's biases,
    # or (activations with phi(0) = 0) to feed the next layer's constants through one edge.
    n_consts = [0] * n_layers
    for s in range(n_layers - 2, -1, -1):
        nxt = roles[s + 1]
        count = 0
        if nxt.kind == "combine" and np.any(target.biases[nxt.target_layer] != 0):
            # phi(c) vanishes (relu) or shrinks (leaky relu) for about half the constants
            count = base_size(s + 1) * (2 if act.needs_sign_split else 1)
        pair_block = nxt.kind == "block" and ll_layers[s + 1]
        if (act.intercept == 0 or pair_block) and n_consts[s + 1] > 0:  # feeds the next constants
            count = max(count, n_consts[s + 1])
        n_consts[s] = count

    layouts = []
    for s, role in enumerate(roles):
        t = role.target_layer
        init = "looks_linear" if ll_layers[s] else "uniform"
        if role.kind == "block":
            size = base_size(s + 1)
            pairs = ll_layers[s]
            split = not pairs and act.needs_sign_split
            n_in = widths[t]
            block = 2 * size if split else size
            # slack for the greedy assignment in _block: the last input still finds `block`
            # neurons with an edge (probability p) and, when split, the right sign
            slack = int(math.ceil(2 * block / densities[s])) if (split or densities[s] < 1) else 0
            if pairs:
                slots = n_consts[s] // 2 if act.needs_sign_split else n_consts[s]  # pairs need no doubling
                half = n_in * size + slack + slots
                lay = LayerLayout(role, 2 * half, size, 2 * slots, pairs=True, init=init, width=2 * half)
            else:
                rows = n_in * block + slack + n_consts[s]
                lay = LayerLayout(role, rows, size, n_consts[s], split=split, init=init, width=rows)
        else:
            copies = 1 if role.single_copy else base_size(s + 1)
            rows = widths[t + 1] * copies + n_consts[s]
            width = rows + (rows % 2 if ll_layers[s] else 0)
            lay = LayerLayout(role, rows, copies, n_consts[s], init=init, width=width)
        layouts.append(lay)
    return layouts


@dataclass
class BuildResult:
    """Output of :func:`build`.

    masks : list of bool (out, in) per source layer; bias_masks : list of bool (out,) or None;
    errors : list of float64 (n_t, n_{t-1} + 1) per target layer, largest error of any problem
    for that parameter (last column: bias); failed : list of (target_layer, row, col) whose
    problems missed the tolerance; problems : int; seconds : float; subset_edges : kept edges
    chosen by subsets per source layer.
    """

    masks: list
    bias_masks: list
    errors: list
    failed: list
    problems: int
    seconds: float
    subset_edges: list = field(default_factory=list)


def build(plan: Plan, target: TargetNetwork, layer_fn, er_fn, scales, *, mode: str, max_size: int | None,
          subset_size: int | None, device, progress) -> BuildResult:
    """Run the construction.

    ``layer_fn(s) -> (weight (out, in) float32, bias (out,) or None)``, ``er_fn(s) -> bool
    (out, in) or None``, ``scales[s]``: the ticket's scale of source layer s.
    """
    from ..solve import progress_reporter

    start = time.perf_counter()
    roles, layouts = plan.roles, plan.layouts
    n_layers = len(roles)
    act = plan.activation
    total = _count_problems(plan, target)
    update, close = _progress(progress, total, progress_reporter)

    masks, bias_masks, subset_edges = [], [], []
    errors = [np.zeros((w.shape[0], w.shape[1] + 1)) for w in target.weights]
    found = [np.ones((w.shape[0], w.shape[1] + 1), dtype=bool) for w in target.weights]
    prev = {"reps": np.arange(target.widths[0])[:, None],
            "consts": {"idx": np.zeros(0, np.int64), "partners": None, "values": np.zeros(0)}}
    solve_args = dict(mode=mode, max_size=max_size, k=subset_size, device=device, update=update)
    try:
        for s in range(n_layers):
            weight, bias = layer_fn(s)
            er = er_fn(s)
            role, lay = roles[s], layouts[s]
            mask = np.zeros(weight.shape, dtype=bool)
            bmask = None if bias is None else np.zeros(weight.shape[0], dtype=bool)
            scale = scales[s]
            consts = _constants(lay, s, weight, bias, er, scale, prev["consts"], act, mask, bmask,
                                first_row=lay.rows - lay.n_consts)
            if role.kind == "block":
                prev = {"groups": _block(plan, lay, s, weight, er, scale, prev["reps"], mask), "consts": consts}
                subset_edges.append(0)
            else:
                t = role.target_layer
                inputs = prev["groups"] if "groups" in prev else _copy_groups(prev["reps"])
                edges = _combine(target, t, lay, weight, er, scale, inputs, prev["consts"], mask,
                                 plan.tolerance[t], errors[t], found[t], solve_args)
                subset_edges.append(edges)
                copies = lay.group_size
                prev = {"reps": np.arange(target.widths[t + 1] * copies).reshape(-1, copies), "consts": consts}
            masks.append(mask)
            bias_masks.append(bmask)
    finally:
        close()

    keep_rows = subset_size is not None
    _drop_dead_neurons(masks, bias_masks, roles, layouts, target.widths[-1], keep_rows)
    failed = [(t, int(i), int(j)) for t, f in enumerate(found) for i, j in zip(*np.nonzero(~f))]
    return BuildResult(masks, bias_masks, errors, failed, total, time.perf_counter() - start, subset_edges)


def _progress(progress, total, reporter):
    if progress is None:
        progress = total >= 2_000_000
    return reporter(progress, total)


def _count_problems(plan: Plan, target: TargetNetwork) -> int:
    total = 0
    for s, (role, lay) in enumerate(zip(plan.roles, plan.layouts)):
        if role.kind != "combine":
            continue
        t = role.target_layer
        n_out, n_in = target.weights[t].shape
        groups_per_input = 2 if (s > 0 and plan.roles[s - 1].kind == "block" and plan.layouts[s - 1].split) else 1
        has_bias = plan.layouts[s - 1].n_consts > 0 and np.any(target.biases[t] != 0)
        total += n_out * lay.group_size * (n_in * groups_per_input + int(has_bias))
    return total


def _constants(lay, s, weight, bias, er, scale, prev_consts, act, mask, bmask, first_row):
    """This layer's constant neurons: {"idx", "partners", "values"}; marks their structural edges.

    Plain layers: neuron q outputs ``phi(0) = d`` with no inputs when d != 0; otherwise
    ``phi(scale b_q)`` from its first-layer bias, or ``phi(scale w_qk c_k)`` through the one edge
    from a previous constant k that gives the largest |value|. Looks-linear blocks: slot q and its
    partner q + half form a pair whose output ``phi(u) - phi(u')`` cancels the intercept (Thm 2.6);
    u, u' are the two biases (first layer) or ``+-scale w_qk c_k`` (opposite weights, Assumption 2.2).
    """
    empty = {"idx": np.zeros(0, np.int64), "partners": None, "values": np.zeros(0)}
    if lay.n_consts == 0:
        return empty
    partners = None
    if lay.pairs:
        half = lay.rows // 2
        idx = np.arange(half - lay.n_consts // 2, half)
        partners = idx + half
    else:
        idx = np.arange(first_row, first_row + lay.n_consts)
    if act.intercept != 0 and partners is None:  # every neuron with all inputs pruned outputs phi(0) = d
        return {"idx": idx, "partners": None, "values": np.full(idx.size, act.intercept)}
    if s == 0:
        if bias is None:
            raise ValueError("source layer 0: the construction needs first-layer biases for its constant "
                             "neurons (the activation has phi(0) = 0 and the target has biases)")
        values = act(scale * bias[idx].astype(np.float64))
        bmask[idx] = True
        if partners is not None:
            values = values - act(scale * bias[partners].astype(np.float64))
            bmask[partners] = True
        return {"idx": idx, "partners": partners, "values": values}
    p_idx, p_partners, p_val = prev_consts["idx"], prev_consts["partners"], prev_consts["values"]
    if p_idx.size == 0:
        return {"idx": idx, "partners": partners, "values": np.zeros(idx.size)}
    pre = scale * weight[np.ix_(idx, p_idx)].astype(np.float64) * p_val[None, :]
    if er is not None:
        ok = er[np.ix_(idx, p_idx)]
        if p_partners is not None:
            ok = ok & er[np.ix_(idx, p_partners)]
        if partners is not None:
            ok = ok & er[np.ix_(partners, p_idx)]
            if p_partners is not None:
                ok = ok & er[np.ix_(partners, p_partners)]
        pre = np.where(ok, pre, 0.0)
    out = act(pre) - act(-pre) if partners is not None else act(pre)
    best = np.argmax(np.abs(out), axis=1)
    values = out[np.arange(idx.size), best]
    useful = values != 0
    for rows in (idx, partners):
        if rows is None:
            continue
        for cols in (p_idx, p_partners):
            if cols is not None:
                mask[rows[useful], cols[best[useful]]] = True
    return {"idx": idx, "partners": partners, "values": np.where(useful, values, 0.0)}


def _block(plan, lay, s, weight, er, scale, reps, mask):
    """Groups (for the next combine layer) of a block layer; marks the univariate edges.

    Neurons are assigned to inputs greedily in row order: input j takes the next free neurons
    whose edge to j exists in the ER mask (and, for sign-split blocks, ``group_size`` neurons of
    each sign), so every group gets its full base set while the pool lasts; the layout's slack
    rows absorb the neurons skipped on the way.
    """
    n_in = reps.shape[0]
    size = lay.group_size
    src_col = reps[:, 0]  # the neuron representing input j in the previous layer
    kappa = plan.kappa(lay)
    pool = lay.rows - lay.n_consts
    partners = None
    if lay.pairs:
        half = lay.rows // 2
        pool = half - lay.n_consts // 2
    free = np.ones(pool, dtype=bool)
    conditions = [None, None] if lay.split else [None]
    members = np.zeros((len(conditions) * n_in, size), dtype=np.int64)
    valid = np.zeros(members.shape, dtype=bool)
    for j in range(n_in):
        col = weight[:pool, src_col[j]]
        ok = free.copy()
        if er is not None:
            ok &= er[:pool, src_col[j]]
            if lay.pairs:
                ok &= er[half:half + pool, src_col[j]]
        if lay.split:
            picks = [np.flatnonzero(ok & (col > 0))[:size], np.flatnonzero(ok & (col < 0))[:size]]
        else:
            picks = [np.flatnonzero(ok & (col != 0))[:size]]
        for g, pick in enumerate(picks):
            members[g * n_in + j, :pick.size] = pick
            valid[g * n_in + j, :pick.size] = True
            free[pick] = False
    input_of_group = np.tile(np.arange(n_in), len(conditions))
    cols = src_col[input_of_group][:, None]
    values = np.where(valid, kappa * scale * weight[members, cols].astype(np.float64), 0.0)
    rows_kept, col_kept = members[valid], np.broadcast_to(cols, members.shape)[valid]
    mask[rows_kept, col_kept] = True
    if lay.pairs:
        partners = members + half
        mask[partners[valid], col_kept] = True
    return {"members": members, "partners": partners, "values": values, "valid": valid, "col": input_of_group}


def _copy_groups(reps):
    """Groups of an L+1 combine layer: the copies of input neuron j, multiplier 1."""
    return {"members": reps, "partners": None, "values": np.ones(reps.shape), "valid": np.ones(reps.shape, bool),
            "col": np.arange(reps.shape[0])}


def _combine(target, t, lay, weight, er, scale, groups, consts, mask, tol, errors, found, solve_args) -> int:
    """Solves every problem of a combine layer; marks chosen edges; returns their count."""
    w_t, b_t = target.weights[t], target.biases[t]
    copies = lay.group_size
    rows = np.arange(w_t.shape[0] * copies)
    neuron = rows // copies
    edges = 0
    edges += _solve_groups(rows, neuron, groups, w_t[:, groups["col"]], weight, er, scale, mask, tol,
                           errors, found, groups["col"], solve_args)
    c_idx, c_val = consts["idx"], consts["values"]
    if c_idx.size and np.any(b_t != 0):
        bias_groups = {"members": c_idx[None, :],
                       "partners": None if consts["partners"] is None else consts["partners"][None, :],
                       "values": c_val[None, :], "valid": (c_val != 0)[None, :], "col": np.array([w_t.shape[1]])}
        edges += _solve_groups(rows, neuron, bias_groups, b_t[:, None], weight, er, scale, mask, tol,
                               errors, found, bias_groups["col"], solve_args)
    return edges


def _solve_groups(rows, neuron, groups, targets_by_neuron, weight, er, scale, mask, tol, errors, found, cols,
                  solve_args) -> int:
    members, partners = groups["members"], groups["partners"]
    values, valid = groups["values"], groups["valid"]
    n_groups, width = members.shape
    step = max(1, _PROBLEMS_PER_CALL // n_groups)
    edges = 0
    for lo in range(0, rows.size, step):
        r = rows[lo:lo + step]
        w_rows = weight[r]
        bases = scale * w_rows[:, members].astype(np.float64) * values[None]
        ok = np.repeat(valid[None], r.size, axis=0)  # a writeable copy, one per row
        if er is not None:
            e_rows = er[r]
            ok = ok & e_rows[:, members]
            if partners is not None:
                ok = ok & e_rows[:, partners]
        targets = targets_by_neuron[neuron[lo:lo + step]]
        res = _solve(targets.reshape(-1), bases.reshape(-1, width), ok.reshape(-1, width),
                     tol, **solve_args)
        chosen = res[0].reshape(r.size, n_groups, width)
        err = res[1].reshape(r.size, n_groups)
        hit = res[2].reshape(r.size, n_groups)
        ri, gi, ei = np.nonzero(chosen)
        mask[r[ri], members[gi, ei]] = True
        edges += ri.size
        if partners is not None:
            mask[r[ri], partners[gi, ei]] = True
            edges += ri.size
        n_idx = np.broadcast_to(neuron[lo:lo + step, None], err.shape)
        c_idx = np.broadcast_to(cols[None, :], err.shape)
        np.maximum.at(errors, (n_idx.ravel(), c_idx.ravel()), err.ravel())
        np.logical_and.at(found, (n_idx.ravel(), c_idx.ravel()), hit.ravel())
    return edges


def _solve(targets, bases, mask, tol, *, mode, max_size, k, device, update):
    """One batched solve; returns (chosen bool (B, n), errors float64 (B,), found bool (B,))."""
    from ..solve import solve

    kwargs = dict(eps=tol, mode=mode, mask=mask)
    if mode == "min_size":
        kwargs["max_size"] = max_size
    else:
        kwargs["k"] = k
    if device is not None and str(device).startswith("cuda"):
        import torch

        t_targets = torch.as_tensor(targets, device=device)
        t_bases = torch.as_tensor(bases, device=device)
        kwargs["mask"] = torch.as_tensor(mask, device=device)
        res = solve(t_targets, t_bases, **kwargs)
        out = (res.to_mask(bases.shape[1]), res.errors.cpu().numpy(), res.found.cpu().numpy())
    else:
        res = solve(targets, bases, **kwargs)
        out = (res.to_mask(bases.shape[1]), np.asarray(res.errors), np.asarray(res.found))
    update(targets.size)
    return out


def _drop_dead_neurons(masks, bias_masks, roles, layouts, n_outputs, keep_rows):
    """Backward pass: a neuron whose output no kept edge uses loses its incoming edges.

    ``keep_rows``: combine rows stay (fixed-size tickets keep exactly k edges per problem)."""
    alive = np.zeros(masks[-1].shape[0], dtype=bool)
    alive[:n_outputs] = True
    for s in range(len(masks) - 1, -1, -1):
        if keep_rows and roles[s].kind == "combine":
            lay = layouts[s]
            alive[: lay.rows - lay.n_consts] = True
        masks[s][~alive] = False
        if bias_masks[s] is not None:
            bias_masks[s][~alive] = False
        alive = masks[s].any(axis=0)
