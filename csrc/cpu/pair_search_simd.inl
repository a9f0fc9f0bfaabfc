// The vector searches of pair_search.hpp, written once against a lane type and compiled once per
// instruction set: pair_search.hpp includes this file inside a namespace that defines
//   SUBSETSUM_SIMD and SUBSETSUM_SIMD_INLINE (function attributes: the instruction set's
//   target; the second also always inline) and
//   struct Lanes { V, Mask, kCount, set1, loadu, maskz_loadu, below (the first `count` lanes),
//                  add, sub, abs, min, mask_min, mask_add, equal_lanes, reduce_min },
// where equal_lanes(live, a, b) is the bit set of the live lanes with a == b. Each routine
// returns what exhaustive_best returns for its size, bit for bit: the errors are the same
// float64 operations in the same order, and the first pass's smallest error is found again
// by equality in the second.
//
// No include guard: included once per instruction set.

// The searches' error, as exhaustive_best computes it: |target - (base + value)| per lane.
SUBSETSUM_SIMD_INLINE Lanes::V pair_error(Lanes::V target, Lanes::V base, double value) {
  return Lanes::abs(Lanes::sub(target, Lanes::add(base, Lanes::set1(value))));
}

// Folds pair_error(target, base, v[j]) for j in [from, m) into two minimums, alternately: two
// independent chains keep the adders busy.
SUBSETSUM_SIMD_INLINE void min_errors(Lanes::V target, Lanes::V base, const double* v, int from,
                                      int m, Lanes::V& m0, Lanes::V& m1) {
  int j = from;
  for (; j + 2 <= m; j += 2) {
    m0 = Lanes::min(m0, pair_error(target, base, v[j]));
    m1 = Lanes::min(m1, pair_error(target, base, v[j + 1]));
  }
  if (j < m) m0 = Lanes::min(m0, pair_error(target, base, v[j]));
}

// exhaustive_best for s = 2: the pair (i < j) of smallest |target - (v[i] + v[j])|, the first
// in exhaustive_best's order (j outer, i inner, both increasing) among equal errors.
//
// Blocks of kCount lanes hold i = a .. a + kCount - 1 while j runs over the larger indices. The
// first pass takes each block's smallest error alone, in independent minimums (one minimum
// carried through every step waits on the compare before it: a loop with the place kept beside
// the error ran at the latency of a compare and a blend, about 5 cycles a step; these run at the
// adders' throughput). The second pass looks again only in the blocks whose minimum is the
// smallest, j increasing, for the first lane whose error equals it (the same operations give
// the same bits); the earliest (j, i) over those blocks is exhaustive_best's pair.
SUBSETSUM_SIMD double best_pair(const double* v, int m, double target, int* at_i, int* at_j) {
  constexpr int L = Lanes::kCount;
  const Lanes::V t = Lanes::set1(target);
  const Lanes::V inf = Lanes::set1(INFINITY);
  double best = INFINITY;
  BlockSet best_blocks = 0;  // bit a / L: block a holds a pair of error `best`
  for (int a = 0; a + 1 < m; a += L) {
    const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - a), v + a);
    Lanes::V m0 = inf, m1 = inf, m2 = inf, m3 = inf;
    // j inside the block: lanes i < j only
    const int inside_end = a + L < m ? a + L : m;
    for (int j = a + 1; j < inside_end; ++j) {
      const Lanes::Mask live = Lanes::below(j - a);
      const Lanes::V err = pair_error(t, vi, v[j]);
      if (j & 1)
        m2 = Lanes::mask_min(m2, live, err, m2);
      else
        m3 = Lanes::mask_min(m3, live, err, m3);
    }
    min_errors(t, vi, v, a + L, m, m0, m1);  // j past the block: every lane
    const double block_min =
        Lanes::reduce_min(Lanes::min(Lanes::min(m0, m1), Lanes::min(m2, m3)));
    note_block_min(block_min, a / L, best, best_blocks);
  }
  const Lanes::V want = Lanes::set1(best);
  int found_i = 0, found_j = m;  // m: none yet
  for (BlockSet blocks = best_blocks; blocks; blocks &= blocks - 1) {
    const int a = L * __builtin_ctzll(blocks);
    const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - a), v + a);
    for (int j = a + 1; j < found_j; ++j) {
      const unsigned hit = Lanes::equal_lanes(Lanes::below(j - a), pair_error(t, vi, v[j]), want);
      if (hit) {  // j < found_j: earlier (a block before this one holds smaller i at equal j)
        found_j = j;
        found_i = a + __builtin_ctz(hit);
        break;
      }
    }
  }
  *at_i = found_i;
  *at_j = found_j;
  return best;
}

