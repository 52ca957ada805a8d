"""``make_vital_signs``: a BIDMC-like simulator of ECG and PPG recordings of many subjects."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd

from sslearn.datasets._physiology import (
    Beats,
    add_ectopics,
    af_beats,
    artefacts,
    ecg,
    ppg,
    sinus_beats,
)

__all__ = ["RHYTHMS", "make_vital_signs"]

_TWO_PI = 2.0 * np.pi

RHYTHMS = ("normal_sinus", "atrial_fibrillation", "ectopic_beats", "sinus_tachycardia")
"""Class labels of ``make_vital_signs(task="classification")``."""

HEART_RATE_RANGE = (40.0, 140.0)
BREATHING_RATE_RANGE = (6.0, 30.0)


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    raise TypeError(
        "random_state must be None, an int, a numpy Generator or RandomState, got "
        f"{type(random_state).__name__}."
    )


def _check(name, value, kind, low, include_low=True):
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__.lower()}, got {value!r}.")
    if value < low or (value == low and not include_low):
        bound = ">=" if include_low else ">"
        raise ValueError(f"{name} must be {bound} {low}, got {value!r}.")


def _subjects(n_subjects: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-subject physiology: resting rates, transit time, ECG and PPG morphology."""
    u = lambda lo, hi: rng.uniform(lo, hi, size=n_subjects)  # noqa: E731
    return {
        # rates and their coupling
        "heart_rate": u(55.0, 95.0),
        "breathing_rate": u(10.0, 20.0),
        "rsa": u(0.02, 0.07),
        # ECG morphology (mV, s)
        "p": u(0.08, 0.2),
        "q": u(0.03, 0.15),
        "r": u(0.6, 1.6),
        "s": u(0.1, 0.35),
        "t": u(0.15, 0.4),
        "pr": u(0.14, 0.2),
        "qt": u(0.26, 0.32),
        "w": u(0.9, 1.2),
        "ecg_wander": u(0.03, 0.15),
        # PPG
        "ptt": u(0.22, 0.36),
        "amp": u(0.5, 2.0),
        "riav": u(0.05, 0.2),
        "riiv": u(0.05, 0.2),
        "dia_delay": u(0.22, 0.32),
        "dia_ratio": u(0.15, 0.45),
        "ppg_wander": u(0.05, 0.2),
    }


