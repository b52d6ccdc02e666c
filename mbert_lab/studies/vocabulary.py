"""Vocabulary: tokenizer statistics, shared-subword overlap and its correlation with transfer.

>>> import mbert_lab as ml                                                    # doctest: +SKIP
>>> r = ml.vocab(tokenizers=["offline"], pud=["en", "de", "zh"], tatoeba=[], alignment=[],
...              transfer_data=False)                                         # doctest: +SKIP
>>> r.tokenizer("offline").groups["pud"].stat("cmn").fertility               # doctest: +SKIP
1.2365...

Corpora (``pud``, ``tatoeba``, ``alignment`` read the data root, ``$MBERT_LAB_DATA``):

* ``pud``: any language with a ``ud-pud/<code>_pud-ud-test.conllu`` file under the data root
  (gold UD segmentation: syntactic words, French "du" = "de" + "le");
* ``alignment``: the non-English side of the gold word-alignment sets (``enfr``, ``roen``,
  ``jaen``), with the tokens the gold links count (a gold segmentation for Japanese);
* ``tatoeba``: non-English sides of ``tatoeba/v1``, split on ASCII spaces only: for unspaced
  scripts (Han, Thai, ...) the word measures are flagged as not comparable;
* ``corpora``: the user's own files, ``LANG=FILE`` (``.conllu``: gold words; any other file: one
  sentence per line, words split on ASCII spaces, a blank line is an error) or a ``.tsv`` file
  of ``lang<TAB>text`` rows (several languages in one file);
* ``transfer_data``: the English UD-POS training data as the transfer *source*, the ``suite``'s
  test sets as targets (``pud``: every PUD file on disk; ``xtreme-dev``: every XTREME
  ``dev-<lang>.tsv``), and CoNLL-2003 vs MasakhaNER for the entity overlap.

Correlations with per-language transfer ``scores`` (CSV ``lang,score`` or a JSON results file)
use every scored language that has a corpus: the suite's test set first, then the user's
corpora, PUD, the alignment sets and Tatoeba, in that order; each correlation says which corpus
each language came from, and which scored languages were left out and why.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..analyses.vocabulary import Correlation, LanguageStats
from ..errors import ConfigError, DataMissingError, InputError, ModelLoadError
from .base import (
    StudyConfig,
    StudyResult,
    check_choice,
    check_choices,
    check_count,
    check_input_file,
    check_text,
    make_provenance,
)

PUD_DEFAULT = ("eng", "deu", "fra", "spa", "rus", "cmn", "ara")
SUITES = ("pud", "xtreme-dev")
GROUPS = ("corpus", "pud", "alignment", "tatoeba")  # also the priority of corpora for correlations
UNSPACED_SCRIPTS = frozenset({"Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan"})
LANG_MEASURES = ("fertility", "fertility_with_marker", "continued_share", "continued_share_with_marker",
                 "unk_rate", "chars_per_subword", "distinct_subwords", "vocab_share_own_script")
WORD_MEASURES = frozenset({"fertility", "fertility_with_marker", "continued_share",
                           "continued_share_with_marker", "chars_per_subword"})
SOURCE_MEASURES = ("jaccard", "weighted_jaccard", "seen_type", "seen_token")
MEASURES = LANG_MEASURES + SOURCE_MEASURES + ("entity_overlap",)
DEFAULT_MEASURES = ("seen_token", "seen_type", "jaccard", "weighted_jaccard", "fertility", "continued_share")
UD_SEGMENTATION = "gold (UD words, multi-word tokens expanded)"  # as the transfer runs read them
WHITESPACE = "whitespace (ASCII space)"
_CODE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")

CONVENTIONS = {
    "fertility": "subwords per word on pre-split words; lone '\u2581' pieces excluded "
                 "(fertility_with_marker counts them)",
    "continued_share": "words with >= 2 pieces, lone markers excluded",
    "unk_rate": "UNK pieces / subwords",
    "chars_per_subword": "characters of the words / subwords",
    "weighted_jaccard": "Ruzicka similarity of relative subword frequencies",
    "seen_type/seen_token": "Wu & Dredze: share of target test subwords (types / tokens) present in the "
                            "source training data",
    "entity_overlap": "Pires et al.: |E_src & E_tgt| / |E_src | E_tgt| over entity subwords",
    "scripts": "Unicode Script property via the regex module (\\p{Script=...})",
    "segmentation": "UD corpora: syntactic words (French 'du' = 'de' + 'le'), as the transfer runs read "
                    "them; Tatoeba: ASCII spaces (word measures flagged not comparable for unspaced "
                    "scripts); alignment sets: their gold tokens",
    "overlap_types": "piece strings as emitted; lone '\u2581' and the UNK piece excluded",
    "languages": "ISO 639-3 codes (codes the language table does not know are kept as given)",
    "correlation_corpora": "a scored language is measured on the suite's test set, else on the first "
                           "corpus that has it in the order " + ", ".join(GROUPS),
}


# ============================================================================ data on disk


def iso(code: str) -> str:
    """ISO 639-3 for a code the language table knows; other codes as given (lower case)."""
    from ..languages import is_known, to_iso639_3

    return to_iso639_3(code) if is_known(code) else str(code).strip().lower()


def _root() -> Path:
    from ..paths import data_root

    return data_root()


def pud_files() -> dict[str, Path]:
    """Every PUD treebank on disk: ISO 639-3 code -> ``ud-pud/<code>_pud-ud-test.conllu``."""
    d = _root() / "ud-pud"
    return {iso(p.name.split("_pud-ud-test")[0]): p for p in sorted(d.glob("*_pud-ud-test.conllu"))}


def tatoeba_files() -> dict[str, tuple[Path, Path]]:
    """Every Tatoeba test set on disk: code -> (``tatoeba.<xxx>-eng.<xxx>``, its English side)."""
    d = _root() / "tatoeba" / "v1"
    out = {}
    for p in sorted(d.glob("tatoeba.*-eng.*")):
        code = p.name[len("tatoeba."):].split("-eng.")[0]
        eng = d / f"tatoeba.{code}-eng.eng"
        if p.suffix != ".eng" and eng.is_file():
            out[iso(code)] = (p, eng)
    return out


def udpos_dev_files() -> dict[str, Path]:
    """Every XTREME UD-POS dev set on disk: code -> ``xtreme-udpos/dev-<code>.tsv``."""
    d = _root() / "xtreme-udpos"
    return {iso(p.stem[len("dev-"):]): p for p in sorted(d.glob("dev-*.tsv"))}


def alignment_files() -> dict[str, Path]:
    """Gold word-alignment sets on disk: name (``enfr``) -> ``word-alignment/<name>.gold``."""
    d = _root() / "word-alignment"
    return {p.stem: p for p in sorted(d.glob("*.gold")) if (d / f"{p.stem}.src-tgt").is_file()}


# ============================================================================ config


def _selection(name: str, value: Any, default: tuple[str, ...], allow_all: bool = True) -> Any:
    """``None`` -> default; ``'all'`` -> ``'all'``; ``'none'`` / empty -> ``()``; else a tuple."""
    if value is None:
        return default
    if isinstance(value, str):
        v = value.strip().lower()
        if v == "all" and allow_all:
            return "all"
        if v in ("none", ""):
            return ()
        return tuple(x.strip() for x in value.split(",") if x.strip())
    if isinstance(value, (list, tuple)):
        return tuple(str(x).strip() for x in value)
    raise ConfigError(f"{name}: expected a list, a comma-separated string, 'all' or 'none', got {value!r}")


def _check_available(name: str, codes: Any, found: dict[str, Any], dataset: str) -> None:
    """Every code must have the dataset's files under the data root."""
    from ..languages import is_known

    if codes == "all":
        return
    for c in codes:
        if c in found:
            continue
        have = ", ".join(found) or "none"
        where = f"no {dataset} files for it under {_root()} (found: {have})"
        if not is_known(c):
            raise ConfigError(f"{name}: unknown language '{c}': not in the language table and {where}")
        raise ConfigError(f"{name}: language '{c}' has {where}")


