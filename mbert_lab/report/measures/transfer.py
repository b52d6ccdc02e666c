"""Claim 5 (Pires et al. 2019; Wu & Dredze 2019; Hu et al. 2020): zero-shot transfer from
English. Figures from the ``transfer`` study, one result per task: the zero-shot average over
the non-English languages, English, the gap, and each language (primary suite, the split the
study reports on)."""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import bar_plot, score_figure, transfer_by_task

TASK_ORDER = ("pos", "ner", "xnli", "pawsx")
CHANCE = {"xnli": 100 / 3, "pawsx": 50.0}


def _n_test(r: Any, lang: str) -> int | None:
    lp = r.layer_probes
    key = f"{r.primary_suite}:{lang}"
    if lp is not None:
        return lp.n_test.get(key)
    for by in r.details.values():
        d = by.get(r.primary_suite, {}).get(lang)
        if d is not None:
            return d.n_examples
    return None


def task_figures(r: Any, m: Measurement) -> None:
    """``<task>.zero_shot``, ``<task>.source``, ``<task>.gap``, ``<task>.<lang>`` of one result."""
    t, unit = r.task, f"{r.metric} x100"
    s = r.suites[r.primary_suite]
    zs_n = sum(_n_test(r, x) or 0 for x in s.per_language if x != r.train_lang) or None
    m.figures[f"{t}.zero_shot"] = score_figure(f"{t}.zero_shot", f"{t} zero-shot average ({r.primary_suite})",
                                               s.zero_shot_average, unit, zs_n)
    m.figures[f"{t}.source"] = score_figure(f"{t}.source", f"{t} English ({r.primary_suite})", s.source, unit,
                                            _n_test(r, r.train_lang))
    if s.transfer_gap is not None:
        m.figures[f"{t}.gap"] = Figure(f"{t}.gap", f"{t} transfer gap (English - zero-shot)", float(s.transfer_gap),
                                       unit="points")
    for lang, sc in s.per_language.items():
        m.figures[f"{t}.{lang}"] = score_figure(f"{t}.{lang}", f"{t} {lang}", sc, unit, _n_test(r, lang))
    if t in CHANCE:
        m.figures[f"{t}.chance"] = Figure(f"{t}.chance", f"{t} chance level", CHANCE[t], unit=unit)


def describe(r: Any) -> str:
    lp = r.layer_probes
    how = (f"frozen encoder, softmax probe per layer; layer {lp.best_layer} chosen on the {lp.chosen_on} half, "
           f"reported on the {lp.reported_on} half" if lp is not None else
           f"mode {r.mode}" + (f", {r.training.train_examples} training examples" if r.training else ""))
    pool = r.notes.get("train_pool")
    return f"{r.task}: {how}; seeds {list(r.seeds)}" + (f"; training pool {pool}" if pool else "")


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    by = transfer_by_task(results)
    if not by:
        return Measurement(not_measurable="no transfer result")
    m = Measurement()
    for t in TASK_ORDER:
        if t in by:
            task_figures(by[t], m)
            m.notes.append(describe(by[t]))
    m.tables["zero_shot"] = [
        {"task": t, "suite": by[t].primary_suite, **{lang: round(sc.mean, 1) for lang, sc in by[t].per_language.items()}}
        for t in TASK_ORDER if t in by
    ]
    return m


def plot(measurements: dict[str, Any], ctx: ClaimContext) -> Any:
    keys: list[str] = []
    for t in TASK_ORDER:
        for suffix in ("source", "zero_shot"):
            k = f"{t}.{suffix}"
            if any(k in m.figures and m.figures[k].value is not None for m in measurements.values()):
                keys.append(k)
    return bar_plot(measurements, ctx, keys, title="Zero-shot transfer from English", ylabel="score x100")
