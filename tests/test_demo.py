"""The demo runs end to end and prints both constructions."""

import argparse

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from subsetsum import demo  # noqa: E402


def test_demo_quick(capsys):
    parser = argparse.ArgumentParser()
    demo.configure_parser(parser)
    args = parser.parse_args(["--quick", "--hidden", "8", "--steps", "30"])
    assert demo.main(args) == 0
    out = capsys.readouterr().out
    assert "L+1" in out and "2L" in out and "accuracy" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("L+1", "2L"))]
    assert len(rows) == 2 and all(row[6] == "0" for row in rows)  # no parameter missed
