"""Ray is optional: without ``ray`` nothing imports it; the ``ray`` fields are validated up
front (issue 17). No cluster is started here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mbert_lab.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                       env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip().splitlines()[-1]


def test_help_does_not_import_ray():
    code = ("import sys\nfrom mbert_lab.cli import main\n"
            "for argv in (['--help'], ['extract', '--help'], ['index', 'mine', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('ray' in sys.modules, 'torch' in sys.modules)")
    assert _python(code) == "False False"


def test_a_run_without_ray_does_not_import_ray(tmp_path):
    code = ("import sys\nfrom tests.conftest import make_tiny_encoder\n"
            "from mbert_lab.encode.store import Store\n"
            "from mbert_lab.studies.representations import RepresentationsConfig, extract\n"
            "from mbert_lab.studies.retrieval import MineConfig, mine\n"
            f"p = {str(tmp_path / 's.txt')!r}\nopen(p, 'w').write('Hallo Welt.\\nHello world.\\nBonjour.\\n')\n"
            "enc = make_tiny_encoder()\n"
            f"r = extract(RepresentationsConfig(file=p, layers=[2]), encoder=enc, store=Store({str(tmp_path / 'v')!r}))\n"
            "m = mine(MineConfig(src=p, tgt=p, layers=2, k=2), encoder=enc, store=None)\n"
            "print(r.n, m.n_candidates > 0, 'ray' in sys.modules)")
    assert _python(code) == "3 True False"


@pytest.mark.parametrize("value", ["local", "auto", "10.0.0.5:6379", "ray://head.example.org:10001", "[::1]:6379"])
def test_good_addresses(value):
    from mbert_lab.distributed import check_ray

    check_ray("ray", value)


@pytest.mark.parametrize("value", ["", "head", "10.0.0.5", "10.0.0.5:0", "10.0.0.5:70000", "http://x:1", "a b:1", 3])
def test_bad_addresses(value):
    from mbert_lab.distributed import check_ray

    with pytest.raises(ConfigError, match="ray"):
        check_ray("ray", value)


def test_ray_not_installed_is_a_clear_error(monkeypatch):
    import importlib.util

    from mbert_lab.distributed import check_ray

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(ConfigError, match=r"Ray is not installed; pip install 'mbert-lab\[ray\]'"):
        check_ray("ray", "local")


def test_configs_validate_ray_fields(tmp_path):
    from mbert_lab.studies.representations import RepresentationsConfig
    from mbert_lab.studies.retrieval import IndexBuildConfig, MineConfig

    f = tmp_path / "s.txt"
    f.write_text("Hallo.\n", encoding="utf-8")
    assert RepresentationsConfig(file=str(f), ray="local", ray_workers=2).to_dict()["ray"] == "local"
    with pytest.raises(ConfigError, match="ray: bad cluster address"):
        MineConfig(src=str(f), tgt=str(f), ray="nohost")
    with pytest.raises(ConfigError, match="ray_workers: only with ray"):
        IndexBuildConfig(index=str(tmp_path / "i"), input=str(f), ray_workers=2)
    with pytest.raises(ConfigError, match="ray_workers"):
        RepresentationsConfig(file=str(f), ray="local", ray_workers=0)


def test_cli_flags_reach_the_config(tmp_path, capsys):
    from mbert_lab.cli import main

    f = tmp_path / "s.txt"
    f.write_text("Hallo.\n", encoding="utf-8")
    assert main(["index", "mine", "--src", str(f), "--tgt", str(f), "--ray", "--ray-workers", "3",
                 "--out", str(tmp_path / "p.tsv"), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert 'ray = "local"' in out and "ray_workers = 3" in out
    assert main(["extract", "--file", str(f), "--ray", "10.1.2.3:6379", "--out", str(tmp_path / "v.npz"),
                 "--print-config"]) == 0
    assert 'ray = "10.1.2.3:6379"' in capsys.readouterr().out
    assert main(["extract", "--file", str(f), "--ray", "bad", "--out", str(tmp_path / "v.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ray: bad cluster address 'bad'" in err[0]


def test_extras_install_ray():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(x.startswith("ray[data]") for x in extras["ray"])
    assert any(x.startswith("ray[data]") for x in extras["test"])
