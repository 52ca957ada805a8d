"""Turn what sktime's readers return (a "nested_univ" frame and labels) into our outputs.

Two outputs, one for each door of the data floor:

- ``"numpy"``: ``(X, y)`` with ``X`` a float32 array of shape (n_samples, n_channels,
  n_timepoints), NaN-padded at the end of shorter series; built by
  :func:`sslearn.data.to_panel`, so the estimators read it back into the same lengths;
- ``"frame"``: a tidy long frame (``id``, ``time``, one column per channel, ``target``) that
  :func:`sslearn.data.from_long` and :func:`sslearn.data.long_targets` consume.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sslearn.data import to_panel

__all__ = ["RETURN_TYPES", "check_return_type", "check_split", "nested_to_long", "to_output"]

RETURN_TYPES = ("numpy", "frame")


def check_return_type(return_type: object) -> str:
    if return_type not in RETURN_TYPES:
        raise ValueError(f"return_type must be 'numpy' or 'frame', got {return_type!r}.")
    return return_type


def check_split(split: object) -> str | None:
    """``"train"``, ``"test"`` (any case) or None, as the upper-case file suffix or None."""
    if split is None:
        return None
    if isinstance(split, str) and split.lower() in ("train", "test"):
        return split.upper()
    raise ValueError(f"split must be 'train', 'test' or None, got {split!r}.")


def cast_targets(y: np.ndarray | None, task: str | None) -> np.ndarray | None:
    """Labels stay strings; regression targets become float64 (parsed from the text)."""
    if y is None:
        return None
    y = np.asarray(y)
    if task == "regression":
        return y.astype(np.float64)
    return y.astype(str)


def nested_to_long(
    X: pd.DataFrame, y: Sequence | None = None, target_name: str = "target"
) -> pd.DataFrame:
    """A "nested_univ" frame (and targets) as a long frame, one row per (series, time).

    Series ids are the row positions 0..n-1; ``time`` is each cell's own index (0..L-1 for
    files without time stamps). Channels of one series that carry different time indexes
    are aligned on the union of their time stamps, with NaN where a channel has no value.
    """
    columns = [str(c) for c in X.columns]
    ids, times, blocks = [], [], []
    for i in range(X.shape[0]):
        cells = [X.iat[i, j] for j in range(X.shape[1])]
        index = cells[0].index
        if all(cell.index.equals(index) for cell in cells[1:]):
            block = np.column_stack([cell.to_numpy(dtype=np.float64) for cell in cells])
        else:
            joined = pd.concat(cells, axis=1, keys=columns).sort_index()
            index = joined.index
            block = joined.to_numpy(dtype=np.float64)
        ids.append(np.full(len(index), i, dtype=np.int64))
        times.append(np.asarray(index))
        blocks.append(block.reshape(len(index), len(columns)))
    data = {"id": np.concatenate(ids), "time": np.concatenate(times)}
    values = np.concatenate(blocks)
    for j, name in enumerate(columns):
        data[name] = values[:, j]
    frame = pd.DataFrame(data)
    if y is not None:
        counts = np.bincount(frame["id"].to_numpy(), minlength=X.shape[0])
        frame[target_name] = np.repeat(np.asarray(y), counts)
    return frame


def to_output(X: pd.DataFrame, y: np.ndarray | None, return_type: str):
    """``(X, y)`` as ``"numpy"`` (a NaN-padded float32 array and y) or a long ``"frame"``."""
    if return_type == "frame":
        return nested_to_long(X, y)
    return to_panel(X, input_name="the loaded data").to_numpy(), y
