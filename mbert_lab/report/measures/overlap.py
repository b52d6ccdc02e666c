"""Claim 6 (Pires et al. 2019; Wu & Dredze 2019; K et al. 2020): shared word pieces correlate
with transfer. Per task, the correlation over languages between the ``vocab`` study's overlap
measures and the ``transfer`` study's zero-shot scores, computed by the vocab study's own
function (:func:`mbert_lab.analyses.vocabulary.correlate`: Pearson and Spearman with
percentile-bootstrap intervals over languages), so the figures equal those of
``vocab(scores=<the transfer result>)``; and the same *controlled for script* (partial
correlation given "written in the source language's script" (ISO 15924 code of the language
table), :mod:`mbert_lab.analyses.partial`).

- POS and XNLI: Wu & Dredze's share of the target's subwords seen in the English training data,
  by type and by token (``seen_type`` / ``seen_token``), measured on the POS suite's text of each
  language (for XNLI a proxy: the same language's UD text, not the XNLI items);
- NER: Pires et al.'s entity overlap (CoNLL-2003 English entities vs MasakhaNER entities).
"""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement
from ._claims_common import bar_plot, of_kind, transfer_by_task

PAIRS = (("pos", "seen_type"), ("pos", "seen_token"), ("xnli", "seen_type"), ("xnli", "seen_token"),
         ("ner", "entity_overlap"))


def overlap_values(rep: Any, measure: str) -> dict[str, float]:
    """measure -> {lang: value} from one tokenizer's report (the source language left out)."""
    if measure == "entity_overlap":
        return {k: float(v.entity_overlap) for k, v in (rep.ner.per_language if rep.ner else {}).items()}
    tp = rep.transfer_pos
    return {k: float(getattr(v, measure)) for k, v in (tp.per_language if tp else {}).items() if k != tp.source}


def task_scores(r: Any) -> dict[str, float]:
    """Zero-shot score per non-source language (primary suite, mean over seeds)."""
    return {k: float(v.mean) for k, v in r.per_language.items() if k != r.train_lang}


def _script(r: Any, lang: str) -> str:
    info = r.languages.get(lang)
    return getattr(info, "script", "unknown") if info is not None else "unknown"


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    from ...analyses.partial import partial_correlation
    from ...analyses.vocabulary import correlate
    from ...errors import InputError

    vocab = of_kind(results, "vocab")
    tasks = transfer_by_task(results)
    if not vocab or not tasks:
        return Measurement(not_measurable="needs a vocab and a transfer result")
    v = vocab[0]
    rep = v.tokenizers[0]
    cfg = v.provenance.config or {}
    n_boot, seed = int(cfg.get("n_boot", 2000)), int(cfg.get("seed", 0))
    m = Measurement()
    tok = rep.tokenizer
    if tok.spec != ctx.model and tok.label != ctx.model:
        m.notes.append(f"word pieces counted with the tokenizer '{tok.spec}' ({tok.label}), not necessarily "
                       f"{ctx.model}'s: the vocab study measures the tokenizer it is given")
    for task, meas in PAIRS:
        if task not in tasks:
            continue
        r = tasks[task]
        key = f"{task}.{meas}"
        try:
            c = correlate(overlap_values(rep, meas), task_scores(r), measure_name=meas, score_name=f"{task} zero-shot",
                          n_boot=n_boot, seed=seed)
        except InputError as e:
            m.notes.append(f"{key}: not computed: {e}")
            continue
        m.figures[f"{key}.pearson"] = Figure(f"{key}.pearson", f"{task}: Pearson r, {meas} vs zero-shot score",
                                             c.pearson, c.pearson_ci[0], c.pearson_ci[1], n=c.n, unit="Pearson r")
        m.figures[f"{key}.spearman"] = Figure(f"{key}.spearman", f"{task}: Spearman rho, {meas} vs zero-shot score",
                                              c.spearman, c.spearman_ci[0], c.spearman_ci[1], n=c.n, unit="Spearman rho")
        src_script = _script(r, r.train_lang)  # ISO 15924, e.g. Latn for English
        z = [1.0 if _script(r, x) == src_script else 0.0 for x in c.languages]
        p = partial_correlation(c.x, c.y, z, n_boot=n_boot, seed=seed)
        m.figures[f"{key}.partial_script"] = Figure(
            f"{key}.partial_script", f"{task}: Pearson r controlled for script ({src_script} or not)",
            p.r if p.r == p.r else None, p.ci[0] if p.ci[0] == p.ci[0] else None,
            p.ci[1] if p.ci[1] == p.ci[1] else None, n=p.n, unit="partial r")
        m.tables[key] = [{"language": x, "script": _script(r, x), meas: round(a, 4), "score": round(b, 2)}
                         for x, a, b in zip(c.languages, c.x, c.y)]
        m.series[key] = {"x": list(c.x), "y": list(c.y)}
        note = f"{key}: {c.n} languages ({', '.join(c.languages)})"
        if p.covariate_constant:
            note += "; all in one script class, so the script-controlled r equals the plain r"
        m.notes.append(note + "; " + "; ".join(c.notes))
    if not m.figures:
        m.not_measurable = "no task had 3 or more languages with both an overlap measure and a score"
    m.notes.append("K et al. (2020) remove word-piece overlap altogether (a 'fake English'); that experiment needs "
                   "retraining a model and is not run here: their figure is shown as context only.")
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    keys = [f"{t}.{x}.{k}" for t, x in PAIRS for k in ("pearson", "partial_script")]
    keys = [k for k in keys if any(k in m.figures for m in measurements.values())]
    return bar_plot(measurements, ctx, keys, title="Word-piece overlap vs zero-shot score (r, 95% CI)",
                    ylabel="correlation")
