"""The target network: parsing, forward pass, and the error budget of Lemma 2.8.

Layout fixed for all of the ticket code: weights in PyTorch layout, ``W[l]`` of shape
(n_l, n_{l-1}) float64, biases (n_l,) float64; inputs live in the domain [-M, M]^d
(``input_bound`` M, 1 unless the user says otherwise).

What is read: a layer pruned with ``torch.nn.utils.prune`` counts with its mask
(``weight_orig * weight_mask``, read explicitly, whether or not the forward hook has run); a
state dict can supply the weights of a skeleton ``nn.Sequential`` (plain or pruned entries); an
``nn.BatchNorm1d`` in eval mode directly after an ``nn.Linear`` is folded into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .activations import SUPPORTED_ACTIVATION_MODULES, Activation, activation_from_module, get_activation

__all__ = ["TargetNetwork", "parse_target"]


@dataclass(frozen=True)
class TargetNetwork:
    """A fully connected target network ``x -> act(W x + b)`` layer by layer.

    Attributes
    ----------
    weights : list of float64 arrays (n_l, n_{l-1})
    biases : list of float64 arrays (n_l,)
    activation : Activation
        Applied after every hidden layer (the source network uses it in every hidden layer).
    output_activation : Activation or None
        Applied after the last layer, or nothing.
    folded : tuple of str
        What was folded into the weights while parsing, one line per module (e.g.
        "BatchNorm1d at position 1 into Linear at position 0"); empty when nothing was.
    """

    weights: list
    biases: list
    activation: Activation
    output_activation: Activation | None
    folded: tuple = ()

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def widths(self) -> list[int]:
        """[n_0, n_1, ..., n_L]."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

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
        """Outputs (B, n_L) float64 for inputs x (B, n_0).

        >>> t = parse_target([(np.eye(2), np.zeros(2))])
        >>> t.forward(np.array([[0.5, -0.5]])).tolist()
        [[0.5, -0.5]]
        """
        h = np.asarray(x, dtype=np.float64)
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w.T + b
            act = self.layer_activation(layer)
            if act is not None:
                h = act(h)
        return h

    def activation_bounds(self, input_bound: float = 1.0) -> list[np.ndarray]:
        """Per-neuron bounds ``sup |x_i^(l)|`` over the domain ``[-M, M]^d`` (M = input_bound),
        for l = 0..L-1 (l = 0: the inputs).

        Interval arithmetic through the network (every supported activation is monotone), so
        the bounds are rigorous; ``M_l`` of 001_d33223a708772bec.txt, Lemma 2.8 is their sum.

        >>> t = parse_target([(np.array([[1.0, -2.0]]), np.array([0.5]))])
        >>> [b.tolist() for b in t.activation_bounds(2.0)]
        [[2.0, 2.0]]
        """
        lo = -np.full(self.widths[0], float(input_bound))
        hi = -lo
        bounds = [np.maximum(np.abs(lo), np.abs(hi))]
        for layer, (w, b) in enumerate(zip(self.weights[:-1], self.biases[:-1])):
            lo, hi = self._interval(layer, lo, hi)
            bounds.append(np.maximum(np.abs(lo), np.abs(hi)))
        return bounds

    def output_range(self, input_bound: float = 1.0) -> np.ndarray:
        """``sup |f_i(x)|`` over ``[-M, M]^d`` per output (interval arithmetic), the scale that
        relative end-to-end errors are measured against."""
        lo = -np.full(self.widths[0], float(input_bound))
        hi = -lo
        for layer in range(self.depth):
            lo, hi = self._interval(layer, lo, hi)
        return np.maximum(np.abs(lo), np.abs(hi))

    def _interval(self, layer, lo, hi):
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
        key = f"{position}.{name}"
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
    if position == 0 or not isinstance(modules[position - 1], nn.Linear):
        where = ("is the first module" if position == 0 else
                 f"follows module {position - 1} ({type(modules[position - 1]).__name__})")
        raise ValueError(f"target: module {position} ({kind}) {where}; a {kind} is folded into the nn.Linear "
                         "directly before it (before that layer's activation), so it must come right after one")
    if module.training:
        raise ValueError(f"target: module {position} ({kind}) is in training mode, where it normalises with each "
                         "batch's statistics; call target.eval() first (folding uses its running statistics)")
    if not module.track_running_stats or module.running_mean is None:
        raise ValueError(f"target: module {position} ({kind}) keeps no running statistics "
                         "(track_running_stats=False), so it normalises with each batch's statistics even after "
                         ".eval(); folding needs running statistics: build it with track_running_stats=True, "
                         "train, then call .eval()")
    out = modules[position - 1].out_features
    if module.num_features != out:
        raise ValueError(f"target: module {position} ({kind}) has {module.num_features} features; expected {out}, "
                         f"the outputs of the nn.Linear at position {position - 1}")


