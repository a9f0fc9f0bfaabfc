// SIMD Philox4x32-10 for the CPU fills (philox_fill.cpp): 8 (AVX2) or 16 (AVX-512) counters at
// once, one per lane, bit for bit the scalar philox4x32_10 of subsetsum/philox.hpp. The kernels
// carry function target attributes, so the module is still compiled for baseline x86-64 and
// loads anywhere; philox_fill.cpp calls them only on CPUs that report the extensions.
//
// Each instruction set has the same four entry points (PhiloxAvx2, PhiloxAvx512):
//   fill_blocks  consecutive columns of a row, from a block boundary, written in column order;
//   fill_words   the four words of each block of a list (one row), for emit_words to pick from;
//   emit_words   values from those words, value j from word word_index[j];
//   fill_pairs   values at any (rows[i], cols[i]): one lane per value, its word picked in place.
#pragma once

#include <cstdint>

#include "subsetsum/philox.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SUBSETSUM_PHILOX_X86_SIMD 1
#include <immintrin.h>
#endif

namespace subsetsum {

// The key and the counter words that stay fixed along a row ({block, row, layer, stream});
// fill_pairs reads each lane's row from its pair instead.
struct PhiloxRow {
  PhiloxKey key;
  uint32_t row;
  uint32_t layer;
  uint32_t stream;
};

// The contract's maps from a 32-bit word to the value stored, shared by the scalar and SIMD fills.
struct UniformEmitter {
  using value_type = float;
  float operator()(uint32_t x) const { return uniform_pm1(x); }
};

struct BernoulliEmitter {
  using value_type = bool;
  uint64_t threshold;  // at most 2^32
  bool operator()(uint32_t x) const { return bernoulli_bit(x, threshold); }
};

#if defined(SUBSETSUM_PHILOX_X86_SIMD)

#define SUBSETSUM_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline
#define SUBSETSUM_AVX512_TARGET "avx2,avx512f,avx512bw,avx512dq,avx512vl"
#define SUBSETSUM_AVX512_INLINE \
  __attribute__((target(SUBSETSUM_AVX512_TARGET), always_inline)) inline

namespace philox_avx2 {

// 32 x 32 -> 64-bit products of the 8 lanes: _mm256_mul_epu32 multiplies the even lanes only, so
// the odd lanes are shifted down for a second product and the halves are blended back in place.
SUBSETSUM_AVX2_INLINE void mulhilo(__m256i a, __m256i multiplier, __m256i* hi, __m256i* lo) {
  const __m256i even = _mm256_mul_epu32(a, multiplier);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), multiplier);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// Philox4x32-10 in place on Batches x 8 counters: x[b][w] is word w of lane i of batch b, counter
// in, output out. Independent batches are interleaved round by round, which hides the latency of
// the multiplications (one batch alone is a chain of dependent rounds).
template <int Batches>
SUBSETSUM_AVX2_INLINE void philox_rounds(PhiloxKey key, __m256i (&x)[Batches][4]) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
  uint32_t k0 = key.k0, k1 = key.k1;
  for (int round = 0; round < kPhiloxRounds; ++round) {
    const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
    const __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int b = 0; b < Batches; ++b) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo(x[b][0], m0, &hi0, &lo0);
      mulhilo(x[b][2], m1, &hi1, &lo1);
      x[b][0] = _mm256_xor_si256(_mm256_xor_si256(hi1, x[b][1]), key0);
      x[b][1] = lo1;
      x[b][2] = _mm256_xor_si256(_mm256_xor_si256(hi0, x[b][3]), key1);
      x[b][3] = lo0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

SUBSETSUM_AVX2_INLINE void set_counters(const PhiloxRow& r, __m256i blocks, __m256i rows,
                                        __m256i (&x)[4]) {
  x[0] = blocks;
  x[1] = rows;
  x[2] = _mm256_set1_epi32(static_cast<int>(r.layer));
  x[3] = _mm256_set1_epi32(static_cast<int>(r.stream));
}

// From one vector per Philox word (lane = block) to column order: w[v] holds the words of
// columns 8v .. 8v + 7 of the 32 the 8 blocks cover. A 4x4 transpose within each 128-bit half,
// then the halves exchanged.
SUBSETSUM_AVX2_INLINE void to_column_order(__m256i (&w)[4]) {
  const __m256i t0 = _mm256_unpacklo_epi32(w[0], w[1]);
  const __m256i t1 = _mm256_unpacklo_epi32(w[2], w[3]);
  const __m256i t2 = _mm256_unpackhi_epi32(w[0], w[1]);
  const __m256i t3 = _mm256_unpackhi_epi32(w[2], w[3]);
  const __m256i blocks04 = _mm256_unpacklo_epi64(t0, t1);
  const __m256i blocks15 = _mm256_unpackhi_epi64(t0, t1);
  const __m256i blocks26 = _mm256_unpacklo_epi64(t2, t3);
  const __m256i blocks37 = _mm256_unpackhi_epi64(t2, t3);
  w[0] = _mm256_permute2x128_si256(blocks04, blocks15, 0x20);
  w[1] = _mm256_permute2x128_si256(blocks26, blocks37, 0x20);
  w[2] = _mm256_permute2x128_si256(blocks04, blocks15, 0x31);
  w[3] = _mm256_permute2x128_si256(blocks26, blocks37, 0x31);
}

// Word (selector & 3) of each lane's block. blendv picks by the sign bit: bit 0 of the selector
// shifted there chooses between words 0/1 and 2/3, bit 1 between the two pairs.
SUBSETSUM_AVX2_INLINE __m256i select_word(const __m256i (&x)[4], __m256i selector) {
  const __m256 odd = _mm256_castsi256_ps(_mm256_slli_epi32(selector, 31));
  const __m256 upper = _mm256_castsi256_ps(_mm256_slli_epi32(selector, 30));
  const __m256 low_pair =
      _mm256_blendv_ps(_mm256_castsi256_ps(x[0]), _mm256_castsi256_ps(x[1]), odd);
  const __m256 high_pair =
      _mm256_blendv_ps(_mm256_castsi256_ps(x[2]), _mm256_castsi256_ps(x[3]), odd);
  return _mm256_castps_si256(_mm256_blendv_ps(low_pair, high_pair, upper));
}

// The low 32 bits of the 8 int64 in a (first 4) and b.
SUBSETSUM_AVX2_INLINE __m256i low_words(__m256i a, __m256i b) {
  const __m256 interleaved =
      _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_permute4x64_epi64(_mm256_castps_si256(interleaved), _MM_SHUFFLE(3, 1, 2, 0));
}

// uniform_pm1 of 8 words: the odd integer is below 2^24 in magnitude, so the int32 -> float
// conversion and the scaling by 2^-24 are exact, as in the scalar code.
SUBSETSUM_AVX2_INLINE void emit(const UniformEmitter&, __m256i w, float* out) {
  const __m256i odd = _mm256_add_epi32(_mm256_slli_epi32(_mm256_srli_epi32(w, 8), 1),
                                       _mm256_set1_epi32(1 - (1 << 24)));
  _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(odd),
                                      _mm256_set1_ps(5.9604644775390625e-08f)));  // 2^-24
}

