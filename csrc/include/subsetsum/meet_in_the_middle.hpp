// Exact "best" by meet in the middle (Horowitz and Sahni): the sorted list of all subset sums
// of each half, then a sweep of the first list upward against a pointer moving down the second.
// Lists are built by merging (L and L + x are both sorted), 2^(h+1) moves for a half of h
// elements, with no sort.
//
// Both the merge and the sweep are chains of dependent loads (where the next step reads depends
// on the last comparison), so each runs as four independent chains the core can overlap: the
// merge from both ends and from the middle, the sweep over four bands of the first list.
//
// Ties: the sweep counts the pairs it meets at the smallest error; when it met only one and no
// grid neighbour of it ties, that pair is the answer. Otherwise a second sweep finds the
// contract's (error, size, bits) minimum among every pair with the smallest error.
//
// Rounding (float64 inputs whose sums are not exact, see problem.hpp): a + b can differ from the
// index-order sum of the same subset by the problem's slack, so the sweep counts the pairs within
// a margin of the smallest error instead of equal to it, and when there is more than one, every
// pair whose error floor reaches the best index-order error so far is re-added in index order
// (resolve_near_pairs). That pass spends the problem's Work; the rest is bounded by n.
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

// One chain of the merge of a sorted list L with L + x (bit `bit` added), from output position
// `out` forward (i, j: the next entries of each stream) or backward (the last entries not yet
// placed). Each step reads both streams and a comparison picks which one advances, written as
// selects and masks so compilers emit no branch (a branch here is mispredicted about half the
// time: random sums interleave at random). Order: by sum, L's entry first on ties, in both
// directions, so chains meeting in the middle agree with one sequential merge.
template <bool kForward>
struct MergeChain {
  int i, j, out;
  SUBSETSUM_HD void step(const double* cs, const uint32_t* cb, double x, uint32_t bit,
                         double* ns, uint32_t* nb) {
    const double a = cs[i], b = cs[j] + x;
    const uint32_t bits_a = cb[i], bits_b = cb[j] | bit;
    const bool take_b = kForward ? b < a : b >= a;
    ns[out] = take_b ? b : a;
    nb[out] = bits_a ^ ((bits_a ^ bits_b) & (0u - static_cast<uint32_t>(take_b)));
    const int dir = kForward ? 1 : -1;
    i += take_b ? 0 : dir;
    j += take_b ? dir : 0;
    out += dir;
  }
};

// How many entries of L come before output position p of the merge of L and L + x (len each):
// the merge-path split, by binary search.
SUBSETSUM_HD int merge_split(const double* cs, int len, double x, int p) {
  int lo = p > len ? p - len : 0, hi = p < len ? p : len;
  while (lo < hi) {
    const int i = (lo + hi) >> 1;
    if (cs[i] <= cs[p - i - 1] + x) lo = i + 1; else hi = i;
  }
  return lo;
}

// Builds the sorted subset sums of values[0..h-1] into (sums, bits); returns the list length
// 2^h. Every list must have one writable entry before it and 2^h + 1 from its start (sentinels
// at both ends: see MitmScratch). Each level merges L with L + x in four independent chains
// (two forward, two backward, started at merge-path splits), which the core overlaps; the
// result is exactly that of one sequential merge, ties in a fixed order that the sweep resolves.
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
    // Exhausted streams read a sentinel (+-INFINITY + x stays infinite) and never win.
    cur_s[-1] = -INFINITY;
    cur_s[len] = INFINITY;
    cur_b[-1] = 0;
    cur_b[len] = 0;
    if (len < 4) {
      MergeChain<true> front{0, 0, 0};
      MergeChain<false> back{len - 1, len - 1, 2 * len - 1};
      for (int t = 0; t < len; ++t) {
        front.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
        back.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
      }
    } else {
      const int q = len / 2;
      const int i1 = merge_split(cur_s, len, x, q);
      const int i3 = merge_split(cur_s, len, x, 3 * q);
      MergeChain<true> f0{0, 0, 0}, f1{i1, q - i1, q};
      MergeChain<false> b1{i3 - 1, 3 * q - i3 - 1, 3 * q - 1}, b0{len - 1, len - 1, 2 * len - 1};
      for (int t = 0; t < q; ++t) {
        f0.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
        f1.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
        b1.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
        b0.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
      }
    }
    len *= 2;
    double* ts = cur_s; cur_s = nxt_s; nxt_s = ts;
    uint32_t* tb = cur_b; cur_b = nxt_b; nxt_b = tb;
  }
  return len;
}

