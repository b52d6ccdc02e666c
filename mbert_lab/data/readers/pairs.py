"""User sentence pairs: one ``source ||| target`` file, two line-aligned files, or pairs in
memory; and Pharaoh links (``i-j``, 0-indexed, source first).

Sides are kept raw (``tokenized=False``) or split into words on ASCII spaces only.
A blank side is an error naming file:line (``pairs[n]`` for pairs in memory); so are
different line counts.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.src-tgt"
>>> _ = p.write_text("\\ufeffthe cat ||| le chat\\r\\n")
>>> read_pairs_file(p).src
[['the', 'cat']]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError
from .text import read_lines, split_ascii_space, strip_ascii

PathLike = str | Path


@dataclass(frozen=True)
class PairInput:
    """Sentence pairs read from files: word lists (tokenized) or raw strings."""

    src: list[Any]
    tgt: list[Any]
    where: list[tuple[str, int]]  # (file, 1-based line) of each pair, for messages
    files: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.src)


def _side(text: str, tokenized: bool, path: PathLike, line: int, which: str) -> Any:
    text = strip_ascii(text)
    if tokenized:
        words = list(split_ascii_space(text))
        if not words:
            raise InputError(f"empty {which} side", path, line)
        return words
    if not text:
        raise InputError(f"empty {which} side", path, line)
    return text


def split_pair_line(line: str, path: PathLike, n: int) -> tuple[str, str]:
    """``'a b ||| c d'`` -> ``('a b', 'c d')``; anything but one separator is an error."""
    parts = line.split(" ||| ")
    if len(parts) != 2:
        parts = line.split("|||")
    if len(parts) != 2:
        raise InputError("expected one 'source ||| target' separator", path, n)
    return parts[0], parts[1]


def read_pairs_file(path: PathLike, tokenized: bool = True) -> PairInput:
    """A ``source ||| target`` file, one pair per line."""
    src, tgt, where = [], [], []
    for n, line in enumerate(read_lines(path), 1):
        a, b = split_pair_line(line, path, n)
        src.append(_side(a, tokenized, path, n, "source"))
        tgt.append(_side(b, tokenized, path, n, "target"))
        where.append((str(path), n))
    if not src:
        raise InputError("no sentence pairs (the file is empty)", path)
    return PairInput(src, tgt, where, (str(path),))


def read_parallel_files(src_path: PathLike, tgt_path: PathLike, tokenized: bool = True) -> PairInput:
    """Two line-aligned files (line n of one translates line n of the other)."""
    a, b = read_lines(src_path), read_lines(tgt_path)
    if len(a) != len(b):
        short, n = (src_path, len(a)) if len(a) < len(b) else (tgt_path, len(b))
        raise InputError(
            f"line counts differ: {src_path} has {len(a)} lines, {tgt_path} has {len(b)}; "
            f"the pairs stop matching after line {n}",
            short,
            n + 1,
        )
    if not a:
        raise InputError("no sentence pairs (the file is empty)", src_path)
    src = [_side(x, tokenized, src_path, n, "source") for n, x in enumerate(a, 1)]
    tgt = [_side(x, tokenized, tgt_path, n, "target") for n, x in enumerate(b, 1)]
    where = [(str(src_path), n) for n in range(1, len(a) + 1)]
    return PairInput(src, tgt, where, (str(src_path), str(tgt_path)))


def pairs_from_items(items: Any, tokenized: bool = True, name: str = "pairs") -> PairInput:
    """Pairs given in memory: ``[(src, tgt), ...]`` where a side is a string (raw text, or
    words separated by ASCII spaces when ``tokenized``) or, when ``tokenized``, a list of
    words. Errors name ``pairs[n]`` (1-based).

    >>> pairs_from_items([("the cat", ["le", "chat"])]).tgt
    [['le', 'chat']]
    """
    from ...errors import ConfigError

    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise ConfigError(f"{name}: expected a list of (source, target) pairs, got {type(items).__name__}")
    src, tgt, where = [], [], []
    for n, item in enumerate(items, 1):
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
            raise ConfigError(f"{name}[{n}]: expected a (source, target) pair, got {item!r}"[:200])
        sides = []
        for which, side in zip(("source", "target"), item):
            if isinstance(side, str):
                if not strip_ascii(side) or (tokenized and not split_ascii_space(strip_ascii(side))):
                    raise ConfigError(f"{name}[{n}]: empty {which} side")
                sides.append(list(split_ascii_space(strip_ascii(side))) if tokenized else strip_ascii(side))
            elif tokenized and isinstance(side, (list, tuple)) and all(isinstance(w, str) and w for w in side):
                if not side:
                    raise ConfigError(f"{name}[{n}]: empty {which} side")
                sides.append(list(side))
            else:
                kind = "a string" if not tokenized else "a string or a list of non-empty words"
                raise ConfigError(f"{name}[{n}]: the {which} side must be {kind}, got {side!r}"[:200])
        src.append(sides[0])
        tgt.append(sides[1])
        where.append((f"<{name}>", n))
    if not src:
        raise ConfigError(f"{name}: no sentence pairs")
    return PairInput(src, tgt, where, ())


_LINK = re.compile(r"^(\d+)-(\d+)(?:[:-][0-9.eE+-]+)?$")


def read_links(path: PathLike, n_pairs: int | None = None) -> list[list[tuple[int, int]]]:
    """0-indexed predicted links (``i-j``; an optional ``:score`` or ``-score`` is ignored),
    one line per sentence pair (a blank line = no links)."""
    lines = read_lines(path)
    if n_pairs is not None and len(lines) != n_pairs:
        raise InputError(
            f"{len(lines)} lines but {n_pairs} sentence pairs", path, min(len(lines), n_pairs) + 1
        )
    out = []
    for n, line in enumerate(lines, 1):
        links = []
        for tok in split_ascii_space(strip_ascii(line)):
            m = _LINK.match(tok)
            if not m:
                raise InputError(f"malformed link {tok!r}", path, n)
            links.append((int(m.group(1)), int(m.group(2))))
        out.append(links)
    return out


def write_links(path: PathLike, links: list[list[tuple[int, int]]]) -> None:
    """Pharaoh writer (0-indexed ``i-j``), the inverse of :func:`read_links`."""
    from .text import write_lines

    write_lines(path, [" ".join(f"{i}-{j}" for i, j in sorted(ls)) for ls in links])
