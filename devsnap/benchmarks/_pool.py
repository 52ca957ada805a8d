"""A pool of worker processes for benchmark jobs, so that many small fits share a host.

Each job is a dict handed to a module-level function; the workers are started with the
``spawn`` method (safe with CUDA), import torch once, and live for the whole run, so any
per-process cache (datasets, compiled MiniRocket kernels) is filled once per worker. The
CPU threads are divided among the workers so that CPU fits do not oversubscribe the host.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

__all__ = ["run_jobs"]


def _start_worker(workers: int) -> None:
    # BENCH_THREADS overrides the share when several benchmark processes run at once
    threads = os.environ.get("BENCH_THREADS") or str(max(1, (os.cpu_count() or 1) // workers))
    os.environ.setdefault("NUMBA_NUM_THREADS", threads)  # read when numba is first imported
    import torch

    torch.set_num_threads(int(threads))


def run_jobs(
    function: Callable[[dict], dict],
    jobs: list[dict],
    workers: int = 1,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict]:
    """``[function(job) for job in jobs]``, in ``workers`` processes (1: in this process).

    ``on_result`` is called with each result as it arrives (in completion order); the
    returned list is in job order.
    """
    results: list[dict] = [{} for _ in jobs]
    if workers <= 1:
        for index, job in enumerate(jobs):
            results[index] = function(job)
            if on_result is not None:
                on_result(results[index])
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(workers,)
    ) as pool:
        futures = {pool.submit(function, job): index for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if on_result is not None:
                on_result(results[futures[future]])
    return results
