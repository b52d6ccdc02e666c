"""The centroids study on the offline model and a small Tatoeba subset (real data)."""

from __future__ import annotations

import pytest

from mbert_lab.config import load_study_file
from mbert_lab.studies import run_config
from mbert_lab.studies.centroids import CentroidsResult
from tests.conftest import REPO

pytestmark = pytest.mark.integration

LANGS = ("ara", "cmn", "deu", "rus")


def test_example_study_file_on_tatoeba(tmp_path, data_root, offline_encoder):
    [d] = load_study_file(REPO / "examples" / "centroids.toml")
    assert d.name == "centroids" and d.config.languages == ("deu", "rus", "cmn", "ara")
    r = run_config(d.config, encoder=offline_encoder)
    assert r.languages == LANGS and r.split.n_test == {k: 40 for k in LANGS}
    assert r.split.n_dev == {k: 8 for k in LANGS} and r.excluded == {}
    # four languages in four scripts: identification is easy at every layer
    assert min(r.lid_accuracy("nearest_centroid")) > 0.9 and min(r.lid_accuracy("probe")) > 0.9
    mean = r.retrieval.mean
    # BASELINES.md: xx->eng at layer 12 is 0.92-0.99 for these languages on 1000 candidates (40 here)
    assert mean["raw"].xx_to_eng[12] > 0.8
    assert mean["all_raw"].xx_to_eng[12] > mean["all_raw"].xx_to_eng[0] + 0.3
    for name, best in r.retrieval.best.items():
        dev = r.retrieval.dev_mean[name]
        scores = {la: (dev.xx_to_eng[la] + dev.eng_to_xx[la]) / 2 for la in r.layers}
        assert best.dev_score == max(scores.values()) and best.chosen_on == "dev"
    assert r.retrieval.best["raw"].layer in (8, 12)
    back = CentroidsResult.load(r.save(tmp_path))
    assert back.lid == r.lid and back.retrieval == r.retrieval
