"""On-disk vector store: one memory-mapped array per (text shard, output, layer).

Layout::

    <root>/<base_key[:24]>/config.json                what the key was made of (for humans)
    <root>/<base_key[:24]>/<shard_key[:32]>/          one shard of texts
        sentence_mean.L8.npy      [n, H]               one file per output and layer
        sentence_cls.L8.npy       [n, H]
        sentence_mean_all.L8.npy  [n, H]
        subword.L8.npy            [n_subwords, H]      (if requested)
        word.mean.L8.npy          [n_words, H]         (word pooling in the name; if requested)
        <each>.json               sha256, shape, dtype of its .npy; written after it

The base key hashes everything that changes a vector except the layer and the output (model
id, revision, weights hash, tokenizer fingerprint, max length, window policy, compute dtype,
storage dtype, whether input was pre-tokenized); the shard key adds the shard's texts; the
file name adds the output (with its pooling) and the layer. So any layer already computed
for a text is reused whatever other layers were asked for with it, and a request for one
more layer computes only that layer. Tokens, word ids and offsets are not stored: they come
from the tokenizer (its fingerprint is in the key), which runs on every call anyway.

Each file is written to a private temporary sibling and renamed into place (then its
manifest, the same way), so an entry is either complete or absent: a killed run resumes
with every entry that finished. On read, the sha256 of the file is checked against its
manifest; a mismatch (a corrupted entry) is reported, the entry removed and recomputed.
Files and folders get the modes the umask gives (``mbert_lab.io.publish_mode``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write_json, publish_mode, sha256_file

log = logging.getLogger(__name__)

SCHEMA = 2  # 1: one directory per (layer set, shard) with all layers in each array
_DIR_SCHEMA = 1  # write_shard / read_shard: a directory of arrays with one manifest
_META_FILE = "texts.json"
_MANIFEST = "manifest.json"

EntryKey = tuple[str, int]  # (output name, layer)


@dataclass
class ShardArrays:
    """One shard: per-text arrays (offsets, ids, ...), per-text metadata (tokens, words) and
    the vectors, ``vectors[(name, layer)]`` = [rows, H] (in memory or memory-mapped)."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    vectors: dict[EntryKey, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(len(self.arrays["subword_offsets"]) - 1)


class CorruptShardError(Exception):
    pass


def entry_name(name: str, layer: int) -> str:
    return f"{name}.L{int(layer)}"


