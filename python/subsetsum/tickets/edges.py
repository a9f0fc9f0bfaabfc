"""Kept edges of a source layer, stored by row and compressed: about 1 byte per kept edge.

A ticket keeps one to three orders of magnitude more edges than its target has weights (the
L+1 ticket of a LeNet-300-100-shaped target keeps 23 million, of a 25-million-weight target 2.75
billion), so how they are held decides the memory of a build. :class:`KeptEdges` holds a layer's
edges by row: ``indptr`` int64 (rows + 1,) counts them, and each row's columns (increasing) are
varints of their gaps (csrc/cpu/varint_rows.hpp), indexed by ``byteptr`` int64 (rows + 1,). The
members of one group lie together in the layer before, so most gaps take one byte. Rows decode on
their own (:meth:`KeptEdges.row_cols`, :meth:`KeptEdges.row_blocks`), so nothing needs a whole
layer's columns at once; ``cols`` and the ``(rows, cols)`` pair the rest of the package reads are
decoded on demand, never stored. :class:`EdgeCollector` gathers the edges of a weight matrix
while a build solves it, chunk by chunk in the same compressed form, and merges the chunks a
bounded number of rows at a time, releasing each chunk once the merge has passed it.
"""

from __future__ import annotations

import ctypes
import sys
import time

import numpy as np

from .. import _core

__all__ = ["KeptEdges", "EdgeCollector"]

# bits of a dense mask handled at a time when packing or unpacking it (8 MB of bools)
BITS_PER_BATCH = 1 << 23
# edges decoded at a time by a merge or a blockwise pass (32 MB of int32 columns)
EDGES_PER_BATCH = 1 << 23
# edges merged between two returns of freed memory to the system (release_freed_memory)
RELEASE_EVERY = 1 << 22
# the most of a build's time the returns of freed memory may take (ReleasePace): a return walks
# the whole heap, so its cost grows with the kept edges (3 ms a call at 150 million, 55 ms late in
# a build of 2.75 billion)
RELEASE_TIME_SHARE = 0.05
# a varint of a gap below 2^31 takes at most 5 bytes
MAX_VARINT_BYTES = 5


def _encode(indptr: np.ndarray, cols: np.ndarray):
    """Rows (``indptr`` int64 (R + 1,) from anywhere, ``cols`` int32 increasing within rows)
    as (byteptr int64 (R + 1,) from 0, data uint8)."""
    sizes = _core.varint_row_bytes(np.ascontiguousarray(indptr, np.int64), np.ascontiguousarray(cols, np.int32))
    byteptr = np.zeros(sizes.size + 1, np.int64)
    np.cumsum(sizes, out=byteptr[1:])
    data = np.empty(int(byteptr[-1]), np.uint8)
    _core.varint_encode_into(np.ascontiguousarray(indptr, np.int64), np.ascontiguousarray(cols, np.int32), byteptr, data)
    return byteptr, data


