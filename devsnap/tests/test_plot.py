"""sslearn.plot: attributions, learned time scales and the training history, drawn with Agg."""

import math

import numpy as np
import pytest

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.plot import plot_attributions, plot_history, plot_time_scales, time_scales
from tests._toy import TINY, sines

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def model():
    X, y = sines(n=24, length=16)
    return LiquidS4Classifier(**{**TINY, "max_epochs": 2, "n_layers": 2}).fit(X, y)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_time_scales_match_the_layer_parameters(model):
    scales = time_scales(model)
    assert len(scales) == 2
    for layer, block in zip(scales, model.network_.blocks, strict=True):
        core = block.ssm.core
        log_dt = core.log_dt.detach().double().numpy()
        log_a = core.log_A_real.detach().double().numpy()
        imag = core.A_imag.detach().double().numpy()
        h, n = 3, 1
        dt = math.exp(log_dt[h])
        assert layer["decay"].shape == (16, 2)  # bidirectional: 2 * d_model channels
        assert layer["decay"][h, n] == pytest.approx(1 / (dt * max(math.exp(log_a[h, n]), 1e-4)))
        expected = 2 * math.pi / (dt * abs(imag[h, n])) if imag[h, n] else math.inf
        assert layer["period"][h, n] == pytest.approx(expected)
        assert (layer["decay"] > 0).all() and (layer["period"] > 0).all()
        np.testing.assert_allclose(layer["dt"], np.exp(log_dt))
    in_seconds = time_scales(model, fs=250.0)
    np.testing.assert_allclose(in_seconds[0]["decay"], scales[0]["decay"] / 250.0)


def test_time_scales_need_a_diagonal_core():
    X, y = sines(n=12, length=12)
    model = LiquidS4Classifier(**{**TINY, "max_epochs": 1}, ssm="dplr").fit(X, y)
    with pytest.raises(NotImplementedError, match="diagonal"):
        time_scales(model)


def test_plot_time_scales_and_history_return_axes(model):
    ax = plot_time_scales(model, fs=100.0)
    assert ax.get_xscale() == "log" and "(s)" in ax.get_xlabel()
    _, own = plt.subplots()
    assert plot_time_scales(model, ax=own) is own
    assert plot_history(model) is not None
    _, own = plt.subplots()
    assert plot_history(model, ax=own) is own


def test_plot_attributions_one_row_per_channel():
    pytest.importorskip("captum")
    X, y = sines(n=16, length=16)
    X[0, :, 12:] = np.nan  # padding is left blank
    regressor = LiquidS4Regressor(**{**TINY, "max_epochs": 1}).fit(X, y.astype(float))
    attributions = regressor.explain(X[:1])[0]
    axes = plot_attributions(X[0], attributions, channel_names=["ecg", "ppg"], fs=50.0)
    assert axes.shape == (2,) and axes[0].get_ylabel() == "ecg"
    assert axes[-1].get_xlabel() == "time (s)"
    with pytest.raises(ValueError, match="same shape"):
        plot_attributions(X[0], attributions[:1])
    with pytest.raises(ValueError, match="channel_names"):
        plot_attributions(X[0], attributions, channel_names=["one"])
