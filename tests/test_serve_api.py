"""``mbert-lab serve``'s JSON API: every endpoint, each bad input (status code and message), a
path-traversal attempt, the model refusal, the loading state. A tiny random BERT and a small
index built through the library (no offline model, no downloads); the gold-set endpoints read
the data mirror."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient

from mbert_lab.errors import ConfigError
from mbert_lab.serve import create_app
from mbert_lab.serve.state import MAX_CHARS, Loaded, open_index

ROWS = [("en", "The dog runs in the park."), ("en", "I like green tea."), ("en", "Hello world!"),
        ("de", "Der Hund läuft im Park."), ("de", "Ich mag grünen Tee."), ("de", "Hallo Welt!"),
        ("fr", "Le chien court dans le parc."), ("fr", "J'aime le thé vert."), ("fr", "Bonjour le monde!")]


def build_index(encoder, folder, unit="sentence", layer=4, rows=ROWS):
    from mbert_lab.studies.retrieval import IndexBuildConfig
    from mbert_lab.studies.retrieval import build_index as build

    tsv = folder.parent / f"{folder.name}.tsv"
    tsv.write_text("".join(f"{lg}\t{t}\n" for lg, t in rows), encoding="utf-8")
    build(IndexBuildConfig(index=str(folder), input=str(tsv), layers=layer, unit=unit, cache=False,
                           target_recall=None), encoder=encoder)
    return folder


@pytest.fixture(scope="module")
def tiny(_tiny_wordpiece_session):
    return _tiny_wordpiece_session


@pytest.fixture(scope="module")
def index_dir(tiny, tmp_path_factory):
    return build_index(tiny, tmp_path_factory.mktemp("serve") / "index")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve-results") / "results"
    (d / "align").mkdir(parents=True)
    (d / "report").mkdir()
    (d / "align" / "align_eval.json").write_text(json.dumps({
        "schema_version": "1.0", "kind": "align_eval",
        "provenance": {"config": {"study": "align_eval", "layers": [8]}, "model": {"model_id": "offline"}},
        "rows": [{"gold": "en-fr", "layer": 8, "method": "argmax", "aer": 0.21},
                 {"gold": "en-fr", "layer": 8, "method": "itermax", "aer": 0.19}]}), encoding="utf-8")
    (d / "align" / "plot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                          '<rect width="10" height="10"/></svg>', encoding="utf-8")
    (d / "report" / "report.html").write_text("<html><body><h1>Findings</h1></body></html>", encoding="utf-8")
    (d / "report" / "report.md").write_text("# Findings\n", encoding="utf-8")
    (d / "report" / "report.json").write_text('{"claims": []}', encoding="utf-8")
    (d.parent / "secret.txt").write_text("outside", encoding="utf-8")
    (d / "link-out").symlink_to(d.parent / "secret.txt")
    return d


@pytest.fixture(scope="module")
def client(tiny, index_dir, results_dir):
    app = create_app(index_dir, results_dir, encoder=tiny)
    app.state.serve.holder.wait(60)
    with TestClient(app) as c:
        yield c


def err(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()["error"]


# ------------------------------------------------------------------ status, pages, schema


def test_status_reports_ready_model_and_index(client):
    s = client.get("/api/status").json()
    assert s["model"]["state"] == "ready" and s["model"]["name"] == "tiny-random-bert-wordpiece"
    assert s["index"]["ntotal"] == len(ROWS) and s["index"]["layer"] == 4
    assert s["index"]["languages"] == ["deu", "eng", "fra"]
    assert s["limits"]["max_chars"] == MAX_CHARS == 2000


def test_pages_and_assets_are_local(client):
    home = client.get("/")
    assert home.status_code == 200 and "<title>mbert-lab" in home.text
    assert "http://" not in home.text and "https://" not in home.text  # no CDN
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200 and "https://" not in r.text, asset
    assert "default-src 'self'" in home.headers["content-security-policy"]


def test_openapi_lists_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/status", "/api/neighbours", "/api/gold", "/api/gold/{name}", "/api/embedded",
            "/api/embedded/{lang}", "/api/align", "/api/results", "/api/results/json",
            "/files/{path}"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN


# ------------------------------------------------------------------ neighbours


def test_neighbours_ranked_in_the_asked_language(client):
    r = client.get("/api/neighbours", params={"q": "The dog runs in the park.", "lang": "en", "to": "de,fr", "k": 2})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["layer"] == 4 and [g["lang"] for g in d["results"]] == ["deu", "fra"]
    for g in d["results"]:
        assert [h["rank"] for h in g["hits"]] == [1, 2]
        assert {h["lang"] for h in g["hits"]} == {g["lang"]}
        scores = [h["score"] for h in g["hits"]]
        assert scores == sorted(scores, reverse=True) and all(h["margin"] > 0 for h in g["hits"])


def test_neighbours_query_in_the_index_finds_itself_first(client):
    d = client.get("/api/neighbours", params={"q": "Hallo Welt!", "lang": "de", "k": 3}).json()
    hits = d["results"][0]["hits"]
    assert d["results"][0]["lang"] == "*" and hits[0]["text"] == "Hallo Welt!" and hits[0]["score"] > 0.999


def test_neighbours_query_at_the_limit_is_windowed(client):
    q = ("The dog runs in the park. " * 80)[:MAX_CHARS]  # far beyond the tiny model's 64 positions
    r = client.get("/api/neighbours", params={"q": q, "lang": "en", "to": "de", "k": 1})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["hits"][0]["lang"] == "deu"


@pytest.mark.parametrize("params, status, message", [
    ({"q": "", "lang": "en"}, 400, "empty query"),
    ({"q": "   ", "lang": "en"}, 400, "empty query"),
    ({"q": "x" * (MAX_CHARS + 1), "lang": "en"}, 413, "the limit is 2,000 characters"),
    ({"q": "hi", "word": "y" * (MAX_CHARS + 1), "lang": "en"}, 413, "word: 2,001 characters"),
    ({"q": "hi", "lang": "zz"}, 400, "lang: unknown language 'zz'"),
    ({"q": "hi", "lang": "en", "to": "xx"}, 400, "to: unknown language 'xx'"),
    ({"q": "hi", "lang": "en", "to": "ja"}, 400, "language(s) jpn not in this index"),
    ({"q": "hi", "lang": "en", "layer": "2"}, 400, "layers: the index holds layer 4 vectors"),
    ({"q": "hi", "lang": "en", "layer": "99"}, 400, "layer(s) [99] out of range"),
    ({"q": "hi", "lang": "en", "layer": "x"}, 400, "layers: bad value"),
    ({"q": "hi", "lang": "en", "k": 0}, 400, "k: must be a whole number in 1..100000, got 0"),
    ({"q": "hi", "lang": "en", "k": 5000}, 400, "k: must be a whole number in 1..1000, got 5000"),
    ({"q": "hi", "lang": "en", "k": "many"}, 400, "k: Input should be a valid integer"),
    ({"q": "hi", "lang": "en", "word": "two words"}, 400, "word: give one word"),
    ({"q": "hi", "lang": "en", "word": "dog"}, 400, "this index holds sentence vectors"),
])
def test_neighbours_bad_input(client, params, status, message):
    assert message in err(client.get("/api/neighbours", params=params), status)


def test_word_index_in_context_and_alone(tiny, tmp_path):
    d = build_index(tiny, tmp_path / "words", unit="word-type")
    app = create_app(d, encoder=tiny)
    app.state.serve.holder.wait(60)
    c = TestClient(app)
    ctx = c.get("/api/neighbours", params={"q": "The dog runs", "word": "dog", "lang": "en", "to": "de", "k": 3})
    alone = c.get("/api/neighbours", params={"word": "dog", "lang": "en", "to": "de", "k": 3})
    assert ctx.status_code == alone.status_code == 200, (ctx.text, alone.text)
    assert ctx.json()["query"].startswith("'dog' in") and alone.json()["query"] == "'dog' (alone)"
    assert all(h["lang"] == "deu" for h in alone.json()["results"][0]["hits"])
    assert "does not occur in the context" in err(c.get("/api/neighbours", params={
        "q": "The cat", "word": "dog", "lang": "en"}), 400)


def test_no_index_served_is_404(tiny, results_dir):
    c = TestClient(create_app(results=results_dir, encoder=tiny))
    assert "no index is served" in err(c.get("/api/neighbours", params={"q": "hi"}), 404)


# ------------------------------------------------------------------ model: loading, refusal


def test_pages_answer_while_the_model_loads(tiny, index_dir):
    go = threading.Event()

    def slow_loader():
        go.wait(30)
        return Loaded(tiny, open_index(index_dir, tiny))

    app = create_app(index_dir, loader=slow_loader)
    c = TestClient(app)
    try:
        assert c.get("/").status_code == 200
        assert c.get("/api/status").json()["model"]["state"] == "loading"
        r = c.get("/api/neighbours", params={"q": "Hello world!", "lang": "en"})
        assert r.status_code == 503 and r.json()["state"] == "loading" and "loading" in r.json()["error"]
        assert r.headers["retry-after"]
        r = c.get("/api/align", params={"src": "a b", "tgt": "c d", "layer": "2"})
        assert r.status_code == 503
    finally:
        go.set()
    app.state.serve.holder.wait(30)
    assert c.get("/api/neighbours", params={"q": "Hello world!", "lang": "en"}).status_code == 200


def test_failed_model_load_is_503_with_the_reason(index_dir):
    def broken():
        raise RuntimeError("weights missing")

    app = create_app(index_dir, loader=broken)
    app.state.serve.holder.wait(30)
    c = TestClient(app)
    assert c.get("/api/status").json()["model"] == {**c.get("/api/status").json()["model"], "state": "failed"}
    assert "weights missing" in err(c.get("/api/neighbours", params={"q": "hi"}), 503)


def test_another_model_than_the_index_is_refused(index_dir):
    with pytest.raises(ConfigError, match="built with model 'tiny-random-bert-wordpiece', not 'offline'"):
        create_app(index_dir, model="offline")


def test_an_encoder_that_does_not_match_the_index_fails_to_load(index_dir, tmp_path):
    from tests.conftest import make_tiny_encoder

    other = make_tiny_encoder(seed=1)  # same id, other weights
    app = create_app(index_dir, encoder=other)
    app.state.serve.holder.wait(30)
    assert "index built from another model" in err(TestClient(app).get("/api/neighbours", params={"q": "hi"}), 503)


def test_cli_serve_refuses_another_model_in_one_line(index_dir, capsys):
    from mbert_lab.cli import main

    assert main(["serve", "--index", str(index_dir), "--model", "offline"]) == 2
    e = capsys.readouterr().err.strip().splitlines()
    assert len(e) == 1 and "built with model 'tiny-random-bert-wordpiece'" in e[0]


def test_cli_serve_bad_options_exit_2_before_serving(tmp_path, capsys):
    from mbert_lab.cli import main

    assert main(["serve"]) == 2
    assert main(["serve", "--results", str(tmp_path / "nope")]) == 2
    assert main(["serve", "--results", str(tmp_path), "--port", "70000"]) == 2
    assert main(["serve", "--index", str(tmp_path)]) == 2  # not an index
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 4
    assert "no such folder" in err_lines[1] and "--port" in err_lines[2] and "no meta.json" in err_lines[3]


def test_cli_serve_bad_model_device_port_exit_2(tmp_path, capsys):
    import socket

    from mbert_lab.cli import main

    assert main(["serve", "--results", str(tmp_path), "--model", str(tmp_path / "no-model")]) == 2
    assert main(["serve", "--results", str(tmp_path), "--device", "tpu"]) == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["serve", "--results", str(tmp_path), "--port", str(busy.getsockname()[1])]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert "model: no such folder" in lines[0] and "device: unknown device 'tpu'" in lines[1]
    assert "--host/--port: cannot listen on 127.0.0.1:" in lines[2]


def test_cli_serve_runs_a_server_until_stopped(index_dir, results_dir, tmp_path):
    """The real command in a subprocess on a free loopback port: pages and the results browser
    answer at once; the index's model (a test model no one can load) is reported as failed."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MBERT_LAB_CACHE": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "mbert_lab", "serve", "--index", str(index_dir), "--results",
                             str(results_dir), "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                status = json.loads(urllib.request.urlopen(base + "/api/status", timeout=5).read())
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        assert status["index"]["ntotal"] == len(ROWS)
        listing = json.loads(urllib.request.urlopen(base + "/api/results?path=align", timeout=5).read())
        assert "align_eval.json" in {f["name"] for f in listing["files"]}
        while status["model"]["state"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = json.loads(urllib.request.urlopen(base + "/api/status", timeout=5).read())
        assert status["model"]["state"] == "failed" and "tiny-random-bert-wordpiece" in status["model"]["error"]
        rebound = urllib.request.Request(base + "/api/status", headers={"Host": f"attacker.example:{port}"})
        with pytest.raises(urllib.error.HTTPError) as e:  # another site's name resolving to 127.0.0.1
            urllib.request.urlopen(rebound, timeout=5)
        assert e.value.code == 400
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    err_text = proc.stderr.read()
    assert proc.returncode == 0, err_text  # Ctrl-C: uvicorn shuts down cleanly
    assert f"open http://127.0.0.1:{port}/" in err_text


def test_cli_serve_help_imports_no_web_stack_or_torch():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "mbert_lab", "serve", "--help"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0 and "mbert-lab serve --index" in r.stdout
    imported = {ln.split("|")[-1].strip().split(".")[0] for ln in r.stderr.splitlines() if ln.startswith("import time:")}
    assert "mbert_lab" in imported
    assert not imported & {"fastapi", "uvicorn", "starlette", "torch", "faiss", "transformers"}


def test_cli_serve_warns_on_other_hosts(capsys):
    from mbert_lab.cli.serve_cmd import warn_host

    assert not warn_host("127.0.0.1") and warn_host("0.0.0.0")
    assert "other machines can reach this server" in capsys.readouterr().err


# ------------------------------------------------------------------ alignment


def test_gold_sets_and_a_gold_pair(client):
    sets = {s["name"]: s["pairs"] for s in client.get("/api/gold").json()["sets"]}
    assert set(sets) == {"en-fr", "ro-en", "ja-en"} and sets["en-fr"] > 100
    p = client.get("/api/gold/en-fr", params={"pair": 1}).json()
    assert p["src"] and p["tgt"] and p["sure"] and all(0 <= i < len(p["src"]) for i, _ in p["sure"])
    assert "pair: a pair number in 1.." in err(client.get("/api/gold/en-fr", params={"pair": 0}), 400)
    assert "unknown value 'xx-yy'" in err(client.get("/api/gold/xx-yy"), 400)


def test_embedded_corpus_pairs(client, tmp_path, monkeypatch):
    from mbert_lab.serve.app import _embedded_path

    if not _embedded_path().is_file():  # the demo fetches it; build it the same way here
        from mbert_lab.data.embedded import load_embedded_corpus

        load_embedded_corpus()
    langs = {x["lang"]: x["pairs"] for x in client.get("/api/embedded").json()["languages"]}
    assert langs["de"] > 50
    p = client.get("/api/embedded/de", params={"pair": 2}).json()
    assert p["src"] and p["tgt"] and p["src"] != p["tgt"] and p["pairs"] == langs["de"]
    assert "unknown embedded corpus language 'xx'" in err(client.get("/api/embedded/xx"), 400)
    assert "pair: a pair number in 1.." in err(client.get("/api/embedded/de", params={"pair": 0}), 400)
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "empty-cache"))
    assert "not cached yet" in err(client.get("/api/embedded"), 404)
    assert not (tmp_path / "empty-cache").exists()  # looked for, not created


