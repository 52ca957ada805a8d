"""Device, numeric-precision and seed choices, resolved lazily (only inside ``fit``/``predict``).

Every device, precision and seeding decision of sslearn is made here, once per call:

- :func:`resolve_device` turns a user's ``device`` into a :class:`torch.device`;
- :func:`fit_placement` is where a fit trains: one device (:func:`training_device`, which with
  ``device="auto"`` on a host with several GPUs claims the least busy one, see
  :mod:`sslearn.training._gpu_claims`) or the ranks of a data-parallel fit
  (:func:`rank_devices`);
- :func:`inference_device` is where a fitted model predicts (the fit's device, where it
  can);
- :func:`resolve_precision` and :func:`inference_precision` give the numeric precision of
  training and of inference;
- :func:`seeded` (and :func:`seeded_threadsafe`, :func:`initialising`) make a fit's
  randomness a function of its seed, without global side effects.

Nothing here runs at import time: CUDA is queried the first time one of them is called, so
constructing an estimator or forking worker processes never creates a CUDA context.

Reproducibility, safe in threads: :func:`seeded` forks torch's default generators, seeds the
fork and restores the caller's state on exit. Fits in threads of one process stay
reproducible too: joblib's threading backend and Dask workers run several fits in one
process, and they share torch's default generators. :func:`seeded` writes to them on entry
(seed) and on exit (restore), and a network draws its initial weights from them;
interleaved, one fit's seeding or restore lands in the middle of another fit's
initialisation. Holding :data:`RNG_LOCK` around these writes and around the initialisation
keeps each fit's initial weights a function of its own seed. Dropout draws during training
still share the generator (with ``dropout > 0``, fits in threads are not bit-reproducible;
in processes they are).
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


def rank_devices(device: str | torch.device, n_processes: int) -> list[torch.device]:
    """The device of each rank of a data-parallel fit.

    ``"auto"`` and ``"cuda"``: ``cuda:0`` to ``cuda:{n_processes - 1}`` when CUDA is
    available (at least ``n_processes`` GPUs must be visible), else CPU processes (``"cuda"``
    with a :class:`DeviceWarning`). ``"cpu"``: CPU processes. Only the device count is queried
    (no CUDA context is created in the calling process).

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cuda"`` or ``"cpu"``.
    n_processes : int
        Number of ranks.

    Returns
    -------
    list of torch.device
    """
    name = str(device)
    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(
            f"devices={n_processes} trains on cuda:0 to cuda:{n_processes - 1} or on CPU "
            f"processes; use device='auto', 'cuda' or 'cpu', not {name!r} (restrict the GPUs "
            "with CUDA_VISIBLE_DEVICES)."
        )
    if name != "cpu" and torch.cuda.is_available():
        n_gpus = torch.cuda.device_count()
        if n_gpus < n_processes:
            raise ValueError(
                f"devices={n_processes} needs {n_processes} GPUs, but {n_gpus} are visible; "
                "lower devices or use device='cpu' for CPU processes."
            )
        return [torch.device("cuda", rank) for rank in range(n_processes)]
    if name == "cuda":
        warnings.warn(
            "device='cuda' was requested but CUDA is not available; training in "
            f"{n_processes} CPU processes",
            DeviceWarning,
            stacklevel=3,
        )
    return [torch.device("cpu")] * n_processes


@dataclass(frozen=True)
class Placement:
    """Where one fit runs (see :func:`fit_placement`).

    Attributes
    ----------
    device : torch.device
        Where this process trains, or, in a data-parallel fit, prepares (the CPU).
    ranks : list of torch.device or None
        Each rank's device in a data-parallel fit, else None.
    """

    device: torch.device
    ranks: list[torch.device] | None = None

    @property
    def fitted(self) -> torch.device:
        """The device the fit trains on (rank 0's in a data-parallel fit): ``device_``."""
        return self.ranks[0] if self.ranks else self.device


@contextlib.contextmanager
def fit_placement(
    device: str | torch.device = "auto", n_processes: int | None = None
) -> Iterator[Placement]:
    """Resolve, once, where one fit runs, for the duration of the block.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        The estimator's ``device``.
    n_processes : int or None, default=None
        The estimator's ``devices``: ``k >= 2`` trains in ``k`` processes.

    Yields
    ------
    Placement
        For a fit in this process, the device that :func:`training_device` claims and makes
        current; with ``n_processes >= 2``, the CPU for this process (which only prepares)
        and each rank's device (:func:`rank_devices`).
    """
    if n_processes is not None and n_processes > 1:
        yield Placement(torch.device("cpu"), rank_devices(device, n_processes))
        return
    with training_device(device) as resolved:
        yield Placement(resolved)


def graph_supported(device: torch.device, uses_grad_scaler: bool) -> bool:
    """CUDA graphs are used on CUDA devices, without a gradient scaler (fp16 dynamic scaling
    makes host-side decisions every step)."""
    return device.type == "cuda" and not uses_grad_scaler


def inference_device(
    device: str | torch.device = "auto", fitted: torch.device | None = None
) -> torch.device:
    """Where a fitted model predicts.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        The estimator's ``device``, resolved by :func:`resolve_device`.
    fitted : torch.device or None, default=None
        The device the fit trained on (``device_``). With ``device="auto"`` a model predicts
        where it trained: on the CPU if fitted there, on its GPU when that GPU exists here
        (so ``device="auto"`` fits spread over several GPUs predict where they trained, from
        any thread); a GPU model on a machine without that GPU predicts on what ``"auto"``
        resolves to here (the CPU on a machine without CUDA). An explicit ``device`` wins.

    Returns
    -------
    torch.device
    """
    resolved = resolve_device(device)
    if str(device) != "auto" or fitted is None:
        return resolved
    if fitted.type == "cpu":
        return fitted
    if fitted.type == resolved.type == "cuda" and (
        fitted.index is None or fitted.index < torch.cuda.device_count()
    ):
        return fitted
    return resolved


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


def inference_precision(precision: str, device: torch.device) -> tuple[Precision, torch.dtype]:
    """How a fitted network predicts on ``device``: the autocast and the dtype of its copy.

    On the CPU the network runs in float64 without autocast, so that a series' outputs do not
    depend on the other series of its batch (float32 matrix products differ in the last bit
    with the batch size). Elsewhere it runs in float32 under ``precision``'s autocast
    (:func:`resolve_precision`).

    Returns
    -------
    precision : Precision
    dtype : torch.dtype
    """
    if device.type == "cpu":
        return Precision("64", None, False), torch.float64
    return resolve_precision(precision, device), torch.float32


# -- seeds: reproducible randomness without global side effects ----------------------------

RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[torch.Generator]:
    """Seed torch's CPU generator (and ``device``'s, when CUDA) inside the block only.

    Parameter initialisation and dropout draw from torch's default generators; this forks
    them (``torch.random.fork_rng``), seeds the fork, and restores the caller's state on exit.
    Yields a separate CPU :class:`torch.Generator` seeded with ``seed`` for batch shuffling.
    """
    cuda = (
        [device.index if device.index is not None else torch.cuda.current_device()]
        if (device.type == "cuda")
        else []
    )
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def seeded_threadsafe(seed: int, device: torch.device) -> Iterator[torch.Generator]:
    """:func:`~sslearn.training.seeded`, entered and exited under :data:`RNG_LOCK`."""
    stack = contextlib.ExitStack()
    with RNG_LOCK:
        generator = stack.enter_context(seeded(seed, device))
    try:
        yield generator
    finally:
        with RNG_LOCK:
            stack.close()


@contextlib.contextmanager
def initialising(seed: int) -> Iterator[None]:
    """Hold :data:`RNG_LOCK` with torch's CPU generator seeded with ``seed`` (to build and
    initialise a network)."""
    with RNG_LOCK:
        torch.default_generator.manual_seed(seed)
        yield
