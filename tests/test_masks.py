"""subsetsum.masks: 003's sketching masks, SynFlow, thresholding and randomization, torch masks."""

import math

import numpy as np
import pytest

from subsetsum import masks, theory


# --------------------------------------------------------------------------------------------
# optimal probabilities and Algorithm 1


def test_optimal_probabilities_by_hand():
    # 003 eq. (2): p_i ~ ||X_(i)|| |w_i|
    assert masks.optimal_probabilities([1.0, -3.0], [2.0, 1.0]).tolist() == pytest.approx([0.4, 0.6])
    # one norm per input feature of a Linear weight (out, in) broadcasts over the rows
    w = np.array([[1.0, 2.0], [-1.0, 0.0]])
    p = masks.optimal_probabilities(w, np.array([3.0, 1.0]))
    np.testing.assert_allclose(p, np.array([[3.0, 2.0], [3.0, 0.0]]) / 8.0)
    assert masks.optimal_probabilities(np.ones(4)).tolist() == [0.25] * 4


def test_sketch_mask_counts_and_rescaling():
    w = np.array([[0.5, -2.0], [1.0, 0.0]])
    p = masks.optimal_probabilities(w)
    sk = masks.sketch_mask(w, p, 7, seed=np.random.default_rng(1))
    assert sk.counts.sum() == 7 and sk.samples == 7
    assert (sk.mask == (sk.counts > 0)).all()
    np.testing.assert_allclose(sk.scale[sk.mask], sk.counts[sk.mask] / (7 * p[sk.mask]))
    assert (sk.scale[~sk.mask] == 0).all() and not sk.mask[1, 1]  # p = 0 is never drawn
    np.testing.assert_allclose(sk.weights, w * sk.scale)
    assert sk.density == sk.mask.mean()
    again = masks.sketch_mask(w, p, 7, seed=np.random.default_rng(1))
    assert (again.counts == sk.counts).all()  # seeded


@pytest.mark.parametrize("which", ["optimal", "uniform"])
def test_algorithm_1_is_unbiased(which):
    # E[m * w] = w for the mask m_i = count_i / (s p_i) of 003 Algorithm 1 (Lemma B.1), for any
    # p that is positive wherever w is nonzero.
    w = np.array([0.5, -2.0, 1.0, 0.1, -0.7])
    p = masks.optimal_probabilities(w) if which == "optimal" else np.full(w.size, 0.2)
    rng = np.random.default_rng(7)
    draws = np.array([masks.sketch_mask(w, p, 3, seed=rng).weights for _ in range(6000)])
    mean = draws.mean(axis=0)
    stderr = draws.std(axis=0, ddof=1) / math.sqrt(len(draws))
    assert (np.abs(mean - w) <= 4.5 * stderr + 1e-12).all(), (mean, w, stderr)


def test_lemma_4_1_expectation_matches_monte_carlo_of_algorithm_1():
    # 003 Lemma 4.1: E_m ||X^T w - X^T (w * m)||^2 = (1/s)((sum ||X_(k)|| |w_k|)^2 - ||X^T w||^2)
    rng = np.random.default_rng(3)
    d, n, s = 6, 5, 4
    x = rng.standard_normal((d, n)) * np.array([3.0, 1.0, 0.3, 1.0, 2.0, 0.1])[:, None]
    w = rng.standard_normal(d)
    p = masks.optimal_probabilities(w, np.linalg.norm(x, axis=1))
    errors = []
    for _ in range(5000):
        sk = masks.sketch_mask(w, p, s, seed=rng)
        r = x.T @ (w - sk.weights)
        errors.append(r @ r)
    errors = np.array(errors)
    exact = theory.sketch_error(x, w, s)
    assert abs(errors.mean() - exact) <= 4.5 * errors.std(ddof=1) / math.sqrt(errors.size)
    by_hand = (np.linalg.norm(x, axis=1) @ np.abs(w)) ** 2 / s - np.sum((x.T @ w) ** 2) / s
    assert exact == pytest.approx(by_hand)


