"""Behaviour shared by both estimators: seeding, persistence, warm start, safety, inputs."""

import json
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.data import from_long
from sslearn.training import DeviceWarning, NonFiniteLossError, TrainingInterruptedWarning

from ._toy import TINY, frequencies, sines

ESTIMATORS = [LiquidS4Classifier, LiquidS4Regressor]


def data_for(Estimator, **kwargs):
    if Estimator is LiquidS4Classifier:
        return sines(**kwargs)
    kwargs.pop("n_channels", None)
    return frequencies(**kwargs)


def predictions(estimator, X):
    if isinstance(estimator, LiquidS4Classifier):
        return estimator.predict_proba(X)
    return estimator.predict(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_init_and_clone_touch_nothing(Estimator, monkeypatch):
    def no_cuda():
        raise AssertionError("CUDA queried outside fit")

    monkeypatch.setattr(torch.cuda, "is_available", no_cuda)
    est = Estimator(**TINY)
    assert clone(est).get_params() == est.get_params()
    assert not [key for key in vars(est) if key.endswith("_")]
    repr(est)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_seed_same_predictions(Estimator):
    X, y = data_for(Estimator)
    rng_state = torch.random.get_rng_state()
    first = predictions(Estimator(**TINY).fit(X, y), X)
    second = predictions(Estimator(**TINY).fit(X, y), X)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    np.testing.assert_array_equal(first, second)
    other = predictions(Estimator(**{**TINY, "random_state": 1}).fit(X, y), X)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_and_joblib_round_trip(Estimator, tmp_path):
    X, y = data_for(Estimator)
    est = Estimator(**TINY).fit(X, y)
    expected = predictions(est, X)
    state = est.__getstate__()
    assert not isinstance(state["network_"], torch.nn.Module)  # serialised, device-free
    assert isinstance(est.network_, torch.nn.Module)  # the live estimator is untouched
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(predictions(loaded, X), expected)
    joblib.dump(est, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(predictions(loaded, X), expected)
    # the loaded model keeps training
    loaded.set_params(warm_start=True, max_epochs=1).fit(X, y)
    assert loaded.n_iter_ == est.n_iter_ + 1


def test_fitted_on_device_loads_on_cpu(device):
    """Fit on ``device`` (CUDA when present), unpickle onto the CPU, same predictions."""
    X, y = sines()
    clf = LiquidS4Classifier(**{**TINY, "device": device}).fit(X, y)
    assert next(clf.network_.parameters()).device.type == device
    expected = clf.predict_proba(X)
    payload = pickle.dumps(clf)
    loaded = pickle.loads(payload)
    assert next(loaded.network_.parameters()).device.type == "cpu"
    loaded.set_params(device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_model_loads_in_a_process_without_cuda(tmp_path):
    X, y = sines()
    clf = LiquidS4Classifier(**{**TINY, "device": "cuda", "precision": "bf16-mixed"}).fit(X, y)
    clf.set_params(precision="32")  # compare float32 GPU predictions with float64 CPU ones
    with open(tmp_path / "model.pkl", "wb") as file:
        pickle.dump(clf, file)
    np.save(tmp_path / "X.npy", X)
    code = (
        "import json, pickle, sys, warnings, numpy as np\n"
        "warnings.simplefilter('ignore')\n"
        "model = pickle.load(open(sys.argv[1], 'rb'))\n"
        "print(json.dumps(model.predict_proba(np.load(sys.argv[2])).tolist()))\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "model.pkl"), str(tmp_path / "X.npy")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    proba = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-3, atol=1e-4)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_cuda_request_falls_back_to_cpu():
    X, y = sines(n=20)
    with pytest.warns(DeviceWarning):
        clf = LiquidS4Classifier(**{**TINY, "device": "cuda", "max_epochs": 1}).fit(X, y)
    assert next(clf.network_.parameters()).device.type == "cpu"


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_continues(Estimator):
    X, y = data_for(Estimator)
    est = Estimator(**{**TINY, "max_epochs": 2}, warm_start=True).fit(X, y)
    network = est.network_
    est.fit(X, y)
    assert est.network_ is network
    assert est.n_iter_ == 4
    assert [r["epoch"] for r in est.history_] == [1, 2, 3, 4]
    assert len(est.loss_curve_) == 4
    est.set_params(d_model=16)
    with pytest.raises(ValueError, match="d_model"):
        est.fit(X, y)
    est.set_params(warm_start=False).fit(X, y)
    assert est.n_iter_ == 2 and est.network_ is not network


def test_warm_start_needs_the_same_classes():
    X, y = sines(n=30, n_classes=3)
    clf = LiquidS4Classifier(**TINY, warm_start=True).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.fit(X, y)


class InterruptingClassifier(LiquidS4Classifier):
    """Raises KeyboardInterrupt in the first forward pass of epoch ``interrupt_epoch``."""

    def _make_network(self, n_inputs, n_outputs):
        network = super()._make_network(n_inputs, n_outputs)
        calls = {"n": 0}

        def hook(module, args):
            if module.training:
                calls["n"] += 1
                if calls["n"] == 2 * 2 + 1:  # 2 batches per epoch: epoch 3 begins
                    raise KeyboardInterrupt

        network.register_forward_pre_hook(hook)
        return network


def test_keyboard_interrupt_returns_a_usable_model():
    X, y = sines(n=32)
    clf = InterruptingClassifier(**{**TINY, "max_epochs": 10})
    with pytest.warns(TrainingInterruptedWarning, match="epoch 3"):
        assert clf.fit(X, y) is clf
    assert clf.stop_reason_ == "interrupted"
    assert clf.n_iter_ == 2
    assert clf.predict(X).shape == (32,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_is_reported(Estimator):
    X, y = data_for(Estimator)
    est = Estimator(**{**TINY, "lr": 1e30, "ssm_lr": 1e30, "clip_grad_norm": None})
    with pytest.raises(NonFiniteLossError, match="lower lr"):
        est.fit(X, y)
    assert est.stop_reason_ == "diverged"
    assert est.n_iter_ == len(est.history_) == len(est.loss_curve_)
    assert all(torch.isfinite(p).all() for p in est.network_.parameters())
    assert np.isfinite(predictions(est, X)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight(Estimator):
    X, y = data_for(Estimator)
    weights = np.linspace(0.1, 2.0, len(y))
    plain = predictions(Estimator(**TINY).fit(X, y), X)
    weighted = predictions(Estimator(**TINY).fit(X, y, sample_weight=weights), X)
    assert not np.allclose(plain, weighted)
    ones = predictions(Estimator(**TINY).fit(X, y, sample_weight=np.full(len(y), 3.0)), X)
    np.testing.assert_allclose(plain, ones, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="zero"):
        Estimator(**TINY).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="Negative"):
        Estimator(**TINY).fit(X, y, sample_weight=-weights)


def test_unequal_lengths_and_missing_values():
    X, y = sines(n=30, n_channels=2, length=20)
    X = X.copy()
    X[::3, :, 15:] = np.nan  # NaN padding: shorter series
    X[1, 0, 4] = np.nan  # a missing value
    clf = LiquidS4Classifier(**TINY).fit(X, y)
    assert clf._missing_indicator and clf.missing_in_fit_
    assert clf.network_.config["d_input"] == 4  # 2 channels + 2 missingness indicators
    as_list = [series[:, : 15 if i % 3 == 0 else 20] for i, series in enumerate(X)]
    np.testing.assert_allclose(clf.predict_proba(as_list), clf.predict_proba(X), atol=1e-6)
    complete, _ = sines(n=5, n_channels=2, length=50)
    assert clf.predict(complete).shape == (5,)


def test_complete_data_has_no_indicator_channels():
    X, y = sines(n=20)
    clf = LiquidS4Classifier(**TINY).fit(X, y)
    assert clf.network_.config["d_input"] == 2
    assert not clf.missing_in_fit_
    X_missing = X.copy()
    X_missing[0, 0, 3] = np.nan
    with pytest.warns(UserWarning, match="fitted on data without any"):
        assert np.isfinite(clf.predict_proba(X_missing)).all()


def test_scaling_learned_in_fit():
    X, y = sines(n=20)
    X = X * np.array([1.0, 1000.0])[None, :, None] + 50.0
    clf = LiquidS4Classifier(**TINY).fit(X, y)
    np.testing.assert_allclose(clf.scaler_.mean_, X.mean(axis=(0, 2)), rtol=1e-4)
    assert LiquidS4Classifier(**TINY, scale=False).fit(X, y).scaler_ is None


def test_wide_dataframe_feature_names():
    X, y = sines(n=20, n_channels=1, length=12)
    frame = pd.DataFrame(X[:, 0], columns=[f"t{i}" for i in range(12)])
    clf = LiquidS4Classifier(**TINY).fit(frame, y)
    assert clf.n_features_in_ == 12
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"t0": "other"}))


def test_long_frame_channel_names():
    X, y = sines(n=12, n_channels=2, length=10)
    long = pd.DataFrame(
        {
            "id": np.repeat(np.arange(12), 10),
            "time": np.tile(np.arange(10), 12),
            "temp": X[:, 0].ravel(),
            "pressure": X[:, 1].ravel(),
        }
    )
    nested = from_long(long, id_col="id", time_col="time")
    clf = LiquidS4Classifier(**TINY).fit(nested, y)
    assert clf.n_features_in_ == 2
    assert list(clf.feature_names_in_) == list(nested.columns)
    np.testing.assert_allclose(clf.predict_proba(nested), clf.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="channel names"):
        clf.predict(nested[nested.columns[::-1]])


def _plotted(clf):
    """(labels of every plotted line, legend labels, legend handles, axes) of plot_history."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = clf.plot_history()
    axes = ax.figure.axes
    lines = [line for each in axes for line in each.get_lines()]
    legend = ax.get_legend()
    assert legend is not None
    labels = [text.get_text() for text in legend.get_texts()]
    ax.figure.canvas.draw()  # the figure renders
    plt.close(ax.figure)
    return ax, axes, lines, labels, legend.legend_handles


def test_plot_history_legend_with_validation():
    X, y = sines(n=40)
    clf = LiquidS4Classifier(**TINY, early_stopping=True, validation_fraction=0.25).fit(X, y)
    ax, axes, lines, labels, handles = _plotted(clf)
    assert ax.get_xlabel() == "epoch"
    assert len(ax.get_lines()) == 2  # the losses; the score is on a twin y-axis
    assert len(axes) == 2
    twin = axes[1]
    assert twin.get_ylabel() == "validation score"
    expected = ["train loss", "validation loss", "validation score"]
    assert [line.get_label() for line in lines] == expected
    # one legend, on ax, names the lines of both axes (ax.legend() alone missed the twin's)
    assert labels == expected
    assert twin.get_legend() is None
    for handle, line in zip(handles, lines, strict=True):
        assert handle.get_color() == line.get_color()
        assert handle.get_linestyle() == line.get_linestyle()
    # the legend's axes is drawn above the twin, so its lines do not cover the legend
    assert ax.get_zorder() > twin.get_zorder()
    np.testing.assert_allclose(lines[0].get_ydata(), clf.loss_curve_)
    np.testing.assert_allclose(lines[2].get_ydata(), clf.validation_scores_)


def test_plot_history_legend_without_validation():
    X, y = sines(n=40)
    clf = LiquidS4Classifier(**TINY, early_stopping=False).fit(X, y)
    ax, axes, lines, labels, handles = _plotted(clf)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss")
    assert len(axes) == 1  # no twin axis for a validation score
    assert [line.get_label() for line in lines] == ["train loss"]
    assert labels == ["train loss"]
    assert len(handles) == 1
    assert handles[0].get_color() == lines[0].get_color()


def test_verbose_progress_bar(capsys):
    X, y = sines(n=20)
    LiquidS4Classifier(**{**TINY, "max_epochs": 2}, verbose=1).fit(X, y)
    assert "2/2" in capsys.readouterr().err


def test_no_warnings_on_a_plain_fit():
    X, y = sines(n=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LiquidS4Classifier(**TINY).fit(X, y).predict(X)


def test_sktime_multiindex_frame():
    pytest.importorskip("sktime")
    X, y = sines(n=10, n_channels=2, length=8)
    index = pd.MultiIndex.from_product([range(10), range(8)], names=["instance", "time"])
    frame = pd.DataFrame({"a": X[:, 0].ravel(), "b": X[:, 1].ravel()}, index=index)
    clf = LiquidS4Classifier(**TINY).fit(frame, y)
    assert clf.n_features_in_ == 2
    assert list(clf.feature_names_in_) == ["a", "b"]
    np.testing.assert_allclose(clf.predict_proba(frame), clf.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("name", ["conv_width", "stem_channels"])
@pytest.mark.parametrize("value", [-1, 2.5, "3"])
def test_bad_convolution_sizes_are_refused(Estimator, name, value):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=name):
        Estimator(**{**TINY, name: value}).fit(*data_for(Estimator))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_series_scaling_ignores_each_series_gain_and_offset(Estimator):
    """scale="series": every series and channel standardised by its own statistics, so a
    positive gain and an offset per series and channel leave the predictions unchanged."""
    X, y = data_for(Estimator)
    model = Estimator(**TINY, scale="series").fit(X, y)
    assert model.series_scaled_ and model.scaler_ is None
    rng = np.random.RandomState(3)
    Xt = rng.randn(6, *X.shape[1:]) * 2.0 + 1.0
    moved = Xt * rng.uniform(0.2, 5.0, size=(6, X.shape[1], 1)) + rng.uniform(
        -20.0, 20.0, size=(6, X.shape[1], 1)
    )
    method = "predict_proba" if Estimator is LiquidS4Classifier else "predict"
    np.testing.assert_allclose(
        getattr(model, method)(moved), getattr(model, method)(Xt), rtol=1e-3, atol=1e-4
    )
    plain = Estimator(**TINY, scale=True).fit(X, y)
    assert not plain.series_scaled_ and plain.scaler_ is not None


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_both_scalings_side_by_side(Estimator):
    """scale="both": the network reads the channel-scaled channels, then the same channels
    standardised per series, then the missingness channels; the float64 loop below is the
    reference of both."""
    from sslearn.data import to_panel

    X, y = data_for(Estimator, n_channels=2)
    X = X.copy()
    X[1, :, 5] = np.nan  # a missing step: missingness channels, NaN left out of the moments
    model = Estimator(**TINY, scale="both").fit(X, y)
    assert model.series_scaled_ and model.scaler_ is not None
    n_channels = X.shape[1]
    assert model.network_.config["d_input"] == 3 * n_channels
    values = model._series_set(to_panel(X)).values.numpy()
    expected = np.zeros((len(X), 3 * n_channels, X.shape[2]))
    for i in range(len(X)):
        for c in range(n_channels):
            observed = ~np.isnan(X[i, c])
            x = X[i, c, observed].astype(np.float64)
            channel = (x - model.scaler_.mean_[c]) / model.scaler_.scale_[c]
            series = (x - x.mean()) / x.std()
            expected[i, c, observed] = channel
            expected[i, n_channels + c, observed] = series
            expected[i, 2 * n_channels + c] = ~observed
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-5)


def test_scale_defaults():
    """Measured defaults (RESULTS §3): per-channel for the classifier, both for the regressor."""
    assert LiquidS4Classifier().scale is True
    assert LiquidS4Regressor().scale == "both"


def test_default_regressor_names_both_fixes_for_streaming():
    """The regressor's defaults (bidirectional, scale="both") need two changes to stream:
    one error names both."""
    X, y = frequencies()
    reg = LiquidS4Regressor(**TINY).fit(X, y)
    with pytest.raises(ValueError, match=r"scale=True .* and bidirectional=False"):
        reg.stream()


@pytest.mark.parametrize("scale", ["series", "both"])
def test_per_series_scaling_refuses_to_stream(scale):
    X, y = sines()
    clf = LiquidS4Classifier(**TINY, scale=scale, bidirectional=False).fit(X, y)
    with pytest.raises(ValueError, match=rf"stream\(\).*scale='{scale}'.*scale=True"):
        clf.stream()
    from sslearn._onnx import predictor

    with pytest.raises(ValueError, match=rf"ONNX export with mode='step'.*scale='{scale}'"):
        predictor(clf, mode="step")
