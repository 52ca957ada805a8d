"""Forward+backward time of one sslearn ``LiquidSSM`` layer against the naive S4D anchor.

Run on a CUDA GPU: ``python benchmarks/bench_layer.py [--anchor PATH] [--out FILE]``.
In one process it measures the copy bandwidth, then for the anchor's five shapes times
forward+backward (fp32, CUDA events, warm-up, median of 25) of the anchor ``NaiveS4D`` and
of ``LiquidSSM`` with liquid_kernel None, "pb", "kb" and "exact", and prints a table: ms,
peak MiB, ratio to the byte floor (5 B H L 4 bytes at the measured copy bandwidth), ratio
to the compute floor for "exact", and speed-up over the anchor.

The anchor is the project's timing reference ``shared/bench/naive_ssm_gpu.py``; pass its
path with ``--anchor`` (default: ``../shared/bench/naive_ssm_gpu.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import byte_floor_ms, copy_bandwidth_tbs, environment, graphed, median_ms, peak_mib

from sslearn.nn import LiquidSSM

SHAPES = [(64, 128, 64, 1024), (32, 128, 64, 4096), (16, 128, 64, 16384), (8, 256, 64, 16000),
          (50, 256, 64, 2048)]  # fmt: skip
MODES = [None, "pb", "kb", "exact"]
# Exact liquid recurrence: ~40 FP32 instructions per (b, h, n, k) complex state-step forward +
# backward, at 32.9 T instr/s on an H100/H200 (132 SMs x 128 lanes x 1.98 GHz); see
# shared/docs/performance.md section 2.
EXACT_INSTR_PER_STATE_STEP = 40
INSTR_PER_SECOND = 32.9e12


def load_anchor(path: str):
    spec = importlib.util.spec_from_file_location("naive_ssm_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NaiveS4D


def fwd_bwd(module, u):
    def run():
        module(u).sum().backward()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--anchor",
        default=str(Path(__file__).resolve().parents[2] / "shared/bench/naive_ssm_gpu.py"),
    )
    parser.add_argument("--out", default=None, help="also write the markdown table here")
    parser.add_argument("--reps", type=int, default=25)
    args = parser.parse_args()
    NaiveS4D = load_anchor(args.anchor)
    torch.manual_seed(0)
    bandwidth = copy_bandwidth_tbs()
    lines = [f"{environment()}; copy bandwidth {bandwidth:.2f} TB/s", "",
             "| BxHxNxL | layer | ms (eager) | ms (CUDA graph) | peak MiB | x byte floor (graph) "
             "| x compute floor (graph) | speed-up vs anchor (eager / graph vs eager anchor) |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    print(lines[0], flush=True)
    for batch, channels, n_state, length in SHAPES:
        u = torch.randn(batch, channels, length, device="cuda", requires_grad=True)
        floor_ms = byte_floor_ms(batch, channels, length, bandwidth)
        compute_ms = (batch * channels * (n_state // 2) * length * EXACT_INSTR_PER_STATE_STEP
                      / INSTR_PER_SECOND * 1e3)  # fmt: skip
        modules = [("anchor NaiveS4D", NaiveS4D(channels, n_state))] + [
            (f"LiquidSSM {mode}", LiquidSSM(channels, n_state, liquid_kernel=mode))
            for mode in MODES
        ]
        rows = []
        for name, module in modules:
            module = module.cuda()
            ms = median_ms(fwd_bwd(module, u), reps=args.reps)
            graph_ms = median_ms(graphed(fwd_bwd(module, u)), reps=args.reps)
            rows.append((name, ms, graph_ms, peak_mib(fwd_bwd(module, u))))
            del module
        anchor_ms = rows[0][1]
        for name, ms, graph_ms, peak in rows:
            compute = f"{graph_ms / compute_ms:.1f}" if name.endswith("exact") else ""
            line = (f"| {batch}x{channels}x{n_state}x{length} | {name} | {ms:.3f} | "
                    f"{graph_ms:.3f} | {peak:.0f} | {graph_ms / floor_ms:.1f} | {compute} | "
                    f"{anchor_ms / ms:.2f} / {anchor_ms / graph_ms:.2f} |")  # fmt: skip
            lines.append(line)
            print(line, flush=True)
        del u
        torch.cuda.empty_cache()
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
