"""The Panel container: padded float32 values, true lengths and a missing-value mask."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Panel"]


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
