"""Cross-lingual retrieval maths: exact k-NN, LASER-style margin scoring, bitext mining,
Tatoeba accuracy / xSIM error, BUCC-style F1, recall@k against exact search, and
bilingual lexicon induction (BLI) precision@k.

Pure numpy: every function takes vectors (rows = items) and returns arrays or frozen
records; nothing here loads a model, an index or a file. Similarity is cosine: vectors are
L2-normalised here (``normalize``) and compared with inner products.

Margin scoring (Artetxe & Schwenk 2019, as used by LASER): for a candidate pair (x, y),

    margin(x, y) = f( cos(x, y),  mean_{z in NN_k(x)} cos(x, z) / 2 + mean_{z in NN_k(y)} cos(y, z) / 2 )

with ``f(a, b) = a / b`` (ratio), ``a - b`` (distance) or ``a`` (absolute: plain cosine);
``NN_k(x)`` are x's k nearest neighbours on the *other* side.

>>> import numpy as np
>>> x = np.eye(3, dtype=np.float32); y = np.eye(3, dtype=np.float32)
>>> tatoeba_accuracy(x, y).src_to_tgt
1.0
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError, choice_error


class Margin(str, enum.Enum):
    RATIO = "ratio"
    DISTANCE = "distance"
    ABSOLUTE = "absolute"


class MineMode(str, enum.Enum):
    FORWARD = "forward"  # every source sentence keeps its best target
    BACKWARD = "backward"  # every target sentence keeps its best source
    MAX = "max"  # both directions pooled, best first, each sentence used at most once
    INTERSECT = "intersect"  # pairs found in both directions


def as_margin(name: str | Margin) -> Margin:
    try:
        return Margin(name)
    except ValueError:
        raise choice_error("margin", name, [m.value for m in Margin]) from None


def as_mode(name: str | MineMode) -> MineMode:
    try:
        return MineMode(name)
    except ValueError:
        raise choice_error("mining mode", name, [m.value for m in MineMode]) from None


# ----------------------------------------------------------------------------- basics


def normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation in float32 (zero rows stay zero).

    >>> normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise InputError(f"expected a 2-D array of vectors, got shape {x.shape}")
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def center(x: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Subtract a (language) mean: the 'centering' language-neutral transform."""
    x = np.asarray(x, dtype=np.float32)
    return x - (x.mean(axis=0) if mean is None else np.asarray(mean, np.float32))


