# %% [markdown]
# # Streaming: update a prediction with every new sample
#
# A bedside monitor cannot wait for a recording to end. A **unidirectional** Liquid-S4
# network is a recurrence: it can take one sample at a time, carry a small state, and
# give at every moment the prediction for the recording so far. This tutorial
#
# 1. fits an atrial-fibrillation detector on whole ECG + PPG recordings;
# 2. feeds test recordings to the fitted network **sample by sample** with
#    `network_.initial_state` / `network_.step`;
# 3. checks that the running probability at the end equals `predict_proba` on the whole
#    recording, and at any moment equals `predict_proba` on the part seen so far.
#
# `SSLEARN_EXAMPLE_FAST=1` shrinks everything to a smoke test.

# %%
import copy
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupShuffleSplit

from sslearn import LiquidS4Classifier
from sslearn.datasets import make_vital_signs

FAST = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"
FS = 25  # Hz after downsampling
N_SUBJECTS = 8 if FAST else 24
DURATION_S = 10 if FAST else 20
MAX_EPOCHS = 3 if FAST else 60

# %% [markdown]
# ## 1. Fit a causal model
#
# Two settings make a network streamable:
#
# * `bidirectional=False` (the estimators' default is `True`): a bidirectional layer also
#   reads each recording backwards from its end, i.e. it looks into the future;
# * any `liquid_kernel` works (`"kb"`, the default, `"pb"`, `"exact"` or `None`): the
#   liquid terms only combine the current and a few past inputs.
#
# With `pooling="mean"` (set below; the classifier's default `"mean+max"` streams too,
# with running maxima) the prediction after t samples is the head applied to the mean of
# the network's features over those t samples.

# %%
X, rhythm, groups = make_vital_signs(
    n_subjects=N_SUBJECTS,
    recordings_per_subject=8,
    duration_s=DURATION_S,
    fs=50,
    task="classification",
    random_state=2,
    return_type="numpy",
)
X = X[:, :, ::2]  # ECG + PPG at 25 Hz
y = np.where(rhythm == "atrial_fibrillation", "AF", "other")
by_subject = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
train, test = next(by_subject.split(X, y, groups))

clf = LiquidS4Classifier(
    d_model=32,
    n_layers=2,
    d_state=32,
    liquid_kernel="pb",
    bidirectional=False,
    pooling="mean",
    max_epochs=MAX_EPOCHS,
    random_state=0,
)
clf.fit(X[train], y[train])
print(f"fitted {clf.n_iter_} epochs; test accuracy {clf.score(X[test], y[test]):.3f}")

# %% [markdown]
# ## 2. What the network reads
#
# `predict` does not hand your raw values to the network. It first
#
# * standardises each channel with the statistics learned in `fit` (`clf.scaler_`, a
#   `ChannelScaler`; missing samples become 0), and
# * if the training data had missing values, appends one **missingness indicator**
#   channel per signal (then `network_.config["d_input"]` is twice `n_channels_`).
#
# A stream must be prepared the same way, one sample at a time, with the statistics
# learned in `fit` (`scaler_.mean_` and `scaler_.scale_`, one value per channel):


# %%
def network_input(estimator, x_t):
    """Raw samples of shape (batch, n_channels) -> the fitted network's input (batch, n_inputs)."""
    x_t = np.asarray(x_t, dtype=np.float64)
    missing = np.isnan(x_t)
    if estimator.scaler_ is not None:
        x_t = (x_t - estimator.scaler_.mean_) / estimator.scaler_.scale_
    x_t = np.where(missing, 0.0, x_t)
    if estimator.network_.config["d_input"] > estimator.n_channels_:
        x_t = np.concatenate([x_t, missing], axis=1)  # missingness indicators
    return torch.from_numpy(x_t)


# %% [markdown]
# ## 3. Stream two beds at once
#
# `initial_state(batch_size)` is the state before the first sample, one row per
# recording streamed in parallel (here two monitored patients: the first test recording
# in AF and the first in another rhythm); `step(x_t, state)` takes the samples of one
# time step, shape (batch_size, n_inputs), and returns the class scores (logits) for
# everything seen so far and the new state. The classifier's network has two heads
# (`stem_head=True`): the SSM blocks' and its convolutional front end's, so the scores have
# shape (batch_size, 2, n_classes) and the prediction is the mean of their probabilities,
# as in `predict_proba`. We use a float64 copy of the network on the
# CPU, in evaluation mode (no dropout), as `predict` does on a CPU.

