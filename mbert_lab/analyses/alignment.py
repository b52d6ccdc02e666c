"""Word alignment from contextual embeddings: similarity matrix -> links, and AER scoring.

Pure numpy/scipy: nothing here loads a model or a file. To align sentence pairs or score
methods against gold from Python, use the studies (they encode, call this module, and return
typed results)::

    import mbert_lab as ml
    ml.align(pairs=[("the cat", "le chat")], layers=7)          # AlignConfig -> AlignResult
    ml.align_eval(gold=["en-fr"], layers="all", limit=100)      # AlignEvalConfig -> AlignEvalResult

and :func:`mbert_lab.studies.alignment.encode_pairs` to encode pairs once for the batched
aligner below (:func:`align_pairs`). The pieces, in pipeline order:

1. :func:`similarity` — SimAlign's similarity, cosine shifted into [0, 1]: ``(cos + 1) / 2``;
   :func:`dot_products` for awesome-align's softmax extraction.
2. :func:`apply_distortion` — SimAlign's optional penalty for links far from the diagonal.
3. :func:`extract` — one :class:`Method` turns a matrix into a boolean link matrix:

   ``argmax``   forward and backward argmax, intersected (SimAlign "ArgMax"/"inter")
   ``itermax``  argmax, then extra rounds that let still-unaligned rows/columns align, with
                the similarity of half-aligned cells damped by ``alpha`` (SimAlign "IterMax")
   ``match``    maximum-weight bipartite matching (SimAlign "Match"/"mwmf"), via scipy's
                ``linear_sum_assignment``
   ``forward``  every source position to its most similar target position
   ``backward`` every target position to its most similar source position
   ``softmax``  awesome-align: softmax of dot products over targets and over sources, keep
                cells where both probabilities exceed a threshold (default 1e-3)

4. :func:`link_scores` — a confidence per link (the similarity, or for ``softmax`` the
   harmonic mean ``2ab/(a+b)`` of the two probabilities); :func:`null_filter` drops links
   whose score is below a null-alignment threshold.
5. :func:`to_word_links` — subword links -> word links (any linked subword pair links its
   words; the word link's score is the best of its subword links).
6. :func:`score_alignments` — precision, recall, F1 and AER against sure + possible gold,
   corpus-level (sums over pairs) and per pair.

>>> import numpy as np
>>> sim = np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.7], [0.1, 0.75, 0.6]])
>>> sorted(links_of(extract(sim, "argmax")))
[(0, 0), (1, 1)]
>>> sorted(links_of(extract(sim, "match")))
[(0, 0), (1, 2), (2, 1)]
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, choice_error

# ----------------------------------------------------------------------------- methods


class Method(str, enum.Enum):
    """Link-extraction methods. ``Method.parse("argmax")``; unknown names list the choices."""

    ARGMAX = "argmax"
    ITERMAX = "itermax"
    MATCH = "match"
    FORWARD = "forward"
    BACKWARD = "backward"
    SOFTMAX = "softmax"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, name: str | Method) -> Method:
        if isinstance(name, Method):
            return name
        try:
            return cls(str(name).strip().lower())
        except ValueError:
            raise choice_error("alignment method", name, [m.value for m in cls]) from None


#: The three methods of SimAlign's paper (and of the parity benchmark).
SIMALIGN_METHODS = (Method.ARGMAX, Method.ITERMAX, Method.MATCH)


def parse_methods(spec: str | Iterable[str | Method]) -> tuple[Method, ...]:
    """``"argmax,match"`` / ``"all"`` / a list -> a tuple of :class:`Method` (order kept, no duplicates).

    >>> parse_methods("match,argmax")
    (<Method.MATCH: 'match'>, <Method.ARGMAX: 'argmax'>)
    """
    if isinstance(spec, str):
        if spec.strip().lower() == "all":
            return tuple(Method)
        items: list[str | Method] = [s for s in spec.split(",") if s.strip()]
    else:
        items = list(spec)
    out: list[Method] = []
    for s in items:
        m = Method.parse(s)
        if m not in out:
            out.append(m)
    if not out:
        raise ConfigError("no alignment method given; valid choices: " + ", ".join(m.value for m in Method))
    return tuple(out)


# -------------------------------------------------------------------------- similarity


def similarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cosine similarity shifted into [0, 1], ``(cos + 1) / 2`` (SimAlign's definition).

    ``x``: [m, H], ``y``: [n, H] -> [m, n] (float64 holding float32-computed values: the
    same arithmetic as SimAlign's float32 pipeline, so near-ties break the same way).
    A zero vector has cosine 0 with everything.

    >>> similarity(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0]])).tolist()
    [[1.0, 0.0, 0.5]]
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    xn = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    yn = np.sqrt(np.einsum("ij,ij->i", y, y))[:, None]
    xs = x / np.where(xn > 0, xn, np.float32(1))
    ys = y / np.where(yn > 0, yn, np.float32(1))
    cos = xs @ ys.T
    return ((cos + np.float32(1)) / np.float32(2)).astype(np.float64)


def dot_products(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Raw dot products [m, n] (awesome-align's scores before the softmax)."""
    return np.asarray(x, dtype=np.float64) @ np.asarray(y, dtype=np.float64).T


