"""Floor 2: training a network on in-memory series (torch + numpy; no sklearn here).

:func:`train` runs the loop, :func:`predict_outputs` batches inference, :class:`SeriesSet`
holds series as tensors, :func:`resolve_device` / :func:`resolve_precision` turn user
choices into torch objects lazily, and :func:`seeded` gives reproducible, side-effect-free
randomness.
"""

from sslearn.training._batches import SeriesSet, predict_outputs
from sslearn.training._device import (
    PRECISIONS,
    DeviceWarning,
    Precision,
    resolve_device,
    resolve_precision,
)
from sslearn.training._loop import (
    NonFiniteLossError,
    TrainingConfig,
    TrainingInterruptedWarning,
    TrainingResult,
    snapshot,
    train,
)
from sslearn.training._schedule import SCHEDULERS, LRSchedule
from sslearn.training._seed import seeded

__all__ = [
    "PRECISIONS",
    "SCHEDULERS",
    "DeviceWarning",
    "LRSchedule",
    "NonFiniteLossError",
    "Precision",
    "SeriesSet",
    "TrainingConfig",
    "TrainingInterruptedWarning",
    "TrainingResult",
    "predict_outputs",
    "resolve_device",
    "resolve_precision",
    "seeded",
    "snapshot",
    "train",
]
