"""Retrieval maths: margins by hand, mining modes, F1 threshold, Tatoeba, recall@k, BLI."""

from __future__ import annotations

import numpy as np
import pytest

from mbert_lab.analyses import retrieval as R
from mbert_lab.errors import ConfigError, InputError


def unit(*rows: list[float]) -> np.ndarray:
    x = np.array(rows, dtype=np.float64)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# three source and three target vectors in 2-D, angles chosen so cosines are easy to read
X = unit([1, 0], [0, 1], [1, 1])
Y = unit([1, 0.1], [0.1, 1], [1, 0.9])


def test_knn_matches_bruteforce_and_orders_ties_by_id() -> None:
    rng = np.random.default_rng(1)
    q, t = rng.normal(size=(7, 5)), rng.normal(size=(30, 5))
    s, i = R.knn(q, t, 4)
    cos = R.normalize(q) @ R.normalize(t).T
    np.testing.assert_array_equal(i, np.argsort(-cos, axis=1, kind="stable")[:, :4])
    np.testing.assert_allclose(s, np.sort(cos, axis=1)[:, ::-1][:, :4], rtol=1e-6)
    _, ti = R.knn(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), 3)
    assert ti.tolist() == [[2, 0, 1]]


def test_margin_matrix_hand_computation_k2() -> None:
    cos = (X.astype(np.float64) @ Y.T.astype(np.float64))
    # k=2 neighbourhood means by hand: mean of the two largest cosines per row / column
    ax = np.sort(cos, axis=1)[:, -2:].mean(axis=1)
    ay = np.sort(cos, axis=0)[-2:, :].mean(axis=0)
    i, j = 0, 2
    want_ratio = cos[i, j] / ((ax[i] + ay[j]) / 2)
    want_dist = cos[i, j] - (ax[i] + ay[j]) / 2
    got_r = R.margin_matrix(X, Y, k=2, margin="ratio")
    got_d = R.margin_matrix(X, Y, k=2, margin="distance")
    assert got_r[i, j] == pytest.approx(want_ratio, rel=1e-5)
    assert got_d[i, j] == pytest.approx(want_dist, abs=1e-6)
    np.testing.assert_allclose(R.margin_matrix(X, Y, margin="absolute"), cos, atol=1e-6)


def test_margin_numbers_fully_by_hand() -> None:
    # x0 = (1,0); y = (1,0), (0,1): cos(x0,y0)=1, cos(x0,y1)=0. k=1.
    x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    y = np.array([[1.0, 0.0], [0.6, 0.8]], np.float32)
    # cos = [[1, .6], [0, .8]]; avg_1(x0)=1, avg_1(x1)=.8; avg_1(y0)=1, avg_1(y1)=.8
    m = R.margin_matrix(x, y, k=1, margin="ratio")
    assert m[0, 0] == pytest.approx(1 / 1.0)
    assert m[0, 1] == pytest.approx(0.6 / 0.9)
    assert m[1, 1] == pytest.approx(0.8 / 0.8)
    d = R.margin_matrix(x, y, k=1, margin="distance")
    assert d[1, 0] == pytest.approx(0.0 - 0.9)


def test_unknown_margin_and_mode_name_choices() -> None:
    with pytest.raises(ConfigError, match="did you mean 'ratio'"):
        R.margin_matrix(X, Y, margin="ration")
    with pytest.raises(ConfigError, match="intersect"):
        R.mine(X, Y, mode="intersct")


def test_mining_modes_on_a_permuted_parallel_set() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 16))
    perm = rng.permutation(40)
    x = base + 0.05 * rng.normal(size=base.shape)
    y = base[perm] + 0.05 * rng.normal(size=base.shape)
    gold = {(int(perm[j]), j) for j in range(40)}  # x row perm[j] translates y row j
    for mode in ("forward", "backward", "max", "intersect"):
        p = R.mine(x, y, k=4, mode=mode)
        assert {(int(s), int(t)) for s, t in zip(p.src, p.tgt)} == gold, mode
        assert np.all(np.diff(p.score) <= 0)
        assert R.score_pairs(p, gold).f1 == 1.0


