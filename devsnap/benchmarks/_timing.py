"""Shared timing helpers for the CUDA benchmarks: event timing, copy bandwidth, environment."""

from __future__ import annotations

import importlib.util
import statistics

import torch

# the anchor's five (B, H, L) shapes (N = 64), issue C's benchmark grid
ANCHOR_SHAPES = [
    (64, 128, 1024),
    (32, 128, 4096),
    (16, 128, 16384),
    (8, 256, 16000),
    (50, 256, 2048),
]


def start_table(columns: list[str]) -> float:
    """Measure the copy bandwidth, print the environment and a Markdown table header.

    Returns the bandwidth in TB/s (for :func:`byte_floor_ms`).
    """
    bandwidth = copy_bandwidth_tbs()
    print(f"{environment()}; copy bandwidth {bandwidth:.2f} TB/s")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    return bandwidth


def byte_floor_ms(batch: int, channels: int, length: int, bandwidth_tbs: float) -> float:
    """Forward+backward byte floor of one layer: 5 B H L float32 values at the copy bandwidth."""
    return 5 * batch * channels * length * 4 / (bandwidth_tbs * 1e12) * 1e3


def copy_bandwidth_tbs(n_bytes: int = 2**30, reps: int = 20) -> float:
    """Device-to-device copy bandwidth in TB/s, counting bytes read plus bytes written."""
    x = torch.empty(n_bytes // 4, device="cuda", dtype=torch.float32)
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(reps):
        y.copy_(x)
    end.record()
    torch.cuda.synchronize()
    del x, y
    return 2 * n_bytes * reps / (start.elapsed_time(end) / 1e3) / 1e12


def median_ms(fn, reps: int = 25, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in ms over ``reps`` runs, each timed with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def graphed(fn):
    """Capture ``fn`` (e.g. a forward+backward) in a CUDA graph; return its replay function.

    This is how the estimators run a training step when shapes are static: the replay
    removes the per-op launch overhead that dominates small and medium shapes.
    """
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def peak_mib(fn) -> float:
    """Peak allocated CUDA memory of one ``fn()`` call, in MiB."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20


def environment() -> str:
    triton = "absent"
    if importlib.util.find_spec("triton") is not None:
        import triton as _triton

        triton = _triton.__version__
    return (
        f"GPU {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton}, "
        f"CUDA {torch.version.cuda}"
    )
