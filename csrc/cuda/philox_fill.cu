// Philox source draws on the device (the weight contract of subsetsum/philox.hpp): the same bits
// as the CPU fills of csrc/cpu/philox_fill.cpp, for a block of consecutive rows and the columns
// 0 .. num_cols - 1, row-major. One thread per group of four columns: one Philox call gives
// them all.
#include <cuda_runtime.h>

#include "launch.hpp"
#include "solve_launch.cuh"
#include "subsetsum/philox.hpp"

namespace subsetsum {

namespace {

constexpr int kFillThreads = 256;

template <class Write>
__global__ void __launch_bounds__(kFillThreads)
philox_rows_kernel(PhiloxKey key, uint32_t stream, uint32_t layer, uint32_t first_row,
                   long long num_rows, long long num_cols, Write write) {
  const long long groups_per_row = (num_cols + 3) / 4;
  const long long g = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (g >= num_rows * groups_per_row) return;
  const long long r = g / groups_per_row;
  const long long col = (g - r * groups_per_row) * 4;
  const Philox4 words = philox_weight_block(key, stream, layer,
                                            first_row + static_cast<uint32_t>(r), col);
  for (int w = 0; w < 4 && col + w < num_cols; ++w) write(r * num_cols + col + w, words.w[w]);
}

struct WriteUniform {
  float* out;
  __device__ void operator()(long long at, uint32_t x) const { out[at] = uniform_pm1(x); }
};

struct WriteBernoulli {
  bool* out;
  uint64_t threshold;
  __device__ void operator()(long long at, uint32_t x) const { out[at] = bernoulli_bit(x, threshold); }
};

template <class Write>
void launch_rows(uint64_t seed, uint32_t stream, uint32_t layer, uint32_t first_row,
                 long long num_rows, long long num_cols, Write write, intptr_t cuda_stream) {
  const long long threads = num_rows * ((num_cols + 3) / 4);
  if (threads <= 0) return;
  const unsigned blocks = static_cast<unsigned>((threads + kFillThreads - 1) / kFillThreads);
  philox_rows_kernel<<<blocks, kFillThreads, 0, reinterpret_cast<cudaStream_t>(cuda_stream)>>>(
      philox_key(seed), stream, layer, first_row, num_rows, num_cols, write);
  cuda_check(cudaGetLastError(), "philox kernel launch");
}

// One thread per value: the columns of a gather are arbitrary (a block's group members), so
// neighbouring values rarely share a Philox call and one call per value costs no more.
template <class Write>
__global__ void __launch_bounds__(kFillThreads)
philox_gather_kernel(PhiloxKey key, uint32_t stream, uint32_t layer, const int64_t* rows,
                     const int64_t* cols, long long num_cols, long long count, bool outer,
                     Write write) {
  const long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  const long long r = outer ? i / num_cols : i;
  const long long c = outer ? i - r * num_cols : i;
  write(i, philox_weight_bits(key, stream, layer, static_cast<uint32_t>(rows[r]),
                              static_cast<uint64_t>(cols[c])));
}

template <class Write>
void launch_gather(const PhiloxGather& g, Write write, intptr_t cuda_stream) {
  const long long count = g.outer ? g.num_rows * g.num_cols : g.num_rows;
  if (count <= 0) return;
  const unsigned blocks = static_cast<unsigned>((count + kFillThreads - 1) / kFillThreads);
  philox_gather_kernel<<<blocks, kFillThreads, 0, reinterpret_cast<cudaStream_t>(cuda_stream)>>>(
      philox_key(g.seed), g.stream, g.layer, g.rows, g.cols, g.num_cols, count, g.outer, write);
  cuda_check(cudaGetLastError(), "philox gather launch");
}

}  // namespace

void cuda_philox_uniform_gather(const PhiloxGather& where, float* out, intptr_t cuda_stream) {
  launch_gather(where, WriteUniform{out}, cuda_stream);
}

void cuda_philox_bernoulli_gather(const PhiloxGather& where, uint64_t threshold, bool* out,
                                  intptr_t cuda_stream) {
  launch_gather(where, WriteBernoulli{out, threshold}, cuda_stream);
}

void cuda_philox_uniform_rows(uint64_t seed, uint32_t stream, uint32_t layer, uint32_t first_row,
                              long long num_rows, long long num_cols, float* out,
                              intptr_t cuda_stream) {
  launch_rows(seed, stream, layer, first_row, num_rows, num_cols, WriteUniform{out}, cuda_stream);
}

void cuda_philox_bernoulli_rows(uint64_t seed, uint32_t stream, uint32_t layer,
                                uint32_t first_row, long long num_rows, long long num_cols,
                                uint64_t threshold, bool* out, intptr_t cuda_stream) {
  launch_rows(seed, stream, layer, first_row, num_rows, num_cols, WriteBernoulli{out, threshold},
              cuda_stream);
}

}  // namespace subsetsum
