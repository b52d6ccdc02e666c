"""Retrieval on the offline model and the data mirror, on small subsets (full-size figures
come from ``mbert-lab index eval ...``). Expected ranges follow docs/BASELINES.md."""

from __future__ import annotations

import numpy as np
import pytest

from mbert_lab.analyses import retrieval as R

pytestmark = pytest.mark.integration


def _encode(enc, texts, layers=(12,), outputs=("sentence",), pretokenized=None):
    from mbert_lab.encode.extractor import ExtractConfig, Extractor

    ex = Extractor(enc, ExtractConfig(layers=tuple(layers), outputs=tuple(outputs)), store=None, progress=False)
    return ex.encode(texts, pretokenized=pretokenized)


def test_tatoeba_deu_subset_and_mining_f1(offline_encoder, data_root) -> None:
    from mbert_lab.data.formats import load_tatoeba

    pairs = load_tatoeba("deu").pairs[:60]
    x = _encode(offline_encoder, [p.src for p in pairs]).sentence(12)
    y = _encode(offline_encoder, [p.tgt for p in pairs]).sentence(12)
    sc = R.tatoeba_accuracy(x, y)
    assert sc.src_to_tgt >= 0.9 and sc.tgt_to_src >= 0.9  # full set: 0.985 xx->eng at layer 12
    assert sc.xsim_src_to_tgt <= 0.1
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(y))
    mined = R.mine(x, y[perm], k=4, mode="max")
    gold = {(int(perm[j]), j) for j in range(len(perm))}
    assert R.score_pairs(mined, gold).f1 >= 0.9


def test_bli_de_en_subset(offline_encoder, data_root) -> None:
    from mbert_lab.data.formats import load_muse, translations

    entries = load_muse("de-en", "recommended")
    gold = translations(entries)
    src = sorted(gold)[:150]
    tgt = sorted({t for s in src for t in gold[s]} | {e.tgt for e in entries[:300]})
    sv = _encode(offline_encoder, [[w] for w in src], outputs=("word",), pretokenized=True)
    tv = _encode(offline_encoder, [[w] for w in tgt], outputs=("word",), pretokenized=True)
    s = R.bli_precision(
        np.stack([sv.words(i, 12)[0] for i in range(len(src))]),
        np.stack([tv.words(i, 12)[0] for i in range(len(tgt))]),
        src, tgt, gold,
    )
    # a small vocabulary (<= 450 words) makes this easier than the full 5000-6500 split (47.2 n+v+a+o)
    assert s.n_sources == 150 and 40.0 <= s.precision["p@1"] <= 100.0
    assert s.precision["p@10"] >= s.precision["p@5"] >= s.precision["p@1"]
