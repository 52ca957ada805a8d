"""LSSL core: a dense real HiPPO state matrix per channel, learnable, Krylov kernel.

Per channel ``x' = A x + B u``, ``y = C x`` with ``A`` ``(N, N)``, ``B``, ``C`` ``(N,)`` real;
``A`` and ``B`` start at the HiPPO matrices of the chosen measure (LSSL, Gu et al. 2021, the
"learn=2" variant: one A per feature, stored densely rather than in quasiseparable form).
The convolution kernel is built from Krylov blocks by repeated squaring: ``O(log L)`` dense
matrix products, never ``L`` sequential matrix-vector products.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sslearn.nn.cores._base import SSMCore, register_ssm_parameter
from sslearn.nn.functional import MEASURES, transition

DISCRETIZATIONS = ("bilinear", "zoh")


def discretize_dense(
    A: torch.Tensor, B: torch.Tensor, dt: torch.Tensor, disc: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Abar, Bbar)`` of shapes ``(H, N, N)``, ``(H, N)`` from real ``A``, ``B``, ``dt``.

    ``"bilinear"``: generalized bilinear transform with ``alpha = 1/2``,
    ``Abar = (I - dt A/2)^{-1}(I + dt A/2)``, ``Bbar = (I - dt A/2)^{-1} dt B``.
    ``"zoh"``: ``exp([[dt A, dt B], [0, 0]]) = [[Abar, Bbar], [0, 1]]``.
    """
    n = A.shape[-1]
    step = dt[:, None, None]  # (H, 1, 1)
    if disc == "zoh":
        augmented = torch.zeros(A.shape[0], n + 1, n + 1, dtype=A.dtype, device=A.device)
        augmented[:, :n, :n] = step * A
        augmented[:, :n, n] = step[..., 0] * B
        exp = torch.linalg.matrix_exp(augmented)  # (H, N + 1, N + 1)
        return exp[:, :n, :n], exp[:, :n, n]
    eye = torch.eye(n, dtype=A.dtype, device=A.device)
    rhs = torch.cat([eye + step / 2 * A, (step[..., 0] * B)[..., None]], dim=-1)
    solved = torch.linalg.solve(eye - step / 2 * A, rhs)  # (H, N, N + 1)
    return solved[..., :-1], solved[..., -1]