def test_mining_max_uses_each_sentence_once_and_intersect_drops_disagreements() -> None:
    # two sources compete for one target
    x = np.array([[1.0, 0.0], [0.9, 0.1]], np.float32)
    y = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    fwd = R.mine(x, y, k=1, mode="forward")
    assert sorted(fwd.tgt.tolist()) == [0, 0]
    mx = R.mine(x, y, k=1, mode="max")
    assert len(set(mx.src.tolist())) == len(mx) and len(set(mx.tgt.tolist())) == len(mx)
    inter = R.mine(x, y, k=1, mode="intersect")
    assert {(int(s), int(t)) for s, t in zip(inter.src, inter.tgt)} == {(0, 0)}


def test_best_f1_threshold_by_hand() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, False, True, False])
    r = R.best_f1_threshold(scores, correct, n_gold=3)
    # cut after 0.7: P=2/3, R=2/3, F1=2/3; after 0.9: P=1, R=1/3, F1=0.5
    assert r.threshold == 0.7 and r.f1 == pytest.approx(2 / 3) and r.n_selected == 3
    # tied scores stand or fall together
    r2 = R.best_f1_threshold(np.array([0.5, 0.5]), np.array([True, False]), 1)
    assert r2.n_selected == 2 and r2.precision == 0.5
    with pytest.raises(InputError):
        R.best_f1_threshold(scores, correct, 0)


def test_tatoeba_accuracy_both_directions_and_xsim() -> None:
    src = np.eye(4, dtype=np.float32)
    tgt = np.eye(4, dtype=np.float32)[[0, 1, 3, 2]]  # lines 2 and 3 swapped on the target side
    sc = R.tatoeba_accuracy(src, tgt, k=2)
    assert sc.src_to_tgt == 0.5 and sc.tgt_to_src == 0.5
    assert sc.xsim_src_to_tgt == pytest.approx(0.5)
    with pytest.raises(InputError, match="differ in length"):
        R.tatoeba_accuracy(src, tgt[:3])
    with pytest.raises(InputError, match="dimension mismatch"):
        R.tatoeba_accuracy(src, np.eye(4, 3, dtype=np.float32))


def test_recall_at_k() -> None:
    assert R.recall_at_k(np.array([[1, 2, 3]]), np.array([[1, 9, 2]]), 1) == 1.0
    assert R.recall_at_k(np.array([[1, 2, 3]]), np.array([[1, 9, 2]]), 3) == pytest.approx(2 / 3)


def test_bli_precision_by_hand_and_identical_exclusion() -> None:
    tgt_words = ["dog", "cat", "house", "Berlin"]
    tv = np.eye(4, dtype=np.float32)
    src_words = ["Hund", "Katze", "Haus", "Berlin", "unbekannt"]
    sv = np.array([[1, 0.1, 0, 0], [0.1, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]], np.float32)
    gold = {"Hund": {"dog"}, "Katze": {"cat"}, "Haus": {"house", "home"}, "Berlin": {"Berlin"}}
    s = R.bli_precision(sv, tv, src_words, tgt_words, gold, ks=(1, 2))
    # Hund hit@1; Katze -> house first, dog second: miss@1, miss@2; Haus hit; Berlin hit
    assert s.n_sources == 4
    assert s.precision["p@1"] == pytest.approx(75.0)
    assert s.precision["p@2"] == pytest.approx(75.0)
    w = R.bli_precision(sv, tv, src_words, tgt_words, gold, ks=(1,), exclude_identical=True)
    assert w.n_sources == 3 and w.n_identical_excluded == 1
    assert w.precision["p@1"] == pytest.approx(200 / 3)
    c = R.bli_precision(sv, tv, src_words, tgt_words, gold, ks=(1,), method="csls", csls_k=1)
    assert c.n_sources == 4


