"""Causal convolution with a diagonal-SSM kernel, computed chunk by chunk (state passing).

For kernels ``K_q[m] = 2 Re sum_n W[q, h, n] a[h, n]^m`` (all ``q`` share the modes ``a``)
the convolution ``y = sum_q K_q * s_q`` never needs the length-``L`` kernel nor an FFT. Split
time into chunks of ``T`` steps. Inside a chunk the output is a ``T x T`` lower-triangular
Toeplitz product; everything before the chunk reaches it through ``N/2`` complex states:

    Y_c = sum_q S_{q,c} M_q + Re(X_{c-1} Q),     X_c = lam * X_{c-1} + sum_q S_{q,c} P_q

with, per channel, ``M_q[s, t] = K_q[t - s]`` (``s <= t``, else 0), ``P_q[s, n] =
W[q, n] a_n^(T-1-s)``, ``Q[n, t] = 2 a_n^(t+1)`` and ``lam_n = a_n^T``. ``S_{q,c}`` holds the
chunk's inputs as rows (one row per series). The work is small matrix products (tensor cores
on the GPU) plus a short recurrence over chunks; the memory traffic is one read of the
signals and one write of ``y`` (and of the chunk states, ``2 (N/2) / T`` of the signal size,
kept for the backward pass).

:func:`chunk_operators` builds the per-channel matrices from the modes with ordinary (hence
differentiable) PyTorch operations; :func:`chunked_conv` applies them, in a fused Triton
kernel on CUDA and with :func:`chunked_conv_reference` (its pure-PyTorch twin) elsewhere.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from sslearn.nn.kernels._dispatch import use_triton


class ChunkOperators(NamedTuple):
    """Per-channel matrices of the chunked convolution (see the module docstring).

    ``M``: (H, Q, T, T) real; ``P``: (H, Q, T, N2) complex; ``Q``: (H, N2, T) complex;
    ``lam``: (H, N2) complex.
    """

    M: torch.Tensor
    P: torch.Tensor
    Q: torch.Tensor
    lam: torch.Tensor

    @property
    def chunk(self) -> int:
        return self.M.shape[-1]


def chunk_operators(
    weight: torch.Tensor, log_a: torch.Tensor, chunk: int, skip: torch.Tensor | None = None
) -> ChunkOperators:
    """Matrices for kernels ``K_q[m] = 2 Re sum_n weight[q, h, n] exp(m log_a[h, n])``.

    Parameters
    ----------
    weight : complex tensor of shape (Q, H, N2)
    log_a : complex tensor of shape (H, N2)
        Logarithm of the modes (``Abar = exp(log_a)``).
    chunk : int
        Chunk length ``T``.
    skip : real tensor of shape (H,), optional
        Added to tap 0 of the first kernel (the ``D u`` skip connection).
    """
    steps = torch.arange(chunk + 1, device=log_a.device, dtype=log_a.real.dtype)
    powers = torch.exp(log_a[..., None] * steps)  # (H, N2, T+1): a^0 .. a^T
    taps = 2 * torch.einsum("qhn,hnm->qhm", weight, powers[..., :chunk]).real  # (Q, H, T)
    if skip is not None:
        first = torch.zeros_like(taps[:, :, 0])
        first[0] = skip
        taps = torch.cat([taps[..., :1] + first[..., None], taps[..., 1:]], dim=-1)
    # M[s, t] = taps[t - s] (0 for t < s): windows of the left-padded taps, rows reversed
    padded = torch.nn.functional.pad(taps, (chunk - 1, 0))
    M = padded.unfold(-1, chunk, 1).flip(-2)  # (Q, H, T, T)
    P = weight[..., None, :] * powers[..., :chunk].flip(-1).transpose(-1, -2)  # (Q, H, T, N2)
    return ChunkOperators(
        M=M.transpose(0, 1),
        P=P.transpose(0, 1),
        Q=2 * powers[..., 1:],
        lam=powers[..., chunk],
    )


def _pad_to_chunks(x: torch.Tensor, chunk: int) -> torch.Tensor:
    extra = -x.shape[-1] % chunk
    return torch.nn.functional.pad(x, (0, extra)) if extra else x


def product_term(u: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """The liquid PB term of degree 2: ``gain[h] u[t-1] tanh(u[t])`` for u of shape (B, H, L)."""
    before = torch.nn.functional.pad(u[..., :-1], (1, 0))
    return gain[:, None] * before * torch.tanh(u)


def chunked_conv_reference(
    signals: torch.Tensor, ops: ChunkOperators, gain: torch.Tensor | None = None
) -> torch.Tensor:
    """Pure-PyTorch chunked convolution (the Triton kernel's twin and the CPU path).

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    ops : ChunkOperators
    gain : tensor of shape (H,), optional
        Adds :func:`product_term` of ``signals[:, 0]`` (only with Q = 1).

    Returns
    -------
    tensor of shape (B, H, L)
    """
    batch, _, channels, length = signals.shape
    chunk = ops.chunk
    s = _pad_to_chunks(signals, chunk)
    s = s.view(batch, s.shape[1], channels, -1, chunk)  # (B, Q, H, C, T)
    y = torch.einsum("bqhcs,hqst->bhct", s, ops.M)
    s_complex = s.to(ops.P.dtype)
    into_state = torch.einsum("bqhcs,hqsn->bhcn", s_complex, ops.P)  # (B, H, C, N2)
    states = [torch.zeros_like(into_state[:, :, 0])]
    for c in range(into_state.shape[2] - 1):
        states.append(ops.lam * states[-1] + into_state[:, :, c])
    before = torch.stack(states, dim=2)  # state entering each chunk
    y = y + torch.einsum("bhcn,hnt->bhct", before, ops.Q).real
    y = y.reshape(batch, channels, -1)[..., :length]
    return y if gain is None else y + product_term(signals[:, 0], gain)


class _ChunkedConvTriton(torch.autograd.Function):
    @staticmethod
    def forward(ctx, signals, gain, M, P_re, P_im, Q_re, Q_im, lam_re, lam_im):
        from sslearn.nn.kernels import _chunked_triton as kern

        signals = signals.contiguous()
        batch, n_signals, channels, length = signals.shape
        chunk, n_states = M.shape[-1], Q_re.shape[1]
        n_chunks = -(-length // chunk)
        config = kern.launch_config(batch)
        y = signals.new_empty(batch, channels, length)
        states = signals.new_empty(batch, channels, n_chunks, 2, n_states)
        grid = (channels, -(-batch // config["R"]))
        pb = gain is not None
        kern.chunked_conv_fwd_kernel[grid](
            signals, y, states, gain if pb else y, M, P_re, P_im, Q_re, Q_im, lam_re, lam_im,
            batch, channels, length, n_chunks,
            NQ=n_signals, QT=_stacked(n_signals, chunk), T=chunk, N2=n_states, PB=pb, **config,
        )  # fmt: skip
        ctx.save_for_backward(signals, gain, states, M, P_re, P_im, Q_re, Q_im, lam_re, lam_im)
        return y

    @staticmethod
    def backward(ctx, dy):
        from sslearn.nn.kernels import _chunked_triton as kern

        signals, gain, states, M, P_re, P_im, Q_re, Q_im, lam_re, lam_im = ctx.saved_tensors
        pb = gain is not None
        batch, n_signals, channels, length = signals.shape
        chunk, n_states = M.shape[-1], Q_re.shape[1]
        n_chunks = states.shape[2]
        config = kern.launch_config(batch, backward=True)
        n_blocks = -(-batch // config["R"])
        dy = dy.contiguous()
        d_signals = torch.empty_like(signals)
        d_M = signals.new_empty(n_blocks, *M.shape)
        d_P = signals.new_empty(n_blocks, 2, *P_re.shape)
        d_Q = signals.new_empty(n_blocks, 2, *Q_re.shape)
        d_lam = signals.new_empty(n_blocks, 2, *lam_re.shape)
        d_gain = signals.new_empty(n_blocks, channels)
        kern.chunked_conv_bwd_kernel[(channels, n_blocks)](
            signals, dy, states, d_signals, d_M, d_P, d_Q, d_lam, gain if pb else dy, d_gain,
            M, P_re, P_im, Q_re, Q_im, lam_re, lam_im,
            batch, channels, length, n_chunks,
            NQ=n_signals, QT=_stacked(n_signals, chunk), T=chunk, N2=n_states, PB=pb, **config,
        )  # fmt: skip
        d_P, d_Q, d_lam = d_P.sum(0), d_Q.sum(0), d_lam.sum(0)
        d_gain = d_gain.sum(0) if pb else None
        return d_signals, d_gain, d_M.sum(0), *d_P, *d_Q, *d_lam


def _stacked(n_signals: int, chunk: int) -> int:
    """Width of the side-by-side signal tile: Q rounded up to a power of two, times T."""
    return (1 << (n_signals - 1).bit_length()) * chunk


def _split(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return z.real.contiguous(), z.imag.contiguous()


def _pad_modes(ops: ChunkOperators) -> ChunkOperators:
    """Zero modes up to a power of two >= 16 (``tl.dot``'s smallest tile); they add nothing."""
    n_states = ops.lam.shape[-1]
    extra = max(16, 1 << (n_states - 1).bit_length()) - n_states
    if not extra:
        return ops
    pad = torch.nn.functional.pad
    return ops._replace(
        P=pad(ops.P, (0, extra)), Q=pad(ops.Q, (0, 0, 0, extra)), lam=pad(ops.lam, (0, extra))
    )


def chunked_conv_triton(
    signals: torch.Tensor, ops: ChunkOperators, gain: torch.Tensor | None = None
) -> torch.Tensor:
    """The fused Triton chunked convolution (float32; CUDA, or Triton's CPU interpreter).

    Same arguments as :func:`chunked_conv_reference`. The chunk length must be a power of
    two >= 16; the number of modes is padded.
    """
    chunk = ops.chunk
    if chunk < 16 or chunk & (chunk - 1):
        raise ValueError(f"the chunk length must be a power of two >= 16, got {chunk}")
    if gain is not None and signals.shape[1] != 1:
        raise ValueError("the fused product term needs exactly one signal (Q = 1)")
    ops = _pad_modes(ops)
    gain = None if gain is None else gain.contiguous()
    return _ChunkedConvTriton.apply(
        signals, gain, ops.M.contiguous(), *_split(ops.P), *_split(ops.Q), *_split(ops.lam)
    )


def chunked_conv(
    signals: torch.Tensor, ops: ChunkOperators, gain: torch.Tensor | None = None
) -> torch.Tensor:
    """``y[b, h] = sum_q (K_q[h] * signals[b, q, h])`` (causal), Triton on CUDA, else the twin.

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    ops : ChunkOperators
        From :func:`chunk_operators`.
    gain : tensor of shape (H,), optional
        Adds the degree-2 product term :func:`product_term` of ``signals[:, 0]`` (Q = 1).

    Returns
    -------
    tensor of shape (B, H, L)
    """
    if use_triton(signals):
        return chunked_conv_triton(signals, ops, gain)
    return chunked_conv_reference(signals, ops, gain)
