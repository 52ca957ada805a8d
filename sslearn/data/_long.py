"""Long ("tidy") frames: one row per (series id, time) observation -> one row per series.

scikit-learn splits ``X`` by rows, so a long frame cannot be cross-validated as is: its rows
are observations, not series. :func:`from_long` regroups it into a DataFrame with one row
per series id (sktime's "nested_univ" layout), which sklearn's ``_safe_indexing`` splits
correctly and :func:`~sslearn.data.to_panel` reads; :func:`infer_value_cols` is its rule
for which columns are channels (the ``sslearn`` command uses it too).
:func:`check_not_long` recognises a long frame handed over as if it were wide, and says to
call :func:`from_long` first.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from sslearn.data._panel import numeric_frame, objects_as_numbers

__all__ = ["check_not_long", "from_long", "long_targets"]

# column names that give a flat frame away as long: series ids and time stamps
_ID_NAMES = frozenset(
    {"id", "series", "subject", "patient", "case", "instance", "record", "participant", "trial"}
)
_TIME_NAMES = frozenset(
    {"t", "time", "timestamp", "datetime", "date", "time_index", "timepoint", "time_step"}
)


def _check_frame(df: object, columns: dict[str, Hashable]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
    absent = {arg: col for arg, col in columns.items() if col not in df.columns}
    if absent:
        raise ValueError(
            f"Column(s) {absent} not found in df; available columns: {list(df.columns)}. "
            "If the ids or times are in the index, call df.reset_index() first."
        )
    if df.shape[0] == 0:
        raise ValueError(
            "Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required: "
            "df has no rows."
        )


def _id_codes(ids: pd.Series, id_col: Hashable) -> tuple[np.ndarray, pd.Index]:
    """Codes into the sorted unique ids; the shared row order of from_long and long_targets."""
    if ids.isna().any():
        raise ValueError(
            f"Column {id_col!r} has {int(ids.isna().sum())} missing id(s); every row needs a "
            "series id. Drop or fill those rows."
        )
    try:
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError as exc:
        raise TypeError(
            f"The ids in column {id_col!r} cannot be sorted ({exc}); use ids of one type, "
            f"e.g. df[{id_col!r}].astype(str)."
        ) from exc
    return codes, pd.Index(uniques, name=id_col)


def infer_value_cols(
    df: pd.DataFrame,
    id_col: Hashable = "id",
    time_col: Hashable = "time",
    exclude: Sequence[Hashable] = (),
) -> list:
    """The channel columns of a long frame: the numeric columns that vary within a series.

    A column is a channel when it is not ``id_col``, ``time_col`` or in ``exclude``, holds
    numbers (numeric dtypes other than bool, or object columns of numbers; complex columns
    count too, for :func:`from_long` to refuse them by name) and takes more than one value
    (NaN counting as a value) within at least one series. Columns constant within every
    series are per-series attributes (a class label, a regression target, a subject number,
    an age), not channels. When no series has more than one row, nothing can vary and every
    numeric column is a channel.

    Parameters
    ----------
    df : DataFrame
        Long layout: one row per observation.
    id_col : hashable, default="id"
        Column holding the series id.
    time_col : hashable, default="time"
        Column holding the time stamp.
    exclude : sequence of hashable, default=()
        Further columns that are no channels (e.g. the targets, a group column).

    Returns
    -------
    value_cols : list
        The channel columns, in the frame's column order; empty when there is none.

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame.
    ValueError
        If ``id_col`` is not a column of ``df``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sslearn.data._long import infer_value_cols
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2], "time": [0, 1, 0, 1], "x": [0.1, 0.2, 0.3, 0.1],
    ...                    "age": [40, 40, 62, 62], "label": ["a", "a", "b", "b"]})
    >>> infer_value_cols(df)
    ['x']
    """
    _check_frame(df, {"id_col": id_col})
    skip = [id_col, time_col, *exclude]
    numbers = objects_as_numbers(df)  # object columns of numbers as float64
    positions, candidates = [], []
    for j, (label, dtype) in enumerate(zip(numbers.columns, numbers.dtypes, strict=True)):
        numeric = ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)
        if numeric and label not in skip and label not in candidates:
            positions.append(j)
            candidates.append(label)
    ids = df[id_col].to_numpy()
    if not candidates or not pd.Series(ids).duplicated().any():
        return candidates
    grouped = numbers.iloc[:, positions].groupby(ids, sort=False, dropna=True)
    varying = (grouped.nunique(dropna=False).max() > 1).to_numpy()
    return [label for label, varies in zip(candidates, varying, strict=True) if varies]


def from_long(
    df: pd.DataFrame,
    id_col: Hashable = "id",
    time_col: Hashable = "time",
    value_cols: Hashable | Sequence[Hashable] | None = None,
    return_times: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, list[np.ndarray]]:
    """Regroup a long frame into one row per series, ready for cross-validation.

    Parameters
    ----------
    df : DataFrame
        Long layout: one row per observation, with a series-id column, a time column and
        one numeric column per channel. Series may have different lengths.
    id_col : hashable, default="id"
        Column holding the series id.
    time_col : hashable, default="time"
        Column holding the time stamp (any sortable type: int, float, datetime). Each
        series is sorted by it; (id, time) pairs must be unique.
    value_cols : hashable or sequence of hashable, default=None
        Channel column(s), in the order wanted. ``None`` infers them, by the rule the
        ``sslearn`` command uses too: every numeric column (numeric dtype other than bool,
        or object column of numbers) other than ``id_col`` and ``time_col`` that takes more
        than one value within at least one series, in the frame's order. Text columns and
        columns constant within every series (a class label, a regression target, a subject
        number) are left out, so a bundled long frame such as
        ``sslearn.datasets.load_basic_motions(return_type="frame")`` needs no
        ``value_cols``. When every series has a single row, every numeric column is taken.
    return_times : bool, default=False
        Also return the time stamps of each series' rows, for the estimators' ``times``
        argument (irregularly sampled series): numbers as they are, datetimes as seconds
        since the series' first row, timedeltas as seconds.

    Returns
    -------
    rows : DataFrame of shape (n_series, n_channels)
        sktime "nested_univ" layout. The index holds the series ids **in sorted order**
        (named ``id_col``): align targets with ``y.loc[rows.index]`` or
        :func:`long_targets`. One column per channel; each cell is a float64 pd.Series of
        that channel over time, indexed by time (named ``time_col``). NaN values are kept
        and become missing values in :func:`~sslearn.data.to_panel`.
    times : list of ndarray of float64
        Only with ``return_times=True``: one 1-D array per row of ``rows``, in its order,
        the sorted time stamps of the series' rows (increasing strictly, as (id, time)
        pairs are unique).

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame, value columns are not numeric, or ids are not sortable;
        with ``return_times=True``, if the times are neither numbers nor datetimes.
    ValueError
        If a column is absent, ``df`` is empty, ids or times are missing, or an (id, time)
        pair occurs twice.

    Examples
    --------
    >>> import pandas as pd
    >>> from sslearn.data import from_long, to_panel
    >>> df = pd.DataFrame({"id": ["b", "b", "a", "a", "a"], "time": [1, 0, 0, 1, 2],
    ...                    "x": [2.0, 1.0, 5.0, 6.0, 7.0]})
    >>> rows = from_long(df, id_col="id", time_col="time")
    >>> rows.index.tolist()
    ['a', 'b']
    >>> to_panel(rows).values[1, 0].tolist()
    [1.0, 2.0, 0.0]
    >>> rows, times = from_long(df, id_col="id", time_col="time", return_times=True)
    >>> [t.tolist() for t in times]
    [[0.0, 1.0, 2.0], [0.0, 1.0]]
    """
    _check_frame(df, {"id_col": id_col, "time_col": time_col})
    if id_col == time_col:
        raise ValueError(f"id_col and time_col must differ, both are {id_col!r}.")
    if value_cols is None:
        value_cols = infer_value_cols(df, id_col, time_col)
        if not value_cols:
            raise ValueError(
                f"df has no value columns besides {id_col!r} and {time_col!r}: no numeric "
                "column varies within a series; pass value_cols."
            )
    elif isinstance(value_cols, str) or not isinstance(value_cols, Sequence):
        value_cols = [value_cols]
    value_cols = list(value_cols)
    _check_frame(df, {f"value_cols[{k}]": c for k, c in enumerate(value_cols)})
    if not value_cols:
        raise ValueError(
            f"df has no value columns besides {id_col!r} and {time_col!r}; pass value_cols."
        )
    value_frame = numeric_frame(df[value_cols], "df value column(s)")
    times = df[time_col]
    if times.isna().any():
        raise ValueError(
            f"Column {time_col!r} has {int(times.isna().sum())} missing time stamp(s); drop "
            "or fill those rows."
        )

    codes, ids = _id_codes(df[id_col], id_col)
    key = pd.DataFrame({"code": codes, "time": times.reset_index(drop=True)})
    order = key.sort_values(["code", "time"], kind="stable").index.to_numpy()
    codes = codes[order]
    times = times.iloc[order]
    duplicated = key.iloc[order].duplicated().to_numpy()
    if duplicated.any():
        first = int(np.flatnonzero(duplicated)[0])
        raise ValueError(
            f"df has {int(duplicated.sum())} duplicated ({id_col!r}, {time_col!r}) pair(s), "
            f"e.g. id {ids[codes[first]]} at time {times.iloc[first]}. Aggregate them "
            f"first, e.g. df.groupby([{id_col!r}, {time_col!r}], as_index=False).mean()."
        )

    values = value_frame.to_numpy(dtype=np.float64, na_value=np.nan)[order]
    time_index = pd.Index(times, name=time_col)
    bounds = np.r_[0, np.flatnonzero(np.diff(codes)) + 1, codes.size]
    columns = {}
    for j, col in enumerate(value_cols):
        cells = np.empty(len(ids), dtype=object)
        for k in range(len(ids)):
            start, stop = bounds[k], bounds[k + 1]
            cells[k] = pd.Series(values[start:stop, j], index=time_index[start:stop], name=col)
        columns[col] = cells
    rows = pd.DataFrame(columns, index=ids, columns=value_cols)
    if not return_times:
        return rows
    return rows, _series_seconds(times, bounds, time_col)


def _series_seconds(times: pd.Series, bounds: np.ndarray, time_col: Hashable) -> list:
    """The sorted stamps of each series as float64: numbers as they are, datetimes in
    seconds since the series' first stamp, timedeltas in seconds."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert(None)
    stamps = times.to_numpy()
    kind = stamps.dtype.kind
    if kind not in "iufmM":
        raise TypeError(
            f"Column {time_col!r} has dtype {times.dtype}, which return_times cannot read as "
            f"time stamps; pass numbers or datetimes, e.g. df[{time_col!r}] = "
            f"pd.to_datetime(df[{time_col!r}])."
        )
    series = [stamps[start:stop] for start, stop in itertools.pairwise(bounds)]
    if kind == "M":
        return [(s - s[0]) / np.timedelta64(1, "s") for s in series]
    if kind == "m":
        return [s / np.timedelta64(1, "s") for s in series]
    return [s.astype(np.float64) for s in series]


