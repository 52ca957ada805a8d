"""Time stamps of irregularly sampled series: validation, seconds, and gaps between steps.

The estimators' ``times`` argument gives the time of every step of every series. This module
turns it into one float64 array of shape (n_samples, n_timepoints), NaN after each series'
end (:func:`time_stamps`), and that into the per-step gaps that the network reads in units
of one model step (:func:`time_gaps`, :func:`median_gap`). Datetimes become seconds
(:func:`as_seconds`). No torch here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_seconds", "median_gap", "time_gaps", "time_stamps"]

_CONVERT_HINT = (
    "Pass numbers (e.g. seconds), or datetime64 / timedelta64 values, which become seconds: "
    "e.g. pd.to_datetime(stamps).to_numpy() (time-zone-aware stamps: .tz_convert(None) first)."
)


def as_seconds(
    values: Any, origin: np.datetime64 | None = None, where: str = "times"
) -> np.ndarray:
    """Time stamps as float64: numbers as they are, datetimes and durations in seconds.

    Parameters
    ----------
    values : array-like
        Numbers, ``datetime64`` or ``timedelta64`` values (NaT becomes NaN).
    origin : numpy.datetime64, default=None
        The datetime that becomes 0 s; None: the earliest stamp of ``values``. Only the
        differences between stamps matter to the estimators.
    where : str, default="times"
        How to name ``values`` in error messages.

    Returns
    -------
    seconds : ndarray of float64, of the shape of ``values``

    Raises
    ------
    TypeError
        For strings, booleans, complex numbers or objects that are not numbers.
    """
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind == "M":
        if origin is None:
            stamps = array[~np.isnat(array)]
            origin = stamps.min() if stamps.size else np.datetime64(0, "s")
        return (array - origin) / np.timedelta64(1, "s")
    if kind == "m":
        return array / np.timedelta64(1, "s")
    if kind in "iuf":
        return array.astype(np.float64)
    if kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError) as error:
            found = next((type(v).__name__ for v in array.flat if v is not None), "object")
            raise TypeError(
                f"{where} holds values of type {found}, which are no time stamps sslearn "
                f"reads. {_CONVERT_HINT}"
            ) from error
    raise TypeError(f"{where} has dtype {array.dtype}, not time stamps. {_CONVERT_HINT}")


def time_stamps(
    times: Any,
    lengths: np.ndarray,
    *,
    widths: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Validate the time stamps of a batch of series and pad them with NaN.

    Parameters
    ----------
    times : array-like of shape (n_samples, n_timepoints), or list of 1-D arrays
        The time of every step of every series: a 2-D array (NaN where a series has ended),
        or one 1-D array per series for series of unequal lengths. Numbers, or datetime64 /
        timedelta64 values (read as seconds).
    lengths : ndarray of shape (n_samples,)
        Steps of each series that hold a value (``Panel.lengths``); each needs a finite
        stamp, and the stamps must increase strictly along them.
    widths : array-like of shape (n_samples,), default=None
        The number of steps of each series as given (trailing all-NaN steps included), the
        most stamps a series may have; None: as many as the 2-D ``times`` has columns.

    Returns
    -------
    stamps : ndarray of shape (n_samples, max(lengths)), float64
        NaN after each series' end; stamps given there are ignored.

    Raises
    ------
    ValueError
        If the number of series or of a series' stamps does not match, a stamp where a
        series has a value is not finite, or the stamps do not increase strictly.
    TypeError
        If the stamps are neither numbers nor datetimes.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.data._times import time_stamps
    >>> time_stamps([np.array([0.0, 0.5, 2.0]), np.array([1.0, 3.0])], np.array([3, 2]))
    array([[0. , 0.5, 2. ],
           [1. , 3. , nan]])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n_samples, width = len(lengths), int(lengths.max(initial=1))
    rows = _rows(times)
    if len(rows) != n_samples:
        raise ValueError(
            f"times holds the stamps of {len(rows)} series, but X has {n_samples}; give one "
            "row (or one 1-D array) of time stamps per series."
        )
    stamps = np.full((n_samples, width), np.nan)
    for i, row in enumerate(rows):
        if row.ndim != 1:
            raise ValueError(
                f"times must be 2-D (n_samples, n_timepoints) or a list of 1-D arrays, one "
                f"per series; the stamps of series {i} have shape {row.shape}."
            )
        most = width if widths is None else int(widths[i])
        if not lengths[i] <= len(row) <= max(most, lengths[i]):
            expected = lengths[i] if most <= lengths[i] else f"{lengths[i]} to {most}"
            raise ValueError(
                f"times gives {len(row)} stamps for series {i}, which has {expected} time "
                "steps; give one stamp per step of X (NaN after a series' end)."
            )
        seconds = as_seconds(row[: lengths[i]])
        stamps[i, : lengths[i]] = seconds
    valid = np.arange(width) < lengths[:, None]
    bad = valid & ~np.isfinite(stamps)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise ValueError(
            f"times has {int(bad.sum())} missing or infinite stamp(s) where X has a time step, "
            f"e.g. series {i}, step {k}; every step of a series needs a finite time (NaN may "
            "only pad the steps after a series' end)."
        )
    steps = np.diff(stamps, axis=1)
    bad = valid[:, 1:] & ~(steps > 0)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise ValueError(
            f"times must increase strictly within each series, but series {i} has "
            f"{float(stamps[i, k + 1])!r} at step {k + 1} after {float(stamps[i, k])!r} at step "
            f"{k}. Sort each series by time (and X with it), and merge repeated stamps."
        )
    return stamps


def _rows(times: Any) -> list[np.ndarray]:
    """``times`` as one array per series (a 2-D array's rows, or the list's items)."""
    if times is None or isinstance(times, str | bytes | dict | set):
        raise TypeError(
            "times must be a 2-D array of shape (n_samples, n_timepoints) or a list of 1-D "
            f"arrays, one per series; got {type(times).__name__}."
        )
    if isinstance(times, pd.DataFrame):
        times = times.to_numpy()
    if isinstance(times, list | tuple):
        return [np.asarray(row) for row in times]
    array = np.asarray(times)
    if array.ndim == 1 and array.dtype == object:  # an array of per-series arrays
        return [np.asarray(row) for row in array]
    if array.ndim != 2:
        raise ValueError(
            "times must be a 2-D array of shape (n_samples, n_timepoints) or a list of 1-D "
            f"arrays, one per series; got an array of shape {array.shape}."
        )
    return list(array)


def time_gaps(stamps: np.ndarray, time_unit: float) -> np.ndarray:
    """The gap before each step in model steps: ``(t[k] - t[k - 1]) / time_unit``.

    Parameters
    ----------
    stamps : ndarray of shape (n_samples, n_timepoints)
        From :func:`time_stamps`: finite along each series, NaN after its end.
    time_unit : float
        The length of one model step, in the units of ``stamps``.

    Returns
    -------
    gaps : ndarray of shape (n_samples, n_timepoints), float32
        1 at the first step of each series (by convention) and after its end.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.data._times import time_gaps
    >>> time_gaps(np.array([[0.0, 0.5, 2.0], [1.0, 3.0, np.nan]]), 0.5)
    array([[1., 1., 3.],
           [1., 4., 1.]], dtype=float32)
    """
    gaps = np.ones(stamps.shape, dtype=np.float64)
    steps = np.diff(stamps, axis=1) / time_unit
    gaps[:, 1:] = np.where(np.isnan(steps), 1.0, steps)
    return gaps.astype(np.float32)


def median_gap(stamps: np.ndarray) -> float:
    """The median time between consecutive steps of the series; 1.0 when none has two.

    Parameters
    ----------
    stamps : ndarray of shape (n_samples, n_timepoints)
        From :func:`time_stamps`.

    Returns
    -------
    gap : float
        Positive.
    """
    steps = np.diff(stamps, axis=1)
    steps = steps[np.isfinite(steps)]
    return float(np.median(steps)) if steps.size else 1.0
