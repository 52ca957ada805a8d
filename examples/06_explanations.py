# %% [markdown]
# # Explanations: which channels and moments drive a prediction
#
# A clinician who sees "atrial fibrillation, p = 0.93" wants to know *why*. This tutorial
#
# 1. fits an atrial-fibrillation detector on simulated ECG + PPG recordings;
# 2. attributes each prediction to the input samples with **integrated gradients**
#    (`explain`, which needs Captum: `pip install sslearn[explain]`), and checks that a
#    recording's attributions add up to its change of output from the baseline;
# 3. sums the attributions per channel and per one-second window, and draws them over the
#    signals with `sslearn.plot.plot_attributions`;
# 4. reads the time scales the SSM layers learned (`sslearn.plot.time_scales`).
#
# `SSLEARN_EXAMPLE_FAST=1` shrinks everything to a smoke test.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from sslearn import LiquidS4Classifier
from sslearn.datasets import make_vital_signs
from sslearn.plot import plot_attributions, plot_time_scales, time_scales

FAST = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"
FS = 25  # Hz after downsampling
N_SUBJECTS = 8 if FAST else 24
DURATION_S = 8 if FAST else 20
MAX_EPOCHS = 3 if FAST else 60
N_EXPLAINED = 2 if FAST else 16
N_STEPS = 25 if FAST else 50  # points of the path integral (explain's default: 50)

# %% [markdown]
# ## 1. Fit a detector

# %%
X, rhythm, groups = make_vital_signs(
    n_subjects=N_SUBJECTS,
    recordings_per_subject=8,
    duration_s=DURATION_S,
    fs=50,
    task="classification",
    random_state=3,
    return_type="numpy",
)
X = X[:, :, ::2]  # ECG + PPG at 25 Hz
y = np.where(rhythm == "atrial_fibrillation", "AF", "other")
by_subject = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
train, test = next(by_subject.split(X, y, groups))

clf = LiquidS4Classifier(
    d_model=16 if FAST else 32,
    n_layers=2,
    d_state=16 if FAST else 32,
    max_epochs=MAX_EPOCHS,
    random_state=0,
)
clf.fit(X[train], y[train])
print(f"fitted {clf.n_iter_} epochs; test accuracy {clf.score(X[test], y[test]):.3f}")

# %% [markdown]
# ## 2. Integrated gradients
#
# `explain` returns one number per input sample, of the shape of `X`: here the evidence
# for the class `target` (its logit; by default the predicted class) against a baseline of
# each channel's training mean (a flat recording). The attributions of a recording add up
# to the logit at the recording minus the logit at the baseline (*completeness*), up to the
# error of the `n_steps`-point path integral. With two classes `decision_function` is the
# difference of the two logits, so the difference of the two classes' attributions adds up
# to its change:

# %%
X_explained = X[test][:N_EXPLAINED]
attributions = clf.explain(X_explained, target="AF", n_steps=N_STEPS)  # evidence for AF
print("attributions:", attributions.shape)

other = clf.explain(X_explained, target="other", n_steps=N_STEPS)
first, second = (attributions, other) if clf.classes_[1] == "AF" else (other, attributions)
baseline = np.broadcast_to(clf.scaler_.mean_[None, :, None], X_explained.shape)
gap = clf.decision_function(X_explained) - clf.decision_function(baseline)
print("sum of attributions:          ", np.round((first - second).sum(axis=(1, 2)), 3))
print("decision(X) - decision(base): ", np.round(gap, 3))

# %% [markdown]
# ## 3. Which channel, which second
#
# Summed per channel, the attributions say how much of the evidence for AF each signal
# carries; summed per one-second window, when it appears.

# %%
per_channel = pd.DataFrame(
    attributions.sum(axis=2), columns=["ecg", "ppg"], index=y[test][:N_EXPLAINED]
)
print(per_channel.round(3))

n_windows = X.shape[-1] // FS
per_second = attributions[:, :, : n_windows * FS].reshape(N_EXPLAINED, 2, n_windows, FS)
per_second = per_second.sum(axis=(1, 3))  # (recording, second)
print("evidence per second of the first recording:", np.round(per_second[0], 2))

out_dir = Path(tempfile.mkdtemp(prefix="sslearn_example_"))
axes = plot_attributions(X_explained[0], attributions[0], channel_names=["ecg", "ppg"], fs=FS)
axes[0].set_title(f"evidence for AF (true class: {y[test][0]})")
axes[0].figure.savefig(out_dir / "attributions.png", dpi=100, bbox_inches="tight")
print(f"figure saved to {out_dir / 'attributions.png'}")
plt.show()

# %% [markdown]
# ## 4. The time scales the network learned
#
# Each SSM mode forgets its input as `exp(dt Re(λ) k)` after `k` steps: its decay time is
# `1 / (dt |Re λ|)` steps. `time_scales` returns them per layer (in seconds with `fs`);
# `plot_time_scales` draws their distribution against the recording length.

# %%
for index, layer in enumerate(time_scales(clf, fs=FS)):
    decay = layer["decay"]
    print(
        f"layer {index}: decay times from {decay.min():.2f} s to {decay.max():.1f} s "
        f"(median {np.median(decay):.2f} s)"
    )
ax = plot_time_scales(clf, fs=FS)
ax.figure.savefig(out_dir / "time_scales.png", dpi=100, bbox_inches="tight")
plt.show()
