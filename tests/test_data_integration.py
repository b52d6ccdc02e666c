"""Load every dataset of the real data mirror and check it against its card.

The mirror is found through $MBERT_LAB_DATA (default ``<repo>/../shared/data``); a missing
mirror fails these tests, it never skips them.
"""

from __future__ import annotations

from collections import Counter

import pytest

from mbert_lab.data import datasets as F
from mbert_lab.data import splits as S
from mbert_lab.data import registry as R
from tests._data_mirror import mirror_root

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def root():
    return mirror_root()


def test_card_checksums_match_the_mirror(root):
    rows = R.status(verify=True, root=root)
    assert {s.name: s.state for s in rows} == {s.name: "present" for s in rows}
    assert len(rows) == 9 and all(s.verified for s in rows)


def test_default_root_comes_from_the_environment(root, monkeypatch):
    monkeypatch.setenv("MBERT_LAB_DATA", str(root))
    assert R.dataset_dir("xnli") == root / "xnli"
    assert len(F.load_xnli("fr")) == 2490
    # discovery: what is on disk is what the cards list (no extra files in the mirror)
    assert F.available_languages("xnli") == ["ar", "de", "en", "es", "fr", "ru", "zh"]
    assert F.available_languages("masakhaner-v1")[:3] == ["amh", "hau", "ibo"]
    assert F.available_languages("muse") == ["de", "en", "es"]
    assert F.discovered() == {}
    assert all(s.extra == () for s in R.status(root=root))


def test_tatoeba(root):
    card = R.card("tatoeba")
    langs = F.tatoeba_languages()
    assert len(langs) == 112 and set(langs) | {"eng"} == set(card.language_codes())
    short = card.sizes["fewer_than_1000"]
    total = 0
    for lang in langs:
        c = F.load_tatoeba(lang, root=root)
        assert len(c) == short.get(lang, 1000), lang
        assert c.skipped == () and c.src_lang == lang and c.tgt_lang == "eng"
        total += len(c)
    assert total == card.sizes["pairs_total"]
    assert F.load_tatoeba("de", root=root).src_path.endswith("tatoeba.deu-eng.deu")


def test_gold_alignments(root):
    card = R.card("word-alignment")
    for name in F.alignment_sets():
        g = F.load_gold_alignment(name, root=root)
        assert g.index_base == 1 and g.index_evidence.startswith("1-based")
        size = card.sizes[name]
        assert len(g) == size["pairs"]
        assert sum(len(p.sure) for p in g) == size["sure_links"]
        assert sum(len(p.possible) for p in g) == size["possible_links"]
        for p in g:
            assert all(
                0 <= i < len(p.src_tokens) and 0 <= j < len(p.tgt_tokens)
                for i, j in p.sure_or_possible
            )
    ja = F.load_gold_alignment("ja-en", root=root)
    with_u3000 = [p.line for p in ja if "\u3000" in p.src_tokens]
    assert with_u3000 == [351, 352, 354, 355, 356]
    # forcing the wrong convention is caught, not silently scored
    with pytest.raises(Exception, match="beyond the sentence"):
        F.load_gold_alignment("enfr", index_base=0, root=root)


def test_pud(root):
    card = R.card("ud-pud")
    par = F.load_pud_parallel(root=root)
    assert len(par) == 1000
    words = Counter()
    for ps in par:
        for lang, s in ps.by_lang.items():
            assert s.sent_id == ps.sent_id and s.text
            words[lang] += len(s.tokens)
    from mbert_lab.languages import to_iso639_3

    assert {to_iso639_3(k): v for k, v in words.items()} == card.sizes["words"]
    en = F.load_pud("eng", root=root)
    assert en["n01001011"].words[0] == "\u201c"  # multi-word lines skipped, words kept
    assert all("-" not in str(t.id) for s in en.values() for t in s.tokens)


def test_udpos(root):
    card = R.card("xtreme-udpos")
    from mbert_lab.languages import to_iso639_3

    for split in ("train", "dev"):
        for lang in F.udpos_languages(split):
            sents = F.load_udpos(split, lang, root=root)
            want = card.sizes[split][to_iso639_3(lang)]
            assert len(sents) == want["sentences"] and sum(map(len, sents)) == want["tokens"], (
                split,
                lang,
            )


