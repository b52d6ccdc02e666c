"""Studies: one module per capability, each ``Config`` (frozen, validated) -> ``run()`` ->
typed ``Result``. The CLI, the demo, study files, the report and the web app are clients.

:data:`STUDIES` maps a study name (as written in study files: ``study = "align_eval"``) to
``"module:ConfigClass:run_function"``; modules are imported only when a study is used.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> "module:Config:run". Each study module may hold several studies.
STUDIES: dict[str, str] = {
    "extract": "mbert_lab.studies.representations:RepresentationsConfig:extract",
    "align": "mbert_lab.studies.alignment:AlignConfig:align",
    "align_eval": "mbert_lab.studies.alignment:AlignEvalConfig:align_eval",
    "centroids": "mbert_lab.studies.centroids:CentroidsConfig:centroids",
    "vocab": "mbert_lab.studies.vocabulary:VocabConfig:vocab",
    "tatoeba": "mbert_lab.studies.retrieval:TatoebaConfig:tatoeba",
    "bli": "mbert_lab.studies.retrieval:BliConfig:bli",
    "mine": "mbert_lab.studies.retrieval:MineConfig:mine",
    "bucc": "mbert_lab.studies.retrieval:BuccConfig:bucc",
    "pool": "mbert_lab.studies.retrieval:PoolConfig:pool",
    "recall": "mbert_lab.studies.retrieval:RecallConfig:recall",
    "index_build": "mbert_lab.studies.retrieval:IndexBuildConfig:build_index",
    "search": "mbert_lab.studies.retrieval:SearchConfig:search",
    "transfer": "mbert_lab.studies.transfer:TransferConfig:transfer",
    "align_train": "mbert_lab.studies.align_train:AlignTrainConfig:align_train",
    "report": "mbert_lab.studies.report:ReportConfig:report",
    "geometry": "mbert_lab.studies.geometry:GeometryConfig:geometry",
    "align_pos": "mbert_lab.studies.align_pos:AlignPosConfig:align_pos",
}


def study_names() -> list[str]:
    return sorted(STUDIES)


def get_study(name: str) -> tuple[type, Any]:
    """``(ConfigClass, run_function)`` for a study name; unknown names get a 'did you mean'."""
    from ..errors import choice_error

    if name not in STUDIES:
        raise choice_error("study", name, STUDIES)
    mod, cfg, fn = STUDIES[name].split(":")
    m = importlib.import_module(mod)
    return getattr(m, cfg), getattr(m, fn)


def run_config(config: Any, **kw: Any) -> Any:
    """Run any study's Config (``encoder=`` / ``store=`` passed through)."""
    _, fn = get_study(config.study)
    return fn(config, **kw)


def result_classes() -> dict[str, type]:
    """``kind`` -> Result class, over every registered study module."""
    out: dict[str, type] = {}
    for spec in STUDIES.values():
        name = spec.split(":")[0]
        try:
            m = importlib.import_module(name)
        except ModuleNotFoundError as e:  # a study module not built in this checkout
            if e.name != name:
                raise
            continue
        for obj in vars(m).values():
            kind = getattr(obj, "kind", None)
            if isinstance(obj, type) and isinstance(kind, str) and kind and hasattr(obj, "from_dict"):
                out[kind] = obj
    return out


def load_result(path: Any) -> Any:
    """Any study's saved Result (a ``<kind>.json`` file), as its typed class."""
    import json
    from pathlib import Path

    from ..data.readers.text import decode_utf8, read_bytes
    from ..errors import InputError

    p = Path(path)
    if p.is_dir():
        found = sorted(x for x in p.glob("*.json"))
        kinds = result_classes()
        found = [x for x in found if x.stem in kinds]
        if len(found) != 1:
            raise InputError(f"expected one study result (<kind>.json) in the folder, found {len(found)}", p)
        p = found[0]
    try:
        d = json.loads(decode_utf8(read_bytes(p), p))
    except json.JSONDecodeError as e:
        raise InputError(f"not a JSON result ({e.msg})", p, e.lineno) from None
    cls = result_classes().get(d.get("kind")) if isinstance(d, dict) else None
    if cls is None:
        raise InputError(f"not a study result (kind {d.get('kind') if isinstance(d, dict) else None!r})", p)
    return cls.from_dict(d, source=str(p))
