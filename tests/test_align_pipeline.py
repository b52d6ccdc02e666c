"""The batched aligner and the align / align-eval commands on the tiny random models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mbert_lab.analyses import alignment as al
from mbert_lab.analyses.alignment import Method
from mbert_lab.cli import main
from mbert_lab.cli.align_cmd import encode_pairs

DATA = Path(__file__).parent / "data" / "alignment"

EN = [s.split(" ") for s in ["The quick brown fox jumps over the lazy dog .", "Hello world !", "I like green tea ."]]
DE = [s.split(" ") for s in ["Der schnelle braune Fuchs springt über den faulen Hund .", "Hallo Welt !",
                             "Ich mag grünen Tee ."]]
JA = [["素早い", "茶色", "の", "狐"], ["犬", "を"], ["のろま", "な", "犬"]]


def test_identical_sentences_align_on_the_diagonal(tiny_sp_encoder):
    src, tgt = encode_pairs(tiny_sp_encoder, EN, EN, layers=(2, 4), progress=False)
    for layer in (2, 4):
        for level in ("subword", "word"):
            res = al.align_pairs(src, tgt, layer, ["argmax", "match", "itermax"], level)
            for m in (Method.ARGMAX, Method.MATCH, Method.ITERMAX):
                for i, a in enumerate(res[m]):
                    assert set(a.links) == {(k, k) for k in range(len(EN[i]))}, (layer, level, m, i)
                    assert a.coverage == 1.0


def test_batched_equals_pair_by_pair(tiny_sp_encoder):
    """One extraction for all pairs gives the links of encoding each pair alone."""
    src, tgt = encode_pairs(tiny_sp_encoder, EN, DE, layers=(1, 3), progress=False)
    batched = al.align_pairs(src, tgt, 3, "all", "subword")
    for i in range(len(EN)):
        s1, t1 = encode_pairs(tiny_sp_encoder, [EN[i]], [DE[i]], layers=(3,), progress=False)
        alone = al.align_pairs(s1, t1, 3, "all", "subword")
        for m in Method:
            assert batched[m][i].links == alone[m][0].links, (m, i)
            np.testing.assert_allclose(batched[m][i].scores, alone[m][0].scores, atol=1e-5)


def test_lone_marker_pieces_dropped_or_kept(tiny_sp_encoder):
    src, tgt = encode_pairs(tiny_sp_encoder, JA, JA, layers=(4,), progress=False)
    toks = src.tokens(0)
    assert "▁" in toks, toks  # pre-split CJK words get a lone marker piece
    keep = al.pair_matrix(src, tgt, 0, 4, "subword", drop_lone_marker=False)
    drop = al.pair_matrix(src, tgt, 0, 4, "subword", drop_lone_marker=True)
    n_lone = int((~src.pooled_mask(0)).sum())
    assert n_lone > 0
    assert keep.src_vectors.shape[0] == len(toks)
    assert drop.src_vectors.shape[0] == len(toks) - n_lone
    assert "▁" not in drop.src_labels
    # word level: the word vector is the mean of its pieces, with or without the lone marker
    w_keep = al.pair_matrix(src, tgt, 0, 4, "word", drop_lone_marker=False).src_vectors
    w_drop = al.pair_matrix(src, tgt, 0, 4, "word", drop_lone_marker=True).src_vectors
    sub = src.subwords(0, 4)
    wid = src.word_ids(0)
    np.testing.assert_allclose(w_keep[0], sub[wid == 0].mean(0), atol=1e-6)
    np.testing.assert_allclose(w_drop[0], sub[(wid == 0) & src.pooled_mask(0)].mean(0), atol=1e-6)


def test_600_word_pair_is_windowed_and_aligns(tiny_sp_encoder):
    # the tiny model takes 64 positions: 600 words are far beyond, the extractor windows them
    words = (" ".join(" ".join(s) for s in EN) + " ").split(" ") * 40
    words = [w for w in words if w][:600]
    tw = (" ".join(" ".join(s) for s in DE) + " ").split(" ") * 40
    tw = [w for w in tw if w][:600]
    assert len(words) == len(tw) == 600
    src, tgt = encode_pairs(tiny_sp_encoder, [words], [tw], layers=(4,), progress=False)
    res = al.align_pairs(src, tgt, 4, ["argmax", "itermax", "match", "softmax"], "subword")
    for m, a in res.items():
        assert a[0].n_src == 600 and a[0].n_tgt == 600
        assert len(a[0].links) > 0
        assert max(i for i, _ in a[0].links) < 600 and max(j for _, j in a[0].links) < 600
    assert len(res[Method.MATCH][0].links) >= 500  # one link per subword of the shorter side, mapped to words


def test_raw_text_input(tiny_sp_encoder):
    src, tgt = encode_pairs(tiny_sp_encoder, ["Hello world!"], ["Hello world!"], layers=(2,), progress=False)
    assert src.words_text(0) == ["Hello", "world!"]  # Metaspace splits on spaces only
    res = al.align_pairs(src, tgt, 2, ["argmax"], "word")[Method.ARGMAX][0]
    assert set(res.links) == {(k, k) for k in range(len(src.words_text(0)))}


# ----------------------------------------------------------------------------- CLI


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


def test_cli_align_eval_matches_library_and_sweeps(tmp_path, tiny_model_dir, tiny_sp_encoder, capsys):
    ev = tmp_path / "ev"
    code, out, err = _run(capsys, "align-eval", "--gold", DATA / "five.gold", "--model", tiny_model_dir,
                          "--out", ev, "--no-cache", "--layers", "all", "--methods", "all",
                          "--level", "subword,word")
    assert code == 0, err
    rec = json.loads((ev / "align_eval.json").read_text())
    rows = rec["payload"]["rows"]
    assert len(rows) == 5 * 2 * 6  # layers 0-4, two levels, six methods
    assert (ev / "aer_by_layer.png").is_file() and (ev / "aer_by_layer.svg").is_file()
    assert len(rec["payload"]["best_layer"]) == 2 * 6
    # the CLI's numbers are the library's numbers
    from mbert_lab.cli.align_cmd import gold_pairs, load_gold

    gold = gold_pairs(load_gold(str(DATA / "five.gold"))[0])
    src, tgt = encode_pairs(tiny_sp_encoder, [list(g.src) for g in gold], [list(g.tgt) for g in gold],
                            layers=(3,), progress=False)
    res = al.align_pairs(src, tgt, 3, ["itermax"], "word")
    want = al.score_alignments(res[Method.ITERMAX], gold).overall.aer
    got = [r for r in rows if r["layer"] == 3 and r["level"] == "word" and r["method"] == "itermax"]
    assert got[0]["aer"] == pytest.approx(want)
    per = [json.loads(x) for x in (ev / "per_pair.jsonl").read_text().splitlines()]
    assert len(per) == 5 * len(rows)


def test_demo_section_writes_links_and_heatmap(tmp_path, tiny_sp_encoder):
    from mbert_lab.cli.align_cmd import demo_section
    from mbert_lab.data.embedded import load_embedded_corpus
    from mbert_lab.demo import DemoContext

    ctx = DemoContext(encoder=tiny_sp_encoder, corpus=load_embedded_corpus(), languages=("de", "fr", "ja"),
                      out=tmp_path, max_pairs=40)
    summary = demo_section(ctx)
    assert "alignment:" in summary and "3 languages" in summary, summary
    for lang in ("de", "fr", "ja"):
        recs = [json.loads(x) for x in (tmp_path / "alignment" / f"links_en-{lang}.jsonl").read_text().splitlines()]
        assert recs and all(max((i for i, _ in r["argmax"]["links"]), default=-1) < len(r["en"]) for r in recs)
    assert list((tmp_path / "alignment").glob("heatmap_en-*_pair*.png"))
    assert (tmp_path / "alignment" / "alignment_summary.json").is_file()


def test_cli_align_eval_scores_a_predictions_file(tmp_path, capsys):
    ev = tmp_path / "ev"
    code, out, err = _run(capsys, "align-eval", "--gold", DATA / "five.gold", "--pred", DATA / "five.pred",
                          "--out", ev)
    assert code == 0, err
    row = json.loads((ev / "align_eval.json").read_text())["payload"]["rows"][0]
    assert row["aer"] == pytest.approx(1 / 3) and row["precision"] == pytest.approx(0.875)
    assert "0.3333" in out
    (tmp_path / "bad.pred").write_text("0-0\n0-1\n0-0 1-2 3-3\n0-0\n0-5\n")
    code, _, err = _run(capsys, "align-eval", "--gold", DATA / "five.gold", "--pred", tmp_path / "bad.pred",
                        "--out", tmp_path / "ev2")
    assert code == 2 and "bad.pred:5: predicted link 0-5 is beyond the sentence length" in err
    assert not (tmp_path / "ev2").exists()
