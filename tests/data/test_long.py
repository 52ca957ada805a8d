"""from_long / long_targets: one row per series in sorted id order, that scikit-learn's
splitters index by series and to_panel reads back."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split
from sklearn.utils import _safe_indexing

from sslearn.data import from_long, long_targets, to_panel
from sslearn.data._long import check_not_long, infer_value_cols
from sslearn.datasets import load_basic_motions, load_tecator
from tests.data.test_convert import assert_panel_equal

IDS = ["s3", "s0", "s4", "s1", "s2"]  # ids in the order the rows first appear
LENGTHS = {"s0": 5, "s1": 3, "s2": 6, "s3": 1, "s4": 4}
LABELS = {"s0": "up", "s1": "down", "s2": "up", "s3": "down", "s4": "up"}


def make_long(seed=0, with_nan=True):
    """A shuffled long frame and the per-series (2, L) arrays it holds, in sorted id order."""
    rng = np.random.default_rng(seed)
    rows, series = [], {}
    for sid in IDS:
        values = rng.normal(size=(2, LENGTHS[sid])) + 2.0
        if with_nan and LENGTHS[sid] > 2:
            values[0, 1] = np.nan
        series[sid] = values
        for t in range(LENGTHS[sid]):
            rows.append(
                {
                    "id": sid,
                    "time": 10 * t,
                    "x": values[0, t],
                    "y": values[1, t],
                    "label": LABELS[sid],
                }
            )
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)  # shuffled, non-range index
    return df, [series[sid] for sid in sorted(IDS)]


def test_rows_are_sorted_ids_and_round_trip_to_panel():
    df, series = make_long()
    rows = from_long(df, id_col="id", time_col="time", value_cols=["x", "y"])
    assert rows.index.tolist() == sorted(IDS) and rows.index.name == "id"
    assert rows.columns.tolist() == ["x", "y"]
    cell = rows.loc["s2", "x"]
    assert cell.index.tolist() == [0, 10, 20, 30, 40, 50] and cell.index.name == "time"
    panel = to_panel(rows)
    assert_panel_equal(panel, to_panel(series), names=False)
    assert panel.channel_names == ["x", "y"]
    assert panel.has_missing


def test_value_cols_default_single_and_order():
    df, series = make_long(1)
    df = df.drop(columns="label")
    assert from_long(df, "id", "time").columns.tolist() == ["x", "y"]
    single = to_panel(from_long(df, "id", "time", value_cols="y"))
    assert_panel_equal(single, to_panel([s[1] for s in series]), names=False)
    swapped = to_panel(from_long(df, "id", "time", value_cols=["y", "x"]))
    assert_panel_equal(swapped, to_panel([s[::-1] for s in series]), names=False)


def test_datetime_time_and_integer_ids():
    rng = np.random.default_rng(2)
    times = pd.date_range("2024-01-01", periods=4, freq="h")
    df = pd.DataFrame(
        {"sid": [7, 7, 7, 7, 3, 3], "when": [times[2], times[0], times[3], times[1], *times[1:3]]}
    )
    df["v"] = rng.normal(size=6)
    rows = from_long(df, id_col="sid", time_col="when")
    assert rows.index.tolist() == [3, 7]
    assert rows.loc[7, "v"].index.is_monotonic_increasing
    np.testing.assert_allclose(
        to_panel(rows).values[1, 0], df.loc[[1, 3, 0, 2], "v"].to_numpy(), rtol=1e-6
    )


def test_output_is_a_valid_sktime_nested_univ():
    sktime_datatypes = pytest.importorskip("sktime.datatypes")
    df, _ = make_long(3)
    rows = from_long(df, "id", "time", ["x", "y"])
    assert sktime_datatypes.check_is_mtype(rows, "nested_univ", scitype="Panel")


def test_long_targets_align_with_rows():
    df, _ = make_long(4)
    y = long_targets(df, "id", "label")
    rows = from_long(df, "id", "time", ["x", "y"])
    assert y.index.equals(rows.index) and y.name == "label"
    assert y.tolist() == [LABELS[sid] for sid in sorted(IDS)]
    one_row_per_id = pd.DataFrame({"id": IDS, "label": [LABELS[s] for s in IDS]})
    assert long_targets(one_row_per_id, "id", "label").equals(y)


def test_long_targets_rejects_non_constant_target():
    df, _ = make_long(5)
    df.loc[df["id"] == "s2", "label"] = ["up", "down"] * 3
    with pytest.raises(ValueError, match=r"not constant within series.*\['s2'\]"):
        long_targets(df, "id", "label")
    df.loc[df["id"] == "s2", "label"] = ["up", None] * 3  # NaN counts as a value
    with pytest.raises(ValueError, match="not constant"):
        long_targets(df, "id", "label")


# -- the value columns inferred when value_cols is None ------------------------------------


def test_value_cols_are_inferred_on_a_bundled_frame():
    """BasicMotions' long frame has a text target beside its six channels."""
    frame = load_basic_motions(split="test", return_type="frame")
    channels = [f"dim_{k}" for k in range(6)]
    rows = from_long(frame)
    assert rows.columns.tolist() == channels
    X, _ = load_basic_motions(split="test")
    np.testing.assert_allclose(to_panel(rows).to_numpy(), X, rtol=1e-6)
    assert long_targets(frame, "id", "target").index.equals(rows.index)


