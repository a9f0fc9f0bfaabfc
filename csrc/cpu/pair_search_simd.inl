// The vector searches of pair_search.hpp, written once against a lane type and compiled once per
// instruction set: pair_search.hpp includes this file inside a namespace that defines
//   SUBSETSUM_SIMD and SUBSETSUM_SIMD_INLINE (function attributes: the instruction set's
//   target; the second also always inline) and
//   struct Lanes { V, Mask, kCount, set1, loadu, maskz_loadu, storeu, below (the first `count`
//                  lanes), add, sub, abs, min, max, min_abs, mask_min, mask_min_abs, mask_add,
//                  equal_lanes, at_most_lanes, reduce_min, reduce_max },
// where min_abs(m, x) is min(m, |x|) for m >= 0 (mask_min_abs: in the live lanes only),
// equal_lanes(live, a, b) the bit set of the live lanes with a == b, at_most_lanes(a, b) that of
// the lanes with a <= b. Each routine returns what exhaustive_best returns for its size,
// bit for bit: the errors it returns and compares are the same float64 operations in the same
// order (a filter with other roundings only rules out lanes, with a proven margin), and the
// smallest error is found again by equality in a last pass.
//
// No include guard: included once per instruction set.

// The searches' error, as exhaustive_best computes it: |target - (base + value)| per lane, and
// the difference whose magnitude it is (the minimums take the magnitude with the minimum:
// Lanes::min_abs).
SUBSETSUM_SIMD_INLINE Lanes::V pair_difference(Lanes::V target, Lanes::V base, double value) {
  return Lanes::sub(target, Lanes::add(base, Lanes::set1(value)));
}
SUBSETSUM_SIMD_INLINE Lanes::V pair_error(Lanes::V target, Lanes::V base, double value) {
  return Lanes::abs(pair_difference(target, base, value));
}

// The filtered first pass's difference, (target - value) - base per lane, from the difference
// taken once per value: one addition a lane where pair_difference takes two (the adders were the
// search's bound). It rounds otherwise than pair_difference, within the bound of
// best_subset_filtered.
SUBSETSUM_SIMD_INLINE Lanes::V filter_difference(Lanes::V base, double target_minus_value) {
  return Lanes::sub(Lanes::set1(target_minus_value), base);
}

// The difference of base with element j: exact (pair_difference with v[j]) or filtered
// (filter_difference with d[j] = target - v[j]).
template <bool kExact>
SUBSETSUM_SIMD_INLINE Lanes::V difference_with(Lanes::V target, Lanes::V base, const double* v,
                                               const double* d, int j) {
  return kExact ? pair_difference(target, base, v[j]) : filter_difference(base, d[j]);
}

// Errors of base with every j in [from, m) folded into two minimums. Independent chains keep the
// adders busy: two for the exact errors, four for the filtered ones (fewer operations a step, so
// the minimums' latency would bound two chains).
template <bool kExact>
SUBSETSUM_SIMD_INLINE void min_errors(Lanes::V target, Lanes::V base, const double* v,
                                      const double* d, int from, int m, Lanes::V& m0,
                                      Lanes::V& m1) {
  int j = from;
  if (!kExact) {
    Lanes::V m2 = Lanes::set1(INFINITY), m3 = m2;
    for (; j + 4 <= m; j += 4) {
      m0 = Lanes::min_abs(m0, difference_with<kExact>(target, base, v, d, j));
      m1 = Lanes::min_abs(m1, difference_with<kExact>(target, base, v, d, j + 1));
      m2 = Lanes::min_abs(m2, difference_with<kExact>(target, base, v, d, j + 2));
      m3 = Lanes::min_abs(m3, difference_with<kExact>(target, base, v, d, j + 3));
    }
    m0 = Lanes::min(m0, m2);
    m1 = Lanes::min(m1, m3);
  }
  for (; j + 2 <= m; j += 2) {
    m0 = Lanes::min_abs(m0, difference_with<kExact>(target, base, v, d, j));
    m1 = Lanes::min_abs(m1, difference_with<kExact>(target, base, v, d, j + 1));
  }
  if (j < m) m0 = Lanes::min_abs(m0, difference_with<kExact>(target, base, v, d, j));
}

