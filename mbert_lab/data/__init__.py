"""Datasets: pure readers, the dataset catalogue, data cards and the registry.

- :mod:`mbert_lab.data.readers`: pure parsers, one module per format (no catalogue or
  registry import): ``text`` (the line rule), ``pairs``, ``tsv``, ``alignment``,
  ``conllu``, ``tagged``, ``ner``, ``nli``, ``muse``, ``parallel``.
- :mod:`mbert_lab.data.datasets`: the catalogue, the only code that builds dataset paths:
  ``load_tatoeba``, ``load_pud``, ``load_ud``, ``load_udpos``, ``load_xnli``,
  ``load_pawsx``, ``load_ner``, ``load_muse``, ``load_gold_alignment``, discovery
  (``available_languages``, ``check_language``) from what is on disk.
- :mod:`mbert_lab.data.splits`: ``parallel_item_split``, ``to_records``, ``to_hf_dataset``.
- :mod:`mbert_lab.data.cards`: parse and validate ``data_cards/<name>.md``.
- :mod:`mbert_lab.data.registry`: name -> card -> files; ``status()``, ``get(name)``,
  ``dataset_provenance(name, files)``.

Import order (no cycle): readers <- cards <- registry <- datasets <- splits.
The submodules are imported on first use (``from mbert_lab.data import load_xnli`` works).
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = ("cards", "registry", "datasets", "splits", "readers", "embedded", "hub")
_REGISTRY = ("names", "card", "dataset_dir", "status", "get", "dataset_provenance")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _REGISTRY:
        return getattr(importlib.import_module(f"{__name__}.registry"), name)
    if not name.startswith("_"):
        for mod in ("datasets", "splits"):
            m = importlib.import_module(f"{__name__}.{mod}")
            if name in getattr(m, "__all__", vars(m)):
                return getattr(m, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
