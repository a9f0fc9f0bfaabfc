"""Pruning at initialization: masks from scores, sketching and SynFlow (003), as numpy arrays.

The baselines a strong ticket is compared with. Everything is numpy; torch is needed only where
a module is involved (:func:`synflow_scores`, :func:`apply_mask`) and is imported there.

* :func:`optimal_probabilities` and :func:`sketch_mask`: 003_3a02d48777e82c5c.txt, Algorithm 1
  (sampling ``s`` entries i.i.d. with replacement from ``p``; entry i of the mask is
  ``count_i / (s p_i)``) with the optimal ``p_i ~ ||X_(i)|| |w_i|`` of eq. (2). The expected
  error of such masks is :func:`subsetsum.theory.sketch_error` (Lemma 4.1).
* :func:`synflow_scores`: SynFlow's data-free scores ``|dR/dw * w|`` with
  ``R = 1^T f(1; |w|)`` (003 eq. 3), one-shot or iterative, and with chi-distributed inputs
  (003 sections 5 and 8) or any input vector (eq. 4: the feature norms ``||X_(i)||``).
* :func:`topk_mask` (plain thresholding) and :func:`randomized_mask` (003 section 8: global
  threshold -> per-layer counts -> sampling by score inside each layer).
* :func:`apply_mask`: masks onto a torch module through
  ``torch.nn.utils.prune.custom_from_mask``, so the result carries ``weight_orig`` and
  ``weight_mask`` like every pruned model and like :meth:`subsetsum.Ticket.to_module`.

Scores and masks of a network are dicts ``{parameter name: array}`` with the names of
``module.named_parameters()`` (``"0.weight"``); the functions that take scores also take one
array (one layer). Random draws come from an explicit ``seed`` (an int or a
``numpy.random.Generator``); nothing touches global random state.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping, Union

import numpy as np

from ._checks import check_int

SeedLike = Union[int, np.random.Generator]
Scores = Union[np.ndarray, Mapping[str, np.ndarray]]

# Relative tolerance on sum(probabilities) = 1.
PROBABILITY_SUM_TOLERANCE = 1e-6

# 003 section 8: chi-distributed SynFlow inputs are the l2 norms of normal vectors of dimension 128.
DEFAULT_CHI_DEGREES_OF_FREEDOM = 128

__all__ = [
    "PROBABILITY_SUM_TOLERANCE",
    "DEFAULT_CHI_DEGREES_OF_FREEDOM",
    "SketchMask",
    "optimal_probabilities",
    "sketch_mask",
    "synflow_scores",
    "topk_mask",
    "randomized_mask",
    "apply_mask",
]


# --------------------------------------------------------------------------------------------
# validation


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"seed: expected an int >= 0 or a numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _real_array(name: str, value, *, nonnegative: bool = False) -> np.ndarray:
    """float64 array of finite numbers (strings, bools and objects refused)."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected an array of numbers, got {type(value).__name__}") from exc
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected an array of numbers, got dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values (no NaN or inf)")
    if nonnegative and (arr < 0).any():
        raise ValueError(f"{name}: expected values >= 0, got a minimum of {arr.min():g}")
    return arr


def _density(density) -> float:
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        raise TypeError(f"density: expected a number in (0, 1], got {type(density).__name__}")
    value = float(density)
    if not 0.0 < value <= 1.0:  # NaN fails too
        raise ValueError(f"density: expected a number in (0, 1], got {value}")
    return value


def _layers(scores: Scores) -> tuple[dict, bool]:
    """Scores as {name: nonnegative float64 array} and whether one array was given."""
    if isinstance(scores, Mapping):
        if not scores:
            raise ValueError("scores: expected at least one layer, got an empty mapping")
        out = {}
        for name, value in scores.items():
            if not isinstance(name, str):
                raise TypeError(f"scores: expected parameter names (str) as keys, got {name!r}")
            out[name] = _real_array(f"scores[{name!r}]", value, nonnegative=True)
        return out, False
    return {"": _real_array("scores", scores, nonnegative=True)}, True


def _keep_count(density: float, total: int) -> int:
    """Entries kept at ``density`` of ``total``: rounded, at least one."""
    return max(1, min(total, int(round(density * total))))


# --------------------------------------------------------------------------------------------
# sketching (003, Algorithm 1)


