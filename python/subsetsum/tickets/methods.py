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
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["METHODS", "LayerRole", "layer_roles"]

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