// Lane minimums of the errors of every S-subset (S = 2, 3) whose smallest index lies in the block
// of lanes a .. a + kCount - 1 (lanes i, the larger indices j (and k) running over the elements
// above), exact or filtered. Lanes hold no subset where the block's i is not the smallest index:
// inside the block a lane takes j only above its own i.
template <int S, bool kExact>
SUBSETSUM_SIMD_INLINE Lanes::V block_min(const double* v, const double* d, int m, Lanes::V t,
                                         int a) {
  constexpr int L = Lanes::kCount;
  const Lanes::V inf = Lanes::set1(INFINITY);
  const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - a), v + a);
  Lanes::V m0 = inf, m1 = inf;
  if (S == 2) {
    Lanes::V m2 = inf, m3 = inf;
    const int inside_end = a + L < m ? a + L : m;
    for (int j = a + 1; j < inside_end; ++j) {  // j inside the block: lanes i < j only
      const Lanes::Mask live = Lanes::below(j - a);
      const Lanes::V diff = difference_with<kExact>(t, vi, v, d, j);
      if (j & 1)
        m2 = Lanes::mask_min_abs(m2, live, diff);
      else
        m3 = Lanes::mask_min_abs(m3, live, diff);
    }
    min_errors<kExact>(t, vi, v, d, a + L, m, m0, m1);  // j past the block: every lane
    return Lanes::min(Lanes::min(m0, m1), Lanes::min(m2, m3));
  }
  for (int j = a + 1; j + 1 < m; ++j) {
    // lanes i >= j hold no pair: their sums are made infinite, so no k picks them
    const Lanes::V sij = Lanes::mask_add(inf, Lanes::below(j - a), vi, Lanes::set1(v[j]));
    min_errors<kExact>(t, sij, v, d, j + 1, m, m0, m1);
  }
  return Lanes::min(m0, m1);
}

// Blocks of lanes of up to 65 elements (kVectorPairsMax, kVectorTriplesMax).
constexpr int kSearchBlocks = (65 + Lanes::kCount - 1) / Lanes::kCount;

// target - (base + v[j]) for the live lanes' j = at[0 ..]: a row's exact differences, vector over
// j; base + v[j] is v[j] + base, so each is exhaustive_best's bit for bit.
SUBSETSUM_SIMD_INLINE Lanes::V row_difference(Lanes::V t, Lanes::V base, Lanes::Mask live,
                                              const double* at) {
  return Lanes::sub(t, Lanes::add(base, Lanes::maskz_loadu(live, at)));
}

// The smallest exact error |target - (base + v[j])| over j in [from, m) (infinite: none).
SUBSETSUM_SIMD_INLINE double row_min(const double* v, int from, int m, Lanes::V t, double base) {
  constexpr int L = Lanes::kCount;
  const Lanes::V b = Lanes::set1(base);
  Lanes::V m0 = Lanes::set1(INFINITY);
  for (int j = from; j < m; j += L) {
    const Lanes::Mask live = Lanes::below(m - j);
    m0 = Lanes::mask_min_abs(m0, live, row_difference(t, b, live, v + j));
  }
  return Lanes::reduce_min(m0);
}

// The smallest exact error of the S-subsets whose smallest index is i.
template <int S>
SUBSETSUM_SIMD_INLINE double lane_min(const double* v, int m, Lanes::V t, int i) {
  if (S == 2) return row_min(v, i + 1, m, t, v[i]);
  double best = INFINITY;
  for (int j = i + 1; j + 1 < m; ++j) {  // rows j, k in lanes
    const double err = row_min(v, j + 1, m, t, v[i] + v[j]);
    best = err < best ? err : best;
  }
  return best;
}

// A subset as exhaustive_best orders them: largest index first (k, then j, then i).
struct Subset {
  double err;
  int i, j, k;  // S = 2: k equal to j
  // Earlier in exhaustive_best's order among equal errors.
  bool before(const Subset& o) const {
    return k < o.k || (k == o.k && (j < o.j || (j == o.j && i < o.i)));
  }
};

