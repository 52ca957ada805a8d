"""Profile one LiquidSSM forward+backward on CUDA (torch.profiler table, CUDA time)."""

from __future__ import annotations

import argparse

import torch

from sslearn.nn import LiquidSSM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", default="64,128,64,1024")
    parser.add_argument("--mode", default="none")
    parser.add_argument("--rows", type=int, default=25)
    args = parser.parse_args()
    batch, channels, n_state, length = (int(v) for v in args.shape.split(","))
    mode = None if args.mode == "none" else args.mode
    layer = LiquidSSM(channels, n_state, liquid_kernel=mode).cuda()
    u = torch.randn(batch, channels, length, device="cuda", requires_grad=True)
    for _ in range(3):
        layer(u).sum().backward()
    torch.cuda.synchronize()
    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(5):
            layer(u).sum().backward()
        torch.cuda.synchronize()
    print(f"== {args.shape} liquid_kernel={mode}")
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
