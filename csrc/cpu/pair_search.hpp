// The CPU's policy for increasing_size_solve's exhaustive sizes (solve_problem.hpp,
// ScalarExhaustive): on x86-64 CPUs with AVX-512 (F and DQ) or AVX2 the searches of sizes 1 to
// 3 try every subset of up to 64 elements in vector registers (8 or 4 subsets an instruction), so
// a min_size problem settled at size 2 or 3 never sorts its elements for the pruned search. The
// published L+1 setting (n = 55, eps = 0.01) ends at size 1 or 2 almost always; there the pruned
// search (sort_by_value and the size-2 search) was half of the solver's time, while the scalar
// exhaustive pair loop over 1,485 pairs was slower still (benchmarks/results/solve-cpu.md has
// the figures). The searches are written once (pair_search_simd.inl) and compiled for each
// instruction set; the widest one the CPU runs is chosen at run time. Elsewhere (other
// compilers, other architectures) the scalar default runs.
#pragma once

#include <atomic>
#include <cstdint>

#include "subsetsum/solve_problem.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SUBSETSUM_PAIR_SEARCH_SIMD 1
#include <immintrin.h>
#endif

namespace subsetsum {

// The vector searches a CPU runs, widest last.
enum class CpuSearch : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// Pairs tried in vector registers: every pair of up to 65 elements (C(65, 2)), i.e. all of them
// for increasing_size (n <= 64).
constexpr double kVectorPairsMax = 2080.0;
// Triples tried in vector registers: every triple of up to 65 elements (C(65, 3)); faster than
// the sorted search at every n measured (16 to 64, with AVX-512 and with AVX2).
constexpr double kVectorTriplesMax = 43680.0;

// Blocks of lanes (bit b: block b) holding a search's smallest error: 65 elements in blocks of 4.
using BlockSet = uint64_t;

// Keeps the smallest block minimum so far and which blocks reach it.
inline void note_block_min(double block_min, int block, double& best, BlockSet& best_blocks) {
  if (block_min < best) {
    best = block_min;
    best_blocks = BlockSet(1) << block;
  } else if (block_min == best) {
    best_blocks |= BlockSet(1) << block;
  }
}

#if defined(SUBSETSUM_PAIR_SEARCH_SIMD)

namespace avx512 {

#define SUBSETSUM_SIMD __attribute__((target("avx512f,avx512dq"))) inline
#define SUBSETSUM_SIMD_INLINE __attribute__((target("avx512f,avx512dq"), always_inline)) inline

struct Lanes {
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int kCount = 8;
  SUBSETSUM_SIMD_INLINE static V set1(double x) { return _mm512_set1_pd(x); }
  SUBSETSUM_SIMD_INLINE static V loadu(const double* p) { return _mm512_loadu_pd(p); }
  SUBSETSUM_SIMD_INLINE static V maskz_loadu(Mask live, const double* p) {
    return _mm512_maskz_loadu_pd(live, p);
  }
  SUBSETSUM_SIMD_INLINE static void storeu(double* p, V a) { _mm512_storeu_pd(p, a); }
  SUBSETSUM_SIMD_INLINE static Mask below(int count) {
    return count >= 8 ? Mask(0xFF) : Mask((1u << (count > 0 ? count : 0)) - 1u);
  }
  SUBSETSUM_SIMD_INLINE static V add(V a, V b) { return _mm512_add_pd(a, b); }
  SUBSETSUM_SIMD_INLINE static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
  SUBSETSUM_SIMD_INLINE static V abs(V a) { return _mm512_abs_pd(a); }
  SUBSETSUM_SIMD_INLINE static V min(V a, V b) { return _mm512_min_pd(a, b); }
  SUBSETSUM_SIMD_INLINE static V max(V a, V b) { return _mm512_max_pd(a, b); }
  // min(m, |x|) for m >= 0: VRANGEPD's smaller magnitude, sign cleared (one operation for two)
  SUBSETSUM_SIMD_INLINE static V min_abs(V m, V x) { return _mm512_range_pd(m, x, 0b1010); }
  SUBSETSUM_SIMD_INLINE static V mask_min_abs(V m, Mask live, V x) {
    return _mm512_mask_range_pd(m, live, m, x, 0b1010);
  }
  SUBSETSUM_SIMD_INLINE static V mask_min(V src, Mask live, V a, V b) {
    return _mm512_mask_min_pd(src, live, a, b);
  }
  SUBSETSUM_SIMD_INLINE static V mask_add(V src, Mask live, V a, V b) {
    return _mm512_mask_add_pd(src, live, a, b);
  }
  SUBSETSUM_SIMD_INLINE static unsigned equal_lanes(Mask live, V a, V b) {
    return _mm512_mask_cmp_pd_mask(live, a, b, _CMP_EQ_OQ);
  }
  SUBSETSUM_SIMD_INLINE static unsigned at_most_lanes(V a, V b) {
    return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ);
  }
  SUBSETSUM_SIMD_INLINE static double reduce_min(V a) { return _mm512_reduce_min_pd(a); }
  SUBSETSUM_SIMD_INLINE static double reduce_max(V a) { return _mm512_reduce_max_pd(a); }
};

#include "pair_search_simd.inl"

#undef SUBSETSUM_SIMD
#undef SUBSETSUM_SIMD_INLINE

}  // namespace avx512

