"""Diagonal state-space core (S4D): N/2 complex modes per channel, conjugate pairs implicit."""

from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

from sslearn.nn.cores._base import SSMCore, register_ssm_parameter
from sslearn.nn.hippo import diagonal_init
from sslearn.nn.kernels._dispatch import use_triton
from sslearn.nn.kernels.chunked_conv import chunk_operators_triton, chunked_conv_triton
from sslearn.nn.kernels.liquid_scan import cap_unit_modulus, liquid_scan

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


def _power_tables(
    log_a: torch.Tensor, block: int, n_blocks: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary parts of ``exp(m log_a)`` for ``m = 0..c-1`` then ``m = 0, c, 2c..``.

    Each of shape ``(H, N2, c + n_blocks)``: one exp, one cos and one sin for both tables.
    """
    real = log_a.real.dtype
    steps = torch.cat(
        [
            torch.arange(block, device=log_a.device, dtype=real),
            torch.arange(n_blocks, device=log_a.device, dtype=real) * block,
        ]
    )
    angle = log_a.imag[..., None] * steps
    magnitude = torch.exp(log_a.real[..., None] * steps)
    return magnitude * torch.cos(angle), magnitude * torch.sin(angle)


class _RealVandermonde(torch.autograd.Function):
    """:func:`vandermonde_kernel` by real block products, with a hand-written backward.

    With ``m = b c + j``, ``I[h, n, j] = a^j``, ``O[h, n, b] = a^(b c)`` and
    ``P = weight O``: ``K[b c + j] = 2 sum_n (Re P Re I - Im P Im I)``, one real batched
    matrix product of ``[Re P; Im P]`` with ``R = [Re I; -Im I]``. For ``G = 2 dL/dK``
    another one, ``[G; G j] R^T``, gives the conjugates of ``T1[b, n] = sum_j G[b, j] I[j]``
    and ``Tm[b, n] = sum_j G[b, j] j I[j]``, and then
    ``dL/dweight = conj(sum_b O T1)``, ``dL/dlog_a = conj(sum weight sum_b O (b c T1 + Tm))``
    (PyTorch's convention for complex gradients).
    """

    @staticmethod
    def forward(ctx, weight, log_a, length, block):
        n_blocks = -(-length // block)
        re, im = _power_tables(log_a, block, n_blocks)
        outer = torch.complex(re[..., block:], im[..., block:])  # (H, N2, n_blocks)
        scaled = torch.view_as_real(weight[..., None] * outer)  # (..., H, N2, n_blocks, 2)
        left = scaled.movedim(-1, -3).flatten(-3, -2)  # (..., H, 2 N2, n_blocks)
        right = torch.cat([re[..., :block], im[..., :block].neg_()], -2)  # (H, 2 N2, c)
        kernel = torch.einsum("...hnb,hnc->...hbc", left, right).flatten(-2)[..., :length]
        ctx.save_for_backward(weight, right, outer)
        return kernel.mul_(2)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        weight, right, outer = ctx.saved_tensors
        n2, block, n_blocks = weight.shape[-1], right.shape[-1], outer.shape[-1]
        steps = torch.arange(block, device=grad.device, dtype=right.dtype)
        grad = torch.nn.functional.pad(grad, (0, block * n_blocks - grad.shape[-1]))
        grad = grad.unflatten(-1, (n_blocks, block)).mul(2)  # (..., H, n_blocks, c)
        rows = torch.cat([grad, grad * steps], -2)  # (..., H, 2 n_blocks, c)
        t = torch.einsum("...hbc,hnc->...hbn", rows, right).unflatten(-1, (2, n2))
        t = torch.view_as_complex(t.transpose(-1, -2).contiguous()).conj()
        t1, tm = t[..., :n_blocks, :], t[..., n_blocks:, :]  # (..., H, n_blocks, N2)
        outer = outer.transpose(-1, -2)  # (H, n_blocks, N2)
        d_weight = d_log_a = None
        if ctx.needs_input_grad[0]:
            d_weight = (outer * t1).sum(-2).conj()
        if ctx.needs_input_grad[1]:
            starts = torch.arange(n_blocks, device=grad.device, dtype=right.dtype) * block
            s2 = (outer * (t1 * starts[:, None] + tm)).sum(-2)
            d_log_a = (weight * s2).conj().reshape(-1, *s2.shape[-2:]).sum(0)
        return d_weight, d_log_a, None, None


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
        dt, A, B, C = self.continuous()
        dtA = dt[:, None] * A
        if self.disc == "zoh":
            log_abar = dtA
            abar = complex_exp(dtA)
            bbar = torch.expm1(dtA) / A * B
        else:
            abar = (1 + dtA / 2) / (1 - dtA / 2)
            log_abar = torch.log(abar)
            bbar = dt[:, None] * B / (1 - dtA / 2)
        return log_abar, abar, bbar, C

    def discretize(self) -> dict[str, torch.Tensor]:
        _, abar, bbar, C = self._discrete()
        return {"Abar": abar, "Bbar": bbar, "C": C}

    # -- the four views ------------------------------------------------------------------
    def kernel(self, length: int, power: int = 1) -> torch.Tensor:
        log_abar, _, bbar, C = self._discrete()
        return vandermonde_kernel(C * bbar**power, log_abar, length)

    def kernels(self, length: int, powers) -> torch.Tensor:
        log_abar, _, bbar, C = self._discrete()
        weight = torch.stack([C * bbar**q for q in powers])  # (Q, H, N2)
        return vandermonde_kernel(weight, log_abar, length)

    def convolve(self, signals, powers, skip, product_gain=None, lagged=False):
        """As :meth:`SSMCore.convolve`; on CUDA by the fused chunked kernel (no FFT).

        The chunked form (:mod:`sslearn.nn.kernels.chunked_conv`) never builds the length-L
        kernel, adds the product term in the same pass and forms the lagged product of
        ``lagged`` inside the kernel; on the CPU the FFT convolution is faster and is kept.
        """
        if not use_triton(signals):
            return super().convolve(signals, powers, skip, product_gain, lagged)
        log_abar, _, bbar, C = self._discrete()
        weight = torch.stack([C * bbar**q for q in powers])  # (Q, H, N2)
        ops = chunk_operators_triton(weight, log_abar, CHUNK)
        return chunked_conv_triton(signals, ops, skip, product_gain, lagged=lagged)

    def liquid_gain(self, power: int) -> torch.Tensor:
        _, _, bbar, C = self._discrete()
        return 2 * (C * bbar**power).real.sum(-1)

    def liquid_scan(self, u: torch.Tensor, v: torch.Tensor | None) -> torch.Tensor:
        _, abar, bbar, C = self._discrete()
        return liquid_scan(u, v, abar, bbar, C)

    def initial_state(self, batch_size: int) -> torch.Tensor:
        dtype = torch.complex128 if self.C.dtype == torch.float64 else torch.complex64
        return torch.zeros(
            batch_size, self.channels, self.d_state // 2, dtype=dtype, device=self.C.device
        )

    def step(self, state, drive, v=None, power=1):
        _, abar, bbar, C = self._discrete()
        multiplier = abar if v is None else cap_unit_modulus(abar + bbar * v[..., None])
        state = multiplier * state + bbar**power * drive[..., None]
        return 2 * (C * state).real.sum(-1), state
