"""Time the exact-liquid Triton scan, old (``stepwise``) against new (``blocked``), on CUDA.

``python benchmarks/sweep_scan.py`` times forward+backward (and the forward alone) of the
scan op ``liquid_scan(u, tanh(u), Abar, Bbar, C)``, with the discretised parameters of
``LiquidSSM(H, 64, liquid_kernel="exact")`` (N/2 = 32 complex states), for both kernel
variants over a grid of launch configurations (rows per program BR, checkpoint interval /
time block CHUNK, warps), each the median of ``--reps`` CUDA-event timings. Every
configuration's y, du and dAbar are compared with the stepwise default's (relative max
error), and the table gives the ratio to the exact recurrence's compute floor
(40 FP32 instructions per state-step at 32.9 T instr/s, ``docs/performance.md`` §2).

The configurations are set through ``SSLEARN_SCAN_CONFIG`` (see
``sslearn.nn.kernels._liquid_triton.scan_config``); the defaults there were chosen with it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import environment, median_ms

SHAPES = [(64, 128, 1024), (16, 128, 4096), (16, 128, 16384)]
N_STATE = 64
STEPWISE = [(1, 16, 1), (2, 16, 1), (4, 16, 1), (2, 32, 1), (4, 32, 2)]
# rows x 32 states / (32 x warps) = 1, 2 or 4 states per thread (8 spills in the backward)
BLOCKED = [
    (rows, chunk, warps)
    for chunk, (rows, warps) in itertools.product(
        (4, 8, 16), ((1, 1), (2, 1), (4, 1), (4, 2), (8, 2), (16, 4))
    )
]
INSTR_PER_STATE_STEP = 40  # fwd + bwd, docs/performance.md §2
INSTR_PER_S = 32.9e12


def config_strings(variants: list[str]) -> list[str]:
    """``SSLEARN_SCAN_CONFIG`` values: each variant's defaults, then its grid."""
    grids = {"stepwise": STEPWISE, "blocked": BLOCKED}
    return [
        text
        for variant in variants
        for text in [variant] + [f"{variant},{r},{c},{w}" for r, c, w in grids[variant]]
    ]


def make_problem(batch, channels, length):
    """Inputs, parameters (leaf tensors) and an upstream gradient on the GPU."""
    from sslearn.nn import LiquidSSM

    torch.manual_seed(0)
    layer = LiquidSSM(channels, N_STATE, liquid_kernel="exact").cuda()
    with torch.no_grad():
        _, abar, bbar, C = layer.core._discrete()
    params = [t.detach().clone().requires_grad_() for t in (abar, bbar, C)]
    u = torch.randn(batch, channels, length, device="cuda", requires_grad=True)
    dy = torch.randn_like(u)
    return u, params, dy


def run_scan(u, params, dy, backward=True):
    from sslearn.nn.kernels.liquid_scan import liquid_scan

    for t in (u, *params):
        t.grad = None
    y = liquid_scan(u, torch.tanh(u), *params)
    if backward:
        y.backward(dy)
    return y


def outputs(u, params, dy):
    y = run_scan(u, params, dy)
    return y.detach(), u.grad.detach().clone(), params[0].grad.detach().clone()


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def sweep_shape(batch, channels, length, configs, reps):
    """Print one table row per configuration; return the stepwise default's time, the floor
    and the best (ms, config) per variant."""
    u, params, dy = make_problem(batch, channels, length)
    floor_ms = batch * channels * N_STATE // 2 * length * INSTR_PER_STATE_STEP / INSTR_PER_S
    floor_ms *= 1e3
    os.environ["SSLEARN_SCAN_CONFIG"] = "stepwise"
    reference = outputs(u, params, dy)
    base_ms = median_ms(lambda: run_scan(u, params, dy), reps=reps)
    best = {}
    for text in configs:
        os.environ["SSLEARN_SCAN_CONFIG"] = text
        try:
            errors = [rel_err(a, b) for a, b in zip(outputs(u, params, dy), reference, strict=True)]
        except Exception as exc:  # a config that does not compile or fit: report it, go on
            print(f"| {batch}x{channels}x{length} | {text} | failed: {exc!r:.80} |", flush=True)
            continue
        fwd = median_ms(lambda: run_scan(u, params, dy, backward=False), reps=reps)
        both = median_ms(lambda: run_scan(u, params, dy), reps=reps)
        print(
            f"| {batch}x{channels}x{length} | {text} | {fwd:.3f} | {both:.3f} "
            f"| {both / floor_ms:.2f} | {base_ms / both:.2f}x | {errors[0]:.1e} "
            f"| {errors[1]:.1e} | {errors[2]:.1e} |",
            flush=True,
        )
        variant = "default variant" if text[0].isdigit() else text.split(",")[0]
        if both < best.get(variant, (float("inf"),))[0]:
            best[variant] = (both, text)
    os.environ.pop("SSLEARN_SCAN_CONFIG")
    return base_ms, floor_ms, best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default="0,1,2", help=f"indices into {SHAPES} (B, H, L)")
    parser.add_argument("--variants", default="stepwise,blocked", help="variants to time")
    parser.add_argument(
        "--configs",
        default=None,
        help="';'-separated SSLEARN_SCAN_CONFIG values instead of the grid, "
        "e.g. 'stepwise;blocked,4,8,1;blocked,2,16,1'",
    )
    parser.add_argument("--reps", type=int, default=20, help="timed runs per configuration")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("sweep_scan.py needs a CUDA GPU")
    if args.configs:
        configs = args.configs.split(";")
    else:
        configs = config_strings(args.variants.split(","))

    print(environment())
    print(
        "| BxHxL | config | fwd ms | fwd+bwd ms | x floor | vs stepwise | err y | err du | err dA |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    summary = []
    for index in map(int, args.shapes.split(",")):
        shape = SHAPES[index]
        summary.append((shape, *sweep_shape(*shape, configs, args.reps)))
        torch.cuda.empty_cache()

    print(
        "\nbest per variant: fwd+bwd ms [config], x compute floor, speed-up over stepwise default"
    )
    for (batch, channels, length), base_ms, floor_ms, best in summary:
        cells = [
            f"{variant} {ms:.3f} ms [{text}] {ms / floor_ms:.2f}x floor {base_ms / ms:.2f}x"
            for variant, (ms, text) in best.items()
        ]
        print(
            f"  {batch}x{channels}x{length} (stepwise default {base_ms:.3f} ms): "
            + "; ".join(cells)
        )


if __name__ == "__main__":
    main()
