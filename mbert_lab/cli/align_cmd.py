"""``mbert-lab align`` and ``mbert-lab align-eval``: word alignment from one extraction.

Wiring only: read pairs (and gold) -> encode every sentence of both sides in ONE extraction
(all requested layers) -> :mod:`mbert_lab.analyses.alignment` per layer and method -> links
(Pharaoh or JSONL), scores (JSON record with provenance), plots (heatmap, AER by layer).

Library use (what the benchmark and the demo call)::

    from mbert_lab.models.registry import load_encoder
    from mbert_lab.cli.align_cmd import encode_pairs
    from mbert_lab.analyses.alignment import align_pairs
    enc = load_encoder("offline")
    src, tgt = encode_pairs(enc, [["the", "cat"]], [["le", "chat"]], layers=(7,))
    align_pairs(src, tgt, layer=7, methods="argmax,match")[Method.ARGMAX][0].links
    # ((0, 0), (1, 1))
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataMissingError, InputError

EPILOG_ALIGN = """examples:
  # two line-aligned, whitespace-tokenized files -> Pharaoh links (0-indexed, source first)
  mbert-lab align --src corpus.en --tgt corpus.fr --layers 7 --out links.txt
  # one 'src ||| tgt' file, IterMax, links with scores, a heatmap of pair 3
  mbert-lab align --pairs data.src-tgt --method itermax --format pharaoh-scores \\
      --out links.txt --heatmap 3 --heatmap-out heat_pair3
  # raw (untokenized) text, all methods' links as JSONL with words and confidences
  mbert-lab align --src raw.en --tgt raw.de --input raw --format jsonl --out links.jsonl

Pharaoh with scores writes 'i-j:score'. JSONL: one object per pair with src/tgt words,
links, scores, confidence (mean link score) and coverage (share of words aligned).
"""

EPILOG_EVAL = """examples:
  # AER/P/R/F1 of SimAlign's three methods on the en-fr gold set at layer 7
  mbert-lab align-eval --gold en-fr --layers 7 --out results/align-eval/enfr
  # every method, every layer, both levels, three gold sets: one extraction per set
  mbert-lab align-eval --gold en-fr,ro-en,ja-en --layers all --methods all \\
      --level subword,word --out results/align-sweep
  # score an existing Pharaoh file (0-indexed predictions) without a model
  mbert-lab align-eval --gold my.gold --pairs my.src-tgt --pred links.txt --out results/x

Gold: a name (en-fr, ro-en, ja-en: $MBERT_LAB_DATA/word-alignment) or a Pharaoh file
('i-j' sure, 'ipj' possible; 0- or 1-indexed, detected; --gold-index to force).
"""

GOLD_SETS = {"en-fr": "enfr", "ro-en": "roen", "ja-en": "jaen"}
FORMATS = ("pharaoh", "pharaoh-scores", "jsonl")


# ---------------------------------------------------------------------------- reading


def split_words(text: str) -> list[str]:
    """Split on the ASCII space only (U+3000 and other Unicode spaces are tokens in the
    gold sets; ``str.split()`` would split them and shift every later index)."""
    from ..data.formats import split_ascii_space

    return list(split_ascii_space(text.strip("\r\n")))


@dataclass(frozen=True)
class PairInput:
    """Sentence pairs read from files: words (tokenized input) or raw strings."""

    src: list[Any]
    tgt: list[Any]
    where: list[tuple[str, int]]  # (file, 1-based line) of each pair, for messages
    files: tuple[str, ...]


def _read_lines(path: str | Path) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", path=p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason} at byte {e.start})", path=p) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [x.rstrip("\r") for x in lines]


def _side(text: str, tokenized: bool, path: str, line: int, which: str) -> Any:
    if tokenized:
        words = split_words(text)
        if not words:
            raise InputError(f"empty {which} side", path=path, line=line)
        return words
    if not text.strip():
        raise InputError(f"empty {which} side", path=path, line=line)
    return text.strip()


def read_pairs_file(path: str | Path, tokenized: bool = True) -> PairInput:
    """A ``source ||| target`` file, one pair per line."""
    src, tgt, where = [], [], []
    for n, line in enumerate(_read_lines(path), 1):
        parts = line.split(" ||| ")
        if len(parts) != 2:
            parts = line.split("|||")
        if len(parts) != 2:
            raise InputError("expected one 'source ||| target' separator", path=path, line=n)
        src.append(_side(parts[0], tokenized, str(path), n, "source"))
        tgt.append(_side(parts[1], tokenized, str(path), n, "target"))
        where.append((str(path), n))
    if not src:
        raise InputError("no sentence pairs", path=path)
    return PairInput(src, tgt, where, (str(path),))


def read_parallel(src_path: str | Path, tgt_path: str | Path, tokenized: bool = True) -> PairInput:
    """Two line-aligned files."""
    a, b = _read_lines(src_path), _read_lines(tgt_path)
    if len(a) != len(b):
        short, n = (src_path, len(a)) if len(a) < len(b) else (tgt_path, len(b))
        raise InputError(
            f"line counts differ: {src_path} has {len(a)} lines, {tgt_path} has {len(b)}; "
            f"the pairs stop matching after line {n}",
            path=short,
            line=n + 1,
        )
    if not a:
        raise InputError("no sentence pairs", path=src_path)
    src = [_side(x, tokenized, str(src_path), n, "source") for n, x in enumerate(a, 1)]
    tgt = [_side(x, tokenized, str(tgt_path), n, "target") for n, x in enumerate(b, 1)]
    return PairInput(src, tgt, [(str(src_path), n) for n in range(1, len(a) + 1)], (str(src_path), str(tgt_path)))


def gold_pairs(gold: Any) -> list[Any]:
    """A loaded ``AlignmentGold`` (:mod:`mbert_lab.data.formats`) -> the scorer's GoldPair list."""
    from ..analyses.alignment import GoldPair

    return [GoldPair(p.src_tokens, p.tgt_tokens, p.sure, p.possible) for p in gold.pairs]


