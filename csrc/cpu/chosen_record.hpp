// What a ticket's bookkeeping takes from each solved subset-sum problem (python/subsetsum/
// tickets/solve.py, Builder._record): its term of its row's certified error
// (tickets/bounds.py, problem_contributions) and the edges its chosen elements keep. One pass
// over the chosen elements replaces a dozen numpy gathers over them: the bookkeeping ran on the
// build's calling thread at a sixth of the CPU time of the whole build.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace subsetsum {

// Kind codes of tickets/bounds.py (BLOCK, COPIES, BIAS).
constexpr int8_t kChosenBlock = 0, kChosenCopies = 1, kChosenBias = 2;

// A group matrix's terms: G rows (groups), each of `width` member slots.
struct ChosenTerms {
  long long groups = 0, width = 0;
  const int8_t* kind = nullptr;           // (G,) kind code
  const double* bound = nullptr;          // (G,) bound of the group's input
  const double* factor = nullptr;         // (G,) input factor (1 unless a sign-split block)
  const double* scale = nullptr;          // (G,) scale of the weight matrix the group reads
  const int32_t* partner_step = nullptr;  // (G,) looks-linear partner column offset, 0: none
  const int32_t* members = nullptr;       // (G, W) column of each member
  const double* member_term = nullptr;    // (G, W) a chosen member's term per unit |weight|
  double block_multiplier = 0.0;          // BLOCK chosen terms' factor (0: none)
};

// Per problem p (row prob_rows[p], group-matrix row positions[p], error errors[p], found[p]):
//   contrib[p] = base + sum over its chosen elements k of (|scale * w_k| * m) * member_term
// with base = errors[p] for BIAS and errors[p] * bound * factor otherwise, m = block_multiplier
// for BLOCK and 1 for COPIES (BIAS chooses no term); the sum accumulated in chosen order from
// 0, as numpy's bincount, so the result is bit for bit problem_contributions'.
// Edges (row, column, problem) of every chosen element, its partner (column + partner_step)
// right after it: those of found problems first (their count returned), then the others.
// The edge arrays hold at least 2 * n_chosen entries; `sums` is scratch of n_problems.
inline long long record_chosen(const ChosenTerms& t, long long n_problems, const double* errors,
                               const uint8_t* found, const int64_t* prob_rows,
                               const int64_t* positions, long long n_chosen, const int64_t* p_idx,
                               const int64_t* e_idx, const float* w_chosen, double* contrib,
                               double* sums, int32_t* edge_rows, int32_t* edge_cols,
                               int64_t* edge_problem, long long* n_edges) {
  for (long long p = 0; p < n_problems; ++p) {
    const int64_t g = positions[p];
    if (g < 0 || g >= t.groups)
      throw std::invalid_argument("positions: expected group-matrix rows in [0, " +
                                  std::to_string(t.groups) + "), got " + std::to_string(g));
    if (prob_rows[p] < 0 || prob_rows[p] > INT32_MAX)
      throw std::invalid_argument("prob_rows: expected int32 rows, got " +
                                  std::to_string(prob_rows[p]));
    contrib[p] = t.kind[g] == kChosenBias ? errors[p] : errors[p] * t.bound[g] * t.factor[g];
    sums[p] = 0.0;
  }
  // One pass over the chosen elements; the edges of problems that missed (few) are kept aside
  // and placed after the found problems' ones.
  std::vector<int32_t> missed_rows, missed_cols;
  std::vector<int64_t> missed_problem;
  long long hit = 0;
  for (long long k = 0; k < n_chosen; ++k) {
    const int64_t p = p_idx[k], e = e_idx[k];
    if (p < 0 || p >= n_problems || e < 0 || e >= t.width)
      throw std::invalid_argument("chosen elements: (problem, element) out of range at " +
                                  std::to_string(k));
    const int64_t g = positions[p];
    const double m = t.kind[g] == kChosenBlock ? t.block_multiplier
                     : t.kind[g] == kChosenCopies ? 1.0 : 0.0;
    if (m != 0.0) {
      const double chosen_weight = t.scale[g] * static_cast<double>(w_chosen[k]);
      sums[p] += ((chosen_weight < 0 ? -chosen_weight : chosen_weight) * m) *
                 t.member_term[g * t.width + e];
    }
    const int32_t row = static_cast<int32_t>(prob_rows[p]), col = t.members[g * t.width + e];
    const int32_t step = t.partner_step[g];
    if (found[p]) {
      edge_rows[hit] = row, edge_cols[hit] = col, edge_problem[hit++] = p;
      if (step != 0) edge_rows[hit] = row, edge_cols[hit] = col + step, edge_problem[hit++] = p;
    } else {
      missed_rows.push_back(row), missed_cols.push_back(col), missed_problem.push_back(p);
      if (step != 0)
        missed_rows.push_back(row), missed_cols.push_back(col + step), missed_problem.push_back(p);
    }
  }
  for (long long p = 0; p < n_problems; ++p) contrib[p] += sums[p];
  const long long total = hit + static_cast<long long>(missed_rows.size());
  std::copy(missed_rows.begin(), missed_rows.end(), edge_rows + hit);
  std::copy(missed_cols.begin(), missed_cols.end(), edge_cols + hit);
  std::copy(missed_problem.begin(), missed_problem.end(), edge_problem + hit);
  *n_edges = total;
  return hit;
}

}  // namespace subsetsum
