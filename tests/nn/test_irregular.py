"""Irregular sampling (per-step gaps) against float64 numpy loops written from the equations.

Step ``k`` of a series is discretised with the step size ``dt * gaps[k]``: the references
below rebuild the discrete system of every step from the cores' raw parameters (sharing no
code with ``sslearn.nn``) and run the recurrences one step at a time.
"""

import numpy as np
import pytest
import scipy.linalg
import torch

from sslearn.nn import LiquidS4Network, LiquidSSM
from sslearn.nn.kernels import ltv_scan as scan_module
from sslearn.nn.kernels.ltv_scan import ltv_scan_parallel, ltv_scan_reference
from tests.nn import reference as ref

LIQUID = [None, "kb", "pb", "exact"]
DEGREE = 3


def make_layer(seed=0, d_model=3, d_state=8, dtype=torch.float64, device="cpu", **kwargs):
    torch.manual_seed(seed)
    kwargs.setdefault("liquid_degree", DEGREE)
    return LiquidSSM(d_model, d_state, dt_min=0.05, dt_max=0.5, **kwargs).to(device, dtype)


def random_batch(batch, channels, length, seed=1, device="cpu", dtype=torch.float64):
    """Inputs, exponential gaps (1 at step 0) and unequal lengths, with garbage padding."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(batch, channels, length))
    gaps = rng.exponential(1.0, size=(batch, length))
    gaps[:, 0] = 1.0
    lengths = np.sort(rng.integers(length // 3, length + 1, size=batch))[::-1].copy()
    lengths[0] = length
    for b, n in enumerate(lengths):
        u[b, :, n:] = 7.0
        gaps[b, n:] = np.nan
    return [torch.tensor(a).to(device, dtype) for a in (u, gaps)] + [
        torch.tensor(lengths, device=device)
    ]


def numpy_of(t):
    t = t.detach().cpu()
    return t.numpy().astype(np.complex128 if t.is_complex() else np.float64)


# -- the references --------------------------------------------------------------------
def diagonal_system(layer):
    """Continuous (dt, A, B, C) of a diagonal core from its raw parameters, and D."""
    core = layer.core
    B, C = numpy_of(core.B), numpy_of(core.C)
    return {
        "dt": np.exp(numpy_of(core.log_dt)),
        "A": -np.maximum(np.exp(numpy_of(core.log_A_real)), 1e-4) + 1j * numpy_of(core.A_imag),
        "B": B[..., 0] + 1j * B[..., 1],
        "C": C[..., 0] + 1j * C[..., 1],
        "D": numpy_of(layer.D),
        "disc": core.disc,
    }


def diagonal_step(system, channels, gap):
    """(Abar, Bbar) of shape (H, N/2) for the step size dt * gap."""
    s = system["dt"][channels, None] * gap
    A, B = system["A"][channels], system["B"][channels]
    if system["disc"] == "zoh":
        return np.exp(s * A), np.expm1(s * A) / A * B
    return (1 + s * A / 2) / (1 - s * A / 2), s * B / (1 - s * A / 2)


def dense_system(layer):
    """Per-step dense discretisation of a DPLR or LSSL core from its raw parameters."""
    core = layer.core
    dt = np.exp(numpy_of(core.log_dt))
    if layer.ssm == "lssl":
        A, B, C, disc = numpy_of(core.A), numpy_of(core.B), numpy_of(core.C), core.disc
    else:

        def full(x):
            z = x[..., 0] + 1j * x[..., 1]
            return np.concatenate([z, z.conj()], -1)

        lam = -np.maximum(np.exp(numpy_of(core.log_A_real)), 1e-4) + 1j * numpy_of(core.A_imag)
        lam = np.concatenate([lam, lam.conj()], -1)
        P = full(numpy_of(core.P))
        A = np.stack([np.diag(lam[h]) - np.outer(P[h], P[h].conj()) for h in range(len(dt))])
        B, C, disc = full(numpy_of(core.B)), full(numpy_of(core.C)), "bilinear"

    def step(channels, gap):
        abar, bbar = [], []
        for h in range(len(dt))[channels]:
            s, n = dt[h] * gap, A.shape[-1]
            if disc == "zoh":
                augmented = np.zeros((n + 1, n + 1))
                augmented[:n, :n], augmented[:n, n] = s * A[h], s * B[h]
                e = scipy.linalg.expm(augmented)
                abar.append(e[:n, :n])
                bbar.append(e[:n, n])
            else:
                left = np.eye(n) - s / 2 * A[h]
                abar.append(np.linalg.solve(left, np.eye(n) + s / 2 * A[h]))
                bbar.append(np.linalg.solve(left, s * B[h]))
        return np.stack(abar), np.stack(bbar)

    return {"step": step, "C": C, "D": numpy_of(layer.D)}


def series_reference(u, gaps, kernel, discrete, C, dense, skip):
    """One series: u (H, n), gaps (n,); ``discrete(gap)`` gives that step's (Abar, Bbar).

    Diagonal systems: ``y = 2 Re C x``, the exact transition capped at modulus 1; dense
    ones: ``y = Re C x`` with a matrix ``Abar`` and no cap.
    """
    v = np.tanh(u)
    n = u.shape[-1]
    x = np.zeros(C.shape, dtype=np.complex128)
    x_kb = {q: np.zeros_like(x) for q in range(2, DEGREE + 1)}
    y = skip[:, None] * u
    scale = 1 if dense else 2

    def transition(a, state):
        return np.einsum("hnk,hk->hn", a, state) if dense else a * state

    for k in range(n):
        abar, bbar = discrete(gaps[k])
        if kernel == "exact":
            if dense:
                x = transition(abar, x) + bbar * v[:, k, None] * x + bbar * u[:, k, None]
            else:
                a = abar + bbar * v[:, k, None]
                x = a / np.maximum(np.abs(a), 1.0) * x + bbar * u[:, k, None]
        else:
            x = transition(abar, x) + bbar * u[:, k, None]
        out = x
        for q in x_kb:
            product = ref.run_product(u, k, q)[:, None]  # (H, 1)
            if kernel == "kb":
                x_kb[q] = transition(abar, x_kb[q]) + bbar**q * product
                out = out + x_kb[q]
            elif kernel == "pb":
                y[:, k] += scale * np.real((C * bbar**q).sum(-1)) * product[:, 0]
        y[:, k] += scale * np.real((C * out).sum(-1))
    return y


def layer_reference(layer, u, gaps, lengths):
    """The layer on each series' valid prefix (zeros after), both directions."""
    u, gaps, lengths = numpy_of(u), numpy_of(gaps), lengths.cpu().numpy()
    H, dense = layer.d_model, layer.ssm != "diag"
    system = dense_system(layer) if dense else diagonal_system(layer)
    out = np.zeros(u.shape)
    for b, n in enumerate(lengths):
        ub, gb = u[b, :, :n], gaps[b, :n]
        directions = [(slice(0, H), ub, gb, system["D"])]
        if layer.bidirectional:  # reversed step j >= 1 comes gaps[n - j] after step j - 1
            back_gaps = np.concatenate([[1.0], gb[::-1][:-1]])
            directions.append((slice(H, 2 * H), ub[:, ::-1], back_gaps, np.zeros(H)))
        for i, (channels, series, series_gaps, skip) in enumerate(directions):
            if dense:

                def discrete(gap, channels=channels):
                    return system["step"](channels, gap)

            else:

                def discrete(gap, channels=channels):
                    return diagonal_step(system, channels, gap)

            C = system["C"][channels]
            y = series_reference(series, series_gaps, layer.liquid_kernel, discrete, C, dense, skip)
            out[b, :, :n] += y if i == 0 else y[:, ::-1]
    return out


