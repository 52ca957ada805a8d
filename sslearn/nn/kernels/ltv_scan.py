"""Diagonal linear time-varying recurrence ``x_k = m_k x_{k-1} + w_k`` as a parallel scan.

Irregular sampling gives every time step its own discretisation, so the recurrence has no
convolution form. :func:`ltv_scan_parallel` runs it in ``O(log L)`` depth and ``O(L)`` work
in plain PyTorch, no custom kernel. The odd-even reduction (Blelloch's scan written
recursively) pairs neighbouring steps,

    (m_{2i+1} m_{2i},  m_{2i+1} w_{2i} + w_{2i+1}),

solves the half-length recurrence for the odd states, and fills the even states in from
them, ``x_{2i} = m_{2i} x_{2i-1} + w_{2i}``. Every level is a handful of element-wise
operations over a tensor half the size of the last one, so the whole scan is about two
passes over the input (not ``log L`` passes as in Hillis-Steele doubling). The backward
pass is the same scan run backwards in time (:class:`_ParallelScan`), keeping only ``m``
and the states.

The twin is :func:`ltv_scan_reference`, a plain loop over the steps under autograd, which
the tests hold equal to the scan. :func:`use_parallel_scan` says where the scan pays: on
CUDA always; on the CPU only for small batches. There a loop over the steps that also
discretises each step in its turn (the diagonal core's ``_irregular_loop``) is faster at
training sizes: its tensors of one step stay in cache, while the parallel form's
``(L, B, H, N/2)`` tensors are fresh memory that the CPU pays page faults for, and it does
about three times the arithmetic.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

#: On the CPU the loop over the steps runs when a step holds at least this many complex
#: numbers (B H N/2); below it the loop's per-step overhead loses to the scan's few large
#: operations. Measured on a 2-core CPU, forward + backward of the layer, L = 500.
CPU_LOOP_MIN_ELEMENTS = 8192


def ltv_scan_reference(m: torch.Tensor, w: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """States of ``x_k = m_k x_{k-1} + w_k`` from ``x_{-1} = 0`` by a loop over ``k``.

    Parameters
    ----------
    m, w : complex tensors of shape (..., L), time on axis ``dim``
        Multipliers and inputs; ``m`` broadcasts against ``w``.
    dim : int, default=-1
        The time axis. The loop reads one time step at a time, so a time-first layout
        (``dim=0``, e.g. (L, B, H, N/2)) keeps each step contiguous; any other is copied
        into it first.

    Returns
    -------
    x : complex tensor of the shape of ``w``
    """
    m, w = _time_first(m, w, dim)
    state = torch.zeros_like(w[0])  # (...,)
    states = []
    # unbind, not w[k]: the backward of an index writes a full-size zero tensor per step
    for m_k, w_k in zip(m.unbind(0), w.unbind(0), strict=True):
        state = torch.addcmul(w_k, m_k, state)
        states.append(state)
    return torch.stack(states).movedim(0, dim)


def ltv_scan_parallel(m: torch.Tensor, w: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """:func:`ltv_scan_reference` by the odd-even parallel scan (see the module docstring).

    Parameters
    ----------
    m, w : complex tensors of shape (..., L), time on axis ``dim``
        As for :func:`ltv_scan_reference`.
    dim : int, default=-1
        The time axis (time-first, ``dim=0``, is the fastest layout).

    Returns
    -------
    x : complex tensor of the shape of ``w``
    """
    m, w = _time_first(m, w, dim)
    return _ParallelScan.apply(m, w).movedim(0, dim)


class _ParallelScan(torch.autograd.Function):
    """The odd-even scan over axis 0, with its backward as one more scan (run backwards).

    In PyTorch's convention for complex gradients, the adjoint ``g_k = dL/dx_k`` obeys
    ``g_k = G_k + conj(m_{k+1}) g_{k+1}`` (``G`` the incoming gradient), the same
    recurrence in reverse time; then ``dL/dw_k = g_k`` and
    ``dL/dm_k = g_k conj(x_{k-1})``. Autograd through the scan's slices and
    interleavings would cost several times the memory traffic.
    """

    @staticmethod
    def forward(ctx, m, w):
        x = _odd_even(m, w)
        ctx.save_for_backward(m, x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        m, x = ctx.saved_tensors
        # reversed time: step j = L - 1 - k has multiplier conj(m_{k+1}) (none at j = 0)
        m_next = torch.cat([m[1:], torch.zeros_like(m[:1])]).conj_physical_()
        g = _odd_even(m_next.flip(0), grad.flip(0)).flip(0)
        grad_m = None
        if ctx.needs_input_grad[0]:
            x_prev = torch.cat([torch.zeros_like(x[:1]), x[:-1]])
            grad_m = g * x_prev.conj_physical_()
        return grad_m, g


def _time_first(m: torch.Tensor, w: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``m`` broadcast to ``w``, both with time moved to axis 0 and made contiguous."""
    m = m.expand_as(w)
    if dim in (0, -w.ndim):
        return m.contiguous(), w.contiguous()
    return m.movedim(dim, 0).contiguous(), w.movedim(dim, 0).contiguous()


def _odd_even(m: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The scan over axis 0 of time-first ``m``, ``w``."""
    length = w.shape[0]
    if length == 1:
        return w
    pairs = length // 2  # steps (2i, 2i + 1) for i < pairs; an odd length leaves the last
    m_even, m_odd = m[0 : 2 * pairs : 2], m[1 : 2 * pairs : 2]
    w_even, w_odd = w[0 : 2 * pairs : 2], w[1 : 2 * pairs : 2]
    x_odd = _odd_even(m_odd * m_even, torch.addcmul(w_odd, m_odd, w_even))  # (pairs, ...)
    # x_{2i} = m_{2i} x_{2i-1} + w_{2i} for 2i >= 2, and x_0 = w_0
    n_even = length - pairs
    x_rest = torch.addcmul(w[2::2], m[2::2], x_odd[: n_even - 1])
    x_even = torch.cat([w[:1], x_rest])  # (n_even, ...)
    if n_even > pairs:  # odd length: one more even state than odd ones
        x_odd = torch.cat([x_odd, torch.zeros_like(x_odd[:1])])
    return torch.stack([x_even, x_odd], dim=1).flatten(0, 1)[:length]


def use_parallel_scan(step_elements: int, device: torch.device) -> bool:
    """The parallel scan on an accelerator (always), and on the CPU for steps of fewer than
    :data:`CPU_LOOP_MIN_ELEMENTS` complex numbers (``step_elements = B H N/2``)."""
    return device.type != "cpu" or step_elements < CPU_LOOP_MIN_ELEMENTS
