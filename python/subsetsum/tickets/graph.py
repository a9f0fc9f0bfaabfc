"""The target network: parsing, forward pass, and the error budget of Lemma 2.8.

Layout fixed for all of the ticket code: weights in PyTorch layout, ``W[l]`` of shape
(n_l, n_{l-1}) float64, biases (n_l,) float64; inputs live in the domain [-M, M]^d
(``input_bound`` M, 1 unless the user says otherwise).
"""

from __future__ import annotations

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
    """

    weights: list
    biases: list
    activation: Activation
    output_activation: Activation | None

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def widths(self) -> list[int]:
        """[n_0, n_1, ..., n_L]."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @property
    def num_parameters(self) -> int:
        """Nonzero weights and biases."""
        return int(sum(np.count_nonzero(w) + np.count_nonzero(b) for w, b in zip(self.weights, self.biases)))

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


def parse_target(target, *, activation=None) -> TargetNetwork:
    """A :class:`TargetNetwork` from a torch ``nn.Sequential`` or a list of (weight, bias).

    Parameters
    ----------
    target : torch.nn.Sequential or list of (weight, bias)
        Sequential: ``nn.Linear`` layers, each optionally followed by one activation module
        (ReLU, LeakyReLU, Tanh, Sigmoid, Identity); every hidden layer must use the same
        activation. ``nn.Flatten`` and ``nn.Dropout`` in eval mode are the identity and skipped. List: weights (n_l, n_{l-1}) in PyTorch layout and biases (n_l,) or None,
        arrays or tensors; the hidden activation is ``activation`` and there is no output
        activation.
    activation : str, optional
        Hidden activation for a list target (default "relu"); also used by a target with a
        single layer, which has no hidden activation of its own.

    >>> t = parse_target([(np.ones((3, 2)), None), (np.ones((1, 3)), np.zeros(1))], activation="tanh")
    >>> t.widths, t.activation.name
    ([2, 3, 1], 'tanh')
    """
    layers = []  # (weight, bias, activation-after or None)
    if type(target).__module__.split(".")[0] == "torch":
        from torch import nn

        if not isinstance(target, nn.Sequential):
            raise TypeError(f"target: expected torch.nn.Sequential or a list of (weight, bias), got {type(target).__name__}")
        modules = list(target)
        for position, module in enumerate(modules):
            kind = type(module).__name__
            if isinstance(module, nn.Linear):
                bias = module.bias if module.bias is not None else None
                layers.append([module.weight, bias, None])
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
                                 f"activation ({', '.join(SUPPORTED_ACTIVATION_MODULES)}), nn.Flatten or nn.Dropout "
                                 "(eval mode)")
    elif isinstance(target, (list, tuple)):
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
    return TargetNetwork(weights, biases, hidden, output_act)
