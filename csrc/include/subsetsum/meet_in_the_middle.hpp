// Exact "best" by meet in the middle (Horowitz and Sahni): the sorted list of all subset sums
// of each half, then one sweep of the first list upward against a pointer moving down the
// second. Lists are built by merging (L and L + x are both sorted), 2^(h+1) moves for a half of
// h elements, with no sort.
//
// Ties: equal sums inside a half keep only the smaller (size, bits) entry. For the optimal pair
// this loses nothing: swapping in the kept entry gives the same error with a size and bit
// pattern no larger. For each first-half sum, the second-half sums nearest the remaining
// target on either side are both examined, so every optimal pair is met.
#pragma once

#include <cmath>

#include "problem.hpp"

namespace subsetsum {

SUBSETSUM_HD int popcount32(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __popc(x);
#else
  return __builtin_popcount(x);
#endif
}

// Builds the sorted, duplicate-free subset sums of values[0..h-1] into (sums, bits); returns
// the list length. Needs two scratch lists of 2^h entries; the result ends in (sums, bits).
SUBSETSUM_HD int half_sums(const double* values, int h, double* sums, uint32_t* bits,
                           double* tmp_sums, uint32_t* tmp_bits) {
  // Ping-pong between the output and the scratch list so the final list lands in the output.
  double* cur_s = (h % 2 == 0) ? sums : tmp_sums;
  uint32_t* cur_b = (h % 2 == 0) ? bits : tmp_bits;
  double* nxt_s = (h % 2 == 0) ? tmp_sums : sums;
  uint32_t* nxt_b = (h % 2 == 0) ? tmp_bits : bits;
  cur_s[0] = 0.0;
  cur_b[0] = 0;
  int len = 1;
  for (int k = 0; k < h; ++k) {
    const double x = values[k];
    const uint32_t bit = 1u << k;
    int i = 0, j = 0, out = 0;
    while (i < len && j < len) {
      const double a = cur_s[i];
      const double b = cur_s[j] + x;
      if (a < b) { nxt_s[out] = a; nxt_b[out++] = cur_b[i++]; }
      else if (b < a) { nxt_s[out] = b; nxt_b[out++] = cur_b[j++] | bit; }
      else {
        // equal sums: keep the smaller (size, bits); b's bits include the new, highest bit
        const uint32_t ba = cur_b[i], bb = cur_b[j] | bit;
        const int pa = popcount32(ba), pb = popcount32(bb);
        nxt_s[out] = a;
        nxt_b[out++] = (pa < pb || (pa == pb && ba < bb)) ? ba : bb;
        ++i; ++j;
      }
    }
    while (i < len) { nxt_s[out] = cur_s[i]; nxt_b[out++] = cur_b[i++]; }
    while (j < len) { nxt_s[out] = cur_s[j] + x; nxt_b[out++] = cur_b[j++] | bit; }
    len = out;
    double* ts = cur_s; cur_s = nxt_s; nxt_s = ts;
    uint32_t* tb = cur_b; cur_b = nxt_b; nxt_b = tb;
  }
  return len;
}

struct MitmScratch {
  double* sums_a; uint32_t* bits_a;
  double* sums_b; uint32_t* bits_b;
  double* tmp_sums; uint32_t* tmp_bits;
};

// Best subset of the (unsorted, compacted) elements; returns its compact bit pattern and error.
template <int CAP>
SUBSETSUM_HD uint64_t meet_in_the_middle_best(const Elements<CAP>& e, double target,
                                              const MitmScratch& s, double* best_err_out) {
  const int m = e.count;
  const int h1 = m / 2, h2 = m - h1;
  const int na = half_sums(e.value, h1, s.sums_a, s.bits_a, s.tmp_sums, s.tmp_bits);
  const int nb = half_sums(e.value + h1, h2, s.sums_b, s.bits_b, s.tmp_sums, s.tmp_bits);
  double best_err = INFINITY;
  int best_size = 0;
  uint64_t best_bits = 0;
  int j = nb - 1;
  for (int i = 0; i < na; ++i) {
    const double a = s.sums_a[i];
    const double rest = target - a;
    while (j >= 0 && s.sums_b[j] > rest) --j;
    for (int c = j; c <= j + 1; ++c) {
      if (c < 0 || c >= nb) continue;
      const double err = fabs(target - (a + s.sums_b[c]));
      if (err > best_err) continue;
      const uint64_t bits = static_cast<uint64_t>(s.bits_a[i]) |
                            (static_cast<uint64_t>(s.bits_b[c]) << h1);
      const int size = popcount32(s.bits_a[i]) + popcount32(s.bits_b[c]);
      if (err < best_err || size < best_size || (size == best_size && bits < best_bits)) {
        best_err = err;
        best_size = size;
        best_bits = bits;
      }
    }
  }
  *best_err_out = best_err;
  return best_bits;
}

}  // namespace subsetsum
