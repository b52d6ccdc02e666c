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

from collections.abc import Sequence
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


def dev_test_split(n: int, dev_fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint, sorted dev / test example indices of a set of ``n`` (seeded; sets of the same
    size get the same split, so parallel sets stay parallel).

    >>> d, t = dev_test_split(10, 0.5, 0)
    >>> len(d), len(t), sorted(set(d) | set(t)) == list(range(10)), set(d) & set(t)
    (5, 5, True, set())
    """
    if n < 2:
        from ..errors import InputError

        raise InputError(f"a dev/test split needs at least 2 examples, got {n}")
    k = min(n - 1, max(1, int(round(n * dev_fraction))))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def layer_probe_scores(
    data: Any,
    vectors: Any,
    layers: Sequence[int],
    seeds: Sequence[int],
    epochs: int = 10,
    dev_fraction: float = 0.5,
    split_seed: int = 0,
) -> dict[str, Any]:
    """One softmax probe per (layer, seed) on the training vectors; every evaluation set scored
    on its dev and its test half. ``vectors(examples, desc) -> {layer: matrix}`` (word rows
    for token tasks, pair features for pair tasks).

    Returns ``{"dev": {layer: [per seed: {suite: {lang: score}}]}, "test": ..., "n_dev":
    {"suite:lang": n}, "n_test": ...}``.
    """
    from .tasks import TASKS, TaskType

    kind = TASKS[data.task].type
    metric = TASKS[data.task].metric
    label2id = {lab: i for i, lab in enumerate(data.labels)}
    id2label = list(label2id)
    if kind is TaskType.TOKEN:
        ytr = np.asarray([label2id.get(lab, -1) for e in data.train for lab in e.labels])
    else:
        ytr = np.asarray([label2id.get(e.label, -1) for e in data.train])
    Xtr = vectors(data.train, "train vectors")
    evals = [(e, vectors(e.examples, f"{e.suite}:{e.lang}"), dev_test_split(len(e.examples), dev_fraction, split_seed))
             for e in data.evals]
    out: dict[str, Any] = {"dev": {L: [] for L in layers}, "test": {L: [] for L in layers},
                           "n_dev": {f"{e.suite}:{e.lang}": len(s[0]) for e, _, s in evals},
                           "n_test": {f"{e.suite}:{e.lang}": len(s[1]) for e, _, s in evals}}
    for L in layers:
        for seed in seeds:
            pr = train_linear_probe(Xtr[L], ytr, len(label2id), seed=seed, epochs=epochs)
            dev: dict[str, dict[str, float]] = {}
            test: dict[str, dict[str, float]] = {}
            for e, X, (di, ti) in evals:
                pred = _per_example(kind, predict_probe(pr, X[L]), e.examples, id2label)
                dev.setdefault(e.suite, {})[e.lang] = _score(kind, metric, e.examples, pred, di)
                test.setdefault(e.suite, {})[e.lang] = _score(kind, metric, e.examples, pred, ti)
            out["dev"][L].append(dev)
            out["test"][L].append(test)
    return out


def _per_example(kind: Any, pred: np.ndarray, examples: Sequence[Any], id2label: list[str]) -> list[Any]:
    from .tasks import TaskType

    if kind is TaskType.PAIR:
        return [id2label[int(p)] for p in pred]
    it = iter(pred.tolist())
    return [[id2label[next(it)] for _ in x.labels] for x in examples]


def _score(kind: Any, metric: str, examples: Sequence[Any], pred: list[Any], idx: np.ndarray) -> float:
    from .runner import score_token_predictions
    from .tasks import TaskType

    if kind is TaskType.TOKEN:
        return float(score_token_predictions([list(examples[int(i)].labels) for i in idx],
                                             [pred[int(i)] for i in idx], metric)["score"])
    return 100.0 * float(np.mean([pred[int(i)] == examples[int(i)].label for i in idx]))
