"""On-disk vector store: sharded, memory-mapped arrays with a manifest per shard.

Layout::

    <root>/<config_key[:24]>/config.json          what the key was made of (for humans)
    <root>/<config_key[:24]>/<shard_key>/         one shard, written atomically
        sentence_mean.npy  [L, n, H]               one layer is contiguous: arr[li]
        sentence_cls.npy   [L, n, H]
        sentence_mean_all.npy [L, n, H]
        word.npy           [L, n_words, H]         (if requested)
        subword.npy        [L, n_subwords, H]      (if requested)
        input_ids.npy, word_ids.npy, pooled_mask.npy, subword_offsets.npy, word_offsets.npy
        texts.json         tokens and words per sentence
        manifest.json      sha256 and shape of every file; written last

The config key hashes everything that changes a vector (model id, revision, weights hash,
tokenizer fingerprint, layers, outputs, pooling, max length, window policy, dtype, whether
input was pre-tokenized); the shard key adds the shard's texts. A shard is written into a
temporary directory and renamed into place, so it is either complete or absent: a killed
run resumes with the shards that finished. On read, each file's sha256 is checked against
the manifest; a mismatch (a corrupted shard) is reported, the shard removed and recomputed.
Shards are independent of each other, so separate processes can write them in parallel.
"""

from __future__ import annotations

import contextlib
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

SCHEMA = 1
_META_FILE = "texts.json"
_MANIFEST = "manifest.json"


