"""Loaders for every format of the data mirror, returning plain frozen records.

Generic readers take file paths; the ``load_*`` functions take a language (ISO 639-3 or
the dataset's own two-letter code) and find the files in the data root
(``$MBERT_LAB_DATA``). Every reader validates what it reads and raises
:class:`~mbert_lab.errors.InputError` naming the file, the 1-based line and the bad value.

=====================  ==========================================  =====================
format                 generic reader                              dataset loaders
=====================  ==========================================  =====================
line-aligned parallel  :func:`read_parallel`                       :func:`load_tatoeba`
``src ||| tgt`` + gold :func:`read_alignment`                      :func:`load_gold_alignment`
CoNLL-U                :func:`read_conllu`                         :func:`load_pud`, :func:`load_pud_parallel`
``word<TAB>UPOS``      :func:`read_tagged_tsv`                     :func:`load_udpos`
``token label`` IOB2   :func:`read_conll_ner`                      :func:`load_ner`
XNLI / PAWS-X tsv      :func:`read_xnli_tsv`, :func:`read_pawsx_tsv`  :func:`load_xnli`, :func:`load_pawsx`
``src<TAB>tgt`` dict   :func:`read_dictionary`                     :func:`load_muse`
=====================  ==========================================  =====================

Lines are split on ``\\n`` only (never ``str.splitlines``, which also splits on U+2028,
U+0085 and friends inside a sentence); a trailing ``\\r`` (CRLF files) and a leading BOM
are removed.

>>> corpus = load_tatoeba("deu")                                 # doctest: +SKIP
>>> corpus.pairs[0].src, corpus.pairs[0].tgt                     # doctest: +SKIP
>>> gold = load_gold_alignment("enfr"); gold.index_base          # doctest: +SKIP
1
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, InputError, choice_error

PathLike = str | Path

UPOS_TAGS: frozenset[str] = frozenset(
    "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()
)
XNLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")
MUSE_CATEGORIES: dict[str, str] = {
    "n": "noun",
    "pn": "proper noun",
    "v": "verb",
    "a": "adjective/adverb",
    "o": "other",
    "nw": "invalid pair",
}
MUSE_RECOMMENDED: tuple[str, ...] = ("n", "v", "a", "o")
PAWSX_UNTRANSLATED = "NS"

# ============================================================================ reading lines


def read_lines(path: PathLike) -> list[str]:
    """The lines of a UTF-8 text file without line ends (``\\n``, ``\\r\\n``) or BOM.

    A final newline does not make an extra empty line. Invalid UTF-8 raises an InputError
    naming the line.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        from ..errors import DataMissingError

        raise DataMissingError(f"file not found: {p}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(
            f"not valid UTF-8 (byte {data[e.start]:#04x} at offset {e.start})", p, line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    return lines


# ============================================================================ parallel text


@dataclass(frozen=True)
class SentencePair:
    """One line-aligned pair; ``line`` is the 1-based line number in both files."""

    src: str
    tgt: str
    line: int


@dataclass(frozen=True)
class SkippedLine:
    """A line a loader left out on request, with why."""

    path: str
    line: int
    reason: str


@dataclass(frozen=True)
class ParallelCorpus:
    """Sentence pairs read from two line-aligned files.

    ``skipped`` lists what was left out (with ``empty='skip'``), as file:line.
    """

    src_lang: str
    tgt_lang: str
    src_path: str
    tgt_path: str
    pairs: tuple[SentencePair, ...]
    skipped: tuple[SkippedLine, ...] = ()

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        return iter(self.pairs)

    @property
    def src_sentences(self) -> list[str]:
        return [p.src for p in self.pairs]

    @property
    def tgt_sentences(self) -> list[str]:
        return [p.tgt for p in self.pairs]


def read_parallel(
    src_path: PathLike,
    tgt_path: PathLike,
    *,
    src_lang: str = "src",
    tgt_lang: str = "tgt",
    empty: Literal["error", "skip"] = "error",
) -> ParallelCorpus:
    """Read two line-aligned files (line n of one translates line n of the other).

    Different line counts raise an InputError naming both files and counts. An empty
    (or whitespace-only) line on either side raises an InputError at that file:line, or
    with ``empty='skip'`` drops the pair and records it in ``skipped``. Punctuation-only
    lines are sentences and are kept.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.deu").write_text("Hallo!\\n...\\n"); _ = (d / "a.eng").write_text("Hello!\\n...\\n")
    >>> [p.src for p in read_parallel(d / "a.deu", d / "a.eng")]
    ['Hallo!', '...']
    """
    if empty not in ("error", "skip"):
        raise choice_error("empty-line policy", empty, ["error", "skip"])
    a, b = read_lines(src_path), read_lines(tgt_path)
    if len(a) != len(b):
        raise InputError(
            f"line counts differ: {src_path} has {len(a)} lines, {tgt_path} has {len(b)} lines; "
            "line-aligned files must have the same number of lines",
            src_path,
        )
    pairs: list[SentencePair] = []
    skipped: list[SkippedLine] = []
    for i, (x, y) in enumerate(zip(a, b), start=1):
        bad = [
            (p, side)
            for p, side, s in ((src_path, "source", x), (tgt_path, "target", y))
            if not s.strip()
        ]
        if bad:
            if empty == "error":
                p, side = bad[0]
                raise InputError(
                    f"empty {side} line (pass empty='skip' to drop such pairs; they are then "
                    "listed in the corpus's .skipped)",
                    p,
                    i,
                )
            for p, side in bad:
                skipped.append(SkippedLine(str(p), i, f"empty {side} line; pair dropped"))
            continue
        pairs.append(SentencePair(x, y, i))
    return ParallelCorpus(
        src_lang, tgt_lang, str(src_path), str(tgt_path), tuple(pairs), tuple(skipped)
    )


# ============================================================================ word alignment


@dataclass(frozen=True)
class AlignedPair:
    """A tokenised sentence pair with its gold links, **0-based** (source index first).

    ``sure`` are ``i-j`` links; ``possible`` the ``ipj`` links (sure links not repeated).
    For AER, S = sure and P = sure | possible (:attr:`sure_or_possible`).
    """

    src_tokens: tuple[str, ...]
    tgt_tokens: tuple[str, ...]
    sure: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]]
    line: int

    @property
    def sure_or_possible(self) -> frozenset[tuple[int, int]]:
        return self.sure | self.possible


