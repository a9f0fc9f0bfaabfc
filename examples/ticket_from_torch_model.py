"""Build a strong lottery ticket for a small torch model and use it as a pruned torch module.

    python examples/ticket_from_torch_model.py
"""

import numpy as np
import torch
from torch import nn

from subsetsum import Ticket, construct_ticket

torch.manual_seed(0)
target = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))

# L+1 construction from a seeded Uniform[-1, 1] source; every parameter within 0.01.
ticket = construct_ticket(target, method="L+1", eps=0.01, rho=20, seed=0)
print(ticket.report(samples=10_000))

# The ticket as a torch module whose Linear layers carry prune-style masks.
module = ticket.to_module()
x = torch.rand(5, 8) * 2 - 1
with torch.no_grad():
    print("largest output difference:", float((module(x) - target(x)).abs().max()))

# An Erdős–Rényi source at density 0.5 (ERK layer densities): the ticket stays inside its mask.
sparse = construct_ticket(target, method="2L", density=0.5, density_scheme="erk", seed=1)
assert all(er is None or not (m & ~er).any() for m, er in zip(sparse.masks, sparse.source_masks))
print("ER ticket density:", round(sparse.report(samples=100).density, 4))

# Save and load (safetensors, masks packed one bit per source weight).
ticket.save("ticket.safetensors")
assert all((a == b).all() for a, b in zip(ticket.masks, Ticket.load("ticket.safetensors").masks))
print("saved and reloaded ticket.safetensors;", np.count_nonzero(ticket.masks[-1]), "edges in the output layer")
