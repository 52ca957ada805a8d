"""``sslearn predict``: predict every series of a long file with a saved model."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from sslearn.cli._bundle import _load_model, _settings
from sslearn.cli._output import _write_predictions
from sslearn.cli._read import _read_series


def _command_predict(args: argparse.Namespace) -> int:
    bundle = _load_model(args.model, allow_pickle=args.allow_pickle)
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
    _write_predictions(out, args.out)
    return 0
