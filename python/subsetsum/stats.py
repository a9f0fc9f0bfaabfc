"""Monte-Carlo statistics of random subset sum, with the batched solver.

One grid point is a :class:`Scenario` (n, eps, the solver mode, the base distribution, the ER
density); :func:`estimate` draws ``num_samples`` random problems for it from an explicit
``numpy.random.Generator`` and solves them with one :func:`subsetsum.solve` call (more only
when the problems would not fit in :data:`CHUNK_ELEMENTS` elements of memory). The result, an
:class:`Estimate`, holds the success probability with a Wilson confidence interval, the
histogram of the errors and the histogram of the subset sizes. :func:`sweep` runs a list of
grid points with independent child seeds. The ``fit_*`` functions fit the unspecified
constants of the bounds in :mod:`subsetsum.theory` to such measurements.

A seed gives the same problems -- and the same estimates -- on the CPU and on the GPU. The
``"uniform"`` and ``"product"`` bases (the tickets' own) are drawn from the counter-based
Philox generator of the source networks (``csrc/include/subsetsum/philox.hpp``): on the device
with ``device="cuda"``, so 10^9 problems never cross the bus, and bit for bit the same values
on the CPU. ``"normal"`` and callable bases are drawn on the host with numpy and copied over.

Base distributions (``Scenario.base``), all with targets z ~ Uniform[-r, r]
(``r = target_range``):

* ``"uniform"``: Uniform[-1, 1], the source weights of L+1 (001_d33223a708772bec.txt,
  Assumption 2.1);
* ``"normal"``: standard normal (contains a uniform distribution, 001 section 2);
* ``"product"``: the product of two independent Uniform[-1, 1], the bases of the 2L
  construction (001_d33223a708772bec.txt, section 2, "Subset Sum Approximation");
* a callable ``base(rng, shape) -> float array``, for anything else.

``density = p < 1`` masks every element out independently with probability 1 - p: the ER
bases of 000_79c8cccaad099f72.txt, Lemma 2.4.

Simulation checks of the pruning papers (section "pruning at initialization and random
pruning" below): 004's random pruning of a deep layered graph (:func:`simulate_random_pruning`,
against :func:`subsetsum.theory.pruning_budget`), path products of a deep random graph
(:func:`simulate_path_products`, against :func:`subsetsum.theory.path_ticket_probability`),
subset-sum tickets under random pruning of their source edges (:func:`simulate_ticket_survival`,
with the ER-masked solver), and 003's sketching error (:func:`simulate_sketch_error`,
:func:`simulate_sketch_error_gaussian`, against :func:`subsetsum.theory.sketch_error` and
:func:`subsetsum.theory.sketch_error_gaussian`).
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np

from . import theory
from ._checks import check_int
from .solve import MODES, solve

BASE_DISTRIBUTIONS = ("uniform", "normal", "product")
DEVICES = ("auto", "cpu", "cuda")

# Elements (problems x n) drawn and solved at once: 2^24 float64 values are 128 MiB of bases.
# Below this a grid point is one solve call; above it, memory stays bounded.
CHUNK_ELEMENTS = 1 << 24
# The same on the GPU (float64 bases of 512 MiB): the problems of several draw blocks are drawn
# and solved in one call there, since each call costs about 2 ms of work besides the solving.
DEVICE_CHUNK_ELEMENTS = 1 << 26
# Problems drawn from one set of streams: blocks are independent of each other, so they can be
# solved anywhere in any order (Ray shards) and give the same estimate.
DRAW_BLOCK = 1 << 18
# Problems per Ray task of an estimate (whole draw blocks): seconds of solving per task, so the
# scheduling overhead stays small against the work.
SHARD_PROBLEMS = 1 << 23

# Philox draws of an estimate (uniform and product bases): the stream of every draw, and the
# layer of each quantity; row = the problem's place in its draw block, col = its element.
PHILOX_STREAM = 0x53544154  # "STAT"
_LAYER_TARGETS, _LAYER_BASES, _LAYER_MASK, _LAYER_FACTOR = 0, 1, 2, 3

# Error histogram: an underflow bin [0, 1e-12), then log10-spaced bins of 0.02 decades (a 4.7%
# ratio, the resolution of the quantiles read from it) up to 1e2, then an overflow bin.
ERROR_BIN_EDGES = np.concatenate(([0.0], 10.0 ** np.arange(-12.0, 2.0 + 1e-9, 0.02), [np.inf]))

# Quantiles reported in Estimate.error_quantiles and in the CSV files.
ERROR_QUANTILES = (0.5, 0.9, 0.99)

BaseSpec = Union[str, Callable[[np.random.Generator, tuple], np.ndarray]]
SeedLike = Union[int, np.random.SeedSequence, np.random.Generator]

__all__ = [
    "BASE_DISTRIBUTIONS",
    "DEVICES",
    "CHUNK_ELEMENTS",
    "ERROR_BIN_EDGES",
    "ERROR_QUANTILES",
    "Scenario",
    "Estimate",
    "wilson_interval",
    "sample_problems",
    "draw_philox_problems",
    "estimate",
    "sweep",
    "crossing_n",
    "required_n",
    "fit_proportional",
    "fit_subset_sum_constant",
    "fit_rfss_constant",
    "fit_failure_decay",
    "fit_er_decay_rate",
    "estimates_to_rows",
    "write_csv",
    "with_n",
    "ProportionEstimate",
    "MeanEstimate",
    "PruningSimulation",
    "simulate_random_pruning",
    "simulate_path_products",
    "TicketSurvival",
    "simulate_ticket_survival",
    "simulate_sketch_error",
    "simulate_sketch_error_gaussian",
]


# --------------------------------------------------------------------------------------------
# grid points


@dataclass(frozen=True)
class Scenario:
    """One grid point: how the random problems are drawn and what counts as success.

    Attributes
    ----------
    n : int >= 1
        Elements per problem (before the ER mask).
    eps : float > 0
        Tolerance: a problem succeeds when the solver finds a subset within eps of the target
        that meets the mode's size rule.
    mode : {"min_size", "best", "fixed_size"}
        Solver mode. ``"min_size"`` with ``max_size=None`` succeeds exactly when some subset is
        within eps, like ``"best"``, but stops at the first size that works, so it is the
        cheaper way to measure success; ``"best"`` gives the distribution of the smallest error.
        ``"fixed_size"`` is RFSS (002_9a3e2d17b88c5f76.txt) with subsets of exactly k.
    k : int, optional
        Subset size, for ``mode="fixed_size"`` only.
    max_size : int, optional
        Largest subset size, for ``mode="min_size"`` only (default n).
    base : str or callable
        One of :data:`BASE_DISTRIBUTIONS`, or ``callable(rng, shape) -> float array``.
    density : float in (0, 1]
        ER density p: each element survives independently with probability p.
    target_range : float > 0
        Targets are Uniform[-target_range, target_range] (002, Theorem 2 uses sqrt(k)).

    >>> Scenario(n=15, eps=0.01).mode
    'min_size'
    """

    n: int
    eps: float
    mode: str = "min_size"
    k: int | None = None
    max_size: int | None = None
    base: BaseSpec = "uniform"
    density: float = 1.0
    target_range: float = 1.0

    def __post_init__(self):
        check_int("n", self.n, 1)
        _real("eps", self.eps, lo=0.0)
        if self.mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {self.mode!r}")
        if self.mode == "fixed_size":
            if self.k is None:
                raise ValueError("k: mode='fixed_size' needs the subset size k")
            if not 0 <= check_int("k", self.k, 0) <= self.n:
                raise ValueError(f"k: expected 0 <= k <= n = {self.n}, got {self.k}")
        elif self.k is not None:
            raise ValueError(f"k: only used by mode='fixed_size', got k = {self.k} with mode={self.mode!r}")
        if self.max_size is not None:
            if self.mode != "min_size":
                raise ValueError(f"max_size: only used by mode='min_size', got mode={self.mode!r}")
            check_int("max_size", self.max_size, 0)
        if isinstance(self.base, str):
            if self.base not in BASE_DISTRIBUTIONS:
                raise ValueError(f"base: expected one of {BASE_DISTRIBUTIONS} or a callable, got {self.base!r}")
        elif not callable(self.base):
            raise TypeError(f"base: expected a name or a callable(rng, shape), got {type(self.base).__name__}")
        density = _real("density", self.density, lo=0.0)
        if density > 1.0:
            raise ValueError(f"density: expected a probability in (0, 1], got {density}")
        _real("target_range", self.target_range, lo=0.0)

    @property
    def base_name(self) -> str:
        """The base distribution's name (a callable's ``__name__``)."""
        return self.base if isinstance(self.base, str) else getattr(self.base, "__name__", "custom")


def _real(name: str, value, *, lo: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= lo:
        raise ValueError(f"{name}: expected a finite number > {lo:g}, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Estimate:
    """Monte-Carlo measurements at one grid point.

    Attributes
    ----------
    scenario : Scenario
    trials, successes : int
        Problems drawn and problems solved (``found``).
    lower, upper : float
        Wilson confidence interval of the success probability (:func:`wilson_interval`).
    confidence : float
        Its level.
    error_counts : int64 array (len(ERROR_BIN_EDGES) - 1,)
        Histogram of ``|target - sum|`` over :data:`ERROR_BIN_EDGES`.
    size_counts : int64 array (n + 1,)
        Histogram of the chosen subsets' sizes (index = size).
    mean_error : float
        Mean of ``|target - sum|``.
    algorithm : str
        The algorithm the solver ran.
    errors, sizes : arrays (trials,) or None
        The raw float64 errors and int32 sizes, with ``keep_samples=True`` only.
    """

    scenario: Scenario
    trials: int
    successes: int
    lower: float
    upper: float
    confidence: float
    error_counts: np.ndarray
    size_counts: np.ndarray
    mean_error: float
    algorithm: str
    errors: np.ndarray | None = field(default=None, repr=False)
    sizes: np.ndarray | None = field(default=None, repr=False)

    @property
    def probability(self) -> float:
        """Fraction of problems solved, ``successes / trials``."""
        return self.successes / self.trials if self.trials else float("nan")

    @property
    def mean_size(self) -> float:
        """Mean size of the chosen subsets."""
        total = int(self.size_counts.sum())
        return float(np.arange(self.size_counts.size) @ self.size_counts) / total if total else float("nan")

    def error_quantile(self, q: float) -> float:
        """The q-quantile of the errors, read from the histogram (log-interpolated in a bin).

        Accurate to the bin ratio of :data:`ERROR_BIN_EDGES` (4.7%); errors below 1e-12 read
        as 0 and above 100 as inf.
        """
        if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)):
            raise TypeError(f"q: expected a number, got {type(q).__name__}")
        q = float(q)
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q: expected a quantile in [0, 1], got {q}")
        total = int(self.error_counts.sum())
        if total == 0:
            return float("nan")
        cumulative = np.cumsum(self.error_counts)
        rank = q * total
        b = int(np.searchsorted(cumulative, rank, side="left"))
        b = min(b, self.error_counts.size - 1)
        lo, hi = ERROR_BIN_EDGES[b], ERROR_BIN_EDGES[b + 1]
        if lo == 0.0:
            return 0.0
        if not math.isfinite(hi):
            return float("inf")
        before = cumulative[b - 1] if b > 0 else 0
        inside = self.error_counts[b]
        frac = (rank - before) / inside if inside else 0.0
        return float(lo * (hi / lo) ** min(max(frac, 0.0), 1.0))


def wilson_interval(successes, trials, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion.

    ``(p + z^2/(2t) -+ z sqrt(p(1-p)/t + z^2/(4t^2))) / (1 + z^2/t)`` with ``p = s/t`` and z the
    normal quantile of ``(1 + confidence) / 2``. Unlike the normal interval it stays inside
    [0, 1] and is not empty at 0 or t successes. With no trials the interval is [0, 1].

    Parameters
    ----------
    successes, trials : int or int arrays, 0 <= successes <= trials
    confidence : float in (0, 1)

    Returns
    -------
    (lower, upper): floats, or float64 arrays of the broadcast shape.

    >>> lo, hi = wilson_interval(0, 100)
    >>> lo, round(hi, 4)
    (0.0, 0.037)
    >>> [round(v, 4) for v in wilson_interval(50, 100)]
    [0.4038, 0.5962]
    """
    s = np.asarray(successes)
    t = np.asarray(trials)
    for name, arr in (("successes", s), ("trials", t)):
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name}: expected integers, got dtype {arr.dtype}")
    if (s < 0).any() or (s > t).any():
        raise ValueError(f"successes: expected 0 <= successes <= trials, got {successes!r} of {trials!r}")
    level = _real("confidence", confidence, lo=0.0)
    if level >= 1.0:
        raise ValueError(f"confidence: expected a level in (0, 1), got {level}")
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2.0)
    s_f = s.astype(np.float64)
    t_f = np.maximum(t.astype(np.float64), 1.0)  # t = 0 handled below
    p = s_f / t_f
    denom = 1.0 + z * z / t_f
    center = (p + z * z / (2.0 * t_f)) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / t_f + z * z / (4.0 * t_f * t_f))
    lower = np.where(t > 0, np.clip(center - half, 0.0, 1.0), 0.0)
    upper = np.where(t > 0, np.clip(center + half, 0.0, 1.0), 1.0)
    # Exact ends: no success cannot have a positive lower end, all successes reach 1.
    lower = np.where(s == 0, 0.0, lower)
    upper = np.where((s == t) & (t > 0), 1.0, upper)
    if lower.ndim == 0:
        return float(lower), float(upper)
    return lower, upper


