"""The command line's words: its options, ``--param`` values, and the error of a bad one.

- :class:`CLIError`: a problem with the user's input, reported as one line and exit code 2;
- :func:`build_parser`: the options of every sub-command (argparse's own usage errors are
  one line too);
- :func:`parse_params` and :func:`make_estimator`: ``--param key=value`` into a validated
  estimator.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Sequence
from typing import Any, NoReturn

PROG = "sslearn"
TASKS = ("classification", "regression")


class CLIError(Exception):
    """A problem with the user's input, reported as one line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def version() -> str:
    """The installed version of sslearn (its package metadata, else ``sslearn.__version__``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("sslearn")
    except PackageNotFoundError:
        import sslearn

        return getattr(sslearn, "__version__", "unknown")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sslearn`` command and its sub-commands.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parsed arguments have ``command`` set to the sub-command's name.
    """
    parser = _Parser(
        prog=PROG,
        description="Fit, evaluate and predict with Liquid-S4 time-series models on "
        "long-format CSV or Parquet files (one row per series id and time stamp).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def columns(sub: argparse.ArgumentParser, *, defaults: bool) -> None:
        saved = "" if defaults else " (default: as in fit)"
        sub.add_argument(
            "--id-col",
            default="id" if defaults else None,
            help="series id column" + (" (default: id)" if defaults else saved),
        )
        sub.add_argument(
            "--time-col",
            default="time" if defaults else None,
            help="time column; each series is sorted by it"
            + (" (default: time)" if defaults else saved),
        )
        sub.add_argument(
            "--value-cols",
            help="comma-separated channel columns"
            + (
                " (default: every other numeric column that varies within a series)"
                if defaults
                else saved
            ),
        )

    def model_then_data(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("model", help="model file written by `sslearn fit` (comes first)")
        sub.add_argument("data", help="long-format .csv, .tsv or .parquet file")

    def allow_pickle(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--allow-pickle",
            action="store_true",
            help="also load a legacy pickle/joblib model file. UNSAFE: unpickling runs any "
            "code the file holds; use it only for files you trust, and convert them with "
            "sslearn.save",
        )

    fit = commands.add_parser(
        "fit",
        help="train a model and save it in the safe sslearn.save format",
        description="Train a model on a long file and save it. Unless --test-size is 0, a "
        "share of the series (or of the --groups-col groups) is first held out to report a "
        "validation score; the saved model is then refitted on all series (--no-refit saves "
        "the model that never saw the held-out series instead).",
    )
    fit.add_argument("data", help="long-format .csv, .tsv or .parquet file")
    columns(fit, defaults=True)
    fit.add_argument(
        "--target-col",
        required=True,
        help="target column, constant within a series; comma-separated for several "
        "regression targets",
    )
    fit.add_argument("--task", choices=TASKS, help="default: inferred from the target's values")
    fit.add_argument(
        "--groups-col",
        help="hold out whole groups (e.g. subject) for validation instead of random series",
    )
    fit.add_argument(
        "--use-times",
        action="store_true",
        help="model irregular sampling: the network also reads the time between a series' "
        "rows, from --time-col (numbers, or dates read as seconds); the saved model then "
        "reads them in evaluate and predict too (default: rows are equally spaced steps)",
    )
    fit.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        help="share of series (or groups) held out to report a validation score; 0 skips "
        "the validation (default: 0.2)",
    )
    fit.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the validation score, train the saved model on all series (the "
        "default); --no-refit saves the model fitted without the held-out series",
    )
    fit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="estimator parameter, repeatable (e.g. --param max_epochs=50 --param d_model=32)",
    )
    fit.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the split and (unless set by --param) of the model (default: 0)",
    )
    fit.add_argument(
        "--model-out",
        default="model.sslearn",
        help="output file, JSON and safetensors in a zip that loading cannot turn into code "
        "(default: model.sslearn)",
    )

    evaluate = commands.add_parser("evaluate", help="score a saved model on labelled data")
    model_then_data(evaluate)
    columns(evaluate, defaults=False)
    evaluate.add_argument("--target-col", help="target column(s) (default: as in fit)")
    allow_pickle(evaluate)

    predict = commands.add_parser("predict", help="predict every series of a file")
    model_then_data(predict)
    columns(predict, defaults=False)
    predict.add_argument(
        "--target-col", help="name(s) used for the prediction columns (default: as in fit)"
    )
    predict.add_argument(
        "--out", help="output CSV: one row per series id (default: standard output)"
    )
    allow_pickle(predict)
    return parser


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings into estimator parameters.

    Values are read as Python literals where possible (``2``, ``1e-3``, ``None``, ``True``;
    also ``true``/``false``/``none``), and as strings otherwise (``liquid_kernel=pb``).

    Parameters
    ----------
    items : sequence of str
        The ``--param`` arguments.

    Returns
    -------
    params : dict
        Parameter names to values.

    Raises
    ------
    CLIError
        If an item has no ``=`` or no name before it.
    """
    params = {}
    literals = {"true": True, "false": False, "none": None}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--param expects key=value, got {item!r}")
        text = text.strip()
        if text.lower() in literals:
            value = literals[text.lower()]
        else:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                value = text
        params[key.strip()] = value
    return params


def make_estimator(task: str, params: dict[str, Any], random_state: int):
    """The estimator of ``task`` with ``params``, checked before any training.

    Parameters
    ----------
    task : {"classification", "regression"}
        Which estimator.
    params : dict
        From :func:`parse_params`.
    random_state : int
        The seed, unless ``params`` sets ``random_state``.

    Returns
    -------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        Unfitted.

    Raises
    ------
    CLIError
        For an unknown parameter name, or a value of the wrong type or range.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    from sslearn import LiquidS4Classifier, LiquidS4Regressor

    estimator = LiquidS4Classifier() if task == "classification" else LiquidS4Regressor()
    valid = sorted(estimator.get_params())
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise CLIError(f"unknown --param name(s) {unknown}; valid names: {valid}")
    estimator.set_params(**{"random_state": random_state, **params})
    try:
        estimator._validate_params()
    except InvalidParameterError as error:
        raise CLIError(f"invalid --param: {error}") from error
    return estimator