def parse_target(target, *, activation=None, state_dict=None) -> TargetNetwork:
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

    Zero weights (pruned or not) are part of the target; the construction gives them no
    subset-sum problem (the empty subset is exact).

    >>> t = parse_target([(np.ones((3, 2)), None), (np.ones((1, 3)), np.zeros(1))], activation="tanh")
    >>> t.widths, t.activation.name
    ([2, 3, 1], 'tanh')
    """
    layers = []  # (weight, bias, activation-after or None)
    folded = []
    if type(target).__module__.split(".")[0] == "torch":
        from torch import nn

        if not isinstance(target, nn.Sequential):
            raise TypeError(f"target: expected torch.nn.Sequential or a list of (weight, bias), got {type(target).__name__}")
        entries = _Entries(state_dict)
        modules = list(target)
        for position, module in enumerate(modules):
            kind = type(module).__name__
            if isinstance(module, nn.Linear):
                weight = entries.get(position, module, "weight", (module.out_features, module.in_features))
                bias = (entries.get(position, module, "bias", (module.out_features,))
                        if entries.has(module, "bias") else None)
                layers.append([weight, bias, None])
            elif isinstance(module, nn.BatchNorm1d):
                _check_batchnorm(position, module, modules)
                n = module.num_features
                ones = np.ones(n)
                gamma = entries.get(position, module, "weight", (n,)) if module.affine else ones
                beta = entries.get(position, module, "bias", (n,)) if module.affine else 0.0 * ones
                mean = entries.get(position, module, "running_mean", (n,))
                var = entries.get(position, module, "running_var", (n,))
                entries.skip(f"{position}.num_batches_tracked")
                if (var < 0).any():
                    raise ValueError(f"target module {position} ({kind}) running_var: expected nonnegative variances, "
                                     f"found {float(var.min()):g}")
                weight, bias = layers[-1][0], layers[-1][1]
                bias = np.zeros(n) if bias is None else bias
                layers[-1][0], layers[-1][1] = _fold_batchnorm(weight, bias, gamma, beta, mean, var, float(module.eps))
                folded.append(f"{kind} at position {position} into Linear at position {position - 1}")
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
                raise ValueError(f"target: module {position} ({kind}) is not supported; expected nn.Linear, an "
                                 f"activation ({', '.join(SUPPORTED_ACTIVATION_MODULES)}), nn.BatchNorm1d (eval mode, "
                                 "after an nn.Linear), nn.Flatten or nn.Dropout (eval mode)")
        entries.check()
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
            layers.append([entry[0], entry[1], hidden])
        if layers:
            layers[-1][2] = None
    else:
        raise TypeError(f"target: expected torch.nn.Sequential or a list of (weight, bias), got {type(target).__name__}")
    if not layers:
        raise ValueError("target: expected at least one linear layer, got none")

    weights, biases = [], []
    for position, (w, b, _act) in enumerate(layers):
        w = _as_float64(f"target layer {position} weight", w)
        if w.ndim != 2 or w.size == 0:
            raise ValueError(f"target layer {position} weight: expected shape (out, in), got {w.shape}")
        if weights and w.shape[1] != weights[-1].shape[0]:
            raise ValueError(
                f"target layer {position} weight: expected {weights[-1].shape[0]} input features "
                f"(the previous layer's outputs), got shape {w.shape}"
            )
        b = np.zeros(w.shape[0]) if b is None else _as_float64(f"target layer {position} bias", b)
        if b.shape != (w.shape[0],):
            raise ValueError(f"target layer {position} bias: expected shape ({w.shape[0]},), got {b.shape}")
        weights.append(w)
        biases.append(b)

    hidden_acts = {(a.name, a.negative_slope) for _w, _b, a in layers[:-1] if a is not None}
    if any(a is None for _w, _b, a in layers[:-1]):
        missing = [i for i, (_w, _b, a) in enumerate(layers[:-1]) if a is None][0]
        raise ValueError(f"target: hidden layer {missing} has no activation; expected one after every hidden nn.Linear")
    if len(hidden_acts) > 1:
        raise ValueError(f"target: every hidden layer must use the same activation, got {sorted(hidden_acts)}")
    output_act = layers[-1][2]
    hidden = layers[0][2] if len(layers) > 1 else (output_act or get_activation(activation or "relu"))
    return TargetNetwork(weights, biases, hidden, output_act, tuple(folded))
