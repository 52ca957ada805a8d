"""Liquid against time-invariant SSMs on problems whose dynamics depend on the input.

For each task of :func:`sslearn.datasets.make_liquid_task` (one data set per task, drawn
with ``random_state=0``, and one stratified 70/30 train/test split, seeded), each liquid
kernel (None, ``"pb"``, ``"kb"``, ``"exact"``; ``"pb"``/``"kb"`` once per ``--degrees``)
and each seed, fits ``LiquidS4Classifier`` or ``LiquidS4Regressor`` with
``random_state=seed``, ``liquid_kernel``/``liquid_degree`` from the grid and the
``--config`` keywords (passed through unchanged; the grid's keys win), and records the test
accuracy (classification) or RMSE (regression) and the fit seconds. Prints two markdown
tables, rows tasks and columns kernels, mean ± sd (ddof=1) over seeds: the scores, then
the fit seconds.

Options:

- ``--workers N`` runs the fits in N spawned worker processes (each imports torch once and
  draws each data set once, with ``torch.set_num_threads(2)``), so that many small fits
  share one GPU; 1 (default) runs them here, one after another. Fit seconds then include
  each worker's first CUDA kernel compilations.
- ``--quick``: a CPU smoke test (60 series of 64 steps, ``max_epochs=2``, ``d_model=8``,
  ``n_layers=1``, ``device="cpu"``; ``--config`` still applies on top).
- ``--out PATH`` writes the settings and every result (scores, fit seconds, epochs, or
  the error of a failed fit) to JSON.

Run: ``python benchmarks/bench_liquid_tasks.py [--tasks event_rate ...] [--kernels none pb
kb exact] [--degrees 2 3] [--seeds 0 1 2] [--config '{"max_epochs": 50}'] [--workers 8]
[--quick] [--out results.json]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
from sklearn.model_selection import train_test_split

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.datasets import LIQUID_TASKS, make_liquid_task

KERNELS = ("none", "pb", "kb", "exact")
QUICK_CONFIG = {"max_epochs": 2, "d_model": 8, "n_layers": 1, "device": "cpu"}
QUICK_SIZES = {"n_samples": 60, "n_timepoints": 64}
WORKER_THREADS = 2


@functools.cache
def load(task: str, n_samples: int, n_timepoints: int):
    """(X_train, X_test, y_train, y_test) of one task: data seed 0, a 70/30 split, seed 0."""
    X, y, _ = make_liquid_task(task, n_samples, n_timepoints, random_state=0)
    stratify = None if y.dtype.kind == "f" else y
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=stratify)


def label(kernel: str, degree: int | None) -> str:
    """Column name of a (kernel, degree): ``None``, ``pb``, ``pb-d3``, ``exact``."""
    if kernel == "none":
        return "None"
    return kernel if degree in (None, 2) else f"{kernel}-d{degree}"


def make_jobs(args, config: dict, sizes: dict) -> list[dict]:
    """One job per (task, kernel, degree, seed)."""
    jobs = []
    for task in args.tasks:
        for kernel in args.kernels:
            degrees = args.degrees if kernel in ("pb", "kb") else [None]
            for degree in degrees:
                for seed in args.seeds:
                    job = {"task": task, "kernel": kernel, "degree": degree, "seed": seed}
                    jobs.append({**job, "config": config, **sizes})
    return jobs


def fit_job(job: dict) -> dict:
    """Fit one model on its task's training split; the job plus score and fit seconds."""
    X_train, X_test, y_train, y_test = load(job["task"], job["n_samples"], job["n_timepoints"])
    classification = y_train.dtype.kind != "f"
    params = dict(job["config"])
    params["liquid_kernel"] = None if job["kernel"] == "none" else job["kernel"]
    if job["degree"] is not None:
        params["liquid_degree"] = job["degree"]
    params["random_state"] = job["seed"]
    result = {**job, "metric": "accuracy" if classification else "rmse"}
    try:
        model = (LiquidS4Classifier if classification else LiquidS4Regressor)(**params)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        result["fit_seconds"] = time.perf_counter() - start
        prediction = model.predict(X_test)
    except Exception:
        result["error"] = traceback.format_exc(limit=3)
        return result
    if classification:
        result["score"] = float(np.mean(prediction == y_test))
    else:
        result["score"] = float(np.sqrt(np.mean((prediction - y_test) ** 2)))
        result["target_sd"] = float(np.std(y_test))
    result["epochs"] = int(getattr(model, "n_iter_", 0))
    return result


