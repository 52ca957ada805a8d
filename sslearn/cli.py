"""The ``sslearn`` command: fit, evaluate and predict on long-format CSV or Parquet files.

A long file has one row per observation: a series id, a time stamp, one numeric column per
channel and the target(s), constant within each series::

    sslearn fit vitals.csv --target-col rhythm --groups-col subject --model-out model.joblib
    sslearn evaluate model.joblib test.csv
    sslearn predict model.joblib new.csv --out predictions.csv

``fit`` holds out part of the series (``--test-size``, by ``--groups-col`` when given),
prints a short report and saves a joblib file holding the fitted estimator and the column
settings, which ``evaluate`` and ``predict`` reuse. In Python,
``joblib.load("model.joblib")["estimator"]`` is the fitted
:class:`~sslearn.LiquidS4Classifier` or :class:`~sslearn.LiquidS4Regressor`.

Input problems (a missing file or column, a bad ``--param``) end with exit code 2 and a
one-line message on stderr, not a traceback.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["main"]

PROG = "sslearn"
TASKS = ("classification", "regression")
# integer targets with at most this many distinct values are read as class labels
_MAX_INTEGER_CLASSES = 20


class CLIError(Exception):
    """A problem with the user's input, reported as one line and exit code 2."""


# -- reading data ------------------------------------------------------------------------
def read_table(path: str) -> pd.DataFrame:
    """Read a CSV (also ``.tsv``, compressed) or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str
        The file. ``.parquet`` / ``.pq`` files need pyarrow or fastparquet; ``.tsv`` files
        are tab-separated; anything else is read by :func:`pandas.read_csv`.

    Returns
    -------
    df : DataFrame
        The file's rows.

    Raises
    ------
    CLIError
        If the file does not exist or cannot be parsed, or no Parquet engine is installed.
    """
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path!r}")
    name = path.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else ","
        return pd.read_csv(path, sep=sep)
    except ImportError as error:
        raise CLIError(
            f"reading {path!r} needs a Parquet engine: pip install pyarrow ({error})"
        ) from error
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise CLIError(f"cannot read {path!r}: {error}") from error


def _split_columns(text: str | None) -> list[str]:
    return [] if not text else [part.strip() for part in text.split(",") if part.strip()]


def _require_columns(df: pd.DataFrame, path: str, columns: dict[str, Sequence[str]]) -> None:
    """Raise CLIError naming the option whose column(s) ``df`` lacks."""
    for option, names in columns.items():
        absent = [name for name in names if name not in df.columns]
        if absent:
            raise CLIError(
                f"column(s) {absent} ({option}) not found in {path!r}; available columns: "
                f"{list(df.columns)}"
            )


def _value_columns(
    df: pd.DataFrame, requested: list[str], id_col: str, exclude: Sequence[str]
) -> list[str]:
    """The channel columns: those requested, else the numeric columns that vary in time.

    Numeric columns that are constant within every series (a subject number, another
    target, a patient's age) are per-series attributes, not channels, and are left out.
    """
    if requested:
        return requested
    candidates = [
        column
        for column in df.columns
        if column not in exclude
        and pd.api.types.is_numeric_dtype(df[column])
        and not pd.api.types.is_bool_dtype(df[column])
    ]
    varying = df[candidates].groupby(df[id_col]).nunique(dropna=False).max() > 1
    channels = [column for column in candidates if varying[column]]
    if not channels:
        raise CLIError(
            f"no numeric column that varies within a series besides {list(exclude)}; name "
            "the channels with --value-cols"
        )
    return channels


def _read_series(path: str, settings: dict[str, Any], **required: Sequence[str]):
    """Read ``path``, check its columns, and return (frame, rows per series, Panel).

    ``required`` maps extra options (``target_col=[...]``) to the columns they name.
    """
    df = read_table(path)
    columns = {
        "--id-col": [settings["id_col"]],
        "--time-col": [settings["time_col"]],
        "--value-cols": settings["value_cols"],
    }
    columns |= {"--" + option.replace("_", "-"): names for option, names in required.items()}
    _require_columns(df, path, columns)
    rows, panel = _series(df, settings)
    return df, rows, panel


