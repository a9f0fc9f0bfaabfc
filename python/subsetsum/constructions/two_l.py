"""The 2L construction (001_d33223a708772bec.txt, section 2.1.2, Thm 2.5 and 2.6; Fig. 1 (b)).

Every target layer becomes two source layers: a layer of univariate blocks (one block per
neuron of the previous target layer, split by the sign of the first weight where the activation
needs it, or looks-linear pairs), and a layer with one neuron per target neuron whose kept edges
solve one subset-sum problem per target weight (bases: products of the two source weights) and
per bias (bases: edges from constant neurons).
"""

from __future__ import annotations

from .plan import LayerRole

__all__ = ["layer_roles"]


def layer_roles(depth: int) -> list[LayerRole]:
    """Source layer roles for a target of ``depth`` layers.

    >>> [(r.kind, r.target_layer) for r in layer_roles(2)]
    [('block', 0), ('combine', 0), ('block', 1), ('combine', 1)]
    """
    roles = []
    for layer in range(depth):
        roles.append(LayerRole("block", layer, single_copy=True))
        roles.append(LayerRole("combine", layer, single_copy=True))
    return roles
