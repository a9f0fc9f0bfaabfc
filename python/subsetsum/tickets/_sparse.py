"""Sparse layers of a ticket: one compressed-row matrix product, compiled with numba.

Layout: a layer is (indptr int64 (rows + 1,), cols int64 (E,), values float64 (E,)) with the
kept edges of row r at ``indptr[r]:indptr[r + 1]``; activations travel as (features, batch)
C-contiguous arrays, so a row reads whole contiguous rows of its input.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["csr_matmul"]


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
    _csr_matmul(np.asarray(indptr, np.int64), np.asarray(cols, np.int64), np.asarray(values, np.float64), x, out)
    return out
