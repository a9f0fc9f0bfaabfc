// min_size (increasing_size) on the GPU in two passes. Included by solve_launch.cuh.
//
// Why: with one thread per problem, a warp runs until its slowest problem is done. Most eps = 0.01
// problems end in the exhaustive sizes 1-3 of increasing_size_solve after a few hundred sums; a
// few need larger sizes and the pruned search. Nsight Compute on an H200 (min_size, n = 15,
// float32, one pass) measured 6.9 of 32 threads active per warp on average. So:
//   pass 1, one thread per problem: the exhaustive sizes up to `first_sizes` (exhaustive_best,
//     the CPU's code). A problem settled there is written; any other goes on a list (one atomic
//     per warp);
//   pass 2, one thread per listed problem: the whole per-problem routine (solve_problem), as the
//     one-pass kernel runs it for every problem. Its warps hold only the hard problems.
// Pass 1 settles a problem only where increasing_size_solve stops within those sizes, with the
// same sums in the same order, so the answers are those of the CPU backend. A warp-per-problem
// first pass (lanes taking turns through the size-1..3 subsets) was measured too: 0.56x the one
// pass at n = 15 (benchmarks/results/solve-gpu.md); a warp spent on one easy problem costs more
// than the divergence it saves.
#pragma once

#include <cuda_runtime.h>

#include "subsetsum/solve_problem.hpp"

namespace subsetsum {

// Problems [first, first + count): pass 1. Problems it does not settle are appended (as offsets
// from first) to pending[0, *num_pending).
template <class T, int CAP>
__global__ void __launch_bounds__(kThreadsPerBlock)
min_size_first_pass_kernel(const T* __restrict__ targets, const T* __restrict__ bases,
                           const uint8_t* __restrict__ mask, long long first, long long count,
                           int n, SolveParams p, int first_sizes, BatchOutput out,
                           unsigned* pending, unsigned* num_pending) {
  const long long slot = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (slot >= count) return;
  const long long b = first + slot;
  const T* row = bases + b * n;
  Elements<CAP> e;
  e.load(row, mask ? mask + b * n : nullptr, n, CAP);
  const double target = static_cast<double>(targets[b]);
  const int m = e.count;
  const int smax = p.max_size < m ? p.max_size : m;
  int best_index[kExhaustiveMaxSize];
  int best_size = 0;
  double best_err = fabs(target);
  // rejected problems (sums near overflow, NaN) are pass 2's to report
  bool defer = !(e.abs_sum + fabs(target) < kSumLimit);
  if (!defer) {
    const int s =
        exhaustive_sizes(e, target, p, smax, first_sizes, best_index, best_size, best_err);
    // increasing_size_solve goes on past these sizes exactly in this case
    defer = s <= smax && !(best_err <= p.eps);
  }
  // one atomic per warp: the deferring lanes take consecutive places
  const unsigned lanes = __ballot_sync(__activemask(), defer);
  if (defer) {
    const int lane = threadIdx.x & 31;
    const int leader = __ffs(lanes) - 1;
    unsigned base = 0;
    if (lane == leader) base = atomicAdd(num_pending, static_cast<unsigned>(__popc(lanes)));
    base = __shfl_sync(lanes, base, leader);
    pending[base + __popc(lanes & ((1u << lane) - 1u))] = static_cast<unsigned>(slot);
    return;
  }
  ChosenSet chosen;
  chosen.clear();
  for (int i = 0; i < best_size; ++i) chosen.add(best_index[i]);
  write_solution(row, target, chosen, true, p, out, b, STATUS_DONE);
}

// Pass 2: the listed problems, one thread each, through the whole per-problem routine.
template <class T, int CAP>
__global__ void __launch_bounds__(kThreadsPerBlock)
min_size_pending_kernel(const T* __restrict__ targets, const T* __restrict__ bases,
                        const uint8_t* __restrict__ mask, long long first, int n, SolveParams p,
                        BatchOutput out, const unsigned* __restrict__ pending,
                        const unsigned* __restrict__ num_pending) {
  const unsigned total = *num_pending;
  const unsigned stride = gridDim.x * blockDim.x;
  for (unsigned t = blockIdx.x * blockDim.x + threadIdx.x; t < total; t += stride) {
    const long long b = first + pending[t];
    MitmScratch scratch{};
    solve_problem<T, CAP, ALG_INCREASING_SIZE>(bases + b * n, mask ? mask + b * n : nullptr, n,
                                               static_cast<double>(targets[b]), p, &scratch, out,
                                               b);
  }
}

}  // namespace subsetsum
