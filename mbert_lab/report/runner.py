"""Running the report: one encoder per model (loaded once), each claim's studies through the
studies registry with the model fields substituted, identical study configs run once per model,
results saved under ``out/<model-slug>/<claim>/``; a claim whose study or measure raises is
reported as an error in the page, not a crash."""

from __future__ import annotations

import dataclasses
import io
import re
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from .types import ClaimContext, Measurement


def model_slug(model: str) -> str:
    """A folder name for a model id or path: ``bert-base-multilingual-cased``, ``org_name``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", str(model)).strip("._")
    return s or "model"


def study_configs(claim: Any, profile: str, model_fields: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(where, Config)`` of the claim's studies for this profile, model fields set."""
    from ..studies import get_study

    out = []
    for s in claim.studies_for(profile):
        cls, _ = get_study(s.study)
        names = set(cls.field_names())
        fields = {**s.fields, **{k: v for k, v in model_fields.items() if k in names}}
        out.append((s.where, cls.from_dict(fields, source=s.where)))
    return out


def _config_key(cfg: Any) -> str:
    import json

    return json.dumps({"study": cfg.study, **cfg.to_dict()}, sort_keys=True, default=str)


class _ModelRun:
    """Everything the report does with one model: its encoder and its study results."""

    def __init__(self, config: Any, model: str, encoder: Any, store: Any, out: Path) -> None:
        self.config, self.model, self.encoder, self.store = config, model, encoder, store
        self.out = out / model_slug(model)
        self.done: dict[str, tuple[Any, str]] = {}  # config key -> (result, folder)
        self.load_s = 0.0
        self.load_error: BaseException | None = None

    def fields(self) -> dict[str, Any]:
        c = self.config
        return {"model": self.model, "device": c.device, "threads": c.threads, "dtype": c.dtype, "cache": c.cache}

    def get_encoder(self) -> Any:
        """The model, loaded on first use (once: a failure is remembered, not retried per claim)."""
        if self.load_error is not None:
            raise self.load_error
        if self.encoder is None:
            from ..models.registry import load_encoder
            from ..studies.base import set_threads

            t0 = time.perf_counter()
            set_threads(self.config.threads)
            try:
                self.encoder = load_encoder(self.model, device=self.config.device)
            except Exception as e:  # every claim of this column reports it (loaded once)
                self.load_error = e
                raise
            self.load_s = time.perf_counter() - t0
        return self.encoder

    def results(self, claim: Any) -> tuple[list[Any], list[str]]:
        from ..studies import run_config

        results, lines = [], []
        for n, (where, cfg) in enumerate(study_configs(claim, self.config.profile, self.fields()), 1):
            key = _config_key(cfg)
            if key not in self.done:
                folder = self.out / claim.id / f"{n}-{cfg.study}"
                res = run_config(cfg, encoder=self.get_encoder() if "model" in cfg.field_names() else None,
                                 store=self.store)
                res.save(folder)
                self.done[key] = (res, str(folder))
                lines.append(f"{cfg.study} -> {folder}")
            else:
                res, folder = self.done[key]
                lines.append(f"{cfg.study} -> {folder} (the same study as another claim's: run once)")
            results.append(res)
        return results, lines


def _error_text(e: BaseException) -> str:
    last = traceback.extract_tb(e.__traceback__)[-1:] if e.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    msg = " ".join(str(e).split()) or type(e).__name__
    return f"{type(e).__name__}: {msg}{where}"


def _measure_one(run: _ModelRun, claim: Any, anchors: Any
                 ) -> tuple[Measurement | None, list[str], str | None, tuple[float, float]]:
    """(measurement, study lines, error, (wall s, CPU s of this process)) of one claim on one model."""
    from .claims import resolve_callable

    t0, c0 = time.perf_counter(), time.process_time()
    ctx = context(run.config, claim, run.model, run.out / claim.id, anchors)
    lines: list[str] = []
    try:
        results, lines = run.results(claim)
        m = resolve_callable(claim.measure)(results, ctx)
        if not isinstance(m, Measurement):
            raise TypeError(f"{claim.measure} returned {type(m).__name__}, not a Measurement")
        return m, lines, None, (time.perf_counter() - t0, time.process_time() - c0)
    except Exception as e:  # noqa: BLE001 - a claim's failure is reported in the page
        return None, lines, _error_text(e), (time.perf_counter() - t0, time.process_time() - c0)


