"""``make_liquid_task``: synthetic problems whose dynamics depend on the input.

Liquid-S4's transition ``x' = (A + B u) x + B u`` gives the state an input-dependent time
constant. Each task here is built so that the answer needs the input to act on how the
past is kept or weighed (a gate, the timing of events or beats), not only on what is
added to it, and so that the easy shortcuts (the mean level, the total count) carry no
information. They are benchmarks of that mechanism (``benchmarks/bench_liquid_tasks.py``).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

from sslearn.datasets._vital_signs import _rng

__all__ = ["LIQUID_TASKS", "make_liquid_task"]

LIQUID_TASKS = ("gated_integrator", "gated_integrator_sign", "event_rate", "heart_rate_change")
"""Names accepted by :func:`make_liquid_task`."""

_CHANNELS = {
    "gated_integrator": ("signal", "gate"),
    "gated_integrator_sign": ("signal", "gate"),
    "event_rate": ("events",),
    "heart_rate_change": ("pulse",),
}
_TARGETS = {
    "gated_integrator": "integral",
    "gated_integrator_sign": "sign",
    "event_rate": "direction",
    "heart_rate_change": "trend",
}
_SIGN_CLASSES = ("negative", "positive")
_DIRECTIONS = ("down", "steady", "up")
_TRENDS = ("accelerating", "decelerating", "steady")

_GATE_SWITCHES = 8.0  # expected gate switches per series
_SIGNAL_MEMORY = 0.9  # AR(1) coefficient of the gated signal
_RATE_RANGE = (0.04, 0.1)  # mean event rate, events per step
_RATE_RATIO = (2.0, 4.0)  # rate after / before the switch (or its inverse)
_DURATION_S = 10.0  # length of a heart recording; fs = n_timepoints / _DURATION_S
_HEART_RATE = (60.0, 100.0)  # mean heart rate, beats/min
_HEART_RATE_CHANGE = (0.2, 0.5)  # relative change over the recording


def _check_int(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")


def _balanced_labels(n: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Class indices with sizes differing by at most one, in random order."""
    return rng.permutation(np.arange(n) % n_classes)


