"""Triton kernels of the chunked diagonal-SSM convolution (see :mod:`.chunked_conv`).

One program owns one channel ``h`` and ``R`` series (rows). It walks the chunks in order
(forward) or in reverse (backward), keeping the ``R x N2`` complex state (forward) or its
adjoint (backward) in registers; every chunk is a handful of small matrix products
(``tl.dot``) against the channel's ``M``, ``P``, ``Q`` matrices, loaded once per program.
The ``Q`` signals of a chunk are laid side by side (an ``R x QT`` tile, ``QT`` = Q rounded
up to a power of two, times T) so that one product covers all of them and the gradient
accumulators of ``M`` and ``P`` stay in registers.

Backward, with ``G = dL/dX_c`` (real and imaginary parts) and ``X = X_{c-1}`` read back from
the states saved by the forward pass::

    dS_q = dY M_q^T + G_re P_re,q^T + G_im P_im,q^T      dM_q += S_q^T dY
    dP_q += S_q^T G                                      dQ += [X_re, -X_im]^T dY
    dlam += sum_rows (conj(X) G)                         G <- dY [Q_re, -Q_im]^T + conj(lam) G

With ``PB`` (one signal ``u``), the liquid PB term of degree 2, ``g u[t-1] tanh(u[t])``, is
added to ``y`` in the same pass (and its gradients in the backward pass), so it costs no extra
trip through memory.

Parameter gradients are written per row block and summed by the caller (deterministic).
Precision of the products: ``SSLEARN_CHUNK_PRECISION`` (``tf32x3`` by default: three TF32
tensor-core products, close to float32; ``ieee``: plain float32 FMA).
"""

from __future__ import annotations

import os

import triton
import triton.language as tl


