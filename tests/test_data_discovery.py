"""Datasets discovered from the data root (issue #12): a root with synthetic files for
local-use language codes (``qaa``-``qtz``, which no table names) in the upstream layout.
Every loader finds them, `data list` shows them, their language info says "unknown"."""

from __future__ import annotations

from pathlib import Path

import pytest

from mbert_lab.data import datasets as D
from mbert_lab.data import registry as R
from mbert_lab.data.readers.muse import translations
from mbert_lab.errors import ConfigError, DataMissingError
from mbert_lab.languages import language_info

TOK = "{i}\t{w}\t{w}\t{u}\t_\t_\t{h}\tdep\t_\t_"


def conllu(sents: list[list[tuple[str, str]]], prefix: str) -> str:
    out = []
    for k, words in enumerate(sents, 1):
        out += [f"# sent_id = {prefix}-{k}", f"# text = {' '.join(w for w, _ in words)}"]
        out += [TOK.format(i=i, w=w, u=u, h=0 if i == 1 else 1) for i, (w, u) in enumerate(words, 1)]
        out.append("")
    return "\n".join(out) + "\n"


SENTS = [[("zu", "NOUN"), ("ba", "VERB")], [("ki", "PRON"), ("mo", "VERB"), (".", "PUNCT")]]
NER = "-DOCSTART- O\n\nAdu B-PER\nKofi I-PER\nwa O\n\nAccra B-LOC\n"
DICT = "".join(f"w{i}\tw{i}\n" for i in range(20))  # identical strings on both sides


def put(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode("utf-8"))


@pytest.fixture
def root(tmp_path, monkeypatch):
    r = tmp_path / "data"
    put(r, "ud-pud/qaa_pud-ud-test.conllu", conllu(SENTS, "n"))
    put(r, "ud/UD_Qab-Test/qab_test-ud-train.conllu", conllu(SENTS * 2, "t"))
    put(r, "ud/UD_Qab-Test/qab_test-ud-test.conllu", conllu(SENTS, "s"))
    put(r, "xtreme-udpos/dev-qaf.tsv", "zu\tNOUN\nba\tVERB\n\nki\tPRON\n")
    put(r, "xnli/dev-qae.tsv", "P\tH\tneutral\r\nP2\tH2\tentailment\r\n")
    put(r, "paws-x/dev-qae.tsv", "A\tB\t1\nNS\tC\t0\n")
    put(r, "muse/qaa-qab.5000-6500.txt", DICT)  # no by-pos/ files: the combined one is used
    put(r, "muse/by-pos/qab-qaa.5000-6500.n.txt", "w1\tw1\n")
    put(r, "ner/masakhaner-v2/qac/train.txt", NER)
    put(r, "ner/masakhaner-v2/qac/dev.txt", NER)
    put(r, "ner/masakhaner-v2/yor/test.txt", NER)
    put(r, "ner/masakhaner-v2/qag/test.txt", NER)
    put(r, "ner/masakhaner-v1/qag/test.txt", "Ade B-PER\n")
    put(r, "tatoeba/v1/tatoeba.qad-eng.qad", "\ufeffzu ba\r\nki mo\r\n")
    put(r, "tatoeba/v1/tatoeba.qad-eng.eng", "one\ntwo\n")
    monkeypatch.setenv("MBERT_LAB_DATA", str(r))
    return r.resolve()


def test_languages_come_from_disk(root):
    assert D.available_languages("ud-pud") == ["qaa"]
    assert D.available_languages("ud") == ["qab"]
    assert D.available_languages("xtreme-udpos") == ["qaf"]
    assert D.available_languages("xnli") == D.available_languages("paws-x") == ["qae"]
    assert D.available_languages("muse") == ["qaa", "qab"]
    put(root, "xnli/dev-de.tsv", "P\tH\tneutral\n")
    assert D.available_languages("xnli", stored=True) == ["deu", "qae"]
    (root / "xnli/dev-de.tsv").unlink()
    assert D.available_languages("masakhaner-v2") == ["qac", "qag", "yor"]
    assert D.available_languages("masakhaner-v1") == ["qag"]
    assert D.available_languages("tatoeba") == ["qad"]
    assert "qad" in D.tatoeba_languages() and "deu" in D.tatoeba_languages()  # card + disk
    assert D.muse_pairs(card=False) == ["qaa-qab", "qab-qaa"]
    assert D.discovered() == {
        "masakhaner-v2": [
            "ner/masakhaner-v2/qac/dev.txt",
            "ner/masakhaner-v2/qac/train.txt",
            "ner/masakhaner-v2/qag/test.txt",
            "ner/masakhaner-v2/yor/test.txt",
        ],
        "ud": ["ud/UD_Qab-Test/qab_test-ud-test.conllu", "ud/UD_Qab-Test/qab_test-ud-train.conllu"],
    }


def test_language_validation_rule(root):
    assert D.check_language("ud-pud", "qaa") == "qaa"  # files on disk
    assert D.check_language("ud-pud", "de") == "deu"  # the table knows it (no file needed)
    assert D.check_languages("xnli", "qae,fr") == ("qae", "fra")
    with pytest.raises(ConfigError) as e:
        D.check_language("ud-pud", "qzz")
    assert str(e.value) == (
        f"unknown language 'qzz': not in the language table and no ud-pud files for it under "
        f"{root} (found: qaa)"
    )
    with pytest.raises(ConfigError, match="no tatoeba files for it .*found: qad"):
        D.load_tatoeba("zz")
    with pytest.raises(ConfigError, match="unknown language 'qzz'"):
        D.load_ner("masakhaner", "dev", "qzz")
    # a known language without files: a missing-data error naming the file and what is there
    with pytest.raises(DataMissingError, match="xnli/dev-fi.tsv"):
        D.load_xnli("fin")


