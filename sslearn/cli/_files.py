"""The files the command reads and writes: long data files, and the model file.

- data: :func:`read_table` (CSV, TSV, Parquet), the columns that options name
  (:func:`require_columns`), the channels (:func:`value_columns`, the rule of
  :func:`sslearn.data.from_long`), the series (:func:`read_series`) and their targets
  (:func:`targets`, :func:`target_array`, :func:`infer_task`);
- the model file: :func:`save_model` writes the safe format of :func:`sslearn.save` with
  the task and column settings; :func:`load_model` reads it back, refusing pickles unless
  ``--allow-pickle`` and naming the mistake when a data file comes where the model should;
  :func:`column_settings` merges the saved settings with the command-line options.
"""

from __future__ import annotations

import argparse
import os
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sslearn.cli._parse import PROG, CLIError

# integer targets with at most this many distinct values are read as class labels
_MAX_INTEGER_CLASSES = 20
# the column settings saved beside the estimator, and the types they hold
_SETTINGS = {"id_col": str, "time_col": str, "value_cols": list, "target_cols": list}
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_MODEL_SUFFIXES = (".sslearn", ".joblib", ".pkl", ".pickle")


# -- data files --------------------------------------------------------------------------


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
        If the file does not exist, is a model file, or cannot be parsed, or no Parquet
        engine is installed.
    """
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path!r}")
    if _is_model_file(path):
        raise CLIError(
            f"{path!r} is a model file, not a long-format data file (.csv, .tsv or .parquet)"
        )
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


def split_columns(text: str | None) -> list[str]:
    """The column names of a comma-separated option value (none for None)."""
    return [] if not text else [part.strip() for part in text.split(",") if part.strip()]


def require_columns(df: pd.DataFrame, path: str, columns: dict[str, Sequence[str]]) -> None:
    """Raise CLIError naming the option whose column(s) ``df`` lacks."""
    for option, names in columns.items():
        absent = [name for name in names if name not in df.columns]
        if absent:
            raise CLIError(
                f"column(s) {absent} ({option}) not found in {path!r}; available columns: "
                f"{list(df.columns)}"
            )


def value_columns(
    df: pd.DataFrame, requested: list[str], id_col: str, time_col: str, exclude: Sequence[str]
) -> list[str]:
    """The channel columns: those requested, else those :func:`sslearn.data.from_long` infers.

    Numeric columns that are constant within every series (a subject number, another
    target, a patient's age) are per-series attributes, not channels, and are left out.
    """
    from sslearn.data._long import infer_value_cols

    if requested:
        return requested
    try:
        channels = infer_value_cols(df, id_col, time_col, exclude)
    except (ValueError, TypeError) as error:
        raise CLIError(str(error)) from error
    if not channels:
        raise CLIError(
            f"no numeric column that varies within a series besides {[id_col, time_col]} "
            f"and {list(exclude)}; name the channels with --value-cols"
        )
    return channels


def read_series(
    path: str, settings: dict[str, Any], times: bool = False, **required: Sequence[str]
):
    """Read ``path``, check its columns, and return (frame, rows per series, Panel, time
    stamps per series or None; see :func:`series`).

    ``required`` maps extra options (``target_col=[...]``) to the columns they name.
    """
    df = read_table(path)
    columns = {
        "--id-col": [settings["id_col"]],
        "--time-col": [settings["time_col"]],
        "--value-cols": settings["value_cols"],
    }
    columns |= {"--" + option.replace("_", "-"): names for option, names in required.items()}
    require_columns(df, path, columns)
    return (df, *series(df, settings, times))


def series(df: pd.DataFrame, settings: dict[str, Any], times: bool = False):
    """The long frame as one row per series (sorted ids), its Panel and, with ``times``, the
    time stamps of each series (``from_long(..., return_times=True)``; text dates are parsed
    first), else None."""
    from sslearn.data import from_long, to_panel

    columns = (settings["id_col"], settings["time_col"], settings["value_cols"])
    try:
        if times:
            rows, stamps = from_long(_dated(df, settings["time_col"]), *columns, return_times=True)
        else:
            rows, stamps = from_long(df, *columns), None
        panel = to_panel(rows, allow_nan=True)
    except (ValueError, TypeError) as error:
        raise CLIError(str(error)) from error
    return rows, panel, stamps


def _dated(df: pd.DataFrame, time_col: str) -> pd.DataFrame:
    """``df`` with a text time column parsed as dates (a CSV file holds them as text)."""
    column = df[time_col]
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return df
    try:
        parsed = pd.to_datetime(column, format="mixed")
    except (ValueError, TypeError) as error:
        raise CLIError(
            f"--time-col {time_col!r} holds values such as {column.iloc[0]!r}, neither numbers "
            f"nor dates; the time stamps of --use-times must be one or the other ({error})"
        ) from error
    return df.assign(**{time_col: parsed})


def targets(df: pd.DataFrame, settings: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """One row of targets per series id, in the order of :func:`series`."""
    from sslearn.data import long_targets

    try:
        return pd.concat(
            [long_targets(df, settings["id_col"], column) for column in columns], axis=1
        )
    except ValueError as error:
        raise CLIError(str(error)) from error


def infer_task(frame: pd.DataFrame) -> str:
    """Classification for one non-numeric or few-valued integer target, else regression."""
    if frame.shape[1] > 1:
        return "regression"
    column = frame.iloc[:, 0]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return "classification"
    if pd.api.types.is_integer_dtype(column) and column.nunique() <= _MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def target_array(frame: pd.DataFrame, task: str) -> np.ndarray:
    """The targets as the estimator of ``task`` takes them."""
    if task == "classification":
        return frame.iloc[:, 0].to_numpy()
    try:
        values = frame.to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise CLIError(f"regression targets must be numeric: {error}") from error
    return values[:, 0] if values.shape[1] == 1 else values


def describe(path: str, settings: dict[str, Any], panel) -> str:
    """A one-line summary of the series read from ``path``."""
    lengths = panel.lengths
    missing = 100.0 * panel.missing.sum() / (lengths.sum() * panel.n_channels)
    return (
        f"{os.path.basename(path)}: {panel.n_samples} series ({settings['id_col']!r}), "
        f"{panel.n_channels} channel(s) {settings['value_cols']}, lengths "
        f"{lengths.min()}-{lengths.max()} (median {np.median(lengths):g}), "
        f"{missing:.1f}% missing values"
    )


# -- the model file ----------------------------------------------------------------------


def check_writable(path: str, option: str) -> None:
    """Raise CLIError unless ``path`` can be created: its folder exists, it is no folder."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder):
        what = "is a folder" if os.path.isdir(path) else f"has no folder {folder!r}"
        raise CLIError(f"cannot write {option} {path!r}: it {what}")


def save_model(estimator, task: str, settings: dict[str, Any], path: str) -> None:
    """Save the fitted estimator, its task and column settings to ``path`` (safe format)."""
    from sslearn._persist import write_model

    try:
        write_model(estimator, path, extra={"cli": {"task": task, **settings}})
    except OSError as error:
        raise CLIError(f"cannot write --model-out {path!r}: {error}") from error


def check_model_then_data(model: str, data: str, command: str) -> None:
    """Raise CLIError when the data argument is a model file and the model argument is not."""
    if os.path.isfile(data) and _is_model_file(data) and not _is_model_file(model):
        raise CLIError(
            f"the arguments are swapped: {data!r} is the model file and {model!r} is not; the "
            f"model comes first: {PROG} {command} {data} {model}"
        )


def load_model(path: str, command: str, *, allow_pickle: bool = False) -> dict[str, Any]:
    """The bundle written by ``fit``, or a bare estimator saved with :func:`sslearn.save`.

    With ``allow_pickle``, a pickle or joblib file (a legacy bundle or estimator) is
    unpickled too: only for files the user trusts, as unpickling runs code.
    """
    from sslearn._model_file import CONVERT_HINT, pickle_kind
    from sslearn._persist import read_model

    if not os.path.isfile(path):
        raise CLIError(f"no such model file: {path!r}")
    if path.lower().endswith(_data_suffixes()) and not _is_model_file(path):
        raise CLIError(
            f"{path!r} looks like a data file, not a model file: the model comes first, "
            f"as in {PROG} {command} MODEL DATA"
        )
    if pickle_kind(path) is not None:
        if allow_pickle:
            return _load_pickle(path)
        raise CLIError(
            f"refusing to unpickle {path!r}: pickle and joblib files can run arbitrary code. "
            f"`sslearn fit` now writes the safe sslearn.save format (.sslearn). {CONVERT_HINT}, "
            "then pass its columns with --value-cols/--target-col. Or, only for a file you "
            "trust, pass --allow-pickle."
        )
    try:
        estimator, extra = read_model(path)
    except ValueError as error:
        raise CLIError(str(error)) from error
    settings = extra.get("cli", {}) if isinstance(extra, dict) else {}
    return {"estimator": estimator, "task": _task(estimator), **_checked(path, settings)}


def column_settings(bundle: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Column settings: command-line options, else those saved by fit, else defaults."""
    estimator = bundle["estimator"]
    value_cols = split_columns(args.value_cols) or bundle.get("value_cols")
    if not value_cols:
        names = getattr(estimator, "feature_names_in_", None)
        if names is None:
            raise CLIError("the model does not record its channel columns; pass --value-cols")
        value_cols = [str(name) for name in names]
    return {
        "id_col": args.id_col or bundle.get("id_col", "id"),
        "time_col": args.time_col or bundle.get("time_col", "time"),
        "value_cols": list(value_cols),
        "target_cols": split_columns(args.target_col) or list(bundle.get("target_cols", [])),
    }


def _data_suffixes() -> tuple[str, ...]:
    compressed = (".gz", ".bz2", ".zip", ".xz", ".zst")
    return _DATA_SUFFIXES + tuple(s + c for s in _DATA_SUFFIXES for c in compressed)


def _is_model_file(path: str) -> bool:
    """A model file by its name (.sslearn, .joblib, .pkl) or as a zip holding meta.json."""
    from sslearn._model_file import META

    if path.lower().endswith(_MODEL_SUFFIXES):
        return True
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            return META in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _load_pickle(path: str) -> dict[str, Any]:
    """A legacy joblib bundle or estimator (``--allow-pickle``: the user trusts the file)."""
    import joblib

    from sslearn._base import BaseLiquidS4

    loaded = joblib.load(path)
    if isinstance(loaded, BaseLiquidS4):
        loaded = {"estimator": loaded, "task": _task(loaded)}
    if not isinstance(loaded, dict) or not isinstance(loaded.get("estimator"), BaseLiquidS4):
        raise CLIError(f"{path!r} holds neither an sslearn model nor a `sslearn fit` bundle")
    return loaded


def _task(estimator) -> str:
    return "classification" if hasattr(estimator, "classes_") else "regression"


def _checked(path: str, settings: Any) -> dict[str, Any]:
    """The column settings saved by fit, checked (they come from the file)."""
    if not isinstance(settings, dict):
        raise CLIError(f"{path!r}: the saved column settings are not a mapping")
    checked = {}
    for key, kind in _SETTINGS.items():
        value = settings.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (
            kind is list and not all(isinstance(item, str) for item in value)
        ):
            raise CLIError(f"{path!r}: the saved setting {key} is not a {kind.__name__}")
        checked[key] = value
    return checked
