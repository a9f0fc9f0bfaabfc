// subsetsum._cuda: the CUDA backend. Built whenever nvcc is found and linked against the static
// CUDA runtime, so it imports without a driver (device_count() is then 0). Device arrays come in
// as raw pointers (from __cuda_array_interface__ / data_ptr(), read in python/subsetsum/_gpu.py)
// with the caller's stream; host arrays are copied over and back.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "../cuda/launch.hpp"
#include "arrays.hpp"

namespace py = pybind11;
using namespace subsetsum;

namespace {

template <class U>
U* pointer(intptr_t address) { return reinterpret_cast<U*>(address); }

void solve_device(intptr_t targets, intptr_t bases, intptr_t mask, int dtype_size, long long batch,
                  int n, const std::string& mode, int max_size, int k, double eps,
                  const std::string& algorithm, intptr_t out_subsets, intptr_t out_indices,
                  intptr_t out_sums, intptr_t out_errors, intptr_t out_sizes, intptr_t out_found,
                  intptr_t out_status, intptr_t stream, long long work_limit) {
  if (dtype_size != 4 && dtype_size != 8)
    throw std::invalid_argument("dtype_size: expected 4 (float32) or 8 (float64)");
  const SolveParams params =
      bindings::make_params(mode, max_size, k, eps, algorithm, n, work_limit);
  BatchOutput out{pointer<uint64_t>(out_subsets), pointer<int64_t>(out_indices),
                  pointer<double>(out_sums),      pointer<double>(out_errors),
                  pointer<int32_t>(out_sizes),    pointer<bool>(out_found),
                  pointer<uint8_t>(out_status),   k};
  py::gil_scoped_release release;
  cuda_solve_device(pointer<const void>(targets), pointer<const void>(bases),
                    pointer<const uint8_t>(mask), dtype_size, batch, n, params, out, stream);
}

void solve_host(py::array targets, py::array bases, py::object mask, const std::string& mode,
                int max_size, int k, double eps, const std::string& algorithm,
                py::object out_subsets, py::object out_indices, py::array out_sums,
                py::array out_errors, py::array out_sizes, py::array out_found,
                py::array out_status, long long work_limit) {
  bindings::HostInputs in(targets, bases, mask);
  const SolveParams params =
      bindings::make_params(mode, max_size, k, eps, algorithm, in.n, work_limit);
  bindings::HostOutputs out(out_subsets, out_indices, out_sums, out_errors, out_sizes, out_found,
                            out_status, in.batch, k);
  py::gil_scoped_release release;
  cuda_solve_host(in.targets_ptr, in.bases_ptr, in.mask_ptr, in.dtype_size, in.batch, in.n,
                  params, out.view);
}

void check_rows(uint32_t first_row, long long num_rows, long long num_cols) {
  if (num_rows < 0 || num_cols < 0)
    throw std::invalid_argument("num_rows, num_cols: expected >= 0");
  if (static_cast<long long>(first_row) + num_rows > (1LL << 32))
    throw std::invalid_argument("first_row + num_rows: expected at most 2^32 (rows are 32-bit)");
  if (num_cols > (1LL << 34)) throw std::invalid_argument("num_cols: expected at most 2^34");
}

PhiloxGather device_gather(uint64_t seed, uint32_t stream, uint32_t layer, intptr_t rows,
                          long long num_rows, intptr_t cols, long long num_cols, bool outer) {
  if (num_rows < 0 || num_cols < 0)
    throw std::invalid_argument("num_rows, num_cols: expected >= 0");
  if (!outer && num_rows != num_cols)
    throw std::invalid_argument("rows, cols: outer=False needs as many rows as cols");
  return PhiloxGather{seed, stream, layer, pointer<const int64_t>(rows), num_rows,
                      pointer<const int64_t>(cols), num_cols, outer};
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "subsetsum CUDA backend. Use subsetsum.solve; these are its internals.";
  m.def("device_count", &cuda_device_count, "CUDA devices visible (0 without a driver).");
  m.def("runtime_version", &cuda_runtime_version, "CUDA runtime version this module was built with.");
  m.def("device_name", &cuda_device_name, py::arg("device"), "Name of a CUDA device.");
  m.def(
      "mem_info",
      [](int device) {
        size_t free_bytes = 0, total_bytes = 0;
        cuda_mem_info(device, &free_bytes, &total_bytes);
        return py::make_tuple(free_bytes, total_bytes);
      },
      py::arg("device"), "(free, total) bytes of device memory.");
  m.def("set_min_size_first_pass_sizes", &cuda_set_min_size_first_pass_sizes, py::arg("sizes"),
        "min_size: the exhaustive sizes (1-3) a first pass tries, one thread per problem, before\n"
        "the rest goes to a second; 0: one pass. For benchmarks; every setting gives the same answers.");
  m.def("min_size_first_pass_sizes", &cuda_min_size_first_pass_sizes,
        "The sizes min_size's first pass tries (0: one pass).");
  m.def("set_best_team_threads", &cuda_set_best_team_threads, py::arg("threads"),
        "best by meet in the middle: -1 picks the block size by n (the default, as measured), 0\n"
        "solves one problem per thread, 32-256 (a multiple of 32) one problem per block of that\n"
        "many threads. For benchmarks and tests; every setting gives the same answers.");
  m.def("best_team_threads", &cuda_best_team_threads,
        "Threads per problem of best's meet in the middle (-1: by n; 0: one problem per thread).");
  m.def(
      "philox_uniform_rows",
      [](uint64_t seed, uint32_t stream, uint32_t layer, uint32_t first_row, long long num_rows,
         long long num_cols, intptr_t out, intptr_t cuda_stream) {
        check_rows(first_row, num_rows, num_cols);
        cuda_philox_uniform_rows(seed, stream, layer, first_row, num_rows, num_cols,
                                 pointer<float>(out), cuda_stream);
      },
      py::arg("seed"), py::arg("stream"), py::arg("layer"), py::arg("first_row"),
      py::arg("num_rows"), py::arg("num_cols"), py::arg("out"), py::arg("cuda_stream"),
      "Philox uniform(-1, 1) source values of rows first_row.. (num_rows of them) and columns\n"
      "0..num_cols-1 into the float32 device array at `out` (row-major), on `cuda_stream`.");
  m.def(
      "philox_bernoulli_rows",
      [](uint64_t seed, uint32_t stream, uint32_t layer, uint32_t first_row, long long num_rows,
         long long num_cols, uint64_t threshold, intptr_t out, intptr_t cuda_stream) {
        check_rows(first_row, num_rows, num_cols);
        cuda_philox_bernoulli_rows(seed, stream, layer, first_row, num_rows, num_cols, threshold,
                                   pointer<bool>(out), cuda_stream);
      },
      py::arg("seed"), py::arg("stream"), py::arg("layer"), py::arg("first_row"),
      py::arg("num_rows"), py::arg("num_cols"), py::arg("threshold"), py::arg("out"),
      py::arg("cuda_stream"),
      "Philox Bernoulli bits (word < threshold, threshold <= 2^32) as philox_uniform_rows, into a\n"
      "bool device array.");
  m.def(
      "philox_uniform_gather",
      [](uint64_t seed, uint32_t stream, uint32_t layer, intptr_t rows, long long num_rows,
         intptr_t cols, long long num_cols, bool outer, intptr_t out, intptr_t cuda_stream) {
        const PhiloxGather g = device_gather(seed, stream, layer, rows, num_rows, cols, num_cols, outer);
        cuda_philox_uniform_gather(g, pointer<float>(out), cuda_stream);
      },
      py::arg("seed"), py::arg("stream"), py::arg("layer"), py::arg("rows"), py::arg("num_rows"),
      py::arg("cols"), py::arg("num_cols"), py::arg("outer"), py::arg("out"),
      py::arg("cuda_stream"),
      "Philox uniform(-1, 1) source values at int64 device arrays rows (num_rows,) and cols\n"
      "(num_cols,), into the float32 device array at `out`: (num_rows, num_cols) row-major when\n"
      "outer, else (num_rows,) at (rows[i], cols[i]). Indices are checked by the caller.");
  m.def(
      "philox_bernoulli_gather",
      [](uint64_t seed, uint32_t stream, uint32_t layer, intptr_t rows, long long num_rows,
         intptr_t cols, long long num_cols, bool outer, uint64_t threshold, intptr_t out,
         intptr_t cuda_stream) {
        const PhiloxGather g = device_gather(seed, stream, layer, rows, num_rows, cols, num_cols, outer);
        cuda_philox_bernoulli_gather(g, threshold, pointer<bool>(out), cuda_stream);
      },
      py::arg("seed"), py::arg("stream"), py::arg("layer"), py::arg("rows"), py::arg("num_rows"),
      py::arg("cols"), py::arg("num_cols"), py::arg("outer"), py::arg("threshold"),
      py::arg("out"), py::arg("cuda_stream"),
      "Philox Bernoulli bits (word < threshold) as philox_uniform_gather, into a bool device array.");
  m.def("solve_device", &solve_device, py::arg("targets"), py::arg("bases"), py::arg("mask"),
        py::arg("dtype_size"), py::arg("batch"), py::arg("n"), py::arg("mode"),
        py::arg("max_size"), py::arg("k"), py::arg("eps"), py::arg("algorithm"),
        py::arg("out_subsets"), py::arg("out_indices"), py::arg("out_sums"),
        py::arg("out_errors"), py::arg("out_sizes"), py::arg("out_found"),
        py::arg("out_status"), py::arg("stream"), py::arg("work_limit") = kDefaultWorkLimit,
        "Solve a batch of device arrays (raw pointers, 0 for none) asynchronously on `stream`.\n"
        "Layouts as in _core.solve_into; the caller keeps the arrays alive until the stream\n"
        "has run.");
  m.def("solve_host", &solve_host, py::arg("targets"), py::arg("bases"), py::arg("mask"),
        py::arg("mode"), py::arg("max_size"), py::arg("k"), py::arg("eps"), py::arg("algorithm"),
        py::arg("out_subsets"), py::arg("out_indices"), py::arg("out_sums"),
        py::arg("out_errors"), py::arg("out_sizes"), py::arg("out_found"),
        py::arg("out_status"), py::arg("work_limit") = kDefaultWorkLimit,
        "Solve host (numpy) arrays on the current device: copy in, solve, copy out.");
}
