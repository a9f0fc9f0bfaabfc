"""Targets beyond plain dense layers: pruned (sparse) targets read with their masks, whose zero
weights issue no subset-sum problem; weights from a state dict for a skeleton; BatchNorm1d folded
into the Linear before it. Each measured end to end against the torch module itself."""

import copy
import itertools
import json
import warnings

import numpy as np
import pytest

from subsetsum import Ticket, TicketWarning, construct_ticket
from subsetsum.tickets.graph import parse_target

torch = pytest.importorskip("torch")
prune = pytest.importorskip("torch.nn.utils.prune")
nn = torch.nn

OUTPUT_EPS = 0.05


def _mlp(widths, activation="ReLU", seed=0, std=0.6, batchnorm=False):
    """Linear layers with weights and biases N(0, std); optionally a BatchNorm1d (eval mode,
    random running statistics and affine parameters) after every hidden Linear."""
    torch.manual_seed(seed)
    mods = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.normal_(0.0, std)
            lin.bias.normal_(0.0, std)
        mods.append(lin)
        if i < len(widths) - 2:
            if batchnorm:
                mods.append(_batchnorm(b))
            mods.append(getattr(nn, activation)())
    return nn.Sequential(*mods)


def _batchnorm(n, affine=True):
    bn = nn.BatchNorm1d(n, affine=affine)
    with torch.no_grad():
        bn.running_mean.normal_(0.0, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        if affine:
            bn.weight.normal_(1.0, 0.3)
            bn.bias.normal_(0.0, 0.3)
    return bn.eval()


def _pruned(widths, amount, activation="ReLU", seed=0):
    net = _mlp(widths, activation, seed)
    for m in net:
        if isinstance(m, nn.Linear):
            prune.l1_unstructured(m, "weight", amount=amount)
    return net


def _inputs(n, d, seed=1):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, d))


def _torch_outputs(net, x):
    """The torch module's own outputs in float64, its parameters and buffers passed in as float64
    copies (the caller's module is left as it is; a pruned module recomputes its weight from them)."""
    from torch.func import functional_call

    tensors = {name: t.detach().double() if t.is_floating_point() else t
               for name, t in list(net.named_parameters()) + list(net.named_buffers())}
    with torch.no_grad():
        return functional_call(net, tensors, (torch.from_numpy(x),)).numpy()


def _first_solve_problems(ticket):
    """Problems a build without repair issues if zero targets issue none, from what the ticket
    reports:
    per combine layer s (target layer t), each of its copies solves one problem per nonzero
    weight (and sign, after a sign-split block) and one per nonzero bias (when it has constants)."""
    meta, target = ticket.metadata, ticket.target
    total = 0
    for s, (kind, t) in enumerate(meta["roles"]):
        if kind != "combine":
            continue
        per = 2 if meta["roles"][s - 1][0] == "block" and target.activation.needs_sign_split else 1
        biases = np.count_nonzero(target.biases[t]) if meta["constant_neurons"][s - 1] else 0
        total += meta["group_sizes"][s] * (per * np.count_nonzero(target.weights[t]) + biases)
    return int(total)


# ------------------------------------------------------------------ pruned targets


@pytest.mark.parametrize("method", ["L+1", "2L"])
@pytest.mark.parametrize("activation,amount", [("ReLU", 0.5), ("Tanh", 0.7), ("LeakyReLU", 0.9)])
def test_pruned_targets_meet_output_eps_against_the_torch_module(method, activation, amount):
    net = _pruned([6, 9, 4], amount, activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TicketWarning)
        ticket = construct_ticket(net, method=method, output_eps=OUTPUT_EPS, seed=2)
    assert ticket.failed == []
    x = _inputs(4000, 6)
    measured = float(np.abs(ticket.forward(x) - _torch_outputs(net, x)).max())
    assert measured <= ticket.error_bound() <= OUTPUT_EPS
    assert ticket.verify(x) == pytest.approx(measured, abs=1e-9)  # the parsed target is the masked module
    report = ticket.report(samples=500)
    assert report.holds() == {"tolerances": True, "certified_bound": True, "output_eps": True}


