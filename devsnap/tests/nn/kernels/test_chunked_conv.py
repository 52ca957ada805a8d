"""The chunked diagonal-SSM convolution: twin against a direct float64 sum, and the fused
Triton kernel (CUDA, or Triton's interpreter on the CPU) against the twin, gradients included.
"""

import pytest
import torch

from sslearn.nn.kernels import triton_available
from sslearn.nn.kernels.chunk_operators import chunk_operators
from sslearn.nn.kernels.chunked_conv import (
    chunked_conv_reference,
    chunked_conv_triton,
)

needs_triton = pytest.mark.skipif(not triton_available(), reason="Triton is not installed")


def make_problem(batch, n_signals, channels, n_states, length, seed):
    gen = torch.Generator().manual_seed(seed)
    signals = torch.randn(batch, n_signals, channels, length, generator=gen, dtype=torch.float64)
    decay = 0.02 + 0.5 * torch.rand(channels, n_states, generator=gen, dtype=torch.float64)
    freq = torch.randn(channels, n_states, generator=gen, dtype=torch.float64)
    log_a = torch.complex(-decay, freq)
    weight = torch.complex(*torch.randn(2, n_signals, channels, n_states, generator=gen).double())
    skip = torch.randn(channels, generator=gen, dtype=torch.float64)
    return signals, weight, log_a, skip


def direct_conv(signals, weight, log_a, skip):
    """``y[t] = sum_q sum_{j<=t} K_q[t-j] s_q[j]`` with the kernels built term by term."""
    length = signals.shape[-1]
    m = torch.arange(length, dtype=torch.float64)
    kernels = 2 * torch.einsum("qhn,hnm->qhm", weight, torch.exp(log_a[..., None] * m)).real
    kernels[0, :, 0] += skip
    y = torch.zeros(signals.shape[0], signals.shape[2], length, dtype=torch.float64)
    for t in range(length):
        window = kernels[..., : t + 1].flip(-1)
        y[..., t] = torch.einsum("bqhj,qhj->bh", signals[..., : t + 1], window)
    return y


@pytest.mark.parametrize(("n_signals", "length", "chunk"), [(1, 40, 16), (2, 33, 8), (1, 7, 16)])
def test_twin_matches_direct_sum(n_signals, length, chunk):
    signals, weight, log_a, skip = make_problem(3, n_signals, 2, 5, length, seed=length)
    ops = chunk_operators(weight, log_a, chunk)
    expected = direct_conv(signals, weight, log_a, skip)
    assert torch.allclose(chunked_conv_reference(signals, ops, skip), expected, atol=1e-11)


def test_twin_is_causal():
    signals, weight, log_a, skip = make_problem(2, 1, 3, 4, 50, seed=1)
    ops = chunk_operators(weight, log_a, 16)
    changed = signals.clone()
    changed[..., 37:] = torch.randn_like(changed[..., 37:])
    before = chunked_conv_reference(signals, ops, skip)
    after = chunked_conv_reference(changed, ops, skip)
    assert torch.equal(before[..., :37], after[..., :37])
    assert not torch.allclose(before[..., 37:], after[..., 37:])


@pytest.fixture
def triton_device(device):
    if device == "cpu" and torch.cuda.is_available():
        pytest.skip("the interpreter run is for machines without a GPU")
    return device


def _outputs_and_grads(conv, problem, chunk, dy, dtype, device, **options):
    leaves = [x.detach().to(device).requires_grad_() for x in problem]
    signals, weight, log_a, skip, *gain = leaves
    complex_dtype = torch.complex64 if dtype == torch.float32 else torch.complex128
    ops = chunk_operators(weight.to(complex_dtype), log_a.to(complex_dtype), chunk)
    y = conv(signals.to(dtype), ops, skip.to(dtype), *(g.to(dtype) for g in gain), **options)
    (y.double() * dy.to(device)).sum().backward()
    return [y.detach().double().cpu()] + [x.grad.cpu() for x in leaves]


