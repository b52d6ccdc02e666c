"""A line-aligned parallel corpus (Tatoeba's layout): two files, line n of one translates
line n of the other. Lines are kept as they are (not stripped); a blank line on either side
is an error with file:line, or, on request, drops the pair and records why.
Pure: no catalogue import. (User sentence pairs with word lists: :mod:`.pairs`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...errors import InputError, choice_error
from .text import read_lines, strip_ascii
from .writing import write_record_lines

PathLike = str | Path


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


def read_parallel_corpus(
    src_path: PathLike,
    tgt_path: PathLike,
    *,
    src_lang: str = "src",
    tgt_lang: str = "tgt",
    empty: Literal["error", "skip"] = "error",
) -> ParallelCorpus:
    """Read two line-aligned files into a :class:`ParallelCorpus`.

    Different line counts raise an InputError naming both files and counts. A blank (or
    space/tab-only) line on either side raises an InputError at that file:line, or with
    ``empty='skip'`` drops the pair and records it in ``skipped``. Punctuation-only lines
    are sentences and are kept.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.deu").write_text("Hallo!\\n...\\n")
    >>> _ = (d / "a.eng").write_text("Hello!\\n...\\n")
    >>> [p.src for p in read_parallel_corpus(d / "a.deu", d / "a.eng")]
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
            min(len(a), len(b)) + 1,
        )
    pairs: list[SentencePair] = []
    skipped: list[SkippedLine] = []
    for i, (x, y) in enumerate(zip(a, b), start=1):
        bad = [
            (p, side)
            for p, side, s in ((src_path, "source", x), (tgt_path, "target", y))
            if not strip_ascii(s)
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
            skipped.extend(
                SkippedLine(str(p), i, f"empty {side} line; pair dropped") for p, side in bad
            )
            continue
        pairs.append(SentencePair(x, y, i))
    return ParallelCorpus(
        src_lang, tgt_lang, str(src_path), str(tgt_path), tuple(pairs), tuple(skipped)
    )


def write_parallel_corpus(src_path: PathLike, tgt_path: PathLike, pairs) -> None:
    """The writer of :func:`read_parallel_corpus`: one sentence per line in each file."""
    pairs = list(pairs)
    write_record_lines(src_path, [p.src for p in pairs])
    write_record_lines(tgt_path, [p.tgt for p in pairs])


__all__ = [
    "ParallelCorpus",
    "SentencePair",
    "SkippedLine",
    "read_parallel_corpus",
    "write_parallel_corpus",
]
