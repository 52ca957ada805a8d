"""Triton kernels for the exact liquid recurrence of diagonal systems.

One program owns ``BR`` rows (a row = one (batch, channel) pair) and all ``N/2`` complex
states of each row; it walks time sequentially, keeping the state in registers:

    a_k = cap(Abar + Bbar v_k),  x_k = a_k x_{k-1} + Bbar u_k,  y_k = 2 Re sum_n C_n x_k[n]

with ``cap(p) = p / max(1, |p|)``. The kernels carry ``z = x / Bbar`` instead of ``x``
(``x = Bbar z``, nothing is divided): ``z_k = a_k z_{k-1} + u_k`` and
``y_k = 2 Re sum_n (C Bbar)_n z_k[n]``, two fewer instructions per state-step forward and
four fewer backward. The forward pass stores ``z`` every ``CHUNK`` steps. The backward pass
walks the chunks in reverse: it recomputes a chunk's states from its checkpoint, then runs
the adjoint recurrence ``G_k = 2 dy_k conj(C Bbar) + conj(a_{k+1}) G_{k+1}`` backwards
through the chunk, accumulating the parameter gradients per row (summed over the batch by
the caller); the gradient of ``C Bbar`` is split into those of ``C`` and ``Bbar`` once per
row at the end.

Two implementations share the checkpoint layout ``(n_rows, n_chunks, 2, n_states)``, so
either backward accepts either forward's checkpoints:

``stepwise``
    A runtime loop over the steps of a chunk: per-step loads of ``u``/``v``/``dy``, per-step
    stores of ``y``/``du``/``dv``; the backward recomputes a chunk into a per-program global
    scratch buffer (L1/L2 resident) and reads it back in reverse.
``blocked``
    The steps of a chunk are unrolled at compile time (``CHUNK`` must be a power of two).
    ``u``/``v``/``dy`` are loaded as one ``[BR, CHUNK]`` tile per chunk and split into
    per-step vectors held in registers (a ``tl.split`` tree: no cross-lane reduction);
    ``y``/``du``/``dv`` are collected per step and joined back into one ``[BR, CHUNK]`` tile
    (a ``tl.join`` tree), stored once per chunk. The backward keeps the recomputed chunk
    states and multipliers in registers (tuples of per-step tensors, indexed by
    compile-time constants) instead of the global scratch buffer; that bounds ``CHUNK``
    (at 4 states per thread, ``CHUNK = 8`` fits in 255 registers, 16 spills).

With ``FUSED`` (the liquid layer's own use) the kernels take ``v = tanh(u)`` from ``u``
instead of reading ``v``, add the skip ``D u`` to ``y``, and in the backward pass write one
input gradient ``du + dv (1 - v^2) + D dy`` and per-row partials of ``dD``: the layer's
``tanh`` and skip then cost no passes of their own.

``liquid_scan_fwd_kernel`` and ``liquid_scan_bwd_kernel`` are launchers with the call
signature of a Triton kernel (``kernel[grid](...)``) that run the configured variant, see
:func:`scan_config`.
"""

# The kernels grow tuples by concatenation: the Triton compiler has no starred expressions.
# ruff: noqa: RUF005

from __future__ import annotations

import os

import triton
import triton.language as tl

from sslearn.nn.kernels._chunked_triton import _tanh

VARIANTS = ("stepwise", "blocked")
DEFAULT_VARIANT = "blocked"  # 1.5-2.0x faster than stepwise on an H100 (benchmarks/sweep_scan.py)


# ----------------------------------------------------------------------------------------
# shared pieces
# ----------------------------------------------------------------------------------------


@triton.jit
def _load_params(ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, off, mask):
    """Real and imaginary parts of Abar, Bbar and C at ``off`` (zero where masked)."""
    ar = tl.load(ar_ptr + off, mask=mask, other=0.0)
    ai = tl.load(ai_ptr + off, mask=mask, other=0.0)
    br = tl.load(br_ptr + off, mask=mask, other=0.0)
    bi = tl.load(bi_ptr + off, mask=mask, other=0.0)
    cr = tl.load(cr_ptr + off, mask=mask, other=0.0)
    ci = tl.load(ci_ptr + off, mask=mask, other=0.0)
    return ar, ai, br, bi, cr, ci