def _decode(byteptr: np.ndarray, data: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """The columns int32 of rows encoded at ``byteptr`` in ``data`` with counts ``indptr`` (all
    three slices of one layout: offsets from anywhere, data exactly the rows' bytes)."""
    out = np.empty(int(indptr[-1] - indptr[0]), np.int32)
    _core.varint_decode_into(np.ascontiguousarray(byteptr, np.int64), np.ascontiguousarray(data, np.uint8),
                             np.ascontiguousarray(indptr, np.int64), out)
    return out


class _ByteSink:
    """Encoded rows appended batch by batch into one buffer sized for the worst case (5 bytes an
    edge, of which only the written pages become resident), shrunk in place when done."""

    def __init__(self, n_rows: int, n_edges: int):
        self.byteptr = np.zeros(n_rows + 1, np.int64)
        self.data = np.empty(MAX_VARINT_BYTES * n_edges + 1, np.uint8)
        self.used = 0

    def append(self, r0: int, indptr_block: np.ndarray, cols: np.ndarray) -> None:
        """The rows r0 .. r0 + R - 1 (``indptr_block`` (R + 1,), ``cols`` their columns)."""
        sizes = _core.varint_row_bytes(indptr_block, cols)
        ends = self.used + np.cumsum(sizes)
        self.byteptr[r0 + 1:r0 + 1 + sizes.size] = ends
        end = int(ends[-1]) if ends.size else self.used
        _core.varint_encode_into(indptr_block, cols, self.byteptr[r0:r0 + sizes.size + 1], self.data[self.used:end])
        self.used = end

    def finish(self) -> tuple:
        """(byteptr, data) once every row is appended, in order."""
        data = self.data
        self.data = None
        data.resize(self.used, refcheck=False)  # a realloc: the unused tail goes, nothing is copied
        return self.byteptr, data


class KeptEdges:
    """The kept weights of one source layer, by row.

    Attributes
    ----------
    indptr : int64 (rows + 1,)
        Row r has ``indptr[r + 1] - indptr[r]`` edges.
    byteptr : int64 (rows + 1,), data : uint8
        Row r's columns, increasing (repeats allowed: a multiset, as built), as varints of their
        gaps in ``data[byteptr[r]:byteptr[r + 1]]``.

    ``cols`` (int32 (E,)) and ``rows`` are decoded on each access; :meth:`row_cols` and
    :meth:`row_blocks` decode a range of rows. It unpacks as ``rows, cols = edges`` and indexes as
    ``edges[0]`` (rows) and ``edges[1]`` (cols), like the pair it replaces.

    >>> e = KeptEdges.from_pairs(np.array([2, 0, 2]), np.array([5, 1, 3]), n_rows=3)
    >>> e.indptr.tolist(), e.cols.tolist(), e.rows.tolist(), e.row_cols(2, 3).tolist()
    ([0, 1, 1, 3], [1, 3, 5], [0, 2, 2], [3, 5])
    >>> rows, cols = e
    >>> e.size, e.data.tolist()
    (3, [1, 3, 2])
    """

    __slots__ = ("indptr", "byteptr", "data")

    def __init__(self, indptr, cols):
        indptr = np.ascontiguousarray(indptr, np.int64)
        cols = np.ascontiguousarray(cols, np.int32)
        _check_indptr(indptr, cols.size)
        self.indptr = indptr
        self.byteptr, self.data = _encode(indptr, cols)

    @classmethod
    def from_encoded(cls, indptr, byteptr, data) -> "KeptEdges":
        """From the stored form (:attr:`indptr`, :attr:`byteptr`, :attr:`data`), checked for
        shape; the bytes themselves are checked when decoded."""
        e = cls.__new__(cls)
        e.indptr = np.ascontiguousarray(indptr, np.int64)
        e.byteptr = np.ascontiguousarray(byteptr, np.int64)
        e.data = np.ascontiguousarray(data, np.uint8)
        _check_indptr(e.indptr, None)
        if (e.byteptr.shape != e.indptr.shape or e.byteptr[0] != 0 or e.byteptr[-1] != e.data.size
                or (np.diff(e.byteptr) < 0).any()):
            raise ValueError(f"byteptr: expected {e.indptr.size} non-decreasing offsets from 0 to the bytes "
                             f"of the data ({e.data.size})")
        return e

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
        blocks = []
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
            block_indptr = np.concatenate([[0], np.cumsum(counts[r0:r1])])
            blocks.append((r0, _encode(block_indptr, (pos - r * n_cols).astype(np.int32))))
        e = cls.__new__(cls)
        e.indptr = np.concatenate([[0], np.cumsum(counts)])
        e.byteptr = np.zeros(n_rows + 1, np.int64)
        offset = 0
        for r0, (byteptr, data) in blocks:
            e.byteptr[r0:r0 + byteptr.size] = offset + byteptr
            offset += data.size
        e.data = np.concatenate([d for _r0, (_b, d) in blocks]) if blocks else np.zeros(0, np.uint8)
        return e

    def packed_bits(self, n_cols: int) -> np.ndarray:
        """The row-major dense mask (rows, n_cols) packed as by ``np.packbits`` (uint8 (ceil(rows *
        n_cols / 8),)), built a bounded number of edges at a time (never the whole bool mask)."""
        out = np.zeros((self.n_rows * n_cols + 7) // 8, np.uint8)
        for r0, r1, cols in self.row_blocks(BITS_PER_BATCH // 8):
            if cols.size:
                rows = np.repeat(np.arange(r0, r1, dtype=np.int64), np.diff(self.indptr[r0:r1 + 1]))
                pos = rows * n_cols + cols  # increasing: columns are in order within rows
                pos = pos[np.concatenate([[True], pos[1:] != pos[:-1]])]  # a repeated edge is one bit
                byte = pos >> 3
                starts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
                out[byte[starts]] |= np.add.reduceat((0x80 >> (pos & 7)).astype(np.uint8), starts)  # distinct bits
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
        return int(self.indptr[-1])

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.byteptr.nbytes + self.data.nbytes)

    def counts(self) -> np.ndarray:
        """Kept edges per row, int64 (rows,)."""
        return np.diff(self.indptr)

    def row_cols(self, r0: int, r1: int) -> np.ndarray:
        """The columns (int32) of rows r0 .. r1 - 1, row by row."""
        b0, b1 = int(self.byteptr[r0]), int(self.byteptr[r1])
        return _decode(self.byteptr[r0:r1 + 1], self.data[b0:b1], self.indptr[r0:r1 + 1])

    def row_blocks(self, max_edges: int = EDGES_PER_BATCH):
        """(r0, r1, columns int32 of rows r0 .. r1 - 1) over all rows, about ``max_edges`` edges
        (at least one row) at a time."""
        r0 = 0
        while r0 < self.n_rows:
            r1 = int(np.searchsorted(self.indptr, self.indptr[r0] + max_edges, side="right")) - 1
            r1 = min(self.n_rows, max(r1, r0 + 1))
            yield r0, r1, self.row_cols(r0, r1)
            r0 = r1

    def columns_used(self, n_cols: int) -> np.ndarray:
        """Bool (n_cols,): which columns some kept edge reads (decoded a block at a time)."""
        used = np.zeros(n_cols, bool)
        for _r0, _r1, cols in self.row_blocks():
            used[cols] = True
        return used

    @property
    def cols(self) -> np.ndarray:
        """Column of every edge, int32 (E,), ordered by row then column (decoded; not stored)."""
        return self.row_cols(0, self.n_rows)

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
        return f"KeptEdges(rows={self.n_rows}, edges={self.size}, bytes={self.nbytes})"


def _check_indptr(indptr: np.ndarray, n_edges: int | None) -> None:
    if (indptr.ndim != 1 or indptr.size < 1 or indptr[0] != 0 or (n_edges is not None and indptr[-1] != n_edges)
            or (np.diff(indptr) < 0).any()):
        raise ValueError(f"indptr: expected a 1-d array non-decreasing from 0 to the number of edges "
                         f"({n_edges if n_edges is not None else 'indptr[-1]'}), got {indptr.size} entries ending at "
                         f"{indptr[-1] if indptr.size else None}")


class _Chunk:
    """Edges of some rows in compressed by-row form: ``rows`` int64 (R,) distinct and increasing,
    ``indptr`` and ``byteptr`` int64 (R + 1,) from 0, ``data`` uint8; ``order`` its place in
    the build (a merge applies chunks in that order within a row)."""

    __slots__ = ("rows", "indptr", "byteptr", "data", "order")

    def __init__(self, rows, counts, cols, order: int):
        self.rows = rows
        self.indptr = np.concatenate([[0], np.cumsum(counts)])
        self.byteptr, self.data = _encode(self.indptr, cols)
        self.order = order

    @property
    def edges(self) -> int:
        return int(self.indptr[-1])


class EdgeCollector:
    """The kept edges of one weight matrix while a build runs: chunks in compressed by-row form
    (about 1 byte an edge, plus 24 bytes per row of a chunk), merged once by :meth:`merge`.

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
            self.chunks.append(_Chunk(*by_row(rows, cols), order=len(self.chunks)))

    def edges(self) -> int:
        return sum(c.edges for c in self.chunks)

    def merge(self, n_rows: int, keep_rows, parts=(), *, mark_columns=None) -> tuple:
        """The collected edges and ``parts`` (more (rows, cols) pairs) whose rows ``keep_rows``
        (bool (n_rows,)) keeps, as :class:`KeptEdges`. Rows are merged a batch at a time (about
        EDGES_PER_BATCH edges), each batch's edges placed row by row in build order (``parts``
        first), put in order where a row got edges from several chunks, and encoded; a chunk is
        released once the merge has passed its last row. ``mark_columns`` (bool (columns,),
        optional) is set True at every column a kept edge reads (what
        :meth:`KeptEdges.columns_used` would decode again). Returns (the edges, how many of the
        collected ones were kept)."""
        chunks = [_Chunk(*by_row(r, c), order=-1 - k) for k, (r, c) in enumerate(parts) if np.size(r)]
        n_parts = len(chunks)
        chunks += self.chunks
        self.chunks = []
        counts = np.zeros(n_rows, np.int64)
        collected = 0
        for k, ch in enumerate(chunks):
            per_row = np.diff(ch.indptr)
            kept = keep_rows[ch.rows]
            counts[ch.rows[kept]] += per_row[kept]
            if k >= n_parts:
                collected += int(per_row[kept].sum())
        indptr = np.zeros(n_rows + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        del counts
        sink = _ByteSink(n_rows, int(indptr[-1]))
        pace = ReleasePace()
        # chunks by first row; parts (negative order) before the build's chunks within a row
        waiting = sorted(range(len(chunks)), key=lambda k: (int(chunks[k].rows[0]), k), reverse=True)
        active = []
        merged = 0
        r0 = 0
        while r0 < n_rows:
            r1 = int(np.searchsorted(indptr, indptr[r0] + EDGES_PER_BATCH, side="right")) - 1
            r1 = min(n_rows, max(r1, r0 + 1))
            while waiting and chunks[waiting[-1]].rows[0] < r1:
                active.append(waiting.pop())
            active.sort()  # build order: parts, then chunks as added
            block = indptr[r0:r1 + 1] - indptr[r0]
            cols_out = np.empty(int(block[-1]), np.int32)
            fill = block[:-1].copy()
            several = np.zeros(r1 - r0, bool)  # rows filled from more than one chunk (to sort again)
            for k in active:
                ch = chunks[k]
                a, b = np.searchsorted(ch.rows, [r0, r1])
                if a == b:
                    continue
                kept = keep_rows[ch.rows[a:b]]
                if not kept.any():
                    continue
                local = ch.rows[a:b] - r0
                # each kept row's columns decoded straight to where its row's next edges go
                _core.varint_decode_into(ch.byteptr[a:b + 1], ch.data[ch.byteptr[a]:ch.byteptr[b]],
                                         ch.indptr[a:b + 1], cols_out, dest=np.where(kept, fill[local], -1))
                local, cnt = local[kept], np.diff(ch.indptr[a:b + 1])[kept]
                several[local] |= fill[local] > block[local]
                fill[local] += cnt
            _core.sort_row_columns(block, cols_out, np.flatnonzero(several))
            if mark_columns is not None:
                mark_columns[cols_out] = True
            sink.append(r0, block, cols_out)
            merged += cols_out.size
            del cols_out
            for k in [k for k in active if chunks[k].rows[-1] < r1]:  # passed: release
                active.remove(k)
                chunks[k] = None
            if merged >= RELEASE_EVERY and pace.due():
                pace.release()
                merged = 0
            r0 = r1
        byteptr, data = sink.finish()
        e = KeptEdges.__new__(KeptEdges)
        e.indptr, e.byteptr, e.data = indptr, byteptr, data
        release_freed_memory()
        return e, collected


def by_row(rows, cols) -> tuple:
    """Edges (row, col) in by-row form: (distinct rows int64 increasing, edges per row int64,
    cols int32 ordered by row then column)."""
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    if rows.size and (rows.min() < 0 or cols.min() < 0 or cols.max() >= 1 << 31 or rows.max() >= 1 << 31):
        raise ValueError("edges: rows and columns must be non-negative int32 values")
    grouped = rows.size < 2 or not (rows[1:] < rows[:-1]).any()
    if not grouped:  # sort by (row, col)
        key = (rows.astype(np.int64) << 32) | cols.astype(np.int64)
        key.sort(kind="stable")  # runs already in order (per sign, per pair partner) merge in linear time
        rows, cols = key >> 32, key & 0xFFFFFFFF
    start = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]])) if rows.size else np.zeros(0, np.int64)
    counts = np.diff(np.concatenate([start, [rows.size]])).astype(np.int64)
    cols = cols.astype(np.int32)
    if grouped:  # a solved block's edges come row by row, each row's columns in a few runs in order
        # (one per sign of the groups, per pair partner): merged in place in the compiled core
        _core.sort_row_columns(np.concatenate([[0], np.cumsum(counts)]), cols, np.arange(start.size, dtype=np.int64))
    return rows[start].astype(np.int64), counts, cols


def release_freed_memory() -> None:
    """Give the heap pages freed arrays leave behind back to the system (glibc's ``malloc_trim``).

    The chunks a build collects are small arrays, so freeing them returns their pages to the
    allocator's free lists, not to the system: without this the process would hold the collected
    chunks and the merged layer at once. No effect outside glibc."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class ReleasePace:
    """Paces :func:`release_freed_memory` so that it takes at most ``share`` of the time: a call
    is due once the time since the last one ends is ``1 / share`` times what that one took.
    Each call walks the whole heap (glibc's ``malloc_trim``), which grows with the kept edges: at
    a fixed count of blocks between calls it took a tenth of the bookkeeping's time at 660
    million kept edges (benchmarks/results/scale.md). Only memory depends on it, never a result.
    ``clock``: seconds, monotonic (tests pass their own).

    >>> pace = ReleasePace(share=0.5)
    >>> pace.due()  # the first call is due at once
    True
    """

    def __init__(self, share: float = RELEASE_TIME_SHARE, clock=time.perf_counter):
        self.share = share
        self.clock = clock
        self.cost = 0.0
        self.last = clock()

    def due(self) -> bool:
        return (self.clock() - self.last) * self.share >= self.cost

    def release(self) -> None:
        start = self.clock()
        release_freed_memory()
        self.last = self.clock()
        self.cost = self.last - start


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
