"""Torch modules that tickets become (:meth:`~.ticket.Ticket.to_module`) where plain torch layers
do not fit: tickets of residual targets, whose skip layers add into later layers, and sparse
fully connected layers that hold only the kept weights of a large ticket.

Imports torch; imported only when a module is asked for.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ResidualTicket", "SparseLinear"]


class SparseLinear(nn.Module):
    """``y = x W^T + b`` with ``W`` a sparse (COO) matrix holding only the kept weights: memory in
    the kept edges, not in the source's width (a LeNet-shape L+1 source has 900 million weights).

    in_features, out_features : int
    rows, cols : int64 tensors (E,), values : float tensor (E,)
        The kept weights ``W[rows[i], cols[i]] = values[i]``.
    bias : float tensor (out_features,) or None

    >>> lin = SparseLinear(3, 2, torch.tensor([0, 1]), torch.tensor([2, 0]), torch.tensor([1.5, -2.0]))
    >>> lin(torch.tensor([[1.0, 0.0, 2.0]])).tolist()
    [[3.0, -2.0]]
    """

    def __init__(self, in_features: int, out_features: int, rows, cols, values, bias=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        # opted in explicitly: on a GPU, torch warns when the checks are only asked for per call
        with torch.sparse.check_sparse_tensor_invariants(enable=True):
            coo = torch.sparse_coo_tensor(torch.stack([torch.as_tensor(rows), torch.as_tensor(cols)]),
                                          torch.as_tensor(values), (self.out_features, self.in_features))
            self.register_buffer("weight", coo.coalesce())
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias))

    def forward(self, x):
        flat = x.reshape(-1, self.in_features)
        y = torch.sparse.mm(self.weight, flat.t()).t()
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"kept={self.weight._nnz()}, bias={self.bias is not None}")


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
