"""Data cards: parsing, validation, the checksum generator, registry-wide invariants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mbert_lab.data import cards as C
from mbert_lab.data import datasets as D
from mbert_lab.errors import DataMissingError, InputError
from mbert_lab.languages import is_known
from tests._data_mirror import mirror_root

REPO = Path(__file__).resolve().parent.parent

# ----------------------------------------------------------------------------- invariants


def all_cards():
    return C.load_cards(REPO / "data_cards")


def test_every_card_is_valid_and_complete():
    cards = all_cards()
    assert len(cards) == 9
    for name, c in cards.items():
        assert C.validate_card(c, expected_name=name) == []
        assert c.licence.id and isinstance(c.licence.research_only, bool)
        assert c.upstream.repository.startswith("https://") and (
            c.upstream.commit or c.upstream.ref
        )
        assert c.files and set(c.files) == set(c.file_sizes)
        assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in c.files.values())
        assert all(c.url_for(p) or p in c.upstream.derived for p in c.files)
        assert c.languages and all(is_known(code) and len(code) == 3 for code in c.language_codes())
        assert c.citation.lstrip().startswith("@") and c.known_quirks and c.description
        assert name in D.LOADERS, f"no loader registered for {name}"


def test_research_only_flags_follow_the_mirror_readme():
    cards = all_cards()
    for name in ("muse", "xnli", "conll2003-en", "masakhaner-v1", "word-alignment"):
        assert cards[name].licence.research_only, name
    for name in ("tatoeba", "paws-x", "ud-pud"):
        assert not cards[name].licence.research_only, name


def test_pinned_commits_appear_in_urls():
    for c in all_cards().values():
        if c.upstream.commit and c.upstream.base_url:
            assert c.upstream.commit in c.upstream.base_url, c.name


def test_every_dataset_of_the_mirror_readme_has_a_card():
    readme = (mirror_root() / "README.md").read_text(encoding="utf-8")
    folders = re.findall(r"^\| `([^`]+)/` \|", readme, flags=re.MULTILINE)
    assert len(folders) >= 9, "could not parse the mirror README's table"
    card_folders = {c.folder for c in all_cards().values()}
    assert set(folders) == card_folders


def test_cards_dir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv(C.CARDS_ENV, raising=False)
    assert C.cards_dir() == REPO / "data_cards"
    monkeypatch.setenv(C.CARDS_ENV, str(tmp_path))
    assert C.cards_dir() == tmp_path.resolve()
    with pytest.raises(DataMissingError, match="data cards folder not found"):
        C.card_paths(tmp_path / "nope")


# ----------------------------------------------------------------------------- parsing


def test_example_card_parses():
    c = C.parse_card(C.EXAMPLE_CARD)
    assert (
        c.name == "demo"
        and c.language_codes() == ("eng", "deu")
        and c.description == "A demo card."
    )


def test_not_a_card():
    with pytest.raises(InputError, match="must start with a '---'"):
        C.parse_card("name: x\n")
    with pytest.raises(InputError, match="not closed"):
        C.parse_card("---\nname: x\n")
    with pytest.raises(InputError, match="not valid YAML") as e:
        C.parse_card("---\nname: [x\n---\n", source="bad.md")
    assert e.value.path == "bad.md"
    with pytest.raises(InputError, match="lacks required field"):
        C.parse_card("---\nname: x\n---\n")


@pytest.mark.parametrize(
    "old,new,problem",
    [
        ("id: CC-BY-4.0", "id: ''", "licence.id is empty"),
        ("research_only: false", "research_only: maybe", "research_only must be true or false"),
        ("  commit: abc123\n", "", "needs a commit"),
        ("repository: https://example.org/demo", "repository: demo", "must be a URL"),
        ("languages: [eng, deu]", "languages: [eng, xxx]", "'xxx' is not an ISO 639-3"),
        ("languages: [eng, deu]", "languages: [en]", "'en' is not an ISO 639-3"),
        ("languages: [eng, deu]", "languages: [cmn-Hanz]", "cmn-Hanz"),
        ("languages: [eng, deu]", "languages: []", "languages is empty"),
        ("  demo/a.txt: e3b0", "  demo/a.txt: E3b0", "not a lower-case 64-hex"),
        ("  base_url: https://example.org/raw/abc123\n", "", "no download URL"),
        ("file_sizes:\n  demo/a.txt: 0", "file_sizes: {}", "file_sizes lacks"),
        ("folder: demo", "folder: ../demo", "folder '../demo'"),
        ('citation: "@misc{demo, title={Demo}}"', "citation: Demo 2020", "BibTeX"),
    ],
)
def test_validation_names_each_problem(old, new, problem):
    text = C.EXAMPLE_CARD.replace(old, new, 1)
    assert text != C.EXAMPLE_CARD
    with pytest.raises(InputError) as e:
        C.parse_card(text, source="demo.md")
    assert problem in str(e.value)


def test_name_must_match_file(tmp_path):
    p = tmp_path / "other.md"
    p.write_text(C.EXAMPLE_CARD, encoding="utf-8")
    with pytest.raises(InputError, match="does not match the file name 'other.md'"):
        C.load_card(p)


def test_unknown_dataset_did_you_mean(tmp_path):
    (tmp_path / "demo.md").write_text(C.EXAMPLE_CARD, encoding="utf-8")
    with pytest.raises(Exception, match="did you mean 'demo'"):
        C.get_card("dem", tmp_path)


# ----------------------------------------------------------------------------- checksums


def test_update_checksums_rewrites_only_the_file_blocks(tmp_path):
    cards_dir = tmp_path / "cards"
    cards_dir.mkdir()
    text = C.EXAMPLE_CARD.replace(
        "known_quirks: [none]", "# a comment to keep\nknown_quirks: [none]"
    )
    (cards_dir / "demo.md").write_text(text, encoding="utf-8")
    root = tmp_path / "root"
    (root / "demo" / "sub").mkdir(parents=True)
    (root / "demo" / "a.txt").write_bytes(b"hello\n")
    (root / "demo" / "sub" / "b.txt").write_bytes(b"world\n")
    (root / "demo" / ".a.txt.123.part").write_bytes(b"junk")  # a temporary download: ignored
    rc = C.main(["--update-checksums", "--data-root", str(root), "--cards", str(cards_dir)])
    assert rc == 0
    new = (cards_dir / "demo.md").read_text(encoding="utf-8")
    assert "# a comment to keep" in new and new.endswith("---\nA demo card.\n")
    c = C.load_card(cards_dir / "demo.md")
    import hashlib

    assert c.files == {
        "demo/a.txt": hashlib.sha256(b"hello\n").hexdigest(),
        "demo/sub/b.txt": hashlib.sha256(b"world\n").hexdigest(),
    }
    assert c.file_sizes == {"demo/a.txt": 6, "demo/sub/b.txt": 6}
    # idempotent
    assert C.update_checksums(root, directory=cards_dir) == {"demo": (2, 0, 0)}
    assert (cards_dir / "demo.md").read_text(encoding="utf-8") == new
    # a listed file that disappeared is an error unless pruned
    (root / "demo" / "sub" / "b.txt").unlink()
    (root / "demo" / "sub").rmdir()
    (root / "extra").mkdir()
    with pytest.raises(DataMissingError):
        C.update_checksums(root, directory=cards_dir)
    assert C.main(["--update-checksums", "--data-root", str(root), "--cards", str(cards_dir)]) == 2
    assert C.update_checksums(root, directory=cards_dir, prune=True) == {"demo": (1, 0, 1)}
    assert C.main(["--check", "--cards", str(cards_dir)]) == 0


def test_repo_cards_match_the_mirror_listing():
    """Every file of the mirror (but its README) belongs to exactly one card."""
    root = mirror_root()
    owned: dict[str, str] = {}
    for name, c in all_cards().items():
        for p in c.files:
            assert p not in owned, f"{p} is in both {owned.get(p)} and {name}"
            owned[p] = name
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {
        "README.md"
    }
    assert on_disk == set(owned)


def test_digit_only_sha_round_trips():
    text = C.EXAMPLE_CARD.split("files:")[0] + "---\nx\n"
    digits = "1" * 64
    c = C.parse_card(C.replace_file_blocks(text, {"demo/a.txt": digits}, {"demo/a.txt": 3}))
    assert c.files == {"demo/a.txt": digits} and c.file_sizes == {"demo/a.txt": 3}
