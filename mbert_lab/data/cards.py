"""Data cards: one Markdown file per dataset with YAML front matter, Hugging Face style.

A card says what a dataset is, where it comes from (repository, commit, download URLs),
under which licence, in which languages, and the sha256 and size of every file of it in
the data root. Cards live in ``data_cards/<name>.md`` at the project root (override the
folder with ``$MBERT_LAB_CARDS``).

Front matter fields (see ``data_cards/README.md``)::

    name, pretty_name, folder, upstream{repository, commit, ref, path, base_url, urls,
    derived, note}, licence{id, research_only, url, note}, languages, splits, sizes,
    citation, known_quirks, files{path: sha256}, file_sizes{path: bytes}

File paths are relative to the data root (``$MBERT_LAB_DATA``), POSIX style.

``files`` and ``file_sizes`` are generated from a data root by::

    python -m mbert_lab.data.cards --update-checksums [--data-root DIR] [NAME ...]

>>> card = parse_card(EXAMPLE_CARD, source="example.md")
>>> card.name, card.licence.research_only, card.url_for("demo/a.txt")
('demo', False, 'https://example.org/raw/abc123/a.txt')
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataMissingError, InputError, MbertLabError, choice_error

CARDS_ENV = "MBERT_LAB_CARDS"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]*$")
DERIVE_METHODS = ("sorted-unique-lines",)

EXAMPLE_CARD = """---
name: demo
pretty_name: Demo set
folder: demo
upstream:
  repository: https://example.org/demo
  commit: abc123
  path: data
  base_url: https://example.org/raw/abc123
licence:
  id: CC-BY-4.0
  research_only: false
languages: [eng, deu]
splits: [test]
sizes: {pairs: 2}
citation: "@misc{demo, title={Demo}}"
known_quirks: [none]
files:
  demo/a.txt: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
file_sizes:
  demo/a.txt: 0
---
A demo card.
"""


@dataclass(frozen=True)
class Derived:
    """A file of the data root built locally from other files of the same card.

    ``method`` is one of :data:`DERIVE_METHODS`; ``sources`` are data-root relative paths.
    ``sorted-unique-lines``: the lines of all sources, sorted by code point, duplicates
    removed, each ending in a newline (``LC_ALL=C sort -u``).
    """

    method: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Upstream:
    """Where the files come from.

    A file's download URL is ``urls[path]`` when given, else ``base_url`` + the path
    relative to the card's folder; files in ``derived`` are built locally instead.
    """

    repository: str
    commit: str | None = None
    ref: str | None = None
    path: str | None = None
    base_url: str | None = None
    urls: Mapping[str, str] = field(default_factory=dict)
    derived: Mapping[str, Derived] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Licence:
    """``id`` is an SPDX identifier where one exists, else ``LicenseRef-...``."""

    id: str
    research_only: bool
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DataCard:
    """A parsed data card. ``files`` maps data-root relative path -> sha256."""

    name: str
    pretty_name: str
    folder: str
    upstream: Upstream
    licence: Licence
    languages: tuple[str, ...]
    splits: tuple[str, ...]
    sizes: Mapping[str, Any]
    citation: str
    known_quirks: tuple[str, ...]
    files: Mapping[str, str]
    file_sizes: Mapping[str, int]
    description: str = ""
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def url_for(self, path: str) -> str | None:
        """The download URL of one file (None for derived files)."""
        if path in self.upstream.urls:
            return self.upstream.urls[path]
        if path in self.upstream.derived:
            return None
        prefix = self.folder.rstrip("/") + "/"
        if self.upstream.base_url and path.startswith(prefix):
            return self.upstream.base_url.rstrip("/") + "/" + path[len(prefix) :]
        return None

    def language_codes(self) -> tuple[str, ...]:
        """The ISO 639-3 part of every language tag, in card order."""
        return tuple(t.partition("-")[0] for t in self.languages)

    def files_under(self, prefix: str) -> list[str]:
        """Card files whose path starts with ``prefix`` (data-root relative), sorted."""
        return sorted(p for p in self.files if p.startswith(prefix))

    @property
    def total_bytes(self) -> int:
        return int(sum(self.file_sizes.values()))


# ---------------------------------------------------------------------------- parsing


def split_front_matter(text: str, source: str = "<card>") -> tuple[str, str, int]:
    """Return (front matter YAML, body, line number where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise InputError("a data card must start with a '---' line (YAML front matter)", source, 1)
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]) + "\n", "\n".join(lines[i + 1 :]), i + 2
    raise InputError("front matter is not closed by a '---' line", source, 1)


