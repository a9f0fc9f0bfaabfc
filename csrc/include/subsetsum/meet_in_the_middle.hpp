// Exact "best" by meet in the middle (Horowitz and Sahni): the sorted list of all subset sums
// of each half, then one sweep of the first list upward against a pointer moving down the
// second. Lists are built by merging (L and L + x are both sorted), 2^(h+1) moves for a half of
// h elements, with no sort.
//
// Ties: whenever the sweep meets a pair as good as the best so far, every pair with the same
// two sums is examined (mitm_examine), so the contract's (error, size, bits) minimum is found
// whatever order equal sums were merged in.
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

// Builds the sorted subset sums of values[0..h-1] into (sums, bits); returns the list length
// 2^h. Each list needs room for 2^h + 1 entries (a sentinel). The merge is branch-free: both
// input streams read one entry ahead and a comparison picks which one advances, so its cost
// does not depend on how the sums interleave. Equal sums are kept in a fixed order; the sweep
// resolves ties.
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
    cur_s[len] = INFINITY;  // both streams end on the sentinel (INFINITY + x stays infinite)
    cur_b[len] = 0;
    int i = 0, j = 0;
    for (int out = 0; out < 2 * len; ++out) {
      const double a = cur_s[i], b = cur_s[j] + x;
      const bool take_a = a <= b;
      nxt_s[out] = take_a ? a : b;
      nxt_b[out] = take_a ? cur_b[i] : (cur_b[j] | bit);
      i += take_a;
      j += !take_a;
    }
    len *= 2;
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

struct MitmBest {
  double err;
  int size;
  uint64_t bits;  // compact: first half in the low h1 bits
};

// Every pair (first-half entry, second-half entry) whose values equal those of (ia, jb): equal
// sums are rare, but each such pair may win a tie on size or bit pattern.
SUBSETSUM_HD void mitm_examine(const MitmScratch& s, int na, int nb, int h1, int ia, int jb,
                               double target, MitmBest& best) {
  int a0 = ia, a1 = ia, b0 = jb, b1 = jb;
  while (a0 > 0 && s.sums_a[a0 - 1] == s.sums_a[ia]) --a0;
  while (a1 + 1 < na && s.sums_a[a1 + 1] == s.sums_a[ia]) ++a1;
  while (b0 > 0 && s.sums_b[b0 - 1] == s.sums_b[jb]) --b0;
  while (b1 + 1 < nb && s.sums_b[b1 + 1] == s.sums_b[jb]) ++b1;
  for (int i = a0; i <= a1; ++i) {
    for (int j = b0; j <= b1; ++j) {
      const double err = fabs(target - (s.sums_a[i] + s.sums_b[j]));
      if (err > best.err) continue;
      const uint64_t bits = static_cast<uint64_t>(s.bits_a[i]) |
                            (static_cast<uint64_t>(s.bits_b[j]) << h1);
      const int size = popcount32(s.bits_a[i]) + popcount32(s.bits_b[j]);
      if (err < best.err || size < best.size || (size == best.size && bits < best.bits))
        best = {err, size, bits};
    }
  }
}

// Best subset of the (unsorted, compacted) elements; returns its compact bit pattern and error.
// The sweep walks the first list up and the second list down as one merge of the sums a and the
// remaining targets t = target - b: the closest pair is adjacent in that merged order, so the
// walk meets it after at most na + nb branch-free steps. `slack` widens the filter for float64
// rounding (a - t and target - (a + b) may differ in the last bits).
template <int CAP>
SUBSETSUM_HD uint64_t meet_in_the_middle_best(const Elements<CAP>& e, double target,
                                              const MitmScratch& s, double* best_err_out) {
  const int m = e.count;
  const int h1 = m / 2, h2 = m - h1;
  const int na = half_sums(e.value, h1, s.sums_a, s.bits_a, s.tmp_sums, s.tmp_bits);
  const int nb = half_sums(e.value + h1, h2, s.sums_b, s.bits_b, s.tmp_sums, s.tmp_bits);
  const double slack = rounding_slack(e, target);
  MitmBest best{INFINITY, 0, 0};
  int i = 0, j = nb - 1;
  while (i < na && j >= 0) {
    const double a = s.sums_a[i];
    const double t = target - s.sums_b[j];
    if (fabs(a - t) <= best.err + slack) mitm_examine(s, na, nb, h1, i, j, target, best);
    const bool up = a < t;
    i += up;
    j -= !up;
  }
  *best_err_out = best.err;
  return best.bits;
}

}  // namespace subsetsum
