"""mbert-lab: cross-lingual analysis of multilingual encoders.

The public API, imported lazily (``import mbert_lab`` loads no torch, transformers or faiss)::

    import mbert_lab as ml
    r = ml.align_eval(gold=["en-fr"], layers=[7], limit=50)   # = ml.studies run(AlignEvalConfig(...))
    r.save("results/enfr"); ml.load_result("results/enfr")

Each study entry ``ml.<study>(**fields, encoder=None, store=None)`` builds the study's Config
(validated: bad input fails before a model is loaded) and runs it. The Config classes,
``load_encoder``, ``Extractor`` and ``VectorIndex`` are here too.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# API name -> study name (mbert_lab.studies.STUDIES), for the shorthand entries.
_STUDY_ENTRIES: dict[str, str] = {
    "extract": "extract",
    "align": "align",
    "align_eval": "align_eval",
    "centroids": "centroids",
    "vocab": "vocab",
    "tatoeba": "tatoeba",
    "bli": "bli",
    "mine": "mine",
    "bucc": "bucc",
    "pool": "pool",
    "recall": "recall",
    "build_index": "index_build",
    "search": "search",
    "transfer": "transfer",
    "align_train": "align_train",
    "report": "report",
    "geometry": "geometry",
    "align_pos": "align_pos",
}

# Plain re-exports: name -> "module:attribute".
_EXPORTS: dict[str, str] = {
    "load_encoder": "mbert_lab.models.registry:load_encoder",
    "Extractor": "mbert_lab.encode.extractor:Extractor",
    "ExtractConfig": "mbert_lab.encode.extractor:ExtractConfig",
    "default_store": "mbert_lab.encode:default_store",
    "VectorIndex": "mbert_lab.index.faiss_index:VectorIndex",
    "load_result": "mbert_lab.studies:load_result",
    "run_config": "mbert_lab.studies:run_config",
    "load_study_file": "mbert_lab.config:load_study_file",
    "study_names": "mbert_lab.studies:study_names",
}


def _config_exports() -> dict[str, str]:
    """Config class name -> "module:Class", from the study registry (no import needed)."""
    from .studies import STUDIES

    out = {}
    for spec in STUDIES.values():
        mod, cls, _ = spec.split(":")
        out[cls] = f"{mod}:{cls}"
    return out


def _shorthand(study: str) -> Any:
    from .studies import get_study

    cfg_cls, fn = get_study(study)

    def entry(*, encoder: Any = None, store: Any = None, **fields: Any) -> Any:
        return fn(cfg_cls(**fields), encoder=encoder, store=store)

    entry.__name__ = study
    entry.__qualname__ = study
    entry.__doc__ = f"Run the '{study}' study: ``{cfg_cls.__name__}(**fields)`` then ``run``.\n\n" + (cfg_cls.__doc__ or "")
    return entry


def __getattr__(name: str) -> Any:
    if name in _STUDY_ENTRIES:
        from .studies import STUDIES

        if _STUDY_ENTRIES[name] in STUDIES:
            value = _shorthand(_STUDY_ENTRIES[name])
            globals()[name] = value
            return value
    spec = _EXPORTS.get(name) or _config_exports().get(name)
    if spec is None:
        raise AttributeError(f"module 'mbert_lab' has no attribute '{name}'")
    mod, attr = spec.split(":")
    value = getattr(importlib.import_module(mod), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_STUDY_ENTRIES) | set(_EXPORTS) | set(_config_exports()))
