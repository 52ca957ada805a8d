"""Sweep the chunked-convolution kernel's settings on a CUDA GPU (one process).

``python benchmarks/sweep_chunked.py [--shapes 0,1,...]`` times forward+backward of
``LiquidSSM(H, 64, liquid_kernel=None)`` (diag core, replayed as a CUDA graph, median of 20)
for the product precision (``tf32x3``, ``tf32``), the chunk length T, the rows per program
R and the warps per program, and reports the relative error of the float32 output and input
gradient against the same layer in float64. The defaults in ``sslearn.nn.cores.diagonal.CHUNK`` and
``sslearn.nn.kernels._chunked_triton.launch_config`` were chosen with it.
"""

from __future__ import annotations

import argparse
import copy
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

import sslearn.nn.cores.diagonal as diagonal
from sslearn.nn import LiquidSSM

SHAPES = ANCHOR_SHAPES
CONFIGS = [("tf32", 32, 16, 4)] + [
    ("tf32x3", chunk, rows, warps)
    for chunk in (32, 64)
    for rows in (16, 32, 64)
    for warps in (4, 8)
]


def forward_backward(layer, u):
    def step():
        layer(u).sum().backward()

    return step


def relative_errors(layer, u):
    """Relative max error of y and du of the float32 layer against its float64 copy."""
    results = []
    for dtype in (torch.float32, torch.float64):
        module = copy.deepcopy(layer).to(dtype)
        x = u.detach().to(dtype).requires_grad_()
        y = module(x)
        y.backward(torch.ones_like(y))
        results.append((y.detach().double(), x.grad.double()))
    (y32, g32), (y64, g64) = results
    err = lambda a, b: ((a - b).abs().max() / b.abs().max()).item()  # noqa: E731
    return err(y32, y64), err(g32, g64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shapes", default="0,1,2,3,4", help="indices into SHAPES")
    args = parser.parse_args()
    bandwidth = start_table(
        ["BxHxL", "precision", "T", "R", "warps", "ms (graph)", "x byte floor", "err y", "err du"]
    )
    for index in map(int, args.shapes.split(",")):
        batch, channels, length = SHAPES[index]
        torch.manual_seed(0)
        layer = LiquidSSM(channels, 64, liquid_kernel=None).cuda()
        u = torch.randn(batch, channels, length, device="cuda", requires_grad=True)
        floor_ms = byte_floor_ms(batch, channels, length, bandwidth)
        for precision, chunk, rows, warps in CONFIGS:
            os.environ["SSLEARN_CHUNK_WARPS"] = str(warps)
            os.environ["SSLEARN_CHUNK_PRECISION"] = precision
            os.environ["SSLEARN_CHUNK_ROWS"] = str(rows)
            diagonal.CHUNK = chunk

            ms = median_ms(graphed(forward_backward(layer, u)), reps=20)
            err_y, err_du = relative_errors(layer, u) if index == 0 else (float("nan"),) * 2
            print(f"| {batch}x{channels}x{length} | {precision} | {chunk} | {rows} | {warps} "
                  f"| {ms:.3f} | {ms / floor_ms:.1f} | {err_y:.1e} | {err_du:.1e} |",
                  flush=True)  # fmt: skip
        del layer, u
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
