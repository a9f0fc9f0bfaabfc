"""The build: lay out the source layer by layer, solve every subset-sum problem in batched
:func:`subsetsum.solve` calls, keep the chosen edges, and track errors as it goes.

A combine layer's problems are (row, group): the row is a copy of target neuron i, the group one
element set of the layer before (:class:`~.layout.Group`), and the target ``w_ij`` (or ``b_i``).
Problems of regular rows are solved in large blocks (rows x every group, elements gathered as one
outer block of the source); the repair pass re-solves single problems with their grown groups.
A zero target (a pruned or zero weight, a zero bias) issues no problem: the empty subset meets it
exactly, so it keeps no edge and its error is 0.

Per target layer the build keeps the largest error of every parameter that met its tolerance;
problems that missed are pending (their error, their term of the certified bound, their edges)
until the repair pass settles them. Per copy row it accumulates the certified pre-activation
error (:func:`.bounds.problem_contributions`); times the activation's Lipschitz constant this is
the row's certified output error, which the next layer reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .bounds import BIAS, BLOCK, COPIES, problem_contributions
from .layout import Group, LayerState, take_block_neurons, take_constants, take_copies

__all__ = ["Builder", "BuildResult", "Progress"]

# Elements (problems x width) gathered and solved per call: bounds memory to ~100 MB.
ELEMENTS_PER_CALL = 1 << 22
# A group may hold this many times the solver's limit of elements: ER masks remove some, and
# each problem is compacted to its existing elements (at most the limit) before solving.
MEMBERS_CAP_FACTOR = 4


class Progress:
    """Progress over subset-sum problems: ``update(done_now)``, ``add_total(more)``, ``close()``.

    ``progress``: None/False (silent), True (a tqdm bar) or ``callable(done, total)``."""

    def __init__(self, progress, total: int):
        self.done, self.total = 0, int(total)
        self._bar = None
        self._callback = None
        if progress is True:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, unit="problem", unit_scale=True, desc="ticket")
        elif callable(progress):
            self._callback = progress
        elif progress not in (None, False):
            raise TypeError(f"progress: expected None, a bool or a callable(done, total), got {progress!r}")

    def add_total(self, more: int) -> None:
        self.total += int(more)
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def update(self, n: int) -> None:
        self.done += int(n)
        if self._bar is not None:
            self._bar.update(n)
        elif self._callback is not None:
            self._callback(self.done, max(self.total, self.done))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass
class BuildResult:
    """What a build produced.

    edges : per source layer (rows int64, cols int64) of the kept weights, sorted by row
    bias_rows : per source layer the rows whose bias is kept (int64), or None without a bias
    shapes : per source layer (rows, cols)
    errors : per target layer float64 (n_t, n_{t-1} + 1): largest subset-sum error of every
        parameter over all its problems (last column: bias)
    failed : [(target layer, row, col)] parameters with a problem above tolerance
    output_bounds : certified bound on ``sup |f_i - g_i|`` per output neuron
    problems : subset-sum problems solved (first solve and repair; zero targets issue none)
    repair : what the repair pass did (see :mod:`.repair`)
    """

    edges: list
    bias_rows: list
    shapes: list
    errors: list
    failed: list
    output_bounds: np.ndarray
    problems: int
    subset_edges: list
    repair: dict
    seconds: float


class Builder:
    """Runs a plan against a source. ``keep_structure``: keep every block neuron and constant of
    the plan (fixed-size tickets, whose size is then known in advance)."""

    def __init__(self, plan, target, source, er, *, device=None, progress=None, keep_structure=False):
        self.plan, self.target, self.source, self.er = plan, target, source, er
        self.device = device
        self.keep_structure = keep_structure
        self.act = plan.activation
        self.states = [LayerState(s, lay.pairs, source.capacity(s)) for s, lay in enumerate(plan.layers)]
        self.scales = [lay.scale for lay in plan.layers]
        self.pending = [dict() for _ in plan.layers]  # per combine layer: {(row, g): (err, contrib, rows, cols)}
        self.param_max = [np.zeros((w.shape[0], w.shape[1] + 1)) for w in target.weights]
        self.subset_edges = [[] for _ in plan.layers]
        self.problems = 0
        self.progress = Progress(progress, self._first_solve_problems())
        self.repair_log = {"rounds": 0, "problems": 0, "added_rows": [0] * len(plan.layers),
                           "discarded_copies": 0, "unrepaired": 0, "rows_short": {}}

    # ---------------------------------------------------------------- structure

    def _first_solve_problems(self) -> int:
        total = 0
        for s, lay in enumerate(self.plan.layers):
            if lay.role.kind != "combine":
                continue
            t = lay.role.target_layer
            n_out, n_in = self.target.weights[t].shape
            prev = self.plan.layers[s - 1]
            per = 2 if (prev.role.kind == "block" and prev.split) else 1
            total += n_out * lay.group_size * (n_in * per + int(prev.n_consts > 0 and np.any(self.target.biases[t] != 0)))
        return total

    def lipschitz(self, t: int) -> float:
        act = self.target.layer_activation(t)
        return act.lipschitz if act is not None else 1.0

    def row_errors(self, s: int) -> np.ndarray:
        """Certified output error of every row of combine layer s (0 for rows that are not copies)."""
        t = self.plan.layers[s].role.target_layer
        return self.lipschitz(t) * self.states[s].row_delta

    def rep_column(self, s: int, j: int) -> int:
        """Column of block layer s that represents input j of its target layer."""
        if s == 0:
            return j
        return int(self.states[s - 1].copies[j][0])

    def groups(self, s: int) -> list:
        """Element groups of combine layer s, in problem order: inputs (sign-major), then bias."""
        prev = self.states[s - 1]
        if self.plan.layers[s - 1].role.kind == "block":
            groups = list(prev.groups)
        else:
            groups = [Group("copies", j, 0, np.asarray(rows, np.int64), np.ones(len(rows)), False, 0)
                      for j, rows in enumerate(prev.copies)]
        t = self.plan.layers[s].role.target_layer
        if prev.constants is not None and np.any(self.target.biases[t] != 0):
            c = prev.constants
            groups.append(Group("bias", self.target.weights[t].shape[1], 0, c.members, c.multipliers, c.pair,
                                c.planned))
        return groups

    # ---------------------------------------------------------------- layers

    def build_block(self, s: int) -> None:
        lay = self.plan.layers[s]
        state = self.states[s]
        t = lay.role.target_layer
        kappa = self.plan.kappa(s)
        n_in = self.target.widths[t]
        signs = (1, -1) if lay.split else (0,)
        found = {sign: [] for sign in signs}
        for j in range(n_in):
            col = self.rep_column(s, j)
            taken = take_block_neurons(state, self.source, self.er, s, col, {sign: lay.group_size for sign in signs},
                                       self.scales[s], kappa)
            for sign in signs:
                rows, vals = taken[sign]
                found[sign].append(Group("block", j, sign, rows, vals, lay.pairs, lay.group_size))
        state.groups = [g for sign in signs for g in found[sign]]
        self._take_constants(s, lay.n_consts)

    def _take_constants(self, s: int, count: int) -> int:
        if count <= 0:
            return 0
        lay = self.plan.layers[s]
        prev = self.states[s - 1].constants if s > 0 else None
        from .plan import CONSTANT_RANGE

        return take_constants(self.states[s], self.act, self.source, self.er, s, count, self.scales[s],
                              lay.const_value, prev, CONSTANT_RANGE)

    def build_combine(self, s: int) -> None:
        lay = self.plan.layers[s]
        state = self.states[s]
        t = lay.role.target_layer
        n_out = self.target.weights[t].shape[0]
        rows = []
        for i in range(n_out):
            r = take_copies(state, i, lay.group_size)
            state.copies.append(list(r))
            rows.append(r)
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self._init_rows(s, rows)
        self.solve_rows(s, rows)
        self._take_constants(s, lay.n_consts)

    def _init_rows(self, s: int, rows: np.ndarray) -> None:
        """Certified error terms of new copy rows that do not depend on their subsets: for layers on
        univariate blocks, ``sum_j |w_ij| e_j`` with e_j the error of the block's input."""
        lay = self.plan.layers[s]
        prev = self.plan.layers[s - 1]
        state = self.states[s]
        state.row_delta[rows] = 0.0
        if prev.role.kind != "block" or s - 1 == 0:
            return
        t = lay.role.target_layer
        rep_err = self.row_errors(s - 2)[[self.rep_column(s - 1, j) for j in range(self.target.widths[t])]]
        base = np.abs(self.target.weights[t]) @ rep_err
        state.row_delta[rows] = base[state.row_neuron[rows]]

    # ---------------------------------------------------------------- solving

    def _group_terms(self, s: int, groups: list):
        """Per group: (kind code, bound, input factor); codes 0 block, 1 copies, 2 bias."""
        t = self.plan.layers[s].role.target_layer
        bounds = self.plan.bounds[t]
        prev_kind = self.plan.layers[s - 1].role.kind
        kinds = np.array([{"block": BLOCK, "copies": COPIES, "bias": BIAS}[g.kind] for g in groups])
        bound = np.zeros(len(groups))
        factor = np.ones(len(groups))
        act = self.act
        split = prev_kind == "block" and self.plan.layers[s - 1].split
        if split:
            factor[:] = max(act.m_plus, act.m_minus) / self.plan.kappa(s - 1)
        rep_err = None
        if prev_kind == "block" and s - 1 > 0:
            rep_err = self.row_errors(s - 2)
        for idx, g in enumerate(groups):
            if g.kind == "bias":
                continue
            b = float(bounds[g.column])
            if g.kind == "block" and rep_err is not None:
                b += float(rep_err[self.rep_column(s - 1, g.column)])
            bound[idx] = b
        return kinds, bound, factor

    def _group_matrix(self, groups, take_last: int | None = None):
        """(members int64 (G, W), multipliers float64 (G, W), valid bool (G, W)), padded with
        invalid entries; ``take_last``: only each group's last members (solver's limit)."""
        sizes = [g.members.size if take_last is None else min(take_last, g.members.size) for g in groups]
        width = max(sizes + [1])
        members = np.zeros((len(groups), width), np.int64)
        mult = np.zeros((len(groups), width))
        for idx, (g, n) in enumerate(zip(groups, sizes)):
            if n:
                members[idx, :n] = g.members[-n:]
                mult[idx, :n] = g.multipliers[-n:]
        return members, mult, mult != 0

    def solve_rows(self, s: int, rows: np.ndarray) -> None:
        """Solve every problem of the given rows of combine layer s: rows x groups in blocks, one
        block per group width (the weight groups share one, the bias group has its own)."""
        if rows.size == 0:
            return
        groups = self.groups(s)
        sizes = np.array([g.members.size for g in groups])
        for size in np.unique(sizes):
            gids = np.flatnonzero(sizes == size)
            members, mult, valid = self._group_matrix([groups[g] for g in gids])
            n_groups, width = members.shape
            step = max(1, ELEMENTS_PER_CALL // max(1, n_groups * width))
            flat = members.ravel()
            pair_cols = np.repeat([groups[g].pair for g in gids], width)
            for lo in range(0, rows.size, step):
                r = rows[lo:lo + step]
                w = self.source.weights(s, r, flat)
                er = None
                if self.er is not None and not self.er.dense(s):
                    er = self.er.mask(s, r, flat)
                    if pair_cols.any():
                        er[:, pair_cols] &= self.er.mask(s, r, flat[pair_cols] + 1)
                self._solve(s, groups, gids, r, None, w, er, members, mult, valid)

    def solve_problems(self, s: int, keys) -> None:
        """Re-solve single problems (row, group) of combine layer s with their groups as they are
        now (compacted to their existing elements, the newest first up to the solver's limit)."""
        if not keys:
            return
        groups = self.groups(s)
        limit = self.plan.element_limit()
        rows = np.array([k[0] for k in keys], np.int64)
        gidx = np.array([k[1] for k in keys], np.int64)
        members, mult, valid = self._group_matrix(groups, take_last=MEMBERS_CAP_FACTOR * limit)
        used = np.unique(gidx)
        width = max(1, int(valid[used].sum(axis=1).max()))
        members, mult, valid = members[:, :width], mult[:, :width], valid[:, :width]
        cols = members[gidx]
        rr = np.repeat(rows, width)
        w = self.source.weights(s, rr, cols.ravel(), outer=False).reshape(rows.size, width)
        er = None
        if self.er is not None and not self.er.dense(s):
            er = self.er.mask(s, rr, cols.ravel(), outer=False).reshape(rows.size, width)
            pairs = np.array([groups[g].pair for g in gidx])
            if pairs.any():
                er[pairs] &= self.er.mask(s, np.repeat(rows[pairs], width), cols[pairs].ravel() + 1,
                                          outer=False).reshape(-1, width)
        self.progress.add_total(rows.size)
        self._solve(s, groups, np.arange(len(groups)), rows, gidx, w, er, members, mult, valid)

    def _solve(self, s, groups, gids, rows, positions, w, er, members, mult, valid) -> None:
        """Solve problems and record them. The group matrix ``members``, ``mult``, ``valid``
        (G', W) holds the groups ``gids`` (indices into ``groups``). ``positions`` None: every
        row with every one of them (w, er: (R, G' * W)); else one problem per (rows[p],
        gids[positions[p]]) (w, er: (P, W))."""
        lay = self.plan.layers[s]
        t = lay.role.target_layer
        state = self.states[s]
        scale = self.scales[s]
        n_groups, width = members.shape
        regular = positions is None
        limit = self.plan.element_limit()
        compacted = None  # (elements, ok, back) when problems were compacted while gathering
        if regular:
            n_rows = rows.size
            prob_rows = np.repeat(rows, n_groups)
            positions = np.tile(np.arange(n_groups), n_rows)
            if er is not None:  # ER: gather only the existing elements (one pass, compiled)
                from ._kernels import gather_compact

                compacted = gather_compact(w, er, scale * mult, valid, limit)
                elements = ok = None
            else:
                elements = (w.reshape(n_rows, n_groups, width) * (scale * mult)[None]).reshape(-1, width)
                ok = None if valid.all() else np.repeat(valid[None], n_rows, axis=0).reshape(-1, width)
            w = w.reshape(-1, width)
        else:
            prob_rows = rows
            elements = w * (scale * mult[positions])
            ok = valid[positions] if er is None else (valid[positions] & er)
        prob_groups = np.asarray(gids, np.int64)[positions]
        w_t, b_t = self.target.weights[t], self.target.biases[t]
        n_in = w_t.shape[1]
        col_of = np.array([g.column for g in groups], np.int64)
        cols = col_of[prob_groups]
        neuron = state.row_neuron[prob_rows]
        targets = np.where(cols == n_in, b_t[neuron], w_t[neuron, np.minimum(cols, n_in - 1)])
        if compacted is not None:
            comp, comp_ok, back = compacted
            p_idx, c_idx, errors, found = _solve_nonzero(
                lambda z, x, m: _solve_call(z, x, m, lay.tolerance, self.plan, self.device), targets, comp, comp_ok)
            e_idx = back[p_idx, c_idx]
        elif er is not None or width > limit:
            p_idx, e_idx, errors, found = _solve_nonzero(
                lambda z, x, m: _solve_compacted(z, x, m, limit, self.plan, self.device, lay.tolerance,
                                                 prefer_last=not regular), targets, elements, ok)
        else:
            p_idx, e_idx, errors, found = _solve_nonzero(
                lambda z, x, m: _solve_call(z, x, m, lay.tolerance, self.plan, self.device), targets, elements, ok)
        self.problems += int(np.count_nonzero(targets))
        self.progress.update(targets.size)

        # certified error terms, from the chosen elements only
        kinds, bound, factor = self._group_terms(s, groups)
        pg = positions[p_idx]
        prev = self.plan.layers[s - 1]
        first = copy_err = None
        if prev.role.kind == "block":
            first = np.abs(mult[pg, e_idx]) / self.plan.kappa(s - 1)
        else:
            copy_err = self.row_errors(s - 1)[members[pg, e_idx]]
        contrib = problem_contributions(
            kinds[prob_groups], errors, bound[prob_groups], factor[prob_groups], p_idx,
            np.abs(scale * w[p_idx, e_idx].astype(np.float64)), chosen_first=first, chosen_copy_error=copy_err,
            cubic=self.act.cubic * (2.0 if prev.pairs else 1.0))
        if regular:  # rows are distinct: sum each row's problems
            state.row_delta[rows] += contrib.reshape(rows.size, n_groups).sum(axis=1)
        else:
            np.add.at(state.row_delta, prob_rows, contrib)

        # kept edges: chosen members (and their looks-linear partners)
        kept_rows = prob_rows[p_idx].astype(np.int32)
        kept_cols = members[pg, e_idx].astype(np.int32)
        pair = np.array([g.pair for g in groups], bool)[prob_groups[p_idx]]
        if pair.any():
            kept_rows = np.concatenate([kept_rows, kept_rows[pair]])
            kept_cols = np.concatenate([kept_cols, kept_cols[pair] + 1])
            p_all = np.concatenate([p_idx, p_idx[pair]])
        else:
            p_all = p_idx
        hit_edge = found[p_all]
        self.subset_edges[s].append((kept_rows[hit_edge], kept_cols[hit_edge]))
        if regular:  # largest error over the copies in each run of rows of one neuron, then per column
            err = np.where(found, errors, 0.0).reshape(rows.size, n_groups)
            row_neurons = state.row_neuron[rows]
            starts = np.flatnonzero(np.concatenate([[True], row_neurons[1:] != row_neurons[:-1]]))
            runs = np.maximum.reduceat(err, starts, axis=0)
            np.maximum.at(self.param_max[t], (row_neurons[starts][:, None], col_of[np.asarray(gids)][None, :]), runs)
        else:
            hit = np.flatnonzero(found)
            np.maximum.at(self.param_max[t], (neuron[hit], cols[hit]), errors[hit])
        # problems that missed wait for the repair pass, with their (best) subsets
        missed = np.flatnonzero(~found)
        if missed.size:
            sel = ~hit_edge
            m_p, m_r, m_c = p_all[sel], kept_rows[sel], kept_cols[sel]
            order = np.argsort(m_p, kind="stable")
            m_p, m_r, m_c = m_p[order], m_r[order], m_c[order]
            starts = np.searchsorted(m_p, missed, side="left")
            ends = np.searchsorted(m_p, missed, side="right")
            for p, a, b in zip(missed.tolist(), starts.tolist(), ends.tolist()):
                self.pending[s][(int(prob_rows[p]), int(prob_groups[p]))] = (
                    float(errors[p]), float(contrib[p]), m_r[a:b], m_c[a:b])

    def forget(self, s: int, key) -> None:
        """Drop a pending problem's contribution before it is solved again."""
        err, contrib, _r, _c = self.pending[s].pop(key)
        self.states[s].row_delta[key[0]] -= contrib

    # ---------------------------------------------------------------- growth (used by repair)

    def grow_group(self, s: int, g: int, count: int, depth: int) -> int:
        """Add up to ``count`` elements to group g of combine layer s; returns how many were added."""
        from .repair import repair_layer

        groups = self.groups(s)
        group = groups[g]
        prev_s = s - 1
        prev_state = self.states[prev_s]
        before = group.members.size
        if group.kind == "block":
            col = self.rep_column(prev_s, group.column)
            taken = take_block_neurons(prev_state, self.source, self.er, prev_s, col, {group.sign: count},
                                       self.scales[prev_s], self.plan.kappa(prev_s))
            rows, vals = taken[group.sign]
            target = next(x for x in prev_state.groups if x.column == group.column and x.sign == group.sign)
            target.extend(rows, vals)
            added = rows.size
        elif group.kind == "bias":
            added = self._take_constants(prev_s, count)
        else:  # copies of input neuron j in the layer before: new rows, solved and repaired first
            j = group.column
            rows = take_copies(prev_state, j, count)
            if rows.size == 0:
                return 0
            self._init_rows(prev_s, rows)
            self.progress.add_total(rows.size * len(self.groups(prev_s)))
            self.solve_rows(prev_s, rows)
            if depth < len(self.plan.layers):
                repair_layer(self, prev_s, rows=set(rows.tolist()), depth=depth + 1)
            bad = {k[0] for k in self.pending[prev_s] if k[0] in set(rows.tolist())}
            for key in [k for k in self.pending[prev_s] if k[0] in bad]:
                self.pending[prev_s].pop(key)
            good = np.array([r for r in rows.tolist() if r not in bad], np.int64)
            prev_state.row_neuron[np.array(sorted(bad), np.int64)] = -2
            self.repair_log["discarded_copies"] += len(bad)
            prev_state.copies[j].extend(good.tolist())
            added = good.size
        self.repair_log["added_rows"][prev_s] += int(added) * (2 if prev_state.pairs and group.kind != "copies" else 1)
        if added < count and prev_state.capacity is not None:  # a user source without spare rows
            short = self.repair_log["rows_short"]
            short[prev_s] = short.get(prev_s, 0) + int(count - added) * (2 if prev_state.pairs else 1)
        return int(self.groups(s)[g].members.size - before)

    # ---------------------------------------------------------------- result

    def finalize(self, start: float) -> BuildResult:
        """Keep what the output depends on (a backward pass over kept edges), assemble the result."""
        n_layers = len(self.plan.layers)
        edges = [None] * n_layers
        bias_rows = [None] * n_layers
        shapes = []
        in_f = self.target.widths[0]
        for s, state in enumerate(self.states):
            rows = state.capacity if state.capacity is not None else state.rows
            if s == n_layers - 1:
                rows = self.target.widths[-1] if state.capacity is None else state.capacity
            shapes.append((int(rows), int(in_f)))
            in_f = int(rows)
        alive = np.zeros(shapes[-1][0], bool)
        alive[: self.target.widths[-1]] = True
        subset_counts = [0] * n_layers
        for s in range(n_layers - 1, -1, -1):
            state = self.states[s]
            keep_alive = alive.copy()
            if self.keep_structure:
                for g in state.groups:
                    keep_alive[g.members] = True
                    if g.pair:
                        keep_alive[g.members + 1] = True
                if state.constants is not None and state.constants.members.size:
                    keep_alive[state.constants.members] = True
                    if state.constants.pair:
                        keep_alive[state.constants.members + 1] = True
                if self.plan.layers[s].role.kind == "combine":
                    for rows in state.copies:
                        keep_alive[np.asarray(rows, np.int64)] = True
            # kept edges of alive rows as sorted (row << 32 | col) keys, part by part (memory)
            parts = list(state.edges) + [(r, c) for (_e, _c, r, c) in self.pending[s].values()]
            keys = []
            subset_total = 0
            for source_list in (parts, self.subset_edges[s]):
                while source_list:
                    r, c = source_list.pop()
                    sel = keep_alive[r]
                    keys.append((np.asarray(r, np.int64)[sel] << 32) | np.asarray(c, np.int64)[sel])
                    if source_list is self.subset_edges[s]:
                        subset_total += int(sel.sum())
            key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
            del keys
            key.sort(kind="stable")  # runs of sorted edges: fast
            edges[s] = ((key >> 32).astype(np.int32), (key & 0xFFFFFFFF).astype(np.int32))
            c_all = edges[s][1]
            del key
            if self.plan.layers[s].role.kind == "combine":
                subset_counts[s] = subset_total + int(sum(keep_alive[r].sum() for (_e, _c, r, _cc)
                                                          in self.pending[s].values()))
            if self.source.bias(s, np.zeros(1, np.int64)) is not None:
                b = np.concatenate(state.bias_rows) if state.bias_rows else np.zeros(0, np.int64)
                bias_rows[s] = np.unique(b[keep_alive[b]])
            alive = np.zeros(shapes[s][1], bool)
            alive[c_all] = True
        errors = []
        failed = []
        for t, pm in enumerate(self.param_max):
            errors.append(pm.copy())
        for s, pend in enumerate(self.pending):
            if not pend:
                continue
            t = self.plan.layers[s].role.target_layer
            state = self.states[s]
            groups = self.groups(s)
            for (row, g), (err, _c, _r, _cc) in pend.items():
                i = int(state.row_neuron[row])
                j = groups[g].column
                errors[t][i, j] = max(errors[t][i, j], err)
                failed.append((t, i, j))
        failed = sorted(set(failed))
        self.repair_log["unrepaired"] = sum(len(p) for p in self.pending)
        last = n_layers - 1
        output_bounds = self.row_errors(last)[: self.target.widths[-1]].copy()
        self.progress.close()
        return BuildResult(edges, bias_rows, shapes, errors, failed, output_bounds, self.problems,
                           subset_counts, self.repair_log, time.perf_counter() - start)


def _solve_nonzero(solve_fn, targets, elements, mask):
    """``solve_fn(targets, elements, mask)`` on the problems whose target is nonzero only: a zero
    target (a pruned or zero weight, a zero bias) is met exactly by the empty subset, so it issues
    no problem and counts as exact (error 0, found, nothing kept). Returns what ``solve_fn``
    returns, (problem, element) indices of the chosen elements, errors float64 (B,) and found
    bool (B,), over all B problems."""
    live = np.flatnonzero(targets != 0)
    if live.size == targets.size:
        return solve_fn(targets, elements, mask)
    errors = np.zeros(targets.size)
    found = np.ones(targets.size, bool)
    if live.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), errors, found
    p, e, err, fnd = solve_fn(targets[live], elements[live], None if mask is None else mask[live])
    errors[live] = err
    found[live] = fnd
    return live[p], e, errors, found


