"""Size requirements from the papers, as functions.

Every function here is pure arithmetic (numpy only): the sufficient (and, where the papers give
one, necessary) number of random elements or source-network width for a subset-sum
approximation to succeed. Measurements to hold them against come from :mod:`subsetsum.stats`.

The papers prove existence "for a universal constant C" without giving C. Such constants are
parameters here, named after the paper's symbol, with the default ``1.0``: the functions then
return the bound's *shape*, and :mod:`subsetsum.stats` fits the constant to measurements
(docs/theory.md lists fitted values). Natural logarithms are written ``log`` as in the papers
000 and 001; paper 002 uses ``log2`` explicitly.

Paper files (in the project's ``papers`` folder):

* 000_79c8cccaad099f72.txt -- Erdős–Rényi (ER) sources: Lemma 2.4 (subset sum over
  Bernoulli-masked bases), Theorems 2.1-2.3 (width to represent a target in an ER source),
  Theorem 2.5 (L+1 lottery tickets in ER sources), Figure 2.
* 001_d33223a708772bec.txt -- section 2: random subset sum (Lueker), 2L (Theorem 2.5),
  one-layer-for-one (Theorem 2.7), error propagation (Lemma 2.8), L+1 (Theorem 2.9).
* 002_9a3e2d17b88c5f76.txt -- Random Fixed-Size Subset Sum: Theorem 2, Corollaries 1-2,
  Theorem 3 (sparse tickets, Figure 1), Theorem 5 (lower bound).
* 003_3a02d48777e82c5c.txt -- pruning at initialization as sketching: the expected error of
  Algorithm 1's masks (Lemma 4.1 exactly, Lemma 4.2's bound and the exact Gaussian value it
  should bound), the density such masks keep. The masks themselves: :mod:`subsetsum.masks`.
* 004_50c3a4ac78252c91.txt -- random pruning as balls and bins (section 3: the pruning budget
  for simple and multivariate regression, its bound and the exact probability), path products
  and the widths of deep random substitution graphs (section 7).

Invalid arguments raise a TypeError or ValueError naming the argument; a result beyond float64
(or a width beyond int64) raises a ValueError naming the arguments that lead there, rather than
overflowing on the way (:func:`expected_solution_count`, an expectation, returns inf instead).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._checks import check_int

# Default for every constant the papers leave unspecified: the bound's shape. Fitted values
# for concrete base distributions come from subsetsum.stats (see docs/theory.md).
DEFAULT_CONSTANT = 1.0

# 002_9a3e2d17b88c5f76.txt, Theorem 5: the lower bound on n is the Theorem 2 shape with
# constant d^2 / 2, valid for k <= RFSS_LOWER_BOUND_MAX_DENSITY * n and eps < 1/16.
RFSS_LOWER_BOUND_MAX_DENSITY = 1.0 - 1.0 / (2.0 * math.pi)
RFSS_LOWER_BOUND_MAX_EPS = 1.0 / 16.0

# 001_d33223a708772bec.txt, Theorem 2.9 asks for any gamma > 0 in rho = C N_t^(1+gamma) ...;
# rho only enters a logarithm, so the choice barely moves the widths.
DEFAULT_GAMMA = 0.1

__all__ = [
    "DEFAULT_CONSTANT",
    "DEFAULT_GAMMA",
    "RFSS_LOWER_BOUND_MAX_DENSITY",
    "RFSS_LOWER_BOUND_MAX_EPS",
    "binary_entropy",
    "subset_sum_n",
    "lueker_failure_bound",
    "er_width_factor",
    "er_relative_width",
    "er_failure_bound",
    "er_subset_sum_n",
    "er_representation_widths",
    "er_width_lower_bound",
    "layer_tolerances",
    "two_for_one_width",
    "one_for_one_width",
    "two_l_widths",
    "l_plus_one_widths",
    "rfss_bound",
    "rfss_min_n",
    "rfss_corollary2_applies",
    "rfss_lower_bound_n",
    "SparseTicketSize",
    "sparse_ticket_size",
    "expected_solution_count",
    "sketch_error",
    "sketch_error_gaussian",
    "sketch_error_bound",
    "sketch_expected_density",
    "sketch_samples_for_density",
    "pruning_budget",
    "pruning_disconnection_bound",
    "max_load_probability",
    "layer_emptied_probability",
    "path_product_probability",
    "path_ticket_probability",
    "substitution_width",
]


# --------------------------------------------------------------------------------------------
# validation


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{name}: expected a finite number, got an int too large for float64 "
                         f"({int(value).bit_length()} bits)") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return value


def _open_unit(name: str, value) -> float:
    value = _number(name, value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name}: expected a number in (0, 1), got {value}")
    return value


def _positive(name: str, value) -> float:
    value = _number(name, value)
    if value <= 0.0:
        raise ValueError(f"{name}: expected a number > 0, got {value}")
    return value


# Counts (n, k, widths, ...) stay below 2**53, where float64 still holds every integer: the
# formulas mix them with logarithms and floats.
_MAX_COUNT = 2**53


def _count(name: str, value, lo: int) -> int:
    """An int in [lo, 2**53) (bools and floats rejected)."""
    return check_int(name, value, lo, _MAX_COUNT)


def _array(name: str, value, lo: float, hi: float, *, lo_open: bool, hi_open: bool) -> np.ndarray:
    """A float64 array of ``value`` after checking every entry is a finite number in the interval.

    Strings, bools, ragged nestings and ints beyond float64 are refused with the argument's name.
    """
    expected = f"{name}: expected a number or an array of numbers"
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{expected}, got bool")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nestings
        raise TypeError(f"{expected}, got {value!r}") from exc
    if raw.dtype.kind == "O":  # Python ints beyond int64, or mixed objects
        items = raw.ravel().tolist()
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
            raise TypeError(f"{expected}, got {value!r}")
        try:
            raw = np.array(items, dtype=np.float64).reshape(raw.shape)
        except OverflowError:
            raise ValueError(f"{name}: expected finite values, got an int too large for float64") from None
    elif raw.dtype.kind not in "iuf":
        raise TypeError(f"{expected}, got {value!r} (dtype {raw.dtype})")
    arr = raw.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got {value!r}")
    below = (arr <= lo) if lo_open else (arr < lo)
    above = (arr >= hi) if hi_open else (arr > hi)
    if below.any() or above.any():
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name}: expected values in {interval}, got {value!r}")
    return arr


def _finite(value, **arguments):
    """``value`` unchanged when every entry is finite; otherwise a ValueError naming the arguments.

    A bound beyond float64 (1.8e308) is not a number the caller can use: the message says which
    arguments took it there.
    """
    if not np.isfinite(np.asarray(value, dtype=np.float64)).all():
        shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        raise ValueError(f"{shown}: the result overflows float64 (above 1.8e308) for these arguments")
    return value


def _out(arr: np.ndarray, **arguments):
    """A Python float for 0-d results, the array otherwise; checked finite (see :func:`_finite`)."""
    arr = np.asarray(arr)
    if arguments:
        _finite(arr, **arguments)
    return float(arr) if arr.ndim == 0 else arr


def _widths(name: str, widths, min_len: int) -> list[int]:
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise TypeError(f"{name}: expected a sequence of layer widths, got {widths!r}")
    out = [_count(f"{name}[{i}]", w, 1) for i, w in enumerate(widths)]
    if len(out) < min_len:
        raise ValueError(f"{name}: expected at least {min_len} layer widths, got {len(out)}")
    return out


def _int_widths(values, **arguments) -> np.ndarray:
    """Rounded-up widths as int64, or a ValueError naming the arguments when one is beyond int64."""
    out = []
    for v in values:
        if not (math.isfinite(v) and v < 2.0**63):
            shown = ", ".join(f"{k}={a!r}" for k, a in arguments.items())
            raise ValueError(f"{shown}: a width overflows int64 (is {v:.3g}) for these arguments")
        out.append(int(v) if isinstance(v, int) else math.ceil(v - 1e-9))
    return np.array(out, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# random subset sum (Lueker) and its Erdős–Rényi version


def binary_entropy(x):
    """Binary entropy ``H2(x) = -x log2 x - (1-x) log2(1-x)`` in bits, with ``H2(0) = H2(1) = 0``.

    002_9a3e2d17b88c5f76.txt, section 3 (definition before Theorem 2).

    Parameters
    ----------
    x : float or array of floats in [0, 1]

    Returns
    -------
    float, or float64 array of the shape of ``x``.

    >>> binary_entropy(0.5), round(binary_entropy(0.1), 6)
    (1.0, 0.468996)
    """
    p = _array("x", x, 0.0, 1.0, lo_open=False, hi_open=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -p * np.log2(p) - (1.0 - p) * np.log2(1.0 - p)
    return _out(np.where((p == 0.0) | (p == 1.0), 0.0, h))


def subset_sum_n(eps, delta, *, constant: float = DEFAULT_CONSTANT):
    """Random subset sum: ``n >= C log(1 / min(eps, delta))`` elements suffice.

    With n i.i.d. elements that contain a uniform distribution, any target z in [-1, 1] is
    within eps of some subset sum with probability at least 1 - delta.
    001_d33223a708772bec.txt, section 2, paragraph "Subset Sum Approximation" (Lueker 1998).

    Parameters
    ----------
    eps, delta : float or array in (0, 1)
        Tolerance and failure probability.
    constant : float > 0
        The paper's C, which depends on the base distribution (larger for products of two
        uniforms, as in 2L, than for uniforms, as in L+1). Default 1: the bound's shape.

    Returns
    -------
    float or float64 array: the right-hand side (the smallest admissible n is its ceiling).

    >>> round(subset_sum_n(0.01, 0.1), 4)
    4.6052
    >>> round(subset_sum_n(0.01, 0.001, constant=2.0), 4)
    13.8155
    """
    e = _array("eps", eps, 0.0, 1.0, lo_open=True, hi_open=True)
    d = _array("delta", delta, 0.0, 1.0, lo_open=True, hi_open=True)
    c = _positive("constant", constant)
    with np.errstate(over="ignore"):
        return _out(c * -np.log(np.minimum(e, d)), eps=eps, delta=delta, constant=constant)


def lueker_failure_bound(n, eps, *, scale: float = 1.0, decay_rate: float = 1.0):
    """Lueker's failure probability bound ``a exp(-b n) / eps`` for n uniform elements.

    The probability that no subset of n i.i.d. Uniform[-1, 1] elements is within eps of a
    fixed target. 000_79c8cccaad099f72.txt, Appendix A.2, proof of Lemma A.1 (= Lemma 2.4),
    citing Lueker (1998). The constants a and b are not given there.

    Parameters
    ----------
    n : int or array of ints >= 0
    eps : float in (0, 1)
    scale : float > 0
        The constant a.
    decay_rate : float > 0
        The constant b (per element). :func:`subsetsum.stats.fit_failure_decay` measures it.

    Returns
    -------
    float or float64 array, not clipped to 1 (it is a bound).

    >>> round(lueker_failure_bound(10, 0.01, scale=0.5, decay_rate=0.7), 6)
    0.045594
    """
    n_arr = _array("n", n, 0.0, np.inf, lo_open=False, hi_open=True)
    e = _open_unit("eps", eps)
    a = _positive("scale", scale)
    b = _positive("decay_rate", decay_rate)
    with np.errstate(over="ignore"):
        return _out(np.exp(math.log(a) - b * n_arr - math.log(e)), n=n, eps=eps, scale=scale,
                    decay_rate=decay_rate)


def er_width_factor(p):
    """The Erdős–Rényi overparameterization factor ``1 / log(1 / (1 - p))``.

    How much larger a base set (or a layer) must be when each element survives independently
    with probability p. 000_79c8cccaad099f72.txt, Lemma 2.4 and Theorems 2.1-2.3. For small p
    it is close to 1/p - 1/2.

    Parameters
    ----------
    p : float or array in (0, 1)
        Edge density (1 - sparsity). p = 1 (dense) is outside the lemma: its factor tends to 0
        because the lemma drops terms; use :func:`er_relative_width` for a factor that is 1 at
        p = 1.

    Returns
    -------
    float or float64 array.

    >>> round(er_width_factor(0.5), 6), round(er_width_factor(0.1), 4)
    (1.442695, 9.4912)
    """
    q = _array("p", p, 0.0, 1.0, lo_open=True, hi_open=True)
    with np.errstate(divide="ignore", over="ignore"):
        return _out(1.0 / -np.log1p(-q), p=p)  # log1p: exact where 1 - p rounds (p < 1e-8)


def er_relative_width(p, decay_rate: float):
    """Base-set size for ER(p) relative to dense, ``b / log(1 / (1 - p (1 - exp(-b))))``.

    The exact factor inside the proof of Lemma 2.4 (000_79c8cccaad099f72.txt, Appendix A.2,
    proof of Lemma A.1): averaging Lueker's failure bound ``a exp(-b K) / eps`` over the
    number of surviving elements ``K ~ Bin(n, p)`` gives ``(a / eps) (1 - p (1 - e^-b))^n``,
    so ER(p) needs this many times the dense n. It equals 1 at p = 1, tends to ``b / (p (1 -
    e^-b))`` for small p, and the lemma bounds it by a constant times :func:`er_width_factor`.

    Parameters
    ----------
    p : float or array in (0, 1]
    decay_rate : float > 0
        Lueker's b, per element (see :func:`subsetsum.stats.fit_failure_decay`).

    Returns
    -------
    float or float64 array.

    >>> er_relative_width(1.0, 0.7)
    1.0
    >>> round(er_relative_width(0.5, 0.7), 4)
    2.4141
    """
    q = _array("p", p, 0.0, 1.0, lo_open=True, hi_open=False)
    b = _positive("decay_rate", decay_rate)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return _out(b / -np.log1p(-q * -np.expm1(-b)), p=p, decay_rate=decay_rate)


def er_failure_bound(n, p, eps, *, scale: float = 1.0, decay_rate: float = 1.0):
    """Failure bound for ER(p)-masked uniform bases, ``(a / eps) (1 - p (1 - exp(-b)))^n``.

    000_79c8cccaad099f72.txt, Appendix A.2, proof of Lemma A.1: Lueker's bound averaged over
    the Binomial(n, p) number of surviving elements. With p = 1 it is
    :func:`lueker_failure_bound`.

    Parameters
    ----------
    n : int or array of ints >= 0
    p : float in (0, 1]
    eps : float in (0, 1)
    scale, decay_rate : float > 0
        Lueker's a and b.

    Returns
    -------
    float or float64 array.

    >>> round(er_failure_bound(10, 1.0, 0.01, scale=0.5, decay_rate=0.7), 6)
    0.045594
    """
    n_arr = _array("n", n, 0.0, np.inf, lo_open=False, hi_open=True)
    q = _array("p", p, 0.0, 1.0, lo_open=True, hi_open=False)
    e = _open_unit("eps", eps)
    a = _positive("scale", scale)
    b = _positive("decay_rate", decay_rate)
    with np.errstate(over="ignore", divide="ignore"):
        log_bound = math.log(a) - math.log(e) + n_arr * np.log1p(-q * -np.expm1(-b))
        return _out(np.exp(log_bound), n=n, p=p, eps=eps, scale=scale, decay_rate=decay_rate)


def er_subset_sum_n(eps, delta, p, *, constant: float = DEFAULT_CONSTANT):
    """Subset sum over ER(p)-masked bases: ``n >= C / log(1/(1-p)) * log(1 / min(eps, delta))``.

    000_79c8cccaad099f72.txt, Lemma 2.4: :func:`subset_sum_n` times :func:`er_width_factor`.

    Parameters
    ----------
    eps, delta : float or array in (0, 1)
    p : float or array in (0, 1)
        Probability that an element survives the mask.
    constant : float > 0
        The lemma's C (default 1: the shape).

    Returns
    -------
    float or float64 array (broadcast over the arguments).

    >>> round(er_subset_sum_n(0.01, 0.01, 0.5), 4)
    6.6439
    """
    with np.errstate(over="ignore"):
        value = np.asarray(subset_sum_n(eps, delta, constant=constant)) * np.asarray(er_width_factor(p))
    return _out(value, eps=eps, delta=delta, p=p, constant=constant)


def er_representation_widths(target_widths: Sequence[int], densities: Sequence[float], delta: float,
                             *, target_nonzeros: Sequence[int] | None = None) -> np.ndarray:
    """Widths of an L+1-layer ER source network that contains an exact copy of the target.

    000_79c8cccaad099f72.txt, Theorem 2.2 (Theorem 2.1 is the case L = 2): working back from
    the output, ``q_L = 1`` and
    ``q_l = ceil(log(L m_{T,l+1} q_{l+1} / delta) / log(1 / (1 - p_{l+1})))`` copies of each
    target neuron of layer l, for l = L-1, ..., 0; the source widths are ``n_{S,l} = q_l n_{T,l}``
    (``n_{T,0} = d``, the input size). Figure 2 of the paper plots ``n_{S,1}`` for a target
    [d, 128, 10] at ``delta = 0.001``.

    Parameters
    ----------
    target_widths : sequence of L+1 ints >= 1
        ``[d, n_{T,1}, ..., n_{T,L}]``.
    densities : sequence of L floats in (0, 1]
        ``p_1, ..., p_L``: the ER edge density of the source weights entering source layer l.
        A dense layer (p = 1) needs one copy.
    delta : float in (0, 1)
        Allowed failure probability.
    target_nonzeros : sequence of L ints, optional
        ``m_{T,l}``, nonzero target weights per layer (default: dense, ``n_{T,l} n_{T,l-1}``).

    Returns
    -------
    int64 array (L+1,): ``[n_{S,0}, ..., n_{S,L}]``, the source widths after the input
    (``n_{S,L} = n_{T,L}``).

    >>> er_representation_widths([784, 128, 10], [0.1, 0.1], 0.001).tolist()
    [179536, 18048, 10]
    """
    widths = _widths("target_widths", target_widths, 2)
    depth = len(widths) - 1
    dens = _array("densities", densities, 0.0, 1.0, lo_open=True, hi_open=False)
    if dens.shape != (depth,):
        raise ValueError(f"densities: expected {depth} layer densities (one per target layer), "
                         f"got shape {dens.shape}")
    dlt = _open_unit("delta", delta)
    if target_nonzeros is None:
        nonzeros = [widths[i] * widths[i + 1] for i in range(depth)]
    else:
        nonzeros = _widths("target_nonzeros", target_nonzeros, depth)
        if len(nonzeros) != depth:
            raise ValueError(f"target_nonzeros: expected {depth} entries, got {len(nonzeros)}")
    copies = [1] * (depth + 1)
    for layer in range(depth - 1, -1, -1):
        p_next = dens[layer]
        if p_next >= 1.0:
            copies[layer] = 1
            continue
        need = ((math.log(depth * nonzeros[layer]) + math.log(copies[layer + 1]) - math.log(dlt))
                / -math.log1p(-float(p_next)))
        if not need < 2.0**63:
            raise ValueError(f"densities={densities!r}, delta={delta!r}: the copies per neuron overflow int64 "
                             f"({need:.3g}) for these arguments")
        # The small tolerance keeps exact integers (up to rounding) from being bumped up.
        copies[layer] = max(1, math.ceil(need - 1e-9))
    return _int_widths([q * w for q, w in zip(copies, widths)], target_widths=target_widths,
                       densities=densities, delta=delta)


def er_width_lower_bound(p, delta: float, n_inputs: int):
    """Width below which an ER(p) one-hidden-layer source fails to represent some target.

    000_79c8cccaad099f72.txt, Theorem 2.3:
    ``n_{S,1} < log(1 / (1 - (1 - delta)^(1/d))) / log(1 / (1 - p))`` fails with probability
    more than delta, for a univariate-output target with d inputs.

    Parameters
    ----------
    p : float or array in (0, 1)
    delta : float in (0, 1)
    n_inputs : int >= 1
        d.

    Returns
    -------
    float or float64 array.

    >>> round(er_width_lower_bound(0.5, 0.01, 10), 4)
    9.9593
    """
    dlt = _open_unit("delta", delta)
    d = _count("n_inputs", n_inputs, 1)
    per_input_failure = -math.expm1(math.log1p(-dlt) / d)  # 1 - (1 - delta)^(1/d)
    # below 1e-300 it is delta / d to float precision, and that form cannot underflow to 0
    log_failure = math.log(per_input_failure) if per_input_failure > 1e-300 else math.log(dlt) - math.log(d)
    with np.errstate(over="ignore"):
        return _out(np.asarray(er_width_factor(p)) * -log_failure, p=p, delta=delta, n_inputs=n_inputs)


# --------------------------------------------------------------------------------------------
# 2L and L+1 constructions (dense and ER)


def layer_tolerances(eps: float, target_widths: Sequence[int], *, lipschitz: float = 1.0,
                     activation_l1_bounds: Sequence[float] | None = None,
                     weight_inf_norms: Sequence[float] | None = None) -> np.ndarray:
    """Per-layer parameter tolerances ``eps_l`` that keep the end-to-end error below eps.

    001_d33223a708772bec.txt, Lemma 2.8:
    ``eps_l = eps / (n_l L) * [T^(L-l+1) (1 + M_{l-1}) (1 + eps/L)
    prod_{k=l+1}^{L-1} (||W^(k)||_inf + eps/L)]^(-1)``. Without the target's activation and
    weight bounds it returns the paper's simplification ``eps_l = eps / (n_l L)`` ("for
    suitable target networks, this requirement essentially becomes eps_l = C eps / (n_l L)").

    Parameters
    ----------
    eps : float > 0
        End-to-end tolerance (sup over the input domain).
    target_widths : sequence of L+1 ints
        ``[n_0, ..., n_L]``.
    lipschitz : float > 0
        T, the activation's Lipschitz constant (used with the bounds).
    activation_l1_bounds : sequence of L floats, optional
        ``M_0, ..., M_{L-1}``: sup of the l1 norm of the target's layer-l activations.
    weight_inf_norms : sequence of L floats, optional
        ``||W^(1)||_inf, ..., ||W^(L)||_inf`` of the target.

    Returns
    -------
    float64 array (L,): ``eps_1, ..., eps_L``.

    >>> layer_tolerances(0.1, [4, 5, 2]).tolist()
    [0.01, 0.025]
    """
    e = _positive("eps", eps)
    widths = _widths("target_widths", target_widths, 2)
    depth = len(widths) - 1
    base = np.array([e / widths[layer] / depth for layer in range(1, depth + 1)])
    if activation_l1_bounds is None and weight_inf_norms is None:
        return _positive_tolerances(base, eps=eps, target_widths=target_widths)
    if activation_l1_bounds is None or weight_inf_norms is None:
        raise ValueError("activation_l1_bounds and weight_inf_norms: give both or neither")
    t = _positive("lipschitz", lipschitz)
    bounds = _array("activation_l1_bounds", activation_l1_bounds, 0.0, np.inf, lo_open=False, hi_open=True)
    norms = _array("weight_inf_norms", weight_inf_norms, 0.0, np.inf, lo_open=False, hi_open=True)
    for name, arr in (("activation_l1_bounds", bounds), ("weight_inf_norms", norms)):
        if arr.shape != (depth,):
            raise ValueError(f"{name}: expected {depth} entries (one per layer), got shape {arr.shape}")
    out = np.empty(depth)
    with np.errstate(over="ignore", under="ignore"):
        for layer in range(1, depth + 1):
            product = np.prod(norms[layer:depth - 1] + e / depth)  # k = l+1 .. L-1 (1-based)
            factor = t ** (depth - layer + 1) * (1.0 + bounds[layer - 1]) * (1.0 + e / depth) * product
            out[layer - 1] = base[layer - 1] / factor
    return _positive_tolerances(out, eps=eps, target_widths=target_widths, lipschitz=lipschitz,
                                activation_l1_bounds=activation_l1_bounds, weight_inf_norms=weight_inf_norms)


def _positive_tolerances(tolerances: np.ndarray, **arguments) -> np.ndarray:
    """Tolerances that did not underflow to 0 (a zero tolerance asks for an exact sum)."""
    if not (tolerances > 0).all():
        shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        raise ValueError(f"{shown}: a layer tolerance underflows to 0 for these arguments")
    return tolerances


def two_for_one_width(n_inputs: int, n_outputs: int, eps: float, delta: float, *,
                      lipschitz: float = 1.0, input_bound: float = 1.0,
                      constant: float = DEFAULT_CONSTANT) -> float:
    """Hidden width for one target layer built from two source layers (2L construction).

    001_d33223a708772bec.txt, Theorem 2.5:
    ``n_{s,1} >= C n_0 log(n_0 / min(eps / (T M), delta / n_{t,1}))``. The subset-sum bases
    are products of two source weights, so C is that of product bases.

    Parameters
    ----------
    n_inputs, n_outputs : int >= 1
        ``n_0`` and ``n_{t,1}`` of the target layer.
    eps, delta : float in (0, 1)
        Layer tolerance (sup norm) and failure probability.
    lipschitz : float > 0
        ``T_t`` of the target activation.
    input_bound : float >= 1
        ``M = max(1, max |x_i|)`` over the input domain.
    constant : float > 0
        C (default 1: the shape).

    Returns
    -------
    float: the right-hand side.

    >>> round(two_for_one_width(10, 5, 0.01, 0.01), 3)
    85.172
    """
    n0 = _count("n_inputs", n_inputs, 1)
    n1 = _count("n_outputs", n_outputs, 1)
    return _two_for_one(n0, float(n1), eps, delta, lipschitz, input_bound, constant,
                        n_inputs=n_inputs, n_outputs=n_outputs)


def _two_for_one(n0: int, n_out: float, eps, delta, lipschitz, input_bound, constant, **arguments) -> float:
    """Theorem 2.5's right-hand side in logarithms (no intermediate overflow); ``n_out`` a float."""
    e = _open_unit("eps", eps)
    d = _open_unit("delta", delta)
    t = _positive("lipschitz", lipschitz)
    m = _number("input_bound", input_bound)
    if m < 1.0:
        raise ValueError(f"input_bound: expected M = max(1, max |x|) >= 1, got {m}")
    c = _positive("constant", constant)
    log_min = min(math.log(e) - math.log(t) - math.log(m), math.log(d) - math.log(n_out))
    value = c * n0 * (math.log(n0) - log_min)
    return float(_finite(value, **arguments, eps=eps, delta=delta, lipschitz=lipschitz, constant=constant))


