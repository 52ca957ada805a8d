"""Every user error of the command line: exit code 2 and one line on stderr, no traceback.

Each case names a sub-command's argument or option with a bad value; ``{data}``,
``{model}``, ``{pickle}``, ``{missing}`` and ``{nodir}`` stand for a long CSV file, a model
that ``sslearn fit`` saved from it, a joblib file, a path that does not exist and a path in
a folder that does not exist.
"""

import joblib
import pytest

from sslearn.cli import main

from .conftest import TINY

FIT = ["fit", "{data}", "--target-col", "rhythm", "--test-size", "0", "--model-out", "{nodir}"]
FIT_OK = ["fit", "{data}", "--target-col", "rhythm", "--test-size", "0", *TINY]
CASES = {
    # fit: files, columns and options
    "fit missing data": (["fit", "{missing}", "--target-col", "y"], "no such file"),
    "fit model as data": (["fit", "{model}", "--target-col", "y"], "is a model file"),
    "fit no target": (["fit", "{data}"], "required: --target-col"),
    "fit unknown target": (["fit", "{data}", "--target-col", "hr"], "(--target-col) not found"),
    "fit empty target": (["fit", "{data}", "--target-col", ","], "--target-col names no"),
    "fit unknown id": ([*FIT, "--id-col", "record"], "(--id-col) not found"),
    "fit unknown time": ([*FIT, "--time-col", "t"], "(--time-col) not found"),
    "fit unknown values": ([*FIT, "--value-cols", "ecg,abp"], "['abp'] (--value-cols)"),
    "fit unknown groups": ([*FIT, "--groups-col", "patient"], "(--groups-col) not found"),
    "fit id is time": ([*FIT_OK, "--id-col", "time"], "must differ"),
    "fit bad task": ([*FIT, "--task", "ranking"], "invalid choice: 'ranking'"),
    "fit two class targets": (
        ["fit", "{data}", "--target-col", "rhythm,subject", "--task", "classification"],
        "classification takes one --target-col",
    ),
    "fit text regression": ([*FIT_OK, "--task", "regression"], "must be numeric"),
    "fit test size text": ([*FIT, "--test-size", "a"], "invalid float value: 'a'"),
    "fit test size 1.5": ([*FIT, "--test-size", "1.5"], "--test-size must be in [0, 1)"),
    "fit test size < 0": ([*FIT, "--test-size=-0.1"], "--test-size must be in [0, 1)"),
    "fit groups vary in a series": (
        [*FIT_OK, "--test-size", "0.2", "--groups-col", "ecg"],
        "not constant within series",
    ),
    "fit random state text": ([*FIT, "--random-state", "x"], "invalid int value: 'x'"),
    "fit random state < 0": ([*FIT_OK, "--random-state", "-1"], "'random_state' parameter"),
    "fit model-out no folder": ([*FIT_OK, "--model-out", "{nodir}"], "cannot write --model-out"),
    "fit model-out is a folder": ([*FIT_OK, "--model-out", "{folder}"], "it is a folder"),
    # fit: --param
    "param odd d_state": ([*FIT_OK, "--param", "d_state=3"], "d_state must be even"),
    "param unknown name": ([*FIT_OK, "--param", "foo=1"], "unknown --param name(s) ['foo']"),
    "param no value": ([*FIT_OK, "--param", "d_model"], "--param expects key=value"),
    "param no name": ([*FIT_OK, "--param", "=3"], "--param expects key=value"),
    "param wrong type": ([*FIT_OK, "--param", "d_model=abc"], "'d_model' parameter"),
    "param not an int": ([*FIT_OK, "--param", "max_epochs=2.5"], "'max_epochs' parameter"),
    "param out of range": ([*FIT_OK, "--param", "lr=-1"], "'lr' parameter"),
    "param bad option": ([*FIT_OK, "--param", "ssm=s5"], "'ssm' parameter"),
    "param bad device": ([*FIT_OK, "--param", "device=tpu"], "device='tpu' is not a device"),
    "param bad dt_range": ([*FIT_OK, "--param", "dt_range=(1,)"], "dt_range must be"),
    "param text dt_range": ([*FIT_OK, "--param", "dt_range=('a','b')"], "cannot fit the model"),
    # evaluate and predict
    "evaluate missing model": (["evaluate", "{missing}", "{data}"], "no such model file"),
    "evaluate missing data": (["evaluate", "{model}", "{missing}"], "no such file"),
    "evaluate swapped": (["evaluate", "{data}", "{model}"], "the arguments are swapped"),
    "evaluate data as model": (["evaluate", "{data}", "{data}"], "looks like a data file"),
    "evaluate pickle": (["evaluate", "{pickle}", "{data}"], "refusing to unpickle"),
    "evaluate unknown target": (
        ["evaluate", "{model}", "{data}", "--target-col", "hr"],
        "(--target-col) not found",
    ),
    "evaluate two targets": (
        ["evaluate", "{model}", "{data}", "--target-col", "rhythm,subject"],
        "the model predicts 1 target(s), but --target-col names 2",
    ),
    "evaluate targets of another kind": (
        ["evaluate", "{model}", "{data}", "--target-col", "subject"],
        "cannot score the model on the targets ['subject']",
    ),
    "evaluate unknown values": (
        ["evaluate", "{model}", "{data}", "--value-cols", "ecg,abp"],
        "(--value-cols) not found",
    ),
    "evaluate unknown id": (["evaluate", "{model}", "{data}", "--id-col", "x"], "(--id-col)"),
    "predict missing model": (["predict", "{missing}", "{data}"], "no such model file"),
    "predict missing data": (["predict", "{model}", "{missing}"], "no such file"),
    "predict swapped": (["predict", "{data}", "{model}"], "model comes first"),
    "predict pickle": (["predict", "{pickle}", "{data}"], "--allow-pickle"),
    "predict one channel": (
        ["predict", "{model}", "{data}", "--value-cols", "ecg"],
        "cannot predict the series of",
    ),
    "predict unknown time": (["predict", "{model}", "{data}", "--time-col", "t"], "(--time-col)"),
    "predict out no folder": (["predict", "{model}", "{data}", "--out", "{nodir}"], "--out"),
    "predict no data argument": (["predict", "{model}"], "required: data"),
    # the command itself
    "no command": ([], "required: COMMAND"),
    "unknown command": (["train", "{data}"], "invalid choice: 'train'"),
    "unknown option": (["predict", "{model}", "{data}", "--bogus"], "unrecognized arguments"),
}


@pytest.fixture(scope="module")
def paths(rhythm_csv, rhythm_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("errors")
    joblib.dump({"estimator": None}, folder / "model.joblib")
    return {
        "data": str(rhythm_csv),
        "model": str(rhythm_model),
        "pickle": str(folder / "model.joblib"),
        "missing": str(folder / "missing.csv"),
        "nodir": str(folder / "no" / "such" / "out.csv"),
        "folder": str(folder),
    }


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize(("argv", "message"), list(CASES.values()), ids=list(CASES))
def test_user_errors_exit_2_with_one_line(argv, message, paths, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a default model.sslearn would go
    argv = [arg.format(**paths) for arg in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err  # one line
    assert err.startswith("sslearn") and ": error: " in err
    assert message in err
    assert "Traceback" not in err
