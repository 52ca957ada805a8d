"""S4 core: HiPPO-LegS in diagonal-plus-low-rank (DPLR) form, Cauchy kernel with Woodbury.

Per channel the state matrix, written in the eigenbasis ``V`` of the normal part of LegS, is

    A = diag(Lambda) - P P^*    (full basis: N modes = N/2 stored modes and their conjugates)

with ``Lambda = -exp(log_A_real) + i A_imag``. Only one mode of each conjugate pair is stored;
the full vectors are ``Lambda_full = [Lambda, conj Lambda]``, ``P_full = [P, conj P]``,
``B_full = [B, conj B]``, ``C_full = [C, conj C]`` and the output is ``y = Re(C_full x)``. At
initialisation ``V_full A V_full^*`` is exactly the real HiPPO-LegS matrix and
``V_full B_full`` its ``B`` (``V_full = [V, conj V]`` from :func:`sslearn.nn.functional.nplr_legs`).

Only the bilinear discretisation is offered: it is the one for which the truncated generating
function is a resolvent of ``A`` and hence a Cauchy sum (S4, section 3.3).
"""

from __future__ import annotations

import math

import torch
from torch.utils.checkpoint import checkpoint

from sslearn.nn.cores._base import SSMCore, register_ssm_parameter
from sslearn.nn.cores.lssl import (
    dense_irregular_scan,
    dense_liquid_scan,
    dense_step,
    gap_gains,
)
from sslearn.nn.functional import nplr_legs

DISCRETIZATIONS = ("bilinear",)


# -- structure helpers (pure functions of complex tensors) ---------------------------------
def conjugate_double(half: torch.Tensor) -> torch.Tensor:
    """``[x, conj x]`` along the last axis: the full basis from the stored half."""
    return torch.cat([half, half.conj()], dim=-1)