@dataclass(frozen=True)
class IndexBase:
    """The index convention of a gold file and why: ``source`` is ``detected`` or ``given``."""

    base: int
    source: str
    evidence: str


@dataclass(frozen=True)
class AlignmentGold:
    """A gold word-alignment set; links in ``pairs`` are 0-based whatever the file used."""

    name: str
    src_lang: str
    tgt_lang: str
    text_path: str
    gold_path: str
    pairs: tuple[AlignedPair, ...]
    index_base: int
    index_evidence: str

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        return iter(self.pairs)


def split_ascii_space(text: str) -> tuple[str, ...]:
    """Tokens separated by ASCII spaces (runs of spaces count once).

    Unlike ``str.split()`` this keeps U+3000 IDEOGRAPHIC SPACE and other Unicode spaces
    as (parts of) tokens, as the ja-en gold alignment needs.

    >>> split_ascii_space("a \\u3000 b  c ")
    ('a', '\\u3000', 'b', 'c')
    >>> len("a \\u3000 b".split())
    2
    """
    return tuple(t for t in text.split(" ") if t)


def read_alignment_text(path: PathLike) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Read ``source ||| target`` lines into token tuples (ASCII-space tokenisation)."""
    out = []
    for i, line in enumerate(read_lines(path), start=1):
        parts = line.split("|||")
        if len(parts) != 2:
            raise InputError(
                f"expected 'source ||| target' (one '|||'), found {len(parts) - 1} separators: {line[:80]!r}",
                path,
                i,
            )
        src, tgt = split_ascii_space(parts[0]), split_ascii_space(parts[1])
        if not src or not tgt:
            raise InputError(
                f"empty {'source' if not src else 'target'} side: {line[:80]!r}", path, i
            )
        out.append((src, tgt))
    return out


_LINK = re.compile(r"^(\d+)([-p])(\d+)$")


def read_pharaoh(path: PathLike) -> list[list[tuple[int, int, bool]]]:
    """Raw Pharaoh links per line: ``(i, j, sure)`` as written (not re-based).

    ``i-j`` is a sure link, ``ipj`` a possible one. An empty line means no links.
    """
    out: list[list[tuple[int, int, bool]]] = []
    for n, line in enumerate(read_lines(path), start=1):
        links = []
        for tok in line.replace("\t", " ").split(" "):
            if not tok:
                continue
            m = _LINK.match(tok)
            if not m:
                raise InputError(
                    f"bad link '{tok}': expected 'i-j' (sure) or 'ipj' (possible)", path, n
                )
            links.append((int(m.group(1)), int(m.group(3)), m.group(2) == "-"))
        out.append(links)
    return out


def detect_index_base(
    links: Sequence[Sequence[tuple[int, int, bool]]],
    lengths: Sequence[tuple[int, int]],
    gold_path: PathLike = "<gold>",
) -> IndexBase:
    """Decide whether gold links are 0- or 1-based, with the evidence.

    An index 0 anywhere means 0-based; an index equal to its sentence's length means
    1-based (it would be past the end if 0-based). Both at once is contradictory and
    neither is ambiguous: both raise an InputError (pass ``index_base`` to say which).
    """
    zero: tuple[int, str] | None = None
    full: tuple[int, str] | None = None
    n_zero = n_full = n_links = 0
    for ln, (sent, (ls, lt)) in enumerate(zip(links, lengths), start=1):
        for i, j, sure in sent:
            n_links += 1
            tok = f"{i}{'-' if sure else 'p'}{j}"
            if i == 0 or j == 0:
                n_zero += 1
                if zero is None:
                    zero = (ln, tok)
            if i == ls or j == lt:
                n_full += 1
                if full is None:
                    full = (ln, f"{tok}; source has {ls} tokens, target {lt}")
    if zero and full:
        raise InputError(
            f"gold indices fit neither convention: index 0 at line {zero[0]} (link {zero[1]}) "
            f"means 0-based, but an index equals its sentence length at line {full[0]} "
            f"(link {full[1]}) which means 1-based",
            gold_path,
            full[0],
        )
    if zero:
        return IndexBase(
            0,
            "detected",
            f"0-based: index 0 occurs in {n_zero} of {n_links} links, first at {gold_path}:{zero[0]} (link {zero[1]})",
        )
    if full:
        return IndexBase(
            1,
            "detected",
            f"1-based: no index is 0 in {n_links} links, and an index equals its sentence length "
            f"in {n_full} links, first at {gold_path}:{full[0]} (link {full[1]})",
        )
    raise InputError(
        f"cannot tell whether the gold links are 0- or 1-based: none of {n_links} links uses "
        "index 0 and none uses an index equal to its sentence length; pass index_base=0 or "
        "index_base=1",
        gold_path,
    )


def read_alignment(
    text_path: PathLike,
    gold_path: PathLike,
    *,
    index_base: int | None = None,
    name: str = "",
    src_lang: str = "src",
    tgt_lang: str = "tgt",
) -> AlignmentGold:
    """Read ``source ||| target`` text and its Pharaoh gold; links become 0-based.

    ``index_base=None`` detects the convention (:func:`detect_index_base`); 0 or 1
    overrides it. A link outside its sentence (after re-basing) raises an InputError with
    the gold file:line and the sentence length.
    """
    if index_base not in (None, 0, 1):
        raise ConfigError(f"index_base must be 0, 1 or None (detect), not {index_base!r}")
    texts = read_alignment_text(text_path)
    raw = read_pharaoh(gold_path)
    if len(texts) != len(raw):
        raise InputError(
            f"line counts differ: {text_path} has {len(texts)} sentence pairs, {gold_path} has "
            f"{len(raw)} lines of links",
            gold_path,
        )
    lengths = [(len(s), len(t)) for s, t in texts]
    if index_base is None:
        det = detect_index_base(raw, lengths, gold_path)
    else:
        det = IndexBase(
            int(index_base), "given", f"{index_base}-based: given by index_base={index_base}"
        )
    base = det.base
    pairs = []
    for n, ((src, tgt), links) in enumerate(zip(texts, raw), start=1):
        sure: set[tuple[int, int]] = set()
        poss: set[tuple[int, int]] = set()
        for i, j, is_sure in links:
            a, b = i - base, j - base
            tok = f"{i}{'-' if is_sure else 'p'}{j}"
            if a < 0 or b < 0:
                raise InputError(f"link {tok}: index 0 in a {base}-based gold file", gold_path, n)
            if a >= len(src) or b >= len(tgt):
                side, idx, ln = (
                    ("source", i, len(src)) if a >= len(src) else ("target", j, len(tgt))
                )
                raise InputError(
                    f"link {tok}: {side} index {idx} is beyond the sentence ({ln} tokens, "
                    f"{base}-based indices {base}..{ln - 1 + base})",
                    gold_path,
                    n,
                )
            (sure if is_sure else poss).add((a, b))
        pairs.append(AlignedPair(src, tgt, frozenset(sure), frozenset(poss - sure), n))
    return AlignmentGold(
        name=name or Path(gold_path).stem,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        text_path=str(text_path),
        gold_path=str(gold_path),
        pairs=tuple(pairs),
        index_base=base,
        index_evidence=f"{det.evidence} [{det.source}]",
    )


# ============================================================================ CoNLL-U


@dataclass(frozen=True)
class UDToken:
    """One syntactic word of a CoNLL-U sentence (multi-word ranges and empty nodes are
    not tokens). ``head`` is None where the file has ``_``."""

    id: int
    form: str
    lemma: str
    upos: str
    xpos: str
    feats: str
    head: int | None
    deprel: str
    misc: str


@dataclass(frozen=True)
class UDSentence:
    """A CoNLL-U sentence: ``sent_id`` and ``text`` from its comments, words, and where
    it starts (``path``:``line``)."""

    sent_id: str | None
    text: str | None
    tokens: tuple[UDToken, ...]
    path: str
    line: int

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(t.form for t in self.tokens)

    @property
    def upos(self) -> tuple[str, ...]:
        return tuple(t.upos for t in self.tokens)


_ID_RANGE = re.compile(r"^([1-9]\d*)-([1-9]\d*)$")
_ID_EMPTY = re.compile(r"^\d+\.[1-9]\d*$")


def read_conllu(path: PathLike, *, check_upos: bool = True) -> list[UDSentence]:
    """Read a CoNLL-U file: words with UPOS; ``# sent_id`` and ``# text`` kept.

    Multi-word token ranges (``1-2``) and empty nodes (``1.1``) are checked for form and
    skipped. A line without 10 tab-separated columns, a bad ID, IDs not running 1..n, an
    unknown UPOS (with ``check_upos``) or a bad HEAD raises an InputError at file:line.
    """
    sents: list[UDSentence] = []
    toks: list[UDToken] = []
    sent_id: str | None = None
    text: str | None = None
    start = 0
    seen_ids: set[str] = set()

    def flush(end_line: int) -> None:
        nonlocal toks, sent_id, text, start
        if start:
            if not toks:
                raise InputError("sentence has comments but no word lines", path, start)
            if sent_id is not None:
                if sent_id in seen_ids:
                    raise InputError(f"duplicate sent_id '{sent_id}'", path, start)
                seen_ids.add(sent_id)
            sents.append(UDSentence(sent_id, text, tuple(toks), str(path), start))
        toks, sent_id, text, start = [], None, None, 0

    lines = read_lines(path)
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            if line:
                raise InputError("whitespace-only line (a sentence break must be empty)", path, n)
            flush(n)
            continue
        if not start:
            start = n
        if line.startswith("#"):
            if toks:
                raise InputError("comment line inside a sentence (after its word lines)", path, n)
            key, eq, val = line[1:].partition("=")
            if eq:
                k = key.strip()
                if k == "sent_id":
                    sent_id = val.strip()
                elif k == "text":
                    text = val.strip()
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise InputError(
                f"expected 10 tab-separated columns, found {len(cols)}: {line[:80]!r}", path, n
            )
        tid = cols[0]
        if tid.isascii() and tid.isdigit() and tid[0] != "0":
            pass  # the common case: a word line
        elif _ID_RANGE.match(tid):
            a, b = map(int, _ID_RANGE.match(tid).groups())  # type: ignore[union-attr]
            if b < a or a != len(toks) + 1:
                raise InputError(
                    f"multi-word token range '{tid}' does not start at the next word {len(toks) + 1}",
                    path,
                    n,
                )
            continue
        elif _ID_EMPTY.match(tid):
            continue
        else:
            raise InputError(
                f"bad ID '{tid}': expected a word index, a range 'n-m' or an empty node 'n.k'",
                path,
                n,
            )
        i = int(tid)
        if i != len(toks) + 1:
            raise InputError(f"word ID {i} out of sequence: expected {len(toks) + 1}", path, n)
        form, lemma, upos, xpos, feats, head, deprel, _deps, misc = cols[1:]
        if check_upos and upos not in UPOS_TAGS:
            raise InputError(
                f"unknown UPOS '{upos}' for word '{form}'; valid: {', '.join(sorted(UPOS_TAGS))}",
                path,
                n,
            )
        if head == "_":
            h: int | None = None
        elif head.isdigit():
            h = int(head)
        else:
            raise InputError(f"bad HEAD '{head}': expected a word index or '_'", path, n)
        toks.append(UDToken(i, form, lemma, upos, xpos, feats, h, deprel, misc))
    flush(len(lines) + 1)
    return sents


# ============================================================================ tagged tokens


@dataclass(frozen=True)
class TaggedSentence:
    """Tokens with one tag each (UPOS or IOB2 NER), from ``path`` starting at ``line``.

    ``notes`` records what a loader changed (e.g. IOB2 repairs), as ``file:line: what``.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    path: str
    line: int
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.tokens)


