"""Encoding: the only place that runs the encoder for analyses.

``Extractor`` (batched, windowed, early-stopping) + ``Store`` (sharded, memory-mapped,
verified cache). ``default_store()`` is the user cache's vector store.
"""

from __future__ import annotations

from pathlib import Path


def default_store(root: str | Path | None = None):  # type: ignore[no-untyped-def]
    from ..paths import cache_dir
    from .store import Store

    return Store(Path(root) if root else cache_dir("vectors"))