// Six lists (sums and bits of both halves and of the merge scratch), each starting one entry
// into a block of mitm_list_stride(n) entries.
struct MitmScratch {
  double* sums_a; uint32_t* bits_a;
  double* sums_b; uint32_t* bits_b;
  double* tmp_sums; uint32_t* tmp_bits;
};

// Entries per list block for problems of up to n elements: 2^ceil(n/2) and two sentinels.
SUBSETSUM_HD long long mitm_list_stride(int n) { return (1LL << ((n + 1) / 2)) + 2; }

// The scratch view of three consecutive list blocks of sums and three of bits.
SUBSETSUM_HD MitmScratch mitm_scratch(double* sums, uint32_t* bits, long long stride) {
  return {sums + 1, bits + 1, sums + stride + 1, bits + stride + 1, sums + 2 * stride + 1,
          bits + 2 * stride + 1};
}

// Contract key of a second-half entry: fewer elements first, then the smaller bit pattern.
SUBSETSUM_HD uint64_t half_key(const uint32_t* bits, int j) {
  return (static_cast<uint64_t>(popcount32(bits[j])) << 32) | bits[j];
}

// What the first sweep learns: the smallest error, the pair that has it, and how many pairs it
// met within `near` of it. With exact sums near == err (ties only). Otherwise near adds a margin
// that covers the rounding of both the pair's sum and its index-order sum; the count may then
// over-count (a pair counted against an earlier, larger error), never under-count: when the
// error improves by more than the margin, every earlier pair is out of reach and the count
// restarts.
struct SweepBest {
  double err;
  double near;
  int count;
  int i, j;
};

// Margin of SweepBest::near: err + pad + rel * err (pad = rel = 0 when sums are exact).
struct NearMargin {
  double pad, rel;
  SUBSETSUM_HD double near(double err) const { return err + pad + rel * err; }
};

// One chain of the first sweep over rows [i, i_end) of the grid (first-list entry i, second-list
// entry j): a up while a + b <= target, else b down. For each row it meets the nearest pair at
// or below the target and, for each nearest pair above it that it skips, a pair in an earlier
// row at least as good (same b, smaller a). Branch-free.
struct SweepChain {
  int i, j, i_end;
  SweepBest best;
  SUBSETSUM_HD bool active() const { return i < i_end && j >= 0; }
  SUBSETSUM_HD void step(const MitmScratch& s, double target, const NearMargin& margin) {
    const double sum = s.sums_a[i] + s.sums_b[j];
    const double err = fabs(target - sum);
    if (SUBSETSUM_UNLIKELY(err <= best.near)) {
      if (err < best.err) {
        const double near = margin.near(err);
        best.count = best.err > near ? 1 : best.count + 1;
        best.i = i;
        best.j = j;
        best.err = err;
        best.near = near;
      } else {
        ++best.count;
      }
    }
    const bool up = sum <= target;
    i += up;
    j -= !up;
  }
};

// Independent chains of the first sweep (enough to keep a core's load units busy).
constexpr int kSweepChains = 4;

// Largest j with a + b_j <= target (as computed), or -1.
SUBSETSUM_HD int last_at_or_below(const double* sums_b, int nb, double a, double target) {
  int lo = 0, hi = nb;  // answer + 1 lies in [lo, hi]
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (a + sums_b[mid] <= target) lo = mid + 1; else hi = mid;
  }
  return lo - 1;
}

