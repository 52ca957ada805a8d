"""The fused Triton liquid scan against its PyTorch twin (CUDA, or the Triton interpreter).

Both kernel variants (``stepwise`` and ``blocked``, picked through ``SSLEARN_SCAN_CONFIG``)
are checked. Without a GPU these run under ``TRITON_INTERPRET=1`` (set in
``tests/conftest.py``) on tiny shapes; they skip cleanly where Triton is not installed.
"""

import pytest
import torch

from sslearn.nn.kernels import triton_available
from sslearn.nn.kernels.liquid_scan import _LiquidScanTriton, liquid_scan_reference

pytestmark = pytest.mark.skipif(not triton_available(), reason="Triton is not installed")
if triton_available():
    from sslearn.nn.kernels import _liquid_triton as kern

    needs_blocked = pytest.mark.skipif(
        not kern.blocked_available(), reason="this Triton has no tuple values"
    )
else:
    kern, needs_blocked = None, pytest.mark.skip(reason="Triton is not installed")


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


def assert_matches_twin(device, batch, channels, n_states, length, scale_b):
    """y, du and the parameter gradients of the Triton op (float32) against the twin (float64)."""
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


@pytest.mark.parametrize(
    ("batch", "channels", "n_states", "length", "scale_b"),
    [(2, 3, 4, 37, 1.0), (1, 5, 3, 16, 4.0), (3, 2, 8, 50, 3.0)],
)
def test_triton_scan_matches_twin(
    triton_device, monkeypatch, batch, channels, n_states, length, scale_b
):
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "stepwise")
    assert_matches_twin(triton_device, batch, channels, n_states, length, scale_b)


# (config, shape): rows = batch x channels not a multiple of BR and lengths not a multiple of
# CHUNK (the time block), padded states (n_states below a power of two), capped multipliers
BLOCKED_CASES = [
    ("blocked", (3, 2, 4, 37, 4.0)),  # defaults (16, 16, 1): 6 rows; 37 = 2 x 16 + 5
    ("blocked,4,8,1", (3, 3, 4, 29, 1.0)),  # 9 rows in blocks of 4; 29 = 3 x 8 + 5
    ("blocked,2,4,1", (1, 5, 3, 22, 1.0)),  # 5 rows in blocks of 2; 22 = 5 x 4 + 2
    ("blocked,8,16,2", (3, 3, 8, 40, 3.0)),  # 9 rows in blocks of 8, 2 warps; 40 = 2 x 16 + 8
]


@needs_blocked
@pytest.mark.parametrize(("config", "shape"), BLOCKED_CASES)
def test_blocked_scan_matches_twin(triton_device, monkeypatch, config, shape):
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", config)
    assert_matches_twin(triton_device, *shape)


@needs_blocked
@pytest.mark.parametrize(
    ("forward", "backward"), [("stepwise", "blocked"), ("blocked", "stepwise")]
)
def test_variants_share_checkpoints(triton_device, monkeypatch, forward, backward):
    """A forward run by one variant is differentiated exactly as well by the other."""
    abar, bbar, c = make_system(3, 4, seed=0, device=triton_device, scale_b=3.0)
    params = [t.to(torch.complex64) for t in (abar, bbar, c)]
    u = torch.randn(2, 3, 21, generator=torch.Generator().manual_seed(1)).to(triton_device)

    def grads(fwd_variant, bwd_variant):
        x = u.clone().requires_grad_()
        monkeypatch.setenv("SSLEARN_SCAN_CONFIG", f"{fwd_variant},2,8,1")
        y = _LiquidScanTriton.apply(x, torch.tanh(x), *params)
        monkeypatch.setenv("SSLEARN_SCAN_CONFIG", f"{bwd_variant},2,8,1")
        y.backward(torch.ones_like(y))
        return y.detach(), x.grad

    for got, want in zip(grads(forward, backward), grads(forward, forward), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_scan_config_parsing(monkeypatch):
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "blocked")
    assert kern.scan_config(8192, 32) == ("blocked", 4, 32, 8, 1)  # 4 states per thread
    assert kern.scan_config(2048, 32) == ("blocked", 2, 32, 16, 1)  # few rows: 2 per thread
    assert kern.scan_config(3, 4) == ("blocked", 16, 4, 16, 1)
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "blocked,2,16,1")
    assert kern.scan_config(100, 32) == ("blocked", 2, 32, 16, 1)
    assert kern.launch_config(100, 32) == (2, 32, 16, 1)
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "2,16,1")
    assert kern.scan_config(100, 30) == (kern.DEFAULT_VARIANT, 2, 32, 16, 1)
    for variant in kern.VARIANTS:
        monkeypatch.setenv("SSLEARN_SCAN_CONFIG", variant)
        assert kern.scan_variant() == variant
        assert kern.scan_config(100, 32)[0] == variant
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "blocked,2,12,1")
    with pytest.raises(ValueError, match="power-of-two CHUNK"):
        kern.scan_config(100, 32)
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "fast")
    with pytest.raises(ValueError, match="unknown variant"):
        kern.scan_config(100, 32)
    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", "blocked,2,16")
    with pytest.raises(ValueError, match="expected"):
        kern.scan_config(100, 32)


