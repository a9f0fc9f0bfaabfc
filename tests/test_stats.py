"""subsetsum.stats: Monte-Carlo estimates against exact probabilities on small cases."""

import itertools
import math

import numpy as np
import pytest

from subsetsum import stats, theory
from subsetsum.stats import Scenario


def _inside(value, estimate, slack=0.0):
    return estimate.lower - slack <= value <= estimate.upper + slack


def test_wilson_interval_by_hand():
    # s = 8 of t = 10 at 95%: center (0.8 + z^2/20) / (1 + z^2/10), z = 1.959964
    z = 1.959963984540054
    center = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z / (1 + z * z / 10) * math.sqrt(0.8 * 0.2 / 10 + z * z / 400)
    lo, hi = stats.wilson_interval(8, 10)
    assert lo == pytest.approx(center - half)
    assert hi == pytest.approx(center + half)
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = stats.wilson_interval(np.array([0, 10]), np.array([10, 10]))
    assert lo[0] == 0.0 and hi[1] == 1.0


@pytest.mark.parametrize("eps", [0.05, 0.2])
def test_n1_uniform_matches_closed_form(eps):
    # One uniform element x and target z: success iff |z| <= eps or |x - z| <= eps.
    # P = eps + (eps - eps^2/4) - eps^2 = 2 eps - 5 eps^2 / 4 (for eps <= 1/2).
    exact = 2 * eps - 1.25 * eps ** 2
    est = stats.estimate(Scenario(n=1, eps=eps, mode="best"), 40_000, seed=3, confidence=0.999)
    assert _inside(exact, est)


def test_n2_uniform_matches_brute_force_integration():
    # P(some subset of {x1, x2} within eps of z) by midpoint integration over (x1, x2, z).
    eps, grid = 0.1, 120
    u = (np.arange(grid) + 0.5) / grid * 2 - 1
    x1, x2, z = np.meshgrid(u, u, u, indexing="ij")
    hit = ((np.abs(z) <= eps) | (np.abs(x1 - z) <= eps) | (np.abs(x2 - z) <= eps)
           | (np.abs(x1 + x2 - z) <= eps))
    exact = hit.mean()
    est = stats.estimate(Scenario(n=2, eps=eps, mode="best"), 40_000, seed=4, confidence=0.999)
    assert _inside(exact, est, slack=0.005)  # slack: the integration grid's error


def test_fixed_size_k1_matches_closed_form():
    # Exactly one of n uniform elements within eps of a uniform target: 1 - (1 - q)^n with
    # q = P(|x - z| <= eps) = eps - eps^2 / 4 only approximately (the n events share z), so
    # integrate over z: P = E_z[1 - (1 - P(|x - z| <= eps | z))^n].
    n, eps = 6, 0.05
    z = (np.arange(20_000) + 0.5) / 20_000 * 2 - 1
    p_given_z = (np.minimum(z + eps, 1) - np.maximum(z - eps, -1)) / 2
    exact = float(np.mean(1 - (1 - p_given_z) ** n))
    est = stats.estimate(Scenario(n=n, eps=eps, mode="fixed_size", k=1), 40_000, seed=5, confidence=0.999)
    assert _inside(exact, est)


def _grid_base(values):
    def draw(rng, shape):
        return rng.choice(values, size=shape)

    draw.__name__ = "grid"
    return draw


def test_tiny_grid_matches_enumeration():
    # Bases on a 5-point grid, n = 3; targets are continuous, so enumerate the 125 base
    # triples and integrate each triple's hit set over z exactly (a union of intervals).
    values = np.array([-0.9, -0.35, 0.1, 0.45, 0.8])
    n, eps = 3, 0.07
    total = 0.0
    for triple in itertools.product(values, repeat=n):
        sums = sorted({sum(s) for r in range(n + 1) for s in itertools.combinations(triple, r)})
        covered, right = 0.0, -1.0
        for c in sums:  # union of [c - eps, c + eps] intersected with [-1, 1]
            lo, hi = max(c - eps, -1.0, right), min(c + eps, 1.0)
            covered += max(0.0, hi - lo)
            right = max(right, hi)
        total += covered / 2.0
    exact = total / len(values) ** n
    est = stats.estimate(Scenario(n=n, eps=eps, mode="best", base=_grid_base(values)), 40_000,
                         seed=6, confidence=0.999)
    assert _inside(exact, est)
    assert stats.estimates_to_rows([est])[0]["base"] == "grid"


