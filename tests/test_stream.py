"""Streams (``estimator.stream()``): after every update, the estimator's own predictions on
the prefix seen so far; across cores, liquid kernels, poolings, ensembles, scaling, target
units, missing values and chunk sizes; and the errors."""

import warnings

import numpy as np
import pytest

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn._stream import ClassifierStream, RegressorStream

from ._toy import TINY

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# unidirectional (a stream cannot read backwards), 2 epochs: enough to move every weight
STREAMABLE = {**TINY, "max_epochs": 2, "bidirectional": False, "scale": True}


def tolerance(device="cpu"):
    """float64 on the CPU (as predict), float32 on a GPU."""
    return {"rtol": 1e-9, "atol": 1e-11} if device == "cpu" else {"rtol": 1e-4, "atol": 1e-5}


def training_data(n=24, n_channels=2, length=10, seed=0, n_classes=3):
    rng = np.random.RandomState(seed)
    return rng.randn(n, n_channels, length), np.arange(n) % n_classes


def fresh_series(n=5, n_channels=2, length=9, seed=1):
    """New random series (not zeros, not the training data)."""
    return np.random.RandomState(seed).randn(n, n_channels, length) * 1.5 + 0.3


def check_prefixes(estimator, X, chunks, methods, device="cpu"):
    """Feed X in chunks of the given sizes; after each chunk compare every method of the
    stream to the estimator's on the prefix. Returns the stream."""
    stream = estimator.stream()
    end = 0
    for size in chunks:
        stream.update(X[:, :, end : end + size])
        end += size
        for method in methods:
            expected = getattr(estimator, method)(X[:, :, :end])
            actual = getattr(stream, method)()
            if expected.dtype.kind in "fc":
                np.testing.assert_allclose(actual, expected, **tolerance(device))
            else:
                np.testing.assert_array_equal(actual, expected)
    assert stream.n_steps == end == X.shape[-1]
    return stream


CLASSIFIER_METHODS = ("predict_proba", "decision_function", "predict")


@pytest.mark.parametrize("liquid_kernel", [None, "kb", "pb", "exact"])
@pytest.mark.parametrize("ssm", ["diag", "dplr", "lssl"])
def test_every_core_and_liquid_kernel(ssm, liquid_kernel):
    X, y = training_data()
    clf = LiquidS4Classifier(
        **STREAMABLE, ssm=ssm, liquid_kernel=liquid_kernel, liquid_degree=3
    ).fit(X, y)
    # predict itself fails on one step with liquid_degree=3 (the lagged products assume
    # a series at least liquid_degree - 1 long), hence a first chunk of 2
    check_prefixes(clf, fresh_series(), [2] + [1] * 7, CLASSIFIER_METHODS)


@pytest.mark.parametrize("n_estimators", [1, 3])
@pytest.mark.parametrize("pooling", ["mean", "max", "mean+max", "last"])
def test_every_pooling_and_ensembles(pooling, n_estimators):
    X, y = training_data()
    clf = LiquidS4Classifier(**STREAMABLE, pooling=pooling, n_estimators=n_estimators).fit(X, y)
    check_prefixes(clf, fresh_series(), [1, 2, 1, 3, 2], CLASSIFIER_METHODS)


@pytest.mark.parametrize("params", [{"conv_width": 3}, {"stem_channels": 4, "n_estimators": 2}])
def test_convolutions_stream(params):
    """conv_width > 0 or a (causal) stem: the stream carries each convolution's last inputs
    across updates."""
    X, y = training_data()
    clf = LiquidS4Classifier(**{**STREAMABLE, **params}).fit(X, y)
    check_prefixes(clf, fresh_series(), [1, 2, 1, 3, 2], CLASSIFIER_METHODS)


