"""Partial correlation: Pearson's r between x and y after removing what a covariate z explains
linearly from each (ordinary least squares with an intercept), with a percentile bootstrap
interval over the units (languages).

Used to control the overlap-vs-transfer correlation for script: z = 1 where a language is written
in the source language's script, else 0.

>>> x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
>>> z = [0, 0, 0, 1, 1, 1]
>>> round(partial_correlation(x, [2 * v for v in x], z, n_boot=0).r, 6)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PartialCorrelation:
    r: float  # nan when undefined (a residual is constant)
    ci: tuple[float, float]  # (nan, nan) without resamples
    n: int
    n_boot: int
    n_boot_used: int
    covariate_constant: bool  # z is constant: the partial r equals the plain r
    seed: int


def _residual(v: np.ndarray, z: np.ndarray) -> np.ndarray:
    if np.ptp(z) == 0:
        return v - v.mean()
    A = np.stack([np.ones_like(z), z], axis=1)
    coef, *_ = np.linalg.lstsq(A, v, rcond=None)
    return v - A @ coef


def _r(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    rx, ry = _residual(x, z), _residual(y, z)
    d = math.sqrt(float((rx * rx).sum()) * float((ry * ry).sum()))
    return float((rx * ry).sum() / d) if d > 1e-12 else float("nan")


def partial_correlation(x: Sequence[float], y: Sequence[float], z: Sequence[float], *, n_boot: int = 2000,
                        seed: int = 0, ci_level: float = 0.95) -> PartialCorrelation:
    """r(x, y | z) and its bootstrap interval (resamples where it is undefined are left out)."""
    X, Y, Z = (np.asarray(v, dtype=np.float64) for v in (x, y, z))
    if not (len(X) == len(Y) == len(Z)):
        raise ValueError("x, y and z must have the same length")
    r = _r(X, Y, Z)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(X), size=len(X))
        b = _r(X[i], Y[i], Z[i])
        if not math.isnan(b):
            boots.append(b)
    a = (1 - ci_level) / 2
    ci = (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))) if boots else (float("nan"), float("nan"))
    return PartialCorrelation(r, ci, len(X), n_boot, len(boots), bool(np.ptp(Z) == 0) if len(Z) else True, seed)


__all__ = ["PartialCorrelation", "partial_correlation"]
