"""The argument parser of the ``sslearn`` command and its sub-commands."""

from __future__ import annotations

import argparse

from sslearn.cli._evaluate import _command_evaluate
from sslearn.cli._fit import _command_fit
from sslearn.cli._predict import _command_predict

PROG = "sslearn"
TASKS = ("classification", "regression")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sslearn`` command and its sub-commands.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Fit, evaluate and predict with Liquid-S4 time-series models on "
        "long-format CSV or Parquet files (one row per series id and time stamp).",
    )
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
            + (" (default: every other numeric column)" if defaults else saved),
        )

    def allow_pickle(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--allow-pickle",
            action="store_true",
            help="also load a legacy pickle/joblib model file. UNSAFE: unpickling runs any "
            "code the file holds; use it only for files you trust, and convert them with "
            "sslearn.save",
        )

    fit = commands.add_parser(
        "fit", help="train a model and save it in the safe sslearn.save format"
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
        "--test-size",
        type=float,
        default=0.2,
        help="share of series (or groups) held out for validation; 0 trains on all (default: 0.2)",
    )
    fit.add_argument("--refit", action="store_true", help="after validation, refit on all series")
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
    fit.set_defaults(run=_command_fit)

    evaluate = commands.add_parser("evaluate", help="score a saved model on labelled data")
    evaluate.add_argument("model", help="file written by `sslearn fit`")
    evaluate.add_argument("data", help="long-format .csv, .tsv or .parquet file")
    columns(evaluate, defaults=False)
    evaluate.add_argument("--target-col", help="target column(s) (default: as in fit)")
    allow_pickle(evaluate)
    evaluate.set_defaults(run=_command_evaluate)

    predict = commands.add_parser("predict", help="predict every series of a file")
    predict.add_argument("model", help="file written by `sslearn fit`")
    predict.add_argument("data", help="long-format .csv, .tsv or .parquet file")
    columns(predict, defaults=False)
    predict.add_argument(
        "--target-col", help="name(s) used for the prediction columns (default: as in fit)"
    )
    predict.add_argument(
        "--out", help="output CSV: one row per series id (default: standard output)"
    )
    allow_pickle(predict)
    predict.set_defaults(run=_command_predict)
    return parser
