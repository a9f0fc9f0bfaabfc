// One problem's elements, compacted (masked-out elements dropped) and optionally sorted, and the
// tie-breaking order every algorithm follows.
//
// Order on candidate subsets (the contract): smaller error first, then fewer elements, then the
// smaller bit pattern read as an unsigned integer (for n > 64: the set whose largest differing
// index is smaller). The error of a subset is |target - s| with s its elements summed in float64
// in index order, starting from 0 (exactly what write_solution reports). Compaction keeps the
// original order, so comparing compact bit patterns is the same as comparing original ones, and
// summing in compact order is summing in index order.
//
// Searches that add elements in another order (sorted, or two halves) see sums that can differ
// from those index-order sums by rounding. analyze() bounds that difference by `slack` (zero
// when every subset sum is exact in float64, as for typical float32 inputs); the searches prune
// and pick with error_floor() over [sum - slack, sum + slack] and recompute the index-order sum
// of every candidate that could still win, so each returns the contract's subset.
#pragma once

#include <cmath>
#include <cstring>

#include "config.hpp"

#if !defined(__CUDA_ARCH__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace subsetsum {

SUBSETSUM_HD int lowest_bit(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return __ffsll(static_cast<long long>(x)) - 1;
#else
  return __builtin_ctzll(x);
#endif
}

SUBSETSUM_HD int popcount64(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return __popcll(x);
#else
  return __builtin_popcountll(x);
#endif
}

// Exponent of the lowest set bit of a nonzero finite double (-1074 for the smallest subnormal).
SUBSETSUM_HD int lowest_bit_exponent(double v) {
#if defined(__CUDA_ARCH__)
  const uint64_t u = static_cast<uint64_t>(__double_as_longlong(v));
#else
  uint64_t u;
  memcpy(&u, &v, sizeof u);
#endif
  const int biased = static_cast<int>((u >> 52) & 0x7ff);
  const uint64_t mantissa = u & ((1ull << 52) - 1);
  if (biased == 0) return -1074 + lowest_bit(mantissa);
  return biased - 1075 + lowest_bit(mantissa | (1ull << 52));
}

// The smallest error |target - x| over x in [lo, hi], as computed in float64: fl(target - x) is
// monotone in x, so the end nearest the target gives it.
SUBSETSUM_HD double error_floor(double target, double lo, double hi) {
  if (target < lo) return fabs(target - lo);
  if (target > hi) return fabs(target - hi);
  return 0.0;
}

constexpr int kNoBits = 4096;  // lowest set bit of a problem whose values are all zero

template <int CAP>
struct Elements {
  double value[CAP];    // compacted values (original order, or ascending after sort_by_value)
  int16_t index[CAP];   // original index of each value
  int16_t pos[CAP];     // compact position of each value (its place before sort_by_value)
  double cvalue[CAP];   // the values in compact order (kept by sort_by_value)
  int count;            // m: number of unmasked elements
  double abs_sum;       // sum of |value| (load)
  double min_abs;       // load: smallest |value| (infinity: no value)
  int mantissa_bits;    // load: fraction bits of the input type (23 float, 52 double)
  double low, high;     // load: the sums of the negative and of the positive values;
                        // analyze() widens them by slack: every subset sum lies in [low, high]
  // analyze():
  bool exact;           // every subset sum is exact in float64, in any order of addition
  double slack;         // bound on |index-order sum - sum in any other order, or bound from
                        // prefix sums| for every subset (0 when exact)

