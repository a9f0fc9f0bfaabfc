// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw ("Parallel random
// numbers: as easy as 1, 2, 3", SC'11), and the weights of virtual source networks drawn from it.
// Compiled by the C++ compiler and by nvcc alike (SUBSETSUM_HD): CPU and GPU give identical bits.
//
// The weight contract (changing any line below changes every source network ever drawn):
//
//   A source weight is a pure function of (seed, stream, layer, row, col), where seed < 2^64,
//   stream, layer and row < 2^32 and col < 2^34. It is word (col & 3) of
//
//       philox4x32_10(counter = {col >> 2, row, layer, stream},
//                     key     = {seed & 0xffffffff, seed >> 32})
//
//   so one Philox call yields the four neighbouring columns 4m, 4m+1, 4m+2, 4m+3 of a row.
//   From that 32-bit word x:
//     uniform in (-1, 1):  uniform_pm1(x) = ((x >> 8) * 2 + 1 - 2^24) * 2^-24, the odd multiples
//                          of 2^-24 strictly inside (-1, 1): symmetric, never 0, exact in float32;
//     Bernoulli(p):        x < floor(p * 2^32), the threshold held as a uint64 so that p = 1 is
//                          "always" (2^32) and p = 0 "never" (bernoulli_threshold, on the host).
//
// Any block of any layer can therefore be regenerated, grown by rows or columns, or gathered
// element by element, and the value at (row, col) never depends on which other values were drawn
// alongside it, on the thread count or on the device.
#pragma once

#include <cstdint>

#include "config.hpp"

namespace subsetsum {

// The constants of Philox4x32 (SC'11, table 2): round multipliers and the Weyl sequence that
// bumps the key between rounds (golden ratio and sqrt(3) - 1, in 32-bit fixed point).
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;
constexpr int kPhiloxRounds = 10;

// Four 32-bit words: a Philox counter or output block.
struct Philox4 {
  uint32_t w[4];
};

// High and low halves of the 64-bit product a * b.
SUBSETSUM_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* lo) {
#if defined(__CUDA_ARCH__)
  *lo = a * b;
  return __umulhi(a, b);
#else
  const uint64_t product = static_cast<uint64_t>(a) * b;
  *lo = static_cast<uint32_t>(product);
  return static_cast<uint32_t>(product >> 32);
#endif
}

// One round: two multiplications feed a Feistel-like mix of the four words with the round key.
SUBSETSUM_HD Philox4 philox4x32_round(Philox4 x, uint32_t k0, uint32_t k1) {
  uint32_t lo0, lo1;
  const uint32_t hi0 = philox_mulhilo(kPhiloxM0, x.w[0], &lo0);
  const uint32_t hi1 = philox_mulhilo(kPhiloxM1, x.w[2], &lo1);
  Philox4 y;
  y.w[0] = hi1 ^ x.w[1] ^ k0;
  y.w[1] = lo1;
  y.w[2] = hi0 ^ x.w[3] ^ k1;
  y.w[3] = lo0;
  return y;
}

// Philox4x32-10: ten rounds, the first with the key as given, each later one with the key
// advanced by (kPhiloxW0, kPhiloxW1) modulo 2^32. Matches Random123's known-answer vectors.
SUBSETSUM_HD Philox4 philox4x32_10(Philox4 counter, uint32_t key0, uint32_t key1) {
  Philox4 x = counter;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int round = 0; round < kPhiloxRounds; ++round) {
    x = philox4x32_round(x, key0, key1);
    key0 += kPhiloxW0;
    key1 += kPhiloxW1;
  }
  return x;
}

SUBSETSUM_HD Philox4 philox4x32_10(const uint32_t counter[4], const uint32_t key[2]) {
  Philox4 c;
  for (int i = 0; i < 4; ++i) c.w[i] = counter[i];
  return philox4x32_10(c, key[0], key[1]);
}

// The key of a seed, low word first.
struct PhiloxKey {
  uint32_t k0, k1;
};

SUBSETSUM_HD PhiloxKey philox_key(uint64_t seed) {
  return PhiloxKey{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
}

// The block holding columns 4 * (col >> 2) ... + 3 of (stream, layer, row); col < 2^34.
SUBSETSUM_HD Philox4 philox_weight_block(PhiloxKey key, uint32_t stream, uint32_t layer,
                                         uint32_t row, uint64_t col) {
  Philox4 counter;
  counter.w[0] = static_cast<uint32_t>(col >> 2);
  counter.w[1] = row;
  counter.w[2] = layer;
  counter.w[3] = stream;
  return philox4x32_10(counter, key.k0, key.k1);
}

// The 32-bit word of one weight (see the contract at the top).
SUBSETSUM_HD uint32_t philox_weight_bits(PhiloxKey key, uint32_t stream, uint32_t layer,
                                         uint32_t row, uint64_t col) {
  return philox_weight_block(key, stream, layer, row, col).w[col & 3];
}

// ((x >> 8) * 2 + 1 - 2^24) * 2^-24: an odd integer of magnitude < 2^24 (exact in float32)
// times a power of two, so the float32 result is exact, symmetric and never 0.
SUBSETSUM_HD float uniform_pm1(uint32_t x) {
  const int32_t odd = static_cast<int32_t>((x >> 8) << 1) + 1 - (1 << 24);
  return static_cast<float>(odd) * 5.9604644775390625e-08f;  // 2^-24
}

// floor(p * 2^32) for p in [0, 1] (scaling by 2^32 is exact in double), as a uint64 so that p = 1
// gives 2^32: every 32-bit word is below it. Host side, once per draw.
inline uint64_t bernoulli_threshold(double p) {
  if (!(p > 0.0)) return 0;  // also NaN
  if (p >= 1.0) return uint64_t{1} << 32;
  return static_cast<uint64_t>(p * 4294967296.0);  // truncation is floor for p >= 0
}

SUBSETSUM_HD bool bernoulli_bit(uint32_t x, uint64_t threshold) {
  return static_cast<uint64_t>(x) < threshold;
}

}  // namespace subsetsum
