// Search over subsets of exactly s elements, with elements sorted ascending.
//
// Depth-first over positions p_1 < p_2 < ... < p_s of the sorted values. At an inner level the
// sums reachable below a node form an interval [partial + s smallest of the suffix,
// partial + s largest]; prefix sums give both ends in O(1), and a node whose interval (widened by
// the rounding slack, see problem.hpp) cannot hold a sum that the current best would accept is
// cut. Along a level both ends grow with the position, so the loop skips while the interval is
// below the target and stops once it is above. The last two levels are a two-pointer sweep
// (pairs) or a binary search (singles): a typical eps = 0.01 problem with n = 15 finishes after a
// few dozen candidate sums.
//
// Errors are the contract's (problem.hpp): when sums are exact the computed sum is the
// index-order sum; otherwise every candidate that could still win is re-added in index order.
// Ties: every candidate that could tie with the best is visited, and ties are decided by
// set_less, so the result is the contract's minimum whatever the order of the search. When sums
// are exact, a subset that skips an element equal to one it takes later is never visited: the
// same subset with the earlier element instead has the same sum and is smaller in the contract's
// order (this keeps many equal values from costing C(m, s) visits).
//
// Every node, pair-sweep step and candidate costs one step of the problem's Work; when the work
// bound runs out (or Ctrl-C raised the stop flag) the search stops with what it has.
#pragma once

#include <cmath>

#include "problem.hpp"

namespace subsetsum {

template <int CAP>
struct CardinalitySearch {
  // inputs
  const Elements<CAP>* e;  // sorted ascending, analyzed
  const double* prefix;    // prefix[i] = value[0] + ... + value[i-1]
  double target;
  double slack;      // e->slack
  bool exact;        // e->exact
  bool first_hit;    // stop at the first candidate with error <= eps; cut at eps
  double eps;
  Work* work;

  // result: candidates are accepted while err < best_err (or equal and set_less); callers set
  // best_err to the error a candidate must beat (infinity: accept anything) and `have` to false.
  double best_err;
  bool have;
  bool stopped;  // a hit (first_hit) or the work bound: unwind
  int best_pos[CAP];

  // search stack
  int pos[CAP];

  // Could a node whose candidates' errors are at least `floor` hold one worth visiting?
  SUBSETSUM_HD bool worth(double floor) const {
    if (first_hit) return floor <= eps;
    return floor < best_err || (floor == best_err && have);
  }

  // Could a candidate whose error is at least `floor` be taken (first_hit: a hit, or a better
  // best-seen subset; ties there keep the first seen, the choice does not matter)?
  SUBSETSUM_HD bool takes_floor(double floor) const {
    if (first_hit) return floor <= eps || floor < best_err;
    return floor < best_err || (floor == best_err && have);
  }

  // The smallest contract error of a candidate whose computed sum is `sum`.
  SUBSETSUM_HD double sum_floor(double sum) const {
    return exact ? fabs(target - sum) : error_floor(target, sum - slack, sum + slack);
  }

  SUBSETSUM_HD bool spend(long long steps) {
    if (work->spend(steps)) return true;
    stopped = true;
    return false;
  }

  // A candidate: positions pos[0..depth) then p1 (and p2 when >= 0), computed sum `sum`. Costs a
  // step per element for whatever it copies, re-adds or compares.
  SUBSETSUM_HD void consider(double sum, int depth, int p1, int p2, int size) {
    double err = fabs(target - sum);
    if (!exact && !takes_floor(error_floor(target, sum - slack, sum + slack))) return;
    if (exact && (err > best_err || (err == best_err && (!have || first_hit)))) return;
    int cand[CAP];
    for (int i = 0; i < depth; ++i) cand[i] = pos[i];
    cand[depth] = p1;
    if (p2 >= 0) cand[depth + 1] = p2;
    if (!spend(size)) return;
    if (!exact) {
      err = fabs(target - e->index_order_sum(cand, size));
      if (err > best_err || (err == best_err && (!have || first_hit))) return;
    }
    if (err == best_err && !set_less(*e, cand, best_pos, size)) return;
    for (int i = 0; i < size; ++i) best_pos[i] = cand[i];
    best_err = err;
    have = true;
    if (first_hit && err <= eps) stopped = true;
  }

  // May position q be taken, the first free position at its level being lo? (Exact sums: not
  // when it skips an equal value, see the file comment.)
  SUBSETSUM_HD bool takes(int q, int lo) const {
    return !exact || q == lo || e->value[q - 1] != e->value[q];
  }

  // Walks positions q from `from` by `step` (+1 or -1, staying in [lo, m)) while the candidate
  // could still tie with the best: the computed sum partial + v[q] is monotone in q, so its error
  // floor is unimodal and the walk can stop at the first one that is worse. Ties of rounded
  // errors (target 1, values 0 and 1e-20) are then all seen, not only equal values.
  SUBSETSUM_HD void walk(int depth, int lo, int from, int step, double partial, int p1,
                         int size) {
    const double* v = e->value;
    long long steps = 0;
    for (int q = from; q >= lo && q < e->count && !stopped; q += step) {
      ++steps;
      const double sum = partial + v[q];
      if (!takes_floor(sum_floor(sum))) break;
      if (!takes(q, lo)) continue;
      if (p1 < 0) consider(sum, depth, q, -1, size);
      else consider(sum, depth, p1, q, size);
    }
    spend(steps);
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
    if (!spend(1)) return;
    walk(depth, lo, a - 1, -1, partial, -1, size);
    walk(depth, lo, a, +1, partial, -1, size);
  }

  // Two elements left to choose, from positions [lo, m): for each first position i, the
  // partners closest to the target lie on either side of a pointer that only moves down as i
  // moves up.
  SUBSETSUM_HD void last_pair(int depth, int lo, double partial, int size) {
    const double* v = e->value;
    const int m = e->count;
    int j = m - 1;
    for (int i = lo; i < m - 1 && !stopped; ++i) {
      const double low = partial + v[i] + v[i + 1] - slack;  // smallest pair sum from i on
      if (low > target && !worth(fabs(target - low))) break;
      const double pi = partial + v[i];
      long long steps = 1;
      for (; j > i && pi + v[j] > target; --j) ++steps;
      if (!spend(steps)) return;
      if (!takes(i, lo)) continue;
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
    int first[CAP];  // first free position of each level
    double partial[CAP + 1];
    int depth = 0;
    next[0] = 0;
    first[0] = 0;
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
      if (!spend(1)) return;
      bool climb = q > m - left;
      if (!climb) {
        const int rest = left - 1;
        const double with_q = partial[depth] + v[q];
        const double low = with_q + (prefix[q + 1 + rest] - prefix[q + 1]) - slack;
        if (low > target && !worth(fabs(target - low))) {
          climb = true;  // every later position starts higher still
        } else {
          const double high = with_q + (prefix[m] - prefix[m - rest]) + slack;
          if ((high < target && !worth(fabs(target - high))) || !takes(q, first[depth])) {
            ++next[depth];
            continue;
          }
          pos[depth] = q;
          partial[depth + 1] = with_q;
          next[depth + 1] = q + 1;
          first[depth + 1] = q + 1;
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