def load_gold(name_or_path: str, pairs_path: str | None = None, index_base: str = "auto") -> tuple[Any, Any]:
    """A gold set name (en-fr, ro-en, ja-en) or a Pharaoh gold file -> (AlignmentGold, provenance).

    Reading, index-base detection (0 or 1; ``index_base`` "0"/"1" forces it) and range checks
    are :func:`mbert_lab.data.formats.read_alignment`'s: errors name the file and line.
    """
    from ..data.formats import alignment_sets, load_gold_alignment, read_alignment
    from ..data.registry import dataset_provenance
    from ..errors import choice_error
    from ..io import sha256_file
    from ..results import DatasetProvenance

    if index_base not in ("auto", "0", "1"):
        raise choice_error("gold index base", index_base, ("auto", "0", "1"))
    base = None if index_base == "auto" else int(index_base)
    key = name_or_path.replace("-", "").replace("_", "").lower()
    gp = Path(name_or_path)
    if not gp.is_file() and "/" not in name_or_path and "." not in name_or_path:
        if key not in alignment_sets():
            raise choice_error("gold set", name_or_path, list(GOLD_SETS))
        if pairs_path:
            raise ConfigError("--pairs goes with a gold file, not with a named gold set")
        gold = load_gold_alignment(key, index_base=base)
        return gold, dataset_provenance("word-alignment", [gold.text_path, gold.gold_path])
    if not gp.is_file():
        raise InputError("no such gold file", path=gp)
    pp = Path(pairs_path) if pairs_path else gp.with_suffix(".src-tgt")
    if not pp.is_file():
        raise InputError(f"no sentence pairs for this gold file (looked for {pp}; pass --pairs)", path=gp)
    gold = read_alignment(pp, gp, index_base=base, name=gp.stem)
    prov = DatasetProvenance(name=gp.stem, files={str(pp): sha256_file(pp), str(gp): sha256_file(gp)})
    return gold, prov


def read_predictions(path: str | Path, n_pairs: int) -> list[list[tuple[int, int]]]:
    """0-indexed predicted links (``i-j``, optional ``:score`` or ``-score`` ignored)."""
    import re

    lines = _read_lines(path)
    if len(lines) != n_pairs:
        raise InputError(f"{len(lines)} lines but {n_pairs} sentence pairs", path=path, line=min(len(lines), n_pairs) + 1)
    pat = re.compile(r"^(\d+)-(\d+)(?:[:-][0-9.eE+-]+)?$")
    out = []
    for n, line in enumerate(lines, 1):
        links = []
        for tok in line.split():
            m = pat.match(tok)
            if not m:
                raise InputError(f"malformed link {tok!r}", path=path, line=n)
            links.append((int(m.group(1)), int(m.group(2))))
        out.append(links)
    return out


