"""Parquet / JSON Lines input as a Ray dataset equals the one-process reader; ``extract`` and
``index mine`` give the same result with and without ``ray`` on the same input (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from mbert_lab.data.readers.records import read_records, read_records_ray, write_records
from mbert_lab.errors import InputError
from tests._ray_cluster import ray_cluster, tatoeba_corpus  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("rec")
    texts = tatoeba_corpus(("deu",))[:600]
    ids = [f"s{i:04d}" for i in range(len(texts))]
    return d, ids, texts, write_records(d / "c.parquet", ids, texts), write_records(d / "c.jsonl", ids, texts)


def test_ray_dataset_reader_equals_one_process_reader(corpus) -> None:
    d, ids, texts, pq, jl = corpus
    for f in (pq, jl):
        assert read_records_ray(f) == read_records(f) == (ids, texts)
        with pytest.raises(InputError, match=rf"{f.name}: no text column 'sentence' \(columns: id, text\)"):
            read_records_ray(f, text_column="sentence")
    bad = d / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="row 2: id 'a' in column 'id' repeats row 1"):
        read_records_ray(bad)
    bad.write_text('{"id": "a", "text": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match="bad.jsonl: not JSON Lines"):
        read_records_ray(bad)


def test_extract_records_on_ray_equals_one_process(corpus, _tiny_wordpiece_session) -> None:
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.representations import RepresentationsConfig, extract

    d, ids, _, pq, jl = corpus
    cfg = RepresentationsConfig(file=str(pq), layers="4", threads=1)
    one = extract(cfg, encoder=_tiny_wordpiece_session, store=Store(d / "s1"))
    on_ray = extract(cfg.replace(file=str(jl), ray="local", ray_workers=2), encoder=_tiny_wordpiece_session,
                     store=Store(d / "s2"))
    assert one.ids == on_ray.ids == tuple(ids) and one.tokens == on_ray.tokens
    assert np.abs(one.corpus.sentence(4) - on_ray.corpus.sentence(4)).max() <= 1e-5


def test_mine_records_on_ray_equals_one_process(corpus, _tiny_wordpiece_session) -> None:
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.retrieval import MineConfig, mine

    d, ids, texts, pq, _ = corpus
    tgt = write_records(d / "t.jsonl", [f"t{i}" for i in range(300)], texts[300:][::-1], text_column="s")
    cfg = MineConfig(src=str(pq), tgt=str(tgt), text_column=None, layers=4, threads=1)
    with pytest.raises(InputError, match="t.jsonl: no text column 'text'"):
        mine(cfg, encoder=_tiny_wordpiece_session)
    tgt = write_records(d / "t.jsonl", [f"t{i}" for i in range(300)], texts[300:][::-1])
    one = mine(cfg, encoder=_tiny_wordpiece_session, store=Store(d / "m1"))
    on_ray = mine(cfg.replace(ray="local", ray_workers=2), encoder=_tiny_wordpiece_session, store=Store(d / "m2"))
    assert [(p.src_id, p.tgt_id) for p in one.pairs] == [(p.src_id, p.tgt_id) for p in on_ray.pairs]
    assert {p.src_id for p in one.pairs} <= set(ids) and len(one.pairs) > 100
