"""Where things live in the source during a build: rows, groups of elements, constants.

A source layer grows by taking rows: block neurons for one input (and sign), copies of one
target neuron, or constant neurons. A generated source takes fresh rows at the end of the layer
(rows it scans and cannot use stay empty); a user source takes its own unused rows, in order,
and runs out at its width. Looks-linear layers take whole pairs (2q, 2q + 1).

A :class:`Group` is the element set of one family of subset-sum problems in the next (combine)
layer: the columns it may keep and the value each carries per unit of combine weight (its
multiplier): ``kappa * scale * a_k`` for a block neuron with weight a_k, 1 for a copy, the
constant's value for a constant neuron.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Group", "LayerState", "take_block_neurons", "take_copies", "take_constants"]

# Candidate rows scanned per allocation step, as a multiple of the rows still needed.
_SCAN_FACTOR = 3
# A generated layer scans at most this many candidates per constant before accepting any
# nonzero value (values near the aim may be out of reach).
_CONSTANT_PATIENCE = 64
# Most edges a constant neuron reads from the previous layer's constants: one suffices while the
# constants keep their size; where one edge cannot reach the aim (constants shrink by about the
# layer's weight scale per edge), a few same-sign contributions summed can.
MAX_CONSTANT_EDGES = 8


@dataclass
class Group:
    """Elements of one family of problems of the next combine layer.

    kind : "block", "copies" or "bias"
    column : the target column it serves (input j, or n_in for the bias)
    sign : +1 / -1 for the two halves of a sign-split block, 0 otherwise
    members : int64 rows of this layer (columns of the next)
    multipliers : float64, one per member
    pair : members are looks-linear pairs (partner row ``member ^ 1``)
    planned : the size the plan asked for
    fan, offset : the next layer reads member row r at column ``r * fan + offset`` (a kernel
        offset of a convolution, a position after a flatten; :mod:`.maps`), so ``column`` is the
        lowered feature ``base + input * fan + offset``
    node, matrix, base : for the part a skip layer reads (:class:`~.plan.SkipPlan`), the source
        layer whose rows the members are, the skip layer's index among the source's weight
        matrices, and the part's first lowered feature; None, None, 0 for the layer before, read
        through the combine layer's own weights
    """

    kind: str
    column: int
    sign: int
    members: np.ndarray
    multipliers: np.ndarray
    pair: bool
    planned: int
    fan: int = 1
    offset: int = 0
    node: int | None = None
    matrix: int | None = None
    base: int = 0

    @property
    def input(self) -> int:
        """The input neuron (channel) whose representatives the group holds."""
        return (self.column - self.base) // self.fan

    def columns(self, members=None) -> np.ndarray:
        """Columns of the next layer that members (default: all) are read at (int64)."""
        members = self.members if members is None else np.asarray(members, np.int64)
        return members * self.fan + self.offset

    def lowered(self, fan: int, offset: int, column: int, **skip) -> "Group":
        """The same members read at one offset of a layer with ``fan`` columns per row (shares
        the member arrays); ``skip``: node, matrix and base of a skip layer's part."""
        return Group(self.kind, column, self.sign, self.members, self.multipliers, self.pair, self.planned, fan,
                     offset, **skip)

    def extend(self, rows, values) -> None:
        self.members = np.concatenate([self.members, np.asarray(rows, dtype=np.int64)])
        self.multipliers = np.concatenate([self.multipliers, np.asarray(values, dtype=np.float64)])


