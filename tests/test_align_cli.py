"""``mbert-lab align`` / ``align-eval`` on the tiny random model: formats, heatmap, bad input,
--print-config, and the CLI giving exactly the library's links and AER."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mbert_lab.cli import main
from mbert_lab.studies.alignment import AlignConfig, AlignEvalConfig, align, align_eval

DATA = Path(__file__).parent / "data" / "alignment"
EN = [s.split(" ") for s in ["The quick brown fox jumps over the lazy dog .", "Hello world !", "I like green tea ."]]
DE = [s.split(" ") for s in ["Der schnelle braune Fuchs springt über den faulen Hund .", "Hallo Welt !",
                             "Ich mag grünen Tee ."]]
@pytest.fixture
def tiny_model_dir(tmp_path, tiny_sp_encoder):
    d = tmp_path / "tiny-model"
    tiny_sp_encoder.model.save_pretrained(d, safe_serialization=True)
    tiny_sp_encoder.tokenizer.save_pretrained(d)
    return d


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_align_formats_and_heatmap(tmp_path, tiny_model_dir, capsys):
    pairs = tmp_path / "p.src-tgt"
    pairs.write_text("".join(" ".join(a) + " ||| " + " ".join(a) + "\n" for a in EN), encoding="utf-8")
    common = ["--pairs", pairs, "--model", tiny_model_dir, "--layers", "3", "--no-cache"]
    code, out, err = _run(capsys, "align", *common, "--out", tmp_path / "l.txt", "--heatmap", "2")
    assert code == 0, err
    lines = (tmp_path / "l.txt").read_text().splitlines()
    assert lines[1] == "0-0 1-1 2-2"
    assert (tmp_path / "l_pair2.png").is_file() and (tmp_path / "l_pair2.svg").is_file()
    code, _, err = _run(capsys, "align", *common, "--method", "match", "--format", "pharaoh-scores",
                        "--out", tmp_path / "s.txt")
    assert code == 0, err
    first = (tmp_path / "s.txt").read_text().splitlines()[1].split()
    assert [x.split(":")[0] for x in first] == ["0-0", "1-1", "2-2"]
    assert all(float(x.split(":")[1]) == pytest.approx(1.0, abs=1e-4) for x in first)
    code, _, err = _run(capsys, "align", *common, "--method", "argmax,softmax", "--format", "jsonl",
                        "--out", tmp_path / "l.jsonl")
    assert code == 0, err
    recs = [json.loads(x) for x in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert recs[2]["src"] == EN[2]
    assert recs[2]["alignments"]["argmax"]["links"] == [[k, k] for k in range(len(EN[2]))]
    assert set(recs[0]["alignments"]) == {"argmax", "softmax"}


def test_cli_bad_input_exit_2_and_no_output(tmp_path, tiny_model_dir, capsys):
    (tmp_path / "a.txt").write_text("a b\nc d\ne\n")
    (tmp_path / "b.txt").write_text("x\ny\n")
    out = tmp_path / "out.txt"
    code, _, err = _run(capsys, "align", "--src", tmp_path / "a.txt", "--tgt", tmp_path / "b.txt",
                        "--model", tiny_model_dir, "--out", out, "--no-cache", "--layers", "2")
    assert code == 2 and "b.txt:3: line counts differ" in err
    assert not out.exists()
    (tmp_path / "e.src-tgt").write_text("a b ||| x y\n ||| z\n")
    code, _, err = _run(capsys, "align", "--pairs", tmp_path / "e.src-tgt", "--model", tiny_model_dir,
                        "--out", out, "--no-cache", "--layers", "2")
    assert code == 2 and "e.src-tgt:2: empty source side" in err
    assert not out.exists()
    (tmp_path / "g.src-tgt").write_text("a b ||| x y\nc ||| z\n")
    (tmp_path / "g.gold").write_text("1-1 2-2\n1-3\n")
    ev = tmp_path / "ev"
    code, _, err = _run(capsys, "align-eval", "--gold", tmp_path / "g.gold", "--model", tiny_model_dir,
                        "--out", ev, "--no-cache", "--layers", "2")
    assert code == 2 and "g.gold:2: link 1-3: target index 3 is beyond the sentence" in err
    assert not ev.exists()
    code, _, err = _run(capsys, "align", "--pairs", tmp_path / "g.src-tgt", "--model", tiny_model_dir,
                        "--out", out, "--method", "argmx")
    assert code == 2 and "did you mean 'argmax'" in err


def test_cli_align_eval_equals_library_and_sweeps(tmp_path, tiny_model_dir, capsys):
    """The CLI and the library on the same input: identical table, best layers and per-pair scores."""
    ev = tmp_path / "ev"
    code, out, err = _run(capsys, "align-eval", "--gold", DATA / "five.gold", "--model", tiny_model_dir,
                          "--out", ev, "--no-cache", "--layers", "all", "--methods", "all",
                          "--level", "subword,word", "--seed", "1")
    assert code == 0, err
    rec = json.loads((ev / "align_eval.json").read_text())
    rows = rec["by_layer_all_pairs"]
    assert len(rows) == 5 * 2 * 6  # layers 0-4, two levels, six methods
    assert (ev / "aer_by_layer.png").is_file() and (ev / "aer_by_layer.svg").is_file()
    assert len(rec["best"]) == 2 * 6 and rec["split"]["chosen_on"] == "dev" and rec["split"]["reported_on"] == "test"
    assert rec["provenance"]["command"].startswith("mbert-lab")  # the CLI adds its command line
    lib = align_eval(AlignEvalConfig(gold=str(DATA / "five.gold"), model=str(tiny_model_dir), layers="all",
                                     methods="all", levels=("subword", "word"), seed=1, cache=False))
    assert rows == [json.loads(json.dumps(r)) for r in lib.to_dict()["by_layer_all_pairs"]]
    assert rec["best"] == lib.to_dict()["best"]
    per = [json.loads(x) for x in (ev / "per_pair.jsonl").read_text().splitlines()]
    assert len(per) == 5 * len(rows)
    assert [p["aer"] for p in per] == [p.aer for p in lib.per_pair]
    assert "test AER" in out and "every layer on all pairs" in out


def test_cli_align_links_equal_library(tmp_path, tiny_model_dir, capsys):
    pairs = tmp_path / "p.src-tgt"
    pairs.write_text("".join(" ".join(a) + " ||| " + " ".join(b) + "\n" for a, b in zip(EN, DE)), encoding="utf-8")
    code, _, err = _run(capsys, "align", "--pairs", pairs, "--model", tiny_model_dir, "--layers", "2", "--no-cache",
                        "--method", "itermax", "--level", "word", "--format", "pharaoh-scores", "--out", tmp_path / "l.txt")
    assert code == 0, err
    lib = align(AlignConfig(pairs_file=str(pairs), model=str(tiny_model_dir), layers=2, methods="itermax",
                            level="word", cache=False))
    assert (tmp_path / "l.txt").read_text().splitlines() == lib.pharaoh_lines(with_scores=True)
    assert any(line.split() for line in lib.pharaoh_lines())  # something was aligned


def test_cli_print_config_round_trips_and_rejects(tmp_path, tiny_model_dir, capsys):
    from mbert_lab.config import load_study_file

    code, out, err = _run(capsys, "align-eval", "--gold", "en-fr,ja-en", "--layers", "6,7", "--limit", "20",
                          "--out", tmp_path / "o", "--print-config")
    assert code == 0, err
    (tmp_path / "s.toml").write_text(out)
    (d,) = load_study_file(tmp_path / "s.toml")
    assert d.config == AlignEvalConfig(gold=("en-fr", "ja-en"), layers=(6, 7), limit=20) and d.out == str(tmp_path / "o")
    assert not (tmp_path / "o").exists()
    code, out, err = _run(capsys, "align", "--pairs", DATA / "five.src-tgt", "--layers", "5", "--out", "x.txt",
                          "--print-config")
    assert code == 0 and 'study = "align"' in out and "layers = [5]" in out
    for argv, msg in [
        (["align", "--pairs", DATA / "five.src-tgt", "--layers", "all", "--out", tmp_path / "x"], "layers: align uses one layer"),
        (["align", "--pairs", DATA / "five.src-tgt", "--layers", "3,4", "--out", tmp_path / "x"], "layers: align uses one layer"),
        (["align-eval", "--gold", "en-fr", "--limit", "0", "--out", tmp_path / "x"], "limit: must be a whole number >= 1"),
        (["align-eval", "--gold", "en-fr", "--limit", "-5", "--out", tmp_path / "x"], "limit: must be a whole number >= 1"),
        (["align-eval", "--gold", DATA / "five.gold", "--pred", DATA / "five.pred", "--layers", "all",
          "--out", tmp_path / "x"], "layers: has no effect when scoring a predictions file"),
        (["align-eval", "--gold", "en-fr", "--threads", "0", "--out", tmp_path / "x"], "threads: must be"),
        (["align", "--pairs", DATA / "five.src-tgt", "--method", "argmax,match", "--out", tmp_path / "x"],
         "Pharaoh output holds one method"),
        (["align", "--pairs", DATA, "--out", tmp_path / "x"], "is a folder, expected a file"),
        (["align", "--pairs", DATA / "five.src-tgt", "--out", DATA], "is a folder, expected a file path"),
    ]:
        code, _, err = _run(capsys, *argv)
        assert code == 2 and msg in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def test_cli_help_examples_parse_and_validate(tmp_path, monkeypatch):
    """Every example in --help parses and builds a valid Config (files made up for them)."""
    import shlex

    from mbert_lab.cli import build_parser
    from mbert_lab.cli.align_cmd import EPILOG_ALIGN, EPILOG_EVAL, align_config, eval_config

    monkeypatch.chdir(tmp_path)
    for f in ("corpus.en", "corpus.fr", "raw.en", "raw.de"):
        Path(f).write_text("a b\n")
    Path("data.src-tgt").write_text("a b ||| c d\n")
    Path("my.gold").write_text("0-0\n")
    Path("my.src-tgt").write_text("a b ||| c d\n")
    Path("links.txt").write_text("0-0\n")
    parser = build_parser()
    n = 0
    for epilog, make in ((EPILOG_ALIGN, align_config), (EPILOG_EVAL, eval_config)):
        text = epilog.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("mbert-lab "):
                args = parser.parse_args(shlex.split(line, comments=True)[1:])
                make(args)
                n += 1
    assert n == 6


def test_cli_align_eval_scores_a_predictions_file(tmp_path, capsys):
    ev = tmp_path / "ev"
    code, out, err = _run(capsys, "align-eval", "--gold", DATA / "five.gold", "--pred", DATA / "five.pred",
                          "--out", ev)
    assert code == 0, err
    row = json.loads((ev / "align_eval.json").read_text())["by_layer_all_pairs"][0]
    assert row["aer"] == pytest.approx(1 / 3) and row["precision"] == pytest.approx(0.875)
    assert "0.3333" in out
    (tmp_path / "bad.pred").write_text("0-0\n0-1\n0-0 1-2 3-3\n0-0\n0-5\n")
    code, _, err = _run(capsys, "align-eval", "--gold", DATA / "five.gold", "--pred", tmp_path / "bad.pred",
                        "--out", tmp_path / "ev2")
    assert code == 2 and "bad.pred:5: predicted link 0-5 is beyond the sentence length" in err
    assert not (tmp_path / "ev2").exists()
