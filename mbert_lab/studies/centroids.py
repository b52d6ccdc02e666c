"""Centroids: language centroids, language identification (LID), centroid geometry, the
geometry of the word space, and the effect of centering on retrieval.

Inputs (one source kind per run): the Tatoeba test sets of the data root (the default), or
the user's own files: ``files`` (``{lang: path}``, one sentence per line), ``tsv`` (files of
``lang<TAB>text`` rows), ``pairs`` (``{lang: [xx_path, eng_path]}``, line-aligned with English:
adds retrieval), ``conllu`` (``{lang: path}``, CoNLL-U such as a UD treebank: a sentence is its
words joined by spaces), or ``texts`` / ``texts_eng`` in memory.

Every language's sentences are split (seeded, per language) into disjoint **train** and
**test** rows; a **dev** part of the train rows (``dev_fraction``) serves to choose layers:
a best layer is chosen on dev (fitted on the rest of train) and reported on test (fitted on
all of train). Per-layer figures are test-split figures.

>>> import mbert_lab as ml                                                      # doctest: +SKIP
>>> r = ml.centroids(languages="deu,fra,cmn", min_sentences=100, max_sentences=200,
...                  layers=[0, 8, 12], geometry=False)                          # doctest: +SKIP
>>> r.lid["nearest_centroid"].best                                                # doctest: +SKIP
BestLayer(layer=0, chosen_on='dev', reported_on='test', ...)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .base import (
    DatasetProvenance,
    EncoderOptions,
    StudyResult,
    as_tuple,
    check_choice,
    check_count,
    check_float,
    check_input_dir,
    check_input_file,
    check_text,
    make_extractor,
    make_provenance,
    resolve_encoder,
    resolve_layers,
    resolve_store,
    transient,
)

POOLINGS = ("mean", "cls", "mean_all")
METRICS = ("cosine", "euclidean")
LINKAGES = ("average", "complete", "single", "weighted", "ward")
PROJECTIONS = ("lstsq", "orthogonal", "none")
USER_INPUTS = ("files", "tsv", "pairs", "conllu", "texts")
_CODE = re.compile(r"[a-z]{2,3}")
_TATOEBA = re.compile(r"^tatoeba\.([a-z]{2,3})-eng\.([a-z]{2,3})$")


# ---------------------------------------------------------------------------- config


def lang_code(name: str, value: Any) -> str:
    """A language code -> ISO 639-3 when the language table knows it; other two- or
    three-letter codes (languages the table has never named, e.g. ``qaa``) are kept as is."""
    from ..languages import is_known, to_iso639_3

    v = str(value).strip()
    if is_known(v):
        return to_iso639_3(v)
    if _CODE.fullmatch(v.lower()):
        return v.lower()
    raise ConfigError(f"{name}: bad language code {value!r} (ISO 639-1 or 639-3, e.g. de or deu)")


def _lang_map(name: str, value: Any, n_paths: int = 1) -> dict[str, Any]:
    """``{lang: path}`` (or ``{lang: [a, b]}``) from a mapping or ``'lang=path[,path]'`` items."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = list(value.items())
    else:
        items = []
        for x in as_tuple(value, name):
            lang, sep, rest = str(x).partition("=")
            if not sep:
                raise ConfigError(f"{name}: expected 'LANG=PATH', got {x!r}")
            items.append((lang, rest.split(",") if n_paths > 1 else rest))
    out: dict[str, Any] = {}
    for lang, p in items:
        code = lang_code(f"{name}[{lang}]", lang)
        if code in out:
            raise ConfigError(f"{name}: language '{code}' given twice")
        if n_paths > 1:
            p = tuple(str(x) for x in (p if isinstance(p, (list, tuple)) else [p]))
            if len(p) != n_paths:
                raise ConfigError(f"{name}[{lang}]: expected {n_paths} paths, got {len(p)}")
        else:
            p = str(p)
        out[code] = p
    return out


