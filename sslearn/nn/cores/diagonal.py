"""Diagonal state-space core (S4D): N/2 complex modes per channel, conjugate pairs implicit."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
from torch.autograd.function import once_differentiable

from sslearn.nn.cores._base import SSMCore, register_ssm_parameter
from sslearn.nn.functional import diagonal_init
from sslearn.nn.kernels._dispatch import use_triton
from sslearn.nn.kernels.chunk_operators import chunk_operators_triton, zoh_chunk_operators
from sslearn.nn.kernels.chunked_conv import chunked_conv_triton
from sslearn.nn.kernels.liquid_scan import cap_unit_modulus, liquid_scan, zoh_liquid_scan
from sslearn.nn.kernels.ltv_scan import ltv_scan_parallel, use_parallel_scan

INITS = ("legs", "lin", "inv", "real")
CHUNK = 32  # time steps per chunk of the fused convolution (benchmarks/sweep_chunked.py)
DISCRETIZATIONS = ("zoh", "bilinear")


def vandermonde_kernel(weight: torch.Tensor, log_abar: torch.Tensor, length: int) -> torch.Tensor:
    """``K[..., h, m] = 2 Re sum_n weight[..., h, n] exp(m log_abar[h, n])`` for ``m < length``.

    ``weight`` may carry leading dimensions (several kernels over one set of modes). Never
    materialises ``(H, N/2, L)``: positions are split into blocks of ``c ~ sqrt(L)`` steps,
    ``exp((m0 + j) log a) = exp(m0 log a) exp(j log a)``, so the memory is
    ``O(H N (L / c + c))`` and both factors are exact exponentials (no error build-up).
    Off CUDA it runs in real arithmetic with a hand-written backward
    (:class:`_RealVandermonde`): the CPU's complex ``exp`` is scalar code and the autograd
    graph of the complex form is a dozen small nodes.
    """
    block = max(1, math.isqrt(length - 1) + 1) if length > 1 else 1
    if not log_abar.is_cuda:
        return _RealVandermonde.apply(weight, log_abar, length, block)
    n_blocks = -(-length // block)
    offsets = torch.arange(block, device=log_abar.device, dtype=log_abar.real.dtype)
    starts = torch.arange(n_blocks, device=log_abar.device, dtype=log_abar.real.dtype) * block
    inner = torch.exp(log_abar[..., None] * offsets)  # (H, N2, c)
    outer = weight[..., None] * torch.exp(log_abar[..., None] * starts)  # (..., H, N2, n_blocks)
    kernel = torch.einsum("...hnb,hnc->...hbc", outer, inner)  # (..., H, n_blocks, c)
    return 2 * kernel.real.flatten(-2)[..., :length]


def complex_exp(z: torch.Tensor) -> torch.Tensor:
    """``exp(z)`` for complex ``z``; off CUDA as ``polar(exp(Re z), Im z)``.

    The CPU's complex ``exp`` is scalar code, about 4x slower than the polar form.
    """
    if z.is_cuda:
        return torch.exp(z)
    return torch.polar(torch.exp(z.real), z.imag)


class _ZeroOrderHold(torch.autograd.Function):
    """S4D's zero-order hold as one op: ``(dt A, exp(dt A), expm1(dt A) B / A)``.

    With ``dt = exp(log_dt)`` and ``A = -max(exp(log_A_real), 1e-4) + i A_imag``. The same
    dozen complex ops under autograd cost some 35 small kernels in the backward pass, each
    a few microseconds on the CPU (the gradient of each complex product conjugates a copy of
    the other factor); here the gradients are formed directly, in half as many. In
    PyTorch's convention for a holomorphic map ``w(z)``, ``grad_z = conj(dw/dz) grad_w``;
    all three outputs depend on ``dt A``, and ``Bbar`` on ``A`` besides (as ``-Bbar / A``):
    ``g_dtA = g_logabar + conj(Abar) g_abar + conj(Abar B / A) g_bbar``,
    ``g_A = dt g_dtA - conj(Bbar / A) g_bbar``, ``g_dt = sum Re(conj(A) g_dtA)`` and
    ``g_B = conj(expm1(dt A) / A) g_bbar``.
    """

    @staticmethod
    def forward(ctx, log_dt, log_A_real, A_imag, B):
        dt = torch.exp(log_dt)[:, None]
        a_real = torch.exp(log_A_real)
        A = torch.complex(-a_real.clamp(min=1e-4), A_imag)
        dtA = dt * A
        abar = complex_exp(dtA)
        growth = torch.expm1(dtA)
        bbar = growth / A * torch.view_as_complex(B)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(dt, a_real, A, B, abar, growth, bbar)
        return dtA, abar, bbar

    @staticmethod
    @once_differentiable
    def backward(ctx, g_log_abar, g_abar, g_bbar):
        dt, a_real, A, B, abar, growth, bbar = ctx.saved_tensors
        inv_A_conj = A.reciprocal().conj_physical_()
        g_dtA = torch.zeros_like(A) if g_log_abar is None else g_log_abar.clone()
        if g_abar is not None:
            g_dtA.addcmul_(abar.conj_physical(), g_abar)
        g_B = None
        if g_bbar is not None:
            B = torch.view_as_complex(B)
            g_dtA.addcmul_((abar * B).conj_physical_().mul_(inv_A_conj), g_bbar)
            g_B = torch.view_as_real(growth.conj_physical().mul_(inv_A_conj).mul_(g_bbar))
        g_A = g_dtA * dt
        if g_bbar is not None:
            g_A.sub_(bbar.conj_physical().mul_(inv_A_conj).mul_(g_bbar))
        g_log_dt = A.conj_physical().mul_(g_dtA).real.sum(-1).mul_(dt[:, 0])
        g_log_A_real = g_A.real.neg().mul_(a_real).masked_fill_(a_real < 1e-4, 0)
        return g_log_dt, g_log_A_real, g_A.imag.contiguous(), g_B


@functools.lru_cache(maxsize=16)
def _table_steps(
    block: int, n_blocks: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multipliers of ``log_a`` for :func:`_power_table`'s magnitudes and angles.

    Each of shape ``(c + n_blocks, 1)``; the magnitudes' carry the factor ``log2(e)`` (the
    table takes ``exp2``, about three times faster than ``exp`` on the CPU).

    Cached: they depend only on the sizes, and building them is several small operations.
    """
    offsets = torch.arange(block, dtype=torch.float64)  # built in float64 on the CPU
    starts = torch.arange(n_blocks, dtype=torch.float64) * block
    magnitude = torch.cat([offsets, starts])[:, None] * math.log2(math.e)
    angle = torch.cat([-offsets, starts])[:, None]
    return magnitude.to(device, dtype), angle.to(device, dtype)


