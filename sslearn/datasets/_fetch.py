"""Download and cache the UCR/UEA classification and Monash TSER regression archives.

Each problem is cached as ``{data_home}/{archive}/{name}/{name}_TRAIN.ts`` and
``..._TEST.ts``. A download goes to a temporary folder inside the cache and is moved into
place only once both files are found and look like ``.ts`` files, so an interrupted or
failed download never leaves a half-written problem behind. There are no checksums: the
archives publish none.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.request
import zipfile
from urllib.error import URLError

from sslearn.datasets._output import check_return_type, check_split, to_output
from sslearn.datasets._readers import read_ts_splits

__all__ = [
    "TSER_RECORDS",
    "TSER_URL",
    "UCR_UEA_URL",
    "fetch_tser",
    "fetch_ucr_uea",
    "get_data_home",
]

UCR_UEA_URL = "https://timeseriesclassification.com/aeon-toolkit"
"""Base URL of the UCR/UEA archive zips (``{UCR_UEA_URL}/{name}.zip``)."""

TSER_URL = "https://zenodo.org/records/{record}/files"
"""Base URL of a Monash TSER problem (``{TSER_URL}/{name}_TRAIN.ts``); ``{record}`` is
filled from :data:`TSER_RECORDS`."""

TSER_RECORDS = {
    "AppliancesEnergy": 3902637,
    "AustraliaRainfall": 3902654,
    "BeijingPM10Quality": 3902667,
    "BeijingPM25Quality": 3902671,
    "BenzeneConcentration": 3902673,
    "BIDMC32HR": 4001456,
    "BIDMC32RR": 4001463,
    "BIDMC32SpO2": 4001464,
    "Covid3Month": 3902690,
    "FloodModeling1": 3902694,
    "FloodModeling2": 3902696,
    "FloodModeling3": 3902698,
    "HouseholdPowerConsumption1": 3902704,
    "HouseholdPowerConsumption2": 3902706,
    "IEEEPPG": 3902710,
    "LiveFuelMoistureContent": 4632439,
    "NewsHeadlineSentiment": 3902718,
    "NewsTitleSentiment": 3902726,
}
"""Zenodo record of each problem of the Monash TSER archive (Tan et al., 2021)."""

_PARTS = ("TRAIN", "TEST")


def get_data_home(data_home: str | os.PathLike | None = None) -> str:
    """The folder where downloaded datasets are cached, created if needed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder. None uses the environment variable ``SSLEARN_DATA`` if set, else
        ``~/sslearn_data``.

    Returns
    -------
    path : str
        The absolute path of the folder.
    """
    if data_home is None:
        data_home = os.environ.get("SSLEARN_DATA") or os.path.join("~", "sslearn_data")
    path = os.path.abspath(os.path.expanduser(os.fspath(data_home)))
    os.makedirs(path, exist_ok=True)
    return path


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name):
        raise ValueError(
            f"name must be a problem name such as 'GunPoint' (letters, digits, '_', '-', "
            f"'.'), got {name!r}."
        )
    return name


def _is_ts_file(path: str) -> bool:
    """A readable text file with a ``@data`` line followed by at least one data line."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            in_data = False
            for line in file:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if in_data:
                    return True
                in_data = line.lower() == "@data"
    except OSError:
        return False
    return False


def _cached(folder: str, name: str) -> bool:
    return all(_is_ts_file(os.path.join(folder, f"{name}_{part}.ts")) for part in _PARTS)


def _download(url: str, path: str, timeout: float) -> None:
    from sslearn import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"sslearn/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            with open(path, "wb") as out:
                shutil.copyfileobj(response, out)
    except (URLError, OSError) as exc:
        raise OSError(
            f"Could not download {url} ({exc}). Check the name and your connection, or "
            "pass base_url to use a mirror."
        ) from exc


