"""The container of :func:`sslearn.save`: a zip of JSON and safetensors that cannot run code.

Format version 1 is a zip archive of exactly two members, both stored uncompressed:

- ``meta.json``: UTF-8 JSON, an object with ``format`` (``"sslearn-model"``),
  ``format_version``, the estimator's description written by :mod:`sslearn._persist`,
  ``members`` (SHA-256 and size of ``weights.safetensors``) and ``meta_sha256``, the SHA-256
  of the canonical form of every other key (:func:`_meta_digest`);
- ``weights.safetensors``: tensors in the safetensors format (a JSON header, then raw bytes).

Reading parses JSON and safetensors only, never a pickle. The zip's CRC-32 and the SHA-256
digests detect truncation and accidental or naive changes; they are not signatures, as whoever
edits a file can recompute them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
import zipfile
from typing import Any

FORMAT = "sslearn-model"
FORMAT_VERSION = 1
META = "meta.json"
WEIGHTS = "weights.safetensors"

_CONTAINER_KEYS = ("format", "format_version", "members", "meta_sha256")
_MAX_META_BYTES = 64 * 2**20
_ZIP_MAGIC = b"PK\x03\x04"
# first bytes of a pickle (protocol 2 and up) and of joblib's compressed files
_PICKLE_MAGIC = {
    b"\x80": "a pickle or an uncompressed joblib file",
    b"\x78": "a zlib-compressed joblib file",
    b"\x1f\x8b": "a gzip-compressed (joblib) file",
    b"BZh": "a bz2-compressed (joblib) file",
    b"\xfd7zXZ": "an xz-compressed (joblib) file",
    b"\x5d\x00\x00": "an lzma-compressed (joblib) file",
}
CONVERT_HINT = (
    "If you trust the file, convert it once: python -c "
    "\"import joblib, sslearn; m = joblib.load('old.joblib'); "
    "sslearn.save(m['estimator'] if isinstance(m, dict) else m, 'model.sslearn')\""
)


def pickle_kind(path: str | os.PathLike) -> str | None:
    """What kind of pickle ``path`` looks like from its first bytes; None if it looks like none.

    Parameters
    ----------
    path : str or path-like
        The file; only its first 8 bytes are read.

    Returns
    -------
    kind : str or None
        E.g. ``"a pickle or an uncompressed joblib file"``.
    """
    with open(path, "rb") as file:
        head = file.read(8)
    return next((kind for magic, kind in _PICKLE_MAGIC.items() if head.startswith(magic)), None)


def write_container(path: str | os.PathLike, meta: dict[str, Any], weights: bytes) -> None:
    """Write ``meta`` (JSON-serialisable) and ``weights`` (safetensors bytes) to ``path``.

    The file is written next to ``path`` and moved into place, so a failed save leaves no
    half-written model behind.
    """
    clash = [key for key in _CONTAINER_KEYS if key in meta]
    if clash:
        raise ValueError(f"meta must not set the container's keys {clash}")
    meta = {
        **meta,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "members": {WEIGHTS: {"sha256": _sha256(weights), "size": len(weights)}},
    }
    meta["meta_sha256"] = _meta_digest(meta)
    text = json.dumps(meta, indent=1, sort_keys=True).encode("utf-8")
    temporary = f"{os.fspath(path)}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        with open(temporary, "xb") as file, zipfile.ZipFile(file, "w") as archive:
            for name, data in ((META, text), (WEIGHTS, weights)):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_container(path: str | os.PathLike) -> tuple[dict[str, Any], bytes]:
    """Read and check a file written by :func:`write_container`.

    Returns
    -------
    meta : dict
        The JSON object of ``meta.json`` without the container's own keys.
    weights : bytes
        The ``weights.safetensors`` member, its digest checked.

    Raises
    ------
    ValueError
        If the file is a pickle, not a zip, truncated or corrupt, has other members, was
        written by a newer format version, or its digests do not match.
    """
    name = os.fspath(path)
    with open(path, "rb") as file:
        head = file.read(len(_ZIP_MAGIC))
    if not head.startswith(_ZIP_MAGIC):
        raise ValueError(_not_a_model(name, head, pickle_kind(path)))
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(name, archive)
            text, weights = archive.read(META), archive.read(WEIGHTS)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError) as error:
        raise ValueError(
            f"{name!r} is truncated or corrupt (not a readable zip archive): {error}"
        ) from error
    meta = _parse_meta(name, text)
    _check_digests(name, meta, weights)
    return {key: value for key, value in meta.items() if key not in _CONTAINER_KEYS}, weights


def _not_a_model(name: str, head: bytes, kind: str | None) -> str:
    if kind is not None:
        return (
            f"{name!r} is {kind}, not an sslearn model file. Loading a pickle can run "
            "arbitrary code, so sslearn.load refuses it; it reads only the safe format "
            f"written by sslearn.save (JSON and safetensors in a zip). {CONVERT_HINT}"
        )
    what = "is empty" if not head else "does not start with a zip signature"
    return f"{name!r} is not an sslearn model file written by sslearn.save: it {what}."


def _check_members(name: str, archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    names = sorted(info.filename for info in infos)
    if names != sorted([META, WEIGHTS]):
        raise ValueError(
            f"{name!r} is not an sslearn model file: its members are {names}, expected "
            f"exactly {[META, WEIGHTS]}"
        )
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise ValueError(
                f"{name!r}: member {info.filename!r} is compressed or encrypted; sslearn "
                "model files store their members as they are"
            )
    if archive.getinfo(META).file_size > _MAX_META_BYTES:
        raise ValueError(f"{name!r}: {META} is larger than {_MAX_META_BYTES} bytes")


def _parse_meta(name: str, text: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(text.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValueError(f"{name!r}: {META} is not valid JSON: {error}") from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{name!r}: {META} does not describe an {FORMAT!r} file")
    version = meta.get("format_version")
    if type(version) is not int or version < 1:
        raise ValueError(f"{name!r}: format_version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{name!r} was written in format version {version} by a newer sslearn; this "
            f"sslearn reads format versions up to {FORMAT_VERSION}. Upgrade sslearn to load it."
        )
    return meta


def _check_digests(name: str, meta: dict[str, Any], weights: bytes) -> None:
    if meta.get("meta_sha256") != _meta_digest(meta):
        raise ValueError(f"{name!r}: {META} does not match its SHA-256 digest (modified?)")
    expected = {WEIGHTS: {"sha256": _sha256(weights), "size": len(weights)}}
    if meta.get("members") != expected:
        raise ValueError(f"{name!r}: {WEIGHTS} does not match its SHA-256 digest (modified?)")


def _meta_digest(meta: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``meta`` without ``meta_sha256``."""
    rest = {key: value for key, value in meta.items() if key != "meta_sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _sha256(canonical.encode("ascii"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys in a JSON object: {sorted(keys)}")
    return dict(pairs)
