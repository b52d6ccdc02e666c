"""``mbert-lab neighbours`` (and ``index search``): nearest neighbours of a sentence or a word
across languages, from an index (study: ``search`` in :mod:`mbert_lab.studies.retrieval`)."""

from __future__ import annotations

import argparse

from .common import add_model_options, model_fields, print_config

EPILOG = """examples:
  mbert-lab neighbours "Where is the station?" --lang en --to de,fr,zh -k 10 --index results/index/tatoeba3
  # a word in context, and the same word out of context (index built with --unit word or word-type)
  mbert-lab neighbours "I sat on the bank of the river" --word bank --lang en --to de,fr --index results/index/words
  mbert-lab neighbours --word bank --lang en --to de --index results/index/words

The index's layer is used (--layers, if given, must name it). Language codes: ISO 639-1 or 639-3.
"""


def add_query_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("text", nargs="*", help="query sentence(s); with --word, the context of the word")
    s.add_argument("--index", default="results/index/default", help="index directory (default results/index/default)")
    s.add_argument("--lang", required=True, help="language of the query (used by centred indexes; shown)")
    s.add_argument("--to", default=None, help="k hits in each of these languages, e.g. de,fr,zh")
    s.add_argument("-k", type=int, default=10, help="hits per query (per language with --to; default 10)")
    s.add_argument("--word", default=None, help="query by word: the word in the given context text, "
                   "or alone when no text is given")
    s.add_argument("--mmap", action="store_true", help="memory-map the index (large indexes)")
    add_model_options(s, layers_default="all")
    s.set_defaults(threads=2, func=run_search)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "neighbours",
        help="nearest neighbours of a sentence or word in other languages (from an index)",
        description="Search a FAISS index built by 'mbert-lab index build': results show language, "
        "cosine score and text.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_query_options(p)


def search_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ..studies.retrieval import SearchConfig

    return SearchConfig(index=args.index, texts=tuple(args.text or ()), lang=args.lang, to=args.to or (),
                        k=args.k, word=args.word, mmap=args.mmap, **model_fields(args))


def print_hits(result) -> None:  # type: ignore[no-untyped-def]
    for q in result.queries:
        print(f"query: {q.query}")
        for lg, hits in q.hits.items():
            if lg != "*":
                print(f"  -> {lg}")
            for h in hits:
                print(f"  {h.rank:>3}  {h.lang:<5} {h.score:7.4f}  {h.text}")


def run_search(args: argparse.Namespace) -> int:
    from ..studies.retrieval import search

    cfg = search_config(args)
    if print_config(args, cfg):
        return 0
    print_hits(search(cfg))
    return 0
