"""Tokenizer statistics, shared-vocabulary measures and their correlation with transfer.

Pure functions: they receive a tokenizer *object* (any fast ``transformers`` tokenizer, never
loaded here), words and counts, and return frozen records. The measures follow the papers that
asked whether shared subwords explain cross-lingual transfer:

* per language (Rust et al. 2021): fertility (subwords per word), share of continued words
  (words split into two or more pieces), UNK rate, characters per subword, distinct subwords
  used, and the share of the vocabulary written in the language's script;
* per language pair: Jaccard overlap of the subword types used and a frequency-weighted
  variant (Ruzicka similarity of the relative frequencies); Wu & Dredze (2019)'s share of the
  target test subwords, by type and by token, that occur in the source training data; Pires
  et al. (2019)'s overlap of the subwords inside entities, ``|E_src & E_tgt| / |E_src | E_tgt|``;
* Pearson and Spearman correlation of any per-language measure with per-language transfer
  scores, with seeded percentile-bootstrap confidence intervals over languages.

Conventions (documented once, used everywhere):

* Words are counted on *pre-split* input (``is_split_into_words=True``): the tokenizer never
  decides what a word is. For languages written without spaces the caller passes a gold
  segmentation and records which one in :attr:`TokenizedCorpus.segmentation`.
* A subword type is the piece string the tokenizer emits (``"##ing"`` and ``"ing"`` differ,
  as do ``"▁a"`` and ``"a"``): the vocabulary entry, not its surface text. Special tokens are
  never counted (``add_special_tokens=False``).
* The lone SentencePiece marker: given a word the tokenizer cannot start with a ``"▁x"`` piece,
  SentencePiece emits a bare ``"▁"`` piece and then the word's pieces (common before Chinese
  and Japanese words). It carries no content, so the headline ``fertility`` and
  ``continued_share`` **exclude** it, and ``fertility_with_marker`` /
  ``continued_share_with_marker`` report the count with it; ``lone_marker_share`` says how
  many words had one. Overlap measures always exclude it (every SentencePiece language would
  otherwise share the type ``"▁"``), and they exclude the UNK piece too.
* Scripts come from the Unicode ``Script`` property as implemented by the ``regex`` module
  (``\\p{Script=...}``). A piece's script is the single script of its letters once the
  markers (``"▁"``, ``"##"``) and Common/Inherited characters (digits, punctuation,
  combining marks) are ignored: ``"Common"`` if none is left, ``"Mixed"`` if several.

>>> from collections import Counter
>>> round(weighted_jaccard(Counter(a=3, b=1), Counter(a=1, b=1)), 4)   # min/max of 0.75/0.25 vs 0.5/0.5
0.6
>>> jaccard({"a", "b"}, {"b", "c"})
0.3333333333333333
"""

from __future__ import annotations

import math
from enum import Enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError

MARKER = "\u2581"  # SentencePiece word-boundary marker
WORDPIECE_CONT = "##"


# --------------------------------------------------------------------------------------------
# Unicode scripts


# Unicode 15 script names (long form, as the ``regex`` module spells them). Names the
# installed ``regex`` does not know are dropped at first use (older Unicode tables).
_SCRIPT_NAMES = (
    "Latin Cyrillic Arabic Han Hiragana Katakana Hangul Greek Hebrew Thai Devanagari Bengali "
    "Tamil Telugu Kannada Malayalam Gujarati Gurmukhi Oriya Sinhala Georgian Armenian Ethiopic "
    "Khmer Lao Myanmar Tibetan Mongolian Thaana Syriac Tifinagh Cherokee Canadian_Aboriginal "
    "Bopomofo Yi Javanese Balinese Sundanese Adlam Ahom Anatolian_Hieroglyphs Avestan Bamum "
    "Bassa_Vah Batak Bhaiksuki Brahmi Braille Buginese Buhid Carian Caucasian_Albanian Chakma "
    "Cham Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan Deseret Dives_Akuru Dogra Duployan "
    "Egyptian_Hieroglyphs Elbasan Elymaic Glagolitic Gothic Grantha Gunjala_Gondi "
    "Hanifi_Rohingya Hanunoo Hatran Imperial_Aramaic Inscriptional_Pahlavi "
    "Inscriptional_Parthian Kaithi Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khojki "
    "Khudawadi Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Mandaic "
    "Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive "
    "Meroitic_Hieroglyphs Miao Modi Mro Multani Nabataean Nag_Mundari Nandinagari New_Tai_Lue "
    "Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic "
    "Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic "
    "Old_Uyghur Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician "
    "Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting "
    "Sogdian Sora_Sompeng Soyombo Syloti_Nagri Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri "
    "Tangsa Tangut Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi "
    "Zanabazar_Square Common Inherited"
).split()

