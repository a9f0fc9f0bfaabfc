"""Build a strong lottery ticket for a small torch model and use it as a pruned torch module.

    python examples/ticket_from_torch_model.py
"""

import numpy as np
import torch
from torch import nn

from subsetsum import Ticket, construct_ticket

torch.manual_seed(0)
target = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))

# L+1 construction from a seeded Uniform[-1, 1] source, sized automatically so that every
# parameter is within 0.01 (and the end-to-end error within 0.05 on [-1, 1]^8).
ticket = construct_ticket(target, method="L+1", eps=0.01, output_eps=0.05, seed=0)
print(ticket.report(samples=10_000))

# The ticket as a torch module: prune-style masks on the whole source, or only the neurons used.
module = ticket.to_module(compact=True)
x = torch.rand(5, 8) * 2 - 1
with torch.no_grad():
    print("largest output difference:", float((module(x) - target(x)).abs().max()),
          "<= certified bound", round(ticket.error_bound(), 4))

# An Erdős–Rényi source at density 0.5 (ERK layer densities): the ticket stays inside its mask.
sparse = construct_ticket(target, method="2L", density=0.5, density_scheme="erk", seed=1)
assert all(er is None or not (m & ~er).any() for m, er in zip(sparse.masks(), sparse.source_masks()))
print("ER ticket density:", round(sparse.report(samples=100).density, 4))

# Fixed-size subsets: the size is known before solving.
fixed = construct_ticket(target, method="2L", subset_size=4, seed=2)
print("fixed-size ticket:", fixed.parameters, "parameters, formula", fixed.size_formula())

# Save and load (safetensors; a generated source is stored as its seed).
ticket.save("ticket.safetensors")
loaded = Ticket.load("ticket.safetensors")
assert all((a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(ticket.edges, loaded.edges))
print("saved and reloaded ticket.safetensors;", ticket.edges[-1][0].size, "edges in the output layer")
