"""Split-conformal prediction and calibration maths, in plain numpy.

The estimators store conformity scores of a held-out part of the training data; these
functions turn them into interval half-widths and prediction sets (Vovk et al., 2005;
Lei et al., 2018; Angelopoulos & Bates, 2021), fit a softmax temperature (Guo et al.,
2017) and measure the expected calibration error.
"""

from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

# the temperature is searched in [1 / _T_MAX, _T_MAX]
_T_MAX = 100.0


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in the open interval (0, 1), else a ValueError."""
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}.")
    return float(alpha)


def conformal_quantile(scores: np.ndarray, alpha: float) -> np.ndarray | float:
    """The split-conformal quantile of ``scores`` along their first axis.

    With ``n`` scores, the ``ceil((n + 1) (1 - alpha))``-th smallest: a new exchangeable
    score is at most this value with probability at least ``1 - alpha``. When that rank
    exceeds ``n`` (too few scores for ``alpha``), the quantile is infinite and a
    ``UserWarning`` says so.

    Parameters
    ----------
    scores : ndarray of shape (n,) or (n, n_outputs)
        Conformity scores of the calibration points (larger: worse).
    alpha : float
        Miscoverage level in (0, 1).

    Returns
    -------
    quantile : float or ndarray of shape (n_outputs,)
    """
    scores = np.asarray(scores, dtype=np.float64)
    alpha = check_alpha(alpha)
    n = scores.shape[0]
    rank = math.ceil((n + 1) * (1 - alpha))
    if rank > n:
        warnings.warn(
            f"{n} calibration scores are too few for alpha={alpha:g} (at least "
            f"{math.ceil(1 / alpha) - 1} are needed): the intervals are infinite and the "
            "prediction sets hold every class. Hold out more series (validation_fraction) "
            "or use a larger alpha.",
            UserWarning,
            stacklevel=3,
        )
        quantile = np.full(scores.shape[1:], np.inf)
    else:
        quantile = np.sort(scores, axis=0)[rank - 1]
    return float(quantile) if quantile.ndim == 0 else quantile


def prediction_sets(proba: np.ndarray, quantile: float) -> np.ndarray:
    """Classes whose score ``1 - p`` is at most ``quantile``: boolean (n_samples, n_classes)."""
    return 1.0 - np.asarray(proba) <= quantile


def true_class_scores(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Conformity scores ``1 - p_true`` of a classifier, ``y`` as column indices."""
    proba = np.asarray(proba, dtype=np.float64)
    return 1.0 - proba[np.arange(len(proba)), np.asarray(y, dtype=np.intp)]


def negative_log_likelihood(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean cross-entropy of ``softmax(logits / temperature)`` at the labels ``y``."""
    log_proba = log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
    return float(-log_proba[np.arange(len(log_proba)), np.asarray(y, dtype=np.intp)].mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature ``T > 0`` that minimises the NLL of ``softmax(logits / T)`` at ``y``.

    A bounded scalar search over ``log T`` in ``[-log 100, log 100]``; 1.0 is kept when the
    search does not beat it, so the fitted NLL is never above that of the logits as given.
    1.0 is also kept when the logits classify every series correctly: the NLL then falls
    towards ``T -> 0`` without a minimum, and a held-out set too small to hold a mistake
    says nothing about how sharp the probabilities should be.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if np.all(logits.argmax(axis=1) == np.asarray(y, dtype=np.intp)):
        return 1.0
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(logits, y, math.exp(log_t)),
        bounds=(-math.log(_T_MAX), math.log(_T_MAX)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    temperature = math.exp(float(result.x))
    if negative_log_likelihood(logits, y, temperature) >= negative_log_likelihood(logits, y):
        return 1.0
    return temperature


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top class (Guo et al., 2017).

    The series are binned by the probability of their predicted class into ``n_bins``
    equal-width bins of (0, 1]; the ECE is the mean over bins of ``|accuracy - confidence|``,
    weighted by the share of series in each bin.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True classes as column indices of ``proba``.
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.
    n_bins : int, default=15
        Number of bins.

    Returns
    -------
    ece : float
        In [0, 1]; 0 for perfect calibration.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.intp)
    if proba.ndim != 2 or len(proba) != len(y_true) or len(proba) == 0:
        raise ValueError(
            f"proba must be (n_samples, n_classes) with one row per label, got shape "
            f"{proba.shape} and {len(y_true)} labels."
        )
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * n_bins).astype(np.intp) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        members = bins == b
        ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(logits / temperature)`` over the classes (axis 1)."""
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