def optimal_probabilities(weights, feature_norms=None) -> np.ndarray:
    """Sampling probabilities ``p_i = ||X_(i)|| |w_i| / sum_j ||X_(j)|| |w_j||``.

    003_3a02d48777e82c5c.txt, eq. (2): the distribution that minimises the expected error of
    Algorithm 1 (Lemma 4.1, after [18, Lemma 4]); ``X_(i)`` is row i of the data matrix X (d x n),
    i.e. feature i over all n examples. Without data (``feature_norms=None``) every norm is 1 and
    ``p ~ |w|``, which is also what SynFlow's scores give for one linear layer (003 section 5).

    Parameters
    ----------
    weights : float array, any shape
        ``w`` (for a Linear layer, its weight (out, in)).
    feature_norms : float array broadcastable to ``weights``, >= 0, optional
        ``||X_(i)||`` (for a Linear layer, one norm per input feature, shape (in,)).

    Returns
    -------
    float64 array of the shape of ``weights``, summing to 1.

    >>> optimal_probabilities([1.0, -3.0], [2.0, 1.0]).tolist()
    [0.4, 0.6]
    >>> optimal_probabilities([[1.0, -1.0], [2.0, 0.0]]).tolist()
    [[0.25, 0.25], [0.5, 0.0]]
    """
    w = _real_array("weights", weights)
    if w.size == 0:
        raise ValueError("weights: expected at least one entry")
    if feature_norms is None:
        norms = np.ones_like(w)
    else:
        norms = _real_array("feature_norms", feature_norms, nonnegative=True)
        try:
            norms = np.broadcast_to(norms, w.shape)
        except ValueError:
            raise ValueError(f"feature_norms: shape {norms.shape} does not broadcast to the weights' "
                             f"shape {w.shape}") from None
    mass = norms * np.abs(w)
    total = float(mass.sum())
    if not total > 0.0:
        raise ValueError("weights, feature_norms: every product ||X_(i)|| |w_i| is 0; "
                         "there is no distribution to sample from")
    if not math.isfinite(total):
        raise ValueError("weights, feature_norms: the products ||X_(i)|| |w_i| overflow float64")
    return mass / total


@dataclass(frozen=True)
class SketchMask:
    """The mask of 003 Algorithm 1.

    Attributes
    ----------
    mask : bool array
        Entries sampled at least once (``counts > 0``).
    counts : int64 array
        How often each entry was sampled (they sum to ``samples``).
    scale : float64 array
        Algorithm 1's mask values ``counts_i / (s p_i)`` (0 where not sampled): multiplying the
        weights by it gives an unbiased estimate of them, ``E[scale * w] = w``.
    weights : float64 array
        The sketched weights ``w * scale``.
    samples : int
        s.

    >>> sk = sketch_mask(np.ones(4), np.full(4, 0.25), 2, seed=0)
    >>> sk.density in (0.25, 0.5)
    True
    """

    mask: np.ndarray
    counts: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    samples: int

    @property
    def density(self) -> float:
        """Fraction of entries kept (at most ``samples / size``)."""
        return float(self.mask.mean())


def sketch_mask(weights, probabilities, samples: int, *, seed: SeedLike) -> SketchMask:
    """A mask by sketching: 003_3a02d48777e82c5c.txt, Algorithm 1.

    Draws ``samples`` (s) indices i.i.d. with replacement from ``probabilities`` (p); an entry
    sampled c times gets mask value ``c / (s p_i)`` (the rescaling that makes ``w * scale`` an
    unbiased estimate of w, 003 Lemma B.1). Entries can be drawn more than once, so at most s
    entries are kept. With p from :func:`optimal_probabilities` the expected error
    ``||X^T w - X^T (w * scale)||^2`` is 003 Lemma 4.1 (:func:`subsetsum.theory.sketch_error`).

    Parameters
    ----------
    weights : float array, any shape
    probabilities : float array of the same shape, >= 0, summing to 1
    samples : int >= 1
        s, the number of draws.
    seed : int or numpy.random.Generator

    Returns
    -------
    SketchMask

    >>> w = np.array([0.5, -2.0, 1.0, 0.1])
    >>> sk = sketch_mask(w, optimal_probabilities(w), 3, seed=0)
    >>> int(sk.counts.sum()), int(sk.mask.sum()) <= 3, bool(np.all(sk.weights[~sk.mask] == 0))
    (3, True, True)
    >>> p = optimal_probabilities(w)
    >>> bool(np.allclose(sk.scale[sk.mask] * sk.samples * p[sk.mask], sk.counts[sk.mask]))
    True
    """
    w = _real_array("weights", weights)
    p = _real_array("probabilities", probabilities, nonnegative=True)
    if p.shape != w.shape:
        raise ValueError(f"probabilities: expected the weights' shape {w.shape}, got {p.shape}")
    if w.size == 0:
        raise ValueError("weights: expected at least one entry")
    total = float(p.sum())
    if not abs(total - 1.0) <= PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f"probabilities: expected values summing to 1, got a sum of {total:.9g} "
                         "(optimal_probabilities gives a normalised distribution)")
    s = check_int("samples", samples, 1)
    rng = _rng(seed)
    flat = p.ravel() / total
    counts = rng.multinomial(s, flat).reshape(w.shape).astype(np.int64)
    mask = counts > 0
    scale = np.zeros(w.shape)
    scale[mask] = counts[mask] / (s * p[mask])
    return SketchMask(mask, counts, scale, w * scale, s)


