"""``mbert-lab centroids`` with the tiny model: same result as the library, the default Tatoeba
input, --max-length, --print-config, --help examples, bad input before any model work."""

from __future__ import annotations

import hashlib
import json
import shlex

import numpy as np
import pytest

from mbert_lab.cli import centroids_cmd as cmd
from mbert_lab.cli import main
from mbert_lab.studies.centroids import CentroidsConfig, CentroidsResult, centroids
from tests.test_centroids_study import LANGS, TOY_CORPUS, sentences, write


@pytest.fixture
def tiny_model(monkeypatch, tiny_encoder):
    """The CLI loads the tiny random BERT whatever --model says."""
    import mbert_lab.models.registry as reg

    calls = []

    def load(name, **kw):
        calls.append((name, kw))
        return tiny_encoder

    monkeypatch.setattr(reg, "load_encoder", load)
    return calls


@pytest.fixture
def no_model(monkeypatch):
    import mbert_lab.models.registry as reg

    def load(*a, **kw):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(reg, "load_encoder", load)


def _files(tmp_path):
    out = []
    for i, (code, j) in enumerate(LANGS):
        xx = write(tmp_path / f"{code}.txt", sentences(TOY_CORPUS[j], 40, i))
        en = write(tmp_path / f"{code}.eng", sentences(TOY_CORPUS[0], 40, 10 + i))
        out.append((code, xx, en))
    return out


def test_cli_and_library_give_the_same_result(tmp_path, tiny_model, tiny_encoder, capsys, monkeypatch):
    files = _files(tmp_path)
    argv = ["centroids", "--min-sentences", "20", "--no-geometry", "--probe-max-iter", "50", "--layers", "0,2,4",
            "--plot-layers", "4", "--no-cache", "--threads", "1", "--out", str(tmp_path / "out")]
    for code, xx, en in files:
        argv += ["--pair", code, xx, en]
    monkeypatch.setattr("sys.argv", ["mbert-lab", *argv])
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    cli = CentroidsResult.load(tmp_path / "out")
    lib = centroids(CentroidsConfig(pairs={c: [x, e] for c, x, e in files}, min_sentences=20, geometry=False,
                                    probe_max_iter=50, layers=[0, 2, 4], cache=False, threads=1), encoder=tiny_encoder)
    assert cli.lid == lib.lid and cli.retrieval == lib.retrieval and cli.split == lib.split
    assert cli.centroid_geometry == lib.centroid_geometry
    assert cli.provenance.config == lib.provenance.config
    assert cli.provenance.command.startswith("mbert-lab centroids --min-sentences 20")
    for line in lib.summary():
        assert line in stdout
    names = {"dendrogram_L4", "projection_L4", "lid_by_layer", "retrieval_by_layer"}
    assert {p.stem for p in (tmp_path / "out").glob("*.png")} == names
    from mbert_lab.analyses.centroids import LanguageTransform

    t = LanguageTransform.load(tmp_path / "out" / "transform")
    np.testing.assert_allclose(t.centroids["deu"], lib.transform.centroids["deu"], rtol=1e-6)
    assert tiny_model[0][0] == "offline"


def test_default_input_is_tatoeba(tmp_path, tiny_model, data_root):
    out = tmp_path / "out"
    argv = ["centroids", "--languages", "de,fra,cmn", "--min-sentences", "20", "--max-sentences", "30",
            "--no-geometry", "--layers", "0,4", "--probe-max-iter", "30", "--no-cache", "--out", str(out)]
    assert main(argv) == 0
    r = CentroidsResult.load(out)
    assert r.languages == ("cmn", "deu", "fra") and r.retrieval.languages == r.languages
    assert r.split.n_train == {"cmn": 15, "deu": 15, "fra": 15} and r.split.n_test == r.split.n_train
    assert r.excluded == {}
    ds = r.provenance.datasets[0]
    assert ds.name == "tatoeba" and ds.languages == ("cmn", "deu", "fra")
    f = "tatoeba/v1/tatoeba.deu-eng.deu"
    assert ds.files[f] == hashlib.sha256((data_root / f).read_bytes()).hexdigest() and len(ds.files) == 6
    # 3 languages in 2 scripts: Chinese is never confused with the Latin-script languages
    conf = np.array(r.lid["nearest_centroid"].by_layer[0].confusion)
    assert conf[0, 0] == 15 and conf[0, 1:].sum() == 0


