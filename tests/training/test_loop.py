"""The training loop: convergence, early stopping, interrupt and divergence safety, seeding,
and the learning-rate schedule."""

import math

import numpy as np
import pytest
import torch

from sslearn.nn import LiquidS4Network
from sslearn.training import (
    LRSchedule,
    NonFiniteLossError,
    SeriesSet,
    TrainingConfig,
    TrainingInterruptedWarning,
    seeded,
    snapshot,
    train,
)
from sslearn.training._loop import Trainer


def cross_entropy(outputs, targets):
    return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")


def toy_set(n=40, length=16, seed=0):
    """Two classes: low vs high frequency sine, with unequal lengths."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    t = np.arange(length)
    x = np.sin((0.3 + 0.9 * y)[:, None] * t) + 0.1 * rng.randn(n, length)
    lengths = rng.randint(length // 2, length + 1, size=n)
    x[np.arange(length)[None, :] >= lengths[:, None]] = 0.0
    return SeriesSet.from_numpy(x[:, None, :], lengths, y)


def network(seed=0):
    with seeded(seed, torch.device("cpu")):
        return LiquidS4Network(1, 2, d_model=8, n_layers=1, d_state=4, liquid_kernel="pb")


def run(net, data, valid=None, seed=0, **config):
    config = TrainingConfig(**{"max_epochs": 5, "batch_size": 16, "lr": 1e-2, **config})
    return train(
        net,
        cross_entropy,
        data,
        valid,
        config=config,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(seed),
    )


def test_loss_decreases_and_history_records():
    data = toy_set()
    result = run(network(), data, max_epochs=20)
    assert [r["epoch"] for r in result.history] == list(range(1, 21))
    assert set(result.history[0]) == {"epoch", "train_loss", "lr", "seconds"}
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert result.stop_reason == "max_epochs"
    assert result.optimizer_state is not None


def test_same_seed_same_weights_and_global_rng_untouched():
    data = toy_set()
    state = torch.random.get_rng_state()
    nets = [network(seed=3), network(seed=3)]
    for net in nets:
        with seeded(3, torch.device("cpu")):
            run(net, data, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    other = network(seed=4)
    assert not torch.equal(other.encoder.weight, nets[0].encoder.weight)


def test_early_stopping_restores_best_epoch():
    data = toy_set(60)
    train_set, valid_set = data.subset(np.arange(40)), data.subset(np.arange(40, 60))
    result = run(network(), train_set, valid_set, max_epochs=30, n_iter_no_change=3, lr=5e-2)
    assert {"valid_loss", "valid_score"} <= set(result.history[0])
    best = min(result.history, key=lambda r: r["valid_loss"])
    assert result.best_epoch == best["epoch"]
    assert result.best_valid_loss == best["valid_loss"]
    if result.stop_reason == "no_improvement":
        assert len(result.history) - result.best_epoch >= 3


def test_best_weights_are_the_ones_kept(monkeypatch):
    """The validation loss of the kept weights equals the best epoch's validation loss."""
    data = toy_set(60)
    train_set, valid_set = data.subset(np.arange(40)), data.subset(np.arange(40, 60))
    net = network()
    result = run(net, train_set, valid_set, max_epochs=8, lr=0.2, n_iter_no_change=None)
    trainer = Trainer(net, cross_entropy, TrainingConfig(), torch.device("cpu"), None)
    loss_sum, _ = trainer.evaluate(valid_set)
    assert math.isclose(float(loss_sum) / 20, result.best_valid_loss, rel_tol=1e-5)


def test_keyboard_interrupt_keeps_best_weights(monkeypatch):
    data = toy_set()
    states = {}
    original = Trainer.train_epoch
    calls = {"n": 0}

    def interrupting(self, optimizer, schedule, data_):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        total = original(self, optimizer, schedule, data_)
        states[calls["n"]] = snapshot(self.network)
        return total

    monkeypatch.setattr(Trainer, "train_epoch", interrupting)
    net = network()
    with pytest.warns(TrainingInterruptedWarning, match="epoch 4"):
        result = run(net, data, max_epochs=10)
    assert result.stop_reason == "interrupted"
    assert len(result.history) == 3
    for key, value in net.state_dict().items():
        assert torch.equal(value, states[result.best_epoch][key])


