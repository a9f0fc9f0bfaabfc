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
"""

from __future__ import annotations

import math
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
]


# --------------------------------------------------------------------------------------------
# validation


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
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


def _array(name: str, value, lo: float, hi: float, *, lo_open: bool, hi_open: bool) -> np.ndarray:
    """A float64 array of ``value`` after checking every entry lies in the interval."""
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected a number or an array of numbers, got bool")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a number or an array of numbers, got {value!r}") from exc
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got {value!r}")
    below = (arr <= lo) if lo_open else (arr < lo)
    above = (arr >= hi) if hi_open else (arr > hi)
    if below.any() or above.any():
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name}: expected values in {interval}, got {value!r}")
    return arr


def _out(arr: np.ndarray):
    """A Python float for 0-d results, the array otherwise."""
    return float(arr) if arr.ndim == 0 else arr


def _widths(name: str, widths, min_len: int) -> list[int]:
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise TypeError(f"{name}: expected a sequence of layer widths, got {widths!r}")
    out = [check_int(f"{name}[{i}]", w, 1) for i, w in enumerate(widths)]
    if len(out) < min_len:
        raise ValueError(f"{name}: expected at least {min_len} layer widths, got {len(out)}")
    return out


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
    return _out(c * np.log(1.0 / np.minimum(e, d)))


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
    return _out(a * np.exp(-b * n_arr) / e)


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
    return _out(1.0 / np.log(1.0 / (1.0 - q)))


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
    return _out(b / -np.log1p(-q * -np.expm1(-b)))


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
    return _out(a / e * (1.0 - q * -np.expm1(-b)) ** n_arr)


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
    return _out(np.asarray(subset_sum_n(eps, delta, constant=constant) * er_width_factor(p)))


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
        need = math.log(depth * nonzeros[layer] * copies[layer + 1] / dlt) / math.log(1.0 / (1.0 - p_next))
        # The small tolerance keeps exact integers (up to rounding) from being bumped up.
        copies[layer] = max(1, math.ceil(need - 1e-9))
    return np.array([q * w for q, w in zip(copies, widths)], dtype=np.int64)


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
    d = check_int("n_inputs", n_inputs, 1)
    per_input_failure = -math.expm1(math.log1p(-dlt) / d)  # 1 - (1 - delta)^(1/d)
    return _out(np.asarray(er_width_factor(p)) * math.log(1.0 / per_input_failure))


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
    base = np.array([e / (widths[layer] * depth) for layer in range(1, depth + 1)])
    if activation_l1_bounds is None and weight_inf_norms is None:
        return base
    if activation_l1_bounds is None or weight_inf_norms is None:
        raise ValueError("activation_l1_bounds and weight_inf_norms: give both or neither")
    t = _positive("lipschitz", lipschitz)
    bounds = _array("activation_l1_bounds", activation_l1_bounds, 0.0, np.inf, lo_open=False, hi_open=True)
    norms = _array("weight_inf_norms", weight_inf_norms, 0.0, np.inf, lo_open=False, hi_open=True)
    for name, arr in (("activation_l1_bounds", bounds), ("weight_inf_norms", norms)):
        if arr.shape != (depth,):
            raise ValueError(f"{name}: expected {depth} entries (one per layer), got shape {arr.shape}")
    out = np.empty(depth)
    for layer in range(1, depth + 1):
        product = np.prod(norms[layer:depth - 1] + e / depth)  # k = l+1 .. L-1 (1-based)
        factor = t ** (depth - layer + 1) * (1.0 + bounds[layer - 1]) * (1.0 + e / depth) * product
        out[layer - 1] = base[layer - 1] / factor
    return out


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
    n0 = check_int("n_inputs", n_inputs, 1)
    n1 = check_int("n_outputs", n_outputs, 1)
    e = _open_unit("eps", eps)
    d = _open_unit("delta", delta)
    t = _positive("lipschitz", lipschitz)
    m = _number("input_bound", input_bound)
    if m < 1.0:
        raise ValueError(f"input_bound: expected M = max(1, max |x|) >= 1, got {m}")
    c = _positive("constant", constant)
    return c * n0 * math.log(n0 / min(e / (t * m), d / n1))


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
    rho = check_int("copies", copies, 1)
    n_out = check_int("n_outputs", n_outputs, 1)
    # Theorem 2.5's formula with delta / (rho n_out) in place of delta / n_out.
    return two_for_one_width(n_inputs, rho * n_out, eps, delta, lipschitz=lipschitz,
                             input_bound=input_bound, constant=constant)


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
        out += [math.ceil(hidden - 1e-9), widths[layer + 1]]
    return np.array(out, dtype=np.int64)


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
    rho = c * (total_params * rho_factor) ** (1.0 + g) * math.log(1.0 / min(float(tolerances.min()), d))
    out = []
    for layer in range(depth):
        need = c * widths[layer] * factors[layer] * math.log(1.0 / min(float(tolerances[layer]), d / rho))
        out.append(math.ceil(need - 1e-9))
    out.append(widths[depth])
    return np.array(out, dtype=np.int64)


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
    if form == "theorem2":
        numerator = np.log2(k_arr / e)
    elif form == "corollary1":
        numerator = np.log2(k_arr / e) ** 2
    else:
        numerator = 2.0 * math.log2(1.0 / e) ** 2 + 0.0 * k_arr
    return _out(c * numerator / entropy)


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
    kk = check_int("k", k, 1)
    e = _open_unit("eps", eps)
    c = _positive("constant", constant)
    lam = _open_unit("max_density", max_density)
    if form not in _RFSS_FORMS:
        raise ValueError(f"form: expected one of {_RFSS_FORMS}, got {form!r}")

    def holds(n: int) -> bool:
        return n >= rfss_bound(n, kk, e, constant=c, form=form)

    lo = max(kk + 1, math.ceil(kk / lam - 1e-9))
    if holds(lo):
        return lo
    hi = 2 * lo
    while not holds(hi):
        hi *= 2
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
    ok = k_arr >= 2.0 * c * (lg ** 2 + 2.0 * lg * math.log2(1.0 / e))
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
    kk = check_int("k", k, 1)
    e = _open_unit("eps", eps)
    if e >= RFSS_LOWER_BOUND_MAX_EPS:
        raise ValueError(f"eps: Theorem 5 needs eps < 1/16, got {e}")
    d = check_int("dimension", dimension, 1)
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
    scale = c / float(binary_entropy(gamma_prime))
    blocks = np.empty(depth)
    for i in range(depth):
        ratio = 2.0 * depth * widths[i] * widths[i + 1] / e
        if simplified:
            blocks[i] = scale * math.log2(ratio) ** 2
        else:
            blocks[i] = _largest_fixed_point(scale, ratio * gamma_prime)
    source = float(sum(2.0 * widths[i] ** 2 * blocks[i] + 2.0 * widths[i] * widths[i + 1] * blocks[i]
                       for i in range(depth)))
    target = sum(widths[i] * widths[i + 1] for i in range(depth))
    return SparseTicketSize(blocks, source, target, source / target, gam)


def _largest_fixed_point(scale: float, ratio: float) -> float:
    """Largest n with ``n = scale * log2^2(ratio * n)`` (eq. 28 of 002).

    Beyond ``ratio * n > e`` the right-hand side is concave and grows slower than n, so the
    iteration ``n <- scale log2^2(ratio n)`` started above the largest fixed point decreases
    monotonically to it.
    """
    n = max(1.0, math.e / ratio)
    while n < scale * math.log2(ratio * n) ** 2:
        n *= 2.0
    for _ in range(10_000):
        nxt = scale * math.log2(ratio * n) ** 2
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
    float

    >>> round(expected_solution_count(1, 0.1), 6)
    0.1975
    >>> round(expected_solution_count(10, 0.01, k=2), 4)
    0.3375
    """
    nn = check_int("n", n, 1)
    e = _open_unit("eps", eps)
    if k is not None and max_size is not None:
        raise ValueError("k and max_size: give at most one")
    if k is not None:
        kk = check_int("k", k, 0)
        if kk > nn:
            raise ValueError(f"k: expected k <= n = {nn}, got {kk}")
        sizes = [kk]
    else:
        top = nn if max_size is None else min(check_int("max_size", max_size, 0), nn)
        sizes = range(top + 1)
    # The target is uniform on [-1, 1] too, so Sigma_s - z is a sum of s + 1 uniforms.
    return float(sum(math.comb(nn, s) * _uniform_sum_abs_cdf(s + 1, e) for s in sizes))
