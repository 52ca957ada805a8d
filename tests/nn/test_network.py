"""The residual block, the network, masked normalisation and the optimiser groups."""

import pytest
import torch

from sslearn.nn import LiquidS4Block, LiquidS4Network, param_groups
from sslearn.nn.mixing import GroupedLinear, MaskedBatchNorm, member_index


def random_input(shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def padded_batch(lengths, channels=3, fill=5.0):
    series = [random_input((channels, n), seed=20 + i) for i, n in enumerate(lengths)]
    width = max(lengths)
    batch = torch.stack(
        [torch.nn.functional.pad(s, (0, width - s.shape[-1]), value=fill) for s in series]
    )
    return series, batch, torch.tensor(lengths)


@pytest.mark.parametrize("pooling", ["mean", "max", "mean+max", "last"])
@pytest.mark.parametrize("norm", ["layer", "batch"])
@pytest.mark.parametrize("liquid_kernel", [None, "pb", "kb", "exact"])
def test_network_padding_invariance(liquid_kernel, norm, pooling):
    torch.manual_seed(0)
    net = (
        LiquidS4Network(
            3,
            4,
            d_model=8,
            n_layers=2,
            d_state=8,
            norm=norm,
            pooling=pooling,
            liquid_kernel=liquid_kernel,
            bidirectional=True,
        )
        .double()
        .eval()
    )
    series, batch, lengths = padded_batch([12, 20, 7])
    out = net(batch.double(), lengths)
    assert out.shape == (3, 4)
    for i, s in enumerate(series):
        torch.testing.assert_close(out[i : i + 1], net(s[None].double()), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(
    ("pooling", "n_members"), [("mean", 1), ("last", 1), ("max", 1), ("mean+max", 3)]
)
@pytest.mark.parametrize("liquid_kernel", [None, "kb", "exact"])
def test_network_step_equals_forward(liquid_kernel, pooling, n_members):
    torch.manual_seed(1)
    net = (
        LiquidS4Network(
            2,
            3,
            d_model=8,
            n_layers=2,
            d_state=8,
            norm="batch",
            pooling=pooling,
            liquid_kernel=liquid_kernel,
            n_members=n_members,
        )
        .double()
        .eval()
    )
    x = random_input((4, 2, 18)).double()
    state = net.initial_state(4)
    with torch.no_grad():
        for t in range(x.shape[-1]):
            out, state = net.step(x[:, :, t], state)
            torch.testing.assert_close(out, net(x[:, :, : t + 1]), rtol=1e-9, atol=1e-10)


def conv_reference(z, weight, bias):
    """float64 loop: ``silu(b + sum_j W_j z_{k-j})`` over the last w steps, zeros before 0."""
    channels, _, width = weight.shape
    out = torch.empty_like(z)
    for k in range(z.shape[-1]):
        acc = bias.expand(z.shape[0], channels).clone()
        for j in range(width):
            if k - j >= 0:
                acc = acc + weight[:, 0, width - 1 - j] * z[:, :, k - j]
        out[:, :, k] = torch.nn.functional.silu(acc)
    return out


@pytest.mark.parametrize("n_members", [1, 2])
def test_conv_width_is_causal_and_steps_like_forward(n_members):
    """The short convolution: the block equals the same block with the SSM fed by a float64
    loop of the formula, a step-by-step run equals the whole-series one, and a change at
    step t leaves every output before t alone."""
    torch.manual_seed(6)
    net = LiquidS4Network(
        2, 3, d_model=6, n_layers=2, d_state=4, conv_width=4, n_members=n_members,
        liquid_kernel="kb", bidirectional=False, pooling="last",
    ).double().eval()  # fmt: skip
    block = net.blocks[0]
    z = random_input((3, 6 * n_members, 11), seed=3).double()
    with torch.no_grad():
        expected = block.ssm(conv_reference(block.norm(z), block.conv.weight, block.conv.bias))
        seen = {}
        hook = block.ssm.register_forward_hook(lambda m, a, out: seen.setdefault("ssm", out))
        block(z)
        hook.remove()
        torch.testing.assert_close(seen["ssm"], expected, rtol=1e-12, atol=1e-12)

        x = random_input((4, 2, 15), seed=7).double()
        state = net.initial_state(4)
        for t in range(x.shape[-1]):
            out, state = net.step(x[:, :, t], state)
            torch.testing.assert_close(out, net(x[:, :, : t + 1]), rtol=1e-9, atol=1e-10)

        changed = z.clone()
        changed[:, :, 7:] += random_input((3, 6 * n_members, 4), seed=8).double()
        before, after = block(z), block(changed)
        # FFT round-off only: a leak of the O(1) change would be far larger
        torch.testing.assert_close(after[..., :7], before[..., :7], rtol=0, atol=1e-12)
        assert not torch.allclose(after[..., 7:], before[..., 7:])


def test_conv_width_keeps_padding_invariance():
    torch.manual_seed(7)
    net = LiquidS4Network(
        3, 4, d_model=8, n_layers=2, d_state=8, conv_width=3, norm="batch",
        pooling="mean+max", liquid_kernel="kb", bidirectional=True,
    ).double().eval()  # fmt: skip
    series, batch, lengths = padded_batch([12, 20, 7])
    out = net(batch.double(), lengths)
    for i, s in enumerate(series):
        torch.testing.assert_close(out[i : i + 1], net(s[None].double()), rtol=1e-9, atol=1e-10)


def test_block_is_residual_and_trains():
    torch.manual_seed(2)
    block = LiquidS4Block(6, d_state=4, liquid_kernel="pb", dropout=0.1)
    x = random_input((3, 6, 10)).requires_grad_()
    y = block(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in block.parameters())
    block.eval()
    with torch.no_grad():
        block.output_linear.weight.zero_()
        block.output_linear.bias.zero_()
        torch.testing.assert_close(block(x), x)


def test_masked_batch_norm_ignores_padding():
    torch.manual_seed(3)
    norm = MaskedBatchNorm(3)
    _, batch, lengths = padded_batch([5, 9], fill=1e3)
    out = norm(batch, lengths)
    valid = torch.cat([batch[0, :, :5], batch[1, :, :9]], dim=-1)  # (3, 14)
    expected = (valid - valid.mean(-1, keepdim=True)) / torch.sqrt(
        valid.var(-1, unbiased=False, keepdim=True) + norm.eps
    )
    torch.testing.assert_close(torch.cat([out[0, :, :5], out[1, :, :9]], -1), expected)
    torch.testing.assert_close(norm.running_mean, 0.1 * valid.mean(-1))
    plain = torch.nn.BatchNorm1d(3)
    torch.testing.assert_close(MaskedBatchNorm(3)(batch), plain(batch))


def test_param_groups_follow_the_hints():
    net = LiquidS4Network(2, 2, d_model=4, n_layers=2, d_state=4)
    groups = {g["name"]: g for g in param_groups(net, lr=1e-2, weight_decay=0.1, ssm_lr=1e-3)}
    ssm_names = {
        n for n, p in net.named_parameters() if any(p is q for q in groups["ssm"]["params"])
    }
    assert ssm_names == {
        f"blocks.{i}.ssm.core.{k}"
        for i in range(2)
        for k in ("log_dt", "log_A_real", "A_imag", "B")
    }
    assert groups["ssm"]["lr"] == 1e-3 and groups["ssm"]["weight_decay"] == 0.0
    assert groups["decay"]["weight_decay"] == 0.1
    assert all(p.ndim >= 2 for p in groups["decay"]["params"])
    total = sum(len(g["params"]) for g in groups.values())
    assert total == len(list(net.parameters()))
    torch.optim.AdamW(list(groups.values()))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pooling": "median"}, "pooling"),
        ({"n_members": 0}, "n_members"),
        ({"norm": "group"}, "norm"),
        ({"dropout": 1.0}, "dropout"),
        ({"n_layers": 0}, "n_layers"),
        ({"conv_width": -1}, "conv_width"),
        ({"conv_width": 2.0}, "conv_width"),
    ],
)
def test_network_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LiquidS4Network(2, 2, d_model=4, d_state=4, **kwargs)


