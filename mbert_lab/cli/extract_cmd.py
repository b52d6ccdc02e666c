"""``mbert-lab extract``: per-layer vectors for any text (study: ``extract``)."""

from __future__ import annotations

import argparse

from .common import (
    add_model_options,
    check_out,
    model_fields,
    print_config,
    split_list,
    with_command,
)
from .ray_options import add_ray_options, ray_fields

EXAMPLES = """examples:
  mbert-lab extract --text "Hello world." --text "Hallo Welt." --layers 4,8 --out vec.npz
  mbert-lab extract --file sentences.txt --layers all --outputs sentence,word --out vec.npz
  mbert-lab extract --file tokens.txt --pretokenized --outputs word --layers 8 --out words.npz
  mbert-lab extract --file sentences.txt --layers 8 --ray --ray-workers 2 --threads 1 --out vec.npz   # [long]
  mbert-lab extract --file corpus.parquet --id-column doc_id --text-column sentence --layers 8 --out vec.npz

Writes OUT (.npz: sentence_{mean,cls,mean_all}_L<layer>, word_L<layer>/subword_L<layer> with
<kind>_offsets) and OUT with .json (provenance, tokens, ids). --file: one text per line (a blank
line is an error naming file:line), or .parquet / .jsonl records with an id and a text column
(read as a Ray dataset with --ray; the same input formats with and without it).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="extract per-layer sentence/word/subword vectors",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", action="append", help="a sentence (repeatable)")
    src.add_argument("--file", help="one sentence per line (UTF-8)")
    p.add_argument("--id-column", default=None, help="--file .parquet/.jsonl: the id column (default id)")
    p.add_argument("--text-column", default=None, help="--file .parquet/.jsonl: the text column (default text)")
    p.add_argument("--pretokenized", action="store_true", help="lines are words separated by ASCII spaces")
    p.add_argument("--outputs", default="sentence", help="comma list of sentence,word,subword (default: sentence)")
    p.add_argument("--word-pooling", default="mean", help="mean or first subword (default: mean)")
    p.add_argument("--out", required=True, help="output .npz path")
    add_model_options(p, layers_default="all")
    add_ray_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..studies.representations import RepresentationsConfig, extract

    cfg = RepresentationsConfig(
        texts=tuple(args.text or ()), file=args.file, pretokenized=args.pretokenized,
        outputs=split_list(args.outputs), word_pooling=args.word_pooling, id_column=args.id_column,
        text_column=args.text_column, **ray_fields(args), **model_fields(args),
    )
    if print_config(args, cfg):
        return 0
    check_out("--out", args.out, kind="file")
    result = with_command(extract(cfg))
    out = Path(args.out)
    result.write_npz(out)
    from ..io import atomic_write_text

    atomic_write_text(out.with_suffix(".json"), result.to_json() + "\n")
    print(f"wrote {out} ({result.n} texts, layers {list(result.layers)}) and {out.with_suffix('.json')}")
    return 0