@dataclass
class LayerState:
    """Mutable state of one source layer.

    rows : rows in use (the layer's height so far); used : bool per row of a user source
    row_neuron : target neuron of each copy row (-1: not a copy, -2: a discarded copy)
    row_delta : certified pre-activation error of each copy row (bounds.problem_contributions)
    copies : rows of every target neuron (combine layers)
    groups : block groups, in order (input j, sign) (block layers)
    constants : the constant neurons as a "bias" Group (members: rows, multipliers: values)
    edges : kept (rows, cols) of structural edges (block, constants); bias_rows: kept biases
    constant_extra_edges : edges of constants beyond one per constant (constants that sum
        several previous constants; a fixed-size ticket's size formula counts them)
    """

    index: int
    pairs: bool
    capacity: int | None
    rows: int = 0
    used: np.ndarray | None = None
    row_neuron: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    row_delta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    copies: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    constants: Group | None = None
    edges: list = field(default_factory=list)
    bias_rows: list = field(default_factory=list)
    added_rows: int = 0
    constant_extra_edges: int = 0

    def __post_init__(self):
        if self.capacity is not None:
            self.used = np.zeros(self.capacity, dtype=bool)

    def _grow_arrays(self, rows: int) -> None:
        if rows > self.row_neuron.size:  # room for twice as many rows: appends stay linear overall
            extra = max(rows, 2 * self.row_neuron.size, 1024) - self.row_neuron.size
            self.row_neuron = np.concatenate([self.row_neuron, np.full(extra, -1, np.int64)])
            self.row_delta = np.concatenate([self.row_delta, np.zeros(extra)])

    def candidates(self, count: int) -> np.ndarray:
        """Rows to scan next (pair leaders 2q for paired layers): fresh rows of a generated layer,
        unused rows of a user layer."""
        if self.capacity is None:
            start = self.rows + (self.rows & 1 if self.pairs else 0)
            step = 2 if self.pairs else 1
            return np.arange(start, start + step * count, step, dtype=np.int64)
        free = np.flatnonzero(~self.used)
        if self.pairs:
            free = free[(free % 2 == 0) & np.isin(free + 1, free)]
        return free[:count].astype(np.int64)

    def take(self, rows: np.ndarray, scanned_to: int | None = None) -> None:
        """Mark rows (pair leaders for paired layers) as used; a generated layer also consumes
        every row scanned before the last one taken."""
        rows = np.asarray(rows, dtype=np.int64)
        all_rows = np.concatenate([rows, rows + 1]) if self.pairs else rows
        if self.capacity is None:
            top = int(all_rows.max(initial=-1)) + 1
            if scanned_to is not None:
                top = max(top, scanned_to)
            self.rows = max(self.rows, top)
        else:
            self.used[all_rows] = True
            self.rows = max(self.rows, int(all_rows.max(initial=-1)) + 1)
        self._grow_arrays(self.rows)

    def exhausted(self) -> bool:
        return self.capacity is not None and bool(self.used.all())


def take_block_neurons(state: LayerState, source, er, s: int, rep_col: int, needs: dict, scale: float,
                       kappa: float):
    """Take block neurons of layer s for the input represented by column ``rep_col``.

    ``needs``: {sign: count} (signs +1/-1 for a split block, 0 for unsplit or paired). Returns
    {sign: (rows, multipliers)} with multipliers ``kappa * scale * a_k``; records the block edges.
    A neuron qualifies when its edge to the input exists in the ER mask (both edges for a pair)
    and, for split blocks, its weight has the group's sign.
    """
    out = {sign: ([], []) for sign in needs}
    remaining = dict(needs)
    while any(v > 0 for v in remaining.values()):
        want = sum(v for v in remaining.values() if v > 0)
        cand = state.candidates(max(8, _SCAN_FACTOR * want) if state.capacity is None else state.capacity)
        if cand.size == 0:
            break
        a = source.weights(s, cand, [rep_col])[:, 0].astype(np.float64)
        ok = a != 0
        if er is not None and not er.dense(s):
            ok &= er.mask(s, cand, [rep_col])[:, 0]
            if state.pairs:
                ok &= er.mask(s, cand + 1, [rep_col])[:, 0]
        # in scan order, each sign takes its first qualifying candidates (as many as it needs)
        split = 1 in remaining or -1 in remaining
        signs = np.where(a > 0, 1, -1) if split else np.zeros(a.size, np.int64)
        picked = []
        for sign, need in remaining.items():
            if need > 0:
                at = np.flatnonzero(ok & (signs == sign))[:need]
                out[sign][0].extend(cand[at].tolist())
                out[sign][1].extend((kappa * scale * a[at]).tolist())
                remaining[sign] = need - at.size
                picked.append(at)
        at_all = np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64)
        taken = cand[at_all]
        last = int(at_all[-1]) if at_all.size else -1
        if state.capacity is None:
            # a generated layer consumes what it scanned up to the last row taken (or everything
            # scanned, when nothing fitted)
            end = int(cand[last]) + (2 if state.pairs else 1) if last >= 0 else int(cand[-1]) + (2 if state.pairs else 1)
            state.take(taken, scanned_to=end)
        else:  # a user layer scans all its unused rows at once
            state.take(taken)
            break
    result = {}
    for sign, (rows, vals) in out.items():
        rows = np.array(rows, dtype=np.int64)
        result[sign] = (rows, np.array(vals, dtype=np.float64))
        if rows.size:
            cols = np.full(rows.size, rep_col, np.int64)
            state.edges.append((rows, cols))
            if state.pairs:
                state.edges.append((rows + 1, cols))
    return result


