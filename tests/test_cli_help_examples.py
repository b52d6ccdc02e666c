"""Every example in every ``--help`` parses and validates; the ones that need only the data
mirror or the embedded data and finish in seconds run.

Examples are the lines of a parser's epilog that start with ``mbert-lab`` (``\\`` joins lines).
A trailing comment may mark an example:

- ``[hub]`` / ``[gpu]``: needs a Hugging Face model or a GPU: parsed only;
- ``[data]``: needs a dataset the mirror does not hold (e.g. MasakhaNER 2.0): parsed only;
- ``[after]``: reads what an earlier ``[long]`` example writes (a trained model): parsed only;
- ``[long]``: a full run (minutes to hours on a laptop CPU): parsed and validated
  (``--print-config``, which builds and validates the study's Config) but not run here.

Everything else runs, in order, in a folder holding small sample files under the names the
examples use (an earlier example may build what a later one reads, e.g. an index).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
from pathlib import Path

import pytest

from mbert_lab.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
MARKS = ("[hub]", "[gpu]", "[long]", "[after]", "[data]")


def _walk(p: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, p
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                yield from _walk(sp, path + (name,))


def _examples(text: str | None) -> list[str]:
    out, cur = [], ""
    for ln in (text or "").splitlines():
        s = ln.strip()
        if cur:
            cur += " " + s
        elif s.startswith("mbert-lab "):
            cur = s
        else:
            continue
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip()
            continue
        out.append(cur)
        cur = ""
    return out


def all_examples() -> list[tuple[str, list[str], str]]:
    """(id, argv, mark) for every distinct example, in help order."""
    seen, out = set(), []
    for path, p in _walk(build_parser()):
        for ex in _examples(p.epilog):
            code, _, comment = ex.partition(" #")
            argv = shlex.split(code)[1:]
            key = tuple(argv)
            if key in seen:
                continue
            seen.add(key)
            mark = next((m for m in MARKS if m in comment), "")
            out.append((f"{' '.join(path) or 'top'}:{len(out)}", argv, mark))
    return out


EXAMPLES = all_examples()


def test_there_are_examples_for_every_command():
    cmds = {argv[0] for _, argv, _ in EXAMPLES}
    parser_cmds = {path[0] for path, _ in _walk(build_parser()) if len(path) == 1}
    assert parser_cmds - cmds == set(), f"commands without --help examples: {parser_cmds - cmds}"


@pytest.mark.parametrize("argv", [e[1] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_cli_example_parses(argv):
    args = build_parser().parse_args(argv)
    assert getattr(args, "func", None) is not None


# ------------------------------------------------------------------ sample inputs


def _lines(path: Path, n: int) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[:n]


def _make_samples(d: Path, data: Path) -> None:
    tat = data / "tatoeba" / "v1"
    de, de_en = _lines(tat / "tatoeba.deu-eng.deu", 120), _lines(tat / "tatoeba.deu-eng.eng", 120)
    fr = _lines(tat / "tatoeba.fra-eng.fra", 120)
    es, es_en = _lines(tat / "tatoeba.spa-eng.spa", 120), _lines(tat / "tatoeba.spa-eng.eng", 120)

    def w(name: str, lines: list[str]) -> None:
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text("".join(x + "\n" for x in lines), encoding="utf-8")

    w("sentences.txt", de[:5])
    w("tokens.txt", [" ".join(x.split()) for x in de[:5]])
    w("de.txt", de)
    w("fr.txt", fr)
    w("es.txt", es)
    w("es-en.en.txt", es_en)
    w("en.txt", de_en)
    w("sentences.tsv", [f"de\t{x}" for x in de[:60]] + [f"fr\t{x}" for x in fr[:60]])
    w("sents.tsv", [f"de\t{x}" for x in de[:40]] + [f"en\t{x}" for x in de_en[:40]] + [f"fr\t{x}" for x in fr[:40]])
    w("more.tsv", [f"fr\t{x}" for x in fr[:20]])
    w("de.tsv", [f"d{i}\t{x}" for i, x in enumerate(de[:40])])
    w("en.tsv", [f"e{i}\t{x}" for i, x in enumerate(de_en[:40])])
    w("gold.tsv", [f"d{i}\te{i}" for i in range(40)])
    from mbert_lab.data.readers.records import write_records  # Parquet / JSON Lines inputs

    write_records(d / "corpus.parquet", [f"doc{i}" for i in range(5)], de[:5], id_column="doc_id", text_column="sentence")
    write_records(d / "de.parquet", [f"d{i}" for i in range(40)], de[:40])
    write_records(d / "en.jsonl", [f"e{i}" for i in range(40)], de_en[:40])
    w("my-dict.tsv", ["Haus\thouse", "Hund\tdog", "Katze\tcat", "Wasser\twater", "Buch\tbook", "Baum\ttree"])
    pud = data / "ud-pud"
    for name, src in (("fi_tdt-ud-test.conllu", "de"), ("et_edt-ud-test.conllu", "fr"), ("zh.conllu", "zh"),
                      ("fi_tdt-ud-train.conllu", "en")):
        blocks = (pud / f"{src}_pud-ud-test.conllu").read_text(encoding="utf-8").split("\n\n")[:60]
        (d / name).write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    wa = data / "word-alignment"
    pairs = _lines(wa / "enfr.src-tgt", 20)
    w("corpus.en", [p.split(" ||| ")[0] for p in pairs])
    w("corpus.fr", [p.split(" ||| ")[1] for p in pairs])
    w("data.src-tgt", pairs)
    w("raw.en", de_en[:10])
    w("train.src-tgt", [f"{e} ||| {x}" for e, x in zip(de_en[:40], de[:40])])
    w("train.en", de_en[:40])
    w("train.fr", fr[:40])
    w("raw.de", de[:10])
    w("my.src-tgt", pairs)
    w("my.gold", _lines(wa / "enfr.gold", len(pairs)))  # links of the first 20 pairs
    w("links.txt", ["0-0 1-1"] * len(pairs))
    shutil.copytree(ROOT / "examples", d / "examples")
    zh = _lines(tat / "tatoeba.cmn-eng.cmn", 30)
    w("index3.tsv", [f"de\t{x}" for x in de[:30]] + [f"fr\t{x}" for x in fr[:30]] + [f"zh\t{x}" for x in zh]
      + [f"en\t{x}" for x in de_en[:30]])
    (d / "my_studies.yaml").write_text(
        "study:\n  - study: align_eval\n    gold: [en-fr]\n    layers: 7\n    limit: 10\n", encoding="utf-8")


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory, data_root):
    d = tmp_path_factory.mktemp("help-examples")
    _make_samples(d, data_root)
    # The Tatoeba index the search examples read is built by a [long] example (6,000 sentences);
    # a small one of the same languages and layer stands in for it here.
    import os

    cwd = os.getcwd()
    os.chdir(d)
    try:
        assert main(["index", "build", "--input", "index3.tsv", "--layers", "12", "--out", "results/index/tatoeba3"]) == 0
    finally:
        os.chdir(cwd)
    return d


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("ex", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_cli_example_validates_or_runs(ex, sample_dir, monkeypatch, capsys, offline_encoder):
    _, argv, mark = ex
    monkeypatch.chdir(sample_dir)
    if mark in ("[hub]", "[gpu]", "[after]", "[data]"):
        build_parser().parse_args(argv)
        return
    if mark == "[long]":
        parsed = build_parser().parse_args(argv)
        if not hasattr(parsed, "print_config"):
            return  # parsed is all we can do without running it (e.g. the full demo)
        rc = main([*argv, "--print-config"])
        out = capsys.readouterr()
        assert rc == 0, out.err
        assert out.out.startswith("[[study]]"), out.out[:200]
        return
    rc = main(argv)
    out = capsys.readouterr()
    assert rc == 0, out.err[-2000:]