def _power_table(log_a: torch.Tensor, block: int, n_blocks: int) -> torch.Tensor:
    """``conj(a^j)`` for ``j < c``, then ``a^(b c)`` for ``b < n_blocks``; ``a = exp(log_a)``.

    Complex, of shape ``(H, c + n_blocks, N2)`` (modes last, so that its real view has the
    real and imaginary parts of each mode side by side): one real ``exp2``, ``cos`` and
    ``sin`` each (vectorised on the CPU, unlike ``torch.polar``), each entry an exact
    exponential. The magnitudes, cosines and sines are scaled in place (no temporaries
    beyond them).
    """
    magnitude_steps, angle_steps = _table_steps(block, n_blocks, log_a.real.dtype, log_a.device)
    magnitude = torch.mul(log_a.real[..., None, :], magnitude_steps).exp2_()
    angle = log_a.imag[..., None, :] * angle_steps
    real = torch.cos(angle).mul_(magnitude)
    return torch.complex(real, angle.sin_().mul_(magnitude))


@functools.lru_cache(maxsize=16)
def _positions(block: int, n_blocks: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``m = b c + j`` of shape ``(n_blocks, c)``: the time step of each kernel tap.

    Cached like :func:`_table_steps`.
    """
    return torch.arange(n_blocks * block, device=device, dtype=dtype).view(n_blocks, block)


class _RealVandermonde(torch.autograd.Function):
    """:func:`vandermonde_kernel` as one real batched matrix product, hand-written backward.

    With ``m = b c + j``, ``I_j = a^j`` and ``O_b = a^(b c)`` (per channel and mode) and
    ``P_b = weight O_b``: ``K[b c + j] = 2 sum_n Re(P_b I_j) = 2 sum_n (Re P_b Re conj(I_j) +
    Im P_b Im conj(I_j))``, a real product over the interleaved real and imaginary parts.
    For ``G = dL/dK`` another one, ``[G; G m] conj(I)``, gives ``V1_b = sum_j G[b, j]
    conj(I_j)`` and ``Vm_b = sum_j G[b, j] (b c + j) conj(I_j)``, and then (PyTorch's
    convention for complex gradients) ``dL/dweight = 2 sum_b conj(O_b) V1_b`` and
    ``dL/dlog_a = 2 sum conj(weight) sum_b conj(O_b) Vm_b``.
    """

    @staticmethod
    def forward(ctx, weight, log_a, length, block):
        n_blocks = -(-length // block)
        table = _power_table(log_a, block, n_blocks)  # (H, c + n_blocks, N2)
        inner_conj, outer = table[..., :block, :], table[..., block:, :]
        scaled = (2 * weight)[..., None, :] * outer  # (..., H, n_blocks, N2)
        left = torch.view_as_real(scaled).flatten(-2)  # (..., H, n_blocks, 2 N2)
        right = torch.view_as_real(inner_conj).flatten(-2)  # (H, c, 2 N2)
        kernel = torch.matmul(left, right.transpose(-1, -2))  # (..., H, n_blocks, c)
        ctx.save_for_backward(weight, right, outer)
        return kernel.flatten(-2)[..., :length]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        weight, right, outer = ctx.saved_tensors
        block, n_blocks = right.shape[-2], outer.shape[-2]
        if grad.shape[-1] < block * n_blocks:
            grad = torch.nn.functional.pad(grad, (0, block * n_blocks - grad.shape[-1]))
        grad = grad.unflatten(-1, (n_blocks, block))  # (..., H, n_blocks, c)
        positions = _positions(block, n_blocks, grad.dtype, grad.device)
        rows = torch.cat([grad, grad * positions], -2)  # (..., H, 2 n_blocks, c)
        v = torch.view_as_complex(torch.matmul(rows, right).unflatten(-1, (-1, 2)))
        # sum_b conj(O_b) [V1_b; Vm_b] as the conjugate of sum_b O_b conj(.), in place in
        # the product's own buffer (no conjugate copy of O, no product temporary)
        v = v.unflatten(-2, (2, n_blocks)).conj_physical_().mul_(outer[..., None, :, :])
        sums = v.sum(-2).conj_physical_().mul_(2)  # (..., H, 2, N2)
        d_weight = d_log_a = None
        if ctx.needs_input_grad[0]:
            d_weight = sums[..., 0, :]
        if ctx.needs_input_grad[1]:
            d_log_a = weight.conj() * sums[..., 1, :]
            d_log_a = d_log_a.reshape(-1, *d_log_a.shape[-2:]).sum(0)
        return d_weight, d_log_a, None, None


def output_weights(C: torch.Tensor, bbar: torch.Tensor, powers) -> torch.Tensor:
    """``C Bbar^q`` for each ``q`` in ``powers``, stacked: shape ``(Q, H, N2)``.

    ``Bbar^1`` is ``Bbar`` itself and one power a view, not a copy: in autograd a ``pow``
    or ``stack`` node is a kernel in each pass even where it changes nothing.
    """
    weights = [C * (bbar if q == 1 else bbar**q) for q in powers]
    return weights[0][None] if len(weights) == 1 else torch.stack(weights)


def discretize_diagonal(
    dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, gaps: torch.Tensor, disc: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Abar, Bbar)`` of diagonal systems for the step sizes ``dt * gaps``.

    Zero-order hold: ``Abar = exp(s A)``, ``Bbar = expm1(s A) / A B``; bilinear:
    ``Abar = (1 + s A/2) / (1 - s A/2)``, ``Bbar = s B / (1 - s A/2)``, with ``s = dt gaps``.

    Parameters
    ----------
    dt : tensor of shape (H,)
    A, B : complex tensors of shape (H, N/2)
    gaps : tensor of shape (..., H)
    disc : {"zoh", "bilinear"}

    Returns
    -------
    Abar, Bbar : complex tensors of shape (..., H, N/2)
    """
    steps = (dt * gaps)[..., None]  # (..., H, 1)
    sA = steps * A  # (..., H, N2)
    if disc == "zoh":  # B / A per channel: one complex division, not one per step
        return complex_exp(sA), torch.expm1(sA) * (B / A)
    inverse = (1 - sA / 2).reciprocal()
    return (1 + sA / 2) * inverse, steps * B * inverse


def transition_terms(
    abar: torch.Tensor,
    bbar: torch.Tensor,
    v: torch.Tensor | None,
    powers: Sequence[int],
    drives: Sequence[torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(M, w)`` of one step ``x_k = M x_{k-1} + w`` of the time-varying recurrence.

    ``M = Abar`` (``v=None``) or ``cap(Abar + Bbar v)``; ``w = sum_i Bbar^powers[i]
    drives[i]``. Every argument broadcasts against ``abar``: the parallel scan passes all
    steps at once, the loop one step at a time.
    """
    multiplier = abar if v is None else cap_unit_modulus(abar + bbar * v)
    drive = 0
    for q, signal in zip(powers, drives, strict=True):
        drive = drive + (bbar if q == 1 else bbar**q) * signal
    return multiplier, drive


class DiagonalSSM(SSMCore):
    """S4D core: ``A = diag(-exp(log_A_real) + i A_imag)``, complex ``B`` and ``C``.

    Parameters
    ----------
    channels : int
        Number of independent SISO systems.
    d_state : int, default=64
        Real state size N (even); N/2 complex modes are kept.
    init : {"legs", "lin", "inv", "real"}, default="legs"
    disc : {"zoh", "bilinear"}, default="zoh"
    dt_min, dt_max : float
        Step sizes are drawn log-uniformly in ``[dt_min, dt_max]``, one per channel.
    """

    def __init__(
        self,
        channels: int,
        d_state: int = 64,
        *,
        init: str = "legs",
        disc: str = "zoh",
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
    ) -> None:
        super().__init__()
        if disc not in DISCRETIZATIONS:
            raise ValueError(f"unknown disc {disc!r}; use one of {DISCRETIZATIONS}")
        if d_state < 2 or d_state % 2:
            raise ValueError(f"d_state must be an even integer >= 2, got {d_state}")
        self.channels, self.d_state, self.disc = channels, d_state, disc
        A, B = diagonal_init(init, d_state)
        half = d_state // 2
        log_dt = torch.rand(channels) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        C = torch.randn(channels, half, 2) * math.sqrt(0.5)
        register_ssm_parameter(self, "log_dt", log_dt)
        register_ssm_parameter(
            self, "log_A_real", torch.log(-A.real).float().repeat(channels, 1).contiguous()
        )
        register_ssm_parameter(self, "A_imag", A.imag.float().repeat(channels, 1).contiguous())
        B = torch.view_as_real(B.to(torch.complex64)).repeat(channels, 1, 1).contiguous()
        register_ssm_parameter(self, "B", B)
        self.C = torch.nn.Parameter(C)

    # -- discretisation ------------------------------------------------------------------
    def continuous(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(dt, A, B, C)``: dt ``(channels,)``, complex A, B, C ``(channels, N/2)``."""
        A = torch.complex(-torch.exp(self.log_A_real).clamp(min=1e-4), self.A_imag)
        return (
            torch.exp(self.log_dt),
            A,
            torch.view_as_complex(self.B),
            torch.view_as_complex(self.C),
        )

    def _discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(log_Abar, Abar, Bbar, C)`` (computed once inside :meth:`reuse_discretization`)."""
        return self._cached("discrete", self._compute_discrete)

    def _compute_discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        C = torch.view_as_complex(self.C)
        if self.disc == "zoh":
            params = (self.log_dt, self.log_A_real, self.A_imag, self.B)
            return (*_ZeroOrderHold.apply(*params), C)
        dt, A, B, _ = self.continuous()
        dtA = dt[:, None] * A
        abar = (1 + dtA / 2) / (1 - dtA / 2)
        bbar = dt[:, None] * B / (1 - dtA / 2)
        return torch.log(abar), abar, bbar, C

    def discretize(self) -> dict[str, torch.Tensor]:
        _, abar, bbar, C = self._discrete()
        return {"Abar": abar, "Bbar": bbar, "C": C}

    # -- the four views ------------------------------------------------------------------
    def kernel(self, length: int, power: int = 1) -> torch.Tensor:
        log_abar, _, bbar, C = self._discrete()
        return vandermonde_kernel(output_weights(C, bbar, [power])[0], log_abar, length)

    def kernels(self, length: int, powers) -> torch.Tensor:
        log_abar, _, bbar, C = self._discrete()
        return vandermonde_kernel(output_weights(C, bbar, powers), log_abar, length)

    def convolve(self, signals, powers, skip, product=False, lagged=False):
        """As :meth:`SSMCore.convolve`; on CUDA by the fused chunked kernel (no FFT).

        The chunked form (:mod:`sslearn.nn.kernels.chunked_conv`) never builds the length-L
        kernel, adds the product term in the same pass and forms the lagged product of
        ``lagged`` inside the kernel; with ``disc="zoh"`` (and powers ``1..Q``) the
        discretisation, and the product term's gain, are fused into the kernels that build
        the chunk operators (:func:`~sslearn.nn.kernels.chunk_operators.zoh_chunk_operators`).
        On the CPU the FFT convolution is faster and is kept.
        """
        if not use_triton(signals):
            return super().convolve(signals, powers, skip, product, lagged)
        if self.disc == "zoh" and list(powers) == list(range(1, len(powers) + 1)):
            params = (self.log_dt, self.log_A_real, self.A_imag, self.B, self.C)
            ops, gain = zoh_chunk_operators(*params, len(powers), CHUNK, 2 if product else 0)
        else:
            log_abar, _, bbar, C = self._discrete()
            ops = chunk_operators_triton(output_weights(C, bbar, powers), log_abar, CHUNK)
            gain = self.liquid_gain(2) if product else None
        return chunked_conv_triton(signals, ops, skip, gain, lagged=lagged)

    def liquid_gain(self, power: int, gaps: torch.Tensor | None = None) -> torch.Tensor:
        if gaps is None:
            _, _, bbar, C = self._discrete()
            return 2 * (C * bbar**power).real.sum(-1)
        if gaps.ndim == 3 and not self._parallel(gaps):  # step by step, as the scan
            return torch.stack([self.liquid_gain(power, g) for g in gaps.unbind(-1)], dim=-1)
        _, bbar = self._gap_system(gaps)  # (L, B, H, N2) or (B, H, N2)
        gain = 2 * (torch.view_as_complex(self.C) * bbar**power).real.sum(-1)
        return gain.permute(1, 2, 0) if gaps.ndim == 3 else gain

    def liquid_scan(self, u: torch.Tensor, v: torch.Tensor | None) -> torch.Tensor:
        _, abar, bbar, C = self._discrete()
        return liquid_scan(u, v, abar, bbar, C)

    def liquid_layer_scan(self, u: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """As :meth:`SSMCore.liquid_layer_scan`; on CUDA with ``disc="zoh"`` one fused op
        (:func:`~sslearn.nn.kernels.liquid_scan.zoh_liquid_scan`): the discretisation in a
        small kernel on each side of the scan, ``tanh`` and the skip inside it."""
        if self.disc == "zoh" and use_triton(u):
            params = (self.log_dt, self.log_A_real, self.A_imag, self.B, self.C)
            return zoh_liquid_scan(u, skip, *params)
        return super().liquid_layer_scan(u, skip)

    def initial_state(self, batch_size: int) -> torch.Tensor:
        dtype = torch.complex128 if self.C.dtype == torch.float64 else torch.complex64
        return torch.zeros(
            batch_size, self.channels, self.d_state // 2, dtype=dtype, device=self.C.device
        )

    def step(self, state, drive, v=None, power=1, gaps=None):
        if gaps is None:
            _, abar, bbar, C = self._discrete()
        else:
            (abar, bbar), C = self._gap_system(gaps), torch.view_as_complex(self.C)
        multiplier = abar if v is None else cap_unit_modulus(abar + bbar * v[..., None])
        state = multiplier * state + bbar**power * drive[..., None]
        return 2 * (C * state).real.sum(-1), state

    # -- irregular sampling --------------------------------------------------------------
    def discretize_steps(self, gaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Abar, Bbar)`` for the step sizes ``dt * gaps``, in plain torch (autograd).

        The core's own formula (``disc``) with each channel's learned ``dt`` scaled by the
        gap: zero-order hold ``Abar = exp(s A)``, ``Bbar = expm1(s A) / A B``, or bilinear
        ``Abar = (1 + s A/2) / (1 - s A/2)``, ``Bbar = s B / (1 - s A/2)``, ``s = dt gaps``.

        Parameters
        ----------
        gaps : tensor of shape (..., channels)

        Returns
        -------
        Abar, Bbar : complex tensors of shape (..., channels, N/2)
        """
        dt, A, B, _ = self.continuous()
        return discretize_diagonal(dt, A, B, gaps, self.disc)

    def _gap_system(self, gaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`discretize_steps` of gaps (B, H, L) as (L, B, H, N2) (time first, the
        scan's layout), or of gaps (B, H) as (B, H, N2); computed once per gaps tensor
        inside :meth:`reuse_discretization`."""

        def compute():  # time-first and contiguous: every (L, B, H, N2) result is too
            steps = gaps.permute(2, 0, 1).contiguous() if gaps.ndim == 3 else gaps
            return self.discretize_steps(steps)

        if self._cache is None:
            return compute()
        hit = self._cache.get("gaps")
        if hit is None or hit[0] is not gaps:
            hit = self._cache["gaps"] = (gaps, compute())
        return hit[1]

    def _parallel(self, gaps: torch.Tensor) -> bool:
        """Whether gaps (B, H, L) take the parallel scan (or the loop over the steps)."""
        batch, channels = gaps.shape[:2]
        return use_parallel_scan(batch * channels * (self.d_state // 2), gaps.device)

    def irregular_scan(self, drives, powers, gaps, v=None):
        """As :meth:`SSMCore.irregular_scan`, in one of two ways that give the same numbers.

        On CUDA (and on the CPU for small batches) every step is discretised at once, as
        ``(L, B, H, N/2)`` tensors, and the recurrence runs as the parallel scan
        :func:`~sslearn.nn.kernels.ltv_scan.ltv_scan_parallel`. Otherwise a loop over the
        steps discretises each in its turn (:meth:`_irregular_loop`): on the CPU its small
        tensors stay in cache and the large ones the parallel form needs cost more than
        the loop saves (:data:`~sslearn.nn.kernels.ltv_scan.CPU_LOOP_MIN_ELEMENTS`).
        """
        if not self._parallel(gaps):
            return self._irregular_loop(drives, powers, gaps, v)
        abar, bbar = self._gap_system(gaps)  # (L, B, H, N2)

        def time_first(x: torch.Tensor) -> torch.Tensor:  # (B, H, L) -> (L, B, H, 1)
            return x.permute(2, 0, 1).contiguous()[..., None]

        liquid = None if v is None else time_first(v)
        inputs = [time_first(drives[:, i]) for i in range(len(powers))]
        multiplier, drive = transition_terms(abar, bbar, liquid, powers, inputs)
        states = ltv_scan_parallel(multiplier, drive, dim=0)  # (L, B, H, N2)
        C = torch.view_as_complex(self.C)
        return 2 * torch.einsum("lbhn,hn->bhl", states, C).real

    def _irregular_loop(self, drives, powers, gaps, v=None):
        """:meth:`irregular_scan` by a plain loop over the steps under autograd (the twin
        of the parallel form): discretise step ``k``, advance the state, read it out."""
        dt, A, B, C = self.continuous()
        state = self.initial_state(drives.shape[0])  # (B, H, N2)
        liquid = [None] * drives.shape[-1] if v is None else v.unbind(-1)
        outputs = []
        # unbind, not [..., k]: the backward of an index writes a full-size zero tensor per step
        steps = zip(drives.unbind(-1), gaps.unbind(-1), liquid, strict=True)
        for drive_k, gaps_k, v_k in steps:  # (B, Q, H), (B, H), (B, H)
            abar, bbar = discretize_diagonal(dt, A, B, gaps_k, self.disc)  # (B, H, N2)
            liquid_k = None if v_k is None else v_k[..., None]
            inputs = [drive_k[:, i, :, None] for i in range(len(powers))]
            multiplier, drive = transition_terms(abar, bbar, liquid_k, powers, inputs)
            state = torch.addcmul(drive, multiplier, state)
            outputs.append(2 * (C * state).real.sum(-1))
        return torch.stack(outputs, dim=-1)
