"""Philox4x32-10 and the source-weight contract (subsetsum/philox.hpp, subsetsum._philox).

Known answers from Random123; a plain-Python Philox written from the SC'11 description checks the
compiled one and the (seed, stream, layer, row, col) -> value contract; blocks, gathers and
grown blocks agree; the values are Uniform(-1, 1) / Bernoulli(p) within tight statistical
bounds; the thread count changes nothing; the SIMD fill kernels (AVX2, AVX-512, where the CPU has
them) write bit for bit what the scalar reference writes; bad arguments name themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subsetsum import _core
from subsetsum._philox import bernoulli, philox4x32_10, uniform

MASK32 = 0xFFFFFFFF

# Random123's kat_vectors for philox4x32 with 10 rounds: counter (4 words), key (2 words),
# expected output (4 words). Quoted from the DEShawResearch kat_vectors file (as carried in
# DEShawResearch/fs123 core123/ut/ut_philox.cpp).
KAT_VECTORS = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def reference_philox(counter, key):
    """Philox4x32-10 in plain Python ints, from the paper: 10 rounds of two 32x32 -> 64
    multiplications, the key bumped by the Weyl constants after each round."""
    x0, x1, x2, x3 = counter
    k0, k1 = key
    for _ in range(10):
        p0 = 0xD2511F53 * x0
        p1 = 0xCD9E8D57 * x2
        x0, x1, x2, x3 = ((p1 >> 32) ^ x1 ^ k0, p1 & MASK32, (p0 >> 32) ^ x3 ^ k1, p0 & MASK32)
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return x0, x1, x2, x3


def reference_word(seed, stream, layer, row, col):
    """The contract: word col & 3 of Philox at counter (col >> 2, row, layer, stream)."""
    return reference_philox((col >> 2, row, layer, stream), (seed & MASK32, seed >> 32))[col & 3]


def reference_uniform(x):
    return ((x >> 8) * 2 + 1 - 2**24) * 2.0**-24


def words(seed, stream, layer, rows, cols):
    """The 32-bit words behind the values at (rows[i], cols[i]), through the raw binding."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    counters = np.stack([cols >> 2, rows, np.full_like(rows, layer), np.full_like(rows, stream)],
                        axis=1)
    out = philox4x32_10(counters, [seed & MASK32, seed >> 32])
    return out[np.arange(rows.size), cols & 3]


# --- the raw function ----------------------------------------------------------------------------


@pytest.mark.parametrize("counter, key, expected", KAT_VECTORS, ids=["zeros", "ones", "pi"])
def test_known_answer_vectors(counter, key, expected):
    assert tuple(int(v) for v in philox4x32_10([counter], key)[0]) == expected
    assert reference_philox(counter, key) == expected


def test_known_answer_vectors_in_one_batch_with_one_key():
    counters = [counter for counter, _, _ in KAT_VECTORS]
    out = philox4x32_10(np.array(counters, dtype=np.uint32), np.array([0, 0], dtype=np.uint32))
    assert out.dtype == np.uint32 and out.shape == (3, 4)
    assert tuple(int(v) for v in out[0]) == KAT_VECTORS[0][2]
    # One key for the whole batch: rows 1 and 2 are not their KAT (other keys), but each row is
    # the function of its own counter.
    for i, counter in enumerate(counters):
        assert tuple(int(v) for v in out[i]) == reference_philox(counter, (0, 0))


def test_raw_function_matches_plain_python_on_random_inputs():
    rng = np.random.default_rng(101)
    counters = rng.integers(0, 2**32, size=(300, 4), dtype=np.uint64)
    for key in rng.integers(0, 2**32, size=(3, 2), dtype=np.uint64):
        out = philox4x32_10(counters, key)
        for c, y in zip(counters.tolist(), out.tolist()):
            assert tuple(y) == reference_philox(c, key.tolist())


# --- the weight contract -------------------------------------------------------------------------

