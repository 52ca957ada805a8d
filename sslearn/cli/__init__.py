"""The ``sslearn`` command: fit, evaluate and predict on long-format CSV or Parquet files.

A long file has one row per observation: a series id, a time stamp, one numeric column per
channel and the target(s), constant within each series::

    sslearn fit vitals.csv --target-col rhythm --groups-col subject --model-out model.sslearn
    sslearn evaluate model.sslearn test.csv
    sslearn predict model.sslearn new.csv --out predictions.csv

``fit`` holds out part of the series (``--test-size``, by ``--groups-col`` when given) and
prints their validation score; it then trains the model it saves on all series
(``--no-refit`` saves the model that never saw the held-out part instead). Without
``--value-cols`` the channels are the numeric columns that vary within a series, the rule of
:func:`sslearn.data.from_long`. The model file holds the column settings, which
``evaluate`` and ``predict`` reuse, in the format of :func:`sslearn.save` (JSON and
safetensors; loading it runs no code from the file). In Python,
``sslearn.load("model.sslearn")`` is the fitted :class:`~sslearn.LiquidS4Classifier` or
:class:`~sslearn.LiquidS4Regressor`. ``evaluate`` and ``predict`` refuse pickle and joblib
files (such as the ``model.joblib`` of earlier versions) unless given ``--allow-pickle``,
which is only for files you trust.

Input problems (a missing file or column, a bad ``--param`` or option, the model and data
arguments swapped) end with exit code 2 and a one-line message on stderr, not a traceback.
``sslearn --version`` prints the installed version.

The package's modules, one job each:

- ``_parse``: the options of every sub-command (:func:`build_parser`), ``--param`` values
  (:func:`parse_params`) and the estimator they make, and :class:`CLIError`;
- ``_files``: reading long data files (:func:`read_table`), their channels and targets, and
  the model file with its column settings;
- ``_commands``: the sub-commands ``fit``, ``evaluate`` and ``predict``, their reports, and
  :func:`main`, the entry point (``sslearn`` and ``python -m sslearn``).
"""

from sslearn.cli._commands import main
from sslearn.cli._files import read_table
from sslearn.cli._parse import PROG, TASKS, CLIError, build_parser, parse_params

__all__ = ["PROG", "TASKS", "CLIError", "build_parser", "main", "parse_params", "read_table"]
