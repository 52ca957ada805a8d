"""Data-parallel fits (``devices=2``): CPU processes with gloo, compared with one device."""

import itertools
import multiprocessing
import threading
import warnings

import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.utils._param_validation import InvalidParameterError

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.training import DeviceWarning, NonFiniteLossError, SeriesSet, rank_devices
from sslearn.training._batches import batch_bounds
from tests._toy import TINY, frequencies, sines

from .test_callbacks import Recorder, StopAfter

# no augmentation: each rank draws its own for its shard, so augmented fits on one device
# and on two are not the same updates
DDP = {**TINY, "max_epochs": 4, "batch_size": 12, "augment": None}


def test_ranks_split_the_batches_of_one_device():
    data = SeriesSet.from_numpy(np.zeros((29, 1, 3)), np.full(29, 3))
    one = [index for index, _ in data.batches(8, torch.Generator().manual_seed(3))]
    order = torch.randperm(29, generator=torch.Generator().manual_seed(3))
    starts = batch_bounds(29, 8)
    split = [order[a:b] for a, b in itertools.pairwise(starts)]
    assert all(torch.equal(a, b) for a, b in zip(one, split, strict=True))


def test_data_parallel_fit_follows_one_device():
    """Both estimators at once (two process groups side by side, each on its own port).

    The regressors stop after 3 epochs by a callback, which each rank runs a copy of (the
    ranks stop together); rank 0's callbacks come back to the caller's.
    """
    cases = [
        (LiquidS4Classifier, *sines(n=48, length=20), {"early_stopping": True}),
        (LiquidS4Regressor, *frequencies(n=40, length=20), {"callbacks": [StopAfter(3)]}),
    ]
    fitted = [None] * len(cases)
    recorders = [Recorder() for _ in cases]

    def fit(i, cls, X, y, extra):
        callbacks = [*extra.get("callbacks", []), recorders[i]]
        fitted[i] = cls(**DDP, **{**extra, "callbacks": callbacks}, devices=2).fit(X, y)

    threads = [threading.Thread(target=fit, args=(i, *case)) for i, case in enumerate(cases)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (cls, X, y, extra), parallel in zip(cases, fitted, strict=True):
        single = cls(**DDP, **extra).fit(X, y)
        assert parallel.n_iter_ == single.n_iter_
        # the same updates, with gradients summed in another order: equal up to rounding
        np.testing.assert_allclose(parallel.loss_curve_, single.loss_curve_, rtol=1e-5)
        if "early_stopping" in extra:
            np.testing.assert_allclose(
                parallel.validation_scores_, single.validation_scores_, atol=1e-6
            )
        predict = "predict_proba" if cls is LiquidS4Classifier else "predict"
        np.testing.assert_allclose(
            getattr(parallel, predict)(X), getattr(single, predict)(X), rtol=1e-4, atol=1e-6
        )
        assert parallel.device_ == torch.device("cpu")
    assert fitted[1].n_iter_ == 3 and fitted[1].stop_reason_ == "callback"
    assert [r.losses for r in recorders] == [f.loss_curve_ for f in fitted]
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_batch_norms_take_the_whole_batch_statistics(norm):
    """Masked batch norms (the stem's, and the blocks' with norm="batch") on series of
    unequal lengths: their statistics are all-reduced, so two processes follow one."""
    rng = np.random.RandomState(3)
    X, y = sines(n=36, length=20)
    series = [x[:, : rng.randint(8, 21)] for x in X]
    params = {**DDP, "norm": norm, "stem_channels": 3, "max_epochs": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no batch-norm warning for ours
        parallel = LiquidS4Classifier(**params, devices=2).fit(series, y)
    single = LiquidS4Classifier(**params).fit(series, y)
    np.testing.assert_allclose(parallel.loss_curve_, single.loss_curve_, rtol=1e-5)
    if norm == "batch":
        # the encoder's and the blocks' biases feed batch norms that remove them: their
        # gradients are rounding noise, which AdamW turns into steps, so weights differ
        return
    for name, value in single.network_.state_dict().items():
        np.testing.assert_allclose(
            parallel.network_.state_dict()[name], value, rtol=1e-4, atol=1e-5, err_msg=name
        )
    np.testing.assert_allclose(
        parallel.predict_proba(series), single.predict_proba(series), rtol=1e-4, atol=1e-6
    )


class FailOnRank1(LiquidS4Classifier):
    """Raises in rank 1 only (importable by the spawned ranks)."""

    def _loss(self, outputs, targets):
        if dist.is_initialized() and dist.get_rank() == 1:
            raise RuntimeError("injected failure")
        return super()._loss(outputs, targets)


def test_a_failing_rank_is_named_and_every_process_stopped():
    X, y = sines(n=24, length=12)
    with pytest.raises(RuntimeError, match="injected failure") as info:
        FailOnRank1(**DDP, devices=2).fit(X, y)
    notes = "\n".join(info.value.__notes__)
    assert "rank 1 of a devices=2" in notes
    assert "injected failure" in str(info.value.__cause__)  # the rank's own traceback
    assert not multiprocessing.active_children()


def test_divergence_keeps_the_last_finite_epoch():
    X, y = frequencies(n=24, length=12)
    reg = LiquidS4Regressor(**{**DDP, "lr": 1e30}, ssm_lr=1e30, clip_grad_norm=None, devices=2)
    with pytest.raises(NonFiniteLossError, match="NaN or infinite") as info:
        reg.fit(X, y)
    assert "rank" in "\n".join(info.value.__notes__)
    assert reg.stop_reason_ == "diverged"
    assert reg.n_iter_ == len(reg.history_)
    assert all(torch.isfinite(p).all() for p in reg.network_.parameters())


def test_batches_must_hold_a_series_per_process():
    X, y = sines(n=20)
    with pytest.raises(ValueError, match="batches of 1"):
        LiquidS4Classifier(**{**DDP, "batch_size": 1}, devices=2).fit(X, y)


@pytest.mark.parametrize("devices", [0, 1.5, "2"])
def test_devices_is_validated(devices):
    X, y = sines(n=20)
    with pytest.raises(InvalidParameterError, match="devices"):
        LiquidS4Classifier(**TINY, devices=devices).fit(X, y)


def test_rank_devices(monkeypatch):
    assert rank_devices("cpu", 3) == [torch.device("cpu")] * 3
    with pytest.raises(ValueError, match="CUDA_VISIBLE_DEVICES"):
        rank_devices("cuda:1", 2)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="2 CPU processes"):
        assert rank_devices("cuda", 2) == [torch.device("cpu")] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rank_devices("auto", 2) == [torch.device("cpu")] * 2
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert rank_devices("auto", 2) == [torch.device("cuda", 0), torch.device("cuda", 1)]
    with pytest.raises(ValueError, match="needs 3 GPUs, but 2 are visible"):
        rank_devices("auto", 3)