def test_loaders_read_the_new_languages(root):
    pud = D.load_pud("qaa")
    assert list(pud) == ["n-1", "n-2"] and pud["n-2"].words == ("ki", "mo", ".")
    assert [len(s.tokens) for s in D.load_ud("qab", "train")] == [2, 3, 2, 3]
    assert D.ud_treebanks("qab") == [
        "ud/UD_Qab-Test/qab_test-ud-test.conllu",
        "ud/UD_Qab-Test/qab_test-ud-train.conllu",
    ]
    with pytest.raises(DataMissingError, match=r"no 'dev' split \(splits present: test, train\)"):
        D.load_ud("qab", "dev")
    assert [s.tags for s in D.load_udpos("dev", "qaf")] == [("NOUN", "VERB"), ("PRON",)]
    assert [x.label for x in D.load_xnli("qae")] == ["neutral", "entailment"]
    assert [x.untranslated for x in D.load_pawsx("qae")] == [False, True]
    tat = D.load_tatoeba("qad")
    assert tat.src_sentences == ["zu ba", "ki mo"] and tat.src_lang == "qad"
    # MUSE without by-pos/: the combined file; identical strings give P@1 = 1 by lookup
    entries = D.load_muse("qaa-qab")
    gold = translations(entries)
    assert len(gold) == 20 and D.muse_categories("qaa-qab") == []
    assert sum(src in gold[src] for src in gold) / len(gold) == 1.0
    with pytest.raises(ConfigError, match="no part-of-speech files"):
        D.load_muse("qaa-qab", ["n"])
    assert [e.category for e in D.load_muse("qab-qaa")] == ["n"]


def test_masakhaner_v2_splits_and_versions(root):
    sents = D.load_ner("masakhaner-v2", "dev", "qac")
    assert [s.tags for s in sents] == [("B-PER", "I-PER", "O"), ("B-LOC",)]
    assert D.load_ner("masakhaner", "train", "qac")[0].tokens == ("Adu", "Kofi", "wa")
    with pytest.raises(DataMissingError, match=r"masakhaner-v2/qac has no 'test' split \(splits present: dev, train\)"):
        D.load_ner("masakhaner-v2", "test", "qac")
    # qag is in both versions: v1 unless v2 is asked for
    assert D.masakhaner_version("qag") == "masakhaner-v1"
    assert D.masakhaner_version("qag", "v2") == "masakhaner-v2"
    assert D.masakhaner_version("qac") == "masakhaner-v2"
    assert D.masakhaner_version("yo") == "masakhaner-v2"  # on disk (v1's card lists it too)
    assert D.masakhaner_version("yo", "v2") == "masakhaner-v2"
    assert len(D.load_ner("masakhaner", "test", "qag")) == 1
    assert len(D.load_ner("masakhaner", "test", "qag", version="v2")) == 2
    assert len(D.load_ner("masakhaner", "test", "yor", version="v2")) == 2
    with pytest.raises(DataMissingError, match="versions with it: v2"):
        D.masakhaner_version("qac", "v1")
    assert D.masakhaner_languages("v2") == ["qac", "qag", "yor"]


def test_unknown_languages_say_unknown(root):
    info = language_info("qaa")
    assert (info.code, info.iso639_3, info.known) == ("qaa", "qaa", False)
    assert info.name == info.script == info.family == info.genus == "unknown"
    assert info.iso639_1 == "unknown"
    assert None not in info.to_dict().values()
    rows = D.language_table("muse")
    assert [r["file_code"] for r in rows] == ["qaa", "qab"]
    assert all(r["name"] == "unknown" and r["family"] == "unknown" for r in rows)
    de = language_info("de")
    assert (de.code, de.iso639_1, de.name, de.script, de.known) == ("deu", "de", "German", "Latn", True)
    assert language_info("ang").iso639_1 == "none" and None not in language_info("ang").to_dict().values()


def test_cli_data_list_shows_extra_files_and_cardless_sets(root, capsys):
    from mbert_lab.cli import main as cli_main

    st = {s.name: s for s in R.status(root=root)}
    assert st["ud-pud"].extra == ("ud-pud/qaa_pud-ud-test.conllu",)
    assert st["tatoeba"].extra == ("tatoeba/v1/tatoeba.qad-eng.eng", "tatoeba/v1/tatoeba.qad-eng.qad")
    assert cli_main(["data", "--data-root", str(root), "list"]) == 0
    out = capsys.readouterr().out
    assert "ud-pud: 1 extra file, not in the card: ud-pud/qaa_pud-ud-test.conllu" in out
    assert "muse: 2 extra files, not in the card:" in out
    assert "masakhaner-v1: 1 extra file, not in the card: ner/masakhaner-v1/qag/test.txt" in out
    assert "masakhaner-v2: 4 files in the upstream layout, no card (languages: qac, qag, yor)" in out
    assert "ud: 2 files in the upstream layout, no card (languages: qab)" in out


def test_provenance_of_a_dataset_without_card(root):
    files = [s.path for s in D.load_ner("masakhaner-v2", "dev", "qac")][:1]
    prov = R.dataset_provenance("masakhaner-v2", files, split="dev", languages=["qac"])
    assert list(prov.files) == ["ner/masakhaner-v2/qac/dev.txt"]
