// Host entry points of the CUDA backend, free of CUDA types so the pybind11 module compiles
// with the host compiler. Pointers are device pointers unless named host_*.
#pragma once

#include <cstdint>
#include <string>

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

// Copies host arrays to the current device, solves, copies the results back; synchronous.
void cuda_solve_host(const void* host_targets, const void* host_bases, const uint8_t* host_mask,
                     int dtype_size, long long batch, int n, const SolveParams& params,
                     const BatchOutput& host_out);

}  // namespace subsetsum
