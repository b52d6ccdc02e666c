"""The report's interface: what a claim's measure returns and what its plot receives.

A claim is a TOML file in ``mbert_lab/report/claims/`` (see ``claims/README.md``): metadata, the
study configs it runs (``[[study]]`` tables as in study files, with a ``profile`` key), verdict
rules (``[[rule]]``) and two dotted names: ``measure`` and ``plot``.

The report runs every declared study through the studies registry (one encoder per model, shared)
and hands the typed Results to the claim's measure, which only post-processes them:

    def measure(results: list[StudyResult], ctx: ClaimContext) -> Measurement
    def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> matplotlib.figure.Figure

so a claim's figures are, by construction, those of its studies run alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILES = ("quick", "full")
VERDICTS = ("reproduced", "partly", "not reproduced", "not measurable here")


@dataclass
class Figure:
    """One number of ours, with its uncertainty where the study has one."""

    key: str  # stable dotted key referenced by rules, e.g. "aer.fra.argmax.l8"
    label: str  # what a reader sees, e.g. "AER en-fr, ArgMax, layer 8"
    value: float | None  # None: not measurable (say why in Measurement.notes)
    ci_low: float | None = None  # confidence interval (bootstrap / analytic), same unit
    ci_high: float | None = None
    spread: float | None = None  # seed spread (std over seeds) where there are seeds
    n: int | None = None  # sample size behind the value
    unit: str = ""  # "AER %", "accuracy %", "Pearson r", ...


@dataclass
class Measurement:
    """A claim's figures for one model."""

    figures: dict[str, Figure] = field(default_factory=dict)
    # Curves for plots and peak rules: name -> {"x": [...], "y": [...]} (e.g. per-layer accuracy).
    series: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # extra rows to render
    notes: list[str] = field(default_factory=list)  # caveats: data used, caps, splits
    not_measurable: str | None = None  # a reason, when nothing could be measured


@dataclass
class ClaimContext:
    """What a measure / plot may know besides the study results."""

    claim_id: str
    model: str  # the model id as given to the report (a column)
    profile: str  # "quick" | "full"
    data_root: Path | None
    work_dir: Path  # scratch folder for this claim and model (inside the report's --out)
    seed: int = 0
    anchors: dict[str, Any] = field(default_factory=dict)  # this claim's published figures