def _sentences(lines: list[str], path: PathLike) -> Iterable[tuple[int, list[tuple[int, str]]]]:
    block: list[tuple[int, str]] = []
    for n, line in enumerate(lines, start=1):
        if line.strip():
            block.append((n, line))
            continue
        if line:
            raise InputError("whitespace-only line (a sentence break must be empty)", path, n)
        if block:
            yield block[0][0], block
            block = []
    if block:
        yield block[0][0], block


def read_tagged_tsv(
    path: PathLike, *, tagset: Iterable[str] | None = UPOS_TAGS
) -> list[TaggedSentence]:
    """Read ``word<TAB>TAG`` lines with blank lines between sentences (XTREME UD-POS).

    ``tagset`` (default: the 17 UPOS tags; None: any) is checked per line.
    """
    tags_ok = frozenset(tagset) if tagset is not None else None
    out: list[TaggedSentence] = []
    toks: list[str] = []
    tags: list[str] = []
    start = 0
    spath = str(path)
    for n, line in enumerate(read_lines(path), start=1):
        if not line:
            if toks:
                out.append(TaggedSentence(tuple(toks), tuple(tags), spath, start))
                toks, tags = [], []
            continue
        w, sep, t = line.partition("\t")
        if not sep or "\t" in t:
            if not line.strip():
                raise InputError("whitespace-only line (a sentence break must be empty)", path, n)
            raise InputError(
                f"expected 'word<TAB>tag', found {line.count(chr(9)) + 1} tab-separated fields: {line[:80]!r}",
                path,
                n,
            )
        if not w:
            raise InputError("empty word", path, n)
        if tags_ok is not None and t not in tags_ok:
            raise InputError(
                f"unknown tag '{t}' for word '{w}'; valid: {', '.join(sorted(tags_ok))}", path, n
            )
        if not toks:
            start = n
        toks.append(w)
        tags.append(t)
    if toks:
        out.append(TaggedSentence(tuple(toks), tuple(tags), spath, start))
    return out


