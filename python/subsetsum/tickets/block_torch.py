"""A block of a ticket's first solve as torch work on one device: the twin of
:func:`.solve.solve_block` for ``device=...`` builds.

The source weights and ER masks are drawn where the block is solved (Philox gathers,
:func:`subsetsum._philox.uniform_tensor`: on a GPU by the gather kernel of
csrc/cuda/philox_fill.cu), the elements are gathered and compacted there, solved there, and only
the chosen (problem, element) pairs, the errors, the found flags and the chosen weights come back
to the host, where the build keeps its books. The code is written once against torch tensors, so
a CPU build with ``device="cpu"`` runs exactly what a GPU build runs, and the tests compare it
with the numpy path of :func:`.solve.solve_block` bit for bit (same problems, same elements in
the same order, same chosen subsets).

User-given sources (:class:`.source.UserSource`) live on the host: their blocks are gathered
there and moved to the device.
"""

from __future__ import annotations

import numpy as np

__all__ = ["solve_block_torch", "compact_tensor", "chosen_pairs"]


def compact_tensor(elements, ok, limit: int):
    """:func:`._kernels.compact` (``prefer_last=False``) in torch: each problem's existing
    elements (``ok``) moved to the front, at most ``limit`` of them, in order.

    Parameters
    ----------
    elements : float64 tensor (P, W)
    ok : bool tensor (P, W)
    limit : int >= 1

    Returns
    -------
    (elements float64 (P, w), ok bool (P, w), back int64 (P, w)) on the input's device, w the
    largest count kept (at least 1); ``back`` the original position of each kept element.

    >>> import torch
    >>> el, ok, back = compact_tensor(torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64),
    ...                               torch.tensor([[True, False, True]]), 8)
    >>> el.tolist(), back.tolist()
    ([[1.0, 3.0]], [[0, 2]])
    """
    import torch

    position = torch.cumsum(ok, dim=1, dtype=torch.int64) - 1
    keep = ok & (position < limit)
    counts = keep.sum(dim=1)
    width = max(1, int(counts.max())) if counts.numel() else 1
    n_probs = elements.shape[0]
    out = torch.zeros((n_probs, width), dtype=elements.dtype, device=elements.device)
    out_ok = torch.zeros((n_probs, width), dtype=torch.bool, device=elements.device)
    back = torch.zeros((n_probs, width), dtype=torch.int64, device=elements.device)
    p, e = torch.nonzero(keep, as_tuple=True)
    k = position[p, e]
    out[p, k] = elements[p, e]
    out_ok[p, k] = True
    back[p, k] = e
    return out, out_ok, back


def chosen_pairs(result, n: int = 64):
    """A :class:`subsetsum.SolveResult` of torch tensors: its chosen elements as (problem int64
    (K,), element int64 (K,)) tensors on the result's device, sorted by problem then element
    (what :meth:`~subsetsum.SolveResult.chosen_elements` gives on the host); ``n`` the problems'
    width (bits beyond it are never set: decoding stops there).

    >>> import torch, subsetsum
    >>> r = subsetsum.solve(torch.tensor([0.5, 0.7]), torch.tensor([[0.25, 0.25, 0.7], [0.1, 0.2, 0.7]]),
    ...                     eps=1e-9, mode="best")
    >>> [t.tolist() for t in chosen_pairs(r)]
    [[0, 0, 1], [0, 1, 2]]
    """
    import torch

    if result.indices is not None:
        p, slot = torch.nonzero(result.indices >= 0, as_tuple=True)
        return p, result.indices[p, slot].to(torch.int64)
    words = result.subsets.view(torch.int64)  # bit i: element i (an arithmetic shift keeps bit 63)
    bits = (words[:, None] >> torch.arange(min(64, n), device=words.device)) & 1
    return torch.nonzero(bits, as_tuple=True)


def _solve_tensors(targets, elements, mask, settings):
    """One batched solve of torch tensors (the device's kernels); returns (problem, element)
    tensors of the chosen elements, errors float64 (B,) and found bool (B,) tensors."""
    import torch

    from ..solve import solve
    from .solve import solve_options

    kwargs = dict(solve_options(settings, settings.tolerance), mask=mask)
    if settings.mode != "min_size":  # as _solve_call: k elements must exist to be solvable
        short = settings.subset_size - elements.shape[1]
        if short > 0:
            if mask is None:
                mask = torch.ones(elements.shape, dtype=torch.bool, device=elements.device)
            elements = torch.nn.functional.pad(elements, (0, short))
            kwargs["mask"] = torch.nn.functional.pad(mask, (0, short))
    res = solve(targets, elements, **kwargs)
    p, e = chosen_pairs(res, elements.shape[1])
    return p, e, res.errors, res.found


