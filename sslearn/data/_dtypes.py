"""Dtype validation: numeric arrays and frames to float32, with errors that name the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = [
    "array_as_float32",
    "check_numeric_frame",
    "frame_as_float32",
    "numeric_frame",
    "objects_as_numbers",
    "time_stamps_error",
]

# what pandas infers for an object column holding only numbers (None / NaN / pd.NA aside)
_OBJECT_NUMBERS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})

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
        raise time_stamps_error(arr.dtype, where)
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


def _column_kinds(frame: pd.DataFrame | pd.Series) -> list[tuple[object, object, str]]:
    """(label, dtype, kind) per column; kind is "number", "complex" or "other".

    Object columns are judged by their values: numbers (with None / NaN / pd.NA for missing
    values) count as numbers, as they do in object arrays.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    kinds = []
    for j, (label, dtype) in enumerate(zip(frame.columns, frame.dtypes, strict=True)):
        if ptypes.is_complex_dtype(dtype):
            kind = "complex"
        elif ptypes.is_bool_dtype(dtype):
            kind = "other"
        elif ptypes.is_numeric_dtype(dtype):
            kind = "number"
        elif ptypes.is_object_dtype(dtype):
            inferred = ptypes.infer_dtype(frame.iloc[:, j], skipna=True)
            kind = "number" if inferred in _OBJECT_NUMBERS else inferred
            kind = kind if kind in ("number", "complex") else "other"
        else:
            kind = "other"
        kinds.append((label, dtype, kind))
    return kinds


def time_stamps_error(dtype: np.dtype, where: str = "X") -> TypeError:
    """The error for datetime / timedelta values given as time series values.

    Parameters
    ----------
    dtype : dtype
        The datetime64 or timedelta64 dtype found.
    where : str, default="X"
        How to name the input in the message.

    Returns
    -------
    error : TypeError
    """
    return TypeError(
        f"{where} has {dtype} (datetime/timedelta) values, but time series values must be "
        "numeric. Time stamps belong in the index (see sslearn.data.from_long) or, for "
        "irregularly sampled series, in the estimators' times argument, not in X."
    )


def check_numeric_frame(frame: pd.DataFrame | pd.Series, where: str = "X") -> None:
    """Raise unless every column of ``frame`` holds real numbers (not bools).

    Parameters
    ----------
    frame : DataFrame or Series
        The frame whose dtypes are checked; values are not touched. Object columns pass
        when they hold only numbers (None, NaN and pd.NA count as missing values).
    where : str, default="X"
        How to name ``frame`` in error messages.

    Raises
    ------
    ValueError
        For complex columns ("Complex data not supported").
    TypeError
        For non-numeric columns (bool, string, category, datetime, objects other than
        numbers); the message lists them.
    """
    kinds = _column_kinds(frame)
    complex_cols = [label for label, _, kind in kinds if kind == "complex"]
    if complex_cols:
        what = where if isinstance(frame, pd.Series) else f"{where} column(s) {complex_cols}"
        raise ValueError(_COMPLEX_MSG.format(where=what))
    bad = {label: str(dtype) for label, dtype, kind in kinds if kind == "other"}
    if bad and isinstance(frame, pd.Series):
        raise TypeError(
            f"{where} has non-numeric dtype {frame.dtype}; time series values must be "
            "numeric. Convert it, e.g. series.astype(float)."
        )
    if bad:
        shown = dict(list(bad.items())[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise TypeError(
            f"{where} has non-numeric column(s) {shown}{more}; time series values must be "
            "numeric. Drop those columns, or convert them, e.g. df.astype({col: float})."
        )


def numeric_frame(frame: pd.DataFrame, where: str = "X") -> pd.DataFrame:
    """Check ``frame`` (:func:`check_numeric_frame`) and give object columns of numbers
    dtype float64 (missing values NaN).

    Parameters
    ----------
    frame : DataFrame
        The frame to check; it is not modified.
    where : str, default="X"
        How to name ``frame`` in error messages.

    Returns
    -------
    frame : DataFrame
        ``frame`` itself when it has no object columns of numbers, else a converted copy.
    """
    check_numeric_frame(frame, where)
    return objects_as_numbers(frame)


def objects_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its object columns that hold only numbers as float64.

    None and ``pd.NA`` become NaN, which numpy cannot do on its own; other columns are left
    as they are (for the caller's dtype checks to report).

    Parameters
    ----------
    frame : DataFrame
        It is not modified.

    Returns
    -------
    frame : DataFrame
        ``frame`` itself when no column needs converting, else a converted copy.
    """
    numbers = [
        j
        for j, dtype in enumerate(frame.dtypes)
        if ptypes.is_object_dtype(dtype)
        and ptypes.infer_dtype(frame.iloc[:, j], skipna=True) in _OBJECT_NUMBERS
    ]
    if not numbers:
        return frame
    frame = frame.copy()
    for j in numbers:
        frame.isetitem(j, pd.to_numeric(frame.iloc[:, j]).astype(np.float64))
    return frame


def frame_as_float32(frame: pd.DataFrame | pd.Series, where: str = "X") -> np.ndarray:
    """Convert a numeric DataFrame or Series to a new float32 array of the same shape.

    Nullable pandas dtypes (``Int64``, ``Float64``) and object columns of numbers are
    accepted; ``pd.NA`` and None become NaN.

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
    if isinstance(frame, pd.Series):
        check_numeric_frame(frame, where)  # its message names a Series as one
        return frame_as_float32(frame.to_frame(), where)[:, 0]
    frame = numeric_frame(frame, where)
    with np.errstate(over="ignore", invalid="ignore"):
        return frame.to_numpy(dtype=np.float32, na_value=np.nan, copy=True)
