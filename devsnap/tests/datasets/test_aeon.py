"""Problems read from the optional aeon wheel, located but never imported."""

import importlib.util
import sys

import numpy as np
import pytest

from sslearn.data import to_panel
from sslearn.datasets import list_datasets, load_dataset

from ._helpers import assert_same_panel
from .test_eeg import first_case

TABLE = list_datasets().set_index("name")
AEON_SETS = TABLE.index[TABLE["requires"] == "aeon"].tolist()
needs_aeon = pytest.mark.skipif(
    importlib.util.find_spec("aeon") is None, reason="aeon is not installed"
)


def test_registry_lists_the_aeon_sets():
    assert sorted(AEON_SETS) == ["CardanoSentiment", "PickupGestureWiimoteZ"]


def test_missing_aeon_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "aeon" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match="pip install --no-deps aeon "):
        load_dataset("CardanoSentiment", split="train")


@needs_aeon
@pytest.mark.parametrize("name", AEON_SETS)
def test_registry_matches_files(name):
    info = TABLE.loc[name]
    lengths, labels = [], []
    for split, n in [("train", info.n_train), ("test", info.n_test)]:
        X, y = load_dataset(name, split=split)
        assert X.dtype == np.float32 and X.ndim == 3
        assert X.shape[:2] == (n, info.n_channels)
        assert y.shape == (n,)
        lengths.append(to_panel(X).lengths)
        labels.append(y)
    lengths = np.concatenate(lengths)
    assert (lengths.min(), lengths.max()) == (info.min_length, info.max_length)
    y = np.concatenate(labels)
    if info.task == "regression":
        assert y.dtype == np.float64
    else:
        assert y.dtype.kind == "U"
        assert len(np.unique(y)) == info.n_classes


@needs_aeon
def test_aeon_is_not_imported():
    load_dataset("CardanoSentiment", split="test")
    assert "aeon" not in sys.modules


@needs_aeon
def test_pickup_gesture_is_nan_padded():
    from sslearn.datasets._packaged import WHEELS

    X, y = load_dataset("PickupGestureWiimoteZ", split="train")
    path = f"{WHEELS['aeon'].data_dir()}/PickupGestureWiimoteZ/PickupGestureWiimoteZ_TRAIN.ts"
    x0, label0 = first_case(path)
    length = x0.shape[1]
    assert X.shape == (50, 1, 361) and length < 361
    np.testing.assert_allclose(X[0, :, :length], x0, rtol=1e-6)
    assert np.isnan(X[0, :, length:]).all()
    assert y[0] == label0
    assert sorted(set(y.tolist()), key=int) == [str(k) for k in range(1, 11)]


@needs_aeon
def test_cardano_sentiment_is_multivariate_regression():
    X, y = load_dataset("CardanoSentiment")
    assert X.shape == (107, 2, 24) and not np.isnan(X).any()
    assert y.shape == (107,) and y.dtype == np.float64
    frame = load_dataset("CardanoSentiment", split="train", return_type="frame")
    assert list(frame.columns) == ["id", "time", "dim_0", "dim_1", "target"]
    X_train, y_train = load_dataset("CardanoSentiment", split="train")
    assert_same_panel(X[:74], X_train)
    np.testing.assert_array_equal(y[:74], y_train)
