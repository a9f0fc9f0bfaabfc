// Search over subsets of exactly s elements, with elements sorted ascending.
//
// Depth-first over positions p_1 < p_2 < ... < p_s of the sorted values. At an inner level the
// sums reachable below a node form an interval [partial + s smallest of the suffix,
// partial + s largest]; prefix sums give both ends in O(1), and a node whose interval stays
// farther than the current threshold from the target is cut. Along a level both ends grow with
// the position, so the loop skips while the interval is below the target and stops once it is
// above. The last two levels are a two-pointer sweep (pairs) or a binary search (singles): a
// typical eps = 0.01 problem with n = 15 finishes after a few dozen candidate sums.
//
// Ties: every candidate that could tie with the best (equal values) is visited, and ties are
// decided by set_less, so the result is the contract's minimum whatever the order of the search.
#pragma once

#include <cmath>

#include "problem.hpp"

namespace subsetsum {

template <int CAP>
struct CardinalitySearch {
  // inputs
  const Elements<CAP>* e;  // sorted ascending
  const double* prefix;    // prefix[i] = value[0] + ... + value[i-1]
  double target;
  double slack;      // rounding tolerance for the pruning bounds
  bool first_hit;    // stop at the first candidate with error <= eps; cut at eps
  double eps;
  long long budget;  // search nodes left (first_hit only)

  // result: candidates are accepted while err < best_err (or equal and set_less); callers set
  // best_err to the error a candidate must beat (infinity: accept anything).
  double best_err;
  bool have;
  bool stopped;
  int best_pos[CAP];

  // search stack
  int pos[CAP];

  SUBSETSUM_HD double threshold() const { return (first_hit ? eps : best_err) + slack; }

  SUBSETSUM_HD void consider(double sum, int depth, int p1, int p2, int size) {
    const double err = fabs(target - sum);
    if (err > best_err) return;
    if (err == best_err) {
      if (!have) return;
      int cand[CAP];
      for (int i = 0; i < depth; ++i) cand[i] = pos[i];
      cand[depth] = p1;
      if (p2 >= 0) cand[depth + 1] = p2;
      if (!set_less(*e, cand, best_pos, size)) return;
    }
    for (int i = 0; i < depth; ++i) best_pos[i] = pos[i];
    best_pos[depth] = p1;
    if (p2 >= 0) best_pos[depth + 1] = p2;
    best_err = err;
    have = true;
    if (first_hit && err <= eps) stopped = true;
  }

  // Walks positions q from `from` by `step` (+1 or -1, staying in [lo, m)) while the candidate
  // could still tie with the best: the computed sum partial + v[q] is monotone in q, so the
  // computed error is unimodal and the walk can stop at the first one that is worse. Ties of
  // rounded errors (target 1, values 0 and 1e-20) are then all seen, not only equal values.
  SUBSETSUM_HD void walk(int depth, int lo, int from, int step, double partial, int p1,
                         int size) {
    const double* v = e->value;
    for (int q = from; q >= lo && q < e->count && !stopped; q += step) {
      const double sum = partial + v[q];
      if (fabs(target - sum) > best_err) break;
      if (p1 < 0) consider(sum, depth, q, -1, size);
      else consider(sum, depth, p1, q, size);
    }
  }

  // One element left to choose, from positions [lo, m).
  SUBSETSUM_HD void last_single(int depth, int lo, double partial, int size) {
    const double* v = e->value;
    // first position in [lo, m) whose sum lands above the target
    int a = lo, b = e->count;
    while (a < b) {
      const int mid = (a + b) >> 1;
      if (partial + v[mid] <= target) a = mid + 1; else b = mid;
    }
    walk(depth, lo, a - 1, -1, partial, -1, size);
    walk(depth, lo, a, +1, partial, -1, size);
  }

  // Two elements left to choose, from positions [lo, m): for each first position i, the
  // partners closest to the target lie on either side of a pointer that only moves down as i
  // moves up.
  SUBSETSUM_HD void last_pair(int depth, int lo, double partial, int size) {
    const double* v = e->value;
    const int m = e->count;
    const double rest = target - partial;
    int j = m - 1;
    for (int i = lo; i < m - 1 && !stopped; ++i) {
      if (v[i] + v[i + 1] - rest > threshold()) break;  // smallest pair from i on is too large
      const double pi = partial + v[i];
      while (j > i && pi + v[j] > target) --j;
      walk(depth, i + 1, j, -1, pi, i, size);
      walk(depth, i + 1, j + 1 > i + 1 ? j + 1 : i + 1, +1, pi, i, size);
    }
  }

  // Searches all subsets of exactly `size` elements (0 < size <= m).
  SUBSETSUM_HD void run(int size) {
    stopped = false;
    const int m = e->count;
    const double* v = e->value;
    if (size == 1) { last_single(0, 0, 0.0, 1); return; }
    if (size == 2) { last_pair(0, 0, 0.0, 2); return; }
    int next[CAP];
    double partial[CAP + 1];
    int depth = 0;
    next[0] = 0;
    partial[0] = 0.0;
    for (;;) {
      const int left = size - depth;  // elements still to choose, this level's included
      if (left <= 2) {
        if (left == 2) last_pair(depth, next[depth], partial[depth], size);
        else last_single(depth, next[depth], partial[depth], size);
        if (stopped || depth == 0) return;
        --depth;
        ++next[depth];
        continue;
      }
      const int q = next[depth];
      bool climb = q > m - left;
      if (!climb) {
        const int rest = left - 1;
        const double with_q = partial[depth] + v[q];
        const double low = with_q + (prefix[q + 1 + rest] - prefix[q + 1]);
        const double thr = threshold();
        if (low - target > thr) {
          climb = true;  // every later position starts higher still
        } else {
          const double high = with_q + (prefix[m] - prefix[m - rest]);
          if (target - high > thr) {
            ++next[depth];
            continue;
          }
          if (first_hit && --budget < 0) { stopped = true; return; }
          pos[depth] = q;
          partial[depth + 1] = with_q;
          next[depth + 1] = q + 1;
          ++depth;
          continue;
        }
      }
      if (depth == 0) return;
      --depth;
      ++next[depth];
    }
  }
};

template <int CAP>
SUBSETSUM_HD void prefix_sums(const Elements<CAP>& e, double* prefix) {
  prefix[0] = 0.0;
  for (int i = 0; i < e.count; ++i) prefix[i + 1] = prefix[i] + e.value[i];
}

}  // namespace subsetsum
