"""Causal convolution with a diagonal-SSM kernel, computed chunk by chunk (state passing).

For kernels ``K_q[m] = 2 Re sum_n W[q, h, n] a[h, n]^m`` (all ``q`` share the modes ``a``)
the convolution ``y = sum_q K_q * s_q`` never needs the length-``L`` kernel nor an FFT. Split
time into chunks of ``T`` steps. Inside a chunk the output is a ``T x T`` lower-triangular
Toeplitz product; everything before the chunk reaches it through ``N/2`` complex states:

    Y_c = sum_q S_{q,c} M_q + Re(X_{c-1} Q),     X_c = lam * X_{c-1} + sum_q S_{q,c} P_q

with, per channel, ``M_q[s, t] = K_q[t - s]`` (``s <= t``, else 0), ``P_q[s, n] =
W[q, n] a_n^(T-1-s)``, ``Q[n, t] = 2 a_n^(t+1)`` and ``lam_n = a_n^T = Q[n, T-1] / 2``.
``S_{q,c}`` holds the chunk's inputs as rows (one row per series). The work is small matrix
products (tensor cores on the GPU) plus a short recurrence over chunks; the memory traffic
is one read of the signals and one write of ``y`` (and of the chunk states, ``2 (N/2) / T``
of the signal size, kept for the backward pass).

:mod:`.chunk_operators` builds the first ``T`` taps, ``P`` and ``Q``; :func:`chunked_conv`
applies them (plus
the skip ``D u`` and optionally the liquid PB product term), in a fused Triton kernel on CUDA
(which builds ``M`` and ``lam`` itself) and with :func:`chunked_conv_reference` (its
pure-PyTorch twin) elsewhere.
"""

from __future__ import annotations

import torch

from sslearn.nn.functional import lagged_product, product_term
from sslearn.nn.kernels._dispatch import use_triton
from sslearn.nn.kernels.chunk_operators import ChunkOperators, padded_mode_count


def toeplitz(taps: torch.Tensor) -> torch.Tensor:
    """``M[..., s, t] = taps[..., t - s]`` for ``t >= s``, else 0."""
    chunk = taps.shape[-1]
    padded = torch.nn.functional.pad(taps, (chunk - 1, 0))
    return padded.unfold(-1, chunk, 1).flip(-2)


def _pad_to_chunks(x: torch.Tensor, chunk: int) -> torch.Tensor:
    extra = -x.shape[-1] % chunk
    return torch.nn.functional.pad(x, (0, extra)) if extra else x


def chunked_conv_reference(
    signals: torch.Tensor,
    ops: ChunkOperators,
    skip: torch.Tensor | None = None,
    gain: torch.Tensor | None = None,
    *,
    lagged: bool = False,
) -> torch.Tensor:
    """Pure-PyTorch chunked convolution (the Triton kernel's twin).

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    ops : ChunkOperators
    skip : tensor of shape (H,), optional
        Adds ``skip * signals[:, 0]`` (the ``D u`` skip connection).
    gain : tensor of shape (H,), optional
        Adds :func:`product_term` of ``signals[:, 0]``.
    lagged : bool, default=False
        ``signals`` holds only ``u`` (Q = 1) and ``ops`` two kernels: the second convolves
        :func:`lagged_product` of ``u`` (the liquid KB term of degree 2).

    Returns
    -------
    tensor of shape (B, H, L)
    """
    if lagged:
        signals = torch.cat([signals, lagged_product(signals)], dim=1)
    batch, _, channels, length = signals.shape
    chunk = ops.chunk
    s = _pad_to_chunks(signals, chunk)
    s = s.view(batch, s.shape[1], channels, -1, chunk)  # (B, Q, H, C, T)
    y = torch.einsum("bqhcs,hqst->bhct", s, toeplitz(ops.taps))
    into_state = torch.einsum("bqhcs,hqsn->bhcn", s.to(ops.P.dtype), ops.P)  # (B, H, C, N2)
    lam = ops.Q[..., -1] / 2
    states = [torch.zeros_like(into_state[:, :, 0])]
    for c in range(into_state.shape[2] - 1):
        states.append(lam * states[-1] + into_state[:, :, c])
    before = torch.stack(states, dim=2)  # state entering each chunk
    y = y + torch.einsum("bhcn,hnt->bhct", before, ops.Q).real
    y = y.reshape(batch, channels, -1)[..., :length]
    if skip is not None:
        y = y + skip[:, None] * signals[:, 0]
    return y if gain is None else y + product_term(signals[:, 0], gain)


