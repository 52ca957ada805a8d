"""sslearn.nn.functional: the shifts and lagged input products of the liquid terms."""

import pytest
import torch

from sslearn.nn.functional import lagged_products, shift_right


@pytest.mark.parametrize("length", [1, 2, 3, 7])
@pytest.mark.parametrize("steps", [0, 1, 2, 5])
def test_shift_right_keeps_the_length(length, steps):
    x = torch.randn(2, 3, length, dtype=torch.float64)
    out = shift_right(x, steps)
    assert out.shape == x.shape
    for t in range(length):
        expected = x[..., t - steps] if t >= steps else torch.zeros_like(x[..., 0])
        torch.testing.assert_close(out[..., t], expected, rtol=0, atol=0)


@pytest.mark.parametrize("length", [1, 2, 6])
def test_lagged_products_on_series_shorter_than_the_degree(length):
    u = torch.randn(2, 3, length, dtype=torch.float64)
    v = torch.randn(2, 3, length, dtype=torch.float64)
    out = lagged_products(u, v, degree=3)
    assert out.shape == u.shape
    for t in range(length):
        expected = u[..., t - 2] * v[..., t] * v[..., t - 1] if t >= 2 else 0 * u[..., t]
        torch.testing.assert_close(out[..., t], expected)
