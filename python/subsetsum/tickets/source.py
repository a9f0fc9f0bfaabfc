"""Source networks: generated (every weight a pure function of its coordinates) or given by the
user, Erdős–Rényi edge masks, and layer-wise densities.

Layout: source layer s is a weight matrix (rows, cols) in PyTorch layout, float32, whose columns
are the rows of layer s - 1 (the target's inputs for s = 0); only layer 0 has a bias. The
construction never needs a whole layer: it gathers the blocks its problems use, and a layer grows
by appending rows (which appends columns to the next layer) without moving any existing weight.

Generated sources are virtual. With ``u(stream, s, r, c)`` the Philox4x32-10 value of
:mod:`subsetsum._philox` keyed by the seed (uniform in (-1, 1), float32):

* ``"uniform"`` (001_d33223a708772bec.txt, Assumption 2.1): ``W_s[r, c] = u(0, s, r, c)``;
* ``"looks_linear"`` (Assumption 2.2, ``W = [[M, -M], [-M, M]]``): rows and columns pair up as
  (2q, 2q + 1), ``W_s[2q + a, 2p + b] = (-1)^(a + b) u(0, s, q, p)``; the first layer (inputs
  not paired) has ``W_0[2q + a, c] = (-1)^a u(0, 0, q, c)``. Interleaved pairs (partner
  ``r ^ 1``) let a layer grow by whole pairs. A layer that reads ``fan`` columns per row of the
  layer before (a convolution's kernel offsets, a flattened map's positions; :mod:`.maps`)
  pairs column ``(2p + b) * fan + o`` with its partner row's column at the same offset o:
  ``W_s[2q + a, (2p + b) fan + o] = (-1)^(a + b) u(0, s, q, p fan + o)``;
* first-layer bias ``b[r] = u(2, 0, r, 0)``;
* ER mask ``E_s[r, c] = [v(1, s, r, c) < p_s]`` with the Bernoulli draw of the same generator.

So a ticket stores a seed instead of its source, and any row, column or element can be
regenerated on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _philox
from .._checks import check_int

__all__ = [
    "INITS",
    "DENSITY_SCHEMES",
    "WEIGHT_STREAM",
    "MASK_STREAM",
    "BIAS_STREAM",
    "GeneratedSource",
    "UserSource",
    "ERMasks",
    "layer_densities",
    "er_widening",
    "parse_source",
    "unit_scale",
]

INITS = ("uniform", "looks_linear")
DENSITY_SCHEMES = ("uniform", "erk", "balanced", "pyramidal")
WEIGHT_STREAM, MASK_STREAM, BIAS_STREAM = 0, 1, 2


def _as_index(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.int64).ravel())


@dataclass(frozen=True)
class GeneratedSource:
    """A source regenerated from its seed, of any size.

    Attributes
    ----------
    seed : int >= 0
    inits : list of str, one of ``INITS`` per layer
    biases : list of bool, one per layer: layer s has a bias (only the first, Assumption 2.1)
    fans : tuple of int, one per layer (empty: all 1)
        Columns per row of the layer before (:mod:`.maps`); looks-linear columns pair across rows
        at the same offset.

    >>> src = GeneratedSource(7, ["uniform", "looks_linear"], [True, False])
    >>> w = src.weights(1, np.arange(4), np.arange(4))
    >>> bool((w[1] == -w[0]).all() and (w[:, 1] == -w[:, 0]).all())
    True
    >>> bool((src.weights(0, [5], [2]) == src.weights(0, np.arange(9), np.arange(3))[5, 2]).all())
    True
    """

    seed: int
    inits: list
    biases: list
    fans: tuple = ()

    def __post_init__(self):
        check_int("seed", self.seed, 0, 2**64)
        for s, init in enumerate(self.inits):
            if init not in INITS:
                raise ValueError(f"source: layer {s} init: expected one of {INITS}, got {init!r}")

    @property
    def depth(self) -> int:
        return len(self.inits)

    def pairs(self, s: int) -> bool:
        """Rows of layer s come in looks-linear pairs (r, r ^ 1) with opposite weights."""
        return self.inits[s] == "looks_linear"

    def capacity(self, s: int) -> int | None:
        """Largest number of rows layer s can have (None: unbounded)."""
        return None

    def weights(self, s: int, rows, cols, *, outer: bool = True) -> np.ndarray:
        """``W_s[rows][:, cols]`` (outer: float32 (R, C)) or ``W_s[rows[i], cols[i]]`` (R,)."""
        return self._draw(s, _as_index(rows), _as_index(cols), outer, _philox.uniform, np.where)

    def weights_tensor(self, s: int, rows, cols, *, outer: bool = True):
        """:meth:`weights` at int64 torch tensors ``rows`` and ``cols``, drawn on their device (a
        float32 tensor there): the same bits as :meth:`weights`.

        >>> import torch
        >>> src = GeneratedSource(7, ["uniform", "looks_linear"], [True, False])
        >>> bool((src.weights_tensor(1, torch.arange(4), torch.arange(6)).numpy() == src.weights(1, range(4), range(6))).all())
        True
        """
        import torch

        return self._draw(s, rows, cols, outer, _philox.uniform_tensor, torch.where)

    def _draw(self, s, rows, cols, outer, uniform, where):
        """The weights of the docstring's contract from ``uniform(seed, stream, layer, rows, cols,
        outer=)``; index arithmetic written once for numpy arrays and torch tensors alike."""
        if self.inits[s] == "uniform":
            return uniform(self.seed, WEIGHT_STREAM, s, rows, cols, outer=outer)
        if s == 0:
            vals = uniform(self.seed, WEIGHT_STREAM, s, rows >> 1, cols, outer=outer)
            sign = (rows & 1)[:, None] if outer else (rows & 1)
        else:
            fan = self.fans[s] if self.fans else 1
            row_in = cols // fan
            offset = cols - row_in * fan
            vals = uniform(self.seed, WEIGHT_STREAM, s, rows >> 1, (row_in >> 1) * fan + offset, outer=outer)
            sign = ((rows & 1)[:, None] + (row_in & 1)[None, :]) if outer else (rows & 1) + (row_in & 1)
        return where((sign & 1) == 1, -vals, vals)

    def bias(self, s: int, rows) -> np.ndarray | None:
        """Bias of the given rows of layer s (float32), or None for a layer without one."""
        if not self.biases[s]:
            return None
        rows = _as_index(rows)
        return _philox.uniform(self.seed, BIAS_STREAM, s, rows, np.zeros(rows.size, np.int64), outer=False)

    def layer(self, s: int, shape) -> tuple[np.ndarray, np.ndarray | None]:
        """The whole layer s at ``shape`` (rows, cols): (weight float32, bias or None)."""
        rows, cols = shape
        return self.weights(s, np.arange(rows), np.arange(cols)), self.bias(s, np.arange(rows))

    def to_json(self) -> dict:
        out = {"kind": "generated", "generator": "philox4x32-10", "seed": self.seed,
               "inits": list(self.inits), "biases": list(self.biases)}
        if any(f != 1 for f in self.fans):
            out["fans"] = [int(f) for f in self.fans]
        return out


@dataclass(frozen=True)
class UserSource:
    """A source given as arrays: ``layers[s] = (weight (rows, cols) float32, bias (rows,) or None)``.

    Its widths are fixed: rows beyond what the construction lays out are spare rows, which the
    repair pass may use.

    >>> src = UserSource([(np.ones((3, 2), np.float32), None)])
    >>> src.weights(0, [0, 2], [1]).shape, src.capacity(0)
    ((2, 1), 3)
    """

    layers: list

    @property
    def depth(self) -> int:
        return len(self.layers)

    def pairs(self, s: int) -> bool:
        return False

    def capacity(self, s: int) -> int | None:
        return int(self.layers[s][0].shape[0])

    def weights(self, s: int, rows, cols, *, outer: bool = True) -> np.ndarray:
        w = self.layers[s][0]
        rows, cols = _as_index(rows), _as_index(cols)
        return w[np.ix_(rows, cols)] if outer else w[rows, cols]

    def weights_tensor(self, s: int, rows, cols, *, outer: bool = True):
        """:meth:`weights` at int64 torch tensors, gathered on their device from a copy of layer s
        made there once (on the host: the array itself, no copy).

        >>> import torch
        >>> src = UserSource([(np.arange(6, dtype=np.float32).reshape(3, 2), None)])
        >>> src.weights_tensor(0, torch.tensor([2, 0]), torch.tensor([1])).tolist()
        [[5.0], [1.0]]
        """
        w = self._layer_on(s, rows.device)
        return w[rows[:, None], cols[None, :]] if outer else w[rows, cols]

    def _layer_on(self, s: int, device):
        import torch

        copies = self.__dict__.setdefault("_copies", {})  # not a field: frozen, compared and pickled without it
        key = (s, str(device))
        if key not in copies:
            copies[key] = torch.from_numpy(self.layers[s][0]).to(device)
        return copies[key]

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_copies"}  # device copies stay behind

    def bias(self, s: int, rows) -> np.ndarray | None:
        b = self.layers[s][1]
        return None if b is None else b[_as_index(rows)]

    def layer(self, s: int, shape) -> tuple[np.ndarray, np.ndarray | None]:
        w, b = self.layers[s]
        return w, b

    def to_json(self) -> dict:
        return {"kind": "user", "shapes": [list(w.shape) for w, _b in self.layers],
                "biases": [b is not None for _w, b in self.layers]}


@dataclass(frozen=True)
class ERMasks:
    """Erdős–Rényi edge masks of every source layer: edge (r, c) of layer s exists with
    probability ``densities[s]``, drawn from (seed, layer, row, col) alone.

    >>> er = ERMasks(0, [0.3, 1.0])
    >>> m = er.mask(0, np.arange(200), np.arange(100))
    >>> bool(abs(m.mean() - 0.3) < 0.02), er.mask(1, [0], [0]) is None
    (True, True)
    """

    seed: int
    densities: list

    def dense(self, s: int) -> bool:
        return self.densities[s] >= 1.0

    def mask(self, s: int, rows, cols, *, outer: bool = True) -> np.ndarray | None:
        """Bool (R, C) (outer) or (R,), or None when layer s is dense."""
        if self.dense(s):
            return None
        return _philox.bernoulli(self.seed, MASK_STREAM, s, _as_index(rows), _as_index(cols),
                                 float(self.densities[s]), outer=outer)

    def mask_tensor(self, s: int, rows, cols, *, outer: bool = True):
        """:meth:`mask` at int64 torch tensors, drawn on their device (bool tensor), or None.

        >>> import torch
        >>> er = ERMasks(0, [0.3])
        >>> bool((er.mask_tensor(0, torch.arange(5), torch.arange(7)).numpy() == er.mask(0, range(5), range(7))).all())
        True
        """
        if self.dense(s):
            return None
        return _philox.bernoulli_tensor(self.seed, MASK_STREAM, s, rows, cols, float(self.densities[s]), outer=outer)

    def to_json(self) -> dict:
        return {"seed": self.seed, "densities": [float(p) for p in self.densities]}


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


def er_widening(p: float) -> float:
    """Base-set widening factor ``max(1, 1 / log(1 / (1 - p)))`` for ER density p.

    000_79c8cccaad099f72.txt, Lemma 2.4: masked bases need ``n >= C / log(1/(1-p)) * log(...)``.
    (The construction sizes ER base sets from measured curves, :mod:`.sizing`; this is the
    paper's factor, for comparison.)

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
    arr = np.array(arr, dtype=np.float32, order="C", copy=True)  # the ticket must not change with the caller's tensor
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return arr
