"""``mbert-lab vocab``: tokenizer statistics, shared-vocabulary overlap, correlation with transfer
(study: ``vocab``, :mod:`mbert_lab.studies.vocabulary`).

Writes ``<out>/vocab.json`` (the study's Result, every tokenizer), ``<out>/comparison.md``
(tokenizers side by side) and per tokenizer ``<out>/<tokenizer-slug>/`` with ``table.md``,
``table.csv`` and the plots (PNG + SVG).
"""

from __future__ import annotations

import argparse

from .common import add_print_config, check_out, print_config, with_command

EPILOG = """examples:
  mbert-lab vocab                                   # offline tokenizer: PUD (7 langs), alignment sets, Tatoeba [long]
  mbert-lab vocab --tokenizer offline --tokenizer wordpiece-mirror --tatoeba none   # two tokenizers side by side [long]
  mbert-lab vocab --pud en,de,zh --tatoeba de,ja --tatoeba-max 200 --alignment none --no-transfer-data
  mbert-lab vocab --pud none --tatoeba none --alignment none --scores examples/vocab_pos_scores.csv
  mbert-lab vocab --corpus examples/vocab_corpus.tsv --no-transfer-data      # lang<TAB>text rows
  mbert-lab vocab --corpus de=de.txt --corpus zh=zh.conllu --no-transfer-data  # your own files
  mbert-lab vocab --tokenizer bert-base-multilingual-cased           # online (Hugging Face hub) [hub]

The de=de.txt / zh=zh.conllu example stands for the user's own files.
tokenizers: 'offline' (the offline model's XLM-R SentencePiece), 'wordpiece-mirror[:SIZE]'
(cased WordPiece trained here on a balanced Tatoeba sample, default 30000), or any Hugging Face
id / local folder with a fast tokenizer. --pud takes any language whose
ud-pud/<code>_pud-ud-test.conllu is under $MBERT_LAB_DATA; --tatoeba any tatoeba/v1 language.
Language codes: ISO 639-1 or 639-3 (stored as 639-3). --corpus LANG=FILE: '.conllu' files use
their gold segmentation, other files one sentence per line split on ASCII spaces (a blank line
is an error); --corpus FILE.tsv: lang<TAB>text rows. With --corpus, --pud/--tatoeba/--alignment
default to none.
Correlations (--scores) use every scored language with a corpus (the suite's test set first,
then --corpus, PUD, alignment, Tatoeba) and list the languages left out with the reason.
Measures for --measure: per language fertility, fertility_with_marker, continued_share,
continued_share_with_marker, unk_rate, chars_per_subword, distinct_subwords,
vocab_share_own_script; against the source language's training data: jaccard,
weighted_jaccard, seen_type, seen_token (Wu & Dredze); entity_overlap (Pires et al., NER).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "vocab",
        help="tokenizer statistics, shared-vocabulary overlap and its correlation with transfer",
        description=__doc__.split("\n\n")[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tokenizer", action="append", default=None,
                   help="tokenizer to measure (repeat for side by side; default: offline)")
    p.add_argument("--pud", default=None,
                   help="PUD languages, comma-separated, 'all' or 'none' (default: en,de,fr,es,ru,zh,ar)")
    p.add_argument("--tatoeba", default=None,
                   help="Tatoeba languages, comma-separated, 'all' or 'none' (default: all)")
    p.add_argument("--tatoeba-max", type=int, default=None, help="sentences per Tatoeba language (default: all)")
    p.add_argument("--alignment", default=None,
                   help="gold word-alignment sets whose non-English side is measured (gold segmentation, "
                        "e.g. Japanese): comma-separated of enfr,roen,jaen, 'all' or 'none' (default: all)")
    p.add_argument("--corpus", action="append", default=[], metavar="LANG=FILE",
                   help="a language's corpus (.conllu: gold words; else one sentence per line), or a "
                        ".tsv of lang<TAB>text rows (repeatable)")
    p.add_argument("--no-transfer-data", action="store_true",
                   help="skip the UD-POS (Wu & Dredze) and NER (Pires et al.) measures")
    p.add_argument("--source", default="en", help="source (training) language of the transfer (default: en)")
    p.add_argument("--scores", default=None, help="per-language transfer scores: JSON results file or CSV 'lang,score'")
    p.add_argument("--score-field", default=None, help="metric name inside the JSON (default: accuracy/f1/score/mean)")
    p.add_argument("--suite", default="pud",
                   help="POS target test data for the transfer measures, and the suite read from a "
                        "transfer results file: pud or xtreme-dev (default: pud)")
    p.add_argument("--measure", action="append", default=None,
                   help="measure(s) to correlate (repeatable; default: seen_token, seen_type, jaccard, "
                        "weighted_jaccard, fertility, continued_share)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples, >= 1 (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--format", default="md", help="table printed on stdout: md or csv (default md)")
    p.add_argument("--out", default="results/vocab", help="output folder (default: results/vocab)")
    add_print_config(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ..studies.vocabulary import DEFAULT_MEASURES, VocabConfig

    return VocabConfig(
        tokenizers=tuple(args.tokenizer or ("offline",)),
        pud=args.pud, tatoeba=args.tatoeba, tatoeba_max=args.tatoeba_max, alignment=args.alignment,
        corpora=tuple(args.corpus), transfer_data=not args.no_transfer_data, source=args.source,
        suite=args.suite, scores=args.scores, score_field=args.score_field,
        measures=tuple(args.measure or DEFAULT_MEASURES), n_boot=args.n_boot, seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import ConfigError
    from ..io import atomic_write_text
    from ..plots.vocabulary import plot_tokenizer, slug
    from ..studies.vocabulary import correlation_line, stats_table, vocab

    cfg = config_from_args(args)
    if args.format not in ("md", "csv"):
        raise ConfigError(f"--format: unknown value '{args.format}'; valid choices: md, csv")
    if print_config(args, cfg, out=args.out):
        return 0
    check_out("--out", args.out)
    result = with_command(vocab(cfg))
    out = Path(args.out)
    path = result.save(out)
    for rep in result.tokenizers:
        spec = rep.tokenizer.spec
        tdir = out / slug(spec)
        plots = plot_tokenizer(rep, tdir)
        atomic_write_text(tdir / "table.md", result.table(spec, "md"))
        atomic_write_text(tdir / "table.csv", result.table(spec, "csv"))
        print(f"[{spec}] wrote {tdir / 'table.md'}, {tdir / 'table.csv'}, {len(plots)} plot files")
        first = next(iter(rep.groups.values()), None)
        if first is not None:
            print(stats_table(first.stats, args.format, spec))
        for c in rep.correlations:
            print("  " + correlation_line(c))
        for m, why in rep.correlations_skipped.items():
            print(f"  {m}: not computed: {why}")
    atomic_write_text(out / "comparison.md", result.comparison_markdown())
    print(f"wrote {path} and {out / 'comparison.md'}")
    return 0