def test_er_mask_matches_mixture_over_survivors():
    # ER(p) with n = 2: K ~ Bin(2, p) survivors; P = sum_K P(K) P_K with P_0 = eps,
    # P_1 = 2 eps - 5 eps^2 / 4 and P_2 estimated without the mask.
    eps, p = 0.1, 0.5
    p2 = stats.estimate(Scenario(n=2, eps=eps, mode="best"), 40_000, seed=7).probability
    exact = (1 - p) ** 2 * eps + 2 * p * (1 - p) * (2 * eps - 1.25 * eps ** 2) + p * p * p2
    est = stats.estimate(Scenario(n=2, eps=eps, mode="best", density=p), 40_000, seed=8, confidence=0.999)
    assert _inside(exact, est, slack=0.01)


def test_min_size_and_best_agree_on_success():
    a = stats.estimate(Scenario(n=6, eps=0.02, mode="best"), 5000, seed=9)
    b = stats.estimate(Scenario(n=6, eps=0.02, mode="min_size"), 5000, seed=9)
    assert a.successes == b.successes
    assert b.mean_size <= a.mean_size


def test_histograms_account_for_every_sample():
    est = stats.estimate(Scenario(n=8, eps=0.01, base="product"), 3000, seed=10, keep_samples=True)
    assert est.error_counts.sum() == est.trials == est.size_counts.sum()
    assert np.bincount(est.sizes, minlength=9).tolist() == est.size_counts.tolist()
    median = float(np.median(est.errors))
    assert est.error_quantile(0.5) == pytest.approx(median, rel=0.05)
    assert est.mean_error == pytest.approx(float(est.errors.mean()))
    assert est.successes == int(np.count_nonzero(est.errors <= 0.01))


def test_seeds_reproduce_and_grid_points_are_independent():
    grid = [Scenario(n=4, eps=0.05), Scenario(n=4, eps=0.05)]
    first = stats.sweep(grid, 2000, seed=11)
    again = stats.sweep(grid, 2000, seed=11)
    assert [e.successes for e in first] == [e.successes for e in again]
    assert first[0].error_counts.tolist() != first[1].error_counts.tolist()


@pytest.mark.parametrize("base", ["uniform", "product"])
def test_chunking_does_not_change_the_answer(monkeypatch, base):
    scenario = Scenario(n=5, eps=0.05, base=base, density=0.8)
    whole = stats.estimate(scenario, 1000, seed=12)
    monkeypatch.setattr(stats, "CHUNK_ELEMENTS", 5 * 64)  # 64 problems per solve call
    chunked = stats.estimate(scenario, 1000, seed=12)
    # targets, bases and mask come from separate streams drawn in row order
    assert chunked.successes == whole.successes
    assert chunked.error_counts.tolist() == whole.error_counts.tolist()


def test_progress_callback_counts_every_problem():
    seen = []
    stats.sweep([Scenario(n=3, eps=0.1)] * 3, 500, progress=seen.append)
    assert sum(seen) == 1500


def test_estimate_follows_the_first_moment_heuristic_where_solutions_are_rare():
    # With E[#solutions] small, P(success) ~ E[#solutions] (union bound is nearly tight).
    n, eps = 3, 0.002
    expected = theory.expected_solution_count(n, eps)
    est = stats.estimate(Scenario(n=n, eps=eps, mode="best"), 50_000, seed=13, confidence=0.999)
    assert est.lower <= expected * 1.02 and est.upper >= expected * 0.9


def test_crossing_and_fits():
    assert stats.crossing_n([1, 2, 3], [0.95, 0.99, 1.0], 0.9) == 1.0
    assert math.isnan(stats.crossing_n([1, 2], [0.1, 0.2], 0.9))
    c, res = stats.fit_proportional([3.0, 6.0, np.nan], [1.0, 2.0, 3.0])
    assert c == pytest.approx(3.0) and np.isnan(res[2])
    ks = np.array([2, 4, 8])
    ns = np.array([theory.rfss_min_n(int(k), 0.01, constant=1.7) for k in ks], dtype=float)
    c, _ = stats.fit_rfss_constant(ns, ks, 0.01)
    assert 1.6 < c < 2.2  # rounding n up makes the fitted constant a bit larger
    n = np.arange(2, 12)
    fail = 0.3 * np.exp(-0.4 * n) / 0.05
    a, b = stats.fit_failure_decay(n, np.round(1e6 * (1 - fail)).astype(int), [10 ** 6] * n.size, 0.05)
    assert b == pytest.approx(0.4, rel=0.01) and a == pytest.approx(0.3, rel=0.05)


