"""Learning-rate schedules."""

import pytest
import torch

from sslearn.training import LRSchedule


def optimizer(lrs=(1e-3, 1e-2)):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
    return torch.optim.AdamW(groups)


def test_warmup_then_cosine_keeps_group_ratios():
    opt = optimizer()
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


def test_constant():
    opt = optimizer()
    schedule = LRSchedule(opt, "constant", total_steps=10)
    for _ in range(10):
        schedule.step()
    assert schedule.lr == 1e-2


def test_plateau_halves_after_patience():
    opt = optimizer()
    schedule = LRSchedule(opt, "plateau", total_steps=10, patience=2)
    for metric in [1.0, 0.9, 0.95, 0.95, 0.95]:
        schedule.end_epoch(metric)
    assert schedule.lr == pytest.approx(5e-3)
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-4)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="unknown scheduler"):
        LRSchedule(optimizer(), "linear", total_steps=10)
