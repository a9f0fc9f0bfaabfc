"""Random source networks: initialisation schemes, user-given sources, Erdős–Rényi masks.

Layout: every source layer is a weight array (out_features, in_features) in PyTorch layout,
float32, plus an optional bias (out_features,). Weights are in "construction units" after
multiplying by the layer's scale factor (stored in the ticket): a generated source is drawn in
those units already (scale factor 1 before the construction's own factors).

Random numbers: layer l of a generated source is drawn from
``numpy.random.default_rng([seed, 0, l])`` and its ER mask from ``default_rng([seed, 1, l])``,
so any single layer is regenerated from the seed alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "INITS",
    "DENSITY_SCHEMES",
    "GeneratedSource",
    "generate_layer",
    "layer_densities",
    "er_mask",
    "er_widening",
    "parse_source",
    "unit_scale",
]

INITS = ("uniform", "looks_linear")
DENSITY_SCHEMES = ("uniform", "erk", "balanced", "pyramidal")


def generate_layer(shape: tuple[int, int], init: str, rng: np.random.Generator, *, first: bool) -> np.ndarray:
    """One weight matrix (out, in) float32.

    ``"uniform"``: iid Uniform[-1, 1] (001_d33223a708772bec.txt, Assumption 2.1).
    ``"looks_linear"``: Assumption 2.2, ``W = [[M, -M], [-M, M]]`` with M iid Uniform[-1, 1]; the
    first layer (inputs not doubled) is ``[M; -M]``. Rows k and k + out/2 then carry opposite
    weights, which the constructions pair to cancel the intercept of the activation.

    >>> w = generate_layer((4, 2), "looks_linear", np.random.default_rng(0), first=True)
    >>> bool((w[:2] == -w[2:]).all())
    True
    """
    out_f, in_f = shape
    if init == "uniform":
        return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    if init != "looks_linear":
        raise ValueError(f"source: expected an init from {INITS}, got {init!r}")
    if in_f % 2 and not first:
        raise ValueError(f"source: looks-linear layers need an even number of inputs, got shape {shape}")
    half = (out_f + 1) // 2  # an odd output layer keeps the first out_f rows
    if first:
        m = rng.uniform(-1.0, 1.0, size=(half, in_f)).astype(np.float32)
        return np.concatenate([m, -m], axis=0)[:out_f]
    m = rng.uniform(-1.0, 1.0, size=(half, in_f // 2)).astype(np.float32)
    return np.block([[m, -m], [-m, m]])[:out_f]


@dataclass(frozen=True)
class GeneratedSource:
    """A source network regenerated from its seed.

    Attributes
    ----------
    seed : int
    shapes : list of (out, in)
    inits : list of str, one of ``INITS`` per layer
    biases : list of bool
        Layer l has a Uniform[-1, 1] bias (only the first layer, Assumption 2.1).
    """

    seed: int
    shapes: list
    inits: list
    biases: list

    def layer(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(weight (out, in) float32, bias (out,) float32 or None) of layer ``index``.

        >>> src = GeneratedSource(0, [(3, 2)], ["uniform"], [True])
        >>> w, b = src.layer(0)
        >>> w.shape, b.shape, bool(np.abs(w).max() <= 1)
        ((3, 2), (3,), True)
        """
        rng = np.random.default_rng([self.seed, 0, index])
        w = generate_layer(tuple(self.shapes[index]), self.inits[index], rng, first=index == 0)
        b = rng.uniform(-1.0, 1.0, size=self.shapes[index][0]).astype(np.float32) if self.biases[index] else None
        return w, b

    def to_json(self) -> dict:
        return {"seed": self.seed, "shapes": [list(s) for s in self.shapes], "inits": list(self.inits),
                "biases": list(self.biases)}


def _fill_to_density(weights: np.ndarray, sizes: np.ndarray, density: float) -> np.ndarray:
    """p_l = min(1, c * weights_l) with c chosen so that sum(p_l m_l) = density * sum(m_l)."""
    target = density * sizes.sum()
    lo, hi = 0.0, 1.0
    while (np.minimum(1.0, hi * weights) * sizes).sum() < target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (np.minimum(1.0, mid * weights) * sizes).sum() < target:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * weights)