def one_for_one_width(n_inputs: int, n_outputs: int, eps: float, delta: float, *, copies: int = 1,
                      lipschitz: float = 1.0, input_bound: float = 1.0,
                      constant: float = DEFAULT_CONSTANT) -> float:
    """Source width feeding one target layer built from one source layer (L+1 construction).

    001_d33223a708772bec.txt, Theorem 2.7:
    ``n_{s,l+1} >= C n_{t,l} log(n_{t,l} / min(eps / (M T), delta / (rho n_{t,l+1})))``, when
    ``rho`` copies of each output neuron are built. The bases are single uniform weights.

    Parameters
    ----------
    n_inputs, n_outputs : int >= 1
        ``n_{t,l}`` and ``n_{t,l+1}``.
    eps, delta : float in (0, 1)
    copies : int >= 1
        rho.
    lipschitz, input_bound, constant :
        As in :func:`two_for_one_width`.

    Returns
    -------
    float: the right-hand side.

    >>> round(one_for_one_width(10, 5, 0.01, 0.01, copies=20), 3)
    115.129
    >>> round(one_for_one_width(10, 5, 0.01, 0.001, copies=20), 3)
    138.155
    """
    n0 = _count("n_inputs", n_inputs, 1)
    rho = _count("copies", copies, 1)
    n_out = _count("n_outputs", n_outputs, 1)
    # Theorem 2.5's formula with delta / (rho n_out) in place of delta / n_out.
    return _two_for_one(n0, float(rho) * n_out, eps, delta, lipschitz, input_bound, constant,
                        n_inputs=n_inputs, n_outputs=n_outputs, copies=copies)


