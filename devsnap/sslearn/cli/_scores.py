"""Scores of a fitted estimator: the one-line summary of fit and evaluate, and the RMSE."""

from __future__ import annotations

import warnings

import numpy as np


def _scores(estimator, X, y, task: str, target_cols: list[str]) -> str:
    """A one-line summary of the fitted estimator's performance on (X, y)."""
    if task == "classification":
        from sklearn.metrics import accuracy_score, balanced_accuracy_score

        predicted = estimator.predict(X)
        with warnings.catch_warnings():  # small validation sets may lack a predicted class
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            balanced = balanced_accuracy_score(y, predicted)
        return f"accuracy {accuracy_score(y, predicted):.3f}, balanced accuracy {balanced:.3f}"
    rmse = _rmse(y, estimator.predict(X))
    per_target = ", ".join(
        f"{name} {value:.3g}" for name, value in zip(target_cols, rmse, strict=True)
    )
    return f"R² {estimator.score(X, y):.3f}; RMSE {per_target}"


def _rmse(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    difference = np.reshape(y, (len(y), -1)) - np.reshape(predicted, (len(y), -1))
    return np.sqrt(np.mean(difference**2, axis=0))