def make_liquid_task(
    task: str,
    n_samples: int = 600,
    n_timepoints: int = 400,
    random_state=None,
    return_type: str = "numpy",
):
    """Simulate a problem that calls for input-dependent dynamics (Liquid-S4's mechanism).

    A time-invariant SSM (``liquid_kernel=None``) filters every input the same way whatever
    the input is; Liquid-S4's transition ``x' = (A + B u) x + B u`` lets the input change
    the state's time constant: hold it, let it decay, or restart it. Each task needs that
    kind of input-controlled memory, and the shortcuts a linear filter could take (the
    mean level, the total number of events or beats) are balanced out across classes.

    - ``"gated_integrator"`` (regression): channels ``[signal, gate]``. The signal ``s`` is
      a stationary AR(1) process (coefficient 0.9, unit variance); the gate ``g`` is 0 or 1
      in random on/off segments (a two-state Markov chain, about 8 switches per series,
      on half of the time, at least one step on). The target is the integral of the signal
      over the gated-on steps of a recording spanning unit time,
      ``y = sum_t g_t s_t / n_timepoints`` (computed from the returned float32 values).
      A linear filter's response to ``s`` cannot depend on ``g``: the gate must multiply
      what is accumulated, the bilinear ``B u x`` of the liquid transition. The ungated
      integral explains only about 60 % of the target's variance.
    - ``"gated_integrator_sign"`` (classification): the same series and the sign of ``y``,
      ``"negative"`` or ``"positive"``, balanced by negating the signal of some series.
    - ``"event_rate"`` (classification): one channel of events, 0 or 1 per step (a
      Bernoulli process, the discrete Poisson process). The rate, 0.04-0.1 events per
      step on average, either stays put (``"steady"``) or switches once, at a uniformly
      random step in the middle half of the series, up (``"up"``) or down (``"down"``)
      by a factor of 2-4. The rates are set so that every class has the same expected
      count (``"down"`` is ``"up"`` played backwards), so the total count is uninformative
      and the rates before and after the switch must be compared. Between events the
      input is 0; a rate is read from the intervals between events, and a state that is
      pushed or reset by each event (an input-dependent decay) measures them, whereas an
      input-independent decay only smears the events.
    - ``"heart_rate_change"`` (classification): one pulse-like channel, a recording of
      10 s sampled at ``n_timepoints / 10`` Hz. Each beat is a zero-mean QRS-like Ricker
      wavelet (width 0.03 s or 1.5 samples, whichever is wider), on baseline wander and
      white noise, with beat-to-beat jitter (20 ms) and amplitude variation (10 %). The
      heart rate (60-100 bpm on average) ramps linearly by 20-50 % of itself across the
      recording, up (``"accelerating"``) or down (``"decelerating"``), or stays put
      (``"steady"``); the mean rate, hence the beat count, has the same distribution in
      every class, and as the beats are zero-mean the local signal level says nothing
      about the rate. The class is in the trend of the beat-to-beat intervals, which a
      state restarted at each beat measures.

    The classification tasks are balanced: class sizes differ by at most one.

    Parameters
    ----------
    task : {"gated_integrator", "gated_integrator_sign", "event_rate", \
"heart_rate_change"}
        The problem, see above (:data:`LIQUID_TASKS`).
    n_samples : int, default=600
        Number of series.
    n_timepoints : int, default=400
        Length of each series, at least 16.
    random_state : int, numpy Generator or RandomState, default=None
        Seed; the output is a deterministic function of it and the other parameters.
    return_type : {"numpy", "frame"}, default="numpy"
        Output layout, see Returns.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        For ``return_type="numpy"``: the channels listed above (2 for the gated
        integrator, 1 otherwise).
    y : ndarray of shape (n_samples,)
        For ``return_type="numpy"``: the integral (float64) for ``"gated_integrator"``,
        class labels (str) for the other tasks.
    frame : DataFrame
        For ``return_type="frame"``: one row per (series, step) with columns ``id``,
        ``time`` (the step, 0..n_timepoints-1), one float32 column per channel, then the
        target: ``integral``, ``sign``, ``direction`` or ``trend``. Read it with
        ``from_long(frame, "id", "time", channels)`` and ``long_targets(frame, "id",
        target)``.
    groups : ndarray of shape (n_samples,), dtype int64
        ``arange(n_samples)``: the series are independent draws, so every split is a
        group split. Returned, as by :func:`make_vital_signs`, with either layout: the
        result is ``(X, y, groups)`` or ``(frame, groups)``.

    Notes
    -----
    These tasks are not out of reach of a time-invariant SSM network: the pointwise
    nonlinearities between its layers (GLU) and the pooling over time can compose
    products of filtered inputs, e.g. ``g_t s_t`` before a later layer integrates it. What
    they measure is whether the liquid term, which forms such input-dependent memory
    within one layer, learns it more easily, or from fewer layers and series. Note that
    the ``"pb"`` and ``"kb"`` terms multiply *consecutive* inputs, which are rarely both
    non-zero in a sparse event train; ``"exact"`` runs the transition itself.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.datasets import make_liquid_task
    >>> X, y, groups = make_liquid_task("gated_integrator", n_samples=8, n_timepoints=100,
    ...                                 random_state=0)
    >>> X.shape, y.shape
    ((8, 2, 100), (8,))
    >>> signal, gate = X[:, 0].astype(np.float64), X[:, 1]
    >>> np.allclose(y, (gate * signal).sum(axis=1) / 100)
    True
    >>> X, y, groups = make_liquid_task("heart_rate_change", n_samples=6, random_state=0)
    >>> np.unique(y).tolist()
    ['accelerating', 'decelerating', 'steady']
    """
    if task not in LIQUID_TASKS:
        accepted = ", ".join(repr(name) for name in LIQUID_TASKS)
        raise ValueError(f"task must be one of {accepted}; got {task!r}.")
    _check_int("n_samples", n_samples, 1)
    _check_int("n_timepoints", n_timepoints, 16)
    if return_type not in ("numpy", "frame"):
        raise ValueError(f"return_type must be 'numpy' or 'frame', got {return_type!r}.")
    rng = _rng(random_state)
    n, length = int(n_samples), int(n_timepoints)

    if task in ("gated_integrator", "gated_integrator_sign"):
        X, y = _gated_integrator(n, length, rng)
        if task == "gated_integrator_sign":
            X, y = _balance_signs(X, y, rng)
    elif task == "event_rate":
        X, y = _event_rate(n, length, rng)
    else:
        X, y = _heart_rate_change(n, length, rng)
    groups = np.arange(n, dtype=np.int64)
    if return_type == "numpy":
        return X, y, groups
    return _frame(X, y, _CHANNELS[task], _TARGETS[task]), groups


def _gated_integrator(n: int, length: int, rng: np.random.Generator):
    """``X = [s, g]`` (float32) and ``y = sum_t g_t s_t / L`` from the float32 values."""
    from scipy.signal import lfilter

    # gate: two-state Markov chain started at its stationary law (on with probability 1/2)
    flips = rng.random((n, length)) < _GATE_SWITCHES / length
    flips[:, 0] = rng.random(n) < 0.5
    gate = (np.cumsum(flips, axis=1) % 2).astype(np.float64)
    never = ~gate.any(axis=1)
    gate[never] = 1.0 - gate[never]
    # signal: stationary AR(1) with unit variance
    phi = _SIGNAL_MEMORY
    noise = rng.standard_normal((n, length))
    noise[:, 0] /= np.sqrt(1.0 - phi**2)  # the first value from the stationary law
    signal = lfilter([np.sqrt(1.0 - phi**2)], [1.0, -phi], noise, axis=1)
    X = np.stack([signal, gate], axis=1).astype(np.float32)  # (n, 2, L)
    y = (X[:, 0].astype(np.float64) * X[:, 1]).sum(axis=1) / length
    return X, y


