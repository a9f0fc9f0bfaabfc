#include "philox_fill.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "philox_simd.hpp"
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

// --- SIMD fills ----------------------------------------------------------------------------------
// The same values as fill(), with Philox run on 8 or 16 counters at once (philox_simd.hpp):
// - an outer tile of consecutive columns is written straight from the kernel in column order
//   (fill_run), four values per lane;
// - other outer columns go through block lists shared by all rows (ColumnBlocks): each block a
//   list needs is computed once per row, and every value picks its word from the results;
// - pairs, and outer blocks too narrow for per-row lists, take one lane per value (fill_pairs).

#if defined(SUBSETSUM_PHILOX_X86_SIMD)

bool cpu_has_avx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}

bool cpu_has_avx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return has;
}

// Columns per block list of an outer fill: its word buffer (16 bytes per block) stays in the L1
// cache.
constexpr long long kListChunk = 512;
// Blocks a list kernel reads and writes past a list's end (two batches of the widest kernel).
constexpr long long kListPad = 32;
// Outer fills with fewer columns than this run as pairs in row-major order, one lane per value:
// a block list per row would leave most lanes of its batches idle. Lists were faster from 32
// columns up (scattered or consecutive), pairs at 16 and below.
constexpr long long kNarrowColumns = 24;

// Values at columns first_col .. first_col + count - 1 of one row into out[0 .. count). Batches
// cover whole Philox blocks from a block boundary: those inside the run are written in place, a
// batch that sticks out of it (an unaligned start, the end) goes through a buffer.
template <class Simd, class Emitter>
void fill_run(const PhiloxRow& row, uint64_t first_col, long long count, const Emitter& emit,
              typename Emitter::value_type* out) {
  using T = typename Emitter::value_type;
  constexpr long long kBatch = 4 * Simd::kLanes;  // values of one batch
  T buffer[kBatch];
  // Block indices wrap modulo 2^32 like the counter word; only lanes past the run can wrap.
  uint32_t block = static_cast<uint32_t>(first_col >> 2);
  long long done = 0;
  const long long lead = static_cast<long long>(first_col & 3);
  if (lead != 0) {
    Simd::template fill_blocks<1>(row, block, emit, buffer);
    done = std::min(kBatch - lead, count);
    std::memcpy(out, buffer + lead, done * sizeof(T));
    block += Simd::kLanes;
  }
  for (; count - done >= 2 * kBatch; done += 2 * kBatch, block += 2 * Simd::kLanes)
    Simd::template fill_blocks<2>(row, block, emit, out + done);
  for (; count - done >= kBatch; done += kBatch, block += Simd::kLanes)
    Simd::template fill_blocks<1>(row, block, emit, out + done);
  if (done < count) {
    Simd::template fill_blocks<1>(row, block, emit, buffer);
    std::memcpy(out + done, buffer, (count - done) * sizeof(T));
  }
}

// ColumnBlocks' lists, kept by each thread from call to call up to kKeptColumns columns: a
// ticket build fills the same few hundred thousand columns for every block of a layer, a few
// rows at a time, and fresh vectors cost a page fault per 4 KiB and a zeroing pass on every call
// (at 467k columns and 4 rows, three times the lists' own building and half the fill).
constexpr long long kKeptColumns = 1 << 22;

struct ColumnListStorage {
  std::vector<uint32_t> blocks;
  std::vector<long long> block_count;
  std::vector<int32_t> word_index;

  // Room for num_cols columns (grown, never shrunk: the contents are rewritten by each use).
  void reserve_columns(long long num_cols) {
    const auto grow = [](auto& v, long long n) {
      if (static_cast<long long>(v.size()) < n) v.resize(static_cast<size_t>(n));
    };
    grow(blocks, num_cols + kListPad);
    grow(block_count, (num_cols + kListChunk - 1) / kListChunk);
    grow(word_index, num_cols);
  }
};

// The Philox blocks an outer fill's columns need, shared by every row. Tiles of consecutive
// columns (contiguous_tile) are filled by fill_run. The others are split in lists of kListChunk
// columns: the columns of list c (from c * kListChunk) need block_count[c] blocks from
// blocks[c * kListChunk], a block once per run of neighbouring columns sharing it, and column j
// is word word_index[j] of those (4 words per block, in list order).
struct ColumnBlocks {
  std::vector<char> contiguous_tile;
  const uint32_t* blocks = nullptr;
  const long long* block_count = nullptr;
  const int32_t* word_index = nullptr;

