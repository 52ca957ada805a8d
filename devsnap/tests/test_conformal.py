"""The split-conformal and calibration maths of sslearn._conformal, without a network."""

import math

import numpy as np
import pytest
from scipy.special import softmax

from sslearn._conformal import (
    check_alpha,
    conformal_quantile,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    prediction_sets,
    true_class_scores,
)


def _draw(rng, proba):
    """One class per row of ``proba``, drawn with those probabilities."""
    return (rng.uniform(size=(len(proba), 1)) > proba.cumsum(axis=1)).sum(axis=1)


def test_quantile_is_the_corrected_order_statistic():
    scores = np.arange(1.0, 10.0)  # n = 9
    assert conformal_quantile(scores, 0.1) == 9.0  # ceil(10 * 0.9) = 9
    assert conformal_quantile(scores, 0.2) == 8.0  # ceil(10 * 0.8) = 8
    assert conformal_quantile(scores, 0.5) == 5.0  # ceil(10 * 0.5) = 5


def test_quantile_per_column():
    scores = np.column_stack([np.arange(1.0, 10.0), 10 * np.arange(9.0, 0.0, -1)])
    np.testing.assert_array_equal(conformal_quantile(scores, 0.2), [8.0, 80.0])


def test_too_few_scores_give_infinity_with_a_warning():
    with pytest.warns(UserWarning, match="too few"):
        assert conformal_quantile(np.ones(5), 0.1) == np.inf  # ceil(6 * 0.9) = 6 > 5
    with pytest.warns(UserWarning, match="too few"):
        assert np.isinf(conformal_quantile(np.ones((5, 2)), 0.1)).all()


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "0.1", True, None])
def test_alpha_outside_the_unit_interval_is_refused(alpha):
    with pytest.raises(ValueError, match="alpha"):
        check_alpha(alpha)


@pytest.mark.parametrize("n", [19, 50, 200])
def test_coverage_on_exchangeable_scores(n):
    """Averaged over calibration draws, coverage lies in [1 - alpha, 1 - alpha + 1/(n+1)]."""
    rng = np.random.RandomState(0)
    alpha, trials, n_test = 0.1, 2000, 50
    covered = 0
    for _ in range(trials):
        scores = np.abs(rng.standard_t(3, size=n + n_test))
        covered += (scores[n:] <= conformal_quantile(scores[:n], alpha)).sum()
    coverage = covered / (trials * n_test)
    # test points share a calibration set: the sd of the mean is that of one trial's coverage
    # (a Beta with l = floor((n + 1) alpha)) plus binomial noise, over sqrt(trials)
    rank = n + 1 - math.floor((n + 1) * alpha)
    a, b = rank, n + 1 - rank
    beta_var = a * b / ((a + b) ** 2 * (a + b + 1))
    sd = math.sqrt((beta_var + alpha * (1 - alpha) / n_test) / trials)
    assert 1 - alpha - 4 * sd <= coverage <= 1 - alpha + 1 / (n + 1) + 4 * sd


def test_prediction_sets_hold_classes_above_the_threshold():
    proba = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    np.testing.assert_array_equal(
        prediction_sets(proba, 0.85), [[True, True, False], [True, True, True]]
    )
    assert not prediction_sets(proba, 0.1).any()  # sets can be empty
    assert prediction_sets(proba, np.inf).all()  # and full
    np.testing.assert_allclose(true_class_scores(proba, [0, 2]), [0.3, 0.75])


def test_temperature_recovers_an_overconfident_scale():
    rng = np.random.RandomState(0)
    logits = 2 * rng.randn(5000, 4)
    y = _draw(rng, softmax(logits, axis=1))
    assert fit_temperature(3 * logits, y) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(logits, y) == pytest.approx(1.0, abs=0.1)
    assert fit_temperature(logits / 2, y) == pytest.approx(0.5, rel=0.1)


def test_temperature_never_raises_the_nll():
    rng = np.random.RandomState(1)
    logits, y = rng.randn(30, 3), rng.randint(3, size=30)
    temperature = fit_temperature(logits, y)
    assert temperature > 0
    assert negative_log_likelihood(logits, y, temperature) <= negative_log_likelihood(logits, y)


def test_temperature_stays_one_when_every_held_out_series_is_right():
    rng = np.random.RandomState(2)
    logits = rng.randn(12, 3)
    y = logits.argmax(axis=1)  # separable: the NLL keeps falling as T -> 0
    assert fit_temperature(logits, y) == 1.0
    y[0] = (y[0] + 1) % 3  # one mistake gives the NLL a minimum
    assert fit_temperature(logits, y) != 1.0


def test_ece_of_calibrated_and_overconfident_probabilities():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet(np.ones(3), size=20000)
    y = _draw(rng, proba)
    assert expected_calibration_error(y, proba) < 0.02
    sharp = softmax(4 * np.log(proba), axis=1)
    assert expected_calibration_error(y, sharp) > 0.1


def test_ece_by_hand():
    # two series per bin: confidences 0.65 (one right) and 0.95 (one right)
    proba = np.array([[0.65, 0.35], [0.35, 0.65], [0.95, 0.05], [0.95, 0.05]])
    y = np.array([0, 0, 0, 1])
    expected = 0.5 * abs(0.5 - 0.65) + 0.5 * abs(0.5 - 0.95)
    assert expected_calibration_error(y, proba) == pytest.approx(expected)
    with pytest.raises(ValueError, match="one row per label"):
        expected_calibration_error(y[:3], proba)
