"""Per-epoch records and the optional tqdm progress bar."""

from __future__ import annotations

import math


class Progress:
    """A tqdm bar over epochs (``verbose >= 1``) showing loss, validation and lr, with ETA.

    ``verbose >= 2`` also writes one line per epoch. With ``verbose=0`` nothing is imported
    or printed.
    """

    def __init__(self, verbose: int, total: int, desc: str = "fit") -> None:
        self.verbose = verbose
        self.bar = None
        if verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="epoch", dynamic_ncols=True)

    def update(self, record: dict) -> None:
        """Advance one epoch and show ``record``'s numbers."""
        if self.bar is None:
            return
        shown = {"loss": record["train_loss"], "lr": record["lr"]}
        if record.get("valid_loss") is not None:
            shown["valid_loss"] = record["valid_loss"]
            shown["valid_score"] = record["valid_score"]
        self.bar.set_postfix({key: _short(value) for key, value in shown.items()})
        self.bar.update(1)
        if self.verbose >= 2:
            line = ", ".join(f"{key}={_short(value)}" for key, value in record.items())
            self.bar.write(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)