  ColumnBlocks(const int64_t* cols, long long num_cols, int threads, bool parallel)
      : contiguous_tile(static_cast<size_t>((num_cols + kColumnTile - 1) / kColumnTile)) {
    const long long tiles = static_cast<long long>(contiguous_tile.size());
    bool all_contiguous = true;
    for (long long tile = 0; tile < tiles; ++tile) {
      const long long end = std::min((tile + 1) * kColumnTile, num_cols);
      long long j = tile * kColumnTile + 1;
      while (j < end && cols[j] == cols[j - 1] + 1) ++j;
      contiguous_tile[tile] = j == end;
      all_contiguous &= j == end;
    }
    if (all_contiguous) return;
    static thread_local ColumnListStorage kept;
    ColumnListStorage& lists = num_cols <= kKeptColumns ? kept : own_;
    lists.reserve_columns(num_cols);
    uint32_t* out_blocks = lists.blocks.data();
    long long* out_count = lists.block_count.data();
    int32_t* out_word = lists.word_index.data();
    blocks = out_blocks, block_count = out_count, word_index = out_word;
    (void)threads, (void)parallel;  // read by OpenMP only
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
    for (long long tile = 0; tile < tiles; ++tile) {
      if (contiguous_tile[tile]) continue;
      const long long end = std::min((tile + 1) * kColumnTile, num_cols);
      for (long long list = tile * kColumnTile; list < end; list += kListChunk)
        build_list(cols, list, std::min(list + kListChunk, end), out_blocks, out_count, out_word);
    }
  }

 private:
  ColumnListStorage own_;  // the lists of a fill wider than kKeptColumns, freed with it

  // Without branches: in scattered columns a new block is a coin flip, which a branch
  // mispredicts. Each block is written past the list's end and kept only when new.
  static void build_list(const int64_t* cols, long long begin, long long end, uint32_t* blocks,
                         long long* block_count, int32_t* word_index) {
    uint32_t* list_blocks = blocks + begin;
    long long count = 0;
    uint32_t last = 0;
    for (long long j = begin; j < end; ++j) {
      const uint32_t block = static_cast<uint32_t>(static_cast<uint64_t>(cols[j]) >> 2);
      list_blocks[count] = block;
      count += (j == begin) | (block != last);
      last = block;
      word_index[j] = static_cast<int32_t>(4 * (count - 1) + (cols[j] & 3));
    }
    block_count[begin / kListChunk] = count;
  }
};

// Outer fills whose columns crowd a short span but are no run of consecutive columns (a ticket
// block's group members: every other column of a range, the range read again by the groups of
// the other sign) fill the whole span of each row once, in column order, and pick their values
// from it. The block lists would compute each Philox block once per group reading it (twice
// here) and be rebuilt for every call: at the full-size L+1 target's first layer (467k columns
// in a span of 501k, 4 rows, one core) the span took 3.7 ms a block against 4.8 for the lists.
constexpr long long kDenseSpanFactor = 2;  // span at most this many times the columns
constexpr long long kDenseSpanMax = 1 << 21;  // values of the per-thread span buffer

template <class Simd, class Emitter>
bool fill_dense_span(const PhiloxGather& g, PhiloxKey key, typename Emitter::value_type* out,
                     const Emitter& emit, int threads) {
  using T = typename Emitter::value_type;
  int64_t lo = g.cols[0], hi = g.cols[0];
  bool consecutive = true;  // one run of consecutive columns: the tiles' fill_run already
  for (long long j = 1; j < g.num_cols; ++j) {
    lo = std::min(lo, g.cols[j]);
    hi = std::max(hi, g.cols[j]);
    consecutive &= g.cols[j] == g.cols[j - 1] + 1;
  }
  const long long span = hi - lo + 1;
  if (consecutive || span > kDenseSpanFactor * g.num_cols || span > kDenseSpanMax) return false;
  // rows split among threads (one span buffer each): only where each thread gets rows
  const bool parallel = threads > 1 && g.num_rows >= threads &&
                        g.num_rows * g.num_cols >= kParallelValues;
  (void)parallel;  // read by OpenMP only
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
  for (long long i = 0; i < g.num_rows; ++i) {
    // grown, never shrunk (a build fills the same span for every block); bytes, since
    // std::vector<bool> packs its bits
    static thread_local std::vector<unsigned char> kept_span;
    const size_t bytes = static_cast<size_t>(span) * sizeof(T);
    if (kept_span.size() < bytes) kept_span.resize(bytes);
    T* row_span = reinterpret_cast<T*>(kept_span.data());
    const PhiloxRow row{key, static_cast<uint32_t>(g.rows[i]), g.layer, g.stream};
    fill_run<Simd>(row, static_cast<uint64_t>(lo), span, emit, row_span);
    T* row_out = out + i * g.num_cols;
    for (long long j = 0; j < g.num_cols; ++j) row_out[j] = row_span[g.cols[j] - lo];
  }
  (void)threads;
  return true;
}