def _user_code(name: str, code: str) -> str:
    """A user file may name any language: table codes -> 639-3, other well-formed codes kept."""
    from ..languages import is_known

    code = code.strip()
    if is_known(code):
        return iso(code)
    if not _CODE_RE.match(code):
        raise ConfigError(f"{name}: '{code}' is not a language code (ISO 639-1 or 639-3, e.g. de or deu)")
    return code.lower()


def _check_tokenizer_path(spec: str) -> None:
    """A tokenizer given as a folder must exist (hub ids and built-in names are checked on load)."""
    from ..models.registry import _looks_like_path

    if _looks_like_path(spec):
        p = Path(spec).expanduser()
        if not p.is_dir():
            raise InputError("tokenizers: no such folder" if not p.exists() else "tokenizers: expected a folder", p)


def _corpus_entry(entry: Any) -> str:
    """``'de=FILE'`` -> ``'deu=FILE'``; a ``.tsv`` file (``lang<TAB>text``) stays as it is."""
    s = str(entry)
    if "=" not in s:
        if not s.lower().endswith(".tsv"):
            raise ConfigError(f"corpora: bad entry '{s}': use LANG=FILE (plain lines or .conllu), "
                              "or a .tsv file of lang<TAB>text rows")
        return s
    lang, file = s.split("=", 1)
    if not file:
        raise ConfigError(f"corpora: bad entry '{s}': no file after '='")
    return f"{_user_code('corpora', lang)}={file}"


@dataclass(frozen=True, kw_only=True)
class VocabConfig(StudyConfig):
    """What to measure with which tokenizers (see the module docstring for the corpora).

    ``pud`` / ``tatoeba`` / ``alignment``: a list, ``"all"`` or ``"none"``; ``None`` means the
    default selection (PUD: en de fr es ru zh ar; Tatoeba and alignment: all), which becomes
    ``()`` when ``corpora`` are given. Language codes: ISO 639-1 or 639-3, stored as 639-3.
    """

    study = "vocab"
    tokenizers: tuple[str, ...] = ("offline",)
    pud: Any = None
    tatoeba: Any = None
    tatoeba_max: int | None = None
    alignment: Any = None
    corpora: tuple[str, ...] = ()
    transfer_data: bool = True
    source: str = "eng"
    suite: str = "pud"
    scores: str | None = None
    score_field: str | None = None
    measures: tuple[str, ...] = DEFAULT_MEASURES
    n_boot: int = 2000
    seed: int = 0

    def normalise(self) -> None:
        super().normalise()
        toks = (self.tokenizers,) if isinstance(self.tokenizers, str) else tuple(self.tokenizers or ())
        self._set("tokenizers", tuple(str(t).strip() for t in toks))
        raw = self.corpora
        if isinstance(raw, dict):
            raw = [f"{k}={v}" for k, v in raw.items()]
        elif isinstance(raw, str):
            raw = [raw]
        self._set("corpora", tuple(_corpus_entry(x) for x in (raw or ())))
        off = bool(self.corpora)
        pud = _selection("pud", self.pud, () if off else PUD_DEFAULT)
        self._set("pud", pud if pud == "all" else tuple(_user_code("pud", c) for c in pud))
        tat = _selection("tatoeba", self.tatoeba, () if off else "all")
        self._set("tatoeba", tat if tat == "all" else tuple(_user_code("tatoeba", c) for c in tat))
        ali = _selection("alignment", self.alignment, () if off else "all")
        self._set("alignment", ali if ali == "all" else tuple(a.replace("-", "").replace("_", "").lower() for a in ali))
        meas = (self.measures,) if isinstance(self.measures, str) else tuple(self.measures or ())
        self._set("measures", tuple(m.strip() for m in meas))
        if isinstance(self.source, str) and self.source.strip():
            self._set("source", _user_code("source", self.source))

    def validate(self) -> None:
        super().validate()
        if not self.tokenizers:
            raise ConfigError("tokenizers: give at least one (e.g. offline)")
        for t in self.tokenizers:
            check_text("tokenizers", t)
            _check_tokenizer_path(t)
            _wordpiece_size(t)
        for name in ("pud", "tatoeba", "alignment"):
            v = getattr(self, name)
            if v != "all" and len(set(v)) != len(v):
                raise ConfigError(f"{name}: a language or set is listed twice in {list(v)}")
        _check_available("pud", self.pud, pud_files() if self.pud else {}, "ud-pud")
        _check_available("tatoeba", self.tatoeba, tatoeba_files() if self.tatoeba else {}, "tatoeba")
        if self.alignment and self.alignment != "all":
            check_choices("alignment", self.alignment, list(alignment_files()) or ["(none on disk)"])
        check_count("tatoeba_max", self.tatoeba_max, allow_none=True)
        self._validate_corpora()
        check_text("source", self.source)
        check_choice("suite", self.suite, SUITES)
        check_input_file("scores", self.scores, allow_none=True)
        if self.score_field is not None:
            check_text("score_field", self.score_field)
        check_choices("measures", self.measures, MEASURES)
        check_count("n_boot", self.n_boot)
        check_count("seed", self.seed, minimum=0)
        if not isinstance(self.transfer_data, bool):
            raise ConfigError(f"transfer_data: must be true or false, got {self.transfer_data!r}")
        need = [m for m in self.measures if m in SOURCE_MEASURES or m == "entity_overlap"]
        if self.scores is not None and not self.transfer_data and need:
            raise ConfigError(f"measures: {', '.join(need)} need the transfer data (transfer_data = true, "
                              "or drop --no-transfer-data); without it only per-language measures correlate")

    def _validate_corpora(self) -> None:
        langs = []
        for entry in self.corpora:
            lang, file = entry.split("=", 1) if "=" in entry else ("", entry)
            check_input_file(f"corpora ({lang or 'lang<TAB>text'})", file)
            if lang:
                langs.append(lang)
        dup = sorted({x for x in langs if langs.count(x) > 1})
        if dup:
            raise ConfigError(f"corpora: language '{dup[0]}' is given twice")

    def selected(self, name: str) -> list[str]:
        """The resolved selection of ``pud`` / ``tatoeba`` / ``alignment`` ('all' expanded)."""
        v = getattr(self, name)
        if v != "all":
            return list(v)
        return list({"pud": pud_files, "tatoeba": tatoeba_files, "alignment": alignment_files}[name]())


