"""The shape in ARCHITECTURE.md, enforced: a thin CLI over a studies layer.

- every ``cli/`` module is at most 300 lines (aim: 250);
- no function in ``studies/`` is over 80 lines;
- only ``mbert_lab/__main__.py`` and the CLI's own tests (files named ``test_cli_*.py`` or
  ``test_*_cli.py``) import ``mbert_lab.cli``; library code, benchmarks, scripts and the
  other tests use the library.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "mbert_lab"
CLI_IMPORT = re.compile(r"^\s*(from\s+mbert_lab\.cli\b|import\s+mbert_lab\.cli\b|from\s+mbert_lab\s+import\s+cli\b|from\s+\.+cli\b)", re.M)


def _is_cli_test(p: Path) -> bool:
    return p.name.startswith("test_cli_") or p.stem.endswith("_cli")


@pytest.mark.parametrize("path", sorted((PKG / "cli").glob("*.py")), ids=lambda p: p.name)
def test_cli_modules_are_thin(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 300, f"{path.relative_to(ROOT)} has {n} lines: move library code into a study"


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_study_functions_are_short():
    long = []
    for path in sorted((PKG / "studies").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in _functions(tree):
            n = fn.end_lineno - fn.lineno + 1  # type: ignore[operator]
            if n > 80:
                long.append(f"{path.name}:{fn.lineno} {fn.name} ({n} lines)")
    assert not long, "functions over 80 lines in studies/: " + "; ".join(long)


def test_only_the_cli_imports_the_cli():
    offenders = []
    files = [p for p in PKG.rglob("*.py") if "cli" not in p.relative_to(PKG).parts and p.name != "__main__.py"]
    files += sorted((ROOT / "benchmarks").glob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
    files += [p for p in sorted((ROOT / "tests").glob("*.py")) if not _is_cli_test(p) and p.name != "test_architecture.py"]
    for p in files:
        text = p.read_text(encoding="utf-8")
        if CLI_IMPORT.search(text) or '"mbert_lab.cli' in text or "'mbert_lab.cli" in text:
            offenders.append(str(p.relative_to(ROOT)))
    assert not offenders, f"import mbert_lab.cli outside the CLI and its tests: {offenders}"


def test_the_rule_itself_catches_an_import(tmp_path):
    """The pattern above is not vacuous."""
    assert CLI_IMPORT.search("from mbert_lab.cli.align_cmd import x")
    assert CLI_IMPORT.search("    from ..cli import main")
    assert CLI_IMPORT.search("import mbert_lab.cli")
    assert not CLI_IMPORT.search("from mbert_lab.client import x")