# --------------------------------------------------------------------------------------------
# thresholding and 003's randomization


def topk_mask(scores: Scores, density: float):
    """Keep the highest scores: a global top-k over all layers (plain thresholding).

    ``k = round(density * total entries)`` (at least 1); ties go to the entry that comes first
    (layers in the mapping's order, then row-major), so the mask is deterministic.

    Parameters
    ----------
    scores : float array >= 0, or mapping name -> float array >= 0
    density : float in (0, 1]

    Returns
    -------
    bool array, or dict name -> bool array (the input's structure).

    >>> topk_mask(np.array([0.1, 0.9, 0.5, 0.7]), 0.5).tolist()
    [False, True, False, True]
    >>> m = topk_mask({"a": [3.0, 0.0], "b": [1.0, 2.0]}, 0.5)
    >>> m["a"].tolist(), m["b"].tolist()
    ([True, False], [False, True])
    """
    layers, single = _layers(scores)
    dens = _density(density)
    flat = np.concatenate([v.ravel() for v in layers.values()])
    keep = _keep_count(dens, flat.size)
    order = np.argsort(-flat, kind="stable")
    chosen = np.zeros(flat.size, bool)
    chosen[order[:keep]] = True
    return _split(chosen, layers, single)


def randomized_mask(scores: Scores, density: float, *, per_layer: bool = True, seed: SeedLike):
    """003's randomized mask: sample by score instead of thresholding.

    003_3a02d48777e82c5c.txt, section 8, "The mask randomization is performed in three steps":
    (1) the global threshold for ``k = round(density * total)`` kept entries (as :func:`topk_mask`);
    (2) the number of entries that threshold keeps in each layer; (3) in each layer, that many
    entries sampled without replacement with probability proportional to their score (each next
    entry drawn from the remaining ones in proportion to score, by Efraimidis–Spirakis keys
    ``u^(1/score)``). Zero-score entries are only drawn once a layer has no positive score left,
    uniformly. ``per_layer=False`` skips step (2) and samples all k entries by score globally.
    The result is a 0/1 mask (no rescaling, unlike :func:`sketch_mask`).

    Parameters
    ----------
    scores : float array >= 0, or mapping name -> float array >= 0
        E.g. :func:`synflow_scores`.
    density : float in (0, 1]
    per_layer : bool
    seed : int or numpy.random.Generator

    Returns
    -------
    bool array, or dict name -> bool array (the input's structure), with exactly k entries kept.

    >>> scores = {"a": np.array([5.0, 1.0, 0.0, 0.0]), "b": np.array([4.0, 3.0, 2.0, 1.0])}
    >>> m = randomized_mask(scores, 0.5, seed=0)
    >>> int(m["a"].sum()), int(m["b"].sum())      # the threshold keeps 1 of a and 3 of b
    (1, 3)
    """
    layers, single = _layers(scores)
    dens = _density(density)
    if not isinstance(per_layer, bool):
        raise TypeError(f"per_layer: expected a bool, got {type(per_layer).__name__}")
    rng = _rng(seed)
    flat = np.concatenate([v.ravel() for v in layers.values()])
    keep = _keep_count(dens, flat.size)
    chosen = np.zeros(flat.size, bool)
    if not per_layer:
        chosen[_sample_by_score(flat, keep, rng)] = True
        return _split(chosen, layers, single)
    threshold_keep = np.zeros(flat.size, bool)
    threshold_keep[np.argsort(-flat, kind="stable")[:keep]] = True
    start = 0
    for value in layers.values():
        stop = start + value.size
        count = int(threshold_keep[start:stop].sum())
        if count:
            chosen[start + _sample_by_score(flat[start:stop], count, rng)] = True
        start = stop
    return _split(chosen, layers, single)


