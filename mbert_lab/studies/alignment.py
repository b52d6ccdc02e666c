"""Word alignment: align sentence pairs (``align``) and score methods against gold alignments
by layer, method and level (``align_eval``). One extraction per input serves every layer,
method and level; the maths is :mod:`mbert_lab.analyses.alignment`.

>>> import mbert_lab as ml                                                  # doctest: +SKIP
>>> r = ml.align(pairs=[("the cat", "le chat")], layers=8)                  # doctest: +SKIP
>>> r.pairs[0].alignments["argmax"].links                                   # doctest: +SKIP
((0, 0), (1, 1))
>>> ev = ml.align_eval(gold=["en-fr"], layers="all", limit=100)            # doctest: +SKIP
>>> [(b.method, b.layer, round(b.test.aer, 3)) for b in ev.best]            # doctest: +SKIP

``align_eval``'s best layer per (gold set, level, method) is chosen on a seeded dev split of the
gold pairs and its scores are reported on the disjoint test split (``best``); the table of every
layer on all pairs (``by_layer_all_pairs``) is kept for plots and comparison with earlier runs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .base import (
    DatasetProvenance,
    EncoderOptions,
    StudyConfig,
    StudyResult,
    as_tuple,
    check_choice,
    check_choices,
    check_count,
    check_float,
    check_input_file,
    make_provenance,
    resolve_encoder,
    resolve_layers,
    resolve_store,
    transient,
)

GOLD_SETS = ("en-fr", "ro-en", "ja-en")  # $MBERT_LAB_DATA/word-alignment/{enfr,roen,jaen}.*
INPUTS = ("tokenized", "raw")
LEVELS = ("subword", "word")
GOLD_INDEX = ("auto", "0", "1")
METHODS = ("argmax", "itermax", "match", "forward", "backward", "softmax")


# ---------------------------------------------------------------------------- configs


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: must be true or false, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class AlignOptions(EncoderOptions):
    """The fields ``align`` and ``align_eval`` share: methods and their knobs (SimAlign /
    awesome-align defaults), and whether lone '▁' pieces stay in the matrices."""

    methods: tuple[str, ...] = ("argmax",)
    keep_lone_marker: bool = False
    distortion: float = 0.0
    null_threshold: float | None = None
    softmax_threshold: float = 1e-3
    itermax_alpha: float = 0.9
    itermax_iterations: int = 2

    def normalise(self) -> None:
        super().normalise()
        from ..analyses.alignment import parse_methods

        try:
            ms = parse_methods(self.methods if isinstance(self.methods, str) else as_tuple(self.methods, "methods"))
        except ConfigError as e:
            raise ConfigError(f"methods: {e}") from None
        self._set("methods", tuple(m.value for m in ms))

    def validate(self) -> None:
        super().validate()
        _check_bool("keep_lone_marker", self.keep_lone_marker)
        _check_bool("cache", self.cache)
        check_float("distortion", self.distortion, low=0.0, high=1.0)
        check_float("null_threshold", self.null_threshold, low=0.0, high=1.0, allow_none=True)
        check_float("softmax_threshold", self.softmax_threshold, low=0.0, high=1.0, high_open=True)
        check_float("itermax_alpha", self.itermax_alpha, low=0.0, high=1.0)
        check_count("itermax_iterations", self.itermax_iterations, maximum=100)

    def options(self) -> Any:
        """The :class:`~mbert_lab.analyses.alignment.ExtractOptions` of these fields."""
        from ..analyses.alignment import ExtractOptions

        return ExtractOptions(itermax_alpha=float(self.itermax_alpha), itermax_iterations=self.itermax_iterations,
                              softmax_threshold=float(self.softmax_threshold), distortion=float(self.distortion),
                              null_threshold=self.null_threshold)

    @property
    def pooling(self) -> str:
        lone = " incl. lone '▁' pieces" if self.keep_lone_marker else ", lone '▁' pieces left out"
        return "subword vectors" + lone


@dataclass(frozen=True, kw_only=True)
class AlignConfig(AlignOptions):
    """Align sentence pairs at ONE layer: ``pairs`` in memory (``[(src, tgt), ...]``), a
    ``pairs_file`` (``src ||| tgt`` per line) or ``src_file`` + ``tgt_file`` (line-aligned).
    ``input``: ``tokenized`` (words split on ASCII spaces) or ``raw`` (words from the
    tokenizer). ``heatmaps``: 1-based pair numbers whose similarity matrix the Result keeps."""

    study = "align"
    layers: Any = 8
    pairs: tuple[Any, ...] = ()
    pairs_file: str | None = None
    src_file: str | None = None
    tgt_file: str | None = None
    input: str = "tokenized"
    level: str = "subword"
    heatmaps: tuple[int, ...] = ()

    def normalise(self) -> None:
        super().normalise()
        if isinstance(self.pairs, (str, bytes)):
            raise ConfigError("pairs: expected a list of (source, target) pairs; for a file use pairs_file")
        self._set("pairs", tuple(tuple(p) if isinstance(p, (list, tuple)) else p for p in self.pairs or ()))
        self._set("pairs", tuple(tuple(tuple(s) if isinstance(s, list) else s for s in p)
                                 if isinstance(p, tuple) else p for p in self.pairs))
        hm = self.heatmaps
        self._set("heatmaps", (hm,) if isinstance(hm, int) and not isinstance(hm, bool) else tuple(hm or ()))

    def validate(self) -> None:
        super().validate()
        given = [bool(self.pairs), self.pairs_file is not None, self.src_file is not None or self.tgt_file is not None]
        if sum(given) != 1:
            raise ConfigError("pairs / pairs_file / src_file+tgt_file: give exactly one source of sentence pairs")
        if (self.src_file is None) != (self.tgt_file is None):
            raise ConfigError("src_file / tgt_file: give both (line n of one translates line n of the other)")
        for name in ("pairs_file", "src_file", "tgt_file"):
            check_input_file(name, getattr(self, name), allow_none=True)
        check_choice("input", self.input, INPUTS)
        check_choice("level", self.level, LEVELS)
        if self.layers == "all" or (isinstance(self.layers, tuple) and len(self.layers) != 1):
            raise ConfigError(f"layers: align uses one layer (e.g. 8 or 'last'), got {_layers_text(self.layers)}")
        for h in self.heatmaps:
            check_count("heatmaps", h)
        if self.pairs:
            self.read_pairs()  # in-memory pairs are checked now

    def read_pairs(self) -> Any:
        """The pairs as a :class:`~mbert_lab.data.readers.pairs.PairInput`."""
        from ..data.readers.pairs import pairs_from_items, read_pairs_file, read_parallel_files

        tok = self.input == "tokenized"
        if self.pairs:
            return pairs_from_items(self.pairs, tok)
        if self.pairs_file is not None:
            return read_pairs_file(self.pairs_file, tok)
        return read_parallel_files(self.src_file, self.tgt_file, tok)  # type: ignore[arg-type]


def _trained_layer_default(config: AlignOptions) -> Any:
    """``layers`` as given, except when left at the default (8) for a checkpoint folder whose
    manifest names the layer it was trained for (``align-train``): then that layer."""
    if config.layers != (8,):
        return config.layers
    from ..models.checkpoint import checkpoint_layer

    layer = checkpoint_layer(config.model)
    return config.layers if layer is None else (layer,)


def _layers_text(spec: Any) -> str:
    return spec if isinstance(spec, str) else ",".join(map(str, spec))


def _is_gold_name(value: str) -> bool:
    return "/" not in value and "." not in value and not Path(value).is_file()


def gold_set_name(value: str) -> str:
    """``enfr`` / ``en_fr`` / ``EN-FR`` -> ``en-fr``; unknown names get a 'did you mean'."""
    key = value.replace("-", "").replace("_", "").lower()
    for g in GOLD_SETS:
        if g.replace("-", "") == key:
            return g
    check_choice("gold", value, GOLD_SETS)
    return value  # pragma: no cover


#: Fields that only matter when a model aligns (rejected, when changed, with ``pred``).
_MODEL_FIELDS = ("model", "revision", "layers", "batch_size", "max_length", "device", "threads", "cache",
                 "methods", "levels", "keep_lone_marker", "distortion", "null_threshold", "softmax_threshold",
                 "itermax_alpha", "itermax_iterations", "dev_fraction", "seed")


@dataclass(frozen=True, kw_only=True)
class AlignEvalConfig(AlignOptions):
    """Score alignment methods against gold: ``gold`` names sets (en-fr, ro-en, ja-en under
    ``$MBERT_LAB_DATA/word-alignment``) or Pharaoh gold files (``i-j`` sure, ``ipj`` possible;
    0- or 1-indexed, detected unless ``gold_index`` says; sentence pairs from ``pairs_file`` or
    ``<gold>.src-tgt``). ``pred``: score this Pharaoh file (0-indexed) instead of aligning (no
    model). ``limit``: the first N pairs of each set. The best layer is chosen on a seeded dev
    split (``dev_fraction`` of the pairs, ``seed``) and reported on the other pairs."""

    study = "align_eval"
    layers: Any = 8
    methods: tuple[str, ...] = ("argmax", "itermax", "match")
    gold: tuple[str, ...] = ()
    pairs_file: str | None = None
    gold_index: str = "auto"
    pred: str | None = None
    levels: tuple[str, ...] = ("subword",)
    limit: int | None = None
    dev_fraction: float = 0.5
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        gold = as_tuple(self.gold, "gold")
        self._set("gold", tuple(gold_set_name(g) if isinstance(g, str) and _is_gold_name(g) else str(g) for g in gold))
        self._set("levels", as_tuple(self.levels, "levels"))
        if isinstance(self.gold_index, int) and not isinstance(self.gold_index, bool):
            self._set("gold_index", str(self.gold_index))

    def validate(self) -> None:
        super().validate()
        if not self.gold:
            raise ConfigError("gold: give a gold set (" + ", ".join(GOLD_SETS) + ") or a Pharaoh gold file")
        if len(set(self.gold)) != len(self.gold):
            raise ConfigError(f"gold: a gold set is listed twice in {list(self.gold)}")
        files = [g for g in self.gold if g not in GOLD_SETS]
        for g in files:
            check_input_file("gold", g)
        if self.pairs_file is not None and (len(self.gold) != 1 or not files):
            raise ConfigError("pairs_file: goes with one gold file (named gold sets bring their own pairs)")
        check_input_file("pairs_file", self.pairs_file, allow_none=True)
        for g in files:
            if self.pairs_file is None and not Path(g).with_suffix(".src-tgt").is_file():
                raise InputError(f"gold: no sentence pairs for this gold file (looked for "
                                 f"{Path(g).with_suffix('.src-tgt')}; give pairs_file / --pairs)", g)
        check_choice("gold_index", self.gold_index, GOLD_INDEX)
        check_choices("levels", self.levels, LEVELS)
        check_count("limit", self.limit, allow_none=True)
        check_float("dev_fraction", self.dev_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        check_count("seed", self.seed, minimum=0)
        if self.pred is not None:
            self._validate_pred()

    def _validate_pred(self) -> None:
        check_input_file("pred", self.pred)
        if len(self.gold) != 1:
            raise ConfigError("pred: scores one gold set; give exactly one gold")
        default = AlignEvalConfig(gold=self.gold, pairs_file=self.pairs_file)
        for name in _MODEL_FIELDS:
            if getattr(self, name) != getattr(default, name):
                raise ConfigError(f"{name}: has no effect when scoring a predictions file (pred); leave it out")


# ---------------------------------------------------------------------------- encoding


def encode_pairs(encoder: Any, src: Sequence[Any], tgt: Sequence[Any], layers: Sequence[int], store: Any = None,
                 batch_size: int = 64, max_length: int | None = None, progress: bool = True,
                 device: str | None = None, dtype: str = "fp32", store_dtype: str = "float32") -> tuple[Any, Any]:
    """Encode both sides of every pair in ONE extraction (all ``layers``) -> two corpus views.

    Input: word lists (pre-tokenized) or raw strings, both sides alike. Only subword vectors
    are stored: word vectors are pooled from them per pair, with or without lone '▁' pieces
    (so one extraction serves both treatments). Long sentences are windowed by the extractor.

    >>> # src, tgt = encode_pairs(enc, [["the", "cat"]], [["le", "chat"]], layers=(7,))
    >>> # align_pairs(src, tgt, layer=7, methods="argmax")[Method.ARGMAX][0].links -> ((0, 0), (1, 1))
    """
    from ..analyses.alignment import CorpusView
    from ..encode.extractor import ExtractConfig, Extractor

    if len(src) != len(tgt):
        raise ConfigError(f"{len(src)} source sentences but {len(tgt)} target sentences")
    cfg = ExtractConfig(layers=tuple(layers), outputs=("subword",), max_length=max_length, batch_size=batch_size,
                        drop_lone_marker=True, dtype=dtype, store_dtype=store_dtype)  # only marks lone pieces in pooled_mask; vectors are unaffected
    texts = list(src) + list(tgt)
    pretok = bool(texts) and not isinstance(texts[0], str)
    corpus = Extractor(encoder, cfg, store=store, device=device, progress=progress).encode(
        texts, pretokenized=pretok, desc="encoding pairs")
    n = len(src)
    return CorpusView(corpus, 0, n), CorpusView(corpus, n, 2 * n)


def _encode(config: EncoderOptions, enc: Any, store: Any, src: Sequence[Any], tgt: Sequence[Any],
            layers: Sequence[int]) -> tuple[Any, Any]:
    return encode_pairs(enc, src, tgt, layers, store=resolve_store(config, store), batch_size=config.batch_size,
                        max_length=config.max_length, device=None, dtype=config.dtype,
                        store_dtype=config.store_dtype)


def file_provenance(name: str, files: Sequence[str | Path]) -> DatasetProvenance:
    """A user's files with their sha256."""
    from ..io import sha256_file

    return DatasetProvenance(name=name, files={str(f): sha256_file(f) for f in files})


