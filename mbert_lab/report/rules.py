"""The verdict vocabulary: what a claim file's ``[[rule]]`` tables may say, and the verdicts.

Rule kinds (``ours`` / ``than`` / ``keys``: Figure keys of the measure; ``anchor``: a key of
anchors.toml; ``value`` / ``than``: a number, a Figure key or an anchor key):

- ``abs_tol(ours, anchor, tol)``: |ours - anchor| <= tol
- ``rel_tol(ours, anchor, tol)``: |ours - anchor| <= tol * |anchor|
- ``direction(ours, sign)``: ours > 0 (``positive``) or < 0 (``negative``)
- ``greater(ours, than, margin=0)``: ours > than + margin
- ``ordering(keys, descending=true)``: the figures are in this order (strictly)
- ``peak_in_range(series, low, high, at="max")``: the x where the series peaks (its max, or
  its min with ``at = "min"``) lies in [low, high]
- ``ci_excludes_zero(ours, sign=None)``: the figure's confidence interval excludes 0 (on the
  ``sign`` side when given)
- ``at_least(ours, value)`` / ``at_most(ours, value)``

Per claim and model two verdicts: *figure match* (rules with ``verdict = "figure"``; only
those whose published run used this model apply) and *finding holds* (``verdict = "finding"``).
All applicable rules pass: reproduced; some: partly; none: not reproduced; none applicable:
not measurable here, with the reason.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

# kind -> (required params, optional params)
RULE_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "abs_tol": (("ours", "anchor", "tol"), ()),
    "rel_tol": (("ours", "anchor", "tol"), ()),
    "direction": (("ours", "sign"), ()),
    "greater": (("ours", "than"), ("margin",)),
    "ordering": (("keys",), ("descending",)),
    "peak_in_range": (("series", "low", "high"), ("at",)),
    "ci_excludes_zero": (("ours",), ("sign",)),
    "at_least": (("ours", "value"), ()),
    "at_most": (("ours", "value"), ()),
}
SIGNS = ("positive", "negative")


def _num(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def check_params(where: str, kind: str, params: dict[str, Any]) -> None:
    """Required params present, no unknown ones, types right (errors name file and key)."""
    import difflib

    req, opt = RULE_KINDS[kind]
    for k in params:
        if k not in req + opt:
            close = difflib.get_close_matches(k, list(req + opt), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}: unknown key '{k}' for rule kind '{kind}'{hint}; valid: "
                              f"{', '.join(req + opt)}")
    for k in req:
        if k not in params:
            raise ConfigError(f"{where}: {k}: missing (rule kind '{kind}' needs {', '.join(req)})")
    for k in ("ours", "anchor", "series"):
        if k in params and not isinstance(params[k], str):
            raise ConfigError(f"{where}: {k}: must be a key (text), got {params[k]!r}")
    for k in ("tol", "margin", "low", "high"):
        if k in params and not _num(params[k]):
            raise ConfigError(f"{where}: {k}: must be a number, got {params[k]!r}")
    if "tol" in params and params["tol"] < 0:
        raise ConfigError(f"{where}: tol: must be >= 0, got {params['tol']}")
    for k in ("than", "value"):
        if k in params and not (_num(params[k]) or isinstance(params[k], str)):
            raise ConfigError(f"{where}: {k}: must be a number or a key, got {params[k]!r}")
    if kind == "direction" and params["sign"] not in SIGNS:
        raise ConfigError(f"{where}: sign: must be 'positive' or 'negative', got {params['sign']!r}")
    if kind == "ci_excludes_zero" and params.get("sign") not in (None, *SIGNS):
        raise ConfigError(f"{where}: sign: must be 'positive' or 'negative', got {params['sign']!r}")
    if kind == "ordering":
        keys = params["keys"]
        if not isinstance(keys, list) or len(keys) < 2 or not all(isinstance(x, str) for x in keys):
            raise ConfigError(f"{where}: keys: a list of at least two figure keys")
        if not isinstance(params.get("descending", True), bool):
            raise ConfigError(f"{where}: descending: must be true or false")
    if kind == "peak_in_range":
        if params["low"] > params["high"]:
            raise ConfigError(f"{where}: low: {params['low']} is above high {params['high']}")
        if params.get("at", "max") not in ("max", "min"):
            raise ConfigError(f"{where}: at: must be 'max' or 'min', got {params['at']!r}")


# ---------------------------------------------------------------------------- evaluation


class _Missing(Exception):
    """A figure the rule reads was not measured (value None or absent)."""


@dataclass(frozen=True)
class Outcome:
    """One rule on one model: ``passed`` None when it could not be evaluated (``detail`` says why)."""

    verdict: str
    kind: str
    text: str  # the rule as a reader sees it
    applicable: bool
    passed: bool | None
    detail: str


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def normalise_model(name: str) -> str:
    s = str(name).strip().lower().rstrip("/")
    for prefix in ("google-bert/", "google/", "huggingface/"):
        s = s.removeprefix(prefix)
    return s


class _Ctx:
    def __init__(self, measurement: Any, anchors: Any) -> None:
        self.m = measurement
        self.a = anchors

    def figure(self, key: str) -> Any:
        f = self.m.figures.get(key)
        if f is None or f.value is None or not _num(f.value):
            raise _Missing(f"figure '{key}' was not measured")
        return f

    def value(self, ref: Any) -> float:
        if _num(ref):
            return float(ref)
        if ref in self.a.anchors:
            return float(self.a.anchors[ref]["value"])
        return float(self.figure(ref).value)


def describe(kind: str, p: dict[str, Any]) -> str:
    """The rule in words, e.g. ``|aer.fra.softmax.l8 - dou2021.aer.fr.softmax| <= 3``."""
    return {
        "abs_tol": lambda: f"|{p.get('ours')} - {p.get('anchor')}| <= {p.get('tol')}",
        "rel_tol": lambda: f"|{p.get('ours')} - {p.get('anchor')}| <= {p.get('tol')} x |{p.get('anchor')}|",
        "direction": lambda: f"{p.get('ours')} {'> 0' if p.get('sign') == 'positive' else '< 0'}",
        "greater": lambda: f"{p.get('ours')} > {p.get('than')}" + (f" + {p['margin']}" if p.get("margin") else ""),
        "ordering": lambda: (" > " if p.get("descending", True) else " < ").join(p.get("keys", [])),
        "peak_in_range": lambda: f"{p.get('at', 'max')} of {p.get('series')} at x in [{p.get('low')}, {p.get('high')}]",
        "ci_excludes_zero": lambda: f"CI of {p.get('ours')} excludes 0" + (f" ({p['sign']})" if p.get("sign") else ""),
        "at_least": lambda: f"{p.get('ours')} >= {p.get('value')}",
        "at_most": lambda: f"{p.get('ours')} <= {p.get('value')}",
    }[kind]()


def _check(kind: str, p: dict[str, Any], c: _Ctx) -> tuple[bool, str]:
    if kind in ("abs_tol", "rel_tol"):
        ours, anc = c.value(p["ours"]), c.value(p["anchor"])
        tol = p["tol"] * (abs(anc) if kind == "rel_tol" else 1.0)
        return abs(ours - anc) <= tol + 1e-12, f"ours {_fmt(ours)} vs published {_fmt(anc)} (diff {_fmt(ours - anc)}, tol {_fmt(tol)})"
    if kind == "direction":
        ours = c.value(p["ours"])
        return (ours > 0) if p["sign"] == "positive" else (ours < 0), f"ours {_fmt(ours)}"
    if kind == "greater":
        ours, than = c.value(p["ours"]), c.value(p["than"])
        return ours > than + float(p.get("margin", 0)), f"{_fmt(ours)} vs {_fmt(than)}"
    if kind in ("at_least", "at_most"):
        ours, v = c.value(p["ours"]), c.value(p["value"])
        return (ours >= v) if kind == "at_least" else (ours <= v), f"{_fmt(ours)} vs {_fmt(v)}"
    if kind == "ordering":
        vals = [c.value(k) for k in p["keys"]]
        desc = p.get("descending", True)
        ok = all((a > b) if desc else (a < b) for a, b in itertools.pairwise(vals))
        return ok, ", ".join(f"{k} {_fmt(v)}" for k, v in zip(p["keys"], vals))
    if kind == "peak_in_range":
        s = c.m.series.get(p["series"])
        if not s or not s.get("x") or not s.get("y"):
            raise _Missing(f"series '{p['series']}' was not measured")
        pts = [(x, y) for x, y in zip(s["x"], s["y"]) if y is not None and _num(y)]
        if not pts:
            raise _Missing(f"series '{p['series']}' has no values")
        pick = max if p.get("at", "max") == "max" else min
        x, y = pick(pts, key=lambda t: t[1])
        return p["low"] <= x <= p["high"], f"{p.get('at', 'max')} {_fmt(y)} at x = {_fmt(x)}"
    if kind == "ci_excludes_zero":
        f = c.figure(p["ours"])
        if f.ci_low is None or f.ci_high is None:
            raise _Missing(f"figure '{p['ours']}' has no confidence interval")
        sign = p.get("sign")
        ok = (f.ci_low > 0 if sign == "positive" else f.ci_high < 0 if sign == "negative"
              else f.ci_low > 0 or f.ci_high < 0)
        return ok, f"{_fmt(f.value)} [{_fmt(f.ci_low)}, {_fmt(f.ci_high)}]"
    raise ConfigError(f"unknown rule kind {kind!r}")  # pragma: no cover - validated at load


def applicability(rule: Any, anchors: Any, model: str, measurement: Any) -> str | None:
    """None when the rule applies to this model's column, else the reason it does not.
    A figure rule applies only where the published run used the same model (and, when the
    anchor records its sample size ``n``, where our figure was measured on as many items)."""
    if rule.verdict != "figure":
        return None
    for key in rule.anchor_keys(anchors):
        a = anchors.anchors[key]
        if normalise_model(a["model"]) != normalise_model(model):
            return f"the published figure ({key}) is for {a['model']}, this column is {model}"
        n = a.get("n")
        f = measurement.figures.get(rule.params.get("ours", ""))
        if n is not None and f is not None and f.n is not None and f.n != n:
            return f"the published figure ({key}) is on {n} items ({a['data']}); ours is on {f.n}"
    return None


def evaluate(rule: Any, measurement: Any, anchors: Any, model: str) -> Outcome:
    text = describe(rule.kind, rule.params)
    why = applicability(rule, anchors, model, measurement)
    if why is not None:
        return Outcome(rule.verdict, rule.kind, text, False, None, why)
    try:
        ok, detail = _check(rule.kind, rule.params, _Ctx(measurement, anchors))
    except _Missing as e:
        return Outcome(rule.verdict, rule.kind, text, True, None, str(e))
    return Outcome(rule.verdict, rule.kind, text, True, bool(ok), detail)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # reproduced | partly | not reproduced | not measurable here
    reason: str
    outcomes: tuple[Outcome, ...]


def verdict_of(outcomes: list[Outcome], kind: str, not_measurable: str | None = None) -> Verdict:
    """All evaluated rules pass -> reproduced; some -> partly; none -> not reproduced; no rule
    could be evaluated -> not measurable here, with the reasons."""
    if not_measurable:
        return Verdict("not measurable here", not_measurable, tuple(outcomes))
    if not outcomes:
        what = "figure rule (no published figure to compare)" if kind == "figure" else "finding rule"
        return Verdict("not measurable here", f"the claim file declares no {what}", ())
    done = [o for o in outcomes if o.passed is not None]
    if not done:
        reasons = list(dict.fromkeys(o.detail for o in outcomes))
        return Verdict("not measurable here", "; ".join(reasons), tuple(outcomes))
    n_ok = sum(o.passed for o in done)
    skipped = len(outcomes) - len(done)
    tail = f" ({skipped} rule(s) not evaluated here)" if skipped else ""
    if n_ok == len(done):
        return Verdict("reproduced", f"all {len(done)} rule(s) pass{tail}", tuple(outcomes))
    if n_ok == 0:
        return Verdict("not reproduced", f"none of {len(done)} rule(s) pass{tail}", tuple(outcomes))
    return Verdict("partly", f"{n_ok} of {len(done)} rule(s) pass{tail}", tuple(outcomes))


def verdicts(claim: Any, measurement: Any, anchors: Any, model: str) -> dict[str, Verdict]:
    """``{"figure": Verdict, "finding": Verdict}`` for one claim on one model column."""
    out = {}
    for kind in ("figure", "finding"):
        rules = [r for r in claim.rules if r.verdict == kind]
        nm = measurement.not_measurable
        outcomes = [evaluate(r, measurement, anchors, model) for r in rules] if not nm else []
        out[kind] = verdict_of(outcomes, kind, nm)
    return out
