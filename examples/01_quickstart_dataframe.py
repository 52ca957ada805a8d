# %% [markdown]
# # Quickstart: atrial fibrillation from a wrist PPG, starting from a DataFrame
#
# Smartwatches screen for **atrial fibrillation (AF)** from the photoplethysmogram (PPG),
# the optical pulse signal under the watch. This tutorial trains a
# `LiquidS4Classifier` to tell 20-second PPG recordings in AF from those in other rhythms,
# starting from the kind of table clinical data usually arrive in, and shows the few
# things you need every day: `fit`, `predict`, `predict_proba`, `score`, the training
# history, and saving the model.
#
# The data are simulated by `sslearn.datasets.make_vital_signs` (a BIDMC-like ECG + PPG
# simulator with many subjects), so the tutorial runs offline. Nothing below depends on
# the simulation: swap in your own table with the same columns.
#
# Run it as a script (`python examples/01_quickstart_dataframe.py`) or open it as a
# notebook with jupytext. `SSLEARN_EXAMPLE_FAST=1` shrinks data and training to a smoke
# test of a few seconds (that is what CI runs; its numbers mean nothing).

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

import sslearn
from sslearn import LiquidS4Classifier
from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets import make_vital_signs

FAST = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"
N_SUBJECTS = 8 if FAST else 24
DURATION_S = 10 if FAST else 20
MAX_EPOCHS = 3 if FAST else 60

# %% [markdown]
# ## 1. The data: one row per measurement ("long" format)
#
# Monitors and wearables export one row per sample: which recording it belongs to, the
# time stamp, and the measured values. Here each of 24 subjects contributes 8
# recordings; each recording has an ECG and a PPG channel sampled at 50 Hz and one rhythm
# label. A smartwatch has no ECG, so we keep only the PPG.

# %%
frame, _ = make_vital_signs(
    n_subjects=N_SUBJECTS,
    recordings_per_subject=8,
    duration_s=DURATION_S,
    fs=50,
    task="classification",
    random_state=0,
)
frame["label"] = np.where(frame["rhythm"] == "atrial_fibrillation", "AF", "other")
frame = frame[["id", "subject", "time", "ppg", "label"]]
print(frame.head())
n_recordings, n_subjects = frame["id"].nunique(), frame["subject"].nunique()
print(f"{len(frame):,} rows: {n_recordings} recordings of {n_subjects} subjects")

# %% [markdown]
# scikit-learn splits `X` by rows, and a row here is one measurement, not one recording.
# Two equivalent ways give one row per recording:
#
# * **wide**: pivot to one column per time point. This is a plain 2-D table, the format of
#   most sklearn tutorials, and is all you need for a single channel of equal-length
#   recordings;
# * **long, regrouped**: `sslearn.data.from_long` keeps each recording as a series in a
#   cell. It also handles several channels, unequal lengths and irregular time stamps
#   (see examples 02 and 04).
#
# `long_targets` returns the one label per recording, in the same (sorted-id) order.

# %%
wide = frame.pivot(index="id", columns="time", values="ppg")  # (n_recordings, n_timepoints)
rows = from_long(frame, id_col="id", time_col="time", value_cols="ppg")
y = long_targets(frame, "id", "label")
subject = long_targets(frame, "id", "subject")
print("wide table:", wide.shape, "| regrouped long table:", rows.shape)
assert np.allclose(to_panel(rows).values[:, 0], wide.to_numpy())  # the same numbers
print(y.value_counts().to_string())

# %% [markdown]
# ## 2. Split by subject, not by recording
#
# Recordings of one person resemble each other (heart rate, pulse shape). If the same
# subject were in the training and the test set, the test score would reward
# recognising people rather than rhythms. `GroupShuffleSplit` keeps every subject on
# one side.

# %%
by_subject = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
train, test = next(by_subject.split(wide, y, subject))
X_train, X_test = wide.iloc[train], wide.iloc[test]
y_train, y_test = y.iloc[train], y.iloc[test]
print(f"train: {len(train)} recordings, test: {len(test)} recordings of unseen subjects")

# %% [markdown]
# ## 3. Fit
#
# A small network is plenty for one channel: 2 Liquid-S4 blocks of width 32. With
# `early_stopping=True` 15 % of the training recordings are held out to pick the best
# epoch (by default this only happens from 500 training series on). `random_state`
# makes the fit reproducible; a CUDA GPU is used when present (`device="auto"`).

