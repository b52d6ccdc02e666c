"""CLI wiring of ``mbert-lab index`` / ``neighbours`` with a tiny random encoder: results show
language, score and text; bad input (dimension mismatch, other model, corrupt file, empty
query) gives a clear error and exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mbert_lab.cli import main
from mbert_lab.cli import index_cmd

SENTS = [
    ("en", "The quick brown fox jumps over the lazy dog."),
    ("de", "Der schnelle braune Fuchs springt über den faulen Hund."),
    ("fr", "Le renard brun rapide saute par-dessus le chien paresseux."),
    ("en", "I like green tea."),
    ("de", "Ich mag grünen Tee."),
    ("fr", "J'aime le thé vert."),
    ("en", "Hello world!"),
    ("de", "Hallo Welt!"),
    ("fr", "Bonjour le monde!"),
]


@pytest.fixture
def cli_env(tmp_path, monkeypatch, tiny_encoder):
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(index_cmd, "load_model", lambda args: tiny_encoder)
    tsv = tmp_path / "sents.tsv"
    tsv.write_text("".join(f"{lg}\t{t}\n" for lg, t in SENTS), encoding="utf-8")
    return tmp_path, tsv, tiny_encoder


def build(tmp_path, tsv, *extra: str) -> str:
    out = str(tmp_path / "idx")
    assert main(["index", "build", "--input", str(tsv), "--out", out, "--layer", "2", *extra]) == 0
    return out


def test_build_and_search_shows_language_score_text(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv)
    meta = json.loads(open(f"{out}/meta.json").read())
    assert meta["key"] == "Flat" and meta["layer"] == 2 and meta["model"]["model_id"] == "tiny-random-bert-wordpiece"
    capsys.readouterr()
    assert main(["index", "search", "--index", out, "--lang", "en", "--to", "de,fr", "-k", "2",
                 "The quick brown fox jumps over the lazy dog."]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if ln.startswith("  ") and not ln.strip().startswith("->")]
    assert len(lines) == 4  # 2 per language
    for ln in lines:
        rank, lang, score, *words = ln.split()
        assert lang in ("de", "fr") and -1.0 <= float(score) <= 1.0 and words
    assert "-> de" in text and "-> fr" in text
    # neighbours is the same query through its own command; the sentence itself ranks first
    assert main(["neighbours", "--index", out, "--lang", "en", "-k", "1", "Hello world!"]) == 0
    assert "Hello world!" in capsys.readouterr().out.splitlines()[1]


def test_append_adds_rows_incrementally(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv)
    more = tmp_path / "more.tsv"
    more.write_text("es\tHola mundo!\n", encoding="utf-8")
    assert main(["index", "build", "--input", str(more), "--out", out, "--layer", "2", "--append"]) == 0
    assert json.loads(open(f"{out}/meta.json").read())["ntotal"] == len(SENTS) + 1
    capsys.readouterr()
    assert main(["neighbours", "--index", out, "--lang", "en", "--to", "es", "-k", "1", "Hello world!"]) == 0
    assert "Hola mundo!" in capsys.readouterr().out
    assert main(["index", "build", "--input", str(more), "--out", out, "--layer", "3", "--append"]) == 2
    assert "--append needs --layer 2" in capsys.readouterr().err


def test_word_index_in_context_and_alone(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv, "--unit", "word-type")
    capsys.readouterr()
    assert main(["neighbours", "--index", out, "--lang", "en", "--word", "tea", "-k", "3", "I like green tea."]) == 0
    o1 = capsys.readouterr().out
    assert "'tea' in" in o1
    assert main(["neighbours", "--index", out, "--lang", "en", "--word", "tea", "-k", "3"]) == 0
    assert "(alone)" in capsys.readouterr().out
    assert main(["neighbours", "--index", out, "--lang", "en", "--word", "coffee", "I like green tea."]) == 2
    assert "does not occur" in capsys.readouterr().err
    # sentence queries against a word index are refused clearly
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello world!"]) == 2
    assert "word index" in capsys.readouterr().err


def test_bad_inputs_give_clear_errors(cli_env, capsys, monkeypatch) -> None:
    tmp_path, tsv, enc = cli_env
    out = build(tmp_path, tsv)
    capsys.readouterr()
    # empty query
    assert main(["neighbours", "--index", out, "--lang", "en", "  "]) == 2
    assert "empty query" in capsys.readouterr().err
    # index from another model
    import copy

    other = copy.deepcopy(enc)
    other.model_id, other.weights_sha256 = "bert-base-multilingual-cased", "other"
    monkeypatch.setattr(index_cmd, "load_model", lambda args: other)
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello"]) == 2
    assert "another model" in capsys.readouterr().err
    # dimension mismatch: same model id, different hidden size
    wide = copy.deepcopy(enc)
    wide.hidden_size = 64
    monkeypatch.setattr(index_cmd, "load_model", lambda args: wide)
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello"]) == 2
    assert "dimension mismatch" in capsys.readouterr().err
    monkeypatch.setattr(index_cmd, "load_model", lambda args: enc)
    # corrupt index file
    p = tmp_path / "idx" / "index.faiss"
    raw = bytearray(p.read_bytes())
    raw[-5] ^= 0x55
    p.write_bytes(bytes(raw))
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello"]) == 2
    assert "checksum mismatch" in capsys.readouterr().err
    # no index at all
    assert main(["neighbours", "--index", str(tmp_path / "none"), "--lang", "en", "Hello"]) == 2
    assert "build one first" in capsys.readouterr().err
    # malformed TSV names file and line
    bad = tmp_path / "bad.tsv"
    bad.write_text("en\tok\nonly-one-column\n", encoding="utf-8")
    assert main(["index", "build", "--input", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "bad.tsv:2" in capsys.readouterr().err


def test_mine_with_gold_writes_tsv_and_f1(cli_env, capsys) -> None:
    tmp_path, _, _ = cli_env
    src = tmp_path / "de.tsv"
    tgt = tmp_path / "en.tsv"
    gold = tmp_path / "gold.tsv"
    de = [t for lg, t in SENTS if lg == "de"]
    en = [t for lg, t in SENTS if lg == "en"]
    src.write_text("".join(f"d{i}\t{t}\n" for i, t in enumerate(de)), encoding="utf-8")
    tgt.write_text("".join(f"e{i}\t{t}\n" for i, t in enumerate(reversed(en))), encoding="utf-8")
    gold.write_text("d0\te2\nd1\te1\nd2\te0\n", encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    assert main(["index", "mine", "--src", str(src), "--tgt", str(tgt), "--with-ids", "--gold", str(gold),
                 "--layer", "2", "-k", "2", "--mode", "forward", "--out", str(out)]) == 0
    msg = capsys.readouterr().out
    assert "F1" in msg
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0].split("\t") == ["score", "src_id", "tgt_id", "src", "tgt"]
    scores = [float(r.split("\t")[0]) for r in rows[1:]]
    assert scores == sorted(scores, reverse=True)
    rec = json.loads(out.with_suffix(".json").read_text())
    assert 0.0 <= rec["payload"]["f1"]["f1"] <= 1.0
    gold.write_text("d0\te9\n", encoding="utf-8")
    assert main(["index", "mine", "--src", str(src), "--tgt", str(tgt), "--with-ids", "--gold", str(gold),
                 "--out", str(out)]) == 2
    assert "not in the input files" in capsys.readouterr().err


def test_unknown_names_get_choices(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    assert main(["index", "build", "--input", str(tsv), "--out", str(tmp_path / "i2"), "--transform", "centre"]) == 2
    assert "did you mean 'center'" in capsys.readouterr().err
    assert main(["index", "build", "--input", str(tsv), "--out", str(tmp_path / "i3"), "--key", "NotAnIndex", "--layer", "2"]) == 2
    assert "FAISS cannot build" in capsys.readouterr().err


def test_isolated_word_vector_is_mean_of_its_pieces(tiny_encoder, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path))
    import torch

    words = ["quick", "Fuchs"]
    vec = index_cmd.isolated_word_vectors(tiny_encoder, words, (2,), progress=False)[2]
    tok = tiny_encoder.tokenizer
    for i, w in enumerate(words):
        enc = tok([w], is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            hs = tiny_encoder.model(**enc, output_hidden_states=True).hidden_states[2][0]
        want = hs[1:-1].mean(0).numpy()  # drop [CLS]/[SEP]
        np.testing.assert_allclose(vec[i], want, atol=1e-5)


def test_demo_section_builds_index_and_queries(tiny_encoder, tmp_path) -> None:
    from types import SimpleNamespace

    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.results import Provenance

    pairs = {"de": [(e, d) for (_, e), (_, d) in zip(SENTS[0::3], SENTS[1::3])] * 2,
             "fr": [(e, f) for (_, e), (_, f) in zip(SENTS[0::3], SENTS[2::3])] * 2}

    def extract(texts, layers=None, outputs=("sentence",)):
        layers = tuple(layers) if layers is not None else tuple(range(tiny_encoder.num_layers + 1))
        return Extractor(tiny_encoder, ExtractConfig(layers=layers, outputs=tuple(outputs)), progress=False).encode(texts)

    ctx = SimpleNamespace(encoder=tiny_encoder, parallel=pairs, out=tmp_path, extract=extract,
                          provenance=lambda *a, **k: Provenance.collect())
    summary = index_cmd.demo_section(ctx)
    assert "Flat index of 12 translations in 2 languages" in summary
    rec = json.loads((tmp_path / "retrieval" / "neighbours.json").read_text())
    assert set(rec["payload"]["per_language_p@1"]) == {"de", "fr"}


def test_eval_recall_of_a_built_index(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv, "--unit", "word", "--key", "IVF4,Flat")
    capsys.readouterr()
    assert main(["index", "eval", "recall", "--index", out, "-k", "3", "--out", str(tmp_path / "res")]) == 0
    rec = json.loads((tmp_path / "res" / "recall.json").read_text())["payload"]
    assert rec["key"] == "IVF4,Flat" and 0.0 < rec["recall@1"] <= 1.0 and rec["n_queries"] > 10
    assert "recall@3" in capsys.readouterr().out
