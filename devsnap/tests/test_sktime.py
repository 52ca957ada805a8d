"""The sktime adapters pass sktime's own estimator checks."""

import pytest

pytest.importorskip("sktime")

from sktime.utils.estimator_checks import check_estimator

from sslearn import LiquidS4Classifier
from sslearn.sktime import LiquidS4SktimeClassifier, LiquidS4SktimeRegressor


@pytest.mark.parametrize("adapter", [LiquidS4SktimeClassifier, LiquidS4SktimeRegressor])
def test_sktime_check_estimator(adapter):
    results = check_estimator(adapter, raise_exceptions=False)
    failed = {name: str(outcome)[:300] for name, outcome in results.items() if outcome != "PASSED"}
    assert len(results) > 50
    assert not failed, failed


def test_adapter_delegates_to_the_sslearn_estimator():
    import numpy as np

    X = np.random.RandomState(0).randn(12, 2, 20)
    y = np.array(["a", "b"] * 6)
    clf = LiquidS4SktimeClassifier(max_epochs=2, d_model=8, n_layers=1, device="cpu")
    clf.fit(X, y)
    assert clf.estimator_.get_params()["d_model"] == 8
    # "default" keeps sslearn's default
    assert clf.estimator_.liquid_kernel == LiquidS4Classifier().liquid_kernel == "kb"
    assert clf.predict_proba(X).shape == (12, 2)
