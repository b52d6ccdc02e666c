"""Experiment splits and export of loader records.

- :func:`parallel_item_split`: disjoint train/eval item indices of a parallel set (XNLI,
  PAWS-X), grouped so that translations of a training item never reach evaluation.
- :func:`to_records` / :func:`to_hf_dataset`: plain dicts or a ``datasets.Dataset`` of any
  loader's records.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .readers.alignment import AlignmentGold
from .readers.parallel import ParallelCorpus


@dataclass(frozen=True)
class ItemSplit:
    """Disjoint item indices for training (source language) and evaluation (others)."""

    train: tuple[int, ...]
    eval: tuple[int, ...]


def parallel_item_split(
    n_items: int,
    *,
    train_fraction: float = 0.5,
    seed: int = 0,
    groups: Sequence[Any] | None = None,
) -> ItemSplit:
    """Split the items of a parallel set (XNLI, PAWS-X) into disjoint train/eval indices.

    Train on ``train`` items in the source language and evaluate every language on the
    ``eval`` items only: the same row index is the same item in every language, so
    evaluating on a translation of a training item leaks. ``groups`` (one key per item,
    e.g. the English premise) keeps each group on one side.

    >>> s = parallel_item_split(6, groups=["a", "a", "a", "b", "b", "b"], seed=1)
    >>> sorted(s.train + s.eval), set(s.train) & set(s.eval)
    ([0, 1, 2, 3, 4, 5], set())
    """
    if not 0.0 < train_fraction < 1.0:
        raise ConfigError(f"train_fraction must be between 0 and 1, not {train_fraction}")
    keys = list(groups) if groups is not None else list(range(n_items))
    if len(keys) != n_items:
        raise ConfigError(f"groups has {len(keys)} keys for {n_items} items")
    order: list[Any] = []
    seen: set[Any] = set()
    for k in keys:
        if k not in seen:
            seen.add(k)
            order.append(k)
    random.Random(seed).shuffle(order)
    n_train = round(len(order) * train_fraction)
    train_keys = set(order[:n_train])
    train = tuple(i for i, k in enumerate(keys) if k in train_keys)
    evals = tuple(i for i, k in enumerate(keys) if k not in train_keys)
    return ItemSplit(train, evals)


def _plain(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, (frozenset, set)):
        return [_plain(v) for v in sorted(x)]
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    return x


def to_records(records: Any) -> list[dict[str, Any]]:
    """Plain dicts (lists instead of tuples and sets) of a loader's records or container.

    >>> from mbert_lab.data.readers.parallel import SentencePair
    >>> to_records([SentencePair("a", "b", 1)])
    [{'src': 'a', 'tgt': 'b', 'line': 1}]
    """
    if isinstance(records, (ParallelCorpus, AlignmentGold)):
        records = records.pairs
    elif isinstance(records, dict):
        records = list(records.values())
    out = []
    for r in records:
        if hasattr(r, "by_lang") and hasattr(r, "sent_id"):
            raise ConfigError(
                "to_records: give one language's load_pud() result, not aligned sentences"
            )
        if not (dataclasses.is_dataclass(r) and not isinstance(r, type)):
            raise ConfigError(
                f"to_records: expected loader records (dataclasses), got {type(r).__name__}"
            )
        out.append({f.name: _plain(getattr(r, f.name)) for f in dataclasses.fields(r)})
    return out


def to_hf_dataset(records: Any):
    """A ``datasets.Dataset`` of a loader's records (``datasets`` is imported here only).

    Works for lists of records and for ParallelCorpus / AlignmentGold (their ``pairs``);
    UD sentences keep their tokens as a list of dicts.
    """
    try:
        import datasets
    except ImportError as e:  # pragma: no cover
        raise ConfigError(
            "to_hf_dataset needs the 'datasets' package (pip install datasets)"
        ) from e
    return datasets.Dataset.from_list(to_records(records))


__all__ = ["ItemSplit", "parallel_item_split", "to_hf_dataset", "to_records"]
