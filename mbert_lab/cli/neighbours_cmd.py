"""``mbert-lab neighbours``: nearest neighbours of a sentence or a word across languages."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  mbert-lab neighbours "Where is the station?" --lang en --to de,fr,zh -k 10 --index results/index/tatoeba3
  # a word in context, and the same word out of context (index built with --unit word or word-type)
  mbert-lab neighbours "I sat on the bank of the river" --word bank --lang en --to de,fr --index results/index/words
  mbert-lab neighbours --word bank --lang en --to de --index results/index/words
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .common import add_model_options
    from .index_cmd import add_query_options, run_search

    p = sub.add_parser(
        "neighbours",
        help="nearest neighbours of a sentence or word in other languages (from an index)",
        description="Search a FAISS index built by 'mbert-lab index build': results show language, "
        "cosine score and text.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_query_options(p)
    add_model_options(p, layers_default="12")
    p.set_defaults(threads=2)
    p.set_defaults(func=run_search)
