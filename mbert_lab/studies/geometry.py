"""Geometry: how anisotropic are the contextual word vectors, layer by layer (Ethayarajh 2019)?

Word vectors (mean of each gold UD word's subword vectors) of the first ``max_sentences`` PUD
sentences of each language, per layer: *anisotropy* (mean cosine of random pairs of word
occurrences), *self-similarity* (mean cosine between a word type's occurrences in different
contexts; types seen at least ``min_occurrences`` times, at most ``max_contexts`` occurrences
each), *intra-sentence similarity* (mean cosine of a sentence's words to its mean vector); the
last two also minus the anisotropy baseline ("adjusted"). Each raw and *centred* (every vector
minus the layer's mean over the language's sample). Definitions:
:mod:`mbert_lab.analyses.geometry`.

>>> import mbert_lab as ml                                                  # doctest: +SKIP
>>> r = ml.geometry(langs="en,de", max_sentences=100)                       # doctest: +SKIP
>>> r.average[12].raw.anisotropy                                            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analyses.geometry import GeometryScores
from ..errors import ConfigError
from .base import (
    EncoderOptions,
    StudyResult,
    check_count,
    make_extractor,
    make_provenance,
    normalise_langs,
    resolve_encoder,
    resolve_layers,
    resolve_store,
)


@dataclass(frozen=True, kw_only=True)
class GeometryConfig(EncoderOptions):
    """``langs``: PUD languages (ISO 639-1 or 639-3; default en, de, zh). ``n_pairs``: random
    pairs of word occurrences for the anisotropy baseline. ``seed``: the pair sample."""

    study = "geometry"
    langs: Any = ("en", "de", "zh")
    max_sentences: int = 200
    n_pairs: int = 5000
    min_occurrences: int = 5
    max_contexts: int = 20
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        self._set("langs", normalise_langs("langs", self.langs))

    def validate(self) -> None:
        super().validate()
        if not self.langs:
            raise ConfigError("langs: give at least one PUD language")
        if len(set(self.langs)) != len(self.langs):
            raise ConfigError(f"langs: a language is listed twice in {list(self.langs)}")
        from .vocabulary import pud_files

        have = pud_files()
        for x in self.langs:
            if x not in have:
                raise ConfigError(f"langs: no PUD treebank for '{x}' under the data root (found: {', '.join(have)})")
        check_count("max_sentences", self.max_sentences, minimum=2)
        check_count("n_pairs", self.n_pairs)
        check_count("min_occurrences", self.min_occurrences, minimum=2)
        check_count("max_contexts", self.max_contexts, minimum=2)
        check_count("seed", self.seed, minimum=0)


@dataclass(frozen=True)
class LayerGeometry:
    raw: GeometryScores
    centred: GeometryScores


@dataclass(frozen=True)
class SampleInfo:
    n_sentences: int
    n_words: int  # word occurrences with a vector
    n_types: int  # word types (lower-cased) in the self-similarity sample
    n_pairs: int


@dataclass(frozen=True, kw_only=True)
class GeometryResult(StudyResult):
    kind = "geometry"
    langs: tuple[str, ...]
    layers: tuple[int, ...]
    per_language: dict[str, dict[int, LayerGeometry]]  # lang -> layer -> scores
    average: dict[int, LayerGeometry]  # mean over languages
    samples: dict[str, SampleInfo]
    word_vectors: str = "gold UD words of PUD; mean of each word's subword vectors"
    centring: str = "each vector minus the mean word vector of its language's sample, per layer"


def _indices(sentences: list[tuple[str, ...]], cfg: GeometryConfig) -> tuple[list[Any], list[Any]]:
    """Row indices per sentence and per frequent word type (lower-cased)."""
    import numpy as np

    sents, by_type, row = [], {}, 0
    for words in sentences:
        sents.append(np.arange(row, row + len(words)))
        for w in words:
            by_type.setdefault(w.lower(), []).append(row)
            row += 1
    groups = [np.asarray(v[: cfg.max_contexts]) for _, v in sorted(by_type.items()) if len(v) >= cfg.min_occurrences]
    return sents, groups


def _language(cfg: GeometryConfig, ex: Any, lang: str, layers: tuple[int, ...]) -> tuple[dict[int, LayerGeometry], SampleInfo]:
    from ..analyses.geometry import geometry_scores, sample_pairs
    from .vocabulary import pud_files, read_conllu_words

    sentences = [s for s in read_conllu_words(pud_files()[lang])[: cfg.max_sentences] if s]
    corpus = ex.encode([list(s) for s in sentences], pretokenized=True)
    sents, groups = _indices(sentences, cfg)
    n = sum(len(s) for s in sentences)
    pairs = sample_pairs(n, cfg.n_pairs, cfg.seed)
    out = {}
    for L in layers:
        X = corpus.word_matrix(L)
        if len(X) != n:
            raise ConfigError(f"langs: {lang}: {len(X)} word vectors for {n} words (a word without subwords?)")
        out[L] = LayerGeometry(geometry_scores(X, pairs, groups, sents),
                               geometry_scores(X, pairs, groups, sents, centre=True))
    return out, SampleInfo(len(sentences), n, len(groups), len(pairs))


def _mean(rows: list[GeometryScores]) -> GeometryScores:
    import numpy as np

    return GeometryScores(*(float(np.mean([getattr(r, f) for r in rows])) for f in GeometryScores.__dataclass_fields__))


def geometry(config: GeometryConfig, *, encoder: Any = None, store: Any = None) -> GeometryResult:
    """Anisotropy, self-similarity and intra-sentence similarity per layer and language."""
    from ..data.registry import dataset_provenance
    from .vocabulary import pud_files

    enc = resolve_encoder(config, encoder)
    layers = tuple(resolve_layers(config.layers, enc.num_layers))
    ex = make_extractor(config, enc, resolve_store(config, store), layers, ("word",), progress=False,
                        word_pooling="mean")
    per, samples = {}, {}
    for lang in config.langs:
        per[lang], samples[lang] = _language(config, ex, lang, layers)
    avg = {L: LayerGeometry(_mean([per[x][L].raw for x in config.langs]), _mean([per[x][L].centred for x in config.langs]))
           for L in layers}
    files = [pud_files()[x] for x in config.langs]
    prov = make_provenance(config, encoder=enc, layers=layers, pooling="word mean",
                           datasets=[dataset_provenance("ud-pud", files, split="test", languages=list(config.langs))])
    return GeometryResult(provenance=prov, langs=tuple(config.langs), layers=layers, per_language=per, average=avg,
                          samples=samples)


run = geometry

__all__ = ["GeometryConfig", "GeometryResult", "LayerGeometry", "SampleInfo", "geometry", "run"]
