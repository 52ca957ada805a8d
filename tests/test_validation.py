"""Bad input is refused at the door with messages that say what to change."""

import numpy as np
import pytest
import scipy.sparse as sp

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn._validation import input_layout
from sslearn.data import to_panel

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
