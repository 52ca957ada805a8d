# %% [markdown]
# # Heart rhythm classification: long table -> Pipeline -> subject-wise grid search
#
# Four rhythms from simultaneous ECG and PPG recordings: normal sinus rhythm, atrial
# fibrillation, ectopic (premature ventricular) beats and sinus tachycardia. This
# tutorial shows the model-selection workflow a clinical study needs:
#
# 1. read a **long** table (one row per sample) into one row per recording with
#    `from_long` and `long_targets`;
# 2. keep the preprocessing inside a scikit-learn `Pipeline`, so that cross-validation
#    repeats it on every split;
# 3. choose hyper-parameters with `GridSearchCV` over **subject-wise** folds
#    (`GroupKFold`), and
# 4. report the chosen model once, on subjects that took no part in the choice.
#
# The data come from the simulator `make_vital_signs`; with your own data only the
# loading cell changes. The default settings take about 80 s on a 2-core CPU;
# `SSLEARN_EXAMPLE_FAST=1` shrinks everything to a smoke test.

# %%
import os
import time

import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import GridSearchCV, GroupKFold, GroupShuffleSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sslearn import LiquidS4Classifier
from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets import make_vital_signs

FAST = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"
N_SUBJECTS = 8 if FAST else 24
DURATION_S = 8 if FAST else 20
MAX_EPOCHS = 2 if FAST else 30
N_FOLDS = 2 if FAST else 3

# %% [markdown]
# ## 1. Load the long table
#
# Columns: recording `id`, `subject`, `time` in seconds, the `ecg` (mV) and `ppg`
# (a.u.) channels at 50 Hz, and the recording's `rhythm`.

# %%
frame, _ = make_vital_signs(
    n_subjects=N_SUBJECTS,
    recordings_per_subject=8,
    duration_s=DURATION_S,
    fs=50,
    task="classification",
    random_state=1,
)
print(frame.head(3))

X = from_long(frame, id_col="id", time_col="time", value_cols=["ecg", "ppg"])
y = long_targets(frame, "id", "rhythm")
groups = long_targets(frame, "id", "subject")
print(f"{len(X)} recordings x {X.shape[1]} channels; rhythms:")
print(y.value_counts().to_string())

# %% [markdown]
# ## 2. Hold out test subjects
#
# A quarter of the subjects are put aside now and used once, at the end. The grid search
# sees only the others.

# %%
outer = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
train, test = next(outer.split(X, y, groups))
X_train, y_train, groups_train = X.iloc[train], y.iloc[train], groups.iloc[train]
X_test, y_test = X.iloc[test], y.iloc[test]
print(
    f"{groups_train.nunique()} subjects for model selection, {groups.iloc[test].nunique()} for test"
)

# %% [markdown]
# ## 3. A pipeline: downsample, then classify
#
# 50 Hz is more than a rhythm needs: the QRS complex still spans a couple of samples
# at 25 Hz, and halving the length halves the training time. The downsampling is a
# `FunctionTransformer` step; it turns the one-row-per-recording table into an array of
# shape (n_recordings, n_channels, n_timepoints), NaN-padded if lengths differ, which
# the classifier reads directly. The classifier standardises each channel itself
# (`scale=True`), with statistics learned on each training fold only.


# %%
def downsample(rows, factor=2):
    """Every ``factor``-th sample of each recording, as a NaN-padded 3-D array."""
    return to_panel(rows).to_numpy()[:, :, ::factor]


pipeline = Pipeline(
    [
        ("downsample", FunctionTransformer(downsample, kw_args={"factor": 2})),
        (
            "model",
            LiquidS4Classifier(n_layers=2, d_state=32, max_epochs=MAX_EPOCHS, random_state=0),
        ),
    ]
)

# %% [markdown]
# ## 4. Grid search over subject-wise folds
#
# Two choices matter most for a Liquid-S4 network:
#
# * `liquid_kernel`: `None` is a plain (linear) S4 layer; `"pb"` adds the liquid,
#   input-dependent term (products of recent inputs), which can pick up the interaction
#   of successive beats;
# * `d_model`: the width of the network.
#
# `GroupKFold` keeps each subject in one fold; `groups=` goes to `fit`. Each of the
# 4 settings is fitted once per fold (3 folds), then the best is refitted on all training
# subjects. (`n_jobs=1`: PyTorch already uses every CPU core.)

# %%
search = GridSearchCV(
    pipeline,
    param_grid={"model__liquid_kernel": [None, "pb"], "model__d_model": [16, 32]},
    cv=GroupKFold(n_splits=N_FOLDS),
    scoring="accuracy",
    n_jobs=1,
)
start = time.perf_counter()
search.fit(X_train, y_train, groups=groups_train)
print(f"grid search: {time.perf_counter() - start:.0f} s")

results = pd.DataFrame(
    [
        {name.removeprefix("model__"): str(value) for name, value in params.items()}
        for params in search.cv_results_["params"]
    ]
)
for column in ("mean_test_score", "std_test_score", "mean_fit_time"):
    results[column] = search.cv_results_[column]
print(results.sort_values("mean_test_score", ascending=False).round(3).to_string(index=False))
print(f"best: {search.best_params_}, cross-validated accuracy {search.best_score_:.3f}")

# %% [markdown]
# ## 5. Test on the held-out subjects
#
# `search` now behaves like the refitted best pipeline. Its accuracy on unseen subjects
# is the number to report; the per-class recall (sensitivity) and the confusion matrix
# show which rhythms are mistaken for which.

# %%
predicted = search.predict(X_test)
print(f"test accuracy on unseen subjects: {search.score(X_test, y_test):.3f}")
print(classification_report(y_test, predicted, zero_division=0))
labels = search.classes_
print(
    pd.DataFrame(
        confusion_matrix(y_test, predicted, labels=labels),
        index=pd.Index(labels, name="true"),
        columns=pd.Index(labels, name="predicted"),
    ).to_string()
)

# %% [markdown]
# Sinus tachycardia is the easy class (the rate alone gives it away); ectopic beats,
# a few premature beats among many normal ones, are the hardest, and are often
# confused with atrial fibrillation (both make the rhythm irregular). More recordings,
# more epochs or the full 50 Hz help most there.
#
# **Notes.** The fitted network is `search.best_estimator_["model"]`, with its
# `history_`, `network_` and so on. With real data, keep the test subjects out of every
# decision, including the choice of the grid. A grid over more parameters multiplies the
# cost: on a GPU each fit here takes seconds; on a CPU, prefer a narrow grid.
