"""LiquidS4Classifier: labels, probabilities, class weights, partial_fit, early stopping."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV

from sslearn import LiquidS4Classifier

from ._toy import TINY, sines


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([-1, 3, 9]),
        np.array(["x", "y", "z"], dtype=object),
    ],
    ids=["str", "int", "object"],
)
def test_labels_round_trip(labels):
    X, y = sines(n=30, n_classes=3)
    clf = LiquidS4Classifier(**TINY).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == labels.dtype
    assert set(pred) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (30, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    assert clf.decision_function(X).shape == (30, 3)


def test_learns_and_binary_decision_function():
    X, y = sines(n=60)
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 30}).fit(X, np.array(["a", "b"])[y])
    assert clf.score(X, np.array(["a", "b"])[y]) > 0.9
    decision = clf.decision_function(X)
    assert decision.shape == (60,)
    np.testing.assert_array_equal(clf.classes_[(decision > 0).astype(int)], clf.predict(X))
    assert clf.n_features_in_ == 2 and clf.n_channels_ == 2
    assert clf.network_.head.out_features == 2


def test_class_weight_changes_the_model():
    X, y = sines(n=40)
    y[:30] = 0  # imbalanced: 35 series of class 0, 5 of class 1
    plain = LiquidS4Classifier(**TINY).fit(X, y)
    balanced = LiquidS4Classifier(**TINY, class_weight="balanced").fit(X, y)
    as_dict = LiquidS4Classifier(**TINY, class_weight={0: 1.0, 1: 7.0}).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), balanced.predict_proba(X))
    np.testing.assert_allclose(balanced.predict_proba(X), as_dict.predict_proba(X), rtol=1e-6)


def test_single_class_is_refused():
    X, _ = sines(n=10)
    with pytest.raises(ValueError, match="1 class"):
        LiquidS4Classifier(**TINY).fit(X, np.zeros(10))


def test_one_class_left_by_sample_weight_is_refused():
    X, y = sines(n=10)
    with pytest.raises(ValueError, match=r"\bclass\b"):
        LiquidS4Classifier(**TINY).fit(X, y, sample_weight=(y == 1).astype(float))


def test_partial_fit():
    X, y = sines(n=40, n_classes=3)
    labels = np.array(["a", "b", "c"])
    clf = LiquidS4Classifier(**TINY)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, labels[y])
    clf.partial_fit(X[:20][y[:20] < 2], labels[y[:20]][y[:20] < 2], classes=labels)
    np.testing.assert_array_equal(clf.classes_, labels)
    assert clf.n_iter_ == 1
    for _ in range(3):
        clf.partial_fit(X, labels[y])
    assert clf.n_iter_ == 4
    assert [r["epoch"] for r in clf.history_] == [1, 2, 3, 4]
    assert clf.predict_proba(X).shape == (40, 3)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.array(["z"] * 40))
    with pytest.raises(ValueError, match="expecting 2"):
        clf.partial_fit(X[:, :1], labels[y])


def test_early_stopping_split_is_stratified_and_best_score_kept():
    X, y = sines(n=60, n_classes=3)
    clf = LiquidS4Classifier(
        **{**TINY, "max_epochs": 15}, early_stopping=True, validation_fraction=0.2
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert {"valid_loss", "valid_score"} <= set(clf.history_[0])
    best = min(clf.history_, key=lambda r: r["valid_loss"])
    assert clf.best_validation_score_ == best["valid_score"]
    # stratified 20% of 60 with 3 classes: 12 series, 4 per class, so scores are in k/12
    counts = np.array(clf.validation_scores_) * 12
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-4)


def test_calibrated_classifier():
    X, y = sines(n=45, n_classes=3)
    calibrated = CalibratedClassifierCV(LiquidS4Classifier(**TINY), cv=3).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (45, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("n_estimators", [1, 2])
def test_stem_head_probabilities_are_the_heads_mean(n_estimators):
    """By default each member has a second head on its front end: predict_proba is the mean
    of the 2·K heads' softmax, and every head is fitted (not left at its start)."""
    import torch

    X, y = sines(n=40, n_classes=3)
    params = {**TINY, "stem_channels": 4, "n_estimators": n_estimators, "random_state": 0}
    clf = LiquidS4Classifier(**params).fit(X, y)
    assert LiquidS4Classifier().stem_head is True
    assert clf.network_.n_heads == 2 * n_estimators
    heads = clf._member_outputs(X)  # (n, 2K, n_classes) logits
    assert heads.shape == (40, 2 * n_estimators, 3)
    expected = torch.softmax(torch.from_numpy(heads), dim=-1).mean(1).numpy()
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    shorter = LiquidS4Classifier(**{**params, "max_epochs": 1}).fit(X, y)
    assert not torch.equal(shorter.network_.stem_head.weight, clf.network_.stem_head.weight)
    plain = LiquidS4Classifier(**{**params, "stem_head": False}).fit(X, y)
    assert plain.network_.stem_head is None and plain.network_.n_heads == n_estimators
    no_stem = LiquidS4Classifier(**{**params, "stem_channels": 0}).fit(X, y)
    assert no_stem.network_.stem_head is None  # documented: no effect without a front end
