"""The model file: the bundle ``fit`` saves, loading it back, and its column settings.

``fit`` writes the safe format of :func:`sslearn.save` (JSON and safetensors, never a pickle),
with the task and column settings in its JSON. Reading refuses pickles and joblib files unless
the user passes ``--allow-pickle`` for a legacy file they trust.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from sslearn.cli._errors import CLIError
from sslearn.cli._read import _split_columns

# the column settings saved beside the estimator, and the types they hold
_SETTINGS = {"id_col": str, "time_col": str, "value_cols": list, "target_cols": list}


def _save_bundle(estimator, task: str, settings: dict[str, Any], path: str) -> None:
    """Save the fitted estimator, its task and column settings to ``path`` (safe format)."""
    from sslearn._persist import write_model

    write_model(estimator, path, extra={"cli": {"task": task, **settings}})


def _load_model(path: str, *, allow_pickle: bool = False) -> dict[str, Any]:
    """The bundle written by ``fit``, or a bare estimator saved with :func:`sslearn.save`.

    With ``allow_pickle``, a pickle or joblib file (a legacy bundle or estimator) is
    unpickled too: only for files the user trusts, as unpickling runs code.
    """
    from sslearn._model_file import CONVERT_HINT, pickle_kind
    from sslearn._persist import read_model

    if not os.path.isfile(path):
        raise CLIError(f"no such model file: {path!r}")
    if pickle_kind(path) is not None:
        if allow_pickle:
            return _load_pickle(path)
        raise CLIError(
            f"refusing to unpickle {path!r}: pickle and joblib files can run arbitrary code. "
            f"`sslearn fit` now writes the safe sslearn.save format (.sslearn). {CONVERT_HINT}, "
            "then pass its columns with --value-cols/--target-col. Or, only for a file you "
            "trust, pass --allow-pickle."
        )
    try:
        estimator, extra = read_model(path)
    except ValueError as error:
        raise CLIError(str(error)) from error
    settings = extra.get("cli", {}) if isinstance(extra, dict) else {}
    return {"estimator": estimator, "task": _task(estimator), **_checked(path, settings)}


def _load_pickle(path: str) -> dict[str, Any]:
    """A legacy joblib bundle or estimator (``--allow-pickle``: the user trusts the file)."""
    import joblib

    from sslearn._base import BaseLiquidS4

    loaded = joblib.load(path)
    if isinstance(loaded, BaseLiquidS4):
        loaded = {"estimator": loaded, "task": _task(loaded)}
    if not isinstance(loaded, dict) or not isinstance(loaded.get("estimator"), BaseLiquidS4):
        raise CLIError(f"{path!r} holds neither an sslearn model nor a `sslearn fit` bundle")
    return loaded


def _task(estimator) -> str:
    return "classification" if hasattr(estimator, "classes_") else "regression"


def _checked(path: str, settings: Any) -> dict[str, Any]:
    """The column settings saved by fit, checked (they come from the file)."""
    if not isinstance(settings, dict):
        raise CLIError(f"{path!r}: the saved column settings are not a mapping")
    checked = {}
    for key, kind in _SETTINGS.items():
        value = settings.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (
            kind is list and not all(isinstance(item, str) for item in value)
        ):
            raise CLIError(f"{path!r}: the saved setting {key} is not a {kind.__name__}")
        checked[key] = value
    return checked


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
