"""Margin mining on Ray: the k-NN queries of both directions are spread over Ray tasks.

Each task takes a run of query blocks and searches them against the targets with the
single-process :func:`~mbert_lab.analyses.retrieval.knn` (the same query blocks, so the
same matrix products: the scores are bit-identical), then the driver scores the margins and
selects pairs exactly as :func:`~mbert_lab.analyses.retrieval.mine` does. With a memory
budget the targets are cut into shards of at most that many bytes, put in the object store
one by one, and each task walks them one at a time, keeping the running top-k (score
descending, then target row ascending, as ``knn`` orders them).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _knn_task(q: np.ndarray, shards: list[Any], starts: list[int], c: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    import ray

    from ..analyses.retrieval import knn

    best_s = np.full((len(q), 0), -np.inf, np.float32)
    best_i = np.zeros((len(q), 0), np.int64)
    for ref, start in zip(shards, starts):
        t = ray.get(ref) if not isinstance(ref, np.ndarray) else ref
        s, i = knn(q, t, min(c, len(t)), block=block, normalized=True)
        if len(shards) == 1:
            return s, i
        best_s = np.concatenate([best_s, s], axis=1)
        best_i = np.concatenate([best_i, i + start], axis=1)
        o = np.lexsort((best_i, -best_s), axis=1)[:, :c]
        best_s, best_i = np.take_along_axis(best_s, o, 1), np.take_along_axis(best_i, o, 1)
        del t
    return best_s, best_i


def knn_on_ray(q: np.ndarray, t: np.ndarray, c: int, *, tasks: int | None = None, memory_budget: int | None = None,
               threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine k-NN of normalised ``q`` in normalised ``t`` over Ray tasks (see the module
    docstring); equal to ``knn(q, t, c, normalized=True)``."""
    import ray

    c = min(int(c), len(t))
    tasks = tasks or max(1, int(ray.cluster_resources().get("CPU", 1)) // max(1, threads))
    block = max(1, min(4096, 20_000_000 // len(t)))  # knn's own block for the full target set
    if memory_budget and t.nbytes > memory_budget:
        rows = max(1, int(memory_budget) // max(1, t.shape[1] * 4))
    else:
        rows = len(t)
    starts = list(range(0, len(t), rows))
    shards = [ray.put(np.ascontiguousarray(t[s: s + rows])) for s in starts]
    nblocks = -(-len(q) // block)
    per = max(1, -(-nblocks // max(1, tasks)))  # query blocks per task, whole blocks only
    task = ray.remote(_knn_task).options(num_cpus=threads)
    refs = [task.remote(q[lo: lo + per * block], shards, starts, c, block)
            for lo in range(0, len(q), per * block)]
    parts = ray.get(refs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def mine_on_ray(x: np.ndarray, y: np.ndarray, k: int = 4, margin: str = "ratio", mode: str = "max", *,
                tasks: int | None = None, memory_budget: int | None = None, threads: int = 1) -> Any:
    """:func:`mbert_lab.analyses.retrieval.mine` with both k-NN searches on Ray (scored by
    :func:`~mbert_lab.analyses.retrieval.mine_from_neighbours`, as the single process does)."""
    from ..analyses.retrieval import MinedPairs, mine_from_neighbours, mining_inputs

    prep = mining_inputs(x, y, k, margin, mode)
    if prep is None:
        return MinedPairs.empty()
    xn, yn, m, md = prep
    kw = {"tasks": tasks, "memory_budget": memory_budget, "threads": threads}
    sx, ix = knn_on_ray(xn, yn, k, **kw)
    sy, iy = knn_on_ray(yn, xn, k, **kw)
    return mine_from_neighbours(sx, ix, sy, iy, k, m, (md,))[md]


def _ann_task(q: np.ndarray, index_bytes: Any, folder: str | None, budget: int, nprobe: int, c: int,
              threads: int) -> tuple[np.ndarray, np.ndarray]:
    """A Ray task: one block of prepared queries against the whole index (deserialized from
    the object store) or, with ``folder``, against its saved parts within ``budget`` bytes."""
    from ..index.faiss_index import _faiss

    faiss = _faiss()
    faiss.omp_set_num_threads(int(threads))
    if folder is not None:
        from .index import ShardedIndex

        return ShardedIndex(folder, budget, verify=False).search(q, c)
    idx = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))
    faiss.ParameterSpace().set_index_parameter(idx, "nprobe", int(nprobe))
    return idx.search(np.ascontiguousarray(q, np.float32), c)


def ann_neighbours_on_ray(q: np.ndarray, t_raw: np.ndarray, tn: np.ndarray, k: int, *, key: str = "auto",
                          nprobe: int | None = None, target_recall: float = 0.95, threads: int = 1, seed: int = 0,
                          tasks: int | None = None, memory_budget: int | None = None) -> tuple[Any, Any, Any]:
    """:func:`mbert_lab.index.ann_mining.ann_neighbours` on Ray: the index over the targets is
    built in parts by Ray tasks and merged (:func:`.index.build_on_ray`), ``nprobe`` set or
    tuned on the driver as in one process, and the queries are cut into blocks searched by
    Ray tasks: against the whole index from the object store, or, when the index is larger
    than ``memory_budget`` bytes, against its parts saved in a temporary folder (which every
    node must see) through :class:`.index.ShardedIndex` within the budget. Same neighbours
    as one process (lists put in exact search's order)."""
    import shutil
    import tempfile

    import ray

    from ..index.ann_mining import AnnSearch, build_side, canonical, set_nprobe
    from .index import build_on_ray, save_parts

    tasks = tasks or max(1, int(ray.cluster_resources().get("CPU", 1)) // max(1, threads))
    idx = build_side(t_raw, key=key, threads=threads, seed=seed,
                     builder=lambda v, it, **kw: build_on_ray(v, it, parts=max(2, tasks), **kw))
    npb, nlist, rec = set_nprobe(idx, q, k, nprobe=nprobe, target_recall=target_recall, seed=seed)
    c = min(k, len(tn))
    folder = None
    try:
        if memory_budget and idx.memory_bytes() > memory_budget:
            folder = tempfile.mkdtemp(prefix="mbert-ann-")
            save_parts(idx, folder)  # the parts alone: a task never loads the whole index
            ref = None
        else:
            from ..index.faiss_index import _faiss

            ref = ray.put(_faiss().serialize_index(idx.index).tobytes())
        per = max(1, -(-len(q) // tasks))
        task = ray.remote(_ann_task).options(num_cpus=threads)
        parts = ray.get([task.remote(q[lo: lo + per], ref, folder, int(memory_budget or 0), npb, c, threads)
                         for lo in range(0, len(q), per)])
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    s, i = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    s, i, fb = canonical(s, i, q, tn, c)
    return s, i, AnnSearch(idx.meta.key, npb, nlist, rec, fb)


def mine_ann_on_ray(x: np.ndarray, y: np.ndarray, k: int = 4, margin: str = "ratio", mode: str = "max", *,
                    tasks: int | None = None, memory_budget: int | None = None, threads: int = 1,
                    **ann: Any) -> tuple[Any, tuple[Any, ...]]:
    """:func:`mbert_lab.index.ann_mining.mine_ann` with both directions on Ray
    (:func:`ann_neighbours_on_ray`), scored by ``mine_from_neighbours``."""
    from ..analyses.retrieval import MinedPairs, mine_from_neighbours, mining_inputs

    prep = mining_inputs(x, y, k, margin, mode)
    if prep is None:
        return MinedPairs.empty(), ()
    xn, yn, m, md = prep
    kw = {"tasks": tasks, "memory_budget": memory_budget, "threads": threads, **ann}
    sx, ix, fwd = ann_neighbours_on_ray(xn, y, yn, k, **kw)
    sy, iy, bwd = ann_neighbours_on_ray(yn, x, xn, k, **kw)
    return mine_from_neighbours(sx, ix, sy, iy, k, m, (md,))[md], (fwd, bwd)
