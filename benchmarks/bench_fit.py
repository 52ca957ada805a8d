"""Small-data training speed on CUDA: ms per training step, eager vs CUDA graph.

Network: 4 Liquid-S4 blocks, H=64, N=64, batch 32, length 256, 10 classes, data resident on
the GPU. "eager" is the plain step with AdamW(fused=True); "graph" replays the whole step
(gather, forward, loss, backward, clipping, AdamW) from one CUDA graph
(`sslearn.training._graph.GraphedStep`, what the estimators use). Run on a CUDA GPU:
``python benchmarks/bench_fit.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import environment

from sslearn.nn import LiquidS4Network, param_groups
from sslearn.training._batches import SeriesSet
from sslearn.training._graph import GraphedStep, make_capturable

N_SERIES, CHANNELS, LENGTH, CLASSES, BATCH = 512, 3, 256, 10, 32


def make_data(device):
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(N_SERIES, CHANNELS, LENGTH, generator=gen)
    targets = torch.randint(0, CLASSES, (N_SERIES,), generator=gen)
    lengths = torch.full((N_SERIES,), LENGTH)
    return SeriesSet(values, lengths, targets).to(device)


def loss_fn(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")


def step_ms(mode: str, liquid_kernel, steps: int = 200) -> float:
    device = torch.device("cuda")
    torch.manual_seed(0)
    data = make_data(device)
    network = LiquidS4Network(CHANNELS, CLASSES, d_model=64, n_layers=4, d_state=64,
                              liquid_kernel=liquid_kernel).to(device)  # fmt: skip
    optimizer = torch.optim.AdamW(param_groups(network, 3e-3, 0.01, 1e-3), fused=True)
    params = [p for p in network.parameters() if p.requires_grad]
    gen = torch.Generator().manual_seed(1)
    if mode == "graph":
        make_capturable(optimizer, device)
        runner = GraphedStep(network, loss_fn, optimizer, data, BATCH, 1.0, _no_autocast)

        def batches():
            while True:
                yield from runner.epoch_indices(gen)

        source = batches()

        def one_step():
            runner.run(next(source))
    else:

        def one_step():
            index = torch.randint(0, N_SERIES, (BATCH,), generator=gen).to(device)
            outputs = network(data.values[index])
            loss = loss_fn(outputs, data.targets[index]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
            optimizer.step()

    for _ in range(10):
        one_step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        one_step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1e3


def _no_autocast():
    return torch.autocast("cuda", enabled=False)


def main() -> None:
    print(environment())
    print("| liquid_kernel | eager ms/step | CUDA graph ms/step | speed-up |")
    print("|---|---|---|---|")
    for liquid_kernel in (None, "pb", "kb", "exact"):
        eager = step_ms("eager", liquid_kernel)
        graph = step_ms("graph", liquid_kernel)
        print(f"| {liquid_kernel} | {eager:.2f} | {graph:.2f} | {eager / graph:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
