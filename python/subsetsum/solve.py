"""``solve``: batched real-valued subset sum (validation, dispatch, results).

Memory layout, fixed for the whole library: one problem per row. ``targets`` has shape (B,),
``bases`` has shape (B, n) in C order (row b holds problem b's n elements), ``mask`` has shape
(B, n). Element i of problem b is "bit i" of ``subsets[b]``.

Data flows one way: :func:`solve` validates and normalises the inputs, picks a backend
(``cpu``: the compiled OpenMP core; ``numba``: the plain reference in
:mod:`subsetsum._reference`; ``cuda``: the compiled CUDA kernels), runs it chunk by chunk into
preallocated output arrays, and wraps them in a :class:`SolveResult` in the caller's array
library. Inputs are only read, never written (read-only arrays are fine).
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import _core
from ._checks import check_int, check_positive_float

MODES = ("best", "min_size", "fixed_size")
BACKENDS = ("auto", "cpu", "numba", "cuda")
ALGORITHMS = ("auto",) + tuple(_core.algorithm_names())

# Search steps per problem when solve() is not given work_limit (2**26: 0.1-0.5 s of one core).
DEFAULT_WORK_LIMIT = int(_core.default_work_limit())

# Per-problem outcome codes the backends write (done, exhausted, rejected, stopped).
STATUS = {name: int(code) for name, code in _core.status_codes().items()}

# |target| + sum of |elements| of a problem must stay below this (2**1021, about 2.2e307).
SUM_LIMIT = float(_core.sum_limit())

# Work handed to the backend in one call. Between chunks progress is reported and output memory
# for partial results stays bounded; the size is chosen so a chunk takes ~0.1-0.5 s. Ctrl-C does
# not wait for the chunk: the backends stop every search within milliseconds.
_CHUNK_WORK = 2.0e8


@dataclass(frozen=True)
class SolveResult:
    """Solutions of a batch of subset-sum problems (one entry per problem, B in all).

    Attributes
    ----------
    subsets : uint64 array (B,) or None
        Bit i set when element i is in the chosen subset. None only for ``mode="fixed_size"``
        with n > 64, where ``indices`` is given instead.
    indices : int64 array (B, k) or None
        The chosen elements' indices in increasing order, for ``mode="fixed_size"`` with n > 64;
        rows of infeasible problems (fewer than k unmasked elements) hold -1. None otherwise.
    sums : float64 array (B,)
        Sum of the chosen elements, recomputed in float64 in index order.
    errors : float64 array (B,)
        ``|target - sums|``.
    sizes : int32 array (B,)
        Number of chosen elements.
    found : bool array (B,)
        ``errors <= eps`` and the subset meets the mode's size rule (decided on the recomputed
        ``errors``, whatever the algorithm).
    exhausted : bool array (B,)
        The per-problem work bound (``solve(work_limit=...)``) stopped the search before it
        finished. The row is then the best subset the search had seen: ``sums``, ``errors``,
        ``sizes`` and ``found`` are still exact for that subset, so ``found=True`` is a real hit,
        but the subset may not be the mode's answer (not the smallest error for ``"best"``, not
        the smallest size for ``"min_size"``), and ``found=False`` means none was found within
        the bound, not that none exists. False everywhere else, and always on the ``numba``
        backend (exhaustive). Inputs whose search cannot run long never set it.
    algorithm : str
        The algorithm that ran (one of :func:`subsetsum.algorithm_names`).

    Arrays live in the caller's library and device: numpy for numpy/list input, torch tensors
    for torch input, cupy arrays for cupy input.
    """

    subsets: Any
    indices: Any
    sums: Any
    errors: Any
    sizes: Any
    found: Any
    exhausted: Any
    algorithm: str

    def __len__(self) -> int:
        return int(self.sums.shape[0])

    def to_mask(self, n: int) -> np.ndarray:
        """The chosen subsets as a bool numpy array of shape (B, n).

        >>> import numpy as np, subsetsum
        >>> r = subsetsum.solve([0.5], [[0.25, 0.25, 0.7]], eps=1e-9, mode="best")
        >>> r.to_mask(3).tolist()
        [[True, True, False]]
        """
        if self.indices is not None:
            idx = _to_numpy(self.indices)
            out = np.zeros((idx.shape[0], n), dtype=bool)
            rows, cols = np.nonzero(idx >= 0)
            out[rows, idx[rows, cols]] = True
            return out
        bits = _to_numpy(self.subsets).astype(np.uint64)
        shifts = np.arange(n, dtype=np.uint64)
        return ((bits[:, None] >> shifts[None, :]) & np.uint64(1)).astype(bool)


    def chosen_elements(self, *, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The chosen elements as index pairs (problem int64 (E,), element int64 (E,)), sorted by
        problem then element: ``np.nonzero(self.to_mask(n))`` without the (B, n) array.
        ``ordered`` is kept for compatibility: the pairs always come sorted.

        >>> import numpy as np, subsetsum
        >>> r = subsetsum.solve([0.5, 0.7], [[0.25, 0.25, 0.7], [0.1, 0.2, 0.7]], eps=1e-9, mode="best")
        >>> [a.tolist() for a in r.chosen_elements()]
        [[0, 0, 1], [0, 1, 2]]
        """
        if self.indices is not None:
            idx = _to_numpy(self.indices)
            rows, cols = np.nonzero(idx >= 0)
            return rows.astype(np.int64), idx[rows, cols].astype(np.int64)
        bits = np.ascontiguousarray(_to_numpy(self.subsets), dtype=np.uint64)
        return _core.subset_pairs(bits)


