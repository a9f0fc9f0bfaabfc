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

Skip layers (residual targets, :class:`~.plan.SkipPlan`) are weight matrices of their own,
numbered after the source layers (their index keys the generated weights): a combine layer's
groups are those of the layer before, then those of every layer a skip reads (each
:class:`~.layout.Group` says which matrix reads it), then the bias; blocks of the first solve
never mix matrices.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from .bounds import BIAS, BLOCK, COPIES
from .edges import EdgeCollector, ReleasePace
from .executor import get_executor
from .layout import MAX_CONSTANT_EDGES, Group, LayerState, take_block_neurons, take_constants, take_copies
from .plan import layer_fans

__all__ = ["Builder", "BuildResult", "Progress"]

# Elements (problems x width) gathered and solved per call: bounds a block's memory to ~50 MB on
# each of the CPUs that run blocks at once (a LeNet-shape L+1 build peaks at about 200 MB on 2
# cores, 270-330 MB with twice as many), against a few ms of fixed costs per block (Python, the
# block lists of its source draw); twice as many gave the full L+1 target's first layer 4-14%
# more problems per second in three paired runs, within the whole build's run-to-run spread
# (benchmarks/results/scale.md).
ELEMENTS_PER_CALL = 1 << 21
# The same on a device build (tickets/block_torch.py): ~0.5 GB of device memory per block, and an
# eighth of the host's Python per block and kernel launches per problem.
DEVICE_ELEMENTS_PER_CALL = 1 << 24
# The layout of solve_block's result (what a checkpoint stores per block): 2, the chosen elements
# as counts and positions per problem (chosen_lists); 1 was (problem, element) int64 pairs.
BLOCK_RESULT_VERSION = 2
# Blocks at least between two returns of freed memory to the system (edges.release_freed_memory,
# paced by edges.ReleasePace): every block would make the next one fault its pages in again.
RELEASE_BLOCKS = 16
# A group may hold this many times the solver's limit of elements: ER masks remove some, and
# each problem is compacted to its existing elements (at most the limit) before solving.
MEMBERS_CAP_FACTOR = 4


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (0 where the platform does not say)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB on Linux


class Progress:
    """Progress over subset-sum problems: ``update(done_now)``, ``add_total(more)``, ``close()``.

    ``progress``: None/False (silent), True (a tqdm bar) or ``callable(done, total)``."""

    def __init__(self, progress, total: int):
        self.done, self.total = 0, int(total)
        self._bar = None
        self._shown = 0.0
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
            now = time.perf_counter()
            if now - self._shown >= 1.0:  # the process's peak memory beside rate and time left
                self._shown = now
                self._bar.set_postfix_str(f"peak RSS {_peak_rss_mb():,.0f} MB", refresh=False)
            self._bar.update(n)
        elif self._callback is not None:
            self._callback(self.done, max(self.total, self.done))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass
