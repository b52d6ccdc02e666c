"""The ``mbert-lab vocab`` command: a thin shell over the vocab study (CLI tests only here)."""

from __future__ import annotations

import json

import pytest

from mbert_lab.cli import main
from mbert_lab.studies import vocabulary as S


def _corpora(tmp_path):
    (tmp_path / "de.txt").write_text("Der schnelle braune Fuchs\nHallo Welt\n", encoding="utf-8")
    (tmp_path / "fr.txt").write_text("Le renard brun\nBonjour le monde\n", encoding="utf-8")
    return [f"de={tmp_path / 'de.txt'}", f"fr={tmp_path / 'fr.txt'}"]


@pytest.fixture
def tok_dir(tmp_path, tiny_sp_encoder):
    d = tmp_path / "tok"
    tiny_sp_encoder.tokenizer.save_pretrained(d)
    return d


def _pieces(tok, words):
    """Content pieces per word, by hand (lone '▁' dropped), to check the study's numbers."""
    enc = tok(words, is_split_into_words=True, add_special_tokens=False)
    per = [[] for _ in words]
    for p, w in zip(enc.tokens(), enc.word_ids()):
        if w is not None and p != "\u2581":
            per[w].append(p)
    return per


def test_cli_and_library_agree_with_hand_computed_values(tmp_path, tok_dir, capsys):
    """The CLI and ``vocab()`` on the same input give the same Result, and its values are the
    ones worked out by hand from the tokenizer's pieces."""
    entries = _corpora(tmp_path)
    out = tmp_path / "o"
    argv = ["vocab", "--no-transfer-data", "--tokenizer", str(tok_dir), "--out", str(out)]
    for e in entries:
        argv += ["--corpus", e]
    assert main(argv) == 0
    cli = S.VocabResult.load(out)
    lib = S.vocab(S.VocabConfig(tokenizers=[str(tok_dir)], corpora=entries, transfer_data=False))
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k != "provenance"}  # noqa: E731
    assert strip(cli) == strip(lib)
    g = cli.tokenizers[0].groups["corpus"]
    assert g.languages == ("deu", "fra") and cli.language_names["deu"] == "German"
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_dir)
    de = _pieces(tok, ["Der", "schnelle", "braune", "Fuchs"]) + _pieces(tok, ["Hallo", "Welt"])
    fr = _pieces(tok, ["Le", "renard", "brun"]) + _pieces(tok, ["Bonjour", "le", "monde"])
    st = g.stat("deu")
    assert st.n_words == 6 and st.segmentation.startswith("whitespace")
    assert st.fertility == pytest.approx(sum(map(len, de)) / 6)
    assert st.continued_share == pytest.approx(sum(len(p) >= 2 for p in de) / 6)
    a, b = {p for w in de for p in w}, {p for w in fr for p in w}
    assert st.distinct_subwords == len(a)
    assert g.jaccard[0][1] == pytest.approx(round(len(a & b) / len(a | b), 6)) and g.jaccard[1][0] == g.jaccard[0][1]
    assert 0 < g.jaccard[0][1] < 1 and g.jaccard[0][0] == 1.0
    from mbert_lab.plots.vocabulary import slug

    tdir = out / slug(str(tok_dir))
    assert (tdir / "corpus_overlap_jaccard.png").exists() and (tdir / "corpus_fertility.svg").exists()
    md = (out / "comparison.md").read_text()
    assert f"| deu | whitespace (ASCII space) | {st.fertility:.4f}" in md


