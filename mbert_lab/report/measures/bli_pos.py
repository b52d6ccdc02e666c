"""Claim 2 (Cao et al. 2020): word alignment has caveats for open-class parts of speech. From
``bli`` results on the MUSE by-pos dictionaries (Kementchedjhieva et al. 2019 categories: n noun,
v verb, a adjective/adverb, pn proper noun, o other = closed class, nw invalid pair): P@1 per
category at the layer the study chose on its dev source words, and the open-class (n, v, a)
figure as the mean of the three weighted by their source-word counts."""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import bar_plot, of_kind

OPEN = ("n", "v", "a")
NAMES = {"n": "nouns", "v": "verbs", "a": "adjectives/adverbs", "pn": "proper nouns", "o": "closed class (other)",
         "nw": "invalid pairs"}


def open_class(by_category: dict[str, Any]) -> tuple[float | None, int]:
    """(n-weighted mean P@1 over n, v, a; their source words) from one layer's by-category scores."""
    cats = [c for c in OPEN if c in by_category and by_category[c].n > 0]
    n = sum(by_category[c].n for c in cats)
    if not n:
        return None, 0
    return sum(100.0 * by_category[c].p_at_1 * by_category[c].n for c in cats) / n, n


def _pair(r: Any, m: Measurement, prefix: str) -> None:
    lc = r.layer_choice
    L = lc.best_layer
    sc = r.results[L][lc.method]
    for c, p in sc.by_category.items():
        m.figures[f"{prefix}.{c}"] = Figure(f"{prefix}.{c}", f"{r.pair} P@1 {NAMES.get(c, c)} (layer {L})",
                                            100.0 * p.p_at_1, n=p.n, unit="P@1 %")
    v, n = open_class(sc.by_category)
    m.figures[f"{prefix}.open"] = Figure(f"{prefix}.open", f"{r.pair} P@1 open class n+v+a (layer {L})", v, n=n,
                                         unit="P@1 %")
    if "o" in sc.by_category and v is not None:
        m.figures[f"{prefix}.closed_minus_open"] = Figure(
            f"{prefix}.closed_minus_open", f"{r.pair} P@1 closed class minus open class",
            100.0 * sc.by_category["o"].p_at_1 - v, unit="points")
    if "pn" in sc.by_category and v is not None:
        m.figures[f"{prefix}.pn_minus_open"] = Figure(
            f"{prefix}.pn_minus_open", f"{r.pair} P@1 proper nouns minus open class",
            100.0 * sc.by_category["pn"].p_at_1 - v, unit="points")
    m.figures[f"{prefix}.test"] = Figure(f"{prefix}.test", f"{r.pair} P@1 all categories, test split (layer {L})",
                                         100.0 * lc.test_at_best.p_at_1, n=lc.test_at_best.n, unit="P@1 %")
    m.series[f"{prefix} P@1 by layer (test split)"] = {"x": [float(x) for x in sorted(lc.test_p_at_1)],
                                                         "y": [100.0 * lc.test_p_at_1[x] for x in sorted(lc.test_p_at_1)]}
    m.tables[f"{prefix}_by_category"] = [
        {"category": NAMES.get(c, c), "source words": p.n, "P@1": round(100 * p.p_at_1, 1),
         "P@1 without identical pairs": round(100 * sc.by_category_without_identical[c].p_at_1, 1)}
        for c, p in sc.by_category.items()]
    m.notes.append(f"{r.pair}: {r.dictionary}, {r.n_sources} source and {r.n_targets} target words encoded alone; "
                   f"layer {L} chosen on {lc.split.n_dev} dev source words ({lc.method}); per-category P@1 on all "
                   f"source words of the category at that layer")


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    runs = [r for r in of_kind(results, "bli") if r.categories]
    if not runs:
        return Measurement(not_measurable="no BLI result on a dictionary with part-of-speech categories")
    m = Measurement()
    for r in runs:
        _pair(r, m, "bli." + str(r.pair))
    m.notes.append("Alignment quality by part of speech (AER per POS of the gold sets' words) is not measured: the "
                   "gold alignment sets carry no POS tags, and tagging them needs an English POS tagger applied to "
                   "new text; the project's POS models are transfer probes scored on UD sets, not yet a tagger "
                   "(planned: train a probe on UD English, report its accuracy, tag the English side, AER per tag).")
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    keys = []
    for m in measurements.values():
        for k in m.figures:
            if k.count(".") == 2 and k.split(".")[-1] in ("n", "v", "a", "open", "o", "pn") and k not in keys:
                keys.append(k)
    return bar_plot(measurements, ctx, keys, title="Word translation P@1 by part of speech", ylabel="P@1 %")
