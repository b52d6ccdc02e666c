"""Extraction on Ray writes the same verified vector store as one process (issue 17)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests._ray_cluster import ray_cluster, tatoeba_corpus  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]

LAYERS = (2, 4)
POOLS = ("mean", "cls", "mean_all")


@pytest.fixture(scope="module")
def corpus():
    texts = tatoeba_corpus(("deu", "fra"))
    assert len(texts) > 3000
    return texts


@pytest.fixture(scope="module")
def reference(_tiny_wordpiece_session, corpus, tmp_path_factory):
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.encode.store import Store

    root = tmp_path_factory.mktemp("single")
    ex = Extractor(_tiny_wordpiece_session, ExtractConfig(layers=LAYERS), store=Store(root), progress=False)
    return root, ex.encode(corpus)


def _entries(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "writer.json"}


def _ray_extractor(enc, root, **kw):
    from mbert_lab.distributed.extract import RayExtractor
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.encode.store import Store

    return RayExtractor(Extractor(enc, ExtractConfig(layers=LAYERS), store=Store(root), progress=False), **kw)


def _assert_same(got, ref):
    assert len(got) == len(ref) and len(got.shards) == len(ref.shards)
    for layer in LAYERS:
        for pooling in POOLS:
            diff = np.abs(got.sentence(layer, pooling) - ref.sentence(layer, pooling)).max()
            assert diff <= 1e-5, (layer, pooling, diff)


def _verify_all(root: Path, corpus_obj) -> None:
    """Every entry of every shard is there and passes its sha256 check."""
    from mbert_lab.encode.extractor import ExtractConfig
    from mbert_lab.encode.store import Store

    names = ExtractConfig(layers=LAYERS).entry_names()
    wanted = [(n, la) for la in LAYERS for n in names]
    store = Store(root, verify=True)
    dirs = [p for p in root.glob("*/*") if p.is_dir()]
    assert len(dirs) == len(corpus_obj.shards)
    for d in dirs:
        got = store.get(d.parent.name, d.name, wanted)  # the dir names are key prefixes
        assert len(got) == len(wanted), d
    assert store.stats["corrupt"] == 0


def test_ray_extraction_equals_single_process(_tiny_wordpiece_session, corpus, reference, tmp_path):
    from mbert_lab.distributed.extract import writers_in_store

    ref_root, ref = reference
    with _ray_extractor(_tiny_wordpiece_session, tmp_path, workers=2) as rex:
        got = rex.encode(corpus)
        stats = dict(rex.stats)
    _assert_same(got, ref)
    assert stats["shards"] == len(ref.shards) >= 4
    assert stats["dispatched"] == stats["computed_by_workers"] == len(ref.shards)
    assert stats["driver_recomputed"] == 0  # the driver only read (and verified) the workers' shards
    writers = writers_in_store(tmp_path)
    pids = {w["pid"] for w in writers.values()}
    assert len(writers) == len(ref.shards) and len(pids) >= 2 and os.getpid() not in pids
    assert _entries(tmp_path) == _entries(ref_root)  # the same store layout, file for file
    _verify_all(tmp_path, got)
    # a re-run skips every finished shard: no work is sent out, nothing is computed
    with _ray_extractor(_tiny_wordpiece_session, tmp_path, workers=2) as rex:
        again = rex.encode(corpus)
        assert rex.stats["dispatched"] == rex.stats["computed_by_workers"] == rex.stats["driver_recomputed"] == 0
    _assert_same(again, ref)


def test_worker_killed_mid_shard_still_ends_complete(_tiny_wordpiece_session, corpus, reference, tmp_path):
    from mbert_lab.distributed.extract import writers_in_store

    _, ref = reference
    pid_file = tmp_path / "paused.pid"
    root = tmp_path / "store"
    killed: list[int] = []

    def killer():
        deadline = time.time() + 120
        while not pid_file.exists() and time.time() < deadline:
            time.sleep(0.05)
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)  # kill -9 of the worker, between two entries of its shard
        killed.append(pid)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    with _ray_extractor(_tiny_wordpiece_session, root, workers=2,
                        pause={"shard": 1, "pid_file": str(pid_file), "seconds": 120}) as rex:
        got = rex.encode(corpus)
        stats = dict(rex.stats)
    th.join(5)
    assert killed, "the worker was not killed"
    _assert_same(got, ref)
    _verify_all(root, got)
    assert stats["driver_recomputed"] == 0  # the restarted worker redid the shard
    writers = writers_in_store(root)
    assert len(writers) == len(ref.shards)
    assert killed[0] not in {w["pid"] for w in writers.values() if w["shard"] == 1}


def test_study_api_with_and_without_cache(tiny_encoder, corpus, tmp_path):
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.representations import RepresentationsConfig, extract

    f = tmp_path / "s.txt"
    f.write_text("\n".join(corpus[:1200]) + "\n", encoding="utf-8")
    base = RepresentationsConfig(file=str(f), layers=[4])
    plain = extract(base, encoder=tiny_encoder, store=Store(tmp_path / "a"))
    on_ray = extract(base.replace(ray="local", ray_workers=2), encoder=tiny_encoder, store=Store(tmp_path / "b"))
    no_cache = extract(base.replace(ray="local", ray_workers=2, cache=False), encoder=tiny_encoder)
    for r in (on_ray, no_cache):
        assert r.tokens == plain.tokens
        for k, v in plain.arrays().items():
            assert np.abs(r.arrays()[k] - v).max() <= 1e-5, k
    assert on_ray.provenance.config["ray"] == "local"


@pytest.mark.integration
def test_cli_extract_offline_model_on_ray_equals_plain(corpus, tmp_path):
    """The offline model, through the CLI: ``--ray`` gives the vectors of a plain run."""
    from mbert_lab.cli import main

    f = tmp_path / "s.txt"
    f.write_text("\n".join(corpus[:700]) + "\n", encoding="utf-8")
    common = ["extract", "--file", str(f), "--layers", "8", "--threads", "1", "--no-cache"]
    assert main(common + ["--out", str(tmp_path / "plain.npz")]) == 0
    assert main(common + ["--ray", "--ray-workers", "2", "--out", str(tmp_path / "ray.npz")]) == 0
    a, b = np.load(tmp_path / "plain.npz"), np.load(tmp_path / "ray.npz")
    assert sorted(a.files) == sorted(b.files)
    for k in a.files:
        assert np.abs(a[k] - b[k]).max() <= 1e-5, k
