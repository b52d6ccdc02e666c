"""``mbert-lab index build|search|mine|eval``: FAISS indexes, bitext mining, retrieval
evaluation. Flags -> Configs of :mod:`mbert_lab.studies.retrieval` -> study -> save/print.
``index eval ...`` lives in :mod:`mbert_lab.cli.index_eval_cmd`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_model_options, check_out, model_fields, print_config, with_command
from .ray_options import (
    add_knn_options,
    add_ray_options,
    add_record_options,
    knn_fields,
    ray_fields,
    record_fields,
)

EPILOG = """examples:
  # index every Tatoeba sentence of three languages and their English sides (layer 12)
  mbert-lab index build --tatoeba de,fr,zh --layers 12 --out results/index/tatoeba3   # [long]
  # index your own sentences: one 'lang<TAB>text' (or 'lang<TAB>id<TAB>text') per line
  mbert-lab index build --input sents.tsv --transform center --memory 8G --out results/index/mine
  # a word index (every word occurrence), or one vector per word form (averaged over contexts)
  mbert-lab index build --input sents.tsv --unit word-type --out results/index/words
  mbert-lab index build --input more.tsv --append --out results/index/mine   # incremental add
  mbert-lab index search --index results/index/tatoeba3 --lang en --to de,fr -k 5 "Where is the station?"
  # margin-based mining between two files; with gold pairs the threshold is chosen on a dev split
  mbert-lab index mine --src de.txt --tgt en.txt --src-lang de --tgt-lang en --out pairs.tsv
  mbert-lab index mine --src de.tsv --tgt en.tsv --with-ids --gold gold.tsv --out pairs.tsv
  mbert-lab index mine --src de.parquet --tgt en.jsonl --id-column id --text-column text --out pairs.tsv
  # large sides: neighbours from IVF indexes (nprobe tuned for recall@k), optionally on Ray
  mbert-lab index mine --src de.txt --tgt en.txt --knn ivf --knn-recall 0.95 --out pairs.tsv
  mbert-lab index mine --src de.txt --tgt en.txt --knn ivf --ray --memory 2G --out pairs.tsv   # [long]
  # the same on Ray: --ray alone starts a local cluster; or join one: --ray HOST:PORT
  mbert-lab index build --input sents.tsv --ray --ray-workers 2 --threads 1 --out results/index/mine   # [long]
  mbert-lab index mine --src de.txt --tgt en.txt --ray 10.0.0.5:6379 --out pairs.tsv   # [long]
  # evaluations (results under results/retrieval/)
  mbert-lab index eval tatoeba --langs de,fr,zh --layers 8,12   # [long]
  mbert-lab index eval bli --pair de-en --layers 12   # [long]
  mbert-lab index eval bli --dictionary my-dict.tsv --layers 12 --out results/retrieval/mydict
  mbert-lab index eval bucc --src de.tsv --tgt en.tsv --gold gold.tsv
  mbert-lab index eval pool --langs de,fr,es   # [long]
  mbert-lab index eval recall --index results/index/tatoeba3 -k 10
