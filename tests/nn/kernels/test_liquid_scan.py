"""The fused Triton liquid scan against its PyTorch twin (CUDA, or the Triton interpreter).

Without a GPU these run under ``TRITON_INTERPRET=1`` (set in ``tests/conftest.py``) on tiny
shapes; they skip cleanly where Triton is not installed.
"""

import pytest
import torch

from sslearn.nn.kernels import triton_available
from sslearn.nn.kernels.liquid_scan import _LiquidScanTriton, liquid_scan_reference

pytestmark = pytest.mark.skipif(not triton_available(), reason="Triton is not installed")


@pytest.fixture
def triton_device(device):
    if device == "cpu" and torch.cuda.is_available():
        pytest.skip("the interpreter run is for machines without a GPU")
    return device


def make_system(channels, n_states, seed, device, scale_b=1.0):
    gen = torch.Generator().manual_seed(seed)

    def randc(*shape):
        re, im = torch.randn(2, *shape, generator=gen, dtype=torch.float64)
        return torch.complex(re, im)

    decay = torch.rand(channels, n_states, generator=gen, dtype=torch.float64)
    abar = (0.6 + 0.39 * decay) * torch.exp(
        1j * torch.randn(channels, n_states, generator=gen, dtype=torch.float64)
    )
    bbar = scale_b * 0.3 * randc(channels, n_states)
    c = randc(channels, n_states)
    return [t.to(device) for t in (abar, bbar, c)]


@pytest.mark.parametrize(
    ("batch", "channels", "n_states", "length", "scale_b"),
    [(2, 3, 4, 37, 1.0), (1, 5, 3, 16, 4.0), (3, 2, 8, 50, 3.0)],
)
def test_triton_scan_matches_twin(triton_device, batch, channels, n_states, length, scale_b):
    device = triton_device
    abar, bbar, c = make_system(channels, n_states, seed=length, device=device, scale_b=scale_b)
    gen = torch.Generator().manual_seed(7)
    u = torch.randn(batch, channels, length, generator=gen, dtype=torch.float64).to(device)
    dy = torch.randn(batch, channels, length, generator=gen, dtype=torch.float64).to(device)

    def run(fn, dtype):
        cdtype = torch.complex64 if dtype == torch.float32 else torch.complex128
        inputs = [u.to(dtype).requires_grad_()] + [
            t.to(cdtype).requires_grad_() for t in (abar, bbar, c)
        ]
        x, *params = inputs
        y = fn(x, torch.tanh(x), *params)
        (y * dy.to(dtype)).sum().backward()
        return [y.detach().double()] + [t.grad.to(torch.complex128) for t in inputs]

    got = run(_LiquidScanTriton.apply, torch.float32)
    want = run(liquid_scan_reference, torch.float64)
    for name, g, w in zip(("y", "du", "dAbar", "dBbar", "dC"), got, want, strict=True):
        rel = (g - w).abs().norm() / w.abs().norm()
        assert rel < 2e-5, (name, float(rel))
