"""Plain numba implementation of every mode: the tests' oracle and ``solve(..., backend="numba")``.

Written to be obviously correct rather than fast: enumeration of all subsets for ``"best"``,
combinations of increasing size with an early exit for ``"min_size"``, and lexicographic
combinations of size k for ``"fixed_size"``. Every algorithm here is exact, so the
``algorithm`` that :func:`subsetsum.solve` chose is ignored, and so is the work bound (no
result is ever ``exhausted``).

Order on candidate subsets (the solver contract): smaller error ``|z - s|`` first (z and the
elements converted to float64, s their sum in float64 taken in increasing index order from 0),
then fewer elements, then the smaller bit pattern read as an unsigned integer (for n > 64: the
set whose largest differing index is smaller). Every subset's sum here is exactly that sum, so
these results match the compiled core bit for bit, in float32 and float64.

Ctrl-C: the kernel runs in a worker thread and reads a stop flag every 2**16 subsets, so
KeyboardInterrupt comes within milliseconds, not at the end of the chunk.

Imports nothing from the package's compiled parts, so it can be loaded and tested on its own.
"""

from __future__ import annotations

import math
import os
import threading

import numba
import numpy as np
from numba import njit, prange

MODES = ("best", "min_size", "fixed_size")

# Enumeration is exponential; beyond these the reference would run for hours per problem.
MAX_ELEMENTS_BEST = 30
MAX_SUBSETS_MIN_SIZE = 1 << 30
MAX_SUBSETS_FIXED_SIZE = 10**8

# Integer codes of the modes inside the compiled kernels.
_BEST, _MIN_SIZE, _FIXED_SIZE = 0, 1, 2

# Per-problem status codes, as the compiled core writes them (subsetsum._core.status_codes()).
STATUS_DONE, STATUS_REJECTED, STATUS_STOPPED = 0, 2, 3

# Problems whose |target| plus sum of |elements| reaches this are not solved (status rejected),
# as in the compiled core: below it no subset sum can overflow.
SUM_LIMIT = 2.0**1021

# The stop flag is read every this many subsets.
_POLL_MASK = (1 << 16) - 1


@njit(cache=True, nogil=True)
def _compact(row, mask, b, has_mask, values, index):
    """Copies problem b's present elements into values/index (original order); returns m."""
    m = 0
    for i in range(row.shape[0]):
        if not has_mask or mask[b, i]:
            values[m] = np.float64(row[i])
            index[m] = i
            m += 1
    return m


@njit(cache=True, nogil=True)
def _lowest_set_bit(i):
    """Position of the lowest set bit of i > 0."""
    j = 0
    while (i >> j) & 1 == 0:
        j += 1
    return j


@njit(cache=True, nogil=True)
def _is_better(err, size, bits, best_err, best_size, best_bits):
    """(err, size, bits) < (best_err, best_size, best_bits) lexicographically."""
    if err != best_err:
        return err < best_err
    if size != best_size:
        return size < best_size
    return bits < best_bits


@njit(cache=True, nogil=True)
def _best_of_all(z, values, index, m, chosen_pos, stop):
    """Minimum over all 2^m subsets; writes its positions (ascending) into chosen_pos.

    Returns the subset's size, or -1 when the stop flag was raised. Subsets come in binary
    counting order with element m - 1 as the lowest digit, so consecutive subsets share their
    lowest-index elements: a step adds element j to fold[j], the index-order sum of the chosen
    elements below j, and drops the elements above j. Every subset's sum is thus exactly the
    contract's index-order sum (a running sum updated by subtractions would drift).
    """
    fold = np.zeros(m + 1)
    size_below = np.zeros(m + 1, dtype=np.int64)
    bits = 0  # compact positions; same order as original indices
    best_err = abs(z - 0.0)
    best_size = 0
    best_bits = 0
    for step in range(1, 1 << m):
        if (step & _POLL_MASK) == 0 and stop[0] != 0:
            return -1
        j = m - 1 - _lowest_set_bit(step)
        bits = (bits & ((1 << j) - 1)) | (1 << j)
        size = size_below[j] + 1
        total = fold[j] + values[j]
        for d in range(j + 1, m):
            fold[d] = total
            size_below[d] = size
        err = abs(z - total)
        if _is_better(err, size, bits, best_err, best_size, best_bits):
            best_err = err
            best_size = size
            best_bits = bits
    count = 0
    for j in range(m):
        if (best_bits >> j) & 1:
            chosen_pos[count] = j
            count += 1
    return count


