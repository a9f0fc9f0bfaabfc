#include "driver.hpp"

#include <vector>

#if defined(SUBSETSUM_HAVE_OPENMP)
#include <omp.h>
#endif

namespace subsetsum {

namespace {

// Per-thread lists for meet in the middle (layout: mitm_scratch).
struct MitmBuffers {
  std::vector<double> sums;
  std::vector<uint32_t> bits;
  MitmScratch view;

  explicit MitmBuffers(int n) {
    const long long stride = mitm_list_stride(n);
    sums.resize(3 * stride);
    bits.resize(3 * stride);
    view = mitm_scratch(sums.data(), bits.data(), stride);
  }
};

template <class T, int CAP>
void solve_range(const T* targets, const T* bases, const uint8_t* mask, long long batch, int n,
                 const SolveParams& params, const BatchOutput& out, int num_threads) {
  const bool mitm = params.algorithm == ALG_MEET_IN_THE_MIDDLE;
#if defined(SUBSETSUM_HAVE_OPENMP)
  const int threads = num_threads > 0 ? num_threads : omp_get_max_threads();
#pragma omp parallel num_threads(threads)
#endif
  {
    MitmBuffers buffers(mitm ? n : 0);
    const MitmScratch* scratch = mitm ? &buffers.view : nullptr;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp for schedule(dynamic, 64)
#endif
    for (long long b = 0; b < batch; ++b) {
      const T* row = bases + b * n;
      const uint8_t* mask_row = mask ? mask + b * n : nullptr;
      solve_problem<T, CAP>(row, mask_row, n, static_cast<double>(targets[b]), params, scratch,
                            out, b);
    }
  }
  (void)num_threads;
}

}  // namespace

template <class T>
void solve_batch_cpu(const T* targets, const T* bases, const uint8_t* mask, long long batch,
                     int n, const SolveParams& params, const BatchOutput& out, int num_threads) {
  with_capacity(n, [&](auto cap) {
    solve_range<T, decltype(cap)::value>(targets, bases, mask, batch, n, params, out, num_threads);
  });
}

template void solve_batch_cpu<float>(const float*, const float*, const uint8_t*, long long, int,
                                     const SolveParams&, const BatchOutput&, int);
template void solve_batch_cpu<double>(const double*, const double*, const uint8_t*, long long,
                                      int, const SolveParams&, const BatchOutput&, int);

int cpu_max_threads() {
#if defined(SUBSETSUM_HAVE_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

bool cpu_has_openmp() {
#if defined(SUBSETSUM_HAVE_OPENMP)
  return true;
#else
  return false;
#endif
}

}  // namespace subsetsum
