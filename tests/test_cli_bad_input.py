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
    (d / "sents.tsv").write_text("".join(f"de\tHallo Welt {i}.\nfr\tBonjour {i}.\n" for i in range(4)), encoding="utf-8")
    (d / "ids.de").write_text("d1\tHallo Welt.\nd2\tGuten Tag.\n", encoding="utf-8")
    (d / "ids.en").write_text("e1\tHello world.\ne2\tGood day.\n", encoding="utf-8")
    (d / "gold.tsv").write_text("d1\te1\nd2\te2\n", encoding="utf-8")
    (d / "dict.tsv").write_text("Haus\thouse\nHund\tdog\n", encoding="utf-8")
    (d / "scores.csv").write_text("lang,score\nde,88.5\nfr,88.2\n", encoding="utf-8")
    (d / "blank.tsv").write_text("de\tHallo.\n\nfr\tSalut.\n", encoding="utf-8")
    (d / "latin1.tsv").write_bytes(b"de\tcaf\xe9\n")
    gold = (Path(os.environ.get("MBERT_LAB_DATA", "")) / "word-alignment" / "enfr.src-tgt").read_text(encoding="utf-8")
    (d / "leak.src-tgt").write_text(gold.splitlines()[3] + "\n", encoding="utf-8")  # a gold test pair
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
    ("extract-bad-utf8-text", ["extract", "--text", BAD_UTF8_ARG, "--out", "{o}/v.npz"], "--text: not valid UTF-8"),
    ("extract-empty-text", ["extract", "--text", " ", "--out", "{o}/v.npz"], "texts[1]: empty text"),
    ("extract-bad-output", [*EXTRACT[:-2], "--outputs", "sentence,words", "--out", "{o}/v.npz"], "outputs: unknown value 'words'"),
    ("extract-bad-pooling", [*EXTRACT, "--word-pooling", "max"], "word_pooling: unknown value 'max'"),
    # --- extract: outputs
    ("extract-out-folder", ["extract", "--file", "{d}/good.txt", "--out", "{d}/folder"], "--out: is a folder"),
    ("extract-out-under-file", ["extract", "--file", "{d}/good.txt", "--out", "{d}/afile/v.npz"], "is not a folder"),
    # --- demo
    ("demo-max-pairs-0", ["demo", "--out", "{o}/demo", "--max-pairs", "0"], "max_pairs"),
    ("demo-max-pairs-neg", ["demo", "--out", "{o}/demo", "--max-pairs", "-5"], "max_pairs"),
    ("demo-unknown-language", ["demo", "--out", "{o}/demo", "--languages", "de,zz"], "unknown demo language 'zz'"),
    ("demo-unknown-section", ["demo", "--out", "{o}/demo", "--sections", "vocab"], "unknown demo section 'vocab'"),
    ("demo-device", ["demo", "--out", "{o}/demo", "--device", "cuda"], "device: 'cuda' asked for"),
    ("demo-threads-0", ["demo", "--out", "{o}/demo", "--threads", "0"], "threads"),
    ("demo-out-is-file", ["demo", "--out", "{d}/afile"], "exists and is not a folder"),
    ("demo-out-unwritable", ["demo", "--out", "/proc/mbert-lab/demo"], "/proc is not writable"),
    # --- run (study files)
    ("run-missing-file", ["run", "{d}/nope.toml", "--out", "{o}/r"], "nope.toml: no such file"),
    ("run-bad-value", ["run", "{d}/study.toml", "--out", "{o}/r"], "study #1 (extract): study 'extract': batch_size"),
    ("run-typo-key", ["run", "{d}/typo.toml", "--out", "{o}/r"], "unknown key 'layer' for study 'extract' (did you mean 'layers'?)"),
    ("run-not-a-study-file", ["run", "{d}/study.json", "--out", "{o}/r"], "a study file ends in .toml, .yaml or .yml"),
    ("run-out-unwritable", ["run", "{d}/typo.toml", "--out", "/proc/x"], "layer"),
]

