// The CPU's policy for increasing_size_solve's exhaustive sizes (solve_problem.hpp,
// ScalarExhaustive): on CPUs with AVX-512 every pair of up to 64 elements is tried in vector
// registers, 8 pairs an instruction, so a min_size problem settled at size 2 never sorts its
// elements for the pruned search. The published L+1 setting (n = 55, eps = 0.01) ends at size 1
// or 2 almost always; there the pruned search (sort_by_value and the size-2 search) was half of
// the solver's time, while the scalar exhaustive pair loop over 1,485 pairs was slower still
// (benchmarks/results/solve-cpu.md has the figures). Elsewhere (no AVX-512, other compilers,
// other architectures) the scalar default runs.
#pragma once

#include "subsetsum/solve_problem.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SUBSETSUM_PAIR_SEARCH_AVX512 1
#include <immintrin.h>
#endif

namespace subsetsum {

// Pairs tried in vector registers: every pair of up to 65 elements (C(65, 2)), i.e. all of them
// for increasing_size (n <= 64).
constexpr double kVectorPairsMax = 2080.0;
// Triples tried in vector registers: every triple of up to 65 elements (C(65, 3)); faster than
// the sorted search at every n measured (16 to 64, best_triple_avx512).
constexpr double kVectorTriplesMax = 43680.0;

#if defined(SUBSETSUM_PAIR_SEARCH_AVX512)

// The first `count` lanes (all 8 from count 8 on).
inline __mmask8 lanes_below(int count) {
  return count >= 8 ? __mmask8(0xFF) : __mmask8((1u << (count > 0 ? count : 0)) - 1u);
}

// The searches' error, as exhaustive_best computes it: |target - (base + value)| per lane.
__attribute__((target("avx512f"))) inline __m512d pair_error(__m512d target, __m512d base,
                                                             double value) {
  return _mm512_abs_pd(_mm512_sub_pd(target, _mm512_add_pd(base, _mm512_set1_pd(value))));
}

// Folds pair_error(target, base, v[j]) for j in [from, m) into two minimums, alternately: two
// independent chains keep the adders busy.
__attribute__((target("avx512f"))) inline void min_errors(__m512d target, __m512d base,
                                                          const double* v, int from, int m,
                                                          __m512d& m0, __m512d& m1) {
  int j = from;
  for (; j + 2 <= m; j += 2) {
    m0 = _mm512_min_pd(m0, pair_error(target, base, v[j]));
    m1 = _mm512_min_pd(m1, pair_error(target, base, v[j + 1]));
  }
  if (j < m) m0 = _mm512_min_pd(m0, pair_error(target, base, v[j]));
}

// Keeps the smallest block minimum so far and which blocks (bit a / 8) reach it.
inline void note_block_min(double block_min, int a, double& best, unsigned& best_blocks) {
  if (block_min < best) {
    best = block_min;
    best_blocks = 1u << (a >> 3);
  } else if (block_min == best) {
    best_blocks |= 1u << (a >> 3);
  }
}

// exhaustive_best for s = 2: the pair (i < j) of smallest |target - (v[i] + v[j])|, the first
// in exhaustive_best's order (j outer, i inner, both increasing) among equal errors.
//
// Blocks of 8 lanes hold i = 8a .. 8a + 7 while j runs over the larger indices. The first pass
// takes each block's smallest error alone, in independent minimums (one minimum carried through
// every step waits on the compare before it: a loop with the place kept beside the error ran at
// the latency of a compare and a blend, about 5 cycles a step; these run at the adders'
// throughput). The second pass looks again only in the blocks whose minimum is the smallest,
// j increasing, for the first lane whose error equals it (the same operations give the same
// bits); the earliest (j, i) over those blocks is exhaustive_best's pair.
__attribute__((target("avx512f"))) inline double best_pair_avx512(const double* v, int m,
                                                                  double target, int* at_i,
                                                                  int* at_j) {
  const __m512d t = _mm512_set1_pd(target);
  const __m512d inf = _mm512_set1_pd(INFINITY);
  double best = INFINITY;
  unsigned best_blocks = 0;  // bit a / 8: block a holds a pair of error `best`
  for (int a = 0; a + 1 < m; a += 8) {
    const __mmask8 present = lanes_below(m - a);
    const __m512d vi = _mm512_maskz_loadu_pd(present, v + a);
    __m512d m0 = inf, m1 = inf, m2 = inf, m3 = inf;
    // j inside the block: lanes i < j only
    const int inside_end = a + 8 < m ? a + 8 : m;
    for (int j = a + 1; j < inside_end; ++j) {
      const __mmask8 live = __mmask8((1u << (j - a)) - 1u);
      const __m512d err = pair_error(t, vi, v[j]);
      if (j & 1)
        m2 = _mm512_mask_min_pd(m2, live, err, m2);
      else
        m3 = _mm512_mask_min_pd(m3, live, err, m3);
    }
    min_errors(t, vi, v, a + 8, m, m0, m1);  // j past the block: every lane
    const double block_min =
        _mm512_reduce_min_pd(_mm512_min_pd(_mm512_min_pd(m0, m1), _mm512_min_pd(m2, m3)));
    note_block_min(block_min, a, best, best_blocks);
  }
  const __m512d want = _mm512_set1_pd(best);
  int found_i = 0, found_j = m;  // m: none yet
  for (unsigned blocks = best_blocks; blocks; blocks &= blocks - 1) {
    const int a = 8 * __builtin_ctz(blocks);
    const __mmask8 present = lanes_below(m - a);
    const __m512d vi = _mm512_maskz_loadu_pd(present, v + a);
    for (int j = a + 1; j < found_j; ++j) {
      const __mmask8 live = lanes_below(j - a);
      const __m512d err = pair_error(t, vi, v[j]);
      const __mmask8 hit = _mm512_mask_cmp_pd_mask(live, err, want, _CMP_EQ_OQ);
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
// As best_pair_avx512: lanes hold i = 8a .. 8a + 7; for each j above them the pair sums stay in
// a register while k runs over the larger indices, two minimums apart; each block's minimum is
// kept, and the second pass looks for the first equal triple only in the blocks holding the
// smallest. Uniform problems of the L+1 construction's later layers (n = 27 - 33, eps / scale
// = 0.0025) end at size 3 about a third of the time, where sorting for the pruned search took
// most of their time.
__attribute__((target("avx512f"))) inline double best_triple_avx512(const double* v, int m,
                                                                    double target, int* at_i,
                                                                    int* at_j, int* at_k) {
  const __m512d t = _mm512_set1_pd(target);
  const __m512d inf = _mm512_set1_pd(INFINITY);
  double best = INFINITY;
  unsigned best_blocks = 0;  // bit a / 8: block a holds a triple of error `best`
  for (int a = 0; a + 2 < m; a += 8) {
    const __mmask8 present = lanes_below(m - a);
    const __m512d vi = _mm512_maskz_loadu_pd(present, v + a);
    __m512d m0 = inf, m1 = inf;
    for (int j = a + 1; j + 1 < m; ++j) {
      const __mmask8 live = lanes_below(j - a);
      // lanes i >= j hold no pair: their sums are made infinite, so no k picks them
      const __m512d sij = _mm512_mask_add_pd(inf, live, vi, _mm512_set1_pd(v[j]));
      min_errors(t, sij, v, j + 1, m, m0, m1);
    }
    const double block_min = _mm512_reduce_min_pd(_mm512_min_pd(m0, m1));
    note_block_min(block_min, a, best, best_blocks);
  }
  const __m512d want = _mm512_set1_pd(best);
  int found_i = 0, found_j = 1, found_k = m;  // k = m: none yet
  for (unsigned blocks = best_blocks; blocks; blocks &= blocks - 1) {
    const int a = 8 * __builtin_ctz(blocks);
    const __mmask8 present = lanes_below(m - a);
    const __m512d vi = _mm512_maskz_loadu_pd(present, v + a);
    bool hit_here = false;
    // k < found_k, or k == found_k with j < found_j: an earlier block holds smaller i
    for (int k = a + 2; k <= found_k && k < m && !hit_here; ++k) {
      const __m512d vk = _mm512_set1_pd(v[k]);
      const int j_end = k < found_k ? k : found_j;
      for (int j = a + 1; j < j_end; ++j) {
        const __mmask8 live = lanes_below(j - a);
        const __m512d err = _mm512_abs_pd(_mm512_sub_pd(t, _mm512_add_pd(_mm512_add_pd(vi, _mm512_set1_pd(v[j])), vk)));
        const __mmask8 hit = _mm512_mask_cmp_pd_mask(live, err, want, _CMP_EQ_OQ);
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
__attribute__((target("avx512f"))) inline double best_single_avx512(const double* v, int m,
                                                                    double target, int* at_i) {
  const __m512d t = _mm512_set1_pd(target);
  __m512d m0 = _mm512_set1_pd(INFINITY), m1 = m0;
  int i = 0;
  for (; i + 16 <= m; i += 16) {
    m0 = _mm512_min_pd(m0, _mm512_abs_pd(_mm512_sub_pd(t, _mm512_loadu_pd(v + i))));
    m1 = _mm512_min_pd(m1, _mm512_abs_pd(_mm512_sub_pd(t, _mm512_loadu_pd(v + i + 8))));
  }
  for (; i < m; i += 8) {
    const __mmask8 live = lanes_below(m - i);
    m0 = _mm512_mask_min_pd(m0, live, _mm512_abs_pd(_mm512_sub_pd(t, _mm512_maskz_loadu_pd(live, v + i))), m0);
  }
  const double best = _mm512_reduce_min_pd(_mm512_min_pd(m0, m1));
  const __m512d want = _mm512_set1_pd(best);
  for (i = 0; i < m; i += 8) {
    const __mmask8 live = lanes_below(m - i);
    const __m512d err = _mm512_abs_pd(_mm512_sub_pd(t, _mm512_maskz_loadu_pd(live, v + i)));
    const __mmask8 hit = _mm512_mask_cmp_pd_mask(live, err, want, _CMP_EQ_OQ);
    if (hit) {
      *at_i = i + __builtin_ctz(hit);
      return best;
    }
  }
  *at_i = 0;  // m = 0 only: no element, error infinite as exhaustive_best's
  return best;
}

inline bool cpu_runs_avx512f() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

#else

inline bool cpu_runs_avx512f() { return false; }

#endif

struct CpuExhaustive {
  static bool affordable(int m, int s) {
    if (s == 2 && cpu_runs_avx512f()) return binomial(m, 2) <= kVectorPairsMax;
    if (s == 3 && cpu_runs_avx512f()) return binomial(m, 3) <= kVectorTriplesMax;
    return exhaustive_affordable(m, s);
  }
  template <int CAP>
  static double best(const Elements<CAP>& e, double target, int s, int* chosen) {
#if defined(SUBSETSUM_PAIR_SEARCH_AVX512)
    if (s == 1 && cpu_runs_avx512f()) {
      int i = 0;
      const double err = best_single_avx512(e.value, e.count, target, &i);
      chosen[0] = e.index[i];
      return err;
    }
    if (s == 3 && cpu_runs_avx512f()) {
      int i = 0, j = 1, k = 2;
      const double err = best_triple_avx512(e.value, e.count, target, &i, &j, &k);
      chosen[0] = e.index[i];
      chosen[1] = e.index[j];
      chosen[2] = e.index[k];
      return err;
    }
    if (s == 2 && cpu_runs_avx512f()) {
      int i = 0, j = 1;
      const double err = best_pair_avx512(e.value, e.count, target, &i, &j);
      chosen[0] = e.index[i];
      chosen[1] = e.index[j];
      return err;
    }
#endif
    return exhaustive_best(e, target, s, chosen);
  }
};

}  // namespace subsetsum
