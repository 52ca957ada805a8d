"""Saving a fitted estimator to a file that cannot run code, and loading it back.

:func:`save` writes the network's weights as safetensors and everything else (the class name,
``get_params()``, the fitted attributes, versions) as JSON (:mod:`sslearn._json_values`),
in the zip container of :mod:`sslearn._model_file`. :func:`load` reads them back without
unpickling anything: the class comes from a fixed list, the parameters pass the estimator's
own validation, every fitted attribute is checked against a table of names and types, and the
network is rebuilt from the parameters and filled with tensors of exactly its own names,
shapes and dtypes.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import safetensors
import safetensors.torch
import torch
from sklearn.utils.validation import check_is_fitted

from sslearn._base import ARCHITECTURE, BaseLiquidS4
from sslearn._classifier import LiquidS4Classifier
from sslearn._json_values import from_json, to_json
from sslearn._model_file import read_container, write_container
from sslearn._regressor import LiquidS4Regressor
from sslearn._validation import LAYOUTS
from sslearn.data import ChannelScaler

_CLASSES = {cls.__name__: cls for cls in (LiquidS4Classifier, LiquidS4Regressor)}
_KEYS = {"estimator", "params", "fitted", "extra", "sslearn_version", "torch_version"}

_NUMBER = (int, float)
# fitted attributes and the types they may hold; network_ goes to safetensors and the
# optimizer's state is not saved
_FITTED = {
    "n_features_in_": int,
    "feature_names_in_": np.ndarray,
    "_input_layout": str,
    "n_channels_": int,
    "n_timepoints_": int,
    "scaler_": (ChannelScaler, type(None)),
    "_missing_indicator": bool,
    "missing_in_fit_": bool,
    "device_": torch.device,
    "_architecture": dict,
    "history_": list,
    "n_iter_": int,
    "best_validation_score_": (*_NUMBER, type(None)),
    "validation_scores_": (list, type(None)),
    "loss_curve_": list,
    "stop_reason_": str,
    "uses_times_": bool,
    "time_unit_": (float, type(None)),
    "series_scaled_": bool,
}
_FITTED_BY_CLASS = {
    LiquidS4Classifier: {
        "classes_": np.ndarray,
        "temperature_": float,
        "conformity_scores_": (np.ndarray, type(None)),
    },
    LiquidS4Regressor: {
        "_y_ndim": int,
        "n_outputs_": int,
        "_y_mean": np.ndarray,
        "_y_scale": np.ndarray,
        "conformity_scores_": (np.ndarray, type(None)),
        "ensemble_conformity_scores_": (np.ndarray, type(None)),
    },
}
# held-out calibration (temperature_, conformity scores), irregular sampling (uses_times_,
# time_unit_) and per-series scaling (series_scaled_) came after the first model files
_OPTIONAL = {
    "feature_names_in_",
    "missing_in_fit_",
    "temperature_",
    "conformity_scores_",
    "ensemble_conformity_scores_",
    "uses_times_",
    "series_scaled_",
    "time_unit_",
}
_NOT_SAVED = {"network_", "_optimizer_state"}
# parameters that are not saved, and the value a loaded estimator gets instead: callbacks are
# arbitrary user objects, which JSON cannot hold and a safe file must not rebuild
_PARAMS_NOT_SAVED = {"callbacks": None}


def save(estimator: BaseLiquidS4, path: str | os.PathLike) -> None:
    """Save a fitted estimator to one file that loading cannot turn into code.

    The file is a zip archive holding ``meta.json`` (the class, ``get_params()``, the fitted
    attributes such as ``classes_``, ``n_features_in_`` and ``history_``, and the sslearn and
    torch versions) and ``weights.safetensors`` (the network's weights), with a SHA-256 of
    each. Unlike a pickle, it can be loaded from an untrusted source. The optimizer's state
    is not saved: a loaded model predicts exactly as the saved one (on the same device) and
    can be refitted; with ``warm_start=True`` it continues from the saved weights with a
    fresh optimizer. Nor are the ``callbacks`` (user objects, which a file that cannot run
    code cannot rebuild): the loaded model has ``callbacks=None``; set them again with
    ``set_params(callbacks=[...])`` before refitting.

    Parameters
    ----------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        A fitted estimator (not a subclass).
    path : str or path-like
        The file to write, e.g. ``"model.sslearn"``; replaced if it exists.

    Raises
    ------
    ValueError
        If ``estimator`` holds a parameter or attribute that JSON cannot store (e.g.
        ``random_state`` set to a RandomState instance).

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, sslearn
    >>> from sslearn import LiquidS4Regressor
    >>> X, y = np.random.RandomState(0).randn(20, 1, 16), np.arange(20.0)
    >>> reg = LiquidS4Regressor(d_model=4, n_layers=1, d_state=4, max_epochs=2,
    ...                         device="cpu", random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sslearn")
    >>> sslearn.save(reg, path)
    >>> loaded = sslearn.load(path)
    >>> bool(np.array_equal(loaded.predict(X), reg.predict(X)))
    True
    """
    write_model(estimator, path)


def load(path: str | os.PathLike) -> BaseLiquidS4:
    """Load an estimator saved by :func:`save`, on the CPU, without running code from the file.

    Only JSON and safetensors are parsed; pickles (``.pkl``, ``.joblib``) are refused before
    any byte of them is unpickled. The network is rebuilt from the saved parameters, so a
    model fitted on a GPU loads on a machine without one.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save` (or by ``sslearn fit``).

    Returns
    -------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        The fitted estimator, its network on the CPU.

    Raises
    ------
    ValueError
        If the file is a pickle, truncated, modified, written by a newer format version, or
        holds anything but the expected class, parameters, attributes and tensors.

    See Also
    --------
    save : Write the file.
    """
    return read_model(path)[0]


def write_model(
    estimator: BaseLiquidS4, path: str | os.PathLike, extra: dict[str, Any] | None = None
) -> None:
    """:func:`save`, also storing ``extra`` (JSON-serialisable settings, e.g. the CLI's)."""
    cls = _CLASSES.get(type(estimator).__name__)
    if cls is not type(estimator):
        raise ValueError(
            f"sslearn.save stores {sorted(_CLASSES)}, not {type(estimator).__name__}; pickle a "
            "subclass (trusted use only), or save an instance of its parent class"
        )
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    schema = _schema(cls)
    fitted = {}
    for name, value in vars(estimator).items():
        if name in params or name in _NOT_SAVED:
            continue
        if name not in schema:
            raise ValueError(f"sslearn.save does not know how to store the attribute {name!r}")
        fitted[name] = to_json(value, name)
    tensors = {
        name: tensor.detach().to("cpu", copy=True).contiguous()
        for name, tensor in estimator.network_.state_dict().items()
    }
    meta = {
        "estimator": cls.__name__,
        "params": {
            name: to_json(value, name) for name, value in {**params, **_PARAMS_NOT_SAVED}.items()
        },
        "fitted": fitted,
        "extra": to_json(extra, "extra"),
        "sslearn_version": _sslearn_version(),
        "torch_version": torch.__version__,
    }
    write_container(path, meta, safetensors.torch.save(tensors))


def read_model(path: str | os.PathLike) -> tuple[BaseLiquidS4, Any]:
    """:func:`load`, also returning the ``extra`` that :func:`write_model` stored."""
    name = os.fspath(path)
    meta, weights = read_container(path)
    if set(meta) != _KEYS:
        raise ValueError(f"{name!r}: meta.json has the keys {sorted(meta)}, expected {_KEYS}")
    try:
        estimator = _estimator(meta)
        extra = from_json(meta["extra"])
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{name!r}: meta.json: {error}") from error
    try:
        tensors = safetensors.torch.load(weights)
    except (safetensors.SafetensorError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{name!r}: weights.safetensors is not valid safetensors: {error}"
        ) from error
    try:
        network = estimator._build_fitted_network()
    except (ValueError, TypeError, RuntimeError) as error:
        raise ValueError(f"{name!r}: meta.json describes no buildable network: {error}") from error
    _check_tensors(name, network.state_dict(), tensors)
    network.load_state_dict(tensors)
    estimator.network_ = network
    return estimator, extra


def _estimator(meta: dict[str, Any]) -> BaseLiquidS4:
    """The estimator of ``meta``: its class, validated parameters and checked attributes."""
    if not all(isinstance(meta[key], str) for key in ("sslearn_version", "torch_version")):
        raise ValueError("sslearn_version and torch_version must be strings")
    cls = _CLASSES.get(meta["estimator"]) if isinstance(meta["estimator"], str) else None
    if cls is None:
        raise ValueError(f"estimator {meta['estimator']!r} is not one of {sorted(_CLASSES)}")
    params = _mapping(meta["params"], "params")
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} of {cls.__name__}")
    estimator = _validated(cls, params)
    fitted = _mapping(meta["fitted"], "fitted")
    schema = _schema(cls)
    missing = sorted(set(schema) - _OPTIONAL - set(fitted))
    unknown = sorted(set(fitted) - set(schema))
    if missing or unknown:
        raise ValueError(f"fitted attributes: missing {missing}, unknown {unknown}")
    for key, value in fitted.items():
        _check_type(key, value, schema[key])
    _check_contents(fitted)
    architecture = fitted["_architecture"]
    if set(architecture) != set(ARCHITECTURE):
        raise ValueError(f"_architecture must name exactly {list(ARCHITECTURE)}")
    _validated(cls, {**params, **architecture})
    vars(estimator).update(fitted)
    estimator._optimizer_state = None
    return estimator


def _validated(cls: type, params: dict[str, Any]) -> BaseLiquidS4:
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as error:  # InvalidParameterError is both
        raise ValueError(f"invalid parameters: {error}") from error
    return estimator


def _mapping(value: Any, what: str) -> dict[str, Any]:
    """A JSON object of names to values written by :func:`to_json`, decoded."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(value).__name__}")
    return {key: from_json(item) for key, item in value.items()}


def _check_type(key: str, value: Any, types: type | tuple[type, ...]) -> None:
    types = types if isinstance(types, tuple) else (types,)
    # True is an int to Python, but not a count
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = " or ".join(kind.__name__ for kind in types)
        raise ValueError(f"{key} must be {names}, got {type(value).__name__}")


def _check_contents(fitted: dict[str, Any]) -> None:
    """The insides of the containers: layouts, lists of numbers, one record per epoch."""
    for key in ("n_features_in_", "n_channels_", "n_timepoints_", "n_outputs_", "_y_ndim"):
        if fitted.get(key, 1) < 1:
            raise ValueError(f"{key} must be positive")
    if fitted["n_iter_"] < 0 or fitted.get("_y_ndim", 1) > 2:
        raise ValueError("n_iter_ must be non-negative and _y_ndim 1 or 2")
    if fitted["_input_layout"] not in LAYOUTS:
        raise ValueError(f"_input_layout must be one of {LAYOUTS}")
    for key in ("loss_curve_", "validation_scores_"):
        values = fitted[key] or []
        if not all(isinstance(value, _NUMBER) and not isinstance(value, bool) for value in values):
            raise ValueError(f"{key} must be a list of numbers")
    for record in fitted["history_"]:
        if not isinstance(record, dict) or not all(
            isinstance(key, str) and isinstance(value, (*_NUMBER, str, type(None)))
            for key, value in record.items()
        ):
            raise ValueError("history_ must be a list of records of numbers and strings")
    for key in ("classes_", "feature_names_in_", "_y_mean", "_y_scale"):
        if key in fitted and fitted[key].ndim != 1:
            raise ValueError(f"{key} must be a 1-D array")
    temperature = fitted.get("temperature_", 1.0)
    if not 0 < temperature < np.inf:
        raise ValueError("temperature_ must be a positive finite number")
    time_unit = fitted.get("time_unit_")
    if fitted.get("uses_times_", False) != (time_unit is not None) or not (
        time_unit is None or 0 < time_unit < np.inf
    ):
        raise ValueError("time_unit_ must be a positive finite number exactly when uses_times_")
    for key in ("conformity_scores_", "ensemble_conformity_scores_"):
        scores = fitted.get(key)
        if scores is not None and (
            scores.ndim != (1 if "classes_" in fitted else 2)
            or scores.dtype != np.float64
            or not (scores >= 0).all()
        ):
            raise ValueError(f"{key} must be an array of non-negative float64 scores")


def _check_tensors(name: str, expected: dict[str, torch.Tensor], tensors: dict) -> None:
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = [
        f"{key}: {tuple(tensors[key].shape)} {tensors[key].dtype}, expected "
        f"{tuple(tensor.shape)} {tensor.dtype}"
        for key, tensor in expected.items()
        if key in tensors
        and (tensors[key].shape != tensor.shape or tensors[key].dtype != tensor.dtype)
    ]
    if missing or unexpected or wrong:
        raise ValueError(
            f"{name!r}: weights.safetensors does not fit the network its parameters describe: "
            f"missing {missing}, unexpected {unexpected}, mismatched {wrong}"
        )


def _schema(cls: type) -> dict[str, Any]:
    return {**_FITTED, **_FITTED_BY_CLASS[cls]}


def _sslearn_version() -> str:
    import sslearn

    return sslearn.__version__