class _ChunkedConvTriton(torch.autograd.Function):
    @staticmethod
    def forward(ctx, signals, skip, gain, taps, P, Q, segments, lagged):
        from sslearn.nn.kernels import _chunked_triton as kern

        signals = signals.contiguous()
        batch, _, channels, length = signals.shape
        n_states = Q.shape[1]
        config = kern.launch_config(batch)
        n_blocks, n_chunks, n_seg, sizes, common = _plan(signals, taps, Q, config["R"], segments)
        y = signals.new_empty(batch, channels, length)
        states = signals.new_empty(batch, channels, n_chunks, 2, n_states)
        ends = signals.new_empty(batch, channels, n_seg, 2, n_states)
        if n_seg > 1:
            kern.chunked_conv_seg_fwd_kernel[(channels, n_blocks, n_seg - 1)](
                signals, ends, taps, skip, P, Q, *common, **sizes, LAG=lagged, **config
            )
        pb = gain is not None
        kern.chunked_conv_fwd_kernel[(channels, n_blocks, n_seg)](
            signals, y, states, ends, gain if pb else skip, skip, taps, P, Q,
            *common, **sizes, PB=pb, LAG=lagged, **config,
        )  # fmt: skip
        ctx.save_for_backward(signals, gain, states, skip, taps, P, Q)
        ctx.segments, ctx.lagged = segments, lagged
        return y

    @staticmethod
    def backward(ctx, dy):
        from sslearn.nn.kernels import _chunked_triton as kern

        signals, gain, states, skip, taps, P, Q = ctx.saved_tensors
        dy = dy.contiguous()
        batch, _, channels, length = signals.shape
        n_signals = taps.shape[1]
        chunk, n_states = taps.shape[-1], Q.shape[1]
        config = kern.launch_config(batch, backward=True)
        n_blocks, _, n_seg, sizes, common = _plan(signals, taps, Q, config["R"], ctx.segments)
        entering = signals.new_empty(batch, channels, n_seg, 2, n_states)
        if n_seg > 1:
            kern.chunked_conv_seg_bwd_kernel[(channels, n_blocks, n_seg - 1)](
                dy, entering, Q, *common, T=chunk, N2=n_states, R=config["R"],
                PREC=config["PREC"], num_warps=config["num_warps"],
            )  # fmt: skip
        pb = gain is not None
        parts = n_blocks * n_seg
        # with lagged, one gradient (of u) through both stacked signals
        d_signals = signals.new_empty(batch, 1 if ctx.lagged else n_signals, channels, length)
        first_r = signals.new_empty(batch, channels, n_seg) if ctx.lagged else d_signals
        d_taps = signals.new_empty(parts, *taps.shape)
        d_P = signals.new_empty(parts, *P.shape)
        d_Q = signals.new_empty(parts, *Q.shape)
        d_gain = signals.new_empty(parts, channels)
        kern.chunked_conv_bwd_kernel[(channels, n_blocks, n_seg)](
            signals, dy, states, entering, d_signals, first_r, d_taps, d_P, d_Q,
            gain if pb else skip, d_gain, skip, taps, P, Q,
            *common, **sizes, PB=pb, LAG=ctx.lagged, **config,
        )  # fmt: skip
        if ctx.lagged and n_seg > 1:  # the lagged product's share across segment ends
            span = common[4] * chunk  # steps per segment
            ends = d_signals[..., span - 1 : (n_seg - 1) * span : span]
            ends += first_r[:, None, :, 1:]
        d_taps = d_taps.sum(0)
        d_skip = d_taps[:, 0, 0]  # D sits on tap 0 of the first signal's kernel
        d_gain = d_gain.sum(0) if pb else None
        return d_signals, d_skip, d_gain, d_taps, d_P.sum(0), d_Q.sum(0), None, None


