"""Held-out calibration of the estimators: conformal intervals and sets, ensemble spread,
temperature scaling, and their use by MAPIE and CalibratedClassifierCV."""

import math
import os
import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.calibration import CalibratedClassifierCV

import sslearn
from sslearn import LiquidS4Classifier, LiquidS4Regressor
from tests._toy import TINY, frequencies, sines

FAST = {**TINY, "liquid_kernel": None, "early_stopping": True}
# the coverage fits: 100 training and 100 held-out series, a few epochs (coverage holds for
# any model; only the widths depend on how well it fits)
COVERAGE = {**FAST, "max_epochs": 3, "validation_fraction": 0.5}
ALPHA = 0.1
N_TEST = 1000


def _tolerance(n_calibration, n_test, alpha):
    """3 sd of the coverage of one calibration set: the Beta of the conformal quantile's
    coverage plus the binomial noise of ``n_test`` test points."""
    rank = math.ceil((n_calibration + 1) * (1 - alpha))
    a, b = rank, n_calibration + 1 - rank
    beta_var = a * b / ((a + b) ** 2 * (a + b + 1))
    return 3 * math.sqrt(beta_var + alpha * (1 - alpha) / n_test)


@pytest.fixture(scope="module")
def regressor():
    X, y = frequencies(n=200, seed=0)
    return LiquidS4Regressor(**COVERAGE, n_estimators=2).fit(X, y)


@pytest.fixture(scope="module")
def classifiers():
    """The same fit without and with temperature scaling."""
    X, y = sines(n=200, n_classes=3, seed=0)
    return tuple(
        LiquidS4Classifier(**COVERAGE, calibration=calibration).fit(X, y)
        for calibration in (None, "temperature")
    )


@pytest.mark.parametrize("method", ["absolute", "ensemble"])
def test_intervals_cover_exchangeable_series(regressor, method):
    X, y = frequencies(n=N_TEST, seed=1)
    intervals = regressor.predict_interval(X, alpha=ALPHA, method=method)
    assert intervals.shape == (N_TEST, 2)
    coverage = np.mean((intervals[:, 0] <= y) & (y <= intervals[:, 1]))
    n_calibration = len(regressor.conformity_scores_)
    assert n_calibration == 100
    assert coverage >= 1 - ALPHA - _tolerance(n_calibration, N_TEST, ALPHA)


def test_interval_shapes_and_centres(regressor):
    X, _ = frequencies(n=10, seed=2)
    prediction = regressor.predict(X)
    absolute = regressor.predict_interval(X, alpha=0.2)
    np.testing.assert_allclose(absolute.mean(axis=1), prediction)
    widths = absolute[:, 1] - absolute[:, 0]
    np.testing.assert_allclose(widths, widths[0])  # one width for every series
    adaptive = regressor.predict_interval(X, alpha=0.2, method="ensemble")
    np.testing.assert_allclose(adaptive.mean(axis=1), prediction)
    assert regressor.ensemble_conformity_scores_.shape == regressor.conformity_scores_.shape
    assert (adaptive[:, 1] > adaptive[:, 0]).all()


def test_multi_output_intervals_have_one_quantile_per_target():
    X, y = frequencies(n=60, seed=0)
    Y = np.column_stack([y, 100 * y])
    reg = LiquidS4Regressor(**FAST, validation_fraction=0.5).fit(X, Y)
    assert reg.conformity_scores_.shape == (30, 2)
    intervals = reg.predict_interval(X[:7], alpha=0.2)
    assert intervals.shape == (7, 2, 2)
    widths = intervals[..., 1] - intervals[..., 0]
    assert (widths[:, 1] > widths[:, 0]).all()  # the target in larger units: wider
    np.testing.assert_allclose(intervals.mean(axis=-1), reg.predict(X[:7]))


def test_return_std_is_the_members_spread(regressor):
    X, _ = frequencies(n=9, seed=3)
    mean, std = regressor.predict(X, return_std=True)
    np.testing.assert_allclose(mean, regressor.predict(X))
    assert std.shape == mean.shape == (9,)
    assert (std >= 0).all() and (std > 0).any()


def test_one_member_has_no_spread():
    X, y = frequencies(n=40)
    reg = LiquidS4Regressor(**FAST, validation_fraction=0.5).fit(X, y)
    with pytest.raises(ValueError, match="n_estimators"):
        reg.predict(X, return_std=True)
    with pytest.raises(ValueError, match="n_estimators"):
        reg.predict_interval(X, method="ensemble")
    assert reg.predict_interval(X).shape == (40, 2)


def test_prediction_sets_cover_exchangeable_series(classifiers):
    X, y = sines(n=N_TEST, n_classes=3, seed=1)
    for clf in classifiers:
        sets = clf.predict_set(X, alpha=ALPHA)
        assert sets.shape == (N_TEST, 3) and sets.dtype == bool
        coverage = sets[np.arange(N_TEST), np.searchsorted(clf.classes_, y)].mean()
        n_calibration = len(clf.conformity_scores_)
        assert coverage >= 1 - ALPHA - _tolerance(n_calibration, N_TEST, ALPHA)


def test_temperature_lowers_the_held_out_nll(classifiers):
    plain, scaled = classifiers
    assert plain.temperature_ == 1.0 and scaled.temperature_ > 0
    # same seed, same network: the held-out p_true differ by the temperature alone
    X, _ = sines(n=20, n_classes=3, seed=4)
    np.testing.assert_array_equal(plain.predict(X), scaled.predict(X))
    nll_plain = -np.log1p(-plain.conformity_scores_).mean()
    nll_scaled = -np.log1p(-scaled.conformity_scores_).mean()
    assert nll_scaled <= nll_plain
    np.testing.assert_allclose(
        scaled.predict_proba(X),
        softmax(plain.decision_function(X) / scaled.temperature_, axis=1),
    )