# Commands that run a model: a valid base command line each (its inputs exist), so that any
# failure below comes from the one bad value a case adds.
MODEL_COMMANDS: dict[str, list[str]] = {
    "extract": EXTRACT,
    "align": ["align", "--pairs", "{d}/pairs.src-tgt", "--layers", "7", "--out", "{o}/links.txt"],
    "align-eval": ["align-eval", "--gold", "en-fr", "--layers", "7", "--limit", "5", "--out", "{o}/ae"],
    "centroids": ["centroids", "--tsv", "{d}/sents.tsv", "--min-sentences", "4", "--no-geometry", "--out", "{o}/c"],
    "index-build": ["index", "build", "--input", "{d}/sents.tsv", "--layers", "8", "--out", "{o}/idx"],
    "index-mine": ["index", "mine", "--src", "{d}/a.en", "--tgt", "{d}/good.txt", "--out", "{o}/p.tsv"],
    "eval-tatoeba": ["index", "eval", "tatoeba", "--langs", "de", "--out", "{o}/t"],
    "eval-bli": ["index", "eval", "bli", "--dictionary", "{d}/dict.tsv", "--out", "{o}/b"],
    "eval-bucc": ["index", "eval", "bucc", "--src", "{d}/ids.de", "--tgt", "{d}/ids.en", "--gold", "{d}/gold.tsv", "--out", "{o}/bu"],
    "eval-pool": ["index", "eval", "pool", "--langs", "de,fr", "--out", "{o}/po"],
}
# Where each command's output goes: (option index in argv of the --out value, "dir" | "file").
MODEL_OPTION_CASES: list[tuple[str, list[str], str]] = [
    ("batch-size-0", ["--batch-size", "0"], "batch_size: must be a whole number in 1..65536, got 0"),
    ("batch-size-neg", ["--batch-size", "-4"], "batch_size"),
    ("batch-size-word", ["--batch-size", "many"], "argument --batch-size: invalid int value"),
    ("max-length-0", ["--max-length", "0"], "max_length: must be a whole number >= 8, got 0"),
    ("max-length-neg", ["--max-length", "-1"], "max_length"),
    ("threads-0", ["--threads", "0"], "threads: must be a whole number in 1..1024, got 0"),
    ("threads-neg", ["--threads", "-2"], "threads"),
    ("device-unknown", ["--device", "gpu"], "device: unknown device 'gpu'"),
    ("device-bad-index", ["--device", "cuda:x"], "device: unknown device 'cuda:x'"),
    ("device-cuda", ["--device", "cuda"], "device: 'cuda' asked for"),
    ("layers-word", ["--layers", "eight"], "layers: bad value 'eight'"),
    ("layers-negative", ["--layers", "-1"], "layers: layers are >= 0"),
    ("layers-twice", ["--layers", "4,4"], "layers: a layer is listed twice"),
    ("layers-empty", ["--layers", ","], "layers: no layers given"),
    ("model-bad-utf8", ["--model", BAD_UTF8_ARG], "not valid UTF-8"),
    ("revision-offline", ["--revision", "main"], "revision: the offline model is built locally"),
    ("model-missing-folder", ["--model", "./no/such/model"], "no such folder"),
    ("model-a-file", ["--model", "{d}/afile"], "model"),
    ("dtype-unknown", ["--dtype", "fp16"], "dtype: unknown value 'fp16'"),
    ("store-dtype-unknown", ["--store-dtype", "int4"], "store_dtype: unknown value 'int4'"),
]
for cmd, base in MODEL_COMMANDS.items():
    for cid, extra, frag in MODEL_OPTION_CASES:
        CASES.append((f"{cmd}-{cid}", [*base, *extra], frag))
    out_at = base.index("--out") + 1
    for cid, value, frag in [
        ("out-unwritable", "/proc/mbert-lab/x", "/proc is not writable"),
        ("out-under-a-file", "{d}/afile/x", "is not a folder"),
    ]:
        CASES.append((f"{cmd}-{cid}", [*base[:out_at], value, *base[out_at + 1:]], frag))

