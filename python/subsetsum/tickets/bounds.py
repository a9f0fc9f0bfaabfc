"""Error propagation: from per-parameter errors to the end-to-end error of a ticket.

Norms and domain: the end-to-end error of a ticket is ``sup_x max_i |f_i(x) - g_i(x)|`` over
inputs in ``[-M, M]^d`` (``M = input_bound``), the ``||f - g||_inf`` of
001_d33223a708772bec.txt, Lemma 2.8.

Three bounds live here:

* :func:`lemma_2_8_bound` and :func:`lemma_2_8_tolerances`: Lemma 2.8 as stated, with layer-wide
  worst cases (widths n_l, l1 norms M_l of the activations, column-sum norms of the weights). It
  assumes every parameter within its tolerance and a ticket with the target's architecture, so
  it is reported as the paper's a-priori figure.
* :func:`allocate_tolerances`: the same triangle inequalities applied neuron by neuron, with the
  target's own weights and activation bounds (interval arithmetic over the domain) instead of
  layer-wide worst cases. For neuron i of target layer t with inputs x_j (bounds B_j, errors e_j
  of the neurons that represent them) the pre-activation error is at most
  ``sum_j A_ij e_j + eps_t K_t`` and the output error ``T_t`` times that (T_t: Lipschitz
  constant of the activation), where ``A_ij = |w_ij|`` and ``K_t = f sum_j (B_j + e_j) + 1`` for
  layers built on univariate blocks (2L; the first layer of L+1), and ``A_ij`` the l1 norm of the
  chosen source weights, ``K_t = sum_j B_j + 1`` for L+1's later layers (Thm 2.7: each copy sums
  differently erring copies of its inputs). Output errors are then linear in the tolerances,
  ``e_out = sum_t eps_t S_t``, and the budget is split over the layers in proportion to the
  square roots of their problem counts (between an equal split and the one minimising
  ``sum_t N_t log(1/eps_t)``, the base-set cost, which would starve small layers of tolerance
  and make their solves slow).
* the certified bound of a built ticket: the same recursion evaluated with the actual subset-sum
  errors, chosen weights and linearisation remainders (:func:`problem_contributions`), so it
  holds for that ticket whether or not some parameter missed its tolerance.

Residual targets (a layer reading several earlier layers, :meth:`.graph.TargetNetwork.parts`):
the recursion is the same triangle inequality over every lowered input feature of the layer,
whichever layer produced it. A join ``act(W h + S x + b)`` errs by at most ``T (sum_j |w_ij|
e_h,j + sum_j |s_ij| e_x,j + parameter terms)``, where ``e_h`` already holds the part of x's error
that reached h: the errors of x arrive through both paths and are added, never assumed to cancel,
so the bound holds on any directed acyclic graph of layers taken in order (001 Lemma 2.8's proof
applied per layer; the residual constructions of Burkholz, ICML 2022, add the parts' errors the
same way).

Linearisation of smooth activations (tanh, sigmoid) in univariate blocks: ``|phi(y) - d - m y|
<= c |y|^3`` (``c = 1/3`` tanh, ``1/48`` sigmoid; a looks-linear pair doubles it), 001 section
2.1.1; a chosen element k with block weight ``a_k`` (first-layer scale sigma) and combine weight
``v_k`` adds ``|v_k| c (sigma |a_k| B)^3`` to the error of its parameter.
"""

from __future__ import annotations

import numpy as np

from .graph import TargetNetwork

__all__ = [
    "lemma_2_8_bound",
    "lemma_2_8_tolerances",
    "LayerModel",
    "layer_models",
    "allocate_tolerances",
    "problem_contributions",
    "COPY_L1_EXCESS",
]

# A priori estimate of the l1 norm of a chosen subset beyond |w|, in units of the element scale:
# measured on min_size solutions of uniform base sets (0.3 to 0.9 for m = 15..40, eps 1e-3..1e-2).
COPY_L1_EXCESS = 0.75


