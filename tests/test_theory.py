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


def test_docstring_examples_run():
    import doctest

    assert doctest.testmod(theory, raise_on_error=False).failed == 0
