"""Centroids, transforms, LID, clustering and geometry on synthetic vectors with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mbert_lab.analyses import centroids as C
from mbert_lab.errors import ConfigError, InputError

H = 8


def _clusters(centers: dict[str, np.ndarray], n: int = 200, noise: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = {}
    for k, c in centers.items():
        x = rng.normal(0, noise, (n, len(c)))
        x -= x.mean(0)  # exact mean zero: the centroid is exactly c
        out[k] = x + c
    return out


def _basis(i: int, scale: float = 1.0) -> np.ndarray:
    e = np.zeros(H)
    e[i] = scale
    return e


# ------------------------------------------------------------------ centroids & distances
def test_centroids_and_distances_known_answer():
    centers = {"a": _basis(0, 3.0), "b": _basis(1, 4.0), "c": _basis(0, 3.0) + _basis(2, 1.0)}
    cents = C.language_centroids(_clusters(centers))
    for k, c in centers.items():
        np.testing.assert_allclose(cents[k], c, atol=1e-12)
    m = np.stack([cents[k] for k in "abc"])
    eu = C.pairwise_distances(m, "euclidean")
    np.testing.assert_allclose(eu, [[0, 5, 1], [5, 0, np.sqrt(26)], [1, np.sqrt(26), 0]], atol=1e-9)
    cos = C.pairwise_distances(m, "cosine")
    np.testing.assert_allclose(cos[0, 1], 1.0, atol=1e-12)  # orthogonal
    np.testing.assert_allclose(cos[0, 2], 1 - 3 / np.sqrt(10), atol=1e-12)
    np.testing.assert_allclose(cos, cos.T)
    assert np.all(np.diag(cos) == 0)


def test_unknown_metric_lists_choices():
    with pytest.raises(ConfigError, match="did you mean 'cosine'"):
        C.pairwise_distances(np.eye(2), "cosin")


def test_empty_language_is_an_error():
    with pytest.raises(InputError, match="'x' has no vectors"):
        C.language_centroids({"x": np.zeros((0, 3))})


# ------------------------------------------------------------------ split
def test_split_is_disjoint_complete_seeded_and_reports_small_languages():
    s = C.split_indices({"big": 101, "mid": 40, "tiny": 5}, train_fraction=0.5, min_sentences=20, seed=3)
    assert s.excluded == {"tiny": "5 sentences, fewer than the 20 needed for the train/test split"}
    for lang, n in (("big", 101), ("mid", 40)):
        tr, te = set(s.train[lang].tolist()), set(s.test[lang].tolist())
        assert not tr & te
        assert tr | te == set(range(n))
        assert abs(len(tr) - n / 2) <= 1
    # a language's split depends on the seed and its name only, not on the other languages
    s2 = C.split_indices({"mid": 40}, min_sentences=20, seed=3)
    np.testing.assert_array_equal(s2.train["mid"], s.train["mid"])
    s3 = C.split_indices({"mid": 40}, min_sentences=20, seed=4)
    assert not np.array_equal(s3.train["mid"], s.train["mid"])
    with pytest.raises(ConfigError):
        C.split_indices({"a": 10}, train_fraction=1.0)


# ------------------------------------------------------------------ LID
def test_lid_on_separable_and_confusable_clusters():
    centers = {"a": _basis(0, 2), "b": _basis(1, 2), "c": _basis(2, 2), "c2": _basis(2, 2) + _basis(3, 0.05)}
    data = _clusters(centers, n=200, noise=0.3, seed=1)
    split = C.split_indices({k: len(v) for k, v in data.items()}, seed=0)
    train = {k: data[k][split.train[k]] for k in data}
    test = {k: data[k][split.test[k]] for k in data}
    for res in (C.nearest_centroid_lid(train, test), C.probe_lid(train, test, max_iter=500)):
        assert res.labels == ["a", "b", "c", "c2"]
        assert res.per_language["a"] == 1.0 and res.per_language["b"] == 1.0
        # c and c2 are nearly the same point: they are confused with each other only
        assert res.per_language["c"] < 0.95 and res.per_language["c2"] < 0.95
        top = res.most_confused[0]
        assert {top[0], top[1]} == {"c", "c2"}
        conf = np.asarray(res.confusion)
        assert conf.sum() == res.n_test == sum(len(v) for v in test.values())
        assert conf[:2, 2:].sum() == 0 and conf[2:, :2].sum() == 0
        assert res.accuracy == pytest.approx(np.trace(conf) / conf.sum())
        assert 0.5 < res.accuracy < 0.98


def test_lid_needs_two_languages():
    with pytest.raises(InputError, match="at least 2 languages"):
        C.nearest_centroid_lid({"a": np.ones((3, 2))}, {"a": np.ones((3, 2))})


# ------------------------------------------------------------------ transform
def test_transform_centering_projection_and_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    content = rng.normal(size=(n, H))
    rot, _ = np.linalg.qr(rng.normal(size=(H, H)))
    shift_x, shift_y = _basis(0, 5.0), _basis(1, -3.0)
    xx, eng = content @ rot + shift_x, content + shift_y  # same content, rotated + shifted
    tr, te = np.arange(0, 150), np.arange(150, n)
    t = C.LanguageTransform.fit(
        {"xxx": {4: xx[tr], 8: xx[tr]}, "eng": {4: eng[tr], 8: eng[tr]}}, provenance={"note": "test"}
    )
    np.testing.assert_allclose(t.center(xx[te], "xxx", 8).mean(0), (content[te].mean(0) - content[tr].mean(0)) @ rot, atol=1e-5)
    t2 = t.add_projections("eng", {"xxx": {4: (xx[tr], eng[tr]), 8: (xx[tr], eng[tr])}}, method="orthogonal")
    np.testing.assert_allclose(t2.apply(xx[te], "xxx", 8), t2.apply(eng[te], "eng", 8), atol=1e-6)
    assert C.retrieval_accuracy(t2.apply(xx[te], "xxx", 4), t2.apply(eng[te], "eng", 4)) == 1.0
    npz, meta = t2.save(tmp_path / "tr")
    back = C.LanguageTransform.load(tmp_path / "tr")
    assert back.layers == (4, 8) and back.pivot == "eng"
    assert back.provenance["note"] == "test" and back.provenance["projection"]["method"] == "orthogonal"
    np.testing.assert_allclose(back.apply(xx[te], "xxx", 8), t2.apply(xx[te], "xxx", 8), atol=1e-5)
    # a tampered array file is detected
    m = json.loads(meta.read_text())
    m["npz_sha256"] = "0" * 64
    meta.write_text(json.dumps(m))
    with pytest.raises(InputError, match="checksum"):
        C.LanguageTransform.load(tmp_path / "tr")
    with pytest.raises(ConfigError, match="did you mean 'xxx'"):
        t.apply(xx, "xxy", 8)


def test_lstsq_projection_recovers_a_linear_map():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, H))
    w = rng.normal(size=(H, H))
    got = C.fit_projection(x, x @ w, "lstsq", ridge=1e-8)
    np.testing.assert_allclose(got, w, atol=1e-5)
    with pytest.raises(InputError, match="differ in shape"):
        C.fit_projection(x, x[:10])


def test_centering_helps_retrieval_when_languages_are_shifted():
    rng = np.random.default_rng(2)
    content = rng.normal(0, 0.3, size=(200, H))
    xx = content + _basis(0, 3.0) + rng.normal(0, 0.05, size=(200, H))
    eng = content + _basis(1, 3.0)
    raw = C.retrieval_accuracy(xx, eng)
    t = C.LanguageTransform.fit({"x": {0: xx}, "e": {0: eng}})
    cent = C.retrieval_accuracy(t.apply(xx, "x", 0), t.apply(eng, "e", 0))
    assert cent == 1.0 and raw < cent


# ------------------------------------------------------------------ clustering
def test_clustering_recovers_families():
    # two "families" far apart, each with three close members
    fam = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "b3": "B"}
    rng = np.random.default_rng(0)
    cents = {k: (_basis(0, 10) if v == "A" else _basis(1, 10)) + rng.normal(0, 0.1, H) for k, v in fam.items()}
    cl = C.cluster_centroids(cents, "euclidean", "average")
    ag = C.cluster_agreement(cl, fam)
    assert ag.adjusted_rand == 1.0 and ag.purity == 1.0 and ag.n_clusters == 2
    # families scrambled: agreement drops
    bad = {"a1": "A", "a2": "B", "a3": "A", "b1": "B", "b2": "A", "b3": "B"}
    ag2 = C.cluster_agreement(cl, bad)
    assert ag2.adjusted_rand < 0.5 and ag2.purity < 1.0
    leaves = cl.leaf_order
    assert {tuple(sorted(leaves[:3])), tuple(sorted(leaves[3:]))} == {("a1", "a2", "a3"), ("b1", "b2", "b3")}
    with pytest.raises(ConfigError, match="ward"):
        C.cluster_centroids(cents, "cosine", "ward")


def test_pca_2d_finds_the_main_axis():
    x = np.array([[-2.0, 0, 0], [2.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
    p, ratio = C.pca_2d(x)
    assert ratio[0] == pytest.approx(0.8) and ratio[1] == pytest.approx(0.2)
    np.testing.assert_allclose(np.abs(p[:, 0]), [2, 2, 0, 0], atol=1e-12)


# ------------------------------------------------------------------ geometry
def test_geometry_on_hand_made_vectors():
    # every word vector equal: everything is 1
    same = [np.ones((3, 4)), np.ones((2, 4))]
    assert C.anisotropy(same, n_pairs=50) == pytest.approx(1.0)
    assert C.intra_sentence_similarity(same) == pytest.approx(1.0)
    # sentence of two orthogonal words: cos(word, mean) = 1/sqrt(2)
    assert C.intra_sentence_similarity([np.eye(4)[:2]]) == pytest.approx(1 / np.sqrt(2))
    # one-word sentences are ignored for intra-sentence similarity
    assert C.intra_sentence_similarity([np.eye(4)[:2], np.ones((1, 4))]) == pytest.approx(1 / np.sqrt(2))
    # anisotropy: sentence 0 is all e0, sentence 1 all e1 -> cross-sentence cosine is 0
    assert C.anisotropy([np.tile(np.eye(4)[0], (3, 1)), np.tile(np.eye(4)[1], (2, 1))], n_pairs=100) == 0.0
    # self-similarity: "cat" at e0 then at (e0+e1)/.. -> cos = 1/sqrt(2); "dog" occurs once
    s = [np.stack([np.eye(4)[0], np.eye(4)[2]]), np.stack([np.eye(4)[0] + np.eye(4)[1]])]
    val, n = C.self_similarity(s, [["cat", "dog"], ["cat"]])
    assert n == 1 and val == pytest.approx(1 / np.sqrt(2))
    # a repeat within one sentence is not a second context
    val, n = C.self_similarity([np.eye(4)[:2]], [["cat", "cat"]])
    assert n == 0 and np.isnan(val)


def test_centering_removes_a_common_direction():
    rng = np.random.default_rng(0)
    common = _basis(0, 10.0)
    sents = [rng.normal(size=(6, H)) + common for _ in range(100)]
    words = [[f"w{rng.integers(0, 30)}" for _ in range(6)] for _ in range(100)]
    raw = C.geometry(sents, words, n_pairs=3000)
    mean = np.concatenate(sents).mean(0)
    cen = C.geometry(sents, words, center=mean, n_pairs=3000)
    assert raw.anisotropy > 0.5 and abs(cen.anisotropy) < 0.05
    assert raw.self_similarity > 0.5 and abs(cen.self_similarity) < 0.1
    assert cen.n_words == 600 and raw.self_similarity_types > 0
    assert raw.adjusted["self_similarity"] == pytest.approx(raw.self_similarity - raw.anisotropy)


def test_retrieval_with_centering_conditions_and_disjointness():
    rng = np.random.default_rng(3)
    n = 120
    content = rng.normal(0, 0.3, size=(n, H))
    xx = content + _basis(0, 3.0) + rng.normal(0, 0.05, size=(n, H))
    eng = content + _basis(1, 3.0)
    split = C.split_indices({"x": n}, seed=0)
    tr, te = split.train["x"], split.test["x"]
    res = C.retrieval_with_centering(xx, eng, tr, te, projection="lstsq")
    assert set(res) == {"raw", "centered", "projected", "all_raw", "all_centered_in_sample"}
    assert res["centered"] == (1.0, 1.0) and res["projected"] == (1.0, 1.0)
    assert res["raw"][0] < 1.0 and res["all_raw"][0] < 1.0
    with pytest.raises(InputError, match="overlap"):
        C.retrieval_with_centering(xx, eng, tr, np.concatenate([te, tr[:1]]))
    with pytest.raises(InputError, match="line-aligned"):
        C.retrieval_with_centering(xx, eng[:-1], tr, te)