def make_vital_signs(
    n_subjects: int = 20,
    recordings_per_subject: int = 8,
    duration_s: float = 32.0,
    fs: float = 125.0,
    task: str = "regression",
    noise: float = 0.03,
    artifact_rate: float = 1.0,
    random_state=None,
    return_type: str = "frame",
):
    """Simulate ECG and PPG recordings of many subjects, like the BIDMC ICU data set.

    Each recording holds two channels sampled at ``fs``: a lead-II-like ECG and a
    finger PPG. The model, per beat and per subject:

    - **respiration** at the recording's breathing rate, slowly varying (+-6 %);
    - **heart rhythm**: a sinus node whose rate is modulated by respiration (respiratory
      sinus arrhythmia, 2-7 % of the rate) and by 0.1 Hz Mayer waves, with 4 ms jitter;
    - **ECG**: each beat a sum of P, Q, R, S and T Gaussians (the waveform of ECGSYN,
      McSharry et al., IEEE TBME 2003, written directly in time), the T wave moving with
      sqrt(RR), the R amplitude modulated by respiration, plus baseline wander;
    - **PPG**: a pulse (fast systolic rise, slower fall, diastolic wave) a pulse transit
      time (0.22-0.36 s) after each R peak, its amplitude modulated by respiration and by
      the filling time (the preceding R-R interval), on a respiratory baseline plus drift;
    - **noise**: white Gaussian noise and motion-artefact bursts (band-limited noise and a
      baseline step under a Hann window, 0.5-3 s, on both channels, twice as strong on the
      PPG).

    Resting heart and breathing rates, the strength of the respiratory coupling, the pulse
    transit time and the ECG/PPG morphology are drawn **per subject**, so that recordings
    of one subject resemble each other: evaluate with a subject-wise split such as
    ``GroupKFold`` on ``groups``.

    Parameters
    ----------
    n_subjects : int, default=20
        Number of subjects.
    recordings_per_subject : int, default=8
        Recordings per subject; ``n_samples = n_subjects * recordings_per_subject``.
    duration_s : float, default=32.0
        Length of each recording in seconds (BIDMC32 uses 32 s windows), at least 5.
    fs : float, default=125.0
        Sampling rate in Hz (the BIDMC rate), at least 50;
        ``n_timepoints = round(duration_s * fs)``.
    task : {"regression", "classification"}, default="regression"
        ``"regression"``: sinus rhythm at a per-recording heart rate (the subject's resting
        rate, 55-95 bpm, plus a N(0, 8 bpm) state offset, within 40-140 bpm) and breathing
        rate (10-20 breaths/min plus N(0, 2.5), within 6-30); the targets are the
        recording's mean heart rate in beats/min, ``60 / mean(R-R interval)`` over the R
        peaks inside the recording, and mean breathing rate in breaths/min.
        ``"classification"``: one of four rhythms (:data:`RHYTHMS`), balanced (class sizes
        differ by at most one) and shuffled over recordings:

        - ``"normal_sinus"``: sinus rhythm at the subject's resting rate (50-98 bpm);
        - ``"atrial_fibrillation"``: irregularly irregular R-R intervals (independent,
          coefficient of variation 0.15-0.3) at 75-130 bpm, no P waves, 4-8 Hz
          fibrillatory waves on the ECG baseline, pulses of varying height;
        - ``"ectopic_beats"``: sinus rhythm at the resting rate with premature
          ventricular contractions (8-20 % of beats, at least two per recording; wide
          QRS, no P wave, inverted T wave, a small late pulse, then a compensatory pause);
        - ``"sinus_tachycardia"``: sinus rhythm at 105-140 bpm.
    noise : float, default=0.03
        Standard deviation of the white noise, relative to the subject's R-wave amplitude
        (ECG) and pulse amplitude (PPG).
    artifact_rate : float, default=1.0
        Expected number of motion-artefact bursts per minute of recording (Poisson); 0
        turns them off.
    random_state : int, numpy Generator or RandomState, default=None
        Seed; the output is a deterministic function of it and the other parameters.
    return_type : {"frame", "numpy"}, default="frame"
        Output layout, see Returns.

    Returns
    -------
    frame : DataFrame
        For ``return_type="frame"``: one row per (recording, sample) with columns ``id``
        (recording, 0..n_samples-1), ``subject``, ``time`` (s), ``ecg`` (mV) and ``ppg``
        (a.u.), both float32, then the targets: ``heart_rate`` and ``breathing_rate``
        (float64) for regression, ``rhythm`` (str) for classification. Read it with
        ``from_long(frame, "id", "time", ["ecg", "ppg"])`` and, per target,
        ``long_targets(frame, "id", "heart_rate")``.
    X : ndarray of shape (n_samples, 2, n_timepoints), dtype float32
        For ``return_type="numpy"``: channels ``[ecg, ppg]``.
    y : ndarray of shape (n_samples, 2) or (n_samples,)
        For ``return_type="numpy"``: ``[heart_rate, breathing_rate]`` (float64) for
        regression, rhythm labels (str) for classification.
    groups : ndarray of shape (n_samples,), dtype int64
        The subject of each recording, in the order of ``X`` and of the sorted ids of
        ``frame`` (the row order of ``from_long``). Returned with either layout: the
        result is ``(frame, groups)`` or ``(X, y, groups)``.

    Notes
    -----
    This is a simulator, not a physiological model: it reproduces the structures that a
    heart-rate, breathing-rate or rhythm model must pick up (R-peak timing, pulse
    timing and shape, respiratory modulations, rhythm irregularity) and the nuisances
    that make them hard (subject differences, baseline wander, noise, motion artefacts),
    so that a pipeline can be tested end to end before it meets real data such as the
    TSER problems ``BIDMC32HR`` and ``BIDMC32RR`` (:func:`fetch_tser`).

    Examples
    --------
    >>> from sklearn.model_selection import GroupKFold
    >>> from sslearn.datasets import make_vital_signs
    >>> X, y, groups = make_vital_signs(n_subjects=4, recordings_per_subject=2,
    ...                                 duration_s=10, random_state=0, return_type="numpy")
    >>> X.shape, y.shape, groups.tolist()
    ((8, 2, 1250), (8, 2), [0, 0, 1, 1, 2, 2, 3, 3])
    >>> train, test = next(GroupKFold(n_splits=2).split(X, y, groups))
    >>> set(groups[train]) & set(groups[test])
    set()
    >>> frame, groups = make_vital_signs(n_subjects=2, recordings_per_subject=4,
    ...                                  duration_s=10, task="classification",
    ...                                  random_state=0)
    >>> list(frame.columns)
    ['id', 'subject', 'time', 'ecg', 'ppg', 'rhythm']
    """
    _check("n_subjects", n_subjects, Integral, 1)
    _check("recordings_per_subject", recordings_per_subject, Integral, 1)
    _check("duration_s", duration_s, Real, 5.0)
    _check("fs", fs, Real, 50.0)
    _check("noise", noise, Real, 0.0)
    _check("artifact_rate", artifact_rate, Real, 0.0)
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}.")
    if return_type not in ("frame", "numpy"):
        raise ValueError(f"return_type must be 'frame' or 'numpy', got {return_type!r}.")
    rng = _rng(random_state)
    fs = float(fs)

    subjects = _subjects(n_subjects, rng)
    n = n_subjects * recordings_per_subject
    groups = np.repeat(np.arange(n_subjects, dtype=np.int64), recordings_per_subject)
    per_rec = {key: value[groups] for key, value in subjects.items()}
    length = round(duration_s * fs)
    margin = round(1.5 * fs)
    t_ext = (np.arange(length + 2 * margin) - margin) / fs  # (Le,)

    # rhythm and rates of each recording
    if task == "classification":
        rhythm = rng.permutation(np.arange(n) % len(RHYTHMS))
    else:
        rhythm = np.zeros(n, dtype=np.int64)
    if task == "regression":
        heart_rate = per_rec["heart_rate"] + rng.normal(0.0, 8.0, n)
        heart_rate = np.clip(heart_rate, *HEART_RATE_RANGE)
    else:  # resting sinus rate, kept below the tachycardia class
        heart_rate = np.clip(per_rec["heart_rate"] + rng.normal(0.0, 4.0, n), 50.0, 98.0)
    heart_rate = np.where(rhythm == 3, rng.uniform(105.0, 140.0, n), heart_rate)
    heart_rate = np.where(rhythm == 1, rng.uniform(75.0, 130.0, n), heart_rate)
    breathing_rate = np.clip(
        per_rec["breathing_rate"] + rng.normal(0.0, 2.5, n), *BREATHING_RATE_RANGE
    )

    resp_phase = _respiration_phase(breathing_rate, t_ext, fs, margin, length, rng)
    resp = np.sin(resp_phase)  # (n, Le)
    beats = _beat_train(rhythm, heart_rate, per_rec["rsa"], resp, t_ext, fs, margin, rng)
    resp_at_beat = np.sin(_interp_rows(resp_phase, beats.rec, beats.time * fs + margin))
    heart_rate_mean = _mean_heart_rate(beats, n, (length - 1) / fs)

    # waveforms
    t = np.arange(length) / fs
    morph = {key: per_rec[key] for key in ("p", "q", "r", "s", "t", "pr", "qt", "w")}
    ecg_signal = ecg(beats, morph, resp_at_beat, n, length, fs)
    shape = {key: per_rec[key] for key in ("ptt", "amp", "riav", "dia_delay", "dia_ratio")}
    shape["nominal_rr"] = 60.0 / heart_rate
    ppg_signal = ppg(beats, shape, resp_at_beat, n, length, fs)
    resp_in = resp[:, margin : margin + length]
    ecg_signal += per_rec["ecg_wander"][:, None] * _wander(n, t, rng) + 0.04 * resp_in
    ppg_signal += per_rec["riiv"][:, None] * per_rec["amp"][:, None] * resp_in
    ppg_signal += per_rec["ppg_wander"][:, None] * per_rec["amp"][:, None] * _wander(n, t, rng)
    af = np.flatnonzero(rhythm == 1)
    if af.size:
        ecg_signal[af] += _fibrillatory_waves(af.size, t, fs, rng)

    X = np.stack([ecg_signal, ppg_signal], axis=1)  # (n, 2, L)
    scale = np.stack([per_rec["r"], per_rec["amp"]], axis=1)  # (n, 2)
    if noise > 0:
        X += noise * scale[:, :, None] * rng.standard_normal(X.shape)
    if artifact_rate > 0:
        artefacts(X, scale, float(artifact_rate), fs, rng)
    X = X.astype(np.float32)

    if task == "regression":
        y = np.stack([heart_rate_mean, breathing_rate], axis=1)
    else:
        y = np.asarray(RHYTHMS)[rhythm]
    if return_type == "numpy":
        return X, y, groups
    return _frame(X, y, groups, t, task), groups


