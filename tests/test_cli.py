"""The ``subsetsum`` command: out-of-range option values are argparse errors, never tracebacks."""

import argparse

import pytest

from subsetsum import cli


def _fails(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    err = capsys.readouterr().err
    return exc.value.code, err


@pytest.mark.parametrize("argv, option", [
    # issue 11 item 12: each of these printed a traceback from inside construct_ticket or torch
    (["demo", "--eps", "0"], "--eps"),
    (["demo", "--eps", "nan"], "--eps"),
    (["demo", "--eps", "-0.5"], "--eps"),
    (["demo", "--rho", "0"], "--rho"),
    (["demo", "--rho", "65"], "--rho"),
    (["demo", "--rho", "forty"], "--rho"),
    (["demo", "--hidden", "0"], "--hidden"),
    (["demo", "--delta", "1"], "--delta"),
    (["demo", "--delta", "0"], "--delta"),
    (["demo", "--output-eps", "0"], "--output-eps"),
    (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--steps", "-3"], "--steps"),
    (["stats", "--samples", "0"], "--samples"),
    (["stats", "--threads", "0"], "--threads"),
    (["stats", "--threads", str(2**40), "--quick", "--no-progress"], "--threads"),
])
def test_bad_values_are_usage_errors(argv, option, capsys):
    code, err = _fails(argv, capsys)
    assert code == 2
    assert err.startswith(f"usage: subsetsum {argv[0]}")
    assert f"error: argument {option}:" in err and "Traceback" not in err


def test_rho_40_is_accepted_by_the_parser():
    args = cli.build_parser().parse_args(["demo", "--rho", "40"])
    assert args.rho == 40


def test_stats_out_on_an_existing_file(tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    code, err = _fails(["stats", "--quick", "--out", str(target)], capsys)
    assert code == 2 and "argument --out" in err and "exists and is not a folder" in err
    assert target.read_text() == "keep me"


def test_option_types():
    assert cli.int_at_least(0)("0") == 0
    assert cli.float_in(0.0, 1.0, hi_open=True)("0.5") == 0.5
    with pytest.raises(argparse.ArgumentTypeError, match="expected an int >= 2, got 1"):
        cli.int_at_least(2)("1")
    with pytest.raises(argparse.ArgumentTypeError, match="> 0"):
        cli.float_in(0.0, float("inf"))("inf")


def test_usage_error_without_a_parser_still_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.usage_error(argparse.Namespace(), "argument --x: bad")
    assert exc.value.code == 2 and "argument --x: bad" in capsys.readouterr().err
