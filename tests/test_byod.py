"""Acceptance of issue #12: every study on languages the code has never named.

A data root is built from small synthetic files for local-use codes (``qaa``-``qtz``, which
no language table names) in the upstream layouts: PUD CoNLL-U, a user UD treebank, MUSE
dictionaries (with and without ``by-pos/``), MasakhaNER 1.0 / 2.0, Tatoeba pairs, XNLI tsv.
Every study runs on them with the tiny random BERT, and the values the synthetic data implies
are asserted; the languages' info says "unknown".
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mbert_lab.languages import language_info

from .conftest import TOY_CORPUS


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _vocab(tokenizer) -> tuple[list[str], list[str], list[str]]:
    """Latin and Devanagari words the tiny tokenizer keeps as one piece, and Latin words it
    splits into exactly two pieces."""
    words = sorted({w for s in TOY_CORPUS for w in re.findall(r"\w+", s)})
    one = [w for w in words if tokenizer.tokenize(w) == [w]]
    latin = [w for w in one if w.isascii()]
    deva = [w for w in one if "\u0900" <= w[0] <= "\u097f"]
    two = [w for w in words if w.isascii() and len(tokenizer.tokenize(w)) == 2]
    assert len(latin) >= 6 and len(deva) >= 5 and len(two) >= 3, (latin, deva, two)
    return latin, deva, two


def _sentences(words: list[str], n: int, seed: int, length: int = 5) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    while len(out) < n:
        s = [words[int(i)] for i in rng.integers(0, len(words), size=length)]
        if tuple(s) not in seen:
            seen.add(tuple(s))
            out.append(s)
    return out


def _tag(w: str) -> str:
    return ["NOUN", "VERB", "ADJ"][sum(map(ord, w)) % 3]  # a function of the word: a separable task


def _conllu(sents: list[list[str]], prefix: str = "s") -> str:
    lines = []
    for k, s in enumerate(sents):
        lines += [f"# sent_id = {prefix}{k}", f"# text = {' '.join(s)}"]
        lines += [f"{j}\t{w}\t_\t{_tag(w)}\t_\t_\t0\t_\t_\t_" for j, w in enumerate(s, start=1)]
        lines.append("")
    return "\n".join(lines) + "\n"


def _ner(sents: list[list[str]], date: str | None = None) -> str:
    out = []
    for s in sents:
        out += [f"{w} {'B-PER' if w[0].isupper() else 'O'}" for w in s]
        if date:
            out.append(f"{date} B-DATE")  # a training word tagged O there: O in the 'date-as-O' view
        out.append("")
    return "\n".join(out) + "\n"


@pytest.fixture
def byod_root(tmp_path, tiny_encoder, monkeypatch) -> Path:
    latin, deva, two = _vocab(tiny_encoder.tokenizer)
    r = tmp_path / "data"
    qaa, qab = _sentences(latin, 40, 0), _sentences(deva, 40, 1)
    # PUD layout (and English, for transfer), a user UD treebank under ud/
    (r / "ud-pud").mkdir(parents=True)
    (r / "ud-pud" / "qaa_pud-ud-test.conllu").write_text(_conllu(qaa[:20]))
    (r / "ud-pud" / "qab_pud-ud-test.conllu").write_text(_conllu(_sentences(latin, 20, 5)))
    (r / "ud-pud" / "en_pud-ud-test.conllu").write_text(_conllu(_sentences(latin, 20, 6)))
    (r / "ud" / "UD_Qac-Test").mkdir(parents=True)
    (r / "ud" / "UD_Qac-Test" / "qac_test-ud-test.conllu").write_text(_conllu(_sentences(two, 10, 7)))
    (r / "xtreme-udpos").mkdir()
    train = _sentences(latin, 60, 8)
    (r / "xtreme-udpos" / "train-en.tsv").write_text(
        "".join("".join(f"{w}\t{_tag(w)}\n" for w in s) + "\n" for s in train))
    # Tatoeba: the same sentence on both sides
    (r / "tatoeba" / "v1").mkdir(parents=True)
    for code, sents in (("qaa", qaa), ("qab", qab)):
        text = "".join(" ".join(s) + "\n" for s in sents[:16])
        (r / "tatoeba" / "v1" / f"tatoeba.{code}-eng.{code}").write_text(text)
        (r / "tatoeba" / "v1" / f"tatoeba.{code}-eng.eng").write_text(text)
    # MUSE: identical strings; qaa-qab combined only, qac-qad with by-pos/ files
    (r / "muse" / "by-pos").mkdir(parents=True)
    (r / "muse" / "qaa-qab.5000-6500.txt").write_text("".join(f"{w}\t{w}\n" for w in latin + deva))
    (r / "muse" / "qac-qad.5000-6500.txt").write_text("".join(f"{w}\t{w}\n" for w in latin))
    (r / "muse" / "by-pos" / "qac-qad.5000-6500.n.txt").write_text("".join(f"{w}\t{w}\n" for w in latin[:4]))
    (r / "muse" / "by-pos" / "qac-qad.5000-6500.v.txt").write_text("".join(f"{w}\t{w}\n" for w in latin[4:]))
    # NER: CoNLL-2003 English, MasakhaNER 1.0 (qaa) and 2.0 (qaa: dev only; qab)
    ner = r / "ner"
    (ner / "conll2003-en").mkdir(parents=True)
    (ner / "conll2003-en" / "train.txt").write_text(_ner(_sentences(latin, 60, 9)))
    (ner / "conll2003-en" / "dev.txt").write_text(_ner(_sentences(latin, 10, 10)))
    for v, lang, splits in (("v1", "qaa", ("dev", "test")), ("v2", "qaa", ("dev",)), ("v2", "qab", ("dev", "test"))):
        (ner / f"masakhaner-{v}" / lang).mkdir(parents=True)
        for i, sp in enumerate(splits):
            (ner / f"masakhaner-{v}" / lang / f"{sp}.txt").write_text(_ner(_sentences(latin, 10, 20 + i),
                                                                                   date=[w for w in latin if w.islower()][0]))
    # XNLI: qaa is a copy of the English dev set (parallel by line)
    (r / "xnli").mkdir()
    labs = ("entailment", "neutral", "contradiction")
    rows = "".join(f"{' '.join(a)}\t{' '.join(b)}\t{labs[i % 3]}\n"
                   for i, (a, b) in enumerate(zip(_sentences(latin, 30, 30), _sentences(latin, 30, 31))))
    for code in ("en", "qaa"):
        (r / "xnli" / f"dev-{code}.tsv").write_text(rows)
    monkeypatch.setenv("MBERT_LAB_DATA", str(r))
    return r


def test_catalogue_sees_the_unnamed_languages(byod_root):
    from mbert_lab.data import datasets as D

    assert D.available_languages("ud-pud", byod_root) == ["en", "qaa", "qab"]
    assert D.available_languages("ud", byod_root) == ["qac"]
    assert D.available_languages("tatoeba", byod_root) == ["qaa", "qab"]
    assert D.muse_pairs(byod_root, card=False) == ["qaa-qab", "qac-qad"]
    assert D.available_languages("masakhaner-v1", byod_root) == ["qaa"]
    assert D.available_languages("masakhaner-v2", byod_root) == ["qaa", "qab"]
    assert D.check_language("ud-pud", "qaa", byod_root) == "qaa"
    assert [x["name"] for x in D.language_table("ud-pud", byod_root)] == ["English", "unknown", "unknown"]
    with pytest.raises(Exception, match=r"unknown language 'qzz': not in the language table and no ud-pud "
                       r"files for it under .* \(found: en, qaa, qab\)"):
        D.check_language("ud-pud", "qzz", byod_root)
    for code in ("qaa", "qab", "qac", "qad"):
        info = language_info(code)
        assert (info.name, info.family, info.script, info.known) == ("unknown", "unknown", "unknown", False)


def test_tatoeba_identical_sides_retrieve_perfectly(byod_root, tiny_encoder):
    from mbert_lab.studies.retrieval import TatoebaConfig, tatoeba

    r = tatoeba(TatoebaConfig(langs="qaa,qab", layers="all", cache=False), encoder=tiny_encoder)
    for t in r.transforms.values():
        for layer, per in t.per_language.items():
            for lang in ("qaa", "qab"):
                s = per[lang]
                assert (s.n, s.xx_to_eng, s.eng_to_xx) == (16, 1.0, 1.0), (layer, lang, s)
        assert t.test_at_best.xx_to_eng == 1.0


@pytest.mark.parametrize("pair, what, cats", [("qaa-qab", "muse combined", ()), ("qac-qad", "muse by-pos", ("n", "v"))])
def test_bli_identical_strings(byod_root, tiny_encoder, pair, what, cats):
    """Every source word's own string is in the target vocabulary and encodes to the same
    vector: P@1 = 100 on all entries; 'without identical' has nothing left (n = 0)."""
    from mbert_lab.studies.retrieval import BliConfig, bli

    r = bli(BliConfig(pair=pair, layers="all", cache=False), encoder=tiny_encoder)
    assert r.pair == pair and r.dictionary == what and r.categories == cats
    n = len((byod_root / "muse" / f"{pair}.5000-6500.txt").read_text().splitlines())
    assert r.n_sources == r.n_targets == n
    for layer, by in r.results.items():
        for m, sc in by.items():
            assert (sc.all_categories.n, sc.all_categories.p_at_1) == (n, 100.0), (layer, m)
            assert sc.all_categories_without_identical.n == 0
    assert r.layer_choice.test_at_best.p_at_1 == 100.0
    a, b = pair.split("-")
    assert language_info(a).name == language_info(b).name == "unknown"


def test_bli_user_dictionary(byod_root, tiny_encoder, tmp_path):
    from mbert_lab.studies.retrieval import BliConfig, bli

    d = tmp_path / "my.dict"
    d.write_text("Der\tDer\nden\tden\npar\tpar\n")
    r = bli(BliConfig(dictionary=str(d), layers=4, cache=False), encoder=tiny_encoder)
    assert r.n_sources == 3 and r.results[4][r.layer_choice.method].all_categories.p_at_1 == 100.0


def test_centroids_lid_on_separable_unnamed_languages(byod_root, tiny_encoder):
    """qaa (Latin words) vs qab (Devanagari letters): no shared piece, so the languages are
    trivially separable: LID accuracy 1.0 at every layer; their info says unknown. The
    Tatoeba folder of the data root is the default input; a CoNLL-U input (a user UD treebank)
    works too."""
    from mbert_lab.studies.centroids import CentroidsConfig, centroids

    r = centroids(CentroidsConfig(layers="all", min_sentences=8, pud_sentences=10, cache=False), encoder=tiny_encoder)
    assert r.languages == ("qaa", "qab")
    for m in ("nearest_centroid", "probe"):
        assert r.lid_accuracy(m) == [1.0] * len(r.layers), m
    for code in r.languages:
        assert (r.info[code].name, r.info[code].family, r.info[code].script) == ("unknown",) * 3
    assert r.retrieval is not None  # Tatoeba pairs: retrieval too (identical sides)
    u = centroids(CentroidsConfig(conllu={"qac": str(byod_root / "ud" / "UD_Qac-Test" / "qac_test-ud-test.conllu")},
                                  files={"qab": str(byod_root / "tatoeba" / "v1" / "tatoeba.qab-eng.qab")},
                                  layers=4, min_sentences=8, geometry=False, cache=False), encoder=tiny_encoder)
    assert set(u.languages) == {"qab", "qac"}
    assert u.split.n_train["qac"] + u.split.n_test["qac"] == 10


def test_vocab_fertility_of_a_known_tokenization(byod_root, tiny_encoder):
    """qaa / qab words are single pieces of the tiny tokenizer (fertility 1), qac words two
    pieces each (fertility 2), from PUD, Tatoeba, a user CoNLL-U corpus and the transfer data."""
    from mbert_lab.studies.vocabulary import VocabConfig, vocab

    qac = byod_root / "ud" / "UD_Qac-Test" / "qac_test-ud-test.conllu"
    r = vocab(VocabConfig(pud="qaa,qab", tatoeba="qaa,qab", alignment="none", corpora=[f"qac={qac}"],
                          n_boot=10), encoder=tiny_encoder)
    (rep,) = r.tokenizers
    assert rep.groups["pud"].stat("qaa").fertility == rep.groups["pud"].stat("qab").fertility == 1.0
    assert rep.groups["tatoeba"].stat("qab").fertility == 1.0
    assert rep.groups["corpus"].stat("qac").fertility == 2.0
    assert rep.transfer_pos is not None and set(rep.transfer_pos.per_language) >= {"qaa", "qab"}
    assert rep.transfer_pos.per_language["qaa"].stats.fertility == 1.0
    assert rep.ner is not None and set(rep.ner.per_language) == {"qaa", "qab"}
    for code in ("qaa", "qab", "qac"):
        assert r.language_names[code] == "unknown"


def _user_pairs(tmp_path: Path, words: list[str]) -> tuple[Path, Path, list[list[str]]]:
    """Identical sentences (distinct words each) on both sides, and their identity gold."""
    rng = np.random.default_rng(3)
    sents = [[words[int(i)] for i in rng.permutation(len(words))[:5]] for _ in range(6)]
    pairs = tmp_path / "qaa-qab.pairs"
    pairs.write_text("".join(f"{' '.join(s)} ||| {' '.join(s)}\n" for s in sents))
    gold = tmp_path / "qaa-qab.gold"
    gold.write_text("".join(" ".join(f"{i}-{i}" for i in range(len(s))) + "\n" for s in sents))
    return pairs, gold, sents


def test_align_and_align_eval_on_user_pairs(byod_root, tiny_encoder, tmp_path):
    """A sentence aligned with itself: every word links to itself (argmax and itermax), and
    against the identity gold AER is 0 at every layer."""
    from mbert_lab.studies.alignment import AlignConfig, AlignEvalConfig, align, align_eval

    latin, _, _ = _vocab(tiny_encoder.tokenizer)
    pairs, gold, sents = _user_pairs(tmp_path, latin)
    r = align(AlignConfig(pairs_file=str(pairs), layers=4, level="word", methods=("argmax", "itermax"),
                          cache=False), encoder=tiny_encoder)
    assert r.n_pairs == 6
    for p, s in zip(r.pairs, sents):
        for m in ("argmax", "itermax"):
            assert sorted(p.alignments[m].links) == [(i, i) for i in range(len(s))], (p.pair, m)
    e = align_eval(AlignEvalConfig(gold=(str(gold),), pairs_file=str(pairs), gold_index="0", layers="all",
                                   methods=("argmax",), levels=("word",), cache=False), encoder=tiny_encoder)
    assert {(row.layer, row.aer, row.f1) for row in e.by_layer_all_pairs} == {(la, 0.0, 1.0) for la in e.layers}


FAST = dict(seeds=1, epochs=30, lr=2e-3, batch_size=10, max_length=32, warmup=0.0, dropout=0.0, checkpoint_every=0,
            progress=False, cache=False)


def test_transfer_pos_on_unnamed_languages(byod_root, tiny_encoder, tmp_path):
    """Tags are a function of the word, and qaa / qab PUD sentences use the training words:
    a trained tagger gets every word right (100); a user treebank is evaluated as suite
    'files'; the languages' info says unknown."""
    from mbert_lab.studies.transfer import TransferConfig, transfer

    qac = byod_root / "ud" / "UD_Qac-Test" / "qac_test-ud-test.conllu"
    r = transfer(TransferConfig(task="pos", eval_langs="qaa,qab", suites="pud", eval_files={"qac": str(qac)}, **FAST),
                 encoder=tiny_encoder)
    assert r.suites["pud"].per_language["qaa"].mean == r.suites["pud"].per_language["qab"].mean == 100.0
    assert r.suites["pud"].zero_shot_average.mean == 100.0
    assert r.details[0]["files"]["qac"].n_examples == 10 and r.eval_langs == ("qaa", "qab", "qac")
    for code in ("qaa", "qab", "qac"):
        assert (r.languages[code].name, r.languages[code].known) == ("unknown", False)
    assert r.languages["eng"].name == "English"
    # a user treebank for training, in a language the table does not know
    t = transfer(TransferConfig(task="pos", train_lang="qac", train_file=str(qac), eval_langs="qaa", suites="pud",
                                **{**FAST, "epochs": 1}), encoder=tiny_encoder)
    assert t.train_lang == "qac" and t.training.train_examples == 10
    assert "user-train" in {d.name for d in t.provenance.datasets}


