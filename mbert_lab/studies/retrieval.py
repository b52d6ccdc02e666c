"""Retrieval: Tatoeba accuracy + xSIM, word translation (BLI), bitext mining, BUCC-style F1,
mining on a pool of languages, FAISS indexes (build, search, recall).

>>> import mbert_lab as ml                                                   # doctest: +SKIP
>>> r = ml.tatoeba(langs="de,fr", layers=[8, 12])                             # doctest: +SKIP
>>> r.transforms["none"].best_layer, r.transforms["none"].test_at_best.xx_to_eng  # doctest: +SKIP

Every reported best layer or mining threshold is chosen on a seeded dev split and reported
on the disjoint test split (the Result says which split chose it); figures on all data are
kept, labelled ``all data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .base import (
    EncoderOptions,
    StudyConfig,
    StudyResult,
    check_choice,
    check_choices,
    check_count,
    check_float,
    check_input_dir,
    check_input_file,
    check_output_dir,
    check_text,
    make_extractor,
    make_provenance,
    resolve_encoder,
    resolve_layers,
    resolve_store,
    transient,
)

TRANSFORMS = ("none", "center")
MARGINS = ("ratio", "distance", "absolute")
MODES = ("forward", "backward", "max", "intersect")
BLI_METHODS = ("cosine", "csls")
UNITS = ("sentence", "word", "word-type")
MUSE_RECOMMENDED = ("n", "v", "a", "o")


# ============================================================================ data on disk


def _root() -> Path:
    from ..paths import data_root

    return data_root()


def tatoeba_on_disk() -> list[str]:
    """Tatoeba languages whose two files (``tatoeba.<xx>-eng.<xx>`` / ``.eng``) are under the
    data root (the card's 112, or more)."""
    d = _root() / "tatoeba" / "v1"
    if not d.is_dir():
        return []
    out = []
    for p in d.glob("tatoeba.*-eng.eng"):
        code = p.name[len("tatoeba."):-len("-eng.eng")]
        if (d / f"tatoeba.{code}-eng.{code}").is_file():
            out.append(code)
    return sorted(out)


def tatoeba_files(lang: str) -> tuple[Path, Path]:
    d = _root() / "tatoeba" / "v1"
    return d / f"tatoeba.{lang}-eng.{lang}", d / f"tatoeba.{lang}-eng.eng"


def _match_code(name: str, code: str, have: Sequence[str], what: str) -> str:
    """A user's code (639-1, 639-3 or the dataset's own) -> the dataset's code on disk."""
    from ..languages import is_known, to_iso639_3

    code = str(code).strip()
    if code in have:
        return code
    if is_known(code):
        iso = to_iso639_3(code)
        for h in have:
            if h == iso or (is_known(h) and to_iso639_3(h) == iso):
                return h
    known = "in the language table but" if is_known(code) else "not in the language table and"
    found = ", ".join(list(have)[:20]) + (" ..." if len(have) > 20 else "") if have else "none"
    raise ConfigError(f"{name}: unknown language '{code}': {known} no {what} files for it under {_root()} (found: {found})")


def normalise_tatoeba_langs(name: str, value: Any) -> tuple[str, ...]:
    """``'all'`` / a comma string / a list of 639-1 or 639-3 codes -> Tatoeba codes on disk."""
    have = tatoeba_on_disk()
    if isinstance(value, str) and value.strip() == "all":
        if not have:
            raise ConfigError(f"{name}: no Tatoeba files under {_root() / 'tatoeba/v1'} (set $MBERT_LAB_DATA)")
        return tuple(have)
    vals = [x.strip() for x in value.split(",")] if isinstance(value, str) else [str(x) for x in value or ()]
    if not vals or any(not v for v in vals):
        raise ConfigError(f"{name}: give 'all' or language codes like de,fr")
    out = tuple(_match_code(name, v, have, "tatoeba") for v in vals)
    if len(set(out)) != len(out):
        raise ConfigError(f"{name}: a language is listed twice in {value!r}")
    return out


def muse_pairs_on_disk() -> list[str]:
    """MUSE pairs with a 5000-6500 test dictionary under the data root (combined or by-pos)."""
    d = _root() / "muse"
    names = {p.name.split(".")[0] for p in d.glob("*.5000-6500.txt")} if d.is_dir() else set()
    if (d / "by-pos").is_dir():
        names |= {p.name.split(".")[0] for p in (d / "by-pos").glob("*.5000-6500.*.txt")}
    return sorted(n for n in names if "-" in n)


def muse_categories_on_disk(pair: str) -> list[str]:
    d = _root() / "muse" / "by-pos"
    return sorted(p.name.split(".")[2] for p in d.glob(f"{pair}.5000-6500.*.txt")) if d.is_dir() else []


def normalise_muse_pair(value: str) -> str:
    have = muse_pairs_on_disk()
    if value in have:
        return value
    a, sep, b = str(value).replace("_", "-").partition("-")
    if sep:
        try:
            want = (_iso(a), _iso(b))
        except ConfigError:
            want = None
        for p in have:
            x, _, y = p.partition("-")
            if want is not None and (_iso(x, False), _iso(y, False)) == want:
                return p
    raise ConfigError(f"pair: no MUSE dictionary '{value}' under {_root() / 'muse'} "
                      f"(found: {', '.join(have) or 'none'}); or give your own with dictionary=FILE")


def _iso(code: str, strict: bool = True) -> str:
    from ..languages import is_known, to_iso639_3

    if is_known(code):
        return to_iso639_3(code)
    if strict:
        raise ConfigError(f"unknown language '{code}'")
    return code


def _lang_label(name: str, value: str | None) -> str | None:
    """An optional language label: 639-1/639-3 -> 639-3; other labels kept as given."""
    from ..languages import is_known, to_iso639_3

    if value is None:
        return None
    check_text(name, value)
    return to_iso639_3(value) if is_known(value) else value


# ============================================================================ shared results


@dataclass(frozen=True)
class Split:
    """A seeded dev/test split: the dev part chooses, the test part reports."""

    unit: str  # what was split: "sentences per language", "source words", "source sentences"
    dev_fraction: float
    seed: int
    n_dev: int
    n_test: int


def split_indices(n: int, dev_fraction: float, seed: int) -> tuple[Any, Any]:
    """Seeded permutation of ``range(n)`` cut into (dev, test), both sorted, both non-empty."""
    import numpy as np

    if n < 2:
        raise InputError(f"cannot split {n} item(s) into dev and test parts")
    perm = np.random.default_rng(seed).permutation(n)
    nd = min(max(1, round(n * dev_fraction)), n - 1)
    return np.sort(perm[:nd]), np.sort(perm[nd:])


def _check_split(cfg: Any) -> None:
    check_float("dev_fraction", cfg.dev_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    check_count("seed", cfg.seed, minimum=0)


def _one_layer(cfg: EncoderOptions) -> None:
    """Studies that work on one layer: ``layers`` must name exactly one (or be 'last')."""
    if cfg.single_layer is None and cfg.layers != "last":
        raise ConfigError(f"layers: this study works on one layer (e.g. 12 or 'last'), got {cfg.layers!r}")


def _layer_of(cfg: EncoderOptions, enc: Any) -> int:
    return resolve_layers(cfg.layers, enc.num_layers)[0]


def _check_ray(cfg: Any) -> None:
    from ..distributed import check_ray_fields

    check_ray_fields(cfg)


def _extractor(cfg: EncoderOptions, enc: Any, store: Any, layers: Sequence[int], outputs: Sequence[str],
               progress: bool = True) -> Any:
    """``make_extractor``, on Ray when the config says so (inside ``session_for(cfg)``)."""
    from ..distributed import extractor_for

    return extractor_for(cfg, make_extractor(cfg, enc, store, layers, outputs, progress=progress))


def _set_faiss_threads(threads: int | None) -> None:
    if threads:
        from ..index.faiss_index import _faiss

        _faiss().omp_set_num_threads(int(threads))


# ============================================================================ Tatoeba


@dataclass(frozen=True, kw_only=True)
class TatoebaConfig(EncoderOptions):
    """Tatoeba retrieval xx<->eng by cosine 1-NN, with xSIM (ratio margin, ``margin_k``),
    raw and centred (each side minus its own mean). The best layer is chosen on a dev half of
    each language's sentences and reported on the other half (retrieval within that half)."""

    study = "tatoeba"
    langs: Any = "all"
    transforms: tuple[str, ...] = TRANSFORMS
    margin_k: int = 4
    dev_fraction: float = 0.5
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        self._set("langs", normalise_tatoeba_langs("langs", self.langs))
        t = self.transforms
        self._set("transforms", tuple(x.strip() for x in t.split(",")) if isinstance(t, str) else tuple(t))

    def validate(self) -> None:
        super().validate()
        check_choices("transforms", self.transforms, TRANSFORMS)
        check_count("margin_k", self.margin_k)
        _check_split(self)


@dataclass(frozen=True)
class TatoebaScores:
    n: int
    xx_to_eng: float
    eng_to_xx: float
    xsim_xx_to_eng: float
    xsim_eng_to_xx: float

    @property
    def mean_accuracy(self) -> float:
        return (self.xx_to_eng + self.eng_to_xx) / 2


@dataclass(frozen=True)
class TatoebaTransform:
    """One transform: averages over languages by layer, on all data and on the dev/test
    halves; the layer chosen on dev and its test figures."""

    average_by_layer: dict[int, TatoebaScores]  # all data (every sentence)
    per_language: dict[int, dict[str, TatoebaScores]]  # all data
    dev_by_layer: dict[int, TatoebaScores]
    test_by_layer: dict[int, TatoebaScores]
    best_layer: int
    best_layer_chosen_on: str  # "dev"
    test_at_best: TatoebaScores
    best_layer_all_data: int  # chosen and reported on all data (the previous protocol), labelled


@dataclass(frozen=True, kw_only=True)
class TatoebaResult(StudyResult):
    kind = "tatoeba"
    languages: tuple[str, ...]
    layers: tuple[int, ...]
    split: Split
    transforms: dict[str, TatoebaTransform]
    pooling: str = "mean"
    similarity: str = "cosine 1-NN; xSIM error = ratio margin"
    centering: str = "each side minus its own mean over all its sentences"


def encode_tatoeba(cfg: EncoderOptions, enc: Any, store: Any, langs: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """lang -> (xx side, English side) encoded corpora: every layer of the model, each file
    encoded as the full list of its lines in file order (shared through the vector store
    with the centroids study)."""
    from ..data.readers.text import read_lines

    ex = make_extractor(cfg, enc, store, tuple(range(enc.num_layers + 1)), ("sentence",), progress=False)
    out = {}
    for lang in langs:
        fx, fe = tatoeba_files(lang)
        out[lang] = (ex.encode(read_lines(fx), desc=f"tatoeba {lang}"), ex.encode(read_lines(fe), desc=f"tatoeba {lang}-eng"))
    return out


def _tatoeba_scores(x: Any, y: Any, k: int) -> TatoebaScores:
    from ..analyses.retrieval import tatoeba_accuracy

    s = tatoeba_accuracy(x, y, k=k)
    return TatoebaScores(s.n, s.src_to_tgt, s.tgt_to_src, s.xsim_src_to_tgt, s.xsim_tgt_to_src)


def _average(rows: Sequence[TatoebaScores]) -> TatoebaScores:
    import numpy as np

    return TatoebaScores(int(sum(r.n for r in rows)), *(float(np.mean([getattr(r, f) for r in rows])) for f in
                                                         ("xx_to_eng", "eng_to_xx", "xsim_xx_to_eng", "xsim_eng_to_xx")))


def _tatoeba_transform(cfg: TatoebaConfig, sets: dict[str, tuple[Any, Any]], layers: Sequence[int], tr: str,
                       splits: dict[str, tuple[Any, Any]]) -> TatoebaTransform:
    from ..analyses.retrieval import center

    per: dict[int, dict[str, TatoebaScores]] = {}
    dev: dict[int, TatoebaScores] = {}
    test: dict[int, TatoebaScores] = {}
    for la in layers:
        rows, drows, trows = {}, [], []
        for lg, (cx, cy) in sets.items():
            x, y = cx.sentence(la), cy.sentence(la)
            if tr == "center":
                x, y = center(x), center(y)
            rows[lg] = _tatoeba_scores(x, y, cfg.margin_k)
            d, t = splits[lg]
            drows.append(_tatoeba_scores(x[d], y[d], cfg.margin_k))
            trows.append(_tatoeba_scores(x[t], y[t], cfg.margin_k))
        per[la], dev[la], test[la] = rows, _average(drows), _average(trows)
    avg = {la: _average(list(per[la].values())) for la in layers}
    best = max(layers, key=lambda la: (dev[la].mean_accuracy, -la))
    best_all = max(layers, key=lambda la: (avg[la].mean_accuracy, -la))
    return TatoebaTransform(avg, per, dev, test, best, "dev", test[best], best_all)


def tatoeba(config: TatoebaConfig, *, encoder: Any = None, store: Any = None) -> TatoebaResult:
    """Tatoeba xx<->eng retrieval by layer and transform (see :class:`TatoebaConfig`)."""
    from ..data.registry import dataset_provenance

    enc = resolve_encoder(config, encoder)
    layers = resolve_layers(config.layers, enc.num_layers)
    sets = encode_tatoeba(config, enc, resolve_store(config, store), config.langs)
    splits = {lg: split_indices(len(cx), config.dev_fraction, config.seed) for lg, (cx, _) in sets.items()}
    trs = {tr: _tatoeba_transform(config, sets, layers, tr, splits) for tr in config.transforms}
    n_dev = sum(len(d) for d, _ in splits.values())
    n_test = sum(len(t) for _, t in splits.values())
    files = [f for lg in config.langs for f in tatoeba_files(lg)]
    prov = make_provenance(config, encoder=enc, layers=layers, pooling="mean",
                           datasets=[dataset_provenance("tatoeba", files, languages=config.langs)])
    return TatoebaResult(provenance=prov, languages=tuple(config.langs), layers=tuple(layers),
                         split=Split("sentences per language", config.dev_fraction, config.seed, n_dev, n_test),
                         transforms=trs)


# ============================================================================ BLI


@dataclass(frozen=True, kw_only=True)
class BliConfig(EncoderOptions):
    """Word translation retrieval (P@1/5/10) on a MUSE pair under the data root (by POS when
    ``by-pos/`` files exist, else the combined dictionary) or a user ``dictionary`` file
    (``source<TAB>target`` per line). Words are encoded alone (1-word pre-tokenized input);
    a word's vector is the mean of its pieces, a lone '▁' piece dropped unless
    ``drop_lone_piece`` is false. The target vocabulary is every target word of the
    dictionary. With several layers, the best one is chosen on a dev split of the source
    words and reported on the rest."""

    study = "bli"
    pair: str | None = None
    dictionary: str | None = None
    drop_lone_piece: bool = True
    methods: tuple[str, ...] = BLI_METHODS
    csls_k: int = 10
    dev_fraction: float = 0.5
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        if self.dictionary is None:
            self._set("pair", normalise_muse_pair(self.pair or "de-en"))
        m = self.methods
        self._set("methods", tuple(x.strip() for x in m.split(",")) if isinstance(m, str) else tuple(m))

    def validate(self) -> None:
        super().validate()
        check_input_file("dictionary", self.dictionary, allow_none=True)
        if self.pair is not None:
            check_text("pair", self.pair)
        if not isinstance(self.drop_lone_piece, bool):
            raise ConfigError(f"drop_lone_piece: must be true or false, got {self.drop_lone_piece!r}")
        check_choices("methods", self.methods, BLI_METHODS)
        check_count("csls_k", self.csls_k)
        _check_split(self)


@dataclass(frozen=True)
class Precision:
    n: int
    p_at_1: float
    p_at_5: float
    p_at_10: float
    n_identical_excluded: int = 0


@dataclass(frozen=True)
class BliScores:
    all_categories: Precision
    all_categories_without_identical: Precision
    recommended: Precision | None  # n+v+a+o (MUSE by-pos only)
    recommended_without_identical: Precision | None
    by_category: dict[str, Precision]
    by_category_without_identical: dict[str, Precision]


@dataclass(frozen=True)
class LayerChoice:
    """The best layer by P@1 (first method) on the dev source words, reported on the test ones."""

    method: str
    best_layer: int
    chosen_on: str  # "dev"
    dev_p_at_1: dict[int, float]
    test_p_at_1: dict[int, float]
    test_at_best: Precision
    split: Split


@dataclass(frozen=True, kw_only=True)
class BliResult(StudyResult):
    kind = "bli"
    pair: str | None
    dictionary: str  # "muse by-pos", "muse combined" or the user's file
    categories: tuple[str, ...]
    n_sources: int
    n_targets: int
    layers: tuple[int, ...]
    drop_lone_piece: bool
    results: dict[int, dict[str, BliScores]]  # layer -> method -> scores
    layer_choice: LayerChoice
    word_vectors: str = "each word encoded alone (1-word pre-tokenized input); mean of its subword vectors, no special tokens"
    target_vocabulary: str = "every target word of the dictionary"


def load_bli_dictionary(cfg: BliConfig) -> tuple[list[tuple[str, str, str | None]], str, list[Path]]:
    """``(entries (src, tgt, category), what, files)``: the user's file, the pair's by-pos
    files (deduplicated within each category), or the pair's combined file."""
    from ..data.readers.tsv import read_word_pairs

    if cfg.dictionary is not None:
        return [(s, t, None) for s, t in read_word_pairs(cfg.dictionary)], str(cfg.dictionary), [Path(cfg.dictionary)]
    pair = str(cfg.pair)
    cats = muse_categories_on_disk(pair)
    if cats:
        files = [_root() / "muse" / "by-pos" / f"{pair}.5000-6500.{c}.txt" for c in cats]
        entries = [(s, t, c) for c, f in zip(cats, files) for s, t in read_word_pairs(f)]
        return entries, "muse by-pos", files
    f = _root() / "muse" / f"{pair}.5000-6500.txt"
    return [(s, t, None) for s, t in read_word_pairs(f)], "muse combined", [f]


def isolated_word_vectors(cfg: EncoderOptions, enc: Any, store: Any, words: Sequence[str], layers: Sequence[int],
                          drop_lone_piece: bool = True) -> dict[int, Any]:
    """Each word encoded alone (a 1-word pre-tokenized input): layer -> [n_words, H], the
    mean of the word's subword vectors without special tokens."""
    import numpy as np

    ex = make_extractor(cfg, enc, store, layers, ("word",), drop_lone_marker=drop_lone_piece)
    corp = ex.encode([[w] for w in words], pretokenized=True)
    return {la: np.stack([corp.words(i, la)[0] for i in range(len(corp))]) for la in layers}


def _gold(entries: Sequence[tuple[str, str, str | None]], cats: Sequence[str] | None = None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s, t, c in entries:
        if cats is None or c in cats:
            out.setdefault(s, set()).add(t)
    return out


def _precision(cfg: BliConfig, sv: Any, tv: Any, src: list[str], tgt: list[str], gold: dict[str, set[str]],
               method: str, exclude_identical: bool = False) -> Precision:
    from ..analyses.retrieval import bli_precision

    s = bli_precision(sv, tv, src, tgt, gold, method=method, csls_k=cfg.csls_k, exclude_identical=exclude_identical)
    p = s.precision
    return Precision(s.n_sources, p["p@1"], p["p@5"], p["p@10"], s.n_identical_excluded)


def _bli_scores(cfg: BliConfig, sv: Any, tv: Any, src: list[str], tgt: list[str],
                entries: Sequence[tuple[str, str, str | None]], method: str) -> BliScores:
    cats = sorted({c for _, _, c in entries if c is not None})
    g_all = _gold(entries)
    rec_cats = [c for c in MUSE_RECOMMENDED if c in cats]
    g_rec = _gold(entries, rec_cats) if rec_cats else None
    by = {c: _gold(entries, [c]) for c in cats}

    def p(g: dict[str, set[str]], ex: bool) -> Precision:
        return _precision(cfg, sv, tv, src, tgt, g, method, ex)

    return BliScores(p(g_all, False), p(g_all, True), p(g_rec, False) if g_rec else None,
                     p(g_rec, True) if g_rec else None,
                     {c: p(g, False) for c, g in by.items()}, {c: p(g, True) for c, g in by.items()})


def _bli_layer_choice(cfg: BliConfig, sv: dict[int, Any], tv: dict[int, Any], src: list[str], tgt: list[str],
                      gold: dict[str, set[str]], layers: Sequence[int]) -> LayerChoice:
    dev_i, test_i = split_indices(len(src), cfg.dev_fraction, cfg.seed)
    g_dev = {src[i]: gold[src[i]] for i in dev_i}
    g_test = {src[i]: gold[src[i]] for i in test_i}
    method = cfg.methods[0]
    dev = {la: _precision(cfg, sv[la], tv[la], src, tgt, g_dev, method).p_at_1 for la in layers}
    test = {la: _precision(cfg, sv[la], tv[la], src, tgt, g_test, method) for la in layers}
    best = max(layers, key=lambda la: (dev[la], -la))
    return LayerChoice(method, best, "dev", dev, {la: t.p_at_1 for la, t in test.items()}, test[best],
                       Split("source words", cfg.dev_fraction, cfg.seed, len(dev_i), len(test_i)))


def bli(config: BliConfig, *, encoder: Any = None, store: Any = None) -> BliResult:
    """Word translation P@k by layer, method and POS category (see :class:`BliConfig`)."""
    from ..results import DatasetProvenance

    entries, what, files = load_bli_dictionary(config)
    gold = _gold(entries)
    src = sorted(gold)
    tgt = sorted({t for _, t, _ in entries})
    enc = resolve_encoder(config, encoder)
    layers = resolve_layers(config.layers, enc.num_layers)
    st = resolve_store(config, store)
    sv = isolated_word_vectors(config, enc, st, src, layers, config.drop_lone_piece)
    tv = isolated_word_vectors(config, enc, st, tgt, layers, config.drop_lone_piece)
    res = {la: {m: _bli_scores(config, sv[la], tv[la], src, tgt, entries, m) for m in config.methods} for la in layers}
    choice = _bli_layer_choice(config, sv, tv, src, tgt, gold, layers)
    from ..data.registry import file_sha256

    ds = DatasetProvenance(name="muse" if config.dictionary is None else "user-dictionary",
                           files={str(f): file_sha256(f) for f in files})
    prov = make_provenance(config, encoder=enc, layers=layers, pooling="word mean", datasets=[ds])
    cats = tuple(sorted({c for _, _, c in entries if c is not None}))
    return BliResult(provenance=prov, pair=config.pair, dictionary=what, categories=cats, n_sources=len(src),
                     n_targets=len(tgt), layers=tuple(layers), drop_lone_piece=config.drop_lone_piece,
                     results=res, layer_choice=choice)


# ============================================================================ mining / BUCC


@dataclass(frozen=True, kw_only=True)
class _MiningOptions(EncoderOptions):
    """Fields shared by mining studies: two files of sentences, one layer, the margin."""

    src: str
    tgt: str
    with_ids: bool = False
    src_lang: str | None = None
    tgt_lang: str | None = None
    layers: Any = 12
    margin: str = "ratio"
    mode: str = "max"
    k: int = 4
    transform: str = "none"
    dev_fraction: float = 0.5
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        self._set("src_lang", _lang_label("src_lang", self.src_lang))
        self._set("tgt_lang", _lang_label("tgt_lang", self.tgt_lang))

    def validate(self) -> None:
        super().validate()
        check_input_file("src", self.src)
        check_input_file("tgt", self.tgt)
        _one_layer(self)
        check_choice("margin", self.margin, MARGINS)
        check_choice("mode", self.mode, MODES)
        check_count("k", self.k, maximum=1000)
        check_choice("transform", self.transform, TRANSFORMS)
        _check_split(self)


@dataclass(frozen=True)
class F1Scores:
    precision: float
    recall: float
    f1: float
    n_selected: int
    n_correct: int
    n_gold: int


@dataclass(frozen=True)
class MiningEvaluation:
    """BUCC protocol with the threshold chosen on a dev split of the source sentences (and
    their gold pairs) and F1 reported on the disjoint test split. The threshold is the middle
    of the gap below the dev-optimal cut (every threshold in that gap gives the same dev
    F1). ``oracle_all_data``: the
    F1-optimal threshold on all data, chosen on the figures it reports (labelled)."""

    threshold: float
    threshold_chosen_on: str  # "dev"
    dev: F1Scores
    test: F1Scores
    oracle_all_data: F1Scores
    oracle_threshold: float
    split: Split


def _f1_at(pairs: Any, keep_src: Any, gold: set[tuple[int, int]], threshold: float) -> F1Scores:
    import numpy as np

    sel = np.isin(pairs.src, keep_src) & (pairs.score >= threshold)
    keep = set(int(x) for x in keep_src)
    g = {p for p in gold if p[0] in keep}
    tp = sum((int(s), int(t)) in g for s, t in zip(pairs.src[sel], pairs.tgt[sel]))
    n = int(sel.sum())
    p = tp / n if n else 0.0
    r = tp / len(g) if g else 0.0
    return F1Scores(p, r, 2 * p * r / (p + r) if tp else 0.0, n, int(tp), len(g))


def evaluate_mining(pairs: Any, gold: set[tuple[int, int]], n_src: int, dev_fraction: float, seed: int) -> MiningEvaluation:
    """Threshold chosen on the dev sources, F1 on the test sources (see :class:`MiningEvaluation`)."""
    import numpy as np

    from ..analyses.retrieval import MinedPairs, score_pairs

    dev_s, test_s = split_indices(n_src, dev_fraction, seed)
    dset = set(int(x) for x in dev_s)
    g_dev = {p for p in gold if p[0] in dset}
    if not g_dev or len(g_dev) == len(gold):
        raise InputError(f"too few gold pairs ({len(gold)}) to split into dev and test parts; add gold pairs "
                         "or change dev_fraction")
    m = np.isin(pairs.src, dev_s)
    thr = score_pairs(MinedPairs(pairs.src[m], pairs.tgt[m], pairs.score[m]), g_dev).threshold
    below = pairs.score[m][pairs.score[m] < thr]
    if len(below) and np.isfinite(thr):  # every cut in (next lower dev score, thr] is optimal on dev:
        thr = float((thr + below.max()) / 2)  # take the middle of that gap
    oracle = score_pairs(pairs, gold)
    every = np.arange(n_src)
    return MiningEvaluation(thr, "dev", _f1_at(pairs, dev_s, gold, thr), _f1_at(pairs, test_s, gold, thr),
                            _f1_at(pairs, every, gold, oracle.threshold), oracle.threshold,
                            Split("source sentences", dev_fraction, seed, len(dev_s), len(test_s)))


@dataclass(frozen=True)
class MinedPair:
    score: float
    src_id: str
    tgt_id: str
    src: str
    tgt: str


def _read_mining_inputs(cfg: _MiningOptions) -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """Lines (``text`` or ``id<TAB>text``), or Parquet / JSON Lines records with id and text
    columns (read as a Ray dataset when ``cfg.ray`` is set, inside a Ray session)."""
    from ..data.readers.records import is_record_file, read_records, read_records_ray
    from ..data.readers.tsv import read_id_lines

    cols = {"id_column": getattr(cfg, "id_column", None) or "id", "text_column": getattr(cfg, "text_column", None) or "text"}
    read = read_records_ray if getattr(cfg, "ray", None) is not None else read_records
    return tuple(read(f, **cols) if is_record_file(f) else read_id_lines(f, cfg.with_ids)  # type: ignore[return-value]
                 for f in (cfg.src, cfg.tgt))


def gold_indices(path: str, sid: Sequence[str], tid: Sequence[str]) -> set[tuple[int, int]]:
    """BUCC gold ids -> (src row, tgt row); ids missing from the inputs are an error."""
    from ..data.readers.tsv import read_bucc_gold

    gp = read_bucc_gold(path)
    si = {x: i for i, x in enumerate(sid)}
    ti = {x: i for i, x in enumerate(tid)}
    unknown = [(a, b) for a, b in gp if a not in si or b not in ti]
    if unknown:
        raise InputError(f"{len(unknown)} gold pairs name ids not in the input files, e.g. {unknown[0]}", path)
    return {(si[a], ti[b]) for a, b in gp}


def _mine_vectors(cfg: _MiningOptions, enc: Any, store: Any, stext: list[str], ttext: list[str]) -> tuple[Any, int, tuple]:  # type: ignore[type-arg]
    """(pairs, layer, searches): ``searches`` = how each direction was searched with
    ``knn='ivf'`` (:class:`KnnSearch`), else ()."""
    from ..analyses import retrieval as R
    from ..distributed import release_extractors

    layer = _layer_of(cfg, enc)
    ex = _extractor(cfg, enc, resolve_store(cfg, store), (layer,), ("sentence",))
    cx, cy = ex.encode(stext), ex.encode(ttext)
    release_extractors()  # with ray: the model actors give their CPUs back to the k-NN tasks
    if getattr(cfg, "ray", None) is not None:  # the store's files, read (and centred) by Ray tasks
        from ..distributed.mining import store_side

        x, y = (store_side(c, layer, cfg.transform == "center") for c in (cx, cy))
    else:
        x, y = cx.sentence(layer), cy.sentence(layer)
        if cfg.transform == "center":
            x, y = R.center(x), R.center(y)
    _set_faiss_threads(cfg.threads)
    if getattr(cfg, "knn", "exact") == "ivf":
        pairs, searches = _mine_ann(cfg, x, y)
        return pairs, layer, searches
    if getattr(cfg, "ray", None) is not None:
        from ..distributed.mining import mine_on_ray

        return mine_on_ray(x, y, k=cfg.k, margin=cfg.margin, mode=cfg.mode, tasks=cfg.ray_workers,
                           threads=cfg.threads or 1, memory_budget=_budget(cfg)), layer, ()
    return R.mine(x, y, k=cfg.k, margin=cfg.margin, mode=cfg.mode), layer, ()


def _budget(cfg: Any) -> int | None:
    from ..index.faiss_index import parse_bytes

    return parse_bytes(cfg.memory) if getattr(cfg, "memory", None) else None


@dataclass(frozen=True)
class KnnSearch:
    """How one direction's neighbours were found from an IVF index (``knn='ivf'``)."""

    direction: str  # "forward" (sources over targets) or "backward"
    key: str
    nprobe: int
    nlist: int
    tuned_recall: float | None  # recall@k of a sample of the queries at nprobe; None: nprobe given
    exact_fallback: int  # queries with fewer than k hits, searched exactly


def _mine_ann(cfg: Any, x: Any, y: Any) -> tuple[Any, tuple[KnnSearch, ...]]:
    """Mining with the neighbours from IVF indexes (one process, or on Ray): (pairs, how
    each direction was searched)."""
    import dataclasses

    kw = {"k": cfg.k, "margin": cfg.margin, "mode": cfg.mode, "key": cfg.knn_key, "nprobe": cfg.nprobe,
          "target_recall": cfg.knn_recall, "seed": cfg.seed}
    if cfg.ray is not None:
        from ..distributed.mining import mine_ann_on_ray

        pairs, found = mine_ann_on_ray(x, y, tasks=cfg.ray_workers, memory_budget=_budget(cfg),
                                       threads=cfg.threads or 1, **kw)
    else:
        from ..index.ann_mining import mine_ann

        pairs, found = mine_ann(x, y, threads=cfg.threads, **kw)
    return pairs, tuple(KnnSearch(d, **dataclasses.asdict(f)) for d, f in zip(("forward", "backward"), found))


def _check_record_inputs(cfg: Any) -> None:
    """``id_column`` / ``text_column`` only with a Parquet / JSON Lines ``src`` or ``tgt``."""
    from ..data.readers.records import RECORD_SUFFIXES, is_record_file

    for name in ("id_column", "text_column"):
        v = getattr(cfg, name)
        if v is not None:
            check_text(name, v)
            if not (is_record_file(cfg.src) or is_record_file(cfg.tgt)):
                raise ConfigError(f"{name}: only for Parquet / JSON Lines inputs ({', '.join(RECORD_SUFFIXES)})")


def _check_knn(cfg: Any) -> None:
    from ..index.faiss_index import parse_bytes

    check_choice("knn", cfg.knn, ("exact", "ivf"))
    check_text("knn_key", cfg.knn_key)
    if cfg.knn_key != "auto" and "IVF" not in cfg.knn_key:
        raise ConfigError(f"knn_key: 'auto' or a FAISS IVF factory string like 'IVF256,Flat', got {cfg.knn_key!r}")
    check_count("nprobe", cfg.nprobe, maximum=1 << 20, allow_none=True)
    check_float("knn_recall", cfg.knn_recall, low=0.0, high=1.0, low_open=True)
    if cfg.knn == "exact" and (cfg.nprobe is not None or cfg.knn_key != "auto"):
        raise ConfigError("nprobe / knn_key: only with knn='ivf' (--knn ivf)")
    if cfg.memory is not None:
        try:
            parse_bytes(cfg.memory)
        except (ConfigError, ValueError):
            raise ConfigError(f"memory: expected a size like 4G or 512M, got {cfg.memory!r}") from None
        if cfg.ray is None:
            raise ConfigError("memory: only with ray (the k-NN tasks' budget for the targets / index parts)")


@dataclass(frozen=True, kw_only=True)
class MineConfig(_MiningOptions):
    """Margin-based mining between two files. ``threshold``: ``'auto'`` = chosen on a dev
    split of ``gold`` when given (else every candidate is kept), or a number. ``ray``: encode
    and run the k-NN queries on a Ray cluster (the same pairs): :mod:`mbert_lab.distributed`.
    ``knn``: ``'exact'`` (brute force) or ``'ivf'``: the neighbours of both directions from
    an IVF index over each side (``knn_key``: 'auto' = ``IVF<nlist>,Flat``), ``nprobe`` given
    or tuned to recall@k >= ``knn_recall`` on a sample of the queries; scored by the same
    code (:func:`~mbert_lab.analyses.retrieval.mine_from_neighbours`); with every list probed
    the pairs are exact mining's. ``memory`` (with ``ray``): a k-NN task's budget: targets /
    index parts larger than that are searched a shard at a time."""

    study = "mine"
    gold: str | None = None
    threshold: Any = "auto"
    ray: str | None = None
    ray_workers: int | None = None
    knn: str = "exact"
    knn_key: str = "auto"
    nprobe: int | None = None
    knn_recall: float = 0.95
    memory: str | None = None
    id_column: str | None = None
    text_column: str | None = None

    def validate(self) -> None:
        super().validate()
        check_input_file("gold", self.gold, allow_none=True)
        _check_ray(self)
        _check_knn(self)
        _check_record_inputs(self)
        if self.threshold != "auto":
            check_float("threshold", self.threshold)


@dataclass(frozen=True, kw_only=True)
class MineResult(StudyResult):
    kind = "mine"
    n_src: int
    n_tgt: int
    layer: int
    n_candidates: int
    n_kept: int
    threshold: float | None
    threshold_chosen_on: str  # "given", "dev split of the gold pairs", "none (every candidate kept)"
    evaluation: MiningEvaluation | None
    knn: str = "exact"
    knn_searches: tuple[KnnSearch, ...] = ()  # knn='ivf': how each direction was searched
    pairs: Any = transient(())  # tuple[MinedPair, ...], best first

    def write_pairs(self, path: str | Path) -> Path:
        """TSV: score, src id, tgt id, src, tgt (best first)."""
        from ..io import atomic_open

        with atomic_open(path, "w") as f:
            f.write("score\tsrc_id\ttgt_id\tsrc\ttgt\n")
            for p in self.pairs:
                f.write(f"{p.score:.6f}\t{p.src_id}\t{p.tgt_id}\t{p.src}\t{p.tgt}\n")
        return Path(path)


def mine(config: MineConfig, *, encoder: Any = None, store: Any = None) -> MineResult:
    """Mine sentence pairs (see :class:`MineConfig`)."""
    from ..data.readers.records import check_record_file
    from ..distributed import session_for

    for f in (config.src, config.tgt):  # records' columns checked before any Ray or model work
        check_record_file(f, id_column=config.id_column or "id", text_column=config.text_column or "text")
    with session_for(config):  # with ray: Parquet / JSON Lines inputs are read as Ray datasets
        (sid, stext), (tid, ttext) = _read_mining_inputs(config)
        gold = gold_indices(config.gold, sid, tid) if config.gold else None
        enc = resolve_encoder(config, encoder)
        pairs, layer, searches = _mine_vectors(config, enc, store, stext, ttext)
    ev = evaluate_mining(pairs, gold, len(sid), config.dev_fraction, config.seed) if gold else None
    if config.threshold != "auto":
        thr, how = float(config.threshold), "given"
    elif ev is not None:
        thr, how = ev.threshold, "dev split of the gold pairs"
    else:
        thr, how = None, "none (every candidate kept)"
    kept = pairs.above(thr) if thr is not None else pairs
    rows = tuple(MinedPair(float(sc), sid[s], tid[t], stext[s], ttext[t]) for s, t, sc in zip(kept.src, kept.tgt, kept.score))
    prov = make_provenance(config, encoder=enc, layers=[layer], pooling="mean")
    return MineResult(provenance=prov, n_src=len(sid), n_tgt=len(tid), layer=layer, n_candidates=len(pairs),
                      n_kept=len(kept), threshold=thr, threshold_chosen_on=how, evaluation=ev, knn=config.knn,
                      knn_searches=searches, pairs=rows)


@dataclass(frozen=True, kw_only=True)
class BuccConfig(_MiningOptions):
    """BUCC-style F1 on any gold-pairs file (``src_id<TAB>tgt_id``): the mining threshold is
    chosen on a dev split of the source sentences and F1 is reported on the test split."""

    study = "bucc"
    gold: str
    with_ids: bool = True

    def validate(self) -> None:
        super().validate()
        check_input_file("gold", self.gold)


@dataclass(frozen=True, kw_only=True)
class BuccResult(StudyResult):
    kind = "bucc"
    n_src: int
    n_tgt: int
    n_gold: int
    layer: int
    n_candidates: int
    evaluation: MiningEvaluation


def bucc(config: BuccConfig, *, encoder: Any = None, store: Any = None) -> BuccResult:
    (sid, stext), (tid, ttext) = _read_mining_inputs(config)
    gold = gold_indices(config.gold, sid, tid)
    enc = resolve_encoder(config, encoder)
    pairs, layer, _ = _mine_vectors(config, enc, store, stext, ttext)
    ev = evaluate_mining(pairs, gold, len(sid), config.dev_fraction, config.seed)
    prov = make_provenance(config, encoder=enc, layers=[layer], pooling="mean")
    return BuccResult(provenance=prov, n_src=len(sid), n_tgt=len(tid), n_gold=len(gold), layer=layer,
                      n_candidates=len(pairs), evaluation=ev)


# ============================================================================ pool mining


@dataclass(frozen=True, kw_only=True)
class PoolConfig(EncoderOptions):
    """Mining on one pool of Tatoeba languages shuffled together: sources = every xx line,
    targets = the distinct English lines (a source is correct with its own English text)."""

    study = "pool"
    langs: Any = "all"
    layers: Any = "last"
    transforms: tuple[str, ...] = TRANSFORMS
    modes: tuple[str, ...] = ("forward", "max", "intersect")
    k: int = 4
    dev_fraction: float = 0.5
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        self._set("langs", normalise_tatoeba_langs("langs", self.langs))
        for f in ("transforms", "modes"):
            v = getattr(self, f)
            self._set(f, tuple(x.strip() for x in v.split(",")) if isinstance(v, str) else tuple(v))

    def validate(self) -> None:
        super().validate()
        check_choices("transforms", self.transforms, TRANSFORMS)
        check_choices("modes", self.modes, MODES)
        check_count("k", self.k, maximum=1000)
        _check_split(self)


@dataclass(frozen=True, kw_only=True)
class PoolResult(StudyResult):
    kind = "pool"
    languages: tuple[str, ...]
    layers: tuple[int, ...]
    n_sources: int
    n_targets_distinct: int
    results: dict[int, dict[str, dict[str, MiningEvaluation]]]  # layer -> transform -> mode
    margin: str = "ratio"


def _pool_vectors(sets: dict[str, tuple[Any, Any]], la: int, tr: str, inv: Any, n_uniq: int) -> tuple[Any, Any]:
    import numpy as np

    from ..analyses import retrieval as R

    xs, ys = [], []
    for cx, cy in sets.values():
        x, y = cx.sentence(la), cy.sentence(la)
        xs.append(R.center(x) if tr == "center" else x)
        ys.append(R.center(y) if tr == "center" else y)
    y_all = np.concatenate(ys)
    y_u = np.zeros((n_uniq, y_all.shape[1]), np.float32)  # one vector per distinct English line
    np.add.at(y_u, inv, R.normalize(y_all))
    return np.concatenate(xs), y_u


def pool(config: PoolConfig, *, encoder: Any = None, store: Any = None) -> PoolResult:
    import numpy as np

    from ..analyses import retrieval as R
    from ..data.readers.text import read_lines
    from ..data.registry import dataset_provenance

    enc = resolve_encoder(config, encoder)
    layers = resolve_layers(config.layers, enc.num_layers)
    sets = encode_tatoeba(config, enc, resolve_store(config, store), config.langs)
    eng = [t for lg in config.langs for t in read_lines(tatoeba_files(lg)[1])]
    uniq, inv = np.unique(np.array(eng, dtype=object), return_inverse=True)
    rng = np.random.default_rng(config.seed)
    sperm = rng.permutation(len(eng))
    res: dict[int, dict[str, dict[str, MiningEvaluation]]] = {}
    modes = tuple(R.as_mode(m) for m in config.modes)
    _set_faiss_threads(config.threads)
    for la in layers:
        res[la] = {}
        for tr in config.transforms:
            x_all, y_u = _pool_vectors(sets, la, tr, inv, len(uniq))
            tperm = rng.permutation(len(uniq))
            pos_of_t = np.empty(len(uniq), np.int64)
            pos_of_t[tperm] = np.arange(len(uniq))
            gold = {(i, int(pos_of_t[inv[sperm[i]]])) for i in range(len(eng))}
            mined = R.mine_modes(R.normalize(x_all[sperm]), R.normalize(y_u[tperm]), config.k, R.Margin.RATIO, modes)
            res[la][tr] = {md.value: evaluate_mining(p, gold, len(eng), config.dev_fraction, config.seed)
                           for md, p in mined.items()}
    files = [f for lg in config.langs for f in tatoeba_files(lg)]
    prov = make_provenance(config, encoder=enc, layers=layers, pooling="mean",
                           datasets=[dataset_provenance("tatoeba", files, languages=config.langs)])
    return PoolResult(provenance=prov, languages=tuple(config.langs), layers=tuple(layers), n_sources=len(eng),
                      n_targets_distinct=int(len(uniq)), results=res)


# ============================================================================ indexes


@dataclass(frozen=True, kw_only=True)
class IndexBuildConfig(EncoderOptions):
    """Build (or with ``append``, extend) a FAISS index at ``index`` from ``input``
    (``lang<TAB>text`` / ``lang<TAB>id<TAB>text``, or Parquet / JSON Lines records with
    ``id_column``, ``text_column`` and ``lang_column``) or Tatoeba languages (both sides).
    ``ray``: encode on a Ray cluster and add the rows in ``ray_workers`` parts, read from the
    vector store by Ray tasks and merged into the same index (parts kept under
    ``<index>/parts`` for sharded search; an append adds on the driver):
    :mod:`mbert_lab.distributed`."""

    study = "index_build"
    index: str
    input: str | None = None
    tatoeba: Any = None
    layers: Any = 12
    unit: str = "sentence"
    transform: str = "none"
    key: str = "auto"
    memory: str = "4G"
    target_recall: float | None = 0.95
    tune_k: int = 10
    hold_out: int = 1000
    append: bool = False
    ray: str | None = None
    ray_workers: int | None = None
    id_column: str | None = None
    text_column: str | None = None
    lang_column: str | None = None

    def normalise(self) -> None:
        super().normalise()
        if self.tatoeba is not None:
            self._set("tatoeba", normalise_tatoeba_langs("tatoeba", self.tatoeba))

    def validate(self) -> None:
        from ..index.faiss_index import parse_bytes

        super().validate()
        if (self.input is None) == (self.tatoeba is None):
            raise ConfigError("input / tatoeba: give exactly one of them")
        check_input_file("input", self.input, allow_none=True)
        check_output_dir("index", self.index)
        _one_layer(self)
        check_choice("unit", self.unit, UNITS)
        check_choice("transform", self.transform, TRANSFORMS)
        check_text("key", self.key)
        try:
            parse_bytes(self.memory)
        except (ConfigError, ValueError):
            raise ConfigError(f"memory: expected a size like 4G or 512M, got {self.memory!r}") from None
        check_float("target_recall", self.target_recall, low=0.0, high=1.0, low_open=True, allow_none=True)
        check_count("tune_k", self.tune_k, maximum=1024)
        check_count("hold_out", self.hold_out, minimum=0)
        _check_ray(self)
        _check_index_columns(self)
        if self.append and not (Path(self.index) / "meta.json").is_file():
            raise InputError("index: append=true needs an existing index (no meta.json there)", self.index)


@dataclass(frozen=True, kw_only=True)
class IndexBuildResult(StudyResult):
    kind = "index_build"
    index: str
    ntotal: int
    added: int
    dim: int
    key: str
    unit: str
    layer: int
    transform: str
    plan_reason: str
    build_seconds: float
    tuning: dict[str, Any]


def _check_index_columns(cfg: IndexBuildConfig) -> None:
    """``id_column`` / ``text_column`` / ``lang_column`` only with a Parquet / JSON Lines ``input``."""
    from ..data.readers.records import RECORD_SUFFIXES, is_record_file

    for name in ("id_column", "text_column", "lang_column"):
        v = getattr(cfg, name)
        if v is not None:
            check_text(name, v)
            if cfg.input is None or not is_record_file(cfg.input):
                raise ConfigError(f"{name}: only for a Parquet / JSON Lines input ({', '.join(RECORD_SUFFIXES)})")


def _record_columns(cfg: IndexBuildConfig) -> dict[str, str]:
    return {"id_column": cfg.id_column or "id", "text_column": cfg.text_column or "text",
            "lang_column": cfg.lang_column or "lang"}


def _index_rows(cfg: IndexBuildConfig) -> list[tuple[str, str, str]]:
    """(lang, id, text) per row: Tatoeba, a TSV, or Parquet / JSON Lines records (read as a
    Ray dataset with ``ray``, inside a Ray session)."""
    from ..data.readers.records import is_record_file, read_lang_records
    from ..data.readers.text import read_lines
    from ..data.readers.tsv import read_lang_text
    from ..languages import is_known, to_iso639_3

    if cfg.tatoeba is not None:
        rows = []
        for lang in cfg.tatoeba:
            fx, fe = tatoeba_files(lang)
            rows += [(lang, f"{lang}:{i}", t) for i, t in enumerate(read_lines(fx), 1)]
            rows += [("eng", f"eng-{lang}:{i}", t) for i, t in enumerate(read_lines(fe), 1)]
        return rows
    if is_record_file(cfg.input):  # type: ignore[arg-type]
        got = read_lang_records(cfg.input, ray=cfg.ray is not None, **_record_columns(cfg))  # type: ignore[arg-type]
    else:
        got = read_lang_text(cfg.input)  # type: ignore[arg-type]
    return [(to_iso639_3(lg) if is_known(lg) else lg, sid, t) for lg, sid, t in got]


def word_vectors(cfg: EncoderOptions, enc: Any, store: Any, sentences: Sequence[str], layer: int) -> tuple[list[Any], Any]:
    """Every word occurrence's vector (mean of its pieces, as the extractor pools words)."""
    import numpy as np

    corp = _extractor(cfg, enc, store, (layer,), ("word",)).encode(list(sentences))
    words = [corp.words_text(i) for i in range(len(corp))]
    if getattr(cfg, "ray", None) is not None and len(corp):  # read by the Ray tasks, not here
        from ..distributed.rows import RowSource

        return words, RowSource.from_corpus(corp, corp.word_key, layer)
    mat = corp.word_matrix(layer) if len(corp) else np.zeros((0, enc.hidden_size), np.float32)
    return words, mat


def index_vectors(cfg: IndexBuildConfig, enc: Any, store: Any, rows: list[tuple[str, str, str]], layer: int) -> tuple[Any, list[Any]]:
    """(vectors, items) for the rows: sentences, word occurrences, or word types (the mean
    of a (language, word form)'s occurrences)."""
    import numpy as np

    from ..index.faiss_index import Item

    if cfg.unit == "sentence":
        corpus = _extractor(cfg, enc, store, (layer,), ("sentence",)).encode([r[2] for r in rows])
        if cfg.ray is not None:  # the store's files (paths, row counts), read by the Ray tasks
            from ..distributed.rows import RowSource

            return RowSource.from_corpus(corpus, "sentence_mean", layer), [Item(*r) for r in rows]
        return corpus.sentence(layer), [Item(*r) for r in rows]
    words, mat = word_vectors(cfg, enc, store, [r[2] for r in rows], layer)
    occ = [(rows[i][0], f"{rows[i][1]}:{j}", w) for i, ws in enumerate(words) for j, w in enumerate(ws)]
    if cfg.unit == "word":
        return mat, [Item(*o) for o in occ]
    groups: dict[tuple[str, str], list[int]] = {}
    for r, (lang, _, w) in enumerate(occ):
        groups.setdefault((lang, w), []).append(r)
    keys = sorted(groups)
    mat = np.asarray(mat)  # with ray: the occurrences are averaged here (read from the store)
    vecs = np.stack([mat[groups[k]].mean(axis=0) for k in keys])
    return vecs, [Item(lang, f"{len(groups[(lang, w)])} occurrences", w) for lang, w in keys]


def model_dict(enc: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(enc.provenance)


def _new_index(config: IndexBuildConfig, vecs: Any, items: list[Any], enc: Any, layer: int) -> Any:
    """A new index over the vectors; with ``ray`` its rows are added by Ray tasks and merged."""
    from ..index.faiss_index import VectorIndex

    kw = {"key": config.key, "memory_budget": config.memory, "model": model_dict(enc), "layer": layer,
          "unit": config.unit, "pooling": "mean", "transform": config.transform, "threads": config.threads,
          "hold_out": min(config.hold_out, len(items) // 10), "target_recall": config.target_recall,
          "tune_k": config.tune_k}
    if config.ray is not None:
        import ray

        from ..distributed.index import build_on_ray

        threads = config.threads or 1
        parts = config.ray_workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)
        idx = build_on_ray(vecs, items, parts=max(2, parts), **kw)
    else:
        idx = VectorIndex.build(vecs, items, **kw)
    idx.meta.extra["source"] = f"tatoeba:{','.join(config.tatoeba)}" if config.tatoeba else str(config.input)
    return idx


def build_index(config: IndexBuildConfig, *, encoder: Any = None, store: Any = None) -> IndexBuildResult:
    """Build or extend the index at ``config.index`` (see :class:`IndexBuildConfig`)."""
    from ..data.readers.records import check_record_file
    from ..index.faiss_index import VectorIndex

    if config.input is not None:  # a records file's columns, before any Ray or model work
        check_record_file(config.input, **_record_columns(config))
    rows = _index_rows(config) if config.ray is None else None  # with ray: read in the session
    enc = resolve_encoder(config, encoder)
    layer = _layer_of(config, enc)
    _set_faiss_threads(config.threads)
    old = None
    if config.append:
        old = VectorIndex.load(config.index, expect_model=model_dict(enc), expect_dim=enc.hidden_size)
        if (old.meta.layer, old.meta.unit) != (layer, config.unit):
            raise InputError(f"the index holds layer {old.meta.layer} {old.meta.unit} vectors; append needs "
                             f"--layers {old.meta.layer} --unit {old.meta.unit}", path=config.index)
    from ..distributed import release_extractors, session_for

    with session_for(config):
        rows = rows if rows is not None else _index_rows(config)
        vecs, items = index_vectors(config, enc, resolve_store(config, store), rows, layer)
        release_extractors()  # with ray: the model actors give their CPUs back to the index tasks
        if old is not None:
            idx, before = old, old.meta.ntotal
            idx.add(vecs, items)
        else:
            idx, before = _new_index(config, vecs, items, enc, layer), 0
    idx.save(config.index)
    from ..distributed.index import save_parts

    save_parts(idx, config.index)  # Ray-built parts for sharded search; stale ones removed
    m = idx.meta
    prov = make_provenance(config, encoder=enc, layers=[layer], pooling="mean")
    return IndexBuildResult(provenance=prov, index=str(config.index), ntotal=m.ntotal, added=m.ntotal - before,
                            dim=m.dim, key=m.key, unit=m.unit, layer=layer, transform=m.transform,
                            plan_reason=str(m.extra.get("plan_reason", "")), build_seconds=float(m.build_seconds),
                            tuning=dict(m.tuning))


@dataclass(frozen=True, kw_only=True)
class SearchConfig(EncoderOptions):
    """Neighbours of query ``texts`` (or of ``word``, in those texts as context, or alone)
    in the index at ``index``. ``layers``: the index's layer is used; ``'all'`` (default)
    means that one, any other value must name it. ``to``: k hits per language listed."""

    study = "search"
    index: str = "results/index/default"
    texts: tuple[str, ...] = ()
    lang: str = "eng"
    to: tuple[str, ...] = ()
    k: int = 10
    word: str | None = None
    mmap: bool = False

    def normalise(self) -> None:
        super().normalise()
        t = self.texts
        self._set("texts", (t,) if isinstance(t, str) else tuple(t))
        self._set("lang", _lang_label("lang", self.lang))
        to = self.to.split(",") if isinstance(self.to, str) else list(self.to or ())
        self._set("to", tuple(_lang_label("to", x.strip()) for x in to if x.strip()))

    def validate(self) -> None:
        super().validate()
        for i, t in enumerate(self.texts, 1):
            try:
                check_text(f"texts[{i}]", t)
            except ConfigError:
                raise ConfigError("empty query: give a non-empty sentence (or --word WORD)") from None
        if self.word is not None:
            check_text("word", self.word)
            if " " in self.word.strip(" \t"):
                raise ConfigError("word: give one word (no spaces)")
        elif not self.texts:
            raise ConfigError("empty query: give a non-empty sentence (or --word WORD)")
        check_count("k", self.k, maximum=100000)
        check_input_dir("index", self.index)
        if not (Path(self.index) / "meta.json").is_file():
            raise InputError("no index here; build one first, e.g. 'mbert-lab index build --tatoeba deu,fra,cmn "
                             f"--out {self.index}'", self.index)


@dataclass(frozen=True)
class SearchHit:
    rank: int
    lang: str
    sid: str
    text: str
    score: float


@dataclass(frozen=True)
class QueryHits:
    query: str
    hits: dict[str, tuple[SearchHit, ...]]  # target language ("*" = any) -> hits


@dataclass(frozen=True, kw_only=True)
class SearchResult(StudyResult):
    kind = "search"
    index: str
    layer: int
    queries: tuple[QueryHits, ...]


def _index_lang(code: str, have: set[str]) -> str:
    """A normalised code -> the code the index stores for it (639-3, 639-1 or a label)."""
    from ..languages import is_known, to_iso639_3

    if code in have:
        return code
    for h in have:
        if is_known(h) and to_iso639_3(h) == code:
            return h
    return code


def query_vectors(cfg: SearchConfig, enc: Any, store: Any, idx: Any, layer: int) -> tuple[list[str], Any]:
    """(labels, vectors) for the query texts, by sentence or by word."""
    import numpy as np

    from ..data.readers.text import split_ascii_space

    if cfg.word is not None:
        if idx.meta.unit == "sentence":
            raise InputError("this index holds sentence vectors; query words against an index built with "
                             "--unit word or --unit word-type", path=cfg.index)
        w = cfg.word.strip(" \t")
        if not cfg.texts:  # out of context: the word encoded alone
            return [f"'{w}' (alone)"], isolated_word_vectors(cfg, enc, store, [w], (layer,))[layer]
        labels, rows = [], []
        for t in cfg.texts:
            words = list(split_ascii_space(t))
            pos = [i for i, x in enumerate(words) if x == w or x.strip(".,;:!?\"'()") == w]
            if not pos:
                raise InputError(f"the word '{w}' does not occur in the context {t!r} (words are split at spaces)")
            corp = make_extractor(cfg, enc, store, (layer,), ("word",), progress=False).encode([words], pretokenized=True)
            rows.append(corp.words(0, layer)[pos[0]])
            labels.append(f"'{w}' in {t!r}")
        return labels, np.stack(rows)
    if idx.meta.unit != "sentence":
        raise InputError("this is a word index; query it with --word WORD [context]", path=cfg.index)
    corp = make_extractor(cfg, enc, store, (layer,), ("sentence",), progress=False).encode(list(cfg.texts))
    return list(cfg.texts), corp.sentence(layer, idx.meta.pooling or "mean")


def search(config: SearchConfig, *, encoder: Any = None, store: Any = None, index: Any = None) -> SearchResult:
    """Nearest neighbours in an index (see :class:`SearchConfig`); ``index``: an open
    :class:`~mbert_lab.index.faiss_index.VectorIndex` to use instead of loading one."""
    from ..index.faiss_index import VectorIndex

    enc = resolve_encoder(config, encoder)
    idx = index or VectorIndex.load(config.index, expect_model=model_dict(enc), mmap=config.mmap,
                                    expect_dim=enc.hidden_size)
    layer = idx.meta.layer if idx.meta.layer is not None else enc.num_layers
    if config.layers != "all" and resolve_layers(config.layers, enc.num_layers) != (layer,):
        raise ConfigError(f"layers: the index holds layer {layer} vectors; leave layers out or give {layer}")
    _set_faiss_threads(config.threads)
    labels, q = query_vectors(config, enc, resolve_store(config, store), idx, layer)
    have = {it.lang for it in idx.items}
    qlang = _index_lang(config.lang, have)
    if config.to:
        per = {lg: idx.search(q, k=config.k, langs=qlang, to=[_index_lang(lg, have)]) for lg in config.to}
    else:
        per = {"*": idx.search(q, k=config.k, langs=qlang)}
    out = tuple(QueryHits(lab, {lg: tuple(SearchHit(h.rank, h.lang, h.sid, h.text, h.score) for h in hs[i])
                                for lg, hs in per.items()}) for i, lab in enumerate(labels))
    prov = make_provenance(config, encoder=enc, layers=[layer], pooling=idx.meta.pooling)
    return SearchResult(provenance=prov, index=str(config.index), layer=layer, queries=out)


@dataclass(frozen=True, kw_only=True)
class RecallConfig(StudyConfig):
    """Recall@k of an index's search against exact search, for ``queries`` of its stored
    vectors (each query's own row excluded). No model is run."""

    study = "recall"
    index: str
    k: int = 10
    queries: int = 1000
    seed: int = 0
    threads: int | None = None

    def validate(self) -> None:
        check_count("k", self.k, maximum=10000)
        check_count("queries", self.queries)
        check_count("seed", self.seed, minimum=0)
        check_count("threads", self.threads, maximum=1024, allow_none=True)
        check_input_dir("index", self.index)
        if not (Path(self.index) / "meta.json").is_file():
            raise InputError("no index here (no meta.json)", self.index)


@dataclass(frozen=True, kw_only=True)
class RecallResult(StudyResult):
    kind = "recall"
    index: str
    key: str
    search_params: dict[str, int]
    n_queries: int
    recall: dict[int, float]  # k -> recall@k


def recall(config: RecallConfig, *, encoder: Any = None, store: Any = None) -> RecallResult:
    import numpy as np

    from ..analyses.retrieval import recall_at_k
    from ..index.faiss_index import VectorIndex

    _set_faiss_threads(config.threads)
    idx = VectorIndex.load(config.index)
    n = idx.meta.ntotal
    rows = np.random.default_rng(config.seed).choice(n, min(config.queries, n), replace=False)
    q = idx.reconstruct_ids(rows)
    k = config.k
    exact = idx.exact_search(q, k + 1)[:, 1:]  # drop the query's own row
    got = idx.search_raw(q, k + 1, prepared=True)[1][:, 1:]
    r = {kk: recall_at_k(got, exact, kk) for kk in sorted({1, min(5, k), k})}
    return RecallResult(provenance=make_provenance(config), index=str(config.index), key=idx.meta.key,
                        search_params=dict(idx.meta.search_params), n_queries=len(rows), recall=r)


run = tatoeba

__all__ = [
    "TatoebaConfig", "TatoebaResult", "tatoeba", "BliConfig", "BliResult", "bli", "MineConfig", "MineResult", "mine",
    "BuccConfig", "BuccResult", "bucc", "PoolConfig", "PoolResult", "pool", "IndexBuildConfig", "IndexBuildResult",
    "build_index", "SearchConfig", "SearchResult", "search", "RecallConfig", "RecallResult", "recall",
    "evaluate_mining", "encode_tatoeba", "isolated_word_vectors", "tatoeba_on_disk", "muse_pairs_on_disk",
]