def test_two_classes_and_temperature():
    X, y = training_data(n=40, n_classes=2)
    clf = LiquidS4Classifier(
        **STREAMABLE, calibration="temperature", early_stopping=True, validation_fraction=0.3
    ).fit(X, y)
    assert clf.temperature_ != 1.0
    stream = check_prefixes(clf, fresh_series(), [4, 5], CLASSIFIER_METHODS)
    assert stream.decision_function().shape == (5,)


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("n_estimators", [1, 2])
@pytest.mark.parametrize("n_outputs", [None, 2])
def test_regressor_in_target_units(scale, n_estimators, n_outputs):
    X, _ = training_data()
    rng = np.random.RandomState(3)
    y = 50.0 + 20.0 * rng.randn(len(X), *(() if n_outputs is None else (n_outputs,)))
    reg = LiquidS4Regressor(
        **{**STREAMABLE, "scale": scale}, n_estimators=n_estimators, ssm="lssl", pooling="last"
    ).fit(X, y)
    stream = check_prefixes(reg, fresh_series(seed=4), [1, 1, 3, 4], ("predict",))
    assert isinstance(stream, RegressorStream)
    assert stream.predict().shape == ((5,) if n_outputs is None else (5, n_outputs))
    assert abs(stream.predict().mean() - 50.0) < 40.0  # in target units, not standardised


def test_input_scaling_is_applied():
    X, y = training_data()
    shifted = 100.0 + 10.0 * X  # far from standardised: the scaler matters
    clf = LiquidS4Classifier(**STREAMABLE).fit(shifted, y)
    assert np.abs(clf.scaler_.mean_ - 100.0).max() < 5.0
    check_prefixes(clf, 100.0 + 10.0 * fresh_series(), [3, 3, 3], ("predict_proba",))


