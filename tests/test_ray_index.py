"""Index build and mining on Ray equal the single-process path; sharded search under a
memory budget (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from tests._ray_cluster import ray_cluster, tatoeba_corpus  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]


def _same_hits(s, i, s_ref, i_ref) -> bool:
    """Same scores, and the same rows above each query's k-th score: FAISS orders exactly tied
    hits (identical vectors) arbitrarily, also across the k-th place."""
    if not np.allclose(s, s_ref, atol=1e-6):
        return False
    for a, ia, b, ib in zip(s, i, s_ref, i_ref):
        if set(ia[a > a[-1] + 1e-6].tolist()) != set(ib[b > b[-1] + 1e-6].tolist()):
            return False
    return True


@pytest.fixture(scope="module")
def tsv(tmp_path_factory):
    """'lang<TAB>text' rows: Tatoeba deu, fra and English, each text once."""
    from mbert_lab.studies.retrieval import tatoeba_files

    seen, rows = set(), []
    for lg in ("deu", "fra"):
        for f, code in zip(tatoeba_files(lg), (lg, "eng")):
            for t in f.read_text(encoding="utf-8").splitlines():
                if t.strip() and t not in seen:
                    seen.add(t)
                    rows.append(f"{code}\t{t}")
    assert len(rows) > 3000
    p = tmp_path_factory.mktemp("idx") / "rows.tsv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def built(_tiny_wordpiece_session, tsv, tmp_path_factory):
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.retrieval import IndexBuildConfig, build_index

    d = tmp_path_factory.mktemp("built")
    cfg = IndexBuildConfig(index=str(d / "plain"), input=str(tsv), layers=4, key="IVF16,Flat", hold_out=200,
                           target_recall=0.9, threads=1)
    plain = build_index(cfg, encoder=_tiny_wordpiece_session, store=Store(d / "s1"))
    on_ray = build_index(cfg.replace(index=str(d / "ray"), ray="local", ray_workers=2),
                         encoder=_tiny_wordpiece_session, store=Store(d / "s2"))
    return d, plain, on_ray


def test_index_build_on_ray_equals_single_process(built):
    from mbert_lab.index.faiss_index import VectorIndex

    d, plain, on_ray = built
    assert (on_ray.ntotal, on_ray.key) == (plain.ntotal, plain.key)
    timing = ("qps",)  # measured, not computed
    assert {k: v for k, v in on_ray.tuning.items() if k not in timing} == {
        k: v for k, v in plain.tuning.items() if k not in timing}
    a, b = VectorIndex.load(d / "plain"), VectorIndex.load(d / "ray")
    assert a.items == b.items
    assert b.meta.extra["ray"]["merged_parts"] >= 2  # merged from >= 2 parts built by Ray tasks
    assert "ray" not in a.meta.extra and not (d / "plain" / "parts").exists()
    q = a.reconstruct_range(0, a.meta.ntotal)[::7]
    sa, ia = a.search_raw(q, 10, prepared=True)
    sb, ib = b.search_raw(q, 10, prepared=True)
    assert np.array_equal(ia, ib) and np.array_equal(sa, sb)
    hits_a = a.search(q[:20], k=5, to=["eng"])
    hits_b = b.search(q[:20], k=5, to=["eng"])
    assert [[(h.sid, h.text) for h in hs] for hs in hits_a] == [[(h.sid, h.text) for h in hs] for hs in hits_b]


def test_sharded_search_within_a_small_memory_budget(built):
    from mbert_lab.distributed.index import ShardedIndex
    from mbert_lab.index.faiss_index import VectorIndex

    d, _, _ = built
    merged = VectorIndex.load(d / "ray")
    q = merged.reconstruct_range(0, merged.meta.ntotal)[::11]
    s_ref, i_ref = merged.search_raw(q, 10, prepared=True)
    small = ShardedIndex(d / "ray", memory_budget=1)  # forced: one part in memory at a time
    s, i = small.search(q, 10)
    n_parts = len(small.parts)
    assert n_parts >= 3  # the rows in two Ray parts, the held-out rows in more
    assert small.stats == {"max_parts_loaded": 1, "groups": n_parts}
    assert _same_hits(s, i, s_ref, i_ref)
    big = ShardedIndex(d / "ray", memory_budget="1G")
    s2, i2 = big.search(q, 10)
    assert big.stats == {"max_parts_loaded": n_parts, "groups": 1}
    assert _same_hits(s2, i2, s_ref, i_ref)
    assert sum(p["ntotal"] for p in small.parts) == merged.meta.ntotal
    s3, i3 = small.search(q, 10, on_ray=True)  # one Ray task per part, merged on the driver
    assert np.array_equal(i3, i) and np.array_equal(s3, s)


@pytest.fixture(scope="module")
def mining_files():
    from mbert_lab.studies.retrieval import tatoeba_files

    return tatoeba_files("deu")


def test_mining_on_ray_equals_single_process(_tiny_wordpiece_session, mining_files, tmp_path):
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.retrieval import MineConfig, mine

    src, tgt = mining_files
    cfg = MineConfig(src=str(src), tgt=str(tgt), layers=4, threads=1)
    plain = mine(cfg, encoder=_tiny_wordpiece_session, store=Store(tmp_path / "a"))
    on_ray = mine(cfg.replace(ray="local", ray_workers=2), encoder=_tiny_wordpiece_session, store=Store(tmp_path / "b"))
    assert plain.n_candidates > 300  # a non-trivial set of mutual candidates out of 1,000 sentences
    assert on_ray.pairs == plain.pairs  # same pairs, same scores, same order


@pytest.mark.parametrize("mode", ["max", "intersect"])
def test_distributed_knn_with_sharded_targets_matches(mode):
    from mbert_lab.analyses import retrieval as R
    from mbert_lab.distributed.mining import knn_on_ray, mine_on_ray

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 32)).astype(np.float32)
    y = (x[rng.permutation(3000)] + rng.normal(scale=0.5, size=(3000, 32))).astype(np.float32)
    ref = R.mine(x, y, k=4, mode=mode)
    for budget in (None, 32 * 4 * 700):  # whole targets; or shards of 700 rows
        got = mine_on_ray(x, y, k=4, mode=mode, tasks=2, memory_budget=budget)
        assert np.array_equal(got.src, ref.src) and np.array_equal(got.tgt, ref.tgt)
        assert np.allclose(got.score, ref.score, atol=1e-6)
    xn, yn = R.normalize(x), R.normalize(y)
    s, i = knn_on_ray(xn, yn, 5, tasks=3)
    s0, i0 = R.knn(xn, yn, 5, normalized=True)
    assert np.array_equal(i, i0) and np.array_equal(s, s0)  # bit-identical without target shards


def _refuse_gathering(monkeypatch):
    """The driver never asks an encoded corpus for its whole sentence matrix."""
    from mbert_lab.encode.store import EncodedCorpus

    def refuse(*a, **k):
        raise AssertionError("the driver gathered the vectors")

    monkeypatch.setattr(EncodedCorpus, "sentence", refuse)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_index_build_from_records_on_ray_equals_one_process(_tiny_wordpiece_session, tsv, tmp_path, monkeypatch,
                                                           suffix):
    """Parquet / JSON Lines input (lang, id, text columns) with and without ray; on Ray the
    tasks read their rows from the store (no vector matrix on the driver); centred."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mbert_lab.encode.store import Store
    from mbert_lab.index.faiss_index import VectorIndex
    from mbert_lab.studies.retrieval import IndexBuildConfig, build_index

    rows = [ln.split("\t") for ln in tsv.read_text(encoding="utf-8").splitlines()][:1500]
    cols = {"language": [r[0] for r in rows], "key": [f"r{i}" for i in range(len(rows))], "text": [r[1] for r in rows]}
    f = tmp_path / f"rows{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.table(cols), str(f))
    else:
        import json

        f.write_text("".join(json.dumps({c: v[i] for c, v in cols.items()}) + "\n" for i in range(len(rows))),
                     encoding="utf-8")
    cfg = IndexBuildConfig(index=str(tmp_path / "plain"), input=str(f), layers=4, key="IVF8,Flat", hold_out=100,
                           target_recall=0.9, threads=1, transform="center", id_column="key", lang_column="language")
    plain = build_index(cfg, encoder=_tiny_wordpiece_session, store=Store(tmp_path / "s1"))
    _refuse_gathering(monkeypatch)
    on_ray = build_index(cfg.replace(index=str(tmp_path / "ray"), ray="local", ray_workers=2),
                         encoder=_tiny_wordpiece_session, store=Store(tmp_path / "s2"))
    assert (on_ray.ntotal, on_ray.key, on_ray.tuning["value"]) == (plain.ntotal, plain.key, plain.tuning["value"]) \
        == (1500, "IVF8,Flat", plain.tuning["value"])
    a, b = VectorIndex.load(tmp_path / "plain"), VectorIndex.load(tmp_path / "ray")
    assert a.items == b.items and a.items[0].sid == "r0" and a.items[0].lang == "deu"
    assert a.means.keys() == b.means.keys() == {"deu", "eng"}
    assert all(np.array_equal(a.means[k], b.means[k]) for k in a.means)  # the same float32 means, bit for bit
    assert b.meta.extra["ray"]["merged_parts"] >= 2
    q = a.reconstruct_range(0, a.meta.ntotal)[::5]
    sa, ia = a.search_raw(q, 10, prepared=True)
    sb, ib = b.search_raw(q, 10, prepared=True)
    assert np.array_equal(ia, ib) and np.array_equal(sa, sb)


