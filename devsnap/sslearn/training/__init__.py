"""Floor 2: training a network on in-memory series (torch + numpy; no sklearn here).

:func:`train` runs the loop, :func:`predict_outputs` batches inference, :class:`SeriesSet`
holds series as tensors, :func:`resolve_device` / :func:`resolve_precision` turn user
choices into torch objects lazily, :func:`training_device` spreads ``device="auto"`` fits
over a host's GPUs, :func:`train_distributed` runs one fit in several DDP processes,
:class:`Augmentation` transforms training batches, and :func:`seeded` gives reproducible,
side-effect-free randomness (:func:`seeded_threadsafe` and :func:`initialising` keep it so
for fits in threads).
"""

from sslearn.training._augment import PRESETS as AUGMENT_PRESETS
from sslearn.training._augment import Augmentation, resolve_augment
from sslearn.training._batches import SeriesSet, predict_outputs
from sslearn.training._device import (
    PRECISIONS,
    DeviceWarning,
    Precision,
    resolve_device,
    resolve_precision,
    training_device,
)
from sslearn.training._distributed import rank_devices, train_distributed
from sslearn.training._loop import (
    NonFiniteLossError,
    TrainingConfig,
    TrainingInterruptedWarning,
    TrainingOutOfMemoryError,
    TrainingResult,
    snapshot,
    train,
)
from sslearn.training._schedule import SCHEDULERS, LRSchedule
from sslearn.training._seed import seeded
from sslearn.training._threadsafe import initialising, seeded_threadsafe

__all__ = [
    "AUGMENT_PRESETS",
    "PRECISIONS",
    "SCHEDULERS",
    "Augmentation",
    "DeviceWarning",
    "LRSchedule",
    "NonFiniteLossError",
    "Precision",
    "SeriesSet",
    "TrainingConfig",
    "TrainingInterruptedWarning",
    "TrainingOutOfMemoryError",
    "TrainingResult",
    "initialising",
    "predict_outputs",
    "rank_devices",
    "resolve_augment",
    "resolve_device",
    "resolve_precision",
    "seeded",
    "seeded_threadsafe",
    "snapshot",
    "train",
    "train_distributed",
    "training_device",
]