def _plan(signals, taps, Q, rows, segments):
    """Launch sizes shared by the forward and backward kernels (each pass may use its own
    rows per program, hence its own segments): ``(n_blocks, n_chunks, n_seg, sizes,
    common)`` with ``sizes`` the kernels' ``NQ, QT, T, N2`` and ``common`` their leading
    integer arguments."""
    from sslearn.nn.kernels import _chunked_triton as kern

    batch, _, channels, length = signals.shape
    n_signals, chunk, n_states = taps.shape[1], taps.shape[-1], Q.shape[1]
    n_chunks = -(-length // chunk)
    n_blocks = -(-batch // rows)
    seg_chunks = kern.segment_chunks(
        channels * n_blocks, n_chunks, kern.multiprocessors(signals.device), segments
    )
    n_seg = -(-n_chunks // seg_chunks)
    shape = (n_signals, _stacked(n_signals, chunk), chunk, n_states)
    sizes = dict(zip(("NQ", "QT", "T", "N2"), shape, strict=True))
    common = (batch, channels, length, n_chunks, seg_chunks, n_seg)
    return n_blocks, n_chunks, n_seg, sizes, common


def _stacked(n_signals: int, chunk: int) -> int:
    """Width of the side-by-side signal tile: Q rounded up to a power of two, times T."""
    return (1 << (n_signals - 1).bit_length()) * chunk


def _padded_modes(ops: ChunkOperators) -> ChunkOperators:
    """Zero modes up to :func:`padded_mode_count` (``tl.dot``'s tiles); they add nothing."""
    n_states = ops.Q.shape[1]
    extra = padded_mode_count(n_states) - n_states
    if not extra:
        return ops
    pad = torch.nn.functional.pad
    return ops._replace(P=pad(ops.P, (0, extra)), Q=pad(ops.Q, (0, 0, 0, extra)))


def chunked_conv_triton(
    signals: torch.Tensor,
    ops: ChunkOperators,
    skip: torch.Tensor | None = None,
    gain: torch.Tensor | None = None,
    *,
    lagged: bool = False,
    segments: int | None = None,
) -> torch.Tensor:
    """The fused Triton chunked convolution (float32; CUDA, or Triton's CPU interpreter).

    Same arguments as :func:`chunked_conv_reference` (with ``lagged`` the product is formed
    inside the kernel, never stored). The chunk length must be a power of two >= 16; the
    number of modes is padded. ``gain`` needs a single signal (Q = 1) and excludes ``lagged``.
    ``segments`` forces the number of time segments run in parallel per series (default:
    segments only when there are fewer programs than SMs, see
    :func:`~sslearn.nn.kernels._chunked_triton.segment_chunks`).
    """
    chunk = ops.chunk
    if chunk < 16 or chunk & (chunk - 1):
        raise ValueError(f"the chunk length must be a power of two >= 16, got {chunk}")
    if gain is not None and (signals.shape[1] != 1 or lagged):
        raise ValueError("the fused product term needs exactly one signal (Q = 1)")
    if lagged and (signals.shape[1] != 1 or ops.taps.shape[1] != 2):
        raise ValueError("lagged=True needs one signal (u) and two kernels (u, the product)")
    ops = _padded_modes(ops)
    skip = signals.new_zeros(signals.shape[2]) if skip is None else skip.contiguous()
    gain = None if gain is None else gain.contiguous()
    return _ChunkedConvTriton.apply(
        signals,
        skip,
        gain,
        ops.taps.contiguous(),
        torch.view_as_real(ops.P.contiguous()),
        torch.view_as_real(ops.Q.contiguous()),
        segments,
        lagged,
    )


def chunked_conv(
    signals: torch.Tensor,
    ops: ChunkOperators,
    skip: torch.Tensor | None = None,
    gain: torch.Tensor | None = None,
    *,
    lagged: bool = False,
) -> torch.Tensor:
    """``y[b, h] = sum_q (K_q[h] * signals[b, q, h])`` (causal), Triton on CUDA, else the twin.

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    ops : ChunkOperators
        From :func:`chunk_operators`.
    skip : tensor of shape (H,), optional
        Adds ``skip * signals[:, 0]``.
    gain : tensor of shape (H,), optional
        Adds the degree-2 product term :func:`product_term` of ``signals[:, 0]`` (Q = 1).
    lagged : bool, default=False
        The second kernel convolves :func:`lagged_product` of ``u = signals[:, 0]`` (Q = 1).

    Returns
    -------
    tensor of shape (B, H, L)
    """
    if use_triton(signals):
        return chunked_conv_triton(signals, ops, skip, gain, lagged=lagged)
    return chunked_conv_reference(signals, ops, skip, gain, lagged=lagged)
