"""Issue #11, the cross-cutting library parts: written files follow the umask (022, 077, 002);
an offline hub lookup fails at once with one clear line (one bounded connect, then the hub
client's offline mode), a cached model still loads offline, online loading is unchanged.

The command line (exit codes, one error line last, logs, invalid UTF-8) is tested in
``test_cli_failfast.py``. No network: ``socket.create_connection`` is patched to fail.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mbert_lab import io as mio
from mbert_lab.errors import ConfigError, ModelLoadError
from mbert_lab.models import registry

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
    def hang(*a, **k):  # a connect that never answers in time (then succeeds, long after)
        time.sleep(30)
        return types.SimpleNamespace(close=lambda: None)

    monkeypatch.setattr(socket, "create_connection", hang)
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


def test_check_model_revision():
    registry.check_model_revision("offline", None)
    registry.check_model_revision("bert-base-multilingual-cased", "main")
    for alias in registry.OFFLINE_ALIASES:
        with pytest.raises(ConfigError, match="has no revisions"):
            registry.check_model_revision(alias, "main")
