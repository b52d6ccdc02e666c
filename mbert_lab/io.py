"""Small file helpers: atomic writes and checksums.

Writes go to a temporary file in the same directory and are renamed into place, so a
killed run never leaves a half-written file under the final name. ``mkstemp``/``mkdtemp``
make private (0600/0700) temporaries; before the rename they get the mode an ordinary
``open``/``mkdir`` would give (``0o666``/``0o777`` less the umask), so results can be shared.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux
    ``/proc/self/status``); otherwise set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a newly created file gets: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """The mode a newly created folder gets: ``0o777`` less the umask."""
    return 0o777 & ~current_umask()


def publish_mode(path: str | Path, *, mode: int | None = None) -> None:
    """Give a private temporary (from mkstemp/mkdtemp) the mode the umask gives new files or
    folders (or ``mode`` less the umask), before it is renamed into place."""
    path = Path(path)
    base = (0o777 if path.is_dir() else 0o666) if mode is None else mode
    os.chmod(path, base & ~current_umask())


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[Any]:
    """Open a temporary sibling of ``path`` for writing; rename it into place on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), file_mode())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import dataclasses

    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


__all__ = [
    "sha256_file",
    "sha256_text",
    "atomic_open",
    "current_umask",
    "file_mode",
    "dir_mode",
    "publish_mode",
    "atomic_write_text",
    "atomic_write_bytes",
    "atomic_write_json",
    "BinaryIO",
    "TextIO",
]