@dataclass
class ShardArrays:
    """The arrays of one shard (in memory or memory-mapped) plus per-sentence metadata."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]

    @property
    def n(self) -> int:
        return int(len(self.arrays["subword_offsets"]) - 1)


class CorruptShardError(Exception):
    pass


class Store:
    """A directory of shards. ``verify``: check sha256 of every file on read (default)."""

    def __init__(self, root: str | Path, verify: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.verify = verify
        self.stats = {"hits": 0, "misses": 0, "corrupt": 0, "writes": 0}

    def _dir(self, config_key: str, shard_key: str) -> Path:
        return self.root / config_key[:24] / shard_key[:32]

    def get(self, config_key: str, shard_key: str) -> ShardArrays | None:
        d = self._dir(config_key, shard_key)
        if not (d / _MANIFEST).exists():
            self.stats["misses"] += 1
            return None
        try:
            shard = read_shard(d, verify=self.verify)
        except CorruptShardError as e:
            log.warning("corrupted cache shard %s (%s): recomputing", d, e)
            self.stats["corrupt"] += 1
            self.stats["misses"] += 1
            shutil.rmtree(d, ignore_errors=True)
            return None
        self.stats["hits"] += 1
        return shard

    def put(self, config_key: str, shard_key: str, shard: ShardArrays, meta: dict[str, Any]) -> Path:
        d = self._dir(config_key, shard_key)
        d.parent.mkdir(parents=True, exist_ok=True)
        cfg = d.parent / "config.json"
        if not cfg.exists():
            atomic_write_json(cfg, {"config_key": config_key, **meta})
        write_shard(d, shard)
        self.stats["writes"] += 1
        return d


def write_shard(final: Path, shard: ShardArrays) -> None:
    """Write all files into a temporary sibling directory, then rename it into place."""
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
        (tmp / _MANIFEST).write_text(json.dumps({"schema": SCHEMA, "files": files}, indent=1))
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
    if manifest.get("schema") != SCHEMA:
        raise CorruptShardError(f"schema {manifest.get('schema')} != {SCHEMA}")
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


@dataclass
class EncodedCorpus:
    """Vectors for a corpus, as a list of shards (memory-mapped when they come from a store).

    Layer arguments are model layer numbers (0 = embeddings), not positions.
    """

    layers: tuple[int, ...]
    shards: list[ShardArrays]
    config_key: str = ""
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = [0]
        for s in self.shards:
            self._starts.append(self._starts[-1] + s.n)

    def __len__(self) -> int:
        return self._starts[-1]

    def _li(self, layer: int) -> int:
        if layer not in self.layers:
            raise KeyError(f"layer {layer} was not extracted (have {list(self.layers)})")
        return self.layers.index(layer)

    def _locate(self, i: int) -> tuple[ShardArrays, int]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        import bisect

        k = bisect.bisect_right(self._starts, i) - 1
        return self.shards[k], i - self._starts[k]

    def has(self, output: str) -> bool:
        return bool(self.shards) and output in self.shards[0].arrays

    def sentence(self, layer: int, pooling: str = "mean") -> np.ndarray:
        """[N, H] float32 sentence vectors: pooling 'mean' (content tokens), 'cls' or 'mean_all'."""
        li = self._li(layer)
        key = {"mean": "sentence_mean", "cls": "sentence_cls", "mean_all": "sentence_mean_all"}.get(pooling)
        if key is None:
            from ..errors import choice_error

            raise choice_error("sentence pooling", pooling, ("mean", "cls", "mean_all"))
        if not self.shards:
            return np.zeros((0, 0), np.float32)
        return np.concatenate([np.asarray(s.arrays[key][li], dtype=np.float32) for s in self.shards])

    def words(self, i: int, layer: int) -> np.ndarray:
        """[n_words, H] word vectors of sentence ``i``."""
        s, j = self._locate(i)
        off = s.arrays["word_offsets"]
        return np.asarray(s.arrays["word"][self._li(layer), off[j] : off[j + 1]], dtype=np.float32)

    def subwords(self, i: int, layer: int) -> np.ndarray:
        """[n_subwords, H] subword vectors of sentence ``i`` (content tokens, no specials)."""
        s, j = self._locate(i)
        off = s.arrays["subword_offsets"]
        return np.asarray(s.arrays["subword"][self._li(layer), off[j] : off[j + 1]], dtype=np.float32)

    def subwords_all_layers(self, i: int) -> np.ndarray:
        """[L, n_subwords, H] for sentence ``i`` (all extracted layers)."""
        s, j = self._locate(i)
        off = s.arrays["subword_offsets"]
        return np.asarray(s.arrays["subword"][:, off[j] : off[j + 1]], dtype=np.float32)

    def words_all_layers(self, i: int) -> np.ndarray:
        s, j = self._locate(i)
        off = s.arrays["word_offsets"]
        return np.asarray(s.arrays["word"][:, off[j] : off[j + 1]], dtype=np.float32)

    def word_matrix(self, layer: int) -> np.ndarray:
        """[total_words, H]: every word vector of the corpus, sentence by sentence."""
        li = self._li(layer)
        return np.concatenate([np.asarray(s.arrays["word"][li], dtype=np.float32) for s in self.shards])

    def tokens(self, i: int) -> list[str]:
        s, j = self._locate(i)
        return list(s.meta["tokens"][j])

    def words_text(self, i: int) -> list[str]:
        s, j = self._locate(i)
        return list(s.meta["words"][j])

    def input_ids(self, i: int) -> np.ndarray:
        s, j = self._locate(i)
        off = s.arrays["subword_offsets"]
        return np.asarray(s.arrays["input_ids"][off[j] : off[j + 1]])

    def word_ids(self, i: int) -> np.ndarray:
        """Word index per content subword (-1: belongs to no word)."""
        s, j = self._locate(i)
        off = s.arrays["subword_offsets"]
        return np.asarray(s.arrays["word_ids"][off[j] : off[j + 1]])

    def pooled_mask(self, i: int) -> np.ndarray:
        """True for subwords that enter word pooling (False: a lone '▁' marker piece)."""
        s, j = self._locate(i)
        off = s.arrays["subword_offsets"]
        return np.asarray(s.arrays["pooled_mask"][off[j] : off[j + 1]]).astype(bool)

    def iter_sentences(self) -> Iterator[int]:
        return iter(range(len(self)))
