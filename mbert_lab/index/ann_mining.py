"""k-NN for margin mining from an approximate (IVF) index instead of exact search.

Margin scores need the k nearest neighbours of every source among the targets and of every
target among the sources. :func:`ann_neighbours` builds a FAISS index over one side with
:meth:`VectorIndex.build <mbert_lab.index.faiss_index.VectorIndex.build>` (rows in input
order, so FAISS ids are row numbers), tunes ``nprobe`` for recall@k on a sample of the
actual queries (:meth:`VectorIndex.tune`, ``k`` = the margin's neighbourhood) unless
``nprobe`` is given, and searches every query. The lists are put in the order exact search
gives (score descending, then row ascending); a query that got fewer than ``k`` hits (its
probed lists held too few rows) is searched exactly. The result goes through
:func:`~mbert_lab.analyses.retrieval.mine_from_neighbours`, the scoring exact mining uses.

With every list probed (``nprobe >= nlist``) an IVF-Flat index returns the exact neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

KNN_METHODS = ("exact", "ivf")


@dataclass(frozen=True)
class AnnSearch:
    """How the neighbours of one direction were found."""

    key: str
    nprobe: int
    nlist: int
    tuned_recall: float | None  # recall@k of the tuning queries at ``nprobe`` (None: given)
    exact_fallback: int  # queries searched exactly (fewer than k hits from the index)


def ivf_key(n: int, key: str = "auto") -> str:
    """``'auto'``: ``IVF<nlist>,Flat`` with the project's nlist rule for n rows; else ``key``."""
    from .faiss_index import _nlist_for

    return f"IVF{_nlist_for(n)},Flat" if key == "auto" else key


def build_side(t: np.ndarray, *, key: str = "auto", threads: int | None = None, seed: int = 0,
               builder: Any = None) -> Any:
    """A :class:`VectorIndex` over the rows of ``t`` (normalised by the index as exact search
    normalises them; ids = row numbers). ``builder``: a ``build`` with the same signature
    (the Ray one, given ``t`` as it is: its tasks read the rows)."""
    from .faiss_index import Item, VectorIndex

    items = [Item("und", str(i), "") for i in range(len(t))]
    build = builder or VectorIndex.build
    return build(t if builder is not None else np.asarray(t, np.float32), items, key=ivf_key(len(t), key),
                 threads=threads, seed=seed, hold_out=0, target_recall=None)


def set_nprobe(idx: Any, q: np.ndarray, k: int, *, nprobe: int | None, target_recall: float,
               seed: int = 0, sample: int = 1000) -> tuple[int, int, float | None]:
    """Give the index its ``nprobe`` (clamped to nlist) or tune it on a sample of the
    (prepared) queries for recall@k; returns (nprobe, nlist, tuned recall)."""
    from .faiss_index import _faiss

    nlist = int(_faiss().extract_index_ivf(idx.index).nlist)
    if nprobe is not None:
        idx.set_search_params({"nprobe": min(int(nprobe), nlist)})
        return min(int(nprobe), nlist), nlist, None
    rng = np.random.default_rng(seed)
    sel = np.sort(rng.choice(len(q), min(sample, len(q)), replace=False))
    r = idx.tune(q[sel], target_recall=float(target_recall), k=min(k, idx.meta.ntotal), prepared=True)
    return int(r.value), nlist, float(r.recall)


def canonical(s: np.ndarray, i: np.ndarray, q: np.ndarray, t: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows in exact search's order (score descending, row ascending); rows with fewer than
    ``k`` hits searched exactly (``knn``; ``t`` is read, ``t[:]``, only then: the Ray tasks
    pass their targets' reader). Returns (scores, ids, rows searched exactly)."""
    from ..analyses.retrieval import knn

    s = np.where(i < 0, -np.inf, s).astype(np.float32)
    o = np.lexsort((np.where(i < 0, np.iinfo(np.int64).max, i), -s), axis=1)
    s, i = np.take_along_axis(s, o, 1), np.take_along_axis(i, o, 1).astype(np.int64)
    short = np.nonzero((i[:, :k] < 0).any(axis=1))[0]
    if len(short):
        es, ei = knn(q[short], t if isinstance(t, np.ndarray) else t[:], i.shape[1], normalized=True)
        s[short], i[short] = es, ei
    return s, i, len(short)


def ann_neighbours(q: np.ndarray, t_raw: np.ndarray, tn: np.ndarray, k: int, *, key: str = "auto",
                   nprobe: int | None = None, target_recall: float = 0.95, threads: int | None = None,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, AnnSearch]:
    """k-NN of normalised queries ``q`` among the targets (``t_raw`` as given, ``tn``
    normalised) from an IVF index over the targets (see the module docstring)."""
    idx = build_side(t_raw, key=key, threads=threads, seed=seed)
    npb, nlist, rec = set_nprobe(idx, q, k, nprobe=nprobe, target_recall=target_recall, seed=seed)
    c = min(k, len(tn))
    s, i = idx.search_raw(q, c, prepared=True)
    s, i, fb = canonical(s, i, q, tn, c)
    return s, i, AnnSearch(idx.meta.key, npb, nlist, rec, fb)


def mine_ann(x: np.ndarray, y: np.ndarray, k: int = 4, margin: str = "ratio", mode: str = "max", *,
             key: str = "auto", nprobe: int | None = None, target_recall: float = 0.95,
             threads: int | None = None, seed: int = 0) -> tuple[Any, tuple[AnnSearch, AnnSearch]]:
    """:func:`mbert_lab.analyses.retrieval.mine` with the neighbours of both directions from
    IVF indexes (one over each side). Returns (pairs, (forward search, backward search))."""
    from ..analyses.retrieval import MinedPairs, mine_from_neighbours, mining_inputs

    prep = mining_inputs(x, y, k, margin, mode)
    if prep is None:
        return MinedPairs.empty(), ()  # type: ignore[return-value]
    xn, yn, m, md = prep
    kw = {"key": key, "nprobe": nprobe, "target_recall": target_recall, "threads": threads, "seed": seed}
    sx, ix, fwd = ann_neighbours(xn, y, yn, k, **kw)
    sy, iy, bwd = ann_neighbours(yn, x, xn, k, **kw)
    return mine_from_neighbours(sx, ix, sy, iy, k, m, (md,))[md], (fwd, bwd)
