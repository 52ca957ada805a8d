"""Validate time-series input at the estimators' door and convert it to a :class:`Panel`.

Two routes, one policy:

- *tables* (numpy arrays, wide DataFrames, regular nested lists, anything with
  ``__array__``) go through scikit-learn's ``validate_data`` first, so they get its messages
  and its ``n_features_in_`` / ``feature_names_in_`` bookkeeping. A 2-D table is read as
  univariate series whose columns are time points, so, as scikit-learn requires of 2-D
  input, the number of columns is fixed at fit. A 3-D array is (n_samples, n_channels,
  n_timepoints) and ``n_features_in_`` is its number of channels;
- *panels* (lists of unequal-length series, sktime "pd-multiindex" / "nested_univ" frames,
  :func:`~sslearn.data.from_long` output, :class:`~sslearn.data.Panel`) go to
  :func:`~sslearn.data.to_panel`; ``n_features_in_`` is the number of channels and
  ``feature_names_in_`` the channel names.

Series of any length can be predicted after fitting on 3-D arrays or panels; only the
number (and names) of channels must match.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

from sslearn.data import Panel, to_panel

LAYOUTS = ("table2d", "table3d", "panel")


def input_layout(X: Any) -> tuple[str, Any]:
    """Classify ``X`` as ``"table2d"``, ``"table3d"`` or ``"panel"``.

    Returns the layout and the object to validate (a regular nested list becomes an array).
    Anything not recognisably a panel is a table, so that scikit-learn's validation produces
    its usual errors (1-D input, sparse matrices, complex or non-numeric data).
    """
    if isinstance(X, Panel):
        return "panel", X
    if isinstance(X, pd.DataFrame):
        nested = any(
            X[column].dtype == object and len(X) and _is_series(X[column].iloc[0])
            for column in X.columns
        )
        if nested or isinstance(X.index, pd.MultiIndex):
            return "panel", X
        return "table2d", X
    if isinstance(X, list | tuple):
        if any(isinstance(element, pd.DataFrame) for element in X):
            return "panel", X
        try:
            array = np.asarray(X)
        except (ValueError, TypeError):
            return "panel", X
        if array.dtype == object and array.size and _is_series(array.flat[0]):
            return "panel", X
        return ("table3d" if array.ndim == 3 else "table2d"), array
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1 and X.size:
        if _is_series(X[0]):
            return "panel", X
    ndim = getattr(X, "ndim", None)
    return ("table3d" if ndim == 3 else "table2d"), X


def _is_series(value: Any) -> bool:
    return isinstance(value, pd.Series | np.ndarray | list | tuple)


def validate_series(
    estimator: Any, X: Any, *, reset: bool, min_samples: int = 1
) -> tuple[Panel, str]:
    """Validate ``X`` for ``estimator`` and return ``(panel, layout)``.

    With ``reset=True`` (fit) this sets ``n_features_in_`` and ``feature_names_in_`` (or
    removes a stale ``feature_names_in_``). With ``reset=False`` it checks ``X`` against
    them: a table of the layout seen in fit is checked by scikit-learn (feature count and
    names), any other input by its number of channels (and channel names, when both sides
    have them).
    """
    layout, X = input_layout(X)
    fitted_layout = None if reset else getattr(estimator, "_input_layout", None)
    if layout != "panel":
        params = {
            "allow_nd": True,
            "ensure_all_finite": "allow-nan",
            "dtype": [np.float64, np.float32],
            "ensure_min_samples": min_samples,
        }
        if reset or layout == fitted_layout:
            X = validate_data(estimator, X, reset=reset, **params)
        else:
            X = check_array(X, estimator=estimator, **params)
    panel = to_panel(X, allow_nan=True)
    if layout == "panel" and panel.n_samples < min_samples:
        raise ValueError(
            f"Found {panel.n_samples} sample(s) while a minimum of {min_samples} is required "
            f"by {type(estimator).__name__}."
        )
    if reset:
        estimator._input_layout = layout
        if layout == "panel":
            _reset_channels(estimator, panel)
    elif layout == "panel" or layout != fitted_layout:
        _check_channels(estimator, panel)
    return panel, layout


def _reset_channels(estimator: Any, panel: Panel) -> None:
    estimator.n_features_in_ = panel.n_channels
    if panel.channel_names is not None:
        estimator.feature_names_in_ = np.asarray(panel.channel_names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def _check_channels(estimator: Any, panel: Panel) -> None:
    name = type(estimator).__name__
    expected = estimator.n_channels_
    if panel.n_channels != expected:
        raise ValueError(
            f"X has {panel.n_channels} channels, but {name} is expecting {expected} channels "
            "as input."
        )
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if (
        estimator._input_layout == "panel"
        and fitted_names is not None
        and panel.channel_names is not None
        and list(fitted_names) != list(panel.channel_names)
    ):
        raise ValueError(
            f"The channel names should match those that were passed during fit: got "
            f"{panel.channel_names}, expected {list(fitted_names)}."
        )
