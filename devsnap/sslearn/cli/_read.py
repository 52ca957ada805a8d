"""Reading a long-format file: the table, its series, channels and per-series targets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sslearn.cli._errors import CLIError


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV (also ``.tsv``, compressed) or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str
        The file. ``.parquet`` / ``.pq`` files need pyarrow or fastparquet; ``.tsv`` files
        are tab-separated; anything else is read by :func:`pandas.read_csv`.

    Returns
    -------
    df : DataFrame
        The file's rows.

    Raises
    ------
    CLIError
        If the file does not exist or cannot be parsed, or no Parquet engine is installed.
    """
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path!r}")
    name = path.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else ","
        return pd.read_csv(path, sep=sep)
    except ImportError as error:
        raise CLIError(
            f"reading {path!r} needs a Parquet engine: pip install pyarrow ({error})"
        ) from error
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise CLIError(f"cannot read {path!r}: {error}") from error


def _split_columns(text: str | None) -> list[str]:
    return [] if not text else [part.strip() for part in text.split(",") if part.strip()]


def _require_columns(df: pd.DataFrame, path: str, columns: dict[str, Sequence[str]]) -> None:
    """Raise CLIError naming the option whose column(s) ``df`` lacks."""
    for option, names in columns.items():
        absent = [name for name in names if name not in df.columns]
        if absent:
            raise CLIError(
                f"column(s) {absent} ({option}) not found in {path!r}; available columns: "
                f"{list(df.columns)}"
            )


def _value_columns(
    df: pd.DataFrame, requested: list[str], id_col: str, exclude: Sequence[str]
) -> list[str]:
    """The channel columns: those requested, else the numeric columns that vary in time.

    Numeric columns that are constant within every series (a subject number, another
    target, a patient's age) are per-series attributes, not channels, and are left out.
    """
    if requested:
        return requested
    candidates = [
        column
        for column in df.columns
        if column not in exclude
        and pd.api.types.is_numeric_dtype(df[column])
        and not pd.api.types.is_bool_dtype(df[column])
    ]
    varying = df[candidates].groupby(df[id_col]).nunique(dropna=False).max() > 1
    channels = [column for column in candidates if varying[column]]
    if not channels:
        raise CLIError(
            f"no numeric column that varies within a series besides {list(exclude)}; name "
            "the channels with --value-cols"
        )
    return channels


def _read_series(path: str, settings: dict[str, Any], **required: Sequence[str]):
    """Read ``path``, check its columns, and return (frame, rows per series, Panel).

    ``required`` maps extra options (``target_col=[...]``) to the columns they name.
    """
    df = read_table(path)
    columns = {
        "--id-col": [settings["id_col"]],
        "--time-col": [settings["time_col"]],
        "--value-cols": settings["value_cols"],
    }
    columns |= {"--" + option.replace("_", "-"): names for option, names in required.items()}
    _require_columns(df, path, columns)
    rows, panel = _series(df, settings)
    return df, rows, panel


def _series(df: pd.DataFrame, settings: dict[str, Any]):
    """The long frame as one row per series (sorted ids) and its Panel."""
    from sslearn.data import from_long, to_panel

    try:
        rows = from_long(df, settings["id_col"], settings["time_col"], settings["value_cols"])
        panel = to_panel(rows, allow_nan=True)
    except (ValueError, TypeError) as error:
        raise CLIError(str(error)) from error
    return rows, panel


def _targets(df: pd.DataFrame, settings: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """One row of targets per series id, in the order of :func:`_series`."""
    from sslearn.data import long_targets

    try:
        return pd.concat(
            [long_targets(df, settings["id_col"], column) for column in columns], axis=1
        )
    except ValueError as error:
        raise CLIError(str(error)) from error


def _describe(path: str, settings: dict[str, Any], panel) -> str:
    lengths = panel.lengths
    missing = 100.0 * panel.missing.sum() / (lengths.sum() * panel.n_channels)
    return (
        f"{os.path.basename(path)}: {panel.n_samples} series ({settings['id_col']!r}), "
        f"{panel.n_channels} channel(s) {settings['value_cols']}, lengths "
        f"{lengths.min()}-{lengths.max()} (median {np.median(lengths):g}), "
        f"{missing:.1f}% missing values"
    )