def _sample_by_score(scores: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count`` entries drawn without replacement, each next one with probability
    proportional to its score among those left (Efraimidis–Spirakis: the ``count`` largest
    keys ``log(u) / score``); zero scores fill up uniformly once the positive ones run out."""
    positive = np.flatnonzero(scores > 0)
    u = rng.random(scores.size)
    if positive.size >= count:
        keys = np.log(u[positive]) / scores[positive]
        return positive[np.argpartition(-keys, count - 1)[:count]]
    zeros = np.flatnonzero(scores <= 0)
    fill = zeros[np.argpartition(u[zeros], count - positive.size - 1)[:count - positive.size]]
    return np.concatenate([positive, fill])


def _split(chosen: np.ndarray, layers: dict, single: bool):
    out, start = {}, 0
    for name, value in layers.items():
        out[name] = chosen[start:start + value.size].reshape(value.shape)
        start += value.size
    return out[""] if single else out


# --------------------------------------------------------------------------------------------
# SynFlow (torch)


_INPUT_KINDS = ("ones", "chi")


def synflow_scores(module, input_shape, *, iterative: bool = False, density: float | None = None,
                   rounds: int = 100, inputs="ones",
                   degrees_of_freedom: int = DEFAULT_CHI_DEGREES_OF_FREEDOM,
                   seed: SeedLike | None = None) -> dict:
    """SynFlow scores, computed without data: ``|dR/dw * w|`` with ``R = 1^T f(x; |theta|)``.

    003_3a02d48777e82c5c.txt, section 5, eq. (3) (after Tanaka et al.): every parameter and
    floating buffer of a copy of ``module`` is replaced by its absolute value (the module is put
    in eval mode and float64, so deep products neither overflow nor depend on batch statistics),
    one input ``x`` is passed forward, and the score of a weight is the magnitude of its
    gradient times its value. Scores are returned for the weights of every ``Linear`` and
    ``Conv1d/2d/3d`` (biases are not pruned); a weight already pruned with
    ``torch.nn.utils.prune`` is scored through its ``weight_orig`` and keeps its mask.

    ``inputs``: ``"ones"`` is SynFlow's all-ones input; ``"chi"`` draws every input entry as
    ``chi_n / sqrt(n)`` with ``n = degrees_of_freedom`` -- the norm ``sqrt(sum_i x_i^2 / n)`` of n
    normal values, which is what eq. (4) feeds SynFlow for Gaussian data (003 sections 5 and 8,
    n = 128 there; a fresh draw every round); an array of shape ``input_shape`` is used as is
    (eq. 4 with given feature norms ``||X_(i)||``: for one linear layer the scores are then
    proportional to :func:`optimal_probabilities`).

    ``iterative=True`` is SynFlow's iterative pruning: ``rounds`` rounds, round r keeping the
    top ``density^(r / rounds)`` of the scores recomputed on the pruned network. The scores
    returned are those of the last round (computed on the network pruned by the first
    ``rounds - 1`` rounds, 0 where it is pruned), so ``topk_mask(scores, density)`` is the
    iterative SynFlow mask and :func:`randomized_mask` randomizes its last step.

    Parameters
    ----------
    module : torch.nn.Module
        Not modified.
    input_shape : tuple of ints
        One input's shape without the batch dimension, e.g. ``(784,)`` or ``(3, 32, 32)``.
    iterative : bool
    density : float in (0, 1], only with ``iterative=True``
    rounds : int >= 1
    inputs : "ones", "chi" or float array of shape ``input_shape``
    degrees_of_freedom : int >= 1
        n of the chi inputs.
    seed : int or numpy.random.Generator, required with ``inputs="chi"``

    Returns
    -------
    dict name -> float64 array of the weight's shape (names as in ``named_parameters()``).

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False), torch.nn.ReLU(),
    ...                           torch.nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 0.0]]))
    ...     _ = net[2].weight.copy_(torch.tensor([[3.0, -1.0]]))
    >>> s = synflow_scores(net, (2,))
    >>> s["0.weight"].tolist()        # |W1_ji| * sum_k |W2_kj| * x_i
    [[3.0, 6.0], [0.5, 0.0]]
    >>> s["2.weight"].tolist()        # |W2_kj| * (|W1| 1)_j
    [[9.0, 0.5]]
    """
    torch = _torch("synflow_scores")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    shape = _shape(input_shape)
    if not isinstance(iterative, bool):
        raise TypeError(f"iterative: expected a bool, got {type(iterative).__name__}")
    if iterative:
        if density is None:
            raise ValueError("density: iterative=True needs the final density")
        dens = _density(density)
        total_rounds = check_int("rounds", rounds, 1)
    else:
        if density is not None:
            raise ValueError("density: only used with iterative=True (one-shot scores need no density)")
        dens, total_rounds = 1.0, 1
    dof = check_int("degrees_of_freedom", degrees_of_freedom, 1)
    if isinstance(inputs, str):
        if inputs not in _INPUT_KINDS:
            raise ValueError(f"inputs: expected one of {_INPUT_KINDS} or an array of shape {shape}, got {inputs!r}")
        if inputs == "chi" and seed is None:
            raise ValueError('seed: inputs="chi" draws random inputs and needs a seed')
        given = None
    else:
        given = _real_array("inputs", inputs)
        if given.shape != shape:
            raise ValueError(f"inputs: expected an array of shape {shape} (input_shape), got {given.shape}")
    rng = _rng(seed) if seed is not None else None

    net = _copy_module(module, torch).double().eval()
    targets = _prunable(net, torch)
    if not targets:
        raise ValueError("module: no Linear or Conv weight to score")
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    originals = {name: param.detach().clone() for name, (_m, param) in targets.items()}
    masks = {name: torch.ones_like(param) for name, (_m, param) in targets.items()}
    scores = None
    for r in range(1, total_rounds + 1):
        with torch.no_grad():
            for name, (_m, param) in targets.items():
                param.copy_(originals[name] * masks[name])
        if given is not None:
            x = torch.from_numpy(given.copy())
        elif inputs == "chi":
            x = torch.from_numpy(np.sqrt(rng.chisquare(dof, size=shape) / dof))
        else:
            x = torch.ones(shape, dtype=torch.float64)
        params = [param for _m, param in targets.values()]
        for p in params:
            p.requires_grad_(True)
        out = net(x.unsqueeze(0))
        grads = torch.autograd.grad(out.sum(), params, allow_unused=True)
        scores = {}
        for (name, (_m, param)), grad in zip(targets.items(), grads):
            g = torch.zeros_like(param) if grad is None else grad
            scores[name] = (g * param).abs().detach().numpy().copy()
        if r < total_rounds:
            kept = topk_mask(scores, dens ** (r / total_rounds))
            for name in masks:
                masks[name] = torch.from_numpy(kept[name].astype(np.float64))
    for name, value in scores.items():
        if not np.isfinite(value).all():
            raise ValueError(f"module: the SynFlow score of {name} overflows float64 (a very deep or "
                             "large-weight network); rescale the weights")
    return scores


def _torch(caller: str):
    try:
        import torch
    except ImportError as exc:  # torch is optional
        raise ImportError(f"{caller} needs torch (pip install torch)") from exc
    return torch


def _copy_module(module, torch):
    """A deep copy, also of modules pruned with ``torch.nn.utils.prune``: their ``weight`` is a
    non-leaf tensor (``weight_orig * weight_mask``) that deepcopy refuses, so it is copied detached
    (the copy's forward hook recomputes it anyway)."""
    import copy

    memo = {}
    for sub in module.modules():
        for value in vars(sub).values():
            if torch.is_tensor(value) and not value.is_leaf:
                memo[id(value)] = value.detach().clone()
    return copy.deepcopy(module, memo)


def _shape(input_shape) -> tuple:
    if isinstance(input_shape, numbers.Integral) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"input_shape: expected a tuple of ints (one input, no batch dimension), got {input_shape!r}")
    return tuple(check_int(f"input_shape[{i}]", v, 1) for i, v in enumerate(input_shape))


