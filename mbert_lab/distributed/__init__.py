"""Scale-out on Ray: extraction, index building and bitext mining across machines.

Nothing here imports Ray at module level: a run without ``ray=...`` never imports it.

- :mod:`.cluster`: ``ray_session(address)`` joins a cluster (``HOST:PORT``, ``ray://HOST:PORT``,
  ``auto`` or ``$RAY_ADDRESS``) or starts a local one on 127.0.0.1 (dashboard off) and shuts
  down only what it started;
- :mod:`.corpus`: a corpus as blocks in the object store (a text file read as a Ray dataset
  with the project's line rule; a list put in blocks): the driver holds references;
- :mod:`.extract`: :class:`~.extract.RayExtractor`, a pool of model actors (one model load per
  actor) that tokenize the blocks (token counts for the driver's shard plan) and write the
  missing shards of the ordinary vector store (:mod:`mbert_lab.encode.store`), so the output
  is the store a single process would write;
- :mod:`.rows`: :class:`~.rows.RowSource`, the rows of the store's files (paths and row
  counts) that Ray tasks read themselves;
- :mod:`.index`: index building in Ray tasks that read their rows (train once, add in
  parallel, merge), and :class:`~.index.ShardedIndex`, search over the saved parts within a
  memory budget;
- :mod:`.mining`: margin mining with the k-NN queries of both directions in Ray tasks that
  read their vectors (bit-identical to the single-process k-NN), targets optionally read a
  shard at a time; the driver gets k neighbours per query.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError

_ADDRESS = re.compile(r"(ray://)?([A-Za-z0-9][A-Za-z0-9.\-_]*|\[[0-9A-Fa-f:]+\]):([0-9]{1,5})")
RAY_HINT = "pip install 'mbert-lab[ray]'"


def ray_installed() -> bool:
    """Whether Ray can be imported (asks the import system; does not import it)."""
    return importlib.util.find_spec("ray") is not None


def check_ray(name: str, value: Any) -> None:
    """``None`` (no Ray), ``'local'`` (a local cluster on 127.0.0.1, or ``$RAY_ADDRESS``),
    ``'auto'`` (the running cluster of this machine) or ``HOST:PORT`` / ``ray://HOST:PORT``;
    and Ray must be installed."""
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name}: expected 'local', 'auto', HOST:PORT or ray://HOST:PORT, got {value!r}")
    v = value.strip()
    if v not in ("local", "auto"):
        m = _ADDRESS.fullmatch(v)
        if not m or not 1 <= int(m.group(3)) <= 65535:
            raise ConfigError(f"{name}: bad cluster address {v!r}; use 'local', 'auto', HOST:PORT "
                              "(e.g. 10.0.0.5:6379) or ray://HOST:PORT (e.g. ray://10.0.0.5:10001)")
    if not ray_installed():
        raise ConfigError(f"{name}: Ray is not installed; {RAY_HINT}")


def check_ray_fields(cfg: Any) -> None:
    """The ``ray`` / ``ray_workers`` fields of a study Config."""
    from ..studies.base import check_count

    check_ray("ray", cfg.ray)
    check_count("ray_workers", cfg.ray_workers, maximum=4096, allow_none=True)
    if cfg.ray_workers is not None and cfg.ray is None:
        raise ConfigError("ray_workers: only with ray (e.g. ray='local' / --ray)")


_OPEN: list[Any] = []


@contextlib.contextmanager
def session_for(cfg: Any) -> Iterator[bool]:
    """A Ray session for a study Config with ``ray`` set (yields True), else nothing (False).
    Extractors made by :func:`extractor_for` inside it are closed on exit."""
    if getattr(cfg, "ray", None) is None:
        yield False
        return
    from .cluster import ray_session

    with ray_session(cfg.ray):
        try:
            yield True
        finally:
            release_extractors()


def release_extractors() -> None:
    """End the model actors of the extractors made by :func:`extractor_for` (their CPUs go
    back to the cluster, for the index and k-NN tasks that follow the encoding)."""
    while _OPEN:
        _OPEN.pop().close()


def extractor_for(cfg: Any, ex: Any) -> Any:
    """``ex`` itself, or with ``cfg.ray`` a :class:`~.extract.RayExtractor` around it (one
    actor pool per extractor; ``cfg.ray_workers`` actors of ``cfg.threads`` threads)."""
    if getattr(cfg, "ray", None) is None:
        return ex
    from .extract import RayExtractor

    rex = RayExtractor(ex, workers=cfg.ray_workers, threads=cfg.threads)
    _OPEN.append(rex)
    return rex


__all__ = [
    "RAY_HINT",
    "check_ray",
    "check_ray_fields",
    "extractor_for",
    "ray_installed",
    "release_extractors",
    "session_for",
]
