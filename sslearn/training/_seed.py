"""Reproducibility without global side effects: seeded local RNG contexts, safe in threads.

:func:`seeded` forks torch's default generators, seeds the fork and restores the caller's
state on exit. Fits in threads of one process stay reproducible too: joblib's threading
backend and Dask workers run several fits in one process, and they share torch's default
generators. :func:`seeded` writes to them on entry (seed) and on exit (restore), and a
network draws its initial weights from them; interleaved, one fit's seeding or restore
lands in the middle of another fit's initialisation. Holding :data:`RNG_LOCK` around these
writes and around the initialisation keeps each fit's initial weights a function of its own
seed. Dropout draws during training still share the generator (with ``dropout > 0``, fits
in threads are not bit-reproducible; in processes they are).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

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
