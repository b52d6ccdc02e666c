"""The writers' side of the line rule: UTF-8, ``\\n`` line ends, atomic replace.

A record whose first line starts with U+FEFF gets a byte-order mark in front, so that the
reader (which strips one leading U+FEFF) reads the same text back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...errors import ConfigError
from .text import write_lines

PathLike = str | Path


def write_record_lines(path: PathLike, lines: Sequence[str]) -> None:
    """Write ``lines`` (no line ends inside) so that ``read_lines`` gives them back."""
    for n, ln in enumerate(lines, 1):
        if "\n" in ln or "\r" in ln:
            raise ConfigError(f"cannot write {path}: record line {n} holds a line break")
    out = list(lines)
    if out and out[0].startswith("\ufeff"):
        out[0] = "\ufeff" + out[0]
    write_lines(path, out)