def lemma_2_8_bound(target: TargetNetwork, eps_per_layer, input_bound: float = 1.0) -> float:
    """Lemma 2.8 bound on ``sup ||f_target - f_ticket||`` over [-M, M]^d when every parameter of
    layer l is within ``eps_per_layer[l]`` of the target's (and the ticket has the target's
    architecture).

    The recursion behind 001_d33223a708772bec.txt, Lemma 2.8, in l1 norms (which bound the sup
    norm): ``e_l = T_l (||W_l||_1 e_{l-1} + n_l eps_l (M_{l-1} + e_{l-1} + 1))`` with ``||W||_1``
    the largest column sum, ``M_l = sup ||x^(l)||_1``.

    >>> from subsetsum.tickets.graph import parse_target
    >>> t = parse_target([(np.eye(2), np.zeros(2))])
    >>> lemma_2_8_bound(t, [0.01])   # 2 outputs * 0.01 * (||x||_1 <= 2, + bias 1)
    0.06
    """
    bounds = target.activation_bounds(input_bound)
    errs = {-1: 0.0}
    for layer, w in enumerate(target.weights):
        n_out = w.shape[0]
        act = target.layer_activation(layer)
        lip = act.lipschitz if act is not None else 1.0
        m_prev = float(bounds[layer].sum())
        # a convolution's output at one position reads fan input positions: the l1 error of its
        # lowered input (one patch) is fan times that of one position; a join reads every part
        parts = target.parts(layer)
        err_in = linear = 0.0
        for k, (p, op, col) in enumerate(parts):
            part = w if len(parts) == 1 else w[:, col:col + op.features]
            col_norm = float(np.abs(part).sum(axis=0).max())
            e = op.fan * errs[p]
            err_in, linear = (e, col_norm * e) if k == 0 else (err_in + e, linear + col_norm * e)
        errs[layer] = lip * (linear + n_out * eps_per_layer[layer] * (m_prev + err_in + 1.0))
    return float(errs[target.depth - 1])


def lemma_2_8_tolerances(target: TargetNetwork, output_eps: float, input_bound: float = 1.0) -> list[float]:
    """Per-layer tolerances of 001_d33223a708772bec.txt, Lemma 2.8:
    ``eps_l = eps / (n_l L) [T^(L-l+1) (1 + M_{l-1}) (1 + eps/L) prod_{k=l+1}^{L-1} (||W^(k)|| + eps/L)]^-1``,
    scaled down (rarely needed) until :func:`lemma_2_8_bound` confirms the budget.

    >>> from subsetsum.tickets.graph import parse_target
    >>> t = parse_target([(np.eye(2), np.zeros(2))])
    >>> lemma_2_8_bound(t, lemma_2_8_tolerances(t, 0.1)) <= 0.1
    True
    """
    depth = target.depth
    bounds = target.activation_bounds(input_bound)
    lips = [a.lipschitz if a is not None else 1.0 for a in map(target.layer_activation, range(depth))]
    big_t = max(lips)
    norms = [float(np.abs(w).sum(axis=0).max()) for w in target.weights]
    eps_l = []
    for layer in range(depth):
        n_l = target.weights[layer].shape[0]
        prod = 1.0
        for k in range(layer + 1, depth - 1):
            prod *= norms[k] + output_eps / depth
        denom = big_t ** (depth - layer) * (1 + float(bounds[layer].sum())) * (1 + output_eps / depth) * prod
        eps_l.append(output_eps / (n_l * depth) / denom)
    for _ in range(60):
        bound = lemma_2_8_bound(target, eps_l, input_bound)
        if bound <= output_eps:
            break
        eps_l = [e * 0.99 * output_eps / bound for e in eps_l]
    return eps_l


class LayerModel:
    """How errors pass through target layer t in a construction (see the module docstring).

    kind : "block" (built on univariate blocks) or "copies" (L+1 after the first layer)
    input_factor : f, the weight of ``eps_t (B_j + e_j)`` per input: 2 max(m+, m-) / kappa for
        sign-split blocks (two problems per weight), 1 otherwise, plus 1 where a smooth
        activation's linearisation remainder is kept below ``eps_t (B_j + e_j)``
    lipschitz : T_t of the activation after the layer (1 without one)
    """

    def __init__(self, kind: str, input_factor: float, lipschitz: float):
        self.kind = kind
        self.input_factor = input_factor
        self.lipschitz = lipschitz


def layer_models(target: TargetNetwork, method: str, *, split: bool, smooth: bool) -> list[LayerModel]:
    """One :class:`LayerModel` per target layer of ``method`` ("L+1" or "2L")."""
    act = target.activation
    kappa = act.m_plus + act.m_minus if split else act.m_plus
    block_factor = (2.0 * max(act.m_plus, act.m_minus) / kappa if split else 1.0) + (1.0 if smooth else 0.0)
    models = []
    for t in range(target.depth):
        out_act = target.layer_activation(t)
        lip = out_act.lipschitz if out_act is not None else 1.0
        block = method == "2L" or t == 0
        models.append(LayerModel("block" if block else "copies", block_factor if block else 1.0, lip))
    return models


