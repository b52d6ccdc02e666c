"""Claim files and the anchors file: loading and validation.

A claim is ``mbert_lab/report/claims/NN_<id>.toml``; the published figures live in ONE file,
``mbert_lab/report/anchors.toml``. Every error names the file and the key
(``01_alignment.toml: rule #2: kind: unknown rule kind 'abs_tl' (did you mean 'abs_tol'?)``).
Nothing here loads a model.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

CLAIM_KEYS = ("id", "number", "title", "question", "citations", "measure", "plot", "caveat", "study", "rule")
REQUIRED_CLAIM_KEYS = ("id", "number", "title", "question", "citations", "measure", "plot", "study", "rule")
STUDY_PROFILES = ("quick", "full", "both")
VERDICT_KINDS = ("finding", "figure")
ANCHOR_KEYS = ("value", "unit", "model", "data", "source", "where", "checked", "n", "statement", "claim")
REQUIRED_ANCHOR_KEYS = ("unit", "model", "data", "source", "where", "checked")
#: fields the report sets per model column; a claim's [[study]] table may not set them
MODEL_FIELDS = ("model", "revision", "device", "threads", "dtype", "cache")
_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Anchors:
    """``sources``: key -> full citation text; ``anchors``: key -> its table (value, unit, ...)."""

    sources: dict[str, str]
    anchors: dict[str, dict[str, Any]]
    path: str = ""

    def citation(self, key: str) -> str:
        return self.sources[key]


@dataclass(frozen=True)
class ClaimStudy:
    profile: str  # quick | full | both
    study: str
    fields: dict[str, Any]  # the Config fields as written (model fields are set per column)
    where: str  # "file.toml: study #N"

    def applies(self, profile: str) -> bool:
        return self.profile in (profile, "both")


@dataclass(frozen=True)
class Rule:
    verdict: str  # finding | figure
    kind: str
    params: dict[str, Any]
    where: str  # "file.toml: rule #N"

    def anchor_keys(self, anchors: Anchors) -> list[str]:
        """The anchors this rule reads (its ``anchor`` and any ``than`` / ``value`` naming one)."""
        out = []
        for k in ("anchor", "than", "value"):
            v = self.params.get(k)
            if isinstance(v, str) and (k == "anchor" or v in anchors.anchors):
                out.append(v)
        return out


@dataclass(frozen=True)
class Claim:
    id: str
    number: int
    title: str
    question: str
    citations: tuple[str, ...]
    measure: str
    plot: str
    studies: tuple[ClaimStudy, ...]
    rules: tuple[Rule, ...]
    caveat: str = ""
    path: str = ""
    anchor_keys: tuple[str, ...] = field(default=())  # every anchor its rules read, in order

    def studies_for(self, profile: str) -> list[ClaimStudy]:
        return [s for s in self.studies if s.applies(profile)]


# ---------------------------------------------------------------------------- files


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def claims_dir() -> Path:
    return package_dir() / "claims"


def anchors_path() -> Path:
    return package_dir() / "anchors.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    from ..config import _parse

    data = _parse(Path(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a TOML table")
    return data


def _only_keys(where: str, table: dict[str, Any], allowed: tuple[str, ...] | list[str], what: str = "key") -> None:
    """Every key of ``table`` is one of ``allowed`` (else a did-you-mean error naming ``where``)."""
    for k in table:
        if k not in allowed:
            raise _unknown(where, k, allowed, what)


def _unknown(where: str, key: str, valid: tuple[str, ...] | list[str], what: str = "key") -> ConfigError:
    close = difflib.get_close_matches(key, list(valid), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{where}: unknown {what} '{key}'{hint}; valid: {', '.join(valid)}")


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key}: must be non-empty text, got {value!r}")
    return value


# ---------------------------------------------------------------------------- anchors


def load_anchors(path: str | Path | None = None) -> Anchors:
    """Read and check the anchors file: every anchor has a number (or a ``statement`` for a
    qualitative finding), the keys above, and a ``source`` declared under ``[source.<key>]``."""
    p = Path(path) if path is not None else anchors_path()
    data = _read_toml(p)
    name = p.name
    _only_keys(name, data, ("source", "anchor"), "top-level table")
    sources: dict[str, str] = {}
    for key, t in (data.get("source") or {}).items():
        where = f"{name}: source.{key}"
        if not isinstance(t, dict):
            raise ConfigError(f"{where}: expected a table with citation = \"...\"")
        _only_keys(where, t, ("citation",))
        sources[key] = _text(where, "citation", t.get("citation"))
    anchors: dict[str, dict[str, Any]] = {}
    for key, t in (data.get("anchor") or {}).items():
        where = f'{name}: anchor."{key}"'
        if not isinstance(t, dict):
            raise ConfigError(f"{where}: expected a table")
        _only_keys(where, t, ANCHOR_KEYS)
        for k in REQUIRED_ANCHOR_KEYS:
            if k not in t:
                raise ConfigError(f"{where}: missing key '{k}'")
            _text(where, k, t[k])
        v = t.get("value")
        if v is None and "statement" not in t:
            raise ConfigError(f"{where}: missing key 'value' (a number; or 'statement' for a qualitative finding)")
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ConfigError(f"{where}: value: must be a number, got {v!r}")
        if t["source"] not in sources:
            raise ConfigError(f"{where}: source: no [source.{t['source']}] in {name}")
        if "n" in t and (isinstance(t["n"], bool) or not isinstance(t["n"], int) or t["n"] < 1):
            raise ConfigError(f"{where}: n: must be a whole number >= 1 (the published run's sample size)")
        anchors[key] = dict(t)
    return Anchors(sources, anchors, str(p))


# ---------------------------------------------------------------------------- claims


def _load_study(where: str, t: Any) -> ClaimStudy:
    from ..studies import get_study

    if not isinstance(t, dict):
        raise ConfigError(f"{where}: expected a table")
    if "study" not in t:
        raise ConfigError(f"{where}: study: missing (the study's name, e.g. 'align_eval')")
    if "profile" not in t:
        raise ConfigError(f"{where}: profile: missing ({' | '.join(STUDY_PROFILES)})")
    if t["profile"] not in STUDY_PROFILES:
        raise _unknown(f"{where}: profile", str(t["profile"]), STUDY_PROFILES, "profile")
    try:
        cls, _ = get_study(str(t["study"]))
    except ConfigError as e:
        raise ConfigError(f"{where}: study: {e}") from None
    valid = [f for f in cls.field_names() if f not in MODEL_FIELDS]
    fields = {k: v for k, v in t.items() if k not in ("study", "profile")}
    for k in fields:
        if k in MODEL_FIELDS:
            raise ConfigError(f"{where}: {k}: set by the report per model column; leave it out")
        if k not in valid:
            raise _unknown(f"{where} ({t['study']})", k, valid)
    return ClaimStudy(str(t["profile"]), str(t["study"]), fields, where)


def _load_rule(where: str, t: Any, anchors: Anchors) -> Rule:
    from .rules import RULE_KINDS, check_params

    if not isinstance(t, dict):
        raise ConfigError(f"{where}: expected a table")
    for k in ("verdict", "kind"):
        if k not in t:
            raise ConfigError(f"{where}: {k}: missing")
    if t["verdict"] not in VERDICT_KINDS:
        raise _unknown(f"{where}: verdict", str(t["verdict"]), VERDICT_KINDS, "verdict")
    if t["kind"] not in RULE_KINDS:
        raise _unknown(f"{where}: kind", str(t["kind"]), sorted(RULE_KINDS), "rule kind")
    params = {k: v for k, v in t.items() if k not in ("verdict", "kind")}
    check_params(where, str(t["kind"]), params)
    rule = Rule(str(t["verdict"]), str(t["kind"]), params, where)
    if "anchor" in params and params["anchor"] not in anchors.anchors:
        raise ConfigError(f"{where}: anchor: no anchor \"{params['anchor']}\" in anchors.toml")
    for k in ("than", "value"):
        v = params.get(k)
        if isinstance(v, str) and v.split(".")[0] in anchors.sources and v not in anchors.anchors:
            raise ConfigError(f"{where}: {k}: no anchor \"{v}\" in anchors.toml")
    if rule.verdict == "figure" and not rule.anchor_keys(anchors):
        raise ConfigError(f"{where}: a 'figure' rule compares with a published figure: give anchor (or than/value naming one)")
    for key in rule.anchor_keys(anchors):
        if anchors.anchors[key].get("value") is None:
            raise ConfigError(f"{where}: anchor \"{key}\" is qualitative (no value); a rule needs a number")
    return rule


def load_claim(path: str | Path, anchors: Anchors | None = None) -> Claim:
    """Read and check one claim file (no model is loaded, no study is run)."""
    p = Path(path)
    anchors = anchors or load_anchors()
    data = _read_toml(p)
    name = p.name
    _only_keys(name, data, CLAIM_KEYS)
    for k in REQUIRED_CLAIM_KEYS:
        if k not in data:
            raise ConfigError(f"{name}: {k}: missing")
    cid = data["id"]
    if not isinstance(cid, str) or not _ID.fullmatch(cid):
        raise ConfigError(f"{name}: id: must be lower-case letters, digits and '_', got {cid!r}")
    num = data["number"]
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ConfigError(f"{name}: number: must be a whole number >= 1, got {num!r}")
    for k in ("title", "question", "measure", "plot"):
        _text(name, k, data[k])
    for k in ("measure", "plot"):
        if data[k].count(":") != 1:
            raise ConfigError(f"{name}: {k}: expected 'module:function', got {data[k]!r}")
    caveat = data.get("caveat", "")
    if not isinstance(caveat, str):
        raise ConfigError(f"{name}: caveat: must be text")
    cites = data["citations"]
    if not isinstance(cites, list) or not cites:
        raise ConfigError(f"{name}: citations: a non-empty list of source keys of anchors.toml")
    for c in cites:
        if c not in anchors.sources:
            raise _unknown(f"{name}: citations", str(c), sorted(anchors.sources), "source")
    studies, rules = data["study"], data["rule"]
    if not isinstance(studies, list) or not studies:
        raise ConfigError(f"{name}: study: declare at least one [[study]] table")
    if not isinstance(rules, list) or not rules:
        raise ConfigError(f"{name}: rule: declare at least one [[rule]] table")
    st = tuple(_load_study(f"{name}: study #{i}", t) for i, t in enumerate(studies, 1))
    for prof in ("quick", "full"):
        if not any(s.applies(prof) for s in st):
            raise ConfigError(f"{name}: study: no study for the '{prof}' profile (profile = 'both' serves both)")
    rl = tuple(_load_rule(f"{name}: rule #{i}", t, anchors) for i, t in enumerate(rules, 1))
    keys = tuple(dict.fromkeys(k for r in rl for k in r.anchor_keys(anchors)))
    return Claim(cid, num, data["title"], data["question"], tuple(cites), data["measure"], data["plot"], st, rl,
                 caveat, str(p), keys)


def claim_files(directory: str | Path | None = None) -> list[Path]:
    d = Path(directory) if directory is not None else claims_dir()
    return sorted(d.glob("*.toml"))


def load_claims(ids: tuple[str, ...] | list[str] = (), directory: str | Path | None = None,
                anchors: Anchors | None = None) -> list[Claim]:
    """Every claim of the folder (sorted by number), or those named in ``ids`` (ids or numbers)."""
    anchors = anchors or load_anchors()
    claims = [load_claim(p, anchors) for p in claim_files(directory)]
    seen: dict[str, str] = {}
    for c in claims:
        if c.id in seen:
            raise ConfigError(f"{Path(c.path).name}: id: '{c.id}' is also the id of {seen[c.id]}")
        seen[c.id] = Path(c.path).name
    claims.sort(key=lambda c: (c.number, c.id))
    if not ids:
        return claims
    by = {c.id: c for c in claims} | {str(c.number): c for c in claims}
    out = []
    for i in ids:
        if str(i) not in by:
            raise _unknown("claims", str(i), [c.id for c in claims], "claim")
        if by[str(i)] not in out:
            out.append(by[str(i)])
    return out


def claim_ids(directory: str | Path | None = None) -> list[str]:
    """Ids of the claim files (read cheaply, for validation of a ``claims`` list)."""
    out = []
    for p in claim_files(directory):
        data = _read_toml(p)
        if isinstance(data.get("id"), str):
            out.append(data["id"])
    return out


def resolve_callable(spec: str) -> Any:
    import importlib

    mod, _, fn = spec.partition(":")
    return getattr(importlib.import_module(mod), fn)
