"""Small long-format files and the models ``sslearn fit`` makes of them, shared by the CLI tests."""

import pytest

from sslearn.cli import main
from sslearn.datasets import make_vital_signs

TINY = ["--param", "max_epochs=2", "--param", "d_model=8", "--param", "n_layers=1"]
TINY += ["--param", "d_state=4", "--param", "device=cpu"]


def vitals_csv(path, task):
    """16 recordings of 4 subjects: columns id, subject, time, ecg, ppg and the target(s)."""
    frame, _ = make_vital_signs(
        n_subjects=4, recordings_per_subject=4, duration_s=5, fs=50, task=task, random_state=0
    )
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def rhythm_csv(tmp_path_factory):
    """Classification: the ``rhythm`` of each recording."""
    return vitals_csv(tmp_path_factory.mktemp("cli") / "rhythm.csv", "classification")


@pytest.fixture(scope="session")
def heart_csv(tmp_path_factory):
    """Regression: ``heart_rate`` and ``breathing_rate`` of each recording."""
    return vitals_csv(tmp_path_factory.mktemp("cli") / "vitals.csv", "regression")


@pytest.fixture(scope="session")
def rhythm_model(rhythm_csv, tmp_path_factory):
    """A classifier saved by ``sslearn fit`` on all series of ``rhythm_csv``."""
    path = tmp_path_factory.mktemp("cli") / "rhythm.sslearn"
    args = ["fit", str(rhythm_csv), "--target-col", "rhythm", "--test-size", "0"]
    assert main([*args, *TINY, "--model-out", str(path)]) == 0
    return path
