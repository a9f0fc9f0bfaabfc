"""The L+1 construction (001_d33223a708772bec.txt, section 2.2, Thm 2.7 and 2.9; Fig. 1 (c)).

A target of depth L becomes a source of depth L + 1:

- source layer 1: univariate blocks, one per input (split by the sign of the first weight where
  the activation needs it), plus constant neurons for the first target bias;
- source layer 2: ``copies`` of every neuron of target layer 1, each copy approximating every
  target weight by a subset of its edges into one block (bases: products of the two source
  weights) -- the two-for-one step of Thm 2.5/2.6 without an output layer;
- source layer l + 1 (l >= 2): copies of every neuron of target layer l, copy i' approximating
  ``w_ij`` by a subset of its edges from the copies of neuron j (bases: the source weights
  themselves, Thm 2.7); biases from constant neurons;
- the output layer keeps one copy per output neuron.
"""

from __future__ import annotations

from .plan import LayerRole

__all__ = ["layer_roles"]


def layer_roles(depth: int) -> list[LayerRole]:
    """Source layer roles for a target of ``depth`` layers.

    >>> [(r.kind, r.target_layer, r.single_copy) for r in layer_roles(2)]
    [('block', 0, False), ('combine', 0, False), ('combine', 1, True)]
    """
    roles = [LayerRole("block", 0, single_copy=False)]
    for layer in range(depth):
        roles.append(LayerRole("combine", layer, single_copy=layer == depth - 1))
    return roles
