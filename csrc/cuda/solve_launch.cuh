// The solve kernel and its launcher, one (dtype, capacity) pair per instantiation. Each pair is
// compiled in a translation unit of its own (CMakeLists.txt writes them: solve_<dtype>_<cap>.cu),
// so the eight instantiations build in parallel: one file holding all of them took two minutes of
// a single core, most of it in ptxas.
//
// Thread mapping, and why: a problem has at most 64 elements (256 for fixed_size) and the
// typical one is settled after a few dozen candidate sums (min_size, first_hit), so one thread
// per problem keeps its elements in registers/local memory and needs no synchronisation; the
// batch supplies the parallelism (10^5-10^9 problems). Neighbouring threads read neighbouring
// rows, so the loads of a warp share cache lines. meet_in_the_middle needs 2^(n/2)-entry lists
// per problem: they live in global scratch, and the batch is launched in slices sized so the
// scratch fits in a quarter of the free device memory.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "launch.hpp"

namespace subsetsum {

inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " +
                             cudaGetErrorString(status));
}

// Solves problems [0, batch) on `stream`; defined below, instantiated once per pair.
template <class T, int CAP>
void launch_range(const T* targets, const T* bases, const uint8_t* mask, long long batch, int n,
                  const SolveParams& params, const BatchOutput& out, cudaStream_t stream);

// Threads per block of every solve kernel.
constexpr int kThreadsPerBlock = 128;

}  // namespace subsetsum

#ifdef SUBSETSUM_SOLVE_LAUNCH_DEFINITIONS

#include "min_size_two_pass.cuh"
#include "subsetsum/mitm_team.hpp"

