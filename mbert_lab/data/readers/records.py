"""Records with an id column and a text column (and, for ``index build``, a language
column): Parquet (``.parquet``) or JSON Lines (``.jsonl`` / ``.ndjson``: one JSON object per
line).

:func:`read_records` reads them in this process (pyarrow for Parquet; the line rule of
:mod:`.text` and ``json`` for JSON Lines), :func:`read_records_ray` as a Ray dataset
(``ray.data.read_parquet`` / ``read_json``), for the same ``(ids, texts)``. Both check the
columns before reading the rows (one-line error naming the file and the column), then every
row: ids are strings or integers (stored as strings) and unique, texts non-blank strings.
Neither module imports pyarrow or Ray until called.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import InputError
from .text import PathLike, read_lines, strip_ascii

PARQUET = (".parquet", ".pq")
JSONL = (".jsonl", ".ndjson")
RECORD_SUFFIXES = PARQUET + JSONL


def is_record_file(path: PathLike) -> bool:
    """Whether ``path`` is read as records (by its suffix) rather than one text per line."""
    return Path(path).suffix.lower() in RECORD_SUFFIXES


def _check_file(path: PathLike) -> None:
    """The clear errors of :func:`.text.read_bytes` (missing, a folder, unreadable) without
    reading the file."""
    import os

    p = Path(path)
    if p.is_dir():
        raise InputError("is a folder, expected a file", p)
    if not p.exists():
        raise InputError("no such file", p)
    if not os.access(p, os.R_OK):
        raise InputError("cannot read (permission denied)", p)


def _check_columns(path: PathLike, have: Sequence[str], id_column: str, text_column: str,
                   lang_column: str | None = None) -> None:
    roles = (("id", id_column), ("text", text_column)) + ((("lang", lang_column),) if lang_column else ())
    for role, col in roles:
        if col not in have:
            shown = ", ".join(have[:12]) + (" ..." if len(have) > 12 else "")
            raise InputError(f"no {role} column '{col}' (columns: {shown or 'none'}); "
                             f"name it with --{role}-column", path)


def _check_rows(path: PathLike, ids: Sequence[Any], texts: Sequence[Any], id_column: str,
                text_column: str, row_word: str = "row") -> tuple[list[str], list[str]]:
    """Ids -> str (strings or integers only, unique), texts non-blank strings (stripped of
    ASCII space/tab as the line rule strips); errors name file, row (1-based) and column."""
    out_i: list[str] = []
    out_t: list[str] = []
    seen: dict[str, int] = {}
    for n, (i, t) in enumerate(zip(ids, texts), 1):
        if isinstance(i, bool) or not isinstance(i, (str, int)):
            raise InputError(f"{row_word} {n}: column '{id_column}' must be a string or an integer, got {i!r}", path)
        sid = str(i)
        if sid in seen:
            raise InputError(f"{row_word} {n}: id {sid!r} in column '{id_column}' repeats {row_word} {seen[sid]}", path)
        seen[sid] = n
        if not isinstance(t, str) or not strip_ascii(t):
            raise InputError(f"{row_word} {n}: column '{text_column}' must be a non-blank string, got {t!r}", path)
        out_i.append(sid)
        out_t.append(strip_ascii(t))
    if not out_i:
        raise InputError("no records (the file is empty)", path)
    return out_i, out_t


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet needs pyarrow: pip install pyarrow (or 'mbert-lab[ray]')") from None
    return pq


def _parquet_columns(path: PathLike) -> list[str]:
    pq = _pyarrow_parquet()
    _check_file(path)
    try:
        return list(pq.read_schema(str(path)).names)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid / ArrowIOError for a file that is not Parquet
        raise InputError(f"not a Parquet file ({str(e).splitlines()[0]})", path) from None


def _jsonl_rows(path: PathLike) -> list[dict[str, Any]]:
    rows = []
    for n, ln in enumerate(read_lines(path, blank="error"), 1):
        try:
            obj = json.loads(ln)
        except json.JSONDecodeError as e:
            raise InputError(f"not JSON ({e.msg})", path, n) from None
        if not isinstance(obj, dict):
            raise InputError("expected a JSON object per line", path, n)
        rows.append(obj)
    return rows


def check_record_file(path: PathLike, *, id_column: str = "id", text_column: str = "text",
                      lang_column: str | None = None) -> None:
    """For a records file (by suffix; others pass): the file is readable and has both
    columns (Parquet: its schema; JSON Lines: the first line's fields), without reading the rows."""
    if not is_record_file(path):
        return
    if Path(path).suffix.lower() in PARQUET:
        _check_columns(path, _parquet_columns(path), id_column, text_column, lang_column)
        return
    _check_file(path)
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        obj = json.loads(first)
    except json.JSONDecodeError as e:
        raise InputError(f"not JSON ({e.msg})", path, 1) from None
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object per line", path, 1)
    _check_columns(path, list(obj), id_column, text_column, lang_column)


def _columns(path: PathLike, roles: dict[str, str]) -> tuple[dict[str, list[Any]], str]:
    """``{role: values}`` of the named columns (``roles``: role -> column) in file order, read
    in this process, and the word for a row in errors (``row`` / ``line``)."""
    if Path(path).suffix.lower() in PARQUET:
        pq = _pyarrow_parquet()
        _check_columns(path, _parquet_columns(path), roles["id"], roles["text"], roles.get("lang"))
        table = pq.read_table(str(path), columns=list(dict.fromkeys(roles.values())))
        return {r: table.column(c).to_pylist() for r, c in roles.items()}, "row"
    rows = _jsonl_rows(path)
    for n, r in enumerate(rows, 1):
        for role, col in roles.items():
            if col not in r:
                raise InputError(f"no {role} field '{col}' (fields: {', '.join(r) or 'none'}); "
                                 f"name it with --{role}-column", path, n)
    return {role: [r[col] for r in rows] for role, col in roles.items()}, "line"


def _columns_ray(path: PathLike, roles: dict[str, str]) -> dict[str, list[Any]]:
    """The same columns read as a Ray dataset (``ray.data.read_parquet`` / ``read_json``,
    order preserved); the columns are checked before the rows are read."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    p = str(Path(path).resolve())
    cols = list(dict.fromkeys(roles.values()))
    if Path(path).suffix.lower() in PARQUET:
        _check_columns(path, _parquet_columns(path), roles["id"], roles["text"], roles.get("lang"))
        ds = ray.data.read_parquet(p, columns=cols)
    else:
        _check_file(path)
        try:
            ds = ray.data.read_json(p, lines=True)
            names = list(ds.schema().names)
        except Exception as e:  # noqa: BLE001 -- Ray wraps pyarrow's parse error in its own types
            why = [ln.strip() for ln in str(e).splitlines() if "Error:" in ln] or [type(e).__name__]
            raise InputError(f"not JSON Lines ({why[-1][:200]})", path) from None
        _check_columns(path, names, roles["id"], roles["text"], roles.get("lang"))
    out: dict[str, list[Any]] = {c: [] for c in cols}
    for batch in ds.select_columns(cols).iter_batches(batch_format="pyarrow", batch_size=65536):
        for c in cols:
            out[c] += batch.column(c).to_pylist()
    return {r: out[c] for r, c in roles.items()}


def read_records(path: PathLike, *, id_column: str = "id", text_column: str = "text") -> tuple[list[str], list[str]]:
    """``(ids, texts)`` of a Parquet or JSON Lines file, in file order (see the module docstring)."""
    got, word = _columns(path, {"id": id_column, "text": text_column})
    return _check_rows(path, got["id"], got["text"], id_column, text_column, row_word=word)


def read_records_ray(path: PathLike, *, id_column: str = "id", text_column: str = "text") -> tuple[list[str], list[str]]:
    """The same ``(ids, texts)`` read as a Ray dataset (``ray.data.read_parquet`` /
    ``read_json``, order preserved); needs a connected Ray. The columns are checked before
    the rows are read (Parquet: its schema; JSON Lines: the dataset's schema)."""
    got = _columns_ray(path, {"id": id_column, "text": text_column})
    return _check_rows(path, got["id"], got["text"], id_column, text_column)


def read_lang_records(path: PathLike, *, id_column: str = "id", text_column: str = "text",
                      lang_column: str = "lang", ray: bool = False) -> list[tuple[str, str, str]]:
    """``(lang, id, text)`` rows of a Parquet / JSON Lines file (``index build``): the id and
    text columns as :func:`read_records` reads them (``ray``: as a Ray dataset, as
    :func:`read_records_ray` does), plus a language column of non-blank strings (stripped of
    ASCII space/tab); the columns are checked before the rows."""
    roles = {"id": id_column, "text": text_column, "lang": lang_column}
    got, word = (_columns_ray(path, roles), "row") if ray else _columns(path, roles)
    ids, texts = _check_rows(path, got["id"], got["text"], id_column, text_column, row_word=word)
    out = []
    for n, (lg, i, t) in enumerate(zip(got["lang"], ids, texts), 1):
        if not isinstance(lg, str) or not strip_ascii(lg):
            raise InputError(f"{word} {n}: column '{lang_column}' must be a non-blank string, got {lg!r}", path)
        out.append((strip_ascii(lg), i, t))
    return out


def write_records(path: PathLike, ids: Sequence[str], texts: Sequence[str], *, id_column: str = "id",
                  text_column: str = "text") -> Path:
    """The writer: Parquet or JSON Lines by the suffix (read back to equal records)."""
    from ...io import atomic_open

    p = Path(path)
    if p.suffix.lower() in PARQUET:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({id_column: list(ids), text_column: list(texts)}), str(p))
        return p
    with atomic_open(p, "w") as f:
        for i, t in zip(ids, texts):
            f.write(json.dumps({id_column: i, text_column: t}, ensure_ascii=False) + "\n")
    return p
