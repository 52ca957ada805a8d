"""Irregular sampling: accuracy with ``times`` against without, and against two baselines.

Two classification tasks, each drawn once (``random_state=0``); for each seed, one split and
``random_state=seed`` for every model, so every method sees the same splits:

- ``frequency``: ``sin(2 pi f t + phase) + N(0, 0.1^2)`` observed at 64 irregular times,
  ``f = 0.05`` Hz (class 0) or ``0.10`` Hz (class 1). Each series has its own mean sampling
  interval ``s``, log-uniform in [0.25, 4] s for both classes, and gaps ``s * Gamma(2) / 2``.
  The gaps alone say nothing of the class (their law is the same), and the values alone are
  ambiguous where the rates overlap: the phase advance per sample, ``f * s``, covers
  [0.0125, 0.2] cycles for class 0 and [0.025, 0.4] for class 1, the same range over 3 of
  4 octaves (about 0.63 accuracy at best from the values). Only physical time, the values
  *and* the time between them, separates the classes. Stratified 70/30 split.
- ``vital_signs``: :func:`sslearn.datasets.make_vital_signs` rhythm classification (4
  classes: normal sinus, atrial fibrillation, ectopic beats, sinus tachycardia; ECG and
  PPG), made irregular: each recording keeps a random half of its samples and loses 0 to
  about 3 dropouts (Poisson, mean 1.5) of 0.5-2 s, so series have unequal lengths and
  uneven gaps. Subject-wise 70/30 split (``GroupShuffleSplit`` on the subjects).

Methods, the same estimator (``LiquidS4Classifier``, ``--config`` on top) in each:

- ``times``: ``fit(X, y, times=T)``, ``predict(X, times=T)`` (``time_unit=None``: the median
  training gap);
- ``no_times``: the same values, ``times=None`` (each sample one step, the gaps lost);
- ``gap_channel`` (baseline): ``times=None``, X with one more channel, the gap before each
  step in units of the median training gap (1 at the first step);
- ``interpolate`` (baseline): ``times=None``, each series linearly interpolated
  (``np.interp``) onto a regular grid of the median training gap from its first to its
  last stamp, NaN-padded after its end;
- ``regular`` (``vital_signs`` only, a reference): the recordings before any sample was
  dropped.

Prints markdown tables (rows tasks, columns methods, mean ± sd (ddof=1) over seeds) of the
test accuracy and the fit seconds.

Options: ``--workers N`` spreads the fits over N spawned processes (:mod:`_pool`);
``--quick`` is a CPU smoke test (small data, ``max_epochs=2``, ``d_model=8``,
``n_layers=1``, ``d_state=4``, ``device="cpu"``); ``--sizes JSON`` changes the data sizes
per task; ``--out PATH`` writes the settings and every result (or the error of a failed fit)
to JSON.

Run: ``python benchmarks/bench_irregular.py [--tasks frequency vital_signs] [--methods times
no_times gap_channel interpolate regular] [--seeds 0 1 2] [--config '{"max_epochs": 50}']
[--workers 4] [--quick] [--out results.json]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import traceback

import numpy as np
from _accuracy_report import mean_sd
from _pool import run_jobs
from sklearn.model_selection import GroupShuffleSplit, train_test_split

TASKS = ("frequency", "vital_signs")
METHODS = ("times", "no_times", "gap_channel", "interpolate", "regular")
QUICK_CONFIG = {"max_epochs": 2, "d_model": 8, "n_layers": 1, "d_state": 4, "device": "cpu"}
SIZES = {
    "frequency": {"n_samples": 600, "n_timepoints": 64},
    "vital_signs": {"n_subjects": 20, "recordings_per_subject": 8, "duration_s": 32, "fs": 125},
}
QUICK_SIZES = {
    "frequency": {"n_samples": 60, "n_timepoints": 32},
    "vital_signs": {"n_subjects": 6, "recordings_per_subject": 4, "duration_s": 6, "fs": 50},
}
FREQUENCIES = (0.05, 0.10)  # Hz, class 0 and class 1
RATE_RANGE = (0.25, 4.0)  # s, the range of the mean sampling interval of a series
KEEP = 0.5  # share of the vital signs' samples kept
DROPOUTS = 1.5  # mean number of dropouts per recording
DROPOUT_SECONDS = (0.5, 2.0)


# -- data ----------------------------------------------------------------------------------


def frequency_task(n_samples: int, n_timepoints: int, seed: int = 0):
    """(X (n, 1, L), y, times (n, L), groups None): see the module docstring."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n_samples) % 2)
    frequency = np.asarray(FREQUENCIES)[y]
    rate = np.exp(rng.uniform(*np.log(RATE_RANGE), size=n_samples))
    gaps = rate[:, None] * rng.gamma(2.0, 0.5, size=(n_samples, n_timepoints))
    times = np.cumsum(gaps, axis=1) - gaps[:, :1]  # 0 at the first sample
    phase = rng.uniform(0, 2 * np.pi, size=(n_samples, 1))
    values = np.sin(2 * np.pi * frequency[:, None] * times + phase)
    values += 0.1 * rng.standard_normal(values.shape)
    return values[:, None, :], y, times, None


