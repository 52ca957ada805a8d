"""``LiquidS4Regressor``: time-series regression with a Liquid-S4 network."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils.validation import check_array

from sslearn._base import BaseLiquidS4
from sslearn._docs import DOC_ATTRIBUTES, DOC_PARAMETERS


class LiquidS4Regressor(RegressorMixin, BaseLiquidS4):
    __doc__ = (
        """Time-series regressor built on a Liquid-S4 state-space network.

    Series go through a linear encoder, ``n_layers`` residual Liquid-S4 blocks, masked
    pooling over time and a linear head trained with the (weighted) mean squared error on
    standardised targets; predictions are returned in the original units. One or several
    targets per series. Inputs are as for :class:`LiquidS4Classifier`.
"""
        + DOC_PARAMETERS
        + """
    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
"""
        + DOC_ATTRIBUTES
        + """
    See Also
    --------
    LiquidS4Classifier : The same network for classification.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn import LiquidS4Regressor
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 6, 40)
    >>> y = rng.uniform(1, 2, size=40)
    >>> X = np.sin(y[:, None] * t)[:, None, :]  # (n_samples, n_channels, n_timepoints)
    >>> reg = LiquidS4Regressor(d_model=16, n_layers=1, d_state=8, max_epochs=50, lr=1e-2,
    ...                         random_state=0, device="cpu").fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.score(X, y) > 0.5
    True
"""
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on series and their targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
            Training series; any layout accepted by :func:`~sslearn.data.to_panel`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the series in the loss.

        Returns
        -------
        self : LiquidS4Regressor
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one more epoch on ``(X, y)``, starting from the current network.

        The first call learns the channel and target scaling. Every call takes one pass
        over its batch at the constant learning rate ``lr``, without schedule, validation
        split or early stopping.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LiquidS4Regressor
        """
        return self._fit(X, y, sample_weight, incremental=True)

    # -- override points -------------------------------------------------------------------
    def _encode_targets(self, y, *, first, classes=None):
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", estimator=self)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}.")
        y2d = y.reshape(len(y), -1)
        if first:
            self._y_ndim = y.ndim
            self.n_outputs_ = y2d.shape[1]
            # moments of y / max|y|: squares of targets near 1e300 would overflow
            magnitude = np.abs(y2d).max(axis=0, initial=0.0)
            magnitude = np.where(magnitude > 0, magnitude, 1.0)
            self._y_mean = (y2d / magnitude).mean(axis=0) * magnitude
            std = (y2d / magnitude).std(axis=0) * magnitude
            self._y_scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self._y_mean)), std, 1.0)
        elif y2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2d.shape[1]} targets, but {type(self).__name__} was fitted with "
                f"{self.n_outputs_}."
            )
        with np.errstate(over="ignore"):
            standardised = (y2d - self._y_mean) / self._y_scale
        if not np.isfinite(standardised).all():
            raise ValueError(
                f"y spans too wide a range to be standardised in float64 (from {y2d.min():g} "
                f"to {y2d.max():g}). Rescale it, e.g. y / {np.abs(y2d).max():.0e}."
            )
        return standardised.astype(np.float32)

    def _n_outputs(self):
        return self.n_outputs_

    def _loss(self, outputs, targets):
        return ((outputs - targets) ** 2).mean(dim=-1)

    def _validation_score(self, outputs, targets, weights):
        """Weighted R² averaged over the targets."""
        w = torch.ones_like(targets[:, 0]) if weights is None else weights
        w = (w / w.sum().clamp(min=1e-12))[:, None]
        mean = (w * targets).sum(0, keepdim=True)
        residual = (w * (targets - outputs) ** 2).sum(0)
        total = (w * (targets - mean) ** 2).sum(0)
        r2 = 1 - residual / total.clamp(min=1e-12)
        return r2.mean()

    # -- prediction ------------------------------------------------------------------------
    def predict(self, X):
        """Predicted targets of each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The shape of ``y`` in fit.
        """
        y = self._forward(X) * self._y_scale + self._y_mean
        return y.ravel() if self._y_ndim == 1 else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
