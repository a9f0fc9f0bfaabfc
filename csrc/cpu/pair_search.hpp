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

#if defined(SUBSETSUM_PAIR_SEARCH_AVX512)

// exhaustive_best for s = 2: the pair (i < j) of smallest |target - (v[i] + v[j])|, the first
// in exhaustive_best's order (j outer, i inner, both increasing) among equal errors. Lane l takes
// i = l, l + 8, ... of every j and keeps its first smallest error with its place j * 256 + i
// (increasing along that order); the smallest (error, place) over the lanes is the serial answer.
__attribute__((target("avx512f"))) inline double best_pair_avx512(const double* v, int m,
                                                                  double target, int* at_i,
                                                                  int* at_j) {
  const __m512d t = _mm512_set1_pd(target);
  const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  __m512d best = _mm512_set1_pd(INFINITY);
  __m512i best_place = _mm512_set1_epi64(INT64_MAX);
  for (int j = 1; j < m; ++j) {
    const __m512d vj = _mm512_set1_pd(v[j]);
    for (int i = 0; i < j; i += 8) {
      const __mmask8 live = j - i >= 8 ? __mmask8(0xFF) : __mmask8((1u << (j - i)) - 1u);
      const __m512d vi = _mm512_maskz_loadu_pd(live, v + i);
      const __m512d err = _mm512_abs_pd(_mm512_sub_pd(t, _mm512_add_pd(vi, vj)));
      const __mmask8 better = _mm512_mask_cmp_pd_mask(live, err, best, _CMP_LT_OQ);
      best = _mm512_mask_mov_pd(best, better, err);
      const __m512i place = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(j) * 256 + i), lanes);
      best_place = _mm512_mask_mov_epi64(best_place, better, place);
    }
  }
  alignas(64) double errs[8];
  alignas(64) long long places[8];
  _mm512_store_pd(errs, best);
  _mm512_store_epi64(places, best_place);
  int pick = 0;
  for (int l = 1; l < 8; ++l)
    if (errs[l] < errs[pick] || (errs[l] == errs[pick] && places[l] < places[pick])) pick = l;
  *at_j = static_cast<int>(places[pick] / 256);
  *at_i = static_cast<int>(places[pick] % 256);
  return errs[pick];
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
    return exhaustive_affordable(m, s);
  }
  template <int CAP>
  static double best(const Elements<CAP>& e, double target, int s, int* chosen) {
#if defined(SUBSETSUM_PAIR_SEARCH_AVX512)
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
