"""``mbert-lab centroids`` wiring with the tiny model: batch invariance, outputs, bad input."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from mbert_lab.cli import centroids_cmd as cmd
from mbert_lab.errors import ConfigError, InputError
from tests.conftest import TOY_CORPUS

FAKE = {
    "deu": ("German", "Indo-European", "Germanic", "Latn"),
    "fra": ("French", "Indo-European", "Romance", "Latn"),
    "rus": ("Russian", "Indo-European", "Slavic", "Cyrl"),
    "cmn": ("Mandarin", "Sino-Tibetan", "Chinese", "Hani"),
}


@pytest.fixture
def fake_languages(monkeypatch):
    """A small code table, so these tests do not depend on the full language table."""

    def info(code):
        if code not in FAKE:
            raise ConfigError(f"unknown language code '{code}'")
        n, f, g, s = FAKE[code]
        return {"code": code, "name": n, "family": f, "genus": g, "script": s}

    monkeypatch.setattr(cmd, "language_info", info)


def _sentences(line: str, n: int, seed: int) -> list[str]:
    words = line.rstrip(".。!").split()
    if len(words) == 1:  # CJK: characters as "words"
        words = list(line)
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(3, 8))) for _ in range(n)]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sentence_vector_does_not_depend_on_batch_mates(tiny_encoder):
    """Mean pooling over real tokens only: a sentence's vector is the same alone and in a
    batch with longer and shorter sentences (padding never leaks in)."""
    from mbert_lab.encode.extractor import ExtractConfig, Extractor

    ex = Extractor(tiny_encoder, ExtractConfig(layers=(0, 2, 4), outputs=("sentence", "subword"), batch_size=8),
                   store=None, progress=False)
    target = "Hello world!"
    alone = ex.encode([target])
    mixed = ex.encode([TOY_CORPUS[0], TOY_CORPUS[10], target, "Hi", TOY_CORPUS[4]])
    for layer in (0, 2, 4):
        np.testing.assert_allclose(mixed.sentence(layer)[2], alone.sentence(layer)[0], rtol=1e-5, atol=1e-5)
    # and the pooled vector is the mean over the sentence's own content tokens
    np.testing.assert_allclose(mixed.sentence(4)[2], mixed.subwords(2, 4).mean(0), rtol=1e-5, atol=1e-6)


def test_run_on_files_writes_results_plots_and_reports_exclusions(tmp_path, tiny_encoder, fake_languages):
    src = []
    for i, (code, line) in enumerate((("deu", TOY_CORPUS[1]), ("fra", TOY_CORPUS[2]), ("rus", TOY_CORPUS[4]))):
        xx = _write(tmp_path / f"{code}.txt", _sentences(line, 40, i))
        en = _write(tmp_path / f"{code}.eng", _sentences(TOY_CORPUS[0], 40, 10 + i))
        src.append(cmd.Source(code, xx, en))
    src.append(cmd.Source("cmn", _write(tmp_path / "cmn.txt", _sentences(TOY_CORPUS[5], 5, 9))))
    out = tmp_path / "out"
    res = cmd.run_centroids(tiny_encoder, src, out, min_sentences=20, plot_layers=(4,), progress=False,
                            probe_max_iter=50, pud_dir=_fake_pud(tmp_path / "pud"), pud_sentences=5)
    rec = json.loads((out / "centroids.json").read_text())
    p = rec["payload"]
    assert p["languages"] == ["deu", "fra", "rus"]
    assert "cmn" in p["excluded"] and "fewer than --min-sentences 20" in p["excluded"]["cmn"]
    assert p["layers"] == [0, 1, 2, 3, 4]
    assert len(p["lid_accuracy_by_layer"]["probe"]) == 5
    assert p["split"]["n_train"] == {"deu": 20, "fra": 20, "rus": 20}
    assert set(p["retrieval"]["mean"]) >= {"raw", "centered", "projected"}
    for path in res["plots"].values():
        assert (out / path).exists() or __import__("os").path.exists(path)
    assert {"dendrogram_L4", "projection_L4", "lid_by_layer", "retrieval_by_layer", "geometry_by_layer"} <= set(res["plots"])
    assert p["word_geometry"]["languages"] == ["de", "fr"]
    assert [d["name"] for d in rec["provenance"]["datasets"]] == ["sentences", "ud-pud"]
    assert rec["provenance"]["model"]["model_id"].startswith("tiny-random-bert")
    assert len(rec["provenance"]["datasets"][0]["files"]) == 6
    from mbert_lab.analyses.centroids import LanguageTransform

    t = LanguageTransform.load(out / "transform")
    assert set(t.centroids) == {"deu", "fra", "rus", "eng"} and t.layers == (0, 1, 2, 3, 4)
    # the transform's centroid is the train-split mean of the stored vectors
    from mbert_lab.analyses.centroids import split_indices
    from mbert_lab.encode.extractor import ExtractConfig, Extractor

    v = Extractor(tiny_encoder, ExtractConfig(layers=(0, 1, 2, 3, 4)), progress=False).encode(
        (tmp_path / "deu.txt").read_text(encoding="utf-8").splitlines()).sentence(3)
    tr = split_indices({"deu": 40}, 0.5, 2, 0).train["deu"]
    np.testing.assert_allclose(t.centroids["deu"][3], v[tr].mean(0), rtol=1e-4, atol=1e-5)


def test_bad_inputs(tmp_path, tiny_encoder, fake_languages):
    a = _write(tmp_path / "a.txt", _sentences(TOY_CORPUS[1], 30, 0))
    b = _write(tmp_path / "b.txt", _sentences(TOY_CORPUS[2], 30, 1))
    short_en = _write(tmp_path / "b.eng", _sentences(TOY_CORPUS[0], 29, 2))
    with pytest.raises(InputError, match=r"line counts differ: .*b.txt has 30 lines, .*b.eng has 29 lines"):
        cmd.load_inputs([cmd.Source("deu", a), cmd.Source("fra", b, short_en)], 10)
    with pytest.raises(ConfigError, match="unknown language code 'xyz'"):
        cmd.load_inputs([cmd.Source("deu", a), cmd.Source("xyz", b)], 10)
    # scanned folders (Tatoeba) report unknown codes instead of failing
    got = cmd.load_inputs([cmd.Source("deu", a), cmd.Source("fra", b), cmd.Source("xyz", b)], 10, strict_codes=False)
    assert got.excluded == {"xyz": "unknown language code (not in mbert_lab.languages)"}
    with pytest.raises(InputError, match="at least 2 languages are needed, 1 remain"):
        cmd.load_inputs([cmd.Source("deu", a), cmd.Source("fra", b)], 10, languages=["deu"])
    with pytest.raises(InputError, match=r"at least 2 languages.*fewer than --min-sentences 31"):
        cmd.load_inputs([cmd.Source("deu", a), cmd.Source("fra", b)], 31)
    gap = _write(tmp_path / "gap.txt", ["one", "", "three"])
    with pytest.raises(InputError, match=r"gap.txt:2: empty line"):
        cmd.read_lines(gap)
    with pytest.raises(ConfigError, match="did you mean 'cosine'"):
        cmd.run_centroids(tiny_encoder, [cmd.Source("deu", a), cmd.Source("fra", b)], tmp_path / "o",
                          metric="cosin", min_sentences=10)


def _fake_pud(folder):
    folder.mkdir(exist_ok=True)
    rng = random.Random(0)
    for code, line in (("de", TOY_CORPUS[1]), ("fr", TOY_CORPUS[2])):
        words = line.rstrip(".").split()
        blocks = []
        for i in range(12):
            ws = rng.choices(words, k=rng.randint(3, 7)) + ["."]
            rows = [f"{j + 1}\t{w}\t_\t{'PUNCT' if w == '.' else 'X'}\t_\t_\t0\tx\t_\t_" for j, w in enumerate(ws)]
            blocks.append(f"# sent_id = s{i:02d}\n" + "\n".join(rows) + "\n")
        (folder / f"{code}_pud-ud-test.conllu").write_text("\n".join(blocks) + "\n", encoding="utf-8")
    return folder


def test_pud_geometry_with_tiny_model(tmp_path, tiny_encoder):
    _fake_pud(tmp_path)
    geo = cmd.pud_geometry(tiny_encoder, None, tmp_path, [0, 4], n_sentences=5)
    assert geo["languages"] == ["de", "fr"] and geo["layers"] == [0, 4]
    for code in ("de", "fr"):
        for kind in ("raw", "centered"):
            g = geo["per_language"][code][kind]["4"]
            assert g["n_sentences"] == 5
            assert -1 <= g["anisotropy"] <= 1 and -1 <= g["intra_sentence"] <= 1
            assert g["self_similarity_types"] > 0  # words repeat across these sentences
    # raw vectors of a random model share a large common component; centring shrinks it
    raw, cen = geo["mean"]["raw"]["anisotropy"][1], geo["mean"]["centered"]["anisotropy"][1]
    assert cen < raw
    with pytest.raises(InputError, match="need 30"):
        cmd.pud_geometry(tiny_encoder, None, tmp_path, [4], n_sentences=15)


def test_demo_section_with_tiny_model(tmp_path, tiny_encoder, fake_languages):
    from types import SimpleNamespace

    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.results import Provenance

    parallel = {
        code: list(zip(_sentences(TOY_CORPUS[0], 30, i), _sentences(TOY_CORPUS[j], 30, 20 + i)))
        for i, (code, j) in enumerate((("deu", 1), ("fra", 2), ("rus", 4)))
    }
    ctx = SimpleNamespace(
        encoder=tiny_encoder,
        out=tmp_path,
        parallel=parallel,
        extract=lambda texts, layers, outputs=("sentence",): Extractor(
            tiny_encoder, ExtractConfig(layers=tuple(layers), outputs=tuple(outputs)), progress=False
        ).encode(texts),
        provenance=lambda config, layers, pooling: Provenance.collect(config=config, layers=layers, pooling=pooling),
    )
    summary = cmd.demo_section(ctx)
    assert summary.startswith("centroids: 3 languages; nearest-centroid LID best at layer")
    rec = json.loads((tmp_path / "centroids" / "centroids.json").read_text())
    assert rec["kind"] == "demo.centroids" and rec["payload"]["languages"] == ["deu", "fra", "rus"]
    assert (tmp_path / "centroids" / "dendrogram_L4.png").exists()


def test_language_info_from_the_package_table():
    assert cmd.language_info("de") == {
        "code": "deu", "name": "German", "family": "Indo-European", "genus": "Germanic", "script": "Latn",
    }
    with pytest.raises(ConfigError, match="unknown language code 'deux'"):
        cmd.language_info("deux")
