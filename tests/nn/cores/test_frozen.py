"""Frozen cores (real constants, real arithmetic) compute the fitted network's function:
the convolution of materialised kernels, the recurrence over any length and the step all
equal the network's own complex-valued, FFT-convolved forward pass."""

import pytest
import torch

from sslearn.nn import LiquidS4Network
from sslearn.nn.cores.frozen import FrozenCore, causal_conv, frozen_network


def network(ssm, liquid_kernel, bidirectional=False, **kwargs):
    torch.manual_seed(0)
    options = {"d_model": 6, "n_layers": 2, "d_state": 4, "liquid_degree": 3, **kwargs}
    net = LiquidS4Network(
        3, 2, ssm=ssm, liquid_kernel=liquid_kernel, bidirectional=bidirectional, **options
    )
    for parameter in net.parameters():  # away from the initialisation's special values
        parameter.data.add_(0.05 * torch.randn_like(parameter))
    return net.eval()


def series(length=13, batch=4):
    return torch.randn(batch, 3, length, generator=torch.Generator().manual_seed(1)).double()


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("liquid_kernel", [None, "kb", "pb", "exact"])
@pytest.mark.parametrize("ssm", ["diag", "dplr", "lssl"])
def test_frozen_forward_equals_network(ssm, liquid_kernel, bidirectional):
    net = network(ssm, liquid_kernel, bidirectional, n_members=2, pooling="mean+max")
    x = series()
    with torch.no_grad():
        expected = net.double()(x)
        for kernel_length in (None, 13, 20):  # recurrence; kernels of the length or longer
            frozen = frozen_network(net, kernel_length=kernel_length, dtype=torch.float64)
            torch.testing.assert_close(frozen(x), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("complex_steps", [True, False])
@pytest.mark.parametrize("liquid_kernel", [None, "kb", "pb", "exact"])
@pytest.mark.parametrize("ssm", ["diag", "dplr", "lssl"])
def test_frozen_step_equals_network(ssm, liquid_kernel, complex_steps):
    net = network(ssm, liquid_kernel, pooling="last").double()
    frozen = frozen_network(net, dtype=torch.float64)
    for block in frozen.blocks:  # False: the real arithmetic that the export traces
        block.ssm.core.complex_steps = complex_steps
    x = series()
    with torch.no_grad():
        state = frozen.initial_state(x.shape[0])
        for t in range(x.shape[-1]):
            out, state = frozen.step(x[:, :, t], state)
            if t > 0:  # the network's forward needs liquid_degree - 1 = 2 steps
                torch.testing.assert_close(out, net(x[:, :, : t + 1]), rtol=1e-10, atol=1e-12)


def test_frozen_network_leaves_the_original_alone():
    net = network("diag", "kb")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    frozen = frozen_network(net, kernel_length=8)
    assert all(isinstance(block.ssm.core, FrozenCore) for block in frozen.blocks)
    assert not any(p.requires_grad for p in frozen.parameters())
    assert frozen.head.weight.dtype == torch.float32
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    with pytest.raises(ValueError, match="kernels of 8 steps"):
        frozen.blocks[0].ssm.core.kernel(9)


def test_causal_conv_is_the_causal_sum():
    u = torch.randn(2, 3, 7, dtype=torch.float64)
    kernel = torch.randn(3, 7, dtype=torch.float64)
    expected = torch.zeros_like(u)
    for t in range(7):
        for m in range(t + 1):
            expected[..., t] += kernel[:, m] * u[..., t - m]
    torch.testing.assert_close(causal_conv(u, kernel), expected)
