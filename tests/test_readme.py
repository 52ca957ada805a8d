"""The Python snippet at the top of README.md runs as written, so it cannot rot.

It is the README's first ``python`` code block; it runs in a fresh interpreter, from an
empty folder, with this checkout on the path (a few seconds of training on a CPU).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_snippet() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
    assert blocks, "README.md has no python code block"
    return blocks[0]


def test_snippet_comes_first_and_is_short():
    snippet = readme_snippet()
    assert README.index(snippet) < README.index("\n## "), "before the first section"
    assert len(snippet.strip().splitlines()) <= 15
    for call in (".fit(", ".predict_proba(", ".score("):
        assert call in snippet
    assert 'return_type="frame"' in snippet, "it starts from a pandas DataFrame"


def test_snippet_runs(tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", readme_snippet()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"the README snippet failed:\n{result.stdout}\n{result.stderr}"
    accuracy = float(re.search(r"test accuracy: ([\d.]+)", result.stdout).group(1))
    assert accuracy > 0.5, f"4 classes, chance is 0.25; got {accuracy}\n{result.stdout}"