@pytest.mark.parametrize("call, error, match", [
    (lambda: masks.optimal_probabilities([1.0, 2.0], [-1.0, 1.0]), ValueError, "feature_norms"),
    (lambda: masks.optimal_probabilities([0.0, 0.0]), ValueError, "weights"),
    (lambda: masks.optimal_probabilities([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "feature_norms"),
    (lambda: masks.optimal_probabilities(["a", "b"]), TypeError, "weights"),
    (lambda: masks.optimal_probabilities([1.0, np.nan]), ValueError, "weights"),
    (lambda: masks.sketch_mask([1.0, 2.0], [-0.5, 1.5], 3, seed=0), ValueError, "probabilities"),
    (lambda: masks.sketch_mask([1.0, 2.0], [0.5, 0.6], 3, seed=0), ValueError, "probabilities"),
    (lambda: masks.sketch_mask([1.0, 2.0], [1.0], 3, seed=0), ValueError, "probabilities"),
    (lambda: masks.sketch_mask([1.0, 2.0], [0.5, 0.5], 0, seed=0), ValueError, "samples"),
    (lambda: masks.sketch_mask([1.0, 2.0], [0.5, 0.5], 2.0, seed=0), TypeError, "samples"),
    (lambda: masks.sketch_mask([1.0, 2.0], [0.5, 0.5], 2, seed=-1), TypeError, "seed"),
    (lambda: masks.topk_mask([1.0, 2.0], 0.0), ValueError, "density"),
    (lambda: masks.topk_mask([1.0, 2.0], 1.5), ValueError, "density"),
    (lambda: masks.topk_mask([1.0, 2.0], float("nan")), ValueError, "density"),
    (lambda: masks.topk_mask([1.0, 2.0], True), TypeError, "density"),
    (lambda: masks.topk_mask([1.0, -2.0], 0.5), ValueError, "scores"),
    (lambda: masks.topk_mask({}, 0.5), ValueError, "scores"),
    (lambda: masks.randomized_mask({"a": [1.0, -1.0]}, 0.5, seed=0), ValueError, r"scores\['a'\]"),
    (lambda: masks.randomized_mask([1.0, 2.0], 2.0, seed=0), ValueError, "density"),
    (lambda: masks.randomized_mask([1.0, 2.0], 0.5, per_layer="yes", seed=0), TypeError, "per_layer"),
])
def test_bad_arguments_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------------------------
# thresholding and randomization


def test_topk_mask_is_global_and_deterministic():
    scores = {"a": np.array([[3.0, 0.0], [2.0, 2.0]]), "b": np.array([2.0, 1.0])}
    m = masks.topk_mask(scores, 0.5)  # k = 3 of 6: 3, then the first two 2s in order
    assert m["a"].tolist() == [[True, False], [True, True]] and m["b"].tolist() == [False, False]
    assert masks.topk_mask(np.array([0.1, 0.9]), 0.01).tolist() == [False, True]  # at least one


def test_randomized_mask_keeps_the_thresholds_per_layer_counts():
    # 003 section 8: global threshold -> per-layer counts -> sampling by score inside each layer
    rng = np.random.default_rng(0)
    scores = {"a": rng.random((20, 10)), "b": rng.random(50) * 3.0, "c": np.zeros(30)}
    top = masks.topk_mask(scores, 0.3)
    for seed in range(5):
        m = masks.randomized_mask(scores, 0.3, seed=seed)
        assert {k: int(v.sum()) for k, v in m.items()} == {k: int(v.sum()) for k, v in top.items()}
    free = masks.randomized_mask(scores, 0.3, per_layer=False, seed=1)
    assert sum(int(v.sum()) for v in free.values()) == 84  # round(0.3 * 280)
    assert not free["c"].any()  # zero scores are drawn only when the positives run out


def test_randomized_mask_samples_in_proportion_to_score():
    scores = np.array([1.0, 2.0, 3.0, 4.0])
    rng = np.random.default_rng(5)
    picks = np.array([np.flatnonzero(masks.randomized_mask(scores, 0.25, seed=rng))[0] for _ in range(8000)])
    freq = np.bincount(picks, minlength=4) / picks.size
    np.testing.assert_allclose(freq, scores / scores.sum(), atol=0.02)
    # zero scores fill up uniformly once the positive ones are all taken
    m = masks.randomized_mask(np.array([0.0, 5.0, 0.0, 0.0]), 0.5, seed=3)
    assert m[1] and m.sum() == 2


# --------------------------------------------------------------------------------------------
# SynFlow


def _two_layer(torch, w1, w2, b1=None, b2=None):
    net = torch.nn.Sequential(torch.nn.Linear(w1.shape[1], w1.shape[0], bias=b1 is not None), torch.nn.ReLU(),
                              torch.nn.Linear(w2.shape[1], w2.shape[0], bias=b2 is not None))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w1))
        net[2].weight.copy_(torch.tensor(w2))
        if b1 is not None:
            net[0].bias.copy_(torch.tensor(b1))
            net[2].bias.copy_(torch.tensor(b2))
    return net


