"""The bundled loaders agree with sktime's own loaders and with the registry's table."""

import numpy as np
import pandas as pd
import pytest

from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets import (
    list_datasets,
    load_acsf1,
    load_arrow_head,
    load_basic_motions,
    load_dataset,
    load_gunpoint,
    load_italy_power_demand,
    load_japanese_vowels,
    load_osuleaf,
    load_plaid,
    load_tecator,
    load_unit_test,
)

from ._helpers import assert_same_panel

TABLE = list_datasets().set_index("name")
SKTIME_SETS = TABLE.index[TABLE["requires"] == "sktime"].tolist()


def frame_to_xy(frame):
    channels = list(frame.columns[2:-1])
    rows = from_long(frame, "id", "time", channels)
    return to_panel(rows).to_numpy(), long_targets(frame, "id", "target").to_numpy()


def test_list_datasets_columns():
    table = list_datasets()
    assert list(table.columns) == [
        "name",
        "task",
        "n_train",
        "n_test",
        "n_channels",
        "min_length",
        "max_length",
        "n_classes",
        "domain",
        "description",
        "requires",
    ]
    assert table["name"].is_unique
    assert set(table["task"]) == {"classification", "regression"}
    assert table.loc[table["task"] == "regression", "n_classes"].isna().all()
    assert (table["min_length"] <= table["max_length"]).all()


@pytest.mark.parametrize("name", SKTIME_SETS)
def test_registry_matches_files(name):
    info = TABLE.loc[name]
    lengths, labels = [], []
    for split, n in [("train", info.n_train), ("test", info.n_test)]:
        X, y = load_dataset(name, split=split)
        assert X.dtype == np.float32 and X.ndim == 3
        assert X.shape[:2] == (n, info.n_channels)
        assert y.shape == (n,)
        panel = to_panel(X)
        lengths.append(panel.lengths)
        labels.append(y)
    lengths = np.concatenate(lengths)
    assert (lengths.min(), lengths.max()) == (info.min_length, info.max_length)
    y = np.concatenate(labels)
    if info.task == "regression":
        assert y.dtype == np.float64
    else:
        assert y.dtype.kind == "U"
        assert len(np.unique(y)) == info.n_classes


@pytest.mark.parametrize(
    "loader, sktime_name",
    [
        (load_acsf1, "load_acsf1"),
        (load_arrow_head, "load_arrow_head"),
        (load_basic_motions, "load_basic_motions"),
        (load_gunpoint, "load_gunpoint"),
        (load_italy_power_demand, "load_italy_power_demand"),
        (load_osuleaf, "load_osuleaf"),
        (load_unit_test, "load_unit_test"),
        (load_tecator, "load_tecator"),
    ],
)
@pytest.mark.parametrize("split", ["train", "test"])
def test_equal_length_matches_sktime(loader, sktime_name, split):
    import sktime.datasets

    X_ref, y_ref = getattr(sktime.datasets, sktime_name)(split=split, return_type="numpy3D")
    X, y = loader(split=split)
    assert X.shape == X_ref.shape
    np.testing.assert_allclose(X, X_ref, rtol=1e-6, atol=1e-6)
    if sktime_name == "load_tecator":
        np.testing.assert_allclose(y, y_ref.astype(float), rtol=1e-6)
    else:
        np.testing.assert_array_equal(y, y_ref.astype(str))


@pytest.mark.parametrize(
    "loader, sktime_name",
    [(load_japanese_vowels, "load_japanese_vowels"), (load_plaid, "load_plaid")],
)
def test_unequal_length_is_nan_padded(loader, sktime_name):
    import sktime.datasets

    X_ref, y_ref = getattr(sktime.datasets, sktime_name)(split="test", return_type="nested_univ")
    X, y = loader(split="test")
    np.testing.assert_array_equal(y, y_ref)
    lengths = np.array([len(cell) for cell in X_ref.iloc[:, 0]])
    assert X.shape == (len(X_ref), X_ref.shape[1], lengths.max())
    for i in [0, int(np.argmin(lengths)), len(X_ref) - 1]:
        for c in range(X_ref.shape[1]):
            np.testing.assert_allclose(X[i, c, : lengths[i]], X_ref.iat[i, c], rtol=1e-6)
            assert np.isnan(X[i, c, lengths[i] :]).all()
    assert lengths.min() < lengths.max()


def test_split_none_is_train_then_test():
    X_train, y_train = load_arrow_head("train")
    X_test, y_test = load_arrow_head("test")
    X, y = load_arrow_head()
    np.testing.assert_array_equal(X, np.concatenate([X_train, X_test]))
    np.testing.assert_array_equal(y, np.concatenate([y_train, y_test]))


@pytest.mark.parametrize("name", ["BasicMotions", "JapaneseVowels", "Tecator"])
def test_frame_matches_numpy(name):
    X, y = load_dataset(name, split="train")
    frame = load_dataset(name, split="train", return_type="frame")
    assert list(frame.columns[:2]) == ["id", "time"] and frame.columns[-1] == "target"
    assert frame.shape[1] == X.shape[1] + 3
    assert frame["id"].nunique() == len(X)
    X_frame, y_frame = frame_to_xy(frame)
    assert_same_panel(X_frame, X)
    np.testing.assert_array_equal(y_frame, y)


def test_frame_split_none_has_unique_ids():
    frame = load_dataset("UnitTest", return_type="frame")
    assert frame["id"].nunique() == 42
    assert pd.Series(frame.groupby("id").size()).eq(24).all()


def test_name_is_forgiving():
    X, _ = load_dataset("basic_motions", split="test")
    assert X.shape == (40, 6, 100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "NoSuchSet"}, "Unknown dataset 'NoSuchSet'. Available"),
        ({"name": "GunPoint", "split": "validation"}, "split must be"),
        ({"name": "GunPoint", "return_type": "xarray"}, "return_type must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(**kwargs)
