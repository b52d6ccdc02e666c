"""``mbert-lab align-train`` (registered in cli/__init__.py; these
tests add it to COMMANDS themselves until then)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from mbert_lab import cli
from mbert_lab.cli import main

PAIRS = [("The quick brown fox .", "Le renard brun rapide ."), ("I like green tea .", "J'aime le thé vert ."),
         ("Hello world !", "Bonjour le monde !"), ("the lazy dog", "le chien paresseux")]


@pytest.fixture
def tiny_model_dir(tmp_path, tiny_encoder):
    d = tmp_path / "tiny-model"
    tiny_encoder.model.save_pretrained(d, safe_serialization=True)
    tiny_encoder.tokenizer.save_pretrained(d)
    return d


@pytest.fixture
def pairs_file(tmp_path):
    p = tmp_path / "train.src-tgt"
    p.write_text("".join(f"{s} ||| {t}\n" for s, t in PAIRS), encoding="utf-8")
    return p


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _args(model, pairs, out, *extra):
    return ["align-train", "--parallel", pairs, "--model", model, "--layers", "2", "--steps", "3",
            "--batch-size", "2", "--lr", "1e-3", "--gold", "none", "--eval-every", "0", "--threads", "1",
            "--no-cache", "--out", out, *extra]


def test_cli_equals_library_and_checkpoint_is_usable(tmp_path, tiny_model_dir, pairs_file, capsys):
    from mbert_lab.studies.align_train import AlignTrainConfig, align_train

    code, out, err = _run(capsys, *_args(tiny_model_dir, pairs_file, tmp_path / "cli"))
    assert code == 0, err
    assert "trained layer 2 (so+co) on 4 pairs, 3 steps" in out
    res = json.loads((tmp_path / "cli" / "align_train.json").read_text())
    assert res["chosen_step"] == 3 and res["provenance"]["command"].startswith("mbert-lab align-train")
    lib = align_train(AlignTrainConfig(parallel=(str(pairs_file),), model=str(tiny_model_dir), layers=2, steps=3,
                                       batch_size=2, lr=1e-3, gold=(), eval_every=0, threads=1, cache=False,
                                       train_dir=str(tmp_path / "lib")))
    a = (tmp_path / "cli" / "checkpoint" / "model.safetensors").read_bytes()
    b = (tmp_path / "lib" / "checkpoint" / "model.safetensors").read_bytes()
    assert a == b and [c.loss for c in lib.curve] == [c["loss"] for c in res["curve"]]
    # align with the checkpoint: its trained layer by default
    code, out, err = _run(capsys, "align", "--pairs", pairs_file, "--model", tmp_path / "cli" / "checkpoint",
                          "--no-cache", "--format", "jsonl", "--out", tmp_path / "links.jsonl")
    assert code == 0, err
    assert json.loads((tmp_path / "links.jsonl").read_text().splitlines()[0])["layer"] == 2


def test_cli_bad_input_exit_2(tmp_path, tiny_model_dir, pairs_file, capsys):
    from mbert_lab.data.datasets import load_gold_alignment

    g = load_gold_alignment("en-fr").pairs[2]
    leak = tmp_path / "leak.src-tgt"
    leak.write_text(pairs_file.read_text() + f"{' '.join(g.src)} ||| {' '.join(g.tgt)}\n", encoding="utf-8")
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for argv, msg in [
        (_args(tiny_model_dir, leak, tmp_path / "x"), "leak.src-tgt:5 (en-fr:3)"),
        (_args(tiny_model_dir, pairs_file, afile), "exists and is not a folder"),
        (_args(tiny_model_dir, pairs_file, tmp_path / "x", "--objectives", "so,nope"), "objectives"),
        (_args(tiny_model_dir, pairs_file, tmp_path / "x", "--steps", "0"), "steps"),
        (_args(tiny_model_dir, pairs_file, tmp_path / "x", "--layers", "all"), "one layer"),
        (["align-train", "--model", tiny_model_dir, "--out", tmp_path / "x"], "give the parallel data"),
    ]:
        code, _, err = _run(capsys, *argv)
        assert code == 2 and msg in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x" / "checkpoint").exists()


def test_cli_print_config_round_trips(tmp_path, pairs_file, capsys):
    from mbert_lab import studies
    from mbert_lab.config import load_study_file

    code, out, err = _run(capsys, "align-train", "--parallel", pairs_file, "--steps", "7", "--objectives", "so,psi",
                          "--out", tmp_path / "r", "--print-config")
    assert code == 0, err
    f = tmp_path / "s.toml"
    f.write_text(out)
    [d] = load_study_file(f)
    assert d.config.steps == 7 and d.config.objectives == ("so", "psi") and d.config.train_dir == str(tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_cli_help_examples_parse_and_validate(tmp_path, monkeypatch):
    from mbert_lab.cli import build_parser
    from mbert_lab.cli.align_train_cmd import EPILOG, train_config

    monkeypatch.chdir(tmp_path)
    for f in ("train.en", "train.fr"):
        Path(f).write_text("a b\n")
    Path("train.src-tgt").write_text("a b ||| c d\n")
    parser = build_parser()
    n = 0
    for line in EPILOG.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("mbert-lab "):
            train_config(parser.parse_args(shlex.split(line, comments=True)[1:]))
            n += 1
    assert n == 4
