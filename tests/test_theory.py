"""subsetsum.theory against values computed by hand from the papers' formulas."""

import math

import numpy as np
import pytest

from subsetsum import theory


def test_binary_entropy_values_and_symmetry():
    assert theory.binary_entropy(0.0) == 0.0
    assert theory.binary_entropy(1.0) == 0.0
    assert theory.binary_entropy(0.5) == 1.0
    # H2(1/4) = 2 - (3/4) log2 3
    assert theory.binary_entropy(0.25) == pytest.approx(2 - 0.75 * math.log2(3))
    x = np.linspace(0.01, 0.99, 9)
    np.testing.assert_allclose(theory.binary_entropy(x), theory.binary_entropy(1 - x))


def test_subset_sum_n_uses_the_smaller_of_eps_and_delta():
    assert theory.subset_sum_n(0.01, 0.1) == pytest.approx(math.log(100))
    assert theory.subset_sum_n(0.1, 0.01, constant=3.0) == pytest.approx(3 * math.log(100))
    np.testing.assert_allclose(theory.subset_sum_n([0.1, 0.001], 0.01), [math.log(100), math.log(1000)])


def test_er_width_factor_by_hand():
    assert theory.er_width_factor(0.5) == pytest.approx(1 / math.log(2))
    assert theory.er_width_factor(0.9) == pytest.approx(1 / math.log(10))
    # small p: 1/log(1/(1-p)) = 1/p - 1/2 + O(p)
    assert theory.er_width_factor(1e-4) == pytest.approx(1e4 - 0.5, rel=1e-6)
    assert theory.er_subset_sum_n(0.01, 0.05, 0.5) == pytest.approx(math.log(100) / math.log(2))


def test_er_relative_width_limits():
    b = 0.7
    assert theory.er_relative_width(1.0, b) == pytest.approx(1.0)
    p = 1e-5
    assert theory.er_relative_width(p, b) == pytest.approx(b / (p * (1 - math.exp(-b))), rel=1e-4)
    # the proof's bound is the lemma's factor up to constants: decreasing in p
    ps = np.linspace(0.05, 1.0, 20)
    assert (np.diff(theory.er_relative_width(ps, b)) < 0).all()


def test_failure_bounds_agree_at_full_density():
    assert theory.er_failure_bound(12, 1.0, 0.01, scale=2.0, decay_rate=0.3) == pytest.approx(
        theory.lueker_failure_bound(12, 0.01, scale=2.0, decay_rate=0.3))
    assert theory.lueker_failure_bound(0, 0.5) == pytest.approx(2.0)


def test_er_representation_widths_reproduce_theorem_2_1():
    # Theorem 2.1 of 000: q1 = ceil(log(2 m2 / delta) / log(1/(1-p2))), q0 from q1.
    d, n1, n2, p, delta = 20, 8, 3, 0.3, 0.01
    q1 = math.ceil(math.log(2 * n1 * n2 / delta) / math.log(1 / (1 - p)))
    q0 = math.ceil(math.log(2 * d * n1 * q1 / delta) / math.log(1 / (1 - p)))
    widths = theory.er_representation_widths([d, n1, n2], [p, p], delta)
    assert widths.tolist() == [q0 * d, q1 * n1, n2]
    # dense layers need a single copy
    assert theory.er_representation_widths([d, n1, n2], [1.0, 1.0], delta).tolist() == [d, n1, n2]


def test_er_representation_widths_grow_sharply_past_sparsity_0_9():
    # 000 Figure 2: moderate growth up to sparsity 0.9, drastic after 0.95.
    w = {s: theory.er_representation_widths([784, 128, 10], [1 - s, 1 - s], 0.001)[1]
         for s in (0.5, 0.9, 0.99)}
    assert w[0.9] / w[0.5] < 8 < w[0.99] / w[0.9]


def test_er_width_lower_bound_by_hand():
    p, delta, d = 0.2, 0.05, 4
    expected = math.log(1 / (1 - (1 - delta) ** (1 / d))) / math.log(1 / (1 - p))
    assert theory.er_width_lower_bound(p, delta, d) == pytest.approx(expected)


