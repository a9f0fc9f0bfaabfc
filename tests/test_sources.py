"""Sources: virtual generated layers (pure functions of their coordinates, growable), looks-linear
pairs, ER densities and masks, user sources."""

import numpy as np
import pytest

from subsetsum import _philox
from subsetsum.tickets.source import (
    ERMasks,
    GeneratedSource,
    UserSource,
    er_widening,
    layer_densities,
    parse_source,
    unit_scale,
)

SHAPES = [(300, 784), (100, 300), (10, 100)]


def test_generated_layers_are_pure_functions_of_their_coordinates():
    src = GeneratedSource(7, ["uniform", "uniform"], [True, False])
    w, b = src.layer(0, (6, 3))
    w2, b2 = src.layer(0, (6, 3))
    assert (w == w2).all() and (b == b2).all()
    assert src.layer(1, (2, 6))[1] is None
    assert w.dtype == np.float32 and np.abs(w).max() < 1
    # growth: a taller and wider layer starts with the same weights
    big, big_b = src.layer(0, (40, 3))
    assert (big[:6] == w).all() and (big_b[:6] == b).all()
    # any element alone, any order
    rows, cols = np.array([5, 0, 3]), np.array([2, 1, 0])
    assert (src.weights(0, rows, cols, outer=False) == w[rows, cols]).all()
    assert (src.weights(0, rows, cols) == w[np.ix_(rows, cols)]).all()
    # the documented formula
    assert w[4, 1] == _philox.uniform(7, 0, 0, [4], [1])[0, 0]


def test_seeds_layers_and_streams_differ():
    a = GeneratedSource(1, ["uniform"] * 2, [True, False])
    b = GeneratedSource(2, ["uniform"] * 2, [True, False])
    assert not (a.weights(0, range(50), range(10)) == b.weights(0, range(50), range(10))).any()
    assert not (a.weights(0, range(50), range(10)) == a.weights(1, range(50), range(10))).any()
    assert not (a.bias(0, range(50)) == a.weights(0, range(50), [0])[:, 0]).all()


def test_looks_linear_pairs_are_antisymmetric_and_interleaved():
    src = GeneratedSource(3, ["looks_linear", "looks_linear"], [True, False])
    first = src.weights(0, np.arange(8), np.arange(5))
    assert (first[1::2] == -first[0::2]).all()
    w = src.weights(1, np.arange(8), np.arange(6))
    assert (w[1::2] == -w[0::2]).all() and (w[:, 1::2] == -w[:, 0::2]).all()
    # pairs survive growth: a pair added later is still (2q, 2q + 1)
    grown = src.weights(1, np.arange(20), np.arange(6))
    assert (grown[:8] == w).all() and (grown[19] == -grown[18]).all()


@pytest.mark.parametrize("scheme", ["uniform", "erk", "balanced", "pyramidal"])
@pytest.mark.parametrize("density", [0.05, 0.3, 0.8])
def test_layer_densities_hit_the_overall_density(scheme, density):
    p = np.array(layer_densities(SHAPES, density, scheme))
    sizes = np.array([o * i for o, i in SHAPES])
    assert ((p > 0) & (p <= 1)).all()
    assert abs((p * sizes).sum() / sizes.sum() - density) < 1e-6


def test_scheme_shapes():
    erk = layer_densities(SHAPES, 0.1, "erk")
    assert erk[0] < erk[1] < erk[2]  # small layers keep more edges
    pyr = layer_densities(SHAPES, 0.1, "pyramidal")
    assert pyr[1] == pytest.approx(pyr[0] ** 2)
    bal = layer_densities(SHAPES, 0.1, "balanced")
    edges = [p * o * i for p, (o, i) in zip(bal, SHAPES)]
    assert edges[0] == pytest.approx(edges[1])


def test_bad_density_arguments():
    with pytest.raises(ValueError, match="density"):
        layer_densities(SHAPES, 0.0)
    with pytest.raises(ValueError, match="density_scheme"):
        layer_densities(SHAPES, 0.5, "random")
    with pytest.raises(TypeError, match="density"):
        layer_densities(SHAPES, "0.5")


def test_er_masks_are_virtual_and_independent_of_the_weights():
    er = ERMasks(3, [0.25, 1.0])
    m = er.mask(0, np.arange(400), np.arange(400))
    assert abs(m.mean() - 0.25) < 0.01
    assert (m[:50, :20] == er.mask(0, np.arange(50), np.arange(20))).all()
    assert er.mask(1, [0], [0]) is None and er.dense(1)
    w = GeneratedSource(3, ["uniform"], [False]).weights(0, np.arange(400), np.arange(400))
    # the mask is not a threshold on the weights (its own stream)
    assert abs(np.corrcoef(m.ravel(), w.ravel())[0, 1]) < 0.01
    assert er_widening(0.5) == pytest.approx(1 / np.log(2))
    assert er_widening(0.99) == 1.0


def test_user_sources_and_unit_scale():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(400, 300), torch.nn.ReLU(), torch.nn.Linear(300, 2))
    layers = parse_source(net)
    assert [w.shape for w, _b in layers] == [(300, 400), (2, 300)]
    assert unit_scale(layers[0][0]) == pytest.approx(np.sqrt(400), rel=0.02)  # U[-1/sqrt(400), ...]
    src = UserSource(layers)
    assert src.capacity(0) == 300 and not src.pairs(0)
    assert (src.weights(0, [3, 1], [0, 5]) == layers[0][0][np.ix_([3, 1], [0, 5])]).all()
    with pytest.raises(ValueError, match="source layer 1 weight"):
        parse_source([np.ones((3, 2)), np.ones((1, 4))])
    with pytest.raises(TypeError, match="source"):
        parse_source("net")
    with pytest.raises(ValueError, match="constant weights"):
        unit_scale(np.zeros((3, 3)))


def test_bad_generated_source():
    with pytest.raises(ValueError, match="init"):
        GeneratedSource(0, ["gaussian"], [True])
    with pytest.raises(ValueError, match="seed"):
        GeneratedSource(-1, ["uniform"], [True])
