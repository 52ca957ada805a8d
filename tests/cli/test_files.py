"""Reading data and model files: what the command refuses before it trains or unpickles."""

import builtins
import importlib.util
import pickle

import joblib
import pandas as pd
import pytest

from sslearn.cli import CLIError, main, read_table
from sslearn.cli._files import value_columns


def test_read_table_reads_csv_and_tsv(rhythm_csv, tmp_path):
    frame = read_table(str(rhythm_csv))
    assert frame.shape == (16 * 250, 6)
    tsv = tmp_path / "rhythm.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    pd.testing.assert_frame_equal(read_table(str(tsv)), frame)


def test_read_table_refuses_what_is_no_data_file(rhythm_model, tmp_path):
    with pytest.raises(CLIError, match="no such file"):
        read_table(str(tmp_path / "none.csv"))
    with pytest.raises(CLIError, match=r"is a model file, not a long-format data file"):
        read_table(str(rhythm_model))
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00\x81id,time\n\x00\x00")
    with pytest.raises(CLIError, match="cannot read"):
        read_table(str(tmp_path / "bad.csv"))


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


def test_value_columns_leave_out_targets_groups_and_per_series_constants(heart_csv):
    frame = read_table(str(heart_csv))
    assert value_columns(frame, [], "id", "time", ["heart_rate"]) == ["ecg", "ppg"]
    assert value_columns(frame, ["ppg"], "id", "time", []) == ["ppg"]  # as requested
    with pytest.raises(CLIError, match=r"no numeric column that varies.*--value-cols"):
        value_columns(frame.drop(columns=["ecg", "ppg"]), [], "id", "time", [])


class MakesMarker:
    """Unpickling this creates the file ``marker``: proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("compress", [0, 3])
def test_pickle_model_files_are_refused_before_unpickling(
    command, compress, heart_csv, tmp_path, capsys
):
    marker = tmp_path / "ran"
    path = tmp_path / "model.joblib"
    joblib.dump({"estimator": MakesMarker(marker)}, path, compress=compress)
    assert main([command, str(path), str(heart_csv), "--target-col", "heart_rate"]) == 2
    error = capsys.readouterr().err
    assert "refusing to unpickle" in error
    assert "sslearn.save" in error and "--allow-pickle" in error
    assert not marker.exists()
    pickle.loads(pickle.dumps(MakesMarker(marker))).close()  # the payload is live
    assert marker.exists()


def test_other_model_files_are_refused(heart_csv, tmp_path, capsys):
    path = tmp_path / "model.sslearn"
    path.write_text("id,time\n")
    assert main(["predict", str(path), str(heart_csv)]) == 2
    assert "not an sslearn model file" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_swapped_arguments_are_named_before_reading_the_data_as_a_model(
    command, rhythm_csv, rhythm_model, capsys
):
    assert main([command, str(rhythm_csv), str(rhythm_model)]) == 2
    error = capsys.readouterr().err
    assert f"{command}: error: the arguments are swapped" in error
    assert f"model comes first: sslearn {command} {rhythm_model} {rhythm_csv}" in error
    assert main([command, str(rhythm_model), str(rhythm_csv)]) == 0  # the order it names


def test_a_data_file_in_the_model_place_is_named(rhythm_csv, capsys):
    """Even when the second argument is no model either, the message names the order."""
    assert main(["predict", str(rhythm_csv), str(rhythm_csv)]) == 2
    error = capsys.readouterr().err
    assert "looks like a data file, not a model file" in error
    assert "sslearn predict MODEL DATA" in error