def context(config: Any, claim: Any, model: str, work_dir: Path, anchors: Any) -> ClaimContext:
    from ..data.registry import _root

    try:
        root = _root(None)
    except Exception:  # noqa: BLE001 - no data root: measures say what they miss
        root = None
    mine = {k: anchors.anchors[k] for k in claim.anchor_keys}
    return ClaimContext(claim_id=claim.id, model=model, profile=config.profile, data_root=root,
                        work_dir=work_dir, seed=config.seed, anchors=mine)


def _plot(claim: Any, measurements: dict[str, Measurement], config: Any, anchors: Any, out: Path
          ) -> tuple[bytes | None, str | None]:
    from .claims import resolve_callable

    if not measurements:
        return None, "no model produced figures for this claim"
    try:
        ctx = context(config, claim, ", ".join(measurements), out, anchors)
        fig = resolve_callable(claim.plot)(measurements, ctx)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        return buf.getvalue(), None
    except Exception as e:  # noqa: BLE001
        return None, _error_text(e)


def run_report(config: Any, *, encoders: dict[str, Any], store: Any, provenance: Any) -> Any:
    from ..studies.report import ReportResult
    from .claims import load_anchors, load_claims

    t0 = time.perf_counter()
    anchors = load_anchors(config.anchors)
    claims = load_claims(config.claims, directory=config.claims_dir, anchors=anchors)
    out = Path(config.out) if config.out is not None else Path(tempfile.mkdtemp(prefix="mbert-lab-report-"))
    runs = [_ModelRun(config, m, encoders.get(m), store, out) for m in config.models]
    per: dict[str, dict[str, Any]] = {c.id: {} for c in claims}
    for run in runs:
        for claim in claims:
            per[claim.id][run.model] = _measure_one(run, claim, anchors)
    reports, images = [], {}
    for claim in claims:
        ms = {m: r[0] for m, r in per[claim.id].items() if r[0] is not None}
        png, plot_err = _plot(claim, ms, config, anchors, out)
        if png is not None:
            images[claim.id] = png
        reports.append(claim_report(claim, per[claim.id], anchors, plot_err, png is not None))
    return ReportResult(provenance=provenance, models=tuple(config.models), profile=config.profile,
                        claims=tuple(reports), runtime_s=time.perf_counter() - t0,
                        model_load_s={r.model: round(r.load_s, 3) for r in runs}, images=images)


# ---------------------------------------------------------------------------- typed rows


def _verdict_row(v: Any) -> Any:
    from ..studies.report import RuleRow, VerdictRow

    return VerdictRow(v.verdict, v.reason, tuple(RuleRow(**dataclasses.asdict(o)) for o in v.outcomes))


def _column(claim: Any, model: str, got: tuple[Any, list[str], str | None, tuple[float, float]], anchors: Any) -> Any:
    from ..studies.report import FigureRow, ModelColumn, VerdictRow
    from .rules import verdicts

    m, lines, err, (secs, cpu) = got
    if m is None:
        bad = VerdictRow("error", err or "unknown error")
        return ModelColumn(model, "error", err, (), bad, bad, (), {}, {}, tuple(lines), round(secs, 3), round(cpu, 3))
    v = verdicts(claim, m, anchors, model)
    figs = tuple(FigureRow(**dataclasses.asdict(f)) for f in m.figures.values())
    series = {k: {a: tuple(b) for a, b in s.items()} for k, s in m.series.items()}
    tables = {k: tuple(rows) for k, rows in m.tables.items()}
    return ModelColumn(model, "ok", None, figs, _verdict_row(v["figure"]), _verdict_row(v["finding"]),
                       tuple(m.notes) + ((f"not measurable: {m.not_measurable}",) if m.not_measurable else ()),
                       tables, series, tuple(lines), round(secs, 3), round(cpu, 3))


def claim_report(claim: Any, per_model: dict[str, Any], anchors: Any, plot_error: str | None, has_plot: bool) -> Any:
    from ..studies.report import AnchorRow, ClaimReport

    rows = []
    qualitative = [k for k, a in anchors.anchors.items() if "statement" in a
                   and (a["claim"] == claim.id if "claim" in a else a["source"] in claim.citations)]
    for key in (*claim.anchor_keys, *qualitative):
        a = anchors.anchors[key]
        rows.append(AnchorRow(key, a.get("value"), a["unit"], a["model"], a["data"], a["source"],
                              anchors.sources[a["source"]], a["where"], a["checked"], a.get("statement", "")))
    cols = tuple(_column(claim, model, got, anchors) for model, got in per_model.items())
    return ClaimReport(claim.id, claim.number, claim.title, claim.question,
                       tuple(anchors.sources[c] for c in claim.citations), claim.caveat, tuple(rows), cols,
                       plot_error, f"figures/{claim.number:02d}_{claim.id}.png" if has_plot else None)