def test_write_csv_roundtrip(tmp_path):
    rows = stats.estimates_to_rows(stats.sweep([Scenario(n=2, eps=0.1, density=0.5)], 200))
    path = stats.write_csv(tmp_path / "e.csv", rows, stats.CSV_COLUMNS)
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == list(stats.CSV_COLUMNS)
    assert len(lines) == 2


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=0, eps=0.1), ValueError, "n"),
    (dict(n=3.0, eps=0.1), TypeError, "n"),
    (dict(n=3, eps=0.0), ValueError, "eps"),
    (dict(n=3, eps=0.1, mode="exact"), ValueError, "mode"),
    (dict(n=3, eps=0.1, mode="fixed_size"), ValueError, "k"),
    (dict(n=3, eps=0.1, mode="fixed_size", k=4), ValueError, "k"),
    (dict(n=3, eps=0.1, k=1), ValueError, "k"),
    (dict(n=3, eps=0.1, mode="best", max_size=2), ValueError, "max_size"),
    (dict(n=3, eps=0.1, base="cauchy"), ValueError, "base"),
    (dict(n=3, eps=0.1, base=3), TypeError, "base"),
    (dict(n=3, eps=0.1, density=1.5), ValueError, "density"),
    (dict(n=3, eps=0.1, density=0.0), ValueError, "density"),
    (dict(n=3, eps=0.1, target_range=-1.0), ValueError, "target_range"),
])
def test_scenario_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Scenario(**kwargs)


def test_estimate_rejects_bad_arguments():
    s = Scenario(n=3, eps=0.1)
    with pytest.raises(ValueError, match="num_samples"):
        stats.estimate(s, 0)
    with pytest.raises(TypeError, match="seed"):
        stats.estimate(s, 10, seed="zero")
    with pytest.raises(ValueError, match="device"):
        stats.estimate(s, 10, device="tpu")
    with pytest.raises(ValueError, match="confidence"):
        stats.estimate(s, 10, confidence=1.0)
    with pytest.raises(TypeError, match="scenario"):
        stats.estimate({"n": 3}, 10)
    with pytest.raises(ValueError, match="base"):
        stats.estimate(Scenario(n=3, eps=0.1, base=lambda rng, shape: np.zeros(3)), 10)
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(5, 4)


# --------------------------------------------------------------------------------------------
# pruning at initialization and random pruning (003, 004)


@pytest.mark.parametrize("width, depth, case", [(2, 4, "simple"), (2, 5, "multivariate")])
def test_random_pruning_simulation_against_the_exact_balls_and_bins_probability(width, depth, case):
    bins = depth - 1 if case == "simple" else depth - 2
    ks = np.arange(0, bins * width * width + 1)
    sim = stats.simulate_random_pruning(width, depth, ks, 3000, case=case, seed=21)
    exact = theory.layer_emptied_probability(ks, width, depth, case=case)
    for est, p in zip(sim.emptied_estimates(confidence=0.999), exact):
        assert est.lower - 1e-12 <= p <= est.upper + 1e-12
    # a layer emptied by the picks disconnects the network; dead-node deletion can do it earlier
    assert (sim.emptied <= sim.disconnected).all()
    assert sim.disconnected[0] == 0 and sim.disconnected[-1] == sim.trials
    assert (np.diff(sim.disconnected) >= 0).all()
    # 004's budget holds here: below it the network stays connected with probability >= 1 - 1/e
    k = math.ceil(theory.pruning_budget(width, depth, case=case)) - 1
    assert sim.disconnected_estimates()[k].lower <= 1 / math.e


def test_path_products_against_004s_estimate_where_paths_are_independent():
    # depth 2: the w paths s -> v -> t share no edge, so 1 - (1 - p)^w is exact
    for width in (1, 3, 8):
        est = stats.simulate_path_products(0.3, 0.02, 2, width, 6000, seed=width)
        lo, hi = stats.wilson_interval(est.successes, est.trials, 0.999)
        assert lo <= theory.path_ticket_probability(0.3, 0.02, 2, width) <= hi
    # deeper graphs share edges between paths: the independent estimate is above the truth
    est = stats.simulate_path_products(0.3, 0.01, 4, 8, 3000, seed=9)
    assert est.upper < theory.path_ticket_probability(0.3, 0.01, 4, 8)


