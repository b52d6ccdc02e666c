"""The data layer's structure: pure readers, one catalogue, no import cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mbert_lab

PKG = Path(mbert_lab.__file__).resolve().parent
DATA = PKG / "data"


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(DATA.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every mbert_lab module a file imports, at module level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("mbert_lab")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("mbert_lab"):
                continue
            for a in node.names:  # "from . import registry" names a module
                sub = f"{mod}.{a.name}"
                out.add(sub if sub in MODULES else mod)
    return out


def test_no_import_cycle_in_the_data_layer():
    graph = {m: {d for d in imports_of(p) if d in MODULES and d != m} for m, p in MODULES.items()}
    graph.pop("mbert_lab.data", None)  # the package only forwards names lazily
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(d) :] + [d]))
            if d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_readers_import_no_catalogue_or_registry():
    allowed = {"mbert_lab.errors", "mbert_lab.io"}
    for m, p in MODULES.items():
        if ".data.readers" not in m:
            continue
        bad = {d for d in imports_of(p) if d not in allowed and not d.startswith("mbert_lab.data.readers")}
        assert not bad, f"{m} imports {sorted(bad)}"


def test_only_the_catalogue_builds_dataset_paths():
    # the folder names of the upstream layout appear in path-building code only in datasets.py
    # (cards/registry read the cards' own file lists)
    for m, p in MODULES.items():
        if m.endswith((".datasets", ".cards", ".registry", ".embedded")) or m == "mbert_lab.data":
            continue
        text = p.read_text(encoding="utf-8")
        for needle in ("_pud-ud-test", "tatoeba/v1", "masakhaner-v", ".5000-6500"):
            code = [ln for ln in text.splitlines() if needle in ln and "f\"" in ln]
            assert not code, f"{m} builds a dataset path: {code[0]}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_alone(module):
    """Each data module imports in a fresh interpreter (an import cycle would fail here for
    some import order)."""
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=PKG.parent,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
