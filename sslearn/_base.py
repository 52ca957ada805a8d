"""What :class:`LiquidS4Classifier` and :class:`LiquidS4Regressor` share: hyper-parameters,
their validation table, the fit / partial_fit / predict plumbing, pickling and plotting.

The subclasses differ only in the override points: :meth:`~BaseLiquidS4._encode_targets`,
:meth:`~BaseLiquidS4._n_outputs`, :meth:`~BaseLiquidS4._loss` and
:meth:`~BaseLiquidS4._validation_score` (plus their public predict methods and score).
"""

from __future__ import annotations

import io
import pickle
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, check_is_fitted

from sslearn._stream import open_stream
from sslearn._validation import check_panel_targets, validate_series, validate_times
from sslearn.data import ChannelScaler, Panel, standardise_series
from sslearn.data._times import median_gap, time_gaps
from sslearn.nn import LiquidS4Network
from sslearn.nn.layer import INITS, LIQUID_KERNELS, SSMS
from sslearn.nn.network import POOLINGS
from sslearn.training import (
    AUGMENT_PRESETS,
    PRECISIONS,
    SCHEDULERS,
    NonFiniteLossError,
    SeriesSet,
    TrainingConfig,
    TrainingOutOfMemoryError,
    check_callbacks,
    default_callbacks,
    fit_placement,
    inference_device,
    inference_precision,
    initialising,
    predict_outputs,
    resolve_augment,
    seeded_threadsafe,
    train,
    train_distributed,
)
from sslearn.training._device import RNG_LOCK

# parameters that shape the network; warm_start refuses to continue if they changed
ARCHITECTURE = (
    "d_model",
    "n_layers",
    "d_state",
    "ssm",
    "liquid_kernel",
    "liquid_degree",
    "init",
    "bidirectional",
    "conv_width",
    "stem_channels",
    "stem_head",
    "dropout",
    "norm",
    "pooling",
    "n_estimators",
    "dt_range",
)

# series whose length is above this many network activations are predicted in smaller batches
_PREDICT_ELEMENTS = 2**24


