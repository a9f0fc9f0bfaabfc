"""Kept edges of a source layer, stored by row (CSR): about 4 bytes per kept edge.

A ticket keeps one to three orders of magnitude more edges than its target has weights (the
L+1 ticket of a LeNet-300-100-shaped target keeps 23 million), so how they are held decides the
memory of a build. :class:`KeptEdges` holds a layer's edges as ``indptr`` int64 (rows + 1,) and
``cols`` int32 (E,), columns increasing within a row; it still unpacks as the ``(rows, cols)``
pair the rest of the package reads (``rows`` is expanded on demand, never stored).
:class:`EdgeCollector` gathers the edges of a weight matrix while a build solves it, chunk by
chunk in the same by-row form, and merges the chunks into a :class:`KeptEdges` without ever
holding more than one copy of them plus one chunk.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

__all__ = ["KeptEdges", "EdgeCollector"]

# edges per sort when columns are put in order within rows after a merge (bounds the int64 keys)
SORT_CHUNK = 1 << 20
# bits of a dense mask handled at a time when packing or unpacking it (8 MB of bools)
BITS_PER_BATCH = 1 << 23
# edges copied by a merge between two returns of freed memory to the system (release_freed_memory)
RELEASE_EVERY = 1 << 22


class KeptEdges:
    """The kept weights of one source layer, by row.

    Attributes
    ----------
    indptr : int64 (rows + 1,)
        The edges of row r are ``cols[indptr[r]:indptr[r + 1]]``.
    cols : int32 (E,)
        Columns, increasing within each row (repeats allowed: a multiset, as built).

    It unpacks as ``rows, cols = edges`` (rows int32 (E,), expanded on each access) and indexes
    as ``edges[0]`` (rows) and ``edges[1]`` (cols), like the pair it replaces.

    >>> e = KeptEdges.from_pairs(np.array([2, 0, 2]), np.array([5, 1, 3]), n_rows=3)
    >>> e.indptr.tolist(), e.cols.tolist(), e.rows.tolist()
    ([0, 1, 1, 3], [1, 3, 5], [0, 2, 2])
    >>> rows, cols = e
    >>> e.size, e.nbytes
    (3, 44)
    """

    __slots__ = ("indptr", "cols")

    def __init__(self, indptr, cols):
        self.indptr = np.ascontiguousarray(indptr, np.int64)
        self.cols = np.ascontiguousarray(cols, np.int32)
        if self.indptr.ndim != 1 or self.indptr.size < 1 or self.indptr[0] != 0 or self.indptr[-1] != self.cols.size:
            raise ValueError(f"indptr: expected a 1-d array from 0 to the number of columns ({self.cols.size}), "
                             f"got {self.indptr.size} entries ending at {self.indptr[-1] if self.indptr.size else None}")

    @classmethod
    def from_pairs(cls, rows, cols, n_rows: int) -> "KeptEdges":
        """From (row, col) pairs in any order (each int array (E,)); rows must lie in [0, n_rows)."""
        distinct, per_row, cols = by_row(rows, cols)
        counts = np.zeros(n_rows, np.int64)
        counts[distinct] = per_row
        return cls(np.concatenate([[0], np.cumsum(counts)]), cols)

    @classmethod
    def from_packed_bits(cls, bits, shape) -> "KeptEdges":
        """From the row-major dense mask of ``shape`` packed as by ``np.packbits`` (uint8,
        big-endian bit order), a bounded number of rows at a time, reading only nonzero bytes
        (never the whole mask)."""
        n_rows, n_cols = (int(x) for x in shape)
        counts = np.zeros(n_rows, np.int64)
        cols = []
        step = max(1, BITS_PER_BATCH // max(1, n_cols))
        for r0 in range(0, n_rows, step):
            r1 = min(n_rows, r0 + step)
            first, last = r0 * n_cols, r1 * n_cols
            seg = bits[first >> 3:(last + 7) >> 3]
            nonzero = np.flatnonzero(seg)
            k, bit = np.nonzero(np.unpackbits(seg[nonzero][:, None], axis=1))
            pos = ((first >> 3) + nonzero[k]) * 8 + bit  # increasing
            pos = pos[(pos >= first) & (pos < last)]  # the first and last bytes are shared with other rows
            r = pos // n_cols
            counts[r0:r1] = np.bincount(r - r0, minlength=r1 - r0)
            cols.append((pos - r * n_cols).astype(np.int32))
        return cls(np.concatenate([[0], np.cumsum(counts)]), np.concatenate(cols) if cols else np.zeros(0, np.int32))

    def packed_bits(self, n_cols: int) -> np.ndarray:
        """The row-major dense mask (rows, n_cols) packed as by ``np.packbits`` (uint8 (ceil(rows *
        n_cols / 8),)), built a bounded number of edges at a time (never the whole bool mask)."""
        out = np.zeros((self.n_rows * n_cols + 7) // 8, np.uint8)
        step = max(1, BITS_PER_BATCH // 8)
        r0 = 0
        while r0 < self.n_rows:
            r1 = int(np.searchsorted(self.indptr, self.indptr[r0] + step, side="right")) - 1
            r1 = min(self.n_rows, max(r1, r0 + 1))
            lo, hi = self.indptr[r0], self.indptr[r1]
            if hi > lo:
                rows = np.repeat(np.arange(r0, r1, dtype=np.int64), np.diff(self.indptr[r0:r1 + 1]))
                pos = rows * n_cols + self.cols[lo:hi]  # increasing: columns are in order within rows
                pos = pos[np.concatenate([[True], pos[1:] != pos[:-1]])]  # a repeated edge is one bit
                byte = pos >> 3
                starts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
                out[byte[starts]] |= np.add.reduceat((0x80 >> (pos & 7)).astype(np.uint8), starts)  # distinct bits
            r0 = r1
        return out

    @classmethod
    def empty(cls, n_rows: int) -> "KeptEdges":
        return cls(np.zeros(n_rows + 1, np.int64), np.zeros(0, np.int32))

    @property
    def n_rows(self) -> int:
        return self.indptr.size - 1

    @property
    def size(self) -> int:
        """Kept edges."""
        return int(self.cols.size)

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.cols.nbytes)

    def counts(self) -> np.ndarray:
        """Kept edges per row, int64 (rows,)."""
        return np.diff(self.indptr)

    @property
    def rows(self) -> np.ndarray:
        """Row of every edge, int32 (E,) (expanded from ``indptr``; not stored)."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int32), self.counts())

    def __iter__(self):
        yield self.rows
        yield self.cols

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i):
        if i in (1, -1):
            return self.cols
        if i in (0, -2):
            return self.rows
        raise IndexError(f"KeptEdges unpacks as (rows, cols); index {i} is out of range")

    def __repr__(self) -> str:
        return f"KeptEdges(rows={self.n_rows}, edges={self.size})"


