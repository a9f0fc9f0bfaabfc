"""The :class:`Ticket` that :func:`~subsetsum.construct_ticket` returns: kept edges, scales,
errors and bounds, its report, a torch module, save/load.

A ticket computes ``x -> act(x @ (scale_l * W_l * mask_l).T + scale_l * b_l * bias_mask_l)``
layer by layer (PyTorch layout, W_l of shape (out, in)); the hidden activation is the target's,
the last layer uses the target's output activation (or none). It stores the kept edges of every
layer (by row and compressed, :class:`~.edges.KeptEdges`, about 1 byte per kept edge) and its
source (a seed, or the user's arrays), never the dense source: masks and source weights are
materialised only when asked for.

A ticket of a residual target also has skip layers (``metadata["skips"]``, one weight matrix each,
listed after the layers' in ``shapes``, ``edges``, ``bias_rows`` and ``scales``): skip layer k
reads the output of source layer ``source`` and is added into layer ``into`` before its
activation, ``x_into = act(W_into x_{into - 1} + sum_k W_k x_source + b)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_int
from .activations import get_activation
from .bounds import lemma_2_8_bound
from .edges import KeptEdges
from .graph import TargetNetwork
from .maps import LayerOp
from .source import ERMasks, GeneratedSource, UserSource

__all__ = ["Ticket", "TicketReport", "LayerStats"]

_FORMAT = "subsetsum.ticket/4"
# /2 stored index pairs, /3 rows of int32 columns, where /4 stores rows of varint gaps
_READS = ("subsetsum.ticket/2", "subsetsum.ticket/3", _FORMAT)
# to_module(sparse=None) turns fully connected layers sparse above this many dense weights
# (512 MiB of float32 weights, plus the masks).
SPARSE_ABOVE = 1 << 27
# forward / verify / report: a layer of at most this many kept edges keeps its weights in memory
# between calls (16 bytes a kept edge: int64 columns and float64 values); a larger one regenerates
# them from the source, FORWARD_BLOCK_EDGES at a time, on every call.
FORWARD_CACHE_EDGES = 1 << 25
FORWARD_BLOCK_EDGES = 1 << 22
# report's default number of random inputs shrinks for large tickets so that measuring the error
# takes about this many kept-edge evaluations (seconds to minutes), down to REPORT_MIN_SAMPLES.
REPORT_EDGE_EVALUATIONS = 1 << 36
REPORT_MIN_SAMPLES = 100


@dataclass
class LayerStats:
    """One source layer of a ticket: kept parameters, neurons it keeps alive, its size and density."""

    parameters: int
    neurons: int
    source_parameters: int
    density: float


@dataclass
class TicketReport:
    """What :meth:`Ticket.report` measured and what holds.

    layers : LayerStats per source layer
    target_parameters : the target's nonzero weights and biases (a pruned target's remaining
        ones; zeros issue no subset-sum problem); target_total_parameters : all of them, zeros
        included; target_ratio : ticket parameters / target_parameters (001, Table 1)
    folded : what was folded into the target's weights (e.g. a batch norm), one line each
    tolerances / max_errors : per target layer, the per-parameter tolerance and the largest
        parameter error; failed : parameters (layer, row, col) above their tolerance
    output_eps : the requested end-to-end error (or None)
    lemma_bound : 001's Lemma 2.8 bound for these tolerances; it assumes every parameter within
        tolerance (None when some parameter missed, as it then does not apply)
    certified_bound : the ticket's own certified bound on ``sup max_i |f_i - g_i|`` over
        [-M, M]^d (always valid; :mod:`subsetsum.tickets.bounds`)
    sup_error : measured ``max_i |f_i(x) - g_i(x)|`` over ``samples`` uniform inputs of [-M, M]^d
        (None when samples is 0: not measured)
    relative_error : sup_error over the target's largest output magnitude on the domain (or None)
    """

    method: str
    layers: list
    target_parameters: int
    tolerances: list
    max_errors: list
    failed: list
    output_eps: float | None
    lemma_bound: float | None
    certified_bound: float
    sup_error: float | None
    relative_error: float | None
    samples: int
    input_bound: float
    seconds: float
    repair: dict
    target_total_parameters: int = 0
    folded: tuple = ()

    @property
    def parameters(self) -> int:
        return sum(layer.parameters for layer in self.layers)

    @property
    def target_ratio(self) -> float:
        """Ticket parameters per nonzero target parameter (the ratio of 001, Table 1)."""
        return self.parameters / max(1, self.target_parameters)

    @property
    def density(self) -> float:
        return self.parameters / max(1, sum(layer.source_parameters for layer in self.layers))

    def holds(self) -> dict:
        """Which requests hold: per-parameter tolerances, output_eps (certified), and whether the
        measured error is within the certified bound."""
        out = {"tolerances": not self.failed}
        if self.sup_error is not None:
            out["certified_bound"] = self.sup_error <= self.certified_bound * (1 + 1e-9)
        if self.output_eps is not None:
            out["output_eps"] = self.certified_bound <= self.output_eps
        return out

    def __str__(self) -> str:
        holds = self.holds()
        total = max(self.target_total_parameters, self.target_parameters)
        lines = [(f"{self.method} ticket: {self.parameters} parameters, {self.target_ratio:.1f}x the target's "
                  f"{self.target_parameters} nonzero parameters (of {total}, target density "
                  f"{self.target_parameters / max(1, total):.3g}), density {self.density:.4g}, "
                  f"built in {self.seconds:.2f} s")]
        lines += [f"folded: {note}" for note in self.folded]
        lines.append("layer  parameters  neurons  density")
        for s, layer in enumerate(self.layers):
            lines.append(f"{s:5d}  {layer.parameters:10d}  {layer.neurons:7d}  {layer.density:.4g}")
        for t, (e, b) in enumerate(zip(self.max_errors, self.tolerances)):
            lines.append(f"target layer {t}: largest parameter error {e:.3g} (tolerance {b:.3g})")
        misses = len(self.failed)
        lines.append(f"per-parameter tolerances: {'hold' if not misses else f'{misses} parameters above, e.g. ' + str(self.failed[:5])}")
        repair = self.repair
        if repair.get("problems"):
            lines.append(f"repair: {repair['problems']} problems re-solved in {repair['rounds']} rounds, "
                         f"rows added per source layer {repair['added_rows']}")
        domain = f"[-{self.input_bound:g}, {self.input_bound:g}]^d"
        lines.append(f"end-to-end error sup_x max_i |f_i - g_i| over {domain}:")
        if self.output_eps is not None:
            lines.append(f"  requested output_eps   {self.output_eps:.3g}  "
                         f"({'holds' if holds['output_eps'] else 'NOT met'}: certified bound "
                         f"{'<=' if holds['output_eps'] else '>'} output_eps)")
        lines.append(f"  certified bound        {self.certified_bound:.3g}  (this ticket's errors propagated "
                     "neuron by neuron; always valid)")
        if self.lemma_bound is None:
            lines.append("  Lemma 2.8 bound        n/a  (it assumes every parameter within tolerance)")
        else:
            lines.append(f"  Lemma 2.8 bound        {self.lemma_bound:.3g}  (001's a-priori bound for these tolerances)")
        if self.sup_error is None:
            lines.append("  measured               not measured (samples=0)")
        else:
            ratio = (f", {self.certified_bound / self.sup_error:.0f}x below the certified bound"
                     if self.sup_error > 0 else "")
            lines.append(f"  measured               {self.sup_error:.3g}  over {self.samples} random inputs "
                         f"(relative {self.relative_error:.3g}{ratio})")
        return "\n".join(lines)


@dataclass
class Ticket:
    """A pruned source network that approximates a target.

    Attributes
    ----------
    target : TargetNetwork
    shapes : list of (rows, cols), one per source layer
    edges : list of :class:`~.edges.KeptEdges`, the kept weights of every source layer by row
        (``indptr`` int64, ``cols`` int32; each still unpacks as ``rows, cols`` int32 (E,)
        pairs, sorted by row then column; (rows, cols) pairs given here are converted)
    bias_rows : list of int64 arrays (rows whose bias is kept) or None (layers without bias)
    scales : list of float
        Ticket weight = scale * source weight (construction factor times unit scale).
    source : GeneratedSource or UserSource
        The seed that regenerates the source, or the user's arrays.
    er : ERMasks or None
        The Erdős–Rényi masks of the source (regenerated from the seed); the kept edges lie
        inside them.
    metadata : dict
        The construction's settings and statistics (JSON-serialisable).
    errors : list of float64 arrays (n_t, n_{t-1} + 1)
        Largest subset-sum error per target parameter (last column: bias).
    output_bounds : float64 (n_L,)
        Certified bound on ``sup_x |f_i(x) - g_i(x)|`` per output over [-M, M]^d.
    device : str or None
        The device the ticket was built on ("cuda[:N]"), where :meth:`to_module` makes its
        tensors by default; None: the host. Not saved: a loaded ticket's modules are made on the
        host unless ``to_module(device=...)`` says otherwise.
    """

    target: TargetNetwork
    shapes: list
    edges: list
    bias_rows: list
    scales: list
    source: object
    er: ERMasks | None
    metadata: dict
    errors: list
    output_bounds: np.ndarray
    device: str | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.edges = [e if isinstance(e, KeptEdges) else KeptEdges.from_pairs(e[0], e[1], shape[0])
                      for e, shape in zip(self.edges, self.shapes)]

    # ------------------------------------------------------------ structure

    @property
    def depth(self) -> int:
        """Source layers (skip layers not counted)."""
        return len(self.shapes) - len(self.skips)

    @property
    def skips(self) -> list:
        """The skip layers as (into, source, target layer, part, fan) (residual targets; empty
        otherwise); skip layer k is weight matrix ``depth + k``."""
        return [tuple(int(v) for v in sk) for sk in self.metadata.get("skips", ())]

    def _reads(self, m: int) -> tuple:
        """(the source layer weight matrix m reads, -1 for the input; the layer it adds into)."""
        if m < self.depth:
            return m - 1, m
        into, source, *_ = self.skips[m - self.depth]
        return source, into

    @property
    def failed(self) -> list:
        """Target parameters (layer, row, col) whose problems stayed above the tolerance."""
        return [tuple(f) for f in self.metadata["failed"]]

    @property
    def parameters(self) -> int:
        """Kept weights and biases."""
        return int(sum(e.size for e in self.edges) + sum(0 if b is None else b.size for b in self.bias_rows))

    def max_errors(self) -> float:
        """Largest parameter error of the ticket, over every target layer."""
        return float(max(e.max(initial=0.0) for e in self.errors))

    def size_formula(self) -> int | None:
        """For a fixed-size ticket (``subset_size``), the parameter count its construction fixes
        in advance: ``sum`` of the subset edges (k per problem), block edges and constants
        (``metadata["size_formula"]`` lists the subset terms; the structural ones follow from
        ``group_sizes`` and ``constant_neurons``), plus what the repair pass added, if it ran
        (``metadata["size_formula"]["repair"]``). None for other tickets."""
        sf = self.metadata.get("size_formula")
        if sf is None:
            return None
        repaired = 0
        for added in sf.get("repair", ()):
            if "edges" in added:
                repaired += added["edges"]
            else:
                s = added["layer"]
                pairs = isinstance(self.source, GeneratedSource) and self.source.pairs(s) and \
                    self.metadata["roles"][s][0] == "block"
                repaired += self._constant_edges(s, added["constants"], pairs)
        return int(sum(term["count"] for term in sf["terms"]) + self._structure_edges() + repaired)

    def _structure_edges(self) -> int:
        total = 0
        for s, ((kind, _t), size, consts) in enumerate(zip(self.metadata["roles"], self.metadata["group_sizes"],
                                                            self.metadata["constant_neurons"])):
            pairs = isinstance(self.source, GeneratedSource) and self.source.pairs(s) and kind == "block"
            if kind == "block":
                t = _t
                split = len(self.metadata["roles"]) and self._split(s)
                total += self.target.widths[t] * size * (2 if split else 1) * (2 if pairs else 1)
            total += self._constant_edges(s, consts, pairs)
        # constants that sum several previous constants (deep targets) keep more than one edge
        return total + sum(self.metadata.get("constant_extra_edges", ()))

    def _split(self, s) -> bool:
        act = self.target.activation
        return not (isinstance(self.source, GeneratedSource) and self.source.pairs(s)) and act.needs_sign_split

    def _constant_edges(self, s, consts, pairs) -> int:
        if consts == 0:
            return 0
        act = self.target.activation
        if act.intercept != 0 and not pairs:
            return 0
        per = 2 if pairs else 1
        if s > 0 and not (self.source.bias(s, np.zeros(1, np.int64)) is not None):
            prev_pairs = isinstance(self.source, GeneratedSource) and self.source.pairs(s - 1) and \
                self.metadata["roles"][s - 1][0] == "block"
            per *= 2 if prev_pairs else 1
        return consts * per

    def masks(self) -> list:
        """Dense bool masks (rows, cols), one per source layer (PyTorch layout)."""
        if "masks" not in self._cache:
            out = []
            for (rows, cols), shape in zip(self.edges, self.shapes):
                m = np.zeros(shape, dtype=bool)
                m[rows, cols] = True
                out.append(m)
            self._cache["masks"] = out
        return self._cache["masks"]

    def bias_masks(self) -> list:
        """Dense bool bias masks (rows,) or None per source layer."""
        out = []
        for b, shape in zip(self.bias_rows, self.shapes):
            if b is None:
                out.append(None)
            else:
                m = np.zeros(shape[0], dtype=bool)
                m[b] = True
                out.append(m)
        return out

    def source_masks(self) -> list | None:
        """Dense ER masks (None for dense layers), or None for a dense source."""
        if self.er is None:
            return None
        return [self.er.mask(s, np.arange(r), np.arange(c)) for s, (r, c) in enumerate(self.shapes)]

    def weights(self) -> list:
        """Dense source layers [(weight (rows, cols) float32, bias (rows,) or None)]."""
        return [self.source.layer(s, shape) for s, shape in enumerate(self.shapes)]

    def kept_values(self, s: int) -> np.ndarray:
        """Ticket weights (scale included, float64) of the kept edges of layer s, in edge order."""
        rows, cols = self.edges[s]
        return self.scales[s] * self.source.weights(s, rows, cols, outer=False).astype(np.float64)

    def kept_bias(self, s: int) -> np.ndarray:
        """Ticket bias of layer s (float64 (rows,)): scale * bias where kept, 0 elsewhere."""
        out = np.zeros(self.shapes[s][0])
        if self.bias_rows[s] is not None and self.bias_rows[s].size:
            out[self.bias_rows[s]] = self.scales[s] * self.source.bias(s, self.bias_rows[s]).astype(np.float64)
        return out

    def _activations(self):
        return [self.target.activation] * (self.depth - 1) + [self.target.output_activation]

    def _sparse_layers(self):
        """Per source layer (indptr, int64 cols, float64 values, bias), the first three None for
        a layer above FORWARD_CACHE_EDGES kept edges (evaluated by :meth:`_product` in blocks)."""
        if "sparse" not in self._cache:
            layers = []
            for s, e in enumerate(self.edges):
                if e.size > FORWARD_CACHE_EDGES:
                    layers.append((None, None, None, self.kept_bias(s)))
                else:
                    layers.append((e.indptr, e.cols.astype(np.int64), self.kept_values(s), self.kept_bias(s)))
            self._cache["sparse"] = layers
        return self._cache["sparse"]

    def _product(self, s: int, x) -> np.ndarray:
        """``W_s @ x`` over the kept edges of layer s: x float64 (features, batch) -> (rows,
        batch). A layer too large to cache regenerates its kept weights by row blocks of about
        FORWARD_BLOCK_EDGES edges, so memory stays O(block), not O(kept edges)."""
        from ._kernels import csr_matmul

        indptr, cols, vals, _bias = self._sparse_layers()[s]
        if indptr is not None:
            return csr_matmul(indptr, cols, vals, x)
        e = self.edges[s]
        out = np.empty((e.n_rows, x.shape[1]))
        for r0, r1, block_cols in e.row_blocks(FORWARD_BLOCK_EDGES):
            block = e.indptr[r0:r1 + 1] - e.indptr[r0]
            rows = np.repeat(np.arange(r0, r1, dtype=np.int64), np.diff(block))
            block_cols = block_cols.astype(np.int64)
            values = self.scales[s] * self.source.weights(s, rows, block_cols, outer=False).astype(np.float64)
            out[r0:r1] = csr_matmul(block, block_cols, values, x)
        return out

    # ------------------------------------------------------------ evaluation

    def forward(self, x) -> np.ndarray:
        """Ticket outputs (B, n_L) float64 for inputs x (B, n_0), through the kept edges only.

        >>> import numpy as np
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5]]), np.array([0.25]))])
        >>> bool(abs(t.forward(np.array([[1.0]]))[0, 0] - 0.75) <= t.error_bound())
        True
        """
        x = _check_inputs(x, self.target.input_shape)
        out = np.empty((x.shape[0], int(np.prod(self.target.output_shape))))
        step = self._batch_step()
        for lo in range(0, x.shape[0], step):
            out[lo:lo + step] = self._forward(x[lo:lo + step])
        return out

    def _batch_step(self) -> int:
        """Inputs per forward chunk: a convolution unfolds every output position, so chunks of
        a convolutional ticket keep its largest unfolded input near 16 M values (128 MB)."""
        if not self.target.convolutional:
            return 4096
        if "batch_step" not in self._cache:
            widest = max(op.features * max(1, int(np.prod(op.out_size or (1,)))) for op in self.layer_ops())
            self._cache["batch_step"] = int(max(1, min(4096, (1 << 24) // max(1, widest))))
        return self._cache["batch_step"]

    def layer_ops(self) -> list:
        """How each source layer reads its input (:class:`~.maps.LayerOp`): a block is a 1x1
        convolution on a map (a linear layer on a vector), a combine layer reads like its target
        layer, over the previous source layer's channels; a pooling goes with the first source
        layer of its target layer."""
        if "ops" not in self._cache:
            ops = []
            roles = self.metadata["roles"]
            for s, ((kind, t), shape) in enumerate(zip(roles, self.shapes)):
                op = self.target.op(t)
                if kind == "block":
                    op = op.pointwise()
                elif s > 0 and roles[s - 1][0] == "block":
                    op = op.unpooled()  # its block pooled already
                ops.append(op.with_channels(shape[1] // op.fan))
            for (_into, source, t, part, _fan), shape in zip(self.skips, self.shapes[self.depth:]):
                op = self.target.skips[t][part - 1][1]
                if roles[source][0] == "block":
                    op = op.unpooled()
                ops.append(op.with_channels(shape[1] // op.fan))
            self._cache["ops"] = ops
        return self._cache["ops"]

    def _forward(self, x):
        if self.skips:
            return self._dag_forward(x)
        if not self.target.convolutional:
            h = np.ascontiguousarray(x.T)  # (features, batch): rows of the next layer read columns
            for s, ((*_, bias), act) in enumerate(zip(self._sparse_layers(), self._activations())):
                h = self._product(s, h) + bias[:, None]
                if act is not None:
                    h = act(h)
            return h.T
        h = x
        for s, ((*_, bias), act, op) in enumerate(zip(self._sparse_layers(), self._activations(), self.layer_ops())):
            patches = op.patches(h)  # (B, features, positions)
            batch, features, positions = patches.shape
            flat = np.ascontiguousarray(patches.transpose(1, 0, 2)).reshape(features, batch * positions)
            flat = self._product(s, flat) + bias[:, None]
            if act is not None:
                flat = act(flat)
            h = op.output(flat.reshape(-1, batch, positions).transpose(1, 0, 2))
        return h.reshape(h.shape[0], -1)

    def _dag_forward(self, x):
        """:meth:`_forward` with skip layers: each layer adds its skip layers' products before
        its activation; outputs are dropped after their last reader."""
        readers = {}
        for m in range(len(self.shapes)):
            source, into = self._reads(m)
            readers[source] = max(readers.get(source, 0), into)
        sparse, ops = self._sparse_layers(), self.layer_ops()
        skips_into = {}
        for k, sk in enumerate(self.skips):
            skips_into.setdefault(sk[0], []).append(self.depth + k)
        outs = {-1: x}
        for s, act in enumerate(self._activations()):
            pre = None
            for m in [s] + skips_into.get(s, []):
                bias = sparse[m][3]
                op = ops[m]
                patches = op.patches(outs[self._reads(m)[0]])  # (B, features, positions)
                batch, features, positions = patches.shape
                flat = np.ascontiguousarray(patches.transpose(1, 0, 2)).reshape(features, batch * positions)
                part = self._product(m, flat)
                pre = part + bias[:, None] if pre is None else pre + part
            if act is not None:
                pre = act(pre)
            outs[s] = ops[s].output(pre.reshape(-1, batch, positions).transpose(1, 0, 2))
            for done in [p for p in outs if p < s and readers.get(p, -1) <= s]:
                del outs[done]
        h = outs[self.depth - 1]
        return h.reshape(h.shape[0], -1)

    def verify(self, x) -> float:
        """Largest ``|f_target(x) - f_ticket(x)|`` over the inputs x (B, n_0) and the outputs.

        >>> import numpy as np
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> bool(t.verify(np.random.default_rng(0).uniform(-1, 1, (100, 2))) <= t.error_bound())
        True
        """
        x = _check_inputs(x, self.target.input_shape)
        worst = 0.0
        step = self._batch_step()
        for lo in range(0, x.shape[0], step):
            xb = x[lo:lo + step]
            worst = max(worst, float(np.abs(self._forward(xb) - self.target.forward(xb)).max(initial=0.0)))
        return worst

    def error_bound(self) -> float:
        """Certified bound on ``sup_x max_i |f_target,i(x) - f_ticket,i(x)|`` over
        ``[-input_bound, input_bound]^d``: the errors of this ticket's subsets propagated neuron
        by neuron (:mod:`subsetsum.tickets.bounds`); valid whether or not a parameter missed."""
        return float(np.max(self.output_bounds, initial=0.0))

    def lemma_bound(self) -> float | None:
        """001's Lemma 2.8 bound for the ticket's tolerances, or None when some parameter missed
        its tolerance (the lemma then does not apply)."""
        if self.failed:
            return None
        return lemma_2_8_bound(self.target, self.metadata["tolerances"], self.metadata["input_bound"])

    def report(self, *, samples: int | None = None, seed: int = 0) -> TicketReport:
        """The ticket's size against the target's nonzero parameters (001, Table 1), what was
        folded into the target, parameters and neurons per source layer, per-layer largest errors
        against their tolerances, and the end-to-end error: requested, certified, Lemma 2.8, and
        measured over ``samples`` uniform random inputs of [-M, M]^d (default 10,000; 1,000 for
        a convolutional target, whose every sample runs the convolutions at every position;
        fewer, down to REPORT_MIN_SAMPLES, where the ticket's kept edges times the samples would
        pass REPORT_EDGE_EVALUATIONS). ``samples=0`` skips the measurement (``sup_error`` None).

        >>> import numpy as np
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> r = t.report(samples=100)
        >>> r.layers[-1].neurons, r.failed, r.holds()["tolerances"]
        (1, [], True)
        >>> r.target_parameters, r.parameters == round(r.target_ratio * r.target_parameters)
        (3, True)
        """
        if samples is None:
            samples = 1_000 if self.target.convolutional else 10_000
            kept = sum(e.size for e in self.edges)
            samples = min(samples, max(REPORT_MIN_SAMPLES, REPORT_EDGE_EVALUATIONS // max(1, kept)))
        samples = check_int("samples", samples, 0)
        layers = []
        for s, (e, shape) in enumerate(zip(self.edges, self.shapes)):
            b = self.bias_rows[s]
            params = int(e.size + (0 if b is None else b.size))
            size = shape[0] * shape[1] + (0 if b is None else shape[0])
            if s >= self.depth:  # a skip layer: the rows it adds into
                neurons = int(np.count_nonzero(e.counts()))
            elif s + 1 < self.depth:
                neurons = int(self.alive_neurons()[s].size)
            else:
                neurons = self.target.widths[-1]
            layers.append(LayerStats(params, neurons, size, params / size))
        m = float(self.metadata["input_bound"])
        sup = relative = None
        if samples:
            x = np.random.default_rng(seed).uniform(-m, m, size=(samples, *self.target.input_shape))
            sup = self.verify(x)
            scale = float(self.target.output_range(m).max(initial=0.0))
            relative = sup / scale if scale > 0 else float("nan")
        return TicketReport(
            method=self.metadata["method"], layers=layers, target_parameters=self.target.num_parameters,
            tolerances=list(self.metadata["tolerances"]),
            max_errors=[float(e.max(initial=0.0)) for e in self.errors], failed=self.failed,
            output_eps=self.metadata["output_eps"], lemma_bound=self.lemma_bound(),
            certified_bound=self.error_bound(), sup_error=sup, relative_error=relative,
            samples=samples, input_bound=m, seconds=float(self.metadata["seconds"]), repair=self.metadata["repair"],
            target_total_parameters=self.target.total_parameters, folded=tuple(self.target.folded),
        )

    # ------------------------------------------------------------ export

    def alive_neurons(self) -> list:
        """Per source layer, the rows some kept edge of the next layer reads (all outputs for the
        last layer): what :meth:`to_module` keeps with ``compact=True``."""
        out = []
        ops = self.layer_ops()
        for s in range(self.depth):
            if s + 1 < self.depth:
                used = np.zeros(self.shapes[s][0], bool)
                for m in [s + 1] + [m for m in range(self.depth, len(self.shapes))
                                    if self._reads(m)[0] == s]:  # and the skip layers that read it
                    fan = ops[m].fan
                    used |= self.edges[m].columns_used(self.shapes[m][1]).reshape(-1, fan).any(axis=1)
                out.append(np.flatnonzero(used))
            else:
                out.append(np.arange(self.shapes[s][0]))
        return out

    def to_module(self, *, compact: bool = False, baked: bool = False, sparse=None, device=None):
        """A torch ``nn.Sequential`` of Linear layers with the target's activations.

        ``compact=False``: the source's full Linear layers, each carrying ``weight_orig`` and
        ``weight_mask`` (and ``bias_orig``/``bias_mask``) exactly as ``torch.nn.utils.prune``
        leaves them, so ``prune.remove`` works (this materialises the whole source);
        ``compact=True``: only the neurons some kept edge uses (:meth:`alive_neurons`), with the
        same outputs. ``baked=True``: plain Linear layers with the masks applied. Weights are
        float32 and include the scale factors. A ticket with skip layers (a residual target)
        becomes a :class:`~.modules.ResidualTicket`: the same layers, with each skip layer's
        module added before the activation of the layer it joins.

        ``sparse=True``: fully connected layers become :class:`~.modules.SparseLinear` layers
        holding only the kept weights (sparse COO; only those weights are regenerated, so memory
        follows the kept edges, not the source; ``baked`` is implied); convolutions stay dense.
        ``sparse=None`` (default): sparse when the dense layers would hold more than
        :data:`SPARSE_ABOVE` weights, else dense.

        ``device``: where the module's tensors are made (default: the device the ticket was built
        on, :attr:`device`, else the host); a generated source's weights are drawn there and the
        masks assembled there, nothing of the source passes through the host.

        >>> import numpy as np, torch
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> m = t.to_module()
        >>> hasattr(m[0], "weight_mask"), tuple(m(torch.zeros(1, 2)).shape)
        (True, (1, 1))
        >>> c = t.to_module(compact=True)
        >>> c[0].out_features < m[0].out_features
        True
        >>> s = t.to_module(sparse=True)
        >>> type(s[0]).__name__, s[0].weight._nnz() == t.edges[0][0].size
        ('SparseLinear', True)
        """
        import torch
        from torch import nn

        device = torch.device(device if device is not None else (self.device or "cpu"))
        alive = self.alive_neurons()
        if sparse is None:
            if compact:  # the layers' kept neurons times their kept inputs (skip layers aside)
                ops = self.layer_ops()
                inputs = [self.target.widths[0]] + [a.size for a in alive[:-1]]
                dense = sum(a.size * n_in * ops[s].fan for s, (a, n_in) in enumerate(zip(alive, inputs)))
            else:
                dense = sum(r * c for r, c in self.shapes)
            sparse = dense > SPARSE_ABOVE
        elif not isinstance(sparse, bool):
            raise TypeError(f"sparse: expected None, True or False, got {sparse!r}")
        if self.skips:
            from .modules import ResidualTicket

            keep = {-1: np.arange(self.target.widths[0]), **dict(enumerate(alive))}
            layers = [self._export(m, keep[self._reads(m)[0]], keep[self._reads(m)[1]], compact, baked, sparse, device)
                      for m in range(len(self.shapes))]
            acts = [nn.Identity() if act is None else act.to_torch() for act in self._activations()]
            return ResidualTicket(layers[:self.depth], layers[self.depth:], [sk[0] for sk in self.skips],
                                  [sk[1] for sk in self.skips], acts)
        keep_in = np.arange(self.target.widths[0])
        modules = []
        for s, act in enumerate(self._activations()):
            modules += list(self._export(s, keep_in, alive[s], compact, baked, sparse, device))
            keep_in = alive[s]
            if act is not None:
                modules.append(act.to_torch())
        return nn.Sequential(*modules)

    def _export(self, s: int, keep_in, keep_out, compact: bool, baked: bool, sparse: bool, device):
        """Weight matrix s as torch modules on ``device``: its pooling and flatten (if any), then
        an nn.Conv2d or nn.Linear carrying its mask as ``torch.nn.utils.prune`` leaves it
        (``baked``: applied; ``sparse``: a SparseLinear of the kept weights for a fully connected
        layer); ``compact``: only the rows ``keep_out`` and the input channels ``keep_in``. The
        weights are drawn and the masks assembled on ``device`` (a generated source's Philox
        gathers run there)."""
        import torch
        from torch import nn
        from torch.nn.utils import prune

        op = self.layer_ops()[s]
        if sparse and op.kind != "conv":
            return self._export_sparse(s, op, keep_in, keep_out, compact, device)
        rows, cols = self._edge_tensors(s, device)
        has_bias = self.bias_rows[s] is not None
        bmask = None
        if compact:
            row_pos, col_pos = (torch.as_tensor(a, device=device)
                                for a in self._compact_positions(s, op.fan, keep_in, keep_out))
            r, c = row_pos[rows], col_pos[cols]
            sel = (r >= 0) & (c >= 0)
            r, c = r[sel], c[sel]
            shape = (keep_out.size, keep_in.size * op.fan)
            weight = torch.zeros(shape, dtype=torch.float32, device=device)
            weight[r, c] = self._kept_values_tensor(s, rows, cols)[sel].to(torch.float32)
            mask = torch.zeros(shape, dtype=torch.bool, device=device)
            mask[r, c] = True
            bias = torch.as_tensor(self.kept_bias(s)[keep_out].astype(np.float32), device=device) if has_bias else None
            if has_bias:
                bmask = torch.as_tensor(np.isin(keep_out, self.bias_rows[s]), device=device)
        else:
            n_rows, n_cols = self.shapes[s]
            scale = torch.tensor(np.float32(self.scales[s]), device=device)  # float32 products, as the ticket's weights
            weight = self.source.weights_tensor(s, torch.arange(n_rows, device=device),
                                                torch.arange(n_cols, device=device)) * scale
            mask = torch.zeros(self.shapes[s], dtype=torch.bool, device=device)
            mask[rows, cols] = True
            b = self.source.bias(s, np.arange(n_rows))
            bias = None if b is None else torch.as_tensor(np.asarray(b, np.float32), device=device) * scale
            if has_bias:
                bmask = torch.zeros(n_rows, dtype=torch.bool, device=device)
                bmask[torch.as_tensor(self.bias_rows[s], device=device)] = True
        modules = _pooling_modules(op)
        if op.kind == "conv":
            lin = nn.Conv2d(weight.shape[1] // op.fan, weight.shape[0], op.kernel, stride=op.stride,
                            padding=op.padding, dilation=op.dilation, bias=has_bias, device=device)
            weight = weight.reshape(lin.weight.shape)
            mask = mask.reshape(lin.weight.shape)
        else:
            lin = nn.Linear(weight.shape[1], weight.shape[0], bias=has_bias, device=device)
            if op.in_size:
                modules.append(nn.Flatten())
        with torch.no_grad():
            lin.weight.copy_(weight * mask if baked else weight)
            if has_bias:
                lin.bias.copy_(bias * bmask if baked else bias)
        if not baked:
            prune.custom_from_mask(lin, "weight", mask)
            if has_bias:
                prune.custom_from_mask(lin, "bias", bmask)
        modules.append(lin)
        return nn.Sequential(*modules)

    def _edge_tensors(self, s: int, device):
        """The kept edges of weight matrix s as int64 (rows, cols) tensors on ``device``."""
        import torch

        rows, cols = self.edges[s]
        return (torch.as_tensor(np.asarray(rows, np.int64), device=device),
                torch.as_tensor(np.asarray(cols, np.int64), device=device))

    def _kept_values_tensor(self, s: int, rows, cols):
        """:meth:`kept_values` at edge tensors ``rows``, ``cols``, drawn on their device."""
        import torch

        return self.scales[s] * self.source.weights_tensor(s, rows, cols, outer=False).to(torch.float64)

    def _compact_positions(self, s: int, fan: int, keep_in, keep_out):
        """Where rows and lowered columns of weight matrix s land in its compact form (-1:
        dropped): rows ``keep_out`` in order, and the ``fan`` columns of every input channel of
        ``keep_in``."""
        row_pos = np.full(self.shapes[s][0], -1, np.int64)
        row_pos[keep_out] = np.arange(keep_out.size)
        channel_pos = np.full(self.shapes[s][1] // fan, -1, np.int64)
        channel_pos[keep_in] = np.arange(keep_in.size)
        col_pos = (channel_pos[:, None] * fan + np.arange(fan)[None, :]).ravel()
        col_pos[np.repeat(channel_pos < 0, fan)] = -1
        return row_pos, col_pos

    def _export_sparse(self, s: int, op, keep_in, keep_out, compact: bool, device):
        """A fully connected weight matrix s as its pooling and flatten (if any) and a
        :class:`~.modules.SparseLinear` of the kept weights on ``device`` (``compact``: rows
        ``keep_out``, input channels ``keep_in`` only)."""
        import torch
        from torch import nn

        from .modules import SparseLinear

        rows, cols = self._edge_tensors(s, device)
        values = self._kept_values_tensor(s, rows, cols).to(torch.float32)
        n_out, n_in = self.shapes[s]
        out_index = np.arange(n_out)
        if compact:
            row_pos, col_pos = (torch.as_tensor(a, device=device)
                                for a in self._compact_positions(s, op.fan, keep_in, keep_out))
            r, c = row_pos[rows], col_pos[cols]
            sel = (r >= 0) & (c >= 0)
            rows, cols, values = r[sel], c[sel], values[sel]
            n_out, n_in = keep_out.size, keep_in.size * op.fan
            out_index = keep_out
        bias = None
        if self.bias_rows[s] is not None:
            bias = torch.as_tensor(self.kept_bias(s)[out_index].astype(np.float32), device=device)
        modules = _pooling_modules(op)
        if op.in_size:
            modules.append(nn.Flatten())
        modules.append(SparseLinear(n_in, n_out, rows, cols, values, bias))
        return nn.Sequential(*modules)

    def save(self, path) -> None:
        """Write the ticket to ``path`` (safetensors + JSON header). Kept edges are stored as
        they are held (rows of varint column gaps, about 1 byte per edge, :mod:`.edges`) or as
        packed bits, whichever is smaller per layer; a generated source and its ER masks are
        stored as their seed.

        >>> import numpy as np, tempfile, os
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
        >>> t.save(path)
        >>> u = Ticket.load(path)
        >>> all((a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(t.edges, u.edges))
        True
        """
        tensors = {}
        storage = []
        for s, (e, shape) in enumerate(zip(self.edges, self.shapes)):
            if e.nbytes <= (shape[0] * shape[1] + 7) // 8:
                tensors[f"edges.indptr.{s}"] = e.indptr
                tensors[f"edges.byteptr.{s}"] = e.byteptr
                tensors[f"edges.varint.{s}"] = e.data
                storage.append("varint")
            else:
                tensors[f"edges.bits.{s}"] = e.packed_bits(shape[1])
                storage.append("bits")
            if self.bias_rows[s] is not None:
                tensors[f"bias_rows.{s}"] = self.bias_rows[s].astype(np.int32)
        for t, (w, b) in enumerate(zip(self.target.weights, self.target.biases)):
            tensors[f"target.weight.{t}"] = np.ascontiguousarray(w)
            tensors[f"target.bias.{t}"] = np.ascontiguousarray(b)
            tensors[f"errors.{t}"] = np.ascontiguousarray(self.errors[t])
        tensors["output_bounds"] = np.ascontiguousarray(self.output_bounds, dtype=np.float64)
        if isinstance(self.source, UserSource):
            for s, (w, b) in enumerate(self.source.layers):
                tensors[f"source.weight.{s}"] = np.ascontiguousarray(w)
                if b is not None:
                    tensors[f"source.bias.{s}"] = np.ascontiguousarray(b)
        header = {
            "format": _FORMAT,
            "shapes": [list(s) for s in self.shapes],
            "storage": storage,
            "bias": [b is not None for b in self.bias_rows],
            "scales": [float(s) for s in self.scales],
            "target": self.target.to_json(),
            "source": self.source.to_json(),
            "er": None if self.er is None else self.er.to_json(),
            "metadata": self.metadata,
        }
        header["checksums"] = _checksums(header, tensors)
        _write_safetensors(path, tensors, {"subsetsum": json.dumps(header)})

    @classmethod
    def load(cls, path) -> "Ticket":
        """Read a ticket written by :meth:`save`, checking every field against its checksum and
        the arrays against the header (a changed file raises ValueError naming the field)."""
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}
        except (OSError, ValueError) as exc:
            raise ValueError(f"path: cannot read {path} as a safetensors file ({exc})") from exc
        if "subsetsum" not in meta:
            raise ValueError(f"path: {path} is not a ticket written by Ticket.save")
        try:
            header = json.loads(meta["subsetsum"])
        except json.JSONDecodeError as exc:
            raise ValueError(f"path: {path}: the ticket header is not valid JSON ({exc})") from exc
        if header.get("format") not in _READS:
            raise ValueError(f"path: unsupported ticket format {header.get('format')!r} in {path} (this version "
                             f"reads {', '.join(_READS)}; rebuild the ticket with construct_ticket)")
        for key in _HEADER_FIELDS + ("checksums",):
            if key not in header:
                raise ValueError(f"path: {path}: the ticket header lacks the field {key!r}")
        stored = header["checksums"]
        actual = _checksums(header, tensors)
        for name in sorted(set(stored) | set(actual)):
            if stored.get(name) != actual.get(name):
                what = "is missing" if name not in actual else "was added" if name not in stored else "was changed"
                raise ValueError(f"path: {path}: field {name!r} {what} after the ticket was saved (checksum mismatch)")
        shapes = [tuple(int(x) for x in s) for s in header["shapes"]]
        edges = []
        for s, (shape, how) in enumerate(zip(shapes, header["storage"])):
            edges.append(_read_edges(tensors, s, shape, how, path))
        bias_rows = [tensors[f"bias_rows.{s}"].astype(np.int64) if has else None
                     for s, has in enumerate(header["bias"])]
        depth = sum(1 for k in tensors if k.startswith("target.weight."))
        tj = header["target"]
        act = get_activation(tj["activation"]["name"], negative_slope=tj["activation"]["negative_slope"] or 0.01)
        out_act = None
        if tj["output_activation"] is not None:
            oa = tj["output_activation"]
            out_act = get_activation(oa["name"], negative_slope=oa["negative_slope"] or 0.01)
        target = TargetNetwork([tensors[f"target.weight.{t}"] for t in range(depth)],
                               [tensors[f"target.bias.{t}"] for t in range(depth)], act, out_act,
                               tuple(tj.get("folded", ())),  # files written before folding lack the field
                               tuple(LayerOp.from_json(op) for op in tj.get("ops", ())),
                               tuple(tuple((int(p), LayerOp.from_json(op)) for p, op in parts)
                                     for parts in tj.get("skips", ())))
        for t, w in enumerate(target.weights):
            features = sum(op.features for _p, op, _col in target.parts(t))
            if w.shape[1] != features:
                raise ValueError(f"path: {path}: target layer {t} has {w.shape[1]} input features, its inputs "
                                 f"{[op for _p, op, _c in target.parts(t)]} read {features}")
        last = len(shapes) - len(header["metadata"].get("skips", ())) - 1
        if shapes[0][1] != target.widths[0] or shapes[last][0] != target.widths[-1]:
            raise ValueError(f"path: {path}: the source shapes {shapes} do not fit the target's widths {target.widths}")
        sj = header["source"]
        if sj["kind"] == "user":
            source = UserSource([(tensors[f"source.weight.{s}"], tensors.get(f"source.bias.{s}"))
                                 for s in range(len(shapes))])
        else:
            source = GeneratedSource(sj["seed"], list(sj["inits"]), list(sj["biases"]), tuple(sj.get("fans", ())))
        er = None if header["er"] is None else ERMasks(header["er"]["seed"], list(header["er"]["densities"]))
        errors = [tensors[f"errors.{t}"] for t in range(depth)]
        return cls(target, shapes, edges, bias_rows, header["scales"], source, er, header["metadata"], errors,
                   tensors["output_bounds"])


_HEADER_FIELDS = ("shapes", "storage", "bias", "scales", "target", "source", "er", "metadata")


def _read_edges(tensors: dict, s: int, shape: tuple, how: str, path) -> KeptEdges:
    """Source layer s's kept edges as :meth:`Ticket.save` stored them (``how``: "varint", "bits",
    format /3's "rows" or /2's "indices"), checked against the layer's shape."""
    if how in ("varint", "rows"):
        indptr = tensors[f"edges.indptr.{s}"]
        n_edges = tensors[f"edges.cols.{s}"].size if how == "rows" else None
        if (indptr.ndim != 1 or indptr.size != shape[0] + 1 or indptr[0] != 0
                or (n_edges is not None and indptr[-1] != n_edges) or (np.diff(indptr) < 0).any()):
            raise ValueError(f"path: {path}: the row offsets of source layer {s} do not fit its {shape[0]} rows "
                             f"and its kept edges")
        try:
            if how == "rows":
                edges = KeptEdges(indptr, tensors[f"edges.cols.{s}"])
            else:
                edges = KeptEdges.from_encoded(indptr, tensors[f"edges.byteptr.{s}"], tensors[f"edges.varint.{s}"])
        except ValueError as exc:
            raise ValueError(f"path: {path}: the kept edges of source layer {s} are damaged ({exc})") from None
    elif how == "bits":
        bits = tensors[f"edges.bits.{s}"]
        if bits.ndim != 1 or bits.size != (shape[0] * shape[1] + 7) // 8:
            raise ValueError(f"path: {path}: the packed bits of source layer {s} do not fit its shape {shape}")
        edges = KeptEdges.from_packed_bits(bits, shape)
    elif how == "indices":
        rows, cols = tensors[f"edges.rows.{s}"], tensors[f"edges.cols.{s}"]
        if rows.size and (rows.max() >= shape[0] or rows.min() < 0):
            raise ValueError(f"path: {path}: the kept edges of source layer {s} lie outside its shape {shape}")
        edges = KeptEdges.from_pairs(rows, cols, shape[0])
    else:
        raise ValueError(f"path: {path}: unknown edge storage {how!r} for source layer {s}")
    try:
        highest = max((int(cols.max()) for _r0, _r1, cols in edges.row_blocks() if cols.size), default=-1)
    except ValueError as exc:
        raise ValueError(f"path: {path}: the kept edges of source layer {s} are damaged ({exc})") from None
    if highest >= shape[1]:
        raise ValueError(f"path: {path}: the kept edges of source layer {s} lie outside its shape {shape}")
    return edges