class BaseLiquidS4(BaseEstimator):
    """Shared machinery of the Liquid-S4 estimators (not meant to be used directly)."""

    _parameter_constraints: ClassVar[dict] = {
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "d_state": [Interval(Integral, 2, None, closed="left")],
        "ssm": [StrOptions(set(SSMS))],
        "liquid_kernel": [StrOptions({k for k in LIQUID_KERNELS if k is not None}), None],
        "liquid_degree": [Interval(Integral, 2, None, closed="left")],
        "init": [StrOptions({name for names in INITS.values() for name in names})],
        "bidirectional": ["boolean"],
        "conv_width": [Interval(Integral, 0, None, closed="left")],
        "stem_channels": [Interval(Integral, 0, None, closed="left")],
        "stem_head": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "norm": [StrOptions({"layer", "batch"})],
        "pooling": [StrOptions(set(POOLINGS))],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "augment": [StrOptions(set(AUGMENT_PRESETS)), dict, None],
        "dt_range": [StrOptions({"auto"}), tuple, list, None],
        "ema_decay": [Interval(Real, 0, 1, closed="neither"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "ssm_lr": [Interval(Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "scheduler": [StrOptions(set(SCHEDULERS))],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scale": ["boolean", StrOptions({"series", "both"})],
        "missing_at_predict": [StrOptions({"warn", "error", "ignore"})],
        "time_unit": [Interval(Real, 0, None, closed="neither"), None],
        "device": [str, torch.device],
        "devices": [Interval(Integral, 1, None, closed="left"), None],
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": "no_validation",  # checked by check_callbacks, with a clearer message
    }

    # early_stopping="auto" holds out a validation split from this many training series on
    _AUTO_EARLY_STOPPING_MIN_SAMPLES = 500

    def __init__(
        self,
        *,
        d_model=64,
        n_layers=4,
        d_state=64,
        ssm="diag",
        liquid_kernel="kb",
        liquid_degree=2,
        init="legs",
        bidirectional=True,
        conv_width=0,
        stem_channels=64,
        stem_head=False,
        dropout=0.0,
        norm="layer",
        pooling="mean",
        n_estimators=1,
        augment=None,
        dt_range=None,
        ema_decay=None,
        max_epochs=200,
        batch_size=32,
        lr=1e-2,
        ssm_lr=1e-3,
        weight_decay=0.01,
        scheduler="cosine",
        clip_grad_norm=1.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=30,
        tol=1e-4,
        scale="both",
        missing_at_predict="warn",
        time_unit=None,
        device="auto",
        devices=None,
        precision="32",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.d_model = d_model
        self.n_layers = n_layers
        self.d_state = d_state
        self.ssm = ssm
        self.liquid_kernel = liquid_kernel
        self.liquid_degree = liquid_degree
        self.init = init
        self.bidirectional = bidirectional
        self.conv_width = conv_width
        self.stem_channels = stem_channels
        self.stem_head = stem_head
        self.dropout = dropout
        self.norm = norm
        self.pooling = pooling
        self.n_estimators = n_estimators
        self.augment = augment
        self.dt_range = dt_range
        self.ema_decay = ema_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.ssm_lr = ssm_lr
        self.weight_decay = weight_decay
        self.scheduler = scheduler
        self.clip_grad_norm = clip_grad_norm
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scale = scale
        self.missing_at_predict = missing_at_predict
        self.time_unit = time_unit
        self.device = device
        self.devices = devices
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # -- override points -------------------------------------------------------------------
    def _make_network(self, n_inputs: int, n_outputs: int) -> torch.nn.Module:
        """The torch module to train: (B, n_inputs, L), lengths -> (B, n_outputs), or
        (B, n_estimators, n_outputs) for an ensemble. A model fitted with ``times`` reads
        one more channel, the last: the gap before each step (``irregular=True``)."""
        dt_min, dt_max = self._dt_range(self.n_timepoints_)
        irregular = {"irregular": True} if self._uses_times() else {}
        return LiquidS4Network(
            n_inputs,
            n_outputs,
            d_model=self.d_model,
            n_layers=self.n_layers,
            norm=self.norm,
            pooling=self.pooling,
            dropout=float(self.dropout),
            conv_width=int(self.conv_width),
            stem_channels=int(self.stem_channels),
            stem_head=bool(self.stem_head) and self.stem_channels > 0,
            d_state=self.d_state,
            ssm=self.ssm,
            liquid_kernel=self.liquid_kernel,
            liquid_degree=self.liquid_degree,
            init=self.init,
            bidirectional=bool(self.bidirectional),
            n_members=self.n_estimators,
            dt_min=dt_min,
            dt_max=dt_max,
            **irregular,
        )

    def _dt_range(self, n_timepoints: int) -> tuple[float, float]:
        """Initial step sizes: fixed, given, or from the length of the longest series.

        ``"auto"`` spreads the SSMs' time scales ``1 / dt`` from a few steps to the whole
        series: ``dt`` in ``[1 / L, max(0.1, 10 / L)]``.
        """
        if self.dt_range is None:
            return 1e-3, 1e-1
        if isinstance(self.dt_range, str):  # "auto"
            length = max(int(n_timepoints), 1)
            return 1.0 / length, max(0.1, 10.0 / length)
        if len(self.dt_range) != 2 or not 0 < self.dt_range[0] <= self.dt_range[1]:
            raise ValueError(
                f"dt_range must be 'auto', None or a pair (dt_min, dt_max) with "
                f"0 < dt_min <= dt_max, got {self.dt_range!r}."
            )
        return float(self.dt_range[0]), float(self.dt_range[1])

    def _n_heads(self) -> int:
        """Outputs per series of the fitted network along its members' axis: the ensemble's
        members, and with ``stem_head`` their front ends' heads (1: a (B, n_outputs) output)."""
        return self.network_.n_heads

    def _combine_members(self, outputs: torch.Tensor) -> torch.Tensor:
        """One output per series from an ensemble's (B, K, n_outputs) (the members' mean)."""
        return outputs.mean(dim=1)

    def _training_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-series loss (B,): :meth:`_loss`, summed over an ensemble's members."""
        if outputs.ndim == 2:
            return self._loss(outputs, targets)
        batch, members = outputs.shape[:2]
        losses = self._loss(outputs.flatten(0, 1), targets.repeat_interleave(members, dim=0))
        return losses.view(batch, members).sum(dim=1)

    def _training_score(self, outputs, targets, weights) -> torch.Tensor:
        """:meth:`_validation_score` of the ensemble's combined outputs."""
        if outputs.ndim == 3:
            outputs = self._combine_members(outputs)
        return self._validation_score(outputs, targets, weights)

    def _encode_targets(self, y: Any, *, first: bool, classes: Any = None) -> np.ndarray:
        """Validate ``y`` and return the network's targets; ``first``: learn the encoding."""
        raise NotImplementedError

    def _n_outputs(self) -> int:
        """Size of the network's head (after :meth:`_encode_targets` has run)."""
        raise NotImplementedError

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-series training loss of shape (B,)."""
        raise NotImplementedError

    def _validation_score(
        self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None
    ) -> torch.Tensor:
        """Score on the validation split, higher is better (0-d tensor)."""
        raise NotImplementedError

    def _class_weights(self, targets: np.ndarray) -> np.ndarray | None:
        """Per-series weights implied by ``class_weight`` (classifier only)."""
        return None

    def _stratify(self, targets: np.ndarray) -> np.ndarray | None:
        """Labels to stratify the validation split by (classifier only)."""
        return None

    # -- fitting ---------------------------------------------------------------------------
    def _fit(
        self, X, y, sample_weight=None, *, incremental: bool, classes=None, groups=None, times=None
    ):
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but the target "
                "y is None."
            )
        callbacks = check_callbacks(self.callbacks)
        first = not (incremental or self.warm_start) or not hasattr(self, "network_")
        min_samples = 1 if incremental else 2
        check_panel_targets(X, y)
        panel, layout = validate_series(self, X, reset=first, min_samples=min_samples)
        stamps = validate_times(self, X, times, panel, layout, reset=first)
        targets = self._encode_targets(y, first=first, classes=classes)
        check_consistent_length(panel.lengths, targets)
        weights = self._sample_weights(sample_weight, panel, targets, incremental=incremental)
        groups = None if groups is None else _check_groups(groups, len(targets))
        if first:
            self.n_channels_ = panel.n_channels
            self.n_timepoints_ = int(panel.lengths.max())
            # "series" or "both"; a bool, also for np.bool_
            self.series_scaled_ = isinstance(self.scale, str)
            channels = bool(self.scale) and self.scale != "series"
            self.scaler_ = ChannelScaler().fit(panel) if channels else None
            self._missing_indicator = self.missing_in_fit_ = panel.has_missing
            self._start_times(stamps)
        elif panel.n_channels != self.n_channels_:
            raise ValueError(
                f"X has {panel.n_channels} channels, but {type(self).__name__} is expecting "
                f"{self.n_channels_} channels as input."
            )
        else:
            self._check_time_unit()
        data = self._series_set(panel, targets, weights, gaps=self._gaps(stamps))

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        early = self._uses_early_stopping(len(data)) and not incremental
        # data-parallel fits train in processes of their own; this one prepares on the CPU
        placement = fit_placement(self.device, self.devices)
        with placement as where, seeded_threadsafe(seed, where.device) as generator:
            self.device_ = where.fitted
            if first:
                with initialising(seed):  # safe from fits in other threads
                    self._start_network(data.values.shape[1] - int(self.uses_times_))
            else:
                self._check_architecture()
            train_set, valid_set = self._split(data, targets, seed, early, groups)
            config = self._training_config(incremental, early)
            callbacks = [*self._default_callbacks(config), *callbacks]
            try:
                result = self._train(
                    train_set, valid_set, config, where, generator, seed, callbacks
                )
            except (NonFiniteLossError, TrainingOutOfMemoryError) as error:  # keep the record
                self._record(error.result, early)
                raise
        self._record(result, early)
        self._calibrate(None if incremental else valid_set)
        return self

    def _default_callbacks(self, config: TrainingConfig) -> list:
        """The built-in callbacks of a fit, called before the user's ``callbacks``: early
        stopping (not in ``partial_fit``) and the progress bar (``verbose``)."""
        return default_callbacks(config)

    def _train(self, train_set, valid_set, config, where, generator, seed, callbacks):
        """Train ``network_`` on ``where.device``, or in ``where.ranks`` processes with DDP."""
        options = {
            "config": config,
            "generator": generator,
            "score_fn": self._training_score,
            "optimizer_state": self._optimizer_state,
            "first_epoch": self.n_iter_ + 1,
            "callbacks": callbacks,
        }
        if where.ranks is not None:
            self.network_.to("cpu")
            return train_distributed(
                self.network_, self._training_loss, train_set, valid_set, devices=where.ranks,
                seed=seed,
                **options,
            )  # fmt: skip
        device = where.device
        self.network_.to(device)
        valid_set = None if valid_set is None else valid_set.to(device)
        return train(
            self.network_, self._training_loss, train_set.to(device), valid_set, device=device,
            **options,
        )  # fmt: skip

    def _uses_early_stopping(self, n_samples: int) -> bool:
        if self.early_stopping == "auto":
            return n_samples >= self._AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _training_config(self, incremental: bool, early: bool) -> TrainingConfig:
        return TrainingConfig(
            max_epochs=1 if incremental else self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            ssm_lr=self.ssm_lr,
            weight_decay=self.weight_decay,
            scheduler="constant" if incremental else self.scheduler,
            warmup_fraction=0.0 if incremental else 0.05,
            clip_grad_norm=self.clip_grad_norm,
            n_iter_no_change=None if incremental else self.n_iter_no_change,
            tol=self.tol,
            augment=resolve_augment(self.augment, gaps=self._uses_times()),
            average_weights=None if incremental else self.ema_decay,
            precision=self.precision,
            verbose=self.verbose,
        )

    def _sample_weights(self, sample_weight, panel: Panel, targets: np.ndarray, *, incremental):
        """Sample weights times class weights, scaled to mean 1 (None when neither is set)."""
        weights = self._class_weights(targets)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, panel.lengths, dtype=np.float64, ensure_non_negative=True
            )
            weights = sample_weight if weights is None else weights * sample_weight
        if weights is None:
            return None
        if not weights.any():
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return weights / weights.mean()

    def _series_set(self, panel: Panel, targets=None, weights=None, gaps=None) -> SeriesSet:
        """The network's inputs: scaled values (plus missingness channels, plus the time
        ``gaps`` (n_samples, n_timepoints) as the last channel) and lengths."""
        scaled = []
        if self.scaler_ is not None:
            scaled.append(self.scaler_.transform(panel).values)
        if self._series_scaled():
            scaled.append(standardise_series(panel).values)
        values = np.concatenate(scaled, axis=1) if scaled else panel.values
        if self._missing_indicator:
            values = np.concatenate([values, panel.missing.astype(np.float32)], axis=1)
        if gaps is not None:
            values = np.concatenate([values, gaps[:, None, :]], axis=1)
        return SeriesSet.from_numpy(values, panel.lengths, targets, weights)

    def _channel_copies(self) -> int:
        """How many network input channels each data channel becomes: one per scaling
        (two with ``scale="both"``), plus its missingness indicator."""
        both = self._series_scaled() and self.scaler_ is not None
        return 1 + int(both) + int(self._missing_indicator)

    def _series_scaled(self) -> bool:
        """Whether each series is standardised by its own statistics (``scale="series"``
        or ``"both"``; models saved before the option: no)."""
        return bool(getattr(self, "series_scaled_", False))

    def _check_causal_scaling(self, what: str) -> None:
        """A clear error where ``what`` reads a series step by step, which the per-series
        standardisation of ``scale="series"`` or ``"both"`` cannot (naming the other fix,
        ``bidirectional=False``, when the network also needs it)."""
        if self._series_scaled():
            also = ""
            if self.network_.config.get("bidirectional"):
                also = " and bidirectional=False (layers that read forwards only)"
            raise ValueError(
                f"{what} is not available for a {type(self).__name__} fitted with "
                f"scale={self.scale!r}: each series is standardised by the mean and standard "
                "deviation of all its steps, which are known only once the series has ended. "
                f"Fit with scale=True (per-channel statistics from the training set){also} to "
                "read series step by step."
            )

    # -- irregular sampling (times) --------------------------------------------------------
    def _uses_times(self) -> bool:
        """Whether the fitted network reads time gaps (models saved before times: no)."""
        return bool(getattr(self, "uses_times_", False))

    def _start_times(self, stamps: np.ndarray | None) -> None:
        """``uses_times_`` and ``time_unit_`` of a first fit: ``time_unit``, or the median
        gap between the training stamps."""
        self.uses_times_ = stamps is not None
        if stamps is None:
            self.time_unit_ = None
        elif self.time_unit is not None:
            self.time_unit_ = float(self.time_unit)
        else:
            self.time_unit_ = median_gap(stamps)

    def _check_time_unit(self) -> None:
        """A fit that continues the fitted network keeps the first fit's ``time_unit_``."""
        fitted = getattr(self, "time_unit_", None)
        if self.time_unit is None or fitted is None or np.isclose(self.time_unit, fitted):
            return
        raise ValueError(
            f"warm_start / partial_fit continue training the fitted network, whose steps "
            f"last time_unit_={fitted!r}, but time_unit={self.time_unit!r} now; set "
            "time_unit back (or None), or warm_start=False to start over."
        )

    def _gaps(self, stamps: np.ndarray | None) -> np.ndarray | None:
        """The network's gap channel (n_samples, n_timepoints) of validated time stamps."""
        return None if stamps is None else time_gaps(stamps, self.time_unit_)

    def _start_network(self, n_inputs: int) -> None:
        self.network_ = self._make_network(n_inputs, self._n_outputs())
        self._architecture = {name: getattr(self, name) for name in ARCHITECTURE}
        self._optimizer_state = None
        self.history_ = []
        self.n_iter_ = 0
        self.best_validation_score_ = None
        self.validation_scores_ = None

    def _check_architecture(self) -> None:
        changed = [n for n, v in self._architecture.items() if getattr(self, n) != v]
        if changed:
            raise ValueError(
                f"warm_start / partial_fit continue training the fitted network, but "
                f"{changed} changed since it was built; set warm_start=False to start over."
            )

    def _split(self, data: SeriesSet, targets: np.ndarray, seed: int, early: bool, groups=None):
        """Training and validation sets (None without early stopping): a stratified
        ``validation_fraction`` of the series, or of the ``groups`` (whole groups held out)."""
        if not early:
            return data, None
        train_index, valid_index = self._split_index(targets, seed, groups)
        return data.subset(np.sort(train_index)), data.subset(np.sort(valid_index))

    def _split_index(self, targets: np.ndarray, seed: int, groups=None):
        """Row indices of the training and validation parts (see :meth:`_split`)."""
        index = np.arange(len(targets))
        if groups is not None:
            n_groups = np.unique(groups).size
            if n_groups < 2:
                raise ValueError(
                    f"groups has {n_groups} distinct value(s); early stopping holds out whole "
                    "groups for validation and needs at least 2. Pass more groups, "
                    "groups=None, or early_stopping=False."
                )
            splitter = GroupShuffleSplit(
                n_splits=1, test_size=self.validation_fraction, random_state=seed
            )
            try:
                return next(splitter.split(index, groups=groups))
            except ValueError as error:  # every group held out
                raise ValueError(
                    f"Cannot hold out validation_fraction={self.validation_fraction} of "
                    f"{n_groups} groups and keep one for training: {error}"
                ) from error
        stratify = self._stratify(targets)
        try:
            train_index, valid_index = train_test_split(
                index, test_size=self.validation_fraction, random_state=seed, stratify=stratify
            )
        except ValueError:  # a class too small to stratify: split at random
            train_index, valid_index = train_test_split(
                index, test_size=self.validation_fraction, random_state=seed
            )
        return train_index, valid_index

    def _record(self, result, early: bool) -> None:
        self.history_.extend(result.history)
        self.n_iter_ += len(result.history)
        if result.optimizer_state is not None:
            self._optimizer_state = result.optimizer_state
        self.loss_curve_ = [record["train_loss"] for record in self.history_]
        self.stop_reason_ = result.stop_reason
        if early:
            self.validation_scores_ = [record["valid_score"] for record in result.history]
            self.best_validation_score_ = result.best_valid_score

    # -- held-out calibration --------------------------------------------------------------
    def _calibrate(self, valid_set: SeriesSet | None) -> None:
        """Store, as fitted attributes, what the uncertainty methods need from the held-out
        part ``valid_set`` of the fit; None when there is none (no early stopping, or
        ``partial_fit``). The same part chose the stopping epoch. A no-op here."""

    def _check_calibrated(self, attribute: str, method: str) -> None:
        """Raise a ValueError naming ``method`` when the fit left no held-out scores."""
        check_is_fitted(self)
        if getattr(self, attribute, None) is None:
            raise ValueError(
                f"{method} calibrates on the part of the training series held out for early "
                f"stopping, but this {type(self).__name__} was fitted without one (or last "
                "trained by partial_fit). Fit it with early_stopping=True, which holds out "
                "validation_fraction of the series."
            )

    def _outputs(
        self, data: SeriesSet, *, members: bool = False, features: bool = False
    ) -> np.ndarray:
        """The fitted network's float64 outputs of ``data``: (n_samples, n_outputs), each
        ensemble member's (n_samples, n_estimators, n_outputs) with ``members``, or the pooled
        features before the head (n_samples, n_features) with ``features``."""
        device = self._inference_device()
        precision, dtype = inference_precision(self.precision, device)
        self.network_.to(device)
        combine = self._n_heads() > 1 and not (members or features)
        outputs = predict_outputs(
            _PooledFeatures(self.network_) if features else self.network_,
            data,
            device=device,
            batch_size=self._predict_batch_size(data.values.shape[-1]),
            precision=precision,
            dtype=dtype,
            transform=self._combine_members if combine else None,
        )
        outputs = outputs.numpy().astype(np.float64)
        if members and outputs.ndim == 2:  # a single network: one member
            outputs = outputs[:, None, :]
        return outputs

    def _member_outputs(self, X, times=None) -> np.ndarray:
        """Validated ``X`` through each ensemble member: (n_samples, n_estimators, n_outputs)."""
        return self._forward(X, members=True, times=times)

    def _forward(
        self, X, *, members: bool = False, features: bool = False, times=None
    ) -> np.ndarray:
        """Validated ``X`` (and ``times``) through the fitted network (see :meth:`_outputs`)."""
        check_is_fitted(self)
        panel, layout = validate_series(self, X, reset=False)
        stamps = validate_times(self, X, times, panel, layout, reset=False)
        self._check_missing(panel)
        data = self._series_set(panel, gaps=self._gaps(stamps))
        return self._outputs(data, members=members, features=features)

    def embed(self, X, times=None) -> np.ndarray:
        """The fitted network's pooled features of each series: the input of its final
        linear head.

        They pass through the same validation, scaling and batching as :meth:`predict`, and
        suit a downstream estimator, clustering or a plot. The head applied to them gives the
        network's outputs (for a classifier, its logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``; required if and only if the model was fitted
            with ``times``.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features)
            ``n_features`` is ``d_model`` per ensemble member, twice that with
            ``pooling="mean+max"`` (each member's means, then its maxima). With
            ``n_estimators > 1`` the members' features are concatenated member after member:
            columns ``k * f`` to ``(k + 1) * f - 1`` belong to member ``k``, with ``f`` the
            features of one member. With ``stem_head`` (the classifier's default) they are
            the input of the SSM heads only: the predictions also average in the heads on
            the front end's mean output.

        Examples
        --------
        >>> import numpy as np
        >>> from sslearn import LiquidS4Classifier
        >>> X = np.random.RandomState(0).randn(20, 2, 16)
        >>> y = np.arange(20) % 2
        >>> clf = LiquidS4Classifier(d_model=8, n_layers=1, d_state=4, max_epochs=2,
        ...                          device="cpu", random_state=0).fit(X, y)
        >>> clf.embed(X).shape  # the classifier's mean+max pooling: 2 * d_model features
        (20, 16)
        """
        return self._forward(X, features=True, times=times)

    def stream(self, n_series: int | None = None):
        """Open a stream: predictions updated as new time steps arrive.

        The stream runs the fitted network in its recurrent form, one step at a time, with
        the running pooled statistics in its state; memory and the cost of a step do not
        grow with the length of the series. After each ``update`` its prediction methods
        equal this estimator's on the steps seen so far (up to floating-point rounding),
        through the same input scaling, missingness channels, ensemble averaging and output
        transform (see the streaming guide of the user guide).

        Parameters
        ----------
        n_series : int, default=None
            Number of series streamed side by side; None: the first ``update`` sets it.

        Returns
        -------
        stream : ClassifierStream or RegressorStream
            ``update(X_new)`` appends steps of shape (n_series, n_channels, k) (or
            (n_series, k) for univariate models), ``update(X_new, times=...)`` with their
            time stamps (n_series, k) for a model fitted with ``times``; ``predict()`` and,
            for a classifier,
            ``predict_proba()`` and ``decision_function()`` predict from all steps so far;
            ``reset()`` starts over. It keeps a copy of the fitted network: fitting this
            estimator again does not change it.

        Raises
        ------
        ValueError
            If the estimator was fitted with ``bidirectional=True`` (the default), whose
            layers read each series backwards from its end: fit with
            ``bidirectional=False`` to stream. Likewise with ``scale="series"`` or
            ``"both"``, whose statistics need the whole series: fit with ``scale=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from sslearn import LiquidS4Classifier
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.randn(20, 2, 16), np.arange(20) % 2
        >>> clf = LiquidS4Classifier(d_model=8, n_layers=1, d_state=4, max_epochs=2,
        ...                          bidirectional=False, device="cpu", random_state=0)
        >>> clf = clf.fit(X, y)
        >>> stream = clf.stream()
        >>> for t in range(16):
        ...     proba = stream.update(X[:3, :, t : t + 1]).predict_proba()
        >>> bool(np.allclose(proba, clf.predict_proba(X[:3])))
        True
        """
        check_is_fitted(self)
        self._check_causal_scaling("stream()")
        return open_stream(self, n_series)

    def _check_missing(self, panel: Panel) -> None:
        """Warn or raise (``missing_at_predict``) at missing values the fit never saw."""
        if self.missing_at_predict == "ignore" or self._missing_indicator:
            return
        if not panel.has_missing:
            return
        n_missing = int(panel.missing.sum())
        message = (
            f"X has {n_missing} missing value(s) (NaN inside a series), but "
            f"{type(self).__name__} was fitted on data without any, so its network has no "
            "missingness channels and reads them as zeros (the channel's training mean with "
            "scale=True). Impute them, or fit on data with missing values; set "
            "missing_at_predict='ignore' to accept this, or 'error' to refuse it. (Trailing "
            "NaN that pad shorter series are not missing values.)"
        )
        if self.missing_at_predict == "error":
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=4)

    def _inference_device(self) -> torch.device:
        """Where the fitted network predicts: ``device_`` with ``device="auto"`` where it
        can, else ``device`` (see :func:`~sslearn.training.inference_device`)."""
        return inference_device(self.device, getattr(self, "device_", None))

    def _inference_dtype(self, device: torch.device) -> torch.dtype:
        """float64 on the CPU (batch-independent results), float32 elsewhere
        (see :func:`~sslearn.training.inference_precision`)."""
        return inference_precision(self.precision, device)[1]

    def _predict_batch_size(self, n_timepoints: int) -> int:
        """Series per inference batch: large, but bounded in activation memory."""
        width = self.d_model * self.n_estimators * (2 if self.bidirectional else 1)
        per_series = max(1, width * n_timepoints)
        return int(np.clip(_PREDICT_ELEMENTS // per_series, 1, max(self.batch_size, 1024)))

    def explain(
        self,
        X,
        baseline=None,
        target=None,
        method: str = "integrated_gradients",
        n_steps: int = 50,
        batch_size: int | None = None,
        times=None,
    ) -> np.ndarray:
        """Attribute each series' output to its input values (integrated gradients).

        The attribution of a value is its difference from the baseline times the gradient of
        the explained output averaged along the straight path from the baseline to the
        series, computed with `Captum <https://captum.ai>`_ (``pip install sslearn[explain]``).
        A series' attributions sum to ``f(X) - f(baseline)`` up to the error of an
        ``n_steps``-point quadrature (completeness). They are in the units of the explained
        output and refer to the values as given: the channel scaling of ``scale=True`` is
        affine per channel, which integrated gradients pass through exactly. With
        ``scale="series"`` or ``"both"`` (each series also standardised by its own
        statistics, which is not affine) every copy the network reads of a value is
        attributed along its own path from the baseline's copy, and the value's attribution
        is their sum; completeness holds all the same.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
            Series to explain, in any layout ``predict`` accepts.
        baseline : array-like of shape (n_samples, n_channels, n_timepoints) or (n_channels,), \
default=None
            The reference input, in the units of ``X``. None: each channel's training mean
            (``scaler_.mean_``), or 0 without it (``scale=False`` or ``"series"``); both are
            what the network reads for a missing value.
        target : label, array-like of shape (n_samples,) or int, default=None
            What to explain. Classifier: a class label, or one per series; None explains the
            predicted class. The explained output is the class's logit, or with
            ``n_estimators > 1`` the ensemble's log-probability of the class. Regressor: the
            index of the output (of a 2-D ``y``) to explain, in the units of ``y``;
            None means 0.
        method : {"integrated_gradients"}, default="integrated_gradients"
            The attribution method.
        n_steps : int, default=50
            Points of the Gauss-Legendre quadrature along the path. The convolutional front
            end's ReLUs (``stem_channels > 0``) make the model piecewise smooth along the
            path, so the sum of the attributions can miss ``f(X) - f(baseline)`` by more
            at 50 points; compare the two and raise ``n_steps`` (a few hundred) if they
            differ by more than you accept.
        batch_size : int, default=None
            Series per batch; each takes ``n_steps`` forward and backward passes at once.
            None: a size bounded in activation memory. The result does not depend on it.
        times : array-like of shape (n_samples, n_timepoints) or list of 1-D arrays, \
default=None
            Time stamps of the steps of ``X``; required if and only if the model was fitted
            with ``times``. The time gaps are held fixed along the path: they get no
            attribution.

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_channels, n_timepoints)
            float64, of ``X``'s shape for a 3-D array (a 2-D one gains a channel axis; for
            other layouts ``n_timepoints`` is the longest series'). NaN where ``X`` has no
            value (NaN padding of shorter series, missing values): the baseline takes
            ``X``'s value there, so they add nothing to the sum.

        Examples
        --------
        >>> import numpy as np
        >>> from sslearn import LiquidS4Regressor
        >>> rng = np.random.RandomState(0)
        >>> X, y = rng.randn(20, 2, 16), rng.randn(20)
        >>> model = LiquidS4Regressor(d_model=8, n_layers=1, max_epochs=2, random_state=0)
        >>> attributions = model.fit(X, y).explain(X[:3])
        >>> attributions.shape
        (3, 2, 16)
        """
        check_is_fitted(self)
        from sslearn import _explain

        _explain.check_method(method)
        if not isinstance(n_steps, Integral) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
        if batch_size is not None and (not isinstance(batch_size, Integral) or batch_size < 1):
            raise ValueError(f"batch_size must be None or a positive integer, got {batch_size!r}.")
        try:
            import captum.attr  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "explain needs Captum; install it with `pip install sslearn[explain]` "
                "(or `pip install captum`)."
            ) from error
        panel, layout = validate_series(self, X, reset=False)
        stamps = validate_times(self, X, times, panel, layout, reset=False)
        self._check_missing(panel)
        width = _explain.input_width(X)
        baseline = _explain.raw_baseline(self, panel, baseline, width)
        if batch_size is None:
            batch_size = max(1, self._predict_batch_size(panel.values.shape[-1]) // n_steps)
        attributions = _explain.integrated_gradients(
            self,
            panel,
            baseline,
            target,
            n_steps=int(n_steps),
            batch_size=int(batch_size),
            device=self._inference_device(),
            gaps=self._gaps(stamps),
        )
        return _explain.pad_to(attributions, width)

    # -- persistence, tags, plots ----------------------------------------------------------
    def __getstate__(self):
        state = dict(super().__getstate__())
        network = state.get("network_")
        if network is not None:  # weights only; __setstate__ rebuilds the module
            state["network_"] = _TorchBytes(_tensor_bytes(network.state_dict()))
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = _TorchBytes(_tensor_bytes(state["_optimizer_state"]))
        return state

    def __setstate__(self, state):
        # weights_only: torch reads tensors and plain containers, never arbitrary objects
        for key, value in state.items():
            if isinstance(value, _TorchBytes):
                try:
                    state[key] = torch.load(
                        io.BytesIO(value.data), map_location="cpu", weights_only=True
                    )
                except pickle.UnpicklingError as error:
                    raise ValueError(
                        f"this pickle of a {type(self).__name__} holds {key} as a whole torch "
                        "object, as earlier development versions of sslearn wrote it; this "
                        "version reads only tensors from it. Refit the model (and save it "
                        "with sslearn.save)."
                    ) from error
        weights = state.pop("network_", None)
        super().__setstate__(state)
        if weights is not None:
            self.network_ = self._build_fitted_network()
            self.network_.load_state_dict(weights)

    def _build_fitted_network(self) -> torch.nn.Module:
        """A fresh network of the fitted shape, to receive the fitted weights.

        Built as :meth:`_start_network` built it, with the architecture parameters of the fit
        (``_architecture``), in evaluation mode on the CPU, leaving torch's global random
        state as it was.
        """
        n_inputs = self.n_channels_ * self._channel_copies()
        current = {name: getattr(self, name) for name in self._architecture}
        with RNG_LOCK, torch.random.fork_rng(devices=[]):
            vars(self).update(self._architecture)
            try:
                network = self._make_network(n_inputs, self._n_outputs())
            finally:
                vars(self).update(current)
        return network.eval()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "network_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        return tags

    def plot_history(self, ax=None):
        """Plot the training loss (and validation loss and score) per epoch.

        With a validation split (early stopping), the validation score is drawn on a twin
        y-axis on the right; one legend on ``ax`` names every line of both axes.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None. matplotlib is imported here only.

        Returns
        -------
        ax : matplotlib Axes
            The axes of the losses, which hold the legend.
        """
        check_is_fitted(self)
        import matplotlib.pyplot as plt

        if ax is None:  # constrained: room for the twin's y label on the right
            _, ax = plt.subplots(layout="constrained")
        epochs = [record["epoch"] for record in self.history_]
        lines = ax.plot(epochs, self.loss_curve_, label="train loss")
        if any("valid_loss" in record for record in self.history_):
            valid = [record.get("valid_loss", np.nan) for record in self.history_]
            lines += ax.plot(epochs, valid, label="validation loss")
            twin = ax.twinx()
            score = [record.get("valid_score", np.nan) for record in self.history_]
            lines += twin.plot(
                epochs, score, color="tab:green", linestyle="--", label="validation score"
            )
            twin.set_ylabel("validation score")
            # a twin is drawn above its host and would cover the host's legend: draw the
            # twin (with ax's background) first, then ax with its lines and the legend
            background = ax.patch.get_facecolor(), ax.patch.get_visible()
            ax.set_zorder(twin.get_zorder() + 1)
            twin.patch.set_facecolor(background[0])
            twin.patch.set_visible(background[1])
            ax.patch.set_visible(False)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        # ax.legend() alone collects only ax's own lines, not the twin's validation score
        ax.legend(lines, [line.get_label() for line in lines], loc="upper right")
        return ax


def _check_groups(groups: Any, n_samples: int) -> np.ndarray:
    """``groups`` as a 1-d array of ``n_samples`` labels without missing values."""
    array = np.asarray(groups)
    if array.ndim != 1:
        raise ValueError(f"groups must be 1-dimensional, got an array of shape {array.shape}.")
    if len(array) != n_samples:
        raise ValueError(
            f"groups has {len(array)} element(s), but X has {n_samples} series; pass one "
            "group label per series."
        )
    missing = pd.isna(array)
    if missing.any():
        raise ValueError(
            f"groups has {int(missing.sum())} missing value(s) (None or NaN); every series "
            "needs a group label."
        )
    return array


class _PooledFeatures(torch.nn.Module):
    """``network.embed`` as a module's forward, for :func:`predict_outputs`."""

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.network.embed(x, lengths)


class _TorchBytes:
    """Tensors (a state dict) serialised by :meth:`BaseLiquidS4.__getstate__`, device free."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __getstate__(self):
        return self.data

    def __setstate__(self, data):
        self.data = data


def _tensor_bytes(tensors: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()