SUBSETSUM_HD double pair_error(const MitmScratch& s, int na, int nb, int i, int j,
                               double target) {
  if (i < 0 || i >= na || j < 0 || j >= nb) return INFINITY;
  return fabs(target - (s.sums_a[i] + s.sums_b[j]));
}

// The index-order sum of pair (i, j): the first list's entry is already the index-order sum of
// its subset (half_sums adds element k to sums of elements below k), continued here with the
// second half's elements in index order.
template <int CAP>
SUBSETSUM_HD double pair_index_order_sum(const Elements<CAP>& e, const MitmScratch& s, int h1,
                                         int i, int j) {
  double sum = s.sums_a[i];
  uint32_t bits = s.bits_b[j];
  while (bits) {
    sum += e.value[h1 + lowest_bit(bits)];
    bits &= bits - 1;
  }
  return sum;
}

// Sums that round (e.slack > 0) and more than one pair near the smallest error: the contract's
// minimum of (index-order error, size, bits) over every pair whose error floor reaches the best
// index-order error found so far, starting from the sweep's pair (bi, bj). For each a those
// pairs form a window of the second list that only moves down as a grows. Each pair met costs a
// step of `work`, each re-added pair its size more; the pass stops where the work runs out.
template <int CAP>
SUBSETSUM_HD uint64_t resolve_near_pairs(const Elements<CAP>& e, double target,
                                         const MitmScratch& s, int h1, int na, int nb, int bi,
                                         int bj, Work& work) {
  const double slack = e.slack;
  double best_err = fabs(target - pair_index_order_sum(e, s, h1, bi, bj));
  int best_size = popcount32(s.bits_a[bi]) + popcount32(s.bits_b[bj]);
  uint64_t best_bits = static_cast<uint64_t>(s.bits_a[bi]) |
                       (static_cast<uint64_t>(s.bits_b[bj]) << h1);
  int hi = nb - 1;  // pairs above it are above the target and out of reach, for every later a
  for (int i = 0; i < na; ++i) {
    const double a = s.sums_a[i];
    for (; hi >= 0; --hi) {
      const double low = a + s.sums_b[hi] - slack;
      if (!(low > target && fabs(target - low) > best_err)) break;
    }
    if (hi < 0) break;
    const int size_a = popcount32(s.bits_a[i]);
    long long steps = 0;
    for (int j = hi; j >= 0; --j) {
      ++steps;
      const double sum = a + s.sums_b[j];
      const double floor = error_floor(target, sum - slack, sum + slack);
      if (floor > best_err) {
        if (sum + slack < target) break;  // below the target: smaller j are farther still
        continue;
      }
      const int size = size_a + popcount32(s.bits_b[j]);
      const uint64_t bits = static_cast<uint64_t>(s.bits_a[i]) |
                            (static_cast<uint64_t>(s.bits_b[j]) << h1);
      if (floor == best_err && (size > best_size || (size == best_size && bits >= best_bits)))
        continue;  // can at best tie, and would lose the tie
      steps += size;
      const double err = fabs(target - pair_index_order_sum(e, s, h1, i, j));
      if (err < best_err ||
          (err == best_err && (size < best_size || (size == best_size && bits < best_bits)))) {
        best_err = err;
        best_size = size;
        best_bits = bits;
      }
    }
    if (!work.spend(steps)) break;
  }
  return best_bits;
}

// The first sweep's bands combined, in band order: the smallest error, its pair, and how many
// pairs the bands met within the margin of it (over-counted, never under-counted).
SUBSETSUM_HD SweepBest combine_sweeps(const SweepBest* bests, int bands) {
  SweepBest best = bests[0];
  for (int c = 1; c < bands; ++c) {
    const SweepBest& other = bests[c];
    if (other.err < best.err) {
      const int count = other.count + (best.err <= other.near ? best.count : 0);
      best = other;
      best.count = count;
    } else if (other.err <= best.near) {
      best.count += other.count;
    }
  }
  return best;
}