CONTRACT_POINTS = [
    # (seed, stream, layer, row, col): edges of every range and the high seed word
    (0, 0, 0, 0, 0),
    (1, 0, 0, 0, 3),
    (2**32, 0, 0, 0, 4),
    (2**64 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1, 2**34 - 1),
    (123456789012345, 7, 3, 1000, 2**33 + 5),
    (99, 1, 2, 3, 2**32 + 1),
]


@pytest.mark.parametrize("point", CONTRACT_POINTS)
def test_values_follow_the_documented_contract(point):
    seed, stream, layer, row, col = point
    x = reference_word(seed, stream, layer, row, col)
    assert uniform(seed, stream, layer, row, col)[0, 0] == np.float32(reference_uniform(x))
    assert int(words(seed, stream, layer, [row], [col])[0]) == x
    p = 0.3
    expected_bit = x < math.floor(p * 2**32)
    assert bool(bernoulli(seed, stream, layer, [row], [col], p, outer=False)[0]) == expected_bit


def test_uniform_is_the_documented_map_of_the_raw_words():
    rng = np.random.default_rng(102)
    rows = rng.integers(0, 2**32, size=20000)
    cols = rng.integers(0, 2**34, size=20000)
    x = words(5, 1, 2, rows, cols).astype(np.int64)
    expected = (((x >> 8) * 2 + 1 - 2**24) * 2.0**-24).astype(np.float32)
    np.testing.assert_array_equal(uniform(5, 1, 2, rows, cols, outer=False), expected)
    for p in (0.1, 0.5, 0.77):
        np.testing.assert_array_equal(bernoulli(5, 1, 2, rows, cols, p, outer=False),
                                      x < math.floor(p * 2**32))


# --- blocks, gathers, growth ---------------------------------------------------------------------


def test_block_equals_pairs():
    rows, cols = np.arange(10, 47), np.arange(3, 101)
    block = uniform(11, 2, 5, rows, cols)
    assert block.shape == (rows.size, cols.size) and block.dtype == np.float32
    r, c = np.meshgrid(rows, cols, indexing="ij")
    pairs = uniform(11, 2, 5, r.ravel(), c.ravel(), outer=False)
    assert pairs.shape == (rows.size * cols.size,)
    np.testing.assert_array_equal(block.ravel(), pairs)
    bits = bernoulli(11, 2, 5, rows, cols, 0.4)
    np.testing.assert_array_equal(bits.ravel(), bernoulli(11, 2, 5, r.ravel(), c.ravel(), 0.4,
                                                          outer=False))


@pytest.mark.parametrize("shape, grown", [((1, 1), (5, 9)), ((17, 30), (40, 2100)),
                                          ((64, 4096), (65, 4101))])
def test_block_is_the_corner_of_a_grown_block(shape, grown):
    small = uniform(3, 0, 1, range(shape[0]), range(shape[1]))
    big = uniform(3, 0, 1, range(grown[0]), range(grown[1]))
    np.testing.assert_array_equal(small, big[: shape[0], : shape[1]])
    small_bits = bernoulli(3, 0, 1, range(shape[0]), range(shape[1]), 0.5)
    big_bits = bernoulli(3, 0, 1, range(grown[0]), range(grown[1]), 0.5)
    np.testing.assert_array_equal(small_bits, big_bits[: shape[0], : shape[1]])


@pytest.mark.parametrize("row_start, col_start", [(0, 1), (5, 2), (9, 3), (100, 4097)])
def test_offset_block_is_a_window_of_the_larger_block(row_start, col_start):
    # column starts off a multiple of 4: runs begin and end mid Philox block
    big = uniform(4, 1, 0, range(120), range(4200))
    window = uniform(4, 1, 0, range(row_start, 120), range(col_start, col_start + 77))
    np.testing.assert_array_equal(window, big[row_start:, col_start : col_start + 77])


