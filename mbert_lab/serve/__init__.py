"""``mbert-lab serve``: a local web explorer for cross-lingual neighbours, word alignments
and result folders.

Why FastAPI (on Starlette, served by uvicorn): the issue asks for a JSON API behind every page
with its OpenAPI schema at ``/openapi.json``. FastAPI writes that schema from the endpoint
signatures (parameter types, limits, response shapes), so the schema cannot drift from the code;
plain Starlette would need a hand-written one. Everything else (static files, the test client,
middleware) is Starlette's, and uvicorn is the ASGI server. FastAPI's own docs pages load
Swagger UI from a CDN, so they are switched off: only ``/openapi.json`` is served, and every
page, script and style sheet comes from ``mbert_lab/serve/static/`` (no Node build, no CDN).

The app calls the library (``mbert_lab.studies.retrieval.search``,
``mbert_lab.studies.alignment.align``, ``mbert_lab.data.datasets``), never the CLI. Inputs are
validated by the same study Configs the CLI builds (``SearchConfig``, ``AlignConfig``); their
errors become 400 responses carrying the same one-line message. No endpoint writes files (the
vector store is off for every query).

Modules: :mod:`.state` (the index, the model loaded once in the background, the model check),
:mod:`.browse` (the results browser: safe paths, tables from result JSON), :mod:`.app` (the
FastAPI app). fastapi/uvicorn are imported only when the app is built.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """Build the ASGI app (see :func:`mbert_lab.serve.app.create_app`)."""
    from .app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
