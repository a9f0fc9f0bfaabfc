"""The :class:`Ticket` that :func:`~subsetsum.construct_ticket` returns: masks, scales, errors,
report, torch module, save/load.

A ticket computes ``x -> act(x @ (scale_l * W_l * mask_l).T + scale_l * b_l * bias_mask_l)``
layer by layer (PyTorch layout, W_l of shape (out, in)); the hidden activation is the target's,
the last layer uses the target's output activation (or none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_int
from .activations import get_activation
from .graph import TargetNetwork
from .source import GeneratedSource

__all__ = ["Ticket", "TicketReport", "LayerStats"]

_FORMAT = "subsetsum.ticket/1"


@dataclass
class LayerStats:
    """One source layer of a ticket: kept parameters and neurons, size, density."""

    parameters: int
    neurons: int
    source_parameters: int
    density: float


@dataclass
class TicketReport:
    """What :meth:`Ticket.report` measured.

    layers : list of LayerStats (per source layer); max_errors / eps : per target layer, the
    largest per-parameter error and its budget; failed : target parameters (layer, row, col)
    that missed the tolerance; sup_error : largest |f_target - f_ticket| over ``samples``
    uniform inputs of [-1, 1]^d; error_bound : Lemma 2.8 bound (valid when nothing failed).
    """

    method: str
    layers: list
    target_parameters: int
    max_errors: list
    eps: list
    failed: list
    sup_error: float
    samples: int
    error_bound: float
    seconds: float

    @property
    def parameters(self) -> int:
        return sum(layer.parameters for layer in self.layers)

    @property
    def density(self) -> float:
        return self.parameters / max(1, sum(layer.source_parameters for layer in self.layers))

    def __str__(self) -> str:
        lines = [f"{self.method} ticket: {self.parameters} parameters (target {self.target_parameters}), "
                 f"density {self.density:.4g}, built in {self.seconds:.2f} s",
                 "layer  parameters  neurons  density"]
        for s, layer in enumerate(self.layers):
            lines.append(f"{s:5d}  {layer.parameters:10d}  {layer.neurons:7d}  {layer.density:.4g}")
        for t, (e, b) in enumerate(zip(self.max_errors, self.eps)):
            lines.append(f"target layer {t}: largest parameter error {e:.3g} (eps {b:.3g})")
        lines.append(f"parameters missing eps: {len(self.failed)}" +
                     (f", e.g. {self.failed[:5]}" if self.failed else ""))
        lines.append(f"end-to-end sup error over {self.samples} inputs: {self.sup_error:.3g} "
                     f"(bound {self.error_bound:.3g})")
        return "\n".join(lines)


@dataclass
class Ticket:
    """A pruned source network that approximates a target.

    Attributes
    ----------
    target : TargetNetwork
    masks : list of bool arrays (out, in), one per source layer (PyTorch layout)
    bias_masks : list of bool arrays (out,) or None (layers without bias)
    source_masks : list of bool arrays (out, in) or None
        The ER masks (None entries or None for a dense source); ``masks`` lie inside them.
    scales : list of float
        Ticket weight = scale * source weight (construction factor times unit scale).
    source : GeneratedSource or list of (weight float32, bias or None)
        The seed and shapes that regenerate the source, or the user's arrays.
    metadata : dict
        The construction's settings and statistics (JSON-serialisable).
    errors : list of float64 arrays (n_t, n_{t-1} + 1)
        Largest subset-sum error per target parameter (last column: bias).
    """

    target: TargetNetwork
    masks: list
    bias_masks: list
    source_masks: list | None
    scales: list
    source: object
    metadata: dict
    errors: list
    _weights_cache: list | None = field(default=None, repr=False, compare=False)

    @property
    def weights(self) -> list:
        """Source layers [(weight (out, in) float32, bias (out,) or None)] (regenerated from the
        seed for a generated source)."""
        if self._weights_cache is None:
            if isinstance(self.source, GeneratedSource):
                self._weights_cache = [self.source.layer(s) for s in range(len(self.masks))]
            else:
                self._weights_cache = list(self.source)
        return self._weights_cache

    @property
    def failed(self) -> list:
        """Target parameters (layer, row, col) whose problems missed the tolerance."""
        return [tuple(f) for f in self.metadata["failed"]]

    def _activations(self):
        acts = [self.target.activation] * (len(self.masks) - 1) + [self.target.output_activation]
        return acts

    def _effective_layers(self):
        """[(matrix (out, in), bias (out,) float64)]; sparse CSR when scipy is installed."""
        try:
            from scipy import sparse
        except ImportError:
            sparse = None
        layers = []
        for (w, b), m, bm, scale in zip(self.weights, self.masks, self.bias_masks, self.scales):
            rows, cols = np.nonzero(m)
            vals = scale * w[rows, cols].astype(np.float64)
            if sparse is not None:
                mat = sparse.csr_matrix((vals, (rows, cols)), shape=m.shape)
            else:
                mat = np.zeros(m.shape)
                mat[rows, cols] = vals
            bias = np.zeros(m.shape[0]) if b is None else np.where(bm, scale * b.astype(np.float64), 0.0)
            layers.append((mat, bias))
        return layers

    def forward(self, x) -> np.ndarray:
        """Ticket outputs (B, n_L) float64 for inputs x (B, n_0), with numpy (and scipy when present).

        >>> import numpy as np
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5]]), np.array([0.25]))], rho=12)
        >>> bool(abs(t.forward(np.array([[1.0]]))[0, 0] - 0.75) < 0.03)
        True
        """
        x = _check_inputs(x, self.target.widths[0])
        layers = self._effective_layers()
        return self._forward(x, layers)

    def _forward(self, x, layers):
        h = x
        for (mat, bias), act in zip(layers, self._activations()):
            h = np.asarray((mat @ h.T).T) + bias
            if act is not None:
                h = act(h)
        return h

    def verify(self, x) -> float:
        """Largest ``|f_target(x) - f_ticket(x)|`` over the inputs x (B, n_0).

        >>> import numpy as np
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> bool(t.verify(np.random.default_rng(0).uniform(-1, 1, (100, 2))) <= 3 * 0.01)
        True
        """
        x = _check_inputs(x, self.target.widths[0])
        out = np.zeros(0)
        layers = self._effective_layers()
        worst = 0.0
        for lo in range(0, x.shape[0], 2048):
            xb = x[lo:lo + 2048]
            out = np.abs(self._forward(xb, layers) - self.target.forward(xb))
            worst = max(worst, float(out.max(initial=0.0)))
        return worst

    def error_bound(self) -> float:
        """Lemma 2.8 bound on ``sup ||f_target - f_ticket||_1`` over [-1, 1]^d, valid when no
        parameter failed (001_d33223a708772bec.txt)."""
        return self.target.error_bound(self.metadata["eps"])

    def report(self, *, samples: int = 10_000, seed: int = 0) -> TicketReport:
        """Parameters and neurons per source layer, density, per-layer largest errors, and the
        end-to-end sup error over ``samples`` uniform random inputs of [-1, 1]^d.

        >>> import numpy as np
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> r = t.report(samples=100)
        >>> r.layers[-1].neurons, r.failed
        (1, [])
        """
        samples = check_int("samples", samples, 1)
        layers = []
        n_layers = len(self.masks)
        for s, (m, bm) in enumerate(zip(self.masks, self.bias_masks)):
            params = int(m.sum()) + (0 if bm is None else int(bm.sum()))
            size = m.size + (0 if bm is None else bm.size)
            if s + 1 < n_layers:
                neurons = int(self.masks[s + 1].any(axis=0).sum())
            else:
                neurons = self.target.widths[-1]
            layers.append(LayerStats(params, neurons, size, params / size))
        x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(samples, self.target.widths[0]))
        return TicketReport(
            method=self.metadata["method"], layers=layers, target_parameters=self.target.num_parameters,
            max_errors=[float(e.max(initial=0.0)) for e in self.errors], eps=list(self.metadata["eps"]),
            failed=self.failed, sup_error=self.verify(x), samples=samples, error_bound=self.error_bound(),
            seconds=float(self.metadata["seconds"]),
        )

    def to_module(self, *, baked: bool = False):
        """A torch ``nn.Sequential`` of the source's Linear layers with the target's activations.

        ``baked=False``: each Linear carries ``weight_orig`` and ``weight_mask`` (and
        ``bias_orig``/``bias_mask``) exactly as ``torch.nn.utils.prune`` leaves them, so
        ``prune.remove`` works; ``baked=True``: plain Linear layers with the masks applied.
        Weights are float32 and include the scale factors.

        >>> import numpy as np, torch
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> m = t.to_module()
        >>> hasattr(m[0], "weight_mask"), tuple(m(torch.zeros(1, 2)).shape)
        (True, (1, 1))
        """
        import torch
        from torch import nn
        from torch.nn.utils import prune

        modules = []
        for (w, b), m, bm, scale, act in zip(self.weights, self.masks, self.bias_masks, self.scales,
                                              self._activations()):
            lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            with torch.no_grad():
                weight = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)) * float(scale)
                mask = torch.from_numpy(np.ascontiguousarray(m))
                lin.weight.copy_(weight * mask if baked else weight)
                if b is not None:
                    bias = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)) * float(scale)
                    bmask = torch.from_numpy(np.ascontiguousarray(bm))
                    lin.bias.copy_(bias * bmask if baked else bias)
            if not baked:
                prune.custom_from_mask(lin, "weight", mask)
                if b is not None:
                    prune.custom_from_mask(lin, "bias", bmask)
            modules.append(lin)
            if act is not None:
                modules.append(act.to_torch())
        return nn.Sequential(*modules)

    def save(self, path) -> None:
        """Write the ticket to ``path`` (safetensors; masks packed one bit per source weight).

        >>> import numpy as np, tempfile, os
        >>> from subsetsum import construct_ticket
        >>> t = construct_ticket([(np.array([[0.5, -0.3]]), np.array([0.1]))])
        >>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
        >>> t.save(path)
        >>> u = Ticket.load(path)
        >>> all((a == b).all() for a, b in zip(t.masks, u.masks)), u.scales == t.scales
        (True, True)
        """
        from safetensors.numpy import save_file

        tensors = {}
        for s, m in enumerate(self.masks):
            tensors[f"mask.{s}"] = np.packbits(m.ravel())
            if self.bias_masks[s] is not None:
                tensors[f"bias_mask.{s}"] = np.packbits(self.bias_masks[s])
            if self.source_masks is not None and self.source_masks[s] is not None:
                tensors[f"source_mask.{s}"] = np.packbits(self.source_masks[s].ravel())
        for t, (w, b) in enumerate(zip(self.target.weights, self.target.biases)):
            tensors[f"target.weight.{t}"] = np.ascontiguousarray(w)
            tensors[f"target.bias.{t}"] = np.ascontiguousarray(b)
            tensors[f"errors.{t}"] = np.ascontiguousarray(self.errors[t])
        if not isinstance(self.source, GeneratedSource):
            for s, (w, b) in enumerate(self.source):
                tensors[f"source.weight.{s}"] = np.ascontiguousarray(w)
                if b is not None:
                    tensors[f"source.bias.{s}"] = np.ascontiguousarray(b)
        header = {
            "format": _FORMAT,
            "shapes": [list(m.shape) for m in self.masks],
            "bias": [bm is not None for bm in self.bias_masks],
            "source_masks": None if self.source_masks is None else [m is not None for m in self.source_masks],
            "scales": [float(s) for s in self.scales],
            "target": self.target.to_json(),
            "source": self.source.to_json() if isinstance(self.source, GeneratedSource) else "user",
            "metadata": self.metadata,
        }
        save_file(tensors, str(path), metadata={"subsetsum": json.dumps(header)})

    @classmethod
    def load(cls, path) -> "Ticket":
        """Read a ticket written by :meth:`save`."""
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            if "subsetsum" not in meta:
                raise ValueError(f"path: {path} is not a ticket written by Ticket.save")
            header = json.loads(meta["subsetsum"])
            if header.get("format") != _FORMAT:
                raise ValueError(f"path: unsupported ticket format {header.get('format')!r}")
            tensors = {k: f.get_tensor(k) for k in f.keys()}

        def unpack(name, shape):
            count = int(np.prod(shape))
            return np.unpackbits(tensors[name], count=count).astype(bool).reshape(shape)

        shapes = [tuple(s) for s in header["shapes"]]
        masks = [unpack(f"mask.{s}", shape) for s, shape in enumerate(shapes)]
        bias_masks = [unpack(f"bias_mask.{s}", (shape[0],)) if has else None
                      for s, (shape, has) in enumerate(zip(shapes, header["bias"]))]
        source_masks = None
        if header["source_masks"] is not None:
            source_masks = [unpack(f"source_mask.{s}", shape) if has else None
                            for s, (shape, has) in enumerate(zip(shapes, header["source_masks"]))]
        depth = sum(1 for k in tensors if k.startswith("target.weight."))
        tj = header["target"]
        act = get_activation(tj["activation"]["name"], negative_slope=tj["activation"]["negative_slope"] or 0.01)
        out_act = None
        if tj["output_activation"] is not None:
            oa = tj["output_activation"]
            out_act = get_activation(oa["name"], negative_slope=oa["negative_slope"] or 0.01)
        target = TargetNetwork([tensors[f"target.weight.{t}"] for t in range(depth)],
                               [tensors[f"target.bias.{t}"] for t in range(depth)], act, out_act)
        if header["source"] == "user":
            source = [(tensors[f"source.weight.{s}"], tensors.get(f"source.bias.{s}")) for s in range(len(shapes))]
        else:
            sj = header["source"]
            source = GeneratedSource(sj["seed"], [tuple(s) for s in sj["shapes"]], sj["inits"], sj["biases"])
        errors = [tensors[f"errors.{t}"] for t in range(depth)]
        return cls(target, masks, bias_masks, source_masks, header["scales"], source, header["metadata"], errors)


def _check_inputs(x, n_in) -> np.ndarray:
    if type(x).__module__.split(".")[0] == "torch":
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"x: expected shape (B, {n_in}), got {x.shape}")
    return x
