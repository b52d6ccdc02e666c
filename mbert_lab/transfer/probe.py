"""Per-layer linear probes on cached encoder vectors (frozen encoder).

The CLI extracts word vectors (token tasks) or sentence vectors (pair tasks) for every layer
once through the Extractor (cached in the shared vector store), then trains one softmax
probe per layer on the source language and scores every language: which layer transfers
best. Pair features are ``[u, v, |u - v|, u * v]`` of the two sentences encoded separately
(a bi-encoder probe, not the cross-encoder of fine-tuning).

>>> import numpy as np
>>> X = np.array([[0., 1.], [1., 0.], [0., 2.], [2., 0.]], dtype=np.float32); y = np.array([0, 1, 0, 1])
>>> W = train_linear_probe(X, y, 2, seed=0, epochs=200, lr=0.1)
>>> predict_probe(W, X).tolist()
[0, 1, 0, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1).astype(np.float32)


def train_linear_probe(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    seed: int = 0,
    epochs: int = 20,
    lr: float = 1e-2,
    batch_size: int = 256,
    weight_decay: float = 1e-4,
) -> dict[str, Any]:
    """Softmax regression with Adam on standardised features; returns weights + scaler.

    Rows with ``y < 0`` are ignored. Deterministic for a seed.
    """
    import torch

    keep = y >= 0
    X = X[keep]
    y = y[keep]
    if len(X) == 0:
        from ..errors import InputError

        raise InputError("empty split: no labelled training vectors for the probe")
    mu = X.mean(0)
    sd = X.std(0) + 1e-6
    g = torch.Generator().manual_seed(seed)
    Xt = torch.from_numpy(((X - mu) / sd).astype(np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    lin = torch.nn.Linear(X.shape[1], n_classes)
    with torch.no_grad():
        lin.weight.normal_(0.0, 0.01, generator=g)
        lin.bias.zero_()
    opt = torch.optim.Adam(lin.parameters(), lr=lr, weight_decay=weight_decay)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, batch_size):
            idx = perm[s : s + batch_size]
            loss = torch.nn.functional.cross_entropy(lin(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {"W": lin.weight.detach().numpy().copy(), "b": lin.bias.detach().numpy().copy(), "mu": mu, "sd": sd}


def predict_probe(probe: dict[str, Any], X: np.ndarray) -> np.ndarray:
    Z = ((X - probe["mu"]) / probe["sd"]) @ probe["W"].T + probe["b"]
    return Z.argmax(1)
