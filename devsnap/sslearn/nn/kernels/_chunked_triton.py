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

Segments: with few programs (small batches, long series) each series is also split into
segments of ``K`` chunks run by separate programs (grid axis 2). A short pre-pass
(:func:`chunked_conv_seg_fwd_kernel`) computes every segment's end state from a zero start,
``E_j``; the program of segment ``s`` then starts from ``X = sum_{j<s} lam^(K (s-1-j)) E_j``
(combined in registers). The backward pass mirrors it with the adjoints entering each segment
from the right (:func:`chunked_conv_seg_bwd_kernel`, ``conj(lam)``). The pre-pass reads the
signals (or ``dy``) once more but multiplies the number of programs by the segment count.

Each loop loads the next chunk's tiles before working on the current one (software
prefetch), so the memory latency overlaps the chunk's products.

Parameter gradients are written per row block and segment and summed by the caller
(deterministic).
Precision of the products: ``SSLEARN_CHUNK_PRECISION`` (``tf32x3`` by default: three TF32
tensor-core products, close to float32; ``ieee``: plain float32 FMA; ``tf32``: one TF32
product, ~1e-3 relative error).
"""

from __future__ import annotations

import functools
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


def segment_chunks(
    programs: int, n_chunks: int, multiprocessors: int, segments: int | None = None
) -> int:
    """Chunks per segment ``K`` (``ceil(n_chunks / K)`` segments per series).

    ``programs`` is the count without segments (channels x row blocks). Segments only pay
    when the GPU would otherwise idle: the pre-pass repeats 2 of the forward pass's 5
    products (and 2 of the backward pass's 10), so with at least one program per SM there
    are none. Below that the count fills about two programs per SM without starting a
    second, partly empty wave (two or three of these programs fit on an SM at once), each
    segment at least 4 chunks long (``benchmarks/sweep_segments.py``). ``segments`` (or
    ``SSLEARN_CHUNK_SEGMENTS``, for sweeps) forces a count (``1``: no segments).
    """
    forced = segments or int(os.environ.get("SSLEARN_CHUNK_SEGMENTS", 0))
    if forced:
        count = min(forced, n_chunks)
    elif programs >= multiprocessors:
        count = 1
    else:
        count = max(1, min(2 * multiprocessors // programs, n_chunks // 4))
    return -(-n_chunks // count)


def multiprocessors(device) -> int:
    """SMs of a CUDA device (a nominal 4 for Triton's CPU interpreter)."""
    return _multiprocessors(device.index) if device.type == "cuda" else 4


@functools.cache
def _multiprocessors(index) -> int:
    import torch

    return torch.cuda.get_device_properties(index).multi_processor_count


@triton.jit
def _complex_scale(xr, xi, lr, li):
    """``lam * x`` for ``x`` of shape (R, N2) and ``lam`` of shape (N2,)."""
    return xr * lr[None, :] - xi * li[None, :], xr * li[None, :] + xi * lr[None, :]


@triton.jit
def _complex_power(lr, li, k):
    """``lam ** k`` (``k >= 0`` a runtime integer) by repeated multiplication."""
    pr = lr * 0.0 + 1.0
    pi = li * 0.0
    i = 0
    while i < k:
        pr, pi = pr * lr - pi * li, pr * li + pi * lr
        i += 1
    return pr, pi


@triton.jit
def _combine_segments(ptr, rows_off, row_ok, first, last, step, kr, ki, R: tl.constexpr,
                      N2: tl.constexpr):  # fmt: skip
    """``X = sum_j k^(|j - last|) E_j`` over ``j = first, first + step, .., last`` (Horner).

    ``E_j`` sits at ``ptr + rows_off + j * 2 N2`` (real parts, then imaginary parts).
    """
    nn = tl.arange(0, N2)
    xr = tl.zeros((R, N2), dtype=tl.float32)
    xi = tl.zeros((R, N2), dtype=tl.float32)
    j = first
    while (j - last) * step <= 0:
        off = rows_off[:, None] + j * 2 * N2 + nn[None, :]
        xr, xi = _complex_scale(xr, xi, kr, ki)
        xr += tl.load(ptr + off, mask=row_ok[:, None], other=0.0)
        xi += tl.load(ptr + off + N2, mask=row_ok[:, None], other=0.0)
        j += step
    return xr, xi


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
def _signal_offsets(
    rows, h, channels, length, NQ: tl.constexpr, T: tl.constexpr, QT: tl.constexpr,
    LAG: tl.constexpr,
):  # fmt: skip
    """Offsets (R, QT) of the chunk-0 signals of the block, and the mask of real signals.

    With ``LAG`` the memory holds one signal ``u`` and every stacked signal points at it
    (the second one becomes the lagged product in :func:`_stacked_tile`).
    """
    q, tau, real = _stacked_index(NQ, T, QT)
    if LAG:
        off = (rows[:, None] * channels + h) * length + tau[None, :] + 0 * q[None, :]
    else:
        off = ((rows[:, None] * NQ + q[None, :]) * channels + h) * length + tau[None, :]
    return off, tau, real


@triton.jit
def _lagged_factors(raw, s_ptr, s_off, c, T: tl.constexpr, tau, ok, length):
    """``u[t-1]`` and ``tanh(u[t])`` over the stacked tile ``raw`` of ``u`` (``LAG``)."""
    return _load_chunk(s_ptr, s_off - 1, c, T, tau - 1, ok, length), _tanh(raw)


@triton.jit
def _stacked_tile(raw, s_ptr, s_off, c, T: tl.constexpr, tau, ok, length, NQ: tl.constexpr,
                  QT: tl.constexpr, LAG: tl.constexpr):  # fmt: skip
    """The chunk's stacked signals from the loaded tile ``raw``: itself, or with ``LAG`` the
    lagged product ``u[t-1] tanh(u[t])`` in place of the second signal."""
    if LAG:
        q, _, _ = _stacked_index(NQ, T, QT)
        before, v = _lagged_factors(raw, s_ptr, s_off, c, T, tau, ok, length)
        return tl.where((q == 1)[None, :], before * v, raw)
    return raw


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
def _segment(n_chunks, seg_chunks):
    """The chunks ``[c0, c1)`` of this program's segment (grid axis 2)."""
    seg = tl.program_id(2)
    c0 = seg * seg_chunks
    return seg, c0, tl.minimum(c0 + seg_chunks, n_chunks)


@triton.jit
def _load_chunk(ptr, off, c, T: tl.constexpr, tau, ok, length):
    """The (R, QT) signal tile of chunk ``c`` (zero past ``length``)."""
    t = c * T + tau
    return tl.load(ptr + off + c * T, mask=ok & ((t >= 0) & (t < length))[None, :], other=0.0)


@triton.jit
def chunked_conv_seg_fwd_kernel(
    s_ptr, e_ptr, taps_ptr, skip_ptr, p_ptr, q_ptr,
    batch, channels, length, n_chunks, seg_chunks, n_seg,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, LAG: tl.constexpr,
):  # fmt: skip
    """Pre-pass: the end state ``E_s`` of every segment but the last, from a zero start."""
    h = tl.program_id(0)
    rows = tl.program_id(1) * R + tl.arange(0, R)
    row_ok = rows < batch
    nn = tl.arange(0, N2)
    _, pr, pi, _, _, lr, li = _operands(taps_ptr, skip_ptr, p_ptr, q_ptr, h, NQ, QT, T, N2)
    s_off, tau, s_ok = _signal_offsets(rows, h, channels, length, NQ, T, QT, LAG)
    s_ok = row_ok[:, None] & s_ok[None, :]
    seg, c, c1 = _segment(n_chunks, seg_chunks)
    xr = tl.zeros((R, N2), dtype=tl.float32)
    xi = tl.zeros((R, N2), dtype=tl.float32)
    s = _load_chunk(s_ptr, s_off, c, T, tau, s_ok, length)
    while c < c1:
        s_next = _load_chunk(s_ptr, s_off, c + 1, T, tau, s_ok, length)
        s = _stacked_tile(s, s_ptr, s_off, c, T, tau, s_ok, length, NQ, QT, LAG)
        xr, xi = _complex_scale(xr, xi, lr, li)
        xr = tl.dot(s, pr, xr, input_precision=PREC)
        xi = tl.dot(s, pi, xi, input_precision=PREC)
        s = s_next
        c += 1
    e_off = ((rows * channels + h) * n_seg + seg)[:, None] * 2 * N2 + nn[None, :]
    tl.store(e_ptr + e_off, xr, mask=row_ok[:, None])
    tl.store(e_ptr + e_off + N2, xi, mask=row_ok[:, None])


@triton.jit
def chunked_conv_fwd_kernel(
    s_ptr, y_ptr, x_ptr, e_ptr, g_ptr, skip_ptr, taps_ptr, p_ptr, q_ptr,
    batch, channels, length, n_chunks, seg_chunks, n_seg,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, PB: tl.constexpr, LAG: tl.constexpr,
):  # fmt: skip
    h = tl.program_id(0)
    rows = tl.program_id(1) * R + tl.arange(0, R)
    row_ok = rows < batch
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    m, pr, pi, qr, qi, lr, li = _operands(taps_ptr, skip_ptr, p_ptr, q_ptr, h, NQ, QT, T, N2)
    s_off, tau, s_ok = _signal_offsets(rows, h, channels, length, NQ, T, QT, LAG)
    s_ok = row_ok[:, None] & s_ok[None, :]
    seg, c, c1 = _segment(n_chunks, seg_chunks)
    kr, ki = _complex_power(lr, li, seg_chunks)
    e_rows = (rows * channels + h) * n_seg * 2 * N2
    xr, xi = _combine_segments(e_ptr, e_rows, row_ok, 0, seg - 1, 1, kr, ki, R, N2)
    y_rows = (rows * channels + h) * length
    x_rows = (rows * channels + h) * n_chunks * 2 * N2
    s = _load_chunk(s_ptr, s_off, c, T, tau, s_ok, length)
    while c < c1:  # a while loop: Triton's interpreter cannot range() over an argument
        s_next = _load_chunk(s_ptr, s_off, c + 1, T, tau, s_ok, length)
        s = _stacked_tile(s, s_ptr, s_off, c, T, tau, s_ok, length, NQ, QT, LAG)
        t = c * T + tt
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
        s = s_next
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
def _adjoint_step(gr, gi, dy, qr_t, qi_t, lr, li, PREC: tl.constexpr):
    """``G <- dY [Q_re, -Q_im]^T + conj(lam) G`` (the adjoint of the state before a chunk)."""
    new_gr = tl.dot(dy, qr_t, input_precision=PREC)
    new_gi = -tl.dot(dy, qi_t, input_precision=PREC)
    gr, gi = _complex_scale(gr, gi, lr, -li)
    return gr + new_gr, gi + new_gi


@triton.jit
def _load_rows(ptr, rows_off, t, ok, length):
    """The (R, T) tile of ``y``-shaped data at times ``t``."""
    inside = (t >= 0) & (t < length)
    return tl.load(ptr + rows_off[:, None] + t[None, :], mask=ok[:, None] & inside[None, :],
                   other=0.0)  # fmt: skip


@triton.jit
def chunked_conv_seg_bwd_kernel(
    dy_ptr, f_ptr, q_ptr,
    batch, channels, length, n_chunks, seg_chunks, n_seg,
    T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    """Pre-pass: the adjoint ``F_s`` entering every segment but the first from its own ``dy``
    (zero adjoint at its end); grid axis 2 counts segments from 1."""
    h = tl.program_id(0)
    rows = tl.program_id(1) * R + tl.arange(0, R)
    row_ok = rows < batch
    tt = tl.arange(0, T)
    nn = tl.arange(0, N2)
    q_off = ((h * N2 + nn[None, :]) * T + tt[:, None]) * 2  # Q^T: (T, N2)
    qr_t = tl.load(q_ptr + q_off)
    qi_t = tl.load(q_ptr + q_off + 1)
    lam_off = ((h * N2 + nn) * T + T - 1) * 2
    lr = 0.5 * tl.load(q_ptr + lam_off)
    li = 0.5 * tl.load(q_ptr + lam_off + 1)
    seg = tl.program_id(2) + 1
    c0 = seg * seg_chunks
    c = tl.minimum(c0 + seg_chunks, n_chunks) - 1
    y_rows = (rows * channels + h) * length
    gr = tl.zeros((R, N2), dtype=tl.float32)
    gi = tl.zeros((R, N2), dtype=tl.float32)
    dy = _load_rows(dy_ptr, y_rows, c * T + tt, row_ok, length)
    while c >= c0:
        dy_next = _load_rows(dy_ptr, y_rows, (c - 1) * T + tt, row_ok, length)
        gr, gi = _adjoint_step(gr, gi, dy, qr_t, qi_t, lr, li, PREC)
        dy = dy_next
        c -= 1
    f_off = ((rows * channels + h) * n_seg + seg)[:, None] * 2 * N2 + nn[None, :]
    tl.store(f_ptr + f_off, gr, mask=row_ok[:, None])
    tl.store(f_ptr + f_off + N2, gi, mask=row_ok[:, None])


@triton.jit
def _load_state(x_ptr, x_rows, c, ok, N2: tl.constexpr):
    """The saved state after chunk ``c`` (zero for ``c < 0``), real and imaginary parts."""
    nn = tl.arange(0, N2)
    mask = ok[:, None] & (nn * 0 + c >= 0)[None, :]  # a tensor mask (interpreter)
    off = x_rows[:, None] + c * 2 * N2 + nn[None, :]
    return tl.load(x_ptr + off, mask=mask, other=0.0), tl.load(x_ptr + off + N2, mask=mask,
                                                               other=0.0)  # fmt: skip


@triton.jit
def _fold_lagged_grad(ds, before, v, carry, du_ptr, rows_off, c, row_ok, length,
                      T: tl.constexpr, QT: tl.constexpr, R: tl.constexpr):  # fmt: skip
    """Store the chunk's ``du`` from the stacked gradients ``ds = [ds_u, ds_p]`` of ``u`` and
    of the lagged product ``p[t] = u[t-1] v[t]``, ``v = tanh(u)``; return the next carry.

    ``du[t] = ds_u[t] + ds_p[t] u[t-1] (1 - v[t]^2) + r[t+1]`` with ``r = ds_p v``. The
    shift of ``r`` goes through the chunk's own ``du`` tile in memory (stored, re-read one
    step later, then overwritten; the barriers order the threads); ``r`` of the chunk's
    last step comes from ``carry``, the ``r`` of the first step of the chunk after it (zero
    at the end of a series or of a segment, see :func:`chunked_conv_bwd_kernel`).
    """
    second = (tl.arange(0, QT) // T == 1)[None, :]
    local = tl.sum(tl.reshape(tl.where(second, ds * before * (1.0 - v * v), ds), (R, 2, T)),
                   axis=1)  # fmt: skip
    r = tl.sum(tl.reshape(tl.where(second, ds * v, 0.0), (R, 2, T)), axis=1)
    tt = tl.arange(0, T)
    t = c * T + tt
    io = row_ok[:, None] & (t < length)[None, :]
    ptrs = du_ptr + rows_off[:, None] + t[None, :]
    tl.store(ptrs, r, mask=io)
    tl.debug_barrier()
    shifted = tl.load(ptrs + 1, mask=io & ((tt < T - 1) & (t + 1 < length))[None, :], other=0.0)
    first = tl.load(du_ptr + rows_off + c * T, mask=row_ok, other=0.0)  # c T < length
    tl.debug_barrier()
    shifted = tl.where((tt == T - 1)[None, :], carry[:, None], shifted)
    tl.store(ptrs, local + shifted, mask=io)
    return first


@triton.jit
def chunked_conv_bwd_kernel(
    s_ptr, dy_ptr, x_ptr, f_ptr, ds_ptr, rf_ptr, dtaps_ptr, dp_ptr, dq_ptr, g_ptr, dg_ptr,
    skip_ptr, taps_ptr, p_ptr, q_ptr,
    batch, channels, length, n_chunks, seg_chunks, n_seg,
    NQ: tl.constexpr, QT: tl.constexpr, T: tl.constexpr, N2: tl.constexpr, R: tl.constexpr,
    PREC: tl.constexpr, PB: tl.constexpr, LAG: tl.constexpr,
):  # fmt: skip
    """With ``LAG``, ``ds`` receives the gradient of ``u`` (B, 1, H, L) through both stacked
    signals (:func:`_fold_lagged_grad`) and ``rf`` (B, H, n_seg) each segment's ``r`` at its
    first step, which the caller adds to the step before (the end of the segment before)."""
    h = tl.program_id(0)
    rows = tl.program_id(1) * R + tl.arange(0, R)
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
    s_off, tau, s_ok = _signal_offsets(rows, h, channels, length, NQ, T, QT, LAG)
    ds_off, _, _ = _signal_offsets(rows, h, channels, length, NQ, T, QT, False)
    s_ok = row_ok[:, None] & s_ok[None, :]
    seg, c0, c1 = _segment(n_chunks, seg_chunks)
    kr, ki = _complex_power(lr, -li, seg_chunks)
    f_rows = (rows * channels + h) * n_seg * 2 * N2
    gr, gi = _combine_segments(f_ptr, f_rows, row_ok, n_seg - 1, seg + 1, -1, kr, ki, R, N2)
    dm = tl.zeros((QT, T), dtype=tl.float32)
    dpr = tl.zeros((QT, N2), dtype=tl.float32)
    dpi = tl.zeros((QT, N2), dtype=tl.float32)
    dqr = tl.zeros((N2, T), dtype=tl.float32)
    dqi = tl.zeros((N2, T), dtype=tl.float32)
    dlr = tl.zeros((N2,), dtype=tl.float32)
    dli = tl.zeros((N2,), dtype=tl.float32)
    dg = tl.zeros((R, T), dtype=tl.float32)
    carry = tl.zeros((R,), dtype=tl.float32)  # LAG: r at the first step of the chunk after
    lag_column = (tl.arange(0, QT) // T == 1)[None, :]  # LAG: the product's columns
    y_rows = (rows * channels + h) * length
    x_rows = (rows * channels + h) * n_chunks * 2 * N2
    c = c1 - 1
    dy = _load_rows(dy_ptr, y_rows, c * T + tt, row_ok, length)
    xr, xi = _load_state(x_ptr, x_rows, c - 1, row_ok, N2)
    s = _load_chunk(s_ptr, s_off, c, T, tau, s_ok, length)
    while c >= c0:
        dy_next = _load_rows(dy_ptr, y_rows, (c - 1) * T + tt, row_ok, length)
        xr_next, xi_next = _load_state(x_ptr, x_rows, c - 2, row_ok, N2)
        s_next = _load_chunk(s_ptr, s_off, c - 1, T, tau, s_ok, length)
        if LAG:
            before, v = _lagged_factors(s, s_ptr, s_off, c, T, tau, s_ok, length)
            s = tl.where(lag_column, before * v, s)  # as _stacked_tile
        t = c * T + tt
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
        if LAG:
            carry = _fold_lagged_grad(ds, before, v, carry, ds_ptr, y_rows, c, row_ok, length,
                                      T, QT, R)  # fmt: skip
        else:
            tl.store(ds_ptr + ds_off + c * T, ds, mask=s_ok & (c * T + tau < length)[None, :])
        s_t = tl.trans(s)
        dm = tl.dot(s_t, dy, dm, input_precision=PREC)
        dpr = tl.dot(s_t, gr, dpr, input_precision=PREC)
        dpi = tl.dot(s_t, gi, dpi, input_precision=PREC)
        dqr = tl.dot(tl.trans(xr), dy, dqr, input_precision=PREC)
        dqi = tl.dot(tl.trans(xi), dy, dqi, input_precision=PREC)
        dlr += tl.sum(gr * xr + gi * xi, axis=0)
        dli += tl.sum(gi * xr - gr * xi, axis=0)
        gr, gi = _adjoint_step(gr, gi, dy, qr_t, qi_t, lr, li, PREC)
        dy, xr, xi, s = dy_next, xr_next, xi_next, s_next
        c -= 1
    part = tl.program_id(1) * tl.num_programs(2) + seg  # this program's slot of the partials
    _store_diagonal_sums(dtaps_ptr + (part * channels + h) * NQ * T, dm, NQ, T, QT)
    q, sq, real = _stacked_index(NQ, T, QT)
    p_off = (((part * channels + h) * NQ * T + q[:, None] * T + sq[:, None]) * N2 + nn[None, :]) * 2
    tl.store(dp_ptr + p_off, dpr, mask=real[:, None])
    tl.store(dp_ptr + p_off + 1, dpi, mask=real[:, None])
    last = (tt == T - 1)[None, :]  # lam = Q[:, T-1] / 2
    q_off = (((part * channels + h) * N2 + nn[:, None]) * T + tt[None, :]) * 2
    tl.store(dq_ptr + q_off, dqr + tl.where(last, 0.5 * dlr[:, None], 0.0))
    tl.store(dq_ptr + q_off + 1, -dqi + tl.where(last, 0.5 * dli[:, None], 0.0))
    if PB:
        tl.store(dg_ptr + part * channels + h, tl.sum(tl.sum(dg, axis=1), axis=0))
    if LAG:
        tl.store(rf_ptr + (rows * channels + h) * n_seg + seg, carry, mask=row_ok)
