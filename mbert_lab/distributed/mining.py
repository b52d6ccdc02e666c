"""Margin mining on Ray: the k-NN queries of both directions are spread over Ray tasks that
read their vectors themselves; the driver receives k neighbours per query and scores.

The sides are :class:`~.rows.RowSource` s (the vector store's files of an encoded corpus, or
arrays put in the object store once), with centering (``transform='center'``) as a
subtracted mean computed by one Ray task (bit-identical to ``x.mean(axis=0)``). A task
reads its block of queries and the targets, L2-normalises them (row by row, as
:func:`~mbert_lab.analyses.retrieval.normalize` does on the whole matrix: the same bits) and
searches them:

- exact: with the single-process :func:`~mbert_lab.analyses.retrieval.knn` over the same
  query blocks (so the same matrix products: the scores are bit-identical); with a memory
  budget the task reads the targets a shard of at most that many bytes at a time, keeping
  the running top-k (score descending, then target row ascending, as ``knn`` orders them);
- IVF (:func:`ann_neighbours_on_ray`): the index over the targets is built by Ray tasks
  reading their rows (:func:`.index.build_on_ray`), ``nprobe`` tuned on the driver on a
  sample of the queries (a thousand rows read there), and each task searches its queries
  against the whole index (object store) or its parts within the budget, and puts its lists
  in exact search's order (:func:`~mbert_lab.index.ann_mining.canonical`, in the task).

The driver then scores the margins and selects pairs exactly as
:func:`~mbert_lab.analyses.retrieval.mine_from_neighbours` does in one process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rows import RowSource


class Rows:
    """What a task reads: rows of a source, L2-normalised on read when ``norm``."""

    def __init__(self, src: RowSource, norm: bool = True) -> None:
        self.src, self.norm = src, norm
        self.shape, self.ndim = src.shape, 2

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, key: Any) -> np.ndarray:
        from ..analyses.retrieval import normalize

        x = self.src[key]
        return normalize(x) if self.norm else x


def _source(x: Any) -> RowSource:
    if isinstance(x, RowSource):
        return x
    from ..errors import InputError

    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise InputError(f"expected a 2-D array of vectors, got shape {x.shape}")
    return RowSource.from_array(x)


def _rows(x: Any, norm: bool) -> Rows:
    return x if isinstance(x, Rows) else Rows(_source(x), norm)


def store_side(corpus: Any, layer: int, center: bool) -> RowSource:
    """The mean-pooled sentence vectors of an encoded corpus as a source (the store's files),
    centred by its mean (computed by a Ray task) when ``center``."""
    import ray

    from .rows import sequential_mean

    src = RowSource.from_corpus(corpus, "sentence_mean", layer)
    if center and len(src):
        src = src.centered(ray.get(ray.remote(sequential_mean).options(num_cpus=0).remote(src)))
    return src


def _sides(x: Any, y: Any, k: int, margin: str, mode: str) -> tuple[Rows, Rows, Any, Any] | None:
    """The checks of :func:`~mbert_lab.analyses.retrieval.mining_inputs` without reading a
    vector: the sides (normalised on read), the margin and the mode; None when one is empty."""
    from ..analyses.retrieval import as_margin, as_mode
    from ..errors import ConfigError, InputError

    m, md = as_margin(margin), as_mode(mode)
    if k < 1:
        raise ConfigError("k must be >= 1")
    xs, ys = _source(x), _source(y)
    if len(xs) and len(ys) and xs.shape[1] != ys.shape[1]:
        raise InputError(f"dimension mismatch: {xs.shape[1]} vs {ys.shape[1]}")
    if not len(xs) or not len(ys):
        return None
    return Rows(xs), Rows(ys), m, md


def _knn_task(q: Rows, lo: int, hi: int, t: Rows, rows: int, c: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """A Ray task: queries ``lo:hi`` against the targets, read ``rows`` at a time."""
    from ..analyses.retrieval import knn

    qb, n = q[lo:hi], len(t)
    if rows >= n:
        return knn(qb, t[:], min(c, n), block=block, normalized=True)
    best_s = np.full((len(qb), 0), -np.inf, np.float32)
    best_i = np.zeros((len(qb), 0), np.int64)
    for start in range(0, n, rows):
        tb = t[start: start + rows]
        s, i = knn(qb, tb, min(c, len(tb)), block=block, normalized=True)
        best_s = np.concatenate([best_s, s], axis=1)
        best_i = np.concatenate([best_i, i + start], axis=1)
        o = np.lexsort((best_i, -best_s), axis=1)[:, :c]
        best_s, best_i = np.take_along_axis(best_s, o, 1), np.take_along_axis(best_i, o, 1)
    return best_s, best_i


def _tasks(tasks: int | None, threads: int) -> int:
    import ray

    return tasks or max(1, int(ray.cluster_resources().get("CPU", 1)) // max(1, threads))


def knn_on_ray(q: Any, t: Any, c: int, *, tasks: int | None = None, memory_budget: int | None = None,
               threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine k-NN of normalised ``q`` in normalised ``t`` (arrays, or :class:`Rows`)
    over Ray tasks (see the module docstring); equal to ``knn(q, t, c, normalized=True)``."""
    import ray

    q, t = _rows(q, norm=False), _rows(t, norm=False)
    c = min(int(c), len(t))
    block = max(1, min(4096, 20_000_000 // len(t)))  # knn's own block for the full target set
    dim = t.shape[1]
    rows = len(t) if not memory_budget or len(t) * dim * 4 <= memory_budget else max(1, int(memory_budget) // max(1, dim * 4))
    nblocks = -(-len(q) // block)
    per = max(1, -(-nblocks // _tasks(tasks, threads))) * block  # whole query blocks per task
    qref, tref = ray.put(q), ray.put(t)
    task = ray.remote(_knn_task).options(num_cpus=threads)
    parts = ray.get([task.remote(qref, lo, min(len(q), lo + per), tref, rows, c, block) for lo in range(0, len(q), per)])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def mine_on_ray(x: Any, y: Any, k: int = 4, margin: str = "ratio", mode: str = "max", *,
                tasks: int | None = None, memory_budget: int | None = None, threads: int = 1) -> Any:
    """:func:`mbert_lab.analyses.retrieval.mine` with both k-NN searches in Ray tasks that
    read the vectors (``x``, ``y``: arrays or :class:`~.rows.RowSource` s) themselves,
    scored by :func:`~mbert_lab.analyses.retrieval.mine_from_neighbours` on the driver."""
    from ..analyses.retrieval import MinedPairs, mine_from_neighbours

    prep = _sides(x, y, k, margin, mode)
    if prep is None:
        return MinedPairs.empty()
    xn, yn, m, md = prep
    kw = {"tasks": tasks, "memory_budget": memory_budget, "threads": threads}
    sx, ix = knn_on_ray(xn, yn, k, **kw)
    sy, iy = knn_on_ray(yn, xn, k, **kw)
    return mine_from_neighbours(sx, ix, sy, iy, k, m, (md,))[md]


def _ann_task(q: Rows, lo: int, hi: int, t: Rows, index_bytes: Any, folder: str | None, budget: int, nprobe: int,
              c: int, threads: int) -> tuple[np.ndarray, np.ndarray, int]:
    """A Ray task: queries ``lo:hi`` against the whole index (from the object store) or, with
    ``folder``, its saved parts within ``budget`` bytes; lists in exact search's order."""
    from ..index.ann_mining import canonical
    from ..index.faiss_index import _faiss

    faiss = _faiss()
    faiss.omp_set_num_threads(int(threads))
    qb = q[lo:hi]
    if folder is not None:
        from .index import ShardedIndex

        s, i = ShardedIndex(folder, budget, verify=False).search(qb, c)
    else:
        idx = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))
        faiss.ParameterSpace().set_index_parameter(idx, "nprobe", int(nprobe))
        s, i = idx.search(np.ascontiguousarray(qb, np.float32), c)
    return canonical(s, i, qb, t, c)


def ann_neighbours_on_ray(q: Any, t: Any, k: int, *, key: str = "auto", nprobe: int | None = None,
                          target_recall: float = 0.95, threads: int = 1, seed: int = 0, tasks: int | None = None,
                          memory_budget: int | None = None) -> tuple[Any, Any, Any]:
    """:func:`mbert_lab.index.ann_mining.ann_neighbours` on Ray (see the module docstring):
    ``q`` the queries (:class:`Rows`, or an array of normalised rows), ``t`` the targets as
    given (a :class:`~.rows.RowSource` or an array). The index parts are saved in a temporary
    folder (which every node must see) when the index is larger than ``memory_budget``.
    Same neighbours as one process."""
    import shutil
    import tempfile

    import ray

    from ..index.ann_mining import AnnSearch, build_side, set_nprobe
    from .index import build_on_ray, save_parts

    q, traw = _rows(q, norm=False), _source(t)
    n_tasks = _tasks(tasks, threads)
    idx = build_side(traw, key=key, threads=threads, seed=seed,
                     builder=lambda v, it, **kw: build_on_ray(v, it, parts=max(2, n_tasks), **kw))
    npb, nlist, rec = set_nprobe(idx, q, k, nprobe=nprobe, target_recall=target_recall, seed=seed)
    c = min(k, len(traw))
    folder = None
    try:
        if memory_budget and idx.memory_bytes() > memory_budget:
            folder = tempfile.mkdtemp(prefix="mbert-ann-")
            save_parts(idx, folder)  # the parts alone: a task never loads the whole index
            ref = None
        else:
            from ..index.faiss_index import _faiss

            ref = ray.put(_faiss().serialize_index(idx.index).tobytes())
        per = max(1, -(-len(q) // n_tasks))
        task = ray.remote(_ann_task).options(num_cpus=threads)
        qref, tref = ray.put(q), ray.put(Rows(traw))
        parts = ray.get([task.remote(qref, lo, min(len(q), lo + per), tref, ref, folder, int(memory_budget or 0), npb,
                                     c, threads) for lo in range(0, len(q), per)])
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    s, i = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return s, i, AnnSearch(idx.meta.key, npb, nlist, rec, sum(p[2] for p in parts))


def mine_ann_on_ray(x: Any, y: Any, k: int = 4, margin: str = "ratio", mode: str = "max", *,
                    tasks: int | None = None, memory_budget: int | None = None, threads: int = 1,
                    **ann: Any) -> tuple[Any, tuple[Any, ...]]:
    """:func:`mbert_lab.index.ann_mining.mine_ann` with both directions on Ray
    (:func:`ann_neighbours_on_ray`), scored by ``mine_from_neighbours`` on the driver."""
    from ..analyses.retrieval import MinedPairs, mine_from_neighbours

    prep = _sides(x, y, k, margin, mode)
    if prep is None:
        return MinedPairs.empty(), ()
    xn, yn, m, md = prep
    kw = {"tasks": tasks, "memory_budget": memory_budget, "threads": threads, **ann}
    sx, ix, fwd = ann_neighbours_on_ray(xn, yn.src, k, **kw)
    sy, iy, bwd = ann_neighbours_on_ray(yn, xn.src, k, **kw)
    return mine_from_neighbours(sx, ix, sy, iy, k, m, (md,))[md], (fwd, bwd)
