"""Readers for users' own files: ``.ts`` and ``.arff`` (through sktime) and CSV (pandas)."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets._output import cast_targets, check_return_type, to_output

__all__ = ["read_arff", "read_csv_long", "read_csv_wide", "read_ts", "read_ts_splits"]

PathLike = str | os.PathLike


def _check_file(path: PathLike, suffix: str | None = None) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r}.")
    if suffix is not None and not path.lower().endswith(suffix):
        raise ValueError(f"Expected a {suffix} file, got {path!r}.")
    return path


def ts_task(path: str) -> str | None:
    """The task a .ts file declares in its header: classification, regression or None."""
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            tokens = line.strip().lower().split()
            if not tokens or tokens[0].startswith("#"):
                continue
            if tokens[0] == "@data":
                break
            if len(tokens) > 1 and tokens[1] == "true":
                if tokens[0] == "@targetlabel":
                    return "regression"
                if tokens[0] == "@classlabel":
                    return "classification"
    return None


def read_ts_nested(path: PathLike) -> tuple[pd.DataFrame, np.ndarray | None, str | None]:
    """sktime's .ts reader: ("nested_univ" frame, targets or None, task or None)."""
    from sktime.datasets import load_from_tsfile_to_dataframe

    path = _check_file(path, ".ts")
    task = ts_task(path)
    loaded = load_from_tsfile_to_dataframe(path, return_separate_X_and_y=True)
    X, y = loaded if isinstance(loaded, tuple) else (loaded, None)
    return X, cast_targets(y, task), task