def _respiration_phase(breathing_rate, t_ext, fs, margin, length, rng) -> np.ndarray:
    """Phase (rad) of breathing on the extended grid, shape (n, Le).

    The rate varies slowly by +-6 % around a mean over the recording's own samples that
    equals ``breathing_rate`` (breaths/min) exactly.
    """
    n = breathing_rate.size
    wobble = 1.0 + 0.06 * np.sin(
        _TWO_PI * rng.uniform(0.01, 0.03, (n, 1)) * t_ext + rng.uniform(0, _TWO_PI, (n, 1))
    )
    wobble /= wobble[:, margin + 1 : margin + length].mean(axis=1, keepdims=True)
    steps = _TWO_PI * breathing_rate[:, None] / 60.0 * wobble / fs
    return rng.uniform(0, _TWO_PI, (n, 1)) + np.cumsum(steps, axis=1)


def _beat_train(rhythm, heart_rate, rsa, resp, t_ext, fs, margin, rng) -> Beats:
    """R peaks of every recording on the extended grid, by rhythm (see ``RHYTHMS``)."""
    n = heart_rate.size
    mayer = 0.02 * np.sin(
        _TWO_PI * rng.uniform(0.08, 0.12, (n, 1)) * t_ext + rng.uniform(0, _TWO_PI, (n, 1))
    )
    profile = 1.0 + rsa[:, None] * resp + mayer  # relative instantaneous sinus rate
    beats = sinus_beats(heart_rate, profile, fs, margin, rng)
    af = np.flatnonzero(rhythm == 1)
    if af.size:
        beats = beats.select(~np.isin(beats.rec, af))
        irregularity = rng.uniform(0.15, 0.3, af.size)
        irregular = af_beats(af, heart_rate[af], irregularity, t_ext[0], t_ext[-1], rng)
        beats = Beats(
            np.r_[beats.rec, irregular.rec],
            np.r_[beats.time, irregular.time],
            np.r_[beats.kind, irregular.kind],
        )
    ectopic = np.flatnonzero(rhythm == 2)
    if ectopic.size:
        beats = beats.finish(60.0 / heart_rate)
        probability = rng.uniform(0.08, 0.2, ectopic.size)
        window = (0.0, t_ext[-1] - margin / fs)
        beats = add_ectopics(beats, ectopic, probability, window, rng)
    return beats.finish(60.0 / heart_rate)