SUBSETSUM_AVX2_INLINE void emit(const UniformEmitter& e, const __m256i (&w)[4], float* out) {
  for (int v = 0; v < 4; ++v) emit(e, w[v], out + 8 * v);
}

// bernoulli_bit: x < threshold is x <= threshold - 1 for threshold >= 1 (every word for 2^32);
// threshold 0 wraps to "every word" and is cleared by the final mask. -1 where true.
SUBSETSUM_AVX2_INLINE __m256i bernoulli_mask(const BernoulliEmitter& e, __m256i w) {
  const __m256i at_most =
      _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(e.threshold - 1)));
  const __m256i below = _mm256_cmpeq_epi32(_mm256_max_epu32(w, at_most), at_most);
  return e.threshold == 0 ? _mm256_setzero_si256() : below;
}

// 8 bools (bytes 0 or 1).
SUBSETSUM_AVX2_INLINE void emit(const BernoulliEmitter& e, __m256i w, bool* out) {
  const __m256i ones = _mm256_and_si256(bernoulli_mask(e, w), _mm256_set1_epi32(1));
  const __m256i words16 = _mm256_packs_epi32(ones, ones);  // within 128-bit halves
  const __m256i bytes = _mm256_packs_epi16(words16, words16);
  const __m128i both = _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes),
                                          _mm256_extracti128_si256(bytes, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), both);
}

// 32 bools from words in column order, in one store.
SUBSETSUM_AVX2_INLINE void emit(const BernoulliEmitter& e, const __m256i (&w)[4], bool* out) {
  __m256i below[4];
  for (int v = 0; v < 4; ++v) below[v] = bernoulli_mask(e, w[v]);
  // The packs work within 128-bit halves: dword d of the result holds columns 4 * order[d] ...
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(below[0], below[1]),
                                           _mm256_packs_epi32(below[2], below[3]));
  const __m256i in_order =
      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_and_si256(in_order, _mm256_set1_epi8(1)));
}

}  // namespace philox_avx2