def test_without_held_out_series_the_methods_say_how_to_get_them():
    X, y = frequencies(n=40)
    reg = LiquidS4Regressor(**{**FAST, "early_stopping": False}).fit(X, y)
    assert reg.conformity_scores_ is None
    with pytest.raises(ValueError, match="early_stopping=True"):
        reg.predict_interval(X)
    X, y = sines(n=40)
    with pytest.warns(UserWarning, match="held out none"):
        clf = LiquidS4Classifier(
            **{**FAST, "early_stopping": False}, calibration="temperature"
        ).fit(X, y)
    assert clf.temperature_ == 1.0 and clf.conformity_scores_ is None
    with pytest.raises(ValueError, match="early_stopping=True"):
        clf.predict_set(X)


def test_partial_fit_drops_the_stale_calibration():
    X, y = sines(n=40)
    clf = LiquidS4Classifier(**FAST, validation_fraction=0.5).fit(X, y)
    assert clf.conformity_scores_.shape == (20,)
    clf.partial_fit(X, y)
    assert clf.conformity_scores_ is None
    with pytest.raises(ValueError, match="partial_fit"):
        clf.predict_set(X)


@pytest.mark.parametrize("alpha", [0, 1, 1.5])
def test_alpha_and_method_are_checked(regressor, classifiers, alpha):
    X, _ = frequencies(n=3)
    with pytest.raises(ValueError, match="alpha"):
        regressor.predict_interval(X, alpha=alpha)
    with pytest.raises(ValueError, match="method"):
        regressor.predict_interval(X, method="quantile")
    with pytest.raises(ValueError, match="alpha"):
        classifiers[0].predict_set(sines(n=3)[0], alpha=alpha)


def test_too_few_held_out_series_give_infinite_intervals(regressor):
    X, _ = frequencies(n=3)
    with pytest.warns(UserWarning, match="too few"):
        intervals = regressor.predict_interval(X, alpha=0.005)
    assert np.isinf(intervals).all()


def test_calibration_survives_save_load_and_pickle(tmp_path, regressor, classifiers):
    X, _ = frequencies(n=5, seed=5)
    Xc, _ = sines(n=5, n_classes=3, seed=5)
    path = os.fspath(tmp_path / "model.sslearn")
    for estimator, method, data in [
        (regressor, "predict_interval", X),
        (classifiers[1], "predict_set", Xc),
    ]:
        sslearn.save(estimator, path)
        for copy in (sslearn.load(path), pickle.loads(pickle.dumps(estimator))):
            np.testing.assert_array_equal(
                getattr(copy, method)(data), getattr(estimator, method)(data)
            )
    assert sslearn.load(path).temperature_ == classifiers[1].temperature_


def test_calibrated_classifier_cv_accepts_3d_series():
    X, y = sines(n=40)
    calibrated = CalibratedClassifierCV(
        LiquidS4Classifier(**{**TINY, "max_epochs": 2}, liquid_kernel=None), cv=2
    )
    proba = calibrated.fit(X, y).predict_proba(X[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_mapie_split_conformal_on_univariate_series():
    """MAPIE 1.x probes a prefit model with predict(np.zeros((1, n_features_in_))), which
    sslearn reads as one series of n_features_in_ steps: fine for univariate series only."""
    mapie = pytest.importorskip("mapie", minversion="1")
    from mapie.classification import SplitConformalClassifier
    from mapie.regression import SplitConformalRegressor

    del mapie
    X, y = frequencies(n=80)
    reg = LiquidS4Regressor(**{**TINY, "max_epochs": 2}, liquid_kernel=None).fit(X[:40], y[:40])
    conformal = SplitConformalRegressor(reg, confidence_level=0.9, prefit=True)
    conformal.conformalize(X[40:60], y[40:60])
    prediction, intervals = conformal.predict_interval(X[60:])
    assert prediction.shape == (20,) and intervals.shape == (20, 2, 1)
    assert (intervals[:, 0, 0] <= intervals[:, 1, 0]).all()

    X, y = sines(n=80, n_channels=1)
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 2}, liquid_kernel=None).fit(X[:40], y[:40])
    conformal = SplitConformalClassifier(clf, confidence_level=0.9, prefit=True)
    conformal.conformalize(X[40:60], y[40:60])
    prediction, sets = conformal.predict_set(X[60:])
    assert prediction.shape == (20,) and sets.shape == (20, 2, 1)


def test_calibration_on_either_device(device):
    """The held-out scores, intervals, sets and temperature of a fit on ``device``."""
    params = {**COVERAGE, "device": device}
    X, y = frequencies(n=120, seed=2)
    reg = LiquidS4Regressor(**params, n_estimators=2).fit(X, y)
    for method in ("absolute", "ensemble"):
        intervals = reg.predict_interval(X[:30], alpha=0.2, method=method)
        assert np.all(intervals[:, 0] <= reg.predict(X[:30]) + 1e-9)
        assert np.all(np.isfinite(intervals))
    X, y = sines(n=120, n_classes=3, seed=2)
    clf = LiquidS4Classifier(**params, calibration="temperature").fit(X, y)
    assert len(clf.conformity_scores_) == 60 and clf.temperature_ > 0
    sets = clf.predict_set(X[:30], alpha=0.2)
    assert sets.shape == (30, 3)
    # the predicted class is in every non-empty set
    chosen = np.searchsorted(clf.classes_, clf.predict(X[:30]))
    assert sets[np.arange(30), chosen][sets.any(axis=1)].all()