def test_twin_product_term_is_the_lagged_product():
    signals, weight, log_a, skip = make_problem(2, 1, 3, 4, 30, seed=3)
    gain = torch.randn(3, dtype=torch.float64)
    ops = chunk_operators(weight, log_a, 8)
    u = signals[:, 0]
    expected = direct_conv(signals, weight, log_a, skip)
    expected[..., 1:] += gain[:, None] * u[..., :-1] * torch.tanh(u[..., 1:])
    assert torch.allclose(chunked_conv_reference(signals, ops, skip, gain), expected, atol=1e-11)


@needs_triton
@pytest.mark.parametrize(
    ("batch", "n_signals", "channels", "n_states", "length", "product", "segments"),
    [
        (3, 1, 2, 16, 40, False, 1),
        (3, 1, 2, 16, 40, True, 1),
        (2, 2, 3, 5, 37, False, 1),
        (2, 3, 1, 16, 20, False, 1),
        (17, 1, 1, 32, 16, True, 1),
        (3, 1, 2, 16, 100, True, 3),  # segments of 3 chunks, the last one shorter
        (2, 2, 1, 5, 90, False, 2),
        (2, 1, 1, 16, 64, False, 4),  # one chunk per segment
    ],
)
def test_triton_matches_twin(
    triton_device, batch, n_signals, channels, n_states, length, product, segments
):
    """Forward and every gradient, float32 kernel vs float64 twin; a batch that does not
    fill the row block, lengths that are not a multiple of the chunk, padded modes, with and
    without the fused degree-2 product term, each series in one or several time segments."""
    problem = make_problem(batch, n_signals, channels, n_states, length, seed=batch)
    if product:
        problem = (*problem, torch.randn(channels, dtype=torch.float64))
    dy = torch.randn(batch, channels, length, dtype=torch.float64)
    expected = _outputs_and_grads(
        chunked_conv_reference, problem, 16, dy, torch.float64, triton_device
    )
    got = _outputs_and_grads(
        chunked_conv_triton, problem, 16, dy, torch.float32, triton_device, segments=segments
    )
    names = ("y", "signals", "weight", "log_a", "skip", "gain")[: len(got)]
    for name, want, have in zip(names, expected, got, strict=True):
        error = (have - want).abs().max() / want.abs().max()
        assert error < 2e-5, f"{name}: relative error {error:.2e}"


@needs_triton
def test_triton_rejects_a_chunk_it_cannot_tile(triton_device):
    signals, weight, log_a, _ = make_problem(1, 1, 1, 4, 8, seed=0)
    ops = chunk_operators(weight.to(torch.complex64), log_a.to(torch.complex64), 24)
    with pytest.raises(ValueError, match="power of two >= 16"):
        chunked_conv_triton(signals.float().to(triton_device), ops)


@pytest.mark.parametrize("segments", [1, 3])
@needs_triton
def test_triton_lagged_product_matches_twin(triton_device, segments):
    """``lagged=True``: the kernel forms ``u[t-1] tanh(u[t])`` itself; forward and every
    gradient against the float64 twin, which builds and stacks the product explicitly."""
    signals, weight, log_a, skip = make_problem(3, 2, 2, 16, 100, seed=7)
    problem = (signals[:, :1].contiguous(), weight, log_a, skip)
    dy = torch.randn(3, 2, 100, dtype=torch.float64)
    expected = _outputs_and_grads(
        chunked_conv_reference, problem, 16, dy, torch.float64, triton_device, lagged=True
    )
    got = _outputs_and_grads(
        chunked_conv_triton, problem, 16, dy, torch.float32, triton_device,
        lagged=True, segments=segments,
    )  # fmt: skip
    for name, want, have in zip(("y", "u", "weight", "log_a", "skip"), expected, got, strict=True):
        error = (have - want).abs().max() / want.abs().max()
        assert error < 2e-5, f"{name}: relative error {error:.2e}"


def test_twin_lagged_equals_stacked_product():
    signals, weight, log_a, skip = make_problem(2, 2, 3, 4, 30, seed=5)
    u = signals[:, :1]
    ops = chunk_operators(weight, log_a, 8)
    product = torch.nn.functional.pad(u[..., :-1], (1, 0)) * torch.tanh(u)
    stacked = chunked_conv_reference(torch.cat([u, product], 1), ops, skip)
    assert torch.allclose(chunked_conv_reference(u, ops, skip, lagged=True), stacked, atol=1e-12)
