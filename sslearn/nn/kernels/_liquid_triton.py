"""Triton kernels for the exact liquid recurrence of diagonal systems.

One program owns ``BR`` rows (a row = one (batch, channel) pair) and all ``N/2`` complex
states of each row; it walks time sequentially, keeping the state in registers:

    a_k = cap(Abar + Bbar v_k),  x_k = a_k x_{k-1} + Bbar u_k,  y_k = 2 Re sum_n C_n x_k[n]

with ``cap(p) = p / max(1, |p|)``. The forward pass stores the state every ``CHUNK`` steps.
The backward pass walks the chunks in reverse: it recomputes a chunk's states from its
checkpoint into a small scratch buffer, then runs the adjoint recurrence
``G_k = 2 dy_k conj(C) + conj(a_{k+1}) G_{k+1}`` backwards through the chunk, accumulating
the parameter gradients per row (summed over the batch by the caller).
"""

from __future__ import annotations

import os

import triton
import triton.language as tl


@triton.jit
def _load_params(ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, off, mask):
    ar = tl.load(ar_ptr + off, mask=mask, other=0.0)
    ai = tl.load(ai_ptr + off, mask=mask, other=0.0)
    br = tl.load(br_ptr + off, mask=mask, other=0.0)
    bi = tl.load(bi_ptr + off, mask=mask, other=0.0)
    cr = tl.load(cr_ptr + off, mask=mask, other=0.0)
    ci = tl.load(ci_ptr + off, mask=mask, other=0.0)
    return ar, ai, br, bi, cr, ci


@triton.jit
def _capped_multiplier(ar, ai, br, bi, v):
    pr = ar + br * v[:, None]
    pi = ai + bi * v[:, None]
    modulus2 = pr * pr + pi * pi
    # one rsqrt (a single special-function op) instead of sqrt + an IEEE division
    inv = tl.where(modulus2 > 1.0, tl.math.rsqrt(tl.maximum(modulus2, 1.0)), 1.0)
    return pr * inv, pi * inv, inv


@triton.jit
def liquid_scan_fwd_kernel(
    u_ptr, v_ptr, y_ptr, ckpt_ptr,
    ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr,
    n_rows, n_channels, length, n_states, n_chunks,
    CHUNK: tl.constexpr, BR: tl.constexpr, BN: tl.constexpr,
):  # fmt: skip
    rows = tl.program_id(0) * BR + tl.arange(0, BR)
    states = tl.arange(0, BN)
    row_ok = rows < n_rows
    mask = row_ok[:, None] & (states < n_states)[None, :]
    param_off = (rows % n_channels)[:, None] * n_states + states[None, :]
    ar, ai, br, bi, cr, ci = _load_params(
        ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, param_off, mask
    )
    xr = tl.zeros((BR, BN), dtype=tl.float32)
    xi = tl.zeros((BR, BN), dtype=tl.float32)
    # checkpoint layout: (n_rows, n_chunks, 2, n_states) float32
    ckpt_off = rows[:, None] * (n_chunks * 2 * n_states) + states[None, :]
    zero = tl.zeros((BR,), dtype=tl.int32)
    u = tl.load(u_ptr + rows * length, mask=row_ok, other=0.0)
    v = tl.load(v_ptr + rows * length, mask=row_ok, other=0.0)
    c = 0
    while c < n_chunks:  # a while loop: runtime trip counts also work in the interpreter
        base = ckpt_off + c * 2 * n_states
        tl.store(ckpt_ptr + base, xr, mask=mask)
        tl.store(ckpt_ptr + base + n_states, xi, mask=mask)
        for j in range(0, CHUNK):
            k = c * CHUNK + j
            ok = row_ok & (zero + k < length)
            # prefetch step k + 1 so its load latency hides behind this step's arithmetic
            ahead = row_ok & (zero + k + 1 < length)
            u_next = tl.load(u_ptr + rows * length + k + 1, mask=ahead, other=0.0)
            v_next = tl.load(v_ptr + rows * length + k + 1, mask=ahead, other=0.0)
            a_r, a_i, _ = _capped_multiplier(ar, ai, br, bi, v)
            new_r = a_r * xr - a_i * xi + br * u[:, None]
            xi = a_r * xi + a_i * xr + bi * u[:, None]
            xr = new_r
            y = 2.0 * tl.sum(cr * xr - ci * xi, axis=1)
            tl.store(y_ptr + rows * length + k, y, mask=ok)
            u, v = u_next, v_next
        c += 1