def solve(
    targets,
    bases,
    *,
    eps: float,
    mode: str,
    max_size: int | None = None,
    k: int | None = None,
    mask=None,
    backend: str = "auto",
    algorithm: str = "auto",
    num_threads: int | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    work_limit: int | None = None,
) -> SolveResult:
    """Solve B independent real-valued subset-sum problems.

    Problem b asks for a subset S of the elements ``bases[b, i]`` (with ``mask[b, i]`` true,
    when a mask is given) whose sum approximates ``targets[b]``. The sum of S is taken in
    float64, adding its elements in increasing index order starting from 0; every algorithm
    ranks subsets by that sum's error, so all of them return the same subset (the contract's),
    ``"first_hit"`` and results marked ``exhausted`` aside.

    Parameters
    ----------
    targets : array (B,), float32 or float64
        One target per problem. numpy arrays, lists and torch CPU tensors run on the CPU; cupy
        arrays and torch CUDA tensors run on the GPU, and results stay there.
    bases : array (B, n), same dtype as ``targets``
        The elements of each problem, one problem per row. Other real dtypes are converted to
        float64 (float16 and bfloat16 to float32; either byte order keeps its width);
        non-contiguous arrays are copied once. Targets take the dtype of ``bases``. For each
        problem, ``|target|`` plus the sum of ``|elements|`` (unmasked) must stay below 2**1021
        (about 2.2e307) so that no subset sum can overflow; larger problems raise ValueError
        (scale them down by a power of two: that changes no rounding, hence no answer).
    eps : float > 0
        Tolerance: a problem is ``found`` when ``|target - sum(S)| <= eps``.
    mode : {"best", "min_size", "fixed_size"}
        ``"best"``: minimise ``|target - sum(S)|`` over all subsets (exact; n <= 44);
        ties go to the smaller subset, then to the smaller bit pattern.
        ``"min_size"``: the smallest ``|S| <= max_size`` with error <= eps, and among those the
        smallest error. If none exists, the best subset with ``|S| <= max_size`` and
        ``found=False``. This is the search of the published L+1/2L experiments
        (001_d33223a708772bec.txt, section 3: n = 10..20, max size 10, eps = 0.01).
        ``"fixed_size"``: ``|S| == k`` exactly (Random Fixed-Size Subset Sum,
        002_9a3e2d17b88c5f76.txt). Exact when the number of k-subsets is affordable
        (``algorithm="exact_combinations"``), otherwise a deterministic search that stops at the
        first subset within eps (``algorithm="first_hit"``); ``found`` tells which problems
        succeeded. n up to 256.
    max_size : int >= 0, optional
        Largest subset size for ``mode="min_size"`` (default: n). Only for that mode.
    k : int, 0 <= k <= n
        Subset size for ``mode="fixed_size"`` (required there, rejected elsewhere).
    mask : bool array (B, n), optional
        Element i of problem b exists only where ``mask[b, i]`` is true (Erdős–Rényi bases,
        000_79c8cccaad099f72.txt, Lemma 2.4). Masked-out elements are never chosen. A
        fixed-size problem with fewer than k unmasked elements has no solution: ``found`` is
        False, the subset empty (``indices`` row of -1).
    backend : {"auto", "cpu", "numba", "cuda"}
        ``"auto"`` runs host arrays on the compiled CPU core and device arrays on the GPU.
        ``"numba"`` is the plain reference implementation (the tests' oracle).
        ``"cuda"`` on host arrays copies them to the GPU and the results back.
    algorithm : str
        ``"auto"`` or one of :func:`subsetsum.algorithm_names` valid for the mode, to force an
        algorithm (for benchmarks and tests). Results do not depend on it, except that
        ``"first_hit"`` may stop at a subset that is within eps but not the best.
    num_threads : int, optional
        CPU threads, 1 to 4 x the CPUs this process may use (default: all cores). Results are
        identical for any thread count.
    progress : bool or callable(done, total), optional
        ``True`` shows a tqdm bar; a callable is called after each chunk.
    work_limit : int >= 1, optional
        Search steps per problem (a node, a candidate sum, a step of a pairing sweep), default
        ``2**26`` (0.1-0.5 s of one core; typical problems need 10 to 10**3, an exact fixed-size
        search on its default range at most a few million). ``"increasing_size"``,
        ``"exact_combinations"``, ``"first_hit"`` and meet in the middle's resolution of
        near-equal float64 sums stop there and mark the problem ``exhausted``; ``"gray_code"``
        (2**n subsets, n <= 30) and meet in the middle's half sums (n <= 44) are bounded by n.
        The bound counts steps, not time, so results stay deterministic.

    Returns
    -------
    SolveResult

    Results are deterministic: the same inputs give the same subsets on any backend and thread
    count. Ctrl-C (SIGINT) stops a call on the cpu and numba backends within milliseconds,
    also inside a long search, and raises KeyboardInterrupt.

    Examples
    --------
    >>> import numpy as np, subsetsum
    >>> rng = np.random.default_rng(0)
    >>> bases = rng.uniform(-1, 1, size=(1000, 15)).astype(np.float32)
    >>> targets = rng.uniform(-1, 1, size=1000).astype(np.float32)
    >>> r = subsetsum.solve(targets, bases, eps=0.01, mode="min_size", max_size=10)
    >>> bool(r.found.mean() > 0.99), bool((r.errors[r.found] <= 0.01).all())
    (True, True)
    >>> bool((r.sizes <= 10).all())
    True
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm: expected one of {ALGORITHMS}, got {algorithm!r}")
    eps = check_positive_float("eps", eps)
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise TypeError(
            f"progress: expected None, a bool or a callable(done, total), got {progress!r}"
        )

    library, device = _library_of(targets, bases)
    if backend == "auto":
        backend = "cuda" if device else "cpu"
    if backend != "cuda" and device:
        raise ValueError(
            f"backend={backend!r} runs on the host but the inputs live on a GPU; "
            "use backend='cuda' or 'auto', or move the inputs to the host"
        )

    work_limit = check_work_limit(work_limit)
    if backend == "cuda":
        from . import _gpu

        return _gpu.solve_cuda(
            targets, bases, eps=eps, mode=mode, max_size=max_size, k=k, mask=mask,
            algorithm=algorithm, library=library, progress=progress, work_limit=work_limit,
        )

    t, x, m = _host_arrays(targets, bases, mask)
    spec = _check_problem(mode, x.shape[1], max_size, k, algorithm)
    num_threads = _check_threads(num_threads)
    result = _run_host(t, x, m, eps, spec, backend, num_threads, progress, work_limit)
    return _wrap(result, library)


def solve_outer(targets, w, mult, *, eps: float, mode: str, max_size: int | None = None, k: int | None = None,
                mask=None, algorithm: str = "auto", num_threads: int | None = None,
                work_limit: int | None = None) -> SolveResult:
    """:func:`solve` of every row of ``w`` with every group of ``mult``, each problem's elements
    gathered as the solver loads it: problem ``r * G + g`` has the elements ``mult[g, e] *
    w[r, g * n + e]`` (float64, the float32 weight widened first) and the mask row ``mask[g]``.
    The same result as ``solve(targets, bases, mask=np.tile(mask, (R, 1)))`` with ``bases`` that
    gathered (float64 (R * G, n)), without writing and reading that array: eight bytes per
    element, a third of a ticket block's time besides the solve (tickets/solve.py).

    Host only. targets float64 (R * G,); w float32 (R, G * n); mult float64 (G, n); mask bool
    (G, n) or None. The other arguments as :func:`solve`'s (no progress).

    >>> import numpy as np
    >>> w = np.array([[0.5, 0.25, 1.0, 2.0]], np.float32)
    >>> mult = np.array([[1.0, 2.0], [0.5, 1.0]])
    >>> r = solve_outer([1.0, 2.5], w, mult, eps=1e-9, mode="min_size")
    >>> bases = np.array([[0.5, 0.5], [0.5, 2.0]])
    >>> bool((r.subsets == solve([1.0, 2.5], bases, eps=1e-9, mode="min_size").subsets).all())
    True
    """
    eps = check_positive_float("eps", eps)
    work_limit = check_work_limit(work_limit)
    mult = np.ascontiguousarray(as_float_array("mult", mult), dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float32)
    if mult.ndim != 2 or w.ndim != 2 or w.shape[1] != mult.size:
        raise ValueError(f"w, mult: expected shapes (R, G * n) and (G, n), got {w.shape} and {mult.shape}")
    t = np.ascontiguousarray(as_float_array("targets", targets), dtype=np.float64)
    if t.shape != (w.shape[0] * mult.shape[0],):
        raise ValueError(f"targets: expected shape ({w.shape[0] * mult.shape[0]},), one per row and group, got {t.shape}")
    if not _all_finite(t):
        raise ValueError("targets: expected finite values, found NaN or inf")
    if mask is not None:
        mask = np.ascontiguousarray(mask, dtype=bool)
        if mask.shape != mult.shape:
            raise ValueError(f"mask: expected shape {mult.shape} (one row per group), got {mask.shape}")
    spec = _check_problem(mode, mult.shape[1], max_size, k, algorithm)
    return _wrap(_run_host(t, (w, mult), mask, eps, spec, "cpu", _check_threads(num_threads), None, work_limit),
                 "numpy")


class _OuterRows:
    """Rows ``[b]`` of the bases :func:`solve_outer` gathers from problem ``first`` on, or (w
    None) of its mask, one row per group (for raise_if_rejected's message only)."""

    def __init__(self, w, per_group, first: int):
        self.w, self.per_group, self.first = w, per_group, first

    def __getitem__(self, b: int) -> np.ndarray:
        at = self.first + b
        row = self.per_group[at % self.per_group.shape[0]]
        if self.w is None:
            return row
        n = self.per_group.shape[1]
        return row * self.w.reshape(-1)[at * n:(at + 1) * n].astype(np.float64)


# --------------------------------------------------------------------------------------------
# validation


@dataclass(frozen=True)
class ProblemSpec:
    """Validated, backend-ready description of a batch (shared by every backend)."""

    mode: str
    n: int
    max_size: int
    k: int
    algorithm: str
    wide: bool  # results as indices (fixed_size with n > 64)


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def max_threads() -> int:
    """Largest ``num_threads`` solve() accepts: 4 x the CPUs available (at least 8). More
    threads would only oversubscribe the cores, and each costs a stack (thousands of them can
    fail to start and abort the process)."""
    return max(8, 4 * available_cpus())


def _check_threads(num_threads) -> int:
    if num_threads is None:
        return 0
    limit = max_threads()
    if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral):
        raise TypeError(f"num_threads: expected an int, got {type(num_threads).__name__}")
    if not 1 <= int(num_threads) <= limit:
        raise ValueError(
            f"num_threads: expected an int in [1, {limit}] (4 x the {available_cpus()} CPUs "
            f"available, at least 8), got {num_threads}"
        )
    return int(num_threads)


