"""Property-based fuzzing of the ``sslearn`` command line's input files (hypothesis).

Long-format CSV files with missing columns, no rows, no bytes, wrong types, missing or
repeated ids and time stamps, infinities, too few series or classes, and odd options. The
property: ``main`` returns 0, or returns 2 with a one-line message on stderr; it never
raises (no traceback) and never hangs. After a successful ``fit``, ``evaluate`` and
``predict`` on the same file hold to the same property.

``test_fit_errors_exit_2`` pins two cases the fuzzing found escaping as tracebacks before
(too few series to hold some out, a single class).
"""

import contextlib
import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from sslearn.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--param", "max_epochs=1", "--param", "d_model=4", "--param", "n_layers=1"]
TINY += ["--param", "d_state=2", "--param", "device=cpu"]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
FAULTS = [
    "no id column",
    "no time column",
    "no target column",
    "no value column",
    "empty file",
    "header only",
    "text values",
    "missing ids",
    "missing times",
    "repeated rows",
    "target varies in a series",
    "one class",
    "infinite values",
    "a series all missing",
    "semicolons",
    "not text",
]
CLEAN_OR_FAULTY = st.sampled_from(["none"] * len(FAULTS) + FAULTS)  # half the files are clean


def long_table(n_series: int, task: str, rng: np.random.Generator) -> pd.DataFrame:
    """One row per (id, time): channels x and y, the target, and a group column."""
    rows = []
    for i in range(n_series):
        target = ["low", "high"][i % 2] if task == "classification" else float(rng.normal())
        for t in range(int(rng.integers(2, 6))):
            x, y = rng.normal(size=2)
            rows.append({"id": f"s{i}", "time": t, "x": x, "y": y, "target": target, "g": i % 3})
    return pd.DataFrame(rows, columns=["id", "time", "x", "y", "target", "g"])


def corrupt(table: pd.DataFrame, fault: str) -> pd.DataFrame | bytes:
    """The table with ``fault`` in it, or the raw bytes of the file."""
    if fault == "empty file":
        return b""
    if fault == "header only":
        return table.iloc[:0]
    if fault == "not text":
        return b"\xff\xfe\x00\x81id,time\n\x00\x00"
    drop = {"no id column": "id", "no time column": "time", "no target column": "target"}
    if fault in drop:
        return table.drop(columns=drop[fault])
    if fault == "no value column":
        return table.drop(columns=["x", "y", "g"])
    table = table.copy()
    if len(table) == 0:
        return table
    if fault == "text values":
        table["x"] = table["x"].astype(object)
        table.loc[0, "x"] = "abc"
    elif fault == "missing ids":
        table.loc[0, "id"] = None
    elif fault == "missing times":
        table["time"] = table["time"].astype(float)
        table.loc[0, "time"] = np.nan
    elif fault == "repeated rows":
        table = pd.concat([table, table.iloc[:1]])
    elif fault == "target varies in a series":
        table["target"] = table["target"].astype(object)
        table.loc[0, "target"] = 123.0
    elif fault == "one class":
        table["target"] = table["target"].iloc[0]
    elif fault == "infinite values":
        table.loc[0, "y"] = np.inf
    elif fault == "a series all missing":
        table.loc[table["id"] == table["id"].iloc[0], ["x", "y"]] = np.nan
    return table


def write(path: Path, content: pd.DataFrame | bytes, fault: str) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content.to_csv(path, index=False, sep=";" if fault == "semicolons" else ",")


def run_cli(args: list[str]) -> int:
    """``main(args)``; fails the test on an exception or a silent refusal."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with warnings.catch_warnings():  # e.g. R² of a single validation series
            warnings.simplefilter("ignore")
            status = main(args)
    assert status in (0, 2), status
    if status == 2:
        message = err.getvalue().strip()
        assert message.startswith(f"sslearn {args[0]}: error: "), message
        if currently_in_test_context():
            event(f"{args[0]} refused: {message.split('error: ')[1][:40]}")
    elif currently_in_test_context():
        event(f"{args[0]} works")
    return status


@FUZZ
@given(
    n_series=st.sampled_from([0, 1, 2, 4, 6, 4, 6]),
    task=st.sampled_from(["classification", "regression"]),
    fault=CLEAN_OR_FAULTY,
    later_fault=CLEAN_OR_FAULTY,
    option=st.sampled_from(["", "", "--task", "--test-size", "--value-cols", "--groups-col"]),
    seed=st.integers(0, 2**16),
)
def test_fit_evaluate_predict(n_series, task, fault, later_fault, option, seed):
    """Fit on a file with ``fault``; evaluate and predict on it and on one with ``later_fault``."""
    rng = np.random.default_rng(seed)
    table = corrupt(long_table(n_series, task, rng), fault)
    later = corrupt(long_table(n_series + 1, task, rng), later_fault)
    extra = {
        "": [],
        "--task": ["--task", task],
        "--test-size": ["--test-size", "0"],
        "--value-cols": ["--value-cols", "x,zz" if seed % 2 else "x"],
        "--groups-col": ["--groups-col", "g"],
    }[option]
    with tempfile.TemporaryDirectory() as folder:
        data, model = Path(folder) / "data.csv", Path(folder) / "model.sslearn"
        write(data, table, fault)
        args = ["fit", str(data), "--target-col", "target", "--model-out", str(model)]
        if run_cli([*args, *extra, *TINY]) == 0:
            write(Path(folder) / "later.csv", later, later_fault)
            for path in (data, Path(folder) / "later.csv"):
                run_cli(["evaluate", str(model), str(path)])
                run_cli(["predict", str(model), str(path), "--out", str(Path(folder) / "p.csv")])


@pytest.mark.parametrize(("n_series", "target"), [(1, "regression"), (4, "one class")])
def test_fit_errors_exit_2(n_series, target, tmp_path):
    table = long_table(n_series, "regression", np.random.default_rng(0))
    if target == "one class":
        table["target"] = "low"  # a classification with a single class
    write(tmp_path / "data.csv", table, "none")
    args = ["fit", str(tmp_path / "data.csv"), "--target-col", "target"]
    assert run_cli([*args, "--model-out", str(tmp_path / "m.sslearn"), *TINY]) == 2
