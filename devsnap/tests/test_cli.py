"""The ``sslearn`` command line: fit -> evaluate -> predict on small long CSV files."""

import builtins
import importlib
import importlib.util
import pickle
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

import sslearn
from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn._persist import read_model
from sslearn.cli import main, parse_params
from sslearn.datasets import make_vital_signs

TINY = [
    "--param",
    "max_epochs=2",
    "--param",
    "d_model=8",
    "--param",
    "n_layers=1",
    "--param",
    "d_state=4",
    "--param",
    "device=cpu",
]


def _vitals_csv(path, task):
    frame, _ = make_vital_signs(
        n_subjects=4, recordings_per_subject=4, duration_s=5, fs=50, task=task, random_state=0
    )
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture(scope="module")
def rhythm_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "rhythm.csv"
    _vitals_csv(path, "classification")
    return path


@pytest.fixture(scope="module")
def vitals_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "vitals.csv"
    _vitals_csv(path, "regression")
    return path


def test_classification_fit_evaluate_predict(rhythm_csv, tmp_path, capsys):
    model = tmp_path / "rhythm.sslearn"
    args = ["fit", str(rhythm_csv), "--target-col", "rhythm", "--groups-col", "subject"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    report = capsys.readouterr().out
    assert "16 series" in report
    assert "['ecg', 'ppg']" in report  # subject, a per-series constant, is no channel
    assert "classification (inferred" in report
    assert "grouped by 'subject'" in report
    assert "validation  accuracy" in report
    assert "sslearn.load(path)" in report
    estimator, extra = read_model(model)
    assert isinstance(estimator, LiquidS4Classifier)
    assert estimator.n_iter_ == 2
    assert extra["cli"]["value_cols"] == ["ecg", "ppg"]
    assert extra["cli"]["task"] == "classification"

    assert main(["evaluate", str(model), str(rhythm_csv)]) == 0
    report = capsys.readouterr().out
    assert "accuracy" in report
    assert "atrial_fibrillation" in report  # the classification report

    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(rhythm_csv), "--out", str(out)]) == 0
    predictions = pd.read_csv(out)
    assert len(predictions) == 16
    assert list(predictions.columns[:2]) == ["id", "predicted_rhythm"]
    proba = predictions.filter(like="proba_").to_numpy()
    assert proba.shape == (16, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_regression_two_targets(vitals_csv, tmp_path, capsys):
    model = tmp_path / "vitals.sslearn"
    args = ["fit", str(vitals_csv), "--target-col", "heart_rate,breathing_rate"]
    args += ["--value-cols", "ecg,ppg", "--test-size", "0.25", "--refit"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    report = capsys.readouterr().out
    assert "12 train / 4 validation series" in report
    assert "RMSE heart_rate" in report and "breathing_rate" in report
    assert "refit       on all 16 series" in report
    assert isinstance(sslearn.load(model), LiquidS4Regressor)

    assert main(["evaluate", str(model), str(vitals_csv)]) == 0
    assert "MAE" in capsys.readouterr().out

    assert main(["predict", str(model), str(vitals_csv)]) == 0  # CSV on stdout
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,predicted_heart_rate,predicted_breathing_rate"
    assert len(lines) == 17


@pytest.fixture(scope="module")
def heart_rate_model(vitals_csv):
    """A regressor fitted in Python on the vitals' ecg and ppg channels."""
    from sslearn.data import from_long, long_targets

    frame = pd.read_csv(vitals_csv)
    reg = LiquidS4Regressor(d_model=8, n_layers=1, d_state=4, max_epochs=1, device="cpu")
    return reg.fit(
        from_long(frame, "id", "time", ["ecg", "ppg"]), long_targets(frame, "id", "heart_rate")
    )


def test_bare_estimator_file(heart_rate_model, vitals_csv, tmp_path, capsys):
    """A model saved from Python works too; its channels come from feature_names_in_."""
    path = tmp_path / "bare.sslearn"
    sslearn.save(heart_rate_model, path)
    status = main(["evaluate", str(path), str(vitals_csv), "--target-col", "heart_rate"])
    assert status == 0
    assert "heart_rate" in capsys.readouterr().out


class MakesMarker:
    """Unpickling this creates the file ``marker``: proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("compress", [0, 3])
def test_pickle_model_files_are_refused_before_unpickling(
    command, compress, vitals_csv, tmp_path, capsys
):
    marker = tmp_path / "ran"
    path = tmp_path / "model.joblib"
    joblib.dump({"estimator": MakesMarker(marker)}, path, compress=compress)
    assert main([command, str(path), str(vitals_csv), "--target-col", "heart_rate"]) == 2
    error = capsys.readouterr().err
    assert "refusing to unpickle" in error
    assert "sslearn.save" in error and "--allow-pickle" in error
    assert not marker.exists()
    pickle.loads(pickle.dumps(MakesMarker(marker))).close()  # the payload is live
    assert marker.exists()


def test_other_model_files_are_refused(vitals_csv, tmp_path, capsys):
    path = tmp_path / "model.sslearn"
    path.write_text("id,time\n")
    assert main(["predict", str(path), str(vitals_csv)]) == 2
    assert "not an sslearn model file" in capsys.readouterr().err


def test_allow_pickle_loads_a_trusted_legacy_bundle(heart_rate_model, vitals_csv, tmp_path, capsys):
    path = tmp_path / "legacy.joblib"
    settings = {"id_col": "id", "time_col": "time", "value_cols": ["ecg", "ppg"]}
    bundle = {"estimator": heart_rate_model, "task": "regression", **settings}
    joblib.dump({**bundle, "target_cols": ["heart_rate"], "version": "0.0"}, path)
    assert main(["evaluate", str(path), str(vitals_csv)]) == 2
    assert "--allow-pickle" in capsys.readouterr().err
    assert main(["evaluate", str(path), str(vitals_csv), "--allow-pickle"]) == 0
    assert "heart_rate" in capsys.readouterr().out
    assert main(["predict", str(path), str(vitals_csv), "--allow-pickle"]) == 0
    assert capsys.readouterr().out.startswith("id,predicted_heart_rate")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-col", "hr"], "(--target-col) not found"),
        (["--target-col", "heart_rate", "--id-col", "record"], "(--id-col) not found"),
        (["--target-col", "heart_rate", "--value-cols", "ecg,abp"], "['abp'] (--value-cols)"),
        (["--target-col", "heart_rate", "--groups-col", "patient"], "(--groups-col) not found"),
        (["--target-col", "heart_rate", "--param", "foo=1"], "unknown --param"),
        (["--target-col", "heart_rate", "--param", "d_model=-1"], "invalid --param"),
        (["--target-col", "heart_rate", "--param", "d_model"], "key=value"),
        (["--target-col", "heart_rate", "--test-size", "1.5"], "--test-size"),
    ],
)
def test_input_errors_exit_2_without_traceback(vitals_csv, capsys, extra, message):
    assert main(["fit", str(vitals_csv), *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.err.startswith("sslearn fit: error:")


def test_missing_files_and_usage_errors(tmp_path, vitals_csv, capsys):
    assert main(["fit", str(tmp_path / "none.csv"), "--target-col", "y"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "none.sslearn"), str(vitals_csv)]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert main(["fit", str(vitals_csv)]) == 2  # argparse: --target-col is required
    assert "--target-col" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_evaluate_reports_missing_target_column(
    rhythm_csv, vitals_csv, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(rhythm_csv), "--target-col", "rhythm", *TINY]) == 0
    assert "saved       model.sslearn" in capsys.readouterr().out  # the default output
    assert isinstance(sslearn.load("model.sslearn"), LiquidS4Classifier)
    assert main(["evaluate", "model.sslearn", str(vitals_csv)]) == 2
    assert "['rhythm'] (--target-col) not found" in capsys.readouterr().err


@pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None,
    reason="needs pyarrow or fastparquet",
)
def test_parquet_input(vitals_csv, tmp_path, capsys):
    data = tmp_path / "vitals.parquet"
    pd.read_csv(vitals_csv).to_parquet(data)
    model = tmp_path / "m.sslearn"
    args = ["fit", str(data), "--target-col", "heart_rate", *TINY, "--model-out", str(model)]
    assert main(args) == 0
    assert "16 series" in capsys.readouterr().out


@pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is not None
    or importlib.util.find_spec("fastparquet") is not None,
    reason="a Parquet engine is installed",
)
def test_parquet_without_engine_says_what_to_install(tmp_path, capsys):
    data = tmp_path / "vitals.parquet"
    data.write_bytes(b"PAR1")
    assert main(["fit", str(data), "--target-col", "heart_rate"]) == 2
    assert "pip install pyarrow" in capsys.readouterr().err


def test_parse_params():
    params = parse_params(["max_epochs=3", "lr=1e-3", "liquid_kernel=None", "ssm=diag"])
    assert params == {"max_epochs": 3, "lr": 1e-3, "liquid_kernel": None, "ssm": "diag"}
    assert parse_params(["bidirectional=true", "device=cuda:0"]) == {
        "bidirectional": True,
        "device": "cuda:0",
    }


def test_python_m_sslearn_help():
    result = subprocess.run(
        [sys.executable, "-m", "sslearn", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("fit", "evaluate", "predict"):
        assert command in result.stdout


def test_console_script_entry_point():
    tomllib = pytest.importorskip("tomllib")
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, name = scripts["sslearn"].partition(":")
    assert getattr(importlib.import_module(module), name) is main