def test_the_mask_is_read_not_the_hooked_weight():
    net = _pruned([6, 9, 4], 0.6)
    lin = net[0]
    with torch.no_grad():
        lin.weight_orig.mul_(2.0)  # the forward pre-hook has not run since: lin.weight is stale
    expected = (lin.weight_orig * lin.weight_mask).detach().double().numpy()
    assert not np.allclose(lin.weight.detach().double().numpy(), expected)
    target = parse_target(net)
    assert (target.weights[0] == expected).all()
    assert np.count_nonzero(target.weights[0]) == int(lin.weight_mask.sum())
    # a pruned bias is read with its mask too
    prune.custom_from_mask(net[2], "bias", torch.tensor([1.0, 0.0, 1.0, 0.0]))
    assert parse_target(net).biases[1][[1, 3]].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("method,activation", [("L+1", "ReLU"), ("2L", "ReLU"), ("2L", "Tanh")])
def test_zero_weights_issue_no_problem_and_are_exact(method, activation):
    net = _pruned([6, 9, 4], 0.7, activation)
    dense = _mlp([6, 9, 4], activation)  # the same weights before pruning
    with warnings.catch_warnings():  # without repair a miss warns; the count is what matters here
        warnings.simplefilter("ignore", TicketWarning)
        tickets = [construct_ticket(n, method=method, rho=12, repair=False, seed=1) for n in (net, dense)]
    for ticket in tickets:
        assert ticket.metadata["problems"] == _first_solve_problems(ticket)
    pruned, full = tickets
    assert pruned.metadata["group_sizes"] == full.metadata["group_sizes"]  # rho fixes every size
    masks = [m.weight_mask.numpy() for m in net if isinstance(m, nn.Linear)]
    zeros = sum(int((mask == 0).sum()) for mask in masks)
    assert zeros > 0 and pruned.metadata["problems"] < full.metadata["problems"]
    for t, mask in enumerate(masks):
        assert (pruned.target.weights[t][mask == 0] == 0).all()
        assert (pruned.errors[t][:, :-1][mask == 0] == 0).all()  # exact, with nothing kept for them


def test_plain_zero_weights_and_biases_issue_no_problem():
    rng = np.random.default_rng(3)
    w0, b0 = rng.normal(0, 0.6, (7, 5)), rng.normal(0, 0.6, 7)
    w1, b1 = rng.normal(0, 0.6, (3, 7)), rng.normal(0, 0.6, 3)
    w0[rng.uniform(size=w0.shape) < 0.6] = 0.0
    w1[:, 2] = 0.0
    b0[[1, 4]] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TicketWarning)
        ticket = construct_ticket([(w0, b0), (w1, b1)], method="2L", rho=10, repair=False, seed=0)
    assert ticket.metadata["problems"] == _first_solve_problems(ticket)
    assert (ticket.errors[0][:, :-1][w0 == 0] == 0).all() and (ticket.errors[0][[1, 4], -1] == 0).all()


def test_fixed_size_tickets_keep_nothing_for_zero_weights():
    net = _pruned([6, 9, 4], 0.7, "Tanh")
    k = 3
    ticket = construct_ticket(net, method="2L", subset_size=k, seed=0)
    assert ticket.failed == []
    assert ticket.parameters == ticket.size_formula()
    meta = ticket.metadata
    for s, (kind, t) in enumerate(meta["roles"]):
        if kind != "combine":
            continue
        copies = meta["group_sizes"][s]  # tanh: no sign split, no looks-linear pairs
        assert meta["subset_edges"][s] == k * copies * (np.count_nonzero(ticket.target.weights[t])
                                                        + np.count_nonzero(ticket.target.biases[t]))


def test_report_states_the_nonzero_target_size():
    net = _pruned([6, 9, 4], 0.8)
    ticket = construct_ticket(net, method="2L", seed=0)
    lins = [m for m in net if isinstance(m, nn.Linear)]
    nonzero = sum(int(m.weight_mask.sum()) + int((m.bias != 0).sum()) for m in lins)
    total = 6 * 9 + 9 + 9 * 4 + 4
    report = ticket.report(samples=100)
    assert report.target_parameters == nonzero == ticket.target.num_parameters
    assert report.target_total_parameters == total == ticket.target.total_parameters
    assert report.target_ratio == pytest.approx(ticket.parameters / nonzero)
    assert f"{report.target_ratio:.1f}x the target's {nonzero} nonzero parameters (of {total}" in str(report)


# ------------------------------------------------------------------ state dict + skeleton


def _skeleton(batchnorm=False):
    mods = [nn.Linear(6, 9)] + ([nn.BatchNorm1d(9)] if batchnorm else []) + [nn.ReLU(), nn.Linear(9, 4)]
    return nn.Sequential(*mods).eval()


def _same_target(a, b):
    return (all((x == y).all() for x, y in zip(a.weights, b.weights))
            and all((x == y).all() for x, y in zip(a.biases, b.biases)) and a.folded == b.folded)


