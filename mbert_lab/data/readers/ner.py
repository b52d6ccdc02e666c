"""CoNLL NER: ``token label`` per line (label = last space/tab-separated field), IOB2
labels, blank lines between sentences, ``-DOCSTART-`` lines skipped (CoNLL 2003,
MasakhaNER 1.0 and 2.0). Pure: no catalogue import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from ...errors import InputError, choice_error
from .tagged import TaggedSentence, blocks
from .text import read_lines
from .writing import write_record_lines

PathLike = str | Path

_NER_TAG = re.compile(r"^(O|([BI])-([A-Za-z][A-Za-z0-9_]*))$", re.ASCII)


def _sentence(block, path, types_ok, iob) -> tuple[list[str], list[str], list[str]]:
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
                    f"'{lab}' after '{prev}' breaks IOB2 (an entity must start with B-)", path, n
                )
            if iob == "repair":
                notes.append(f"{path}:{n}: '{lab}' after '{prev}' read as 'B-{typ}'")
                lab = f"B-{typ}"
        toks.append(tok)
        tags.append(lab)
        prev = lab
    return toks, tags, notes


def read_conll_ner(
    path: PathLike,
    *,
    types: Iterable[str] | None = None,
    iob: Literal["repair", "strict", "keep"] = "repair",
) -> list[TaggedSentence]:
    """Read CoNLL NER into :class:`TaggedSentence` records.

    ``types`` restricts entity types (e.g. ``{"PER", "ORG", "LOC"}``). An ``I-X`` that
    does not continue an ``X`` entity breaks IOB2: ``iob='repair'`` (default) reads it as
    ``B-X`` (as conlleval and seqeval's default mode do) and notes file:line in the
    sentence's ``notes``; ``'strict'`` raises an InputError; ``'keep'`` leaves it.
    """
    if iob not in ("repair", "strict", "keep"):
        raise choice_error("IOB policy", iob, ["repair", "strict", "keep"])
    types_ok = frozenset(types) if types is not None else None
    lines = [("" if ln.startswith("-DOCSTART-") else ln) for ln in read_lines(path)]
    out = []
    for start, block in blocks(lines, path):
        toks, tags, notes = _sentence(block, path, types_ok, iob)
        out.append(TaggedSentence(tuple(toks), tuple(tags), str(path), start, tuple(notes)))
    return out


def write_conll_ner(path: PathLike, sentences: Sequence[TaggedSentence]) -> None:
    """The writer of :func:`read_conll_ner`: ``token label``, a blank line after each sentence."""
    lines: list[str] = []
    for s in sentences:
        lines.extend(f"{w} {t}" for w, t in zip(s.tokens, s.tags))
        lines.append("")
    write_record_lines(path, lines)


__all__ = ["read_conll_ner", "write_conll_ner"]
