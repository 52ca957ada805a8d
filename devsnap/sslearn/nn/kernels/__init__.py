"""Fast kernels for the SSM layer. Each op has a plain-PyTorch twin that is the reference and
the CPU path; Triton is optional (imported lazily, used on CUDA tensors or when
``TRITON_INTERPRET=1``)."""

from sslearn.nn.kernels._dispatch import triton_available, use_triton

__all__ = ["triton_available", "use_triton"]