# --------------------------------------------------------------------------------------------
# sampling and estimation


def sample_problems(scenario: Scenario, num_problems: int, rng):
    """Random problems of a grid point.

    Targets, bases and mask each come from their own stream, and every stream is drawn in row
    order, so drawing B problems at once or in chunks gives the same problems.

    Parameters
    ----------
    scenario : Scenario
    num_problems : int >= 0
        B.
    rng : numpy.random.Generator, or a sequence of three Generators
        One generator serves all three streams (targets, then bases, then mask); three serve
        the targets, the bases and the mask respectively (what :func:`estimate` passes).

    Returns
    -------
    targets : float64 array (B,)
    bases : float64 array (B, n)
    mask : bool array (B, n), or None when ``density == 1``

    >>> t, x, m = sample_problems(Scenario(n=3, eps=0.1, density=0.5), 4, np.random.default_rng(0))
    >>> t.shape, x.shape, m.dtype
    ((4,), (4, 3), dtype('bool'))
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario: expected a Scenario, got {type(scenario).__name__}")
    if isinstance(num_problems, bool) or not isinstance(num_problems, (int, np.integer)) or num_problems < 0:
        raise ValueError(f"num_problems: expected an int >= 0, got {num_problems!r}")
    if isinstance(rng, np.random.Generator):
        target_rng = base_rng = mask_rng = rng
    elif (isinstance(rng, (tuple, list)) and len(rng) == 3
          and all(isinstance(g, np.random.Generator) for g in rng)):
        target_rng, base_rng, mask_rng = rng
    else:
        raise TypeError(f"rng: expected a numpy.random.Generator or three of them, got {rng!r}")
    shape = (int(num_problems), scenario.n)
    r = scenario.target_range
    targets = target_rng.uniform(-r, r, size=shape[0])
    if scenario.base == "uniform":
        bases = base_rng.uniform(-1.0, 1.0, size=shape)
    elif scenario.base == "normal":
        bases = base_rng.standard_normal(size=shape)
    elif scenario.base == "product":
        # Both factors of an element are drawn next to each other: row order is kept.
        factors = base_rng.uniform(-1.0, 1.0, size=shape + (2,))
        bases = factors[..., 0] * factors[..., 1]
    else:
        bases = np.asarray(scenario.base(base_rng, shape), dtype=np.float64)
        if bases.shape != shape:
            raise ValueError(f"base: the callable returned shape {bases.shape}, expected {shape}")
    mask = mask_rng.random(size=shape) < scenario.density if scenario.density < 1.0 else None
    return targets, bases, mask


def _philox_drawn(scenario: Scenario) -> bool:
    """Whether :func:`estimate` draws the scenario's problems with Philox (on either device)."""
    return isinstance(scenario.base, str) and scenario.base in ("uniform", "product")