def _pooling_modules(op) -> list:
    """The torch pooling module a layer reads its input through (empty without one)."""
    from torch import nn

    if not op.pool:
        return []
    how, kernel, stride, padding, _size = op.pool
    return [nn.AvgPool2d(kernel, stride, padding) if how == "avg" else nn.MaxPool2d(kernel, stride, padding)]


def _raw_bytes(arr) -> np.ndarray:
    """The bytes of an array in C order, as a uint8 view (no copy when it is contiguous)."""
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


def _safetensors_dtype(dtype) -> str:
    """safetensors' name of a numpy dtype (bool, integers, floats; little-endian)."""
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in "iuf" and dtype.byteorder in "=<|" and dtype.itemsize in (1, 2, 4, 8):
        return {"i": "I", "u": "U", "f": "F"}[dtype.kind] + str(8 * dtype.itemsize)
    raise TypeError(f"tensors: dtype {dtype} has no safetensors name")


def _write_safetensors(path, tensors: dict, metadata: dict) -> None:
    """Write ``tensors`` (name -> numpy array) and ``metadata`` (str -> str) as a safetensors
    file, array by array: ``safetensors.numpy.save_file`` first copies every array into one
    bytes object, which doubles the memory of a large ticket while it saves.

    The format: an 8-byte little-endian header length, the JSON header (name -> dtype, shape and
    [begin, end) byte offsets into the data that follows; ``__metadata__``), padded with spaces
    to a multiple of 8 bytes, then the arrays' bytes back to back in the header's order."""
    entries, offset = {}, 0
    names = sorted(tensors)
    for name in names:
        arr = tensors[name] = np.asarray(tensors[name])
        if arr.dtype.byteorder == ">":
            arr = tensors[name] = arr.astype(arr.dtype.newbyteorder("<"))
        entries[name] = {"dtype": _safetensors_dtype(arr.dtype), "shape": list(arr.shape),
                         "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    head = json.dumps({"__metadata__": metadata, **entries}, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for name in names:
            f.write(_raw_bytes(tensors[name]))


def _checksums(header: dict, tensors: dict) -> dict:
    """SHA-256 of every header field and every array (dtype, shape and bytes), by name."""
    import hashlib

    out = {}
    for key in _HEADER_FIELDS:
        out[key] = hashlib.sha256(json.dumps(header.get(key), sort_keys=True).encode()).hexdigest()
    for name, arr in tensors.items():
        h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(_raw_bytes(arr))
        out[name] = h.hexdigest()
    return out


def _check_inputs(x, shape) -> np.ndarray:
    """x as float64 (B, *shape) (or flattened (B, prod(shape)) for a map), checked."""
    if type(x).__module__.split(".")[0] == "torch":
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    shape = tuple(shape)
    size = int(np.prod(shape))
    if x.ndim < 2 or (tuple(x.shape[1:]) != shape and tuple(x.shape[1:]) != (size,)):
        expected = f"(B, {', '.join(map(str, shape))})" + (f" or (B, {size})" if len(shape) > 1 else "")
        raise ValueError(f"x: expected shape {expected}, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x: expected finite values, found NaN or inf")
    return x
