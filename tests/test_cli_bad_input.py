"""Bad input fails fast and clearly (issue: fail fast), table-driven over every subcommand.

Each case runs one command line in-process and asserts: exit code 2, exactly one line on
stderr that names the option or file (and line where it applies), no traceback, nothing left
in the working folder, and that no model was loaded (the loaders are made to fail).

A case is ``(argv, fragment)``: ``{d}`` in argv is the folder of sample inputs, and the
fragment must appear in the one error line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mbert_lab.cli import main

BAD_UTF8_ARG = os.fsdecode(b"caf\xe9")  # what Python makes of a Latin-1 byte in argv


def _samples(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "good.txt").write_text("Hello world.\nHallo Welt.\n", encoding="utf-8")
    (d / "empty.txt").write_text("", encoding="utf-8")
    (d / "blank.txt").write_text("Hello.\n\nWorld.\n", encoding="utf-8")
    (d / "latin1.txt").write_bytes(b"ok\ncaf\xe9\n")
    (d / "pairs.src-tgt").write_text("the cat ||| le chat\na dog ||| un chien\n", encoding="utf-8")
    (d / "nosep.src-tgt").write_text("the cat le chat\n", encoding="utf-8")
    (d / "a.en").write_text("the cat\na dog\n", encoding="utf-8")
    (d / "a.fr").write_text("le chat\n", encoding="utf-8")
    (d / "bom.en").write_bytes(b"\xef\xbb\xbf the cat\r\na dog\r\n")
    (d / "afile").write_text("x", encoding="utf-8")
    (d / "folder").mkdir(exist_ok=True)
    (d / "study.toml").write_text('[[study]]\nstudy = "extract"\ntexts = ["a"]\nbatch_size = 0\n', encoding="utf-8")
    (d / "typo.toml").write_text('[[study]]\nstudy = "extract"\ntexts = ["a"]\nlayer = 3\n', encoding="utf-8")
    (d / "study.json").write_text("{}", encoding="utf-8")


# Each command: a valid base command line, its count options and its output option.
EXTRACT = ["extract", "--file", "{d}/good.txt", "--out", "{o}/v.npz"]

CASES: list[tuple[str, list[str], str]] = [
    # --- extract: inputs
    ("extract-missing-file", ["extract", "--file", "{d}/nope.txt", "--out", "{o}/v.npz"], "nope.txt: file: no such file"),
    ("extract-folder-as-file", ["extract", "--file", "{d}/folder", "--out", "{o}/v.npz"], "folder: file: is a folder"),
    ("extract-empty-file", ["extract", "--file", "{d}/empty.txt", "--out", "{o}/v.npz"], "empty.txt: no sentences"),
    ("extract-blank-line", ["extract", "--file", "{d}/blank.txt", "--out", "{o}/v.npz"], "blank.txt:2: blank line"),
    ("extract-latin1", ["extract", "--file", "{d}/latin1.txt", "--out", "{o}/v.npz"], "latin1.txt:2: not valid UTF-8"),
    ("extract-bad-utf8-text", ["extract", "--text", BAD_UTF8_ARG, "--out", "{o}/v.npz"], "not valid UTF-8"),
    ("extract-empty-text", ["extract", "--text", " ", "--out", "{o}/v.npz"], "texts[1]: empty text"),
    ("extract-bad-output", [*EXTRACT[:-2], "--outputs", "sentence,words", "--out", "{o}/v.npz"], "outputs: unknown value 'words'"),
    ("extract-bad-pooling", [*EXTRACT, "--word-pooling", "max"], "word_pooling: unknown value 'max'"),
    # --- extract: outputs
    ("extract-out-is-folder", ["extract", "--file", "{d}/good.txt", "--out", "{d}/folder"], "--out: is a folder"),
    ("extract-out-under-file", ["extract", "--file", "{d}/good.txt", "--out", "{d}/afile/v.npz"], "is not a folder"),
    ("extract-out-unwritable", ["extract", "--file", "{d}/good.txt", "--out", "/proc/mbert-lab/v.npz"], "/proc is not writable"),
    # --- demo
    ("demo-max-pairs-0", ["demo", "--out", "{o}/demo", "--max-pairs", "0"], "max_pairs"),
    ("demo-max-pairs-neg", ["demo", "--out", "{o}/demo", "--max-pairs", "-5"], "max_pairs"),
    ("demo-unknown-language", ["demo", "--out", "{o}/demo", "--languages", "de,zz"], "unknown demo language 'zz'"),
    ("demo-unknown-section", ["demo", "--out", "{o}/demo", "--sections", "vocab"], "unknown demo section 'vocab'"),
    ("demo-out-is-file", ["demo", "--out", "{d}/afile"], "exists and is not a folder"),
    ("demo-out-unwritable", ["demo", "--out", "/proc/mbert-lab/demo"], "/proc is not writable"),
    # --- run (study files)
    ("run-missing-file", ["run", "{d}/nope.toml", "--out", "{o}/r"], "nope.toml: no such file"),
    ("run-bad-value", ["run", "{d}/study.toml", "--out", "{o}/r"], "study #1 (extract): study 'extract': batch_size"),
    ("run-typo-key", ["run", "{d}/typo.toml", "--out", "{o}/r"], "unknown key 'layer' for study 'extract' (did you mean 'layers'?)"),
    ("run-not-a-study-file", ["run", "{d}/study.json", "--out", "{o}/r"], "a study file ends in .toml, .yaml or .yml"),
    ("run-out-unwritable", ["run", "{d}/typo.toml", "--out", "/proc/x"], "layer"),
]

# Model options: every command that runs a model rejects the same bad values the same way.
MODEL_COMMANDS: dict[str, list[str]] = {
    "extract": EXTRACT,
}
MODEL_OPTION_CASES: list[tuple[str, list[str], str]] = [
    ("batch-size-0", ["--batch-size", "0"], "batch_size: must be a whole number in 1..65536, got 0"),
    ("batch-size-neg", ["--batch-size", "-4"], "batch_size"),
    ("max-length-0", ["--max-length", "0"], "max_length: must be a whole number >= 8, got 0"),
    ("max-length-neg", ["--max-length", "-1"], "max_length"),
    ("threads-0", ["--threads", "0"], "threads: must be a whole number in 1..1024, got 0"),
    ("threads-neg", ["--threads", "-2"], "threads"),
    ("device-unknown", ["--device", "gpu"], "device: unknown device 'gpu'"),
    ("device-bad-index", ["--device", "cuda:x"], "device: unknown device 'cuda:x'"),
    ("layers-word", ["--layers", "eight"], "layers: bad value 'eight'"),
    ("layers-negative", ["--layers", "-1"], "layers: layers are >= 0"),
    ("layers-twice", ["--layers", "4,4"], "layers: a layer is listed twice"),
    ("model-bad-utf8", ["--model", BAD_UTF8_ARG], "model: not valid UTF-8"),
]
for cmd, base in MODEL_COMMANDS.items():
    for cid, extra, frag in MODEL_OPTION_CASES:
        CASES.append((f"{cmd}-{cid}", [*base, *extra], frag))


@pytest.fixture
def no_model(monkeypatch):
    """Any attempt to load a model or tokenizer fails the test."""
    import transformers

    import mbert_lab.models.registry as reg

    def boom(*a, **k):
        pytest.fail("a model was loaded before the input was validated")

    monkeypatch.setattr(reg, "load_encoder", boom)
    for cls in (transformers.AutoModel, transformers.AutoTokenizer, transformers.AutoConfig):
        monkeypatch.setattr(cls, "from_pretrained", boom)


def _tree(p: Path) -> set[str]:
    return {str(x.relative_to(p)) for x in p.rglob("*")}


@pytest.mark.parametrize("argv,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, no_model, argv, fragment):
    d, o = tmp_path / "in", tmp_path / "out"
    _samples(d)
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    argv = [a.replace("{d}", str(d)).replace("{o}", str(o)) for a in argv]
    rc = main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert fragment in lines[0], lines[0]
    assert _tree(tmp_path) == before, "a failed run left files behind"


def test_case_table_is_large_and_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 30
