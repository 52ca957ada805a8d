"""DPLRSSM (S4 HiPPO-LegS, Cauchy + Woodbury kernel) against independent float64 loops."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.func import functional_call

from sslearn.nn.cores.dplr import DPLRSSM
from sslearn.nn.functional import nplr_legs

H, N = 3, 8


def make_core(seed: int = 0, perturb: bool = True, **kwargs) -> DPLRSSM:
    """A float64 core with dt in [1e-2, 0.5] and (optionally) parameters moved off the init."""
    torch.manual_seed(seed)
    kwargs = {"dt_min": 1e-2, "dt_max": 0.5, **kwargs}
    core = DPLRSSM(H, N, **kwargs).double()
    if perturb:
        gen = torch.Generator().manual_seed(seed + 100)
        with torch.no_grad():
            for name in ("log_A_real", "A_imag", "P", "B"):
                param = getattr(core, name)
                param.add_(0.1 * torch.randn(param.shape, generator=gen, dtype=param.dtype))
    return core


def inputs(seed: int, length: int, batch: int = 2, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(batch, H, length, generator=gen, dtype=torch.float64)


def reference_kernel(system: dict, length: int, power: int) -> torch.Tensor:
    """``Re(C Abar^m Bbar^q)`` by ``length`` plain matrix-vector products."""
    Abar, C = system["Abar"], system["C"]
    x = system["Bbar"] ** power
    taps = []
    for _ in range(length):
        taps.append((C * x).sum(-1).real)
        x = torch.einsum("hnk,hk->hn", Abar, x)
    return torch.stack(taps, dim=-1)


def reference_scan(system: dict, u: torch.Tensor, v: torch.Tensor | None, power: int = 1):
    """The liquid recurrence, one dense step at a time, full complex state."""
    Abar, Bbar, C = system["Abar"], system["Bbar"], system["C"]
    x = torch.zeros(u.shape[0], H, N, dtype=Abar.dtype)
    ys = []
    for t in range(u.shape[-1]):
        new = torch.einsum("hnk,bhk->bhn", Abar, x)
        if v is not None:
            new = new + Bbar * v[:, :, t, None] * x
        x = new + Bbar**power * u[:, :, t, None]
        ys.append((C * x).sum(-1).real)
    return torch.stack(ys, dim=-1)


def causal_conv(kernel: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Direct causal convolution ``y[t] = sum_{m <= t} K[m] u[t - m]``."""
    length = u.shape[-1]
    lag = torch.arange(length)[:, None] - torch.arange(length)[None, :]  # (t, s)
    toeplitz = torch.where(lag >= 0, kernel[:, lag.clamp(min=0)], 0.0)  # (H, L, L)
    return torch.einsum("hts,bhs->bht", toeplitz, u)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize("length", [32, 45])
@pytest.mark.parametrize("power", [1, 2, 3])
def test_kernel_equals_matrix_powers(length, power):
    core = make_core()
    expected = reference_kernel(core.discretize(), length, power)
    assert rel(core.kernel(length, power), expected) < 1e-9
    core.chunk_elements = 2 * H * N  # many frequency chunks
    assert rel(core.kernel(length, power), expected) < 1e-9


def test_system_is_hippo_legs():
    """``V_full Abar V_full^*`` is the bilinear LegS system (exactly, with float64 params)."""
    form = nplr_legs(N)
    V = torch.cat([form["V"], form["V"].conj()], dim=1)  # (N, N) unitary
    n = torch.arange(N, dtype=torch.float64)
    root = torch.sqrt(2 * n + 1)
    A_legs = -torch.tril(root[:, None] * root[None, :], diagonal=-1) - torch.diag(n + 1)
    eye = torch.eye(N, dtype=torch.float64)

    def check(core: DPLRSSM, tol: float) -> None:
        system = core.discretize()
        for h in range(H):
            dt = system["dt"][h]
            Abar_ref = torch.linalg.solve(eye - dt / 2 * A_legs, eye + dt / 2 * A_legs)
            Bbar_ref = torch.linalg.solve(eye - dt / 2 * A_legs, dt * root)
            Abar = V @ system["Abar"][h] @ V.conj().T
            Bbar = V @ system["Bbar"][h]
            assert rel(Abar.real, Abar_ref) < tol and Abar.imag.abs().max() < tol
            assert rel(Bbar.real, Bbar_ref) < tol and Bbar.imag.abs().max() < tol

    core = make_core(perturb=False)
    check(core, 1e-5)  # parameters are stored in float32 at init
    with torch.no_grad():
        core.log_A_real.copy_(torch.log(-form["Lambda"].real).expand(H, -1))
        core.A_imag.copy_(form["Lambda"].imag.expand(H, -1))
        core.P.copy_(torch.view_as_real(form["P"]).expand(H, -1, -1))
        core.B.copy_(torch.view_as_real(form["B"]).expand(H, -1, -1))
    check(core, 1e-10)