def test_mine_empty_and_center() -> None:
    e = R.mine(np.zeros((0, 3)), np.ones((2, 3)))
    assert len(e) == 0
    c = R.center(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(c.mean(axis=0), 0)


# ----------------------------------------------------------------------------- studies layer


def test_evaluate_mining_threshold_on_dev_f1_on_test_by_hand() -> None:
    from mbert_lab.studies.retrieval import evaluate_mining, split_indices

    assert [x.tolist() for x in split_indices(6, 0.5, 0)] == [[2, 3, 5], [0, 1, 4]]
    pairs = R.MinedPairs(np.array([0, 2, 4, 3, 1, 5]), np.array([0, 2, 4, 0, 1, 1]),
                         np.array([0.95, 0.9, 0.86, 0.8, 0.6, 0.5], np.float32))
    gold = {(i, i) for i in range(5)}  # source 5 has no gold pair
    ev = evaluate_mining(pairs, gold, 6, 0.5, 0)
    # dev (sources 2, 3, 5): the best cut keeps 0.9 only (F1 2/3); the gap below it is (0.8, 0.9]
    assert ev.threshold_chosen_on == "dev" and ev.threshold == pytest.approx(0.85)
    assert (ev.dev.n_selected, ev.dev.n_correct, ev.dev.n_gold) == (1, 1, 2)
    assert ev.dev.f1 == pytest.approx(2 / 3)
    # test (sources 0, 1, 4): 0.95 and 0.86 kept, both right; source 1 (0.6) lost: P 1, R 2/3
    assert (ev.test.n_selected, ev.test.n_correct, ev.test.n_gold) == (2, 2, 3)
    assert ev.test.precision == 1.0 and ev.test.f1 == pytest.approx(0.8)
    # the oracle on all data cuts at 0.6: 4 of 5 kept right, P 0.8, R 0.8 (labelled, not the figure)
    assert ev.oracle_threshold == pytest.approx(0.6) and ev.oracle_all_data.f1 == pytest.approx(0.8)
    assert (ev.split.n_dev, ev.split.n_test) == (3, 3)
    with pytest.raises(InputError, match="too few gold pairs"):
        evaluate_mining(pairs, {(0, 0)}, 6, 0.5, 0)


def test_study_configs_validate_and_normalise(tmp_path) -> None:
    from mbert_lab.studies.retrieval import BliConfig, MineConfig, RecallConfig, SearchConfig, TatoebaConfig

    assert TatoebaConfig(langs="de,fr", layers="8,12").langs == ("deu", "fra")
    assert TatoebaConfig(langs=["ja", "cmn"]).langs == ("jpn", "cmn")
    with pytest.raises(ConfigError, match="unknown language 'zz'.*no tatoeba files"):
        TatoebaConfig(langs="zz")
    with pytest.raises(ConfigError, match="dev_fraction"):
        TatoebaConfig(langs="de", dev_fraction=1.0)
    assert BliConfig().pair == "de-en" and BliConfig(pair="deu-eng").pair == "de-en"
    with pytest.raises(ConfigError, match="no MUSE dictionary 'ar-en'"):
        BliConfig(pair="ar-en")
    with pytest.raises(ConfigError, match="drop_lone_piece"):
        BliConfig(drop_lone_piece="yes")
    f = tmp_path / "s.txt"
    f.write_text("a\n", encoding="utf-8")
    assert MineConfig(src=str(f), tgt=str(f), src_lang="de").src_lang == "deu"
    for bad, match in [(dict(k=0), "k: must be"), (dict(layers="4,8"), "one layer"), (dict(threshold="x"), "threshold"),
                       (dict(mode="both"), "mode: unknown value")]:
        with pytest.raises(ConfigError, match=match):
            MineConfig(src=str(f), tgt=str(f), **bad)
    with pytest.raises(ConfigError, match="queries: must be a whole number >= 1, got -5"):
        RecallConfig(index=str(tmp_path), queries=-5)
    with pytest.raises(InputError, match="no index here"):
        SearchConfig(index=str(tmp_path), texts="hello")
    with pytest.raises(ConfigError, match="empty query"):
        SearchConfig(index=str(tmp_path), texts=" ")


def test_word_pairs_reader_line_rule(tmp_path) -> None:
    from mbert_lab.data.readers.tsv import read_word_pairs

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes("haus\thouse\nhaus\thome\nbaum\ttree\n".encode())
    b.write_bytes("\ufeffhaus\thouse\r\nhaus home\rbaum\ttree\r\nhaus\thouse\r\n".encode())
    assert read_word_pairs(a) == read_word_pairs(b) == [("haus", "house"), ("haus", "home"), ("baum", "tree")]
    b.write_text("haus\thouse\n\nbaum\ttree\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b.txt:2: blank line"):
        read_word_pairs(b)


def test_example_study_file_runs(tiny_encoder, tmp_path, monkeypatch) -> None:
    from pathlib import Path

    from mbert_lab.config import load_study_file
    from mbert_lab.studies import run_config

    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path))
    studies = load_study_file(Path(__file__).parent.parent / "examples" / "retrieval.toml")
    assert [s.name for s in studies] == ["tatoeba", "bli"]
    t = run_config(studies[0].config, encoder=tiny_encoder)
    assert t.languages == ("deu", "fra") and t.layers == (4,) and t.split.n_dev + t.split.n_test == 2000
    s = t.transforms["none"]
    assert s.best_layer == 4 and s.average_by_layer[4].n == 2000
    assert s.per_language[4]["deu"].xx_to_eng > 0.005  # a random tiny model beats chance (0.001): 0.012
    b = run_config(studies[1].config, encoder=tiny_encoder)
    assert b.pair == "en-es" and b.dictionary == "muse by-pos" and b.categories == ("o", "pn")
    sc = b.results[4]["cosine"]
    assert sc.recommended is not None and sc.recommended.n == sc.by_category["o"].n  # n+v+a+o is 'o' for en-es
    assert sc.all_categories.p_at_1 <= sc.all_categories.p_at_5 <= sc.all_categories.p_at_10
    from mbert_lab.studies import load_result

    assert load_result(t.save(tmp_path / "t")) == t and load_result(b.save(tmp_path / "b")) == b


