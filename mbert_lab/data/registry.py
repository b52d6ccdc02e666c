"""Dataset registry: name -> data card -> its files in the data root (status, download,
checksums, provenance). It knows the cards' file lists only; the catalogue of what is on
disk and the loaders are :mod:`mbert_lab.data.datasets` (which imports this module, never
the other way round).

>>> sorted(names())[:3]
['conll2003-en', 'masakhaner-v1', 'muse']
>>> dataset_dir("xnli").name
'xnli'

``status()`` says which datasets are present (fast: file sizes; ``verify=True`` hashes
every file); ``get(name)`` downloads a dataset's files from the URLs of its card into the
data root, checking each sha256 before the file appears under its final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..io import file_mode
from ..errors import DataMissingError, InputError, MbertLabError
from ..paths import data_root
from .cards import DataCard, get_card, load_cards

class ChecksumError(MbertLabError):
    """A file's content does not match the sha256 its data card gives."""


# ---------------------------------------------------------------------------- lookup


def names() -> list[str]:
    """Names of every dataset with a card."""
    return sorted(load_cards())


def card(name: str) -> DataCard:
    """The data card of ``name`` (did-you-mean error for an unknown name)."""
    return get_card(name)


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of a dataset in the data root (it may not exist yet)."""
    return _root(root) / card(name).folder


def _root(root: str | Path | None) -> Path:
    return Path(root).expanduser().resolve() if root is not None else data_root()


def require_file(name: str, relpath: str, root: str | Path | None = None) -> Path:
    """Absolute path of one file of a dataset; DataMissingError (with what to do) if it
    is not there."""
    r = _root(root)
    p = r / relpath
    if not p.is_file():
        raise DataMissingError(
            f"dataset '{name}': file {relpath} not found under the data root {r} "
            f"(set $MBERT_LAB_DATA to the mirror, or run `mbert-lab data get {name}`)"
        )
    return p


# ---------------------------------------------------------------------------- checksums

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, cached in memory per (path, size, mtime) so it is hashed once."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    sha = _SHA_CACHE.get(key)
    if sha is None:
        from ..io import sha256_file

        sha = sha256_file(p)
        _SHA_CACHE[key] = sha
    return sha


def dataset_provenance(
    name: str,
    files: Iterable[str | Path] | None = None,
    *,
    split: str | None = None,
    languages: Iterable[str] = (),
    root: str | Path | None = None,
):
    """A :class:`mbert_lab.results.DatasetProvenance` naming the files a result used,
    with their sha256 (paths relative to the data root where they are inside it).

    ``files`` may be absolute paths or paths relative to the data root; ``None`` means
    every file of the dataset's card. A dataset without a card (found on disk, e.g.
    ``masakhaner-v2``) needs ``files``.

    >>> # prov = dataset_provenance("xnli", [r.path for r in load_xnli("de")][:1], split="dev")
    """
    from ..results import DatasetProvenance

    r = _root(root)
    if files is None:
        chosen = list(card(name).files)
    else:
        chosen = list(files)
    out: dict[str, str] = {}
    for f in chosen:
        p = Path(f)
        if not p.is_absolute():
            p = r / p
        if not p.is_file():
            raise DataMissingError(f"dataset '{name}': file {p} not found (data root {r})")
        try:
            rel = p.resolve().relative_to(r.resolve()).as_posix()
        except ValueError:
            rel = str(p)
        out[rel] = file_sha256(p)
    return DatasetProvenance(
        name=name, files=dict(sorted(out.items())), split=split, languages=tuple(languages)
    )


# ---------------------------------------------------------------------------- status


@dataclass(frozen=True)
class DatasetStatus:
    """What the data root holds of one dataset.

    ``state``: ``present`` (all files, sizes match; with ``verified`` also sha256),
    ``missing`` (no file), ``partial`` (some files), ``mismatch`` (a file whose size or
    sha256 differs from the card). ``extra``: files in the dataset's folder that the card
    does not list (see :func:`extra_files`).
    """

    name: str
    state: str
    n_files: int
    n_present: int
    missing: tuple[str, ...]
    mismatched: tuple[str, ...]
    verified: bool
    licence: str
    research_only: bool
    folder: str
    total_bytes: int
    extra: tuple[str, ...] = ()


def dataset_status(
    name: str, verify: bool = False, root: str | Path | None = None
) -> DatasetStatus:
    """The :class:`DatasetStatus` of one dataset."""
    c = card(name)
    r = _root(root)
    missing: list[str] = []
    bad: list[str] = []
    for rel, sha in c.files.items():
        p = r / rel
        try:
            size = p.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            missing.append(rel)
            continue
        if size != c.file_sizes.get(rel) or (verify and file_sha256(p) != sha):
            bad.append(rel)
    n = len(c.files)
    present = n - len(missing)
    if bad:
        state = "mismatch"
    elif present == 0:
        state = "missing"
    elif missing:
        state = "partial"
    else:
        state = "present"
    return DatasetStatus(
        name=name,
        state=state,
        n_files=n,
        n_present=present,
        missing=tuple(sorted(missing)),
        mismatched=tuple(sorted(bad)),
        verified=verify,
        licence=c.licence.id,
        research_only=bool(c.licence.research_only),
        folder=c.folder,
        total_bytes=c.total_bytes,
        extra=tuple(extra_files(name, r)),
    )


def extra_files(name: str, root: str | Path | None = None) -> list[str]:
    """Files under a dataset's folder that its card does not list (root-relative, sorted):
    data the user added in the upstream layout (more languages, pairs, splits)."""
    c = card(name)
    r = _root(root)
    top = r / c.folder
    known = set(c.files)
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for f in filenames:
            rel = (Path(dirpath) / f).relative_to(r).as_posix()
            if rel not in known:
                out.append(rel)
    return sorted(out)


def status(verify: bool = False, root: str | Path | None = None) -> list[DatasetStatus]:
    """Status of every dataset; fast by default (sizes only), sha256 with ``verify``."""
    return [dataset_status(n, verify=verify, root=root) for n in names()]


# ---------------------------------------------------------------------------- download

Opener = Callable[[str], BinaryIO]


def _default_opener(url: str) -> BinaryIO:
    import urllib.request

    req = urllib.request.Request(url, headers={"User-Agent": "mbert-lab data get"})
    return urllib.request.urlopen(req, timeout=60)  # URLs come from the cards


def _write_verified(
    dest: Path, chunks: Iterable[bytes], sha: str, size: int | None, what: str
) -> None:
    """Stream ``chunks`` into a temporary sibling of ``dest``; rename it into place only
    if the sha256 (and size) match, else remove it and raise ChecksumError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    h = hashlib.sha256()
    n = 0
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), file_mode())  # downloads follow the umask, not mkstemp's 0600
            for b in chunks:
                h.update(b)
                n += len(b)
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        got = h.hexdigest()
        if got != sha or (size is not None and n != size):
            raise ChecksumError(
                f"{what}: sha256 {got} ({n} bytes) does not match the card's {sha}"
                + (f" ({size} bytes)" if size is not None else "")
                + "; nothing was written (upstream changed, or the download was cut)"
            )
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class NotWritableError(MbertLabError):
    """The data root (or a dataset folder in it) cannot be written."""