@njit(cache=True, nogil=True)
def _next_combination(comb, size, m):
    """Advances comb[:size] (positions, ascending) to the next one in lexicographic order.

    Returns False when comb was the last combination.
    """
    i = size - 1
    while i >= 0 and comb[i] == m - size + i:
        i -= 1
    if i < 0:
        return False
    comb[i] += 1
    for j in range(i + 1, size):
        comb[j] = comb[j - 1] + 1
    return True


@njit(cache=True, nogil=True)
def _combination_sum(values, comb, size):
    """Sum of the combination's values in increasing index order, in float64."""
    total = 0.0
    for t in range(size):
        total += values[comb[t]]
    return total


@njit(cache=True, nogil=True)
def _set_less(index, comb_a, comb_b, size):
    """Is set a smaller than set b as big integers (both `size` ascending positions)?

    The set holding the largest index in which they differ is the larger one: compare from the
    top down.
    """
    for t in range(size - 1, -1, -1):
        ia = index[comb_a[t]]
        ib = index[comb_b[t]]
        if ia != ib:
            return ia < ib
    return False


@njit(cache=True, nogil=True)
def _best_of_size(z, values, index, m, size, comb, best_comb, stop):
    """Minimum over the size-subsets by (err, set order); returns its error, best_comb filled,
    or -1.0 when the stop flag was raised."""
    for t in range(size):
        comb[t] = t
        best_comb[t] = t
    best_err = abs(z - _combination_sum(values, comb, size))
    count = 0
    while _next_combination(comb, size, m):
        count += 1
        if (count & _POLL_MASK) == 0 and stop[0] != 0:
            return -1.0
        err = abs(z - _combination_sum(values, comb, size))
        if err < best_err or (err == best_err and _set_less(index, comb, best_comb, size)):
            best_err = err
            for t in range(size):
                best_comb[t] = comb[t]
    return best_err


@njit(cache=True, nogil=True)
def _min_size(z, values, index, m, max_size, eps, chosen_pos, stop):
    """Smallest size whose best subset is within eps, else the best of size <= max_size.

    Returns the chosen size (-1 when the stop flag was raised); its positions (ascending) are
    written into chosen_pos.
    """
    comb = np.empty(max(m, 1), dtype=np.int64)
    size_best = np.empty(max(m, 1), dtype=np.int64)
    overall_err = np.inf
    overall_size = -1
    for size in range(min(max_size, m) + 1):
        err = _best_of_size(z, values, index, m, size, comb, size_best, stop)
        if err < 0.0:
            return -1
        if err <= eps:
            for t in range(size):
                chosen_pos[t] = size_best[t]
            return size
        # Sizes grow, so a strictly smaller error is needed to replace an earlier size's best.
        if err < overall_err:
            overall_err = err
            overall_size = size
            for t in range(size):
                chosen_pos[t] = size_best[t]
    return overall_size


