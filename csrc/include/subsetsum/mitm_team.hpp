// Meet in the middle by a team of threads on one problem: the GPU's block-per-problem "best".
//
// One thread per problem holds its two 2^(n/2)-entry lists in memory of its own and walks them
// alone, so at n = 24 a warp's 32 threads each stream 200 KB of scratch and the kernel is bound
// by memory traffic it cannot coalesce (benchmarks/results/solve-gpu.md: 2.3e5 problems/s on an
// H200). Here the threads of a block build one problem's lists together (each level's merge cut
// into one merge-path range per thread) and sweep them in one band of rows per thread; thread 0
// then combines the bands and settles ties exactly as meet_in_the_middle_best does, so the answer
// is the contract's for any number of threads (meet_in_the_middle.hpp explains why a split into
// bands does not change it).
//
// A Team runs a phase on every thread and then waits for all of them: on the GPU a thread block
// (each(f): f(threadIdx.x), then __syncthreads()), on the host SequentialTeam (f(0), f(1), ...),
// which is how the CPU tests run the code the kernel runs. Everything outside a phase must
// compute the same values on every thread; what one thread writes for the others lives in the
// team's shared state (MitmTeamShared, shared memory on the GPU) or in the scratch lists.
#pragma once

#include "meet_in_the_middle.hpp"
#include "solve_problem.hpp"

namespace subsetsum {

// Threads of a team, at most (the size of MitmTeamShared::bests).
constexpr int kMaxTeamThreads = 256;

// A team on the host: its threads' parts of a phase run one after the other.
struct SequentialTeam {
  int threads;
  SUBSETSUM_HD int size() const { return threads; }
  template <class F>
  SUBSETSUM_HD void each(F&& f) const {
    for (int t = 0; t < threads; ++t) f(t);
  }
};

// half_sums with the merge of every level cut into one merge-path range per thread, each a
// forward chain from its split: the result of one sequential merge, entry for entry.
template <class Team>
SUBSETSUM_HD int half_sums_team(const Team& team, const double* values, int h, double* sums,
                                uint32_t* bits, double* tmp_sums, uint32_t* tmp_bits) {
  double* cur_s = (h % 2 == 0) ? sums : tmp_sums;
  uint32_t* cur_b = (h % 2 == 0) ? bits : tmp_bits;
  double* nxt_s = (h % 2 == 0) ? tmp_sums : sums;
  uint32_t* nxt_b = (h % 2 == 0) ? tmp_bits : bits;
  const int threads = team.size();
  int len = 1;
  for (int k = 0; k <= h; ++k) {
    team.each([&](int t) {  // the sentinels of the list about to be read (and its first entry)
      if (t != 0) return;
      if (k == 0) {
        cur_s[0] = 0.0;
        cur_b[0] = 0;
      }
      cur_s[-1] = -INFINITY;
      cur_s[len] = INFINITY;
      cur_b[-1] = 0;
      cur_b[len] = 0;
    });
    if (k == h) break;
    const double x = values[k];
    const uint32_t bit = 1u << k;
    team.each([&](int t) {
      const int p0 = static_cast<int>((2LL * len * t) / threads);
      const int p1 = static_cast<int>((2LL * len * (t + 1)) / threads);
      if (p0 >= p1) return;
      const int i0 = merge_split(cur_s, len, x, p0);
      MergeChain<true> chain{i0, p0 - i0, p0};
      for (int p = p0; p < p1; ++p) chain.step(cur_s, cur_b, x, bit, nxt_s, nxt_b);
    });
    len *= 2;
    double* ts = cur_s; cur_s = nxt_s; nxt_s = ts;
    uint32_t* tb = cur_b; cur_b = nxt_b; nxt_b = tb;
  }
  return len;
}

// meet_in_the_middle_best by a team: the lists built together, the first sweep in one band of
// rows per thread (bests: one entry per thread), the rest on thread 0. Returns the compact bit
// pattern (also left in *answer, which every thread reads).
template <int CAP, class Team>
SUBSETSUM_HD uint64_t meet_in_the_middle_best_team(const Team& team, const Elements<CAP>& e,
                                                   double target, const MitmScratch& s,
                                                   SweepBest* bests, uint64_t* answer,
                                                   Work& work) {
  const int m = e.count;
  const int h1 = m / 2, h2 = m - h1;
  const int na = half_sums_team(team, e.value, h1, s.sums_a, s.bits_a, s.tmp_sums, s.tmp_bits);
  const int nb = half_sums_team(team, e.value + h1, h2, s.sums_b, s.bits_b, s.tmp_sums, s.tmp_bits);
  const NearMargin margin = e.exact ? NearMargin{0.0, 0.0} : NearMargin{3.0 * e.slack, 0x1p-50};
  const int threads = team.size();
  team.each([&](int t) {
    const int first = static_cast<int>((static_cast<long long>(na) * t) / threads);
    const int end = static_cast<int>((static_cast<long long>(na) * (t + 1)) / threads);
    SweepChain chain = sweep_band(s, na, nb, first, end, target);
    while (chain.active()) chain.step(s, target, margin);
    bests[t] = chain.best;
  });
  team.each([&](int t) {
    if (t == 0) *answer = mitm_finish(e, target, s, h1, na, nb, combine_sweeps(bests, threads), work);
  });
  return *answer;
}

// What the threads of a team share while they solve one problem.
template <int CAP>
struct MitmTeamShared {
  Elements<CAP> e;
  SweepBest bests[kMaxTeamThreads];
  uint64_t answer;
  int run;  // 1: meet in the middle runs; 0: thread 0 settled the problem alone
};

// Problem b of a "best" batch solved by a team (team.size() <= kMaxTeamThreads): the same
// outputs as solve_problem<T, CAP, ALG_MEET_IN_THE_MIDDLE>, written by thread 0.
template <class T, int CAP, class Team>
SUBSETSUM_HD void solve_best_team(const Team& team, MitmTeamShared<CAP>& shared, const T* row,
                                  const uint8_t* mask_row, int n, double target,
                                  const SolveParams& p, const MitmScratch& scratch,
                                  const BatchOutput& out, long long b) {
  team.each([&](int t) {
    if (t != 0) return;
    Elements<CAP>& e = shared.e;
    e.load(row, mask_row, n, CAP);
    shared.run = 0;
    if (!(e.abs_sum + fabs(target) < kSumLimit)) {
      write_unsolved(target, out, b, STATUS_REJECTED);
      return;
    }
    e.analyze();
    if (e.all_errors_equal(target)) {  // every subset ties: the empty one is the smallest
      ChosenSet chosen;
      chosen.clear();
      write_solution(row, target, chosen, true, p, out, b, STATUS_DONE);
      return;
    }
    shared.run = 1;
  });
  if (!shared.run) return;
  Work work;
  work.init(p.work_limit, p.stop);
  const uint64_t bits =
      meet_in_the_middle_best_team(team, shared.e, target, scratch, shared.bests, &shared.answer, work);
  team.each([&](int t) {
    if (t != 0) return;
    if (work.stopped) {
      write_unsolved(target, out, b, STATUS_STOPPED);
      return;
    }
    ChosenSet chosen;
    chosen_from_compact_bits(shared.e, bits, chosen);
    write_solution(row, target, chosen, true, p, out, b,
                   work.exhausted ? STATUS_EXHAUSTED : STATUS_DONE);
  });
}

}  // namespace subsetsum
