"""Bilingual dictionaries in MUSE's format: ``source<TAB>target`` per line (a single ASCII
space also separates when the line has no tab); a source word may have several lines.
One entry per line: a blank line is an error with file:line. Pure: no catalogue import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from .text import read_lines, split_ascii_space, strip_ascii
from .writing import write_record_lines

PathLike = str | Path

MUSE_CATEGORIES: dict[str, str] = {
    "n": "noun",
    "pn": "proper noun",
    "v": "verb",
    "a": "adjective/adverb",
    "o": "other",
    "nw": "invalid pair",
}
MUSE_RECOMMENDED: tuple[str, ...] = ("n", "v", "a", "o")


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
    for n, line in enumerate(read_lines(path, blank="error"), start=1):
        cols = line.split("\t")
        if len(cols) == 1:
            cols = list(split_ascii_space(line))
        if len(cols) != 2 or not strip_ascii(cols[0]) or not strip_ascii(cols[1]):
            raise InputError(f"expected 'source<TAB>target', found {line[:80]!r}", path, n)
        out.append(DictEntry(cols[0], cols[1], category, str(path), n))
    return out


def write_dictionary(path: PathLike, entries: Sequence[DictEntry]) -> None:
    """The writer of :func:`read_dictionary` (``source<TAB>target``)."""
    write_record_lines(path, [f"{e.src}\t{e.tgt}" for e in entries])


def translations(entries: Iterable[DictEntry]) -> dict[str, set[str]]:
    """source word -> its gold translations.

    >>> e = [DictEntry("haus", "house", "n", "-", 1), DictEntry("haus", "home", "n", "-", 2)]
    >>> d = translations(e)
    >>> sorted(d["haus"])
    ['home', 'house']
    """
    out: dict[str, set[str]] = {}
    for e in entries:
        out.setdefault(e.src, set()).add(e.tgt)
    return out


__all__ = [
    "MUSE_CATEGORIES",
    "MUSE_RECOMMENDED",
    "DictEntry",
    "read_dictionary",
    "translations",
    "write_dictionary",
]
