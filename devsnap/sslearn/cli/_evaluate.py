"""``sslearn evaluate``: score a saved model on a labelled long file."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from sslearn.cli._bundle import _load_model, _settings
from sslearn.cli._errors import CLIError
from sslearn.cli._estimator import _target_array
from sslearn.cli._read import _describe, _read_series, _targets
from sslearn.cli._scores import _rmse, _scores


def _command_evaluate(args: argparse.Namespace) -> int:
    from sklearn.metrics import classification_report, confusion_matrix

    bundle = _load_model(args.model, allow_pickle=args.allow_pickle)
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
