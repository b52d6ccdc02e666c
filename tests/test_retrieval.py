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