_REQUIRED = (
    "name",
    "pretty_name",
    "folder",
    "upstream",
    "licence",
    "languages",
    "splits",
    "sizes",
    "citation",
    "known_quirks",
    "files",
    "file_sizes",
)


def parse_card(text: str, source: str = "<card>", validate: bool = True) -> DataCard:
    """Parse a card's text. With ``validate`` (default) raise an InputError listing every
    problem :func:`validate_card` finds."""
    import yaml

    fm, body, _ = split_front_matter(text, source)
    try:
        data = yaml.safe_load(fm)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        raise InputError(
            f"front matter is not valid YAML: {getattr(e, 'problem', e)}", source, line
        ) from None
    if not isinstance(data, dict):
        raise InputError("front matter must be a YAML mapping", source, 2)
    missing = [k for k in _REQUIRED if k not in data and k not in ("files", "file_sizes")]
    if missing:
        raise InputError(f"card lacks required field(s): {', '.join(missing)}", source)
    try:
        card = _card_from_dict(data, body.strip("\n"), source)
    except (TypeError, ValueError, AttributeError) as e:
        raise InputError(f"malformed card field: {e}", source) from None
    if validate:
        problems = validate_card(card)
        if problems:
            raise InputError("invalid data card:\n  - " + "\n  - ".join(problems), source)
    return card


def _card_from_dict(d: dict[str, Any], body: str, source: str) -> DataCard:
    up = d["upstream"] or {}
    if not isinstance(up, dict):
        raise ValueError("upstream must be a mapping")
    derived = {}
    for path, spec in (up.get("derived") or {}).items():
        if not isinstance(spec, dict):
            raise ValueError(f"upstream.derived[{path!r}] must be a mapping with method and from")
        derived[str(path)] = Derived(
            method=str(spec.get("method")), sources=tuple(str(s) for s in spec.get("from") or ())
        )
    upstream = Upstream(
        repository=str(up.get("repository") or ""),
        commit=_opt_str(up.get("commit")),
        ref=_opt_str(up.get("ref")),
        path=_opt_str(up.get("path")),
        base_url=_opt_str(up.get("base_url")),
        urls={str(k): str(v) for k, v in (up.get("urls") or {}).items()},
        derived=derived,
        note=_opt_str(up.get("note")),
    )
    lic = d["licence"] or {}
    if not isinstance(lic, dict):
        raise ValueError("licence must be a mapping with id and research_only")
    ro = lic.get("research_only")
    licence = Licence(
        id=str(lic.get("id") or ""),
        research_only=ro if isinstance(ro, bool) else None,  # type: ignore[arg-type]
        url=_opt_str(lic.get("url")),
        note=_opt_str(lic.get("note")),
    )
    known = set(_REQUIRED) | {"description"}
    return DataCard(
        name=str(d["name"]),
        pretty_name=str(d["pretty_name"]),
        folder=str(d["folder"]).strip("/"),
        upstream=upstream,
        licence=licence,
        languages=tuple(str(x) for x in (d["languages"] or ())),
        splits=tuple(str(x) for x in (d["splits"] or ())),
        sizes=dict(d["sizes"] or {}),
        citation=str(d["citation"] or ""),
        known_quirks=tuple(str(x) for x in (d["known_quirks"] or ())),
        files={str(k): str(v) for k, v in (d.get("files") or {}).items()},
        file_sizes={str(k): v for k, v in (d.get("file_sizes") or {}).items()},
        description=body,
        source=source,
        extra={k: v for k, v in d.items() if k not in known},
    )


