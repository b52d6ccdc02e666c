"""Rows of a vector matrix that Ray tasks read themselves: :class:`RowSource`.

A source is a list of segments in row order, each a ``.npy`` file of the vector store
(memory-mapped where it is read; an encoded corpus from a store gives its entries' paths) or
an array in Ray's object store (vectors that only exist in memory); plus, optionally, a
vector subtracted from every row (``center``). The driver passes a source (paths, row
counts, references: a few bytes per shard) to its tasks and each task reads the rows it
needs, so no one gathers the whole matrix.

:func:`sequential_mean` is ``x.mean(axis=0)`` over a source (per group of rows with
``groups``) read a block at a time: the same float32 sums in the same row order as NumPy's
reduction over the whole matrix, so the result is bit-identical to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BLOCK = 65536  # rows read at a time


class RowSource:
    """``len()``, ``shape``, ``ndim`` and ``x[rows]`` (a slice or an index array) like a 2-D
    float32 array whose rows live in segments (see the module docstring)."""

    def __init__(self, segments: Sequence[tuple[Any, int]], dim: int, sub: np.ndarray | None = None) -> None:
        self.segments = [(s, int(n)) for s, n in segments]
        self.starts = np.cumsum([0] + [n for _, n in self.segments])
        self.shape = (int(self.starts[-1]), int(dim))
        self.ndim = 2
        self.sub = None if sub is None else np.asarray(sub, np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every row, here (``np.asarray(source)``: for the callers that need the matrix)."""
        x = self[:]
        return x if dtype is None else x.astype(dtype)

    def centered(self, mean: np.ndarray) -> RowSource:
        """The same rows minus ``mean`` (float32, as ``x - mean`` gives)."""
        return RowSource(self.segments, self.shape[1], mean)

    @classmethod
    def from_array(cls, x: np.ndarray) -> RowSource:
        """An in-memory matrix, put in Ray's object store once."""
        import ray

        x = np.asarray(x, np.float32)
        return cls([(ray.put(np.ascontiguousarray(x)), len(x))], x.shape[1] if x.ndim == 2 else 0)

    @classmethod
    def from_corpus(cls, corpus: Any, entry: str, layer: int) -> RowSource:
        """The rows of one entry (``sentence_mean``, ``word.mean`` ...) and layer of an encoded
        corpus, shard after shard: the store's files of memory-mapped entries, the others
        put in Ray's object store."""
        import ray

        segs: list[tuple[Any, int]] = []
        dim = 0
        for s in corpus.shards:
            v = s.vectors[(entry, layer)]
            dim = int(v.shape[1])
            segs.append((str(v.filename), len(v)) if isinstance(v, np.memmap) and v.filename else
                        (ray.put(np.ascontiguousarray(v)), len(v)))
        return cls(segs, dim)

    def _segment(self, k: int) -> np.ndarray:
        src = self.segments[k][0]
        if isinstance(src, str):
            return np.load(src, mmap_mode="r", allow_pickle=False)
        import ray

        return ray.get(src)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, slice):
            lo, hi, step = key.indices(len(self))
            idx = np.arange(lo, hi, step)
        else:
            idx = np.asarray(key, np.int64).reshape(-1)
        out = np.empty((len(idx), self.shape[1]), np.float32)
        seg = np.searchsorted(self.starts, idx, side="right") - 1
        for k in np.unique(seg):
            m = seg == k
            out[m] = np.asarray(self._segment(int(k))[idx[m] - self.starts[k]], np.float32)
        return out - self.sub if self.sub is not None else out


def sequential_mean(x: Any, groups: Sequence[str] | None = None) -> Any:
    """``x.mean(axis=0)`` (``groups``: ``{g: x[groups == g].mean(axis=0)}`` for every group,
    sorted) over a source read a block at a time, bit-identical to NumPy on the whole matrix."""
    ga = None if groups is None else np.asarray(groups)
    keys = [None] if ga is None else sorted(set(ga.tolist()))
    acc: dict[Any, np.ndarray] = {}
    count = dict.fromkeys(keys, 0)
    for lo in range(0, len(x), BLOCK):
        blk = np.asarray(x[lo: lo + BLOCK], np.float32)
        for g in keys:
            rows = blk if g is None else blk[ga[lo: lo + BLOCK] == g]
            if not len(rows):
                continue
            acc[g] = np.add.reduce(rows if g not in acc else np.concatenate([acc[g][None], rows]), axis=0)
            count[g] += len(rows)
    means = {g: np.true_divide(acc[g], count[g], dtype=np.float32) for g in keys}
    return means[None] if groups is None else means