class EdgeCollector:
    """The kept edges of one weight matrix while a build runs: chunks in by-row form, ``(rows
    int64 (R,) distinct and increasing, counts int64 (R,), cols int32 (E,))``, about 4 bytes per
    edge, merged once by :meth:`merge`.

    >>> c = EdgeCollector()
    >>> c.add(np.array([1, 0, 1]), np.array([7, 2, 3]))   # one solved block's edges
    >>> c.add(np.array([1, 2]), np.array([5, 0]))         # a later block (or the repair pass)
    >>> edges, collected = c.merge(3, np.array([True, True, False]), parts=[(np.array([0]), np.array([9]))])
    >>> edges.indptr.tolist(), edges.cols.tolist(), collected   # row 2 is not kept
    ([0, 2, 5, 5], [2, 9, 3, 5, 7], 4)
    """

    def __init__(self):
        self.chunks = []

    def __len__(self) -> int:
        return len(self.chunks)

    def add(self, rows, cols) -> None:
        """Add edges (row, col) given as two int arrays (E,), in any order."""
        if np.size(rows):
            self.chunks.append(by_row(rows, cols))

    def edges(self) -> int:
        return sum(int(c[2].size) for c in self.chunks)

    def merge(self, n_rows: int, keep_rows, parts=()) -> tuple:
        """The collected edges and ``parts`` (more (rows, cols) pairs) whose rows ``keep_rows``
        (bool (n_rows,)) keeps, as :class:`KeptEdges`; the chunks are released as they are
        copied. Returns (the edges, how many of the collected ones were kept)."""
        chunks = [by_row(r, c) for r, c in parts if np.size(r)] + self.chunks
        n_parts = len(chunks) - len(self.chunks)
        self.chunks = []
        release_freed_memory()  # what solving left behind, before the output grows
        counts = np.zeros(n_rows, np.int64)
        collected = 0
        for k, (rows, cnt, _cols) in enumerate(chunks):
            kept = keep_rows[rows]
            counts[rows[kept]] += cnt[kept]
            if k >= n_parts:
                collected += int(cnt[kept].sum())
        indptr = np.concatenate([[0], np.cumsum(counts)])
        out = np.empty(int(indptr[-1]), np.int32)
        fill = indptr[:-1].copy()
        several = np.zeros(n_rows, bool)  # rows filled from more than one chunk (to sort again)
        chunks.reverse()  # popped from the end: the parts first, then the chunks in build order
        copied = 0
        while chunks:
            rows, cnt, cols = chunks.pop()
            kept = keep_rows[rows]
            if not kept.any():
                continue
            if not kept.all():
                cols = cols[np.repeat(kept, cnt)]
                rows, cnt = rows[kept], cnt[kept]
            starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])
            out[np.repeat(fill[rows] - starts, cnt) + np.arange(cols.size)] = cols
            several[rows] |= fill[rows] > indptr[rows]
            fill[rows] += cnt
            copied += cols.size
            del rows, cnt, cols
            if copied >= RELEASE_EVERY:  # the copied chunks' memory goes back as the output fills
                release_freed_memory()
                copied = 0
        release_freed_memory()
        _sort_rows(indptr, out, np.flatnonzero(several))
        return KeptEdges(indptr, out), collected


