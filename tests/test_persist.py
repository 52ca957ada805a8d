"""sslearn.save / sslearn.load: one file of JSON and safetensors that loading cannot run."""

import builtins
import io
import json
import pickle
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch

import sslearn
from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn._model_file import META, WEIGHTS, _meta_digest, _sha256

from ._toy import TINY, frequencies, sines

FAST = {**TINY, "max_epochs": 1}


def fresh(n_channels=2, length=31, seed=7):
    """New series, of another length than the training series."""
    return np.random.RandomState(seed).randn(9, n_channels, length)


def outputs(estimator, X):
    if isinstance(estimator, LiquidS4Classifier):
        return estimator.predict(X), estimator.predict_proba(X)
    return (estimator.predict(X),)


def assert_same_predictions(first, second, X):
    for a, b in zip(outputs(first, X), outputs(second, X), strict=True):
        np.testing.assert_array_equal(a, b)


def round_trip(estimator, path):
    sslearn.save(estimator, path)
    return sslearn.load(path)


@pytest.fixture(scope="module")
def classifier():
    X, y = sines(n_classes=3)
    return LiquidS4Classifier(**FAST).fit(X, y)


@pytest.fixture
def model_file(classifier, tmp_path):
    path = tmp_path / "model.sslearn"
    sslearn.save(classifier, path)
    return path


# -- round trips ---------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [None, np.array(["sinus", "afib", "flutter"])])
def test_classifier_round_trip(labels, tmp_path):
    X, y = sines(n_classes=3)
    y = y if labels is None else labels[y]
    clf = LiquidS4Classifier(**FAST).fit(X, y)
    loaded = round_trip(clf, tmp_path / "clf.sslearn")
    assert type(loaded) is LiquidS4Classifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert_same_predictions(loaded, clf, fresh())
    for name in ("n_features_in_", "n_channels_", "n_timepoints_", "n_iter_", "stop_reason_"):
        assert getattr(loaded, name) == getattr(clf, name)
    assert loaded.history_ == clf.history_
    assert loaded.loss_curve_ == clf.loss_curve_
    np.testing.assert_array_equal(loaded.scaler_.scale_, clf.scaler_.scale_)
    assert next(loaded.network_.parameters()).device.type == "cpu"


def test_multi_output_regressor_round_trip(tmp_path):
    X, y = frequencies()
    Y = np.column_stack([y, 3.0 * y + 1.0])
    reg = LiquidS4Regressor(**FAST).fit(X, Y)
    loaded = round_trip(reg, tmp_path / "reg.sslearn")
    assert type(loaded) is LiquidS4Regressor
    assert loaded.n_outputs_ == 2
    assert loaded.predict(fresh(n_channels=1)).shape == (9, 2)
    assert_same_predictions(loaded, reg, fresh(n_channels=1))


def test_feature_names_round_trip(tmp_path):
    X, y = sines(n_channels=1)
    frame = pd.DataFrame(X[:, 0], columns=[f"t{k}" for k in range(X.shape[-1])])
    clf = LiquidS4Classifier(**FAST).fit(frame, y)
    loaded = round_trip(clf, tmp_path / "named.sslearn")
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    assert loaded.feature_names_in_.dtype == object
    np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"t0": "other"}))


@pytest.mark.parametrize(
    "params",
    [{"n_estimators": 2}, {"liquid_kernel": "pb"}, {"stem_channels": 3, "n_estimators": 2}],
)
def test_ensemble_liquid_kernel_and_stem_round_trip(params, tmp_path):
    X, y = sines()
    clf = LiquidS4Classifier(**{**FAST, **params}).fit(X, y)
    assert_same_predictions(round_trip(clf, tmp_path / "m.sslearn"), clf, fresh())


@pytest.mark.parametrize("scale", ["series", "both"])
def test_series_scaling_round_trip(scale, tmp_path):
    X, y = frequencies()
    reg = LiquidS4Regressor(**FAST, scale=scale).fit(X, y)
    loaded = round_trip(reg, tmp_path / "m.sslearn")
    assert loaded.series_scaled_ and (loaded.scaler_ is None) == (scale == "series")
    assert_same_predictions(loaded, reg, fresh(n_channels=1))


def test_str_and_pathlib_paths(classifier, tmp_path):
    sslearn.save(classifier, str(tmp_path / "a.sslearn"))
    sslearn.save(classifier, tmp_path / "b.sslearn")
    for loaded in (sslearn.load(tmp_path / "a.sslearn"), sslearn.load(str(tmp_path / "b.sslearn"))):
        assert_same_predictions(loaded, classifier, fresh())
    # the same model gives the same bytes: no time stamps in the file
    assert (tmp_path / "a.sslearn").read_bytes() == (tmp_path / "b.sslearn").read_bytes()