def two_l_widths(target_widths: Sequence[int], eps: float, delta: float, *,
                 layer_eps: Sequence[float] | None = None, lipschitz: float = 1.0,
                 input_bound: float = 1.0, constant: float = DEFAULT_CONSTANT) -> np.ndarray:
    """Source widths of the 2L construction of an L-layer target (two source layers per layer).

    001_d33223a708772bec.txt, Theorem 2.5 applied to every target layer l with tolerance
    ``eps_l`` (Lemma 2.8, :func:`layer_tolerances`) and failure probability ``delta / L``
    (a union bound over the layers).

    Parameters
    ----------
    target_widths : sequence of L+1 ints
        ``[n_0, ..., n_L]``.
    eps, delta : float in (0, 1)
        End-to-end tolerance and failure probability.
    layer_eps : sequence of L floats, optional
        Per-layer tolerances (default :func:`layer_tolerances` ``(eps, target_widths)``).
    lipschitz, input_bound, constant :
        As in :func:`two_for_one_width`.

    Returns
    -------
    int64 array (2L,): ``[h_1, n_1, h_2, n_2, ..., h_L, n_L]`` -- each hidden width h_l rounded
    up, followed by the target layer's width.

    >>> two_l_widths([4, 3, 2], 0.1, 0.1).tolist()
    [22, 3, 15, 2]
    """
    widths = _widths("target_widths", target_widths, 2)
    depth = len(widths) - 1
    e = _open_unit("eps", eps)
    d = _open_unit("delta", delta)
    tolerances = _layer_eps(layer_eps, e, widths)
    out = []
    for layer in range(depth):
        hidden = two_for_one_width(widths[layer], widths[layer + 1], float(min(tolerances[layer], 0.5)),
                                   d / depth, lipschitz=lipschitz, input_bound=input_bound,
                                   constant=constant)
        out += [hidden, widths[layer + 1]]
    return _int_widths(out, target_widths=target_widths, eps=eps, delta=delta, constant=constant)


