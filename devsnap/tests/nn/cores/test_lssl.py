"""LSSLCore (dense HiPPO A, Krylov kernel by repeated squaring) against float64 loops."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.func import functional_call

from sslearn.nn.cores import ssm_parameters
from sslearn.nn.cores.lssl import LSSLCore, krylov

H, N = 3, 8


def make_core(seed: int = 0, perturb: bool = True, **kwargs) -> LSSLCore:
    """A float64 core with dt in [1e-2, 0.5] and (optionally) A, B moved off the HiPPO init."""
    torch.manual_seed(seed)
    kwargs = {"dt_min": 1e-2, "dt_max": 0.5, **kwargs}
    core = LSSLCore(H, N, **kwargs).double()
    if perturb:
        gen = torch.Generator().manual_seed(seed + 100)
        with torch.no_grad():
            for name in ("A", "B"):
                param = getattr(core, name)
                param.add_(0.1 * torch.randn(param.shape, generator=gen, dtype=param.dtype))
    return core


def inputs(seed: int, length: int, batch: int = 2, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(batch, H, length, generator=gen, dtype=torch.float64)


def reference_kernel(system: dict, length: int, power: int) -> torch.Tensor:
    """``C Abar^m Bbar^q`` by ``length`` plain matrix-vector products."""
    Abar, C = system["Abar"], system["C"]
    x = system["Bbar"] ** power
    taps = []
    for _ in range(length):
        taps.append((C * x).sum(-1))
        x = torch.einsum("hnk,hk->hn", Abar, x)
    return torch.stack(taps, dim=-1)


def reference_scan(system: dict, u: torch.Tensor, v: torch.Tensor | None, power: int = 1):
    """The liquid recurrence, one dense step at a time."""
    Abar, Bbar, C = system["Abar"], system["Bbar"], system["C"]
    x = torch.zeros(u.shape[0], H, N, dtype=Abar.dtype)
    ys = []
    for t in range(u.shape[-1]):
        new = torch.einsum("hnk,bhk->bhn", Abar, x)
        if v is not None:
            new = new + Bbar * v[:, :, t, None] * x
        x = new + Bbar**power * u[:, :, t, None]
        ys.append((C * x).sum(-1))
    return torch.stack(ys, dim=-1)


def causal_conv(kernel: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Causal convolution by FFT of length ``2L`` (no wrap-around)."""
    length = u.shape[-1]
    spectrum = torch.fft.rfft(kernel, n=2 * length) * torch.fft.rfft(u, n=2 * length)
    return torch.fft.irfft(spectrum, n=2 * length)[..., :length]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


class MethodCall(torch.nn.Module):
    """Wraps ``core.<method>(*args)`` as ``forward`` so ``functional_call`` can swap params."""

    def __init__(self, core: LSSLCore, method: str) -> None:
        super().__init__()
        self.core, self.method = core, method

    def forward(self, *args):
        return getattr(self.core, self.method)(*args)


def with_params(core: LSSLCore, method: str, names: tuple[str, ...], *args):
    """A function of the named parameters (then ``args``) calling ``core.<method>``."""
    wrapper = MethodCall(core, method)

    def run(*values):
        head = values[: len(names)]
        params = {f"core.{name}": value for name, value in zip(names, head, strict=True)}
        return functional_call(wrapper, params, (*values[len(names) :], *args))

    return run


@pytest.mark.parametrize("disc", ["bilinear", "zoh"])
@pytest.mark.parametrize("measure", ["legs", "legt", "lagt"])
def test_kernel_equals_matrix_powers(measure, disc):
    core = make_core(measure=measure, disc=disc)
    system = core.discretize()
    for length in (1, 2, 37, 64):
        for power in (1, 2, 3):
            expected = reference_kernel(system, length, power)
            assert rel(core.kernel(length, power), expected) < 1e-9


def test_krylov_doubling():
    gen = torch.Generator().manual_seed(11)
    A = 0.3 * torch.randn(H, N, N, generator=gen, dtype=torch.float64)
    b = torch.randn(H, N, generator=gen, dtype=torch.float64)
    columns, power = krylov(A, b, 5)
    assert columns.shape == (H, N, 8)
    for j in range(8):
        expected = torch.einsum("hnk,hk->hn", torch.linalg.matrix_power(A, j), b)
        assert rel(columns[..., j], expected) < 1e-12
    assert rel(power, torch.linalg.matrix_power(A, 8)) < 1e-12


