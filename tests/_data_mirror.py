"""Where the tests find the data mirror: $MBERT_LAB_DATA, else ``<repo>/../shared/data``
(for a git worktree also ``<main checkout>/../shared/data``). A missing mirror fails the
tests that need it, loudly; it never skips them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def candidates() -> list[Path]:
    env = os.environ.get("MBERT_LAB_DATA")
    if env:
        return [Path(env).expanduser().resolve()]
    out = [(REPO / ".." / "shared" / "data").resolve()]
    git = REPO / ".git"
    if git.is_file():  # a worktree: "gitdir: <main>/.git/worktrees/<name>"
        text = git.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())
            if gitdir.parent.name == "worktrees":
                out.append((gitdir.parent.parent.parent / ".." / "shared" / "data").resolve())
    return out


def mirror_root() -> Path:
    tried = candidates()
    for c in tried:
        if (c / "README.md").is_file():
            return c
    pytest.fail(
        "data mirror not found (tried: " + ", ".join(map(str, tried)) + "); set MBERT_LAB_DATA "
        "to the mirror. Integration tests never skip for a missing mirror."
    )
