"""pandas inputs: wide frames, sktime "nested_univ", sktime "pd-multiindex" and "df-list".

Which layout a DataFrame is in is decided from its structure, in this order:

1. a row MultiIndex with 2 levels (instance, time)  -> "pd-multiindex" (sktime converter);
2. object columns whose cells are pd.Series / 1-D arrays / lists -> "nested_univ";
3. anything else -> wide: one row per series, one column per time point, univariate;
   unless it looks like a *long* frame (one row per observation; ``check_not_long``),
   which is refused with a pointer to ``from_long``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from sslearn.data._long import check_not_long
from sslearn.data._panel import (
    Panel,
    array_as_float32,
    empty_error,
    frame_as_float32,
    numeric_frame,
    panel_from_blocks,
    panel_from_padded,
)

__all__ = ["frame_block", "frame_to_panel", "string_names"]


def string_names(columns: Iterable) -> list[str] | None:
    """Column labels as channel names when all of them are strings, else None.

    This mirrors scikit-learn, which records ``feature_names_in_`` only for all-string
    column names.
    """
    names = list(columns)
    return names if names and all(isinstance(c, str) for c in names) else None


def frame_block(frame: pd.DataFrame, where: str) -> np.ndarray:
    """One "df-list" element (rows = time, columns = channels) as a (n_channels, L) block."""
    return frame_as_float32(frame, where).T


def frame_to_panel(df: pd.DataFrame, *, allow_nan: bool, input_name: str) -> Panel:
    """Convert a DataFrame in any supported layout (see module docstring) to a Panel."""
    if df.shape[0] == 0:
        raise empty_error("sample", df.shape)
    if isinstance(df.index, pd.MultiIndex):
        return _from_multiindex(df, allow_nan=allow_nan, input_name=input_name)
    if _is_nested(df):
        return _from_nested(df, allow_nan=allow_nan, input_name=input_name)
    if df.shape[1] == 0:
        raise empty_error("feature", df.shape)
    check_not_long(df, input_name)
    values = frame_as_float32(df, input_name)[:, None, :]
    return panel_from_padded(values, None, allow_nan=allow_nan, input_name=input_name)


# -- nested_univ -----------------------------------------------------------------------------


def _is_cell(value: object) -> bool:
    return isinstance(value, pd.Series | np.ndarray | list | tuple)


def _is_nested(df: pd.DataFrame) -> bool:
    return any(dtype.kind == "O" and _is_cell(df.iat[0, j]) for j, dtype in enumerate(df.dtypes))


def _nested_row(cells: list, where: str) -> np.ndarray:
    """The cells of one nested_univ row as a (n_channels, L) float32 block.

    Cells that share one time index (the usual case, and always so for ``from_long``) are
    stacked; otherwise they are aligned on the sorted union of their time indices, with NaN
    where a channel has no value (so those positions become missing values).
    """
    if all(isinstance(c, pd.Series) for c in cells):
        first = cells[0].index
        if all(c.index.equals(first) for c in cells[1:]):
            return np.stack([frame_as_float32(c, where) for c in cells])
        aligned = pd.concat(cells, axis=1, sort=True, ignore_index=True)
        return frame_as_float32(aligned, where).T
    arrays = [c.to_numpy() if isinstance(c, pd.Series) else np.asarray(c) for c in cells]
    if any(a.ndim != 1 for a in arrays) or len({a.shape[0] for a in arrays}) != 1:
        raise ValueError(
            f"{where}: the cells of one row must be 1-D and of equal length when they are "
            f"not pd.Series; got shapes {[a.shape for a in arrays]}. Use pd.Series cells "
            "with a time index so they can be aligned."
        )
    return np.stack([array_as_float32(a, where) for a in arrays])


def _from_nested(df: pd.DataFrame, *, allow_nan: bool, input_name: str) -> Panel:
    cells = df.to_numpy(dtype=object)
    blocks = []
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            if not _is_cell(cell):
                raise TypeError(
                    f"{input_name} looks like a sktime 'nested_univ' frame, but the cell at "
                    f"row {i}, column {df.columns[j]!r} is a {type(cell).__name__}; every "
                    "cell must be a pd.Series (one channel of one series)."
                )
        where = f"{input_name} row {i} (index {df.index[i]})"
        block = _nested_row(list(row), where)
        if block.shape[1] == 0:
            raise ValueError(f"{where} has length 0; every series needs at least one value.")
        blocks.append(block)
    return panel_from_blocks(
        blocks, string_names(df.columns), allow_nan=allow_nan, input_name=input_name
    )


# -- pd-multiindex (via sktime) -----------------------------------------------------------


def _time_level_hint(index: pd.MultiIndex, input_name: str) -> str:
    """A way out when the time level is of a type sktime refuses (floats, text)."""
    times = index.levels[1]
    if ptypes.is_integer_dtype(times.dtype) or isinstance(
        times, pd.DatetimeIndex | pd.PeriodIndex | pd.TimedeltaIndex
    ):
        return ""
    return (
        f" Its time level holds {times.dtype} values, but sktime takes integer, datetime, "
        "timedelta or period time stamps; sslearn.data.from_long takes any sortable ones: "
        f"from_long({input_name}.reset_index(), id_col=..., time_col=...)."
    )


def _from_multiindex(df: pd.DataFrame, *, allow_nan: bool, input_name: str) -> Panel:
    if df.index.nlevels != 2:
        raise ValueError(
            f"{input_name} has a row MultiIndex with {df.index.nlevels} levels; expected 2 "
            "(instance, time) as in sktime's 'pd-multiindex'. Combine the outer levels into "
            "one instance id, or reset them, e.g. X.reset_index() and from_long(...)."
        )
    if df.shape[1] == 0:
        raise empty_error("channel", df.shape)
    df = numeric_frame(df, input_name)
    duplicated = df.index.duplicated()
    if duplicated.any():  # sktime's converters would fail on them with a reshape error
        instance, time = df.index[duplicated][0]
        raise ValueError(
            f"{input_name} has {int(duplicated.sum())} duplicated (instance, time) row(s), "
            f"e.g. instance {instance} at time {time}; each time stamp may occur once per "
            f"instance. Aggregate them first, e.g. {input_name}.groupby(level=[0, 1]).mean()."
        )
    try:
        from sktime.datatypes import check_is_mtype, convert_to
    except ImportError as exc:
        raise ImportError(
            "Reading a 'pd-multiindex' frame needs sktime (pip install sktime). Without it, "
            "use from_long(X.reset_index(), id_col=..., time_col=...)."
        ) from exc

    if any(dt != np.float64 for dt in df.dtypes):
        df = df.astype(np.float64)  # nullable / integer columns: sktime checks expect floats
    ok, msg, meta = check_is_mtype(
        df, "pd-multiindex", scitype="Panel", return_metadata=["is_equal_length"]
    )
    if not ok:
        raise ValueError(
            f"{input_name} has a 2-level row MultiIndex but is not a valid sktime "
            f"'pd-multiindex' panel: {msg} (Note that sort_index() also sorts the instances: "
            "the series then follow the sorted order, so align y with it.)"
            + _time_level_hint(df.index, input_name)
        )
    names = string_names(df.columns)
    # sktime's numpy3D converter reshapes the rows, which is only right when each
    # instance's rows are contiguous; df-list groups correctly in every case.
    codes = pd.factorize(df.index.get_level_values(0))[0]
    contiguous = bool(np.all(np.diff(codes) >= 0))
    if meta["is_equal_length"] and contiguous:
        values = array_as_float32(convert_to(df, "numpy3D"), input_name)
        return panel_from_padded(values, names, allow_nan=allow_nan, input_name=input_name)
    frames = convert_to(df, "df-list")
    blocks = [frame_block(f, f"{input_name} instance {i}") for i, f in enumerate(frames)]
    return panel_from_blocks(blocks, names, allow_nan=allow_nan, input_name=input_name)
