"""Torch modules that tickets become (:meth:`~.ticket.Ticket.to_module`) when ``nn.Sequential``
cannot hold them: tickets of residual targets, whose skip layers add into later layers.

Imports torch; imported only when a module is asked for.
"""

from __future__ import annotations

from torch import nn

__all__ = ["ResidualTicket"]


class ResidualTicket(nn.Module):
    """Source layers with skip connections: ``x_s = act_s(layers[s](x_{s-1}) + sum_k skips[k](x_{source_k}))``
    over the skips k with ``into_k = s`` (``x_{-1}`` is the input), returning the last layer's
    output.

    layers : list of modules, one per source layer (an ``nn.Sequential`` of its pooling,
        flatten and ``nn.Conv2d`` / ``nn.Linear``, pruned with ``torch.nn.utils.prune`` masks)
    skips : list of modules, one per skip layer, built alike (without bias)
    into, sources : list of int, per skip layer: the layer it adds into, the layer it reads
    activations : list of modules, one per layer (``nn.Identity`` where there is none)

    >>> import torch
    >>> lin = lambda i, o: nn.Sequential(nn.Linear(i, o))
    >>> net = ResidualTicket([lin(2, 3), lin(3, 3), lin(3, 1)], [lin(3, 3)], [2 - 1], [0],
    ...                      [nn.ReLU(), nn.ReLU(), nn.Identity()])
    >>> tuple(net(torch.zeros(4, 2)).shape)
    (4, 1)
    """

    def __init__(self, layers, skips, into, sources, activations):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.skips = nn.ModuleList(skips)
        self.into = [int(v) for v in into]
        self.sources = [int(v) for v in sources]
        self.activations = nn.ModuleList(activations)

    def forward(self, x):
        outs = []
        for s, (layer, act) in enumerate(zip(self.layers, self.activations)):
            pre = layer(outs[s - 1] if s > 0 else x)
            for skip, into, source in zip(self.skips, self.into, self.sources):
                if into == s:
                    pre = pre + skip(outs[source] if source >= 0 else x)
            outs.append(act(pre))
        return outs[-1]
