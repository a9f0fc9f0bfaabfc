// One problem from start to finish: load (dropping masked-out elements), run the chosen
// algorithm, write the solution. Called per problem by the OpenMP driver and per thread by the
// CUDA kernels.
#pragma once

#include <cmath>

#include "cardinality_search.hpp"
#include "gray_code.hpp"
#include "meet_in_the_middle.hpp"
#include "problem.hpp"

namespace subsetsum {

struct SolveParams {
  int mode;
  int algorithm;
  int max_size;  // min_size: largest size (<= n)
  int k;         // fixed_size: exact size
  double eps;
  long long work_limit;  // steps per problem (config.hpp: kDefaultWorkLimit)
  const int* stop;       // host: nonzero asks every search to stop (Ctrl-C); null on the device
};

// Output arrays of a batch (structure of arrays, problem b at index b).
struct BatchOutput {
  uint64_t* subsets;  // (B,) bit patterns, or null when indices are written
  int64_t* indices;   // (B, k) ascending indices, -1 padded; or null
  double* sums;
  double* errors;
  int32_t* sizes;
  bool* found;
  uint8_t* status;  // Status (config.hpp)
  int k;
};

// The chosen elements as a bitset over original indices (n <= 256).
struct ChosenSet {
  uint64_t words[kMaxElementsAll / 64];
  SUBSETSUM_HD void clear() {
    for (int w = 0; w < kMaxElementsAll / 64; ++w) words[w] = 0;
  }
  SUBSETSUM_HD void add(int i) { words[i >> 6] |= 1ull << (i & 63); }
};

// Sums the chosen elements in index order in float64 and writes problem b's results.
template <class T>
SUBSETSUM_HD void write_solution(const T* row, double target, const ChosenSet& chosen,
                                 bool feasible, const SolveParams& p, const BatchOutput& out,
                                 long long b, uint8_t status) {
  double sum = 0.0;
  int size = 0;
  for (int w = 0; w < kMaxElementsAll / 64; ++w) {
    uint64_t x = chosen.words[w];
    while (x) {
      const int i = (w << 6) + lowest_bit(x);
      x &= x - 1;
      sum += static_cast<double>(row[i]);
      if (out.indices != nullptr && size < out.k) out.indices[b * out.k + size] = i;
      ++size;
    }
  }
  const double err = fabs(target - sum);
  if (out.subsets != nullptr) out.subsets[b] = chosen.words[0];
  out.sums[b] = sum;
  out.errors[b] = err;
  out.sizes[b] = size;
  out.found[b] = feasible && err <= p.eps;
  out.status[b] = status;
}

// The first k elements: the contract's pick among k-subsets that all tie on error.
template <int CAP>
SUBSETSUM_HD void first_k(const Elements<CAP>& e, int k, ChosenSet& chosen) {
  chosen.clear();
  for (int i = 0; i < k; ++i) chosen.add(e.index[i]);
}

template <int CAP>
SUBSETSUM_HD void chosen_from_compact_bits(const Elements<CAP>& e, uint64_t bits, ChosenSet& c) {
  c.clear();
  while (bits) {
    c.add(e.index[lowest_bit(bits)]);
    bits &= bits - 1;
  }
}

template <int CAP>
SUBSETSUM_HD void chosen_from_positions(const Elements<CAP>& e, const int* pos, int size,
                                        ChosenSet& c) {
  c.clear();
  for (int i = 0; i < size; ++i) c.add(e.index[pos[i]]);
}

// e must be sorted and analyzed.
template <int CAP>
SUBSETSUM_HD void init_search(CardinalitySearch<CAP>& cs, const Elements<CAP>& e,
                              const double* prefix, double target, double eps, bool first_hit,
                              double accept_below, Work& work) {
  cs.e = &e;
  cs.prefix = prefix;
  cs.target = target;
  cs.slack = e.slack;
  cs.exact = e.exact;
  cs.first_hit = first_hit;
  cs.eps = eps;
  cs.work = &work;
  cs.best_err = accept_below;
  cs.have = false;
  cs.stopped = false;
}

// Gray code answers every mode from the best subset of each size.
template <int CAP>
SUBSETSUM_HD bool gray_code_solve(const Elements<CAP>& e, double target, const SolveParams& p,
                                  ChosenSet& chosen, Work& work) {
  SizeBests sb;
  gray_code_size_bests(e, target, sb, work);
  const int m = e.count;
  int pick = -1;
  if (p.mode == MODE_FIXED_SIZE) {
    if (p.k > m) { chosen.clear(); return false; }
    if (sb.err[p.k] == INFINITY) {  // stopped before meeting a k-subset: the first k elements
      first_k(e, p.k, chosen);
      return true;
    }
    pick = p.k;
  } else {
    const int smax = (p.mode == MODE_MIN_SIZE && p.max_size < m) ? p.max_size : m;
    if (p.mode == MODE_MIN_SIZE) {
      for (int s = 0; s <= smax; ++s)
        if (sb.err[s] <= p.eps) { pick = s; break; }
    }
    if (pick < 0) {
      pick = 0;
      for (int s = 1; s <= smax; ++s)
        if (sb.err[s] < sb.err[pick]) pick = s;
    }
  }
  chosen_from_compact_bits(e, sb.bits[pick], chosen);
  return true;
}

// Subsets of up to three elements are tried exhaustively (no sort, no pruning, a uniform loop)
// while there are at most this many of them: at n = 15 that covers sizes 1-3 (455 triples).
// Measured on n = 15 uniform problems, eps = 0.01, one thread: 2.4 M problems/s against 1.7 M
// with the sorted search from size 3 and 1.45 M from size 1; on a GPU the uniform loop also
// keeps a warp's threads in step. Tried and slower on the CPU: the minimum in two interleaved
// chains, and a flat list of pair sums with a separate locate pass.
constexpr int kExhaustiveMaxSize = 3;
constexpr double kExhaustiveMaxSubsets = 600.0;

SUBSETSUM_HD bool exhaustive_affordable(int m, int s) {
  return s <= kExhaustiveMaxSize && binomial(m, s) <= kExhaustiveMaxSubsets;
}

// How increasing_size_solve searches its exhaustive sizes: this default runs exhaustive_best for
// every size (CPU and GPU alike); the CPU driver passes a policy with a vectorised size-2 search
// and a larger affordable pair count (csrc/cpu/pair_search.hpp). A policy changes the speed only:
// it must return exhaustive_best's subset and error.
struct ScalarExhaustive {
  SUBSETSUM_HD static bool affordable(int m, int s) { return exhaustive_affordable(m, s); }
  template <int CAP>
  SUBSETSUM_HD static double best(const Elements<CAP>& e, double target, int s, int* chosen) {
    return exhaustive_best(e, target, s, chosen);
  }
};

// The best s-subset (1 <= s <= 3, s <= count) by trying them all in increasing bit-pattern
// order (largest index outermost) with strict improvement, so ties keep the contract's smaller
// pattern. Sums are taken in index order, as write_solution recomputes them; elements in the
// compact (original) order. Returns the error; `chosen` gets the original indices.
template <int CAP>
SUBSETSUM_HD double exhaustive_best(const Elements<CAP>& e, double target, int s, int* chosen) {
  const double* v = e.value;
  const int m = e.count;
  double best = INFINITY;
  int at_i = 0, at_j = 0, at_k = 0;
  if (s == 1) {
    for (int i = 0; i < m; ++i) {
      const double err = fabs(target - v[i]);
      if (SUBSETSUM_UNLIKELY(err < best)) {
        at_i = i;
        best = err;
      }
    }
  } else if (s == 2) {
    for (int j = 1; j < m; ++j) {
      for (int i = 0; i < j; ++i) {
        const double err = fabs(target - (v[i] + v[j]));
        if (SUBSETSUM_UNLIKELY(err < best)) {
          at_i = i;
          at_j = j;
          best = err;
        }
      }
    }
  } else {
    for (int k = 2; k < m; ++k) {
      for (int j = 1; j < k; ++j) {
        for (int i = 0; i < j; ++i) {
          const double err = fabs(target - ((v[i] + v[j]) + v[k]));
          if (SUBSETSUM_UNLIKELY(err < best)) {
            at_i = i;
            at_j = j;
            at_k = k;
            best = err;
          }
        }
      }
    }
  }
  chosen[0] = e.index[at_i];
  if (s > 1) chosen[1] = e.index[at_j];
  if (s > 2) chosen[2] = e.index[at_k];
  return best;
}

// The exhaustive sizes of increasing_size_solve: s = 1, 2, ... while s <= smax and s <= up_to,
// exhaustive_best is affordable and the best error so far is not within eps; a size replaces
// the best (best_index: original indices, best_size, best_err) only by beating it strictly.
// Returns the first size not tried. The GPU's first min_size pass runs it alone
// (csrc/cuda/min_size_two_pass.cuh).
template <class Exhaustive = ScalarExhaustive, int CAP>
SUBSETSUM_HD int exhaustive_sizes(const Elements<CAP>& e, double target, const SolveParams& p,
                                  int smax, int up_to, int* best_index, int& best_size,
                                  double& best_err) {
  int s = 1;
  for (; s <= smax && s <= up_to && Exhaustive::affordable(e.count, s) && !(best_err <= p.eps);
       ++s) {
    int found[kExhaustiveMaxSize];
    const double err = Exhaustive::best(e, target, s, found);
    if (err < best_err) {
      for (int i = 0; i < s; ++i) best_index[i] = found[i];
      best_size = s;
      best_err = err;
    }
  }
  return s;
}

// min_size: sizes 0, 1, 2, ... each searched exactly; the first size with a subset within eps
// wins. A larger size must beat the best error so far strictly (ties go to the smaller size),
// which is also what makes the no-solution fallback the best subset within max_size. Small sizes
// are tried exhaustively while affordable (their sums are index-order sums); most eps = 0.01
// problems end there without ever sorting. Larger sizes use the pruned search over the sorted
// elements, which stops where the work bound runs out (the best subset so far is returned).
template <class Exhaustive = ScalarExhaustive, int CAP>
SUBSETSUM_HD void increasing_size_solve(Elements<CAP>& e, double target, const SolveParams& p,
                                        ChosenSet& chosen, Work& work) {
  const int m = e.count;
  const int smax = p.max_size < m ? p.max_size : m;
  int best_index[CAP];  // original indices of the best subset so far
  int best_size = 0;
  double best_err = fabs(target);
  int s = exhaustive_sizes<Exhaustive>(e, target, p, smax, kExhaustiveMaxSize, best_index,
                                      best_size, best_err);
  if (s <= smax && !(best_err <= p.eps)) e.analyze();
  // Every error equal: nothing larger beats the best so far (the empty set at worst).
  if (s <= smax && !(best_err <= p.eps) && !e.all_errors_equal(target)) {
    e.sort_by_value();
    double prefix[CAP + 1];
    prefix_sums(e, prefix);
    CardinalitySearch<CAP> cs;
    init_search(cs, e, prefix, target, p.eps, false, best_err, work);
    for (; s <= smax && !(best_err <= p.eps) && !work.over(); ++s) {
      cs.best_err = best_err;  // a larger size must beat the best so far
      cs.have = false;
      cs.run(s);
      if (cs.have) {
        for (int i = 0; i < s; ++i) best_index[i] = e.index[cs.best_pos[i]];
        best_size = s;
        best_err = cs.best_err;
      }
    }
  }
  chosen.clear();
  for (int i = 0; i < best_size; ++i) chosen.add(best_index[i]);
}

// fixed_size, exact: every k-subset, pruned against the best so far (stopped by the work bound).
template <int CAP>
SUBSETSUM_HD bool exact_combinations_solve(Elements<CAP>& e, double target, const SolveParams& p,
                                           ChosenSet& chosen, Work& work) {
  chosen.clear();
  if (p.k > e.count) return false;
  if (p.k == 0) return true;
  if (exhaustive_affordable(e.count, p.k)) {
    int found[kExhaustiveMaxSize];
    exhaustive_best(e, target, p.k, found);
    for (int i = 0; i < p.k; ++i) chosen.add(found[i]);
    return true;
  }
  e.analyze();
  if (e.all_errors_equal(target)) {
    first_k(e, p.k, chosen);
    return true;
  }
  e.sort_by_value();
  double prefix[CAP + 1];
  prefix_sums(e, prefix);
  CardinalitySearch<CAP> cs;
  init_search(cs, e, prefix, target, p.eps, false, INFINITY, work);
  cs.run(p.k);
  if (!cs.have) {
    // The work bound ran out before any k-subset was reached: the k smallest are one.
    for (int i = 0; i < p.k; ++i) cs.best_pos[i] = i;
  }
  chosen_from_positions(e, cs.best_pos, p.k, chosen);
  return true;
}

// fixed_size, first hit: a subset within eps usually exists among the first few elements
// (about k + log2(4/eps) of them suffice for uniform bases), so search a prefix of the
// elements, sorted, stopping at the first hit, and double the prefix when it has none. The last
// round covers all elements, so a problem is reported not found only when no k-subset is within
// eps (or the work bound ran out: exhausted). A hit is decided on the index-order sum.
template <int CAP>
SUBSETSUM_HD bool first_hit_solve(Elements<CAP>& all, double target, const SolveParams& p,
                                  ChosenSet& chosen, Work& work) {
  chosen.clear();
  const int m = all.count, k = p.k;
  if (k > m) return false;
  if (k == 0) return true;
  all.analyze();
  if (all.all_errors_equal(target)) {
    first_k(all, k, chosen);
    return true;
  }
  // k + ceil(log2(4 / eps)), by doubling so host and device agree to the bit
  int need = k;
  for (double reach = 1.0; reach * p.eps < 4.0 && need < m; reach *= 2.0) ++need;
  if (need < 2 * k) need = 2 * k;
  int width = need + 2 < m ? need + 2 : m;
  Elements<CAP> e;
  double prefix[CAP + 1];
  CardinalitySearch<CAP> cs;
  double best_err = INFINITY;
  for (;;) {
    for (int i = 0; i < width; ++i) { e.value[i] = all.value[i]; e.index[i] = all.index[i]; }
    e.count = width;
    // The whole problem's bounds hold for any prefix: its subsets are subsets of the whole.
    e.abs_sum = all.abs_sum;
    e.exact = all.exact;
    e.slack = all.slack;
    e.sort_by_value();
    prefix_sums(e, prefix);
    init_search(cs, e, prefix, target, p.eps, true, INFINITY, work);
    cs.run(k);
    if (cs.have && cs.best_err < best_err) {
      best_err = cs.best_err;
      chosen_from_positions(e, cs.best_pos, k, chosen);
    }
    if (best_err <= p.eps || work.over() || width == m) break;
    width = 2 * width < m ? 2 * width : m;
  }
  if (best_err == INFINITY) {
    // Nothing came within reach of the target: the k smallest or the k largest elements are
    // then the closest k-subsets.
    const double low = prefix[k], high = prefix[width] - prefix[width - k];
    int pos[CAP];
    const int first = fabs(target - low) <= fabs(target - high) ? 0 : width - k;
    for (int i = 0; i < k; ++i) pos[i] = first + i;
    chosen_from_positions(e, pos, k, chosen);
  }
  return true;
}

// Problem b is not solved (status REJECTED or STOPPED): empty subset, found false.
SUBSETSUM_HD void write_unsolved(double target, const BatchOutput& out, long long b,
                                 uint8_t status) {
  if (out.subsets != nullptr) out.subsets[b] = 0;
  if (out.indices != nullptr)
    for (int i = 0; i < out.k; ++i) out.indices[b * out.k + i] = -1;
  out.sums[b] = 0.0;
  out.errors[b] = fabs(target);
  out.sizes[b] = 0;
  out.found[b] = false;
  out.status[b] = status;
}

// Solves problem b. `mitm` is scratch for meet_in_the_middle, else unused. ALG, when not -1, is
// the algorithm p.algorithm holds, fixed at compile time: the other searches drop out of the
// code, which on the GPU frees registers and stack for the one that runs (a kernel compiled
// for every algorithm held 1.9 KB of stack per thread even for the size-1..3 search).
template <class T, int CAP, int ALG = -1, class Exhaustive = ScalarExhaustive>
SUBSETSUM_HD void solve_problem(const T* row, const uint8_t* mask_row, int n, double target,
                                const SolveParams& p, const MitmScratch* mitm,
                                const BatchOutput& out, long long b) {
  Elements<CAP> e;
  e.load(row, mask_row, n, CAP);
  // Also false for NaN: only finite problems whose sums stay far from overflow are solved.
  if (!(e.abs_sum + fabs(target) < kSumLimit)) {
    write_unsolved(target, out, b, STATUS_REJECTED);
    return;
  }
  Work work;
  work.init(p.work_limit, p.stop);
  ChosenSet chosen;
  bool feasible = true;
  switch (ALG >= 0 ? ALG : p.algorithm) {
    case ALG_GRAY_CODE:
      feasible = gray_code_solve(e, target, p, chosen, work);
      break;
    case ALG_MEET_IN_THE_MIDDLE: {
      e.analyze();
      if (e.all_errors_equal(target)) {
        chosen.clear();  // every subset ties: the empty one is the smallest
        break;
      }
      const uint64_t bits = meet_in_the_middle_best(e, target, *mitm, work);
      chosen_from_compact_bits(e, bits, chosen);
      break;
    }
    case ALG_INCREASING_SIZE:
      increasing_size_solve<Exhaustive>(e, target, p, chosen, work);
      break;
    case ALG_EXACT_COMBINATIONS:
      feasible = exact_combinations_solve(e, target, p, chosen, work);
      break;
    default:
      feasible = first_hit_solve(e, target, p, chosen, work);
      break;
  }
  if (work.stopped) {
    write_unsolved(target, out, b, STATUS_STOPPED);
    return;
  }
  write_solution(row, target, chosen, feasible, p, out, b,
                 work.exhausted ? STATUS_EXHAUSTED : STATUS_DONE);
}

}  // namespace subsetsum