Language codes: ISO 639-1 or 639-3 (stored as 639-3).
"""


def _sub(ss: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    return ss.add_parser(name, help=help, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .index_eval_cmd import add_eval_parser
    from .neighbours_cmd import add_query_options

    p = sub.add_parser(
        "index",
        help="FAISS indexes, neighbour search, bitext mining, Tatoeba/BUCC/BLI evaluation",
        description="Build and query FAISS indexes of sentence or word vectors; mine bitext with "
        "LASER-style margins; evaluate cross-lingual retrieval.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
    ss = p.add_subparsers(dest="index_command", metavar="ACTION")
    add_build_parser(_sub(ss, "build", "build an index"))
    add_query_options(_sub(ss, "search", "query an index with text"))
    add_mine_parser(_sub(ss, "mine", "margin-based bitext mining between two files"))
    add_eval_parser(_sub(ss, "eval", "tatoeba | bli | bucc | pool | recall"))


def add_build_parser(b: argparse.ArgumentParser) -> None:
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help="TSV file: 'lang<TAB>text' or 'lang<TAB>id<TAB>text' per line, or "
                     ".parquet/.jsonl records with lang, id and text columns (read as a Ray dataset with --ray)")
    add_record_options(b, lang=True)
    src.add_argument("--tatoeba", help="'all' or language codes 'de,fr,zh': both sides of each set")
    b.add_argument("--out", required=True, help="index directory to write")
    b.add_argument("--unit", default="sentence", help="sentence (mean pooling), word (every occurrence) or "
                   "word-type (one vector per language and word form, averaged over its contexts)")
    b.add_argument("--transform", default="none", help="none | center (subtract each language's mean)")
    b.add_argument("--key", default="auto", help="'auto' or a FAISS factory string, e.g. 'IVF1024,PQ32'")
    b.add_argument("--memory", default="4G", help="memory budget for the index (default 4G)")
    b.add_argument("--target-recall", type=float, default=0.95,
                   help="tune nprobe/efSearch to this recall@k (k = --tune-k), in (0, 1] (default 0.95)")
    b.add_argument("--tune-k", type=int, default=10,
                   help="the k the search parameters are tuned for: the neighbours callers ask for (search "
                        "default 10; margin mining uses 4); recall@1 alone hides a poor k-th neighbour (default 10)")
    b.add_argument("--hold-out", type=int, default=1000, help="vectors held back for tuning, >= 0 (default 1000)")
    b.add_argument("--append", action="store_true",
                   help="add the input's vectors to the existing index at --out (same model, layer, unit)")
    add_model_options(b, layers_default="12")
    add_ray_options(b)
    b.set_defaults(threads=2, func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from ..studies.retrieval import IndexBuildConfig, build_index

    check_out("--out", args.out)
    cfg = IndexBuildConfig(index=args.out, input=args.input, tatoeba=args.tatoeba, unit=args.unit,
                           transform=args.transform, key=args.key, memory=args.memory,
                           target_recall=args.target_recall, tune_k=args.tune_k, hold_out=args.hold_out,
                           append=args.append, **record_fields(args), **ray_fields(args), **model_fields(args))
    if print_config(args, cfg):
        return 0
    r = build_index(cfg)
    if args.append:
        print(f"index {args.out}: added {r.added} vectors, now {r.ntotal}")
        return 0
    t = r.tuning
    tuned = f"; tuned {t['param']}={t['value']} (recall@{t.get('k', 1)} {t['recall']:.3f} on {t['n_queries']} held-out queries)" if t.get("param") else ""
    print(f"index {args.out}: {r.ntotal} {r.unit} vectors, dim {r.dim}, {r.key} ({r.plan_reason}), "
          f"built in {r.build_seconds:.1f} s{tuned}")
    return 0


def add_mine_parser(m: argparse.ArgumentParser) -> None:
    m.add_argument("--src", required=True, help="source sentences (one per line, 'id<TAB>text' with --with-ids, "
                   "or .parquet/.jsonl records with id and text columns)")
    m.add_argument("--tgt", required=True, help="target sentences")
    m.add_argument("--with-ids", action="store_true", help="lines are 'id<TAB>text' (BUCC layout)")
    add_record_options(m)
    m.add_argument("--src-lang", default=None, help="language of --src (recorded in the result)")
    m.add_argument("--tgt-lang", default=None, help="language of --tgt (recorded in the result)")
    m.add_argument("--gold", help="gold pairs 'src_id<TAB>tgt_id': threshold chosen on a dev split, F1 on the rest")
    add_mining_options(m)
    m.add_argument("--threshold", default="auto",
                   help="keep pairs scoring >= this; 'auto' = chosen on a dev split of --gold, else keep all")
    m.add_argument("--out", required=True, help="TSV of mined pairs (score, src id, tgt id, src, tgt); "
                   "the result record goes next to it (.json)")
    add_knn_options(m)
    add_model_options(m, layers_default="12")
    add_ray_options(m)
    m.set_defaults(threads=2, func=run_mine)


def add_mining_options(m: argparse.ArgumentParser) -> None:
    m.add_argument("--margin", default="ratio", help="ratio | distance | absolute (default ratio)")
    m.add_argument("--mode", default="max", help="forward | backward | max | intersect (default max)")
    m.add_argument("-k", type=int, default=4, help="neighbourhood size of the margin (default 4)")
    m.add_argument("--transform", default="none", help="none | center")
    m.add_argument("--dev-fraction", type=float, default=0.5, help="share of source sentences in the dev split")
    m.add_argument("--seed", type=int, default=0, help="seed of the dev/test split (default 0)")


def mining_fields(args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    return dict(src=args.src, tgt=args.tgt, gold=args.gold, margin=args.margin, mode=args.mode, k=args.k,
                transform=args.transform, dev_fraction=args.dev_fraction, seed=args.seed, **model_fields(args))


def _threshold(value: str) -> object:
    from ..errors import ConfigError

    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"--threshold must be 'auto' or a number, got {value!r}") from None


def run_mine(args: argparse.Namespace) -> int:
    from ..io import atomic_write_text
    from ..studies.retrieval import MineConfig, mine

    cfg = MineConfig(with_ids=args.with_ids, src_lang=args.src_lang, tgt_lang=args.tgt_lang,
                     threshold=_threshold(args.threshold), **ray_fields(args), **knn_fields(args),
                     **record_fields(args), **mining_fields(args))
    if print_config(args, cfg):
        return 0
    out = Path(args.out)
    check_out("--out", out, kind="file")
    r = with_command(mine(cfg))
    r.write_pairs(out)
    atomic_write_text(out.with_suffix(".json"), r.to_json() + "\n")
    thr = "none" if r.threshold is None else f"{r.threshold:.4f}"
    msg = f"{r.n_kept} of {r.n_candidates} candidate pairs kept (threshold {thr}, {r.threshold_chosen_on}) -> {out}"
    if r.evaluation:
        t = r.evaluation.test
        msg += (f"; test split F1 {t.f1:.4f} (P {t.precision:.4f}, R {t.recall:.4f}, {t.n_gold} gold pairs); "
                f"all data at the F1-optimal threshold (oracle): {r.evaluation.oracle_all_data.f1:.4f}")
    for ks in r.knn_searches:
        msg += f"; {ks.direction} k-NN: {ks.key} nprobe {ks.nprobe}/{ks.nlist}"
    print(msg)
    return 0
