"""``subsetsum ticket``: build a ticket for a target saved with ``torch.save`` and save it.

    subsetsum ticket target.pt --method L+1 --eps 0.01 --out target.ticket
    subsetsum ticket cnn.pt --input-shape 1 28 28 --output-eps 0.1 --executor ray --out cnn.ticket

The target file holds a whole module (``torch.save(model, path)``: an ``nn.Sequential`` of the
layers :func:`subsetsum.construct_ticket` reads), loaded with ``torch.load(weights_only=False)``,
which runs the file's pickled code: load only files you trust. The command shows progress (problems
solved, rate, time left) for long builds, stops on Ctrl-C, writes the ticket with
:meth:`~subsetsum.tickets.Ticket.save` and prints its report.

Every finished shard of the first solve is kept in a checkpoint folder (``OUT.partial`` unless
``--checkpoint`` names another; :class:`~subsetsum.tickets.executor.CheckpointExecutor`): the
same command started again after an interruption reads them back and solves only the rest, and
the ticket is the one an uninterrupted run builds. The folder is removed once the ticket is
saved; a folder left by a different target or different options is refused.
"""

from __future__ import annotations

import math
from pathlib import Path


def configure_parser(parser) -> None:
    """Options of ``subsetsum ticket``; out-of-range values are argparse errors (exit status 2).

    >>> import argparse
    >>> p = argparse.ArgumentParser(); configure_parser(p)
    >>> a = p.parse_args(["t.pt", "--out", "t.ticket", "--input-shape", "1", "8", "8"])
    >>> a.method, a.eps, a.input_shape, a.rho
    ('L+1', 0.01, [1, 8, 8], 'auto')
    """
    from .cli import float_in, int_at_least
    from .tickets.options import DEFAULT_DELTA
    from .demo import _rho

    parser.add_argument("target", type=Path, help="a module saved with torch.save(model, path)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the ticket (Ticket.load reads it)")
    parser.add_argument("--method", choices=("L+1", "2L"), default="L+1", help="construction (default L+1)")
    parser.add_argument("--eps", type=float_in(0.0, math.inf), default=0.01,
                        help="largest error per target parameter, > 0 (default 0.01)")
    parser.add_argument("--output-eps", type=float_in(0.0, math.inf), default=None,
                        help="also bound the end-to-end error over [-M, M]^d")
    parser.add_argument("--input-bound", type=float_in(0.0, math.inf), default=1.0,
                        help="M: the inputs' domain is [-M, M]^d (default 1)")
    parser.add_argument("--input-shape", type=int_at_least(1), nargs=3, metavar=("C", "H", "W"), default=None,
                        help="shape of one input of a convolutional target")
    parser.add_argument("--rho", type=_rho, default="auto", help='base-set sizes: "auto" (default) or 1 to 64')
    parser.add_argument("--delta", type=float_in(0.0, 1.0, hi_open=True), default=DEFAULT_DELTA,
                        help="allowed probability that the first solve leaves work for the repair pass, in (0, 1) "
                             f"(default {DEFAULT_DELTA})")
    parser.add_argument("--density", type=float_in(0.0, 1.0), default=1.0,
                        help="Erdos-Renyi density of the source's edges, in (0, 1] (default 1: dense)")
    parser.add_argument("--seed", type=int_at_least(0, 2**64 - 1), default=0, help="source seed (default 0)")
    parser.add_argument("--device", default=None, help='solve on this device, e.g. "cuda"')
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where the first solve runs: this process (default) or a Ray cluster")
    parser.add_argument("--samples", type=int_at_least(0), default=None,
                        help="random inputs the report measures the error on (default: the report's, "
                             "fewer for large tickets; 0 skips the measurement)")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="folder of finished shards, for resuming an interrupted run (default: OUT.partial)")
    parser.add_argument("--no-checkpoint", action="store_true", help="keep no checkpoint")
    parser.set_defaults(_parser=parser)


def _fingerprint(args) -> str:
    """What a checkpoint belongs to: the target file's bytes, every option that shapes the
    ticket, and the package version."""
    import hashlib
    import json

    from ._version import __version__

    digest = hashlib.sha256()
    with open(args.target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    options = {k: getattr(args, k) for k in ("method", "eps", "output_eps", "input_bound", "input_shape", "rho",
                                             "delta", "density", "seed", "device")}
    from .tickets.solve import BLOCK_RESULT_VERSION, ELEMENTS_PER_CALL

    options["block_elements"] = ELEMENTS_PER_CALL  # results are stored per block: blocks must match
    options["block_result"] = BLOCK_RESULT_VERSION  # and read as they were written
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    digest.update(__version__.encode())
    return digest.hexdigest()[:32]


def _load_target(args):
    from .cli import usage_error

    if not args.target.is_file():
        usage_error(args, f"argument target: {str(args.target)!r} is not a file")
    import torch

    try:
        module = torch.load(args.target, map_location="cpu", weights_only=False)
    except Exception as exc:  # a file torch cannot read
        usage_error(args, f"argument target: cannot load {str(args.target)!r} with torch.load: {exc}")
    if not isinstance(module, torch.nn.Module):
        usage_error(args, f"argument target: {str(args.target)!r} holds a {type(module).__name__}, expected a "
                          "module saved with torch.save(model, path) (for a state dict, build the model and "
                          "call construct_ticket(model, state_dict=...) from Python)")
    return module.eval()


def main(args) -> int:
    """Build, save and report; returns 0 (2 for a usage error)."""
    from .cli import usage_error
    from .tickets import construct_ticket

    if args.out.exists() and args.out.is_dir():
        usage_error(args, f"argument --out: {str(args.out)!r} is a folder; give a file name")
    target = _load_target(args)
    executor = None if args.executor == "local" else args.executor
    folder = None
    if not args.no_checkpoint:
        from .tickets.executor import CheckpointExecutor, get_executor

        folder = args.checkpoint if args.checkpoint is not None else args.out.with_name(args.out.name + ".partial")
        try:
            executor = CheckpointExecutor(get_executor(executor, jobs_use_every_core=args.device is not None), folder,
                                          _fingerprint(args))
        except (ValueError, ImportError, OSError) as exc:
            usage_error(args, f"argument --checkpoint: {exc}")
        if executor.stored:
            print(f"resuming from {folder}: {executor.stored} finished shards")
    try:
        ticket = construct_ticket(
            target, method=args.method, eps=args.eps, output_eps=args.output_eps, rho=args.rho, delta=args.delta,
            input_bound=args.input_bound, density=args.density, seed=args.seed, device=args.device,
            executor=executor, progress=None,
            input_shape=None if args.input_shape is None else tuple(args.input_shape))
    except (ValueError, TypeError, ImportError) as exc:  # what construct_ticket refuses, named by its argument
        usage_error(args, str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ticket.save(args.out)
    if folder is not None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    print(ticket.report(samples=args.samples))
    print(f"saved to {args.out}")
    return 0
