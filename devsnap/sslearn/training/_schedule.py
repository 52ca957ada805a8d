"""Learning-rate schedules applied per optimiser step: warm-up, then cosine, constant or plateau.

One small class instead of chained torch schedulers, so that a linear warm-up composes with a
plateau rule and every parameter group keeps its own base rate (the SSM group has ``ssm_lr``).
"""

from __future__ import annotations

import math

import torch

SCHEDULERS = ("cosine", "constant", "plateau")


class LRSchedule:
    """Multiply every group's base learning rate by a factor that changes during training.

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
