"""Readers of users' files, on small files written by the tests."""

import numpy as np
import pandas as pd
import pytest

from sslearn.data import from_long, long_targets, to_panel
from sslearn.datasets import read_arff, read_csv_long, read_csv_wide, read_ts

from ._helpers import assert_same_panel

TS_CLASSIFICATION = """# a comment
@problemName toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true Up Down
@data
1.0,2.0,3.0,4.0:5.0,6.0,7.0,8.0:Up
1.5,?,2.5:0.5,0.25,0.125:Down
9.0,8.0:7.0,6.0:Up
"""

TS_REGRESSION = """@problemName toyreg
@timeStamps false
@univariate true
@equalLength true
@seriesLength 3
@targetLabel true
@data
1,2,3:0.5
4,5,6:1.25
"""

TS_UNLABELLED = """@problemName nolabels
@timeStamps false
@univariate true
@classLabel false
@data
1,2,3
4,5,6
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_ts_classification_unequal_and_missing(tmp_path):
    X, y = read_ts(write(tmp_path, "toy.ts", TS_CLASSIFICATION))
    assert X.shape == (3, 2, 4) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0], [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert np.isnan(X[1, 0, 1])  # "?" is a missing value
    assert np.isnan(X[1, :, 3]).all() and np.isnan(X[2, :, 2:]).all()  # padding
    assert y.tolist() == ["up", "down", "up"]  # sktime's reader lower-cases labels
    panel = to_panel(X)
    assert panel.lengths.tolist() == [4, 3, 2]
    assert panel.missing[1, 0, 1] and panel.missing.sum() == 1


def test_read_ts_frame_round_trip(tmp_path):
    path = write(tmp_path, "toy.ts", TS_CLASSIFICATION)
    X, y = read_ts(path)
    frame = read_ts(path, return_type="frame")
    assert list(frame.columns) == ["id", "time", "dim_0", "dim_1", "target"]
    assert len(frame) == 4 + 3 + 2
    rows = from_long(frame, "id", "time", ["dim_0", "dim_1"])
    assert_same_panel(to_panel(rows).to_numpy(), X)
    assert long_targets(frame, "id", "target").tolist() == y.tolist()


def test_read_ts_regression_targets_are_float(tmp_path):
    X, y = read_ts(write(tmp_path, "reg.ts", TS_REGRESSION))
    assert X.shape == (2, 1, 3)
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.25]


def test_read_ts_without_labels(tmp_path):
    path = write(tmp_path, "nolabels.ts", TS_UNLABELLED)
    X, y = read_ts(path)
    assert X.shape == (2, 1, 3) and y is None
    assert "target" not in read_ts(path, return_type="frame").columns


def test_read_ts_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_ts(tmp_path / "absent.ts")
    with pytest.raises(ValueError, match=r"Expected a \.ts file"):
        read_ts(write(tmp_path, "toy.txt", TS_REGRESSION))


ARFF_UNIVARIATE = """@relation toy
@attribute t0 numeric
@attribute t1 numeric
@attribute t2 numeric
@attribute class {a,b}
@data
1.0,2.0,3.0,a
4.0,?,6.0,b
"""

ARFF_MULTIVARIATE = """@relation toymv
@attribute series relational
  @attribute t0 numeric
  @attribute t1 numeric
@end series
@attribute class {x,y}
@data
'1.0,2.0\\n3.0,4.0',x
'5.0,6.0\\n7.0,8.0',y
"""


def test_read_arff_univariate(tmp_path):
    X, y = read_arff(write(tmp_path, "toy.arff", ARFF_UNIVARIATE))
    assert X.shape == (2, 1, 3) and X.dtype == np.float32
    assert X[0, 0].tolist() == [1, 2, 3] and np.isnan(X[1, 0, 1])
    assert y.tolist() == ["a", "b"]


def test_read_arff_multivariate_and_frame(tmp_path):
    path = write(tmp_path, "toymv.arff", ARFF_MULTIVARIATE)
    X, y = read_arff(path)
    np.testing.assert_array_equal(X, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    assert y.tolist() == ["x", "y"]
    frame = read_arff(path, return_type="frame")
    assert list(frame.columns) == ["id", "time", "dim_0", "dim_1", "target"]
    np.testing.assert_array_equal(
        to_panel(from_long(frame, value_cols=["dim_0", "dim_1"])).values, X
    )


@pytest.fixture
def long_csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for sid, length, label in [("s2", 5, "b"), ("s1", 3, "a"), ("s3", 4, "a")]:
        for t in rng.permutation(length):
            rows.append({"sid": sid, "t": t, "hr": rng.normal(), "spo2": rng.normal(), "dx": label})
    df = pd.DataFrame(rows)
    path = tmp_path / "long.csv"
    df.to_csv(path, index=False)
    return path, df


def test_read_csv_long_numpy(long_csv):
    path, df = long_csv
    X, y = read_csv_long(path, "sid", "t", ["hr", "spo2"], "dx")
    assert X.shape == (3, 2, 5) and X.dtype == np.float32
    assert y.tolist() == ["a", "b", "a"]  # sorted ids: s1, s2, s3
    s2 = df[df["sid"] == "s2"].sort_values("t")
    np.testing.assert_allclose(X[1, 0], s2["hr"], rtol=1e-6)
    assert np.isnan(X[0, :, 3:]).all()
    X_default, _ = read_csv_long(path, "sid", "t", target_col="dx")
    np.testing.assert_array_equal(X_default, X)  # value_cols=None: every other column


def test_read_csv_long_frame(long_csv):
    path, _ = long_csv
    frame = read_csv_long(path, "sid", "t", ["hr", "spo2"], "dx", return_type="frame")
    assert list(frame.columns) == ["sid", "t", "hr", "spo2", "dx"]
    assert frame["sid"].is_monotonic_increasing
    X, y = read_csv_long(path, "sid", "t", ["hr", "spo2"], "dx")
    X_frame = to_panel(from_long(frame, "sid", "t", ["hr", "spo2"])).to_numpy()
    assert_same_panel(X_frame, X)
    assert long_targets(frame, "sid", "dx").tolist() == y.tolist()


def test_read_csv_long_checks_targets(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"id": [0, 0], "time": [0, 1], "x": [1.0, 2.0], "y": [0, 1]}).to_csv(
        path, index=False
    )
    with pytest.raises(ValueError, match="not constant within series"):
        read_csv_long(path, target_col="y")


def test_read_csv_wide(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("pid,label,t0,t1,t2,t3\np1,0,1,2,3,4\np2,1,5,,7,\np3,0,8,9,,\n")
    X, y = read_csv_wide(path, target_col="label", id_col="pid")
    assert X.shape == (3, 1, 4) and X.dtype == np.float32
    assert y.tolist() == [0, 1, 0]
    panel = to_panel(X)
    assert panel.lengths.tolist() == [4, 3, 2]
    assert panel.missing[1, 0, 1]
    frame = read_csv_wide(path, target_col="label", id_col="pid", return_type="frame")
    assert list(frame.columns) == ["id", "time", "dim_0", "target"]
    assert frame.groupby("id").size().tolist() == [4, 3, 2]
    assert_same_panel(to_panel(from_long(frame, value_cols="dim_0")).to_numpy(), X)
    with pytest.raises(ValueError, match="not found"):
        read_csv_wide(path, target_col="diagnosis")
