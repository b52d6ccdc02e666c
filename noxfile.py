"""Sessions: tests (the whole suite), demo (the main job), bench, lint.

    python3 -m pip install nox
    python3 -m nox -s demo      # the main job on the embedded defaults, offline
    python3 -m nox -s tests     # every test (unit + integration + slow)

The data mirror is read from $MBERT_LAB_DATA (default: ../shared/data beside the checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"  # not uv: uv ignores the local CPU torch wheel

ROOT = Path(__file__).resolve().parent
DEFAULT_DATA = (ROOT.parent / "shared" / "data").resolve()


def _env() -> dict[str, str]:
    env = {"MBERT_LAB_DATA": os.environ.get("MBERT_LAB_DATA", str(DEFAULT_DATA))}
    if "MBERT_LAB_CACHE" in os.environ:
        env["MBERT_LAB_CACHE"] = os.environ["MBERT_LAB_CACHE"]
    return env


def _install(session: nox.Session, extras: str = "") -> None:
    # torch first and pinned: on the project's machines pip takes the local CPU build.
    session.install("torch==2.13.0")
    session.install("-e", f".{extras}")


def _ensure_chromium(session: nox.Session) -> None:
    """Browser tests drive Debian's chromium (never a downloaded browser). Install it with apt
    when missing (as root, or through sudo); otherwise the browser tests fail, naming it."""
    import shutil

    if shutil.which("chromium") or os.environ.get("MBERT_LAB_CHROMIUM"):
        return
    if not shutil.which("apt-get"):
        session.warn("chromium not found and no apt-get: browser tests will fail")
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    session.run(*sudo, "apt-get", "update", "-qq", external=True, success_codes=[0, 100])
    session.run(*sudo, "apt-get", "install", "-y", "-qq", "chromium", external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, integration and slow tests. A missing data mirror fails (never skips)."""
    _ensure_chromium(session)
    _install(session, "[test,bench]")
    session.run("python", "-m", "pytest", *(session.posargs or ["-q"]), env=_env())


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: every analysis on the embedded model and corpus, results in results/demo."""
    _install(session)
    session.run("mbert-lab", "demo", *(session.posargs or ["--out", "results/demo"]), env=_env())


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against peers (ratios, same data, same run). Long: run one with -- NAME."""
    _install(session, "[test,bench]")
    names = session.posargs or sorted(p.stem for p in (ROOT / "benchmarks").glob("*_bench.py"))
    for name in names:
        session.run("python", f"benchmarks/{Path(name).stem}.py", env=_env())


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "mbert_lab", "tests", "benchmarks")
