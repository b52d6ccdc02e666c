"""The centroids study (library API) with the tiny random BERT: inputs, splits, values, errors."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mbert_lab.errors import ConfigError, InputError
from mbert_lab.studies.centroids import CentroidsConfig, CentroidsResult, centroids, make_split
from tests.conftest import TOY_CORPUS

LANGS = (("deu", 1), ("fra", 2), ("rus", 4))


def sentences(line: str, n: int, seed: int) -> list[str]:
    words = line.rstrip(".。!").split()
    if len(words) == 1:  # CJK: characters as "words"
        words = list(line)
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(3, 8))) for _ in range(n)]


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def pair_files(tmp_path):
    pairs = {}
    for i, (code, j) in enumerate(LANGS):
        pairs[code] = [write(tmp_path / f"{code}.txt", sentences(TOY_CORPUS[j], 40, i)),
                       write(tmp_path / f"{code}.eng", sentences(TOY_CORPUS[0], 40, 10 + i))]
    pairs["cmn"] = [write(tmp_path / "cmn.txt", sentences(TOY_CORPUS[5], 5, 9)),
                    write(tmp_path / "cmn.eng", sentences(TOY_CORPUS[0], 5, 19))]
    return pairs


def small(**kw):
    base = dict(min_sentences=20, geometry=False, probe_max_iter=50, cache=False, layers="0,2,4")
    return CentroidsConfig(**{**base, **kw})


def test_pairs_values_split_best_layers_and_round_trip(tmp_path, tiny_encoder, pair_files):
    r = centroids(small(pairs=pair_files), encoder=tiny_encoder)
    assert r.languages == ("deu", "fra", "rus") and r.layers == (0, 2, 4)
    assert r.excluded == {"cmn": "5 sentences, fewer than min_sentences 20"}
    assert r.split.n_train == {"deu": 20, "fra": 20, "rus": 20} and r.split.n_test == r.split.n_train
    assert r.split.n_dev == {"deu": 4, "fra": 4, "rus": 4}
    for key, m in r.lid.items():
        for la, s in m.by_layer.items():
            conf = np.array(s.confusion)
            assert conf.sum() == 60 and s.n_test == 60 and s.n_train == 60
            assert s.accuracy == pytest.approx(np.trace(conf) / conf.sum())
            assert s.per_language["deu"] == pytest.approx(conf[0, 0] / conf[0].sum())
        dev = {la: s.dev_accuracy for la, s in m.by_layer.items()}
        best = max(dev, key=lambda la: (dev[la], -la))
        assert (m.best.layer, m.best.chosen_on, m.best.reported_on) == (best, "dev", "test")
        assert m.best.test_score == m.by_layer[best].accuracy and m.best.dev_score == dev[best]
    rt = r.retrieval
    assert rt.languages == ("deu", "fra", "rus")
    assert set(rt.mean) == {"raw", "centered", "projected", "all_raw", "all_centered_in_sample"}
    assert set(rt.best) == {"raw", "centered"}
    for cond in ("raw", "centered"):
        assert rt.mean[cond].xx_to_eng[4] == pytest.approx(np.mean([rt.per_language[k][cond].xx_to_eng[4] for k in rt.languages]))
    # the transform's centroid is the train-split mean of the sentence vectors
    from mbert_lab.analyses.centroids import split_indices
    from mbert_lab.encode.extractor import ExtractConfig, Extractor

    v = Extractor(tiny_encoder, ExtractConfig(layers=(2,)), progress=False).encode(
        open(pair_files["deu"][0], encoding="utf-8").read().splitlines()).sentence(2)
    tr = split_indices({"deu": 40}, 0.5, 4, 0).train["deu"]
    assert set(r.transform.centroids) == {"deu", "fra", "rus", "eng"}
    np.testing.assert_allclose(r.transform.centroids["deu"][1], v[tr].mean(0), rtol=1e-4, atol=1e-5)
    g = r.centroid_geometry[4]
    assert g.labels == r.languages and np.allclose(np.diag(g.cosine_distance), 0)
    assert g.agreement["family"].n_groups == 1  # all three are Indo-European
    path = r.save(tmp_path / "out")
    assert (tmp_path / "out" / "transform.npz").exists()
    back = CentroidsResult.load(path)
    assert back == r and back.provenance.datasets[0].name == "user-files"


def test_dev_rows_are_inside_train_and_disjoint_from_test():
    cfg = small(texts={"deu": ["a"] * 50, "fra": ["b"] * 50})
    s = make_split({"deu": 50, "fra": 7}, cfg)
    for k in s.train:
        assert set(s.dev[k]) <= set(s.train[k]) and not set(s.dev[k]) & set(s.fit[k])
        assert set(s.dev[k]) | set(s.fit[k]) == set(s.train[k]) and not set(s.train[k]) & set(s.test[k])
    assert len(s.dev["deu"]) == 5 and len(s.train["deu"]) == 25
    assert make_split({"deu": 50}, cfg.replace(seed=1)).dev["deu"].tolist() != s.dev["deu"].tolist()


def test_every_input_format_gives_the_same_result(tmp_path, tiny_encoder):
    data = {code: sentences(TOY_CORPUS[j], 30, i) for i, (code, j) in enumerate(LANGS)}
    files = {code: write(tmp_path / f"{code}.txt", lines) for code, lines in data.items()}
    tsv = write(tmp_path / "all.tsv", [f"{c[:2]}\t{s}" for c, lines in data.items() for s in lines])
    conllu = {}
    for code, lines in data.items():
        blocks = ["\n".join(f"{j}\t{w}\t_\tX\t_\t_\t0\tx\t_\t_" for j, w in enumerate(s.split(), 1)) for s in lines]
        (tmp_path / f"{code}.conllu").write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
        conllu[code] = str(tmp_path / f"{code}.conllu")
    runs = [small(files=files), small(tsv=[tsv]), small(conllu=[f"{k}={v}" for k, v in conllu.items()]),
            small(texts=data)]
    results = [centroids(c, encoder=tiny_encoder) for c in runs]
    for r in results:
        assert r.languages == ("deu", "fra", "rus") and r.retrieval is None
        for la in (0, 4):
            assert r.lid["probe"].by_layer[la] == results[0].lid["probe"].by_layer[la]
            np.testing.assert_allclose(r.transform.centroids["rus"], results[0].transform.centroids["rus"], rtol=1e-5)


def test_max_length_and_max_sentences_take_effect(tmp_path, tiny_encoder):
    long = {c: [" ".join([s] * 4) for s in sentences(TOY_CORPUS[j], 24, i)] for i, (c, j) in enumerate(LANGS)}
    a = centroids(small(texts=long), encoder=tiny_encoder)
    b = centroids(small(texts=long, max_length=8), encoder=tiny_encoder)
    assert not np.allclose(a.transform.centroids["deu"], b.transform.centroids["deu"])
    assert b.provenance.config["max_length"] == 8
    c = centroids(small(texts=long, max_sentences=21, min_sentences=20), encoder=tiny_encoder)
    assert {k: c.split.n_train[k] + c.split.n_test[k] for k in c.languages} == {"deu": 21, "fra": 21, "rus": 21}


def test_unknown_codes_from_user_files_and_language_filter(tmp_path, tiny_encoder):
    data = {"qaa": sentences(TOY_CORPUS[1], 24, 0), "de": sentences(TOY_CORPUS[2], 24, 1),
            "fr": sentences(TOY_CORPUS[4], 24, 2)}
    import mbert_lab as ml

    r = ml.centroids(texts=data, languages="qaa,deu,es", min_sentences=20, geometry=False, cache=False,
                     layers=[4], probe_max_iter=20, encoder=tiny_encoder)
    assert isinstance(r, CentroidsResult) and r.layers == (4,)
    assert r.languages == ("qaa", "deu")
    assert r.info["qaa"].family == "unknown" and r.info["deu"].name == "German"
    assert r.excluded == {"spa": "requested but no input file for it"}


BAD = [
    (dict(min_sentences=0), ConfigError, "min_sentences: must be a whole number >= 4, got 0"),
    (dict(max_sentences=3, min_sentences=4), ConfigError, "max_sentences: must be a whole number >= 4, got 3"),
    (dict(train_fraction=1.0), ConfigError, "train_fraction: must be in"),
    (dict(dev_fraction=0), ConfigError, "dev_fraction: must be in"),
    (dict(metric="cosin"), ConfigError, "did you mean 'cosine'"),
    (dict(linkage="ward"), ConfigError, "'ward' needs metric 'euclidean'"),
    (dict(projection="pca"), ConfigError, "projection: unknown value 'pca'"),
    (dict(probe_c=0), ConfigError, "probe_c: must be in"),
    (dict(pud_sentences=-3, geometry=True), ConfigError, "pud_sentences: must be a whole number >= 2, got -3"),
    (dict(max_length=0), ConfigError, "max_length: must be a whole number >= 8, got 0"),
    (dict(threads=0), ConfigError, "threads: must be a whole number"),
    (dict(languages="deux"), ConfigError, "bad language code 'deux'"),
    (dict(languages="zz"), ConfigError, "unknown language 'zz': not in the language table and no files for it"),
    (dict(files=["de"]), ConfigError, "files: expected 'LANG=PATH'"),
    (dict(tatoeba="/nonexistent/t"), InputError, "tatoeba: no such folder"),
    (dict(geometry=True, pud="/nonexistent/p"), InputError, "pud: no such folder"),
    (dict(geometry=False, pud="/tmp"), ConfigError, "geometry is off"),
    (dict(texts={"de": ["a"]}, texts_eng={"de": ["a", "b"]}), ConfigError, "texts_eng[deu]: 2 sentences"),
    (dict(texts={"de": ["a", ""]}), ConfigError, r"texts[deu][2]: empty text"),
]


@pytest.mark.parametrize("kw, exc, msg", BAD)
def test_config_rejects_bad_values(kw, exc, msg):
    with pytest.raises(exc, match=__import__("re").escape(msg)):
        CentroidsConfig(**{"geometry": False, **kw})


def test_bad_files(tmp_path, tiny_encoder):
    a = write(tmp_path / "a.txt", sentences(TOY_CORPUS[1], 30, 0))
    b = write(tmp_path / "b.txt", sentences(TOY_CORPUS[2], 30, 1))
    short = write(tmp_path / "b.eng", sentences(TOY_CORPUS[0], 29, 2))
    with pytest.raises(ConfigError, match="language 'deu' is also given in files"):
        small(files={"deu": a}, pairs={"de": [b, short]})
    with pytest.raises(InputError, match=r"line counts differ"):
        centroids(small(files={"deu": a}, pairs={"fra": [b, short]}), encoder=tiny_encoder)
    gap = write(tmp_path / "gap.txt", ["one", "", "three"])
    with pytest.raises(InputError, match=r"gap.txt:2: blank line"):
        centroids(small(files={"deu": a, "fra": gap}), encoder=tiny_encoder)
    with pytest.raises(InputError, match="at least 2 languages are needed, 0 remain .*fewer than min_sentences 31"):
        centroids(small(files={"deu": a, "fra": b}, min_sentences=31), encoder=tiny_encoder)
    with pytest.raises(InputError, match="at least 2 languages are needed, 1 remain"):
        centroids(small(files={"deu": a, "fra": b}, languages="de"), encoder=tiny_encoder)
    with pytest.raises(InputError, match="files\\[deu\\]: is a folder"):
        small(files={"deu": str(tmp_path)})


def fake_pud(folder):
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


def test_pud_geometry(tmp_path, tiny_encoder):
    texts = {c: sentences(TOY_CORPUS[j], 24, i) for i, (c, j) in enumerate(LANGS)}
    pud = fake_pud(tmp_path / "pud")
    r = centroids(small(texts=texts, geometry=True, pud=str(pud), pud_sentences=5), encoder=tiny_encoder)
    geo = r.word_geometry
    assert geo.languages == ("de", "fr") and geo.n_sentences == 5
    assert [d.name for d in r.provenance.datasets] == ["user-files", "ud-pud"]
    for code in ("de", "fr"):
        g = geo.per_language[code]["raw"][4]
        assert g.n_sentences == 5 and g.self_similarity_types > 0
        assert g.adjusted_intra_sentence == pytest.approx(g.intra_sentence - g.anisotropy)
    raw, cen = geo.mean["raw"]["anisotropy"][4], geo.mean["centered"]["anisotropy"][4]
    assert cen < raw and raw == pytest.approx(np.mean([geo.per_language[k]["raw"][4].anisotropy for k in ("de", "fr")]))
    with pytest.raises(InputError, match="need 30"):
        centroids(small(texts=texts, geometry=True, pud=str(pud), pud_sentences=15), encoder=tiny_encoder)


def test_plots_from_the_typed_result(tmp_path, tiny_encoder, pair_files):
    from mbert_lab.plots.centroids import plot_all

    r = centroids(small(pairs=pair_files), encoder=tiny_encoder)
    paths = plot_all(r, tmp_path, [4, 9])
    assert set(paths) == {"dendrogram_L4", "projection_L4", "lid_by_layer", "retrieval_by_layer"}
    assert all(p.stat().st_size > 1000 and p.with_suffix(".svg").exists() for p in paths.values())


def test_demo_section_calls_the_study(tmp_path, tiny_encoder):
    from types import SimpleNamespace

    from mbert_lab.demo.centroids import section

    parallel = {code[:2]: list(zip(sentences(TOY_CORPUS[0], 30, i), sentences(TOY_CORPUS[j], 30, 20 + i)))
                for i, (code, j) in enumerate(LANGS)}
    ctx = SimpleNamespace(encoder=tiny_encoder, out=tmp_path, parallel=parallel, store=None)
    summary = section(ctx)
    r = CentroidsResult.load(tmp_path / "centroids")
    nc = r.lid["nearest_centroid"]
    assert summary.startswith(f"centroids: 3 languages; nearest-centroid LID best at layer {nc.best.layer} "
                              f"(chosen on dev; test {nc.best.test_score:.3f})")
    assert r.languages == ("deu", "fra", "rus") and r.split.n_test == {"deu": 15, "fra": 15, "rus": 15}
    assert (tmp_path / "centroids" / "dendrogram_L4.png").exists()
