"""The sub-commands ``fit``, ``evaluate`` and ``predict``, their reports, and :func:`main`.

Each sub-command reads its files through :mod:`sslearn.cli._files`, and raises
:class:`~sslearn.cli._parse.CLIError` for a problem with the user's input, which :func:`main`
reports as one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from sslearn.cli._files import (
    check_model_then_data,
    check_writable,
    column_settings,
    describe,
    infer_task,
    load_model,
    read_series,
    read_table,
    require_columns,
    save_model,
    series,
    split_columns,
    target_array,
    targets,
    value_columns,
)
from sslearn.cli._parse import PROG, CLIError, build_parser, make_estimator, parse_params

# the held-out series ids that fit --no-refit names
_SHOWN_IDS = 10


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sslearn`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments or input data (a one-line message on stderr).

    Examples
    --------
    >>> from sslearn.cli import main
    >>> main(["fit", "missing.csv", "--target-col", "y"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return int(exit_.code or 0)
    try:
        return _COMMANDS[args.command](args)
    except CLIError as error:
        message = " ".join(str(error).split())  # one line, whatever the message held
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 2


# -- fit ---------------------------------------------------------------------------------


def fit(args: argparse.Namespace) -> int:
    """``sslearn fit``: report a validation score, then save a model trained on all series."""
    params = parse_params(args.param)
    df = read_table(args.data)
    target_cols = split_columns(args.target_col)
    if not target_cols:
        raise CLIError(f"--target-col names no column: {args.target_col!r}")
    groups_cols = [args.groups_col] if args.groups_col else []
    requested = split_columns(args.value_cols)
    require_columns(
        df,
        args.data,
        {
            "--id-col": [args.id_col],
            "--time-col": [args.time_col],
            "--target-col": target_cols,
            "--value-cols": requested,
            "--groups-col": groups_cols,
        },
    )
    if not 0.0 <= args.test_size < 1.0:
        raise CLIError(f"--test-size must be in [0, 1), got {args.test_size}")
    check_writable(args.model_out, "--model-out")
    settings = {
        "id_col": args.id_col,
        "time_col": args.time_col,
        "value_cols": value_columns(
            df, requested, args.id_col, args.time_col, [*target_cols, *groups_cols]
        ),
        "target_cols": target_cols,
    }
    rows, panel, times = series(df, settings, args.use_times)
    frame = targets(df, settings, target_cols)
    task = args.task or infer_task(frame)
    if task == "classification" and len(target_cols) > 1:
        raise CLIError("classification takes one --target-col; several are for regression")
    y = target_array(frame, task)
    estimator = make_estimator(task, params, args.random_state)

    print(f"data        {describe(args.data, settings, panel)}")
    inferred = "" if args.task else " (inferred; set --task to change)"
    print(f"task        {task}{inferred}, target(s) {target_cols}")
    if args.test_size > 0:
        estimator = _validate_then_refit(args, df, settings, rows, y, task, estimator, times)
    else:
        _report_fit(estimator, _fit_estimator(estimator, rows, y, times))
    save_model(estimator, task, settings, args.model_out)
    print(f"saved       {args.model_out} (in Python: sslearn.load(path))")
    return 0


def _validate_then_refit(args, df, settings, rows, y, task, estimator, times=None):
    """Fit on part of the series, report the held-out score; the estimator to save."""
    from sklearn.base import clone

    groups_cols = [args.groups_col] if args.groups_col else []
    groups = targets(df, settings, groups_cols).iloc[:, 0] if groups_cols else None
    train, valid = _split(len(y), y, groups, task, args.test_size, args.random_state)
    by = f", grouped by {args.groups_col!r}" if groups_cols else ""
    print(f"split       {len(train)} train / {len(valid)} validation series{by}")
    seconds = _fit_estimator(estimator, rows.iloc[train], y[train], _subset(times, train))
    _report_fit(estimator, seconds)
    predicted = estimator.predict(rows.iloc[valid], times=_subset(times, valid))
    print(f"validation  {_scores(y[valid], predicted, task, settings['target_cols'])}")
    if not args.refit:
        ids = [str(name) for name in rows.index[np.sort(valid)]]
        shown = ", ".join(ids[:_SHOWN_IDS]) + (", ..." if len(ids) > _SHOWN_IDS else "")
        print(
            f"held out    {len(valid)} of {len(y)} series{by} ({settings['id_col']} {shown}), "
            "which the saved model never saw (--no-refit); --refit, the default, saves a "
            "model trained on all series"
        )
        return estimator
    estimator = clone(estimator)
    seconds = _fit_estimator(estimator, rows, y, times)
    print(
        f"refit       on all {len(y)} series in {seconds:.1f} s ({estimator.n_iter_} epochs): "
        "the saved model (--no-refit saves the validation model instead)"
    )
    return estimator


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
        pass
    try:
        return train_test_split(index, test_size=test_size, random_state=seed)
    except ValueError as error:  # too few series to hold some out
        raise CLIError(
            f"cannot hold out a validation part of {n_series} series: {error}; "
            "pass --test-size 0 to fit on all of them"
        ) from error


def _subset(times, index):
    """The time stamps (a list per series, or None) of the series at ``index``."""
    return None if times is None else [times[i] for i in index]


def _fit_estimator(estimator, X, y, times=None) -> float:
    """Fit ``estimator``; the seconds it took. Data or settings it refuses are input errors."""
    start = time.perf_counter()
    try:
        estimator.fit(X, y, times=times)
    except (ValueError, TypeError) as error:  # one class, an odd d_state, dt_range=("a",) ...
        raise CLIError(f"cannot fit the model: {error}") from error
    return time.perf_counter() - start


def _report_fit(estimator, seconds: float) -> None:
    print(
        f"fit         {estimator.n_iter_} epochs in {seconds:.1f} s on {estimator.device_} "
        f"(stopped: {estimator.stop_reason_})"
    )
    if estimator.uses_times_:
        print(f"times       irregular sampling, one model step = {estimator.time_unit_:g}")


# -- evaluate and predict ----------------------------------------------------------------


def evaluate(args: argparse.Namespace) -> int:
    """``sslearn evaluate``: score a saved model on a labelled long file."""
    check_model_then_data(args.model, args.data, "evaluate")
    bundle = load_model(args.model, "evaluate", allow_pickle=args.allow_pickle)
    settings = column_settings(bundle, args)
    target_cols = settings["target_cols"]
    if not target_cols:
        raise CLIError("evaluate needs the target column(s): pass --target-col")
    task, estimator = bundle["task"], bundle["estimator"]
    n_outputs = 1 if task == "classification" else getattr(estimator, "n_outputs_", 1)
    if len(target_cols) != n_outputs:
        raise CLIError(
            f"the model predicts {n_outputs} target(s), but --target-col names "
            f"{len(target_cols)}: {target_cols}"
        )
    times = getattr(estimator, "uses_times_", False)
    df, rows, panel, stamps = read_series(args.data, settings, times, target_col=target_cols)
    y = target_array(targets(df, settings, target_cols), task)
    with _refused(f"cannot predict the series of {args.data!r}"):
        predicted = estimator.predict(rows, times=stamps)
    with _refused(f"cannot score the model on the targets {target_cols} of {args.data!r}"):
        score = _scores(y, predicted, task, target_cols)
        table = _report_table(estimator, y, predicted, task, target_cols)
    print(f"data        {describe(args.data, settings, panel)}")
    print(f"model       {type(estimator).__name__}, {estimator.n_iter_} epochs")
    print(f"score       {score}")
    print()
    print(table)
    return 0


def _report_table(estimator, y, predicted, task: str, target_cols: list[str]) -> str:
    """The classification report and confusion matrix, or the errors per regression target."""
    from sklearn.metrics import classification_report, confusion_matrix

    if task == "classification":
        labels = estimator.classes_
        matrix = pd.DataFrame(
            confusion_matrix(y, predicted, labels=labels),
            index=pd.Index(labels, name="true"),
            columns=pd.Index(labels, name="predicted"),
        )
        report = classification_report(y, predicted, labels=labels, zero_division=0)
        return f"{report}\n{matrix.to_string()}"
    predicted = np.reshape(predicted, (len(y), -1))
    truth = np.reshape(y, (len(y), -1))
    table = pd.DataFrame(
        {
            "RMSE": _rmse(truth, predicted),
            "MAE": np.mean(np.abs(truth - predicted), axis=0),
            "target std": truth.std(axis=0),
        },
        index=pd.Index(target_cols, name="target"),
    )
    return table.to_string(float_format=lambda value: f"{value:.4g}")


def predict(args: argparse.Namespace) -> int:
    """``sslearn predict``: predict every series of a long file with a saved model."""
    check_model_then_data(args.model, args.data, "predict")
    if args.out not in (None, "-"):
        check_writable(args.out, "--out")
    bundle = load_model(args.model, "predict", allow_pickle=args.allow_pickle)
    settings = column_settings(bundle, args)
    estimator = bundle["estimator"]
    times = getattr(estimator, "uses_times_", False)
    _, rows, _, stamps = read_series(args.data, settings, times)
    names = settings["target_cols"] or ["target"]
    out = pd.DataFrame(index=rows.index)
    with _refused(f"cannot predict the series of {args.data!r}"):
        if bundle["task"] == "classification":
            proba = estimator.predict_proba(rows, times=stamps)  # the labels are its argmax
            out[f"predicted_{names[0]}"] = estimator.classes_[proba.argmax(axis=1)]
            for k, label in enumerate(estimator.classes_):
                out[f"proba_{label}"] = proba[:, k]
        else:
            predicted = np.reshape(estimator.predict(rows, times=stamps), (len(rows), -1))
            if len(names) != predicted.shape[1]:
                names = [f"target_{k}" for k in range(predicted.shape[1])]
            for k, name in enumerate(names):
                out[f"predicted_{name}"] = predicted[:, k]
    _write_predictions(out, args.out)
    return 0


@contextlib.contextmanager
def _refused(what: str) -> Iterator[None]:
    """Input the model or the metrics refuse (other channels, targets of another kind)."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise CLIError(f"{what}: {error}") from error