def test_transfer_ner_on_unnamed_languages_masakhaner_v1_v2(byod_root, tiny_encoder):
    """Capitalised words are B-PER, everything else O (DATE mapped to O): the trained model
    gets every span (F1 100) in MasakhaNER 1.0 (qaa) and 2.0 (qab, only there); v2 for qaa
    has no test split: a clear error naming the splits present."""
    from mbert_lab.errors import ConfigError
    from mbert_lab.studies.transfer import TransferConfig, transfer

    cfg = TransferConfig(task="ner", eval_langs="qaa,qab", suites="date-as-O", **FAST)
    r = transfer(cfg, encoder=tiny_encoder)
    assert {k: v.mean for k, v in r.suites["date-as-O"].per_language.items()} == {"qaa": 100.0, "qab": 100.0}
    files = {f for d in r.provenance.datasets for f in d.files}
    assert "ner/masakhaner-v1/qaa/dev.txt" in files and "ner/masakhaner-v2/qab/dev.txt" in files
    from mbert_lab.studies.transfer import load_data

    load_v2 = load_data(cfg.replace(masakhaner="v2"))
    assert {e.path.split("/ner/")[1] for e in load_v2.evals} == {"masakhaner-v2/qaa/dev.txt", "masakhaner-v2/qab/dev.txt"}
    with pytest.raises(ConfigError, match=r"masakhaner-v2/qaa has no 'test' split \(splits present: dev\)"):
        cfg.replace(masakhaner="v2", ner_split="test")
    assert (r.languages["qab"].name, r.languages["qab"].family) == ("unknown", "unknown")


