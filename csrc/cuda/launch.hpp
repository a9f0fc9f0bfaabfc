// Host entry points of the CUDA backend, free of CUDA types so the pybind11 module compiles
// with the host compiler. Pointers are device pointers unless named host_*.
#pragma once

#include <cstdint>
#include <string>

#include "../cpu/philox_fill.hpp"
#include "subsetsum/solve_problem.hpp"

namespace subsetsum {

int cuda_device_count();
int cuda_runtime_version();
std::string cuda_device_name(int device);
void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes);

// Solves a batch already on the device, asynchronously on `stream` (a cudaStream_t as an
// integer; 0 is the legacy default stream). dtype_size: 4 (float32) or 8 (float64).
void cuda_solve_device(const void* targets, const void* bases, const uint8_t* mask, int dtype_size,
                       long long batch, int n, const SolveParams& params, const BatchOutput& out,
                       intptr_t stream);

// min_size's first pass (csrc/cuda/min_size_two_pass.cuh) tries the exhaustive sizes up to
// this (1-3) one thread per problem and leaves the rest to a second pass; 0 runs every problem
// through one pass. The default is 3 (kernels.cu says why); a switch for the benchmark's side-by-side
// runs: every setting gives the same answers.
int cuda_min_size_first_pass_sizes();
void cuda_set_min_size_first_pass_sizes(int sizes);

// "best" by meet in the middle: 0 solves one problem per thread; 32-256 (a multiple of 32)
// solves one problem per block of that many threads (mitm_team.hpp); -1 (the default) picks the
// block size by n, as measured (kernels.cu). Every setting gives the same answers.
int cuda_best_team_threads();
int cuda_best_team_threads_for(int n);
void cuda_set_best_team_threads(int threads);

// Philox source values (subsetsum/philox.hpp) of rows first_row .. first_row + num_rows - 1 and
// columns 0 .. num_cols - 1, row-major into the device array `out`, on `cuda_stream`; the rows
// must stay below 2^32. Bit for bit the CPU fills of the same (seed, stream, layer, row, col).
void cuda_philox_uniform_rows(uint64_t seed, uint32_t stream, uint32_t layer, uint32_t first_row,
                              long long num_rows, long long num_cols, float* out,
                              intptr_t cuda_stream);
void cuda_philox_bernoulli_rows(uint64_t seed, uint32_t stream, uint32_t layer,
                                uint32_t first_row, long long num_rows, long long num_cols,
                                uint64_t threshold, bool* out, intptr_t cuda_stream);
// Philox source values gathered at any rows and columns (csrc/cpu/philox_fill.hpp's PhiloxGather,
// with rows and cols in device memory): the device twin of philox_uniform_cpu and
// philox_bernoulli_cpu, bit for bit. What a ticket block built on the device draws.
void cuda_philox_uniform_gather(const PhiloxGather& where, float* out, intptr_t cuda_stream);
void cuda_philox_bernoulli_gather(const PhiloxGather& where, uint64_t threshold, bool* out,
                                  intptr_t cuda_stream);

// Copies host arrays to the current device, solves, copies the results back; synchronous.
void cuda_solve_host(const void* host_targets, const void* host_bases, const uint8_t* host_mask,
                     int dtype_size, long long batch, int n, const SolveParams& params,
                     const BatchOutput& host_out);

}  // namespace subsetsum