def _series(df: pd.DataFrame, settings: dict[str, Any]):
    """The long frame as one row per series (sorted ids) and its Panel."""
    from sslearn.data import from_long, to_panel

    try:
        rows = from_long(df, settings["id_col"], settings["time_col"], settings["value_cols"])
        panel = to_panel(rows, allow_nan=True)
    except (ValueError, TypeError) as error:
        raise CLIError(str(error)) from error
    return rows, panel


def _targets(df: pd.DataFrame, settings: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """One row of targets per series id, in the order of :func:`_series`."""
    from sslearn.data import long_targets

    try:
        return pd.concat(
            [long_targets(df, settings["id_col"], column) for column in columns], axis=1
        )
    except ValueError as error:
        raise CLIError(str(error)) from error


def _describe(path: str, settings: dict[str, Any], panel) -> str:
    lengths = panel.lengths
    missing = 100.0 * panel.missing.sum() / (lengths.sum() * panel.n_channels)
    return (
        f"{os.path.basename(path)}: {panel.n_samples} series ({settings['id_col']!r}), "
        f"{panel.n_channels} channel(s) {settings['value_cols']}, lengths "
        f"{lengths.min()}-{lengths.max()} (median {np.median(lengths):g}), "
        f"{missing:.1f}% missing values"
    )


# -- estimators ------------------------------------------------------------------------------
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
        If an item has no ``=``.
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
            except (ValueError, SyntaxError):
                value = text
        params[key.strip()] = value
    return params


def _infer_task(targets: pd.DataFrame) -> str:
    """Classification for one non-numeric or few-valued integer target, else regression."""
    if targets.shape[1] > 1:
        return "regression"
    column = targets.iloc[:, 0]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return "classification"
    if pd.api.types.is_integer_dtype(column) and column.nunique() <= _MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def _make_estimator(task: str, params: dict[str, Any], random_state: int):
    from sslearn import LiquidS4Classifier, LiquidS4Regressor

    estimator = LiquidS4Classifier() if task == "classification" else LiquidS4Regressor()
    unknown = sorted(set(params) - set(estimator.get_params()))
    if unknown:
        raise CLIError(
            f"unknown --param name(s) {unknown}; valid names: {sorted(estimator.get_params())}"
        )
    return estimator.set_params(**{"random_state": random_state, **params})


def _fit_estimator(estimator, X, y) -> float:
    from sklearn.utils._param_validation import InvalidParameterError

    start = time.perf_counter()
    try:
        estimator.fit(X, y)
    except InvalidParameterError as error:
        raise CLIError(f"invalid --param: {error}") from error
    return time.perf_counter() - start


def _target_array(targets: pd.DataFrame, task: str) -> np.ndarray:
    if task == "classification":
        return targets.iloc[:, 0].to_numpy()
    try:
        values = targets.to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise CLIError(f"regression targets must be numeric: {error}") from error
    return values[:, 0] if values.shape[1] == 1 else values


def _scores(estimator, X, y, task: str, target_cols: list[str]) -> str:
    """A one-line summary of the fitted estimator's performance on (X, y)."""
    if task == "classification":
        from sklearn.metrics import accuracy_score, balanced_accuracy_score

        predicted = estimator.predict(X)
        with warnings.catch_warnings():  # small validation sets may lack a predicted class
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            balanced = balanced_accuracy_score(y, predicted)
        return f"accuracy {accuracy_score(y, predicted):.3f}, balanced accuracy {balanced:.3f}"
    rmse = _rmse(y, estimator.predict(X))
    per_target = ", ".join(
        f"{name} {value:.3g}" for name, value in zip(target_cols, rmse, strict=True)
    )
    return f"R² {estimator.score(X, y):.3f}; RMSE {per_target}"


def _rmse(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    difference = np.reshape(y, (len(y), -1)) - np.reshape(predicted, (len(y), -1))
    return np.sqrt(np.mean(difference**2, axis=0))


def _split(n_series: int, y: np.ndarray, groups, task: str, test_size: float, seed: int):
    """Train and validation positions; by group when ``groups`` is given."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    index = np.arange(n_series)
    if groups is not None:
        if len(np.unique(groups)) < 2:
            raise CLIError("--groups-col needs at least 2 distinct groups to hold some out")
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        return next(splitter.split(index, groups=groups))
    stratify = y if task == "classification" else None
    try:
        return train_test_split(index, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError:  # a class too small to stratify
        return train_test_split(index, test_size=test_size, random_state=seed)


# -- commands --------------------------------------------------------------------------------
def _command_fit(args: argparse.Namespace) -> int:
    import joblib

    import sslearn

    df = read_table(args.data)
    target_cols = _split_columns(args.target_col)
    groups_cols = [args.groups_col] if args.groups_col else []
    _require_columns(
        df,
        args.data,
        {
            "--id-col": [args.id_col],
            "--time-col": [args.time_col],
            "--target-col": target_cols,
            "--value-cols": _split_columns(args.value_cols),
            "--groups-col": groups_cols,
        },
    )
    if not 0.0 <= args.test_size < 1.0:
        raise CLIError(f"--test-size must be in [0, 1), got {args.test_size}")
    exclude = [args.id_col, args.time_col, *target_cols, *groups_cols]
    settings = {
        "id_col": args.id_col,
        "time_col": args.time_col,
        "value_cols": _value_columns(df, _split_columns(args.value_cols), args.id_col, exclude),
        "target_cols": target_cols,
    }
    rows, panel = _series(df, settings)
    targets = _targets(df, settings, target_cols)
    task = args.task or _infer_task(targets)
    if task == "classification" and len(target_cols) > 1:
        raise CLIError("classification takes one --target-col; several are for regression")
    y = _target_array(targets, task)
    estimator = _make_estimator(task, parse_params(args.param), args.random_state)

    print(f"data        {_describe(args.data, settings, panel)}")
    inferred = "" if args.task else " (inferred; set --task to change)"
    print(f"task        {task}{inferred}, target(s) {target_cols}")
    validation = None
    if args.test_size > 0:
        groups = _targets(df, settings, groups_cols).iloc[:, 0] if groups_cols else None
        train, valid = _split(len(y), y, groups, task, args.test_size, args.random_state)
        by = f", grouped by {args.groups_col!r}" if groups_cols else ""
        print(f"split       {len(train)} train / {len(valid)} validation series{by}")
        seconds = _fit_estimator(estimator, rows.iloc[train], y[train])
        validation = _scores(estimator, rows.iloc[valid], y[valid], task, target_cols)
    else:
        seconds = _fit_estimator(estimator, rows, y)
    print(
        f"fit         {estimator.n_iter_} epochs in {seconds:.1f} s on {estimator.device_} "
        f"(stopped: {estimator.stop_reason_})"
    )
    if validation is not None:
        print(f"validation  {validation}")
        if args.refit:
            seconds = _fit_estimator(estimator, rows, y)
            print(f"refit       on all {len(y)} series in {seconds:.1f} s")
    bundle = {"estimator": estimator, "task": task, **settings, "version": sslearn.__version__}
    joblib.dump(bundle, args.model_out)
    print(f"saved       {args.model_out} (in Python: joblib.load(path)['estimator'])")
    return 0


def _load_model(path: str) -> dict[str, Any]:
    """The bundle written by ``fit``, or a bare estimator saved with joblib."""
    import joblib

    from sslearn._base import BaseLiquidS4

    if not os.path.isfile(path):
        raise CLIError(f"no such model file: {path!r}")
    loaded = joblib.load(path)
    if isinstance(loaded, BaseLiquidS4):
        task = "classification" if hasattr(loaded, "classes_") else "regression"
        loaded = {"estimator": loaded, "task": task}
    if not isinstance(loaded, dict) or not isinstance(loaded.get("estimator"), BaseLiquidS4):
        raise CLIError(f"{path!r} holds neither an sslearn model nor a `sslearn fit` bundle")
    return loaded


def _settings(bundle: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Column settings: command-line options, else those saved by fit, else defaults."""
    estimator = bundle["estimator"]
    value_cols = _split_columns(args.value_cols) or bundle.get("value_cols")
    if not value_cols:
        names = getattr(estimator, "feature_names_in_", None)
        if names is None:
            raise CLIError("the model does not record its channel columns; pass --value-cols")
        value_cols = [str(name) for name in names]
    return {
        "id_col": args.id_col or bundle.get("id_col", "id"),
        "time_col": args.time_col or bundle.get("time_col", "time"),
        "value_cols": list(value_cols),
        "target_cols": _split_columns(args.target_col) or list(bundle.get("target_cols", [])),
    }


def _command_evaluate(args: argparse.Namespace) -> int:
    from sklearn.metrics import classification_report, confusion_matrix

    bundle = _load_model(args.model)
    settings = _settings(bundle, args)
    if not settings["target_cols"]:
        raise CLIError("evaluate needs the target column(s): pass --target-col")
    df, rows, panel = _read_series(args.data, settings, target_col=settings["target_cols"])
    task, estimator = bundle["task"], bundle["estimator"]
    y = _target_array(_targets(df, settings, settings["target_cols"]), task)
    print(f"data        {_describe(args.data, settings, panel)}")
    print(f"model       {type(estimator).__name__}, {estimator.n_iter_} epochs")
    print(f"score       {_scores(estimator, rows, y, task, settings['target_cols'])}")
    if task == "classification":
        predicted = estimator.predict(rows)
        labels = estimator.classes_
        print()
        print(classification_report(y, predicted, labels=labels, zero_division=0))
        matrix = pd.DataFrame(
            confusion_matrix(y, predicted, labels=labels),
            index=pd.Index(labels, name="true"),
            columns=pd.Index(labels, name="predicted"),
        )
        print(matrix.to_string())
    else:
        predicted = np.reshape(estimator.predict(rows), (len(y), -1))
        truth = np.reshape(y, (len(y), -1))
        table = pd.DataFrame(
            {
                "RMSE": _rmse(truth, predicted),
                "MAE": np.mean(np.abs(truth - predicted), axis=0),
                "target std": truth.std(axis=0),
            },
            index=pd.Index(settings["target_cols"], name="target"),
        )
        print()
        print(table.to_string(float_format=lambda value: f"{value:.4g}"))
    return 0


def _command_predict(args: argparse.Namespace) -> int:
    bundle = _load_model(args.model)
    settings = _settings(bundle, args)
    _, rows, _ = _read_series(args.data, settings)
    estimator = bundle["estimator"]
    names = settings["target_cols"] or ["target"]
    out = pd.DataFrame(index=rows.index)
    if bundle["task"] == "classification":
        out[f"predicted_{names[0]}"] = estimator.predict(rows)
        proba = estimator.predict_proba(rows)
        for k, label in enumerate(estimator.classes_):
            out[f"proba_{label}"] = proba[:, k]
    else:
        predicted = np.reshape(estimator.predict(rows), (len(rows), -1))
        if len(names) != predicted.shape[1]:
            names = [f"target_{k}" for k in range(predicted.shape[1])]
        for k, name in enumerate(names):
            out[f"predicted_{name}"] = predicted[:, k]
    if args.out in (None, "-"):
        try:
            out.to_csv(sys.stdout)
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stdout = open(os.devnull, "w")
    else:
        out.to_csv(args.out)
        print(f"wrote {len(out)} predictions to {args.out}")
    return 0


# -- parser ----------------------------------------------------------------------------------
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

    fit = commands.add_parser("fit", help="train a model and save it with joblib")
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
        "--model-out", default="model.joblib", help="output file (default: model.joblib)"
    )
    fit.set_defaults(run=_command_fit)

    evaluate = commands.add_parser("evaluate", help="score a saved model on labelled data")
    evaluate.add_argument("model", help="file written by `sslearn fit`")
    evaluate.add_argument("data", help="long-format .csv, .tsv or .parquet file")
    columns(evaluate, defaults=False)
    evaluate.add_argument("--target-col", help="target column(s) (default: as in fit)")
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
    predict.set_defaults(run=_command_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sslearn`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments or input data (the message goes to stderr).

    Examples
    --------
    >>> from sslearn.cli import main
    >>> main(["fit", "missing.csv", "--target-col", "y"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return int(exit_.code or 0)
    try:
        return args.run(args)
    except CLIError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