def test_layer_tolerances_full_formula():
    eps, widths = 0.1, [3, 4, 2]
    eps_l = theory.layer_tolerances(eps, widths, lipschitz=2.0, activation_l1_bounds=[1.0, 5.0],
                                    weight_inf_norms=[3.0, 1.5])
    # L = 2: eps_1 = eps/(4*2) / [2^2 (1+1) (1+eps/2)], eps_2 = eps/(2*2) / [2 (1+5) (1+eps/2)]
    assert eps_l[0] == pytest.approx(eps / 8 / (4 * 2 * 1.05))
    assert eps_l[1] == pytest.approx(eps / 4 / (2 * 6 * 1.05))
    with pytest.raises(ValueError, match="give both or neither"):
        theory.layer_tolerances(eps, widths, activation_l1_bounds=[1.0, 1.0])


def test_two_for_one_and_one_for_one_by_hand():
    assert theory.two_for_one_width(10, 5, 0.01, 0.01) == pytest.approx(10 * math.log(10 / 0.002))
    assert theory.two_for_one_width(10, 5, 0.01, 0.5, lipschitz=2.0) == pytest.approx(10 * math.log(10 / 0.005))
    assert theory.one_for_one_width(10, 5, 0.01, 0.01, copies=20) == pytest.approx(10 * math.log(1e5))


def test_l_plus_one_widths_dense_by_hand():
    widths, eps, delta, gamma = [4, 3, 2], 0.1, 0.1, 0.1
    eps_l = [eps / (3 * 2), eps / (2 * 2)]
    rho = 18 ** (1 + gamma) * math.log(1 / min(min(eps_l), delta))
    expected = [math.ceil(4 * math.log(1 / min(eps_l[0], delta / rho))),
                math.ceil(3 * math.log(1 / min(eps_l[1], delta / rho))), 2]
    assert theory.l_plus_one_widths(widths, eps, delta, gamma=gamma).tolist() == expected
    er = theory.l_plus_one_widths(widths, eps, delta, densities=[0.5, 0.5], gamma=gamma)
    assert (er[:-1] > np.array(expected[:-1])).all()


def test_rfss_bound_and_min_n_by_hand():
    assert theory.rfss_bound(40, 4, 0.01) == pytest.approx(math.log2(400) / theory.binary_entropy(0.1))
    assert theory.rfss_bound(40, 4, 0.01, form="corollary2", constant=2.0) == pytest.approx(
        4 * math.log2(100) ** 2 / theory.binary_entropy(0.1))
    # k = 4, eps = 0.01: n H2(4/n) >= log2(400) = 8.64 first holds at n = 9 (8 H2(1/2) = 8).
    assert theory.rfss_min_n(4, 0.01) == 9
    for k in (1, 3, 10):
        n = theory.rfss_min_n(k, 0.05, constant=1.5)
        assert n >= theory.rfss_bound(n, k, 0.05, constant=1.5)
        if n - 1 >= 2 * k:
            assert n - 1 < theory.rfss_bound(n - 1, k, 0.05, constant=1.5)


def test_rfss_lower_bound_is_below_the_upper_bound_shape():
    for k in (1, 2, 5, 20):
        assert theory.rfss_lower_bound_n(k, 0.01) <= theory.rfss_min_n(k, 0.01, max_density=0.84)
    with pytest.raises(ValueError, match="1/16"):
        theory.rfss_lower_bound_n(2, 0.1)


def test_corollary2_condition_by_hand():
    # k >= 2 c (log2^2 k + 2 log2 k log2(1/eps)); k = 256, eps = 1/2: 2 (64 + 16) = 160 <= 256
    assert theory.rfss_corollary2_applies(256, 0.5)
    assert not theory.rfss_corollary2_applies(256, 0.5, constant=2.0)  # 320 > 256


def test_sparse_ticket_size_fixed_point_and_simplified_form():
    s = theory.sparse_ticket_size([8, 8, 8], 0.05, 0.01)
    h = theory.binary_entropy(0.05)
    for block in s.block_sizes:  # eq. 28 holds with equality at the fixed point
        assert block == pytest.approx(math.log2(2 * 2 * 64 * 0.05 * block / 0.01) ** 2 / h, rel=1e-9)
    simple = theory.sparse_ticket_size([8, 8, 8], 0.05, 0.01, simplified=True)
    assert simple.block_sizes[0] == pytest.approx(math.log2(2 * 2 * 64 / 0.01) ** 2 / h)
    assert simple.target_params == 128
    assert simple.source_params == pytest.approx(2 * (2 * 64 + 2 * 64) * simple.block_sizes[0])
    # Figure 1: sparser tickets need more overparameterization
    dens = [1e-3, 1e-2, 1e-1]
    over = [theory.sparse_ticket_size([8, 8], g, 0.01).overparameterization for g in dens]
    assert over[0] > over[1] > over[2]


