"""Geometry of contextual word vectors (Ethayarajh 2019, "How Contextual are Contextualized Word
Representations?"), as numpy cores.

- *anisotropy* (the baseline): the mean cosine similarity between the vectors of uniformly
  sampled pairs of word occurrences (two different words, drawn across the whole sample);
- *self-similarity* of a word type: the mean cosine similarity between its vectors in its
  different contexts (every pair of occurrences), averaged over word types;
- *intra-sentence similarity* of a sentence: the mean cosine similarity between each of its word
  vectors and the sentence's mean word vector, averaged over sentences.

The *adjusted* figures subtract the anisotropy baseline (Ethayarajh's "anisotropy-adjusted"
self-similarity and intra-sentence similarity). *Centred*: every vector minus the mean vector of
the sample before measuring (a common way to remove the shared direction that makes the cone).

>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
>>> round(anisotropy(X, np.array([[0, 1], [0, 2]])), 3)
0.5
>>> round(self_similarity(X, [np.array([0, 2]), np.array([1, 3])]), 3)
1.0
>>> round(intra_sentence_similarity(X, [np.array([0, 1])]), 3)
0.707
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    X = np.asarray(X, dtype=np.float64)
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, n, out=np.zeros_like(X), where=n > 0)


def sample_pairs(n: int, n_pairs: int, seed: int) -> np.ndarray:
    """``n_pairs`` pairs ``(i, j)`` of distinct row indices in ``range(n)``, uniformly drawn
    (``numpy.random.default_rng(seed)``)."""
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = (i + rng.integers(1, n, size=n_pairs)) % n  # j != i, uniform over the others
    return np.stack([i, j], axis=1)


def anisotropy(X: np.ndarray, pairs: np.ndarray) -> float:
    """Mean cosine similarity over the given row pairs."""
    if len(pairs) == 0:
        return float("nan")
    U = unit_rows(X)
    return float(np.mean(np.sum(U[pairs[:, 0]] * U[pairs[:, 1]], axis=1)))


def self_similarity(X: np.ndarray, groups: Sequence[np.ndarray]) -> float:
    """Mean over groups (one per word type, >= 2 rows: its occurrences) of the mean pairwise
    cosine similarity within the group."""
    U = unit_rows(X)
    vals = []
    for g in groups:
        k = len(g)
        if k < 2:
            continue
        S = U[g] @ U[g].T
        vals.append((S.sum() - np.trace(S)) / (k * (k - 1)))
    return float(np.mean(vals)) if vals else float("nan")


def intra_sentence_similarity(X: np.ndarray, sentences: Sequence[np.ndarray]) -> float:
    """Mean over sentences (row index arrays, >= 2 words) of the mean cosine similarity between
    each word vector and the sentence's mean vector."""
    vals = []
    for s in sentences:
        if len(s) < 2:
            continue
        W = np.asarray(X[s], dtype=np.float64)
        m = unit_rows(W.mean(axis=0, keepdims=True))[0]
        vals.append(float(np.mean(unit_rows(W) @ m)))
    return float(np.mean(vals)) if vals else float("nan")


@dataclass(frozen=True)
class GeometryScores:
    anisotropy: float
    self_similarity: float
    intra_sentence: float
    self_similarity_adjusted: float  # minus anisotropy
    intra_sentence_adjusted: float


def geometry_scores(X: np.ndarray, pairs: np.ndarray, groups: Sequence[np.ndarray],
                    sentences: Sequence[np.ndarray], centre: bool = False) -> GeometryScores:
    """The three measures (and the two adjusted ones) on ``X``, raw or centred."""
    X = np.asarray(X, dtype=np.float64)
    if centre:
        X = X - X.mean(axis=0, keepdims=True)
    a = anisotropy(X, pairs)
    s = self_similarity(X, groups)
    i = intra_sentence_similarity(X, sentences)
    return GeometryScores(a, s, i, s - a, i - a)


__all__ = [
    "GeometryScores",
    "anisotropy",
    "geometry_scores",
    "intra_sentence_similarity",
    "sample_pairs",
    "self_similarity",
    "unit_rows",
]