// 8 lanes of 256 bits.
struct PhiloxAvx2 {
  static constexpr int kLanes = 8;

  // The 32 * Batches values of columns 4 * first_block ... 4 * first_block + 32 * Batches - 1 of
  // the row, to out (unaligned).
  template <int Batches, class Emitter>
  __attribute__((target("avx2"))) static void fill_blocks(const PhiloxRow& r,
                                                          uint32_t first_block, const Emitter& e,
                                                          typename Emitter::value_type* out) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i row = _mm256_set1_epi32(static_cast<int>(r.row));
    __m256i x[Batches][4];
    for (int b = 0; b < Batches; ++b)
      philox_avx2::set_counters(
          r, _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first_block + 8u * b)), lane),
          row, x[b]);
    philox_avx2::philox_rounds<Batches>(r.key, x);
    for (int b = 0; b < Batches; ++b) {
      philox_avx2::to_column_order(x[b]);
      philox_avx2::emit(e, x[b], out + 32 * b);
    }
  }

  // words[4i .. 4i + 3] = the Philox block {blocks[i], r.row, r.layer, r.stream}, for i below
  // count rounded up to a multiple of kLanes: blocks is read, and words written, that far.
  __attribute__((target("avx2"))) static void fill_words(const PhiloxRow& r,
                                                         const uint32_t* blocks, long long count,
                                                         uint32_t* words) {
    long long i = 0;
    for (; i + 2 * kLanes <= count; i += 2 * kLanes) words_of<2>(r, blocks + i, words + 4 * i);
    for (; i < count; i += kLanes) words_of<1>(r, blocks + i, words + 4 * i);
  }

  // out[j] = emit(words[word_index[j]]) for j < count.
  template <class Emitter>
  __attribute__((target("avx2"))) static void emit_words(const uint32_t* words,
                                                         const int32_t* word_index,
                                                         long long count, const Emitter& e,
                                                         typename Emitter::value_type* out) {
    const int* base = reinterpret_cast<const int*>(words);
    long long j = 0;
    for (; j + kLanes <= count; j += kLanes) {
      const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(word_index + j));
      philox_avx2::emit(e, _mm256_i32gather_epi32(base, index, 4), out + j);
    }
    for (; j < count; ++j) out[j] = e(words[word_index[j]]);
  }

  // out[i] = the value at (rows[i], cols[i]) of r's layer and stream, for i < count.
  template <class Emitter>
  __attribute__((target("avx2"))) static void fill_pairs(const PhiloxRow& r, const int64_t* rows,
                                                         const int64_t* cols, long long count,
                                                         const Emitter& e,
                                                         typename Emitter::value_type* out) {
    long long i = 0;
    for (; i + 2 * kLanes <= count; i += 2 * kLanes) pairs_of<2>(r, rows + i, cols + i, e, out + i);
    for (; i + kLanes <= count; i += kLanes) pairs_of<1>(r, rows + i, cols + i, e, out + i);
    if (i < count) {  // the last few through padded copies
      int64_t tail_rows[kLanes] = {}, tail_cols[kLanes] = {};
      typename Emitter::value_type tail_out[kLanes];
      for (long long t = 0; t < count - i; ++t) {
        tail_rows[t] = rows[i + t];
        tail_cols[t] = cols[i + t];
      }
      pairs_of<1>(r, tail_rows, tail_cols, e, tail_out);
      for (long long t = 0; t < count - i; ++t) out[i + t] = tail_out[t];
    }
  }

 private:
  template <int Batches>
  __attribute__((target("avx2"), always_inline)) static inline void words_of(
      const PhiloxRow& r, const uint32_t* blocks, uint32_t* words) {
    const __m256i row = _mm256_set1_epi32(static_cast<int>(r.row));
    __m256i x[Batches][4];
    for (int b = 0; b < Batches; ++b)
      philox_avx2::set_counters(
          r, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks + 8 * b)), row, x[b]);
    philox_avx2::philox_rounds<Batches>(r.key, x);
    for (int b = 0; b < Batches; ++b) {
      philox_avx2::to_column_order(x[b]);
      for (int v = 0; v < 4; ++v)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + 32 * b + 8 * v), x[b][v]);
    }
  }

  template <int Batches, class Emitter>
  __attribute__((target("avx2"), always_inline)) static inline void pairs_of(
      const PhiloxRow& r, const int64_t* rows, const int64_t* cols, const Emitter& e,
      typename Emitter::value_type* out) {
    __m256i x[Batches][4], selector[Batches];
    for (int b = 0; b < Batches; ++b) {
      const __m256i* lane_cols = reinterpret_cast<const __m256i*>(cols + 8 * b);
      const __m256i* lane_rows = reinterpret_cast<const __m256i*>(rows + 8 * b);
      const __m256i cols_lo = _mm256_loadu_si256(lane_cols);
      const __m256i cols_hi = _mm256_loadu_si256(lane_cols + 1);
      selector[b] = philox_avx2::low_words(cols_lo, cols_hi);
      const __m256i blocks = philox_avx2::low_words(_mm256_srli_epi64(cols_lo, 2),
                                                    _mm256_srli_epi64(cols_hi, 2));
      philox_avx2::set_counters(r, blocks,
                                philox_avx2::low_words(_mm256_loadu_si256(lane_rows),
                                                       _mm256_loadu_si256(lane_rows + 1)),
                                x[b]);
    }
    philox_avx2::philox_rounds<Batches>(r.key, x);
    for (int b = 0; b < Batches; ++b)
      philox_avx2::emit(e, philox_avx2::select_word(x[b], selector[b]), out + 8 * b);
  }
};