namespace avx2 {

#define SUBSETSUM_SIMD __attribute__((target("avx2"))) inline
#define SUBSETSUM_SIMD_INLINE __attribute__((target("avx2"), always_inline)) inline

// AVX2 has no mask registers: a mask is a vector whose live lanes are all ones, and the masked
// operations blend.
struct Lanes {
  using V = __m256d;
  using Mask = __m256d;
  static constexpr int kCount = 4;
  SUBSETSUM_SIMD_INLINE static V set1(double x) { return _mm256_set1_pd(x); }
  SUBSETSUM_SIMD_INLINE static V loadu(const double* p) { return _mm256_loadu_pd(p); }
  SUBSETSUM_SIMD_INLINE static V maskz_loadu(Mask live, const double* p) {
    return _mm256_maskload_pd(p, _mm256_castpd_si256(live));
  }
  SUBSETSUM_SIMD_INLINE static void storeu(double* p, V a) { _mm256_storeu_pd(p, a); }
  SUBSETSUM_SIMD_INLINE static Mask below(int count) {
    return _mm256_castsi256_pd(
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3)));
  }
  SUBSETSUM_SIMD_INLINE static V add(V a, V b) { return _mm256_add_pd(a, b); }
  SUBSETSUM_SIMD_INLINE static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
  SUBSETSUM_SIMD_INLINE static V abs(V a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  SUBSETSUM_SIMD_INLINE static V min(V a, V b) { return _mm256_min_pd(a, b); }
  SUBSETSUM_SIMD_INLINE static V max(V a, V b) { return _mm256_max_pd(a, b); }
  // min(m, |x|) for m >= 0
  SUBSETSUM_SIMD_INLINE static V min_abs(V m, V x) { return min(m, abs(x)); }
  SUBSETSUM_SIMD_INLINE static V mask_min_abs(V m, Mask live, V x) {
    return mask_min(m, live, abs(x), m);
  }
  SUBSETSUM_SIMD_INLINE static V mask_min(V src, Mask live, V a, V b) {
    return _mm256_blendv_pd(src, _mm256_min_pd(a, b), live);
  }
  SUBSETSUM_SIMD_INLINE static V mask_add(V src, Mask live, V a, V b) {
    return _mm256_blendv_pd(src, _mm256_add_pd(a, b), live);
  }
  SUBSETSUM_SIMD_INLINE static unsigned equal_lanes(Mask live, V a, V b) {
    return unsigned(_mm256_movemask_pd(_mm256_and_pd(live, _mm256_cmp_pd(a, b, _CMP_EQ_OQ))));
  }
  SUBSETSUM_SIMD_INLINE static unsigned at_most_lanes(V a, V b) {
    return unsigned(_mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_LE_OQ)));
  }
  SUBSETSUM_SIMD_INLINE static double reduce_min(V a) {
    const __m128d half = _mm_min_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_min_sd(half, _mm_unpackhi_pd(half, half)));
  }
  SUBSETSUM_SIMD_INLINE static double reduce_max(V a) {
    const __m128d half = _mm_max_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_max_sd(half, _mm_unpackhi_pd(half, half)));
  }
};

#include "pair_search_simd.inl"

#undef SUBSETSUM_SIMD
#undef SUBSETSUM_SIMD_INLINE

}  // namespace avx2

#endif

// The widest search the CPU runs.
inline CpuSearch cpu_search_supported() {
#if defined(SUBSETSUM_PAIR_SEARCH_SIMD)
  static const CpuSearch best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
      return CpuSearch::kAvx512;
    if (__builtin_cpu_supports("avx2")) return CpuSearch::kAvx2;
    return CpuSearch::kScalar;
  }();
  return best;
#else
  return CpuSearch::kScalar;
#endif
}

// The widest search allowed (tests and benchmarks narrow it to compare the searches; every one
// returns the same subsets).
inline std::atomic<int>& cpu_search_cap() {
  static std::atomic<int> cap{static_cast<int>(CpuSearch::kAvx512)};
  return cap;
}

// The search the solver runs: the widest one the CPU runs, within the cap.
inline CpuSearch cpu_search() {
  const int cap = cpu_search_cap().load(std::memory_order_relaxed);
  const int best = static_cast<int>(cpu_search_supported());
  return static_cast<CpuSearch>(cap < best ? cap : best);
}

struct CpuExhaustive {
  static bool affordable(int m, int s) {
    if (s == 2 && cpu_search() != CpuSearch::kScalar) return binomial(m, 2) <= kVectorPairsMax;
    if (s == 3 && cpu_search() != CpuSearch::kScalar) return binomial(m, 3) <= kVectorTriplesMax;
    return exhaustive_affordable(m, s);
  }
  template <int CAP>
  static double best(const Elements<CAP>& e, double target, int s, int* chosen) {
#if defined(SUBSETSUM_PAIR_SEARCH_SIMD)
    switch (cpu_search()) {
      case CpuSearch::kAvx512:
        return avx512::best_of_size(e, target, s, chosen);
      case CpuSearch::kAvx2:
        return avx2::best_of_size(e, target, s, chosen);
      case CpuSearch::kScalar:
        break;
    }
#endif
    return exhaustive_best(e, target, s, chosen);
  }
};

}  // namespace subsetsum