def _opt_str(x: Any) -> str | None:
    return None if x is None else str(x)


def _bad_relpath(p: str) -> bool:
    return p.startswith("/") or "\\" in p or any(part in ("", ".", "..") for part in p.split("/"))


def validate_card(card: DataCard, expected_name: str | None = None) -> list[str]:
    """Invariant checks; returns a list of problems (empty when the card is good).

    Checks: name (matches the file name), folder, licence id and research_only flag,
    upstream repository and commit/ref, a URL or a derive recipe for every file,
    64-hex sha256 and a size for every file, languages present and valid ISO 639-3 tags,
    splits, citation, known quirks.
    """
    from ..languages import is_known, parse_language_tag

    probs: list[str] = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", card.name):
        probs.append(f"name '{card.name}' must be lower-case letters, digits, '.', '_' or '-'")
    if expected_name is not None and card.name != expected_name:
        probs.append(f"name '{card.name}' does not match the file name '{expected_name}.md'")
    if not card.pretty_name.strip():
        probs.append("pretty_name is empty")
    if not card.folder or _bad_relpath(card.folder):
        probs.append(f"folder '{card.folder}' must be a relative path inside the data root")
    # licence
    if not card.licence.id.strip():
        probs.append("licence.id is empty (an SPDX id or LicenseRef-...)")
    if not isinstance(card.licence.research_only, bool):
        probs.append("licence.research_only must be true or false")
    # source
    up = card.upstream
    if not up.repository.startswith(("https://", "http://")):
        probs.append(f"upstream.repository '{up.repository}' must be a URL")
    if not (up.commit or up.ref):
        probs.append("upstream needs a commit (or, for a moving source, a ref)")
    # files
    if not card.files:
        probs.append("files is empty: run `python -m mbert_lab.data.cards --update-checksums`")
    for path, sha in card.files.items():
        if _bad_relpath(path):
            probs.append(f"file path '{path}' must be relative to the data root, without '..'")
        if not _SHA_RE.match(sha):
            probs.append(f"files['{path}'] is not a lower-case 64-hex sha256: '{sha}'")
        if path not in card.file_sizes:
            probs.append(f"file_sizes lacks '{path}'")
        if path not in up.derived and card.url_for(path) is None:
            probs.append(f"no download URL for '{path}' (give upstream.base_url or upstream.urls)")
    for path, size in card.file_sizes.items():
        if path not in card.files:
            probs.append(f"file_sizes lists '{path}' which files does not")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            probs.append(f"file_sizes['{path}'] must be a byte count, not {size!r}")
    for path, url in up.urls.items():
        if path not in card.files:
            probs.append(f"upstream.urls names '{path}' which files does not")
        if not url.startswith(("https://", "http://", "file://")):
            probs.append(f"upstream.urls['{path}'] is not a URL: '{url}'")
    for path, der in up.derived.items():
        if path not in card.files:
            probs.append(f"upstream.derived names '{path}' which files does not")
        if der.method not in DERIVE_METHODS:
            probs.append(
                f"upstream.derived['{path}'].method '{der.method}' is not one of {', '.join(DERIVE_METHODS)}"
            )
        if not der.sources:
            probs.append(f"upstream.derived['{path}'] has no sources ('from')")
        for s in der.sources:
            if s not in card.files or s in up.derived:
                probs.append(
                    f"upstream.derived['{path}'] source '{s}' must be a downloaded file of this card"
                )
    # languages
    if not card.languages:
        probs.append("languages is empty")
    for tag in card.languages:
        code = tag.partition("-")[0]
        if code != code.lower() or len(code) != 3 or not is_known(code):
            probs.append(f"language '{tag}' is not an ISO 639-3 code of mbert_lab.languages")
            continue
        try:
            parse_language_tag(tag)
        except MbertLabError as e:
            probs.append(f"language '{tag}': {e}")
    if len(set(card.languages)) != len(card.languages):
        probs.append("languages has duplicates")
    if not card.splits:
        probs.append("splits is empty")
    if "@" not in card.citation or "{" not in card.citation:
        probs.append("citation must be BibTeX")
    if not card.known_quirks:
        probs.append("known_quirks is empty (write 'none known' if so)")
    return probs


