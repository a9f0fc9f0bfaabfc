// subsetsum._core: the CPU backend. Arrays arrive through the buffer protocol, already
// validated and contiguous (python/subsetsum/solve.py); outputs are preallocated by Python and
// filled in place, with the GIL released while solving.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <memory>
#include <vector>
#include <string>
#include <type_traits>
#include <utility>

#include "../cpu/chosen_record.hpp"
#include "../cpu/driver.hpp"
#include "../cpu/philox_fill.hpp"
#include "../cpu/varint_rows.hpp"
#include "arrays.hpp"
#include "subsetsum/mitm_team.hpp"
#include "subsetsum/philox.hpp"

namespace py = pybind11;
using namespace subsetsum;

namespace {

// Asked by the driver's watching thread (the caller's) while the workers solve: runs Python's
// signal handlers; true when one raised (KeyboardInterrupt for Ctrl-C), the error then set.
bool python_signal_raised() {
  py::gil_scoped_acquire acquire;
  return PyErr_CheckSignals() != 0;
}

unsigned long main_thread_ident = 0;  // threading.main_thread().ident, read at import
thread_local bool signal_checks = true;  // set_signal_checks: off for this thread's solves

// What the solver asks about Ctrl-C from the calling thread (the GIL held). Python runs signal
// handlers on its main thread only, so on any other (a ticket's job threads) there is nothing to
// ask; nor where the thread turned the checks off (a Ray task's jobs, which the driver cancels).
// With nothing to ask, a solve on one core runs on the caller itself, no thread to hand it to.
std::function<bool()> signal_check_of_this_thread() {
  if (signal_checks && PyThread_get_thread_ident() == main_thread_ident) return python_signal_raised;
  return {};
}

void solve_into(py::array targets, py::array bases, py::object mask, const std::string& mode,
                int max_size, int k, double eps, const std::string& algorithm,
                py::object out_subsets, py::object out_indices, py::array out_sums,
                py::array out_errors, py::array out_sizes, py::array out_found,
                py::array out_status, int num_threads, long long work_limit) {
  if (num_threads < 0) throw std::invalid_argument("num_threads: expected an int >= 0");
  bindings::HostInputs in(targets, bases, mask);
  const SolveParams params =
      bindings::make_params(mode, max_size, k, eps, algorithm, in.n, work_limit);
  bindings::HostOutputs out(out_subsets, out_indices, out_sums, out_errors, out_sizes, out_found,
                            out_status, in.batch, k);
  const std::function<bool()> interrupted = signal_check_of_this_thread();
  bool complete;
  {
    py::gil_scoped_release release;
    if (in.dtype_size == 4)
      complete = solve_batch_cpu<float>(static_cast<const float*>(in.targets_ptr),
                                        static_cast<const float*>(in.bases_ptr), in.mask_ptr,
                                        in.batch, in.n, params, out.view, num_threads,
                                        interrupted);
    else
      complete = solve_batch_cpu<double>(static_cast<const double*>(in.targets_ptr),
                                         static_cast<const double*>(in.bases_ptr), in.mask_ptr,
                                         in.batch, in.n, params, out.view, num_threads,
                                         interrupted);
  }
  if (!complete) throw py::error_already_set();
}

// rows, cols int64 (C-contiguous) and the output length they call for; the values' ranges were
// checked in Python (python/subsetsum/_philox.py).
PhiloxGather philox_gather(uint64_t seed, uint32_t stream, uint32_t layer, py::array& rows,
                           py::array& cols, bool outer, long long* out_length) {
  const auto i64 = py::dtype::of<int64_t>();
  PhiloxGather g{seed, stream, layer, nullptr, static_cast<long long>(rows.size()), nullptr,
                 static_cast<long long>(cols.size()), outer};
  g.rows = bindings::data_of<int64_t>(rows, "rows", i64, g.num_rows);
  g.cols = bindings::data_of<int64_t>(cols, "cols", i64, g.num_cols);
  if (!outer && g.num_rows != g.num_cols)
    throw std::invalid_argument("rows, cols: outer=False needs as many rows as cols, got " +
                                std::to_string(g.num_rows) + " and " +
                                std::to_string(g.num_cols));
  *out_length = outer ? g.num_rows * g.num_cols : g.num_rows;
  return g;
}

// The fill kernel named by the bindings' `kernel` argument; one this CPU cannot run is an error.
PhiloxKernel philox_kernel(const std::string& name) {
  static const std::pair<const char*, PhiloxKernel> kernels[] = {
      {"auto", PhiloxKernel::kAuto},
      {"scalar", PhiloxKernel::kScalar},
      {"avx2", PhiloxKernel::kAvx2},
      {"avx512", PhiloxKernel::kAvx512}};
  for (const auto& [kernel_name, kernel] : kernels) {
    if (name != kernel_name) continue;
    if (philox_kernel_available(kernel)) return kernel;
    std::string available;
    for (const auto& [other_name, other] : kernels)
      if (philox_kernel_available(other))
        available += (available.empty() ? "" : ", ") + std::string(other_name);
    throw std::invalid_argument("kernel: '" + name + "' does not run on this CPU or build " +
                                "(available: " + available + ")");
  }
  throw std::invalid_argument("kernel: expected one of auto, scalar, avx2, avx512, got '" + name +
                              "'");
}

void philox_uniform_into(uint64_t seed, uint32_t stream, uint32_t layer, py::array rows,
                         py::array cols, py::array out, bool outer, int num_threads,
                         const std::string& kernel) {
  const PhiloxKernel fill_kernel = philox_kernel(kernel);
  long long length = 0;
  const PhiloxGather g = philox_gather(seed, stream, layer, rows, cols, outer, &length);
  float* values = bindings::data_of<float>(out, "out", py::dtype::of<float>(), length);
  py::gil_scoped_release release;
  philox_uniform_cpu(g, values, num_threads, fill_kernel);
}

void philox_bernoulli_into(uint64_t seed, uint32_t stream, uint32_t layer, py::array rows,
                           py::array cols, uint64_t threshold, py::array out, bool outer,
                           int num_threads, const std::string& kernel) {
  const PhiloxKernel fill_kernel = philox_kernel(kernel);
  if (threshold > (uint64_t{1} << 32))
    throw std::invalid_argument("threshold: expected at most 2^32, got " +
                                std::to_string(threshold));
  long long length = 0;
  const PhiloxGather g = philox_gather(seed, stream, layer, rows, cols, outer, &length);
  bool* bits = bindings::data_of<bool>(out, "out", py::dtype::of<bool>(), length);
  py::gil_scoped_release release;
  philox_bernoulli_cpu(g, threshold, bits, num_threads, fill_kernel);
}

void philox4x32_10_into(py::array counters, py::array key, py::array out, int num_threads) {
  const auto u32 = py::dtype::of<uint32_t>();
  if (counters.ndim() != 2 || counters.shape(1) != 4)
    throw std::invalid_argument("counters: expected shape (N, 4)");
  const long long n = counters.shape(0);
  const uint32_t* c = bindings::data_of<uint32_t>(counters, "counters", u32, 4 * n);
  const uint32_t* k = bindings::data_of<uint32_t>(key, "key", u32, 2);
  uint32_t* y = bindings::data_of<uint32_t>(out, "out", u32, 4 * n);
  py::gil_scoped_release release;
  philox4x32_10_cpu(c, n, k, y, num_threads);
}

// solve_into for the problems first .. first + B - 1 of rows x groups of a ticket block, their
// elements gathered as they are loaded (driver.hpp, solve_outer_cpu).
void solve_outer_into(py::array targets, py::array w, py::array mult, py::object mask,
                      long long first, const std::string& mode, int max_size, int k, double eps,
                      const std::string& algorithm, py::object out_subsets, py::object out_indices,
                      py::array out_sums, py::array out_errors, py::array out_sizes,
                      py::array out_found, py::array out_status, int num_threads,
                      long long work_limit) {
  if (num_threads < 0) throw std::invalid_argument("num_threads: expected an int >= 0");
  if (w.ndim() != 2 || mult.ndim() != 2)
    throw std::invalid_argument("w (R, G*n), mult (G, n): expected 2-d arrays");
  const long long groups = mult.shape(0), rows = w.shape(0);
  const int n = static_cast<int>(mult.shape(1));
  if (n < 1 || w.shape(1) != groups * n)
    throw std::invalid_argument("w (R, G*n), mult (G, n): shapes do not match");
  const long long batch = targets.size();
  if (first < 0 || first + batch > rows * groups)
    throw std::invalid_argument("first: problems first .. first + B - 1 must lie in the block's R * G");
  const double* tp = bindings::input_data_of<double>(targets, "targets", py::dtype::of<double>(), batch);
  const float* wp = bindings::input_data_of<float>(w, "w", py::dtype::of<float>(), rows * groups * n);
  const double* mp = bindings::input_data_of<double>(mult, "mult", py::dtype::of<double>(), groups * n);
  py::array mask_array;
  const uint8_t* maskp = nullptr;
  if (!mask.is_none()) {
    mask_array = mask.cast<py::array>();
    maskp = bindings::input_data_of<uint8_t>(mask_array, "mask", py::dtype::of<bool>(), groups * n);
  }
  const SolveParams params = bindings::make_params(mode, max_size, k, eps, algorithm, n, work_limit);
  bindings::HostOutputs out(out_subsets, out_indices, out_sums, out_errors, out_sizes, out_found,
                            out_status, batch, k);
  const std::function<bool()> interrupted = signal_check_of_this_thread();
  bool complete;
  {
    py::gil_scoped_release release;
    complete = solve_outer_cpu(tp, wp, mp, maskp, groups, first, batch, n, params, out.view,
                               num_threads, interrupted);
  }
  if (!complete) throw py::error_already_set();
}

// The set bits of subset bit patterns as (problem, element) pairs, problem-major and elements
// increasing: a popcount pass sizes the output, a second writes it.
py::tuple subset_pairs(py::array subsets) {
  const auto u64 = py::dtype::of<uint64_t>();
  if (subsets.ndim() != 1) throw std::invalid_argument("subsets: expected shape (B,)");
  const long long batch = subsets.shape(0);
  const uint64_t* bits = bindings::data_of<uint64_t>(subsets, "subsets", u64, batch);
  long long total = 0;
  for (long long b = 0; b < batch; ++b) total += __builtin_popcountll(bits[b]);
  py::array_t<int64_t> problems(total), elements(total);
  int64_t* p = problems.mutable_data();
  int64_t* e = elements.mutable_data();
  {
    py::gil_scoped_release release;
    long long at = 0;
    for (long long b = 0; b < batch; ++b) {
      for (uint64_t x = bits[b]; x; x &= x - 1) {
        p[at] = b;
        e[at] = __builtin_ctzll(x);
        ++at;
      }
    }
  }
  return py::make_tuple(problems, elements);
}

// The chosen elements of problems solved over `width` elements each, as record_chosen reads
// them: counts uint8 (B,) of the set bits of each subset, their positions uint8 (K,) (problem
// by problem, increasing) and the weights w[b * width + position] float32 (K,).
py::tuple subset_chosen(py::array subsets, py::array w, int width) {
  const auto u64 = py::dtype::of<uint64_t>();
  if (subsets.ndim() != 1) throw std::invalid_argument("subsets: expected shape (B,)");
  if (width < 1 || width > 64) throw std::invalid_argument("width: expected 1 .. 64");
  const long long batch = subsets.shape(0);
  const uint64_t* bits = bindings::input_data_of<uint64_t>(subsets, "subsets", u64, batch);
  const float* wp = bindings::input_data_of<float>(w, "w", py::dtype::of<float>(), batch * width);
  const uint64_t beyond = width == 64 ? 0 : ~uint64_t{0} << width;
  long long total = 0;
  for (long long b = 0; b < batch; ++b) {
    if (bits[b] & beyond) throw std::invalid_argument("subsets: a bit beyond width at " + std::to_string(b));
    total += __builtin_popcountll(bits[b]);
  }
  py::array_t<uint8_t> counts(batch), positions(total);
  py::array_t<float> weights(total);
  uint8_t* c = counts.mutable_data();
  uint8_t* e = positions.mutable_data();
  float* x = weights.mutable_data();
  {
    py::gil_scoped_release release;
    long long at = 0;
    for (long long b = 0; b < batch; ++b) {
      c[b] = static_cast<uint8_t>(__builtin_popcountll(bits[b]));
      for (uint64_t v = bits[b]; v; v &= v - 1, ++at) {
        const int i = __builtin_ctzll(v);
        e[at] = static_cast<uint8_t>(i);
        x[at] = wp[b * width + i];
      }
    }
  }
  return py::make_tuple(counts, positions, weights);
}

// Elements of rows x groups: out[r * G + g, e] = mult[g, e] * w[r, g * W + e] in float64 (the
// float32 weight widened first, as numpy's broadcast product does), rows split among threads.
void gather_elements_into(py::array w, py::array mult, py::array out) {
  if (w.ndim() != 2 || mult.ndim() != 2 || out.ndim() != 2)
    throw std::invalid_argument("w, mult, out: expected 2-d arrays");
  const long long rows = w.shape(0), groups = mult.shape(0), width = mult.shape(1);
  if (w.shape(1) != groups * width || out.shape(0) != rows * groups || out.shape(1) != width)
    throw std::invalid_argument("w (R, G*W), mult (G, W), out (R*G, W): shapes do not match");
  const float* wp = bindings::data_of<float>(w, "w", py::dtype::of<float>(), rows * groups * width);
  const double* mp = bindings::data_of<double>(mult, "mult", py::dtype::of<double>(), groups * width);
  double* op = bindings::data_of<double>(out, "out", py::dtype::of<double>(), rows * groups * width);
  py::gil_scoped_release release;
#if defined(SUBSETSUM_HAVE_OPENMP)
#pragma omp parallel for schedule(static)
#endif
  for (long long r = 0; r < rows; ++r) {
    const float* wr = wp + r * groups * width;
    double* orow = op + r * groups * width;
    for (long long k = 0; k < groups * width; ++k) orow[k] = mp[k] * static_cast<double>(wr[k]);
  }
}

// "best" by meet in the middle with a team of `threads` run one after another
// (mitm_team.hpp): the code of the GPU's block-per-problem kernel, for the tests to compare with
// the one-thread search. Single-threaded; outputs as solve_into's.
template <class T>
void solve_best_team_rows(const T* targets, const T* bases, const uint8_t* mask, long long batch,
                          int n, int threads, const SolveParams& params, const BatchOutput& out) {
  with_capacity(n, [&](auto cap) {
    constexpr int kCap = decltype(cap)::value;
    const long long stride = mitm_list_stride(n);
    std::vector<double> sums(3 * stride);
    std::vector<uint32_t> bits(3 * stride);
    const MitmScratch scratch = mitm_scratch(sums.data(), bits.data(), stride);
    auto shared = std::make_unique<MitmTeamShared<kCap>>();
    const SequentialTeam team{threads};
    for (long long b = 0; b < batch; ++b)
      solve_best_team<T, kCap>(team, *shared, bases + b * n, mask ? mask + b * n : nullptr, n,
                               static_cast<double>(targets[b]), params, scratch, out, b);
  });
}

void solve_best_team_into(py::array targets, py::array bases, py::object mask, int threads,
                          double eps, py::array out_subsets, py::array out_sums,
                          py::array out_errors, py::array out_sizes, py::array out_found,
                          py::array out_status, long long work_limit) {
  if (threads < 1 || threads > kMaxTeamThreads)
    throw std::invalid_argument("threads: expected 1 to " + std::to_string(kMaxTeamThreads));
  bindings::HostInputs in(targets, bases, mask);
  const SolveParams params =
      bindings::make_params("best", 0, 0, eps, "meet_in_the_middle", in.n, work_limit);
  bindings::HostOutputs out(out_subsets, py::none(), out_sums, out_errors, out_sizes, out_found,
                            out_status, in.batch, 0);
  py::gil_scoped_release release;
  if (in.dtype_size == 4)
    solve_best_team_rows<float>(static_cast<const float*>(in.targets_ptr),
                                static_cast<const float*>(in.bases_ptr), in.mask_ptr, in.batch,
                                in.n, threads, params, out.view);
  else
    solve_best_team_rows<double>(static_cast<const double*>(in.targets_ptr),
                                 static_cast<const double*>(in.bases_ptr), in.mask_ptr, in.batch,
                                 in.n, threads, params, out.view);
}

// Calls f with a pointer to the data of `a`, a 1-d array of uint8, uint16 or uint32 of `length`
// entries, typed as its dtype.
template <class F>
void with_unsigned_data(const py::array& a, const char* name, long long length, F&& f) {
  if (bindings::same_dtype(a.dtype(), py::dtype::of<uint8_t>()))
    f(bindings::input_data_of<uint8_t>(a, name, py::dtype::of<uint8_t>(), length));
  else if (bindings::same_dtype(a.dtype(), py::dtype::of<uint16_t>()))
    f(bindings::input_data_of<uint16_t>(a, name, py::dtype::of<uint16_t>(), length));
  else if (bindings::same_dtype(a.dtype(), py::dtype::of<uint32_t>()))
    f(bindings::input_data_of<uint32_t>(a, name, py::dtype::of<uint32_t>(), length));
  else
    throw std::invalid_argument(std::string(name) + ": expected uint8, uint16 or uint32, got " +
                                py::str(a.dtype()).cast<std::string>());
}

// record_chosen (chosen_record.hpp) over numpy arrays; returns (contrib float64 (P,), edge rows
// int32, edge columns int32, edge problems int64, edges of found problems).
py::tuple record_chosen_py(const py::array& kind, const py::array& bound, const py::array& factor,
                           const py::array& scale, const py::array& partner_step,
                           const py::array& members, const py::array& member_term,
                           double block_multiplier, const py::array& errors, const py::array& found,
                           const py::array& prob_rows, const py::array& positions,
                           const py::array& counts, const py::array& elements,
                           const py::array& w_chosen) {
  if (members.ndim() != 2) throw std::invalid_argument("members: expected a 2-d int32 array (G, W)");
  ChosenTerms t;
  t.groups = members.shape(0);
  t.width = members.shape(1);
  const auto i64 = py::dtype::of<int64_t>();
  const auto f64 = py::dtype::of<double>();
  t.kind = bindings::input_data_of<int8_t>(kind, "kind", py::dtype::of<int8_t>(), t.groups);
  t.bound = bindings::input_data_of<double>(bound, "bound", f64, t.groups);
  t.factor = bindings::input_data_of<double>(factor, "factor", f64, t.groups);
  t.scale = bindings::input_data_of<double>(scale, "scale", f64, t.groups);
  t.partner_step = bindings::input_data_of<int32_t>(partner_step, "partner_step",
                                                    py::dtype::of<int32_t>(), t.groups);
  t.members = bindings::input_data_of<int32_t>(members, "members", py::dtype::of<int32_t>(),
                                               t.groups * t.width);
  t.member_term = bindings::input_data_of<double>(member_term, "member_term", f64, t.groups * t.width);
  t.block_multiplier = block_multiplier;
  const long long n_problems = errors.size(), n_chosen = elements.size();
  const double* ep = bindings::input_data_of<double>(errors, "errors", f64, n_problems);
  const uint8_t* fp = bindings::input_data_of<uint8_t>(found, "found", py::dtype::of<bool>(), n_problems);
  const int64_t* rp = bindings::input_data_of<int64_t>(prob_rows, "prob_rows", i64, n_problems);
  const int64_t* gp = bindings::input_data_of<int64_t>(positions, "positions", i64, n_problems);
  const float* wp = bindings::input_data_of<float>(w_chosen, "w_chosen", py::dtype::of<float>(), n_chosen);
  py::array_t<double> contrib(n_problems);
  py::array_t<int32_t> rows(2 * n_chosen), cols(2 * n_chosen);
  py::array_t<int64_t> problems(2 * n_chosen);
  long long hit = 0, total = 0;
  with_unsigned_data(counts, "counts", n_problems, [&](const auto* cp) {
    with_unsigned_data(elements, "elements", n_chosen, [&](const auto* xp) {
      using Count = std::remove_cv_t<std::remove_pointer_t<decltype(cp)>>;
      using Element = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      const ChosenLists<Count, Element> chosen{cp, xp, n_chosen};
      py::gil_scoped_release release;
      hit = record_chosen(t, n_problems, ep, fp, rp, gp, chosen, wp, contrib.mutable_data(),
                          rows.mutable_data(), cols.mutable_data(), problems.mutable_data(), &total);
    });
  });
  rows.resize({total});
  cols.resize({total});
  problems.resize({total});
  return py::make_tuple(contrib, rows, cols, problems, hit);
}

// The row layout of varint_rows.hpp: `ptr` (R + 1,) int64, cumulative, starting anywhere.
long long rows_of(const py::array& ptr, const char* name) {
  if (ptr.ndim() != 1 || ptr.shape(0) < 1)
    throw std::invalid_argument(std::string(name) + ": expected a 1-d int64 array of at least 1 entry");
  return static_cast<long long>(ptr.shape(0)) - 1;
}

long long span_of(const int64_t* ptr, long long n_rows, const char* name) {
  for (long long r = 0; r < n_rows; ++r)
    if (ptr[r + 1] < ptr[r]) throw std::invalid_argument(std::string(name) + ": expected non-decreasing offsets");
  return n_rows ? ptr[n_rows] - ptr[0] : 0;
}

py::array_t<int64_t> varint_row_bytes_py(const py::array& indptr, const py::array& cols) {
  const long long n_rows = rows_of(indptr, "indptr");
  const int64_t* ip = bindings::input_data_of<int64_t>(indptr, "indptr", py::dtype::of<int64_t>(), n_rows + 1);
  const long long edges = span_of(ip, n_rows, "indptr");
  const int32_t* cp = bindings::input_data_of<int32_t>(cols, "cols", py::dtype::of<int32_t>(), edges);
  py::array_t<int64_t> out(n_rows);
  int64_t* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    varint_row_bytes(ip, n_rows, cp, op);
  }
  return out;
}

