"""ONNX export (``sslearn.export_onnx``): onnxruntime's outputs equal the estimator's
``predict_proba`` / ``predict`` on random input, for whole sequences (dynamic or fixed time
axis) and for the recurrent step, and the errors. Skipped without the ``export`` extra."""

import json
import sys

import numpy as np
import pytest

from sslearn import LiquidS4Classifier, LiquidS4Regressor, export_onnx

from ._toy import TINY

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CLOSE = {"rtol": 1e-4, "atol": 1e-5}  # float32 graph against float64 predictions
SMALL = {**TINY, "max_epochs": 2, "d_model": 6, "n_layers": 2}


def training_data(n=24, length=12, seed=0, missing=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2, length)
    if missing:
        X[::4, 1, 3:6] = np.nan  # NaN inside series: missingness channels
    return X, np.arange(n) % 3, rng.randn(n, 2) * 10 + 5


def fresh_series(n=5, length=12, seed=1):
    return (np.random.RandomState(seed).randn(n, 2, length) * 2 - 0.5).astype(np.float32)


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def metadata(path):
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


@pytest.mark.parametrize(
    ("ssm", "liquid_kernel", "n_timesteps", "bidirectional", "stem"),
    [
        ("diag", "kb", None, True, 0),  # dynamic time axis: Scan loops
        ("dplr", "pb", 12, True, 0),  # fixed length: materialised kernels, Conv
        ("lssl", "exact", 12, False, 0),  # fixed length, the exact recurrence: Scan
        ("lssl", None, None, False, 0),
        ("diag", "kb", None, True, 3),  # a centred convolutional stem
        ("diag", "pb", 12, False, 3),  # a causal one
    ],
)
def test_sequence_classifier(tmp_path, ssm, liquid_kernel, n_timesteps, bidirectional, stem):
    X, y, _ = training_data(missing=True)
    clf = LiquidS4Classifier(
        **{**SMALL, "stem_channels": stem},
        ssm=ssm,
        liquid_kernel=liquid_kernel,
        liquid_degree=3,
        bidirectional=bidirectional,
        n_estimators=2,
    ).fit(X, y)
    assert clf.network_.encoder.in_features == 4 + stem  # the missingness channels
    path = export_onnx(clf, tmp_path / "model.onnx", n_timesteps=n_timesteps)
    run = session(path)
    assert [o.name for o in run.get_outputs()] == ["proba"]
    assert json.loads(metadata(path)["sslearn.classes"]) == ["0", "1", "2"]
    for length in [12] if n_timesteps else [2, 12, 31]:
        Xt = fresh_series(length=length)
        Xt[1, 0, 1] = Xt[3, :, 0] = np.nan  # missing values, read as in predict
        np.testing.assert_allclose(run.run(None, {"x": Xt})[0], clf.predict_proba(Xt), **CLOSE)


def test_sequence_regressor_in_target_units(tmp_path):
    X, _, y = training_data()
    reg = LiquidS4Regressor(**SMALL, liquid_kernel="kb", n_estimators=3).fit(10 + 3 * X, y)
    Xt = 10 + 3 * fresh_series(length=9)
    run = session(export_onnx(reg, tmp_path / "model.onnx", n_timesteps=9))
    (prediction,) = run.run(None, {"x": Xt})
    assert prediction.shape == (5, 2)
    np.testing.assert_allclose(prediction, reg.predict(Xt), **CLOSE)
    univariate = LiquidS4Regressor(**SMALL, scale=False, bidirectional=False)
    univariate.fit(X[:, :1], y[:, 0])
    run = session(export_onnx(univariate, tmp_path / "univariate.onnx"))
    (prediction,) = run.run(None, {"x": Xt[:, :1]})
    assert prediction.shape == (5,)
    np.testing.assert_allclose(prediction, univariate.predict(Xt[:, :1]), **CLOSE)