def test_a_numeric_target_constant_within_series_is_no_channel():
    frame = load_tecator(split="test", return_type="frame")
    assert pd.api.types.is_float_dtype(frame["target"])
    assert from_long(frame).columns.tolist() == ["dim_0"]


def test_infer_value_cols_rule():
    df, _ = make_long(9, with_nan=False)
    df = df.assign(
        age=df["id"].map({sid: 20.0 + k for k, sid in enumerate(IDS)}),  # constant per series
        flag=df["x"] > 2,  # booleans: no channel
        z=df["y"].astype(object),  # an object column of numbers is one
        note="text",
    )
    assert infer_value_cols(df) == ["x", "y", "z"]
    assert infer_value_cols(df, exclude=["y"]) == ["x", "z"]
    assert from_long(df).columns.tolist() == ["x", "y", "z"]
    # a column constant within every series but one still varies: a channel
    df.loc[df["id"] == "s2", "age"] = np.arange(LENGTHS["s2"], dtype=float)
    assert infer_value_cols(df) == ["x", "y", "age", "z"]


def test_infer_value_cols_counts_nan_as_a_value_and_takes_all_of_single_rows():
    df = pd.DataFrame({"id": [1, 1, 2, 2], "time": [0, 1, 0, 1], "v": [1.0, np.nan, 3.0, 3.0]})
    assert infer_value_cols(df) == ["v"]
    single = pd.DataFrame({"id": [1, 2, 3], "time": [0, 0, 0], "v": [1.0, 2.0, 3.0], "w": 1})
    assert infer_value_cols(single) == ["v", "w"]  # nothing can vary: every numeric column
    assert from_long(single).columns.tolist() == ["v", "w"]


def test_nothing_varies_names_value_cols():
    df = _base().assign(v=[1.0, 1.0, 3.0], label=["a", "a", "b"])  # v: one value per series
    with pytest.raises(ValueError, match=r"no numeric column varies within a series.*value_cols"):
        from_long(df)
    assert from_long(df, value_cols="v").columns.tolist() == ["v"]


# -- scikit-learn splitting -----------------------------------------------------------------


def test_train_test_split_splits_series():
    df, _ = make_long(6)
    rows = from_long(df, "id", "time", ["x", "y"])
    y = long_targets(df, "id", "label").to_numpy()
    panel = to_panel(rows)
    X_tr, X_te, y_tr, y_te = train_test_split(rows, y, test_size=2, random_state=0)
    assert len(X_tr) == 3 and len(X_te) == 2
    for part, labels in [(X_tr, y_tr), (X_te, y_te)]:
        positions = rows.index.get_indexer(part.index)
        assert_panel_equal(to_panel(part), panel.subset(positions))
        assert labels.tolist() == y[positions].tolist()