// Replaces `best` by the block's first S-subset of error best.err (the block of lanes a .. a +
// kCount - 1 holds the smallest indices) when it comes earlier in exhaustive_best's order. The
// subsets run in that order (largest index outermost), each step a vector of lanes i compared
// with best.err, up to best's largest index: a later one cannot come first.
template <int S>
SUBSETSUM_SIMD_INLINE void first_in_block(const double* v, int m, Lanes::V t, int a, Subset& best) {
  const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - a), v + a);
  const Lanes::V want = Lanes::set1(best.err);
  const int last = best.k < m ? best.k : m - 1;
  for (int k = a + S - 1; k <= last; ++k) {
    // S = 2: the pair (i, k), taken as j = k; S = 3: j runs between the block and k
    const int j_from = S == 2 ? k : a + 1, j_end = S == 2 ? k + 1 : k;
    for (int j = j_from; j < j_end; ++j) {
      const Lanes::V err = S == 2 ? pair_error(t, vi, v[k])
                                  : pair_error(t, Lanes::add(vi, Lanes::set1(v[j])), v[k]);
      const unsigned hit = Lanes::equal_lanes(Lanes::below(j - a), err, want);
      if (hit) {
        const Subset found{best.err, a + __builtin_ctz(hit), j, k};
        if (found.before(best)) best = found;
        return;
      }
    }
  }
}

// The first S-subset of error `err` in exhaustive_best's order within the blocks of lanes
// `blocks` (bit b: block b), which hold every lane reaching it.
template <int S>
SUBSETSUM_SIMD_INLINE Subset first_of_blocks(const double* v, int m, Lanes::V t, BlockSet blocks,
                                             double err) {
  Subset best{err, 0, S == 2 ? m : 1, m};  // none (m < S): exhaustive_best's indices
  for (; blocks; blocks &= blocks - 1)
    first_in_block<S>(v, m, t, Lanes::kCount * __builtin_ctzll(blocks), best);
  return best;
}

// best_subset with exact errors throughout: each block's smallest error (block_min), then the
// first subset reaching the smallest of them, looked for only in the blocks that do.
template <int S>
SUBSETSUM_SIMD_INLINE Subset best_subset_exact(const double* v, int m, Lanes::V t) {
  constexpr int L = Lanes::kCount;
  double best = INFINITY;
  BlockSet best_blocks = 0;
  for (int a = 0; a + S - 1 < m; a += L)
    note_block_min(Lanes::reduce_min(block_min<S, true>(v, nullptr, m, t, a)), a / L, best,
                   best_blocks);
  return first_of_blocks<S>(v, m, t, best_blocks, best);
}

// The first j in [from, end) whose error |target - (base + v[j])| (row_min's) equals `want`;
// -1 if none does.
SUBSETSUM_SIMD_INLINE int row_first_equal(const double* v, int from, int end, Lanes::V t,
                                          double base, double want) {
  constexpr int L = Lanes::kCount;
  const Lanes::V b = Lanes::set1(base), w = Lanes::set1(want);
  for (int j = from; j < end; j += L) {
    const Lanes::Mask live = Lanes::below(end - j);
    const Lanes::V err = Lanes::abs(row_difference(t, b, live, v + j));
    const unsigned hit = Lanes::equal_lanes(live, err, w);
    if (hit) return j + __builtin_ctz(hit);
  }
  return -1;
}

// The first S-subset of error `err` in exhaustive_best's order whose smallest index is one of
// the lanes `lanes` (bit i: lane i), which hold every subset reaching it. Pairs: each such lane's
// row of j, a vector of j a step (first_in_block takes a step per j: after the filtered first
// pass, most of the pair search's time). Triples: the blocks holding such lanes (first_of_blocks;
// a lane's rows would take a step per j even where the first triple comes early, and many lanes
// reach `err` where elements repeat).
template <int S>
SUBSETSUM_SIMD_INLINE Subset first_of_lanes(const double* v, int m, Lanes::V t, uint64_t lanes,
                                            double err) {
  constexpr int L = Lanes::kCount;
  if (S == 3) {
    BlockSet blocks = 0;
    for (; lanes; lanes &= lanes - 1) blocks |= BlockSet(1) << (__builtin_ctzll(lanes) / L);
    return first_of_blocks<S>(v, m, t, blocks, err);
  }
  Subset best{err, 0, m, m};  // none (m < 2): exhaustive_best's indices
  for (; lanes; lanes &= lanes - 1) {  // i increasing: at equal j the first found stays
    const int i = __builtin_ctzll(lanes);
    const int end = best.k < m ? best.k + 1 : m;  // j up to best's
    const int j = row_first_equal(v, i + 1, end, t, v[i], err);
    const Subset found{err, i, j, j};
    if (j >= 0 && found.before(best)) best = found;
  }
  return best;
}