def _philox_key(child) -> int:
    """A draw block's 64-bit Philox key, from its first spawned child (SeedSequence or Generator)."""
    sequence = child if isinstance(child, np.random.SeedSequence) else getattr(child.bit_generator, "seed_seq", None)
    if isinstance(sequence, np.random.SeedSequence):
        words = sequence.generate_state(2, np.uint32)
    else:  # a Generator without a SeedSequence behind it
        words = child.integers(0, 2**32, size=2, dtype=np.uint64)
    return int(words[0]) | (int(words[1]) << 32)


def draw_philox_problems(scenario: Scenario, key: int, first: int, count: int, device: str = "cpu"):
    """Problems ``first .. first + count - 1`` of a Philox draw block, on ``device``.

    Targets ``r * u`` (u uniform in (-1, 1), odd multiples of 2^-24, r = ``target_range``), bases
    u (``"uniform"``) or the product of two such values (``"product"``, exact in float64), mask
    Bernoulli(density), each from its own layer of stream :data:`PHILOX_STREAM` with row = the
    problem's place in the block and col = its element: so any chunking, and either device, gives
    the same problems.

    Returns
    -------
    targets : float64 (count,), bases : float64 (count, n), mask : bool (count, n) or None;
    numpy arrays on the CPU, torch CUDA tensors with ``device="cuda"``.

    >>> t, x, m = draw_philox_problems(Scenario(n=3, eps=0.1, density=0.5), 7, 0, 4)
    >>> t.shape, x.shape, m.dtype
    ((4,), (4, 3), dtype('bool'))
    >>> bool((draw_philox_problems(Scenario(n=3, eps=0.1), 7, 2, 2)[1] == x[2:]).all())
    True
    """
    if not _philox_drawn(scenario):
        raise ValueError(f"scenario: Philox draws have uniform or product bases, got base={scenario.base!r}")
    n, r = scenario.n, float(scenario.target_range)
    if first < 0 or count < 0 or first + count > 2**32:
        raise ValueError(f"first, count: expected rows within [0, 2^32), got {first} + {count}")
    if device == "cuda":
        return _draw_philox_cuda(scenario, key, first, count)
    from . import _philox

    rows = range(first, first + count)
    targets = _philox.uniform(key, PHILOX_STREAM, _LAYER_TARGETS, rows, [0])[:, 0].astype(np.float64) * r
    bases = _philox.uniform(key, PHILOX_STREAM, _LAYER_BASES, rows, range(n)).astype(np.float64)
    if scenario.base == "product":
        bases *= _philox.uniform(key, PHILOX_STREAM, _LAYER_FACTOR, rows, range(n))
    mask = None
    if scenario.density < 1.0:
        mask = _philox.bernoulli(key, PHILOX_STREAM, _LAYER_MASK, rows, range(n), scenario.density)
    return targets, bases, mask


def _draw_philox_cuda(scenario: Scenario, key: int, first: int, count: int):
    """draw_philox_problems on the current CUDA device (torch tensors, its current stream)."""
    import torch

    from . import _core
    from ._gpu import cuda_module

    cuda = cuda_module()
    n, r = scenario.n, float(scenario.target_range)
    stream = torch.cuda.current_stream().cuda_stream

    def uniform(layer, cols):
        out = torch.empty((count, cols), dtype=torch.float32, device="cuda")
        cuda.philox_uniform_rows(key, PHILOX_STREAM, layer, first, count, cols, out.data_ptr(), stream)
        return out

    targets = uniform(_LAYER_TARGETS, 1)[:, 0].double() * r
    bases = uniform(_LAYER_BASES, n).double()
    if scenario.base == "product":
        bases *= uniform(_LAYER_FACTOR, n).double()
    mask = None
    if scenario.density < 1.0:
        mask = torch.empty((count, n), dtype=torch.bool, device="cuda")
        threshold = int(_core.philox_bernoulli_threshold(float(scenario.density)))
        cuda.philox_bernoulli_rows(key, PHILOX_STREAM, _LAYER_MASK, first, count, n, threshold,
                                   mask.data_ptr(), stream)
    return targets, bases, mask


def _chunk_summary(result, n: int, keep_samples: bool, pieces=None) -> tuple:
    """(successes, error sums, error histogram, size histogram, errors or None, sizes or None,
    algorithm) of one solve; histograms of device results are taken on the device. The error
    sums are one per piece ``(start, stop)`` of the batch (default: the whole batch), so that
    how pieces are grouped into solve calls changes no sum."""
    errors, sizes = result.errors, result.sizes
    if pieces is None:
        pieces = [(0, int(errors.shape[0]))]
    if isinstance(errors, np.ndarray):
        errors = np.asarray(errors, dtype=np.float64)
        sizes = np.asarray(sizes)
        return (int(np.count_nonzero(result.found)), tuple(float(errors[a:b].sum()) for a, b in pieces),
                np.histogram(errors, bins=ERROR_BIN_EDGES)[0],
                np.bincount(sizes, minlength=n + 1)[: n + 1],
                errors if keep_samples else None,
                sizes.astype(np.int32) if keep_samples else None, result.algorithm)
    import torch

    edges = torch.as_tensor(ERROR_BIN_EDGES, device=errors.device)
    # np.histogram's bins: [e_i, e_i+1), the last one closed; values outside the edges not counted
    bins = torch.bucketize(errors, edges, right=True) - 1
    bins = torch.where(errors == edges[-1], edges.numel() - 2, bins)
    inside = (errors >= edges[0]) & (errors <= edges[-1])
    error_hist = torch.bincount(bins[inside], minlength=edges.numel() - 1)
    size_hist = torch.bincount(sizes.long(), minlength=n + 1)[: n + 1]
    sums = torch.stack([errors[a:b].sum() for a, b in pieces]).cpu().tolist()
    return (int(result.found.sum()), tuple(sums), error_hist.cpu().numpy(),
            size_hist.cpu().numpy(), errors.cpu().numpy() if keep_samples else None,
            sizes.cpu().numpy().astype(np.int32) if keep_samples else None, result.algorithm)


def _resolve_device(device: str) -> str:
    from ._info import cuda_available

    if device not in DEVICES:
        raise ValueError(f"device: expected one of {DEVICES}, got {device!r}")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise ValueError("device: 'cuda' was asked for but no CUDA device is available "
                         "(subsetsum.cuda_available() is False); use 'cpu' or 'auto'")
    return device


def _block_seeds(seed: SeedLike, num_blocks: int) -> list:
    """Three independent seeds (targets, bases, mask) per draw block of an estimate.

    Block c draws from children ``3c, 3c + 1, 3c + 2`` of ``seed`` (``SeedSequence.spawn`` or
    ``Generator.spawn``), so its problems depend on ``seed`` and its position only, wherever it
    is solved; an estimate of one block draws what the three first children give."""
    if isinstance(seed, np.random.Generator):
        children = seed.spawn(3 * num_blocks)
    else:
        if isinstance(seed, np.random.SeedSequence):
            root = seed
        elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed: expected an int >= 0, a SeedSequence or a Generator, got {seed!r}")
        else:
            root = np.random.SeedSequence(int(seed))
        children = root.spawn(3 * num_blocks)
    return [children[3 * c:3 * c + 3] for c in range(num_blocks)]


