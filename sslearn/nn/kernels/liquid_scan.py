"""Exact liquid recurrence of diagonal systems as one autograd op (Triton path).

The PyTorch twin is :func:`liquid_scan_reference` (a plain loop under autograd), used on the
CPU, in float64, and as the reference in the tests.
"""

from __future__ import annotations

import torch

from sslearn.nn.kernels._dispatch import use_triton
from sslearn.nn.kernels.chunk_operators import padded_mode_count, zoh_reference


def cap_unit_modulus(a: torch.Tensor) -> torch.Tensor:
    """Scale complex multipliers with ``|a| > 1`` back onto the unit circle (no blow-up)."""
    return a / torch.clamp(a.abs(), min=1.0)


def liquid_scan_reference(
    u: torch.Tensor, v: torch.Tensor | None, abar: torch.Tensor, bbar: torch.Tensor,
    C: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """``y_k = 2 Re sum_n C_n x_k[n]``, ``x_k = cap(Abar + Bbar v_k) x_{k-1} + Bbar u_k``.

    ``u``, ``v``: (B, H, L) real; ``abar``, ``bbar``, ``C``: (H, N/2) complex. ``v=None``
    drops the liquid term (plain linear recurrence).
    """
    state = u.new_zeros(u.shape[0], *abar.shape, dtype=abar.dtype)  # (B, H, N2)
    outputs = []
    for t in range(u.shape[-1]):
        multiplier = abar if v is None else cap_unit_modulus(abar + bbar * v[:, :, t, None])
        state = multiplier * state + bbar * u[:, :, t, None]
        outputs.append(2 * (C * state).real.sum(-1))
    return torch.stack(outputs, dim=-1)


def _split(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return z.real.contiguous(), z.imag.contiguous()


class _LiquidScanTriton(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, v, abar, bbar, C):
        params = (*_split(abar), *_split(bbar), *_split(C))
        y, u, v, ckpt = _scan_forward(ctx, u, v, params)
        ctx.save_for_backward(u, v, ckpt, *params)
        return y

    @staticmethod
    def backward(ctx, dy):
        u, v, ckpt, *params = ctx.saved_tensors
        du, dv, grads, _ = _scan_backward(ctx, dy, u, v, ckpt, params)
        batch, channels = u.shape[:2]
        per_channel = grads.view(6, batch, channels, -1).sum(1)
        g_abar = torch.complex(per_channel[0], per_channel[1])
        g_bbar = torch.complex(per_channel[2], per_channel[3])
        g_c = torch.complex(per_channel[4], per_channel[5])
        return du, dv, g_abar, g_bbar, g_c


def _scan_forward(ctx, u, v, params, skip=None):
    """Launch the forward scan over ``params`` (six (H, N2) real tensors); fills ``ctx``.

    With ``skip`` (H,) the fused form runs: ``v = tanh(u)`` (the ``v`` given is ignored)
    and ``y`` includes ``skip * u``.
    """
    from sslearn.nn.kernels import _liquid_triton as kern

    u, v = u.contiguous(), v.contiguous()
    batch, channels, length = u.shape
    n_states = params[0].shape[-1]
    n_rows = batch * channels
    block_r, block_n, chunk, warps = kern.launch_config(n_rows, n_states)
    n_chunks = -(-length // chunk)
    y = torch.empty_like(u)
    ckpt = u.new_empty(n_rows, n_chunks, 2, n_states)
    fused = skip is not None
    kern.liquid_scan_fwd_kernel[(-(-n_rows // block_r),)](
        u, v, y, ckpt, *params, skip if fused else u,
        n_rows, channels, length, n_states, n_chunks,
        CHUNK=chunk, BR=block_r, BN=block_n, FUSED=fused, num_warps=warps,
    )  # fmt: skip
    ctx.config = (block_r, block_n, chunk, n_chunks, warps)
    return y, u, v, ckpt


def _scan_backward(ctx, dy, u, v, ckpt, params, skip=None):
    """The backward scan: ``du``, ``dv`` and the per-row parameter gradients (6, B H, N2).

    Returns ``(du, dv, grads, d_skip)``. With ``skip`` (the fused form) ``du`` is the whole
    input gradient, ``dv`` is None and ``d_skip`` holds the per-row partials of the skip's
    gradient (B H,); otherwise ``d_skip`` is None.
    """
    from sslearn.nn.kernels import _liquid_triton as kern

    block_r, block_n, chunk, n_chunks, warps = ctx.config
    batch, channels, length = u.shape
    n_states = params[0].shape[-1]
    n_rows = batch * channels
    n_programs = -(-n_rows // block_r)
    fused = skip is not None
    du = torch.empty_like(u)
    dv = du if fused else torch.empty_like(u)  # not written when fused
    d_skip = u.new_empty(n_rows) if fused else du
    grads = u.new_empty(6, n_rows, n_states)
    scratch = u.new_empty(n_programs, chunk + 1, 2, block_r, block_n)
    kern.liquid_scan_bwd_kernel[(n_programs,)](
        u, v, dy.contiguous(), ckpt, scratch, du, dv, grads, *params,
        skip if fused else u, d_skip, n_rows, channels, length, n_states, n_chunks,
        CHUNK=chunk, BR=block_r, BN=block_n, FUSED=fused, num_warps=warps,
    )  # fmt: skip
    return du, (None if fused else dv), grads, (d_skip if fused else None)


class _ZOHLiquidScanTriton(torch.autograd.Function):
    """The liquid layer's exact path, fused: ``liquid_scan(u, tanh(u)) + skip u`` with the
    diagonal core's zero-order-hold discretisation. One small kernel turns the parameters
    into ``Abar``, ``Bbar``, ``C`` (split into real parts) before the scan, which forms
    ``tanh(u)`` and adds the skip itself; backward, one kernel maps the scan's per-row
    gradients back to the parameters."""

    @staticmethod
    def forward(ctx, u, skip, log_dt, log_A_real, A_imag, B, C):
        from sslearn.nn.kernels import _operators_triton as ops

        raw = [x.contiguous() for x in (log_dt, log_A_real, A_imag, B, C)]
        skip = skip.contiguous()
        channels, n_states = A_imag.shape
        ctx.n_padded = padded_mode_count(n_states)
        params = u.new_empty(6, channels, n_states)
        ops.zoh_scan_params_fwd_kernel[(channels,)](
            *raw, params, channels, n_states, NP=ctx.n_padded
        )
        params = params.unbind(0)
        y, u, _, ckpt = _scan_forward(ctx, u, u, params, skip)
        ctx.save_for_backward(u, skip, ckpt, *params, *raw)
        return y

    @staticmethod
    def backward(ctx, dy):
        from sslearn.nn.kernels import _operators_triton as ops

        u, skip, ckpt, *rest = ctx.saved_tensors
        params, raw = rest[:6], rest[6:]
        du, _, grads, d_skip = _scan_backward(ctx, dy, u, u, ckpt, params, skip)
        raw_grads = [torch.empty_like(x) for x in raw]
        batch, channels = u.shape[:2]
        rows_per_load = min(32, 1 << (batch - 1).bit_length())
        ops.zoh_scan_params_bwd_kernel[(channels,)](
            *raw, grads, *raw_grads, batch, channels, raw[2].shape[1], NP=ctx.n_padded,
            BB=rows_per_load,
        )  # fmt: skip
        return du, d_skip.view(batch, channels).sum(0), *raw_grads


def zoh_liquid_scan(
    u: torch.Tensor,
    skip: torch.Tensor,
    log_dt: torch.Tensor,
    log_A_real: torch.Tensor,
    A_imag: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
) -> torch.Tensor:
    """``liquid_scan(u, tanh(u)) + skip u`` of a diagonal core under the zero-order hold.

    The same as discretising like :class:`~sslearn.nn.cores.diagonal.DiagonalSSM`
    (``Abar = exp(dt A)``, ``Bbar = expm1(dt A) / A B``; see
    :func:`~sslearn.nn.kernels.chunk_operators.zoh_chunk_operators`), calling
    :func:`liquid_scan` with ``v = tanh(u)`` and adding the skip, all fused: the
    discretisation and its backward are two small Triton kernels, and the scan forms
    ``tanh(u)`` and the skip itself. CUDA (or Triton's interpreter), float32.

    Parameters
    ----------
    u : tensor of shape (B, H, L)
    skip : tensor of shape (H,)
        ``D``.
    log_dt : tensor of shape (H,)
    log_A_real, A_imag : tensors of shape (H, N2)
    B, C : tensors of shape (H, N2, 2)
        Real views of the complex ``B`` and ``C``.
    """
    return _ZOHLiquidScanTriton.apply(u, skip, log_dt, log_A_real, A_imag, B, C)


def zoh_liquid_scan_reference(
    u: torch.Tensor,
    skip: torch.Tensor,
    log_dt: torch.Tensor,
    log_A_real: torch.Tensor,
    A_imag: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
) -> torch.Tensor:
    """The PyTorch twin of :func:`zoh_liquid_scan`: the zero-order hold
    (:func:`~sslearn.nn.kernels.chunk_operators.zoh_reference`), then
    :func:`liquid_scan_reference` with ``v = tanh(u)``, plus ``skip u``."""
    _, abar, bbar = zoh_reference(log_dt, log_A_real, A_imag, B)
    y = liquid_scan_reference(u, torch.tanh(u), abar, bbar, torch.view_as_complex(C))
    return y + skip[:, None] * u


def liquid_scan(
    u: torch.Tensor, v: torch.Tensor | None, abar: torch.Tensor, bbar: torch.Tensor,
    C: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Exact liquid recurrence; fused Triton kernel where available, else the twin."""
    if v is not None and use_triton(u):
        return _LiquidScanTriton.apply(u, v, abar, bbar, C)
    return liquid_scan_reference(u, v, abar, bbar, C)
