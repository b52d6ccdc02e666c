"""Index building on Ray: train once on a sample, add row blocks into per-part indexes in
parallel Ray tasks, merge the parts in order; and search the saved parts within a memory
budget (:class:`ShardedIndex`).

The build is :meth:`VectorIndex.build <mbert_lab.index.faiss_index.VectorIndex.build>`
itself (same plan, same training sample, same held-out rows, same tuning), with each of its
``add`` calls (blocks of rows, then the held-out rows) done by the tasks: each gets the
trained, empty index and a contiguous run of rows, and returns its part; the driver merges
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

from ..errors import InputError
from ..index.faiss_index import VectorIndex, _faiss, faiss_to_rows, parse_bytes, search_param_name

PARTS_DIR = "parts"


def _add_part(empty: bytes, xn: np.ndarray, threads: int) -> bytes:
    """A Ray task: the trained empty index plus one block of prepared rows, serialized."""
    faiss = _faiss()
    faiss.omp_set_num_threads(int(threads))
    idx = faiss.deserialize_index(np.frombuffer(empty, dtype=np.uint8))
    idx.add(np.ascontiguousarray(xn, np.float32))
    return faiss.serialize_index(idx).tobytes()


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


class _RayBuiltIndex(VectorIndex):
    """VectorIndex whose adds run in Ray tasks (each block of rows cut into ``parts_wanted``
    parts, added to copies of the trained empty index) and are merged in order."""

    parts_wanted = 2
    threads = 1

    def _add_prepared(self, xn: np.ndarray, items: Any) -> None:
        import ray

        faiss = _faiss()
        if not hasattr(self, "parts"):
            self.parts: list[bytes] = []
            self._empty = faiss.serialize_index(self.index).tobytes() if _mergeable(self.index) else None
        if self._empty is None:  # not mergeable (HNSW): added here, no parts
            super()._add_prepared(xn, items)
            return
        blocks = [b for b in np.array_split(np.arange(len(xn)), min(self.parts_wanted, len(xn))) if len(b)]
        eref = ray.put(self._empty)
        task = ray.remote(_add_part).options(num_cpus=self.threads)
        new = list(ray.get([task.remote(eref, ray.put(xn[b[0]: b[-1] + 1]), self.threads) for b in blocks]))
        for pb in new:
            _merge(self.index, faiss.deserialize_index(np.frombuffer(pb, dtype=np.uint8)))
        self.parts += new
        self.items.extend(items)
        self.meta.ntotal = int(self.index.ntotal)


def build_on_ray(vectors: np.ndarray, items: Any, *, parts: int, threads: int | None = None, **build_kw: Any) -> VectorIndex:
    """:meth:`VectorIndex.build` with the first add split over ``parts`` Ray tasks and merged
    (see the module docstring). Needs a connected Ray (``ray_session``)."""
    cls = type("_RayBuild", (_RayBuiltIndex,), {"parts_wanted": max(1, int(parts)), "threads": int(threads or 1)})
    idx = cls.build(vectors, items, threads=threads, **build_kw)
    part_bytes: list[bytes] = getattr(idx, "parts", [])
    idx.meta.extra["ray"] = {"merged_parts": max(1, len(part_bytes)), "parts": len(part_bytes)}
    out = VectorIndex(idx.index, idx.items, idx.meta, idx.means)
    out.parts = part_bytes  # type: ignore[attr-defined]
    return out


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
