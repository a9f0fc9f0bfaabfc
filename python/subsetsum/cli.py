"""The ``subsetsum`` command.

Each subcommand lives in its own module exposing ``configure_parser(parser)`` and
``main(args) -> int``; this file only registers them, so importing the CLI stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
SUBCOMMANDS = {
    "demo": ("subsetsum.demo", "train a small MLP on the bundled digits data and build L+1 and 2L tickets"),
    "throughput": ("subsetsum._throughput", "solve a million random problems and print throughput and quality"),
    "stats": ("subsetsum._stats_cli", "Monte-Carlo subset-sum statistics: CSV files and plots"),
}


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