def vital_signs_task(n_subjects, recordings_per_subject, duration_s, fs, seed: int = 0):
    """(X NaN-padded (n, 2, L'), y, times (n, L'), groups, X_regular (n, 2, L))."""
    from sslearn.datasets import make_vital_signs

    X, y, groups = make_vital_signs(
        n_subjects=n_subjects,
        recordings_per_subject=recordings_per_subject,
        duration_s=duration_s,
        fs=fs,
        task="classification",
        random_state=seed,
        return_type="numpy",
    )
    rng = np.random.default_rng(seed + 1)
    steps = np.arange(X.shape[-1])
    kept = []
    for _ in range(len(X)):
        keep = rng.random(X.shape[-1]) < KEEP
        for _ in range(rng.poisson(DROPOUTS)):
            start = rng.uniform(0, duration_s)
            keep &= ~((steps / fs >= start) & (steps / fs < start + rng.uniform(*DROPOUT_SECONDS)))
        keep[0] = True  # every recording keeps a sample
        kept.append(np.flatnonzero(keep))
    width = max(len(k) for k in kept)
    values = np.full((len(X), X.shape[1], width), np.nan, dtype=np.float32)
    times = np.full((len(X), width), np.nan)
    for i, k in enumerate(kept):
        values[i, :, : len(k)] = X[i][:, k]
        times[i, : len(k)] = k / fs
    return values, y, times, groups, X


@functools.cache
def load(task: str, sizes: tuple):
    """The task's data (drawn once per process)."""
    if task == "frequency":
        return (*frequency_task(**dict(sizes)), None)
    return vital_signs_task(**dict(sizes))


def split(task: str, y: np.ndarray, groups, seed: int):
    """Train and test indices: stratified, or subject-wise for the vital signs."""
    index = np.arange(len(y))
    if groups is None:
        return train_test_split(index, test_size=0.3, random_state=seed, stratify=y)
    splitter = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=seed)
    return next(splitter.split(index, y, groups))


# -- the baselines' inputs -------------------------------------------------------------------


def median_gap(times: np.ndarray) -> float:
    gaps = np.diff(times, axis=1)
    return float(np.median(gaps[np.isfinite(gaps)]))


def gap_channel(X: np.ndarray, times: np.ndarray, unit: float) -> np.ndarray:
    """X with one more channel: the gap before each step in ``unit`` (1 first, NaN after)."""
    gaps = np.diff(times, axis=1, prepend=times[:, :1] - unit) / unit
    return np.concatenate([X, gaps[:, None, :].astype(X.dtype)], axis=1)


def interpolate(X: np.ndarray, times: np.ndarray, step: float) -> np.ndarray:
    """Each series linearly interpolated onto a grid of ``step`` from its first to its last
    stamp, NaN-padded to the longest grid."""
    rows = []
    for x, t in zip(X, times, strict=True):
        t = t[np.isfinite(t)]
        grid = t[0] + step * np.arange(int(np.floor((t[-1] - t[0]) / step)) + 1)
        rows.append(np.stack([np.interp(grid, t, channel[: len(t)]) for channel in x]))
    out = np.full((len(X), X.shape[1], max(r.shape[-1] for r in rows)), np.nan, np.float32)
    for i, row in enumerate(rows):
        out[i, :, : row.shape[-1]] = row
    return out


def inputs(method: str, data, train, test):
    """(X_train, X_test, fit keywords, predict keywords) of a method."""
    X, _, times, _, regular = data
    unit = median_gap(times[train])
    if method == "times":
        return X[train], X[test], {"times": times[train]}, {"times": times[test]}
    if method == "no_times":
        return X[train], X[test], {}, {}
    if method == "gap_channel":
        extended = gap_channel(X, times, unit)
        return extended[train], extended[test], {}, {}
    if method == "interpolate":
        grid = interpolate(X, times, unit)
        return grid[train], grid[test], {}, {}
    if method == "regular":
        return regular[train], regular[test], {}, {}
    raise ValueError(f"unknown method {method!r}")


