"""CLI wiring of ``mbert-lab index`` / ``neighbours`` with a tiny random encoder: results show
language, score and text; ``index eval tatoeba|bli|bucc|pool|recall`` and ``index mine`` are
checked against known values on planted data; bad input gives one clear line and exit 2."""

from __future__ import annotations

import copy
import json

import pytest

from mbert_lab.cli import main

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
TEXTS = [f"Sentence number {w} is about {x}." for w in ("one", "two", "three", "four", "five", "six", "seven", "eight")
         for x in ("cats", "trains", "rain")]


def use_encoder(monkeypatch, enc) -> None:
    import mbert_lab.models.registry as reg

    monkeypatch.setattr(reg, "load_encoder", lambda *a, **k: enc)


@pytest.fixture
def cli_env(tmp_path, monkeypatch, tiny_encoder):
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    use_encoder(monkeypatch, tiny_encoder)
    tsv = tmp_path / "sents.tsv"
    tsv.write_text("".join(f"{lg}\t{t}\n" for lg, t in SENTS), encoding="utf-8")
    return tmp_path, tsv, tiny_encoder


@pytest.fixture
def tiny_root(tmp_path, monkeypatch):
    """A data root with two planted Tatoeba sets (both sides identical) and a MUSE pair that
    the data card does not know (ar-en), without by-pos files."""
    root = tmp_path / "data"
    (root / "tatoeba" / "v1").mkdir(parents=True)
    for lang in ("deu", "fra"):
        lines = "".join(f"{t} ({lang})\n" for t in TEXTS)
        for side in (lang, "eng"):
            (root / "tatoeba" / "v1" / f"tatoeba.{lang}-eng.{side}").write_text(lines, encoding="utf-8")
    (root / "muse").mkdir()
    words = ["house", "tree", "river", "station", "music", "window", "bread", "mountain"]
    (root / "muse" / "ar-en.5000-6500.txt").write_text("".join(f"{w}\t{w}\n" for w in words), encoding="utf-8")
    monkeypatch.setenv("MBERT_LAB_DATA", str(root))
    return root, words


def build(tmp_path, tsv, *extra: str) -> str:
    out = str(tmp_path / "idx")
    assert main(["index", "build", "--input", str(tsv), "--out", out, "--layers", "2", *extra]) == 0
    return out


def test_build_and_search_shows_language_score_text(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv, "--batch-size", "2")
    meta = json.loads(open(f"{out}/meta.json").read())
    assert meta["key"] == "Flat" and meta["layer"] == 2 and meta["model"]["model_id"] == "tiny-random-bert-wordpiece"
    capsys.readouterr()
    assert main(["index", "search", "--index", out, "--lang", "en", "--to", "de,fra", "-k", "2",
                 "The quick brown fox jumps over the lazy dog."]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if ln.startswith("  ") and not ln.strip().startswith("->")]
    assert len(lines) == 4  # 2 per language
    assert [ln.split()[1] for ln in lines] == ["deu", "deu", "fra", "fra"]  # codes stored as ISO 639-3
    assert "-> deu" in text and "-> fra" in text
    # neighbours is the same query through its own command; the sentence itself ranks first, score 1
    assert main(["neighbours", "--index", out, "--lang", "en", "-k", "1", "Hello world!"]) == 0
    first = capsys.readouterr().out.splitlines()[1].split()
    assert first[1] == "eng" and float(first[2]) == pytest.approx(1.0, abs=1e-4) and "Hello" in first[3]
    # --layers must name the index's layer
    assert main(["neighbours", "--index", out, "--lang", "en", "--layers", "3", "Hello"]) == 2
    assert "index holds layer 2" in capsys.readouterr().err
    assert main(["neighbours", "--index", out, "--lang", "en", "--layers", "2", "-k", "1", "Hello world!"]) == 0


def test_append_adds_rows_incrementally(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv)
    more = tmp_path / "more.tsv"
    more.write_text("es\tHola mundo!\n", encoding="utf-8")
    assert main(["index", "build", "--input", str(more), "--out", out, "--layers", "2", "--append"]) == 0
    assert json.loads(open(f"{out}/meta.json").read())["ntotal"] == len(SENTS) + 1
    capsys.readouterr()
    assert main(["neighbours", "--index", out, "--lang", "en", "--to", "es", "-k", "1", "Hello world!"]) == 0
    assert "Hola mundo!" in capsys.readouterr().out
    assert main(["index", "build", "--input", str(more), "--out", out, "--layers", "3", "--append"]) == 2
    assert "append needs --layers 2" in capsys.readouterr().err


