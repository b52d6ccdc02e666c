"""Aggregate seeds into per-language tables: mean, sd, zero-shot average, transfer gap.

The payload keeps a simple structure for downstream readers (the vocabulary correlation reads
``payload["per_language"][lang]["mean"]``, the primary suite's scores in 0..100):

>>> agg = aggregate_scores({"en": [90.0, 92.0], "de": [80.0, 84.0]}, source="en")
>>> agg["per_language"]["de"]["mean"], agg["average_zero_shot"]["mean"], agg["transfer_gap"]
(82.0, 82.0, 9.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _sd(xs: Sequence[float]) -> float:
    return float(np.std(xs, ddof=1)) if len(xs) > 1 else 0.0


def aggregate_scores(by_lang: dict[str, list[float]], source: str | None) -> dict[str, Any]:
    """``by_lang``: lang -> one score per seed (same seed order for every language)."""
    per = {
        lang: {"mean": float(np.mean(v)), "sd": _sd(v), "seeds": [float(x) for x in v], "n_seeds": len(v)}
        for lang, v in by_lang.items()
    }
    zs = [lang for lang in by_lang if lang != source]
    out: dict[str, Any] = {"per_language": per, "source_language": source, "zero_shot_languages": zs}
    if zs:
        n = min(len(by_lang[lang]) for lang in zs)
        seed_avgs = [float(np.mean([by_lang[lang][i] for lang in zs])) for i in range(n)]
        out["average_zero_shot"] = {"mean": float(np.mean(seed_avgs)), "sd": _sd(seed_avgs), "seeds": seed_avgs}
    else:
        out["average_zero_shot"] = None
    if source in by_lang:
        out["source"] = per[source]
        out["transfer_gap"] = (per[source]["mean"] - out["average_zero_shot"]["mean"]) if zs else None
    else:
        out["source"] = None
        out["transfer_gap"] = None
    return out


def build_payload(task: str, metric: str, primary_suite: str, source: str, seed_scores: list[dict[str, dict[str, float]]],
                  extra: dict[str, Any]) -> dict[str, Any]:
    suites: dict[str, Any] = {}
    names: list[str] = []
    for sc in seed_scores:
        for s in sc:
            if s not in names:
                names.append(s)
    for s in names:
        langs: list[str] = []
        for sc in seed_scores:
            for lang in sc.get(s, {}):
                if lang not in langs:
                    langs.append(lang)
        by_lang = {lang: [sc[s][lang] for sc in seed_scores if lang in sc.get(s, {})] for lang in langs}
        suites[s] = aggregate_scores(by_lang, source)
    prim = suites[primary_suite]
    return {
        "task": task,
        "metric": metric,
        "score_scale": "0-100",
        "primary_suite": primary_suite,
        "per_language": prim["per_language"],
        "average_zero_shot": prim["average_zero_shot"],
        "source": prim["source"],
        "transfer_gap": prim["transfer_gap"],
        "suites": suites,
        **extra,
    }


def markdown_table(payload: dict[str, Any]) -> str:
    """One table per suite: language | mean ± sd | seeds; then the average and the gap."""
    lines: list[str] = []
    metric = payload["metric"]
    for suite, agg in payload["suites"].items():
        src = agg["source_language"]
        lines.append(f"### {payload['task']} / {suite} ({metric}, x100; mean ± sd over seeds)")
        lines.append("")
        lines.append("| language | mean | sd | per seed |")
        lines.append("|---|---|---|---|")
        for lang, v in agg["per_language"].items():
            tag = " (source)" if lang == src else ""
            seeds = ", ".join(f"{x:.1f}" for x in v["seeds"])
            lines.append(f"| {lang}{tag} | {v['mean']:.1f} | {v['sd']:.1f} | {seeds} |")
        if agg["average_zero_shot"]:
            a = agg["average_zero_shot"]
            lines.append(f"| **zero-shot average** | {a['mean']:.1f} | {a['sd']:.1f} | |")
        if agg["transfer_gap"] is not None:
            lines.append(f"| transfer gap ({src} − avg) | {agg['transfer_gap']:.1f} | | |")
        lines.append("")
    ref = payload.get("reference")
    if ref:
        lines.append(f"Context only (different model): {ref['label']}")
        lines.append("")
        lines.append("| language | " + " | ".join(ref["per_language"]) + " |")
        lines.append("|---|" + "---|" * len(ref["per_language"]))
        lines.append("| score | " + " | ".join(f"{v:.1f}" for v in ref["per_language"].values()) + " |")
        lines.append("")
    return "\n".join(lines)


def bar_chart(payload: dict[str, Any], stem: str | Path, title: str = "") -> list[Path]:
    """Bars by language (mean, sd as error bars), one group per suite; source bar hatched."""
    from ..plots import new_figure, save_figure

    suites = list(payload["suites"])
    langs: list[str] = []
    for s in suites:
        for lang in payload["suites"][s]["per_language"]:
            if lang not in langs:
                langs.append(lang)
    fig, ax = new_figure(max(6.0, 0.7 * len(langs) * max(1, len(suites)) + 2), 4.2)
    width = 0.8 / len(suites)
    x = np.arange(len(langs))
    for k, s in enumerate(suites):
        per = payload["suites"][s]["per_language"]
        src = payload["suites"][s]["source_language"]
        means = [per.get(lang, {}).get("mean", np.nan) for lang in langs]
        sds = [per.get(lang, {}).get("sd", 0.0) for lang in langs]
        bars = ax.bar(x + (k - (len(suites) - 1) / 2) * width, means, width, yerr=sds, capsize=2, label=s)
        for lang, b in zip(langs, bars):
            if lang == src:
                b.set_hatch("//")
    ax.set_xticks(x)
    ax.set_xticklabels(langs)
    ax.set_ylabel(f"{payload['metric']} (x100)")
    ax.set_ylim(0, 100)
    n = len(next(iter(payload["per_language"].values()))["seeds"]) if payload["per_language"] else 0
    ax.set_title(title or f"{payload['task']}: zero-shot from {payload.get('train_lang', 'en')} ({n} seeds; hatched = source)")
    if len(suites) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, stem)
