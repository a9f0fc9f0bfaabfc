// Batched CPU driver: one OpenMP loop over problems, each solved by the shared per-problem
// routine. Results are per problem, so they do not depend on the thread count or schedule.
#pragma once

#include <cstdint>

#include "subsetsum/solve_problem.hpp"

namespace subsetsum {

// targets: (batch,); bases: (batch, n) row-major; mask: (batch, n) bytes or null.
template <class T>
void solve_batch_cpu(const T* targets, const T* bases, const uint8_t* mask, long long batch,
                     int n, const SolveParams& params, const BatchOutput& out, int num_threads);

int cpu_max_threads();
bool cpu_has_openmp();

}  // namespace subsetsum