# ------------------------------------------------------------------------------ align


@dataclass(frozen=True)
class Links:
    """One method's word links of one pair (0-indexed, source first), a score per link, the
    pair's confidence (mean link score; 0 without links) and coverage (share of words linked)."""

    links: tuple[tuple[int, int], ...]
    scores: tuple[float, ...]
    confidence: float
    coverage: float

    @classmethod
    def of(cls, a: Any) -> Links:
        return cls(tuple(a.links), tuple(float(s) for s in a.scores), float(a.confidence), float(a.coverage))

    def pharaoh(self, with_scores: bool = False) -> str:
        """``"0-0 1-2"``, or with scores ``"0-0:0.9120 1-2:0.8000"``."""
        if with_scores:
            return " ".join(f"{i}-{j}:{s:.4f}" for (i, j), s in zip(self.links, self.scores))
        return " ".join(f"{i}-{j}" for i, j in self.links)


@dataclass(frozen=True)
class AlignedPair:
    """A pair's words and each method's links; ``where`` is ``file:line`` (``<pairs>:n`` in memory)."""

    pair: int  # 1-based
    where: str
    src: tuple[str, ...]
    tgt: tuple[str, ...]
    alignments: dict[str, Links]


@dataclass(frozen=True)
class MethodSummary:
    method: str
    links: int
    mean_confidence: float
    mean_coverage: float


