"""A corpus as blocks in Ray's object store: the driver holds references, not texts.

- :class:`LineFile`: a plain text file (one text per line; the ``extract`` format) read as a
  Ray dataset (``ray.data``): the driver cuts the file into byte ranges at ``\\n`` (reading a
  few bytes at each cut), and Ray tasks read their range with the project's line rule
  (:mod:`mbert_lab.data.readers.text`: ``decode_utf8``, ``split_lines``, ``strip_ascii``).
  A blank line or invalid UTF-8 becomes an error row carrying the range's own line number;
  :func:`check_blocks` turns the first one into ``file:line`` from the row counts of the
  ranges before it (a file with both kinds of error may name another line than the
  one-process reader, which decodes the whole file before it looks for blank lines).
- :func:`list_blocks`: texts already in the driver's memory (a list), put in blocks.

Either way a block is an object reference (a ``pyarrow`` table with a ``text`` column, or a
list of texts) that model actors resolve themselves (:mod:`.extract`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BLOCK_BYTES = 1 << 20  # a line block's nominal size (cut at the next line end)
LIST_BLOCK = 4096  # texts per block of an in-memory list


@dataclass(frozen=True)
class LineFile:
    """A text file read on the cluster: one text per line; ``words``: lines are words
    separated by ASCII spaces (pre-tokenized)."""

    path: str
    words: bool = False


def byte_ranges(path: str | Path, block_bytes: int | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` byte ranges covering the file, each cut just after a ``\\n`` (so after a
    whole ``\\r\\n`` too, and never inside a UTF-8 sequence); a file without ``\\n`` is one range."""
    size = os.path.getsize(path)
    step = max(1, int(block_bytes or BLOCK_BYTES))
    cuts = [0]
    with open(path, "rb") as f:
        pos = step
        while pos < size:
            f.seek(pos - 1)  # the first \n at or after pos - 1 ends the range
            base, end = pos - 1, None
            while end is None:
                chunk = f.read(65536)
                if not chunk:
                    break
                i = chunk.find(b"\n")
                end = base + i + 1 if i >= 0 else None
                base += len(chunk)
            if end is None or end >= size:
                break
            cuts.append(end)
            pos = end + step
    return [(a, b) for a, b in zip(cuts, cuts[1:] + [size]) if b > a] or [(0, 0)]


def read_range(path: str, start: int, end: int, blk: int) -> dict[str, list[Any]]:
    """The stripped lines of one byte range by the line rule (the BOM only at the file's
    start); the first blank line or invalid byte ends the range with an error row
    (``err`` = ``"<line in range>\\t<message>"``)."""
    from ..data.readers.text import decode_utf8, split_lines, strip_ascii
    from ..errors import InputError

    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    texts: list[str] = []
    try:
        text = decode_utf8(data, path)
    except InputError as e:  # its line and byte offset are the range's: the offset made the file's
        at = _bad_byte(data)
        reason = e.reason.replace(f"at offset {at})", f"at offset {start + at})")
        return {"blk": [blk], "text": [""], "err": [f"{e.line or 1}\t{reason}"]}
    lines = split_lines(text) if start == 0 or not text.startswith("\ufeff") else split_lines("\n" + text)[1:]
    for n, ln in enumerate(lines, 1):
        s = strip_ascii(ln)
        if not s:
            return {"blk": [blk] * (len(texts) + 1), "text": texts + [""],
                    "err": [None] * len(texts) + [f"{n}\tblank line (every line must hold a record)"]}
        texts.append(s)
    return {"blk": [blk] * len(texts), "text": texts, "err": [None] * len(texts)}


def _bad_byte(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as u:
        return u.start
    return -1


def _read_batch(batch: Any) -> Any:
    """``map_batches``: one row (path, start, end, blk) -> the table of its lines."""
    import pyarrow as pa

    rows = batch.to_pylist()
    out: dict[str, list[Any]] = {"blk": [], "text": [], "err": []}
    for r in rows:
        got = read_range(r["path"], r["start"], r["end"], r["blk"])
        for k in out:
            out[k] += got[k]
    return pa.table({"blk": pa.array(out["blk"], pa.int32()), "text": pa.array(out["text"], pa.string()),
                     "err": pa.array(out["err"], pa.string())})


def file_blocks(src: LineFile, block_bytes: int | None = None) -> list[Any]:
    """The file as a Ray dataset of its lines (read in Ray tasks), as object references to
    its blocks in file order (nothing is fetched to the driver)."""
    import ray.data

    from ..data.readers.records import _check_file

    _check_file(src.path)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    p = str(Path(src.path).resolve())
    specs = [{"path": p, "start": a, "end": b, "blk": k} for k, (a, b) in enumerate(byte_ranges(p, block_bytes))]
    ds = ray.data.from_items(specs, override_num_blocks=len(specs))
    ds = ds.map_batches(_read_batch, batch_size=1, batch_format="pyarrow", num_cpus=0)  # beside busy actors
    return list(ds.to_arrow_refs())


def list_blocks(texts: list[Any]) -> list[Any]:
    """An in-memory list of texts (strings or word lists) in blocks of the object store."""
    import ray

    return [ray.put(texts[lo: lo + LIST_BLOCK]) for lo in range(0, len(texts), LIST_BLOCK)]


def block_texts(block: Any, words: bool) -> list[Any]:
    """A block's texts: a list as it is, or a line table's ``text`` column (split into words
    by ASCII spaces when ``words``)."""
    if isinstance(block, list):
        return block
    texts = block.column("text").to_pylist()
    if words:
        from ..data.readers.text import split_ascii_space

        return [list(split_ascii_space(t)) for t in texts]
    return texts


def block_errors(block: Any) -> dict[str, Any]:
    """A line table's rows, its rows per byte range, and its first error row as (range, line
    in range, message) or None."""
    import numpy as np

    blk = np.asarray(block.column("blk").to_numpy(zero_copy_only=False))
    ids, counts = np.unique(blk, return_counts=True)
    err = block.column("err").to_pylist()
    first = next((i for i, e in enumerate(err) if e is not None), None)
    found = None
    if first is not None:
        line, msg = err[first].split("\t", 1)
        found = (int(blk[first]), int(line), msg)
    return {"n": len(blk), "rows": {int(a): int(b) for a, b in zip(ids, counts)}, "err": found}


def check_blocks(path: str, blocks: list[Any]) -> None:
    """Raise the file's first error row as ``file:line`` (the lines of the ranges before it
    counted from their rows: every row before the error is one line), or the empty-file
    error; small Ray tasks (no CPU reserved: they run beside busy model actors)."""
    import ray

    from ..errors import InputError

    scans = ray.get([ray.remote(block_errors).options(num_cpus=0).remote(b) for b in blocks])
    errs = [s["err"] for s in scans if s["err"] is not None]
    if errs:
        rng, line, msg = min(errs)
        before = sum(n for s in scans for b, n in s["rows"].items() if b < rng)
        raise InputError(msg, path, before + line)
    if not sum(s["n"] for s in scans):
        raise InputError("no sentences (the file is empty)", path)
