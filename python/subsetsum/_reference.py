"""Plain numba implementation of every mode: the tests' oracle and ``solve(..., backend="numba")``.

Written to be obviously correct rather than fast: Gray-code enumeration of all subsets for
``"best"``, combinations of increasing size with an early exit for ``"min_size"``, and
lexicographic combinations of size k for ``"fixed_size"``. Every algorithm here is exact, so the
``algorithm`` that :func:`subsetsum.solve` chose is ignored.

Order on candidate subsets (the solver contract): smaller error ``|z - s|`` first (z and the
elements converted to float64, s summed in float64), then fewer elements, then the smaller bit
pattern read as an unsigned integer (for n > 64: the set whose largest differing index is
smaller). For float32 inputs every subset sum is exact in float64 (barring exponent ranges wider
than float64's mantissa), so these results match the compiled core bit for bit.

Imports nothing from the package's compiled parts, so it can be loaded and tested on its own.
"""

from __future__ import annotations

import math

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
    """Position of the lowest set bit of i > 0 (the element a Gray-code step toggles)."""
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
def _best_gray_code(z, values, index, m, chosen_pos):
    """Minimum over all 2^m subsets; writes its positions (ascending) into chosen_pos.

    Returns the subset's size. Each Gray-code step toggles one element, so the running sum is
    updated by one addition or subtraction.
    """
    in_set = np.zeros(m, dtype=np.bool_)
    running_sum = 0.0
    size = 0
    bits = np.uint64(0)
    best_err = abs(z - running_sum)
    best_size = 0
    best_bits = np.uint64(0)
    for step in range(1, 1 << m):
        j = _lowest_set_bit(step)
        bit = np.uint64(1) << np.uint64(index[j])
        if in_set[j]:
            in_set[j] = False
            running_sum -= values[j]
            size -= 1
        else:
            in_set[j] = True
            running_sum += values[j]
            size += 1
        bits ^= bit
        err = abs(z - running_sum)
        if _is_better(err, size, bits, best_err, best_size, best_bits):
            best_err = err
            best_size = size
            best_bits = bits
    count = 0
    for j in range(m):
        if (best_bits >> np.uint64(index[j])) & np.uint64(1):
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
def _best_of_size(z, values, index, m, size, comb, best_comb):
    """Minimum over the size-subsets by (err, set order); returns its error, best_comb filled."""
    for t in range(size):
        comb[t] = t
        best_comb[t] = t
    best_err = abs(z - _combination_sum(values, comb, size))
    while _next_combination(comb, size, m):
        err = abs(z - _combination_sum(values, comb, size))
        if err < best_err or (err == best_err and _set_less(index, comb, best_comb, size)):
            best_err = err
            for t in range(size):
                best_comb[t] = comb[t]
    return best_err


@njit(cache=True, nogil=True)
def _min_size(z, values, index, m, max_size, eps, chosen_pos):
    """Smallest size whose best subset is within eps, else the best of size <= max_size.

    Returns the chosen size; its positions (ascending) are written into chosen_pos.
    """
    comb = np.empty(max(m, 1), dtype=np.int64)
    size_best = np.empty(max(m, 1), dtype=np.int64)
    overall_err = np.inf
    overall_size = -1
    for size in range(min(max_size, m) + 1):
        err = _best_of_size(z, values, index, m, size, comb, size_best)
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


@njit(cache=True, parallel=True)
def _solve_kernel(
    targets, bases, mask, has_mask, mode, max_size, k, eps,
    out_subsets, has_subsets, out_indices, has_indices,
    out_sums, out_errors, out_sizes, out_found,
):
    """Solves every problem of the chunk; one prange iteration (thread task) per problem."""
    batch, n = bases.shape
    for b in prange(batch):
        values = np.empty(n, dtype=np.float64)
        index = np.empty(n, dtype=np.int64)
        chosen_pos = np.empty(max(n, 1), dtype=np.int64)
        m = _compact(bases[b], mask, b, has_mask, values, index)
        z = np.float64(targets[b])

        feasible = True
        size = 0
        if mode == _BEST:
            size = _best_gray_code(z, values, index, m, chosen_pos)
        elif mode == _MIN_SIZE:
            size = _min_size(z, values, index, m, max_size, eps, chosen_pos)
        elif k > m:
            feasible = False
        else:
            comb = np.empty(max(k, 1), dtype=np.int64)
            _best_of_size(z, values, index, m, k, comb, chosen_pos)
            size = k

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


def solve_into(
    targets, bases, mask, mode, max_size, k, eps, algorithm,
    out_subsets, out_indices, out_sums, out_errors, out_sizes, out_found, num_threads,
):
    """Solves one chunk of already-validated problems exactly, filling the outputs in place.

    Parameters
    ----------
    targets : float32 or float64 array (B,), C-contiguous
    bases : array (B, n) of the same dtype, C-contiguous
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
    num_threads : int
        0 for numba's current thread count, else the threads for this call (capped at the
        threads numba started with); the previous count is restored afterwards.
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    n = bases.shape[1]
    check_affordable(mode, n, max_size, k)
    mode_code = MODES.index(mode)
    dummy_mask = np.zeros((1, 1), dtype=np.bool_)
    dummy_subsets = np.zeros(1, dtype=np.uint64)
    dummy_indices = np.zeros((1, 1), dtype=np.int64)
    previous_threads = numba.get_num_threads()
    if num_threads:
        numba.set_num_threads(max(1, min(int(num_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        _solve_kernel(
            targets, bases,
            dummy_mask if mask is None else mask, mask is not None,
            mode_code, int(max_size), int(k), float(eps),
            dummy_subsets if out_subsets is None else out_subsets, out_subsets is not None,
            dummy_indices if out_indices is None else out_indices, out_indices is not None,
            out_sums, out_errors, out_sizes, out_found,
        )
    finally:
        numba.set_num_threads(previous_threads)