def check_work_limit(work_limit) -> int:
    """``work_limit`` as an int in [1, 2**62] (None: the default)."""
    if work_limit is None:
        return DEFAULT_WORK_LIMIT
    return check_int("work_limit", work_limit, 1, 2**62)


def _check_problem(mode: str, n: int, max_size, k, algorithm: str) -> ProblemSpec:
    """Checks the size parameters against the mode and the algorithm's limits."""
    if mode == "fixed_size":
        if k is None:
            raise ValueError("k: mode='fixed_size' needs the subset size k")
        k = check_int("k", k, 0)
        if k > n:
            raise ValueError(f"k: expected k <= n = {n} (elements per problem), got k = {k}")
    elif k is not None:
        raise ValueError(f"k: only used by mode='fixed_size', got k = {k} with mode={mode!r}")
    else:
        k = 0

    if mode == "min_size":
        max_size = n if max_size is None else min(check_int("max_size", max_size, 0), n)
    elif max_size is not None:
        raise ValueError(
            f"max_size: only used by mode='min_size', got max_size = {max_size} with mode={mode!r}"
        )
    else:
        max_size = n

    if algorithm == "auto":
        algorithm = _core.choose_algorithm(mode, n, k)
    elif not _core.algorithm_supports(algorithm, mode):
        raise ValueError(
            f"algorithm: {algorithm!r} does not solve mode={mode!r}; "
            f"expected one of {_core.algorithms_for_mode(mode)}"
        )
    limit = _core.max_elements(algorithm)
    if n > limit:
        hint = " (use mode='min_size' or 'fixed_size' for larger n)" if mode == "best" else ""
        raise ValueError(
            f"bases: algorithm {algorithm!r} for mode={mode!r} supports n <= {limit} "
            f"elements per problem, got n = {n}{hint}"
        )
    return ProblemSpec(mode, n, max_size, k, algorithm, wide=(n > 64))


