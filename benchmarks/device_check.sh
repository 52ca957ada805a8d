#!/usr/bin/env bash
# One device call: the GPU timings alone on the machine first (the layer against the anchor,
# the stream's per-step latency), then every CUDA test of the suite; logs under $OUT.
# Usage (on the GPU machine, from the repo root, wheels carried in .whl/):
#   bash benchmarks/device_check.sh [ANCHOR]
set -uo pipefail
out=${OUT:-/tmp/sslearn-out}
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
timeout 240 python3 benchmarks/bench_layer.py --anchor "${1:-.anchor/naive_ssm_gpu.py}" \
  --out "$out/bench_layer.md" >"$out/bench_layer.log" 2>&1
timeout 90 python3 benchmarks/bench_stream.py >"$out/bench_stream.md" 2>"$out/bench_stream.log"
timeout 330 python3 -m pytest -q tests -m cuda -p no:cacheprovider >"$out/cuda_tests.log" 2>&1
tail -3 "$out/cuda_tests.log"
