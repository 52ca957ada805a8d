"""``LiquidS4Classifier``: time-series classification with a Liquid-S4 network."""

from __future__ import annotations

import math
import warnings
from numbers import Real
from typing import ClassVar

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from sslearn._base import BaseLiquidS4
from sslearn._conformal import (
    check_alpha,
    conformal_quantile,
    fit_temperature,
    prediction_sets,
    softmax_with_temperature,
    true_class_scores,
)
from sslearn._docs import DOC_ATTRIBUTES, DOC_PARAMETERS


class LiquidS4Classifier(ClassifierMixin, BaseLiquidS4):
    __doc__ = (
        """Time-series classifier built on a Liquid-S4 state-space network.

    Series go through a linear encoder, ``n_layers`` residual Liquid-S4 blocks, masked
    pooling over time and a linear head trained with (weighted) cross-entropy. Accepts
    univariate (n_samples, n_timepoints) and multivariate (n_samples, n_channels,
    n_timepoints) arrays, unequal lengths (NaN padding or lists of arrays), missing values
    (NaN inside a series: the network also sees a missingness indicator per channel) and the
    DataFrame layouts of :func:`~sslearn.data.to_panel`.
"""
        + DOC_PARAMETERS
        + """    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``.
    label_smoothing : float, default=0.0
        Share of each target's probability spread evenly over all classes in the
        cross-entropy (Szegedy et al., 2016), in [0, 1).
    calibration : "temperature" or None, default=None
        ``"temperature"``: after training, fit one temperature ``T > 0`` that minimises the
        negative log-likelihood of ``softmax(logits / T)`` on the series held out for early
        stopping (Guo et al., 2017), and divide the logits by it in :meth:`predict_proba`.
        The predicted classes do not change. Needs a held-out part (``early_stopping=True``);
        without one ``T`` stays 1 with a warning. The same part chose the stopping epoch,
        so the calibration is slightly optimistic. None leaves the probabilities as trained.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    temperature_ : float
        The fitted temperature (``calibration="temperature"``), else 1.0.
    conformity_scores_ : ndarray of shape (n_held_out,) or None
        ``1 - p`` of the true class of each series held out for early stopping (with
        ``temperature_`` applied), from which :meth:`predict_set` builds prediction sets.
        None without a held-out part (``early_stopping=False``, or after ``partial_fit``).
"""
        + DOC_ATTRIBUTES
        + """
    See Also
    --------
    LiquidS4Regressor : The same network for regression.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn import LiquidS4Classifier
    >>> rng = np.random.RandomState(0)
    >>> t = np.linspace(0, 6, 40)
    >>> y = np.arange(30) % 2
    >>> X = np.sin((1 + y)[:, None, None] * t) + 0.1 * rng.randn(30, 1, 40)
    >>> clf = LiquidS4Classifier(d_model=16, n_layers=1, d_state=8, max_epochs=30,
    ...                          random_state=0, device="cpu").fit(X, y)
    >>> clf.predict(X[:4]).tolist()
    [0, 1, 0, 1]
    >>> clf.predict_proba(X[:4]).shape
    (4, 2)
"""
    )

    _parameter_constraints: ClassVar[dict] = {
        **BaseLiquidS4._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "calibration": [StrOptions({"temperature"}), None],
    }

    def __init__(
        self,
        *,
        d_model=64,
        n_layers=2,
        d_state=64,
        ssm="diag",
        liquid_kernel="kb",
        liquid_degree=2,
        init="legs",
        bidirectional=True,
        conv_width=0,
        stem_channels=64,
        stem_head=True,
        dropout=0.0,
        norm="layer",
        pooling="mean+max",
        n_estimators=1,
        augment="light",
        dt_range=None,
        ema_decay=None,
        max_epochs=100,
        batch_size=32,
        lr=1e-2,
        ssm_lr=1e-3,
        weight_decay=0.01,
        scheduler="cosine",
        clip_grad_norm=1.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=100,
        tol=1e-4,
        scale=True,
        missing_at_predict="warn",
        time_unit=None,
        device="auto",
        devices=None,
        precision="32",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
        class_weight=None,
        label_smoothing=0.0,
        calibration=None,
    ):
        super().__init__(
            d_model=d_model,
            n_layers=n_layers,
            d_state=d_state,
            ssm=ssm,
            liquid_kernel=liquid_kernel,
            liquid_degree=liquid_degree,
            init=init,
            bidirectional=bidirectional,
            conv_width=conv_width,
            stem_channels=stem_channels,
            stem_head=stem_head,
            dropout=dropout,
            norm=norm,
            pooling=pooling,
            n_estimators=n_estimators,
            augment=augment,
            dt_range=dt_range,
            ema_decay=ema_decay,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            ssm_lr=ssm_lr,
            weight_decay=weight_decay,
            scheduler=scheduler,
            clip_grad_norm=clip_grad_norm,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            scale=scale,
            missing_at_predict=missing_at_predict,
            time_unit=time_unit,
            device=device,
            devices=devices,
            precision=precision,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            callbacks=callbacks,
        )
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.calibration = calibration

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None, times=None):
        """Train the network on labelled series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
            Training series; any layout accepted by :func:`~sslearn.data.to_panel`.
        y : array-like of shape (n_samples,)
            Class labels (strings or numbers).
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
        self : LiquidS4Classifier
        """
        return self._fit(X, y, sample_weight, incremental=False, groups=groups, times=times)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, times=None):
        """Train one more epoch on ``(X, y)``, starting from the current network.

        The first call learns the channel scaling and needs ``classes``. Every call takes
        one pass over its batch at the constant learning rate ``lr``, without schedule,
        validation split or early stopping.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All class labels; required on the first call, ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X`` (see :meth:`fit`): on every call if the first
            call had them, never otherwise.

        Returns
        -------
        self : LiquidS4Classifier
        """
        if classes is None and not hasattr(self, "network_"):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes, times=times)

    # -- override points -------------------------------------------------------------------
    def _encode_targets(self, y, *, first, classes=None):
        y = column_or_1d(
            check_array(y, ensure_2d=False, dtype=None, input_name="y", estimator=self), warn=True
        )
        check_classification_targets(y)
        if not first:
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(
                    f"y has labels {unknown.tolist()} that are not in classes_ "
                    f"{self.classes_.tolist()}; warm_start and partial_fit need the classes "
                    "of the first fit."
                )
            return np.searchsorted(self.classes_, y)
        if classes is not None:
            self.classes_ = np.unique(classes)
            if np.setdiff1d(y, self.classes_).size:
                raise ValueError(
                    f"y has labels {np.setdiff1d(y, self.classes_).tolist()} that are not "
                    f"in classes={self.classes_.tolist()}."
                )
            return np.searchsorted(self.classes_, y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but "
                f"the data contain only 1 class: {self.classes_[0]!r}."
            )
        return encoded

    def _n_outputs(self):
        return len(self.classes_)

    def _loss(self, outputs, targets):
        return torch.nn.functional.cross_entropy(
            outputs, targets, reduction="none", label_smoothing=float(self.label_smoothing)
        )

    def _combine_members(self, outputs):
        """Log of the members' mean probabilities: its softmax is the ensemble's average."""
        log_probs = torch.log_softmax(outputs, dim=-1)
        return torch.logsumexp(log_probs, dim=1) - math.log(outputs.shape[1])

    def _validation_score(self, outputs, targets, weights):
        correct = (outputs.argmax(-1) == targets).float()
        if weights is None:
            return correct.mean()
        return (correct * weights).sum() / weights.sum().clamp(min=1e-12)

    def _class_weights(self, targets):
        if self.class_weight is None:
            return None
        return compute_sample_weight(self._class_weight_by_index(), targets)

    def _class_weight_by_index(self):
        if not isinstance(self.class_weight, dict):
            return self.class_weight
        classes = self.classes_.tolist()
        unknown = [label for label in self.class_weight if label not in classes]
        if unknown:
            raise ValueError(
                f"class_weight has key(s) {unknown} that are not classes of y; the classes "
                f"are {classes}. Use the labels of y as keys (classes not named get weight 1)."
            )
        return {
            index: self.class_weight.get(label, 1.0) for index, label in enumerate(self.classes_)
        }

    def _stratify(self, targets):
        return targets

    def _sample_weights(self, sample_weight, panel, targets, *, incremental):
        weights = super()._sample_weights(sample_weight, panel, targets, incremental=incremental)
        if not incremental and weights is not None and np.unique(targets[weights > 0]).size < 2:
            raise ValueError(
                "only 1 class has a non-zero sample weight; the classifier needs at least 2 "
                "classes with positive weight."
            )
        return weights

    def _calibrate(self, valid_set):
        """Temperature (``calibration="temperature"``) and conformity scores of the
        held-out series."""
        self.temperature_ = 1.0
        self.conformity_scores_ = None
        if valid_set is None:
            if self.calibration == "temperature":
                warnings.warn(
                    "calibration='temperature' fits the temperature on the series held out "
                    "for early stopping, but this fit held out none; temperature_ is 1.0. "
                    "Fit with early_stopping=True.",
                    UserWarning,
                    stacklevel=5,
                )
            return
        logits = self._outputs(valid_set)
        y = valid_set.targets.numpy()
        if self.calibration == "temperature":
            self.temperature_ = fit_temperature(logits, y)
        proba = softmax_with_temperature(logits, self.temperature_)
        self.conformity_scores_ = true_class_scores(proba, y)

    # -- prediction ------------------------------------------------------------------------
    def decision_function(self, X, times=None):
        """Class scores (logits) for each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the score of ``classes_[1]`` minus that of ``classes_[0]``.
        """
        return self._decision_from_logits(self._forward(X, times=times))

    def predict_proba(self, X, times=None):
        """Class probabilities for each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. With ``calibration="temperature"``, the softmax of
            the logits divided by ``temperature_``.
        """
        return self._proba_from_logits(self._forward(X, times=times))

    def predict_set(self, X, alpha=0.1, times=None):
        """Split-conformal prediction sets: the classes that may be each series' class.

        A set holds every class whose score ``1 - p`` (:meth:`predict_proba`) is at most the
        ``ceil((n + 1) (1 - alpha))``-th smallest score of the true classes of the ``n``
        series held out for early stopping (Sadinle et al., 2019). It contains the true
        class with probability at least ``1 - alpha`` (marginally, over the series) when
        the held-out and the new series are exchangeable; as the held-out series also chose
        the stopping epoch, the guarantee is slightly optimistic. Sets can be empty (no
        class is plausible enough) or hold every class (with too few held-out series for
        ``alpha``, all sets are full, with a warning). Their size tells how uncertain the
        model is about each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        alpha : float, default=0.1
            Miscoverage level in (0, 1): 0.1 asks for 90% coverage.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        sets : ndarray of bool of shape (n_samples, n_classes)
            ``sets[i, j]``: whether ``classes_[j]`` is in the set of series ``i``.

        Raises
        ------
        ValueError
            If the fit held out no series (fit with ``early_stopping=True``).

        Examples
        --------
        >>> import numpy as np
        >>> from sslearn import LiquidS4Classifier
        >>> rng = np.random.RandomState(0)
        >>> y = np.arange(60) % 2
        >>> X = np.sin((1 + y)[:, None, None] * np.linspace(0, 6, 30)) + 0.1 * rng.randn(60, 1, 30)
        >>> clf = LiquidS4Classifier(d_model=8, n_layers=1, d_state=4, max_epochs=5,
        ...                          early_stopping=True, validation_fraction=0.5,
        ...                          random_state=0, device="cpu").fit(X, y)
        >>> sets = clf.predict_set(X[:4], alpha=0.2)
        >>> sets.shape, sets.dtype
        ((4, 2), dtype('bool'))
        """
        alpha = check_alpha(alpha)
        self._check_calibrated("conformity_scores_", "predict_set")
        quantile = conformal_quantile(self.conformity_scores_, alpha)
        return prediction_sets(self.predict_proba(X, times=times), quantile)

    def predict(self, X, times=None):
        """Most probable class of each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return self._labels_from_logits(self._forward(X, times=times))

    def score(self, X, y, sample_weight=None, times=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the series.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``, as in fit: required if and only if the model
            was fitted with ``times``.

        Returns
        -------
        score : float
            The (weighted) share of series whose label :meth:`predict` gets right.
        """
        return accuracy_score(y, self.predict(X, times=times), sample_weight=sample_weight)

    # the outputs of the fitted network (float64 logits, one row per series) as predictions,
    # shared by the methods above and by streams (:meth:`stream`)
    def _decision_from_logits(self, logits: np.ndarray) -> np.ndarray:
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def _proba_from_logits(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits / getattr(self, "temperature_", 1.0), axis=1)

    def _labels_from_logits(self, logits: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(logits, axis=1)]