def _wordpiece_size(spec: str) -> int | None:
    if not spec.startswith("wordpiece-mirror"):
        return None
    size = spec.split(":", 1)[1] if ":" in spec else "30000"
    if not size.isdigit() or int(size) < 10:
        raise ConfigError(f"tokenizers: bad '{spec}': use wordpiece-mirror or wordpiece-mirror:30000")
    return int(size)


# ============================================================================ result types


@dataclass(frozen=True)
class CorpusStats(LanguageStats):
    """:class:`LanguageStats` of one corpus, whether its word measures compare across languages
    (not for whitespace-split unspaced scripts), and the file it came from."""

    word_measures_comparable: bool = True
    source: str = ""


@dataclass(frozen=True)
class GroupReport:
    """One group of corpora (``corpus``, ``pud``, ``alignment``, ``tatoeba``) for one tokenizer."""

    group: str
    languages: tuple[str, ...]
    stats: tuple[CorpusStats, ...]
    jaccard: tuple[tuple[float, ...], ...]
    weighted_jaccard: tuple[tuple[float, ...], ...]

    def stat(self, lang: str) -> CorpusStats:
        for s in self.stats:
            if s.lang == lang:
                return s
        raise KeyError(f"no language '{lang}' in group '{self.group}' (has {list(self.languages)})")


@dataclass(frozen=True)
class TargetMeasures:
    """A target language against the source's training data (Wu & Dredze), and its own stats.

    ``corpus`` says which text was measured: ``pud`` / ``xtreme-dev`` (the suite's test set) or,
    for a scored language without one, the group of corpora it came from."""

    corpus: str
    stats: CorpusStats
    jaccard: float
    weighted_jaccard: float
    seen_type: float
    seen_token: float

    def value(self, measure: str) -> Any:
        return getattr(self, measure) if measure in SOURCE_MEASURES else getattr(self.stats, measure)


@dataclass(frozen=True)
class TransferReport:
    source: str
    source_file: str
    suite: str
    per_language: dict[str, TargetMeasures]


@dataclass(frozen=True)
class EntityOverlap:
    entity_overlap: float
    entity_subword_types: int
    target_file: str


@dataclass(frozen=True)
class NerReport:
    """Pires et al.: CoNLL-2003 English train entities vs MasakhaNER test entities."""

    source: str
    source_file: str
    source_entity_subword_types: int
    per_language: dict[str, EntityOverlap]


@dataclass(frozen=True)
class CorrelationReport(Correlation):
    """A :class:`Correlation` plus where each language's measure came from (``corpus``) and the
    scored languages left out, with the reason (``excluded``)."""

    corpus: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenizerInfo:
    spec: str
    label: str
    vocab_size: int
    fingerprint: str
    vocab_script_shares: dict[str, float]
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenizerReport:
    tokenizer: TokenizerInfo
    groups: dict[str, GroupReport]
    transfer_pos: TransferReport | None = None
    ner: NerReport | None = None
    correlations: tuple[CorrelationReport, ...] = ()
    correlations_skipped: dict[str, str] = field(default_factory=dict)

    def correlation(self, measure: str) -> CorrelationReport:
        for c in self.correlations:
            if c.measure == measure:
                return c
        raise KeyError(f"no correlation for '{measure}' ({self.correlations_skipped.get(measure, 'not asked for')})")


