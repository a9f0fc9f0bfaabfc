#include "driver.hpp"
#include "pair_search.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#if defined(SUBSETSUM_HAVE_OPENMP)
#include <omp.h>
#else
#include <thread>
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

// Problems a worker takes at a time.
constexpr long long kBlock = 64;

// One call's shared state: the next block to take, the stop flag every search reads, and the
// count of workers still running (the watcher waits on it).
struct Batch {
  std::atomic<long long> next{0};
  int stop = 0;  // read and written with __atomic builtins (stop_requested)
  std::mutex mutex;
  std::condition_variable finished;
  int running = 0;
};

// Where a worker reads problem b's elements and mask row: rows of a (batch, n) array.
template <class T>
struct DenseRows {
  const T* bases;
  const uint8_t* mask;
  int n;

  const T* row(long long b, T*) const { return bases + b * n; }
  const uint8_t* mask_row(long long b) const { return mask ? mask + b * n : nullptr; }
};

// Or elements gathered as they are loaded (solve_outer_cpu): problem b (counted from `first`)
// is row r = b / G with group g = b % G, its elements mult[g, e] * w[r, g * n + e] in float64,
// the float32 weight widened first; so its weights are w[b * n ...]. The mask is per group.
struct OuterRows {
  const float* w;
  const double* mult;
  const uint8_t* group_mask;
  long long groups, first;
  int n;

  const double* row(long long b, double* buffer) const {
    const long long at = first + b;
    const float* wr = w + at * n;
    const double* mr = mult + (at % groups) * n;
    for (int e = 0; e < n; ++e) buffer[e] = mr[e] * static_cast<double>(wr[e]);
    return buffer;
  }
  const uint8_t* mask_row(long long b) const {
    return group_mask ? group_mask + ((first + b) % groups) * n : nullptr;
  }
};

template <class T, int CAP, class Rows>
void work(const T* targets, const Rows& rows, long long batch, int n, const SolveParams& params,
          const BatchOutput& out, Batch& shared) {
  const bool mitm = params.algorithm == ALG_MEET_IN_THE_MIDDLE;
  MitmBuffers buffers(mitm ? n : 0);
  const MitmScratch* scratch = mitm ? &buffers.view : nullptr;
  alignas(64) T buffer[CAP];  // a gathered problem's elements (OuterRows)
  for (;;) {
    const long long lo = shared.next.fetch_add(kBlock, std::memory_order_relaxed);
    if (lo >= batch) break;
    const long long hi = lo + kBlock < batch ? lo + kBlock : batch;
    for (long long b = lo; b < hi && !stop_requested(&shared.stop); ++b) {
      solve_problem<T, CAP, -1, CpuExhaustive>(rows.row(b, buffer), rows.mask_row(b), n,
                                               static_cast<double>(targets[b]), params, scratch,
                                               out, b);
    }
    if (stop_requested(&shared.stop)) break;
  }
}

void worker_done(Batch& shared) {
  std::lock_guard<std::mutex> lock(shared.mutex);
  if (--shared.running == 0) shared.finished.notify_all();
}

// The calling thread's part: ask `interrupted` every kPollIntervalMs until the workers finish;
// on a yes, raise the stop flag and wait for them. Returns whether it stopped them.
bool watch(Batch& shared, const std::function<bool()>& interrupted) {
  bool stopped = false;
  std::unique_lock<std::mutex> lock(shared.mutex);
  while (shared.running > 0) {
    if (shared.finished.wait_for(lock, std::chrono::milliseconds(kPollIntervalMs),
                                 [&] { return shared.running == 0; }))
      break;
    if (stopped || !interrupted) continue;
    lock.unlock();
    if (interrupted()) {
      __atomic_store_n(&shared.stop, 1, __ATOMIC_RELAXED);
      stopped = true;
    }
    lock.lock();
  }
  return stopped;
}

