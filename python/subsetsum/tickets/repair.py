"""The repair pass: problems still above tolerance after the first solve get more elements, and
only they are solved again (what the published code does by regrowing width on failure).

For a missed problem (row r, group g) of combine layer s, group g grows in the layer before:

* block groups: more univariate neurons for the input (of the group's sign), new rows of the
  block layer (a generated source grows; a user source takes its unused rows);
* copy groups (L+1): more copies of the input neuron, new rows of the previous combine layer,
  whose own problems are solved and repaired first -- a new copy that still misses is discarded;
* the bias group: more constant neurons.

A group grows by a quarter of its planned size, doubling every round, to at most
``max(4 * planned, planned + 32)`` members (and four times the solver's limit: a problem sees at
most that limit of existing elements, the newest first); at most :data:`MAX_ROUNDS` rounds. What is still above tolerance afterwards is reported (a warning from
``construct_ticket``), never hidden.
"""

from __future__ import annotations

import math
from collections import defaultdict

__all__ = ["repair_layer", "MAX_ROUNDS", "growth_limit"]

MAX_ROUNDS = 6


def growth_limit(planned: int, solver_limit: int) -> int:
    """Largest size repair lets a group of ``planned`` elements reach.

    >>> growth_limit(5, 64), growth_limit(60, 64)
    (37, 240)
    """
    from .solve import MEMBERS_CAP_FACTOR

    return min(MEMBERS_CAP_FACTOR * solver_limit, max(4 * planned, planned + 32))


def repair_layer(builder, s: int, *, rows=None, depth: int = 0) -> int:
    """Repair the missed problems of combine layer s (those of ``rows`` only, when given).

    Returns how many of them are still above tolerance."""
    limit = builder.plan.element_limit()
    for round_ in range(MAX_ROUNDS):
        missed = [key for key in builder.pending[s] if rows is None or key[0] in rows]
        if not missed:
            return 0
        builder.repair_log["rounds"] = max(builder.repair_log["rounds"], round_ + 1)
        by_group = defaultdict(list)
        for key in missed:
            by_group[key[1]].append(key)
        groups = builder.groups(s)
        retry = []
        for g, keys in sorted(by_group.items()):
            group = groups[g]
            planned = max(group.planned, 1)
            room = growth_limit(planned, limit) - group.members.size
            step = max(2, math.ceil(planned / 4)) << round_
            added = builder.grow_group(s, g, min(room, step), depth) if room > 0 else 0
            if added > 0:
                retry.extend(keys)
        if not retry:
            break
        for key in retry:
            builder.forget(s, key)
        builder.repair_log["problems"] += len(retry)
        builder.solve_problems(s, retry)
    return sum(1 for key in builder.pending[s] if rows is None or key[0] in rows)
