"""Irregular sampling (``times=``): the API of both estimators, its errors, metadata routing,
persistence, streams, long frames, ONNX export and the user guide's example."""

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

import sslearn
from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.data import from_long

from ._toy import TINY

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = {**TINY, "max_epochs": 2}
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "irregular.md"


def irregular(n=24, n_channels=2, length=12, seed=0):
    """Random series, labels of 2 classes and strictly increasing random time stamps."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_channels, length)
    times = np.cumsum(rng.uniform(0.2, 2.0, size=(n, length)), axis=1)
    return X, np.arange(n) % 2, times


@pytest.fixture(scope="module")
def fitted():
    X, y, times = irregular()
    return LiquidS4Classifier(**FAST).fit(X, y, times=times), X, y, times


# -- the API -------------------------------------------------------------------------------


def test_fit_and_every_prediction_method_take_times(fitted):
    clf, X, y, times = fitted
    assert clf.uses_times_ and clf.time_unit_ == pytest.approx(np.median(np.diff(times)))
    assert clf.predict(X, times=times).shape == (len(X),)
    assert clf.predict_proba(X, times=times).shape == (len(X), 2)
    assert clf.decision_function(X, times=times).shape == (len(X),)
    assert clf.embed(X, times=times).shape[0] == len(X)
    assert 0 <= clf.score(X, y, times=times) <= 1
    assert clf.network_.config.get("irregular") is True


def test_the_network_reads_the_gaps(fitted):
    clf, X, _, times = fitted
    stretched = times[:, :1] + 3.0 * (times - times[:, :1])  # other gaps, same first stamp
    assert not np.allclose(clf.predict_proba(X, times=times), clf.predict_proba(X, times=stretched))
    shifted = times + 1e3  # the same gaps
    np.testing.assert_allclose(
        clf.predict_proba(X, times=shifted), clf.predict_proba(X, times=times), rtol=1e-6
    )


def test_without_times_nothing_changes():
    X, y, _ = irregular()
    clf = LiquidS4Classifier(**FAST).fit(X, y)
    assert not clf.uses_times_ and clf.time_unit_ is None
    assert clf.network_.config["irregular"] is False
    assert clf.network_.config["d_input"] == X.shape[1]


@pytest.mark.parametrize("time_unit", [1.0, 0.25])
def test_a_regular_grid_equals_times_none(time_unit):
    X, y, _ = irregular()
    params = {**FAST, "augment": None}
    grid = np.broadcast_to(time_unit * np.arange(X.shape[-1], dtype=float), X.shape[::2])
    plain = LiquidS4Classifier(**params).fit(X, y)
    timed = LiquidS4Classifier(**params, time_unit=time_unit).fit(X, y, times=grid)
    assert timed.time_unit_ == time_unit
    # the step sizes reach the SSMs by another path (equal up to rounding), which the
    # front end's batch norms carry through training: equal to about 1e-3
    np.testing.assert_allclose(
        timed.predict_proba(X, times=grid), plain.predict_proba(X), rtol=1e-3, atol=2e-3
    )


def test_time_unit_none_takes_the_median_gap_and_scales_gaps():
    X, y, times = irregular()
    auto = LiquidS4Regressor(**FAST).fit(X, y.astype(float), times=times)
    given = LiquidS4Regressor(**FAST, time_unit=auto.time_unit_).fit(
        X, y.astype(float), times=times
    )
    np.testing.assert_allclose(given.predict(X, times=times), auto.predict(X, times=times))
    with pytest.raises(InvalidParameterError, match="time_unit"):
        LiquidS4Regressor(**FAST, time_unit=-1.0).fit(X, y, times=times)


def test_unequal_lengths_as_lists_and_nan_padding():
    rng = np.random.RandomState(1)
    lengths = rng.randint(4, 12, size=20)
    X = [rng.randn(2, n) for n in lengths]
    times = [np.cumsum(rng.uniform(0.5, 1.5, n)) for n in lengths]
    y = np.arange(20) % 2
    clf = LiquidS4Classifier(**FAST).fit(X, y, times=times)
    padded = np.full((20, 2, 11), np.nan)
    padded_times = np.full((20, 11), np.nan)
    for i, (x, t) in enumerate(zip(X, times, strict=True)):
        padded[i, :, : len(t)], padded_times[i, : len(t)] = x, t
    np.testing.assert_allclose(
        clf.predict_proba(padded, times=padded_times), clf.predict_proba(X, times=times)
    )


def test_datetimes_are_seconds():
    X, y, times = irregular()
    stamps = np.datetime64("2025-03-01T08:00") + (times * 1e6).astype("timedelta64[us]")
    clf = LiquidS4Classifier(**FAST).fit(X, y, times=stamps)
    assert clf.time_unit_ == pytest.approx(np.median(np.diff(times)))
    np.testing.assert_allclose(
        clf.predict_proba(X, times=stamps), clf.predict_proba(X, times=times), rtol=1e-5
    )


def test_augmentation_and_ensembles_train_with_times():
    X, y, times = irregular()
    clf = LiquidS4Classifier(**FAST, augment="strong", n_estimators=2)
    assert clf.fit(X, y, times=times).predict_proba(X, times=times).shape == (len(X), 2)


def test_uncertainty_and_explanations_take_times():
    X, y, times = irregular(n=40)
    reg = LiquidS4Regressor(**FAST, early_stopping=True, validation_fraction=0.5)
    reg.fit(X, y.astype(float), times=times)
    assert reg.predict_interval(X, times=times).shape == (len(X), 2)
    clf = LiquidS4Classifier(**FAST, early_stopping=True, validation_fraction=0.5)
    clf.fit(X, y, times=times)
    assert clf.predict_set(X, times=times).shape == (len(X), 2)
    pytest.importorskip("captum")
    attributions = clf.explain(X[:2], times=times[:2], n_steps=4)
    assert attributions.shape == X[:2].shape
    with pytest.raises(ValueError, match="fitted with times"):
        clf.explain(X[:2], n_steps=4)


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "embed"])
def test_times_needed_at_predict_when_fitted_with_them(fitted, method):
    clf, X, _, _ = fitted
    with pytest.raises(ValueError, match=r"fitted with times.*times=\.\.\."):
        getattr(clf, method)(X)


def test_times_refused_at_predict_when_fitted_without():
    X, y, times = irregular()
    clf = LiquidS4Classifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="fitted without them"):
        clf.predict(X, times=times)


def test_bad_times(fitted):
    clf, X, _, times = fitted
    with pytest.raises(ValueError, match=r"times has shape \(24, 11\).*shape \(24, 12\)"):
        clf.predict(X, times=times[:, :11])
    with pytest.raises(ValueError, match="stamps of 23 series, but X has 24"):
        clf.predict(X, times=list(times[:23]))
    with pytest.raises(ValueError, match=r"increase strictly.*series 3 has"):
        clf.predict(X, times=np.where(np.arange(24)[:, None] == 3, times[:, ::-1], times))
    repeated = times.copy()
    repeated[5, 4] = repeated[5, 3]
    with pytest.raises(ValueError, match=r"series 5 has .* at step 4 after"):
        clf.predict(X, times=repeated)
    holes = times.copy()
    holes[2, 6] = np.nan
    with pytest.raises(ValueError, match=r"missing or infinite stamp.*series 2, step 6"):
        clf.predict(X, times=holes)
    with pytest.raises(ValueError, match="gives 11 stamps for series 0, which has 12"):
        clf.predict(X, times=[t[:-1] for t in times])
    with pytest.raises(ValueError, match=r"times has shape \(12,\)"):
        clf.predict(X, times=times[0])
    unequal = [x[:, :11] if i == 0 else x for i, x in enumerate(X)]
    with pytest.raises(ValueError, match="2-D"):
        clf.predict(unequal, times=times[0])
    with pytest.raises(TypeError, match="datetime64"):
        clf.predict(X, times=times.astype(str))


def test_nan_times_only_after_a_series_end(fitted):
    clf, X, _, times = fitted
    X_short, times_short = X.copy(), times.copy()
    X_short[0, :, 9:] = np.nan  # series 0 ends after 9 steps: its stamps there are ignored
    times_short[0, 9:] = [np.nan, -5.0, np.nan]
    clf.predict(X_short, times=times_short)
    X_short[0, 0, 10] = 1.0  # a value at step 10: it needs a stamp
    with pytest.raises(ValueError, match="series 0, step 9"):
        clf.predict(X_short, times=times_short)


def test_warm_start_and_partial_fit_keep_the_first_fit():
    X, y, times = irregular()
    clf = LiquidS4Classifier(**FAST, warm_start=True).fit(X, y, times=times)
    clf.fit(X, y, times=times)
    with pytest.raises(ValueError, match="fitted with times"):
        clf.fit(X, y)
    clf.set_params(time_unit=5.0)
    with pytest.raises(ValueError, match="time_unit"):
        clf.fit(X, y, times=times)
    partial = LiquidS4Classifier(**FAST).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="fitted without them"):
        partial.partial_fit(X, y, times=times)


def test_onnx_export_refuses_irregular_models(fitted, tmp_path):
    with pytest.raises(ValueError, match=r"irregular sampling.*does not export"):
        sslearn.export_onnx(fitted[0], tmp_path / "model.onnx")


# -- routing, persistence ------------------------------------------------------------------


def test_metadata_routing_in_pipelines_and_searches():
    X, y, times = irregular(n=32)
    rows = list(times)  # a list of per-series arrays is split by scikit-learn too
    with sklearn.config_context(enable_metadata_routing=True):
        clf = LiquidS4Classifier(**FAST).set_fit_request(times=True)
        clf = clf.set_predict_request(times=True).set_score_request(times=True)
        pipe = make_pipeline(clf).fit(X, y, times=times)
        assert pipe.predict(X, times=times).shape == (32,)
        assert 0 <= pipe.score(X, y, times=times) <= 1
        scores = cross_validate(clf, X, y, params={"times": rows}, cv=2)["test_score"]
        assert len(scores) == 2
        search = GridSearchCV(clf, {"d_state": [2, 4]}, cv=2).fit(X, y, times=times)
        assert search.best_estimator_.uses_times_
        # a search's own predict takes X only: predict with its best estimator
        assert search.best_estimator_.predict(X, times=times).shape == (32,)


def test_save_load_and_pickle_round_trip(fitted, tmp_path):
    clf, X, _, times = fitted
    expected = clf.predict_proba(X, times=times)
    sslearn.save(clf, tmp_path / "model.sslearn")
    loaded = sslearn.load(tmp_path / "model.sslearn")
    assert loaded.uses_times_ and loaded.time_unit_ == clf.time_unit_
    np.testing.assert_array_equal(loaded.predict_proba(X, times=times), expected)
    with pytest.raises(ValueError, match="fitted with times"):
        loaded.predict(X)
    unpickled = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(unpickled.predict_proba(X, times=times), expected)


# -- streams -------------------------------------------------------------------------------


def test_stream_equals_predict_on_the_prefix():
    X, y, times = irregular()
    clf = LiquidS4Classifier(**FAST, bidirectional=False).fit(X, y, times=times)
    X_new, _, t_new = irregular(n=5, seed=3)
    stream, end = clf.stream(), 0
    for size in (1, 3, 2, 6):
        stream.update(X_new[:, :, end : end + size], times=t_new[:, end : end + size])
        end += size
        np.testing.assert_allclose(
            stream.predict_proba(),
            clf.predict_proba(X_new[:, :, :end], times=t_new[:, :end]),
            rtol=1e-4,
            atol=1e-6,
        )
    assert stream.n_steps == 12


def test_stream_times_errors():
    X, y, times = irregular()
    clf = LiquidS4Classifier(**FAST, bidirectional=False).fit(X, y, times=times)
    stream = clf.stream()
    with pytest.raises(ValueError, match="update\\(X_new, times=\\.\\.\\.\\)"):
        stream.update(X[:2, :, :1])
    stream.update(X[:2, :, :2], times=[[0.0, 1.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="after the last stamp"):
        stream.update(X[:2, :, :1], times=[[1.0], [3.0]])
    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        stream.update(X[:2, :, :1], times=[5.0, 6.0])
    stream.update(X[:2, :, :1], times=[5.0])  # 1-D: one stamp shared by every series
    plain = LiquidS4Classifier(**FAST, bidirectional=False).fit(X, y).stream()
    with pytest.raises(ValueError, match="fitted without them"):
        plain.update(X[:2, :, :1], times=[[0.0], [0.0]])


# -- long frames ---------------------------------------------------------------------------


def test_long_frames_keep_their_time_column():
    rng = np.random.RandomState(0)
    n_rows = rng.randint(5, 9, size=16)
    long = pd.DataFrame(
        {
            "id": np.repeat(np.arange(16), n_rows),
            "time": np.concatenate([np.cumsum(rng.uniform(0.1, 3.0, n)) for n in n_rows]),
            "x": rng.randn(n_rows.sum()),
        }
    )
    rows, times = from_long(long, return_times=True)
    y = np.arange(16) % 2
    clf = LiquidS4Classifier(**FAST).fit(rows, y, times=times)
    assert clf.predict(rows, times=times).shape == (16,)
    with pytest.raises(ValueError, match="gives 4 stamps for series 0"):
        clf.predict(rows, times=[t[:4] for t in times])


# -- the user guide ------------------------------------------------------------------------


def test_the_user_guide_example_runs():
    """Every ``python`` block of docs/user_guide/irregular.md, in order, in one namespace."""
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    assert blocks
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
