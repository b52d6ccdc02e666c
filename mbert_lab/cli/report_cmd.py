"""``mbert-lab report``: the multilingual BERTology findings, reproduced on one or more models and
set beside the published figures (study: ``report``, :mod:`mbert_lab.studies.report`).

argparse -> :class:`ReportConfig` -> :func:`report` -> report.html / report.md / report.json.
"""

from __future__ import annotations

import argparse

from .common import check_out, print_config

EXAMPLES = """examples:
  # the quick profile on the offline model (capped data; ~20 minutes on 2 CPU cores)
  mbert-lab report --profile quick --out results/report   # [long]
  # two claims only
  mbert-lab report --claims alignment,centering --out results/report-1-4   # [long]
  # models side by side (columns): the offline model and mBERT from the Hugging Face hub
  mbert-lab report --model offline --model bert-base-multilingual-cased --profile full --out results/report-full   # [hub]
  # list the claims (id, number, title) and exit
  mbert-lab report --list-claims
  # your own claim files (studies + rules, see mbert_lab/report/claims/) on small data
  mbert-lab report --claims-dir examples/report-claims --out results/report-small

Outputs in --out: report.html (one self-contained page: plots embedded, no external resource),
report.md (+ figures/*.png), report.json (typed result), and each claim's study results under
<model>/<claim>/. Each claim has two verdicts per model: 'figure match' (only where model and
data equal the published run) and 'finding holds' (the direction / interval / ordering stated),
each reproduced, partly, not reproduced or not measurable here (with the reason). Claim files:
mbert_lab/report/claims/*.toml; published figures: mbert_lab/report/anchors.toml.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="the multilingual BERTology findings, reproduced beside the published figures (HTML/MD/JSON)",
        description="Run the declared claims (alignment, centroids, centering, transfer, ...) on one or more "
        "models and write one self-contained report with published figures, ours, plots and verdicts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", action="append", default=[], metavar="MODEL",
                   help="a model column (repeatable): 'offline' (default), a Hugging Face id or a local folder")
    p.add_argument("--profile", default="quick", help="quick (capped data, minutes) or full (everything available)")
    p.add_argument("--claims", default=None, help="comma-separated claim ids or numbers (default: all)")
    p.add_argument("--list-claims", action="store_true", help="print the claims and exit")
    p.add_argument("--claims-dir", default=None, metavar="DIR",
                   help="your own folder of claim files (default: the package's mbert_lab/report/claims)")
    p.add_argument("--anchors", default=None, metavar="FILE",
                   help="your own anchors file of published figures (default: the package's anchors.toml)")
    p.add_argument("--seed", type=int, default=0, help="seed for bootstrap and permutation tests (0)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--dtype", default="fp32", help="compute precision: fp32, bf16 or int8 (default: fp32)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the vector store")
    p.add_argument("--print-config", action="store_true",
                   help="print the effective study config (a TOML study file for `mbert-lab run`) and exit")
    p.add_argument("--out", default="results/report", help="output folder (default: results/report)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..studies.report import ReportConfig, report

    if args.list_claims:
        from ..report.claims import load_anchors, load_claims

        for c in load_claims(directory=args.claims_dir, anchors=load_anchors(args.anchors)):
            print(f"{c.number:>2}  {c.id:24s} {c.title}")
        return 0
    cfg = ReportConfig(models=tuple(args.model) or ReportConfig().models, profile=args.profile,
                       claims=args.claims or (), out=args.out, seed=args.seed, device=args.device,
                       threads=args.threads, dtype=args.dtype, cache=not args.no_cache,
                       claims_dir=args.claims_dir, anchors=args.anchors)
    if print_config(args, cfg):
        return 0
    check_out("--out", args.out)
    from .common import with_command

    res = with_command(report(cfg))
    res.save(args.out)  # again, with the command line in report.json's provenance
    print("\n".join(res.summary()))
    print(f"wrote {args.out}/report.html, report.md, report.json ({res.runtime_s:.0f} s)")
    return 0
