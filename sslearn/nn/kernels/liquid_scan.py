"""Exact liquid recurrence of diagonal systems as one autograd op (Triton path).

The PyTorch twin is :func:`liquid_scan_reference` (a plain loop under autograd), used on the
CPU, in float64, and as the reference in the tests.
"""

from __future__ import annotations

import torch

from sslearn.nn.kernels._dispatch import use_triton


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
        from sslearn.nn.kernels import _liquid_triton as kern

        u, v = u.contiguous(), v.contiguous()
        batch, channels, length = u.shape
        n_states = abar.shape[-1]
        n_rows = batch * channels
        block_r, block_n, chunk, warps = kern.launch_config(n_rows, n_states)
        n_chunks = -(-length // chunk)
        params = (*_split(abar), *_split(bbar), *_split(C))
        y = torch.empty_like(u)
        ckpt = u.new_empty(n_rows, n_chunks, 2, n_states)
        grid = (-(-n_rows // block_r),)
        kern.liquid_scan_fwd_kernel[grid](
            u, v, y, ckpt, *params, n_rows, channels, length, n_states, n_chunks,
            CHUNK=chunk, BR=block_r, BN=block_n, num_warps=warps,
        )  # fmt: skip
        ctx.save_for_backward(u, v, ckpt, *params)
        ctx.config = (block_r, block_n, chunk, n_chunks, warps)
        return y

    @staticmethod
    def backward(ctx, dy):
        from sslearn.nn.kernels import _liquid_triton as kern

        u, v, ckpt, *params = ctx.saved_tensors
        block_r, block_n, chunk, n_chunks, warps = ctx.config
        batch, channels, length = u.shape
        n_states = params[0].shape[-1]
        n_rows = batch * channels
        n_programs = -(-n_rows // block_r)
        dy = dy.contiguous()
        du, dv = torch.empty_like(u), torch.empty_like(u)
        grads = u.new_empty(6, n_rows, n_states)
        scratch = u.new_empty(n_programs, chunk + 1, 2, block_r, block_n)
        kern.liquid_scan_bwd_kernel[(n_programs,)](
            u, v, dy, ckpt, scratch, du, dv, grads, *params,
            n_rows, channels, length, n_states, n_chunks,
            CHUNK=chunk, BR=block_r, BN=block_n, num_warps=warps,
        )  # fmt: skip
        per_channel = grads.view(6, batch, channels, n_states).sum(1)
        g_abar = torch.complex(per_channel[0], per_channel[1])
        g_bbar = torch.complex(per_channel[2], per_channel[3])
        g_c = torch.complex(per_channel[4], per_channel[5])
        return du, dv, g_abar, g_bbar, g_c


def liquid_scan(
    u: torch.Tensor, v: torch.Tensor | None, abar: torch.Tensor, bbar: torch.Tensor,
    C: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Exact liquid recurrence; fused Triton kernel where available, else the twin."""
    if v is not None and use_triton(u):
        return _LiquidScanTriton.apply(u, v, abar, bbar, C)
    return liquid_scan_reference(u, v, abar, bbar, C)