def read_ts_splits(
    folder: PathLike, name: str, split: str | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """``{folder}/{name}_{SPLIT}.ts`` through sktime's reader; split None = TRAIN then TEST."""
    parts = [split] if split is not None else ["TRAIN", "TEST"]
    loaded = [read_ts_nested(os.path.join(folder, f"{name}_{part}.ts")) for part in parts]
    if len(loaded) == 1:
        return loaded[0][:2]
    X = pd.concat([X for X, _, _ in loaded], ignore_index=True)
    ys = [y for _, y, _ in loaded]
    return X, None if any(y is None for y in ys) else np.concatenate(ys)


def read_ts(path: PathLike, return_type: str = "numpy"):
    """Read a ``.ts`` file (the UCR/UEA/TSER archive format) with sktime's reader.

    Parameters
    ----------
    path : str or path-like
        The ``.ts`` file. Its header says whether series carry class labels
        (``@classLabel true ...``), regression targets (``@targetLabel true``) or nothing.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Only for ``return_type="numpy"``. Series shorter than the longest are NaN-padded at
        the end (the layout the estimators and :func:`sslearn.data.to_panel` read back
        into the true lengths); missing values (``?``) are NaN too.
    y : ndarray of shape (n_samples,) or None
        Only for ``return_type="numpy"``. Class labels as str (sktime's reader lower-cases
        them), float64 regression targets, or None when the file has no targets.
    frame : DataFrame
        Only for ``return_type="frame"``: one row per (series, time point), with columns
        ``id`` (0..n_samples-1, file order), ``time`` (position, or the file's time
        stamps), one float column per channel (``dim_0``, ``dim_1``, ...) and ``target``
        when the file has targets. Read it with
        ``from_long(frame, "id", "time", channels)`` and
        ``long_targets(frame, "id", "target")``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sslearn.datasets import read_ts
    >>> text = '''@problemName toy
    ... @timeStamps false
    ... @univariate true
    ... @classLabel true a b
    ... @data
    ... 1.0,2.0,3.0:a
    ... 4.0,5.0:b
    ... '''
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.ts"
    >>> _ = path.write_text(text)
    >>> X, y = read_ts(path)
    >>> X.shape, y.tolist()
    ((2, 1, 3), ['a', 'b'])
    >>> X[1, 0].tolist()
    [4.0, 5.0, nan]
    """
    check_return_type(return_type)
    X, y, _ = read_ts_nested(path)
    return to_output(X, y, return_type)


def read_arff(path: PathLike, return_type: str = "numpy", has_labels: bool = True):
    """Read a Weka ``.arff`` time-series file with sktime's reader.

    Univariate files hold one series per line with the label last; multivariate files use
    ARFF's relational attribute (one quoted block per series, channels separated by
    ``\\n``), as in the UEA archive.

    Parameters
    ----------
    path : str or path-like
        The ``.arff`` file.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame, as in :func:`read_ts`.
    has_labels : bool, default=True
        Whether the last attribute of each line is the target.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Only for ``return_type="numpy"``; NaN-padded as in :func:`read_ts`.
    y : ndarray of shape (n_samples,) of str, or None
        Only for ``return_type="numpy"``. The targets as written in the file (convert
        regression targets with ``y.astype(float)``), or None if ``has_labels=False``.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0``, ... and
        ``target`` (if labelled).
    """
    from sktime.datasets import load_from_arff_to_dataframe

    check_return_type(return_type)
    path = _check_file(path, ".arff")
    loaded = load_from_arff_to_dataframe(
        path, has_class_labels=has_labels, return_separate_X_and_y=True
    )
    X, y = loaded if has_labels else (loaded, None)
    return to_output(X, cast_targets(y, "classification"), return_type)


def _columns(value: Hashable | Sequence[Hashable] | None) -> list[Hashable]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def read_csv_long(
    path: PathLike,
    id_col: Hashable = "id",
    time_col: Hashable = "time",
    value_cols: Hashable | Sequence[Hashable] | None = None,
    target_col: Hashable | None = None,
    return_type: str = "numpy",
    **read_csv_kwargs,
):
    """Read a long ("tidy") CSV file: one row per (series id, time) observation.

    Parameters
    ----------
    path : str or path-like
        The CSV file (anything :func:`pandas.read_csv` reads).
    id_col : hashable, default="id"
        Column with the series id.
    time_col : hashable, default="time"
        Column with the time stamp; each series is sorted by it.
    value_cols : hashable or sequence of hashable, default=None
        Channel column(s), in the order wanted. None takes every column other than
        ``id_col``, ``time_col`` and ``target_col``.
    target_col : hashable, default=None
        Column with the target, constant within each series; None if there is none.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` the file as a long DataFrame.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv` (``sep``, ``parse_dates``, ...).

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Only for ``return_type="numpy"``. One row per series id **in sorted id order**,
        NaN-padded at the end of shorter series; empty cells are NaN (missing values).
    y : ndarray of shape (n_samples,) or None
        Only for ``return_type="numpy"``: one target per id, aligned with ``X``; None if
        ``target_col`` is None.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id_col``, ``time_col``, the value
        columns and ``target_col``, sorted by id and time, checked as
        :func:`sslearn.data.from_long` checks them.

    Raises
    ------
    ValueError
        If a column is absent, an (id, time) pair repeats, or a target is not constant
        within a series.
    """
    check_return_type(return_type)
    df = pd.read_csv(_check_file(path), **read_csv_kwargs)
    targets = _columns(target_col)
    if value_cols is None:
        value_cols = [c for c in df.columns if c not in (id_col, time_col, *targets)]
    value_cols = _columns(value_cols)
    rows = from_long(df, id_col, time_col, value_cols)
    y = long_targets(df, id_col, target_col).to_numpy() if target_col is not None else None
    if return_type == "frame":
        frame = df[[id_col, time_col, *value_cols, *targets]]
        return frame.sort_values([id_col, time_col], kind="stable", ignore_index=True)
    return to_panel(rows, input_name="the CSV values").to_numpy(), y


def read_csv_wide(
    path: PathLike,
    target_col: Hashable | None = None,
    id_col: Hashable | None = None,
    return_type: str = "numpy",
    **read_csv_kwargs,
):
    """Read a wide CSV file: one row per univariate series, one column per time point.

    Parameters
    ----------
    path : str or path-like
        The CSV file (anything :func:`pandas.read_csv` reads), with a header row.
    target_col : hashable, default=None
        Column with the target; None if there is none.
    id_col : hashable, default=None
        Column with a series id; None numbers the rows 0..n-1.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame.
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    X : ndarray of shape (n_samples, 1, n_timepoints), dtype float32
        Only for ``return_type="numpy"``. Every other column is a time point, in file
        order. Empty trailing cells make a series shorter (NaN padding); empty cells
        inside it are missing values.
    y : ndarray of shape (n_samples,) or None
        Only for ``return_type="numpy"``; None if ``target_col`` is None.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time`` (the position 0..L-1),
        ``dim_0`` and ``target`` (if given); trailing padding is dropped.
    """
    check_return_type(return_type)
    df = pd.read_csv(_check_file(path), **read_csv_kwargs)
    meta = _columns(target_col) + _columns(id_col)
    absent = [c for c in meta if c not in df.columns]
    if absent:
        raise ValueError(
            f"Column(s) {absent} not found in {os.fspath(path)!r}; available columns: "
            f"{list(df.columns)}."
        )
    y = df[target_col].to_numpy() if target_col is not None else None
    ids = df[id_col].to_numpy() if id_col is not None else np.arange(len(df))
    panel = to_panel(df.drop(columns=meta), input_name="the CSV values")
    X = panel.to_numpy()
    if return_type == "numpy":
        return X, y
    lengths = panel.lengths
    keep = panel.valid_mask
    frame = pd.DataFrame(
        {
            "id": np.repeat(ids, lengths),
            "time": np.nonzero(keep)[1],
            "dim_0": X[:, 0][keep].astype(np.float64),
        }
    )
    if y is not None:
        frame["target"] = np.repeat(y, lengths)
    return frame