@dataclass(frozen=True)
class PairHeatmap:
    """The similarity matrix of one pair (rows: source units, columns: target units; after
    distortion) and the cells the first method linked (before the mapping to words)."""

    pair: int
    layer: int
    level: str
    method: str
    src_labels: tuple[str, ...]
    tgt_labels: tuple[str, ...]
    similarity: tuple[tuple[float, ...], ...]
    cells: tuple[tuple[int, int], ...]
    distortion: float


@dataclass(frozen=True, kw_only=True)
class AlignResult(StudyResult):
    kind = "align"
    layer: int
    level: str
    input: str
    methods: tuple[str, ...]
    n_pairs: int
    by_method: tuple[MethodSummary, ...]
    pairs: tuple[AlignedPair, ...]
    heatmaps: tuple[PairHeatmap, ...] = ()

    def pharaoh_lines(self, method: str | None = None, with_scores: bool = False) -> list[str]:
        """One Pharaoh line per pair for ``method`` (default: the first)."""
        m = method or self.methods[0]
        return [p.alignments[m].pharaoh(with_scores) for p in self.pairs]

    def jsonl_lines(self, digits: int = 5) -> list[str]:
        """One JSON object per pair: words, layer and each method's links, scores, confidence, coverage."""
        out = []
        for p in self.pairs:
            al = {m: {"links": [list(x) for x in a.links], "scores": [round(s, digits) for s in a.scores],
                      "confidence": round(a.confidence, digits), "coverage": round(a.coverage, digits)}
                  for m, a in p.alignments.items()}
            rec = {"pair": p.pair, "src": list(p.src), "tgt": list(p.tgt), "layer": self.layer, "level": self.level,
                   "alignments": al}
            out.append(json.dumps(rec, ensure_ascii=False))
        return out

    def heatmap(self, pair: int) -> PairHeatmap:
        for h in self.heatmaps:
            if h.pair == pair:
                return h
        raise ConfigError(f"heatmaps: pair {pair} was not kept; run with heatmaps=[{pair}]")

    def summary(self) -> list[str]:
        head = f"aligned {self.n_pairs} pairs at layer {self.layer} ({self.level} level)"
        return [head] + [f"{s.method:9s} links {s.links:6d}  mean confidence {s.mean_confidence:.4f}  "
                         f"mean coverage {s.mean_coverage:.4f}" for s in self.by_method]