def _library_of(targets, bases) -> tuple[str, bool]:
    """('numpy' | 'torch' | 'cupy', on_gpu) of the inputs, without importing torch/cupy."""
    libs = []
    for name, a in (("targets", targets), ("bases", bases)):
        mod = type(a).__module__.split(".")[0]
        if mod == "torch":
            libs.append(("torch", a.device.type == "cuda"))
        elif mod == "cupy":
            libs.append(("cupy", True))
        else:
            libs.append(("numpy", False))
    if libs[0] != libs[1]:
        raise TypeError(
            f"targets and bases: expected arrays of one library on one device, got "
            f"{type(targets).__name__} and {type(bases).__name__} "
            f"({'GPU' if libs[0][1] else 'host'} / {'GPU' if libs[1][1] else 'host'})"
        )
    return libs[0]


def float_dtype(name: str, dtype) -> np.dtype:
    """The dtype a numpy (or cupy) array of ``dtype`` is solved in: float32 and float64 as they
    are (in native byte order), float16 widened to float32, integers and other floats to
    float64."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):
        return np.dtype(np.float32 if dtype.itemsize <= 4 else np.float64)
    if dtype.kind in "biuf":
        return np.dtype(np.float64)
    raise TypeError(f"{name}: expected a real-valued array, got dtype {dtype}")


def _torch_to_numpy(name: str, a) -> np.ndarray:
    """A torch tensor's values as numpy; bfloat16 (which numpy lacks) widened to float32."""
    import torch

    if a.dtype == torch.bfloat16:
        a = a.to(torch.float32)
    elif a.dtype.is_complex:
        raise TypeError(f"{name}: expected a real-valued tensor, got dtype {a.dtype}")
    try:
        return a.detach().cpu().numpy()
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"{name}: expected a real-valued tensor, got dtype {a.dtype}") from exc