def _prunable(net, torch) -> dict:
    """name -> (submodule, tensor scored) for every Linear/Conv weight, in module order."""
    kinds = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
    out = {}
    for prefix, sub in net.named_modules():
        if not isinstance(sub, kinds):
            continue
        name = f"{prefix}.weight" if prefix else "weight"
        param = getattr(sub, "weight_orig", None)
        if param is None:
            param = sub.weight
        if isinstance(param, torch.nn.Parameter):
            out[name] = (sub, param)
    return out


# --------------------------------------------------------------------------------------------
# masks onto a module


def apply_mask(module, masks: Mapping[str, np.ndarray], *, scales: Mapping[str, np.ndarray] | None = None):
    """Prune ``module`` in place with the given masks, through ``torch.nn.utils.prune``.

    Each mask goes through ``prune.custom_from_mask``, so the pruned parameter becomes
    ``<name>_orig`` plus a ``<name>_mask`` buffer and a forward hook -- the layout of every
    pruned torch model and of :meth:`subsetsum.Ticket.to_module`; ``prune.remove`` makes it
    permanent. Masking an already pruned parameter combines the masks (prune's container).

    Parameters
    ----------
    module : torch.nn.Module
    masks : mapping name -> bool (or 0/1) array of the parameter's shape
        Names as in ``module.named_parameters()`` (``"0.weight"``), e.g. from :func:`topk_mask`.
    scales : mapping name -> float array, optional
        Factors the kept entries are multiplied by first (in place, on ``<name>_orig``), e.g.
        ``{name: sketch.scale}`` for Algorithm 1's ``1 / (s p_i)`` of :func:`sketch_mask`.

    Returns
    -------
    The same module.

    >>> import torch
    >>> from torch.nn.utils import prune
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    >>> m = topk_mask({"0.weight": net[0].weight.detach().abs().numpy()}, 0.5)
    >>> net = apply_mask(net, m)
    >>> int(net[0].weight_mask.sum()), int((net[0].weight != 0).sum())
    (3, 3)
    >>> _ = prune.remove(net[0], "weight"); hasattr(net[0], "weight_mask")
    False
    """
    torch = _torch("apply_mask")
    from torch.nn.utils import prune

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(masks, Mapping):
        raise TypeError(f"masks: expected a mapping parameter name -> mask array, got {type(masks).__name__}")
    if scales is not None and not isinstance(scales, Mapping):
        raise TypeError(f"scales: expected a mapping parameter name -> array, got {type(scales).__name__}")
    known = _maskable(module)
    plan = []
    for name, mask in masks.items():
        if name not in known:
            raise ValueError(f"masks: no parameter named {name!r} in the module "
                             f"(parameters: {', '.join(sorted(known)) or 'none'})")
        sub, attr, tensor = known[name]
        raw = np.asarray(mask)
        m = _real_array(f"masks[{name!r}]", raw.astype(np.float64) if raw.dtype == bool else raw)
        if m.shape != tuple(tensor.shape):
            raise ValueError(f"masks[{name!r}]: expected the parameter's shape {tuple(tensor.shape)}, got {m.shape}")
        if not np.isin(m, (0.0, 1.0)).all():
            raise ValueError(f"masks[{name!r}]: expected 0/1 (or bool) entries; rescaling goes in scales=")
        factor = None
        if scales is not None and name in scales:
            factor = _real_array(f"scales[{name!r}]", scales[name])
            if factor.shape != m.shape:
                raise ValueError(f"scales[{name!r}]: expected the parameter's shape {m.shape}, got {factor.shape}")
        plan.append((sub, attr, tensor, m, factor))
    if scales is not None:
        extra = set(scales) - set(masks)
        if extra:
            raise ValueError(f"scales: {sorted(extra)} have no mask in masks")
    for sub, attr, tensor, m, factor in plan:
        if factor is not None:
            with torch.no_grad():
                tensor.mul_(torch.as_tensor(np.where(m > 0, factor, 1.0), dtype=tensor.dtype,
                                            device=tensor.device))
        prune.custom_from_mask(sub, attr, torch.as_tensor(m > 0, device=tensor.device))
    return module


def _has_torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


if not _has_torch():  # torch is optional: without it the torch examples cannot run, so drop them
    for _function in (synflow_scores, apply_mask):
        _function.__doc__ = _function.__doc__.split("    >>> ")[0] + "    (The examples need torch.)\n"


def _maskable(module) -> dict:
    """name -> (submodule, attribute, tensor holding the unpruned values) for every parameter,
    pruned ones (``<attr>_orig``) under their plain name."""
    out = {}
    for prefix, sub in module.named_modules():
        for attr, param in sub.named_parameters(recurse=False):
            plain = attr[:-5] if attr.endswith("_orig") else attr
            out[f"{prefix}.{plain}" if prefix else plain] = (sub, plain, param)
    return out
