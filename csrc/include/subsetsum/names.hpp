// Host-side names of modes and algorithms, and cost estimates used to size chunks.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"

namespace subsetsum {

inline const std::vector<std::string>& algorithm_names() {
  static const std::vector<std::string> names = {
      "gray_code", "meet_in_the_middle", "increasing_size", "exact_combinations", "first_hit"};
  return names;
}

inline const std::vector<std::string>& mode_names() {
  static const std::vector<std::string> names = {"best", "min_size", "fixed_size"};
  return names;
}

inline int lookup(const std::vector<std::string>& names, const std::string& name,
                  const char* what) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  throw std::invalid_argument(std::string(what) + ": unknown name '" + name + "'");
}

inline int algorithm_id(const std::string& name) { return lookup(algorithm_names(), name, "algorithm"); }
inline int mode_id(const std::string& name) { return lookup(mode_names(), name, "mode"); }

// Rough operations per problem; only used to choose how many problems go in one chunk.
inline double estimated_work(int alg, int n, int k, int max_size) {
  switch (alg) {
    case ALG_GRAY_CODE: return std::ldexp(1.0, n);
    case ALG_MEET_IN_THE_MIDDLE: return 6.0 * std::ldexp(1.0, (n + 1) / 2);
    case ALG_INCREASING_SIZE: return 20.0 * n + 2.0 * n * n * (max_size > 3 ? 1 : 0);
    case ALG_EXACT_COMBINATIONS: return 10.0 * n + 0.05 * binomial(n, k);
    default: return 200.0 * n;
  }
}

}  // namespace subsetsum
