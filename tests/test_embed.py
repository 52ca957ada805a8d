"""embed(X): the fitted network's pooled features, the input of its head."""

import copy

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sslearn import LiquidS4Classifier, LiquidS4Regressor

from ._toy import TINY, frequencies, sines

PARAMS = {**TINY, "max_epochs": 2, "liquid_kernel": None}
PLAIN = {**PARAMS, "stem_head": False}  # the head applied to embed(X) is the whole model


def head(estimator, features):
    """The fitted network's head on embeddings, in float64 like CPU inference."""
    network = copy.deepcopy(estimator.network_).to("cpu", torch.float64)
    with torch.no_grad():
        return network.head_outputs(torch.from_numpy(features))


@pytest.mark.parametrize("n_estimators", [1, 2])
@pytest.mark.parametrize("pooling, per_member", [("mean", 8), ("mean+max", 16), ("last", 8)])
def test_embed_shape_and_head(pooling, per_member, n_estimators):
    X, y = sines(n_classes=3)
    clf = LiquidS4Classifier(**PARAMS, pooling=pooling, n_estimators=n_estimators).fit(X, y)
    features = clf.embed(X)
    assert features.dtype == np.float64
    assert features.shape == (len(X), per_member * n_estimators)
    outputs = head(clf, features)
    if n_estimators > 1:
        assert outputs.shape == (len(X), n_estimators, 3)
    # the members' SSM heads; with the default stem_head, their front-end heads follow
    members = clf._member_outputs(X)
    assert members.shape == (len(X), 2 * n_estimators, 3)
    np.testing.assert_allclose(
        outputs.numpy().reshape(len(X), n_estimators, 3), members[:, :n_estimators],
        rtol=1e-10, atol=1e-12,
    )  # fmt: skip
    plain = LiquidS4Classifier(**PLAIN, pooling=pooling, n_estimators=n_estimators,
                               ).fit(X, y)  # fmt: skip
    outputs = head(plain, plain.embed(X))
    if n_estimators > 1:
        outputs = plain._combine_members(outputs)
    np.testing.assert_allclose(outputs.numpy(), plain.decision_function(X), rtol=1e-10, atol=1e-12)


def test_embed_unequal_lengths():
    X, y = sines()
    X[::3, :, 16:] = np.nan  # every third series is shorter
    clf = LiquidS4Classifier(**PLAIN, pooling="last").fit(X, y)
    features = clf.embed(X)
    assert np.isfinite(features).all()
    logits = head(clf, features).numpy()
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0], clf.decision_function(X), atol=1e-12)
    alone = clf.embed(X[:1, :, :16])  # the short series without its padding
    np.testing.assert_allclose(alone[0], features[0], atol=1e-10)


def test_embed_on_either_device(device):
    X, y = sines(n_classes=3)
    clf = LiquidS4Classifier(**{**PLAIN, "device": device}, pooling="mean+max").fit(X, y)
    features = clf.embed(X)
    assert features.shape == (len(X), 16) and np.isfinite(features).all()
    np.testing.assert_allclose(
        head(clf, features).numpy(), clf.decision_function(X), rtol=1e-4, atol=1e-5
    )


def test_embed_of_the_regressor():
    X, y = frequencies()
    reg = LiquidS4Regressor(**PARAMS).fit(X, y)
    features = reg.embed(X)
    assert features.shape == (len(X), 8)
    outputs = head(reg, features).numpy()
    np.testing.assert_allclose(outputs, reg._forward(X), atol=1e-12)
    np.testing.assert_allclose(
        outputs[:, 0] * reg._y_scale[0] + reg._y_mean[0], reg.predict(X), atol=1e-10
    )


def test_embeddings_feed_another_estimator():
    X, y = sines()
    clf = LiquidS4Classifier(**PARAMS).fit(X, y)
    pipe = make_pipeline(FunctionTransformer(clf.embed), LogisticRegression()).fit(X, y)
    assert pipe.predict(X).shape == y.shape
    assert pipe.score(X, y) > 0.5


def test_embed_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        LiquidS4Classifier(**PARAMS).embed(sines()[0])