  template <class T>
  SUBSETSUM_HD void load(const T* row, const uint8_t* mask_row, int n, int limit) {
    int m = 0;
    double total = 0.0, signed_total = 0.0, smallest = INFINITY;
#if !defined(__CUDA_ARCH__) && defined(__SSE2__)
    // Host, no mask: four elements a step in two-lane vectors, two partial sums and minimums of
    // each kind (the scalar loop of four waited on its additions and spent 30 instructions on
    // four elements: about 6% of an L+1 build's solver time at n = 57). The sums round
    // differently, which nothing depends on: they bound the search (analyze, low/high, with
    // slack to spare; analyze's exactness test holds for any order of addition), and every
    // answer is recomputed in index order. (A GPU thread hides the latency behind other warps.)
    if (mask_row == nullptr) {
      const int count4 = (n < limit ? n : limit) & ~3;
      // float64 values in one copy: its wide stores let the vector searches that read them next
      // load from the store buffer (eight scalar stores under one 64-byte load stalled it until
      // they reached the cache: half of the size-1 search's time)
      constexpr bool copy_values = sizeof(T) == sizeof(double);
      if (copy_values) memcpy(value, row, static_cast<size_t>(count4) * sizeof(double));
      const __m128d sign = _mm_set1_pd(-0.0);
      __m128d t01 = _mm_setzero_pd(), t23 = t01, s01 = t01, s23 = t01;
      __m128d low01 = _mm_set1_pd(INFINITY), low23 = low01;
      uint64_t indices = 0x0003000200010000ull;  // index[m .. m + 3], four int16 in one store
      for (; m < count4; m += 4) {
        __m128d v01, v23;
        if (copy_values) {
          v01 = _mm_loadu_pd(reinterpret_cast<const double*>(row) + m);
          v23 = _mm_loadu_pd(reinterpret_cast<const double*>(row) + m + 2);
        } else {
          const __m128 f = _mm_loadu_ps(reinterpret_cast<const float*>(row) + m);
          v01 = _mm_cvtps_pd(f);
          v23 = _mm_cvtps_pd(_mm_movehl_ps(f, f));
          _mm_storeu_pd(value + m, v01);
          _mm_storeu_pd(value + m + 2, v23);
        }
        memcpy(index + m, &indices, sizeof indices);
        indices += 0x0004000400040004ull;
        const __m128d a01 = _mm_andnot_pd(sign, v01), a23 = _mm_andnot_pd(sign, v23);
        t01 = _mm_add_pd(t01, a01);
        t23 = _mm_add_pd(t23, a23);
        s01 = _mm_add_pd(s01, v01);
        s23 = _mm_add_pd(s23, v23);
        low01 = _mm_min_pd(a01, low01);  // (a NaN leaves the minimum: the problem is rejected)
        low23 = _mm_min_pd(a23, low23);
      }
      const __m128d t = _mm_add_pd(t01, t23), sv = _mm_add_pd(s01, s23);
      const __m128d low = _mm_min_pd(low01, low23);
      total = _mm_cvtsd_f64(t) + _mm_cvtsd_f64(_mm_unpackhi_pd(t, t));
      signed_total = _mm_cvtsd_f64(sv) + _mm_cvtsd_f64(_mm_unpackhi_pd(sv, sv));
      smallest = _mm_cvtsd_f64(_mm_min_sd(low, _mm_unpackhi_pd(low, low)));
    }
#endif
    for (int i = m; i < n && m < limit; ++i) {  // (on the host without a mask: the last few)
      if (mask_row == nullptr || mask_row[i]) {
        const double v = static_cast<double>(row[i]);
        value[m] = v;
        index[m] = static_cast<int16_t>(i);
        // independent chains: the second sum runs in the shadow of the first; the minimum is a
        // branch (rarely taken after the first few values: predicted), where a select would go
        // through integer registers and lengthen the loop's critical path
        const double a = fabs(v);
        total += a;
        signed_total += v;
        if (a < smallest) smallest = a;
        ++m;
      }
    }
    count = m;
    abs_sum = total;
    min_abs = smallest;
    mantissa_bits = sizeof(T) == 4 ? 23 : 52;
    // The sums of the negative and of the positive values; exact when subset sums are (both
    // are then multiples of 2^(q+1) below 2^(q+54)), otherwise within 2 m u abs_sum, which the
    // slack analyze() adds covers.
    low = 0.5 * (signed_total - total);
    high = 0.5 * (signed_total + total);
  }

