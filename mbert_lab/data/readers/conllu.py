"""CoNLL-U (Universal Dependencies): sentences of syntactic words with UPOS.

Blank lines separate sentences (a whitespace-only line is an error); ``# sent_id`` and
``# text`` comments are kept; multi-word ranges (``1-2``) and empty nodes (``1.1``) are
checked and skipped. Pure: no catalogue or registry import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from .text import read_lines, strip_ascii
from .writing import write_record_lines

PathLike = str | Path

UPOS_TAGS: frozenset[str] = frozenset(
    "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()
)


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


_ID_RANGE = re.compile(r"^([1-9]\d*)-([1-9]\d*)$", re.ASCII)
_ID_EMPTY = re.compile(r"^\d+\.[1-9]\d*$", re.ASCII)


class _Builder:
    def __init__(self, path: PathLike) -> None:
        self.path = path
        self.sents: list[UDSentence] = []
        self.seen: set[str] = set()
        self.reset()

    def reset(self) -> None:
        self.toks: list[UDToken] = []
        self.sent_id: str | None = None
        self.text: str | None = None
        self.start = 0

    def flush(self) -> None:
        if self.start:
            if not self.toks:
                raise InputError("sentence has comments but no word lines", self.path, self.start)
            if self.sent_id is not None:
                if self.sent_id in self.seen:
                    raise InputError(f"duplicate sent_id '{self.sent_id}'", self.path, self.start)
                self.seen.add(self.sent_id)
            s = UDSentence(self.sent_id, self.text, tuple(self.toks), str(self.path), self.start)
            self.sents.append(s)
        self.reset()

    def comment(self, line: str, n: int) -> None:
        if self.toks:
            raise InputError("comment line inside a sentence (after its word lines)", self.path, n)
        key, eq, val = line[1:].partition("=")
        if eq:
            k = strip_ascii(key)
            if k == "sent_id":
                self.sent_id = strip_ascii(val)
            elif k == "text":
                self.text = strip_ascii(val)

    def word(self, line: str, n: int, check_upos: bool) -> None:
        path = self.path
        cols = line.split("\t")
        if len(cols) != 10:
            raise InputError(
                f"expected 10 tab-separated columns, found {len(cols)}: {line[:80]!r}", path, n
            )
        tid = cols[0]
        m = _ID_RANGE.match(tid)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a or a != len(self.toks) + 1:
                raise InputError(
                    f"multi-word token range '{tid}' does not start at the next word "
                    f"{len(self.toks) + 1}",
                    path,
                    n,
                )
            return
        if _ID_EMPTY.match(tid):
            return
        if not (tid.isascii() and tid.isdigit() and tid[0] != "0"):
            raise InputError(
                f"bad ID '{tid}': expected a word index, a range 'n-m' or an empty node 'n.k'",
                path,
                n,
            )
        i = int(tid)
        if i != len(self.toks) + 1:
            raise InputError(f"word ID {i} out of sequence: expected {len(self.toks) + 1}", path, n)
        form, lemma, upos, xpos, feats, head, deprel, _deps, misc = cols[1:]
        if check_upos and upos not in UPOS_TAGS:
            raise InputError(
                f"unknown UPOS '{upos}' for word '{form}'; valid: {', '.join(sorted(UPOS_TAGS))}",
                path,
                n,
            )
        if head == "_":
            h: int | None = None
        elif head.isascii() and head.isdigit():
            h = int(head)
        else:
            raise InputError(f"bad HEAD '{head}': expected a word index or '_'", path, n)
        self.toks.append(UDToken(i, form, lemma, upos, xpos, feats, h, deprel, misc))


def read_conllu(path: PathLike, *, check_upos: bool = True) -> list[UDSentence]:
    """Read a CoNLL-U file: words with UPOS; ``# sent_id`` and ``# text`` kept.

    A line without 10 tab-separated columns, a bad ID, IDs not running 1..n, an unknown
    UPOS (with ``check_upos``), a bad HEAD, a duplicate ``sent_id`` or a whitespace-only
    line raises an InputError at file:line.
    """
    b = _Builder(path)
    for n, line in enumerate(read_lines(path), start=1):
        if not strip_ascii(line):
            if line:
                raise InputError("whitespace-only line (a sentence break must be empty)", path, n)
            b.flush()
            continue
        if not b.start:
            b.start = n
        if line.startswith("#"):
            b.comment(line, n)
        else:
            b.word(line, n, check_upos)
    b.flush()
    return b.sents


def write_conllu(path: PathLike, sentences: Sequence[UDSentence]) -> None:
    """The writer of :func:`read_conllu` (``# sent_id``/``# text`` comments, 10 columns,
    DEPS written as ``_``, a blank line after each sentence)."""
    lines: list[str] = []
    for s in sentences:
        if s.sent_id is not None:
            lines.append(f"# sent_id = {s.sent_id}")
        if s.text is not None:
            lines.append(f"# text = {s.text}")
        for t in s.tokens:
            head = "_" if t.head is None else str(t.head)
            cols = (str(t.id), t.form, t.lemma, t.upos, t.xpos, t.feats, head, t.deprel)
            lines.append("\t".join((*cols, "_", t.misc)))
        lines.append("")
    write_record_lines(path, lines)


__all__ = ["UPOS_TAGS", "UDSentence", "UDToken", "read_conllu", "write_conllu"]
