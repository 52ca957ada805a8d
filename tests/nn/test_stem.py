"""The convolutional stem: a float64 loop of its formula, causality, streaming, padding."""

import numpy as np
import pytest
import torch

from sslearn.nn import LiquidS4Network
from sslearn.nn.stem import ConvStem, windows_times_weights


def random_input(shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def randomised_stem(d_input, channels, n_members, causal, seed=0):
    """A stem in evaluation mode whose batch norms hold random statistics and affines."""
    torch.manual_seed(seed)
    stem = ConvStem(d_input, channels, n_members, causal=causal).double().eval()
    with torch.no_grad():
        for norm in stem.norms:
            norm.running_mean.copy_(random_input(norm.running_mean.shape, seed + 1))
            norm.running_var.copy_(random_input(norm.running_var.shape, seed + 2).exp())
            norm.weight.copy_(random_input(norm.weight.shape, seed + 3))
            norm.bias.copy_(random_input(norm.bias.shape, seed + 4))
    return stem


def stem_reference(stem, x):
    """The stem's formula as plain loops in float64 numpy: for each layer, member k's output
    channel s at step t is relu(norm(sum_{c, j} W[s, c, j] x[c, t + j - before]))
    over member k's input channels, with x zero outside [0, L)."""
    x = x.detach().numpy().astype(np.float64)
    batch, _, length = x.shape
    k_members = stem.n_members
    for conv, norm, width in zip(stem.convs, stem.norms, stem.widths, strict=True):
        assert conv.bias is None  # the batch norm's shift takes its place
        weight = conv.weight.detach().numpy()
        mean, var = norm.running_mean.numpy(), norm.running_var.numpy()
        gamma, beta = norm.weight.detach().numpy(), norm.bias.detach().numpy()
        before = width - 1 if stem.causal else (width - 1) // 2
        n_out, n_in = weight.shape[0], weight.shape[1]
        out = np.zeros((batch, n_out, length))
        for b in range(batch):
            for o in range(n_out):
                member = o // (n_out // k_members)
                for t in range(length):
                    acc = 0.0
                    for c in range(n_in):
                        for j in range(width):
                            step = t + j - before
                            if 0 <= step < length:
                                acc += weight[o, c, j] * x[b, member * n_in + c, step]
                    normed = (acc - mean[o]) / np.sqrt(var[o] + norm.eps) * gamma[o] + beta[o]
                    out[b, o, t] = max(normed, 0.0)
        x = out
    return x


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("n_members", [1, 2])
def test_stem_matches_a_float64_loop(causal, n_members):
    stem = randomised_stem(2, 3, n_members, causal)
    x = random_input((2, 2 * n_members, 11), seed=5)
    with torch.no_grad():
        np.testing.assert_allclose(stem(x).numpy(), stem_reference(stem, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_members", [1, 2])
def test_causal_stem_steps_like_forward_and_never_looks_ahead(n_members):
    stem = randomised_stem(3, 4, n_members, causal=True, seed=1)
    x = random_input((2, 3 * n_members, 14), seed=6)
    with torch.no_grad():
        whole = stem(x)
        state = stem.initial_state(2)
        for t in range(x.shape[-1]):
            out, state = stem.step(x[:, :, t], state)
            torch.testing.assert_close(out, whole[:, :, t], rtol=1e-12, atol=1e-12)
        changed = x.clone()
        changed[:, :, 9:] += random_input((2, 3 * n_members, 5), seed=7)
        after = stem(changed)
    torch.testing.assert_close(after[..., :9], whole[..., :9], rtol=0, atol=0)
    assert not torch.allclose(after[..., 9:], whole[..., 9:])


def test_centred_stem_refuses_to_step():
    stem = randomised_stem(1, 2, 1, causal=False)
    with pytest.raises(RuntimeError, match="centred"):
        stem.step(random_input((1, 1)), stem.initial_state(1))


@pytest.mark.parametrize("causal", [True, False])
def test_stem_output_does_not_depend_on_padding(causal):
    stem = randomised_stem(2, 3, 1, causal, seed=2)
    series = [random_input((2, n), seed=30 + n) for n in (6, 13, 9)]
    batch = torch.stack(
        [torch.nn.functional.pad(s, (0, 13 - s.shape[-1]), value=7.0) for s in series]
    )
    with torch.no_grad():
        out = stem(batch, torch.tensor([6, 13, 9]))
        for i, s in enumerate(series):
            n = s.shape[-1]
            torch.testing.assert_close(out[i, :, :n], stem(s[None])[0], rtol=1e-12, atol=1e-12)
            assert torch.all(out[i, :, n:] == 0)


def test_stem_gradients_match_finite_differences():
    torch.manual_seed(3)
    stem = ConvStem(2, 3, 2, causal=True).double()  # training mode: batch statistics
    x = random_input((3, 4, 9), seed=8).requires_grad_()
    lengths = torch.tensor([9, 5, 7])
    assert torch.autograd.gradcheck(lambda v: stem(v, lengths), (x,))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_network_with_a_stem(bidirectional):
    """The encoder reads each member's raw channels then its stem's; members stay
    independent; a causal network streams step by step like its forward pass."""
    torch.manual_seed(4)
    net = LiquidS4Network(
        2, 3, d_model=6, n_layers=2, d_state=4, stem_channels=5, n_members=2,
        liquid_kernel="kb", bidirectional=bidirectional, pooling="mean+max",
    ).double().eval()  # fmt: skip
    assert net.stem.causal is not bidirectional
    assert net.encoder.in_features == 2 + 5
    x = random_input((3, 2, 12), seed=9)
    with torch.no_grad():
        out = net(x)
        for k in range(2):
            torch.testing.assert_close(net.member(k)(x), out[:, k], rtol=1e-12, atol=1e-12)
        if not bidirectional:
            state = net.initial_state(3)
            for t in range(x.shape[-1]):
                step, state = net.step(x[:, :, t], state)
                torch.testing.assert_close(step, net(x[:, :, : t + 1]), rtol=1e-9, atol=1e-10)


def test_stem_channels_is_validated():
    with pytest.raises(ValueError, match="stem_channels"):
        LiquidS4Network(2, 3, stem_channels=-1)


@pytest.mark.parametrize("groups", [1, 3])
def test_windows_times_weights_is_conv1d(groups):
    torch.manual_seed(7)
    x = torch.randn(4, groups * 5, 30, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(groups * 6, 5, 4, dtype=torch.float64, requires_grad=True)
    ours = windows_times_weights(x, weight, groups)
    reference = torch.nn.functional.conv1d(x, weight, groups=groups)
    torch.testing.assert_close(ours, reference)
    grads = torch.autograd.grad((ours * reference.detach()).sum(), (x, weight))
    expected = torch.autograd.grad((reference * reference.detach()).sum(), (x, weight))
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want)


def stem_head_reference(net, x, lengths):
    """The front-end heads' outputs from the stem's float64 loop: member k's head applied
    to the mean of its stem channels over the series alone (cut at its length)."""
    weight = net.stem_head.weight.detach().numpy()  # (K·d, S)
    bias = net.stem_head.bias.detach().numpy()
    out = np.zeros((x.shape[0], net.n_members, net.d_output))
    channels = net.stem.channels
    for b, n in enumerate(lengths.tolist()):
        series = x[b : b + 1, :, :n].repeat(1, net.n_members, 1)
        stem = stem_reference(net.stem, series)[0]  # (K·S, n)
        for k in range(net.n_members):
            mean = stem[k * channels : (k + 1) * channels].mean(-1)
            rows = slice(k * net.d_output, (k + 1) * net.d_output)
            out[b, k] = weight[rows] @ mean + bias[rows]
    return out


def randomised_network_with_stem_head(n_members, bidirectional, seed=3):
    torch.manual_seed(seed)
    net = LiquidS4Network(
        2, 3, d_model=6, n_layers=1, d_state=4, stem_channels=5, stem_head=True,
        n_members=n_members, bidirectional=bidirectional,
    ).double()  # fmt: skip
    stem = randomised_stem(2, 5, n_members, causal=not bidirectional, seed=seed)
    net.stem.load_state_dict(stem.state_dict())
    return net.eval()


@pytest.mark.parametrize("n_members", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_stem_head_outputs_follow_the_members_and_match_a_float64_loop(n_members, bidirectional):
    """With ``stem_head`` the output is (B, 2·K, d): the members' heads, unchanged, then a
    linear head per member on its stem's mean over the valid steps (the float64 loop)."""
    net = randomised_network_with_stem_head(n_members, bidirectional)
    x, lengths = random_input((3, 2, 11), seed=5), torch.tensor([11, 6, 8])
    plain = LiquidS4Network(**{**net.config, "stem_head": False}, n_members=n_members).double()
    plain.load_state_dict(
        {k: v for k, v in net.state_dict().items() if not k.startswith("stem_head.")}
    )
    plain.eval()
    with torch.no_grad():
        out = net(x, lengths)
        members = plain(x, lengths).view(3, n_members, 3)
    assert net.n_heads == 2 * n_members
    assert out.shape == (3, 2 * n_members, 3)
    torch.testing.assert_close(out[:, :n_members], members, rtol=1e-12, atol=1e-12)
    expected = torch.from_numpy(stem_head_reference(net, x, lengths))
    torch.testing.assert_close(out[:, n_members:], expected, rtol=1e-9, atol=1e-10)
    with torch.no_grad():  # padding past a length changes nothing
        padded = x.clone()
        padded[1, :, 6:] = random_input((2, 5), seed=8)
        torch.testing.assert_close(net(padded, lengths), out, rtol=1e-12, atol=1e-12)
        for k in range(n_members):  # each member alone keeps its front-end head
            single = net.member(k)(x, lengths)
            torch.testing.assert_close(single[:, 0], out[:, k], rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(single[:, 1], out[:, n_members + k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_members", [1, 2])
def test_stem_head_streams_like_forward_and_never_looks_ahead(n_members):
    net = randomised_network_with_stem_head(n_members, bidirectional=False)
    x = random_input((3, 2, 10), seed=6)
    with torch.no_grad():
        state = net.initial_state(3)
        for t in range(x.shape[-1]):
            step, state = net.step(x[:, :, t], state)
            torch.testing.assert_close(step, net(x[:, :, : t + 1]), rtol=1e-9, atol=1e-10)


def test_stem_head_gradients_reach_the_stem_and_match_finite_differences():
    net = randomised_network_with_stem_head(1, bidirectional=True).train()
    x = random_input((3, 2, 9), seed=7)
    lengths = torch.tensor([9, 5, 7])
    net(x, lengths)[:, 1].sum().backward()  # the front-end head's output alone
    assert net.stem.convs[0].weight.grad.abs().sum() > 0
    assert net.head.weight.grad is None or not net.head.weight.grad.any()
    net.eval()
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: net(v, lengths), (x,))


def test_stem_head_is_validated():
    with pytest.raises(ValueError, match="stem_channels > 0"):
        LiquidS4Network(2, 3, stem_head=True)
    with pytest.raises(ValueError, match="stem_head must be a bool"):
        LiquidS4Network(2, 3, stem_channels=4, stem_head=1)