def test_max_length_takes_effect(tmp_path, tiny_model):
    long = [(c, write(tmp_path / f"{c}.txt", [" ".join([s] * 4) for s in sentences(TOY_CORPUS[j], 24, i)]))
            for i, (c, j) in enumerate(LANGS)]
    base = ["centroids", "--min-sentences", "20", "--no-geometry", "--layers", "2", "--no-cache", "--probe-max-iter", "20"]
    for c, p in long:
        base += ["--file", f"{c}={p}"]
    assert main(base + ["--out", str(tmp_path / "a")]) == 0
    assert main(base + ["--max-length", "8", "--plot-layers", "last", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "dendrogram_L2.svg").exists() and not (tmp_path / "a" / "dendrogram_L2.png").exists()
    a, b = (CentroidsResult.load(tmp_path / x) for x in "ab")
    assert b.provenance.config["max_length"] == 8 and a.provenance.config["max_length"] is None
    ca = np.load(tmp_path / "a" / "transform.npz")["centroid/deu"]
    cb = np.load(tmp_path / "b" / "transform.npz")["centroid/deu"]
    assert not np.allclose(ca, cb)


def test_print_config_round_trips(tmp_path, no_model, capsys):
    from mbert_lab.config import load_study_file

    argv = ["centroids", "--file", "de", write(tmp_path / "d.txt", ["x"]), "--file", f"fr={write(tmp_path / 'f.txt', ['y'])}",
            "--min-sentences", "4", "--layers", "0,8", "--max-length", "64", "--device", "cpu", "--no-geometry",
            "--print-config", "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    text = capsys.readouterr().out
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    [d] = load_study_file(tmp_path / "s.toml")
    assert d.out == str(tmp_path / "o") and d.config.files == {"deu": str(tmp_path / "d.txt"), "fra": str(tmp_path / "f.txt")}
    assert d.config.layers == (0, 8) and d.config.max_length == 64 and d.config.geometry is False
    assert not (tmp_path / "o").exists()


def test_help_examples_parse_and_validate(tmp_path, monkeypatch, no_model):
    import argparse

    monkeypatch.chdir(tmp_path)
    for name in ("de.txt", "fr.txt", "es.txt", "es-en.en.txt", "sentences.tsv", "fi_tdt-ud-test.conllu", "et_edt-ud-test.conllu"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    cmd.add_parser(parser.add_subparsers())
    lines = [ln.strip() for ln in cmd.EXAMPLES.splitlines() if ln.strip().startswith("mbert-lab centroids")]
    assert len(lines) == 5
    for line in lines:
        args = parser.parse_args(shlex.split(line, comments=True)[1:])
        cfg = cmd.config_from_args(args)
        assert isinstance(cfg, CentroidsConfig)
    assert cfg.conllu == {"fin": "fi_tdt-ud-test.conllu", "est": "et_edt-ud-test.conllu"}


BAD = [
    (["--min-sentences", "0"], "min_sentences: must be a whole number >= 4, got 0"),
    (["--max-sentences", "-5"], "max_sentences: must be a whole number >= 500, got -5"),
    (["--max-length", "0"], "max_length: must be a whole number >= 8, got 0"),
    (["--threads", "0"], "threads: must be a whole number in 1..1024, got 0"),
    (["--pud-sentences", "-3"], "pud_sentences: must be a whole number >= 2, got -3"),
    (["--languages", "zz"], "unknown language 'zz': not in the language table"),
    (["--metric", "cosin"], "did you mean 'cosine'"),
    (["--layers", "-1"], "layers: layers are >= 0"),
    (["--plot-layers", "x"], "--plot-layers: bad value"),
    (["--file", "de=DIR"], "files[deu]: is a folder, expected a file"),
    (["--file", "de=NOFILE"], "files[deu]: no such file"),
    (["--tatoeba", "DIR", "--file", "de=DIR"], "use either a Tatoeba folder or your own files"),
    (["--device", "tpu"], "device: unknown device 'tpu'"),
    (["--out", "FILE"], "--out: exists and is not a folder"),
]


@pytest.mark.parametrize("extra, msg", BAD)
def test_bad_input_exits_2_with_one_line_before_the_model(tmp_path, no_model, capsys, extra, msg):
    (tmp_path / "file").write_text("x\n")
    subst = {"DIR": str(tmp_path), "NOFILE": str(tmp_path / "missing.txt"), "FILE": str(tmp_path / "file")}
    extra = [subst.get(x, x.replace("DIR", subst["DIR"]).replace("NOFILE", subst["NOFILE"])) for x in extra]
    argv = ["centroids", "--no-geometry", *extra]
    if "--out" not in extra:
        argv += ["--out", str(tmp_path / "out")]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
