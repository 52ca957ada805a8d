"""Bad input is refused at the door with messages that say what to change."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV, cross_val_score

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn._validation import input_layout, shape_hint
from sslearn.data import from_long, to_panel

from ._toy import TINY, sines

X, Y = sines(n=20)
ESTIMATORS = [LiquidS4Classifier, LiquidS4Regressor]


def bad_X():
    inf = X.copy()
    inf[0, 0, 0] = np.inf
    all_nan = X.copy()
    all_nan[3] = np.nan
    strings = X[:, 0].astype(str)
    strings[0, 0] = "x"
    return [
        (inf, ValueError, "infinity"),
        (all_nan, ValueError, "NaN"),
        (X[:0], ValueError, "0 sample"),
        (X[:, :0], ValueError, "0 channel"),
        (X[:, 0, :0], ValueError, "0 feature"),
        (X[:, :, :0], ValueError, "0 timepoint"),
        (X[0, 0], ValueError, "Reshape your data"),
        (X[:, :, :, None], ValueError, "4-D"),
        (X + 1j, ValueError, "Complex data not supported"),
        (strings, ValueError, "could not convert"),
        (sp.csr_matrix(X[:, 0]), TypeError, "[Ss]parse"),
    ]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(("X_bad", "error", "match"), bad_X())
def test_bad_X(Estimator, X_bad, error, match):
    with pytest.raises(error, match=match):
        Estimator(**TINY).fit(X_bad, Y[: len(X_bad)] if len(X_bad) else Y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_one_sample(Estimator):
    with pytest.raises(ValueError, match=r"1 sample|1 class"):
        Estimator(**TINY).fit(X[:1], Y[:1])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_length_mismatch(Estimator):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Estimator(**TINY).fit(X, Y[:-1])


def test_nan_in_y():
    y = Y.astype(float)
    y[2] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        LiquidS4Classifier(**TINY).fit(X, y)


def test_continuous_y_for_classifier():
    with pytest.raises(ValueError, match="Unknown label type"):
        LiquidS4Classifier(**TINY).fit(X, np.linspace(0, 1, 20))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_channel_count_at_predict(Estimator):
    est = Estimator(**{**TINY, "max_epochs": 1}).fit(X, Y)
    with pytest.raises(ValueError, match=r"X has 1 features, but .* expecting 2"):
        est.predict(X[:, :1])
    with pytest.raises(ValueError, match=r"X has 3 channels, but .* expecting 2 channels"):
        est.predict([np.zeros((3, 5)), np.zeros((3, 7))])


def test_two_d_input_fixes_the_number_of_time_points():
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}).fit(X[:, 0], Y)
    assert clf.n_features_in_ == X.shape[2]
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, 0, :10])
    # 3-D input and lists are read by channel, so other lengths are fine
    assert clf.predict(X[:, :1, :10]).shape == (20,)
    assert clf.predict([np.ones(7), np.ones(30)]).shape == (2,)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"ssm": "s5"}, "ssm"),
        ({"liquid_kernel": "fast"}, "liquid_kernel"),
        ({"init": "random"}, "init"),
        ({"ssm": "dplr", "init": "lin"}, "init"),
        ({"d_model": 0}, "d_model"),
        ({"n_layers": -1}, "n_layers"),
        ({"d_state": 5}, "d_state"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"lr": 0.0}, "lr"),
        ({"dropout": 1.0}, "dropout"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"precision": "fp8"}, "precision"),
        ({"scheduler": "linear"}, "scheduler"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_hyper_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        LiquidS4Classifier(**{**TINY, **params}).fit(X, Y)


def test_bad_class_weight():
    with pytest.raises(ValueError, match="class_weight"):
        LiquidS4Classifier(**TINY, class_weight="auto").fit(X, Y)


def test_input_layouts():
    assert input_layout(X)[0] == "table3d"
    assert input_layout(X[:, 0])[0] == "table2d"
    assert input_layout(X.tolist())[0] == "table3d"
    assert input_layout([np.ones(3), np.ones(4)])[0] == "panel"
    assert input_layout([np.ones((2, 3)), np.ones((2, 3))])[0] == "table3d"
    assert input_layout(to_panel(X))[0] == "panel"
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}).fit(to_panel(X), Y)
    assert clf.n_features_in_ == 2


# -- hints that name a shape mistake -------------------------------------------------------

SWAPPED = r"X looks like \(n_samples, n_timepoints, n_channels\)"
BATCH_AXIS = r"add a batch axis: X\[None\]"


@pytest.fixture(scope="module")
def fitted():
    """A classifier and a regressor fitted on X: 2 channels, 24 time points."""
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}).fit(X, Y)
    reg = LiquidS4Regressor(**{**TINY, "max_epochs": 1}).fit(X, Y.astype(float))
    return clf, reg


def methods(fitted):
    clf, reg = fitted
    return {
        "predict": clf.predict,
        "predict_proba": clf.predict_proba,
        "decision_function": clf.decision_function,
        "score": lambda X_: clf.score(X_, Y[: len(X_)]),
        "regressor predict": reg.predict,
        "regressor score": lambda X_: reg.score(X_, Y[: len(X_)].astype(float)),
    }


@pytest.mark.parametrize(
    "method",
    [
        "predict",
        "predict_proba",
        "decision_function",
        "score",
        "regressor predict",
        "regressor score",
    ],
)
def test_swapped_axes_are_named(fitted, method):
    call = methods(fitted)[method]
    with pytest.raises(ValueError, match=rf"X has 24 features, .* expecting 2.*{SWAPPED}") as info:
        call(X.transpose(0, 2, 1))
    assert "sslearn expects (n_samples, n_channels, n_timepoints)" in str(info.value)
    assert str(info.value).endswith("pass X.transpose(0, 2, 1).")
    assert np.allclose(call(X.transpose(0, 2, 1).transpose(0, 2, 1)), call(X))  # the fix works


@pytest.mark.parametrize(
    ("shape", "hinted"),
    [
        ((5, 24, 3), True),  # its channel axis has the fitted length
        ((5, 30, 2), True),  # its last axis has the fitted number of channels
        ((5, 30, 3), False),  # neither: nothing suggests a transpose
        ((5, 1, 24), False),  # too few channels, in the right place
    ],
)
def test_swapped_axes_hint_needs_evidence(fitted, shape, hinted):
    with pytest.raises(ValueError, match="features") as info:
        fitted[0].predict(np.zeros(shape))
    assert ("X looks like" in str(info.value)) is hinted


def test_swapped_axes_of_tensors_lists_and_panel_fits(fitted):
    torch = pytest.importorskip("torch")
    swapped = X.transpose(0, 2, 1)
    with pytest.raises(ValueError, match=rf"{SWAPPED}.*pass X\.transpose\(1, 2\)\."):
        fitted[0].predict(torch.tensor(swapped))
    with pytest.raises(ValueError, match=rf"{SWAPPED}.*np\.transpose\(X, \(0, 2, 1\)\)"):
        fitted[0].predict(swapped.tolist())
    on_panel = LiquidS4Classifier(**{**TINY, "max_epochs": 1}).fit(to_panel(X), Y)
    with pytest.raises(ValueError, match=rf"X has 24 channels, but .* expecting 2.*{SWAPPED}"):
        on_panel.predict(swapped)


def test_a_single_series_names_the_batch_axis(fitted):
    clf = fitted[0]
    with pytest.raises(ValueError, match=rf"X has 1 channels.*\(2, 24\).*{BATCH_AXIS}"):
        clf.predict(X[0])  # (n_channels, n_timepoints): read as 2 univariate series
    assert clf.predict(X[0][None]).tolist() == clf.predict(X[:1]).tolist()
    with pytest.raises(ValueError, match=r"\(n_timepoints, n_channels\).*pass X\.T\[None\]"):
        clf.predict(X[0].T)
    assert clf.predict(X[0].T.T[None]).shape == (1,)


def test_a_single_univariate_series_names_the_batch_axis():
    univariate = LiquidS4Regressor(**{**TINY, "max_epochs": 1}).fit(X[:, 0], Y.astype(float))
    with pytest.raises(ValueError, match=rf"Reshape your data.*24 time points; {BATCH_AXIS}"):
        univariate.predict(X[0, 0])
    with pytest.raises(ValueError, match=r"add a batch axis: np\.asarray\(X\)\[None\]"):
        univariate.predict(X[0, 0].tolist())
    assert univariate.predict(X[0, 0][None]).shape == (1,)
    assert univariate.predict(X[:, 0]).shape == (20,)  # 2-D input still means n series


def test_no_hint_without_evidence_or_for_frames(fitted):
    clf = fitted[0]
    with pytest.raises(ValueError) as info:
        clf.predict(pd.DataFrame(X[0]))  # a wide frame of 2 univariate series
    assert "looks like" not in str(info.value)
    assert shape_hint(X.transpose(0, 2, 1), None, None) == ""  # not fitted
    assert shape_hint(X[0, 0], 2, 24) == ""  # a 1-D array cannot be one 2-channel series


def test_fit_warns_when_the_channel_axis_dwarfs_the_time_axis():
    rng, y = np.random.default_rng(0), np.arange(4.0)
    with pytest.warns(UserWarning, match=r"128 channels of 8 time points.*transpose\(0, 2, 1\)"):
        reg = LiquidS4Regressor(**{**TINY, "max_epochs": 1}).fit(
            rng.normal(size=(4, 128, 8)), Y[:4]
        )
    assert reg.n_channels_ == 128  # accepted as given
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LiquidS4Regressor(**{**TINY, "max_epochs": 1}).fit(rng.normal(size=(4, 40, 8)), y)


# -- class_weight ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "class_weight", "unknown"),
    [
        (Y, {0: 1.0, 5: 2.0}, r"\[5\]"),
        (np.array(["a", "b"])[Y], {"a": 1.0, "c": 2.0, "d": 3.0}, r"\['c', 'd'\]"),
        (np.array(["a", "b"])[Y], {0: 1.0}, r"\[0\]"),  # indices are not labels
    ],
)
def test_class_weight_keys_must_be_classes(y, class_weight, unknown):
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}, class_weight=class_weight)
    with pytest.raises(ValueError, match=rf"class_weight has key\(s\) {unknown}.*classes are"):
        clf.fit(X, y)


def test_class_weight_keys_may_be_classes_missing_from_a_partial_fit_batch():
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}, class_weight={0: 1.0, 2: 3.0})
    clf.partial_fit(X, Y, classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"key\(s\) \[7\]"):
        clf.set_params(class_weight={7: 1.0}).partial_fit(X, Y)


# -- long frames --------------------------------------------------------------------------


def long_frame(**columns):
    n, length = X.shape[0], X.shape[2]
    frame = pd.DataFrame(
        {"id": np.repeat(np.arange(n), length), "time": np.tile(np.arange(length), n)}
    )
    return frame.assign(value=X[:, 0].ravel(), **columns)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "frame",
    [
        long_frame(),
        long_frame().drop(columns="time"),  # ids alone
        long_frame().drop(columns="id"),  # time steps alone
        long_frame().rename(columns={"id": "patient_id", "time": "Timestamp"}),
        long_frame(id=lambda df: "s" + df["id"].astype(str)).rename(columns={"id": "name"}),
        long_frame(time=pd.Timestamp("2024-01-01") + pd.to_timedelta(long_frame()["time"], "h")),
    ],
    ids=["id+time", "id", "time", "other names", "text ids", "datetimes"],
)
def test_long_frame_is_refused_with_from_long(Estimator, frame):
    rows = np.arange(len(frame)) % 2
    with pytest.raises(ValueError, match=r"long-format DataFrame.*sslearn\.data\.from_long\("):
        Estimator(**{**TINY, "max_epochs": 1}).fit(frame, rows)
    fitted = Estimator(**{**TINY, "max_epochs": 1}).fit(X[:, :1], Y)
    with pytest.raises(ValueError, match=r"sslearn\.data\.from_long\("):
        fitted.predict(frame)


def test_long_frame_message_names_the_columns():
    with pytest.raises(ValueError) as info:
        LiquidS4Classifier(**TINY).fit(long_frame(), np.zeros(len(long_frame())))
    assert "from_long(X, id_col='id', time_col='time')" in str(info.value)
    assert "long_targets(X, id_col='id', target_col=...)" in str(info.value)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(np.round(X[:, 0] * 3).astype(int)),  # integer values that repeat
        pd.DataFrame(np.round(X[:, 0] * 3), columns=[f"t{k}" for k in range(X.shape[2])]),
        pd.DataFrame(X[:, 0], columns=[str(k) for k in range(X.shape[2])]),
        pd.DataFrame(np.sort(X[:, 0], axis=0)),  # monotonic columns
        pd.DataFrame(X[:, 0]).set_axis(pd.date_range("2024", periods=len(X))),  # time index
    ],
    ids=["int values", "t-named columns", "digit names", "sorted columns", "datetime index"],
)
def test_wide_frames_are_not_mistaken_for_long(frame):
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}).fit(frame, Y)
    assert clf.predict(frame).shape == (len(Y),)


def test_an_id_column_in_a_wide_frame_is_refused():
    frame = pd.DataFrame(X[:, 0]).assign(subject=np.arange(len(X)))
    with pytest.raises(ValueError, match=r"\['subject'\] look like series ids.*set_index"):
        LiquidS4Classifier(**TINY).fit(frame, Y)


# -- MultiIndex panels and scikit-learn model selection -----------------------------------


def multiindex_frame():
    n, n_channels, length = X.shape
    index = pd.MultiIndex.from_product([range(n), range(length)], names=["case", "hour"])
    values = X.transpose(0, 2, 1).reshape(n * length, n_channels)
    return pd.DataFrame(values, index=index, columns=["a", "b"])


CUT = (
    r"pd-multiindex.*split X by rows"
    r".*from_long\(X\.reset_index\(\), id_col='case', time_col='hour'\)"
)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_multiindex_frame_with_a_label_per_row_is_refused(Estimator):
    frame = multiindex_frame()
    per_row = np.repeat(Y, X.shape[2])
    with pytest.raises(ValueError, match=r"20 series in 480 rows.*480 labels \(one per row\)"):
        Estimator(**TINY).fit(frame, per_row)
    with pytest.raises(ValueError, match=r"5 series in 100 rows.*split X by rows"):
        Estimator(**TINY).fit(frame.iloc[:100], per_row[:100])  # a split cutting instance 4


def test_model_selection_on_a_multiindex_frame_names_the_conversion():
    frame = multiindex_frame()
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1})
    per_row = np.repeat(Y, X.shape[2])
    with pytest.raises(ValueError, match=CUT):
        cross_val_score(clf, frame, per_row, cv=3, error_score="raise")
    with pytest.raises(ValueError, match=CUT):
        GridSearchCV(clf, {"lr": [1e-2]}, cv=3, error_score="raise").fit(frame, per_row)
    # one label per series: scikit-learn counts rows and refuses before fit is called
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[480, 20\]"):
        cross_val_score(clf, frame, Y, cv=3)
    # what the message says to do works
    rows = from_long(frame.reset_index(), id_col="case", time_col="hour")
    assert np.isfinite(cross_val_score(clf, rows, Y, cv=2)).all()
    assert np.isfinite(cross_val_score(clf, to_panel(frame).to_numpy(), Y, cv=2)).all()


# -- missing values at predict ------------------------------------------------------------


def with_missing(X_):
    X_ = X_.copy()
    X_[0, 0, 3] = np.nan
    return X_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_missing_values_unseen_in_fit_warn_by_default(Estimator):
    est = Estimator(**{**TINY, "max_epochs": 1}).fit(X, Y)
    assert est.missing_in_fit_ is False
    with pytest.warns(UserWarning, match=r"1 missing value\(s\).*missing_at_predict='ignore'"):
        assert np.isfinite(est.predict(with_missing(X))).all()
    est.set_params(missing_at_predict="error")
    with pytest.raises(ValueError, match="fitted on data without any"):
        est.predict(with_missing(X))
    est.set_params(missing_at_predict="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(with_missing(X))


def test_padding_and_missing_values_seen_in_fit_do_not_warn():
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}, missing_at_predict="error").fit(X, Y)
    padded = X.copy()
    padded[1, :, 20:] = np.nan  # trailing all-NaN steps: a shorter series, not missing values
    clf.predict(padded)
    gappy = LiquidS4Classifier(**{**TINY, "max_epochs": 1}, missing_at_predict="error")
    gappy.fit(with_missing(X), Y)
    assert gappy.missing_in_fit_ is True
    gappy.predict(with_missing(X))


def test_missing_at_predict_is_validated():
    with pytest.raises(ValueError, match="missing_at_predict"):
        LiquidS4Classifier(**TINY, missing_at_predict="raise").fit(X, Y)


# -- found by tests/test_fuzz_inputs.py ---------------------------------------------------


@pytest.mark.parametrize(
    ("X_bad", "error", "match"),
    [
        ([], ValueError, r"0 sample\(s\)"),  # was scikit-learn's "Reshape your data"
        (pd.DataFrame(index=range(20)), ValueError, r"0 feature\(s\)"),  # was numpy's
        (pd.DataFrame(columns=["a"]), ValueError, r"0 sample\(s\)"),
        (pd.DataFrame(X[:, 0]).set_axis(["a"] * 24, axis=1), ValueError, r"repeated column"),
        (X[:, 0].astype("datetime64[s]"), TypeError, "datetime"),  # was read as numbers
        (None, TypeError, "NoneType is not supported"),
        ({"a": X}, TypeError, "dict is not supported"),
    ],
    ids=["empty list", "no columns", "no rows", "repeated columns", "datetimes", "None", "dict"],
)
def test_refusals_found_by_fuzzing(X_bad, error, match):
    with pytest.raises(error, match=match):
        LiquidS4Classifier(**TINY).fit(X_bad, Y)


def test_inputs_found_by_fuzzing_that_now_work():
    import torch

    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1})
    tensors = [torch.tensor(series[:, : 10 + k]) for k, series in enumerate(X)]
    assert clf.fit(tensors, Y).predict(tensors).shape == (20,)  # was a numpy error
    frame = pd.DataFrame(X[:, 0]).astype(object)
    frame.iloc[0, 3] = pd.NA
    assert clf.fit(frame, Y).missing_in_fit_  # pd.NA in object columns: was a pandas error