namespace subsetsum {

namespace {

struct MitmSlots {
  double* sums;      // 3 list blocks per slot, each `stride` long (layout: mitm_scratch)
  uint32_t* bits;
  long long stride;
};

// One kernel per algorithm (solve_problem's ALG), so each keeps only its own search.
template <class T, int CAP, int ALG>
__global__ void __launch_bounds__(kThreadsPerBlock)
solve_kernel(const T* __restrict__ targets, const T* __restrict__ bases,
             const uint8_t* __restrict__ mask, long long first, long long count, int n,
             SolveParams params, BatchOutput out, MitmSlots slots) {
  const long long slot = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (slot >= count) return;
  const long long b = first + slot;
  MitmScratch scratch{};
  if (slots.sums != nullptr) {
    scratch = mitm_scratch(slots.sums + slot * 3 * slots.stride,
                           slots.bits + slot * 3 * slots.stride, slots.stride);
  }
  solve_problem<T, CAP, ALG>(bases + b * n, mask ? mask + b * n : nullptr, n,
                             static_cast<double>(targets[b]), params, &scratch, out, b);
}

// A thread block as a Team of mitm_team.hpp: each phase runs on every thread, then a barrier.
struct BlockTeam {
  __device__ int size() const { return static_cast<int>(blockDim.x); }
  template <class F>
  __device__ void each(F&& f) const {
    f(static_cast<int>(threadIdx.x));
    __syncthreads();
  }
};

// "best" by meet in the middle, one block per problem (mitm_team.hpp), blocks striding over the
// batch; each block owns one slot of list scratch (in L2 at n = 24: 150 KB a block).
template <class T, int CAP>
__global__ void __launch_bounds__(kMaxTeamThreads)
best_team_kernel(const T* __restrict__ targets, const T* __restrict__ bases,
                 const uint8_t* __restrict__ mask, long long first, long long count, int n,
                 SolveParams params, BatchOutput out, MitmSlots slots) {
  __shared__ MitmTeamShared<CAP> shared;
  const MitmScratch scratch = mitm_scratch(slots.sums + blockIdx.x * 3 * slots.stride,
                                           slots.bits + blockIdx.x * 3 * slots.stride, slots.stride);
  for (long long slot = blockIdx.x; slot < count; slot += gridDim.x) {
    const long long b = first + slot;
    solve_best_team<T, CAP>(BlockTeam{}, shared, bases + b * n, mask ? mask + b * n : nullptr, n,
                            static_cast<double>(targets[b]), params, scratch, out, b);
    __syncthreads();  // the shared state is the next problem's
  }
}

// The smallest n a capacity serves (with_capacity): an algorithm whose limit is below it never
// runs at that capacity, and its kernel is not compiled.
constexpr int smallest_n_of_capacity(int cap) {
  return cap <= 16 ? 1 : cap <= 32 ? 17 : cap <= kNarrowLimit ? 33 : kNarrowLimit + 1;
}

template <int CAP, int ALG>
constexpr bool algorithm_serves_capacity() {
  return kMaxElements[ALG] >= smallest_n_of_capacity(CAP);
}

// Launches solve_kernel<T, CAP, ALG> for params.algorithm.
template <class T, int CAP, class Launch>
void with_algorithm_kernel(int algorithm, Launch&& launch) {
  auto pick = [&](auto alg) {
    constexpr int kAlg = decltype(alg)::value;
    if constexpr (algorithm_serves_capacity<CAP, kAlg>()) {
      launch(solve_kernel<T, CAP, kAlg>);
    } else {
      throw std::invalid_argument("solve kernel: algorithm " + std::to_string(kAlg) +
                                  " does not serve n up to " + std::to_string(CAP));
    }
  };
  switch (algorithm) {
    case ALG_GRAY_CODE: pick(std::integral_constant<int, ALG_GRAY_CODE>{}); break;
    case ALG_MEET_IN_THE_MIDDLE: pick(std::integral_constant<int, ALG_MEET_IN_THE_MIDDLE>{}); break;
    case ALG_INCREASING_SIZE: pick(std::integral_constant<int, ALG_INCREASING_SIZE>{}); break;
    case ALG_EXACT_COMBINATIONS: pick(std::integral_constant<int, ALG_EXACT_COMBINATIONS>{}); break;
    case ALG_FIRST_HIT: pick(std::integral_constant<int, ALG_FIRST_HIT>{}); break;
    default: throw std::invalid_argument("solve kernel: unknown algorithm " + std::to_string(algorithm));
  }
}

}  // namespace

// Problems per slice of the two-pass min_size launch: its pending list (4 bytes a problem) stays
// at 256 MB.
constexpr long long kTwoPassSlice = 1LL << 26;

// min_size in two passes (min_size_two_pass.cuh), slice by slice, all on `stream`.
template <class T, int CAP>
void launch_min_size_two_pass(const T* targets, const T* bases, const uint8_t* mask,
                              long long batch, int n, const SolveParams& params, int first_sizes,
                              const BatchOutput& out, cudaStream_t stream) {
  const long long slice = std::min(batch, kTwoPassSlice);
  unsigned* pending = nullptr;
  cuda_check(cudaMallocAsync(&pending, (slice + 1) * sizeof(unsigned), stream), "cudaMallocAsync");
  unsigned* num_pending = pending + slice;
  int device = 0, sms = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
  for (long long first = 0; first < batch; first += slice) {
    const long long count = std::min(slice, batch - first);
    cuda_check(cudaMemsetAsync(num_pending, 0, sizeof(unsigned), stream), "cudaMemsetAsync");
    const unsigned blocks = static_cast<unsigned>((count + kThreadsPerBlock - 1) / kThreadsPerBlock);
    min_size_first_pass_kernel<T, CAP><<<blocks, kThreadsPerBlock, 0, stream>>>(
        targets, bases, mask, first, count, n, params, first_sizes, out, pending, num_pending);
    cuda_check(cudaGetLastError(), "kernel launch");
    // enough threads to fill the device whatever the list's length (read on the device)
    const long long thread_blocks = std::min<long long>(
        (count + kThreadsPerBlock - 1) / kThreadsPerBlock, 16LL * std::max(sms, 1));
    min_size_pending_kernel<T, CAP><<<static_cast<unsigned>(thread_blocks), kThreadsPerBlock, 0,
                                      stream>>>(targets, bases, mask, first, n, params, out,
                                                pending, num_pending);
    cuda_check(cudaGetLastError(), "kernel launch");
  }
  cuda_check(cudaFreeAsync(pending, stream), "cudaFreeAsync");
}

// "best" by best_team_kernel: `threads` per block, as many blocks as fill the device (8 per SM)
// and whose list scratch fits in a quarter of the free memory.
template <class T, int CAP>
void launch_best_team(const T* targets, const T* bases, const uint8_t* mask, long long batch,
                      int n, int threads, const SolveParams& params, const BatchOutput& out,
                      cudaStream_t stream) {
  MitmSlots slots{nullptr, nullptr, mitm_list_stride(n)};
  const long long bytes_per_block = 3 * slots.stride * (sizeof(double) + sizeof(uint32_t));
  size_t free_bytes = 0, total_bytes = 0;
  cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  int device = 0, sms = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
  long long blocks = std::min<long long>(batch, 8LL * std::max(sms, 1));
  blocks = std::max<long long>(1, std::min<long long>(blocks, (long long)(free_bytes / 4) / bytes_per_block));
  cuda_check(cudaMallocAsync(&slots.sums, blocks * 3 * slots.stride * sizeof(double), stream),
             "cudaMallocAsync");
  cuda_check(cudaMallocAsync(&slots.bits, blocks * 3 * slots.stride * sizeof(uint32_t), stream),
             "cudaMallocAsync");
  best_team_kernel<T, CAP><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
      targets, bases, mask, 0, batch, n, params, out, slots);
  cuda_check(cudaGetLastError(), "kernel launch");
  cuda_check(cudaFreeAsync(slots.sums, stream), "cudaFreeAsync");
  cuda_check(cudaFreeAsync(slots.bits, stream), "cudaFreeAsync");
}

