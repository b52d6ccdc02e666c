"""Claim 2 (Cao et al. 2020): word alignment has caveats for open-class parts of speech.

- From ``bli`` results on the MUSE by-pos dictionaries (Kementchedjhieva et al. 2019 categories:
  n noun, v verb, a adjective/adverb, pn proper noun, o other = closed class, nw invalid pair):
  P@1 per category at the layer the study chose on its dev source words, and the open-class
  (n, v, a) figure as the mean of the three weighted by their source-word counts.
- From ``align_pos`` results: AER per POS group of the English words of the gold alignment sets
  (tagged by the study's own POS probe, whose English dev accuracy is reported)."""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import of_kind

OPEN = ("n", "v", "a")
NAMES = {"n": "nouns", "v": "verbs", "a": "adjectives/adverbs", "pn": "proper nouns", "o": "closed class (other)",
         "nw": "invalid pairs"}


def open_class(by_category: dict[str, Any]) -> tuple[float | None, int]:
    """(n-weighted mean P@1 over n, v, a; their source words) from one layer's by-category scores."""
    cats = [c for c in OPEN if c in by_category and by_category[c].n > 0]
    n = sum(by_category[c].n for c in cats)
    if not n:
        return None, 0
    return sum(by_category[c].p_at_1 * by_category[c].n for c in cats) / n, n


def _pair(r: Any, m: Measurement, prefix: str) -> None:
    lc = r.layer_choice
    L = lc.best_layer
    sc = r.results[L][lc.method]
    for c, p in sc.by_category.items():
        m.figures[f"{prefix}.{c}"] = Figure(f"{prefix}.{c}", f"{r.pair} P@1 {NAMES.get(c, c)} (layer {L})",
                                            p.p_at_1, n=p.n, unit="P@1 %")
    v, n = open_class(sc.by_category)
    m.figures[f"{prefix}.open"] = Figure(f"{prefix}.open", f"{r.pair} P@1 open class n+v+a (layer {L})", v, n=n,
                                         unit="P@1 %")
    if "o" in sc.by_category and v is not None:
        m.figures[f"{prefix}.closed_minus_open"] = Figure(
            f"{prefix}.closed_minus_open", f"{r.pair} P@1 closed class minus open class",
            sc.by_category["o"].p_at_1 - v, unit="points")
    if "pn" in sc.by_category and v is not None:
        m.figures[f"{prefix}.pn_minus_open"] = Figure(
            f"{prefix}.pn_minus_open", f"{r.pair} P@1 proper nouns minus open class",
            sc.by_category["pn"].p_at_1 - v, unit="points")
    m.figures[f"{prefix}.test"] = Figure(f"{prefix}.test", f"{r.pair} P@1 all categories, test split (layer {L})",
                                         lc.test_at_best.p_at_1, n=lc.test_at_best.n, unit="P@1 %")
    m.series[f"{prefix} P@1 by layer (test split)"] = {"x": [float(x) for x in sorted(lc.test_p_at_1)],
                                                         "y": [lc.test_p_at_1[x] for x in sorted(lc.test_p_at_1)]}
    m.tables[f"{prefix}_by_category"] = [
        {"category": NAMES.get(c, c), "source words": p.n, "P@1": round(p.p_at_1, 1),
         "P@1 without identical pairs": round(sc.by_category_without_identical[c].p_at_1, 1)}
        for c, p in sc.by_category.items()]
    m.notes.append(f"{r.pair}: {r.dictionary}, {r.n_sources} source and {r.n_targets} target words encoded alone; "
                   f"layer {L} chosen on {lc.split.n_dev} dev source words ({lc.method}); per-category P@1 on all "
                   f"source words of the category at that layer")


def _align(r: Any, m: Measurement) -> None:
    t = r.tagger
    m.figures["tagger.accuracy"] = Figure("tagger.accuracy", f"English POS tagger accuracy (probe on layer {t.layer}, UD dev)",
                                          t.accuracy, n=t.n_eval_words, unit="accuracy %")
    for name, s in r.sets.items():
        for g, v in s.by_group.items():
            m.figures[f"align.{name}.{g}"] = Figure(f"align.{name}.{g}", f"AER {name}, English {g}-class words"
                                                    if g in ("open", "closed") else f"AER {name}, English {g} words",
                                                    100.0 * v.aer if v.aer == v.aer else None, n=v.n_sure, unit="AER %")
        if "open" in s.by_group and "closed" in s.by_group:
            m.figures[f"align.{name}.open_minus_closed"] = Figure(
                f"align.{name}.open_minus_closed", f"AER {name}: open class minus closed class",
                100.0 * (s.by_group["open"].aer - s.by_group["closed"].aer), unit="AER points")
        m.tables[f"align_{name}_by_tag"] = [
            {"tag": tag, "group": r.groups.get(tag, "other"), "English words": s.tag_counts.get(tag, 0),
             "sure links": v.n_sure, "AER %": round(100 * v.aer, 1), "precision %": round(100 * v.precision, 1),
             "recall %": round(100 * v.recall, 1)} for tag, v in s.by_tag.items()]
        m.notes.append(f"alignment {name}: {s.pairs} pairs, {r.method} on layer {r.layer}, English = {s.english_side} "
                       f"side, overall AER {100 * s.overall.aer:.1f}")
    m.notes.append(f"POS tags: a softmax probe on layer {t.layer} trained on {t.train_sentences} sentences "
                   f"({t.data}); accuracy {t.accuracy:.1f}% on {t.n_eval_words} dev words. Tagging errors move "
                   "words between groups.")


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    runs = [r for r in of_kind(results, "bli") if r.categories]
    aligned = of_kind(results, "align_pos")
    if not runs and not aligned:
        return Measurement(not_measurable="no BLI result on a dictionary with part-of-speech categories")
    m = Measurement()
    for r in runs:
        _pair(r, m, "bli." + str(r.pair))
    for r in aligned:
        _align(r, m)
    return m


def _bars(ax: Any, measurements: dict[str, Measurement], keys: list[str], ylabel: str, title: str) -> None:
    import numpy as np

    width = 0.8 / max(1, len(measurements))
    x = np.arange(len(keys))
    for i, (model, m) in enumerate(measurements.items()):
        vals = [m.figures[k].value if k in m.figures and m.figures[k].value is not None else np.nan for k in keys]
        ax.bar(x + i * width, vals, width, label=model)
    ax.set_xticks(x + width * (len(measurements) - 1) / 2)
    ax.set_xticklabels([k.split(".", 2)[-1] for k in keys], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    from ...plots import _plt

    bli, aer = [], []
    for m in measurements.values():
        for k in m.figures:
            last = k.split(".")[-1]
            if k.startswith("bli.") and last in ("n", "v", "a", "open", "o", "pn") and k not in bli:
                bli.append(k)
            if k.startswith("align.") and last in ("open", "closed", "proper", "other") and k not in aer:
                aer.append(k)
    panels = [p for p in ((bli, "P@1 %", "Word translation P@1 by part of speech (MUSE)"),
                          (aer, "AER % (lower is better)", "Alignment error by POS group of the English word"))
              if p[0]]
    plt = _plt()
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(5.5 * max(1, len(panels)), 3.9), squeeze=False)
    for ax, (keys, ylabel, title) in zip(axes[0], panels):
        _bars(ax, measurements, keys, ylabel, title)
    fig.tight_layout()
    return fig
