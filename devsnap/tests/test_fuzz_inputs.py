"""Property-based fuzzing of the estimators' door (hypothesis).

Every generated input either works or is refused with a ValueError / TypeError that has a
message and is raised on purpose by sslearn's or scikit-learn's validation, never an
IndexError, KeyError, AttributeError or RuntimeError from inside, nor a numpy / pandas /
torch error passed through. The user's arrays, frames and lists are never modified.

Inputs vary in container (2-D / 3-D arrays, lists of unequal-length series, wide, MultiIndex
and nested DataFrames, lists of DataFrames), dtype (floats, ints, bools, objects, strings,
complex), shape (0 or 1 series, channel or time point), NaN / inf pattern, labels and sample
weights. Fits are tiny and run on one CPU thread.
"""

import copy
import importlib.util
import os
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, Phase, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.data import Panel, to_panel

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = {
    "d_model": 4,
    "n_layers": 1,
    "d_state": 2,
    "max_epochs": 1,
    "batch_size": 8,
    "early_stopping": False,
    "device": "cpu",
    "random_state": 0,
}
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLEAR = (ValueError, TypeError)
# where a deliberate error may be raised: sslearn's and scikit-learn's validation code
DOORS = (os.sep + "sslearn" + os.sep, os.sep + "sklearn" + os.sep)

SKTIME = importlib.util.find_spec("sktime") is not None
CONTAINERS = [
    "array3d",
    "array2d",
    "nested_list",
    "series_list",
    "frame_list",
    "wide_frame",
    "nested_frame",
    *(["multiindex_frame"] if SKTIME else []),
]
CLEAN_DTYPES = ["float64", "float32", "int64", "object"]
BAD_DTYPES = ["bool", "str", "complex"]
CLEAN_PATTERNS = ["none", "missing", "padding"]
BAD_PATTERNS = ["empty_series", "all_nan", "inf", "huge"]


# -- inputs ----------------------------------------------------------------------------------


def choice(draw, clean, good, bad):
    """One of ``good`` for clean input, else one of ``good`` and ``bad``."""
    return draw(st.sampled_from(good if clean else good + bad))


