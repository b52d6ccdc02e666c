"""Claim 1: multilingual encoders learn high-quality word alignments (AER on the mirror's gold
sets at layer 8 and at the layer chosen on a dev split, beside the published mBERT figures).

Figures (AER in percent, lower is better):
``aer.<set>.<method>.l8`` (layer 8, all pairs of the set: what the papers report),
``aer.<set>.<method>.best`` (the layer chosen on the dev split, scored on the disjoint test
split, with a bootstrap interval over test pairs), ``layer.<set>.<method>.best``, and
``aer.<set>.best`` (the method and layer with the lowest dev AER, scored on the test split).
``<set>``: fr, ro, ja (en-fr, ro-en, ja-en). Series ``aer.<set>.<method>``: AER by layer.
"""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement

SETS = {"en-fr": "fr", "ro-en": "ro", "ja-en": "ja"}
PUBLISHED_LAYER = 8


def _bootstrap_aer(per_pair: Any, gold: str, level: str, layer: int, method: str, split: str,
                   seed: int, n_boot: int = 1000) -> tuple[float, float] | None:
    """95% percentile interval of corpus AER (%) over pairs resampled with replacement."""
    import numpy as np

    rows = [p for p in per_pair if (p.gold, p.level, p.layer, p.method, p.split) == (gold, level, layer, method, split)]
    if len(rows) < 2:
        return None
    c = np.array([[p.n_pred, p.n_sure, p.n_pred_sure, p.n_pred_possible] for p in rows], dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(rows), size=(n_boot, len(rows)))
    s = c[idx].sum(axis=1)  # n_boot x 4
    denom = s[:, 0] + s[:, 1]
    aer = np.where(denom > 0, 1.0 - (s[:, 2] + s[:, 3]) / np.maximum(denom, 1e-12), 0.0) * 100  # as AlignmentScores
    lo, hi = np.percentile(aer, [2.5, 97.5])
    return float(lo), float(hi)


def _set_figures(res: Any, gold: str, tag: str, m: Measurement, seed: int) -> None:
    level = res.levels[0]
    layers = [la for la in res.layers]
    for method in res.methods:
        rows = {r.layer: r for r in res.by_layer_all_pairs if (r.gold, r.level, r.method) == (gold, level, method)}
        m.series[f"aer.{tag}.{method}"] = {"x": [float(la) for la in layers], "y": [rows[la].aer * 100 for la in layers]}
        if PUBLISHED_LAYER in rows:
            r = rows[PUBLISHED_LAYER]
            ci = _merge_ci(res.per_pair, gold, level, PUBLISHED_LAYER, method, seed)
            m.figures[f"aer.{tag}.{method}.l8"] = Figure(
                f"aer.{tag}.{method}.l8", f"AER {gold}, {method}, layer 8, all pairs", r.aer * 100,
                *(ci or (None, None)), n=r.pairs, unit="AER %")
        best = next((b for b in res.best if (b.gold, b.level, b.method) == (gold, level, method)), None)
        if best is not None:
            ci = _bootstrap_aer(res.per_pair, gold, level, best.layer, method, "test", seed)
            m.figures[f"aer.{tag}.{method}.best"] = Figure(
                f"aer.{tag}.{method}.best", f"AER {gold}, {method}, layer {best.layer} (chosen on dev), test split",
                best.test.aer * 100, *(ci or (None, None)), n=best.test.pairs, unit="AER %")
            m.figures[f"layer.{tag}.{method}.best"] = Figure(
                f"layer.{tag}.{method}.best", f"layer chosen on dev, {gold}, {method}", float(best.layer),
                n=best.dev_pairs, unit="layer")


def _best_method(res: Any, gold: str, tag: str, m: Measurement, seed: int) -> None:
    """``aer.<set>.best``: the method AND layer with the lowest dev AER, scored on the test split."""
    level = res.levels[0]
    cands = [b for b in res.best if (b.gold, b.level) == (gold, level)]
    if not cands:
        return
    b = min(cands, key=lambda x: (x.dev_aer, res.methods.index(x.method)))
    ci = _bootstrap_aer(res.per_pair, gold, level, b.layer, b.method, "test", seed)
    m.figures[f"aer.{tag}.best"] = Figure(
        f"aer.{tag}.best", f"AER {gold}, {b.method} at layer {b.layer} (method and layer chosen on dev), test split",
        b.test.aer * 100, *(ci or (None, None)), n=b.test.pairs, unit="AER %")


def _merge_ci(per_pair: Any, gold: str, level: str, layer: int, method: str, seed: int) -> tuple[float, float] | None:
    """Bootstrap over all pairs (dev and test) of a set: the interval of an all-pairs figure."""
    import dataclasses

    rows = [dataclasses.replace(p, split="all") for p in per_pair
            if (p.gold, p.level, p.layer, p.method) == (gold, level, layer, method)]
    return _bootstrap_aer(rows, gold, level, layer, method, "all", seed)


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    m = Measurement()
    res = results[0]
    for info in res.golds:
        tag = SETS.get(info.name, info.name)
        _set_figures(res, info.name, tag, m, ctx.seed)
        _best_method(res, info.name, tag, m, ctx.seed)
        total = getattr(info, "pairs", None)
        m.notes.append(f"{info.name}: {total} gold pairs scored; dev split {res.split.dev_fraction:g} (seed "
                       f"{res.split.seed}) chooses the layer, the other pairs report it")
    m.notes.append(f"level: {res.levels[0]}; methods: {', '.join(res.methods)}; AER in percent; "
                   "95% intervals: bootstrap over sentence pairs (1000 resamples)")
    for tag in SETS.values():
        for method in res.methods:
            f = m.figures.get(f"layer.{tag}.{method}.best")
            if f is not None:
                m.tables.setdefault("layer chosen on dev", []).append(
                    {"set": tag, "method": method, "layer": int(f.value or 0),
                     "test AER %": round(m.figures[f"aer.{tag}.{method}.best"].value or 0, 2)})
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    """AER by layer per gold set (one panel each), a line per model and method; the published
    mBERT layer-8 figures as markers."""
    from ...plots import _plt

    plt = _plt()
    tags = list(SETS.values())
    fig, axes = plt.subplots(1, len(tags), figsize=(4.2 * len(tags), 3.6), squeeze=False)
    for ax, tag in zip(axes[0], tags):
        for model, m in measurements.items():
            for name, s in m.series.items():
                if name.startswith(f"aer.{tag}.") and name.split(".")[2] in ("softmax", "itermax", "argmax"):
                    ax.plot(s["x"], s["y"], marker=".", label=f"{model} {name.split('.')[2]}")
        for key, a in ctx.anchors.items():
            if f".aer.{tag}." in key and a.get("value") is not None:
                ax.scatter([PUBLISHED_LAYER], [a["value"]], marker="x", s=50, zorder=5,
                           label=f"published {key.split('.')[-1]}")
        ax.set_title({"fr": "en-fr", "ro": "ro-en", "ja": "ja-en"}[tag])
        ax.set_xlabel("layer")
        ax.set_ylabel("AER % (lower is better)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=6)
    return fig
