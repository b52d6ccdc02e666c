"""Alignment figures from the typed Results: a pair's similarity heatmap with its links
(:class:`~mbert_lab.studies.alignment.AlignResult`) and AER by layer
(:class:`~mbert_lab.studies.alignment.AlignEvalResult`). Each writes ``stem.png`` + ``stem.svg``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import new_figure, save_figure


def heatmap(result: Any, pair: int, stem: str | Path, title: str | None = None) -> list[Path]:
    """Similarity heatmap of pair ``pair`` (1-based; kept by ``heatmaps=[pair]``) with the
    cells its first method linked ringed (matrix units: subwords or words, as aligned)."""
    import numpy as np

    h = result.heatmap(pair)
    sim = np.asarray(h.similarity, dtype=float).reshape(len(h.src_labels), len(h.tgt_labels))
    m, n = sim.shape
    fig, ax = new_figure(max(4.0, 0.32 * n + 2.5), max(3.5, 0.3 * m + 2.0))
    im = ax.imshow(sim, cmap="viridis", aspect="auto")
    if h.cells:
        rr, cc = zip(*h.cells)
        ax.scatter(cc, rr, s=48, facecolors="none", edgecolors="red", linewidths=1.6, label=f"{h.method} link")
        ax.legend(loc="upper right", fontsize=7, bbox_to_anchor=(1.0, 1.12))
    ax.set_xticks(np.arange(n))
    ax.set_xticklabels(h.tgt_labels, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(m))
    ax.set_yticklabels(h.src_labels, fontsize=7)
    ax.set_title(title if title is not None else f"pair {h.pair}, layer {h.layer}, {h.method} ({h.level})", fontsize=9)
    fig.colorbar(im, ax=ax, label="(cos + 1) / 2" + (" x distortion" if h.distortion else ""))
    return save_figure(fig, stem)


def aer_by_layer(result: Any, stem: str | Path) -> list[Path]:
    """AER by layer on all pairs, one panel per gold set, one line per (level, method); the
    dev-chosen best layer of each line is marked with its test-split AER."""
    series: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for r in result.by_layer_all_pairs:
        if r.layer is not None:
            series.setdefault((r.gold, r.level, r.method), []).append((r.layer, r.aer))
    golds = list(dict.fromkeys(k[0] for k in series))
    methods = sorted({k[2] for k in series})
    fig, axes = new_figure(5.0 * max(len(golds), 1), 4.2, ncols=max(len(golds), 1), squeeze=False)
    for ax, g in zip(axes[0], golds):
        for (gg, lv, meth), pts in sorted(series.items()):
            if gg != g:
                continue
            pts.sort()
            color = f"C{methods.index(meth) % 10}"  # one colour per method, line style per level
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o" if lv == "subword" else "s", ms=3,
                    color=color, ls="-" if lv == "subword" else "--", label=f"{meth} ({lv})")
        for b in result.best:
            if b.gold == g:
                ax.scatter([b.layer], [b.test.aer], marker="*", s=90, zorder=3,
                           color=f"C{methods.index(b.method) % 10}", edgecolors="black", linewidths=0.5)
        ax.set_title(f"{g}  (lines: all pairs; *: dev-chosen layer, test AER)", fontsize=8)
        ax.set_xlabel("layer")
        ax.set_ylabel("AER (lower is better)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, ncol=2)
    return save_figure(fig, stem)