# %%
clf = LiquidS4Classifier(
    d_model=32,
    n_layers=2,
    d_state=32,
    max_epochs=MAX_EPOCHS,
    early_stopping=True,
    validation_fraction=0.15,
    n_iter_no_change=15,
    random_state=0,
)
start = time.perf_counter()
clf.fit(X_train, y_train)
print(
    f"{clf.n_iter_} epochs in {time.perf_counter() - start:.1f} s on {clf.device_}, "
    f"stopped by {clf.stop_reason_!r}; classes: {clf.classes_.tolist()}"
)

# %% [markdown]
# ## 4. Predict, score, and probabilities
#
# `predict` gives labels, `score` the accuracy. With 25 % AF, accuracy flatters: the
# "always other" baseline already scores about 0.75. **Balanced accuracy**, **sensitivity**
# and **specificity** say more, and `predict_proba` gives a risk score whose threshold
# you can choose (a screening device wants high sensitivity); its ROC AUC summarises all
# thresholds.

# %%
predicted = clf.predict(X_test)
proba_af = clf.predict_proba(X_test)[:, list(clf.classes_).index("AF")]
tn, fp, fn, tp = confusion_matrix(y_test, predicted, labels=["other", "AF"]).ravel()
baseline = DummyClassifier().fit(X_train, y_train)
print(f"accuracy           {clf.score(X_test, y_test):.3f}")
print(f"  majority class   {baseline.score(X_test, y_test):.3f}")
print(f"balanced accuracy  {balanced_accuracy_score(y_test, predicted):.3f}")
print(f"sensitivity (AF)   {tp / max(tp + fn, 1):.3f}")
print(f"specificity        {tn / max(tn + fp, 1):.3f}")
print(f"ROC AUC            {roc_auc_score(y_test == 'AF', proba_af):.3f}")
print(pd.DataFrame({"true": y_test, "predicted": predicted, "P(AF)": proba_af.round(3)}).head())

# %% [markdown]
# The model also accepts the regrouped long table (or a NumPy array of shape
# (n_recordings, n_timepoints)): same numbers, same predictions.

# %%
assert (clf.predict(rows.iloc[test]) == predicted).all()

# %% [markdown]
# ## 5. Training history
#
# `history_` holds one record per epoch (training loss, learning rate, seconds and, with
# early stopping, validation loss and accuracy); `loss_curve_` the training losses
# alone. `plot_history()` draws them. The network kept the weights of the epoch with the
# best validation loss (`best_validation_score_` is its accuracy).
#
# A training loss that keeps falling while the validation loss rises is overfitting:
# early stopping ends the fit `n_iter_no_change` epochs after the best validation loss.
# With a small clinical data set, `dropout` and `weight_decay` are the next things to
# try; the validation curve of a few dozen recordings is noisy, so judge by trends.

# %%
print(pd.DataFrame(clf.history_).tail(3).round(4).to_string(index=False))
print(f"best validation accuracy: {clf.best_validation_score_:.3f}")
out_dir = Path(tempfile.mkdtemp(prefix="sslearn_example_"))
ax = clf.plot_history()
ax.set_title("AF vs other rhythms from PPG")
ax.figure.savefig(out_dir / "history.png", dpi=100, bbox_inches="tight")
plt.show()
print(f"saved {out_dir / 'history.png'}")

# %% [markdown]
# ## 6. Save and reload
#
# `sslearn.save` writes one file of JSON and safetensors, which `sslearn.load` reads back
# without running any code from it (unlike a pickle, it is safe to load from elsewhere).
# The network's weights are stored device-independently, so a model trained on a GPU
# loads on a laptop.

# %%
sslearn.save(clf, out_dir / "af_model.sslearn")
reloaded = sslearn.load(out_dir / "af_model.sslearn")
assert (reloaded.predict(X_test) == predicted).all()
print(f"saved and reloaded {out_dir / 'af_model.sslearn'}")

# %% [markdown]
# **Next:** example 02 selects hyper-parameters with subject-wise cross-validation on two
# channels, 03 estimates heart and breathing rate, 04 handles unequal lengths and gaps,
# 05 streams a recording sample by sample.
