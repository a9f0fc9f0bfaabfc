"""Convolutional targets: Conv2d layers (kernel, stride, padding, dilation, groups, biases),
BatchNorm2d folding, Flatten into Linear; L+1 and 2L tickets whose measured end-to-end error
stays within the request, exported as real nn.Conv2d layers, saved and loaded."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from subsetsum import construct_ticket  # noqa: E402
from subsetsum.tickets import Ticket  # noqa: E402
from subsetsum.tickets.graph import parse_target  # noqa: E402

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU}

# (name, input shape, modules after the input): small maps so that every case builds in seconds
GEOMETRIES = {
    "k3 pad1": ((2, 5, 5), lambda a: [nn.Conv2d(2, 3, 3, padding=1), a(), nn.Conv2d(3, 2, 3, padding=1)]),
    "k1": ((2, 4, 4), lambda a: [nn.Conv2d(2, 3, 1), a(), nn.Conv2d(3, 2, 1)]),
    "k3 stride2 pad1, flatten": ((1, 6, 6), lambda a: [nn.Conv2d(1, 3, 3, stride=2, padding=1), a(), nn.Flatten(),
                                                       nn.Linear(3 * 3 * 3, 4)]),
    "dilation2 groups2": ((2, 6, 6), lambda a: [nn.Conv2d(2, 4, 3, dilation=2, padding=2, groups=2), a(),
                                                nn.Conv2d(4, 2, 2, bias=False)]),
    "k5 no padding": ((1, 6, 6), lambda a: [nn.Conv2d(1, 2, 5), a(), nn.Flatten(), nn.Linear(2 * 2 * 2, 3)]),
    "max pool": ((1, 6, 6), lambda a: [nn.Conv2d(1, 3, 3, padding=1), a(), nn.MaxPool2d(2),
                                       nn.Conv2d(3, 2, 3, padding=1)]),
    "max pool before the activation": ((1, 6, 6), lambda a: [nn.Conv2d(1, 3, 3, padding=1), nn.MaxPool2d(2), a(),
                                                             nn.Conv2d(3, 2, 1)]),
    "avg pool, flatten": ((2, 6, 6), lambda a: [nn.Conv2d(2, 3, 3), a(), nn.AvgPool2d(2), nn.Flatten(),
                                                nn.Linear(3 * 2 * 2, 3)]),
    "global average": ((2, 5, 5), lambda a: [nn.Conv2d(2, 4, 3, padding=1), a(), nn.AdaptiveAvgPool2d(1),
                                             nn.Flatten(), nn.Linear(4, 3)]),
}


def make_target(geometry: str, activation: str = "relu", seed: int = 0, scale: float = 0.6):
    shape, build = GEOMETRIES[geometry]
    torch.manual_seed(seed)
    net = nn.Sequential(*build(ACTIVATIONS[activation])).double()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, scale)
    return net.eval(), shape


def measured_error(ticket, net, shape, samples=300, seed=1):
    x = np.random.default_rng(seed).uniform(-1, 1, (samples, *shape))
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).reshape(samples, -1).numpy()
    return float(np.abs(ticket.forward(x) - ref).max())


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_conv_ticket_meets_output_eps(method, geometry):
    net, shape = make_target(geometry)
    ticket = construct_ticket(net, method=method, output_eps=0.05, input_shape=shape, seed=0)
    assert ticket.failed == []
    err = measured_error(ticket, net, shape)
    assert err <= ticket.error_bound() + 1e-9
    assert ticket.error_bound() <= 0.05
    # the ticket reads what the target reads: target.forward agrees with torch
    x = np.random.default_rng(2).uniform(-1, 1, (5, *shape))
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).reshape(5, -1).numpy()
    assert np.allclose(ticket.target.forward(x), ref, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("method", ["L+1", "2L"])
def test_conv_ticket_every_activation(activation, method):
    net, shape = make_target("k3 pad1", activation, seed=3)
    ticket = construct_ticket(net, method=method, output_eps=0.05, input_shape=shape, seed=1)
    assert ticket.failed == []
    assert measured_error(ticket, net, shape) <= ticket.error_bound() <= 0.05


def test_conv_ticket_without_output_eps_keeps_tolerances():
    net, shape = make_target("k3 stride2 pad1, flatten")
    ticket = construct_ticket(net, method="L+1", eps=0.01, input_shape=shape, seed=0)
    assert ticket.failed == []
    assert ticket.max_errors() <= 0.01
    assert measured_error(ticket, net, shape) <= ticket.error_bound()


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("baked", [False, True])
def test_to_module_gives_conv_layers_with_the_ticket_outputs(compact, baked):
    net, shape = make_target("k3 stride2 pad1, flatten")
    ticket = construct_ticket(net, method="2L", output_eps=0.05, input_shape=shape, seed=0)
    module = ticket.to_module(compact=compact, baked=baked)
    convs = [m for m in module if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3  # block (1x1), combine (3x3, stride 2), block before the flatten (1x1)
    assert convs[1].kernel_size == (3, 3) and convs[1].stride == (2, 2) and convs[1].padding == (1, 1)
    assert any(isinstance(m, nn.Flatten) for m in module)
    if not baked:
        assert hasattr(convs[1], "weight_mask")
    x = np.random.default_rng(3).uniform(-1, 1, (7, *shape))
    with torch.no_grad():
        out = module(torch.from_numpy(x).float()).reshape(7, -1).double().numpy()
    assert np.allclose(out, ticket.forward(x), atol=1e-4)


def test_save_and_load_keep_a_conv_ticket(tmp_path):
    net, shape = make_target("dilation2 groups2")
    ticket = construct_ticket(net, method="L+1", output_eps=0.05, input_shape=shape, seed=0)
    path = tmp_path / "conv.ticket"
    ticket.save(path)
    loaded = Ticket.load(path)
    assert loaded.target.ops == ticket.target.ops
    x = np.random.default_rng(4).uniform(-1, 1, (6, *shape))
    assert np.array_equal(loaded.forward(x), ticket.forward(x))


def test_grouped_conv_cross_group_weights_issue_no_problem():
    net, shape = make_target("dilation2 groups2")
    target = parse_target(net, input_shape=shape)
    w = target.weights[0].reshape(4, 2, 3, 3)
    assert not w[:2, 1].any() and not w[2:, 0].any()  # group 0 reads channel 0 only, group 1 channel 1
    ticket = construct_ticket(net, method="2L", input_shape=shape, seed=0, rho=12)
    assert ticket.metadata["problems"] <= sum(int(np.count_nonzero(w)) for w in target.weights) * 2 * 12 + 100


def test_batchnorm2d_is_folded_into_the_conv():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 1, 1)).double()
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.uniform_(-0.2, 0.2)
    net.eval()
    target = parse_target(net, input_shape=(2, 4, 4))
    assert target.folded == ("BatchNorm2d at position 1 into Conv2d at position 0",)
    x = np.random.default_rng(0).uniform(-1, 1, (5, 2, 4, 4))
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).reshape(5, -1).numpy()
    assert np.allclose(target.forward(x), ref, atol=1e-12)


def test_interval_bounds_hold_for_conv_targets():
    net, shape = make_target("k3 pad1", "tanh", scale=1.0)
    target = parse_target(net, input_shape=shape)
    x = np.random.default_rng(0).uniform(-1, 1, (2000, *shape))
    out = np.abs(target.forward(x)).reshape(2000, 2, -1).max(axis=(0, 2))
    assert np.all(out <= target.output_range() + 1e-12)


def test_conv_target_errors_name_the_problem():
    net, shape = make_target("k3 pad1")
    with pytest.raises(ValueError, match="input_shape"):
        parse_target(net)
    with pytest.raises(ValueError, match="module 0 .Conv2d. expects 2 input channels, got 3"):
        parse_target(net, input_shape=(3, 5, 5))
    averaged = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AvgPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1))
    with pytest.raises(ValueError, match="module 1 .AvgPool2d. averages before the activation"):
        parse_target(averaged, input_shape=(1, 6, 6))
    last = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 1), nn.MaxPool2d(2))
    with pytest.raises(ValueError, match="module 3 .MaxPool2d. pools the last layer's output"):
        parse_target(last, input_shape=(1, 6, 6))
    after_linear = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.MaxPool2d(2), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="module 2 .MaxPool2d. does not follow an nn.Conv2d"):
        parse_target(after_linear)
    uneven = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(8, 1))
    with pytest.raises(ValueError, match="module 2 .AdaptiveAvgPool2d. maps"):
        parse_target(uneven, input_shape=(1, 6, 6))
    attention = nn.Sequential(nn.Conv2d(1, 2, 3), nn.LayerNorm([2, 4, 4]))
    with pytest.raises(ValueError, match="module 1 .LayerNorm. is not supported"):
        parse_target(attention, input_shape=(1, 6, 6))
    reflect = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(ValueError, match="padding_mode='zeros'"):
        parse_target(reflect, input_shape=(1, 4, 4))
    flat = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(5, 1))
    with pytest.raises(ValueError, match="module 3 .Linear. expects 5 input features"):
        parse_target(flat, input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="only a target with nn.Conv2d"):
        parse_target(nn.Sequential(nn.Linear(2, 1)), input_shape=(1, 2, 1))
    ticket = construct_ticket(net, method="2L", input_shape=shape, seed=0, rho=8)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 2, 5, 5\) or \(B, 50\)"):
        ticket.forward(np.zeros((3, 2, 4, 4)))


def test_pooling_travels_with_the_ticket():
    net, shape = make_target("avg pool, flatten")
    for method in ("L+1", "2L"):
        ticket = construct_ticket(net, method=method, output_eps=0.05, input_shape=shape, seed=0)
        module = ticket.to_module(compact=True)
        assert sum(isinstance(m, nn.AvgPool2d) for m in module) == 1
        x = np.random.default_rng(5).uniform(-1, 1, (6, *shape))
        with torch.no_grad():
            out = module(torch.from_numpy(x).float()).double().numpy()
        assert np.allclose(out, ticket.forward(x), atol=1e-4)
        assert ticket.layer_ops()[-1].in_size == (2, 2)
