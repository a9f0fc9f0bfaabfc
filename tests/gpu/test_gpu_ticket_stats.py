"""Tickets and statistics computed on the GPU equal their CPU counterparts exactly: the problems
are the same (drawn on the host, or with Philox on either device) and the two backends choose
identical subsets."""

from __future__ import annotations

import numpy as np
import pytest

import subsetsum
from subsetsum import construct_ticket, stats
from subsetsum.stats import Scenario

pytestmark = pytest.mark.gpu

torch = pytest.importorskip("torch")


def _target(widths, seed=0):
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        linear = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.uniform_(-1, 1, generator=generator)
            linear.bias.uniform_(-1, 1, generator=generator)
        layers.append(linear)
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize(
    "options",
    [
        {"method": "L+1"},
        {"method": "2L"},
        {"method": "L+1", "density": 0.5, "density_scheme": "erk"},
        {"method": "2L", "subset_size": 3, "rho": 16},
    ],
    ids=["L+1", "2L", "L+1-ER", "2L-fixed-size"],
)
def test_ticket_on_gpu_equals_ticket_on_cpu(options):
    net = _target([12, 20, 10, 4])
    on_cpu = construct_ticket(net, seed=5, progress=False, **options)
    on_gpu = construct_ticket(net, seed=5, device="cuda", progress=False, **options)
    assert on_gpu.shapes == on_cpu.shapes
    for layer, (gpu_edges, cpu_edges) in enumerate(zip(on_gpu.edges, on_cpu.edges)):
        assert all(np.array_equal(a, b) for a, b in zip(gpu_edges, cpu_edges)), f"layer {layer}: edges differ"
    for gpu_err, cpu_err in zip(on_gpu.errors, on_cpu.errors):
        np.testing.assert_array_equal(gpu_err, cpu_err)
    assert on_gpu.failed == on_cpu.failed


@pytest.mark.parametrize("how", [{}, {"compact": True}, {"sparse": True}, {"baked": True}], ids=str)
def test_ticket_modules_are_made_on_the_build_device(how):
    net = _target([6, 9, 3])
    ticket = construct_ticket(net, seed=2, device="cuda", progress=False)
    assert ticket.device == "cuda"
    on_gpu = ticket.to_module(**how)
    on_cpu = ticket.to_module(device="cpu", **how)
    gpu_state, cpu_state = on_gpu.state_dict(), on_cpu.state_dict()
    assert gpu_state.keys() == cpu_state.keys()
    for name, tensor in gpu_state.items():
        assert tensor.device.type == "cuda", name
        a, b = tensor.cpu(), cpu_state[name]
        if a.is_sparse:
            a, b = a.to_dense(), b.to_dense()
        assert torch.equal(a, b), name
    x = torch.rand(50, 6, device="cuda") * 2 - 1
    with torch.no_grad():
        y = on_gpu(x)
    np.testing.assert_allclose(y.double().cpu().numpy(), ticket.forward(x.double().cpu().numpy()), atol=1e-4)


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(n=15, eps=0.01, mode="min_size", max_size=10),
        Scenario(n=20, eps=0.01, mode="min_size", base="product"),
        Scenario(n=20, eps=0.01, mode="min_size", density=0.5),
        Scenario(n=40, eps=0.01, mode="fixed_size", k=6),
        Scenario(n=16, eps=0.001, mode="best"),
        Scenario(n=12, eps=0.01, mode="min_size", base="normal", density=0.8),
    ],
    ids=["min_size", "product", "er", "rfss", "best", "normal-host-drawn"],
)
def test_stats_on_gpu_equal_stats_on_cpu(scenario):
    on_cpu = stats.estimate(scenario, 200_000, seed=11, device="cpu")
    on_gpu = stats.estimate(scenario, 200_000, seed=11, device="cuda")
    assert on_gpu.successes == on_cpu.successes
    np.testing.assert_array_equal(on_gpu.error_counts, on_cpu.error_counts)
    np.testing.assert_array_equal(on_gpu.size_counts, on_cpu.size_counts)


def test_cuda_device_is_reported():
    assert subsetsum.cuda_available()


@pytest.mark.parametrize("base", ["uniform", "product"])
def test_philox_problems_on_gpu_equal_those_on_cpu(base):
    scenario = Scenario(n=15, eps=0.01, base=base, density=0.7, target_range=1.5)
    for first, count in [(0, 100_000), (123_457, 3)]:
        cpu = stats.draw_philox_problems(scenario, 2**64 - 3, first, count)
        gpu = stats.draw_philox_problems(scenario, 2**64 - 3, first, count, device="cuda")
        for a, b in zip(cpu, gpu):
            assert b.device.type == "cuda"
            np.testing.assert_array_equal(a, b.cpu().numpy())
