"""The estimator: ``--param`` parsing, the task, its construction, fitting and targets."""

from __future__ import annotations

import ast
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sslearn.cli._errors import CLIError

# integer targets with at most this many distinct values are read as class labels
_MAX_INTEGER_CLASSES = 20


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
    except ValueError as error:  # data the estimator refuses (one class, too few series, ...)
        raise CLIError(f"cannot fit the model: {error}") from error
    return time.perf_counter() - start


def _target_array(targets: pd.DataFrame, task: str) -> np.ndarray:
    if task == "classification":
        return targets.iloc[:, 0].to_numpy()
    try:
        values = targets.to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise CLIError(f"regression targets must be numeric: {error}") from error
    return values[:, 0] if values.shape[1] == 1 else values
