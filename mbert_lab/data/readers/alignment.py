"""Gold word alignments: ``source ||| target`` text plus Pharaoh links (``i-j`` sure,
``ipj`` possible), and the one gold-pair record, :class:`GoldPair`.

Links in records are **0-based** whatever the file used; :func:`detect_index_base` says
which convention a file uses and why. Pure: no catalogue or registry import.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "x.src-tgt").write_text("a b ||| x y\\n"); _ = (d / "x.gold").write_text("1-1 2p2\\n")
>>> g = read_alignment(d / "x.src-tgt", d / "x.gold")
>>> g.index_base, sorted(g.pairs[0].sure), sorted(g.pairs[0].possible)
(1, [(0, 0)], [(1, 1)])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError, InputError
from .text import read_lines, split_ascii_space, write_lines

PathLike = str | Path


@dataclass(frozen=True)
class GoldPair:
    """Gold alignment of one sentence pair: tokens and **0-based** links (source first).

    ``sure`` are ``i-j`` links; ``possible`` the ``ipj`` links not already sure. For AER,
    S = sure and P = sure | possible (:attr:`possible_all`). ``line`` is the 1-based line of
    the pair in its files (0 when the pair was not read from a file). This is the record
    the readers return and the scorer (:mod:`mbert_lab.analyses.alignment`) takes.
    """

    src: tuple[str, ...]
    tgt: tuple[str, ...]
    sure: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]] = frozenset()
    line: int = 0

    @property
    def possible_all(self) -> frozenset[tuple[int, int]]:
        return self.sure | self.possible

    # the names of the former ``AlignedPair`` record
    @property
    def sure_or_possible(self) -> frozenset[tuple[int, int]]:
        return self.possible_all

    @property
    def src_tokens(self) -> tuple[str, ...]:
        return self.src

    @property
    def tgt_tokens(self) -> tuple[str, ...]:
        return self.tgt


AlignedPair = GoldPair  # the former name of the same record


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
    pairs: tuple[GoldPair, ...]
    index_base: int
    index_evidence: str

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        return iter(self.pairs)


def read_alignment_text(path: PathLike) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``source ||| target`` lines -> token tuples (ASCII-space tokenisation; U+3000 is a
    token). A blank line or a blank side is an error naming file:line."""
    out = []
    for i, line in enumerate(read_lines(path, blank="error"), start=1):
        parts = line.split("|||")
        if len(parts) != 2:
            raise InputError(
                f"expected 'source ||| target' (one '|||'), found {len(parts) - 1} separators: "
                f"{line[:80]!r}",
                path,
                i,
            )
        src, tgt = split_ascii_space(parts[0]), split_ascii_space(parts[1])
        if not src or not tgt:
            raise InputError(
                f"empty {'source' if not src else 'target'} side: {line[:80]!r}", path, i
            )
        out.append((src, tgt))
    if not out:
        raise InputError("no sentence pairs (the file is empty)", path)
    return out


_LINK = re.compile(r"^(\d+)([-p])(\d+)$", re.ASCII)


def read_pharaoh(path: PathLike) -> list[list[tuple[int, int, bool]]]:
    """Raw Pharaoh links per line: ``(i, j, sure)`` as written (not re-based).

    ``i-j`` is a sure link, ``ipj`` a possible one. A blank line means no links.
    """
    out: list[list[tuple[int, int, bool]]] = []
    for n, line in enumerate(read_lines(path), start=1):
        links = []
        for tok in split_ascii_space(line.replace("\t", " ")):
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
    A gold file without any link is an error of its own.
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
                zero = zero or (ln, tok)
            if i == ls or j == lt:
                n_full += 1
                full = full or (ln, f"{tok}; source has {ls} tokens, target {lt}")
    if n_links == 0:
        raise InputError("the gold file holds no links (every line is empty)", gold_path)
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
            f"0-based: index 0 occurs in {n_zero} of {n_links} links, first at "
            f"{gold_path}:{zero[0]} (link {zero[1]})",
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


def _rebase(src, tgt, links, base: int, gold_path: PathLike, n: int) -> GoldPair:
    sure: set[tuple[int, int]] = set()
    poss: set[tuple[int, int]] = set()
    for i, j, is_sure in links:
        a, b = i - base, j - base
        tok = f"{i}{'-' if is_sure else 'p'}{j}"
        if a < 0 or b < 0:
            raise InputError(f"link {tok}: index 0 in a {base}-based gold file", gold_path, n)
        if a >= len(src) or b >= len(tgt):
            side, idx, ln = ("source", i, len(src)) if a >= len(src) else ("target", j, len(tgt))
            raise InputError(
                f"link {tok}: {side} index {idx} is beyond the sentence ({ln} tokens, "
                f"{base}-based indices {base}..{ln - 1 + base})",
                gold_path,
                n,
            )
        (sure if is_sure else poss).add((a, b))
    return GoldPair(src, tgt, frozenset(sure), frozenset(poss - sure), n)


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
            min(len(texts), len(raw)) + 1,
        )
    lengths = [(len(s), len(t)) for s, t in texts]
    if index_base is None:
        det = detect_index_base(raw, lengths, gold_path)
    else:
        det = IndexBase(
            int(index_base), "given", f"{index_base}-based: given by index_base={index_base}"
        )
    pairs = tuple(
        _rebase(src, tgt, links, det.base, gold_path, n)
        for n, ((src, tgt), links) in enumerate(zip(texts, raw), start=1)
    )
    return AlignmentGold(
        name=name or Path(gold_path).stem,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        text_path=str(text_path),
        gold_path=str(gold_path),
        pairs=pairs,
        index_base=det.base,
        index_evidence=f"{det.evidence} [{det.source}]",
    )


def write_alignment(
    text_path: PathLike, gold_path: PathLike, pairs: Sequence[GoldPair], *, index_base: int = 0
) -> None:
    """The writer of :func:`read_alignment`: ``source ||| target`` lines and Pharaoh links
    (``i-j`` sure, ``ipj`` possible) with ``index_base`` added."""
    if index_base not in (0, 1):
        raise ConfigError(f"index_base must be 0 or 1, not {index_base!r}")
    b = index_base
    write_lines(text_path, [" ".join(p.src) + " ||| " + " ".join(p.tgt) for p in pairs])
    write_lines(
        gold_path,
        [
            " ".join(
                [f"{i + b}-{j + b}" for i, j in sorted(p.sure)]
                + [f"{i + b}p{j + b}" for i, j in sorted(p.possible - p.sure)]
            )
            for p in pairs
        ],
    )


__all__ = [
    "AlignedPair",
    "AlignmentGold",
    "GoldPair",
    "IndexBase",
    "detect_index_base",
    "read_alignment",
    "read_alignment_text",
    "read_pharaoh",
    "write_alignment",
]
