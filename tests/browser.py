"""The one browser fixture shared by every browser test (web explorer, findings report).

Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run`` and by ``nox -s tests``), driven
headless by Playwright's sync API with the system executable (Playwright's own browser downloads are
never used). Fixtures:

- ``browser`` (session): a Playwright ``Browser``.
- ``page`` (function): a fresh page in its own context; every URL it requests is appended to
  ``page.mbert_requests``; a screenshot ``test-artifacts/<test name>.png`` is saved at teardown.

``assert_no_external_requests(page)`` fails, listing them, if any request left the machine (anything
but 127.0.0.1 / localhost / ``data:`` / ``about:`` / ``blob:`` / ``file:``).

A missing browser is a test failure, not a skip: browser tests are part of the suite.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "about", "blob", "file", "chrome-error"}


def chromium_path() -> str:
    """The system Chromium: $MBERT_LAB_CHROMIUM, else ``chromium`` on PATH."""
    path = os.environ.get("MBERT_LAB_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); "
                    ".ci/run and `nox -s tests` install it", pytrace=False)
    return path


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


def external_requests(urls: list[str]) -> list[str]:
    return [u for u in urls if not is_local(u)]


def assert_no_external_requests(page) -> None:
    bad = external_requests(page.mbert_requests)
    assert not bad, f"requests left the machine: {bad}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                     "--no-first-run", "--disable-background-networking",
                                     "--disable-component-update", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.mbert_requests = []
    pg.on("request", lambda req: pg.mbert_requests.append(req.url))
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a crashed page still closes cleanly
            pass
        context.close()
