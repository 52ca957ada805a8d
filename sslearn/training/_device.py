"""Device and numeric-precision choices, resolved lazily (only inside ``fit``/``predict``).

Nothing here runs at import time: CUDA is queried the first time :func:`resolve_device` is
called, so constructing an estimator or forking worker processes never creates a CUDA context.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import torch

PRECISIONS = ("32", "bf16-mixed", "16-mixed")


class DeviceWarning(UserWarning):
    """A requested device is not available and another one is used instead."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn a user's device choice into a :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"``: the current CUDA device when CUDA is available, else the CPU.
        ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``: that device; a CUDA device on a machine
        without CUDA falls back to the CPU with a :class:`DeviceWarning`. Any other string
        torch understands (e.g. ``"mps"``) is passed through.

    Returns
    -------
    torch.device
    """
    name = str(device)
    if name == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    try:
        resolved = torch.device(name)
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:<index>'"
        ) from error
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            warnings.warn(
                f"device={name!r} was requested but CUDA is not available; using the CPU",
                DeviceWarning,
                stacklevel=3,
            )
            return torch.device("cpu")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={name!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    return resolved


@dataclass(frozen=True)
class Precision:
    """How a forward pass runs: autocast dtype (None for full float32) and loss scaling."""

    name: str
    dtype: torch.dtype | None
    scale_loss: bool

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        """An autocast context for ``device`` (a no-op for float32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.dtype)

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler:
        """A gradient scaler, enabled only for float16 training."""
        return torch.amp.GradScaler(device.type, enabled=self.scale_loss)


def resolve_precision(precision: str, device: torch.device) -> Precision:
    """Check a precision name against ``device``.

    ``"32"`` is full float32. ``"bf16-mixed"`` and ``"16-mixed"`` run matrix products under
    autocast (the SSM layer keeps its kernels and FFTs in float32 on its own); float16 adds
    dynamic loss scaling. bfloat16 on a GPU without bfloat16 support raises ``ValueError``.
    """
    if precision == "32":
        return Precision("32", None, False)
    if precision == "bf16-mixed":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError(
                f"precision='bf16-mixed' is not supported on {device}; use '16-mixed' or '32'"
            )
        return Precision(precision, torch.bfloat16, False)
    if precision == "16-mixed":
        return Precision(precision, torch.float16, True)
    raise ValueError(f"unknown precision {precision!r}; use one of {PRECISIONS}")
