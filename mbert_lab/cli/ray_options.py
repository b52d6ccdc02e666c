"""``--ray [ADDRESS]`` and ``--ray-workers N`` for the commands that can run on Ray."""

from __future__ import annotations

import argparse
from typing import Any


def add_ray_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run on Ray: alone, a local cluster on 127.0.0.1 (or $RAY_ADDRESS); or a cluster "
                   "address HOST:PORT / ray://HOST:PORT / auto. Same output as without it "
                   "(pip install 'mbert-lab[ray]')")
    p.add_argument("--ray-workers", type=int, default=None, metavar="N",
                   help="with --ray: model actors / index parts / k-NN tasks (default: cluster CPUs / --threads)")


def ray_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"ray": args.ray, "ray_workers": args.ray_workers}


def add_knn_options(p: argparse.ArgumentParser) -> None:
    """``index mine``: where the k-NN lists of both directions come from, and the Ray budget."""
    p.add_argument("--knn", default="exact", choices=("exact", "ivf"),
                   help="exact (brute force) or ivf: an IVF index over each side, nprobe tuned for recall@k "
                   "(same margin scoring; with every list probed, exact's pairs) (default exact)")
    p.add_argument("--knn-key", default="auto", metavar="KEY",
                   help="with --knn ivf: 'auto' (IVF<nlist>,Flat for the side's size) or a FAISS IVF factory string")
    p.add_argument("--nprobe", type=int, default=None,
                   help="with --knn ivf: lists probed per query (default: tuned to --knn-recall)")
    p.add_argument("--knn-recall", type=float, default=0.95,
                   help="with --knn ivf: nprobe tuned to this recall@k on a sample of the queries (default 0.95)")
    p.add_argument("--memory", default=None,
                   help="with --ray: a k-NN task's memory budget, e.g. 2G: larger targets / index parts are "
                   "searched a shard at a time")


def knn_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"knn": args.knn, "knn_key": args.knn_key, "nprobe": args.nprobe, "knn_recall": args.knn_recall,
            "memory": args.memory}


def add_record_options(p: argparse.ArgumentParser, lang: bool = False) -> None:
    """Columns of Parquet (.parquet) / JSON Lines (.jsonl) inputs (read as a Ray dataset with --ray)."""
    p.add_argument("--id-column", default=None, help="Parquet/JSON Lines inputs: the id column (default id)")
    p.add_argument("--text-column", default=None, help="Parquet/JSON Lines inputs: the text column (default text)")
    if lang:
        p.add_argument("--lang-column", default=None,
                       help="Parquet/JSON Lines inputs: the language column (default lang)")


def record_fields(args: argparse.Namespace) -> dict[str, Any]:
    out = {"id_column": args.id_column, "text_column": args.text_column}
    if hasattr(args, "lang_column"):
        out["lang_column"] = args.lang_column
    return out