def launch_config(batch: int, backward: bool = False) -> dict:
    """Launch settings of the forward or backward kernel.

    Rows per program (a power of two >= 16, ``tl.dot``'s minimum), warps, the product
    precision and whether the operands stay in registers (``HOIST``) or are reloaded from
    L1 every chunk. ``SSLEARN_CHUNK_{ROWS,WARPS,PRECISION,HOIST}`` (``_BWD_`` variants for
    the backward kernel, e.g. ``SSLEARN_CHUNK_BWD_WARPS``) override them for sweeps.
    """

    def setting(name, default):
        generic = os.environ.get(f"SSLEARN_CHUNK_{name}", default)
        return os.environ.get(f"SSLEARN_CHUNK_BWD_{name}", generic) if backward else generic

    return {
        "R": int(setting("ROWS", 16)),
        "num_warps": int(setting("WARPS", 4)),
        "PREC": setting("PRECISION", "tf32x3"),
        "HOIST": setting("HOIST", "1") == "1",
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
def _signal_offsets(rows, h, channels, length, NQ: tl.constexpr, T: tl.constexpr, QT: tl.constexpr):
    """Offsets (R, QT) of the chunk-0 signals of the block, and the mask of real signals."""
    j = tl.arange(0, QT)
    q, tau = j // T, j % T
    off = ((rows[:, None] * NQ + q[None, :]) * channels + h) * length + tau[None, :]
    return off, tau, q < NQ


@triton.jit
def _operator_offsets(h, NQ: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, QT: tl.constexpr):
    """Offsets of the stacked ``M`` (QT, T) and ``P`` (QT, N2) tiles of channel ``h``."""
    j = tl.arange(0, QT)
    q, tau = j // T, j % T
    row = (h * NQ + q) * T + tau
    return (
        row[:, None] * T + tl.arange(0, T)[None, :],
        row[:, None] * N2 + tl.arange(0, N2)[None, :],
        q < NQ,
    )


@triton.jit
def _operands(
    m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, h,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr,
    TRANS: tl.constexpr,
):  # fmt: skip
    """Channel ``h``'s ``M``, ``P_re``, ``P_im`` (QT rows) and ``Q_re``, ``Q_im`` tiles,
    transposed when ``TRANS`` (as the backward products use them)."""
    m_off, p_off, op_ok = _operator_offsets(h, NQ, T, N2, QT)
    nt = tl.arange(0, N2)[:, None] * T + tl.arange(0, T)[None, :]
    m = tl.load(m_ptr + m_off, mask=op_ok[:, None], other=0.0)
    pr = tl.load(pr_ptr + p_off, mask=op_ok[:, None], other=0.0)
    pi = tl.load(pi_ptr + p_off, mask=op_ok[:, None], other=0.0)
    qr = tl.load(qr_ptr + h * N2 * T + nt)
    qi = tl.load(qi_ptr + h * N2 * T + nt)
    if TRANS:
        m, pr, pi, qr, qi = tl.trans(m), tl.trans(pr), tl.trans(pi), tl.trans(qr), tl.trans(qi)
    return m, pr, pi, qr, qi


@triton.jit
def chunked_conv_fwd_kernel(
    s_ptr, y_ptr, x_ptr, g_ptr,
    m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, lr_ptr, li_ptr,
    batch, channels, length, n_chunks,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, HOIST: tl.constexpr, PB: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    rows = tl.program_id(1) * R + tl.arange(0, R)
    row_ok = rows < batch
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    if HOIST:  # operands in registers for the whole walk, else reloaded (L1) every chunk
        m, pr, pi, qr, qi = _operands(
            m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, h, NQ, QT, T, N2, False
        )
    lr = tl.load(lr_ptr + h * N2 + nn)
    li = tl.load(li_ptr + h * N2 + nn)
    s_off, tau, s_ok = _signal_offsets(rows, h, channels, length, NQ, T, QT)
    s_ok = row_ok[:, None] & s_ok[None, :]
    xr = tl.zeros((R, N2), dtype=tl.float32)
    xi = tl.zeros((R, N2), dtype=tl.float32)
    y_rows = (rows * channels + h) * length
    x_rows = (rows * channels + h) * n_chunks * 2 * N2
    c = 0
    while c < n_chunks:  # a while loop: Triton's interpreter cannot range() over an argument
        if not HOIST:
            m, pr, pi, qr, qi = _operands(
                m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, h, NQ, QT, T, N2, False
            )
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
def chunked_conv_bwd_kernel(
    s_ptr, dy_ptr, x_ptr, ds_ptr, dm_ptr, dp_ptr, dq_ptr, dl_ptr, g_ptr, dg_ptr,
    m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, lr_ptr, li_ptr,
    batch, channels, length, n_chunks,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, HOIST: tl.constexpr, PB: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    block = tl.program_id(1)
    rows = block * R + tl.arange(0, R)
    row_ok = rows < batch
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    nt = nn[:, None] * T + tt[None, :]
    m_off, p_off, op_ok = _operator_offsets(h, NQ, T, N2, QT)
    if HOIST:
        m_t, pr_t, pi_t, qr_t, qi_t = _operands(
            m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, h, NQ, QT, T, N2, True
        )
    lr = tl.load(lr_ptr + h * N2 + nn)
    li = tl.load(li_ptr + h * N2 + nn)
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
        if not HOIST:
            m_t, pr_t, pi_t, qr_t, qi_t = _operands(
                m_ptr, pr_ptr, pi_ptr, qr_ptr, qi_ptr, h, NQ, QT, T, N2, True
            )
        t = c * T + tt
        io_mask = row_ok[:, None] & (t < length)[None, :]
        dy = tl.load(dy_ptr + y_rows[:, None] + t[None, :], mask=io_mask, other=0.0)
        prev_mask = row_ok[:, None] & (c > 0)
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
    block_m = block * channels * NQ * T * T
    tl.store(dm_ptr + block_m + m_off, dm, mask=op_ok[:, None])
    block_p = block * 2 * channels * NQ * T * N2
    tl.store(dp_ptr + block_p + p_off, dpr, mask=op_ok[:, None])
    tl.store(dp_ptr + block_p + channels * NQ * T * N2 + p_off, dpi, mask=op_ok[:, None])
    q_base = (block * 2 * channels + h) * N2 * T
    tl.store(dq_ptr + q_base + nt, dqr)
    tl.store(dq_ptr + q_base + channels * N2 * T + nt, -dqi)
    l_base = (block * 2 * channels + h) * N2
    tl.store(dl_ptr + l_base + nn, dlr)
    tl.store(dl_ptr + l_base + channels * N2 + nn, dli)
    if PB:
        tl.store(dg_ptr + block * channels + h, tl.sum(tl.sum(dg, axis=1), axis=0))
