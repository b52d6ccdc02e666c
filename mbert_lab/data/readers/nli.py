"""Sentence-pair classification sets in XTREME's layout: XNLI
(``premise<TAB>hypothesis<TAB>label``) and PAWS-X (``sentence1<TAB>sentence2<TAB>0|1``).
One item per line (a blank line is an error with file:line); the 0-based row is the item,
the same item in every language. Pure: no catalogue import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from .text import read_lines, strip_ascii
from .writing import write_record_lines

PathLike = str | Path

XNLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")
PAWSX_UNTRANSLATED = "NS"


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


def _tsv3(path: PathLike) -> Iterator[tuple[int, str, str, str]]:
    for n, line in enumerate(read_lines(path, blank="error"), start=1):
        cols = line.split("\t")
        if len(cols) != 3:
            raise InputError(
                f"expected 3 tab-separated fields, found {len(cols)}: {line[:80]!r}", path, n
            )
        a, b, c = cols
        if not strip_ascii(a) or not strip_ascii(b):
            which = "first" if not strip_ascii(a) else "second"
            raise InputError(f"empty {which} sentence", path, n)
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


def write_xnli_tsv(path: PathLike, items: Sequence[NliPair]) -> None:
    """The writer of :func:`read_xnli_tsv`."""
    write_record_lines(path, [f"{x.premise}\t{x.hypothesis}\t{x.label}" for x in items])


def write_pawsx_tsv(path: PathLike, items: Sequence[ParaphrasePair]) -> None:
    """The writer of :func:`read_pawsx_tsv`."""
    write_record_lines(path, [f"{x.sentence1}\t{x.sentence2}\t{x.label}" for x in items])


__all__ = [
    "PAWSX_UNTRANSLATED",
    "XNLI_LABELS",
    "NliPair",
    "ParaphrasePair",
    "read_pawsx_tsv",
    "read_xnli_tsv",
    "write_pawsx_tsv",
    "write_xnli_tsv",
]
