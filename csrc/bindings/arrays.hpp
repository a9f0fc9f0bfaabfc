// Shared by the _core and _cuda bindings: numpy buffers to raw pointers and the solver's
// parameter structs, with the checks both modules need.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "subsetsum/names.hpp"
#include "subsetsum/solve_problem.hpp"

namespace subsetsum {
namespace bindings {

namespace py = pybind11;

// Equal dtypes, not only the same dtype object: numpy makes new equal ones (newbyteorder("="),
// pickling), and a byte-swapped one is not equal.
inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
  return a.is(b) || py::detail::npy_api::get().PyArray_EquivTypes_(a.ptr(), b.ptr());
}

inline void check_array(const py::array& a, const char* name, const py::dtype& dtype,
                        py::ssize_t length) {
  if (!same_dtype(a.dtype(), dtype) || !(a.flags() & py::array::c_style) || a.size() != length)
    throw std::invalid_argument(std::string(name) + ": expected a C-contiguous array of " +
                                std::to_string(length) + " " + std::string(py::str(dtype)));
}

// An output array's data (must be writeable).
template <class T>
T* data_of(py::array& a, const char* name, const py::dtype& dtype, py::ssize_t length) {
  check_array(a, name, dtype, length);
  if (!a.writeable()) throw std::invalid_argument(std::string(name) + ": array is read-only");
  return static_cast<T*>(a.mutable_data());
}

// An input array's data: only read, so read-only arrays (np.frombuffer, memory maps) are fine.
template <class T>
const T* input_data_of(const py::array& a, const char* name, const py::dtype& dtype,
                       py::ssize_t length) {
  check_array(a, name, dtype, length);
  return static_cast<const T*>(a.data());
}

inline SolveParams make_params(const std::string& mode, int max_size, int k, double eps,
                               const std::string& algorithm, int n, long long work_limit) {
  if (work_limit < 1)
    throw std::invalid_argument("work_limit: expected an int >= 1, got " +
                                std::to_string(work_limit));
  SolveParams params{mode_id(mode), algorithm_id(algorithm), max_size, k, eps, work_limit,
                     nullptr};
  if (!algorithm_supports(params.algorithm, params.mode))
    throw std::invalid_argument("algorithm: '" + algorithm + "' does not solve mode '" + mode + "'");
  if (n > kMaxElements[params.algorithm])
    throw std::invalid_argument("bases: too many elements per problem for '" + algorithm + "'");
  return params;
}

// Output arrays preallocated by Python (numpy), checked and viewed as a BatchOutput.
struct HostOutputs {
  py::array subsets, indices, sums, errors, sizes, found, status;
  BatchOutput view{};

  HostOutputs(py::object out_subsets, py::object out_indices, py::array out_sums,
              py::array out_errors, py::array out_sizes, py::array out_found,
              py::array out_status, long long batch, int k)
      : sums(out_sums), errors(out_errors), sizes(out_sizes), found(out_found),
        status(out_status) {
    view.k = k;
    if (!out_subsets.is_none()) {
      subsets = out_subsets.cast<py::array>();
      view.subsets = data_of<uint64_t>(subsets, "out_subsets", py::dtype::of<uint64_t>(), batch);
    } else if (!out_indices.is_none()) {
      indices = out_indices.cast<py::array>();
      view.indices = data_of<int64_t>(indices, "out_indices", py::dtype::of<int64_t>(), batch * k);
    } else {
      throw std::invalid_argument("out_subsets or out_indices must be given");
    }
    view.sums = data_of<double>(sums, "out_sums", py::dtype::of<double>(), batch);
    view.errors = data_of<double>(errors, "out_errors", py::dtype::of<double>(), batch);
    view.sizes = data_of<int32_t>(sizes, "out_sizes", py::dtype::of<int32_t>(), batch);
    view.found = data_of<bool>(found, "out_found", py::dtype::of<bool>(), batch);
    view.status = data_of<uint8_t>(status, "out_status", py::dtype::of<uint8_t>(), batch);
  }
};

// Input arrays (float32 or float64, matching dtypes) and the optional bool mask.
struct HostInputs {
  py::array targets, bases, mask;
  const void* targets_ptr = nullptr;
  const void* bases_ptr = nullptr;
  const uint8_t* mask_ptr = nullptr;
  int dtype_size = 0;
  long long batch = 0;
  int n = 0;

  HostInputs(py::array t, py::array x, py::object m) : targets(t), bases(x) {
    if (bases.ndim() != 2) throw std::invalid_argument("bases: expected a 2-D array");
    batch = bases.shape(0);
    n = static_cast<int>(bases.shape(1));
    if (same_dtype(bases.dtype(), py::dtype::of<float>())) {
      dtype_size = 4;
      targets_ptr = input_data_of<float>(targets, "targets", py::dtype::of<float>(), batch);
      bases_ptr = input_data_of<float>(bases, "bases", py::dtype::of<float>(), batch * n);
    } else {
      dtype_size = 8;
      targets_ptr = input_data_of<double>(targets, "targets", py::dtype::of<double>(), batch);
      bases_ptr = input_data_of<double>(bases, "bases", py::dtype::of<double>(), batch * n);
    }
    if (!m.is_none()) {
      mask = m.cast<py::array>();
      mask_ptr = input_data_of<uint8_t>(mask, "mask", py::dtype::of<bool>(), batch * n);
    }
  }
};

}  // namespace bindings
}  // namespace subsetsum
