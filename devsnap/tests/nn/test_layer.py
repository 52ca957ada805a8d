"""LiquidSSM against float64 sequential references: every liquid mode, step, causality,
padding, bidirectionality, gradients and precision."""

import numpy as np
import pytest
import torch

from sslearn.nn import LiquidSSM
from tests.nn import reference as ref

LIQUID = [None, "kb", "pb", "exact"]
SSMS = ["diag", "dplr", "lssl"]


def make_layer(seed=0, d_model=3, d_state=8, dtype=torch.float64, device="cpu", **kwargs):
    torch.manual_seed(seed)
    kwargs.setdefault("dt_min", 0.05)
    kwargs.setdefault("dt_max", 0.5)
    if kwargs.get("ssm") in ("dplr", "lssl"):
        kwargs.setdefault("disc", "bilinear")
    return LiquidSSM(d_model, d_state, **kwargs).to(dtype=dtype, device=device)


def random_input(shape, seed=1, scale=1.0, dtype=torch.float64, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(*shape, generator=gen, dtype=dtype)).to(device)


def reference_output(layer, u, liquid_kernel, degree):
    params = ref.to_numpy(layer.discretize())
    args = (u.cpu().numpy(), params["Abar"], params["Bbar"], params["C"], params["D"])
    if liquid_kernel is None:
        return ref.linear_recurrence(*args)
    if liquid_kernel == "exact":
        return ref.liquid_recurrence(*args)
    if liquid_kernel == "kb":
        return ref.liquid_kb(*args, degree)
    return ref.liquid_pb(*args, degree)


@pytest.mark.parametrize("degree", [2, 3])
@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize(
    ("init", "disc"), [("legs", "zoh"), ("lin", "bilinear"), ("inv", "zoh"), ("real", "bilinear")]
)
def test_diag_matches_sequential_reference(liquid_kernel, degree, init, disc, device):
    layer = make_layer(
        ssm="diag",
        liquid_kernel=liquid_kernel,
        liquid_degree=degree,
        init=init,
        disc=disc,
        device=device,
    )
    u = random_input((2, 3, 40), device=device)
    expected = reference_output(layer, u, liquid_kernel, degree)
    np.testing.assert_allclose(layer(u).detach().cpu().numpy(), expected, rtol=1e-9, atol=1e-10)


