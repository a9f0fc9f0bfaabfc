"""``subsetsum stats``: the quick run writes its files; bad options get clear errors."""

import argparse
import csv

import pytest

from subsetsum import _stats_cli


def _run(argv):
    parser = argparse.ArgumentParser(prog="subsetsum stats")
    _stats_cli.configure_parser(parser)
    return _stats_cli.main(parser.parse_args(argv))


def test_quick_run_writes_csv_and_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "stats"
    assert _run(["--quick", "--samples", "100", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    names = {p.name for p in out.iterdir()}
    for stem in ("rss", "er", "rfss", "distributions", "error_histogram", "size_histogram", "fits"):
        assert f"{stem}.csv" in names
    for png in ("phase_transitions", "width_factor_and_rfss", "distributions", "theory_curves"):
        path = out / f"{png}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size < 200_000
    with open(out / "rss.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(int(r["trials"]) == 100 for r in rows)
    assert all(float(r["lower"]) <= float(r["probability"]) <= float(r["upper"]) for r in rows)
    assert "fitted constants" in capsys.readouterr().out


def test_no_plots_needs_no_matplotlib(tmp_path):
    out = tmp_path / "csv-only"
    assert _run(["--quick", "--samples", "50", "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert not list(out.glob("*.png"))
    assert (out / "fits.csv").exists()


@pytest.mark.parametrize("argv, match", [
    (["--samples", "0"], "--samples"),
    (["--seed", "-1"], "--seed"),
    (["--threads", "0"], "--threads"),
])
def test_bad_options_are_reported(tmp_path, argv, match):
    with pytest.raises(SystemExit, match=match):
        _run(argv + ["--quick", "--out", str(tmp_path), "--no-progress"])


def test_unknown_device_is_rejected_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _run(["--device", "tpu", "--out", str(tmp_path)])
    assert "--device" in capsys.readouterr().err