namespace philox_avx512 {

// As philox_avx2::mulhilo on 16 lanes; AVX-512's masked dword shuffles put each half in place in
// one instruction.
SUBSETSUM_AVX512_INLINE void mulhilo(__m512i a, __m512i multiplier, __m512i* hi, __m512i* lo) {
  const __m512i even = _mm512_mul_epu32(a, multiplier);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), multiplier);
  *hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
  *lo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);
}

template <int Batches>
SUBSETSUM_AVX512_INLINE void philox_rounds(PhiloxKey key, __m512i (&x)[Batches][4]) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kPhiloxM1));
  uint32_t k0 = key.k0, k1 = key.k1;
  for (int round = 0; round < kPhiloxRounds; ++round) {
    const __m512i key0 = _mm512_set1_epi32(static_cast<int>(k0));
    const __m512i key1 = _mm512_set1_epi32(static_cast<int>(k1));
    for (int b = 0; b < Batches; ++b) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo(x[b][0], m0, &hi0, &lo0);
      mulhilo(x[b][2], m1, &hi1, &lo1);
      x[b][0] = _mm512_ternarylogic_epi32(hi1, x[b][1], key0, 0x96);  // three-way xor
      x[b][1] = lo1;
      x[b][2] = _mm512_ternarylogic_epi32(hi0, x[b][3], key1, 0x96);
      x[b][3] = lo0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

SUBSETSUM_AVX512_INLINE void set_counters(const PhiloxRow& r, __m512i blocks, __m512i rows,
                                          __m512i (&x)[4]) {
  x[0] = blocks;
  x[1] = rows;
  x[2] = _mm512_set1_epi32(static_cast<int>(r.layer));
  x[3] = _mm512_set1_epi32(static_cast<int>(r.stream));
}

// Column order for 16 blocks: a 4x4 dword transpose within each 128-bit quarter leaves blocks
// (0, 4, 8, 12), (1, 5, 9, 13), ... in four vectors; a 4x4 transpose of the quarters finishes.
SUBSETSUM_AVX512_INLINE void to_column_order(__m512i (&w)[4]) {
  const __m512i t0 = _mm512_unpacklo_epi32(w[0], w[1]);
  const __m512i t1 = _mm512_unpacklo_epi32(w[2], w[3]);
  const __m512i t2 = _mm512_unpackhi_epi32(w[0], w[1]);
  const __m512i t3 = _mm512_unpackhi_epi32(w[2], w[3]);
  const __m512i blocks0 = _mm512_unpacklo_epi64(t0, t1);  // blocks 0, 4, 8, 12
  const __m512i blocks1 = _mm512_unpackhi_epi64(t0, t1);  // 1, 5, 9, 13
  const __m512i blocks2 = _mm512_unpacklo_epi64(t2, t3);  // 2, 6, 10, 14
  const __m512i blocks3 = _mm512_unpackhi_epi64(t2, t3);  // 3, 7, 11, 15
  const __m512i q0 = _mm512_shuffle_i32x4(blocks0, blocks1, 0x44);  // 0, 4, 1, 5
  const __m512i q1 = _mm512_shuffle_i32x4(blocks2, blocks3, 0x44);  // 2, 6, 3, 7
  const __m512i q2 = _mm512_shuffle_i32x4(blocks0, blocks1, 0xEE);  // 8, 12, 9, 13
  const __m512i q3 = _mm512_shuffle_i32x4(blocks2, blocks3, 0xEE);  // 10, 14, 11, 15
  w[0] = _mm512_shuffle_i32x4(q0, q1, 0x88);  // 0, 1, 2, 3
  w[1] = _mm512_shuffle_i32x4(q0, q1, 0xDD);  // 4, 5, 6, 7
  w[2] = _mm512_shuffle_i32x4(q2, q3, 0x88);  // 8, 9, 10, 11
  w[3] = _mm512_shuffle_i32x4(q2, q3, 0xDD);  // 12, 13, 14, 15
}

SUBSETSUM_AVX512_INLINE __m512i select_word(const __m512i (&x)[4], __m512i selector) {
  const __mmask16 odd = _mm512_test_epi32_mask(selector, _mm512_set1_epi32(1));
  const __mmask16 upper = _mm512_test_epi32_mask(selector, _mm512_set1_epi32(2));
  return _mm512_mask_blend_epi32(upper, _mm512_mask_blend_epi32(odd, x[0], x[1]),
                                 _mm512_mask_blend_epi32(odd, x[2], x[3]));
}

// The low 32 bits of the 16 int64 in a (first 8) and b.
SUBSETSUM_AVX512_INLINE __m512i low_words(__m512i a, __m512i b) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_epi32(a, even, b);
}