def long_targets(df: pd.DataFrame, id_col: Hashable, target_col: Hashable) -> pd.Series:
    """One target per series id, aligned with the rows of :func:`from_long`.

    Parameters
    ----------
    df : DataFrame
        Long layout with a target column that is constant within each series (the same
        frame given to ``from_long``, or one row per id).
    id_col : hashable
        Column holding the series id.
    target_col : hashable
        Column holding the target.

    Returns
    -------
    y : Series of shape (n_series,)
        Indexed by the series ids in sorted order (the order of ``from_long``'s rows when
        both see the same ids), named ``target_col``.

    Raises
    ------
    ValueError
        If a series has more than one distinct target (NaN counts as a value), or a column
        is absent.

    Examples
    --------
    >>> import pandas as pd
    >>> from sslearn.data import long_targets
    >>> df = pd.DataFrame({"id": [2, 2, 1], "time": [0, 1, 0], "label": ["x", "x", "y"]})
    >>> long_targets(df, "id", "label").tolist()
    ['y', 'x']
    """
    _check_frame(df, {"id_col": id_col, "target_col": target_col})
    codes, ids = _id_codes(df[id_col], id_col)
    grouped = df[target_col].groupby(codes, sort=True)
    n_distinct = grouped.nunique(dropna=False)
    if (n_distinct > 1).any():
        bad = ids[n_distinct.index[n_distinct.to_numpy() > 1]].tolist()
        raise ValueError(
            f"Column {target_col!r} is not constant within series: {len(bad)} id(s) have "
            f"more than one distinct target, e.g. {bad[:5]}. Give each series one target."
        )
    return pd.Series(grouped.first().to_numpy(), index=ids, name=target_col)


