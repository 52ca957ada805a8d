"""Coverage, interval width, set size and calibration of the estimators' uncertainty methods.

For each dataset and seed, fits one estimator with ``early_stopping=True`` (so that a
``validation_fraction`` of the training series is held out, which calibrates the conformal
methods and the temperature) on the training split and measures on the test split:

- classifiers (``calibration="temperature"``): accuracy; the expected calibration error
  (15 bins) of the softmax of the logits before (temperature 1) and after temperature
  scaling; the fitted temperature; the coverage and mean size of ``predict_set(alpha)``;
- regressors: RMSE; the coverage and mean width of ``predict_interval(alpha)``, the width
  also relative to the test targets' standard deviation, averaged over targets; with
  ``n_estimators > 1`` also for ``method="ensemble"`` (locally adaptive intervals).
  ``--n-estimators`` lists the ensemble sizes of the regressors; classifiers use one member.

With ``--groups`` the vital-signs simulator's held-out part is whole subjects
(``fit(groups=...)``), like its test split; otherwise a random share of the series.

Prints mean ± sd (ddof=1) over seeds as markdown tables and writes every result to JSON.
The datasets are those of ``bench_accuracy.py`` (official splits; a subject-wise split for
the vital-signs simulator).

Run: ``python benchmarks/bench_uncertainty.py [--seeds 0 1 2] [--alpha 0.1]
[--datasets VitalSigns-rhythm ArrowHead ...] [--n-estimators 1 3] [--workers 4]
[--out uncertainty.json]``.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback

import numpy as np
from _accuracy_data import DATASETS, load, make_model, score, train_groups
from _pool import run_jobs
from scipy.special import softmax

from sslearn._conformal import expected_calibration_error

CLASSIFICATION = [
    "VitalSigns-rhythm",
    "SelfRegulationSCP1",
    "EyesOpenShut",
    "BasicMotions",
    "JapaneseVowels",
    "PickupGestureWiimoteZ",
    "ArrowHead",
    "OSULeaf",
    "GunPoint",
    "ItalyPowerDemand",
]
REGRESSION = ["VitalSigns-HR-RR", "Tecator", "CardanoSentiment"]


def _classifier_metrics(model, X_test, y_test, alpha: float) -> dict:
    y_index = np.searchsorted(model.classes_, y_test)
    logits = np.asarray(model._forward(X_test), dtype=np.float64)
    before = softmax(logits, axis=1)
    after = model.predict_proba(X_test)
    sets = model.predict_set(X_test, alpha=alpha)
    return {
        "score": score("classification", y_test, model.predict(X_test)),
        "ece_before": expected_calibration_error(y_index, before),
        "ece_after": expected_calibration_error(y_index, after),
        "temperature": float(model.temperature_),
        "coverage": float(sets[np.arange(len(y_test)), y_index].mean()),
        "set_size": float(sets.sum(axis=1).mean()),
    }


def _regressor_metrics(model, X_test, y_test, alpha: float) -> dict:
    y = np.asarray(y_test, dtype=np.float64).reshape(len(y_test), -1)
    spread = y.std(axis=0)
    result = {"score": score("regression", y_test, model.predict(X_test))}
    methods = ["absolute"] + (["ensemble"] if model.n_estimators > 1 else [])
    for method in methods:
        bounds = model.predict_interval(X_test, alpha=alpha, method=method).reshape(len(y), -1, 2)
        inside = (bounds[..., 0] <= y) & (y <= bounds[..., 1])
        width = bounds[..., 1] - bounds[..., 0]
        result[f"coverage_{method}"] = float(inside.mean())
        result[f"width_{method}"] = float(width.mean())
        result[f"relative_width_{method}"] = float((width.mean(axis=0) / spread).mean())
    return result


def uncertainty_job(job: dict) -> dict:
    """Fit one estimator with a held-out calibration part; measure its uncertainty."""
    task = DATASETS[job["dataset"]]
    X_train, y_train, X_test, y_test = load(job["dataset"])
    config = {
        "early_stopping": True,
        "n_estimators": job["n_estimators"],
        "validation_fraction": job["validation_fraction"],
    }
    if task == "classification":
        config["calibration"] = "temperature"
    try:
        model = make_model("sslearn", task, job["seed"], config)
        start = time.perf_counter()
        groups = train_groups(job["dataset"]) if job["groups"] else None
        model.fit(X_train, y_train, groups=groups)
        seconds = time.perf_counter() - start
        measure = _classifier_metrics if task == "classification" else _regressor_metrics
        return {**job, **measure(model, X_test, y_test, job["alpha"]), "fit_seconds": seconds}
    except Exception as error:
        return {**job, "error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}


def _mean_sd(values: list[float]) -> str:
    values = np.asarray(values, dtype=np.float64)
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.3f} ± {sd:.3f}"


def _table(results: list[dict], names: list[str], columns: list[str]) -> list[str]:
    lines = ["| dataset | K | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for name in names:
        for k in sorted({r["n_estimators"] for r in results}):
            rows = [r for r in results if r["dataset"] == name and r["n_estimators"] == k]
            if not rows:
                continue
            cells = [_mean_sd([r[c] for r in rows]) if c in rows[0] else "" for c in columns]
            lines.append(f"| {name} | {k} | " + " | ".join(cells) + " |")
    return lines


def report(results: list[dict]) -> str:
    """Markdown tables: mean ± sd over seeds per dataset and ensemble size."""
    good = [r for r in results if "error" not in r]
    lines = [f"alpha = {results[0]['alpha']}", "", "Classification (calibration='temperature')", ""]
    lines += _table(
        good,
        [n for n in CLASSIFICATION if any(r["dataset"] == n for r in good)],
        ["score", "ece_before", "ece_after", "temperature", "coverage", "set_size"],
    )
    classified = [r for r in good if DATASETS[r["dataset"]] == "classification"]
    if classified:
        lines.append(
            f"| mean over sets | | {np.mean([r['score'] for r in classified]):.3f} | "
            f"{np.mean([r['ece_before'] for r in classified]):.3f} | "
            f"{np.mean([r['ece_after'] for r in classified]):.3f} | | "
            f"{np.mean([r['coverage'] for r in classified]):.3f} | |"
        )
    lines += ["", "Regression (RMSE averaged over targets)", ""]
    lines += _table(
        good,
        [n for n in REGRESSION if any(r["dataset"] == n for r in good)],
        [
            "score",
            "coverage_absolute",
            "relative_width_absolute",
            "coverage_ensemble",
            "relative_width_ensemble",
        ],
    )
    for r in results:
        if "error" in r:
            lines.append(
                f"\nERROR {r['dataset']} seed {r['seed']} K={r['n_estimators']}: {r['error']}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=CLASSIFICATION + REGRESSION,
        choices=CLASSIFICATION + REGRESSION,
    )
    parser.add_argument("--n-estimators", type=int, nargs="+", default=[1])
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument(
        "--groups",
        action="store_true",
        help="hold out whole subjects of the vital-signs simulator (fit(groups=...))",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    jobs = [
        {
            "dataset": name,
            "seed": seed,
            "n_estimators": k,
            "alpha": args.alpha,
            "groups": args.groups,
            "validation_fraction": args.validation_fraction,
        }
        for name in args.datasets
        for k in (args.n_estimators if DATASETS[name] == "regression" else [1])
        for seed in args.seeds
    ]
    results = run_jobs(
        uncertainty_job,
        jobs,
        workers=args.workers,
        on_result=lambda r: print(
            r["dataset"],
            r["seed"],
            r["n_estimators"],
            r.get("error") or {k: round(v, 3) for k, v in r.items() if isinstance(v, float)},
            flush=True,
        ),
    )
    print(report(results))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