@dataclass(frozen=True, kw_only=True)
class VocabResult(StudyResult):
    """Per tokenizer: per-language stats by corpus group, pairwise overlaps, transfer-data
    measures, entity overlap and correlations with the scores (if any)."""

    kind = "vocab"
    tokenizers: tuple[TokenizerReport, ...]
    scores: dict[str, float] = field(default_factory=dict)
    scores_file: str | None = None
    scores_sha256: str | None = None
    language_names: dict[str, str] = field(default_factory=dict)
    conventions: dict[str, str] = field(default_factory=dict)

    def tokenizer(self, spec: str) -> TokenizerReport:
        for t in self.tokenizers:
            if t.tokenizer.spec == spec:
                return t
        raise KeyError(f"no tokenizer '{spec}' (has {[t.tokenizer.spec for t in self.tokenizers]})")

    def segmentation(self) -> dict[str, dict[str, str]]:
        """group -> language -> the word segmentation used (first tokenizer's view; all agree)."""
        t = self.tokenizers[0]
        out = {g: {s.lang: s.segmentation for s in r.stats} for g, r in t.groups.items()}
        if t.transfer_pos is not None:
            out["transfer_pos"] = {k: v.stats.segmentation for k, v in t.transfer_pos.per_language.items()}
        return out

    def comparison_markdown(self) -> str:
        return comparison_table(self)

    def table(self, spec: str, fmt: str = "md") -> str:
        return tokenizer_table(self.tokenizer(spec), fmt)

    def summary(self) -> list[str]:
        out = []
        for t in self.tokenizers:
            for g, r in t.groups.items():
                f = ", ".join(f"{s.lang} {s.fertility:.3f}" for s in r.stats[:8])
                out.append(f"[{t.tokenizer.spec}] {g}: fertility {f}{' ...' if len(r.stats) > 8 else ''}")
            for c in t.correlations:
                out.append(f"[{t.tokenizer.spec}] {correlation_line(c)}")
        return out


# ============================================================================ corpora


@dataclass(frozen=True)
class Corpus:
    """Sentences of words for one language, with where they came from."""

    lang: str
    sentences: tuple[tuple[str, ...], ...]
    segmentation: str
    source: str
    dataset: str | None = None
    mask: tuple[bool, ...] | None = None  # per word (NER: inside an entity)


def read_conllu_words(path: str | Path) -> list[tuple[str, ...]]:
    """Gold UD words per sentence (syntactic words: French "du" is "de" + "le")."""
    from ..data.readers.conllu import read_conllu

    return [tuple(s.words) for s in read_conllu(path, check_upos=False)]


def read_lines_words(path: str | Path) -> list[tuple[str, ...]]:
    """One sentence per line (a blank line is an error), words split on the ASCII space only."""
    from ..data.readers.text import read_sentences, split_ascii_space

    return [split_ascii_space(ln) for ln in read_sentences(path)]


def user_corpora(entries: Sequence[str]) -> list[Corpus]:
    """``LANG=FILE`` entries and ``lang<TAB>text`` ``.tsv`` files -> corpora (one per language)."""
    from ..data.readers.text import split_ascii_space
    from ..data.readers.tsv import read_lang_text

    out: dict[str, Corpus] = {}
    for e in entries:
        if "=" in e:
            lang, file = e.split("=", 1)
            gold = file.lower().endswith(".conllu")
            sents = read_conllu_words(file) if gold else read_lines_words(file)
            seg = "gold (CoNLL-U words)" if gold else WHITESPACE
            if lang in out:
                raise InputError(f"language '{lang}' is given twice (also in {out[lang].source})", file)
            out[lang] = Corpus(lang, tuple(sents), seg, str(file))
            continue
        rows: dict[str, list[tuple[str, ...]]] = {}
        for lang, _, text in read_lang_text(e):
            rows.setdefault(_user_code(f"{e}: language", lang), []).append(split_ascii_space(text))
        for lang, sents in rows.items():
            if lang in out:
                raise InputError(f"language '{lang}' is given twice (also in {out[lang].source})", e)
            out[lang] = Corpus(lang, tuple(sents), WHITESPACE, str(e))
    return list(out.values())


def pud_corpora(langs: Sequence[str]) -> list[Corpus]:
    files = pud_files()
    return [Corpus(lang, tuple(read_conllu_words(files[lang])), UD_SEGMENTATION, str(files[lang]), "ud-pud")
            for lang in langs]


def tatoeba_corpora(langs: Sequence[str], max_sentences: int | None) -> list[Corpus]:
    from ..data.readers.parallel import read_parallel_corpus as read_parallel
    from ..data.readers.text import split_ascii_space

    files = tatoeba_files()
    out = []
    for lang in langs:
        a, b = files[lang]
        pc = read_parallel(a, b, src_lang=lang, tgt_lang="eng", empty="skip")
        sents = [split_ascii_space(t) for t in pc.src_sentences][: max_sentences or None]
        out.append(Corpus(lang, tuple(sents), WHITESPACE, str(a), "tatoeba"))
    return out


def alignment_corpora(sets: Sequence[str]) -> list[Corpus]:
    """The non-English side of gold word-alignment sets (tokens as the gold links count them)."""
    from ..data.datasets import load_gold_alignment

    out = []
    for name in sets:
        g = load_gold_alignment(name)
        side = "src" if g.src_lang != "eng" else "tgt"
        lang = iso(g.src_lang if side == "src" else g.tgt_lang)
        sents = tuple(tuple(p.src_tokens if side == "src" else p.tgt_tokens) for p in g.pairs)
        out.append(Corpus(lang, sents, f"gold (word-alignment set {g.name}, {side} tokens)", str(g.text_path),
                          "word-alignment"))
    return out


def read_corpora(config: VocabConfig) -> dict[str, list[Corpus]]:
    """Every group the config asks for, read before any tokenizer loads (bad input fails fast)."""
    groups: dict[str, list[Corpus]] = {}
    if config.corpora:
        groups["corpus"] = user_corpora(config.corpora)
    if config.pud:
        groups["pud"] = pud_corpora(config.selected("pud"))
    if config.alignment:
        groups["alignment"] = alignment_corpora(config.selected("alignment"))
    if config.tatoeba:
        groups["tatoeba"] = tatoeba_corpora(config.selected("tatoeba"), config.tatoeba_max)
    for cs in groups.values():
        for c in cs:
            if not any(c.sentences):
                raise InputError(f"empty corpus for language '{c.lang}'", path=c.source)
    return groups


