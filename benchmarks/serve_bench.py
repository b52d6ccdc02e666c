"""Benchmark: ``mbert-lab serve`` under load on loopback.

200 neighbour queries (``GET /api/neighbours``, k=10, a target language each) from 8 concurrent
clients against a 100,000-vector index, bounded in count (``--queries``) and in time
(``--time-limit``; whatever has not run by then counts as an error). Reports errors, wall time,
throughput and the p50 / p95 / max latency seen by the clients, plus the server-side time of a
query (encoding the query with the model + the FAISS search). The server encodes one query at a
time (one model, a tokenizer that is not thread-safe), so with 8 clients a query mostly waits its
turn; ``--single`` queries sent afterwards by one client (the last ones of the load phase,
so the server is warm) give the latency without queueing.

The index: RANDOM vectors of the real shape (``--vectors random``: the model's hidden size,
seeded Gaussian, L2-normalised by the index), built through the library
(:meth:`mbert_lab.index.faiss_index.VectorIndex.build`, factory key chosen as
``mbert-lab index build`` would: ``--key auto``), with the offline model's provenance recorded so
the server accepts it; rows are labelled deu/fra/cmn/eng in turn. Neighbours are meaningless;
the cost is real: every query is encoded by the real model (the server's one model, one encoding
at a time) and searched in a 100k index. Queries: English Tatoeba sentences from the data mirror.

The server: :func:`mbert_lab.serve.create_app` under uvicorn in a thread on a free 127.0.0.1
port, stopped at the end. Clients: ``urllib`` in a thread pool. Nothing leaves the machine.

Run (the machine is shared: queue behind the heavy lock, as the other benchmarks do):
    flock /tmp/mbert-heavy.lock python benchmarks/serve_bench.py --threads 2
Output: a table on stdout and results/serve_bench/serve_bench.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LANGS = ("deu", "fra", "cmn", "eng")


def build_random_index(folder: Path, encoder, n: int, key: str, seed: int, threads: int | None) -> dict:
    from mbert_lab.index.faiss_index import Item, VectorIndex
    from mbert_lab.studies.retrieval import model_dict

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, encoder.hidden_size), dtype=np.float32)
    items = [Item(LANGS[i % len(LANGS)], f"r{i}", f"random vector {i}") for i in range(n)]
    t0 = time.perf_counter()
    idx = VectorIndex.build(x, items, key=key, model=model_dict(encoder), layer=encoder.num_layers, unit="sentence",
                            pooling="mean", threads=threads)
    idx.meta.extra["source"] = f"random Gaussian vectors (seed {seed}), {n} rows"
    idx.save(folder)
    return {"key": idx.meta.key, "ntotal": idx.meta.ntotal, "dim": idx.meta.dim,
            "build_seconds": round(time.perf_counter() - t0, 2)}


def queries(n: int) -> list[str]:
    from mbert_lab.studies.retrieval import tatoeba_files

    lines = tatoeba_files("deu")[1].read_text(encoding="utf-8").splitlines()
    out = [x for x in lines if x.strip()][:n]
    if len(out) < n:
        raise SystemExit(f"only {len(out)} English Tatoeba sentences under the data root; need {n}")
    return out


class Server:
    """uvicorn in a thread on a free loopback port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):  # returns self
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if time.monotonic() - t0 > 60 or not self.thread.is_alive():
                raise SystemExit("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


def one(url: str, timeout: float) -> tuple[float, float | None, str | None]:
    """(client seconds, server seconds, error) of one GET."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = json.loads(r.read())
        return time.perf_counter() - t0, float(body["seconds"]), None
    except (urllib.error.URLError, OSError, ValueError, KeyError) as e:
        detail = e.read().decode("utf-8", "replace")[:200] if isinstance(e, urllib.error.HTTPError) else str(e)
        return time.perf_counter() - t0, None, f"{type(e).__name__}: {detail}"


def load(base: str, texts: list[str], clients: int, time_limit: float, k: int) -> dict:
    urls = [f"{base}/api/neighbours?" + urllib.parse.urlencode(
        {"q": t, "lang": "en", "to": ("de", "fr", "zh")[i % 3], "k": k}) for i, t in enumerate(texts)]
    one(urls[0], 120)  # warm-up (not counted): first forward pass, allocator
    deadline = time.monotonic() + time_limit
    lat, srv, errors = [], [], []
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        futs = [pool.submit(lambda u=u: one(u, 60) if time.monotonic() < deadline else (0.0, None, "time limit"))
                for u in urls]
        for f in futs:
            c, s, e = f.result()
            if e:
                errors.append(e)
            else:
                lat.append(c)
                srv.append(s)
    wall = time.perf_counter() - t0
    pct = (lambda a, q: round(float(np.percentile(a, q)) * 1000, 1) if a else None)
    return {"queries": len(urls), "clients": clients, "ok": len(lat), "errors": len(errors),
            "first_errors": errors[:3], "wall_seconds": round(wall, 2), "qps": round(len(lat) / wall, 2),
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "max_ms": pct(lat, 100),
            "server_p50_ms": pct(srv, 50), "server_p95_ms": pct(srv, 95)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", choices=["random"], default="random", help="index vectors (random, real shape)")
    ap.add_argument("--n", type=int, default=100_000, help="index size (default 100000)")
    ap.add_argument("--key", default="auto", help="FAISS factory key (default: auto, as 'index build' chooses)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--single", type=int, default=20, help="queries then sent again by ONE client (latency without queueing)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds for the load phase (default 600)")
    ap.add_argument("--threads", type=int, default=2, help="torch / FAISS threads (default 2)")
    ap.add_argument("--model", default="offline")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "results" / "serve_bench"))
    a = ap.parse_args()
    from mbert_lab.models.registry import load_encoder
    from mbert_lab.serve import create_app
    from mbert_lab.studies.base import set_threads

    set_threads(a.threads)
    enc = load_encoder(a.model)
    texts = queries(a.queries)
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        info = build_random_index(Path(tmp) / "index", enc, a.n, a.key, a.seed, a.threads)
        app = create_app(Path(tmp) / "index", encoder=enc, threads=a.threads)
        state = app.state.serve
        if not state.holder.wait(300) or state.holder.state != "ready":
            raise SystemExit(f"the server's model/index did not load: {state.holder.error}")
        with Server(app) as srv:
            res = load(srv.url, texts, a.clients, a.time_limit, a.k)
            single = load(srv.url, texts[-a.single:], 1, a.time_limit, a.k)  # then one client: no queueing
    res["one_client"] = {k: single[k] for k in ("queries", "errors", "p50_ms", "p95_ms", "server_p50_ms")}
    res.update(index=info, vectors=a.vectors, model=enc.model_id, threads=a.threads, cpus=os.cpu_count(),
               loadavg=os.getloadavg())
    print(f"index: {info['ntotal']:,} {a.vectors} vectors of dim {info['dim']}, key {info['key']}, "
          f"built in {info['build_seconds']} s; model {enc.model_id}; {a.threads} threads; load avg "
          f"{res['loadavg'][0]:.2f} on {res['cpus']} CPUs (shared machine)")
    rows = [("queries", res["queries"]), ("clients", res["clients"]), ("ok", res["ok"]), ("errors", res["errors"]),
            ("wall s", res["wall_seconds"]), ("queries/s", res["qps"]), ("p50 ms", res["p50_ms"]),
            ("p95 ms", res["p95_ms"]), ("max ms", res["max_ms"]), ("server p50 ms", res["server_p50_ms"]),
            ("server p95 ms", res["server_p95_ms"])]
    print(f"{'measure':<16}{'value':>12}")
    for name, v in rows:
        print(f"{name:<16}{v!s:>12}")
    o = res["one_client"]
    print(f"then one client, {o['queries']} queries: p50 {o['p50_ms']} ms, p95 {o['p95_ms']} ms "
          f"(server {o['server_p50_ms']} ms), errors {o['errors']}")
    if res["errors"] or o["errors"]:
        print("errors:", res["first_errors"])
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve_bench.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 1 if res["errors"] or o["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
