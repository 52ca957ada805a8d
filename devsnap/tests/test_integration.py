"""The estimators inside scikit-learn's meta-estimators and model selection."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.data import from_long

from ._toy import TINY, frequencies, sines


def test_pipeline_grid_search_parallel_on_a_dataframe():
    X, y = sines(n=36, n_channels=1, length=16)
    frame = pd.DataFrame(X[:, 0], columns=[f"t{i}" for i in range(16)])
    pipe = Pipeline(
        [
            ("clip", FunctionTransformer(np.clip, kw_args={"a_min": -3, "a_max": 3})),
            ("clf", LiquidS4Classifier(**TINY)),
        ]
    )
    search = GridSearchCV(pipe, {"clf__d_model": [4, 8], "clf__lr": [1e-2]}, cv=2, n_jobs=2)
    search.fit(frame, np.array(["lo", "hi"])[y])
    assert search.best_params_["clf__d_model"] in (4, 8)
    assert set(search.predict(frame)) <= {"lo", "hi"}
    fitted = search.best_estimator_.named_steps["clf"]
    np.testing.assert_array_equal(fitted.feature_names_in_, frame.columns)


def test_cross_validation_on_a_long_frame():
    X, y = frequencies(n=24, length=12)
    long = pd.DataFrame(
        {"id": np.repeat(np.arange(24), 12), "t": np.tile(np.arange(12), 24), "v": X.ravel()}
    )
    nested = from_long(long, id_col="id", time_col="t")
    scores = cross_val_score(LiquidS4Regressor(**TINY), nested, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_clone_of_a_fitted_pipeline_is_unfitted():
    X, y = sines(n=20)
    pipe = make_pipeline(LiquidS4Classifier(**TINY)).fit(X, y)
    copy = clone(pipe)
    assert not hasattr(copy[-1], "network_")
    assert copy[-1].get_params() == pipe[-1].get_params()