def test_print_config_round_trips(tmp_path, capsys):
    from mbert_lab.config import load_study_file

    entries = _corpora(tmp_path)
    argv = ["vocab", "--corpus", entries[0], "--corpus", entries[1], "--tokenizer", "offline", "--no-transfer-data",
            "--measure", "fertility", "--n-boot", "50", "--print-config", "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    text = capsys.readouterr().out
    f = tmp_path / "s.toml"
    f.write_text(text, encoding="utf-8")
    d = load_study_file(f)[0]
    assert d.config == S.VocabConfig(corpora=entries, transfer_data=False, measures=["fertility"], n_boot=50)
    assert d.config.corpora[0].startswith("deu=") and d.out == str(tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("extra, needle", [
    (["--n-boot", "0"], "n_boot: must be a whole number >= 1, got 0"),
    (["--tatoeba-max", "-3"], "tatoeba_max: must be a whole number >= 1, got -3"),
    (["--pud", "zz"], "pud: unknown language 'zz': not in the language table and no ud-pud files"),
    (["--suite", "ud"], "suite: unknown value 'ud'"),
    (["--measure", "fertilty"], "did you mean 'fertility'"),
    (["--format", "xml"], "--format: unknown value 'xml'"),
    (["--scores", "{tmp}"], "scores: is a folder, expected a file"),
    (["--corpus", "de={tmp}"], "is a folder, expected a file"),
    (["--corpus", "de.txt"], "corpora: bad entry 'de.txt': use LANG=FILE"),
    (["--corpus", "d!=x.txt"], "corpora: 'd!' is not a language code"),
])
def test_bad_input_exits_2_before_any_tokenizer(tmp_path, capsys, monkeypatch, extra, needle):
    def boom(*a, **k):
        raise AssertionError("tokenizer loaded")

    monkeypatch.setattr(S, "load_tokenizer", boom)
    argv = ["vocab", "--no-transfer-data", "--out", str(tmp_path / "o")] + [x.format(tmp=tmp_path) for x in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_blank_line_unwritable_out_and_bad_tokenizer_are_clear_errors(tmp_path, capsys):
    bad = tmp_path / "xx.txt"
    bad.write_text("ein Satz\n\nnoch einer\n", encoding="utf-8")
    assert main(["vocab", "--corpus", f"de={bad}", "--no-transfer-data", "--out", str(tmp_path / "o")]) == 2
    assert f"{bad}:2" in capsys.readouterr().err
    ok = tmp_path / "de.txt"
    ok.write_text("das Haus\n", encoding="utf-8")
    (tmp_path / "file").write_text("x")
    assert main(["vocab", "--corpus", f"de={ok}", "--no-transfer-data", "--out", str(tmp_path / "file")]) == 2
    assert "--out: exists and is not a folder" in capsys.readouterr().err
    rc = main(["vocab", "--corpus", f"de={ok}", "--no-transfer-data", "--tokenizer", str(tmp_path / "nope"),
               "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "nope: tokenizers: no such folder" in capsys.readouterr().err  # checked before any loading
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_tatoeba_de_is_normalised_and_its_provenance_names_the_file(tmp_path, tok_dir, data_root, capsys):
    """The old command built its provenance from the raw code 'de' and failed after the plots."""
    out = tmp_path / "o"
    rc = main(["vocab", "--tatoeba", "de", "--tatoeba-max", "5", "--pud", "none", "--alignment", "none",
               "--no-transfer-data", "--tokenizer", str(tok_dir), "--out", str(out)])
    assert rc == 0
    res = json.loads((out / "vocab.json").read_text())
    g = res["tokenizers"][0]["groups"]["tatoeba"]
    assert g["languages"] == ["deu"] and g["stats"][0]["n_sentences"] == 5
    ds = {d["name"]: d for d in res["provenance"]["datasets"]}
    from mbert_lab.io import sha256_file

    f = "tatoeba/v1/tatoeba.deu-eng.deu"
    assert ds["tatoeba"]["files"] == {f: sha256_file(data_root / f)} and ds["tatoeba"]["languages"] == ["deu"]
    assert res["provenance"]["command"].startswith("mbert-lab ")  # the CLI adds its command line


@pytest.mark.integration
def test_mirror_run_with_mirror_wordpiece_and_scores(tmp_path, data_root, capsys):
    scores = tmp_path / "scores.csv"
    # a user CSV: every scored language with a corpus is used; 'sw' has none, 'en' is the source
    scores.write_text("lang,score\nde,0.86\nfr,0.84\nes,0.87\nru,0.82\nzh,0.55\nar,0.60\nen,0.97\nsw,0.5\n")
    out = tmp_path / "o"
    rc = main(["vocab", "--tokenizer", "wordpiece-mirror", "--pud", "en,zh", "--tatoeba", "deu,cmn,rus",
               "--tatoeba-max", "50", "--scores", str(scores), "--measure", "seen_token", "--measure",
               "fertility", "--n-boot", "200", "--out", str(out)])
    assert rc == 0
    r = S.VocabResult.load(out)
    t = r.tokenizer("wordpiece-mirror")
    zh = t.groups["pud"].stat("cmn")
    assert zh.segmentation.startswith("gold") and 1.0 <= zh.fertility < 3.0 and 0.0 <= zh.unk_rate < 0.2
    assert t.groups["tatoeba"].languages == ("deu", "cmn", "rus")
    assert t.groups["tatoeba"].stat("cmn").word_measures_comparable is False
    jpn = t.groups["alignment"].stat("jpn")  # gold KFTT tokens
    assert jpn.segmentation.startswith("gold") and jpn.word_measures_comparable is True
    tp = t.transfer_pos.per_language
    assert set(tp) == {"eng", "deu", "fra", "spa", "rus", "cmn", "ara"}  # every PUD file on disk
    assert tp["eng"].seen_type > tp["cmn"].seen_type and tp["cmn"].corpus == "pud"
    assert t.ner.per_language["pcm"].entity_overlap > 0
    c = t.correlation("seen_token")
    assert c.n == 6 and "eng" not in c.languages
    assert c.excluded == {"eng": "the source (training) language",
                          "swa": "no corpus for it (give one with corpora / --corpus)"}
    assert c.x == tuple(tp[k].seen_token for k in c.languages)
    assert (out / "wordpiece-mirror" / "scatter_seen_token.png").exists()


@pytest.mark.integration
def test_offline_tokenizer_lone_marker_on_gold_chinese(tmp_path, data_root, capsys):
    """XLM-R SentencePiece on pre-split Chinese emits lone '▁' pieces: both counts reported."""
    out = tmp_path / "o"
    rc = main(["vocab", "--tokenizer", "offline", "--pud", "zh", "--tatoeba", "none", "--alignment", "jaen",
               "--no-transfer-data", "--out", str(out)])
    assert rc == 0
    t = S.VocabResult.load(out).tokenizers[0]
    assert t.tokenizer.vocab_size == 250002
    for st in t.groups["pud"].stats + t.groups["alignment"].stats:
        assert st.segmentation.startswith("gold")
        assert st.lone_marker_share > 0.05
        assert st.fertility_with_marker == pytest.approx(st.fertility + st.lone_marker_share)
        assert st.continued_share_with_marker >= st.continued_share
    assert t.groups["pud"].stat("cmn").fertility == pytest.approx(1.2365, abs=1e-4)  # the published figure


def test_every_help_example_parses_and_validates(tmp_path, monkeypatch, capsys, data_root):
    """Each example of ``vocab --help`` builds a valid config (printed, nothing run); the
    user-file example gets small files of its own."""
    import shlex

    from mbert_lab.cli.vocab_cmd import EPILOG

    repo = S.Path(__file__).resolve().parent.parent
    (tmp_path / "examples").symlink_to(repo / "examples")
    (tmp_path / "de.txt").write_text("das Haus\n", encoding="utf-8")
    (tmp_path / "zh.conllu").write_text("1\t房子\t房子\tNOUN\t_\t_\t0\troot\t_\t_\n\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    examples = [ln.split("#")[0].strip() for ln in EPILOG.splitlines() if ln.strip().startswith("mbert-lab vocab")]
    assert len(examples) == 7
    for ex in examples:
        argv = shlex.split(ex)[1:] + ["--print-config"]
        assert main(argv) == 0, ex
        assert capsys.readouterr().out.startswith("[[study]]\nstudy = \"vocab\"")
