// subsetsum._core: the CPU backend. Arrays arrive through the buffer protocol, already
// validated and contiguous (python/subsetsum/solve.py); outputs are preallocated by Python and
// filled in place, with the GIL released while solving.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "../cpu/driver.hpp"
#include "subsetsum/names.hpp"

namespace py = pybind11;
using namespace subsetsum;

namespace {

template <class T>
T* data_of(py::array& a, const char* name, const py::dtype& dtype, py::ssize_t length) {
  if (!a.dtype().is(dtype) || !(a.flags() & py::array::c_style) || a.size() != length)
    throw std::invalid_argument(std::string(name) + ": expected a C-contiguous array of " +
                                std::to_string(length) + " " + std::string(py::str(dtype)));
  return static_cast<T*>(a.mutable_data());
}

void solve_into(py::array targets, py::array bases, py::object mask, const std::string& mode,
                int max_size, int k, double eps, const std::string& algorithm,
                py::object out_subsets, py::object out_indices, py::array out_sums,
                py::array out_errors, py::array out_sizes, py::array out_found, int num_threads) {
  if (bases.ndim() != 2) throw std::invalid_argument("bases: expected a 2-D array");
  const long long batch = bases.shape(0);
  const int n = static_cast<int>(bases.shape(1));
  SolveParams params{mode_id(mode), algorithm_id(algorithm), max_size, k, eps};
  if (!algorithm_supports(params.algorithm, params.mode))
    throw std::invalid_argument("algorithm: '" + algorithm + "' does not solve mode '" + mode + "'");
  if (n > kMaxElements[params.algorithm])
    throw std::invalid_argument("bases: too many elements per problem for '" + algorithm + "'");

  BatchOutput out{};
  out.k = k;
  if (!out_subsets.is_none()) {
    auto a = out_subsets.cast<py::array>();
    out.subsets = data_of<uint64_t>(a, "out_subsets", py::dtype::of<uint64_t>(), batch);
  } else if (!out_indices.is_none()) {
    auto a = out_indices.cast<py::array>();
    out.indices = data_of<int64_t>(a, "out_indices", py::dtype::of<int64_t>(), batch * k);
  } else {
    throw std::invalid_argument("out_subsets or out_indices must be given");
  }
  out.sums = data_of<double>(out_sums, "out_sums", py::dtype::of<double>(), batch);
  out.errors = data_of<double>(out_errors, "out_errors", py::dtype::of<double>(), batch);
  out.sizes = data_of<int32_t>(out_sizes, "out_sizes", py::dtype::of<int32_t>(), batch);
  out.found = data_of<bool>(out_found, "out_found", py::dtype::of<bool>(), batch);

  const uint8_t* mask_ptr = nullptr;
  py::array mask_arr;
  if (!mask.is_none()) {
    mask_arr = mask.cast<py::array>();
    mask_ptr = data_of<uint8_t>(mask_arr, "mask", py::dtype::of<bool>(), batch * n);
  }
  if (bases.dtype().is(py::dtype::of<float>())) {
    const float* t = data_of<float>(targets, "targets", py::dtype::of<float>(), batch);
    const float* x = data_of<float>(bases, "bases", py::dtype::of<float>(), batch * n);
    py::gil_scoped_release release;
    solve_batch_cpu<float>(t, x, mask_ptr, batch, n, params, out, num_threads);
  } else {
    const double* t = data_of<double>(targets, "targets", py::dtype::of<double>(), batch);
    const double* x = data_of<double>(bases, "bases", py::dtype::of<double>(), batch * n);
    py::gil_scoped_release release;
    solve_batch_cpu<double>(t, x, mask_ptr, batch, n, params, out, num_threads);
  }
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "subsetsum CPU backend (OpenMP). Use subsetsum.solve; these are its internals.";
  m.def("solve_into", &solve_into, py::arg("targets"), py::arg("bases"), py::arg("mask"),
        py::arg("mode"), py::arg("max_size"), py::arg("k"), py::arg("eps"), py::arg("algorithm"),
        py::arg("out_subsets"), py::arg("out_indices"), py::arg("out_sums"),
        py::arg("out_errors"), py::arg("out_sizes"), py::arg("out_found"),
        py::arg("num_threads") = 0,
        "Solve a batch in place. targets (B,) and bases (B, n) float32 or float64, C-contiguous;\n"
        "mask (B, n) bool or None; outputs preallocated: out_subsets uint64 (B,) or out_indices\n"
        "int64 (B, k) prefilled with -1, out_sums/out_errors float64 (B,), out_sizes int32 (B,),\n"
        "out_found bool (B,). num_threads 0 uses all cores. Releases the GIL.");
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
  m.def("max_threads", &cpu_max_threads, "Threads the CPU backend uses by default.");
  m.def("has_openmp", &cpu_has_openmp, "Whether the CPU backend was built with OpenMP.");
}
