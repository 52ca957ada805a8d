"""``LiquidS4Regressor``: time-series regression with a Liquid-S4 network."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_array

from sslearn._base import BaseLiquidS4
from sslearn._conformal import check_alpha, conformal_quantile
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
    conformity_scores_ : ndarray of shape (n_held_out, n_outputs) or None
        Absolute residuals ``|y - predict(X)|`` (original units) of the series held out
        for early stopping, which :meth:`predict_interval` turns into intervals. None
        without a held-out part (``early_stopping=False``, or after ``partial_fit``).
    ensemble_conformity_scores_ : ndarray of shape (n_held_out, n_outputs) or None
        The same residuals divided by the ensemble's spread, ``|y - mean| / (std + eps)``
        (``method="ensemble"`` of :meth:`predict_interval`); None with one member.
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
    def fit(self, X, y, sample_weight=None, groups=None, times=None):
        """Train the network on series and their targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
            Training series; any layout accepted by :func:`~sslearn.data.to_panel`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the series in the loss.
        groups : array-like of shape (n_samples,), default=None
            Group label of each series (e.g. the subject it was recorded from). With early
            stopping, the validation split holds out whole groups (``validation_fraction``
            of them) instead of single series, so the stopping score measures the fit on
            unseen groups. Checked but unused without early stopping. Routed by scikit-learn's
            metadata routing once ``set_fit_request(groups=True)`` is set.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, for irregularly sampled series: numbers (or
            datetime64, read as seconds), NaN after each series' end, or one 1-D array per
            series; strictly increasing within a series. The network then reads the gap
            before each step in units of ``time_unit`` (see the irregular sampling guide),
            and every prediction method needs ``times`` too. None reads every step as one
            sampling interval. Routed by metadata routing once
            ``set_fit_request(times=True)`` is set.

        Returns
        -------
        self : LiquidS4Regressor
        """
        return self._fit(X, y, sample_weight, incremental=False, groups=groups, times=times)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, times=None):
        """Train one more epoch on ``(X, y)``, starting from the current network.

        The first call learns the channel and target scaling. Every call takes one pass
        over its batch at the constant learning rate ``lr``, without schedule, validation
        split or early stopping.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X`` (see :meth:`fit`): on every call if the first
            call had them, never otherwise.

        Returns
        -------
        self : LiquidS4Regressor
        """
        return self._fit(X, y, sample_weight, incremental=True, times=times)

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

    def _calibrate(self, valid_set):
        """Residuals of the held-out series, and with an ensemble, residuals over spread."""
        self.conformity_scores_ = self.ensemble_conformity_scores_ = None
        if valid_set is None:
            return
        mean, std = self._mean_and_std(self._outputs(valid_set, members=True))
        y = valid_set.targets.numpy().astype(np.float64).reshape(len(valid_set), -1)
        self.conformity_scores_ = np.abs(y * self._y_scale + self._y_mean - mean)
        if self.n_estimators > 1:
            self.ensemble_conformity_scores_ = self.conformity_scores_ / (std + self._eps())

    def _mean_and_std(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's mean and spread in original units from standardised member
        outputs (n_samples, n_estimators, n_outputs); the mean is :meth:`predict`'s."""
        mean = self._combine_members(torch.from_numpy(members)).numpy()
        return self._in_target_units(mean), members.std(axis=1) * self._y_scale

    def _eps(self) -> np.ndarray:
        """Added to the ensemble's spread before dividing by it (per target)."""
        return 1e-6 * self._y_scale

    def _predict_2d(self, X, times=None) -> np.ndarray:
        """Predictions (n_samples, n_outputs) in the units of ``y``."""
        return self._in_target_units(self._forward(X, times=times))

    def _in_target_units(self, outputs: np.ndarray) -> np.ndarray:
        """The network's (combined) standardised outputs in the units of ``y``; shared by
        :meth:`predict` and streams (:meth:`stream`)."""
        return outputs * self._y_scale + self._y_mean

    def _shaped(self, y: np.ndarray) -> np.ndarray:
        """(n_samples, n_outputs, ...) as ``y`` was shaped in fit."""
        return y[:, 0] if self._y_ndim == 1 else y

    # -- prediction ------------------------------------------------------------------------
    def predict(self, X, return_std=False, times=None):
        """Predicted targets of each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        return_std : bool, default=False
            Also return the spread (standard deviation, ``ddof=0``) of the ensemble members'
            predictions; needs ``n_estimators > 1``. The spread measures how much the
            members disagree (epistemic uncertainty), not the noise of the targets, and is
            not calibrated: use :meth:`predict_interval` for intervals with a coverage
            guarantee.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The shape of ``y`` in fit.
        y_std : ndarray of the shape of ``y``
            Only with ``return_std=True``: the members' spread, in the units of ``y``.
        """
        if return_std:
            if self.n_estimators < 2:
                raise ValueError(
                    "return_std=True returns the spread of the ensemble members, but "
                    f"n_estimators={self.n_estimators}; fit with n_estimators >= 2, or use "
                    "predict_interval for conformal intervals."
                )
            mean, std = self._mean_and_std(self._member_outputs(X, times=times))
            return self._shaped(mean), self._shaped(std)
        return self._shaped(self._predict_2d(X, times=times))

    def score(self, X, y, sample_weight=None, times=None):
        """Coefficient of determination R² of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the series.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        score : float
            R² (1 is perfect; several targets are averaged uniformly), as
            :func:`sklearn.metrics.r2_score`.
        """
        return r2_score(y, self.predict(X, times=times), sample_weight=sample_weight)

    def predict_interval(self, X, alpha=0.1, method="absolute", times=None):
        """Split-conformal prediction intervals of each series' targets.

        Each interval covers the true target with probability at least ``1 - alpha``
        (marginally, over the series) when the held-out series and the new ones are
        exchangeable (Lei et al., 2018). The held-out series are those that early stopping
        held out (``early_stopping=True``, ``validation_fraction``); as they also chose the
        stopping epoch, the guarantee is slightly optimistic. With ``n`` held-out series,
        the half-width is the ``ceil((n + 1) (1 - alpha))``-th smallest score; with too few
        series for ``alpha`` (``n < 1 / alpha - 1``) the intervals are infinite, with a
        warning. Each target gets its own quantile (coverage holds per target, not jointly).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        alpha : float, default=0.1
            Miscoverage level in (0, 1): 0.1 asks for 90% intervals.
        method : {"absolute", "ensemble"}, default="absolute"
            ``"absolute"``: the prediction plus or minus a quantile of the held-out
            absolute residuals; every interval has the same width. ``"ensemble"`` (needs
            ``n_estimators > 1``): locally adaptive, the quantile of the residuals divided
            by the members' spread, times each series' spread; wider where the members
            disagree.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
            Lower and upper bounds in the last axis; the first shape for 1-D ``y`` in fit.

        Raises
        ------
        ValueError
            If the fit held out no series (fit with ``early_stopping=True``).

        Examples
        --------
        >>> import numpy as np
        >>> from sslearn import LiquidS4Regressor
        >>> rng = np.random.RandomState(0)
        >>> y = rng.uniform(1, 2, size=60)
        >>> X = np.sin(y[:, None] * np.linspace(0, 6, 30))[:, None, :]
        >>> reg = LiquidS4Regressor(d_model=8, n_layers=1, d_state=4, max_epochs=5,
        ...                         early_stopping=True, validation_fraction=0.5,
        ...                         random_state=0, device="cpu").fit(X, y)
        >>> intervals = reg.predict_interval(X[:3], alpha=0.2)
        >>> intervals.shape
        (3, 2)
        >>> bool((intervals[:, 0] <= reg.predict(X[:3])).all())
        True
        """
        alpha = check_alpha(alpha)
        if method not in ("absolute", "ensemble"):
            raise ValueError(f"method must be 'absolute' or 'ensemble', got {method!r}.")
        if method == "ensemble":
            if self.n_estimators < 2:
                raise ValueError(
                    "method='ensemble' scales the intervals by the ensemble members' spread, "
                    f"but n_estimators={self.n_estimators}; fit with n_estimators >= 2."
                )
            self._check_calibrated("ensemble_conformity_scores_", "predict_interval")
            quantile = conformal_quantile(self.ensemble_conformity_scores_, alpha)
            mean, std = self._mean_and_std(self._member_outputs(X, times=times))
            half = quantile * (std + self._eps())
        else:
            self._check_calibrated("conformity_scores_", "predict_interval")
            quantile = conformal_quantile(self.conformity_scores_, alpha)
            mean = self._predict_2d(X, times=times)
            half = np.broadcast_to(quantile, mean.shape)
        return self._shaped(np.stack([mean - half, mean + half], axis=-1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