def distortion_mask(m: int, n: int, ratio: float) -> np.ndarray:
    """SimAlign's distortion factor ``1 - ratio * (i/(m-1) - j/(n-1))**2`` for an m x n matrix.

    Relative positions run from 0 to 1 on both sides, so cells on the diagonal keep their
    similarity and the far corners lose ``ratio`` of it. Matrices with fewer than 2 rows or
    columns (or ``ratio == 0``) are left alone.

    >>> distortion_mask(2, 3, 0.5).round(3).tolist()
    [[1.0, 0.875, 0.5], [0.5, 0.875, 1.0]]
    """
    if m < 2 or n < 2 or ratio == 0.0:
        return np.ones((m, n))
    pi = np.arange(m, dtype=np.float64)[:, None] / (m - 1)
    pj = np.arange(n, dtype=np.float64)[None, :] / (n - 1)
    return 1.0 - ratio * (pi - pj) ** 2


def apply_distortion(sim: np.ndarray, ratio: float) -> np.ndarray:
    """``sim`` times :func:`distortion_mask` (a copy; ``ratio == 0`` returns ``sim``)."""
    if ratio == 0.0:
        return sim
    return sim * distortion_mask(sim.shape[0], sim.shape[1], ratio)


# -------------------------------------------------------------------------- extraction


def _empty(sim: np.ndarray) -> np.ndarray:
    return np.zeros(sim.shape, dtype=bool)


def forward_links(sim: np.ndarray) -> np.ndarray:
    """Each row's argmax (ties: first column)."""
    out = _empty(sim)
    if sim.size:
        out[np.arange(sim.shape[0]), sim.argmax(axis=1)] = True
    return out


def backward_links(sim: np.ndarray) -> np.ndarray:
    """Each column's argmax (ties: first row)."""
    out = _empty(sim)
    if sim.size:
        out[sim.argmax(axis=0), np.arange(sim.shape[1])] = True
    return out


def argmax_links(sim: np.ndarray) -> np.ndarray:
    """Cells that are both their row's and their column's maximum."""
    return forward_links(sim) & backward_links(sim)


