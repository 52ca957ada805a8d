"""Callbacks: hooks into the training loop, and the state of a run that they read.

A callback subclasses :class:`Callback` and overrides the hooks it needs; the loop calls them
in the order the callbacks are listed, each with the run's :class:`TrainingState`. Early
stopping (:class:`EarlyStopping`) and the progress bar
(:class:`~sslearn.training.ProgressBar`) are callbacks themselves, which the estimators add
before the user's own (``callbacks=[...]``). The design follows skorch's callbacks, cut down
to what a loop with one optimiser step per batch needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from sslearn.training._loop import TrainingConfig


@dataclass
class TrainingState:
    """What a training run shows its callbacks; the loop updates it as it goes.

    Read everything; write only through :meth:`stop_training`. The tensors of
    ``best_state`` are the network's weights of the best epoch: copy them (e.g.
    ``{k: v.clone() for k, v in state.best_state.items()}``, or save them) rather than
    modify them, as the loop restores them at the end.

    Attributes
    ----------
    network : torch.nn.Module
        The network being trained, on ``device`` (in a data-parallel fit, this rank's copy,
        not wrapped). Its weights are the current epoch's.
    config : TrainingConfig
        The run's settings (``max_epochs``, ``batch_size``, ``lr``, ...).
    device : torch.device
        Where the network trains.
    rank : int
        This process's rank in a data-parallel fit (``devices > 1``), else 0. Callbacks run
        on every rank with the same numbers; one that prints or writes files should act
        only where ``rank == 0``.
    first_epoch : int
        Number of the run's first epoch (after warm starts, one more than the epochs before).
    epoch : int or None
        Number of the current (or last) epoch; None before the first.
    history : list of dict
        One record per finished epoch of this run: ``epoch``, ``train_loss``, ``lr``,
        ``seconds`` and, with a validation split, ``valid_loss`` and ``valid_score``.
    monitor : {"valid_loss", "train_loss"}
        The loss that picks the best epoch: the validation loss when there is a validation
        split, else the training loss.
    best_epoch : int or None
        The epoch with the lowest ``monitor`` so far (the first on ties).
    best_loss : float
        Its ``monitor`` value (``inf`` before the first epoch).
    best_state : dict of str to torch.Tensor
        The network's state dict at ``best_epoch`` (the initial weights before it), on
        ``device``. With a validation split the network ends with these weights.
    stop_reason : str or None
        Why the run stopped or is stopping: None while it runs, then ``"max_epochs"``,
        ``"no_improvement"`` (:class:`EarlyStopping`), ``"callback"`` (another callback's
        :meth:`stop_training`), ``"interrupted"``, ``"diverged"`` or ``"out_of_memory"``.
    """

    network: torch.nn.Module
    config: TrainingConfig
    device: torch.device
    rank: int = 0
    first_epoch: int = 1
    epoch: int | None = None
    history: list[dict] = field(default_factory=list)
    monitor: str = "train_loss"
    best_epoch: int | None = None
    best_loss: float = math.inf
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    stop_reason: str | None = None

    @property
    def record(self) -> dict[str, Any] | None:
        """The last finished epoch's record (``history[-1]``), or None before the first."""
        return self.history[-1] if self.history else None

    @property
    def stopping(self) -> bool:
        """Whether a callback asked to stop (the run ends after the current epoch)."""
        return self.stop_reason is not None

    def stop_training(self, reason: str = "callback") -> None:
        """Stop after the current epoch (before the first one, from ``on_train_begin``).

        Parameters
        ----------
        reason : str, default="callback"
            Recorded as the run's stop reason (the estimator's ``stop_reason_``) unless an
            earlier call gave one.
        """
        if self.stop_reason is None:
            self.stop_reason = reason


