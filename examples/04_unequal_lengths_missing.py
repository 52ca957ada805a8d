# %% [markdown]
# # Recordings of different lengths, and gaps in the signal
#
# Clinical recordings are rarely a tidy array: spot checks last as long as they last,
# a finger probe slips off for a few seconds, a wireless sensor drops samples. This
# tutorial estimates heart rate from ECG + PPG recordings that
#
# * have **different lengths** (8-20 s), given as a plain Python **list of arrays**, or
#   as one array **padded with NaN** at the end;
# * contain **missing values**: NaN gaps inside a recording (PPG dropouts of 1-3 s and
#   scattered lost ECG samples);
#
# and then predicts on recordings **shorter and longer** than any seen in training.
#
# How sslearn reads NaN: a NaN *inside* a recording is a missing value; NaN at the
# *end* of a recording in every channel is padding, i.e. the recording is shorter.
# `SSLEARN_EXAMPLE_FAST=1` shrinks everything to a smoke test.

# %%
import os

import numpy as np
import pandas as pd
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import GroupShuffleSplit

from sslearn import LiquidS4Regressor
from sslearn.data import to_panel
from sslearn.datasets import make_vital_signs

FAST = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"
FS = 25  # Hz after downsampling
N_SUBJECTS = 8 if FAST else 24
MAX_EPOCHS = 2 if FAST else 50
FULL_S = 20 if FAST else 40
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Recordings of unequal length
#
# We simulate 40-second recordings (ECG and PPG, 50 Hz, kept at 25 Hz) and cut
# each training recording to a random length between 8 and 20 seconds. The target is
# the recording's mean heart rate. The result is a list: one array of shape
# (n_channels, n_timepoints_i) per recording.

# %%
X_full, y_full, groups = make_vital_signs(
    n_subjects=N_SUBJECTS,
    recordings_per_subject=8,
    duration_s=FULL_S,
    fs=50,
    task="regression",
    random_state=0,
    return_type="numpy",
)
X_full, heart_rate = X_full[:, :, ::2], y_full[:, 0]  # 25 Hz; heart rate only
by_subject = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
train, test = next(by_subject.split(X_full, heart_rate, groups))

lengths = rng.integers(8 * FS, 20 * FS, size=len(train), endpoint=True)
series = [X_full[i, :, :n].copy() for i, n in zip(train, lengths, strict=True)]
print(f"{len(series)} training recordings of {lengths.min() / FS:.0f}-{lengths.max() / FS:.0f} s")
print("first three shapes:", [s.shape for s in series[:3]])

# %% [markdown]
# ## 2. Missing values
#
# In 40 % of the recordings the PPG drops out for 1-3 s, and 1 % of ECG samples are
# lost at random. Missing samples are simply NaN.


# %%
def add_gaps(recording, rng):
    """NaN dropouts: a 1-3 s PPG gap (40 % of recordings) and 1 % lost ECG samples."""
    recording = recording.copy()
    n = recording.shape[1]
    if rng.random() < 0.4:
        width = int(rng.integers(1 * FS, 3 * FS))
        start = int(rng.integers(0, n - width))
        recording[1, start : start + width] = np.nan
    recording[0, rng.random(n) < 0.01] = np.nan
    return recording


series = [add_gaps(s, rng) for s in series]
missing = np.mean([np.isnan(s).mean() for s in series])
print(f"{100 * missing:.1f}% of the training samples are missing")

# %% [markdown]
# ## 3. Fit on the list
#
# The list goes straight into `fit`. Internally each channel is standardised with
# statistics over the observed samples only; missing samples are then set to 0 (the
# channel mean) and, because the training data contain missing values, the network gets
# one extra **missingness indicator** channel per input channel (1 where a sample was
# missing), so it can learn to discount the gaps instead of mistaking them for a flat
# signal. Padding is skipped entirely: each recording is pooled over its own length.

# %%
reg = LiquidS4Regressor(d_model=32, n_layers=2, d_state=32, max_epochs=MAX_EPOCHS, random_state=0)
reg.fit(series, heart_rate[train])
n_inputs = reg.network_.config["d_input"]
print(
    f"fitted in {reg.n_iter_} epochs; the network reads {n_inputs} input channels: "
    f"{reg.n_channels_} signals + {n_inputs - reg.n_channels_} missingness indicators"
)

# %% [markdown]
# The same recordings as one NaN-padded array of shape (n_recordings, n_channels,
# max_length) are the same data to sslearn: trailing NaN in every channel marks the end
# of a shorter recording. (`to_panel(series).to_numpy()` builds this array for you.)

# %%
padded = np.full((len(series), 2, max(s.shape[1] for s in series)), np.nan, dtype=np.float32)
for i, s in enumerate(series):
    padded[i, :, : s.shape[1]] = s
assert (to_panel(padded).lengths == lengths).all()
np.testing.assert_allclose(reg.predict(padded[:10]), reg.predict(series[:10]), rtol=1e-5)
print("list input and NaN-padded input give the same predictions")

# %% [markdown]
# ## 4. Test recordings with and without gaps
#
# The held-out subjects' recordings, cut to 15 s: once clean, once with dropouts. A good
# model loses little accuracy to the gaps.

# %%
clean = [X_full[i, :, : 15 * FS] for i in test]
gappy = [add_gaps(s, rng) for s in clean]
truth = heart_rate[test]
baseline = root_mean_squared_error(truth, np.full_like(truth, heart_rate[train].mean()))
print("heart-rate RMSE (beats/min) on unseen subjects' 15 s recordings")
print(f"  always the training mean: {baseline:.2f}")
print(f"  clean recordings:         {root_mean_squared_error(truth, reg.predict(clean)):.2f}")
print(f"  recordings with gaps:     {root_mean_squared_error(truth, reg.predict(gappy)):.2f}")

# %% [markdown]
# ## 5. Shorter and longer than in training
#
# The network is a recurrence over time followed by a mean over the recording, so it
# applies to any length. Whether it is still *accurate* outside the trained range
# (8-20 s) is an empirical question: check it, as here, before trusting it. Very short
# recordings hold few beats, and their true mean heart rate differs more from the
# full-recording value used as the target.

# %%
rows = []
for seconds in sorted({5, 10, 20, FULL_S}):
    recordings = [X_full[i, :, : seconds * FS] for i in test]
    rmse = root_mean_squared_error(truth, reg.predict(recordings))
    rows.append(
        {"length (s)": seconds, "in training range": 8 <= seconds <= 20, "RMSE": round(rmse, 2)}
    )
print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown]
# A mix of lengths in one call works too (here 5 s, 12 s and 40 s):

# %%
mixed = [X_full[test[0], :, : 5 * FS], X_full[test[1], :, : 12 * FS], X_full[test[2]]]
print("predicted:", reg.predict(mixed).round(1), "true:", truth[:3].round(1))