def _pair_heatmap(pm: Any, method: str, opts: Any, pair: int, layer: int, level: str) -> PairHeatmap:
    from ..analyses.alignment import apply_distortion, dot_products, extract, link_scores, links_of, null_filter
    from ..analyses.alignment import similarity as sim_of

    sim = apply_distortion(sim_of(pm.src_vectors, pm.tgt_vectors), opts.distortion)
    dots = dot_products(pm.src_vectors, pm.tgt_vectors)
    mask = null_filter(extract(sim, method, opts, dots), link_scores(sim, method, dots), opts.null_threshold)
    return PairHeatmap(pair, layer, level, method, tuple(pm.src_labels), tuple(pm.tgt_labels),
                       tuple(tuple(float(x) for x in row) for row in sim), tuple(links_of(mask)), opts.distortion)


def _align_views(config: AlignConfig, src: Any, tgt: Any, layer: int, where: Sequence[tuple[str, int]]
                 ) -> tuple[list[AlignedPair], list[PairHeatmap]]:
    from ..analyses.alignment import align_pair_matrix, pair_matrix, small_matrix_blas

    opts = config.options()
    pairs, heat = [], []
    with small_matrix_blas():
        for i in range(len(src)):
            pm = pair_matrix(src, tgt, i, layer, config.level, not config.keep_lone_marker)
            res = align_pair_matrix(pm, config.methods, opts)
            pairs.append(AlignedPair(i + 1, f"{where[i][0]}:{where[i][1]}", tuple(src.words_text(i)),
                                     tuple(tgt.words_text(i)), {m.value: Links.of(a) for m, a in res.items()}))
            if i + 1 in config.heatmaps:
                heat.append(_pair_heatmap(pm, config.methods[0], opts, i + 1, layer, config.level))
    return pairs, heat