class BuildResult:
    """What a build produced.

    edges : per source layer the kept weights (:class:`.edges.KeptEdges`)
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
    the plan (fixed-size tickets, whose size is then known in advance). ``executor``: where the
    first solve's blocks run (:func:`.executor.get_executor`; default: this process, a block per
    CPU at a time; a device build's blocks one at a time)."""

    def __init__(self, plan, target, source, er, *, device=None, progress=None, keep_structure=False,
                 executor=None):
        self.plan, self.target, self.source, self.er = plan, target, source, er
        self.device = device
        self.executor = get_executor(executor, jobs_use_every_core=device is not None)  # a device: one block at a time
        self.keep_structure = keep_structure
        self.act = plan.activation
        self.states = [LayerState(s, lay.pairs, source.capacity(s)) for s, lay in enumerate(plan.layers)]
        self.skips = plan.skips
        self.scales = [lay.scale for lay in plan.layers] + [sk.scale for sk in plan.skips]
        self.fans = layer_fans(plan, target)  # columns per row of the layer before (maps.py)
        # per combine layer: {(row, g): (err, contrib, rows, cols, matrices)}
        self.pending = [dict() for _ in plan.layers]
        self.param_max = [np.zeros((w.shape[0], w.shape[1] + 1)) for w in target.weights]
        self.subset_edges = [EdgeCollector() for _ in range(len(plan.layers) + len(plan.skips))]  # per weight matrix
        self.problems = 0
        self.release_pace = ReleasePace()  # returns of the memory solved blocks leave behind
        self.progress = Progress(progress, self._first_solve_problems())
        self.repair_log = {"rounds": 0, "problems": 0, "added_rows": [0] * len(plan.layers),
                           "discarded_copies": 0, "unrepaired": 0, "rows_short": {}, "added": []}

    # ---------------------------------------------------------------- structure

    def _first_solve_problems(self) -> int:
        total = 0
        for s, lay in enumerate(self.plan.layers):
            if lay.role.kind != "combine":
                continue
            t = lay.role.target_layer
            prev = self.plan.layers[s - 1]
            per = 2 if (prev.role.kind == "block" and prev.split) else 1
            biases = np.count_nonzero(self.target.biases[t]) if prev.n_consts > 0 else 0
            # zero targets issue no problem (_solve_nonzero): counted as neither work nor progress
            total += lay.group_size * (per * np.count_nonzero(self.target.weights[t]) + biases)
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
        """Element groups of combine layer s, in problem order: inputs (sign-major, each input's
        lowered features in order), then bias. A layer reading ``fan`` columns per row of the
        layer before (a convolution, a flattened map) has one group per lowered feature: the
        representatives of its input channel, read at that feature's offset."""
        prev = self.states[s - 1]
        if self.plan.layers[s - 1].role.kind == "block":
            groups = list(prev.groups)
        else:
            groups = self._copy_groups(s - 1)
        fan = self.fans[s]
        if fan > 1:
            groups = [g.lowered(fan, offset, g.column * fan + offset) for g in groups for offset in range(fan)]
        t = self.plan.layers[s].role.target_layer
        for x, sk in enumerate(self.skips):
            if sk.role.into == s:
                groups += self._skip_groups(x, sk)
        if prev.constants is not None and np.any(self.target.biases[t] != 0):
            groups.append(self._constants_as_read(s, "bias", self.target.weights[t].shape[1]))
        return groups

    def _copy_groups(self, layer: int) -> list:
        """The copies of every target neuron held by L+1 layer ``layer``, one Group per neuron,
        planned at the layer's copies per neuron (what repair grows from)."""
        planned = self.plan.layers[layer].group_size
        return [Group("copies", j, 0, np.asarray(rows, np.int64), np.ones(len(rows)), False, planned)
                for j, rows in enumerate(self.states[layer].copies)]

    def _skip_groups(self, x: int, sk) -> list:
        """The groups skip layer x reads: the block groups or copies of its source layer, at every
        offset of its part, their columns after the part's first lowered feature."""
        state = self.states[sk.role.source]
        if self.plan.layers[sk.role.source].role.kind == "block":
            base_groups = state.groups
        else:
            base_groups = self._copy_groups(sk.role.source)
        base = self.target.parts(sk.role.target_layer)[sk.role.part][2]
        skip = {"node": sk.role.source, "matrix": len(self.plan.layers) + x, "base": base}
        return [g.lowered(sk.fan, offset, base + g.column * sk.fan + offset, **skip)
                for g in base_groups for offset in range(sk.fan)]

    def _node(self, s: int, g: Group) -> int:
        """The source layer whose rows group g of combine layer s holds."""
        return s - 1 if g.node is None else g.node

    def _matrix(self, s: int, g: Group) -> int:
        """The weight matrix through which combine layer s reads group g."""
        return s if g.matrix is None else g.matrix

    def _constants_as_read(self, s: int, kind: str, column: int) -> Group:
        """The constants of layer s - 1 as layer s reads them: at a kernel offset that never reads
        a padded zero (:meth:`~.maps.LayerOp.always_inside_tap`)."""
        c = self.states[s - 1].constants
        offset = 0
        if self.fans[s] > 1:
            offset = self.target.op(self.plan.layers[s].role.target_layer).always_inside_tap()
        return Group(kind, column, 0, c.members, c.multipliers, c.pair, c.planned, self.fans[s], offset)

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
        prev = None
        if s > 0 and self.states[s - 1].constants is not None:
            prev = self._constants_as_read(s, "bias", -1)
        from .plan import CONSTANT_RANGE

        # a fixed-size ticket keeps one edge per constant, so its size is known before solving
        return take_constants(self.states[s], self.act, self.source, self.er, s, count, self.scales[s],
                              lay.const_value, prev, CONSTANT_RANGE,
                              max_edges=1 if self.keep_structure else MAX_CONSTANT_EDGES)

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
        if prev.role.kind != "block":
            return
        t = lay.role.target_layer
        blocks = [s - 1] + [sk.role.source for sk in self.skips if sk.role.into == s]  # one per part
        rep_err = {p: self.row_errors(b - 1)[[self.rep_column(b, j) for j in range(op.channels)]]
                   for (p, op, _col), b in zip(self.target.parts(t), blocks) if b > 0}  # inputs are exact
        base = self.target.read_parts(t, np.abs(self.target.weights[t]), rep_err)  # per channel -> per feature
        if base is not None:
            state.row_delta[rows] = base[state.row_neuron[rows]]

    # ---------------------------------------------------------------- solving

    def _group_arrays(self, s: int, groups: list):
        """:meth:`_group_terms` plus each group's column (int64) and looks-linear flag (bool), per
        group; computed once per ``groups`` list (every block of a layer's first solve shares
        one, and nothing they read changes while that layer is solved)."""
        cached = getattr(self, "_arrays_cache", None)
        if cached is None or cached[0] is not groups:
            arrays = (*self._group_terms(s, groups), np.array([g.column for g in groups], np.int64),
                      np.array([g.pair for g in groups], bool), np.array([self._node(s, g) for g in groups]),
                      np.array([g.fan for g in groups], np.int64), np.array([self._matrix(s, g) for g in groups]))
            self._arrays_cache = cached = (groups, arrays)
        return cached[1]

    def _chosen_terms(self, s: int, groups: list, matrix_groups, members, mult) -> dict:
        """What :func:`subsetsum._core.record_chosen` reads of a group matrix (``members`` int64
        (G', W) and ``mult`` float64 (G', W), its rows the groups ``matrix_groups`` int64 (G',) of
        ``groups``): per row the kind code, bound, input factor, the scale of the weight matrix
        it reads and its looks-linear partner's column step (0: none); per member its column
        (int32) and a chosen member's term per unit |combine weight| of
        :func:`.bounds.problem_contributions` (BLOCK: ``(first * B_hat) ** 3``, times
        ``block_multiplier`` = c; COPIES: the copy's certified error ``e_c``). Computed once per
        group matrix (every block of a layer's first solve shares one; nothing they read changes
        while that layer is solved)."""
        cached = getattr(self, "_terms_cache", None)
        if cached is not None and cached[0] is groups and cached[1] is members and cached[2] is mult:
            return cached[3]
        kinds, bound, factor, _col, pair_of, node_of, fan_of, matrix_of = self._group_arrays(s, groups)
        g = np.asarray(matrix_groups, np.int64)
        kind = kinds[g].astype(np.int8)
        rows_bound = bound[g]
        prev = self.plan.layers[s - 1]
        member_term = np.zeros(members.shape)
        multiplier = 0.0
        if prev.role.kind == "block":
            multiplier = self.act.cubic * (2.0 if prev.pairs else 1.0)
            if multiplier > 0.0:
                member_term = (np.abs(mult) / self.plan.kappa(s - 1) * rows_bound[:, None]) ** 3
        else:  # each chosen copy errs on its own: its row's certified error, in the layer it lives in
            copies = kind == COPIES
            for node in np.unique(node_of[g][copies]):
                at = copies & (node_of[g] == node)
                member_term[at] = self.row_errors(int(node))[members[at] // fan_of[g][at, None]]
        terms = dict(kind=kind, bound=rows_bound, factor=np.where(kind == BLOCK, factor[g], 1.0),
                     scale=np.asarray(self.scales, np.float64)[matrix_of[g]],
                     partner_step=np.where(pair_of[g], fan_of[g], 0).astype(np.int32),
                     members=members.astype(np.int32), member_term=member_term, block_multiplier=multiplier)
        self._terms_cache = (groups, members, mult, terms)
        return terms

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
        rep_err = {}  # per block layer b > 0: the errors of the representatives it reads
        for idx, g in enumerate(groups):
            if g.kind == "bias":
                continue
            b = float(bounds[g.column])
            node = self._node(s, g)
            if g.kind == "block" and prev_kind == "block" and node > 0:
                if node not in rep_err:
                    rep_err[node] = self.row_errors(node - 1)
                b += float(rep_err[node][self.rep_column(node, g.input)])
            bound[idx] = b
        return kinds, bound, factor

    def _group_matrix(self, groups, take_last: int | None = None):
        """(columns int64 (G, W), multipliers float64 (G, W), valid bool (G, W)), padded with
        invalid entries; ``take_last``: only each group's last members (solver's limit). The
        columns are where the combine layer reads each member (:meth:`Group.columns`; the member
        row itself unless the layer reads several columns per row)."""
        sizes = [g.members.size if take_last is None else min(take_last, g.members.size) for g in groups]
        width = max(sizes + [1])
        members = np.zeros((len(groups), width), np.int64)
        mult = np.zeros((len(groups), width))
        for idx, (g, n) in enumerate(zip(groups, sizes)):
            if n:
                members[idx, :n] = g.columns(g.members[-n:])
                mult[idx, :n] = g.multipliers[-n:]
        return members, mult, mult != 0

    def solve_rows(self, s: int, rows: np.ndarray) -> None:
        """Solve every problem of the given rows of combine layer s: rows x groups in blocks, one
        block per group width (the weight groups share one, the bias group has its own).

        Each block is a job of ``self.executor`` (:func:`solve_block`: regenerate the block's
        source weights and ER mask, solve); the bookkeeping (:meth:`_record`) stays here and
        consumes the results in block order, so every executor builds the same ticket."""
        if rows.size == 0:
            return
        from collections import deque

        groups = self.groups(s)
        sizes = np.array([g.members.size for g in groups])
        mats = np.array([self._matrix(s, g) for g in groups])
        ex = self.executor
        source, er = ex.share(self.source), ex.share(self.er)
        blocks = []  # (matrix index, gids, columns, mult, shared matrix, rows, settings), in solve order
        for m in np.unique(mats):  # the layer's own weights first, then its skip layers'
            settings = self._block_settings(s, int(groups[int(np.flatnonzero(mats == m)[0])].fan) if m != s else None)
            for size in np.unique(sizes[mats == m]):
                gids = np.flatnonzero((sizes == size) & (mats == m))
                members, mult, valid = self._group_matrix([groups[g] for g in gids])
                n_groups, width = members.shape
                per_call = ELEMENTS_PER_CALL if self.device is None else DEVICE_ELEMENTS_PER_CALL
                step = max(1, per_call // max(1, n_groups * width))
                pair_cols = np.repeat([groups[g].pair for g in gids], width)
                matrix = ex.share((members.ravel(), pair_cols, self.scales[m] * mult, valid))
                blocks += [(int(m), gids, members, mult, matrix, rows[lo:lo + step], settings)
                           for lo in range(0, rows.size, step)]
        submitted = deque()  # blocks whose results are still to be recorded, with their problems
        columns = np.array([g.column for g in groups], np.int64)

        def jobs():
            for m, gids, members, mult, matrix, r, settings in blocks:
                prob_rows = np.repeat(r, gids.size)
                positions = np.tile(np.arange(gids.size), r.size)
                targets = self._block_targets(s, r, columns[gids])
                submitted.append((prob_rows, positions, gids, members, mult, targets, r))
                yield source, er, m, matrix, settings, self.device, r, targets

        for k, result in enumerate(ex.map(solve_block, jobs())):
            prob_rows, positions, gids, members, mult, targets, r = submitted.popleft()
            self._record(s, groups, prob_rows, positions, gids, members, mult, targets, result, block_rows=r)
            del result
            if k % RELEASE_BLOCKS == RELEASE_BLOCKS - 1 and self.release_pace.due():
                self.release_pace.release()  # what blocks left behind, so that the kept edges are what grows

    def _block_settings(self, s: int, fan: int | None = None) -> "BlockSettings":
        """Settings of combine layer s's problems read through a matrix with ``fan`` columns per
        row (default: the layer's own)."""
        return BlockSettings(self.plan.mode, self.plan.max_size, self.plan.subset_size, self.plan.element_limit(),
                             float(self.plan.layers[s].tolerance), self.fans[s] if fan is None else fan)

    def _targets(self, s: int, groups, prob_rows, prob_groups) -> np.ndarray:
        """Targets float64 (P,) of problems (row, group): the weight ``w_ij`` of the row's neuron i
        and the group's lowered input feature j, or the bias ``b_i`` for the bias group."""
        t = self.plan.layers[s].role.target_layer
        w_t, b_t = self.target.weights[t], self.target.biases[t]
        n_in = w_t.shape[1]
        cols = np.array([g.column for g in groups], np.int64)[prob_groups]
        neuron = self.states[s].row_neuron[prob_rows]
        return np.where(cols == n_in, b_t[neuron], w_t[neuron, np.minimum(cols, n_in - 1)])

    def _block_targets(self, s: int, rows, columns) -> np.ndarray:
        """:meth:`_targets` of a block, every row of ``rows`` with every group of ``columns`` (their
        columns, int64 (G,)): float64 (R * G,), row-major. A block of many groups reads whole
        rows of the target's weights, then their columns (an index pair per problem read them in
        random order); one of few groups (the bias block: many rows, one column) reads its
        entries alone."""
        t = self.plan.layers[s].role.target_layer
        w_t, b_t = self.target.weights[t], self.target.biases[t]
        n_in = w_t.shape[1]
        neuron = self.states[s].row_neuron[rows]
        cols = np.minimum(columns, n_in - 1)
        if 4 * cols.size >= n_in:
            out = np.take(w_t[neuron], cols, axis=1)
        else:
            out = w_t[neuron[:, None], cols[None, :]]
        bias = columns == n_in
        if bias.any():
            out[:, bias] = b_t[neuron][:, None]
        return out.reshape(-1)

    def solve_problems(self, s: int, keys) -> None:
        """Re-solve single problems (row, group) of combine layer s with their groups as they are
        now (compacted to their existing elements, the newest first up to the solver's limit)."""
        if not keys:
            return
        groups = self.groups(s)
        by_matrix = {}
        for key in keys:
            by_matrix.setdefault(self._matrix(s, groups[key[1]]), []).append(key)
        for m in sorted(by_matrix):
            self._solve_problems_of(s, groups, m, by_matrix[m])

    def _solve_problems_of(self, s: int, groups, m: int, keys) -> None:
        """:meth:`solve_problems` for the problems read through weight matrix m."""
        settings = self._block_settings(s, int(groups[keys[0][1]].fan) if m != s else None)
        rows = np.array([k[0] for k in keys], np.int64)
        gidx = np.array([k[1] for k in keys], np.int64)
        # the group matrix of the groups these problems read (not the layer's every group)
        used, at = np.unique(gidx, return_inverse=True)
        members, mult, valid = self._group_matrix([groups[g] for g in used.tolist()],
                                                  take_last=MEMBERS_CAP_FACTOR * settings.limit)
        cols = members[at]
        width = members.shape[1]
        rr = np.repeat(rows, width)
        w = self.source.weights(m, rr, cols.ravel(), outer=False).reshape(rows.size, width)
        ok = valid[at]
        masked = self.er is not None and not self.er.dense(m)
        if masked:
            ok = ok & self.er.mask(m, rr, cols.ravel(), outer=False).reshape(rows.size, width)
            pairs = np.array([groups[g].pair for g in gidx])
            if pairs.any():
                ok[pairs] &= self.er.mask(m, np.repeat(rows[pairs], width), cols[pairs].ravel() + settings.pair_step,
                                          outer=False).reshape(-1, width)
        targets = self._targets(s, groups, rows, gidx)
        self.progress.add_total(np.count_nonzero(targets))
        elements = w * (self.scales[m] * mult[at])
        if masked or width > settings.limit:
            solve_fn = lambda z, x, ok: _solve_compacted(z, x, ok, settings.limit, settings, self.device,  # noqa: E731
                                                        settings.tolerance, prefer_last=True)
        else:
            solve_fn = lambda z, x, ok: _solve_call(z, x, ok, settings.tolerance, settings, self.device)  # noqa: E731
        # the mask also holds the ER source's missing edges: only where every entry exists is there none
        p_idx, e_idx, errors, found = _solve_nonzero(solve_fn, targets, elements, None if ok.all() else ok)
        self._record(s, groups, rows, at, used, members, mult, targets,
                     _as_chosen_lists(p_idx, e_idx, errors, found, w, width))

    def _record(self, s, groups, prob_rows, positions, matrix_groups, members, mult, targets, result, *,
                block_rows=None) -> None:
        """Record solved problems of combine layer s: certified error terms of their rows, kept
        edges, largest errors per parameter and the problems that missed (pending for the repair
        pass).

        Problem p is row ``prob_rows[p]`` with the group of row ``positions[p]`` of the group
        matrix: ``members`` (G', W) (columns) and ``mult`` (G', W) (multipliers without the
        layer's scale), its rows the groups ``matrix_groups`` (G',) of ``groups``. ``result``:
        the chosen elements problem by problem (counts and positions), errors and found per
        problem, and the chosen elements' source weights (:func:`solve_block`). ``block_rows``:
        the rows of a regular block (problem ``r * G' + g``: row r with matrix row g; rows
        distinct), summed and maximised by runs; None for single problems."""
        from .. import _core

        counts, positions_chosen, errors, found, w_chosen = result
        t = self.plan.layers[s].role.target_layer
        state = self.states[s]
        solved = int(np.count_nonzero(targets))
        self.problems += solved
        self.progress.update(solved)
        _kinds, _bound, _factor, col_of, _pair, _node, _fan, matrix_of = self._group_arrays(s, groups)
        terms = self._chosen_terms(s, groups, matrix_groups, members, mult)
        # certified error terms (bounds.problem_contributions) and kept edges: chosen members and
        # their looks-linear partners (a row further: fan columns), found problems' first
        contrib, edge_rows, edge_cols, edge_problem, hit = _core.record_chosen(
            **terms, errors=np.ascontiguousarray(errors, np.float64), found=np.ascontiguousarray(found, bool),
            prob_rows=np.ascontiguousarray(prob_rows, np.int64), positions=np.ascontiguousarray(positions, np.int64),
            counts=np.ascontiguousarray(counts), elements=np.ascontiguousarray(positions_chosen),
            w_chosen=np.ascontiguousarray(w_chosen, np.float32))
        if block_rows is not None:
            state.row_delta[block_rows] += contrib.reshape(block_rows.size, -1).sum(axis=1)
        else:
            np.add.at(state.row_delta, prob_rows, contrib)
        mat_rows = matrix_of[matrix_groups]
        edge_mats = None
        if (mat_rows == s).all():  # no skip layer among these problems
            self.subset_edges[s].add(edge_rows[:hit], edge_cols[:hit])
        else:
            edge_mats = mat_rows[positions[edge_problem]]
            for m in np.unique(edge_mats[:hit]):
                at = np.flatnonzero(edge_mats[:hit] == m)
                self.subset_edges[int(m)].add(edge_rows[at], edge_cols[at])
        if block_rows is not None:  # largest error over the copies in each run of rows of one neuron
            err = np.where(found, errors, 0.0).reshape(block_rows.size, -1)
            row_neurons = state.row_neuron[block_rows]
            starts = np.flatnonzero(np.concatenate([[True], row_neurons[1:] != row_neurons[:-1]]))
            runs = np.maximum.reduceat(err, starts, axis=0)
            block_cols = col_of[matrix_groups]
            np.maximum.at(self.param_max[t], (row_neurons[starts][:, None], block_cols[None, :]), runs)
        else:
            hit_p = np.flatnonzero(found)
            np.maximum.at(self.param_max[t], (state.row_neuron[prob_rows[hit_p]], col_of[matrix_groups[positions[hit_p]]]),
                          errors[hit_p])
        # problems that missed wait for the repair pass, with their (best) subsets
        missed = np.flatnonzero(~found)
        if missed.size:
            m_p, m_r, m_c = edge_problem[hit:], edge_rows[hit:], edge_cols[hit:]
            m_m = np.full(m_p.size, s) if edge_mats is None else edge_mats[hit:]
            order = np.argsort(m_p, kind="stable")
            m_p, m_r, m_c, m_m = m_p[order], m_r[order], m_c[order], m_m[order]
            starts = np.searchsorted(m_p, missed, side="left")
            ends = np.searchsorted(m_p, missed, side="right")
            for p, a, b in zip(missed.tolist(), starts.tolist(), ends.tolist()):
                self.pending[s][(int(prob_rows[p]), int(matrix_groups[positions[p]]))] = (
                    float(errors[p]), float(contrib[p]), m_r[a:b], m_c[a:b], m_m[a:b])

    def forget(self, s: int, key) -> None:
        """Drop a pending problem's contribution before it is solved again."""
        err, contrib, *_edges = self.pending[s].pop(key)
        self.states[s].row_delta[key[0]] -= contrib

    # ---------------------------------------------------------------- growth (used by repair)

    def grow_group(self, s: int, g: int, count: int, depth: int) -> int:
        """Add up to ``count`` elements to group g of combine layer s; returns how many were added."""
        from .repair import repair_layer

        groups = self.groups(s)
        group = groups[g]
        prev_s = self._node(s, group)  # the layer before, or the one a skip layer reads
        prev_state = self.states[prev_s]
        before = group.members.size
        if group.kind == "block":  # a new block neuron of the input channel serves all its features
            col = self.rep_column(prev_s, group.input)
            taken = take_block_neurons(prev_state, self.source, self.er, prev_s, col, {group.sign: count},
                                       self.scales[prev_s], self.plan.kappa(prev_s))
            rows, vals = taken[group.sign]
            target = next(x for x in prev_state.groups if x.column == group.input and x.sign == group.sign)
            target.extend(rows, vals)
            added = rows.size
        elif group.kind == "bias":
            added = self._take_constants(prev_s, count)
        else:  # copies of input neuron j in the layer before: new rows, solved and repaired first
            j = group.input
            rows = take_copies(prev_state, j, count)
            if rows.size == 0:
                return 0
            self._init_rows(prev_s, rows)
            prev_groups = self.groups(prev_s)
            gids = np.arange(len(prev_groups))
            new_targets = self._targets(prev_s, prev_groups, np.repeat(rows, gids.size), np.tile(gids, rows.size))
            self.progress.add_total(np.count_nonzero(new_targets))
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
        if added:  # what a fixed-size ticket's size formula must count (Ticket.size_formula)
            self.repair_log["added"].append({"layer": prev_s, "kind": group.kind,
                                             "input": int(group.input) if group.kind == "copies" else -1,
                                             "count": int(added)})
        if added < count and prev_state.capacity is not None:  # a user source without spare rows
            short = self.repair_log["rows_short"]
            short[prev_s] = short.get(prev_s, 0) + int(count - added) * (2 if prev_state.pairs else 1)
        return int(self.groups(s)[g].members.size - before)

    # ---------------------------------------------------------------- result

    def finalize(self, start: float) -> BuildResult:
        """Keep what the output depends on (a backward pass over kept edges), assemble the result:
        the source layers' weight matrices, then the skip layers'."""
        n_layers = len(self.plan.layers)
        n_mats = n_layers + len(self.skips)
        edges = [None] * n_mats
        bias_rows = [None] * n_mats
        shapes = []
        in_f = self.target.widths[0]
        for s, state in enumerate(self.states):
            rows = state.capacity if state.capacity is not None else state.rows
            if s == n_layers - 1:
                rows = self.target.widths[-1] if state.capacity is None else state.capacity
            shapes.append((int(rows), int(in_f) * self.fans[s]))  # lowered columns (maps.py)
            in_f = int(rows)
        # what each matrix reads: (source layer, columns per row); a skip layer reads its source's rows
        reads = [(s - 1, self.fans[s]) for s in range(n_layers)] + [(sk.role.source, sk.fan) for sk in self.skips]
        for sk in self.skips:
            shapes.append((shapes[sk.role.into][0], shapes[sk.role.source][0] * sk.fan))
        alive = [None] * n_layers
        alive[-1] = np.zeros(shapes[n_layers - 1][0], bool)
        alive[-1][: self.target.widths[-1]] = True
        subset_counts = [0] * n_mats
        for s in range(n_layers - 1, -1, -1):
            state = self.states[s]
            keep_alive = alive[s].copy()
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
            for m in [s] + [n_layers + x for x, sk in enumerate(self.skips) if sk.role.into == s]:
                pending = [(r[mats == m], c[mats == m]) for (_e, _c, r, c, mats) in self.pending[s].values()]
                missed_kept = sum(int(keep_alive[r].sum()) for r, _c in pending)
                used = np.zeros(shapes[m][1], bool)
                edges[m], subset_total = self.subset_edges[m].merge(
                    shapes[m][0], keep_alive, (list(state.edges) if m == s else []) + pending, mark_columns=used)
                if self.plan.layers[s].role.kind == "combine":
                    subset_counts[m] = subset_total + missed_kept
                node, fan = reads[m]
                if node >= 0:  # the rows of the layer it reads that the output depends on
                    if alive[node] is None:
                        alive[node] = np.zeros(shapes[m][1] // fan, bool)
                    alive[node] |= used.reshape(-1, fan).any(axis=1)
            if self.source.bias(s, np.zeros(1, np.int64)) is not None:
                b = np.concatenate(state.bias_rows) if state.bias_rows else np.zeros(0, np.int64)
                bias_rows[s] = np.unique(b[keep_alive[b]])
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
            for (row, g), (err, *_rest) in pend.items():
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


def solve_options(plan, tol: float) -> dict:
    """:func:`subsetsum.solve`'s keyword arguments for a ticket's problems (``plan``: a plan or
    :class:`BlockSettings`): the smallest subset up to ``max_size`` within ``tol``, or, for
    fixed-size tickets, any k-subset within it (first_hit stops at the first: 50-300x the exact
    search)."""
    if plan.mode == "min_size":
        return dict(eps=tol, mode="min_size", max_size=plan.max_size)
    return dict(eps=tol, mode=plan.mode, k=plan.subset_size, algorithm="first_hit")


def _solve_call(targets, elements, mask, tol, plan, device):
    """One batched solve; returns (problem, element) indices of the chosen elements, errors
    float64 (B,) and found bool (B,)."""
    from ..solve import solve

    kwargs = dict(solve_options(plan, tol), mask=mask)
    if plan.mode != "min_size":
        short = plan.subset_size - elements.shape[1]
        if short > 0:  # fewer elements than k in every problem: none can be solved, say so per problem
            if mask is None:
                mask = np.ones(elements.shape, bool)
            elements = np.pad(elements, ((0, 0), (0, short)))
            kwargs["mask"] = mask = np.pad(mask, ((0, 0), (0, short)))
    if device is not None:
        import torch

        res = solve(torch.as_tensor(targets, device=device), torch.as_tensor(elements, device=device),
                    **{**kwargs, "mask": None if mask is None else torch.as_tensor(mask, device=device)})
        p, e = res.chosen_elements(ordered=False)
        return p, e, res.errors.cpu().numpy(), res.found.cpu().numpy()
    res = solve(targets, elements, **kwargs)
    p, e = res.chosen_elements(ordered=False)
    return p, e, np.asarray(res.errors), np.asarray(res.found)


# ---------------------------------------------------------------- first solve as jobs (see Builder.solve_rows)


@dataclass(frozen=True)
class BlockSettings:
    """What a block of the first solve needs of the plan: the solver's ``mode``, ``max_size``
    and ``subset_size`` (read by :func:`_solve_call` as a plan's), its element ``limit`` per
    problem, the combine layer's ``tolerance``, and ``pair_step``: how many columns further a
    looks-linear partner row is read (the layer's fan, :mod:`.maps`)."""

    mode: str
    max_size: int | None
    subset_size: int | None
    limit: int
    tolerance: float
    pair_step: int = 1


def gather_elements(w, mult):
    """Elements of rows x groups: ``w`` float32 (R, G * W) source weights, ``mult`` float64
    (G, W) the multipliers (scale included); problem ``r * G + g`` gets ``mult[g, e] *
    w[r, g * W + e]`` (float64 (R * G, W)), as numpy's broadcast product but on every core, in
    the compiled core (a dense build loads no numba, about 100 MB of resident memory).

    >>> gather_elements(np.array([[1.0, 2.0, 3.0, 4.0]], np.float32), np.array([[3.0, 4.0], [0.5, 1.0]])).tolist()
    [[3.0, 8.0], [1.5, 4.0]]
    """
    from .. import _core

    n_groups, width = mult.shape
    out = np.empty((w.shape[0] * n_groups, width))
    _core.gather_elements_into(np.ascontiguousarray(w, dtype=np.float32),
                               np.ascontiguousarray(mult, dtype=np.float64), out)
    return out


def _narrowest_unsigned(largest: int):
    for dtype in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dtype).max:
            return dtype
    raise ValueError(f"expected values below 2**32, got {largest}")


def chosen_lists(p_idx, e_idx, n_problems: int, width: int, weights):
    """The chosen elements (problem ``p_idx``, position ``e_idx``, weight ``weights``: (K,) each)
    of ``n_problems`` problems over ``width`` positions, as :func:`solve_block` returns them and
    ``_core.record_chosen`` reads them: (counts (P,), positions (K,), weights float32 (K,)),
    problem by problem, each problem's elements in their given order; counts and positions in
    the narrowest of uint8, uint16 and uint32 that holds them (a byte each in a dense block:
    what a Ray task sends back is a quarter of the int64 pairs).

    >>> [a.tolist() for a in chosen_lists(np.array([2, 0, 2]), np.array([5, 1, 3]), 3, 8, np.ones(3))]
    [[1, 0, 2], [1, 5, 3], [1.0, 1.0, 1.0]]
    """
    p_idx = np.asarray(p_idx, np.int64)
    e_idx, weights = np.asarray(e_idx), np.asarray(weights, np.float32)
    if p_idx.size and (np.diff(p_idx) < 0).any():  # problem by problem, each one's order kept
        order = np.argsort(p_idx, kind="stable")
        p_idx, e_idx, weights = p_idx[order], e_idx[order], weights[order]
    counts = np.bincount(p_idx, minlength=n_problems)
    return (counts.astype(_narrowest_unsigned(int(counts.max(initial=0)))),
            e_idx.astype(_narrowest_unsigned(max(0, width - 1))), weights)


def solve_block(source, er, s, matrix, settings, device, rows, targets):
    """Solve one block of the first solve of combine layer ``s``: every row of ``rows`` with
    every group of a group matrix (G groups of width W). Pure: its result depends on its
    arguments alone (the source weights and ER mask are regenerated from ``source`` and ``er``),
    so it may run in another process; it writes to none of them.

    Parameters
    ----------
    source : GeneratedSource or UserSource
    er : ERMasks or None
    s : int
        The combine layer.
    matrix : tuple (members int64 (G * W,), pairs bool (G * W,), multipliers float64 (G, W),
        valid bool (G, W))
        The groups' members (row-major, padded), which of them are looks-linear pairs (their
        partner's ER edge must exist too), their multipliers times the layer's scale, and which
        entries are members.
    settings : BlockSettings
    device : str or None
        "cuda[:N]" draws, gathers and solves on that GPU (:mod:`.block_torch`; "cpu" runs that
        torch code on the host); None: numpy arrays and the compiled CPU solver.
    rows : int64 (R,)
    targets : float64 (R * G,)
        Target of problem ``r * G + g`` (row ``rows[r]``, group g).

    Returns
    -------
    tuple (counts (R * G,), positions (K,), errors float64 (R * G,), found bool (R * G,),
    weights float32 (K,))
        The K chosen elements problem by problem (:func:`chosen_lists`: how many each problem
        chose, their positions in its group, uint8 in a dense block), every problem's error and
        found flag, and the source weight of each chosen element.

    Examples
    --------
    >>> from subsetsum.tickets.source import GeneratedSource
    >>> src = GeneratedSource(0, ["uniform", "uniform"], [True, False])
    >>> members = np.arange(8, dtype=np.int64)
    >>> w = src.weights(1, [3], members)[0]
    >>> target = float(w[1] + w[4])
    >>> matrix = (members, np.zeros(8, bool), np.ones((1, 8)), np.ones((1, 8), bool))
    >>> counts, e, err, found, chosen = solve_block(src, None, 1, matrix, BlockSettings("min_size", 4, None, 64, 1e-9),
    ...                                             None, np.array([3]), np.array([target]))
    >>> int(counts[0]), bool(found[0]), bool(abs(w[e].astype(np.float64).sum() - target) <= 1e-9)
    (2, True, True)
    """
    if device is not None:  # drawn, gathered and solved on that device (same result, bit for bit)
        from .block_torch import solve_block_torch

        return solve_block_torch(source, er, s, matrix, settings, device, rows, targets)
    # arguments from Ray's object store are read-only, which the generator's index arrays and the
    # compiled gather may not be: writable copies of the small ones (no copy when already writable)
    members, pairs, elem_mult, valid = (np.require(a, requirements="W") for a in matrix)
    rows = np.require(rows, np.int64, "W")
    width = elem_mult.shape[1]
    limit, tol = settings.limit, settings.tolerance
    w = source.weights(s, rows, members)
    mask = None
    if er is not None and not er.dense(s):
        mask = er.mask(s, rows, members)
        if pairs.any():
            mask[:, pairs] &= er.mask(s, rows, members[pairs] + settings.pair_step)
    if mask is not None:  # ER: gather only the existing elements (one pass, compiled)
        from ._kernels import gather_compact

        comp, comp_ok, back = gather_compact(w, mask, elem_mult, valid, limit)
        p_idx, c_idx, errors, found = _solve_nonzero(
            lambda z, x, m: _solve_call(z, x, m, tol, settings, device), targets, comp, comp_ok)
        e_idx = back[p_idx, c_idx]
    elif settings.mode == "min_size" and width <= limit:
        # elements gathered as the solver loads each problem; a zero target gets the empty subset
        # (error 0, found), what _solve_nonzero gives it without a solve
        from .. import _core
        from ..solve import solve_outer

        res = solve_outer(targets, w, elem_mult, mask=None if valid.all() else valid, **solve_options(settings, tol))
        counts, positions, chosen = _core.subset_chosen(np.asarray(res.subsets, np.uint64), w.reshape(-1), width)
        return counts, positions, np.asarray(res.errors), np.asarray(res.found), chosen
    else:
        n_rows = rows.size
        elements = gather_elements(w, elem_mult)
        ok = None if valid.all() else np.repeat(valid[None], n_rows, axis=0).reshape(-1, width)
        if width > limit:
            solve_fn = lambda z, x, m: _solve_compacted(z, x, m, limit, settings, device, tol, prefer_last=False)
        else:
            solve_fn = lambda z, x, m: _solve_call(z, x, m, tol, settings, device)
        p_idx, e_idx, errors, found = _solve_nonzero(solve_fn, targets, elements, ok)
    return _as_chosen_lists(p_idx, e_idx, errors, found, w, width)


def _as_chosen_lists(p_idx, e_idx, errors, found, w, width: int):
    """:func:`solve_block`'s result from the chosen (problem, position) pairs and the block's
    weights ``w`` (W-wide rows of problems)."""
    counts, positions, chosen = chosen_lists(p_idx, e_idx, errors.size, width, w.reshape(-1)[p_idx * width + e_idx])
    return counts, positions, errors, found, chosen
