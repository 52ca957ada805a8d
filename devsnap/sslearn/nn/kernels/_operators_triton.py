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

# The kernels unpack the whole tuple of :func:`_zoh` and use what they need (the compiler
# drops the rest).
# ruff: noqa: RUF059

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _cos_sin(angle):
    """``cos`` and ``sin`` after reducing the angle to ``[-pi, pi]`` (Cody-Waite,
    ``2 pi = C1 + C2`` with ``C1`` exact in 8 bits): the GPU's fast ``cos``/``sin`` are
    accurate only there, and the angles of the high modes reach hundreds of radians."""
    turns = tl.floor(angle * 0.15915494309189535 + 0.5)
    angle = (angle - turns * 6.28125) - turns * 0.0019353071795864769
    return tl.cos(angle), tl.sin(angle)


@triton.jit
def _powers(lr, li, m):
    """Real and imaginary parts of ``a^m`` for mode rows ``lr, li`` (1, NP) and powers ``m``."""
    mf = m.to(tl.float32)
    cos, sin = _cos_sin(mf * li)
    magnitude = tl.exp(mf * lr)
    return magnitude * cos, magnitude * sin


@triton.jit
def _modes(log_a_ptr, h, N2, NP: tl.constexpr):
    nn = tl.arange(0, NP)
    ok = nn < N2
    lr = tl.load(log_a_ptr + (h * N2 + nn) * 2, mask=ok, other=0.0)
    li = tl.load(log_a_ptr + (h * N2 + nn) * 2 + 1, mask=ok, other=0.0)
    return nn, ok, lr[None, :], li[None, :]


@triton.jit
def _store_state_operator(q_ptr, h, lr, li, nn, ok, T: tl.constexpr, NP: tl.constexpr):
    """``Q[h, n, t] = 2 a^(t+1)`` (zero for padded modes)."""
    s = tl.arange(0, T)[:, None]
    qr, qi = _powers(lr, li, s + 1)
    q_off = ((h * NP + nn[None, :]) * T + s) * 2
    tl.store(q_ptr + q_off, tl.where(ok[None, :], 2.0 * qr, 0.0))
    tl.store(q_ptr + q_off + 1, tl.where(ok[None, :], 2.0 * qi, 0.0))


@triton.jit
def _store_signal_operators(
    taps_ptr, p_ptr, h, q, wr, wi, er, ei, fr, fi, nn,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr,
):  # fmt: skip
    """``taps[h, q]`` and ``P[h, q]`` of weights ``wr, wi`` (1, NP); ``e = a^s``,
    ``f = a^(T-1-s)`` as (T, NP) tiles."""
    s = tl.arange(0, T)[:, None]
    taps = 2.0 * tl.sum(wr * er - wi * ei, axis=1)  # (T,)
    tl.store(taps_ptr + (h * NQ + q) * T + tl.arange(0, T), taps)
    p_off = (((h * NQ + q) * T + s) * NP + nn[None, :]) * 2
    tl.store(p_ptr + p_off, wr * fr - wi * fi)
    tl.store(p_ptr + p_off + 1, wr * fi + wi * fr)


