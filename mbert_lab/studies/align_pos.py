"""Alignment by part of speech: AER per UPOS tag of the English words of the gold alignment sets.

The gold sets carry no POS tags, so the study tags their English side itself: a softmax probe
on one frozen layer (``tag_layer``) of the same encoder, trained on the first ``max_train``
sentences of the English UD training data (XTREME UD-POS ``train-en``), its accuracy measured
on the first ``max_eval`` sentences of the English dev set (``dev-en``) and reported. Then each
gold set is aligned (``method`` on ``layers``, subword level, as ``align_eval``) and scored per
tag and per group (open class NOUN VERB ADJ ADV; proper nouns; closed class ADP AUX CCONJ DET
PART PRON SCONJ; other) with :func:`mbert_lab.analyses.align_pos.scores_by_tag`.

>>> import mbert_lab as ml                                                   # doctest: +SKIP
>>> r = ml.align_pos(gold=["en-fr"], limit=100)                              # doctest: +SKIP
>>> r.sets["en-fr"].by_group["open"].aer, r.tagger.accuracy                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analyses.align_pos import TagScores
from ..errors import ConfigError
from .base import (
    EncoderOptions,
    StudyResult,
    as_tuple,
    check_choice,
    check_count,
    make_extractor,
    make_provenance,
    resolve_encoder,
    resolve_layers,
    resolve_store,
)

ENGLISH_SIDE = {"en-fr": "src", "ro-en": "tgt", "ja-en": "tgt"}


@dataclass(frozen=True, kw_only=True)
class AlignPosConfig(EncoderOptions):
    """``gold``: named gold sets (en-fr, ro-en, ja-en); ``layers``: the alignment layer (one);
    ``tag_layer``: the layer the POS probe reads; ``limit``: the first N pairs of each set."""

    study = "align_pos"
    gold: tuple[str, ...] = ("en-fr",)
    layers: Any = 8
    method: str = "argmax"
    tag_layer: int = 8
    max_train: int = 2000
    max_eval: int = 500
    probe_epochs: int = 10
    limit: int | None = None
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        from .alignment import gold_set_name

        self._set("gold", tuple(gold_set_name(g) for g in as_tuple(self.gold, "gold")))

    def validate(self) -> None:
        super().validate()
        if not self.gold:
            raise ConfigError("gold: give at least one of " + ", ".join(ENGLISH_SIDE))
        for g in self.gold:
            check_choice("gold", g, tuple(ENGLISH_SIDE))
        if len(set(self.gold)) != len(self.gold):
            raise ConfigError(f"gold: a gold set is listed twice in {list(self.gold)}")
        if self.single_layer is None and self.layers != "last":
            raise ConfigError("layers: the alignment layer: one layer, e.g. 8")
        check_choice("method", self.method, ("argmax", "itermax", "match"))
        check_count("tag_layer", self.tag_layer, minimum=0)
        for name in ("max_train", "max_eval", "probe_epochs"):
            check_count(name, getattr(self, name))
        check_count("limit", self.limit, allow_none=True)
        check_count("seed", self.seed, minimum=0)


@dataclass(frozen=True)
class TaggerInfo:
    layer: int
    train_sentences: int
    eval_sentences: int
    accuracy: float  # on the English dev words, x100
    n_eval_words: int
    data: str


@dataclass(frozen=True)
class SetScores:
    pairs: int
    english_side: str
    overall: TagScores
    by_tag: dict[str, TagScores]
    by_group: dict[str, TagScores]
    tag_counts: dict[str, int]  # English words per predicted tag


@dataclass(frozen=True, kw_only=True)
class AlignPosResult(StudyResult):
    kind = "align_pos"
    layer: int
    method: str
    tagger: TaggerInfo
    sets: dict[str, SetScores]
    groups: dict[str, str]


def _tagger(cfg: AlignPosConfig, enc: Any, store: Any) -> tuple[Any, Any, TaggerInfo, list[Any]]:
    """(probe, extractor, info, datasets): a POS probe on ``tag_layer`` trained on UD English."""
    import numpy as np

    from ..transfer.data import load_task_data
    from ..transfer.probe import predict_probe, train_linear_probe
    from .transfer import TransferConfig

    root = TransferConfig(task="pos").root
    data = load_task_data("pos", root, eval_langs=["en"], max_train=cfg.max_train, max_eval=cfg.max_eval,
                          suites=["xtreme-dev"])
    ex = make_extractor(cfg, enc, store, (cfg.tag_layer,), ("word",), progress=False, word_pooling="first")
    labels = list(data.labels)

    def X(examples: list[Any]) -> Any:
        return ex.encode([list(e.words) for e in examples], pretokenized=True).word_matrix(cfg.tag_layer)

    y = np.asarray([labels.index(t) if t in labels else -1 for e in data.train for t in e.labels])
    probe = train_linear_probe(X(data.train), y, len(labels), seed=cfg.seed, epochs=cfg.probe_epochs)
    dev = data.evals[0].examples
    gold = np.asarray([labels.index(t) if t in labels else -1 for e in dev for t in e.labels])
    pred = predict_probe(probe, X(dev))
    ok = gold >= 0
    acc = 100.0 * float((pred[ok] == gold[ok]).mean())
    info = TaggerInfo(cfg.tag_layer, len(data.train), len(dev), acc, int(ok.sum()),
                      "XTREME UD-POS train-en (training), dev-en (accuracy)")
    return (probe, labels), ex, info, list(data.datasets)


def _score_set(cfg: AlignPosConfig, enc: Any, store: Any, name: str, tagger: Any, ex: Any, layer: int
               ) -> tuple[SetScores, Any]:
    from ..analyses.align_pos import UPOS_GROUPS, scores_by_tag
    from ..analyses.alignment import align_pairs, score_alignments
    from ..transfer.probe import predict_probe
    from .alignment import _encode, load_gold

    gs = load_gold(name, limit=cfg.limit)
    side = ENGLISH_SIDE[name]
    english = [list(getattr(p, side)) for p in gs.pairs]
    (probe, labels) = tagger
    pred = predict_probe(probe, ex.encode(english, pretokenized=True).word_matrix(cfg.tag_layer)).tolist()
    it = iter(pred)
    tags = [[labels[next(it)] for _ in words] for words in english]
    src, tgt = _encode(cfg, enc, store, [list(p.src) for p in gs.pairs], [list(p.tgt) for p in gs.pairs], (layer,))
    links = [a.links for a in next(iter(align_pairs(src, tgt, layer, [cfg.method]).values()))]
    ov = score_alignments(links, gs.pairs).overall
    overall = TagScores(ov.n_pred, ov.n_sure, ov.n_pred_sure, ov.n_pred_possible, ov.aer, ov.precision, ov.recall)
    counts: dict[str, int] = {}
    for t in (x for row in tags for x in row):
        counts[t] = counts.get(t, 0) + 1
    return SetScores(len(gs.pairs), "source" if side == "src" else "target", overall,
                     scores_by_tag(links, gs.pairs, tags, side), scores_by_tag(links, gs.pairs, tags, side, UPOS_GROUPS),
                     dict(sorted(counts.items()))), gs.provenance


def align_pos(config: AlignPosConfig, *, encoder: Any = None, store: Any = None) -> AlignPosResult:
    """Tag the English side of each gold set, align, and score per POS tag and group."""
    from ..analyses.align_pos import UPOS_GROUPS

    enc = resolve_encoder(config, encoder)
    (layer,) = resolve_layers(config.layers, enc.num_layers)
    resolve_layers((config.tag_layer,), enc.num_layers, "tag_layer")
    st = resolve_store(config, store)
    tagger, ex, info, datasets = _tagger(config, enc, st)
    sets, provs = {}, []
    for name in config.gold:
        sets[name], prov = _score_set(config, enc, st, name, tagger, ex, layer)
        provs.append(prov)
    return AlignPosResult(provenance=make_provenance(config, encoder=enc, layers=(layer, config.tag_layer),
                                                     datasets=[*datasets, *provs]),
                          layer=layer, method=config.method, tagger=info, sets=sets, groups=dict(UPOS_GROUPS))


run = align_pos

__all__ = ["AlignPosConfig", "AlignPosResult", "SetScores", "TaggerInfo", "align_pos", "run"]
