// CUDA kernels: the shared per-problem routine (solve_problem.hpp), one thread per problem.
//
// Thread mapping, and why: a problem has at most 64 elements (256 for fixed_size) and the
// typical one is settled after a few dozen candidate sums (min_size, first_hit), so one thread
// per problem keeps its elements in registers/local memory and needs no synchronisation; the
// batch supplies the parallelism (10^5-10^9 problems). Neighbouring threads read neighbouring
// rows, so the loads of a warp share cache lines. meet_in_the_middle needs 2^(n/2)-entry lists
// per problem: they live in global scratch, and the batch is launched in slices sized so the
// scratch fits in a quarter of the free device memory.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "launch.hpp"
// Not used by a kernel yet: included so every CUDA build compiles the shared generator for the
// device (virtual source networks draw the same bits here as on the CPU).
#include "subsetsum/philox.hpp"

namespace subsetsum {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " +
                             cudaGetErrorString(status));
}

constexpr int kThreadsPerBlock = 128;

struct MitmSlots {
  double* sums;      // 3 list blocks per slot, each `stride` long (layout: mitm_scratch)
  uint32_t* bits;
  long long stride;
};

template <class T, int CAP>
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
  solve_problem<T, CAP>(bases + b * n, mask ? mask + b * n : nullptr, n,
                        static_cast<double>(targets[b]), params, &scratch, out, b);
}

template <class T, int CAP>
void launch_range(const T* targets, const T* bases, const uint8_t* mask, long long batch, int n,
                  const SolveParams& params, const BatchOutput& out, cudaStream_t stream) {
  MitmSlots slots{nullptr, nullptr, 0};
  long long per_launch = batch;
  if (params.algorithm == ALG_MEET_IN_THE_MIDDLE) {
    slots.stride = mitm_list_stride(n);
    const long long bytes_per_slot = 3 * slots.stride * (sizeof(double) + sizeof(uint32_t));
    size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    per_launch = std::max<long long>(1, (long long)(free_bytes / 4) / bytes_per_slot);
    per_launch = std::min<long long>(per_launch, batch);
    check(cudaMallocAsync(&slots.sums, per_launch * 3 * slots.stride * sizeof(double), stream),
          "cudaMallocAsync");
    check(cudaMallocAsync(&slots.bits, per_launch * 3 * slots.stride * sizeof(uint32_t), stream),
          "cudaMallocAsync");
  }
  for (long long first = 0; first < batch; first += per_launch) {
    const long long count = std::min(per_launch, batch - first);
    const unsigned blocks = static_cast<unsigned>((count + kThreadsPerBlock - 1) / kThreadsPerBlock);
    solve_kernel<T, CAP><<<blocks, kThreadsPerBlock, 0, stream>>>(targets, bases, mask, first,
                                                                  count, n, params, out, slots);
    check(cudaGetLastError(), "kernel launch");
  }
  if (slots.sums != nullptr) {
    check(cudaFreeAsync(slots.sums, stream), "cudaFreeAsync");
    check(cudaFreeAsync(slots.bits, stream), "cudaFreeAsync");
  }
}

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
    if (count) check(cudaMalloc(&ptr, count * sizeof(U)), "cudaMalloc");
  }
  ~DeviceBuffer() { if (ptr) cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

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
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}

void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes) {
  int current = 0;
  check(cudaGetDevice(&current), "cudaGetDevice");
  check(cudaSetDevice(device), "cudaSetDevice");
  const cudaError_t status = cudaMemGetInfo(free_bytes, total_bytes);
  cudaSetDevice(current);
  check(status, "cudaMemGetInfo");
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
  check(cudaMemcpy(targets.ptr, host_targets, batch * dtype_size, cudaMemcpyHostToDevice), "copy in");
  check(cudaMemcpy(bases.ptr, host_bases, batch * n * dtype_size, cudaMemcpyHostToDevice), "copy in");
  if (host_mask) check(cudaMemcpy(mask.ptr, host_mask, batch * n, cudaMemcpyHostToDevice), "copy in");
  if (k) check(cudaMemcpy(indices.ptr, host_out.indices, batch * k * sizeof(int64_t), cudaMemcpyHostToDevice), "copy in");
  BatchOutput out{subsets.ptr, k ? indices.ptr : nullptr, sums.ptr, errors.ptr, sizes.ptr,
                  found.ptr, status.ptr, host_out.k};
  cuda_solve_device(targets.ptr, bases.ptr, host_mask ? mask.ptr : nullptr, dtype_size, batch, n,
                    params, out, 0);
  check(cudaDeviceSynchronize(), "kernel");
  if (host_out.subsets) check(cudaMemcpy(host_out.subsets, subsets.ptr, batch * sizeof(uint64_t), cudaMemcpyDeviceToHost), "copy out");
  if (k) check(cudaMemcpy(host_out.indices, indices.ptr, batch * k * sizeof(int64_t), cudaMemcpyDeviceToHost), "copy out");
  check(cudaMemcpy(host_out.sums, sums.ptr, batch * sizeof(double), cudaMemcpyDeviceToHost), "copy out");
  check(cudaMemcpy(host_out.errors, errors.ptr, batch * sizeof(double), cudaMemcpyDeviceToHost), "copy out");
  check(cudaMemcpy(host_out.sizes, sizes.ptr, batch * sizeof(int32_t), cudaMemcpyDeviceToHost), "copy out");
  check(cudaMemcpy(host_out.found, found.ptr, batch * sizeof(bool), cudaMemcpyDeviceToHost), "copy out");
  check(cudaMemcpy(host_out.status, status.ptr, batch * sizeof(uint8_t), cudaMemcpyDeviceToHost), "copy out");
}

}  // namespace subsetsum
