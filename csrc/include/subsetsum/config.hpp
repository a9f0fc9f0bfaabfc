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

// Work bound per problem (solve(work_limit=...)), in search steps: a search node, a candidate
// sum, a step of a pairing sweep. The searches whose work depends on the data (increasing_size,
// exact_combinations, first_hit, and meet in the middle's resolution of near-equal sums) stop
// there and mark the problem exhausted; gray_code (2^n steps, n <= 30) and the sorted half sums
// of meet in the middle (n <= 44) are bounded by n alone. The default, 2^26, is 0.1-0.5 s of one
// core; a typical eps = 0.01 problem takes 10^1-10^3 steps, exact_combinations on its default
// range (C(n, k) <= 10^6) at most a few million.
constexpr long long kDefaultWorkLimit = 1LL << 26;

// The stop flag (host only; null on the device) is read every this many steps.
constexpr long long kStopPollSteps = 1LL << 14;

// Per-problem outcome written to BatchOutput::status.
enum Status : uint8_t {
  STATUS_DONE = 0,       // the mode's answer
  STATUS_EXHAUSTED = 1,  // the work bound stopped the search: the best subset it had seen
  STATUS_REJECTED = 2,   // sums could overflow float64 (or a value is not finite): not solved
  STATUS_STOPPED = 3,    // the stop flag was raised (Ctrl-C): not solved, the call is abandoned
};

// Problems whose |target| plus the sum of |elements| reaches this are rejected: below it every
// subset sum, error and pruning bound of every algorithm is finite.
constexpr double kSumLimit = 0x1p1021;

SUBSETSUM_HD bool stop_requested(const int* flag) {
#if defined(__CUDA_ARCH__)
  return flag != nullptr && *static_cast<const volatile int*>(flag) != 0;
#else
  return flag != nullptr && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
#endif
}

// One problem's work account: steps left before the bound, and the stop flag read every
// kStopPollSteps steps. spend() is the only call the searches make; false means stop now.
struct Work {
  long long left;     // steps left in the bound (may go negative on the last spend)
  long long poll_at;  // read the stop flag when `left` drops below this
  const int* stop;
  bool exhausted;
  bool stopped;

  SUBSETSUM_HD void init(long long limit, const int* stop_flag) {
    left = limit;
    poll_at = next_poll(limit);
    stop = stop_flag;
    exhausted = false;
    stopped = false;
  }
  SUBSETSUM_HD bool spend(long long steps) {
    left -= steps;
    if (SUBSETSUM_UNLIKELY(left < poll_at)) return checkpoint();
    return true;
  }
  SUBSETSUM_HD bool checkpoint() {
    if (left < 0) exhausted = true;
    if (stop_requested(stop)) stopped = true;
    poll_at = next_poll(left);
    return !(exhausted || stopped);
  }
  // The next checkpoint: kStopPollSteps on, or where the bound runs out, whichever comes first.
  SUBSETSUM_HD static long long next_poll(long long left) {
    return left > kStopPollSteps ? left - kStopPollSteps : 0;
  }
  SUBSETSUM_HD bool over() const { return exhausted || stopped; }
};

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
