"""Standardisation that ignores padding and missing values: per channel over the whole
training set (:class:`ChannelScaler`), or per series and channel (:func:`standardise_series`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sslearn.data._convert import to_panel
from sslearn.data._panel import Panel

__all__ = ["ChannelScaler", "standardise_series"]

# A channel counts as constant when std < _REL_TOL * max(1, |mean|); its scale_ is then 1.0.
_REL_TOL = 1e-8


def observed_moments(panel: Panel, axis: int | tuple[int, ...]):
    """Count, mean and population variance of the observed values along ``axis``.

    Observed: inside each series' length and not missing. Sums in float64; the values are
    centred on the mean rounded to their own float32 before squaring. Where nothing is
    observed, the mean and variance are 0.0.

    Parameters
    ----------
    panel : Panel
    axis : int or tuple of int
        Axes of ``panel.values`` (n_samples, n_channels, n_timepoints) to reduce.

    Returns
    -------
    count, mean, var : ndarray
        Each of ``panel.values``' shape with the reduced axes kept as size 1.
    """
    observed = panel.observed_mask
    count = observed.sum(axis=axis, keepdims=True)
    total = np.sum(panel.values, axis=axis, keepdims=True, where=observed, dtype=np.float64)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    centred = panel.values - mean.astype(np.float32)
    sq = np.sum(centred * centred, axis=axis, keepdims=True, where=observed, dtype=np.float64)
    var = np.divide(sq, count, out=np.zeros_like(sq), where=count > 0)
    return count, mean, var


def divisor(count: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """The standard deviation ``sqrt(var)``, or 1.0 where nothing was observed or the values
    are constant (``std < 1e-8 * max(1, |mean|)``): never a division by rounding noise (the
    policy of scikit-learn's ``StandardScaler``)."""
    std = np.sqrt(var)
    constant = (count == 0) | (std < _REL_TOL * np.maximum(1.0, np.abs(mean)))
    return np.where(constant, 1.0, std)


def scaled_panel(panel: Panel, values: np.ndarray) -> Panel:
    """``panel`` with new ``values`` as float32, 0.0 at padding and missing positions, and
    copies of its lengths and missing mask."""
    values = values.astype(np.float32, copy=False)
    values[~panel.observed_mask] = 0.0
    return Panel(values, panel.lengths.copy(), panel.missing.copy(), panel.channel_names)


class ChannelScaler(TransformerMixin, BaseEstimator):
    """Standardise each channel with statistics over observed values only.

    The 3-D counterpart of :class:`~sklearn.preprocessing.StandardScaler`: one mean and
    one standard deviation per channel, pooled over all series and time steps, computed only
    where a value was observed (inside each series' length and not missing). Padding and
    missing positions stay 0.0 after scaling, and the masks and lengths are unchanged.

    Parameters
    ----------
    with_mean : bool, default=True
        If True, subtract the per-channel mean.
    with_std : bool, default=True
        If True, divide by the per-channel standard deviation (population, ``ddof=0``).

    Attributes
    ----------
    mean_ : ndarray of shape (n_channels,)
        Per-channel mean of the observed values (0.0 when ``with_mean=False`` or when a
        channel has no observed value).
    var_ : ndarray of shape (n_channels,)
        Per-channel variance of the observed values (0.0 when a channel has no observed
        value).
    scale_ : ndarray of shape (n_channels,)
        Per-channel divisor: the standard deviation, or 1.0 when ``with_std=False``, when a
        channel has no observed value, or when it is constant, i.e.
        ``std < 1e-8 * max(1, |mean|)`` (so constant channels are only centred, never blown
        up by rounding noise; the same policy as scikit-learn's ``StandardScaler``).
    n_observed_ : ndarray of shape (n_channels,)
        Number of observed values per channel used for the statistics.
    n_channels_ : int
        Number of channels seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.data import ChannelScaler, to_panel
    >>> panel = to_panel([np.array([[1.0, 3.0]]), np.array([[5.0, np.nan, 7.0]])])
    >>> scaler = ChannelScaler().fit(panel)
    >>> scaler.mean_, scaler.n_observed_
    (array([4.]), array([4]))
    >>> scaler.transform(panel).values[0, 0].tolist()  # padding stays 0.0
    [-1.3416407108306885, -0.4472135901451111, 0.0]
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any, y: Any = None) -> ChannelScaler:
        """Compute per-channel mean and standard deviation over observed values.

        Parameters
        ----------
        X : Panel or any input accepted by :func:`~sslearn.data.to_panel`
            Series of shape (n_samples, n_channels, n_timepoints).
        y : None
            Ignored.

        Returns
        -------
        self : ChannelScaler
            The fitted scaler.
        """
        panel = to_panel(X)
        count, mean, var = (a.ravel() for a in observed_moments(panel, axis=(0, 2)))
        self.mean_ = mean if self.with_mean else np.zeros_like(mean)
        self.var_ = var
        self.scale_ = divisor(count, mean, var) if self.with_std else np.ones_like(var)
        self.n_observed_ = count.astype(np.int64)
        self.n_channels_ = panel.n_channels
        return self

    def _checked_panel(self, X: Any) -> Panel:
        check_is_fitted(self)
        panel = to_panel(X)
        if panel.n_channels != self.n_channels_:
            raise ValueError(
                f"X has {panel.n_channels} channel(s), but ChannelScaler was fitted with "
                f"{self.n_channels_}."
            )
        return panel

    def transform(self, X: Any) -> Panel:
        """Standardise each channel; padding and missing positions stay 0.0.

        Parameters
        ----------
        X : Panel or any input accepted by :func:`~sslearn.data.to_panel`
            Series of shape (n_samples, n_channels, n_timepoints).

        Returns
        -------
        panel : Panel
            A new Panel with scaled ``values`` and copies of ``lengths`` and ``missing``.
        """
        panel = self._checked_panel(X)
        mean = self.mean_.astype(np.float32)[None, :, None]
        scale = self.scale_.astype(np.float32)[None, :, None]
        return scaled_panel(panel, (panel.values - mean) / scale)

    def inverse_transform(self, X: Any) -> Panel:
        """Undo :meth:`transform`; padding and missing positions stay 0.0.

        Parameters
        ----------
        X : Panel or any input accepted by :func:`~sslearn.data.to_panel`
            Scaled series of shape (n_samples, n_channels, n_timepoints).

        Returns
        -------
        panel : Panel
            A new Panel in the original units.
        """
        panel = self._checked_panel(X)
        mean = self.mean_.astype(np.float32)[None, :, None]
        scale = self.scale_.astype(np.float32)[None, :, None]
        return scaled_panel(panel, panel.values * scale + mean)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        return tags


def standardise_series(X: Any) -> Panel:
    """Standardise every series and channel by its own mean and standard deviation.

    The z-normalisation of the UCR archive, over observed values only: for series ``i`` and
    channel ``c``, ``z = (x - mean_ic) / std_ic`` with both statistics taken over the steps
    inside the series' length where the value is not missing. A (series, channel) that is
    constant (``std < 1e-8 * max(1, |mean|)``, as :class:`ChannelScaler`) or has no
    observed value is only centred. The result is invariant to a positive gain and an
    offset per series and channel, so a series' level and amplitude are lost.

    Parameters
    ----------
    X : Panel or any input accepted by :func:`~sslearn.data.to_panel`
        Series of shape (n_samples, n_channels, n_timepoints).

    Returns
    -------
    panel : Panel
        A new Panel with standardised ``values`` (padding and missing positions 0.0) and
        copies of ``lengths`` and ``missing``.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.data import standardise_series, to_panel
    >>> panel = to_panel([np.array([[1.0, 3.0]]), np.array([[10.0, np.nan, 30.0]])])
    >>> standardise_series(panel).values[:, 0].tolist()
    [[-1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]]
    """
    panel = to_panel(X)
    count, mean, var = observed_moments(panel, axis=2)
    return scaled_panel(panel, (panel.values - mean) / divisor(count, mean, var))