def _solve_blocks(scenario: Scenario, blocks, step: int, backend: str, num_threads, keep_samples: bool,
                  progress=None) -> list:
    """Draw and solve draw blocks ``[(count, seeds), ...]`` of one grid point, ``step`` problems
    per solver call (each block's problems drawn by row, so ``step`` changes no problem; with
    Philox draws one call may take the problems of several blocks); a job of :func:`estimate`'s
    executor. Returns per solver call (successes, error sums (one per block part), error
    histogram, size histogram, errors or None, sizes or None, algorithm)."""
    philox = _philox_drawn(scenario)
    # The calls: lists of pieces (block, first row, rows), at most `step` problems each. A piece
    # is a whole block, or `step` rows of a larger one: the same pieces however blocks are
    # grouped into jobs, so the error sums (one per piece) are too.
    calls, current, filled = [], [], 0
    for b, (count, _seeds) in enumerate(blocks):
        if current and (filled + count > step or not philox):
            calls.append(current)
            current, filled = [], 0
        if count > step or not philox:  # numpy streams: one block part per call
            calls.extend([(b, lo, min(step, count - lo))] for lo in range(0, count, step))
        else:
            current.append((b, 0, count))
            filled += count
    if current:
        calls.append(current)
    if philox:
        keys = [_philox_key(seeds[0]) for _count, seeds in blocks]
    else:
        streams = [[g if isinstance(g, np.random.Generator) else np.random.default_rng(g) for g in seeds]
                   for _count, seeds in blocks]
    out = []
    for call in calls:
        if philox:
            parts = [draw_philox_problems(scenario, keys[b], lo, size, backend) for b, lo, size in call]
            targets, bases, mask = (_concatenate([p[i] for p in parts]) for i in range(3))
        else:
            (b, _lo, size), = call
            targets, bases, mask = sample_problems(scenario, size, streams[b])
        forward = None if progress is None else _chunk_progress(progress)
        result = solve(targets, bases, eps=scenario.eps, mode=scenario.mode, k=scenario.k,
                       max_size=scenario.max_size, mask=mask, backend=backend,
                       num_threads=num_threads, progress=forward)
        starts = np.cumsum([0] + [size for _b, _lo, size in call])
        out.append(_chunk_summary(result, scenario.n, keep_samples, list(zip(starts[:-1], starts[1:]))))
    return out


def _concatenate(arrays):
    """numpy or torch arrays joined along the first axis (None stays None; one stays itself)."""
    if arrays[0] is None or len(arrays) == 1:
        return arrays[0]
    if isinstance(arrays[0], np.ndarray):
        return np.concatenate(arrays)
    import torch

    return torch.cat(arrays)


