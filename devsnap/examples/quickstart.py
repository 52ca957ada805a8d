"""Quickstart: fit a LiquidS4Classifier on a bundled wearable-motion dataset and predict.

BasicMotions ships inside sktime (no download): 80 recordings of a 3-D accelerometer and a
3-D gyroscope worn on the wrist (6 channels, 100 steps at 10 Hz) while standing, walking,
running or playing badminton, with the archive's official train/test split.

Run: ``python examples/quickstart.py`` (uses a CUDA GPU when one is present).
Set ``SSLEARN_EXAMPLE_EPOCHS`` to shorten the run (CI uses a handful of epochs).
"""

from __future__ import annotations

import os
import time

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, classification_report

from sslearn import LiquidS4Classifier


def load_basic_motions() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BasicMotions as (n_samples, n_channels, n_timepoints) arrays with its official split."""
    from sktime.datasets import load_basic_motions as load

    X_train, y_train = load(split="train", return_type="numpy3D")
    X_test, y_test = load(split="test", return_type="numpy3D")
    return X_train, np.asarray(y_train), X_test, np.asarray(y_test)


def main() -> None:
    X_train, y_train, X_test, y_test = load_basic_motions()
    print(f"train {X_train.shape}, test {X_test.shape}, classes {sorted(map(str, set(y_train)))}")
    epochs = int(os.environ.get("SSLEARN_EXAMPLE_EPOCHS", "60"))
    model = LiquidS4Classifier(max_epochs=epochs, random_state=0, verbose=0)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_test)
    baseline = DummyClassifier().fit(X_train.reshape(len(X_train), -1), y_train)
    print(f"fitted {model.n_iter_} epochs in {seconds:.1f} s on {model.device_}")
    print(
        f"test accuracy: LiquidS4Classifier {accuracy_score(y_test, predicted):.3f}, "
        f"majority class {baseline.score(X_test.reshape(len(X_test), -1), y_test):.3f}"
    )
    print(classification_report(y_test, predicted, zero_division=0))
    print(
        "class probabilities of the first test series:",
        dict(zip(model.classes_, np.round(model.predict_proba(X_test[:1])[0], 3), strict=True)),
    )


if __name__ == "__main__":
    main()