def _extract(archive: str, folder: str) -> None:
    """Unzip ``archive`` into ``folder``, refusing members that would land outside it."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            root = os.path.realpath(folder)
            for member in zipped.namelist():
                target = os.path.realpath(os.path.join(root, member))
                if os.path.commonpath([root, target]) != root:
                    raise ValueError(f"Refusing to extract {member!r}: it leaves the folder.")
            zipped.extractall(root)
    except zipfile.BadZipFile as exc:
        with open(archive, "rb") as file:
            start = file.read(60)
        raise ValueError(
            f"The download is not a zip archive ({os.path.getsize(archive)} bytes starting "
            f"with {start!r}); the problem may not exist under that name."
        ) from exc


def _find_parts(folder: str, name: str) -> dict[str, str]:
    """The extracted ``{name}_TRAIN.ts`` and ``_TEST.ts`` (any sub-folder, any case)."""
    wanted = {f"{name}_{part}.ts".lower(): part for part in _PARTS}
    found: dict[str, str] = {}
    seen = []
    for root, _, files in os.walk(folder):
        for file in sorted(files):
            if file.lower().endswith(".ts"):
                seen.append(file)
            part = wanted.get(file.lower())
            if part is not None and part not in found:
                found[part] = os.path.join(root, file)
    missing = [f"{name}_{part}.ts" for part in _PARTS if part not in found]
    if missing:
        raise ValueError(
            f"The downloaded archive lacks {missing}; it holds the .ts files {seen or 'none'}."
        )
    return found


def _fetch(name, split, data_home, archive, download, return_type, download_if_missing):
    name = _check_name(name)
    split = check_split(split)
    check_return_type(return_type)
    parent = os.path.join(get_data_home(data_home), archive)
    folder = os.path.join(parent, name)
    if not _cached(folder, name):
        if not download_if_missing:
            raise FileNotFoundError(
                f"{name} is not in the cache {folder!r} and download_if_missing=False."
            )
        os.makedirs(parent, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=f".{name}-", dir=parent)
        try:
            parts = download(scratch)
            bad = [path for path in parts.values() if not _is_ts_file(path)]
            if bad:
                raise ValueError(
                    f"Downloaded file(s) {[os.path.basename(p) for p in bad]} are not .ts "
                    "files (no '@data' section followed by data)."
                )
            os.makedirs(folder, exist_ok=True)
            for part, path in parts.items():
                os.replace(path, os.path.join(folder, f"{name}_{part}.ts"))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    X, y = read_ts_splits(folder, name, split)
    return to_output(X, y, return_type)


def fetch_ucr_uea(
    name: str,
    split: str | None = None,
    *,
    data_home: str | os.PathLike | None = None,
    base_url: str = UCR_UEA_URL,
    return_type: str = "numpy",
    download_if_missing: bool = True,
    timeout: float = 60.0,
):
    """Load a problem of the UCR/UEA archive, downloading it on first use.

    Downloads ``{base_url}/{name}.zip`` from timeseriesclassification.com (the zips that
    sktime and aeon use), unzips it, keeps ``{name}_TRAIN.ts`` and ``{name}_TEST.ts`` in
    the cache and reads them with sktime's ``.ts`` reader. Later calls read the cache
    without a connection.

    Parameters
    ----------
    name : str
        Problem name as on timeseriesclassification.com, e.g. ``"ECG200"`` or
        ``"AtrialFibrillation"`` (case-sensitive).
    split : "train", "test" or None, default=None
        Which official split to return; None returns both, train first.
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`. Files go to ``{data_home}/ucr_uea/{name}/``.
    base_url : str, default=UCR_UEA_URL
        Where the zips live; any URL ``urllib`` opens, ``file://`` included (a mirror or a
        local copy of the archive).
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).
    download_if_missing : bool, default=True
        If False, raise ``FileNotFoundError`` instead of downloading.
    timeout : float, default=60.0
        Seconds to wait for the server.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Only for ``return_type="numpy"``; unequal-length problems are NaN-padded.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: labels as str (lower-cased by sktime's reader),
        or float64 targets if the file declares ``@targetLabel true``.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0``, ... and
        ``target``.

    Raises
    ------
    OSError
        If the download fails (no connection, unknown name: HTTP 404).
    ValueError
        If the download is not a zip archive or lacks the two ``.ts`` files.

    Examples
    --------
    >>> from sslearn.datasets import fetch_ucr_uea
    >>> X, y = fetch_ucr_uea("ECG200", split="train")  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (100, 1, 96)
    """

    def download(scratch: str) -> dict[str, str]:
        archive = os.path.join(scratch, f"{name}.zip")
        _download(f"{base_url.rstrip('/')}/{name}.zip", archive, timeout)
        unzipped = os.path.join(scratch, "unzipped")
        os.makedirs(unzipped)
        _extract(archive, unzipped)
        return _find_parts(unzipped, name)

    return _fetch(name, split, data_home, "ucr_uea", download, return_type, download_if_missing)


def fetch_tser(
    name: str,
    split: str | None = None,
    *,
    data_home: str | os.PathLike | None = None,
    base_url: str = TSER_URL,
    return_type: str = "numpy",
    download_if_missing: bool = True,
    timeout: float = 60.0,
):
    """Load a problem of the Monash time series extrinsic regression (TSER) archive.

    Downloads ``{base_url}/{name}_TRAIN.ts`` and ``..._TEST.ts`` from the problem's Zenodo
    record (Tan, Bergmeir, Petitjean and Webb, "Time series extrinsic regression", Data
    Min. Knowl. Disc. 35, 2021), caches them and reads them with sktime's ``.ts`` reader.
    Medical problems include ``BIDMC32HR``, ``BIDMC32RR`` and ``BIDMC32SpO2`` (heart rate,
    breathing rate and oxygen saturation from 32 s of ECG and PPG at 125 Hz; compare
    :func:`make_vital_signs`), ``IEEEPPG`` and ``PPGDalia``-style heart-rate tasks.

    Parameters
    ----------
    name : str
        Problem name, one of :data:`TSER_RECORDS` when ``base_url`` contains
        ``{record}``; any name for another ``base_url``.
    split : "train", "test" or None, default=None
        Which official split to return; None returns both, train first.
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`. Files go to ``{data_home}/tser/{name}/``.
    base_url : str, default=TSER_URL
        Folder URL of the two files; ``{record}`` is replaced by the problem's Zenodo
        record and ``{name}`` by ``name``. Any URL ``urllib`` opens, ``file://`` included.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame.
    download_if_missing : bool, default=True
        If False, raise ``FileNotFoundError`` instead of downloading.
    timeout : float, default=60.0
        Seconds to wait for the server.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Only for ``return_type="numpy"``; NaN marks missing values and padding.
    y : ndarray of shape (n_samples,), dtype float64
        Only for ``return_type="numpy"``.
    frame : DataFrame
        Only for ``return_type="frame"``.

    Raises
    ------
    ValueError
        If a download is needed, ``base_url`` needs a Zenodo record and ``name`` is not in
        :data:`TSER_RECORDS`; or a download is not a ``.ts`` file.
    OSError
        If a download fails.

    Examples
    --------
    >>> from sslearn.datasets import fetch_tser
    >>> X, y = fetch_tser("BIDMC32HR", split="test")  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2399, 2, 4000)
    """

    def download(scratch: str) -> dict[str, str]:
        if "{record}" in base_url and name not in TSER_RECORDS:
            raise ValueError(
                f"Unknown TSER problem {name!r}; the Zenodo records are known for: "
                f"{', '.join(TSER_RECORDS)}. Pass base_url for another source (the zips on "
                "timeseriesclassification.com load with fetch_ucr_uea(name))."
            )
        folder_url = base_url.format(record=TSER_RECORDS.get(name, ""), name=name)
        parts = {}
        for part in _PARTS:
            parts[part] = os.path.join(scratch, f"{name}_{part}.ts")
            _download(f"{folder_url.rstrip('/')}/{name}_{part}.ts", parts[part], timeout)
        return parts

    return _fetch(name, split, data_home, "tser", download, return_type, download_if_missing)