@pytest.fixture(params=["parallel", "loop"])
def scan_path(request, monkeypatch):
    """Force the diagonal core's CPU path: the parallel scan or the loop over the steps."""
    threshold = 10**12 if request.param == "parallel" else 0
    monkeypatch.setattr(scan_module, "CPU_LOOP_MIN_ELEMENTS", threshold)
    return request.param


# -- the diagonal core ----------------------------------------------------------------------
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
@pytest.mark.parametrize("liquid_kernel", LIQUID)
def test_diag_matches_sequential_reference(liquid_kernel, disc, bidirectional, scan_path, device):
    layer = make_layer(
        liquid_kernel=liquid_kernel, disc=disc, bidirectional=bidirectional, device=device
    )
    u, gaps, lengths = random_batch(3, 3, 30, device=device)
    y = layer(u, lengths, gaps=gaps)
    expected = layer_reference(layer, u, gaps, lengths)
    np.testing.assert_allclose(y.detach().cpu().numpy(), expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_unit_gaps_equal_the_regular_layer(liquid_kernel, bidirectional, dtype, device):
    layer = make_layer(
        liquid_kernel=liquid_kernel, bidirectional=bidirectional, dtype=dtype, device=device
    )
    u, _, lengths = random_batch(3, 3, 40, seed=2, device=device, dtype=dtype)
    ones = torch.ones(u.shape[0], u.shape[-1], dtype=dtype, device=device)
    # float32: the regular layer convolves by FFT, the irregular one scans (float32 rounding
    # of two different algorithms, 1.5e-5 on CUDA)
    tol = {"rtol": 1e-9, "atol": 1e-10} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-4}
    torch.testing.assert_close(layer(u, lengths, gaps=ones), layer(u, lengths), **tol)
    torch.testing.assert_close(layer(u, gaps=ones), layer(u), **tol)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
