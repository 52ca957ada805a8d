"""Training callbacks: the hooks a user callback sees, stopping, checkpointing, and the
estimators' ``callbacks`` parameter (validation, clone, pickling, model files)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

import sslearn
from sslearn import Callback, LiquidS4Classifier, LiquidS4Regressor
from sslearn.training import (
    EarlyStopping,
    ProgressBar,
    TrainingConfig,
    TrainingState,
    default_callbacks,
    train,
)
from tests._toy import TINY, frequencies, sines

from .test_loop import cross_entropy, network, toy_set

FAST = {**TINY, "max_epochs": 3}


class Recorder(Callback):
    """Records every hook call and the numbers it saw (module level: picklable)."""

    def on_train_begin(self, state):
        self.calls = ["begin"]
        self.losses, self.valid_scores = [], []

    def on_validation_end(self, state):
        self.calls.append(f"validation {state.epoch}")
        self.valid_scores.append(state.record["valid_score"])

    def on_checkpoint(self, state):
        self.calls.append(f"checkpoint {state.epoch}")

    def on_epoch_end(self, state):
        self.calls.append(f"epoch {state.epoch}")
        self.losses.append(state.record["train_loss"])

    def on_train_end(self, state):
        self.calls.append(f"end {state.stop_reason}")


class StopAfter(Callback):
    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch_end(self, state):
        if len(state.history) >= self.epochs:
            state.stop_training()


class BestWeights(Callback):
    """Checkpoints a copy of the best weights each time the monitored loss improves."""

    def on_train_begin(self, state):
        self.saved = []

    def on_checkpoint(self, state):
        weights = {key: value.detach().cpu().clone() for key, value in state.best_state.items()}
        self.saved.append((state.epoch, state.best_loss, weights))


def test_a_user_callback_sees_every_epoch_in_order():
    X, y = sines(n=40, length=16)
    recorder = Recorder()
    clf = LiquidS4Classifier(**FAST, early_stopping=True, callbacks=[recorder]).fit(X, y)
    assert recorder.losses == clf.loss_curve_
    assert recorder.valid_scores == clf.validation_scores_
    assert recorder.calls[0] == "begin" and recorder.calls[-1] == "end max_epochs"
    for epoch in (1, 2, 3):
        done = [c for c in recorder.calls if c.endswith(f" {epoch}")]
        assert done[0] == f"validation {epoch}" and done[-1] == f"epoch {epoch}"
    assert "checkpoint 1" in recorder.calls  # the first epoch always beats the initial weights


def test_callbacks_run_after_the_built_in_ones_and_in_partial_fit():
    X, y = frequencies(n=30, length=16)
    recorder = Recorder()
    reg = LiquidS4Regressor(**FAST, callbacks=[recorder])
    reg.partial_fit(X, y)
    assert recorder.calls == ["begin", "checkpoint 1", "epoch 1", "end max_epochs"]
    config = reg._training_config(incremental=False, early=False)
    assert [type(c) for c in reg._default_callbacks(config)] == [EarlyStopping]
    config.verbose = 1
    assert [type(c) for c in reg._default_callbacks(config)] == [EarlyStopping, ProgressBar]


def test_a_callback_stops_training():
    X, y = sines(n=40, length=16)
    clf = LiquidS4Classifier(**{**FAST, "max_epochs": 10}, callbacks=[StopAfter(2)]).fit(X, y)
    assert clf.n_iter_ == 2
    assert clf.stop_reason_ == "callback"
    assert len(clf.loss_curve_) == 2


def test_a_callback_checkpoints_the_best_weights():
    X, y = sines(n=40, length=16)
    best = BestWeights()
    clf = LiquidS4Classifier(
        **{**FAST, "max_epochs": 4, "lr": 0.1}, early_stopping=True, callbacks=[best]
    ).fit(X, y)
    valid = [record["valid_loss"] for record in clf.history_]
    epoch, loss, weights = best.saved[-1]
    assert epoch == clf.history_[int(np.argmin(valid))]["epoch"]
    assert loss == min(valid)
    assert [e for e, _, _ in best.saved] == sorted({e for e, _, _ in best.saved})
    for key, value in clf.network_.state_dict().items():  # the kept weights are the best
        assert torch.equal(value, weights[key]), key


def test_callbacks_survive_clone_get_params_and_pickle():
    recorder = Recorder()
    clf = LiquidS4Classifier(**FAST, callbacks=[recorder])
    assert clf.get_params()["callbacks"] == [recorder]
    copy = clone(clf)
    (cloned,) = copy.get_params()["callbacks"]
    assert isinstance(cloned, Recorder) and cloned is not recorder
    X, y = sines(n=30, length=16)
    copy.fit(X, y)
    assert len(cloned.losses) == 3 and not hasattr(recorder, "losses")  # the clone's own
    loaded = pickle.loads(pickle.dumps(copy))
    assert loaded.callbacks[0].losses == cloned.losses
    np.testing.assert_array_equal(loaded.predict_proba(X), copy.predict_proba(X))


def test_model_files_leave_the_callbacks_out(tmp_path):
    X, y = sines(n=30, length=16)
    clf = LiquidS4Classifier(**FAST, callbacks=[Recorder()]).fit(X, y)
    sslearn.save(clf, tmp_path / "model.sslearn")
    loaded = sslearn.load(tmp_path / "model.sslearn")
    assert loaded.callbacks is None
    assert clf.callbacks is not None  # saving does not change the estimator
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize(
    ("callbacks", "match"),
    [
        (Recorder(), r"got a single Recorder; wrap it in a list: callbacks=\[Recorder"),
        ([Recorder], r"got \['the class Recorder'\].*pass instances"),
        ([print], r"got \['builtin_function_or_method'\]: subclass sslearn.Callback"),
        ("progress", r"must be None or a list of sslearn.Callback instances, got a str"),
    ],
)
def test_bad_callbacks_are_a_type_error_naming_the_fix(callbacks, match):
    X, y = sines(n=20, length=16)
    clf = LiquidS4Classifier(**FAST, callbacks=callbacks)
    with pytest.raises(TypeError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "network_")  # refused at the door


def test_train_takes_the_built_in_callbacks_of_its_config_unless_given_a_list():
    data = toy_set()
    config = {"max_epochs": 6, "batch_size": 16, "lr": 1e-9, "ssm_lr": 1e-9}
    config = TrainingConfig(**config, n_iter_no_change=2)
    assert [type(c) for c in default_callbacks(config)] == [EarlyStopping]

    def fit(callbacks=None):
        return train(
            network(), cross_entropy, data, config=config, device=torch.device("cpu"),
            generator=torch.Generator().manual_seed(0), callbacks=callbacks,
        )  # fmt: skip

    assert fit().stop_reason == "no_improvement"
    assert len(fit(callbacks=[]).history) == 6  # a list replaces them: no early stopping
    seen = []

    class Spy(Callback):
        def on_train_begin(self, state):
            assert isinstance(state, TrainingState) and state.epoch is None
            assert state.monitor == "train_loss" and state.best_epoch is None
            assert state.network is not None and state.rank == 0

        def on_epoch_end(self, state):
            seen.append((state.epoch, state.stopping))

    result = fit(callbacks=[*default_callbacks(config), Spy()])
    assert result.stop_reason == "no_improvement"
    assert seen[-1] == (len(result.history), True)  # later callbacks see the decision


def test_stopping_before_the_first_epoch_keeps_the_initial_weights():
    class Refuse(Callback):
        def on_train_begin(self, state):
            state.stop_training("refused")

    net = network()
    initial = {key: value.clone() for key, value in net.state_dict().items()}
    result = train(
        net, cross_entropy, toy_set(), config=TrainingConfig(max_epochs=3),
        device=torch.device("cpu"), generator=torch.Generator().manual_seed(0),
        callbacks=[Refuse()],
    )  # fmt: skip
    assert result.history == [] and result.stop_reason == "refused"
    for key, value in net.state_dict().items():
        assert torch.equal(value, initial[key])


def test_a_callback_error_propagates_after_on_train_end():
    class Fail(Callback):
        ended = None

        def on_epoch_end(self, state):
            raise RuntimeError("callback failed")

        def on_train_end(self, state):
            Fail.ended = state.epoch

    X, y = sines(n=20, length=16)
    with pytest.raises(RuntimeError, match="callback failed"):
        LiquidS4Classifier(**FAST, callbacks=[Fail()]).fit(X, y)
    assert Fail.ended == 1
