"""The FastAPI app of ``mbert-lab serve`` (see :mod:`mbert_lab.serve` for the choice of framework).

Endpoints (all JSON but ``/`` and the files; the schema is at ``/openapi.json``):

- ``GET /api/status``: model state (loading / ready / failed), index summary, limits, queries running;
- ``GET /api/neighbours``: nearest neighbours of a sentence or a word (``SearchConfig`` rules);
- ``GET /api/gold``, ``GET /api/gold/{name}``: the gold alignment sets of the data mirror, one pair;
- ``GET /api/embedded``, ``GET /api/embedded/{lang}``: pairs of the embedded corpus (when cached);
- ``GET /api/align``: align a pasted or gold pair (``AlignConfig`` rules), heatmap, gold hits/misses;
- ``GET /api/results``, ``GET /api/results/json``, ``GET /files/{path}``: the results browser.

Errors: ``{"error": "<one line>"}`` with 400 (bad input: the study Config's message), 403 (a path
outside the results folder), 404 (nothing there), 413 (an input over 2,000 characters) or 503
(the model is still loading, with ``"state": "loading"``, or failed to load).
"""

from __future__ import annotations

import functools
import mimetypes
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MbertLabError
from . import browse
from .state import (
    MAX_CHARS,
    Loaded,
    ModelHolder,
    NotReady,
    ServeState,
    choose_model,
    default_loader,
    open_index,
    read_index_meta,
)

STATIC = Path(__file__).resolve().parent / "static"
MARGIN_K = 4  # neighbours: ratio margin against the mean of the query's top-4 scores
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'self'")


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any):
        self.status, self.message, self.extra = status, message, extra
        super().__init__(message)


def _limit(name: str, value: str | None) -> None:
    if value is not None and len(value) > MAX_CHARS:
        raise ApiError(413, f"{name}: {len(value):,} characters; the limit is {MAX_CHARS:,} characters "
                       "(longer inputs are refused, shorter ones are windowed)")


def create_app(index: str | Path | None = None, results: str | Path | None = None, model: str | None = None, *,
               encoder: Any = None, loader: Any = None, device: str = "cpu", threads: int | None = None,
               allowed_hosts: list[str] | None = None) -> Any:
    """The app for an index folder and/or a results folder. The model is the index's
    (another ``model`` raises ConfigError); it is loaded once in a background thread
    (``encoder``: use this one; ``loader``: a callable returning :class:`Loaded`, for tests).
    ``allowed_hosts``: Host headers accepted (others get 400), e.g. the loopback names, so a
    web page elsewhere cannot reach the app through DNS rebinding; None accepts any."""
    from ..studies.base import check_input_dir

    name = choose_model(index, model)
    meta = read_index_meta(index) if index is not None else None
    if results is not None:
        check_input_dir("--results", results)
    if loader is None:
        loader = (lambda: Loaded(encoder, open_index(index, encoder))) if encoder is not None else \
            default_loader(name, index, device=device, threads=threads)
    holder = ModelHolder(loader)
    state = ServeState(Path(index) if index is not None else None, Path(results) if results is not None else None,
                       name, holder, meta)
    app = _build(state)
    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    holder.start()
    return app


def _build(state: ServeState) -> Any:
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    app = FastAPI(title="mbert-lab serve", version=_version(), docs_url=None, redoc_url=None,
                  description="Cross-lingual neighbours, word alignments and result folders of mbert-lab.")
    app.state.serve = state

    @app.exception_handler(ApiError)
    async def _api_error(request: Any, e: ApiError) -> Any:
        headers = {"Retry-After": "2"} if e.status == 503 else None
        return JSONResponse({"error": e.message, **e.extra}, status_code=e.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Any, e: RequestValidationError) -> Any:
        err = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in err.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": f"{where}: {err.get('msg', 'invalid value')}"}, status_code=400)

    @app.middleware("http")
    async def _headers(request: Any, call_next: Any) -> Any:
        resp = await call_next(request)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        return resp

    _pages(app)
    _api(app, state)
    _results(app, state)
    return app


def _version() -> str:
    from .. import __version__

    return __version__