def _layer_eps(layer_eps, eps: float, widths: list[int]) -> np.ndarray:
    depth = len(widths) - 1
    if layer_eps is None:
        return layer_tolerances(eps, widths)
    arr = _array("layer_eps", layer_eps, 0.0, 1.0, lo_open=True, hi_open=True)
    if arr.shape != (depth,):
        raise ValueError(f"layer_eps: expected {depth} tolerances (one per target layer), got shape {arr.shape}")
    return arr


def l_plus_one_widths(target_widths: Sequence[int], eps: float, delta: float, *,
                      densities: Sequence[float] | None = None, layer_eps: Sequence[float] | None = None,
                      gamma: float = DEFAULT_GAMMA, constant: float = DEFAULT_CONSTANT) -> np.ndarray:
    """Source widths of the L+1 construction, dense or inside an ER source.

    Dense: 001_d33223a708772bec.txt, Theorem 2.9,
    ``n_{s,l+1} >= C n_{t,l} log(1 / min(eps_{l+1}, delta / rho))`` with
    ``rho = C N_t^(1+gamma) log(1 / min(min_l eps_l, delta))``.
    ER(p): 000_79c8cccaad099f72.txt, Theorem 2.5 (= A.2): every width is multiplied by
    ``1 / log(1 / (1 - p_{l+1}))`` and ``rho`` by ``(1 / log(1 / (1 - min_l p_l)))^(1+gamma)``.

    Reading of the indices: source layer l (after the input, l = 0..L-1) holds copies of
    target layer l's neurons (``n_{t,0} = d``, the inputs, as in the ER theorem's
    ``n_{S,0} >= C d ...``), and its outgoing weights approximate target layer l+1, so it uses
    that layer's tolerance ``eps_{l+1}`` and density ``p_{l+1}`` (001 writes ``eps_{l+1}``; 000
    writes ``eps_l`` for l >= 1). The output layer keeps the target's width.

    Parameters
    ----------
    target_widths : sequence of L+1 ints
        ``[d, n_{t,1}, ..., n_{t,L}]``.
    eps, delta : float in (0, 1)
    densities : sequence of L floats in (0, 1), optional
        ER densities ``p_1, ..., p_L``; None for a dense source.
    layer_eps : sequence of L floats, optional
        Default :func:`layer_tolerances` ``(eps, target_widths)``.
    gamma : float
        The theorems' gamma (> 0 dense, >= 0 ER). Default :data:`DEFAULT_GAMMA`.
    constant : float > 0
        The generic C, used in the widths and in rho (default 1: the shape).

    Returns
    -------
    int64 array (L+1,): source widths after the input, ``[n_{S,0}, ..., n_{S,L}]``, rounded up.

    >>> l_plus_one_widths([4, 3, 2], 0.1, 0.1).tolist()
    [28, 21, 2]
    >>> l_plus_one_widths([4, 3, 2], 0.1, 0.1, densities=[0.5, 0.5]).tolist()
    [43, 32, 2]
    """
    widths = _widths("target_widths", target_widths, 2)
    depth = len(widths) - 1
    e = _open_unit("eps", eps)
    d = _open_unit("delta", delta)
    c = _positive("constant", constant)
    g = _number("gamma", gamma)
    if g < 0 or (densities is None and g == 0):
        raise ValueError(f"gamma: expected gamma > 0 (dense; >= 0 with densities), got {g}")
    tolerances = _layer_eps(layer_eps, e, widths)
    if densities is None:
        factors = np.ones(depth)
        rho_factor = 1.0
    else:
        dens = _array("densities", densities, 0.0, 1.0, lo_open=True, hi_open=True)
        if dens.shape != (depth,):
            raise ValueError(f"densities: expected {depth} layer densities, got shape {dens.shape}")
        factors = np.asarray(er_width_factor(dens))
        rho_factor = float(er_width_factor(float(dens.min())))
    total_params = sum(widths[i] * widths[i + 1] for i in range(depth))  # N_t, dense target
    # In logarithms: rho = C (N_t f)^(1+gamma) log(1/min(eps_min, delta)) overflows long before
    # the widths, which only take its logarithm.
    log_rho = (math.log(c) + (1.0 + g) * (math.log(total_params) + math.log(rho_factor))
               + math.log(-math.log(min(float(tolerances.min()), d))))
    out = []
    for layer in range(depth):
        need = c * widths[layer] * factors[layer] * max(-math.log(float(tolerances[layer])),
                                                        log_rho - math.log(d))
        out.append(need)
    out.append(widths[depth])
    return _int_widths(out, target_widths=target_widths, eps=eps, delta=delta, densities=densities,
                       gamma=gamma, constant=constant)


# --------------------------------------------------------------------------------------------
# Random Fixed-Size Subset Sum (002)

_RFSS_FORMS = ("theorem2", "corollary1", "corollary2")


def rfss_bound(n, k, eps, *, constant: float = DEFAULT_CONSTANT, form: str = "theorem2"):
    """Right-hand side of the RFSS condition on n, evaluated at a given n.

    002_9a3e2d17b88c5f76.txt:

    * ``"theorem2"``: Theorem 2, eq. (1), ``c_hyp log2(k / eps) / H2(k / n)`` -- constant
      success probability for a fixed target z in [-sqrt(k), sqrt(k)];
    * ``"corollary1"``: Corollary 1, eq. (3), ``c_amp log2^2(k / eps) / H2(k / n)`` --
      probability 1 - eps for all such targets at once;
    * ``"corollary2"``: Corollary 2, eq. (4), ``2 c_amp log2^2(1 / eps) / H2(k / n)``, valid when
      :func:`rfss_corollary2_applies`.

    The condition holds when ``n >= rfss_bound(n, k, eps)``.

    Parameters
    ----------
    n, k : int or array of ints, 1 <= k <= n - 1
        Elements and subset size (the theorems assume k <= n / 2).
    eps : float in (0, 1)
    constant : float > 0
        ``c_hyp`` or ``c_amp`` (default 1: the shape).
    form : {"theorem2", "corollary1", "corollary2"}

    Returns
    -------
    float or float64 array (broadcast over n and k).

    >>> round(rfss_bound(40, 4, 0.01), 4)
    18.4306
    >>> round(rfss_bound(40, 4, 0.01, form="corollary1"), 2)
    159.31
    """
    if form not in _RFSS_FORMS:
        raise ValueError(f"form: expected one of {_RFSS_FORMS}, got {form!r}")
    n_arr = _array("n", n, 1.0, np.inf, lo_open=True, hi_open=True)
    k_arr = _array("k", k, 1.0, np.inf, lo_open=False, hi_open=True)
    if (k_arr >= n_arr).any():
        raise ValueError(f"k: expected 1 <= k < n, got k = {k!r} with n = {n!r}")
    e = _open_unit("eps", eps)
    c = _positive("constant", constant)
    entropy = np.asarray(binary_entropy(k_arr / n_arr))
    log_ratio = np.log2(k_arr) - math.log2(e)  # log2(k / eps) without overflowing k / eps
    if form == "theorem2":
        numerator = log_ratio
    elif form == "corollary1":
        numerator = log_ratio ** 2
    else:
        numerator = 2.0 * math.log2(e) ** 2 + 0.0 * k_arr
    with np.errstate(over="ignore", divide="ignore"):
        return _out(c * numerator / entropy, n=n, k=k, eps=eps, constant=constant)


def rfss_min_n(k: int, eps: float, *, constant: float = DEFAULT_CONSTANT, form: str = "theorem2",
               max_density: float = 0.5) -> int:
    """Smallest n with ``k <= max_density * n`` that meets the RFSS condition.

    The condition of :func:`rfss_bound` has n on both sides; ``n H2(k / n)`` grows with n, so
    the smallest n is found by bisection. 002_9a3e2d17b88c5f76.txt, Theorem 2 (eq. 1) and
    Corollaries 1-2 (eqs. 3-4); ``max_density = 1/2`` is the theorems' ``k <= n / 2`` (the
    remark after Theorem 2 allows any ``k <= lambda n``).

    Parameters
    ----------
    k : int >= 1
    eps : float in (0, 1)
    constant : float > 0
    form : {"theorem2", "corollary1", "corollary2"}
    max_density : float in (0, 1)
        lambda: the search starts at ``n = ceil(k / lambda)``.

    Returns
    -------
    int

    >>> rfss_min_n(1, 0.01), rfss_min_n(4, 0.01), rfss_min_n(4, 0.01, constant=2.0)
    (38, 9, 32)
    """
    kk = _count("k", k, 1)
    e = _open_unit("eps", eps)
    c = _positive("constant", constant)
    lam = _open_unit("max_density", max_density)
    if form not in _RFSS_FORMS:
        raise ValueError(f"form: expected one of {_RFSS_FORMS}, got {form!r}")
    too_large = ValueError(f"k={k!r}, eps={eps!r}, constant={constant!r}, max_density={max_density!r}: "
                           "the smallest n is beyond float64 (1.8e308) for these arguments")

    def holds(n: int) -> bool:
        try:
            return n >= rfss_bound(n, kk, e, constant=c, form=form)
        except ValueError:  # the bound overflowed: it is above any n we can represent
            return False

    start = kk / lam - 1e-9
    if not start < 2.0**1000:
        raise too_large
    lo = max(kk + 1, math.ceil(start))
    if holds(lo):
        return lo
    hi = 2 * lo
    while not holds(hi):
        hi *= 2
        if hi > 2**1000:
            raise too_large
    while hi - lo > 1:  # invariant: condition fails at lo, holds at hi
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid
    return hi


