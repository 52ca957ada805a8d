"""Parameters and fitted attributes as JSON, through a closed set of types.

:func:`to_json` turns a value into JSON; :func:`from_json` turns it back. Plain JSON values
stand for themselves (None, bool, int, float, str, list); every JSON object is a tag with one
key naming one of a fixed set of types::

    {"tuple": [...]}                      a tuple
    {"dict": {"key": ...}}                a dict with string keys
    {"items": [[key, value], ...]}        a dict with other keys (class labels, say)
    {"ndarray": {"dtype": "<f8", "shape": [2], "data": [...]}}
                                          a numeric, boolean, string or object array (of
                                          strings and numbers)
    {"device": "cuda:0"}                  a torch.device
    {"channel_scaler": {...}}             a fitted ChannelScaler (parameters and arrays)

Nothing else can be named, so reading a file builds no object of a type the file chooses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sslearn.data import ChannelScaler

# array dtypes that can be stored: bool, integers, floats, unicode (and object arrays of _SCALARS)
_ARRAY_KINDS = "biufU"
# what an object array (of labels, of column names) may hold
_SCALARS = (str, bool, int, float)
_SCALER_ARRAYS = {"mean_": "f", "var_": "f", "scale_": "f", "n_observed_": "i"}


def to_json(value: Any, name: str = "value") -> Any:
    """``value`` as JSON of the closed set of types; ``name`` appears in errors.

    Raises
    ------
    ValueError
        If ``value`` holds a type outside the set (a RandomState, a callable, ...).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, list):
        return [to_json(item, name) for item in value]
    if isinstance(value, tuple):
        return {"tuple": [to_json(item, name) for item in value]}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {"dict": {key: to_json(item, f"{name}[{key!r}]") for key, item in value.items()}}
        return {"items": [[to_json(key, name), to_json(item, name)] for key, item in value.items()]}
    if isinstance(value, np.ndarray):
        return {"ndarray": _array_to_json(value, name)}
    if isinstance(value, torch.device):
        return {"device": str(value)}
    if type(value) is ChannelScaler:
        scaler = {key: to_json(getattr(value, key), name) for key in ("with_mean", "with_std")}
        scaler["n_channels_"] = int(value.n_channels_)
        scaler |= {key: _array_to_json(getattr(value, key), name) for key in _SCALER_ARRAYS}
        return {"channel_scaler": scaler}
    raise ValueError(
        f"cannot store {name}={value!r}: a {type(value).__name__} is none of the types the "
        "model file holds (None, bool, int, float, str, list, tuple, dict, ndarray, "
        "torch.device, ChannelScaler)"
    )


def from_json(value: Any) -> Any:
    """The value that :func:`to_json` turned into ``value``.

    Raises
    ------
    ValueError
        If ``value`` holds an object that is not one of the tags, or a malformed tag.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [from_json(item) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"expected a tagged JSON object with one key, got {_short(value)}")
    ((tag, content),) = value.items()
    if tag == "tuple" and isinstance(content, list):
        return tuple(from_json(item) for item in content)
    if tag == "dict" and isinstance(content, dict):
        return {key: from_json(item) for key, item in content.items()}
    if tag == "items" and isinstance(content, list):
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in content):
            raise ValueError(f"'items' must hold [key, value] pairs, got {_short(content)}")
        return {_hashable(from_json(key)): from_json(item) for key, item in content}
    if tag == "ndarray" and isinstance(content, dict):
        return _array_from_json(content)
    if tag == "device" and isinstance(content, str):
        try:
            return torch.device(content)
        except RuntimeError as error:
            raise ValueError(f"not a device: {content!r}") from error
    if tag == "channel_scaler" and isinstance(content, dict):
        return _scaler_from_json(content)
    raise ValueError(f"unknown or malformed tag {tag!r}: {_short(content)}")


def _array_to_json(array: np.ndarray, name: str) -> dict[str, Any]:
    array = np.asarray(array)
    scalars = array.dtype == object and all(isinstance(item, _SCALARS) for item in array.flat)
    if array.dtype.kind not in _ARRAY_KINDS and not scalars:
        raise ValueError(f"cannot store {name}: an array of dtype {array.dtype}")
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": array.ravel().tolist()}


def _array_from_json(content: dict[str, Any]) -> np.ndarray:
    if set(content) != {"dtype", "shape", "data"}:
        raise ValueError(f"an ndarray needs exactly dtype, shape and data, got {sorted(content)}")
    dtype, shape, data = content["dtype"], content["shape"], content["data"]
    try:
        dtype = np.dtype(dtype) if isinstance(dtype, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.fields is not None or dtype.kind not in _ARRAY_KINDS + "O":
        raise ValueError(f"unsupported array dtype {content['dtype']!r}")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"an array's shape must be a list of sizes, got {_short(shape)}")
    allowed = {"U": str, "O": _SCALARS}.get(dtype.kind, bool | int | float)
    if not isinstance(data, list) or not all(isinstance(item, allowed) for item in data):
        raise ValueError(f"the data of a {dtype} array must be a flat list of {allowed}")
    if len(data) != int(np.prod(shape)):
        raise ValueError(f"{len(data)} values do not fill an array of shape {tuple(shape)}")
    array = np.empty(len(data), dtype=dtype)
    array[:] = data
    return array.reshape(shape)


def _scaler_from_json(content: dict[str, Any]) -> ChannelScaler:
    keys = {"with_mean", "with_std", "n_channels_", *_SCALER_ARRAYS}
    if set(content) != keys:
        raise ValueError(f"a channel_scaler needs exactly the keys {sorted(keys)}")
    if not all(isinstance(content[key], bool) for key in ("with_mean", "with_std")):
        raise ValueError("a channel_scaler's with_mean and with_std must be booleans")
    n_channels = content["n_channels_"]
    if type(n_channels) is not int or n_channels < 1:
        raise ValueError(f"a channel_scaler's n_channels_ must be positive, got {n_channels!r}")
    scaler = ChannelScaler(with_mean=content["with_mean"], with_std=content["with_std"])
    scaler.n_channels_ = n_channels
    for key, kind in _SCALER_ARRAYS.items():
        array = _array_from_json(content[key])
        if array.dtype.kind != kind or array.shape != (n_channels,):
            raise ValueError(f"a channel_scaler's {key} must be {kind} of shape ({n_channels},)")
        setattr(scaler, key, array)
    return scaler


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError as error:
        raise ValueError(f"a dict key must be a scalar or a tuple, got {_short(key)}") from error
    return key


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
