"""Which sslearn modules a default CPU ``fit`` plus ``predict`` runs code in.

Fits ``LiquidS4Classifier(max_epochs=2, random_state=0)`` on small random data (24 series,
2 channels, 40 steps, 2 classes) on the CPU, then predicts, under ``sys.setprofile``. Every
Python frame whose code lives in the ``sslearn`` package is recorded; package
``__init__.py`` files are not counted (they only re-export), so the count is of the modules
that hold the code that runs. Prints the count and the sorted list
(``docs/architecture.md``, "The path of one ``fit``", quotes it).

Run: ``python benchmarks/trace_fit_modules.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import sslearn
from sslearn import LiquidS4Classifier

PACKAGE = Path(sslearn.__file__).resolve().parent


def traced_modules() -> list[str]:
    """The sslearn modules (paths relative to the package) a fit plus predict runs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 2, 40)).astype(np.float32)
    y = np.arange(24) % 2
    model = LiquidS4Classifier(max_epochs=2, random_state=0)
    files: set[str] = set()

    def record(frame, event, arg):
        files.add(frame.f_code.co_filename)

    sys.setprofile(record)
    try:
        model.fit(X, y).predict(X)
    finally:
        sys.setprofile(None)
    found = set()
    for name in files:
        path = Path(name).resolve()
        if path.is_relative_to(PACKAGE) and path.name != "__init__.py":
            found.add(path.relative_to(PACKAGE).as_posix())
    return sorted(found)


def main() -> None:
    modules = traced_modules()
    print(f"{len(modules)} sslearn modules")
    for module in modules:
        print(f"  {module}")


if __name__ == "__main__":
    main()