def test_any_permutation_gathers_the_same_values():
    rng = np.random.default_rng(103)
    big = uniform(8, 0, 2, range(50), range(300))
    for _ in range(5):
        pr, pc = rng.permutation(50), rng.permutation(300)
        np.testing.assert_array_equal(uniform(8, 0, 2, pr, pc), big[np.ix_(pr, pc)])
    # repeated and scattered indices, in any order
    pr, pc = rng.integers(0, 50, size=70), rng.integers(0, 300, size=500)
    np.testing.assert_array_equal(uniform(8, 0, 2, pr, pc), big[np.ix_(pr, pc)])
    np.testing.assert_array_equal(uniform(8, 0, 2, pr, pc[:70], outer=False), big[pr, pc[:70]])


def test_index_containers_are_equivalent():
    expected = uniform(9, 0, 0, range(2, 6), range(10, 14))
    np.testing.assert_array_equal(uniform(9, 0, 0, [2, 3, 4, 5], (10, 11, 12, 13)), expected)
    np.testing.assert_array_equal(
        uniform(9, 0, 0, np.arange(2, 6, dtype=np.uint32), np.arange(10, 14, dtype=np.uint64)),
        expected)
    strided = np.arange(0, 28, dtype=np.int64)[10::4]  # non-contiguous view: 10, 14, 18, 22, 26
    np.testing.assert_array_equal(uniform(9, 0, 0, range(2, 6), strided),
                                  uniform(9, 0, 0, range(2, 6), range(10, 27, 4)))
    np.testing.assert_array_equal(uniform(9, 0, 0, np.int64(3), 12), expected[1:2, 2:3])
    assert uniform(9, 0, 0, [], range(5)).shape == (0, 5)
    assert uniform(9, 0, 0, range(5), []).shape == (5, 0)
    assert uniform(9, 0, 0, [], [], outer=False).shape == (0,)
    assert bernoulli(9, 0, 0, [], range(3), 0.5).shape == (0, 3)


# --- distribution --------------------------------------------------------------------------------

N_STAT = 10**6


@pytest.fixture(scope="module")
def million():
    return uniform(2024, 0, 0, range(1000), range(1000)).ravel()


def test_values_are_odd_multiples_of_2_pow_minus_24_inside_the_open_interval(million):
    assert np.all(np.abs(million) < 1.0)
    scaled = million.astype(np.float64) * 2**24
    assert np.array_equal(scaled, np.round(scaled))
    assert np.all(scaled.astype(np.int64) % 2 == 1)
    assert not np.any(million == 0)


def test_mean_variance_and_histogram_match_uniform_minus_one_one(million):
    v = million.astype(np.float64)
    z = 5.0  # bounds at five standard errors: a fixed seed, so this is a check, not a gamble
    assert abs(v.mean()) < z * math.sqrt(1 / 3 / N_STAT)
    # Var(U^2) = E[U^4] - E[U^2]^2 = 1/5 - 1/9 for U ~ Uniform(-1, 1)
    assert abs(np.mean(v**2) - 1 / 3) < z * math.sqrt((1 / 5 - 1 / 9) / N_STAT)
    assert abs(np.mean(v**3)) < z * math.sqrt(1 / 7 / N_STAT)
    counts, _ = np.histogram(v, bins=100, range=(-1.0, 1.0))
    expected = N_STAT / 100
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    dof = 99
    assert chi2 < dof + z * math.sqrt(2 * dof)
    # Kolmogorov-Smirnov: sqrt(n) * D stays below 1.95 with probability 0.999
    s = np.sort(v)
    cdf = (s + 1.0) / 2.0
    i = np.arange(1, N_STAT + 1)
    d = max(np.max(i / N_STAT - cdf), np.max(cdf - (i - 1) / N_STAT))
    assert math.sqrt(N_STAT) * d < 1.95