def check_writable(folder: Path) -> None:
    """Raise :class:`NotWritableError` unless files can be created in ``folder`` (made if
    missing): the test creates and removes a temporary file, so read-only mounts count."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise NotWritableError(
            f"the data root is not writable: cannot create files in {folder} ({why}); "
            "choose another root with --data-root or $MBERT_LAB_DATA"
        ) from None


def _iter_url(opener: Opener, url: str, chunk: int = 1 << 16) -> Iterable[bytes]:
    with contextlib.closing(opener(url)) as resp:
        while True:
            b = resp.read(chunk)
            if not b:
                break
            yield b


def _derive(c: DataCard, rel: str, r: Path) -> Iterable[bytes]:
    der = c.upstream.derived[rel]
    if der.method != "sorted-unique-lines":  # validated by the card; defensive
        raise InputError(f"unknown derive method '{der.method}'", c.source)
    lines: set[bytes] = set()
    for s in der.sources:
        data = (r / s).read_bytes()
        lines.update(x for x in data.split(b"\n") if x)
    # UTF-8 byte order is code point order, so this is LC_ALL=C sort -u.
    yield b"".join(x + b"\n" for x in sorted(lines))


@dataclass(frozen=True)
class GetReport:
    """What :func:`get` did: files downloaded, built locally, and already present."""

    name: str
    root: Path
    downloaded: tuple[str, ...]
    derived: tuple[str, ...]
    kept: tuple[str, ...]


def get(
    name: str,
    root: str | Path | None = None,
    *,
    force: bool = False,
    opener: Opener | None = None,
    progress: Callable[[str], None] | None = None,
) -> GetReport:
    """Download every file of dataset ``name`` from its card's URLs into the data root.

    Each file is streamed into a temporary file beside its destination and renamed into
    place only when its sha256 and size match the card: an interrupted or corrupted
    download leaves nothing under the final name. Files already present with the right
    checksum are kept (unless ``force``). Derived files (e.g. MUSE's combined
    dictionaries) are built from the downloaded ones. ``opener(url)`` returns a readable
    binary stream (default: ``urllib.request.urlopen``; ``file://`` URLs work).
    """
    c = card(name)
    r = _root(root)
    op = opener or _default_opener
    done: list[str] = []
    built: list[str] = []
    kept: list[str] = []
    check_writable(r / c.folder)
    order = [p for p in sorted(c.files) if p not in c.upstream.derived] + sorted(c.upstream.derived)
    for rel in order:
        sha = c.files[rel]
        dest = r / rel
        if (
            not force
            and dest.is_file()
            and dest.stat().st_size == c.file_sizes.get(rel)
            and file_sha256(dest) == sha
        ):
            kept.append(rel)
            continue
        if rel in c.upstream.derived:
            if progress:
                progress(f"building {rel}")
            _write_verified(
                dest, _derive(c, rel, r), sha, c.file_sizes.get(rel), f"{name}: built {rel}"
            )
            built.append(rel)
            continue
        url = c.url_for(rel)
        if url is None:  # validated by the card; defensive
            raise InputError(f"no download URL for {rel}", c.source)
        if progress:
            progress(f"downloading {url}")
        try:
            _write_verified(dest, _iter_url(op, url), sha, c.file_sizes.get(rel), f"{name}: {url}")
        except PermissionError as e:
            raise NotWritableError(
                f"the data root is not writable: cannot write {dest} ({e.strerror}); "
                "choose another root with --data-root or $MBERT_LAB_DATA"
            ) from None
        except OSError as e:
            raise DataMissingError(
                f"{name}: cannot download {url}: {e} (no internet access?)"
            ) from e
        done.append(rel)
    return GetReport(
        name=name, root=r, downloaded=tuple(done), derived=tuple(built), kept=tuple(kept)
    )


def verify(name: str, root: str | Path | None = None) -> DatasetStatus:
    """Full sha256 check of one dataset; raises ChecksumError / DataMissingError on problems."""
    st = dataset_status(name, verify=True, root=root)
    if st.mismatched:
        raise ChecksumError(
            f"dataset '{name}': {len(st.mismatched)} file(s) differ from the card: "
            + ", ".join(st.mismatched[:5])
        )
    if st.missing:
        raise DataMissingError(
            f"dataset '{name}': {len(st.missing)} file(s) missing under {_root(root)}: "
            + ", ".join(st.missing[:5])
            + f" (run `mbert-lab data get {name}`)"
        )
    return st


__all__ = [
    "ChecksumError",
    "DatasetStatus",
    "GetReport",
    "NotWritableError",
    "card",
    "check_writable",
    "dataset_dir",
    "dataset_provenance",
    "dataset_status",
    "extra_files",
    "file_sha256",
    "get",
    "names",
    "require_file",
    "status",
    "verify",
]