def test_expected_solution_count_closed_forms():
    eps = 0.1
    # n = 1: P(|z| < eps) + P(|x - z| < eps) = eps + (eps - eps^2 / 4)
    assert theory.expected_solution_count(1, eps) == pytest.approx(2 * eps - eps ** 2 / 4)
    # fixed size k = 1 of n: n (eps - eps^2/4)
    assert theory.expected_solution_count(7, eps, k=1) == pytest.approx(7 * (eps - eps ** 2 / 4))
    # large sizes switch to the normal approximation without a jump
    a = theory.expected_solution_count(30, 1e-3, k=19)
    b = theory.expected_solution_count(30, 1e-3, k=20)
    assert 0.5 < a / (b * math.comb(30, 19) / math.comb(30, 20)) < 2


@pytest.mark.parametrize("call, match", [
    (lambda: theory.subset_sum_n(0.0, 0.1), "eps"),
    (lambda: theory.subset_sum_n(0.1, 1.5), "delta"),
    (lambda: theory.er_width_factor(1.0), "p"),
    (lambda: theory.er_width_factor("half"), "p"),
    (lambda: theory.rfss_bound(4, 4, 0.1), "k"),
    (lambda: theory.rfss_bound(10, 2, 0.1, form="lemma"), "form"),
    (lambda: theory.rfss_min_n(0, 0.1), "k"),
    (lambda: theory.er_representation_widths([4, 3], [0.5, 0.5], 0.1), "densities"),
    (lambda: theory.er_representation_widths([4, 0], [0.5], 0.1), "target_widths"),
    (lambda: theory.two_for_one_width(3, 2, 0.1, 0.1, input_bound=0.5), "input_bound"),
    (lambda: theory.l_plus_one_widths([3, 2], 0.1, 0.1, gamma=0.0), "gamma"),
    (lambda: theory.sparse_ticket_size([4, 2], 1.0, 0.1), "density"),
    (lambda: theory.expected_solution_count(3, 0.1, k=4), "k"),
])
def test_bad_arguments_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_type_errors_for_non_numbers():
    with pytest.raises(TypeError, match="n_inputs"):
        theory.two_for_one_width(3.5, 2, 0.1, 0.1)
    with pytest.raises(TypeError, match="eps"):
        theory.sparse_ticket_size([4, 4], 0.1, None)


# --------------------------------------------------------------------------------------------
# issue 11 item 13: precision, overflow and type checks (each failed on the old code)


def test_er_width_factor_is_exact_for_tiny_densities():
    # 1 / log(1/(1-p)) = 1/p - 1/2 - p/12 - ...: the old 1/log(1/(1-p)) was 10% off at 1e-15
    # (1 - p rounds) and inf at 1e-17 (1 - p == 1)
    for p in (1e-15, 1e-17, 1e-300):
        assert theory.er_width_factor(p) == pytest.approx(1 / p - 0.5, rel=1e-12)
    np.testing.assert_allclose(theory.er_width_factor(np.array([1e-15, 0.5])),
                               [1e15 - 0.5, 1 / math.log(2)], rtol=1e-12)
    assert theory.er_subset_sum_n(0.01, 0.01, 1e-17) == pytest.approx(math.log(100) * 1e17, rel=1e-12)
    # beyond float64 the factor is refused with the argument named, not returned as inf
    with pytest.raises(ValueError, match="p=5e-324"):
        theory.er_width_factor(5e-324)


def test_sparse_ticket_size_with_a_density_beyond_float64():
    # used to raise ZeroDivisionError (H2(5e-324 / rho) underflows to 0)
    with pytest.raises(ValueError, match="density=5e-324"):
        theory.sparse_ticket_size([10, 10], 5e-324, 0.01)
    with pytest.raises(ValueError, match="density"):
        theory.sparse_ticket_size([10, 10], 1e-310, 0.01, simplified=True)
    # small but representable densities still give the fixed point
    s = theory.sparse_ticket_size([10, 10], 1e-200, 0.01)
    assert np.isfinite(s.block_sizes).all() and s.overparameterization > 1e190


