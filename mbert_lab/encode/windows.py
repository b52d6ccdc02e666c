"""Long inputs: split content tokens into overlapping windows and stitch them back.

A sequence of ``n`` content tokens (special tokens excluded) that does not fit into
``size`` content positions is covered by windows ``[start, start + size)`` whose starts
advance by ``stride``; the last window is aligned to the end. Every token then takes its
vector from the window in which it sits farthest from an edge (most context on both sides),
so stitched vectors never come from a window's truncated edge when a better one exists.

>>> plan_windows(5, size=8, stride=4)
[(0, 5)]
>>> plan_windows(10, size=4, stride=3)
[(0, 4), (3, 7), (6, 10)]
>>> owner_of_tokens(10, [(0, 4), (3, 7), (6, 10)]).tolist()
[0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class WindowPolicy:
    """``size``: content tokens per window (model max minus special tokens);
    ``stride``: advance between window starts (``size - overlap``)."""

    size: int
    stride: int

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ConfigError(f"window size must be >= 1, got {self.size}")
        if not 1 <= self.stride <= self.size:
            raise ConfigError(f"window stride must be in 1..{self.size} (the window size), got {self.stride}")

    @classmethod
    def for_length(cls, content_size: int, overlap: int | None = None) -> WindowPolicy:
        """Default overlap: a quarter of the window (128 tokens for a 510-token window)."""
        if overlap is None:
            overlap = content_size // 4
        overlap = max(0, min(overlap, content_size - 1))
        return cls(size=content_size, stride=content_size - overlap)


def plan_windows(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Content-token ranges ``[a, b)`` covering ``0..n``; one window when ``n <= size``."""
    if n <= size:
        return [(0, n)]
    starts = list(range(0, n - size + 1, stride))
    if starts[-1] + size < n:
        starts.append(n - size)
    return [(a, a + size) for a in starts]


def owner_of_tokens(n: int, windows: list[tuple[int, int]]) -> np.ndarray:
    """For each token, the index of the window where it is farthest from a window edge.

    Ties go to the earlier window. The first and last tokens of the sequence are treated as
    having full context at the sequence boundary (no better window exists for them).
    """
    if len(windows) == 1:
        return np.zeros(n, dtype=np.int64)
    pos = np.arange(n)
    best = np.full(n, -1, dtype=np.int64)
    best_margin = np.full(n, -1, dtype=np.int64)
    for w, (a, b) in enumerate(windows):
        inside = (pos >= a) & (pos < b)
        left = np.where(a == 0, n, pos - a)  # at the sequence start there is no cut-off
        right = np.where(b == n, n, b - 1 - pos)
        margin = np.minimum(left, right)
        better = inside & (margin > best_margin)
        best[better] = w
        best_margin[better] = margin[better]
    assert (best >= 0).all()
    return best
