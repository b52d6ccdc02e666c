"""Claim 7 (the primer's "BERT layers"): the middle layers are the most transferable. Per-layer
curves from three studies: POS zero-shot transfer (``transfer``, ``mode = "layer-probe"``, the
test half), word alignment (``align_eval``: 100 - AER on all pairs, so higher is better) and
sentence retrieval (``tatoeba``: mean of both directions, all sentences, raw vectors), and where
each peaks. Series are by *relative depth* (layer / number of layers) so one rule fits any
depth; the plot shows the layers."""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import line_plot, of_kind, peak


def _depth(layers: list[int]) -> int:
    """The model's depth: claim 7's studies read every layer (``layers = "all"``)."""
    return max(1, max(layers))


def _add(m: Measurement, name: str, label: str, layers: list[int], ys: list[float], depth: int, unit: str) -> None:
    m.series[name] = {"x": [L / depth for L in layers], "y": ys}
    m.series[f"{name} (by layer)"] = {"x": [float(L) for L in layers], "y": ys}
    pk = peak(layers, ys)
    m.figures[f"{name}.peak_layer"] = Figure(f"{name}.peak_layer", f"{label}: best layer", pk, unit="layer")
    m.figures[f"{name}.peak_depth"] = Figure(f"{name}.peak_depth", f"{label}: best layer / {depth}",
                                             None if pk is None else pk / depth, unit="relative depth")
    m.figures[f"{name}.peak_value"] = Figure(f"{name}.peak_value", f"{label} at its best layer",
                                             None if pk is None else ys[layers.index(int(pk))], unit=unit)
    if layers[-1] == depth:
        m.figures[f"{name}.peak_minus_last"] = Figure(
            f"{name}.peak_minus_last", f"{label}: best layer minus last layer",
            None if pk is None else ys[layers.index(int(pk))] - ys[-1], unit=unit)


def _pos(results: list[Any], m: Measurement) -> None:
    for r in of_kind(results, "transfer"):
        lp = r.layer_probes
        if lp is None or len(lp.layers) < 2:
            continue
        layers = sorted(lp.layers)
        ys = [lp.test[L].zero_shot_average.mean if lp.test[L].zero_shot_average else float("nan") for L in layers]
        _add(m, "pos_transfer", f"{r.task} zero-shot ({r.primary_suite}, test half)", layers, ys, _depth(layers),
             f"{r.metric} x100")
        m.notes.append(f"{r.task} transfer: frozen-feature probes per layer trained on English, zero-shot average over "
                       f"{', '.join(x for x in r.eval_langs if x != r.train_lang)} on the test half")
        return


def _align(results: list[Any], m: Measurement) -> None:
    for r in of_kind(results, "align_eval"):
        if r.mode != "model" or len(r.layers) < 2:
            continue
        g, lvl, meth = r.golds[0].name, r.levels[0], r.methods[0]
        layers = sorted(r.layers)
        ys = [100.0 * (1.0 - r.row(g, lvl, L, meth).aer) for L in layers]  # aer is a fraction
        _add(m, "alignment", f"alignment {g} ({meth}), 100 - AER", layers, ys, _depth(layers), "100 - AER %")
        m.notes.append(f"alignment: {g}, {meth}, {lvl} level, all {r.golds[0].pairs} pairs per layer")
        return


def _retrieval(results: list[Any], m: Measurement) -> None:
    for r in of_kind(results, "tatoeba"):
        if len(r.layers) < 2:
            continue
        t = r.transforms.get("none") or next(iter(r.transforms.values()))
        layers = sorted(r.layers)
        ys = [100.0 * t.average_by_layer[L].mean_accuracy for L in layers]
        _add(m, "retrieval", "Tatoeba retrieval accuracy (mean of both directions)", layers, ys, _depth(layers),
             "accuracy %")
        m.notes.append(f"retrieval: Tatoeba {', '.join(r.languages)} <-> eng, cosine 1-NN, all sentences")
        return


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    m = Measurement()
    _pos(results, m)
    _align(results, m)
    _retrieval(results, m)
    if not m.series:
        m.not_measurable = "no per-layer transfer, alignment or retrieval result"
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    names = [f"{n} (by layer)" for n in ("pos_transfer", "alignment", "retrieval")]
    return line_plot(measurements, ctx, names, title="Where each cross-lingual curve peaks", ylabel="score")
