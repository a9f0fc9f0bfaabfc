// Every subset, each summed exactly as the contract sums it (in index order, in float64), at
// about one addition per subset. The best subset of every size is kept, which answers all three
// modes at once. Exponential, so for small m only (the default for best up to n = 12, and the
// brute-force cross-check for the other algorithms).
//
// Order: the subsets of the first p = m - 2 elements with the LAST of them changing fastest
// (binary counting with element p - 1 as the lowest digit), so consecutive subsets share their
// lowest-index elements: a step adds element j to fold[j], the index-order sum of the elements
// below j it keeps, and elements above j leave. Each such subset is then extended by the last two
// elements inline. A running sum updated by additions and subtractions (true Gray-code order)
// would be cheaper by a store but drifts: 1e16 + 1 - 1e16 is 0, not 1. One step of the work
// bound per subset: the default bound covers n <= 26.
#pragma once

#include <cmath>

#include "problem.hpp"

namespace subsetsum {

struct SizeBests {
  double err[kMaxElements[ALG_GRAY_CODE] + 1];
  uint32_t bits[kMaxElements[ALG_GRAY_CODE] + 1];  // compact bit patterns (bit i: i-th present)
};

SUBSETSUM_HD void keep_if_better(SizeBests& out, double target, double sum, int size,
                                 uint32_t bits) {
  const double err = fabs(target - sum);
  if (SUBSETSUM_UNLIKELY(err < out.err[size] || (err == out.err[size] && bits < out.bits[size]))) {
    out.err[size] = err;
    out.bits[size] = bits;
  }
}

// Fills `out` with the best subset of each size among those enumerated: all of them, unless the
// work bound (one step per subset, spent every 2^12 subsets of the first p elements) or the stop
// flag ended the enumeration early (work.over()).
template <int CAP>
SUBSETSUM_HD void gray_code_size_bests(const Elements<CAP>& e, double target, SizeBests& out,
                                       Work& work) {
  const int m = e.count;
  const double* v = e.value;
  for (int s = 0; s <= m; ++s) { out.err[s] = INFINITY; out.bits[s] = 0; }
  out.err[0] = fabs(target - 0.0);
  if (m == 0) return;
  const int tail = m < 2 ? m : 2;  // elements enumerated inline below every subset of the rest
  const int p = m - tail;
  double fold[kMaxElements[ALG_GRAY_CODE] + 1];  // fold[j]: index-order sum of those below j
  for (int j = 0; j <= p; ++j) fold[j] = 0.0;
  const uint32_t bit_a = 1u << p, bit_b = 1u << (p + 1);
  const double va = v[p], vb = tail == 2 ? v[p + 1] : 0.0;
  uint32_t bits = 0;
  int size = 0;
  double sum = 0.0;
  const uint64_t count = 1ull << p;
  for (uint64_t r = 0; r < count; ++r) {
    if (r != 0) {
      const int j = p - 1 - lowest_bit(r);  // enters; elements above it leave
      bits = (bits & ((1u << j) - 1)) | (1u << j);
      size = popcount64(bits);
      sum = fold[j] + v[j];
      for (int d = j + 1; d < p; ++d) fold[d] = sum;
      keep_if_better(out, target, sum, size, bits);
      if ((r & 4095) == 0 && !work.spend(4096ll << tail)) return;
    }
    // the subset extended by the last elements, summed in index order
    const double with_a = sum + va;
    keep_if_better(out, target, with_a, size + 1, bits | bit_a);
    if (tail == 2) {
      keep_if_better(out, target, sum + vb, size + 1, bits | bit_b);
      keep_if_better(out, target, with_a + vb, size + 2, bits | bit_a | bit_b);
    }
  }
}

}  // namespace subsetsum