void varint_encode_into(const py::array& indptr, const py::array& cols, const py::array& byteptr,
                        py::array out) {
  const long long n_rows = rows_of(indptr, "indptr");
  const int64_t* ip = bindings::input_data_of<int64_t>(indptr, "indptr", py::dtype::of<int64_t>(), n_rows + 1);
  const int64_t* bp = bindings::input_data_of<int64_t>(byteptr, "byteptr", py::dtype::of<int64_t>(), n_rows + 1);
  const long long edges = span_of(ip, n_rows, "indptr");
  const int32_t* cp = bindings::input_data_of<int32_t>(cols, "cols", py::dtype::of<int32_t>(), edges);
  uint8_t* op = bindings::data_of<uint8_t>(out, "out", py::dtype::of<uint8_t>(), span_of(bp, n_rows, "byteptr"));
  py::gil_scoped_release release;
  varint_encode(ip, n_rows, cp, bp, op);
}

void sort_row_columns_py(const py::array& indptr, py::array cols, const py::array& rows) {
  const long long n_rows = rows_of(indptr, "indptr");
  const int64_t* ip = bindings::input_data_of<int64_t>(indptr, "indptr", py::dtype::of<int64_t>(), n_rows + 1);
  const long long edges = span_of(ip, n_rows, "indptr");
  int32_t* cp = bindings::data_of<int32_t>(cols, "cols", py::dtype::of<int32_t>(), edges);
  if (rows.ndim() != 1) throw std::invalid_argument("rows: expected a 1-d int64 array");
  const long long n_listed = static_cast<long long>(rows.shape(0));
  const int64_t* rp = bindings::input_data_of<int64_t>(rows, "rows", py::dtype::of<int64_t>(), n_listed);
  for (long long k = 0; k < n_listed; ++k)
    if (rp[k] < 0 || rp[k] >= n_rows)
      throw std::invalid_argument("rows: expected rows in [0, " + std::to_string(n_rows) + "), got " +
                                  std::to_string(rp[k]));
  py::gil_scoped_release release;
  sort_row_columns(ip, cp, rp, n_listed);
}

