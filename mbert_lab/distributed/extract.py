"""Extraction on Ray: a pool of model actors writes the missing shards of the vector store.

The driver tokenizes the corpus and plans its shards exactly as :class:`~mbert_lab.encode.
extractor.Extractor` does (the plan depends on the texts only), finds the shards that are
not complete in the store (an entry is complete when its data file and manifest are there),
and sends each missing shard to an actor. An actor holds one model (loaded once: the
driver's encoder, shipped once through the object store) and encodes its shard with an
ordinary ``Extractor`` writing into the same store (``Store.put``: one atomic file per
output and layer, then its manifest), then writes ``writer.json`` beside the entries (pid,
host, time). Finally the driver reads the corpus back with its own ``Extractor``: every
entry is verified (sha256) and a corrupted one is recomputed there, so the result is the
one a single process gives.

Fault tolerance: actors are restarted by Ray (``max_restarts``) and their pending shard is
retried (``max_task_retries``); an entry is either complete or absent, so a worker killed
mid-shard (``kill -9``) leaves at most temporary files, and its shard is redone. A re-run
dispatches only the shards that are still missing.

Without a store (``cache=False``) the workers write into a temporary store, removed after
the vectors are read back into memory (workers on other machines need a shared path).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..encode.store import Store, entry_name

WRITER_FILE = "writer.json"


def shard_complete(store: Store, base_key: str, shard_key: str, wanted: Sequence[tuple[str, int]]) -> bool:
    d = store._dir(base_key, shard_key)
    return all((d / f"{entry_name(*k)}.json").is_file() and (d / f"{entry_name(*k)}.npy").is_file() for k in wanted)


def check_texts(texts: list[Any], pretokenized: bool) -> None:
    """The item checks of ``Extractor.encode`` (before any work is sent out)."""
    from ..errors import InputError

    for i, t in enumerate(texts):
        ok = (not isinstance(t, str) and all(isinstance(w, str) for w in t)) if pretokenized else isinstance(t, str)
        if not ok:
            what = "is not a list of words" if pretokenized else f"is a {type(t).__name__}, not a string"
            raise InputError(f"item {i} {what}", path="<input>", line=i + 1)


class _Worker:
    """A Ray actor: one encoder, one Extractor, one store (see the module docstring)."""

    def __init__(self, encoder: Any, config: Any, store_root: str, threads: int | None, device: str | None) -> None:
        import torch

        from ..encode.extractor import Extractor

        torch.set_num_threads(int(threads or 1))
        if device and device != "cpu":
            encoder.model.to(device)
        self.store = Store(store_root)
        self.ex = Extractor(encoder, config, store=self.store, device=device, progress=False)
        self.seconds = 0.0

    def encode_shard(self, i: int, texts: list[Any], pretokenized: bool, pause: dict[str, Any] | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        before = self.ex.stats["shards_computed"]
        if pause and pause.get("shard") == i and not Path(pause["pid_file"]).exists():
            self.ex.store = _PausingStore(self.store, pause["pid_file"], float(pause.get("seconds", 120)))
        try:
            corpus = self.ex.encode(texts, pretokenized=pretokenized)
        finally:
            self.ex.store = self.store
        computed = self.ex.stats["shards_computed"] - before
        dt = time.perf_counter() - t0
        self.seconds += dt
        info = {"shard": i, "pid": os.getpid(), "host": socket.gethostname(), "computed": computed,
                "seconds": dt, "n": len(texts)}
        if computed:
            from ..io import atomic_write_json

            d = self.store._dir(corpus.config_key, _shard_key(corpus.config_key, texts, pretokenized))
            atomic_write_json(d / WRITER_FILE, {**info, "time": time.time()})
        return info

    def peak_rss_mb(self) -> float:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    def pid(self) -> int:
        return os.getpid()


class _PausingStore:
    """Test hook: write the first entry of a shard, record this process's pid, then wait
    (to be killed from outside with SIGKILL, mid-shard)."""

    def __init__(self, store: Store, pid_file: str, seconds: float) -> None:
        self._s, self._pid_file, self._seconds = store, pid_file, seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)

    def put(self, base_key: str, shard_key: str, entries: dict[Any, np.ndarray], meta: dict[str, Any]) -> Any:
        keys = list(entries)
        out = self._s.put(base_key, shard_key, {keys[0]: entries[keys[0]]}, meta)
        from ..io import atomic_write_text

        atomic_write_text(Path(self._pid_file), str(os.getpid()))
        time.sleep(self._seconds)
        out.update(self._s.put(base_key, shard_key, {k: entries[k] for k in keys[1:]}, meta))
        return out


def _shard_key(ckey: str, texts: Sequence[Any], pretokenized: bool) -> str:
    from ..encode.extractor import _shard_key as key

    return key(ckey, texts, pretokenized)


class RayExtractor:
    """``encode`` like an :class:`~mbert_lab.encode.extractor.Extractor`, with the missing
    shards computed by ``workers`` Ray actors of ``threads`` CPU threads each (default: the
    cluster's CPUs / threads). Use inside :func:`~.cluster.ray_session`; ``close()`` (or a
    ``with`` block) ends the actors. ``stats``: shards planned / dispatched / computed by
    workers, the writer pids, and the shards the driver had to recompute (0 when all is well).
    """

    def __init__(self, local: Any, *, workers: int | None = None, threads: int | None = None,
                 pause: dict[str, Any] | None = None) -> None:
        import tempfile

        self.local = local
        self.workers, self.threads, self.pause = workers, threads, pause
        self._tmp = None
        if local.store is None:  # no cache: the workers need a store to write into
            self._tmp = tempfile.TemporaryDirectory(prefix="mbert-lab-ray-")
            local.store = Store(self._tmp.name)
        self._actors: list[Any] = []
        self.stats: dict[str, Any] = {"shards": 0, "dispatched": 0, "computed_by_workers": 0, "writers": set(),
                                      "driver_recomputed": 0, "worker_seconds": 0.0, "shard_seconds": []}

    # -- actors --------------------------------------------------------------------
    def _pool(self, n_needed: int) -> list[Any]:
        import ray

        if not self._actors:
            threads = int(self.threads or 1)
            fit = max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)  # actors hold their CPUs:
            n = max(1, min(self.workers or fit, fit, n_needed))  # more than fit would wait forever
            gpu = 1 if str(self.local.device).startswith("cuda") else 0
            actor = ray.remote(_Worker).options(num_cpus=threads, num_gpus=gpu, max_restarts=4, max_task_retries=4)
            enc = self._enc_ref = ray.put(self.local.encoder)  # kept alive: restarts need it
            root = str(self.local.store.root.resolve())
            self._actors = [actor.remote(enc, self.local.config, root, threads, self.local.device) for _ in range(n)]
        return self._actors

    def peak_rss_mb(self) -> list[float]:
        import ray

        return ray.get([a.peak_rss_mb.remote() for a in self._actors])

    def close(self) -> None:
        import ray

        for a in self._actors:
            ray.kill(a)
        self._actors = []
        self.cleanup()

    def __enter__(self) -> RayExtractor:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- encode --------------------------------------------------------------------
    def encode(self, texts: Sequence[Any], pretokenized: bool | None = None, desc: str = "encoding") -> Any:
        texts = list(texts)
        if pretokenized is None:
            pretokenized = bool(texts) and not isinstance(texts[0], str)
        check_texts(texts, pretokenized)
        ex = self.local
        ckey = ex.config_key(pretokenized)
        plan = ex._plan_shards(ex.tokenize(texts, pretokenized))
        wanted = [(name, layer) for layer in ex.config.layers for name in ex.config.entry_names()]
        todo = [(i, lo, hi) for i, (lo, hi) in enumerate(plan)
                if not shard_complete(ex.store, ckey, _shard_key(ckey, texts[lo:hi], pretokenized), wanted)]
        self.stats["shards"] += len(plan)
        self.stats["dispatched"] += len(todo)
        if todo:
            self._run(todo, texts, pretokenized)
        before = ex.stats["shards_computed"]
        corpus = ex.encode(texts, pretokenized=pretokenized, desc=desc)
        self.stats["driver_recomputed"] += ex.stats["shards_computed"] - before
        if self._tmp is not None:
            _load_into_memory(corpus)
        return corpus

    def _run(self, todo: list[tuple[int, int, int]], texts: list[Any], pretokenized: bool) -> None:
        from ray.util import ActorPool

        pool = ActorPool(self._pool(len(todo)))
        jobs = [(i, texts[lo:hi]) for i, lo, hi in todo]
        for info in pool.map_unordered(lambda a, j: a.encode_shard.remote(j[0], j[1], pretokenized, self.pause), jobs):
            self.stats["computed_by_workers"] += info["computed"]
            self.stats["worker_seconds"] += info["seconds"]
            if info["computed"]:
                self.stats["writers"].add(info["pid"])
                self.stats["shard_seconds"].append((info["n"], info["seconds"]))

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _load_into_memory(corpus: Any) -> None:
    """Memory-mapped entries of a temporary store -> arrays in memory (before it is removed)."""
    for s in corpus.shards:
        for k, v in list(s.vectors.items()):
            s.vectors[k] = np.array(v)


def writers_in_store(root: str | Path) -> dict[str, dict[str, Any]]:
    """shard folder -> its ``writer.json`` (the worker that wrote it), for every shard."""
    out = {}
    for p in Path(root).glob(f"*/*/{WRITER_FILE}"):
        out[str(p.parent)] = json.loads(p.read_text(encoding="utf-8"))
    return out