@pytest.mark.parametrize("pruned", [False, True])
def test_state_dict_fills_a_skeleton(pruned):
    net = _pruned([6, 9, 4], 0.7) if pruned else _mlp([6, 9, 4])
    state = net.state_dict()
    assert ("0.weight_mask" in state) == pruned
    skeleton = _skeleton()
    before = copy.deepcopy(skeleton.state_dict())
    target = parse_target(skeleton, state_dict=state)
    assert _same_target(target, parse_target(net))
    assert all(torch.equal(before[k], v) for k, v in skeleton.state_dict().items())  # not modified
    # numpy arrays do as well as tensors
    as_arrays = {k: v.numpy() for k, v in state.items()}
    assert _same_target(parse_target(skeleton, state_dict=as_arrays), target)
    ticket = construct_ticket(skeleton, state_dict=state, output_eps=OUTPUT_EPS, seed=0)
    x = _inputs(2000, 6)
    assert np.abs(ticket.forward(x) - _torch_outputs(net, x)).max() <= ticket.error_bound() <= OUTPUT_EPS


def test_state_dict_errors_name_the_key_and_the_shape():
    state = _pruned([6, 9, 4], 0.5).state_dict()
    skeleton = _skeleton()
    cases = [
        ({k: v for k, v in state.items() if k != "2.bias"}, r"missing key '2\.bias' \(expected shape \(4,\)\)"),
        ({k: v for k, v in state.items() if k != "0.weight_mask"},
         r"missing key '0\.weight_mask' \(expected shape \(9, 6\)\)"),
        ({**state, "3.weight": torch.zeros(2)}, r"unexpected key '3\.weight'"),
        ({**state, "0.weight": state["0.weight_orig"]}, r"unexpected key '0\.weight'"),  # plain and pruned
        ({**state, "2.weight_orig": torch.zeros(4, 8)},
         (r"state_dict\['2\.weight_orig'\]: expected shape \(4, 9\) \(the weight_orig of the skeleton's Linear at "
          r"position 2\), got \(4, 8\)")),
        ({**state, "2.bias": torch.zeros(5)}, r"state_dict\['2\.bias'\]: expected shape \(4,\)"),
        ({**state, "0.weight_mask": state["0.weight_mask"] * 0.5}, r"0\.weight_mask.*0/1"),
    ]
    for bad, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            parse_target(skeleton, state_dict=bad)
    with pytest.raises(ValueError, match=r"missing keys '0\.weight' .*'2\.bias'.*unexpected key 'module\.0\.weight'"):
        parse_target(skeleton, state_dict={"module." + k if k == "0.weight" else k: v
                                           for k, v in _mlp([6, 9, 4]).state_dict().items() if k != "2.bias"})
    with pytest.raises(TypeError, match="state_dict: expected a mapping"):
        parse_target(skeleton, state_dict=list(state.values()))
    with pytest.raises(TypeError, match="state_dict: only a torch nn.Sequential skeleton"):
        construct_ticket([(np.ones((2, 3)), None)], state_dict={})


# ------------------------------------------------------------------ BatchNorm1d folding


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_folding_is_exact(affine):
    net = _mlp([6, 9, 7, 4], "Tanh", seed=4)
    net = nn.Sequential(net[0], _batchnorm(9, affine), net[1], net[2], _batchnorm(7, affine), net[3], net[4]).eval()
    target = parse_target(net)
    assert target.widths == [6, 9, 7, 4]
    assert target.folded == ("BatchNorm1d at position 1 into Linear at position 0",
                             "BatchNorm1d at position 4 into Linear at position 3")
    x = _inputs(2000, 6)
    assert np.abs(target.forward(x) - _torch_outputs(net, x)).max() <= 1e-12
    # from a state dict, batch norm entries included
    skeleton = nn.Sequential(nn.Linear(6, 9), nn.BatchNorm1d(9, affine=affine), nn.Tanh(), nn.Linear(9, 7),
                             nn.BatchNorm1d(7, affine=affine), nn.Tanh(), nn.Linear(7, 4)).eval()
    assert _same_target(parse_target(skeleton, state_dict=net.state_dict()), target)
    state = {k: v for k, v in net.state_dict().items() if k != "4.running_var"}
    with pytest.raises(ValueError, match=r"missing key '4\.running_var' \(expected shape \(7,\)\)"):
        parse_target(skeleton, state_dict=state)


