"""The centroids command on the offline model and a small Tatoeba subset (real data)."""

from __future__ import annotations

import json

import pytest

from mbert_lab.cli import centroids_cmd as cmd

pytestmark = pytest.mark.integration

LANGS = ("deu", "rus", "cmn", "ara")
N = 80


def test_offline_model_on_tatoeba_subset(tmp_path, data_root, offline_encoder):
    folder = data_root / "tatoeba" / "v1"
    sources = []
    for code in LANGS:
        xx = (folder / f"tatoeba.{code}-eng.{code}").read_text(encoding="utf-8").splitlines()[:N]
        en = (folder / f"tatoeba.{code}-eng.eng").read_text(encoding="utf-8").splitlines()[:N]
        (tmp_path / f"{code}.txt").write_text("\n".join(xx) + "\n", encoding="utf-8")
        (tmp_path / f"{code}.eng").write_text("\n".join(en) + "\n", encoding="utf-8")
        sources.append(cmd.Source(code, tmp_path / f"{code}.txt", tmp_path / f"{code}.eng"))
    res = cmd.run_centroids(
        offline_encoder, sources, tmp_path / "out", layers=[0, 8, 12], min_sentences=N,
        plot_layers=(12,), progress=False, probe_max_iter=100,
    )
    p = json.loads((tmp_path / "out" / "centroids.json").read_text())["payload"]
    assert sorted(p["languages"]) == sorted(LANGS) and p["split"]["n_test"] == {k: N // 2 for k in LANGS}
    # four languages in four scripts: identification is easy at every layer
    assert min(p["lid_accuracy_by_layer"]["nearest_centroid"]) > 0.9
    # BASELINES.md: xx->eng at layer 12 is 0.92-0.99 for these languages on 1000 candidates
    assert p["retrieval"]["mean"]["raw"]["xx_to_eng"][2] > 0.8
    assert p["retrieval"]["mean"]["all_raw"]["xx_to_eng"][2] > p["retrieval"]["mean"]["all_raw"]["xx_to_eng"][0]
    assert set(res["plots"]) >= {"dendrogram_L12", "projection_L12", "lid_by_layer", "retrieval_by_layer"}