def rfss_corollary2_applies(k, eps, *, constant: float = DEFAULT_CONSTANT):
    """Whether k is large enough for Corollary 2's simplified bound.

    002_9a3e2d17b88c5f76.txt, Corollary 2: ``k >= 2 c_amp (log2^2 k + 2 log2 k log2(1/eps))``.

    Parameters
    ----------
    k : int or array of ints >= 1
    eps : float in (0, 1)
    constant : float > 0
        ``c_amp``.

    Returns
    -------
    bool or bool array.

    >>> rfss_corollary2_applies(100, 0.1), rfss_corollary2_applies(400, 0.1)
    (False, True)
    """
    k_arr = _array("k", k, 1.0, np.inf, lo_open=False, hi_open=True)
    e = _open_unit("eps", eps)
    c = _positive("constant", constant)
    lg = np.log2(k_arr)
    with np.errstate(over="ignore"):  # an overflowing right-hand side is simply not met
        ok = k_arr >= 2.0 * c * (lg ** 2 + 2.0 * lg * -math.log2(e))
    return bool(ok) if ok.ndim == 0 else ok


def rfss_lower_bound_n(k: int, eps: float, *, dimension: int = 1) -> int:
    """Smallest n allowed by the RFSS lower bound ``n >= (d^2 / 2) log2(k / eps) / H2(k / n)``.

    002_9a3e2d17b88c5f76.txt, Theorem 5: if a network with n parameters pruned to k
    approximates every linear map ``x -> W x`` (W d x d, ``||W|| <= sqrt(k)``) with probability
    at least 1/2, then this holds; it is the Theorem 2 shape with constant ``d^2 / 2``.
    Valid for ``eps < 1/16`` and ``k <= (1 - 1/(2 pi)) n``.

    Parameters
    ----------
    k : int >= 1
    eps : float in (0, 1/16)
    dimension : int >= 1
        d.

    Returns
    -------
    int: the smallest n with ``k <= (1 - 1/(2 pi)) n`` that meets the inequality.

    >>> rfss_lower_bound_n(4, 0.01), rfss_lower_bound_n(4, 0.01, dimension=2)
    (6, 32)
    """
    kk = _count("k", k, 1)
    e = _open_unit("eps", eps)
    if e >= RFSS_LOWER_BOUND_MAX_EPS:
        raise ValueError(f"eps: Theorem 5 needs eps < 1/16, got {e}")
    d = _count("dimension", dimension, 1)
    return rfss_min_n(kk, e, constant=d * d / 2.0, max_density=RFSS_LOWER_BOUND_MAX_DENSITY)


@dataclass(frozen=True)
class SparseTicketSize:
    """Source network size that Theorem 3 of 002_9a3e2d17b88c5f76.txt asks for.

    Attributes
    ----------
    block_sizes : float64 array (L,)
        ``n_i^*`` per target layer (eq. 28, or eq. 29 when ``simplified``).
    source_params : float
        ``m = sum_i 2 d_{i-1}^2 n_i^* + 2 d_{i-1} d_i n_i^*`` (Appendix F).
    target_params : int
        ``m_t = sum_i d_{i-1} d_i``.
    overparameterization : float
        ``m / m_t``.
    density : float
        ``gamma = rho * gamma'``: the guaranteed ticket density.
    """

    block_sizes: np.ndarray
    source_params: float
    target_params: int
    overparameterization: float
    density: float


def sparse_ticket_size(target_widths: Sequence[int], density: float, eps: float, *,
                       constant: float = DEFAULT_CONSTANT, simplified: bool = False) -> SparseTicketSize:
    """Overparameterization for an eps-approximating ticket of a given density (SSLTH, 2L depth).

    002_9a3e2d17b88c5f76.txt, Theorem 3 and Appendix F: a 2l-layer Uniform[-1, 1] ReLU network
    with blocks of ``n_i^*`` neurons per target input, where ``n_i^*`` is the largest solution of
    eq. (28), ``n = c_amp log2^2(2 l d_{i-1} d_i gamma' n / eps) / H2(gamma')``, or with
    ``simplified`` eq. (29), ``n = c_amp log2^2(2 l d_{i-1} d_i / eps) / H2(gamma')`` (from
    Corollary 2), contains a ticket of density ``gamma = rho gamma'``
    (``rho = max_i max(d_{i-1}/d_i, d_i/d_{i-1})``). Sweeping the density traces Figure 1.

    Parameters
    ----------
    target_widths : sequence of L+1 ints
        ``[d_0, ..., d_L]``.
    density : float in (0, 1)
        ``gamma``, the ticket density wanted.
    eps : float in (0, 1)
    constant : float > 0
        ``c_amp`` (default 1: the shape).
    simplified : bool
        Use eq. (29) instead of eq. (28).

    Returns
    -------
    SparseTicketSize

    >>> s = sparse_ticket_size([10, 10], 0.1, 0.01, simplified=True)
    >>> round(float(s.block_sizes[0]), 2), round(s.overparameterization, 1)
    (435.27, 1741.1)
    """
    widths = _widths("target_widths", target_widths, 2)
    gam = _open_unit("density", density)
    e = _open_unit("eps", eps)
    c = _positive("constant", constant)
    depth = len(widths) - 1
    rho = max(max(widths[i] / widths[i + 1], widths[i + 1] / widths[i]) for i in range(depth))
    gamma_prime = gam / rho  # rho >= 1, so gamma' < 1 too
    entropy = float(binary_entropy(gamma_prime)) if gamma_prime > 0.0 else 0.0
    overflow = ValueError(f"density={density!r}, eps={eps!r}, constant={constant!r}: the source size "
                          "overflows float64 (above 1.8e308) for these arguments; a density this small "
                          "needs more than 1e308 source parameters")
    if entropy == 0.0 or not math.isfinite(c / entropy):
        raise overflow
    scale = c / entropy
    blocks = np.empty(depth)
    for i in range(depth):
        # log2 of 2 l d_{i-1} d_i / eps, in logarithms so that a tiny eps cannot overflow it
        log2_ratio = math.log2(2.0 * depth * widths[i] * widths[i + 1]) - math.log2(e)
        if simplified:
            blocks[i] = scale * log2_ratio ** 2
        else:
            blocks[i] = _largest_fixed_point(scale, log2_ratio + math.log2(gamma_prime))
    with np.errstate(over="ignore"):
        source = float(sum(2.0 * widths[i] ** 2 * blocks[i] + 2.0 * widths[i] * widths[i + 1] * blocks[i]
                           for i in range(depth)))
    if not (np.isfinite(blocks).all() and math.isfinite(source)):
        raise overflow
    target = sum(widths[i] * widths[i + 1] for i in range(depth))
    return SparseTicketSize(blocks, source, target, source / target, gam)


def _largest_fixed_point(scale: float, log2_ratio: float) -> float:
    """Largest n with ``n = scale * log2^2(ratio * n)`` (eq. 28 of 002), ``ratio = 2**log2_ratio``.

    Beyond ``ratio * n > e`` the right-hand side is concave and grows slower than n, so the
    iteration ``n <- scale log2^2(ratio n)`` started above the largest fixed point decreases
    monotonically to it. inf when the fixed point lies beyond float64.
    """
    def rhs(n: float) -> float:
        return scale * (log2_ratio + math.log2(n)) ** 2

    start = math.log2(math.e) - log2_ratio  # log2(e / ratio)
    if start > 1000.0:
        return math.inf
    n = max(1.0, 2.0 ** start)
    while n < rhs(n):
        n *= 2.0
        if n > 1e307:
            return math.inf
    for _ in range(10_000):
        nxt = rhs(n)
        if abs(nxt - n) <= 1e-12 * n:
            return nxt
        n = nxt
    return n


# --------------------------------------------------------------------------------------------
# first-moment heuristic


def _uniform_sum_abs_cdf(count: int, eps: float) -> float:
    """P(|U_1 + ... + U_count| < eps) for i.i.d. Uniform[-1, 1] (Irwin–Hall, exact for count <= 20)."""
    if count == 0:
        return 1.0
    if count > 20:  # the alternating sum loses precision; the CLT is accurate here
        sigma = math.sqrt(count / 3.0)
        return math.erf(eps / (sigma * math.sqrt(2.0)))
    # S = 2 I - count with I ~ Irwin–Hall(count); P(|S| < eps) = F(c + e) - F(c - e), c = count/2.
    def cdf(x: float) -> float:
        x = min(max(x, 0.0), float(count))
        return sum((-1) ** j * math.comb(count, j) * (x - j) ** count
                   for j in range(int(math.floor(x)) + 1)) / math.factorial(count)

    half = eps / 2.0
    return cdf(count / 2.0 + half) - cdf(count / 2.0 - half)


def _log_uniform_sum_abs_cdf(count: int, eps: float) -> float:
    """log of :func:`_uniform_sum_abs_cdf`, also where the probability underflows (tiny eps).

    For small eps the probability is ``eps`` times twice the density of the sum at 0, so it is
    read at eps = 1e-9 and scaled.
    """
    p = _uniform_sum_abs_cdf(count, eps)
    if p > 1e-290:
        return math.log(p)
    reference = 1e-9
    return math.log(_uniform_sum_abs_cdf(count, reference)) + math.log(eps) - math.log(reference)


def _log_binomial(n: int, s: int) -> float:
    """log C(n, s) without the cancellation of lgamma(n + 1) - lgamma(n - s + 1) at large n:
    ``sum_{i < s} log(n - i) - log(s!)`` for the smaller of s and n - s (up to 10^5 terms)."""
    s = min(s, n - s)
    if s <= 100_000:
        i = np.arange(s, dtype=np.float64)
        return float(s * math.log(n) + np.log1p(-i / n).sum()) - math.lgamma(s + 1)
    return math.lgamma(n + 1) - math.lgamma(s + 1) - math.lgamma(n - s + 1)


