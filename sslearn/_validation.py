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
match ``y`` one series to one label (what scikit-learn's splitters do to it). Where fitted
input is refused and its shape says why (time and channel axes swapped, a single series
without its batch axis), the message names the fix (:func:`shape_hint`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import _num_samples, check_array, validate_data

from sslearn.data import Panel, to_panel
from sslearn.data._convert import is_series
from sslearn.data._long import check_not_long
from sslearn.data._panel import empty_error, objects_as_numbers, time_stamps_error
from sslearn.data._times import time_stamps

LAYOUTS = ("table2d", "table3d", "panel")
# fit warns that a 3-D array may be (n_samples, n_timepoints, n_channels) when its channel
# axis has at least this many entries and this many times as many as its time axis
_SWAPPED_MIN_CHANNELS = 64
_SWAPPED_RATIO = 8


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
    have them). When ``X`` is refused and its shape suggests why (time and channel axes
    swapped, or a single series without its batch axis), the message names the fix
    (:func:`shape_hint`). At fit, a 3-D array whose channel axis is far longer than its time
    axis draws a warning that the axes may be swapped; it is still accepted.
    """
    if reset:
        panel, layout = _validate(estimator, X, reset=True, min_samples=min_samples)
        _warn_if_swapped(panel, layout)
        return panel, layout
    try:
        return _validate(estimator, X, reset=False, min_samples=min_samples)
    except ValueError as error:
        hint = shape_hint(X, getattr(estimator, "n_channels_", None), _fitted_length(estimator))
        if not hint:
            raise
        error.args = (f"{error} {hint}",)  # the same exception (and type), the hint added
        raise


def _validate(estimator: Any, X: Any, *, reset: bool, min_samples: int) -> tuple[Panel, str]:
    """:func:`validate_series` without the hints that name a likely shape mistake."""
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


def shape_hint(X: Any, n_channels: int | None, n_timepoints: int | None) -> str:
    """The likely shape mistake behind refused input ``X``, as a sentence naming the fix.

    Only arrays (numpy, torch, anything with a ``shape``) and lists of them are looked at,
    never DataFrames. The mistakes recognised, for an estimator fitted on ``n_channels``
    channels and series of up to ``n_timepoints`` steps:

    - a 3-D array of shape (n_samples, n_timepoints, n_channels): its channel axis is not
      ``n_channels``, and its last axis is ``n_channels`` or its channel axis is
      ``n_timepoints``; the fix is a transpose;
    - a single series without its batch axis: a 2-D (n_channels, n_timepoints) or
      (n_timepoints, n_channels) array when ``n_channels > 1`` (a 2-D array is read as
      univariate series, one per row), or a 1-D array when ``n_channels == 1``.

    Parameters
    ----------
    X : object
        The input as the user passed it.
    n_channels : int or None
        The fitted number of channels; None (not fitted) gives no hint.
    n_timepoints : int or None
        The length of the longest series seen in fit, if known.

    Returns
    -------
    hint : str
        A sentence to append to the error message, or "" when the shape suggests nothing.
    """
    if n_channels is None or isinstance(X, pd.DataFrame | pd.Series | Panel):
        return ""
    if isinstance(X, list | tuple) and any(isinstance(x, pd.DataFrame | pd.Series) for x in X):
        return ""  # a "df-list": rows are time points by design
    name = "X" if hasattr(X, "shape") else "np.asarray(X)"
    shape = _shape(X)
    if shape is None:  # unequal-length series: to_panel's message names the transpose
        return ""
    if len(shape) == 3:
        _, channels, steps = shape
        if channels != n_channels and (steps == n_channels or channels == n_timepoints):
            return (
                f"X looks like (n_samples, n_timepoints, n_channels) = {shape}; sslearn "
                f"expects (n_samples, n_channels, n_timepoints): pass {_swap_axes(X)}."
            )
    if len(shape) == 2 and n_channels > 1:
        rows, columns = shape
        if rows == n_channels:
            return (
                f"X looks like a single series of shape (n_channels, n_timepoints) = {shape}, "
                "but a 2-D X is read as (n_samples, n_timepoints), one univariate series per "
                f"row; add a batch axis: {name}[None] (or {name}.reshape(1, *{name}.shape))."
            )
        if columns == n_channels:
            return (
                f"X looks like a single series of shape (n_timepoints, n_channels) = {shape}; "
                "sslearn expects (n_samples, n_channels, n_timepoints): pass "
                f"{name}.T[None] (a batch of one series)."
            )
    if len(shape) == 1 and n_channels == 1:
        return (
            f"X looks like a single series of {shape[0]} time points; add a batch axis: "
            f"{name}[None] (or {name}.reshape(1, -1))."
        )
    return ""


def _shape(X: Any) -> tuple[int, ...] | None:
    """The shape of a numeric array or regular nested list; None for anything else."""
    if isinstance(X, list | tuple):
        try:
            X = np.asarray(X)
        except (ValueError, TypeError, RuntimeError):
            return None
    shape, dtype = getattr(X, "shape", None), getattr(X, "dtype", None)
    if shape is None or getattr(dtype, "kind", None) == "O":
        return None
    try:
        return tuple(int(n) for n in shape)
    except TypeError:
        return None


def _swap_axes(X: Any) -> str:
    """The call that turns (n, L, C) ``X`` into (n, C, L), in the words of its library."""
    if type(X).__module__.startswith("torch"):
        return "X.transpose(1, 2)"
    if isinstance(X, np.ndarray):
        return "X.transpose(0, 2, 1)"
    return "np.transpose(X, (0, 2, 1))"


def _fitted_length(estimator: Any) -> int | None:
    length = getattr(estimator, "n_timepoints_", None)
    return None if length is None else int(length)


def _warn_if_swapped(panel: Panel, layout: str) -> None:
    """Warn at fit when a 3-D array's channel axis is far longer than its time axis."""
    if layout != "table3d":
        return
    n_timepoints = int(panel.lengths.max())
    channels = panel.n_channels
    if channels >= _SWAPPED_MIN_CHANNELS and channels >= _SWAPPED_RATIO * n_timepoints:
        warnings.warn(
            f"X has {channels} channels of {n_timepoints} time points: it may be "
            "(n_samples, n_timepoints, n_channels), while sslearn expects "
            "(n_samples, n_channels, n_timepoints). If so, pass X.transpose(0, 2, 1).",
            UserWarning,
            stacklevel=6,
        )


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


def validate_times(
    estimator: Any, X: Any, times: Any, panel: Panel, layout: str, *, reset: bool
) -> np.ndarray | None:
    """Validate the time stamps ``times`` of the series ``X`` (already validated as ``panel``).

    With ``reset=False`` (predict, or a fit that continues a fitted network), ``times`` must
    be given exactly when the estimator was fitted with them (``uses_times_``). A 2-D
    ``times`` next to a table ``X`` must have the shape (n_samples, n_timepoints) of ``X``;
    otherwise each series needs one stamp per time step (trailing NaN allowed where ``X``
    pads it). Stamps are checked by :func:`~sslearn.data._times.time_stamps`: finite where
    a series has a step, strictly increasing, numbers or datetimes (read as seconds).

    Parameters
    ----------
    estimator : BaseLiquidS4
        The estimator; with ``reset=False``, its ``uses_times_`` is checked.
    X : object
        The series as the user passed them (for the shapes and lengths they were given in).
    times : array-like, list of 1-D arrays or None
        The user's time stamps.
    panel : Panel
        ``X`` as :func:`validate_series` returned it.
    layout : {"table2d", "table3d", "panel"}
        ``X``'s layout, from :func:`validate_series`.
    reset : bool
        True in a fit that starts a new network: no fitted state to check against.

    Returns
    -------
    stamps : ndarray of shape (n_samples, n_timepoints) or None
        float64, NaN after each series' end, as wide as ``panel``; None without ``times``.
    """
    name = type(estimator).__name__
    if not reset:
        fitted = estimator._uses_times()
        if fitted and times is None:
            raise ValueError(
                f"This {name} was fitted with times, so its network reads the time between "
                "steps; pass the time stamps of X's steps as times=... here too (in a "
                "Pipeline or search, request them: set_predict_request(times=True) and "
                "the like)."
            )
        if not fitted and times is not None:
            raise ValueError(
                f"times were given, but this {name} was fitted without them: its network "
                "reads every step as one sampling interval. Pass times=None, or fit with "
                "times=... to model irregular sampling."
            )
    if times is None:
        return None
    shape = _shape(times) if not isinstance(times, list | tuple) else None
    table_shape = _shape(X) if layout != "panel" else None
    if shape is not None and table_shape is not None:
        expected = (table_shape[0], table_shape[-1])
        if shape != expected:
            raise ValueError(
                f"times has shape {shape}, but X (of shape {table_shape}) needs one time "
                f"stamp per series and step: shape {expected}."
            )
    return time_stamps(times, panel.lengths, widths=_given_lengths(X, layout, panel))


def _given_lengths(X: Any, layout: str, panel: Panel) -> np.ndarray | None:
    """The number of steps of each series as given (trailing all-NaN steps included)."""
    if layout != "panel":
        shape = _shape(X)
        return None if shape is None else np.full(panel.n_samples, shape[-1])
    try:
        if isinstance(X, list | tuple):
            return np.array(
                [len(x) if isinstance(x, pd.DataFrame | pd.Series) else np.shape(x)[-1] for x in X]
            )
        if isinstance(X, pd.DataFrame) and isinstance(X.index, pd.MultiIndex):
            return X.groupby(level=0, sort=False).size().to_numpy()
        if isinstance(X, pd.DataFrame):
            return np.array([max(len(cell) for cell in row) for row in X.itertuples(index=False)])
    except (TypeError, IndexError, ValueError):
        pass
    return None
