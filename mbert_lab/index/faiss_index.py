"""A FAISS vector index with metadata: type chosen under a memory budget, search parameters
tuned to a recall target, saved and verified on load.

Similarity is cosine: vectors are (optionally transformed, then) L2-normalised and searched
by inner product (``METRIC_INNER_PRODUCT``).

Index choice (:func:`choose_index`), in the spirit of FAISS's "guidelines to choose an index"
and of autofaiss, but with this project's own thresholds (2 CPU cores, build time matters):

- ``n <= exact_max`` (default 50,000): ``Flat``, exact search is cheap at that size;
- ``n <= hnsw_max`` (default 300,000) and an HNSW graph fits the budget: ``HNSW32``
  (best speed/recall; its build cost grows quickly beyond that on 2 cores);
- ``n > hnsw_max`` and a float16 copy fits the budget: ``IVF<nlist>,PQ<d/4>x4fsr,Refine(SQfp16)``
  with ``nlist`` the power of two nearest ``4 sqrt(n)``: the probed lists are scanned as 4-bit
  fast-scan PQ codes of the residuals (d/8 bytes a vector, SIMD lookups), the best
  ``k * k_factor_rf`` candidates re-ranked from float16 copies of the vectors; both ``nprobe``
  and ``k_factor_rf`` are tuned (``docs/ann.md``: on 1.5M real token vectors it is faster than
  IVF-Flat at every recall target, with half its memory);
- the uncompressed vectors fit the budget: ``IVF<nlist>,Flat`` (at least 39 training points
  per list);
- otherwise product quantisation: ``IVF<nlist>,PQ<m>`` with the largest code size ``m``
  that fits, and an OPQ rotation in front (``OPQ<m>_<d>,IVF<nlist>,PQ<m>``) when the code
  is small relative to the dimension (``d / m >= 8``), where the rotation pays off most.

Any FAISS factory string may be given instead (``key="IVF1024,PQ32"``).

Files (one directory per index): ``index.faiss`` (FAISS binary), ``items.jsonl`` (one line
per vector: language, sentence id, text), ``meta.json`` (format version, model provenance,
layer, transform, dimension, count, factory key, search parameters, sha256 of both data
files), and ``means.npy`` when the transform is per-language centering. ``load`` checks
the checksums, the dimension and (if asked) the model, and can memory-map the index.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(100, 8)).astype("float32")
>>> idx = VectorIndex.build(x, [Item("en", str(i), f"s{i}") for i in range(100)], key="Flat")
>>> idx.search(x[:1], k=1)[0][0].sid
'0'
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError, MbertLabError, choice_error
from ..io import atomic_open, atomic_write_json, sha256_file

FORMAT_VERSION = 2  # 2: items in input order, held-out tuning rows mapped (extra.held_rows)
READS = (1, 2)  # version 1 stored items in FAISS (add) order and had no held_rows: the same reading
GiB = 1 << 30


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - faiss-cpu is a core dependency
        raise MbertLabError("faiss is not installed: pip install faiss-cpu") from e
    return faiss


class Transform(str, enum.Enum):
    NONE = "none"  # L2 normalisation only
    CENTER = "center"  # subtract the vector's language mean, then L2-normalise


def as_transform(name: str | Transform) -> Transform:
    try:
        return Transform(name)
    except ValueError:
        raise choice_error("transform", name, [t.value for t in Transform]) from None


class IndexCorruptError(InputError):
    """The index files do not match their recorded checksums or are unreadable."""


class ModelMismatchError(InputError):
    """The index was built from another model than the one used for the query."""


@dataclass(frozen=True)
class Item:
    """What one index row stands for."""

    lang: str
    sid: str  # sentence (or word occurrence) id
    text: str


@dataclass(frozen=True)
class Hit:
    rank: int
    row: int
    score: float
    lang: str
    sid: str
    text: str


@dataclass(frozen=True)
class IndexPlan:
    key: str  # FAISS factory string
    kind: str  # flat | hnsw | ivf_flat | ivf_pq | opq_ivf_pq | custom
    bytes_estimate: int
    reason: str
    train_size: int = 0  # vectors needed to train (0: no training)


@dataclass
class IndexMeta:
    format_version: int
    dim: int
    ntotal: int
    key: str
    kind: str
    metric: str = "cosine (L2-normalised, inner product)"
    model: dict[str, Any] = field(default_factory=dict)  # ModelProvenance as dict
    layer: int | None = None
    unit: str = "sentence"  # sentence | word
    pooling: str | None = None
    transform: str = "none"
    search_params: dict[str, int] = field(default_factory=dict)
    tuning: dict[str, Any] = field(default_factory=dict)
    build_seconds: float = 0.0
    sha256: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- choice


def parse_bytes(s: str | float) -> int:
    """'24G' / '512M' / '1.5GiB' / 1000 -> bytes.

    >>> parse_bytes("2G"), parse_bytes("512MiB"), parse_bytes(1000)
    (2147483648, 536870912, 1000)
    """
    if isinstance(s, (int, float)):
        return int(s)
    t = str(s).strip().upper().replace("IB", "").replace("B", "")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    try:
        if t and t[-1] in mult:
            return int(float(t[:-1]) * mult[t[-1]])
        return int(float(t))
    except ValueError:
        raise ConfigError(f"bad memory size '{s}'; use e.g. 24G, 512M") from None


def _nlist_for(n: int) -> int:
    x = 4 * math.sqrt(max(n, 1))
    nl = 2 ** round(math.log2(x))
    nl = min(nl, 65536, max(1, n // 39))  # k-means wants >= 39 points per list
    return max(1, int(2 ** math.floor(math.log2(nl))) if nl >= 1 else 1)


def estimate_bytes(kind: str, n: int, d: int, nlist: int = 0, m: int = 0, hnsw_m: int = 32) -> int:
    """Rough index size in bytes (vectors + ids + coarse centroids + links)."""
    if kind == "flat":
        return 4 * d * n
    if kind == "hnsw":
        return n * (4 * d + 2 * hnsw_m * 4 + 8)  # level-0 links dominate; upper levels ~ +3%
    if kind == "ivf_flat":
        return n * (4 * d + 8) + nlist * d * 4
    if kind in ("ivf_pq", "opq_ivf_pq"):
        extra = d * d * 4 if kind == "opq_ivf_pq" else 0
        return n * (m + 8) + nlist * d * 4 + 256 * d * 4 + extra
    if kind == "ivf_refine":  # m 4-bit PQ codes + ids in the lists, a float16 copy to re-rank
        return n * (m // 2 + 8 + 2 * d) + nlist * d * 4 + 16 * d * 4
    raise ConfigError(f"unknown index kind {kind}")


def choose_index(
    n: int,
    d: int,
    memory_budget: int | str = "4G",
    exact_max: int = 50_000,
    hnsw_max: int = 300_000,
    hnsw_m: int = 32,
) -> IndexPlan:
    """Pick a FAISS factory string for n vectors of dimension d within a memory budget.

    >>> choose_index(10_000, 384).key
    'Flat'
    >>> choose_index(1_000_000, 384, "24G").key
    'IVF4096,PQ96x4fsr,Refine(SQfp16)'
    >>> choose_index(250_000, 384, "400M").key  # HNSW's graph does not fit
    'IVF2048,Flat'
    >>> choose_index(1_000_000, 384, "100M").key
    'IVF4096,PQ64'
    >>> choose_index(1_000_000, 384, "40M").key
    'OPQ24_384,IVF4096,PQ24'
    """
    budget = parse_bytes(memory_budget)
    if n < 1 or d < 1:
        raise ConfigError(f"cannot build an index over {n} vectors of dimension {d}")
    flat = estimate_bytes("flat", n, d)
    if n <= exact_max and flat <= budget:
        return IndexPlan("Flat", "flat", flat, f"n={n} <= {exact_max}: exact search is cheap")
    hn = estimate_bytes("hnsw", n, d, hnsw_m=hnsw_m)
    if n <= hnsw_max and hn <= budget:
        return IndexPlan(f"HNSW{hnsw_m}", "hnsw", hn, f"n={n} <= {hnsw_max} and the graph fits ({hn / GiB:.2f} GiB)")
    nlist = _nlist_for(n)
    train = min(n, max(40 * nlist, 20_000))  # faiss asks for 39+ points per list
    m4 = d // 4 if d % 8 == 0 else 0  # 4-bit fast-scan PQ over 4 dimensions per code
    rf = estimate_bytes("ivf_refine", n, d, nlist=nlist, m=m4) if m4 else budget + 1
    if n > hnsw_max and rf <= budget:
        return IndexPlan(
            f"IVF{nlist},PQ{m4}x4fsr,Refine(SQfp16)", "ivf_refine", rf,
            f"n={n} > {hnsw_max}: lists scanned as 4-bit fast-scan PQ codes of the residuals, the candidates "
            f"re-ranked from float16 copies ({rf / GiB:.2f} GiB): on 1.5M real token vectors faster than "
            "IVF-Flat at every recall target and half its memory (docs/ann.md)", train)
    ivf = estimate_bytes("ivf_flat", n, d, nlist=nlist)
    if ivf <= budget:
        return IndexPlan(
            f"IVF{nlist},Flat", "ivf_flat", ivf, f"uncompressed vectors fit the budget ({ivf / GiB:.2f} GiB)", train
        )
    fixed = nlist * d * 4 + 256 * d * 4
    for m in (128, 96, 64, 48, 32, 24, 16, 12, 8, 4):
        if m >= d or d % m:
            continue
        use_opq = d // m >= 8
        kind = "opq_ivf_pq" if use_opq else "ivf_pq"
        b = estimate_bytes(kind, n, d, nlist=nlist, m=m)
        if b <= budget:
            key = f"OPQ{m}_{d},IVF{nlist},PQ{m}" if use_opq else f"IVF{nlist},PQ{m}"
            ptrain = min(n, max(train, 256 * 40))
            return IndexPlan(key, kind, b, f"compressed to {m} bytes/vector to fit {budget / GiB:.2f} GiB", ptrain)
    raise ConfigError(
        f"{n} vectors of dimension {d} do not fit a {budget / GiB:.2f} GiB budget even with 4-byte PQ codes "
        f"(fixed part alone {fixed / GiB:.2f} GiB); raise --memory"
    )


def kind_of_key(key: str) -> str:
    k = key.replace(" ", "")
    if "IVF" in k and ("Refine(" in k or k.endswith(",RFlat")):
        return "ivf_refine"
    if k.startswith("OPQ") and "PQ" in k.split(",", 1)[-1]:
        return "opq_ivf_pq"
    if "IVF" in k and ",PQ" in k:
        return "ivf_pq"
    if "IVF" in k and k.endswith(",Flat"):
        return "ivf_flat"
    if k.startswith("HNSW"):
        return "hnsw"
    if k == "Flat":
        return "flat"
    if "IVF" in k:
        return "ivf_other"
    return "custom"


def search_param_name(kind: str) -> str | None:
    if kind == "hnsw":
        return "efSearch"
    return "nprobe" if kind.startswith(("ivf", "opq_ivf")) else None


def refine_factors(k: int) -> list[int]:
    """``k_factor_rf`` values tried for a refined index: the base index returns k * factor
    candidates, re-ranked exactly; between max(32, 2k) and max(1024, 32k) candidates (on 1.5M
    token vectors with 4-bit PQ, recall@1 0.98 wanted 256 candidates or more; recall@10 0.95, 160).

    >>> refine_factors(1), refine_factors(10)
    ([32, 64, 128, 256, 512, 1024], [4, 8, 16, 32, 64])
    """
    lo, hi = max(32, 2 * k), max(1024, 32 * k)
    return [f for f in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if lo <= k * f <= hi]


# ----------------------------------------------------------------------------- the index


def prepare(
    x: np.ndarray, langs: Sequence[str] | None = None, transform: Transform = Transform.NONE,
    means: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Apply the transform (per-language centering) and L2-normalise, float32 C-contiguous."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if transform is Transform.CENTER:
        if langs is None or means is None:
            raise ConfigError("centering needs the language of every vector")
        x = x.copy()
        for lang in set(langs):
            if lang not in means:
                raise InputError(
                    f"no language mean for '{lang}' in this index (centred on: {', '.join(sorted(means))}); "
                    "query a language the index was built with, or build without --transform center"
                )
            rows = np.array([i for i, lg in enumerate(langs) if lg == lang])
            x[rows] -= means[lang]
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(n, 1e-12), dtype=np.float32)


ADD_BLOCK = 65536  # rows normalised and added at a time


def _reserve(index: Any, n: int) -> None:
    """Reserve the flat code storage of ``index`` (a flat, HNSW or refinement index) for ``n``
    vectors: adding in blocks then never reallocates it (a doubling vector would briefly hold
    the old and the new copy, up to 3x the codes). Inverted lists are not reserved."""
    faiss = _faiss()
    ix = faiss.downcast_index(index)
    for attr in ("refine_index", "storage"):
        if hasattr(ix, attr) and getattr(ix, attr) is not None:
            ix = faiss.downcast_index(getattr(ix, attr))
            break
    codes = getattr(ix, "codes", None)
    size = getattr(ix, "code_size", 0)
    if codes is None or not size or not hasattr(codes, "resize"):
        return
    have = int(ix.ntotal) * int(size)
    codes.resize(have + int(n) * int(size))  # std::vector: a smaller resize keeps the capacity
    codes.resize(have)


def _is_array_like(x: Any) -> bool:
    """A 2-D array-like readable by slices and index arrays (ndarray, memmap, or a view object
    with ``shape``, ``ndim``, ``__len__`` and ``__getitem__``) that need not fit in memory."""
    return all(hasattr(x, a) for a in ("shape", "ndim", "__len__", "__getitem__"))


def _streamed_means(x: Any, langs: Sequence[str]) -> dict[str, np.ndarray]:
    la = np.asarray(langs)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for lo in range(0, len(x), ADD_BLOCK):
        blk = np.asarray(x[lo : lo + ADD_BLOCK], np.float64)
        for lang in set(la[lo : lo + ADD_BLOCK].tolist()):
            m = la[lo : lo + ADD_BLOCK] == lang
            sums[lang] = sums.get(lang, 0) + blk[m].sum(axis=0)
            counts[lang] = counts.get(lang, 0) + int(m.sum())
    return {lang: (sums[lang] / counts[lang]).astype(np.float32) for lang in sorted(sums)}


def language_means(x: np.ndarray, langs: Sequence[str]) -> dict[str, np.ndarray]:
    la = np.asarray(langs)
    return {lang: np.asarray(x[la == lang], np.float32).mean(axis=0) for lang in sorted(set(langs))}


@dataclass(frozen=True)
class TuneResult:
    param: str | None
    value: int | None
    target_recall: float
    recall: float
    k: int
    n_queries: int
    tried: dict[int, float]  # primary value -> recall@k, at the chosen secondary parameters
    qps: float
    cross_lingual_share: float | None = None  # queries whose exact top-1 is in another language
    params: dict[str, int] = field(default_factory=dict)  # every search parameter chosen
    candidates: list[dict[str, Any]] = field(default_factory=list)  # per refinement setting: params, recall, q/s
    truth: str = "reconstructed"  # where the exact neighbours came from: given | streamed | reconstructed


class _TopK:
    """Running exact top-k (inner product) of fixed queries over blocks of base rows."""

    def __init__(self, q: np.ndarray, k: int) -> None:
        self.q, self.k = q, k
        self.s = np.full((len(q), 0), -np.inf, np.float32)
        self.i = np.zeros((len(q), 0), np.int64)

    def update(self, xb: np.ndarray, row_ids: np.ndarray) -> None:
        if len(xb) == 0:
            return
        s, i = _faiss().knn(self.q, np.ascontiguousarray(xb, np.float32), min(self.k, len(xb)),
                            metric=_faiss().METRIC_INNER_PRODUCT)
        s = np.concatenate([self.s, s], axis=1)
        i = np.concatenate([self.i, np.asarray(row_ids, np.int64)[i]], axis=1)
        o = np.lexsort((i, -s), axis=1)[:, : self.k]  # score descending, then row ascending
        self.s, self.i = np.take_along_axis(s, o, 1), np.take_along_axis(i, o, 1)


def held_out(n: int, hold_out: int, target_recall: float | None, kind: str, rng: Any, rows: Any, tune_k: int,
             meta: Any) -> tuple[np.ndarray, np.ndarray, _TopK | None]:
    """The rows a build holds out to tune on (mask, sorted rows), drawn from ``rng``, and the
    running exact top-``tune_k`` of their prepared vectors (``rows(held)``), which the build
    updates block by block while adding; recorded in ``meta.extra`` (FAISS ids: the others
    first, then these)."""
    hold = np.zeros(n, bool)
    if hold_out and target_recall is not None and search_param_name(kind) and n > hold_out * 2:
        hold[rng.choice(n, hold_out, replace=False)] = True
    held = np.nonzero(hold)[0]
    truth = _TopK(rows(held), max(1, int(tune_k))) if len(held) else None
    if len(held):
        meta.extra.update(held_rows=held.tolist(), held_of=n)
    return hold, held, truth


def add_blocks(n: int, hold: np.ndarray) -> Any:
    """Input rows in blocks of ``ADD_BLOCK``, the held-out ones left out."""
    for lo in range(0, n, ADD_BLOCK):
        sel = np.arange(lo, min(n, lo + ADD_BLOCK))[~hold[lo : lo + ADD_BLOCK]]
        if len(sel):
            yield sel


class _RowsOf(Sequence):  # type: ignore[type-arg]
    """A lazy view of ``items`` at ``rows`` (no Item objects made for a block being added)."""

    def __init__(self, items: Sequence[Item], rows: np.ndarray) -> None:
        self._items, self._rows = items, rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._items[int(r)] for r in self._rows[i]]
        return self._items[int(self._rows[i])]


class _Discard(list):  # type: ignore[type-arg]
    """``items`` during the first add: the input sequence is kept as given instead."""

    def extend(self, _: Any) -> None:
        pass


class VectorIndex:
    """A FAISS index plus its rows' metadata and provenance.

    Row numbers are input rows: ``items[i]`` is the i-th input vector's metadata and
    ``search_raw`` returns input row numbers, also when tuning rows were held out of the first
    add (FAISS stores them last: ``meta.extra['held_rows']`` maps FAISS ids back).
    """

    def __init__(self, index: Any, items: Sequence[Item], meta: IndexMeta, means: dict[str, np.ndarray] | None = None,
                 read_only: bool = False) -> None:
        self.index = index
        self.items = items
        self.meta = meta
        self.means = means
        self.read_only = read_only
        self._order: np.ndarray | None = None

    # -- construction ---------------------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        items: Sequence[Item],
        *,
        key: str = "auto",
        memory_budget: int | str = "4G",
        model: dict[str, Any] | None = None,
        layer: int | None = None,
        unit: str = "sentence",
        pooling: str | None = None,
        transform: str | Transform = "none",
        seed: int = 0,
        threads: int | None = None,
        hold_out: int = 0,
        target_recall: float | None = None,
        tune_k: int = 1,
        **choose_kw: Any,
    ) -> VectorIndex:
        """Build an index over ``vectors`` (one row per item).

        ``vectors`` may be any 2-D array-like read by slices (a float16 memmap): it is read,
        normalised and added in blocks of ``ADD_BLOCK`` rows, so no float32 copy of the whole is
        held besides the index. ``items`` is kept as given (a lazy sequence stays lazy).

        ``hold_out``: hold this many random rows back from the first ``add`` to tune the
        search parameters (queries whose own row is absent, so their nearest neighbours are
        other sentences, mostly other languages' translations in a multilingual pool); their
        exact neighbours are computed while the blocks are added (never from the index's
        reconstructed vectors), and they are added afterwards. Row numbers stay input rows.
        ``target_recall`` (e.g. 0.95) switches tuning on, for recall@``tune_k``.
        """
        faiss = _faiss()
        if threads:
            faiss.omp_set_num_threads(int(threads))
        x = vectors if _is_array_like(vectors) else np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise InputError(f"need a non-empty 2-D array of vectors, got shape {x.shape}")
        if len(items) != len(x):
            raise InputError(f"{len(x)} vectors but {len(items)} metadata rows")
        tr = as_transform(transform)
        langs = [it.lang for it in items] if tr is Transform.CENTER or hold_out else None
        means = None
        if tr is Transform.CENTER:
            means = language_means(x, langs) if isinstance(x, np.ndarray) else _streamed_means(x, langs)
        n, d = x.shape
        t0 = time.perf_counter()
        plan = cls._plan(key, n, d, memory_budget, choose_kw)
        try:
            index = faiss.index_factory(d, plan.key, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as e:
            raise ConfigError(f"FAISS cannot build index '{plan.key}': {str(e).splitlines()[-1]}") from None
        rng = np.random.default_rng(seed)

        def rows(sel: np.ndarray) -> np.ndarray:  # prepared rows (sorted indices), read in order
            return prepare(np.asarray(x[sel], np.float32), None if langs is None else [langs[i] for i in sel],
                           tr, means)

        if not index.is_trained:
            ntrain = plan.train_size or min(n, 100_000)
            sel = np.arange(n) if ntrain >= n else np.sort(rng.choice(n, ntrain, replace=False))
            xt = rows(sel)
            index.train(xt)
            del xt
        meta = IndexMeta(
            format_version=FORMAT_VERSION, dim=d, ntotal=0, key=plan.key, kind=plan.kind,
            model=dict(model or {}), layer=layer, unit=unit, pooling=pooling, transform=tr.value,
            extra={"plan_reason": plan.reason, "bytes_estimate": plan.bytes_estimate},
        )
        self = cls(index, _Discard(), meta, means)
        _reserve(index, n)
        hold, held, truth = held_out(n, hold_out, target_recall, plan.kind, rng, rows, tune_k, self.meta)
        for sel in add_blocks(n, hold):
            xb = rows(sel)
            if truth is not None:
                truth.update(xb, sel)
            self._add_prepared(xb, _RowsOf(items, sel))
            del xb
        kept = list(items) if isinstance(items, (list, tuple)) else items  # input order, as given
        if truth is not None:
            self.items = kept
            self.tune(truth.q, target_recall=float(target_recall), k=tune_k, prepared=True,
                      query_langs=[langs[i] for i in held], exact=truth.i, truth="streamed")
            self.items = _Discard()
            self._add_prepared(truth.q, _RowsOf(items, held))
        self.items = kept
        self.meta.build_seconds = time.perf_counter() - t0
        if target_recall is not None and truth is None and search_param_name(plan.kind):
            # no hold-out possible (tiny set): tune with the data itself (self matches excluded)
            self.tune(rows(np.sort(rng.choice(n, min(n, 500), replace=False))), target_recall=float(target_recall),
                      k=tune_k, prepared=True, exclude_self=True)
        return self

    @staticmethod
    def _plan(key: str, n: int, d: int, memory_budget: int | str, choose_kw: dict[str, Any]) -> IndexPlan:
        if key == "auto":
            return choose_index(n, d, memory_budget, **choose_kw)
        m = re.search(r"IVF(\d+)", key)
        train = min(n, max(40 * int(m.group(1)), 20_000)) if m else (min(n, 100_000) if "PQ" in key else 0)
        return IndexPlan(key, kind_of_key(key), 0, "given", train)

    def _add_prepared(self, xn: np.ndarray, items: Sequence[Item]) -> None:
        if self.read_only:
            raise ConfigError("this index was loaded memory-mapped (read-only); load it without --mmap to add")
        if xn.shape[1] != self.meta.dim:
            raise InputError(f"dimension mismatch: index has {self.meta.dim}, vectors have {xn.shape[1]}")
        self.index.add(xn)
        self.items.extend(items)
        self.meta.ntotal = int(self.index.ntotal)

    def add(self, vectors: np.ndarray, items: Sequence[Item]) -> None:
        """Add vectors incrementally (same transform as the index; new languages need no mean
        only without centering)."""
        x = np.asarray(vectors, np.float32)
        if x.ndim != 2:
            raise InputError(f"expected a 2-D array, got shape {x.shape}")
        if len(items) != len(x):
            raise InputError(f"{len(x)} vectors but {len(items)} metadata rows")
        if x.shape[1] != self.meta.dim:
            raise InputError(f"dimension mismatch: index has {self.meta.dim}, vectors have {x.shape[1]}")
        tr = Transform(self.meta.transform)
        if tr is Transform.CENTER:
            assert self.means is not None
            for lang, m in language_means(x, [it.lang for it in items]).items():
                self.means.setdefault(lang, m)  # a new language brings its own mean
        if not isinstance(self.items, list):
            self.items = list(self.items)
        self._add_prepared(prepare(x, [it.lang for it in items], tr, self.means), items)

    # -- row numbers ----------------------------------------------------------------
    def faiss_to_rows(self, ids: np.ndarray) -> np.ndarray:
        """FAISS ids (add order) -> input row numbers (-1 stays -1)."""
        if not self.meta.extra.get("held_rows"):
            return ids
        if self._order is None:
            self._order = add_order(self.meta)
        return faiss_to_rows(self.meta, ids, self._order)

    # -- search ---------------------------------------------------------------------
    def set_search_params(self, params: dict[str, int]) -> None:
        faiss = _faiss()
        ps = faiss.ParameterSpace()
        for name, value in params.items():
            if name == "efSearch" and hasattr(self.index, "hnsw"):
                self.index.hnsw.efSearch = int(value)
            else:
                ps.set_index_parameter(self.index, name, int(value))
        self.meta.search_params = {k: int(v) for k, v in params.items()}

    def prepare_queries(self, queries: np.ndarray, langs: Sequence[str] | str | None = None) -> np.ndarray:
        q = np.asarray(queries, np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or len(q) == 0:
            raise InputError("empty query: give at least one query vector")
        if q.shape[1] != self.meta.dim:
            raise InputError(f"dimension mismatch: index has {self.meta.dim}, query has {q.shape[1]}")
        tr = Transform(self.meta.transform)
        if isinstance(langs, str):
            langs = [langs] * len(q)
        return prepare(q, langs, tr, self.means)

    def search_raw(self, queries: np.ndarray, k: int, prepared: bool = False,
                   langs: Sequence[str] | str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, input row numbers) of the top-k per query; -1 where fewer were found."""
        if k < 1:
            raise ConfigError("k must be >= 1")
        q = np.ascontiguousarray(queries, np.float32) if prepared else self.prepare_queries(queries, langs)
        if self.meta.ntotal == 0:
            raise InputError("the index is empty")
        s, ids = self.index.search(q, min(int(k), self.meta.ntotal))
        return s, self.faiss_to_rows(ids)

    def search(self, queries: np.ndarray, k: int = 10, langs: Sequence[str] | str | None = None,
               to: Sequence[str] | None = None) -> list[list[Hit]]:
        """Top-k hits per query; ``to`` keeps only rows in those languages (k per query in
        total, ranked by score). Over-fetches until k hits in the wanted languages are found
        (up to max(65536, 64 k) candidates: a language rarer than that may get fewer hits)."""
        q = self.prepare_queries(queries, langs)
        want = set(to) if to else None
        if want is not None:
            have = {it.lang for it in self.items}
            missing = sorted(want - have)
            if missing:
                raise InputError(f"language(s) {', '.join(missing)} not in this index (has: {', '.join(sorted(have))})")
        fetch = k if want is None else min(self.meta.ntotal, max(4 * k, 32))
        while True:
            s, ids = self.search_raw(q, fetch, prepared=True)
            out: list[list[Hit]] = []
            short = False
            for row_s, row_i in zip(s, ids):
                hits: list[Hit] = []
                for sc, i in zip(row_s, row_i):
                    if i < 0:
                        continue
                    it = self.items[int(i)]
                    if want is not None and it.lang not in want:
                        continue
                    hits.append(Hit(len(hits) + 1, int(i), float(sc), it.lang, it.sid, it.text))
                    if len(hits) == k:
                        break
                short |= len(hits) < k
                out.append(hits)
            cap = min(self.meta.ntotal, max(1 << 16, 64 * k))  # bounded work for rare languages
            if not short or fetch >= cap or want is None:
                return out
            fetch = min(cap, fetch * 4)

    # -- tuning ---------------------------------------------------------------------
    def tune(self, queries: np.ndarray, target_recall: float = 0.95, k: int = 1, prepared: bool = False,
             exclude_self: bool = False, langs: Sequence[str] | None = None,
             query_langs: Sequence[str] | None = None, exact: np.ndarray | None = None,
             truth: str = "given") -> TuneResult:
        """The fastest search parameters whose recall@k against exact search reaches the target.

        The primary parameter (nprobe / efSearch) is the smallest value reaching the target
        (grid, then bisection); for a refined index (``...,Refine(...)``) that is found for each
        ``k_factor_rf`` of :func:`refine_factors` and the setting with the highest measured q/s
        on these queries wins.

        ``exact``: the queries' exact top-k input rows (at least k columns), e.g. computed once
        by blocks over the raw vectors. Without it they come from brute force over the index's
        own vectors (reconstructed: for compressed indexes this measures the search error, not
        the quantisation error; it decodes every vector, so pass ``exact`` for large indexes).
        ``query_langs`` (or ``langs``): the queries' languages, to report how many of them are
        cross-lingual (their exact nearest neighbour is in another language).
        """
        q = np.ascontiguousarray(queries, np.float32) if prepared else self.prepare_queries(queries, langs)
        name = search_param_name(self.meta.kind)
        extra = int(exclude_self)
        if exact is None:
            exact = self.exact_search(q, k + extra)
            truth = "reconstructed"
            if exclude_self:
                exact = _drop_self(exact, k)
        exact = np.asarray(exact)[:, :k]
        ql = query_langs if query_langs is not None else langs
        xshare = None
        if ql is not None and len(ql) == len(q):
            xshare = float(np.mean([self.items[int(e[0])].lang != lg for e, lg in zip(exact, ql)]))
        if name is None:
            return TuneResult(None, None, target_recall, 1.0, k, len(q), {}, 0.0, xshare, truth=truth)

        def recall_at(params: dict[str, int]) -> float:
            self.set_search_params(params)
            _, ids = self.search_raw(q, k + extra, prepared=True)
            return _recall(_drop_self(ids, k) if exclude_self else ids, exact, k)

        cands: list[dict[str, Any]] = []
        grid = self._primary_grid(name, k)
        for sec in reversed(self._secondary_grid(k)):  # most refinement candidates first
            reached = [c["params"][name] for c in cands if c["recall"] >= target_recall]
            # fewer candidates need at least as many lists; beyond twice the lists of a setting
            # that reached the target they are slower (the scan dominates): not climbed further
            g = [v for v in grid if not reached or v <= 2 * min(reached)] or grid[:1]
            value, tried = _smallest_reaching(lambda v, s=sec: recall_at({name: v, **s}), g,
                                              target_recall, 0 if name == "nprobe" else max(k, 1) - 1)
            params = {name: value, **sec}
            cands.append({"params": params, "recall": tried[value], "tried": tried,
                          "qps": self._qps(q, k + extra, params)})
        ok = [c for c in cands if c["recall"] >= target_recall] or [max(cands, key=lambda c: c["recall"])]
        best = max(ok, key=lambda c: c["qps"])
        self.set_search_params(best["params"])
        res = TuneResult(name, best["params"][name], target_recall, best["recall"], k, len(q),
                         dict(sorted(best["tried"].items())), best["qps"], xshare, dict(best["params"]),
                         [{k_: v for k_, v in c.items() if k_ != "tried"} for c in cands] if len(cands) > 1 else [],
                         truth)
        self.meta.tuning = dataclasses.asdict(res)
        return res

    def _primary_grid(self, name: str, k: int) -> list[int]:
        if name == "nprobe":
            hi = int(_faiss().extract_index_ivf(self.index).nlist)
            return [v for v in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384) if v < hi] + [hi]
        return [max(16, k), 32, 64, 128, 256, 512, 1024, 2048, 4096]

    def _secondary_grid(self, k: int) -> list[dict[str, int]]:
        if self.meta.kind == "ivf_refine":
            return [{"k_factor_rf": f} for f in refine_factors(k)]
        return [{}]

    def _qps(self, q: np.ndarray, k: int, params: dict[str, int], repeats: int = 2) -> float:
        self.set_search_params(params)
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            self.search_raw(q, k, prepared=True)
            best = min(best, time.perf_counter() - t0)
        return len(q) / max(best, 1e-9)

    def exact_search(self, q: np.ndarray, k: int, block: int = 65536) -> np.ndarray:
        """Brute-force top-k input rows over the index's stored vectors (prepared queries),
        one block of decoded vectors at a time."""
        k = min(k, self.meta.ntotal)
        if self.meta.kind == "flat":
            return self.faiss_to_rows(self.index.search(q, k)[1])
        top = _TopK(q, k)
        for lo in range(0, self.meta.ntotal, block):
            hi = min(self.meta.ntotal, lo + block)
            top.update(self.reconstruct_range(lo, hi), np.arange(lo, hi))
        return self.faiss_to_rows(top.i)

    def reconstruct_range(self, lo: int, hi: int) -> np.ndarray:
        """Stored (normalised, transformed; decoded if compressed) vectors of FAISS ids lo..hi-1
        (add order: :meth:`faiss_to_rows` gives their input rows)."""
        faiss = _faiss()
        base = faiss.downcast_index(self.index)
        if isinstance(base, faiss.IndexRefine):  # the refinement index holds every vector
            return np.ascontiguousarray(base.refine_index.reconstruct_n(lo, hi - lo), np.float32)
        ivf = None
        try:
            ivf = faiss.extract_index_ivf(self.index)
        except RuntimeError:
            pass
        if ivf is not None and not ivf.direct_map.type:
            ivf.make_direct_map()
        x = self.index.reconstruct_n(lo, hi - lo)
        return np.ascontiguousarray(x, np.float32)

    def reconstruct_ids(self, ids: np.ndarray, block: int = 65536) -> np.ndarray:
        """Stored vectors of the FAISS ids ``ids`` (any order), decoded one block of ids at a
        time: memory is ``block`` vectors, not the whole index."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.meta.ntotal):
            raise IndexError(f"ids outside 0..{self.meta.ntotal - 1}")
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        out: np.ndarray | None = None
        for lo in range(0, self.meta.ntotal, block):
            hi = min(self.meta.ntotal, lo + block)
            a, b = np.searchsorted(sorted_ids, [lo, hi])
            if a < b:
                x = self.reconstruct_range(lo, hi)
                if out is None:
                    out = np.empty((len(ids), x.shape[1]), np.float32)
                out[order[a:b]] = x[sorted_ids[a:b] - lo]
        return out if out is not None else np.empty((0, self.meta.dim), np.float32)

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the index directory atomically file by file; meta.json (with checksums) last."""
        faiss = _faiss()
        d = Path(path)
        d.mkdir(parents=True, exist_ok=True)
        ivf = None
        try:
            ivf = faiss.extract_index_ivf(self.index)
        except RuntimeError:
            pass
        if ivf is not None and ivf.direct_map.type:
            ivf.set_direct_map_type(faiss.DirectMap.NoMap)  # not needed on disk
        with atomic_open(d / "index.faiss", "wb") as f:  # streamed: no serialized copy in memory
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(f.write))
        with atomic_open(d / "items.jsonl", "w") as f:
            for it in self.items:
                f.write(json.dumps([it.lang, it.sid, it.text], ensure_ascii=False) + "\n")
        files = ["index.faiss", "items.jsonl"]
        if self.means is not None:
            langs = sorted(self.means)
            with atomic_open(d / "means.npy", "wb") as f:
                np.save(f, np.stack([self.means[lg] for lg in langs]))
            self.meta.extra["mean_langs"] = langs
            files.append("means.npy")
        self.meta.sha256 = {name: sha256_file(d / name) for name in files}
        atomic_write_json(d / "meta.json", dataclasses.asdict(self.meta))
        return d

    @classmethod
    def load(cls, path: str | Path, expect_model: dict[str, Any] | None = None, mmap: bool = False,
             verify: bool = True, expect_dim: int | None = None) -> VectorIndex:
        """Load and verify an index directory.

        ``expect_model``: the querying encoder's provenance; an index built from another model
        (different model id or weights checksum) is rejected. ``mmap``: memory-map the FAISS
        data (large indexes; read-only). ``verify``: check the sha256 of every file.
        """
        faiss = _faiss()
        d = Path(path)
        mp = d / "meta.json"
        if not mp.exists():
            raise InputError("not an index directory (no meta.json)", path=d)
        try:
            raw = json.loads(mp.read_text(encoding="utf-8"))
            meta = IndexMeta(**raw)
        except (json.JSONDecodeError, TypeError) as e:
            raise IndexCorruptError(f"unreadable index metadata: {e}", path=mp) from None
        if meta.format_version not in READS:
            raise InputError(f"index format {meta.format_version}, this version reads {', '.join(map(str, READS))}",
                             path=mp)
        for name, digest in meta.sha256.items():
            f = d / name
            if not f.exists():
                raise IndexCorruptError(f"missing file {name}", path=d)
            if verify and sha256_file(f) != digest:
                raise IndexCorruptError(f"checksum mismatch for {name}: the file was modified or is corrupt", path=f)
        if expect_model:
            _check_model(meta.model, expect_model, d)
        if expect_dim is not None and expect_dim != meta.dim:
            raise InputError(f"dimension mismatch: index has {meta.dim}, the model gives {expect_dim}", path=d)
        flags = (faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY) if mmap else 0
        try:
            index = faiss.read_index(str(d / "index.faiss"), flags)
        except RuntimeError as e:
            raise IndexCorruptError(f"FAISS cannot read the index: {str(e).splitlines()[-1]}", path=d / "index.faiss") from None
        items: list[Item] = []
        with open(d / "items.jsonl", encoding="utf-8") as fh:
            for ln, line in enumerate(fh, 1):
                try:
                    lang, sid, text = json.loads(line)
                except (json.JSONDecodeError, ValueError) as e:
                    raise IndexCorruptError(f"bad metadata row: {e}", path=d / "items.jsonl", line=ln) from None
                items.append(Item(lang, sid, text))
        if index.d != meta.dim or index.ntotal != meta.ntotal or len(items) != meta.ntotal:
            raise IndexCorruptError(
                f"inconsistent index: dim {index.d} vs {meta.dim}, rows {index.ntotal} vs {meta.ntotal} "
                f"vs {len(items)} metadata rows", path=d)
        means = None
        if meta.transform == Transform.CENTER.value:
            arr = np.load(d / "means.npy")
            means = {lg: arr[i] for i, lg in enumerate(meta.extra.get("mean_langs", []))}
        self = cls(index, items, meta, means, read_only=mmap)
        if meta.search_params:
            self.set_search_params(meta.search_params)
        return self

    def memory_bytes(self) -> int:
        """Serialized size of the FAISS index (what it occupies in RAM when loaded), counted
        while streaming it (no serialized copy is made)."""
        faiss = _faiss()
        total = [0]

        def count(b: bytes) -> int:
            total[0] += len(b)
            return len(b)

        faiss.write_index(self.index, faiss.PyCallbackIOWriter(count))
        return total[0]