# -- long frames handed over as if they were wide ---------------------------------------


def _name(column: object) -> str | None:
    """A column label in lower snake case, or None when it is not a string."""
    if not isinstance(column, str):
        return None
    return column.strip().lower().replace(" ", "_").replace("-", "_")


def _is_id_name(name: str | None) -> bool:
    return name is not None and (name in _ID_NAMES or name.endswith("_id"))


def _has_repeats(column: pd.Series) -> bool:
    try:
        return column.nunique(dropna=False) < len(column)
    except TypeError:  # unhashable cells: no ids
        return False


def _is_time_stamps(column: pd.Series) -> bool:
    dtype = column.dtype
    return (
        ptypes.is_datetime64_any_dtype(dtype)
        or ptypes.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def _is_time_steps(column: pd.Series) -> bool:
    """Numbers that repeat or increase: time steps of several series, or of one."""
    dtype = column.dtype
    if not ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype) or len(column) < 2:
        return False
    return _has_repeats(column) or column.is_monotonic_increasing


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _is_text(pd.Series(dtype.categories))
    return not ptypes.is_bool_dtype(dtype) and ptypes.is_string_dtype(column)


def _long_columns(df: pd.DataFrame) -> tuple[list, list, list]:
    """(id columns with repeated values, time columns, id-named columns of unique values)."""
    ids, times, unique_ids = [], [], []
    for label in df.columns:
        column, name = df[label], _name(label)
        if isinstance(column, pd.DataFrame):  # duplicated labels: let the dtype checks speak
            continue
        if _is_time_stamps(column) or (name in _TIME_NAMES and _is_time_steps(column)):
            times.append(label)
        elif _is_id_name(name):
            (ids if _has_repeats(column) else unique_ids).append(label)
        elif _is_text(column) and _has_repeats(column):
            ids.append(label)  # repeated text labels: ids (a wide frame holds numbers)
    return ids, times, unique_ids


