"""``mbert-lab index eval tatoeba|bli|bucc|pool|recall``: retrieval evaluations (studies
``tatoeba``, ``bli``, ``bucc``, ``pool``, ``recall`` of :mod:`mbert_lab.studies.retrieval`).
Each writes ``<out>/<study>.json`` (+ plots for tatoeba and bli)."""

from __future__ import annotations

import argparse

from .common import add_model_options, add_print_config, check_out, finish, model_fields, print_config

OUT = "results/retrieval"


def add_eval_parser(e: argparse.ArgumentParser) -> None:
    from .index_cmd import EPILOG, add_mining_options

    e.set_defaults(func=lambda a: (e.print_help(), 0)[1])
    ss = e.add_subparsers(dest="eval_command", metavar="WHAT")

    def sub(name: str, help: str, func, layers: str = "all") -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        q = ss.add_parser(name, help=help, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        q.add_argument("--out", default=OUT, help=f"results folder (default {OUT})")
        if layers:
            add_model_options(q, layers_default=layers)
        q.set_defaults(threads=2, func=func)
        return q

    t = sub("tatoeba", "Tatoeba xx<->eng accuracy + xSIM by layer, raw and centred", run_tatoeba)
    t.add_argument("--langs", default="all", help="'all' or codes 'de,fr,zh' (ISO 639-1 or 639-3)")
    t.add_argument("--transforms", default="none,center", help="none,center (default both)")
    t.add_argument("--margin-k", type=int, default=4, help="k of the xSIM ratio margin (default 4)")
    add_split_options(t, "sentences of each language")

    b = sub("bli", "word translation P@1/5/10 (MUSE pair or your dictionary), by POS", run_bli)
    b.add_argument("--pair", default=None, help="a MUSE pair under the data root, e.g. de-en (default de-en)")
    b.add_argument("--dictionary", default=None, help="your dictionary: 'source<TAB>target' per line")
    b.add_argument("--keep-lone-piece", action="store_true",
                   help="keep a lone '▁' piece in a word's vector (default: dropped)")
    b.add_argument("--methods", default="cosine,csls", help="cosine,csls (default both)")
    b.add_argument("--csls-k", type=int, default=10, help="CSLS neighbourhood (default 10)")
    add_split_options(b, "source words")

    c = sub("bucc", "BUCC-style mining F1 on your gold pairs (threshold chosen on a dev split)", run_bucc, "12")
    c.add_argument("--src", required=True, help="source sentences 'id<TAB>text' (plain lines with --no-ids)")
    c.add_argument("--tgt", required=True, help="target sentences")
    c.add_argument("--gold", required=True, help="gold pairs 'src_id<TAB>tgt_id'")
    c.add_argument("--no-ids", action="store_true", help="plain lines; ids are 1-based line numbers")
    add_mining_options(c)

    p = sub("pool", "mining F1 on Tatoeba languages shuffled together", run_pool, "last")
    p.add_argument("--langs", default="all", help="'all' or codes 'de,fr,zh'")
    p.add_argument("--transforms", default="none,center", help="none,center (default both)")
    p.add_argument("--modes", default="forward,max,intersect", help="mining modes (default forward,max,intersect)")
    p.add_argument("-k", type=int, default=4, help="margin neighbourhood (default 4)")
    add_split_options(p, "source sentences")

    r = sub("recall", "recall@k of an index against exact search (no model is run)", run_recall, "")
    r.add_argument("--index", required=True, help="index directory")
    r.add_argument("-k", type=int, default=10, help="k for recall@k (default 10)")
    r.add_argument("--queries", type=int, default=1000, help="stored vectors sampled as queries (default 1000)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=2, help="FAISS threads (default 2)")
    add_print_config(r)


def add_split_options(q: argparse.ArgumentParser, unit: str) -> None:
    q.add_argument("--dev-fraction", type=float, default=0.5,
                   help=f"share of the {unit} that chooses the best layer (the rest reports it; default 0.5)")
    q.add_argument("--seed", type=int, default=0, help="seed of the dev/test split (default 0)")


def _run(args: argparse.Namespace, cfg, fn):  # type: ignore[no-untyped-def]
    if print_config(args, cfg, out=args.out):
        return None
    check_out("--out", args.out)
    result = fn(cfg)
    path = finish(result, args.out)
    return result, path


def run_tatoeba(args: argparse.Namespace) -> int:
    from ..studies.retrieval import TatoebaConfig, tatoeba

    cfg = TatoebaConfig(langs=args.langs, transforms=args.transforms, margin_k=args.margin_k,
                        dev_fraction=args.dev_fraction, seed=args.seed, **model_fields(args))
    done = _run(args, cfg, tatoeba)
    if done is None:
        return 0
    r, path = done
    from ..plots.retrieval import plot_tatoeba

    plot_tatoeba(r, args.out)
    for tr, s in r.transforms.items():
        t, a = s.test_at_best, s.average_by_layer[s.best_layer_all_data]
        print(f"tatoeba ({len(r.languages)} languages, {tr}): layer {s.best_layer} chosen on dev; test half "
              f"xx->eng {t.xx_to_eng:.4f}, eng->xx {t.eng_to_xx:.4f}, xSIM {t.xsim_xx_to_eng:.4f}; all data, best "
              f"layer {s.best_layer_all_data}: {a.xx_to_eng:.4f} / {a.eng_to_xx:.4f}, xSIM {a.xsim_xx_to_eng:.4f} / "
              f"{a.xsim_eng_to_xx:.4f}")
    print(f"results: {path}")
    return 0


def run_bli(args: argparse.Namespace) -> int:
    from ..studies.retrieval import BliConfig, bli

    cfg = BliConfig(pair=args.pair, dictionary=args.dictionary, drop_lone_piece=not args.keep_lone_piece,
                    methods=args.methods, csls_k=args.csls_k, dev_fraction=args.dev_fraction, seed=args.seed,
                    **model_fields(args))
    done = _run(args, cfg, bli)
    if done is None:
        return 0
    r, path = done
    from ..plots.retrieval import plot_bli

    plot_bli(r, args.out)
    for la, by in r.results.items():
        for m, s in by.items():
            cats = ", ".join(f"{c} {v.p_at_1:.1f}" for c, v in s.by_category.items())
            rec = f"; n+v+a+o {s.recommended.p_at_1:.1f}" if s.recommended else ""
            print(f"{r.pair or r.dictionary} layer {la} {m}: P@1 all {s.all_categories.p_at_1:.1f} (w/o identical "
                  f"{s.all_categories_without_identical.p_at_1:.1f}){rec}{'; ' + cats if cats else ''}")
    c = r.layer_choice
    print(f"best layer {c.best_layer} ({c.method}, chosen on {c.split.n_dev} dev words): test P@1 {c.test_at_best.p_at_1:.1f}")
    print(f"results: {path}")
    return 0


def run_bucc(args: argparse.Namespace) -> int:
    from .index_cmd import mining_fields
    from ..studies.retrieval import BuccConfig, bucc

    done = _run(args, BuccConfig(with_ids=not args.no_ids, **mining_fields(args)), bucc)
    if done is None:
        return 0
    r, path = done
    ev = r.evaluation
    print(f"BUCC F1 on the test split {ev.test.f1:.4f} (P {ev.test.precision:.4f}, R {ev.test.recall:.4f}; "
          f"threshold {ev.threshold:.4f} chosen on the dev split); all data at its own best threshold: "
          f"{ev.oracle_all_data.f1:.4f} -> {path}")
    return 0


def run_pool(args: argparse.Namespace) -> int:
    from ..studies.retrieval import PoolConfig, pool

    cfg = PoolConfig(langs=args.langs, transforms=args.transforms, modes=args.modes, k=args.k,
                     dev_fraction=args.dev_fraction, seed=args.seed, **model_fields(args))
    done = _run(args, cfg, pool)
    if done is None:
        return 0
    r, path = done
    for la, by in r.results.items():
        for tr, modes in by.items():
            for md, ev in modes.items():
                print(f"pool layer {la} {tr} {md}: test F1 {ev.test.f1:.4f} (threshold from dev); all data "
                      f"(oracle threshold) F1 {ev.oracle_all_data.f1:.4f} (P {ev.oracle_all_data.precision:.4f} "
                      f"R {ev.oracle_all_data.recall:.4f})")
    print(f"{r.n_sources} sources, {r.n_targets_distinct} distinct English targets; results: {path}")
    return 0


def run_recall(args: argparse.Namespace) -> int:
    from ..studies.retrieval import RecallConfig, recall

    cfg = RecallConfig(index=args.index, k=args.k, queries=args.queries, seed=args.seed, threads=args.threads)
    done = _run(args, cfg, recall)
    if done is None:
        return 0
    r, path = done
    print(", ".join(f"recall@{k} {v:.4f}" for k, v in r.recall.items()) + f" ({r.key}, {r.search_params}) -> {path}")
    return 0