def test_tiny_eps_is_computed_in_logarithms():
    # log(1/eps) with eps = 5e-324 is 744.4, not log(inf)
    assert theory.subset_sum_n(5e-324, 0.5) == pytest.approx(-math.log(5e-324))
    assert theory.rfss_bound(40, 4, 5e-324) == pytest.approx(
        (math.log2(4) - math.log2(5e-324)) / theory.binary_entropy(0.1))
    assert theory.two_for_one_width(10, 5, 5e-324, 0.01) == pytest.approx(10 * (math.log(10) - math.log(5e-324)))
    with pytest.raises(ValueError, match="eps=5e-324"):  # tolerances eps / (n L) underflow to 0
        theory.l_plus_one_widths([4, 3, 2], 5e-324, 0.1)


@pytest.mark.parametrize("call, match", [
    (lambda: theory.two_for_one_width(10**400, 5, 0.01, 0.01), "n_inputs"),
    (lambda: theory.one_for_one_width(10, 5, 0.01, 0.01, copies=2**64), "copies"),
    (lambda: theory.subset_sum_n(10**400, 0.1), "eps"),
    (lambda: theory.subset_sum_n(0.1, 0.1, constant=10**400), "constant"),
    (lambda: theory.rfss_bound(10**400, 4, 0.01), "n"),
    (lambda: theory.rfss_bound([10**400], 4, 0.01), "n"),
    (lambda: theory.rfss_min_n(2**64, 0.01), "k"),
    (lambda: theory.rfss_lower_bound_n(4, 0.01, dimension=10**30), "dimension"),
    (lambda: theory.expected_solution_count(2**60, 0.01), "n"),
    (lambda: theory.er_representation_widths([4, 10**400], [0.5], 0.1), r"target_widths\[1\]"),
    (lambda: theory.l_plus_one_widths([4, 3, 2], 0.1, 0.1, gamma=10**400), "gamma"),
    (lambda: theory.l_plus_one_widths([4, 3, 2], 0.1, 0.1, gamma=1e308), "gamma"),
    (lambda: theory.sparse_ticket_size([10, 10], 0.1, 0.01, constant=1e308), "constant"),
    (lambda: theory.rfss_min_n(4, 0.01, max_density=5e-324), "max_density"),
])
def test_huge_values_raise_a_named_value_error(call, match):
    # these raised a bare OverflowError ("int too large to convert to float") or ZeroDivisionError
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: theory.binary_entropy("0.5"), "x"),
    (lambda: theory.subset_sum_n(["0.01"], 0.1), "eps"),
    (lambda: theory.rfss_bound(np.array(["40"]), 4, 0.01), "n"),
    (lambda: theory.rfss_corollary2_applies(np.array(["4"]), 0.1), "k"),
    (lambda: theory.er_width_factor([True, False]), "p"),
    (lambda: theory.er_width_factor([[0.5, 0.2], [0.1]]), "p"),
    (lambda: theory.er_representation_widths([4, 3], ["0.5"], 0.1), "densities"),
])
def test_array_parameters_refuse_strings_and_bools(call, match):
    # np.asarray(value, dtype=float64) used to turn "0.5" into 0.5
    with pytest.raises(TypeError, match=match):
        call()


def test_expected_solution_count_for_large_n():
    # log-space sums beyond the exact binomials: finite where representable, inf beyond
    small = theory.expected_solution_count(1500, 0.01, max_size=2)
    by_hand = (0.01 + 1500 * theory.expected_solution_count(1, 0.01, k=1)
               + math.comb(1500, 2) * theory.expected_solution_count(2, 0.01, k=2))
    assert small == pytest.approx(by_hand, rel=1e-9)
    assert theory.expected_solution_count(5000, 0.01) == math.inf
    assert theory.expected_solution_count(2**52, 0.01, k=2) == pytest.approx(
        2.0**104 / 2 * theory.expected_solution_count(2, 0.01, k=2), rel=1e-6)


# --------------------------------------------------------------------------------------------
# 003: sketching error


def test_sketch_error_by_hand():
    x = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    w = np.array([1.0, -1.0, 0.5])
    norms = np.linalg.norm(x, axis=1)
    total = x.T @ w
    # Lemma 4.1 (optimal p)
    assert theory.sketch_error(x, w, 3) == pytest.approx(((norms @ np.abs(w)) ** 2 - total @ total) / 3)
    # any p (proof of Lemma 4.3): (1/s)(sum ||X_k||^2 w_k^2 / p_k - ||X^T w||^2)
    p = np.array([0.2, 0.3, 0.5])
    assert theory.sketch_error(x, w, 2, probabilities=p) == pytest.approx(
        (np.sum(norms ** 2 * w ** 2 / p) - total @ total) / 2)
    # p_k = 0: that entry is always dropped, a bias the variance term does not hold
    p0 = np.array([0.5, 0.5, 0.0])
    kept = x[:2].T @ w[:2]
    dropped = x[2] * w[2]
    assert theory.sketch_error(x, w, 2, probabilities=p0) == pytest.approx(
        (np.sum(norms[:2] ** 2 * w[:2] ** 2 / 0.5) - kept @ kept) / 2 + dropped @ dropped)
    # the optimal p is the best p
    assert theory.sketch_error(x, w, 2) <= theory.sketch_error(x, w, 2, probabilities=[1 / 3] * 3)