def test_param_groups_survive_deepcopy_and_pickle():
    import copy
    import pickle

    net = LiquidS4Network(2, 2, d_model=4, n_layers=2, d_state=4)

    def sizes(model):
        return {g["name"]: len(g["params"]) for g in param_groups(model, 1e-2, 0.1, 1e-3)}

    assert sizes(copy.deepcopy(net)) == sizes(net) == sizes(pickle.loads(pickle.dumps(net)))
    assert sizes(net)["ssm"] == 8


def _train_briefly(net, x, lengths, steps=3):
    """A few AdamW steps so that no weight is left at its initial value (BatchNorm's
    running statistics move too)."""
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        net(x, lengths).square().sum().backward()
        optimizer.step()


@pytest.mark.parametrize("pooling", ["mean", "mean+max"])
@pytest.mark.parametrize(
    ("norm", "liquid_kernel", "bidirectional", "conv_width"),
    [("layer", None, True, 0), ("batch", "pb", False, 3), ("layer", "exact", True, 0)],
)
def test_ensemble_members_are_independent_networks(
    norm, liquid_kernel, bidirectional, conv_width, pooling
):
    """An ensemble of K equals K separate networks with the members' weights, on shared and
    on per-member inputs, and no gradient crosses from one member to another."""
    torch.manual_seed(4)
    kwargs = {"d_model": 6, "n_layers": 2, "d_state": 4, "norm": norm, "pooling": pooling,
              "liquid_kernel": liquid_kernel, "bidirectional": bidirectional,
              "conv_width": conv_width}  # fmt: skip
    net = LiquidS4Network(3, 2, n_members=3, **kwargs).double()
    _, batch, lengths = padded_batch([12, 20, 7], fill=0.0)
    batch = batch.double()
    _train_briefly(net, batch, lengths)
    net.eval()
    per_member = random_input((3, 3, 3, 20), seed=9).double()  # (B, K, C, L)
    with torch.no_grad():
        shared, separate = net(batch, lengths), net(per_member, lengths)
        assert shared.shape == (3, 3, 2)
        for k in range(3):
            member = net.member(k)
            assert member.n_members == 1
            torch.testing.assert_close(shared[:, k], member(batch, lengths), rtol=1e-10, atol=0)
            torch.testing.assert_close(
                separate[:, k], member(per_member[:, k], lengths), rtol=1e-10, atol=0
            )
    net.train()
    net.zero_grad()
    net(batch, lengths)[:, 1].sum().backward()
    for name, param in net.named_parameters():
        grad = param.grad.reshape(param.shape[0], -1)
        directions = 2 if bidirectional and ".ssm.core." in name else 1
        for k in (0, 2):
            rows = member_index(param.shape[0], 3, k, directions)
            assert not grad[rows].any(), name