def test_demo_section_builds_index_and_queries(tiny_encoder, tmp_path, monkeypatch) -> None:
    import json
    from types import SimpleNamespace

    from mbert_lab.demo.retrieval import section

    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    en = ["The quick brown fox.", "I like green tea.", "Hello world!", "Good night.", "See you soon."]
    # translations identical to the English: every English query finds its own line first
    pairs = {"de": [(e, e) for e in en], "fr": [(e, e + " ") for e in en]}
    ctx = SimpleNamespace(encoder=tiny_encoder, parallel=pairs, out=tmp_path, store=None)
    summary = section(ctx)
    assert "Flat index of 10 translations in 2 languages" in summary and "P@1 1.000 over 10 queries" in summary
    rec = json.loads((tmp_path / "retrieval" / "neighbours.json").read_text())
    assert rec["per_language_p_at_1"] == {"deu": 1.0, "fra": 1.0} and rec["languages"] == ["deu", "fra"]


def test_mine_from_neighbours_equals_exact_mining_and_rejects_short_lists() -> None:
    """Neighbours from elsewhere (an index) scored by the same margin code give the same pairs."""
    from mbert_lab.analyses.retrieval import MineMode, knn, mine, mine_from_neighbours, normalize

    rng = np.random.default_rng(5)
    y = rng.normal(size=(60, 12)).astype(np.float32)
    x = (y[:40] + 0.3 * rng.normal(size=(40, 12))).astype(np.float32)
    xn, yn = normalize(x), normalize(y)
    sx, ix = knn(xn, yn, 6, normalized=True)
    sy, iy = knn(yn, xn, 6, normalized=True)
    for mode in ("max", "forward", "intersect"):
        want = mine(x, y, k=4, mode=mode, candidates=6)
        got = mine_from_neighbours(sx, ix, sy, iy, 4, "ratio", [mode])[MineMode(mode)]
        np.testing.assert_array_equal(got.src, want.src)
        np.testing.assert_array_equal(got.tgt, want.tgt)
        np.testing.assert_allclose(got.score, want.score, rtol=1e-6)
    with pytest.raises(ConfigError, match="at least k=4"):
        mine_from_neighbours(sx[:, :3], ix[:, :3], sy, iy, 4, "ratio", ["max"])
    bad = ix.copy()
    bad[0, 5] = -1
    with pytest.raises(ConfigError, match="missing"):
        mine_from_neighbours(sx, bad, sy, iy, 4, "ratio", ["max"])