# --------------------------------------------------------------------------- encoding


def encode_pairs(
    encoder: Any,
    src: Sequence[Any],
    tgt: Sequence[Any],
    layers: Sequence[int],
    store: Any = None,
    batch_size: int = 64,
    max_length: int | None = None,
    progress: bool = True,
) -> tuple[Any, Any]:
    """Encode both sides of every pair in ONE extraction (all ``layers``) -> two corpus views.

    Input: word lists (pre-tokenized) or raw strings, both sides alike. Only subword vectors
    are stored: word vectors are pooled from them per pair, with or without lone '▁' pieces
    (so one extraction serves both treatments). Long sentences are windowed by the extractor.
    """
    from ..analyses.alignment import CorpusView
    from ..encode.extractor import ExtractConfig, Extractor

    if len(src) != len(tgt):
        raise ConfigError(f"{len(src)} source sentences but {len(tgt)} target sentences")
    cfg = ExtractConfig(
        layers=tuple(layers),
        outputs=("subword",),
        drop_lone_marker=True,  # only marks lone pieces in pooled_mask; vectors are unaffected
        max_length=max_length,
        batch_size=batch_size,
    )
    texts = list(src) + list(tgt)
    pretok = bool(texts) and not isinstance(texts[0], str)
    corpus = Extractor(encoder, cfg, store=store, progress=progress).encode(
        texts, pretokenized=pretok, desc="encoding pairs"
    )
    n = len(src)
    return CorpusView(corpus, 0, n), CorpusView(corpus, n, 2 * n)


# ------------------------------------------------------------------------------ plots


def plot_heatmap(pm: Any, method: Any, stem: str | Path, title: str = "", options: Any = None) -> list[Path]:
    """Similarity heatmap of one pair with the links ``method`` extracts marked (PNG + SVG).

    Rows/columns are the matrix units (subwords or words, as in ``pm``); ringed cells are
    the extracted links before the mapping to words (after distortion and null threshold).
    """
    import numpy as np

    from ..analyses.alignment import (
        ExtractOptions, apply_distortion, dot_products, extract, link_scores, null_filter, similarity,
    )
    from ..plots import new_figure, save_figure

    opt = options or ExtractOptions()
    sim = apply_distortion(similarity(pm.src_vectors, pm.tgt_vectors), opt.distortion)
    dots = dot_products(pm.src_vectors, pm.tgt_vectors)
    mask = null_filter(extract(sim, method, opt, dots), link_scores(sim, method, dots), opt.null_threshold)
    m, n = sim.shape
    fig, ax = new_figure(max(4.0, 0.32 * n + 2.5), max(3.5, 0.3 * m + 2.0))
    im = ax.imshow(sim, cmap="viridis", aspect="auto")
    rr, cc = np.nonzero(mask)
    ax.scatter(cc, rr, s=48, facecolors="none", edgecolors="red", linewidths=1.6, label=f"{method} link")
    ax.set_xticks(np.arange(n))
    ax.set_xticklabels(pm.tgt_labels, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(m))
    ax.set_yticklabels(pm.src_labels, fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7, bbox_to_anchor=(1.0, 1.12))
    fig.colorbar(im, ax=ax, label="(cos + 1) / 2" + (" x distortion" if opt.distortion else ""))
    return save_figure(fig, stem)


