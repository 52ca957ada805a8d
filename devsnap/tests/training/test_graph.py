"""The CUDA-graph training step trains exactly like the eager step (CUDA only)."""

import copy

import pytest
import torch

from sslearn.nn import LiquidS4Network, param_groups
from sslearn.training._batches import SeriesSet
from sslearn.training._graph import GraphedStep, make_capturable

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def loss_fn(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")


@pytest.mark.parametrize("liquid_kernel", [None, "pb", "exact"])
@pytest.mark.parametrize("equal_length", [True, False])
def test_graphed_steps_match_eager_steps(liquid_kernel, equal_length):
    device = torch.device("cuda")
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(40, 2, 30, generator=gen)
    lengths = torch.full((40,), 30) if equal_length else torch.randint(5, 31, (40,), generator=gen)
    values = values * (torch.arange(30)[None, None, :] < lengths[:, None, None])
    targets = torch.randint(0, 3, (40,), generator=gen)
    weights = torch.rand(40, generator=gen) + 0.5
    data = SeriesSet(values, lengths, targets, weights).to(device)
    torch.manual_seed(0)
    net_graph = LiquidS4Network(2, 3, d_model=8, n_layers=2, d_state=8,
                                liquid_kernel=liquid_kernel).to(device)  # fmt: skip
    net_eager = copy.deepcopy(net_graph)

    def optimizer(net):
        return torch.optim.AdamW(param_groups(net, 1e-2, 0.01, 1e-3), fused=True)

    opt_graph, opt_eager = optimizer(net_graph), optimizer(net_eager)
    make_capturable(opt_graph, device)
    runner = GraphedStep(net_graph, loss_fn, opt_graph, data, 16, 1.0,
                         lambda: torch.autocast("cuda", enabled=False))  # fmt: skip
    params = list(net_eager.parameters())
    for index in runner.epoch_indices(torch.Generator().manual_seed(3)) * 2:
        runner.run(index)
        lens = None if data.equal_length else data.lengths[index]
        losses = loss_fn(net_eager(data.values[index], lens), data.targets[index])
        opt_eager.zero_grad(set_to_none=True)
        (losses * data.weights[index]).mean().backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
        opt_eager.step()
    torch.cuda.synchronize()
    for (name, a), b in zip(net_graph.named_parameters(), net_eager.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    assert runner.graph is not None