@pytest.mark.parametrize("disc", ["bilinear", "zoh"])
def test_discretization_formulas(disc):
    core = make_core(1, disc=disc)
    system = core.discretize()
    eye = torch.eye(N, dtype=torch.float64)
    for h in range(H):
        dt, A, B = system["dt"][h], core.A[h].detach(), core.B[h].detach()
        if disc == "bilinear":
            inverse = torch.linalg.inv(eye - dt / 2 * A)
            Abar, Bbar = inverse @ (eye + dt / 2 * A), inverse @ (dt * B)
        else:
            Abar = torch.linalg.matrix_exp(dt * A)
            Bbar = torch.linalg.solve(A, (Abar - eye) @ B)
        assert rel(system["Abar"][h], Abar) < 1e-10
        assert rel(system["Bbar"][h], Bbar) < 1e-10


def test_hippo_init():
    core = make_core(perturb=False, measure="legs")
    n = torch.arange(N, dtype=torch.float64)
    root = torch.sqrt(2 * n + 1)
    A_legs = -torch.tril(root[:, None] * root[None, :], diagonal=-1) - torch.diag(n + 1)
    assert torch.allclose(core.A, A_legs.expand(H, -1, -1), atol=1e-5)
    assert torch.allclose(core.B, root.expand(H, -1), atol=1e-5)
    tagged = {id(p) for p in ssm_parameters(core)}
    assert all(id(getattr(core, name)) in tagged for name in ("A", "B", "log_dt"))
    assert id(core.C) not in tagged


@pytest.mark.parametrize("disc", ["bilinear", "zoh"])
def test_liquid_scan(disc):
    core = make_core(2, disc=disc)
    u, v = inputs(2, 48), inputs(3, 48, scale=0.3)
    system = core.discretize()
    assert rel(core.liquid_scan(u, v), reference_scan(system, u, v)) < 1e-12
    assert rel(core.liquid_scan(u, None), reference_scan(system, u, None)) < 1e-12
    assert rel(core.liquid_scan(u, None), causal_conv(core.kernel(48), u)) < 1e-9


@pytest.mark.parametrize("disc", ["bilinear", "zoh"])
def test_step_equals_scan_and_convolution(disc):
    core = make_core(3, disc=disc)
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


def test_liquid_gain():
    core = make_core(4)
    for power in (1, 2, 3):
        assert rel(core.liquid_gain(power), core.kernel(3, power)[:, 0]) < 1e-12


@pytest.mark.parametrize("disc", ["bilinear", "zoh"])
def test_float32_matches_float64(disc):
    torch.manual_seed(5)
    core32 = LSSLCore(H, N, disc=disc, dt_min=1e-2, dt_max=0.5)
    core64 = copy.deepcopy(core32).double()
    u32, v32 = inputs(6, 40).float(), inputs(7, 40, scale=0.3).float()
    for power in (1, 2):
        assert rel(core32.kernel(40, power).double(), core64.kernel(40, power)) < 1e-4
    out32 = core32.liquid_scan(u32, v32)
    assert out32.dtype == torch.float32
    assert rel(out32.double(), core64.liquid_scan(u32.double(), v32.double())) < 1e-4


@pytest.mark.parametrize("disc", ["bilinear", "zoh"])
def test_gradcheck_kernel(disc):
    core = make_core(6, disc=disc)
    names = ("log_dt", "A", "C")
    params = tuple(getattr(core, name).detach().clone().requires_grad_() for name in names)
    assert torch.autograd.gradcheck(with_params(core, "kernel", names, 11, 2), params)


def test_gradcheck_liquid_scan():
    core = make_core(7)
    u = inputs(8, 6, batch=1).requires_grad_()
    v = inputs(9, 6, batch=1, scale=0.3).requires_grad_()
    B = core.B.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(with_params(core, "liquid_scan", ("B",)), (B, u, v))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="disc"):
        LSSLCore(2, 8, disc="euler")
    with pytest.raises(ValueError, match="measure"):
        LSSLCore(2, 8, measure="fout")
