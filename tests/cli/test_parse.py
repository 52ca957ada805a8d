"""The command line's options: ``--param`` values, ``--version``, help and the entry points."""

import importlib
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.cli import CLIError, build_parser, main, parse_params
from sslearn.cli._parse import make_estimator


def test_parse_params():
    params = parse_params(["max_epochs=3", "lr=1e-3", "liquid_kernel=None", "ssm=diag"])
    assert params == {"max_epochs": 3, "lr": 1e-3, "liquid_kernel": None, "ssm": "diag"}
    assert parse_params(["bidirectional=true", "device=cuda:0"]) == {
        "bidirectional": True,
        "device": "cuda:0",
    }
    assert parse_params(["dt_range=(0.001, 0.1)", "d_model = 8"]) == {
        "dt_range": (0.001, 0.1),
        "d_model": 8,
    }


@pytest.mark.parametrize("item", ["d_model", "=3", " =3", ""])
def test_parse_params_needs_key_value(item):
    with pytest.raises(CLIError, match="--param expects key=value"):
        parse_params([item])


def test_make_estimator_checks_names_and_values_before_training():
    clf = make_estimator("classification", {"d_model": 8}, 3)
    assert isinstance(clf, LiquidS4Classifier) and clf.d_model == 8 and clf.random_state == 3
    reg = make_estimator("regression", {"random_state": 7}, 3)
    assert isinstance(reg, LiquidS4Regressor) and reg.random_state == 7
    with pytest.raises(CLIError, match=r"unknown --param name\(s\) \['foo'\]; valid names"):
        make_estimator("regression", {"foo": 1}, 0)
    with pytest.raises(CLIError, match=r"unknown --param.*'class_weight'"):
        make_estimator("regression", {"class_weight": "balanced"}, 0)  # a classifier's
    with pytest.raises(CLIError, match="invalid --param: The 'd_model' parameter"):
        make_estimator("classification", {"d_model": "abc"}, 0)
    with pytest.raises(CLIError, match="invalid --param: The 'max_epochs' parameter"):
        make_estimator("classification", {"max_epochs": 2.5}, 0)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"sslearn {version('sslearn')}\n"


def test_version_and_help_of_python_m_sslearn():
    run = [sys.executable, "-m", "sslearn"]
    result = subprocess.run(
        [*run, "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sslearn {version('sslearn')}"
    result = subprocess.run(
        [*run, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("fit", "evaluate", "predict", "--version"):
        assert command in result.stdout


def test_help_says_what_fit_saves(capsys):
    assert main(["fit", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--refit, --no-refit" in text
    assert "the saved model is then refitted on all series" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["train"], "invalid choice: 'train'"),
        (["fit", "data.csv"], "the following arguments are required: --target-col"),
        (["fit", "data.csv", "--target-col", "y", "--test-size", "a"], "invalid float value"),
        (["predict", "model.sslearn"], "the following arguments are required: data"),
        (["predict", "m", "d", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert captured.err.startswith("sslearn") and "--help)" in captured.err


def test_build_parser_records_the_command():
    args = build_parser().parse_args(["predict", "m.sslearn", "d.csv"])
    assert (args.command, args.model, args.data) == ("predict", "m.sslearn", "d.csv")
    assert build_parser().parse_args(["fit", "d.csv", "--target-col", "y"]).refit is True


def test_console_script_entry_point():
    tomllib = pytest.importorskip("tomllib")
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, name = scripts["sslearn"].partition(":")
    assert getattr(importlib.import_module(module), name) is main