def as_float_array(name: str, a, *, dtype=None) -> np.ndarray:
    """A float32/float64 C-contiguous numpy view or copy of ``a`` (host data only). Values that
    are finite in ``a`` but do not fit ``dtype`` raise ValueError naming ``name``."""
    if type(a).__module__.split(".")[0] == "torch":
        a = _torch_to_numpy(name, a)
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: expected a real-valued array, got {type(a).__name__}") from exc
    if dtype is None:
        dtype = float_dtype(name, arr.dtype)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real-valued array, got dtype {arr.dtype}")
    if arr.dtype == dtype:
        return np.ascontiguousarray(arr).view(dtype)  # the canonical dtype object
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > dtype.itemsize and not _all_finite(out):
        wide = arr.astype(np.float64) if arr.dtype.itemsize > 8 else arr
        lost = np.isfinite(wide) & ~np.isfinite(out)
        if lost.any():
            value = wide.reshape(-1)[np.flatnonzero(lost.reshape(-1))[0]]
            raise ValueError(
                f"{name}: the finite value {float(value):g} does not fit {dtype} "
                f"(the dtype the problem is solved in, that of bases); pass float64 bases"
            )
    return out


def _all_finite(a: np.ndarray) -> bool:
    """True when every value is finite. A sum is NaN or inf whenever a value is, so one pass
    without a temporary array settles the common case; only an inf or NaN sum (or one that
    overflowed) is checked value by value."""
    if a.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(a, axis=None, dtype=np.float64)
    if np.isfinite(total):
        return True
    return bool(np.isfinite(a).all())


