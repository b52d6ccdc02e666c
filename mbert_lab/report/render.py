"""The report's pages: ``report.html`` (one self-contained file: inline CSS, plots embedded as
``data:`` URIs, no script, no external resource of any kind), ``report.md`` (plots beside it in
``figures/``) and, written by the Result itself, ``report.json``."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.3em;border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{font-weight:600;padding:.1em .4em;border-radius:3px;white-space:nowrap}
.v-reproduced{background:#d6f5d6}.v-partly{background:#fff1c2}.v-not-reproduced{background:#f9d0d0}
.v-not-measurable-here{background:#e6e6e6}.v-error{background:#f4b6b6}
.small{font-size:.85em;color:#555}.err{color:#a00}img.plot{max-width:100%;border:1px solid #ddd}
.cite{font-size:.85em;color:#333}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def fmt_value(f: Any) -> str:
    """``12.3 [11.0, 13.5]`` / ``0.42 ± 0.03`` / ``n/a``."""
    if f is None or f.value is None:
        return "n/a"
    s = f"{f.value:.4g}"
    if f.ci_low is not None and f.ci_high is not None:
        s += f" [{f.ci_low:.4g}, {f.ci_high:.4g}]"
    if f.spread is not None:
        s += f" ± {f.spread:.3g}"
    return s


def _badge(v: str) -> str:
    return f'<span class="v v-{_e(v.replace(" ", "-"))}">{_e(v)}</span>'


def _figure_keys(claim: Any) -> list[tuple[str, str, str]]:
    """(key, label, unit) of every figure of any column, in first-seen order."""
    seen: dict[str, tuple[str, str, str]] = {}
    for col in claim.columns:
        for f in col.figures:
            seen.setdefault(f.key, (f.key, f.label, f.unit))
    return list(seen.values())


def _summary_html(res: Any) -> str:
    head = "".join(f"<th>{_e(m)}: figure match</th><th>{_e(m)}: finding holds</th><th>{_e(m)}: runtime</th>"
                   for m in res.models)
    rows = []
    for c in res.claims:
        cells = ""
        for col in c.columns:
            cells += (f"<td>{_badge(col.figure_match.verdict)}</td><td>{_badge(col.finding.verdict)}</td>"
                      f'<td class="num">{col.runtime_s:.0f} s ({col.cpu_s:.0f} s CPU)</td>')
        rows.append(f'<tr><td>{c.number}</td><td><a href="#claim-{_e(c.id)}">{_e(c.title)}</a></td>{cells}</tr>')
    return (f'<table class="summary"><tr><th>#</th><th>claim</th>{head}</tr>{"".join(rows)}</table>')


def _anchors_html(c: Any) -> str:
    rows = "".join(
        f"<tr><td>{_e(a.key)}</td><td class='num'>{_e(a.value if a.value is not None else a.statement)}</td>"
        f"<td>{_e(a.unit)}</td><td>{_e(a.model)}</td><td>{_e(a.data)}</td><td>{_e(a.where)}</td>"
        f"<td class='small'>{_e(a.checked)}</td></tr>" for a in c.anchors) or (
        "<tr><td colspan='7' class='small'>no published figure is recorded for this claim</td></tr>")
    return ("<table class='anchors'><tr><th>published figure</th><th>value</th><th>unit</th><th>model</th>"
            f"<th>data</th><th>where</th><th>checked</th></tr>{rows}</table>")


def _ours_html(c: Any) -> str:
    keys = _figure_keys(c)
    if not keys:
        return '<p class="small">No figures.</p>'
    head = "".join(f"<th>{_e(col.model)}</th>" for col in c.columns)
    rows = []
    for key, label, unit in keys:
        cells = "".join(f"<td class='num'>{_e(fmt_value(col.figure(key)))}</td>" for col in c.columns)
        rows.append(f"<tr><td>{_e(label)}</td><td class='small'>{_e(key)}</td><td>{_e(unit)}</td>{cells}</tr>")
    return f"<table class='ours'><tr><th>figure</th><th>key</th><th>unit</th>{head}</tr>{''.join(rows)}</table>"


def _verdicts_html(c: Any) -> str:
    head = "".join(f"<th>{_e(col.model)}</th>" for col in c.columns)
    rows = []
    for name, attr in (("figure match", "figure_match"), ("finding holds", "finding")):
        cells = []
        for col in c.columns:
            v = getattr(col, attr)
            rules = "".join(
                f"<li>{'pass' if r.passed else 'fail' if r.passed is False else 'n/a'}: {_e(r.text)}"
                f" <span class='small'>({_e(r.detail)})</span></li>" for r in v.rules)
            cells.append(f"<td>{_badge(v.verdict)}<div class='small'>{_e(v.reason)}</div>"
                         + (f"<ul class='small'>{rules}</ul>" if rules else "") + "</td>")
        rows.append(f"<tr><th>{name}</th>{''.join(cells)}</tr>")
    return f"<table class='verdicts'><tr><th>verdict</th>{head}</tr>{''.join(rows)}</table>"


def _tables_html(c: Any) -> str:
    out = []
    for col in c.columns:
        for name, rows in col.tables.items():
            if not rows:
                continue
            cols = list(dict.fromkeys(k for r in rows for k in r))
            body = "".join("<tr>" + "".join(f"<td>{_e(_cell(r.get(k)))}</td>" for k in cols) + "</tr>" for r in rows)
            out.append(f"<h3>{_e(name)} ({_e(col.model)})</h3><table class='extra'><tr>"
                       + "".join(f"<th>{_e(k)}</th>" for k in cols) + f"</tr>{body}</table>")
    return "".join(out)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _provenance_html(c: Any) -> str:
    items = []
    for col in c.columns:
        lines = "".join(f"<li>{_e(s)}</li>" for s in col.studies)
        notes = "".join(f"<li>{_e(n)}</li>" for n in col.notes)
        err = f"<p class='err'>error: {_e(col.error)}</p>" if col.error else ""
        items.append(f"<h3>{_e(col.model)} ({col.runtime_s:.1f} s)</h3>{err}"
                     + (f"<p class='small'>notes:</p><ul class='small'>{notes}</ul>" if notes else "")
                     + (f"<p class='small'>studies (results saved):</p><ul class='small'>{lines}</ul>" if lines else ""))
    return "".join(items)


def claim_html(c: Any, png: bytes | None) -> str:
    img = (f"<img class='plot' alt='plot for claim {c.number}: {_e(c.title)}' "
           f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>" if png else
           f"<p class='err'>plot: {_e(c.plot_error or 'no plot')}</p>")
    cites = "".join(f"<li>{_e(x)}</li>" for x in c.citations)
    caveat = f"<p><b>Caveat.</b> {_e(c.caveat)}</p>" if c.caveat else ""
    return (f"<section class='claim' id='claim-{_e(c.id)}'><h2>{c.number}. {_e(c.title)}</h2>"
            f"<p><b>Question.</b> {_e(c.question)}</p>{caveat}"
            f"<h3>Published figures</h3>{_anchors_html(c)}<h3>Our figures</h3>{_ours_html(c)}"
            f"<h3>Verdicts</h3>{_verdicts_html(c)}<h3>Plot</h3>{img}{_tables_html(c)}"
            f"<h3>Provenance</h3>{_provenance_html(c)}<h3>Sources</h3><ol class='cite'>{cites}</ol></section>")


def report_html(res: Any) -> str:
    images = res.images or {}
    body = "".join(claim_html(c, images.get(c.id)) for c in res.claims)
    p = res.provenance
    pk = getattr(p, "packages", {}) or {}
    ver = _e(pk.get("mbert-lab") or pk.get("mbert_lab") or "") + (f" (git {_e(p.git_commit[:10])})" if p.git_commit else "")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>mbert-lab findings report</title><style>{CSS}</style></head><body>"
            f"<h1>Multilingual BERTology findings, reproduced</h1>"
            f"<p class='small'>profile: {_e(res.profile)}; models: {_e(', '.join(res.models))}; "
            f"total runtime {res.runtime_s:.0f} s; mbert-lab {ver}. Verdicts: <i>figure match</i> applies only "
            "where model and data equal the published run; <i>finding holds</i> tests the direction, ordering, "
            "peak or interval the claim states.</p>"
            f"{_summary_html(res)}{body}</body></html>\n")


# ---------------------------------------------------------------------------- markdown


def report_md(res: Any) -> str:
    out = ["# Multilingual BERTology findings, reproduced", "",
           f"Profile: {res.profile}; models: {', '.join(res.models)}; total runtime {res.runtime_s:.0f} s.", "",
           "| # | claim | " + " | ".join(f"{m}: figure match | {m}: finding holds | {m}: runtime" for m in res.models) + " |",
           "|---|---|" + "---|---|---|" * len(res.models)]
    for c in res.claims:
        cells = " | ".join(f"{col.figure_match.verdict} | {col.finding.verdict} | {col.runtime_s:.0f} s "
                           f"({col.cpu_s:.0f} s CPU)" for col in c.columns)
        out.append(f"| {c.number} | {c.title} | {cells} |")
    for c in res.claims:
        out += ["", f"## {c.number}. {c.title}", "", f"**Question.** {c.question}", ""]
        if c.caveat:
            out += [f"**Caveat.** {c.caveat}", ""]
        if c.anchors:
            out += ["| published figure | value | unit | model | data | where |", "|---|---|---|---|---|---|"]
            out += [f"| {a.key} | {a.value if a.value is not None else a.statement} | {a.unit} | {a.model} | "
                    f"{a.data} | {a.where} |" for a in c.anchors]
            out.append("")
        out += ["| figure | " + " | ".join(col.model for col in c.columns) + " |", "|---|" + "---|" * len(c.columns)]
        out += [f"| {label} (`{key}`) | " + " | ".join(fmt_value(col.figure(key)) for col in c.columns) + " |"
                for key, label, _ in _figure_keys(c)]
        out += ["", "| verdict | " + " | ".join(col.model for col in c.columns) + " |", "|---|" + "---|" * len(c.columns)]
        for name, attr in (("figure match", "figure_match"), ("finding holds", "finding")):
            out.append(f"| {name} | " + " | ".join(f"**{getattr(col, attr).verdict}**: {getattr(col, attr).reason}"
                                                   for col in c.columns) + " |")
        out.append("")
        out.append(f"![plot]({c.plot_file})" if c.plot_file else f"(no plot: {c.plot_error})")
        for col in c.columns:
            if col.error:
                out += ["", f"Error ({col.model}): {col.error}"]
            out += [f"- {col.model}: {n}" for n in col.notes]
        out += ["", "Sources:", *[f"- {x}" for x in c.citations]]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def write_pages(res: Any, out: Path) -> None:
    from ..io import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    for c in res.claims:
        png = (res.images or {}).get(c.id)
        if png is not None and c.plot_file:
            p = out / c.plot_file
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(png)
    atomic_write_text(out / "report.html", report_html(res))
    atomic_write_text(out / "report.md", report_md(res))
