"""The CUDA backend behind ``solve(..., backend="cuda")``.

Device arrays (torch CUDA tensors, cupy arrays) are passed to the kernels as raw pointers with
the caller's current stream: no copies when dtype and layout already fit, and the results are
allocated in the caller's library on the same device. Host arrays are copied to the current
device and the results back, in slices that fit in device memory.
"""

from __future__ import annotations

import numpy as np

from .solve import (
    STATUS, SolveResult, _check_problem, _host_arrays, _Outputs, _to_numpy, _wrap,
    allocate_outputs, float_dtype, progress_reporter, raise_if_rejected,
)

# Problems per kernel call on device inputs; between slices Ctrl-C and progress are seen.
DEVICE_SLICE = 1 << 24


def cuda_module():
    """The compiled CUDA module, with a clear error when it cannot run here."""
    try:
        from . import _cuda
    except ImportError as exc:
        raise RuntimeError(
            "backend='cuda': this build of subsetsum has no CUDA support (it was built "
            "without nvcc); reinstall where the CUDA toolkit is present"
        ) from exc
    if _cuda.device_count() == 0:
        raise RuntimeError("backend='cuda': no CUDA device is present (or no driver)")
    return _cuda


class _TorchArrays:
    """Adapter for torch CUDA tensors."""

    def __init__(self, like):
        import torch

        self.torch = torch
        self.device = like.device

    def check_device(self, name, a):
        if not (type(a).__module__.startswith("torch") and a.device == self.device):
            raise ValueError(f"{name}: expected a torch tensor on {self.device}, got "
                             f"{type(a).__name__} on {getattr(a, 'device', 'the host')}")

    def float_array(self, name, a, dtype=None):
        torch = self.torch
        if dtype is None:
            if a.dtype in (torch.float32, torch.float64):
                dtype = a.dtype
            elif a.dtype == torch.float16 or a.dtype == torch.bfloat16:
                dtype = torch.float32
            elif a.dtype.is_complex:
                raise TypeError(f"{name}: expected a real-valued tensor, got dtype {a.dtype}")
            else:
                dtype = torch.float64
        return a.detach().to(dtype=dtype).contiguous()

    def bool_array(self, name, a):
        if a.dtype != self.torch.bool:
            if a.dtype.is_floating_point or ((a != 0) & (a != 1)).any():
                raise TypeError(f"mask: expected a bool tensor (or 0/1 integers), got dtype {a.dtype}")
            a = a.to(self.torch.bool)
        return a.contiguous()

    def all_finite(self, a):
        return bool(self.torch.isfinite(a).all())

    def dtype_size(self, a):
        return a.element_size()

    def ptr(self, a):
        return 0 if a is None else int(a.data_ptr())

    def stream(self):
        return int(self.torch.cuda.current_stream(self.device).cuda_stream)

    def synchronize(self):
        self.torch.cuda.current_stream(self.device).synchronize()

    def device_context(self):
        return self.torch.cuda.device(self.device)

    def device_index(self):
        return self.device.index if self.device.index is not None else self.torch.cuda.current_device()

    def outputs(self, batch, spec):
        torch, dev = self.torch, self.device
        return _Outputs(
            subsets=None if spec.wide else torch.zeros(batch, dtype=torch.uint64, device=dev),
            indices=torch.full((batch, spec.k), -1, dtype=torch.int64, device=dev) if spec.wide else None,
            sums=torch.zeros(batch, dtype=torch.float64, device=dev),
            errors=torch.zeros(batch, dtype=torch.float64, device=dev),
            sizes=torch.zeros(batch, dtype=torch.int32, device=dev),
            found=torch.zeros(batch, dtype=torch.bool, device=dev),
            status=torch.zeros(batch, dtype=torch.uint8, device=dev),
            algorithm=spec.algorithm,
        )


class _CupyArrays:
    """Adapter for cupy arrays."""

    def __init__(self, like):
        import cupy

        self.cupy = cupy
        self.device = like.device

    def check_device(self, name, a):
        if not (type(a).__module__.startswith("cupy") and a.device == self.device):
            raise ValueError(f"{name}: expected a cupy array on device {self.device.id}, got "
                             f"{type(a).__name__}")

    def float_array(self, name, a, dtype=None):
        if dtype is None:
            dtype = float_dtype(name, a.dtype)
        return self.cupy.ascontiguousarray(a, dtype=dtype)

    def bool_array(self, name, a):
        cp = self.cupy
        if a.dtype != cp.bool_:
            if a.dtype.kind not in "biu" or bool(((a != 0) & (a != 1)).any()):
                raise TypeError(f"mask: expected a bool array (or 0/1 integers), got dtype {a.dtype}")
            a = a.astype(cp.bool_)
        return cp.ascontiguousarray(a)

    def all_finite(self, a):
        return bool(self.cupy.isfinite(a).all())

    def dtype_size(self, a):
        return a.itemsize

    def ptr(self, a):
        return 0 if a is None else int(a.data.ptr)

    def stream(self):
        return int(self.cupy.cuda.get_current_stream().ptr)

    def synchronize(self):
        self.cupy.cuda.get_current_stream().synchronize()

    def device_context(self):
        return self.device

    def device_index(self):
        return self.device.id

    def outputs(self, batch, spec):
        with self.device:
            return allocate_outputs(batch, spec, xp=self.cupy)