# %%
beds = [test[y[test] == label][0] for label in ("AF", "other") if (y[test] == label).any()]
recordings = X[beds]  # (n_beds, n_channels, n_timepoints)
network = copy.deepcopy(clf.network_).cpu().double().eval()
af = list(clf.classes_).index("AF")

running = []  # P(AF) of each bed after each sample
state = network.initial_state(len(beds))
start = time.perf_counter()
with torch.no_grad():
    for t in range(recordings.shape[-1]):  # the samples arrive one time step at a time
        logits, state = network.step(network_input(clf, recordings[:, :, t]), state)
        # (beds, heads, classes): the SSM's head and the front end's (stem_head), averaged
        running.append(torch.softmax(logits, dim=-1).mean(1)[:, af].numpy())
running = np.array(running)  # (n_timepoints, n_beds)
per_step_ms = 1000 * (time.perf_counter() - start) / len(running)
print(f"{len(running)} time steps streamed, {per_step_ms:.2f} ms per step for {len(beds)} beds")
print(f"(a new sample arrives every {1000 / FS:.0f} ms)")
seconds = sorted({1, 2, 5, DURATION_S})
print(
    pd.DataFrame(
        running[[s * FS - 1 for s in seconds]].T,
        index=pd.Index([f"bed {k + 1} (true: {y[i]})" for k, i in enumerate(beds)]),
        columns=[f"P(AF) at {s} s" for s in seconds],
    )
    .round(3)
    .to_string()
)

# %% [markdown]
# ## 4. The stream agrees with `predict_proba`
#
# At the end of the recordings the running probabilities are `predict_proba` of the
# whole recordings; after t samples they are `predict_proba` of the first t samples,
# because the network never looks ahead. (They agree to rounding: `predict` scales in
# float32, and on a GPU computes in float32.)

# %%
whole = clf.predict_proba(recordings)[:, af]
np.testing.assert_allclose(running[-1], whole, rtol=1e-4, atol=1e-6)
t = 3 * FS
prefix = clf.predict_proba(recordings[:, :, :t])[:, af]
np.testing.assert_allclose(running[t - 1], prefix, rtol=1e-4, atol=1e-6)
difference = np.abs(running[-1] - whole).max()
print(f"streamed P(AF) at the end: {running[-1].round(6)}")
print(f"predict_proba:             {whole.round(6)} (max difference {difference:.0e})")

out_dir = Path(tempfile.mkdtemp(prefix="sslearn_example_"))
fig, ax = plt.subplots(figsize=(7, 3))
time_s = np.arange(1, len(running) + 1) / FS
for k, i in enumerate(beds):
    ax.plot(time_s, running[:, k], label=f"bed {k + 1} (true: {y[i]}), streamed")
    ax.axhline(whole[k], color=f"C{k}", linestyle="--", linewidth=0.8)
ax.set(
    xlabel="time (s)",
    ylabel="P(AF)",
    ylim=(0, 1),
    title="streamed; dashed: predict_proba of the whole recording",
)
ax.legend(loc="upper left")
fig.tight_layout()
fig.savefig(out_dir / "streaming.png", dpi=100)
plt.show()
print(f"saved {out_dir / 'streaming.png'}")

# %% [markdown]
# **In practice**: the first seconds of a stream rest on very few beats, and with
# `pooling="mean"` the running prediction is an average over everything seen so far,
# so it moves slowly once the recording is long. Before an alarm fires on the running
# probability, check on held-out recordings how it behaves over time (when it settles,
# how often it crosses the threshold and falls back), and train on recordings as long
# as the decisions you want to make. `pooling="last"` predicts from the network's
# features at the last time step instead of their mean, which can react faster to a
# change of rhythm. Keep
# `bidirectional=False`: a bidirectional network cannot be streamed.
