"""The ``mbert-lab vocab`` command: readers, scores files, bad input, a small mirror run."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mbert_lab.cli import main
from mbert_lab.cli import vocab_cmd as C
from mbert_lab.errors import InputError


def test_conllu_reader_gives_syntactic_words(tmp_path):
    """Gold UD words as the transfer runs read them: 'du' is 'de' + 'le'."""
    p = tmp_path / "x.conllu"
    rows = [
        "# sent_id = 1",
        "1-2\tdu\t_\t_\t_\t_\t_\t_\t_\t_",
        "1\tde\tde\tADP\t_\t_\t0\troot\t_\t_",
        "2\tle\tle\tDET\t_\t_\t1\tdet\t_\t_",
        "2.1\tvide\t_\t_\t_\t_\t_\t_\t_\t_",
        "3\tpain\tpain\tNOUN\t_\t_\t1\tobj\t_\t_",
        "",
        "1\t中国\t中国\tPROPN\t_\t_\t0\troot\t_\t_",
        "",
    ]
    p.write_text("\n".join(rows), encoding="utf-8")
    assert C.read_conllu_words(p) == [["de", "le", "pain"], ["中国"]]
    (tmp_path / "bad.conllu").write_text("1\tx\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.conllu:1"):
        C.read_conllu_words(tmp_path / "bad.conllu")


def test_lines_reader_splits_on_ascii_space_only(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("a b  c\n日本\u3000語\n", encoding="utf-8")
    assert C.read_lines_words(p) == [["a", "b", "c"], ["日本\u3000語"]]


def test_read_scores_csv_and_json(tmp_path):
    (tmp_path / "s.csv").write_text("lang,score\nde,80.5\nfr,81\n", encoding="utf-8")
    assert C.read_scores(tmp_path / "s.csv") == {"de": 80.5, "fr": 81.0}
    (tmp_path / "bad.csv").write_text("lang,score\nde,high\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.csv:2"):
        C.read_scores(tmp_path / "bad.csv")
    rec = {"schema_version": "1.0", "kind": "transfer", "payload": {
        "task": "udpos", "per_language": {"de": {"accuracy": 0.8, "n": 10}, "zh": {"accuracy": 0.6, "n": 9}}}}
    (tmp_path / "r.json").write_text(json.dumps(rec), encoding="utf-8")
    assert C.read_scores(tmp_path / "r.json") == {"de": 0.8, "zh": 0.6}
    assert C.read_scores(tmp_path / "r.json", field="n") == {"de": 10.0, "zh": 9.0}
    with pytest.raises(InputError, match="no per-language scores"):
        C.read_scores(tmp_path / "r.json", field="f1")


def test_read_scores_from_a_transfer_results_file(tmp_path):
    """The layout of ``mbert-lab transfer`` results: suites -> per_language -> mean (0..100)."""
    per = lambda a, b: {"en": {"mean": 95.0, "sd": 0.1}, "de": {"mean": a, "sd": 1.0}, "zh": {"mean": b, "sd": 2.0}}
    rec = {"schema_version": "1.0", "kind": "transfer", "payload": {
        "task": "pos", "metric": "accuracy", "primary_suite": "pud", "per_language": per(80.0, 50.0),
        "suites": {"pud": {"per_language": per(80.0, 50.0)}, "xtreme-dev": {"per_language": per(85.0, 60.0)}}}}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(rec), encoding="utf-8")
    assert C.read_scores(f) == {"en": 95.0, "de": 80.0, "zh": 50.0}
    assert C.read_scores(f, suite="xtreme-dev") == {"en": 95.0, "de": 85.0, "zh": 60.0}
    assert C.read_scores(f, field="sd", suite="pud")["zh"] == 2.0
    with pytest.raises(InputError, match="no suite 'ud'"):
        C.read_scores(f, suite="ud")


def test_empty_corpus_and_bad_tokenizer_are_clear_errors(tmp_path, capsys):
    empty = tmp_path / "xx.txt"
    empty.write_text("\n\n", encoding="utf-8")
    rc = main(["vocab", "--corpus", f"xx={empty}", "--no-transfer-data", "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "empty corpus for language 'xx'" in capsys.readouterr().err
    ok = tmp_path / "de.txt"
    ok.write_text("das Haus\n", encoding="utf-8")
    rc = main(["vocab", "--corpus", f"de={ok}", "--no-transfer-data", "--tokenizer", str(tmp_path / "nope"),
               "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "cannot load tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_user_corpora_with_a_local_tokenizer(tmp_path, tiny_sp_encoder):
    tdir = tmp_path / "tok"
    tiny_sp_encoder.tokenizer.save_pretrained(tdir)
    (tmp_path / "de.txt").write_text("Der schnelle braune Fuchs\nHallo Welt\n", encoding="utf-8")
    (tmp_path / "fr.txt").write_text("Le renard brun\nBonjour le monde\n", encoding="utf-8")
    out = tmp_path / "o"
    rc = main(["vocab", "--corpus", f"de={tmp_path / 'de.txt'}", "--corpus", f"fr={tmp_path / 'fr.txt'}",
               "--no-transfer-data", "--tokenizer", str(tdir), "--out", str(out)])
    assert rc == 0
    res = json.loads(next(out.glob("*/vocab.json")).read_text())
    pay = res["payload"]
    assert pay["corpus"]["languages"] == ["de", "fr"]
    de = pay["corpus"]["stats"][0]
    assert de["n_words"] == 6 and de["segmentation"].startswith("whitespace")
    m = pay["corpus"]["jaccard"]
    assert m[0][0] == pytest.approx(1.0) and m[0][1] == m[1][0]
    assert (next(out.glob("*")) / "corpus_overlap_jaccard.png").exists()


def test_demo_section_on_embedded_corpus(tmp_path, tiny_sp_encoder):
    parallel = {
        "de": [("The dog", "Der Hund"), ("Hello world", "Hallo Welt")],
        "zh": [("The dog", "狗"), ("Hello world", "你好世界")],
    }
    ctx = SimpleNamespace(encoder=tiny_sp_encoder, parallel=parallel, out=tmp_path)
    text = C.demo_section(ctx)
    assert "Fertility" in text and "Jaccard" in text
    rec = json.loads((tmp_path / "vocab" / "vocab.json").read_text())
    assert rec["payload"]["languages"] == ["en", "de", "zh"]
    zh = rec["payload"]["stats"][2]
    assert zh["word_measures_comparable"] is False  # Han split on spaces is not a word segmentation
    assert (tmp_path / "vocab" / "overlap_jaccard.png").exists()
    assert (tmp_path / "vocab" / "fertility.png").exists()


@pytest.mark.integration
def test_mirror_run_with_mirror_wordpiece_and_scores(tmp_path, data_root):
    scores = tmp_path / "scores.csv"
    # a user CSV (any numbers): the run must correlate the measures over the shared languages
    scores.write_text("lang,score\nde,0.86\nfr,0.84\nes,0.87\nru,0.82\nzh,0.55\nar,0.60\nen,0.97\n")
    out = tmp_path / "o"
    rc = main(["vocab", "--tokenizer", "wordpiece-mirror", "--pud", "en,zh", "--tatoeba", "deu,cmn,rus",
               "--tatoeba-max", "50", "--scores", str(scores), "--measure", "seen_token", "--measure",
               "fertility", "--n-boot", "200", "--out", str(out)])
    assert rc == 0
    pay = json.loads((out / "wordpiece-mirror" / "vocab.json").read_text())["payload"]
    zh = pay["pud"]["stats"][1]
    assert zh["lang"] == "zh" and zh["segmentation"].startswith("gold")
    assert 1.0 <= zh["fertility"] < 3.0 and 0.0 <= zh["unk_rate"] < 0.2
    assert pay["tatoeba"]["languages"] == ["deu", "cmn", "rus"]
    cmn = pay["tatoeba"]["stats"][1]
    assert cmn["segmentation"].startswith("whitespace") and cmn["word_measures_comparable"] is False
    jpn = {s["lang"]: s for s in pay["alignment"]["stats"]}["jpn"]  # gold KFTT tokens
    assert jpn["segmentation"].startswith("gold") and jpn["word_measures_comparable"] is True
    tp = pay["transfer_pos"]["per_language"]
    assert set(tp) == {"en", "de", "fr", "es", "ru", "zh", "ar"}  # PUD targets (default suite)
    assert tp["en"]["seen_type"] > tp["zh"]["seen_type"] and tp["zh"]["segmentation"].startswith("gold")
    assert pay["ner"]["per_language"]["pcm"]["entity_overlap"] > 0
    cors = {c["measure"]: c for c in pay["correlations"]}
    assert cors["seen_token"]["n"] == 6 and "en" not in cors["seen_token"]["languages"]
    assert (out / "wordpiece-mirror" / "scatter_seen_token.png").exists()
    assert (out / "wordpiece-mirror" / "tatoeba_overlap_jaccard.svg").exists()


@pytest.mark.integration
def test_offline_tokenizer_lone_marker_on_gold_chinese(tmp_path, data_root):
    """XLM-R SentencePiece on pre-split Chinese emits lone '▁' pieces: both counts reported."""
    out = tmp_path / "o"
    rc = main(["vocab", "--tokenizer", "offline", "--pud", "zh", "--tatoeba", "none", "--alignment", "jaen",
               "--no-transfer-data", "--out", str(out)])
    assert rc == 0
    pay = json.loads((out / "offline" / "vocab.json").read_text())["payload"]
    assert pay["tokenizer"]["vocab_size"] == 250002
    for st in pay["pud"]["stats"] + pay["alignment"]["stats"]:
        assert st["segmentation"].startswith("gold")
        assert st["lone_marker_share"] > 0.05
        assert st["fertility_with_marker"] == pytest.approx(st["fertility"] + st["lone_marker_share"])
        assert st["continued_share_with_marker"] >= st["continued_share"]
