"""Retrieval on the offline model and the data mirror, on small subsets, through the studies
(full-size figures come from ``mbert-lab index eval ...``). Expected values were measured
with the offline model; ranges follow docs/BASELINES.md."""

from __future__ import annotations

import numpy as np
import pytest

from mbert_lab.analyses import retrieval as R

pytestmark = pytest.mark.integration

SUBSET_P1 = 48.0  # measured with the offline model (150 sources, <= 450 targets)
STUDY_P1 = 50.0  # the same sources against only their own gold targets


def _encode(enc, texts, layers=(12,), outputs=("sentence",), pretokenized=None):
    from mbert_lab.encode.extractor import ExtractConfig, Extractor

    ex = Extractor(enc, ExtractConfig(layers=tuple(layers), outputs=tuple(outputs)), store=None, progress=False)
    return ex.encode(texts, pretokenized=pretokenized)


def test_tatoeba_deu_subset_and_mining_f1(offline_encoder, data_root, tmp_path) -> None:
    from mbert_lab.data.datasets import load_tatoeba
    from mbert_lab.studies.retrieval import BuccConfig, bucc

    pairs = load_tatoeba("deu").pairs[:60]
    x = _encode(offline_encoder, [p.src for p in pairs]).sentence(12)
    y = _encode(offline_encoder, [p.tgt for p in pairs]).sentence(12)
    sc = R.tatoeba_accuracy(x, y)
    assert sc.src_to_tgt >= 0.9 and sc.tgt_to_src >= 0.9  # full set: 0.985 xx->eng at layer 12
    assert sc.xsim_src_to_tgt <= 0.1
    # the same sentences as a BUCC task: German ids d<i>, English shuffled, 10 German distractors
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(pairs))
    extra = load_tatoeba("deu").pairs[100:110]
    (tmp_path / "de.tsv").write_text("".join(f"d{i}\t{p.src}\n" for i, p in enumerate(list(pairs) + list(extra))), "utf-8")
    (tmp_path / "en.tsv").write_text("".join(f"e{j}\t{pairs[i].tgt}\n" for j, i in enumerate(perm)), "utf-8")
    (tmp_path / "gold.tsv").write_text("".join(f"d{i}\te{j}\n" for j, i in enumerate(perm)), "utf-8")
    r = bucc(BuccConfig(src=str(tmp_path / "de.tsv"), tgt=str(tmp_path / "en.tsv"), gold=str(tmp_path / "gold.tsv"),
                        mode="forward", cache=False), encoder=offline_encoder)
    ev = r.evaluation
    assert r.n_gold == 60 and ev.threshold_chosen_on == "dev" and ev.split.n_dev + ev.split.n_test == 70
    assert ev.test.f1 >= 0.9 and ev.oracle_all_data.f1 >= ev.test.f1 - 0.1


def test_bli_de_en_subset(offline_encoder, data_root, tmp_path) -> None:
    from mbert_lab.data.datasets import load_muse
    from mbert_lab.data.readers.muse import translations
    from mbert_lab.studies.retrieval import BliConfig, bli

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
    # a small vocabulary (<= 450 words) makes this easier than the full 5000-6500 split (47.2 n+v+a+o);
    assert s.n_sources == 150 and s.precision["p@1"] == pytest.approx(SUBSET_P1, abs=1.5)
    assert s.precision["p@10"] >= s.precision["p@5"] >= s.precision["p@1"]
    # the same words through the study, as a user dictionary (the 300 extra targets as self-pairs
    # of words not among the sources would change the gold, so only the sources' own lines)
    d = tmp_path / "dict.tsv"
    d.write_text("".join(f"{w}\t{t}\n" for w in src for t in sorted(gold[w])), encoding="utf-8")
    r = bli(BliConfig(dictionary=str(d), layers=12, methods="cosine", cache=False), encoder=offline_encoder)
    got = r.results[12]["cosine"].all_categories
    assert got.n == 150 and r.n_targets == len({t for w in src for t in gold[w]})
    assert got.p_at_1 == pytest.approx(STUDY_P1, abs=1.5) and got.p_at_1 >= s.precision["p@1"]  # fewer targets