_NER_TAG = re.compile(r"^(O|([BI])-([A-Za-z][A-Za-z0-9_]*))$")


def read_conll_ner(
    path: PathLike,
    *,
    types: Iterable[str] | None = None,
    iob: Literal["repair", "strict", "keep"] = "repair",
) -> list[TaggedSentence]:
    """Read CoNLL NER: ``token label`` per line (label = last space/tab-separated field),
    IOB2 labels, blank lines between sentences; ``-DOCSTART-`` lines are skipped.

    ``types`` restricts entity types (e.g. ``{"PER", "ORG", "LOC"}``). An ``I-X`` that
    does not continue an ``X`` entity breaks IOB2: ``iob='repair'`` (default) reads it as
    ``B-X`` (as conlleval and seqeval's default mode do) and notes file:line in the
    sentence's ``notes``; ``'strict'`` raises an InputError; ``'keep'`` leaves it.
    """
    if iob not in ("repair", "strict", "keep"):
        raise choice_error("IOB policy", iob, ["repair", "strict", "keep"])
    types_ok = frozenset(types) if types is not None else None
    out = []
    lines = [("" if ln.startswith("-DOCSTART-") else ln) for ln in read_lines(path)]
    for start, block in _sentences(lines, path):
        toks, tags, notes = [], [], []
        prev = "O"
        for n, line in block:
            cols = [c for c in re.split(r"[ \t]", line) if c]
            if len(cols) < 2:
                raise InputError(f"expected 'token label', found one field: {line[:80]!r}", path, n)
            tok, lab = cols[0], cols[-1]
            m = _NER_TAG.match(lab)
            if not m:
                raise InputError(f"bad label '{lab}': expected O, B-TYPE or I-TYPE (IOB2)", path, n)
            typ = m.group(3)
            if typ is not None and types_ok is not None and typ not in types_ok:
                raise InputError(
                    f"unknown entity type '{typ}' in '{lab}'; valid: {', '.join(sorted(types_ok))}",
                    path,
                    n,
                )
            if m.group(2) == "I" and prev[2:] != typ:
                if iob == "strict":
                    raise InputError(
                        f"'{lab}' after '{prev}' breaks IOB2 (an entity must start with B-)",
                        path,
                        n,
                    )
                if iob == "repair":
                    notes.append(f"{path}:{n}: '{lab}' after '{prev}' read as 'B-{typ}'")
                    lab = f"B-{typ}"
            toks.append(tok)
            tags.append(lab)
            prev = lab
        out.append(TaggedSentence(tuple(toks), tuple(tags), str(path), start, tuple(notes)))
    return out


