// One problem's elements, compacted (masked-out elements dropped) and optionally sorted, and the
// tie-breaking order every algorithm follows.
//
// Order on candidate subsets (the contract): smaller error first, then fewer elements, then the
// smaller bit pattern read as an unsigned integer (for n > 64: the set whose largest differing
// index is smaller). Compaction keeps the original order, so comparing compact bit patterns is
// the same as comparing original ones.
#pragma once

#include <cmath>

#include "config.hpp"

namespace subsetsum {

template <int CAP>
struct Elements {
  double value[CAP];    // compacted values (original order, or ascending after sort_by_value)
  int16_t index[CAP];   // original index of each value
  int count;            // m: number of unmasked elements

  template <class T>
  SUBSETSUM_HD void load(const T* row, const uint8_t* mask_row, int n, int limit) {
    int m = 0;
    for (int i = 0; i < n && m < limit; ++i) {
      if (mask_row == nullptr || mask_row[i]) {
        value[m] = static_cast<double>(row[i]);
        index[m] = static_cast<int16_t>(i);
        ++m;
      }
    }
    count = m;
  }

  // Sorts by (value, original index): equal values keep index order. Problems are small
  // (typically 10-20 elements) and this runs per GPU thread too, so up to 16 elements each
  // element's rank is counted branch-free (no mispredictions, no divergence) and the elements
  // scattered to their ranks; larger problems use insertion sort.
  SUBSETSUM_HD void sort_by_value() {
    if (count <= 16) {
      double v[16];
      int16_t ix[16];
      for (int i = 0; i < count; ++i) { v[i] = value[i]; ix[i] = index[i]; }
      for (int i = 0; i < count; ++i) {
        int rank = 0;
        for (int j = 0; j < count; ++j)
          rank += (v[j] < v[i]) | ((v[j] == v[i]) & (j < i));
        value[rank] = v[i];
        index[rank] = ix[i];
      }
      return;
    }
    for (int i = 1; i < count; ++i) {
      const double v = value[i];
      const int16_t ix = index[i];
      int j = i - 1;
      while (j >= 0 && value[j] > v) {
        value[j + 1] = value[j];
        index[j + 1] = index[j];
        --j;
      }
      value[j + 1] = v;
      index[j + 1] = ix;
    }
  }
};

// Is the set {index[pos_a[i]]} smaller than {index[pos_b[i]]} in the contract's order?
// Both have `size` elements (equal sizes: the caller compared sizes already).
template <int CAP>
SUBSETSUM_HD bool set_less(const Elements<CAP>& e, const int* pos_a, const int* pos_b, int size) {
  // Compare as big integers: the set holding the largest index in which they differ is larger.
  // Sort copies of both index lists descending (sizes here are tiny: ties are rare).
  int a[CAP], b[CAP];
  for (int i = 0; i < size; ++i) {
    a[i] = e.index[pos_a[i]];
    b[i] = e.index[pos_b[i]];
  }
  for (int i = 1; i < size; ++i) {
    int va = a[i], vb = b[i], j = i - 1, l = i - 1;
    while (j >= 0 && a[j] < va) { a[j + 1] = a[j]; --j; }
    a[j + 1] = va;
    while (l >= 0 && b[l] < vb) { b[l + 1] = b[l]; --l; }
    b[l + 1] = vb;
  }
  for (int i = 0; i < size; ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

// A tolerance for pruning bounds computed from prefix sums, which may round differently from
// the sums of the candidates themselves (float64 inputs only; float32 sums are exact).
template <int CAP>
SUBSETSUM_HD double rounding_slack(const Elements<CAP>& e, double target) {
  double total = fabs(target);
  for (int i = 0; i < e.count; ++i) total += fabs(e.value[i]);
  return 1e-13 * total;
}

}  // namespace subsetsum
