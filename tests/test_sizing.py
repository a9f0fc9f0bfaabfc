"""Sizing: the shipped failure table against fresh measurements, the curve model's guarantees,
ER thinning, and first-solve misses of real tickets against what the sizing expected."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subsetsum import TicketWarning, construct_ticket
from subsetsum.tickets import sizing


def _two_proportion_z(f1, n1, f2, n2):
    p = (f1 + f2) / (n1 + n2)
    se = math.sqrt(max(p * (1 - p) * (1 / n1 + 1 / n2), 1e-300))
    return abs(f1 / n1 - f2 / n2) / se


@pytest.mark.parametrize("dist,eps,m", [("uniform", 0.01, 15), ("uniform", 0.1, 6), ("product", 0.01, 20),
                                        ("product", 0.001, 18)])
def test_table_matches_fresh_measurements(dist, eps, m):
    table = sizing.load_table()
    curve = table.curves[dist][table.eps.index(eps)]
    row = int(np.flatnonzero(curve.m_values == m)[0])
    fails, trials = int(curve.failures[row].sum()), int(curve.trials[row].sum())
    assert fails >= 30  # a point the table resolves
    fresh = sizing.measure_curve(dist, eps, [m], 150_000, seed=12345)
    f2, n2 = int(fresh.failures[0].sum()), int(fresh.trials[0].sum())
    assert _two_proportion_z(fails, trials, f2, n2) < 4.5  # same miss rate, far inside noise
    # and per |z| bin where both have misses to compare
    for b in range(fresh.trials.shape[1]):
        if curve.failures[row, b] >= 20 and fresh.failures[0, b] >= 5:
            assert _two_proportion_z(curve.failures[row, b], curve.trials[row, b],
                                     fresh.failures[0, b], fresh.trials[0, b]) < 5.0


def test_table_covers_the_grid_and_records_its_machine():
    table = sizing.load_table()
    assert table.eps == sizing.TABLE_EPS and table.max_size == sizing.TABLE_MAX_SIZE
    assert set(table.curves) == set(sizing.DISTRIBUTIONS)
    assert "machine" in table.metadata and table.metadata["generated_by"].startswith("python -m")


@pytest.mark.parametrize("dist", sizing.DISTRIBUTIONS)
def test_curve_model_is_monotone_and_never_steeper_than_two_to_the_minus_m(dist):
    table = sizing.load_table()
    m = np.arange(0, 200)
    for curve in table.curves[dist]:
        for b in range(sizing.Z_EDGES.size - 1):
            logp = curve.log10_p(m, np.full(m.size, b))
            assert (logp <= 0).all() and (np.diff(logp) <= 1e-12).all()
            assert (np.diff(logp)[-50:] >= sizing.STEEPEST_SLOPE - 1e-12).all()
    # smaller tolerances miss more often
    m = np.arange(5, 60)
    for b in (0, 5, 9):
        z = np.full(m.size, b)
        previous = table.log10_p(dist, 0.2, m, z)
        for eps in (0.05, 0.01, 2e-3, 4e-4, 5e-5, 3e-6):
            now = table.log10_p(dist, eps, m, z)
            assert (now >= previous - 1e-9).all()
            previous = now


def test_er_thinning_and_required_sizes():
    table = sizing.load_table()

    def curve(m, zbin):
        return table.log10_p("uniform", 0.01, m, zbin)

    z = np.random.default_rng(0).uniform(0, 1, 500)
    sizes = np.array([10, 20, 30])
    dense = sizing.expected_misses(curve, z, sizes)
    masked = sizing.expected_misses(curve, z, sizes, q=0.5)
    assert (masked > dense).all()
    m_dense, misses = sizing.required_size(curve, z, 0.01)
    m_half, _ = sizing.required_size(curve, z, 0.01, q=0.5, m_max=256)
    assert misses <= 0.01 and m_half > m_dense
    m_loose, _ = sizing.required_size(curve, z, 1.0)
    assert m_loose < m_dense
    # p is decreasing and convex in m, so Binomial(2m, 1/2) elements miss more often than m
    # (Jensen) but less often than half of m
    thinned = sizing.expected_misses(curve, z, [40], q=0.5)[0]
    assert sizing.expected_misses(curve, z, [20])[0] <= thinned <= sizing.expected_misses(curve, z, [10])[0]


def test_measured_curves_for_fixed_size_subsets():
    c = sizing.measure_curve("uniform", 0.02, [4, 8, 16], 4000, max_size=None, k=3, seed=2)
    p = 10 ** c.log10_p(np.array([4, 8, 16]), np.full(3, 5))
    assert p[0] > p[1] > p[2]
    with pytest.raises(ValueError, match="dist"):
        sizing.sample_elements("normal", np.random.default_rng(0), (2, 2))


def test_first_solve_misses_are_what_the_sizing_expected():
    rng = np.random.default_rng(7)
    widths = [12, 20, 6]
    expected, observed = 0.0, 0
    for seed in range(8):
        target = [(rng.uniform(-1, 1, (b, a)), rng.uniform(-1, 1, b)) for a, b in zip(widths[:-1], widths[1:])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TicketWarning)
            ticket = construct_ticket(target, method="2L", delta=0.5, repair=False, seed=seed)
        expected += sum(sum(e["expected_misses"]) for e in ticket.metadata["sizing"] if e)
        observed += ticket.metadata["repair"]["unrepaired"]
    assert expected <= 8 * 0.5 + 1e-9
    # Poisson tail: far more misses than expected would mean the table is optimistic
    assert observed <= expected + 4 * math.sqrt(expected) + 4


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=0, max_size=60),
       st.floats(1e-3, 8.0, allow_nan=False), st.integers(1, 80))
def test_magnitudes_bin_like_z_bins_at_any_scale(values, scale, multiplicity):
    """Magnitudes.counts(scale) (one sort, a binary search per edge) is bin_counts(|z| / scale)
    exactly, bin edges included: the targets placed on the edges times the scale, and beside them,
    land where z_bins puts them."""
    edges = sizing.Z_EDGES * scale
    z = np.array(values + edges.tolist() + np.nextafter(edges, 0).tolist() + np.nextafter(edges, 20).tolist())
    mags = sizing.Magnitudes(z, multiplicity)
    expected = sizing.bin_counts(z / scale, np.full(z.size, multiplicity))
    np.testing.assert_array_equal(mags.counts(scale), expected)
    assert mags.problems == z.size * multiplicity
    misses_from_counts = sizing.expected_misses(lambda m, b: -0.1 * m - b, None, np.arange(1, 5), counts=expected)
    np.testing.assert_allclose(misses_from_counts, sizing.expected_misses(
        lambda m, b: -0.1 * m - b, z / scale, np.arange(1, 5), weights=np.full(z.size, multiplicity)))