def _balance_signs(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    """Negate the signal of some series so that ``sign(y)`` is balanced; str labels."""
    wanted = _balanced_labels(y.size, 2, rng)  # 0 negative, 1 positive
    flip = (y > 0) != (wanted == 1)
    X = X.copy()
    X[flip, 0] = -X[flip, 0]
    return X, np.asarray(_SIGN_CLASSES)[wanted]


def _event_rate(n: int, length: int, rng: np.random.Generator):
    """Event trains whose rate steps down, stays or steps up; equal expected counts."""
    label = _balanced_labels(n, 3, rng)  # index into _DIRECTIONS
    mean_rate = rng.uniform(*_RATE_RANGE, n)
    ratio = rng.uniform(*_RATE_RATIO, n)
    # low and high rates around the mean: a switch in the middle keeps the expected count
    low = 2.0 * mean_rate / (1.0 + ratio)
    high = ratio * low
    switch = rng.integers(length // 4, length - length // 4, n, endpoint=True)  # (n,)
    after = np.arange(length)[None, :] >= switch[:, None]  # (n, L)
    rate = np.where(after, high[:, None], low[:, None])
    rate = np.where((label == 0)[:, None], low[:, None] + high[:, None] - rate, rate)
    rate = np.where((label == 1)[:, None], mean_rate[:, None], rate)
    events = rng.random((n, length)) < np.minimum(rate, 1.0)
    return events[:, None, :].astype(np.float32), np.asarray(_DIRECTIONS)[label]


def _heart_rate_change(n: int, length: int, rng: np.random.Generator):
    """Zero-mean beats at a heart rate that ramps up, down or not at all."""
    label = _balanced_labels(n, 3, rng)  # index into _TRENDS
    fs = length / _DURATION_S
    slope = np.array([1.0, -1.0, 0.0])[label] * rng.uniform(*_HEART_RATE_CHANGE, n)
    beat_rec, beat_time = _beat_times(rng.uniform(*_HEART_RATE, n) / 60.0, slope, rng)
    beat_time = beat_time + rng.normal(0.0, 0.02, beat_time.size)
    amplitude = rng.uniform(0.5, 2.0, n)
    height = amplitude[beat_rec] * (1.0 + 0.1 * rng.standard_normal(beat_time.size))

    # each beat a Ricker wavelet on the samples within 4 widths of its peak
    width = max(0.03, 1.5 / fs)
    reach = int(np.ceil(4.0 * width * fs))
    offsets = np.arange(-reach, reach + 1)
    sample = np.round(beat_time * fs).astype(np.int64)[:, None] + offsets  # (n_beats, W)
    z = (sample / fs - beat_time[:, None]) / width
    wave = height[:, None] * (1.0 - z**2) * np.exp(-0.5 * z**2)
    inside = (sample >= 0) & (sample < length)
    pulse = np.zeros((n, length))
    rows = np.broadcast_to(beat_rec[:, None], sample.shape)
    np.add.at(pulse, (rows[inside], sample[inside]), wave[inside])

    t = np.arange(length) / fs
    wander_freq = rng.uniform(0.1, 0.3, (n, 1))
    wander = np.sin(2.0 * np.pi * wander_freq * t + rng.uniform(0, 2.0 * np.pi, (n, 1)))
    pulse += amplitude[:, None] * (0.2 * wander + 0.1 * rng.standard_normal((n, length)))
    return pulse[:, None, :].astype(np.float32), np.asarray(_TRENDS)[label]


def _beat_times(rate: np.ndarray, slope: np.ndarray, rng: np.random.Generator):
    """Beat times (s) in [-0.5, T + 0.5] of a rate ``rate * (1 + slope * (t / T - 1/2))``.

    ``rate`` in beats/s; the beats are the integer crossings of the phase
    ``phi0 + rate * (t + slope * (t**2 / (2 T) - t / 2))``, ``phi0`` uniform in [0, 1).
    Returns the flat arrays ``(recording, time)``.
    """
    T = _DURATION_S
    a = rate * slope / (2.0 * T)  # phase = a t^2 + b t + phi0
    b = rate * (1.0 - slope / 2.0)
    phi0 = rng.random(rate.size)

    def phase(t):
        return a * t**2 + b * t + phi0

    first = np.ceil(phase(-0.5)).astype(np.int64)
    count = np.floor(phase(T + 0.5)).astype(np.int64) - first + 1
    rec = np.repeat(np.arange(rate.size), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + first[rec]
    c = phi0[rec] - k  # root of a t^2 + b t + c on the increasing branch, stable form
    time = -2.0 * c / (b[rec] + np.sqrt(b[rec] ** 2 - 4.0 * a[rec] * c))
    return rec, time


def _frame(X: np.ndarray, y: np.ndarray, channels, target: str) -> pd.DataFrame:
    n, _, length = X.shape
    columns = {
        "id": np.repeat(np.arange(n, dtype=np.int64), length),
        "time": np.tile(np.arange(length, dtype=np.float64), n),
    }
    for index, name in enumerate(channels):
        columns[name] = X[:, index].reshape(-1)
    columns[target] = np.repeat(y, length)
    return pd.DataFrame(columns)
