"""What the server holds: the index (its metadata read at start, the FAISS index opened in the
background), the model (loaded once, in a background thread, then reused by every request) and
the check that the model is the one recorded in the index.

Nothing here imports fastapi, torch or faiss at module level.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError

MAX_CHARS = 2000  # longer query / sentence inputs get 413; shorter ones are windowed by the extractor
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def read_index_meta(index: str | Path) -> dict[str, Any]:
    """An index folder's ``meta.json`` (no FAISS needed)."""
    from ..studies.base import check_input_dir

    check_input_dir("--index", index)
    p = Path(index) / "meta.json"
    if not p.is_file():
        raise InputError("--index: not an index folder (no meta.json); build one with 'mbert-lab index build'", index)
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"--index: unreadable index metadata ({e})", p) from None
    if not isinstance(meta, dict):
        raise InputError("--index: unreadable index metadata (not a JSON object)", p)
    return meta


def canonical_model_id(model: str) -> str:
    """What ``load_encoder(model)`` records as ``model_id`` (the offline aliases -> one id)."""
    from ..models.offline import MODEL_ID
    from ..models.registry import OFFLINE_ALIASES

    return MODEL_ID if model in OFFLINE_ALIASES else model


def recorded_model(meta: dict[str, Any]) -> str | None:
    """The ``--model`` value that loads the model recorded in an index (None: not recorded)."""
    from ..models.offline import MODEL_ID

    mid = (meta.get("model") or {}).get("model_id")
    if not mid:
        return None
    return "offline" if mid == MODEL_ID else str(mid)


def choose_model(index: str | Path | None, model: str | None) -> str:
    """The model to serve: the index's (``model`` None or the same model), else refused.

    >>> choose_model(None, None)
    'offline'
    """
    if index is None:
        return model or "offline"
    meta = read_index_meta(index)
    have = recorded_model(meta)
    if have is None:
        raise InputError("--index: the index does not record its model; rebuild it with 'mbert-lab index build'", index)
    if model is not None and canonical_model_id(model) != canonical_model_id(have):
        raise ConfigError(f"--model: the index {index} was built with model '{have}', not '{model}'; "
                          "leave --model out (the index's model is used) or serve an index built with it")
    return have


class NotReady(Exception):
    """The model (or index) is still loading, or failed to load."""

    def __init__(self, state: str, message: str):
        self.state = state
        super().__init__(message)


@dataclass
class Loaded:
    encoder: Any
    index: Any  # VectorIndex or None


@dataclass
class ModelHolder:
    """Loads the model (and opens the index) once in a background thread; requests that need
    them get :class:`NotReady` until then. ``loader`` returns a :class:`Loaded`."""

    loader: Callable[[], Loaded]
    state: str = "loading"  # loading | ready | failed
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    _value: Loaded | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mbert-lab-serve-load", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self.loader()
            self.state = "ready"
        except Exception as e:  # noqa: BLE001 - reported through /api/status and 503s
            self.error = " ".join(str(e).split()) or type(e).__name__
            self.state = "failed"
        self.seconds = time.monotonic() - self.started

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state != "loading"

    def get(self) -> Loaded:
        if self.state == "ready" and self._value is not None:
            return self._value
        if self.state == "failed":
            raise NotReady("failed", f"the model failed to load: {self.error}")
        raise NotReady("loading", "the model is loading; retry in a few seconds (see /api/status)")


def default_loader(model: str, index: str | Path | None, device: str = "cpu",
                   threads: int | None = None) -> Callable[[], Loaded]:
    """Load the encoder, then open the index checked against it (model id, weights, dim)."""

    def load() -> Loaded:
        from ..models.registry import load_encoder
        from ..studies.base import set_threads

        set_threads(threads)
        enc = load_encoder(model, device=device)
        return Loaded(enc, open_index(index, enc))

    return load


def open_index(index: str | Path | None, encoder: Any) -> Any:
    """The index opened and verified against ``encoder`` (None when no index is served)."""
    if index is None:
        return None
    from ..index.faiss_index import VectorIndex
    from ..studies.retrieval import model_dict

    return VectorIndex.load(index, expect_model=model_dict(encoder), expect_dim=encoder.hidden_size)


@dataclass
class ServeState:
    """Everything a request may read: folders given at start, the index metadata, the holder."""

    index: Path | None
    results: Path | None
    model: str
    holder: ModelHolder
    meta: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # one encoding at a time
    busy: int = 0  # queries running or waiting for the model
    count_lock: threading.Lock = field(default_factory=threading.Lock)
    _langs: tuple[str, ...] | None = None

    def languages(self, index: Any) -> tuple[str, ...]:
        """The languages of the open index's rows (computed once)."""
        if self._langs is None:
            self._langs = tuple(sorted({it.lang for it in index.items}))
        return self._langs

    def status(self) -> dict[str, Any]:
        h = self.holder
        idx = None
        if self.meta is not None:
            m = self.meta
            loaded = h._value.index if h.state == "ready" and h._value is not None else None
            langs = list(self.languages(loaded)) if loaded is not None else []
            idx = {"path": str(self.index), "ntotal": m.get("ntotal"), "dim": m.get("dim"), "layer": m.get("layer"),
                   "unit": m.get("unit"), "key": m.get("key"), "transform": m.get("transform"),
                   "model_id": (m.get("model") or {}).get("model_id"), "languages": langs,
                   "source": (m.get("extra") or {}).get("source")}
        elapsed = h.seconds if h.seconds is not None else time.monotonic() - h.started
        return {"model": {"name": self.model, "state": h.state, "error": h.error, "seconds": round(elapsed, 2)},
                "index": idx, "results": str(self.results) if self.results is not None else None,
                "limits": {"max_chars": MAX_CHARS}, "busy": self.busy}
