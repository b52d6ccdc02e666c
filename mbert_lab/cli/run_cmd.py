"""``mbert-lab run FILE``: run the studies declared in a TOML or YAML study file."""

from __future__ import annotations

import argparse

EXAMPLES = """examples:
  mbert-lab run examples/align_eval.toml --out results/study
  mbert-lab run my_studies.yaml --print-config      # validate and print, run nothing

A study file holds [[study]] tables: study = "<name>" plus the study's Config fields, and an
optional out = "folder" (default: OUT/<n>-<study>). Every study is validated before the first
one runs. `mbert-lab <command> ... --print-config` prints a command's study in this form.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the studies declared in a TOML/YAML study file",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="study file (.toml, .yaml, .yml)")
    p.add_argument("--out", default="results/run", help="folder for studies without their own 'out' (default: results/run)")
    p.add_argument("--print-config", action="store_true", help="print the validated studies and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..config import dump_studies, load_study_file
    from ..studies import run_config
    from .common import check_out, with_command

    declared = load_study_file(args.file)
    if args.print_config:
        print(dump_studies([d.config for d in declared], [d.out for d in declared]), end="")
        return 0
    outs = [Path(d.out) if d.out else Path(args.out) / f"{n}-{d.name}" for n, d in enumerate(declared, 1)]
    for d, o in zip(declared, outs):
        check_out(f"{d.where}: out", o)
    for d, o in zip(declared, outs):
        result = run_config(d.config)
        path = with_command(result).save(o)
        print(f"{d.where} ({d.name}): wrote {path}")
        summary = getattr(result, "summary", None)
        if callable(summary):
            print("  " + "\n  ".join(summary()))
    return 0