@njit(cache=True, parallel=True, nogil=True)
def _solve_kernel(
    targets, bases, mask, has_mask, mode, max_size, k, eps,
    out_subsets, has_subsets, out_indices, has_indices,
    out_sums, out_errors, out_sizes, out_found, out_status, stop,
):
    """Solves every problem of the chunk; one prange iteration (thread task) per problem."""
    batch, n = bases.shape
    for b in prange(batch):
        values = np.empty(n, dtype=np.float64)
        index = np.empty(n, dtype=np.int64)
        chosen_pos = np.empty(max(n, 1), dtype=np.int64)
        m = _compact(bases[b], mask, b, has_mask, values, index)
        z = np.float64(targets[b])
        magnitude = 0.0  # summed as the compiled core sums it
        for t in range(m):
            magnitude += abs(values[t])
        magnitude += abs(z)

        status = STATUS_DONE
        feasible = True
        size = 0
        if not magnitude < SUM_LIMIT:  # NaN too
            status = STATUS_REJECTED
        elif stop[0] != 0:
            status = STATUS_STOPPED
        elif mode == _BEST:
            size = _best_of_all(z, values, index, m, chosen_pos, stop)
        elif mode == _MIN_SIZE:
            size = _min_size(z, values, index, m, max_size, eps, chosen_pos, stop)
        elif k > m:
            feasible = False
        else:
            comb = np.empty(max(k, 1), dtype=np.int64)
            if _best_of_size(z, values, index, m, k, comb, chosen_pos, stop) < 0.0:
                size = -1
            else:
                size = k
        if size < 0:
            status = STATUS_STOPPED
        if status != STATUS_DONE:
            feasible = False
            size = 0

        # Outputs recomputed from the chosen elements, summed in increasing index order.
        total = 0.0
        bits = np.uint64(0)
        for t in range(size):
            total += values[chosen_pos[t]]
            if n <= 64:
                bits |= np.uint64(1) << np.uint64(index[chosen_pos[t]])
        err = abs(z - total)
        if has_subsets:
            out_subsets[b] = bits
        if has_indices:
            for t in range(out_indices.shape[1]):
                out_indices[b, t] = index[chosen_pos[t]] if feasible else -1
        out_sums[b] = total
        out_errors[b] = err
        out_sizes[b] = size
        out_found[b] = feasible and err <= eps
        out_status[b] = status


def check_affordable(mode: str, n: int, max_size: int, k: int) -> None:
    """Raises ValueError (naming ``bases``) when exhaustive enumeration would be unaffordable."""
    if mode == "best":
        if n > MAX_ELEMENTS_BEST:
            raise ValueError(
                f"bases: the numba reference enumerates all 2^n subsets for mode='best' and "
                f"supports n <= {MAX_ELEMENTS_BEST}, got n = {n}"
            )
    elif mode == "min_size":
        count = sum(math.comb(n, s) for s in range(max_size + 1))
        if count > MAX_SUBSETS_MIN_SIZE:
            raise ValueError(
                f"bases: the numba reference enumerates every subset of size <= max_size for "
                f"mode='min_size' and supports at most 2^30 of them, got {count} "
                f"(n = {n}, max_size = {max_size})"
            )
    elif mode == "fixed_size":
        count = math.comb(n, k)
        if count > MAX_SUBSETS_FIXED_SIZE:
            raise ValueError(
                f"bases: the numba reference enumerates every k-subset for mode='fixed_size' and "
                f"supports at most {MAX_SUBSETS_FIXED_SIZE:.0e} of them, got C({n}, {k}) = {count}"
            )


def estimated_work(mode: str, n: int, max_size: int, k: int) -> float:
    """Subsets this reference sums per problem (times their size), to size chunks."""
    if mode == "best":
        return float(2**n)
    if mode == "min_size":
        return float(sum(math.comb(n, s) * max(s, 1) for s in range(min(max_size, n) + 1)))
    return float(math.comb(n, k) * max(k, 1))


