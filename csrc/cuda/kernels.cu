// The CUDA backend's host entry points (launch.hpp): device queries, the dtype/capacity dispatch
// to the solve kernels (solve_launch.cuh, one translation unit per instantiation) and the
// host-array round trip.
#include <cuda_runtime.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "launch.hpp"
#include "solve_launch.cuh"
#include "subsetsum/mitm_team.hpp"

namespace subsetsum {

namespace {

template <class T>
void launch_typed(const T* targets, const T* bases, const uint8_t* mask, long long batch, int n,
                  const SolveParams& params, const BatchOutput& out, cudaStream_t stream) {
  with_capacity(n, [&](auto cap) {
    launch_range<T, decltype(cap)::value>(targets, bases, mask, batch, n, params, out, stream);
  });
}

template <class U>
struct DeviceBuffer {
  U* ptr = nullptr;
  explicit DeviceBuffer(size_t count) {
    if (count) cuda_check(cudaMalloc(&ptr, count * sizeof(U)), "cudaMalloc");
  }
  ~DeviceBuffer() { if (ptr) cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

namespace {
// Sizes 1-3 first: measured on an H200 against 0 (one pass), 1 and 2 (benchmarks/results/
// solve-gpu.md): 1.03x (float32) and 1.06x (float64) the one pass at n = 15, 1.72x at n = 30,
// where size 3 is not exhaustive and the second pass takes the problems that need it. Sizes 1
// or 2 alone are slower at n = 15 (0.34x, 0.45x): too many problems need size 3 and are solved
// twice over.
std::atomic<int> min_size_first_pass_sizes{kExhaustiveMaxSize};
}  // namespace

int cuda_min_size_first_pass_sizes() { return min_size_first_pass_sizes.load(); }
void cuda_set_min_size_first_pass_sizes(int sizes) {
  if (sizes < 0 || sizes > kExhaustiveMaxSize)
    throw std::invalid_argument("sizes: expected 0 (one pass) to " +
                                std::to_string(kExhaustiveMaxSize) + ", got " + std::to_string(sizes));
  min_size_first_pass_sizes.store(sizes);
}

namespace {
// -1: by n (cuda_best_team_threads_for). Measured on an H200 (benchmarks/results/solve-gpu.md,
// float32, one problem per thread / blocks of 32 / 64 / 128 / 256, problems/s): n = 13: 1.2e7 /
// 5.6e7 / 5.4e7 / 4.2e7 / 1.9e7; n = 16: 4.3e6 / 3.1e7 / 3.7e7 / 3.2e7 / 1.6e7; n = 18: 2.0e6 /
// 1.4e7 / 2.2e7 / 2.4e7 / 1.3e7; n = 20: 9.9e5 / 6.4e6 / 9.6e6 / 1.3e7 / 9.1e6; n = 24: 2.4e5 /
// 9.2e5 / 1.3e6 / 1.5e6 / 1.2e6. A team wins everywhere; its best size grows with the lists.
std::atomic<int> best_team_threads{-1};
}  // namespace

int cuda_best_team_threads() { return best_team_threads.load(); }
int cuda_best_team_threads_for(int n) {
  const int setting = best_team_threads.load();
  if (setting >= 0) return setting;
  return n <= 15 ? 32 : n <= 17 ? 64 : 128;
}
void cuda_set_best_team_threads(int threads) {
  if (threads != -1 && (threads < 0 || threads > kMaxTeamThreads || threads % 32 != 0))
    throw std::invalid_argument("threads: expected -1 (by n), 0 (one problem per thread) or a multiple of 32 "
                                "up to " + std::to_string(kMaxTeamThreads) + ", got " + std::to_string(threads));
  best_team_threads.store(threads);
}

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: report none, leave no sticky error
    return 0;
  }
  return count;
}

int cuda_runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return v;
}

std::string cuda_device_name(int device) {
  cudaDeviceProp prop{};
  cuda_check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}

void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes) {
  int current = 0;
  cuda_check(cudaGetDevice(&current), "cudaGetDevice");
  cuda_check(cudaSetDevice(device), "cudaSetDevice");
  const cudaError_t status = cudaMemGetInfo(free_bytes, total_bytes);
  cudaSetDevice(current);
  cuda_check(status, "cudaMemGetInfo");
}