def test_cli_index_build_record_columns_are_checked_up_front(tsv, tmp_path, capsys):
    from mbert_lab.cli import main
    from mbert_lab.data.readers.records import write_records
    from mbert_lab.errors import ConfigError
    from mbert_lab.studies.retrieval import IndexBuildConfig

    f = write_records(tmp_path / "r.jsonl", ["a", "b"], ["Hallo.", "Hello."])
    with pytest.raises(ConfigError, match="lang_column: only for a Parquet / JSON Lines input"):
        IndexBuildConfig(index=str(tmp_path / "i"), input=str(tsv), lang_column="lg")
    for extra in ([], ["--ray"]):
        argv = ["index", "build", "--input", str(f), "--out", str(tmp_path / "i")] + extra
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "r.jsonl: no lang column 'lang' (columns: id, text); name it with --lang-column" in err[0]


def test_mining_on_ray_reads_the_store_in_tasks(_tiny_wordpiece_session, mining_files, tmp_path, monkeypatch):
    """Centred exact mining: the k-NN tasks read (and centre) the vectors; the driver gets
    k neighbours per query; the pairs and scores are the one-process ones, bit for bit."""
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.retrieval import MineConfig, mine

    src, tgt = mining_files
    cfg = MineConfig(src=str(src), tgt=str(tgt), layers=3, threads=1, transform="center", mode="intersect")
    plain = mine(cfg, encoder=_tiny_wordpiece_session, store=Store(tmp_path / "a"))
    _refuse_gathering(monkeypatch)
    on_ray = mine(cfg.replace(ray="local", ray_workers=2), encoder=_tiny_wordpiece_session, store=Store(tmp_path / "b"))
    assert plain.n_candidates > 300
    assert on_ray.pairs == plain.pairs