def solve_cuda(targets, bases, *, eps, mode, max_size, k, mask, algorithm, library, progress,
               work_limit):
    """``solve`` on the GPU; arguments as in :func:`subsetsum.solve` (eps and work_limit
    already checked). Kernels are not interrupted by Ctrl-C: the work bound keeps each problem
    short, and Python sees Ctrl-C between slices."""
    cuda = cuda_module()
    if library == "numpy" or (library == "torch" and bases.device.type != "cuda"):
        return _solve_host_arrays(cuda, targets, bases, eps, mode, max_size, k, mask, algorithm,
                                  library, progress, work_limit)
    xp = _TorchArrays(bases) if library == "torch" else _CupyArrays(bases)
    xp.check_device("targets", targets)
    x = xp.float_array("bases", bases)
    if x.ndim != 2:
        raise ValueError(f"bases: expected shape (B, n), got shape {tuple(x.shape)}")
    if targets.ndim == 0:
        raise ValueError(
            f"targets: expected shape ({x.shape[0]},), one per row of bases, got a scalar "
            f"(0-d); pass a 1-d array"
        )
    t = xp.float_array("targets", targets, dtype=x.dtype)
    if not xp.all_finite(t) and xp.all_finite(xp.float_array("targets", targets)):
        raise ValueError(
            f"targets: a finite value does not fit {x.dtype} (the dtype the problem is solved "
            f"in, that of bases); pass float64 bases"
        )
    if t.ndim != 1 or t.shape[0] != x.shape[0]:
        raise ValueError(f"targets: expected shape ({x.shape[0]},) to match bases "
                         f"{tuple(x.shape)}, got shape {tuple(t.shape)}")
    batch, n = int(x.shape[0]), int(x.shape[1])
    if n < 1 and batch > 0:
        raise ValueError("bases: expected at least one element per problem (n >= 1), got n = 0")
    if not xp.all_finite(x):
        raise ValueError("bases: expected finite values, found NaN or inf")
    if not xp.all_finite(t):
        raise ValueError("targets: expected finite values, found NaN or inf")
    m = None
    if mask is not None:
        xp.check_device("mask", mask)
        if tuple(mask.shape) != (batch, n):
            raise ValueError(f"mask: expected shape {(batch, n)} (same as bases), got {tuple(mask.shape)}")
        m = xp.bool_array("mask", mask)
    spec = _check_problem(mode, n, max_size, k, algorithm)
    out = xp.outputs(batch, spec)
    step = DEVICE_SLICE
    update, close = progress_reporter(progress, batch)
    try:
        with xp.device_context():
            for lo in range(0, batch, step):
                hi = min(batch, lo + step)
                cuda.solve_device(
                    xp.ptr(t[lo:hi]), xp.ptr(x[lo:hi]), 0 if m is None else xp.ptr(m[lo:hi]),
                    xp.dtype_size(x), hi - lo, n, spec.mode, spec.max_size, spec.k, eps,
                    spec.algorithm,
                    0 if out.subsets is None else xp.ptr(out.subsets[lo:hi]),
                    0 if out.indices is None else xp.ptr(out.indices[lo:hi]),
                    xp.ptr(out.sums[lo:hi]), xp.ptr(out.errors[lo:hi]),
                    xp.ptr(out.sizes[lo:hi]), xp.ptr(out.found[lo:hi]),
                    xp.ptr(out.status[lo:hi]), xp.stream(), work_limit,
                )
                # Waiting per slice keeps Ctrl-C and the progress report responsive.
                xp.synchronize()
                if bool((out.status[lo:hi] == STATUS["rejected"]).any()):
                    raise_if_rejected(numpy_of(out.status[lo:hi]), lo, numpy_of(t[lo:hi]),
                                      numpy_of(x[lo:hi]),
                                      None if m is None else numpy_of(m[lo:hi]))
                update(hi - lo)
    finally:
        close()
    return SolveResult(out.subsets, out.indices, out.sums, out.errors, out.sizes, out.found,
                       out.status == STATUS["exhausted"], algorithm=out.algorithm)


def _solve_host_arrays(cuda, targets, bases, eps, mode, max_size, k, mask, algorithm, library,
                       progress, work_limit):
    """Host arrays on the GPU: copied over and back in slices that fit in device memory."""
    t, x, m = _host_arrays(targets, bases, mask)
    spec = _check_problem(mode, x.shape[1], max_size, k, algorithm)
    batch, n = x.shape
    out = allocate_outputs(batch, spec)
    free_bytes, _total = cuda.mem_info(0)
    per_problem = (n + 1) * x.itemsize + (n if m is not None else 0) + 8 * max(spec.k, 1) + 41
    step = int(max(1, min(1 << 24, (free_bytes // 4) // per_problem)))
    update, close = progress_reporter(progress, batch)
    try:
        for lo in range(0, batch, step):
            hi = min(batch, lo + step)
            chunk_mask = None if m is None else m[lo:hi]
            cuda.solve_host(
                t[lo:hi], x[lo:hi], chunk_mask, spec.mode, spec.max_size,
                spec.k, eps, spec.algorithm,
                None if out.subsets is None else out.subsets[lo:hi],
                None if out.indices is None else out.indices[lo:hi],
                out.sums[lo:hi], out.errors[lo:hi], out.sizes[lo:hi], out.found[lo:hi],
                out.status[lo:hi], work_limit,
            )
            raise_if_rejected(out.status[lo:hi], lo, t[lo:hi], x[lo:hi], chunk_mask)
            update(hi - lo)
    finally:
        close()
    return _wrap(out, library)


def numpy_of(a) -> np.ndarray:
    """Host numpy copy of a result array from any library."""
    return _to_numpy(a)