def _pages(app: Any) -> None:
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def home() -> Any:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Any:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def _guard(fn: Any) -> Any:
    """Library errors -> 400 with their one-line message; model not ready -> 503."""

    @functools.wraps(fn)
    def wrapped(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except NotReady as e:
            raise ApiError(503, str(e), state=e.state) from None
        except MbertLabError as e:
            raise ApiError(400, " ".join(str(e).split())) from None

    return wrapped


def _run(state: ServeState, work: Any) -> tuple[Any, float]:
    """Run model work (one at a time: the tokenizer is not thread-safe), timed."""
    with state.count_lock:
        state.busy += 1
    try:
        with state.lock:
            t0 = time.perf_counter()
            return work(), time.perf_counter() - t0
    finally:
        with state.count_lock:
            state.busy -= 1


def _api(app: Any, state: ServeState) -> None:
    @app.get("/api/status", tags=["status"])
    def status() -> dict[str, Any]:
        """Model state (loading / ready / failed), the index served, limits, queries running."""
        return state.status()

    @app.get("/api/neighbours", tags=["neighbours"])
    @_guard
    def neighbours(q: str = "", lang: str = "eng", to: str = "", k: int = 10, word: str = "",
                   layer: str = "") -> dict[str, Any]:
        """Nearest neighbours of ``q`` (a sentence), or of ``word`` in the context ``q`` (or alone
        when ``q`` is empty), in the index; ``to``: k hits in each of these languages."""
        _limit("q", q)
        _limit("word", word)
        return neighbours_query(state, q, lang, to, k, word or None, layer or "all")

    @app.get("/api/gold", tags=["alignment"])
    @_guard
    def gold_sets() -> dict[str, Any]:
        """The gold word-alignment sets in the data mirror, with their sizes."""
        return {"sets": list_gold()}

    @app.get("/api/gold/{name}", tags=["alignment"])
    @_guard
    def gold_pair_ep(name: str, pair: int = 1) -> dict[str, Any]:
        """One pair of a gold set (1-based): words and 0-based sure / possible links."""
        return gold_pair_json(name, pair)

    @app.get("/api/embedded", tags=["alignment"])
    @_guard
    def embedded_langs() -> dict[str, Any]:
        """Languages of the embedded corpus (English UI messages and their translations), if cached."""
        c = embedded_corpus()
        return {"languages": [{"lang": lg, "pairs": len(c.parallel(lg))} for lg in c.languages]}

    @app.get("/api/embedded/{lang}", tags=["alignment"])
    @_guard
    def embedded_pair(lang: str, pair: int = 1) -> dict[str, Any]:
        """Pair ``pair`` (1-based) of the embedded corpus in ``lang``: English, translation (raw text)."""
        from ..errors import choice_error

        c = embedded_corpus()
        if lang not in c.translations:
            raise choice_error("embedded corpus language", lang, c.languages)
        pairs = c.parallel(lang)
        if not 1 <= pair <= len(pairs):
            raise ConfigError(f"pair: a pair number in 1..{len(pairs)} of the embedded corpus in '{lang}', got {pair}")
        return {"lang": lang, "pair": pair, "pairs": len(pairs), "src": pairs[pair - 1][0], "tgt": pairs[pair - 1][1]}

    @app.get("/api/align", tags=["alignment"])
    @_guard
    def align_ep(src: str = "", tgt: str = "", gold: str = "", pair: int | None = None, links: str = "",
                 methods: str = "argmax,itermax,match", layer: str = "8", level: str = "subword",
                 input: str = "tokenized") -> dict[str, Any]:
        """Align a pasted pair (``src``, ``tgt``; optional gold ``links``, 0-based Pharaoh
        ``i-j`` sure / ``ipj`` possible) or pair ``pair`` of the gold set ``gold`` with
        ``methods`` at ``layer``: links with scores, the similarity heatmap, and with gold,
        each link a hit or a false link and the gold links missed."""
        for name, v in (("src", src), ("tgt", tgt), ("links", links)):
            _limit(name, v)
        return align_query(state, src, tgt, gold or None, pair, methods, layer, level, input, links or None)


# ------------------------------------------------------------------------------ neighbours


def _check_lang(name: str, code: str, have: set[str]) -> None:
    from ..languages import is_known

    if code not in have and not is_known(code):
        raise ConfigError(f"{name}: unknown language '{code}': not in the language table and not in this index "
                          f"(has: {', '.join(sorted(have))})")


def neighbours_query(state: ServeState, q: str, lang: str, to: str, k: int, word: str | None,
                     layer: str) -> dict[str, Any]:
    from ..studies.base import check_count
    from ..studies.retrieval import SearchConfig, search

    if state.index is None:
        raise ApiError(404, "no index is served: start it with 'mbert-lab serve --index DIR'")
    cfg = SearchConfig(index=str(state.index), texts=(q,) if q or word is None else (), lang=lang, to=to, k=k,
                       word=word, layers=layer, model=state.model, cache=False)
    check_count("k", k, maximum=1000)
    loaded = state.holder.get()
    have = set(state.languages(loaded.index))
    _check_lang("lang", lang, have)
    for t in (x.strip() for x in to.split(",") if x.strip()):
        _check_lang("to", t, have)
    res, secs = _run(state, lambda: search(cfg.replace(k=max(k, MARGIN_K)), encoder=loaded.encoder,
                                           index=loaded.index))
    qh = res.queries[0]
    groups = []
    for lg, hits in qh.hits.items():
        top = [h.score for h in hits[:MARGIN_K]]
        mean = sum(top) / len(top) if top else 0.0
        groups.append({"lang": lg, "hits": [
            {"rank": h.rank, "lang": h.lang, "sid": h.sid, "text": h.text, "score": round(h.score, 5),
             "margin": round(h.score / mean, 5) if mean > 0 else None} for h in hits[:k]]})
    return {"query": qh.query, "lang": cfg.lang, "to": list(cfg.to), "k": k, "layer": res.layer,
            "unit": loaded.index.meta.unit, "seconds": round(secs, 4), "results": groups,
            "margin": f"ratio margin: the score over the mean of the query's top-{MARGIN_K} scores in that list"}


# ------------------------------------------------------------------------------ alignment


@functools.lru_cache(maxsize=8)
def _gold(name: str) -> Any:
    from ..data.datasets import load_gold_alignment

    return load_gold_alignment(name)


def _embedded_path() -> Path:
    """Where the embedded corpus is cached (found without creating any folder)."""
    import os

    from ..data.embedded import DJANGO_WHEEL
    from ..paths import CACHE_ENV

    env = os.environ.get(CACHE_ENV)
    if env:
        root = Path(env).expanduser().resolve()
    else:
        from platformdirs import user_cache_dir

        root = Path(user_cache_dir("mbert-lab"))
    return root / "corpora" / f"django-{DJANGO_WHEEL['version']}" / "corpus.json"


@functools.lru_cache(maxsize=1)
def _embedded(path: str) -> Any:
    from ..data.embedded import load_embedded_corpus

    return load_embedded_corpus()


def embedded_corpus() -> Any:
    """The embedded corpus when it is already cached (no endpoint fetches or writes it)."""
    p = _embedded_path()
    if not p.is_file():
        raise ApiError(404, "the embedded corpus is not cached yet; 'mbert-lab demo' fetches it")
    return _embedded(str(p))


def list_gold() -> list[dict[str, Any]]:
    from ..data.datasets import alignment_sets
    from ..studies.alignment import GOLD_SETS

    try:
        have = set(alignment_sets())
    except MbertLabError:
        return []
    out = []
    for g in GOLD_SETS:
        if g.replace("-", "") in have:
            out.append({"name": g, "pairs": len(_gold(g).pairs)})
    return out


def _gold_pair(name: str, pair: int | None) -> Any:
    from ..studies.alignment import gold_set_name

    g = _gold(gold_set_name(name))
    if pair is None or not 1 <= pair <= len(g.pairs):
        raise ConfigError(f"pair: a pair number in 1..{len(g.pairs)} of gold set '{name}', got {pair}")
    return g.pairs[pair - 1]


def gold_pair_json(name: str, pair: int) -> dict[str, Any]:
    gp = _gold_pair(name, pair)
    return {"gold": name, "pair": pair, "src": list(gp.src), "tgt": list(gp.tgt),
            "sure": sorted(map(list, gp.sure)), "possible": sorted(map(list, gp.possible))}


def _score_links(links: Any, gp: Any) -> dict[str, Any]:
    pred = set(links.links)
    sure, allp = set(gp.sure), set(gp.sure) | set(gp.possible)
    hit = len(pred & allp)
    prec = hit / len(pred) if pred else 0.0
    rec = len(pred & sure) / len(sure) if sure else 0.0
    aer = 1 - (len(pred & sure) + hit) / (len(pred) + len(sure)) if pred or sure else 0.0
    return {"hits": hit, "false": len(pred - allp), "misses": sorted(map(list, sure - pred)),
            "precision": round(prec, 4), "recall": round(rec, 4), "aer": round(aer, 4)}


def pasted_gold(src: str, tgt: str, links: str, input: str) -> Any:
    """Pasted 0-based Pharaoh links (``0-0 1p2``) for a pasted tokenized pair -> a GoldPair,
    read by the gold reader's rules (bad token, index beyond the sentence)."""
    from ..data.readers.alignment import _LINK, _rebase
    from ..data.readers.text import split_ascii_space

    if input != "tokenized":
        raise ConfigError("links: gold links index words split at spaces; use input=tokenized")
    raw = []
    for tok in split_ascii_space(links.replace("\t", " ")):
        m = _LINK.match(tok)
        if not m:
            raise ConfigError(f"links: bad link '{tok}': expected 'i-j' (sure) or 'ipj' (possible), 0-based")
        raw.append((int(m.group(1)), int(m.group(3)), m.group(2) == "-"))
    return _rebase(tuple(split_ascii_space(src)), tuple(split_ascii_space(tgt)), raw, 0, "links", 1)


def align_query(state: ServeState, src: str, tgt: str, gold: str | None, pair: int | None, methods: str,
                layer: str, level: str, input: str, links: str | None = None) -> dict[str, Any]:
    from ..studies.alignment import AlignConfig, align
    from ..studies.base import check_text

    gp = None
    if gold is not None:
        if links is not None:
            raise ConfigError("links: goes with a pasted pair, not with a gold set")
        gp = _gold_pair(gold, pair)
        src, tgt, input = " ".join(gp.src), " ".join(gp.tgt), "tokenized"
    else:
        check_text("src", src)
        check_text("tgt", tgt)
        if links is not None:
            gp = pasted_gold(src, tgt, links, input)
    cfg = AlignConfig(pairs=((src, tgt),), methods=methods, layers=layer, level=level, input=input, heatmaps=(1,),
                      model=state.model, cache=False)
    loaded = state.holder.get()
    res, secs = _run(state, lambda: align(cfg, encoder=loaded.encoder))
    p, hm = res.pairs[0], res.heatmaps[0]
    out_m = {}
    for m, a in p.alignments.items():
        allp = set(gp.sure) | set(gp.possible) if gp is not None else set()
        links = [[i, j, round(s, 4), ("hit" if (i, j) in allp else "false") if gp is not None else "link"]
                 for (i, j), s in zip(a.links, a.scores)]
        out_m[m] = {"links": links, "confidence": round(a.confidence, 4), "coverage": round(a.coverage, 4),
                    "gold": _score_links(a, gp) if gp is not None else None}
    return {"layer": res.layer, "level": res.level, "input": res.input, "src": list(p.src), "tgt": list(p.tgt),
            "methods": out_m, "seconds": round(secs, 4),
            "heatmap": {"method": hm.method, "src_labels": list(hm.src_labels), "tgt_labels": list(hm.tgt_labels),
                        "similarity": [[round(x, 4) for x in row] for row in hm.similarity],
                        "cells": [list(c) for c in hm.cells]},
            "gold": None if gp is None else {"name": gold or "pasted", "pair": pair, "sure": sorted(map(list, gp.sure)),
                                             "possible": sorted(map(list, gp.possible))}}


# ------------------------------------------------------------------------------ results browser


def _root(state: ServeState) -> Path:
    if state.results is None:
        raise ApiError(404, "no results folder is served: start it with 'mbert-lab serve --results DIR'")
    return state.results


def _browse(fn: Any, *a: Any) -> Any:
    try:
        return fn(*a)
    except browse.Forbidden as e:
        raise ApiError(403, str(e)) from None
    except FileNotFoundError as e:
        raise ApiError(404, str(e)) from None


def _results(app: Any, state: ServeState) -> None:
    from fastapi.responses import FileResponse

    @app.get("/api/results", tags=["results"])
    @_guard
    def results_list(path: str = "") -> dict[str, Any]:
        """A folder of the results folder: sub-folders, files by kind, a findings report if any."""
        return _browse(browse.listing, _root(state), path)

    @app.get("/api/results/json", tags=["results"])
    @_guard
    def results_json(path: str) -> dict[str, Any]:
        """A result JSON file: its kind, provenance and the tables found in it."""
        return _browse(browse.read_json, _root(state), path)

    @app.get("/files/{path:path}", tags=["results"])
    @_guard
    def results_file(path: str) -> Any:
        """A file of the results folder as is (plots, JSON, the report's HTML / Markdown)."""
        p = _browse(browse.safe_path, _root(state), path)
        if not p.is_file():
            raise ApiError(404, f"path: '{path}' is a folder, not a file")
        kind = browse.kind_of(p)
        media = {"markdown": "text/plain; charset=utf-8", "text": "text/plain; charset=utf-8"}.get(kind)
        media = media or mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        headers = {"Content-Security-Policy": CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")}
        return FileResponse(p, media_type=media, headers=headers)
