// Shared definitions for the per-problem subset-sum routines.
//
// Every routine in this folder is compiled twice: by the C++ compiler for the OpenMP driver and
// by nvcc for the CUDA kernels, so both backends run the same scalar code. Arithmetic is in
// double whatever the input dtype: sums of float32 inputs are then exact (53 bits hold a
// float32's 24 plus the carries of up to 2^8 terms and a spread of exponents), so every
// algorithm sees identical sums and identical tie-breaks.
#pragma once

#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define SUBSETSUM_HD __host__ __device__ __forceinline__
#else
#define SUBSETSUM_HD inline
#endif

// A branch the search rarely takes: compilers keep it a branch rather than turning it into
// selects, so the loop carries no dependency through the running minimum (the CPU predicts
// past it; a handful of improvements per problem cost a misprediction each).
#if defined(__GNUC__) || defined(__clang__)
#define SUBSETSUM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SUBSETSUM_UNLIKELY(x) (x)
#endif

namespace subsetsum {

enum Mode : int { MODE_BEST = 0, MODE_MIN_SIZE = 1, MODE_FIXED_SIZE = 2 };

enum Algorithm : int {
  ALG_GRAY_CODE = 0,           // all modes, n <= 30: every subset in Gray-code order
  ALG_MEET_IN_THE_MIDDLE = 1,  // best, n <= 44: sorted half sums (Horowitz-Sahni), merged
  ALG_INCREASING_SIZE = 2,     // min_size, n <= 64: pruned search of sizes 0, 1, 2, ...
  ALG_EXACT_COMBINATIONS = 3,  // fixed_size, n <= 256: pruned search of all k-subsets
  ALG_FIRST_HIT = 4,           // fixed_size, n <= 256: stop at the first k-subset within eps
  ALG_COUNT = 5,
};

// Largest number of elements per problem each algorithm accepts.
constexpr int kMaxElements[ALG_COUNT] = {30, 44, 64, 256, 256};
constexpr int kMaxElementsAll = 256;
constexpr int kNarrowLimit = 64;  // results as uint64 bit patterns up to this n

// Per-problem storage is sized at compile time: calls f(std::integral_constant<int, CAP>{})
// with the smallest compiled capacity that holds n elements (the narrow instances keep the
// common case small: in cache on a CPU, on chip on a GPU). Host code only.
template <class F>
void with_capacity(int n, F&& f) {
  if (n <= 16) f(std::integral_constant<int, 16>{});
  else if (n <= 32) f(std::integral_constant<int, 32>{});
  else if (n <= kNarrowLimit) f(std::integral_constant<int, kNarrowLimit>{});
  else f(std::integral_constant<int, kMaxElementsAll>{});
}

// first_hit gives up on a problem after this many search nodes (found = false). It bounds the
// time of adversarial inputs (tiny eps with many elements); typical problems need < 10^3.
constexpr long long kFirstHitNodeBudget = 1LL << 26;

SUBSETSUM_HD bool algorithm_supports(int alg, int mode) {
  switch (alg) {
    case ALG_GRAY_CODE: return true;
    case ALG_MEET_IN_THE_MIDDLE: return mode == MODE_BEST;
    case ALG_INCREASING_SIZE: return mode == MODE_MIN_SIZE;
    case ALG_EXACT_COMBINATIONS:
    case ALG_FIRST_HIT: return mode == MODE_FIXED_SIZE;
    default: return false;
  }
}

// Number of k-subsets of n elements, saturating at 2^62.
SUBSETSUM_HD double binomial(int n, int k) {
  if (k < 0 || k > n) return 0.0;
  if (k > n - k) k = n - k;
  double c = 1.0;
  for (int i = 1; i <= k; ++i) {
    c = c * (n - k + i) / i;
    if (c > 4.6e18) return 4.6e18;
  }
  return c;
}

// The default algorithm for a batch: depends on (mode, n, k) only, never on the data, so the
// same call always runs the same code.
SUBSETSUM_HD int choose_algorithm(int mode, int n, int k) {
  if (mode == MODE_BEST) return n <= 12 ? ALG_GRAY_CODE : ALG_MEET_IN_THE_MIDDLE;
  if (mode == MODE_MIN_SIZE) return ALG_INCREASING_SIZE;
  // fixed_size: exhaustive while the k-subsets are few enough that even an unpruned search
  // stays within about a millisecond per problem.
  return binomial(n, k) <= 1.0e6 ? ALG_EXACT_COMBINATIONS : ALG_FIRST_HIT;
}

}  // namespace subsetsum
