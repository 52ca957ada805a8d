"""Reproducibility without global side effects: seeded local RNG contexts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


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
