"""Building blocks of the ECG/PPG simulator: beat trains, waveforms, noise and artefacts.

Everything is vectorised over recordings (arrays of shape (n, L)) or over the beats of all
recordings at once (flat arrays with a recording index ``rec``). Times are in seconds; the
signals are sampled at ``fs`` on ``t = arange(L) / fs``, and beats are generated on an
extended grid with ``margin`` samples on each side so that waves cut by the window edges
look the same as the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Beats", "add_ectopics", "af_beats", "artefacts", "ecg", "ppg", "sinus_beats"]

_TWO_PI = 2.0 * np.pi


@dataclass
class Beats:
    """Beats of all recordings, sorted by (recording, time).

    ``rec`` recording index, ``time`` R-peak time (s), ``kind`` 0 sinus / 1 premature
    ventricular / 2 atrial fibrillation (no P wave), ``rr`` the preceding R-R interval (s).
    """

    rec: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    rr: np.ndarray | None = None

    def finish(self, nominal_rr: np.ndarray) -> Beats:
        """Sort by (recording, time) and fill ``rr`` (the first beat gets the nominal RR)."""
        order = np.lexsort((self.time, self.rec))
        rec, time, kind = self.rec[order], self.time[order], self.kind[order]
        rr = np.empty_like(time)
        rr[1:] = np.diff(time)
        first = np.r_[True, rec[1:] != rec[:-1]]
        rr[first] = nominal_rr[rec[first]]
        return Beats(rec, time, kind, rr)

    def select(self, keep: np.ndarray) -> Beats:
        return Beats(self.rec[keep], self.time[keep], self.kind[keep])


def sinus_beats(
    heart_rate: np.ndarray,
    rate_profile: np.ndarray,
    fs: float,
    margin: int,
    rng: np.random.Generator,
) -> Beats:
    """R peaks of a sinus node firing at ``heart_rate * rate_profile`` beats per minute.

    ``rate_profile`` (n, L + 2 margin) is the relative instantaneous rate (respiratory
    sinus arrhythmia, slow Mayer waves); a beat fires each time the integrated phase
    crosses an integer, at a random initial phase, with 4 ms of timing jitter.
    """
    n = heart_rate.shape[0]
    step = heart_rate[:, None] / 60.0 * rate_profile / fs  # (n, Le) beats per sample
    phase = rng.uniform(0.0, 1.0, size=(n, 1)) + np.cumsum(step, axis=1)
    count = np.floor(phase)
    rec, j = np.nonzero(count[:, 1:] > count[:, :-1])
    before, after = phase[rec, j], phase[rec, j + 1]
    frac = (count[rec, j + 1] - before) / (after - before)
    time = (j + frac - margin) / fs + rng.normal(0.0, 0.004, size=rec.size)
    return Beats(rec, time, np.zeros(rec.size, dtype=np.int8))


def af_beats(
    recs: np.ndarray,
    heart_rate: np.ndarray,
    irregularity: np.ndarray,
    start: float,
    stop: float,
    rng: np.random.Generator,
) -> Beats:
    """Irregularly irregular R peaks: independent gamma-distributed R-R intervals.

    The intervals of recording ``recs[i]`` have mean ``60 / heart_rate[i]`` and coefficient
    of variation ``irregularity[i]`` (0.15-0.3 in atrial fibrillation), floored at 0.28 s.
    """
    mean_rr = 60.0 / heart_rate
    n_max = int(np.ceil((stop - start) / 0.28)) + 2
    shape = 1.0 / irregularity**2
    rr = rng.gamma(shape[:, None], (mean_rr / shape)[:, None], size=(recs.size, n_max))
    rr = np.maximum(rr, 0.28)
    time = start - rng.uniform(0.0, 1.0, size=(recs.size, 1)) * mean_rr[:, None]
    time = time + np.cumsum(rr, axis=1)
    i, k = np.nonzero(time < stop)
    return Beats(recs[i], time[i, k], np.full(i.size, 2, dtype=np.int8))


def add_ectopics(
    beats: Beats,
    recs: np.ndarray,
    probability: np.ndarray,
    window: tuple[float, float],
    rng: np.random.Generator,
) -> Beats:
    """Turn sinus beats of ``recs`` into premature ventricular contractions (PVCs).

    A PVC replaces beat k at ``coupling`` (0.55-0.7) of the way from beat k-1; the next
    sinus beat keeps its time (a full compensatory pause). No two PVCs are adjacent, and
    each listed recording with four beats or more in ``window`` gets at least two there.
    """
    time, kind, rec = beats.time.copy(), beats.kind.copy(), beats.rec
    p_of = np.zeros(rec.max() + 1 if rec.size else 0)
    p_of[recs] = probability
    has_prev = np.r_[False, rec[1:] == rec[:-1]]
    candidate = has_prev & (rng.uniform(size=rec.size) < p_of[rec])
    candidate[1:] &= ~candidate[:-1]
    inside = (time >= window[0]) & (time < window[1])
    for r in recs:
        mine = np.flatnonzero((rec == r) & has_prev & inside)
        mine = mine[(mine + 1 < rec.size) & (rec[np.minimum(mine + 1, rec.size - 1)] == r)]
        for _ in range(100):
            if np.count_nonzero(candidate[mine]) >= 2 or mine.size < 4:
                break
            k = rng.choice(mine)
            if not (candidate[k - 1] or candidate[min(k + 1, rec.size - 1)]):
                candidate[k] = True
    k = np.flatnonzero(candidate)
    coupling = rng.uniform(0.55, 0.7, size=k.size)
    time[k] = time[k - 1] + coupling * (time[k] - time[k - 1])
    kind[k] = 1
    return Beats(rec, time, kind)


def _add_waves(out, rec, center, amp, theta, width_left, width_right, offsets, fs):
    """Add Gaussian waves, summed over the last axis of ``amp``, to ``out`` (n, L).

    Each beat b contributes on the samples ``round(center[b] * fs) + offsets``; wave w of
    beat b peaks at ``center[b] + theta[b, w]`` with height ``amp[b, w]`` and a width of
    ``width_left`` before and ``width_right`` after the peak.
    """
    n, length = out.shape
    idx = np.rint(center * fs).astype(np.int64)[:, None] + offsets  # (B, W)
    valid = (idx >= 0) & (idx < length)
    dt = idx / fs - center[:, None]  # (B, W)
    d = dt[:, :, None] - theta[:, None, :]  # (B, W, waves)
    width = np.where(d < 0.0, width_left[:, None, :], width_right[:, None, :])
    values = np.einsum("bwk,bk->bw", np.exp(-0.5 * (d / width) ** 2), amp)
    flat = (rec[:, None] * length + idx)[valid]
    out += np.bincount(flat, weights=values[valid], minlength=n * length).reshape(n, length)


def ecg(beats: Beats, morph: dict, resp_at_beat: np.ndarray, n: int, length: int, fs: float):
    """ECG (mV): per beat a sum of P, Q, R, S and T Gaussians, as in ECGSYN (McSharry et al.,
    IEEE TBME 2003) but written directly in time.

    ``morph`` holds per-recording arrays (the subject's morphology): ``p``, ``q``, ``r``,
    ``s``, ``t`` amplitudes, ``pr`` (P-to-R time), ``qt`` (R-to-T time at RR = 1 s) and
    ``w`` (a width factor). T waves move and widen with sqrt(RR) (Bazett); the R wave is
    modulated by respiration. PVCs have no P wave, a wide tall QRS and an inverted T wave;
    atrial-fibrillation beats have no P wave.
    """
    rec, kind = beats.rec, beats.kind
    m = {key: value[rec] for key, value in morph.items()}
    sqrt_rr = np.sqrt(np.clip(beats.rr, 0.35, 1.6))
    r_amp = m["r"] * (1.0 + 0.07 * resp_at_beat)
    amp = np.stack([m["p"] * (kind == 0), -m["q"], r_amp, -m["s"], m["t"]], axis=1)
    theta = np.stack(
        [-m["pr"], -0.03 * m["w"], np.zeros_like(m["w"]), 0.03 * m["w"], m["qt"] * sqrt_rr],
        axis=1,
    )
    width = np.stack(
        [0.025 * m["w"], 0.010 * m["w"], 0.011 * m["w"], 0.011 * m["w"], 0.05 * m["w"] * sqrt_rr],
        axis=1,
    )
    pvc = kind == 1
    none = np.zeros(np.count_nonzero(pvc))
    r_pvc = r_amp[pvc]
    amp[pvc] = np.stack([none, none, 1.2 * r_pvc, -0.5 * r_pvc, -0.8 * m["t"][pvc] - 0.1], axis=1)
    theta[pvc, 1:] = [-0.03, 0.0, 0.055, 0.32]
    width[pvc, 1:] = [0.02, 0.028, 0.03, 0.07]
    out = np.zeros((n, length))
    offsets = np.arange(int(-0.4 * fs), int(0.8 * fs) + 1)
    _add_waves(out, rec, beats.time, amp, theta, width, width, offsets, fs)
    return out


def ppg(beats: Beats, shape: dict, resp_at_beat: np.ndarray, n: int, length: int, fs: float):
    """PPG pulses lagging each R peak by the pulse transit time, one per beat.

    ``shape`` holds per-recording arrays: ``ptt`` (R peak to systolic peak, s), ``amp``,
    ``riav`` (respiratory amplitude modulation), ``dia_delay`` and ``dia_ratio`` (the
    diastolic wave), ``nominal_rr``. A systolic wave with a fast rise and slower fall is
    followed by a diastolic wave; the pulse grows with the preceding R-R interval (filling
    time), so premature beats give small late pulses.
    """
    rec, kind = beats.rec, beats.kind
    s = {key: value[rec] for key, value in shape.items()}
    sqrt_rr = np.sqrt(np.clip(beats.rr, 0.35, 1.6))
    filling = np.clip(beats.rr / s["nominal_rr"], 0.4, 1.3) ** 0.8
    amp = s["amp"] * (1.0 + s["riav"] * resp_at_beat) * filling
    amp = np.where(kind == 1, 0.35 * amp, amp)
    ptt = s["ptt"] * (1.0 + 0.03 * resp_at_beat) + 0.03 * (kind == 1)
    amps = np.stack([amp, amp * s["dia_ratio"]], axis=1)
    theta = np.stack([ptt, ptt + s["dia_delay"] * sqrt_rr], axis=1)
    left = np.stack([np.full_like(ptt, 0.05), np.full_like(ptt, 0.07)], axis=1)
    right = np.stack([np.full_like(ptt, 0.09), np.full_like(ptt, 0.10)], axis=1)
    out = np.zeros((n, length))
    offsets = np.arange(0, int(1.4 * fs) + 1)
    _add_waves(out, rec, beats.time, amps, theta, left, right, offsets, fs)
    return out


def artefacts(
    signals: np.ndarray,
    scale: np.ndarray,
    rate_per_min: float,
    fs: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Add motion-artefact bursts in place to ``signals`` (n, channels, L); return counts.

    Bursts arrive as a Poisson process of ``rate_per_min`` per minute. Each lasts 0.5-3 s
    and hits all channels at once: band-limited noise (a 80 ms moving average of white
    noise) plus a baseline step, 1-3 times ``scale`` (n, channels) and twice that on the
    PPG channel, under a Hann envelope.
    """
    n, n_channels, length = signals.shape
    duration = length / fs
    counts = rng.poisson(rate_per_min * duration / 60.0, size=n)
    kernel = np.ones(max(1, int(0.08 * fs)))
    kernel /= kernel.size
    for r in np.flatnonzero(counts):
        for _ in range(counts[r]):
            size = min(length, int(rng.uniform(0.5, 3.0) * fs))
            start = rng.integers(0, length - size + 1)
            white = rng.standard_normal((n_channels, size + kernel.size - 1))
            burst = np.stack([np.convolve(w, kernel, mode="valid") for w in white])
            burst /= burst.std(axis=1, keepdims=True) + 1e-12
            burst += rng.uniform(-1.0, 1.0, size=(n_channels, 1))
            gain = rng.uniform(1.0, 3.0) * scale[r] * np.r_[1.0, np.full(n_channels - 1, 2.0)]
            signals[r, :, start : start + size] += gain[:, None] * burst * np.hanning(size)
    return counts
