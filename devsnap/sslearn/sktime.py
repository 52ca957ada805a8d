"""sktime adapters: :class:`LiquidS4SktimeClassifier` and :class:`LiquidS4SktimeRegressor`.

They are sktime estimators (``BaseClassifier`` / ``BaseRegressor``) that delegate to
:class:`~sslearn.LiquidS4Classifier` / :class:`~sslearn.LiquidS4Regressor`, so sslearn models
can be used in sktime pipelines, benchmarking and tuning. sktime converts every Panel mtype to
a ``numpy3D`` array before the adapter sees it. Importing this module needs sktime.
"""

from __future__ import annotations

from typing import ClassVar

from sktime.classification.base import BaseClassifier
from sktime.regression.base import BaseRegressor

from sslearn._classifier import LiquidS4Classifier
from sslearn._regressor import LiquidS4Regressor

_TAGS = {
    "X_inner_mtype": "numpy3D",
    "capability:multivariate": True,
    "capability:missing_values": True,
    "authors": "sslearn developers",
    "maintainers": "sslearn developers",
    "python_dependencies": "torch",
    "capability:random_state": True,
}
_TINY = {"d_model": 8, "n_layers": 1, "d_state": 4, "max_epochs": 3, "device": "cpu"}


class _Delegating:
    """Shared plumbing: build the sslearn estimator from this object's parameters."""

    _sslearn_class: type

    def __init__(self, d_model=None, n_layers=None, d_state=None, liquid_kernel="default",
                 bidirectional=None, max_epochs=None, batch_size=None, lr=None, device=None,
                 random_state=None):  # fmt: skip
        self.d_model, self.n_layers, self.d_state = d_model, n_layers, d_state
        self.liquid_kernel, self.bidirectional, self.max_epochs = (
            liquid_kernel, bidirectional, max_epochs)  # fmt: skip
        self.batch_size, self.lr, self.device = batch_size, lr, device
        self.random_state = random_state
        super().__init__()

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Tiny, fast settings for sktime's estimator checks."""
        return [{**_TINY, "random_state": 0}, {**_TINY, "liquid_kernel": "pb", "random_state": 1}]

    def _make(self):
        params = {
            k: v
            for k, v in self.get_params(deep=False).items()
            if v is not None and not (k == "liquid_kernel" and v == "default")
        }
        return self._sslearn_class(**{**params, "device": self.device or "auto"})

    def _fit(self, X, y):
        self.estimator_ = self._make().fit(X, y)
        return self

    def _predict(self, X):
        return self.estimator_.predict(X)


class LiquidS4SktimeClassifier(_Delegating, BaseClassifier):
    """sktime classifier delegating to :class:`~sslearn.LiquidS4Classifier`.

    Parameters
    ----------
    d_model, n_layers, d_state, liquid_kernel, bidirectional, max_epochs, batch_size, lr,
    device, random_state
        As in :class:`~sslearn.LiquidS4Classifier`; None keeps its default.

    Examples
    --------
    >>> from sktime.datasets import load_unit_test
    >>> from sslearn.sktime import LiquidS4SktimeClassifier
    >>> X, y = load_unit_test(split="train", return_type="numpy3D")
    >>> clf = LiquidS4SktimeClassifier(max_epochs=2, d_model=8, n_layers=1, device="cpu")
    >>> clf.fit(X, y).predict(X).shape
    (20,)
    """

    _tags: ClassVar[dict] = {
        **_TAGS,
        "capability:predict_proba": True,
        "capability:class_weight": False,
    }
    _sslearn_class = LiquidS4Classifier

    def _predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class LiquidS4SktimeRegressor(_Delegating, BaseRegressor):
    """sktime regressor delegating to :class:`~sslearn.LiquidS4Regressor`.

    Parameters
    ----------
    d_model, n_layers, d_state, liquid_kernel, bidirectional, max_epochs, batch_size, lr,
    device, random_state
        As in :class:`~sslearn.LiquidS4Regressor`; None keeps its default.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.sktime import LiquidS4SktimeRegressor
    >>> X = np.random.RandomState(0).randn(20, 2, 30)
    >>> y = X[:, 0].mean(axis=1)
    >>> reg = LiquidS4SktimeRegressor(max_epochs=2, d_model=8, n_layers=1, device="cpu")
    >>> reg.fit(X, y).predict(X).shape
    (20,)
    """

    _tags: ClassVar[dict] = dict(_TAGS)
    _sslearn_class = LiquidS4Regressor