@triton.jit
def liquid_scan_bwd_kernel(
    u_ptr, v_ptr, dy_ptr, ckpt_ptr, scratch_ptr, du_ptr, dv_ptr, grad_ptr,
    ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr,
    n_rows, n_channels, length, n_states, n_chunks,
    CHUNK: tl.constexpr, BR: tl.constexpr, BN: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    rows = pid * BR + tl.arange(0, BR)
    states = tl.arange(0, BN)
    row_ok = rows < n_rows
    mask = row_ok[:, None] & (states < n_states)[None, :]
    param_off = (rows % n_channels)[:, None] * n_states + states[None, :]
    ar, ai, br, bi, cr, ci = _load_params(
        ar_ptr, ai_ptr, br_ptr, bi_ptr, cr_ptr, ci_ptr, param_off, mask
    )
    zero = tl.zeros((BR, BN), dtype=tl.float32)
    g_ar, g_ai, g_br, g_bi, g_cr, g_ci = zero, zero, zero, zero, zero, zero
    carry_r, carry_i = zero, zero  # conj(a_{k+1}) G_{k+1}
    ckpt_off = rows[:, None] * (n_chunks * 2 * n_states) + states[None, :]
    # scratch layout per program: (CHUNK + 1, 2, BR, BN); slot 0 holds the chunk's start state
    tile = tl.arange(0, BR)[:, None] * BN + states[None, :]
    scratch = scratch_ptr + pid * (CHUNK + 1) * 2 * BR * BN + tile
    c = n_chunks - 1
    while c >= 0:
        base = ckpt_off + c * 2 * n_states
        xr = tl.load(ckpt_ptr + base, mask=mask, other=0.0)
        xi = tl.load(ckpt_ptr + base + n_states, mask=mask, other=0.0)
        tl.store(scratch, xr)
        tl.store(scratch + BR * BN, xi)
        for j in range(0, CHUNK):  # recompute the chunk's states
            k = c * CHUNK + j
            ok = row_ok & (tl.zeros((BR,), dtype=tl.int32) + k < length)
            u = tl.load(u_ptr + rows * length + k, mask=ok, other=0.0)
            v = tl.load(v_ptr + rows * length + k, mask=ok, other=0.0)
            a_r, a_i, _ = _capped_multiplier(ar, ai, br, bi, v)
            new_r = a_r * xr - a_i * xi + br * u[:, None]
            xi = a_r * xi + a_i * xr + bi * u[:, None]
            xr = new_r
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
            v = tl.load(v_ptr + rows * length + k, mask=ok, other=0.0)
            dy = tl.load(dy_ptr + rows * length + k, mask=ok, other=0.0)
            # total adjoint of x_k (zero past the end of the sequence)
            gr = tl.where(live, 2.0 * dy[:, None] * cr + carry_r, 0.0)
            gi = tl.where(live, -2.0 * dy[:, None] * ci + carry_i, 0.0)
            g_cr += 2.0 * dy[:, None] * xr
            g_ci += -2.0 * dy[:, None] * xi
            # x_k = a_k x_{k-1} + Bbar u_k
            a_r, a_i, inv = _capped_multiplier(ar, ai, br, bi, v)
            ga_r = gr * pr + gi * pi  # G conj(x_{k-1})
            ga_i = gi * pr - gr * pi
            du = tl.sum(br * gr + bi * gi, axis=1)
            g_br += gr * u[:, None]
            g_bi += gi * u[:, None]
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
            tl.store(du_ptr + rows * length + k, du, mask=ok)
            tl.store(dv_ptr + rows * length + k, dv, mask=ok)
            carry_r = a_r * gr + a_i * gi  # conj(a_k) G_k
            carry_i = a_r * gi - a_i * gr
        tl.debug_barrier()
        c -= 1
    # per-row parameter gradients: (6, n_rows, n_states)
    out = rows[:, None] * n_states + states[None, :]
    plane = n_rows * n_states
    tl.store(grad_ptr + out, g_ar, mask=mask)
    tl.store(grad_ptr + plane + out, g_ai, mask=mask)
    tl.store(grad_ptr + 2 * plane + out, g_br, mask=mask)
    tl.store(grad_ptr + 3 * plane + out, g_bi, mask=mask)
    tl.store(grad_ptr + 4 * plane + out, g_cr, mask=mask)
    tl.store(grad_ptr + 5 * plane + out, g_ci, mask=mask)


def launch_config(n_rows: int, n_states: int) -> tuple[int, int, int, int]:
    """(BR, BN, CHUNK, num_warps): rows per program, padded state count, checkpoint
    interval and warps. One lane per complex state: a 2 x 32 tile fits one warp.

    ``SSLEARN_SCAN_CONFIG="BR,CHUNK,WARPS"`` overrides the choice (for tuning sweeps).
    """
    block_n = triton.next_power_of_2(max(n_states, 1))
    override = os.environ.get("SSLEARN_SCAN_CONFIG")
    if override:
        block_r, chunk, warps = (int(v) for v in override.split(","))
        return block_r, block_n, chunk, warps
    block_r = max(1, min(4, 64 // block_n))
    warps = max(1, min(8, block_r * block_n // 64))
    return block_r, block_n, 16, warps