# -- jobs ----------------------------------------------------------------------------------


def peak_gpu_gib(reset: bool = False) -> float | None:
    """Peak GPU memory this process allocated since the last reset, in GiB (and reset the
    counter if ``reset``); None without CUDA."""
    import torch

    if not torch.cuda.is_available():
        return None
    peak = torch.cuda.max_memory_allocated() / 2**30
    if reset:
        torch.cuda.reset_peak_memory_stats()
    return peak


def fit_job(job: dict) -> dict:
    """Fit one method on one task and seed; the job plus accuracy and fit seconds."""
    from sslearn import LiquidS4Classifier

    result = {key: job[key] for key in ("task", "method", "seed")}
    try:
        data = load(job["task"], tuple(sorted(job["sizes"].items())))
        y, groups = data[1], data[3]
        train, test = split(job["task"], y, groups, job["seed"])
        X_train, X_test, fit_kw, predict_kw = inputs(job["method"], data, train, test)
        model = LiquidS4Classifier(**{**job["config"], "random_state": job["seed"]})
        peak_gpu_gib(reset=True)
        start = time.perf_counter()
        model.fit(X_train, y[train], **fit_kw)
        result["fit_seconds"] = time.perf_counter() - start
        result["accuracy"] = float(np.mean(model.predict(X_test, **predict_kw) == y[test]))
        result["epochs"] = int(model.n_iter_)
        result["n_timepoints"] = int(X_train.shape[-1])
        result["peak_gpu_gib"] = peak_gpu_gib()
    except Exception:
        result["error"] = traceback.format_exc(limit=3)
    return result


def make_jobs(args, config: dict, sizes: dict) -> list[dict]:
    """One job per (task, method, seed); ``regular`` only where there is a regular original."""
    return [
        {"task": task, "method": method, "seed": seed, "config": config, "sizes": sizes[task]}
        for task in args.tasks
        for method in args.methods
        if not (method == "regular" and task == "frequency")
        for seed in args.seeds
    ]


def table(results: list[dict], key: str, title: str) -> str:
    """Markdown table of ``key``: rows tasks, columns methods, mean ± sd over seeds."""
    methods = [m for m in METHODS if any(r["method"] == m for r in results)]
    lines = [f"| {title} | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for task in dict.fromkeys(r["task"] for r in results):
        cells = []
        for method in methods:
            rows = [r for r in results if r["task"] == task and r["method"] == method]
            values = [r[key] for r in rows if key in r]
            failed = sum("error" in r for r in rows)
            cell = mean_sd(values) if values else "-"
            cells.append(cell + (f" ({failed} failed)" if failed else ""))
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--config", type=json.loads, default={}, help="estimator keywords")
    parser.add_argument(
        "--sizes",
        type=json.loads,
        default={},
        help='data sizes per task, e.g. {"frequency": '
        '{"n_samples": 300}}, on top of the defaults (or of --quick)',
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="CPU smoke test")
    parser.add_argument("--out", help="JSON file for all results")
    args = parser.parse_args(argv)

    sizes, config = SIZES, dict(args.config)
    if args.quick:
        sizes, config = QUICK_SIZES, {**QUICK_CONFIG, **config}
    sizes = {task: {**sizes[task], **args.sizes.get(task, {})} for task in TASKS}
    jobs = make_jobs(args, config, sizes)
    done = []

    def report(result: dict) -> None:
        done.append(result)
        outcome = result.get("error", "").strip().splitlines()[-1:] or [
            f"accuracy {result['accuracy']:.3f}, fit {result['fit_seconds']:.1f} s"
        ]
        name = f"{result['task']} {result['method']} s{result['seed']}"
        print(f"[{len(done)}/{len(jobs)}] {name}: {outcome[0]}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    results = run_jobs(fit_job, jobs, args.workers, report)
    wall = time.perf_counter() - start
    print(table(results, "accuracy", "test accuracy"))
    print()
    print(table(results, "fit_seconds", "fit seconds"))
    print(f"\n{len(jobs)} fits in {wall:.0f} s with {args.workers} worker(s); config {config}")
    if args.out:
        settings = {**vars(args), "sizes": sizes, "config": config, "wall_seconds": wall}
        with open(args.out, "w") as file:
            json.dump({"settings": settings, "results": results}, file, indent=1)


if __name__ == "__main__":
    main()