SUBSETSUM_AVX512_INLINE void emit(const UniformEmitter&, __m512i w, float* out) {
  const __m512i odd = _mm512_add_epi32(_mm512_slli_epi32(_mm512_srli_epi32(w, 8), 1),
                                       _mm512_set1_epi32(1 - (1 << 24)));
  _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(odd),
                                      _mm512_set1_ps(5.9604644775390625e-08f)));  // 2^-24
}

SUBSETSUM_AVX512_INLINE void emit(const UniformEmitter& e, const __m512i (&w)[4], float* out) {
  for (int v = 0; v < 4; ++v) emit(e, w[v], out + 16 * v);
}

// As the AVX2 emitter (x <= threshold - 1, threshold 0 masked off), with a compare mask: bit i is
// value i.
SUBSETSUM_AVX512_INLINE __mmask16 bernoulli_mask(const BernoulliEmitter& e, __m512i w) {
  const __m512i at_most =
      _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(e.threshold - 1)));
  return e.threshold == 0 ? __mmask16{0} : _mm512_cmple_epu32_mask(w, at_most);
}

SUBSETSUM_AVX512_INLINE void emit(const BernoulliEmitter& e, __m512i w, bool* out) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_maskz_mov_epi8(bernoulli_mask(e, w), _mm_set1_epi8(1)));
}

// 64 bools from words in column order, in one store.
SUBSETSUM_AVX512_INLINE void emit(const BernoulliEmitter& e, const __m512i (&w)[4], bool* out) {
  uint64_t bits = 0;
  for (int v = 0; v < 4; ++v) bits |= static_cast<uint64_t>(bernoulli_mask(e, w[v])) << (16 * v);
  const __m512i bytes = _mm512_maskz_mov_epi8(static_cast<__mmask64>(bits), _mm512_set1_epi8(1));
  _mm512_storeu_si512(out, bytes);
}

}  // namespace philox_avx512

// 16 lanes of 512 bits; the same functions as PhiloxAvx2 (64 values per batch of blocks).
struct PhiloxAvx512 {
  static constexpr int kLanes = 16;

