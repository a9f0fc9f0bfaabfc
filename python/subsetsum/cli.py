"""The ``subsetsum`` command.

Each subcommand lives in its own module exposing ``configure_parser(parser)`` and
``main(args) -> int``; this file only registers them, so importing the CLI stays cheap. It also
holds the option types the subcommands share: a bad value is reported the argparse way (usage
line, a message naming the option, exit status 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from pathlib import Path

# name -> (module, one-line help)
SUBCOMMANDS = {
    "demo": ("subsetsum.demo", "train a small MLP on the bundled digits data and build L+1 and 2L tickets"),
    "throughput": ("subsetsum._throughput", "solve a million random problems and print throughput and quality"),
    "stats": ("subsetsum._stats_cli", "Monte-Carlo subset-sum statistics: CSV files and plots"),
    "prune": ("subsetsum._prune_cli",
              "pruning at initialization and random-pruning bounds (papers 003, 004): CSV files and plots"),
    "ticket": ("subsetsum._ticket_cli", "build a ticket for a target saved with torch.save and save it"),
}


# --------------------------------------------------------------------------------------------
# option types: argparse turns their ArgumentTypeError into "usage ... error: argument --x: ..."


def int_at_least(lo: int, hi: int | None = None):
    """An argparse type: an int >= lo (and <= hi when given).

    >>> int_at_least(1)("3")
    3
    >>> int_at_least(1, 64)("65")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an int in [1, 64], got 65
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            expected = f"an int in [{lo}, {hi}]" if hi is not None else f"an int >= {lo}"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    parse.__name__ = "int"
    return parse


def float_in(lo: float, hi: float, *, lo_open: bool = True, hi_open: bool = False):
    """An argparse type: a finite float in the interval (lo, hi] by default.

    >>> float_in(0.0, math.inf)("0.01")
    0.01
    >>> float_in(0.0, 1.0, hi_open=True)("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a finite number in (0, 1), got 1.0
    """
    if math.isinf(hi):
        interval = f"{'>' if lo_open else '>='} {lo:g}"
    else:
        interval = f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = (math.isfinite(value) and (value > lo if lo_open else value >= lo)
              and (value < hi if hi_open else value <= hi))
        if not ok:
            raise argparse.ArgumentTypeError(f"expected a finite number {interval}, got {value}")
        return value

    parse.__name__ = "float"
    return parse


def output_folder(text: str) -> Path:
    """An argparse type: a folder that is or can become a writable directory (nothing created).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     output_folder(f.name)
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: ... exists and is not a folder
    """
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    existing = path
    while not existing.exists():  # the nearest existing ancestor must be a writable folder
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot create {text!r}: {str(existing)!r} is not a folder")
    if existing.exists() and not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write to {text!r}: {str(existing)!r} is not writable")
    return path


def usage_error(args: argparse.Namespace, message: str):
    """Exit the argparse way: the subcommand's usage line, ``message``, status 2.

    Subcommands store their parser as ``args._parser`` (``parser.set_defaults(_parser=parser)``);
    without one the message still goes to stderr with status 2.

    >>> usage_error(argparse.Namespace(), "argument --x: expected an int")
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    parser = getattr(args, "_parser", None)
    if parser is not None:
        parser.error(message)
    print(f"subsetsum: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_plots_and_device(args: argparse.Namespace) -> str:
    """Before long computing: matplotlib present unless ``--no-plots``, and ``--device``
    resolved (``stats._resolve_device``); a problem is a usage error. Returns the device."""
    from . import stats

    if not args.no_plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            usage_error(args, "plotting needs matplotlib (pip install matplotlib), or pass --no-plots")
    try:
        return stats._resolve_device(args.device)
    except ValueError as exc:
        usage_error(args, f"argument --device: {exc}")


def make_output_folder(args: argparse.Namespace, option: str, path: Path) -> Path:
    """``mkdir -p path``, reporting a failure as a usage error on ``option``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     make_output_folder(argparse.Namespace(), "--out", Path(d) / "a" / "b").is_dir()
    True
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        usage_error(args, f"argument {option}: cannot create {str(path)!r}: {exc.strerror or exc}")
    return path


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="subsetsum",
        description="Batched real-valued subset sum and strong lottery tickets.",
    )
    parser.add_argument("--version", action="version", version=f"subsetsum {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).configure_parser(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(importlib.import_module(args._module).main(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