@triton.jit
def chunk_operators_fwd_kernel(
    w_ptr, log_a_ptr, taps_ptr, p_ptr, q_ptr, channels, N2,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    nn, ok, lr, li = _modes(log_a_ptr, h, N2, NP)
    _store_state_operator(q_ptr, h, lr, li, nn, ok, T, NP)
    s = tl.arange(0, T)[:, None]  # (T, 1): the time index of every (T, NP) tile
    er, ei = _powers(lr, li, s)  # a^m, m = s
    fr, fi = _powers(lr, li, T - 1 - s)  # a^(T-1-s)
    for q in tl.static_range(NQ):
        w_off = ((q * channels + h) * N2 + nn) * 2
        wr = tl.load(w_ptr + w_off, mask=ok, other=0.0)[None, :]
        wi = tl.load(w_ptr + w_off + 1, mask=ok, other=0.0)[None, :]
        _store_signal_operators(taps_ptr, p_ptr, h, q, wr, wi, er, ei, fr, fi, nn, NQ, T, NP)


@triton.jit
def _log_a_grad(gr, gi, er, ei, m):
    """``m conj(a^m) G`` summed over the time rows: (d Re log_a, d Im log_a), each (NP,)."""
    mf = m.to(tl.float32)
    return tl.sum(mf * (gr * er + gi * ei), axis=0), tl.sum(mf * (gi * er - gr * ei), axis=0)


@triton.jit
def _state_operator_grads(dq_ptr, h, lr, li, nn, T: tl.constexpr, NP: tl.constexpr):
    """The gradient of ``log_a`` through ``Q``: (d Re, d Im), each (NP,)."""
    s = tl.arange(0, T)[:, None]
    qr, qi = _powers(lr, li, s + 1)
    q_off = ((h * NP + nn[None, :]) * T + s) * 2
    return _log_a_grad(
        2.0 * tl.load(dq_ptr + q_off), 2.0 * tl.load(dq_ptr + q_off + 1), qr, qi, s + 1
    )


@triton.jit
def _signal_operator_grads(
    dtaps_ptr, dp_ptr, h, q, wr, wi, er, ei, fr, fi, nn,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr,
):  # fmt: skip
    """Gradients through ``taps[h, q]`` and ``P[h, q]``: of the weights (d Re, d Im) and of
    ``log_a`` (d Re, d Im), each (NP,)."""
    s = tl.arange(0, T)[:, None]
    dtaps = 2.0 * tl.load(dtaps_ptr + (h * NQ + q) * T + s)  # (T, 1)
    p_off = (((h * NQ + q) * T + s) * NP + nn[None, :]) * 2
    dpr = tl.load(dp_ptr + p_off)
    dpi = tl.load(dp_ptr + p_off + 1)
    # w: from the taps (at a^s) and from P (at a^(T-1-s))
    dwr = tl.sum(dtaps * er + dpr * fr + dpi * fi, axis=0)
    dwi = tl.sum(-dtaps * ei - dpr * fi + dpi * fr, axis=0)
    # log_a: the gradient reaching a^s from the taps, and a^(T-1-s) from P
    tr, ti = _log_a_grad(dtaps * wr, -dtaps * wi, er, ei, s)
    pr, pi = _log_a_grad(dpr * wr + dpi * wi, dpi * wr - dpr * wi, fr, fi, T - 1 - s)
    return dwr, dwi, tr + pr, ti + pi


@triton.jit
def chunk_operators_bwd_kernel(
    w_ptr, log_a_ptr, dtaps_ptr, dp_ptr, dq_ptr, dw_ptr, dlog_a_ptr, channels, N2,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    nn, ok, lr, li = _modes(log_a_ptr, h, N2, NP)
    dlr, dli = _state_operator_grads(dq_ptr, h, lr, li, nn, T, NP)
    s = tl.arange(0, T)[:, None]
    er, ei = _powers(lr, li, s)
    fr, fi = _powers(lr, li, T - 1 - s)
    for q in tl.static_range(NQ):
        w_off = ((q * channels + h) * N2 + nn) * 2
        wr = tl.load(w_ptr + w_off, mask=ok, other=0.0)[None, :]
        wi = tl.load(w_ptr + w_off + 1, mask=ok, other=0.0)[None, :]
        dwr, dwi, gr, gi = _signal_operator_grads(
            dtaps_ptr, dp_ptr, h, q, wr, wi, er, ei, fr, fi, nn, NQ, T, NP
        )
        tl.store(dw_ptr + w_off, dwr, mask=ok)
        tl.store(dw_ptr + w_off + 1, dwi, mask=ok)
        dlr += gr
        dli += gi
    tl.store(dlog_a_ptr + (h * N2 + nn) * 2, dlr, mask=ok)
    tl.store(dlog_a_ptr + (h * N2 + nn) * 2 + 1, dli, mask=ok)


# ----------------------------------------------------------------------------------------
# the same from the diagonal core's parameters (zero-order hold), discretisation included
# ----------------------------------------------------------------------------------------


@triton.jit
def _expm1(x):
    """``exp(x) - 1`` without cancellation for small ``x`` (Kahan's ``(u - 1) x / log u``)."""
    u = tl.exp(x)
    um1 = u - 1.0
    safe = tl.where(um1 == 0.0, 1.0, um1)
    ratio = tl.where((u == 1.0) | (um1 == 0.0), 1.0, x / tl.log(tl.where(u == 1.0, 2.0, u)))
    return tl.where(u == 1.0, x, tl.where(um1 == -1.0, -1.0, safe * ratio))


@triton.jit
def _zoh(log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, h, N2, NP: tl.constexpr):
    """The zero-order-hold discretisation of channel ``h`` (as ``DiagonalSSM``), per mode:
    ``A = -max(exp(log_A_real), 1e-4) + i A_imag``, ``z = dt A`` (``= log Abar``),
    ``E = expm1(z)``, ``F = E / A``, ``Bbar = F B``; all (NP,), complex as (re, im)."""
    nn = tl.arange(0, NP)
    ok = nn < N2
    dt = tl.exp(tl.load(log_dt_ptr + h))
    decay = tl.exp(tl.load(log_a_real_ptr + h * N2 + nn, mask=ok, other=0.0))
    ar = -tl.maximum(decay, 1e-4)
    ai = tl.load(a_imag_ptr + h * N2 + nn, mask=ok, other=0.0)
    zr = dt * ar
    zi = dt * ai
    cos, sin = _cos_sin(zi)
    _, sin_half = _cos_sin(0.5 * zi)
    er = _expm1(zr) * cos - 2.0 * sin_half * sin_half  # Re expm1(z), no cancellation
    ei = tl.exp(zr) * sin
    norm = ar * ar + ai * ai
    fr = (er * ar + ei * ai) / norm
    fi = (ei * ar - er * ai) / norm
    br = tl.load(b_ptr + (h * N2 + nn) * 2, mask=ok, other=0.0)
    bi = tl.load(b_ptr + (h * N2 + nn) * 2 + 1, mask=ok, other=0.0)
    cr = tl.load(c_ptr + (h * N2 + nn) * 2, mask=ok, other=0.0)
    ci = tl.load(c_ptr + (h * N2 + nn) * 2 + 1, mask=ok, other=0.0)
    return (nn, ok, dt, decay, ar, ai, zr, zi, cos, sin, er, ei, fr, fi,
            fr * br - fi * bi, fr * bi + fi * br, br, bi, cr, ci)  # fmt: skip


@triton.jit
def _complex_power(xr, xi, k: tl.constexpr):
    """``x^k`` for a compile-time ``k >= 1``."""
    pr = xr
    pi = xi
    for _ in tl.static_range(k - 1):
        pr, pi = pr * xr - pi * xi, pr * xi + pi * xr
    return pr, pi


@triton.jit
def zoh_operators_fwd_kernel(
    log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, taps_ptr, p_ptr, q_ptr, gain_ptr, N2,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr, GAIN: tl.constexpr,
):  # fmt: skip
    """Operators of the kernels ``C Bbar^q``, ``q = 1 .. NQ``, over ``Abar = exp(dt A)``;
    with ``GAIN = p > 0`` also the liquid gain ``2 Re sum_n C Bbar^p`` of channel ``h``."""
    h = tl.program_id(0)
    (nn, ok, dt, decay, ar, ai, zr, zi, cos, sin, er, ei, fr, fi, bbr, bbi, br, bi, cr,
     ci) = _zoh(log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, h, N2, NP)  # fmt: skip
    lr = zr[None, :]
    li = zi[None, :]
    _store_state_operator(q_ptr, h, lr, li, nn, ok, T, NP)
    s = tl.arange(0, T)[:, None]
    er, ei = _powers(lr, li, s)
    fr, fi = _powers(lr, li, T - 1 - s)
    pr = bbr  # Bbar^(q+1)
    pi = bbi
    for q in tl.static_range(NQ):
        wr = tl.where(ok, cr * pr - ci * pi, 0.0)[None, :]
        wi = tl.where(ok, cr * pi + ci * pr, 0.0)[None, :]
        _store_signal_operators(taps_ptr, p_ptr, h, q, wr, wi, er, ei, fr, fi, nn, NQ, T, NP)
        pr, pi = pr * bbr - pi * bbi, pr * bbi + pi * bbr
    if GAIN > 0:
        gr, gi = _complex_power(bbr, bbi, GAIN)
        tl.store(gain_ptr + h, 2.0 * tl.sum(tl.where(ok, cr * gr - ci * gi, 0.0), axis=0))


@triton.jit
def _store_zoh_grads(
    d_log_dt_ptr, d_log_a_real_ptr, d_a_imag_ptr, d_b_ptr, d_c_ptr, h, N2, nn, ok,
    dt, decay, ar, ai, zr, cos, sin, fr, fi, br, bi, gzr, gzi, gbr, gbi, gcr, gci,
):  # fmt: skip
    """From the gradients of ``z = log Abar``, ``Bbar`` and ``C`` (PyTorch's complex
    convention) to those of the core's parameters, through :func:`_zoh`; stores them."""
    # Bbar = F B
    gfr = br * gbr + bi * gbi
    gfi = br * gbi - bi * gbr
    g_br = fr * gbr + fi * gbi
    g_bi = fr * gbi - fi * gbr
    # F = E / A: G_E = G_F / conj(A) = G_F A / |A|^2, G_A = -conj(F / A) G_F
    norm = ar * ar + ai * ai
    ger = (gfr * ar - gfi * ai) / norm
    gei = (gfr * ai + gfi * ar) / norm
    qr = (fr * ar + fi * ai) / norm  # F / A
    qi = (fi * ar - fr * ai) / norm
    gar = -(qr * gfr + qi * gfi)
    gai = -(qr * gfi - qi * gfr)
    # E = expm1(z): G_z += conj(exp(z)) G_E
    magnitude = tl.exp(zr)
    xr = magnitude * cos
    xi = magnitude * sin
    gzr += xr * ger + xi * gei
    gzi += xr * gei - xi * ger
    # z = dt A
    gar += dt * gzr
    gai += dt * gzi
    d_dt = tl.sum(tl.where(ok, ar * gzr + ai * gzi, 0.0), axis=0)
    tl.store(d_log_dt_ptr + h, d_dt * dt)
    # A = -max(exp(log_A_real), 1e-4) + i A_imag
    d_lar = tl.where(decay >= 1e-4, -gar * decay, 0.0)
    tl.store(d_log_a_real_ptr + h * N2 + nn, d_lar, mask=ok)
    tl.store(d_a_imag_ptr + h * N2 + nn, gai, mask=ok)
    tl.store(d_b_ptr + (h * N2 + nn) * 2, g_br, mask=ok)
    tl.store(d_b_ptr + (h * N2 + nn) * 2 + 1, g_bi, mask=ok)
    tl.store(d_c_ptr + (h * N2 + nn) * 2, gcr, mask=ok)
    tl.store(d_c_ptr + (h * N2 + nn) * 2 + 1, gci, mask=ok)


@triton.jit
def zoh_operators_bwd_kernel(
    log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, dtaps_ptr, dp_ptr, dq_ptr, dgain_ptr,
    d_log_dt_ptr, d_log_a_real_ptr, d_a_imag_ptr, d_b_ptr, d_c_ptr, N2,
    NQ: tl.constexpr, T: tl.constexpr, NP: tl.constexpr, GAIN: tl.constexpr,
):  # fmt: skip
    """Backward of :func:`zoh_operators_fwd_kernel`; complex chain rule in PyTorch's
    convention (``G`` = d/d Re + i d/d Im; ``w = f(z)`` holomorphic: ``G_z = conj(f') G_w``)."""
    h = tl.program_id(0)
    (nn, ok, dt, decay, ar, ai, zr, zi, cos, sin, er, ei, fr, fi, bbr, bbi, br, bi, cr,
     ci) = _zoh(log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, h, N2, NP)  # fmt: skip
    lr = zr[None, :]
    li = zi[None, :]
    gzr, gzi = _state_operator_grads(dq_ptr, h, lr, li, nn, T, NP)  # G of log Abar = z
    s = tl.arange(0, T)[:, None]
    er_t, ei_t = _powers(lr, li, s)
    fr_t, fi_t = _powers(lr, li, T - 1 - s)
    gcr = tl.zeros_like(zr)  # G of C
    gci = tl.zeros_like(zr)
    gbr = tl.zeros_like(zr)  # G of Bbar
    gbi = tl.zeros_like(zr)
    pr = tl.where(ok, 1.0, 0.0)  # Bbar^q, q = 0 first
    pi = tl.zeros_like(zr)
    for q in tl.static_range(NQ):
        nr, ni = pr * bbr - pi * bbi, pr * bbi + pi * bbr  # Bbar^(q+1)
        wr = tl.where(ok, cr * nr - ci * ni, 0.0)[None, :]
        wi = tl.where(ok, cr * ni + ci * nr, 0.0)[None, :]
        gwr, gwi, gr, gi = _signal_operator_grads(
            dtaps_ptr, dp_ptr, h, q, wr, wi, er_t, ei_t, fr_t, fi_t, nn, NQ, T, NP
        )
        gzr += gr
        gzi += gi
        # w = C Bbar^(q+1): G_C += conj(Bbar^(q+1)) G_w, G_Bbar += conj((q+1) C Bbar^q) G_w
        gcr += nr * gwr + ni * gwi
        gci += nr * gwi - ni * gwr
        dr = (q + 1.0) * (cr * pr - ci * pi)
        di = (q + 1.0) * (cr * pi + ci * pr)
        gbr += dr * gwr + di * gwi
        gbi += dr * gwi - di * gwr
        pr, pi = nr, ni
    if GAIN > 0:  # gain = 2 Re sum_n w, w = C Bbar^p: G_w = 2 dgain (real)
        gwr = 2.0 * tl.load(dgain_ptr + h)
        nr, ni = _complex_power(bbr, bbi, GAIN)
        gcr += nr * gwr
        gci -= ni * gwr
        if GAIN > 1:
            pr, pi = _complex_power(bbr, bbi, GAIN - 1)
        else:
            pr, pi = tl.where(ok, 1.0, 0.0), tl.zeros_like(zr)
        dr = GAIN * (cr * pr - ci * pi)
        di = GAIN * (cr * pi + ci * pr)
        gbr += dr * gwr
        gbi -= di * gwr
    _store_zoh_grads(
        d_log_dt_ptr, d_log_a_real_ptr, d_a_imag_ptr, d_b_ptr, d_c_ptr, h, N2, nn, ok,
        dt, decay, ar, ai, zr, cos, sin, fr, fi, br, bi, gzr, gzi, gbr, gbi, gcr, gci,
    )  # fmt: skip


@triton.jit
def zoh_scan_params_fwd_kernel(
    log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, out_ptr, channels, N2,
    NP: tl.constexpr,
):  # fmt: skip
    """``Abar``, ``Bbar`` and ``C`` of the exact liquid scan, split into real and imaginary
    parts: ``out`` is (6, H, N2) = (Abar re, im, Bbar re, im, C re, im)."""
    h = tl.program_id(0)
    (nn, ok, dt, decay, ar, ai, zr, zi, cos, sin, er, ei, fr, fi, bbr, bbi, br, bi, cr,
     ci) = _zoh(log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, h, N2, NP)  # fmt: skip
    magnitude = tl.exp(zr)
    out = out_ptr + h * N2 + nn
    plane = channels * N2
    tl.store(out, magnitude * cos, mask=ok)
    tl.store(out + plane, magnitude * sin, mask=ok)
    tl.store(out + 2 * plane, bbr, mask=ok)
    tl.store(out + 3 * plane, bbi, mask=ok)
    tl.store(out + 4 * plane, cr, mask=ok)
    tl.store(out + 5 * plane, ci, mask=ok)


@triton.jit
def _column_sum(ptrs, mask):
    """Sum over the rows of a loaded ``[BB, NP]`` tile (zeros where masked)."""
    return tl.sum(tl.load(ptrs, mask=mask, other=0.0), axis=0)


@triton.jit
def zoh_scan_params_bwd_kernel(
    log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, grads_ptr,
    d_log_dt_ptr, d_log_a_real_ptr, d_a_imag_ptr, d_b_ptr, d_c_ptr, batch, channels, N2,
    NP: tl.constexpr, BB: tl.constexpr,
):  # fmt: skip
    """Backward of :func:`zoh_scan_params_fwd_kernel` from the scan's per-row parameter
    gradients ``grads`` (6, B H, N2), summed over the batch here, ``BB`` rows per load."""
    h = tl.program_id(0)
    (nn, ok, dt, decay, ar, ai, zr, zi, cos, sin, er, ei, fr, fi, bbr, bbi, br, bi, cr,
     ci) = _zoh(log_dt_ptr, log_a_real_ptr, a_imag_ptr, b_ptr, c_ptr, h, N2, NP)  # fmt: skip
    plane = batch * channels * N2
    g_ar = tl.zeros_like(zr)
    g_ai = tl.zeros_like(zr)
    gbr = tl.zeros_like(zr)
    gbi = tl.zeros_like(zr)
    gcr = tl.zeros_like(zr)
    gci = tl.zeros_like(zr)
    b0 = 0
    while b0 < batch:  # [BB, NP] tiles of the six planes: BB rows in flight per load
        rows = b0 + tl.arange(0, BB)
        tile = grads_ptr + (rows[:, None] * channels + h) * N2 + nn[None, :]
        live = (rows < batch)[:, None] & ok[None, :]
        g_ar += _column_sum(tile, live)
        g_ai += _column_sum(tile + plane, live)
        gbr += _column_sum(tile + 2 * plane, live)
        gbi += _column_sum(tile + 3 * plane, live)
        gcr += _column_sum(tile + 4 * plane, live)
        gci += _column_sum(tile + 5 * plane, live)
        b0 += BB
    # Abar = exp(z): G_z = conj(exp(z)) G_Abar
    magnitude = tl.exp(zr)
    xr = magnitude * cos
    xi = magnitude * sin
    gzr = xr * g_ar + xi * g_ai
    gzi = xr * g_ai - xi * g_ar
    _store_zoh_grads(
        d_log_dt_ptr, d_log_a_real_ptr, d_a_imag_ptr, d_b_ptr, d_c_ptr, h, N2, nn, ok,
        dt, decay, ar, ai, zr, cos, sin, fr, fi, br, bi, gzr, gzi, gbr, gbi, gcr, gci,
    )  # fmt: skip
