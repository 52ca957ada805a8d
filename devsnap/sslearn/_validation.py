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

Two mistakes that would otherwise pass silently are refused here: a long frame (one row per
observation) handed over as a wide one, and a "pd-multiindex" panel whose rows no longer
match ``y`` one series to one label (what scikit-learn's splitters do to it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import _num_samples, check_array, validate_data

from sslearn.data import Panel, to_panel
from sslearn.data._build import empty_error
from sslearn.data._convert import is_series
from sslearn.data._dtypes import objects_as_numbers, time_stamps_error
from sslearn.data._long import check_not_long

LAYOUTS = ("table2d", "table3d", "panel")


def input_layout(X: Any) -> tuple[str, Any]:
    """Classify ``X`` as ``"table2d"``, ``"table3d"`` or ``"panel"``.

    Returns the layout and the object to validate (a regular nested list becomes an array).
    Anything not recognisably a panel is a table, so that scikit-learn's validation produces
    its usual errors (1-D input, sparse matrices, complex or non-numeric data).
    """
    if isinstance(X, Panel):
        return "panel", X
    if X is None or isinstance(X, str | bytes | dict | set | frozenset):
        return "panel", X  # no table either: to_panel's TypeError names what is accepted
    if isinstance(X, pd.DataFrame):
        nested = len(X) > 0 and any(  # by position: column labels may repeat
            dtype.kind == "O" and is_series(X.iat[0, j]) for j, dtype in enumerate(X.dtypes)
        )
        if nested or isinstance(X.index, pd.MultiIndex):
            return "panel", X
        return "table2d", X
    if isinstance(X, list | tuple):
        if not X or any(isinstance(element, pd.DataFrame) for element in X):
            return "panel", X  # to_panel words the errors of an empty list
        try:
            array = np.asarray(X)
        except (ValueError, TypeError):
            return "panel", X
        if array.dtype == object and array.size and is_series(array.flat[0]):
            return "panel", X
        return ("table3d" if array.ndim == 3 else "table2d"), array
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1 and X.size:
        if is_series(X[0]):
            return "panel", X
    ndim = getattr(X, "ndim", None)
    return ("table3d" if ndim == 3 else "table2d"), X


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
        X = _table_before_sklearn(X)
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


def _table_before_sklearn(X: Any) -> Any:
    """What scikit-learn's validation would let slip or word poorly, refused or fixed first.

    A wide DataFrame must have rows and columns, unique column names and not be long;
    its object columns of numbers become float64 (scikit-learn cannot read pd.NA in them).
    Datetime arrays are refused (scikit-learn would read them as numbers).
    """
    if isinstance(X, pd.DataFrame):
        if 0 in X.shape:  # numpy's own error for a frame without columns says nothing
            raise empty_error("sample" if X.shape[0] == 0 else "feature", X.shape)
        if not X.columns.is_unique:
            repeated = X.columns[X.columns.duplicated()].unique().tolist()
            raise ValueError(
                f"X has repeated column names {repeated[:5]}; a wide DataFrame has one "
                "column per time point, each named once. Rename them, e.g. "
                "X.set_axis(range(X.shape[1]), axis=1)."
            )
        check_not_long(X)
        return objects_as_numbers(X)
    if getattr(getattr(X, "dtype", None), "kind", None) in ("m", "M"):
        raise time_stamps_error(X.dtype)
    return X


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


def check_panel_targets(X: Any, y: Any) -> None:
    """Refuse a "pd-multiindex" ``X`` whose number of series is not the length of ``y``.

    scikit-learn's splitters, ``cross_val_score`` and ``GridSearchCV`` index ``X`` by rows.
    The rows of a "pd-multiindex" frame are time steps, so a split cuts series apart, and
    ``y`` given per row then no longer matches one label per series. This names the fix
    (convert to one row or array per series first) instead of a bare count mismatch.

    Parameters
    ----------
    X : object
        Training input; only a DataFrame with a row MultiIndex is checked.
    y : object
        Targets; anything without a length is left to the target validation.

    Raises
    ------
    ValueError
        If ``X`` has a row MultiIndex and its number of instances differs from ``len(y)``.
    """
    if not isinstance(X, pd.DataFrame) or not isinstance(X.index, pd.MultiIndex) or not len(X):
        return
    try:
        n_targets = _num_samples(y)
    except TypeError:
        return
    n_series = X.index.get_level_values(0).nunique(dropna=False)
    if n_targets == n_series:
        return
    names = [name if name is not None else f"level_{k}" for k, name in enumerate(X.index.names[:2])]
    per_row = " (one per row)" if n_targets == len(X) else ""
    raise ValueError(
        f"X is a 'pd-multiindex' DataFrame of {n_series} series in {len(X)} rows, but y has "
        f"{n_targets} labels{per_row}; y needs one label per series. scikit-learn's "
        "splitters, cross_val_score and GridSearchCV split X by rows, which cuts the series "
        "of a MultiIndex frame apart. Convert it to one row per series before model "
        f"selection: X = sslearn.data.from_long(X.reset_index(), id_col={names[0]!r}, "
        f"time_col={names[1]!r}) (a DataFrame scikit-learn splits by series), or a NaN-padded "
        "3-D array with sslearn.data.to_panel(X).to_numpy(); then pass one label per series."
    )
