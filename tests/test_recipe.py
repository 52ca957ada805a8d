"""The estimators' training-recipe parameters: ensembles, augmentation, pooling, dt range,
weight averaging and label smoothing."""

import numpy as np
import pytest
import torch
from scipy.special import softmax

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.training import Augmentation
from sslearn.training._augment import PRESETS
from sslearn.training._loop import _average_into

from ._toy import TINY, frequencies, sines


def _member_outputs(estimator, X):
    """Each member's outputs, computed by a network of its own: (K, n, n_outputs)."""
    data = estimator._series_set(_panel(estimator, X))
    with torch.no_grad():
        outputs = []
        for k in range(estimator.n_estimators):
            member = estimator.network_.member(k).double().eval()
            heads = member(data.values.double(), None).numpy()  # (n, [2,] n_outputs)
            outputs.extend(heads.transpose(1, 0, 2) if heads.ndim == 3 else [heads])
    return np.stack(outputs)  # (members and their front-end heads, n, n_outputs)


def _panel(estimator, X):
    from sslearn._validation import validate_series

    return validate_series(estimator, X, reset=False)[0]


def test_ensemble_classifier_averages_member_probabilities():
    X, y = sines(n=40, n_classes=3)
    clf = LiquidS4Classifier(**TINY, n_estimators=3).fit(X, y)
    assert clf.network_.n_members == 3 and clf.network_.n_heads == 6  # stem_head
    expected = softmax(_member_outputs(clf, X), axis=-1).mean(axis=0)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[expected.argmax(axis=1)])


def test_ensemble_regressor_averages_member_outputs():
    X, y = frequencies(n=40)
    reg = LiquidS4Regressor(**TINY, n_estimators=2).fit(X, y)
    expected = _member_outputs(reg, X).mean(axis=0)[:, 0] * reg._y_scale + reg._y_mean
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-6, atol=1e-9)


def test_ensemble_members_differ():
    X, y = sines(n=40)
    clf = LiquidS4Classifier(**TINY, n_estimators=2).fit(X, y)
    outputs = _member_outputs(clf, X)
    assert not np.allclose(outputs[0], outputs[1])


@pytest.mark.parametrize(
    "augment", ["light", "auto", "strong", {"jitter": 0.1, "mixup": 0.4}, {"crop": 0.5}]
)
@pytest.mark.parametrize("n_estimators", [1, 2])
def test_augmented_fits_are_reproducible(augment, n_estimators):
    X, y = sines(n=32)
    X[::3, :, 18:] = np.nan  # unequal lengths
    fits = [
        LiquidS4Classifier(**TINY, augment=augment, n_estimators=n_estimators).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    plain = LiquidS4Classifier(**TINY, augment=None, n_estimators=n_estimators).fit(X, y)
    assert not np.array_equal(plain.predict_proba(X), fits[0].predict_proba(X))


def test_fits_of_one_random_state_repeat_on_each_device(device):
    """With the front end, whose convolutions' backward once went through cuDNN and so did
    not repeat on a GPU; unequal lengths, liquid kernel and augmentation as by default."""
    X, y = sines(n=32)
    X[::3, :, 18:] = np.nan
    params = {**TINY, "stem_channels": 16, "device": device, "random_state": 0}
    fits = [LiquidS4Classifier(**params).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].loss_curve_, fits[1].loss_curve_)
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_augmentation_reaches_the_training_config():
    clf = LiquidS4Classifier(augment={"jitter": 0.2})
    config = clf._training_config(incremental=False, early=False)
    assert config.augment == Augmentation(jitter=0.2)
    # the measured recipe: the classifier augments lightly over a whole 100-epoch schedule
    config = LiquidS4Classifier()._training_config(False, False)
    assert config.augment == PRESETS["light"]
    assert config.max_epochs == config.n_iter_no_change == 100
    assert LiquidS4Regressor()._training_config(False, False).augment is None


@pytest.mark.parametrize(
    ("augment", "match"), [("wild", "augment"), ({"jiter": 0.1}, "jiter"), ({"crop": 0}, "crop")]
)
def test_bad_augment_is_rejected(augment, match):
    X, y = sines(n=16)
    with pytest.raises(ValueError, match=match):
        LiquidS4Classifier(**TINY, augment=augment).fit(X, y)


@pytest.mark.parametrize("pooling", ["max", "mean+max", "last"])
def test_pooling_choices_fit_and_predict(pooling):
    X, y = sines(n=24)
    clf = LiquidS4Classifier(**TINY, pooling=pooling, n_estimators=2).fit(X, y)
    assert clf.predict_proba(X).shape == (24, 2)


def test_dt_range_auto_follows_the_series_length():
    X, y = sines(n=16, length=40)
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}, dt_range="auto").fit(X, y)
    assert clf.n_timepoints_ == 40
    assert clf._dt_range(40) == (1 / 40, 10 / 40)
    assert clf._dt_range(1000) == (1e-3, 0.1)
    fixed = LiquidS4Classifier(dt_range=(0.01, 0.02))
    assert fixed._dt_range(40) == (0.01, 0.02)
    assert LiquidS4Classifier(dt_range=[0.01, 0.02])._dt_range(40) == (0.01, 0.02)
    assert LiquidS4Classifier()._dt_range(40) == (1e-3, 1e-1)
    with pytest.raises(ValueError, match="dt_range"):
        LiquidS4Classifier(dt_range=(0.1, 0.01))._dt_range(40)


def test_dt_range_sets_the_initial_step_sizes():
    X, y = sines(n=16, length=40)
    clf = LiquidS4Classifier(**TINY, dt_range=(0.02, 0.03)).fit(X, y)
    initial = LiquidS4Classifier(**TINY, dt_range=(0.02, 0.03))
    initial.n_timepoints_ = 40
    network = initial._make_network(2, 2)
    dt = torch.exp(network.blocks[0].ssm.core.log_dt.detach())
    assert float(dt.min()) >= 0.02 - 1e-9 and float(dt.max()) <= 0.03 + 1e-9
    assert clf.network_.blocks[0].ssm.core.log_dt.shape == network.blocks[0].ssm.core.log_dt.shape


def test_weight_averaging_over_epochs():
    state = {"w": torch.tensor([0.0, 2.0]), "n": torch.tensor(3)}
    averaged = _average_into(None, state, 0.75)
    assert averaged["w"] is not state["w"]
    averaged = _average_into(averaged, {"w": torch.tensor([4.0, 6.0]), "n": torch.tensor(4)}, 0.75)
    torch.testing.assert_close(averaged["w"], torch.tensor([1.0, 3.0]))
    assert int(averaged["n"]) == 4
    assert _average_into(None, state, None) is None


def test_ema_decay_changes_the_kept_weights():
    X, y = sines(n=32)
    last = LiquidS4Classifier(**TINY).fit(X, y)
    averaged = LiquidS4Classifier(**TINY, ema_decay=0.5).fit(X, y)
    assert not np.allclose(last.predict_proba(X), averaged.predict_proba(X))


def test_label_smoothing_softens_the_loss():
    clf = LiquidS4Classifier(label_smoothing=0.2)
    outputs = torch.tensor([[4.0, -4.0]])
    smoothed = clf._loss(outputs, torch.tensor([0]))
    plain = LiquidS4Classifier()._loss(outputs, torch.tensor([0]))
    assert float(smoothed) > float(plain)