def plot_aer_by_layer(rows: list[dict[str, Any]], stem: str | Path) -> list[Path]:
    """AER by layer, one line per (gold set, level, method)."""
    from ..plots import new_figure, save_figure

    series: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for r in rows:
        series.setdefault((r["gold"], r["level"], r["method"]), []).append((r["layer"], r["aer"]))
    golds = sorted({k[0] for k in series})
    methods = sorted({k[2] for k in series})
    fig, axes = new_figure(5.0 * len(golds), 4.2, ncols=len(golds), squeeze=False)
    for ax, g in zip(axes[0], golds):
        for (gg, lv, meth), pts in sorted(series.items()):
            if gg != g:
                continue
            pts.sort()
            color = f"C{methods.index(meth) % 10}"  # one colour per method, line style per level
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o" if lv == "subword" else "s", ms=3,
                    color=color, ls="-" if lv == "subword" else "--", label=f"{meth} ({lv})")
        ax.set_title(g)
        ax.set_xlabel("layer")
        ax.set_ylabel("AER (lower is better)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, ncol=2)
    return save_figure(fig, stem)


# ---------------------------------------------------------------------------- parsers


def add_parser(subparsers: Any) -> None:
    from .common import add_model_options

    p = subparsers.add_parser(
        "align",
        help="word-align sentence pairs (SimAlign / awesome-align methods)",
        description="Align words of sentence pairs with contextual embeddings (one batched extraction).",
        epilog=EPILOG_ALIGN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _input_options(p)
    p.add_argument("--method", default="argmax", help="argmax, itermax, match, forward, backward, softmax "
                   "(jsonl: a list 'argmax,match' or 'all')")
    _method_options(p)
    p.add_argument("--format", default="pharaoh", help="pharaoh | pharaoh-scores | jsonl")
    p.add_argument("--out", required=True, help="output file (written atomically)")
    p.add_argument("--heatmap", type=int, default=None, metavar="N",
                   help="also plot pair N (1-based line) as a heatmap with links")
    p.add_argument("--heatmap-out", default=None, help="heatmap stem (default: <out stem>_pairN) -> .png and .svg")
    add_model_options(p, layers_default="8")
    p.set_defaults(func=run_align)

    q = subparsers.add_parser(
        "align-eval",
        help="AER / precision / recall / F1 of alignments against gold, by layer and method",
        description="Score alignment methods against sure+possible gold links (corpus-level and per pair).",
        epilog=EPILOG_EVAL,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("--gold", required=True, help="gold set name(s) en-fr,ro-en,ja-en or a Pharaoh gold file")
    q.add_argument("--pairs", default=None, help="'src ||| tgt' file of a gold file (default: <gold>.src-tgt)")
    q.add_argument("--gold-index", default="auto", help="gold index base: auto | 0 | 1")
    q.add_argument("--pred", default=None, help="score this Pharaoh file (0-indexed) instead of aligning")
    q.add_argument("--methods", default="argmax,itermax,match", help="list, or 'all'")
    q.add_argument("--level", default="subword", help="subword, word, or 'subword,word'")
    _method_options(q)
    q.add_argument("--out", required=True, help="output folder: align_eval.json, per_pair.jsonl, plots")
    q.add_argument("--limit", type=int, default=None, help="first N pairs only")
    add_model_options(q, layers_default="8")
    q.set_defaults(func=run_eval)


def _input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument("--pairs", default=None, help="one 'source ||| target' file")
    g.add_argument("--src", default=None, help="source file (line-aligned with --tgt)")
    g.add_argument("--tgt", default=None, help="target file")
    g.add_argument("--input", default="tokenized", choices=("tokenized", "raw"),
                   help="tokenized: words split on ASCII spaces (default); raw: words from the tokenizer")


def _method_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("alignment")
    g.add_argument("--keep-lone-marker", action="store_true",
                   help="keep lone '▁' subword pieces in the similarity matrix (SimAlign does); "
                   "default: drop them")
    g.add_argument("--distortion", type=float, default=0.0, help="SimAlign distortion ratio (0 = off)")
    g.add_argument("--null-threshold", type=float, default=None,
                   help="drop links whose score is below this (those words stay unaligned)")
    g.add_argument("--softmax-threshold", type=float, default=1e-3, help="softmax method threshold")
    g.add_argument("--itermax-alpha", type=float, default=0.9)
    g.add_argument("--itermax-iterations", type=int, default=2)


def _options(args: argparse.Namespace) -> Any:
    from ..analyses.alignment import ExtractOptions

    return ExtractOptions(
        itermax_alpha=args.itermax_alpha,
        itermax_iterations=args.itermax_iterations,
        softmax_threshold=args.softmax_threshold,
        distortion=args.distortion,
        null_threshold=args.null_threshold,
    )


def _load(args: argparse.Namespace, layers_spec: str, single: bool) -> tuple[Any, list[int]]:
    from ..models.registry import load_encoder, parse_layers

    enc = load_encoder(args.model, revision=args.revision, device=args.device)
    layers = parse_layers(layers_spec, enc.num_layers)
    if single and len(layers) != 1:
        raise ConfigError(f"--layers must name one layer for align, got {layers_spec!r}")
    return enc, layers


def _store(args: argparse.Namespace) -> Any:
    if args.no_cache:
        return None
    from ..encode import default_store

    return default_store()


def _set_threads() -> None:
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))


# -------------------------------------------------------------------------------- run


def run_align(args: argparse.Namespace) -> int:
    from ..analyses.alignment import Level, align_pair_matrix, pair_matrix, parse_methods
    from ..io import atomic_open

    if args.format not in FORMATS:
        from ..errors import choice_error

        raise choice_error("output format", args.format, FORMATS)
    methods = parse_methods(args.method)
    if args.format != "jsonl" and len(methods) != 1:
        raise ConfigError("Pharaoh output holds one method; use --format jsonl for several")
    opts = _options(args)
    level = Level.SUBWORD
    tokenized = args.input == "tokenized"
    if args.pairs and (args.src or args.tgt):
        raise ConfigError("give either --pairs or --src/--tgt, not both")
    if args.pairs:
        pairs = read_pairs_file(args.pairs, tokenized)
    elif args.src and args.tgt:
        pairs = read_parallel(args.src, args.tgt, tokenized)
    else:
        raise ConfigError("give --pairs FILE or both --src and --tgt")
    if args.heatmap is not None and not 1 <= args.heatmap <= len(pairs.src):
        raise ConfigError(f"--heatmap {args.heatmap}: pairs are numbered 1..{len(pairs.src)}")
    _set_threads()
    enc, layers = _load(args, args.layers, single=True)
    layer = layers[0]
    src, tgt = encode_pairs(enc, pairs.src, pairs.tgt, layers, store=_store(args),
                            batch_size=args.batch_size, max_length=args.max_length)
    drop = not args.keep_lone_marker
    out_path = Path(args.out)
    heat = None
    from ..analyses.alignment import small_matrix_blas

    with atomic_open(out_path, "w") as f, small_matrix_blas():
        for i in range(len(pairs.src)):
            pm = pair_matrix(src, tgt, i, layer, level, drop)
            res = align_pair_matrix(pm, methods, opts)
            if args.heatmap == i + 1:
                heat = pm
            if args.format == "jsonl":
                rec = {
                    "pair": i + 1,
                    "src": src.words_text(i),
                    "tgt": tgt.words_text(i),
                    "layer": layer,
                    "alignments": {
                        m.value: {
                            "links": [list(x) for x in res[m].links],
                            "scores": [round(s, 5) for s in res[m].scores],
                            "confidence": round(res[m].confidence, 5),
                            "coverage": round(res[m].coverage, 5),
                        }
                        for m in methods
                    },
                }
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                f.write(res[methods[0]].pharaoh(with_scores=args.format == "pharaoh-scores") + "\n")
    print(f"aligned {len(pairs.src)} pairs at layer {layer} ({', '.join(m.value for m in methods)}) -> {out_path}")
    if heat is not None:
        stem = Path(args.heatmap_out) if args.heatmap_out else out_path.parent / f"{out_path.stem}_pair{args.heatmap}"
        paths = plot_heatmap(heat, methods[0], stem, title=f"pair {args.heatmap}, layer {layer}, {methods[0].value}",
                             options=opts)
        print("heatmap: " + ", ".join(str(p) for p in paths))
    return 0


@dataclass(frozen=True)
class EvalRow:
    """One (gold set, level, layer, method) score line of ``align-eval``."""

    gold: str
    level: str
    layer: int
    method: str
    aer: float
    precision: float
    recall: float
    f1: float
    n_pred: int
    n_sure: int
    n_pred_sure: int
    n_pred_possible: int
    pairs: int
    mean_confidence: float | None  # None when scoring a predictions file (no scores)
    mean_coverage: float | None


def run_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from ..analyses.alignment import Level, align_pairs, parse_methods, score_alignments
    from ..io import atomic_open
    from ..results import Provenance, record

    methods = parse_methods(args.methods)
    levels = [Level.parse(x) for x in args.level.split(",") if x.strip()]
    opts = _options(args)
    drop = not args.keep_lone_marker
    golds = [g for g in args.gold.split(",") if g.strip()]
    if args.pred and len(golds) != 1:
        raise ConfigError("--pred scores one gold set")
    # read and validate everything before any model work or output
    sets = []
    for g in golds:
        gold_set, dprov = load_gold(g, args.pairs, args.gold_index)
        gold = gold_pairs(gold_set)[: args.limit] if args.limit else gold_pairs(gold_set)
        sets.append((gold_set.name, dprov, gold))
    preds_file = read_predictions(args.pred, len(sets[0][2])) if args.pred else None

    rows: list[EvalRow] = []
    per_pair: list[dict[str, Any]] = []
    enc = None
    layers: list[int] = []
    if preds_file is not None:
        name, _, gold = sets[0]
        for n, (links, g) in enumerate(zip(preds_file, gold), 1):
            for i, j in links:
                if i >= len(g.src) or j >= len(g.tgt):
                    raise InputError(f"predicted link {i}-{j} is beyond the sentence length", path=args.pred, line=n)
        ev = score_alignments(preds_file, gold)
        o = ev.overall
        rows.append(EvalRow(name, "file", -1, "file", o.aer, o.precision, o.recall, o.f1, o.n_pred, o.n_sure,
                            o.n_pred_sure, o.n_pred_possible, len(gold), None, None))
        per_pair += [{"gold": name, "pair": k + 1, **asdict(s)} for k, s in enumerate(ev.per_pair)]
    else:
        _set_threads()
        enc, layers = _load(args, args.layers, single=False)
        store = _store(args)
        for name, _, gold in sets:
            src, tgt = encode_pairs(enc, [list(g.src) for g in gold], [list(g.tgt) for g in gold], layers, store=store,
                                    batch_size=args.batch_size, max_length=args.max_length)
            for layer in layers:
                for lv in levels:
                    res = align_pairs(src, tgt, layer, methods, lv, drop, opts)
                    for m in methods:
                        ev = score_alignments(res[m], gold)
                        o = ev.overall
                        rows.append(EvalRow(
                            name, lv.value, layer, m.value, o.aer, o.precision, o.recall, o.f1, o.n_pred,
                            o.n_sure, o.n_pred_sure, o.n_pred_possible, len(gold),
                            float(np.mean([a.confidence for a in res[m]])),
                            float(np.mean([a.coverage for a in res[m]])),
                        ))
                        for k, (s, a) in enumerate(zip(ev.per_pair, res[m])):
                            per_pair.append({"gold": name, "level": lv.value, "layer": layer, "method": m.value,
                                             "pair": k + 1, **asdict(s), "confidence": a.confidence,
                                             "coverage": a.coverage})
    best = _best_layers(rows)
    out = Path(args.out)
    prov = Provenance.collect(
        config={k: v for k, v in vars(args).items() if k != "func"},
        model=enc.provenance if enc is not None else None,
        layers=layers,
        pooling="mean of subwords" + ("" if drop else " incl. lone markers"),
        datasets=[d for _, d, _ in sets],
    )
    rec = record("align-eval", {"rows": [asdict(r) for r in rows], "best_layer": best}, prov)
    with atomic_open(out / "per_pair.jsonl", "w") as f:
        for d in per_pair:
            f.write(json.dumps(d) + "\n")
    rec.save(out / "align_eval.json")
    if len(layers) > 1:
        paths = plot_aer_by_layer([asdict(r) for r in rows], out / "aer_by_layer")
        print("plot: " + ", ".join(str(p) for p in paths))
    _print_rows(rows)
    if best and len(layers) > 1:
        print("best layer (lowest AER):")
        for b in best:
            print(f"  {b['gold']:6s} {b['level']:8s} {b['method']:9s} layer {b['layer']:2d}  AER {b['aer']:.4f}")
    print(f"results: {out / 'align_eval.json'}")
    return 0


def _best_layers(rows: list[EvalRow]) -> list[dict[str, Any]]:
    best: dict[tuple[str, str, str], EvalRow] = {}
    for r in rows:
        k = (r.gold, r.level, r.method)
        if k not in best or r.aer < best[k].aer:
            best[k] = r
    return [{"gold": k[0], "level": k[1], "method": k[2], "layer": v.layer, "aer": v.aer} for k, v in sorted(best.items())]


def _print_rows(rows: list[EvalRow]) -> None:
    print(f"{'gold':6s} {'level':8s} {'layer':>5s} {'method':9s} {'AER':>7s} {'P':>7s} {'R':>7s} {'F1':>7s}")
    for r in rows:
        print(f"{r.gold:6s} {r.level:8s} {r.layer:5d} {r.method:9s} {r.aer:7.4f} {r.precision:7.4f} "
              f"{r.recall:7.4f} {r.f1:7.4f}")
    sys.stdout.flush()


# ------------------------------------------------------------------------------ demo

#: Layer the demo aligns at: the offline model's best ArgMax layer on the gold sets (6-7;
#: see ``mbert-lab align-eval --layers all``), not mBERT's customary 8.
DEMO_LAYER = 7


def demo_section(ctx: Any) -> str:
    """Demo: align English/translation pairs of the embedded corpus (raw text, ArgMax and
    Match, lone '▁' pieces dropped), write links as JSONL per language and a heatmap of one
    pair; summarise mean link confidence and coverage per language."""
    import numpy as np

    from ..analyses.alignment import CorpusView, align_pair_matrix, pair_matrix
    from ..io import atomic_open
    from ..results import record

    out = ctx.out / "alignment"
    layer = min(DEMO_LAYER, ctx.encoder.num_layers)
    methods = ("argmax", "match")
    stats: dict[str, dict[str, float]] = {}
    shown = None
    for lang, pairs in ctx.parallel.items():
        pairs = [(e, x) for e, x in pairs if e.strip() and x.strip()][:60]
        if len(pairs) < 5:
            continue
        n = len(pairs)
        corpus = ctx.extract([p[0] for p in pairs] + [p[1] for p in pairs], layers=(layer,), outputs=("subword",))
        src, tgt = CorpusView(corpus, 0, n), CorpusView(corpus, n, 2 * n)
        conf, cov = [], []
        with atomic_open(out / f"links_en-{lang}.jsonl", "w") as f:
            for i in range(n):
                pm = pair_matrix(src, tgt, i, layer, "subword", True)
                res = align_pair_matrix(pm, methods)
                a = res[next(iter(res))]
                conf.append(a.confidence)
                cov.append(a.coverage)
                f.write(json.dumps({
                    "pair": i + 1, "en": src.words_text(i), lang: tgt.words_text(i), "layer": layer,
                    **{m.value: {"links": [list(x) for x in r.links], "scores": [round(s, 4) for s in r.scores],
                                 "confidence": round(r.confidence, 4), "coverage": round(r.coverage, 4)}
                       for m, r in res.items()},
                }, ensure_ascii=False) + "\n")
                if shown is None and lang in ("de", "fr", "es") and 5 <= pm.n_src <= 10 and 5 <= pm.n_tgt <= 10:
                    shown = (lang, i, pm, a)
        stats[lang] = {"pairs": n, "mean_confidence": float(np.mean(conf)), "mean_coverage": float(np.mean(cov))}
    if not stats:
        return "alignment: no language with enough pairs"
    rec = record("demo.alignment", {"layer": layer, "method": "argmax", "languages": stats},
                 ctx.provenance({"methods": list(methods), "level": "subword", "drop_lone_marker": True},
                                [layer], "subword"))
    rec.save(out / "alignment_summary.json")
    heat = ""
    if shown is not None:
        lang, i, pm, _ = shown
        paths = plot_heatmap(pm, "argmax", out / f"heatmap_en-{lang}_pair{i + 1}",
                             title=f"en-{lang} pair {i + 1}, layer {layer}, argmax")
        heat = f"; heatmap: {paths[0]}"
    worst = min(stats, key=lambda k: stats[k]["mean_coverage"])
    best = max(stats, key=lambda k: stats[k]["mean_coverage"])
    return (
        f"alignment: {sum(s['pairs'] for s in stats.values())} English/translation pairs in {len(stats)} languages "
        f"aligned at layer {layer} (ArgMax, Match); ArgMax word coverage is highest for {best} "
        f"({stats[best]['mean_coverage']:.2f}) and lowest for {worst} ({stats[worst]['mean_coverage']:.2f}); "
        f"links: {out}/links_en-*.jsonl{heat}"
    )
