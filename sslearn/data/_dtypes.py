"""Dtype validation: numeric arrays and frames to float32, with errors that name the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["array_as_float32", "check_numeric_frame", "frame_as_float32"]

_COMPLEX_MSG = (
    "Complex data not supported: {where} has a complex dtype. Pass the real part "
    "(np.real), the magnitude (np.abs) or both as separate channels."
)


def array_as_float32(arr: np.ndarray, where: str = "X") -> np.ndarray:
    """Convert a numeric array to a new float32 array.

    Accepts integer, unsigned and floating dtypes, and object arrays whose elements are
    numbers. Values too large for float32 become ``inf`` (and are reported by the caller).

    Parameters
    ----------
    arr : ndarray
        Any-shape array.
    where : str, default="X"
        How to name ``arr`` in error messages.

    Returns
    -------
    out : ndarray, dtype float32
        Always a copy, so callers may write into it.

    Raises
    ------
    ValueError
        For complex data ("Complex data not supported").
    TypeError
        For bool, string, bytes, datetime, timedelta, structured dtypes, and object arrays
        holding non-numbers.
    """
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(_COMPLEX_MSG.format(where=where))
    if kind == "b":
        raise TypeError(
            f"{where} has boolean dtype, but time series values must be numeric. If the "
            "booleans are meant as 0/1 values, pass X.astype(np.float32)."
        )
    if kind in "USa":
        raise TypeError(
            f"{where} has string dtype {arr.dtype}, but time series values must be numeric. "
            "Encode categorical values as numbers (e.g. one channel per category) first."
        )
    if kind in "mM":
        raise TypeError(
            f"{where} has {arr.dtype} (datetime/timedelta) values, but time series values "
            "must be numeric. Time stamps belong in the index (see from_long), not in X."
        )
    if kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            if any(isinstance(v, complex | np.complexfloating) for v in arr.flat):
                raise ValueError(_COMPLEX_MSG.format(where=where)) from exc
            raise TypeError(
                f"{where} has dtype object and could not be converted to float ({exc}). "
                "Pass numeric values; for unequal-length series pass a list of 1-D or "
                "2-D (n_channels, n_timepoints) arrays."
            ) from exc
    elif kind not in "iuf":
        raise TypeError(
            f"{where} has unsupported dtype {arr.dtype}; time series values must be numeric."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.astype(np.float32, copy=True)


def check_numeric_frame(frame: pd.DataFrame | pd.Series, where: str = "X") -> None:
    """Raise unless every column of ``frame`` has a real numeric (non-bool) dtype.

    Parameters
    ----------
    frame : DataFrame or Series
        The frame whose dtypes are checked; values are not touched.
    where : str, default="X"
        How to name ``frame`` in error messages.

    Raises
    ------
    ValueError
        For complex columns ("Complex data not supported").
    TypeError
        For non-numeric columns (bool, object, string, category, datetime); the message
        lists them.
    """
    if isinstance(frame, pd.Series):
        dtypes = {frame.name: frame.dtype}
    else:
        dtypes = dict(frame.dtypes.items())
    complex_cols = [col for col, dt in dtypes.items() if ptypes.is_complex_dtype(dt)]
    if complex_cols:
        raise ValueError(_COMPLEX_MSG.format(where=f"{where} column(s) {complex_cols}"))
    bad = {
        col: str(dt)
        for col, dt in dtypes.items()
        if ptypes.is_bool_dtype(dt) or not ptypes.is_numeric_dtype(dt)
    }
    if bad:
        shown = dict(list(bad.items())[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise TypeError(
            f"{where} has non-numeric column(s) {shown}{more}; time series values must be "
            "numeric. Drop those columns, or convert them, e.g. df.astype({col: float})."
        )


def frame_as_float32(frame: pd.DataFrame | pd.Series, where: str = "X") -> np.ndarray:
    """Convert a numeric DataFrame or Series to a new float32 array of the same shape.

    Nullable pandas dtypes (``Int64``, ``Float64``) are accepted; ``pd.NA`` becomes NaN.

    Parameters
    ----------
    frame : DataFrame or Series
        Numeric columns only (see :func:`check_numeric_frame` for the errors raised).
    where : str, default="X"
        How to name ``frame`` in error messages.

    Returns
    -------
    out : ndarray, dtype float32
        Shape ``frame.shape``; always a copy.
    """
    check_numeric_frame(frame, where)
    with np.errstate(over="ignore", invalid="ignore"):
        return frame.to_numpy(dtype=np.float32, na_value=np.nan, copy=True)