# ============================================================================ sentence pairs


@dataclass(frozen=True)
class NliPair:
    """An XNLI item. ``item`` is the 0-based row, the same item in every language."""

    premise: str
    hypothesis: str
    label: str
    item: int
    path: str
    line: int


@dataclass(frozen=True)
class ParaphrasePair:
    """A PAWS-X item; ``label`` 1 = paraphrase. ``item`` is the 0-based row, the same item
    in every language."""

    sentence1: str
    sentence2: str
    label: int
    item: int
    path: str
    line: int

    @property
    def untranslated(self) -> bool:
        """True where a side is PAWS-X's 'NS' placeholder (translation not possible); such
        rows carry label 0 whatever the English label was."""
        return self.sentence1 == PAWSX_UNTRANSLATED or self.sentence2 == PAWSX_UNTRANSLATED


def _tsv3(path: PathLike) -> Iterable[tuple[int, str, str, str]]:
    for n, line in enumerate(read_lines(path), start=1):
        cols = line.split("\t")
        if len(cols) != 3:
            raise InputError(
                f"expected 3 tab-separated fields, found {len(cols)}: {line[:80]!r}", path, n
            )
        a, b, c = cols
        if not a.strip() or not b.strip():
            raise InputError(f"empty {'first' if not a.strip() else 'second'} sentence", path, n)
        yield n, a, b, c


def read_xnli_tsv(path: PathLike) -> list[NliPair]:
    """Read ``premise<TAB>hypothesis<TAB>label`` (label: entailment/neutral/contradiction)."""
    out = []
    for n, a, b, lab in _tsv3(path):
        if lab not in XNLI_LABELS:
            raise InputError(f"bad label '{lab}'; valid: {', '.join(XNLI_LABELS)}", path, n)
        out.append(NliPair(a, b, lab, len(out), str(path), n))
    return out


def read_pawsx_tsv(path: PathLike) -> list[ParaphrasePair]:
    """Read ``sentence1<TAB>sentence2<TAB>label`` (label 0 or 1)."""
    out = []
    for n, a, b, lab in _tsv3(path):
        if lab not in ("0", "1"):
            raise InputError(f"bad label '{lab}'; valid: 0, 1", path, n)
        out.append(ParaphrasePair(a, b, int(lab), len(out), str(path), n))
    return out


# ============================================================================ dictionaries


@dataclass(frozen=True)
class DictEntry:
    """One bilingual dictionary line; ``category`` is a MUSE part-of-speech code or None."""

    src: str
    tgt: str
    category: str | None
    path: str
    line: int


def read_dictionary(path: PathLike, *, category: str | None = None) -> list[DictEntry]:
    """Read ``source<TAB>target`` lines (one translation per line)."""
    out = []
    for n, line in enumerate(read_lines(path), start=1):
        cols = line.split("\t")
        if len(cols) == 1:
            cols = line.split()
        if len(cols) != 2 or not cols[0].strip() or not cols[1].strip():
            raise InputError(f"expected 'source<TAB>target', found {line[:80]!r}", path, n)
        out.append(DictEntry(cols[0], cols[1], category, str(path), n))
    return out


def translations(entries: Iterable[DictEntry]) -> dict[str, set[str]]:
    """source word -> its gold translations.

    >>> d = translations([DictEntry("haus", "house", "n", "-", 1), DictEntry("haus", "home", "n", "-", 2)])
    >>> sorted(d["haus"])
    ['home', 'house']
    """
    out: dict[str, set[str]] = {}
    for e in entries:
        out.setdefault(e.src, set()).add(e.tgt)
    return out


# ============================================================================ the mirror's datasets


def _card(name: str):
    from .registry import card

    return card(name)


def _file(name: str, rel: str, root: PathLike | None) -> Path:
    from .registry import require_file

    return require_file(name, rel, root)


def _pick(dataset: str, lang: str, natives: Sequence[str], what: str = "language") -> str:
    """Map a user's code (639-3, 639-1, alias or the dataset's own) to the dataset's code."""
    from ..languages import to_iso639_3

    if lang in natives:
        return lang
    iso = to_iso639_3(lang)  # unknown code -> did-you-mean error
    for n in natives:
        if to_iso639_3(n) == iso:
            return n
    raise choice_error(f"{what} of {dataset}", lang, natives)


