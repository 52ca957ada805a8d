"""The optional tqdm progress bar over epochs, as a training callback."""

from __future__ import annotations

import math

from sslearn.training._callbacks import Callback, TrainingState


class ProgressBar(Callback):
    """A tqdm bar over epochs (``verbose >= 1``) showing loss, validation and lr, with ETA.

    ``verbose >= 2`` also writes one line per epoch. With ``verbose=0`` nothing is imported
    or printed; in a data-parallel fit only rank 0 shows the bar.

    Parameters
    ----------
    verbose : int, default=1
        The estimators' ``verbose``.
    desc : str, default="fit"
        The bar's label.
    """

    def __init__(self, verbose: int = 1, desc: str = "fit") -> None:
        self.verbose = verbose
        self.desc = desc
        self.bar = None

    def on_train_begin(self, state: TrainingState) -> None:
        self.bar = None
        if self.verbose and state.rank == 0:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=state.config.max_epochs, desc=self.desc, unit="epoch", dynamic_ncols=True
            )

    def on_epoch_end(self, state: TrainingState) -> None:
        """Advance one epoch and show the epoch's numbers."""
        if self.bar is None:
            return
        record = state.record
        shown = {"loss": record["train_loss"], "lr": record["lr"]}
        if record.get("valid_loss") is not None:
            shown["valid_loss"] = record["valid_loss"]
            shown["valid_score"] = record["valid_score"]
        self.bar.set_postfix({key: _short(value) for key, value in shown.items()})
        self.bar.update(1)
        if self.verbose >= 2:
            line = ", ".join(f"{key}={_short(value)}" for key, value in record.items())
            self.bar.write(line)

    def on_train_end(self, state: TrainingState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)