def test_transfer_xnli_on_an_unnamed_language(byod_root, tiny_encoder):
    """qaa's XNLI file is a copy of the English one: the held-out items are the same inputs,
    so qaa scores exactly what English scores."""
    from mbert_lab.studies.transfer import TransferConfig, transfer

    r = transfer(TransferConfig(task="xnli", eval_langs="en,qaa", **{**FAST, "epochs": 2}), encoder=tiny_encoder)
    per = r.suites["heldout"].per_language
    assert per["qaa"].mean == per["eng"].mean and r.details[0]["heldout"]["qaa"].n_examples == 15
    assert r.languages["qaa"].name == "unknown"


def test_cli_every_command_accepts_the_unnamed_languages(byod_root, tmp_path, capsys):
    """Each command validates the unnamed languages against the data root (``--print-config``:
    no model is loaded), and refuses a code that neither the table nor the files know."""
    from mbert_lab.cli import main

    qac = byod_root / "ud" / "UD_Qac-Test" / "qac_test-ud-test.conllu"
    pairs, gold, _ = _user_pairs(tmp_path, ["a", "b", "c", "d", "e"])
    ok = [
        ["index", "eval", "tatoeba", "--langs", "qaa,qab"],
        ["index", "eval", "bli", "--pair", "qaa-qab"],
        ["index", "eval", "bli", "--pair", "qac-qad"],
        ["centroids", "--conllu", f"qac={qac}", "--file", f"qaa={byod_root}/tatoeba/v1/tatoeba.qaa-eng.qaa"],
        ["vocab", "--pud", "qaa,qab", "--tatoeba", "qab", "--corpus", f"qac={qac}"],
        ["align", "--pairs", str(pairs)],
        ["align-eval", "--gold", str(gold), "--pairs", str(pairs)],
        ["transfer", "--task", "pos", "--eval", "qaa,qab", "--suites", "pud", "--eval-file", f"qac={qac}"],
        ["transfer", "--task", "ner", "--eval", "qaa,qab", "--masakhaner", "v2"],
        ["transfer", "--task", "xnli", "--eval", "qaa"],
    ]
    for args in ok:
        assert main([*args, "--print-config", "--out", str(tmp_path / "o")]) == 0, args
        assert "qa" in capsys.readouterr().out, args
    bad = [
        ["index", "eval", "tatoeba", "--langs", "qzz"],
        ["vocab", "--pud", "qzz"],
        ["transfer", "--task", "pos", "--eval", "qzz"],
        ["transfer", "--task", "ner", "--eval", "qzz"],
    ]
    for args in bad:
        assert main([*args, "--print-config", "--out", str(tmp_path / "o")]) == 2, args
        err = capsys.readouterr().err
        assert "unknown language 'qzz'" in err and len(err.strip().splitlines()) == 1, (args, err)