@triton.jit
def _program_tile(pid, n_rows, n_channels, n_states, n_chunks, BR: tl.constexpr, BN: tl.constexpr):
    """Index tensors of one program's ``[BR, BN]`` (rows x states) tile.

    Returns
    -------
    rows, states : tensors
        Global row indices ``[BR]`` and state indices ``[BN]``.
    row_ok : tensor
        ``[BR]`` rows that exist.
    mask : tensor
        ``[BR, BN]`` elements that exist.
    param_off, ckpt_off : tensors
        ``[BR, BN]`` offsets into the ``(H, N/2)`` parameters and into the
        ``(n_rows, n_chunks, 2, n_states)`` checkpoints (chunk 0, real part).
    """
    rows = pid * BR + tl.arange(0, BR)
    states = tl.arange(0, BN)
    row_ok = rows < n_rows
    mask = row_ok[:, None] & (states < n_states)[None, :]
    param_off = (rows % n_channels)[:, None] * n_states + states[None, :]
    ckpt_off = rows[:, None] * (n_chunks * 2 * n_states) + states[None, :]
    return rows, states, row_ok, mask, param_off, ckpt_off


@triton.jit
def _output_weights(br, bi, cr, ci):
    """``C Bbar``, the output weights of the scaled state ``z = x / Bbar``."""
    return cr * br - ci * bi, cr * bi + ci * br


@triton.jit
def _advance(zr, zi, a_r, a_i, u):
    """One step of the recurrence, ``z <- a z + u`` (``u`` broadcasts over the states)."""
    return a_r * zr - a_i * zi + u, a_r * zi + a_i * zr


@triton.jit
def _store_checkpoint(ckpt_ptr, base, n_states, xr, xi, mask):
    """Store a chunk's start state at ``base`` (real part, then imaginary part)."""
    tl.store(ckpt_ptr + base, xr, mask=mask)
    tl.store(ckpt_ptr + base + n_states, xi, mask=mask)


@triton.jit
def _load_checkpoint(ckpt_ptr, base, n_states, mask):
    """Load a chunk's start state stored by :func:`_store_checkpoint`."""
    xr = tl.load(ckpt_ptr + base, mask=mask, other=0.0)
    xi = tl.load(ckpt_ptr + base + n_states, mask=mask, other=0.0)
    return xr, xi


@triton.jit
def _store_param_grads(grad_ptr, rows, states, mask, n_rows, n_states, grads, br, bi, cr, ci):
    """Store the six per-row gradient planes ``(6, n_rows, n_states)`` of (Abar re, Abar im,
    Bbar re, Bbar im, C re, C im).

    ``grads`` holds the gradients of (Abar re, Abar im, Bbar re, Bbar im, W re, W im) with
    ``Bbar`` only through the multiplier and ``W = C Bbar`` the output weights; the chain
    rule through ``W`` adds ``G_W conj(C)`` to ``Bbar``'s and gives ``C`` ``G_W conj(Bbar)``.
    """
    g_ar, g_ai, g_br, g_bi, g_wr, g_wi = grads
    out = rows[:, None] * n_states + states[None, :]
    plane = n_rows * n_states
    tl.store(grad_ptr + out, g_ar, mask=mask)
    tl.store(grad_ptr + plane + out, g_ai, mask=mask)
    tl.store(grad_ptr + 2 * plane + out, g_br + g_wr * cr + g_wi * ci, mask=mask)
    tl.store(grad_ptr + 3 * plane + out, g_bi + g_wi * cr - g_wr * ci, mask=mask)
    tl.store(grad_ptr + 4 * plane + out, g_wr * br + g_wi * bi, mask=mask)
    tl.store(grad_ptr + 5 * plane + out, g_wi * br - g_wr * bi, mask=mask)


# ----------------------------------------------------------------------------------------
# stepwise variant
# ----------------------------------------------------------------------------------------


@triton.jit
def _capped_multiplier(ar, ai, br, bi, v):
    pr = ar + br * v[:, None]
    pi = ai + bi * v[:, None]
    modulus2 = pr * pr + pi * pi
    # one rsqrt (a single special-function op) instead of sqrt + an IEEE division
    inv = tl.where(modulus2 > 1.0, tl.math.rsqrt(tl.maximum(modulus2, 1.0)), 1.0)
    return pr * inv, pi * inv, inv


@triton.jit
def _row_skip(skip_ptr, rows, row_ok, n_channels, FUSED: tl.constexpr):
    """The skip ``D`` of each row's channel (zeros unless ``FUSED``), ``[BR]``."""
    if FUSED:
        return tl.load(skip_ptr + rows % n_channels, mask=row_ok, other=0.0)
    return tl.zeros(rows.shape, dtype=tl.float32)


