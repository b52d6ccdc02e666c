"""Plots of a :class:`~mbert_lab.studies.centroids.CentroidsResult`: dendrogram and PCA
projection of the centroids per layer; LID, retrieval and word-space geometry by layer.
Each figure is written as PNG and SVG; functions return ``{name: png_path}``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import new_figure, save_figure


def _colors(groups: Sequence[str]) -> dict[str, Any]:
    import matplotlib

    uniq = sorted(set(groups), key=lambda g: (-list(groups).count(g), g))  # biggest groups first
    palette = [matplotlib.colormaps["tab10"](i) for i in range(10)]
    palette += [matplotlib.colormaps["Dark2"](i) for i in range(8)]
    palette += [matplotlib.colormaps["tab20"](i) for i in range(1, 20, 2)]
    return {g: palette[i % len(palette)] for i, g in enumerate(uniq)}


def plot_dendrogram(result: Any, layer: int, out: Path, title: str = "") -> Path:
    import numpy as np
    from scipy.cluster.hierarchy import dendrogram

    g = result.centroid_geometry[layer]
    labels = list(g.labels)
    col = _colors([result.info[k].family for k in labels])
    fig, ax = new_figure(7, max(4.0, 0.17 * len(labels) + 1.5))
    dendrogram(np.asarray(g.linkage), labels=labels, orientation="left", ax=ax,
               color_threshold=0, above_threshold_color="0.4", leaf_font_size=7)
    for t in ax.get_yticklabels():
        t.set_color(col[result.info[t.get_text()].family])
    ag = g.agreement["family"]
    ax.set_title(f"{title}: centroids, layer {layer} ({g.metric}, {g.method})\nfamily agreement ARI "
                 f"{ag.adjusted_rand:.2f}, purity {ag.purity:.2f}; labels coloured by family", fontsize=9)
    ax.set_xlabel(f"{g.metric} distance")
    return save_figure(fig, Path(out) / f"dendrogram_L{layer}")[0]


def plot_projection(result: Any, layer: int, out: Path, title: str = "") -> Path:
    import numpy as np

    g = result.centroid_geometry[layer]
    labels = list(g.labels)
    xy = np.asarray(g.pca)
    fig, axes = new_figure(13, 6, ncols=2)
    for ax, key in zip(axes, ("family", "script")):
        grp = [getattr(result.info[k], key) for k in labels]
        c = _colors(grp)
        for name in sorted(set(grp)):
            idx = [i for i, x in enumerate(grp) if x == name]
            ax.scatter(xy[idx, 0], xy[idx, 1], color=c[name], label=name, s=25)
        for i, k in enumerate(labels):
            ax.annotate(k, xy[i], fontsize=6, xytext=(2, 2), textcoords="offset points")
        ev = list(g.explained_variance) + [0.0, 0.0]
        ax.set_xlabel(f"PC1 ({ev[0]:.0%})")
        ax.set_ylabel(f"PC2 ({ev[1]:.0%})")
        ax.set_title(f"{title}: centroids, layer {layer}, coloured by {key}", fontsize=9)
        ax.legend(fontsize=6, ncol=2, loc="best", markerscale=0.7)
    return save_figure(fig, Path(out) / f"projection_L{layer}")[0]


def plot_lid(result: Any, out: Path, title: str = "") -> Path:
    layers = list(result.layers)
    fig, ax = new_figure(7, 4)
    for m in result.lid:
        b = result.lid[m].best
        ax.plot(layers, result.lid_accuracy(m), marker="o", label=f"{m.replace('_', ' ')} (dev-chosen L{b.layer})")
    ax.set_xlabel("layer")
    ax.set_ylabel("LID accuracy (test split)")
    ax.set_title(f"{title}: language identification, {len(result.languages)} languages", fontsize=9)
    ax.legend()
    return save_figure(fig, Path(out) / "lid_by_layer")[0]


def plot_retrieval(result: Any, out: Path, title: str = "") -> Path:
    r = result.retrieval
    layers = list(result.layers)
    fig, ax = new_figure(8, 4.5)
    for cond, ls in (("raw", "-"), ("centered", "--"), ("projected", ":")):
        if cond not in r.mean:
            continue
        for d, color in (("xx_to_eng", "C0"), ("eng_to_xx", "C1")):
            vals = getattr(r.mean[cond], d)
            ax.plot(layers, [vals[la] for la in layers], ls, color=color, marker=".",
                    label=f"{d.replace('_to_', '->')} {cond}")
    ax.set_xlabel("layer")
    ax.set_ylabel("retrieval accuracy (test split, mean over languages)")
    ax.set_title(f"{title}: retrieval against English, {len(r.languages)} languages", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, Path(out) / "retrieval_by_layer")[0]


def plot_word_geometry(result: Any, out: Path, title: str = "") -> Path:
    geo = result.word_geometry
    gl = list(result.layers)
    fig, axes = new_figure(15, 4.2, ncols=3)
    for ax, m in zip(axes, ("anisotropy", "self_similarity", "intra_sentence")):
        for i, k in enumerate(geo.languages):
            for kind, ls in (("raw", "-"), ("centered", "--")):
                vals = [getattr(geo.per_language[k][kind][la], m) for la in gl]
                vals = [float("nan") if v is None else v for v in vals]
                ax.plot(gl, vals, ls, color=f"C{i}", lw=0.8, alpha=0.6, label=k if kind == "raw" else None)
        for kind, ls in (("raw", "-"), ("centered", "--")):
            ax.plot(gl, [geo.mean[kind][m][la] for la in gl], ls, color="black", lw=2.2, label=f"mean, {kind}")
        ax.set_title(f"{title}: {m.replace('_', ' ')}", fontsize=10)
        ax.set_xlabel("layer")
        ax.set_ylabel("cosine")
    axes[0].legend(fontsize=7)
    return save_figure(fig, Path(out) / "geometry_by_layer")[0]


def plot_all(result: Any, out: str | Path, plot_layers: Sequence[int] = (8, 12), title: str = "") -> dict[str, Path]:
    """Every figure the result supports; ``plot_layers`` not analysed are skipped."""
    out = Path(out)
    title = title or (result.provenance.model.label if result.provenance.model else "centroids")
    paths: dict[str, Path] = {}
    for layer in plot_layers:
        if layer in result.centroid_geometry:
            paths[f"dendrogram_L{layer}"] = plot_dendrogram(result, layer, out, title)
            paths[f"projection_L{layer}"] = plot_projection(result, layer, out, title)
    paths["lid_by_layer"] = plot_lid(result, out, title)
    if result.retrieval is not None:
        paths["retrieval_by_layer"] = plot_retrieval(result, out, title)
    if result.word_geometry is not None:
        paths["geometry_by_layer"] = plot_word_geometry(result, out, title)
    return paths