// varint_decode over numpy arrays: every row at indptr (out int32 holding exactly their
// columns), or with `dest` (int64 (R,)) row r at out[dest[r] ...] (negative: skipped; out of
// any length that holds them).
void varint_decode_into(const py::array& byteptr, const py::array& data, const py::array& indptr,
                        py::array out, const py::object& dest) {
  const long long n_rows = rows_of(byteptr, "byteptr");
  if (rows_of(indptr, "indptr") != n_rows)
    throw std::invalid_argument("byteptr, indptr: expected the same number of rows");
  const int64_t* bp = bindings::input_data_of<int64_t>(byteptr, "byteptr", py::dtype::of<int64_t>(), n_rows + 1);
  const int64_t* ip = bindings::input_data_of<int64_t>(indptr, "indptr", py::dtype::of<int64_t>(), n_rows + 1);
  const uint8_t* dp = bindings::input_data_of<uint8_t>(data, "data", py::dtype::of<uint8_t>(), span_of(bp, n_rows, "byteptr"));
  const long long edges = span_of(ip, n_rows, "indptr");
  const int64_t* dst = nullptr;
  long long size = edges;
  if (!dest.is_none()) {
    const py::array places = py::cast<py::array>(dest);
    dst = bindings::input_data_of<int64_t>(places, "dest", py::dtype::of<int64_t>(), n_rows);
    if (out.ndim() != 1) throw std::invalid_argument("out: expected a 1-d int32 array");
    size = static_cast<long long>(out.shape(0));
    for (long long r = 0; r < n_rows; ++r)
      if (dst[r] >= 0 && dst[r] + (ip[r + 1] - ip[r]) > size)
        throw std::invalid_argument("dest: row " + std::to_string(r) + " at " + std::to_string(dst[r]) +
                                    " does not fit out (" + std::to_string(size) + " columns)");
  }
  int32_t* op = bindings::data_of<int32_t>(out, "out", py::dtype::of<int32_t>(), size);
  py::gil_scoped_release release;
  varint_decode(bp, n_rows, dp, ip, op, dst);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "subsetsum CPU backend (OpenMP). Use subsetsum.solve; these are its internals.";
  main_thread_ident = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  m.def("solve_outer_into", &solve_outer_into, py::arg("targets"), py::arg("w"), py::arg("mult"),
        py::arg("mask"), py::arg("first"), py::arg("mode"), py::arg("max_size"), py::arg("k"),
        py::arg("eps"), py::arg("algorithm"), py::arg("out_subsets"), py::arg("out_indices"),
        py::arg("out_sums"), py::arg("out_errors"), py::arg("out_sizes"), py::arg("out_found"),
        py::arg("out_status"), py::arg("num_threads") = 0,
        py::arg("work_limit") = kDefaultWorkLimit,
        "solve_into for problems first .. first + B - 1 of rows x groups, bases gathered as\n"
        "loaded: problem b's element e is mult[b % G, e] * w[b // G, (b % G) * n + e] (float64);\n"
        "targets float64 (B,), w float32 (R, G*n), mult float64 (G, n), mask bool (G, n) (per\n"
        "group) or None, all C-contiguous; outputs as solve_into's (B rows). Releases the GIL.");
  m.def("solve_into", &solve_into, py::arg("targets"), py::arg("bases"), py::arg("mask"),
        py::arg("mode"), py::arg("max_size"), py::arg("k"), py::arg("eps"), py::arg("algorithm"),
        py::arg("out_subsets"), py::arg("out_indices"), py::arg("out_sums"),
        py::arg("out_errors"), py::arg("out_sizes"), py::arg("out_found"),
        py::arg("out_status"), py::arg("num_threads") = 0,
        py::arg("work_limit") = kDefaultWorkLimit,
        "Solve a batch in place. targets (B,) and bases (B, n) float32 or float64, C-contiguous\n"
        "(read only); mask (B, n) bool or None; outputs preallocated: out_subsets uint64 (B,) or\n"
        "out_indices int64 (B, k) prefilled with -1, out_sums/out_errors float64 (B,), out_sizes\n"
        "int32 (B,), out_found bool (B,), out_status uint8 (B,) (status_codes()). num_threads 0\n"
        "uses all cores. work_limit: search steps per problem. Releases the GIL; Ctrl-C stops\n"
        "every search within milliseconds and raises KeyboardInterrupt (outputs incomplete).");
  m.def(
      "status_codes",
      [] {
        py::dict codes;
        codes["done"] = static_cast<int>(STATUS_DONE);
        codes["exhausted"] = static_cast<int>(STATUS_EXHAUSTED);
        codes["rejected"] = static_cast<int>(STATUS_REJECTED);
        codes["stopped"] = static_cast<int>(STATUS_STOPPED);
        return codes;
      },
      "Values of out_status: done, exhausted (work bound reached), rejected (|target| + sum of\n"
      "|elements| >= sum_limit()), stopped (Ctrl-C).");
  m.def("sum_limit", [] { return kSumLimit; },
        "Problems whose |target| plus sum of |elements| reaches this are not solved.");
  m.def("default_work_limit", [] { return kDefaultWorkLimit; },
        "Search steps per problem when solve() is not given work_limit.");
  m.def("algorithm_names", &algorithm_names, "Names of the algorithms, in id order.");
  m.def(
      "choose_algorithm",
      [](const std::string& mode, int n, int k) {
        return algorithm_names()[choose_algorithm(mode_id(mode), n, k)];
      },
      py::arg("mode"), py::arg("n"), py::arg("k") = 0,
      "The algorithm 'auto' picks for (mode, n, k); it never depends on the data.");
  m.def(
      "algorithm_supports",
      [](const std::string& alg, const std::string& mode) {
        return algorithm_supports(algorithm_id(alg), mode_id(mode));
      },
      py::arg("algorithm"), py::arg("mode"), "Whether the algorithm solves the mode.");
  m.def(
      "algorithms_for_mode",
      [](const std::string& mode) {
        std::vector<std::string> names;
        for (int a = 0; a < ALG_COUNT; ++a)
          if (algorithm_supports(a, mode_id(mode))) names.push_back(algorithm_names()[a]);
        return names;
      },
      py::arg("mode"), "The algorithms that solve the mode.");
  m.def(
      "max_elements", [](const std::string& alg) { return kMaxElements[algorithm_id(alg)]; },
      py::arg("algorithm"), "Largest n (elements per problem) the algorithm accepts.");
  m.def(
      "estimated_work",
      [](const std::string& alg, int n, int k, int max_size) {
        return estimated_work(algorithm_id(alg), n, k, max_size);
      },
      py::arg("algorithm"), py::arg("n"), py::arg("k"), py::arg("max_size"),
      "Rough operations per problem (used to size chunks).");
  m.def("gather_elements_into", &gather_elements_into, py::arg("w"), py::arg("mult"), py::arg("out"),
        "out[r * G + g, e] = mult[g, e] * w[r, g * W + e]: w float32 (R, G*W), mult float64 (G, W),\n"
        "out float64 (R*G, W), all C-contiguous. Releases the GIL; all cores.");
  m.def("subset_chosen", &subset_chosen, py::arg("subsets"), py::arg("w"), py::arg("width"),
        "(counts uint8 (B,), positions uint8 (K,), weights float32 (K,)) of subsets uint64 (B,)\n"
        "over width <= 64 elements each: every subset's size, its elements' positions problem by\n"
        "problem (increasing) and w[b * width + position] of w float32 (B * width,).");
  m.def("subset_pairs", &subset_pairs, py::arg("subsets"),
        "(problem int64 (E,), element int64 (E,)) of every set bit of subsets uint64 (B,),\n"
        "problem-major, elements increasing.");
  m.def("philox_uniform_into", &philox_uniform_into, py::arg("seed"), py::arg("stream"),
        py::arg("layer"), py::arg("rows"), py::arg("cols"), py::arg("out"), py::arg("outer"),
        py::arg("num_threads") = 0, py::arg("kernel") = "auto",
        "Source weights uniform in (-1, 1), in place (contract: subsetsum/philox.hpp).\n"
        "seed < 2^64, stream and layer < 2^32; rows int64 (R,) below 2^32 and cols int64 (C,)\n"
        "below 2^34, C-contiguous. outer=True: out float32 (R, C) gets the value at (rows[i],\n"
        "cols[j]); outer=False: R == C and out float32 (R,) gets the value at (rows[i], cols[i]).\n"
        "Values are odd multiples of 2^-24; identical for any num_threads (0: all cores).\n"
        "kernel: 'auto' (the fastest this CPU runs), 'scalar' (the reference), 'avx2' or\n"
        "'avx512' (ValueError where the CPU lacks it); identical values from each.\n"
        "Releases the GIL.");
  m.def("philox_bernoulli_into", &philox_bernoulli_into, py::arg("seed"), py::arg("stream"),
        py::arg("layer"), py::arg("rows"), py::arg("cols"), py::arg("threshold"), py::arg("out"),
        py::arg("outer"), py::arg("num_threads") = 0, py::arg("kernel") = "auto",
        "Source Bernoulli bits, in place: True where the weight's 32-bit word is below threshold\n"
        "(at most 2^32; see philox_bernoulli_threshold). rows, cols, outer and kernel as in\n"
        "philox_uniform_into; out bool (R, C) or (R,). Releases the GIL.");
  m.def("philox_bernoulli_threshold", &bernoulli_threshold, py::arg("p"),
        "floor(p * 2^32) for p in [0, 1], so p = 1 gives 2^32 (always) and p = 0 gives 0 (never).");
  m.def("philox4x32_10_into", &philox4x32_10_into, py::arg("counters"), py::arg("key"),
        py::arg("out"), py::arg("num_threads") = 0,
        "Raw Philox4x32-10, in place: counters uint32 (N, 4), key uint32 (2,), out uint32 (N, 4),\n"
        "all C-contiguous; out[i] = philox4x32_10(counters[i], key). Releases the GIL.");
  m.def("solve_best_team_into", &solve_best_team_into, py::arg("targets"), py::arg("bases"),
        py::arg("mask"), py::arg("threads"), py::arg("eps"), py::arg("out_subsets"),
        py::arg("out_sums"), py::arg("out_errors"), py::arg("out_sizes"), py::arg("out_found"),
        py::arg("out_status"), py::arg("work_limit") = kDefaultWorkLimit,
        "mode 'best' by the GPU's block-per-problem meet in the middle (mitm_team.hpp), its\n"
        "`threads` run one after another on the host: for tests. Outputs as solve_into's.");
  m.def("record_chosen", &record_chosen_py, py::arg("kind"), py::arg("bound"), py::arg("factor"),
        py::arg("scale"), py::arg("partner_step"), py::arg("members"), py::arg("member_term"),
        py::arg("block_multiplier"), py::arg("errors"), py::arg("found"), py::arg("prob_rows"),
        py::arg("positions"), py::arg("counts"), py::arg("elements"), py::arg("w_chosen"),
        "A ticket's bookkeeping of solved problems (csrc/cpu/chosen_record.hpp): per group-matrix\n"
        "row kind int8, bound, factor, scale float64 (G,), partner_step int32 (G,); members int32\n"
        "(G, W), member_term float64 (G, W); per problem errors float64, found bool, prob_rows and\n"
        "positions int64 (P,); counts (P,) of chosen elements per problem, their positions\n"
        "elements (K,) (both uint8, uint16 or uint32) and weights w_chosen float32 (K,). Returns\n"
        "(contrib float64 (P,), edge rows int32, edge cols int32, edge problems int64, edges of\n"
        "found problems), found problems' edges first. Releases the GIL.");
  m.def("varint_row_bytes", &varint_row_bytes_py, py::arg("indptr"), py::arg("cols"),
        "Bytes of each row's varint encoding (int64 (R,)): indptr int64 (R + 1,) cumulative edge\n"
        "counts (starting anywhere), cols int32 increasing within rows (csrc/cpu/varint_rows.hpp).");
  m.def("varint_encode_into", &varint_encode_into, py::arg("indptr"), py::arg("cols"),
        py::arg("byteptr"), py::arg("out"),
        "Encode rows into out uint8 at byteptr int64 (R + 1,) (from varint_row_bytes). All cores.");
  m.def("varint_decode_into", &varint_decode_into, py::arg("byteptr"), py::arg("data"),
        py::arg("indptr"), py::arg("out"), py::arg("dest") = py::none(),
        "Decode rows of data uint8 into out int32 at indptr, or with dest (int64 (R,)) row r at\n"
        "dest[r] (negative: skipped); ValueError on damaged data or a row that does not fit out.\n"
        "All cores.");
  m.def("sort_row_columns", &sort_row_columns_py, py::arg("indptr"), py::arg("cols"), py::arg("rows"),
        "Put the int32 columns of the listed rows (int64, each once) in increasing order in place\n"
        "(indptr int64 (R + 1,) cumulative, starting anywhere); each row's columns come as a few\n"
        "runs already in order, merged in linear time. All cores.");
  m.def("max_threads", &cpu_max_threads, "Threads the CPU backend uses by default.");
  m.def(
      "set_thread_default",
      [](int threads) {
        if (threads < 1) throw std::invalid_argument("threads: expected an int >= 1");
        cpu_set_thread_default(threads);
      },
      py::arg("threads"),
      "Threads the compiled calls made from the calling thread use when given num_threads 0,\n"
      "from now on (other threads keep theirs): max_threads() then returns it there.");
  m.def(
      "set_signal_checks",
      [](bool enabled) {
        const bool before = signal_checks;
        signal_checks = enabled;
        return before;
      },
      py::arg("enabled"),
      "Whether the solves called from the calling thread stop on Ctrl-C (default True; Python\n"
      "delivers it to the main thread only, so elsewhere they never do). Returns the previous\n"
      "setting. Off, a solve on one thread runs on the caller with no watching thread beside it.");
  m.def("has_openmp", &cpu_has_openmp, "Whether the CPU backend was built with OpenMP.");
  m.def("cpu_searches", &cpu_searches_supported,
        "Vector searches of sizes 1-3 this CPU runs, narrowest first: 'scalar', then 'avx2',\n"
        "'avx512' where the CPU has them (csrc/cpu/pair_search.hpp).");
  m.def("cpu_search", &cpu_search_name, "The search the CPU solver runs now.");
  m.def("set_cpu_search", &cpu_set_search, py::arg("search"),
        "Narrow the CPU solver's searches to one of cpu_searches() (every thread, from now on;\n"
        "the widest by default). The subsets are the same with any of them: for tests and\n"
        "benchmarks.");
}
