"""The target network: parsing, forward pass, and the error budget of Lemma 2.8.

Layout fixed for all of the ticket code: weights in PyTorch layout, ``W[l]`` of shape
(n_l, n_{l-1}) float64, biases (n_l,) float64; inputs live in the domain [-M, M]^d
(``input_bound`` M, 1 unless the user says otherwise).

What is read: a layer pruned with ``torch.nn.utils.prune`` counts with its mask
(``weight_orig * weight_mask``, read explicitly, whether or not the forward hook has run); a
state dict can supply the weights of a skeleton ``nn.Sequential`` (plain or pruned entries); an
``nn.BatchNorm1d`` in eval mode directly after an ``nn.Linear`` is folded into it. Any other
module is traced with ``torch.fx`` (:mod:`.trace`): residual networks, whose layers read several
earlier layers (:attr:`TargetNetwork.skips`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .activations import SUPPORTED_ACTIVATION_MODULES, Activation, activation_from_module, get_activation
from .maps import LayerOp, pooled_size

__all__ = ["TargetNetwork", "parse_target"]


@dataclass(frozen=True)
class TargetNetwork:
    """A target network ``x -> act(W x + b)`` layer by layer, fully connected or convolutional.

    Attributes
    ----------
    weights : list of float64 arrays (n_l, features of layer l's input)
        Lowered (:mod:`.maps`): for a fully connected layer (n_l, n_{l-1}); for a convolution
        (c_out, c_in * kh * kw), the PyTorch weight reshaped; for a linear layer after a flatten
        of a (C, H, W) map (n_l, C * H * W).
    biases : list of float64 arrays (n_l,)
    activation : Activation
        Applied after every hidden layer (the source network uses it in every hidden layer).
    output_activation : Activation or None
        Applied after the last layer, or nothing.
    folded : tuple of str
        What was folded into the weights while parsing, one line per module (e.g.
        "BatchNorm1d at position 1 into Linear at position 0"); empty when nothing was.
    ops : tuple of LayerOp
        How each layer reads its main input, the layer before (:class:`~.maps.LayerOp`); empty
        for a fully connected network without skips (every layer a plain linear one).
    skips : tuple of tuples of (int, LayerOp)
        Per layer, the further inputs it adds (a residual join ``act(W h + S x + b)``): the
        producer (an earlier layer, -1 for the network input) and how it is read; their lowered
        features follow the main input's in ``weights[t]``, in this order (:meth:`parts`). Empty
        for a chain.
    """

    weights: list
    biases: list
    activation: Activation
    output_activation: Activation | None
    folded: tuple = ()
    ops: tuple = ()
    skips: tuple = ()

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def widths(self) -> list[int]:
        """[n_0, n_1, ..., n_L]: neurons, or channels of a feature map."""
        return [self.op(0).channels] + [w.shape[0] for w in self.weights]

    def op(self, layer: int) -> LayerOp:
        """How target layer ``layer`` reads its input (a plain linear layer unless convolutional)."""
        return self.ops[layer] if self.ops else LayerOp.dense(self.weights[layer].shape[1])

    @property
    def residual(self) -> bool:
        """Some layer reads an earlier layer besides the one before it."""
        return any(self.skips)

    def parts(self, layer: int) -> list:
        """The inputs of ``layer`` as [(producer, op, first lowered column)]: the layer before
        (-1: the network input) first, then its skips; ``weights[layer]`` is their column
        concatenation (Burkholz, ICML 2022: a residual join is one layer over several inputs).

        >>> t = parse_target([(np.eye(2), np.zeros(2))])
        >>> [(p, op.features, col) for p, op, col in t.parts(0)]
        [(-1, 2, 0)]
        """
        out = [(layer - 1, self.op(layer), 0)]
        if self.skips:
            col = out[0][1].features
            for producer, op in self.skips[layer]:
                out.append((int(producer), op, col))
                col += op.features
        return out

    def read_parts(self, layer: int, matrix: np.ndarray, values: dict) -> np.ndarray | None:
        """``sum_k matrix[:, part k's columns] @ op_k.expand(values[p_k])`` over the parts of
        ``layer`` whose producer p_k has an entry in ``values`` (per-channel float64 vectors):
        per-channel quantities of the producers (errors, sensitivities) carried through a
        nonnegative ``matrix`` (n_out, features) shaped like ``weights[layer]``; None when no
        part's producer has one.

        >>> t = parse_target([(np.eye(2), np.zeros(2))])
        >>> t.read_parts(0, np.ones((1, 2)), {-1: np.array([1.0, 2.0])}).tolist()
        [3.0]
        """
        parts = self.parts(layer)
        out = None
        for p, op, col in parts:
            if p not in values:
                continue
            m = matrix if len(parts) == 1 else matrix[:, col:col + op.features]
            term = m @ op.expand(values[p])
            out = term if out is None else out + term
        return out

    def consumers(self) -> list:
        """Per layer, the layers that read it (in order); the network input is not listed."""
        out = [[] for _ in range(self.depth)]
        for t in range(self.depth):
            for p, _op, _col in self.parts(t):
                if p >= 0 and t not in out[p]:
                    out[p].append(t)
        return out

    @property
    def convolutional(self) -> bool:
        """Some layer reads a feature map."""
        return any(op.in_size for op in self.ops)

    @property
    def input_shape(self) -> tuple:
        """Shape of one input: (n_0,) or (C, H, W)."""
        op = self.op(0)
        return (op.channels, *op.in_size) if op.in_size else (op.channels,)

    @property
    def output_shape(self) -> tuple:
        """Shape of one output: (n_L,) or (C, H, W) for a convolutional last layer."""
        op = self.op(self.depth - 1)
        return (self.widths[-1], *op.out_size)

    @property
    def num_parameters(self) -> int:
        """Nonzero weights and biases (a pruned target's remaining parameters).

        >>> parse_target([(np.array([[0.5, 0.0]]), np.zeros(1))]).num_parameters
        1
        """
        return int(sum(np.count_nonzero(w) + np.count_nonzero(b) for w, b in zip(self.weights, self.biases)))

    @property
    def total_parameters(self) -> int:
        """All weights and biases, zeros included (the dense size of the architecture).

        >>> parse_target([(np.array([[0.5, 0.0]]), np.zeros(1))]).total_parameters
        3
        """
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases)))

    def layer_activation(self, layer: int) -> Activation | None:
        """Activation after target layer ``layer`` (0-based)."""
        return self.activation if layer < self.depth - 1 else self.output_activation

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs (B, n_L) float64 for inputs x (B, n_0); for a convolutional target, inputs
        (B, C, H, W) (or flattened) and outputs flattened to (B, features).

        >>> t = parse_target([(np.eye(2), np.zeros(2))])
        >>> t.forward(np.array([[0.5, -0.5]])).tolist()
        [[0.5, -0.5]]
        """
        h = np.asarray(x, dtype=np.float64)
        if self.residual:
            return self._dag_forward(h)
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w.T + b if not self.ops else self.ops[layer].apply(h, w, b)
            act = self.layer_activation(layer)
            if act is not None:
                h = act(h)
        return h.reshape(h.shape[0], -1)

    def _dag_forward(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` of a target with skips: every part read through its own op, summed
        before the activation; a layer's output is dropped after its last reader."""
        last_read = {-1: 0}
        for t in range(self.depth):
            for p, _op, _col in self.parts(t):
                last_read[p] = t
        outs = {-1: x}
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            pre = None
            for p, op, col in self.parts(layer):
                part = op.apply(outs[p], w[:, col:col + op.features], b if col == 0 else np.zeros_like(b))
                pre = part if pre is None else pre + part
            act = self.layer_activation(layer)
            outs[layer] = act(pre) if act is not None else pre
            for p in [p for p in outs if p < layer and last_read.get(p, -1) <= layer]:
                del outs[p]
        h = outs[self.depth - 1]
        return h.reshape(h.shape[0], -1)

    def activation_bounds(self, input_bound: float = 1.0) -> list[np.ndarray]:
        """Per-feature bounds ``sup |x_i^(l)|`` over the domain ``[-M, M]^d`` (M = input_bound)
        of the input of layer l = 0..L-1 (l = 0: the inputs), lowered like the weights: one per
        column of ``weights[l]`` (a channel's bound repeated over its kernel offsets or positions,
        widened to 0 where padding reads zeros).

        Interval arithmetic through the network (every supported activation is monotone), so
        the bounds are rigorous; ``M_l`` of 001_d33223a708772bec.txt, Lemma 2.8 is their sum.

        >>> t = parse_target([(np.array([[1.0, -2.0]]), np.array([0.5]))])
        >>> [b.tolist() for b in t.activation_bounds(2.0)]
        [[2.0, 2.0]]
        """
        return self._intervals(input_bound)[0]

    def output_range(self, input_bound: float = 1.0) -> np.ndarray:
        """``sup |f_i(x)|`` over ``[-M, M]^d`` per output (interval arithmetic), the scale that
        relative end-to-end errors are measured against."""
        lo, hi = self._intervals(input_bound)[1]
        return np.maximum(np.abs(lo), np.abs(hi))

    def _intervals(self, input_bound: float):
        """(per layer the feature bounds of its inputs, the last layer's (lo, hi) per channel):
        interval arithmetic through the layers in order, each reading its parts' intervals."""
        lo = -np.full(self.widths[0], float(input_bound))
        outs = {-1: (lo, -lo)}
        bounds = []
        for layer in range(self.depth):
            feats = [op.feature_interval(*outs[p]) for p, op, _col in self.parts(layer)]
            f_lo, f_hi = feats[0] if len(feats) == 1 else (np.concatenate([f[0] for f in feats]),
                                                           np.concatenate([f[1] for f in feats]))
            bounds.append(np.maximum(np.abs(f_lo), np.abs(f_hi)))
            outs[layer] = self._interval(layer, f_lo, f_hi)
        return bounds, outs[self.depth - 1]

    def _interval(self, layer, lo, hi):
        """Per-channel output interval of ``layer`` from the intervals of its lowered features."""
        w, b = self.weights[layer], self.biases[layer]
        wp, wn = np.maximum(w, 0), np.minimum(w, 0)
        lo, hi = wp @ lo + wn @ hi + b, wp @ hi + wn @ lo + b
        act = self.layer_activation(layer)
        if act is not None:
            lo, hi = act(lo), act(hi)
        return lo, hi

    def to_json(self) -> dict:
        return {
            "activation": self.activation.to_json(),
            "output_activation": None if self.output_activation is None else self.output_activation.to_json(),
            "folded": list(self.folded),
            "ops": [op.to_json() for op in self.ops],
            **({"skips": [[[int(p), op.to_json()] for p, op in parts] for parts in self.skips]}
               if self.residual else {}),
        }


def _as_float64(name: str, a) -> np.ndarray:
    if type(a).__module__.split(".")[0] == "torch":
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real-valued array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return arr


def _fold_batchnorm(weight, bias, gamma, beta, mean, var, eps):
    """Fold an eval-mode batch norm into the linear layer before it.

    ``BN(W x + b) = W' x + b'`` with ``s = gamma / sqrt(var + eps)``, ``W' = s[:, None] * W``
    (row i scaled by s_i) and ``b' = (b - mean) * s + beta``. weight: float64 (n, m); bias,
    gamma, beta, mean, var: float64 (n,); eps: float. Returns (W', b').

    >>> w, b = _fold_batchnorm(np.array([[1.0, -2.0]]), np.array([0.5]), np.array([2.0]), np.array([0.1]),
    ...                        np.array([0.5]), np.array([3.0]), 1.0)
    >>> w.tolist(), b.tolist()
    ([[1.0, -2.0]], [0.1])
    """
    s = gamma / np.sqrt(var + eps)
    return weight * s[:, None], (bias - mean) * s + beta


def _masked(orig_name: str, mask_name: str, orig: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``orig * mask`` (float64) for a pruned entry, checking that the mask fits and is 0/1."""
    if mask.shape != orig.shape:
        raise ValueError(f"{mask_name}: expected shape {orig.shape} (that of {orig_name}), got {mask.shape}")
    if not np.isin(mask, (0.0, 1.0)).all():
        bad = mask[~np.isin(mask, (0.0, 1.0))].ravel()[0]
        raise ValueError(f"{mask_name}: expected a pruning mask of 0/1 values, found {bad:g}")
    return orig * mask


class _Entries:
    """The arrays of a skeleton's modules, read from the modules themselves or, given a state
    dict, from its ``"<position>.<name>"`` entries. A pruned entry (``<name>_orig`` and
    ``<name>_mask``, as ``torch.nn.utils.prune`` leaves them) is read as their product."""

    def __init__(self, state_dict):
        if state_dict is not None and not isinstance(state_dict, Mapping):
            raise TypeError("state_dict: expected a mapping of names to tensors or arrays (as module.state_dict() "
                            f"gives), got {type(state_dict).__name__}")
        self.state = None if state_dict is None else dict(state_dict)
        self.used = set()
        self.missing = []  # (key, expected shape)

    def has(self, module, name: str) -> bool:
        """Whether the skeleton module has entry ``name`` (e.g. a Linear built with bias=False has no bias)."""
        return getattr(module, name + "_orig", None) is not None or getattr(module, name, None) is not None

    def get(self, position: int, module, name: str, shape: tuple) -> np.ndarray:
        """Entry ``name`` of the module at ``position``: float64 of ``shape``. A missing state-dict
        entry is recorded (:meth:`check` raises) and read as zeros meanwhile."""
        described = f"{type(module).__name__} at position {position}"
        if self.state is None:
            what = f"target module {position} ({type(module).__name__}) {name}"
            orig, mask = getattr(module, name + "_orig", None), getattr(module, name + "_mask", None)
            if orig is not None and mask is not None:  # pruned: read the mask, whether or not the hook ran
                names = (what + "_orig", what + "_mask")
                return _masked(*names, _as_float64(names[0], orig), _as_float64(names[1], mask))
            return _as_float64(what, getattr(module, name))
        key = f"{position}.{name}" if position != "" else name  # "": an attribute of a traced root module
        if key + "_orig" in self.state or key + "_mask" in self.state:
            keys = (key + "_orig", key + "_mask")
            absent = [k for k in keys if k not in self.state]
            if absent:
                self.missing.extend((k, shape) for k in absent)
                self.used.update(keys)
                return np.zeros(shape)
            orig, mask = (self._read(k, shape, described) for k in keys)
            return _masked(*(f"state_dict[{k!r}]" for k in keys), orig, mask)
        if key not in self.state:
            self.missing.append((key, shape))
            return np.zeros(shape)
        return self._read(key, shape, described)

    def skip(self, key: str) -> None:
        """An entry the target does not need (e.g. a batch norm's ``num_batches_tracked``)."""
        if self.state is not None and key in self.state:
            self.used.add(key)

    def _read(self, key: str, shape: tuple, described: str) -> np.ndarray:
        self.used.add(key)
        arr = _as_float64(f"state_dict[{key!r}]", self.state[key])
        if arr.shape != tuple(shape):
            raise ValueError(f"state_dict[{key!r}]: expected shape {tuple(shape)} (the {key.split('.', 1)[1]} of the "
                             f"skeleton's {described}), got {tuple(arr.shape)}")
        return arr

    def check(self) -> None:
        """Raise when a state dict lacked entries of the skeleton or held entries it has not."""
        if self.state is None:
            return
        problems = []
        if self.missing:
            problems.append(f"missing key{'s' if len(self.missing) > 1 else ''} "
                            + ", ".join(f"{k!r} (expected shape {tuple(s)})" for k, s in self.missing))
        unexpected = [k for k in self.state if k not in self.used]
        if unexpected:
            problems.append(f"unexpected key{'s' if len(unexpected) > 1 else ''} "
                            + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise ValueError("state_dict: " + "; ".join(problems) + " (entries are named '<position in the "
                             "Sequential>.<name>' as skeleton.state_dict() names them; a pruned weight may come as "
                             "'<name>_orig' and '<name>_mask')")


def _check_batchnorm(position: int, module, modules) -> None:
    from torch import nn

    kind = type(module).__name__
    layer_type = nn.Conv2d if isinstance(module, nn.BatchNorm2d) else nn.Linear
    if position == 0 or not isinstance(modules[position - 1], layer_type):
        where = ("is the first module" if position == 0 else
                 f"follows module {position - 1} ({type(modules[position - 1]).__name__})")
        raise ValueError(f"target: module {position} ({kind}) {where}; a {kind} is folded into the "
                         f"nn.{layer_type.__name__} directly before it (before that layer's activation), so it must "
                         "come right after one")
    if module.training:
        raise ValueError(f"target: module {position} ({kind}) is in training mode, where it normalises with each "
                         "batch's statistics; call target.eval() first (folding uses its running statistics)")
    if not module.track_running_stats or module.running_mean is None:
        raise ValueError(f"target: module {position} ({kind}) keeps no running statistics "
                         "(track_running_stats=False), so it normalises with each batch's statistics even after "
                         ".eval(); folding needs running statistics: build it with track_running_stats=True, "
                         "train, then call .eval()")
    previous = modules[position - 1]
    out = previous.out_channels if layer_type is nn.Conv2d else previous.out_features
    if module.num_features != out:
        raise ValueError(f"target: module {position} ({kind}) has {module.num_features} features; expected {out}, "
                         f"the outputs of the nn.{layer_type.__name__} at position {position - 1}")


def _batchnorm_entries(position, module, entries) -> tuple:
    """(gamma, beta, running mean, running var), float64 (n,) each, of a batch norm read from the
    module or the state dict (``affine=False``: gamma 1, beta 0); negative variances refused."""
    n = module.num_features
    ones = np.ones(n)
    gamma = entries.get(position, module, "weight", (n,)) if module.affine else ones
    beta = entries.get(position, module, "bias", (n,)) if module.affine else 0.0 * ones
    mean = entries.get(position, module, "running_mean", (n,))
    var = entries.get(position, module, "running_var", (n,))
    entries.skip(f"{position}.num_batches_tracked")
    if (var < 0).any():
        raise ValueError(f"target module {position} ({type(module).__name__}) running_var: expected nonnegative "
                         f"variances, found {float(var.min()):g}")
    return gamma, beta, mean, var


def _conv_weight(position: int, module, entries) -> tuple[np.ndarray, dict]:
    """A Conv2d's weight as a dense (c_out, c_in, kh, kw) float64 (groups expanded with zeros,
    which issue no subset-sum problem) and its geometry."""
    if module.padding_mode != "zeros":
        raise ValueError(f"target: module {position} (Conv2d) pads with {module.padding_mode!r}; only zero padding "
                         "(padding_mode='zeros') is supported")
    c_out, c_in, groups = module.out_channels, module.in_channels, module.groups
    kh, kw = module.kernel_size
    grouped = entries.get(position, module, "weight", (c_out, c_in // groups, kh, kw))
    weight = np.zeros((c_out, c_in, kh, kw))
    per_in, per_out = c_in // groups, c_out // groups
    for g in range(groups):
        weight[g * per_out:(g + 1) * per_out, g * per_in:(g + 1) * per_in] = grouped[g * per_out:(g + 1) * per_out]
    padding = module.padding
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif any(s != 1 for s in module.stride) or any((d * (k - 1)) % 2 for d, k in zip(module.dilation, (kh, kw))):
            raise ValueError(f"target: module {position} (Conv2d) uses padding='same' with an even total padding "
                             "split unevenly; give the padding as numbers")
        else:
            padding = tuple(d * (k - 1) // 2 for d, k in zip(module.dilation, (kh, kw)))
    geometry = dict(kernel=(kh, kw), stride=tuple(module.stride), padding=tuple(padding),
                    dilation=tuple(module.dilation))
    return weight, geometry


_POOLS = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d")


def _pool_geometry(module, position: int, size) -> tuple:
    """(how, kernel, stride, padding) of a pooling module on a ``size`` map, checked."""
    kind = type(module).__name__

    def refuse(why):
        raise ValueError(f"target: module {position} ({kind}) {why}")

    if kind == "AdaptiveAvgPool2d":
        out = module.output_size
        out = (out, out) if isinstance(out, int) else tuple(size[i] if o is None else o for i, o in enumerate(out))
        if any(n % o for n, o in zip(size, out)):
            refuse(f"maps {size} to {out}, windows of unequal sizes; supported where the map size is a multiple "
                   "of the output size")
        kernel = tuple(n // o for n, o in zip(size, out))
        return "avg", kernel, kernel, (0, 0)
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    kernel, stride, padding = pair(module.kernel_size), pair(module.stride or module.kernel_size), pair(module.padding)
    if module.ceil_mode:
        refuse("uses ceil_mode=True; supported: ceil_mode=False")
    if kind == "MaxPool2d":
        if pair(module.dilation) != (1, 1) or module.return_indices:
            refuse("uses dilation or return_indices; supported: a plain max pool")
        return "max", kernel, stride, padding
    if module.divisor_override is not None or (not module.count_include_pad and any(padding)):
        refuse("changes the divisor (divisor_override, count_include_pad=False with padding); supported: the "
               "plain average")
    return "avg", kernel, stride, padding


def _layer_ops(layers, input_shape) -> tuple:
    """The LayerOp of every layer, following the map shape from ``input_shape`` (C, H, W)."""
    if input_shape is None:
        raise ValueError("input_shape: a convolutional target needs the shape of one input, (C, H, W), e.g. "
                         "input_shape=(1, 28, 28)")
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise TypeError(f"input_shape: expected (C, H, W) ints, got {input_shape!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape: expected (C, H, W) of positive ints, got {input_shape!r}")
    channels, size = shape[0], shape[1:]
    ops = []
    for position, (w, _b, _act, geometry, module_position, pool_module) in enumerate(layers):
        pool = ()
        if pool_module is not None:
            if size == ():
                raise ValueError(f"target: module {pool_module[1]} ({type(pool_module[0]).__name__}) pools a vector; "
                                 "pooling needs a feature map")
            how, kernel, stride, padding = _pool_geometry(pool_module[0], pool_module[1], size)
            pool = (how, kernel, stride, padding, size)
            size = pooled_size(size, kernel, stride, padding)
            if min(size) < 1:
                raise ValueError(f"target: module {pool_module[1]} ({type(pool_module[0]).__name__}) turns a "
                                 f"{pool[4]} map into an empty one")
        if geometry is not None:
            if size == ():
                raise ValueError(f"target: module {module_position} (Conv2d) reads a vector (after a flatten or a "
                                 "Linear); a convolution needs a feature map")
            c_in = w.shape[1]
            if c_in != channels:
                raise ValueError(f"target: module {module_position} (Conv2d) expects {c_in} input channels, got "
                                 f"{channels} (input_shape {tuple(shape)} and the layers before)")
            op = LayerOp("conv", channels, size, **geometry, pool=pool)
            if min(op.out_size) < 1:
                raise ValueError(f"target: module {module_position} (Conv2d) turns a {size} map into an empty one")
            ops.append(op)
            channels, size = w.shape[0], op.out_size
        else:
            features = channels * int(np.prod(size)) if size else channels
            if w.shape[1] != features:
                what = f"a {(channels, *size)} map flattened" if size else f"{channels} features"
                raise ValueError(f"target: module {module_position} (Linear) expects {w.shape[1]} input features, got "
                                 f"{what} (input_shape {tuple(shape)} and the layers before)")
            ops.append(LayerOp("linear", channels, size, pool=pool))
            channels, size = w.shape[0], ()
    return tuple(ops)


def parse_target(target, *, activation=None, state_dict=None, input_shape=None) -> TargetNetwork:
    """A :class:`TargetNetwork` from a torch ``nn.Sequential`` or a list of (weight, bias).

    Parameters
    ----------
    target : torch.nn.Sequential or list of (weight, bias)
        Sequential: ``nn.Linear`` layers, each optionally followed by one activation module
        (ReLU, LeakyReLU, Tanh, Sigmoid, Identity); every hidden layer must use the same
        activation. ``nn.Flatten`` and ``nn.Dropout`` in eval mode are the identity and skipped.
        A Linear pruned with ``torch.nn.utils.prune`` is read as ``weight_orig * weight_mask``
        (the mask read explicitly; likewise a pruned bias). An ``nn.BatchNorm1d`` in eval mode
        directly after an ``nn.Linear`` (before its activation) is folded into it:
        ``W' = W * gamma / sqrt(var + eps)`` row by row, ``b' = (b - mean) * gamma / sqrt(var +
        eps) + beta``, recorded in :attr:`TargetNetwork.folded`. List: weights
        (n_l, n_{l-1}) in PyTorch layout and biases (n_l,) or None, arrays or tensors; the
        hidden activation is ``activation`` and there is no output activation.
    activation : str, optional
        Hidden activation for a list target (default "relu"); also used by a target with a
        single layer, which has no hidden activation of its own.
    state_dict : mapping of str to tensors or arrays, optional
        The weights of a Sequential ``target`` used as a skeleton (its own weights are ignored and
        it is not modified), by the names ``target.state_dict()`` uses: ``"0.weight"``,
        ``"0.bias"``, a batch norm's ``"1.running_mean"``..., or for a pruned entry
        ``"<name>_orig"`` and ``"<name>_mask"`` (read as their product). Missing and unexpected
        entries and wrong shapes raise ValueError naming the key and the expected shape.

    input_shape : (C, H, W), optional
        The shape of one input; needed (and only read) when the Sequential holds ``nn.Conv2d``
        layers.

    Convolutions: ``nn.Conv2d`` (any kernel, stride, zero padding, dilation and groups; a
    grouped convolution is read as a dense one whose cross-group weights are zero), an
    ``nn.BatchNorm2d`` in eval mode directly after one (folded like BatchNorm1d, per output
    channel), and ``nn.Flatten`` before the first ``nn.Linear`` after them. Every layer is
    stored lowered (:mod:`.maps`).

    Zero weights (pruned or not) are part of the target; the construction gives them no
    subset-sum problem (the empty subset is exact).

    >>> t = parse_target([(np.ones((3, 2)), None), (np.ones((1, 3)), np.zeros(1))], activation="tanh")
    >>> t.widths, t.activation.name
    ([2, 3, 1], 'tanh')
    """
    layers = []  # (weight, bias, activation-after or None, conv geometry or None, module position, pool)
    folded = []
    pool = None  # a pooling module waiting for the layer after it: (module, position)
    if _is_torch_module(target) or type(target).__module__.split(".")[0] == "torch":
        from torch import nn

        if not isinstance(target, nn.Module):
            raise TypeError(f"target: expected a torch module or a list of (weight, bias), got {type(target).__name__}")
        if not isinstance(target, nn.Sequential) or any(
                not type(m).__module__.startswith("torch.") for m in target.children()):
            return _traced_target(target, state_dict, input_shape)
        entries = _Entries(state_dict)
        modules = list(target)
        for position, module in enumerate(modules):
            kind = type(module).__name__
            if isinstance(module, nn.Linear):
                weight = entries.get(position, module, "weight", (module.out_features, module.in_features))
                bias = (entries.get(position, module, "bias", (module.out_features,))
                        if entries.has(module, "bias") else None)
                layers.append([weight, bias, None, None, position, pool])
                pool = None
            elif isinstance(module, nn.Conv2d):
                weight, geometry = _conv_weight(position, module, entries)
                bias = (entries.get(position, module, "bias", (module.out_channels,))
                        if entries.has(module, "bias") else None)
                layers.append([weight, bias, None, geometry, position, pool])
                pool = None
            elif kind in _POOLS:
                if not layers or layers[-1][3] is None:
                    raise ValueError(f"target: module {position} ({kind}) does not follow an nn.Conv2d; pooling is "
                                     "supported between convolutions and the layer after them")
                if pool is not None:
                    raise ValueError(f"target: module {position} ({kind}) follows another pooling (module "
                                     f"{pool[1]}); merge them into one")
                if layers[-1][2] is None and kind != "MaxPool2d":
                    # before the activation: an average of activations is not the activation of an average
                    nxt = next((m for m in modules[position + 1:] if type(m).__name__ in SUPPORTED_ACTIVATION_MODULES),
                               None)
                    if nxt is not None and type(nxt).__name__ != "Identity":
                        raise ValueError(f"target: module {position} ({kind}) averages before the activation; "
                                         "phi(average) is not the average of phi, so the construction cannot carry "
                                         "it: put the pooling after the activation")
                pool = (module, position)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                _check_batchnorm(position, module, modules)
                n = module.num_features
                gamma, beta, mean, var = _batchnorm_entries(position, module, entries)
                weight, bias = layers[-1][0], layers[-1][1]
                bias = np.zeros(n) if bias is None else bias
                flat, b_new = _fold_batchnorm(weight.reshape(n, -1), bias, gamma, beta, mean, var, float(module.eps))
                layers[-1][0], layers[-1][1] = flat.reshape(weight.shape), b_new
                folded.append(f"{kind} at position {position} into {type(modules[position - 1]).__name__} at "
                              f"position {position - 1}")
            elif isinstance(module, nn.Flatten):
                continue  # the identity on (batch, features) inputs
            elif isinstance(module, nn.Dropout):
                if module.training and module.p > 0:
                    raise ValueError(f"target: module {position} (Dropout) is in training mode, so the target is "
                                     "random; call target.eval() first (in eval mode Dropout is the identity)")
                continue
            elif kind in SUPPORTED_ACTIVATION_MODULES:
                if not layers:
                    raise ValueError(f"target: module {position} ({kind}) comes before the first nn.Linear")
                if layers[-1][2] is not None:
                    raise ValueError(f"target: module {position} ({kind}): two activations in a row are not supported")
                layers[-1][2] = activation_from_module(module)
            else:
                raise ValueError(f"target: module {position} ({kind}) is not supported; expected nn.Linear, nn.Conv2d, "
                                 f"an activation ({', '.join(SUPPORTED_ACTIVATION_MODULES)}), nn.BatchNorm1d / "
                                 "nn.BatchNorm2d (eval mode, after an nn.Linear / nn.Conv2d), nn.Flatten or nn.Dropout "
                                 "(eval mode), nn.MaxPool2d / nn.AvgPool2d / nn.AdaptiveAvgPool2d between convolutions "
                                 "and the layer after them")
        entries.check()
        if pool is not None:
            raise ValueError(f"target: module {pool[1]} ({type(pool[0]).__name__}) pools the last layer's output; "
                             "pooling is supported only before another layer")
    elif isinstance(target, (list, tuple)):
        if state_dict is not None:
            raise TypeError("state_dict: only a torch nn.Sequential skeleton takes a state_dict; a list of "
                            "(weight, bias) carries its own weights")
        if activation is not None and not isinstance(activation, str):
            raise TypeError(f"activation: expected a name, got {type(activation).__name__}")
        hidden = get_activation(activation or "relu")
        for position, entry in enumerate(target):
            if not isinstance(entry, (list, tuple)) or len(entry) != 2:
                raise TypeError(f"target[{position}]: expected a (weight, bias) pair")
            layers.append([entry[0], entry[1], hidden, None, position, None])
        if layers:
            layers[-1][2] = None
    else:
        raise TypeError(f"target: expected torch.nn.Sequential or a list of (weight, bias), got {type(target).__name__}")
    if not layers:
        raise ValueError("target: expected at least one linear layer, got none")

    convolutional = any(layer[3] is not None for layer in layers)
    if input_shape is not None and not convolutional:
        raise ValueError("input_shape: only a target with nn.Conv2d layers takes an input_shape")
    ops = _layer_ops(layers, input_shape) if convolutional else ()
    weights, biases = [], []
    for position, (w, b, _act, _geometry, _module, _pool) in enumerate(layers):
        w = _as_float64(f"target layer {position} weight", w)
        if convolutional:
            w = w.reshape(w.shape[0], -1)  # lowered (maps.py); shapes were checked by _layer_ops
        elif w.ndim != 2 or w.size == 0:
            raise ValueError(f"target layer {position} weight: expected shape (out, in), got {w.shape}")
        if weights and not convolutional and w.shape[1] != weights[-1].shape[0]:
            raise ValueError(
                f"target layer {position} weight: expected {weights[-1].shape[0]} input features "
                f"(the previous layer's outputs), got shape {w.shape}"
            )
        b = np.zeros(w.shape[0]) if b is None else _as_float64(f"target layer {position} bias", b)
        if b.shape != (w.shape[0],):
            raise ValueError(f"target layer {position} bias: expected shape ({w.shape[0]},), got {b.shape}")
        weights.append(w)
        biases.append(b)

    hidden_acts = {(a.name, a.negative_slope) for _w, _b, a, *_ in layers[:-1] if a is not None}
    if any(a is None for _w, _b, a, *_ in layers[:-1]):
        missing = [i for i, (_w, _b, a, *_) in enumerate(layers[:-1]) if a is None][0]
        raise ValueError(f"target: hidden layer {missing} has no activation; expected one after every hidden nn.Linear")
    if len(hidden_acts) > 1:
        raise ValueError(f"target: every hidden layer must use the same activation, got {sorted(hidden_acts)}")
    output_act = layers[-1][2]
    hidden = layers[0][2] if len(layers) > 1 else (output_act or get_activation(activation or "relu"))
    return TargetNetwork(weights, biases, hidden, output_act, tuple(folded), ops)


def _is_torch_module(obj) -> bool:
    """An ``nn.Module`` (user-defined ones included), without importing torch when it is absent."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _traced_target(target, state_dict, input_shape) -> TargetNetwork:
    """A :class:`TargetNetwork` from a module traced with ``torch.fx`` (:mod:`.trace`): a chain
    reads exactly as the same layers in an ``nn.Sequential`` would; a residual target keeps its
    skips."""
    from .trace import trace_target

    if input_shape is not None:
        _layer_ops([], input_shape)  # the same checks of (C, H, W) as for a Sequential
    layers, folded, _shape = trace_target(target, state_dict=state_dict,
                                          input_shape=None if input_shape is None else tuple(int(v) for v in input_shape))
    part_ops = [op for layer in layers for _p, op, _w in layer.parts]
    convolutional = any(op.in_size for op in part_ops)
    if input_shape is not None and not convolutional:
        raise ValueError("input_shape: only a target with nn.Conv2d layers takes an input_shape")
    weights = [layer.parts[0][2] if len(layer.parts) == 1 else np.concatenate([w for _p, _op, w in layer.parts], axis=1)
               for layer in layers]
    skips = tuple(tuple((p, op) for p, op, _w in layer.parts[1:]) for layer in layers)
    residual = any(skips)
    ops = tuple(layer.parts[0][1] for layer in layers) if (convolutional or residual) else ()
    acts = [layer.activation for layer in layers]
    hidden_acts = {(a.name, a.negative_slope) for a in acts[:-1]}
    if len(hidden_acts) > 1:
        raise ValueError(f"target: every hidden layer must use the same activation, got {sorted(hidden_acts)}")
    hidden = acts[0] if len(acts) > 1 else (acts[-1] or get_activation("relu"))
    return TargetNetwork(weights, [layer.bias for layer in layers], hidden, acts[-1], tuple(folded), ops,
                         skips if residual else ())