# ---------------------------------------------------------------------------- finding cards


def cards_dir() -> Path:
    """The folder holding the cards: ``$MBERT_LAB_CARDS`` or ``<project>/data_cards``."""
    env = os.environ.get(CARDS_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent.parent / "data_cards"


def card_paths(directory: str | Path | None = None) -> dict[str, Path]:
    """name -> card file, for every ``*.md`` in the cards folder except README.md."""
    d = Path(directory) if directory is not None else cards_dir()
    if not d.is_dir():
        raise DataMissingError(
            f"data cards folder not found: {d} (set ${CARDS_ENV} or run from a project checkout)"
        )
    return {p.stem: p for p in sorted(d.glob("*.md")) if p.name.lower() != "readme.md"}


_CACHE: dict[tuple[str, int, int], DataCard] = {}


def load_card(path: str | Path) -> DataCard:
    """Read, parse and validate one card file (cached on path, size and mtime)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DataMissingError(f"data card not found: {p}") from None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    card = parse_card(p.read_text(encoding="utf-8"), source=str(p), validate=False)
    problems = validate_card(card, expected_name=p.stem)
    if problems:
        raise InputError("invalid data card:\n  - " + "\n  - ".join(problems), str(p))
    _CACHE[key] = card
    return card


def load_cards(directory: str | Path | None = None) -> dict[str, DataCard]:
    """Every card of the folder, by name."""
    return {name: load_card(p) for name, p in card_paths(directory).items()}


def get_card(name: str, directory: str | Path | None = None) -> DataCard:
    """The card called ``name``; an unknown name gives a did-you-mean error."""
    paths = card_paths(directory)
    if name not in paths:
        raise choice_error("dataset", name, paths)
    return load_card(paths[name])


# ---------------------------------------------------------------------------- checksums


def _yaml_key(path: str) -> str:
    if _SAFE_KEY.match(path) and not path.endswith(":"):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_file_blocks(files: Mapping[str, str], sizes: Mapping[str, int]) -> str:
    """The generated ``files:`` and ``file_sizes:`` blocks of a card's front matter."""
    out = ["files:  # generated: python -m mbert_lab.data.cards --update-checksums"]
    # a sha256 of decimal digits only would read back as a YAML integer: quote it
    out += [
        f"  {_yaml_key(p)}: " + (f'"{files[p]}"' if files[p].isdigit() else files[p])
        for p in sorted(files)
    ]
    out.append("file_sizes:  # bytes; generated with files")
    out += [f"  {_yaml_key(p)}: {int(sizes[p])}" for p in sorted(sizes)]
    return "\n".join(out)


def replace_file_blocks(
    text: str, files: Mapping[str, str], sizes: Mapping[str, int], source: str = "<card>"
) -> str:
    """Return the card text with its ``files``/``file_sizes`` blocks regenerated; every
    other line of the card is kept as it is."""
    lines = text.split("\n")
    split_front_matter(text, source)
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    fm = lines[1:end]
    kept: list[str] = []
    i = 0
    while i < len(fm):
        key = fm[i].split(":", 1)[0]
        if fm[i][:1] not in (" ", "\t", "#", "-", "") and key in ("files", "file_sizes"):
            i += 1
            while i < len(fm) and (fm[i][:1] in (" ", "\t") or fm[i].strip() == ""):
                i += 1
            continue
        kept.append(fm[i])
        i += 1
    while kept and not kept[-1].strip():
        kept.pop()
    new_fm = kept + [render_file_blocks(files, sizes)]
    return "\n".join([lines[0], *new_fm, *lines[end:]])


def scan_files(card: DataCard, root: Path) -> dict[str, Path]:
    """Files a card covers in ``root``: everything under its folder (hidden files and
    temporary downloads excepted) plus the files outside the folder that it lists in
    ``files``, ``upstream.urls`` or ``upstream.derived``."""
    found: dict[str, Path] = {}
    base = root / card.folder
    if base.is_dir():
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
                found[rel] = p
    for rel in [*card.files, *card.upstream.urls, *card.upstream.derived]:
        if rel not in found:
            found[rel] = root / rel  # may be missing: update_checksums reports it
    return found


def update_checksums(
    root: str | Path | None = None,
    names: Iterable[str] | None = None,
    directory: str | Path | None = None,
    prune: bool = False,
) -> dict[str, tuple[int, int, int]]:
    """Recompute ``files`` and ``file_sizes`` of cards from the data root.

    Returns name -> (files now listed, files added, files removed). A listed file that is
    missing from ``root`` is an error unless ``prune`` (then it is dropped).
    """
    from ..io import atomic_write_text, sha256_file
    from ..paths import data_root

    r = Path(root) if root is not None else data_root()
    if not r.is_dir():
        raise DataMissingError(f"data root not found: {r} (set $MBERT_LAB_DATA)")
    paths = card_paths(directory)
    todo = list(names) if names else list(paths)
    report: dict[str, tuple[int, int, int]] = {}
    for name in todo:
        if name not in paths:
            raise choice_error("dataset", name, paths)
        text = paths[name].read_text(encoding="utf-8")
        card = parse_card(text, source=str(paths[name]), validate=False)
        found = scan_files(card, r)
        missing = sorted(rel for rel, p in found.items() if not p.is_file())
        if missing and not prune:
            raise DataMissingError(
                f"{name}: listed file(s) missing under {r}: {', '.join(missing[:5])}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                + " (use --prune to drop them from the card)"
            )
        present = {rel: p for rel, p in found.items() if p.is_file()}
        if not present:
            raise DataMissingError(f"{name}: no files under {r / card.folder}")
        files = {rel: sha256_file(p) for rel, p in present.items()}
        sizes = {rel: p.stat().st_size for rel, p in present.items()}
        new_text = replace_file_blocks(text, files, sizes, source=str(paths[name]))
        if new_text != text:
            atomic_write_text(paths[name], new_text)
        added = len(set(files) - set(card.files))
        removed = len(set(card.files) - set(files))
        report[name] = (len(files), added, removed)
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m mbert_lab.data.cards --update-checksums | --check``."""
    ap = argparse.ArgumentParser(
        prog="python -m mbert_lab.data.cards", description=__doc__.split("\n")[0]
    )
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--update-checksums",
        action="store_true",
        help="rewrite files/file_sizes from the data root",
    )
    g.add_argument("--check", action="store_true", help="validate every card (no data needed)")
    ap.add_argument("names", nargs="*", help="cards to update (default: all)")
    ap.add_argument("--data-root", default=None, help="data root (default: $MBERT_LAB_DATA)")
    ap.add_argument(
        "--cards",
        default=None,
        help=f"cards folder (default: ${CARDS_ENV} or <project>/data_cards)",
    )
    ap.add_argument(
        "--prune", action="store_true", help="drop listed files that are missing from the data root"
    )
    args = ap.parse_args(argv)
    try:
        if args.check:
            cards = load_cards(args.cards)
            for name, c in cards.items():
                print(f"{name}: ok ({len(c.files)} files, licence {c.licence.id})")
            return 0
        rep = update_checksums(args.data_root, args.names or None, args.cards, prune=args.prune)
        for name, (n, added, removed) in rep.items():
            print(f"{name}: {n} files (+{added} -{removed})")
        return 0
    except MbertLabError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