def estimate(scenario: Scenario, num_samples: int, *, seed: SeedLike = 0, device: str = "cpu",
             confidence: float = 0.95, keep_samples: bool = False, num_threads: int | None = None,
             progress: Callable[[int], None] | None = None, executor=None) -> Estimate:
    """Success probability, error and size distribution at one grid point.

    Parameters
    ----------
    scenario : Scenario
    num_samples : int >= 1
        Random problems to draw and solve.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Where the problems come from: blocks of :data:`DRAW_BLOCK` problems, each drawn from its
        own seeds spawned from ``seed`` (a Philox key for uniform and product bases,
        :func:`draw_philox_problems`; three numpy streams for the others), so the problems
        depend neither on how many are solved at once nor on where or in which order blocks
        are solved.
    device : {"cpu", "cuda", "auto"}
        Where to draw (uniform and product bases) and solve. The problems, the successes and the
        histograms do not depend on it; ``mean_error`` may differ in its last bits (the errors
        are summed in another order on the device).
    confidence : float in (0, 1)
        Level of the Wilson interval.
    keep_samples : bool
        Keep the raw errors and sizes in the result (memory: 12 bytes per sample).
    num_threads : int, optional
        CPU threads per solve (default: all cores; one per Ray task, which takes one CPU).
    progress : callable(solved_now), optional
        Called with the number of problems just solved, after each chunk of the solver (after
        each shard with Ray).
    executor : None, "local", "ray" or an Executor
        Where the chunks are solved (:mod:`subsetsum.tickets.executor`): here, or as Ray tasks of
        :data:`SHARD_PROBLEMS` problems on the cluster ``ray.init`` connected to, for 10^10+
        problem runs. The estimate is the same bit for bit either way (the per-chunk counts and
        error sums are combined in chunk order).

    Returns
    -------
    Estimate

    >>> e = estimate(Scenario(n=1, eps=0.1, mode="best"), 20_000, seed=1)
    >>> abs(e.probability - (2 * 0.1 - 1.25 * 0.1 ** 2)) < 0.01   # closed form for n = 1
    True
    """
    from .tickets.executor import LocalExecutor, get_executor

    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario: expected a Scenario, got {type(scenario).__name__}")
    check_int("num_samples", num_samples, 1)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected None or a callable(solved_now), got {progress!r}")
    level = _real("confidence", confidence, lo=0.0)
    if level >= 1.0:
        raise ValueError(f"confidence: expected a level in (0, 1), got {level}")
    backend = "cuda" if _resolve_device(device) == "cuda" else "cpu"
    runner = get_executor(executor, jobs_use_every_core=True)  # a local job: a solver call reporting its progress
    local = isinstance(runner, LocalExecutor)

    n = scenario.n
    step = max(1, (DEVICE_CHUNK_ELEMENTS if backend == "cuda" else CHUNK_ELEMENTS) // n)
    counts = [min(DRAW_BLOCK, num_samples - lo) for lo in range(0, num_samples, DRAW_BLOCK)]
    blocks = list(zip(counts, _block_seeds(seed, len(counts))))
    if local:  # a solver call's worth of blocks per job, with the solver's own progress calls
        per_job = max(1, step // DRAW_BLOCK) if _philox_drawn(scenario) else 1
        jobs = [(scenario, blocks[i:i + per_job], step, backend, num_threads, keep_samples, progress)
                for i in range(0, len(blocks), per_job)]
    else:
        per_shard = max(1, SHARD_PROBLEMS // DRAW_BLOCK)
        threads = 1 if num_threads is None else num_threads
        jobs = [(scenario, blocks[i:i + per_shard], step, backend, threads, keep_samples)
                for i in range(0, len(blocks), per_shard)]
    successes = 0
    error_sums = []
    error_counts = np.zeros(ERROR_BIN_EDGES.size - 1, dtype=np.int64)
    size_counts = np.zeros(n + 1, dtype=np.int64)
    kept_errors = np.empty(num_samples) if keep_samples else None
    kept_sizes = np.empty(num_samples, dtype=np.int32) if keep_samples else None
    algorithm = ""
    lo = 0
    for shard in runner.map(_solve_blocks, jobs):
        for found, error_sum, errors_hist, sizes_hist, errors, sizes, algorithm in shard:
            successes += found
            error_sums.extend(error_sum)
            error_counts += errors_hist
            size_counts += sizes_hist
            count = int(sizes_hist.sum())
            if keep_samples:
                kept_errors[lo:lo + count] = errors
                kept_sizes[lo:lo + count] = sizes
            lo += count
            if progress is not None and not local:
                progress(count)
    lower, upper = wilson_interval(successes, num_samples, level)
    return Estimate(scenario, int(num_samples), successes, lower, upper, level, error_counts,
                    size_counts, math.fsum(error_sums) / num_samples, algorithm, kept_errors, kept_sizes)


def _chunk_progress(progress: Callable[[int], None]) -> Callable[[int, int], None]:
    """Adapts solve()'s cumulative callback(done, total) to increments."""
    state = {"done": 0}

    def forward(done: int, total: int) -> None:
        progress(done - state["done"])
        state["done"] = done

    return forward


def sweep(scenarios: Sequence[Scenario], num_samples: int, *, seed: int = 0, device: str = "cpu",
          confidence: float = 0.95, keep_samples: bool = False, num_threads: int | None = None,
          progress: bool | Callable[[int], None] | None = None, executor=None) -> list[Estimate]:
    """:func:`estimate` at every grid point, each with its own child seed.

    The child seeds come from ``numpy.random.SeedSequence(seed).spawn(len(scenarios))``, so
    grid points are independent and each one's problems depend only on ``seed`` and its
    position in the list.

    Parameters
    ----------
    scenarios : sequence of Scenario
    num_samples : int >= 1
        Problems per grid point.
    seed : int >= 0
    device, confidence, keep_samples, num_threads, executor :
        As in :func:`estimate`.
    progress : bool or callable(solved_now), optional
        True shows a tqdm bar over all problems of the sweep.

    Returns
    -------
    list of Estimate, in the order of ``scenarios``.

    >>> grid = [Scenario(n=n, eps=0.05) for n in (1, 2, 3)]
    >>> [e.successes for e in sweep(grid, 2000, seed=0)]
    [204, 343, 581]
    """
    scenarios = list(scenarios)
    for i, s in enumerate(scenarios):
        if not isinstance(s, Scenario):
            raise TypeError(f"scenarios[{i}]: expected a Scenario, got {type(s).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed: expected an int >= 0, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(scenarios))
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(scenarios) * int(num_samples), unit="problem", unit_scale=True,
                   desc="subsetsum stats")
        update = bar.update
    elif progress is None or progress is False:
        update = None
    elif callable(progress):
        update = progress
    else:
        raise TypeError(f"progress: expected None, a bool or a callable(solved_now), got {progress!r}")
    try:
        return [estimate(s, num_samples, seed=child, device=device, confidence=confidence,
                         keep_samples=keep_samples, num_threads=num_threads, progress=update,
                         executor=executor)
                for s, child in zip(scenarios, children)]
    finally:
        if bar is not None:
            bar.close()


# --------------------------------------------------------------------------------------------
# fits of the bounds' constants


def crossing_n(ns, probabilities, level: float) -> float:
    """Where a success curve first reaches ``level``, interpolated linearly in n.

    Parameters
    ----------
    ns : increasing array (G,) of problem sizes
    probabilities : array (G,) of success probabilities
    level : float in (0, 1)

    Returns
    -------
    float: the interpolated n, ``ns[0]`` when the first point already reaches the level, nan
    when no point does.

    >>> crossing_n([4, 6, 8], [0.2, 0.6, 0.95], 0.9)
    7.714285714285714
    """
    x = np.asarray(ns, dtype=np.float64)
    y = np.asarray(probabilities, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"ns and probabilities: expected two 1-d arrays of one length, got {x.shape} and {y.shape}")
    if (np.diff(x) <= 0).any():
        raise ValueError("ns: expected strictly increasing values")
    lvl = _real("level", level, lo=0.0)
    if lvl >= 1.0:
        raise ValueError(f"level: expected a probability in (0, 1), got {lvl}")
    above = np.nonzero(y >= lvl)[0]
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (lvl - y0) * (x1 - x0) / (y1 - y0))


def required_n(estimates: Sequence[Estimate], level: float) -> float:
    """:func:`crossing_n` of a list of estimates that differ only in n (sorted by n)."""
    est = sorted(estimates, key=lambda e: e.scenario.n)
    return crossing_n([e.scenario.n for e in est], [e.probability for e in est], level)


def fit_proportional(measured, shape):
    """Least-squares constant C of ``measured ~ C * shape``, and the relative residuals.

    Parameters
    ----------
    measured, shape : float arrays (G,); nan entries of ``measured`` are skipped

    Returns
    -------
    (C, residuals): float and float64 array (G,) of ``measured / (C shape) - 1``.

    >>> c, r = fit_proportional([2.0, 4.0, 6.2], [1.0, 2.0, 3.0])
    >>> round(c, 4)
    2.0429
    """
    m = np.asarray(measured, dtype=np.float64)
    s = np.asarray(shape, dtype=np.float64)
    if m.shape != s.shape or m.ndim != 1:
        raise ValueError(f"measured and shape: expected two 1-d arrays of one length, got {m.shape} and {s.shape}")
    ok = np.isfinite(m) & np.isfinite(s)
    if not ok.any():
        raise ValueError("measured: no finite measurement to fit")
    c = float(m[ok] @ s[ok] / (s[ok] @ s[ok]))
    return c, m / (c * s) - 1.0


def fit_subset_sum_constant(required, eps, delta: float):
    """Fit C of ``n >= C log(1 / min(eps, delta))`` (:func:`subsetsum.theory.subset_sum_n`).

    Parameters
    ----------
    required : float array (G,)
        Measured n where the success probability reaches 1 - delta (:func:`required_n`), one
        per eps.
    eps : float array (G,)
    delta : float in (0, 1)

    Returns
    -------
    (C, residuals) as in :func:`fit_proportional`.

    >>> c, _ = fit_subset_sum_constant([9.2, 13.8], [0.01, 0.001], 0.01)
    >>> round(c, 2)
    2.0
    """
    eps_arr = np.asarray(eps, dtype=np.float64)
    return fit_proportional(required, np.asarray(theory.subset_sum_n(eps_arr, delta)))


def fit_rfss_constant(required, k, eps: float):
    """Fit ``c_hyp`` of ``n >= c log2(k / eps) / H2(k / n)`` (002_9a3e2d17b88c5f76.txt, Thm 2).

    The bound's shape is evaluated at the measured n, so each point gives
    ``c = n H2(k / n) / log2(k / eps)`` and the fit is their least-squares combination.

    Parameters
    ----------
    required : float array (G,)
        Measured n where the success probability reaches the chosen level, one per k.
    k : int array (G,)
    eps : float in (0, 1)

    Returns
    -------
    (c, residuals) as in :func:`fit_proportional`.

    >>> c, _ = fit_rfss_constant([38.0], [1], 0.01)
    >>> round(c, 3)
    1.004
    """
    n_arr = np.asarray(required, dtype=np.float64)
    k_arr = np.asarray(k, dtype=np.float64)
    ok = np.isfinite(n_arr) & (n_arr > k_arr)
    shape = np.full(n_arr.shape, np.nan)
    if ok.any():
        shape[ok] = theory.rfss_bound(n_arr[ok], k_arr[ok], eps)
    return fit_proportional(np.where(ok, n_arr, np.nan), shape)


def fit_failure_decay(ns, successes, trials, eps: float, *, max_failure: float = 0.5):
    """Fit Lueker's ``P(failure) ~ a exp(-b n) / eps`` (:func:`subsetsum.theory.lueker_failure_bound`).

    Weighted least squares of ``log(failure rate)`` on n over the points with at least one
    success and failure rate in (0, max_failure] -- the tail the bound describes (weights: the
    inverse binomial variance of the log rate). Measured failure rates fall faster than
    exponentially (the expected number of solutions grows like 2^n), so b is the effective rate
    over the measured range, not a constant of the distribution alone.

    Parameters
    ----------
    ns : array (G,)
    successes, trials : int arrays (G,)
    eps : float in (0, 1)
    max_failure : float in (0, 1]
        Points with a larger failure rate are left out.

    Returns
    -------
    (a, b): floats, the scale and the per-element decay rate. With few samples the measured
    failure rates need not fall with n, and the least-squares b can be 0 or negative; it is
    returned as fitted (the bounds of :mod:`subsetsum.theory` need b > 0: check before using it).

    >>> a, b = fit_failure_decay([2, 4, 6], [6321, 8647, 9502], [10000] * 3, 0.1)
    >>> round(b, 2), round(a, 2)
    (0.5, 0.1)
    """
    x = np.asarray(ns, dtype=np.float64)
    s = np.asarray(successes, dtype=np.float64)
    t = np.asarray(trials, dtype=np.float64)
    if not (x.shape == s.shape == t.shape) or x.ndim != 1:
        raise ValueError("ns, successes and trials: expected 1-d arrays of one length")
    e = _real("eps", eps, lo=0.0)
    top = _real("max_failure", max_failure, lo=0.0)
    if top > 1.0:
        raise ValueError(f"max_failure: expected a rate in (0, 1], got {top}")
    failures = t - s
    ok = (failures > 0) & (s > 0) & (failures <= top * t)
    if np.count_nonzero(ok) < 2:
        raise ValueError("successes: need at least two points with failure rates in (0, max_failure] to fit")
    rate = failures[ok] / t[ok]
    weight = failures[ok] / (1.0 - rate)  # 1 / Var(log q_hat) = t q / (1 - q) (delta method)
    design = np.stack([np.ones(rate.size), -x[ok]], axis=1)
    w = np.sqrt(weight)
    coef, *_ = np.linalg.lstsq(design * w[:, None], np.log(rate) * w, rcond=None)
    return float(math.exp(coef[0]) * e), float(coef[1])


def fit_er_decay_rate(densities, relative_widths) -> float:
    """Fit b in ``n_ER(p) / n_dense = b / log(1 / (1 - p (1 - e^-b)))`` (:func:`subsetsum.theory.er_relative_width`).

    Minimises the squared log-ratio over ``b`` in [1e-3, 50] by golden-section search.

    Parameters
    ----------
    densities : float array (G,) in (0, 1]
    relative_widths : float array (G,)
        Measured required n at density p divided by the dense one; nan entries are skipped.

    Returns
    -------
    float: b.

    >>> p = np.array([0.25, 0.5, 1.0])
    >>> round(fit_er_decay_rate(p, theory.er_relative_width(p, 0.8)), 3)
    0.8
    """
    p = np.asarray(densities, dtype=np.float64)
    r = np.asarray(relative_widths, dtype=np.float64)
    if p.shape != r.shape or p.ndim != 1:
        raise ValueError("densities and relative_widths: expected two 1-d arrays of one length")
    ok = np.isfinite(r) & (r > 0)
    if not ok.any():
        raise ValueError("relative_widths: no finite positive measurement to fit")
    p, log_r = p[ok], np.log(r[ok])

    def loss(log_b: float) -> float:
        model = np.log(np.asarray(theory.er_relative_width(p, math.exp(log_b))))
        return float(np.sum((model - log_r) ** 2))

    lo, hi = math.log(1e-3), math.log(50.0)
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(100):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = loss(b)
    return math.exp((lo + hi) / 2.0)


# --------------------------------------------------------------------------------------------
# tables


CSV_COLUMNS = ("base", "density", "mode", "n", "k", "max_size", "eps", "target_range", "trials",
               "successes", "probability", "lower", "upper", "confidence", "mean_error",
               "median_error", "p90_error", "p99_error", "mean_size", "algorithm")


def estimates_to_rows(estimates: Sequence[Estimate]) -> list[dict]:
    """One dict per estimate with the keys of :data:`CSV_COLUMNS`.

    >>> rows = estimates_to_rows(sweep([Scenario(n=2, eps=0.1)], 100))
    >>> rows[0]["n"], rows[0]["trials"]
    (2, 100)
    """
    rows = []
    for e in estimates:
        s = e.scenario
        rows.append({
            "base": s.base_name, "density": s.density, "mode": s.mode, "n": s.n,
            "k": "" if s.k is None else s.k, "max_size": "" if s.max_size is None else s.max_size,
            "eps": s.eps, "target_range": s.target_range, "trials": e.trials,
            "successes": e.successes, "probability": e.probability, "lower": e.lower,
            "upper": e.upper, "confidence": e.confidence, "mean_error": e.mean_error,
            "median_error": e.error_quantile(0.5), "p90_error": e.error_quantile(0.9),
            "p99_error": e.error_quantile(0.99), "mean_size": e.mean_size,
            "algorithm": e.algorithm,
        })
    return rows


def write_csv(path, rows: Sequence[dict], columns: Sequence[str] | None = None) -> Path:
    """Writes dict rows (e.g. :func:`estimates_to_rows`) to a CSV file; returns its path.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_csv(os.path.join(d, "t.csv"), [{"a": 1, "b": 2.5}])
    ...     p.read_text().splitlines()
    ['a,b', '1,2.5']
    """
    rows = list(rows)
    if columns is None:
        if not rows:
            raise ValueError("rows: expected at least one row when columns are not given")
        columns = list(rows[0])
    out = Path(path)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_value(row.get(key, "")) for key in columns})
    return out