def test_xnli_and_pawsx(root):
    en = F.load_xnli("en", root=root)
    for lang in F.xnli_languages():
        items = F.load_xnli(lang, root=root)
        assert len(items) == 2490 and [x.label for x in items] == [x.label for x in en]
        assert Counter(x.label for x in items) == {
            "entailment": 830,
            "neutral": 830,
            "contradiction": 830,
        }
    premises = [x.premise for x in en]
    assert len(set(premises)) == 830
    split = S.parallel_item_split(len(en), groups=premises, seed=0)
    assert {premises[i] for i in split.train}.isdisjoint({premises[i] for i in split.eval})

    card = R.card("paws-x")
    pen = F.load_pawsx("en", root=root)
    for lang in F.pawsx_languages():
        items = F.load_pawsx(lang, root=root)
        iso = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa"}[lang]
        assert len(items) == 2000
        assert sum(x.untranslated for x in items) == card.sizes["untranslated_NS_rows"][iso]
        assert sum(x.label for x in items) == card.sizes["label_1"][iso]
        # labels differ from English only on untranslated rows
        assert all(a.label == b.label or b.untranslated for a, b in zip(pen, items))


def test_ner(root):
    card = R.card("conll2003-en")
    for split in ("train", "dev", "test"):
        sents = F.load_ner("conll2003-en", split, root=root)
        assert len(sents) == card.sizes[split]["sentences"]
        assert sum(map(len, sents)) == card.sizes[split]["tokens"]
        assert not any(s.notes for s in sents)
    mcard = R.card("masakhaner-v1")
    notes = []
    types = set()
    for lang in F.masakhaner_languages():
        for split in ("dev", "test"):
            sents = F.load_ner("masakhaner-v1", split, lang, root=root)
            assert len(sents) == mcard.sizes[split][lang]
            notes += [n for s in sents for n in s.notes]
            types |= {t[2:] for s in sents for t in s.tags if t != "O"}
    assert types == {"PER", "ORG", "LOC", "DATE"}
    assert [n.split(str(root) + "/")[1].split(": ")[0] for n in notes] == [
        "ner/masakhaner-v1/hau/test.txt:2851",
        "ner/masakhaner-v1/yor/test.txt:15604",
    ]
    with pytest.raises(Exception, match="breaks IOB2"):
        F.load_ner("masakhaner-v1", "test", "hau", root=root, iob="strict")


def test_muse(root):
    card = R.card("muse")
    for pair in F.muse_pairs():
        cats = F.muse_categories(pair)
        assert cats == sorted(card.sizes["by_pos_lines"][pair])
        raw = F.load_muse(pair, root=root, dedupe=False)
        assert Counter(e.category for e in raw) == card.sizes["by_pos_lines"][pair]
        combined = F.load_muse_combined(pair, root=root)
        assert len(combined) == card.sizes["combined_lines"][pair]
        assert {(e.src, e.tgt) for e in combined} == {(e.src, e.tgt) for e in raw}
    rec = F.load_muse("de-en", "recommended", root=root)
    assert {e.category for e in rec} == {"n", "v", "a", "o"}
    assert {e.category for e in F.load_muse("en-es", "recommended", root=root)} == {"o"}
    with pytest.raises(Exception, match="did you mean 'pn'"):
        F.load_muse("es-en", ["pnn"], root=root)


def test_get_rebuilds_the_mirror_offline(root, tmp_path):
    """`get` with an opener that serves the card URLs from the mirror reproduces every file,
    MUSE's derived combined dictionaries included, byte for byte."""
    for name in ("muse", "word-alignment"):
        card = R.card(name)
        by_url = {card.url_for(p): root / p for p in card.files if p not in card.upstream.derived}
        rep = R.get(name, root=tmp_path, opener=lambda url, m=by_url: open(m[url], "rb"))  # noqa: SIM115
        assert len(rep.downloaded) + len(rep.derived) == len(card.files)
        assert R.verify(name, root=tmp_path).state == "present"


def test_provenance_of_real_files(root):
    items = F.load_xnli("de", root=root)
    prov = R.dataset_provenance(
        "xnli", {x.path for x in items}, split="dev", languages=["deu"], root=root
    )
    assert prov.files == {"xnli/dev-de.tsv": R.card("xnli").files["xnli/dev-de.tsv"]}
