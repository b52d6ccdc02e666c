"""The batched aligner and the align / align_eval studies on the tiny random models (library only;
the CLI is tested in test_align_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mbert_lab.analyses import alignment as al
from mbert_lab.analyses.alignment import Method
from mbert_lab.studies.alignment import AlignConfig, AlignEvalConfig, align, align_eval, encode_pairs

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


# --------------------------------------------------------------------------- studies


def test_align_study_on_identical_pairs_with_heatmap_and_round_trip(tmp_path, tiny_sp_encoder):
    pairs = [(" ".join(a), a) for a in EN]
    cfg = AlignConfig(pairs=pairs, layers=3, methods="argmax,softmax", heatmaps=2, cache=False)
    r = align(cfg, encoder=tiny_sp_encoder)
    assert r.layer == 3 and r.n_pairs == 3 and r.methods == ("argmax", "softmax")
    assert r.pairs[2].src == tuple(EN[2]) and r.pairs[2].where == "<pairs>:3"
    assert r.pairs[2].alignments["argmax"].links == tuple((k, k) for k in range(len(EN[2])))
    assert r.pharaoh_lines()[1] == "0-0 1-1 2-2"
    assert r.by_method[0].mean_coverage == 1.0
    rec = json.loads(r.jsonl_lines()[0])
    assert rec["src"] == EN[0] and rec["alignments"]["argmax"]["links"] == [[k, k] for k in range(len(EN[0]))]
    h = r.heatmap(2)
    assert len(h.similarity) == len(h.src_labels) and len(h.similarity[0]) == len(h.tgt_labels)
    assert all(h.similarity[i][j] == max(h.similarity[i]) for i, j in h.cells)  # argmax cells
    r.save(tmp_path)
    back = type(r).load(tmp_path)
    assert back.pairs == r.pairs and back.heatmaps == r.heatmaps
    from mbert_lab.plots.alignment import heatmap

    paths = heatmap(back, 2, tmp_path / "h")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)
    with pytest.raises(Exception, match="heatmaps: pair 9 does not exist"):
        align(cfg.replace(heatmaps=(9,)), encoder=tiny_sp_encoder)


def test_align_study_reads_files_raw_and_tokenized(tmp_path, tiny_sp_encoder):
    (tmp_path / "a.txt").write_text("\ufeffHello world!\r\nI like tea .\r\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Hello world!\rI like tea .\r", encoding="utf-8")
    raw = align(AlignConfig(src_file=str(tmp_path / "a.txt"), tgt_file=str(tmp_path / "b.txt"), input="raw",
                            layers=2, level="word", cache=False), encoder=tiny_sp_encoder)
    assert raw.pairs[0].src == ("Hello", "world!") and raw.pairs[1].where.endswith("a.txt:2")
    assert raw.pairs[0].alignments["argmax"].links == ((0, 0), (1, 1))
    assert raw.provenance.datasets[0].files.keys() == {str(tmp_path / "a.txt"), str(tmp_path / "b.txt")}
    (tmp_path / "p.src-tgt").write_text("I like tea . ||| I like tea .\n", encoding="utf-8")
    tok = align(AlignConfig(pairs_file=str(tmp_path / "p.src-tgt"), layers=2, cache=False), encoder=tiny_sp_encoder)
    assert tok.pairs[0].alignments["argmax"].links == tuple((k, k) for k in range(4))


def test_align_eval_study_matches_the_core_and_splits(tiny_sp_encoder):
    from mbert_lab.studies.alignment import load_gold

    cfg = AlignEvalConfig(gold=str(DATA / "five.gold"), layers="all", methods="all", levels="subword,word",
                          cache=False)
    r = align_eval(cfg, encoder=tiny_sp_encoder)
    assert r.layers == (0, 1, 2, 3, 4) and len(r.by_layer_all_pairs) == 5 * 2 * 6
    assert len(r.best) == 2 * 6 and len(r.per_pair) == 5 * len(r.by_layer_all_pairs)
    gi = r.golds[0]
    assert len(gi.dev_pairs) == 2 and gi.pairs == 5  # round(2.5) = 2
    # the study's numbers are the core's numbers
    gold = load_gold(str(DATA / "five.gold")).pairs
    src, tgt = encode_pairs(tiny_sp_encoder, [list(g.src) for g in gold], [list(g.tgt) for g in gold],
                            layers=(3,), progress=False)
    res = al.align_pairs(src, tgt, 3, ["itermax"], "word")
    assert r.row("five", "word", 3, "itermax").aer == pytest.approx(al.score_alignments(res[Method.ITERMAX], gold).overall.aer)
    # each best layer: lowest dev AER among the layers, and its test AER from the test pairs' counts
    test = [k for k in range(1, 6) if k not in gi.dev_pairs]
    for b in r.best:
        dev_aer = {}
        for la in r.layers:
            pp = [p for p in r.per_pair if (p.level, p.method, p.layer) == (b.level, b.method, la)]
            def aer(ks):
                c = np.array([[p.n_pred, p.n_sure, p.n_pred_sure, p.n_pred_possible] for p in pp if p.pair in ks]).sum(0)
                return al.AlignmentScores.from_counts(*map(int, c)).aer
            dev_aer[la] = aer(gi.dev_pairs)
            if la == b.layer:
                assert b.test.aer == pytest.approx(aer(test))
        assert b.dev_aer == pytest.approx(min(dev_aer.values())) and b.dev_aer == pytest.approx(dev_aer[b.layer])
    other = align_eval(cfg.replace(seed=3, methods=("argmax",), levels=("subword",)), encoder=tiny_sp_encoder)
    assert other.row("five", "subword", 2, "argmax") == r.row("five", "subword", 2, "argmax")  # the table is split-free


def test_demo_section_writes_links_and_heatmap(tmp_path, tiny_sp_encoder):
    from mbert_lab.data.embedded import load_embedded_corpus
    from mbert_lab.demo import DemoContext
    from mbert_lab.demo.alignment import section

    ctx = DemoContext(encoder=tiny_sp_encoder, corpus=load_embedded_corpus(), languages=("de", "fr", "ja"),
                      out=tmp_path, max_pairs=40)
    summary = section(ctx)
    assert "alignment:" in summary and "3 languages" in summary, summary
    for lang in ("de", "fr", "ja"):
        recs = [json.loads(x) for x in (tmp_path / "alignment" / f"links_en-{lang}.jsonl").read_text().splitlines()]
        assert len(recs) >= 5
        assert all(max((i for i, _ in r["alignments"]["argmax"]["links"]), default=-1) < len(r["src"]) for r in recs)
        assert all(max((j for _, j in r["alignments"]["match"]["links"]), default=-1) < len(r["tgt"]) for r in recs)
    assert list((tmp_path / "alignment").glob("heatmap_en-*_pair*.png"))
    summ = json.loads((tmp_path / "alignment" / "alignment_summary.json").read_text())
    assert set(summ["payload"]["languages"]) == {"de", "fr", "ja"}
    assert all(0 < v["mean_coverage"] <= 1 for v in summ["payload"]["languages"].values())
