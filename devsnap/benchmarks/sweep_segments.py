"""Sweep the time segments of the chunked convolution on a CUDA GPU (one process).

``python benchmarks/sweep_segments.py [--shapes 0,1,..] [--configs name,..] [--modes none,pb]``
times forward+backward of ``LiquidSSM(H, 64, liquid_kernel=mode)`` (diag core, replayed as a
CUDA graph, median of 20) at the anchor's shapes for each named configuration of
``sslearn.nn.kernels._chunked_triton`` (environment variables, see ``CONFIGS``), and prints
the per-kernel CUDA time of one forward+backward (torch.profiler) for the first
configuration. ``default`` runs the code as it is (to time another checkout of ``sslearn``,
put it first on ``PYTHONPATH``). The segment heuristic in ``segment_chunks`` was
chosen with it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (
    ANCHOR_SHAPES,
    byte_floor_ms,
    graphed,
    median_ms,
    start_table,
)

from sslearn.nn import LiquidSSM

SHAPES = ANCHOR_SHAPES
CONFIGS = {
    "default": {},
    "no-segments": {"SSLEARN_CHUNK_SEGMENTS": "1"},
    "2 segments": {"SSLEARN_CHUNK_SEGMENTS": "2"},
    "4 segments": {"SSLEARN_CHUNK_SEGMENTS": "4"},
    "8 segments": {"SSLEARN_CHUNK_SEGMENTS": "8"},
    "bwd 8 warps": {"SSLEARN_CHUNK_BWD_WARPS": "8"},
    "bwd 2 warps": {"SSLEARN_CHUNK_BWD_WARPS": "2"},
    "fwd 8 warps": {"SSLEARN_CHUNK_WARPS": "8", "SSLEARN_CHUNK_BWD_WARPS": "4"},
}
KNOBS = sorted({key for config in CONFIGS.values() for key in config})


def kernel_times(step) -> str:
    """CUDA time per kernel (ms) of one ``step()``, the sslearn kernels first."""
    activities = [torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=activities) as prof:
        step()
        torch.cuda.synchronize()
    rows = []
    for event in prof.key_averages():
        ms = event.device_time_total / 1e3
        if ms > 0.005:
            rows.append((ms, event.key))
    rows.sort(reverse=True)
    return "; ".join(f"{name[:40]} {ms:.3f}" for ms, name in rows[:8])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shapes", default="0,1,2,3,4", help="indices into SHAPES")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="names in CONFIGS")
    parser.add_argument("--modes", default="none,pb")
    parser.add_argument("--label", default="", help="printed in every row (e.g. the checkout)")
    args = parser.parse_args()
    bandwidth = start_table(
        ["code", "BxHxL", "liquid_kernel", "config", "ms (graph)", "x byte floor"]
    )
    for index in map(int, args.shapes.split(",")):
        batch, channels, length = SHAPES[index]
        floor_ms = byte_floor_ms(batch, channels, length, bandwidth)
        u = torch.randn(batch, channels, length, device="cuda", requires_grad=True)
        for mode in args.modes.split(","):
            torch.manual_seed(0)
            layer = LiquidSSM(channels, 64, liquid_kernel=None if mode == "none" else mode).cuda()

            def step(layer=layer, u=u):
                layer(u).sum().backward()

            for n, name in enumerate(args.configs.split(",")):
                for key in KNOBS:
                    os.environ.pop(key, None)
                os.environ.update(CONFIGS[name])
                ms = median_ms(graphed(step), reps=20)
                print(f"| {args.label} | {batch}x{channels}x{length} | {mode} | {name} "
                      f"| {ms:.3f} | {ms / floor_ms:.1f} |", flush=True)  # fmt: skip
                if n == 0:
                    print(f"<!-- kernels: {kernel_times(step)} -->", flush=True)
            del layer
        del u
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
