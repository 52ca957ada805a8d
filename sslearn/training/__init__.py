"""Floor 2: training a network on in-memory series (torch + numpy; no sklearn here).

:func:`train` runs the loop and calls its :class:`Callback` objects (:class:`EarlyStopping`
and :class:`ProgressBar` are built in; they read a :class:`TrainingState`),
:func:`predict_outputs` batches inference, :class:`SeriesSet` holds series as tensors,
:func:`resolve_device` / :func:`resolve_precision` turn user choices into torch objects
lazily (:func:`fit_placement` and :func:`inference_device` decide where a fit trains and where
it predicts), :func:`training_device` spreads ``device="auto"`` fits over a host's GPUs,
:func:`train_distributed` runs one fit in several DDP processes,
:class:`Augmentation` transforms training batches, and :func:`seeded` gives reproducible,
side-effect-free randomness (:func:`seeded_threadsafe` and :func:`initialising` keep it so
for fits in threads).
"""

from sslearn.training._augment import PRESETS as AUGMENT_PRESETS
from sslearn.training._augment import Augmentation, resolve_augment
from sslearn.training._batches import SeriesSet, batch_bounds, n_batches, predict_outputs
from sslearn.training._callbacks import Callback, EarlyStopping, TrainingState, check_callbacks
from sslearn.training._device import (
    PRECISIONS,
    DeviceWarning,
    Placement,
    Precision,
    fit_placement,
    inference_device,
    inference_precision,
    initialising,
    rank_devices,
    resolve_device,
    resolve_precision,
    seeded,
    seeded_threadsafe,
    training_device,
)
from sslearn.training._distributed import train_distributed
from sslearn.training._loop import (
    SCHEDULERS,
    LRSchedule,
    NonFiniteLossError,
    TrainingConfig,
    TrainingInterruptedWarning,
    TrainingOutOfMemoryError,
    TrainingResult,
    default_callbacks,
    snapshot,
    train,
)
from sslearn.training._progress import ProgressBar

__all__ = [
    "AUGMENT_PRESETS",
    "PRECISIONS",
    "SCHEDULERS",
    "Augmentation",
    "Callback",
    "DeviceWarning",
    "EarlyStopping",
    "LRSchedule",
    "NonFiniteLossError",
    "Placement",
    "Precision",
    "ProgressBar",
    "SeriesSet",
    "TrainingConfig",
    "TrainingInterruptedWarning",
    "TrainingOutOfMemoryError",
    "TrainingResult",
    "TrainingState",
    "batch_bounds",
    "check_callbacks",
    "default_callbacks",
    "fit_placement",
    "inference_device",
    "inference_precision",
    "initialising",
    "n_batches",
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
