"""The data-parallel graphed step: batch shares, the flat gradient all-reduce and the hook.

The CPU tests run the graphed step's body eagerly (in two gloo processes for the sharded
step); the CUDA test compares a ``devices=2`` graphed fit with a one-device graphed fit.
"""

import contextlib
import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sslearn import LiquidS4Classifier
from sslearn.nn import LiquidS4Network, param_groups
from sslearn.training._batches import SeriesSet
from sslearn.training._distributed import FlatGradients
from sslearn.training._graph import GraphedStep, batch_share
from tests._toy import TINY, sines

WORLD = 2


def loss_fn(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")


def toy_step(ranks=1, rank=0, after_backward=None, clip=1.0):
    """A graphed step of a small network on 40 unequal-length series, batches of 15."""
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 31, (40,), generator=gen)
    values = torch.randn(40, 2, 30, generator=gen)
    values = values * (torch.arange(30)[None, None, :] < lengths[:, None, None])
    targets = torch.randint(0, 3, (40,), generator=gen)
    weights = torch.rand(40, generator=gen) + 0.5
    data = SeriesSet(values, lengths, targets, weights)
    torch.manual_seed(0)
    net = LiquidS4Network(2, 3, d_model=8, n_layers=2, d_state=8)
    optimizer = torch.optim.AdamW(param_groups(net, 1e-2, 0.01, 1e-3), foreach=True)
    return GraphedStep(
        net, loss_fn, optimizer, data, 15, clip, contextlib.nullcontext,
        ranks=ranks, rank=rank, after_backward=after_backward,
    )  # fmt: skip


def train_eagerly(step, epochs=2):
    """Eager steps over ``epochs`` epochs; the parameters and the loss sum."""
    generator = torch.Generator().manual_seed(3)
    for _ in range(epochs):
        for index in step.epoch_indices(generator):
            step.eager_step(index)
    params = {name: p.detach().clone() for name, p in step.network.named_parameters()}
    return params, step.take_loss_sum()


def rank_gradients(rank):
    """float32 and float64 parameters with gradients ``rank + 1`` (one without a gradient)."""
    params = [
        torch.nn.Parameter(torch.zeros(2, 3)),
        torch.nn.Parameter(torch.zeros(4, dtype=torch.float64)),
        torch.nn.Parameter(torch.zeros(5)),
        torch.nn.Parameter(torch.zeros(())),
    ]
    for param in params[:3]:
        param.grad = torch.full_like(param, rank + 1.0)
    return params


