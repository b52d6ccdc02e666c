"""``mbert-lab data``: list, fetch and describe the datasets.

    mbert-lab data list [--verify]     # present / missing / mismatch, licences, extra files
    mbert-lab data get NAME [--force]  # download from the card's URLs, sha256-checked
    mbert-lab data card NAME [--raw]   # print a data card

Only argparse is imported at module import; the registry is imported by the handlers.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "data",
        help="list, download and describe the evaluation datasets",
        description="Datasets live under $MBERT_LAB_DATA (layout <set>/<files as named upstream>); "
        "each has a data card with its source, licence and checksums.",
    )
    p.add_argument("--data-root", default=None, help="data root (default: $MBERT_LAB_DATA)")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")

    ls = sub.add_parser(
        "list",
        help="which datasets are present, missing or corrupted, and what else is there",
        description="Exit status 2 when a file differs from its card (size, or sha256 with "
        "--verify). Files in a dataset's folder that its card does not list, and datasets "
        "found in the upstream layout without a card (e.g. ner/masakhaner-v2), are listed.",
    )
    ls.add_argument(
        "--verify", action="store_true", help="compute every file's sha256 (default: sizes only)"
    )
    ls.set_defaults(func=run_list)

    g = sub.add_parser("get", help="download a dataset into the data root (needs internet)")
    g.add_argument("name", help="dataset name, as in `mbert-lab data list`")
    g.add_argument(
        "--force", action="store_true", help="download again even if the files are present"
    )
    g.set_defaults(func=run_get)

    c = sub.add_parser("card", help="print a dataset's data card")
    c.add_argument("name", help="dataset name")
    c.add_argument("--raw", action="store_true", help="the card file as is (with every checksum)")
    c.set_defaults(func=run_card)

    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """``mbert-lab data`` without an action: the same as ``data list``."""
    args.verify = False
    return run_list(args)


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def run_list(args: argparse.Namespace) -> int:
    from mbert_lab.data import registry
    from mbert_lab.paths import data_root

    root = args.data_root
    rows = registry.status(verify=bool(getattr(args, "verify", False)), root=root)
    head = ("name", "status", "files", "size", "licence", "research-only")
    table = [head] + [
        (
            s.name,
            s.state + (" (sha256 ok)" if s.verified and s.state == "present" else ""),
            f"{s.n_present}/{s.n_files}",
            _fmt_bytes(s.total_bytes),
            s.licence,
            "yes" if s.research_only else "no",
        )
        for s in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print(f"\ndata root: {root or data_root()}")
    _print_extra(rows, root)
    bad = [s for s in rows if s.state == "mismatch"]
    for s in bad:
        print(f"{s.name}: differs from its card: {', '.join(s.mismatched[:5])}", file=sys.stderr)
    missing = [s.name for s in rows if s.state in ("missing", "partial")]
    if missing:
        print("fetch with: " + "; ".join(f"mbert-lab data get {n}" for n in missing))
    if any(s.research_only for s in rows):
        print(
            "research-only datasets may not be used commercially; see `mbert-lab data card NAME`."
        )
    return 2 if bad else 0


def _print_extra(rows, root) -> None:
    """Files the cards do not list, and datasets found on disk without a card."""
    from mbert_lab.data import datasets

    for s in rows:
        if s.extra:
            more = f", ... ({len(s.extra) - 8} more)" if len(s.extra) > 8 else ""
            print(
                f"{s.name}: {len(s.extra)} extra file{'s' if len(s.extra) != 1 else ''}, "
                f"not in the card: {', '.join(s.extra[:8])}{more}"
            )
    for name, files in datasets.discovered(root).items():
        langs = datasets.available_languages(name, root)
        print(
            f"{name}: {len(files)} file{'s' if len(files) != 1 else ''} in the upstream layout, "
            f"no card" + (f" (languages: {', '.join(langs)})" if langs else "")
        )


def run_get(args: argparse.Namespace) -> int:
    from mbert_lab.data import registry

    c = registry.card(args.name)
    if c.licence.research_only:
        print(f"note: {c.name} is licensed {c.licence.id}, research use only", file=sys.stderr)
    rep = registry.get(
        args.name,
        root=args.data_root,
        force=args.force,
        progress=lambda m: print(m, file=sys.stderr),
    )
    print(
        f"{rep.name}: {len(rep.downloaded)} downloaded, {len(rep.derived)} built, "
        f"{len(rep.kept)} already present; all sha256-checked, in {rep.root / c.folder}"
    )
    return 0


def run_card(args: argparse.Namespace) -> int:
    from mbert_lab.data import registry

    c = registry.card(args.name)
    if args.raw:
        from pathlib import Path

        sys.stdout.write(Path(c.source).read_text(encoding="utf-8"))  # type: ignore[arg-type]
        return 0
    up = c.upstream
    lines = [
        f"{c.pretty_name}  [{c.name}]",
        f"folder:    {c.folder}  ({len(c.files)} files, {_fmt_bytes(c.total_bytes)})",
        f"source:    {up.repository}"
        + (f" @ {up.commit}" if up.commit else f" @ {up.ref} (not pinned; checksums pin it)")
        + (f" : {up.path}" if up.path else ""),
        f"licence:   {c.licence.id}" + ("  (research only)" if c.licence.research_only else ""),
        f"languages: {', '.join(c.languages)}",
        f"splits:    {', '.join(c.splits)}",
        "",
        "known quirks:",
        *[f"  - {q}" for q in c.known_quirks],
        "",
        c.description.strip(),
        "",
        "citation:",
        c.citation.rstrip(),
        "",
        f"(full card with download URLs and every checksum: mbert-lab data card {c.name} --raw)",
    ]
    print("\n".join(lines))
    return 0
