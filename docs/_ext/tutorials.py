"""MkDocs hook: the tutorials in ``examples/`` become pages of the site, run at build time.

The tutorials are jupytext "percent" scripts (``examples/NN_*.py``): plain Python files that
Jupyter opens as notebooks. The ``mkdocs-jupyter`` plugin reads them through jupytext,
executes them in a fresh IPython kernel and renders the code with its printed output and
figures. This hook does the rest:

1. It adds every ``examples/NN_*.py`` to the site as ``tutorials/NN_*.py`` (MkDocs only
   reads ``docs/``), before ``mkdocs-jupyter`` looks at the files; the nav names them.
2. It runs them at the small settings the tests use: ``SSLEARN_EXAMPLE_FAST=1`` (small data,
   a few epochs, about half a minute each on 2 CPU cores) unless the variable is set.
   ``SSLEARN_EXAMPLE_FAST=0 mkdocs build`` renders them at full size (many minutes).
3. It removes ``MPLBACKEND`` from the environment the kernels inherit, so that figures show
   inline in the pages whatever non-interactive backend the calling shell sets for tests,
   and hides tqdm's "IProgress not found" warning (``tqdm.auto``, imported by Captum, looks
   for Jupyter widgets, which a static page cannot show anyway).
4. It removes from the pages the scripts that nbconvert's template loads from CDNs (MathJax 2
   and mermaid): the site renders math with its own local MathJax (``offline_math.py``) and
   the tutorials draw no diagrams. A remote script or stylesheet left in a tutorial page
   logs a warning, which fails ``mkdocs build --strict``.
5. It puts a note on top of each tutorial: which settings produced the outputs shown, and
   where to get the notebook.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.tutorials")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SECTION = "tutorials"

_MATHJAX2 = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_MERMAID = re.compile(
    r"<script type=\"module\">\s*document\.addEventListener\(\"DOMContentLoaded\", async "
    r"\(\) => \{\s*const diagrams = document\.querySelectorAll\(\"\.jp-Mermaid.*?</script>"
    r"(?:\s*<!-- End of mermaid configuration -->)?",
    re.S,
)
REMOTE = re.compile(
    r"""(?:<script[^>]*\ssrc|<link[^>]*\shref)=["']?(?:https?:)?//|import\(["']https?://"""
)


def tutorial_scripts() -> list[Path]:
    """The tutorials, in order: ``examples/NN_*.py``."""
    return sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))


def on_config(config):
    os.environ.setdefault("SSLEARN_EXAMPLE_FAST", "1")
    os.environ.pop("MPLBACKEND", None)
    warnings = [os.environ.get("PYTHONWARNINGS", ""), "ignore:IProgress not found"]
    os.environ["PYTHONWARNINGS"] = ",".join(w for w in warnings if w)
    # the kernels import sslearn from this checkout even when it is not installed
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    return config


@event_priority(100)  # before mkdocs-jupyter wraps the notebook files
def _add_tutorials(files, config):
    for script in tutorial_scripts():
        files.append(File.generated(config, f"{SECTION}/{script.name}", abs_src_path=str(script)))
    return files


@event_priority(-100)  # after mkdocs-jupyter: its wrapper of a file recomputes the source
def _restore_source_paths(files, config):  # path from src_dir, which a generated file lacks
    for file in files:
        inner = getattr(file, "file", None)
        if file.src_uri.startswith(f"{SECTION}/") and inner is not None:
            file.__dict__["abs_src_path"] = inner.abs_src_path
    return files


on_files = CombinedEvent(_add_tutorials, _restore_source_paths)


def _note(script: str) -> str:
    fast = os.environ.get("SSLEARN_EXAMPLE_FAST") == "1"
    settings = (
        "with <code>SSLEARN_EXAMPLE_FAST=1</code>: small data and a few epochs, so the "
        "numbers and plots below show what the code prints, not how well the model does. "
        "Run it yourself for real results."
        if fast
        else "at its full settings."
    )
    return (
        '<div class="admonition info"><p class="admonition-title">Run when this site was '
        f"built</p><p>This page is <code>examples/{script}</code>, executed {settings} "
        f'Download <a href="{script}" download><code>{script}</code></a> and open it in '
        "Jupyter as a notebook (<code>pip install jupytext</code>, then <em>Open With → "
        "Notebook</em>, or <code>jupytext --to ipynb</code>), or run it with "
        f"<code>python {script}</code>.</p></div>\n"
    )


def on_page_content(html, page, config, files):
    if not page.file.src_uri.startswith(f"{SECTION}/"):
        return html
    html = _MERMAID.sub("", _MATHJAX2.sub("", html))
    if REMOTE.search(html):
        log.warning("%s loads a remote script or stylesheet", page.file.src_uri)
    return _note(Path(page.file.src_uri).name) + html
