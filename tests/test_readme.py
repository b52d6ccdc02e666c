"""The README's Python example runs as written (on the offline model and the data mirror)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration


def _python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_readme_python_api_example_runs(tmp_path, offline_encoder):
    blocks = _python_blocks("Python API")
    assert len(blocks) == 1
    r = subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout.splitlines()
    assert out[0].startswith("argmax layer ") and " chosen on dev " in out[0] and "test AER 0.0" in out[0]
    assert out[2] == "(2, 384) ('▁Hallo', '▁Welt', '.')"
    assert out[3] == "all ('argmax', 'itermax', 'match')"
    assert (tmp_path / "results" / "api-example" / "align_eval.json").is_file()