def layer_densities(shapes, density: float, scheme: str = "uniform") -> list[float]:
    """Layer-wise ER densities p_l with overall density ``density`` (sum p_l m_l / sum m_l).

    000_79c8cccaad099f72.txt, section "Sparsity Ratios": ``uniform`` p_l = p; ``erk``
    p_l proportional to (n_in + n_out) / (n_in n_out); ``balanced`` the same number of edges in
    every layer (p_l proportional to 1 / m_l); ``pyramidal`` p_l = p_1^l. Layers that would exceed
    density 1 are capped at 1 and the others raised to keep the overall density (for balanced
    this slightly improves on the paper's plain cap, which loses edges).

    >>> [round(p, 3) for p in layer_densities([(100, 10), (10, 100)], 0.5, "pyramidal")]
    [0.618, 0.382]
    """
    if scheme not in DENSITY_SCHEMES:
        raise ValueError(f"density_scheme: expected one of {DENSITY_SCHEMES}, got {scheme!r}")
    if isinstance(density, bool) or not isinstance(density, (int, float, np.floating)):
        raise TypeError(f"density: expected a float in (0, 1], got {type(density).__name__}")
    density = float(density)
    if not (0.0 < density <= 1.0):
        raise ValueError(f"density: expected a float in (0, 1], got {density}")
    sizes = np.array([o * i for o, i in shapes], dtype=np.float64)
    if density == 1.0:
        return [1.0] * len(shapes)
    if scheme == "uniform":
        return [density] * len(shapes)
    if scheme == "erk":
        return _fill_to_density(np.array([(o + i) / (o * i) for o, i in shapes]), sizes, density).tolist()
    if scheme == "balanced":
        return _fill_to_density(1.0 / sizes, sizes, density).tolist()
    powers = np.arange(1, len(shapes) + 1, dtype=np.float64)
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if ((mid ** powers) * sizes).sum() < density * sizes.sum():
            lo = mid
        else:
            hi = mid
    return (hi ** powers).tolist()


def er_mask(shape: tuple[int, int], p: float, seed: int, index: int) -> np.ndarray | None:
    """Bernoulli(p) edge mask (out, in) bool of source layer ``index``, or None when p == 1.

    >>> m = er_mask((200, 100), 0.3, seed=0, index=1)
    >>> bool(abs(m.mean() - 0.3) < 0.02)
    True
    """
    if p >= 1.0:
        return None
    return np.random.default_rng([seed, 1, index]).random(shape) < p


def er_widening(p: float) -> float:
    """Base-set widening factor ``max(1, 1 / log(1 / (1 - p)))`` for ER density p.

    000_79c8cccaad099f72.txt, Lemma 2.4: masked bases need ``n >= C / log(1/(1-p)) * log(...)``.

    >>> round(er_widening(0.5), 3), er_widening(1.0)
    (1.443, 1.0)
    """
    if p >= 1.0:
        return 1.0
    return max(1.0, 1.0 / math.log(1.0 / (1.0 - p)))


def unit_scale(weight: np.ndarray) -> float:
    """Factor mapping a user-initialised layer to Uniform[-1, 1] units: ``1 / (sqrt(3) std)``.

    Exact for any uniform init U[-a, a] (std = a / sqrt(3)), e.g. PyTorch's default
    U[-1/sqrt(fan_in), 1/sqrt(fan_in)]; the lambda_l = 1 / sigma_l rescaling of
    001_d33223a708772bec.txt, section 2 ("convenient initialization").

    >>> w = np.random.default_rng(0).uniform(-0.1, 0.1, size=(300, 300))
    >>> round(unit_scale(w), 1)
    10.0
    """
    std = float(np.std(weight))
    if not std > 0:
        raise ValueError("source: a layer has constant weights (std 0); expected a random initialisation")
    return 1.0 / (math.sqrt(3.0) * std)


def parse_source(source) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """User-given source layers as [(weight (out, in) float32, bias (out,) float32 or None)].

    ``source``: a torch module (its ``nn.Linear`` layers in order) or a list whose entries are
    weight arrays/tensors or (weight, bias) pairs.

    >>> layers = parse_source([np.ones((3, 2)), (np.ones((1, 3)), np.zeros(1))])
    >>> [(w.shape, None if b is None else b.shape) for w, b in layers]
    [((3, 2), None), ((1, 3), (1,))]
    """
    entries = []
    if type(source).__module__.split(".")[0] == "torch":
        from torch import nn

        if not isinstance(source, nn.Module):
            raise TypeError(f"source: expected a torch module or a list of arrays, got {type(source).__name__}")
        entries = [(m.weight, m.bias) for m in source.modules() if isinstance(m, nn.Linear)]
    elif isinstance(source, (list, tuple)):
        for entry in source:
            entries.append(tuple(entry) if isinstance(entry, (list, tuple)) else (entry, None))
    else:
        raise TypeError(f"source: expected None, 'uniform', 'looks_linear', a torch module or a list of arrays, "
                        f"got {type(source).__name__}")
    if not entries:
        raise ValueError("source: expected at least one linear layer, got none")
    out = []
    for index, entry in enumerate(entries):
        if len(entry) != 2:
            raise TypeError(f"source layer {index}: expected a weight or a (weight, bias) pair")
        w, b = entry
        w = _as_float32(f"source layer {index} weight", w)
        if w.ndim != 2:
            raise ValueError(f"source layer {index} weight: expected shape (out, in), got {w.shape}")
        if out and w.shape[1] != out[-1][0].shape[0]:
            raise ValueError(f"source layer {index} weight: expected {out[-1][0].shape[0]} input features, got shape {w.shape}")
        if b is not None:
            b = _as_float32(f"source layer {index} bias", b)
            if b.shape != (w.shape[0],):
                raise ValueError(f"source layer {index} bias: expected shape ({w.shape[0]},), got {b.shape}")
        out.append((w, b))
    return out


def _as_float32(name: str, a) -> np.ndarray:
    if type(a).__module__.split(".")[0] == "torch":
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real-valued array, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return arr