@pytest.mark.parametrize(("n_states", "batch"), [(4, 3), (32, 3), (4, 37)])
def test_zoh_scan_matches_discretised_twin(triton_device, n_states, batch):
    """:func:`zoh_liquid_scan` (discretisation in two small kernels, ``tanh`` and the skip
    inside the scan) against the core's own float64 discretisation, the twin with
    ``v = tanh(u)`` and the skip added: y and the gradients of u, the skip and every core
    parameter (a decay below the clamp included). A batch of 37 takes two tiles of the
    parameter-gradient batch sum, the second one partly masked."""
    from sslearn.nn.cores.diagonal import DiagonalSSM
    from sslearn.nn.kernels.liquid_scan import zoh_liquid_scan

    gen = torch.Generator().manual_seed(n_states + batch)
    u = torch.randn(batch, 2, 29, generator=gen, dtype=torch.float64)
    skip = torch.randn(2, generator=gen, dtype=torch.float64)
    dy = torch.randn(batch, 2, 29, generator=gen, dtype=torch.float64)
    results = []
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        core = DiagonalSSM(2, 2 * n_states, dt_min=0.01, dt_max=0.5).to(triton_device, dtype)
        with torch.no_grad():
            core.log_A_real[1, 0] = -12.0  # clamped: no gradient
            core.B.mul_(2.0)  # |Abar + Bbar v| > 1 for some steps: the cap is active
        x = u.to(triton_device, dtype).clone().requires_grad_()
        d = skip.to(triton_device, dtype).clone().requires_grad_()
        params = (core.log_dt, core.log_A_real, core.A_imag, core.B, core.C)
        if dtype == torch.float64:
            _, abar, bbar, C = core._compute_discrete()
            y = liquid_scan_reference(x, torch.tanh(x), abar, bbar, C) + d[:, None] * x
        else:
            y = zoh_liquid_scan(x, d, *params)
        (y.double() * dy.to(triton_device)).sum().backward()
        grads = [t.grad.double().cpu() for t in (x, d, *params)]
        results.append([y.detach().double().cpu(), *grads])
    assert results[1][4][1, 0] == 0
    names = ("y", "u", "skip", "log_dt", "log_A_real", "A_imag", "B", "C")
    for name, want, have in zip(names, *results, strict=True):
        error = (have - want).abs().max() / want.abs().max()
        assert error < 1e-4, f"{name}: relative error {error:.2e}"


@pytest.mark.parametrize("variant", ["stepwise", "blocked"])
def test_fused_scan_equals_unfused(triton_device, monkeypatch, variant):
    """Both kernel variants' fused form (tanh and skip inside) against their plain form with
    ``tanh`` and the skip applied outside, float32 on the same device."""
    if variant == "blocked" and not kern.blocked_available():
        pytest.skip("this Triton has no tuple values")
    from sslearn.nn.kernels.liquid_scan import _scan_backward, _scan_forward

    monkeypatch.setenv("SSLEARN_SCAN_CONFIG", f"{variant},2,8,1")
    abar, bbar, c = make_system(3, 4, seed=3, device=triton_device, scale_b=3.0)
    params = [p for t in (abar, bbar, c) for p in (t.real.float(), t.imag.float())]
    gen = torch.Generator().manual_seed(4)
    u = torch.randn(2, 3, 21, generator=gen).to(triton_device)
    skip = torch.randn(3, generator=gen).to(triton_device)
    dy = torch.randn(2, 3, 21, generator=gen).to(triton_device)

    class Ctx:
        pass

    plain, fused = Ctx(), Ctx()
    v = torch.tanh(u)
    y_plain, *_, ckpt = _scan_forward(plain, u, v, params)
    y_fused, *_, ckpt_fused = _scan_forward(fused, u, u, params, skip)
    torch.testing.assert_close(y_fused, y_plain + skip[:, None] * u, rtol=1e-5, atol=1e-5)
    du, dv, grads, _ = _scan_backward(plain, dy, u, v, ckpt, params)
    du_f, _, grads_f, d_skip = _scan_backward(fused, dy, u, u, ckpt_fused, params, skip)
    want_du = du + dv * (1 - v * v) + skip[:, None] * dy
    torch.testing.assert_close(du_f, want_du, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads_f, grads, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(d_skip.view(2, 3).sum(0), (dy * u).sum((0, 2)), rtol=1e-5, atol=1e-5)