@dataclass(frozen=True)
class TransferData:
    """The transfer runs' data, read once for every tokenizer."""

    source: Corpus
    targets: dict[str, Corpus]
    ner_source: Corpus
    ner_targets: dict[str, Corpus]


def read_transfer_data(config: VocabConfig) -> TransferData:
    from ..data.datasets import load_ner, load_udpos
    from ..data.readers.tagged import read_tagged_tsv

    train = load_udpos("train", config.source)
    src = Corpus(config.source, tuple(tuple(x.tokens) for x in train), "gold (UD 2.5)", train[0].path,
                 "xtreme-udpos")
    targets: dict[str, Corpus] = {}
    if config.suite == "pud":
        for lang, p in pud_files().items():
            targets[lang] = Corpus(lang, tuple(read_conllu_words(p)), UD_SEGMENTATION, str(p), "ud-pud")
    else:
        for lang, p in udpos_dev_files().items():
            sents = read_tagged_tsv(p)
            targets[lang] = Corpus(lang, tuple(tuple(x.tokens) for x in sents), "gold (UD 2.5)", str(p),
                                   "xtreme-udpos")
    if not targets:
        raise DataMissingError(f"no {config.suite} test sets under {_root()} (set $MBERT_LAB_DATA)")

    def ner(sents: Any, lang: str, dataset: str | None = None) -> Corpus:
        mask = tuple(t != "O" for x in sents if len(x.tokens) for t in x.tags)
        return Corpus(lang, tuple(tuple(x.tokens) for x in sents), "gold (CoNLL tokens)", sents[0].path,
                      dataset, mask)

    ner_src = ner(load_ner("conll2003-en", "train"), "eng")
    ner_tgt = {iso(lang): ner(load_ner(name, "test", lang), iso(lang), name) for lang, name in ner_test_sets().items()}
    return TransferData(src, targets, ner_src, ner_tgt)


def ner_test_sets() -> dict[str, str]:
    """MasakhaNER languages with a test file on disk -> the dataset read (1.0 where a language
    is in both versions, as the project's figures; 2.0 for languages only it has)."""
    from ..data.datasets import available_languages, files_on_disk

    out: dict[str, str] = {}
    for name in ("masakhaner-v1", "masakhaner-v2"):
        have = set(files_on_disk(name))
        for lang in available_languages(name):
            if lang not in out and f"ner/{name}/{lang}/test.txt" in have:
                out[lang] = name
    return dict(sorted(out.items()))


# ============================================================================ scores


def read_scores(path: str | Path, field: str | None = None, suite: str | None = None) -> dict[str, float]:
    """Per-language scores from a ``lang,score`` CSV or a JSON results file (keys as written).

    JSON from ``mbert-lab transfer``: ``payload["suites"][suite]["per_language"][lang]["mean"]``
    (or ``payload["per_language"]`` when ``suite`` is None). Other JSON: the first mapping
    (depth-first, ``payload`` first) whose keys are language codes and whose values are numbers,
    or dicts holding ``field`` (default: 'accuracy' / 'f1' / 'score' / 'mean', or the only number).
    """
    from ..data.readers.text import decode_utf8, read_bytes, split_lines

    path = Path(path)
    text = decode_utf8(read_bytes(path), path)
    if path.suffix.lower() == ".json":
        return _json_scores(text, path, field, suite)
    out: dict[str, float] = {}
    for n, line in enumerate(split_lines(text), 1):
        row = next(csv.reader(io.StringIO(line)), [])
        if not row or not "".join(row).strip(" \t") or row[0].startswith("#"):
            continue
        if len(row) < 2:
            raise InputError("expected 'lang,score'", path=path, line=n)
        try:
            out[row[0].strip(" \t")] = float(row[1])
        except ValueError:
            if n == 1:  # header
                continue
            raise InputError(f"score '{row[1]}' is not a number", path=path, line=n) from None
    if not out:
        raise InputError("no 'lang,score' rows", path=path)
    return out


def _json_scores(text: str, path: Path, field: str | None, suite: str | None) -> dict[str, float]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", path=path, line=e.lineno) from None
    body = obj.get("payload", obj) if isinstance(obj, dict) else obj
    if suite and isinstance(body, dict) and isinstance(body.get("suites"), dict):
        if suite not in body["suites"]:
            raise InputError(f"no suite '{suite}' in the scores file (has: {sorted(body['suites'])})", path=path)
        body = body["suites"][suite]
    if isinstance(body, dict) and isinstance(body.get("per_language"), dict):
        body = {"per_language": body["per_language"]}  # the transfer runs' layout
    found = _find_scores(body, field)
    if not found:
        raise InputError("no per-language scores found (expected a mapping lang -> number, or lang -> {"
                         f"{field or 'accuracy'}: number}}); use --score-field to name the metric", path=path)
    return found


_LANG_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")


def _find_scores(obj: Any, field: str | None) -> dict[str, float]:
    if isinstance(obj, dict):
        keys = list(obj)
        if len(keys) >= 2 and all(isinstance(k, str) and _LANG_RE.match(k) for k in keys):
            vals = {k: _score_value(v, field) for k, v in obj.items()}
            if all(v is not None for v in vals.values()):
                return {k: float(v) for k, v in vals.items()}  # type: ignore[arg-type]
        children = list(obj.values())
    elif isinstance(obj, list):
        children = obj
    else:
        return {}
    for v in children:
        r = _find_scores(v, field)
        if r:
            return r
    return {}


