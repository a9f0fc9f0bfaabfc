// subsetsum._core: the CPU backend. Arrays arrive through the buffer protocol, already
// validated and contiguous (python/subsetsum/solve.py); outputs are preallocated by Python and
// filled in place, with the GIL released while solving.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "../cpu/driver.hpp"
#include "arrays.hpp"

namespace py = pybind11;
using namespace subsetsum;

namespace {

void solve_into(py::array targets, py::array bases, py::object mask, const std::string& mode,
                int max_size, int k, double eps, const std::string& algorithm,
                py::object out_subsets, py::object out_indices, py::array out_sums,
                py::array out_errors, py::array out_sizes, py::array out_found, int num_threads) {
  bindings::HostInputs in(targets, bases, mask);
  const SolveParams params = bindings::make_params(mode, max_size, k, eps, algorithm, in.n);
  bindings::HostOutputs out(out_subsets, out_indices, out_sums, out_errors, out_sizes, out_found,
                            in.batch, k);
  py::gil_scoped_release release;
  if (in.dtype_size == 4)
    solve_batch_cpu<float>(static_cast<const float*>(in.targets_ptr),
                           static_cast<const float*>(in.bases_ptr), in.mask_ptr, in.batch, in.n,
                           params, out.view, num_threads);
  else
    solve_batch_cpu<double>(static_cast<const double*>(in.targets_ptr),
                            static_cast<const double*>(in.bases_ptr), in.mask_ptr, in.batch, in.n,
                            params, out.view, num_threads);
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