def _csv_value(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if math.isfinite(value) else str(float(value))
    return value


def with_n(scenario: Scenario, n: int) -> Scenario:
    """The same grid point with another n (a convenience for sweeps over n).

    >>> with_n(Scenario(n=3, eps=0.1, density=0.5), 7).n
    7
    """
    return replace(scenario, n=n)


# --------------------------------------------------------------------------------------------
# pruning at initialization and random pruning (003, 004)


@dataclass(frozen=True)
class ProportionEstimate:
    """A measured probability: ``successes`` of ``trials``, with a Wilson interval.

    >>> e = ProportionEstimate.of(3, 4)
    >>> e.probability, e.lower < 0.75 < e.upper
    (0.75, True)
    """

    successes: int
    trials: int
    lower: float
    upper: float
    confidence: float = 0.95

    @classmethod
    def of(cls, successes: int, trials: int, confidence: float = 0.95) -> "ProportionEstimate":
        """From counts, with :func:`wilson_interval`."""
        lo, hi = wilson_interval(int(successes), int(trials), confidence)
        return cls(int(successes), int(trials), lo, hi, confidence)

    @property
    def probability(self) -> float:
        return self.successes / self.trials if self.trials else float("nan")


@dataclass(frozen=True)
class MeanEstimate:
    """A Monte-Carlo mean with its standard error (``std / sqrt(trials)``).

    >>> m = MeanEstimate.of(np.array([1.0, 2.0, 3.0]))
    >>> m.mean, round(m.stderr, 6), m.contains(3.0), m.contains(5.0)
    (2.0, 0.57735, True, False)
    """

    mean: float
    stderr: float
    trials: int

    @classmethod
    def of(cls, values: np.ndarray) -> "MeanEstimate":
        v = np.asarray(values, dtype=np.float64)
        std = float(v.std(ddof=1)) if v.size > 1 else float("nan")
        return cls(float(v.mean()), std / math.sqrt(v.size), int(v.size))

    def contains(self, value: float, z: float = 4.0) -> bool:
        """Whether ``value`` lies within ``z`` standard errors of the mean."""
        return abs(self.mean - float(value)) <= z * self.stderr


def _generator(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed: expected an int >= 0, a SeedSequence or a Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _counts_array(name: str, values, lo: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an int or a 1-d array of ints, got {values!r}")
    if (arr < lo).any():
        raise ValueError(f"{name}: expected values >= {lo}, got {values!r}")
    return arr.astype(np.int64)


@dataclass(frozen=True)
class PruningSimulation:
    """004's random pruning, measured: counts per number of pruned edges.

    Attributes
    ----------
    width, depth : int
    case : str
        "simple" (d - 1 prunable layers) or "multivariate" (d - 2).
    prunes : int64 array (K,)
        Numbers of pruning steps k, increasing.
    trials : int
    disconnected : int64 array (K,)
        Trials in which no path from the input(s) to the output is left after k steps.
    emptied : int64 array (K,)
        Trials in which some prunable layer has been picked at least ``w^2`` times: the
        balls-and-bins event 004's bound is about (:func:`subsetsum.theory.layer_emptied_probability`).

    >>> sim = simulate_random_pruning(2, 3, [8], 50, seed=0)
    >>> [e.probability for e in sim.disconnected_estimates()], sim.emptied_estimates()[0].upper
    ([1.0], 1.0)
    """

    width: int
    depth: int
    case: str
    prunes: np.ndarray
    trials: int
    disconnected: np.ndarray
    emptied: np.ndarray

    def disconnected_estimates(self, confidence: float = 0.95) -> list[ProportionEstimate]:
        return [ProportionEstimate.of(c, self.trials, confidence) for c in self.disconnected]

    def emptied_estimates(self, confidence: float = 0.95) -> list[ProportionEstimate]:
        return [ProportionEstimate.of(c, self.trials, confidence) for c in self.emptied]


def simulate_random_pruning(width: int, depth: int, prunes, trials: int, *, case: str = "simple",
                            seed: SeedLike = 0) -> PruningSimulation:
    """Run 004's random pruning algorithm on a w-wide, d-deep layered network, ``trials`` times.

    004_50c3a4ac78252c91.txt, section 3.1: layers ``L_1 .. L_d`` of w nodes, every node of
    ``L_i`` joined to every node of ``L_{i+1}`` (``w^2`` edges per layer), the input(s) joined to
    all of ``L_1`` and all of ``L_d`` joined to the output t. Each step (a) picks a prunable layer
    uniformly -- ``L_1 .. L_{d-1}`` (simple regression) or ``L_2 .. L_{d-1}`` (multivariate
    regression, section 3.2) --, (b) deletes one of its remaining outgoing edges uniformly (none
    when it has none left), and (d) deletes every node without a path to t with its incoming
    edges. All trials run at once (numpy, vectorized over trials).

    Parameters
    ----------
    width : int >= 1
    depth : int >= 2 (simple) or >= 3 (multivariate)
    prunes : int or 1-d int array >= 0
        Numbers of steps k at which to record the state.
    trials : int >= 1
    case : {"simple", "multivariate"}
    seed : int, SeedSequence or Generator

    Returns
    -------
    PruningSimulation

    >>> sim = simulate_random_pruning(2, 3, [0, 3, 8], 200, seed=0)
    >>> sim.disconnected.tolist()[0], sim.disconnected.tolist()[2]     # 8 prunes of 2 x 4 edges
    (0, 200)
    >>> bool((sim.emptied <= sim.disconnected).all())
    True
    """
    bins = theory._pruning_bins(depth, case)
    w = check_int("width", width, 1, 1025)
    t = check_int("trials", trials, 1)
    ks = np.unique(_counts_array("prunes", prunes, 0))
    rng = _generator(seed)
    d = int(depth)
    first = 0 if case == "simple" else 1  # index of the first prunable edge layer E_{first+1}
    edges = np.ones((t, d - 1, w, w), dtype=bool)  # E_i: L_i -> L_{i+1}, i = 1 .. d-1
    picks = np.zeros((t, bins), dtype=np.int64)
    rows = np.arange(t)
    disconnected = np.zeros(ks.size, dtype=np.int64)
    emptied = np.zeros(ks.size, dtype=np.int64)
    step = 0
    for slot, k in enumerate(ks):
        while step < k:
            layer = rng.integers(0, bins, size=t)
            picks[rows, layer] += 1
            chosen = edges[rows, first + layer].reshape(t, w * w)
            keys = rng.random((t, w * w)) * chosen  # uniform among the remaining edges
            which = np.argmax(keys, axis=1)
            has = chosen[rows, which]
            flat = edges[rows, first + layer].reshape(t, w * w)
            flat[rows[has], which[has]] = False
            edges[rows, first + layer] = flat.reshape(t, w, w)
            _prune_dead(edges)
            step += 1
        alive_first = edges[:, 0].any(axis=2)  # L_1 nodes with an edge left (all lead to t)
        disconnected[slot] = int(np.count_nonzero(~alive_first.any(axis=1)))
        emptied[slot] = int(np.count_nonzero((picks >= w * w).any(axis=1)))
    return PruningSimulation(w, d, case, ks, t, disconnected, emptied)


def _prune_dead(edges: np.ndarray) -> None:
    """Step (d) of 004's algorithm, in place: drop the edges into nodes without a path to t.

    A node of ``L_d`` always reaches t; a node of ``L_i`` does when one of its edges leads to a
    node of ``L_{i+1}`` that does. Edges out of a dead node lead only to dead nodes, so they go too.
    """
    layers = edges.shape[1]
    alive_next = np.ones(edges.shape[:1] + edges.shape[3:], dtype=bool)  # L_d
    for i in range(layers - 1, -1, -1):
        edges[:, i] &= alive_next[:, None, :]
        alive_next = edges[:, i].any(axis=2)


def simulate_path_products(target: float, eps: float, depth: int, width: int, trials: int, *,
                           seed: SeedLike = 0) -> ProportionEstimate:
    """How often some path product of a random deep graph lands within eps of a target.

    004_50c3a4ac78252c91.txt, section 7.3: a source s, d - 1 hidden layers of width w and a sink
    t, every edge weight i.i.d. Uniform[-1, 1]; each of the ``w^(d-1)`` s-t paths multiplies d
    weights. A trial succeeds when some path's product is within eps of ``target``. 004's estimate,
    which treats the paths as independent, is :func:`subsetsum.theory.path_ticket_probability`;
    paths share edges, so the measured probability is lower once the paths outnumber the edges.

    Parameters
    ----------
    target : float in [-1, 1]
    eps : float > 0
    depth : int >= 1
    width : int >= 1, with ``width^(depth - 1) <= 2**20`` paths
    trials : int >= 1
    seed : int, SeedSequence or Generator

    Returns
    -------
    ProportionEstimate

    >>> est = simulate_path_products(0.5, 0.1, 1, 1, 4000, seed=0)   # one uniform: P = 0.1
    >>> est.lower <= 0.1 <= est.upper
    True
    """
    z = float(theory._array("target", target, -1.0, 1.0, lo_open=False, hi_open=False))
    e = _real("eps", eps, lo=0.0)
    d = check_int("depth", depth, 1, 64)
    w = check_int("width", width, 1)
    if float(w) ** (d - 1) > 2**20:
        raise ValueError(f"width, depth: {w}^{d - 1} paths is more than 2**20 per trial")
    t = check_int("trials", trials, 1)
    rng = _generator(seed)
    paths = w ** (d - 1)
    chunk = max(1, (1 << 22) // max(paths, 1))
    successes = 0
    for lo in range(0, t, chunk):
        count = min(chunk, t - lo)
        if d == 1:
            products = rng.uniform(-1.0, 1.0, size=(count, 1))
        else:
            prod = rng.uniform(-1.0, 1.0, size=(count, 1, w))  # paths ending at each L_1 node
            for _layer in range(d - 2):
                step = rng.uniform(-1.0, 1.0, size=(count, w, w))
                prod = (prod[:, :, :, None] * step[:, None, :, :]).reshape(count, -1, w)
            last = rng.uniform(-1.0, 1.0, size=(count, 1, w))
            products = (prod * last).reshape(count, -1)
        successes += int(np.count_nonzero((np.abs(products - z) <= e).any(axis=1)))
    return ProportionEstimate.of(successes, t)


@dataclass(frozen=True)
class TicketSurvival:
    """Subset-sum tickets under random pruning of their source edges, measured.

    Attributes
    ----------
    problems, n : int
        Target weights per ticket and source edges per target weight (the base-set size).
    eps : float
    removed : int64 array (K,)
        Source edges pruned at random (of ``problems * n``), increasing.
    trials : int
    survived : int64 array (K,)
        Trials in which every target weight still has a subset of its remaining edges within eps.
    solved : int64 array (K,)
        Problems (of ``trials * problems``) still solvable: the per-weight success rate, whose
        ``problems``-th power predicts ``survived`` if the weights were independent.
    """

    problems: int
    n: int
    eps: float
    removed: np.ndarray
    trials: int
    survived: np.ndarray
    solved: np.ndarray

    def survival_estimates(self, confidence: float = 0.95) -> list[ProportionEstimate]:
        return [ProportionEstimate.of(c, self.trials, confidence) for c in self.survived]

    def independent_prediction(self) -> np.ndarray:
        """``(solved / (trials * problems)) ** problems`` per k."""
        return (self.solved / (self.trials * self.problems)) ** self.problems


def simulate_ticket_survival(problems: int, n: int, eps: float, removed, trials: int, *,
                             seed: SeedLike = 0, device: str = "cpu") -> TicketSurvival:
    """Does a strong ticket survive random pruning of its source? Measured with the ER-masked solver.

    A ticket layer of ``problems`` target weights z ~ Uniform[-1, 1], each with its own base set
    of n Uniform[-1, 1] source edges (an L+1 layer, 001_d33223a708772bec.txt Thm 2.7). Random
    pruning in the manner of 004_50c3a4ac78252c91.txt section 3 deletes k of the
    ``problems * n`` source edges uniformly (the same random order for every k of a trial, so a
    trial's curve is monotone); the ticket survives when every target weight still has a subset
    of its remaining edges within eps -- one :func:`subsetsum.solve` call per k with the pruned
    edges masked out (as for 000_79c8cccaad099f72.txt's ER bases). Paper 004's budget counts
    only connectivity; this is what a subset-sum ticket needs.

    Parameters
    ----------
    problems : int >= 1
    n : int in [1, 64]
    eps : float > 0
    removed : int or 1-d int array in [0, problems * n]
    trials : int >= 1
    seed : int, SeedSequence or Generator
    device : {"cpu", "cuda", "auto"}

    Returns
    -------
    TicketSurvival

    >>> sv = simulate_ticket_survival(4, 10, 0.05, [0, 40], 50, seed=0)
    >>> sv.survived.tolist()[1]          # every edge pruned: only targets within eps of 0 remain
    0
    >>> bool(sv.independent_prediction()[0] > 0.5), sv.survival_estimates()[1].lower
    (True, 0.0)
    """
    m = check_int("problems", problems, 1)
    nn = check_int("n", n, 1, 65)
    e = _real("eps", eps, lo=0.0)
    ks = np.unique(_counts_array("removed", removed, 0))
    if ks.max() > m * nn:
        raise ValueError(f"removed: expected at most problems * n = {m * nn} edges, got {int(ks.max())}")
    t = check_int("trials", trials, 1)
    backend = "cuda" if _resolve_device(device) == "cuda" else "cpu"
    rng = _generator(seed)
    targets = rng.uniform(-1.0, 1.0, size=(t, m))
    bases = rng.uniform(-1.0, 1.0, size=(t, m, nn))
    order = np.argsort(rng.random((t, m * nn)), axis=1)  # the pruning order of each trial
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(m * nn)[None, :].repeat(t, axis=0), axis=1)
    mode = "best" if nn <= 22 else "min_size"
    survived = np.zeros(ks.size, dtype=np.int64)
    solved = np.zeros(ks.size, dtype=np.int64)
    for slot, k in enumerate(ks):
        mask = (rank >= k).reshape(t * m, nn)  # edges still there after k prunes
        result = solve(targets.reshape(-1), bases.reshape(t * m, nn), eps=e, mode=mode, mask=mask,
                       backend=backend)
        found = np.asarray(result.found).reshape(t, m)
        survived[slot] = int(np.count_nonzero(found.all(axis=1)))
        solved[slot] = int(np.count_nonzero(found))
    return TicketSurvival(m, nn, e, ks, t, survived, solved)


def _sketch_setup(weights, samples, probabilities):
    w = np.asarray(theory._weights_vector("weights", weights))
    s = check_int("samples", samples, 1)
    if probabilities is None:
        return w, s, None
    p = theory._array("probabilities", probabilities, 0.0, 1.0, lo_open=False, hi_open=False)
    if p.shape != w.shape or abs(float(p.sum()) - 1.0) > 1e-6:
        raise ValueError(f"probabilities: expected shape {w.shape} and values summing to 1")
    return w, s, p / p.sum()


def simulate_sketch_error(features, weights, samples: int, trials: int, *, probabilities=None,
                          seed: SeedLike = 0) -> MeanEstimate:
    """Mean of ``||X^T w - X^T (w * m)||^2`` over ``trials`` masks of 003's Algorithm 1.

    003_3a02d48777e82c5c.txt, Algorithm 1 on fixed data X (d x n), with the optimal p of eq. (2)
    by default: the Monte-Carlo counterpart of Lemma 4.1 (:func:`subsetsum.theory.sketch_error`).
    Draws with :func:`numpy.random.Generator.multinomial`, as :func:`subsetsum.masks.sketch_mask`.

    Parameters
    ----------
    features : float array (d, n)
    weights : float array (d,)
    samples : int >= 1
    trials : int >= 2
    probabilities : float array (d,), optional
    seed : int, SeedSequence or Generator

    Returns
    -------
    MeanEstimate

    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]]); w = np.array([1.0, 1.0])
    >>> m = simulate_sketch_error(X, w, 1, 20000, seed=0)
    >>> m.contains(theory.sketch_error(X, w, 1))
    True
    """
    w, s, p = _sketch_setup(weights, samples, probabilities)
    x = theory._array("features", features, -np.inf, np.inf, lo_open=True, hi_open=True)
    if x.ndim != 2 or x.shape[0] != w.size:
        raise ValueError(f"features: expected shape ({w.size}, n), got {x.shape}")
    t = check_int("trials", trials, 2)
    rng = _generator(seed)
    if p is None:
        mass = np.sqrt(np.einsum("kn,kn->k", x, x)) * np.abs(w)
        p = mass / mass.sum()
    exact = w @ x
    values = np.empty(t)
    chunk = max(1, (1 << 22) // max(w.size, 1))
    for lo in range(0, t, chunk):
        count = min(chunk, t - lo)
        counts = rng.multinomial(s, p, size=count)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(counts > 0, counts / (s * p), 0.0)
        values[lo:lo + count] = np.sum((exact - (scale * w) @ x) ** 2, axis=1)
    return MeanEstimate.of(values)


def simulate_sketch_error_gaussian(weights, samples: int, n_examples: int, trials: int, *,
                                   seed: SeedLike = 0) -> MeanEstimate:
    """Mean of ``||X^T w - X^T (w * m)||^2`` over Gaussian data ``X ~ N(0, I/n)`` and masks.

    003_3a02d48777e82c5c.txt, the setting of Lemma 4.2: every trial draws X (d x n) and a mask
    of Algorithm 1 with the optimal p of eq. (2) computed from that X. Compare with
    :func:`subsetsum.theory.sketch_error_gaussian` (exact) and
    :func:`subsetsum.theory.sketch_error_bound` (the lemma's bound).

    Parameters
    ----------
    weights : float array (d,)
    samples : int >= 1
    n_examples : int >= 1
    trials : int >= 2
    seed : int, SeedSequence or Generator

    Returns
    -------
    MeanEstimate

    >>> m = simulate_sketch_error_gaussian([1.0, 1.0], 1, 2, 20000, seed=0)
    >>> m.contains(theory.sketch_error_gaussian([1.0, 1.0], 1, n_examples=2))
    True
    """
    w, s, _p = _sketch_setup(weights, samples, None)
    nx = check_int("n_examples", n_examples, 1)
    t = check_int("trials", trials, 2)
    rng = _generator(seed)
    d = w.size
    values = np.empty(t)
    chunk = max(1, (1 << 22) // (d * nx))
    for lo in range(0, t, chunk):
        count = min(chunk, t - lo)
        x = rng.standard_normal((count, d, nx)) / math.sqrt(nx)
        mass = np.sqrt(np.einsum("bkn,bkn->bk", x, x)) * np.abs(w)
        p = mass / mass.sum(axis=1, keepdims=True)
        counts = np.stack([rng.multinomial(s, row) for row in p])
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(counts > 0, counts / (s * p), 0.0)
        residual = np.einsum("bk,bkn->bn", w * (1.0 - scale), x)
        values[lo:lo + count] = np.sum(residual ** 2, axis=1)
    return MeanEstimate.of(values)