# Command-specific bad values: counts, ranges, choices, paths, languages.
SPECIFIC: list[tuple[str, list[str], str]] = [
    # align
    ("align-pairs-missing", ["align", "--pairs", "{d}/nope", "--out", "{o}/l.txt"], "nope"),
    ("align-pairs-folder", ["align", "--pairs", "{d}/folder", "--out", "{o}/l.txt"], "is a folder"),
    ("align-pairs-nosep", ["align", "--pairs", "{d}/nosep.src-tgt", "--out", "{o}/l.txt"], "nosep.src-tgt:1"),
    ("align-pairs-latin1", ["align", "--pairs", "{d}/latin1.txt", "--out", "{o}/l.txt"], "latin1.txt:2: not valid UTF-8"),
    ("align-counts-differ", ["align", "--src", "{d}/a.en", "--tgt", "{d}/a.fr", "--out", "{o}/l.txt"], "line counts differ"),
    ("align-many-layers", ["align", "--pairs", "{d}/pairs.src-tgt", "--layers", "6,7", "--out", "{o}/l.txt"], "layers"),
    ("align-method", ["align", "--pairs", "{d}/pairs.src-tgt", "--method", "argmaxx", "--out", "{o}/l.txt"], "argmaxx"),
    ("align-format", ["align", "--pairs", "{d}/pairs.src-tgt", "--format", "csv", "--out", "{o}/l.txt"], "argument --format"),
    ("align-level", ["align", "--pairs", "{d}/pairs.src-tgt", "--level", "char", "--out", "{o}/l.txt"], "level"),
    ("align-heatmap-0", ["align", "--pairs", "{d}/pairs.src-tgt", "--heatmap", "0", "--out", "{o}/l.txt"], "heatmap"),
    ("align-heatmap-beyond", ["align", "--pairs", "{d}/pairs.src-tgt", "--heatmap", "9", "--out", "{o}/l.txt"], "heatmap"),
    ("align-null-threshold", ["align", "--pairs", "{d}/pairs.src-tgt", "--null-threshold", "2", "--out", "{o}/l.txt"], "null_threshold"),
    ("align-distortion", ["align", "--pairs", "{d}/pairs.src-tgt", "--distortion", "-1", "--out", "{o}/l.txt"], "distortion"),
    ("align-itermax-alpha", ["align", "--pairs", "{d}/pairs.src-tgt", "--itermax-alpha", "1.5", "--out", "{o}/l.txt"], "itermax_alpha"),
    ("align-itermax-iter", ["align", "--pairs", "{d}/pairs.src-tgt", "--itermax-iterations", "0", "--out", "{o}/l.txt"], "itermax_iterations"),
    ("align-softmax-threshold", ["align", "--pairs", "{d}/pairs.src-tgt", "--softmax-threshold", "-0.1", "--out", "{o}/l.txt"], "softmax_threshold"),
    ("align-out-folder", ["align", "--pairs", "{d}/pairs.src-tgt", "--out", "{d}/folder"], "is a folder"),
    # align-eval
    ("ae-limit-neg", ["align-eval", "--gold", "en-fr", "--limit", "-5", "--out", "{o}/a"], "limit"),
    ("ae-limit-0", ["align-eval", "--gold", "en-fr", "--limit", "0", "--out", "{o}/a"], "limit"),
    ("ae-gold-unknown", ["align-eval", "--gold", "en-xx", "--out", "{o}/a"], "en-xx"),
    ("ae-gold-folder", ["align-eval", "--gold", "{d}/folder", "--out", "{o}/a"], "is a folder"),
    ("ae-gold-empty", ["align-eval", "--gold", "{d}/empty.txt", "--pairs", "{d}/pairs.src-tgt", "--out", "{o}/a"], "empty.txt"),
    ("ae-gold-index", ["align-eval", "--gold", "en-fr", "--gold-index", "2", "--out", "{o}/a"], "gold_index"),
    ("ae-dev-fraction-0", ["align-eval", "--gold", "en-fr", "--dev-fraction", "0", "--out", "{o}/a"], "dev_fraction"),
    ("ae-dev-fraction-1", ["align-eval", "--gold", "en-fr", "--dev-fraction", "1", "--out", "{o}/a"], "dev_fraction"),
    ("ae-pred-missing", ["align-eval", "--gold", "en-fr", "--pred", "{d}/nope.txt", "--out", "{o}/a"], "nope.txt"),
    ("ae-levels", ["align-eval", "--gold", "en-fr", "--level", "subword,chars", "--out", "{o}/a"], "chars"),
    ("ae-out-is-file", ["align-eval", "--gold", "en-fr", "--out", "{d}/afile"], "exists and is not a folder"),
    # centroids
    ("cen-file-missing", ["centroids", "--file", "de={d}/nope.txt", "--file", "fr={d}/good.txt", "--out", "{o}/c"], "nope.txt"),
    ("cen-file-folder", ["centroids", "--file", "de={d}/folder", "--file", "fr={d}/good.txt", "--out", "{o}/c"], "is a folder"),
    ("cen-file-no-lang", ["centroids", "--file", "{d}/good.txt", "--out", "{o}/c"], "LANG=PATH"),
    ("cen-file-blank", ["centroids", "--file", "de={d}/blank.txt", "--file", "fr={d}/good.txt", "--no-geometry", "--out", "{o}/c"], "blank.txt:2"),
    ("cen-tsv-latin1", ["centroids", "--tsv", "{d}/latin1.tsv", "--no-geometry", "--out", "{o}/c"], "latin1.tsv:1: not valid UTF-8"),
    ("cen-tsv-blank", ["centroids", "--tsv", "{d}/blank.tsv", "--no-geometry", "--out", "{o}/c"], "blank.tsv:2"),
    ("cen-lang-unknown", ["centroids", "--languages", "deu,zzz", "--out", "{o}/c"], "unknown language 'zzz'"),
    ("cen-min-sentences-0", ["centroids", "--tsv", "{d}/sents.tsv", "--min-sentences", "0", "--out", "{o}/c"], "min_sentences"),
    ("cen-max-sentences-neg", ["centroids", "--tsv", "{d}/sents.tsv", "--max-sentences", "-1", "--out", "{o}/c"], "max_sentences"),
    ("cen-train-fraction", ["centroids", "--tsv", "{d}/sents.tsv", "--train-fraction", "1.5", "--out", "{o}/c"], "train_fraction"),
    ("cen-dev-fraction", ["centroids", "--tsv", "{d}/sents.tsv", "--dev-fraction", "-0.1", "--out", "{o}/c"], "dev_fraction"),
    ("cen-pooling", ["centroids", "--tsv", "{d}/sents.tsv", "--pooling", "max", "--out", "{o}/c"], "pooling"),
    ("cen-metric", ["centroids", "--tsv", "{d}/sents.tsv", "--metric", "manhattan", "--out", "{o}/c"], "metric"),
    ("cen-linkage", ["centroids", "--tsv", "{d}/sents.tsv", "--linkage", "ward2", "--out", "{o}/c"], "linkage"),
    ("cen-probe-c", ["centroids", "--tsv", "{d}/sents.tsv", "--probe-c", "0", "--out", "{o}/c"], "probe_c"),
    ("cen-probe-max-iter", ["centroids", "--tsv", "{d}/sents.tsv", "--probe-max-iter", "0", "--out", "{o}/c"], "probe_max_iter"),
    ("cen-pud-sentences", ["centroids", "--tsv", "{d}/sents.tsv", "--pud-sentences", "-3", "--out", "{o}/c"], "pud_sentences"),
    ("cen-projection", ["centroids", "--tsv", "{d}/sents.tsv", "--projection", "magic", "--out", "{o}/c"], "projection"),
    ("cen-plot-layers", ["centroids", "--tsv", "{d}/sents.tsv", "--plot-layers", "x", "--out", "{o}/c"], "--plot-layers: bad value 'x'"),
    ("cen-tatoeba-folder-missing", ["centroids", "--tatoeba", "{d}/nope", "--out", "{o}/c"], "nope"),
    # vocab
    ("voc-tatoeba-max-0", ["vocab", "--tatoeba-max", "0", "--out", "{o}/v"], "tatoeba_max"),
    ("voc-tatoeba-max-neg", ["vocab", "--tatoeba-max", "-5", "--out", "{o}/v"], "tatoeba_max"),
    ("voc-n-boot-neg", ["vocab", "--n-boot", "-1", "--out", "{o}/v"], "n_boot"),
    ("voc-n-boot-0", ["vocab", "--n-boot", "0", "--out", "{o}/v"], "n_boot"),
    ("voc-pud-unknown", ["vocab", "--pud", "en,zz", "--out", "{o}/v"], "unknown language 'zz'"),
    ("voc-tatoeba-unknown", ["vocab", "--tatoeba", "zzz", "--out", "{o}/v"], "unknown language 'zzz'"),
    ("voc-corpus-missing", ["vocab", "--corpus", "de={d}/nope.txt", "--out", "{o}/v"], "nope.txt"),
    ("voc-corpus-folder", ["vocab", "--corpus", "de={d}/folder", "--out", "{o}/v"], "is a folder"),
    ("voc-corpus-bad-code", ["vocab", "--corpus", "z!={d}/good.txt", "--out", "{o}/v"], "'z!' is not a language code"),
    ("voc-corpus-latin1", ["vocab", "--corpus", "de={d}/latin1.txt", "--no-transfer-data", "--out", "{o}/v"], "latin1.txt:2"),
    ("voc-scores-missing", ["vocab", "--scores", "{d}/nope.csv", "--out", "{o}/v"], "nope.csv"),
    ("voc-format", ["vocab", "--format", "xml", "--out", "{o}/v"], "format"),
    ("voc-measure", ["vocab", "--measure", "bogus", "--out", "{o}/v"], "bogus"),
    ("voc-suite", ["vocab", "--suite", "bogus", "--out", "{o}/v"], "bogus"),
    ("voc-tokenizer-missing", ["vocab", "--tokenizer", "./no/such/tok", "--out", "{o}/v"], "tok"),
    ("voc-out-unwritable", ["vocab", "--out", "/proc/mbert-lab/v"], "/proc is not writable"),
    ("voc-out-is-file", ["vocab", "--out", "{d}/afile"], "exists and is not a folder"),
    # index build / search / mine
    ("ib-input-missing", ["index", "build", "--input", "{d}/nope.tsv", "--out", "{o}/i"], "nope.tsv"),
    ("ib-input-folder", ["index", "build", "--input", "{d}/folder", "--out", "{o}/i"], "is a folder"),
    ("ib-input-latin1", ["index", "build", "--input", "{d}/latin1.tsv", "--out", "{o}/i"], "latin1.tsv:1"),
    ("ib-input-blank", ["index", "build", "--input", "{d}/blank.tsv", "--out", "{o}/i"], "blank.tsv:2"),
    ("ib-unit", ["index", "build", "--input", "{d}/sents.tsv", "--unit", "char", "--out", "{o}/i"], "unit"),
    ("ib-transform", ["index", "build", "--input", "{d}/sents.tsv", "--transform", "rotate", "--out", "{o}/i"], "transform"),
    ("ib-memory", ["index", "build", "--input", "{d}/sents.tsv", "--memory", "lots", "--out", "{o}/i"], "memory"),
    ("ib-target-recall-7", ["index", "build", "--input", "{d}/sents.tsv", "--target-recall", "7", "--out", "{o}/i"], "target_recall"),
    ("ib-target-recall-0", ["index", "build", "--input", "{d}/sents.tsv", "--target-recall", "0", "--out", "{o}/i"], "target_recall"),
    ("ib-hold-out-neg", ["index", "build", "--input", "{d}/sents.tsv", "--hold-out", "-10", "--out", "{o}/i"], "hold_out"),
    ("ib-tatoeba-unknown", ["index", "build", "--tatoeba", "de,zzz", "--out", "{o}/i"], "unknown language 'zzz'"),
    ("ib-out-is-file", ["index", "build", "--input", "{d}/sents.tsv", "--out", "{d}/afile"], "afile"),
    ("is-index-missing", ["index", "search", "--lang", "en", "--index", "{d}/nope", "hello"], "nope"),
    ("is-index-file", ["index", "search", "--lang", "en", "--index", "{d}/afile", "hello"], "afile"),
    ("is-k-0", ["index", "search", "--lang", "en", "--index", "{d}/folder", "-k", "0", "hello"], "k"),
    ("is-bad-utf8", ["index", "search", "--lang", "en", "--index", "{d}/folder", BAD_UTF8_ARG], "not valid UTF-8"),
    ("im-src-missing", ["index", "mine", "--src", "{d}/nope", "--tgt", "{d}/good.txt", "--out", "{o}/p.tsv"], "nope"),
    ("im-src-folder", ["index", "mine", "--src", "{d}/folder", "--tgt", "{d}/good.txt", "--out", "{o}/p.tsv"], "is a folder"),
    ("im-src-blank", ["index", "mine", "--src", "{d}/blank.txt", "--tgt", "{d}/good.txt", "--out", "{o}/p.tsv"], "blank.txt:2"),
    ("im-k-0", ["index", "mine", "--src", "{d}/a.en", "--tgt", "{d}/good.txt", "-k", "0", "--out", "{o}/p.tsv"], "k"),
    ("im-margin", ["index", "mine", "--src", "{d}/a.en", "--tgt", "{d}/good.txt", "--margin", "cosine2", "--out", "{o}/p.tsv"], "margin"),
    ("im-mode", ["index", "mine", "--src", "{d}/a.en", "--tgt", "{d}/good.txt", "--mode", "both", "--out", "{o}/p.tsv"], "mode"),
    ("im-dev-fraction", ["index", "mine", "--src", "{d}/ids.de", "--tgt", "{d}/ids.en", "--with-ids", "--gold", "{d}/gold.tsv", "--dev-fraction", "2", "--out", "{o}/p.tsv"], "dev_fraction"),
    ("im-gold-missing", ["index", "mine", "--src", "{d}/ids.de", "--tgt", "{d}/ids.en", "--with-ids", "--gold", "{d}/nope.tsv", "--out", "{o}/p.tsv"], "nope.tsv"),
    ("im-ids-malformed", ["index", "mine", "--src", "{d}/good.txt", "--tgt", "{d}/ids.en", "--with-ids", "--out", "{o}/p.tsv"], "good.txt:1"),
    ("im-out-folder", ["index", "mine", "--src", "{d}/a.en", "--tgt", "{d}/good.txt", "--out", "{d}/folder"], "is a folder"),
    # index eval
    ("et-langs-unknown", ["index", "eval", "tatoeba", "--langs", "de,zzz", "--out", "{o}/t"], "unknown language 'zzz'"),
    ("et-margin-k-0", ["index", "eval", "tatoeba", "--langs", "de", "--margin-k", "0", "--out", "{o}/t"], "margin_k"),
    ("et-transforms", ["index", "eval", "tatoeba", "--langs", "de", "--transforms", "none,twist", "--out", "{o}/t"], "twist"),
    ("et-dev-fraction", ["index", "eval", "tatoeba", "--langs", "de", "--dev-fraction", "1", "--out", "{o}/t"], "dev_fraction"),
    ("eb-pair-unknown", ["index", "eval", "bli", "--pair", "xx-yy", "--out", "{o}/b"], "xx-yy"),
    ("eb-dict-missing", ["index", "eval", "bli", "--dictionary", "{d}/nope.tsv", "--out", "{o}/b"], "nope.tsv"),
    ("eb-dict-blank", ["index", "eval", "bli", "--dictionary", "{d}/blank.txt", "--out", "{o}/b"], "blank.txt"),
    ("eb-csls-k-0", ["index", "eval", "bli", "--dictionary", "{d}/dict.tsv", "--csls-k", "0", "--out", "{o}/b"], "csls_k"),
    ("eb-methods", ["index", "eval", "bli", "--dictionary", "{d}/dict.tsv", "--methods", "cosine,l2", "--out", "{o}/b"], "l2"),
    ("ebu-gold-missing", ["index", "eval", "bucc", "--src", "{d}/ids.de", "--tgt", "{d}/ids.en", "--gold", "{d}/nope", "--out", "{o}/b"], "nope"),
    ("ebu-src-folder", ["index", "eval", "bucc", "--src", "{d}/folder", "--tgt", "{d}/ids.en", "--gold", "{d}/gold.tsv", "--out", "{o}/b"], "is a folder"),
    ("ebu-k-neg", ["index", "eval", "bucc", "--src", "{d}/ids.de", "--tgt", "{d}/ids.en", "--gold", "{d}/gold.tsv", "-k", "-1", "--out", "{o}/b"], "k"),
    ("ep-langs-unknown", ["index", "eval", "pool", "--langs", "zzz", "--out", "{o}/p"], "unknown language 'zzz'"),
    ("er-index-missing", ["index", "eval", "recall", "--index", "{d}/nope", "--out", "{o}/r"], "nope"),
    # neighbours
    ("nb-index-missing", ["neighbours", "hello", "--lang", "en", "--index", "{d}/nope"], "nope"),
    ("nb-k-0", ["neighbours", "hello", "--lang", "en", "--index", "{d}/folder", "-k", "0"], "k"),
    ("nb-bad-utf8", ["neighbours", BAD_UTF8_ARG, "--lang", "en", "--index", "{d}/folder"], "not valid UTF-8"),
    ("nb-empty-text", ["neighbours", " ", "--lang", "en", "--index", "{d}/folder"], "empty"),
    # data, model
    ("data-card-unknown", ["data", "card", "tatoebaa"], "did you mean 'tatoeba'"),
    ("data-get-unknown", ["data", "get", "xnlii"], "did you mean 'xnli'"),
    ("model-info-cuda", ["model", "info", "--device", "cuda"], "device: 'cuda' asked for"),
    ("model-info-revision", ["model", "info", "--revision", "main"], "revision: the offline model is built locally"),
    ("model-info-threads", ["model", "info", "--threads", "0"], "threads"),
    # transfer
    ("tr-task", ["transfer", "--task", "pos2", "--out", "{o}/t"], "pos2"),
    ("tr-eval-unknown", ["transfer", "--task", "pos", "--eval", "en,zz", "--out", "{o}/t"], "unknown language 'zz'"),
    ("tr-max-train-0", ["transfer", "--task", "pos", "--max-train", "0", "--out", "{o}/t"], "max_train: must be a whole number >= 1, got 0"),
    ("tr-max-eval-0", ["transfer", "--task", "pos", "--max-eval", "0", "--out", "{o}/t"], "max_eval"),
    ("tr-max-eval-neg", ["transfer", "--task", "pos", "--max-eval", "-5", "--out", "{o}/t"], "max_eval"),
    ("tr-seeds-0", ["transfer", "--task", "pos", "--seeds", "0", "--out", "{o}/t"], "seeds"),
    ("tr-epochs-0", ["transfer", "--task", "pos", "--epochs", "0", "--out", "{o}/t"], "epochs"),
    ("tr-lr-neg", ["transfer", "--task", "pos", "--lr", "-1", "--out", "{o}/t"], "lr"),
    ("tr-mode", ["transfer", "--task", "pos", "--mode", "half", "--out", "{o}/t"], "mode"),
    ("tr-dtype-finetune", ["transfer", "--task", "pos", "--mode", "full", "--dtype", "bf16", "--out", "{o}/t"], "dtype"),
    ("tr-dtype-unknown", ["transfer", "--task", "pos", "--dtype", "fp8", "--out", "{o}/t"], "dtype"),
    ("tr-batch-size-0", ["transfer", "--task", "pos", "--batch-size", "0", "--out", "{o}/t"], "batch_size"),
    ("tr-threads-0", ["transfer", "--task", "pos", "--threads", "0", "--out", "{o}/t"], "threads"),
    ("tr-device-cuda", ["transfer", "--task", "pos", "--device", "cuda", "--out", "{o}/t"], "device"),
    ("tr-train-file-missing", ["transfer", "--task", "pos", "--train-file", "{d}/nope.conllu", "--out", "{o}/t"], "nope.conllu"),
    ("tr-eval-file-folder", ["transfer", "--task", "pos", "--eval-file", "de={d}/folder", "--out", "{o}/t"], "is a folder"),
    ("tr-source-malformed", ["transfer", "--task", "xnli", "--source", "xnli=facebook/xnli", "--out", "{o}/t"], "source"),
    ("tr-masakhaner", ["transfer", "--task", "ner", "--masakhaner", "v3", "--out", "{o}/t"], "masakhaner"),
    ("tr-eval-no-checkpoint", ["transfer", "eval", "--task", "pos", "--out", "{o}/t"], "--checkpoint"),
    ("tr-eval-checkpoint-missing", ["transfer", "eval", "--task", "pos", "--checkpoint", "{d}/nope", "--out", "{o}/t"], "nope"),
    ("tr-eval-training-option", ["transfer", "eval", "--task", "pos", "--checkpoint", "{d}/folder", "--lr", "1e-3", "--out", "{o}/t"], "--lr: not an option of `transfer eval`"),
    ("tr-out-unwritable", ["transfer", "--task", "pos", "--out", "/proc/mbert-lab/t"], "/proc is not writable"),
    ("tr-out-is-file", ["transfer", "--task", "pos", "--out", "{d}/afile"], "exists and is not a folder"),
    ("tr-old-flag", ["transfer", "--task", "pos", "--eval-layers", "8", "--out", "{o}/t"], "--eval-layers is gone"),
    # align-train
    ("at-no-data", ["align-train", "--out", "{o}/at"], "give the parallel data"),
    ("at-parallel-missing", ["align-train", "--parallel", "{d}/nope.src-tgt", "--out", "{o}/at"], "nope.src-tgt"),
    ("at-parallel-folder", ["align-train", "--parallel", "{d}/folder", "--out", "{o}/at"], "is a folder"),
    ("at-parallel-three", ["align-train", "--parallel", "{d}/a.en", "{d}/a.fr", "{d}/good.txt", "--out", "{o}/at"], "parallel"),
    ("at-tatoeba-unknown", ["align-train", "--tatoeba", "de,zzz", "--out", "{o}/at"], "zzz"),
    ("at-embedded-unknown", ["align-train", "--embedded", "xx", "--out", "{o}/at"], "xx"),
    ("at-steps-0", ["align-train", "--tatoeba", "de", "--steps", "0", "--out", "{o}/at"], "steps"),
    ("at-lr-0", ["align-train", "--tatoeba", "de", "--lr", "0", "--out", "{o}/at"], "lr"),
    ("at-pairs-per-lang-neg", ["align-train", "--tatoeba", "de", "--pairs-per-lang", "-1", "--out", "{o}/at"], "pairs_per_lang"),
    ("at-objectives", ["align-train", "--tatoeba", "de", "--objectives", "so,mlm2", "--out", "{o}/at"], "mlm2"),
    ("at-threshold", ["align-train", "--tatoeba", "de", "--threshold", "1.5", "--out", "{o}/at"], "threshold"),
    ("at-temperature", ["align-train", "--tatoeba", "de", "--temperature", "0", "--out", "{o}/at"], "temperature"),
    ("at-save-every-0", ["align-train", "--tatoeba", "de", "--save-every", "0", "--out", "{o}/at"], "save_every"),
    ("at-eval-every-neg", ["align-train", "--tatoeba", "de", "--eval-every", "-1", "--out", "{o}/at"], "eval_every"),
    ("at-gold-unknown", ["align-train", "--tatoeba", "de", "--gold", "en-xx", "--out", "{o}/at"], "en-xx"),
    ("at-gold-limit-0", ["align-train", "--tatoeba", "de", "--gold-limit", "0", "--out", "{o}/at"], "gold_limit"),
    ("at-select", ["align-train", "--tatoeba", "de", "--select", "first", "--out", "{o}/at"], "argument --select"),
    ("at-layers-many", ["align-train", "--tatoeba", "de", "--layers", "7,8", "--out", "{o}/at"], "layers"),
    ("at-dtype", ["align-train", "--tatoeba", "de", "--dtype", "bf16", "--out", "{o}/at"], "dtype"),
    ("at-frozen", ["align-train", "--tatoeba", "de", "--frozen-layers", "x", "--out", "{o}/at"], "frozen"),
    ("at-gold-leak", ["align-train", "--parallel", "{d}/leak.src-tgt", "--out", "{o}/at"], "leak.src-tgt:1"),
    ("at-out-unwritable", ["align-train", "--tatoeba", "de", "--out", "/proc/mbert-lab/at"], "/proc is not writable"),
    ("at-out-is-file", ["align-train", "--tatoeba", "de", "--out", "{d}/afile"], "not a folder"),
    ("unknown-command", ["alignn"], "invalid choice: 'alignn'"),
    ("unknown-option", ["extract", "--text", "a", "--out", "{o}/v.npz", "--layerz", "8"], "unrecognized arguments: --layerz 8"),
]
CASES.extend(SPECIFIC)


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
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's usage errors
        rc = e.code
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
    assert len(ids) >= 300