def test_synflow_scores_by_hand_on_a_two_layer_network():
    torch = pytest.importorskip("torch")
    w1 = np.array([[1.0, -2.0, 0.5], [-0.5, 0.0, 3.0]])
    w2 = np.array([[2.0, -1.0], [0.5, 4.0]])
    b1 = np.array([-1.0, 2.0])
    b2 = np.array([0.3, -0.3])
    net = _two_layer(torch, w1, w2, b1, b2)
    before = net[0].weight.detach().clone()
    s = masks.synflow_scores(net, (3,))
    # R = 1^T |W2| (|W1| 1 + |b1|) + 1^T |b2|: dR/d|W1_ji| = sum_k |W2_kj| (times x_i = 1),
    # dR/d|W2_kj| = (|W1| 1 + |b1|)_j
    col = np.abs(w2).sum(axis=0)
    hidden = np.abs(w1).sum(axis=1) + np.abs(b1)
    np.testing.assert_allclose(s["0.weight"], np.abs(w1) * col[:, None])
    np.testing.assert_allclose(s["2.weight"], np.abs(w2) * hidden[None, :])
    assert set(s) == {"0.weight", "2.weight"}  # biases are not scored
    assert torch.equal(net[0].weight, before)  # the module is not modified
    # eq. (4): another input vector x scales the first layer's scores by x_i
    x = np.array([2.0, 0.5, 1.0])
    s_x = masks.synflow_scores(net, (3,), inputs=x)
    hidden_x = np.abs(w1) @ x + np.abs(b1)
    np.testing.assert_allclose(s_x["0.weight"], np.abs(w1) * col[:, None] * x[None, :])
    np.testing.assert_allclose(s_x["2.weight"], np.abs(w2) * hidden_x[None, :])


def test_synflow_on_one_linear_layer_with_feature_norms_is_the_optimal_sketch_distribution():
    torch = pytest.importorskip("torch")
    # 003 section 5: SynFlow fed ||X_(i)|| scores ||X_(i)|| |w_i|, proportional to p^0 of eq. (2)
    w = np.array([[0.3, -1.2, 2.0, 0.0]])
    norms = np.array([1.0, 0.5, 2.0, 3.0])
    lin = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w))
    s = masks.synflow_scores(lin, (4,), inputs=norms)["weight"]
    np.testing.assert_allclose(s / s.sum(), masks.optimal_probabilities(w, norms))


def test_synflow_chi_inputs_are_seeded_and_positive():
    torch = pytest.importorskip("torch")
    net = _two_layer(torch, np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[1.0, 1.0]]))
    a = masks.synflow_scores(net, (2,), inputs="chi", seed=4)
    b = masks.synflow_scores(net, (2,), inputs="chi", seed=4)
    ones = masks.synflow_scores(net, (2,))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.allclose(a["0.weight"], ones["0.weight"])
    # chi_n / sqrt(n) concentrates at 1 for large n
    big = masks.synflow_scores(net, (2,), inputs="chi", degrees_of_freedom=10**6, seed=1)
    np.testing.assert_allclose(big["0.weight"], ones["0.weight"], rtol=0.01)
    with pytest.raises(ValueError, match="seed"):
        masks.synflow_scores(net, (2,), inputs="chi")


def _iterative_reference(w1, w2, density, rounds):
    """Iterative SynFlow on a bias-free two-layer ReLU net, written out: with |weights| and
    input 1 the net is linear, R = 1^T (|W2| M2)(|W1| M1) 1."""
    a1, a2 = np.abs(w1), np.abs(w2)
    m1, m2 = np.ones_like(a1), np.ones_like(a2)
    for r in range(1, rounds + 1):
        e1, e2 = a1 * m1, a2 * m2
        s1 = e1 * e2.sum(axis=0)[:, None]
        s2 = e2 * e1.sum(axis=1)[None, :]
        if r < rounds:
            keep = masks.topk_mask({"0.weight": s1, "2.weight": s2}, density ** (r / rounds))
            m1, m2 = keep["0.weight"].astype(float), keep["2.weight"].astype(float)
    return s1, s2


def test_iterative_synflow_matches_a_written_out_reference():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    w1, w2 = rng.standard_normal((6, 5)), rng.standard_normal((3, 6))
    net = _two_layer(torch, w1, w2)
    s = masks.synflow_scores(net, (5,), iterative=True, density=0.2, rounds=4)
    r1, r2 = _iterative_reference(w1, w2, 0.2, 4)
    np.testing.assert_allclose(s["0.weight"], r1)
    np.testing.assert_allclose(s["2.weight"], r2)
    final = masks.topk_mask(s, 0.2)
    assert sum(int(m.sum()) for m in final.values()) == round(0.2 * 48)
    one_round = masks.synflow_scores(net, (5,), iterative=True, density=0.2, rounds=1)
    one_shot = masks.synflow_scores(net, (5,))
    assert all(np.allclose(one_round[k], one_shot[k]) for k in one_shot)