def _solve_nonzero_tensors(targets, elements, mask, settings):
    """:func:`.solve._solve_nonzero` for tensors: zero targets issue no problem."""
    import torch

    live = torch.nonzero(targets != 0, as_tuple=True)[0]
    if live.numel() == targets.numel():
        return _solve_tensors(targets, elements, mask, settings)
    errors = torch.zeros(targets.shape, dtype=torch.float64, device=targets.device)
    found = torch.ones(targets.shape, dtype=torch.bool, device=targets.device)
    empty = torch.zeros(0, dtype=torch.int64, device=targets.device)
    if live.numel() == 0:
        return empty, empty, errors, found
    p, e, err, fnd = _solve_tensors(targets[live], elements[live], None if mask is None else mask[live], settings)
    errors[live] = err
    found[live] = fnd
    return live[p], e, errors, found


def solve_block_torch(source, er, s, matrix, settings, device, rows, targets):
    """:func:`.solve.solve_block` with the block's arrays as torch tensors on ``device`` (a
    torch device or its name: "cuda[:N]", or "cpu" to run the same code on the host). Same
    arguments and the same result, as numpy arrays, bit for bit.

    >>> from subsetsum.tickets.source import GeneratedSource
    >>> from subsetsum.tickets.solve import BlockSettings, solve_block
    >>> src = GeneratedSource(0, ["uniform", "uniform"], [True, False])
    >>> members = np.arange(8, dtype=np.int64)
    >>> matrix = (members, np.zeros(8, bool), np.ones((1, 8)), np.ones((1, 8), bool))
    >>> args = (src, None, 1, matrix, BlockSettings("min_size", 4, None, 64, 1e-3), "cpu",
    ...         np.array([3, 4]), np.array([0.3, -0.2]))
    >>> on_torch, on_numpy = solve_block_torch(*args), solve_block(*args[:5], None, *args[6:])
    >>> all(np.array_equal(a, b) for a, b in zip(on_torch, on_numpy))
    True
    """
    import torch

    device = torch.device(device)
    members, pairs, elem_mult, valid = matrix
    n_groups, width = elem_mult.shape
    limit = settings.limit
    rows_t = torch.as_tensor(np.asarray(rows, np.int64), device=device)
    members_t = torch.as_tensor(np.asarray(members, np.int64), device=device)
    w = source.weights_tensor(s, rows_t, members_t)  # float32 (R, G * W)
    mask = None
    if er is not None and not er.dense(s):
        mask = er.mask_tensor(s, rows_t, members_t)
        pairs = np.asarray(pairs, bool)
        if pairs.any():  # a looks-linear pair's partner edge must exist too
            at = torch.as_tensor(np.flatnonzero(pairs), device=device)
            mask[:, at] &= er.mask_tensor(s, rows_t, members_t[at] + settings.pair_step)
    mult = torch.as_tensor(np.asarray(elem_mult, np.float64), device=device)
    valid_t = torch.as_tensor(np.asarray(valid, bool), device=device)
    n_rows = rows_t.numel()
    # the host's gather_elements: mult[g, e] * float64(w[r, g * W + e]), the same IEEE products
    elements = (w.view(n_rows, n_groups, width).to(torch.float64) * mult).view(n_rows * n_groups, width)
    targets_t = torch.as_tensor(np.asarray(targets, np.float64), device=device)
    if mask is not None:
        ok = (mask.view(n_rows, n_groups, width) & valid_t).view(n_rows * n_groups, width)
    elif bool(valid.all()):
        ok = None
    else:
        ok = valid_t.expand(n_rows, n_groups, width).reshape(n_rows * n_groups, width)
    if mask is not None or width > limit:  # as the host: only the existing elements, at most `limit`
        comp, comp_ok, back = compact_tensor(elements, ok if ok is not None else torch.ones_like(elements, dtype=torch.bool),
                                             limit)
        p_idx, c_idx, errors, found = _solve_nonzero_tensors(targets_t, comp, comp_ok, settings)
        e_idx = back[p_idx, c_idx]
    else:
        p_idx, e_idx, errors, found = _solve_nonzero_tensors(targets_t, elements, ok, settings)
    from .solve import chosen_lists

    counts, positions, chosen = chosen_lists(p_idx.cpu().numpy(), e_idx.cpu().numpy(), errors.numel(), width,
                                             w.view(-1, width)[p_idx, e_idx].cpu().numpy())
    return counts, positions, errors.cpu().numpy(), found.cpu().numpy(), chosen