class Callback:
    """Base class of training callbacks: every hook does nothing until overridden.

    Each hook receives the run's :class:`TrainingState`; within an epoch they are called in
    the order ``on_validation_end``, ``on_checkpoint``, ``on_epoch_end``. To stop training,
    call ``state.stop_training()`` from any hook. A callback object serves every fit it is
    given to (and each ``partial_fit`` call): reset what it keeps per run in
    :meth:`on_train_begin`. Give it to an estimator as ``callbacks=[MyCallback()]``; it must
    pickle for ``devices > 1`` (each rank runs a copy, and rank 0's copy is copied back into
    it after the fit) and to pickle the estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn import Callback, LiquidS4Classifier
    >>> class StopAt(Callback):
    ...     def __init__(self, loss):
    ...         self.loss = loss
    ...     def on_epoch_end(self, state):
    ...         if state.record["train_loss"] < self.loss:
    ...             state.stop_training()
    >>> X, y = np.random.RandomState(0).randn(20, 1, 16), np.arange(20) % 2
    >>> clf = LiquidS4Classifier(d_model=8, n_layers=1, d_state=4, max_epochs=50,
    ...                          callbacks=[StopAt(10.0)], device="cpu", random_state=0)
    >>> clf.fit(X, y).n_iter_, clf.stop_reason_
    (1, 'callback')
    """

    def on_train_begin(self, state: TrainingState) -> None:
        """Called before the first epoch; the network holds its starting weights."""

    def on_validation_end(self, state: TrainingState) -> None:
        """Called after each epoch's validation pass (only with a validation split);
        ``state.record`` holds ``valid_loss`` and ``valid_score``."""

    def on_checkpoint(self, state: TrainingState) -> None:
        """Called when an epoch becomes the best so far (lowest ``state.monitor``);
        ``state.best_state`` then holds its weights, the ones to save."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """Called after each epoch, once its record is ``state.record``."""

    def on_train_end(self, state: TrainingState) -> None:
        """Called once when the run ends, however it ends (``state.stop_reason``); after a
        normal end the network holds its final weights (the best epoch's with a validation
        split). On an error it is called before the error propagates."""


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved for ``patience`` epochs.

    An epoch improves when its loss (``state.monitor``: the validation loss with a
    validation split, else the training loss) is below the lowest so far by more than
    ``tol``. The best epoch's weights are kept by the loop itself (see
    :class:`TrainingState`), with or without this callback.

    Parameters
    ----------
    patience : int, default=10
        Epochs without improvement before stopping (the estimators' ``n_iter_no_change``).
    tol : float, default=1e-4
        Minimal decrease of the loss that counts as an improvement.

    Attributes
    ----------
    best_ : float
        The lowest loss of the current (or last) run.
    bad_epochs_ : int
        Epochs since the last improvement.
    """

    def __init__(self, patience: int = 10, tol: float = 1e-4) -> None:
        self.patience = patience
        self.tol = tol

    def on_train_begin(self, state: TrainingState) -> None:
        self.best_ = math.inf
        self.bad_epochs_ = 0

    def on_epoch_end(self, state: TrainingState) -> None:
        loss = state.record[state.monitor]
        self.bad_epochs_ = 0 if loss < self.best_ - self.tol else self.bad_epochs_ + 1
        if loss < self.best_:
            self.best_ = loss
        if self.bad_epochs_ >= self.patience:
            state.stop_training("no_improvement")


def check_callbacks(callbacks: Any, name: str = "callbacks") -> list[Callback]:
    """``callbacks`` (None or a list or tuple of :class:`Callback`) as a list.

    Raises
    ------
    TypeError
        If ``callbacks`` is anything else, naming what to pass instead.
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        raise TypeError(
            f"{name} must be a list of callbacks, got a single {type(callbacks).__name__}; "
            f"wrap it in a list: {name}=[{type(callbacks).__name__}(...)]."
        )
    if not isinstance(callbacks, list | tuple):
        raise TypeError(
            f"{name} must be None or a list of sslearn.Callback instances, got a "
            f"{type(callbacks).__name__}."
        )
    wrong = [item for item in callbacks if not isinstance(item, Callback)]
    if wrong:
        kinds = sorted({_kind(item) for item in wrong})
        raise TypeError(
            f"{name} must hold sslearn.Callback instances, got {kinds}: subclass "
            "sslearn.Callback and override the hooks you need (on_epoch_end, ...), and pass "
            "instances, not classes."
        )
    return list(callbacks)


def _kind(item: Any) -> str:
    return f"the class {item.__name__}" if isinstance(item, type) else type(item).__name__
