"""The ticket code's two loops that numpy cannot do in one pass, compiled with numba.

``csr_matmul``: the sparse layers of a ticket. A layer is (indptr int64 (rows + 1,), cols int64
(E,), values float64 (E,)) with the kept edges of row r at ``indptr[r]:indptr[r + 1]``;
activations travel as (features, batch) C-contiguous arrays, so a row reads whole contiguous
rows of its input.

``compact``: problems whose elements are partly missing (ER masks, padded groups) with the
existing elements moved to the front, so the solver sees at most its limit of them.

The ticket's blocks may run on several threads at once (:class:`.executor.LocalExecutor`): every
call goes through :func:`_entered`, which lets one thread at a time into numba's ``workqueue``
threading layer (the one numba falls back to without OpenMP or TBB: it aborts the process when
two threads enter it).
"""

from __future__ import annotations

import contextlib
import threading

import numba
import numpy as np

__all__ = ["csr_matmul", "compact", "gather_compact"]

_WORKQUEUE = threading.Lock()


def _entered():
    """A context in which to call a parallel kernel: a lock where numba's threading layer is (or,
    before the first parallel call chose one, may become) ``workqueue``, else nothing."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = "workqueue"
    return _WORKQUEUE if layer == "workqueue" else contextlib.nullcontext()


@numba.njit(parallel=True, cache=True)
def _csr_matmul(indptr, cols, values, x, out):
    batch = x.shape[1]
    for r in numba.prange(out.shape[0]):
        for k in range(indptr[r], indptr[r + 1]):
            c = cols[k]
            v = values[k]
            for b in range(batch):
                out[r, b] += v * x[c, b]


def csr_matmul(indptr, cols, values, x) -> np.ndarray:
    """``W @ x`` for the sparse W (rows, features) and x float64 (features, batch); (rows, batch).

    >>> indptr, cols, vals = np.array([0, 1, 3]), np.array([1, 0, 1]), np.array([2.0, 1.0, -1.0])
    >>> csr_matmul(indptr, cols, vals, np.array([[1.0], [3.0]])).ravel().tolist()
    [6.0, -2.0]
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros((indptr.size - 1, x.shape[1]))
    with _entered():
        _csr_matmul(np.asarray(indptr, np.int64), np.asarray(cols, np.int64), np.asarray(values, np.float64), x, out)
    return out


@numba.njit(parallel=True, cache=True)
def _compact(elements, ok, limit, prefer_last, out, out_ok, back):
    for p in numba.prange(elements.shape[0]):
        skip = 0
        if prefer_last:
            count = 0
            for e in range(elements.shape[1]):
                if ok[p, e]:
                    count += 1
            skip = max(0, count - limit)
        k = 0
        seen = 0
        for e in range(elements.shape[1]):
            if ok[p, e]:
                if seen >= skip and k < limit:
                    out[p, k] = elements[p, e]
                    out_ok[p, k] = True
                    back[p, k] = e
                    k += 1
                seen += 1


def compact(elements, ok, limit: int, *, prefer_last: bool = False):
    """Move each problem's existing elements (``ok``) to the front, at most ``limit`` of them (the
    first, or the last with ``prefer_last``). Returns (elements float64 (P, w), ok bool (P, w),
    back int64 (P, w): the original position of each), w the largest count kept.

    >>> el, ok, back = compact(np.array([[1.0, 2.0, 3.0]]), np.array([[True, False, True]]), 8)
    >>> el.tolist(), back.tolist()
    ([[1.0, 3.0]], [[0, 2]])
    """
    elements = np.ascontiguousarray(elements, dtype=np.float64)
    ok = np.ascontiguousarray(ok, dtype=np.bool_)
    width = max(1, int(min(limit, ok.sum(axis=1).max(initial=0))))
    out = np.zeros((elements.shape[0], width))
    out_ok = np.zeros((elements.shape[0], width), np.bool_)
    back = np.zeros((elements.shape[0], width), np.int64)
    with _entered():
        _compact(elements, ok, int(limit), bool(prefer_last), out, out_ok, back)
    return out, out_ok, back


@numba.njit(parallel=True, cache=True)
def _gather_compact(w, er, mult, valid, limit, out, out_ok, back):
    n_groups, width = mult.shape
    for r in numba.prange(w.shape[0]):
        for g in range(n_groups):
            p = r * n_groups + g
            k = 0
            for e in range(width):
                col = g * width + e
                if k < limit and valid[g, e] and er[r, col]:
                    out[p, k] = mult[g, e] * w[r, col]
                    out_ok[p, k] = True
                    back[p, k] = e
                    k += 1


def gather_compact(w, er, mult, valid, limit: int):
    """Elements of rows x groups, compacted: ``w`` float32 (R, G * W) source weights, ``er`` bool
    (R, G * W) their ER mask, ``mult`` float64 (G, W) the multipliers (scale included), ``valid``
    bool (G, W). Problem ``r * G + g`` gets ``mult[g, e] * w[r, g * W + e]`` for its existing
    elements, at most ``limit``, in order. Returns (elements float64 (R * G, w), ok, back) as
    :func:`compact`.

    >>> el, ok, back = gather_compact(np.array([[1.0, 2.0]], np.float32), np.array([[False, True]]),
    ...                               np.array([[3.0, 4.0]]), np.array([[True, True]]), 8)
    >>> el.tolist(), back.tolist()
    ([[8.0]], [[1]])
    """
    n_groups, width = mult.shape
    counts = (er.reshape(-1, n_groups, width) & valid[None]).sum(axis=2)
    out_width = max(1, int(min(limit, counts.max(initial=0))))
    n_probs = w.shape[0] * n_groups
    out = np.zeros((n_probs, out_width))
    out_ok = np.zeros((n_probs, out_width), np.bool_)
    back = np.zeros((n_probs, out_width), np.int64)
    with _entered():
        _gather_compact(np.ascontiguousarray(w), np.ascontiguousarray(er), np.ascontiguousarray(mult, dtype=np.float64),
                        np.ascontiguousarray(valid), int(limit), out, out_ok, back)
    return out, out_ok, back