def test_sketch_error_gaussian_and_lemma_4_2():
    w = np.array([1.0, -2.0, 0.5])
    l1, l2 = 3.5, 5.25
    # c_1 = E|g| = sqrt(2/pi); c_n -> 1
    assert theory.sketch_error_gaussian(w, 2, n_examples=1) == pytest.approx((2 / math.pi) * (l1 ** 2 - l2) / 2)
    assert theory.sketch_error_gaussian(w, 2) == pytest.approx((l1 ** 2 - l2) / 2)
    assert theory.sketch_error_gaussian(w, 2, n_examples=10**6) == pytest.approx((l1 ** 2 - l2) / 2, rel=1e-5)
    assert theory.sketch_error_bound(w, 2) == pytest.approx(l2 / 2)
    # Lemma 4.2 as stated is below the exact expectation once ||w||_1^2 / ||w||_2^2 is large
    ones = np.ones(10)
    assert theory.sketch_error_bound(ones, 1) == 10.0
    assert theory.sketch_error_gaussian(ones, 1, n_examples=128) > 80.0
    # and holds for a single nonzero weight (the exact value is then 0)
    assert theory.sketch_error_gaussian([0.0, 3.0], 1, n_examples=4) == 0.0


def test_sketch_density_helpers():
    p = np.array([0.5, 0.25, 0.25])
    assert theory.sketch_expected_density(p, 2) == pytest.approx((0.75 + 2 * (1 - 0.75 ** 2)) / 3)
    np.testing.assert_allclose(theory.sketch_expected_density(p, [1, 2]),
                               [1 / 3, (0.75 + 2 * (1 - 0.75 ** 2)) / 3])
    s = theory.sketch_samples_for_density(p, 0.8)
    assert theory.sketch_expected_density(p, s) >= 0.8 > theory.sketch_expected_density(p, s - 1)
    with pytest.raises(ValueError, match="density"):
        theory.sketch_samples_for_density([0.5, 0.5, 0.0], 0.9)  # at most 2/3 reachable


# --------------------------------------------------------------------------------------------
# 004: random pruning and deep substitutions


def test_pruning_budget_by_hand():
    # section 3.1: k < (d-1) w^2 / exp(1 + ln(d-1)/w^2 + ln(c)/w^2)
    w, d, c = 3, 5, 10.0
    assert theory.pruning_budget(w, d, c=c) == pytest.approx(4 * 9 / math.exp(1 + math.log(4) / 9 + math.log(c) / 9))
    # section 3.2: d - 2 layers
    assert theory.pruning_budget(w, d, c=c, case="multivariate") == pytest.approx(
        3 * 9 / math.exp(1 + math.log(3) / 9 + math.log(c) / 9))
    # the paper's own chain: the bound on P(disconnect) equals 1/c at the budget
    for (w, d, c) in ((3, 5, math.e), (4, 8, 20.0), (6, 3, 100.0)):
        k = theory.pruning_budget(w, d, c=c)
        if k > w * w:
            assert theory.pruning_disconnection_bound(k, w, d) == pytest.approx(1 / c, rel=1e-9)
    assert theory.pruning_disconnection_bound(20, 2, 3) == pytest.approx(
        math.exp(4 + 4 * math.log(20) - 4 * math.log(4) - 3 * math.log(2)))
    assert theory.pruning_budget(4, 9) > theory.pruning_budget(3, 9) > theory.pruning_budget(3, 5)


