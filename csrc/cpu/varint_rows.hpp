// Kept edges by row, compressed: the columns of each row (increasing, repeats allowed) as LEB128
// varints of their gaps, the first column as its gap from 0. A ticket's rows read columns a few
// apart (the members of one group lie together), so most gaps take one byte: about 1 byte per
// kept edge against the 4 of int32 columns (python/subsetsum/tickets/edges.py).
//
// Layout: rows r = 0 .. R-1; the edge counts by `indptr` (R + 1, int64) and the bytes by
// `byteptr` (R + 1, int64), both cumulative and starting anywhere (a slice of a longer layout):
// row r's columns are cols[indptr[r] - indptr[0] ...] and its bytes data[byteptr[r] - byteptr[0]
// ...]. Rows are independent, so every function splits rows among threads. sort_row_columns puts
// rows in the order the encoding needs, where a row's columns came from several solved blocks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace subsetsum {

inline int varint_size(uint32_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Rows a thread takes at a time. A call with no more rows than this (one solved block's edges:
// a few rows) runs on the calling thread: a team of one task only woke threads that then spun,
// which on a Ray driver took the workers' cores.
constexpr long long kRowsPerTask = 256;

// Bytes each row's encoding takes (out: R). Throws where a row's columns decrease or are negative.
inline void varint_row_bytes(const int64_t* indptr, long long n_rows, const int32_t* cols,
                             int64_t* out) {
  const int64_t base = indptr[0];
  long long bad_row = -1;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(dynamic, kRowsPerTask) if (n_rows > kRowsPerTask)
#endif
  for (long long r = 0; r < n_rows; ++r) {
    int64_t bytes = 0;
    int32_t prev = 0;
    for (int64_t k = indptr[r] - base; k < indptr[r + 1] - base; ++k) {
      if (cols[k] < prev) {
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp critical
#endif
        bad_row = r;
        break;
      }
      bytes += varint_size(static_cast<uint32_t>(cols[k] - prev));
      prev = cols[k];
    }
    out[r] = bytes;
  }
  if (bad_row >= 0)
    throw std::invalid_argument("cols: expected non-negative columns increasing within each row; row " +
                                std::to_string(bad_row) + " is not");
}

// Writes every row's encoding at data[byteptr[r] - byteptr[0]] (the sizes of varint_row_bytes).
inline void varint_encode(const int64_t* indptr, long long n_rows, const int32_t* cols,
                          const int64_t* byteptr, uint8_t* data) {
  const int64_t base = indptr[0], byte_base = byteptr[0];
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(dynamic, kRowsPerTask) if (n_rows > kRowsPerTask)
#endif
  for (long long r = 0; r < n_rows; ++r) {
    uint8_t* at = data + (byteptr[r] - byte_base);
    int32_t prev = 0;
    for (int64_t k = indptr[r] - base; k < indptr[r + 1] - base; ++k) {
      uint32_t v = static_cast<uint32_t>(cols[k] - prev);
      prev = cols[k];
      while (v >= 0x80) {
        *at++ = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
      }
      *at++ = static_cast<uint8_t>(v);
    }
  }
}

// Decodes every row into cols[indptr[r] - indptr[0] ...], or with `dest` into cols[dest[r] ...]
// (rows with dest[r] < 0 skipped: a merge places each chunk's rows among other chunks' in one
// pass, where numpy took an index array and a scatter). Throws where a row's bytes do not hold
// exactly its count of columns below 2^31 (a damaged file).
inline void varint_decode(const int64_t* byteptr, long long n_rows, const uint8_t* data,
                          const int64_t* indptr, int32_t* cols, const int64_t* dest = nullptr) {
  const int64_t base = indptr[0], byte_base = byteptr[0];
  long long bad_row = -1;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(dynamic, kRowsPerTask) if (n_rows > kRowsPerTask)
#endif
  for (long long r = 0; r < n_rows; ++r) {
    if (dest != nullptr && dest[r] < 0) continue;
    const uint8_t* at = data + (byteptr[r] - byte_base);
    const uint8_t* end = data + (byteptr[r + 1] - byte_base);
    int32_t* row_cols = cols + (dest != nullptr ? dest[r] : indptr[r] - base) - (indptr[r] - base);
    int64_t value = 0;
    bool ok = true;
    for (int64_t k = indptr[r] - base; k < indptr[r + 1] - base && ok; ++k) {
      uint64_t gap = 0;
      int shift = 0;
      while (true) {
        if (at >= end || shift > 28) {
          ok = false;
          break;
        }
        const uint8_t byte = *at++;
        gap |= static_cast<uint64_t>(byte & 0x7F) << shift;
        shift += 7;
        if (!(byte & 0x80)) break;
      }
      value += static_cast<int64_t>(gap);
      if (value >= (int64_t{1} << 31)) ok = false;
      row_cols[k] = static_cast<int32_t>(value);
    }
    if (!ok || at != end) {
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp critical
#endif
      bad_row = r;
    }
  }
  if (bad_row >= 0)
    throw std::invalid_argument("edges: the encoded columns of row " + std::to_string(bad_row) +
                                " do not match its edge count (damaged data)");
}

// Runs of a row above which sort_row_columns sorts it whole instead of merging its runs one
// after another (each merge passes over what the runs before it gave).
constexpr int kMergedRunsMax = 16;

// Puts the columns of each row rows[k] (in [0, R), any order, each once) in increasing order in
// place. A merged row's columns come as a few runs already in order, one per chunk of edges that
// gave it some (the blocks of its own columns, a bias or constants block, repaired problems):
// the runs are merged one after another in linear time; a row of many runs is sorted.
inline void sort_row_columns(const int64_t* indptr, int32_t* cols, const int64_t* rows,
                             long long n_listed) {
  const int64_t base = indptr[0];
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(dynamic, 16) if (n_listed > kRowsPerTask)
#endif
  for (long long k = 0; k < n_listed; ++k) {
    int32_t* first = cols + (indptr[rows[k]] - base);
    int32_t* last = cols + (indptr[rows[k] + 1] - base);
    int runs = 1;
    for (int32_t* at = first; at + 1 < last && runs <= kMergedRunsMax; ++at) runs += at[1] < at[0];
    if (runs > kMergedRunsMax) {
      std::sort(first, last);
      continue;
    }
    for (int32_t* sorted_end = std::is_sorted_until(first, last); sorted_end != last;) {
      int32_t* run_end = std::is_sorted_until(sorted_end, last);
      std::inplace_merge(first, sorted_end, run_end);
      sorted_end = run_end;
    }
  }
}

}  // namespace subsetsum