  template <int Batches, class Emitter>
  __attribute__((target(SUBSETSUM_AVX512_TARGET))) static void fill_blocks(
      const PhiloxRow& r, uint32_t first_block, const Emitter& e,
      typename Emitter::value_type* out) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i row = _mm512_set1_epi32(static_cast<int>(r.row));
    __m512i x[Batches][4];
    for (int b = 0; b < Batches; ++b)
      philox_avx512::set_counters(
          r, _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(first_block + 16u * b)), lane),
          row, x[b]);
    philox_avx512::philox_rounds<Batches>(r.key, x);
    for (int b = 0; b < Batches; ++b) {
      philox_avx512::to_column_order(x[b]);
      philox_avx512::emit(e, x[b], out + 64 * b);
    }
  }

  __attribute__((target(SUBSETSUM_AVX512_TARGET))) static void fill_words(
      const PhiloxRow& r, const uint32_t* blocks, long long count, uint32_t* words) {
    long long i = 0;
    for (; i + 2 * kLanes <= count; i += 2 * kLanes) words_of<2>(r, blocks + i, words + 4 * i);
    for (; i < count; i += kLanes) words_of<1>(r, blocks + i, words + 4 * i);
  }

  template <class Emitter>
  __attribute__((target(SUBSETSUM_AVX512_TARGET))) static void emit_words(
      const uint32_t* words, const int32_t* word_index, long long count, const Emitter& e,
      typename Emitter::value_type* out) {
    long long j = 0;
    for (; j + kLanes <= count; j += kLanes)
      philox_avx512::emit(
          e, _mm512_i32gather_epi32(_mm512_loadu_si512(word_index + j), words, 4), out + j);
    for (; j < count; ++j) out[j] = e(words[word_index[j]]);
  }

  template <class Emitter>
  __attribute__((target(SUBSETSUM_AVX512_TARGET))) static void fill_pairs(
      const PhiloxRow& r, const int64_t* rows, const int64_t* cols, long long count,
      const Emitter& e, typename Emitter::value_type* out) {
    long long i = 0;
    for (; i + 2 * kLanes <= count; i += 2 * kLanes) pairs_of<2>(r, rows + i, cols + i, e, out + i);
    for (; i + kLanes <= count; i += kLanes) pairs_of<1>(r, rows + i, cols + i, e, out + i);
    if (i < count) {  // the last few through padded copies
      int64_t tail_rows[kLanes] = {}, tail_cols[kLanes] = {};
      typename Emitter::value_type tail_out[kLanes];
      for (long long t = 0; t < count - i; ++t) {
        tail_rows[t] = rows[i + t];
        tail_cols[t] = cols[i + t];
      }
      pairs_of<1>(r, tail_rows, tail_cols, e, tail_out);
      for (long long t = 0; t < count - i; ++t) out[i + t] = tail_out[t];
    }
  }

 private:
  template <int Batches>
  __attribute__((target(SUBSETSUM_AVX512_TARGET), always_inline)) static inline void words_of(
      const PhiloxRow& r, const uint32_t* blocks, uint32_t* words) {
    const __m512i row = _mm512_set1_epi32(static_cast<int>(r.row));
    __m512i x[Batches][4];
    for (int b = 0; b < Batches; ++b)
      philox_avx512::set_counters(r, _mm512_loadu_si512(blocks + 16 * b), row, x[b]);
    philox_avx512::philox_rounds<Batches>(r.key, x);
    for (int b = 0; b < Batches; ++b) {
      philox_avx512::to_column_order(x[b]);
      for (int v = 0; v < 4; ++v) _mm512_storeu_si512(words + 64 * b + 16 * v, x[b][v]);
    }
  }

  template <int Batches, class Emitter>
  __attribute__((target(SUBSETSUM_AVX512_TARGET), always_inline)) static inline void pairs_of(
      const PhiloxRow& r, const int64_t* rows, const int64_t* cols, const Emitter& e,
      typename Emitter::value_type* out) {
    __m512i x[Batches][4], selector[Batches];
    for (int b = 0; b < Batches; ++b) {
      const __m512i cols_lo = _mm512_loadu_si512(cols + 16 * b);
      const __m512i cols_hi = _mm512_loadu_si512(cols + 16 * b + 8);
      selector[b] = philox_avx512::low_words(cols_lo, cols_hi);
      const __m512i blocks = philox_avx512::low_words(_mm512_srli_epi64(cols_lo, 2),
                                                      _mm512_srli_epi64(cols_hi, 2));
      const __m512i lane_rows = philox_avx512::low_words(_mm512_loadu_si512(rows + 16 * b),
                                                         _mm512_loadu_si512(rows + 16 * b + 8));
      philox_avx512::set_counters(r, blocks, lane_rows, x[b]);
    }
    philox_avx512::philox_rounds<Batches>(r.key, x);
    for (int b = 0; b < Batches; ++b)
      philox_avx512::emit(e, philox_avx512::select_word(x[b], selector[b]), out + 16 * b);
  }
};

#undef SUBSETSUM_AVX2_INLINE
#undef SUBSETSUM_AVX512_INLINE
#undef SUBSETSUM_AVX512_TARGET

#endif  // SUBSETSUM_PHILOX_X86_SIMD

}  // namespace subsetsum
