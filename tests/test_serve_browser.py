"""``mbert-lab serve`` end to end in headless Chromium (the shared ``browser`` / ``page`` fixtures of
``tests/browser.py``) against a real uvicorn server the test starts on a free 127.0.0.1 port and
stops at teardown: a typed query shows ranked neighbours in the asked language, a gold pair shows
its links and heatmap, a results folder shows a table and an image, a query sent while the model
loads shows progress and then answers, and no request leaves 127.0.0.1.

Unit version: the tiny random BERT of ``tests/conftest.py`` and a small index built through the
library. The integration version (offline model, a Tatoeba index) also writes the screenshots of
``docs/serve.md`` when ``MBERT_LAB_DOCS_SHOTS=1``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from mbert_lab.serve import create_app
from mbert_lab.serve.state import Loaded, open_index
from tests.browser import assert_no_external_requests
from tests.test_serve_api import ROWS, build_index

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


@contextlib.contextmanager
def running(app):
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a thread; stopped on exit."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert t.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(15)
        sock.close()
        assert not t.is_alive(), "uvicorn did not stop"


def wait_js(page, predicate: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` (a JS function) until true: the page's CSP forbids eval, which
    Playwright's ``wait_for_function`` polling needs."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.1)


def make_results(d: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (d / "align").mkdir(parents=True)
    (d / "align" / "align_eval.json").write_text(json.dumps({
        "schema_version": "1.0", "kind": "align_eval",
        "provenance": {"config": {"study": "align_eval"}, "model": {"model_id": "offline:multilingual-e5-small-q4"},
                       "command": "mbert-lab align-eval --gold en-fr --layers 8"},
        "rows": [{"gold": "en-fr", "layer": 8, "method": "argmax", "aer": 0.2143},
                 {"gold": "en-fr", "layer": 8, "method": "itermax", "aer": 0.1987}]}), encoding="utf-8")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([4, 6, 8, 10, 12], [0.31, 0.25, 0.21, 0.23, 0.27], marker="o")
    ax.set_xlabel("layer")
    ax.set_ylabel("AER")
    fig.savefig(d / "align" / "aer_by_layer.png", dpi=80)
    plt.close(fig)
    (d / "report").mkdir()
    (d / "report" / "report.html").write_text("<!doctype html><title>report</title><h1>Findings</h1>", "utf-8")
    return d


def real_results(d: Path, encoder) -> Path:
    """A results folder written by the library: align_eval on 30 en-fr gold pairs, its plot."""
    from mbert_lab.plots.alignment import aer_by_layer
    from mbert_lab.studies.alignment import AlignEvalConfig, align_eval

    r = align_eval(AlignEvalConfig(gold=("en-fr",), layers="4,8,12", limit=30, methods=("argmax", "itermax"),
                                   cache=False), encoder=encoder)
    r.save(d / "align")
    aer_by_layer(r, d / "align" / "aer_by_layer")
    return d


@pytest.fixture(scope="module")
def tiny(_tiny_wordpiece_session):
    return _tiny_wordpiece_session


@pytest.fixture(scope="module")
def site(tiny, tmp_path_factory):
    base = tmp_path_factory.mktemp("serve-browser")
    index = build_index(tiny, base / "index", rows=ROWS + [("de", "Wo ist der Bahnhof?"), ("fr", "Où est la gare ?")])
    app = create_app(index, make_results(base / "results"), encoder=tiny, allowed_hosts=["127.0.0.1", "localhost"])
    app.state.serve.holder.wait(60)
    with running(app) as url:
        yield url


def test_typed_query_shows_ranked_neighbours_in_the_asked_language(page, site):
    page.goto(site + "/")
    page.fill("#nb-q", "Where is the station?")
    page.fill("#nb-lang", "en")
    page.fill("#nb-to", "de")
    page.fill("#nb-k", "3")
    page.click("#nb-go")
    rows = page.locator("table.hits tbody tr.hit")
    rows.first.wait_for()
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == ["1", "2", "3"]
    assert {rows.nth(i).get_attribute("data-lang") for i in range(3)} == {"deu"}
    scores = [float(rows.nth(i).locator("td.num").first.inner_text()) for i in range(3)]
    assert scores == sorted(scores, reverse=True)
    link = page.locator("#nb-link")
    assert "q=Where+is+the+station" in link.get_attribute("href")  # a copyable link to the query
    assert page.locator("#error").is_hidden()
    assert_no_external_requests(page)


def test_copied_query_link_runs_the_query(page, site):
    page.goto(site + "/#neighbours?q=Hallo+Welt%21&lang=de&k=2")
    page.locator("table.hits tbody tr.hit").first.wait_for()
    assert page.locator("table.hits tbody tr.hit td.text").first.inner_text() == "Hallo Welt!"
    assert page.input_value("#nb-q") == "Hallo Welt!"
    assert_no_external_requests(page)


def test_bad_query_shows_the_error_line(page, site):
    page.goto(site + "/")
    page.fill("#nb-q", "hello")
    page.fill("#nb-lang", "zz")
    page.click("#nb-go")
    page.locator("#error").wait_for()
    assert "lang: unknown language 'zz'" in page.inner_text("#error")
    assert_no_external_requests(page)


def test_gold_alignment_shows_links_heatmap_and_gold_colours(page, site):
    page.goto(site + "/#align")
    page.locator("#al-gold option[value='en-fr']").wait_for(state="attached")
    page.select_option("#al-gold", "en-fr")
    page.fill("#al-pair", "6")
    page.fill("#al-layer", "2")
    page.click("#al-go")
    page.locator(".method[data-method='argmax'] svg.links-svg line.link").first.wait_for(state="attached")
    for m in ("argmax", "itermax", "match"):
        lines = page.locator(f".method[data-method='{m}'] svg.links-svg line.link:not(.miss)")
        assert lines.count() > 0, m
        classes = {lines.nth(i).get_attribute("class") for i in range(lines.count())}
        assert classes <= {"link hit", "link false"}, classes
    assert page.locator("svg.heatmap rect.cell").count() > 4
    assert page.locator("svg.heatmap rect.cell.linked").count() > 0
    words = page.input_value("#al-src").split()
    assert len(words) > 2 and "AER" in page.inner_text(".method[data-method='argmax'] h3")
    assert_no_external_requests(page)


def test_pasted_pair_alignment(page, site):
    page.goto(site + "/#align")
    page.fill("#al-src", "the dog runs")
    page.fill("#al-tgt", "der Hund läuft")
    page.fill("#al-layer", "3")
    page.click("#al-go")
    page.locator(".method[data-method='argmax'] svg.links-svg line.link").first.wait_for(state="attached")
    texts = page.locator(".method[data-method='argmax'] svg.links-svg text.word").all_text_contents()
    assert texts == ["the", "dog", "runs", "der", "Hund", "läuft"]
    assert_no_external_requests(page)


def test_embedded_corpus_pair_is_loaded_and_aligned(page, site):
    from mbert_lab.data.embedded import load_embedded_corpus

    en, de = load_embedded_corpus().parallel("de")[2]  # cached by the demo (fetched here if not)
    page.goto(site + "/#align")
    page.locator("#al-emb option[value='de']").wait_for(state="attached")
    page.select_option("#al-emb", "de")
    page.fill("#al-emb-pair", "3")
    page.click("#al-emb-load")
    wait_js(page, "() => document.getElementById('al-src').value.length > 0")
    assert page.input_value("#al-src") == en and page.input_value("#al-tgt") == de
    assert page.input_value("#al-input") == "raw"
    page.fill("#al-layer", "2")
    page.click("#al-go")
    page.locator(".method[data-method='argmax'] svg.links-svg line.link").first.wait_for(state="attached")
    assert_no_external_requests(page)


def test_results_folder_shows_a_table_an_image_and_the_report(page, site):
    page.goto(site + "/#results")
    page.click("text=align/")
    page.locator("table.data").first.wait_for()
    t = page.locator("table.data", has=page.locator("caption", has_text="rows"))
    assert t.locator("thead th").all_inner_texts() == ["gold", "layer", "method", "aer"]
    assert t.locator("tbody tr").nth(1).locator("td").all_inner_texts() == ["en-fr", "8", "itermax", "0.1987"]
    wait_js(page, "() => { const i = document.querySelector('#rs-images img'); "
                           "return i && i.complete && i.naturalWidth > 0; }")
    assert "model: offline:multilingual-e5-small-q4" in page.inner_text("details.provenance summary")
    page.click("details.provenance summary")
    assert "command: mbert-lab align-eval --gold en-fr --layers 8" in page.inner_text("details.provenance")
    page.goto(site + "/#results?path=report")
    page.locator("a.report-link").first.wait_for()
    assert "report.html" in page.inner_text("#rs-report")
    assert_no_external_requests(page)


def test_query_while_the_model_loads_shows_progress_then_answers(page, tiny, tmp_path):
    index = build_index(tiny, tmp_path / "index")
    go = threading.Event()

    def slow_loader():
        go.wait(60)
        return Loaded(tiny, open_index(index, tiny))

    app = create_app(index, loader=slow_loader)
    try:
        with running(app) as url:
            page.goto(url + "/")
            wait_js(page, "() => document.getElementById('status').textContent.includes('loading')")
            page.fill("#nb-q", "Hello world!")
            page.fill("#nb-lang", "en")
            page.click("#nb-go")
            wait_js(page, "() => !document.getElementById('progress').hidden && "
                                   "document.getElementById('progress-text').textContent.includes('model is loading')")
            go.set()
            page.locator("table.hits tbody tr.hit").first.wait_for()
            assert page.locator("#progress").is_hidden()
            wait_js(page, "() => document.getElementById('status').textContent.includes('ready')")
            assert_no_external_requests(page)
    finally:
        go.set()


# ------------------------------------------------------------------ integration: the offline model


@pytest.mark.integration
@pytest.mark.slow
def test_offline_model_neighbours_and_docs_screenshots(page, offline_encoder, data_root, tmp_path):
    """A Tatoeba index (German, French, Chinese and their English sides, 150 sentences each):
    an English question's neighbours in German are German, the translation ranked first."""
    from mbert_lab.studies.retrieval import tatoeba_files

    rows = []
    for lg, code in (("deu", "de"), ("fra", "fr"), ("cmn", "zh")):
        fx, fe = tatoeba_files(lg)
        xs = fx.read_text(encoding="utf-8").splitlines()[:150]
        rows += [(code, x) for x in xs]
        if lg == "deu":
            en = fe.read_text(encoding="utf-8").splitlines()[:150]
    rows += [("en", x) for x in en]
    index = build_index(offline_encoder, tmp_path / "index", layer=12, rows=rows)
    results = real_results(tmp_path / "results", offline_encoder)
    app = create_app(index, results, encoder=offline_encoder)
    app.state.serve.holder.wait(60)
    shots = os.environ.get("MBERT_LAB_DOCS_SHOTS") == "1"
    with running(app) as url:
        q = en[7]
        page.goto(url + "/")
        page.fill("#nb-q", q)
        page.fill("#nb-lang", "en")
        page.fill("#nb-to", "de,fr")
        page.fill("#nb-k", "5")
        page.click("#nb-go")
        page.locator("table.hits tbody tr.hit").first.wait_for()
        de = page.locator("table.hits[data-lang='deu'] tbody tr.hit")
        assert {de.nth(i).get_attribute("data-lang") for i in range(de.count())} == {"deu"}
        assert de.first.locator("td.text").inner_text() == rows[7][1]  # the translation, ranked first
        if shots:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMG / "serve_neighbours.png"), full_page=True)
        page.goto(url + "/#align?gold=en-fr&pair=9&methods=argmax,itermax&layer=8&level=subword&input=tokenized")
        page.locator(".method[data-method='argmax'] svg.links-svg line.link").first.wait_for(state="attached")
        hits = page.locator(".method[data-method='argmax'] line.link.hit").count()
        false = page.locator(".method[data-method='argmax'] line.link.false").count()
        assert hits > false  # the offline model aligns most links right
        if shots:
            page.screenshot(path=str(DOCS_IMG / "serve_alignment.png"), full_page=True)
        page.goto(url + "/#results?path=align")
        page.locator("table.data").first.wait_for()
        assert page.locator("section.json h3").first.inner_text() == "align/align_eval.json — align_eval"
        assert "offline:multilingual-e5-small-q4" in page.inner_text("details.provenance summary")
        wait_js(page, "() => { const i = document.querySelector('#rs-images img'); "
                               "return i && i.complete && i.naturalWidth > 0; }")
        if shots:
            page.screenshot(path=str(DOCS_IMG / "serve_results.png"), full_page=True)
        assert_no_external_requests(page)
