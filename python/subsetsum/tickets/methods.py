"""The two constructions of 001_d33223a708772bec.txt as sequences of source layer roles.

``"2L"`` (section 2.1.2, Thm 2.5 and 2.6; Fig. 1 (b)): every target layer becomes two source
layers, a layer of univariate blocks (one block per neuron of the previous target layer, split by
the sign of the first weight where the activation needs it, or looks-linear pairs) and a layer
with one neuron per target neuron whose kept edges solve one subset-sum problem per target weight
(elements: products of the two source weights) and per bias (elements: edges from constant
neurons).

``"L+1"`` (section 2.2, Thm 2.7 and 2.9; Fig. 1 (c)): a target of depth L becomes a source of
depth L + 1. Source layer 1 holds univariate blocks, one per input, plus constant neurons for the
first target bias; source layer 2 holds copies of every neuron of target layer 1, each copy
approximating every target weight by a subset of its edges into one block (elements: products of
the two source weights); source layer l + 1 (l >= 2) holds copies of every neuron of target
layer l, copy i' approximating ``w_ij`` by a subset of its edges from the copies of neuron j
(elements: the source weights themselves, Thm 2.7); the output layer keeps one copy per output.

Residual targets (a layer t that also reads an earlier layer p, :attr:`~.graph.TargetNetwork.skips`;
Burkholz, ICML 2022) get source *skip* layers: weight matrices into the combine layer of t that
read the representatives of p's output, so the combine layer adds the approximations of all its
parts before the activation (:class:`SkipRole`). L+1: from the copies of p (the combine layer of
p), the elements are single source weights as in the main part. 2L: from the univariate block of
p's output, which the block layer of layer p + 1 already holds (every layer reads the one before
it), the elements are products of a block weight and a skip weight as in the main part.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["METHODS", "LayerRole", "SkipRole", "layer_roles", "skip_roles"]

METHODS = ("L+1", "2L")


@dataclass(frozen=True)
class LayerRole:
    """What one source layer does: ``kind`` "block" or "combine", for ``target_layer``;
    ``single_copy``: a combine layer keeps one neuron per target neuron (2L, output layer)."""

    kind: str
    target_layer: int
    single_copy: bool = True


def layer_roles(method: str, depth: int) -> list[LayerRole]:
    """Source layer roles of ``method`` for a target of ``depth`` layers.

    >>> [(r.kind, r.target_layer, r.single_copy) for r in layer_roles("L+1", 2)]
    [('block', 0, False), ('combine', 0, False), ('combine', 1, True)]
    >>> [(r.kind, r.target_layer) for r in layer_roles("2L", 2)]
    [('block', 0), ('combine', 0), ('block', 1), ('combine', 1)]
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if method == "2L":
        roles = []
        for layer in range(depth):
            roles.append(LayerRole("block", layer, single_copy=True))
            roles.append(LayerRole("combine", layer, single_copy=True))
        return roles
    roles = [LayerRole("block", 0, single_copy=False)]
    for layer in range(depth):
        roles.append(LayerRole("combine", layer, single_copy=layer == depth - 1))
    return roles


@dataclass(frozen=True)
class SkipRole:
    """A source skip layer: a weight matrix into combine layer ``into`` that reads the rows of
    source layer ``source``, for part ``part`` (1, 2, ...) of target layer ``target_layer``."""

    into: int
    source: int
    target_layer: int
    part: int


def skip_roles(method: str, target) -> list[SkipRole]:
    """The skip layers of ``method`` for a target with skips (:class:`~.graph.TargetNetwork`),
    in order of target layer and part; empty for a chain. Raises ValueError for a skip the
    construction cannot carry.

    >>> import numpy as np
    >>> from subsetsum.tickets.graph import TargetNetwork
    >>> from subsetsum.tickets.activations import get_activation
    >>> from subsetsum.tickets.maps import LayerOp
    >>> ops = (LayerOp.dense(2), LayerOp.dense(3), LayerOp.dense(3))
    >>> skips = ((), (), ((0, LayerOp.dense(3)),))   # layer 2 adds layer 0's output
    >>> w = [np.ones((3, 2)), np.ones((3, 3)), np.ones((1, 6))]
    >>> t = TargetNetwork(w, [np.zeros(3), np.zeros(3), np.zeros(1)], get_activation("relu"), None, (), ops, skips)
    >>> skip_roles("L+1", t), skip_roles("2L", t)
    ([SkipRole(into=3, source=1, target_layer=2, part=1)], [SkipRole(into=5, source=2, target_layer=2, part=1)])
    """
    roles = []
    for t, parts in enumerate(target.skips):
        for k, (p, op) in enumerate(parts, start=1):
            if method == "L+1":
                if p < 0:
                    raise ValueError(f"target: layer {t} adds the network input (a skip from the input); the L+1 "
                                     "construction keeps copies of hidden layers only: use method='2L', or start the "
                                     "network with a layer that the skips read")
                roles.append(SkipRole(t + 1, p + 1, t, k))
            else:
                reader = target.op(p + 1)  # layer p + 1 reads p through its block, at 2 (p + 1)
                if reader.pool != op.pool:
                    raise ValueError(f"target: layer {t} reads layer {p} {'pooled' if op.pool else 'unpooled'}, "
                                     f"layer {p + 1} {'pooled' if reader.pool else 'unpooled'} {reader.pool or ''}; "
                                     "the 2L construction shares the univariate block of layer p's output between "
                                     "its readers, so they must pool it alike (use method='L+1')")
                roles.append(SkipRole(2 * t + 1, 2 * (p + 1), t, k))
    return roles
