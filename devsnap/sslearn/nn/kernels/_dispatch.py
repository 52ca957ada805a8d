"""When to take the Triton path."""

from __future__ import annotations

import functools
import importlib.util
import os

import torch


@functools.cache
def triton_available() -> bool:
    """True when the ``triton`` package can be imported (checked once, without importing it)."""
    return importlib.util.find_spec("triton") is not None


def use_triton(tensor: torch.Tensor) -> bool:
    """Triton path for float32 CUDA tensors when Triton is installed.

    ``SSLEARN_DISABLE_TRITON=1`` forces the PyTorch twins everywhere. (CPU tensors always
    take the twins; the tests run the kernels on the CPU through Triton's interpreter by
    calling them directly.)
    """
    if os.environ.get("SSLEARN_DISABLE_TRITON", "0") == "1":
        return False
    return tensor.is_cuda and tensor.dtype == torch.float32 and triton_available()
