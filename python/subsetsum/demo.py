"""``subsetsum demo``: the analogue of 001_d33223a708772bec.txt, Table 1, in seconds on a CPU.

Trains a small MLP and a small CNN (two convolutions with max pooling, a linear head) on
scikit-learn's bundled 8x8 digits (no download) with torch, builds L+1 and 2L tickets from random
sources with the default sizing (the CNN's tickets are convolutional), and prints for each: accuracy,
parameters (and per target parameter), density, largest parameter error, parameters above
tolerance (always 0 unless a warning says otherwise), the certified end-to-end bound, the
measured end-to-end error and the construction time.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")


def configure_parser(parser) -> None:
    """Options of ``subsetsum demo``; out-of-range values are argparse errors (exit status 2).

    >>> import argparse
    >>> p = argparse.ArgumentParser(); configure_parser(p)
    >>> p.parse_args([]).hidden
    32
    >>> p.parse_args(["--rho", "12"]).rho, p.parse_args(["--rho", "auto"]).rho
    (12, 'auto')
    """
    from .cli import float_in, int_at_least
    from .tickets.options import DEFAULT_DELTA

    parser.add_argument("--seed", type=int_at_least(0, 2**63 - 1), default=0,
                        help="seed for data split, training and sources (default 0)")
    parser.add_argument("--hidden", type=int_at_least(1), default=32,
                        help="hidden width of the 64-h-10 MLP (default 32)")
    parser.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="hidden activation (default relu)")
    parser.add_argument("--eps", type=float_in(0.0, math.inf, hi_open=True), default=0.01,
                        help="largest error per target parameter, > 0 (default 0.01)")
    parser.add_argument("--rho", type=_rho, default="auto",
                        help=f'base-set sizes: "auto" (default: sized for --delta) or one size for every problem, '
                             f'1 to {MAX_RHO}')
    parser.add_argument("--delta", type=float_in(0.0, 1.0, hi_open=True), default=DEFAULT_DELTA,
                        help="allowed probability that the first solve leaves work for the repair pass, in (0, 1) "
                             f"(default {DEFAULT_DELTA})")
    parser.add_argument("--output-eps", type=float_in(0.0, math.inf, hi_open=True), default=None,
                        help="also bound the end-to-end error on the digits' domain [-1, 1]^64")
    parser.add_argument("--steps", type=int_at_least(0), default=200, help="full-batch Adam steps (default 200)")
    parser.add_argument("--model", choices=("both", "mlp", "cnn"), default="both",
                        help="which targets: the 64-h-10 MLP, the CNN, or both (default)")
    parser.add_argument("--quick", action="store_true", help="16 hidden units, 100 steps")


# construct_ticket solves min_size problems of at most 64 elements, so a fixed rho is at most 64.
MAX_RHO = 64


def _rho(text: str):
    """``--rho``: "auto" or an int in [1, MAX_RHO].

    >>> _rho("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected "auto" or an int in [1, 64], got 0
    """
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected "auto" or an int in [1, {MAX_RHO}], got {text!r}') from None
    if not 1 <= value <= MAX_RHO:
        raise argparse.ArgumentTypeError(f'expected "auto" or an int in [1, {MAX_RHO}], got {value}')
    return value


def _mlp(args):
    from torch import nn

    from .tickets.activations import get_activation

    return nn.Sequential(nn.Linear(64, args.hidden), get_activation(args.activation).to_torch(),
                         nn.Linear(args.hidden, 10))


def _cnn(args):
    """1x8x8 -> conv 3x3 (6) -> max pool -> conv 3x3 (8) -> max pool -> linear (10): 828 weights."""
    from torch import nn

    from .tickets.activations import get_activation

    def act():
        return get_activation(args.activation).to_torch()

    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), act(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, padding=1), act(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 2 * 2, 10))


def _train(args, kind: str):
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    digits = load_digits()
    x = digits.data / 8.0 - 1.0  # pixel values 0..16 -> [-1, 1], the ticket's domain
    y = digits.target
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(y))
    split = int(0.8 * len(y))
    train, test = order[:split], order[split:]
    torch.manual_seed(args.seed)
    model = _mlp(args) if kind == "mlp" else _cnn(args)
    if kind == "cnn":
        x = x.reshape(-1, 1, 8, 8)
    xt = torch.tensor(x[train], dtype=torch.float32)
    yt = torch.tensor(y[train])
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _step in range(args.steps):  # full batch: 1437 images fit in one step
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model.eval(), x[test], y[test]


def main(args) -> int:
    """Run the demo; prints one table. Returns 0."""
    if args.quick:
        args.hidden, args.steps = 16, 100
    from .tickets import construct_ticket

    import torch

    kinds = ("mlp", "cnn") if args.model == "both" else (args.model,)
    for kind in kinds:
        start = time.perf_counter()
        model, x_test, y_test = _train(args, kind)
        with torch.no_grad():
            target_logits = model(torch.tensor(x_test, dtype=torch.float32)).numpy()
        target_acc = float((target_logits.argmax(1) == y_test).mean())
        n_target = sum(int((p != 0).sum()) for p in model.parameters())
        name = (f"MLP 64-{args.hidden}-10" if kind == "mlp" else
                "CNN 1x8x8 conv3x3(6) maxpool conv3x3(8) maxpool linear(10)")
        print(f"target {name} {args.activation}: accuracy {100 * target_acc:.2f}%, "
              f"{n_target} parameters, trained in {time.perf_counter() - start:.1f} s")
        print(f"{'method':6s} {'accuracy':>9s} {'parameters':>11s} {'x target':>9s} {'density':>8s} "
              f"{'max error':>10s} {'missed':>7s} {'bound':>8s} {'measured':>9s} {'time':>7s}")
        for method in ("L+1", "2L"):
            ticket = construct_ticket(model, method=method, eps=args.eps, rho=args.rho, delta=args.delta,
                                      output_eps=args.output_eps, seed=args.seed, progress=False,
                                      input_shape=(1, 8, 8) if kind == "cnn" else None)
            logits = ticket.forward(x_test)
            acc = float((logits.argmax(1) == y_test).mean())
            report = ticket.report(samples=1000, seed=args.seed)
            print(f"{method:6s} {100 * acc:8.2f}% {report.parameters:11d} {report.parameters / n_target:8.1f}x "
                  f"{report.density:8.4f} {max(report.max_errors):10.4f} {len(report.failed):7d} "
                  f"{report.certified_bound:8.3f} {report.sup_error:9.4f} {report.seconds:6.2f}s")
        print()
    print("bound: certified sup |target - ticket| over [-1, 1]^64; measured: over 1000 random inputs")
    return 0