@triton.jit
def _liquid_input(v_ptrs, u, mask, FUSED: tl.constexpr):
    """The liquid input ``v``: loaded, or with ``FUSED`` computed as ``tanh(u)``."""
    if FUSED:
        return _tanh(u)
    return tl.load(v_ptrs, mask=mask, other=0.0)


@triton.jit
def stepwise_fwd_kernel(
    u_ptr, v_ptr, y_ptr, ckpt_ptr,
    ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, skip_ptr,
    n_rows, n_channels, length, n_states, n_chunks,
    CHUNK: tl.constexpr, BR: tl.constexpr, BN: tl.constexpr, FUSED: tl.constexpr,
):  # fmt: skip
    rows, _states, row_ok, mask, param_off, ckpt_off = _program_tile(
        tl.program_id(0), n_rows, n_channels, n_states, n_chunks, BR, BN
    )
    ar, ai, br, bi, cr, ci = _load_params(
        ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, param_off, mask
    )
    wr, wi = _output_weights(br, bi, cr, ci)
    xr = tl.zeros((BR, BN), dtype=tl.float32)
    xi = tl.zeros((BR, BN), dtype=tl.float32)
    zero = tl.zeros((BR,), dtype=tl.int32)
    skip = _row_skip(skip_ptr, rows, row_ok, n_channels, FUSED)
    u = tl.load(u_ptr + rows * length, mask=row_ok, other=0.0)
    v = _liquid_input(v_ptr + rows * length, u, row_ok, FUSED)
    c = 0
    while c < n_chunks:  # a while loop: runtime trip counts also work in the interpreter
        _store_checkpoint(ckpt_ptr, ckpt_off + c * 2 * n_states, n_states, xr, xi, mask)
        for j in range(0, CHUNK):
            k = c * CHUNK + j
            ok = row_ok & (zero + k < length)
            # prefetch step k + 1 so its load latency hides behind this step's arithmetic
            ahead = row_ok & (zero + k + 1 < length)
            u_next = tl.load(u_ptr + rows * length + k + 1, mask=ahead, other=0.0)
            v_next = _liquid_input(v_ptr + rows * length + k + 1, u_next, ahead, FUSED)
            a_r, a_i, _ = _capped_multiplier(ar, ai, br, bi, v)
            xr, xi = _advance(xr, xi, a_r, a_i, u[:, None])
            y = 2.0 * tl.sum(wr * xr - wi * xi, axis=1) + skip * u
            tl.store(y_ptr + rows * length + k, y, mask=ok)
            u, v = u_next, v_next
        c += 1