  // Exactness, slack and the range of all subset sums: O(1) when the cheap test below settles
  // exactness (typical float32 inputs), else one pass over the values.
  //
  // Sums are exact when every value is a multiple of 2^q (q: the lowest set bit over all
  // values) and the sum of |values| is below 2^(q + 53): every partial sum of every subset is
  // then a multiple of 2^q below 2^(q + 53). Every value of the input type has its lowest set
  // bit at or above its exponent minus the type's fraction bits, hence at or above that of the
  // smallest nonzero |value|: a lower bound on q that settles most float32 problems without
  // looking at their bits. Otherwise a sum of up to m terms in any order, a difference of two
  // prefix sums plus a partial sum, each lies within (3m + 3) u sum|v| of the exact sum
  // (u = 2^-53); twice that, and a few terms more, is the slack.
  SUBSETSUM_HD void analyze() {
    int q = kNoBits;
    if (abs_sum > 0.0) {
      int e = -2000;  // a zero value leaves no bound: the exact pass below decides
      if (min_abs > 0.0) frexp(min_abs, &e);  // min_abs in [2^(e-1), 2^e)
      q = e - 1 - mantissa_bits;
      if (!(abs_sum < ldexp(1.0, q + 53))) {
        q = kNoBits;  // the bound did not settle it: the exact lowest bit
        for (int i = 0; i < count; ++i) {
          if (value[i] != 0.0) {
            const int b = lowest_bit_exponent(value[i]);
            q = b < q ? b : q;
          }
        }
      }
    }
    exact = q == kNoBits || abs_sum < ldexp(1.0, q + 53);
    slack = exact ? 0.0 : (4.0 * count + 8.0) * 0x1p-52 * abs_sum;
    low -= slack;
    high += slack;
  }

  // Every subset's error is the same value (the target is so far from all sums that they round
  // alike): every subset then ties on error, and the contract's answer depends on sizes only.
  SUBSETSUM_HD bool all_errors_equal(double target) const {
    if (target >= low && target <= high) return false;
    return fabs(target - low) == fabs(target - high);
  }

  // Sorts by (value, original index): equal values keep index order. Problems are small
  // (typically 10-20 elements) and this runs per GPU thread too, so up to 16 elements each
  // element's rank is counted branch-free (no mispredictions, no divergence) and the elements
  // scattered to their ranks; larger problems use insertion sort. When sums can round (analyze()
  // ran first and found them not exact), the compact order stays in cvalue and pos for
  // index_order_sum; exact problems never need it and skip that bookkeeping.
  SUBSETSUM_HD void sort_by_value() {
    if (count <= 16) {
      double v[16];
      int16_t ix[16];
      for (int i = 0; i < count; ++i) { v[i] = value[i]; ix[i] = index[i]; }
      if (!exact)
        for (int i = 0; i < count; ++i) cvalue[i] = v[i];
      for (int i = 0; i < count; ++i) {
        int rank = 0;
        for (int j = 0; j < count; ++j)
          rank += (v[j] < v[i]) | ((v[j] == v[i]) & (j < i));
        value[rank] = v[i];
        index[rank] = ix[i];
        pos[rank] = static_cast<int16_t>(i);
      }
      return;
    }
    if (exact) {
      bucket_then_insertion_sort<false>();
      return;
    }
    for (int i = 0; i < count; ++i) {
      cvalue[i] = value[i];
      pos[i] = static_cast<int16_t>(i);
    }
    bucket_then_insertion_sort<true>();
  }

