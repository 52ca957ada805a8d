"""The PyTorch twins of the fused zero-order-hold kernels, against the diagonal core.

The Triton kernels themselves are held to the core's discretisation in
``test_chunk_operators.py`` and ``test_liquid_scan.py`` (CUDA or Triton's interpreter);
here the named twins beside them are held to the core on the CPU, in float64: the hold
against the core's hand-written autograd op (values and gradients), the chunk operators'
taps against the core's own kernels, and the fused layer scan against the core's.
"""

from __future__ import annotations

import torch

from sslearn.nn.cores.diagonal import DiagonalSSM, _ZeroOrderHold
from sslearn.nn.kernels.chunk_operators import zoh_chunk_operators_reference, zoh_reference
from sslearn.nn.kernels.liquid_scan import zoh_liquid_scan_reference


def make_core(seed=0, channels=3, d_state=8):
    torch.manual_seed(seed)
    core = DiagonalSSM(channels, d_state, init="lin", dt_min=0.01, dt_max=0.5).double()
    with torch.no_grad():
        for param in core.parameters():
            param.add_(0.3 * torch.randn_like(param))
        core.log_A_real[0, 0] = -12.0  # below the clamp at 1e-4
    return core


def test_zoh_twin_equals_the_cores_autograd_op():
    core = make_core()
    inputs = [p.detach().clone().requires_grad_() for p in
              (core.log_dt, core.log_A_real, core.A_imag, core.B)]  # fmt: skip
    twin_inputs = [p.detach().clone().requires_grad_() for p in inputs]
    gen = torch.Generator().manual_seed(1)
    upstream = [torch.randn(*core.A_imag.shape, 2, generator=gen, dtype=torch.float64)
                for _ in range(3)]  # fmt: skip

    def loss(outputs):
        return sum(
            (torch.view_as_real(o) * g).sum() for o, g in zip(outputs, upstream, strict=True)
        )

    fused, twin = _ZeroOrderHold.apply(*inputs), zoh_reference(*twin_inputs)
    for a, b in zip(fused, twin, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    loss(fused).backward()
    loss(twin).backward()
    for a, b in zip(inputs, twin_inputs, strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_chunk_operator_twin_taps_are_the_cores_kernels():
    core, chunk = make_core(seed=2), 16
    params = (core.log_dt, core.log_A_real, core.A_imag, core.B, core.C)
    ops, gain = zoh_chunk_operators_reference(*params, n_signals=3, chunk=chunk, gain_power=2)
    for q in (1, 2, 3):
        torch.testing.assert_close(ops.taps[:, q - 1], core.kernel(chunk, power=q))
    torch.testing.assert_close(gain, core.liquid_gain(2))
    assert zoh_chunk_operators_reference(*params, 1, chunk)[1] is None


def test_layer_scan_twin_equals_the_cores_exact_layer():
    core = make_core(seed=3)
    gen = torch.Generator().manual_seed(4)
    u = torch.randn(2, 3, 25, generator=gen, dtype=torch.float64)
    skip = torch.randn(3, generator=gen, dtype=torch.float64)
    params = (core.log_dt, core.log_A_real, core.A_imag, core.B, core.C)
    torch.testing.assert_close(
        zoh_liquid_scan_reference(u, skip, *params), core.liquid_layer_scan(u, skip)
    )