def add_order(meta: IndexMeta) -> np.ndarray | None:
    """Input row of every FAISS id of the first build (None: the same numbers). A build that
    held ``meta.extra['held_rows']`` out for tuning added the other rows first, then those."""
    held = meta.extra.get("held_rows")
    if not held:
        return None
    h = np.asarray(held, np.int64)
    keep = np.ones(int(meta.extra["held_of"]), bool)
    keep[h] = False
    return np.concatenate([np.nonzero(keep)[0], h])


def faiss_to_rows(meta: IndexMeta, ids: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """FAISS ids (add order) of an index with this ``meta`` -> input row numbers (-1 stays
    -1; rows added after the build keep their numbers). ``order``: ``add_order(meta)``, cached."""
    order = add_order(meta) if order is None else order
    if order is None:
        return ids
    ids = np.asarray(ids, np.int64)
    inside = (ids >= 0) & (ids < len(order))
    return np.where(inside, order[np.where(inside, ids, 0)], ids)


def _check_model(have: dict[str, Any], want: dict[str, Any], where: Path) -> None:
    for f in ("model_id", "weights_sha256"):
        a, b = have.get(f), want.get(f)
        if a and b and a != b:
            raise ModelMismatchError(
                f"index built from another model: its {f} is '{a}', the query model's is '{b}'; "
                "rebuild the index with this model or query with --model matching the index",
                path=where,
            )


def _drop_self(ids: np.ndarray, k: int) -> np.ndarray:
    """Remove each query's own row (assumed to be its first hit) -> [nq, k]."""
    return ids[:, 1 : k + 1]


def _smallest_reaching(rec: Any, grid: list[int], target: float, floor: int) -> tuple[int, dict[int, float]]:
    """Smallest grid value whose recall reaches the target, refined by bisection with the
    previous grid value; (value, recall of every value tried). Where none reaches it: the
    value with the best recall (the smallest such)."""
    tried: dict[int, float] = {}

    def r(v: int) -> float:
        if v not in tried:
            tried[v] = rec(v)
        return tried[v]

    prev, found = floor, grid[-1]
    for v in grid:
        if r(v) >= target:
            found = v
            break
        prev = v
    lo, hi = prev, found  # recall(lo) < target <= recall(hi): bisect
    while hi - lo > max(1, lo // 8) and r(hi) >= target:
        mid = (lo + hi) // 2
        if mid in (lo, hi):
            break
        if r(mid) >= target:
            hi = mid
        else:
            lo = mid
    best = hi if r(hi) >= target else max(tried, key=lambda v: (tried[v], -v))
    return best, tried


def _recall(ids: np.ndarray, exact: np.ndarray, k: int) -> float:
    hits = [len(set(a[:k].tolist()) & set(e[:k].tolist())) for a, e in zip(ids, exact)]
    return float(np.mean(hits)) / k
