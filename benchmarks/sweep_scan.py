"""Sweep the exact-liquid Triton scan's launch configuration (BR, CHUNK, warps) on CUDA."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_ms

from sslearn.nn import LiquidSSM

SHAPES = [(64, 128, 64, 1024), (16, 128, 64, 4096), (16, 128, 64, 16384)]
CONFIGS = list(itertools.product([1, 2, 4], [16, 32], [1, 2]))


def main() -> None:
    for batch, channels, n_state, length in SHAPES:
        layer = LiquidSSM(channels, n_state, liquid_kernel="exact").cuda()
        u = torch.randn(batch, channels, length, device="cuda", requires_grad=True)
        results = []
        for block_r, chunk, warps in CONFIGS:
            os.environ["SSLEARN_SCAN_CONFIG"] = f"{block_r},{chunk},{warps}"
            fwd = median_ms(lambda m=layer, x=u: m(x), reps=10)
            both = median_ms(lambda m=layer, x=u: m(x).sum().backward(), reps=10)
            results.append((both, fwd, block_r, chunk, warps))
        results.sort()
        print(f"{batch}x{channels}x{n_state}x{length}: best of {len(results)}")
        for both, fwd, block_r, chunk, warps in results[:4]:
            print(
                f"  BR={block_r} CHUNK={chunk} warps={warps}: fwd {fwd:.3f} ms, "
                f"fwd+bwd {both:.3f} ms"
            )
        os.environ.pop("SSLEARN_SCAN_CONFIG")


if __name__ == "__main__":
    main()