def _codes(name: str, pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return sorted({m.group(1) for p in _card(name).files if (m := rx.fullmatch(p))})


# ---- Tatoeba


def tatoeba_languages() -> list[str]:
    """The 112 ISO 639-3 codes of the Tatoeba test sets (from the data card).

    >>> len(tatoeba_languages()), tatoeba_languages()[:3]
    (112, ['afr', 'amh', 'ang'])
    """
    return _codes("tatoeba", r"tatoeba/v1/tatoeba\.([a-z]{3})-eng\.[a-z]{3}")


def load_tatoeba(
    lang: str, *, root: PathLike | None = None, empty: Literal["error", "skip"] = "error"
) -> ParallelCorpus:
    """Tatoeba test pairs ``lang`` -> English (source = ``lang``, target = ``eng``)."""
    code = _pick("tatoeba", lang, tatoeba_languages())
    a = _file("tatoeba", f"tatoeba/v1/tatoeba.{code}-eng.{code}", root)
    b = _file("tatoeba", f"tatoeba/v1/tatoeba.{code}-eng.eng", root)
    return read_parallel(a, b, src_lang=code, tgt_lang="eng", empty=empty)


# ---- PUD


def pud_languages() -> list[str]:
    """The PUD languages of the mirror, as in the file names (``en``, ``de``, ...)."""
    return _codes("ud-pud", r"ud-pud/([a-z]{2,3})_pud-ud-test\.conllu")


def load_pud(lang: str, *, root: PathLike | None = None) -> dict[str, UDSentence]:
    """PUD sentences of one language keyed by ``sent_id`` (file order kept)."""
    code = _pick("ud-pud", lang, pud_languages())
    path = _file("ud-pud", f"ud-pud/{code}_pud-ud-test.conllu", root)
    out: dict[str, UDSentence] = {}
    for s in read_conllu(path):
        if s.sent_id is None:
            raise InputError(
                "sentence without '# sent_id' (needed to align PUD across languages)", path, s.line
            )
        out[s.sent_id] = s
    return out


@dataclass(frozen=True)
class ParallelSentence:
    """The same PUD sentence in several languages."""

    sent_id: str
    by_lang: dict[str, UDSentence]


def load_pud_parallel(
    langs: Sequence[str] | None = None,
    *,
    root: PathLike | None = None,
    missing: Literal["error", "intersect"] = "error",
) -> list[ParallelSentence]:
    """PUD sentences aligned across languages by ``sent_id`` (order of the first language).

    A ``sent_id`` absent from some language raises an InputError naming it and the
    language, unless ``missing='intersect'`` (then only ids present everywhere are kept).
    """
    codes = [_pick("ud-pud", x, pud_languages()) for x in (langs or pud_languages())]
    per = {c: load_pud(c, root=root) for c in codes}
    first = per[codes[0]]
    common = set(first)
    for c in codes[1:]:
        diff = set(first) ^ set(per[c])
        if diff and missing == "error":
            sid = sorted(diff)[0]
            where = codes[0] if sid not in first else c
            raise InputError(
                f"sent_id '{sid}' is missing from the {where} PUD file ({len(diff)} ids differ between "
                f"{codes[0]} and {c}); pass missing='intersect' to keep the common ids"
            )
        common &= set(per[c])
    return [
        ParallelSentence(sid, {c: per[c][sid] for c in codes}) for sid in first if sid in common
    ]


# ---- XTREME UD-POS


def udpos_languages(split: str = "dev") -> list[str]:
    """Languages with a UD-POS file for ``split`` ('train': en only; 'dev': seven)."""
    return _codes("xtreme-udpos", rf"xtreme-udpos/{re.escape(split)}-([a-z]{{2,3}})\.tsv")


def load_udpos(split: str, lang: str, *, root: PathLike | None = None) -> list[TaggedSentence]:
    """XTREME UD-POS sentences of ``split`` ('train' or 'dev') and ``lang``."""
    splits = _codes("xtreme-udpos", r"xtreme-udpos/([a-z]+)-[a-z]{2,3}\.tsv")
    if split not in splits:
        raise choice_error("split of xtreme-udpos", split, splits)
    code = _pick("xtreme-udpos", lang, udpos_languages(split), what=f"language with a {split} file")
    return read_tagged_tsv(_file("xtreme-udpos", f"xtreme-udpos/{split}-{code}.tsv", root))


# ---- XNLI and PAWS-X


def xnli_languages() -> list[str]:
    return _codes("xnli", r"xnli/dev-([a-z]{2,3})\.tsv")


def load_xnli(lang: str, split: str = "dev", *, root: PathLike | None = None) -> list[NliPair]:
    """XNLI items of one language (only 'dev' is mirrored). Parallel across languages:
    see :func:`parallel_item_split`."""
    if split != "dev":
        raise choice_error("split of xnli", split, ["dev"])
    code = _pick("xnli", lang, xnli_languages())
    return read_xnli_tsv(_file("xnli", f"xnli/dev-{code}.tsv", root))


def pawsx_languages() -> list[str]:
    return _codes("paws-x", r"paws-x/dev-([a-z]{2,3})\.tsv")


def load_pawsx(
    lang: str, split: str = "dev", *, root: PathLike | None = None
) -> list[ParaphrasePair]:
    """PAWS-X items of one language (only 'dev' is mirrored); see ``untranslated``."""
    if split != "dev":
        raise choice_error("split of paws-x", split, ["dev"])
    code = _pick("paws-x", lang, pawsx_languages())
    return read_pawsx_tsv(_file("paws-x", f"paws-x/dev-{code}.tsv", root))


@dataclass(frozen=True)
class ItemSplit:
    """Disjoint item indices for training (source language) and evaluation (others)."""

    train: tuple[int, ...]
    eval: tuple[int, ...]


def parallel_item_split(
    n_items: int,
    *,
    train_fraction: float = 0.5,
    seed: int = 0,
    groups: Sequence[Any] | None = None,
) -> ItemSplit:
    """Split the items of a parallel set (XNLI, PAWS-X) into disjoint train/eval indices.

    Train on ``train`` items in the source language and evaluate every language on the
    ``eval`` items only: the same row index is the same item in every language, so
    evaluating on a translation of a training item leaks. ``groups`` (one key per item,
    e.g. the English premise) keeps each group on one side.

    >>> s = parallel_item_split(6, groups=["a", "a", "a", "b", "b", "b"], seed=1)
    >>> sorted(s.train + s.eval), set(s.train) & set(s.eval)
    ([0, 1, 2, 3, 4, 5], set())
    """
    if not 0.0 < train_fraction < 1.0:
        raise ConfigError(f"train_fraction must be between 0 and 1, not {train_fraction}")
    keys = list(groups) if groups is not None else list(range(n_items))
    if len(keys) != n_items:
        raise ConfigError(f"groups has {len(keys)} keys for {n_items} items")
    order: list[Any] = []
    seen: set[Any] = set()
    for k in keys:
        if k not in seen:
            seen.add(k)
            order.append(k)
    random.Random(seed).shuffle(order)
    n_train = round(len(order) * train_fraction)
    train_keys = set(order[:n_train])
    train = tuple(i for i, k in enumerate(keys) if k in train_keys)
    evals = tuple(i for i, k in enumerate(keys) if k not in train_keys)
    return ItemSplit(train, evals)


# ---- NER


NER_TYPES: dict[str, frozenset[str]] = {
    "conll2003-en": frozenset({"PER", "ORG", "LOC"}),
    "masakhaner-v1": frozenset({"PER", "ORG", "LOC", "DATE"}),
}


def masakhaner_languages() -> list[str]:
    """The ten MasakhaNER 1.0 languages (ISO 639-3)."""
    return _codes("masakhaner-v1", r"ner/masakhaner-v1/([a-z]{3})/[a-z]+\.txt")


def load_ner(
    name: str,
    split: str,
    lang: str | None = None,
    *,
    root: PathLike | None = None,
    iob: Literal["repair", "strict", "keep"] = "repair",
) -> list[TaggedSentence]:
    """NER sentences: ``load_ner("conll2003-en", "train")`` or
    ``load_ner("masakhaner-v1", "test", "yor")``. See :func:`read_conll_ner` for ``iob``.
    """
    if name not in NER_TYPES:
        raise choice_error("NER dataset", name, NER_TYPES)
    if name == "conll2003-en":
        if lang is not None and _pick(name, lang, ["eng"]) != "eng":  # pragma: no cover
            raise ConfigError("conll2003-en is English only")
        splits = _codes(name, r"ner/conll2003-en/([a-z]+)\.txt")
        if split not in splits:
            raise choice_error("split of conll2003-en", split, splits)
        rel = f"ner/conll2003-en/{split}.txt"
    else:
        if lang is None:
            raise ConfigError(
                f"masakhaner-v1 needs a language; valid: {', '.join(masakhaner_languages())}"
            )
        code = _pick(name, lang, masakhaner_languages())
        splits = _codes(name, rf"ner/masakhaner-v1/{code}/([a-z]+)\.txt")
        if split not in splits:
            raise choice_error(f"split of masakhaner-v1/{code}", split, splits)
        rel = f"ner/masakhaner-v1/{code}/{split}.txt"
    return read_conll_ner(_file(name, rel, root), types=NER_TYPES[name], iob=iob)


# ---- MUSE


def muse_pairs() -> list[str]:
    """The MUSE language pairs of the mirror ('de-en', 'en-de', ...)."""
    return _codes("muse", r"muse/([a-z]{2}-[a-z]{2})\.5000-6500\.txt")


def muse_categories(pair: str) -> list[str]:
    """The part-of-speech categories annotated for ``pair`` (de-en: all six; es: pn, o)."""
    p = _muse_pair(pair)
    return _codes("muse", rf"muse/by-pos/{re.escape(p)}\.5000-6500\.([a-z]+)\.txt")


def _muse_pair(pair: str) -> str:
    pairs = muse_pairs()
    if pair in pairs:
        return pair
    a, sep, b = pair.replace("_", "-").partition("-")
    if sep:
        from ..languages import to_iso639_3

        want = (to_iso639_3(a), to_iso639_3(b))
        for p in pairs:
            x, _, y = p.partition("-")
            if (to_iso639_3(x), to_iso639_3(y)) == want:
                return p
    raise choice_error("MUSE pair", pair, pairs)


def load_muse(
    pair: str,
    categories: Iterable[str] | str | None = None,
    *,
    root: PathLike | None = None,
    dedupe: bool = True,
) -> list[DictEntry]:
    """MUSE 5000-6500 test entries of ``pair`` with their part-of-speech category.

    ``categories``: None = all categories of the pair; ``"recommended"`` = n, v, a, o (as
    the annotators advise; for en-es/es-en that is 'o'); or a list such as ``["n", "v"]``.
    ``dedupe`` drops repeated (source, target) lines within a category (de-en has 31);
    a pair filed under two categories stays once per category.
    """
    p = _muse_pair(pair)
    have = muse_categories(p)
    if categories is None:
        cats = have
    elif categories == "recommended":
        cats = [c for c in MUSE_RECOMMENDED if c in have]
    else:
        cats = [categories] if isinstance(categories, str) else list(categories)
        for c in cats:
            if c not in have:
                raise choice_error(f"MUSE category for {p}", c, have)
    out: list[DictEntry] = []
    for c in cats:
        entries = read_dictionary(
            _file("muse", f"muse/by-pos/{p}.5000-6500.{c}.txt", root), category=c
        )
        if dedupe:
            seen: set[tuple[str, str]] = set()
            kept = []
            for e in entries:
                if (e.src, e.tgt) not in seen:
                    seen.add((e.src, e.tgt))
                    kept.append(e)
            entries = kept
        out.extend(entries)
    return out


def load_muse_combined(pair: str, *, root: PathLike | None = None) -> list[DictEntry]:
    """The combined ``muse/<pair>.5000-6500.txt`` (all categories, sorted, no category)."""
    p = _muse_pair(pair)
    return read_dictionary(_file("muse", f"muse/{p}.5000-6500.txt", root))


# ---- gold alignments

ALIGNMENT_SETS: dict[str, tuple[str, str]] = {
    "enfr": ("eng", "fra"),
    "roen": ("ron", "eng"),
    "jaen": ("jpn", "eng"),
}


def alignment_sets() -> list[str]:
    """Names of the gold alignment sets: ``enfr``, ``jaen``, ``roen``."""
    return _codes("word-alignment", r"word-alignment/([a-z]+)\.gold")


def load_gold_alignment(
    name: str, *, index_base: int | None = None, root: PathLike | None = None
) -> AlignmentGold:
    """A gold alignment set by name (``enfr``, ``roen``, ``jaen``; ``en-fr`` works too).

    The index convention is detected (these files are 1-based) unless ``index_base`` is
    given; links come back 0-based, with the evidence in ``index_evidence``.
    """
    key = name.replace("-", "").replace("_", "").lower()
    have = alignment_sets()
    if key not in have:
        raise choice_error("gold alignment set", name, have)
    src, tgt = ALIGNMENT_SETS.get(key, ("src", "tgt"))
    return read_alignment(
        _file("word-alignment", f"word-alignment/{key}.src-tgt", root),
        _file("word-alignment", f"word-alignment/{key}.gold", root),
        index_base=index_base,
        name=key,
        src_lang=src,
        tgt_lang=tgt,
    )


# ============================================================================ helpers


def _plain(x: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, (frozenset, set)):
        return [_plain(v) for v in sorted(x)]
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    return x


def to_records(records: Any) -> list[dict[str, Any]]:
    """Plain dicts (lists instead of tuples and sets) of a loader's records or container.

    >>> to_records([SentencePair("a", "b", 1)])
    [{'src': 'a', 'tgt': 'b', 'line': 1}]
    """
    import dataclasses

    if isinstance(records, (ParallelCorpus, AlignmentGold)):
        records = records.pairs
    elif isinstance(records, dict):
        records = list(records.values())
    out = []
    for r in records:
        if isinstance(r, ParallelSentence):
            raise ConfigError(
                "to_records: give one language's load_pud() result, not aligned sentences"
            )
        if not (dataclasses.is_dataclass(r) and not isinstance(r, type)):
            raise ConfigError(
                f"to_records: expected loader records (dataclasses), got {type(r).__name__}"
            )
        out.append({f.name: _plain(getattr(r, f.name)) for f in dataclasses.fields(r)})
    return out


def to_hf_dataset(records: Any):
    """A ``datasets.Dataset`` of a loader's records (``datasets`` is imported here only).

    Works for lists of records and for ParallelCorpus / AlignmentGold (their ``pairs``);
    UD sentences keep their tokens as a list of dicts.
    """
    try:
        import datasets
    except ImportError as e:  # pragma: no cover
        raise ConfigError(
            "to_hf_dataset needs the 'datasets' package (pip install datasets)"
        ) from e
    return datasets.Dataset.from_list(to_records(records))


def dataset_provenance(name: str, files: Iterable[PathLike] | None = None, **kw: Any):
    """See :func:`mbert_lab.data.registry.dataset_provenance` (same arguments)."""
    from .registry import dataset_provenance as _dp

    return _dp(name, files, **kw)


__all__ = [
    "ALIGNMENT_SETS",
    "MUSE_CATEGORIES",
    "MUSE_RECOMMENDED",
    "NER_TYPES",
    "PAWSX_UNTRANSLATED",
    "UPOS_TAGS",
    "XNLI_LABELS",
    "AlignedPair",
    "AlignmentGold",
    "DictEntry",
    "IndexBase",
    "ItemSplit",
    "NliPair",
    "ParallelCorpus",
    "ParallelSentence",
    "ParaphrasePair",
    "SentencePair",
    "SkippedLine",
    "TaggedSentence",
    "UDSentence",
    "UDToken",
    "alignment_sets",
    "dataset_provenance",
    "detect_index_base",
    "load_gold_alignment",
    "load_muse",
    "load_muse_combined",
    "load_ner",
    "load_pawsx",
    "load_pud",
    "load_pud_parallel",
    "load_tatoeba",
    "load_udpos",
    "load_xnli",
    "masakhaner_languages",
    "muse_categories",
    "muse_pairs",
    "parallel_item_split",
    "pawsx_languages",
    "pud_languages",
    "read_alignment",
    "read_alignment_text",
    "read_conll_ner",
    "read_conllu",
    "read_dictionary",
    "read_lines",
    "read_parallel",
    "read_pawsx_tsv",
    "read_pharaoh",
    "read_tagged_tsv",
    "read_xnli_tsv",
    "split_ascii_space",
    "tatoeba_languages",
    "to_hf_dataset",
    "to_records",
    "translations",
    "udpos_languages",
    "xnli_languages",
]