def test_gradcheck(liquid_kernel):
    """Gradients in the inputs, the gaps and every parameter (the loop twin's gradients
    equal the scan's: test_parallel_scan_equals_loop)."""
    layer = make_layer(liquid_kernel=liquid_kernel, d_model=2, d_state=4, bidirectional=True)
    u, gaps, lengths = random_batch(2, 2, 6, seed=3)
    gaps = torch.where(torch.isnan(gaps), 1.0, gaps).requires_grad_()
    u = u.requires_grad_()
    assert torch.autograd.gradcheck(lambda x, g: layer(x, lengths, gaps=g), (u, gaps))
    names = [n for n, _ in layer.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in layer.parameters())

    def as_function(*values):
        inputs = (u.detach(), lengths)
        return torch.func.functional_call(
            layer, dict(zip(names, values, strict=True)), inputs, {"gaps": gaps.detach()}
        )

    assert torch.autograd.gradcheck(as_function, params)


@pytest.mark.parametrize("liquid_kernel", LIQUID)
def test_causal_in_inputs_and_gaps(liquid_kernel, device):
    layer = make_layer(liquid_kernel=liquid_kernel, device=device)
    u, gaps, _ = random_batch(2, 3, 30, seed=4, device=device)
    gaps = gaps.nan_to_num(1.0)
    y = layer(u, gaps=gaps)
    for t0 in (0, 13, 29):
        changed_u, changed_gaps = u.clone(), gaps.clone()
        changed_u[:, :, t0:] += 1.0
        changed_gaps[:, t0:] *= 3.0
        for y2 in (layer(changed_u, gaps=gaps), layer(u, gaps=changed_gaps)):
            torch.testing.assert_close(y2[..., :t0], y[..., :t0], rtol=0, atol=1e-12)
            assert (y2[..., t0] - y[..., t0]).abs().max() > 1e-6


@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize("ssm", ["diag", "dplr", "lssl"])
def test_step_equals_forward(ssm, liquid_kernel, device):
    layer = make_layer(ssm=ssm, liquid_kernel=liquid_kernel, d_state=4, device=device)
    u, gaps, _ = random_batch(2, 3, 8, seed=5, device=device)
    gaps = gaps.nan_to_num(0.5)
    state = layer.initial_state(2)
    outputs = []
    with torch.no_grad():
        for t in range(u.shape[-1]):
            y_t, state = layer.step(u[:, :, t], state, gaps[:, t])
            outputs.append(y_t)
        expected = layer(u, gaps=gaps)
    torch.testing.assert_close(torch.stack(outputs, -1), expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("liquid_kernel", LIQUID)
def test_padding_invariance(liquid_kernel, bidirectional, device):
    """NaN gaps and garbage inputs at padding change nothing; each series alone agrees."""
    layer = make_layer(liquid_kernel=liquid_kernel, bidirectional=bidirectional, device=device)
    u, gaps, lengths = random_batch(3, 3, 25, seed=6, device=device)
    assert torch.isnan(gaps).any()
    y = layer(u, lengths, gaps=gaps)
    assert torch.isfinite(y).all()
    mask = torch.arange(25, device=device)[None, :] < lengths[:, None]
    torch.testing.assert_close(layer(u, mask=mask, gaps=gaps.nan_to_num(123.0)), y)
    for b, n in enumerate(lengths.tolist()):
        alone = layer(u[b : b + 1, :, :n], gaps=gaps[b : b + 1, :n])
        torch.testing.assert_close(y[b : b + 1, :, :n], alone, rtol=1e-9, atol=1e-10)
        assert torch.all(y[b, :, n:] == 0)


def test_bad_gaps_shape_is_named():
    layer = make_layer()
    with pytest.raises(ValueError, match="gaps"):
        layer(torch.randn(2, 3, 10, dtype=torch.float64), gaps=torch.ones(2, 9))


# -- the dense cores (a loop with a discretisation per step) --------------------------------
@pytest.mark.parametrize("liquid_kernel", LIQUID)
@pytest.mark.parametrize(
    ("ssm", "disc"), [("dplr", "bilinear"), ("lssl", "zoh"), ("lssl", "bilinear")]
)
def test_dense_cores_match_sequential_reference(ssm, disc, liquid_kernel):
    layer = make_layer(
        ssm=ssm, disc=disc, liquid_kernel=liquid_kernel, d_model=2, d_state=4,
        bidirectional=liquid_kernel in ("kb", "exact"),
    )  # fmt: skip
    u, gaps, lengths = random_batch(2, 2, 10, seed=7)
    y = layer(u, lengths, gaps=gaps)
    expected = layer_reference(layer, u, gaps, lengths)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-9, atol=1e-10)