def test_exact_and_kb_follow_the_unrolled_paper_equation():
    """Tiny L, inputs small enough that no multiplier is capped: the layer's "exact" output
    is the sum over all input subsets, and "kb" keeps exactly the consecutive runs."""
    layer = make_layer(liquid_kernel="exact", init="lin", d_model=2, d_state=4)
    u = random_input((1, 2, 7), scale=0.5)
    p = ref.to_numpy(layer.discretize())
    args = (u.numpy(), p["Abar"], p["Bbar"], p["C"], p["D"])
    np.testing.assert_allclose(
        layer(u).detach().numpy(), ref.subset_expansion(*args), rtol=1e-9, atol=1e-12
    )
    kb = make_layer(liquid_kernel="kb", liquid_degree=3, init="lin", d_model=2, d_state=4)
    expected = ref.subset_expansion(*args, keep=lambda s: len(s) <= 3 and ref.is_run(s))
    np.testing.assert_allclose(kb(u).detach().numpy(), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("ssm", SSMS)
def test_step_equals_forward(ssm, liquid_kernel, device):
    layer = make_layer(ssm=ssm, liquid_kernel=liquid_kernel, liquid_degree=3, device=device)
    u = random_input((2, 3, 25), device=device)
    state = layer.initial_state(2)
    outputs = []
    with torch.no_grad():
        for t in range(u.shape[-1]):
            y_t, state = layer.step(u[:, :, t], state)
            outputs.append(y_t)
        expected = layer(u)
    torch.testing.assert_close(torch.stack(outputs, -1), expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("ssm", SSMS)
def test_causal(ssm, liquid_kernel, device):
    layer = make_layer(ssm=ssm, liquid_kernel=liquid_kernel, liquid_degree=3, device=device)
    u = random_input((2, 3, 30), device=device)
    y = layer(u)
    for t0 in (0, 13, 29):
        changed = u.clone()
        changed[:, :, t0] += random_input((2, 3), seed=t0 + 5, device=device)
        y2 = layer(changed)
        assert torch.equal(y2[..., :t0], y[..., :t0]) or torch.allclose(
            y2[..., :t0], y[..., :t0], rtol=0, atol=1e-12
        )
        assert (y2[..., t0] - y[..., t0]).abs().max() > 1e-6


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("ssm", SSMS)
def test_padding_invariance(ssm, liquid_kernel, bidirectional, device):
    layer = make_layer(
        ssm=ssm, liquid_kernel=liquid_kernel, bidirectional=bidirectional, device=device
    )
    lengths = [17, 30, 9]
    series = [random_input((1, 3, n), seed=10 + i, device=device) for i, n in enumerate(lengths)]
    padded = torch.cat(
        [torch.nn.functional.pad(s, (0, 30 - s.shape[-1]), value=7.0) for s in series]
    )
    lengths_t = torch.tensor(lengths, device=device)
    y = layer(padded, lengths=lengths_t)
    mask = torch.arange(30, device=device)[None, :] < lengths_t[:, None]
    y_mask = layer(padded, mask=mask)
    torch.testing.assert_close(y, y_mask)
    for i, s in enumerate(series):
        n = lengths[i]
        torch.testing.assert_close(y[i : i + 1, :, :n], layer(s), rtol=1e-9, atol=1e-10)
        assert torch.all(y[i, :, n:] == 0)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
def test_bidirectional_is_forward_plus_reversed_backward(liquid_kernel):
    layer = make_layer(liquid_kernel=liquid_kernel, bidirectional=True)
    u = random_input((2, 3, 20))
    p = ref.to_numpy(layer.discretize())
    assert p["Abar"].shape == (6, 4)
    fwd = reference_output_for(p, slice(0, 3), u.numpy(), liquid_kernel)
    bwd = reference_output_for(p, slice(3, 6), u.numpy()[..., ::-1], liquid_kernel)[..., ::-1]
    expected = fwd + bwd + p["D"][:, None] * u.numpy()
    np.testing.assert_allclose(layer(u).detach().numpy(), expected, rtol=1e-9, atol=1e-10)
    with pytest.raises(ValueError, match="bidirectional"):
        layer.initial_state(2)


def reference_output_for(p, channels, u, liquid_kernel):
    zero_d = np.zeros(u.shape[1])
    args = (
        np.ascontiguousarray(u),
        p["Abar"][channels],
        p["Bbar"][channels],
        p["C"][channels],
        zero_d,
    )
    return {
        None: ref.linear_recurrence,
        "exact": ref.liquid_recurrence,
        "kb": lambda *a: ref.liquid_kb(*a, 2),
        "pb": lambda *a: ref.liquid_pb(*a, 2),
    }[liquid_kernel](*args)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("ssm", SSMS)
def test_gradcheck(ssm, liquid_kernel, device):
    layer = make_layer(ssm=ssm, liquid_kernel=liquid_kernel, d_model=2, d_state=4, device=device)
    u = random_input((1, 2, 6), scale=0.7, device=device).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: layer(x), (u,))
    # parameters: perturb each SSM parameter through a functional call
    names = [n for n, _ in layer.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in layer.parameters())

    def as_function(*values):
        return torch.func.functional_call(layer, dict(zip(names, values, strict=True)), (u,))

    assert torch.autograd.gradcheck(as_function, params)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("ssm", SSMS)
def test_float32_agrees_with_float64(ssm, liquid_kernel, device):
    layer64 = make_layer(ssm=ssm, liquid_kernel=liquid_kernel, device=device)
    layer32 = make_layer(ssm=ssm, liquid_kernel=liquid_kernel, dtype=torch.float32, device=device)
    layer32.load_state_dict({k: v.float() for k, v in layer64.state_dict().items()})
    u = random_input((2, 3, 200), device=device)
    y64 = layer64(u)
    y32 = layer32(u.float())
    assert y32.dtype == torch.float32
    rel = (y32.double() - y64).norm() / y64.norm()
    assert rel < 1e-5, rel


def test_exact_is_finite_on_a_long_random_input(device):
    layer = LiquidSSM(4, 16, liquid_kernel="exact", dt_min=0.05, dt_max=0.5).to(device)
    with torch.no_grad():
        layer.core.B.mul_(20.0)  # drive |Abar + Bbar v| far above 1 without the cap
        y = layer(3.0 * random_input((2, 4, 16000), dtype=torch.float32, device=device))
    assert torch.isfinite(y).all()
    assert y.abs().max() < 1e6


def test_autocast_keeps_the_ssm_in_float32():
    layer = make_layer(liquid_kernel="pb", dtype=torch.float32)
    u = random_input((2, 3, 16), dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(u.bfloat16())
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, layer(u.bfloat16().float()))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ssm": "s5"}, "ssm"),
        ({"liquid_kernel": "polyb"}, "liquid_kernel"),
        ({"liquid_degree": 1}, "liquid_degree"),
        ({"init": "fourier"}, "init"),
        ({"ssm": "dplr", "init": "lin"}, "init"),
        ({"disc": "euler"}, "disc"),
        ({"dt_min": 0.5, "dt_max": 0.1}, "dt_min"),
        ({"d_state": 0}, "d_state"),
        ({"d_state": 5}, "even"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LiquidSSM(4, **kwargs)
    with pytest.raises(ValueError, match="d_model"):
        LiquidSSM(0)


@pytest.mark.parametrize("n_signals", [1, 3])
def test_fft_conv_matches_direct_sum_and_gradcheck(n_signals, device):
    from sslearn.nn.kernels.fftconv import causal_fft_conv

    signals = random_input((2, n_signals, 3, 9), device=device).requires_grad_()
    kernels = random_input((n_signals, 3, 9), seed=4, device=device).requires_grad_()
    direct = torch.zeros(2, 3, 9, dtype=torch.float64, device=device)
    for t in range(9):
        for j in range(t + 1):
            direct[..., t] += (kernels[None, :, :, t - j] * signals[..., j]).sum(1)
    torch.testing.assert_close(causal_fft_conv(signals, kernels), direct)
    assert torch.autograd.gradcheck(causal_fft_conv, (signals, kernels))
