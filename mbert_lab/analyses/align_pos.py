"""Alignment quality by part of speech: AER, precision and recall restricted to the links whose
word on one side (the tagged side, e.g. English) has a given tag.

For a tag t, per pair, A_t / S_t / P_t are the predicted / sure / possible (sure or possible)
links whose tagged-side word has tag t; summed over pairs,
AER_t = 1 - (|A_t & S_t| + |A_t & P_t|) / (|A_t| + |S_t|) (Och & Ney), precision
|A_t & P_t| / |A_t|, recall |A_t & S_t| / |S_t|.

>>> from mbert_lab.data.readers.alignment import GoldPair
>>> g = GoldPair(("the", "cat"), ("le", "chat"), frozenset({(0, 0), (1, 1)}))
>>> r = scores_by_tag([[(0, 0), (1, 0)]], [g], [("DET", "NOUN")], side="src")
>>> (r["DET"].aer, r["NOUN"].aer, r["NOUN"].n_sure)
(0.0, 1.0, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# UPOS -> group (Cao et al.'s open vs closed class; proper nouns and the rest apart)
UPOS_GROUPS = {
    "NOUN": "open", "VERB": "open", "ADJ": "open", "ADV": "open",
    "PROPN": "proper",
    "ADP": "closed", "AUX": "closed", "CCONJ": "closed", "DET": "closed", "PART": "closed", "PRON": "closed",
    "SCONJ": "closed",
    "NUM": "other", "PUNCT": "other", "SYM": "other", "X": "other", "INTJ": "other",
}


@dataclass(frozen=True)
class TagScores:
    n_pred: int
    n_sure: int
    n_pred_sure: int
    n_pred_possible: int
    aer: float  # nan when there are neither predicted nor sure links
    precision: float
    recall: float


def _scores(a: int, s: int, a_s: int, a_p: int) -> TagScores:
    nan = float("nan")
    return TagScores(a, s, a_s, a_p, 1 - (a_s + a_p) / (a + s) if a + s else nan, a_p / a if a else nan,
                     a_s / s if s else nan)


def scores_by_tag(predictions: Sequence[Iterable[tuple[int, int]]], gold: Sequence[Any],
                  tags: Sequence[Sequence[str]], side: str = "src",
                  groups: dict[str, str] | None = None) -> dict[str, TagScores]:
    """Tag (or its group in ``groups``) -> scores over every pair. ``tags[k]``: one tag per word
    of pair k's ``side`` ("src" or "tgt")."""
    if side not in ("src", "tgt"):
        raise ValueError(f"side must be 'src' or 'tgt', got {side!r}")
    k = 0 if side == "src" else 1
    counts: dict[str, list[int]] = {}
    for pred, g, t in zip(predictions, gold, tags):
        a, s = set(pred), set(g.sure)
        p = s | set(g.possible)

        for link in a | s:
            x = t[link[k]]
            c = counts.setdefault(groups.get(x, "other") if groups is not None else x, [0, 0, 0, 0])
            c[0] += link in a
            c[1] += link in s
            c[2] += link in a and link in s
            c[3] += link in a and link in p
    return {x: _scores(*c) for x, c in sorted(counts.items())}


__all__ = ["UPOS_GROUPS", "TagScores", "scores_by_tag"]