template <class T, int CAP, class Rows>
bool solve_range(const T* targets, const Rows& rows, long long batch, int n,
                 const SolveParams& params, const BatchOutput& out, int num_threads,
                 const std::function<bool()>& interrupted) {
  Batch shared;
  SolveParams p = params;
  p.stop = &shared.stop;
  bool stopped = false;
#if defined(SUBSETSUM_HAVE_OPENMP)
  const int workers = num_threads > 0 ? num_threads : omp_get_max_threads();
  if (workers == 1 && !interrupted) {
    // Nothing to watch for: the caller solves alone. A team of two handed the work to a second
    // thread, which then spun on after the region, taking a core from the other jobs'
    // threads (a ticket build runs one such solve per job thread).
    work<T, CAP>(targets, rows, batch, n, p, out, shared);
    return true;
  }
  shared.running = workers;
  // One thread more than the workers: thread 0 (the caller) watches and solves nothing, unless
  // the runtime gave a team of one (then it solves, and Ctrl-C waits for the chunk's end).
#pragma omp parallel num_threads(workers + 1)
  {
    const int team = omp_get_num_threads();
    const int id = omp_get_thread_num();
    if (team == 1) {
      work<T, CAP>(targets, rows, batch, n, p, out, shared);
    } else if (id == 0) {
      {
        // Fewer threads than asked for: only the ones that came count.
        std::lock_guard<std::mutex> lock(shared.mutex);
        shared.running -= workers - (team - 1);
      }
      stopped = watch(shared, interrupted);
    } else {
      work<T, CAP>(targets, rows, batch, n, p, out, shared);
      worker_done(shared);
    }
  }
#else
  (void)num_threads;
  if (!interrupted) {  // nothing to watch for: the caller solves
    work<T, CAP>(targets, rows, batch, n, p, out, shared);
    return true;
  }
  shared.running = 1;
  std::thread worker([&] {
    work<T, CAP>(targets, rows, batch, n, p, out, shared);
    worker_done(shared);
  });
  stopped = watch(shared, interrupted);
  worker.join();
#endif
  return !stopped;
}

}  // namespace

template <class T>
bool solve_batch_cpu(const T* targets, const T* bases, const uint8_t* mask, long long batch,
                     int n, const SolveParams& params, const BatchOutput& out, int num_threads,
                     const std::function<bool()>& interrupted) {
  bool complete = true;
  with_capacity(n, [&](auto cap) {
    complete = solve_range<T, decltype(cap)::value>(targets, DenseRows<T>{bases, mask, n}, batch,
                                                    n, params, out, num_threads, interrupted);
  });
  return complete;
}

bool solve_outer_cpu(const double* targets, const float* w, const double* mult,
                     const uint8_t* group_mask, long long groups, long long first,
                     long long batch, int n, const SolveParams& params, const BatchOutput& out,
                     int num_threads, const std::function<bool()>& interrupted) {
  bool complete = true;
  const OuterRows rows{w, mult, group_mask, groups, first, n};
  with_capacity(n, [&](auto cap) {
    complete = solve_range<double, decltype(cap)::value>(targets, rows, batch, n, params, out,
                                                         num_threads, interrupted);
  });
  return complete;
}

template bool solve_batch_cpu<float>(const float*, const float*, const uint8_t*, long long, int,
                                     const SolveParams&, const BatchOutput&, int,
                                     const std::function<bool()>&);
template bool solve_batch_cpu<double>(const double*, const double*, const uint8_t*, long long,
                                      int, const SolveParams&, const BatchOutput&, int,
                                      const std::function<bool()>&);

int cpu_max_threads() {
#if defined(SUBSETSUM_HAVE_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void cpu_set_thread_default(int threads) {
#if defined(SUBSETSUM_HAVE_OPENMP)
  omp_set_num_threads(threads);  // the calling thread's nthreads ICV: its own later calls only
#else
  (void)threads;
#endif
}

namespace {
const char* const kSearchNames[] = {"scalar", "avx2", "avx512"};
}

std::vector<std::string> cpu_searches_supported() {
  std::vector<std::string> names;
  for (int level = 0; level <= static_cast<int>(cpu_search_supported()); ++level)
    names.emplace_back(kSearchNames[level]);
  return names;
}

std::string cpu_search_name() { return kSearchNames[static_cast<int>(cpu_search())]; }

void cpu_set_search(const std::string& name) {
  const auto names = cpu_searches_supported();
  for (std::size_t level = 0; level < names.size(); ++level) {
    if (names[level] == name) {
      cpu_search_cap().store(static_cast<int>(level), std::memory_order_relaxed);
      return;
    }
  }
  std::string expected;
  for (const auto& n : names) expected += (expected.empty() ? "'" : ", '") + n + "'";
  throw std::invalid_argument("search: expected one this CPU runs (" + expected + "), got '" +
                              name + "'");
}

bool cpu_has_openmp() {
#if defined(SUBSETSUM_HAVE_OPENMP)
  return true;
#else
  return false;
#endif
}

}  // namespace subsetsum
