"""The chunk operators: the fused Triton kernels (CUDA, or Triton's interpreter on the CPU)
against :func:`chunk_operators` in float64 and against the diagonal core's own
discretisation, values and gradients."""

import pytest
import torch

from sslearn.nn.kernels.chunk_operators import (
    chunk_operators,
    chunk_operators_triton,
    zoh_chunk_operators,
)
from tests.nn.kernels.test_chunked_conv import make_problem, needs_triton


@pytest.fixture
def triton_device(device):
    if device == "cpu" and torch.cuda.is_available():
        pytest.skip("the interpreter run is for machines without a GPU")
    return device


@needs_triton
@pytest.mark.parametrize(
    ("n_signals", "n_states", "turns"), [(1, 32, 1.0), (2, 5, 1.0), (3, 16, 1.0), (1, 32, 30.0)]
)
def test_triton_operators_match_twin(triton_device, n_signals, n_states, turns):
    """The fused operator kernels against :func:`chunk_operators` in float64: taps, P, Q
    (modes zero-padded to a power of two >= 16) and the gradients of the weights and of
    log_a under random upstream gradients; ``turns`` scales the modes' frequencies (angles
    up to ~1000 rad, where the GPU's fast sine and cosine need the range reduction)."""
    _, weight, log_a, _ = make_problem(1, n_signals, 3, n_states, 8, seed=n_states)
    log_a = torch.complex(log_a.real, turns * log_a.imag)
    padded = max(16, 1 << (n_states - 1).bit_length())
    gen = torch.Generator().manual_seed(1)
    upstream = (
        torch.randn(3, n_signals, 16, generator=gen, dtype=torch.float64),
        torch.randn(3, n_signals, 16, padded, 2, generator=gen, dtype=torch.float64),
        torch.randn(3, padded, 16, 2, generator=gen, dtype=torch.float64),
    )
    results = []
    for build, dtype in ((chunk_operators, torch.complex128), (chunk_operators_triton,
                                                                torch.complex64)):  # fmt: skip
        w = weight.to(triton_device, dtype).detach().clone().requires_grad_()
        a = log_a.to(triton_device, dtype).detach().clone().requires_grad_()
        taps, P, Q = build(w, a, 16)
        P = torch.nn.functional.pad(torch.view_as_real(P), (0, 0, 0, padded - P.shape[-1]))
        Q = torch.nn.functional.pad(torch.view_as_real(Q), (0, 0, 0, 0, 0, padded - Q.shape[1]))
        outputs = (taps, P, Q)
        loss = sum(
            (o.double() * g.to(triton_device)).sum() for o, g in zip(outputs, upstream, strict=True)
        )
        loss.backward()
        results.append([o.detach().double().cpu() for o in outputs] + [w.grad.cpu(), a.grad.cpu()])
    names = ("taps", "P", "Q", "weight grad", "log_a grad")
    tolerance = 1e-5 * turns  # float32 rounds the angle m Im(log_a) itself by ~6e-8 of it
    for name, want, have in zip(names, *results, strict=True):
        want, have = torch.view_as_real(want) if want.is_complex() else want, have.cpu()
        have = torch.view_as_real(have) if have.is_complex() else have
        error = (have.double() - want).abs().max() / want.abs().max()
        assert error < tolerance, f"{name}: relative error {error:.2e}"


def _zoh_core(n_states, seed):
    """A float64 diagonal core with random parameters; one mode's decay below the clamp."""
    from sslearn.nn.cores.diagonal import DiagonalSSM

    torch.manual_seed(seed)
    core = DiagonalSSM(3, 2 * n_states).double()
    with torch.no_grad():
        for param in core.parameters():
            param.add_(0.3 * torch.randn_like(param))
        core.log_A_real[0, 0] = -12.0  # exp(-12) < 1e-4: clamped, no gradient
        core.A_imag.mul_(3.0)  # angles dt Im(A) m of tens of radians
    return core


def _padded_view(ops, padded):
    P = torch.view_as_real(ops.P)
    Q = torch.view_as_real(ops.Q)
    P = torch.nn.functional.pad(P, (0, 0, 0, padded - P.shape[-2]))
    Q = torch.nn.functional.pad(Q, (0, 0, 0, 0, 0, padded - Q.shape[1]))
    return ops.taps, P, Q


@needs_triton
@pytest.mark.parametrize(
    ("n_signals", "n_states", "gain_power"), [(1, 32, 2), (2, 5, 0), (3, 16, 3)]
)
def test_triton_zoh_operators_match_discretised_twin(
    triton_device, n_signals, n_states, gain_power
):
    """:func:`zoh_chunk_operators` (discretisation fused into the operator kernels) against
    the core's own float64 discretisation followed by :func:`chunk_operators`: values and
    the gradients of every core parameter under random upstream gradients (with the liquid
    gain ``2 Re sum C Bbar^p`` when ``gain_power = p > 0``). With angles of
    hundreds of radians float32 itself limits the accuracy (the angle ``m dt Im(A)`` is
    rounded) and the GPU's fast exp/sin/cos add ~1e-6, so the bound is 1e-4 or three times
    the error of the same PyTorch route in float32, whichever is larger."""
    from sslearn.nn.cores.diagonal import CHUNK

    padded = max(16, 1 << (n_states - 1).bit_length())
    gen = torch.Generator().manual_seed(2)
    upstream = (
        torch.randn(3, n_signals, CHUNK, generator=gen, dtype=torch.float64),
        torch.randn(3, n_signals, CHUNK, padded, 2, generator=gen, dtype=torch.float64),
        torch.randn(3, padded, CHUNK, 2, generator=gen, dtype=torch.float64),
        torch.randn(3, generator=gen, dtype=torch.float64),
    )
    results = []
    for route, dtype in (("torch", torch.float64), ("torch", torch.float32),
                         ("triton", torch.float32)):  # fmt: skip
        module = _zoh_core(n_states, seed=n_states).to(triton_device, dtype)
        params = (module.log_dt, module.log_A_real, module.A_imag, module.B, module.C)
        if route == "torch":
            log_abar, _, bbar, C = module._compute_discrete()
            weight = torch.stack([C * bbar**q for q in range(1, n_signals + 1)])
            ops = chunk_operators(weight, log_abar, CHUNK)
            gain = 2 * (C * bbar ** max(gain_power, 1)).real.sum(-1)
        else:
            ops, gain = zoh_chunk_operators(*params, n_signals, CHUNK, gain_power)
            gain = gain if gain_power else torch.zeros(3, device=triton_device)
        outputs = (*_padded_view(ops, padded), gain if gain_power else gain * 0)
        loss = sum(
            (o.double() * g.to(triton_device)).sum() for o, g in zip(outputs, upstream, strict=True)
        )
        loss.backward()
        grads = [p.grad.double().cpu() for p in params]
        results.append([o.detach().double().cpu() for o in outputs] + grads)
    assert results[2][5][0, 0] == 0  # the clamped decay gets no gradient
    names = ("taps", "P", "Q", "gain", "log_dt", "log_A_real", "A_imag", "B", "C")
    for name, want, torch32, have in zip(names, *results, strict=True):
        if name == "gain" and not gain_power:
            continue
        scale = want.abs().max()
        error = (have - want).abs().max() / scale
        bound = max(1e-4, 3 * ((torch32 - want).abs().max() / scale).item())
        assert error < bound, f"{name}: relative error {error:.2e} (bound {bound:.2e})"