def _rank(rank, workdir):
    """One gloo rank: the flat all-reduce, then the sharded eager steps (saved to a file)."""
    store = dist.FileStore(os.path.join(workdir, "store"), WORLD)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=WORLD)
    try:
        params = rank_gradients(rank)
        FlatGradients(params).all_reduce()
        grads = [p.grad for p in params]
        step = toy_step(WORLD, rank)
        step.after_backward = FlatGradients(step.params).all_reduce
        trained, loss_sum = train_eagerly(step)
        output = {"grads": grads, "params": trained, "loss_sum": loss_sum}
        torch.save(output, os.path.join(workdir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of two gloo ranks computed (one spawn for all the tests that need it)."""
    workdir = str(tmp_path_factory.mktemp("ranks"))
    mp.spawn(_rank, args=(workdir,), nprocs=WORLD)
    return [torch.load(os.path.join(workdir, f"rank{r}.pt")) for r in range(WORLD)]


@pytest.mark.parametrize("ranks_", [1, 2, 3, 4])
def test_batch_shares_are_tensor_split_parts(ranks_):
    for batch in range(ranks_, 20):
        parts = torch.arange(batch).tensor_split(ranks_)
        for rank, part in enumerate(parts):
            assert torch.equal(torch.arange(batch)[batch_share(batch, ranks_, rank)], part)


def test_flat_gradients_pack_and_unpack():
    params = rank_gradients(0)
    for i, param in enumerate(params[:3]):
        generator = torch.Generator().manual_seed(i)
        param.grad = torch.randn(param.shape, dtype=param.dtype, generator=generator)
    before = [None if p.grad is None else p.grad.clone() for p in params]
    flat = FlatGradients(params)
    assert [buffer.dtype for _, buffer, _ in flat.buckets] == [torch.float32, torch.float64]
    flat.buckets[0][1].fill_(7.0)  # stale contents are overwritten, missing gradients zeroed
    flat.pack()
    float32 = torch.cat([before[0].flatten(), before[2].flatten(), torch.zeros(1)])
    assert torch.equal(flat.buckets[0][1], float32)
    assert torch.equal(flat.buckets[1][1], before[1])
    for _, buffer, _ in flat.buckets:
        buffer.mul_(2)
    flat.unpack()
    for param, grad in zip(params, before, strict=True):
        assert (param.grad is None) if grad is None else torch.equal(param.grad, 2 * grad)


def test_flat_gradients_average_over_the_ranks(ranks):
    for output in ranks:
        assert [None if g is None else g.dtype for g in output["grads"]] == [
            torch.float32, torch.float64, torch.float32, None,
        ]  # fmt: skip
        for grad in output["grads"][:3]:
            assert torch.equal(grad, torch.full_like(grad, 1.5))


def test_the_hook_runs_between_backward_and_clipping(monkeypatch):
    events = []

    def hook():
        assert all(p.grad is not None for p in step.params)
        assert all(torch.equal(p, q) for p, q in zip(step.params, initial, strict=True))
        events.append("hook")
        for param in step.params:  # clipping must see what the hook leaves
            param.grad.mul_(1e6)

    clip = torch.nn.utils.clip_grad_norm_

    def clip_grad_norm_(params, *args, **kwargs):
        events.append("clip")
        norm = clip(params, *args, **kwargs)
        events.append(float(norm))
        return norm

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip_grad_norm_)
    step = toy_step(after_backward=hook)
    initial = [p.detach().clone() for p in step.params]
    step_fn = step.optimizer.step
    monkeypatch.setattr(step.optimizer, "step", lambda: events.append("step") or step_fn())
    step.eager_step(step.epoch_indices(None)[0])
    assert events[:2] == ["hook", "clip"] and events[3] == "step"
    assert events[2] > 1e3  # the norm clipped was that of the scaled gradients
    assert not all(torch.equal(p, q) for p, q in zip(step.params, initial, strict=True))


def test_sharded_steps_follow_one_device(ranks):
    """Each rank's share plus the flat all-reduce: the one-device graphed step's updates."""
    params, loss_sum = train_eagerly(toy_step())
    for output in ranks:
        for name, value in params.items():
            torch.testing.assert_close(output["params"][name], value, rtol=1e-5, atol=1e-6)
    total = sum(output["loss_sum"] for output in ranks)
    torch.testing.assert_close(total, loss_sum, rtol=1e-5, atol=0)


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA GPUs")
def test_graphed_data_parallel_fit_follows_one_device(monkeypatch):
    """devices=2 with CUDA graphs follows the one-GPU graphed fit; with graphs off, the eager
    one-GPU fit. 45 training series (50 less a validation split) in batches of 13: graphed
    epochs draw 4 batches of 13 (the last wrapping around), split 7 + 6 between the ranks;
    eager ones 4 of 11 or 12, so the two modes tell apart."""
    X, y = sines(n=50, length=20)
    params = {**TINY, "device": "cuda", "max_epochs": 4, "batch_size": 13, "early_stopping": True}
    fits = {}
    for graphs in ("1", "0"):
        monkeypatch.setenv("SSLEARN_CUDA_GRAPHS", graphs)
        one = LiquidS4Classifier(**params).fit(X, y)
        two = LiquidS4Classifier(**params, devices=2).fit(X, y)
        assert two.device_ == torch.device("cuda", 0)
        assert two.n_iter_ == one.n_iter_
        np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-5)
        np.testing.assert_allclose(two.validation_scores_, one.validation_scores_, atol=1e-5)
        np.testing.assert_allclose(two.predict_proba(X), one.predict_proba(X), atol=1e-5)
        fits[graphs] = two
    assert not np.allclose(fits["1"].loss_curve_, fits["0"].loss_curve_, rtol=1e-3)
