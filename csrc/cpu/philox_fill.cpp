#include "philox_fill.hpp"

#include "subsetsum/philox.hpp"

#if defined(SUBSETSUM_HAVE_OPENMP)
#include <omp.h>
#endif

namespace subsetsum {

namespace {

// Columns per task of an outer block: a multiple of 4, so tiles of a contiguous range start on a
// Philox block boundary whenever the range does; small enough that a few rows still make tasks
// for every thread.
constexpr long long kColumnTile = 2048;

// Below this many values a fill runs on the calling thread: a parallel region costs more than
// the work (tens of microseconds, and milliseconds when the machine is busy and a team member
// waits for a time slice), and the ticket build makes hundreds of small fills (block neurons).
constexpr long long kParallelValues = 1 << 15;

int threads_for(int num_threads) {
#if defined(SUBSETSUM_HAVE_OPENMP)
  return num_threads > 0 ? num_threads : omp_get_max_threads();
#else
  (void)num_threads;
  return 1;
#endif
}

// Values at (row, cols[j]) for j in [begin, end): one Philox call per run of columns sharing
// col >> 2 (four values per call on contiguous ranges), whatever order the columns come in.
template <class T, class Emit>
void fill_row(PhiloxKey key, uint32_t stream, uint32_t layer, uint32_t row, const int64_t* cols,
              long long begin, long long end, T* out, Emit emit) {
  uint64_t cached = ~uint64_t{0};  // no column maps to this block index (col < 2^34)
  Philox4 block{};
  for (long long j = begin; j < end; ++j) {
    const uint64_t col = static_cast<uint64_t>(cols[j]);
    if ((col >> 2) != cached) {
      cached = col >> 2;
      block = philox_weight_block(key, stream, layer, row, col);
    }
    out[j] = emit(block.w[col & 3]);
  }
}

template <class T, class Emit>
void fill(const PhiloxGather& g, T* out, Emit emit, int num_threads) {
  const PhiloxKey key = philox_key(g.seed);
  const int threads = threads_for(num_threads);
  if (g.outer) {
    const long long tiles_per_row = (g.num_cols + kColumnTile - 1) / kColumnTile;
    const long long tasks = g.num_rows * tiles_per_row;
    const bool parallel = threads > 1 && g.num_rows * g.num_cols >= kParallelValues;
    (void)parallel;  // read by OpenMP only
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
    for (long long t = 0; t < tasks; ++t) {
      const long long i = t / tiles_per_row;
      const long long begin = (t % tiles_per_row) * kColumnTile;
      const long long end = begin + kColumnTile < g.num_cols ? begin + kColumnTile : g.num_cols;
      fill_row(key, g.stream, g.layer, static_cast<uint32_t>(g.rows[i]), g.cols, begin, end,
               out + i * g.num_cols, emit);
    }
  } else {
    const bool parallel = threads > 1 && g.num_rows >= kParallelValues;
    (void)parallel;  // read by OpenMP only
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
    for (long long i = 0; i < g.num_rows; ++i) {
      const uint64_t col = static_cast<uint64_t>(g.cols[i]);
      out[i] = emit(philox_weight_bits(key, g.stream, g.layer, static_cast<uint32_t>(g.rows[i]),
                                       col));
    }
  }
  (void)threads;
}

}  // namespace

void philox_uniform_cpu(const PhiloxGather& where, float* out, int num_threads) {
  fill(where, out, [](uint32_t x) { return uniform_pm1(x); }, num_threads);
}

void philox_bernoulli_cpu(const PhiloxGather& where, uint64_t threshold, bool* out,
                          int num_threads) {
  fill(where, out, [threshold](uint32_t x) { return bernoulli_bit(x, threshold); }, num_threads);
}

void philox4x32_10_cpu(const uint32_t* counters, long long n, const uint32_t* key, uint32_t* out,
                       int num_threads) {
  const int threads = threads_for(num_threads);
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
  for (long long i = 0; i < n; ++i) {
    const Philox4 y = philox4x32_10(counters + 4 * i, key);
    for (int w = 0; w < 4; ++w) out[4 * i + w] = y.w[w];
  }
  (void)threads;
}

}  // namespace subsetsum
