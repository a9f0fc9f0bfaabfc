"""Targets traced with ``torch.fx``: any module whose forward() is made of supported operations,
residual networks included.

The trace is read as a sequence of layers ``act(sum_k W_k x_{p_k} + b)``: every activation ends
a layer, and what it activates is a sum of *parts*, each an earlier layer's output (or the
network input) read through its own :class:`~.maps.LayerOp` with its own lowered weight. A
residual join ``relu(bn2(conv2(h)) + shortcut(x))`` is one layer with two parts: the 3x3
convolution over h and the shortcut over x (a 1x1, possibly strided, convolution with its batch
norm folded; an identity shortcut is a diagonal 1x1 convolution, whose zero weights issue no
subset-sum problem). Its lowered weight is the column concatenation of the parts, so every
problem stays "one output copy, one input feature" (Burkholz, ICML 2022, "Convolutional and
Residual Networks Provably Contain Lottery Tickets").

Values while reading the graph:

* a *signal*: the output of layer p (after its activation; p = -1 the input), possibly pooled
  (the pooling becomes part of the op that reads it, :mod:`.maps`) or flattened;
* a *sum*: parts and a bias waiting for an activation (or for the output); a batch norm or a
  per-channel scaling ``x * w`` scales it, an addition merges two sums. A signal added or scaled
  becomes a part with a diagonal weight.

A layer's first part reads the layer made just before it (a chain with skips; parallel branches
are refused); the others are its skips (:attr:`~.graph.TargetNetwork.skips`).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import numpy as np

from .activations import get_activation
from .maps import LayerOp, pooled_size

__all__ = ["trace_target"]


@dataclass
class _Signal:
    producer: int
    shape: tuple | None  # (C, H, W) or (n,); None: the input of a dense target, until a Linear reads it
    pool: tuple = ()  # (how, kernel, stride, padding, size before pooling)
    flat: bool = False


@dataclass
class _Sum:
    parts: list  # [producer, LayerOp, weight float64 (n_out, op.features)]
    bias: np.ndarray
    shape: tuple
    where: str
    post_pool: tuple = ()  # a max pool before the activation: applied to its output
    used: bool = False
    flat: bool = False
    label: str = ""  # the layer module it came from, for the notes on folding


@dataclass
class _Layer:
    parts: list
    bias: np.ndarray
    activation: object
    where: str
    notes: list = field(default_factory=list)


class _Batch:
    """``x.size(0)`` / ``x.shape[0]``: the batch dimension of a view or reshape."""


class _Shape:
    """``x.shape`` / ``x.size()``."""


_ACTIVATION_FUNCTIONS = {"relu": "relu", "relu_": "relu", "tanh": "tanh", "tanh_": "tanh", "sigmoid": "sigmoid",
                         "sigmoid_": "sigmoid", "leaky_relu": "leaky_relu", "leaky_relu_": "leaky_relu"}
_ADD = {"add", "add_", "iadd", "__add__", "__iadd__", "__radd__"}
_MUL = {"mul", "mul_", "imul", "__mul__", "__imul__", "__rmul__"}
_FLATTEN = {"flatten", "view", "reshape"}
_POOL_FUNCTIONS = {"adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"}
_PASSTHROUGH_METHODS = {"contiguous"}


def _name(fn) -> str:
    return getattr(fn, "__name__", str(fn))


def _describe(node, root) -> str:
    if node.op == "call_module":
        return f"module {node.target} ({type(root.get_submodule(node.target)).__name__}) at op {node.name}"
    if node.op == "call_method":
        return f"op {node.name} (.{node.target}())"
    if node.op == "call_function":
        return f"op {node.name} ({_name(node.target)})"
    return f"op {node.name} ({node.op})"


def trace_target(target, *, state_dict=None, input_shape=None):
    """Read a torch module through ``torch.fx``: (layers, folded notes, input shape) where every
    layer is a :class:`_Layer` (parts ``[producer, op, weight]`` in the order the layer reads
    them, bias (n_out,) float64, activation or None). Used by :func:`~.graph.parse_target`.

    >>> import torch
    >>> from torch import nn
    >>> class Block(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)
    ...     def forward(self, x):
    ...         h = torch.relu(self.a(x))
    ...         return torch.relu(self.b(h) + x)   # layer 1 adds the input (-1) to b(h)
    >>> from subsetsum.tickets.graph import parse_target
    >>> t = parse_target(Block())
    >>> t.depth, [(p, op.features) for p, op in t.skips[1]], t.weights[1].shape
    (2, [(-1, 3)], (3, 6))
    """
    import torch
    import torch.fx
    from torch import nn

    from . import (
        graph as helper,  # the readers the Sequential path uses (weights, masks, folding, pooling)
    )

    entries = helper._Entries(state_dict)
    if not isinstance(target, nn.Module):
        raise TypeError(f"target: expected a torch module, got {type(target).__name__}")
    try:
        graph_module = torch.fx.symbolic_trace(target)
    except Exception as exc:
        raise ValueError(f"target: torch.fx cannot trace {type(target).__name__} ({type(exc).__name__}: {exc}); "
                         "a target's forward() must be traceable (no control flow on tensor values)") from exc

    layers: list[_Layer] = []
    folded: list[str] = []
    values = {}
    state = {"input": None if input_shape is None else tuple(input_shape), "placeholder": False}

    def refuse(where, why):
        raise ValueError(f"target: {where} {why}")

    def value(arg, where):
        if isinstance(arg, torch.fx.Node):
            return values[arg]
        if isinstance(arg, (tuple, list)):
            return type(arg)(value(a, where) for a in arg)
        return arg

    def signal_shape(sig, where):
        if sig.shape is None:
            refuse(where, "reads the network input, whose shape is not known yet: give input_shape=(C, H, W)")
        return sig.shape

    def read_op(sig, where, kind):
        """The op a layer of ``kind`` ("conv" geometry dict, or "linear") reads ``sig`` with."""
        shape = signal_shape(sig, where)
        if kind == "linear":
            if len(shape) == 1:
                if sig.pool:
                    refuse(where, "reads a pooled vector")
                return LayerOp.dense(shape[0])
            if not sig.flat:
                refuse(where, f"reads a {shape} map without a flatten; put nn.Flatten() or x.flatten(1) before it")
            return LayerOp("linear", shape[0], shape[1:], pool=sig.pool)
        if len(shape) != 3 or sig.flat:
            refuse(where, "reads a vector (after a flatten or a Linear); a convolution needs a feature map")
        return LayerOp("conv", shape[0], shape[1:], **kind, pool=sig.pool)

    def as_sum(v, where, scale=None):
        """A signal as a sum with one diagonal part (identity, or a per-channel ``scale``)."""
        if isinstance(v, _Sum):
            return v
        if not isinstance(v, _Signal):
            refuse(where, f"adds or scales {type(v).__name__} {v!r}; supported: layer outputs and sums of them")
        shape = signal_shape(v, where)
        if v.flat:
            refuse(where, "adds or scales a flattened map; flatten after the addition")
        op = read_op(v, where, "linear") if len(shape) == 1 else LayerOp("conv", shape[0], shape[1:], pool=v.pool)
        diag = np.ones(shape[0]) if scale is None else scale
        size = op.out_size if op.kind == "conv" else ()
        return _Sum([[v.producer, op, np.diag(diag)]], np.zeros(shape[0]), (shape[0], *size), where)

    def consume(s: _Sum, where):
        if s.used:
            refuse(where, f"reads the pre-activation value of {s.where} a second time; only layer outputs (after an "
                          "activation) may be read by several operations")
        s.used = True
        return s

    def channel_vector(w, channels, where):
        """A constant or parameter as a per-channel scale (float64 (channels,))."""
        arr = helper._as_float64(f"{where} factor", w) if not isinstance(w, (int, float)) else np.array(float(w))
        if arr.size == 1:
            return np.full(channels, float(arr.ravel()[0]))
        squeezed = arr.reshape(-1) if arr.size == channels else None
        if squeezed is None or sum(d != 1 for d in arr.shape) > 1 or (arr.ndim >= 3 and arr.shape[-1] != 1):
            refuse(where, f"scales by a tensor of shape {tuple(arr.shape)}; supported: a scalar or one factor per "
                          f"channel ({channels},), (1, {channels}), ({channels}, 1, 1) or (1, {channels}, 1, 1)")
        return squeezed

    def scale_sum(s, factors):
        for part in s.parts:
            part[2] = part[2] * factors[:, None]
        s.bias = s.bias * factors
        return s

    def activate(v, act, where):
        if isinstance(v, _Signal):
            refuse(where, "applies an activation to a layer output (two activations in a row, or one on the input); "
                          "an activation must follow a Linear, a Conv2d, a batch norm or an addition")
        s = consume(v, where)
        return make_layer(s, act, where)

    def make_layer(s, act, where):
        t = len(layers)
        merged = []
        for producer, op, w in s.parts:  # the same input read the same way twice (x + x): one part
            same = next((m for m in merged if m[0] == producer and m[1] == op), None)
            if same is None:
                merged.append([producer, op, w])
            else:
                same[2] = same[2] + w
        main = next((i for i, m in enumerate(merged) if m[0] == t - 1), None)
        if main is None:
            reads = sorted({m[0] for m in merged})
            refuse(where, f"makes layer {t}, which reads layer(s) {reads} but not layer {t - 1}, the one made just "
                          "before it; supported: a chain of layers with skip connections (every layer reads the "
                          "layer before it, and may add earlier ones), not parallel branches")
        merged.insert(0, merged.pop(main))
        layers.append(_Layer(merged, s.bias, act, where))
        return _Signal(t, s.shape, s.post_pool, s.flat)

    def pool(v, module, where, position):
        kind = type(module).__name__
        if isinstance(v, _Sum):
            if kind == "MaxPool2d" and not v.post_pool:
                sig_size = v.shape[1:]
                how, kernel, stride, padding = helper._pool_geometry(module, position, sig_size)
                size = pooled_size(sig_size, kernel, stride, padding)
                v.post_pool = (how, kernel, stride, padding, tuple(sig_size))
                v.shape = (v.shape[0], *size)
                return v  # max pooling before a monotone activation equals it after (maps.py)
            refuse(where, "pools before the activation; phi(average) is not the average of phi, so the "
                          "construction cannot carry it: put the pooling after the activation")
        if not isinstance(v, _Signal):
            refuse(where, f"pools {type(v).__name__}")
        shape = signal_shape(v, where)
        if len(shape) != 3 or v.flat:
            refuse(where, "pools a vector; pooling needs a feature map")
        if v.pool:
            refuse(where, "follows another pooling; merge them into one")
        how, kernel, stride, padding = helper._pool_geometry(module, position, shape[1:])
        size = pooled_size(shape[1:], kernel, stride, padding)
        if min(size) < 1:
            refuse(where, f"turns a {shape[1:]} map into an empty one")
        return _Signal(v.producer, (shape[0], *size), (how, kernel, stride, padding, tuple(shape[1:])))

    def flatten(v, where, args):
        dims = list(value(tuple(args), where))
        ok = False
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = list(dims[0])
        if args and all(isinstance(d, (int, _Batch)) for d in dims):
            n = int(np.prod(v.shape)) if v.shape is not None else None
            ok = (len(dims) == 2 and (isinstance(dims[0], _Batch) or dims[0] == -1) and
                  (dims[1] == -1 or dims[1] == n)) or dims == [1] or dims == [1, -1]
        if not ok:
            refuse(where, f"reshapes to {dims}; supported: flatten to (N, -1) (flatten(1), view(x.size(0), -1))")
        if isinstance(v, _Signal):
            return v if v.shape is not None and len(v.shape) == 1 else _Signal(v.producer, v.shape, v.pool, True)
        if isinstance(v, _Sum):
            v.flat = True  # only the output may be a flattened sum; everything else refuses flat sums
            return v
        refuse(where, f"flattens {type(v).__name__}")

    def module_op(node, where):
        module = graph_module.get_submodule(node.target)
        kind = type(module).__name__
        name = node.target
        x = value(node.args[0], where) if node.args else None
        if isinstance(module, nn.Conv2d):
            if not isinstance(x, _Signal):
                refuse(where, "reads a value before its activation (two linear layers in a row); put an activation "
                              "between them")
            weight, geometry = helper._conv_weight(name, module, entries)
            op = read_op(x, where, geometry)
            if op.channels != module.in_channels:
                refuse(where, f"expects {module.in_channels} input channels, got {op.channels}")
            if min(op.out_size) < 1:
                refuse(where, f"turns a {op.in_size} map into an empty one")
            bias = (entries.get(name, module, "bias", (module.out_channels,)) if entries.has(module, "bias")
                    else np.zeros(module.out_channels))
            return _Sum([[x.producer, op, weight.reshape(weight.shape[0], -1)]], bias,
                         (module.out_channels, *op.out_size), where, label=f"Conv2d {name}")
        if isinstance(module, nn.Linear):
            if not isinstance(x, _Signal):
                refuse(where, "reads a value before its activation (two linear layers in a row); put an activation "
                              "between them")
            if x.shape is None:
                x.shape = (module.in_features,)
                state["input"] = x.shape
            op = read_op(x, where, "linear")
            if op.features != module.in_features:
                what = f"a {x.shape} map flattened" if len(x.shape) == 3 else f"{x.shape[0]} features"
                refuse(where, f"expects {module.in_features} input features, got {what}")
            weight = entries.get(name, module, "weight", (module.out_features, module.in_features))
            bias = (entries.get(name, module, "bias", (module.out_features,)) if entries.has(module, "bias")
                    else np.zeros(module.out_features))
            return _Sum([[x.producer, op, weight]], bias, (module.out_features,), where, label=f"Linear {name}")
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return batchnorm(x, module, name, where)
        if kind in ("ReLU", "LeakyReLU", "Tanh", "Sigmoid"):
            from .activations import activation_from_module

            return activate(x, activation_from_module(module), where)
        if isinstance(module, nn.Identity):
            return x
        if isinstance(module, nn.Flatten):
            if module.start_dim != 1 or module.end_dim != -1:
                refuse(where, f"flattens dims {module.start_dim}..{module.end_dim}; supported: flatten to (N, -1)")
            return flatten(x, where, [1])
        if isinstance(module, nn.Dropout):
            if module.training and module.p > 0:
                refuse(where, "is in training mode, so the target is random; call target.eval() first (in eval mode "
                              "Dropout is the identity)")
            return x
        if kind in ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"):
            return pool(x, module, where, name)
        refuse(where, "is not supported; expected nn.Linear, nn.Conv2d, an activation (ReLU, LeakyReLU, Tanh, "
                      "Sigmoid), nn.BatchNorm1d / nn.BatchNorm2d (eval mode), nn.Flatten, nn.Dropout (eval mode), "
                      "nn.Identity, nn.MaxPool2d / nn.AvgPool2d / nn.AdaptiveAvgPool2d, additions and per-channel "
                      "scaling")

    def batchnorm(x, module, name, where):
        kind = type(module).__name__
        if module.training:
            refuse(where, "is in training mode, where it normalises with each batch's statistics; call target.eval() "
                          "first (folding uses its running statistics)")
        if not module.track_running_stats or module.running_mean is None:
            refuse(where, "keeps no running statistics (track_running_stats=False), so it normalises with each "
                          "batch's statistics even after .eval(); folding needs running statistics")
        s = as_sum(x, where) if isinstance(x, _Signal) else x
        if not isinstance(s, _Sum) or s.post_pool or s.flat:
            refuse(where, "follows something it cannot be folded into")
        n = module.num_features
        if s.shape[0] != n or (len(s.shape) == 3) != isinstance(module, nn.BatchNorm2d):
            refuse(where, f"has {n} features; expected {s.shape[0]}, the channels of what it normalises "
                          f"({'a map' if len(s.shape) == 3 else 'a vector'})")
        gamma, beta, mean, var = helper._batchnorm_entries(name, module, entries)
        eps = float(module.eps)
        first, bias = helper._fold_batchnorm(s.parts[0][2], s.bias, gamma, beta, mean, var, eps)
        s.parts[0][2] = first
        for part in s.parts[1:]:
            part[2] = helper._fold_batchnorm(part[2], np.zeros(n), gamma, beta, mean, var, eps)[0]
        s.bias = bias
        folded.append(f"{kind} {name} into {s.label or s.where}")
        return s

    def add(a, b, where):
        for v in (a, b):
            if isinstance(v, (int, float)) or (torch.is_tensor(v)):
                refuse(where, "adds a constant; supported: additions of layer outputs and their linear maps")
        a, b = (consume(as_sum(v, where), where) for v in (a, b))
        if a.post_pool or b.post_pool:
            refuse(where, "adds a max-pooled value before its activation; pool after the activation")
        if a.shape != b.shape:
            refuse(where, f"adds values of shapes {a.shape} and {b.shape}; a residual join needs equal shapes (a "
                          "shortcut that changes the shape is a 1x1 convolution, 'option B')")
        return _Sum(a.parts + b.parts, a.bias + b.bias, a.shape, a.where)

    def mul(a, b, where):
        graph_like = (_Signal, _Sum)
        if isinstance(a, graph_like) and isinstance(b, graph_like):
            refuse(where, "multiplies two values computed from the input (x * y); supported: scaling by a constant "
                          "or a parameter, one factor per channel")
        v, w = (a, b) if isinstance(a, graph_like) else (b, a)
        if not isinstance(v, graph_like):
            refuse(where, "multiplies two constants")
        channels = signal_shape(v, where)[0] if isinstance(v, _Signal) else v.shape[0]
        factors = channel_vector(w, channels, where)
        if isinstance(v, _Signal):
            return as_sum(v, where, factors)
        if v.post_pool and (factors < 0).any():
            refuse(where, "scales a max-pooled value by a negative factor before its activation")
        return scale_sum(consume(v, where), factors)

    for node in graph_module.graph.nodes:
        where = _describe(node, graph_module)
        if node.op == "placeholder":
            if state["placeholder"]:
                refuse(where, "is a second input; a target takes one input tensor")
            state["placeholder"] = True
            values[node] = _Signal(-1, state["input"])
        elif node.op == "get_attr":
            owner, _, attr = node.target.rpartition(".")
            module = graph_module.get_submodule(owner) if owner else graph_module
            tensor = getattr(module, attr)
            values[node] = entries.get(owner, module, attr, tuple(tensor.shape))
        elif node.op == "call_module":
            values[node] = module_op(node, where)
        elif node.op in ("call_function", "call_method"):
            name = node.target if node.op == "call_method" else _name(node.target)
            args = [value(a, where) for a in node.args]
            kwargs = {k: value(v, where) for k, v in node.kwargs.items()}
            if name in _ACTIVATION_FUNCTIONS:
                act_name = _ACTIVATION_FUNCTIONS[name]
                slope = kwargs.get("negative_slope", args[1] if len(args) > 1 and act_name == "leaky_relu" else 0.01)
                values[node] = activate(args[0], get_activation(act_name, negative_slope=slope), where)
            elif name in _ADD or node.target is operator.add:
                if kwargs.get("alpha", 1) != 1:
                    refuse(where, "adds with alpha != 1")
                values[node] = add(args[0], args[1] if len(args) > 1 else kwargs.get("other"), where)
            elif name in _MUL or node.target is operator.mul:
                values[node] = mul(args[0], args[1] if len(args) > 1 else kwargs.get("other"), where)
            elif name in _FLATTEN:
                rest = node.args[1:]
                if name == "flatten":
                    start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
                    end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
                    if start != 1 or end != -1:
                        refuse(where, f"flattens dims {start}..{end}; supported: flatten(1), to (N, -1)")
                    rest = [1]
                values[node] = flatten(args[0], where, rest if name == "flatten" else node.args[1:])
            elif name == "size" or (name == "getattr" and len(args) > 1 and args[1] == "shape"):
                dim = args[1] if name == "size" and len(args) > 1 else kwargs.get("dim")
                values[node] = _Batch() if dim == 0 else _Shape()
            elif name == "getitem":
                if isinstance(args[0], _Shape) and args[1] == 0:
                    values[node] = _Batch()
                else:
                    refuse(where, "indexes or slices a tensor; subsampling shortcuts (x[:, :, ::2, ::2] with zero "
                                  "channel padding, ResNet's 'option A') are not supported: use a 1x1 convolution "
                                  "shortcut ('option B')")
            elif name in _POOL_FUNCTIONS:
                values[node] = pool(args[0], _pool_module(name, args[1:], kwargs), where, node.name)
            elif name in _PASSTHROUGH_METHODS or (name == "dropout" and not kwargs.get("training", False)):
                values[node] = args[0]
            else:
                hint = {"cat": "concatenation is not supported", "pad": "padding of maps is not supported (use a "
                        "convolution's padding; ResNet 'option A' shortcuts are not supported)",
                        "matmul": "products of two computed values are not supported",
                        "softmax": "softmax is not supported (attention is not)"}.get(name, "is not supported")
                refuse(where, f"{hint}; supported: Conv2d, Linear, BatchNorm, relu / leaky_relu / tanh / sigmoid, "
                              "additions, per-channel scaling, flatten and pooling")
        elif node.op == "output":
            out = value(node.args[0], where)
            if isinstance(out, _Sum):
                if out.post_pool:
                    refuse(out.where, "is pooled as the last layer's output; pooling is supported only before "
                                      "another layer")
                make_layer(consume(out, where), None, where)
            elif isinstance(out, _Signal):
                if out.producer != len(layers) - 1 or out.producer < 0:
                    refuse(where, "returns something other than the last layer's output")
                if out.pool:
                    refuse(where, "returns a pooled output; pooling is supported only before another layer")
            else:
                refuse(where, f"returns {type(out).__name__}; expected one tensor")
    entries.check()
    if not layers:
        raise ValueError("target: expected at least one Linear or Conv2d layer, got none")
    return layers, folded, state["input"]


def _pool_module(name, args, kwargs):
    """The pooling module a functional pooling call equals."""
    from torch import nn

    if name == "adaptive_avg_pool2d":
        return nn.AdaptiveAvgPool2d(args[0] if args else kwargs["output_size"])
    cls = nn.AvgPool2d if name == "avg_pool2d" else nn.MaxPool2d
    return cls(*args, **kwargs)
