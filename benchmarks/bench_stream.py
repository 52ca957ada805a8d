"""Per-step latency of ``estimator.stream()``, as a Markdown table.

A classifier with ``d_model=64``, ``n_layers=4`` (the default size until 2026-12-04),
``d_state=64``, the diagonal core, the ``"kb"`` liquid kernel, mean+max pooling and
``bidirectional=False`` is fitted for one
epoch on random series (the weights do not change the cost), then streamed on the CPU and,
when one is present, on a CUDA GPU, for 1 and 64 series side by side. Two ways of feeding:

- ``update(k=1)``: one call per step, the online case; includes the input path of every call
  (validation, scaling, the copy to the device);
- ``update(k=64)``: chunks of 64 steps, divided by 64; the network's recurrent step alone,
  almost.

With onnxruntime installed, a last row runs the same model's ONNX step graph
(``export_onnx(..., mode="step")``, float32) in ONNX Runtime on the CPU, one call per step.

Times are medians over ``--repeat`` runs of ``--steps`` steps after a warm-up, in µs per
step (for the whole batch). The CPU streams in float64, as ``predict`` does there; a GPU in
float32. Run it on an otherwise idle machine.

    python benchmarks/bench_stream.py [--ssm diag] [--liquid-kernel kb] [--steps 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time

import numpy as np
import torch

from sslearn import LiquidS4Classifier, export_onnx


def fitted(ssm: str, liquid_kernel: str | None) -> LiquidS4Classifier:
    rng = np.random.RandomState(0)
    X, y = rng.randn(16, 3, 32), np.arange(16) % 2
    model = LiquidS4Classifier(
        ssm=ssm,
        liquid_kernel=liquid_kernel,
        bidirectional=False,
        n_layers=4,  # the size the latencies in RESULTS §7 were measured with
        max_epochs=1,
        early_stopping=False,
        device="cpu",
        random_state=0,
    )
    return model.fit(X, y)


def per_step_us(model, device: str, n_series: int, chunk: int, steps: int, repeat: int) -> float:
    """Median µs per step of a stream fed ``steps`` steps in chunks of ``chunk``."""
    model.set_params(device=device)
    X = np.random.RandomState(1).randn(n_series, model.n_channels_, steps)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    stream = model.stream()
    stream.update(X[:, :, :chunk])  # warm-up: first allocations, kernel launches
    times = []
    for _ in range(repeat):
        stream.reset()
        sync()
        start = time.perf_counter()
        for t in range(0, steps, chunk):
            stream.update(X[:, :, t : t + chunk])
        stream.predict_proba()  # waits for the device
        sync()
        times.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(times)


def onnx_step_us(model, n_series: int, steps: int, repeat: int) -> float:
    """Median µs per step of the exported step graph in ONNX Runtime (CPU)."""
    import onnxruntime

    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(model, f"{folder}/step.onnx", mode="step")
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()[1:]]
    X = np.random.RandomState(1).randn(n_series, model.n_channels_, steps).astype(np.float32)
    times = []
    for _ in range(repeat):
        state = {
            i.name: np.full(
                [n_series if isinstance(d, str) else d for d in i.shape],
                -np.inf if i.name == "pool_max" else 0.0,
                dtype=np.float32,
            )
            for i in session.get_inputs()[1:]
        }
        start = time.perf_counter()
        for t in range(steps):
            _, *new = session.run(None, {"x": X[:, :, t], **state})
            state = dict(zip(names, new, strict=True))
        times.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ssm", default="diag", choices=["diag", "dplr", "lssl"])
    parser.add_argument("--liquid-kernel", default="kb", choices=["none", "kb", "pb", "exact"])
    parser.add_argument("--steps", type=int, default=256, help="a multiple of 64")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    kernel = None if args.liquid_kernel == "none" else args.liquid_kernel
    model = fitted(args.ssm, kernel)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads{gpu}; "
        f"ssm={args.ssm!r}, liquid_kernel={kernel!r}, d_model=64, n_layers=4, d_state=64"
    )
    print("| device | series | update(k=1) µs/step | update(k=64) µs/step |")
    print("|---|---|---|---|")
    for device in devices:
        for n_series in (1, 64):
            single, chunked = (
                per_step_us(model, device, n_series, chunk, args.steps, args.repeat)
                for chunk in (1, 64)
            )
            print(f"| {device} | {n_series} | {single:.0f} | {chunked:.0f} |")
    if importlib.util.find_spec("onnxruntime") is not None:
        for n_series in (1, 64):
            single = onnx_step_us(model, n_series, args.steps, args.repeat)
            print(f"| onnxruntime (CPU, float32) | {n_series} | {single:.0f} | |")


if __name__ == "__main__":
    main()