def _check_pair(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2:
        raise InputError(f"expected 2-D arrays, got shapes {x.shape} and {y.shape}")
    if x.shape[1] != y.shape[1]:
        raise InputError(f"dimension mismatch: {x.shape[1]} vs {y.shape[1]}")


def knn(
    queries: np.ndarray, targets: np.ndarray, k: int, block: int | None = None, normalized: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine k nearest neighbours: (scores [nq, k] descending, ids [nq, k]).

    >>> s, i = knn(np.eye(2), np.array([[1.0, 0.0], [0.6, 0.8]]), 2)
    >>> i.tolist()
    [[0, 1], [1, 0]]
    """
    q = np.asarray(queries, np.float32) if normalized else normalize(queries)
    t = np.asarray(targets, np.float32) if normalized else normalize(targets)
    _check_pair(q, t)
    if len(t) == 0:
        raise InputError("no target vectors to search")
    k = min(int(k), len(t))
    if k < 1:
        raise ConfigError("k must be >= 1")
    if block is None:  # keep a block's similarity matrix near 20M entries (80 MB)
        block = max(1, min(4096, 20_000_000 // len(t)))
    out_s = np.empty((len(q), k), np.float32)
    out_i = np.empty((len(q), k), np.int64)
    for lo in range(0, len(q), block):
        sim = q[lo : lo + block] @ t.T
        if k < sim.shape[1]:
            part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(sim.shape[1]), (len(sim), 1))
        ps = np.take_along_axis(sim, part, axis=1)
        # stable order: score descending, then id ascending
        order = np.lexsort((part, -ps), axis=1)
        out_i[lo : lo + block] = np.take_along_axis(part, order, axis=1)
        out_s[lo : lo + block] = np.take_along_axis(ps, order, axis=1)
    return out_s, out_i


# ----------------------------------------------------------------------------- margins


def neighbourhood_mean(x: np.ndarray, y: np.ndarray, k: int = 4) -> np.ndarray:
    """For each row of x: mean cosine to its k nearest rows of y (LASER's 'average')."""
    s, _ = knn(x, y, k)
    return s.mean(axis=1)


def _apply_margin(cos: np.ndarray, avg: np.ndarray, margin: Margin) -> np.ndarray:
    if margin is Margin.RATIO:
        return cos / avg
    if margin is Margin.DISTANCE:
        return cos - avg
    return cos


def margin_matrix(x: np.ndarray, y: np.ndarray, k: int = 4, margin: str | Margin = "ratio") -> np.ndarray:
    """Full [len(x), len(y)] margin-score matrix (small inputs: tests, Tatoeba-size sets).

    score[i, j] = f(cos(x_i, y_j), (avg_k(x_i -> y) + avg_k(y_j -> x)) / 2)
    """
    m = as_margin(margin)
    xn, yn = normalize(x), normalize(y)
    _check_pair(xn, yn)
    cos = xn @ yn.T
    if m is Margin.ABSOLUTE:
        return cos
    ax = neighbourhood_mean(xn, yn, k)
    ay = neighbourhood_mean(yn, xn, k)
    return _apply_margin(cos, (ax[:, None] + ay[None, :]) / 2, m)


def _directional(
    s: np.ndarray, ids: np.ndarray, k: int, at: np.ndarray, m: Margin
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From a query's cosine neighbours (s, ids; >= k columns): its k-average, and its best
    target by margin among the candidates."""
    aq = s[:, :k].mean(axis=1)
    sc = _apply_margin(s, (aq[:, None] + at[ids]) / 2, m)
    best = sc.argmax(axis=1)
    rows = np.arange(len(s))
    return aq, ids[rows, best], sc[rows, best]


@dataclass(frozen=True)
class MinedPairs:
    """Candidate pairs (src index, tgt index, margin score), best score first."""

    src: np.ndarray
    tgt: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    def above(self, threshold: float) -> MinedPairs:
        keep = self.score >= threshold
        return MinedPairs(self.src[keep], self.tgt[keep], self.score[keep])

    @classmethod
    def empty(cls) -> MinedPairs:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))


def mining_inputs(x: np.ndarray, y: np.ndarray, k: int, margin: str | Margin, mode: str | MineMode
                  ) -> tuple[np.ndarray, np.ndarray, Margin, MineMode] | None:
    """The checks and normalisation every mining path shares (exact, index, Ray): the
    normalised sides, the margin and the mode; None when a side is empty (nothing to mine)."""
    m, md = as_margin(margin), as_mode(mode)
    if k < 1:
        raise ConfigError("k must be >= 1")
    xn, yn = normalize(x), normalize(y)
    _check_pair(xn, yn)
    if len(xn) == 0 or len(yn) == 0:
        return None
    return xn, yn, m, md


def mine(
    x: np.ndarray,
    y: np.ndarray,
    k: int = 4,
    margin: str | Margin = "ratio",
    mode: str | MineMode = "max",
    candidates: int | None = None,
) -> MinedPairs:
    """Margin-based bitext mining between source vectors x and target vectors y.

    ``k``: neighbourhood size for the margin's averages (LASER default 4). ``candidates``:
    how many cosine neighbours are re-scored by margin per sentence (default: k).
    """
    prep = mining_inputs(x, y, k, margin, mode)
    if prep is None:
        return MinedPairs.empty()
    xn, yn, m, md = prep
    c = max(k, candidates or k)
    return mine_modes(xn, yn, k, m, (md,), c)[md]


def mine_modes(
    xn: np.ndarray, yn: np.ndarray, k: int, m: Margin, modes: Sequence[MineMode], c: int | None = None
) -> dict[MineMode, MinedPairs]:
    """Mine with several modes from one pair of k-NN searches (normalised inputs)."""
    c = max(k, c or k)
    sx, ix = knn(xn, yn, c, normalized=True)  # forward neighbours
    sy, iy = knn(yn, xn, c, normalized=True)  # backward neighbours
    return mine_from_neighbours(sx, ix, sy, iy, k, m, modes)


def mine_from_neighbours(
    sx: np.ndarray, ix: np.ndarray, sy: np.ndarray, iy: np.ndarray, k: int, m: Margin | str,
    modes: Sequence[MineMode | str],
) -> dict[MineMode, MinedPairs]:
    """Margin mining from given k-NN lists in both directions (cosine scores, best first):
    ``sx, ix`` for every source row over the targets, ``sy, iy`` for every target row over the
    sources, at least ``k`` columns, no missing (-1) ids. Exact search (``mine_modes``) and an approximate index
    (FAISS, sharded, distributed) give their neighbours here and are scored identically."""
    m = as_margin(m)
    modes = [as_mode(md) for md in modes]
    if (ix < 0).any() or (iy < 0).any():
        raise ConfigError("a neighbour list has missing (-1) ids: search more lists (nprobe) or a larger k")
    if sx.shape[1] < k or sy.shape[1] < k:
        raise ConfigError(f"need at least k={k} neighbours per row, got {sx.shape[1]} and {sy.shape[1]}")
    ax, ay = sx[:, :k].mean(axis=1), sy[:, :k].mean(axis=1)
    _, f_t, f_s = _directional(sx, ix, k, ay, m)
    _, b_t, b_s = _directional(sy, iy, k, ax, m)
    fwd = (np.arange(len(sx)), f_t, f_s)
    bwd = (b_t, np.arange(len(sy)), b_s)
    return {md: _select(md, fwd, bwd) for md in modes}


def _select(md: MineMode, fwd: tuple, bwd: tuple) -> MinedPairs:  # type: ignore[type-arg]
    if md is MineMode.FORWARD:
        src, tgt, sc = fwd
    elif md is MineMode.BACKWARD:
        src, tgt, sc = bwd
    elif md is MineMode.INTERSECT:
        back = {(int(s), int(t)) for s, t in zip(bwd[0], bwd[1])}
        keep = np.array([(int(s), int(t)) in back for s, t in zip(fwd[0], fwd[1])], dtype=bool)
        src, tgt, sc = fwd[0][keep], fwd[1][keep], fwd[2][keep]
    else:  # MAX: pool both directions, greedily keep the best pairs with unused sentences
        src_all = np.concatenate([fwd[0], bwd[0]])
        tgt_all = np.concatenate([fwd[1], bwd[1]])
        sc_all = np.concatenate([fwd[2], bwd[2]])
        order = np.argsort(-sc_all, kind="stable")
        used_s: set[int] = set()
        used_t: set[int] = set()
        keep_idx = []
        for i in order:
            s, t = int(src_all[i]), int(tgt_all[i])
            if s in used_s or t in used_t:
                continue
            used_s.add(s)
            used_t.add(t)
            keep_idx.append(i)
        ki = np.array(keep_idx, dtype=np.int64)
        src, tgt, sc = src_all[ki], tgt_all[ki], sc_all[ki]
    order = np.argsort(-np.asarray(sc), kind="stable")
    return MinedPairs(
        np.asarray(src, np.int64)[order], np.asarray(tgt, np.int64)[order], np.asarray(sc, np.float32)[order]
    )


# ----------------------------------------------------------------------------- thresholds / F1


@dataclass(frozen=True)
class F1Result:
    threshold: float
    precision: float
    recall: float
    f1: float
    n_selected: int
    n_correct: int
    n_gold: int


def best_f1_threshold(scores: np.ndarray, correct: np.ndarray, n_gold: int) -> F1Result:
    """Threshold on candidate scores maximising F1 against ``n_gold`` gold pairs.

    ``correct[i]``: candidate i is a gold pair. Keeping every candidate with score >= t.

    >>> r = best_f1_threshold(np.array([0.9, 0.8, 0.1]), np.array([True, True, False]), 2)
    >>> (r.f1, r.threshold)
    (1.0, 0.8)
    """
    scores = np.asarray(scores, np.float64)
    correct = np.asarray(correct, bool)
    if n_gold <= 0:
        raise InputError("no gold pairs to score against")
    if len(scores) == 0:
        return F1Result(float("inf"), 0.0, 0.0, 0.0, 0, 0, n_gold)
    order = np.argsort(-scores, kind="stable")
    s, c = scores[order], correct[order]
    tp = np.cumsum(c)
    sel = np.arange(1, len(s) + 1)
    # only cut between distinct scores: candidates with equal scores stand or fall together
    last_of_run = np.r_[s[1:] != s[:-1], True]
    prec = tp / sel
    rec = tp / n_gold
    f1 = np.where(tp > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    f1 = np.where(last_of_run, f1, -1.0)
    b = int(np.argmax(f1))
    return F1Result(float(s[b]), float(prec[b]), float(rec[b]), float(max(f1[b], 0.0)), int(sel[b]), int(tp[b]), n_gold)


def score_pairs(pairs: MinedPairs, gold: set[tuple[int, int]] | Sequence[tuple[int, int]]) -> F1Result:
    """BUCC-style protocol: F1 of mined pairs against gold at the F1-optimal threshold."""
    gold_set = {(int(a), int(b)) for a, b in gold}
    correct = np.array([(int(s), int(t)) in gold_set for s, t in zip(pairs.src, pairs.tgt)], dtype=bool)
    return best_f1_threshold(pairs.score, correct, len(gold_set))


# ----------------------------------------------------------------------------- Tatoeba / xSIM


@dataclass(frozen=True)
class TatoebaScore:
    n: int
    src_to_tgt: float  # accuracy of xx -> eng (cosine 1-NN)
    tgt_to_src: float  # accuracy of eng -> xx
    xsim_src_to_tgt: float  # xSIM-style error rate (margin 1-NN), xx -> eng
    xsim_tgt_to_src: float

    @property
    def mean(self) -> float:
        return (self.src_to_tgt + self.tgt_to_src) / 2


def _nn_accuracy(scores: np.ndarray) -> float:
    """Fraction of rows whose best column is the diagonal (ties: lowest index wins)."""
    return float(np.mean(scores.argmax(axis=1) == np.arange(len(scores))))


def tatoeba_accuracy(src: np.ndarray, tgt: np.ndarray, k: int = 4, margin: str | Margin = "ratio") -> TatoebaScore:
    """Line-aligned parallel sets: row i of src translates row i of tgt.

    Accuracy = cosine 1-NN finds the aligned line; xSIM error = 1 - accuracy of 1-NN by margin
    score (as LASER's xSIM does, ratio margin by default).
    """
    xs, ys = normalize(src), normalize(tgt)
    _check_pair(xs, ys)
    if len(xs) != len(ys):
        raise InputError(f"parallel sets differ in length: {len(xs)} vs {len(ys)}")
    if len(xs) == 0:
        raise InputError("empty parallel set")
    cos = xs @ ys.T
    mm = margin_matrix(xs, ys, k=min(k, len(xs)), margin=margin)
    return TatoebaScore(
        n=len(xs),
        src_to_tgt=_nn_accuracy(cos),
        tgt_to_src=_nn_accuracy(cos.T),
        xsim_src_to_tgt=1.0 - _nn_accuracy(mm),
        xsim_tgt_to_src=1.0 - _nn_accuracy(mm.T),
    )


def recall_at_k(approx_ids: np.ndarray, exact_ids: np.ndarray, k: int | None = None) -> float:
    """Mean |approx top-k ∩ exact top-k| / k (k=1: fraction of identical first hits).

    >>> recall_at_k(np.array([[1, 2], [3, 4]]), np.array([[2, 1], [3, 5]]))
    0.75
    """
    a, e = np.asarray(approx_ids), np.asarray(exact_ids)
    k = k or e.shape[1]
    if a.shape[0] != e.shape[0] or a.shape[1] < k or e.shape[1] < k:
        raise InputError(f"id arrays do not cover k={k}: {a.shape} vs {e.shape}")
    hits = [len(set(a[i, :k].tolist()) & set(e[i, :k].tolist())) for i in range(len(e))]
    return float(np.mean(hits) / k) if len(e) else 0.0


# ----------------------------------------------------------------------------- BLI


def csls_scores(x: np.ndarray, y: np.ndarray, k: int = 10) -> np.ndarray:
    """CSLS(x, y) = 2 cos(x, y) - r_y(x) - r_x(y) (Conneau et al. 2018): the distance margin x 2."""
    return 2 * margin_matrix(x, y, k=k, margin="distance")


@dataclass(frozen=True)
class BLIScore:
    n_sources: int
    precision: dict[str, float]  # "p@1" -> value (percent)
    n_identical_excluded: int = 0  # sources left out by exclude_identical


def bli_precision(
    src_vecs: np.ndarray,
    tgt_vecs: np.ndarray,
    src_words: Sequence[str],
    tgt_words: Sequence[str],
    gold: Mapping[str, set[str]],
    ks: Sequence[int] = (1, 5, 10),
    method: str = "cosine",
    csls_k: int = 10,
    exclude_identical: bool = False,
) -> BLIScore:
    """Precision@k (percent) of word translation retrieval.

    ``src_words``/``src_vecs``: the source words to translate (rows aligned); only words with
    an entry in ``gold`` are scored. ``tgt_words``/``tgt_vecs``: the target vocabulary searched.
    A source word scores a hit at k if any gold translation is among its k best targets.
    ``exclude_identical`` drops source words one of whose gold translations is spelled
    exactly like the source word (such pairs are found trivially).
    """
    if method not in ("cosine", "csls"):
        raise choice_error("BLI method", method, ("cosine", "csls"))
    if len(src_words) != len(src_vecs) or len(tgt_words) != len(tgt_vecs):
        raise InputError("words and vectors differ in length")
    rows = [i for i, w in enumerate(src_words) if w in gold]
    n_ident = 0
    if exclude_identical:
        kept = [i for i in rows if src_words[i] not in gold[src_words[i]]]
        n_ident = len(rows) - len(kept)
        rows = kept
    kmax = min(max(ks), len(tgt_words))
    if not rows:
        return BLIScore(0, {f"p@{k}": float("nan") for k in ks}, n_ident)
    xs = np.asarray(src_vecs, np.float32)[rows]
    if method == "cosine":
        _, top = knn(xs, tgt_vecs, kmax)
    else:
        # CSLS: the target-side hubness term r_x(y) uses every source vector, not only the
        # scored ones
        rx = neighbourhood_mean(normalize(tgt_vecs), normalize(src_vecs), csls_k)
        cos = normalize(xs) @ normalize(tgt_vecs).T
        ry = neighbourhood_mean(normalize(xs), normalize(tgt_vecs), csls_k)
        sc = 2 * cos - ry[:, None] - rx[None, :]
        top = np.argsort(-sc, axis=1, kind="stable")[:, :kmax]
    tw = np.asarray(tgt_words, dtype=object)
    prec = {}
    for k in ks:
        hits = [bool(set(tw[top[j, :k]].tolist()) & gold[src_words[i]]) for j, i in enumerate(rows)]
        prec[f"p@{k}"] = 100.0 * float(np.mean(hits))
    return BLIScore(len(rows), prec, n_ident)
