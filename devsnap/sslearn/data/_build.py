"""From NaN-padded float32 blocks to a Panel: lengths, missing mask, padding and checks.

Every input format ends here, so one rule decides what NaN means everywhere:
trailing time steps where *all* channels are NaN are padding (they define each series'
length); any other NaN is a missing value (0.0 in ``values``, True in ``missing``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sslearn.data._panel import Panel

__all__ = ["empty_error", "panel_from_blocks", "panel_from_padded"]

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