class _Runner:
    """One long-lived worker thread that runs kernels, so that the calling thread stays free to
    take Ctrl-C (a Python signal handler only runs in the main thread, between bytecodes) and
    then raise the kernel's stop flag. Long-lived so that the threading layer's pool is made
    once, not per call; remade after a fork."""

    _lock = threading.Lock()
    _instance = None

    def __init__(self):
        self.pid = os.getpid()
        self.jobs = []
        self.wake = threading.Condition()
        self.thread = threading.Thread(target=self._loop, name="subsetsum-reference", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> "_Runner":
        with cls._lock:
            if cls._instance is None or cls._instance.pid != os.getpid():
                cls._instance = cls()
            return cls._instance

    def _loop(self):
        while True:
            with self.wake:
                while not self.jobs:
                    self.wake.wait()
                job = self.jobs.pop(0)
            job()

    def run(self, function, threads: int, stop: np.ndarray) -> None:
        """Runs function() on the worker with `threads` numba threads; waits for it. On any
        exception in the waiting thread (KeyboardInterrupt), raises stop[0] and waits for the
        kernel to notice before re-raising."""
        done = threading.Event()
        failure = []

        def job():
            try:
                numba.set_num_threads(threads)  # thread-local in numba
                function()
            except BaseException as exc:  # handed to the caller
                failure.append(exc)
            finally:
                done.set()

        with self.wake:
            self.jobs.append(job)
            self.wake.notify()
        try:
            while not done.wait(0.05):
                pass
        except BaseException:
            stop[0] = 1
            done.wait()
            raise
        if failure:
            raise failure[0]


def solve_into(
    targets, bases, mask, mode, max_size, k, eps, algorithm,
    out_subsets, out_indices, out_sums, out_errors, out_sizes, out_found, out_status,
    num_threads, work_limit=None,
):
    """Solves one chunk of already-validated problems exactly, filling the outputs in place.

    Parameters
    ----------
    targets : float32 or float64 array (B,), C-contiguous
    bases : array (B, n) of the same dtype, C-contiguous (read only)
    mask : bool array (B, n) or None
        Element i of problem b exists only where ``mask[b, i]`` is true.
    mode : {"best", "min_size", "fixed_size"}
    max_size : int
        Largest subset size for ``"min_size"`` (already clipped to n; n for other modes).
    k : int
        Subset size for ``"fixed_size"`` (0 for other modes).
    eps : float > 0
    algorithm : str
        The algorithm :func:`subsetsum.solve` chose. Ignored: the reference is always exact.
    out_subsets : uint64 array (B,) or None
        Bit i set for each chosen element i (n <= 64).
    out_indices : int64 array (B, k) or None
        Chosen indices ascending, -1 rows for infeasible problems (fixed_size with n > 64).
    out_sums, out_errors : float64 arrays (B,)
    out_sizes : int32 array (B,)
    out_found : bool array (B,)
    out_status : uint8 array (B,)
        0 (done) or 2 (rejected: ``|target|`` plus the sum of ``|elements|`` is at least
        2**1021, not solved); never 1 (exhausted): the reference has no work bound.
    num_threads : int
        0 for the calling thread's numba thread count, else the threads for this call (capped at
        the threads numba started with). The caller's setting is left as it was.
    work_limit : ignored (the reference is exhaustive; check_affordable bounds its work).

    Ctrl-C while it runs raises KeyboardInterrupt within milliseconds (outputs incomplete).
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    n = bases.shape[1]
    check_affordable(mode, n, max_size, k)
    mode_code = MODES.index(mode)
    dummy_mask = np.zeros((1, 1), dtype=np.bool_)
    dummy_subsets = np.zeros(1, dtype=np.uint64)
    dummy_indices = np.zeros((1, 1), dtype=np.int64)
    threads = numba.get_num_threads()
    if num_threads:
        threads = max(1, min(int(num_threads), numba.config.NUMBA_NUM_THREADS))
    stop = np.zeros(1, dtype=np.int64)

    def kernel():
        _solve_kernel(
            targets, bases,
            dummy_mask if mask is None else mask, mask is not None,
            mode_code, int(max_size), int(k), float(eps),
            dummy_subsets if out_subsets is None else out_subsets, out_subsets is not None,
            dummy_indices if out_indices is None else out_indices, out_indices is not None,
            out_sums, out_errors, out_sizes, out_found, out_status, stop,
        )

    _Runner.get().run(kernel, threads, stop)