def test_missing_values_with_indicator_channels():
    X, y = training_data()
    X[::3, 0, 2:5] = np.nan  # NaN inside series: the network gets missingness channels
    clf = LiquidS4Classifier(**STREAMABLE).fit(X, y)
    assert clf.network_.config["d_input"] == 2 * clf.n_channels_
    Xt = fresh_series()
    Xt[0, 1, 1] = np.nan
    Xt[2, 0, 4:7] = np.nan
    Xt[:, :, 5] = np.nan  # a step of missing values only, inside the series
    Xt[3, :, 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model has channels for them: no warning
        stream = clf.stream()
        for t in range(Xt.shape[-1]):
            stream.update(Xt[:, :, t : t + 1])
            # predict reads a trailing step without any value as padding; a stream cannot
            observed = ~np.isnan(Xt[:, :, t]).all(axis=1)
            if not observed.any():
                continue
            np.testing.assert_allclose(
                stream.predict_proba()[observed],
                clf.predict_proba(Xt[observed, :, : t + 1]),
                **tolerance(),
            )


def test_missing_values_without_indicator_channels():
    X, y = training_data()
    Xt = fresh_series()
    Xt[1, 0, 2] = np.nan
    warned = LiquidS4Classifier(**STREAMABLE).fit(X, y)
    with pytest.warns(UserWarning, match="missing value"):
        warned.stream().update(Xt)
    with pytest.warns(UserWarning, match="missing value"):
        expected = warned.predict_proba(Xt)
    ignored = LiquidS4Classifier(**STREAMABLE, missing_at_predict="ignore").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stream = ignored.stream().update(Xt[:, :, :4]).update(Xt[:, :, 4:])
    np.testing.assert_allclose(stream.predict_proba(), expected, **tolerance())
    refused = LiquidS4Classifier(**STREAMABLE, missing_at_predict="error").fit(X, y)
    stream = refused.stream()
    with pytest.raises(ValueError, match="missing value"):
        stream.update(Xt)
    assert stream.n_steps == 0  # nothing fed


def test_chunks_equal_single_steps():
    X, y = training_data()
    clf = LiquidS4Classifier(**STREAMABLE, liquid_kernel="exact", n_estimators=2).fit(X, y)
    Xt = fresh_series(length=12)
    steps = clf.stream()
    for t in range(12):
        steps.update(Xt[:, :, t : t + 1])
    chunked = clf.stream().update(Xt[:, :, :5]).update(Xt[:, :, 5:7]).update(Xt[:, :, 7:])
    np.testing.assert_allclose(chunked.predict_proba(), steps.predict_proba(), rtol=1e-12)
    np.testing.assert_allclose(chunked.predict_proba(), clf.predict_proba(Xt), **tolerance())


def test_univariate_two_dimensional_updates():
    rng = np.random.RandomState(0)
    X, y = rng.randn(24, 10), rng.randn(24)  # a 2-D table: univariate series
    reg = LiquidS4Regressor(**STREAMABLE).fit(X, y)
    Xt = rng.randn(4, 7)
    stream = reg.stream(n_series=4)
    for t in range(7):
        stream.update(Xt[:, t : t + 1])  # (n_series, k)
        np.testing.assert_allclose(
            stream.predict(), reg.predict(Xt[:, None, : t + 1]), **tolerance()
        )


def test_stream_keeps_the_model_it_was_opened_with():
    X, y = training_data()
    clf = LiquidS4Classifier(**STREAMABLE).fit(X, y)
    Xt = fresh_series()
    before = clf.predict_proba(Xt)
    stream = clf.stream().update(Xt[:, :, :3])
    clf.set_params(max_epochs=3).fit(100 + X, y)  # new weights and a new scaler_
    stream.update(Xt[:, :, 3:])
    np.testing.assert_allclose(stream.predict_proba(), before, **tolerance())


def test_reset_and_n_series():
    X, y = training_data()
    clf = LiquidS4Classifier(**STREAMABLE).fit(X, y)
    Xt = fresh_series()
    stream = clf.stream()
    assert isinstance(stream, ClassifierStream)
    assert (stream.n_series, stream.n_steps) == (None, 0)
    stream.update(Xt[:, :, :4])
    assert (stream.n_series, stream.n_steps) == (5, 4)
    with pytest.raises(ValueError, match="follows 5"):
        stream.update(Xt[:3, :, 4:])
    stream.reset()
    assert (stream.n_series, stream.n_steps) == (None, 0)
    stream.update(Xt[:3])
    np.testing.assert_allclose(stream.predict_proba(), clf.predict_proba(Xt[:3]), **tolerance())
    fixed = clf.stream(n_series=2)
    with pytest.raises(ValueError, match="follows 2"):
        fixed.update(Xt)


def test_errors():
    X, y = training_data()
    clf = LiquidS4Classifier(**STREAMABLE).fit(X, y)
    stream = clf.stream()
    with pytest.raises(ValueError, match="no time step yet"):
        stream.predict()
    with pytest.raises(ValueError, match="fitted without them"):  # see tests/test_times.py
        stream.update(fresh_series(), times=np.arange(9.0))
    with pytest.raises(ValueError, match=r"expects \(n_series, 2, n_steps\)"):
        stream.update(np.zeros((5, 3, 1)))
    with pytest.raises(ValueError, match="expects"):
        stream.update(np.zeros((5, 4)))  # 2-D only for univariate models
    with pytest.raises(ValueError, match="no time step"):
        stream.update(np.zeros((5, 2, 0)))
    with pytest.raises(ValueError, match="infinity"):
        stream.update(np.full((5, 2, 1), np.inf))
    with pytest.raises(ValueError, match="n_series"):
        clf.stream(n_series=0)
    assert stream.n_steps == 0
    bidirectional = LiquidS4Classifier(**{**STREAMABLE, "bidirectional": True}).fit(X, y)
    with pytest.raises(ValueError, match="bidirectional=False"):
        bidirectional.stream()
    with pytest.raises(Exception, match="not fitted"):
        LiquidS4Regressor().stream()


def test_on_device(device):
    X, y = training_data()
    clf = LiquidS4Classifier(**{**STREAMABLE, "device": device}, liquid_kernel="kb").fit(X, y)
    stream = check_prefixes(clf, fresh_series(), [1, 1, 4, 3], CLASSIFIER_METHODS, device)
    assert stream._network.head.weight.device.type == device
