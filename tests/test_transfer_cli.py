"""Zero-shot transfer through the CLI: the same results as the library, outputs where told,
bad input rejected before any model work (tiny random model, synthetic data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mbert_lab.studies.transfer import TransferConfig, TransferResult, transfer
from tests.test_transfer import _one_thread, _write_pos_mirror  # noqa: F401  (_one_thread: an autouse fixture)


def _save_tiny(enc, d: Path) -> None:
    enc.model.save_pretrained(d, safe_serialization=True)
    enc.tokenizer.save_pretrained(d)


def test_cli_and_library_agree_and_write_where_told(tmp_path, tiny_encoder, monkeypatch, capsys):
    from mbert_lab.cli import main
    from mbert_lab.models.registry import load_encoder

    _write_pos_mirror(tmp_path / "data")
    _save_tiny(tiny_encoder, tmp_path / "model")
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    argv = ["transfer", "--task", "pos", "--eval", "en,de", "--seeds", "2", "--model", str(tmp_path / "model"),
            "--epochs", "2", "--batch-size", "8", "--max-length", "32", "--lr", "1e-3", "--no-progress",
            "--device", "cpu", "--threads", "1", "--out", str(tmp_path / "out" / "pos")]
    assert main(argv) == 0
    d = tmp_path / "out" / "pos"
    for f in ("transfer.json", "transfer.md", "transfer_by_language.png", "transfer_by_language.svg"):
        assert (d / f).exists(), f
    assert not (d / "pos").exists() and (d / "seed-0" / "result.json").exists()
    cli = TransferResult.load(d)
    lib = transfer(TransferConfig(task="pos", eval_langs="en,de", seeds=2, model=str(tmp_path / "model"), epochs=2,
                                  batch_size=8, max_length=32, lr=1e-3, progress=False, threads=1),
                   encoder=load_encoder(str(tmp_path / "model")))
    assert cli.suites == lib.suites and cli.details == lib.details
    assert cli.provenance.command.startswith("mbert-lab ") and lib.provenance.command is None
    assert f"{cli.per_language['deu'].mean:6.2f}" in capsys.readouterr().out
    assert main(argv) == 0  # rerun: finished seeds are loaded, not retrained
    assert [x.reused for x in TransferResult.load(d).training.runs] == [True, True]
    # layer probes on cached vectors: --layers, chosen on dev, reported on test
    assert main(argv[:-2] + ["--mode", "layer-probe", "--layers", "0,4", "--out", str(tmp_path / "probe")]) == 0
    pr = TransferResult.load(tmp_path / "probe")
    assert pr.layer_probes.layers == (0, 4) and pr.layer_probes.chosen_on == "dev"
    assert (tmp_path / "probe" / "transfer_by_layer.png").exists()


@pytest.mark.parametrize("extra, msg", [
    (["--task", "nli"], "did you mean"),
    (["--task", "pos", "--eval", "zz"], "unknown language 'zz'"),
    (["--task", "pos", "--max-train", "0"], "max_train: must be a whole number >= 1, got 0"),
    (["--task", "pos", "--max-eval", "0"], "max_eval: must be a whole number >= 1, got 0"),
    (["--task", "pos", "--probe-layers", "all"], "--probe-layers is gone"),
    (["--task", "pos", "--device", "cuda:x"], "unknown device"),
])
def test_cli_bad_input_exits_2_before_the_model(tmp_path, monkeypatch, capsys, extra, msg):
    from mbert_lab.cli import main

    _write_pos_mirror(tmp_path / "data")
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "data"))
    import mbert_lab.models.registry as reg

    monkeypatch.setattr(reg, "load_encoder", lambda *a, **k: pytest.fail("the model was loaded"))
    assert main(["transfer", *extra, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_print_config_runs_through_the_study_file(tmp_path, monkeypatch, capsys):
    from mbert_lab.cli import main
    from mbert_lab.config import load_study_file

    _write_pos_mirror(tmp_path / "data")
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "data"))
    assert main(["transfer", "--task", "pos", "--eval", "de", "--mode", "layer-probe", "--layers", "4,8",
                 "--print-config", "--out", str(tmp_path / "o")]) == 0
    f = tmp_path / "s.toml"
    f.write_text(capsys.readouterr().out)
    (s,) = load_study_file(f)
    assert s.out == str(tmp_path / "o") and s.config.layers == (4, 8) and s.config.eval_langs == ("deu",)


def test_cli_help_examples_parse_and_validate(monkeypatch):
    import shlex

    from mbert_lab.cli import build_parser
    from mbert_lab.cli.transfer_cmd import EXAMPLES, config_from_args

    lines = EXAMPLES.replace("\\\n", " ").splitlines()
    cmds = [ln.strip()[len("mbert-lab "):] for ln in lines if ln.strip().startswith("mbert-lab ")]
    assert len(cmds) == 12
    parser = build_parser()
    for c in cmds:
        words = shlex.split(c, comments=True)
        args = parser.parse_args(words)
        if args.action == "eval":  # needs the folder the train example writes: parsed only
            continue
        if "--train-file" in words or "v2" in words:  # the user's files / MasakhaNER 2.0: not in the mirror
            continue
        if "--device" in words:  # a GPU example: parsed, and validated except for the device
            args.device = "cpu"
        config_from_args(args)


def test_cli_train_then_eval(tmp_path, tiny_encoder, monkeypatch, capsys):
    from mbert_lab.cli import main

    _write_pos_mirror(tmp_path / "data")
    _save_tiny(tiny_encoder, tmp_path / "model")
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "data"))
    assert main(["transfer", "train", "--task", "pos", "--eval", "en,de", "--suites", "pud", "--seeds", "1",
                 "--model", str(tmp_path / "model"), "--epochs", "2", "--batch-size", "8", "--max-length", "32",
                 "--lr", "1e-3", "--no-progress", "--out", str(tmp_path / "t")]) == 0
    ck = tmp_path / "t" / "seed-0" / "model"
    assert (ck / "transfer_manifest.json").exists()
    assert main(["transfer", "eval", "--checkpoint", str(ck), "--eval", "de", "--suites", "pud", "--no-progress",
                 "--out", str(tmp_path / "e")]) == 0
    t, e = TransferResult.load(tmp_path / "t"), TransferResult.load(tmp_path / "e")
    assert abs(e.per_language["deu"].mean - t.per_language["deu"].mean) <= 1e-6
    capsys.readouterr()
    assert main(["transfer", "eval", "--checkpoint", str(ck), "--lr", "1", "--out", str(tmp_path / "x")]) == 2
    assert "--lr: not an option of `transfer eval`" in capsys.readouterr().err
    assert main(["transfer", "eval", "--eval", "de", "--out", str(tmp_path / "x")]) == 2
    assert "--checkpoint" in capsys.readouterr().err