def take_copies(state: LayerState, neuron: int, count: int) -> np.ndarray:
    """Take ``count`` rows as copies of target neuron ``neuron`` (fewer when a user layer runs out)."""
    if state.capacity is None:
        rows = np.arange(state.rows, state.rows + count, dtype=np.int64)
    else:
        rows = np.flatnonzero(~state.used)[:count].astype(np.int64)
    if rows.size == 0:
        return rows
    if state.capacity is None:
        state.rows += count
        state._grow_arrays(state.rows)
    else:
        state.take(rows)
    state.row_neuron[rows] = neuron
    return rows


def constant_values(act, source, er, s: int, rows: np.ndarray, scale: float, prev_constants, pairs: bool):
    """Values of candidate constant neurons ``rows`` of layer s (pair leaders when ``pairs``).

    Returns (values, sources): values float64 (R,) and sources int64 (R,), sources[i] being -1
    (the row's own bias) or -2 (no input, as for phi(0) = d != 0); or, through edges to the
    previous constants, (pre-activations float64 (R, K) of every candidate edge, None): the
    caller chooses the edges (it depends on the aim).
    Own bias: ``phi(scale b_r)`` (pairs: ``phi(scale b_r) - phi(scale b_{r+1})``); through one
    edge to a previous constant k (value c_k): ``phi(scale w_rk c_k)`` (pairs:
    ``phi(u) - phi(-u)``, the partner's weight being -w_rk); no input: ``phi(0) = d``.
    """
    n = rows.size
    if act.intercept != 0 and not pairs:
        return np.full(n, act.intercept), np.full(n, -2, np.int64)
    bias = source.bias(s, rows)
    if bias is not None:
        u = scale * bias.astype(np.float64)
        values = act(u)
        if pairs:
            values = values - act(scale * source.bias(s, rows + 1).astype(np.float64))
        return values, np.full(n, -1, np.int64)
    if prev_constants is None or prev_constants.members.size == 0:
        return np.zeros(n), np.full(n, -2, np.int64)
    k_cols, k_vals = prev_constants.columns(), prev_constants.multipliers
    partner = prev_constants.fan  # column step to a looks-linear partner row
    pre = scale * source.weights(s, rows, k_cols).astype(np.float64) * k_vals[None, :]
    if er is not None and not er.dense(s):
        ok = er.mask(s, rows, k_cols)
        if prev_constants.pair:
            ok &= er.mask(s, rows, k_cols + partner)
        if pairs:
            ok &= er.mask(s, rows + 1, k_cols)
            if prev_constants.pair:
                ok &= er.mask(s, rows + 1, k_cols + partner)
        pre = np.where(ok, pre, 0.0)
    return pre, None  # edges chosen by the caller (depends on the aim)


def _through_edges(pre: np.ndarray, act, pairs: bool, aim: float, spread: float, max_edges: int):
    """Per candidate row, the edges to previous constants that bring its value nearest ``aim``:
    one edge (the best single contribution) when that is within a factor ``spread``, else up to
    ``max_edges`` same-sign contributions summed, largest first, never overshooting
    ``aim * spread``. ``pre``: (R, K) pre-activations of the single edges. Returns (values (R,),
    edges: list of int64 arrays of previous-constant positions)."""
    def value(u):
        return act(u) - act(-u) if pairs else act(u)

    def distance(v):
        with np.errstate(divide="ignore"):
            return np.where(v != 0, np.abs(np.log(np.abs(v) / aim)), np.inf)

    single = value(pre)
    best = np.argmin(distance(single), axis=1)
    rows = np.arange(pre.shape[0])
    values = single[rows, best]
    edges = [np.array([k], np.int64) for k in best]
    for r in np.flatnonzero(distance(values) > np.log(spread)) if max_edges > 1 else ():
        for sign in (1.0, -1.0):
            contribution = sign * pre[r]
            order = np.argsort(-contribution, kind="stable")
            total, chosen = 0.0, []
            for k in order:
                if contribution[k] <= 0 or len(chosen) == max_edges:
                    break
                if abs(value(sign * (total + contribution[k]))) <= aim * spread:
                    total += contribution[k]
                    chosen.append(int(k))
                    if abs(value(sign * total)) >= aim / spread:
                        break
            v = value(sign * total) if chosen else 0.0
            if chosen and distance(np.array([v]))[0] < distance(np.array([values[r]]))[0]:
                values[r] = v
                edges[r] = np.array(chosen, np.int64)
    return values, edges