def _method_summaries(methods: Sequence[str], pairs: Sequence[AlignedPair]) -> tuple[MethodSummary, ...]:
    out = []
    for m in methods:
        a = [p.alignments[m] for p in pairs]
        n = max(len(a), 1)
        out.append(MethodSummary(m, sum(len(x.links) for x in a), sum(x.confidence for x in a) / n,
                                 sum(x.coverage for x in a) / n))
    return tuple(out)


def align(config: AlignConfig, *, encoder: Any = None, store: Any = None) -> AlignResult:
    """Read the pairs, encode both sides once at the config's layer, and align every pair
    with every method (word links with scores, confidence and coverage)."""
    data = config.read_pairs()
    bad = [h for h in config.heatmaps if h > len(data)]
    if bad:
        raise ConfigError(f"heatmaps: pair {bad[0]} does not exist; pairs are numbered 1..{len(data)}")
    enc = resolve_encoder(config, encoder)
    layer = resolve_layers(_trained_layer_default(config), enc.num_layers)[0]
    src, tgt = _encode(config, enc, store, data.src, data.tgt, (layer,))
    pairs, heat = _align_views(config, src, tgt, layer, data.where)
    datasets = [file_provenance(Path(data.files[0]).stem, data.files)] if data.files else []
    prov = make_provenance(config, encoder=enc, layers=(layer,), pooling=config.pooling, datasets=datasets)
    return AlignResult(provenance=prov, layer=layer, level=config.level, input=config.input,
                       methods=tuple(config.methods), n_pairs=len(pairs),
                       by_method=_method_summaries(config.methods, pairs), pairs=tuple(pairs), heatmaps=tuple(heat))


# ------------------------------------------------------------------------------ gold


@dataclass(frozen=True)
class GoldInfo:
    """A gold set as scored: its files, index convention (with the evidence) and split."""

    name: str
    pairs: int
    text_file: str
    gold_file: str
    index_base: int
    index_evidence: str
    dev_pairs: tuple[int, ...] = ()  # 1-based pair numbers of the dev split (the rest is test)


@dataclass(frozen=True)
class GoldSet:
    """Loaded gold: the scorer's pairs (0-indexed links), what the Result records, provenance."""

    name: str
    pairs: list[Any]  # analyses.alignment.GoldPair
    info: GoldInfo
    provenance: DatasetProvenance
    total_pairs: int  # in the gold set, before ``limit``


def gold_pairs(gold: Any) -> list[Any]:
    """A loaded ``AlignmentGold`` (:mod:`mbert_lab.data.readers.alignment`) -> the scorer's GoldPair list."""
    return list(gold.pairs)  # the readers' GoldPair is the scorer's record


def load_gold(gold: str, pairs_file: str | None = None, index_base: str = "auto", limit: int | None = None) -> GoldSet:
    """A gold set name (en-fr, ro-en, ja-en) or a Pharaoh gold file (sentence pairs from
    ``pairs_file`` or ``<gold>.src-tgt``) -> :class:`GoldSet` (the first ``limit`` pairs).

    Reading, index-base detection (0 or 1; ``index_base`` "0"/"1" forces it) and range checks
    are :func:`mbert_lab.data.readers.alignment.read_alignment`'s: errors name the file and line."""
    from ..data.datasets import load_gold_alignment
    from ..data.readers.alignment import read_alignment
    from ..data.registry import dataset_provenance

    check_choice("gold_index", str(index_base), GOLD_INDEX)
    base = None if str(index_base) == "auto" else int(index_base)
    if _is_gold_name(gold):
        name = gold_set_name(gold)
        if pairs_file:
            raise ConfigError("pairs_file: goes with a gold file, not with a named gold set")
        g = load_gold_alignment(name, index_base=base)
        prov = dataset_provenance("word-alignment", [g.text_path, g.gold_path])
    else:
        check_input_file("gold", gold)
        pp = Path(pairs_file) if pairs_file else Path(gold).with_suffix(".src-tgt")
        if not pp.is_file():
            raise InputError(f"no sentence pairs for this gold file (looked for {pp}; give pairs_file / --pairs)", gold)
        name = Path(gold).stem
        g = read_alignment(pp, gold, index_base=base, name=name)
        prov = file_provenance(name, [pp, gold])
    every = gold_pairs(g)
    pairs = every[:limit] if limit else every
    info = GoldInfo(name, len(pairs), str(g.text_path), str(g.gold_path), g.index_base, g.index_evidence)
    return GoldSet(name, pairs, info, prov, len(every))