def test_non_finite_loss_raises_and_keeps_last_good_weights(monkeypatch):
    data = toy_set()
    calls = {"n": 0}

    def loss(outputs, targets):
        calls["n"] += 1
        value = cross_entropy(outputs, targets)
        return value * float("nan") if calls["n"] > 6 else value  # 3 batches per epoch

    net = network()
    states = []
    original = Trainer.train_epoch

    def recording(self, optimizer, schedule, data_):
        total = original(self, optimizer, schedule, data_)
        states.append(snapshot(self.network))
        return total

    monkeypatch.setattr(Trainer, "train_epoch", recording)
    config = TrainingConfig(max_epochs=10, batch_size=16, lr=1e-2)
    with pytest.raises(NonFiniteLossError, match=r"epoch 3.*lower lr"):
        train(net, loss, data, config=config, device=torch.device("cpu"), generator=None)
    for key, value in net.state_dict().items():
        assert torch.equal(value, states[1][key])
        assert torch.isfinite(value).all()


def test_huge_learning_rate_is_reported_not_silent():
    data = toy_set()
    with pytest.raises(NonFiniteLossError, match="NaN or infinite"):
        run(network(), data, lr=1e30, clip_grad_norm=None, max_epochs=20)


def test_training_loss_plateau_stops():
    data = toy_set()
    result = run(network(), data, lr=1e-9, ssm_lr=1e-9, max_epochs=50, n_iter_no_change=3)
    assert result.stop_reason == "no_improvement"
    assert len(result.history) < 50


def test_warm_start_from_optimizer_state():
    data = toy_set()
    net = network()
    first = run(net, data, max_epochs=2)
    steps = int(first.optimizer_state["state"][0]["step"])
    assert steps == 6  # 2 epochs of 3 batches
    second = train(
        net,
        cross_entropy,
        data,
        config=TrainingConfig(max_epochs=2, batch_size=16, lr=5e-3),
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(0),
        optimizer_state=first.optimizer_state,
        first_epoch=3,
    )
    assert [r["epoch"] for r in second.history] == [3, 4]
    assert int(second.optimizer_state["state"][0]["step"]) == 12


def test_sample_weights_enter_the_loss():
    data = toy_set()
    weights = torch.zeros(len(data))
    weights[:4] = 10.0
    weighted = SeriesSet(data.values, data.lengths, data.targets, weights)
    result = run(network(), weighted, max_epochs=1, lr=1e-12, ssm_lr=1e-12)
    plain = run(network(), data, max_epochs=1, lr=1e-12, ssm_lr=1e-12)
    assert result.history[0]["train_loss"] != pytest.approx(plain.history[0]["train_loss"])


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_trains(device, precision):
    data = toy_set()
    net = network().to(device)
    result = train(
        net,
        cross_entropy,
        data.to(torch.device(device)),
        config=TrainingConfig(max_epochs=2, batch_size=16, precision=precision),
        device=torch.device(device),
        generator=torch.Generator().manual_seed(0),
    )
    assert all(math.isfinite(r["train_loss"]) for r in result.history)


def test_progress_bar(capsys):
    run(network(), toy_set(), max_epochs=2, verbose=2)
    err = capsys.readouterr().err
    assert "epoch" in err and "loss" in err


# -- the learning-rate schedule ------------------------------------------------------------


def schedule_optimizer(lrs=(1e-3, 1e-2)):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
    return torch.optim.AdamW(groups)


def test_warmup_then_cosine_keeps_group_ratios():
    opt = schedule_optimizer()
    schedule = LRSchedule(opt, "cosine", total_steps=100, warmup_steps=10)
    lrs = []
    for _ in range(100):
        lrs.append([g["lr"] for g in opt.param_groups])
        schedule.step()
    assert lrs[0][1] == pytest.approx(1e-2 / 11)
    assert max(lr[1] for lr in lrs) <= 1e-2
    assert all(a[0] / a[1] == pytest.approx(0.1) for a in lrs)
    peak = max(range(100), key=lambda i: lrs[i][1])
    assert 8 <= peak <= 10
    assert all(lrs[i + 1][1] <= lrs[i][1] for i in range(peak, 99))
    assert lrs[-1][1] < 1e-4


def test_constant_schedule():
    opt = schedule_optimizer()
    schedule = LRSchedule(opt, "constant", total_steps=10)
    for _ in range(10):
        schedule.step()
    assert schedule.lr == 1e-2


def test_plateau_halves_after_patience():
    opt = schedule_optimizer()
    schedule = LRSchedule(opt, "plateau", total_steps=10, patience=2)
    for metric in [1.0, 0.9, 0.95, 0.95, 0.95]:
        schedule.end_epoch(metric)
    assert schedule.lr == pytest.approx(5e-3)
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-4)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="unknown scheduler"):
        LRSchedule(schedule_optimizer(), "linear", total_steps=10)
