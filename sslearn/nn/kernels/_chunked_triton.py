"""Triton kernels of the chunked diagonal-SSM convolution (see :mod:`.chunked_conv`).

One program owns one channel ``h`` and ``R`` series (rows). It walks the chunks in order
(forward) or in reverse (backward), keeping the ``R x N2`` complex state (forward) or its
adjoint (backward) in registers; every chunk is a handful of small matrix products
(``tl.dot``) against the channel's operators, built once per program from the kernel's first
``T`` taps (the Toeplitz ``M``, with the skip ``D`` on the diagonal of the first signal's
block), ``P`` and ``Q`` (``lam = Q[:, T-1] / 2``). The ``NQ`` signals of a chunk are laid side
by side (an ``R x QT`` tile, ``QT`` = NQ rounded up to a power of two, times T) so that one
product covers all of them and the gradient accumulators stay in registers.

Backward, with ``G = dL/dX_c`` (real and imaginary parts) and ``X = X_{c-1}`` read back from
the states saved by the forward pass::

    dS = dY M^T + G_re P_re^T + G_im P_im^T              dM += S^T dY
    dP += S^T G                                          dQ += [X_re, -X_im]^T dY
    dlam += sum_rows (conj(X) G)                         G <- dY [Q_re, -Q_im]^T + conj(lam) G

and at the end ``dtaps[q, d]`` = the sum of the ``d``-th diagonal of ``dM``'s block ``q``.

With ``PB`` (one signal ``u``), the liquid PB term of degree 2, ``g u[t-1] tanh(u[t])``, is
added to ``y`` in the same pass (and its gradients in the backward pass), so it costs no extra
trip through memory.

Parameter gradients are written per row block and summed by the caller (deterministic).
Precision of the products: ``SSLEARN_CHUNK_PRECISION`` (``tf32x3`` by default: three TF32
tensor-core products, close to float32; ``ieee``: plain float32 FMA; ``tf32``: one TF32
product, ~1e-3 relative error).
"""

from __future__ import annotations

import os

import triton
import triton.language as tl


def launch_config(batch: int, backward: bool = False) -> dict:
    """Launch settings of the forward or backward kernel.

    Rows per program (a power of two >= 16, ``tl.dot``'s minimum), warps and the product
    precision. ``SSLEARN_CHUNK_{ROWS,WARPS,PRECISION}`` (``_BWD_`` variants for the backward
    kernel, e.g. ``SSLEARN_CHUNK_BWD_WARPS``) override them for sweeps
    (``benchmarks/sweep_chunked.py`` chose the defaults).
    """

    def setting(name, default):
        generic = os.environ.get(f"SSLEARN_CHUNK_{name}", default)
        return os.environ.get(f"SSLEARN_CHUNK_BWD_{name}", generic) if backward else generic

    return {
        "R": int(setting("ROWS", 16)),
        "num_warps": int(setting("WARPS", 4)),
        "PREC": setting("PRECISION", "tf32x3"),
    }


@triton.jit
def _complex_scale(xr, xi, lr, li):
    """``lam * x`` for ``x`` of shape (R, N2) and ``lam`` of shape (N2,)."""
    return xr * lr[None, :] - xi * li[None, :], xr * li[None, :] + xi * lr[None, :]


@triton.jit
def _tanh(x):
    """tanh through one exp (also runs in Triton's interpreter)."""
    e = tl.exp(-2.0 * tl.abs(x))
    t = (1.0 - e) / (1.0 + e)
    return tl.where(x < 0, -t, t)


@triton.jit
def _load_shifted(ptr, off, t, shift, ok, length):
    """The tile at time ``t + shift`` (zero outside ``[0, length)``)."""
    tau = t + shift
    return tl.load(ptr + off + shift, mask=ok & ((tau >= 0) & (tau < length))[None, :], other=0.0)


@triton.jit
def _stacked_index(NQ: tl.constexpr, T: tl.constexpr, QT: tl.constexpr):
    """For the stacked axis ``j = q T + s``: ``q``, ``s`` and whether ``q`` is a real signal."""
    j = tl.arange(0, QT)
    return j // T, j % T, j // T < NQ


@triton.jit
def _signal_offsets(rows, h, channels, length, NQ: tl.constexpr, T: tl.constexpr, QT: tl.constexpr):
    """Offsets (R, QT) of the chunk-0 signals of the block, and the mask of real signals."""
    q, tau, real = _stacked_index(NQ, T, QT)
    off = ((rows[:, None] * NQ + q[None, :]) * channels + h) * length + tau[None, :]
    return off, tau, real


