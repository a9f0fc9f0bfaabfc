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

// The chosen elements of a block's problems, problem by problem: problem p chose counts[p]
// elements, the next counts[p] entries of `elements` (positions in its group, in the order the
// solver gave them). Narrow unsigned types (a count and a position fit a byte in a dense block)
// keep what a job sends to the driver small.
template <class Count, class Element>
struct ChosenLists {
  const Count* counts = nullptr;      // (P,)
  const Element* elements = nullptr;  // (K,), K = sum of counts
  long long n_chosen = 0;             // K
};

// Per problem p (row prob_rows[p], group-matrix row positions[p], error errors[p], found[p]):
//   contrib[p] = base + sum over its chosen elements k of (|scale * w_k| * m) * member_term
// with base = errors[p] for BIAS and errors[p] * bound * factor otherwise, m = block_multiplier
// for BLOCK and 1 for COPIES (BIAS chooses no term); the sum accumulated in chosen order from
// 0, as numpy's bincount, so the result is bit for bit problem_contributions'.
// Edges (row, column, problem) of every chosen element, its partner (column + partner_step)
// right after it: those of found problems first (their count returned), then the others.
// The edge arrays hold at least 2 * n_chosen entries.
template <class Count, class Element>
inline long long record_chosen(const ChosenTerms& t, long long n_problems, const double* errors,
                               const uint8_t* found, const int64_t* prob_rows,
                               const int64_t* positions, const ChosenLists<Count, Element>& chosen,
                               const float* w_chosen, double* contrib, int32_t* edge_rows,
                               int32_t* edge_cols, int64_t* edge_problem, long long* n_edges) {
  // One pass over the problems and their chosen elements; the edges of problems that missed
  // (few) are kept aside and placed after the found problems' ones.
  std::vector<int32_t> missed_rows, missed_cols;
  std::vector<int64_t> missed_problem;
  long long hit = 0, k = 0;
  for (long long p = 0; p < n_problems; ++p) {
    const int64_t g = positions[p];
    if (g < 0 || g >= t.groups)
      throw std::invalid_argument("positions: expected group-matrix rows in [0, " +
                                  std::to_string(t.groups) + "), got " + std::to_string(g));
    if (prob_rows[p] < 0 || prob_rows[p] > INT32_MAX)
      throw std::invalid_argument("prob_rows: expected int32 rows, got " +
                                  std::to_string(prob_rows[p]));
    const long long end = k + static_cast<long long>(chosen.counts[p]);
    if (end > chosen.n_chosen)
      throw std::invalid_argument("counts: they add up to more than the " +
                                  std::to_string(chosen.n_chosen) + " chosen elements");
    const double m = t.kind[g] == kChosenBlock ? t.block_multiplier
                     : t.kind[g] == kChosenCopies ? 1.0 : 0.0;
    const int32_t row = static_cast<int32_t>(prob_rows[p]), step = t.partner_step[g];
    double sum = 0.0;
    for (; k < end; ++k) {
      const long long e = static_cast<long long>(chosen.elements[k]);
      if (e >= t.width)
        throw std::invalid_argument("chosen elements: position " + std::to_string(e) +
                                    " out of range at " + std::to_string(k));
      if (m != 0.0) {
        const double chosen_weight = t.scale[g] * static_cast<double>(w_chosen[k]);
        sum += ((chosen_weight < 0 ? -chosen_weight : chosen_weight) * m) *
               t.member_term[g * t.width + e];
      }
      const int32_t col = t.members[g * t.width + e];
      if (found[p]) {
        edge_rows[hit] = row, edge_cols[hit] = col, edge_problem[hit++] = p;
        if (step != 0) edge_rows[hit] = row, edge_cols[hit] = col + step, edge_problem[hit++] = p;
      } else {
        missed_rows.push_back(row), missed_cols.push_back(col), missed_problem.push_back(p);
        if (step != 0)
          missed_rows.push_back(row), missed_cols.push_back(col + step), missed_problem.push_back(p);
      }
    }
    const double base = t.kind[g] == kChosenBias ? errors[p] : errors[p] * t.bound[g] * t.factor[g];
    contrib[p] = base + sum;
  }
  if (k != chosen.n_chosen)
    throw std::invalid_argument("counts: they add up to " + std::to_string(k) + ", not the " +
                                std::to_string(chosen.n_chosen) + " chosen elements");
  const long long total = hit + static_cast<long long>(missed_rows.size());
  std::copy(missed_rows.begin(), missed_rows.end(), edge_rows + hit);
  std::copy(missed_cols.begin(), missed_cols.end(), edge_cols + hit);
  std::copy(missed_problem.begin(), missed_problem.end(), edge_problem + hit);
  *n_edges = total;
  return hit;
}

}  // namespace subsetsum