@triton.jit
def stepwise_bwd_kernel(
    u_ptr, v_ptr, dy_ptr, ckpt_ptr, scratch_ptr, du_ptr, dv_ptr, grad_ptr,
    ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, skip_ptr, dskip_ptr,
    n_rows, n_channels, length, n_states, n_chunks,
    CHUNK: tl.constexpr, BR: tl.constexpr, BN: tl.constexpr, FUSED: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    rows, states, row_ok, mask, param_off, ckpt_off = _program_tile(
        pid, n_rows, n_channels, n_states, n_chunks, BR, BN
    )
    ar, ai, br, bi, cr, ci = _load_params(
        ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, param_off, mask
    )
    wr, wi = _output_weights(br, bi, cr, ci)
    zero = tl.zeros((BR, BN), dtype=tl.float32)
    g_ar, g_ai, g_br, g_bi, g_wr, g_wi = zero, zero, zero, zero, zero, zero
    carry_r, carry_i = zero, zero  # conj(a_{k+1}) G_{k+1}
    skip = _row_skip(skip_ptr, rows, row_ok, n_channels, FUSED)
    d_skip = tl.zeros((BR,), dtype=tl.float32)
    # scratch layout per program: (CHUNK + 1, 2, BR, BN); slot 0 holds the chunk's start state
    tile = tl.arange(0, BR)[:, None] * BN + states[None, :]
    scratch = scratch_ptr + pid * (CHUNK + 1) * 2 * BR * BN + tile
    c = n_chunks - 1
    while c >= 0:
        xr, xi = _load_checkpoint(ckpt_ptr, ckpt_off + c * 2 * n_states, n_states, mask)
        tl.store(scratch, xr)
        tl.store(scratch + BR * BN, xi)
        for j in range(0, CHUNK):  # recompute the chunk's states
            k = c * CHUNK + j
            ok = row_ok & (tl.zeros((BR,), dtype=tl.int32) + k < length)
            u = tl.load(u_ptr + rows * length + k, mask=ok, other=0.0)
            v = _liquid_input(v_ptr + rows * length + k, u, ok, FUSED)
            a_r, a_i, _ = _capped_multiplier(ar, ai, br, bi, v)
            xr, xi = _advance(xr, xi, a_r, a_i, u[:, None])
            slot = scratch + (j + 1) * 2 * BR * BN
            tl.store(slot, xr)
            tl.store(slot + BR * BN, xi)
        tl.debug_barrier()
        for jj in range(0, CHUNK):  # adjoint, backwards through the chunk
            j = CHUNK - 1 - jj
            k = c * CHUNK + j
            ok = row_ok & (tl.zeros((BR,), dtype=tl.int32) + k < length)
            live = mask & ok[:, None]
            slot = scratch + (j + 1) * 2 * BR * BN
            xr = tl.load(slot)
            xi = tl.load(slot + BR * BN)
            pr = tl.load(slot - 2 * BR * BN)
            pi = tl.load(slot - BR * BN)
            u = tl.load(u_ptr + rows * length + k, mask=ok, other=0.0)
            v = _liquid_input(v_ptr + rows * length + k, u, ok, FUSED)
            dy = tl.load(dy_ptr + rows * length + k, mask=ok, other=0.0)
            # total adjoint of z_k (zero past the end of the sequence)
            gr = tl.where(live, 2.0 * dy[:, None] * wr + carry_r, 0.0)
            gi = tl.where(live, -2.0 * dy[:, None] * wi + carry_i, 0.0)
            g_wr += 2.0 * dy[:, None] * xr
            g_wi += -2.0 * dy[:, None] * xi
            # z_k = a_k z_{k-1} + u_k
            a_r, a_i, inv = _capped_multiplier(ar, ai, br, bi, v)
            ga_r = gr * pr + gi * pi  # G conj(z_{k-1})
            ga_i = gi * pr - gr * pi
            du = tl.sum(gr, axis=1)
            # a = p / max(1, |p|): G_p = (G_a - a Re(conj(a) G_a)) / |p| where capped
            capped = inv < 1.0
            s = a_r * ga_r + a_i * ga_i
            gp_r = tl.where(capped, (ga_r - a_r * s) * inv, ga_r)
            gp_i = tl.where(capped, (ga_i - a_i * s) * inv, ga_i)
            g_ar += gp_r
            g_ai += gp_i
            g_br += gp_r * v[:, None]
            g_bi += gp_i * v[:, None]
            dv = tl.sum(br * gp_r + bi * gp_i, axis=1)
            if FUSED:  # v = tanh(u) and the skip D u: one input gradient
                tl.store(du_ptr + rows * length + k, du + dv * (1.0 - v * v) + skip * dy, mask=ok)
                d_skip += dy * u
            else:
                tl.store(du_ptr + rows * length + k, du, mask=ok)
                tl.store(dv_ptr + rows * length + k, dv, mask=ok)
            carry_r = a_r * gr + a_i * gi  # conj(a_k) G_k
            carry_i = a_r * gi - a_i * gr
        tl.debug_barrier()
        c -= 1
    _store_param_grads(
        grad_ptr, rows, states, mask, n_rows, n_states, (g_ar, g_ai, g_br, g_bi, g_wr, g_wi),
        br, bi, cr, ci,
    )  # fmt: skip
    if FUSED:
        tl.store(dskip_ptr + rows, d_skip, mask=row_ok)


# ----------------------------------------------------------------------------------------
# blocked variant
# ----------------------------------------------------------------------------------------


@triton.jit
def _multiplier(ar, ai, br, bi, v):
    """``a = cap(Abar + Bbar v)`` and its scale ``inv = 1 / max(1, |p|)``.

    ``v`` is ``[BR, 1]`` and broadcasts over the states. The same values as the stepwise
    ``_capped_multiplier`` (``rsqrt(1) = 1`` is clamped explicitly) in one fewer op.
    """
    pr = ar + br * v
    pi = ai + bi * v
    inv = tl.minimum(tl.math.rsqrt(tl.maximum(pr * pr + pi * pi, 1.0)), 1.0)
    return pr * inv, pi * inv, inv


@triton.jit
def _time_block(rows, row_ok, t0, length, T: tl.constexpr):
    """Offsets and mask of the ``[BR, T]`` tile of steps ``t0 .. t0 + T - 1`` of each row."""
    steps = t0 + tl.arange(0, T)
    offsets = rows[:, None] * length + steps[None, :]
    return offsets, row_ok[:, None] & ((steps >= 0) & (steps < length))[None, :]


@triton.jit
def _unstack_steps(tile, BR: tl.constexpr, LOG2T: tl.constexpr):
    """Split a ``[BR, T]`` tile (``T = 2**LOG2T``) into a tuple of ``T`` ``[BR]`` vectors.

    A tree of ``tl.split`` calls over the time axis viewed as ``LOG2T`` axes of size two:
    every split axis is held in registers, so no value crosses lanes per step (the compiler
    converts the tile's layout once). Entry ``j`` of the result is column ``j``.
    """
    parts = (tl.reshape(tile, (BR,) + (2,) * LOG2T),)
    for level in tl.static_range(LOG2T):
        low = ()
        high = ()
        for m in tl.static_range(1 << level):
            lo, hi = tl.split(parts[m])
            low = low + (lo,)
            high = high + (hi,)
        parts = low + high
    return parts


@triton.jit
def _stack_steps(values, BR: tl.constexpr, T: tl.constexpr, LOG2T: tl.constexpr):
    """Inverse of :func:`_unstack_steps`: join ``T`` ``[BR]`` vectors into a ``[BR, T]`` tile."""
    for level in tl.static_range(LOG2T):
        joined = ()
        for m in tl.static_range(T >> (level + 1)):
            joined = joined + (tl.join(values[m], values[m + (T >> (level + 1))]),)
        values = joined
    return tl.reshape(values[0], (BR, T))


@triton.jit
def _adjoint_step(grads, carry_r, carry_i, dy2, v, xr, xi, pr, pi, a_r, a_i, inv, br, bi, wr, wi):
    """One reverse step of the adjoint recurrence.

    ``z_k = a_k z_{k-1} + u_k`` with ``a_k = cap(p_k)``, ``p_k = Abar + Bbar v_k``, and
    ``y_k = 2 Re sum W z_k`` with ``W = C Bbar``.
    Past the end of a sequence the masked loads give ``dy = 0`` and the incoming carry is
    zero, so every adjoint there is zero without masking.

    Parameters
    ----------
    grads : tuple
        Running gradients of (Abar re, Abar im, Bbar re, Bbar im, W re, W im), ``[BR, BN]``
        (``Bbar`` through the multiplier only, see :func:`_store_param_grads`).
    carry_r, carry_i : tensors
        ``conj(a_{k+1}) G_{k+1}``, the adjoint flowing back from step ``k + 1``.
    dy2 : tensor
        ``2 dy_k``, ``[BR, 1]``.
    v : tensor
        Liquid input of step ``k``, ``[BR, 1]``.
    xr, xi, pr, pi : tensors
        ``z_k`` and ``z_{k-1}``.
    a_r, a_i, inv : tensors
        The capped multiplier of step ``k`` and its scale (see :func:`_multiplier`).
    br, bi, wr, wi : tensors
        ``Bbar`` and ``W``.

    Returns
    -------
    du, dv : tensors
        ``[BR]`` input gradients of step ``k``.
    carry_r, carry_i : tensors
        ``conj(a_k) G_k`` for step ``k - 1``.
    grads : tuple
        ``grads`` plus this step's contributions (each a fused multiply-add chain).
    """
    gr = dy2 * wr + carry_r  # G_k, the total adjoint of z_k
    gi = carry_i - dy2 * wi
    ga_r = gr * pr + gi * pi  # adjoint of a_k: G conj(z_{k-1})
    ga_i = gi * pr - gr * pi
    # a = p / max(1, |p|): G_p = (G_a - a Re(conj(a) G_a)) / |p| where capped, else G_a
    s = tl.where(inv < 1.0, a_r * ga_r + a_i * ga_i, 0.0)
    gp_r = (ga_r - a_r * s) * inv
    gp_i = (ga_i - a_i * s) * inv
    du = tl.sum(gr, axis=1)
    dv = tl.sum(br * gp_r + bi * gp_i, axis=1)
    grads = (
        grads[0] + gp_r,
        grads[1] + gp_i,
        grads[2] + gp_r * v,
        grads[3] + gp_i * v,
        grads[4] + dy2 * xr,
        grads[5] - dy2 * xi,
    )
    return du, dv, a_r * gr + a_i * gi, a_r * gi - a_i * gr, grads


@triton.jit
def blocked_fwd_kernel(
    u_ptr, v_ptr, y_ptr, ckpt_ptr,
    ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, skip_ptr,
    n_rows, n_channels, length, n_states, n_chunks,
    CHUNK: tl.constexpr, BR: tl.constexpr, BN: tl.constexpr, LOG2T: tl.constexpr,
    FUSED: tl.constexpr,
):  # fmt: skip
    rows, _states, row_ok, mask, param_off, ckpt_off = _program_tile(
        tl.program_id(0), n_rows, n_channels, n_states, n_chunks, BR, BN
    )
    ar, ai, br, bi, cr, ci = _load_params(
        ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, param_off, mask
    )
    wr, wi = _output_weights(br, bi, cr, ci)
    xr = tl.zeros((BR, BN), dtype=tl.float32)
    xi = tl.zeros((BR, BN), dtype=tl.float32)
    skip = _row_skip(skip_ptr, rows, row_ok, n_channels, FUSED)[:, None]
    c = 0
    t_off, t_mask = _time_block(rows, row_ok, 0, length, CHUNK)
    u_tile = tl.load(u_ptr + t_off, mask=t_mask, other=0.0)
    v_tile = _liquid_input(v_ptr + t_off, u_tile, t_mask, FUSED)
    while c < n_chunks:  # a while loop: runtime trip counts also work in the interpreter
        _store_checkpoint(ckpt_ptr, ckpt_off + c * 2 * n_states, n_states, xr, xi, mask)
        t_off, t_mask = _time_block(rows, row_ok, c * CHUNK, length, CHUNK)
        # the next block's inputs are loaded now, so their latency overlaps this block
        next_off, next_mask = _time_block(rows, row_ok, (c + 1) * CHUNK, length, CHUNK)
        u_next = tl.load(u_ptr + next_off, mask=next_mask, other=0.0)
        v_next = _liquid_input(v_ptr + next_off, u_next, next_mask, FUSED)
        us = _unstack_steps(u_tile, BR, LOG2T)
        vs = _unstack_steps(v_tile, BR, LOG2T)
        ys = ()
        for j in tl.static_range(CHUNK):
            a_r, a_i, _ = _multiplier(ar, ai, br, bi, vs[j][:, None])
            xr, xi = _advance(xr, xi, a_r, a_i, us[j][:, None])
            ys = ys + (2.0 * tl.sum(wr * xr - wi * xi, axis=1),)
        y_tile = _stack_steps(ys, BR, CHUNK, LOG2T) + skip * u_tile
        tl.store(y_ptr + t_off, y_tile, mask=t_mask)
        u_tile, v_tile = u_next, v_next
        c += 1


@triton.jit
def blocked_bwd_kernel(
    u_ptr, v_ptr, dy_ptr, ckpt_ptr, scratch_ptr, du_ptr, dv_ptr, grad_ptr,
    ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, skip_ptr, dskip_ptr,
    n_rows, n_channels, length, n_states, n_chunks,
    CHUNK: tl.constexpr, BR: tl.constexpr, BN: tl.constexpr, LOG2T: tl.constexpr,
    FUSED: tl.constexpr,
):  # fmt: skip
    # scratch_ptr is unused (the chunk's states stay in registers); it keeps the signature
    # of the stepwise kernel
    rows, states, row_ok, mask, param_off, ckpt_off = _program_tile(
        tl.program_id(0), n_rows, n_channels, n_states, n_chunks, BR, BN
    )
    ar, ai, br, bi, cr, ci = _load_params(
        ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, param_off, mask
    )
    wr, wi = _output_weights(br, bi, cr, ci)
    zero = tl.zeros((BR, BN), dtype=tl.float32)
    grads = (zero, zero, zero, zero, zero, zero)  # see _adjoint_step
    carry_r, carry_i = zero, zero  # conj(a_{k+1}) G_{k+1}
    skip = _row_skip(skip_ptr, rows, row_ok, n_channels, FUSED)[:, None]
    d_skip = tl.zeros((BR,), dtype=tl.float32)
    c = n_chunks - 1
    t_off, t_mask = _time_block(rows, row_ok, c * CHUNK, length, CHUNK)
    u_tile = tl.load(u_ptr + t_off, mask=t_mask, other=0.0)
    v_tile = _liquid_input(v_ptr + t_off, u_tile, t_mask, FUSED)
    dy_tile = tl.load(dy_ptr + t_off, mask=t_mask, other=0.0)
    while c >= 0:
        xr, xi = _load_checkpoint(ckpt_ptr, ckpt_off + c * 2 * n_states, n_states, mask)
        t_off, t_mask = _time_block(rows, row_ok, c * CHUNK, length, CHUNK)
        # the previous block's inputs are loaded now (masked off before t = 0)
        next_off, next_mask = _time_block(rows, row_ok, (c - 1) * CHUNK, length, CHUNK)
        u_next = tl.load(u_ptr + next_off, mask=next_mask, other=0.0)
        v_next = _liquid_input(v_ptr + next_off, u_next, next_mask, FUSED)
        dy_next = tl.load(dy_ptr + next_off, mask=next_mask, other=0.0)
        us = _unstack_steps(u_tile, BR, LOG2T)
        vs = _unstack_steps(v_tile, BR, LOG2T)
        dys = _unstack_steps(dy_tile, BR, LOG2T)
        # recompute the chunk: states[j] = x_{t0 + j - 1}, multipliers[j] = (a, inv) of t0 + j
        states_r = (xr,)
        states_i = (xi,)
        multipliers = ()
        for j in tl.static_range(CHUNK):
            a_r, a_i, inv = _multiplier(ar, ai, br, bi, vs[j][:, None])
            xr, xi = _advance(xr, xi, a_r, a_i, us[j][:, None])
            states_r = states_r + (xr,)
            states_i = states_i + (xi,)
            multipliers = multipliers + ((a_r, a_i, inv),)
        dus = ()
        dvs = ()
        for j in tl.static_range(CHUNK - 1, -1, -1):  # adjoint, backwards through the chunk
            a_r, a_i, inv = multipliers[j]
            du, dv, carry_r, carry_i, grads = _adjoint_step(
                grads, carry_r, carry_i, 2.0 * dys[j][:, None], vs[j][:, None],
                states_r[j + 1], states_i[j + 1], states_r[j], states_i[j],
                a_r, a_i, inv, br, bi, wr, wi,
            )  # fmt: skip
            dus = (du,) + dus
            dvs = (dv,) + dvs
        du_tile = _stack_steps(dus, BR, CHUNK, LOG2T)
        dv_tile = _stack_steps(dvs, BR, CHUNK, LOG2T)
        if FUSED:  # v = tanh(u) and the skip D u: one input gradient
            du_tile += dv_tile * (1.0 - v_tile * v_tile) + skip * dy_tile
            d_skip += tl.sum(dy_tile * u_tile, axis=1)
        else:
            tl.store(dv_ptr + t_off, dv_tile, mask=t_mask)
        tl.store(du_ptr + t_off, du_tile, mask=t_mask)
        u_tile, v_tile, dy_tile = u_next, v_next, dy_next
        c -= 1
    _store_param_grads(grad_ptr, rows, states, mask, n_rows, n_states, grads, br, bi, cr, ci)
    if FUSED:
        tl.store(dskip_ptr + rows, d_skip, mask=row_ok)


# ----------------------------------------------------------------------------------------
# configuration and launch
# ----------------------------------------------------------------------------------------


# about eight warps of the blocked backward (255 registers) fit on each of an H100's 132 SMs
_RESIDENT_WARPS = 1024


def _default_config(variant: str, n_rows: int, block_n: int) -> tuple[int, int, int]:
    """(BR, CHUNK, num_warps) used when ``SSLEARN_SCAN_CONFIG`` gives no sizes."""
    if variant == "blocked":
        # four states per thread with a chunk of 8 (the fewest instructions per state-step
        # whose register-resident backward chunk needs no spills); two states per thread and
        # a chunk of 16 where four would leave fewer warps than the GPU holds at once
        per_thread = 4 if n_rows * block_n >= 4 * 32 * _RESIDENT_WARPS else 2
        block_r = min(32, max(1, 32 * per_thread // block_n))
        warps = max(1, block_r * block_n // (32 * per_thread))
        return block_r, 8 if per_thread == 4 else 16, warps
    block_r = max(1, min(4, 64 // block_n))
    return block_r, 16, max(1, min(8, block_r * block_n // 64))


def _parse_override(text: str) -> tuple[str, tuple[int, int, int] | None]:
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    variant = DEFAULT_VARIANT if blocked_available() else "stepwise"  # older Triton
    if tokens and not tokens[0].isdigit():
        variant = tokens.pop(0)
    if variant not in VARIANTS:
        raise ValueError(f"SSLEARN_SCAN_CONFIG: unknown variant {variant!r}, not in {VARIANTS}")
    if not tokens:
        return variant, None
    if len(tokens) != 3:
        raise ValueError(
            f"SSLEARN_SCAN_CONFIG={text!r}: expected '[VARIANT,]BR,CHUNK,WARPS' or 'VARIANT'"
        )
    block_r, chunk, warps = (int(t) for t in tokens)
    return variant, (block_r, chunk, warps)


def _is_power_of_2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def blocked_available() -> bool:
    """True when this Triton has the tuple values the blocked variant is built on."""
    return hasattr(tl, "tuple")


def _check_blocked(chunk: int) -> None:
    if not blocked_available():
        raise RuntimeError(
            f"the blocked scan needs Triton's tuple values (tl.tuple); Triton {triton.__version__}"
            " has none: use SSLEARN_SCAN_CONFIG=stepwise"
        )
    if not (chunk >= 2 and _is_power_of_2(chunk)):
        raise ValueError(f"the blocked scan needs a power-of-two CHUNK >= 2, got {chunk}")


def scan_config(n_rows: int, n_states: int) -> tuple[str, int, int, int, int]:
    """(variant, BR, BN, CHUNK, num_warps) for a scan over ``n_rows`` rows of ``n_states``.

    BR: rows per program, BN: padded state count, CHUNK: checkpoint interval (and, in the
    blocked variant, the time block), num_warps: warps per program.

    ``SSLEARN_SCAN_CONFIG`` overrides the choice (for tuning sweeps and A/B runs):
    ``"blocked"`` or ``"stepwise"`` picks a variant with its default sizes,
    ``"blocked,4,8,1"`` a variant and ``BR,CHUNK,WARPS``; ``"2,16,1"`` sets the sizes of the
    default variant (:data:`DEFAULT_VARIANT`).
    """
    block_n = triton.next_power_of_2(max(n_states, 1))
    variant, sizes = _parse_override(os.environ.get("SSLEARN_SCAN_CONFIG", ""))
    block_r, chunk, warps = sizes or _default_config(variant, n_rows, block_n)
    if not _is_power_of_2(block_r):
        raise ValueError(f"rows per program must be a power of two, got {block_r}")
    if variant == "blocked":
        _check_blocked(chunk)
    return variant, block_r, block_n, chunk, warps


def launch_config(n_rows: int, n_states: int) -> tuple[int, int, int, int]:
    """(BR, BN, CHUNK, num_warps) of :func:`scan_config` (the variant is applied at launch)."""
    return scan_config(n_rows, n_states)[1:]


def scan_variant() -> str:
    """The variant the launchers run now (``SSLEARN_SCAN_CONFIG`` or :data:`DEFAULT_VARIANT`)."""
    return _parse_override(os.environ.get("SSLEARN_SCAN_CONFIG", ""))[0]


class _VariantLauncher:
    """``launcher[grid](*args, CHUNK=..., BR=..., BN=..., num_warps=...)`` runs the kernel of
    the configured variant (:func:`scan_variant`) with the arguments of the stepwise kernel.

    Both variants read and write checkpoints in the same layout, so a forward run by one
    variant may be differentiated by the other.
    """

    def __init__(self, stepwise, blocked):
        self.kernels = {"stepwise": stepwise, "blocked": blocked}

    def __getitem__(self, grid):
        variant = scan_variant()
        kernel = self.kernels[variant][grid]

        def launch(*args, CHUNK, **kwargs):
            if variant == "blocked":
                _check_blocked(CHUNK)
                kwargs["LOG2T"] = CHUNK.bit_length() - 1
            return kernel(*args, CHUNK=CHUNK, **kwargs)

        return launch


liquid_scan_fwd_kernel = _VariantLauncher(stepwise_fwd_kernel, blocked_fwd_kernel)
liquid_scan_bwd_kernel = _VariantLauncher(stepwise_bwd_kernel, blocked_bwd_kernel)
