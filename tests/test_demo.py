"""The demo runs end to end and prints both constructions for the MLP and the CNN."""

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
    assert len(rows) == 4 and all(row[6] == "0" for row in rows)  # no parameter missed, MLP and CNN
    assert "target MLP" in out and "target CNN" in out
    for row in rows:  # tickets keep the target's accuracy within a few test images
        assert float(row[1].rstrip("%")) > 50.0


def test_demo_cnn_only(capsys):
    parser = argparse.ArgumentParser()
    demo.configure_parser(parser)
    assert demo.main(parser.parse_args(["--quick", "--steps", "30", "--model", "cnn"])) == 0
    out = capsys.readouterr().out
    assert "target CNN" in out and "target MLP" not in out