def test_kfold_safe_indexing_matches_panel_subset():
    df, _ = make_long(7)
    rows = from_long(df, "id", "time", ["x", "y"])
    panel = to_panel(rows)
    for train, test in KFold(n_splits=3, shuffle=True, random_state=0).split(rows):
        for idx in (train, test):
            assert_panel_equal(to_panel(_safe_indexing(rows, idx)), panel.subset(idx))


class _LastValueClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on each channel's last observed value, reading X via to_panel."""

    def __init__(self, C=1.0):
        self.C = C

    def _features(self, X):
        panel = to_panel(X)
        return panel.values[np.arange(panel.n_samples), :, panel.lengths - 1]

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(self._features(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(self._features(X))


def test_cross_val_score_and_grid_search_on_long_data():
    rng = np.random.default_rng(8)
    n_series = 24
    labels = rng.integers(0, 2, size=n_series)
    records = [
        {"id": i, "time": t, "v": rng.normal() + 3.0 * labels[i]}
        for i in range(n_series)
        for t in range(int(rng.integers(2, 6)))
    ]
    df = pd.DataFrame(records)
    df["label"] = labels[df["id"]]
    rows = from_long(df, "id", "time", value_cols="v")
    y = long_targets(df, "id", "label")
    scores = cross_val_score(_LastValueClassifier(), rows, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    search = GridSearchCV(_LastValueClassifier(), {"C": [0.1, 1.0]}, cv=3).fit(rows, y)
    assert search.best_score_ > 0.8


# -- rejections -----------------------------------------------------------------------------


def _base():
    return pd.DataFrame({"id": [1, 1, 2], "time": [0, 1, 0], "v": [1.0, 2.0, 3.0]})


@pytest.mark.parametrize(
    "df, kwargs, exc, match",
    [
        (_base().to_numpy(), {}, TypeError, "must be a pandas DataFrame"),
        (_base(), {"id_col": "sid"}, ValueError, r"\{'id_col': 'sid'\} not found.*reset_index"),
        (_base(), {"value_cols": ["v", "w"]}, ValueError, "'w'"),
        (_base().iloc[:0], {}, ValueError, r"0 sample\(s\)"),
        (_base(), {"time_col": "id"}, ValueError, "must differ"),
        (_base()[["id", "time"]], {}, ValueError, "no value columns.*pass value_cols"),
        (_base().assign(v=["a", "b", "c"]), {}, ValueError, "no value columns.*pass value_cols"),
        (
            _base().assign(v=["a", "b", "c"]),
            {"value_cols": "v"},
            TypeError,
            r"non-numeric column\(s\) \{'v'",
        ),
        (_base().assign(v=[1j, 2j, 3j]), {}, ValueError, "Complex data not supported"),
        (_base().assign(id=[1, None, 2]), {}, ValueError, r"'id' has 1 missing id\(s\)"),
        (_base().assign(time=[0, None, 0]), {}, ValueError, r"1 missing time stamp\(s\)"),
        (_base().assign(time=[0, 0, 0]), {}, ValueError, r"1 duplicated.*id 1 at time 0"),
        (_base().assign(id=[1, 1, date(2024, 1, 1)]), {}, TypeError, "cannot be sorted"),
    ],
)
def test_from_long_rejections(df, kwargs, exc, match):
    args = {"id_col": "id", "time_col": "time"} | kwargs
    with pytest.raises(exc, match=match):
        from_long(df, **args)


def test_long_targets_missing_column():
    with pytest.raises(ValueError, match=r"\{'target_col': 'label'\} not found"):
        long_targets(_base(), "id", "label")


# -- check_not_long: a long frame handed over as a wide one --------------------------------


def _long(n=4, length=3):
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), length),
            "time": np.tile(np.arange(length), n),
            "x": np.arange(n * length, dtype=float),
        }
    )


