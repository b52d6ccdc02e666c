"""Registry: status, sha256-verified downloads (file:// URLs, patched openers), provenance, CLI."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from mbert_lab.data import cards as C
from mbert_lab.data import registry as R
from mbert_lab.errors import ConfigError, DataMissingError

FILES = {"a.txt": b"b\tB\na\tA\n", "sub/c.txt": b"a\tA\nc\tC\n"}


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def world(tmp_path, monkeypatch):
    """An upstream folder served by file:// URLs, a cards folder with one card, an empty data root."""
    up = tmp_path / "upstream"
    for rel, data in FILES.items():
        (up / rel).parent.mkdir(parents=True, exist_ok=True)
        (up / rel).write_bytes(data)
    combined = b"a\tA\nb\tB\nc\tC\n"  # sorted, unique lines of both files
    files = {f"toy/{k}": sha(v) for k, v in FILES.items()} | {"toy/all.txt": sha(combined)}
    sizes = {f"toy/{k}": len(v) for k, v in FILES.items()} | {"toy/all.txt": len(combined)}
    text = f"""---
name: toy
pretty_name: Toy set
folder: toy
upstream:
  repository: https://example.org/toy
  commit: abc
  base_url: {up.as_uri()}
  derived:
    toy/all.txt:
      method: sorted-unique-lines
      from: [toy/a.txt, toy/sub/c.txt]
licence:
  id: CC-BY-NC-4.0
  research_only: true
languages: [deu, eng]
splits: [test]
sizes: {{lines: 3}}
citation: "@misc{{toy, title={{Toy}}}}"
known_quirks: [none]
---
A toy card.
"""
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "toy.md").write_text(C.replace_file_blocks(text, files, sizes), encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv(C.CARDS_ENV, str(cards))
    monkeypatch.setenv("MBERT_LAB_DATA", str(root))
    return {"up": up, "cards": cards, "root": root, "combined": combined}


def leftovers(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_status_missing_then_get_then_present(world):
    root = world["root"]
    (st,) = R.status()
    assert (st.name, st.state, st.n_present, st.n_files, st.research_only) == (
        "toy",
        "missing",
        0,
        3,
        True,
    )
    rep = R.get("toy")
    assert sorted(rep.downloaded) == ["toy/a.txt", "toy/sub/c.txt"] and rep.derived == (
        "toy/all.txt",
    )
    assert (root / "toy" / "all.txt").read_bytes() == world["combined"]
    assert leftovers(root) == ["toy/a.txt", "toy/all.txt", "toy/sub/c.txt"]
    assert R.dataset_status("toy", verify=True).state == "present"
    again = R.get("toy")
    assert again.downloaded == () and len(again.kept) == 3
    assert R.dataset_dir("toy") == root / "toy"


def test_status_partial_and_size_vs_sha_mismatch(world):
    root = world["root"]
    R.get("toy")
    (root / "toy" / "a.txt").unlink()
    assert R.dataset_status("toy").state == "partial"
    R.get("toy")
    # same size, different content: only verify=True notices
    (root / "toy" / "a.txt").write_bytes(b"x\tB\na\tA\n")
    assert R.dataset_status("toy").state == "present"
    st = R.dataset_status("toy", verify=True)
    assert st.state == "mismatch" and st.mismatched == ("toy/a.txt",)
    with pytest.raises(R.ChecksumError, match="toy/a.txt"):
        R.verify("toy")
    (root / "toy" / "a.txt").write_bytes(b"longer content\n")
    assert R.dataset_status("toy").state == "mismatch"
    # get repairs a corrupted file
    R.get("toy")
    assert R.verify("toy").state == "present"


def test_bad_checksum_leaves_nothing_behind(world):
    (world["up"] / "sub" / "c.txt").write_bytes(b"a\tA\nc\tX\n")  # upstream changed
    with pytest.raises(R.ChecksumError, match="does not match the card") as e:
        R.get("toy")
    assert "nothing was written" in str(e.value)
    assert "toy/sub/c.txt" not in leftovers(world["root"])
    assert not [p for p in leftovers(world["root"]) if ".part" in p]


def test_interrupted_download_leaves_nothing_behind(world):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.n = 0

        def readable(self):
            return True

        def read(self, size=-1):
            self.n += 1
            if self.n > 1:
                raise ConnectionResetError("connection reset")
            return b"b\tB\n"

    with pytest.raises(DataMissingError, match="cannot download .*connection reset"):
        R.get("toy", opener=lambda url: Broken())
    assert leftovers(world["root"]) == []


def test_opener_receives_card_urls(world):
    seen = []

    def opener(url):
        seen.append(url)
        return open(url.removeprefix("file://"), "rb")

    R.get("toy", opener=opener, force=True)
    assert sorted(seen) == sorted((world["up"] / k).as_uri() for k in FILES)


def test_dataset_provenance_hashes_once(world, monkeypatch):
    R.get("toy")
    import mbert_lab.io as mio

    calls = []
    real = mio.sha256_file
    monkeypatch.setattr(mio, "sha256_file", lambda p, *a: calls.append(p) or real(p, *a))
    R._SHA_CACHE.clear()
    prov = R.dataset_provenance(
        "toy",
        ["toy/a.txt", world["root"] / "toy" / "sub" / "c.txt"],
        split="test",
        languages=["deu"],
    )
    assert prov.name == "toy" and prov.split == "test" and prov.languages == ("deu",)
    assert prov.files == {
        "toy/a.txt": sha(FILES["a.txt"]),
        "toy/sub/c.txt": sha(FILES["sub/c.txt"]),
    }
    R.dataset_provenance("toy", ["toy/a.txt"])
    assert len(calls) == 2  # the second call used the cache
    everything = R.dataset_provenance("toy")
    assert set(everything.files) == {"toy/a.txt", "toy/sub/c.txt", "toy/all.txt"}
    with pytest.raises(DataMissingError):
        R.dataset_provenance("toy", ["toy/nope.txt"])


def test_unknown_dataset(world):
    with pytest.raises(ConfigError, match="did you mean 'toy'"):
        R.card("toi")


def test_cli_list_get_card(world, capsys):
    from mbert_lab.cli import main as cli_main

    assert cli_main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert (
        "toy" in out
        and "missing" in out
        and "CC-BY-NC-4.0" in out
        and "mbert-lab data get toy" in out
    )
    assert cli_main(["data", "get", "toy"]) == 0
    cap = capsys.readouterr()
    assert "2 downloaded, 1 built" in cap.out and "research use only" in cap.err
    assert cli_main(["data", "list", "--verify"]) == 0
    assert "present (sha256 ok)" in capsys.readouterr().out
    assert cli_main(["data", "card", "toy"]) == 0
    out = capsys.readouterr().out
    assert "Toy set" in out and "research only" in out and "@misc{toy" in out
    assert cli_main(["data", "card", "toy", "--raw"]) == 0
    assert "file_sizes:" in capsys.readouterr().out
    assert cli_main(["data", "card", "tyo"]) == 2
    assert "did you mean 'toy'" in capsys.readouterr().err
    (world["root"] / "toy" / "a.txt").write_bytes(b"corrupted, longer\n")
    assert cli_main(["data", "list"]) == 2  # a failed verification is bad input: exit 2
    assert "differs from its card" in capsys.readouterr().err


def test_cli_list_shows_extra_files(world, capsys):
    from mbert_lab.cli import main as cli_main

    R.get("toy")
    for rel in ("toy/new.txt", "toy/sub/more.txt"):
        (world["root"] / rel).write_text("x\ty\n", encoding="utf-8")
    st = R.dataset_status("toy")
    assert st.state == "present" and st.extra == ("toy/new.txt", "toy/sub/more.txt")
    assert R.extra_files("toy") == ["toy/new.txt", "toy/sub/more.txt"]
    assert cli_main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "toy: 2 extra files, not in the card: toy/new.txt, toy/sub/more.txt" in out


def test_cli_get_into_a_read_only_root_says_so(world, capsys, monkeypatch):
    from mbert_lab.cli import main as cli_main

    import tempfile

    def deny(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", deny)
    with pytest.raises(R.NotWritableError, match="not writable.*Permission denied"):
        R.get("toy")
    assert cli_main(["data", "get", "toy"]) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and "internet" not in err


def test_real_registry_names_and_loaders(monkeypatch):
    monkeypatch.delenv(C.CARDS_ENV, raising=False)
    from mbert_lab.data import datasets

    assert set(R.names()) <= set(datasets.LOADERS) == set(datasets.LAYOUTS)
    assert datasets.loader("xnli") is datasets.load_xnli
    monkeypatch.setenv("MBERT_LAB_DATA", "/nonexistent/root")
    with pytest.raises(DataMissingError, match="mbert-lab data get xnli"):
        datasets.load_xnli("de")