def test_synflow_scores_conv_and_already_pruned_modules():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import prune

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(3 * 4 * 4, 2))
    s = masks.synflow_scores(net, (2, 6, 6))
    assert s["0.weight"].shape == (3, 2, 3, 3) and s["3.weight"].shape == (2, 48)
    assert (s["0.weight"] > 0).all()
    prune.random_unstructured(net[3], "weight", amount=0.5)
    pruned = masks.synflow_scores(net, (2, 6, 6))
    assert (pruned["3.weight"][net[3].weight_mask.numpy() == 0] == 0).all()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(input_shape=(2,), density=0.5), ValueError, "density"),
    (dict(input_shape=(2,), iterative=True), ValueError, "density"),
    (dict(input_shape=(2,), iterative=True, density=0.5, rounds=0), ValueError, "rounds"),
    (dict(input_shape=(0,)), ValueError, "input_shape"),
    (dict(input_shape="2"), TypeError, "input_shape"),
    (dict(input_shape=(2,), inputs="zeros"), ValueError, "inputs"),
    (dict(input_shape=(2,), inputs=np.ones(3)), ValueError, "inputs"),
    (dict(input_shape=(2,), iterative=1), TypeError, "iterative"),
])
def test_synflow_rejects_bad_arguments(kwargs, error, match):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(error, match=match):
        masks.synflow_scores(net, **kwargs)


def test_synflow_needs_a_module_with_weights():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="module"):
        masks.synflow_scores([1, 2], (2,))
    with pytest.raises(ValueError, match="module"):
        masks.synflow_scores(torch.nn.ReLU(), (2,))


# --------------------------------------------------------------------------------------------
# apply_mask


def test_apply_mask_uses_torch_prune_and_prune_remove_makes_it_permanent():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import prune

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    weights = {k: v.detach().numpy().copy() for k, v in net.named_parameters() if k.endswith("weight")}
    m = masks.topk_mask({k: np.abs(v) for k, v in weights.items()}, 0.5)
    out = masks.apply_mask(net, m)
    assert out is net
    for name, idx in (("0.weight", 0), ("2.weight", 2)):
        layer = net[idx]
        assert hasattr(layer, "weight_orig") and hasattr(layer, "weight_mask")
        assert torch.equal(layer.weight_mask.bool(), torch.from_numpy(m[name]))
        np.testing.assert_allclose(layer.weight.detach().numpy(), weights[name] * m[name])
    x = torch.randn(5, 4)
    expected = net(x).detach()
    for idx in (0, 2):
        prune.remove(net[idx], "weight")
        assert not hasattr(net[idx], "weight_mask") and isinstance(net[idx].weight, torch.nn.Parameter)
    assert torch.allclose(net(x), expected)
    assert int((net[0].weight == 0).sum()) >= int((~m["0.weight"]).sum())


def test_apply_mask_with_sketch_scales_and_on_top_of_a_pruned_layer():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 2)
    w = lin.weight.detach().numpy().copy()
    sk = masks.sketch_mask(w, masks.optimal_probabilities(w), 4, seed=0)
    masks.apply_mask(lin, {"weight": sk.mask}, scales={"weight": sk.scale})
    np.testing.assert_allclose(lin.weight.detach().numpy(), sk.weights, rtol=1e-6)
    first = lin.weight_mask.clone()
    second = np.ones((2, 3), bool)
    second[0, 0] = False
    masks.apply_mask(lin, {"weight": second})  # masks combine, as torch's prune does
    assert torch.equal(lin.weight_mask, first * torch.from_numpy(second).float())


@pytest.mark.parametrize("mask, kwargs, error, match", [
    ({"1.weight": np.ones((2, 3), bool)}, {}, ValueError, "no parameter named '1.weight'"),
    ({"0.weight": np.ones((3, 2), bool)}, {}, ValueError, r"masks\['0.weight'\]: expected the parameter's shape"),
    ({"0.weight": np.full((2, 3), 0.5)}, {}, ValueError, "0/1"),
    ({"0.weight": np.ones((2, 3), bool)}, {"scales": {"0.bias": np.ones(2)}}, ValueError, "scales"),
    ({"0.weight": np.ones((2, 3), bool)}, {"scales": {"0.weight": np.ones(3)}}, ValueError, "scales"),
    ([np.ones((2, 3))], {}, TypeError, "masks"),
])
def test_apply_mask_rejects_bad_masks(mask, kwargs, error, match):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with pytest.raises(error, match=match):
        masks.apply_mask(net, mask, **kwargs)
    assert not hasattr(net[0], "weight_mask")  # nothing applied when any mask is bad


def test_apply_mask_needs_a_module():
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match="module"):
        masks.apply_mask("net", {})
