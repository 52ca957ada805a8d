"""The CPU Vandermonde kernel (real block products, hand-written backward) against the
naive complex sum, with leading weight dimensions, in float32 and float64."""

import numpy as np
import pytest
import torch

from sslearn.nn.cores.diagonal import vandermonde_kernel


def make_modes(lead, channels=3, half=4, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    weight = torch.complex(*torch.randn(2, *lead, channels, half, generator=gen, dtype=dtype))
    log_a = torch.complex(
        -0.02 - 0.3 * torch.rand(channels, half, generator=gen, dtype=dtype),
        3 * torch.randn(channels, half, generator=gen, dtype=dtype),
    )
    return weight, log_a


def naive(weight, log_a, length):
    w, z = weight.detach().numpy().astype(complex), log_a.detach().numpy().astype(complex)
    powers = np.exp(z[..., None] * np.arange(length))  # (H, N2, L)
    return 2 * np.real(np.einsum("...hn,hnl->...hl", w, powers))


@pytest.mark.parametrize("lead", [(), (1,), (3,)])
@pytest.mark.parametrize("length", [1, 2, 5, 16, 17, 100, 256])
def test_matches_naive_sum(lead, length):
    weight, log_a = make_modes(lead)
    got = vandermonde_kernel(weight, log_a, length)
    assert got.shape == (*lead, 3, length)
    np.testing.assert_allclose(got.numpy(), naive(weight, log_a, length), rtol=1e-10, atol=1e-12)


def test_float32_accuracy():
    weight, log_a = make_modes((2,), channels=8, half=32)
    got = vandermonde_kernel(weight.to(torch.complex64), log_a.to(torch.complex64), 300)
    expected = naive(weight, log_a, 300)
    assert np.abs(got.numpy() - expected).max() < 1e-4 * np.abs(expected).max()


@pytest.mark.parametrize("lead", [(), (2,)])
@pytest.mark.parametrize("length", [1, 3, 16, 17])
def test_gradcheck(lead, length):
    weight, log_a = make_modes(lead, channels=2, half=3)
    inputs = (weight.requires_grad_(), log_a.requires_grad_())
    assert torch.autograd.gradcheck(lambda w, z: vandermonde_kernel(w, z, length), inputs)


def test_gradient_of_one_input_only():
    weight, log_a = make_modes((2,), channels=2, half=3)
    both = [weight.clone().requires_grad_(), log_a.clone().requires_grad_()]
    vandermonde_kernel(*both, 20).pow(2).sum().backward()
    only_weight = weight.clone().requires_grad_()
    vandermonde_kernel(only_weight, log_a, 20).pow(2).sum().backward()
    torch.testing.assert_close(only_weight.grad, both[0].grad)
    only_modes = log_a.clone().requires_grad_()
    vandermonde_kernel(weight, only_modes, 20).pow(2).sum().backward()
    torch.testing.assert_close(only_modes.grad, both[1].grad)


@pytest.mark.parametrize("lead", [(), (2,)])
@pytest.mark.parametrize("length", [37, 256])
def test_gradients_match_autograd_of_naive_sum(lead, length):
    weight, log_a = make_modes(lead, channels=3, half=5, seed=length)
    grad = torch.randn(
        *lead, 3, length, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    mine = [weight.clone().requires_grad_(), log_a.clone().requires_grad_()]
    (vandermonde_kernel(*mine, length) * grad).sum().backward()
    w, z = weight.clone().requires_grad_(), log_a.clone().requires_grad_()
    powers = torch.exp(z[..., None] * torch.arange(length, dtype=torch.float64))
    naive_kernel = 2 * torch.einsum("...hn,hnl->...hl", w, powers).real
    (naive_kernel * grad).sum().backward()
    torch.testing.assert_close(mine[0].grad, w.grad, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(mine[1].grad, z.grad, rtol=1e-9, atol=1e-9)