def itermax_links(sim: np.ndarray, alpha: float = 0.9, iterations: int = 2) -> np.ndarray:
    """SimAlign's IterMax: ArgMax, then ``iterations - 1`` further rounds.

    In a further round a cell whose row *and* column are both already aligned is out; the
    others are weighted by ``min(1, alpha * (row free + column free))``: with the default
    alpha 0.9 a cell with one aligned side keeps 0.9 of its similarity and a cell with
    neither side aligned keeps all of it. The forward/backward argmax of that damped
    matrix is intersected again, restricted to cells that are not out, and added. A round
    stops the loop when it adds nothing, and no round runs once every row or every column is
    aligned. Matrices with 2 or fewer rows or columns get plain ArgMax (as in SimAlign).
    """
    links = argmax_links(sim)
    m, n = sim.shape
    if min(m, n) <= 2:
        return links
    for _ in range(iterations - 1):
        row_free = ~links.any(axis=1)  # [m]
        col_free = ~links.any(axis=0)  # [n]
        if not row_free.any() or not col_free.any():
            break
        # alpha * (row free) + alpha * (column free), capped at 1: 0, alpha or 1 per cell
        weight = np.minimum(alpha * row_free[:, None] + alpha * col_free[None, :], 1.0)
        allowed = row_free[:, None] | col_free[None, :]
        damped = sim * weight
        new = argmax_links(damped) & allowed
        if not new.any():
            break
        links = links | new
    return links


