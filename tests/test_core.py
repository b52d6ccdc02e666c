"""Core plumbing: errors, atomic writes, result records, CLI laziness, layer parsing."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from mbert_lab.errors import ConfigError, InputError, choice_error
from mbert_lab.io import atomic_open, atomic_write_json
from mbert_lab.models.registry import parse_layers
from mbert_lab.results import SCHEMA_VERSION, ModelProvenance, Provenance, ResultRecord, record


def test_input_error_names_file_and_line():
    e = InputError("gold index 9 beyond sentence length 5", path="x.gold", line=3)
    assert str(e) == "x.gold:3: gold index 9 beyond sentence length 5"
    assert e.path == "x.gold" and e.line == 3


def test_choice_error_did_you_mean():
    msg = str(choice_error("method", "itermx", ["argmax", "itermax", "match"]))
    assert "did you mean 'itermax'" in msg and "argmax, itermax, match" in msg


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "r.json"
    atomic_write_json(p, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_open(p) as f:
            f.write('{"half": ')
            raise RuntimeError("killed")
    assert json.loads(p.read_text()) == {"a": 1}
    assert [x.name for x in tmp_path.iterdir()] == ["r.json"]


def test_record_round_trip_and_provenance(tmp_path):
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Toy:
        layer: int
        scores: dict

    prov = Provenance.collect(
        config={"k": 4}, model=ModelProvenance("m", "rev", "abc", "label"), layers=[4, 8], pooling="mean"
    )
    rec = record("toy", Toy(8, {"de": 0.5}), prov)
    path = rec.save(tmp_path / "toy.json")
    back = ResultRecord.load(path)
    assert back.payload == {"layer": 8, "scores": {"de": 0.5}}
    assert back.provenance.model.model_id == "m" and back.provenance.layers == (4, 8)
    d = json.loads(path.read_text())
    assert d["schema_version"] == SCHEMA_VERSION
    for key in ("created", "git_commit", "packages", "command", "config"):
        assert key in d["provenance"]
    assert "torch" in d["provenance"]["packages"]


def test_record_rejects_incompatible_schema(tmp_path):
    p = tmp_path / "old.json"
    p.write_text(json.dumps({"schema_version": "0.1", "kind": "x", "payload": {}, "provenance": {}}))
    with pytest.raises(InputError, match="schema version"):
        ResultRecord.load(p)


def test_parse_layers():
    assert parse_layers("all", 3) == [0, 1, 2, 3]
    assert parse_layers("8", 12) == [8]
    assert parse_layers("12,4,8,4", 12) == [4, 8, 12]
    assert parse_layers("last", 6) == [6]
    with pytest.raises(ConfigError, match="0..12"):
        parse_layers("13", 12)
    with pytest.raises(ConfigError, match="bad --layers"):
        parse_layers("eight", 12)


def test_cli_help_is_lazy():
    code = (
        "import sys; from mbert_lab.cli import build_parser; build_parser().format_help(); "
        "heavy = [m for m in ('torch', 'transformers', 'faiss', 'datasets', 'sklearn', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"--help imported heavy modules: {out.stdout}"


def test_cli_bad_input_exits_2_without_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mbert_lab", "extract", "--file", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o.npz")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "missing.txt" in out.stderr
    assert not (tmp_path / "o.npz").exists()


def _write_mo(path, messages: dict[str, str]) -> None:
    """A minimal GNU .mo file (the format gettext reads)."""
    keys = sorted(messages)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(messages[k].encode() + b"\0" for k in keys)
    n = len(keys)
    o_ids, o_strs = 28, 28 + 8 * n
    data_start = 28 + 16 * n
    id_table, str_table = [], []
    off = data_start
    for k in keys:
        b = k.encode()
        id_table.append((len(b), off))
        off += len(b) + 1
    for k in keys:
        b = messages[k].encode()
        str_table.append((len(b), off))
        off += len(b) + 1
    head = struct.pack("<7I", 0x950412DE, 0, n, o_ids, o_strs, 0, 0)
    body = b"".join(struct.pack("<2I", *x) for x in id_table) + b"".join(struct.pack("<2I", *x) for x in str_table)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + body + ids + strs)


def test_embedded_corpus_reader_filters(tmp_path):
    from mbert_lab.data.embedded import read_catalogues

    de = {
        "": "Content-Type: text/plain; charset=UTF-8\n",
        "Add another user": "Weiteren Benutzer hinzufügen",
        "Delete %(name)s": "%(name)s löschen",  # placeholder: dropped
        "Yes": "Ja",  # one word: dropped
        "Change password": "Change password",  # untranslated: dropped
    }
    _write_mo(tmp_path / "conf/locale/de/LC_MESSAGES/django.mo", de)
    _write_mo(tmp_path / "conf/locale/zh_Hans/LC_MESSAGES/django.mo", {"": "Content-Type: text/plain; charset=UTF-8\n", "Add another user": "添加另一个用户"})
    _write_mo(tmp_path / "conf/locale/de_CH/LC_MESSAGES/django.mo", {"": "Content-Type: text/plain; charset=UTF-8\n", "Add another user": "x y"})
    c = read_catalogues(tmp_path)
    assert c.english == ("Add another user",)
    assert c.languages == ["de", "zh"]
    assert c.parallel("de") == [("Add another user", "Weiteren Benutzer hinzufügen")]


def test_no_trust_remote_code_anywhere():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "mbert_lab"
    offenders = [str(p) for p in root.rglob("*.py") if "trust_remote_code=True" in p.read_text(encoding="utf-8")]
    assert not offenders


def test_loads_safetensors_only(tmp_path, tiny_encoder):
    """A checkpoint with only pickle weights (pytorch_model.bin) is refused, not unpickled."""
    import torch

    from mbert_lab.errors import ModelLoadError
    from mbert_lab.models.registry import load_encoder

    d = tmp_path / "pickled"
    tiny_encoder.model.config.save_pretrained(d)
    tiny_encoder.tokenizer.save_pretrained(d)
    torch.save(tiny_encoder.model.state_dict(), d / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="cannot load model"):
        load_encoder(str(d))
    # the same model saved as safetensors loads, with a weights fingerprint
    d2 = tmp_path / "safe"
    tiny_encoder.model.save_pretrained(d2)
    tiny_encoder.tokenizer.save_pretrained(d2)
    enc = load_encoder(str(d2))
    assert enc.num_layers == 4 and enc.hidden_size == 32 and enc.weights_sha256


def test_unknown_hub_id_offline_is_a_clear_error(monkeypatch):
    from mbert_lab.errors import ModelLoadError
    from mbert_lab.models.registry import load_encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="--model offline"):
        load_encoder("no-such-org/no-such-model")