def test_ticket_survival_is_monotone_and_ends_with_only_tiny_targets():
    sv = stats.simulate_ticket_survival(5, 12, 0.02, [0, 15, 30, 45, 60], 200, seed=4)
    assert (np.diff(sv.survived) <= 0).all() and (np.diff(sv.solved) <= 0).all()
    assert sv.survived[0] > sv.survived[-1] == 0
    # with no pruning every weight is one dense problem: its success rate predicts the ticket's
    per_weight = stats.estimate(Scenario(n=12, eps=0.02, mode="best"), 20_000, seed=5).probability
    assert sv.solved[0] / 1000 == pytest.approx(per_weight, abs=0.03)
    with pytest.raises(ValueError, match="removed"):
        stats.simulate_ticket_survival(5, 12, 0.02, [61], 10)


@pytest.mark.parametrize("data", ["random", "structured"])
def test_sketch_error_simulation_against_lemma_4_1(data):
    rng = np.random.default_rng(11)
    d, n = 40, 20
    x = rng.standard_normal((d, n)) / math.sqrt(n)
    if data == "structured":  # features of very different scales, and one dead feature
        x *= np.exp(2 * rng.standard_normal(d))[:, None]
        x[3] = 0.0
    w = rng.standard_normal(d)
    for s in (1, 10, 100):
        m = stats.simulate_sketch_error(x, w, s, 20_000, seed=s)
        assert m.contains(theory.sketch_error(x, w, s), z=4.5)
    p = np.abs(w) / np.abs(w).sum()  # data-free p, not the optimum
    m = stats.simulate_sketch_error(x, w, 10, 20_000, probabilities=p, seed=3)
    assert m.contains(theory.sketch_error(x, w, 10, probabilities=p), z=4.5)
    assert theory.sketch_error(x, w, 10) < theory.sketch_error(x, w, 10, probabilities=p)


def test_sketch_error_on_gaussian_data_and_lemma_4_2():
    w = np.random.default_rng(2).standard_normal(12)
    m = stats.simulate_sketch_error_gaussian(w, 5, 8, 20_000, seed=6)
    assert m.contains(theory.sketch_error_gaussian(w, 5, n_examples=8), z=4.5)
    # 003 Lemma 4.2's bound ||w||^2 / s is far below what is measured (its proof's last step fails)
    assert m.mean - 4.5 * m.stderr > 3 * theory.sketch_error_bound(w, 5)


def test_docstring_examples_run():
    import doctest

    assert doctest.testmod(stats, raise_on_error=False).failed == 0


@pytest.mark.parametrize("base", ["uniform", "product"])
def test_philox_problems_are_the_source_generator_values_in_any_chunking(base):
    from subsetsum import _philox

    scenario = Scenario(n=6, eps=0.01, base=base, density=0.6, target_range=2.5)
    key = 2**63 + 12345
    t, x, m = stats.draw_philox_problems(scenario, key, 0, 300)
    # chunks of any size give the same rows
    for lo, hi in [(0, 7), (7, 150), (150, 300)]:
        tc, xc, mc = stats.draw_philox_problems(scenario, key, lo, hi - lo)
        assert np.array_equal(tc, t[lo:hi]) and np.array_equal(xc, x[lo:hi]) and np.array_equal(mc, m[lo:hi])
    rows = range(300)
    u = _philox.uniform(key, stats.PHILOX_STREAM, 1, rows, range(6)).astype(np.float64)
    if base == "product":  # exact: two 24-bit values multiply without rounding in float64
        u = u * _philox.uniform(key, stats.PHILOX_STREAM, 3, rows, range(6)).astype(np.float64)
    assert np.array_equal(x, u)
    assert np.array_equal(t, 2.5 * _philox.uniform(key, stats.PHILOX_STREAM, 0, rows, [0])[:, 0].astype(np.float64))
    assert np.array_equal(m, _philox.bernoulli(key, stats.PHILOX_STREAM, 2, rows, range(6), 0.6))
    assert t.dtype == x.dtype == np.float64 and np.abs(t).max() < 2.5 and np.abs(x).max() < 1.0


