"""``mbert-lab align`` and ``mbert-lab align-eval``: flags -> AlignConfig / AlignEvalConfig ->
:mod:`mbert_lab.studies.alignment` -> links file / result folder, plots, printed tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_model_options, check_out, model_fields, print_config, split_list, with_command

EPILOG_ALIGN = """examples:
  # two line-aligned, whitespace-tokenized files -> Pharaoh links (0-indexed, source first)
  mbert-lab align --src corpus.en --tgt corpus.fr --layers 7 --out links.txt
  # one 'src ||| tgt' file, IterMax at word level, links with scores, a heatmap of pair 3
  mbert-lab align --pairs data.src-tgt --method itermax --level word --format pharaoh-scores \\
      --out links.txt --heatmap 3 --heatmap-out heat_pair3
  # raw (untokenized) text, several methods' links as JSONL with words and confidences
  mbert-lab align --src raw.en --tgt raw.de --input raw --method argmax,match --format jsonl --out links.jsonl

Pharaoh with scores writes 'i-j:score'. JSONL: one object per pair with src/tgt words,
links, scores, confidence (mean link score) and coverage (share of words aligned).
--layers names ONE layer here (default 8; 'last' works).
"""

EPILOG_EVAL = """examples:
  # AER/P/R/F1 of SimAlign's three methods on the en-fr gold set at layer 7
  mbert-lab align-eval --gold en-fr --layers 7 --out results/align-eval/enfr
  # every method, every layer, both levels, three gold sets: one extraction per set
  mbert-lab align-eval --gold en-fr,ro-en,ja-en --layers all --methods all \\
      --level subword,word --out results/align-sweep   # [long]
  # score an existing Pharaoh file (0-indexed predictions) without a model
  mbert-lab align-eval --gold my.gold --pairs my.src-tgt --pred links.txt --out results/x

