"""``to_panel``: validate whatever users hand us and convert it to a Panel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sslearn.data._frames import frame_block, frame_to_panel, string_names
from sslearn.data._panel import (
    Panel,
    array_as_float32,
    empty_error,
    frame_as_float32,
    panel_from_blocks,
    panel_from_padded,
)

__all__ = ["to_panel"]

_ACCEPTED = (
    "a 2-D array (n_samples, n_timepoints), a 3-D array (n_samples, n_channels, "
    "n_timepoints), a list of 1-D/2-D arrays, pd.Series or DataFrames, a wide DataFrame, "
    "a sktime 'pd-multiindex' or 'nested_univ' DataFrame, or the output of from_long"
)


def to_panel(X: Any, *, allow_nan: bool = True, input_name: str = "X") -> Panel:
    """Validate time-series input and convert it to a :class:`Panel`.

    Accepted layouts (``n_timepoints`` is the time axis):

    - ndarray of shape (n_samples, n_timepoints): univariate series;
    - ndarray of shape (n_samples, n_channels, n_timepoints) (sktime's "numpy3D");
    - list or tuple of series of unequal lengths: each a 1-D array or pd.Series
      (univariate), or a 2-D array of shape (n_channels, length_i), all with the same
      ``n_channels``;
    - list of DataFrames, rows = time, columns = channels (sktime's "df-list"), all with
      the same columns;
    - wide DataFrame: one row per series, one column per time point (univariate);
    - sktime "pd-multiindex" DataFrame: row MultiIndex (instance, time), one column per
      channel; series keep the order in which instances first appear;
    - sktime "nested_univ" DataFrame: one row per series, one column per channel, each cell
      a pd.Series over time; this includes :func:`~sslearn.data.from_long` output and any
      row subset of it (as taken by scikit-learn's cross-validation);
    - a :class:`Panel` (returned as is).

    NaN handling, the same for every layout: trailing time steps where all channels are NaN
    are padding and set each series' length (this is how NaN-padded arrays encode unequal
    lengths); any other NaN is a missing value, stored as 0.0 with ``missing=True``. Time
    stamps in pandas indexes only order the values: series are aligned by position, so
    irregular sampling is not represented.

    Parameters
    ----------
    X : object
        Time series in one of the layouts above.
    allow_nan : bool, default=True
        If False, any NaN supplied by the user (missing value or NaN padding) raises
        ``ValueError("Input X contains NaN. ...")``. Unequal lengths are then passed as a
        list of arrays.
    input_name : str, default="X"
        Name used in error messages.

    Returns
    -------
    panel : Panel
        ``values`` float32 of shape (n_samples, n_channels, n_timepoints), ``lengths``
        int64 of shape (n_samples,), ``missing`` bool of the shape of ``values``, and
        ``channel_names`` (column names of DataFrame input when they are all strings, else
        None).

    Raises
    ------
    ValueError
        For shapes that are not a panel (1-D or >= 4-D arrays, "Reshape your data"),
        empty input ("0 sample(s)", zero channels or time points), series that are
        entirely NaN, inconsistent channel counts or names across list elements, infinite
        values ("Input X contains infinity ..."), complex values ("Complex data not
        supported"), and NaN when ``allow_nan=False`` ("Input X contains NaN.").
    TypeError
        For unsupported input types (including sparse matrices) and non-numeric data
        (bool, strings, datetimes, non-numeric DataFrame columns, object arrays that hold
        neither numbers nor series).

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.data import to_panel
    >>> X = np.array([[[1.0, 2.0, np.nan], [3.0, np.nan, np.nan]]])  # NaN-padded
    >>> panel = to_panel(X)
    >>> panel.lengths.tolist(), panel.missing[0, 1].tolist()
    ([2], [False, True])
    >>> to_panel([np.ones(4), np.ones(2)]).values.shape
    (2, 1, 4)
    """
    if isinstance(X, Panel):
        if not allow_nan and X.has_missing:
            raise ValueError(
                f"Input {input_name} contains NaN. The Panel has missing values; impute them "
                "or call with allow_nan=True."
            )
        return X
    if isinstance(X, pd.DataFrame):
        return frame_to_panel(X, allow_nan=allow_nan, input_name=input_name)
    if isinstance(X, pd.Series):
        raise _ndim_error(1, X.shape, input_name)
    if isinstance(X, list | tuple):
        return _from_sequence(X, allow_nan=allow_nan, input_name=input_name)
    if hasattr(X, "nnz") and hasattr(X, "toarray"):
        raise TypeError(
            f"Sparse input is not supported: {input_name} is a {type(X).__name__}. Pass a "
            "dense array, e.g. X.toarray()."
        )
    if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        arr = np.asarray(X)
        if (
            arr.dtype == object
            and arr.ndim == 1
            and arr.size
            and isinstance(arr[0], pd.DataFrame | pd.Series | np.ndarray | list | tuple)
        ):
            return _from_sequence(list(arr), allow_nan=allow_nan, input_name=input_name)
        return _from_array(arr, allow_nan=allow_nan, input_name=input_name)
    raise TypeError(f"{input_name} of type {type(X).__name__} is not supported. Pass {_ACCEPTED}.")


def is_series(value: object) -> bool:
    """A series or array (torch tensors too), not a number."""
    if isinstance(value, pd.Series | np.ndarray | list | tuple):
        return True
    return hasattr(value, "__array__") and getattr(value, "ndim", 0) >= 1


def _ndim_error(ndim: int, shape: tuple, input_name: str) -> ValueError:
    if ndim <= 1:
        fix = (
            f"Reshape your data: {input_name}.reshape(1, -1) if it holds a single series, "
            f"{input_name}.reshape(-1, 1) if it holds one value per sample."
        )
    else:
        fix = (
            "Reshape your data to (n_samples, n_channels, n_timepoints), e.g. by merging "
            "extra axes into the channel axis."
        )
    return ValueError(
        f"Expected a 2-D array (n_samples, n_timepoints) or a 3-D array (n_samples, "
        f"n_channels, n_timepoints), got a {ndim}-D array of shape {tuple(shape)} instead. "
        f"{fix}"
    )


def _from_array(arr: np.ndarray, *, allow_nan: bool, input_name: str) -> Panel:
    if arr.ndim not in (2, 3):
        raise _ndim_error(arr.ndim, arr.shape, input_name)
    if arr.shape[0] == 0:
        raise empty_error("sample", arr.shape)
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise empty_error("feature", arr.shape)
        values = array_as_float32(arr, input_name)[:, None, :]
    else:
        if arr.shape[1] == 0:
            raise empty_error("channel", arr.shape)
        if arr.shape[2] == 0:
            raise empty_error("timepoint", arr.shape)
        values = array_as_float32(arr, input_name)
    return panel_from_padded(values, None, allow_nan=allow_nan, input_name=input_name)


def _from_sequence(seq: Sequence, *, allow_nan: bool, input_name: str) -> Panel:
    if len(seq) == 0:
        raise empty_error("sample", (0,))
    n_frames = sum(isinstance(el, pd.DataFrame) for el in seq)
    if 0 < n_frames < len(seq):
        raise TypeError(
            f"{input_name} mixes DataFrames (rows = time, columns = channels) with other "
            "series types (channels first). Use one kind for all elements."
        )
    if n_frames:
        columns = seq[0].columns
        for i, frame in enumerate(seq):
            if not frame.columns.equals(columns):
                raise ValueError(
                    f"{input_name}[{i}] has columns {list(frame.columns)} but {input_name}[0] "
                    f"has {list(columns)}; every DataFrame must have the same channels in the "
                    f"same order (e.g. select them with df[{list(columns)}])."
                )
        blocks = [frame_block(f, f"{input_name}[{i}]") for i, f in enumerate(seq)]
        names = string_names(columns)
    else:
        if not is_series(seq[0]):
            # a flat list of numbers is one 1-D array, not a panel
            return _from_array(np.asarray(seq), allow_nan=allow_nan, input_name=input_name)
        blocks = [_element_block(el, f"{input_name}[{i}]") for i, el in enumerate(seq)]
        names = None
    n_channels = blocks[0].shape[0]
    for i, block in enumerate(blocks):
        if block.shape[0] == 0:
            raise ValueError(
                f"{input_name}[{i}] has 0 channels (shape {block.shape} as (n_channels, "
                "n_timepoints)); every series needs at least one channel."
            )
        if block.shape[0] != n_channels:
            raise ValueError(
                f"Inconsistent number of channels: {input_name}[{i}] has {block.shape[0]} "
                f"but {input_name}[0] has {n_channels}. All series need the same channels; "
                "2-D elements are read as (n_channels, n_timepoints), so transpose any "
                "given as (n_timepoints, n_channels)."
            )
        if block.shape[1] == 0:
            raise ValueError(
                f"{input_name}[{i}] has length 0; every series needs at least one time point."
            )
    return panel_from_blocks(blocks, names, allow_nan=allow_nan, input_name=input_name)


def _element_block(element: Any, where: str) -> np.ndarray:
    """One list element as a float32 block of shape (n_channels, length)."""
    if isinstance(element, pd.Series):
        return frame_as_float32(element, where)[None, :]
    try:
        arr = np.asarray(element)
    except ValueError as exc:
        raise ValueError(
            f"{where} could not be read as an array ({exc}); each element must be a 1-D "
            "series or a 2-D (n_channels, n_timepoints) array."
        ) from exc
    if arr.ndim == 1:
        arr = arr[None, :]
    elif arr.ndim != 2:
        raise ValueError(
            f"{where} has shape {arr.shape}; each element must be a 1-D series of shape "
            "(n_timepoints,) or a 2-D array of shape (n_channels, n_timepoints)."
        )
    return array_as_float32(arr, where)