def krylov(A: torch.Tensor, b: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Columns ``A^j b`` for ``j < 2^k`` by doubling, and the matrix ``A^(2^k)``.

    ``2^k`` is the smallest power of two ``>= length``. Each doubling is
    ``[X, A^(2^i) X]`` then ``A^(2^(i+1)) = (A^(2^i))^2``: ``k`` batched products.
    A: ``(H, N, N)``, b: ``(H, N)``; returns ``(H, N, 2^k)`` and ``(H, N, N)``.
    """
    columns = b[..., None]  # (H, N, 1)
    power = A
    while columns.shape[-1] < length:
        columns = torch.cat([columns, power @ columns], dim=-1)
        power = power @ power
    return columns, power


def krylov_kernel(
    Abar: torch.Tensor, b: torch.Tensor, C: torch.Tensor, length: int
) -> torch.Tensor:
    """``K[h, m] = C[h] Abar[h]^m b[h]`` for ``m < length``; returns ``(H, length)``.

    Positions are split as ``m = c i + j`` with ``c`` a power of two near ``sqrt(L)``:
    right columns ``Abar^j b`` (``j < c``) and left rows ``C (Abar^c)^i`` (``i < L / c``) are
    two Krylov blocks, so the memory is ``O(H N sqrt(L))`` instead of ``O(H N L)``.
    """
    block = 1 << max(0, math.ceil(math.log2(max(1, length))) // 2)
    right, power = krylov(Abar, b, block)  # (H, N, c), Abar^c
    n_blocks = -(-length // block)
    left, _ = krylov(power.transpose(-1, -2), C, n_blocks)  # (H, N, >= n_blocks)
    kernel = torch.einsum("hni,hnj->hij", left[..., :n_blocks], right[..., :block])
    return kernel.reshape(Abar.shape[0], -1)[:, :length]


class LSSLCore(SSMCore):
    """LSSL core: learnable dense ``A`` (HiPPO init), ``B``, ``dt`` and ``C``, all real.

    Parameters
    ----------
    channels : int
        Number of independent SISO systems.
    d_state : int, default=64
        State size N.
    measure : {"legs", "legt", "lagt"}, default="legs"
        HiPPO measure of the initial ``A`` and ``B``.
    disc : {"bilinear", "zoh"}, default="bilinear"
    dt_min, dt_max : float
        Step sizes are drawn log-uniformly in ``[dt_min, dt_max]``, one per channel.

    Notes
    -----
    ``A`` ``(H, N, N)``, ``B`` ``(H, N)`` and ``log_dt`` ``(H,)`` are in the SSM optimiser group;
    ``C`` ``(H, N)`` ~ ``N(0, 1)`` is a plain parameter (at init this gives kernels of about
    the same energy as the DPLR core; ``N(0, 1/N)`` would make them ~``sqrt(N)`` times weaker).
    ``Bbar^{∘q}`` is element-wise in the HiPPO basis. Recurrent views use dense ``O(N^2)`` steps.
    """

    def __init__(
        self,
        channels: int,
        d_state: int = 64,
        *,
        measure: str = "legs",
        disc: str = "bilinear",
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
    ) -> None:
        super().__init__()
        if disc not in DISCRETIZATIONS:
            raise ValueError(f"unknown disc {disc!r}; use one of {DISCRETIZATIONS}")
        if measure not in MEASURES:
            raise ValueError(f"unknown measure {measure!r}; use one of {MEASURES}")
        if d_state < 1:
            raise ValueError(f"d_state must be a positive integer, got {d_state}")
        self.channels, self.d_state, self.disc, self.measure = channels, d_state, disc, measure
        A, B = transition(measure, d_state)
        log_dt = torch.rand(channels) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        register_ssm_parameter(self, "log_dt", log_dt)
        register_ssm_parameter(self, "A", A.float().repeat(channels, 1, 1).contiguous())
        register_ssm_parameter(self, "B", B.float().repeat(channels, 1).contiguous())
        self.C = torch.nn.Parameter(torch.randn(channels, d_state))

    # -- discretisation ------------------------------------------------------------------
    def discretize(self) -> dict[str, torch.Tensor]:
        """Dense real system: ``x_k = Abar x_{k-1} + Bbar u_k``, ``y_k = C x_k``.

        Returns
        -------
        dict
            ``Abar`` ``(H, N, N)``, ``Bbar`` ``(H, N)``, ``C`` ``(H, N)`` and ``dt`` ``(H,)``.
        """
        dt = torch.exp(self.log_dt)
        Abar, Bbar = discretize_dense(self.A, self.B, dt, self.disc)
        return {"Abar": Abar, "Bbar": Bbar, "C": self.C, "dt": dt}

    # -- the four views ------------------------------------------------------------------
    def kernel(self, length: int, power: int = 1) -> torch.Tensor:
        system = self.discretize()
        return krylov_kernel(system["Abar"], system["Bbar"] ** power, system["C"], length)

    def liquid_gain(self, power: int, gaps: torch.Tensor | None = None) -> torch.Tensor:
        if gaps is not None:
            return gap_gains(self, self.C, power, gaps)
        system = self.discretize()
        return (system["C"] * system["Bbar"] ** power).sum(-1)

    def liquid_scan(self, u: torch.Tensor, v: torch.Tensor | None) -> torch.Tensor:
        """``x_k = (Abar + diag(Bbar) v_k) x_{k-1} + Bbar u_k``, ``y_k = C x_k``.

        ``u``, ``v``: ``(B, H, L)``; returns ``(B, H, L)``. No stability cap: the layer is
        expected to squash ``v``.
        """
        return dense_liquid_scan(self.discretize(), u, v, self.initial_state(u.shape[0]))

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """Zeros of shape ``(B, H, N)`` (real)."""
        return torch.zeros(
            batch_size, self.channels, self.d_state, dtype=self.C.dtype, device=self.C.device
        )

    def step(self, state, drive, v=None, power=1, gaps=None):
        return dense_step(self, state, drive, v, power, gaps)

    # -- irregular sampling (sequential, slow) ---------------------------------------------
    def discretize_steps(self, gaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Abar, Bbar)`` of the step sizes ``dt * gaps`` (``disc`` as the core's).

        Parameters
        ----------
        gaps : tensor of shape (..., channels)

        Returns
        -------
        Abar : tensor of shape (..., channels, N, N)
        Bbar : tensor of shape (..., channels, N)
        """
        steps = torch.exp(self.log_dt) * gaps  # (..., H)
        n = self.d_state
        A = self.A.expand(*steps.shape, n, n).reshape(-1, n, n)
        B = self.B.expand(*steps.shape, n).reshape(-1, n)
        Abar, Bbar = discretize_dense(A, B, steps.reshape(-1), self.disc)
        return Abar.view(*steps.shape, n, n), Bbar.view(*steps.shape, n)

    def irregular_scan(self, drives, powers, gaps, v=None):
        """As :meth:`SSMCore.irregular_scan`: a loop over the steps with a matrix
        exponential (or solve) per series, channel and step. Correct, but slow."""
        return dense_irregular_scan(self, self.C, drives, powers, gaps, v)


def advance(
    Abar: torch.Tensor,
    Bbar: torch.Tensor,
    drive_gain: torch.Tensor,
    state: torch.Tensor,
    drive: torch.Tensor,
    v: torch.Tensor | None,
) -> torch.Tensor:
    """``(Abar + diag(Bbar) v) x + drive_gain * drive`` with a dense ``Abar``.

    Abar ``(H, N, N)``; Bbar, drive_gain ``(H, N)``; state ``(B, H, N)``; drive, v ``(B, H)``.
    Works for real and complex tensors (the DPLR core uses it too).
    """
    new = torch.einsum("hnk,bhk->bhn", Abar, state)  # (B, H, N)
    if v is not None:
        new = new + Bbar * (v[..., None] * state)
    return new + drive_gain * drive[..., None]


def dense_liquid_scan(
    system: dict[str, torch.Tensor],
    u: torch.Tensor,
    v: torch.Tensor | None,
    state: torch.Tensor,
) -> torch.Tensor:
    """``y_k = C x_k`` with ``x_k = (Abar + diag(Bbar) v_k) x_{k-1} + Bbar u_k``, a loop.

    ``system`` holds a dense core's ``Abar`` ``(H, N, N)``, ``Bbar`` and ``C`` ``(H, N)``
    (real or complex); ``u``, ``v``: ``(B, H, L)``; ``state``: the initial ``(B, H, N)``.
    Returns ``(B, H, L)`` in the system's dtype (the DPLR core takes the real part).
    """
    Abar, Bbar, C = system["Abar"], system["Bbar"], system["C"]
    outputs = []
    for t in range(u.shape[-1]):
        v_t = None if v is None else v[:, :, t]
        state = advance(Abar, Bbar, Bbar, state, u[:, :, t], v_t)
        outputs.append((C * state).sum(-1))
    return torch.stack(outputs, dim=-1)


def dense_step(
    core: SSMCore,
    state: torch.Tensor,
    drive: torch.Tensor,
    v: torch.Tensor | None,
    power: int,
    gaps: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of a dense core: ``(C x_k, x_k)`` with the core's system, or with each
    series' own system of the step sizes ``dt * gaps`` (``gaps`` of shape (B, H)).

    ``state`` ``(B, H, N)``; ``drive``, ``v`` ``(B, H)``; the drive enters through
    ``Bbar**power``. The output is in the system's dtype (the DPLR core takes its real part).
    """
    system = core.discretize()
    if gaps is None:
        Abar, Bbar = system["Abar"], system["Bbar"]
        state = advance(Abar, Bbar, Bbar**power, state, drive, v)
    else:
        Abar, Bbar = core.discretize_steps(gaps)
        state = advance_steps(Abar, Bbar, [(Bbar**power, drive)], state, v)
    return (system["C"] * state).sum(-1), state


def advance_steps(
    Abar: torch.Tensor,
    Bbar: torch.Tensor,
    drives: list[tuple[torch.Tensor, torch.Tensor]],
    state: torch.Tensor,
    v: torch.Tensor | None,
) -> torch.Tensor:
    """:func:`advance` with a system per series: ``(Abar + diag(Bbar) v) x + sum g d``.

    Abar ``(B, H, N, N)``; Bbar ``(B, H, N)``; ``drives`` pairs of a gain ``(B, H, N)`` and
    a drive ``(B, H)``; state ``(B, H, N)``; v ``(B, H)`` or None.
    """
    new = (Abar @ state[..., None])[..., 0]  # (B, H, N)
    if v is not None:
        new = new + Bbar * (v[..., None] * state)
    for gain, drive in drives:
        new = new + gain * drive[..., None]
    return new


def dense_irregular_scan(
    core: SSMCore,
    C: torch.Tensor,
    drives: torch.Tensor,
    powers: Sequence[int],
    gaps: torch.Tensor,
    v: torch.Tensor | None,
) -> torch.Tensor:
    """:meth:`SSMCore.irregular_scan` of a dense core by a loop over the time steps.

    Each step discretises the ``B * H`` systems of its gaps (``core.discretize_steps`` maps
    gaps (B, H) to ``Abar`` (B, H, N, N) and ``Bbar`` (B, H, N)) and advances the state with
    :func:`advance_steps`; ``y_k = Re(C x_k)`` with ``C`` (H, N).
    """
    state = core.initial_state(drives.shape[0])  # (B, H, N)
    liquid = [None] * drives.shape[-1] if v is None else v.unbind(-1)
    outputs = []
    # unbind, not [..., k]: the backward of an index writes a full-size zero tensor per step
    steps = zip(drives.unbind(-1), gaps.unbind(-1), liquid, strict=True)
    for drive_k, gaps_k, v_k in steps:  # (B, Q, H), (B, H), (B, H)
        Abar, Bbar = core.discretize_steps(gaps_k)
        gains = [(Bbar if q == 1 else Bbar**q, drive_k[:, i]) for i, q in enumerate(powers)]
        state = advance_steps(Abar, Bbar, gains, state, v_k)
        outputs.append(torch.real((C * state).sum(-1)))
    return torch.stack(outputs, dim=-1)


def gap_gains(core: SSMCore, C: torch.Tensor, power: int, gaps: torch.Tensor) -> torch.Tensor:
    """``Re(C Bbar^{∘power})`` per step of a dense core, for gaps (B, H) or (B, H, L)."""
    if gaps.ndim == 3:
        return torch.stack([gap_gains(core, C, power, g) for g in gaps.unbind(-1)], dim=-1)
    _, Bbar = core.discretize_steps(gaps)
    return torch.real((C * Bbar**power).sum(-1))
