"""The diagonal (S4D) core against closed-form discretisations and a naive Vandermonde sum."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch

from sslearn.nn.cores import ssm_parameters
from sslearn.nn.cores.diagonal import DiagonalSSM, vandermonde_kernel
from sslearn.nn.functional import diagonal_init, nplr_legs, transition


def make_core(init="lin", disc="zoh", seed=0, channels=3, d_state=8):
    torch.manual_seed(seed)
    return DiagonalSSM(channels, d_state, init=init, disc=disc, dt_min=0.01, dt_max=0.5).double()


@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
@pytest.mark.parametrize("init", ["legs", "lin", "inv", "real"])
def test_discretize_matches_closed_form(init, disc):
    core = make_core(init, disc)
    dt, A, B, C = (t.detach().numpy() for t in core.continuous())
    out = {k: v.detach().numpy() for k, v in core.discretize().items()}
    dtA = dt[:, None] * A
    if disc == "zoh":
        abar, bbar = np.exp(dtA), (np.exp(dtA) - 1) / A * B
    else:
        abar, bbar = (1 + dtA / 2) / (1 - dtA / 2), dt[:, None] * B / (1 - dtA / 2)
    np.testing.assert_allclose(out["Abar"], abar, rtol=1e-12)
    np.testing.assert_allclose(out["Bbar"], bbar, rtol=1e-12)
    np.testing.assert_allclose(out["C"], C)
    assert out["Abar"].shape == (3, 4) and np.all(np.abs(out["Abar"]) < 1)


@pytest.mark.parametrize("length", [1, 2, 7, 16, 33, 100])
@pytest.mark.parametrize("power", [1, 2, 3])
def test_kernel_matches_naive_vandermonde(length, power):
    core = make_core("inv", "bilinear")
    d = {k: v.detach().numpy() for k, v in core.discretize().items()}
    m = np.arange(length)
    naive = 2 * np.real(
        np.einsum("hn,hnl->hl", d["C"] * d["Bbar"] ** power, d["Abar"][..., None] ** m)
    )
    got = core.kernel(length, power=power).detach().numpy()
    np.testing.assert_allclose(got, naive, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("outputs", [(0,), (1,), (2,), (0, 2), (0, 1, 2)])
def test_zero_order_hold_gradients(outputs):
    """The fused discretisation's hand-written backward, for any subset of its outputs
    (None gradients for the rest), the clamp of ``exp(log_A_real)`` at 1e-4 included."""
    from sslearn.nn.cores.diagonal import _ZeroOrderHold

    core = make_core("lin")
    with torch.no_grad():
        core.log_A_real[0, 0] = math.log(1e-5)  # below the clamp: no gradient there
    params = tuple(
        p.detach().clone().requires_grad_()
        for p in (core.log_dt, core.log_A_real, core.A_imag, core.B)
    )

    def picked(*values):
        result = _ZeroOrderHold.apply(*values)
        return tuple(result[i] for i in outputs)

    assert torch.autograd.gradcheck(picked, params)
    picked(*params)[0].abs().sum().backward()
    assert params[1].grad[0, 0] == 0


def test_vandermonde_kernel_gradcheck():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(2, 3, dtype=torch.complex128, generator=gen, requires_grad=True)
    log_a = torch.complex(
        -torch.rand(2, 3, dtype=torch.float64, generator=gen),
        torch.randn(2, 3, dtype=torch.float64, generator=gen),
    ).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: vandermonde_kernel(a, b, 11), (w, log_a))


def test_legs_init_is_the_hippo_diagonal():
    form = nplr_legs(8)
    A, _ = transition("legs", 8)
    full_v = torch.cat([form["V"], form["V"].conj()], dim=1)
    full_lambda = torch.cat([form["Lambda"], form["Lambda"].conj()])
    full_p = torch.cat([form["P"], form["P"].conj()])
    rebuilt = full_v @ (torch.diag(full_lambda) - full_p[:, None] * full_p.conj()[None, :])
    rebuilt = rebuilt @ full_v.conj().T
    torch.testing.assert_close(rebuilt.real, A, atol=1e-10, rtol=0)
    assert rebuilt.imag.abs().max() < 1e-10
    lam, b = diagonal_init("legs", 8)
    torch.testing.assert_close(lam, form["Lambda"])
    torch.testing.assert_close(b, form["B"])
    assert torch.all(lam.real == -0.5) and torch.all(lam.imag > 0)


def test_inits_and_parameters_are_real_and_tagged():
    core = DiagonalSSM(4, 6, init="inv")
    for name, param in core.named_parameters():
        assert not param.is_complex(), name
    tagged = {id(p) for p in ssm_parameters(core)}
    assert {n for n, p in core.named_parameters() if id(p) in tagged} == {
        "log_dt",
        "log_A_real",
        "A_imag",
        "B",
    }
    copied = copy.deepcopy(core)  # the tag survives copies and pickles
    assert len(ssm_parameters(copied)) == 4
    assert len(ssm_parameters(pickle.loads(pickle.dumps(core)))) == 4
    dt = core.continuous()[0]
    assert torch.all((dt >= 1e-3 * (1 - 1e-6)) & (dt <= 1e-1 * (1 + 1e-6)))
    _, A, _, _ = core.continuous()
    n = torch.arange(3, dtype=torch.float64)
    expected = (6 / math.pi) * (6 / (2 * n + 1) - 1)
    torch.testing.assert_close(A.imag[0].double(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("bad", [{"disc": "euler"}, {"d_state": 7}, {"init": "fourier"}])
def test_bad_arguments(bad):
    kwargs = {"channels": 2, "d_state": 8, **bad}
    with pytest.raises(ValueError, match="|".join(bad)):
        DiagonalSSM(**kwargs)
