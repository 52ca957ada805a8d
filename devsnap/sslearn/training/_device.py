"""Device and numeric-precision choices, resolved lazily (only inside ``fit``/``predict``).

Nothing here runs at import time: CUDA is queried the first time :func:`resolve_device` is
called, so constructing an estimator or forking worker processes never creates a CUDA context.
:func:`training_device` is where a fit trains: with ``device="auto"`` on a host with several
GPUs it claims the least busy one (see :mod:`sslearn.training._gpu_claims`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from sslearn.training._gpu_claims import claim_gpu, last_claimed, preference

PRECISIONS = ("32", "bf16-mixed", "16-mixed")


class DeviceWarning(UserWarning):
    """A requested device is not available and another one is used instead."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn a user's device choice into a :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"``: the CUDA device this thread last trained on (see :func:`training_device`)
        or else the current CUDA device when CUDA is available; the CPU otherwise.
        ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``: that device; a CUDA device on a machine
        without CUDA falls back to the CPU with a :class:`DeviceWarning`. Any other string
        torch understands (e.g. ``"mps"``) is passed through.

    Returns
    -------
    torch.device
    """
    name = str(device)
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        last = last_claimed()
        if last is not None and last < torch.cuda.device_count():
            return torch.device("cuda", last)
        return torch.device("cuda")
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


@contextlib.contextmanager
def training_device(device: str | torch.device = "auto") -> Iterator[torch.device]:
    """Resolve ``device`` for one training run and make it the current device meanwhile.

    ``"auto"`` on a host with several visible GPUs claims, for the duration of the block, the
    GPU on which the fewest sslearn fits of this user are training (threads and processes
    alike; ties go to the GPU this thread used before, then to the current device, then to
    the lowest index), so that ``GridSearchCV(n_jobs=k)`` on ``k`` GPUs trains ``k`` models at
    once, one per GPU. Other choices resolve as in :func:`resolve_device`. An error raised in
    the block gets a note naming the device and the worker when it trains on a GPU or outside
    the main thread of the main process.

    Yields
    ------
    torch.device
    """
    auto = str(device) == "auto" and torch.cuda.is_available()
    n_gpus = torch.cuda.device_count() if auto else 0
    claim = contextlib.nullcontext(None)
    if n_gpus > 1:
        current = torch.cuda.current_device() if torch.cuda.is_initialized() else None
        claim = claim_gpu(n_gpus, preference(n_gpus, current))
    with claim as index:
        resolved = torch.device("cuda", index) if index is not None else resolve_device(device)
        current_device = torch.cuda.device(resolved) if resolved.type == "cuda" else None
        try:
            with current_device or contextlib.nullcontext():
                yield resolved
        except Exception as error:
            _note_where(error, resolved)
            raise


def worker_description() -> str:
    """Host, process and thread of the caller (and its Dask worker, inside one)."""
    where = (
        f"process {os.getpid()} ({multiprocessing.current_process().name}) on "
        f"{socket.gethostname()}, thread {threading.current_thread().name!r}"
    )
    if "distributed" in sys.modules:
        try:
            where += f", Dask worker {sys.modules['distributed'].get_worker().name!r}"
        except (AttributeError, ValueError):  # not inside a Dask worker
            pass
    return where


def _note_where(error: Exception, device: torch.device) -> None:
    in_worker = (
        multiprocessing.current_process().name != "MainProcess"
        or threading.current_thread() is not threading.main_thread()
    )
    if not hasattr(error, "add_note") or not (device.type == "cuda" or in_worker):
        return
    error.add_note(f"sslearn: raised while training on {device}, in {worker_description()}.")
    if isinstance(error, torch.cuda.OutOfMemoryError):
        error.add_note(
            "Do other jobs share this GPU? With n_jobs > 1 keep device='auto' (one fit per "
            "GPU while there are enough), run fewer jobs, or lower batch_size."
        )


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
