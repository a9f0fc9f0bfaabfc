"""``subsetsum throughput``: runs through the CLI entry point and prints sane figures."""

import re

import numpy as np
import pytest

import subsetsum
from subsetsum import cli
from subsetsum._throughput import random_problems


def run_throughput(capsys, *options):
    """(exit status, {field: text}, stderr) of ``subsetsum throughput OPTIONS``."""
    status = cli.main(["throughput", *options])
    captured = capsys.readouterr()
    fields = {}
    for line in captured.out.splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return status, fields, captured.err


def number(text: str) -> float:
    """The first number in ``text`` (thousands separators and a trailing % allowed)."""
    match = re.search(r"[-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?", text)
    assert match, f"no number in {text!r}"
    return float(match.group(0).replace(",", ""))


def test_default_setting_reports_throughput_and_quality(capsys):
    status, fields, _ = run_throughput(capsys, "--count", "20000")
    assert status == 0
    assert fields["problems"].startswith("20000 (mode=min_size, n=15, eps=0.01, max_size=10, float32")
    assert "seed=0" in fields["problems"]
    backend, algorithm = fields["backend"].split(", ")[:2]
    assert backend == "cpu"
    assert algorithm.removeprefix("algorithm ") in subsetsum.algorithm_names()
    assert re.search(r"\d+ threads?$", fields["backend"])
    assert number(fields["time"]) > 0
    assert number(fields["throughput"]) > 0
    # n = 15 Uniform[-1, 1] elements reach almost every target within 0.01 using <= 10 of them.
    assert 95.0 <= number(fields["found"]) <= 100.0
    assert 0 < number(fields["mean error"]) < 0.01
    assert 1.0 < number(fields["mean size"]) <= 10.0


def test_figures_match_a_direct_solve_of_the_same_seeded_problems(capsys):
    status, fields, _ = run_throughput(
        capsys, "--count", "3000", "--mode", "best", "--n", "12", "--dtype", "float64",
        "--seed", "7", "--threads", "1",
    )
    assert status == 0
    assert fields["backend"].endswith(", 1 thread")
    targets, bases = random_problems(3000, 12, np.float64, np.random.default_rng(7))
    expected = subsetsum.solve(targets, bases, eps=0.01, mode="best")
    assert number(fields["found"]) == pytest.approx(100 * expected.found.mean(), abs=1e-4)
    assert number(fields["mean error"]) == pytest.approx(expected.errors.mean(), rel=1e-3)
    assert number(fields["mean size"]) == pytest.approx(expected.sizes.mean(), abs=1e-3)


def test_numba_backend_solves_the_same_problems_alike(capsys):
    common = ("--count", "2000", "--n", "10", "--mode", "fixed_size", "--k", "3", "--seed", "3")
    _, compiled, _ = run_throughput(capsys, *common)
    status, reference, _ = run_throughput(capsys, *common, "--backend", "numba")
    assert status == 0
    assert reference["backend"].startswith("numba, ")
    for field in ("found", "mean error", "mean size"):
        assert reference[field] == compiled[field]


def test_random_problems_are_uniform_in_the_requested_dtype():
    targets, bases = random_problems(5000, 4, np.float32, np.random.default_rng(1))
    assert targets.dtype == bases.dtype == np.float32
    assert bases.shape == (5000, 4) and targets.shape == (5000,)
    assert -1 <= bases.min() < -0.99 and 0.99 < bases.max() < 1
    assert abs(float(bases.mean())) < 0.02


@pytest.mark.parametrize(
    "options, message",
    [
        (["--mode", "fixed_size"], "--k: --mode fixed_size needs the subset size --k"),
        (["--k", "3"], "--k: only used by --mode fixed_size"),
        (["--count", "0"], "--count: expected an int >= 1"),
        (["--threads", "0"], "--threads: expected an int >= 1"),
        (["--eps", "0"], "eps: expected a finite float > 0"),
        (["--mode", "fixed_size", "--k", "16"], "k: expected k <= n = 15"),
    ],
)
def test_bad_options_exit_with_status_2_and_name_the_option(capsys, options, message):
    status, fields, err = run_throughput(capsys, "--count", "100", *options)
    assert status == 2
    assert message in err
    assert fields == {}