_NEUTRAL = frozenset({"Common", "Inherited"})


@lru_cache(maxsize=1)
def _script_regex() -> Any:
    import regex

    groups = []
    for name in _SCRIPT_NAMES:
        try:
            regex.compile(rf"\p{{Script={name}}}")
        except regex.error:
            continue
        groups.append(rf"(?P<{name}>\p{{Script={name}}})")
    return regex.compile("|".join(groups))


@lru_cache(maxsize=200_000)
def char_script(ch: str) -> str:
    """Unicode ``Script`` property of one character (``"Unknown"`` if unassigned).

    >>> char_script("ж"), char_script("中"), char_script("7"), char_script("\\u0301")
    ('Cyrillic', 'Han', 'Common', 'Inherited')
    """
    m = _script_regex().match(ch)
    return m.lastgroup if m is not None else "Unknown"


def strip_markers(piece: str) -> str:
    """The text of a piece without its word-boundary / continuation marker.

    >>> strip_markers("▁Haus"), strip_markers("##us"), strip_markers("ab")
    ('Haus', 'us', 'ab')
    """
    if piece.startswith(WORDPIECE_CONT) and len(piece) > len(WORDPIECE_CONT):
        return piece[len(WORDPIECE_CONT) :]
    return piece.replace(MARKER, "")


def piece_script(piece: str) -> str:
    """Script of a vocabulary piece: its one non-Common/Inherited script, else Common/Mixed.

    >>> piece_script("▁Haus"), piece_script("##ый"), piece_script("▁"), piece_script("a中")
    ('Latin', 'Cyrillic', 'Common', 'Mixed')
    """
    scripts = {char_script(c) for c in strip_markers(piece)} - _NEUTRAL
    if not scripts:
        return "Common"
    if len(scripts) > 1:
        return "Mixed"
    return next(iter(scripts))