@pytest.mark.parametrize(
    ("frame", "found"),
    [
        (_long(), r"'id' repeats series ids, column 'time' holds time stamps"),
        (_long().rename(columns={"id": "Subject", "time": "t"}), r"'Subject'.*'t'"),
        (_long().rename(columns={"id": "record_id"}), r"'record_id' repeats"),
        (_long().drop(columns="time"), r"id_col='id', time_col=<time column>"),
        (_long().drop(columns="id"), r"id_col=<series id column>, time_col='time'"),
        (
            _long().assign(id="s" + _long()["id"].astype(str)).rename(columns={"id": "k"}),
            r"'k' repeats series ids",
        ),  # text labels under any name
        (
            _long().assign(when=pd.Timestamp("2024") + pd.to_timedelta(_long()["time"], "D")),
            r"'time' holds time stamps, column 'when' holds time stamps",  # by dtype alone
        ),
        (_long(n=1), r"'time' holds time stamps"),  # one series: increasing time steps
    ],
)
def test_long_frames_are_refused(frame, found):
    with pytest.raises(ValueError, match=rf"long-format DataFrame.*{found}") as info:
        check_not_long(frame)
    assert "sslearn.data.from_long(X, id_col=" in str(info.value)
    with pytest.raises(ValueError, match="long-format"):
        to_panel(frame)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(np.arange(12).reshape(4, 3) % 2),  # integers that repeat
        pd.DataFrame(np.ones((4, 3)), columns=["t0", "t1", "t2"]),
        pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"]),  # increasing
        pd.DataFrame({"time": [3.0, 1.0, 2.0, 0.5]}),  # named time, but neither repeats nor rises
        pd.DataFrame({"x": [1.0, 1.0]}, index=pd.to_datetime(["2024-01-01", "2024-01-01"])),
    ],
)
def test_wide_frames_pass(frame):
    check_not_long(frame)


def test_an_id_column_of_unique_values_is_refused():
    with pytest.raises(ValueError, match=r"\['patient_id'\] look like series ids"):
        check_not_long(pd.DataFrame({"patient_id": [1, 2, 3], "0": [1.0, 2.0, 3.0]}))


def test_from_long_reads_object_columns_of_numbers():
    df = _long().astype({"x": object})
    df.loc[1, "x"] = pd.NA  # was pandas' "float() argument must be ... not 'NAType'"
    rows = from_long(df)
    assert np.isnan(rows.iloc[0, 0].iloc[1]) and rows.iloc[0, 0].dtype == np.float64


def test_return_times_keeps_each_series_stamps():
    df = pd.DataFrame(
        {
            "id": ["b", "a", "b", "a", "a"],
            "t": [2.5, 0.0, 0.5, 4.0, 1.0],
            "x": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    rows, times = from_long(df, "id", "t", "x", return_times=True)
    assert rows.index.tolist() == ["a", "b"]
    assert [t.tolist() for t in times] == [[0.0, 1.0, 4.0], [0.5, 2.5]]
    assert all(t.dtype == np.float64 for t in times)
    assert_panel_equal(to_panel(from_long(df, "id", "t", "x")), to_panel(rows))


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_return_times_reads_datetimes_as_seconds_since_each_start(tz):
    start = pd.Timestamp("2024-03-31 00:30", tz=tz)  # Paris changes clocks at 2:00 that day
    stamps = start + pd.to_timedelta([0, 3600, 7200, 60, 90], unit="s")
    df = pd.DataFrame({"id": [1, 1, 1, 2, 2], "time": stamps, "x": np.arange(5.0)})
    _, times = from_long(df, return_times=True)
    assert [t.tolist() for t in times] == [[0.0, 3600.0, 7200.0], [0.0, 30.0]]
    df["time"] = pd.to_timedelta(df["x"] * 2, unit="s")
    assert [t.tolist() for t in from_long(df, value_cols="x", return_times=True)[1]] == [
        [0.0, 2.0, 4.0],
        [6.0, 8.0],
    ]


def test_return_times_refuses_text_stamps():
    df = pd.DataFrame({"id": [1, 1], "time": ["0:00", "0:05"], "x": [1.0, 2.0]})
    with pytest.raises(TypeError, match=r"pd\.to_datetime\(df\['time'\]\)"):
        from_long(df, return_times=True)
