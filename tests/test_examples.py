"""Every tutorial in ``examples/`` runs top to bottom as a plain script.

Each one runs in a subprocess with ``SSLEARN_EXAMPLE_FAST=1`` (small data, a few epochs:
well under a minute each on 2 CPU cores) and the non-interactive matplotlib backend from the
environment (``MPLBACKEND=Agg``; the tutorials never pick one, so in Jupyter and in the docs
build their figures show inline);
``examples/quickstart.py`` runs with ``SSLEARN_EXAMPLE_EPOCHS=3``. The module is marked
``slow``: deselect it with ``-m "not slow"``.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
# a hung example fails its test instead of blocking the suite
TIMEOUT_S = 180


def _run(script: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "TMPDIR": str(tmp_path),  # figures and models the examples save land here
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **env,
    }
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def test_examples_are_found():
    assert [path.name[:2] for path in EXAMPLES] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    text = script.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # "), "a jupytext percent script with a title"
    assert "SSLEARN_EXAMPLE_FAST" in text
    assert "matplotlib.use(" not in text, "the backend comes from the environment"
    if "import matplotlib" in text and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("needs matplotlib (pip install sslearn[plots])")
    if ".explain(" in text and importlib.util.find_spec("captum") is None:
        pytest.skip("needs Captum (pip install sslearn[explain])")
    result = _run(script, tmp_path, SSLEARN_EXAMPLE_FAST="1")
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip()


def test_quickstart_runs(tmp_path):
    result = _run(ROOT / "examples" / "quickstart.py", tmp_path, SSLEARN_EXAMPLE_EPOCHS="3")
    assert result.returncode == 0, f"quickstart.py failed:\n{result.stdout}\n{result.stderr}"
    assert "test accuracy" in result.stdout


def test_main_job_runs(tmp_path):
    """The README's main job, shrunk (60 series, 3 epochs, no MiniRocket)."""
    result = _run(ROOT / "examples" / "main_job.py", tmp_path, SSLEARN_EXAMPLE_FAST="1")
    assert result.returncode == 0, f"main_job.py failed:\n{result.stdout}\n{result.stderr}"
    assert "sslearn LiquidS4Classifier" in result.stdout
