"""``sslearn fit`` -> ``evaluate`` -> ``predict`` on small long CSV files, end to end."""

import importlib.util

import joblib
import numpy as np
import pandas as pd
import pytest

import sslearn
from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn._persist import read_model
from sslearn.cli import main
from sslearn.data import from_long, long_targets

from .conftest import TINY


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


def test_regression_two_targets(heart_csv, tmp_path, capsys):
    model = tmp_path / "vitals.sslearn"
    args = ["fit", str(heart_csv), "--target-col", "heart_rate,breathing_rate"]
    args += ["--value-cols", "ecg,ppg", "--test-size", "0.25", "--refit"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    report = capsys.readouterr().out
    assert "12 train / 4 validation series" in report
    assert "RMSE heart_rate" in report and "breathing_rate" in report
    assert "refit       on all 16 series" in report
    assert isinstance(sslearn.load(model), LiquidS4Regressor)

    assert main(["evaluate", str(model), str(heart_csv)]) == 0
    assert "MAE" in capsys.readouterr().out

    assert main(["predict", str(model), str(heart_csv)]) == 0  # CSV on stdout
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,predicted_heart_rate,predicted_breathing_rate"
    assert len(lines) == 17


def observed_steps(path):
    """How many time steps of each channel the saved model was trained on."""
    return sslearn.load(path).scaler_.n_observed_.tolist()


def test_fit_saves_a_model_trained_on_all_series_by_default(heart_csv, tmp_path, capsys):
    model = tmp_path / "all.sslearn"
    args = ["fit", str(heart_csv), "--target-col", "heart_rate", "--test-size", "0.25"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    report = capsys.readouterr().out
    assert "12 train / 4 validation series" in report
    assert "refit       on all 16 series" in report and "--no-refit" in report
    assert observed_steps(model) == [16 * 250, 16 * 250]  # every series, both channels


def test_no_refit_saves_the_validation_model_and_says_so(heart_csv, tmp_path, capsys):
    model = tmp_path / "part.sslearn"
    args = ["fit", str(heart_csv), "--target-col", "heart_rate", "--groups-col", "subject"]
    args += ["--test-size", "0.25", "--no-refit"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    report = capsys.readouterr().out
    held_out = next(line for line in report.splitlines() if line.startswith("held out"))
    assert "4 of 16 series, grouped by 'subject' (id " in held_out
    frame = pd.read_csv(heart_csv)
    named = held_out.split("(id ")[1].split(")")[0].split(", ")
    assert frame[frame["id"].isin([int(i) for i in named])]["subject"].nunique() == 1
    assert "never saw" in held_out and "--refit" in held_out
    assert "refit " not in report
    assert observed_steps(model) == [12 * 250, 12 * 250]  # the 12 training series only


def test_test_size_0_fits_once_on_all_series(heart_csv, tmp_path, capsys):
    model = tmp_path / "once.sslearn"
    args = ["fit", str(heart_csv), "--target-col", "heart_rate", "--test-size", "0"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    report = capsys.readouterr().out
    assert "split" not in report and "validation" not in report and "refit" not in report
    assert observed_steps(model) == [16 * 250, 16 * 250]


def test_fit_infers_the_channels_as_from_long_does(heart_csv, tmp_path, capsys):
    """heart_rate is the target; breathing_rate and subject are constant within a series."""
    model = tmp_path / "m.sslearn"
    args = ["fit", str(heart_csv), "--target-col", "heart_rate", "--test-size", "0"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    frame = pd.read_csv(heart_csv)
    assert read_model(model)[1]["cli"]["value_cols"] == from_long(frame).columns.tolist()
    assert from_long(frame).columns.tolist() == ["ecg", "ppg"]


@pytest.fixture(scope="module")
def heart_rate_model(heart_csv):
    """A regressor fitted in Python on the vitals' ecg and ppg channels."""
    frame = pd.read_csv(heart_csv)
    reg = LiquidS4Regressor(d_model=8, n_layers=1, d_state=4, max_epochs=1, device="cpu")
    return reg.fit(
        from_long(frame, "id", "time", ["ecg", "ppg"]), long_targets(frame, "id", "heart_rate")
    )


def test_bare_estimator_file(heart_rate_model, heart_csv, tmp_path, capsys):
    """A model saved from Python works too; its channels come from feature_names_in_."""
    path = tmp_path / "bare.sslearn"
    sslearn.save(heart_rate_model, path)
    status = main(["evaluate", str(path), str(heart_csv), "--target-col", "heart_rate"])
    assert status == 0
    assert "heart_rate" in capsys.readouterr().out


def test_allow_pickle_loads_a_trusted_legacy_bundle(heart_rate_model, heart_csv, tmp_path, capsys):
    path = tmp_path / "legacy.joblib"
    settings = {"id_col": "id", "time_col": "time", "value_cols": ["ecg", "ppg"]}
    bundle = {"estimator": heart_rate_model, "task": "regression", **settings}
    joblib.dump({**bundle, "target_cols": ["heart_rate"], "version": "0.0"}, path)
    assert main(["evaluate", str(path), str(heart_csv)]) == 2
    assert "--allow-pickle" in capsys.readouterr().err
    assert main(["evaluate", str(path), str(heart_csv), "--allow-pickle"]) == 0
    assert "heart_rate" in capsys.readouterr().out
    assert main(["predict", str(path), str(heart_csv), "--allow-pickle"]) == 0
    assert capsys.readouterr().out.startswith("id,predicted_heart_rate")


def test_default_model_file_and_evaluate_without_the_target(
    rhythm_csv, heart_csv, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["fit", str(rhythm_csv), "--target-col", "rhythm", "--test-size", "0", *TINY]
    assert main(args) == 0
    assert "saved       model.sslearn" in capsys.readouterr().out  # the default output
    assert isinstance(sslearn.load("model.sslearn"), LiquidS4Classifier)
    assert main(["evaluate", "model.sslearn", str(heart_csv)]) == 2
    assert "['rhythm'] (--target-col) not found" in capsys.readouterr().err


@pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None,
    reason="needs pyarrow or fastparquet",
)
def test_parquet_input(heart_csv, tmp_path, capsys):
    data = tmp_path / "vitals.parquet"
    pd.read_csv(heart_csv).to_parquet(data)
    model = tmp_path / "m.sslearn"
    args = ["fit", str(data), "--target-col", "heart_rate", *TINY, "--model-out", str(model)]
    assert main(args) == 0
    assert "16 series" in capsys.readouterr().out


def test_use_times_fits_and_predicts_with_the_time_column(rhythm_csv, tmp_path, capsys):
    """Half of the rows dropped at random, the times written as dates: --use-times reads the
    dates as seconds, and the saved model reads them again in evaluate and predict."""
    frame = pd.read_csv(rhythm_csv).query("time < 2").sample(frac=0.5, random_state=0)
    frame["time"] = (pd.Timestamp("2025-01-01") + pd.to_timedelta(frame["time"], unit="s")).astype(
        str
    )
    data, model = tmp_path / "irregular.csv", tmp_path / "irregular.sslearn"
    frame.to_csv(data, index=False)
    args = ["fit", str(data), "--target-col", "rhythm", "--use-times", "--test-size", "0"]
    assert main([*args, *TINY, "--model-out", str(model)]) == 0
    assert "irregular sampling, one model step = 0.0" in capsys.readouterr().out
    estimator, _ = read_model(model)
    assert estimator.uses_times_ and 0.019 < estimator.time_unit_ < 0.041
    assert main(["evaluate", str(model), str(data)]) == 0
    assert "accuracy" in capsys.readouterr().out
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 16