@st.composite
def arrays(draw, clean=None):
    """A (n_series, n_channels, n_timepoints) array of a drawn dtype and NaN / inf pattern.

    Clean arrays should fit; the others may hold any fault. ``clean=None``: half and half.
    """
    clean = draw(st.booleans()) if clean is None else clean
    n = choice(draw, clean, [2, 3, 6], [0, 1])
    n_channels = choice(draw, clean, [1, 2], [0])
    length = choice(draw, clean, [1, 2, 5], [0])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.normal(size=(n, n_channels, length))
    pattern = choice(draw, clean, CLEAN_PATTERNS, BAD_PATTERNS)
    if x.size:
        if pattern == "missing":
            x[rng.random(x.shape) < 0.2] = np.nan
        elif pattern == "padding":
            x[0, :, length // 2 + 1 :] = np.nan
        elif pattern == "empty_series":
            x[-1] = np.nan
        elif pattern == "all_nan":
            x[:] = np.nan
        elif pattern == "inf":
            x.flat[rng.integers(x.size)] = draw(st.sampled_from([np.inf, -np.inf]))
        elif pattern == "huge":
            x.flat[rng.integers(x.size)] = 1e300
    dtype = choice(draw, clean, CLEAN_DTYPES, BAD_DTYPES)
    with np.errstate(invalid="ignore", over="ignore"):
        if dtype == "int64":
            x = np.nan_to_num(x * 10, posinf=0, neginf=0).astype(np.int64)
        elif dtype == "bool":
            x = np.nan_to_num(x) > 0
        elif dtype == "object":
            x = x.astype(object)
        elif dtype == "str":
            x = x.astype(str)
        elif dtype == "complex":
            x = x + 1j
        else:
            x = x.astype(dtype)
    return x


def contain(x, container, rng):
    """``x`` (n, C, L) in one of the containers users hand over."""
    n, n_channels, length = x.shape
    if container == "array3d":
        return x
    if container == "array2d":
        return x.reshape(n, n_channels * length)
    if container in ("nested_list", "series_list", "frame_list"):
        lengths = rng.integers(1, length + 1, size=n) if length else np.zeros(n, dtype=int)
        series = [x[i, :, : lengths[i]] for i in range(n)]
        if container == "series_list":
            return [pd.Series(s[0]) if n_channels == 1 else s for s in series]
        if container == "frame_list":
            return [pd.DataFrame(s.T, columns=[f"c{j}" for j in range(n_channels)]) for s in series]
        return [s[0] if n_channels == 1 else s for s in series]
    if container == "wide_frame":
        return pd.DataFrame(x.reshape(n, n_channels * length))
    if container == "nested_frame":
        cells = {f"c{j}": [pd.Series(x[i, j]) for i in range(n)] for j in range(n_channels)}
        return pd.DataFrame(cells, index=range(n))
    index = pd.MultiIndex.from_product([range(n), range(length)], names=["instance", "time"])
    values = x.transpose(0, 2, 1).reshape(n * length, n_channels)
    return pd.DataFrame(values, index=index, columns=[f"c{j}" for j in range(n_channels)])


@st.composite
def inputs(draw, clean=None):
    """(X in a drawn container, its number of series)."""
    x = draw(arrays(clean))
    container = draw(st.sampled_from(CONTAINERS))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return contain(x, container, rng), x.shape[0]


def class_labels(n, kind, rng):
    if kind == "int":
        return np.arange(n) % 2
    if kind == "str":
        return np.array(["cat", "dog", "eel"])[np.arange(n) % 3]
    if kind == "float":
        return (np.arange(n) % 2).astype(float) + 1.0
    if kind == "continuous":
        return rng.normal(size=n)
    if kind == "one_class":
        return np.zeros(n, dtype=int)
    if kind == "bool":
        return np.arange(n) % 2 == 0
    if kind == "mixed":
        return np.array([1, "a"] * n, dtype=object)[:n]
    if kind == "nan":
        return np.where(np.arange(n) % 2, 1.0, np.nan)
    if kind == "2d":
        return np.stack([np.arange(n) % 2] * 2, axis=1)
    if kind == "short":
        return np.arange(max(n - 1, 0)) % 2
    return list(np.arange(n) % 2)  # "list"


CLASS_LABELS = ["int", "str", "float", "bool", "list"]
BAD_CLASS_LABELS = ["continuous", "one_class", "mixed", "nan", "2d", "short"]


def targets(n, kind, rng):
    if kind == "float":
        return rng.normal(size=n)
    if kind == "int":
        return np.arange(n)
    if kind == "nan":
        return np.where(np.arange(n) % 2, 1.0, np.nan)
    if kind == "inf":
        return np.where(np.arange(n) % 2, 1.0, np.inf)
    if kind == "huge":
        return np.where(np.arange(n) % 2, 1.0, 1e300)
    if kind == "extreme":
        return np.where(np.arange(n) % 2, -1e308, 1e308)
    if kind == "constant":
        return np.ones(n)
    if kind == "2d":
        return rng.normal(size=(n, 2))
    if kind == "str":
        return np.array(["a"] * n)
    return rng.normal(size=max(n - 1, 0))  # "short"


TARGETS = ["float", "int", "constant", "2d"]
BAD_TARGETS = ["nan", "inf", "huge", "extreme", "str", "short"]


def sample_weights(n, kind):
    return {
        "none": None,
        "ones": np.ones(n),
        "zeros": np.zeros(n),
        "negative": -np.ones(n),
        "nan": np.full(n, np.nan),
        "short": np.ones(max(n - 1, 0)),
        "one_positive": np.eye(1, n).ravel(),
    }[kind]


WEIGHTS = ["none", "ones"]
BAD_WEIGHTS = ["zeros", "negative", "nan", "short", "one_positive"]


# -- the property ------------------------------------------------------------------------------


def assert_same(a, b):
    """``a`` and ``b`` are equal containers of equal values (NaN equal to NaN)."""
    assert type(a) is type(b)
    if a is b:  # None, pd.NA
        return
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, Panel):
        for name in ("values", "lengths", "missing", "channel_names"):
            assert_same(getattr(a, name), getattr(b, name))
    elif isinstance(a, pd.DataFrame):
        assert a.index.equals(b.index) and a.columns.equals(b.columns)
        assert list(a.dtypes) == list(b.dtypes)
        for column in a.columns:
            assert_same(a[column].to_numpy(), b[column].to_numpy())
    elif isinstance(a, pd.Series):
        assert a.index.equals(b.index) and a.dtype == b.dtype
        assert_same(a.to_numpy(), b.to_numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            for u, v in zip(a.flat, b.flat, strict=True):
                assert_same(u, v)
        else:
            np.testing.assert_array_equal(a, b)
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            assert_same(u, v)
    else:
        assert a == b or (a != a and b != b)  # NaN


def assert_clear(error):
    """A deliberate, explained refusal: raised by validation code, with a message."""
    assert str(error).strip(), f"{type(error).__name__} without a message"
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    where = frame.tb_frame.f_code.co_filename
    assert any(door in where for door in DOORS), (
        f"{type(error).__name__}({error}) was raised in {where}, not by validation code"
    )


def run(action, *arguments):
    """``action(*arguments)``: its result, or None when it refused the input clearly.

    Anything but a clear ValueError / TypeError fails the test, and so does any change to
    the arguments.
    """
    before = copy.deepcopy(arguments)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = action(*arguments)
    except CLEAR as error:
        assert_clear(error)
        outcome = f"refused: {type(error).__name__}: {str(error)[:40]}".replace("\n", " ")
        result = None
    else:
        outcome = "works"
    if currently_in_test_context():  # tallied by --hypothesis-show-statistics
        event(outcome)
    for original, argument in zip(before, arguments, strict=True):
        assert_same(original, argument)
    return result


def fit_predict(estimator):
    def action(X, y, sample_weight):
        return estimator.fit(X, y, sample_weight=sample_weight).predict(X)

    return action


def check_outputs(outputs, n):
    if outputs is not None:
        assert len(outputs) == n
        if outputs.dtype.kind == "f":
            assert np.isfinite(outputs).all()


# -- the fuzz tests --------------------------------------------------------------------------


@settings(FUZZ, max_examples=400)
@given(inputs())
def test_to_panel(data):
    """The data floor alone: a Panel that keeps its invariants, or a clear refusal."""
    X, n = data
    panel = run(to_panel, X)
    if panel is not None:
        assert panel.n_samples == n
        assert np.isfinite(panel.values).all()
        assert (panel.lengths >= 1).all() and panel.lengths.max() == panel.max_length
        assert not (panel.values[panel.missing] != 0).any()


@st.composite
def fit_cases(draw, good_labels, bad_labels):
    """(X, n, label kind, weight kind, class_weight kind) with at most one faulty part."""
    fault = draw(st.sampled_from(["none", "X", "y", "sample_weight", "class_weight"]))
    X, n = draw(inputs(clean=fault != "X"))
    labels = draw(st.sampled_from(bad_labels if fault == "y" else good_labels))
    weights = draw(st.sampled_from(BAD_WEIGHTS if fault == "sample_weight" else WEIGHTS))
    class_weight = "unknown" if fault == "class_weight" else draw(st.sampled_from(CLASS_WEIGHTS))
    return X, n, labels, weights, class_weight


CLASS_WEIGHTS = [None, "balanced", "known"]


def class_weights(kind, y):
    """None, "balanced", or a dict whose key is a label of ``y`` ("known") or not."""
    if kind in (None, "balanced"):
        return kind
    labels = pd.unique(y).tolist() if isinstance(y, np.ndarray) and y.ndim == 1 else []
    weights = {label: 2.0 for label in labels[:1]}
    if kind == "unknown" or not weights:
        weights["not a class"] = 3.0
    return weights


@settings(FUZZ, max_examples=200)
@given(fit_cases(CLASS_LABELS, BAD_CLASS_LABELS), st.integers(0, 2**16))
def test_classifier_fit_predict(case, seed):
    X, n, labels, weights, class_weight = case
    y = class_labels(n, labels, np.random.default_rng(seed))
    estimator = LiquidS4Classifier(**FAST, class_weight=class_weights(class_weight, y))
    check_outputs(run(fit_predict(estimator), X, y, sample_weights(n, weights)), n)


@settings(FUZZ, max_examples=150)
@given(fit_cases(TARGETS, BAD_TARGETS), st.integers(0, 2**16))
def test_regressor_fit_predict(case, seed):
    X, n, kind, weights, _ = case
    y = targets(n, kind, np.random.default_rng(seed))
    estimator = LiquidS4Regressor(**FAST)
    check_outputs(run(fit_predict(estimator), X, y, sample_weights(n, weights)), n)


@pytest.fixture(scope="module")
def fitted():
    """Models fitted on univariate series: as a 3-D array, as a table, with missing values."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 1, 5))
    y = np.arange(8) % 2
    gappy = X.copy()
    gappy[0, 0, 2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            LiquidS4Classifier(**FAST).fit(X, y),
            LiquidS4Classifier(**FAST, missing_at_predict="error").fit(X, y),
            LiquidS4Regressor(**FAST).fit(X[:, 0], y.astype(float)),
            LiquidS4Regressor(**FAST).fit(gappy, y.astype(float)),
        ]


@settings(FUZZ, max_examples=250)
@given(inputs(), st.integers(0, 3), st.sampled_from(["predict", "predict_proba"]))
def test_predict(fitted, data, which, method):
    """Prediction on anything, by models fitted on clean univariate series."""
    X, n = data
    estimator = fitted[which]
    predict = getattr(estimator, method, estimator.predict)
    check_outputs(run(predict, X), n)


def odd_inputs():
    """Inputs a generator of arrays would not produce: odd types, indexes and cells."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 2, 5))
    flat = pd.DataFrame(x[:, 0])
    index = pd.MultiIndex.from_product([range(4), range(5)], names=["instance", "time"])
    panel = pd.DataFrame(x.transpose(0, 2, 1).reshape(20, 2), index=index, columns=["a", "b"])
    repeated_time = pd.MultiIndex.from_arrays([np.repeat(range(4), 5), [0, 0, 1, 2, 3] * 4])
    text_time = pd.MultiIndex.from_arrays([np.repeat(range(4), 5), list("abcde") * 4])
    with_na = flat.astype(object).where(flat > -1, pd.NA)
    two_levels = pd.MultiIndex.from_tuples([("a", 1), ("a", 2)])
    return {
        "None": None,
        "scalar": 3.0,
        "string": "abc",
        "dict": {"a": [1, 2]},
        "set": {1, 2},
        "pd.Series": pd.Series(np.ones(4)),
        "1-D array": np.ones(4),
        "4-D array": np.ones((4, 1, 2, 3)),
        "ragged lists": [[1.0, 2.0], [3.0], [4.0, 5.0, 6.0], [7.0]],
        "arrays and numbers": [np.ones(3), 5, np.ones(2), 1],
        "lists of strings": [["a", "b"]] * 4,
        "torch tensor": torch.ones(4, 2, 5),
        "torch tensors of unequal length": [torch.ones(k) for k in (3, 2, 4, 5)],
        "np.matrix": np.matrix(np.ones((4, 3))),
        "masked array": np.ma.masked_array(x, mask=x > 1),
        "float16": x.astype(np.float16),
        "uint8": (x > 0).astype(np.uint8),
        "datetime64 array": np.full((4, 5), np.datetime64("2020-01-01")),
        "object array of arrays": np.array([np.ones(k) for k in (3, 2, 4, 1)], dtype=object),
        "list of 3-D arrays": [np.ones((1, 2, 3))] * 4,
        "list of empty frames": [pd.DataFrame()] * 4,
        "frames of other columns": [pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]})] * 2,
        "repeated column names": pd.DataFrame(np.ones((4, 3)), columns=["a", "a", "b"]),
        "MultiIndex columns": pd.DataFrame(np.ones((4, 2)), columns=two_levels),
        "categorical column": flat.assign(c=pd.Categorical(["u", "v"] * 2)),
        "timedelta column": flat.assign(d=pd.to_timedelta(range(4), unit="s")),
        "pd.NA in object columns": with_na,
        "nullable Float64": flat.astype("Float64"),
        "string index": flat.set_axis(list("abcd")),
        "long frame": pd.DataFrame(
            {"id": np.repeat(range(4), 5), "time": list(range(5)) * 4, "v": x[:, 0].ravel()}
        ),
        "MultiIndex of 3 levels": pd.DataFrame(
            np.ones((8, 1)), index=pd.MultiIndex.from_product([range(4), range(1), range(2)])
        ),
        "MultiIndex with repeated times": panel.set_axis(repeated_time),
        "MultiIndex with text times": panel.set_axis(text_time),
        "MultiIndex of object numbers": panel.astype(object),
        "MultiIndex with a text column": panel.assign(a="x"),
        "nested: a number cell": pd.DataFrame({"a": [pd.Series([1.0, 2.0]), 3.0] * 2}),
        "nested: list cells": pd.DataFrame({"a": [[1.0, 2.0], [3.0]] * 2}),
        "nested: 2-D cells": pd.DataFrame({"a": [np.ones((2, 2))] * 4}),
        "nested: text series": pd.DataFrame({"a": [pd.Series(["x", "y"])] * 4}),
        "nested: empty series": pd.DataFrame({"a": [pd.Series([], dtype=float)] * 4}),
        "overflows float32": x * 1e39,
        "subnormal": x * 1e-310,
        "Panel": to_panel(x),
    }


ODD = odd_inputs()


@pytest.mark.parametrize("Estimator", [LiquidS4Classifier, LiquidS4Regressor])
@pytest.mark.parametrize("name", list(ODD))
def test_odd_inputs(Estimator, name):
    y = np.array([0, 1, 0, 1]) if Estimator is LiquidS4Classifier else np.arange(4.0)
    X = ODD[name]
    outputs = run(fit_predict(Estimator(**FAST)), X, y, None)
    if outputs is not None:
        check_outputs(outputs, 4)
