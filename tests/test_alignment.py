"""Word alignment: known-answer tests of every method, AER on a hand-computed gold file,
the batched aligner on the tiny models, and input errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mbert_lab.analyses import alignment as al
from mbert_lab.analyses.alignment import ExtractOptions, GoldPair, Method
from mbert_lab.errors import ConfigError, InputError

DATA = Path(__file__).parent / "data" / "alignment"

# rows: source positions, columns: target positions
SIM3 = np.array(
    [
        [0.9, 0.1, 0.2],
        [0.3, 0.8, 0.7],
        [0.1, 0.75, 0.6],
    ]
)


def links(method, sim, **kw):
    return set(al.links_of(al.extract(sim, method, ExtractOptions(**kw))))


# ------------------------------------------------------------------ known answers


def test_forward_backward_argmax_3x3():
    # row maxima: 0->0, 1->1, 2->1; column maxima: 0<-0, 1<-1, 2<-1
    assert links("forward", SIM3) == {(0, 0), (1, 1), (2, 1)}
    assert links("backward", SIM3) == {(0, 0), (1, 1), (1, 2)}
    assert links("argmax", SIM3) == {(0, 0), (1, 1)}


def test_match_3x3_prefers_total_weight_over_local_maxima():
    # identity: 0.9 + 0.8 + 0.6 = 2.30; 0-0, 1-2, 2-1: 0.9 + 0.7 + 0.75 = 2.35 (best)
    assert links("match", SIM3) == {(0, 0), (1, 2), (2, 1)}


def test_match_rectangular_links_shorter_side_once():
    sim = np.array([[0.2, 0.9, 0.8, 0.1], [0.1, 0.85, 0.3, 0.2]])
    # 0-1 + 1-0 = 1.0 ; 0-2 + 1-1 = 1.65 (best) ; 0-1 + 1-2 = 1.2
    assert links("match", sim) == {(0, 2), (1, 1)}


SIM4 = np.array(
    [
        [0.9, 0.8, 0.1, 0.1],
        [0.85, 0.2, 0.1, 0.1],
        [0.1, 0.1, 0.9, 0.3],
        [0.1, 0.1, 0.8, 0.2],
    ]
)


def test_itermax_adds_links_for_unaligned_words():
    # ArgMax: 0-0 and 2-2; rows 1, 3 and columns 1, 3 stay free.
    assert links("argmax", SIM4) == {(0, 0), (2, 2)}
    # Round 2, damped matrix (alpha 0.9 where one side is aligned, 1 where neither is):
    #   row 0: [0, .72, 0, .09]   row 1: [.765, .2, .09, .1]
    #   row 2: [0, .09, 0, .27]   row 3: [.09, .1, .72, .2]
    # row maxima 0->1, 1->0, 2->3, 3->2 ; column maxima 0<-1, 1<-0, 2<-3, 3<-2: all four agree.
    assert links("itermax", SIM4) == {(0, 0), (2, 2), (0, 1), (1, 0), (2, 3), (3, 2)}
    # one iteration = ArgMax; more iterations change nothing here (every row aligned)
    assert links("itermax", SIM4, itermax_iterations=1) == {(0, 0), (2, 2)}
    assert links("itermax", SIM4, itermax_iterations=5) == links("itermax", SIM4)


def test_itermax_alpha_changes_the_winner():
    sim = SIM4.copy()
    sim[1] = [0.85, 0.6, 0.1, 0.1]  # ArgMax unchanged: 0-0, 2-2
    # cell weight = min(1, alpha * (row free + column free)).
    # alpha 0.9, row 1: [.765, .6, .09, .1] -> column 0, whose damped max is row 1: link 1-0;
    #            row 0: [0, .72, 0, .09] -> column 1 ([.72, .6, .09, .1]) -> link 0-1.
    assert links("itermax", sim) == {(0, 0), (2, 2), (1, 0), (0, 1), (3, 2), (2, 3)}
    # alpha 0.6, row 1: [.51, .6, .06, .1] -> column 1 ([.48, .6, .06, .1]) -> link 1-1;
    #            row 3: [.06, .1, .48, .2] -> column 2 -> link 3-2; row 2 -> column 3, lost to row 3.
    assert links("itermax", sim, itermax_alpha=0.6) == {(0, 0), (2, 2), (1, 1), (3, 2)}


def test_itermax_small_matrix_is_argmax():
    sim = np.array([[0.9, 0.8], [0.7, 0.1]])
    assert links("itermax", sim) == links("argmax", sim) == {(0, 0)}


def test_softmax_known_answer():
    dots = np.array([[8.0, 0.0, 1.0], [0.0, 8.0, 7.0], [0.0, 0.0, 8.0]])
    # row 1 softmax: [1, e^8, e^7] / 4078.59 = [.00025, .73088, .26888];
    # column 2 softmax: [e, e^7, e^8] / 4080.31 = [.00067, .26876, .73057]
    # -> 1-2 is kept (both .27 > 1e-3); 0-2 is not (row 0 gives it e/(e^8+1+e) = .00091)
    got = set(al.links_of(al.softmax_links(dots, 1e-3)))
    assert got == {(0, 0), (1, 1), (1, 2), (2, 2)}
    # a lower threshold admits 0-2 (.00091 and .00067 both > 5e-4)
    assert (0, 2) in set(al.links_of(al.softmax_links(dots, 5e-4)))
    conf = al.softmax_confidence(dots)
    assert conf[1, 2] == pytest.approx(2 * 0.26888 * 0.26876 / (0.26888 + 0.26876), abs=2e-5)


def test_distortion_known_answer_and_effect():
    np.testing.assert_allclose(
        al.distortion_mask(3, 3, 0.5),
        [[1, 0.875, 0.5], [0.875, 1, 0.875], [0.5, 0.875, 1]],
    )
    sim = np.array([[0.6, 0.1, 0.65], [0.1, 0.6, 0.1], [0.62, 0.1, 0.6]])
    assert links("argmax", sim) == {(0, 2), (1, 1), (2, 0)}
    # with distortion the corners lose half their similarity: the diagonal wins
    res = al.align_matrix(sim, ["argmax"], ExtractOptions(distortion=0.5))
    assert set(res[Method.ARGMAX].links) == {(0, 0), (1, 1), (2, 2)}


def test_null_threshold_drops_weak_links():
    res = al.align_matrix(SIM3, ["argmax", "match"], ExtractOptions(null_threshold=0.72))
    assert res[Method.ARGMAX].links == ((0, 0), (1, 1))
    assert res[Method.MATCH].links == ((0, 0), (2, 1))  # 1-2 (0.7) falls below 0.72


def test_link_and_pair_confidence():
    res = al.align_matrix(SIM3, ["match"], n_src=4, n_tgt=3)[Method.MATCH]
    assert res.scores == (0.9, 0.7, 0.75)
    assert res.confidence == pytest.approx((0.9 + 0.7 + 0.75) / 3)
    assert res.coverage == pytest.approx(6 / 7)  # source word 3 has no row, so no link
    assert res.pharaoh() == "0-0 1-2 2-1"
    assert res.pharaoh(True) == "0-0:0.9000 1-2:0.7000 2-1:0.7500"


def test_subword_links_map_to_words_with_best_score():
    # source words: [0, 0, 1] (word 0 has two pieces); target words [0, 1, 1]
    sim = np.array([[0.9, 0.2, 0.1], [0.3, 0.5, 0.95], [0.1, 0.8, 0.2]])
    res = al.align_matrix(sim, ["forward"], src_words=[0, 0, 1], tgt_words=[0, 1, 1])[Method.FORWARD]
    assert res.links == ((0, 0), (0, 1), (1, 1))
    assert res.scores == (0.9, 0.95, 0.8)
    assert (res.n_src, res.n_tgt) == (2, 2)


def test_similarity_is_shifted_cosine():
    x = np.array([[1.0, 0.0], [0.0, 0.0]])
    y = np.array([[2.0, 0.0], [-1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(al.similarity(x, y), [[1.0, 0.0, (1 + 2**-0.5) / 2], [0.5, 0.5, 0.5]])


def test_method_names_and_errors():
    assert al.parse_methods("all") == tuple(Method)
    assert al.parse_methods(["ArgMax", "match", "argmax"]) == (Method.ARGMAX, Method.MATCH)
    with pytest.raises(ConfigError, match="did you mean 'itermax'.*valid choices: argmax, backward"):
        Method.parse("itermx")
    with pytest.raises(ConfigError, match="alignment level"):
        al.Level.parse("char")
    with pytest.raises(ConfigError):
        ExtractOptions(itermax_iterations=0)


def test_empty_matrix_gives_no_links():
    res = al.align_matrix(np.zeros((0, 3)), list(Method))
    assert all(r.links == () for r in res.values())


# ------------------------------------------------------------------- properties


small = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.floats(0, 1, width=32))


@settings(max_examples=80, deadline=None)
@given(small)
def test_method_invariants(sim):
    fwd, bwd = links("forward", sim), links("backward", sim)
    am, it, mt = links("argmax", sim), links("itermax", sim), links("match", sim)
    assert am == fwd & bwd
    assert am <= it
    assert len(mt) == min(sim.shape)
    assert len({i for i, _ in mt}) == len({j for _, j in mt}) == len(mt)
    # match is optimal: no injective assignment of the shorter side scores more
    m, n = sim.shape
    k = min(m, n)
    if m <= n:  # every injective map of the rows into the columns
        best = max(sum(sim[i, c] for i, c in enumerate(cols)) for cols in itertools.permutations(range(n), k))
    else:
        best = max(sum(sim[r, j] for j, r in enumerate(rows)) for rows in itertools.permutations(range(m), k))
    assert sum(sim[i, j] for i, j in mt) == pytest.approx(best, abs=1e-9)


# ------------------------------------------------------------------------- AER


def test_aer_on_hand_computed_five_pair_gold_file():
    from mbert_lab.data.readers.pairs import read_links
    from mbert_lab.studies.alignment import load_gold

    gold_set = load_gold(str(DATA / "five.gold"))  # pairs from five.src-tgt beside it
    assert gold_set.info.index_base == 1  # detected: "3p3" in a 3-word pair
    assert gold_set.name == "five" and gold_set.total_pairs == 5
    gold = gold_set.pairs
    assert gold[0].sure == {(0, 0), (1, 1)} and gold[0].possible == {(2, 2)}
    assert gold[3].sure == frozenset() and gold[3].possible == {(0, 0), (0, 1)}
    assert len(load_gold(str(DATA / "five.gold"), limit=2).pairs) == 2
    pred = read_links(DATA / "five.pred", 5)
    ev = al.score_alignments(pred, gold)
    # |A| = 3+1+3+1+0 = 8, |S| = 2+2+4+0+2 = 10, |A∩S| = 2+1+2+0+0 = 5, |A∩P| = 3+1+2+1+0 = 7
    o = ev.overall
    assert (o.n_pred, o.n_sure, o.n_pred_sure, o.n_pred_possible) == (8, 10, 5, 7)
    assert o.precision == pytest.approx(7 / 8)
    assert o.recall == pytest.approx(5 / 10)
    assert o.aer == pytest.approx(1 - 12 / 18)
    assert o.f1 == pytest.approx(2 * 0.875 * 0.5 / 1.375)
    assert [p.aer for p in ev.per_pair] == pytest.approx([0.0, 1 - 2 / 3, 1 - 4 / 7, 0.0, 1.0])
    assert [p.precision for p in ev.per_pair] == pytest.approx([1, 1, 2 / 3, 1, 0])
    assert [p.recall for p in ev.per_pair] == pytest.approx([1, 0.5, 0.5, 0, 0])


def test_gold_index_detection_and_forcing(tmp_path):
    from mbert_lab.studies.alignment import load_gold

    (tmp_path / "g.src-tgt").write_text("a b ||| x y\n")
    (tmp_path / "g.gold").write_text("0-0 1p1\n")
    assert load_gold(str(tmp_path / "g.gold")).pairs[0].sure == {(0, 0)}
    (tmp_path / "h.gold").write_text("1-1 2-2\n")
    (tmp_path / "h.src-tgt").write_text("a b ||| x y\n")
    assert load_gold(str(tmp_path / "h.gold")).pairs[0].sure == {(0, 0), (1, 1)}
    with pytest.raises(InputError, match=r"h.gold:1: link 2-2: source index 2 is beyond the sentence"):
        load_gold(str(tmp_path / "h.gold"), index_base="0")
    with pytest.raises(ConfigError, match="did you mean 'en-fr'"):
        load_gold("en-fx")


def test_ideographic_space_is_a_token():
    from mbert_lab.data.readers.pairs import pairs_from_items

    assert pairs_from_items([("a \u3000 b  c", "x")]).src == [["a", "\u3000", "b", "c"]]


def test_input_errors_name_file_and_line(tmp_path):
    from mbert_lab.data.readers.pairs import read_links, read_pairs_file
    from mbert_lab.data.readers.pairs import read_parallel_files as read_parallel
    from mbert_lab.studies.alignment import load_gold

    (tmp_path / "a.txt").write_text("x y\nz\nw\n")
    (tmp_path / "b.txt").write_text("p\nq\n")
    with pytest.raises(InputError, match=r"b.txt:3: line counts differ"):
        read_parallel(tmp_path / "a.txt", tmp_path / "b.txt")
    (tmp_path / "p.src-tgt").write_text("a b ||| x\nc |||  \n")
    with pytest.raises(InputError, match=r"p.src-tgt:2: empty target side"):
        read_pairs_file(tmp_path / "p.src-tgt")
    (tmp_path / "q.src-tgt").write_text("a b ||| x\n")
    (tmp_path / "q.gold").write_text("1-1 3-1\n")
    with pytest.raises(InputError, match=r"q.gold:1: link 3-1: source index 3 is beyond the sentence"):
        load_gold(str(tmp_path / "q.gold"))
    (tmp_path / "r.gold").write_text("1-1 x\n")
    with pytest.raises(InputError, match=r"r.gold:1: bad link 'x'"):
        load_gold(str(tmp_path / "r.gold"), str(tmp_path / "q.src-tgt"))
    (tmp_path / "pred.txt").write_text("0-0 1-x\n")
    with pytest.raises(InputError, match=r"pred.txt:1: malformed link '1-x'"):
        read_links(tmp_path / "pred.txt", 1)


# ------------------------------------------------------------------ study (no model)


def test_pred_mode_scores_the_five_pair_file_through_the_study(tmp_path):
    from mbert_lab.studies.alignment import AlignEvalConfig, AlignEvalResult, align_eval

    r = align_eval(AlignEvalConfig(gold=str(DATA / "five.gold"), pred=str(DATA / "five.pred")))
    (row,) = r.by_layer_all_pairs
    assert r.mode == "predictions" and row.layer is None and r.best == ()
    assert (row.aer, row.precision, row.recall) == pytest.approx((1 / 3, 7 / 8, 1 / 2))
    assert [p.aer for p in r.per_pair] == pytest.approx([0.0, 1 - 2 / 3, 1 - 4 / 7, 0.0, 1.0])
    r.save(tmp_path)
    back = AlignEvalResult.load(tmp_path)
    assert back.by_layer_all_pairs == r.by_layer_all_pairs and back.per_pair == r.per_pair
    # with a limit, the first N lines of the predictions file are scored
    r2 = align_eval(AlignEvalConfig(gold=str(DATA / "five.gold"), pred=str(DATA / "five.pred"), limit=2))
    assert r2.by_layer_all_pairs[0].pairs == 2
    assert r2.by_layer_all_pairs[0].aer == pytest.approx(1 - (3 + 4) / (4 + 4))  # |A|=4 |S|=4 |A∩S|=3 |A∩P|=4


def test_pred_mode_rejects_model_options_and_bad_links(tmp_path):
    from mbert_lab.studies.alignment import AlignEvalConfig, align_eval

    with pytest.raises(ConfigError, match="layers: has no effect when scoring a predictions file"):
        AlignEvalConfig(gold=str(DATA / "five.gold"), pred=str(DATA / "five.pred"), layers="all")
    with pytest.raises(ConfigError, match="pred: scores one gold set"):
        AlignEvalConfig(gold=["en-fr", "ro-en"], pred=str(DATA / "five.pred"))
    (tmp_path / "bad.pred").write_text("0-0\n0-1\n0-0 1-2 3-3\n0-0\n0-5\n")
    with pytest.raises(InputError, match=r"bad.pred:5: predicted link 0-5 is beyond the sentence length"):
        align_eval(AlignEvalConfig(gold=str(DATA / "five.gold"), pred=str(tmp_path / "bad.pred")))
    (tmp_path / "short.pred").write_text("0-0\n")
    with pytest.raises(InputError, match=r"short.pred:2: 1 lines but the gold set has 5 sentence pairs"):
        align_eval(AlignEvalConfig(gold=str(DATA / "five.gold"), pred=str(tmp_path / "short.pred")))


def test_configs_validate_every_field(tmp_path):
    from mbert_lab.studies.alignment import AlignConfig, AlignEvalConfig

    ok = AlignEvalConfig(gold="enfr,ja-en", layers="all", methods="all", levels="word,subword")
    assert ok.gold == ("en-fr", "ja-en") and len(ok.methods) == 6 and ok.levels == ("word", "subword")
    assert AlignEvalConfig.from_dict(ok.to_dict()) == ok
    bad_eval = [
        (dict(gold="en-fx"), "did you mean 'en-fr'"),
        (dict(gold=[]), "gold: give a gold set"),
        (dict(gold="en-fr", limit=0), "limit: must be a whole number >= 1, got 0"),
        (dict(gold="en-fr", limit=-5), "limit: must be a whole number >= 1, got -5"),
        (dict(gold="en-fr", levels="sub"), "levels: unknown value 'sub'"),
        (dict(gold="en-fr", methods="argmx"), "did you mean 'argmax'"),
        (dict(gold="en-fr", dev_fraction=1.0), "dev_fraction: must be in"),
        (dict(gold="en-fr", gold_index="2"), "gold_index: unknown value '2'"),
        (dict(gold="en-fr", distortion=2.0), "distortion: must be in"),
        (dict(gold="en-fr", pairs_file=str(DATA / "five.src-tgt")), "pairs_file: goes with one gold file"),
        (dict(gold=str(tmp_path)), "is a folder, expected a file"),
    ]
    for kw, msg in bad_eval:
        with pytest.raises((ConfigError, InputError), match=msg):
            AlignEvalConfig(**kw)
    (tmp_path / "lone.gold").write_text("0-0\n")
    with pytest.raises(InputError, match="no sentence pairs for this gold file"):
        AlignEvalConfig(gold=str(tmp_path / "lone.gold"))
    p = dict(pairs=[("a b", "x y")])
    assert AlignConfig(**p, layers="last").layers == "last"
    assert AlignConfig(pairs=[[["a", "b"], "x y"]]).read_pairs().src == [["a", "b"]]
    bad_align = [
        (dict(**p, layers="all"), "layers: align uses one layer"),
        (dict(**p, layers="7,8"), "layers: align uses one layer"),
        (dict(**p, level="char"), "level: unknown value 'char'"),
        (dict(**p, heatmaps=0), "heatmaps: must be a whole number >= 1"),
        (dict(pairs=[("a", " ")]), r"pairs\[1\]: empty target side"),
        (dict(pairs=[("a", ["x"])], input="raw"), r"pairs\[1\]: the target side must be a string"),
        (dict(**p, pairs_file=str(DATA / "five.src-tgt")), "give exactly one source of sentence pairs"),
        (dict(src_file=str(DATA / "five.src-tgt")), "src_file / tgt_file: give both"),
        (dict(pairs_file=str(tmp_path)), "is a folder, expected a file"),
        (dict(**p, threads=0), "threads: must be a whole number"),
        (dict(**p, keep_lone_marker="yes"), "keep_lone_marker: must be true or false"),
    ]
    for kw, msg in bad_align:
        with pytest.raises((ConfigError, InputError), match=msg):
            AlignConfig(**kw)


def test_dev_split_is_seeded_disjoint_and_sized():
    from mbert_lab.studies.alignment import dev_split

    a = dev_split(447, 0.5, 0)
    assert a == dev_split(447, 0.5, 0) and a != dev_split(447, 0.5, 1)
    assert len(a) == 224 and len(set(a)) == 224 and all(0 <= x < 447 for x in a)
    assert len(dev_split(2, 0.01, 0)) == 1 and len(dev_split(2, 0.99, 0)) == 1  # one pair on each side
    assert dev_split(1, 0.5, 0) == ()


def test_best_layer_is_chosen_on_dev_and_reported_on_test():
    """Layer 0 is perfect on the dev pairs and bad on the test pairs; layer 1 the reverse and
    better overall. The dev split chooses layer 0 and reports its (bad) test AER; the
    all-pairs choice (layer 1) is kept, labelled, beside it."""
    from mbert_lab.studies.alignment import EvalRow, GoldInfo, GoldSet, Scores, _best_layers

    info = GoldInfo("toy", 4, "t", "g", 0, "given", dev_pairs=(1, 2))
    gs = GoldSet("toy", [], info, None, 4)  # type: ignore[arg-type]
    good, bad = [1, 1, 1, 1], [1, 1, 0, 0]  # (|A|, |S|, |A∩S|, |A∩P|) of one pair
    counts = {("subword", "argmax"): {0: np.array([good, good, bad, bad]), 1: np.array([bad, good, good, good])}}
    rows = [EvalRow("toy", "subword", la, "argmax", **{k: v for k, v in vars(Scores.from_counts(c.sum(0), 4)).items()
                                                       if k != "pairs"}, pairs=4, mean_confidence=None,
                    mean_coverage=None) for la, c in counts[("subword", "argmax")].items()]
    (b,) = _best_layers(gs, counts, rows)
    assert (b.layer, b.chosen_on, b.reported_on, b.dev_pairs, b.test.pairs) == (0, "dev", "test", 2, 2)
    assert b.dev_aer == 0.0 and b.test.aer == 1.0
    assert b.all_pairs_best_layer == 1 and b.all_pairs_best_aer == pytest.approx(1 - 6 / 8)