def take_constants(state: LayerState, act, source, er, s: int, count: int, scale: float, aim: float,
                   prev_constants, spread: float, *, max_edges: int = MAX_CONSTANT_EDGES) -> int:
    """Take ``count`` constant neurons of layer s whose values lie within a factor ``spread`` of
    ``aim`` (a generated layer scans further rows for them; after a while, and in a user layer,
    any nonzero value is accepted). Records their edges and biases; returns how many were taken.
    ``prev_constants``: the previous layer's constants as this layer reads them (their ``fan``
    and ``offset``, :class:`Group`); ``max_edges``: most edges a constant may read from them
    (:func:`_through_edges`)."""
    if state.constants is None:
        state.constants = Group("bias", -1, 0, np.zeros(0, np.int64), np.zeros(0), state.pairs, count)
    taken_rows, taken_vals, taken_src, taken_edges = [], [], [], []
    scanned = 0
    prev_columns = None if prev_constants is None else prev_constants.columns()
    while len(taken_rows) < count:
        need = count - len(taken_rows)
        cand = state.candidates(max(8, _SCAN_FACTOR * need) if state.capacity is None else state.capacity)
        if cand.size == 0:
            break
        values, src = constant_values(act, source, er, s, cand, scale, prev_constants, state.pairs)
        through = None
        if src is None:  # through edges to the previous constants, chosen per row for the aim
            values, through = _through_edges(values, act, state.pairs, aim, spread, max_edges)
            src = np.zeros(cand.size, np.int64)  # >= 0: through edges
        relaxed = state.capacity is not None or scanned >= _CONSTANT_PATIENCE * count
        with np.errstate(divide="ignore"):
            near = np.abs(np.log(np.abs(values) / aim)) <= np.log(spread)
        ok = (values != 0) & (near | relaxed | (src == -2))
        picks = np.flatnonzero(ok)[:need]
        scanned += cand.size
        rows = cand[picks]
        if state.capacity is None:
            end = int(rows[-1]) + (2 if state.pairs else 1) if rows.size else int(cand[-1]) + (2 if state.pairs else 1)
            state.take(rows, scanned_to=end)
        else:
            state.take(rows)
        taken_rows.extend(rows.tolist())
        taken_vals.extend(values[picks].tolist())
        taken_src.extend(src[picks].tolist())
        if through is not None:
            taken_edges.extend(through[i] for i in picks)
        if state.capacity is not None:
            break
    rows = np.array(taken_rows, dtype=np.int64)
    src = np.array(taken_src, dtype=np.int64)
    if rows.size:
        state.constants.extend(rows, taken_vals)
        own = src == -1
        if own.any():
            state.bias_rows.append(rows[own])
            if state.pairs:
                state.bias_rows.append(rows[own] + 1)
        via = np.flatnonzero(src >= 0)
        if via.size:
            counts = np.array([taken_edges[i].size for i in via], np.int64)
            r = np.repeat(rows[via], counts)
            k = prev_columns[np.concatenate([taken_edges[i] for i in via])]
            lead = [r] + ([r + 1] if state.pairs else [])
            cols = [k] + ([k + prev_constants.fan] if prev_constants.pair else [])
            for rr in lead:
                for cc in cols:
                    state.edges.append((rr, cc))
            state.constant_extra_edges += int(counts.sum() - counts.size) * len(lead) * len(cols)
    return int(rows.size)
