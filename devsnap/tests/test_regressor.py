"""LiquidS4Regressor: target scaling, multi-output, partial_fit, other lengths."""

import numpy as np
import pytest

from sslearn import LiquidS4Regressor

from ._toy import TINY, frequencies


def test_learns_in_original_units():
    X, y = frequencies(n=60)
    y_big = 1000.0 + 50.0 * y
    reg = LiquidS4Regressor(**{**TINY, "max_epochs": 40}).fit(X, y_big)
    pred = reg.predict(X)
    assert pred.shape == (60,)
    assert reg.score(X, y_big) > 0.5
    assert abs(pred.mean() - y_big.mean()) < 10.0  # unscaled back to the original units


def test_multi_output():
    X, y = frequencies(n=40)
    Y = np.column_stack([y, -3.0 * y + 2.0])
    reg = LiquidS4Regressor(**TINY).fit(X, Y)
    assert reg.n_outputs_ == 2
    assert reg.predict(X).shape == (40, 2)
    assert reg.network_.head.out_features == 2
    column = LiquidS4Regressor(**TINY).fit(X, y[:, None])
    assert column.predict(X).shape == (40, 1)


def test_constant_target():
    X, _ = frequencies(n=20)
    reg = LiquidS4Regressor(**TINY).fit(X, np.full(20, 7.0))
    np.testing.assert_allclose(reg.predict(X), 7.0, atol=1.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_targets_are_refused(bad):
    X, y = frequencies(n=20)
    y[3] = bad
    with pytest.raises(ValueError, match="Input y contains"):
        LiquidS4Regressor(**TINY).fit(X, y)


def test_partial_fit_keeps_target_scaling():
    X, y = frequencies(n=40)
    reg = LiquidS4Regressor(**TINY)
    reg.partial_fit(X[:20], y[:20] + 100)
    mean = reg._y_mean.copy()
    reg.partial_fit(X[20:], y[20:] + 100)
    np.testing.assert_array_equal(reg._y_mean, mean)
    assert reg.n_iter_ == 2
    with pytest.raises(ValueError, match="2 targets"):
        reg.partial_fit(X, np.column_stack([y, y]))


def test_predicts_other_lengths():
    X, y = frequencies(n=30, length=24)
    reg = LiquidS4Regressor(**TINY).fit(X, y)
    longer, _ = frequencies(n=5, length=40)
    shorter, _ = frequencies(n=5, length=10)
    assert reg.predict(longer).shape == (5,)
    assert reg.predict(shorter).shape == (5,)
    assert np.isfinite(reg.predict(list(longer[:, 0]) + list(shorter[:, 0]))).all()


def test_huge_targets_are_standardised_without_overflow():
    X, y = frequencies(n=20)
    reg = LiquidS4Regressor(**TINY).fit(X, y * 1e300)  # their squares overflow float64
    predictions = reg.predict(X)
    assert np.isfinite(predictions).all() and np.abs(predictions).max() < 1e301


def test_targets_too_wide_to_standardise_are_refused():
    X, _ = frequencies(n=4)
    with pytest.raises(ValueError, match=r"too wide a range.*Rescale it"):
        LiquidS4Regressor(**TINY).fit(X, [1.7e308, -1.7e308, 1.7e308, 1.7e308])
