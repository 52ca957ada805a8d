"""Triton kernels that build the chunked convolution's operators (see :mod:`.chunked_conv`).

One program per channel ``h`` computes, from the modes ``a_n = exp(log_a[h, n])`` and the
weights ``w[q, h, n]``, in real arithmetic (``a^m = exp(m Re log_a) (cos, sin)(m Im log_a)``,
each power evaluated directly, no running product)::

    taps[h, q, m] = 2 Re sum_n w[q, n] a_n^m            m = 0 .. T-1
    P[h, q, s, n] = w[q, n] a_n^(T-1-s)                 s = 0 .. T-1
    Q[h, n, t]    = 2 a_n^(t+1)                         t = 0 .. T-1

with the modes padded to ``NP`` (zeros: they add nothing). The backward kernel maps the
gradients of ``taps``, ``P`` and ``Q`` (real and imaginary parts) back to ``w`` and
``log_a``: with ``G`` the gradient reaching ``a^m`` (real and imaginary parts),
``d log_a = sum_m m conj(a^m) G`` (as real pairs). This replaces some forty small PyTorch
kernels (and their autograd nodes) per layer call with two.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _powers(lr, li, m):
    """Real and imaginary parts of ``a^m`` for mode rows ``lr, li`` (1, NP) and powers ``m``.

    The angle is first reduced to ``[-pi, pi]`` (Cody-Waite, ``2 pi = C1 + C2`` with ``C1``
    exact in 8 bits): the GPU's fast ``cos``/``sin`` are accurate only there, and the
    angles of the high modes reach hundreds of radians.
    """
    mf = m.to(tl.float32)
    magnitude = tl.exp(mf * lr)
    angle = mf * li
    turns = tl.floor(angle * 0.15915494309189535 + 0.5)
    angle = (angle - turns * 6.28125) - turns * 0.0019353071795864769
    return magnitude * tl.cos(angle), magnitude * tl.sin(angle)


@triton.jit
def _modes(log_a_ptr, h, N2, NP: tl.constexpr):
    nn = tl.arange(0, NP)
    ok = nn < N2
    lr = tl.load(log_a_ptr + (h * N2 + nn) * 2, mask=ok, other=0.0)
    li = tl.load(log_a_ptr + (h * N2 + nn) * 2 + 1, mask=ok, other=0.0)
    return nn, ok, lr[None, :], li[None, :]


@triton.jit
def chunk_operators_fwd_kernel(
    w_ptr, log_a_ptr, taps_ptr, p_ptr, q_ptr, channels, N2,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    nn, ok, lr, li = _modes(log_a_ptr, h, N2, NP)
    s = tl.arange(0, T)[:, None]  # (T, 1): the time index of every (T, NP) tile
    qr, qi = _powers(lr, li, s + 1)
    q_off = ((h * NP + nn[None, :]) * T + s) * 2
    tl.store(q_ptr + q_off, tl.where(ok[None, :], 2.0 * qr, 0.0))
    tl.store(q_ptr + q_off + 1, tl.where(ok[None, :], 2.0 * qi, 0.0))
    er, ei = _powers(lr, li, s)  # a^m, m = s
    fr, fi = _powers(lr, li, T - 1 - s)  # a^(T-1-s)
    for q in tl.static_range(NQ):
        w_off = ((q * channels + h) * N2 + nn) * 2
        wr = tl.load(w_ptr + w_off, mask=ok, other=0.0)[None, :]
        wi = tl.load(w_ptr + w_off + 1, mask=ok, other=0.0)[None, :]
        taps = 2.0 * tl.sum(wr * er - wi * ei, axis=1)  # (T,)
        tl.store(taps_ptr + (h * NQ + q) * T + tl.arange(0, T), taps)
        p_off = (((h * NQ + q) * T + s) * NP + nn[None, :]) * 2
        tl.store(p_ptr + p_off, wr * fr - wi * fi)
        tl.store(p_ptr + p_off + 1, wr * fi + wi * fr)


@triton.jit
def _log_a_grad(gr, gi, er, ei, m):
    """``m conj(a^m) G`` summed over the time rows: (d Re log_a, d Im log_a), each (NP,)."""
    mf = m.to(tl.float32)
    return tl.sum(mf * (gr * er + gi * ei), axis=0), tl.sum(mf * (gi * er - gr * ei), axis=0)


@triton.jit
def chunk_operators_bwd_kernel(
    w_ptr, log_a_ptr, dtaps_ptr, dp_ptr, dq_ptr, dw_ptr, dlog_a_ptr, channels, N2,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    nn, ok, lr, li = _modes(log_a_ptr, h, N2, NP)
    s = tl.arange(0, T)[:, None]
    qr, qi = _powers(lr, li, s + 1)
    q_off = ((h * NP + nn[None, :]) * T + s) * 2
    dlr, dli = _log_a_grad(
        2.0 * tl.load(dq_ptr + q_off), 2.0 * tl.load(dq_ptr + q_off + 1), qr, qi, s + 1
    )
    er, ei = _powers(lr, li, s)
    fr, fi = _powers(lr, li, T - 1 - s)
    for q in tl.static_range(NQ):
        w_off = ((q * channels + h) * N2 + nn) * 2
        wr = tl.load(w_ptr + w_off, mask=ok, other=0.0)[None, :]
        wi = tl.load(w_ptr + w_off + 1, mask=ok, other=0.0)[None, :]
        dtaps = 2.0 * tl.load(dtaps_ptr + (h * NQ + q) * T + s)  # (T, 1)
        p_off = (((h * NQ + q) * T + s) * NP + nn[None, :]) * 2
        dpr = tl.load(dp_ptr + p_off)
        dpi = tl.load(dp_ptr + p_off + 1)
        # w: from the taps (at a^s) and from P (at a^(T-1-s))
        dwr = tl.sum(dtaps * er + dpr * fr + dpi * fi, axis=0)
        dwi = tl.sum(-dtaps * ei - dpr * fi + dpi * fr, axis=0)
        tl.store(dw_ptr + w_off, dwr, mask=ok)
        tl.store(dw_ptr + w_off + 1, dwi, mask=ok)
        # log_a: the gradient reaching a^s from the taps, and a^(T-1-s) from P
        tr, ti = _log_a_grad(dtaps * wr, -dtaps * wi, er, ei, s)
        pr_, pi_ = _log_a_grad(dpr * wr + dpi * wi, dpi * wr - dpr * wi, fr, fi, T - 1 - s)
        dlr += tr + pr_
        dli += ti + pi_
    tl.store(dlog_a_ptr + (h * N2 + nn) * 2, dlr, mask=ok)
    tl.store(dlog_a_ptr + (h * N2 + nn) * 2 + 1, dli, mask=ok)
