// Exact "best" by meet in the middle (Horowitz and Sahni): the sorted list of all subset sums
// of each half, then one sweep of the first list upward against a pointer moving down the
// second. Lists are built by merging (L and L + x are both sorted), 2^(h+1) moves for a half of
// h elements, with no sort.
//
// Ties: a second sweep finds the contract's (error, size, bits) minimum among every pair with
// the smallest error, whatever order equal sums were merged in.
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
      const uint32_t bits_a = cur_b[i], bits_b = cur_b[j] | bit;
      const bool take_a = a <= b;
      // Selects written as min and mask so compilers emit no branch (a branch here is
      // mispredicted about half the time: random sums interleave at random).
      const uint32_t pick_b = 0u - static_cast<uint32_t>(!take_a);
      nxt_s[out] = b < a ? b : a;
      nxt_b[out] = bits_a ^ ((bits_a ^ bits_b) & pick_b);
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

// Contract key of a second-half entry: fewer elements first, then the smaller bit pattern.
SUBSETSUM_HD uint64_t half_key(const uint32_t* bits, int j) {
  return (static_cast<uint64_t>(popcount32(bits[j])) << 32) | bits[j];
}

// Best subset of the (unsorted, compacted) elements; returns its compact bit pattern and error.
//
// Errors are compared as computed, err = |target - fl(a + b)|, and fl(a + b) is monotone in each
// of a and b, so for a fixed first-half sum a the error is unimodal along the sorted second
// list. Two sweeps use this:
//  1. The smallest error E. For each a the pairs on either side of the target are the
//     candidates; a merge walk (a up while a + b <= target, else b down) meets every
//     below-target one and, for each above-target one it skips, a visited pair at least as good.
//     Branch-free: one addition and one min per step.
//  2. The contract's minimum among all pairs with error E (a tie may be far from the target in
//     exact terms when the error rounds, e.g. target 1 and sums 0 and 1e-20). For each a those
//     pairs form a window of the second list that only moves down as a grows, so a sliding
//     window minimum of the second-half key gives each a's best partner in amortized O(1), however
//     many sums are equal.
template <int CAP>
SUBSETSUM_HD uint64_t meet_in_the_middle_best(const Elements<CAP>& e, double target,
                                              const MitmScratch& s, double* best_err_out) {
  const int m = e.count;
  const int h1 = m / 2, h2 = m - h1;
  const int na = half_sums(e.value, h1, s.sums_a, s.bits_a, s.tmp_sums, s.tmp_bits);
  const int nb = half_sums(e.value + h1, h2, s.sums_b, s.bits_b, s.tmp_sums, s.tmp_bits);

  double best_err = INFINITY;
  for (int i = 0, j = nb - 1; i < na && j >= 0;) {
    const double sum = s.sums_a[i] + s.sums_b[j];
    const double err = fabs(target - sum);
    best_err = err < best_err ? err : best_err;
    const bool up = sum <= target;
    i += up;
    j -= !up;
  }

  uint32_t* window = s.tmp_bits;  // indices into the second list; free once the lists are built
  int head = 0, tail = 0;         // keys increase and indices decrease from head to tail
  int hi = nb - 1;                // largest index not above the window, for the current a
  int next = nb - 1;              // next index to enter the window
  int best_size = 2 * CAP + 1;
  uint64_t best_bits = 0;
  for (int i = 0; i < na; ++i) {
    const double a = s.sums_a[i];
    for (; hi >= 0; --hi) {
      const double sum = a + s.sums_b[hi];
      if (sum <= target || fabs(target - sum) <= best_err) break;
    }
    if (hi < 0) break;  // every pair of this and every later a is above the target and worse
    if (next > hi) next = hi;
    for (; next >= 0; --next) {
      const double sum = a + s.sums_b[next];
      if (sum <= target && fabs(target - sum) > best_err) break;  // below: later a come closer
      const uint64_t key = half_key(s.bits_b, next);
      while (tail > head && half_key(s.bits_b, static_cast<int>(window[tail - 1])) > key) --tail;
      window[tail++] = static_cast<uint32_t>(next);
    }
    while (head < tail && static_cast<int>(window[head]) > hi) ++head;
    if (head == tail) continue;
    const int j = static_cast<int>(window[head]);
    const int size = popcount32(s.bits_a[i]) + popcount32(s.bits_b[j]);
    const uint64_t bits = static_cast<uint64_t>(s.bits_a[i]) |
                          (static_cast<uint64_t>(s.bits_b[j]) << h1);
    if (size < best_size || (size == best_size && bits < best_bits)) {
      best_size = size;
      best_bits = bits;
    }
  }
  *best_err_out = best_err;
  return best_bits;
}

}  // namespace subsetsum
