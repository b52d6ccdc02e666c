"""Mining with IVF k-NN on Ray (``knn='ivf'``, ``ray``) equals the one-process IVF path:
queries of both directions in Ray tasks against the whole index, or against its parts
within a small memory budget (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from tests._ray_cluster import ray_cluster  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]


def _same(a, b) -> None:
    assert np.array_equal(a.src, b.src) and np.array_equal(a.tgt, b.tgt) and np.array_equal(a.score, b.score)


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 32)).astype(np.float32)
    y = x[::-1] + 0.8 * rng.normal(size=(3000, 32)).astype(np.float32)
    return x, y


@pytest.mark.parametrize("budget", [None, 20_000])
def test_ivf_mining_on_ray_equals_one_process(xy, budget) -> None:
    from mbert_lab.distributed.mining import mine_ann_on_ray
    from mbert_lab.index.ann_mining import mine_ann

    x, y = xy
    one, s1 = mine_ann(x, y, k=4, target_recall=0.9, threads=1)
    ray_, s2 = mine_ann_on_ray(x, y, k=4, target_recall=0.9, tasks=2, memory_budget=budget, threads=1)
    assert [(s.key, s.nprobe, s.nlist) for s in s1] == [(s.key, s.nprobe, s.nlist) for s in s2]
    assert s1[0].nprobe < s1[0].nlist  # an approximate search, not a scan of every list
    _same(one, ray_)


def test_sharded_budget_is_used(xy, monkeypatch) -> None:
    """With a budget below the index size the tasks search the saved parts (ShardedIndex)."""
    import mbert_lab.distributed.index as D
    from mbert_lab.analyses.retrieval import normalize
    from mbert_lab.distributed.mining import ann_neighbours_on_ray

    x, y = xy
    calls = []
    real = D.save_parts
    monkeypatch.setattr(D, "save_parts", lambda idx, p: calls.append(len(idx.parts)) or real(idx, p))
    xn = normalize(x)
    s, i, _ = ann_neighbours_on_ray(xn, y, 4, nprobe=4, tasks=2, memory_budget=20_000)
    assert calls and calls[0] >= 2  # the index was built from >= 2 Ray parts and saved for the tasks
    s0, i0, _ = ann_neighbours_on_ray(xn, y, 4, nprobe=4, tasks=2, memory_budget=None)
    assert len(calls) == 1 and np.array_equal(s, s0) and np.array_equal(i, i0)


def test_mine_study_ivf_on_ray_equals_one_process(_tiny_wordpiece_session, tmp_path) -> None:
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.retrieval import MineConfig, mine
    from tests.test_ann_mining import tatoeba_mining_files

    src, tgt, gold = tatoeba_mining_files(tmp_path / "in", n=400)
    cfg = MineConfig(src=str(src), tgt=str(tgt), with_ids=True, gold=str(gold), layers=4, threads=1,
                     knn="ivf", knn_recall=0.9, transform="center")
    one = mine(cfg, encoder=_tiny_wordpiece_session, store=Store(tmp_path / "s1"))
    on_ray = mine(cfg.replace(ray="local", ray_workers=2, memory="16K"), encoder=_tiny_wordpiece_session,
                  store=Store(tmp_path / "s2"))
    assert one.knn_searches == on_ray.knn_searches
    assert [(p.src_id, p.tgt_id, p.score) for p in one.pairs] == [(p.src_id, p.tgt_id, p.score) for p in on_ray.pairs]
    assert one.evaluation == on_ray.evaluation
