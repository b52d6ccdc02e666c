"""Aggregate seeds into per-language scores: mean, sd, zero-shot average, transfer gap
(typed by :func:`mbert_lab.studies.transfer.aggregate`; charts and tables of the typed result
are in :mod:`mbert_lab.plots.transfer`).

>>> agg = aggregate_scores({"en": [90.0, 92.0], "de": [80.0, 84.0]}, source="en")
>>> agg["per_language"]["de"]["mean"], agg["average_zero_shot"]["mean"], agg["transfer_gap"]
(82.0, 82.0, 9.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _sd(xs: Sequence[float]) -> float:
    return float(np.std(xs, ddof=1)) if len(xs) > 1 else 0.0


def aggregate_scores(by_lang: dict[str, list[float]], source: str | None) -> dict[str, Any]:
    """``by_lang``: lang -> one score per seed (same seed order for every language)."""
    per = {
        lang: {"mean": float(np.mean(v)), "sd": _sd(v), "seeds": [float(x) for x in v], "n_seeds": len(v)}
        for lang, v in by_lang.items()
    }
    zs = [lang for lang in by_lang if lang != source]
    out: dict[str, Any] = {"per_language": per, "source_language": source, "zero_shot_languages": zs}
    if zs:
        n = min(len(by_lang[lang]) for lang in zs)
        seed_avgs = [float(np.mean([by_lang[lang][i] for lang in zs])) for i in range(n)]
        out["average_zero_shot"] = {"mean": float(np.mean(seed_avgs)), "sd": _sd(seed_avgs), "seeds": seed_avgs}
    else:
        out["average_zero_shot"] = None
    if source in by_lang:
        out["source"] = per[source]
        out["transfer_gap"] = (per[source]["mean"] - out["average_zero_shot"]["mean"]) if zs else None
    else:
        out["source"] = None
        out["transfer_gap"] = None
    return out
