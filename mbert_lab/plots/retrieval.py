"""Retrieval plots from the typed Results of :mod:`mbert_lab.studies.retrieval`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import new_figure, save_figure


def plot_tatoeba(result: Any, out_dir: str | Path) -> list[Path]:
    """``tatoeba_by_layer.png/.svg``: mean(xx->eng, eng->xx) accuracy by layer for each
    transform (all data, solid; test half, dashed), the dev-chosen layer marked."""
    fig, ax = new_figure()
    for tr, s in result.transforms.items():
        layers = sorted(s.average_by_layer)
        line, = ax.plot(layers, [s.average_by_layer[la].mean_accuracy for la in layers], marker="o", label=f"{tr}, all data")
        ax.plot(layers, [s.test_by_layer[la].mean_accuracy for la in layers], "--", color=line.get_color(),
                label=f"{tr}, test half")
        ax.axvline(s.best_layer, color=line.get_color(), alpha=0.3)
    ax.set_xlabel("layer")
    ax.set_ylabel("accuracy (mean of both directions)")
    ax.set_title(f"Tatoeba, {len(result.languages)} languages (vertical: layer chosen on dev)")
    ax.legend()
    return save_figure(fig, Path(out_dir) / "tatoeba_by_layer")


def plot_bli(result: Any, out_dir: str | Path) -> list[Path]:
    """``bli_by_layer.png/.svg``: P@1 (all categories) by layer for each method."""
    fig, ax = new_figure()
    layers = sorted(result.results)
    methods = list(result.results[layers[0]])
    for m in methods:
        ax.plot(layers, [result.results[la][m].all_categories.p_at_1 for la in layers], marker="o", label=m)
    ax.axvline(result.layer_choice.best_layer, color="grey", alpha=0.3)
    ax.set_xlabel("layer")
    ax.set_ylabel("P@1 (%)")
    ax.set_title(f"word translation {result.pair or Path(result.dictionary).name}")
    ax.legend()
    return save_figure(fig, Path(out_dir) / "bli_by_layer")
