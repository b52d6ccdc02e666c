"""The findings report: the multilingual BERTology claims, reproduced on one or more models and
set beside the published figures (issue #15).

>>> import mbert_lab as ml                                                         # doctest: +SKIP
>>> r = ml.report(profile="quick", out="results/report")                           # doctest: +SKIP
>>> [(c.id, c.columns[0].finding.verdict) for c in r.claims]                       # doctest: +SKIP

Each claim is a TOML file in ``mbert_lab/report/claims/`` (studies + verdict rules); the published
figures are in ``mbert_lab/report/anchors.toml``. The report loads one encoder per model, runs each
claim's studies through the studies registry with the model fields substituted (identical study
configs run once per model), hands the Results to the claim's measure, draws its plot, applies
the rules, and writes ``report.html`` (self-contained), ``report.md`` and ``report.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import (
    DEFAULT_MODEL,
    StudyConfig,
    StudyResult,
    as_tuple,
    check_choice,
    check_count,
    check_output_dir,
    make_provenance,
    transient,
)

PROFILES = ("quick", "full")


@dataclass(frozen=True, kw_only=True)
class ReportConfig(StudyConfig):
    """``models``: the columns (model ids or folders; default: the offline model); ``profile``:
    quick (capped data, minutes on a laptop CPU) or full (everything available); ``claims``:
    ids or numbers of a subset (default: all); ``out``: where the pages and each claim's study
    results go (``out/<model>/<claim>/``); ``claims_dir`` / ``anchors``: your own claim files
    and published figures instead of the package's."""

    study = "report"
    models: tuple[str, ...] = (DEFAULT_MODEL,)
    profile: str = "quick"
    claims: tuple[str, ...] = ()
    out: str | None = None
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None
    dtype: str = "fp32"
    cache: bool = True
    claims_dir: str | None = None  # a folder of claim files (default: mbert_lab/report/claims)
    anchors: str | None = None  # an anchors file (default: mbert_lab/report/anchors.toml)

    def normalise(self) -> None:
        super().normalise()
        self._set("models", tuple(str(m) for m in as_tuple(self.models, "models")))
        self._set("claims", tuple(str(c) for c in as_tuple(self.claims, "claims")))

    def validate(self) -> None:
        super().validate()
        from .base import EncoderOptions

        if not self.models:
            raise ConfigError("models: give at least one model")
        if len(set(self.models)) != len(self.models):
            raise ConfigError(f"models: a model is listed twice in {list(self.models)}")
        for m in self.models:  # the same checks as every study's model field
            try:
                EncoderOptions(model=m, device=self.device, threads=self.threads, dtype=self.dtype)
            except ConfigError as e:
                raise ConfigError(f"models: {m}: {e}") from None
        check_choice("profile", self.profile, PROFILES)
        check_count("seed", self.seed, minimum=0)
        if not isinstance(self.cache, bool):
            raise ConfigError(f"cache: must be true or false, got {self.cache!r}")
        check_output_dir("out", self.out, allow_none=True)
        from .base import check_input_dir, check_input_file

        check_input_dir("claims_dir", self.claims_dir, allow_none=True)
        check_input_file("anchors", self.anchors, allow_none=True)
        if self.claims:
            from ..report.claims import claim_ids

            known = claim_ids(self.claims_dir)
            nums = {str(i) for i in range(1, 100)}
            for c in self.claims:
                if c not in known and c not in nums:
                    check_choice("claims", c, known)


# ---------------------------------------------------------------------------- result


@dataclass(frozen=True)
class FigureRow:
    key: str
    label: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    spread: float | None = None
    n: int | None = None
    unit: str = ""


@dataclass(frozen=True)
class RuleRow:
    verdict: str  # figure | finding
    kind: str
    text: str
    applicable: bool
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class VerdictRow:
    verdict: str  # reproduced | partly | not reproduced | not measurable here | error
    reason: str
    rules: tuple[RuleRow, ...] = ()


@dataclass(frozen=True)
class ModelColumn:
    """One claim on one model."""

    model: str
    status: str  # ok | error
    error: str | None
    figures: tuple[FigureRow, ...]
    figure_match: VerdictRow
    finding: VerdictRow
    notes: tuple[str, ...]
    tables: dict[str, tuple[dict[str, Any], ...]]
    series: dict[str, dict[str, tuple[float | None, ...]]]
    studies: tuple[str, ...]  # "study -> folder" lines (results saved there)
    runtime_s: float  # wall clock, this claim on this model (a study shared with an earlier claim: 0)
    cpu_s: float = 0.0  # CPU time of the process meanwhile (all threads): comparable on a shared machine

    def figure(self, key: str) -> FigureRow | None:
        return next((f for f in self.figures if f.key == key), None)


@dataclass(frozen=True)
class AnchorRow:
    key: str
    value: float | None
    unit: str
    model: str
    data: str
    source: str
    citation: str
    where: str
    checked: str
    statement: str = ""


@dataclass(frozen=True)
class ClaimReport:
    id: str
    number: int
    title: str
    question: str
    citations: tuple[str, ...]  # full citation texts
    caveat: str
    anchors: tuple[AnchorRow, ...]
    columns: tuple[ModelColumn, ...]
    plot_error: str | None = None
    plot_file: str | None = None  # PNG beside the pages (report.md links it)


@dataclass(frozen=True, kw_only=True)
class ReportResult(StudyResult):
    kind = "report"
    models: tuple[str, ...]
    profile: str
    claims: tuple[ClaimReport, ...]
    runtime_s: float
    model_load_s: dict[str, float]
    images: Any = transient(None)  # claim id -> PNG bytes of its plot (in memory)

    def claim(self, cid: str) -> ClaimReport:
        return next(c for c in self.claims if c.id == cid)

    def summary(self) -> list[str]:
        lines = []
        for c in self.claims:
            cols = "; ".join(f"{col.model}: figure {col.figure_match.verdict}, finding {col.finding.verdict}"
                             f" ({col.runtime_s:.0f} s wall, {col.cpu_s:.0f} s CPU)" for col in c.columns)
            lines.append(f"{c.number}. {c.id}: {cols}")
        return lines

    def save(self, out_dir: str | Path) -> Path:
        """``report.json``, ``report.md``, ``report.html`` (self-contained) and the plots' PNGs."""
        from ..report.render import write_pages

        write_pages(self, Path(out_dir))
        return super().save(out_dir)


# ---------------------------------------------------------------------------- the study


def report(config: ReportConfig, *, encoder: Any = None, store: Any = None,
           encoders: dict[str, Any] | None = None) -> ReportResult:
    """Run the claims on every model and, with ``out``, write the pages there.

    ``encoder``: an encoder for the (single) model; ``encoders``: model -> encoder, for callers
    that hold loaded encoders already (tests, notebooks). Others are loaded once each."""
    from ..report.runner import run_report

    if encoder is not None:
        if len(config.models) != 1:
            raise ConfigError("encoder: one encoder for several models; pass encoders={model: encoder}")
        encoders = {config.models[0]: encoder, **(encoders or {})}
    prov = make_provenance(config)
    res = run_report(config, encoders=encoders or {}, store=store, provenance=prov)
    if config.out is not None:
        res.save(config.out)
    return res


run = report

__all__ = [
    "AnchorRow",
    "ClaimReport",
    "FigureRow",
    "ModelColumn",
    "ReportConfig",
    "ReportResult",
    "RuleRow",
    "VerdictRow",
    "report",
]