def dplr_matvec(diag: torch.Tensor, P: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``(diag(diag) - P P^*) x`` for vectors over the last axis (all shapes broadcast)."""
    return diag * x - P * (P.conj() * x).sum(-1, keepdim=True)


def dense_dplr(Lambda: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """Dense ``diag(Lambda) - P P^*`` of shape ``(..., N, N)`` from ``(..., N)`` vectors."""
    return torch.diag_embed(Lambda) - P[..., :, None] * P.conj()[..., None, :]


def bilinear_dense(
    A: torch.Tensor, B: torch.Tensor, dt: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear ``Abar = (I - dt A/2)^{-1}(I + dt A/2)``, ``Bbar = (I - dt A/2)^{-1} dt B``.

    ``A``: ``(H, N, N)``, ``B``: ``(H, N)``, ``dt``: ``(H,)`` (real or complex, same family).
    """
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    half_step = (dt / 2).to(A.dtype)[:, None, None]  # (H, 1, 1)
    rhs = torch.cat([eye + half_step * A, (2 * half_step[..., 0] * B)[..., None]], dim=-1)
    solved = torch.linalg.solve(eye - half_step * A, rhs)  # (H, N, N + 1)
    return solved[..., :-1], solved[..., -1]


def frequency_nodes(length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``omega_k = exp(-2 pi i k / L)`` for ``k = 0 .. L // 2`` (the rfft grid), complex."""
    angle = -2 * math.pi * torch.arange(length // 2 + 1, dtype=torch.float64) / length
    return torch.polar(torch.ones_like(angle), angle).to(device=device, dtype=dtype)


def cauchy_sums(
    weights: torch.Tensor, mu: torch.Tensor, omega: torch.Tensor, chunk: int
) -> torch.Tensor:
    """``r[h, j, k] = sum_n weights[h, j, n] / ((1 - omega_k) - (1 + omega_k) mu[h, n])``.

    This is the Cauchy kernel ``sum_n w_n / (z_k - mu_n) / (1 + omega_k)`` with the bilinear
    node ``z_k = (1 - omega_k) / (1 + omega_k)``, written homogeneously so that the Nyquist node
    ``omega = -1`` (``z = inf``) needs no special case. Frequencies are processed ``chunk`` at a
    time, so the transient ``(H, N, chunk)`` denominator bounds the memory; under autograd each
    chunk is checkpointed (recomputed in backward) so the saved memory is bounded too.
    weights: ``(H, J, N)``, mu: ``(H, N)``, omega: ``(K,)``; returns ``(H, J, K)``.
    """

    def block(w: torch.Tensor, m: torch.Tensor, om: torch.Tensor) -> torch.Tensor:
        denominator = (1 - om) - (1 + om) * m[..., None]  # (H, N, c)
        return torch.einsum("hjn,hnc->hjc", w, denominator.reciprocal())

    starts = range(0, omega.shape[0], chunk)
    if len(starts) == 1:
        return block(weights, mu, omega)
    track = torch.is_grad_enabled() and (weights.requires_grad or mu.requires_grad)
    parts = []
    for start in starts:
        om = omega[start : start + chunk]
        if track:
            parts.append(checkpoint(block, weights, mu, om, use_reentrant=False))
        else:
            parts.append(block(weights, mu, om))
    return torch.cat(parts, dim=-1)


def woodbury_spectrum(
    Ct: torch.Tensor,
    B: torch.Tensor,
    Lambda: torch.Tensor,
    P: torch.Tensor,
    dt: torch.Tensor,
    omega: torch.Tensor,
    chunk: int,
) -> torch.Tensor:
    """``Khat(omega) = Ct (I - omega Abar)^{-1} Bbar`` for bilinear ``Abar, Bbar`` of DPLR ``A``.

    With ``Abar = A1 A0``, ``Bbar = 2 A1 B`` (``A0 = 2/dt + A``, ``A1 = (2/dt - A)^{-1}``):
    ``(I - omega Abar)^{-1} Bbar = 2 M^{-1} B``, ``M = (2/dt)(1 - omega) - (1 + omega) A``.
    ``M = D + (1 + omega) P P^*`` with ``D`` diagonal, so by Woodbury
    ``Khat = 2 [r_CB - (1 + omega) r_CP r_PB / (1 + (1 + omega) r_PP)]`` where
    ``r_ab = sum_n a_n b_n (dt/2) / ((1 - omega) - (1 + omega) dt Lambda_n / 2)``.
    All vectors are full-basis ``(H, N)``; returns ``(H, K)``.
    """
    half_step = (dt / 2).to(Lambda.dtype)[:, None]  # (H, 1)
    Pc = P.conj()
    weights = half_step[:, None, :] * torch.stack([Ct * B, Ct * P, Pc * B, Pc * P], dim=1)
    r = cauchy_sums(weights, half_step * Lambda, omega, chunk)  # (H, 4, K)
    scale = 1 + omega  # (K,)
    correction = scale * r[:, 1] * r[:, 2] / (1 + scale * r[:, 3])
    return 2 * (r[:, 0] - correction)


class DPLRSSM(SSMCore):
    """S4 core: HiPPO-LegS normal-plus-low-rank state matrix, bilinear discretisation.

    Parameters
    ----------
    channels : int
        Number of independent SISO systems.
    d_state : int, default=64
        Real state size N (even); N/2 modes of ``Lambda``, ``P``, ``B``, ``C`` are stored.
    disc : {"bilinear"}, default="bilinear"
        Only the bilinear transform admits the Cauchy-kernel form; ``"zoh"`` raises.
    dt_min, dt_max : float
        Step sizes are drawn log-uniformly in ``[dt_min, dt_max]``, one per channel.

    Notes
    -----
    The state basis of this core is the full (conjugate-doubled) eigenbasis: states have
    ``N`` complex entries, ``discretize()`` returns dense ``(channels, N, N)`` matrices,
    ``Bbar^{∘q}`` is taken element-wise in this basis and ``y = Re(C_full x)``. The recurrent
    views (``liquid_scan``, ``step``) use the dense ``Abar``: ``O(N^2)`` per step.
    """

    #: Upper bound on ``channels * N * frequencies`` per Cauchy chunk (complex elements).
    chunk_elements: int = 2**22

    def __init__(
        self,
        channels: int,
        d_state: int = 64,
        *,
        disc: str = "bilinear",
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
    ) -> None:
        super().__init__()
        if disc == "zoh":
            raise ValueError(
                "DPLRSSM supports only disc='bilinear' (its Cauchy kernel is the bilinear "
                "generating function); use DiagonalSSM or LSSLCore for 'zoh'"
            )
        if disc not in DISCRETIZATIONS:
            raise ValueError(f"unknown disc {disc!r}; use one of {DISCRETIZATIONS}")
        if d_state < 2 or d_state % 2:
            raise ValueError(f"d_state must be an even integer >= 2, got {d_state}")
        self.channels, self.d_state, self.disc = channels, d_state, disc
        form = nplr_legs(d_state)
        half = d_state // 2
        log_dt = torch.rand(channels) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        C = torch.randn(channels, half, 2) * math.sqrt(0.5)

        def per_channel(x: torch.Tensor) -> torch.Tensor:
            return x.float().repeat(channels, *([1] * x.dim())).contiguous()

        Lambda = form["Lambda"]
        register_ssm_parameter(self, "log_dt", log_dt)
        register_ssm_parameter(self, "log_A_real", per_channel(torch.log(-Lambda.real)))
        register_ssm_parameter(self, "A_imag", per_channel(Lambda.imag))
        register_ssm_parameter(self, "P", per_channel(torch.view_as_real(form["P"])))
        register_ssm_parameter(self, "B", per_channel(torch.view_as_real(form["B"])))
        self.C = torch.nn.Parameter(C)

    # -- parameters and discretisation ---------------------------------------------------
    def continuous(self) -> tuple[torch.Tensor, ...]:
        """``(dt, Lambda, P, B, C)`` in the full basis: dt ``(H,)`` real, the rest ``(H, N)``."""
        Lambda = torch.complex(-torch.exp(self.log_A_real).clamp(min=1e-4), self.A_imag)
        return (
            torch.exp(self.log_dt),
            conjugate_double(Lambda),
            conjugate_double(torch.view_as_complex(self.P)),
            conjugate_double(torch.view_as_complex(self.B)),
            conjugate_double(torch.view_as_complex(self.C)),
        )

    def discretize(self) -> dict[str, torch.Tensor]:
        """Dense full-basis bilinear system, enough to run the recurrence independently.

        Returns
        -------
        dict
            ``Abar`` ``(H, N, N)``, ``Bbar`` ``(H, N)``, ``C`` ``(H, N)`` (complex, full basis:
            ``x_k = Abar x_{k-1} + Bbar u_k``, ``y_k = Re(C x_k)``), and the continuous
            ``A`` ``(H, N, N)`` (``diag(Lambda) - P P^*``), ``B`` ``(H, N)`` and ``dt``
            ``(H,)``.
        """
        dt, Lambda, P, B, C = self.continuous()
        A = dense_dplr(Lambda, P)
        Abar, Bbar = bilinear_dense(A, B, dt)
        return {"Abar": Abar, "Bbar": Bbar, "C": C, "A": A, "B": B, "dt": dt}

    def _continuous_input(
        self, bbar: torch.Tensor, dt: torch.Tensor, Lambda: torch.Tensor, P: torch.Tensor
    ) -> torch.Tensor:
        """The ``B`` whose bilinear image is ``bbar``: ``(2/dt - A) bbar / 2``."""
        two_over_dt = (2 / dt).to(Lambda.dtype)[:, None]  # (H, 1)
        return (two_over_dt * bbar - dplr_matvec(Lambda, P, bbar)) / 2

    # -- the four views ------------------------------------------------------------------
    def kernel(self, length: int, power: int = 1) -> torch.Tensor:
        """``K[m] = Re(C Abar^m Bbar^{∘power})``, ``m < length``, via Cauchy + Woodbury.

        The truncated generating function needs ``C~ = C (I - Abar^length)``; ``Abar^length``
        is formed by repeated squaring of the dense ``Abar`` (``O(N^3 log L)`` per channel).
        """
        dt, Lambda, P, B, C = self.continuous()
        Abar, Bbar = bilinear_dense(dense_dplr(Lambda, P), B, dt)
        power_L = torch.linalg.matrix_power(Abar, length)  # (H, N, N)
        C_trunc = C - torch.einsum("hn,hnk->hk", C, power_L)
        if power != 1:
            B = self._continuous_input(Bbar**power, dt, Lambda, P)
        omega = frequency_nodes(length, Lambda.dtype, Lambda.device)  # (L//2 + 1,)
        chunk = max(1, self.chunk_elements // max(1, self.channels * self.d_state))
        spectrum = woodbury_spectrum(C_trunc, B, Lambda, P, dt, omega, chunk)
        return torch.fft.irfft(spectrum, n=length)  # (H, L)

    def liquid_gain(self, power: int, gaps: torch.Tensor | None = None) -> torch.Tensor:
        if gaps is not None:
            C = conjugate_double(torch.view_as_complex(self.C))
            return gap_gains(self, C, power, gaps)
        system = self.discretize()
        return (system["C"] * system["Bbar"] ** power).sum(-1).real

    def liquid_scan(self, u: torch.Tensor, v: torch.Tensor | None) -> torch.Tensor:
        """``x_k = (Abar + diag(Bbar) v_k) x_{k-1} + Bbar u_k``, ``y_k = Re(C x_k)``.

        ``u``, ``v``: ``(B, H, L)``; returns ``(B, H, L)``. No stability cap: the layer is
        expected to squash ``v``.
        """
        state = self.initial_state(u.shape[0])  # (B, H, N)
        return dense_liquid_scan(self.discretize(), u, v, state).real

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """Zeros of shape ``(B, H, N)`` (complex, full basis)."""
        dtype = torch.complex128 if self.C.dtype == torch.float64 else torch.complex64
        return torch.zeros(
            batch_size, self.channels, self.d_state, dtype=dtype, device=self.C.device
        )

    def step(self, state, drive, v=None, power=1, gaps=None):
        y, state = dense_step(self, state, drive, v, power, gaps)
        return y.real, state

    # -- irregular sampling (sequential, slow) ---------------------------------------------
    def discretize_steps(self, gaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dense full-basis bilinear ``(Abar, Bbar)`` of the step sizes ``dt * gaps``.

        Parameters
        ----------
        gaps : tensor of shape (..., channels)

        Returns
        -------
        Abar : complex tensor of shape (..., channels, N, N)
        Bbar : complex tensor of shape (..., channels, N)
        """
        dt, Lambda, P, B, _ = self.continuous()
        A = dense_dplr(Lambda, P)  # (H, N, N)
        steps = dt * gaps  # (..., H)
        n = self.d_state
        A = A.expand(*steps.shape, n, n).reshape(-1, n, n)
        B = B.expand(*steps.shape, n).reshape(-1, n)
        Abar, Bbar = bilinear_dense(A, B, steps.reshape(-1))
        return Abar.view(*steps.shape, n, n), Bbar.view(*steps.shape, n)

    def irregular_scan(self, drives, powers, gaps, v=None):
        """As :meth:`SSMCore.irregular_scan`: a loop over the steps with a dense solve per
        series, channel and step (the Cauchy kernel needs one step size). Correct, but slow."""
        C = conjugate_double(torch.view_as_complex(self.C))
        return dense_irregular_scan(self, C, drives, powers, gaps, v)
