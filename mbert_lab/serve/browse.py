"""The results browser: paths inside the results folder only, folder listings, and tables
rendered from result JSON (``StudyResult`` files, the findings report's ``report.json``, or any
JSON object).

>>> rows = tables({"kind": "x", "by_layer": {"4": {"acc": 0.5}, "8": {"acc": 0.75}}})
>>> [t["title"] for t in rows], rows[1]["columns"], rows[1]["rows"]
(['summary', 'by_layer'], ['key', 'acc'], [['4', 0.5], ['8', 0.75]])
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError

KINDS = {".json": "json", ".png": "image", ".svg": "image", ".jpg": "image", ".jpeg": "image",
         ".html": "html", ".htm": "html", ".md": "markdown", ".txt": "text", ".tsv": "text", ".csv": "text",
         ".jsonl": "text", ".toml": "text", ".log": "text"}
MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_ROWS = 500
MAX_TABLES = 60


class Forbidden(Exception):
    """A path outside the results folder (traversal, absolute path, a link leading out)."""


def safe_path(root: Path, rel: str) -> Path:
    """``root / rel``, refused unless it stays inside ``root`` after resolving links."""
    if "\x00" in rel or "\\" in rel:
        raise Forbidden(f"path: refused '{rel}': only plain relative paths inside the results folder")
    pp = PurePosixPath(rel)
    if pp.is_absolute() or ".." in pp.parts or (rel[1:3] == ":/"):
        raise Forbidden(f"path: refused '{rel}': outside the results folder")
    base = root.resolve()
    p = (base / pp).resolve()
    if p != base and base not in p.parents:
        raise Forbidden(f"path: refused '{rel}': outside the results folder")
    if not p.exists():
        raise FileNotFoundError(f"path: no such file or folder '{rel}' in the results folder")
    return p


def kind_of(p: Path) -> str:
    return KINDS.get(p.suffix.lower(), "other")


def listing(root: Path, rel: str) -> dict[str, Any]:
    """A folder's sub-folders and files (with kinds); a report folder is flagged."""
    p = safe_path(root, rel)
    if not p.is_dir():
        raise InputError(f"path: '{rel}' is a file, expected a folder")
    base = root.resolve()
    dirs, files = [], []
    for c in sorted(p.iterdir(), key=lambda x: x.name.lower()):
        if c.name.startswith("."):
            continue
        try:
            r = c.resolve()
        except OSError:
            continue
        if r != base and base not in r.parents:
            continue  # a link leading out of the folder is not listed
        relc = str(c.relative_to(base)) if c.is_relative_to(base) else str(PurePosixPath(rel) / c.name)
        if c.is_dir():
            dirs.append({"name": c.name, "path": relc})
        elif c.is_file():
            files.append({"name": c.name, "path": relc, "kind": kind_of(c), "size": c.stat().st_size})
    names = {f["name"] for f in files}
    report = sorted(names & {"report.html", "report.md", "report.json"})
    return {"path": "" if p == base else str(p.relative_to(base)), "dirs": dirs, "files": files,
            "report": report}


def read_json(root: Path, rel: str) -> dict[str, Any]:
    """A JSON file of the folder: its kind, provenance, tables and the raw object."""
    p = safe_path(root, rel)
    if not p.is_file() or p.suffix.lower() != ".json":
        raise InputError(f"path: '{rel}' is not a .json file")
    if p.stat().st_size > MAX_JSON_BYTES:
        raise InputError(f"path: '{rel}' is larger than {MAX_JSON_BYTES // 2**20} MiB; open it directly")
    try:
        d = json.loads(p.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"not a JSON file ({e})", rel) from None
    prov = d.get("provenance") if isinstance(d, dict) else None
    return {"path": rel, "kind": d.get("kind") if isinstance(d, dict) else None,
            "schema_version": d.get("schema_version") if isinstance(d, dict) else None,
            "provenance": prov, "tables": tables(d), "raw_bytes": p.stat().st_size}


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _flat(d: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any] | None:
    """A dict of scalars or of small dicts of scalars -> one flat row (``a.b`` columns)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if _scalar(v):
            out[prefix + str(k)] = v
        elif isinstance(v, dict) and depth < 1:
            sub = _flat(v, f"{prefix}{k}.", depth + 1)
            if sub is None:
                return None
            out.update(sub)
        elif isinstance(v, list) and len(v) <= 8 and all(_scalar(x) for x in v):
            out[prefix + str(k)] = ", ".join(map(str, v))
        else:
            return None
    return out


def _table(title: str, keys: list[str], rows: list[dict[str, Any]], key_col: str | None) -> dict[str, Any]:
    cols: list[str] = [key_col] if key_col else []
    for r in rows:
        for c in r:
            if c not in cols:
                cols.append(c)
    body = [[(k if key_col and c == key_col else r.get(c)) for c in cols]
            for k, r in zip(keys, rows)][:MAX_ROWS]
    return {"title": title, "columns": cols, "rows": body, "truncated": len(rows) > MAX_ROWS}


def tables(obj: Any, title: str = "", out: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Tables found in a JSON value: a list of objects -> one row each; an object of objects
    (e.g. by layer, by language) -> one row per key; an object's scalars -> a key/value table.
    Provenance is left out (shown on its own)."""
    out = [] if out is None else out
    if len(out) >= MAX_TABLES:
        return out
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        flat = [_flat(x) for x in obj]
        if all(f is not None for f in flat):
            out.append(_table(title or "rows", [str(i) for i in range(len(obj))], flat, None))  # type: ignore[arg-type]
            return out
        for i, x in enumerate(obj[:20]):
            tables(x, f"{title}[{i}]", out)
        return out
    if not isinstance(obj, dict):
        return out
    scal = {k: v for k, v in obj.items() if _scalar(v) and k not in ("schema_version",)}
    if scal and title:
        out.append({"title": title, "columns": ["field", "value"], "rows": [[k, v] for k, v in scal.items()],
                    "truncated": False})
    rest = {k: v for k, v in obj.items() if not _scalar(v) and k != "provenance"}
    if rest and all(isinstance(v, dict) for v in rest.values()) and len(rest) > 1:
        flat = [_flat(v) for v in rest.values()]
        if all(f is not None and f for f in flat):
            out.append(_table(title or "values", list(rest), flat, "key"))  # type: ignore[arg-type]
            return out
        part = [{k: x for k, x in v.items() if _scalar(x)} for v in rest.values()]
        if all(part):  # e.g. by layer: each layer's figures in one table, the nested parts below
            out.append(_table(title or "values", list(rest), part, "key"))
    if scal and not title:
        out.append({"title": "summary", "columns": ["field", "value"], "rows": [[k, v] for k, v in scal.items()],
                    "truncated": False})
    for k, v in rest.items():
        tables(v, f"{title}.{k}" if title else str(k), out)
    return out
