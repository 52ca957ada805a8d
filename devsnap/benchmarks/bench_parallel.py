"""Several GPUs: a grid search spread over them, and one fit split across them (DDP).

1. ``GridSearchCV`` wall time with ``n_jobs=1`` and ``n_jobs=<number of GPUs>`` (loky worker
   processes, ``device="auto"``). Each fit reports, through extra scorers evaluated in its
   worker, the GPU it trained on, its peak allocated memory, its process and its start and end
   times; a thread samples ``nvidia-smi`` meanwhile (utilisation and memory per GPU), so the
   table shows whether all GPUs were busy at once. The parent initialises CUDA only after the
   ``n_jobs=<GPUs>`` search (its workers do before), for the ``n_jobs=1`` search.
2. One larger fit on one GPU (CUDA graphs) and split over 2 GPUs with ``devices=2``, each
   rank capturing its step with the gradient all-reduce in a CUDA graph, or running eager
   DDP steps (``SSLEARN_CUDA_GRAPHS=0``), at a global batch of 64 (launch-bound eager steps)
   and of 512 (GPU-bound steps): wall time, median epoch time, speed-up per epoch over one
   GPU and the largest relative difference of the loss curve to one GPU's.

Run on a host with at least 2 GPUs: ``python benchmarks/bench_parallel.py [--out FILE]``
(``--quick`` for a smoke run with small sizes, ``--ddp-only`` to skip the grid search).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import numpy as np
from sklearn.model_selection import GridSearchCV

from sslearn import LiquidS4Classifier


class Recorded(LiquidS4Classifier):
    """Remembers where and when its last fit ran (importable by the loky workers)."""

    def fit(self, X, y, sample_weight=None):
        import torch

        start = time.time()
        super().fit(X, y, sample_weight)
        self.fit_start_, self.fit_end_ = start, time.time()
        self.peak_mib_ = 0.0
        if self.device_.type == "cuda":  # peaks are reset after each fit, per device
            self.peak_mib_ = torch.cuda.max_memory_allocated(self.device_) / 2**20
            torch.cuda.reset_peak_memory_stats(self.device_)
        return self


def _gpu(est, X, y):
    return -1 if est.device_.index is None else est.device_.index


SCORING = {
    "accuracy": "accuracy",
    "gpu": _gpu,
    "peak_mib": lambda est, X, y: est.peak_mib_,
    "pid": lambda est, X, y: os.getpid(),
    "start": lambda est, X, y: est.fit_start_,
    "end": lambda est, X, y: est.fit_end_,
}


def make_data(n, channels, length, classes, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    t = np.arange(length)
    phase = rng.uniform(0, np.pi, size=(n, channels, 1))
    X = np.sin(0.05 * (y + 1)[:, None, None] * t + phase) + 0.5 * rng.standard_normal(
        (n, channels, length)
    )
    return X.astype(np.float32), y


class GpuSampler(threading.Thread):
    """Samples ``nvidia-smi`` (no CUDA in this process) every ``period`` seconds."""

    def __init__(self, period=0.5):
        super().__init__(daemon=True)
        self.period, self.samples, self.stopped = period, [], threading.Event()

    def run(self):
        query = ["nvidia-smi", "--query-gpu=index,utilization.gpu,memory.used"]
        while not self.stopped.is_set():
            try:
                out = subprocess.run(
                    [*query, "--format=csv,noheader,nounits"],
                    capture_output=True, text=True, timeout=10,
                ).stdout  # fmt: skip
            except (OSError, subprocess.TimeoutExpired):
                return
            now = time.time()
            for line in out.strip().splitlines():
                index, util, mem = (int(v) for v in line.split(","))
                self.samples.append((now, index, util, mem))
            time.sleep(self.period)

    def summary(self):
        """Per GPU: max and mean utilisation (%), max memory used (MiB), and the share of
        samples in which every GPU was above 10% at once."""
        by_gpu, by_time = {}, {}
        for now, index, util, mem in self.samples:
            by_gpu.setdefault(index, []).append((util, mem))
            by_time.setdefault(now, []).append(util)
        rows = {
            index: (max(u for u, _ in v), statistics.mean(u for u, _ in v), max(m for _, m in v))
            for index, v in sorted(by_gpu.items())
        }
        together = [all(u > 10 for u in utils) for utils in by_time.values()]
        return rows, (sum(together) / len(together) if together else float("nan"))


def grid_search(X, y, n_jobs, params, grid):
    sampler = GpuSampler()
    sampler.start()
    start = time.perf_counter()
    search = GridSearchCV(
        Recorded(**params), grid, cv=2, n_jobs=n_jobs, scoring=SCORING, refit=False
    )
    search.fit(X, y)
    wall = time.perf_counter() - start
    sampler.stopped.set()
    sampler.join()
    results = search.cv_results_
    fits = []
    for split in range(2):
        for i in range(len(results["params"])):
            fits.append(
                {
                    key: results[f"split{split}_test_{key}"][i]
                    for key in ("gpu", "peak_mib", "pid", "start", "end", "accuracy")
                }
            )
    return wall, fits, sampler.summary()


def overlap_seconds(fits):
    """Seconds during which at least two fits were training at the same time."""
    events = sorted([(f["start"], 1) for f in fits] + [(f["end"], -1) for f in fits])
    running, last, total = 0, None, 0.0
    for moment, step in events:
        if running >= 2:
            total += moment - last
        running, last = running + step, moment
    return total


def report_search(lines, label, wall, fits, gpu_summary):
    t0 = min(f["start"] for f in fits)
    lines.append(f"\n### {label}: {wall:.1f} s wall\n")
    lines.append("| fit | GPU | pid | start (s) | end (s) | peak MiB | accuracy |")
    lines.append("|---|---|---|---|---|---|---|")
    for i, f in enumerate(sorted(fits, key=lambda f: f["start"])):
        lines.append(
            f"| {i} | {int(f['gpu'])} | {int(f['pid'])} | {f['start'] - t0:.1f} | "
            f"{f['end'] - t0:.1f} | {f['peak_mib']:.0f} | {f['accuracy']:.3f} |"
        )
    rows, together = gpu_summary
    lines.append(f"\nfits overlapping for {overlap_seconds(fits):.1f} s in total.")
    lines.append("nvidia-smi: " + "; ".join(
        f"GPU {i}: max {u:.0f}% / mean {m:.0f}% busy, max {mem} MiB used"
        for i, (u, m, mem) in rows.items()
    ) + f"; all GPUs busy in {100 * together:.0f}% of samples.")  # fmt: skip


def ddp_fit(X, y, params, devices, graphs=True):
    """One fit: wall time (with start-up), median epoch time and the loss curve."""
    os.environ["SSLEARN_CUDA_GRAPHS"] = "1" if graphs else "0"
    start = time.perf_counter()
    est = LiquidS4Classifier(**params, devices=devices).fit(X, y)
    wall = time.perf_counter() - start
    if devices is None:  # give the cached memory back before the ranks use GPU 0
        import torch

        torch.cuda.empty_cache()
    epoch = statistics.median(r["seconds"] for r in est.history_)
    return wall, epoch, np.asarray(est.loss_curve_)


DDP_RUNS = [  # label, devices, CUDA graphs
    ("1 GPU, CUDA graph", None, True),
    ("devices=2, CUDA graphs (all-reduce captured)", 2, True),
    ("devices=2, eager DDP", 2, False),
]


def report_ddp(lines, X, y, params):
    """The :data:`DDP_RUNS` at ``params``, as a Markdown table (relative to one GPU)."""
    rows = [(label, *ddp_fit(X, y, params, devices, graphs)) for label, devices, graphs in DDP_RUNS]
    _, _, one_epoch, reference = rows[0]
    lines.append(
        f"\n### global batch {params['batch_size']}: {len(X)} series x {X.shape[1]} x "
        f"{X.shape[-1]}, d_model={params['d_model']}, {params['n_layers']} layers, "
        f"{params['max_epochs']} epochs\n"
    )
    lines.append(
        "| run | wall (s, incl. start-up) | median epoch (s) | speed-up per epoch "
        "| max rel. loss diff |"
    )
    lines.append("|---|---|---|---|---|")
    for label, wall, epoch, curve in rows:
        diff = float(np.max(np.abs(curve - reference) / np.abs(reference)))
        lines.append(
            f"| {label} | {wall:.1f} | {epoch:.2f} | {one_epoch / epoch:.2f}x | {diff:.1e} |"
        )


def ddp_section(lines, common, quick):
    """One fit on one GPU vs split over two, at a small and a large global batch."""
    X, y = make_data(1024 if quick else 16384, 3, 256 if quick else 1000, 10, seed=1)
    params = {**common, "d_model": 128, "d_state": 64, "max_epochs": 2 if quick else 4}
    lines.append(
        "\n## one fit split over 2 GPUs (n = len(X) divisible by the batch: every run draws "
        "the same batches)"
    )
    ddp_fit(X[:256], y[:256], {**params, "max_epochs": 1, "batch_size": 64}, None)  # warm-up
    for batch_size in (64, 512):
        report_ddp(lines, X, y, {**params, "batch_size": batch_size})


def search_section(lines, common, n_jobs, quick):
    """GridSearchCV with n_jobs=<GPUs> and n_jobs=1."""
    X, y = make_data(256 if quick else 2000, 3, 128 if quick else 500, 5)
    params = {
        **common,
        "d_model": 64,
        "d_state": 64,
        "max_epochs": 3 if quick else 20,
        "batch_size": 32,
    }
    grid = {"lr": [3e-3, 1e-2], "d_state": [32, 64]}
    small = make_data(64, 3, 32, 5)
    # start the loky workers (imports, CUDA contexts) before timing
    grid_search(*small, n_jobs, {**params, "max_epochs": 1, "d_model": 8}, {"lr": [1e-2] * n_jobs})
    wall_n, fits_n, gpu_n = grid_search(X, y, n_jobs, params, grid)
    grid_search(*small, 1, {**params, "max_epochs": 1, "d_model": 8}, {"lr": [1e-2]})  # warm-up
    wall_1, fits_1, gpu_1 = grid_search(X, y, 1, params, grid)
    lines.append(f"\nspeed-up n_jobs={n_jobs} over n_jobs=1: {wall_1 / wall_n:.2f}x")
    report_search(lines, f"n_jobs={n_jobs}", wall_n, fits_n, gpu_n)
    report_search(lines, "n_jobs=1", wall_1, fits_1, gpu_1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="also write the Markdown report here")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--ddp-only", action="store_true", help="skip the grid search (part 1)")
    return parser.parse_args(argv)


def main():
    args = parse_args()
    gpus = int(
        subprocess.run(
            ["nvidia-smi", "--query-gpu=count", "--format=csv,noheader"],
            capture_output=True, text=True, check=True,
        ).stdout.split()[0]
    )  # fmt: skip
    n_jobs = max(2, gpus)
    lines = [f"# bench_parallel ({gpus} GPUs visible, GridSearchCV n_jobs=1 vs {n_jobs})"]
    common = {"n_layers": 4, "early_stopping": False, "random_state": 0, "device": "auto"}
    if not args.ddp_only:  # 1. grid search: 4 candidates x 2 folds, ~ seconds per fit
        search_section(lines, common, n_jobs, args.quick)
    ddp_section(lines, common, args.quick)  # 2. one fit, one GPU vs 2

    import torch  # only now: the parent has not initialised CUDA before the searches

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _timing import environment

    lines.append(f"\n{environment()}, {torch.cuda.device_count()} GPUs")
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as file:
            file.write(report + "\n")


if __name__ == "__main__":
    main()