def script_shares(pieces: Iterable[str], special: Iterable[str] = ()) -> dict[str, float]:
    """Share of pieces per script (special tokens under ``"Special"``), largest first.

    >>> script_shares(["▁a", "b", "ж", "[UNK]"], special=["[UNK]"])
    {'Latin': 0.5, 'Cyrillic': 0.25, 'Special': 0.25}
    """
    special = set(special)
    counts: Counter[str] = Counter()
    n = 0
    for p in pieces:
        counts["Special" if p in special else piece_script(p)] += 1
        n += 1
    if n == 0:
        return {}
    return {k: v / n for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def dominant_script(words: Iterable[str]) -> str:
    """The script of most letters in ``words`` (Common/Inherited characters ignored).

    >>> dominant_script(["Привет", "мир", "OK"])
    'Cyrillic'
    """
    counts: Counter[str] = Counter()
    for w in words:
        for c in w:
            s = char_script(c)
            if s not in _NEUTRAL:
                counts[s] += 1
    if not counts:
        return "Common"
    return max(sorted(counts), key=lambda s: counts[s])


# --------------------------------------------------------------------------------------------
# Tokenization of pre-split words


@dataclass(frozen=True)
class TokenizedCorpus:
    """Words of one language and the pieces the tokenizer made of each word.

    ``pieces[i]`` are the pieces of ``words[i]`` as emitted (lone markers included), except that
    a piece with the UNK id is spelled as the UNK token;
    ``sentence_lengths`` splits the flat word list back into sentences. A word the tokenizer
    produced no piece for (e.g. only characters its normaliser removes) keeps an empty tuple
    and is not counted as a word by the measures.
    """

    lang: str
    segmentation: str
    words: tuple[str, ...]
    pieces: tuple[tuple[str, ...], ...]
    sentence_lengths: tuple[int, ...]
    unk_token: str | None = None

    def __post_init__(self) -> None:
        if len(self.words) != len(self.pieces):
            raise ValueError("words and pieces differ in length")
        if sum(self.sentence_lengths) != len(self.words):
            raise ValueError("sentence_lengths do not add up to the number of words")


def tokenize_words(
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    *,
    lang: str,
    segmentation: str,
    batch_size: int = 512,
) -> TokenizedCorpus:
    """Tokenize pre-split sentences with a fast tokenizer, keeping pieces per word.

    ``sentences`` is a list of word lists; empty strings are dropped. Raises
    :class:`InputError` when no sentence has a word (an empty corpus).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError("a fast tokenizer is needed (word ids map pieces to words)")
    clean = [[w for w in s if w] for s in sentences]
    clean = [s for s in clean if s]
    if not clean:
        raise InputError(f"empty corpus for language '{lang}': no sentence with a word")
    words: list[str] = []
    pieces: list[tuple[str, ...]] = []
    lengths: list[int] = []
    unk = getattr(tokenizer, "unk_token", None)
    unk_id = getattr(tokenizer, "unk_token_id", None)
    for b in range(0, len(clean), batch_size):
        batch = clean[b : b + batch_size]
        enc = tokenizer(batch, is_split_into_words=True, add_special_tokens=False, truncation=False)
        for i, sent in enumerate(batch):
            per_word: list[list[str]] = [[] for _ in sent]
            for tok, tid, wid in zip(enc.tokens(i), enc["input_ids"][i], enc.word_ids(i)):
                if wid is not None:
                    # A Unigram (SentencePiece) model keeps an unknown character's own text as
                    # the token string but gives it the UNK id: the id decides, not the string.
                    per_word[wid].append(unk if unk_id is not None and tid == unk_id else tok)
            words.extend(sent)
            pieces.extend(tuple(p) for p in per_word)
            lengths.append(len(sent))
    return TokenizedCorpus(
        lang=lang,
        segmentation=segmentation,
        words=tuple(words),
        pieces=tuple(pieces),
        sentence_lengths=tuple(lengths),
        unk_token=unk,
    )


def content_pieces(pieces: Sequence[str]) -> list[str]:
    """Pieces of one word without lone ``"▁"`` markers.

    >>> content_pieces(["▁", "中", "国"]), content_pieces(["▁Ha", "us"])
    (['中', '国'], ['▁Ha', 'us'])
    """
    return [p for p in pieces if p != MARKER]


# --------------------------------------------------------------------------------------------
# Per-language statistics


@dataclass(frozen=True)
class LanguageStats:
    """Tokenizer statistics of one language (see the module docstring for conventions)."""

    lang: str
    segmentation: str
    n_sentences: int
    n_words: int  # words with at least one piece
    n_words_without_pieces: int  # words the tokenizer made nothing of (not counted)
    n_subwords: int  # lone markers excluded
    fertility: float  # subwords per word, lone markers excluded
    fertility_with_marker: float  # lone markers counted as subwords
    continued_share: float  # words with >= 2 pieces (lone markers excluded)
    continued_share_with_marker: float
    lone_marker_share: float  # words with a lone "▁" piece
    unk_rate: float  # UNK pieces / subwords
    unk_word_rate: float  # words with at least one UNK piece / words
    chars_per_subword: float  # characters of the words / subwords
    distinct_subwords: int  # subword types used (lone marker excluded)
    vocab_used_share: float | None  # distinct_subwords / vocabulary size
    script: str  # dominant script of the language's words
    vocab_share_own_script: float | None  # share of the vocabulary written in that script


def language_stats(
    corpus: TokenizedCorpus,
    vocab_size: int | None = None,
    vocab_script_share: Mapping[str, float] | None = None,
) -> LanguageStats:
    """Per-language measures of a tokenized corpus.

    ``vocab_size`` and ``vocab_script_share`` (from :func:`script_shares` over the whole
    vocabulary) fill the vocabulary-relative fields; without them those are ``None``.
    """
    n_words = n_sub = n_sub_m = cont = cont_m = lone = unk = unk_words = chars = empty = 0
    types: set[str] = set()
    for word, ps in zip(corpus.words, corpus.pieces):
        content = content_pieces(ps)
        if not content:
            empty += 1
            continue
        n_words += 1
        k = len(content)
        n_sub += k
        n_sub_m += len(ps)
        cont += k >= 2
        cont_m += len(ps) >= 2
        lone += len(ps) != k
        n_unk = sum(p == corpus.unk_token for p in content) if corpus.unk_token else 0
        unk += n_unk
        unk_words += n_unk > 0
        chars += len(word)
        types.update(content)
    if n_words == 0:
        raise InputError(f"empty corpus for language '{corpus.lang}': the tokenizer produced no pieces")
    script = dominant_script(corpus.words)
    own = None
    if vocab_script_share is not None:
        own = float(vocab_script_share.get(script, 0.0))
    return LanguageStats(
        lang=corpus.lang,
        segmentation=corpus.segmentation,
        n_sentences=len(corpus.sentence_lengths),
        n_words=n_words,
        n_words_without_pieces=empty,
        n_subwords=n_sub,
        fertility=n_sub / n_words,
        fertility_with_marker=n_sub_m / n_words,
        continued_share=cont / n_words,
        continued_share_with_marker=cont_m / n_words,
        lone_marker_share=lone / n_words,
        unk_rate=unk / n_sub,
        unk_word_rate=unk_words / n_words,
        chars_per_subword=chars / n_sub,
        distinct_subwords=len(types),
        vocab_used_share=(len(types) / vocab_size) if vocab_size else None,
        script=script,
        vocab_share_own_script=own,
    )


# --------------------------------------------------------------------------------------------
# Overlap measures


def subword_counts(
    corpus: TokenizedCorpus, mask: Sequence[bool] | None = None, include_unk: bool = False
) -> Counter[str]:
    """Counts of subword types for overlap measures; ``mask`` keeps only some words.

    Lone markers are excluded, and so is the UNK piece unless ``include_unk``: two languages
    do not *share* a subword because both have characters the vocabulary lacks. ``mask``
    aligns with ``corpus.words`` (for example "this word is inside an entity").
    """
    if mask is not None and len(mask) != len(corpus.words):
        raise ValueError(f"mask has {len(mask)} entries for {len(corpus.words)} words")
    c: Counter[str] = Counter()
    for i, ps in enumerate(corpus.pieces):
        if mask is None or mask[i]:
            c.update(content_pieces(ps))
    if not include_unk and corpus.unk_token is not None:
        c.pop(corpus.unk_token, None)
    return c


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """|A & B| / |A | B| of two type sets (0.0 when both are empty)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def weighted_jaccard(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """Frequency-weighted Jaccard (Ruzicka): sum min(p_a, p_b) / sum max(p_a, p_b).

    ``p`` are relative frequencies, so corpus size does not matter; 1.0 means identical
    subword distributions, 0.0 no shared type.
    """
    na, nb = sum(a.values()), sum(b.values())
    if na == 0 or nb == 0:
        return 0.0
    num = den = 0.0
    for t in set(a) | set(b):
        pa, pb = a.get(t, 0) / na, b.get(t, 0) / nb
        num += min(pa, pb)
        den += max(pa, pb)
    return num / den if den else 0.0


@dataclass(frozen=True)
class SeenShare:
    """Wu & Dredze (2019): target test subwords that occur in the source training data."""

    by_type: float  # share of target subword types seen in the source
    by_token: float  # share of target subword tokens whose type was seen in the source


def seen_share(source_train: Mapping[str, int], target_test: Mapping[str, int]) -> SeenShare:
    """Share of ``target_test`` subwords, by type and by token, present in ``source_train``.

    >>> seen_share({"a": 5, "b": 1}, {"a": 3, "c": 1})
    SeenShare(by_type=0.5, by_token=0.75)
    """
    types = [t for t, n in target_test.items() if n > 0]
    total = sum(target_test[t] for t in types)
    if not types:
        raise InputError("the target corpus has no subwords")
    seen = [t for t in types if source_train.get(t, 0) > 0]
    return SeenShare(by_type=len(seen) / len(types), by_token=sum(target_test[t] for t in seen) / total)


def entity_overlap(source_entity_types: Iterable[str], target_entity_types: Iterable[str]) -> float:
    """Pires et al. (2019): |E_src & E_tgt| / |E_src | E_tgt| over subwords inside entities."""
    return jaccard(source_entity_types, target_entity_types)


class PairMeasure(str, Enum):
    """Pair measures over subword count tables."""

    JACCARD = "jaccard"
    WEIGHTED_JACCARD = "weighted_jaccard"
    SEEN_TYPE = "seen_type"  # Wu & Dredze, by type (asymmetric: row = source, column = target)
    SEEN_TOKEN = "seen_token"  # Wu & Dredze, by token (asymmetric)


def pair_measure(measure: PairMeasure | str, source: Mapping[str, int], target: Mapping[str, int]) -> float:
    """One pair measure between two count tables (source first for the asymmetric ones)."""
    try:
        m = PairMeasure(measure)
    except ValueError:
        from ..errors import choice_error

        raise choice_error("overlap measure", measure, [x.value for x in PairMeasure]) from None
    if m is PairMeasure.JACCARD:
        return jaccard(source, target)
    if m is PairMeasure.WEIGHTED_JACCARD:
        return weighted_jaccard(source, target)
    s = seen_share(source, target)
    return s.by_type if m is PairMeasure.SEEN_TYPE else s.by_token


def pairwise_matrix(
    counts: Mapping[str, Mapping[str, int]], measure: PairMeasure | str = PairMeasure.JACCARD
) -> tuple[list[str], np.ndarray]:
    """Languages (in the given order) and ``M[i, j] = measure(source=lang_i, target=lang_j)``.

    Vectorised over a [languages x types] frequency matrix; equal to calling
    :func:`pair_measure` on every pair (a test checks this).
    """
    try:
        m = PairMeasure(measure)
    except ValueError:
        from ..errors import choice_error

        raise choice_error("overlap measure", measure, [x.value for x in PairMeasure]) from None
    langs = list(counts)
    index: dict[str, int] = {}
    for c in counts.values():
        for t in c:
            index.setdefault(t, len(index))
    freq = np.zeros((len(langs), max(1, len(index))), dtype=np.float64)
    for i, lang in enumerate(langs):
        c = counts[lang]
        if c:
            freq[i, [index[t] for t in c]] = [c[t] for t in c]
    present = freq > 0
    out = np.zeros((len(langs), len(langs)))
    if m is PairMeasure.JACCARD:
        b = present.astype(np.float64)
        inter = b @ b.T
        sizes = b.sum(axis=1)
        union = sizes[:, None] + sizes[None, :] - inter
        np.divide(inter, union, out=out, where=union > 0)
    elif m is PairMeasure.WEIGHTED_JACCARD:
        tot = freq.sum(axis=1, keepdims=True)
        p = np.divide(freq, tot, out=np.zeros_like(freq), where=tot > 0)
        for i in range(len(langs)):
            num = np.minimum(p[i], p[i:]).sum(axis=1)
            den = np.maximum(p[i], p[i:]).sum(axis=1)
            row = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
            out[i, i:] = row
            out[i:, i] = row
    else:
        # row = source, column = target: share of the target's types / tokens seen in the source
        src_has = present.astype(np.float64)
        if m is PairMeasure.SEEN_TYPE:
            tgt = present.astype(np.float64)
        else:
            tgt = freq
        seen = src_has @ tgt.T  # [source, target]
        total = tgt.sum(axis=1)
        if np.any(total == 0):
            bad = [langs[i] for i in np.flatnonzero(total == 0)]
            raise InputError(f"no subwords for language(s) {bad}")
        out = seen / total[None, :]
    return langs, out


# --------------------------------------------------------------------------------------------
# Correlation with transfer scores


@dataclass(frozen=True)
class Correlation:
    """Pearson and Spearman correlation of a per-language measure with transfer scores.

    Confidence intervals: percentile bootstrap over languages (resampled with replacement,
    ``n_boot`` times, ``numpy.random.default_rng(seed)``); resamples in which either side is
    constant have no correlation and are left out (``n_boot_used`` says how many remained).
    """

    measure: str
    score: str
    languages: tuple[str, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    n: int
    pearson: float
    pearson_p: float
    pearson_ci: tuple[float, float]
    spearman: float
    spearman_p: float
    spearman_ci: tuple[float, float]
    ci_level: float
    n_boot: int
    n_boot_used: int
    seed: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    d = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return float((x * y).sum() / d) if d > 0 else float("nan")


def _ranks(v: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(v, axis=-1)


def correlate(
    measure: Mapping[str, float],
    scores: Mapping[str, float],
    *,
    measure_name: str = "measure",
    score_name: str = "score",
    n_boot: int = 2000,
    seed: int = 0,
    ci_level: float = 0.95,
) -> Correlation:
    """Correlate ``measure[lang]`` with ``scores[lang]`` over the languages both have.

    Raises :class:`InputError` with fewer than 3 shared languages or a constant side.
    """
    from scipy import stats

    langs = sorted(k for k in set(measure) & set(scores) if _finite(measure[k]) and _finite(scores[k]))
    if len(langs) < 3:
        raise InputError(
            f"correlation of '{measure_name}' needs at least 3 languages with both a measure and a "
            f"score; shared: {langs or 'none'} (measure has {sorted(measure)}, scores have {sorted(scores)})"
        )
    if not 0 < ci_level < 1:
        raise ConfigError(f"ci_level must be in (0, 1), got {ci_level}")
    x = np.array([float(measure[k]) for k in langs])
    y = np.array([float(scores[k]) for k in langs])
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise InputError(f"'{measure_name}' or '{score_name}' is constant over {langs}: no correlation")
    pr = stats.pearsonr(x, y)
    sr = stats.spearmanr(x, y)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(langs), size=(n_boot, len(langs)))
    xb, yb = x[idx], y[idx]
    ok = (np.ptp(xb, axis=1) > 0) & (np.ptp(yb, axis=1) > 0)
    pb = np.array([_pearson(a, b) for a, b in zip(xb[ok], yb[ok])])
    rxb, ryb = _ranks(xb[ok]), _ranks(yb[ok])
    sb = np.array([_pearson(a, b) for a, b in zip(rxb, ryb)])
    lo, hi = 100 * (1 - ci_level) / 2, 100 * (1 + ci_level) / 2
    notes = []
    if len(langs) < 10:
        notes.append(f"only {len(langs)} languages: the intervals are wide and p-values approximate")

    def ci(v: np.ndarray) -> tuple[float, float]:
        v = v[np.isfinite(v)]
        if v.size == 0:
            return (float("nan"), float("nan"))
        return (float(np.percentile(v, lo)), float(np.percentile(v, hi)))

    return Correlation(
        measure=measure_name,
        score=score_name,
        languages=tuple(langs),
        x=tuple(float(v) for v in x),
        y=tuple(float(v) for v in y),
        n=len(langs),
        pearson=float(pr[0]),
        pearson_p=float(pr[1]),
        pearson_ci=ci(pb),
        spearman=float(sr[0]),
        spearman_p=float(sr[1]),
        spearman_ci=ci(sb),
        ci_level=ci_level,
        n_boot=n_boot,
        n_boot_used=int(ok.sum()),
        seed=seed,
        notes=tuple(notes),
    )


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
