"""The ``sslearn`` command: fit, evaluate and predict on long-format CSV or Parquet files.

A long file has one row per observation: a series id, a time stamp, one numeric column per
channel and the target(s), constant within each series::

    sslearn fit vitals.csv --target-col rhythm --groups-col subject --model-out model.sslearn
    sslearn evaluate model.sslearn test.csv
    sslearn predict model.sslearn new.csv --out predictions.csv

``fit`` holds out part of the series (``--test-size``, by ``--groups-col`` when given),
prints a short report and saves the fitted estimator with the column settings, which
``evaluate`` and ``predict`` reuse, in the format of :func:`sslearn.save` (JSON and
safetensors; loading it runs no code from the file). In Python,
``sslearn.load("model.sslearn")`` is the fitted :class:`~sslearn.LiquidS4Classifier` or
:class:`~sslearn.LiquidS4Regressor`. ``evaluate`` and ``predict`` refuse pickle and joblib
files (such as the ``model.joblib`` of earlier versions) unless given ``--allow-pickle``,
which is only for files you trust.

Input problems (a missing file or column, a bad ``--param``) end with exit code 2 and a
one-line message on stderr, not a traceback.

The package's modules, one job each:

- ``_main``: :func:`main`, the entry point (``sslearn`` and ``python -m sslearn``);
- ``_parser``: :func:`build_parser`, the command-line options of every sub-command;
- ``_errors``: :class:`CLIError`, input problems reported as one line and exit code 2;
- ``_read``: reading a long file (:func:`read_table`) into series, channels and targets;
- ``_estimator``: ``--param`` parsing (:func:`parse_params`), the task, making and fitting
  the estimator;
- ``_scores``: the one-line scores of a fitted estimator;
- ``_bundle``: saving and loading the model file (refusing pickles), and the column settings
  it records;
- ``_output``: writing predictions (a CSV file or standard output);
- ``_fit``, ``_evaluate``, ``_predict``: the three sub-commands.
"""

from sslearn.cli._errors import CLIError
from sslearn.cli._estimator import parse_params
from sslearn.cli._main import main
from sslearn.cli._parser import PROG, TASKS, build_parser
from sslearn.cli._read import read_table

__all__ = ["PROG", "TASKS", "CLIError", "build_parser", "main", "parse_params", "read_table"]