  // Host: a stable counting sort into 64 buckets of the value range first, so that the
  // insertion sort after it only moves elements within a bucket (about m shifts instead of
  // m^2 / 4: a third of a ticket build's time went to sorting 55-element bases). The bucket is
  // a monotone function of the value, so the result is the stable sort's, ties in index order.
  // Device: the insertion sort alone (no per-thread bucket arrays).
  template <bool kTrackPositions>
  SUBSETSUM_HD void bucket_then_insertion_sort() {
#if !defined(__CUDA_ARCH__)
    constexpr int kBuckets = 64;
    double lo = value[0], hi = value[0];
    for (int i = 1; i < count; ++i) {
      lo = value[i] < lo ? value[i] : lo;
      hi = value[i] > hi ? value[i] : hi;
    }
    const double per = (kBuckets - 0.5) / (hi - lo);  // the largest value lands below kBuckets
    if (hi > lo && per < INFINITY) {
      uint8_t bucket[CAP];
      int start[kBuckets + 1] = {0};
      for (int i = 0; i < count; ++i) {
        bucket[i] = static_cast<uint8_t>((value[i] - lo) * per);
        ++start[bucket[i] + 1];
      }
      for (int b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
      double v[CAP];
      int16_t ix[CAP], ps[CAP];
      for (int i = 0; i < count; ++i) {
        const int at = start[bucket[i]]++;
        v[at] = value[i];
        ix[at] = index[i];
        if (kTrackPositions) ps[at] = pos[i];
      }
      for (int i = 0; i < count; ++i) {
        value[i] = v[i];
        index[i] = ix[i];
        if (kTrackPositions) pos[i] = ps[i];
      }
    }
#endif
    insertion_sort<kTrackPositions>();
  }

  template <bool kTrackPositions>
  SUBSETSUM_HD void insertion_sort() {
    for (int i = 1; i < count; ++i) {
      const double v = value[i];
      const int16_t ix = index[i], ps = kTrackPositions ? pos[i] : int16_t(0);
      int j = i - 1;
      while (j >= 0 && value[j] > v) {
        value[j + 1] = value[j];
        index[j + 1] = index[j];
        if (kTrackPositions) pos[j + 1] = pos[j];
        --j;
      }
      value[j + 1] = v;
      index[j + 1] = ix;
      if (kTrackPositions) pos[j + 1] = ps;
    }
  }

  // The index-order sum of the elements at sorted positions p[0..size) (after sort_by_value).
  SUBSETSUM_HD double index_order_sum(const int* p, int size) const {
    constexpr int kWords = (CAP + 63) / 64;
    uint64_t words[kWords];
    for (int w = 0; w < kWords; ++w) words[w] = 0;
    for (int i = 0; i < size; ++i) words[pos[p[i]] >> 6] |= 1ull << (pos[p[i]] & 63);
    double sum = 0.0;
    for (int w = 0; w < kWords; ++w) {
      uint64_t x = words[w];
      while (x) {
        sum += cvalue[(w << 6) + lowest_bit(x)];
        x &= x - 1;
      }
    }
    return sum;
  }
};

// Is the set {index[pos_a[i]]} smaller than {index[pos_b[i]]} in the contract's order?
// Both have `size` elements (equal sizes: the caller compared sizes already). Compared as big
// integers (bit i for original index i): the set holding the largest index in which they differ
// is the larger one. O(size).
template <int CAP>
SUBSETSUM_HD bool set_less(const Elements<CAP>& e, const int* pos_a, const int* pos_b, int size) {
  constexpr int kWords = (CAP + 63) / 64;  // original indices are below n <= CAP
  uint64_t a[kWords], b[kWords];
  for (int w = 0; w < kWords; ++w) a[w] = b[w] = 0;
  for (int i = 0; i < size; ++i) {
    const int ia = e.index[pos_a[i]], ib = e.index[pos_b[i]];
    a[ia >> 6] |= 1ull << (ia & 63);
    b[ib >> 6] |= 1ull << (ib & 63);
  }
  for (int w = kWords - 1; w >= 0; --w) {
    if (a[w] != b[w]) return a[w] < b[w];
  }
  return false;
}

}  // namespace subsetsum
