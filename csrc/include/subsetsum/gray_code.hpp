// Every subset in Gray-code order: one element enters or leaves per step, so each of the 2^m
// subsets costs one addition. The best subset of every size is kept, which answers all three
// modes at once. Exponential, so for small m only (the default for best up to n = 12, and the
// brute-force cross-check for the other algorithms).
//
// The running sum is exact for float32 inputs (see config.hpp); for float64 inputs it can drift
// by a few ulps over 2^30 steps, which only matters for near-ties.
#pragma once

#include <cmath>

#include "problem.hpp"

namespace subsetsum {

struct SizeBests {
  double err[kMaxElements[ALG_GRAY_CODE] + 1];
  uint32_t bits[kMaxElements[ALG_GRAY_CODE] + 1];  // compact bit patterns (bit i: i-th present)
};

template <int CAP>
SUBSETSUM_HD void gray_code_size_bests(const Elements<CAP>& e, double target, SizeBests& out) {
  const int m = e.count;
  for (int s = 0; s <= m; ++s) { out.err[s] = INFINITY; out.bits[s] = 0; }
  out.err[0] = fabs(target);
  double sum = 0.0;
  uint32_t bits = 0;
  int size = 0;
  const uint64_t total = 1ull << m;
  for (uint64_t g = 1; g < total; ++g) {
#if defined(__CUDA_ARCH__)
    const int bit = __ffsll(static_cast<long long>(g)) - 1;
#else
    const int bit = __builtin_ctzll(g);
#endif
    bits ^= 1u << bit;
    if (bits & (1u << bit)) { sum += e.value[bit]; ++size; }
    else { sum -= e.value[bit]; --size; }
    const double err = fabs(target - sum);
    if (err < out.err[size] || (err == out.err[size] && bits < out.bits[size])) {
      out.err[size] = err;
      out.bits[size] = bits;
    }
  }
}

}  // namespace subsetsum
