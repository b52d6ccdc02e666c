"""Claim 8 (Ethayarajh 2019): contextual word vectors occupy a narrow cone that narrows with
depth. Figures from the ``geometry`` study: anisotropy, self-similarity and intra-sentence
similarity per layer (mean over languages), raw and centred."""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import line_plot, of_kind

MEASURES = ("anisotropy", "self_similarity", "intra_sentence", "self_similarity_adjusted", "intra_sentence_adjusted")


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    found = of_kind(results, "geometry")
    if not found:
        return Measurement(not_measurable="no geometry study result")
    r = found[0]
    layers = list(r.layers)
    m = Measurement()
    for view in ("raw", "centred"):
        for name in MEASURES:
            ys = [getattr(getattr(r.average[L], view), name) for L in layers]
            m.series[f"{name} ({view})"] = {"x": [float(L) for L in layers], "y": [float(y) for y in ys]}
    first = 1 if len(layers) > 1 and layers[0] == 0 and 1 in layers else layers[0]  # first contextual layer
    last = layers[-1]
    n_pairs = sum(s.n_pairs for s in r.samples.values())
    n_words = sum(s.n_words for s in r.samples.values())

    def fig(key: str, label: str, view: str, name: str, L: int) -> None:
        m.figures[key] = Figure(key, label, float(getattr(getattr(r.average[L], view), name)), n=n_pairs,
                                unit="mean cosine")

    fig("anisotropy.first", f"anisotropy, layer {first}", "raw", "anisotropy", first)
    fig("anisotropy.last", f"anisotropy, layer {last}", "raw", "anisotropy", last)
    fig("anisotropy.centred.last", f"anisotropy after centring, layer {last}", "centred", "anisotropy", last)
    fig("self_similarity.last", f"self-similarity, layer {last}", "raw", "self_similarity", last)
    fig("intra_sentence.last", f"intra-sentence similarity, layer {last}", "raw", "intra_sentence", last)
    a = m.series["anisotropy (raw)"]["y"]
    rise = a[layers.index(last)] - a[layers.index(first)]
    m.figures["anisotropy.rise"] = Figure("anisotropy.rise", f"anisotropy rise, layer {first} -> {last}", rise,
                                          n=n_pairs, unit="cosine")
    sa = m.series["self_similarity_adjusted (raw)"]["y"]
    m.figures["self_similarity_adjusted.change"] = Figure(
        "self_similarity_adjusted.change", f"anisotropy-adjusted self-similarity change, layer {first} -> {last}",
        sa[layers.index(last)] - sa[layers.index(first)], unit="cosine")
    up = sum(1 for i in range(1, len(a)) if a[i] > a[i - 1])
    m.figures["anisotropy.rising_steps"] = Figure("anisotropy.rising_steps", "layer-to-layer steps where anisotropy rises",
                                                  float(up), n=len(a) - 1, unit="steps")
    m.tables["per_language"] = [
        {"language": lang, "layer": L, "anisotropy": round(v.raw.anisotropy, 4), "self_similarity": round(v.raw.self_similarity, 4),
         "intra_sentence": round(v.raw.intra_sentence, 4), "anisotropy_centred": round(v.centred.anisotropy, 4)}
        for lang, by in r.per_language.items() for L, v in by.items() if L in (first, last)
    ]
    m.notes.append(f"PUD sentences of {', '.join(r.langs)}: {n_words} word occurrences, "
                   f"{sum(s.n_types for s in r.samples.values())} word types in the self-similarity sample, "
                   f"{n_pairs} random pairs for the anisotropy baseline; figures are means over languages. "
                   f"Centred: {r.centring}.")
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    names = ["anisotropy (raw)", "self_similarity (raw)", "intra_sentence (raw)", "anisotropy (centred)"]
    return line_plot(measurements, ctx, names, title="Word-vector geometry by layer (Ethayarajh 2019)",
                     ylabel="mean cosine")