def test_philox_problems_follow_their_distributions():
    t, x, m = stats.draw_philox_problems(Scenario(n=8, eps=0.01, density=0.3), 99, 0, 50_000)
    assert abs(x.mean()) < 0.01 and abs(x.var() - 1 / 3) < 0.01  # Uniform(-1, 1)
    assert abs(t.mean()) < 0.02 and abs(m.mean() - 0.3) < 0.01
    assert stats.draw_philox_problems(Scenario(n=8, eps=0.01), 99, 0, 5)[2] is None
    with pytest.raises(ValueError, match="uniform or product"):
        stats.draw_philox_problems(Scenario(n=8, eps=0.01, base="normal"), 99, 0, 5)
    with pytest.raises(ValueError, match="2\\^32"):
        stats.draw_philox_problems(Scenario(n=8, eps=0.01), 99, 2**32 - 2, 5)


def test_estimates_of_seed_sequences_and_generators_are_reproducible():
    scenario = Scenario(n=6, eps=0.02, base="product")
    a = stats.estimate(scenario, 3000, seed=np.random.SeedSequence(5))
    b = stats.estimate(scenario, 3000, seed=np.random.SeedSequence(5))
    c = stats.estimate(scenario, 3000, seed=np.random.default_rng(5))
    d = stats.estimate(scenario, 3000, seed=np.random.default_rng(5))
    assert a.successes == b.successes and c.successes == d.successes
    assert np.array_equal(a.error_counts, b.error_counts) and np.array_equal(c.error_counts, d.error_counts)


def test_device_histograms_equal_numpys():
    """The histogram code that runs on device results (torch tensors), here on torch's CPU
    tensors, counts exactly as np.histogram does: bin edges, zeros, the largest edges."""
    import types

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    errors = np.concatenate([10.0 ** rng.uniform(-14, 3, 20_000), [0.0, 1e-12, 100.0, 1e3],
                             stats.ERROR_BIN_EDGES[1:-1:7]])
    sizes = rng.integers(0, 7, errors.size).astype(np.int32)
    found = errors <= 0.01
    host = types.SimpleNamespace(errors=errors, sizes=sizes, found=found, algorithm="x")
    device = types.SimpleNamespace(errors=torch.from_numpy(errors), sizes=torch.from_numpy(sizes),
                                   found=torch.from_numpy(found), algorithm="x")
    a = stats._chunk_summary(host, 6, True)
    b = stats._chunk_summary(device, 6, True)
    assert a[0] == b[0] and a[1] == pytest.approx(b[1], rel=1e-12)
    for x, y in zip(a[2:6], b[2:6]):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("n", [5, 40])
def test_grouping_draw_blocks_into_calls_changes_nothing(monkeypatch, n):
    """Several Philox draw blocks solved in one call (as on the GPU) or one by one give the same
    problems and counts; jobs of any number of blocks give the same error sums (one per block,
    or per `step` rows of a block larger than a call), so Ray shards and local jobs agree."""
    scenario = Scenario(n=n, eps=0.05, base="product", density=0.9)
    monkeypatch.setattr(stats, "DRAW_BLOCK", 700)
    monkeypatch.setattr(stats, "CHUNK_ELEMENTS", n * 500)  # blocks larger than a call
    split = stats.estimate(scenario, 5_000, seed=8, keep_samples=True)
    monkeypatch.setattr(stats, "CHUNK_ELEMENTS", n * 2_000)  # two blocks per call
    grouped = stats.estimate(scenario, 5_000, seed=8, keep_samples=True)
    assert grouped.successes == split.successes and grouped.mean_error == pytest.approx(split.mean_error)
    assert np.array_equal(grouped.error_counts, split.error_counts)
    assert np.array_equal(grouped.errors, split.errors) and np.array_equal(grouped.sizes, split.sizes)

    calls = []
    real_solve = stats.solve
    monkeypatch.setattr(stats, "solve", lambda *a, **k: calls.append(len(a[0])) or real_solve(*a, **k))
    blocks = list(zip([700] * 7 + [100], stats._block_seeds(8, 8)))
    whole = stats._solve_blocks(scenario, blocks, 2_000, "cpu", None, False)
    assert calls == [1_400, 1_400, 1_400, 800]  # whole blocks, as many as fit a call
    one_by_one = [part for block in blocks for part in stats._solve_blocks(scenario, [block], 2_000, "cpu", None, False)]
    assert [x for part in whole for x in part[1]] == [x for part in one_by_one for x in part[1]]
    assert sum(part[0] for part in whole) == sum(part[0] for part in one_by_one)
