"""The model file: the bundle ``fit`` saves, loading it back, and its column settings."""

from __future__ import annotations

import argparse
import os
from typing import Any

from sslearn.cli._errors import CLIError
from sslearn.cli._read import _split_columns


def _save_bundle(estimator, task: str, settings: dict[str, Any], path: str) -> None:
    """Save the fitted estimator, its task and column settings to ``path`` with joblib."""
    import joblib

    import sslearn

    bundle = {"estimator": estimator, "task": task, **settings, "version": sslearn.__version__}
    joblib.dump(bundle, path)


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