def _mean_heart_rate(beats: Beats, n: int, end: float) -> np.ndarray:
    """``60 / mean(R-R interval)`` over the R peaks in [0, end] of each recording."""
    inside = (beats.time >= 0.0) & (beats.time <= end)
    rec, time = beats.rec[inside], beats.time[inside]
    count = np.bincount(rec, minlength=n)
    first, last = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(first, rec, time)
    np.maximum.at(last, rec, time)
    return 60.0 * (count - 1) / (last - first)


def _interp_rows(values: np.ndarray, rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values[rows[i]]`` at fractional sample ``positions[i]``."""
    positions = np.clip(positions, 0.0, values.shape[1] - 1.0)
    lower = np.minimum(np.floor(positions).astype(np.int64), values.shape[1] - 2)
    frac = positions - lower
    return (1.0 - frac) * values[rows, lower] + frac * values[rows, lower + 1]


def _wander(n: int, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Baseline wander of unit scale: two slow sinusoids (0.05-0.15 and 0.15-0.35 Hz)."""
    f1, f2 = rng.uniform(0.05, 0.15, (n, 1)), rng.uniform(0.15, 0.35, (n, 1))
    p1, p2 = rng.uniform(0, _TWO_PI, (n, 1)), rng.uniform(0, _TWO_PI, (n, 1))
    return np.sin(_TWO_PI * f1 * t + p1) + 0.5 * np.sin(_TWO_PI * f2 * t + p2)


def _fibrillatory_waves(n: int, t: np.ndarray, fs: float, rng: np.random.Generator):
    """Atrial f-waves: 4-8 Hz oscillation with a random-walk phase, 0.03-0.08 mV."""
    phase_noise = np.cumsum(rng.normal(0.0, 0.15, (n, t.size)), axis=1) * np.sqrt(125.0 / fs)
    freq = rng.uniform(4.0, 8.0, (n, 1))
    amp = rng.uniform(0.03, 0.08, (n, 1))
    return amp * np.sin(_TWO_PI * freq * t + phase_noise)


def _frame(X, y, groups, t, task) -> pd.DataFrame:
    n, _, length = X.shape
    frame = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n, dtype=np.int64), length),
            "subject": np.repeat(groups, length),
            "time": np.tile(t, n),
            "ecg": X[:, 0].reshape(-1),
            "ppg": X[:, 1].reshape(-1),
        }
    )
    if task == "regression":
        frame["heart_rate"] = np.repeat(y[:, 0], length)
        frame["breathing_rate"] = np.repeat(y[:, 1], length)
    else:
        frame["rhythm"] = np.repeat(y, length)
    return frame
