"""Device and precision resolution."""

import pytest
import torch

from sslearn.training import DeviceWarning, resolve_device, resolve_precision


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