@triton.jit
def _operands(
    taps_ptr, skip_ptr, p_ptr, q_ptr, h,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr,
):  # fmt: skip
    """Channel ``h``'s ``M`` (QT, T), ``P_re``, ``P_im`` (QT, N2), ``Q_re``, ``Q_im`` (N2, T)
    and ``lam`` (N2,). ``P`` and ``Q`` are complex, stored as (re, im) pairs."""
    q, s, real = _stacked_index(NQ, T, QT)
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    lag = tt[None, :] - s[:, None]
    m = tl.load(
        taps_ptr + (h * NQ + q[:, None]) * T + lag, mask=real[:, None] & (lag >= 0), other=0.0
    )
    m += tl.where((q[:, None] == 0) & (lag == 0), tl.load(skip_ptr + h), 0.0)
    p_off = (((h * NQ + q[:, None]) * T + s[:, None]) * N2 + nn[None, :]) * 2
    pr = tl.load(p_ptr + p_off, mask=real[:, None], other=0.0)
    pi = tl.load(p_ptr + p_off + 1, mask=real[:, None], other=0.0)
    q_off = ((h * N2 + nn[:, None]) * T + tt[None, :]) * 2
    qr = tl.load(q_ptr + q_off)
    qi = tl.load(q_ptr + q_off + 1)
    lam_off = ((h * N2 + nn) * T + T - 1) * 2
    lr = 0.5 * tl.load(q_ptr + lam_off)
    li = 0.5 * tl.load(q_ptr + lam_off + 1)
    return m, pr, pi, qr, qi, lr, li