def _texts_map(name: str, value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: expected a mapping language -> list of sentences")
    out = {}
    for lang, texts in value.items():
        if isinstance(texts, str):
            raise ConfigError(f"{name}[{lang}]: expected a list of sentences, got one string")
        out[lang_code(f"{name}[{lang}]", lang)] = tuple(texts)
    return out


@dataclass(frozen=True, kw_only=True)
class CentroidsConfig(EncoderOptions):
    """Defaults are the ``mbert-lab centroids`` defaults (Tatoeba, all layers, 50/50 split)."""

    study = "centroids"
    tatoeba: str | None = None
    files: Any = None
    tsv: Any = ()
    pairs: Any = None
    conllu: Any = None
    texts: Any = None
    texts_eng: Any = None
    languages: Any = ()
    min_sentences: int = 500
    max_sentences: int | None = None
    train_fraction: float = 0.5
    dev_fraction: float = 0.2
    seed: int = 0
    pooling: str = "mean"
    metric: str = "cosine"
    linkage: str = "average"
    probe_c: float = 1.0
    probe_max_iter: int = 200
    projection: str = "lstsq"
    save_projections: bool = False
    geometry: bool = True
    pud: str | None = None
    pud_sentences: int = 150
    lid_centered: bool = False  # also 1-NN LID, raw and on centred vectors (each language minus its train centroid)

    def normalise(self) -> None:
        super().normalise()
        self._set("files", _lang_map("files", self.files))
        self._set("pairs", _lang_map("pairs", self.pairs, n_paths=2))
        self._set("conllu", _lang_map("conllu", self.conllu))
        self._set("tsv", tuple(str(x) for x in as_tuple(self.tsv, "tsv")))
        self._set("texts", _texts_map("texts", self.texts))
        self._set("texts_eng", _texts_map("texts_eng", self.texts_eng))
        self._set("languages", tuple(lang_code("languages", x) for x in as_tuple(self.languages, "languages")))

    @property
    def user_input(self) -> bool:
        return any(bool(getattr(self, k)) for k in USER_INPUTS)

    def tatoeba_dir(self) -> Path:
        from ..data.registry import dataset_dir

        return Path(self.tatoeba) if self.tatoeba else dataset_dir("tatoeba")

    def pud_dir(self) -> Path:
        from ..data.registry import dataset_dir

        return Path(self.pud) if self.pud else dataset_dir("ud-pud")

    def validate(self) -> None:
        super().validate()
        self._validate_inputs()
        check_count("min_sentences", self.min_sentences, minimum=4)
        check_count("max_sentences", self.max_sentences, minimum=self.min_sentences, allow_none=True)
        check_float("train_fraction", self.train_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        check_float("dev_fraction", self.dev_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        check_count("seed", self.seed, minimum=0)
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("metric", self.metric, METRICS)
        check_choice("linkage", self.linkage, LINKAGES)
        if self.linkage == "ward" and self.metric != "euclidean":
            raise ConfigError("linkage: 'ward' needs metric 'euclidean'")
        check_float("probe_c", self.probe_c, low=0.0, low_open=True)
        check_count("probe_max_iter", self.probe_max_iter)
        check_choice("projection", self.projection, PROJECTIONS)
        check_count("pud_sentences", self.pud_sentences, minimum=2)
        if not isinstance(self.lid_centered, bool):
            raise ConfigError(f"lid_centered: must be true or false, got {self.lid_centered!r}")
        if self.geometry:
            check_input_dir("pud", self.pud_dir())
        elif self.pud is not None:
            raise ConfigError("pud: a PUD folder is given but geometry is off")
        self._validate_languages()

    def _validate_inputs(self) -> None:
        if self.user_input and self.tatoeba is not None:
            raise ConfigError("tatoeba: use either a Tatoeba folder or your own files "
                              "(files, tsv, pairs, conllu, texts), not both")
        if not self.user_input:
            check_input_dir("tatoeba", self.tatoeba_dir())
        seen: dict[str, str] = {}
        for kind in ("files", "pairs", "conllu", "texts"):
            for lang in getattr(self, kind):
                if lang in seen:
                    raise ConfigError(f"{kind}: language '{lang}' is also given in {seen[lang]}")
                seen[lang] = kind
        for kind in ("files", "conllu"):
            for lang, p in getattr(self, kind).items():
                check_input_file(f"{kind}[{lang}]", p)
        for lang, (a, b) in self.pairs.items():
            check_input_file(f"pairs[{lang}]", a)
            check_input_file(f"pairs[{lang}]", b)
        for p in self.tsv:
            check_input_file("tsv", p)
        for lang, texts in self.texts.items():
            if not texts:
                raise ConfigError(f"texts[{lang}]: no sentences")
            for i, t in enumerate(texts, 1):
                check_text(f"texts[{lang}][{i}]", t)
        for lang, texts in self.texts_eng.items():
            if len(texts) != len(self.texts.get(lang, ())):
                n = len(self.texts.get(lang, ()))
                raise ConfigError(f"texts_eng[{lang}]: {len(texts)} sentences, but texts[{lang}] has {n}")
            for i, t in enumerate(texts, 1):
                check_text(f"texts_eng[{lang}][{i}]", t)

    def _validate_languages(self) -> None:
        """Unknown codes in ``languages`` must name an input (checked at run time for tsv)."""
        from ..languages import is_known

        if self.tsv:
            return
        present = set(self.input_codes())
        for code in self.languages:
            if not is_known(code) and code not in present:
                where = "the Tatoeba folder " + str(self.tatoeba_dir()) if not self.user_input else "your input files"
                raise ConfigError(f"languages: unknown language '{code}': not in the language table and no files "
                                  f"for it in {where} (found: {', '.join(sorted(present)) or 'none'})")

    def input_codes(self) -> list[str]:
        """Language codes of the inputs known before reading them (not tsv contents)."""
        if not self.user_input:
            return [lang_code("tatoeba", lang) for lang, _, _ in tatoeba_sources(self.tatoeba_dir())]
        return [*self.files, *self.pairs, *self.conllu, *self.texts]


# ---------------------------------------------------------------------------- result


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    name: str
    family: str
    genus: str
    script: str


@dataclass(frozen=True)
class Confusion:
    true: str
    predicted: str
    count: int
    rate: float  # share of the true language's test items


@dataclass(frozen=True)
class LidScores:
    """One LID method at one layer: fitted on the train split, scored on the test split;
    ``dev_accuracy``: fitted on the train rows outside dev, scored on the dev rows."""

    accuracy: float
    per_language: dict[str, float]
    confusion: tuple[tuple[int, ...], ...]  # rows: true language, columns: predicted (Result.languages order)
    most_confused: tuple[Confusion, ...]
    n_train: int
    n_test: int
    dev_accuracy: float


@dataclass(frozen=True)
class BestLayer:
    """A layer chosen on the dev rows and its figure on the disjoint test rows."""

    layer: int
    criterion: str
    dev_score: float
    test_score: float
    chosen_on: str = "dev"
    reported_on: str = "test"


@dataclass(frozen=True)
class LidMethod:
    method: str
    by_layer: dict[int, LidScores]
    best: BestLayer


@dataclass(frozen=True)
class AgreementScores:
    n_groups: int
    n_clusters: int
    adjusted_rand: float
    purity: float
    clusters: dict[str, int]


@dataclass(frozen=True)
class CentroidGeometry:
    """Centroids (train split) at one layer: distances, clustering, agreement, PCA."""

    labels: tuple[str, ...]
    cosine_distance: tuple[tuple[float, ...], ...]
    euclidean_distance: tuple[tuple[float, ...], ...]
    metric: str
    method: str
    linkage: tuple[tuple[float, ...], ...]
    leaf_order: tuple[str, ...]
    agreement: dict[str, AgreementScores]  # family, genus, script
    pca: tuple[tuple[float, ...], ...]
    explained_variance: tuple[float, ...]


@dataclass(frozen=True)
class DirectionScores:
    xx_to_eng: dict[int, float]
    eng_to_xx: dict[int, float]


@dataclass(frozen=True)
class RetrievalScores:
    """1-NN retrieval of line-aligned xx/English pairs by layer (conditions: see ``conditions``)."""

    languages: tuple[str, ...]
    conditions: dict[str, str]
    mean: dict[str, DirectionScores]
    per_language: dict[str, dict[str, DirectionScores]]
    dev_mean: dict[str, DirectionScores]
    best: dict[str, BestLayer]


@dataclass(frozen=True)
class GeometryScores:
    anisotropy: float
    self_similarity: float
    self_similarity_types: int
    intra_sentence: float
    n_sentences: int
    n_words: int
    adjusted_self_similarity: float
    adjusted_intra_sentence: float


@dataclass(frozen=True)
class WordGeometry:
    """Word-space geometry on PUD: ``per_language[lang][raw|centered][layer]``."""

    languages: tuple[str, ...]
    n_sentences: int
    per_language: dict[str, dict[str, dict[int, GeometryScores]]]
    mean: dict[str, dict[str, dict[int, float]]]  # raw|centered -> measure -> layer
    files: dict[str, str]
    definitions: dict[str, str]


@dataclass(frozen=True)
class SplitSummary:
    seed: int
    train_fraction: float
    dev_fraction: float
    n_train: dict[str, int]
    n_dev: dict[str, int]
    n_test: dict[str, int]
    note: str = ("train and test rows are disjoint; dev rows are a part of the train rows, used only to "
                 "choose layers (fitted on the other train rows); per-layer figures are on test")


@dataclass(frozen=True, kw_only=True)
class CentroidsResult(StudyResult):
    kind = "centroids"
    layers: tuple[int, ...]
    languages: tuple[str, ...]
    info: dict[str, LanguageInfo]
    excluded: dict[str, str]
    split: SplitSummary
    lid: dict[str, LidMethod]  # nearest_centroid, probe (and knn, knn_centered with lid_centered)
    centroid_geometry: dict[int, CentroidGeometry]
    retrieval: RetrievalScores | None = None
    word_geometry: WordGeometry | None = None
    note: str = "LID classes are the input languages; the English sides of pairs serve retrieval only."
    transform: Any = transient()  # LanguageTransform (centroids fitted on the train split)

    def lid_accuracy(self, method: str) -> list[float]:
        """Test accuracy of ``method`` at each layer, in ``layers`` order."""
        return [self.lid[method].by_layer[la].accuracy for la in self.layers]

    def summary(self) -> list[str]:
        """Lines for a terminal: LID and retrieval by layer, then the dev-chosen best layers."""
        r = self.retrieval
        head = "layer  LID-centroid  LID-probe"
        lines = [f"{len(self.languages)} languages; excluded: {len(self.excluded)}",
                 head + ("  retr xx->eng raw/centred  eng->xx raw/centred" if r else "")]
        for la in self.layers:
            nc, pr = self.lid["nearest_centroid"].by_layer[la], self.lid["probe"].by_layer[la]
            row = f"{la:>5}  {nc.accuracy:>12.3f}  {pr.accuracy:>9.3f}"
            if r:
                raw, cen = r.mean["raw"], r.mean["centered"]
                row += (f"  {raw.xx_to_eng[la]:>10.3f} / {cen.xx_to_eng[la]:.3f}"
                        f"        {raw.eng_to_xx[la]:.3f} / {cen.eng_to_xx[la]:.3f}")
            lines.append(row)
        bests = [(f"LID {k}", m.best) for k, m in self.lid.items()]
        bests += [(f"retrieval {k}", b) for k, b in (r.best if r else {}).items()]
        for name, b in bests:
            lines.append(f"best layer for {name} (chosen on dev {b.dev_score:.3f}): "
                         f"L{b.layer}, test {b.test_score:.3f}")
        return lines

    def save(self, out_dir: str | Path) -> Path:
        """``centroids.json`` plus ``transform.npz/.json`` when the transform is in memory."""
        if self.transform is not None:
            self.transform.save(Path(out_dir) / "transform")
        return super().save(out_dir)


# ---------------------------------------------------------------------------- inputs


def language_info(code: str) -> LanguageInfo:
    """Names, family, genus and script from :mod:`mbert_lab.languages`; 'unknown' for codes
    the table does not know (a user's own language)."""
    from ..languages import get_language, is_known

    if not is_known(code):
        return LanguageInfo(code, "unknown", "unknown", "unknown", "unknown")
    lang = get_language(code)
    return LanguageInfo(lang.code, lang.name, lang.family, lang.genus, lang.script)


def tatoeba_sources(folder: Path) -> list[tuple[str, Path, Path]]:
    """``(lang, xx_path, eng_path)`` of a Tatoeba folder, sorted by language."""
    from ..errors import DataMissingError

    out = []
    for f in sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []:
        m = _TATOEBA.match(f.name)
        eng = Path(folder) / f"tatoeba.{m.group(1)}-eng.eng" if m else None
        if m and m.group(2) == m.group(1) and eng is not None and eng.is_file():
            out.append((m.group(1), f, eng))
    if not out:
        raise DataMissingError(f"tatoeba: no tatoeba.<xxx>-eng.<xxx> / .eng file pairs in {folder}")
    return out


@dataclass
class _Inputs:
    texts: dict[str, list[str]] = field(default_factory=dict)
    eng: dict[str, list[str]] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[Path]] = field(default_factory=dict)  # lang -> files read

    def add(self, lang: str, texts: list[str], eng: list[str] | None, files: Sequence[Path],
            cfg: CentroidsConfig) -> None:
        if cfg.languages and lang not in cfg.languages:
            return
        if lang in self.texts:
            raise InputError(f"language '{lang}' given twice", files[0] if files else None)
        n = cfg.max_sentences
        texts, eng = (texts[:n], eng[:n] if eng is not None else None) if n else (texts, eng)
        if len(texts) < cfg.min_sentences:
            self.excluded[lang] = f"{len(texts)} sentences, fewer than min_sentences {cfg.min_sentences}"
            return
        self.texts[lang] = texts
        if eng is not None:
            self.eng[lang] = eng
        self.files[lang] = list(files)


def _read_user_inputs(cfg: CentroidsConfig, got: _Inputs) -> None:
    from ..data.readers.conllu import read_conllu
    from ..data.readers.pairs import read_parallel_files
    from ..data.readers.text import read_sentences
    from ..data.readers.tsv import read_lang_text

    for lang, p in cfg.files.items():
        got.add(lang, read_sentences(p), None, [Path(p)], cfg)
    for lang, (a, b) in cfg.pairs.items():
        par = read_parallel_files(a, b, tokenized=False)
        got.add(lang, list(par.src), list(par.tgt), [Path(a), Path(b)], cfg)
    for lang, p in cfg.conllu.items():
        got.add(lang, [" ".join(s.words) for s in read_conllu(p)], None, [Path(p)], cfg)
    for lang, texts in cfg.texts.items():
        eng = cfg.texts_eng.get(lang)
        got.add(lang, list(texts), list(eng) if eng is not None else None, [], cfg)
    grouped: dict[str, list[str]] = {}
    where: dict[str, list[Path]] = {}
    for p in cfg.tsv:
        for lang, _, text in read_lang_text(p):
            code = lang_code(f"{p}: language", lang)
            grouped.setdefault(code, []).append(text)
            if Path(p) not in where.setdefault(code, []):
                where[code].append(Path(p))
    for code, texts in grouped.items():
        got.add(code, texts, None, where[code], cfg)


def read_inputs(cfg: CentroidsConfig) -> _Inputs:
    """Read, filter (``languages``, ``max_sentences``) and check the inputs; languages with
    fewer than ``min_sentences`` sentences are excluded with the reason."""
    from ..data.readers.pairs import read_parallel_files

    got = _Inputs()
    if cfg.user_input:
        _read_user_inputs(cfg, got)
        present = set(cfg.input_codes()) | set(got.texts) | set(got.excluded)
    else:
        present = set()
        for lang, xx, eng in tatoeba_sources(cfg.tatoeba_dir()):
            code = lang_code("tatoeba", lang)
            present.add(code)
            if cfg.languages and code not in cfg.languages:
                continue
            par = read_parallel_files(xx, eng, tokenized=False)
            got.add(code, list(par.src), list(par.tgt), [xx, eng], cfg)
    from ..languages import is_known

    for code in cfg.languages:
        if code not in present:
            if not is_known(code):
                raise ConfigError(f"languages: unknown language '{code}': not in the language table and no input "
                                  f"for it (found: {', '.join(sorted(present))})")
            got.excluded[code] = "requested but no input file for it"
    if len(got.texts) < 2:
        raise InputError(f"at least 2 languages are needed, {len(got.texts)} remain"
                         + (f" (excluded: {got.excluded})" if got.excluded else ""))
    return got


def _datasets(cfg: CentroidsConfig, got: _Inputs, langs: Sequence[str]) -> list[DatasetProvenance]:
    from ..data.registry import dataset_provenance, file_sha256

    split = f"train {cfg.train_fraction} (dev {cfg.dev_fraction} of train) / test, seed {cfg.seed}"
    files = [f for k in langs for f in got.files.get(k, [])]
    if not cfg.user_input and cfg.tatoeba is None:
        return [dataset_provenance("tatoeba", files, split=split, languages=langs)]
    name = "tatoeba" if not cfg.user_input else "user-files"
    return [DatasetProvenance(name=name, files={str(f): file_sha256(f) for f in files}, split=split,
                              languages=tuple(langs))]


# ---------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class _Split:
    train: dict[str, Any]
    test: dict[str, Any]
    fit: dict[str, Any]  # train rows outside dev
    dev: dict[str, Any]
    excluded: dict[str, str]


def make_split(sizes: Mapping[str, int], cfg: CentroidsConfig) -> _Split:
    """The analyses' train/test split (:func:`~mbert_lab.analyses.centroids.split_indices`,
    the same rows as before this study existed) plus a seeded dev part of each train split."""
    import hashlib

    import numpy as np

    from ..analyses.centroids import split_indices

    s = split_indices(sizes, cfg.train_fraction, min_sentences=4, seed=cfg.seed)
    fit, dev, excluded = {}, {}, dict(s.excluded)
    for lang, tr in s.train.items():
        n_dev = max(1, int(round(len(tr) * cfg.dev_fraction)))
        if len(tr) - n_dev < 1:
            excluded[lang] = f"{sizes[lang]} sentences, too few for a dev part of the train split"
            continue
        h = hashlib.sha256(f"{cfg.seed}\x1f{lang}\x1fdev".encode()).digest()
        perm = np.random.default_rng(int.from_bytes(h[:8], "little")).permutation(len(tr))
        dev[lang], fit[lang] = np.sort(tr[perm[:n_dev]]), np.sort(tr[perm[n_dev:]])
    keep = [k for k in s.train if k in fit]
    return _Split({k: s.train[k] for k in keep}, {k: s.test[k] for k in keep}, fit, dev, excluded)


# ---------------------------------------------------------------------------- per layer


def _lid_scores(r: Any, dev_accuracy: float, top: int = 20) -> LidScores:
    return LidScores(
        accuracy=r.accuracy, per_language=dict(r.per_language),
        confusion=tuple(tuple(int(x) for x in row) for row in r.confusion),
        most_confused=tuple(Confusion(*c) for c in r.most_confused[:top]),
        n_train=r.n_train, n_test=r.n_test, dev_accuracy=dev_accuracy,
    )


def _layer_lid(vx: Mapping[str, Any], split: _Split, cfg: CentroidsConfig) -> dict[str, LidScores]:
    """Nearest-centroid and probe LID at one layer: train -> test, and fit -> dev."""
    from ..analyses import centroids as C

    def rows(part: Mapping[str, Any]) -> dict[str, Any]:
        return {k: vx[k][part[k]] for k in split.train}

    train, test, fit, dev = rows(split.train), rows(split.test), rows(split.fit), rows(split.dev)
    nc = C.nearest_centroid_lid(train, test, cfg.metric)
    nc_dev = C.nearest_centroid_lid(fit, dev, cfg.metric).accuracy
    probe = dict(c=cfg.probe_c, max_iter=cfg.probe_max_iter, seed=cfg.seed)
    pr = C.probe_lid(train, test, **probe)
    pr_dev = C.probe_lid(fit, dev, **probe).accuracy
    out = {"nearest_centroid": _lid_scores(nc, nc_dev), "probe": _lid_scores(pr, pr_dev)}
    if cfg.lid_centered:  # what is left of language identity once each language's centroid is removed
        def minus(part: Mapping[str, Any], ref: Mapping[str, Any]) -> dict[str, Any]:
            return {k: part[k] - ref[k].mean(0) for k in part}

        # a 1-NN classifier (cosine), raw and centred: centred classes all have mean 0, so a linear
        # probe is at chance by construction; nearest neighbours still see any other structure
        out["knn"] = _lid_scores(knn_lid(train, test), knn_lid(fit, dev).accuracy)
        out["knn_centered"] = _lid_scores(knn_lid(minus(train, train), minus(test, train)),
                                          knn_lid(minus(fit, fit), minus(dev, fit)).accuracy)
    return out


def knn_lid(train: Mapping[str, Any], test: Mapping[str, Any], top: int = 20) -> Any:
    """Language of each test vector = the language of its nearest training vector (cosine)."""
    import numpy as np

    from ..analyses import centroids as C

    labels = C._check_groups(train, test)
    xtr, ytr = C._stack(train, labels)
    test_labels = [lang for lang in labels if lang in test]
    xte, yte = C._stack(test, test_labels)
    yte = np.asarray([labels.index(test_labels[i]) for i in yte], dtype=np.int64)
    a, b = C.l2_normalize(xte.astype(np.float64)), C.l2_normalize(xtr.astype(np.float64))
    pred = ytr[np.argmax(a @ b.T, axis=1)]
    return C._lid_result("1-nn/cosine", yte, pred, labels, len(ytr), top)


def _layer_geometry(vx: Mapping[str, Any], split: _Split, info: Mapping[str, LanguageInfo],
                    cfg: CentroidsConfig) -> CentroidGeometry:
    import numpy as np

    from ..analyses import centroids as C

    langs = list(split.train)
    cents = C.language_centroids({k: vx[k][split.train[k]] for k in langs})
    mat = np.stack([cents[k] for k in langs])
    cl = C.cluster_centroids(cents, cfg.metric, cfg.linkage)
    groups = {
        "family": {k: info[k].family for k in langs},
        "genus": {k: f"{info[k].family}/{info[k].genus}" for k in langs},
        "script": {k: info[k].script for k in langs},
    }
    agreement = {g: AgreementScores(**vars(C.cluster_agreement(cl, m))) for g, m in groups.items()}
    coords, explained = C.pca_2d(mat)

    def table(a: Any) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(float(x) for x in row) for row in np.asarray(a).round(6))

    return CentroidGeometry(
        labels=tuple(langs), cosine_distance=table(C.pairwise_distances(mat, "cosine")),
        euclidean_distance=table(C.pairwise_distances(mat, "euclidean")), metric=cl.metric, method=cl.method,
        linkage=tuple(tuple(float(x) for x in row) for row in cl.linkage), leaf_order=tuple(cl.leaf_order),
        agreement=agreement, pca=table(coords), explained_variance=tuple(explained),
    )


def _layer_retrieval(x: Any, e: Any, split: _Split, lang: str, projection: str) -> dict[str, tuple[float, float]]:
    """Retrieval conditions on test rows (and all rows), plus ``dev_raw`` / ``dev_centered``
    on dev rows with centroids fitted on the other train rows."""
    from ..analyses import centroids as C

    if len(e) != len(x):
        raise InputError(f"'{lang}': {len(x)} sentences but {len(e)} English lines")
    res = C.retrieval_with_centering(x, e, split.train[lang], split.test[lang],
                                     projection=None if projection == "none" else projection)
    fit, dev = split.fit[lang], split.dev[lang]
    xd, ed = x[dev].astype("float64"), e[dev].astype("float64")
    mx, me = x[fit].mean(0), e[fit].mean(0)
    res["dev_raw"] = (C.retrieval_accuracy(xd, ed), C.retrieval_accuracy(ed, xd))
    res["dev_centered"] = (C.retrieval_accuracy(xd - mx, ed - me), C.retrieval_accuracy(ed - me, xd - mx))
    return res


# ---------------------------------------------------------------------------- assembling


def _best(dev: Mapping[int, float], test: Mapping[int, float], criterion: str) -> BestLayer:
    """The layer with the highest dev score (lowest layer on ties) and its test score."""
    layer = max(dev, key=lambda la: (dev[la], -la))
    return BestLayer(layer=layer, criterion=criterion, dev_score=float(dev[layer]), test_score=float(test[layer]))


def _lid_methods(per_layer: Mapping[int, dict[str, LidScores]], cfg: CentroidsConfig) -> dict[str, LidMethod]:
    names = {"nearest_centroid": f"nearest-centroid/{cfg.metric}", "probe": f"logistic-probe/C={cfg.probe_c}"}
    if cfg.lid_centered:
        names["knn"] = "1-nearest-neighbour/cosine"
        names["knn_centered"] = "1-nearest-neighbour/cosine on centred vectors (each language minus its train centroid)"
    out = {}
    for key, method in names.items():
        by_layer = {la: d[key] for la, d in per_layer.items()}
        best = _best({la: s.dev_accuracy for la, s in by_layer.items()},
                     {la: s.accuracy for la, s in by_layer.items()}, "LID accuracy")
        out[key] = LidMethod(method=method, by_layer=by_layer, best=best)
    return out


CONDITIONS = {
    "raw": "test rows, no transform",
    "centered": "test rows, each side minus its centroid fitted on the train rows",
    "projected": "centered, then xx mapped onto English by a projection fitted on the train pairs",
    "all_raw": "all rows, no transform",
    "all_centered_in_sample": "all rows, each side minus its own mean over all rows (transductive)",
}


def _retrieval_scores(per: Mapping[str, Mapping[int, dict[str, tuple[float, float]]]],
                      layers: Sequence[int]) -> RetrievalScores:
    """``per[lang][layer][condition] = (xx->eng, eng->xx)`` -> means, dev means, best layers."""
    import numpy as np

    langs = tuple(per)
    conds = [c for c in per[langs[0]][layers[0]]]

    def scores(lang_list: Sequence[str], cond: str) -> DirectionScores:
        return DirectionScores(
            {la: float(np.mean([per[k][la][cond][0] for k in lang_list])) for la in layers},
            {la: float(np.mean([per[k][la][cond][1] for k in lang_list])) for la in layers},
        )

    per_language = {k: {c: scores([k], c) for c in conds if not c.startswith("dev_")} for k in langs}
    mean = {c: scores(langs, c) for c in conds if not c.startswith("dev_")}
    dev_mean = {c[4:]: scores(langs, c) for c in conds if c.startswith("dev_")}
    best = {}
    for c, d in dev_mean.items():
        both = {la: (d.xx_to_eng[la] + d.eng_to_xx[la]) / 2 for la in layers}
        test = {la: (mean[c].xx_to_eng[la] + mean[c].eng_to_xx[la]) / 2 for la in layers}
        best[c] = _best(both, test, f"{c} retrieval, mean of xx->eng and eng->xx")
    conditions = {c: CONDITIONS[c] for c in mean}
    return RetrievalScores(langs, conditions, mean, per_language, dev_mean, best)


def _transform(cfg: CentroidsConfig, vx: Any, ve: Any, split: _Split, layers: Sequence[int],
               eng_langs: Sequence[str]) -> Any:
    """Centroids fitted on the train split at every layer (English: the pooled train rows of
    the English sides), and the projections when asked for."""
    import numpy as np

    from ..analyses.centroids import LanguageTransform

    cents = {k: np.stack([vx(la)[k][split.train[k]].mean(0) for la in layers]).astype(np.float32) for k in split.train}
    if eng_langs and "eng" not in cents:
        cents["eng"] = np.stack([np.concatenate([ve(la)[k][split.train[k]] for k in eng_langs]).mean(0)
                                 for la in layers]).astype(np.float32)
    prov = {"split": {"seed": cfg.seed, "train_fraction": cfg.train_fraction}, "fitted_on": "train split",
            "eng_centroid": "pooled English sides (train rows) of all paired languages"}
    t = LanguageTransform(tuple(layers), cents, provenance=prov)
    if cfg.save_projections and cfg.projection != "none" and eng_langs:
        pairs = {k: {la: (vx(la)[k][split.train[k]], ve(la)[k][split.train[k]]) for la in layers} for k in eng_langs}
        t = t.add_projections("eng", pairs, method=cfg.projection)
    return t


# ---------------------------------------------------------------------------- PUD geometry


def _read_pud(folder: Path) -> tuple[dict[str, dict[str, tuple[list[str], list[str]]]], list[Path]]:
    from ..data.readers.conllu import read_conllu
    from ..errors import DataMissingError

    files = sorted(folder.glob("*_pud-ud-test.conllu")) if folder.is_dir() else []
    if not files:
        raise DataMissingError(f"pud: no <xx>_pud-ud-test.conllu files in {folder}")
    sents = {}
    for f in files:
        rows = read_conllu(f)
        missing = [r.line for r in rows if r.sent_id is None]
        if missing:
            raise InputError("sentence without '# sent_id' (needed to align PUD)", f, missing[0])
        sents[f.name.split("_")[0]] = {r.sent_id: (list(r.words), list(r.upos)) for r in rows}
    return sents, files


def _geometry_scores(g: Any) -> GeometryScores:
    adj = g.adjusted
    return GeometryScores(g.anisotropy, g.self_similarity, g.self_similarity_types, g.intra_sentence,
                          g.n_sentences, g.n_words, adj["self_similarity"], adj["intra_sentence"])


def _pud_language(corpus: Any, rows: Mapping[str, Any], measure: list[str], fit: list[str],
                  layers: Sequence[int], seed: int) -> dict[str, dict[int, GeometryScores]]:
    import numpy as np

    from ..analyses import centroids as C

    ids = measure + fit
    n_words = [len(rows[s][0]) for s in ids]
    # self-similarity word types: lower-cased forms; punctuation and symbols left out
    types = [[w.lower() if u not in ("PUNCT", "SYM") else f"\x00{j}" for j, (w, u) in enumerate(zip(*rows[s]))]
             for s in measure]
    out: dict[str, dict[int, GeometryScores]] = {"raw": {}, "centered": {}}
    bounds = np.cumsum([0] + n_words)
    for layer in layers:
        mat = corpus.word_matrix(layer)
        if len(mat) != bounds[-1]:
            raise InputError(f"PUD: {len(mat)} word vectors for {bounds[-1]} words")
        per_sent = [mat[bounds[i]: bounds[i + 1]] for i in range(len(ids))]
        meas = per_sent[: len(measure)]
        center = np.concatenate(per_sent[len(measure):]).astype(np.float64).mean(0)
        for kind, c in (("raw", None), ("centered", center)):
            out[kind][layer] = _geometry_scores(C.geometry(meas, types, center=c, seed=seed))
    return out


def pud_geometry(cfg: CentroidsConfig, encoder: Any, store: Any, layers: Sequence[int]) -> WordGeometry:
    """Anisotropy, self-similarity and intra-sentence similarity of word vectors per layer and
    PUD language, raw and centred (centroid = mean word vector of *other* sentences)."""
    import numpy as np

    from ..data.registry import file_sha256

    sents, files = _read_pud(cfg.pud_dir())
    n = cfg.pud_sentences
    order = sorted(set.intersection(*(set(v) for v in sents.values())))
    if len(order) < 2 * n:
        raise InputError(f"only {len(order)} sentence ids shared by all PUD files; need {2 * n} "
                         f"(pud_sentences {n})", cfg.pud_dir())
    pick = [order[i] for i in sorted(np.random.default_rng(cfg.seed).choice(len(order), 2 * n, replace=False))]
    measure, fit = pick[::2], pick[1::2]
    ex = make_extractor(cfg, encoder, store, range(encoder.num_layers + 1), ("word",), progress=False, dtype="float16")
    per = {}
    for code, rows in sorted(sents.items()):
        corpus = ex.encode([rows[s][0] for s in measure + fit], pretokenized=True, desc=f"PUD {code}")
        per[code] = _pud_language(corpus, rows, measure, fit, layers, cfg.seed)
    langs = tuple(sorted(per))
    mean = {kind: {m: {la: float(np.nanmean([getattr(per[k][kind][la], m) for k in langs])) for la in layers}
                   for m in ("anisotropy", "self_similarity", "intra_sentence")} for kind in ("raw", "centered")}
    return WordGeometry(langs, n, per, mean, {str(f): file_sha256(f) for f in files}, GEOMETRY_DEFINITIONS)


GEOMETRY_DEFINITIONS = {
    "anisotropy": "mean cosine between random words of two different random sentences",
    "self_similarity": "mean over word types (lower-cased, punctuation excluded) of the mean pairwise "
    "cosine of the type's vectors in different sentences (<= 20 sentences per type)",
    "intra_sentence": "mean over sentences of the mean cosine between each word and the sentence's mean word",
    "centered": "word vectors minus the language's mean word vector over other PUD sentences",
}


# ---------------------------------------------------------------------------- the study


def _encode(cfg: CentroidsConfig, enc: Any, store: Any, got: _Inputs) -> tuple[Any, Any]:
    """Sentence vectors of every layer for every language (and English side): one config for
    every file, so the vector store shares them with other analyses of the same files."""
    import numpy as np

    ex = make_extractor(cfg, enc, store, range(enc.num_layers + 1), ("sentence",))
    cx = {k: ex.encode(v, desc=k) for k, v in got.texts.items()}
    ce = {k: ex.encode(v, desc=f"{k} (eng side)") for k, v in got.eng.items()}

    def vx(layer: int) -> dict[str, Any]:
        return {k: np.asarray(c.sentence(layer, cfg.pooling)) for k, c in cx.items()}

    def ve(layer: int) -> dict[str, Any]:
        return {k: np.asarray(c.sentence(layer, cfg.pooling)) for k, c in ce.items()}

    return vx, ve


def centroids(config: CentroidsConfig, *, encoder: Any = None, store: Any = None) -> CentroidsResult:
    """Read the inputs, encode them once, and analyse every requested layer."""
    got = read_inputs(config)
    enc = resolve_encoder(config, encoder)
    layers = resolve_layers(config.layers, enc.num_layers)
    st = resolve_store(config, store)
    vx, ve = _encode(config, enc, st, got)
    split = make_split({k: len(v) for k, v in got.texts.items()}, config)
    langs = list(split.train)
    if len(langs) < 2:
        raise InputError(f"fewer than 2 languages left after the split (excluded: {split.excluded})")
    info = {k: language_info(k) for k in langs}
    eng_langs = [k for k in langs if k in got.eng]
    lid, geo, retr = {}, {}, {k: {} for k in eng_langs}
    for la in layers:
        x, e = vx(la), ve(la)
        lid[la] = _layer_lid(x, split, config)
        geo[la] = _layer_geometry(x, split, info, config)
        for k in eng_langs:
            retr[k][la] = _layer_retrieval(x[k], e[k], split, k, config.projection)
    datasets = _datasets(config, got, langs)
    word_geo = None
    if config.geometry:
        word_geo = pud_geometry(config, enc, st, layers)
        datasets.append(DatasetProvenance(name="ud-pud", files=word_geo.files, languages=word_geo.languages))
    prov = make_provenance(config, encoder=enc, layers=layers, pooling=config.pooling, datasets=datasets)
    transform = _transform(config, vx, ve, split, layers, eng_langs)
    transform.provenance["provenance"] = dataclasses.asdict(prov)
    return CentroidsResult(
        provenance=prov, layers=tuple(layers), languages=tuple(langs), info=info,
        excluded={**got.excluded, **split.excluded},
        split=SplitSummary(config.seed, config.train_fraction, config.dev_fraction,
                           *({k: int(len(v[k])) for k in langs} for v in (split.train, split.dev, split.test))),
        lid=_lid_methods(lid, config), centroid_geometry=geo,
        retrieval=_retrieval_scores(retr, layers) if eng_langs else None,
        word_geometry=word_geo, transform=transform,
    )


run = centroids