template <class T, int CAP>
void launch_range(const T* targets, const T* bases, const uint8_t* mask, long long batch, int n,
                  const SolveParams& params, const BatchOutput& out, cudaStream_t stream) {
  if constexpr (CAP <= kNarrowLimit) {
    const int team = cuda_best_team_threads_for(n);
    if (params.algorithm == ALG_MEET_IN_THE_MIDDLE && team > 0) {
      launch_best_team<T, CAP>(targets, bases, mask, batch, n, team, params, out, stream);
      return;
    }
  }
  if constexpr (CAP <= kNarrowLimit) {
    const int first_sizes = cuda_min_size_first_pass_sizes();
    if (params.algorithm == ALG_INCREASING_SIZE && first_sizes > 0) {
      launch_min_size_two_pass<T, CAP>(targets, bases, mask, batch, n, params, first_sizes, out,
                                       stream);
      return;
    }
  }
  MitmSlots slots{nullptr, nullptr, 0};
  long long per_launch = batch;
  if (params.algorithm == ALG_MEET_IN_THE_MIDDLE) {
    slots.stride = mitm_list_stride(n);
    const long long bytes_per_slot = 3 * slots.stride * (sizeof(double) + sizeof(uint32_t));
    size_t free_bytes = 0, total_bytes = 0;
    cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    per_launch = std::max<long long>(1, (long long)(free_bytes / 4) / bytes_per_slot);
    per_launch = std::min<long long>(per_launch, batch);
    cuda_check(cudaMallocAsync(&slots.sums, per_launch * 3 * slots.stride * sizeof(double), stream),
          "cudaMallocAsync");
    cuda_check(cudaMallocAsync(&slots.bits, per_launch * 3 * slots.stride * sizeof(uint32_t), stream),
          "cudaMallocAsync");
  }
  for (long long first = 0; first < batch; first += per_launch) {
    const long long count = std::min(per_launch, batch - first);
    const unsigned blocks = static_cast<unsigned>((count + kThreadsPerBlock - 1) / kThreadsPerBlock);
    with_algorithm_kernel<T, CAP>(params.algorithm, [&](auto kernel) {
      kernel<<<blocks, kThreadsPerBlock, 0, stream>>>(targets, bases, mask, first, count, n,
                                                       params, out, slots);
    });
    cuda_check(cudaGetLastError(), "kernel launch");
  }
  if (slots.sums != nullptr) {
    cuda_check(cudaFreeAsync(slots.sums, stream), "cudaFreeAsync");
    cuda_check(cudaFreeAsync(slots.bits, stream), "cudaFreeAsync");
  }
}

}  // namespace subsetsum

#endif  // SUBSETSUM_SOLVE_LAUNCH_DEFINITIONS
