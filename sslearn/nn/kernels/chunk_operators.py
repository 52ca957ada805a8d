"""The per-channel operators of the chunked convolution (:mod:`.chunked_conv`).

For kernels ``K_q[m] = 2 Re sum_n W[q, h, n] a[h, n]^m``: the first ``T`` taps, ``P[s, n] =
W[q, n] a_n^(T-1-s)`` and ``Q[n, t] = 2 a_n^(t+1)``. Three ways to build them:

- :func:`chunk_operators`: ordinary (differentiable) PyTorch operations, any dtype; the
  reference;
- :func:`chunk_operators_triton`: from the weights and ``log a``, in a fused Triton kernel
  forward and another backward (float32);
- :func:`zoh_chunk_operators`: straight from a diagonal core's parameters under the
  zero-order hold, the discretisation (and optionally the liquid PB gain) included, again
  one kernel each way.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


def padded_mode_count(n_states: int) -> int:
    """Modes after zero-padding for the Triton kernels: a power of two >= 16 (``tl.dot``'s
    smallest tile and ``tl.arange``'s power-of-two sizes)."""
    return max(16, 1 << (n_states - 1).bit_length())


class ChunkOperators(NamedTuple):
    """Per-channel operators of the chunked convolution (see the module docstring).

    ``taps``: (H, Q, T) real, the kernels' first ``T`` taps; ``P``: (H, Q, T, N2) complex;
    ``Q``: (H, N2, T) complex.
    """

    taps: torch.Tensor
    P: torch.Tensor
    Q: torch.Tensor

    @property
    def chunk(self) -> int:
        return self.taps.shape[-1]


def chunk_operators(weight: torch.Tensor, log_a: torch.Tensor, chunk: int) -> ChunkOperators:
    """Operators for kernels ``K_q[m] = 2 Re sum_n weight[q, h, n] exp(m log_a[h, n])``.

    Parameters
    ----------
    weight : complex tensor of shape (Q, H, N2)
    log_a : complex tensor of shape (H, N2)
        Logarithm of the modes (``Abar = exp(log_a)``).
    chunk : int
        Chunk length ``T``.
    """
    steps = torch.arange(chunk + 1, device=log_a.device, dtype=log_a.real.dtype)
    powers = torch.exp(log_a[..., None] * steps)  # (H, N2, T+1): a^0 .. a^T
    taps = 2 * torch.einsum("qhn,hnm->hqm", weight, powers[..., :chunk]).real
    into_state = powers[:, None, :, :chunk].flip(-1).transpose(-1, -2)  # (H, 1, T, N2)
    return ChunkOperators(
        taps=taps.contiguous(),
        P=weight.transpose(0, 1)[:, :, None, :] * into_state,
        Q=2 * powers[..., 1:],
    )


class _ChunkOperatorsTriton(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, log_a, chunk, n_padded):
        from sslearn.nn.kernels import _operators_triton as kern

        n_signals, channels, n_states, _ = weight.shape
        taps = weight.new_empty(channels, n_signals, chunk)
        P = weight.new_empty(channels, n_signals, chunk, n_padded, 2)
        Q = weight.new_empty(channels, n_padded, chunk, 2)
        kern.chunk_operators_fwd_kernel[(channels,)](
            weight, log_a, taps, P, Q, channels, n_states, NQ=n_signals, T=chunk, NP=n_padded
        )
        ctx.save_for_backward(weight, log_a)
        return taps, P, Q

    @staticmethod
    def backward(ctx, d_taps, d_P, d_Q):
        from sslearn.nn.kernels import _operators_triton as kern

        weight, log_a = ctx.saved_tensors
        n_signals, channels, n_states, _ = weight.shape
        chunk, n_padded = d_P.shape[2], d_P.shape[3]
        d_weight = torch.empty_like(weight)
        d_log_a = torch.empty_like(log_a)
        kern.chunk_operators_bwd_kernel[(channels,)](
            weight, log_a, d_taps.contiguous(), d_P.contiguous(), d_Q.contiguous(),
            d_weight, d_log_a, channels, n_states, NQ=n_signals, T=chunk, NP=n_padded,
        )  # fmt: skip
        return d_weight, d_log_a, None, None


def chunk_operators_triton(weight: torch.Tensor, log_a: torch.Tensor, chunk: int) -> ChunkOperators:
    """:func:`chunk_operators` in two fused Triton kernels (forward, backward); complex64.

    The modes come out zero-padded to a power of two >= 16 (what the convolution kernel
    needs); padded modes add nothing. The chunk length must be a power of two.
    """
    n_padded = padded_mode_count(log_a.shape[-1])
    taps, P, Q = _ChunkOperatorsTriton.apply(
        torch.view_as_real(weight.contiguous()),
        torch.view_as_real(log_a.contiguous()),
        chunk,
        n_padded,
    )
    return ChunkOperators(taps, torch.view_as_complex(P), torch.view_as_complex(Q))


def zoh_reference(
    log_dt: torch.Tensor, log_A_real: torch.Tensor, A_imag: torch.Tensor, B: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The diagonal core's zero-order hold in plain PyTorch: ``(dt A, Abar, Bbar)``.

    ``dt = exp(log_dt)``, ``A = -max(exp(log_A_real), 1e-4) + i A_imag``,
    ``Abar = exp(dt A)``, ``Bbar = expm1(dt A) / A B``; ``B`` is the real view (H, N2, 2).
    The twin of the fused discretisations (:func:`zoh_chunk_operators`,
    :func:`~sslearn.nn.kernels.liquid_scan.zoh_liquid_scan`) and of the core's hand-written
    autograd op; autograd gives its gradients.
    """
    dt = torch.exp(log_dt)[:, None]
    A = torch.complex(-torch.exp(log_A_real).clamp(min=1e-4), A_imag)
    dtA = dt * A
    return dtA, torch.exp(dtA), torch.expm1(dtA) / A * torch.view_as_complex(B)


def zoh_chunk_operators_reference(
    log_dt: torch.Tensor,
    log_A_real: torch.Tensor,
    A_imag: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    n_signals: int,
    chunk: int,
    gain_power: int = 0,
) -> tuple[ChunkOperators, torch.Tensor | None]:
    """The PyTorch twin of :func:`zoh_chunk_operators`: :func:`zoh_reference`, then
    :func:`chunk_operators` with the weights ``C Bbar^q`` (modes not padded)."""
    log_abar, _, bbar = zoh_reference(log_dt, log_A_real, A_imag, B)
    C = torch.view_as_complex(C)
    weight = torch.stack([C * bbar**q for q in range(1, n_signals + 1)])
    gain = 2 * (C * bbar**gain_power).real.sum(-1) if gain_power else None
    return chunk_operators(weight, log_abar, chunk), gain


class _ZOHOperatorsTriton(torch.autograd.Function):
    @staticmethod
    def forward(ctx, log_dt, log_A_real, A_imag, B, C, n_signals, chunk, n_padded, gain_power):
        from sslearn.nn.kernels import _operators_triton as kern

        channels, n_states = A_imag.shape
        taps = A_imag.new_empty(channels, n_signals, chunk)
        P = A_imag.new_empty(channels, n_signals, chunk, n_padded, 2)
        Q = A_imag.new_empty(channels, n_padded, chunk, 2)
        gain = A_imag.new_zeros(channels)
        params = [x.contiguous() for x in (log_dt, log_A_real, A_imag, B, C)]
        kern.zoh_operators_fwd_kernel[(channels,)](
            *params, taps, P, Q, gain, n_states,
            NQ=n_signals, T=chunk, NP=n_padded, GAIN=gain_power,
        )  # fmt: skip
        ctx.save_for_backward(*params)
        ctx.gain_power = gain_power
        return taps, P, Q, gain

    @staticmethod
    def backward(ctx, d_taps, d_P, d_Q, d_gain):
        from sslearn.nn.kernels import _operators_triton as kern

        params = ctx.saved_tensors
        channels, n_states = params[2].shape
        n_signals, chunk, n_padded = d_P.shape[1], d_P.shape[2], d_P.shape[3]
        d_gain = params[0].new_zeros(channels) if d_gain is None else d_gain.contiguous()
        grads = [torch.empty_like(x) for x in params]
        kern.zoh_operators_bwd_kernel[(channels,)](
            *params, d_taps.contiguous(), d_P.contiguous(), d_Q.contiguous(), d_gain, *grads,
            n_states, NQ=n_signals, T=chunk, NP=n_padded, GAIN=ctx.gain_power,
        )  # fmt: skip
        return (*grads, None, None, None, None)


def zoh_chunk_operators(
    log_dt: torch.Tensor,
    log_A_real: torch.Tensor,
    A_imag: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    n_signals: int,
    chunk: int,
    gain_power: int = 0,
) -> tuple[ChunkOperators, torch.Tensor | None]:
    """Operators of the kernels ``C Bbar^q`` (``q = 1 .. n_signals``) of a diagonal SSM
    under the zero-order hold, straight from its parameters (two fused Triton kernels).

    The same as discretising like :class:`~sslearn.nn.cores.diagonal.DiagonalSSM`
    (``A = -max(exp(log_A_real), 1e-4) + i A_imag``, ``Abar = exp(dt A)``,
    ``Bbar = expm1(dt A) / A B``, ``dt = exp(log_dt)``) and calling :func:`chunk_operators`
    with ``log_a = dt A`` and the weights ``C Bbar^q``, without the ~40 small PyTorch
    operations (and their autograd nodes) of that route. float32; modes zero-padded as in
    :func:`chunk_operators_triton`.

    Parameters
    ----------
    log_dt : tensor of shape (H,)
    log_A_real, A_imag : tensors of shape (H, N2)
    B, C : tensors of shape (H, N2, 2)
        Real views of the complex ``B`` and ``C``.
    n_signals : int
        Number of kernels (powers ``1 .. n_signals`` of ``Bbar``).
    chunk : int
        Chunk length ``T`` (a power of two).
    gain_power : int, default=0
        If ``p > 0``, also return the liquid gain ``2 Re sum_n C Bbar^p`` (H,).

    Returns
    -------
    ops : ChunkOperators
    gain : tensor of shape (H,), or None when ``gain_power`` is 0
    """
    n_padded = padded_mode_count(A_imag.shape[-1])
    taps, P, Q, gain = _ZOHOperatorsTriton.apply(
        log_dt, log_A_real, A_imag, B, C, n_signals, chunk, n_padded, gain_power
    )
    ops = ChunkOperators(taps, torch.view_as_complex(P), torch.view_as_complex(Q))
    return ops, (gain if gain_power else None)
