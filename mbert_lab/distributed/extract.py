"""Extraction on Ray: a pool of model actors tokenizes the corpus and writes the missing
shards of the vector store.

The corpus is a list of blocks in Ray's object store (:mod:`.corpus`): a text file read as a
Ray dataset by Ray tasks, or the caller's list put there in blocks. The actors tokenize each
block and send back its texts' token counts (one integer per text), from which the driver
plans the shards exactly as :class:`~mbert_lab.encode.extractor.Extractor` does (the plan
is the same greedy cut over the token counts, so the shards are the single process's).
Each shard (block references and row ranges, no texts) goes to an actor, which holds one
model (loaded once: the driver's encoder, shipped once through the object store) and runs
an ordinary ``Extractor`` over its texts writing into the same store (``Store.put``: one
atomic file per output and layer, then its manifest; a shard already complete is read, not
computed), writes ``writer.json`` beside the entries (pid, host, time) when it computed,
and returns the shard's key and per-text arrays (token ids, tokens, words, offsets). The
driver reads every entry back (sha256-verified; a corrupted entry is removed and its shard
sent out again) and assembles the corpus: it never tokenizes, and with a file it never
reads a text.

Fault tolerance: actors are restarted by Ray (``max_restarts``) and their pending shard is
retried (``max_task_retries``); an entry is either complete or absent, so a worker killed
mid-shard (``kill -9``) leaves at most temporary files, and its shard is redone. A re-run
computes only the shards that are still missing (the others are only tokenized).

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
        self._blocks: dict[str, list[Any]] = {}

    def _texts(self, slices: list[tuple[Any, int, int]], words: bool) -> list[Any]:
        """The texts of ``(block reference, start row, end row)`` runs (the last blocks kept)."""
        import ray

        from .corpus import block_texts

        out: list[Any] = []
        for ref, lo, hi in slices:
            key = ref.hex()
            if key not in self._blocks:
                if len(self._blocks) >= 2:
                    self._blocks.pop(next(iter(self._blocks)))
                self._blocks[key] = block_texts(ray.get(ref), words)
            out += self._blocks[key][lo:hi]
        return out

    def scan(self, block: Any, words: bool, pretokenized: bool) -> np.ndarray:
        """A block's token counts: content tokens per text, as the shard plan counts them."""
        from .corpus import block_texts

        tk = self.ex.tokenize(block_texts(block, words), pretokenized)
        return np.asarray([len(x) for x in tk.ids], np.int32)

    def encode_shard(self, i: int, slices: list[tuple[Any, int, int]], pretokenized: bool, words: bool,
                     pause: dict[str, Any] | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        texts = self._texts(slices, words)
        ckey = self.ex.config_key(pretokenized)
        skey = _shard_key(ckey, texts, pretokenized)
        wanted = [(name, layer) for layer in self.ex.config.layers for name in self.ex.config.entry_names()]
        missing = not shard_complete(self.store, ckey, skey, wanted)
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

            atomic_write_json(self.store._dir(ckey, skey) / WRITER_FILE, {**info, "time": time.time()})
        (shard,) = corpus.shards
        return {**info, "missing": missing, "shard_key": skey, "arrays": shard.arrays, "meta": shard.meta}

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


class _Counts:
    """Token counts standing in for tokenized texts (``Extractor._plan_shards`` reads only
    ``len()`` of each text's ids)."""

    def __init__(self, lengths: np.ndarray) -> None:
        self.ids = _Lens(lengths)


class _Lens:
    def __init__(self, lengths: np.ndarray) -> None:
        self._n = lengths

    def __len__(self) -> int:
        return len(self._n)

    def __iter__(self) -> Any:
        return (range(int(n)) for n in self._n)


def _slices(blocks: list[Any], starts: np.ndarray, lo: int, hi: int) -> list[tuple[Any, int, int]]:
    """Rows ``lo:hi`` of the corpus as ``(block, start row, end row)`` runs."""
    out = []
    k = int(np.searchsorted(starts, lo, side="right")) - 1
    while lo < hi and k < len(blocks):
        a, b = max(lo, int(starts[k])), min(hi, int(starts[k + 1]))
        if b > a:
            out.append((blocks[k], a - int(starts[k]), b - int(starts[k])))
        lo, k = b, k + 1
    return out


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
    def _pool(self, n_needed: int | None) -> list[Any]:
        import ray

        if not self._actors:
            threads = int(self.threads or 1)
            fit = max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)  # actors hold their CPUs:
            n = max(1, min(self.workers or fit, fit, n_needed or fit))  # more than fit would wait forever
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
    def encode(self, texts: Any, pretokenized: bool | None = None, desc: str = "encoding") -> Any:
        """Encode a list of texts (strings, or word lists when ``pretokenized``) or a
        :class:`~.corpus.LineFile` (read on the cluster); see the module docstring."""
        from ray.util import ActorPool

        from ..encode.store import EncodedCorpus
        from .corpus import LineFile, check_blocks, file_blocks, list_blocks

        is_file = isinstance(texts, LineFile)
        if is_file:
            pretokenized, n_hint = texts.words, None
            blocks = file_blocks(texts)
            check_blocks(texts.path, blocks)  # blank lines, bad UTF-8, empty: file:line, before any model work
        else:
            texts = list(texts)
            if pretokenized is None:
                pretokenized = bool(texts) and not isinstance(texts[0], str)
            check_texts(texts, pretokenized)
            blocks, n_hint = list_blocks(texts), len(texts)
        ex = self.local
        split = bool(is_file and pretokenized)  # file lines -> words, in the actors
        pool = ActorPool(self._pool(-(-n_hint // ex.config.shard_max_sentences) if n_hint is not None else None))
        counts = list(pool.map(lambda a, b: a.scan.remote(b, split, pretokenized), blocks))
        lengths = np.concatenate(counts) if counts else np.zeros(0, np.int32)
        plan = ex._plan_shards(_Counts(lengths))
        starts = np.cumsum([0] + [len(c) for c in counts])
        jobs = [(i, _slices(blocks, starts, lo, hi)) for i, (lo, hi) in enumerate(plan)]
        self.stats["shards"] += len(plan)
        got = self._run(pool, jobs, pretokenized, split)
        ckey = ex.config_key(pretokenized)
        shards = self._read_back(pool, ckey, jobs, got, pretokenized, split)
        corpus = EncodedCorpus(layers=ex.config.layers, shards=shards, config_key=ckey, word_key=ex.config.word_entry())
        if self._tmp is not None:
            _load_into_memory(corpus)
        return corpus

    def _run(self, pool: Any, jobs: list[tuple[int, Any]], pretokenized: bool, words: bool,
             pause: bool = True) -> dict[int, dict[str, Any]]:
        out = {}
        hook = self.pause if pause else None
        for info in pool.map_unordered(lambda a, j: a.encode_shard.remote(j[0], j[1], pretokenized, words, hook), jobs):
            out[info["shard"]] = info
            self.stats["dispatched"] += int(info["missing"])
            self.stats["computed_by_workers"] += info["computed"]
            self.stats["worker_seconds"] += info["seconds"]
            if info["computed"]:
                self.stats["writers"].add(info["pid"])
                self.stats["shard_seconds"].append((info["n"], info["seconds"]))
        return out

    def _read_back(self, pool: Any, ckey: str, jobs: list[tuple[int, Any]], got: dict[int, dict[str, Any]],
                   pretokenized: bool, words: bool) -> list[Any]:
        """Every shard's entries, sha256-verified and memory-mapped (not held in memory: Ray
        tasks that need the vectors read the files, :mod:`.rows`); shards with a corrupted
        entry (removed by the store) are sent out again, twice at most."""
        from ..encode.store import ShardArrays

        ex = self.local
        wanted = [(name, layer) for layer in ex.config.layers for name in ex.config.entry_names()]
        store = Store(ex.store.root, verify=ex.store.verify, mmap_min_bytes=0)  # verified, memory-mapped: not read in
        vectors: dict[int, Any] = {}
        todo = [j for j, _ in jobs]
        for attempt in range(3):
            bad = []
            for j in todo:
                v = store.get(ckey, got[j]["shard_key"], wanted)
                if len(v) == len(wanted):
                    vectors[j] = v
                else:
                    bad.append(j)
            if not bad:
                break
            if attempt == 2:
                raise RuntimeError(f"shards {bad} are still incomplete in {ex.store.root} after two retries")
            self.stats["driver_recomputed"] += len(bad)
            got.update(self._run(pool, [jobs[j] for j in bad], pretokenized, words, pause=False))
            todo = bad
        return [ShardArrays(arrays=got[j]["arrays"], meta=got[j]["meta"], vectors=vectors[j]) for j, _ in jobs]

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