@pytest.mark.parametrize("scale", ["series", "both"])
def test_sequence_with_per_series_scaling(tmp_path, scale):
    """Each whole series standardised by its own non-NaN steps inside the graph."""
    X, _, y = training_data(missing=True)
    reg = LiquidS4Regressor(**SMALL, scale=scale).fit(10 + 3 * X, y)
    run = session(export_onnx(reg, tmp_path / "model.onnx"))
    for length in (3, 12):
        Xt = 10 + 3 * fresh_series(length=length)
        Xt[1, 0, 1] = Xt[3, 1, :] = np.nan  # a missing value; a channel with none observed
        Xt[4, 0] = 7.0  # a constant channel: divisor 1
        (prediction,) = run.run(None, {"x": Xt})
        np.testing.assert_allclose(prediction, reg.predict(Xt), **CLOSE)


def initial_state(run, n_series):
    """Zeros, but -inf for the running maximum, in the shapes the graph declares."""
    return {
        i.name: np.full(
            [n_series if isinstance(d, str) else d for d in i.shape],
            -np.inf if i.name == "pool_max" else 0.0,
            dtype=np.float32,
        )
        for i in run.get_inputs()[1:]
    }


@pytest.mark.parametrize(
    ("estimator", "ssm", "liquid_kernel", "pooling", "n_estimators", "conv_width", "stem"),
    [
        (LiquidS4Classifier, "diag", "exact", "mean+max", 2, 0, 0),
        (LiquidS4Classifier, "lssl", "pb", "max", 1, 0, 0),
        (LiquidS4Regressor, "dplr", "kb", "last", 1, 0, 0),
        (LiquidS4Classifier, "diag", "kb", "mean+max", 2, 3, 0),
        (LiquidS4Regressor, "diag", "kb", "mean", 2, 0, 4),
    ],
)
def test_step(tmp_path, estimator, ssm, liquid_kernel, pooling, n_estimators, conv_width, stem):
    X, labels, targets = training_data(missing=True)
    model = estimator(
        **{**SMALL, "stem_channels": stem},
        ssm=ssm,
        liquid_kernel=liquid_kernel,
        liquid_degree=3,
        pooling=pooling,
        n_estimators=n_estimators,
        conv_width=conv_width,
        bidirectional=False,
        scale=True,  # the regressor's default "both" needs whole series
    ).fit(X, labels if estimator is LiquidS4Classifier else targets)
    predict = model.predict_proba if estimator is LiquidS4Classifier else model.predict
    path = export_onnx(model, tmp_path / "step.onnx", mode="step")
    run = session(path)
    names = json.loads(metadata(path)["sslearn.state"])
    assert [i.name for i in run.get_inputs()] == ["x", *names]
    assert [o.name for o in run.get_outputs()][1:] == [f"{name}_next" for name in names]
    Xt = fresh_series(length=8)
    Xt[2, 1, 3] = np.nan
    state = initial_state(run, len(Xt))
    for t in range(Xt.shape[-1]):
        prediction, *new = run.run(None, {"x": Xt[:, :, t], **state})
        state = dict(zip(names, new, strict=True))
        if t > 0:  # predict itself needs liquid_degree - 1 = 2 steps
            np.testing.assert_allclose(prediction, predict(Xt[:, :, : t + 1]), **CLOSE)
    assert state["pool_count"].ravel().tolist() == [8.0] * 5


def test_errors(tmp_path, monkeypatch):
    X, y, _ = training_data()
    clf = LiquidS4Classifier(**SMALL).fit(X, y)  # bidirectional, the default
    with pytest.raises(ValueError, match="bidirectional=False"):
        export_onnx(clf, tmp_path / "m.onnx", mode="step")
    with pytest.raises(ValueError, match="mode must be"):
        export_onnx(clf, tmp_path / "m.onnx", mode="scan")
    with pytest.raises(ValueError, match="leave n_timesteps=None"):
        export_onnx(clf, tmp_path / "m.onnx", n_timesteps=5, mode="step")
    with pytest.raises(ValueError, match="n_timesteps must be"):
        export_onnx(clf, tmp_path / "m.onnx", n_timesteps=0)
    with pytest.raises(Exception, match="not fitted"):
        export_onnx(LiquidS4Regressor(), tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"sslearn\[export\]"):
        export_onnx(clf, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