def _host_arrays(targets, bases, mask):
    x = as_float_array("bases", bases)
    if x.ndim != 2 or np.ndim(bases) != 2:
        raise ValueError(f"bases: expected shape (B, n), got shape {np.shape(bases)}")
    if np.ndim(targets) == 0:
        raise ValueError(
            f"targets: expected shape ({x.shape[0]},), one per row of bases, got a scalar "
            f"(0-d); pass a 1-d array, e.g. [target]"
        )
    t = as_float_array("targets", targets, dtype=x.dtype)
    if t.ndim != 1 or t.shape[0] != x.shape[0]:
        raise ValueError(
            f"targets: expected shape ({x.shape[0]},) to match bases {x.shape}, got shape {t.shape}"
        )
    if x.shape[1] < 1 and x.shape[0] > 0:
        raise ValueError("bases: expected at least one element per problem (n >= 1), got n = 0")
    # Non-finite bases are not checked here: the backends reject every problem whose sum of
    # |elements| is not below SUM_LIMIT (NaN and inf included) and raise_if_rejected names it,
    # which spares a pass over all elements per call (6% of a ticket's first solve).
    if not _all_finite(t):
        raise ValueError("targets: expected finite values, found NaN or inf")
    m = None
    if mask is not None:
        if type(mask).__module__.split(".")[0] == "torch":
            mask = mask.detach().cpu().numpy()
        m = np.asarray(mask)
        if m.shape != x.shape:
            raise ValueError(f"mask: expected shape {x.shape} (same as bases), got {m.shape}")
        if m.dtype != np.bool_:
            if m.dtype.kind not in "biu" or ((m != 0) & (m != 1)).any():
                raise TypeError(f"mask: expected a bool array (or 0/1 integers), got dtype {m.dtype}")
            m = m.astype(bool)
        m = np.ascontiguousarray(m)
    return t, x, m


# --------------------------------------------------------------------------------------------
# host execution


@dataclass
class _Outputs:
    subsets: np.ndarray | None
    indices: np.ndarray | None
    sums: np.ndarray
    errors: np.ndarray
    sizes: np.ndarray
    found: np.ndarray
    status: np.ndarray  # uint8 (B,): STATUS codes
    algorithm: str


def allocate_outputs(batch: int, spec: ProblemSpec, xp=np) -> _Outputs:
    """Output arrays for ``batch`` problems (xp: numpy or cupy)."""
    return _Outputs(
        subsets=None if spec.wide else xp.zeros(batch, dtype=xp.uint64),
        indices=xp.full((batch, spec.k), -1, dtype=xp.int64) if spec.wide else None,
        sums=xp.zeros(batch, dtype=xp.float64),
        errors=xp.zeros(batch, dtype=xp.float64),
        sizes=xp.zeros(batch, dtype=xp.int32),
        found=xp.zeros(batch, dtype=xp.bool_),
        status=xp.zeros(batch, dtype=xp.uint8),
        algorithm=spec.algorithm,
    )


