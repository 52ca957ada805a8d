#!/usr/bin/env bash
# One device call: CUDA tests of sslearn.nn and the layer benchmark, logs under $OUT.
# Usage (on the GPU machine, from the repo root): bash benchmarks/device_check.sh [ANCHOR]
set -uo pipefail
out=${OUT:-/tmp/sslearn-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -m pytest -q tests/nn -m cuda -p no:cacheprovider 2>&1 | tee "$out/cuda_tests.log" | tail -5
python3 benchmarks/bench_layer.py --anchor "${1:-.anchor/naive_ssm_gpu.py}" \
  --out "$out/bench_layer.md" 2>&1 | tee "$out/bench_layer.log"