@triton.jit
def chunked_conv_fwd_kernel(
    s_ptr, y_ptr, x_ptr, g_ptr, skip_ptr, taps_ptr, p_ptr, q_ptr,
    batch, channels, length, n_chunks,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, PB: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    rows = tl.program_id(1) * R + tl.arange(0, R)
    row_ok = rows < batch
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    m, pr, pi, qr, qi, lr, li = _operands(taps_ptr, skip_ptr, p_ptr, q_ptr, h, NQ, QT, T, N2)
    s_off, tau, s_ok = _signal_offsets(rows, h, channels, length, NQ, T, QT)
    s_ok = row_ok[:, None] & s_ok[None, :]
    xr = tl.zeros((R, N2), dtype=tl.float32)
    xi = tl.zeros((R, N2), dtype=tl.float32)
    y_rows = (rows * channels + h) * length
    x_rows = (rows * channels + h) * n_chunks * 2 * N2
    c = 0
    while c < n_chunks:  # a while loop: Triton's interpreter cannot range() over an argument
        t = c * T + tt
        s = tl.load(s_ptr + s_off + c * T, mask=s_ok & (c * T + tau < length)[None, :], other=0.0)
        acc = tl.dot(xr, qr, input_precision=PREC)
        acc = acc - tl.dot(xi, qi, input_precision=PREC)
        xr, xi = _complex_scale(xr, xi, lr, li)
        acc = tl.dot(s, m, acc, input_precision=PREC)
        xr = tl.dot(s, pr, xr, input_precision=PREC)
        xi = tl.dot(s, pi, xi, input_precision=PREC)
        io_mask = row_ok[:, None] & (t < length)[None, :]
        if PB:  # NQ == 1: the tile of s is the tile of y
            before = _load_shifted(s_ptr, s_off + c * T, t, -1, row_ok[:, None], length)
            acc += tl.load(g_ptr + h) * before * _tanh(s)
        tl.store(y_ptr + y_rows[:, None] + t[None, :], acc, mask=io_mask)
        x_off = x_rows[:, None] + c * 2 * N2 + nn[None, :]
        tl.store(x_ptr + x_off, xr, mask=row_ok[:, None])
        tl.store(x_ptr + x_off + N2, xi, mask=row_ok[:, None])
        c += 1


@triton.jit
def _store_diagonal_sums(ptr, dm, NQ: tl.constexpr, T: tl.constexpr, QT: tl.constexpr):
    """``ptr[q * T + d] = sum_s dm[q T + s, s + d]`` (the taps' gradient from ``dM``)."""
    _, s, _ = _stacked_index(NQ, T, QT)
    lag = tl.arange(0, T)[None, :] - s[:, None]
    for d in tl.static_range(T):
        per_row = tl.sum(tl.where(lag == d, dm, 0.0), axis=1)  # (QT,)
        per_signal = tl.sum(tl.reshape(per_row, (QT // T, T)), axis=1)  # (QT // T,)
        signal = tl.arange(0, QT // T)
        tl.store(ptr + signal * T + d, per_signal, mask=signal < NQ)


@triton.jit
def chunked_conv_bwd_kernel(
    s_ptr, dy_ptr, x_ptr, ds_ptr, dtaps_ptr, dp_ptr, dq_ptr, g_ptr, dg_ptr,
    skip_ptr, taps_ptr, p_ptr, q_ptr,
    batch, channels, length, n_chunks,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, PB: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    block = tl.program_id(1)
    rows = block * R + tl.arange(0, R)
    row_ok = rows < batch
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    m, pr, pi, qr, qi, lr, li = _operands(taps_ptr, skip_ptr, p_ptr, q_ptr, h, NQ, QT, T, N2)
    m_t, pr_t, pi_t, qr_t, qi_t = (
        tl.trans(m),
        tl.trans(pr),
        tl.trans(pi),
        tl.trans(qr),
        tl.trans(qi),
    )
    s_off, tau, s_ok = _signal_offsets(rows, h, channels, length, NQ, T, QT)
    s_ok = row_ok[:, None] & s_ok[None, :]
    gr = tl.zeros((R, N2), dtype=tl.float32)
    gi = tl.zeros((R, N2), dtype=tl.float32)
    dm = tl.zeros((QT, T), dtype=tl.float32)
    dpr = tl.zeros((QT, N2), dtype=tl.float32)
    dpi = tl.zeros((QT, N2), dtype=tl.float32)
    dqr = tl.zeros((N2, T), dtype=tl.float32)
    dqi = tl.zeros((N2, T), dtype=tl.float32)
    dlr = tl.zeros((N2,), dtype=tl.float32)
    dli = tl.zeros((N2,), dtype=tl.float32)
    dg = tl.zeros((R, T), dtype=tl.float32)
    y_rows = (rows * channels + h) * length
    x_rows = (rows * channels + h) * n_chunks * 2 * N2
    c = n_chunks - 1
    while c >= 0:
        t = c * T + tt
        io_mask = row_ok[:, None] & (t < length)[None, :]
        dy = tl.load(dy_ptr + y_rows[:, None] + t[None, :], mask=io_mask, other=0.0)
        prev_mask = row_ok[:, None] & (nn * 0 + c > 0)[None, :]  # a tensor mask (interpreter)
        x_off = x_rows[:, None] + (c - 1) * 2 * N2 + nn[None, :]
        xr = tl.load(x_ptr + x_off, mask=prev_mask, other=0.0)
        xi = tl.load(x_ptr + x_off + N2, mask=prev_mask, other=0.0)
        chunk_ok = s_ok & (c * T + tau < length)[None, :]
        s = tl.load(s_ptr + s_off + c * T, mask=chunk_ok, other=0.0)
        ds = tl.dot(dy, m_t, input_precision=PREC)
        ds = tl.dot(gr, pr_t, ds, input_precision=PREC)
        ds = tl.dot(gi, pi_t, ds, input_precision=PREC)
        if PB:  # d/du of g u[t-1] v[t] and g u[t] v[t+1], v = tanh(u)
            gain = tl.load(g_ptr + h)
            v = _tanh(s)
            before = _load_shifted(s_ptr, s_off + c * T, t, -1, row_ok[:, None], length)
            after = _load_shifted(s_ptr, s_off + c * T, t, 1, row_ok[:, None], length)
            dy_after = _load_shifted(dy_ptr, y_rows[:, None] + c * T + tt[None, :], t, 1,
                                     row_ok[:, None], length)  # fmt: skip
            ds += gain * (dy * before * (1.0 - v * v) + dy_after * _tanh(after))
            dg += dy * before * v
        tl.store(ds_ptr + s_off + c * T, ds, mask=chunk_ok)
        s_t = tl.trans(s)
        dm = tl.dot(s_t, dy, dm, input_precision=PREC)
        dpr = tl.dot(s_t, gr, dpr, input_precision=PREC)
        dpi = tl.dot(s_t, gi, dpi, input_precision=PREC)
        dqr = tl.dot(tl.trans(xr), dy, dqr, input_precision=PREC)
        dqi = tl.dot(tl.trans(xi), dy, dqi, input_precision=PREC)
        dlr += tl.sum(gr * xr + gi * xi, axis=0)
        dli += tl.sum(gi * xr - gr * xi, axis=0)
        new_gr = tl.dot(dy, qr_t, input_precision=PREC)
        new_gi = -tl.dot(dy, qi_t, input_precision=PREC)
        gr, gi = _complex_scale(gr, gi, lr, -li)
        gr += new_gr
        gi += new_gi
        c -= 1
    _store_diagonal_sums(dtaps_ptr + (block * channels + h) * NQ * T, dm, NQ, T, QT)
    q, s, real = _stacked_index(NQ, T, QT)
    p_off = (((block * channels + h) * NQ * T + q[:, None] * T + s[:, None]) * N2 + nn[None, :]) * 2
    tl.store(dp_ptr + p_off, dpr, mask=real[:, None])
    tl.store(dp_ptr + p_off + 1, dpi, mask=real[:, None])
    last = (tt == T - 1)[None, :]  # lam = Q[:, T-1] / 2
    q_off = (((block * channels + h) * N2 + nn[:, None]) * T + tt[None, :]) * 2
    tl.store(dq_ptr + q_off, dqr + tl.where(last, 0.5 * dlr[:, None], 0.0))
    tl.store(dq_ptr + q_off + 1, -dqi + tl.where(last, 0.5 * dli[:, None], 0.0))
    if PB:
        tl.store(dg_ptr + block * channels + h, tl.sum(tl.sum(dg, axis=1), axis=0))