def _score_value(v: Any, field: str | None) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        if field is not None:
            x = v.get(field)
            return _score_value(x, None) if not isinstance(x, dict) else None
        for k in ("accuracy", "f1", "score", "mean"):
            if isinstance(v.get(k), (int, float)) and not isinstance(v.get(k), bool):
                return float(v[k])
        nums = [x for x in v.values() if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if len(nums) == 1:
            return float(nums[0])
    return None


def scores_by_code(scores: dict[str, float], path: Any) -> dict[str, float]:
    """Score keys -> ISO 639-3 ('de' and 'deu' meet); two keys for one language is an error."""
    out: dict[str, float] = {}
    for k, v in scores.items():
        c = iso(k)
        if c in out:
            raise InputError(f"two scores for language '{c}' (keys '{k}' and another)", path=path)
        out[c] = v
    return out


# ============================================================================ tokenizers


def load_tokenizer(spec: str) -> tuple[Any, dict[str, Any]]:
    """A fast tokenizer and its details for ``offline``, ``wordpiece-mirror[:N]`` or an id/path."""
    if spec in ("offline", "multilingual-e5-small-4bit", "e5-small-q4"):
        from ..models.offline import ensure_offline_model, read_manifest

        folder = ensure_offline_model()
        tok, info = _auto_tokenizer(str(folder), spec)
        info["label"] = "offline model (multilingual-e5-small, XLM-R SentencePiece)"
        man = read_manifest(folder) or {}
        info.update({f"manifest.{k}": v for k, v in man.items() if isinstance(v, (str, int, float))})
        return tok, info
    size = _wordpiece_size(spec)
    if size is not None:
        from ..models.wordpiece import mirror_wordpiece

        tok, info = mirror_wordpiece(vocab_size=size)
        info.update(label=f"WordPiece {size // 1000}k trained on the mirror (Tatoeba)")
        return tok, info
    return _auto_tokenizer(spec, spec)


def _auto_tokenizer(path: str, spec: str) -> tuple[Any, dict[str, Any]]:
    import os

    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(path, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError, EnvironmentError, TypeError) as e:
        hint = "" if os.path.exists(path) else " (not a local folder; a Hub id needs internet)"
        raise ModelLoadError(f"cannot load tokenizer '{spec}'{hint}: {e}") from e
    if not getattr(tok, "is_fast", False):
        raise ModelLoadError(f"tokenizer '{spec}' is not a fast tokenizer; word ids need one")
    return tok, {"path": path, "label": spec}


def tokenizer_info(spec: str, tok: Any, details: dict[str, Any]) -> TokenizerInfo:
    import hashlib

    from ..analyses import vocabulary as V

    vocab = tok.convert_ids_to_tokens(list(range(len(tok))))
    label = str(details.get("label", spec))
    return TokenizerInfo(
        spec=spec, label=label, vocab_size=len(tok),
        fingerprint=hashlib.sha256(tok.backend_tokenizer.to_str().encode("utf-8")).hexdigest(),
        vocab_script_shares=V.script_shares(vocab, special=tok.all_special_tokens),
        details={str(k): str(v) for k, v in details.items() if k != "label"},
    )


def load_tokenizers(config: VocabConfig, encoder: Any = None) -> list[tuple[Any, TokenizerInfo]]:
    """Every tokenizer, loaded before anything is measured; a given ``encoder``'s tokenizer
    stands in for the first spec (the demo passes the model it already loaded)."""
    out = []
    for i, spec in enumerate(config.tokenizers):
        if i == 0 and encoder is not None:
            tok = encoder.tokenizer
            details = {"label": f"{encoder.label} (the given encoder's tokenizer)", "model_id": encoder.model_id}
        else:
            tok, details = load_tokenizer(spec)
        out.append((tok, tokenizer_info(spec, tok, details)))
    return out


# ============================================================================ measuring


def corpus_stats(tok: Any, c: Corpus, info: TokenizerInfo) -> tuple[CorpusStats, Any]:
    """Stats of one corpus and its subword counts (for overlaps)."""
    from ..analyses import vocabulary as V

    tc = V.tokenize_words(tok, c.sentences, lang=c.lang, segmentation=c.segmentation)
    st = V.language_stats(tc, vocab_size=info.vocab_size, vocab_script_share=info.vocab_script_shares)
    comparable = not (st.script in UNSPACED_SCRIPTS and c.segmentation.startswith("whitespace"))
    return CorpusStats(**asdict(st), word_measures_comparable=comparable, source=c.source), V.subword_counts(tc, c.mask)


def group_report(tok: Any, group: str, corpora: Sequence[Corpus], info: TokenizerInfo) -> GroupReport:
    from ..analyses import vocabulary as V

    stats, counts = [], {}
    for c in corpora:
        st, counts[c.lang] = corpus_stats(tok, c, info)
        stats.append(st)
    mats = {}
    for m in (V.PairMeasure.JACCARD, V.PairMeasure.WEIGHTED_JACCARD):
        _, mat = V.pairwise_matrix(counts, m)
        mats[m.value] = tuple(tuple(float(x) for x in row) for row in mat.round(6))
    return GroupReport(group, tuple(c.lang for c in corpora), tuple(stats), mats["jaccard"], mats["weighted_jaccard"])


def target_measures(tok: Any, src: Any, c: Corpus, corpus: str, info: TokenizerInfo) -> TargetMeasures:
    from ..analyses import vocabulary as V

    st, tgt = corpus_stats(tok, c, info)
    seen = V.seen_share(src, tgt)
    return TargetMeasures(corpus, st, V.jaccard(src, tgt), V.weighted_jaccard(src, tgt), seen.by_type, seen.by_token)


def extra_targets(config: VocabConfig, data: TransferData, groups: dict[str, list[Corpus]],
                  scores: dict[str, float]) -> dict[str, tuple[str, Corpus]]:
    """Scored languages without a test set in the suite, measured on the first corpus that has
    them (in :data:`GROUPS` order)."""
    out = {}
    for lang in scores:
        if lang in data.targets or lang == config.source:
            continue
        for g in GROUPS:
            hit = [c for c in groups.get(g, []) if c.lang == lang]
            if hit:
                out[lang] = (g, hit[0])
                break
    return out


def transfer_report(tok: Any, config: VocabConfig, data: TransferData, groups: dict[str, list[Corpus]],
                    scores: dict[str, float], info: TokenizerInfo) -> TransferReport:
    from ..analyses import vocabulary as V

    src = V.subword_counts(V.tokenize_words(tok, data.source.sentences, lang=config.source,
                                            segmentation=data.source.segmentation))
    per = {lang: target_measures(tok, src, c, config.suite, info) for lang, c in data.targets.items()}
    for lang, (g, c) in extra_targets(config, data, groups, scores).items():
        per[lang] = target_measures(tok, src, c, g, info)
    return TransferReport(config.source, data.source.source, config.suite, per)


def ner_report(tok: Any, data: TransferData) -> NerReport:
    from ..analyses import vocabulary as V

    def counts(c: Corpus) -> Any:
        tc = V.tokenize_words(tok, c.sentences, lang=c.lang, segmentation=c.segmentation)
        return V.subword_counts(tc, c.mask)

    src = counts(data.ner_source)
    per = {}
    for lang, c in data.ner_targets.items():
        ent = counts(c)
        per[lang] = EntityOverlap(V.entity_overlap(src, ent), len(ent), c.source)
    return NerReport("eng", data.ner_source.source, len(src), per)


# ============================================================================ correlations


def measure_values(measure: str, rep: TokenizerReport, source: str
                   ) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """(values, corpus, reasons) of one measure per language: values where defined, the corpus
    each came from, and why a language with a corpus has no value."""
    if measure == "entity_overlap":
        ner = rep.ner.per_language if rep.ner else {}
        where = {k: "masakhaner-v2" if "/masakhaner-v2/" in v.target_file else "masakhaner-v1" for k, v in ner.items()}
        return {k: v.entity_overlap for k, v in ner.items()}, where, {}
    cands: dict[str, tuple[str, Any]] = {}
    if rep.transfer_pos is not None:
        cands = {k: (v.corpus, v) for k, v in rep.transfer_pos.per_language.items()}
    elif measure in LANG_MEASURES:
        for g in GROUPS:
            for s in rep.groups[g].stats if g in rep.groups else ():
                cands.setdefault(s.lang, (g, s))
    values, corpus, why = {}, {}, {}
    for lang, (g, row) in cands.items():
        st = row.stats if isinstance(row, TargetMeasures) else row
        v = row.value(measure) if isinstance(row, TargetMeasures) else getattr(row, measure)
        if lang == source:
            why[lang] = "the source (training) language"
        elif measure in WORD_MEASURES and not st.word_measures_comparable:
            why[lang] = f"word measure not comparable: {st.segmentation} of an unspaced script ({st.script}) in {g}"
        elif v is None:
            why[lang] = f"'{measure}' is undefined for it"
        else:
            values[lang], corpus[lang] = float(v), g
    return values, corpus, why


def correlate_measure(measure: str, rep: TokenizerReport, config: VocabConfig, scores: dict[str, float],
                      score_name: str) -> CorrelationReport:
    """One measure against the scores over every scored language with a value; the others are
    listed in ``excluded`` with the reason. InputError when fewer than 3 remain."""
    from ..analyses import vocabulary as V

    values, corpus, why = measure_values(measure, rep, config.source)
    excluded = {}
    for lang in scores:
        if lang not in values:
            excluded[lang] = why.get(lang) or ("no NER test set for it" if measure == "entity_overlap"
                                               else "no corpus for it (give one with corpora / --corpus)")
    shared = {k: v for k, v in values.items() if k in scores}
    c = V.correlate(shared, scores, measure_name=measure, score_name=score_name, n_boot=config.n_boot,
                    seed=config.seed)
    return CorrelationReport(**{f: getattr(c, f) for f in Correlation.__dataclass_fields__},
                             corpus={k: corpus[k] for k in c.languages}, excluded=excluded)


def correlations(rep: TokenizerReport, config: VocabConfig, scores: dict[str, float], score_name: str
                 ) -> tuple[tuple[CorrelationReport, ...], dict[str, str]]:
    done, skipped = [], {}
    for m in config.measures:
        try:
            done.append(correlate_measure(m, rep, config, scores, score_name))
        except InputError as e:  # < 3 languages or a constant side: say so, go on with the others
            skipped[m] = str(e)
    return tuple(done), skipped


# ============================================================================ the study


def measure_tokenizer(tok: Any, info: TokenizerInfo, config: VocabConfig, groups: dict[str, list[Corpus]],
                      data: TransferData | None, scores: dict[str, float], score_name: str) -> TokenizerReport:
    reps = {g: group_report(tok, g, cs, info) for g, cs in groups.items()}
    rep = TokenizerReport(info, reps)
    if data is not None:
        rep = TokenizerReport(info, reps, transfer_report(tok, config, data, groups, scores, info),
                              ner_report(tok, data))
    if scores:
        cors, skipped = correlations(rep, config, scores, score_name)
        rep = TokenizerReport(rep.tokenizer, rep.groups, rep.transfer_pos, rep.ner, cors, skipped)
    return rep


def datasets_used(groups: dict[str, list[Corpus]], data: TransferData | None) -> list[Any]:
    """Dataset provenance (files with sha256) of every corpus the study read."""
    from ..data.registry import dataset_provenance, file_sha256
    from ..results import DatasetProvenance

    out = []
    for g, cs in groups.items():
        if g == "corpus":
            files = {c.source: file_sha256(c.source) for c in cs}
            out.append(DatasetProvenance(name="user corpora", files=files, languages=tuple(c.lang for c in cs)))
        else:
            out.append(dataset_provenance(cs[0].dataset, [c.source for c in cs], languages=[c.lang for c in cs]))
    if data is not None:
        out.append(dataset_provenance("xtreme-udpos", [data.source.source], split="train", languages=[data.source.lang]))
        tg = list(data.targets.values())
        out.append(dataset_provenance(tg[0].dataset, [c.source for c in tg], split="test" if tg[0].dataset == "ud-pud"
                                      else "dev", languages=list(data.targets)))
        out.append(dataset_provenance("conll2003-en", [data.ner_source.source], split="train", languages=["eng"]))
        for name in sorted({c.dataset for c in data.ner_targets.values()}):
            tg = [c for c in data.ner_targets.values() if c.dataset == name]
            out.append(dataset_provenance(name, [c.source for c in tg], split="test", languages=[c.lang for c in tg]))
    return out


def language_names(reports: Sequence[TokenizerReport], scores: dict[str, float]) -> dict[str, str]:
    """Every language code in the result -> its name, or 'unknown' when the table lacks it."""
    from ..languages import get_language, is_known

    codes = set(scores)
    for r in reports:
        codes |= {s.lang for g in r.groups.values() for s in g.stats}
        codes |= set(r.transfer_pos.per_language) if r.transfer_pos else set()
        codes |= set(r.ner.per_language) if r.ner else set()
    return {c: (get_language(c).name if is_known(c) else "unknown") for c in sorted(codes)}


def vocab(config: VocabConfig, *, encoder: Any = None, store: Any = None) -> VocabResult:
    """Measure every tokenizer on every corpus the config selects (``store`` is unused: no
    vectors are computed; ``encoder``: its tokenizer replaces ``tokenizers[0]``)."""
    from ..data.registry import file_sha256

    groups = read_corpora(config)
    raw = read_scores(config.scores, config.score_field, config.suite) if config.scores else {}
    scores = scores_by_code(raw, config.scores)
    data = read_transfer_data(config) if config.transfer_data else None
    toks = load_tokenizers(config, encoder)
    score_name = f"transfer score ({Path(config.scores).name})" if config.scores else ""
    reports = tuple(measure_tokenizer(tok, info, config, groups, data, scores, score_name) for tok, info in toks)
    prov = make_provenance(config, encoder=encoder, datasets=datasets_used(groups, data))
    return VocabResult(
        provenance=prov, tokenizers=reports, scores=scores, scores_file=config.scores,
        scores_sha256=file_sha256(config.scores) if config.scores else None,
        language_names=language_names(reports, scores), conventions=dict(CONVENTIONS),
    )


run = vocab


# ============================================================================ tables


TABLE_COLS = ("lang", "segmentation", "n_words", "fertility", "fertility_with_marker", "continued_share",
              "lone_marker_share", "unk_rate", "chars_per_subword", "distinct_subwords", "script",
              "vocab_share_own_script")


def _cell(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else ("" if v is None else str(v))


def stats_table(stats: Sequence[CorpusStats], fmt: str = "md", label: str = "") -> str:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(("tokenizer",) + TABLE_COLS)
        for s in stats:
            w.writerow([label] + [_cell(getattr(s, c)) for c in TABLE_COLS])
        return buf.getvalue()
    lines = ["| " + " | ".join(TABLE_COLS) + " |", "|" + "---|" * len(TABLE_COLS)]
    lines += ["| " + " | ".join(_cell(getattr(s, c)) for c in TABLE_COLS) + " |" for s in stats]
    return "\n".join(lines) + "\n"


def correlation_line(c: CorrelationReport) -> str:
    out = (f"{c.measure} vs {c.score}: n={c.n} ({', '.join(c.languages)}), Pearson {c.pearson:.3f} "
           f"[{c.pearson_ci[0]:.3f}, {c.pearson_ci[1]:.3f}], Spearman {c.spearman:.3f} "
           f"[{c.spearman_ci[0]:.3f}, {c.spearman_ci[1]:.3f}] ({c.ci_level:.0%} bootstrap CI)")
    if c.excluded:
        out += "; left out: " + "; ".join(f"{k}: {v}" for k, v in c.excluded.items())
    return out


def tokenizer_table(rep: TokenizerReport, fmt: str = "md") -> str:
    """Every group's stats table, the transfer-data measures and the correlations of one tokenizer."""
    spec = rep.tokenizer.spec
    if fmt == "csv":
        return "".join(stats_table(r.stats, "csv", spec) for r in rep.groups.values())
    parts = [f"## {g} ({spec})\n\n" + stats_table(r.stats) for g, r in rep.groups.items()]
    if rep.transfer_pos is not None:
        tp = rep.transfer_pos
        rows = ["| lang | corpus | fertility | continued_share | unk_rate | jaccard | weighted_jaccard | seen_type"
                " | seen_token |", "|---|---|---|---|---|---|---|---|---|"]
        for lg, v in tp.per_language.items():
            rows.append(f"| {lg} | {v.corpus} | {v.stats.fertility:.3f} | {v.stats.continued_share:.3f} | "
                        f"{v.stats.unk_rate:.4f} | {v.jaccard:.3f} | {v.weighted_jaccard:.3f} | "
                        f"{v.seen_type:.3f} | {v.seen_token:.3f} |")
        parts.append(f"## POS targets ({tp.suite}) vs {tp.source} UD-POS train ({spec})\n\n" + "\n".join(rows) + "\n")
    parts += [f"- {correlation_line(c)}" for c in rep.correlations]
    parts += [f"- {m}: not computed: {why}" for m, why in rep.correlations_skipped.items()]
    return "\n".join(parts) + "\n"


def comparison_table(result: VocabResult) -> str:
    """Markdown: per group, every tokenizer's headline stats side by side."""
    cols = ("fertility", "continued_share", "unk_rate", "chars_per_subword", "distinct_subwords")
    lines = []
    for g in GROUPS:
        have = [t for t in result.tokenizers if g in t.groups]
        if not have:
            continue
        lines.append(f"## {g}\n")
        head = ["lang", "segmentation"] + [f"{c} [{t.tokenizer.spec}]" for c in cols for t in have]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i, lang in enumerate(have[0].groups[g].languages):
            row = [lang, have[0].groups[g].stats[i].segmentation]
            row += [_cell(getattr(t.groups[g].stats[i], c)) for c in cols for t in have]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "VocabConfig", "VocabResult", "TokenizerReport", "TokenizerInfo", "GroupReport", "CorpusStats",
    "TargetMeasures", "TransferReport", "NerReport", "EntityOverlap", "CorrelationReport", "vocab", "run",
    "read_scores", "load_tokenizer", "pud_files", "tatoeba_files", "comparison_table", "tokenizer_table",
    "stats_table", "MEASURES", "DEFAULT_MEASURES", "SUITES",
]