// best_subset with a filtered first pass. The filtered and the exact error of one subset differ
// by at most u (|target| + 4 R) + 2 u |x| (u = 2^-53, R the largest |v[i]|, x the exact target -
// sum: each error takes two roundings, of a sum of at most three terms and of the difference;
// nothing overflows, as |target| + sum |v| < kSumLimit), so every lane holding a subset of the
// smallest exact error has a filtered minimum within twice that of the smallest filtered minimum
// f; `near` allows twice as much again. Only those lanes (almost always one) are searched again,
// exactly: alone (lane_min), or their whole block where it holds several (many equal errors:
// integer-valued elements); then the first subset reaching the smallest exact error, in the
// blocks of the lanes that reach it.
template <int S>
SUBSETSUM_SIMD_INLINE Subset best_subset_filtered(const double* v, int m, Lanes::V t,
                                                  double target) {
  constexpr int L = Lanes::kCount;
  alignas(64) double d[kSearchBlocks * L];  // target - v[j], whole vectors (aligned: a vector
  // store across two cache lines does not forward to the loads that read it next)
  Lanes::V largest = Lanes::set1(0.0);
  for (int i = 0; i < m; i += L) {
    const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - i), v + i);
    Lanes::storeu(d + i, Lanes::sub(t, vi));
    largest = Lanes::max(largest, Lanes::abs(vi));
  }
  const int lanes_used = m - (S - 1);  // smallest indices: 0 .. m - S
  const int blocks = (lanes_used + L - 1) / L;
  Lanes::V first[kSearchBlocks];  // filtered lane minimums
  Lanes::V smallest = Lanes::set1(INFINITY);
  for (int b = 0; b < blocks; ++b) {
    first[b] = block_min<S, false>(v, d, m, t, b * L);
    smallest = Lanes::min(smallest, first[b]);
  }
  const double f = Lanes::reduce_min(smallest);
  constexpr double u = 0x1p-53;
  const Lanes::V near =
      Lanes::set1(f + 8.0 * u * (fabs(target) + 4.0 * Lanes::reduce_max(largest) + f));
  // lanes that may hold the smallest exact error (lane i: bit i; i < 64 as lanes_used <= 64)
  uint64_t candidates = 0;
  for (int b = 0; b < blocks; ++b)
    candidates |= uint64_t(Lanes::at_most_lanes(first[b], near)) << (b * L);
  if (lanes_used < 64) candidates &= (uint64_t(1) << lanes_used) - 1;  // (near infinite only)
  alignas(64) double exact[kSearchBlocks * L];  // exact minimum of every candidate lane
  double best_err = INFINITY;
  for (uint64_t rest = candidates; rest;) {
    const int b = __builtin_ctzll(rest) / L;
    const uint64_t lanes = rest & (((uint64_t(1) << L) - 1) << (b * L));
    rest &= ~lanes;
    if (lanes & (lanes - 1)) {
      Lanes::storeu(exact + b * L, block_min<S, true>(v, d, m, t, b * L));
    } else {
      const int i = __builtin_ctzll(lanes);
      exact[i] = lane_min<S>(v, m, t, i);
    }
    for (uint64_t each = lanes; each; each &= each - 1) {
      const double e = exact[__builtin_ctzll(each)];
      best_err = e < best_err ? e : best_err;
    }
  }
  uint64_t best_lanes = 0;
  for (; candidates; candidates &= candidates - 1) {
    const int i = __builtin_ctzll(candidates);
    if (exact[i] == best_err) best_lanes |= uint64_t(1) << i;
  }
  return first_of_lanes<S>(v, m, t, best_lanes, best_err);
}

// Elements from which best_subset filters: below, the exact pass alone costs less than the
// filtered pass and the exact search of the lanes it leaves. Measured in one process against the
// exact pass alone, uniform elements, AVX-512 and AVX2 on a Zen 4 EPYC: pairs break even at 44 -
// 48 elements (1.1 - 1.2x faster at 60 - 64), triples at 28 - 36 (1.15 - 1.3x at 60 - 64).
template <int S>
constexpr int kFilterFrom = S == 2 ? 48 : 32;

