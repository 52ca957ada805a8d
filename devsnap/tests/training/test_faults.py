"""Faults injected at a random training step: KeyboardInterrupt, a NaN loss, out of memory.

Each fault is raised from inside one optimisation step, chosen by a seeded RNG, of a fit of
the estimator on the CPU. Each must leave a usable model (``predict`` works and gives finite
outputs) holding well-defined weights, plus a clear warning or error:

- KeyboardInterrupt: ``fit`` returns with a warning and the best weights so far;
- NaN loss: ``fit`` raises NonFiniteLossError and keeps the last finite epoch's weights;
- CUDA out of memory: ``fit`` raises TrainingOutOfMemoryError (an OutOfMemoryError, chained
  from the original) that says to lower ``batch_size``, and keeps the best weights so far.
"""

import math

import numpy as np
import pytest
import torch

from sslearn import LiquidS4Classifier
from sslearn.training import (
    NonFiniteLossError,
    TrainingInterruptedWarning,
    TrainingOutOfMemoryError,
    _loop,
    snapshot,
)
from sslearn.training._loop import Trainer

from .._toy import TINY, sines

X, Y = sines(n=40, length=16)
MAX_EPOCHS = 6
SEEDS = [0, 1, 11, 23]  # steps 16, 9, 3 and 1 of 18: late, mid-fit, first epoch, first step


def steps_per_epoch(early_stopping: bool) -> int:
    n_train = len(Y) - (math.ceil(0.1 * len(Y)) if early_stopping else 0)
    return math.ceil(n_train / TINY["batch_size"])


def n_steps(early_stopping: bool) -> int:
    return MAX_EPOCHS * steps_per_epoch(early_stopping)


def fault_step(seed: int, early_stopping: bool) -> int:
    """The optimisation step (1-based, over the whole fit) at which the fault strikes."""
    return int(np.random.default_rng(seed).integers(1, n_steps(early_stopping) + 1))


@pytest.fixture
def epoch_states(monkeypatch):
    """The network's weights before training (item 0) and after each completed epoch."""
    states = []
    original_run, original_epoch = Trainer.run, Trainer.train_epoch

    def run(self, *args, **kwargs):
        states.append(snapshot(self.network))
        return original_run(self, *args, **kwargs)

    def train_epoch(self, optimizer, schedule, data):
        total = original_epoch(self, optimizer, schedule, data)
        states.append(snapshot(self.network))
        return total

    monkeypatch.setattr(Trainer, "run", run)
    monkeypatch.setattr(Trainer, "train_epoch", train_epoch)
    return states


def strike_at(monkeypatch, step: int, fault: BaseException) -> dict:
    """Raise ``fault`` from inside the ``step``-th call of ``Trainer.train_step``."""
    calls = {"n": 0}
    original = Trainer.train_step

    def faulty(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == step:
            raise fault
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train_step", faulty)
    return calls


def classifier(early_stopping: bool) -> LiquidS4Classifier:
    return LiquidS4Classifier(
        **{**TINY, "max_epochs": MAX_EPOCHS, "early_stopping": early_stopping},
        n_iter_no_change=MAX_EPOCHS,
    )


def best_epoch(clf: LiquidS4Classifier) -> int:
    """The epoch whose weights should be kept: lowest monitored loss, first on ties; 0 for
    the initial weights when no epoch finished."""
    key = "valid_loss" if clf.validation_scores_ is not None else "train_loss"
    if not clf.history_:
        return 0
    losses = [record[key] for record in clf.history_]
    return clf.history_[int(np.argmin(losses))]["epoch"]


def assert_weights(network: torch.nn.Module, state: dict) -> None:
    for key, value in network.state_dict().items():
        assert torch.equal(value, state[key]), key


def assert_usable(clf: LiquidS4Classifier) -> None:
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    assert set(clf.predict(X)) <= set(clf.classes_)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_keyboard_interrupt_keeps_the_best_weights(monkeypatch, epoch_states, seed, early_stopping):
    step = fault_step(seed, early_stopping)
    strike_at(monkeypatch, step, KeyboardInterrupt())
    clf = classifier(early_stopping)
    with pytest.warns(TrainingInterruptedWarning, match="kept the weights of"):
        clf.fit(X, Y)
    assert clf.stop_reason_ == "interrupted"
    assert len(clf.history_) == (step - 1) // steps_per_epoch(early_stopping)
    assert_weights(clf.network_, epoch_states[best_epoch(clf)])
    assert_usable(clf)


@pytest.mark.parametrize("seed", SEEDS)
def test_nan_loss_raises_and_keeps_the_last_finite_epoch(monkeypatch, epoch_states, seed):
    step = fault_step(seed, early_stopping=False)
    calls = {"n": 0}
    original = _loop.batch_losses

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        losses = original(*args, **kwargs)
        return losses * float("nan") if calls["n"] == step else losses

    monkeypatch.setattr(_loop, "batch_losses", poisoned)
    clf = classifier(early_stopping=False)
    with pytest.raises(NonFiniteLossError, match=r"NaN or infinite.*lower lr"):
        clf.fit(X, Y)
    assert clf.stop_reason_ == "diverged"
    n_finite = (step - 1) // steps_per_epoch(early_stopping=False)
    assert len(clf.history_) == n_finite
    assert_weights(clf.network_, epoch_states[n_finite])  # the initial ones for 0
    assert_usable(clf)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_out_of_memory_says_what_to_lower_and_keeps_the_best_weights(
    monkeypatch, epoch_states, seed, early_stopping
):
    step = fault_step(seed, early_stopping)
    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    strike_at(monkeypatch, step, oom)
    clf = classifier(early_stopping)
    with pytest.raises(TrainingOutOfMemoryError, match=r"out of memory.*Lower batch_size") as info:
        clf.fit(X, Y)
    assert isinstance(info.value, torch.cuda.OutOfMemoryError)  # old handlers still catch it
    assert info.value.__cause__ is oom
    assert "batch_size=8" in str(info.value)  # half of TINY's 16
    assert clf.stop_reason_ == "out_of_memory"
    assert len(clf.history_) == (step - 1) // steps_per_epoch(early_stopping)
    assert_weights(clf.network_, epoch_states[best_epoch(clf)])
    assert_usable(clf)


def test_a_fit_after_a_fault_starts_over(monkeypatch):
    calls = strike_at(monkeypatch, 2, torch.cuda.OutOfMemoryError("CUDA out of memory"))
    clf = classifier(early_stopping=False)
    with pytest.raises(TrainingOutOfMemoryError):
        clf.fit(X, Y)
    calls["n"] = -(10**6)  # no more faults
    clf.fit(X, Y)
    assert clf.stop_reason_ == "max_epochs" and clf.n_iter_ == MAX_EPOCHS
    assert_usable(clf)