class Store:
    """A directory of vector entries. ``verify``: check the sha256 of every file on read.

    ``stats`` counts entries (one output of one layer of one shard): ``hits``, ``misses``,
    ``corrupt`` and ``writes``. Entries of at least ``mmap_min_bytes`` are memory-mapped
    (token vectors of large corpora stay on disk); smaller ones (sentence pools) are read
    into memory in one pass that also checks their sha256, so they hold no file descriptor.
    A memory map holds one, so the store raises the soft limit on open files to the hard one.
    """

    def __init__(self, root: str | Path, verify: bool = True, mmap_min_bytes: int = 1 << 20) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.verify = verify
        self.mmap_min_bytes = int(mmap_min_bytes)
        self.stats = {"hits": 0, "misses": 0, "corrupt": 0, "writes": 0}
        _raise_open_files_limit()

    def _dir(self, base_key: str, shard_key: str) -> Path:
        return self.root / base_key[:24] / shard_key[:32]

    def get(self, base_key: str, shard_key: str, wanted: list[EntryKey]) -> dict[EntryKey, np.ndarray]:
        """The wanted entries that are stored and intact (memory-mapped); the rest are absent."""
        d = self._dir(base_key, shard_key)
        out: dict[EntryKey, np.ndarray] = {}
        have = d.is_dir()
        for key in wanted:
            arr = self._read(d, entry_name(*key)) if have else None
            if arr is None:
                self.stats["misses"] += 1
            else:
                self.stats["hits"] += 1
                out[key] = arr
        return out

    def _read(self, d: Path, stem: str) -> np.ndarray | None:
        man, npy = d / f"{stem}.json", d / f"{stem}.npy"
        if not man.exists():
            return None
        try:
            info = json.loads(man.read_text(encoding="utf-8"))
            if info.get("schema") != SCHEMA:
                raise CorruptShardError(f"schema {info.get('schema')} != {SCHEMA}")
            if not npy.exists():
                raise CorruptShardError("missing data file")
            if npy.stat().st_size < self.mmap_min_bytes:
                data = npy.read_bytes()
                if self.verify and hashlib.sha256(data).hexdigest() != info["sha256"]:
                    raise CorruptShardError("checksum mismatch")
                arr = np.load(io.BytesIO(data), allow_pickle=False)
            else:
                if self.verify and sha256_file(npy) != info["sha256"]:
                    raise CorruptShardError("checksum mismatch")
                arr = np.load(npy, mmap_mode="r", allow_pickle=False)
            if list(arr.shape) != info["shape"] or str(arr.dtype) != info["dtype"]:
                raise CorruptShardError("shape or dtype mismatch")
        except (OSError, ValueError, KeyError, CorruptShardError) as e:
            log.warning("corrupted cache entry %s/%s (%s): recomputing", d, stem, e)
            self.stats["corrupt"] += 1
            for p in (man, npy):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
            return None
        return arr

    def put(
        self, base_key: str, shard_key: str, entries: dict[EntryKey, np.ndarray], meta: dict[str, Any]
    ) -> dict[EntryKey, np.ndarray]:
        """Write entries (each atomically: data, then its manifest); returns them memory-mapped."""
        d = self._dir(base_key, shard_key)
        d.mkdir(parents=True, exist_ok=True)
        cfg = d.parent / "config.json"
        if not cfg.exists():
            atomic_write_json(cfg, {"base_key": base_key, "schema": SCHEMA, **meta})
        out: dict[EntryKey, np.ndarray] = {}
        for key, arr in entries.items():
            stem = entry_name(*key)
            npy = d / f"{stem}.npy"
            arr = np.ascontiguousarray(arr)
            _write_atomic(npy, lambda f, a=arr: np.save(f, a, allow_pickle=False))
            info = {"schema": SCHEMA, "sha256": sha256_file(npy), "shape": list(arr.shape), "dtype": str(arr.dtype)}
            text = json.dumps(info).encode()
            _write_atomic(d / f"{stem}.json", lambda f, t=text: f.write(t))
            self.stats["writes"] += 1
            big = arr.nbytes >= self.mmap_min_bytes
            out[key] = np.load(npy, mmap_mode="r", allow_pickle=False) if big else arr
        return out


def _raise_open_files_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit (each memory-mapped entry keeps a descriptor)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):  # not on this OS, or not allowed: keep it
        pass


