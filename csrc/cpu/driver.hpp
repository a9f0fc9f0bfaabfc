// Batched CPU driver: worker threads take problems in blocks and solve each with the shared
// per-problem routine, while the calling thread watches for Ctrl-C. Results are per problem, so
// they do not depend on the thread count or schedule.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "subsetsum/solve_problem.hpp"

namespace subsetsum {

// targets: (batch,); bases: (batch, n) row-major; mask: (batch, n) bytes or null. Inputs are
// only read. `interrupted` is called from the calling thread about every kPollInterval while
// the workers run (empty: nothing to ask, and a solve on one thread runs on the caller itself,
// no team started); when it returns true every search stops within
// kStopPollSteps steps and solve_batch_cpu returns false: the outputs are then incomplete
// (problems not solved have status STATUS_STOPPED or were not written at all).
template <class T>
bool solve_batch_cpu(const T* targets, const T* bases, const uint8_t* mask, long long batch,
                     int n, const SolveParams& params, const BatchOutput& out, int num_threads,
                     const std::function<bool()>& interrupted);

// solve_batch_cpu over the problems of rows x groups of a ticket block, their elements gathered
// as each is loaded instead of from a (batch, n) array: problem b is problem first + b of the
// block, row r = (first + b) / groups with group g = (first + b) % groups, and its element e is
// mult[g * n + e] * w[(first + b) * n + e] (float64; w: (rows, groups * n) float32, mult:
// (groups, n)); group_mask (groups, n) bytes or null. The same results as solve_batch_cpu on
// the gathered array, without writing and reading it (eight bytes per element).
bool solve_outer_cpu(const double* targets, const float* w, const double* mult,
                     const uint8_t* group_mask, long long groups, long long first,
                     long long batch, int n, const SolveParams& params, const BatchOutput& out,
                     int num_threads, const std::function<bool()>& interrupted);

// How often the calling thread asks `interrupted`, in milliseconds.
constexpr int kPollIntervalMs = 20;

int cpu_max_threads();
// Threads the compiled calls made from the calling thread use by default (num_threads 0) from
// now on; other threads keep theirs.
void cpu_set_thread_default(int threads);
bool cpu_has_openmp();

// The vector searches of sizes 1 to 3 (pair_search.hpp): the names of those this CPU runs,
// narrowest first ("scalar", then "avx2", "avx512"), and the one the solver runs.
std::vector<std::string> cpu_searches_supported();
std::string cpu_search_name();
// Narrow the solver's searches to `name` (one of cpu_searches_supported()), for every thread;
// the subsets are the same with any of them. Throws std::invalid_argument for another name.
void cpu_set_search(const std::string& name);

}  // namespace subsetsum