def test_architecture_of_the_fit_is_rebuilt(classifier, tmp_path):
    """Parameters changed after fit do not change the network that is rebuilt."""
    changed = pickle.loads(pickle.dumps(classifier)).set_params(d_model=16, max_epochs=3)
    loaded = round_trip(changed, tmp_path / "m.sslearn")
    assert loaded.d_model == 16 and loaded.max_epochs == 3
    assert_same_predictions(loaded, classifier, fresh())


def test_loaded_model_refits_and_warm_starts(model_file, classifier):
    X, y = sines(n_classes=3)
    loaded = sslearn.load(model_file)
    assert loaded._optimizer_state is None  # not saved
    loaded.set_params(warm_start=True).fit(X, y)
    assert loaded.n_iter_ == classifier.n_iter_ + 1
    assert len(loaded.history_) == loaded.n_iter_


def test_fitted_on_device_loads_on_cpu(device, tmp_path):
    X, y = sines()
    clf = LiquidS4Classifier(**{**FAST, "device": device}).fit(X, y)
    loaded = round_trip(clf, tmp_path / "m.sslearn")
    assert next(loaded.network_.parameters()).device.type == "cpu"
    loaded.set_params(device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-4, atol=1e-5)


def test_load_leaves_the_global_random_state_alone(model_file):
    state = torch.random.get_rng_state()
    sslearn.load(model_file)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_save_refuses_what_json_cannot_hold(classifier, tmp_path):
    odd = pickle.loads(pickle.dumps(classifier))
    odd.set_params(random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="random_state"):
        sslearn.save(odd, tmp_path / "m.sslearn")

    class Custom(LiquidS4Classifier):
        pass

    with pytest.raises(ValueError, match="not Custom"):
        sslearn.save(Custom(**FAST).fit(*sines()), tmp_path / "m.sslearn")
    assert not (tmp_path / "m.sslearn").exists()


def test_pickles_hold_only_tensors(classifier):
    """A pickle's torch parts load with weights_only=True; a whole pickled module is refused."""
    from sslearn._base import _TorchBytes

    state = classifier.__getstate__()
    for key in ("network_", "_optimizer_state"):
        loaded = torch.load(io.BytesIO(state[key].data), weights_only=True)
        assert isinstance(loaded, dict)
    buffer = io.BytesIO()
    torch.save(classifier.network_, buffer)  # how earlier versions pickled the network
    state["network_"] = _TorchBytes(buffer.getvalue())
    with pytest.raises(ValueError, match="whole torch object"):
        LiquidS4Classifier.__new__(LiquidS4Classifier).__setstate__(state)


# -- refusals ------------------------------------------------------------------------------
class MakesMarker:
    """Unpickling this creates the file ``marker``: proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path, meta=None, weights=None, extra=None, digests=True):
    """Write ``path`` again with changed members; ``digests``: recompute the SHA-256s."""
    parts = members(path)
    meta = meta if meta is not None else json.loads(parts[META])
    weights = weights if weights is not None else parts[WEIGHTS]
    if digests:
        meta["members"] = {WEIGHTS: {"sha256": _sha256(weights), "size": len(weights)}}
        meta["meta_sha256"] = _meta_digest(meta)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(META, json.dumps(meta))
        archive.writestr(WEIGHTS, weights)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)


def edit_meta(path, change):
    meta = json.loads(members(path)[META])
    change(meta)
    rewrite(path, meta=meta)


def test_a_live_marker_payload(tmp_path):
    """The payload of the refusal tests does run when unpickled (so their checks mean it)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(MakesMarker(marker))).close()
    assert marker.exists()


@pytest.mark.parametrize("compress", [None, 0, 3, "gzip", "bz2", "xz", "lzma"])
def test_pickle_and_joblib_files_are_refused_unread(compress, tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "model.joblib"
    if compress is None:
        path.write_bytes(pickle.dumps(MakesMarker(marker), protocol=2))
    else:
        joblib.dump(MakesMarker(marker), path, compress=compress)
    with pytest.raises(ValueError, match=r"sslearn\.save") as info:
        sslearn.load(path)
    assert "arbitrary code" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "is empty"), (b"(dp0\n.", "zip signature"), (b"PK\x05\x06" + bytes(18), "zip")],
)
def test_other_files_are_refused(data, message, tmp_path):
    path = tmp_path / "model.sslearn"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        sslearn.load(path)


def test_truncated_files_are_refused(model_file):
    data = model_file.read_bytes()
    for size in (0, 2, 4, 100, len(data) // 2, len(data) - 100, len(data) - 10, len(data) - 1):
        model_file.write_bytes(data[:size])
        with pytest.raises(ValueError, match=r"sslearn model file|truncated or corrupt"):
            sslearn.load(model_file)


@pytest.mark.parametrize("member", [META, WEIGHTS])
def test_a_flipped_byte_is_detected(member, model_file):
    data = bytearray(model_file.read_bytes())
    with zipfile.ZipFile(model_file) as archive:
        info = archive.getinfo(member)
    # the member's data follows its 30-byte local header, name and extra field
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.file_size // 2] ^= 0x01
    model_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):  # the zip's CRC-32
        sslearn.load(model_file)