def test_distribution_is_symmetric(million):
    for t in (0.0, 0.25, 0.5, 0.9, 0.999):
        above, below = int(np.sum(million > t)), int(np.sum(million < -t))
        n = above + below
        # under symmetry `above` is Binomial(n, 1/2)
        assert abs(above - n / 2) < 5 * math.sqrt(n / 4) + 1
    # the value set itself is symmetric: x -> 2^32 - 1 - x maps v to -v exactly
    x = np.array([0, 255, 256, 2**31 - 1, 2**31, 2**32 - 257, 2**32 - 1], dtype=np.int64)
    v = reference_uniform(x)
    np.testing.assert_array_equal(v, -reference_uniform(2**32 - 1 - x))
    assert v[0] == -1 + 2.0**-24 and v[-1] == 1 - 2.0**-24


def test_different_seeds_streams_and_layers_give_different_values():
    base = uniform(1, 0, 0, range(64), range(64))
    variants = [
        uniform(2, 0, 0, range(64), range(64)),
        uniform(1 + 2**32, 0, 0, range(64), range(64)),  # the key's high word
        uniform(1, 1, 0, range(64), range(64)),
        uniform(1, 0, 1, range(64), range(64)),
        uniform(1, 0, 0, range(1, 65), range(64)),
        uniform(1, 0, 0, range(64), range(2**32, 2**32 + 64)),  # cols above 2^32 do not alias
    ]
    for other in variants:
        # equal by chance with probability 2^-24 per element
        assert np.count_nonzero(base == other) <= 2
        assert abs(np.corrcoef(base.ravel(), other.ravel())[0, 1]) < 5 / 64


# --- Bernoulli -----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.01, 0.1, 1 / 3, 0.5, 0.9])
def test_bernoulli_rate_within_binomial_bound(p):
    bits = bernoulli(77, 3, 0, range(1000), range(1000), p)
    assert bits.dtype == np.bool_ and bits.shape == (1000, 1000)
    rate = bits.mean()
    assert abs(rate - p) < 5 * math.sqrt(p * (1 - p) / N_STAT)


def test_bernoulli_zero_never_one_always():
    assert not bernoulli(5, 0, 0, range(500), range(500), 0.0).any()
    assert bernoulli(5, 0, 0, range(500), range(500), 1.0).all()
    assert bernoulli(5, 0, 0, range(500), range(500), 1).all()


@pytest.mark.parametrize("p, threshold", [
    (0.0, 0), (1.0, 2**32), (0.5, 2**31), (0.25, 2**30), (2.0**-32, 1), (2.0**-33, 0),
    (math.nextafter(1.0, 0.0), 2**32 - 1), (0.1, math.floor(0.1 * 2**32)),
])
def test_bernoulli_threshold_is_p_times_2_pow_32_rounded_down(p, threshold):
    assert _core.philox_bernoulli_threshold(p) == threshold


def test_bernoulli_nested_in_p():
    # one word per weight: the weights kept at p are kept at every larger p
    low = bernoulli(6, 0, 0, range(200), range(200), 0.2)
    high = bernoulli(6, 0, 0, range(200), range(200), 0.6)
    assert np.all(high[low])


# --- threads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("outer", [True, False])
def test_identical_for_one_and_two_threads(outer):
    rng = np.random.default_rng(104)
    if outer:
        rows, cols = np.arange(37), np.arange(5, 9000)  # several column tiles per row
    else:
        rows, cols = rng.integers(0, 2**32, 50000), rng.integers(0, 2**34, 50000)
    for draw in (lambda t: uniform(12, 1, 2, rows, cols, outer=outer, num_threads=t),
                 lambda t: bernoulli(12, 1, 2, rows, cols, 0.3, outer=outer, num_threads=t)):
        one, two, default = draw(1), draw(2), draw(None)
        np.testing.assert_array_equal(one, two)
        np.testing.assert_array_equal(one, default)


