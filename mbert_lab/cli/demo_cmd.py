"""``mbert-lab demo``: every analysis, offline, on the embedded model and corpus."""

from __future__ import annotations

import argparse

EXAMPLES = """examples:
  mbert-lab demo                                  # all sections, results in results/demo/ [long]
  mbert-lab demo --languages de,ja,ar --max-pairs 100 --out /tmp/demo   # [long]
  mbert-lab demo --sections representations       # [long]
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run every analysis offline on the embedded model and corpus",
        description="Builds the offline model if needed (multilingual-e5-small, 4-bit-derived weights), "
        "reads the embedded corpus (Django's gettext catalogues) and runs each analysis section.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="results/demo", help="results folder (default: results/demo)")
    p.add_argument("--model", default="offline", help="model id or path (default: offline)")
    p.add_argument("--languages", default=None, help="comma-separated language codes of the corpus")
    p.add_argument("--max-pairs", type=int, default=200, help="sentence pairs per language, >= 10 (default 200)")
    p.add_argument("--sections", default=None, help="comma-separated subset of sections")
    p.add_argument("--no-cache", action="store_true", help="do not use the vector store")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mbert_lab.demo import DEFAULT_LANGUAGES, run_demo

    langs = tuple(args.languages.split(",")) if args.languages else DEFAULT_LANGUAGES
    sections = args.sections.split(",") if args.sections else None
    run_demo(
        out=args.out,
        model=args.model,
        languages=langs,
        max_pairs=args.max_pairs,
        sections=sections,
        use_cache=not args.no_cache,
        device=args.device,
        threads=args.threads,
    )
    return 0
