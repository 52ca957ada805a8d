"""Small-data training speed on CUDA, in one process.

1. ms per training step, eager vs CUDA graph. Network: 4 Liquid-S4 blocks, H=64, N=64,
   batch 32, length 256, 10 classes, data resident on the GPU. "eager" is the plain step with
   AdamW(fused=True); "graph" replays the whole step (gather, forward, loss, backward,
   clipping, AdamW) from one CUDA graph (`sslearn.training._graph.GraphedStep`, what the
   estimators use).
2. Wall time of ``LiquidS4Classifier.fit`` on 500 series x 500 steps for 100 epochs against
   the same network (encoder, 4 residual blocks with LayerNorm/GELU/GLU, mean pooling, head)
   built on the anchor's naive S4D layer and trained by skorch 1.4 (AdamW, batch 32, no
   validation split), both on the GPU, each after a 1-epoch warm-up fit (whose time, with the
   Triton JIT and the CUDA-graph capture, is printed). Needs ``skorch`` and the anchor file
   (``--anchor``).

Run on a CUDA GPU: ``python benchmarks/bench_fit.py [--anchor PATH]``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import torch
from sklearn.base import clone

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


def skorch_vs_estimator(anchor_path: str) -> None:
    import numpy as np
    from skorch import NeuralNetClassifier

    from sslearn import LiquidS4Classifier

    spec = importlib.util.spec_from_file_location("naive_ssm_gpu", anchor_path)
    anchor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(anchor)

    class NaiveBlock(torch.nn.Module):
        def __init__(self, h):
            super().__init__()
            self.norm, self.ssm = torch.nn.LayerNorm(h), anchor.NaiveS4D(h, 64)
            self.out = torch.nn.Linear(h, 2 * h)

        def forward(self, x):  # (B, H, L)
            z = self.ssm(self.norm(x.transpose(1, 2)).transpose(1, 2))
            z = torch.nn.functional.gelu(z).transpose(1, 2)
            return x + torch.nn.functional.glu(self.out(z), dim=-1).transpose(1, 2)

    class NaiveNetwork(torch.nn.Module):
        def __init__(self, channels=1, classes=3, h=64, layers=4):
            super().__init__()
            self.encoder = torch.nn.Linear(channels, h)
            self.blocks = torch.nn.Sequential(*[NaiveBlock(h) for _ in range(layers)])
            self.norm, self.head = torch.nn.LayerNorm(h), torch.nn.Linear(h, classes)

        def forward(self, x):
            h = self.blocks(self.encoder(x.transpose(1, 2)).transpose(1, 2))
            return self.head(self.norm(h.transpose(1, 2)).mean(1))

    rng = np.random.RandomState(0)
    n, length, epochs = 500, 500, 100
    y = rng.randint(0, 3, n)
    t = np.linspace(0, 10, length)
    X = (np.sin((1 + y)[:, None, None] * t + 6 * rng.rand(n, 1, 1))
         + 0.5 * rng.randn(n, 1, length)).astype(np.float32)  # fmt: skip
    fits = {
        "sslearn LiquidS4Classifier (defaults: liquid_kernel=None)": LiquidS4Classifier(
            max_epochs=epochs, early_stopping=False, n_iter_no_change=epochs, random_state=0
        ),
        "sslearn LiquidS4Classifier (liquid_kernel='pb')": LiquidS4Classifier(
            liquid_kernel="pb",
            max_epochs=epochs,
            early_stopping=False,
            n_iter_no_change=epochs,
            random_state=0,
        ),
        "skorch + naive S4D layer": NeuralNetClassifier(
            NaiveNetwork,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            lr=1e-2,
            batch_size=32,
            max_epochs=epochs,
            train_split=None,
            device="cuda",
            iterator_train__shuffle=True,
            verbose=0,
        ),
    }
    times = {}
    for name, model in fits.items():
        # one-time costs (Triton JIT, CUDA graph capture, cuFFT plans) out of the timing
        start = time.perf_counter()
        clone(model).set_params(max_epochs=1).fit(X, y.astype(np.int64))
        if name.startswith("sslearn"):
            print(f"{name}: first 1-epoch fit (JIT, CUDA graph capture) "
                  f"{time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
        torch.cuda.synchronize()
        start = time.perf_counter()
        model.fit(X, y.astype(np.int64))
        torch.cuda.synchronize()
        times[name] = time.perf_counter() - start
        accuracy = float((model.predict(X) == y).mean())
        print(f"{name}: fit {times[name]:.1f} s, train accuracy {accuracy:.3f}", flush=True)
    reference = times["skorch + naive S4D layer"]
    print("| fit (500 series x 500 steps, 100 epochs) | seconds | speed-up vs skorch |")
    print("|---|---|---|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.1f} | {reference / seconds:.1f}x |")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--anchor",
        default=str(Path(__file__).resolve().parents[2] / "shared/bench/naive_ssm_gpu.py"),
    )
    args = parser.parse_args()
    print(environment())
    print("| liquid_kernel | eager ms/step | CUDA graph ms/step | speed-up |")
    print("|---|---|---|---|")
    for liquid_kernel in (None, "pb", "kb", "exact"):
        eager = step_ms("eager", liquid_kernel)
        graph = step_ms("graph", liquid_kernel)
        print(f"| {liquid_kernel} | {eager:.2f} | {graph:.2f} | {eager / graph:.1f}x |", flush=True)
    if importlib.util.find_spec("skorch") is None:
        print("skorch is not installed: skipping the estimator vs skorch comparison")
        return
    skorch_vs_estimator(args.anchor)


if __name__ == "__main__":
    main()