# --- SIMD kernels against the scalar reference ---------------------------------------------------

SIMD_KERNELS = ("avx2", "avx512")
# Thresholds of every kind: never, the smallest and largest partial ones, one half, always, and a
# threshold that is not a power of two.
THRESHOLDS = (0, 1, 2**31, 2**32 - 1, 2**32, math.floor(0.3 * 2**32))


def kernel_runs_here(kernel: str) -> bool:
    one = np.zeros(1, np.int64)
    try:
        _core.philox_uniform_into(0, 0, 0, one, one, np.empty((1, 1), np.float32), True, 1,
                                  kernel=kernel)
    except ValueError as error:
        assert "does not run on this CPU" in str(error)
        return False
    return True


@pytest.fixture(params=SIMD_KERNELS)
def simd_kernel(request):
    if not kernel_runs_here(request.param):
        pytest.skip(f"this CPU (or build) has no {request.param}")
    return request.param


def fill(kernel, seed, stream, layer, rows, cols, *, outer, threshold=None, num_threads=1):
    """The compiled fill with a given kernel: uniform values, or Bernoulli bits at threshold."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    shape = (rows.size, cols.size) if outer else (rows.size,)
    if threshold is None:
        out = np.full(shape, np.nan, np.float32)
        _core.philox_uniform_into(seed, stream, layer, rows, cols, out, outer, num_threads,
                                  kernel=kernel)
    else:
        out = np.empty(shape, np.bool_)
        _core.philox_bernoulli_into(seed, stream, layer, rows, cols, threshold, out, outer,
                                    num_threads, kernel=kernel)
    return out


def assert_kernel_matches_scalar(kernel, seed, stream, layer, rows, cols, *, outer,
                                 thresholds=THRESHOLDS, num_threads=1):
    where = dict(outer=outer, num_threads=num_threads)
    expected = fill("scalar", seed, stream, layer, rows, cols, **where)
    got = fill(kernel, seed, stream, layer, rows, cols, **where)
    # compared as bit patterns: equal floats and equal bits are the same test here (no NaN, no
    # signed zero), but the bits say more when they differ
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
    for threshold in thresholds:
        np.testing.assert_array_equal(
            fill(kernel, seed, stream, layer, rows, cols, threshold=threshold, **where),
            fill("scalar", seed, stream, layer, rows, cols, threshold=threshold, **where),
            err_msg=f"threshold {threshold}")


def test_kernel_argument():
    rows, cols = np.arange(5, dtype=np.int64), np.arange(3, 70, dtype=np.int64)
    auto = fill("auto", 3, 1, 2, rows, cols, outer=True)
    np.testing.assert_array_equal(auto, fill("scalar", 3, 1, 2, rows, cols, outer=True))
    np.testing.assert_array_equal(auto, uniform(3, 1, 2, rows, cols))  # the default is "auto"
    with pytest.raises(ValueError, match="^kernel: expected one of auto, scalar, avx2, avx512"):
        fill("sse2", 3, 1, 2, rows, cols, outer=True)
    with pytest.raises(ValueError, match="^kernel: "):
        fill("sse2", 3, 1, 2, rows, cols, outer=False, threshold=7)


@pytest.mark.parametrize("point", CONTRACT_POINTS)
def test_simd_values_follow_the_documented_contract(simd_kernel, point):
    # straight against the plain-Python reference, not only against the scalar fill
    seed, stream, layer, row, col = point
    x = reference_word(seed, stream, layer, row, col)
    for outer in (True, False):
        value = fill(simd_kernel, seed, stream, layer, [row], [col], outer=outer).ravel()[0]
        assert value == np.float32(reference_uniform(x))
        for threshold in THRESHOLDS:
            bit = fill(simd_kernel, seed, stream, layer, [row], [col], outer=outer,
                       threshold=threshold).ravel()[0]
            assert bool(bit) == (x < threshold)


def test_simd_contiguous_columns_every_start_and_length(simd_kernel):
    # starts on and off a Philox block boundary, lengths 0..100: whole and partial batches, runs
    # that begin and end mid block, inside one block and across several
    rows = np.array([0, 7, 2**32 - 1], np.int64)
    for start in range(9):
        for length in range(101):
            cols = np.arange(start, start + length)
            assert_kernel_matches_scalar(simd_kernel, 11, 2, 5, rows, cols, outer=True,
                                         thresholds=(2**31,))
    for start, length in [(0, 16000), (3, 16000), (2, 4096 + 17), (2**34 - 5000, 5000)]:
        cols = np.arange(start, start + length)
        assert_kernel_matches_scalar(simd_kernel, 2**64 - 1, 2**32 - 1, 9, rows, cols, outer=True)


@pytest.mark.parametrize("num_cols", [1, 2, 5, 16, 23, 24, 25, 40, 64, 100, 513, 5000])
def test_simd_scattered_shuffled_and_repeated_columns(simd_kernel, num_cols):
    # both sides of the narrow-block switch (24 columns), lists of 512 columns, tiles of 2048
    rng = np.random.default_rng(105 + num_cols)
    rows = rng.integers(0, 2**32, size=7)
    pool = rng.choice(3 * num_cols + 8, size=num_cols, replace=False)
    column_sets = {
        "sorted subset": np.sort(pool),
        "shuffled": pool,
        "shuffled range": rng.permutation(num_cols) + 2**33,
        "repeated": rng.integers(0, max(2, num_cols // 3), size=num_cols),
        "descending": np.arange(num_cols)[::-1] + 1,
        "far apart": rng.integers(0, 2**34, size=num_cols),
    }
    for cols in column_sets.values():
        assert_kernel_matches_scalar(simd_kernel, 17, 1, 3, rows, cols, outer=True)
        # the same columns as pairs, rows repeated as the ticket's gathers do
        pair_rows = np.resize(np.repeat(rows, 30), num_cols)
        assert_kernel_matches_scalar(simd_kernel, 17, 1, 3, pair_rows, cols, outer=False)


def test_simd_mixed_contiguous_and_scattered_tiles(simd_kernel):
    # an outer block whose column tiles (2048 columns) are partly consecutive, partly not
    rng = np.random.default_rng(106)
    cols = np.concatenate([np.arange(5, 2048 + 5), np.sort(rng.choice(9000, 2048, replace=False)),
                           np.arange(100, 2048 + 100), np.arange(7, 300)])
    assert_kernel_matches_scalar(simd_kernel, 21, 0, 1, np.arange(3), cols, outer=True)


@pytest.mark.parametrize("num_threads", [1, 2])
def test_simd_dense_span_columns(simd_kernel, num_threads):
    # columns crowding a short span (filled once per row, then picked): a ticket block's group
    # members (every other column of each group's range, the range read again by the other
    # sign's groups), spans just within and just beyond twice the columns, unaligned near 2**34
    rng = np.random.default_rng(109)
    rows = np.arange(6)
    signs = rng.random(4000) < 0.5
    members = np.concatenate([np.flatnonzero(signs), np.flatnonzero(~signs)]) + 3
    column_sets = [members, rng.permutation(members), np.sort(rng.choice(2 * 700, 700, replace=False)) + 1,
                   np.sort(rng.choice(2 * 700 + 1, 700, replace=False)) + 1, members + 2**34 - 4100]
    column_sets.append(np.concatenate([members[:50], [members[0] + 2]]))  # a column read twice
    for cols in column_sets:
        assert_kernel_matches_scalar(simd_kernel, 31, 2, 7, rows, cols, outer=True, num_threads=num_threads,
                                     thresholds=(2**31,))


@pytest.mark.parametrize("length", [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 2049, 30000])
def test_simd_pairs(simd_kernel, length):
    # pairs (outer=False): whole and partial batches of 8 and 16 lanes, random positions and
    # 30-column runs of one row (the ticket's groups), unaligned
    rng = np.random.default_rng(107 + length)
    rows = rng.integers(0, 2**32, size=length)
    cols = rng.integers(0, 2**34, size=length)
    assert_kernel_matches_scalar(simd_kernel, 23, 4, 6, rows, cols, outer=False)
    groups = -(-length // 30)
    run_rows = np.repeat(rng.integers(0, 5000, size=groups), 30)[:length]
    run_cols = (rng.integers(0, 2**20, size=groups)[:, None] + np.arange(30)).ravel()[:length]
    assert_kernel_matches_scalar(simd_kernel, 23, 4, 6, run_rows, run_cols, outer=False)


@pytest.mark.parametrize("outer", [True, False])
def test_simd_identical_for_one_and_two_threads(simd_kernel, outer):
    rng = np.random.default_rng(108)
    if outer:  # several tasks per row, consecutive and scattered columns
        rows = np.arange(40)
        for cols in (np.arange(5, 9000), np.sort(rng.choice(20000, 9000, replace=False))):
            assert_kernel_matches_scalar(simd_kernel, 12, 1, 2, rows, cols, outer=True,
                                         num_threads=2, thresholds=(2**30,))
        # a narrow block large enough to run in parallel
        assert_kernel_matches_scalar(simd_kernel, 12, 1, 2, np.arange(5000), [3, 9, 4, 2**33],
                                     outer=True, num_threads=2, thresholds=(2**30,))
    else:
        rows, cols = rng.integers(0, 2**32, 50000), rng.integers(0, 2**34, 50000)
        assert_kernel_matches_scalar(simd_kernel, 12, 1, 2, rows, cols, outer=False,
                                     num_threads=2, thresholds=(2**30,))


def _concatenated_runs(runs):
    """Columns made of runs (start, length), one after the other: consecutive stretches with
    jumps (and overlaps) between them."""
    return np.concatenate([np.arange(start, start + length, dtype=np.int64)
                           for start, length in runs] or [np.zeros(0, np.int64)])


COLUMN_START = st.integers(0, 2**34 - 3000)
COLUMNS = st.one_of(
    # one range (an outer fill's common case), across column tiles of 2048 at most once
    st.tuples(COLUMN_START, st.integers(0, 3000)).map(lambda run: _concatenated_runs([run])),
    # runs of consecutive columns with jumps, like groups of a ticket's layer
    st.lists(st.tuples(COLUMN_START, st.integers(0, 100)), max_size=8).map(_concatenated_runs),
)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**64 - 1), stream=st.integers(0, 2**32 - 1),
       layer=st.integers(0, 2**32 - 1),
       rows=st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=4),
       cols=COLUMNS, shuffle=st.booleans(), outer=st.booleans(),
       threshold=st.integers(0, 2**32), order_seed=st.integers(0, 2**32 - 1))
def test_simd_matches_scalar_on_generated_layouts(seed, stream, layer, rows, cols, shuffle, outer,
                                                  threshold, order_seed):
    if shuffle:
        cols = np.random.default_rng(order_seed).permutation(cols)
    if outer:
        rows = np.array(rows, np.int64)
    else:  # each row repeated over 30 columns in turn, as in a gather of groups
        rows = np.resize(np.repeat(np.array(rows or [0], np.int64), 30), cols.size)
    for kernel in SIMD_KERNELS:
        if kernel_runs_here(kernel):
            assert_kernel_matches_scalar(kernel, seed, stream, layer, rows, cols, outer=outer,
                                         thresholds=(0, threshold, 2**32))


# --- argument checks -----------------------------------------------------------------------------

BAD_ARGUMENTS = [
    # (keyword overrides of uniform's arguments, exception, message fragment)
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 2**64}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"seed": True}, TypeError, "seed"),
    ({"stream": 2**32}, ValueError, "stream"),
    ({"stream": -1}, ValueError, "stream"),
    ({"layer": 2**32}, ValueError, "layer"),
    ({"layer": "0"}, TypeError, "layer"),
    ({"rows": [0, 2**32]}, ValueError, "rows"),
    ({"rows": [-1]}, ValueError, "rows"),
    ({"rows": 2**32}, ValueError, "rows"),
    ({"rows": range(2**32 - 1, 2**32 + 1)}, ValueError, "rows"),
    ({"rows": [0.5, 1.0]}, TypeError, "rows"),
    ({"rows": np.array([True, False])}, TypeError, "rows"),
    ({"rows": [[0, 1]]}, ValueError, "rows"),
    ({"rows": [2**70]}, ValueError, "rows"),
    ({"rows": "01"}, TypeError, "rows"),
    ({"cols": [2**34]}, ValueError, "cols"),
    ({"cols": np.array([-3], dtype=np.int8)}, ValueError, "cols"),
    ({"cols": [1, None]}, TypeError, "cols"),
    ({"outer": False}, ValueError, "rows, cols"),
    ({"outer": 1}, TypeError, "outer"),
    ({"num_threads": 0}, ValueError, "num_threads"),
]


@pytest.mark.parametrize("overrides, error, name", BAD_ARGUMENTS)
def test_bad_arguments_raise_clear_errors(overrides, error, name):
    kwargs = dict(seed=1, stream=0, layer=0, rows=range(3), cols=range(5))
    kwargs.update(overrides)
    outer = kwargs.pop("outer", True)
    num_threads = kwargs.pop("num_threads", None)
    with pytest.raises(error, match=f"^{name}: "):
        uniform(**kwargs, outer=outer, num_threads=num_threads)


@pytest.mark.parametrize("p, error", [(-0.1, ValueError), (1.5, ValueError), (math.nan, ValueError),
                                      (True, TypeError), ("0.5", TypeError), (None, TypeError)])
def test_bad_probability(p, error):
    with pytest.raises(error, match="^p: "):
        bernoulli(1, 0, 0, range(3), range(3), p)


@pytest.mark.parametrize("counters, key, name", [
    ([[0, 0, 0]], [0, 0], "counters"),
    ([0, 0, 0, 0], [0, 0], "counters"),
    ([[0, 0, 0, 2**32]], [0, 0], "counters"),
    ([[0, 0, 0, -1]], [0, 0], "counters"),
    ([[0, 0, 0, 0]], [0], "key"),
    ([[0, 0, 0, 0]], [0, 2**32], "key"),
    ([[0, 0, 0, 0.5]], [0, 0], "counters"),
])
def test_bad_raw_arguments(counters, key, name):
    with pytest.raises((ValueError, TypeError), match=f"^{name}: "):
        philox4x32_10(counters, key)


def test_compiled_functions_check_their_buffers():
    rows, cols = np.arange(3, dtype=np.int64), np.arange(4, dtype=np.int64)
    with pytest.raises(ValueError, match="^out: "):
        _core.philox_uniform_into(1, 0, 0, rows, cols, np.empty((3, 5), np.float32), True)
    with pytest.raises(ValueError, match="^out: "):
        _core.philox_uniform_into(1, 0, 0, rows, cols, np.empty((3, 4), np.float64), True)
    with pytest.raises(ValueError, match="^rows: "):
        _core.philox_uniform_into(1, 0, 0, rows.astype(np.int32), cols,
                                  np.empty((3, 4), np.float32), True)
    with pytest.raises(ValueError, match="^rows, cols: "):
        _core.philox_uniform_into(1, 0, 0, rows, cols, np.empty(3, np.float32), False)
    with pytest.raises(ValueError, match="^threshold: "):
        _core.philox_bernoulli_into(1, 0, 0, rows, cols, 2**32 + 1, np.empty((3, 4), bool), True)
