"""The downloaders, offline: archives written by the tests and served through file:// URLs."""

import os
import zipfile

import numpy as np
import pytest

from sslearn.datasets import fetch_tser, fetch_ucr_uea, get_data_home

TRAIN = """@problemName Toy
@timeStamps false
@univariate true
@classLabel true a b
@data
1,2,3,4:a
5,6,7,8:b
9,10,11,12:a
"""
TEST = TRAIN.replace("1,2,3,4:a", "0,0,0,0:b")
REG_TRAIN = """@problemName ToyReg
@timeStamps false
@univariate false
@dimensions 2
@targetLabel true
@data
1,2,3:4,5,6:0.5
7,8,9:1,2,3:2.5
"""
REG_TEST = REG_TRAIN.replace(":0.5", ":1.5")


def make_zip(folder, name, members):
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"{name}.zip", "w") as zipped:
        for member, text in members.items():
            zipped.writestr(member, text)
    return folder.as_uri()


def test_fetch_ucr_uea_downloads_validates_and_caches(tmp_path):
    # the archive nests the files in a folder, as some of the real zips do
    url = make_zip(tmp_path / "server", "Toy", {"Toy/Toy_TRAIN.ts": TRAIN, "Toy/Toy_TEST.ts": TEST})
    home = tmp_path / "home"
    X, y = fetch_ucr_uea("Toy", data_home=home, base_url=url)
    assert X.shape == (6, 1, 4) and X.dtype == np.float32
    assert y.tolist() == ["a", "b", "a", "b", "b", "a"]
    assert sorted(os.listdir(home / "ucr_uea")) == ["Toy"]  # no scratch folder left behind
    assert sorted(os.listdir(home / "ucr_uea" / "Toy")) == ["Toy_TEST.ts", "Toy_TRAIN.ts"]
    # served from the cache from now on: the server may go away
    (tmp_path / "server" / "Toy.zip").unlink()
    X_test, _ = fetch_ucr_uea("Toy", "test", data_home=home, base_url=url)
    np.testing.assert_array_equal(X_test, X[3:])
    frame = fetch_ucr_uea("Toy", "train", data_home=home, return_type="frame")
    assert list(frame.columns) == ["id", "time", "dim_0", "target"] and len(frame) == 12


def test_fetch_ucr_uea_download_if_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_ucr_uea("Toy", data_home=tmp_path, download_if_missing=False)


def test_fetch_ucr_uea_unreachable(tmp_path):
    url = (tmp_path / "nowhere").as_uri()
    with pytest.raises(OSError, match="Could not download"):
        fetch_ucr_uea("Toy", data_home=tmp_path / "home", base_url=url)
    assert os.listdir(tmp_path / "home" / "ucr_uea") == []


def test_fetch_ucr_uea_rejects_bad_archives(tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    (server / "Html.zip").write_text("<html>Not found</html>")
    make_zip(server, "Partial", {"Partial_TRAIN.ts": TRAIN, "Other_TEST.ts": TEST})
    make_zip(server, "Empty", {"Empty_TRAIN.ts": TRAIN, "Empty_TEST.ts": "@data\n"})
    make_zip(server, "Escape", {"../Escape_TRAIN.ts": TRAIN, "Escape_TEST.ts": TEST})
    url, home = server.as_uri(), tmp_path / "home"
    with pytest.raises(ValueError, match="not a zip archive"):
        fetch_ucr_uea("Html", data_home=home, base_url=url)
    with pytest.raises(ValueError, match=r"lacks \['Partial_TEST.ts'\]"):
        fetch_ucr_uea("Partial", data_home=home, base_url=url)
    with pytest.raises(ValueError, match=r"are not \.ts files"):
        fetch_ucr_uea("Empty", data_home=home, base_url=url)
    with pytest.raises(ValueError, match="leaves the folder"):
        fetch_ucr_uea("Escape", data_home=home, base_url=url)
    assert os.listdir(home / "ucr_uea") == []
    assert not (tmp_path / "Escape_TRAIN.ts").exists()


@pytest.mark.parametrize("name", ["../etc", "", "a/b", None])
def test_fetch_rejects_path_like_names(tmp_path, name):
    with pytest.raises(ValueError, match="name must be a problem name"):
        fetch_ucr_uea(name, data_home=tmp_path)


def test_fetch_tser_from_a_url_template(tmp_path):
    server = tmp_path / "records" / "ToyReg"
    server.mkdir(parents=True)
    (server / "ToyReg_TRAIN.ts").write_text(REG_TRAIN)
    (server / "ToyReg_TEST.ts").write_text(REG_TEST)
    base_url = (tmp_path / "records").as_uri() + "/{name}"
    X, y = fetch_tser("ToyReg", "train", data_home=tmp_path / "home", base_url=base_url)
    assert X.shape == (2, 2, 3)
    assert y.dtype == np.float64 and y.tolist() == [0.5, 2.5]
    _, y_all = fetch_tser("ToyReg", data_home=tmp_path / "home", download_if_missing=False)
    assert y_all.tolist() == [0.5, 2.5, 1.5, 2.5]


def test_fetch_tser_needs_a_known_record(tmp_path):
    with pytest.raises(ValueError, match="Unknown TSER problem 'Nope'"):
        fetch_tser("Nope", data_home=tmp_path)


def test_get_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLEARN_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == str(tmp_path / "from_env")
    assert os.path.isdir(tmp_path / "from_env")
    assert get_data_home(tmp_path / "explicit") == str(tmp_path / "explicit")
    monkeypatch.delenv("SSLEARN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == str(tmp_path / "sslearn_data")
