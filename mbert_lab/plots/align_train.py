"""The alignment fine-tuning curve from :class:`~mbert_lab.studies.align_train.AlignTrainResult`:
training loss by step (left) and dev AER per gold set by step (right; the chosen step marked).
Writes ``stem.png`` + ``stem.svg``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import new_figure, save_figure


def plot_curve(result: Any, stem: str | Path) -> list[Path]:
    fig, axes = new_figure(10.0, 4.0, ncols=2, squeeze=False)
    ax_loss, ax_aer = axes[0]
    pts = [(c.step, c.loss) for c in result.curve if c.loss is not None]
    if pts:
        ax_loss.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label="total")
    names = sorted({k for c in result.curve for k in c.losses})
    for k in names:
        xs = [(c.step, c.losses[k]) for c in result.curve if k in c.losses]
        ax_loss.plot([p[0] for p in xs], [p[1] for p in xs], ls="--", lw=1, label=k.upper())
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss (mean since the previous point)")
    ax_loss.legend(fontsize=7)
    ax_loss.set_title(f"layer {result.layer}: {'+'.join(result.objectives)}", fontsize=9)
    golds = sorted({g for c in result.curve for g in c.dev_aer})
    for g in golds:
        xs = [(c.step, c.dev_aer[g]) for c in result.curve if g in c.dev_aer]
        ax_aer.plot([p[0] for p in xs], [p[1] for p in xs], marker="o", ms=3, label=g)
    means = [(c.step, c.mean_dev_aer) for c in result.curve if c.mean_dev_aer is not None]
    if means:
        ax_aer.plot([p[0] for p in means], [p[1] for p in means], color="black", lw=1.5, label="mean")
        chosen = [m for m in means if m[0] == result.chosen_step]
        if chosen:
            ax_aer.scatter([chosen[0][0]], [chosen[0][1]], marker="*", s=120, color="red", zorder=3,
                           label=f"chosen (step {result.chosen_step})")
    ax_aer.set_xlabel("step")
    ax_aer.set_ylabel("AER on the dev halves")
    ax_aer.set_title("dev AER (choices); test-half figures in align_train.json", fontsize=9)
    if golds or means:
        ax_aer.legend(fontsize=7)
    return save_figure(fig, stem)
