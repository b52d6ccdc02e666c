"""The ``mbert-lab`` command line.

Each subcommand lives in its own small module under ``mbert_lab/cli/`` exposing
``add_parser(subparsers)``; the module registers ``run(args) -> int`` as the handler. Only
argparse is imported here so ``mbert-lab --help`` is instant: heavy libraries are imported
inside the handlers.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# name -> module; order is the order shown in --help.
COMMANDS: dict[str, str] = {
    "demo": "mbert_lab.cli.demo_cmd",
    "extract": "mbert_lab.cli.extract_cmd",
    "centroids": "mbert_lab.cli.centroids_cmd",
    "data": "mbert_lab.cli.data_cmd",
    "index": "mbert_lab.cli.index_cmd",
    "neighbours": "mbert_lab.cli.neighbours_cmd",
    "model": "mbert_lab.cli.model_cmd",
    "align": "mbert_lab.cli.align_cmd",  # also registers align-eval
    "vocab": "mbert_lab.cli.vocab_cmd",
    "transfer": "mbert_lab.cli.transfer_cmd",
    "run": "mbert_lab.cli.run_cmd",
}

EPILOG = """examples:
  mbert-lab demo --out results/demo                 # the whole suite, offline, on embedded data
  mbert-lab data list                               # which datasets are present / missing
  mbert-lab model build-offline                     # build the offline default model now
  mbert-lab extract --text "Hello world" --layers 4,8 --out vec.npz

Datasets are read from $MBERT_LAB_DATA; caches live in $MBERT_LAB_CACHE.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mbert-lab",
        description="Cross-lingual analysis of multilingual encoders (mBERT first).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from mbert_lab import __version__

    parser.add_argument("--version", action="version", version=f"mbert-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from mbert_lab.errors import MbertLabError

    try:
        return int(args.func(args) or 0)
    except MbertLabError as e:
        print(f"mbert-lab {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted; finished shards/results are kept and a rerun resumes", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `mbert-lab ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