def chunk_size(spec: ProblemSpec, backend: str = "cpu") -> int:
    """Problems per backend call, from the algorithm's estimated work per problem (the numba
    reference's own enumeration count on that backend)."""
    if backend == "numba":
        from . import _reference

        work = _reference.estimated_work(spec.mode, spec.n, spec.max_size, spec.k)
    else:
        work = _core.estimated_work(spec.algorithm, spec.n, spec.k, spec.max_size)
    return int(min(1 << 20, max(1, _CHUNK_WORK // max(1.0, float(work)))))


def raise_if_rejected(status, offset: int, targets, bases, mask) -> None:
    """ValueError naming the first problem of a chunk the backend refused to solve (status
    ``rejected``: a NaN or inf among its elements, or sums that could overflow float64). status: numpy uint8 (chunk,); targets,
    bases, mask: the chunk's host arrays (bases: any array with ``[b]`` rows)."""
    bad = np.flatnonzero(status == STATUS["rejected"])
    if bad.size == 0:
        return
    b = int(bad[0])
    row = np.abs(np.asarray(bases[b], dtype=np.float64))
    if mask is not None:
        row = row[np.asarray(mask[b], dtype=bool)]
    others = f" and {bad.size - 1} more in this chunk" if bad.size > 1 else ""
    if not np.isfinite(row).all():
        raise ValueError(f"bases: expected finite values, found NaN or inf in problem {offset + b}{others}")
    with np.errstate(over="ignore"):
        total = abs(float(targets[b])) + float(row.sum())
    size = f"{total:.3g}" if np.isfinite(total) else "beyond float64's range"
    raise ValueError(
        f"bases: problem {offset + b}{others}: |target| plus the sum of |elements| is {size}, "
        f"at or above 2**1021 (about {SUM_LIMIT:.2g}), so its subset sums could overflow "
        f"float64; scale targets and bases down by a power of two"
    )


def progress_reporter(progress, total: int):
    """(update(done_now), close()) for a progress bool/callable."""
    if progress is None or progress is False:
        return (lambda _n: None), (lambda: None)
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="problem", unit_scale=True, desc="subset sum")
        return bar.update, bar.close
    if not callable(progress):
        raise TypeError(f"progress: expected None, a bool or a callable(done, total), got {progress!r}")
    state = {"done": 0}

    def update(n):
        state["done"] += n
        progress(state["done"], total)

    return update, (lambda: None)


def _run_host(t, x, m, eps, spec: ProblemSpec, backend: str, num_threads: int, progress,
              work_limit: int):
    """Solve on the host in chunks. ``x``: bases (B, n), or (w, mult) for :func:`solve_outer`
    (then ``m`` is its mask, one row per group)."""
    batch = t.shape[0]
    out = allocate_outputs(batch, spec)
    if batch == 0:
        return out
    outer = x if isinstance(x, tuple) else None
    if backend == "numba":
        from . import _reference

        run_chunk = _reference.solve_into
    elif outer is not None:
        def run_chunk(t_chunk, lo, *args):
            _core.solve_outer_into(t_chunk, outer[0], outer[1], m, lo, *args)
    else:
        run_chunk = _core.solve_into
    step = chunk_size(spec, backend)
    update, close = progress_reporter(progress, batch)
    try:
        for lo in range(0, batch, step):
            hi = min(batch, lo + step)
            if outer is None:
                chunk_bases, chunk_mask = x[lo:hi], None if m is None else m[lo:hi]
                head = (t[lo:hi], chunk_bases, chunk_mask)
            else:
                chunk_bases = _OuterRows(outer[0], outer[1], lo)
                chunk_mask = None if m is None else _OuterRows(None, m, lo)
                head = (t[lo:hi], lo)
            run_chunk(
                *head,
                spec.mode, spec.max_size, spec.k, eps, spec.algorithm,
                None if out.subsets is None else out.subsets[lo:hi],
                None if out.indices is None else out.indices[lo:hi],
                out.sums[lo:hi], out.errors[lo:hi], out.sizes[lo:hi], out.found[lo:hi],
                out.status[lo:hi], num_threads, work_limit,
            )
            raise_if_rejected(out.status[lo:hi], lo, t[lo:hi], chunk_bases, chunk_mask)
            update(hi - lo)
    finally:
        close()
    return out


def _to_numpy(a) -> np.ndarray:
    mod = type(a).__module__.split(".")[0]
    if mod == "torch":
        return a.detach().cpu().numpy()
    if mod == "cupy":
        return a.get()
    return np.asarray(a)


def _wrap(out: _Outputs, library: str) -> SolveResult:
    exhausted = out.status == STATUS["exhausted"]
    fields = [out.subsets, out.indices, out.sums, out.errors, out.sizes, out.found, exhausted]
    if library == "torch":
        import torch

        fields = [None if f is None else torch.from_numpy(f) for f in fields]
    return SolveResult(*fields, algorithm=out.algorithm)


def default_threads() -> int:
    """Threads the CPU backend uses when num_threads is not given."""
    return _core.max_threads() or (os.cpu_count() or 1)
