"""Where the fit time of the convolutional front end goes on small sets (a GPU diagnosis).

On an H100 (session 18) the default fit with ``stem_channels=64`` took 16 ms an epoch on
EyesOpenShut and GunPoint against about 5 ms without the front end, far more than the
front end's arithmetic. This script fits the classifier's defaults with and without the
front end on small sets (a warm-up fit first, then timed fits), also with cuDNN's
autotuner on (``torch.backends.cudnn.benchmark``), with cuDNN off (PyTorch's own
convolutions) and with every ``nn.Conv1d`` computed as unfold + one matrix product,
prints milliseconds per epoch, and profiles one fit of the first set with
``torch.profiler``: the operators with the most host time and the most device time.

Since 3715e9c :class:`~sslearn.nn.ConvStem` computes its convolutions with
``windows_times_weights`` and no longer calls ``nn.Conv1d``, so every "stem 64" setting
here measures that path; the cuDNN columns of ``benchmarks/RESULTS.md`` were measured at
7e86a84.

Run on a GPU machine: ``python benchmarks/profile_fit_stem.py [--datasets ...]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _accuracy_data import load

from sslearn import LiquidS4Classifier


def unfold_conv1d(self, x, weight, bias):
    """``nn.Conv1d._conv_forward`` as windows times weights (stride 1, no padding)."""
    groups, width = self.groups, weight.shape[-1]
    windows = x.unfold(-1, width, 1)  # (B, G·Cin, L', w)
    windows = windows.unflatten(1, (groups, -1))  # (B, G, Cin, L', w)
    kernel = weight.unflatten(0, (groups, -1))  # (G, Cout, Cin, w)
    out = torch.einsum("bgclw,gocw->bgol", windows, kernel).flatten(1, 2)
    return out if bias is None else out + bias[:, None]


def timed_fit(params: dict, X, y) -> tuple[float, int]:
    model = LiquidS4Classifier(**params, random_state=0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    model.fit(X, y)
    torch.cuda.synchronize()
    return time.perf_counter() - start, model.n_iter_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+",
        default=["EyesOpenShut", "GunPoint", "ArrowHead", "ItalyPowerDemand"],
    )  # fmt: skip
    parser.add_argument("--rows", type=int, default=18)
    args = parser.parse_args()
    columns = {"no front end": {"stem_channels": 0}, "stem 64": {}}
    cudnn = {
        "": (True, False, False),
        ", cuDNN autotuner": (True, True, False),
        ", no cuDNN": (False, False, False),
        ", unfold + matmul": (True, False, True),
    }
    conv_forward = torch.nn.Conv1d._conv_forward
    for index, name in enumerate(args.datasets):
        X, y, _, _ = load(name)
        print(f"== {name}: {len(X)} series")
        for label, params in columns.items():
            for setting, (enabled, benchmark, unfold) in cudnn.items():
                torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark = enabled, benchmark
                torch.nn.Conv1d._conv_forward = unfold_conv1d if unfold else conv_forward
                timed_fit(params, X, y)  # warm-up: compilation, graph capture, cuDNN choices
                seconds, epochs = timed_fit(params, X, y)
                no_val, no_val_epochs = timed_fit({**params, "early_stopping": False}, X, y)
                print(
                    f"{label}{setting}: {seconds:.2f} s, {epochs} epochs, "
                    f"{1e3 * seconds / epochs:.1f} ms/epoch; without validation "
                    f"{1e3 * no_val / no_val_epochs:.1f} ms/epoch",
                    flush=True,
                )
        torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark = True, False
        torch.nn.Conv1d._conv_forward = conv_forward
        if index > 0:
            continue
        for label, params in columns.items():
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                timed_fit({**params, "max_epochs": 20}, X, y)
            table = prof.key_averages()
            print(f"-- {name}, {label}, 20 epochs: host time")
            print(table.table(sort_by="self_cpu_time_total", row_limit=args.rows))
            print(f"-- {name}, {label}, 20 epochs: device time")
            print(table.table(sort_by="self_cuda_time_total", row_limit=args.rows // 2))


if __name__ == "__main__":
    main()
