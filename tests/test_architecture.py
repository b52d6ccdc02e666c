"""The shape in ARCHITECTURE.md, enforced: a thin CLI over a studies layer.

- every ``cli/`` module is at most 300 lines (aim: 250);
- no function in ``studies/`` is over 80 lines;
- only ``mbert_lab/__main__.py`` and the CLI's own tests (files named ``test_cli_*.py`` or
  ``test_*_cli.py``, or test functions named ``test_cli_*`` importing it inside the function)
  import ``mbert_lab.cli``; library code, benchmarks, scripts and the other tests use the library.
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


def _cli_imports_outside_cli_tests(text: str) -> list[int]:
    """Lines importing ``mbert_lab.cli`` that are not inside a ``test_cli*`` function."""
    tree = ast.parse(text)
    allowed: set[int] = set()
    for fn in _functions(tree):
        if fn.name.startswith("test_cli"):
            allowed.update(range(fn.lineno, fn.end_lineno + 1))  # type: ignore[operator]
    bad = []
    for node in ast.walk(tree):
        mods = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        if any(m == "mbert_lab.cli" or m.startswith("mbert_lab.cli.") for m in mods) and node.lineno not in allowed:
            bad.append(node.lineno)
    return bad


def test_only_the_cli_imports_the_cli():
    offenders = []
    files = [p for p in PKG.rglob("*.py") if "cli" not in p.relative_to(PKG).parts and p.name != "__main__.py"]
    files += sorted((ROOT / "benchmarks").glob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
    for p in files:
        text = p.read_text(encoding="utf-8")
        if CLI_IMPORT.search(text) or '"mbert_lab.cli' in text or "'mbert_lab.cli" in text:
            offenders.append(str(p.relative_to(ROOT)))
    for p in sorted((ROOT / "tests").glob("*.py")):
        if _is_cli_test(p) or p.name == "test_architecture.py":
            continue
        text = p.read_text(encoding="utf-8")
        offenders += [f"{p.relative_to(ROOT)}:{n}" for n in _cli_imports_outside_cli_tests(text)]
        if '"mbert_lab.cli' in text or "'mbert_lab.cli" in text:
            offenders.append(str(p.relative_to(ROOT)))
    assert not offenders, f"import mbert_lab.cli outside the CLI and its tests: {offenders}"


def test_the_rule_itself_catches_an_import(tmp_path):
    """The pattern above is not vacuous."""
    assert CLI_IMPORT.search("from mbert_lab.cli.align_cmd import x")
    assert CLI_IMPORT.search("    from ..cli import main")
    assert CLI_IMPORT.search("import mbert_lab.cli")
    assert not CLI_IMPORT.search("from mbert_lab.client import x")
    src = "from mbert_lab.cli import main\ndef test_cli_x():\n    from mbert_lab.cli import main\ndef test_y():\n    import mbert_lab.cli.align_cmd\n"
    assert _cli_imports_outside_cli_tests(src) == [1, 5]
