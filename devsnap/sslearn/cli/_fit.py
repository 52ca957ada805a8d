"""``sslearn fit``: train a model on a long file, report its validation scores, save it."""

from __future__ import annotations

import argparse

import numpy as np

from sslearn.cli._bundle import _save_bundle
from sslearn.cli._errors import CLIError
from sslearn.cli._estimator import (
    _fit_estimator,
    _infer_task,
    _make_estimator,
    _target_array,
    parse_params,
)
from sslearn.cli._read import (
    _describe,
    _require_columns,
    _series,
    _split_columns,
    _targets,
    _value_columns,
    read_table,
)
from sslearn.cli._scores import _scores


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


def _command_fit(args: argparse.Namespace) -> int:
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
    _save_bundle(estimator, task, settings, args.model_out)
    print(f"saved       {args.model_out} (in Python: sslearn.load(path))")
    return 0
