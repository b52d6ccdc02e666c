"""Seed variance (Dodge et al. 2020): spread over seeds per language and rank swaps between
languages across seeds.

Two languages *swap rank* across seeds when one is ahead in one seed and behind in another
(a tie counts as neither). ``pairs_swapped``: language pairs that swap in at least one pair of
seeds; ``flip_rate``: over every language pair and every pair of seeds, the share of those
comparisons whose order is reversed.

>>> r = rank_swaps({"a": [1.0, 3.0], "b": [2.0, 2.0], "c": [0.0, 0.0]})
>>> (r.n_language_pairs, r.pairs_swapped, r.flip_rate)
(3, 1, 0.3333333333333333)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np


@dataclass(frozen=True)
class RankSwaps:
    n_language_pairs: int
    n_seeds: int
    pairs_swapped: int
    share_swapped: float  # pairs_swapped / n_language_pairs (nan without pairs)
    flip_rate: float  # reversed (language pair, seed pair) comparisons / all of them
    swapped: tuple[tuple[str, str], ...]


def rank_swaps(scores: Mapping[str, Sequence[float]]) -> RankSwaps:
    """``scores[lang]``: one score per seed, the same seeds in the same order for every language."""
    langs = list(scores)
    n_seeds = min((len(v) for v in scores.values()), default=0)
    swapped, flips, comparisons = [], 0, 0
    for a, b in combinations(langs, 2):
        d = np.sign(np.asarray(scores[a][:n_seeds], float) - np.asarray(scores[b][:n_seeds], float))
        any_flip = False
        for s, t in combinations(range(n_seeds), 2):
            comparisons += 1
            if d[s] * d[t] < 0:
                flips += 1
                any_flip = True
        if any_flip:
            swapped.append((a, b))
    n_pairs = len(langs) * (len(langs) - 1) // 2
    return RankSwaps(n_pairs, n_seeds, len(swapped), len(swapped) / n_pairs if n_pairs else float("nan"),
                     flips / comparisons if comparisons else float("nan"), tuple(swapped))


def seed_spread(values: Sequence[float]) -> tuple[float, float]:
    """(sample standard deviation, max - min) of one language's scores over seeds."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return 0.0, 0.0
    return float(v.std(ddof=1)), float(v.max() - v.min())


__all__ = ["RankSwaps", "rank_swaps", "seed_spread"]