Gold: a name (en-fr, ro-en, ja-en: $MBERT_LAB_DATA/word-alignment) or a Pharaoh file
('i-j' sure, 'ipj' possible; 0- or 1-indexed, detected; --gold-index to force).
Best layer per method and level: chosen on a seeded dev split of the gold pairs (--dev-fraction,
--seed), its AER reported on the other (test) pairs; the table of every layer is on all pairs.
Writes OUT/align_eval.json, OUT/per_pair.jsonl and, for several layers, OUT/aer_by_layer.png/.svg.
"""

FORMATS = ("pharaoh", "pharaoh-scores", "jsonl")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "align", help="word-align sentence pairs (SimAlign / awesome-align methods)",
        description="Align words of sentence pairs with contextual embeddings (one batched extraction).",
        epilog=EPILOG_ALIGN, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("input")
    g.add_argument("--pairs", default=None, help="one 'source ||| target' file")
    g.add_argument("--src", default=None, help="source file (line-aligned with --tgt)")
    g.add_argument("--tgt", default=None, help="target file")
    g.add_argument("--input", default="tokenized", choices=("tokenized", "raw"),
                   help="tokenized: words split on ASCII spaces (default); raw: words from the tokenizer")
    p.add_argument("--method", "--methods", dest="methods", default="argmax",
                   help="argmax, itermax, match, forward, backward, softmax (jsonl: a list 'argmax,match' or 'all')")
    p.add_argument("--level", default="subword", help="similarities between subwords (default) or word vectors")
    _method_options(p)
    p.add_argument("--format", default="pharaoh", choices=FORMATS, help="pharaoh | pharaoh-scores | jsonl")
    p.add_argument("--out", required=True, help="output file (written atomically)")
    p.add_argument("--heatmap", type=int, default=None, metavar="N",
                   help="also plot pair N (1-based line) as a heatmap with links")
    p.add_argument("--heatmap-out", default=None, help="heatmap stem (default: <out stem>_pairN) -> .png and .svg")
    add_model_options(p, layers_default="8")
    p.set_defaults(func=run_align)

    q = subparsers.add_parser(
        "align-eval", help="AER / precision / recall / F1 of alignments against gold, by layer and method",
        description="Score alignment methods against sure+possible gold links (corpus-level and per pair).",
        epilog=EPILOG_EVAL, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("--gold", required=True, help="gold set name(s) en-fr,ro-en,ja-en or a Pharaoh gold file")
    q.add_argument("--pairs", default=None, help="'src ||| tgt' file of a gold file (default: <gold>.src-tgt)")
    q.add_argument("--gold-index", default="auto", help="gold index base: auto | 0 | 1")
    q.add_argument("--pred", default=None, help="score this Pharaoh file (0-indexed) instead of aligning (no model)")
    q.add_argument("--methods", "--method", dest="methods", default="argmax,itermax,match", help="list, or 'all'")
    q.add_argument("--level", "--levels", dest="levels", default="subword", help="subword, word, or 'subword,word'")
    _method_options(q)
    q.add_argument("--limit", type=int, default=None, help="first N pairs of each gold set (N >= 1)")
    q.add_argument("--dev-fraction", type=float, default=0.5,
                   help="share of the gold pairs that chooses the best layer (default 0.5); the rest reports it")
    q.add_argument("--seed", type=int, default=0, help="seed of the dev/test split (default 0)")
    q.add_argument("--out", required=True, help="output folder: align_eval.json, per_pair.jsonl, plots")
    add_model_options(q, layers_default="8")
    q.set_defaults(func=run_eval)


def _method_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("alignment")
    g.add_argument("--keep-lone-marker", action="store_true",
                   help="keep lone '▁' subword pieces in the similarity matrix (SimAlign does); default: drop them")
    g.add_argument("--distortion", type=float, default=0.0, help="SimAlign distortion ratio in [0, 1] (0 = off)")
    g.add_argument("--null-threshold", type=float, default=None,
                   help="drop links whose score is below this (those words stay unaligned)")
    g.add_argument("--softmax-threshold", type=float, default=1e-3, help="softmax method threshold")
    g.add_argument("--itermax-alpha", type=float, default=0.9)
    g.add_argument("--itermax-iterations", type=int, default=2)


def _method_fields(args: argparse.Namespace) -> dict[str, Any]:
    return dict(keep_lone_marker=args.keep_lone_marker, distortion=args.distortion,
                null_threshold=args.null_threshold, softmax_threshold=args.softmax_threshold,
                itermax_alpha=args.itermax_alpha, itermax_iterations=args.itermax_iterations)


def align_config(args: argparse.Namespace) -> Any:
    from ..studies.alignment import AlignConfig

    return AlignConfig(pairs_file=args.pairs, src_file=args.src, tgt_file=args.tgt, input=args.input,
                       methods=args.methods, level=args.level, heatmaps=(args.heatmap,) if args.heatmap else (),
                       **_method_fields(args), **model_fields(args))


def run_align(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..io import atomic_write_text
    from ..studies.alignment import align

    if args.pairs and (args.src or args.tgt):
        raise ConfigError("give either --pairs or --src/--tgt, not both")
    if not args.pairs and not (args.src and args.tgt):
        raise ConfigError("give --pairs FILE or both --src and --tgt")
    if args.heatmap is not None and args.heatmap < 1:
        raise ConfigError(f"--heatmap: pairs are numbered from 1, got {args.heatmap}")
    if args.heatmap_out and args.heatmap is None:
        raise ConfigError("--heatmap-out goes with --heatmap N")
    cfg = align_config(args)
    if args.format != "jsonl" and len(cfg.methods) != 1:
        raise ConfigError("Pharaoh output holds one method; use --format jsonl for several")
    if print_config(args, cfg):
        return 0
    out = Path(args.out)
    check_out("--out", out, kind="file")
    stem = Path(args.heatmap_out) if args.heatmap_out else out.parent / f"{out.stem}_pair{args.heatmap}"
    if args.heatmap:
        check_out("--heatmap-out", stem.with_suffix(".png"), kind="file")
    result = with_command(align(cfg))
    lines = result.jsonl_lines() if args.format == "jsonl" else result.pharaoh_lines(
        with_scores=args.format == "pharaoh-scores")
    atomic_write_text(out, "".join(x + "\n" for x in lines))
    print(f"aligned {result.n_pairs} pairs at layer {result.layer} ({', '.join(result.methods)}, "
          f"{result.level} level) -> {out}")
    if args.heatmap:
        from ..plots.alignment import heatmap

        paths = heatmap(result, args.heatmap, stem)
        print("heatmap: " + ", ".join(str(p) for p in paths))
    return 0


def eval_config(args: argparse.Namespace) -> Any:
    from ..studies.alignment import AlignEvalConfig

    return AlignEvalConfig(gold=split_list(args.gold) or (), pairs_file=args.pairs, gold_index=args.gold_index,
                           pred=args.pred, methods=args.methods, levels=split_list(args.levels) or (),
                           limit=args.limit, dev_fraction=args.dev_fraction, seed=args.seed,
                           **_method_fields(args), **model_fields(args))


def run_eval(args: argparse.Namespace) -> int:
    from ..studies.alignment import align_eval

    cfg = eval_config(args)
    if print_config(args, cfg, out=args.out):
        return 0
    check_out("--out", args.out)
    result = with_command(align_eval(cfg))
    path = result.save(args.out)
    if len(result.layers) > 1:
        from ..plots.alignment import aer_by_layer

        paths = aer_by_layer(result, Path(args.out) / "aer_by_layer")
        print("plot: " + ", ".join(str(p) for p in paths))
    print("\n".join(result.table_lines()))
    print("\n".join(result.summary()))
    print(f"results: {path}")
    return 0
