"""Claim 9 (Dodge et al. 2020): initialisation variance is large. From ``transfer`` results run
with several seeds: per language the standard deviation and range over seeds, and how often two
languages swap rank across seeds (:mod:`mbert_lab.analyses.seeds`)."""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import bar_plot, of_kind


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    from ...analyses.seeds import rank_swaps, seed_spread

    runs = [r for r in of_kind(results, "transfer") if len(r.seeds) > 1]
    if not runs:
        return Measurement(not_measurable="no transfer result with more than one seed")
    m = Measurement()
    for r in runs:
        t, unit = r.task, f"{r.metric} x100"
        s = r.suites[r.primary_suite]
        per = {lang: list(sc.seeds) for lang, sc in s.per_language.items()}
        sds = {}
        for lang, vals in per.items():
            sd, rng = seed_spread(vals)
            sds[lang] = sd
            m.figures[f"{t}.{lang}.sd"] = Figure(f"{t}.{lang}.sd", f"{t} {lang}: sd over {len(vals)} seeds", sd,
                                                 n=len(vals), unit=unit)
            m.figures[f"{t}.{lang}.range"] = Figure(f"{t}.{lang}.range", f"{t} {lang}: max - min over seeds", rng,
                                                    n=len(vals), unit=unit)
        worst = max(sds, key=lambda x: sds[x])
        m.figures[f"{t}.sd.max"] = Figure(f"{t}.sd.max", f"{t}: largest sd over seeds ({worst})", sds[worst],
                                          n=len(r.seeds), unit=unit)
        m.figures[f"{t}.range.max"] = Figure(f"{t}.range.max", f"{t}: largest max - min over seeds",
                                             max(m.figures[f"{t}.{x}.range"].value for x in per), n=len(r.seeds), unit=unit)
        zs = [x for x in per if x != r.train_lang]
        sw = rank_swaps({x: per[x] for x in zs})
        m.figures[f"{t}.rank_swaps.share"] = Figure(
            f"{t}.rank_swaps.share", f"{t}: share of language pairs that swap rank across seeds", sw.share_swapped,
            n=sw.n_language_pairs, unit="share")
        m.figures[f"{t}.rank_swaps.flip_rate"] = Figure(
            f"{t}.rank_swaps.flip_rate", f"{t}: reversed (language pair, seed pair) comparisons", sw.flip_rate,
            n=sw.n_language_pairs * sw.n_seeds * (sw.n_seeds - 1) // 2, unit="share")
        m.tables[f"{t}_by_seed"] = [{"language": x, **{f"seed {sd}": round(v, 2) for sd, v in zip(r.seeds, per[x])},
                                     "sd": round(sds[x], 2)} for x in per]
        if sw.swapped:
            m.notes.append(f"{t}: pairs that swap rank: " + ", ".join(f"{a}/{b}" for a, b in sw.swapped))
        lp = r.layer_probes
        n_test = [lp.n_test.get(f"{r.primary_suite}:{x}") for x in per] if lp is not None else []
        n_test = [n for n in n_test if n]
        if n_test and r.task in ("xnli", "pawsx"):  # one item = one decision (POS counts words)
            p = sum(sum(v) / len(v) for v in per.values()) / len(per) / 100.0
            se = 100.0 * (p * (1 - p) / min(n_test)) ** 0.5
            m.figures[f"{t}.sampling_se"] = Figure(
                f"{t}.sampling_se", f"{t}: sampling standard error of one language's score ({min(n_test)} test items)",
                se, n=min(n_test), unit=unit)
            m.notes.append(f"{t}: for scale, the sampling standard error of one language's accuracy on "
                           f"{min(n_test)} test items is about {se:.1f} points (the seed spread is on the same items)")
        how = "frozen-feature probes (seed: probe initialisation and batch order)" if r.layer_probes else f"mode {r.mode}"
        m.notes.append(f"{t}: {len(r.seeds)} seeds {list(r.seeds)}, {how}; scores on the {r.primary_suite} suite")
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    keys = sorted({k for m in measurements.values() for k in m.figures if k.endswith(".sd") and k.count(".") == 2})
    return bar_plot(measurements, ctx, keys, title="Spread over seeds per language (sd)", ylabel="sd, points")
