"""The studies calling convention: validated Configs, typed Results, study files, the lazy API."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mbert_lab.config import dump_studies, load_study_file
from mbert_lab.errors import ConfigError, InputError
from mbert_lab.results import ModelProvenance, Provenance
from mbert_lab.studies import STUDIES, get_study, load_result
from mbert_lab.studies.base import (
    EncoderOptions,
    StudyResult,
    check_output_dir,
    normalise_langs,
    parse_layers_spec,
    resolve_layers,
)
from mbert_lab.studies.representations import RepresentationsConfig, RepresentationsResult, extract

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ configs


def test_layers_spec_known_answers():
    assert parse_layers_spec("layers", "all") == "all"
    assert parse_layers_spec("layers", "4, 8,12") == (4, 8, 12)
    assert parse_layers_spec("layers", 7) == (7,)
    assert parse_layers_spec("layers", [3, 1]) == (3, 1)
    assert resolve_layers("all", 2) == (0, 1, 2)
    assert resolve_layers("last", 12) == (12,)
    for bad in ("x", "", "-1", [1, 1], True, 2.5):
        with pytest.raises(ConfigError, match="layers"):
            parse_layers_spec("layers", bad)
    with pytest.raises(ConfigError, match=r"out of range.*0\.\.4"):
        resolve_layers((5,), 4)


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("batch_size", 0, "batch_size: must be a whole number in 1..65536, got 0"),
        ("batch_size", -3, "batch_size"),
        ("batch_size", 2.0, "batch_size: must be a whole number"),
        ("max_length", 0, "max_length"),
        ("threads", 0, "threads"),
        ("device", "gpu", "device: unknown device 'gpu'"),
        ("device", "cuda:x", "device"),
        ("layers", "8,x", "layers"),
        ("model", "", "model: empty text"),
        ("model", "bad\udcff", "model: not valid UTF-8"),
    ],
)
def test_encoder_options_reject_bad_values(field, value, match):
    with pytest.raises(ConfigError, match=match):
        RepresentationsConfig(texts=("a",), **{field: value})


def test_config_needs_exactly_one_input(tmp_path):
    with pytest.raises(ConfigError, match="exactly one"):
        RepresentationsConfig()
    f = tmp_path / "t.txt"
    f.write_text("a\n")
    with pytest.raises(ConfigError, match="exactly one"):
        RepresentationsConfig(texts=("a",), file=str(f))
    with pytest.raises(InputError, match="is a folder"):
        RepresentationsConfig(file=str(tmp_path))
    with pytest.raises(InputError, match="no such file"):
        RepresentationsConfig(file=str(tmp_path / "missing.txt"))


def test_config_is_frozen_and_normalised():
    c = RepresentationsConfig(texts="hello", outputs="sentence, word", layers="4,8")
    assert c.texts == ("hello",) and c.outputs == ("sentence", "word") and c.layers == (4, 8)
    with pytest.raises(Exception):
        c.layers = (1,)  # type: ignore[misc]
    assert c.replace(layers="all").layers == "all"


def test_from_dict_did_you_mean():
    with pytest.raises(ConfigError, match=r"f\.toml: unknown key 'layer' for study 'extract' \(did you mean 'layers'\?\)"):
        RepresentationsConfig.from_dict({"texts": ["a"], "layer": 8}, source="f.toml")


def test_languages_normalised_to_639_3():
    assert normalise_langs("langs", "de, fra,ja") == ("deu", "fra", "jpn")
    assert normalise_langs("langs", ["qaa"], known_extra=["qaa"]) == ("qaa",)
    with pytest.raises(ConfigError, match="unknown language 'zz'"):
        normalise_langs("langs", "de,zz")


def test_languages_valid_when_the_dataset_has_files(tmp_path):
    (tmp_path / "xnli").mkdir()
    (tmp_path / "xnli" / "dev-qaa.tsv").write_text("a\tb\tneutral\n")
    assert normalise_langs("langs", "de,qaa", dataset="xnli", root=tmp_path) == ("deu", "qaa")
    with pytest.raises(ConfigError, match=r"langs: unknown language 'qab': not in the language table and no xnli files for it under .* \(found: .*qaa"):
        normalise_langs("langs", "qab", dataset="xnli", root=tmp_path)


def test_output_dir_checks(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="exists and is not a folder"):
        check_output_dir("--out", f)
    with pytest.raises(InputError, match="is not a folder"):
        check_output_dir("--out", f / "sub")
    check_output_dir("--out", tmp_path / "new" / "deeper")  # creatable
    assert not (tmp_path / "new").exists(), "checking must not create anything"
    # /proc takes no new files, even from root (for whom chmod'ed folders stay writable)
    with pytest.raises(InputError, match="/proc is not writable"):
        check_output_dir("--out", "/proc/mbert-lab-test/out")
    with pytest.raises(InputError, match="folder is not writable"):
        check_output_dir("--out", "/proc")
    assert not any(p.name.startswith(".mbert-lab-probe") for p in tmp_path.iterdir())


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class _Row:
    layer: int
    score: float


@dataclass(frozen=True, kw_only=True)
class _ToyResult(StudyResult):
    kind = "toy"
    rows: tuple[_Row, ...]
    per_lang: dict[str, float]
    best: int | None = None


def _prov() -> Provenance:
    return Provenance.collect(config={"study": "toy"}, model=ModelProvenance("m", label="M"), layers=(1, 2))


def test_result_round_trip_is_typed(tmp_path):
    r = _ToyResult(provenance=_prov(), rows=(_Row(1, 0.5), _Row(2, 0.25)), per_lang={"deu": 1.0}, best=1)
    path = r.save(tmp_path)
    assert path.name == "toy.json"
    d = json.loads(path.read_text())
    assert d["schema_version"] == "1.0" and d["kind"] == "toy" and d["provenance"]["command"] is None
    back = _ToyResult.load(tmp_path)
    assert back == r and isinstance(back.rows[0], _Row) and back.provenance.model.label == "M"


def test_result_rejects_other_kind_and_schema(tmp_path):
    r = _ToyResult(provenance=_prov(), rows=(), per_lang={})
    d = r.to_dict()
    with pytest.raises(InputError, match="schema version"):
        _ToyResult.from_dict({**d, "schema_version": "2.0"})
    with pytest.raises(InputError, match="a 'other' result"):
        _ToyResult.from_dict({**d, "kind": "other"})


def test_provenance_has_no_argv():
    p = Provenance.collect(config={})
    assert p.command is None


# ------------------------------------------------------------------ registry, study files


def test_registry_names_resolve_lazily():
    assert "extract" in STUDIES and "align_eval" in STUDIES
    cls, fn = get_study("extract")
    assert cls is RepresentationsConfig and fn is extract
    with pytest.raises(ConfigError, match="did you mean 'extract'"):
        get_study("extrakt")


def test_study_file_toml_and_yaml_agree(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('[[study]]\nstudy = "extract"\ntexts = ["a b", "c"]\nlayers = [4, 8]\nout = "o1"\n')
    yaml = tmp_path / "s.yaml"
    yaml.write_text("study:\n  - study: extract\n    texts: ['a b', 'c']\n    layers: '4,8'\n    out: o1\n")
    a, b = load_study_file(toml), load_study_file(yaml)
    assert a[0].config == b[0].config and a[0].out == b[0].out == "o1"
    # dump -> load gives equal configs
    again = tmp_path / "again.toml"
    again.write_text(dump_studies([a[0].config], ["o1"]))
    assert load_study_file(again)[0].config == a[0].config


@pytest.mark.parametrize(
    "text,match",
    [
        ('[[study]]\nstudy = "extract"\ntexts = ["a"]\nbatchsize = 3\n', r"study #1 \(extract\): unknown key 'batchsize'.*did you mean 'batch_size'"),
        ('[[study]]\nstudy = "extrct"\n', r"study #1: unknown study 'extrct' \(did you mean 'extract'\?\)"),
        ('[[study]]\ntexts = ["a"]\n', "needs a 'study' key"),
        ('[[study]]\nstudy = "extract"\ntexts = ["a"]\nbatch_size = 0\n', "batch_size"),
        ('title = "x"\n', "no studies"),
        ("[[study]\n", "not valid TOML"),
    ],
)
def test_study_file_errors_name_file_and_key(tmp_path, text, match):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises((ConfigError, InputError), match=match):
        load_study_file(f)


def test_public_api_is_lazy():
    code = (
        "import sys, mbert_lab as ml; heavy = [m for m in ('torch', 'transformers', 'faiss') if m in sys.modules]; "
        "assert not heavy, heavy; c = ml.RepresentationsConfig(texts=['x']); assert c.study == 'extract'; "
        "assert callable(ml.extract) and callable(ml.load_result); "
        "heavy = [m for m in ('torch', 'transformers', 'faiss') if m in sys.modules]; assert not heavy, heavy"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ the extract study


def test_extract_study_on_tiny_model(tiny_encoder, tmp_path):
    r = extract(RepresentationsConfig(texts=("a b c", "d e"), layers="1,3", outputs="sentence,word", cache=False),
                encoder=tiny_encoder)
    assert r.n == 2 and r.layers == (1, 3) and r.hidden_size == tiny_encoder.hidden_size
    arrays = r.arrays()
    assert arrays["sentence_mean_L3"].shape == (2, tiny_encoder.hidden_size)
    assert arrays["word_offsets"].tolist() == [0, 3, 5]
    path = r.save(tmp_path)
    z = np.load(tmp_path / "vectors.npz")
    np.testing.assert_allclose(z["sentence_mean_L1"], arrays["sentence_mean_L1"])
    back = load_result(path)
    assert isinstance(back, RepresentationsResult) and back.tokens == r.tokens and back.corpus is None


def test_extract_layers_beyond_model_fail_before_encoding(tiny_encoder):
    with pytest.raises(ConfigError, match="out of range"):
        extract(RepresentationsConfig(texts=("a",), layers="9"), encoder=tiny_encoder)


def test_extract_file_blank_line_is_an_error(tmp_path, tiny_encoder):
    f = tmp_path / "t.txt"
    f.write_bytes(b"\xef\xbb\xbf a b\r\n\r\nc\n")
    with pytest.raises(InputError, match=r"t\.txt:2: blank line"):
        extract(RepresentationsConfig(file=str(f)), encoder=tiny_encoder)


def test_extract_file_line_rule(tmp_path, tiny_encoder):
    """BOM + space, CRLF and lone CR give the same words as a clean file."""
    clean, messy = tmp_path / "a.txt", tmp_path / "b.txt"
    clean.write_text("a b\nc d\ne\n")
    messy.write_bytes(b"\xef\xbb\xbf a b\r\nc d\re")
    ra = extract(RepresentationsConfig(file=str(clean), pretokenized=True, layers="1", outputs="word", cache=False), encoder=tiny_encoder)
    rb = extract(RepresentationsConfig(file=str(messy), pretokenized=True, layers="1", outputs="word", cache=False), encoder=tiny_encoder)
    assert ra.tokens == rb.tokens
    np.testing.assert_allclose(ra.arrays()["word_L1"], rb.arrays()["word_L1"])


def test_align_input_line_rule_no_phantom_word(tmp_path, tiny_encoder):
    """A BOM followed by a space, CRLF and a lone CR give the same words and links as a clean
    file (the BOM used to become a phantom first word and shift every source index)."""
    from mbert_lab.studies.alignment import AlignConfig, align

    clean_src, clean_tgt = tmp_path / "c.src", tmp_path / "c.tgt"
    clean_src.write_text("a b c\nd e\n", encoding="utf-8")
    clean_tgt.write_text("a c b\ne d\n", encoding="utf-8")
    messy_src, messy_tgt = tmp_path / "m.src", tmp_path / "m.tgt"
    messy_src.write_bytes(b"\xef\xbb\xbf a b c\r\nd e\r")
    messy_tgt.write_bytes(b"a c b\rd e\n".replace(b"d e", b"e d"))
    kw = dict(layers=2, cache=False)
    a = align(AlignConfig(src_file=str(clean_src), tgt_file=str(clean_tgt), **kw), encoder=tiny_encoder)
    b = align(AlignConfig(src_file=str(messy_src), tgt_file=str(messy_tgt), **kw), encoder=tiny_encoder)
    assert [p.src for p in b.pairs] == [p.src for p in a.pairs] == [("a", "b", "c"), ("d", "e")]
    assert b.pharaoh_lines() == a.pharaoh_lines()
