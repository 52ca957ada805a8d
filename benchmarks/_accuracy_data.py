"""Datasets, models and the one-fit job of ``bench_accuracy.py`` (run in worker processes).

A job is a dict ``{"model": "sslearn" | "MiniRocket" | "1-NN", "dataset": name, "seed":
int or None, "config": dict}``; :func:`fit_job` fits that model on the dataset's training
split and returns the job with ``score`` (accuracy, or RMSE averaged over targets),
``fit_seconds`` and ``epochs`` (sslearn's ``n_iter_``), or with ``error`` when the fit
failed (e.g. a config keyword the estimator does not know). Datasets are loaded once per
process.
"""

from __future__ import annotations

import functools
import time
import traceback

import numpy as np
from sklearn.linear_model import RidgeClassifierCV, RidgeCV
from sklearn.model_selection import GroupShuffleSplit
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.datasets import load_dataset, make_vital_signs

__all__ = ["DATASETS", "fit_job", "load", "make_model", "score", "train_groups"]

# the developer set: official train/test splits, a subject-wise split for the simulator
DATASETS = {
    "SelfRegulationSCP1": "classification",
    "EyesOpenShut": "classification",
    "BasicMotions": "classification",
    "JapaneseVowels": "classification",
    "PickupGestureWiimoteZ": "classification",
    "ArrowHead": "classification",
    "OSULeaf": "classification",
    "GunPoint": "classification",
    "ItalyPowerDemand": "classification",
    "Tecator": "regression",
    "CardanoSentiment": "regression",
    "VitalSigns-rhythm": "classification",
    "VitalSigns-HR-RR": "regression",
}


def _nan_pad(X: np.ndarray, length: int) -> np.ndarray:
    return np.pad(X, [(0, 0), (0, 0), (0, length - X.shape[-1])], constant_values=np.nan)


@functools.cache
def _vital_signs(name: str):
    task = "regression" if name.endswith("HR-RR") else "classification"
    X, y, groups = make_vital_signs(task=task, return_type="numpy", random_state=0)
    split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    train, test = next(split.split(X, y, groups))
    return X, y, groups, train, test


def train_groups(name: str) -> np.ndarray | None:
    """The subject of each training series (the vital-signs simulator), else None."""
    if not name.startswith("VitalSigns"):
        return None
    _, _, groups, train, _ = _vital_signs(name)
    return groups[train]


@functools.cache
def load(name: str):
    """(X_train, y_train, X_test, y_test), both splits NaN-padded to one common length."""
    if name.startswith("VitalSigns"):
        X, y, _, train, test = _vital_signs(name)
        return X[train], y[train], X[test], y[test]
    X_train, y_train = load_dataset(name, split="train")
    X_test, y_test = load_dataset(name, split="test")
    length = max(X_train.shape[-1], X_test.shape[-1])
    return _nan_pad(X_train, length), y_train, _nan_pad(X_test, length), y_test


def flat(X: np.ndarray) -> np.ndarray:
    """Zero-padded, channels stacked: (n_samples, n_channels * n_timepoints)."""
    return np.nan_to_num(X, nan=0.0).reshape(len(X), -1)


def score(task: str, y_true, y_pred) -> float:
    """Accuracy, or RMSE averaged over targets."""
    if task == "classification":
        return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    err = (np.asarray(y_pred, float) - np.asarray(y_true, float)).reshape(len(y_true), -1)
    return float(np.mean(np.sqrt(np.mean(err**2, axis=0))))


class _PaddedMiniRocket:
    """sklearn-style wrapper: zero-pad NaN, then sktime's MiniRocket features (numpy out)."""

    def __init__(self, transformer):
        self.transformer = transformer

    def fit(self, X, y=None):
        self.transformer.fit(np.nan_to_num(X, nan=0.0))
        return self

    def transform(self, X):
        return np.asarray(self.transformer.transform(np.nan_to_num(X, nan=0.0)))

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def get_params(self, deep=True):
        return {"transformer": self.transformer}

    def set_params(self, **params):
        self.__dict__.update(params)
        return self


def make_model(model: str, task: str, seed: int | None, config: dict | None = None):
    """An unfitted sslearn estimator (``config`` passed through unchanged), MiniRocket or 1-NN.

    MiniRocket is sktime's ``MiniRocketMultivariate`` features + a ridge with built-in
    cross-validation on standardised features (sktime's RocketClassifier recipe; RidgeCV
    also handles multi-output targets); 1-NN is Euclidean on the zero-padded,
    channel-stacked series.
    """
    classify = task == "classification"
    if model == "sslearn":
        estimator = LiquidS4Classifier if classify else LiquidS4Regressor
        return estimator(**{**(config or {}), "random_state": seed})
    if model == "MiniRocket":
        from sktime.transformations.panel.rocket import MiniRocketMultivariate

        head = RidgeClassifierCV if classify else RidgeCV
        return make_pipeline(
            _PaddedMiniRocket(MiniRocketMultivariate(random_state=seed)),
            StandardScaler(),
            head(alphas=np.logspace(-3, 3, 10)),
        )
    knn = KNeighborsClassifier(1) if classify else KNeighborsRegressor(1)
    return make_pipeline(FunctionTransformer(flat), knn)


def fit_job(job: dict) -> dict:
    """Fit one model on one dataset's training split; score it on the test split."""
    task = DATASETS[job["dataset"]]
    X_train, y_train, X_test, y_test = load(job["dataset"])
    try:
        model = make_model(job["model"], task, job["seed"], job.get("config"))
        if job["model"] == "MiniRocket":  # numba compiles once per process: not fit time
            model.steps[0][1].fit_transform(X_train[:2])
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        result = score(task, y_test, model.predict(X_test))
    except Exception as error:  # a sweep keeps going; the error is reported with the job
        traceback.print_exc()
        return {**job, "error": f"{type(error).__name__}: {error}"}
    epochs = getattr(model, "n_iter_", None)
    epochs = int(epochs) if isinstance(epochs, int | np.integer) else epochs
    return {**job, "score": result, "fit_seconds": seconds, "epochs": epochs}