// The band of rows [first, end) of the first sweep, as one chain started next to its first row's
// nearest pairs (meet_in_the_middle_best splits the rows into kSweepChains bands, the team
// version into one band per thread: every split gives the same answer, see above).
SUBSETSUM_HD SweepChain sweep_band(const MitmScratch& s, int na, int nb, int first, int end,
                                   double target) {
  const int below = first < na ? last_at_or_below(s.sums_b, nb, s.sums_a[first], target) : nb - 1;
  return {first, below + 1 < nb ? below + 1 : nb - 1, end, {INFINITY, INFINITY, 0, 0, 0}};
}

// What follows the first sweep: its pair when it is the only one at the smallest error, else the
// contract's pair among the ties (second sweep) or the near pairs (sums that round).
template <int CAP>
SUBSETSUM_HD uint64_t mitm_finish(const Elements<CAP>& e, double target, const MitmScratch& s,
                                  int h1, int na, int nb, const SweepBest& best, Work& work) {
  const double best_err = best.err;
  const double near = best.near;

  if (best.count == 1 && pair_error(s, na, nb, best.i - 1, best.j, target) > near &&
      pair_error(s, na, nb, best.i + 1, best.j, target) > near &&
      pair_error(s, na, nb, best.i, best.j - 1, target) > near &&
      pair_error(s, na, nb, best.i, best.j + 1, target) > near) {
    return static_cast<uint64_t>(s.bits_a[best.i]) | (static_cast<uint64_t>(s.bits_b[best.j]) << h1);
  }
  if (!e.exact) return resolve_near_pairs(e, target, s, h1, na, nb, best.i, best.j, work);

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
  return best_bits;
}

// Best subset of the (unsorted, compacted, analyzed) elements; returns its compact bit pattern
// (first half in the low bits).
//
// Errors are compared as computed, err = |target - fl(a + b)|, and fl(a + b) is monotone in each
// of a and b, so along a row the error is unimodal. The first sweep (SweepChains over bands of
// rows, each starting next to its first row's nearest pairs) finds
// the smallest error E exactly. Every pair it skips that ties E has a visited tying pair as a
// grid neighbour or lies beyond one along its row, so one visited tie with no tying neighbour is
// the only one. Otherwise the second sweep: for each a the pairs with error E form a window of
// the second list that only moves down as a grows, and a sliding-window minimum of the
// second-half key gives each a's best partner in amortized O(1), however many sums are equal.
template <int CAP>
SUBSETSUM_HD uint64_t meet_in_the_middle_best(const Elements<CAP>& e, double target,
                                              const MitmScratch& s, Work& work) {
  const int m = e.count;
  const int h1 = m / 2, h2 = m - h1;
  const int na = half_sums(e.value, h1, s.sums_a, s.bits_a, s.tmp_sums, s.tmp_bits);
  const int nb = half_sums(e.value + h1, h2, s.sums_b, s.bits_b, s.tmp_sums, s.tmp_bits);
  const NearMargin margin = e.exact ? NearMargin{0.0, 0.0} : NearMargin{3.0 * e.slack, 0x1p-50};

  // Rows split into kSweepChains bands; each chain starts next to its first row's nearest pairs.
  SweepChain chain[kSweepChains];
  for (int c = 0; c < kSweepChains; ++c) {
    const int first = static_cast<int>((static_cast<long long>(na) * c) / kSweepChains);
    const int end = static_cast<int>((static_cast<long long>(na) * (c + 1)) / kSweepChains);
    chain[c] = sweep_band(s, na, nb, first, end, target);
  }
  for (bool any = true; any;) {
    any = false;
    for (int c = 0; c < kSweepChains; ++c) {
      if (chain[c].active()) {
        chain[c].step(s, target, margin);
        any = true;
      }
    }
  }
  SweepBest bests[kSweepChains];
  for (int c = 0; c < kSweepChains; ++c) bests[c] = chain[c].best;
  return mitm_finish(e, target, s, h1, na, nb, combine_sweeps(bests, kSweepChains), work);
}

}  // namespace subsetsum
