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

// num_threads 0 uses all cores.
void philox_uniform_cpu(const PhiloxGather& where, float* out, int num_threads);
void philox_bernoulli_cpu(const PhiloxGather& where, uint64_t threshold, bool* out,
                          int num_threads);

// counters (n, 4), key (2,), out (n, 4): out[i] = philox4x32_10(counters[i], key).
void philox4x32_10_cpu(const uint32_t* counters, long long n, const uint32_t* key, uint32_t* out,
                       int num_threads);

}  // namespace subsetsum
