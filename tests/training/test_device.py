"""Device and precision resolution: where a fit trains, where a fitted model predicts."""

import warnings

import numpy as np
import pytest
import torch

import sslearn._base
from sslearn import LiquidS4Classifier
from sslearn.training import (
    DeviceWarning,
    fit_placement,
    inference_device,
    inference_precision,
    resolve_device,
    resolve_precision,
)
from tests._toy import TINY, sines


def test_auto_and_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_cuda_falls_back_to_cpu_with_warning():
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        assert resolve_device("cuda:1") == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_missing_cuda_index():
    with pytest.raises(ValueError, match="does not exist"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_bad_device_name():
    with pytest.raises(ValueError, match="not a device"):
        resolve_device("gpu please")


def test_precisions():
    cpu = torch.device("cpu")
    assert resolve_precision("32", cpu).dtype is None
    assert resolve_precision("bf16-mixed", cpu).dtype == torch.bfloat16
    half = resolve_precision("16-mixed", cpu)
    assert half.dtype == torch.float16 and half.scale_loss
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_precision("64", cpu)


def test_fit_placement():
    with fit_placement("cpu") as where:
        assert where.device == where.fitted == torch.device("cpu") and where.ranks is None
    with fit_placement("cpu", 1) as where:
        assert where.ranks is None
    with fit_placement("cpu", 2) as where:  # this process prepares, the ranks train
        assert where.device == torch.device("cpu")
        assert where.ranks == [torch.device("cpu")] * 2 and where.fitted == where.ranks[0]


@pytest.fixture
def two_gpus(monkeypatch):
    """Pretend CUDA has two devices (only names are resolved, nothing runs on them)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr("sslearn.training._device.last_claimed", lambda: None)


def test_auto_predicts_on_the_gpu_it_trained_on(two_gpus):
    cuda = [torch.device("cuda", 0), torch.device("cuda", 1)]
    assert inference_device("auto", cuda[1]) == cuda[1]
    assert inference_device("auto", torch.device("cuda")) == torch.device("cuda")
    # a GPU this machine lacks, or a CPU fit: "auto" as it resolves here
    assert inference_device("auto", torch.device("cuda", 5)) == torch.device("cuda")
    assert inference_device("auto", torch.device("cpu")) == torch.device("cpu")  # where it trained
    assert inference_device("auto", None) == torch.device("cuda")
    # an explicit device wins over the fitted one
    assert inference_device("cpu", cuda[1]) == torch.device("cpu")
    assert inference_device("cuda:0", cuda[1]) == cuda[0]


def test_without_cuda_a_gpu_model_predicts_on_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cuda = torch.device("cuda", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert inference_device("auto", cuda) == torch.device("cpu")
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        assert inference_device("cuda", cuda) == torch.device("cpu")


def test_inference_precision():
    precision, dtype = inference_precision("bf16-mixed", torch.device("cpu"))
    assert dtype == torch.float64 and precision.dtype is None  # batch-independent on the CPU
    precision, dtype = inference_precision("16-mixed", torch.device("cuda", 0))
    assert dtype == torch.float32 and precision.dtype == torch.float16


def test_predict_runs_where_inference_device_says(monkeypatch):
    X, y = sines(n=20, length=12)
    clf = LiquidS4Classifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    assert clf.device_ == torch.device("cpu")
    seen = []

    def recording(device, fitted):
        seen.append((device, fitted))
        return torch.device("cpu")

    monkeypatch.setattr(sslearn._base, "inference_device", recording)
    proba = clf.predict_proba(X)
    assert seen == [("cpu", clf.device_)]
    assert np.isfinite(proba).all()
