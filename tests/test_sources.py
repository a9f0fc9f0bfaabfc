"""Sources: generation from a seed, looks-linear structure, ER densities and masks, user sources."""

import numpy as np
import pytest

from subsetsum.tickets.source import (
    GeneratedSource,
    er_mask,
    er_widening,
    generate_layer,
    layer_densities,
    parse_source,
    unit_scale,
)

SHAPES = [(300, 784), (100, 300), (10, 100)]


def test_generated_layers_regenerate_exactly():
    src = GeneratedSource(7, [(6, 3), (2, 6)], ["uniform", "uniform"], [True, False])
    w1, b1 = src.layer(0)
    w2, b2 = src.layer(0)
    assert (w1 == w2).all() and (b1 == b2).all()
    assert src.layer(1)[1] is None
    assert w1.dtype == np.float32 and np.abs(w1).max() <= 1


def test_looks_linear_blocks_are_antisymmetric():
    w = generate_layer((6, 4), "looks_linear", np.random.default_rng(0), first=False)
    assert (w[:3, :2] == -w[:3, 2:]).all() and (w[:3] == -w[3:]).all()
    odd = generate_layer((5, 4), "looks_linear", np.random.default_rng(0), first=False)
    assert odd.shape == (5, 4) and (odd[:, :2] == -odd[:, 2:]).all()


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


def test_er_mask_and_widening():
    m = er_mask((400, 400), 0.25, seed=3, index=0)
    assert abs(m.mean() - 0.25) < 0.01
    assert (m == er_mask((400, 400), 0.25, seed=3, index=0)).all()
    assert er_mask((4, 4), 1.0, seed=3, index=0) is None
    assert er_widening(0.5) == pytest.approx(1 / np.log(2))
    assert er_widening(0.99) == 1.0


def test_user_sources_and_unit_scale():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(400, 300), torch.nn.ReLU(), torch.nn.Linear(300, 2))
    layers = parse_source(net)
    assert [w.shape for w, _b in layers] == [(300, 400), (2, 300)]
    assert unit_scale(layers[0][0]) == pytest.approx(np.sqrt(400), rel=0.02)  # U[-1/sqrt(400), ...]
    with pytest.raises(ValueError, match="source layer 1 weight"):
        parse_source([np.ones((3, 2)), np.ones((1, 4))])
    with pytest.raises(TypeError, match="source"):
        parse_source(3)