def by_row(rows, cols) -> tuple:
    """Edges (row, col) in by-row form: (distinct rows int64 increasing, edges per row int64,
    cols int32 ordered by row then column)."""
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    if rows.size and (rows.min() < 0 or cols.min() < 0 or cols.max() >= 1 << 31):
        raise ValueError("edges: rows and columns must be non-negative int32 values")
    key = (rows << 32) | cols
    if key.size > 1 and (key[1:] < key[:-1]).any():  # a solved block's edges mostly come in order
        key.sort()
    rows = key >> 32
    start = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]])) if key.size else np.zeros(0, np.int64)
    counts = np.diff(np.concatenate([start, [key.size]]))
    return rows[start], counts.astype(np.int64), (key & 0xFFFFFFFF).astype(np.int32)


def _sort_rows(indptr, cols, rows) -> None:
    """Put the columns of ``rows`` (int64, increasing) in order in place, in batches of about
    SORT_CHUNK edges (batches already in order are left as they are)."""
    k = 0
    while k < rows.size:
        first = k
        lo = indptr[rows[first]]
        k = max(first + 1, int(np.searchsorted(indptr[rows[first:] + 1] - lo, SORT_CHUNK, side="right")) + first)
        batch = rows[first:k]
        lengths = indptr[batch + 1] - indptr[batch]
        starts = np.cumsum(lengths) - lengths
        seg = np.repeat(indptr[batch] - starts, lengths) + np.arange(int(lengths.sum()))
        key = (np.repeat(np.arange(batch.size, dtype=np.int64), lengths) << 32) | cols[seg].astype(np.int64)
        if key.size > 1 and (key[1:] < key[:-1]).any():
            key.sort()
            cols[seg] = (key & 0xFFFFFFFF).astype(np.int32)


def release_freed_memory() -> None:
    """Give the heap pages freed arrays leave behind back to the system (glibc's ``malloc_trim``).

    The chunks a build collects are small arrays, so freeing them returns their pages to the
    allocator's free lists, not to the system: without this the process would hold the collected
    chunks and the merged layer at once. No effect outside glibc."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()
