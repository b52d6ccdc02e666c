"""The one line rule for every text reader, and plain line-per-record files.

- One leading U+FEFF (byte-order mark) is stripped.
- Line ends are ``\\n``, ``\\r\\n`` and a lone ``\\r``; nothing else splits a line (U+2028,
  U+0085, form feed ... stay inside their line, as they do in the data).
- :func:`strip_ascii` strips ASCII space and tab only: U+3000 IDEOGRAPHIC SPACE and other
  Unicode spaces are text (a token in the Japanese gold sets).
- A final line end does not make an extra empty line.
- Invalid UTF-8 raises an :class:`~mbert_lab.errors.InputError` naming file and line.

>>> split_lines("\\ufeffa\\r\\nb\\rc\\u2028d\\n")
['a', 'b', 'c\\u2028d']
>>> strip_ascii(" \\t\\u3000x \\t")
'\\u3000x'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from ...errors import InputError

PathLike = str | Path
_LINE_END = re.compile(r"\r\n|\r|\n")
ASCII_BLANK = " \t"


def strip_ascii(text: str) -> str:
    """Strip ASCII space and tab (only) from both ends."""
    return text.strip(ASCII_BLANK)


def split_ascii_space(text: str) -> tuple[str, ...]:
    """Tokens separated by ASCII spaces (runs count once); U+3000 and tabs stay in tokens.

    >>> split_ascii_space("a \\u3000 b  c ")
    ('a', '\\u3000', 'b', 'c')
    """
    return tuple(t for t in text.split(" ") if t)


def split_lines(text: str) -> list[str]:
    """Split decoded text by the line rule (BOM, ``\\n`` / ``\\r\\n`` / lone ``\\r``)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        return []
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def decode_utf8(data: bytes, path: PathLike) -> str:
    """UTF-8 bytes -> str; invalid bytes raise an InputError naming the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        head = data[: e.start]
        line = len(_LINE_END.split(head.decode("utf-8", errors="replace")))
        raise InputError(
            f"not valid UTF-8 (byte {data[e.start]:#04x} at offset {e.start})", path, line
        ) from None


def read_bytes(path: PathLike) -> bytes:
    """A file's bytes, with clear errors for a missing file, a folder or no permission."""
    p = Path(path)
    if p.is_dir():
        raise InputError("is a folder, expected a file", p)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", p) from None
    except PermissionError:
        raise InputError("cannot read (permission denied)", p) from None
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror})", p) from None


def read_lines(path: PathLike, *, blank: Literal["keep", "error", "skip"] = "keep") -> list[str]:
    """The lines of a UTF-8 text file by the line rule.

    ``blank``: what to do with a line that is empty after :func:`strip_ascii`:
    ``keep`` it (formats where blank lines separate records), raise an ``error`` naming
    file:line (line-per-record formats), or ``skip`` it.
    """
    lines = split_lines(decode_utf8(read_bytes(path), path))
    if blank == "keep":
        return lines
    if blank == "error":
        for n, ln in enumerate(lines, 1):
            if not strip_ascii(ln):
                raise InputError("blank line (every line must hold a record)", path, n)
        return lines
    if blank == "skip":
        return [ln for ln in lines if strip_ascii(ln)]
    raise ValueError(f"blank={blank!r}")


def read_numbered_lines(path: PathLike, *, skip_blank: bool = False) -> list[tuple[int, str]]:
    """``(1-based line number, line)`` pairs by the line rule (blank lines kept unless asked)."""
    lines = split_lines(decode_utf8(read_bytes(path), path))
    return [(n, ln) for n, ln in enumerate(lines, 1) if not (skip_blank and not strip_ascii(ln))]


def read_sentences(path: PathLike) -> list[str]:
    """One sentence per line; a blank line is an error with file:line; an empty file too."""
    lines = [strip_ascii(x) for x in read_lines(path, blank="error")]
    if not lines:
        raise InputError("no sentences (the file is empty)", path)
    return lines


def write_lines(path: PathLike, lines: list[str]) -> None:
    """The writer for line-per-record files (``\\n`` ends, UTF-8, atomic)."""
    from ...io import atomic_write_text

    atomic_write_text(path, "".join(x + "\n" for x in lines))
