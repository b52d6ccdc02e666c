"""Plots of the vocabulary study, from its typed Result (PNG + SVG each).

>>> # from mbert_lab.plots.vocabulary import plot_result
>>> # plot_result(ml.vocab(...), "results/vocab")   # -> <out>/<tokenizer>/<group>_overlap_jaccard.png, ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "tokenizer"


def plot_heatmap(group: Any, measure: str, title: str, stem: str | Path) -> list[Path]:
    """A group's pairwise overlap (``jaccard`` or ``weighted_jaccard``); the diagonal (always 1)
    is blanked so the colour scale shows the pairs; languages ordered by script, then code."""
    import numpy as np

    from . import new_figure, save_figure

    langs = list(group.languages)
    scripts = [s.script for s in group.stats]
    order = sorted(range(len(langs)), key=lambda i: (scripts[i], langs[i]))
    m = np.array(getattr(group, measure), dtype=float)[np.ix_(order, order)]
    n = len(langs)
    labels = [langs[i] + (f" ({scripts[i][:4]})" if n > 12 else "") for i in order]
    np.fill_diagonal(m, np.nan)
    off = m[np.isfinite(m)]
    vmax = float(off.max()) if off.size else 1.0
    size = max(5.0, min(0.2 * n + 2, 26))
    fig, ax = new_figure(size + 1, size)
    im = ax.imshow(np.ma.masked_invalid(m), cmap="viridis", vmin=0, vmax=vmax or 1.0)
    fs = 8 if n <= 20 else 5
    ax.set_xticks(range(n), labels, rotation=90, fontsize=fs)
    ax.set_yticks(range(n), labels, fontsize=fs)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if i != j:
                    ax.text(j, i, f"{m[i][j]:.2f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title + " (diagonal blank)")
    return save_figure(fig, stem)


def plot_fertility(group: Any, stem: str | Path, with_marker: bool = True) -> list[Path]:
    """Fertility per language (and with the lone '▁' marker counted, when asked)."""
    import numpy as np

    from . import new_figure, save_figure

    series = {"fertility (lone marker excluded)": [s.fertility for s in group.stats]}
    if with_marker:
        series["with lone U+2581 marker"] = [s.fertility_with_marker for s in group.stats]
    langs: Sequence[str] = group.languages
    fig, ax = new_figure(max(5, 0.35 * len(langs) * len(series) + 2), 3.8)
    width = 0.8 / len(series)
    x = np.arange(len(langs))
    for k, (name, vals) in enumerate(series.items()):
        ax.bar(x + k * width - 0.4 + width / 2, vals, width, label=name)
    ax.set_xticks(x, langs, rotation=90 if len(langs) > 15 else 0)
    ax.set_ylabel("subwords per word")
    if len(series) > 1:
        ax.legend(fontsize=7)
    return save_figure(fig, stem)


def plot_scatter(corr: Any, stem: str | Path) -> list[Path]:
    """A measure against the transfer scores, one labelled point per language."""
    from . import new_figure, save_figure

    fig, ax = new_figure(5, 4)
    ax.scatter(corr.x, corr.y)
    for lg, a, b in zip(corr.languages, corr.x, corr.y):
        ax.annotate(lg, (a, b), textcoords="offset points", xytext=(4, 3), fontsize=9)
    ax.set_xlabel(corr.measure)
    ax.set_ylabel(corr.score)
    ax.set_title(f"Pearson {corr.pearson:.2f} [{corr.pearson_ci[0]:.2f}, {corr.pearson_ci[1]:.2f}]  "
                 f"Spearman {corr.spearman:.2f}  n={corr.n}", fontsize=9)
    return save_figure(fig, stem)


def plot_tokenizer(rep: Any, out_dir: str | Path) -> list[Path]:
    """Every plot of one tokenizer's report (a ``TokenizerReport``) under ``out_dir``."""
    out_dir = Path(out_dir)
    spec = rep.tokenizer.spec
    paths: list[Path] = []
    for g, group in rep.groups.items():
        for m in ("jaccard", "weighted_jaccard"):
            paths += plot_heatmap(group, m, f"{g}: {m} of subword types ({spec})", out_dir / f"{g}_overlap_{m}")
        paths += plot_fertility(group, out_dir / f"{g}_fertility")
    for c in rep.correlations:
        paths += plot_scatter(c, out_dir / f"scatter_{c.measure}")
    return paths


def plot_result(result: Any, out_dir: str | Path) -> list[Path]:
    """Every plot of a ``VocabResult``: ``<out_dir>/<tokenizer-slug>/...``."""
    paths: list[Path] = []
    for rep in result.tokenizers:
        paths += plot_tokenizer(rep, Path(out_dir) / slug(rep.tokenizer.spec))
    return paths
