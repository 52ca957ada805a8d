"""Writing predictions: to a CSV file, or as CSV to standard output."""

from __future__ import annotations

import os
import sys

import pandas as pd


def _write_predictions(out: pd.DataFrame, path: str | None) -> None:
    """Write ``out`` to the CSV file ``path``; to standard output when None or ``-``."""
    if path in (None, "-"):
        try:
            out.to_csv(sys.stdout)
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stdout = open(os.devnull, "w")
    else:
        out.to_csv(path)
        print(f"wrote {len(out)} predictions to {path}")
