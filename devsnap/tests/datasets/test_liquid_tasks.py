"""The liquid-task simulator: layout, determinism, balance and targets as documented."""

import numpy as np
import pytest

from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets import LIQUID_TASKS, make_liquid_task

N_CHANNELS = {
    "gated_integrator": 2,
    "gated_integrator_sign": 2,
    "event_rate": 1,
    "heart_rate_change": 1,
}
CLASSES = {
    "gated_integrator_sign": ["negative", "positive"],
    "event_rate": ["down", "steady", "up"],
    "heart_rate_change": ["accelerating", "decelerating", "steady"],
}


@pytest.mark.parametrize("task", LIQUID_TASKS)
def test_layout(task):
    X, y, groups = make_liquid_task(task, n_samples=31, n_timepoints=120, random_state=0)
    assert X.shape == (31, N_CHANNELS[task], 120) and X.dtype == np.float32
    assert np.isfinite(X).all()
    assert y.shape == (31,)
    np.testing.assert_array_equal(groups, np.arange(31))
    if task == "gated_integrator":
        assert y.dtype == np.float64
    else:
        assert sorted(np.unique(y)) == CLASSES[task]


@pytest.mark.parametrize("task", LIQUID_TASKS)
def test_deterministic_given_random_state(task):
    kwargs = dict(n_samples=12, n_timepoints=64)
    X1, y1, _ = make_liquid_task(task, **kwargs, random_state=3)
    X2, y2, _ = make_liquid_task(task, **kwargs, random_state=np.random.default_rng(3))
    X3, _, _ = make_liquid_task(task, **kwargs, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("task", sorted(CLASSES))
@pytest.mark.parametrize("n_samples", [90, 100])
def test_classes_are_balanced(task, n_samples):
    _, y, _ = make_liquid_task(task, n_samples=n_samples, n_timepoints=64, random_state=0)
    _, counts = np.unique(y, return_counts=True)
    assert counts.max() - counts.min() <= 1


def test_gated_integrator_target():
    X, y, _ = make_liquid_task("gated_integrator", n_samples=200, random_state=0)
    signal, gate = X[:, 0].astype(np.float64), X[:, 1]
    assert set(np.unique(gate)) == {0.0, 1.0} and gate.any(axis=1).all()
    expected = np.array([signal[i, gate[i] == 1].sum() / 400 for i in range(len(y))])
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    # the gate matters: the ungated integral explains only part of the target
    assert np.corrcoef(signal.sum(axis=1), y)[0, 1] ** 2 < 0.75
    assert 0.4 < gate.mean() < 0.6 and 0.9 < signal.var() < 1.1


def test_gated_integrator_sign_is_the_sign_of_the_integral():
    X, y, _ = make_liquid_task("gated_integrator_sign", n_samples=101, random_state=1)
    integral = (X[:, 0].astype(np.float64) * X[:, 1]).sum(axis=1)
    np.testing.assert_array_equal(y, np.where(integral > 0, "positive", "negative"))


def test_event_rate_count_is_uninformative_but_halves_differ():
    X, y, _ = make_liquid_task("event_rate", n_samples=3000, random_state=0)
    events = X[:, 0]
    assert set(np.unique(events)) == {0.0, 1.0}
    total = {label: events[y == label].sum(axis=1).mean() for label in CLASSES["event_rate"]}
    assert max(total.values()) / min(total.values()) < 1.05
    early, late = events[:, :200].sum(axis=1), events[:, 200:].sum(axis=1)
    assert (late - early)[y == "up"].mean() > 5 > 0 > -5 > (late - early)[y == "down"].mean()


def test_heart_rate_change_level_is_uninformative():
    X, y, _ = make_liquid_task("heart_rate_change", n_samples=600, random_state=0)
    means = [X[y == label, 0].mean() for label in CLASSES["heart_rate_change"]]
    assert np.abs(means).max() < 0.01  # zero-mean beats: the level says nothing of the rate


def test_frame_matches_numpy():
    frame, _ = make_liquid_task(
        "gated_integrator", n_samples=5, n_timepoints=20, return_type="frame"
    )
    assert list(frame.columns) == ["id", "time", "signal", "gate", "integral"]
    kwargs = dict(n_samples=4, n_timepoints=20, random_state=2)
    X, y, groups = make_liquid_task("event_rate", **kwargs)
    frame, frame_groups = make_liquid_task("event_rate", **kwargs, return_type="frame")
    assert list(frame.columns) == ["id", "time", "events", "direction"]
    np.testing.assert_array_equal(frame_groups, groups)
    np.testing.assert_array_equal(to_panel(from_long(frame, "id", "time", ["events"])).values, X)
    np.testing.assert_array_equal(long_targets(frame, "id", "direction"), y)


def test_bad_arguments():
    with pytest.raises(ValueError, match="task must be one of") as error:
        make_liquid_task("integrator")
    assert all(repr(task) in str(error.value) for task in LIQUID_TASKS)
    with pytest.raises(ValueError, match="n_timepoints"):
        make_liquid_task("event_rate", n_timepoints=8)
    with pytest.raises(TypeError, match="n_samples"):
        make_liquid_task("event_rate", n_samples=10.0)
    with pytest.raises(ValueError, match="return_type"):
        make_liquid_task("event_rate", return_type="pandas")
    with pytest.raises(TypeError, match="random_state"):
        make_liquid_task("event_rate", random_state="0")