// exhaustive_best for s = 3: the triple (i < j < k) of smallest |target - ((v[i] + v[j]) +
// v[k])|, the first in exhaustive_best's order (k outer, then j, then i) among equal errors.
// As best_pair: lanes hold a block of i; for each j above them the pair sums stay in a register
// while k runs over the larger indices, two minimums apart; each block's minimum is kept, and
// the second pass looks for the first equal triple only in the blocks holding the smallest.
// Uniform problems of the L+1 construction's later layers (n = 27 - 33, eps / scale = 0.0025)
// end at size 3 about a third of the time, where sorting for the pruned search took most of
// their time.
SUBSETSUM_SIMD double best_triple(const double* v, int m, double target, int* at_i, int* at_j,
                                  int* at_k) {
  constexpr int L = Lanes::kCount;
  const Lanes::V t = Lanes::set1(target);
  const Lanes::V inf = Lanes::set1(INFINITY);
  double best = INFINITY;
  BlockSet best_blocks = 0;  // bit a / L: block a holds a triple of error `best`
  for (int a = 0; a + 2 < m; a += L) {
    const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - a), v + a);
    Lanes::V m0 = inf, m1 = inf;
    for (int j = a + 1; j + 1 < m; ++j) {
      // lanes i >= j hold no pair: their sums are made infinite, so no k picks them
      const Lanes::V sij = Lanes::mask_add(inf, Lanes::below(j - a), vi, Lanes::set1(v[j]));
      min_errors(t, sij, v, j + 1, m, m0, m1);
    }
    note_block_min(Lanes::reduce_min(Lanes::min(m0, m1)), a / L, best, best_blocks);
  }
  const Lanes::V want = Lanes::set1(best);
  int found_i = 0, found_j = 1, found_k = m;  // k = m: none yet
  for (BlockSet blocks = best_blocks; blocks; blocks &= blocks - 1) {
    const int a = L * __builtin_ctzll(blocks);
    const Lanes::V vi = Lanes::maskz_loadu(Lanes::below(m - a), v + a);
    bool hit_here = false;
    // k < found_k, or k == found_k with j < found_j: an earlier block holds smaller i
    for (int k = a + 2; k <= found_k && k < m && !hit_here; ++k) {
      const Lanes::V vk = Lanes::set1(v[k]);
      const int j_end = k < found_k ? k : found_j;
      for (int j = a + 1; j < j_end; ++j) {
        const Lanes::V err =
            Lanes::abs(Lanes::sub(t, Lanes::add(Lanes::add(vi, Lanes::set1(v[j])), vk)));
        const unsigned hit = Lanes::equal_lanes(Lanes::below(j - a), err, want);
        if (hit) {
          found_k = k;
          found_j = j;
          found_i = a + __builtin_ctz(hit);
          hit_here = true;
          break;
        }
      }
    }
  }
  *at_i = found_i;
  *at_j = found_j;
  *at_k = found_k;
  return best;
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
    m0 = Lanes::min(m0, Lanes::abs(Lanes::sub(t, Lanes::loadu(v + i))));
    m1 = Lanes::min(m1, Lanes::abs(Lanes::sub(t, Lanes::loadu(v + i + L))));
  }
  for (; i < m; i += L) {
    const Lanes::Mask live = Lanes::below(m - i);
    m0 = Lanes::mask_min(m0, live, Lanes::abs(Lanes::sub(t, Lanes::maskz_loadu(live, v + i))), m0);
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
