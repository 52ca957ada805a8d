"""The Panel container (padded float32 values, true lengths and a missing-value mask), how
NaN-padded float32 blocks become one (lengths, missing mask, padding and checks), and the
dtype checks before that: numeric arrays and frames to float32, with errors that name the fix.

Every input format ends here, so one rule decides what NaN means everywhere:
trailing time steps where *all* channels are NaN are padding (they define each series'
length); any other NaN is a missing value (0.0 in ``values``, True in ``missing``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = [
    "Panel",
    "array_as_float32",
    "check_numeric_frame",
    "empty_error",
    "frame_as_float32",
    "numeric_frame",
    "objects_as_numbers",
    "panel_from_blocks",
    "panel_from_padded",
    "time_stamps_error",
]


class Panel:
    """A batch of (possibly unequal-length, possibly incomplete) multivariate time series.

    This is the one shape in which the data floor hands time series to the rest of sslearn.
    Build it with :func:`~sslearn.data.to_panel` rather than by hand: ``to_panel`` validates
    user input and establishes the invariants listed below, the constructor only checks
    shapes and dtypes.

    Parameters
    ----------
    values : array-like of shape (n_samples, n_channels, n_timepoints)
        Series values, padded at the end to a common length. Stored as float32.
    lengths : array-like of shape (n_samples,)
        True length of each series, ``1 <= lengths[i] <= n_timepoints``. Stored as int64.
    missing : array-like of shape (n_samples, n_channels, n_timepoints), default=None
        True where a value inside the valid part of a series is missing (was NaN).
        ``None`` means nothing is missing. Stored as bool.
    channel_names : sequence of str, default=None
        One name per channel, or ``None`` when the input had no (string) channel names.

    Attributes
    ----------
    values : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Padded values; 0.0 at padding (``t >= lengths[i]``) and at missing positions.
    lengths : ndarray of shape (n_samples,), dtype int64
        True length of each series.
    missing : ndarray of shape (n_samples, n_channels, n_timepoints), dtype bool
        True only at missing positions inside the valid part; False at padding.
    channel_names : list of str or None
        Channel names, when the input carried them.

    Notes
    -----
    Invariants established by ``to_panel`` (and kept by :meth:`subset` and
    :class:`~sslearn.data.ChannelScaler`):

    - ``values`` is finite everywhere and 0.0 wherever ``valid_mask`` is False or
      ``missing`` is True;
    - ``missing`` is False at padding;
    - ``n_timepoints == lengths.max()`` (no all-padding columns at the end);
    - no series ends in a time step where every channel is missing (such steps are padding).

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.data import to_panel
    >>> panel = to_panel([np.arange(1.0, 4.0), np.arange(1.0, 3.0)])
    >>> panel.values.shape, panel.lengths.tolist()
    ((2, 1, 3), [3, 2])
    >>> panel.values[1]
    array([[1., 2., 0.]], dtype=float32)
    """

    def __init__(
        self,
        values: np.ndarray,
        lengths: np.ndarray,
        missing: np.ndarray | None = None,
        channel_names: Sequence[str] | None = None,
    ) -> None:
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 3:
            raise ValueError(
                f"Panel values must have shape (n_samples, n_channels, n_timepoints), "
                f"got an array of shape {values.shape}."
            )
        n, n_channels, max_length = values.shape
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.shape != (n,):
            raise ValueError(f"Panel lengths must have shape ({n},), got {lengths.shape}.")
        if n and (lengths.min() < 1 or lengths.max() > max_length):
            raise ValueError(
                f"Panel lengths must lie in [1, {max_length}], got values in "
                f"[{lengths.min()}, {lengths.max()}]."
            )
        if missing is None:
            missing = np.zeros(values.shape, dtype=bool)
        missing = np.asarray(missing, dtype=bool)
        if missing.shape != values.shape:
            raise ValueError(
                f"Panel missing mask must have the shape of values {values.shape}, "
                f"got {missing.shape}."
            )
        if channel_names is not None:
            channel_names = [str(name) for name in channel_names]
            if len(channel_names) != n_channels:
                raise ValueError(
                    f"Panel has {n_channels} channel(s) but {len(channel_names)} "
                    "channel name(s) were given."
                )
        self.values = values
        self.lengths = lengths
        self.missing = missing
        self.channel_names = channel_names

    @property
    def n_samples(self) -> int:
        """Number of series."""
        return self.values.shape[0]

    @property
    def n_channels(self) -> int:
        """Number of channels (variables) per time step."""
        return self.values.shape[1]

    @property
    def max_length(self) -> int:
        """Padded length, i.e. the length of the longest series."""
        return self.values.shape[2]

    @property
    def has_missing(self) -> bool:
        """Whether any value inside the valid part of a series is missing."""
        return bool(self.missing.any())

    @property
    def valid_mask(self) -> np.ndarray:
        """Bool array of shape (n_samples, n_timepoints): True where ``t < lengths[i]``."""
        return np.arange(self.max_length) < self.lengths[:, None]

    @property
    def observed_mask(self) -> np.ndarray:
        """Bool array of shape (n_samples, n_channels, n_timepoints): valid and not missing."""
        return self.valid_mask[:, None, :] & ~self.missing

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        return (
            f"Panel(n_samples={self.n_samples}, n_channels={self.n_channels}, "
            f"max_length={self.max_length}, has_missing={self.has_missing}, "
            f"channel_names={self.channel_names})"
        )

    def subset(self, indices: Sequence[int] | np.ndarray) -> Panel:
        """Return the series at ``indices`` as a new Panel.

        Parameters
        ----------
        indices : array-like of int or bool
            Row positions (or a boolean mask of length ``n_samples``) to keep, in the
            order given.

        Returns
        -------
        panel : Panel
            The selected series; ``max_length`` is trimmed to the longest kept series.
        """
        indices = np.asarray(indices)
        if indices.dtype == bool:
            if indices.shape != (self.n_samples,):
                raise ValueError(
                    f"A boolean mask must have shape ({self.n_samples},), got {indices.shape}."
                )
            indices = np.flatnonzero(indices)
        indices = indices.astype(np.intp, copy=False).reshape(-1)
        lengths = self.lengths[indices]
        keep = int(lengths.max()) if lengths.size else 0
        return Panel(
            self.values[indices, :, :keep],
            lengths,
            self.missing[indices, :, :keep],
            self.channel_names,
        )

    def to_numpy(self, fill_value: float = np.nan) -> np.ndarray:
        """Return the values with ``fill_value`` at padding and missing positions.

        With the default ``fill_value=np.nan`` this is the NaN-padded layout that
        :func:`~sslearn.data.to_panel` reads back into the same Panel.

        Parameters
        ----------
        fill_value : float, default=np.nan
            Value written at padding and missing positions.

        Returns
        -------
        values : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
            A new array.
        """
        out = self.values.copy()
        out[~self.observed_mask] = fill_value
        return out


_EMPTY_FIX = {
    "sample": "Pass at least one series.",
    "channel": "Each series needs at least one channel (variable).",
    "feature": "Each series needs at least one time point (2-D input is read as "
    "(n_samples, n_timepoints)).",
    "timepoint": "Each series needs at least one time point.",
}


def empty_error(what: str, shape: tuple) -> ValueError:
    """The error for input with a zero-sized axis, worded as scikit-learn words it.

    Parameters
    ----------
    what : {"sample", "channel", "feature", "timepoint"}
        The empty axis ("feature" for the time axis of 2-D input, as sklearn calls it).
    shape : tuple
        The user's input shape, shown in the message.

    Returns
    -------
    error : ValueError
    """
    return ValueError(
        f"Found array with 0 {what}(s) (shape={tuple(shape)}) while a minimum of 1 is "
        f"required. {_EMPTY_FIX[what]}"
    )


def _first_positions(mask: np.ndarray, limit: int = 3) -> str:
    hits = np.argwhere(mask)[:limit]
    return ", ".join(f"(sample {i}, channel {c}, time step {t})" for i, c, t in hits)


def panel_from_padded(
    values: np.ndarray,
    channel_names: Sequence[str] | None = None,
    *,
    raw_lengths: np.ndarray | None = None,
    allow_nan: bool = True,
    input_name: str = "X",
) -> Panel:
    """Build a Panel from a NaN-padded float32 array, taking ownership of it.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Written into in place (NaN replaced by 0.0); pass a copy of user data.
        ``n_samples``, ``n_channels`` and ``n_timepoints`` must be >= 1 (callers check
        this, since they know the user's shape).
    channel_names : sequence of str, default=None
        Passed through to the Panel.
    raw_lengths : ndarray of shape (n_samples,), default=None
        Lengths of the user's series before padding was added by the caller (list input).
        NaN at ``t >= raw_lengths[i]`` was added by us and is exempt from ``allow_nan``.
        ``None`` means the user supplied every position.
    allow_nan : bool, default=True
        If False, any NaN the user supplied raises "Input X contains NaN.".
    input_name : str, default="X"
        Name used in error messages.

    Returns
    -------
    panel : Panel
    """
    max_len = values.shape[2]
    is_inf = np.isinf(values)
    if is_inf.any():
        raise ValueError(
            f"Input {input_name} contains infinity or a value too large for "
            f"dtype('float32'): {int(is_inf.sum())} value(s), first at "
            f"{_first_positions(is_inf)}. Replace them with finite values, or with NaN "
            "to mark them as missing."
        )
    is_nan = np.isnan(values)
    if not allow_nan:
        user_nan = is_nan
        if raw_lengths is not None:
            user_nan = is_nan & (np.arange(max_len) < raw_lengths[:, None])[:, None, :]
        if user_nan.any():
            raise ValueError(
                f"Input {input_name} contains NaN. {int(user_nan.sum())} value(s), first at "
                f"{_first_positions(user_nan)}. Impute them, or call with allow_nan=True "
                "(the default), which treats inner NaN as missing values and trailing "
                "all-NaN time steps as padding. Pass unequal-length series as a list of "
                "arrays rather than NaN-padded."
            )

    observed_step = ~is_nan.all(axis=1)  # (n, L): any channel observed at t
    lengths = max_len - np.argmax(observed_step[:, ::-1], axis=1)
    empty = ~observed_step.any(axis=1)
    if empty.any():
        bad = np.flatnonzero(empty)
        raise ValueError(
            f"{input_name} contains {bad.size} series with no observed value (all NaN, so "
            f"length 0 after removing NaN padding): sample(s) {bad[:10].tolist()}. Every "
            "series needs at least one non-NaN value; drop these samples."
        )
    lengths = lengths.astype(np.int64)

    keep = int(lengths.max())
    if keep < max_len:
        values = np.ascontiguousarray(values[:, :, :keep])
        is_nan = is_nan[:, :, :keep]
    valid = np.arange(keep) < lengths[:, None]  # (n, L)
    missing = is_nan & valid[:, None, :]
    values[is_nan] = 0.0  # padding is all-NaN by construction, so this zeroes it too
    return Panel(values, lengths, missing, channel_names)


def panel_from_blocks(
    blocks: Sequence[np.ndarray],
    channel_names: Sequence[str] | None = None,
    *,
    allow_nan: bool = True,
    input_name: str = "X",
) -> Panel:
    """Pad a list of float32 ``(n_channels, length_i)`` blocks with NaN and build a Panel.

    Parameters
    ----------
    blocks : sequence of ndarray, each of shape (n_channels, length_i)
        Non-empty; same ``n_channels`` and ``length_i >= 1`` (callers check both).
    channel_names : sequence of str, default=None
        Passed through to the Panel.
    allow_nan : bool, default=True
        See :func:`panel_from_padded`.
    input_name : str, default="X"
        Name used in error messages.

    Returns
    -------
    panel : Panel
    """
    raw_lengths = np.array([b.shape[1] for b in blocks], dtype=np.int64)
    dense = np.full(
        (len(blocks), blocks[0].shape[0], int(raw_lengths.max())), np.nan, dtype=np.float32
    )
    for i, block in enumerate(blocks):
        dense[i, :, : block.shape[1]] = block
    return panel_from_padded(
        dense, channel_names, raw_lengths=raw_lengths, allow_nan=allow_nan, input_name=input_name
    )


# -- dtypes: numeric arrays and frames to float32 ------------------------------------------

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
