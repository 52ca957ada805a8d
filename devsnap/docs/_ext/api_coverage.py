"""MkDocs hook for the docs build: API pages that list objects one by one must list them all.

``docs/api/nn.md``, ``docs/api/data.md``, ``docs/api/datasets.md`` and ``docs/api/plot.md``
document their package object by object (grouped by purpose). When a name is added to the
package's ``__all__`` but not to its page, this hook logs a warning, which fails
``mkdocs build --strict``.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys

log = logging.getLogger("mkdocs.hooks.api_coverage")

# page (relative to docs/) -> package whose __all__ it must cover
PAGES = {
    "api/nn.md": "sslearn.nn",
    "api/data.md": "sslearn.data",
    "api/datasets.md": "sslearn.datasets",
    "api/plot.md": "sslearn.plot",
}


def on_config(config):
    # import the package from this checkout even when it is not installed
    root = os.path.dirname(os.path.abspath(config.config_file_path))
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_page_markdown(markdown, page, config, files):
    package = PAGES.get(page.file.src_uri)
    if package is None:
        return markdown
    try:
        public = importlib.import_module(package).__all__
    except Exception as error:  # any import failure must fail the build
        log.warning("cannot import %s to check %s: %s", package, page.file.src_uri, error)
        return markdown
    listed = set(re.findall(rf"^::: {re.escape(package)}\.(\w+)", markdown, flags=re.M))
    missing = [name for name in public if name not in listed]
    if missing:
        log.warning("%s does not document %s.%s", page.file.src_uri, package, missing)
    return markdown
