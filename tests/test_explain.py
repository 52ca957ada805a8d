"""explain: integrated gradients of the estimators' outputs, in the user's units."""

import numpy as np
import pytest

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from tests._toy import TINY

pytest.importorskip("captum")

FAST = {**TINY, "max_epochs": 2}


def _data(n=24, n_channels=2, length=16, seed=0):
    rng = np.random.RandomState(seed)
    # channels far from zero mean and unit scale: the internal scaling must not leak out
    X = 3.0 + 2.0 * rng.randn(n, n_channels, length)
    X[:, 1] = 10.0 + 0.5 * X[:, 1]
    return X, rng


def _assert_complete(attributions, f_x, f_b):
    total = np.nansum(attributions, axis=(1, 2))
    gap = f_x - f_b
    assert np.all(np.abs(total - gap) <= 0.05 * np.abs(gap) + 1e-4), (total, gap)


@pytest.mark.parametrize(
    ("liquid_kernel", "scale"), [(None, True), ("kb", True), ("kb", "both"), (None, "series")]
)
def test_regressor_completeness_in_user_units(liquid_kernel, scale, device):
    """Also with the per-series standardisation (not affine): each copy the network reads
    is attributed along its own path, and the sum over copies stays complete."""
    X, _ = _data()
    y = X[:, 0, -4:].mean(axis=1) * 5.0 + 100.0
    model = LiquidS4Regressor(
        **{**FAST, "device": device}, liquid_kernel=liquid_kernel, scale=scale
    ).fit(X, y)
    attributions = model.explain(X[:6])
    assert attributions.shape == (6, 2, 16) and attributions.dtype == np.float64
    assert np.abs(attributions).sum() > 0
    means = np.zeros(2) if model.scaler_ is None else model.scaler_.mean_
    baseline = np.broadcast_to(means[None, :, None], X[:6].shape)
    _assert_complete(attributions, model.predict(X[:6]), model.predict(baseline))


def test_series_copy_is_attributed_along_its_own_path():
    """scale="both": a baseline that differs from X by a per-series gain and offset leaves the
    series-standardised copy unchanged, so only the channel-scaled copy moves and is
    attributed; with a constant baseline both copies move and their sum stays complete."""
    X, rng = _data()
    model = LiquidS4Regressor(**FAST, scale="both").fit(X, rng.randn(len(X)))
    moved = 0.5 * X[:4] + 1.0
    attributions = model.explain(X[:4], baseline=moved)
    _assert_complete(attributions, model.predict(X[:4]), model.predict(moved))


@pytest.mark.parametrize("liquid_kernel", [None, "kb"])
def test_classifier_completeness_of_the_logit(liquid_kernel, device):
    X, rng = _data()
    y = rng.randint(0, 3, len(X))
    model = LiquidS4Classifier(**{**FAST, "device": device}, liquid_kernel=liquid_kernel)
    model.fit(X, y)
    baseline = rng.randn(2)
    # the front end's ReLUs make the logit piecewise smooth: the quadrature needs more points
    attributions = model.explain(X[:6], baseline=baseline, target=2, n_steps=500)
    logits = model._forward(X[:6])[:, 2]
    base_logits = model._forward(np.broadcast_to(baseline[None, :, None], X[:6].shape))[:, 2]
    _assert_complete(attributions, logits, base_logits)


def test_classifier_default_target_is_the_predicted_class_and_ensembles_use_log_probs():
    X, rng = _data()
    y = np.array(["a", "b", "c"])[rng.randint(0, 3, len(X))]
    model = LiquidS4Classifier(**FAST, n_estimators=2).fit(X, y)
    predicted = model.predict(X[:5])
    by_default = model.explain(X[:5])
    np.testing.assert_array_equal(by_default, model.explain(X[:5], target=predicted))
    # the ensemble explains the log of its averaged probabilities
    baseline = np.broadcast_to(model.scaler_.mean_[None, :, None], X[:5].shape)
    index = np.searchsorted(model.classes_, predicted)
    rows = np.arange(5)
    log_p = np.log(model.predict_proba(X[:5]))[rows, index]
    log_p_base = np.log(model.predict_proba(baseline))[rows, index]
    _assert_complete(by_default, log_p, log_p_base)


def test_batch_size_does_not_change_the_result():
    X, rng = _data(n=12)
    model = LiquidS4Regressor(**FAST).fit(X, rng.randn(len(X)))
    whole = model.explain(X, batch_size=12)
    np.testing.assert_allclose(model.explain(X, batch_size=5), whole, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.explain(X), whole, rtol=1e-10, atol=1e-12)


def test_unequal_lengths_give_nan_at_padding_and_stay_complete():
    X, rng = _data(n=12)
    X[:4, :, 10:] = np.nan
    model = LiquidS4Regressor(**FAST).fit(X, rng.randn(len(X)))
    attributions = model.explain(X[:6], batch_size=4)
    np.testing.assert_array_equal(np.isnan(attributions), np.isnan(X[:6]))
    baseline = np.where(np.isnan(X[:6]), np.nan, model.scaler_.mean_[None, :, None])
    _assert_complete(attributions, model.predict(X[:6]), model.predict(baseline))


def test_multi_output_regressor_target_and_unscaled_inputs():
    X, _ = _data()
    y = np.stack([X[:, 0].mean(axis=1), 100 * X[:, 1, -1]], axis=1)
    model = LiquidS4Regressor(**FAST, scale=False).fit(X, y)
    attributions = model.explain(X[:4], target=1)
    # scale=False: the default baseline is 0
    _assert_complete(attributions, model.predict(X[:4])[:, 1], model.predict(0 * X[:4])[:, 1])


def test_explain_validates_its_arguments():
    X, rng = _data(n=12)
    model = LiquidS4Classifier(**FAST).fit(X, np.arange(12) % 2)
    with pytest.raises(ValueError, match="baseline must have shape"):
        model.explain(X, baseline=np.zeros(3))
    with pytest.raises(ValueError, match="not among classes_"):
        model.explain(X, target=7)
    with pytest.raises(ValueError, match="one per series"):
        model.explain(X, target=[0, 1])
    with pytest.raises(ValueError, match="method must be one of"):
        model.explain(X, method="shap")
    with pytest.raises(ValueError, match="n_steps"):
        model.explain(X, n_steps=0)
    regressor = LiquidS4Regressor(**FAST).fit(X, rng.randn(12))
    with pytest.raises(ValueError, match="output index"):
        regressor.explain(X, target=1)


def test_attributions_keep_the_shape_of_an_all_padded_tail():
    X, rng = _data(n=12)
    model = LiquidS4Regressor(**FAST).fit(X, rng.randn(12))
    short = X[:3].copy()
    short[:, :, 12:] = np.nan  # every series ends at 12: the panel is 12 steps wide
    attributions = model.explain(short, baseline=np.zeros_like(short))
    assert attributions.shape == short.shape
    np.testing.assert_array_equal(np.isnan(attributions), np.isnan(short))
