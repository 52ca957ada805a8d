"""MkDocs hook: the site renders its math with a local copy of MathJax, no CDN.

MathJax 3 comes from the ``django-static-mathjax`` wheel on PyPI (in the ``docs`` extra;
despite the name it has no dependencies, Django included: it only ships MathJax's files
under the import name ``mathjax``). This hook adds the files the site needs to the build
under ``assets/mathjax/``: the ``tex-mml-chtml.js`` bundle that ``extra_javascript`` in
``mkdocs.yml`` loads, its CommonHTML fonts, and the components it loads on demand (TeX
extensions, the accessibility menu). MathJax finds them relative to its own script, so the
built site shows math offline, and ``mkdocs serve`` serves them too.

If the package is missing, or ``extra_javascript`` still loads a remote script, a warning
fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.offline_math")

PACKAGE = "mathjax"  # import name of the django-static-mathjax wheel
TARGET = "assets/mathjax"
BUNDLE = "tex-mml-chtml.js"
# what the bundle loads on demand, relative to MathJax's es5/ folder
PARTS = [BUNDLE, "output/chtml/fonts", "input/tex/extensions", "input/mml", "a11y", "ui", "sre"]


def mathjax_root() -> Path | None:
    """MathJax's ``es5/`` folder inside the installed package, or None."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        root = Path(location) / "static" / "mathjax" / "es5"
        if (root / BUNDLE).is_file():
            return root
    return None


def mathjax_files() -> dict[str, Path]:
    """Site path -> installed file, for every MathJax file the site ships."""
    root = mathjax_root()
    if root is None:
        return {}
    found = {}
    for part in PARTS:
        path = root / part
        for file in [path] if path.is_file() else sorted(path.rglob("*")):
            if file.is_file():
                found[f"{TARGET}/{file.relative_to(root).as_posix()}"] = file
    return found


def on_config(config):
    for script in config.extra_javascript:
        if str(script).startswith(("http://", "https://", "//")):
            log.warning("extra_javascript loads %s from the network", script)
    if f"{TARGET}/{BUNDLE}" not in [str(script) for script in config.extra_javascript]:
        log.warning("extra_javascript does not load %s/%s", TARGET, BUNDLE)
    return config


def on_files(files, config):
    assets = mathjax_files()
    if not assets:
        log.warning(
            "MathJax not found: install the docs extra (pip install -e '.[docs]', which "
            "brings django-static-mathjax)"
        )
    for uri, path in assets.items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
