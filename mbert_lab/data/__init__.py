"""Datasets: data cards, the registry of the data mirror, and loaders for every format.

- :mod:`mbert_lab.data.cards`: parse and validate ``data_cards/<name>.md``.
- :mod:`mbert_lab.data.registry`: name -> card -> files in ``$MBERT_LAB_DATA``;
  ``status()``, ``get(name)``, ``dataset_provenance(name, files)``.
- :mod:`mbert_lab.data.formats`: ``load_tatoeba``, ``load_pud``, ``load_udpos``,
  ``load_xnli``, ``load_pawsx``, ``load_ner``, ``load_muse``, ``load_gold_alignment`` and
  the generic readers behind them.

The submodules are imported on first use (``from mbert_lab.data import load_xnli`` works).
"""

from __future__ import annotations

import importlib
from typing import Any

_REGISTRY = ("names", "card", "dataset_dir", "status", "get", "dataset_provenance", "loader")


def __getattr__(name: str) -> Any:
    if name in ("cards", "registry", "formats"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in _REGISTRY:
        return getattr(importlib.import_module(f"{__name__}.registry"), name)
    formats = importlib.import_module(f"{__name__}.formats")
    if name in formats.__all__:
        return getattr(formats, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