// exhaustive_best for s = S (2 or 3): the S-subset of smallest exact error, the first in
// exhaustive_best's order (largest index outermost, each increasing) among equal errors.
//
// Blocks of kCount lanes hold i = a .. a + kCount - 1 while the larger indices run over the
// elements above (block_min), and every lane keeps the smallest error of its subsets in
// independent lane minimums: one minimum carried through every step with its place waits on the
// compare before it (a loop keeping the place beside the error ran at the latency of a compare
// and a blend, about 5 cycles a step; these run at the adders' throughput). From kFilterFrom
// elements the first pass takes filtered errors (filter_difference: one addition a lane where the
// exact error takes two; the adders were its bound) and only the lanes that may hold the
// smallest exact error are searched again (best_subset_filtered).
template <int S>
SUBSETSUM_SIMD Subset best_subset(const double* v, int m, double target) {
  const Lanes::V t = Lanes::set1(target);
  return m >= kFilterFrom<S> ? best_subset_filtered<S>(v, m, t, target)
                          : best_subset_exact<S>(v, m, t);
}

// exhaustive_best for s = 2: the pair (i < j) of smallest |target - (v[i] + v[j])|, the first in
// exhaustive_best's order (j outer, i inner, both increasing) among equal errors.
SUBSETSUM_SIMD double best_pair(const double* v, int m, double target, int* at_i, int* at_j) {
  const Subset best = best_subset<2>(v, m, target);
  *at_i = best.i;
  *at_j = best.j;
  return best.err;
}

// exhaustive_best for s = 3: the triple (i < j < k) of smallest |target - ((v[i] + v[j]) +
// v[k])|, the first in exhaustive_best's order (k outer, then j, then i) among equal errors. As
// best_pair, with the pair sums of each j above a block in a register while k runs over the
// larger indices (block_min). Uniform problems of the L+1 construction's later layers (n = 27 -
// 33, eps / scale = 0.0025) end at size 3 about a third of the time, where sorting for the
// pruned search took most of their time.
SUBSETSUM_SIMD double best_triple(const double* v, int m, double target, int* at_i, int* at_j,
                                  int* at_k) {
  const Subset best = best_subset<3>(v, m, target);
  *at_i = best.i;
  *at_j = best.j;
  *at_k = best.k;
  return best.err;
}

// exhaustive_best for s = 1: the first i of smallest |target - v[i]|. The smallest error in
// vector minimums, then the first lane equal to it: the scalar loop carried its minimum and
// place from step to step (a compare, a minimum and a move a step, about 6 cycles).
SUBSETSUM_SIMD double best_single(const double* v, int m, double target, int* at_i) {
  constexpr int L = Lanes::kCount;
  const Lanes::V t = Lanes::set1(target);
  Lanes::V m0 = Lanes::set1(INFINITY), m1 = m0;
  int i = 0;
  for (; i + 2 * L <= m; i += 2 * L) {
    m0 = Lanes::min_abs(m0, Lanes::sub(t, Lanes::loadu(v + i)));
    m1 = Lanes::min_abs(m1, Lanes::sub(t, Lanes::loadu(v + i + L)));
  }
  for (; i < m; i += L) {
    const Lanes::Mask live = Lanes::below(m - i);
    m0 = Lanes::mask_min_abs(m0, live, Lanes::sub(t, Lanes::maskz_loadu(live, v + i)));
  }
  const double best = Lanes::reduce_min(Lanes::min(m0, m1));
  const Lanes::V want = Lanes::set1(best);
  for (i = 0; i < m; i += L) {
    const Lanes::Mask live = Lanes::below(m - i);
    const Lanes::V err = Lanes::abs(Lanes::sub(t, Lanes::maskz_loadu(live, v + i)));
    const unsigned hit = Lanes::equal_lanes(live, err, want);
    if (hit) {
      *at_i = i + __builtin_ctz(hit);
      return best;
    }
  }
  *at_i = 0;  // m = 0 only: no element, error infinite as exhaustive_best's
  return best;
}

// The policy's search for size s (1 to 3) over the compact elements: exhaustive_best's subset
// (original indices in `chosen`) and error.
template <int CAP>
SUBSETSUM_SIMD double best_of_size(const Elements<CAP>& e, double target, int s, int* chosen) {
  int at[3] = {0, 1, 2};
  double err;
  if (s == 1)
    err = best_single(e.value, e.count, target, &at[0]);
  else if (s == 2)
    err = best_pair(e.value, e.count, target, &at[0], &at[1]);
  else
    err = best_triple(e.value, e.count, target, &at[0], &at[1], &at[2]);
  for (int i = 0; i < s; ++i) chosen[i] = e.index[at[i]];
  return err;
}
