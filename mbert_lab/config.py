"""Study files: one or several studies declared in TOML or YAML, loaded into Configs.

```toml
[[study]]
study = "align_eval"
gold = ["en-fr"]
layers = [7]
out = "results/enfr"     # where `mbert-lab run` saves this study's result (optional)
```

Keys are the Config's field names; unknown keys are rejected with the closest valid key;
errors name the file and the study (``file.toml: study #2 (align_eval): ...``).
:func:`dump_studies` writes Configs back in exactly this form (``--print-config``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError

RUN_KEYS = ("study", "out")  # keys of a [[study]] table that are not Config fields


@dataclass(frozen=True)
class DeclaredStudy:
    name: str
    config: Any  # the study's Config
    out: str | None
    where: str  # "file.toml: study #N"


def _parse(path: Path) -> Any:
    from .data.readers.text import decode_utf8, read_bytes

    text = decode_utf8(read_bytes(path), path)
    if text.startswith("\ufeff"):
        text = text[1:]
    suffix = path.suffix.lower()
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"not valid TOML ({e})", path) from None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            line = getattr(getattr(e, "problem_mark", None), "line", None)
            raise InputError(f"not valid YAML ({getattr(e, 'problem', e)})", path, None if line is None else line + 1) from None
    raise InputError("a study file ends in .toml, .yaml or .yml", path)


def load_study_file(path: str | Path) -> list[DeclaredStudy]:
    """Parse and validate every study of a file (no model is loaded)."""
    from .studies import get_study

    p = Path(path)
    data = _parse(p)
    if isinstance(data, dict) and "study" in data and isinstance(data["study"], list):
        tables = data["study"]
        extra = [k for k in data if k != "study"]
        if extra:
            raise ConfigError(f"{p}: unknown top-level key '{extra[0]}'; declare studies as [[study]] tables")
    elif isinstance(data, list):
        tables = data
    else:
        raise ConfigError(f"{p}: no studies; declare them as [[study]] tables (TOML) or a 'study:' list (YAML)")
    if not tables:
        raise ConfigError(f"{p}: no studies declared")
    out = []
    for n, t in enumerate(tables, 1):
        where = f"{p}: study #{n}"
        if not isinstance(t, dict) or "study" not in t:
            raise ConfigError(f"{where}: each study needs a 'study' key naming it")
        try:
            cls, _ = get_study(str(t["study"]))
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
        fields = {k: v for k, v in t.items() if k not in RUN_KEYS}
        cfg = cls.from_dict(fields, source=f"{where} ({t['study']})")
        o = t.get("out")
        if o is not None and not isinstance(o, str):
            raise ConfigError(f"{where}: 'out' must be a folder path")
        out.append(DeclaredStudy(str(t["study"]), cfg, o, where))
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dump_studies(configs: list[Any], outs: list[str | None] | None = None) -> str:
    """Configs -> a TOML study file that :func:`load_study_file` reads back to equal Configs.
    ``None`` fields are left out (they mean the default)."""
    lines: list[str] = []
    for i, cfg in enumerate(configs):
        lines.append("[[study]]")
        lines.append(f"study = {_toml_value(cfg.study)}")
        if outs and outs[i] is not None:
            lines.append(f"out = {_toml_value(outs[i])}")
        for k, v in cfg.to_dict().items():
            if v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)
