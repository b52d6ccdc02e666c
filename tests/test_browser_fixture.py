"""The shared browser fixture: a local page renders, external requests are caught."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.browser import assert_no_external_requests, external_requests, is_local


def test_is_local_known_answers():
    assert is_local("http://127.0.0.1:8000/x")
    assert is_local("http://localhost/")
    assert is_local("data:image/png;base64,AAAA")
    assert is_local("about:blank")
    assert not is_local("https://cdn.jsdelivr.net/npm/x.js")
    assert not is_local("http://127.0.0.2.example.com/")
    assert external_requests(["http://127.0.0.1/", "https://fonts.googleapis.com/css"]) == [
        "https://fonts.googleapis.com/css"]


@pytest.fixture
def local_site(tmp_path):
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>t</title><h1 id=h>hello</h1><img id=i src='dot.svg'>", "utf-8")
    (tmp_path / "dot.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect width='10' "
        "height='10'/></svg>", "utf-8")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_chromium_renders_local_page_and_records_requests(page, local_site):
    page.goto(local_site + "/index.html")
    assert page.inner_text("#h") == "hello"
    page.wait_for_function("document.getElementById('i').complete")
    assert page.evaluate("document.getElementById('i').naturalWidth") == 10
    assert any(u.endswith("/dot.svg") for u in page.mbert_requests)
    assert_no_external_requests(page)


def test_external_request_is_caught(page, local_site):
    # A request to an unroutable external host is attempted (and fails): it must be reported.
    page.route("**/*", lambda route: route.abort() if "example.invalid" in route.request.url
               else route.continue_())
    page.goto(local_site + "/index.html")
    page.evaluate("fetch('https://example.invalid/x').catch(() => null)")
    page.wait_for_timeout(300)
    with pytest.raises(AssertionError, match="example.invalid"):
        assert_no_external_requests(page)