def test_changed_members_with_valid_zip_are_detected(model_file):
    parts = members(model_file)
    weights = bytearray(parts[WEIGHTS])
    weights[-1] ^= 0x01
    rewrite(model_file, weights=bytes(weights), digests=False)
    with pytest.raises(ValueError, match=r"weights\.safetensors does not match its SHA-256"):
        sslearn.load(model_file)
    meta = json.loads(parts[META])
    meta["fitted"]["n_iter_"] += 1
    rewrite(model_file, meta=meta, weights=parts[WEIGHTS], digests=False)
    with pytest.raises(ValueError, match=r"meta\.json does not match its SHA-256"):
        sslearn.load(model_file)


def test_newer_format_version_is_refused(model_file):
    edit_meta(model_file, lambda meta: meta.update(format_version=2))
    with pytest.raises(ValueError, match="format version 2 by a newer sslearn"):
        sslearn.load(model_file)


def test_pickle_in_place_of_the_weights_is_refused_unread(model_file, tmp_path):
    marker = tmp_path / "ran"
    rewrite(model_file, weights=pickle.dumps(MakesMarker(marker)))
    with pytest.raises(ValueError, match="not valid safetensors"):
        sslearn.load(model_file)
    assert not marker.exists()


def test_an_extra_member_is_refused_unread(model_file, tmp_path):
    marker = tmp_path / "ran"
    rewrite(model_file, extra={"data.pkl": pickle.dumps(MakesMarker(marker))})
    with pytest.raises(ValueError, match="members"):
        sslearn.load(model_file)
    assert not marker.exists()


def test_a_compressed_member_is_refused(model_file):
    parts = members(model_file)
    with zipfile.ZipFile(model_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="compressed"):
        sslearn.load(model_file)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(estimator="sklearn.svm.SVC"), "is not one of"),
        (lambda m: m.update(estimator="BaseLiquidS4"), "is not one of"),
        (lambda m: m.update(code="print(1)"), "meta.json has the keys"),
        (lambda m: m["params"].update(evil=1), r"unknown parameter\(s\) \['evil'\]"),
        (lambda m: m["params"].update(d_model=-1), "invalid parameters"),
        (lambda m: m["params"].update(ssm={"object": "os.system"}), "unknown or malformed tag"),
        (lambda m: m["fitted"].update(predict="x"), "unknown \\['predict'\\]"),
        (lambda m: m["fitted"].pop("classes_"), "missing \\['classes_'\\]"),
        (lambda m: m["fitted"].update(n_iter_="1"), "n_iter_ must be int"),
        (lambda m: m["fitted"].update(n_iter_=True), "n_iter_ must be"),
        (lambda m: m["fitted"].update(_input_layout="pickle"), "_input_layout"),
        (
            lambda m: m["fitted"]["classes_"]["ndarray"].update(dtype="|V8"),
            "unsupported array dtype",
        ),
        (lambda m: m["fitted"]["_architecture"]["dict"].update(d_model=16), "does not fit"),
        (lambda m: m.update(torch_version=2), "must be strings"),
    ],
)
def test_unexpected_meta_is_refused(change, message, model_file):
    edit_meta(model_file, change)
    with pytest.raises(ValueError, match=message):
        sslearn.load(model_file)


def test_deeply_nested_json_is_refused(model_file):
    parts = members(model_file)
    nested = b'"ema_decay": ' + b"[" * 100_000 + b"]" * 100_000
    text = parts[META].replace(b'"ema_decay": null', nested)
    assert text != parts[META]  # the model file holds the parameter replaced here
    with zipfile.ZipFile(model_file, "w") as archive:
        archive.writestr(META, text)
        archive.writestr(WEIGHTS, parts[WEIGHTS])
    with pytest.raises(ValueError, match="not valid JSON"):
        sslearn.load(model_file)


def test_unexpected_tensors_are_refused(model_file):
    tensors = safetensors.torch.load(members(model_file)[WEIGHTS])
    name = next(iter(tensors))
    for changed in (
        {**tensors, "extra.weight": torch.zeros(2)},
        {key: value for key, value in tensors.items() if key != name},
        {**tensors, name: tensors[name].double()},
    ):
        rewrite(model_file, weights=safetensors.torch.save(changed))
        with pytest.raises(ValueError, match="does not fit the network"):
            sslearn.load(model_file)


def test_a_torch_save_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="members"):
        sslearn.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        sslearn.load(Path(tmp_path) / "none.sslearn")