def dev_split(n: int, fraction: float, seed: int) -> tuple[int, ...]:
    """0-based indices of the dev pairs: a seeded random ``fraction`` of ``n`` (at least one
    pair on each side when ``n >= 2``; none when ``n < 2``), sorted.

    >>> dev_split(10, 0.5, 0) == dev_split(10, 0.5, 0), len(dev_split(10, 0.3, 1)), dev_split(1, 0.5, 0)
    (True, 3, ())
    """
    import numpy as np

    if n < 2:
        return ()
    k = min(n - 1, max(1, int(round(n * fraction))))
    return tuple(sorted(int(x) for x in np.random.default_rng(seed).permutation(n)[:k]))


# ------------------------------------------------------------------------------ scores


@dataclass(frozen=True)
class Scores:
    """Corpus-level AER / precision / recall / F1 over ``pairs`` pairs, with the counts
    (|A|, |S|, |A∩S|, |A∩P|) they come from."""

    aer: float
    precision: float
    recall: float
    f1: float
    n_pred: int
    n_sure: int
    n_pred_sure: int
    n_pred_possible: int
    pairs: int

    @classmethod
    def from_counts(cls, counts: Any, pairs: int) -> Scores:
        from ..analyses.alignment import AlignmentScores

        s = AlignmentScores.from_counts(*(int(x) for x in counts))
        return cls(s.aer, s.precision, s.recall, s.f1, s.n_pred, s.n_sure, s.n_pred_sure, s.n_pred_possible, pairs)


@dataclass(frozen=True)
class EvalRow:
    """One (gold set, level, layer, method) line of the table on ALL pairs of the gold set
    (no selection). ``layer`` is None and ``level``/``method`` are ``file`` when a predictions
    file was scored; so are the means (that file has no scores)."""

    gold: str
    level: str
    layer: int | None
    method: str
    aer: float
    precision: float
    recall: float
    f1: float
    n_pred: int
    n_sure: int
    n_pred_sure: int
    n_pred_possible: int
    pairs: int
    mean_confidence: float | None
    mean_coverage: float | None


@dataclass(frozen=True)
class BestLayer:
    """The layer a method does best at, chosen on the dev split (lowest dev AER; ties: the
    lower layer) and scored on the disjoint test split (``test``). ``all_pairs_*``: the layer
    and AER when choosing and reporting on all pairs (optimistic; what earlier versions reported)."""

    gold: str
    level: str
    method: str
    layer: int
    chosen_on: str
    dev_pairs: int
    dev_aer: float
    reported_on: str
    test: Scores
    all_pairs_best_layer: int
    all_pairs_best_aer: float


@dataclass(frozen=True)
class PairScore:
    """One pair's scores for one (gold, level, layer, method); ``split`` is dev or test."""

    gold: str
    level: str
    layer: int | None
    method: str
    pair: int  # 1-based
    split: str
    aer: float
    precision: float
    recall: float
    f1: float
    n_pred: int
    n_sure: int
    n_pred_sure: int
    n_pred_possible: int
    confidence: float | None
    coverage: float | None


@dataclass(frozen=True)
class SplitInfo:
    seed: int
    dev_fraction: float
    chosen_on: str = "dev"
    reported_on: str = "test"
    note: str = ("best layer per (gold, level, method) chosen on the dev pairs, its scores reported on the "
                 "disjoint test pairs; by_layer_all_pairs scores every layer on all pairs (no selection)")


