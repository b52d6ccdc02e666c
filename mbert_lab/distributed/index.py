"""Index building on Ray: train once on a sample, add row blocks into per-part indexes in
parallel Ray tasks, merge the parts in order; and search the saved parts within a memory
budget (:class:`ShardedIndex`).

The build is :meth:`VectorIndex.build <mbert_lab.index.faiss_index.VectorIndex.build>`
itself (same plan, same training sample, same held-out rows, same tuning), with each of its
``add`` calls (blocks of rows, then the held-out rows) done by the tasks: each gets the
trained, empty index, the row source (:class:`~.rows.RowSource`: the vector store's files,
paths and row counts) and the numbers of its rows, reads and prepares those rows itself
(language means for centering come from one Ray task, bit-identical to the single
process's), and returns its part; the driver reads only the training sample and the
held-out rows (tuning), and merges
the parts in order (``merge_from``), so the inverted lists hold the rows in the order the
single-process adds give and searches return the same results. Kinds that FAISS cannot
merge (HNSW) are added on the driver (no parts; ``meta.extra['ray']['merged_parts'] == 1``).

The parts are kept beside the index (``parts/part-00000.faiss`` ..., in row order;
``parts/parts.json``: rows and sha256 of each): :class:`ShardedIndex` searches
them a group at a time, each group's files within ``memory_budget`` bytes, and merges the
top-k by score, for an index too large for one machine's memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from ..index.faiss_index import VectorIndex, _faiss, faiss_to_rows, parse_bytes, search_param_name

PARTS_DIR = "parts"


def _add_part(empty: bytes, source: Any, rows: np.ndarray, langs: list[str], transform: str,
              means: dict[str, np.ndarray] | None, threads: int, queries: np.ndarray | None = None,
              k: int = 1) -> tuple[bytes, Any]:
    """A Ray task: reads its rows from the source (the vector store), prepares them as the
    index does and adds them to the trained empty index; returns the part, serialized, and,
    given the held-out tuning ``queries``, their exact top-``k`` over these rows (scores, input
    rows), which the driver merges into the ground truth as the one-process build streams it."""
    from ..index.faiss_index import Transform, _TopK, prepare

    faiss = _faiss()
    faiss.omp_set_num_threads(int(threads))
    idx = faiss.deserialize_index(np.frombuffer(empty, dtype=np.uint8))
    xb = prepare(np.asarray(source[rows], np.float32), langs, Transform(transform), means)
    idx.add(xb)
    top = None
    if queries is not None:
        t = _TopK(queries, k)
        t.update(xb, rows)
        top = (t.s, t.i)
    return faiss.serialize_index(idx).tobytes(), top


def _mergeable(index: Any) -> bool:
    faiss = _faiss()
    if isinstance(index, faiss.IndexFlatCodes):
        return True
    try:
        faiss.extract_index_ivf(index)
        return True
    except RuntimeError:
        return False


def _merge(into: Any, part: Any) -> None:
    """Append ``part``'s rows to ``into`` (an IVF's direct map, made by tuning's exact
    search, is dropped for the merge and rebuilt)."""
    faiss = _faiss()
    if isinstance(into, faiss.IndexFlatCodes):
        into.merge_from(part, 0)
        return
    ivf = faiss.extract_index_ivf(into)
    had_map = bool(ivf.direct_map.type)
    if had_map:
        ivf.set_direct_map_type(faiss.DirectMap.NoMap)
    into.merge_from(part, into.ntotal)
    if had_map:
        ivf.make_direct_map()


class _Adder:
    """Adds rows (indices into the source) to the index in ``parts`` Ray tasks, merged in
    order; kinds FAISS cannot merge (HNSW) are added here."""

    def __init__(self, idx: VectorIndex, source: Any, langs: list[str], parts: int, threads: int) -> None:
        import ray

        self.idx, self.source, self.langs, self.n, self.threads = idx, source, langs, parts, threads
        self.parts: list[bytes] = []
        self.empty = ray.put(_faiss().serialize_index(idx.index).tobytes()) if _mergeable(idx.index) else None
        self.src_ref = ray.put(source)

    def add(self, sel: np.ndarray, rows: Any, truth: Any = None) -> None:
        """Add input rows ``sel`` (``idx.items`` is set to the input order by the build); with
        ``truth`` (a running top-k of the held-out queries) the same rows update it."""
        import ray

        idx = self.idx
        if self.empty is None:
            xb = rows(sel)
            if truth is not None:
                truth.update(xb, sel)
            idx.index.add(xb)
            idx.meta.ntotal = int(idx.index.ntotal)
            return
        task = ray.remote(_add_part).options(num_cpus=self.threads)
        blocks = [b for b in np.array_split(sel, min(self.n, len(sel))) if len(b)]
        tr, means = idx.meta.transform, idx.means
        q = None if truth is None else ray.put(truth.q)
        k = 1 if truth is None else truth.k
        new = ray.get([task.remote(self.empty, self.src_ref, b, [self.langs[i] for i in b], tr, means, self.threads,
                                   q, k) for b in blocks])
        for pb, top in new:
            _merge(idx.index, _faiss().deserialize_index(np.frombuffer(pb, dtype=np.uint8)))
            if truth is not None:
                _merge_top(truth, *top)
        self.parts += [pb for pb, _ in new]
        idx.meta.ntotal = int(idx.index.ntotal)


def _merge_top(truth: Any, s: np.ndarray, i: np.ndarray) -> None:
    """Fold one task's top-k (scores, input rows) into the running ``_TopK`` (same order rule:
    score descending, then row ascending)."""
    s = np.concatenate([truth.s, s], axis=1)
    i = np.concatenate([truth.i, i], axis=1)
    o = np.lexsort((i, -s), axis=1)[:, : truth.k]
    truth.s, truth.i = np.take_along_axis(s, o, 1), np.take_along_axis(i, o, 1)


def build_on_ray(vectors: Any, items: Any, *, parts: int, threads: int | None = None, key: str = "auto",
                 memory_budget: int | str = "4G", model: dict[str, Any] | None = None, layer: int | None = None,
                 unit: str = "sentence", pooling: str | None = None, transform: str = "none", seed: int = 0,
                 hold_out: int = 0, target_recall: float | None = None, tune_k: int = 1) -> VectorIndex:
    """:meth:`VectorIndex.build` step for step (plan, training sample, held-out rows, tuning:
    the same random draws, on the driver) with every add done by ``parts`` Ray tasks that read
    their rows from ``vectors`` themselves (a :class:`~.rows.RowSource`: the vector store's
    files; an array is put in the object store once), merged in order (see the module
    docstring). Needs a connected Ray."""
    import time

    from ..index.faiss_index import (
        FORMAT_VERSION,
        IndexMeta,
        Transform,
        add_blocks,
        as_transform,
        held_out,
        prepare,
    )
    from .rows import RowSource

    faiss = _faiss()
    if threads:
        faiss.omp_set_num_threads(int(threads))
    x = vectors if isinstance(vectors, RowSource) else RowSource.from_array(np.asarray(vectors, np.float32))
    if x.ndim != 2 or len(x) == 0:
        raise InputError(f"need a non-empty 2-D array of vectors, got shape {x.shape}")
    if len(items) != len(x):
        raise InputError(f"{len(x)} vectors but {len(items)} metadata rows")
    tr, langs = as_transform(transform), [it.lang for it in items]
    means = _remote_means(x, langs) if tr is Transform.CENTER else None
    n, d = x.shape
    t0 = time.perf_counter()
    plan = VectorIndex._plan(key, n, d, memory_budget, {})  # the one-process build's plan
    try:
        index = faiss.index_factory(d, plan.key, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as e:
        raise ConfigError(f"FAISS cannot build index '{plan.key}': {str(e).splitlines()[-1]}") from None
    rng = np.random.default_rng(seed)

    def rows(sel: np.ndarray) -> np.ndarray:  # prepared rows, read here (training sample, held-out rows)
        return prepare(np.asarray(x[sel], np.float32), [langs[i] for i in sel], tr, means)

    if not index.is_trained:
        ntrain = plan.train_size or min(n, 100_000)
        index.train(rows(np.arange(n) if ntrain >= n else np.sort(rng.choice(n, ntrain, replace=False))))
    meta = IndexMeta(format_version=FORMAT_VERSION, dim=d, ntotal=0, key=plan.key, kind=plan.kind,
                     model=dict(model or {}), layer=layer, unit=unit, pooling=pooling, transform=tr.value,
                     extra={"plan_reason": plan.reason, "bytes_estimate": plan.bytes_estimate})
    idx = VectorIndex(index, [], meta, means)
    adder = _Adder(idx, x, langs, max(1, int(parts)), int(threads or 1))
    hold, held, truth = held_out(n, hold_out, target_recall, plan.kind, rng, rows, tune_k, idx.meta)
    for sel in add_blocks(n, hold):
        adder.add(sel, rows, truth)
    idx.items = list(items)  # input order: FAISS ids map to input rows through held_rows
    if truth is not None:
        idx.tune(truth.q, target_recall=float(target_recall), k=tune_k, prepared=True,
                 query_langs=[langs[i] for i in held], exact=truth.i, truth="streamed")
        adder.add(held, rows)
    idx.meta.build_seconds = time.perf_counter() - t0
    if target_recall is not None and not hold.any() and search_param_name(plan.kind):
        idx.tune(rows(np.sort(rng.choice(n, min(n, 500), replace=False))), target_recall=float(target_recall),
                 k=tune_k, prepared=True, exclude_self=True)
    idx.meta.extra["ray"] = {"merged_parts": max(1, len(adder.parts)), "parts": len(adder.parts)}
    idx.parts = adder.parts  # type: ignore[attr-defined]
    return idx


def _remote_means(x: Any, langs: list[str]) -> dict[str, np.ndarray]:
    """Per-language means (``language_means``, bit-identical) in one Ray task reading the source."""
    import ray

    from .rows import sequential_mean

    return ray.get(ray.remote(sequential_mean).options(num_cpus=0).remote(x, langs))


def save_parts(index: VectorIndex, path: str | Path) -> Path | None:
    """Write the build's parts under ``<index>/parts``; without parts (a build without Ray,
    an append) remove any earlier ones."""
    import shutil

    from ..io import atomic_open, atomic_write_json, sha256_file

    parts: list[bytes] = getattr(index, "parts", [])
    d = Path(path) / PARTS_DIR
    if not parts:
        shutil.rmtree(d, ignore_errors=True)  # parts of an earlier build no longer match
        return None
    d.mkdir(parents=True, exist_ok=True)
    faiss = _faiss()
    rows, start = [], 0
    for i, pb in enumerate(parts):
        name = f"part-{i:05d}.faiss"
        with atomic_open(d / name, "wb") as f:
            f.write(pb)
        n = int(faiss.deserialize_index(np.frombuffer(pb, dtype=np.uint8)).ntotal)
        rows.append({"file": name, "row_start": start, "ntotal": n, "bytes": len(pb), "sha256": sha256_file(d / name)})
        start += n
    if start != index.meta.ntotal:
        raise InputError(f"the parts hold {start} rows, the index {index.meta.ntotal}", path=d)
    atomic_write_json(d / "parts.json", {"parts": rows, "search_params": index.meta.search_params,
                                         "kind": index.meta.kind})
    return d


class ShardedIndex:
    """Search an index's saved parts (``<index>/parts``) a group at a time: each group's
    files add up to at most ``memory_budget`` (one part per group at least), results merged
    by score (ties: lower row first). ``stats['max_parts_loaded']``: the most parts one group
    holds (loaded at once) in the last search; ``stats['groups']``: how many groups it took.
    In-process the groups are searched one after another, so at most one group's parts are
    in memory; with ``on_ray`` one group per Ray task (each task within the budget)."""

    def __init__(self, path: str | Path, memory_budget: int | str = "4G", verify: bool = True) -> None:
        from ..io import sha256_file

        self.root = Path(path)
        d = self.root / PARTS_DIR
        if not (d / "parts.json").is_file():
            raise InputError("no index parts here (build the index with ray to get them)", path=d)
        info = json.loads((d / "parts.json").read_text(encoding="utf-8"))
        self.parts = info["parts"]
        self.search_params = info.get("search_params") or {}
        self.kind = info.get("kind", "")
        if verify:
            for p in self.parts:
                if sha256_file(d / p["file"]) != p["sha256"]:
                    raise InputError(f"checksum mismatch for {p['file']}", path=d)
        self.budget = parse_bytes(memory_budget)
        self.stats = {"max_parts_loaded": 0, "groups": 0}
        self.meta = VectorIndex.load(self.root).meta if (self.root / "meta.json").is_file() else None

    def groups(self) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = []
        used = 0
        for p in self.parts:
            if out and used + p["bytes"] <= self.budget:
                out[-1].append(p)
                used += p["bytes"]
            else:
                out.append([p])
                used = p["bytes"]
        return out

    def search(self, q: np.ndarray, k: int, on_ray: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Prepared (normalised) queries -> (scores, global rows), best first, like FAISS.
        ``on_ray``: each group is searched by a Ray task (reading the parts from this path,
        which the cluster's nodes must see), the groups in parallel, merged here."""
        q = np.ascontiguousarray(q, np.float32)
        groups = self.groups()
        self.stats = {"max_parts_loaded": max(len(g) for g in groups), "groups": len(groups)}
        args = [(str(self.root / PARTS_DIR), g, self.kind, self.search_params, k) for g in groups]
        if on_ray:
            import ray

            qref, task = ray.put(q), ray.remote(_search_group)
            found = ray.get([task.remote(qref, *a) for a in args])
        else:
            found = [_search_group(q, *a) for a in args]
        best_s = np.concatenate([f[0] for f in found], axis=1)
        best_i = np.concatenate([f[1] for f in found], axis=1)
        if self.meta is not None:  # FAISS ids -> input rows (held-out tuning rows were added last)
            best_i = faiss_to_rows(self.meta, best_i)
        o = np.lexsort((best_i, -best_s), axis=1)[:, :k]
        return np.take_along_axis(best_s, o, 1), np.take_along_axis(best_i, o, 1)


def _search_group(q: np.ndarray, folder: str, group: list[dict[str, Any]], kind: str,
                  params: dict[str, int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of the queries in one group of parts (loaded together, released on return)."""
    faiss = _faiss()
    name = search_param_name(kind)
    out_s, out_i = [], []
    for p in group:
        idx = faiss.read_index(str(Path(folder) / p["file"]))
        if name and name in params:
            if name == "efSearch":
                idx.hnsw.efSearch = int(params[name])
            else:
                faiss.ParameterSpace().set_index_parameter(idx, name, int(params[name]))
        s, i = idx.search(q, min(k, int(idx.ntotal)))
        out_s.append(s)
        out_i.append(np.where(i >= 0, i + p["row_start"], -1))
        del idx
    s, i = np.concatenate(out_s, axis=1), np.concatenate(out_i, axis=1)
    o = np.lexsort((i, -s), axis=1)[:, :k]
    return np.take_along_axis(s, o, 1), np.take_along_axis(i, o, 1)
