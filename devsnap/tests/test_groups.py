"""fit(..., groups=...): early stopping holds out whole groups; metadata routing passes them."""

from typing import ClassVar

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sslearn import LiquidS4Classifier, LiquidS4Regressor

from ._toy import TINY, frequencies, sines

PARAMS = {**TINY, "max_epochs": 2, "liquid_kernel": None, "early_stopping": True}


class RecordingClassifier(LiquidS4Classifier):
    """Records the groups and the split of every validation split it makes."""

    splits: ClassVar[list] = []

    def _split_index(self, targets, seed, groups=None):
        train_index, valid_index = super()._split_index(targets, seed, groups)
        self.splits.append((groups, train_index, valid_index))
        return train_index, valid_index


def subjects(n=40, per_group=4):
    return np.repeat([f"s{k}" for k in range(n // per_group)], per_group)


@pytest.mark.parametrize(
    "Estimator, data", [(LiquidS4Classifier, sines), (LiquidS4Regressor, frequencies)]
)
def test_groups_none_changes_nothing(Estimator, data):
    X, y = data()
    plain = Estimator(**PARAMS).fit(X, y)
    with_none = Estimator(**PARAMS).fit(X, y, groups=None)
    assert np.array_equal(plain.predict(X), with_none.predict(X))
    assert plain.loss_curve_ == with_none.loss_curve_
    assert plain.validation_scores_ == with_none.validation_scores_


def test_validation_holds_out_whole_groups():
    X, y = sines()
    groups = subjects()
    RecordingClassifier.splits = []
    RecordingClassifier(**PARAMS).fit(X, y, groups=groups)
    ((recorded, train_index, valid_index),) = RecordingClassifier.splits
    assert recorded is not None
    held_out, kept = set(groups[valid_index]), set(groups[train_index])
    assert held_out and kept and not held_out & kept
    assert len(train_index) + len(valid_index) == len(X)


def test_groups_work_for_the_regressor():
    X, y = frequencies()
    reg = LiquidS4Regressor(**PARAMS).fit(X, y, groups=subjects())
    assert reg.best_validation_score_ is not None


@pytest.mark.parametrize(
    "groups, match",
    [
        (np.zeros(39), "39 element"),
        (np.zeros((40, 1)), "1-dimensional"),
        ([None] + [1] * 39, "missing"),
        (np.r_[np.nan, np.arange(39.0)], "missing"),
        (np.zeros(40), "at least 2"),
    ],
)
def test_bad_groups(groups, match):
    X, y = sines()
    with pytest.raises(ValueError, match=match):
        LiquidS4Classifier(**PARAMS).fit(X, y, groups=groups)


def test_groups_ignored_without_early_stopping():
    X, y = sines()
    params = {**PARAMS, "early_stopping": False}
    plain = LiquidS4Classifier(**params).fit(X, y)
    grouped = LiquidS4Classifier(**params).fit(X, y, groups=np.zeros(len(X)))  # one group: fine
    assert np.array_equal(plain.decision_function(X), grouped.decision_function(X))


def test_partial_fit_after_a_grouped_fit():
    X, y = sines()
    clf = LiquidS4Classifier(**PARAMS).fit(X, y, groups=subjects())
    clf.partial_fit(X, y)
    assert clf.predict(X).shape == (len(X),)


def search(estimator):
    pipe = Pipeline([("scale", FunctionTransformer()), ("clf", estimator)])
    return GridSearchCV(pipe, {"clf__d_model": [8]}, cv=GroupKFold(2))


def test_metadata_routing_passes_groups_to_splitter_and_fit():
    X, y = sines()
    groups = subjects()
    RecordingClassifier.splits = []
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = RecordingClassifier(**PARAMS).set_fit_request(groups=True)
        search(estimator).fit(X, y, groups=groups)
    assert len(RecordingClassifier.splits) == 3  # two folds and the refit
    folds = list(GroupKFold(2).split(X, y, groups))
    for k, (recorded, train_index, valid_index) in enumerate(RecordingClassifier.splits):
        assert recorded is not None
        assert not set(recorded[valid_index]) & set(recorded[train_index])
        if k < 2:  # a fold's fit sees only that fold's groups
            assert set(recorded) == set(groups[folds[k][0]])


def test_without_routing_groups_only_reach_the_splitter():
    X, y = sines()
    RecordingClassifier.splits = []
    search(RecordingClassifier(**PARAMS)).fit(X, y, groups=subjects())
    assert [recorded for recorded, _, _ in RecordingClassifier.splits] == [None] * 3