@dataclass(frozen=True, kw_only=True)
class AlignEvalResult(StudyResult):
    kind = "align_eval"
    mode: str  # "model" (aligned here) or "predictions" (a Pharaoh file scored)
    golds: tuple[GoldInfo, ...]
    layers: tuple[int, ...]
    methods: tuple[str, ...]
    levels: tuple[str, ...]
    split: SplitInfo
    by_layer_all_pairs: tuple[EvalRow, ...]
    best: tuple[BestLayer, ...]
    per_pair: tuple[PairScore, ...] = transient(())

    def row(self, gold: str, level: str, layer: int | None, method: str) -> EvalRow:
        for r in self.by_layer_all_pairs:
            if (r.gold, r.level, r.layer, r.method) == (gold, level, layer, method):
                return r
        raise KeyError((gold, level, layer, method))

    def save(self, out_dir: str | Path) -> Path:
        """``align_eval.json`` and ``per_pair.jsonl`` (one line per pair and row)."""
        from dataclasses import asdict

        from ..io import atomic_write_text

        if self.per_pair:
            atomic_write_text(Path(out_dir) / "per_pair.jsonl",
                              "".join(json.dumps(asdict(p)) + "\n" for p in self.per_pair))
        return super().save(out_dir)

    @classmethod
    def load(cls, path: str | Path) -> AlignEvalResult:
        res = super().load(path)
        pp = (Path(path) if Path(path).is_dir() else Path(path).parent) / "per_pair.jsonl"
        if pp.is_file():
            from ..data.readers.text import read_lines

            per = tuple(PairScore(**json.loads(x)) for x in read_lines(pp, blank="skip"))
            res = dataclasses.replace(res, per_pair=per)
        return res

    def table_lines(self) -> list[str]:
        out = ["every layer on all pairs of each gold set (no selection):",
               f"{'gold':8s} {'level':8s} {'layer':>5s} {'method':9s} {'AER':>7s} {'P':>7s} {'R':>7s} {'F1':>7s}"]
        for r in self.by_layer_all_pairs:
            lay = "-" if r.layer is None else str(r.layer)
            out.append(f"{r.gold:8s} {r.level:8s} {lay:>5s} {r.method:9s} {r.aer:7.4f} {r.precision:7.4f} "
                       f"{r.recall:7.4f} {r.f1:7.4f}")
        return out

    def summary(self) -> list[str]:
        if not self.best:
            return [f"{r.gold} {r.level} {r.method}: AER {r.aer:.4f} (P {r.precision:.4f}, R {r.recall:.4f}, "
                    f"{r.pairs} pairs)" for r in self.by_layer_all_pairs if r.layer is None or len(self.layers) == 1]
        out = [f"best layer chosen on the dev split (seed {self.split.seed}, {self.split.dev_fraction:g} of the pairs), "
               "AER on the test split; [best on all pairs]:"]
        for b in self.best:
            out.append(f"{b.gold:8s} {b.level:8s} {b.method:9s} layer {b.layer:2d}  test AER {b.test.aer:.4f} "
                       f"({b.test.pairs} pairs; dev {b.dev_aer:.4f})  [L{b.all_pairs_best_layer} {b.all_pairs_best_aer:.4f}]")
        return out


def _scores_of(a: Any) -> dict[str, Any]:
    return {k: getattr(a, k) for k in ("aer", "precision", "recall", "f1", "n_pred", "n_sure", "n_pred_sure",
                                       "n_pred_possible")}


def _counts(ev: Any) -> Any:
    import numpy as np

    return np.array([[s.n_pred, s.n_sure, s.n_pred_sure, s.n_pred_possible] for s in ev.per_pair], dtype=np.int64)


def _score_set(config: AlignEvalConfig, gs: GoldSet, src: Any, tgt: Any, layers: Sequence[int]
               ) -> tuple[list[EvalRow], list[PairScore], dict[tuple[str, str], dict[int, Any]]]:
    """Every layer x level x method on one gold set -> table rows, per-pair scores, and the
    per-pair counts by (level, method) and layer (for the dev/test choice)."""
    from ..analyses.alignment import align_pairs, score_alignments

    dev = set(gs.info.dev_pairs)
    opts = config.options()
    rows, per, counts = [], [], {}
    for layer in layers:
        for lv in config.levels:
            res = align_pairs(src, tgt, layer, config.methods, lv, not config.keep_lone_marker, opts)
            for m, al in res.items():
                ev = score_alignments(al, gs.pairs)
                n = max(len(al), 1)
                rows.append(EvalRow(gs.name, lv, layer, m.value, **_scores_of(ev.overall), pairs=len(gs.pairs),
                                    mean_confidence=sum(a.confidence for a in al) / n,
                                    mean_coverage=sum(a.coverage for a in al) / n))
                counts.setdefault((lv, m.value), {})[layer] = _counts(ev)
                per += [PairScore(gs.name, lv, layer, m.value, k + 1, "dev" if k + 1 in dev else "test", **_scores_of(s),
                                  confidence=a.confidence, coverage=a.coverage)
                        for k, (s, a) in enumerate(zip(ev.per_pair, al))]
    return rows, per, counts


def _best_layers(gs: GoldSet, counts: dict[tuple[str, str], dict[int, Any]],
                 rows: Sequence[EvalRow]) -> list[BestLayer]:
    """Per (level, method): the layer with the lowest AER on the dev pairs, scored on the test pairs."""
    dev = [k - 1 for k in gs.info.dev_pairs]
    if not dev:
        return []
    test = sorted(set(range(gs.info.pairs)) - set(dev))
    out = []
    for (lv, m), by_layer in counts.items():
        dev_aer = {la: Scores.from_counts(c[dev].sum(0), len(dev)).aer for la, c in by_layer.items()}
        chosen = min(sorted(dev_aer), key=lambda la: dev_aer[la])
        full = {r.layer: r.aer for r in rows if (r.level, r.method) == (lv, m)}
        all_best = min(sorted(full), key=lambda la: full[la])  # type: ignore[arg-type, return-value]
        out.append(BestLayer(gs.name, lv, m, chosen, "dev", len(dev), dev_aer[chosen], "test",
                             Scores.from_counts(by_layer[chosen][test].sum(0), len(test)),
                             int(all_best), float(full[all_best])))  # type: ignore[arg-type]
    return out


