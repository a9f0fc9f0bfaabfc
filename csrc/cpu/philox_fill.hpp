// Batched CPU fills of the Philox weight generator (subsetsum/philox.hpp): blocks and gathers of
// uniform(-1, 1) and Bernoulli values, and the raw function. Every value is a pure function of its
// (seed, stream, layer, row, col), so results do not depend on the thread count or schedule.
#pragma once

#include <cstdint>

namespace subsetsum {

// Where values are taken: rows (num_rows,) below 2^32 and cols (num_cols,) below 2^34, both int64.
// outer: out is (num_rows, num_cols) row-major with out[i, j] the value at (rows[i], cols[j]);
// otherwise num_rows == num_cols and out (num_rows,) holds the value at (rows[i], cols[i]).
struct PhiloxGather {
  uint64_t seed;
  uint32_t stream;
  uint32_t layer;
  const int64_t* rows;
  long long num_rows;
  const int64_t* cols;
  long long num_cols;
  bool outer;
};

// The code that fills: kAuto is the fastest this CPU runs (philox_fill_kernel_auto); the others
// force one, so that tests and benchmarks can run the SIMD kernels beside the scalar reference in
// one process. Every kernel writes the same values.
enum class PhiloxKernel : int { kAuto = 0, kScalar = 1, kAvx2 = 2, kAvx512 = 3 };

// Whether this build and CPU run the kernel (kAuto and kScalar always).
bool philox_kernel_available(PhiloxKernel kernel);
// What kAuto runs here: kAvx512 where the CPU has AVX-512 F/BW/DQ/VL (about twice the speed of
// kAvx2 on the Xeon of benchmarks/results/philox.md), else kAvx2 where it has AVX2, else kScalar.
PhiloxKernel philox_fill_kernel_auto();

// num_threads 0 uses all cores. kernel must be available (philox_kernel_available).
void philox_uniform_cpu(const PhiloxGather& where, float* out, int num_threads,
                        PhiloxKernel kernel = PhiloxKernel::kAuto);
void philox_bernoulli_cpu(const PhiloxGather& where, uint64_t threshold, bool* out,
                          int num_threads, PhiloxKernel kernel = PhiloxKernel::kAuto);

// counters (n, 4), key (2,), out (n, 4): out[i] = philox4x32_10(counters[i], key).
void philox4x32_10_cpu(const uint32_t* counters, long long n, const uint32_t* key, uint32_t* out,
                       int num_threads);

}  // namespace subsetsum