def _write_atomic(path: Path, write: Any) -> None:
    """Write through ``write(binary file)`` into a private temporary sibling, give it the
    umask's mode and rename it into place (no fsync: a torn file after a power cut fails its
    checksum and is recomputed)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_shard(final: Path, shard: ShardArrays) -> None:
    """A directory of arrays with one manifest (the schema-1 unit, for tools that ship a set
    of arrays together): written into a temporary sibling directory, then renamed into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        files: dict[str, Any] = {}
        for name, arr in shard.arrays.items():
            p = tmp / f"{name}.npy"
            np.save(p, np.ascontiguousarray(arr), allow_pickle=False)
            files[p.name] = {"sha256": sha256_file(p), "shape": list(arr.shape), "dtype": str(arr.dtype)}
        p = tmp / _META_FILE
        p.write_text(json.dumps(shard.meta, ensure_ascii=False), encoding="utf-8")
        files[p.name] = {"sha256": sha256_file(p)}
        (tmp / _MANIFEST).write_text(json.dumps({"schema": _DIR_SCHEMA, "files": files}, indent=1))
        publish_mode(tmp)  # mkdtemp makes it 0700; the umask decides, as for any folder
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(final)  # a stale partial directory from an older layout
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_shard(d: Path, verify: bool = True) -> ShardArrays:
    try:
        manifest = json.loads((d / _MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise CorruptShardError(f"unreadable manifest: {e}") from e
    if manifest.get("schema") != _DIR_SCHEMA:
        raise CorruptShardError(f"schema {manifest.get('schema')} != {_DIR_SCHEMA}")
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for fname, info in manifest["files"].items():
        p = d / fname
        if not p.exists():
            raise CorruptShardError(f"missing file {fname}")
        if verify and sha256_file(p) != info["sha256"]:
            raise CorruptShardError(f"checksum mismatch in {fname}")
        if fname == _META_FILE:
            try:
                meta = json.loads(p.read_text(encoding="utf-8"))
            except ValueError as e:
                raise CorruptShardError(f"bad {fname}: {e}") from e
            continue
        try:
            arr = np.load(p, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise CorruptShardError(f"bad {fname}: {e}") from e
        if list(arr.shape) != info["shape"]:
            raise CorruptShardError(f"shape mismatch in {fname}")
        arrays[fname[: -len(".npy")]] = arr
    return ShardArrays(arrays=arrays, meta=meta)


_SENTENCE_KEYS = {"mean": "sentence_mean", "cls": "sentence_cls", "mean_all": "sentence_mean_all"}


@dataclass
class EncodedCorpus:
    """Vectors for a corpus, as a list of shards (memory-mapped when they come from a store).

    Layer arguments are model layer numbers (0 = embeddings), not positions. ``word_key``: the
    entry name of the word vectors (it carries the word pooling).
    """

    layers: tuple[int, ...]
    shards: list[ShardArrays]
    config_key: str = ""
    word_key: str = "word"
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = [0]
        for s in self.shards:
            self._starts.append(self._starts[-1] + s.n)

    def __len__(self) -> int:
        return self._starts[-1]

    def _check(self, layer: int) -> int:
        if layer not in self.layers:
            raise KeyError(f"layer {layer} was not extracted (have {list(self.layers)})")
        return layer

    def _locate(self, i: int) -> tuple[ShardArrays, int]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        import bisect

        k = bisect.bisect_right(self._starts, i) - 1
        return self.shards[k], i - self._starts[k]

    def _name(self, output: str) -> str:
        return self.word_key if output == "word" else output

    def has(self, output: str) -> bool:
        name = "sentence_mean" if output == "sentence" else self._name(output)
        return bool(self.shards) and (name, self.layers[0]) in self.shards[0].vectors

    def _rows(self, i: int, output: str, layer: int) -> np.ndarray:
        s, j = self._locate(i)
        off = s.arrays["word_offsets" if output == "word" else "subword_offsets"]
        return np.asarray(s.vectors[(self._name(output), self._check(layer))][off[j] : off[j + 1]], dtype=np.float32)

    def sentence(self, layer: int, pooling: str = "mean") -> np.ndarray:
        """[N, H] float32 sentence vectors: pooling 'mean' (content tokens), 'cls' or 'mean_all'."""
        self._check(layer)
        key = _SENTENCE_KEYS.get(pooling)
        if key is None:
            from ..errors import choice_error

            raise choice_error("sentence pooling", pooling, tuple(_SENTENCE_KEYS))
        if not self.shards:
            return np.zeros((0, 0), np.float32)
        return np.concatenate([np.asarray(s.vectors[(key, layer)], dtype=np.float32) for s in self.shards])

    def words(self, i: int, layer: int) -> np.ndarray:
        """[n_words, H] word vectors of sentence ``i``."""
        return self._rows(i, "word", layer)

    def subwords(self, i: int, layer: int) -> np.ndarray:
        """[n_subwords, H] subword vectors of sentence ``i`` (content tokens, no specials)."""
        return self._rows(i, "subword", layer)

    def subwords_all_layers(self, i: int) -> np.ndarray:
        """[L, n_subwords, H] for sentence ``i`` (all extracted layers)."""
        return np.stack([self._rows(i, "subword", layer) for layer in self.layers])

    def words_all_layers(self, i: int) -> np.ndarray:
        return np.stack([self._rows(i, "word", layer) for layer in self.layers])

    def word_matrix(self, layer: int) -> np.ndarray:
        """[total_words, H]: every word vector of the corpus, sentence by sentence."""
        key = (self.word_key, self._check(layer))
        return np.concatenate([np.asarray(s.vectors[key], dtype=np.float32) for s in self.shards])

    def tokens(self, i: int) -> list[str]:
        s, j = self._locate(i)
        return list(s.meta["tokens"][j])

    def words_text(self, i: int) -> list[str]:
        s, j = self._locate(i)
        return list(s.meta["words"][j])

    def _ids(self, i: int, name: str) -> np.ndarray:
        s, j = self._locate(i)
        off = s.arrays["subword_offsets"]
        return np.asarray(s.arrays[name][off[j] : off[j + 1]])

    def input_ids(self, i: int) -> np.ndarray:
        return self._ids(i, "input_ids")

    def word_ids(self, i: int) -> np.ndarray:
        """Word index per content subword (-1: belongs to no word)."""
        return self._ids(i, "word_ids")

    def pooled_mask(self, i: int) -> np.ndarray:
        """True for subwords that enter word pooling (False: a lone '▁' marker piece)."""
        return self._ids(i, "pooled_mask").astype(bool)

    def iter_sentences(self) -> Iterator[int]:
        return iter(range(len(self)))
