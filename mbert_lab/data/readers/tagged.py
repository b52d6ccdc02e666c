"""Tagged tokens: ``word<TAB>TAG`` per line, blank lines between sentences (XTREME UD-POS),
and the :class:`TaggedSentence` record shared with CoNLL NER. Pure: no catalogue import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from .conllu import UPOS_TAGS
from .text import read_lines, strip_ascii
from .writing import write_record_lines

PathLike = str | Path


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


def blocks(lines: Iterable[str], path: PathLike) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """Blank-line separated blocks: ``(first line, [(line number, line), ...])``.

    An empty line separates; a whitespace-only line (ASCII space/tab) is an error."""
    block: list[tuple[int, str]] = []
    for n, line in enumerate(lines, start=1):
        if strip_ascii(line):
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

    ``tagset`` (default: the 17 UPOS tags; None: any non-empty tag) is checked per line.
    """
    tags_ok = frozenset(tagset) if tagset is not None else None
    out: list[TaggedSentence] = []
    for start, block in blocks(read_lines(path), path):
        toks, tags = [], []
        for n, line in block:
            w, sep, t = line.partition("\t")
            if not sep or "\t" in t:
                raise InputError(
                    f"expected 'word<TAB>tag', found {line.count(chr(9)) + 1} tab-separated "
                    f"fields: {line[:80]!r}",
                    path,
                    n,
                )
            if not w:
                raise InputError("empty word", path, n)
            if tags_ok is not None and t not in tags_ok:
                raise InputError(
                    f"unknown tag '{t}' for word '{w}'; valid: {', '.join(sorted(tags_ok))}",
                    path,
                    n,
                )
            if not t:
                raise InputError(f"empty tag for word '{w}'", path, n)
            toks.append(w)
            tags.append(t)
        out.append(TaggedSentence(tuple(toks), tuple(tags), str(path), start))
    return out


def write_tagged_tsv(path: PathLike, sentences: Sequence[TaggedSentence]) -> None:
    """The writer of :func:`read_tagged_tsv`: ``word<TAB>tag``, a blank line after each sentence."""
    lines: list[str] = []
    for s in sentences:
        lines.extend(f"{w}\t{t}" for w, t in zip(s.tokens, s.tags))
        lines.append("")
    write_record_lines(path, lines)


__all__ = ["TaggedSentence", "blocks", "read_tagged_tsv", "write_tagged_tsv"]