def _start_worker() -> None:
    import torch

    torch.set_num_threads(WORKER_THREADS)


def run(jobs: list[dict], workers: int) -> list[dict]:
    """``[fit_job(job) for job in jobs]``, in ``workers`` spawned processes when > 1."""
    results: list[dict] = [{} for _ in jobs]

    def report(index: int, result: dict) -> None:
        results[index] = result
        done = sum(bool(r) for r in results)
        outcome = result.get("error", "").strip().splitlines()[-1:] or [
            f"{result['metric']} {result['score']:.4g}, fit {result['fit_seconds']:.1f} s"
        ]
        name = f"{result['task']} {label(result['kernel'], result['degree'])} s{result['seed']}"
        print(f"[{done}/{len(jobs)}] {name}: {outcome[0]}", file=sys.stderr, flush=True)

    if workers <= 1:
        for index, job in enumerate(jobs):
            report(index, fit_job(job))
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
        futures = {pool.submit(fit_job, job): index for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            report(futures[future], future.result())
    return results


def table(results: list[dict], key: str, title: str) -> str:
    """Markdown table of ``key``: rows tasks, columns kernels, mean ± sd over seeds."""
    columns = list(dict.fromkeys(label(r["kernel"], r["degree"]) for r in results))
    tasks = list(dict.fromkeys(r["task"] for r in results))
    lines = [
        f"| {title} | metric | " + " | ".join(columns) + " |",
        "|---|---|" + "---:|" * len(columns),
    ]
    for task in tasks:
        rows = [r for r in results if r["task"] == task]
        cells = []
        for column in columns:
            values = [
                r[key] for r in rows if label(r["kernel"], r["degree"]) == column and key in r
            ]
            failed = sum("error" in r for r in rows if label(r["kernel"], r["degree"]) == column)
            cell = _mean_sd(values) + (f" ({failed} failed)" if failed else "")
            cells.append(cell)
        metric = rows[0]["metric"] if key == "score" else "s"
        lines.append(f"| {task} | {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _mean_sd(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(LIQUID_TASKS), choices=LIQUID_TASKS)
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS), choices=KERNELS)
    parser.add_argument("--degrees", nargs="+", type=int, default=[2])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--config", type=json.loads, default={}, help="estimator keywords")
    parser.add_argument("--n-samples", type=int, default=600)
    parser.add_argument("--n-timepoints", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="CPU smoke test")
    parser.add_argument("--out", help="JSON file for all results")
    args = parser.parse_args(argv)

    sizes = {"n_samples": args.n_samples, "n_timepoints": args.n_timepoints}
    config = dict(args.config)
    if args.quick:
        sizes, config = QUICK_SIZES, {**QUICK_CONFIG, **config}
    jobs = make_jobs(args, config, sizes)
    start = time.perf_counter()
    results = run(jobs, args.workers)
    wall = time.perf_counter() - start
    print(table(results, "score", "task"))
    print()
    print(table(results, "fit_seconds", "fit seconds"))
    print(f"\n{len(jobs)} fits in {wall:.0f} s with {args.workers} worker(s); config {config}")
    if args.out:
        settings = {**vars(args), **sizes, "config": config, "wall_seconds": wall}
        with open(args.out, "w") as file:
            json.dump({"settings": settings, "results": results}, file, indent=1)


if __name__ == "__main__":
    main()