def test_align_pasted_pair_links_scores_heatmap(client):
    r = client.get("/api/align", params={"src": "the dog", "tgt": "der Hund", "methods": "argmax,itermax",
                                         "layer": "2"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["src"] == ["the", "dog"] and d["tgt"] == ["der", "Hund"] and d["layer"] == 2
    assert set(d["methods"]) == {"argmax", "itermax"}
    for m in d["methods"].values():
        assert m["links"] and all(0 <= i < 2 and 0 <= j < 2 and -1 <= s <= 1 and st == "link"
                                  for i, j, s, st in m["links"])
    hm = d["heatmap"]
    assert len(hm["similarity"]) == len(hm["src_labels"]) and len(hm["similarity"][0]) == len(hm["tgt_labels"])


def test_align_gold_pair_marks_hits_misses_and_false_links(client):
    d = client.get("/api/align", params={"gold": "en-fr", "pair": 2, "methods": "argmax", "layer": "3"}).json()
    gp = client.get("/api/gold/en-fr", params={"pair": 2}).json()
    allp = {tuple(x) for x in gp["sure"] + gp["possible"]}
    m = d["methods"]["argmax"]
    assert all(st == ("hit" if (i, j) in allp else "false") for i, j, _, st in m["links"])
    g = m["gold"]
    assert g["hits"] + g["false"] == len(m["links"])
    assert {tuple(x) for x in g["misses"]} == {tuple(x) for x in gp["sure"]} - {(i, j) for i, j, *_ in m["links"]}
    assert 0 <= g["aer"] <= 1 and d["gold"]["name"] == "en-fr"


def test_align_pasted_pair_with_pasted_gold_links(client):
    d = client.get("/api/align", params={"src": "the dog runs", "tgt": "der Hund läuft", "links": "0-0 1-1 2p2",
                                         "methods": "argmax", "layer": "2"}).json()
    m = d["methods"]["argmax"]
    assert d["gold"]["name"] == "pasted" and d["gold"]["sure"] == [[0, 0], [1, 1]] and d["gold"]["possible"] == [[2, 2]]
    assert all(st == ("hit" if (i, j) in {(0, 0), (1, 1), (2, 2)} else "false") for i, j, _, st in m["links"])
    assert {tuple(x) for x in m["gold"]["misses"]} == {(0, 0), (1, 1)} - {(i, j) for i, j, *_ in m["links"]}


@pytest.mark.parametrize("params, status, message", [
    ({"src": "a b", "tgt": "c", "links": "0-0 x"}, 400, "links: bad link 'x'"),
    ({"src": "a b", "tgt": "c", "links": "0-1"}, 400, "link 0-1: target index 1 is beyond the sentence"),
    ({"src": "a b", "tgt": "c", "links": "0-0", "input": "raw"}, 400, "links: gold links index words split"),
    ({"gold": "en-fr", "pair": 1, "links": "0-0"}, 400, "links: goes with a pasted pair"),
    ({"src": "", "tgt": "b"}, 400, "src: empty text"),
    ({"src": "a", "tgt": " "}, 400, "tgt: empty text"),
    ({"src": "a " * 1001, "tgt": "b"}, 413, "src: 2,002 characters; the limit is 2,000"),
    ({"src": "a", "tgt": "b", "methods": "argmix"}, 400, "methods:"),
    ({"src": "a", "tgt": "b", "layer": "99"}, 400, "out of range"),
    ({"src": "a", "tgt": "b", "layer": "1,2"}, 400, "align uses one layer"),
    ({"src": "a", "tgt": "b", "level": "char"}, 400, "level: unknown value 'char'"),
    ({"gold": "en-fr", "pair": 100000}, 400, "pair: a pair number in 1.."),
    ({"gold": "en-fr"}, 400, "pair: a pair number"),
    ({"gold": "de-xx", "pair": 1}, 400, "gold: unknown value"),
])
def test_align_bad_input(client, params, status, message):
    assert message in err(client.get("/api/align", params=params), status)


# ------------------------------------------------------------------ results browser


def test_results_listing_flags_the_report(client):
    top = client.get("/api/results").json()
    assert [d["name"] for d in top["dirs"]] == ["align", "report"]
    assert "link-out" not in json.dumps(top)  # a link leading out is not listed
    rep = client.get("/api/results", params={"path": "report"}).json()
    assert rep["report"] == ["report.html", "report.json", "report.md"]
    al = client.get("/api/results", params={"path": "align"}).json()
    assert {f["name"]: f["kind"] for f in al["files"]} == {"align_eval.json": "json", "plot.svg": "image"}


def test_results_json_tables_and_provenance(client):
    d = client.get("/api/results/json", params={"path": "align/align_eval.json"}).json()
    assert d["kind"] == "align_eval" and d["provenance"]["model"]["model_id"] == "offline"
    t = next(t for t in d["tables"] if t["title"] == "rows")
    assert t["columns"] == ["gold", "layer", "method", "aer"] and t["rows"][1] == ["en-fr", 8, "itermax", 0.19]


def test_results_files_served_with_their_type(client):
    svg = client.get("/files/align/plot.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    html = client.get("/files/report/report.html")
    assert html.status_code == 200 and "Findings" in html.text and "text/html" in html.headers["content-type"]
    assert client.get("/files/report/report.md").headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("url, status", [
    ("/api/results?path=..", 403), ("/api/results?path=../..", 403), ("/api/results?path=/etc", 403),
    ("/api/results/json?path=../secret.txt", 403), ("/files/..%2Fsecret.txt", 403),
    ("/files/%2E%2E/%2E%2E/etc/passwd", 403), ("/files/link-out", 403), ("/api/results?path=align%5C..%5C..", 403),
    ("/api/results?path=nope", 404), ("/files/nope.png", 404), ("/api/results/json?path=align/plot.svg", 400),
    ("/api/results?path=align/plot.svg", 400), ("/files/align", 404),
])
def test_results_traversal_and_bad_paths_refused(client, url, status):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text)
    assert r.json()["error"].startswith("path:")
    assert "outside" not in r.text or status == 403


def test_no_results_folder_served_is_404(tiny, index_dir):
    c = TestClient(create_app(index_dir, encoder=tiny))
    assert "no results folder is served" in err(c.get("/api/results"), 404)
    assert "no results folder is served" in err(c.get("/files/x.png"), 404)


def test_no_endpoint_writes_files(tiny, index_dir, results_dir, tmp_path, monkeypatch):
    """Every endpoint run once; nothing under the index, results, cwd or the cache changes."""
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)

    def snapshot():
        return {p: p.stat().st_mtime_ns for d in (index_dir, results_dir, tmp_path) for p in d.rglob("*")}

    before = snapshot()
    app = create_app(index_dir, results_dir, encoder=tiny)
    app.state.serve.holder.wait(30)
    c = TestClient(app)
    for url in ("/", "/api/status", "/openapi.json", "/api/neighbours?q=Hello&lang=en&to=de",
                "/api/align?src=a+b&tgt=c+d&links=0-0&layer=1",
                "/api/gold", "/api/gold/en-fr?pair=1", "/api/align?src=a+b&tgt=c+d&layer=1",
                "/api/align?gold=en-fr&pair=1&layer=1", "/api/results?path=align",
                "/api/results/json?path=align/align_eval.json", "/files/align/plot.svg"):
        assert c.get(url).status_code == 200, url
    assert snapshot() == before