def test_batchnorm_ticket_meets_output_eps_and_reports_the_fold(tmp_path):
    net = _mlp([6, 9, 4], "ReLU", seed=5, batchnorm=True)
    prune.l1_unstructured(net[0], "weight", amount=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TicketWarning)
        ticket = construct_ticket(net, method="2L", output_eps=OUTPUT_EPS, seed=0)
    x = _inputs(4000, 6)
    assert np.abs(ticket.forward(x) - _torch_outputs(net, x)).max() <= ticket.error_bound() <= OUTPUT_EPS
    note = "folded: BatchNorm1d at position 1 into Linear at position 0"
    assert note in str(ticket.report(samples=100)).splitlines()
    assert note not in str(construct_ticket(_mlp([6, 9, 4]), seed=0).report(samples=100))
    # save/load keeps it; a file written without the field (before folding existed) still loads
    path = tmp_path / "ticket.safetensors"
    ticket.save(path)
    loaded = Ticket.load(path)
    assert loaded.target.folded == ticket.target.folded and note in str(loaded.report(samples=100))
    from safetensors import safe_open
    from safetensors.numpy import save_file
    from subsetsum.tickets.ticket import _checksums

    with safe_open(str(path), framework="numpy") as f:
        header = json.loads(f.metadata()["subsetsum"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (a safetensors file, not a dict)
    del header["target"]["folded"]
    header["checksums"] = _checksums(header, tensors)
    older = tmp_path / "older.safetensors"
    save_file(tensors, str(older), metadata={"subsetsum": json.dumps(header)})
    assert Ticket.load(older).target.folded == ()


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"module 1 \(BatchNorm1d\) is in training mode.*call target\.eval\(\)"
                                         r".*running statistics"):
        parse_target(nn.Sequential(nn.Linear(6, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Linear(9, 4)))
    no_stats = nn.Sequential(nn.Linear(6, 9), nn.BatchNorm1d(9, track_running_stats=False), nn.ReLU(),
                             nn.Linear(9, 4)).eval()
    with pytest.raises(ValueError, match=r"module 1 \(BatchNorm1d\) keeps no running statistics.*\.eval\(\)"):
        parse_target(no_stats)
    with pytest.raises(ValueError, match=r"module 0 \(BatchNorm1d\) is the first module.*right after"):
        parse_target(nn.Sequential(_batchnorm(6), nn.Linear(6, 9), nn.ReLU(), nn.Linear(9, 4)).eval())
    with pytest.raises(ValueError, match=r"module 2 \(BatchNorm1d\) follows module 1 \(ReLU\).*right after"):
        construct_ticket(nn.Sequential(nn.Linear(6, 9), nn.ReLU(), _batchnorm(9), nn.Linear(9, 4)).eval())
    with pytest.raises(ValueError, match=r"module 1 \(BatchNorm1d\) has 5 features; expected 9"):
        parse_target(nn.Sequential(nn.Linear(6, 9), _batchnorm(5), nn.ReLU(), nn.Linear(9, 4)).eval())


def test_progress_counts_the_problems_solved():
    net = _pruned_target_for_progress()
    seen = []
    ticket = construct_ticket(net, progress=lambda done, total: seen.append((done, total)), seed=0)
    assert seen[-1][0] == seen[-1][1] == ticket.metadata["problems"]
    assert all(d <= t for d, t in seen)


def _pruned_target_for_progress():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 9), nn.ReLU(), nn.Linear(9, 4))
    prune.l1_unstructured(net[0], "weight", amount=0.8)
    prune.l1_unstructured(net[2], "weight", amount=0.5)
    return net


def _deep_conv_chain(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(3, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)).double()


def test_deep_targets_keep_their_bias_constants_within_reach():
    # Constants carry biases from the source's first layer onwards and shrink by about a layer's
    # weight scale per edge: with small tolerances (output_eps) the head's bias elements ran out
    # of reach after a few layers, and repair could not help; constants that sum a few previous
    # constants keep their size.
    net = _deep_conv_chain()
    x = np.random.default_rng(0).uniform(-1, 1, (200, 2, 4, 4))
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    summed = 0
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error", TicketWarning)
            ticket = construct_ticket(net, method="2L", input_shape=(2, 4, 4), output_eps=0.1, seed=seed)
        assert ticket.failed == []
        assert np.abs(ticket.forward(x) - expected).max() <= ticket.error_bound() <= 0.1
        summed += sum(ticket.metadata["constant_extra_edges"])
    assert summed > 0, "no constant summed several edges: the test no longer exercises them"