# -- the scan -------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [1, 2, 7, 64, 101])
def test_parallel_scan_equals_loop(length, device):
    gen = torch.Generator().manual_seed(length)
    shape = (2, 3, 4, length)
    modulus = torch.rand(shape, generator=gen, dtype=torch.float64)
    m = torch.polar(modulus, torch.randn(shape, generator=gen, dtype=torch.float64))
    w = torch.complex(*torch.randn(2, *shape, generator=gen, dtype=torch.float64))
    m, w = m.to(device).requires_grad_(), w.to(device).requires_grad_()
    weight = torch.complex(*torch.randn(2, *shape, generator=gen, dtype=torch.float64))
    weight = weight.to(device)
    results = []
    for scan in (ltv_scan_parallel, ltv_scan_reference):
        for time_first in (False, True):  # (..., L), or (L, ...) with dim=0
            if time_first:
                x = scan(m.movedim(-1, 0), w.movedim(-1, 0), dim=0).movedim(0, -1)
            else:
                x = scan(m, w)
            loss = (x * weight).real.sum()  # at L = 1 the scan never reads m: grad 0
            grads = torch.autograd.grad(loss, (m, w), allow_unused=True, materialize_grads=True)
            results.append((x, *grads))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert scan_module.use_parallel_scan(1 << 30, w.device) == (device == "cuda")


# -- the network ----------------------------------------------------------------------------
def irregular_input(batch, channels, length, seed=8):
    u, gaps, lengths = random_batch(batch, channels, length, seed=seed)
    return torch.cat([u, gaps[:, None]], dim=1), lengths  # gaps as the last channel


@pytest.mark.parametrize("liquid_kernel", [None, "kb", "exact"])
def test_network_step_equals_forward(liquid_kernel):
    torch.manual_seed(9)
    net = LiquidS4Network(2, 3, d_model=8, n_layers=2, d_state=4, norm="batch",
                          liquid_kernel=liquid_kernel, irregular=True).double().eval()  # fmt: skip
    x, _ = irregular_input(4, 2, 10)
    x = x.nan_to_num(1.0)
    state = net.initial_state(4)
    with torch.no_grad():
        for t in range(x.shape[-1]):
            out, state = net.step(x[:, :, t], state)
            torch.testing.assert_close(out, net(x[..., : t + 1]), rtol=1e-9, atol=1e-10)


def test_network_irregular_shapes_members_and_unit_gaps():
    torch.manual_seed(10)
    kwargs = {"d_model": 6, "n_layers": 2, "d_state": 4, "bidirectional": True}
    net = LiquidS4Network(3, 2, n_members=2, irregular=True, **kwargs).double().eval()
    assert net.config["irregular"] and net.encoder.weight.shape == (12, 3)
    x, lengths = irregular_input(3, 3, 20)
    with torch.no_grad():
        out = net(x, lengths)
        assert out.shape == (3, 2, 2) and torch.isfinite(out).all()
        assert net.embed(x, lengths).shape == (3, 12)
        assert net.features(x, lengths).shape == (3, 12, 20)
        for k in range(2):
            member = net.member(k)
            assert member.irregular
            torch.testing.assert_close(member(x, lengths), out[:, k], rtol=1e-10, atol=0)
        # per-member inputs (B, K, C + 1, L): the gaps come from member 0
        per_member = torch.stack([x, x], dim=1)
        per_member[:, 1, -1] = 5.0
        torch.testing.assert_close(net(per_member, lengths), out)
        # all-ones gaps: the regular network with the same weights
        regular = LiquidS4Network(3, 2, n_members=2, **kwargs).double().eval()
        regular.load_state_dict(net.state_dict())
        ones = x.clone()
        ones[:, -1] = 1.0
        torch.testing.assert_close(net(ones, lengths), regular(x[:, :-1], lengths))
    with pytest.raises(ValueError, match="gaps"):
        net(x[:, :-1], lengths)
    with pytest.raises(ValueError, match="irregular"):
        LiquidS4Network(3, 2, irregular="yes")