def _scores(y: np.ndarray, predicted: np.ndarray, task: str, target_cols: list[str]) -> str:
    """A one-line summary of predictions against the truth ``y``."""
    if task == "classification":
        from sklearn.metrics import accuracy_score, balanced_accuracy_score

        with warnings.catch_warnings():  # small validation sets may lack a predicted class
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            balanced = balanced_accuracy_score(y, predicted)
        return f"accuracy {accuracy_score(y, predicted):.3f}, balanced accuracy {balanced:.3f}"
    from sklearn.metrics import r2_score

    per_target = ", ".join(
        f"{name} {value:.3g}" for name, value in zip(target_cols, _rmse(y, predicted), strict=True)
    )
    return f"R² {r2_score(y, predicted):.3f}; RMSE {per_target}"


def _rmse(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    difference = np.reshape(y, (len(y), -1)) - np.reshape(predicted, (len(y), -1))
    return np.sqrt(np.mean(difference**2, axis=0))


def _write_predictions(out: pd.DataFrame, path: str | None) -> None:
    """Write ``out`` to the CSV file ``path``; to standard output when None or ``-``."""
    if path in (None, "-"):
        try:
            out.to_csv(sys.stdout)
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stdout = open(os.devnull, "w")
        return
    try:
        out.to_csv(path)
    except OSError as error:
        raise CLIError(f"cannot write --out {path!r}: {error}") from error
    print(f"wrote {len(out)} predictions to {path}")


_COMMANDS = {"fit": fit, "evaluate": evaluate, "predict": predict}
