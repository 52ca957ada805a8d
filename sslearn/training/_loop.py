"""The training loop: AdamW with SSM parameter groups, a per-step schedule, gradient clipping,
best-weight restore, mixed precision, callbacks (early stopping and the progress bar among
them, see :mod:`sslearn.training._callbacks`), and interrupt / divergence / out-of-memory
safety.

Data stay on the device for the whole run and batches are drawn there; the host reads the
device once per epoch (the epoch's loss sums and a finiteness check of the weights).
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from sslearn.nn.cores import param_groups
from sslearn.training._augment import Augmentation
from sslearn.training._batches import SeriesSet, batch_losses, n_batches
from sslearn.training._callbacks import Callback, EarlyStopping, TrainingState
from sslearn.training._device import graph_supported, resolve_precision
from sslearn.training._graph import GraphedStep, make_capturable
from sslearn.training._progress import ProgressBar

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ScoreFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


class NonFiniteLossError(RuntimeError):
    """The training loss or the weights became NaN or infinite.

    ``result`` holds the :class:`TrainingResult` of the finite epochs before it.
    """

    def __init__(self, message: str, result: TrainingResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class TrainingOutOfMemoryError(torch.OutOfMemoryError):
    """The device ran out of memory during training; the best weights so far were kept.

    A :class:`torch.OutOfMemoryError` (so ``except torch.cuda.OutOfMemoryError`` still
    catches it), raised from the original one, whose message says what to lower.
    ``result`` holds the :class:`TrainingResult` of the epochs before it.
    """

    def __init__(self, message: str, result: TrainingResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class TrainingInterruptedWarning(UserWarning):
    """Training was stopped by KeyboardInterrupt; the best weights so far were kept."""


@dataclass
class TrainingConfig:
    """Optimisation settings of one call to :func:`train` (see the estimators' docstrings)."""

    max_epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    ssm_lr: float | None = None
    weight_decay: float = 0.0
    scheduler: str = "cosine"
    warmup_fraction: float = 0.05
    clip_grad_norm: float | None = 1.0
    n_iter_no_change: int | None = 10
    tol: float = 1e-4
    precision: str = "32"
    verbose: int = 0
    augment: Augmentation | None = None
    average_weights: float | None = None
    cuda_graphs: bool = field(
        default_factory=lambda: os.environ.get("SSLEARN_CUDA_GRAPHS", "1") != "0"
    )


@dataclass
class TrainingResult:
    """What a run leaves behind besides the trained weights (already in the network)."""

    history: list[dict] = field(default_factory=list)
    stop_reason: str = "max_epochs"
    best_epoch: int | None = None
    best_valid_loss: float | None = None
    best_valid_score: float | None = None
    optimizer_state: dict | None = None


def snapshot(network: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the network's state (on its own device)."""
    return {key: value.detach().clone() for key, value in network.state_dict().items()}


def make_optimizer(
    network: torch.nn.Module, config: TrainingConfig, device: torch.device, state: dict | None
) -> torch.optim.AdamW:
    """AdamW over :func:`~sslearn.nn.param_groups`; ``state`` (from an earlier run) restores
    the moments while the learning rates and weight decay follow ``config``."""
    groups = param_groups(network, config.lr, config.weight_decay, config.ssm_lr)
    cuda = device.type == "cuda"
    optimizer = torch.optim.AdamW(groups, fused=cuda, foreach=not cuda)
    if state is not None:
        optimizer.load_state_dict(state)
        for group, fresh in zip(optimizer.param_groups, groups, strict=True):
            group["lr"], group["weight_decay"] = fresh["lr"], fresh["weight_decay"]
    return optimizer


def default_callbacks(config: TrainingConfig) -> list[Callback]:
    """The built-in callbacks of ``config``: :class:`EarlyStopping` (``n_iter_no_change``
    epochs without an improvement of ``tol``; none when ``n_iter_no_change`` is None) and
    the :class:`ProgressBar` (``verbose``)."""
    callbacks: list[Callback] = []
    if config.n_iter_no_change is not None:
        callbacks.append(EarlyStopping(config.n_iter_no_change, config.tol))
    if config.verbose:
        callbacks.append(ProgressBar(config.verbose))
    return callbacks


# -- the learning-rate schedule, applied per optimiser step --------------------------------

SCHEDULERS = ("cosine", "constant", "plateau")


class LRSchedule:
    """Multiply every group's base learning rate by a factor that changes during training.

    Applied per optimiser step: warm-up, then cosine, constant or plateau. One small class
    instead of chained torch schedulers, so that a linear warm-up composes with a plateau
    rule and every parameter group keeps its own base rate (the SSM group has ``ssm_lr``).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Each group's current ``lr`` is taken as its base rate.
    kind : {"cosine", "constant", "plateau"}
        ``"cosine"``: half a cosine from 1 to 0 over ``total_steps``. ``"constant"``: 1.
        ``"plateau"``: 1, halved (down to ``min_factor``) whenever the metric given to
        :meth:`end_epoch` has not improved for ``patience`` epochs.
    total_steps : int
        Optimiser steps of the whole run (epochs x batches).
    warmup_steps : int, default=0
        Linear warm-up from ``1 / (warmup_steps + 1)`` to 1 over the first steps.
    patience : int, default=5
    factor : float, default=0.5
    min_factor : float, default=1e-3
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kind: str,
        total_steps: int,
        *,
        warmup_steps: int = 0,
        patience: int = 5,
        factor: float = 0.5,
        min_factor: float = 1e-3,
    ) -> None:
        if kind not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {kind!r}; use one of {SCHEDULERS}")
        self.optimizer, self.kind = optimizer, kind
        self.total_steps, self.warmup_steps = max(int(total_steps), 1), int(warmup_steps)
        self.patience, self.factor, self.min_factor = patience, factor, min_factor
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.steps = 0
        self.plateau_factor = 1.0
        self._best = math.inf
        self._bad_epochs = 0
        self._apply()

    def factor_at(self, step: int) -> float:
        """The multiplier for optimiser step ``step`` (0-based)."""
        warm = min(1.0, (step + 1) / (self.warmup_steps + 1)) if self.warmup_steps else 1.0
        if self.kind == "cosine":
            progress = min(step / self.total_steps, 1.0)
            return warm * 0.5 * (1.0 + math.cos(math.pi * progress))
        return warm * self.plateau_factor

    @property
    def lr(self) -> float:
        """The current learning rate of the last group (the main, decayed parameters)."""
        return self.base_lrs[-1] * self.factor_at(self.steps)

    def _apply(self) -> None:
        factor = self.factor_at(self.steps)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            if torch.is_tensor(group["lr"]):  # a captured (CUDA-graph) step reads it in place
                group["lr"].fill_(base * factor)
            else:
                group["lr"] = base * factor

    def step(self) -> None:
        """Advance one optimiser step."""
        self.steps += 1
        self._apply()

    def end_epoch(self, metric: float) -> None:
        """Report the epoch's monitored loss (lower is better); used by ``"plateau"``."""
        if self.kind != "plateau":
            return
        if metric < self._best:
            self._best, self._bad_epochs = metric, 0
            return
        self._bad_epochs += 1
        if self._bad_epochs > self.patience:
            self.plateau_factor = max(self.plateau_factor * self.factor, self.min_factor)
            self._bad_epochs = 0
            self._apply()


# -- the run -------------------------------------------------------------------------------


class Trainer:
    """One training run of ``network`` on ``train_set`` (see :func:`train`).

    ``callbacks`` (default: :func:`default_callbacks` of ``config``) are called at the steps
    of :meth:`run`. ``module`` is the plain network, whose weights the run snapshots and
    restores (``network`` may be a wrapper of it, such as DDP's).
    """

    def __init__(self, network, loss_fn, config, device, generator, score_fn=None, callbacks=None):
        self.network, self.loss_fn, self.score_fn = network, loss_fn, score_fn
        self.module = network
        self.config, self.device, self.generator = config, device, generator
        self.callbacks = default_callbacks(config) if callbacks is None else list(callbacks)
        self.precision = resolve_precision(config.precision, device)
        self.scaler = self.precision.grad_scaler(device)
        self.params = [p for p in network.parameters() if p.requires_grad]
        self.graphed: GraphedStep | None = None

    # ranks sharing one batch (DDP); gradients are averaged over them, so each rank's loss
    # sum is scaled by ranks / batch size to give the whole batch's mean loss
    ranks = 1
    rank = 0
    # run by the graphed step between backward and clipping (DDP: the gradient all-reduce)
    after_backward: Callable[[], None] | None = None

    @property
    def uses_graphs(self) -> bool:
        """Whether :meth:`run` captures the training step in a CUDA graph."""
        return self.config.cuda_graphs and graph_supported(self.device, self.scaler.is_enabled())

    def train_step(self, optimizer, x, lengths, targets, weights, batch=None) -> torch.Tensor:
        """One optimiser step on ``x``, part of a batch of ``batch`` series (default: all of
        them); returns the summed (weighted) loss of ``x``, on the device."""
        losses = batch_losses(
            self.network, self.loss_fn, x, lengths, targets, augment=self.config.augment,
            autocast=lambda: self.precision.autocast(self.device),
        )  # (B,)  # fmt: skip
        if weights is not None:
            losses = losses * weights
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(losses.sum() * (self.ranks / (batch or len(losses)))).backward()
        if self.config.clip_grad_norm is not None:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.config.clip_grad_norm)
        self.scaler.step(optimizer)
        self.scaler.update()
        return losses.detach().sum()

    def train_epoch(self, optimizer, schedule, data: SeriesSet) -> torch.Tensor:
        """A pass over ``data`` in shuffled batches; returns the loss sum (on the device)."""
        self.network.train()
        if self.graphed is not None:
            for index in self.graphed.epoch_indices(self.generator):
                self.graphed.run(index)
                schedule.step()
            return self.graphed.take_loss_sum()
        total = torch.zeros((), device=self.device)
        for _, (x, lengths, targets, weights) in data.batches(
            self.config.batch_size, self.generator
        ):
            total = total + self.train_step(optimizer, x, lengths, targets, weights)
            schedule.step()
        return total

    @torch.no_grad()
    def evaluate(self, data: SeriesSet) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed validation loss and the validation score (both on the device)."""
        self.network.eval()
        outputs, order = [], []
        for index, (x, lengths, _, _) in data.batches(max(self.config.batch_size, 256)):
            with self.precision.autocast(self.device):
                outputs.append(self.network(x, lengths).float())
            order.append(index)
        index = torch.cat(order).to(self.device)
        outputs = torch.cat(outputs)
        targets = data.targets[index]
        weights = None if data.weights is None else data.weights[index]
        losses = self.loss_fn(outputs, targets)
        if weights is not None:
            losses = losses * weights
        score = (
            self.score_fn(outputs, targets, weights)
            if self.score_fn is not None
            else -losses.mean()
        )
        return losses.sum(), score

    def weights_finite(self) -> torch.Tensor:
        """A 0-d tensor whose value is finite iff every parameter is (no host sync)."""
        return torch.stack([p.detach().float().sum() for p in self.params]).sum()

    def run(self, train_set, valid_set, optimizer_state, first_epoch) -> TrainingResult:
        """Train for up to ``config.max_epochs`` epochs (see :func:`train`).

        The run is a sequence of named steps, each calling the callbacks' hooks:
        :meth:`_begin` (``on_train_begin``), then per epoch :meth:`_epoch` (training,
        validation, ``on_validation_end``, the best weights' :meth:`_checkpoint`,
        ``on_epoch_end``) until :meth:`_should_stop`, and :meth:`_end` (the kept weights
        and the result; ``on_train_end``). An interrupt or an out-of-memory error ends the
        run in :meth:`_interrupted` or :meth:`_out_of_memory`.
        """
        state = self._begin(train_set, valid_set, optimizer_state, first_epoch)
        try:
            try:
                self._notify("on_train_begin", state)
                for epoch in range(first_epoch, first_epoch + self.config.max_epochs):
                    if self._should_stop(state):
                        break
                    self._epoch(state, epoch)
            except KeyboardInterrupt:
                self._interrupted(state)
            except torch.OutOfMemoryError as error:
                self._out_of_memory(state, error)
            return self._end(state)
        finally:
            self._notify("on_train_end", state)

    def _notify(self, hook: str, state: TrainingState) -> None:
        """Call ``hook`` of every callback, in order."""
        for callback in self.callbacks:
            getattr(callback, hook)(state)

    def _begin(self, train_set, valid_set, optimizer_state, first_epoch) -> TrainingState:
        """The optimiser, the schedule, the graphed step (CUDA) and the run's state, with the
        initial weights as the best so far."""
        config, network = self.config, self.network
        self.train_set, self.valid_set = train_set, valid_set
        self.optimizer = make_optimizer(network, config, self.device, optimizer_state)
        total_steps = config.max_epochs * n_batches(len(train_set), config.batch_size)
        self.schedule = LRSchedule(
            self.optimizer,
            config.scheduler,
            total_steps,
            warmup_steps=round(config.warmup_fraction * total_steps),
            patience=max(1, (config.n_iter_no_change or 10) // 2),
        )
        if self.uses_graphs:
            make_capturable(self.optimizer, self.device)
            self.graphed = GraphedStep(
                network,
                self.loss_fn,
                self.optimizer,
                train_set,
                config.batch_size,
                config.clip_grad_norm,
                lambda: self.precision.autocast(self.device),
                ranks=self.ranks,
                rank=self.rank,
                after_backward=self.after_backward,
                augment=config.augment,
            )
        self.last_good = snapshot(self.module)  # the weights of the last finite epoch
        self.averaged = None  # their moving average (average_weights)
        return TrainingState(
            network=self.module,
            config=config,
            device=self.device,
            rank=self.rank,
            first_epoch=first_epoch,
            monitor="valid_loss" if valid_set is not None else "train_loss",
            best_state=self.last_good,
        )

    def _epoch(self, state: TrainingState, epoch: int) -> None:
        """One epoch: train and validate (one host sync), check, record, keep the best."""
        state.epoch = epoch
        start = time.perf_counter()
        stats = [
            self.train_epoch(self.optimizer, self.schedule, self.train_set),
            self.weights_finite(),
        ]
        if self.valid_set is not None:
            stats.extend(self.evaluate(self.valid_set))
        numbers = torch.stack(stats).tolist()  # the epoch's one host sync
        self._check_finite(state, numbers)
        record = {
            "epoch": epoch,
            "train_loss": numbers[0] / len(self.train_set),
            "lr": self.schedule.lr,
        }
        if self.valid_set is not None:
            record["valid_loss"] = numbers[2] / len(self.valid_set)
            record["valid_score"] = numbers[3]
        record["seconds"] = time.perf_counter() - start
        state.history.append(record)
        self.schedule.end_epoch(record[state.monitor])
        if self.valid_set is not None:
            self._notify("on_validation_end", state)
        if self._checkpoint(state):
            self._notify("on_checkpoint", state)
        self._notify("on_epoch_end", state)

    def _check_finite(self, state: TrainingState, numbers: list[float]) -> None:
        """Keep the epoch's weights if its loss and weights are finite; else restore the last
        finite epoch's and raise :class:`NonFiniteLossError`."""
        if not all(math.isfinite(value) for value in numbers[:2]):
            self.module.load_state_dict(self.last_good)
            state.stop_reason = "diverged"
            message = _divergence_message(state.epoch, numbers[0], self.config)
            raise NonFiniteLossError(message, self._result(state))
        self.last_good = snapshot(self.module)
        self.averaged = _average_into(self.averaged, self.last_good, self.config.average_weights)

    def _checkpoint(self, state: TrainingState) -> bool:
        """Make the epoch the best so far if it lowers the monitored loss; whether it did."""
        loss = state.record[state.monitor]
        if not loss < state.best_loss:
            return False
        state.best_loss, state.best_state, state.best_epoch = loss, self.last_good, state.epoch
        return True

    def _should_stop(self, state: TrainingState) -> bool:
        """Whether a callback asked to stop."""
        return state.stopping

    def _interrupted(self, state: TrainingState) -> None:
        """KeyboardInterrupt: keep the best weights so far, warn, and end normally."""
        self.module.load_state_dict(state.best_state)
        state.stop_reason = "interrupted"
        warnings.warn(
            f"training interrupted by KeyboardInterrupt during epoch "
            f"{state.epoch or state.first_epoch}; kept the weights of {_kept(state.best_epoch)}",
            TrainingInterruptedWarning,
            stacklevel=4,
        )

    def _out_of_memory(self, state: TrainingState, error: torch.OutOfMemoryError) -> None:
        """Free the device, keep the best weights so far and raise
        :class:`TrainingOutOfMemoryError` from ``error``."""
        self.graphed = None  # frees the graph's memory pool
        self.optimizer.zero_grad(set_to_none=True)
        self.module.load_state_dict(state.best_state)
        self.network.eval()
        state.stop_reason = "out_of_memory"
        message = _out_of_memory_message(
            state.epoch or state.first_epoch, state.best_epoch, self.config, self.train_set,
            self.device,
        )  # fmt: skip
        raise TrainingOutOfMemoryError(message, self._result(state)) from error

    def _end(self, state: TrainingState) -> TrainingResult:
        """Load the weights to keep (the best epoch's with a validation split, else the
        moving average with ``average_weights``) and return the run's result."""
        if state.stop_reason is None:
            state.stop_reason = "max_epochs"
        if state.stop_reason != "interrupted":
            if self.valid_set is not None:
                self.module.load_state_dict(state.best_state)
            elif self.averaged is not None:
                self.module.load_state_dict(self.averaged)
        result = self._result(state)
        if self.valid_set is not None and state.best_epoch is not None:
            best = next(r for r in state.history if r["epoch"] == state.best_epoch)
            result.best_valid_loss = best["valid_loss"]
            result.best_valid_score = best["valid_score"]
        self.network.eval()
        self.graphed = None  # frees the graph's memory pool
        self.optimizer.zero_grad(set_to_none=True)
        for group in self.optimizer.param_groups:  # plain floats again (picklable, restorable)
            group["lr"] = float(group["lr"])
        result.optimizer_state = copy.deepcopy(self.optimizer.state_dict())
        return result

    @staticmethod
    def _result(state: TrainingState) -> TrainingResult:
        """The record of the run so far (no optimiser state, no best validation numbers)."""
        return TrainingResult(
            history=state.history,
            stop_reason=state.stop_reason or "max_epochs",
            best_epoch=state.best_epoch,
        )


def _average_into(
    averaged: dict[str, torch.Tensor] | None, state: dict[str, torch.Tensor], decay: float | None
) -> dict[str, torch.Tensor] | None:
    """Exponential moving average over epochs of the weights (and float buffers), or None.

    ``averaged = decay * averaged + (1 - decay) * state``, starting from the first epoch's
    ``state`` (Polyak averaging; BatchNorm statistics are averaged alike).
    """
    if decay is None:
        return None
    if averaged is None:
        return {key: value.clone() for key, value in state.items()}
    for key, value in averaged.items():
        if value.is_floating_point() or value.is_complex():
            value.lerp_(state[key], 1.0 - decay)
        else:
            value.copy_(state[key])
    return averaged


def _kept(best_epoch: int | None) -> str:
    return f"epoch {best_epoch}" if best_epoch else "the initial weights"


def _out_of_memory_message(
    epoch: int, best_epoch: int | None, config: TrainingConfig, data: SeriesSet, device
) -> str:
    return (
        f"{device} ran out of memory in training epoch {epoch} (batch_size="
        f"{config.batch_size}, series of up to {data.full_length} time steps); the network "
        f"keeps the weights of {_kept(best_epoch)}. Lower batch_size (e.g. batch_size="
        f"{max(1, config.batch_size // 2)}), shorten the series (crop or downsample them), "
        "or make the network smaller (d_model, n_layers, n_estimators); precision="
        "'bf16-mixed' also saves memory on a GPU."
    )


def _divergence_message(epoch: int, loss_sum: float, config: TrainingConfig) -> str:
    what = "loss" if not math.isfinite(loss_sum) else "weights"
    return (
        f"the training {what} became NaN or infinite in epoch {epoch} (lr={config.lr:g}); the "
        f"weights of the last finite epoch were kept. Try a lower lr (e.g. lr={config.lr / 10:g})"
        ", keep gradient clipping on, set scale=True, or check X and y for extreme values."
    )


def train(
    network: torch.nn.Module,
    loss_fn: LossFn,
    train_set: SeriesSet,
    valid_set: SeriesSet | None = None,
    *,
    config: TrainingConfig,
    device: torch.device,
    generator: torch.Generator,
    score_fn: ScoreFn | None = None,
    optimizer_state: dict | None = None,
    first_epoch: int = 1,
    callbacks: list[Callback] | None = None,
) -> TrainingResult:
    """Train ``network`` in place.

    Parameters
    ----------
    network : torch.nn.Module
        Maps ``(x (B, C, L), lengths (B,) or None)`` to outputs ``(B, d_output)``; already on
        ``device``.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> (B,)`` per-series losses (float32 outputs).
    train_set, valid_set : SeriesSet
        On ``device``, with targets; weights (mean 1) are optional. With a ``valid_set`` the
        validation loss is monitored and the best epoch's weights are restored at the end.
    config : TrainingConfig
    device : torch.device
    generator : torch.Generator
        CPU generator that shuffles the batches.
    score_fn : callable, optional
        ``score_fn(outputs, targets, weights) -> 0-d tensor``, higher is better, recorded per
        epoch as ``valid_score`` (default: minus the validation loss).
    optimizer_state : dict, optional
        AdamW state from an earlier run (warm start).
    first_epoch : int, default=1
        Number given to the first epoch in the history.
    callbacks : list of Callback, optional
        Called at each step of the run, in order (see :class:`Callback`). None: the built-in
        ones of ``config`` (:func:`default_callbacks`: early stopping and the progress bar);
        a list replaces them (add ``default_callbacks(config)`` to keep them).

    Returns
    -------
    TrainingResult

    Raises
    ------
    NonFiniteLossError
        If the loss or the weights stop being finite; the network keeps the weights of the
        last finite epoch. A KeyboardInterrupt instead ends training with a
        :class:`TrainingInterruptedWarning` and the best weights so far.
    TrainingOutOfMemoryError
        If the device runs out of memory; the network keeps the best weights so far.
    """
    trainer = Trainer(network, loss_fn, config, device, generator, score_fn, callbacks)
    return trainer.run(train_set, valid_set, optimizer_state, first_epoch)
