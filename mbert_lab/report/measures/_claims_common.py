"""Helpers shared by the measures of claims 2 and 5-9: picking study results, turning typed
scores into :class:`~mbert_lab.report.types.Figure` values, and one line-plot layout."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..types import ClaimContext, Figure, Measurement


def config_of(result: Any) -> dict[str, Any]:
    """The study config a result was made with (from its provenance)."""
    return dict(getattr(result.provenance, "config", None) or {})


def of_kind(results: Sequence[Any], kind: str) -> list[Any]:
    return [r for r in results if getattr(r, "kind", None) == kind]


def transfer_by_task(results: Sequence[Any]) -> dict[str, Any]:
    """task -> the first transfer result for it (claim files declare one per task)."""
    out: dict[str, Any] = {}
    for r in of_kind(results, "transfer"):
        out.setdefault(r.task, r)
    return out


def score_figure(key: str, label: str, score: Any, unit: str, n: int | None = None) -> Figure:
    """A transfer :class:`~mbert_lab.studies.transfer.Score` (mean, sd over seeds) as a Figure;
    the spread is given only where there were several seeds."""
    if score is None:
        return Figure(key, label, None, unit=unit)
    spread = float(score.sd) if len(score.seeds) > 1 else None
    return Figure(key, label, float(score.mean), spread=spread, n=n, unit=unit)


def peak(xs: Sequence[float], ys: Sequence[float], lowest: bool = False) -> float | None:
    """The x of the highest (``lowest``: the lowest) y; ties: the first."""
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and not math.isnan(y)]
    if not pts:
        return None
    best = (min if lowest else max)(pts, key=lambda p: p[1])
    return float(best[0])


def line_plot(measurements: dict[str, Measurement], ctx: ClaimContext, names: Sequence[str], *,
              title: str, xlabel: str = "layer", ylabel: str = "", panels: bool = True) -> Any:
    """One panel per series name (``panels``) or one axis; one line per model."""
    from ...plots import _plt

    plt = _plt()
    n = len(names) if panels else 1
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
    for k, name in enumerate(names):
        ax = axes[0][k if panels else 0]
        for model, m in measurements.items():
            s = m.series.get(name)
            if s:
                ax.plot(s["x"], s["y"], marker="o", ms=3, label=model if panels else f"{model}: {name}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel if not panels or k == 0 else "")
        if panels:
            ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def bar_plot(measurements: dict[str, Measurement], ctx: ClaimContext, keys: Sequence[str], *,
             title: str, ylabel: str = "") -> Any:
    """Grouped bars: one group per figure key, one bar per model (error bars: CI or spread)."""
    import numpy as np

    from ...plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(keys) * max(1, len(measurements))), 3.8))
    width = 0.8 / max(1, len(measurements))
    x = np.arange(len(keys))
    for i, (model, m) in enumerate(measurements.items()):
        vals, low, high = [], [], []
        for k in keys:
            f = m.figures.get(k)
            v = f.value if f is not None and f.value is not None else np.nan
            vals.append(v)
            lo = hi = np.nan  # drawn as the interval itself: a bootstrap percentile interval
            if f is not None and f.value is not None and f.ci_low is not None and f.ci_high is not None:
                lo, hi = f.ci_low, f.ci_high  # need not contain the point estimate
            elif f is not None and f.value is not None and f.spread is not None:
                lo, hi = f.value - f.spread, f.value + f.spread
            low.append(lo)
            high.append(hi)
        bx = x + i * width
        ax.bar(bx, vals, width, label=model)
        ok = ~(np.isnan(low) | np.isnan(high))
        if ok.any():
            ax.vlines(bx[ok], np.asarray(low)[ok], np.asarray(high)[ok], color="black", linewidth=1)
            for y in (np.asarray(low)[ok], np.asarray(high)[ok]):
                ax.hlines(y, bx[ok] - width / 8, bx[ok] + width / 8, color="black", linewidth=1)
    ax.set_xticks(x + width * (len(measurements) - 1) / 2)
    ax.set_xticklabels([m_label(measurements, k) for k in keys], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def m_label(measurements: dict[str, Measurement], key: str) -> str:
    for m in measurements.values():
        if key in m.figures:
            return m.figures[key].label
    return key