void cuda_solve_device(const void* targets, const void* bases, const uint8_t* mask, int dtype_size,
                       long long batch, int n, const SolveParams& params, const BatchOutput& out,
                       intptr_t stream) {
  if (batch <= 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  if (dtype_size == 4)
    launch_typed(static_cast<const float*>(targets), static_cast<const float*>(bases), mask, batch,
                 n, params, out, s);
  else
    launch_typed(static_cast<const double*>(targets), static_cast<const double*>(bases), mask,
                 batch, n, params, out, s);
}

void cuda_solve_host(const void* host_targets, const void* host_bases, const uint8_t* host_mask,
                     int dtype_size, long long batch, int n, const SolveParams& params,
                     const BatchOutput& host_out) {
  if (batch <= 0) return;
  const size_t k = host_out.indices ? static_cast<size_t>(host_out.k) : 0;
  DeviceBuffer<char> targets(batch * dtype_size), bases(batch * n * dtype_size);
  DeviceBuffer<uint8_t> mask(host_mask ? batch * n : 0);
  DeviceBuffer<uint64_t> subsets(host_out.subsets ? batch : 0);
  DeviceBuffer<int64_t> indices(batch * k);
  DeviceBuffer<double> sums(batch), errors(batch);
  DeviceBuffer<int32_t> sizes(batch);
  DeviceBuffer<bool> found(batch);
  DeviceBuffer<uint8_t> status(batch);
  cuda_check(cudaMemcpy(targets.ptr, host_targets, batch * dtype_size, cudaMemcpyHostToDevice), "copy in");
  cuda_check(cudaMemcpy(bases.ptr, host_bases, batch * n * dtype_size, cudaMemcpyHostToDevice), "copy in");
  if (host_mask) cuda_check(cudaMemcpy(mask.ptr, host_mask, batch * n, cudaMemcpyHostToDevice), "copy in");
  if (k) cuda_check(cudaMemcpy(indices.ptr, host_out.indices, batch * k * sizeof(int64_t), cudaMemcpyHostToDevice), "copy in");
  BatchOutput out{subsets.ptr, k ? indices.ptr : nullptr, sums.ptr, errors.ptr, sizes.ptr,
                  found.ptr, status.ptr, host_out.k};
  cuda_solve_device(targets.ptr, bases.ptr, host_mask ? mask.ptr : nullptr, dtype_size, batch, n,
                    params, out, 0);
  cuda_check(cudaDeviceSynchronize(), "kernel");
  if (host_out.subsets) cuda_check(cudaMemcpy(host_out.subsets, subsets.ptr, batch * sizeof(uint64_t), cudaMemcpyDeviceToHost), "copy out");
  if (k) cuda_check(cudaMemcpy(host_out.indices, indices.ptr, batch * k * sizeof(int64_t), cudaMemcpyDeviceToHost), "copy out");
  cuda_check(cudaMemcpy(host_out.sums, sums.ptr, batch * sizeof(double), cudaMemcpyDeviceToHost), "copy out");
  cuda_check(cudaMemcpy(host_out.errors, errors.ptr, batch * sizeof(double), cudaMemcpyDeviceToHost), "copy out");
  cuda_check(cudaMemcpy(host_out.sizes, sizes.ptr, batch * sizeof(int32_t), cudaMemcpyDeviceToHost), "copy out");
  cuda_check(cudaMemcpy(host_out.found, found.ptr, batch * sizeof(bool), cudaMemcpyDeviceToHost), "copy out");
  cuda_check(cudaMemcpy(host_out.status, status.ptr, batch * sizeof(uint8_t), cudaMemcpyDeviceToHost), "copy out");
}

}  // namespace subsetsum