template <class Simd, class Emitter>
void fill_simd(const PhiloxGather& g, typename Emitter::value_type* out, const Emitter& emit,
               int num_threads) {
  using T = typename Emitter::value_type;
  const PhiloxKey key = philox_key(g.seed);
  const PhiloxRow layer_row{key, 0, g.layer, g.stream};  // for fill_pairs: rows per lane
  const int threads = threads_for(num_threads);
  const long long values = g.outer ? g.num_rows * g.num_cols : g.num_rows;
  const bool parallel = threads > 1 && values >= kParallelValues;
  (void)parallel;  // read by OpenMP only
  if (values == 0) return;
  if (g.outer && g.num_cols >= kNarrowColumns && fill_dense_span<Simd>(g, key, out, emit, threads))
    return;
  if (g.outer && g.num_cols >= kNarrowColumns) {
    const ColumnBlocks columns(g.cols, g.num_cols, threads, parallel);
    const long long tiles_per_row = (g.num_cols + kColumnTile - 1) / kColumnTile;
    const long long tasks = g.num_rows * tiles_per_row;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
    for (long long t = 0; t < tasks; ++t) {
      const long long i = t / tiles_per_row, tile = t % tiles_per_row;
      const long long begin = tile * kColumnTile;
      const long long end = std::min(begin + kColumnTile, g.num_cols);
      const PhiloxRow row{key, static_cast<uint32_t>(g.rows[i]), g.layer, g.stream};
      T* row_out = out + i * g.num_cols;
      if (columns.contiguous_tile[tile]) {
        fill_run<Simd>(row, static_cast<uint64_t>(g.cols[begin]), end - begin, emit,
                       row_out + begin);
        continue;
      }
      alignas(64) uint32_t words[4 * (kListChunk + kListPad)];
      for (long long list = begin; list < end; list += kListChunk) {
        Simd::fill_words(row, columns.blocks + list, columns.block_count[list / kListChunk], words);
        Simd::emit_words(words, columns.word_index + list,
                         std::min(list + kListChunk, end) - list, emit, row_out + list);
      }
    }
  } else if (g.outer) {
    // Narrow: the block in row-major order as pairs, kColumnTile values per task.
    const long long tasks = (values + kColumnTile - 1) / kColumnTile;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
    for (long long t = 0; t < tasks; ++t) {
      const long long begin = t * kColumnTile;
      const long long end = std::min(begin + kColumnTile, values);
      long long i = begin / g.num_cols, j = begin % g.num_cols;
      for (long long chunk = begin; chunk < end; chunk += kListChunk) {
        const long long chunk_end = std::min(chunk + kListChunk, end);
        int64_t pair_rows[kListChunk], pair_cols[kListChunk];
        for (long long e = 0; e < chunk_end - chunk; ++e) {
          pair_rows[e] = g.rows[i];
          pair_cols[e] = g.cols[j];
          if (++j == g.num_cols) j = 0, ++i;
        }
        Simd::fill_pairs(layer_row, pair_rows, pair_cols, chunk_end - chunk, emit, out + chunk);
      }
    }
  } else {
    const long long tasks = (values + kColumnTile - 1) / kColumnTile;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
#endif
    for (long long t = 0; t < tasks; ++t) {
      const long long begin = t * kColumnTile;
      const long long end = std::min(begin + kColumnTile, values);
      Simd::fill_pairs(layer_row, g.rows + begin, g.cols + begin, end - begin, emit, out + begin);
    }
  }
  (void)threads;
}

#endif  // SUBSETSUM_PHILOX_X86_SIMD

template <class Emitter>
void fill_with(const PhiloxGather& g, typename Emitter::value_type* out, const Emitter& emit,
               int num_threads, PhiloxKernel kernel) {
  if (kernel == PhiloxKernel::kAuto) kernel = philox_fill_kernel_auto();
#if defined(SUBSETSUM_PHILOX_X86_SIMD)
  if (kernel == PhiloxKernel::kAvx2) return fill_simd<PhiloxAvx2>(g, out, emit, num_threads);
  if (kernel == PhiloxKernel::kAvx512) return fill_simd<PhiloxAvx512>(g, out, emit, num_threads);
#endif
  fill(g, out, emit, num_threads);
}

}  // namespace

bool philox_kernel_available(PhiloxKernel kernel) {
  switch (kernel) {
    case PhiloxKernel::kAuto:
    case PhiloxKernel::kScalar:
      return true;
#if defined(SUBSETSUM_PHILOX_X86_SIMD)
    case PhiloxKernel::kAvx2:
      return cpu_has_avx2();
    case PhiloxKernel::kAvx512:
      return cpu_has_avx512();
#endif
    default:
      return false;
  }
}

PhiloxKernel philox_fill_kernel_auto() {
#if defined(SUBSETSUM_PHILOX_X86_SIMD)
  if (cpu_has_avx512()) return PhiloxKernel::kAvx512;
  if (cpu_has_avx2()) return PhiloxKernel::kAvx2;
#endif
  return PhiloxKernel::kScalar;
}

void philox_uniform_cpu(const PhiloxGather& where, float* out, int num_threads,
                        PhiloxKernel kernel) {
  fill_with(where, out, UniformEmitter{}, num_threads, kernel);
}

void philox_bernoulli_cpu(const PhiloxGather& where, uint64_t threshold, bool* out,
                          int num_threads, PhiloxKernel kernel) {
  fill_with(where, out, BernoulliEmitter{threshold}, num_threads, kernel);
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
