"""Model selection in parallel: joblib's loky and Dask backends, errors from workers, and no
CUDA in the parent process before ``fit``."""

import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sslearn import LiquidS4Classifier
from tests._toy import TINY, sines

SMALL = {**TINY, "max_epochs": 2, "device": "auto"}
GRID = {"d_model": [4, 8]}  # 2 candidates x 2 folds


def search(**kwargs):
    return GridSearchCV(LiquidS4Classifier(**SMALL), GRID, cv=2, refit=False, **kwargs)


@pytest.fixture(scope="module")
def data():
    return sines(n=32, length=16)


@pytest.fixture(scope="module")
def sequential_scores(data):
    return search(n_jobs=1).fit(*data).cv_results_["mean_test_score"]


class FailingClassifier(LiquidS4Classifier):
    """Raises inside fit once the training device is chosen (importable by workers)."""

    def _make_network(self, n_inputs, n_outputs):
        raise RuntimeError("injected failure")


def _no_cuda(*args, **kwargs):
    raise AssertionError("the parent process touched CUDA")


def test_loky_grid_search_matches_sequential(data, sequential_scores, monkeypatch):
    # the workers resolve device="auto"; the parent, which only clones and collects, must not
    for name in ("is_available", "device_count", "_lazy_init", "init"):
        monkeypatch.setattr(torch.cuda, name, _no_cuda)
    result = search(n_jobs=2).fit(*data)
    np.testing.assert_allclose(result.cv_results_["mean_test_score"], sequential_scores)


def test_dask_grid_search_matches_sequential(data, sequential_scores):
    distributed = pytest.importorskip("distributed")
    # processes=False: workers are threads of this process talking over inproc:// (no sockets)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster), joblib.parallel_backend("dask"):
        result = search(n_jobs=-1).fit(*data)
        failing = GridSearchCV(FailingClassifier(**SMALL), GRID, cv=2, error_score="raise")
        with pytest.raises(RuntimeError, match="injected failure") as info:
            failing.fit(*data)
    np.testing.assert_allclose(result.cv_results_["mean_test_score"], sequential_scores)
    assert "Dask worker" in "\n".join(getattr(info.value, "__notes__", []))


def test_worker_error_names_its_device_and_worker(data):
    grid = GridSearchCV(FailingClassifier(**SMALL), GRID, cv=2, n_jobs=2, error_score="raise")
    with pytest.raises(RuntimeError, match="injected failure") as info:
        grid.fit(*data)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "training on cpu" in notes and "LokyProcess" in notes


NO_CUDA = """
import pickle
import torch

def refuse(*args, **kwargs):
    raise AssertionError("CUDA was touched")

for name in ("is_available", "device_count", "current_device", "_lazy_init", "init"):
    setattr(torch.cuda, name, refuse)

from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
import sslearn
from sslearn import LiquidS4Classifier, LiquidS4Regressor

for cls in (LiquidS4Classifier, LiquidS4Regressor):
    est = cls(device="auto", devices=2)
    est.set_params(d_model=8, device="cuda:1")
    copy = pickle.loads(pickle.dumps(clone(est)))
    assert copy.get_params()["device"] == "cuda:1", copy.get_params()
    repr(est)
    GridSearchCV(est, {"d_model": [4, 8]}, n_jobs=2)

# a CPU fit and predict does not reach for CUDA either
import numpy as np
X, y = np.random.RandomState(0).randn(20, 1, 8), np.arange(20) % 2
clf = LiquidS4Classifier(d_model=4, n_layers=1, d_state=4, max_epochs=1, device="cpu")
clf.fit(X, y).predict(X)
pickle.loads(pickle.dumps(clf)).predict(X)
assert not torch.cuda.is_initialized()
print("ok")
"""


def test_import_construct_clone_never_touch_cuda():
    out = subprocess.run(
        [sys.executable, "-c", NO_CUDA], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