def test_max_load_probability_against_enumeration():
    import itertools

    for balls, bins, cap in ((6, 3, 3), (5, 2, 3), (4, 4, 2), (7, 3, 4)):
        hits = sum(max(np.bincount(a, minlength=bins)) >= cap
                   for a in itertools.product(range(bins), repeat=balls))
        assert theory.max_load_probability(balls, bins, cap) == pytest.approx(hits / bins ** balls, abs=1e-12)
    np.testing.assert_allclose(theory.max_load_probability([0, 1, 2], 1, 2), [0.0, 0.0, 1.0])
    assert theory.layer_emptied_probability(6, 2, 3) == pytest.approx(1 - 20 / 64)  # 2 layers of 4 edges
    assert theory.layer_emptied_probability(9, 3, 4, case="multivariate") == pytest.approx(
        theory.max_load_probability(9, 2, 9))


def test_path_product_probability_against_the_product_density():
    # product of d uniforms on [-1, 1]: density log^(d-1)(1/|z|) / (2 (d-1)!)
    for d in (1, 2, 3):
        for z, eps in ((0.3, 0.01), (0.0, 0.05), (-0.9, 0.2), (1.0, 0.1)):
            grid = np.linspace(max(z - eps, -1.0), min(z + eps, 1.0), 200_001)
            with np.errstate(divide="ignore"):
                dens = np.where(grid == 0, 0.0, np.log(1 / np.abs(grid)) ** (d - 1) / (2 * math.factorial(d - 1)))
            numeric = float(np.sum((dens[1:] + dens[:-1]) / 2 * np.diff(grid)))
            assert theory.path_product_probability(z, eps, d) == pytest.approx(numeric, rel=2e-3, abs=1e-6)
    p = theory.path_product_probability(0.3, 0.01, 3)
    assert theory.path_ticket_probability(0.3, 0.01, 3, 4) == pytest.approx(1 - (1 - p) ** 16)


def test_substitution_widths_by_hand():
    eps, delta, d, x = 0.01, 0.1, 3, 0.5
    p = eps / (2 * x)
    assert theory.substitution_width(eps, delta, d, weight_range=x) == pytest.approx(
        (math.log(2 / delta) / p) ** (1 / (d - 1)))
    s, t, f = 3, 2, 4
    assert theory.substitution_width(eps, delta, d, case="mlr", n_inputs=s, weight_range=x) == pytest.approx(
        s * (2 * s * math.log(2 * s / delta) / p) ** (1 / (d - 1)))
    assert theory.substitution_width(eps, delta, d, case="layer", n_inputs=s, n_outputs=t,
                                     weight_range=x) == pytest.approx(
        t * s * (2 * s * t ** (1 / d) * math.log(2 * s * t / delta) / p) ** (1 / (d - 1)))
    assert theory.substitution_width(eps, delta, d, case="network", n_inputs=s, n_outputs=t, target_depth=f,
                                     weight_range=x) == pytest.approx(
        t * s * (4 * s * t ** (1 / d) * f * math.log(2 * s * t * f / delta) / p) ** (1 / (d - 1)))
    # deeper substitutions are thinner (the point of section 7)
    assert theory.substitution_width(eps, delta, 6) < theory.substitution_width(eps, delta, 3)


@pytest.mark.parametrize("call, match", [
    (lambda: theory.pruning_budget(3, 1), "depth"),
    (lambda: theory.pruning_budget(3, 2, case="multivariate"), "depth"),
    (lambda: theory.pruning_budget(3, 5, case="deep"), "case"),
    (lambda: theory.pruning_budget(3, 5, c=0.5), "c"),
    (lambda: theory.pruning_budget(0, 5), "width"),
    (lambda: theory.max_load_probability(2.5, 3, 2), "balls"),
    (lambda: theory.layer_emptied_probability(-1, 3, 4), "prunes"),
    (lambda: theory.path_product_probability(1.5, 0.1, 2), "target"),
    (lambda: theory.path_product_probability(0.5, 0.0, 2), "eps"),
    (lambda: theory.substitution_width(0.01, 0.1, 1), "depth"),
    (lambda: theory.substitution_width(0.01, 0.1, 3, case="conv"), "case"),
    (lambda: theory.sketch_error(np.ones((3, 2)), np.ones(2), 1), "features"),
    (lambda: theory.sketch_error(np.ones((2, 2)), np.ones(2), 1, probabilities=[0.2, 0.2]), "probabilities"),
    (lambda: theory.sketch_error_gaussian(np.ones((2, 2)), 1), "weights"),
    (lambda: theory.sketch_error_bound([1.0], 0), "samples"),
])
def test_new_bounds_name_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_docstring_examples_run():
    import doctest

    assert doctest.testmod(theory, raise_on_error=False).failed == 0
