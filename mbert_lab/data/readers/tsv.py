"""User sentence lists: ``lang<TAB>text`` rows, ``id<TAB>text`` lines (BUCC), BUCC gold,
bilingual dictionaries (``source<TAB>target``, MUSE layout).

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "s.tsv"
>>> _ = p.write_text("de\\tHallo\\nfr\\tx1\\tSalut\\n")
>>> read_lang_text(p)
[('de', '1', 'Hallo'), ('fr', 'x1', 'Salut')]
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from .text import read_lines, strip_ascii

PathLike = str | Path


def read_lang_text(path: PathLike) -> list[tuple[str, str, str]]:
    """``lang<TAB>text`` or ``lang<TAB>id<TAB>text`` per line -> ``(lang, id, text)``; the id
    defaults to the 1-based line number. A blank line is an error naming file:line."""
    rows = []
    for n, line in enumerate(read_lines(path, blank="error"), 1):
        cols = line.split("\t")
        if len(cols) == 2:
            lang, text = cols
            sid = str(n)
        elif len(cols) == 3:
            lang, sid, text = cols
        else:
            raise InputError("expected 'lang<TAB>text' or 'lang<TAB>id<TAB>text'", path, n)
        lang, text = strip_ascii(lang), strip_ascii(text)
        if not lang or not text:
            raise InputError("empty language or text", path, n)
        rows.append((lang, strip_ascii(sid), text))
    if not rows:
        raise InputError("no sentences (the file is empty)", path)
    return rows


def read_id_lines(path: PathLike, with_ids: bool) -> tuple[list[str], list[str]]:
    """``(ids, texts)``: plain lines (id = 1-based line number) or ``id<TAB>text`` (BUCC)."""
    ids, texts = [], []
    for n, line in enumerate(read_lines(path, blank="error"), 1):
        if with_ids:
            i, sep, t = line.partition("\t")
            if not sep or not strip_ascii(i):
                raise InputError("expected 'id<TAB>text'", path, n)
        else:
            i, t = str(n), line
        if not strip_ascii(t):
            raise InputError("empty sentence", path, n)
        ids.append(strip_ascii(i))
        texts.append(strip_ascii(t))
    if not texts:
        raise InputError("no sentences (the file is empty)", path)
    seen: set[str] = set()
    for n, i in enumerate(ids, 1):
        if i in seen:
            raise InputError(f"sentence id '{i}' occurs twice", path, n)
        seen.add(i)
    return ids, texts


def read_bucc_gold(path: PathLike) -> list[tuple[str, str]]:
    """``src_id<TAB>tgt_id`` per line (BUCC gold)."""
    out = []
    for n, line in enumerate(read_lines(path, blank="error"), 1):
        cols = line.split("\t") if "\t" in line else line.split(" ")
        cols = [c for c in (strip_ascii(x) for x in cols) if c]
        if len(cols) != 2:
            raise InputError("expected 'src_id<TAB>tgt_id'", path, n)
        out.append((cols[0], cols[1]))
    if not out:
        raise InputError("no gold pairs (the file is empty)", path)
    return out


def read_word_pairs(path: PathLike) -> list[tuple[str, str]]:
    """A bilingual dictionary: ``source<TAB>target`` (or ``source target``) per line, one
    translation per line (a word with several translations has several lines; the MUSE
    layout). Repeated lines are kept once; a blank line is an error naming file:line.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.txt"
    >>> _ = p.write_text("haus\\thouse\\nhaus home\\nhaus\\thouse\\n")
    >>> read_word_pairs(p)
    [('haus', 'house'), ('haus', 'home')]
    """
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for n, line in enumerate(read_lines(path, blank="error"), 1):
        cols = line.split("\t") if "\t" in line else line.split(" ")
        cols = [c for c in (strip_ascii(x) for x in cols) if c]
        if len(cols) != 2:
            raise InputError(f"expected 'source<TAB>target', found {line[:80]!r}", path, n)
        pair = (cols[0], cols[1])
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    if not out:
        raise InputError("no word pairs (the file is empty)", path)
    return out
