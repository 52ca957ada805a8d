"""The ECG/PPG simulator: layout, determinism, subjects, and physiologically sound targets."""

import numpy as np
import pytest

from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets import RHYTHMS, make_vital_signs

FS = 125.0


def r_peaks(ecg, fs=FS):
    """R-peak times (s) of a clean ECG: local maxima of the QRS-emphasised signal."""
    from scipy.signal import find_peaks

    width = int(0.1 * fs)
    smooth = np.convolve(ecg, np.ones(width) / width, mode="same")
    sharp = ecg - smooth  # removes baseline, P and T waves, keeps the narrow QRS
    peaks, _ = find_peaks(sharp, height=0.5 * sharp.max(), distance=int(0.25 * fs))
    return peaks / fs


def clean(**kwargs):
    params = dict(noise=0.0, artifact_rate=0.0, return_type="numpy", random_state=0)
    return make_vital_signs(**(params | kwargs))


def test_numpy_layout():
    X, y, groups = make_vital_signs(
        n_subjects=3, recordings_per_subject=4, duration_s=8, random_state=0, return_type="numpy"
    )
    assert X.shape == (12, 2, 1000) and X.dtype == np.float32
    assert np.isfinite(X).all()
    assert y.shape == (12, 2) and y.dtype == np.float64
    assert groups.dtype == np.int64
    np.testing.assert_array_equal(groups, np.repeat(np.arange(3), 4))


def test_frame_matches_numpy():
    kwargs = dict(n_subjects=3, recordings_per_subject=2, duration_s=6, random_state=1)
    X, y, groups = make_vital_signs(**kwargs, return_type="numpy")
    frame, frame_groups = make_vital_signs(**kwargs)
    assert list(frame.columns) == [
        "id",
        "subject",
        "time",
        "ecg",
        "ppg",
        "heart_rate",
        "breathing_rate",
    ]
    np.testing.assert_array_equal(frame_groups, groups)
    rows = from_long(frame, "id", "time", ["ecg", "ppg"])
    np.testing.assert_array_equal(to_panel(rows).values, X)
    np.testing.assert_array_equal(long_targets(frame, "id", "heart_rate"), y[:, 0])
    np.testing.assert_array_equal(long_targets(frame, "id", "breathing_rate"), y[:, 1])
    np.testing.assert_array_equal(long_targets(frame, "id", "subject"), groups)
    np.testing.assert_allclose(frame["time"].iloc[:3], [0.0, 1 / FS, 2 / FS])


def test_deterministic_given_random_state():
    kwargs = dict(n_subjects=2, recordings_per_subject=4, duration_s=6, task="classification")
    X1, y1, _ = make_vital_signs(**kwargs, random_state=7, return_type="numpy")
    X2, y2, _ = make_vital_signs(
        **kwargs, random_state=np.random.default_rng(7), return_type="numpy"
    )
    X3, _, _ = make_vital_signs(**kwargs, random_state=8, return_type="numpy")
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_regression_targets_are_plausible():
    kwargs = dict(n_subjects=10, recordings_per_subject=5, duration_s=10, random_state=2)
    _, y, _ = make_vital_signs(**kwargs, return_type="numpy")
    heart_rate, breathing_rate = y.T
    assert (heart_rate > 40 * 0.95).all() and (heart_rate < 140 * 1.05).all()
    assert (breathing_rate >= 6).all() and (breathing_rate <= 30).all()
    assert heart_rate.std() > 5 and breathing_rate.std() > 1


def test_heart_rate_matches_the_ecg_r_peaks():
    X, y, _ = clean(n_subjects=3, recordings_per_subject=2, duration_s=30)
    for ecg, heart_rate in zip(X[:, 0], y[:, 0], strict=True):
        peaks = r_peaks(ecg)
        estimate = 60.0 / np.diff(peaks).mean()
        assert estimate == pytest.approx(heart_rate, rel=0.05)


def test_ppg_pulse_follows_each_r_peak():
    X, _, _ = clean(n_subjects=2, recordings_per_subject=1, duration_s=20)
    for ecg, ppg in X:
        peaks = r_peaks(ecg)
        lags = []
        for t in peaks[(peaks > 1) & (peaks < 18)]:
            start = int(t * FS)
            lags.append(np.argmax(ppg[start : start + int(0.5 * FS)]) / FS)
        assert 0.15 < np.median(lags) < 0.45  # the pulse transit time
        assert np.std(lags) < 0.05


def test_subjects_differ_more_than_their_recordings():
    X, _, groups = clean(n_subjects=6, recordings_per_subject=4, duration_s=8)
    r_amplitude = np.array([np.percentile(ecg, 99.5) for ecg in X[:, 0]])
    within = np.mean([r_amplitude[groups == g].std() for g in range(6)])
    between = np.std([r_amplitude[groups == g].mean() for g in range(6)])
    assert between > 2 * within


def test_classification_classes_are_balanced_and_distinct():
    X, y, _ = clean(n_subjects=4, recordings_per_subject=6, duration_s=30, task="classification")
    assert y.dtype.kind == "U" and set(y) == set(RHYTHMS)
    counts = np.unique(y, return_counts=True)[1]
    assert counts.max() - counts.min() <= 1
    rates, irregularity = [], []
    for ecg in X[:, 0]:
        rr = np.diff(r_peaks(ecg))
        rates.append(60.0 / rr.mean())
        irregularity.append(np.abs(np.diff(rr)).mean() / rr.mean())
    rates, irregularity = np.array(rates), np.array(irregularity)
    normal, af, ectopic, tachy = (y == label for label in RHYTHMS)
    assert irregularity[af].min() > irregularity[normal].max()
    assert irregularity[ectopic].min() > irregularity[normal].max()
    assert rates[tachy].min() > 100 > rates[normal].max()


def test_unbalanced_count_still_balanced_within_one():
    _, y, _ = clean(n_subjects=3, recordings_per_subject=3, duration_s=5, task="classification")
    counts = np.unique(y, return_counts=True)[1]
    assert counts.sum() == 9 and counts.max() - counts.min() <= 1


def test_noise_and_artefacts_change_the_signal():
    X_clean, y_clean, _ = clean(n_subjects=2, recordings_per_subject=2, duration_s=10)
    kwargs = dict(n_subjects=2, recordings_per_subject=2, duration_s=10)
    X_noisy, y_noisy, _ = clean(**kwargs, noise=0.05, artifact_rate=6.0)
    np.testing.assert_array_equal(y_clean, y_noisy)  # same physiology, same seed
    residual = X_noisy - X_clean
    assert residual.std() > 0.05 * 0.5
    assert np.abs(residual).max() > 1.0  # at least one artefact burst


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_subjects": 0}, ValueError, "n_subjects must be >= 1"),
        ({"recordings_per_subject": 2.5}, TypeError, "recordings_per_subject must be"),
        ({"duration_s": 2}, ValueError, "duration_s must be >= 5"),
        ({"fs": 20}, ValueError, "fs must be >= 50"),
        ({"noise": -1.0}, ValueError, "noise must be >= 0"),
        ({"task": "forecasting"}, ValueError, "task must be"),
        ({"return_type": "list"}, ValueError, "return_type must be"),
        ({"random_state": "seed"}, TypeError, "random_state must be"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_vital_signs(**kwargs)
