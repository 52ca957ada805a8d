"""CPU timing of one ``LiquidSSM`` layer: forward+backward and no-grad forward, as Markdown.

Every liquid kernel (None, pb, kb, exact) with and without ``bidirectional``, on one input
shape (default (16, 64, 256), ``d_state=64``). Times are medians of wall-clock runs after a
warm-up; run it on an otherwise idle machine. Each cell runs in ``--repeat`` fresh
interpreters (the order of the cells would otherwise change glibc's heap thresholds and
hence the page faults of the later cells) and the median over them is shown; the
``faults`` column counts minor page faults per forward+backward, i.e. memory glibc gave
back to the kernel and took again. The calibration line (a matmul and an FFT) shows how
loaded the machine was.

``--tune-malloc`` sets glibc's ``M_MMAP_THRESHOLD``/``M_TRIM_THRESHOLD`` high (as
``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` would) so freed memory stays in the
heap; the difference to a plain run is the cost of those page faults.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from sslearn.nn import LiquidSSM

MODES = ("none", "pb", "kb", "exact")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers


def tune_malloc() -> bool:
    """Keep freed memory in glibc's heap (no trimming, no mmap below 32 MiB)."""
    libc = ctypes.CDLL("libc.so.6")
    trim = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
    mmap = libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
    return bool(trim and mmap)


def measure(fn, reps: int, warmup: int = 3) -> tuple[float, float]:
    """``(median wall ms, minor page faults per run)`` of ``fn()`` after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return 1e3 * statistics.median(times), faults / reps


def time_layer(mode: str, bidirectional: bool, shape, d_state: int, reps: int) -> dict:
    """Forward+backward and no-grad forward timings of one layer on a random input."""
    batch, channels, length = shape
    torch.manual_seed(0)
    kernel = None if mode == "none" else mode
    layer = LiquidSSM(channels, d_state, liquid_kernel=kernel, bidirectional=bidirectional)
    u = torch.randn(batch, channels, length, requires_grad=True)

    def train_step():
        layer(u).sum().backward()

    def predict():
        with torch.no_grad():
            layer(u)

    train_ms, faults = measure(train_step, reps)
    predict_ms, _ = measure(predict, reps)
    return {"train": train_ms, "faults": faults, "predict": predict_ms}


def calibration_ms() -> str:
    """Medians of a 512x512 matmul and a (16, 64, 512) rfft: how loaded the machine is."""
    a, x = torch.randn(512, 512), torch.randn(16, 64, 512)
    matmul, _ = measure(lambda: a @ a, 30)
    rfft, _ = measure(lambda: torch.fft.rfft(x), 30)
    return f"calibration: 512x512 matmul {matmul:.2f} ms, (16, 64, 512) rfft {rfft:.3f} ms"


def profile(args) -> None:
    """torch.profiler table (self CPU time) of ``--reps`` forward+backward of one layer."""
    batch, channels, length = (int(v) for v in args.shape.split(","))
    kernel = None if args.profile == "none" else args.profile
    layer = LiquidSSM(channels, args.d_state, liquid_kernel=kernel)
    u = torch.randn(batch, channels, length, requires_grad=True)
    for _ in range(3):
        layer(u).sum().backward()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(args.reps):
            layer(u).sum().backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def run_cell(args, mode: str, bidirectional: bool) -> dict:
    """One cell in a fresh interpreter (or here with ``--in-process``), ``--repeat`` times.

    Returns the median over the repeats of each timing (each itself a median).
    """
    if args.in_process:
        shape = tuple(int(v) for v in args.shape.split(","))
        reps = args.exact_reps if mode == "exact" else args.reps
        return time_layer(mode, bidirectional, shape, args.d_state, reps)
    command = [sys.executable, __file__, "--cell", mode, str(int(bidirectional))]
    command += ["--threads", str(args.threads), "--reps", str(args.reps)]
    command += ["--exact-reps", str(args.exact_reps), "--shape", args.shape]
    command += ["--d-state", str(args.d_state)] + (["--tune-malloc"] if args.tune_malloc else [])
    runs = []
    for _ in range(1 if mode == "exact" else args.repeat):
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--reps", type=int, default=30, help="timed runs per cell")
    parser.add_argument("--exact-reps", type=int, default=5, help="timed runs for exact")
    parser.add_argument("--shape", default="16,64,256", help="B,H,L")
    parser.add_argument("--d-state", type=int, default=64)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per cell")
    parser.add_argument("--tune-malloc", action="store_true", help="see the module docstring")
    parser.add_argument("--in-process", action="store_true", help="all cells in this process")
    parser.add_argument("--profile", metavar="MODE", help="profile one liquid kernel instead")
    parser.add_argument(
        "--cell", nargs=2, metavar=("MODE", "BIDIRECTIONAL"), help=argparse.SUPPRESS
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    tuned = tune_malloc() if args.tune_malloc else False
    if args.profile:
        profile(args)
        return
    if args.cell:
        args.in_process = True
        print(json.dumps(run_cell(args, args.cell[0], bool(int(args.cell[1])))))
        return
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, input {args.shape} "
        f"(B,H,L), d_state={args.d_state}, malloc tuned: {tuned}\n{calibration_ms()}\n"
    )
    print("| liquid_kernel | bidirectional | ms fwd+bwd | faults/step | ms no-grad fwd |")
    print("|---|---|---|---|---|")
    for mode in args.modes.split(","):
        for bidirectional in (False, True):
            cell = run_cell(args, mode, bidirectional)
            print(
                f"| {mode} | {bidirectional} | {cell['train']:.2f} | {cell['faults']:.0f} "
                f"| {cell['predict']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
