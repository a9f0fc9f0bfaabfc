"""Residual targets traced with torch.fx: joins of several layers (identity and 1x1-conv
shortcuts, batch norms folded, functional activations), L+1 and 2L tickets with source skip
layers whose measured error stays within the request, exported as a torch module, saved and
loaded; chains traced from a custom module build the ticket an nn.Sequential builds; clear errors
for what is not supported."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F
from subsetsum import construct_ticket
from subsetsum.tickets import Ticket
from subsetsum.tickets.graph import parse_target
from torch import nn

ACT = {"relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "tanh": torch.tanh, "sigmoid": torch.sigmoid}


class IdentityBlock(nn.Module):
    """stem, then a block with an identity shortcut (``+=``), flatten, linear head."""

    def __init__(self, act):
        super().__init__()
        self.stem = nn.Conv2d(2, 3, 3, padding=1)
        self.conv1 = nn.Conv2d(3, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1)
        self.head = nn.Linear(3 * 4 * 4, 2)
        self.act = ACT[act]

    def forward(self, x):
        x = self.act(self.stem(x))
        h = self.act(self.conv1(x))
        out = self.conv2(h)
        out += x
        return self.head(torch.flatten(self.act(out), 1))


class ProjectionBlock(nn.Module):
    """stem, then a downsampling block with a strided 1x1-conv + BN shortcut, global average."""

    def __init__(self, act):
        super().__init__()
        self.stem = nn.Conv2d(2, 2, 3, padding=1)
        self.conv1 = nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(3)
        self.shortcut = nn.Sequential(nn.Conv2d(2, 3, 1, stride=2, bias=False), nn.BatchNorm2d(3))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 2)
        self.act = ACT[act]

    def forward(self, x):
        x = self.act(self.stem(x))
        h = self.act(self.bn1(self.conv1(x)))
        out = self.act(torch.add(self.bn2(self.conv2(h)), self.shortcut(x)))
        return self.fc(self.pool(out).view(out.size(0), -1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.act = act

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return self.act(out)


class TinyResNet(nn.Module):
    """A CIFAR-style ResNet in miniature: stem, two stages of one BasicBlock (the second
    downsamples through a 1x1-conv shortcut), F.adaptive_avg_pool2d, view, Linear."""

    def __init__(self, act):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 2, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(2)
        self.layers = nn.Sequential(BasicBlock(2, 2, 1, ACT[act]), BasicBlock(2, 3, 2, ACT[act]))
        self.linear = nn.Linear(3, 2)
        self.act = ACT[act]

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.adaptive_avg_pool2d(out, 1)
        return self.linear(out.view(out.size(0), -1))


TARGETS = {"identity": (IdentityBlock, (2, 4, 4)), "projection": (ProjectionBlock, (2, 6, 6)),
           "resnet": (TinyResNet, (2, 4, 4))}


def make_target(name, act, scale=1.0, seed=0):
    """Random weights of std ``scale / sqrt(fan_in)`` (so outputs stay moderate through the
    depth), batch norms with running statistics near the identity; float64, eval mode."""
    cls, shape = TARGETS[name]
    g = torch.Generator().manual_seed(seed)
    net = cls(act).double()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * scale / m.weight[0].numel() ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return net.eval(), shape


def inputs(shape, n=200, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape))


def torch_outputs(net, x):
    with torch.no_grad():
        return net(torch.from_numpy(x)).reshape(x.shape[0], -1).numpy()


@pytest.mark.parametrize("act", list(ACT))
@pytest.mark.parametrize("name", list(TARGETS))
def test_parsed_residual_target_computes_the_module(name, act):
    net, shape = make_target(name, act)
    target = parse_target(net, input_shape=shape)
    assert target.residual
    x = inputs(shape, 20)
    assert np.allclose(target.forward(x), torch_outputs(net, x), atol=1e-12)
    # interval bounds hold for every layer's output (checked on the network's outputs)
    assert np.abs(torch_outputs(net, x)).max(axis=0).max() <= target.output_range().max() + 1e-9


@pytest.mark.parametrize("act", list(ACT))
@pytest.mark.parametrize("name", list(TARGETS))
def test_2L_residual_ticket_meets_output_eps(name, act):
    net, shape = make_target(name, act)
    ticket = construct_ticket(net, method="2L", input_shape=shape, output_eps=0.1, seed=0)
    assert ticket.failed == []
    assert ticket.metadata["skips"]
    x = inputs(shape)
    measured = float(np.abs(ticket.forward(x) - torch_outputs(net, x)).max())
    assert measured <= ticket.error_bound() + 1e-9
    assert ticket.error_bound() <= 0.1


@pytest.mark.parametrize("act", list(ACT))
@pytest.mark.parametrize("name", list(TARGETS))
def test_L_plus_1_residual_ticket_keeps_every_tolerance(name, act):
    net, shape = make_target(name, act)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing above tolerance, nothing degenerate
        ticket = construct_ticket(net, method="L+1", input_shape=shape, seed=0)
    assert ticket.failed == [] and ticket.max_errors() <= 0.01
    x = inputs(shape)
    assert ticket.verify(x) <= ticket.error_bound()


@pytest.mark.parametrize("name, act", [("resnet", "sigmoid"), ("projection", "leaky_relu")])
def test_L_plus_1_residual_ticket_meets_output_eps(name, act):
    net, shape = make_target(name, act, scale=0.5)
    ticket = construct_ticket(net, method="L+1", input_shape=shape, output_eps=0.2, seed=1)
    assert ticket.failed == []
    x = inputs(shape)
    assert float(np.abs(ticket.forward(x) - torch_outputs(net, x)).max()) <= ticket.error_bound() <= 0.2


@pytest.mark.parametrize("method", ["L+1", "2L"])
def test_residual_ticket_to_module_save_and_load(method, tmp_path):
    net, shape = make_target("resnet", "relu")
    ticket = construct_ticket(net, method=method, input_shape=shape, seed=0)
    x = inputs(shape, 50)
    expected = ticket.forward(x)
    for compact in (False, True):
        for baked in (False, True):
            module = ticket.to_module(compact=compact, baked=baked)
            convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
            assert len(convs) == len(ticket.shapes) - 1  # every weight matrix but the Linear head
            assert all(hasattr(m, "weight_mask") != baked for m in convs)
            with torch.no_grad():
                got = module(torch.from_numpy(x).float()).reshape(50, -1).double().numpy()
            assert np.abs(got - expected).max() <= 1e-4 * max(1.0, np.abs(expected).max())
    full, small = ticket.to_module(), ticket.to_module(compact=True)
    assert sum(m.weight.numel() for m in small.modules() if isinstance(m, nn.Conv2d)) < \
        sum(m.weight.numel() for m in full.modules() if isinstance(m, nn.Conv2d))
    path = tmp_path / "resnet.safetensors"
    ticket.save(path)
    loaded = Ticket.load(path)
    assert loaded.metadata["skips"] == ticket.metadata["skips"]
    assert all((a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(ticket.edges, loaded.edges))
    assert np.array_equal(loaded.forward(x), expected)
    assert loaded.target.skips == ticket.target.skips


def test_residual_report_counts_skip_layers():
    net, shape = make_target("identity", "relu")
    ticket = construct_ticket(net, method="2L", input_shape=shape, seed=0)
    report = ticket.report(samples=50)
    assert len(report.layers) == len(ticket.shapes) == ticket.depth + len(ticket.skips)
    assert report.parameters == ticket.parameters
    assert report.holds()["tolerances"] and report.holds()["certified_bound"]


class _Chain(nn.Module):
    """The layers of an nn.Sequential called one after the other, with functional activations."""

    def __init__(self, seq):
        super().__init__()
        self.seq = seq

    def forward(self, x):
        for m in self.seq:
            x = F.relu(x) if isinstance(m, nn.ReLU) else m(x)
        return x


def _chains():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    mlp[3].running_mean.uniform_(-0.2, 0.2)
    conv = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 2 * 2, 2))
    return [(mlp.double().eval(), None), (conv.double().eval(), (2, 4, 4))]


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("index", [0, 1])
def test_traced_chain_builds_the_sequential_ticket(index, method):
    seq, shape = _chains()[index]
    options = {"output_eps": 0.1} if shape is None else {"eps": 0.02}
    a = construct_ticket(seq, method=method, input_shape=shape, seed=3, **options)
    b = construct_ticket(_Chain(seq), method=method, input_shape=shape, seed=3, **options)
    assert not b.target.residual and b.target.ops == a.target.ops
    assert all(np.array_equal(u, v) for u, v in zip(a.target.weights, b.target.weights))
    assert a.shapes == b.shapes and a.scales == b.scales
    assert all(np.array_equal(u[0], v[0]) and np.array_equal(u[1], v[1]) for u, v in zip(a.edges, b.edges))
    assert np.array_equal(a.output_bounds, b.output_bounds)
    # a Sequential holding a user-defined block goes through the tracer too
    wrapped = nn.Sequential(_Chain(seq))
    assert parse_target(wrapped, input_shape=shape).depth == a.target.depth


class _Unsupported(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.how = how
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
        self.norm = nn.LayerNorm([2, 4, 4])
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(2 * 4 * 4, 2)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        if self.how == "layernorm":
            return self.fc(torch.flatten(self.norm(h), 1))
        if self.how == "product":
            return self.fc(torch.flatten(torch.relu(self.conv2(h)) * h, 1))
        if self.how == "cat":
            return torch.cat([h, h], 1)
        if self.how == "option A":
            return torch.relu(self.conv2(h) + F.pad(h[:, :, ::2, ::2], (0, 0, 0, 0, 1, 1)))
        if self.how == "avg before activation":
            return self.fc(torch.flatten(F.interpolate(torch.relu(self.pool(self.conv2(h))), scale_factor=2), 1))
        if self.how == "two linear":
            return self.conv2(self.conv(x))
        if self.how == "branches":
            a, b = torch.relu(self.conv(x)), torch.relu(self.conv2(x))
            return self.fc(torch.flatten(torch.relu(self.conv2(a) + self.conv2(b)), 1))
        return x


@pytest.mark.parametrize("how, message", [
    ("layernorm", r"module norm \(LayerNorm\) at op norm is not supported"),
    ("product", r"op mul \(mul\) multiplies two values computed from the input"),
    ("cat", r"op cat \(cat\) concatenation is not supported"),
    ("option A", r"op getitem \(getitem\) indexes or slices a tensor.*option A"),
    ("avg before activation", r"module pool \(AvgPool2d\) at op pool pools before the activation"),
    ("two linear", r"module conv2 \(Conv2d\) at op conv2 reads a value before its activation"),
    ("branches", r"op relu_1 \(relu\) makes layer 1, which reads layer\(s\) \[-1\] but not layer 0.*not parallel"),
])
def test_unsupported_operations_are_named(how, message):
    with pytest.raises(ValueError, match=message):
        parse_target(_Unsupported(how).eval(), input_shape=(2, 4, 4))


def test_construction_specific_refusals():
    class FromInput(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)

        def forward(self, x):
            return self.b(torch.tanh(self.a(x))) + x

    target = FromInput()
    with pytest.raises(ValueError, match="layer 1 adds the network input.*method='2L'"):
        construct_ticket(target, method="L+1")
    ticket = construct_ticket(target, method="2L", seed=0)  # 2L reads the input's univariate block
    x = np.random.default_rng(0).uniform(-1, 1, (100, 3))
    with torch.no_grad():
        ref = target.double()(torch.from_numpy(x)).numpy()
    assert ticket.failed == [] and np.abs(ticket.forward(x) - ref).max() <= ticket.error_bound()
    with pytest.raises(ValueError, match="residual target is built on a generated source"):
        construct_ticket(target, method="2L", source=[np.ones((4, 4))] * 4)
    net, _shape = make_target("identity", "relu")
    with pytest.raises(ValueError, match="input_shape"):
        parse_target(net)


def test_per_channel_scaling_and_batchnorm_on_a_signal():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.conv2 = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(3, 3, 1)
            self.w = nn.Parameter(torch.tensor([0.5, -1.0, 2.0]).reshape(3, 1, 1))
            self.bn = nn.BatchNorm2d(3)

        def forward(self, x):
            h = torch.tanh(self.conv(x))
            return torch.tanh(self.conv2(h) + h * self.w + self.bn(h))

    net = Scaled().double().eval()
    with torch.no_grad():
        net.bn.running_mean.fill_(0.1)
    target = parse_target(net, input_shape=(2, 3, 3))
    # conv2(h), h * w and bn(h) read h alike (1x1): merged into one part, conv2's weight plus two diagonals
    assert len(target.parts(1)) == 1 and not target.residual
    x = inputs((2, 3, 3), 10)
    assert np.allclose(target.forward(x), torch_outputs(net, x), atol=1e-12)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_state_dict_into_a_traced_skeleton_builds_the_same_ticket(name):
    net, shape = make_target(name, "relu")
    skeleton = TARGETS[name][0]("relu").double().eval()  # fresh weights, replaced by the state dict
    direct = construct_ticket(net, method="2L", input_shape=shape, seed=0)
    loaded = construct_ticket(skeleton, method="2L", input_shape=shape, seed=0, state_dict=net.state_dict())
    assert len(direct.edges) == len(loaded.edges)
    for (ra, ca), (rb, cb) in zip(direct.edges, loaded.edges):
        assert np.array_equal(ra, rb) and np.array_equal(ca, cb)