def _with_split(gs: GoldSet, config: AlignEvalConfig) -> GoldSet:
    dev = tuple(k + 1 for k in dev_split(gs.info.pairs, config.dev_fraction, config.seed))
    return dataclasses.replace(gs, info=dataclasses.replace(gs.info, dev_pairs=dev))


def _eval_predictions(config: AlignEvalConfig, gs: GoldSet) -> AlignEvalResult:
    """Score a Pharaoh predictions file (one line per gold pair; with ``limit``, its first N lines)."""
    from ..analyses.alignment import score_alignments
    from ..data.readers.pairs import read_links

    links = read_links(config.pred)  # type: ignore[arg-type]
    if len(links) not in (gs.total_pairs, len(gs.pairs)):
        raise InputError(f"{len(links)} lines but the gold set has {gs.total_pairs} sentence pairs", config.pred,
                         min(len(links), gs.total_pairs) + 1)
    links = links[: len(gs.pairs)]
    for n, (ls, g) in enumerate(zip(links, gs.pairs), 1):
        for i, j in ls:
            if i >= len(g.src) or j >= len(g.tgt):
                raise InputError(f"predicted link {i}-{j} is beyond the sentence length ({len(g.src)} source, "
                                 f"{len(g.tgt)} target words)", config.pred, n)
    ev = score_alignments(links, gs.pairs)
    rows = (EvalRow(gs.name, "file", None, "file", **_scores_of(ev.overall), pairs=len(gs.pairs),
                    mean_confidence=None, mean_coverage=None),)
    per = tuple(PairScore(gs.name, "file", None, "file", k + 1, "all", **_scores_of(s), confidence=None, coverage=None)
                for k, s in enumerate(ev.per_pair))
    pred_prov = file_provenance("predictions", [config.pred])  # type: ignore[list-item]
    prov = make_provenance(config, datasets=[gs.provenance, pred_prov])
    info = dataclasses.replace(gs.info, dev_pairs=())
    return AlignEvalResult(provenance=prov, mode="predictions", golds=(info,), layers=(), methods=(), levels=(),
                           split=SplitInfo(config.seed, config.dev_fraction, "none", "all",
                                           "a predictions file: nothing is chosen, every pair is scored"),
                           by_layer_all_pairs=rows, best=(), per_pair=per)


def align_eval(config: AlignEvalConfig, *, encoder: Any = None, store: Any = None) -> AlignEvalResult:
    """Score the config's methods at every layer and level against each gold set (one
    extraction per set), choose each method's best layer on the dev split and report it on
    the test split; or score a predictions file (``pred``) without a model."""
    sets = [_with_split(load_gold(g, config.pairs_file, config.gold_index, config.limit), config)
            for g in config.gold]  # every gold file is read and checked before any model work
    if config.pred is not None:
        return _eval_predictions(config, sets[0])
    enc = resolve_encoder(config, encoder)
    layers = resolve_layers(_trained_layer_default(config), enc.num_layers)
    rows: list[EvalRow] = []
    per: list[PairScore] = []
    best: list[BestLayer] = []
    for gs in sets:
        src, tgt = _encode(config, enc, store, [list(g.src) for g in gs.pairs], [list(g.tgt) for g in gs.pairs], layers)
        r, p, counts = _score_set(config, gs, src, tgt, layers)
        rows += r
        per += p
        best += _best_layers(gs, counts, r)
    prov = make_provenance(config, encoder=enc, layers=layers, pooling=config.pooling,
                           datasets=[s.provenance for s in sets])
    return AlignEvalResult(provenance=prov, mode="model", golds=tuple(s.info for s in sets), layers=tuple(layers),
                           methods=tuple(config.methods), levels=tuple(config.levels),
                           split=SplitInfo(config.seed, config.dev_fraction), by_layer_all_pairs=tuple(rows),
                           best=tuple(best), per_pair=tuple(per))


run = align_eval

__all__ = [
    "AlignConfig", "AlignEvalConfig", "AlignOptions", "AlignResult", "AlignEvalResult", "AlignedPair", "Links",
    "MethodSummary", "PairHeatmap", "EvalRow", "BestLayer", "PairScore", "Scores", "SplitInfo", "GoldInfo",
    "GoldSet", "align", "align_eval", "encode_pairs", "load_gold", "gold_pairs", "dev_split", "file_provenance",
    "GOLD_SETS",
]