def allocate_tolerances(target: TargetNetwork, models, output_eps: float, *, cap: float, problems,
                        element_scales, input_bound: float = 1.0, margin: float = 0.9) -> list[float]:
    """Per-layer tolerances eps_t whose combined effect on every output stays within ``output_eps``
    by the neuron-wise recursion of the module docstring (first order in the errors; the
    certified bound of the built ticket checks the result).

    ``problems[t]``: subset-sum problems of layer t (the split's weights); ``element_scales[t]``:
    the layer's element scale (L+1's later layers sum ``|w| + COPY_L1_EXCESS * scale`` per input);
    ``cap``: the per-parameter ``eps``, an upper limit for every layer.

    >>> from subsetsum.tickets.graph import parse_target
    >>> t = parse_target([(np.full((3, 2), 0.5), np.zeros(3)), (np.ones((1, 3)), np.zeros(1))])
    >>> models = layer_models(t, "2L", split=True, smooth=False)
    >>> eps = allocate_tolerances(t, models, 0.05, cap=0.01, problems=[18, 4], element_scales=[1, 1])
    >>> all(0 < e <= 0.01 for e in eps)
    True
    """
    bounds = target.activation_bounds(input_bound)
    depth = target.depth
    sens = []
    for t in range(depth):
        model = models[t]
        k_t = (model.input_factor * float(bounds[t].sum()) + 1.0) if model.kind == "block" else float(bounds[t].sum()) + 1.0
        # the output errors one unit of tolerance in layer t causes, carried forward through
        # every later layer's parts (a join adds what reaches it through each of them)
        errs = {t: np.full(target.weights[t].shape[0], model.lipschitz * k_t)}
        for later in range(t + 1, depth):
            a = np.abs(target.weights[later])
            if models[later].kind == "copies":
                a = a + COPY_L1_EXCESS * element_scales[later]
            reached = target.read_parts(later, a, errs)  # per channel -> per feature
            errs[later] = models[later].lipschitz * (reached if reached is not None else np.zeros(a.shape[0]))
        sens.append(float(errs[depth - 1].max(initial=0.0)))
    # shares grow with the square root of the problem counts: the size-optimal split is linear in
    # them, but a layer with few problems would get tolerances so small that its solves dominate
    weights = np.sqrt(np.asarray(problems, dtype=np.float64))
    weights = weights / weights.sum() if weights.sum() > 0 else np.full(depth, 1.0 / depth)
    out = []
    for t in range(depth):
        share = margin * output_eps * weights[t]
        out.append(float(min(cap, share / sens[t])) if sens[t] > 0 else float(cap))
    return out


BLOCK, COPIES, BIAS = 0, 1, 2


def problem_contributions(kinds, errors, bound, factor, chosen_problem, chosen_weight, *, chosen_first=None,
                          chosen_copy_error=None, cubic: float = 0.0) -> np.ndarray:
    """Each problem's term in the certified pre-activation error of its row (float64 (P,)).

    Per problem p (kinds: BLOCK, COPIES or BIAS; errors: its subset-sum error; bound: the bound
    of its input; factor: the input factor of a sign-split block):

    * BLOCK: ``factor * err * B_hat + sum_chosen |v_k| c (first_k B_hat)^3`` (B_hat includes the
      error of the block's input; first_k = sigma |a_k|, the block weight in ticket units);
    * COPIES: ``err * B_j + sum_chosen |v_c| e_c`` (each chosen copy c errs by e_c);
    * BIAS: ``err`` (constant neurons carry exact values).

    The chosen elements come as flat arrays: ``chosen_problem`` (their problem),
    ``chosen_weight`` (|v|, the combine weight in ticket units), ``chosen_first`` (BLOCK) and
    ``chosen_copy_error`` (COPIES).

    The build computes the same terms, bit for bit, in one compiled pass over a block's chosen
    elements (``_core.record_chosen``, from per-group-matrix terms: tickets/solve.py); this is
    their reference (tests/test_record.py).

    >>> problem_contributions(np.array([2, 2]), np.array([0.01, 0.002]), np.zeros(2), np.ones(2),
    ...                       np.zeros(0, int), np.zeros(0)).tolist()
    [0.01, 0.002]
    """
    errors = np.asarray(errors, dtype=np.float64)
    n = errors.size
    out = np.where(kinds == BIAS, errors, errors * bound * np.where(kinds == BLOCK, factor, 1.0))
    chosen_kind = kinds[chosen_problem]
    if cubic > 0.0 and chosen_first is not None:
        rem = chosen_weight * cubic * (chosen_first * bound[chosen_problem]) ** 3
        out += np.bincount(chosen_problem, weights=np.where(chosen_kind == BLOCK, rem, 0.0), minlength=n)
    if chosen_copy_error is not None:
        out += np.bincount(chosen_problem, weights=np.where(chosen_kind == COPIES, chosen_weight * chosen_copy_error,
                                                            0.0), minlength=n)
    return out
