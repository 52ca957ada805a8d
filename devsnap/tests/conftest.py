"""Shared test configuration.

- Every test that takes a ``device`` argument runs on the CPU and, where one is present, on a
  CUDA GPU (skipped otherwise).
- Without a GPU, Triton kernels run in Triton's CPU interpreter: ``TRITON_INTERPRET`` must be
  set before any kernel module is imported, so it is set here. sslearn itself only takes the
  Triton path for CUDA tensors; the kernel tests call the kernels directly.
"""

import importlib.util
import os

import pytest
import torch

if not torch.cuda.is_available() and importlib.util.find_spec("triton") is not None:
    os.environ.setdefault("TRITON_INTERPRET", "1")

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize(
            "device", ["cpu", pytest.param("cuda", marks=[CUDA, pytest.mark.cuda])]
        )


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module of tiny fits: faster than several, and fair on a busy
    CI machine; the thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