# Above this many elements, C(n, s) is taken in logarithms rather than exactly.
_EXACT_BINOMIAL_MAX_N = 1000
# Past this log, exp() overflows float64.
_LOG_FLOAT_MAX = math.log(np.finfo(np.float64).max)


def expected_solution_count(n: int, eps: float, *, k: int | None = None, max_size: int | None = None):
    """Expected number of subsets within eps of a Uniform[-1, 1] target, uniform bases.

    ``E[Y] = sum_s C(n, s) P(|Sigma_s - z| < eps)`` over the allowed sizes s, the first moment
    in the second-moment proof of 002_9a3e2d17b88c5f76.txt, Theorem 2 (eq. 7). Bases and the
    target are i.i.d. Uniform[-1, 1], so ``Sigma_s - z`` is a sum of s + 1 uniforms; its
    probability is exact (Irwin–Hall) up to s + 1 = 20 and the normal approximation above.
    ``1 - exp(-E[Y])`` is a common heuristic for the success probability (not a bound).

    Parameters
    ----------
    n : int >= 1
    eps : float in (0, 1)
    k : int, optional
        Only subsets of exactly k elements (RFSS).
    max_size : int, optional
        Only subsets of at most max_size elements (``mode="min_size"``); default all.

    Returns
    -------
    float; inf where the expectation exceeds float64 (more than 1.8e308 solutions expected,
    e.g. n in the thousands without a size limit).

    >>> round(expected_solution_count(1, 0.1), 6)
    0.1975
    >>> round(expected_solution_count(10, 0.01, k=2), 4)
    0.3375
    """
    nn = _count("n", n, 1)
    e = _open_unit("eps", eps)
    if k is not None and max_size is not None:
        raise ValueError("k and max_size: give at most one")
    if k is not None:
        kk = _count("k", k, 0)
        if kk > nn:
            raise ValueError(f"k: expected k <= n = {nn}, got {kk}")
        sizes = range(kk, kk + 1)
    else:
        top = nn if max_size is None else min(_count("max_size", max_size, 0), nn)
        sizes = range(top + 1)
    # The target is uniform on [-1, 1] too, so Sigma_s - z is a sum of s + 1 uniforms.
    if nn <= _EXACT_BINOMIAL_MAX_N:
        return float(sum(math.comb(nn, s) * _uniform_sum_abs_cdf(s + 1, e) for s in sizes))

    def log_term(s: int) -> float:
        return _log_binomial(nn, s) + _log_uniform_sum_abs_cdf(s + 1, e)

    # C(n, s) grows up to s = n / 2: past a few thousand sizes that term alone overflows, so the
    # expectation is inf (more solutions than float64 counts) and the sum need not be walked.
    middle = sizes[0] if k is not None else min(sizes[-1], nn // 2)
    if log_term(middle) > _LOG_FLOAT_MAX:
        return math.inf
    logs = np.array([log_term(s) for s in sizes])
    top_log = float(logs.max())
    total_log = top_log + math.log(float(np.exp(logs - top_log).sum()))
    return math.inf if total_log > _LOG_FLOAT_MAX else math.exp(total_log)


# --------------------------------------------------------------------------------------------
# pruning at initialization as sketching (003)


def _weights_vector(name: str, value) -> np.ndarray:
    w = _array(name, value, -np.inf, np.inf, lo_open=True, hi_open=True)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-d array (d,), got shape {w.shape}")
    return w


def sketch_error(features, weights, samples: int, *, probabilities=None) -> float:
    """Expected error of 003's sketching mask on given data: ``E_m ||X^T w - X^T (w * m)||^2``.

    003_3a02d48777e82c5c.txt, Lemma 4.1 (after [18, Lemma 4]): with Algorithm 1 (s i.i.d.
    draws, mask ``m_i = count_i / (s p_i)``) and the optimal ``p_i ~ ||X_(i)|| |w_i|`` (eq. 2),

    ``E = (1/s) (sum_k ||X_(k)|| |w_k|)^2 - (1/s) ||X^T w||^2``

    (the lemma's last norm is squared, as the proof of Lemma 4.3 shows). For any other p
    (``probabilities``) the same computation (proof of Lemma 4.3, Lemmas B.1-B.2) gives
    ``(1/s) (sum_k ||X_(k)||^2 w_k^2 / p_k - ||X_K^T w_K||^2) + ||X_Z^T w_Z||^2``, where K holds
    the entries with ``p_k > 0`` and Z the others (never sampled, so always pruned: a bias).

    Parameters
    ----------
    features : float array (d, n)
        X: row k is feature k over the n examples (the paper's layout).
    weights : float array (d,)
        w (the paper's w^0, or w* for Lemma 4.3's equality).
    samples : int >= 1
        s.
    probabilities : float array (d,), >= 0, summing to 1, optional
        Default: the optimal p of eq. (2) (Lemma 4.1).

    Returns
    -------
    float

    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]]); w = np.array([1.0, 1.0])
    >>> sketch_error(X, w, 1)             # ((1 + 2)^2 - (1 + 4)) / 1
    4.0
    >>> sketch_error(X, w, 2, probabilities=[0.5, 0.5])   # (1/2)(1/0.5 + 4/0.5 - 5)
    2.5
    """
    x = _array("features", features, -np.inf, np.inf, lo_open=True, hi_open=True)
    w = _weights_vector("weights", weights)
    if x.ndim != 2 or x.shape[0] != w.size:
        raise ValueError(f"features: expected shape (d, n) = ({w.size}, n) with one row per weight, got {x.shape}")
    s = _count("samples", samples, 1)
    norms2 = np.einsum("kn,kn->k", x, x)
    if probabilities is None:
        total = float(np.sqrt(norms2) @ np.abs(w))
        value = (total * total - float(np.sum((w @ x) ** 2))) / s
    else:
        p = _array("probabilities", probabilities, 0.0, 1.0, lo_open=False, hi_open=False)
        if p.shape != w.shape:
            raise ValueError(f"probabilities: expected shape {w.shape}, got {p.shape}")
        if abs(float(p.sum()) - 1.0) > 1e-6:
            raise ValueError(f"probabilities: expected values summing to 1, got {float(p.sum()):.9g}")
        kept = p > 0
        variance = float(np.sum(norms2[kept] * w[kept] ** 2 / p[kept])) - float(np.sum((w[kept] @ x[kept]) ** 2))
        bias = float(np.sum((w[~kept] @ x[~kept]) ** 2))
        value = variance / s + bias
    return float(_finite(max(value, 0.0), samples=samples))


def _chi_mean_unit(n: int) -> float:
    """E||g|| / sqrt(n) for g ~ N(0, I_n): ``sqrt(2/n) Gamma((n+1)/2) / Gamma(n/2)``."""
    return math.exp(0.5 * math.log(2.0 / n) + math.lgamma((n + 1) / 2.0) - math.lgamma(n / 2.0))


def sketch_error_gaussian(weights, samples: int, *, n_examples: int | None = None) -> float:
    """``E_X E_m ||X^T w - X^T (w * m)||^2`` for Gaussian data ``X ~ N(0, I/n)`` (d x n), exactly.

    003_3a02d48777e82c5c.txt, the setting of Lemma 4.2: taking the expectation of Lemma 4.1
    over X (rows i.i.d., ``E||X_(k)||^2 = 1``, ``E||X_(k)|| = c_n`` with
    ``c_n = sqrt(2/n) Gamma((n+1)/2) / Gamma(n/2)``, ``E||X^T w||^2 = ||w||_2^2``) gives

    ``(c_n^2 / s) (||w||_1^2 - ||w||_2^2)``.

    ``n_examples=None`` takes ``c_n = 1`` (n -> infinity), which bounds every n from above.
    This is the value Lemma 4.2's bound (:func:`sketch_error_bound`) should hold against.

    Parameters
    ----------
    weights : float array (d,)
    samples : int >= 1
        s.
    n_examples : int >= 1, optional
        n.

    Returns
    -------
    float

    >>> sketch_error_gaussian([1.0, 1.0], 1)
    2.0
    >>> round(sketch_error_gaussian([1.0, 1.0], 1, n_examples=2), 6)   # c_2^2 = pi / 4
    1.570796
    """
    w = _weights_vector("weights", weights)
    s = _count("samples", samples, 1)
    c2 = 1.0 if n_examples is None else _chi_mean_unit(_count("n_examples", n_examples, 1)) ** 2
    l1 = float(np.abs(w).sum())
    l2 = float(w @ w)
    return float(_finite(c2 * max(l1 * l1 - l2, 0.0) / s, weights=weights, samples=samples))


def sketch_error_bound(weights, samples: int) -> float:
    """003's Lemma 4.2 as stated: ``E_X ||X^T w - X^T (w * m)||^2 <= ||w||_2^2 / s``.

    003_3a02d48777e82c5c.txt, Lemma 4.2 (X ~ N(0, I/n), mask from Algorithm 1 with p^0). Its
    proof (Appendix B.3) uses ``(sum_k a_k)^2 <= sum_k a_k^2`` for ``a_k = ||X_(k)|| |w_k| >= 0``,
    which does not hold for two or more nonzero terms: the exact expectation is
    :func:`sketch_error_gaussian`, ``(c_n^2 / s)(||w||_1^2 - ||w||_2^2)``, which exceeds this
    bound as soon as ``c_n^2 (||w||_1^2 / ||w||_2^2 - 1) > 1`` -- e.g. for any w with three equal
    entries and n >= 2. The function returns the lemma's value so that it can be plotted and
    tested against simulation (:func:`subsetsum.stats.simulate_sketch_error`); use
    :func:`sketch_error_gaussian` (``n_examples=None`` for a bound valid for all n), or Theorem
    4.4's ``||w||_1^2 / s`` at ``w* = w^0``, where a valid bound is needed.

    Parameters
    ----------
    weights : float array (d,)
    samples : int >= 1

    Returns
    -------
    float

    >>> sketch_error_bound([3.0, 4.0], 5)
    5.0
    >>> sketch_error_bound([1.0, 1.0, 1.0], 1) < sketch_error_gaussian([1.0, 1.0, 1.0], 1, n_examples=2)
    True
    """
    w = _weights_vector("weights", weights)
    s = _count("samples", samples, 1)
    return float(_finite(float(w @ w) / s, weights=weights, samples=samples))


def sketch_expected_density(probabilities, samples):
    """Expected fraction of entries Algorithm 1 keeps: ``(1/d) sum_i (1 - (1 - p_i)^s)``.

    003_3a02d48777e82c5c.txt, Algorithm 1 draws s indices with replacement, so entry i is kept
    unless all s draws miss it. Used to compare sketching with thresholding at equal density.

    Parameters
    ----------
    probabilities : float array, >= 0, summing to 1
    samples : int or int array >= 1

    Returns
    -------
    float, or float64 array of the shape of ``samples``.

    >>> sketch_expected_density([0.5, 0.5], 1), sketch_expected_density([0.5, 0.5], 2)
    (0.5, 0.75)
    """
    p = _array("probabilities", probabilities, 0.0, 1.0, lo_open=False, hi_open=False).ravel()
    if p.size == 0 or abs(float(p.sum()) - 1.0) > 1e-6:
        raise ValueError("probabilities: expected a non-empty array summing to 1")
    s = _array("samples", samples, 1.0, np.inf, lo_open=False, hi_open=True)
    if (s != np.round(s)).any():
        raise ValueError(f"samples: expected integers >= 1, got {samples!r}")
    log_miss = np.log1p(-np.minimum(p, 1.0))  # log(1 - p_i), -inf where p_i = 1
    with np.errstate(invalid="ignore"):
        kept = -np.expm1(np.multiply.outer(s, log_miss))
    kept = np.where(np.isnan(kept), 1.0, kept)  # p_i = 1: 0 * -inf
    return _out(kept.mean(axis=-1))


def sketch_samples_for_density(probabilities, density: float) -> int:
    """Smallest s whose expected kept fraction (:func:`sketch_expected_density`) reaches density.

    Parameters
    ----------
    probabilities : float array, >= 0, summing to 1
    density : float in (0, 1]
        Must not exceed the fraction of entries with p_i > 0 (others are never kept).

    Returns
    -------
    int

    >>> sketch_samples_for_density([0.5, 0.5], 0.75), sketch_samples_for_density([0.25] * 4, 0.25)
    (2, 1)
    """
    p = _array("probabilities", probabilities, 0.0, 1.0, lo_open=False, hi_open=False).ravel()
    target = _number("density", density)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"density: expected a number in (0, 1], got {target}")
    reachable = float(np.count_nonzero(p > 0)) / max(p.size, 1)
    if target > reachable + 1e-12:
        raise ValueError(f"density: at most {reachable:g} is reachable (entries with p_i = 0 are never kept), "
                         f"got {target}")

    def density_at(s: int) -> float:
        return float(sketch_expected_density(p, s))

    target = min(target, reachable) - 1e-12
    lo, hi = 1, 1
    while density_at(hi) < target:
        lo, hi = hi, hi * 2
        if hi > 2**62:
            raise ValueError(f"density: {density} needs more than 2**62 samples (tiny probabilities)")
    if density_at(lo) >= target:
        return lo
    while hi - lo > 1:  # density fails at lo, holds at hi
        mid = (lo + hi) // 2
        if density_at(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


# --------------------------------------------------------------------------------------------
# random pruning and deep random substitutions (004)

_PRUNING_CASES = ("simple", "multivariate")


def _pruning_bins(depth, case: str) -> int:
    """Layers 004's random pruning draws from: d - 1 (simple regression, section 3.1) or d - 2
    (multivariate regression, section 3.2: the first and last layers are never pruned)."""
    if case not in _PRUNING_CASES:
        raise ValueError(f"case: expected one of {_PRUNING_CASES}, got {case!r}")
    d = _count("depth", depth, 2 if case == "simple" else 3)
    return d - 1 if case == "simple" else d - 2


def pruning_budget(width: int, depth: int, *, c: float = math.e, case: str = "simple") -> float:
    """004's pruning budget: prune fewer than this many edges and a layer is disconnected w.p. <= 1/c.

    004_50c3a4ac78252c91.txt, section 3.1 (simple linear regression, last display):

    ``k < (d - 1) w^2 / exp(1 + ln(d - 1) / w^2 + ln(c) / w^2)``

    and section 3.2 (multivariate regression): the same with ``d - 2`` for ``d - 1``. The random
    pruning of section 3.1 picks one of the b prunable layers uniformly (b = d - 1 or d - 2) and
    deletes one of its remaining edges; a layer of a w-wide network holds ``w^2`` edges, so it is
    disconnected once it has been picked ``w^2`` times -- a balls-and-bins question with b bins
    of capacity ``w^2``. The paper bounds ``P(some bin gets w^2 balls)`` by
    ``exp(w^2 + w^2 ln k - w^2 ln w^2 - (w^2 - 1) ln b)`` (:func:`pruning_disconnection_bound`)
    and solves for k. The largest admissible integer is ``ceil(value) - 1``.

    Two readings to keep in mind (``subsetsum prune`` measures both): the budget bounds the
    chance that a layer is emptied *by the picks*; deleting dead nodes (step d of the algorithm)
    can disconnect the network earlier. And the union bound uses d for b bins and the exact
    count ``w^2``; :func:`layer_emptied_probability` is the exact probability of the event.

    Parameters
    ----------
    width : int >= 1
        w.
    depth : int
        d >= 2 (``case="simple"``) or >= 3 (``case="multivariate"``).
    c : float >= 1
        The allowed disconnection probability is 1/c (default e, the paper's 1/e).
    case : {"simple", "multivariate"}

    Returns
    -------
    float

    >>> round(pruning_budget(4, 5), 3)              # 4 * 16 / exp(1 + ln(4)/16 + 1/16)
    20.282
    >>> round(pruning_budget(4, 5, case="multivariate", c=20.0), 3)   # 3 * 16 / exp(1 + ln(3)/16 + ln(20)/16)
    13.671
    """
    b = _pruning_bins(depth, case)
    w = _count("width", width, 1)
    cc = _number("c", c)
    if cc < 1.0:
        raise ValueError(f"c: expected c >= 1 (a probability 1/c <= 1), got {cc}")
    w2 = float(w) * w
    log_k = math.log(b) + math.log(w2) - 1.0 - (math.log(b) + math.log(cc)) / w2
    return float(_finite(math.exp(log_k), width=width, depth=depth, c=c))


def pruning_disconnection_bound(prunes, width: int, depth: int, *, case: str = "simple"):
    """004's bound on the probability that k random prunes disconnect a layer.

    004_50c3a4ac78252c91.txt, section 3.1: ``exp(w^2 + w^2 ln k - w^2 ln(w^2) - (w^2 - 1) ln b)``
    with b = d - 1 prunable layers (section 3.2: b = d - 2), derived for ``k > w^2``; for
    ``k < w^2`` no layer can be emptied and the probability is 0 (returned as 0). Not clipped
    to 1 (inf where it exceeds float64). :func:`pruning_budget` is the k where it equals 1/c.

    Parameters
    ----------
    prunes : int or int array >= 0
        k.
    width, depth, case :
        As in :func:`pruning_budget`.

    Returns
    -------
    float or float64 array.

    >>> pruning_disconnection_bound(3, 2, 3)              # k < w^2 cannot empty a layer: 0
    0.0
    >>> round(pruning_disconnection_bound(20, 2, 3), 3)   # exp(4 + 4 ln 20 - 4 ln 4 - 3 ln 2)
    4265.48
    """
    b = _pruning_bins(depth, case)
    w = _count("width", width, 1)
    k = _array("prunes", prunes, 0.0, np.inf, lo_open=False, hi_open=True)
    w2 = float(w) * w
    with np.errstate(divide="ignore", over="ignore"):
        log_bound = w2 + w2 * np.log(np.maximum(k, 1.0)) - w2 * math.log(w2) - (w2 - 1.0) * math.log(b)
        bound = np.where(k < w2, 0.0, np.exp(log_bound))
    return _out(bound)


def max_load_probability(balls, bins: int, capacity: int):
    """P(some bin receives at least ``capacity`` of ``balls`` thrown uniformly into ``bins``), exactly.

    The balls-and-bins event of 004_50c3a4ac78252c91.txt, section 3.1. Computed by splitting
    the balls bin by bin: with ``f_j(r)`` the probability that r balls in j bins leave every bin
    below capacity, ``f_j(r) = sum_{i < capacity} Binomial(r, 1/j)(i) f_{j-1}(r - i)``
    (O(bins x capacity x balls) work, in logarithms, so no term underflows).

    Parameters
    ----------
    balls : int or int array >= 0
    bins : int >= 1
    capacity : int >= 1

    Returns
    -------
    float or float64 array.

    >>> round(max_load_probability(2, 2, 2), 12)      # both balls in one bin: 1/2
    0.5
    >>> round(max_load_probability(3, 3, 2), 6)   # 1 - 3!/27
    0.777778
    """
    return _max_load(balls, _count("bins", bins, 1), _count("capacity", capacity, 1), "balls")


def _max_load(balls, nb: int, cap: int, name: str):
    k_arr = _array(name, balls, 0.0, np.inf, lo_open=False, hi_open=True)
    if (k_arr != np.round(k_arr)).any():
        raise ValueError(f"{name}: expected integers >= 0, got {balls!r}")
    top = int(min(k_arr.max(initial=0), nb * (cap - 1) + 1))  # beyond it every bin count overflows
    if nb * min(cap, top + 1) * (top + 1) > 5 * 10**9:
        raise ValueError(f"{name}: the exact computation for {top} balls in {nb} bins of capacity {cap} is "
                         "too much work (over 5e9 terms)")
    k_arr = np.minimum(k_arr, top)
    r = np.arange(top + 1)
    f = (r < cap).astype(np.float64)  # one bin
    lg = np.array([math.lgamma(v + 1.0) for v in range(top + 1)])
    for j in range(2, nb + 1):
        q = 1.0 / j
        new = np.zeros(top + 1)
        for i in range(min(cap, top + 1)):
            rr = r[i:]
            log_pmf = lg[rr] - lg[i] - lg[rr - i] + i * math.log(q) + (rr - i) * math.log1p(-q)
            new[i:] += np.exp(log_pmf) * f[: top + 1 - i]
        f = new
    below = f[k_arr.astype(np.int64)]
    # exact ends: fewer balls than the capacity never fill a bin; more than bins (capacity - 1)
    # always do (pigeonhole)
    out = np.where(k_arr < cap, 0.0, np.where(k_arr > nb * (cap - 1), 1.0, np.clip(1.0 - below, 0.0, 1.0)))
    return _out(out)


def layer_emptied_probability(prunes, width: int, depth: int, *, case: str = "simple"):
    """Exact probability of the event 004's pruning budget bounds: after k random prunes some
    prunable layer has been picked ``w^2`` times (all its edges deleted).

    004_50c3a4ac78252c91.txt, section 3.1 (b = d - 1 layers) and 3.2 (b = d - 2): the
    :func:`max_load_probability` of k balls in b bins of capacity ``w^2``.

    Parameters
    ----------
    prunes : int or int array >= 0
    width, depth, case :
        As in :func:`pruning_budget`.

    Returns
    -------
    float or float64 array.

    >>> layer_emptied_probability(4, 2, 2)     # one prunable layer of 4 edges: 4 prunes empty it
    1.0
    >>> round(layer_emptied_probability(6, 2, 3), 12)   # two layers of 4: all but a 3-3 split, 1 - 20/64
    0.6875
    """
    b = _pruning_bins(depth, case)
    w = _count("width", width, 1)
    return _max_load(prunes, b, w * w, "prunes")


def path_product_probability(target, eps, depth: int):
    """P(|U_1 ... U_d - target| <= eps) for i.i.d. Uniform[-1, 1] factors, exactly.

    The per-path success probability of 004_50c3a4ac78252c91.txt, section 7.3, for plain
    uniform weights: 004 assumes its PT(U, d) weights make path products uniform, so that
    ``p >= eps / (2x)``; uniform weights instead give the product density
    ``log^(d-1)(1/|z|) / (2 (d-1)!)`` on [-1, 1], concentrated near 0. With
    ``G(t) = P(|prod| <= t) = t sum_{j<d} log^j(1/t) / j!``, the probability is
    ``F(target + eps) - F(target - eps)``, ``F(x) = (1 + sign(x) G(min(|x|, 1))) / 2``.

    Parameters
    ----------
    target : float or array in [-1, 1]
        beta.
    eps : float > 0
    depth : int >= 1
        d, the factors per path.

    Returns
    -------
    float or float64 array.

    >>> round(path_product_probability(0.5, 0.1, 1), 12)   # one uniform: 0.2 / 2
    0.1
    >>> round(path_product_probability(0.0, 0.1, 2), 6)  # 0.1 (1 + ln 10)
    0.330259
    """
    z = _array("target", target, -1.0, 1.0, lo_open=False, hi_open=False)
    e = _positive("eps", eps)
    d = _count("depth", depth, 1)

    def cdf(x):
        t = np.minimum(np.abs(x), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_inv = np.where(t > 0, -np.log(np.where(t > 0, t, 1.0)), 0.0)
        term = np.ones_like(t)
        total = np.ones_like(t)
        for j in range(1, d):
            term = term * log_inv / j
            total = total + term
        g = t * total
        return 0.5 + 0.5 * np.sign(x) * g

    return _out(np.clip(cdf(z + e) - cdf(z - e), 0.0, 1.0))


def path_ticket_probability(target, eps, depth: int, width: int):
    """004's estimate that some path of a deep random graph approximates a weight within eps.

    004_50c3a4ac78252c91.txt, section 7.3: with ``w^(d-1)`` paths from s to t (d weights per
    path, d - 1 hidden layers of width w) and the conjecture of section 4 that the paths behave
    as independent, ``P = 1 - (1 - p)^(w^(d-1))``; here p is :func:`path_product_probability`,
    exact for uniform weights (``subsetsum.stats.simulate_path_products`` measures the truth).

    Parameters
    ----------
    target : float or array in [-1, 1]
    eps : float > 0
    depth : int >= 1
    width : int >= 1

    Returns
    -------
    float or float64 array.

    >>> round(path_ticket_probability(0.5, 0.1, 1, 7), 6)   # a single edge: width is irrelevant
    0.1
    >>> round(path_ticket_probability(0.5, 0.1, 2, 3), 4)   # 3 paths, p = 0.0700 each
    0.1956
    """
    d = _count("depth", depth, 1)
    w = _count("width", width, 1)
    p = np.asarray(path_product_probability(target, eps, d))
    paths = float(w) ** (d - 1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        miss = np.where(p >= 1.0, -np.inf, paths * np.log1p(-np.minimum(p, 1.0)))
    return _out(-np.expm1(miss))


_SUBSTITUTION_CASES = ("slr", "mlr", "layer", "network")


def substitution_width(eps: float, delta: float, depth: int, *, case: str = "slr", n_inputs: int = 1,
                       n_outputs: int = 1, target_depth: int = 1, weight_range: float = 1.0) -> float:
    """Width of 004's deep random substitution graph (depth d per target layer).

    004_50c3a4ac78252c91.txt, section 7, with ``p = eps / (2x)`` the chance that one path's
    weight product (weights from PT(U, d), products uniform on [-x, x]) lands within eps:

    * ``"slr"`` (7.3, one weight): ``w >= (log(2/delta) / p)^(1/(d-1))``. The paper's last line
      writes the exponent ``1/d``, but its derivation ``w^(d-1) >= log(2/delta)/p`` (``w^(d-1)``
      paths) gives ``1/(d-1)``, which 7.4-7.6 use; so does this function.
    * ``"mlr"`` (7.4, |S| inputs, one output):
      ``w >= |S| (2 |S| log(2|S|/delta) / p)^(1/(d-1))``.
    * ``"layer"`` (7.5, |S| inputs, |T| outputs):
      ``w >= |T||S| (2 |S| |T|^(1/d) log(2|S||T|/delta) / p)^(1/(d-1))``.
    * ``"network"`` (7.6, F_depth target layers of |S| inputs and |T| outputs):
      ``w >= |T||S| (4 |S| |T|^(1/d) F_depth log(2|S||T|F_depth/delta) / p)^(1/(d-1))``.

    The paper keeps ``delta'`` inside the logarithms of 7.5-7.6 after substituting it; this
    function takes the reading where each union bound divides delta once (``delta' = delta/|T|``
    in 7.5, ``delta/F_depth`` in 7.6), which is what the displayed constants ``2|S||T|`` and
    ``2|S||T|F_depth`` correspond to. The whole argument rests on 004's conjecture that paths
    behave as independent (section 4).

    Parameters
    ----------
    eps, delta : float in (0, 1)
    depth : int >= 2
        d, the depth of the substitution graph.
    case : {"slr", "mlr", "layer", "network"}
    n_inputs, n_outputs : int >= 1
        |S| and |T| (``"mlr"`` uses |S|; ``"slr"`` neither).
    target_depth : int >= 1
        F_depth (``"network"`` only).
    weight_range : float > 0
        x: target weights lie in [-x, x].

    Returns
    -------
    float: the right-hand side.

    >>> round(substitution_width(0.01, 0.1, 3), 3)        # sqrt(log(20) / 0.005)
    24.477
    >>> round(substitution_width(0.01, 0.1, 3, case="mlr", n_inputs=2), 3)   # 2 sqrt(4 log(40) / 0.005)
    108.648
    """
    e = _open_unit("eps", eps)
    dlt = _open_unit("delta", delta)
    d = _count("depth", depth, 2)
    if case not in _SUBSTITUTION_CASES:
        raise ValueError(f"case: expected one of {_SUBSTITUTION_CASES}, got {case!r}")
    s_in = _count("n_inputs", n_inputs, 1)
    t_out = _count("n_outputs", n_outputs, 1)
    f_depth = _count("target_depth", target_depth, 1)
    x = _positive("weight_range", weight_range)
    log_p = math.log(e) - math.log(2.0 * x)
    if case == "slr":
        log_inner, log_front = math.log(math.log(2.0 / dlt)), 0.0
    elif case == "mlr":
        log_inner = math.log(2.0 * s_in) + math.log(math.log(2.0 * s_in / dlt))
        log_front = math.log(s_in)
    elif case == "layer":
        log_inner = (math.log(2.0 * s_in) + math.log(t_out) / d
                     + math.log(math.log(2.0 * s_in * t_out / dlt)))
        log_front = math.log(s_in) + math.log(t_out)
    else:
        log_inner = (math.log(4.0 * s_in * f_depth) + math.log(t_out) / d
                     + math.log(math.log(2.0 * s_in * t_out * f_depth / dlt)))
        log_front = math.log(s_in) + math.log(t_out)
    log_width = log_front + (log_inner - log_p) / (d - 1)
    if log_width > _LOG_FLOAT_MAX:
        raise ValueError(f"eps={eps!r}, delta={delta!r}, depth={depth!r}, weight_range={weight_range!r}: "
                         "the width overflows float64 for these arguments")
    return math.exp(log_width)