def test_recurrence_of_discretize_equals_convolution():
    core = make_core(1)
    u = inputs(1, 40)
    expected = reference_scan(core.discretize(), u, None)
    assert rel(causal_conv(core.kernel(40), u), expected) < 1e-9


def test_liquid_scan():
    core = make_core(2)
    u, v = inputs(2, 48), inputs(3, 48, scale=0.3)
    system = core.discretize()
    assert rel(core.liquid_scan(u, v), reference_scan(system, u, v)) < 1e-12
    assert rel(core.liquid_scan(u, None), causal_conv(core.kernel(48), u)) < 1e-9


def test_step_equals_scan_and_convolution():
    core = make_core(3)
    u, v = inputs(4, 33), inputs(5, 33, scale=0.3)
    for liquid in (None, v):
        state, ys = core.initial_state(2), []
        for t in range(33):
            y, state = core.step(state, u[:, :, t], None if liquid is None else liquid[:, :, t])
            ys.append(y)
        assert rel(torch.stack(ys, -1), core.liquid_scan(u, liquid)) < 1e-12
    for power in (2, 3):
        state, ys = core.initial_state(2), []
        for t in range(33):
            y, state = core.step(state, u[:, :, t], power=power)
            ys.append(y)
        assert rel(torch.stack(ys, -1), causal_conv(core.kernel(33, power), u)) < 1e-9


def test_liquid_gain_and_half_basis_output():
    core = make_core(4)
    system = core.discretize()
    half = N // 2
    for power in (1, 2, 3):
        gain = core.liquid_gain(power)
        assert rel(gain, core.kernel(4, power)[:, 0]) < 1e-9
        # conjugate symmetry: the full sum is twice the real part of the stored half
        half_sum = 2 * (system["C"][:, :half] * system["Bbar"][:, :half] ** power).sum(-1).real
        assert rel(gain, half_sum) < 1e-12


def test_float32_matches_float64():
    torch.manual_seed(5)
    core32 = DPLRSSM(H, N, dt_min=1e-2, dt_max=0.5)
    core64 = copy.deepcopy(core32).double()
    u32, v32 = inputs(6, 40).float(), inputs(7, 40, scale=0.3).float()
    for power in (1, 2):
        assert rel(core32.kernel(40, power).double(), core64.kernel(40, power)) < 1e-4
    out32 = core32.liquid_scan(u32, v32)
    assert out32.dtype == torch.float32
    assert rel(out32.double(), core64.liquid_scan(u32.double(), v32.double())) < 1e-4


class MethodCall(torch.nn.Module):
    """Wraps ``core.<method>(*args)`` as ``forward`` so ``functional_call`` can swap params."""

    def __init__(self, core: DPLRSSM, method: str) -> None:
        super().__init__()
        self.core, self.method = core, method

    def forward(self, *args):
        return getattr(self.core, self.method)(*args)


def with_params(core: DPLRSSM, method: str, names: tuple[str, ...], *args):
    """A function of the named parameters (then ``args``) calling ``core.<method>``."""
    wrapper = MethodCall(core, method)

    def run(*values):
        head = values[: len(names)]
        params = {f"core.{name}": value for name, value in zip(names, head, strict=True)}
        return functional_call(wrapper, params, (*values[len(names) :], *args))

    return run


def test_gradcheck_kernel():
    core = make_core(6)
    core.chunk_elements = 2 * H * N  # exercise the checkpointed chunks
    names = ("log_dt", "P", "A_imag")
    params = tuple(getattr(core, name).detach().clone().requires_grad_() for name in names)
    assert torch.autograd.gradcheck(with_params(core, "kernel", names, 10, 2), params)


def test_gradcheck_liquid_scan():
    core = make_core(7)
    u = inputs(8, 6, batch=1).requires_grad_()
    v = inputs(9, 6, batch=1, scale=0.3).requires_grad_()
    B = core.B.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(with_params(core, "liquid_scan", ("B",)), (B, u, v))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="bilinear"):
        DPLRSSM(2, 8, disc="zoh")
    with pytest.raises(ValueError, match="even"):
        DPLRSSM(2, 7)