def test_word_index_in_context_and_alone(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv, "--unit", "word-type")
    capsys.readouterr()
    assert main(["neighbours", "--index", out, "--lang", "en", "--word", "tea", "-k", "3", "I like green tea."]) == 0
    assert "'tea' in" in capsys.readouterr().out
    assert main(["neighbours", "--index", out, "--lang", "en", "--word", "tea", "-k", "3"]) == 0
    assert "(alone)" in capsys.readouterr().out
    assert main(["neighbours", "--index", out, "--lang", "en", "--word", "coffee", "I like green tea."]) == 2
    assert "does not occur" in capsys.readouterr().err
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello world!"]) == 2
    assert "word index" in capsys.readouterr().err


def test_bad_inputs_give_clear_errors(cli_env, capsys, monkeypatch) -> None:
    tmp_path, tsv, enc = cli_env
    out = build(tmp_path, tsv)
    capsys.readouterr()
    assert main(["neighbours", "--index", out, "--lang", "en", "  "]) == 2
    assert "empty query" in capsys.readouterr().err
    other = copy.deepcopy(enc)
    other.model_id, other.weights_sha256 = "bert-base-multilingual-cased", "other"
    use_encoder(monkeypatch, other)
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello"]) == 2
    assert "another model" in capsys.readouterr().err
    wide = copy.deepcopy(enc)
    wide.hidden_size = 64
    use_encoder(monkeypatch, wide)
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello"]) == 2
    assert "dimension mismatch" in capsys.readouterr().err
    use_encoder(monkeypatch, enc)
    p = tmp_path / "idx" / "index.faiss"
    raw = bytearray(p.read_bytes())
    raw[-5] ^= 0x55
    p.write_bytes(bytes(raw))
    assert main(["neighbours", "--index", out, "--lang", "en", "Hello"]) == 2
    assert "checksum mismatch" in capsys.readouterr().err
    assert main(["neighbours", "--index", str(tmp_path / "none"), "--lang", "en", "Hello"]) == 2
    assert "no such folder" in capsys.readouterr().err
    bad = tmp_path / "bad.tsv"
    bad.write_text("en\tok\nonly-one-column\n", encoding="utf-8")
    assert main(["index", "build", "--input", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "bad.tsv:2" in capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["index", "build", "--input", "{t}", "--out", "{o}", "--target-recall", "7"], "target_recall: must be in (0.0, 1.0]"),
    (["index", "build", "--input", "{t}", "--out", "{o}", "--target-recall", "0"], "target_recall"),
    (["index", "build", "--input", "{t}", "--out", "{o}", "--hold-out", "-10"], "hold_out: must be a whole number >= 0"),
    (["index", "build", "--input", "{t}", "--out", "{o}", "--batch-size", "0"], "batch_size"),
    (["index", "build", "--input", "{t}", "--out", "{o}", "--layers", "4,8"], "layers: this study works on one layer"),
    (["index", "build", "--input", "{t}", "--out", "{o}", "--memory", "lots"], "memory"),
    (["index", "build", "--input", "{o}", "--out", "{o}/i"], "input: is a folder"),
    (["index", "build", "--input", "{t}", "--out", "{t}"], "--out: exists and is not a folder"),
    (["index", "build", "--tatoeba", "zz", "--out", "{o}/i"], "unknown language 'zz'"),
    (["index", "eval", "recall", "--index", "{o}", "--queries", "-5"], "queries: must be a whole number >= 1, got -5"),
    (["index", "eval", "recall", "--index", "{o}", "-k", "0"], "k: must be a whole number"),
    (["index", "eval", "tatoeba", "--langs", "de", "--dev-fraction", "1.5"], "dev_fraction"),
    (["index", "eval", "bli", "--pair", "xx-yy"], "no MUSE dictionary 'xx-yy'"),
    (["index", "eval", "bli", "--dictionary", "{o}/nope.tsv"], "dictionary: no such file"),
    (["index", "mine", "--src", "{t}", "--tgt", "{t}", "--out", "{o}/p.tsv", "--margin", "ration"], "did you mean 'ratio'"),
    (["index", "mine", "--src", "{t}", "--tgt", "{t}", "--out", "{o}/p.tsv", "--threshold", "high"], "--threshold"),
    (["index", "mine", "--src", "{o}", "--tgt", "{t}", "--out", "{o}/p.tsv"], "src: is a folder"),
    (["neighbours", "--index", "{o}", "--lang", "en", "-k", "-1", "x"], "k: must be a whole number"),
    (["neighbours", "--index", "{o}", "--lang", "zz", "x"], "no index here"),
])
def test_bad_values_fail_before_the_model(tmp_path, monkeypatch, capsys, tiny_root, argv, fragment) -> None:
    import mbert_lab.models.registry as reg

    def no_model(*a, **k):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(reg, "load_encoder", no_model)
    t = tmp_path / "s.tsv"
    t.write_text("en\tHello\n", encoding="utf-8")
    argv = [a.format(t=t, o=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err


NOISE = ["Zebra xylophone quartz.", "Umbrella! Jungle? Kettle.", "Purple elephants sing loudly tonight.",
         "Seven wizards ate frozen yogurt.", "Quiet libraries echo.", "Mountains melt slowly in autumn.",
         "Bicycles dream of oceans.", "Orange clocks whisper secrets."]


def write_mining_inputs(tmp_path, gold_rows=None):
    """Planted pairs (identical sentences, targets in reverse order) plus source-only noise."""
    src, tgt, gold = tmp_path / "src.tsv", tmp_path / "tgt.tsv", tmp_path / "gold.tsv"
    order = list(range(len(TEXTS)))[::-1]  # targets in reverse order: planted pairs s<i> -> t<j>
    src.write_text("".join(f"s{i}\t{t}\n" for i, t in enumerate(TEXTS + NOISE)), encoding="utf-8")
    tgt.write_text("".join(f"t{j}\t{TEXTS[i]}\n" for j, i in enumerate(order)), encoding="utf-8")
    rows = gold_rows or [(f"s{i}", f"t{order.index(i)}") for i in range(len(TEXTS))]
    gold.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return src, tgt, gold, order


def test_mine_with_gold_finds_planted_pairs(cli_env, capsys) -> None:
    tmp_path, _, _ = cli_env
    src, tgt, gold, order = write_mining_inputs(tmp_path)
    out = tmp_path / "pairs.tsv"
    assert main(["index", "mine", "--src", str(src), "--tgt", str(tgt), "--with-ids", "--gold", str(gold),
                 "--layers", "2", "-k", "2", "--mode", "forward", "--out", str(out)]) == 0
    assert "test split F1 1.0000" in capsys.readouterr().out
    rows = [r.split("\t") for r in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == ["score", "src_id", "tgt_id", "src", "tgt"]
    assert {(r[1], r[2]) for r in rows[1:]} == {(f"s{i}", f"t{order.index(i)}") for i in range(len(TEXTS))}
    assert all(r[3] == r[4] for r in rows[1:])  # identical sentences are each other's pairs
    ev = json.loads(out.with_suffix(".json").read_text())["evaluation"]
    n = len(TEXTS)
    from mbert_lab.studies.retrieval import split_indices

    _, test = split_indices(n + len(NOISE), 0.5, 0)
    nt = int((test < n).sum())  # planted sources in the test split
    assert ev["threshold_chosen_on"] == "dev" and ev["split"]["n_dev"] == (n + len(NOISE)) // 2
    assert ev["test"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "n_selected": nt, "n_correct": nt, "n_gold": nt}
    # gold that pairs every source with the wrong target: nothing mined is correct
    wrong = [(f"s{i}", f"t{(order.index(i) + 1) % n}") for i in range(n)]
    write_mining_inputs(tmp_path, wrong)
    assert main(["index", "mine", "--src", str(src), "--tgt", str(tgt), "--with-ids", "--gold", str(gold),
                 "--layers", "2", "--out", str(out)]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["evaluation"]["oracle_all_data"]["f1"] == 0.0
    gold.write_text("s0\tt99\n", encoding="utf-8")
    assert main(["index", "mine", "--src", str(src), "--tgt", str(tgt), "--with-ids", "--gold", str(gold),
                 "--out", str(out)]) == 2
    assert "not in the input files" in capsys.readouterr().err


def test_eval_bucc_cli_equals_library(cli_env, capsys) -> None:
    from mbert_lab.studies.retrieval import BuccConfig, bucc

    tmp_path, _, enc = cli_env
    src, tgt, gold, _ = write_mining_inputs(tmp_path)
    out = tmp_path / "bucc"
    assert main(["index", "eval", "bucc", "--src", str(src), "--tgt", str(tgt), "--gold", str(gold),
                 "--layers", "2", "--mode", "forward", "--out", str(out)]) == 0
    cli = json.loads((out / "bucc.json").read_text())
    lib = bucc(BuccConfig(src=str(src), tgt=str(tgt), gold=str(gold), layers=2, mode="forward"), encoder=enc)
    assert cli["evaluation"] == json.loads(lib.to_json())["evaluation"]
    assert lib.evaluation.test.f1 == 1.0 and lib.n_gold == len(TEXTS)
    from mbert_lab.studies import load_result

    assert load_result(out / "bucc.json").evaluation == lib.evaluation


def test_eval_tatoeba_on_planted_sets(cli_env, tiny_root, capsys) -> None:
    tmp_path, _, _ = cli_env
    out = tmp_path / "res"
    assert main(["index", "eval", "tatoeba", "--langs", "de,fra", "--layers", "1,3", "--out", str(out)]) == 0
    rec = json.loads((out / "tatoeba.json").read_text())
    assert rec["languages"] == ["deu", "fra"] and rec["layers"] == [1, 3]
    n = len(TEXTS)
    assert rec["split"] == {"unit": "sentences per language", "dev_fraction": 0.5, "seed": 0, "n_dev": n, "n_test": n}
    for tr in ("none", "center"):
        s = rec["transforms"][tr]
        assert s["best_layer_chosen_on"] == "dev" and s["best_layer"] == 1  # all layers tie at 1.0: lowest wins
        assert s["test_at_best"] == {"n": n, "xx_to_eng": 1.0, "eng_to_xx": 1.0, "xsim_xx_to_eng": 0.0, "xsim_eng_to_xx": 0.0}
        assert s["per_language"]["3"]["deu"]["xx_to_eng"] == 1.0
    assert (out / "tatoeba_by_layer.png").stat().st_size > 0
    assert "layer 1 chosen on dev" in capsys.readouterr().out


def test_eval_pool_on_planted_sets(cli_env, tiny_root) -> None:
    tmp_path, _, _ = cli_env
    out = tmp_path / "pool"
    assert main(["index", "eval", "pool", "--langs", "deu,fra", "--transforms", "none", "--modes", "forward",
                 "--out", str(out)]) == 0
    rec = json.loads((out / "pool.json").read_text())
    assert rec["n_sources"] == 2 * len(TEXTS) and rec["n_targets_distinct"] == 2 * len(TEXTS)
    ev = rec["results"]["4"]["none"]["forward"]
    # every source's nearest English line is its own: all candidates are right; the threshold
    # chosen on dev (its lowest score) may drop a test pair scoring lower, never add a wrong one
    assert ev["oracle_all_data"]["f1"] == 1.0 and ev["dev"]["f1"] == 1.0 and ev["test"]["precision"] == 1.0
    assert ev["test"]["n_gold"] == ev["split"]["n_test"] == len(TEXTS) and ev["test"]["recall"] >= 0.75


def test_eval_bli_on_a_discovered_pair_and_a_user_dictionary(cli_env, tiny_root, capsys) -> None:
    from mbert_lab.studies.retrieval import BliConfig, bli

    tmp_path, _, enc = cli_env
    root, words = tiny_root
    out = tmp_path / "bli"
    # ar-en is not in the data card: found on disk, combined file (no by-pos files)
    assert main(["index", "eval", "bli", "--pair", "ar-en", "--layers", "2,3", "--out", str(out)]) == 0
    rec = json.loads((out / "bli.json").read_text())
    assert rec["pair"] == "ar-en" and rec["dictionary"] == "muse combined" and rec["categories"] == []
    s = rec["results"]["2"]["cosine"]
    # identical strings: every word's nearest target is itself
    assert s["all_categories"] == {"n": len(words), "p_at_1": 100.0, "p_at_5": 100.0, "p_at_10": 100.0,
                                   "n_identical_excluded": 0}
    assert s["all_categories_without_identical"]["n"] == 0
    assert s["all_categories_without_identical"]["n_identical_excluded"] == len(words)
    # a user dictionary: 3 identical pairs + 1 pair whose target is not the source's own string
    d = tmp_path / "dict.tsv"
    d.write_text("house\thouse\ntree\ttree\nriver\triver\nmusic\tbread\n", encoding="utf-8")
    cfg = BliConfig(dictionary=str(d), layers=2, methods="cosine", drop_lone_piece=False)
    r = bli(cfg, encoder=enc)
    got = r.results[2]["cosine"].all_categories
    assert got.n == 4 and got.p_at_1 in (75.0, 100.0) and got.p_at_5 == 100.0  # 4 targets: p@5 covers all
    assert r.results[2]["cosine"].all_categories_without_identical.n == 1
    assert main(["index", "eval", "bli", "--dictionary", str(d), "--layers", "2", "--methods", "cosine",
                 "--keep-lone-piece", "--out", str(out)]) == 0
    cli = json.loads((out / "bli.json").read_text())
    assert cli["results"] == json.loads(r.to_json())["results"] and cli["drop_lone_piece"] is False


def test_eval_recall_of_a_built_index(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    out = build(tmp_path, tsv, "--unit", "word", "--key", "IVF4,Flat")
    capsys.readouterr()
    assert main(["index", "eval", "recall", "--index", out, "-k", "3", "--out", str(tmp_path / "res")]) == 0
    rec = json.loads((tmp_path / "res" / "recall.json").read_text())
    assert rec["key"] == "IVF4,Flat" and rec["n_queries"] > 10 and set(rec["recall"]) == {"1", "3"}
    assert all(0.5 <= v <= 1.0 for v in rec["recall"].values())
    assert "recall@3" in capsys.readouterr().out


def test_print_config_round_trips(tiny_root, tmp_path, capsys) -> None:
    from mbert_lab.config import load_study_file
    from mbert_lab.studies.retrieval import TatoebaConfig

    assert main(["index", "eval", "tatoeba", "--langs", "de", "--layers", "8,12", "--print-config"]) == 0
    f = tmp_path / "s.toml"
    f.write_text(capsys.readouterr().out, encoding="utf-8")
    (st,) = load_study_file(f)
    assert st.config == TatoebaConfig(langs="deu", layers=[8, 12], threads=2) and st.out == "results/retrieval"


def test_unknown_names_get_choices(cli_env, capsys) -> None:
    tmp_path, tsv, _ = cli_env
    assert main(["index", "build", "--input", str(tsv), "--out", str(tmp_path / "i2"), "--transform", "centre"]) == 2
    assert "did you mean 'center'" in capsys.readouterr().err
    assert main(["index", "build", "--input", str(tsv), "--out", str(tmp_path / "i3"), "--key", "NotAnIndex", "--layers", "2"]) == 2
    assert "FAISS cannot build" in capsys.readouterr().err


def test_help_examples_parse_and_mirror_ones_validate(capsys) -> None:
    import shlex

    from mbert_lab.cli import build_parser
    from mbert_lab.cli.index_cmd import EPILOG
    from mbert_lab.cli.neighbours_cmd import EPILOG as N_EPILOG

    lines = [ln.split("#")[0].strip() for ln in (EPILOG + N_EPILOG).splitlines()]
    examples = [shlex.split(ln)[1:] for ln in lines if ln.startswith("mbert-lab ")]
    assert len(examples) >= 15
    parser = build_parser()
    for argv in examples:
        parser.parse_args(argv)  # exits (SystemExit) on a bad example
    # the examples that need only the mirror validate (their configs print)
    mirror_only = [a for a in examples if "eval" in a and ("tatoeba" in a or "pool" in a or "--pair" in a)]
    assert len(mirror_only) == 3
    for argv in mirror_only + [a for a in examples if "--tatoeba" in a]:
        assert main([*argv, "--print-config"]) == 0, argv
    assert capsys.readouterr().out.count("[[study]]") == 4