def match_links(sim: np.ndarray) -> np.ndarray:
    """Maximum-weight bipartite matching with as many links as the shorter side.

    Same objective as SimAlign's ``max_weight_matching(maxcardinality=True)`` on its
    non-negative similarities, solved with scipy's Hungarian-style ``linear_sum_assignment``.
    """
    from scipy.optimize import linear_sum_assignment

    out = _empty(sim)
    if sim.size:
        r, c = linear_sum_assignment(sim, maximize=True)
        out[r, c] = True
    return out


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_probs(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """awesome-align's two probability matrices from dot products: softmax over targets
    (each row sums to 1) and over sources (each column sums to 1)."""
    if not scores.size:
        return np.zeros(scores.shape), np.zeros(scores.shape)
    return _softmax(scores, axis=1), _softmax(scores, axis=0)


def softmax_links(scores: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Cells whose source->target *and* target->source probabilities exceed ``threshold``."""
    fwd, bwd = softmax_probs(scores)
    return (fwd > threshold) & (bwd > threshold)


def softmax_confidence(scores: np.ndarray) -> np.ndarray:
    """Per-cell probability of a softmax link: the harmonic mean ``2ab / (a + b)`` of the two
    directions (awesome-align's alignment probability)."""
    fwd, bwd = softmax_probs(scores)
    return 2.0 * fwd * bwd / (fwd + bwd + 1e-9)


@dataclass(frozen=True)
class ExtractOptions:
    """Knobs of the extraction methods (defaults as in SimAlign and awesome-align).

    ``distortion`` scales the similarity matrix of the similarity-based methods (softmax
    reads raw dot products and is unaffected); ``null_threshold`` drops links whose score
    (similarity, or softmax probability) is below it.
    """

    itermax_alpha: float = 0.9
    itermax_iterations: int = 2
    softmax_threshold: float = 1e-3
    distortion: float = 0.0
    null_threshold: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.itermax_alpha <= 1.0:
            raise ConfigError(f"itermax alpha must be in [0, 1], got {self.itermax_alpha}")
        if self.itermax_iterations < 1:
            raise ConfigError(f"itermax iterations must be >= 1, got {self.itermax_iterations}")
        if not 0.0 <= self.softmax_threshold < 1.0:
            raise ConfigError(f"softmax threshold must be in [0, 1), got {self.softmax_threshold}")
        if not 0.0 <= self.distortion <= 1.0:
            raise ConfigError(f"distortion must be in [0, 1], got {self.distortion}")


def extract(
    sim: np.ndarray,
    method: str | Method,
    options: ExtractOptions | None = None,
    scores: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean link matrix of ``method`` on similarity matrix ``sim`` [m, n].

    ``sim`` should already carry any distortion (see :func:`apply_distortion`). ``softmax``
    works on ``scores`` (dot products) when given, else on ``sim``.
    """
    opt = options or ExtractOptions()
    m = Method.parse(method)
    sim = np.asarray(sim, dtype=np.float64)
    if m is Method.ARGMAX:
        return argmax_links(sim)
    if m is Method.ITERMAX:
        return itermax_links(sim, opt.itermax_alpha, opt.itermax_iterations)
    if m is Method.MATCH:
        return match_links(sim)
    if m is Method.FORWARD:
        return forward_links(sim)
    if m is Method.BACKWARD:
        return backward_links(sim)
    return softmax_links(sim if scores is None else np.asarray(scores, np.float64), opt.softmax_threshold)


def link_scores(
    sim: np.ndarray, method: str | Method, scores: np.ndarray | None = None
) -> np.ndarray:
    """The confidence matrix of ``method``: the similarity, or the softmax probability."""
    if Method.parse(method) is Method.SOFTMAX:
        return softmax_confidence(sim if scores is None else np.asarray(scores, np.float64))
    return np.asarray(sim, dtype=np.float64)


def null_filter(links: np.ndarray, conf: np.ndarray, threshold: float | None) -> np.ndarray:
    """Drop links whose confidence is below ``threshold`` (their words stay unaligned: null)."""
    if threshold is None:
        return links
    return links & (conf >= threshold)


def links_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """Boolean matrix -> sorted list of (row, column) links."""
    r, c = np.nonzero(mask)
    return list(zip(r.tolist(), c.tolist()))


# ---------------------------------------------------------------------- word mapping


def to_word_links(
    mask: np.ndarray,
    conf: np.ndarray,
    src_words: Sequence[int] | np.ndarray,
    tgt_words: Sequence[int] | np.ndarray,
) -> dict[tuple[int, int], float]:
    """Subword links -> word links ``{(i, j): score}``.

    ``src_words[r]`` is the word index of matrix row ``r`` (likewise columns). Any linked
    subword pair links its two words; the word link keeps the best score of its subword links.
    Rows or columns with a negative word index (no word) are ignored.

    >>> m = np.array([[True, False], [True, True]])
    >>> to_word_links(m, np.array([[0.9, 0.1], [0.7, 0.8]]), [0, 0], [0, 1])
    {(0, 0): 0.9, (0, 1): 0.8}
    """
    sw = np.asarray(src_words)
    tw = np.asarray(tgt_words)
    out: dict[tuple[int, int], float] = {}
    r, c = np.nonzero(mask)
    for a, b, s in zip(sw[r].tolist(), tw[c].tolist(), conf[r, c].tolist()):
        if a < 0 or b < 0:
            continue
        key = (a, b)
        if key not in out or s > out[key]:
            out[key] = s
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------ alignments


@dataclass(frozen=True)
class PairAlignment:
    """Word links of one sentence pair with a score each, and pair-level confidence.

    ``confidence``: mean link score (0 when there is no link); ``coverage``: share of source
    and target words with at least one link. Filter bad pairs on either.
    """

    links: tuple[tuple[int, int], ...]
    scores: tuple[float, ...]
    n_src: int
    n_tgt: int

    @property
    def confidence(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 0.0

    @property
    def coverage(self) -> float:
        total = self.n_src + self.n_tgt
        if not total:
            return 0.0
        srcs = {i for i, _ in self.links}
        tgts = {j for _, j in self.links}
        return (len(srcs) + len(tgts)) / total

    def pharaoh(self, with_scores: bool = False) -> str:
        """Pharaoh format, 0-indexed, source first: ``"0-0 1-2"``; with scores
        ``"0-0:0.9120 1-2:0.8000"`` (a link's score after a colon).

        >>> PairAlignment(((0, 0), (1, 2)), (0.912, 0.8), 2, 3).pharaoh(True)
        '0-0:0.9120 1-2:0.8000'
        """
        if with_scores:
            return " ".join(f"{i}-{j}:{s:.4f}" for (i, j), s in zip(self.links, self.scores))
        return " ".join(f"{i}-{j}" for i, j in self.links)

    @classmethod
    def from_dict(cls, d: dict[tuple[int, int], float], n_src: int, n_tgt: int) -> PairAlignment:
        items = sorted(d.items())
        return cls(tuple(k for k, _ in items), tuple(float(v) for _, v in items), n_src, n_tgt)


def align_matrix(
    sim: np.ndarray,
    methods: Sequence[str | Method],
    options: ExtractOptions | None = None,
    scores: np.ndarray | None = None,
    src_words: Sequence[int] | np.ndarray | None = None,
    tgt_words: Sequence[int] | np.ndarray | None = None,
    n_src: int | None = None,
    n_tgt: int | None = None,
) -> dict[Method, PairAlignment]:
    """All ``methods`` on one similarity matrix -> a :class:`PairAlignment` per method.

    Applies the distortion, extraction, null threshold and (when ``src_words`` /
    ``tgt_words`` map rows/columns to words) the subword -> word mapping. ``n_src``/``n_tgt``
    are the word counts (default: the matrix shape, or the largest mapped word index + 1).
    """
    opt = options or ExtractOptions()
    sim = apply_distortion(np.asarray(sim, dtype=np.float64), opt.distortion)
    m, n = sim.shape
    sw = np.arange(m) if src_words is None else np.asarray(src_words)
    tw = np.arange(n) if tgt_words is None else np.asarray(tgt_words)
    ns = n_src if n_src is not None else (int(sw.max()) + 1 if len(sw) else 0)
    nt = n_tgt if n_tgt is not None else (int(tw.max()) + 1 if len(tw) else 0)
    out: dict[Method, PairAlignment] = {}
    for meth in methods:
        meth = Method.parse(meth)
        if m == 0 or n == 0:
            out[meth] = PairAlignment((), (), ns, nt)
            continue
        mask = extract(sim, meth, opt, scores)
        conf = link_scores(sim, meth, scores)
        mask = null_filter(mask, conf, opt.null_threshold)
        out[meth] = PairAlignment.from_dict(to_word_links(mask, conf, sw, tw), ns, nt)
    return out


# ------------------------------------------------------------------------ evaluation


# One gold-pair record for readers and scorer: (src, tgt, sure, possible, line), 0-indexed links.
from ..data.readers.alignment import GoldPair  # noqa: E402


@dataclass(frozen=True)
class AlignmentScores:
    """Precision, recall, F1 and AER with their counts.

    precision = |A∩P| / |A|; recall = |A∩S| / |S|; AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)
    (Och & Ney 2003), with P ⊇ S. A ratio whose denominator is 0 is reported as 0.0
    (AER 0.0 when both the prediction and the sure gold are empty).
    """

    precision: float
    recall: float
    f1: float
    aer: float
    n_pred: int
    n_sure: int
    n_pred_sure: int
    n_pred_possible: int

    @classmethod
    def from_counts(cls, a: int, s: int, a_s: int, a_p: int) -> AlignmentScores:
        p = a_p / a if a else 0.0
        r = a_s / s if s else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        aer = 1.0 - (a_s + a_p) / (a + s) if a + s else 0.0
        return cls(p, r, f, aer, a, s, a_s, a_p)


@dataclass(frozen=True)
class EvalResult:
    """Corpus-level scores (sums of counts over pairs) and the scores of every pair."""

    overall: AlignmentScores
    per_pair: tuple[AlignmentScores, ...] = field(repr=False)


def pair_counts(pred: Iterable[tuple[int, int]], gold: GoldPair) -> tuple[int, int, int, int]:
    """(|A|, |S|, |A∩S|, |A∩P|) for one pair."""
    a = set(pred)
    p = gold.possible_all
    return len(a), len(gold.sure), len(a & gold.sure), len(a & p)


def score_alignments(
    predictions: Sequence[Iterable[tuple[int, int]] | PairAlignment], gold: Sequence[GoldPair]
) -> EvalResult:
    """Score predicted word links against gold, corpus-level and per pair.

    >>> g = [GoldPair(("a", "b"), ("x", "y"), frozenset({(0, 0)}), frozenset({(1, 1)}))]
    >>> score_alignments([[(0, 0), (1, 0)]], g).overall.aer
    0.33333333333333337
    """
    if len(predictions) != len(gold):
        raise ConfigError(f"{len(predictions)} predicted pairs but {len(gold)} gold pairs")
    tot = np.zeros(4, dtype=np.int64)
    per: list[AlignmentScores] = []
    for pred, g in zip(predictions, gold):
        links = pred.links if isinstance(pred, PairAlignment) else pred
        c = pair_counts(links, g)
        tot += c
        per.append(AlignmentScores.from_counts(*c))
    return EvalResult(AlignmentScores.from_counts(*(int(x) for x in tot)), tuple(per))


# ------------------------------------------------------------------ batched aligner


@contextlib.contextmanager
def small_matrix_blas() -> Iterator[None]:
    """One BLAS thread while aligning: the matrices are small (tens of rows), and a
    multi-threaded BLAS spends far longer waking its threads than multiplying (measured on
    a loaded 2-core machine: 12 ms vs 0.06 ms for a 60x384 @ 384x40 product)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class Level(str, enum.Enum):
    """Where similarities are computed: between subwords (links mapped to words) or between
    word vectors (mean of a word's subword vectors)."""

    SUBWORD = "subword"
    WORD = "word"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, name: str | Level) -> Level:
        if isinstance(name, Level):
            return name
        try:
            return cls(str(name).strip().lower())
        except ValueError:
            raise choice_error("alignment level", name, [x.value for x in cls]) from None


class CorpusView:
    """Sentences ``start..stop`` of an encoded corpus, indexed from 0.

    Lets one extraction hold both sides: encode ``src + tgt`` once, then
    ``CorpusView(corpus, 0, n)`` and ``CorpusView(corpus, n, 2 * n)``.
    """

    def __init__(self, corpus: object, start: int = 0, stop: int | None = None) -> None:
        self.corpus = corpus
        self.start = start
        self.stop = len(corpus) if stop is None else stop  # type: ignore[arg-type]
        self.layers = getattr(corpus, "layers", ())

    def __len__(self) -> int:
        return self.stop - self.start

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        fn = getattr(self.corpus, name)
        if name in ("subwords", "words", "tokens", "words_text", "word_ids", "pooled_mask", "input_ids"):
            def shifted(i: int, *a, **k):  # type: ignore[no-untyped-def]
                if not 0 <= i < len(self):
                    raise IndexError(i)
                return fn(self.start + i, *a, **k)

            return shifted
        return fn


def word_pooling_matrix(word_ids: np.ndarray, keep: np.ndarray, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """A [n_present, n_sub] averaging matrix and the word index of each of its rows.

    Row k averages the kept subwords of the k-th word that has any; words without a kept
    subword are absent (they cannot be aligned), so the returned index maps rows to words.

    >>> P, w = word_pooling_matrix(np.array([0, 0, 1, 2]), np.array([True, True, False, True]), 3)
    >>> P.tolist(), w.tolist()
    ([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], [0, 2])
    """
    ok = keep & (word_ids >= 0)
    present = np.unique(word_ids[ok])
    present = present[present < n_words]
    P = (word_ids[None, :] == present[:, None]) & ok[None, :]
    P = P.astype(np.float64)
    P /= np.maximum(P.sum(axis=1, keepdims=True), 1.0)
    return P, present.astype(np.int64)


@dataclass(frozen=True)
class PairMatrix:
    """Similarity inputs of one pair: row/column vectors and the word index of each."""

    src_vectors: np.ndarray
    tgt_vectors: np.ndarray
    src_words: np.ndarray
    tgt_words: np.ndarray
    n_src: int
    n_tgt: int
    src_labels: tuple[str, ...]
    tgt_labels: tuple[str, ...]


def _side(corpus: object, i: int, layer: int, level: Level, drop_lone_marker: bool):  # type: ignore[no-untyped-def]
    vec = corpus.subwords(i, layer)  # type: ignore[attr-defined]
    wids = np.asarray(corpus.word_ids(i), dtype=np.int64)  # type: ignore[attr-defined]
    words = corpus.words_text(i)  # type: ignore[attr-defined]
    toks = corpus.tokens(i)  # type: ignore[attr-defined]
    keep = np.asarray(corpus.pooled_mask(i), dtype=bool) if drop_lone_marker else np.ones(len(wids), bool)
    if level is Level.WORD:
        P, present = word_pooling_matrix(wids, keep, len(words))
        return P @ vec, present, len(words), tuple(words[k] for k in present)
    rows = np.nonzero(keep & (wids >= 0))[0]
    return vec[rows], wids[rows], len(words), tuple(toks[k] for k in rows)


def pair_matrix(
    src: object,
    tgt: object,
    i: int,
    layer: int,
    level: str | Level = Level.SUBWORD,
    drop_lone_marker: bool = True,
) -> PairMatrix:
    """The vectors whose similarity aligns pair ``i`` of two encoded corpora.

    Subword level: every content subword that belongs to a word (with ``drop_lone_marker``,
    lone '▁' pieces are left out, as ``pooled_mask`` marks them). Word level: the mean of
    each word's subwords (the same pieces).
    """
    lv = Level.parse(level)
    sv, sw, ns, sl = _side(src, i, layer, lv, drop_lone_marker)
    tv, tw, nt, tl = _side(tgt, i, layer, lv, drop_lone_marker)
    return PairMatrix(sv, tv, sw, tw, ns, nt, sl, tl)


def align_pair_matrix(
    pm: PairMatrix, methods: Sequence[str | Method], options: ExtractOptions | None = None
) -> dict[Method, PairAlignment]:
    """All ``methods`` on one :class:`PairMatrix` (word links with scores)."""
    meths = [Method.parse(m) for m in methods]
    sim = similarity(pm.src_vectors, pm.tgt_vectors)
    dots = dot_products(pm.src_vectors, pm.tgt_vectors) if Method.SOFTMAX in meths else None
    return align_matrix(sim, meths, options, dots, pm.src_words, pm.tgt_words, pm.n_src, pm.n_tgt)


def align_pairs(
    src: object,
    tgt: object,
    layer: int,
    methods: Sequence[str | Method] | str = SIMALIGN_METHODS,
    level: str | Level = Level.SUBWORD,
    drop_lone_marker: bool = True,
    options: ExtractOptions | None = None,
    indices: Sequence[int] | None = None,
) -> dict[Method, list[PairAlignment]]:
    """Align every pair of two encoded corpora (line ``i`` of ``src`` with line ``i`` of ``tgt``).

    ``src``/``tgt``: encoded corpora (``EncodedCorpus`` or :class:`CorpusView`) holding
    subword vectors of ``layer``. Each pair's similarity matrix is computed once and every
    method reads it; sweeping layers is calling this again on the same corpora.
    Returns ``{method: [PairAlignment per pair]}`` with 0-indexed word links.
    """
    if len(src) != len(tgt):  # type: ignore[arg-type]
        raise ConfigError(f"source has {len(src)} sentences, target {len(tgt)}")  # type: ignore[arg-type]
    meths = parse_methods(methods)
    idx = range(len(src)) if indices is None else indices  # type: ignore[arg-type]
    out: dict[Method, list[PairAlignment]] = {m: [] for m in meths}
    with small_matrix_blas():
        for i in idx:
            res = align_pair_matrix(pair_matrix(src, tgt, i, layer, level, drop_lone_marker), meths, options)
            for m in meths:
                out[m].append(res[m])
    return out
