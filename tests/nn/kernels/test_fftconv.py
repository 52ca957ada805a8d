"""The causal FFT convolution's CPU paths: FFT length, blocks of batch rows, the fused skip
and PB product term, the no-grad path and the sigmoid form of tanh."""

import numpy as np
import pytest
import torch

from sslearn.nn.functional import product_term
from sslearn.nn.kernels import fftconv
from sslearn.nn.kernels.fftconv import causal_fft_conv, fast_tanh, fft_length


def make_problem(batch, n_signals, channels, length, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    signals = torch.randn(batch, n_signals, channels, length, generator=gen, dtype=dtype)
    kernels = torch.randn(n_signals, channels, length, generator=gen, dtype=dtype)
    gain = torch.randn(channels, generator=gen, dtype=dtype)
    return signals, kernels, gain


def direct_conv(signals, kernels):
    """``sum_q`` of numpy's full convolutions, cut to the first ``L`` steps."""
    s, k = signals.detach().numpy(), kernels.detach().numpy()
    batch, n_signals, channels, length = s.shape
    y = np.zeros((batch, channels, length))
    for b in range(batch):
        for q in range(n_signals):
            for h in range(channels):
                y[b, h] += np.convolve(s[b, q, h], k[q, h])[:length]
    return y


def grads(fn, *inputs):
    inputs = [x.detach().clone().requires_grad_() for x in inputs]
    out = fn(*inputs)
    weight = torch.sin(torch.arange(out.numel(), dtype=out.dtype)).reshape(out.shape)
    (out * weight).sum().backward()
    return out.detach(), [x.grad for x in inputs]


@pytest.mark.parametrize("length", [1, 2, 3, 5, 9, 64, 150, 257])
def test_fft_length_is_a_cheap_size_without_wrap_around(length):
    n = fft_length(length, "cpu")
    assert n >= 2 * length - 1
    odd = n
    while odd % 2 == 0:
        odd //= 2
    assert odd in (1, 3, 5)
    assert fft_length(length, torch.device("cuda")) == 2 * length
    assert fft_length(256, "cpu") == 512


@pytest.mark.parametrize("n_signals", [1, 3])
@pytest.mark.parametrize("length", [1, 2, 7, 33, 150])
def test_matches_numpy_convolution(length, n_signals):
    signals, kernels, _ = make_problem(2, n_signals, 3, length)
    y = causal_fft_conv(signals, kernels)
    np.testing.assert_allclose(y.numpy(), direct_conv(signals, kernels), atol=1e-11, rtol=1e-10)


@pytest.mark.parametrize("n_signals", [1, 2])
def test_gradcheck(n_signals):
    signals, kernels, gain = make_problem(2, n_signals, 3, 9)
    skip = torch.randn(3, dtype=torch.float64)
    inputs = (signals, kernels, gain, skip)
    inputs = tuple(x.requires_grad_() for x in inputs)
    assert torch.autograd.gradcheck(lambda s, k, g, d: causal_fft_conv(s, k, g, skip=d), inputs)
    assert torch.autograd.gradcheck(causal_fft_conv, inputs[:2])


@pytest.mark.parametrize("n_signals", [1, 2])
def test_skip_equals_a_first_tap(n_signals):
    signals, kernels, gain = make_problem(3, n_signals, 5, 40)
    skip = torch.randn(5, dtype=torch.float64)
    fused = grads(lambda s, k, g, d: causal_fft_conv(s, k, g, skip=d), signals, kernels, gain, skip)

    def tap(s, k, g, d):
        first = torch.cat([k[:1, :, :1] + d[:, None], k[:1, :, 1:]], -1)
        return causal_fft_conv(s, torch.cat([first, k[1:]]), g)

    separate = grads(tap, signals, kernels, gain, skip)
    torch.testing.assert_close(fused[0], separate[0])
    for got, expected in zip(fused[1], separate[1], strict=True):
        torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("n_signals", [1, 2])
def test_fused_product_term_equals_separate_one(n_signals):
    signals, kernels, gain = make_problem(3, n_signals, 5, 40)
    fused = grads(lambda s, k, g: causal_fft_conv(s, k, g), signals, kernels, gain)
    separate = grads(
        lambda s, k, g: causal_fft_conv(s, k) + product_term(s[:, 0], g), signals, kernels, gain
    )
    torch.testing.assert_close(fused[0], separate[0])
    for got, expected in zip(fused[1], separate[1], strict=True):
        torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("needs", [(1, 0, 0), (0, 1, 0), (0, 0, 1)])
def test_gradients_of_one_input_at_a_time(needs):
    problem = make_problem(2, 1, 3, 12)
    inputs = [x.clone().requires_grad_(bool(f)) for x, f in zip(problem, needs, strict=True)]
    causal_fft_conv(*inputs).pow(2).sum().backward()
    signals, kernels, gain = (x.clone().requires_grad_() for x in problem)
    separate = causal_fft_conv(signals, kernels) + product_term(signals[:, 0], gain)
    separate.pow(2).sum().backward()
    for x, expected, flag in zip(inputs, (signals, kernels, gain), needs, strict=True):
        assert (x.grad is not None) == bool(flag)
        if flag:
            torch.testing.assert_close(x.grad, expected.grad)


@pytest.mark.parametrize("product", [False, True])
def test_no_grad_path_equals_autograd_path(product):
    signals, kernels, gain = make_problem(2, 2, 4, 30, dtype=torch.float32)
    gain = gain if product else None
    expected = causal_fft_conv(signals, kernels.requires_grad_(), gain).detach()
    with torch.no_grad():
        got = causal_fft_conv(signals, kernels, gain)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert kernels.grad is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fast_tanh(dtype):
    x = torch.linspace(-30, 30, 10001, dtype=dtype)
    x = torch.cat([x, torch.tensor([-1e4, 1e4], dtype=dtype)])
    atol = 4 * torch.finfo(dtype).eps
    torch.testing.assert_close(fast_tanh(x), torch.tanh(x), rtol=0, atol=atol)
    assert torch.isfinite(fast_tanh(x)).all()


@pytest.mark.parametrize("product", [False, True])
@pytest.mark.parametrize("n_signals", [1, 2])
def test_blocks_of_rows_equal_one_block(n_signals, product):
    signals, kernels, gain = make_problem(5, n_signals, 4, 20)
    gain = gain if product else None
    one_block = grads(lambda s, k: causal_fft_conv(s, k, gain), signals, kernels)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fftconv, "_FFT_BLOCK_BYTES", 1)  # one batch row per block
        row_by_row = grads(lambda s, k: causal_fft_conv(s, k, gain), signals, kernels)
        with torch.no_grad():
            no_grad = causal_fft_conv(signals, kernels, gain)
    torch.testing.assert_close(row_by_row[0], one_block[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(no_grad, row_by_row[0], rtol=0, atol=0)
    for got, expected in zip(row_by_row[1], one_block[1], strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("block_bytes", "rows"), [(400, 4), (300, 4), (550, 6), (10**9, 16), (1, 1), (60, 1)]
)
def test_fft_block_rows_are_about_the_block_size(block_bytes, rows, monkeypatch):
    monkeypatch.setattr(fftconv, "_FFT_BLOCK_BYTES", block_bytes)
    assert fftconv.fft_block_rows(16, 100) == rows


def reference_conv(signals, kernels, gain=None):
    """Causal convolution by ``conv1d`` (plus the PB term): autograd gives reference grads."""
    _, n_signals, channels, length = signals.shape
    y = 0
    for q in range(n_signals):
        padded = torch.nn.functional.pad(signals[:, q], (length - 1, 0))
        y = y + torch.nn.functional.conv1d(padded, kernels[q].flip(-1)[:, None], groups=channels)
    return y if gain is None else y + product_term(signals[:, 0], gain)


def test_workspace_keeps_one_buffer_per_name_shape_and_dtype():
    like = torch.empty(0)
    first = fftconv.workspace("test", (2, 3), like)
    assert fftconv.workspace("test", (2, 3), like).data_ptr() == first.data_ptr()
    assert fftconv.workspace("test", (3, 2), like).shape == (3, 2)
    assert fftconv.workspace("test", (3, 2), like.double()).dtype == torch.float64
    fftconv.clear_workspace()
    assert fftconv.workspace("test", (3, 2), like).dtype == torch.float32


@pytest.mark.parametrize("product", [False, True])
@pytest.mark.parametrize("n_signals", [1, 2])
def test_reused_buffers_across_calls_and_live_graphs(n_signals, product):
    """Calls sharing the workspace: a shorter series with the same FFT length (the padding
    must be zeroed again) and two graphs alive before one backward pass."""
    gen = torch.Generator().manual_seed(7)
    grad_weights = []
    outputs, references, leaves = [], [], []
    for length in (256, 250):
        assert fft_length(length, "cpu") == 512
        signals, kernels, gain = make_problem(3, n_signals, 4, length, seed=length)
        gain = gain if product else None
        mine = [x.clone().requires_grad_() for x in (signals, kernels)]
        theirs = [x.clone().requires_grad_() for x in (signals, kernels)]
        outputs.append(causal_fft_conv(*mine, gain))
        references.append(reference_conv(*theirs, gain))
        leaves.append((mine, theirs))
        grad_weights.append(torch.randn(3, 4, length, generator=gen, dtype=torch.float64))
    sum((y * w).sum() for y, w in zip(outputs, grad_weights, strict=True)).backward()
    sum((y * w).sum() for y, w in zip(references, grad_weights, strict=True)).backward()
    for got, expected in zip(outputs, references, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    for mine, theirs in leaves:
        for got, expected in zip(mine, theirs, strict=True):
            torch.testing.assert_close(got.grad, expected.grad, rtol=1e-10, atol=1e-10)