def test_single_member_keeps_the_plain_modules():
    """n_members=1 has nn.Linear/nn.LayerNorm's parameter shapes and outputs (B, d_output)."""
    net = LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4)
    assert net.encoder.weight.shape == (8, 3) and net.head.weight.shape == (2, 8)
    assert net.final_norm.weight.shape == (8,)
    assert net(random_input((2, 3, 5))).shape == (2, 2)
    with pytest.raises(IndexError):
        net.member(1)


def test_grouped_linear_matches_block_diagonal_linear():
    torch.manual_seed(5)
    layer = GroupedLinear(4, 3, n_groups=2).double()
    x = random_input((2, 8, 7)).double()
    dense = torch.block_diag(*layer.weight.view(2, 3, 4))  # (6, 8)
    expected = torch.einsum("oi,bil->bol", dense, x) + layer.bias[:, None]
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer(x[..., 0]), expected[..., 0])


def test_max_pooling_ignores_padding():
    net = LiquidS4Network(1, 1, d_model=2, n_layers=1, d_state=4, pooling="max")
    h = torch.tensor([[[1.0, 5.0, 9.0], [-3.0, -1.0, 7.0]]])
    torch.testing.assert_close(net.pool(h, torch.tensor([2])), torch.tensor([[5.0, -1.0]]))


@pytest.mark.parametrize("pooling", ["mean", "mean+max", "last"])
@pytest.mark.parametrize("n_members", [1, 3])
def test_embed_is_the_input_of_the_head(pooling, n_members):
    torch.manual_seed(0)
    net = LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4, pooling=pooling,
                          n_members=n_members, liquid_kernel=None).eval()  # fmt: skip
    _, x, lengths = padded_batch([20, 13, 7])
    features = net.embed(x, lengths)
    per_member = 16 if pooling == "mean+max" else 8
    assert features.shape == (3, n_members * per_member)
    torch.testing.assert_close(net.head_outputs(features), net(x, lengths))
    for k in range(n_members):  # member-major: member k owns one block of columns
        block = features[:, k * per_member : (k + 1) * per_member]
        torch.testing.assert_close(block, net.member(k).embed(x, lengths))