def check_not_long(df: pd.DataFrame, input_name: str = "X") -> None:
    """Refuse a flat DataFrame that is long (one row per observation) rather than wide.

    A flat frame is read as wide: one row per series, one column per time point. A long
    frame read that way would silently become many short series of ids, time stamps and
    values, so it is recognised by columns no wide frame has: time stamps (a datetime,
    timedelta or period dtype; or a column named like ``time`` / ``timestamp`` / ``t`` whose
    values repeat or increase), or series ids (a column named like ``id`` / ``subject`` /
    ``patient`` / ``*_id``, or of text labels, whose values repeat). A wide frame's columns
    are time points holding numbers, so none of these fire on it.

    Parameters
    ----------
    df : DataFrame
        A frame without row MultiIndex and without nested cells.
    input_name : str, default="X"
        How to name ``df`` in error messages.

    Raises
    ------
    ValueError
        If ``df`` looks long (the message names the columns and the ``from_long`` call
        that converts it), or has an id-named column of unique values (an id column in a
        wide frame, which would be read as a time point).
    """
    ids, times, unique_ids = _long_columns(df)
    if ids or times:
        found = [f"{label!r} repeats series ids" for label in ids]
        found += [f"{label!r} holds time stamps" for label in times]
        id_col = repr(ids[0]) if ids else "<series id column>"
        time_col = repr(times[0]) if times else "<time column>"
        raise ValueError(
            f"{input_name} looks like a long-format DataFrame (one row per observation): "
            f"column {', column '.join(found)}. A flat DataFrame is read as wide (one row "
            "per series, one column per time point). Convert it first with "
            f"sslearn.data.from_long({input_name}, id_col={id_col}, time_col={time_col}), "
            "which gives one row per series (and y per series with "
            f"sslearn.data.long_targets({input_name}, id_col={id_col}, target_col=...))."
        )
    if unique_ids:
        raise ValueError(
            f"{input_name} is read as a wide DataFrame (one row per series, every column a "
            f"time point), but column(s) {unique_ids} look like series ids. Move them to "
            f"the index ({input_name}.set_index({unique_ids[0]!r})) or drop them."
        )
