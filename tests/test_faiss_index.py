"""FAISS index: every index type's top-k against brute-force numpy, choice under a budget,
tuning, incremental add, save/load round trip with corruption and model checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mbert_lab.errors import ConfigError, InputError
from mbert_lab.index.faiss_index import (
    IndexCorruptError,
    Item,
    ModelMismatchError,
    VectorIndex,
    choose_index,
    kind_of_key,
)


@pytest.fixture(autouse=True)
def _one_faiss_thread():
    # OpenMP spin-waiting on a busy 2-core machine makes small FAISS jobs 5-10x slower
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


MODEL_A = {"model_id": "offline:multilingual-e5-small-q4", "weights_sha256": "aaa"}
MODEL_B = {"model_id": "bert-base-multilingual-cased", "weights_sha256": "bbb"}


def clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(max(8, n // 50), d))
    return (c[rng.integers(0, len(c), n)] + 0.4 * rng.normal(size=(n, d))).astype(np.float32)


def items_for(n: int, langs: tuple[str, ...] = ("en", "de", "fr")) -> list[Item]:
    return [Item(langs[i % len(langs)], f"s{i}", f"text {i}") for i in range(n)]


def brute(q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = qn @ xn.T
    ids = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sim, ids, 1), ids


# ---------------------------------------------------------------- top-k vs brute force


@pytest.mark.parametrize(
    "key,params",
    [
        ("Flat", {}),
        ("HNSW16", {"efSearch": 512}),  # large efSearch on 600 vectors: the graph search is exhaustive in effect
        ("IVF8,Flat", {"nprobe": 8}),  # all lists probed: exact
    ],
)
def test_uncompressed_index_topk_equals_bruteforce(key: str, params: dict[str, int]) -> None:
    x = clustered(600, 16)
    q = clustered(25, 16, seed=5)
    idx = VectorIndex.build(x, items_for(len(x)), key=key)
    if params:
        idx.set_search_params(params)
    s, ids = idx.search_raw(q, 5)
    bs, bi = brute(q, x, 5)
    rows = np.array([int(it.sid[1:]) for it in idx.items])  # FAISS row -> original row
    np.testing.assert_array_equal(rows[ids], bi)
    np.testing.assert_allclose(s, bs, atol=1e-5)


@pytest.mark.parametrize("key", ["IVF8,PQ4x4", "OPQ4_16,IVF8,PQ4x4"])
def test_pq_index_topk_equals_bruteforce_over_its_decoded_vectors(key: str) -> None:
    # PQ is lossy: with every list probed, its ranking must equal exact search over the
    # vectors it stores (decoded), and stay close to exact search over the originals.
    x = clustered(1000, 16)  # 4-bit codes: 16 centroids per sub-quantiser train on few points
    q = clustered(20, 16, seed=7)
    idx = VectorIndex.build(x, items_for(len(x)), key=key)
    idx.set_search_params({"nprobe": 8})
    s, ids = idx.search_raw(q, 5)
    dec = idx.reconstruct_range(0, idx.meta.ntotal)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    sim = qn @ dec.T
    want = np.take_along_axis(sim, ids, 1)
    np.testing.assert_allclose(s, want, atol=1e-4)  # reported scores are the decoded inner products
    top1 = sim.argmax(axis=1)
    assert np.mean(np.isclose(sim[np.arange(len(q)), top1], s[:, 0], atol=1e-4)) == 1.0
    # and the ids are the decoded vectors' exact top-k (up to float ties)
    order = np.argsort(-sim, axis=1, kind="stable")[:, :5]
    np.testing.assert_allclose(np.take_along_axis(sim, order, 1), s, atol=1e-4)


@pytest.mark.parametrize("key", ["Flat", "IVF8,PQ4x4", "IVF8,PQ4x4fsr,Refine(SQfp16)"])
def test_reconstruct_ids_equals_the_rows_of_a_full_decode(key: str) -> None:
    x = clustered(1000, 16)
    idx = VectorIndex.build(x, items_for(len(x)), key=key)
    full = idx.reconstruct_range(0, idx.meta.ntotal)
    ids = np.random.default_rng(3).choice(len(x), 50, replace=False)
    ids = np.concatenate([ids, ids[:3]])  # unsorted, with repeats
    got = idx.reconstruct_ids(ids, block=128)  # several blocks, most of them without a wanted id
    np.testing.assert_array_equal(got, full[ids])
    assert idx.reconstruct_ids(np.array([], dtype=np.int64)).shape == (0, idx.meta.dim)
    with pytest.raises(IndexError):
        idx.reconstruct_ids(np.array([len(x)]))


def test_search_to_languages_and_hit_fields() -> None:
    x = clustered(300, 8)
    idx = VectorIndex.build(x, items_for(300), key="Flat")
    hits = idx.search(x[:2], k=4, langs="en", to=["fr"])
    assert all(len(h) == 4 for h in hits)
    assert all(hh.lang == "fr" for h in hits for hh in h)
    assert [hh.rank for hh in hits[0]] == [1, 2, 3, 4]
    assert hits[0][0].score >= hits[0][-1].score
    with pytest.raises(InputError, match="not in this index"):
        idx.search(x[:1], k=2, to=["zh"])


# ---------------------------------------------------------------- choice, tuning, add


def test_choose_index_follows_size_and_budget() -> None:
    assert choose_index(1000, 384).kind == "flat"
    assert choose_index(200_000, 384, "4G").kind == "hnsw"
    assert choose_index(200_000, 384, "200M").kind == "ivf_flat" or choose_index(200_000, 384, "200M").kind.endswith("pq")
    big = choose_index(1_504_414, 384, "4G")  # the ANN benchmark's 1.5M token vectors, index build's default budget
    assert (big.key, big.kind) == ("IVF4096,PQ96x4fsr,Refine(SQfp16)", "ivf_refine") and kind_of_key(big.key) == big.kind
    assert big.bytes_estimate <= 1.3e9 and big.train_size == 40 * 4096  # a float16 copy + 48-byte codes: ~824 B/vector
    assert choose_index(250_000, 384, "400M").kind == "ivf_flat"  # HNSW's graph does not fit, the vectors do
    small = choose_index(1_000_000, 384, "40M")
    assert small.kind == "opq_ivf_pq" and small.bytes_estimate <= 40 << 20
    with pytest.raises(ConfigError, match="do not fit"):
        choose_index(10_000_000, 384, "10M")
    assert kind_of_key("OPQ16_64,IVF256,PQ16") == "opq_ivf_pq"
    assert kind_of_key("IVF256,PQ16") == "ivf_pq"


def test_tuning_reaches_target_recall_with_held_out_queries() -> None:
    x = clustered(4000, 16)
    idx = VectorIndex.build(x, items_for(4000), key="IVF64,Flat", hold_out=200, target_recall=0.9)
    t = idx.meta.tuning
    assert t["param"] == "nprobe" and t["recall"] >= 0.9
    # the tuned value is the smallest tried value reaching the target
    below = [int(v) for v, r in t["tried"].items() if int(v) < t["value"]]
    assert all(t["tried"][v] < 0.9 for v in below) or not below
    assert idx.meta.ntotal == 4000  # held-out rows were added after tuning
    assert sorted(int(it.sid[1:]) for it in idx.items) == list(range(4000))


def test_incremental_add_and_dimension_mismatch() -> None:
    x = clustered(200, 8)
    idx = VectorIndex.build(x[:150], items_for(150), key="Flat")
    idx.add(x[150:], [Item("de", f"s{i}", "t") for i in range(150, 200)])
    assert idx.meta.ntotal == 200
    _s, ids = idx.search_raw(x[199:200], 1)
    assert idx.items[int(ids[0, 0])].sid == "s199"
    with pytest.raises(InputError, match="dimension mismatch"):
        idx.add(np.zeros((2, 9), np.float32), items_for(2))
    with pytest.raises(InputError, match="dimension mismatch"):
        idx.search(np.zeros((1, 9), np.float32))
    with pytest.raises(InputError, match="empty query"):
        idx.search(np.zeros((0, 8), np.float32))


def test_center_transform_uses_language_means() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(100, 8))
    x = np.concatenate([base + 5, base - 5]).astype(np.float32)  # two languages, offset means
    items = [Item("en", str(i), "") for i in range(100)] + [Item("de", str(i), "") for i in range(100)]
    plain = VectorIndex.build(x, items, key="Flat")
    cen = VectorIndex.build(x, items, key="Flat", transform="center")
    h_plain = plain.search(x[:20], k=1, langs="en", to=["de"])
    h_cen = cen.search(x[:20], k=1, langs="en", to=["de"])
    acc_c = np.mean([h[0].sid == str(i) for i, h in enumerate(h_cen)])
    assert acc_c == 1.0
    assert acc_c >= np.mean([h[0].sid == str(i) for i, h in enumerate(h_plain)])
    with pytest.raises(InputError, match="no language mean"):
        cen.search(x[:1], k=1, langs="fr")


# ---------------------------------------------------------------- persistence


def test_save_load_round_trip_mmap_and_model_check(tmp_path) -> None:
    x = clustered(2000, 16)
    idx = VectorIndex.build(x, items_for(2000), key="IVF16,Flat", model=MODEL_A, layer=12, transform="center")
    idx.set_search_params({"nprobe": 4})
    d = idx.save(tmp_path / "ix")
    for mmap in (False, True):
        back = VectorIndex.load(d, expect_model=MODEL_A, mmap=mmap, expect_dim=16)
        assert back.meta.layer == 12 and back.meta.transform == "center" and back.meta.search_params == {"nprobe": 4}
        a = idx.search(x[:5], k=3, langs="en")
        b = back.search(x[:5], k=3, langs="en")
        assert [[h.sid for h in r] for r in a] == [[h.sid for h in r] for r in b]
    ro = VectorIndex.load(d, mmap=True)
    with pytest.raises(ConfigError, match="read-only"):
        ro.add(x[:1], items_for(1))
    with pytest.raises(ModelMismatchError, match="another model"):
        VectorIndex.load(d, expect_model=MODEL_B)
    with pytest.raises(InputError, match="dimension mismatch"):
        VectorIndex.load(d, expect_dim=384)


def test_load_rejects_corrupted_files(tmp_path) -> None:
    x = clustered(500, 8)
    d = VectorIndex.build(x, items_for(500), key="Flat", model=MODEL_A).save(tmp_path / "ix")
    raw = bytearray((d / "index.faiss").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (d / "index.faiss").write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="checksum mismatch for index.faiss"):
        VectorIndex.load(d)
    # truncated file with a matching checksum (meta edited too): FAISS itself refuses it
    (d / "index.faiss").write_bytes(bytes(raw[:100]))
    meta = json.loads((d / "meta.json").read_text())
    from mbert_lab.io import sha256_file

    meta["sha256"]["index.faiss"] = sha256_file(d / "index.faiss")
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(d)
    (d / "meta.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="unreadable"):
        VectorIndex.load(d)
    with pytest.raises(InputError, match="not an index directory"):
        VectorIndex.load(tmp_path / "nothing")


def test_items_edited_is_detected(tmp_path) -> None:
    x = clustered(50, 8)
    d = VectorIndex.build(x, items_for(50), key="Flat").save(tmp_path / "ix")
    with open(d / "items.jsonl", "a", encoding="utf-8") as f:
        f.write('["en", "extra", "x"]\n')
    with pytest.raises(IndexCorruptError, match="items.jsonl"):
        VectorIndex.load(d)


def test_tuning_reports_cross_lingual_share() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(1500, 16))
    x = np.concatenate([base, base + 0.05 * rng.normal(size=base.shape)]).astype(np.float32)
    items = [Item("en", str(i), "") for i in range(1500)] + [Item("de", str(i), "") for i in range(1500)]
    idx = VectorIndex.build(x, items, key="IVF16,Flat", hold_out=100, target_recall=0.9)
    # a held-out sentence's translation is in the index, so its nearest neighbour is
    # cross-lingual, unless both sides happened to be held out (~100/1500 per query)
    assert 0.85 <= idx.meta.tuning["cross_lingual_share"] <= 1.0


# ---------------------------------------------------------------- streamed build


def test_build_from_float16_memmap_streams_blocks_and_equals_in_memory(tmp_path, monkeypatch) -> None:
    """A float16 memmap is read block by block (never as one float32 copy) and gives the same
    index as the same vectors in memory; centering means are streamed too."""
    import mbert_lab.index.faiss_index as fi

    monkeypatch.setattr(fi, "ADD_BLOCK", 97)  # many blocks, a ragged last one
    x16 = clustered(1000, 16, seed=3).astype(np.float16)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", np.float16, x16.shape)
    mm[:] = x16
    mm.flush()
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    reads: list[int] = []

    class Spy:  # records every read: no read may cover the whole matrix
        shape, ndim = mm.shape, 2

        def __len__(self):
            return len(mm)

        def __getitem__(self, sel):
            out = mm[sel]
            reads.append(len(out))
            return out

    items = items_for(1000)
    q = clustered(20, 16, seed=4)
    for transform in ("none", "center"):
        a = VectorIndex.build(x16.astype(np.float32), items, key="IVF8,Flat", transform=transform, seed=1)
        reads.clear()
        b = VectorIndex.build(Spy(), items, key="IVF8,Flat", transform=transform, seed=1)
        # one read of the training sample (all 1000 rows here: IVF trains on up to 100k), then
        # blocks of ADD_BLOCK rows (for centering, a streamed pass for the means first)
        assert reads.count(1000) == 1 and max(r for r in reads if r != 1000) <= 97
        assert b.meta.ntotal == 1000 and [it.sid for it in b.items] == [it.sid for it in items]
        for idx in (a, b):
            idx.set_search_params({"nprobe": 8})
        sa, ia = a.search_raw(q, 5, langs="en")
        sb, ib = b.search_raw(q, 5, langs="en")
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_allclose(sa, sb, atol=1e-5)


# ---------------------------------------------------------------- row numbers, ground truth, refine


@pytest.mark.parametrize("key,params", [("IVF16,Flat", {"nprobe": 16}), ("HNSW16", {"efSearch": 512})])
def test_hold_out_keeps_input_row_numbers(tmp_path, key: str, params: dict[str, int]) -> None:
    """Held-out tuning rows are added last in FAISS, yet row i is input row i everywhere:
    search_raw ids, items, exact_search, and after save/load."""
    x = clustered(3000, 16, seed=2)
    items = items_for(3000)
    idx = VectorIndex.build(x, items, key=key, hold_out=150, target_recall=0.9, tune_k=5)
    held = np.array(idx.meta.extra["held_rows"])
    assert len(held) == 150 and idx.meta.tuning["truth"] == "streamed" and held.max() < 2999
    assert [it.sid for it in idx.items] == [f"s{i}" for i in range(3000)]
    idx.set_search_params(params)
    probe = np.concatenate([held[:20], [0, 1, 2999]])  # held rows and rows added first / last
    for index in (idx, VectorIndex.load(idx.save(tmp_path / "ix"))):
        _s, ids = index.search_raw(x[probe], 5)
        _bs, bi = brute(x[probe], x, 5)
        np.testing.assert_array_equal(ids[:, 0], probe)  # each vector finds its own row first
        np.testing.assert_array_equal(ids, bi)
        np.testing.assert_array_equal(index.exact_search(index.prepare_queries(x[probe]), 5), bi)
        assert [h.sid for h in index.search(x[probe[:1]], k=1)[0]] == [f"s{probe[0]}"]


def test_hold_out_ground_truth_is_exact_search_without_the_held_rows() -> None:
    """The streamed ground truth used for tuning equals brute force over the non-held rows."""
    import mbert_lab.index.faiss_index as fi

    x = clustered(2000, 16, seed=4)
    idx = VectorIndex.build(x, items_for(2000), key="IVF16,Flat", hold_out=100, target_recall=0.95, tune_k=3)
    held = np.array(idx.meta.extra["held_rows"])
    rest = np.setdiff1d(np.arange(2000), held)
    _, bi = brute(x[held], x[rest], 3)
    truth = fi._TopK(idx.prepare_queries(x[held]), 3)
    for lo in range(0, len(rest), 333):  # by blocks, as the build does
        truth.update(idx.prepare_queries(x[rest[lo : lo + 333]]), rest[lo : lo + 333])
    np.testing.assert_array_equal(truth.i, rest[bi])
    t = idx.meta.tuning
    assert t["k"] == 3 and t["recall"] >= 0.95 and t["n_queries"] == 100


def test_tune_with_given_ground_truth_equals_reconstructed() -> None:
    x = clustered(3000, 16, seed=6)
    q = clustered(80, 16, seed=7)
    idx = VectorIndex.build(x, items_for(3000), key="IVF32,Flat")
    a = idx.tune(q, target_recall=0.9, k=5)
    b = idx.tune(q, target_recall=0.9, k=5, exact=brute(q, x, 5)[1])
    assert a.truth == "reconstructed" and b.truth == "given"
    assert (a.value, a.recall, a.tried) == (b.value, b.recall, b.tried)


def test_refined_index_tunes_nprobe_and_candidates() -> None:
    """IVF + 4-bit fast-scan PQ + fp16 refinement: both parameters are tuned (for each
    k_factor the smallest nprobe, then the fastest), and with every list probed and enough
    candidates it returns brute force's neighbours."""
    from mbert_lab.index.faiss_index import refine_factors

    key = "IVF16,PQ8x4fs,Refine(SQfp16)"
    assert kind_of_key(key) == "ivf_refine" and kind_of_key("IVF16,PQ8x4fsr,RFlat") == "ivf_refine"
    x = clustered(3000, 16, seed=8)
    q = clustered(60, 16, seed=9)
    idx = VectorIndex.build(x, items_for(3000), key=key)
    t = idx.tune(q, target_recall=0.9, k=5, exact=brute(q, x, 5)[1])
    assert set(t.params) == {"nprobe", "k_factor_rf"} and t.recall >= 0.9
    assert [c["params"]["k_factor_rf"] for c in t.candidates] == refine_factors(5)[::-1]  # most candidates first
    most = t.candidates[0]["params"]["nprobe"]  # fewer candidates are not tried beyond twice its lists
    assert all(c["params"]["nprobe"] <= 2 * most for c in t.candidates)
    assert idx.meta.search_params == t.params
    idx.set_search_params({"nprobe": 16, "k_factor_rf": 64})
    _, ids = idx.search_raw(q, 5)
    assert np.mean(ids == brute(q, x, 5)[1]) >= 0.98  # fp16 re-ranking: near-ties may swap


def test_flat_storage_reserved_builds_the_same_index(monkeypatch) -> None:
    """Reserving the flat/refinement code storage before the blocks are added changes nothing."""
    import mbert_lab.index.faiss_index as fi

    monkeypatch.setattr(fi, "ADD_BLOCK", 101)
    x = clustered(700, 16, seed=10)
    q = clustered(10, 16, seed=11)
    for key in ("Flat", "HNSW16", "IVF8,PQ8x4fs,RFlat"):
        idx = VectorIndex.build(x, items_for(700), key=key)
        idx.set_search_params({"Flat": {}, "HNSW16": {"efSearch": 512}}.get(key, {"nprobe": 8, "k_factor_rf": 100}))
        np.testing.assert_array_equal(idx.search_raw(q, 3)[1], brute(q, x, 3)[1])
        idx.add(x[:5], items_for(5))  # and more can be added after
        assert idx.meta.ntotal == 705