def _solve_compacted(targets, elements, ok, limit, plan, device, tol, *, prefer_last: bool):
    """Solve with each problem's existing elements moved to the front (at most ``limit`` of them:
    the first ones, or the last with ``prefer_last``, the newest members of a grown group)."""
    from ._kernels import compact

    if ok is None:
        ok = np.ones(elements.shape, bool)
    comp, comp_ok, back = compact(elements, ok, limit, prefer_last=prefer_last)
    p_idx, c_idx, errors, found = _solve_call(targets, comp, comp_ok, tol, plan, device)
    return p_idx, back[p_idx, c_idx], errors, found


def _solve_call(targets, elements, mask, tol, plan, device):
    """One batched solve; returns (problem, element) indices of the chosen elements, errors
    float64 (B,) and found bool (B,)."""
    from ..solve import solve

    kwargs = dict(eps=tol, mode=plan.mode, mask=mask)
    if plan.mode == "min_size":
        kwargs["max_size"] = plan.max_size
    else:  # any k-subset within tolerance will do: stop at the first (50-300x the exact search)
        kwargs["k"] = plan.subset_size
        kwargs["algorithm"] = "first_hit"
        short = plan.subset_size - elements.shape[1]
        if short > 0:  # fewer elements than k in every problem: none can be solved, say so per problem
            if mask is None:
                mask = np.ones(elements.shape, bool)
            elements = np.pad(elements, ((0, 0), (0, short)))
            kwargs["mask"] = mask = np.pad(mask, ((0, 0), (0, short)))
    if device is not None:
        import torch

        res = solve(torch.as_tensor(targets, device=device), torch.as_tensor(elements, device=device),
                    **{**kwargs, "mask": torch.as_tensor(mask, device=device)})
        p, e = res.chosen_elements(ordered=False)
        return p, e, res.errors.cpu().numpy(), res.found.cpu().numpy()
    res = solve(targets, elements, **kwargs)
    p, e = res.chosen_elements(ordered=False)
    return p, e, np.asarray(res.errors), np.asarray(res.found)
