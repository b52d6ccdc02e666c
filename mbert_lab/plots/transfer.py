"""Charts and tables of a :class:`~mbert_lab.studies.transfer.TransferResult`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def bar_chart(result: Any, stem: str | Path, title: str = "") -> list[Path]:
    """Bars by language (mean, sd as error bars), one group per suite; source bar hatched."""
    import numpy as np

    from . import new_figure, save_figure

    suites = list(result.suites)
    langs = list(dict.fromkeys(lang for s in suites for lang in result.suites[s].per_language))
    fig, ax = new_figure(max(6.0, 0.7 * len(langs) * max(1, len(suites)) + 2), 4.2)
    width = 0.8 / max(1, len(suites))
    x = np.arange(len(langs))
    for k, s in enumerate(suites):
        per = result.suites[s].per_language
        means = [per[lang].mean if lang in per else np.nan for lang in langs]
        sds = [per[lang].sd if lang in per else 0.0 for lang in langs]
        bars = ax.bar(x + (k - (len(suites) - 1) / 2) * width, means, width, yerr=sds, capsize=2, label=s)
        for lang, b in zip(langs, bars):
            if lang == result.train_lang:
                b.set_hatch("//")
    ax.set_xticks(x)
    ax.set_xticklabels(langs)
    ax.set_ylabel(f"{result.metric} (x100)")
    ax.set_ylim(0, 100)
    if not title:
        lp = result.layer_probes
        how = (f"probe at layer {lp.best_layer} (chosen on {lp.chosen_on}, shown on {lp.reported_on})"
               if lp is not None else f"{result.mode}")
        title = f"{result.task}: zero-shot from {result.train_lang}, {how}; {len(result.seeds)} seed(s); hatched = source"
    ax.set_title(title, fontsize=9)
    if len(suites) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, stem)


def layer_chart(result: Any, stem: str | Path) -> list[Path]:
    """Layer probes: zero-shot average (and source score) by layer on dev and on test."""
    from . import new_figure, save_figure

    lp = result.layer_probes
    if lp is None:
        raise ValueError("not a layer-probe result")
    fig, ax = new_figure(6.4, 4.0)
    for split, by_layer, style in (("dev", lp.dev, "--"), ("test", lp.test, "-")):
        for what in ("zero_shot_average", "source"):
            ys = [getattr(by_layer[L], what).mean if getattr(by_layer[L], what) else float("nan") for L in lp.layers]
            label = f"{'zero-shot avg' if what == 'zero_shot_average' else result.train_lang} ({split})"
            ax.plot(lp.layers, ys, style, marker="o", label=label)
    ax.axvline(lp.best_layer, color="grey", alpha=0.5)
    ax.set_xlabel("layer (0 = embeddings)")
    ax.set_ylabel(f"{result.metric} (x100)")
    ax.set_title(f"{result.task}: probes by layer; best {lp.best_layer} chosen on {lp.chosen_on}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return save_figure(fig, stem)


def markdown(result: Any) -> str:
    """One table per suite (language | mean | sd | per seed), then the average and the gap."""
    lines = [f"# Zero-shot transfer: {result.task} ({result.metric}, x100)", ""]
    t = result.training
    if t is not None:
        spk = t.seconds_per_1000_train_examples_per_epoch
        lines.append(f"Mode {t.mode}, lr {t.lr}, {t.train_examples} training examples, {t.epochs} epoch(s), "
                     f"{t.total_steps} steps; seeds {list(result.seeds)}; "
                     f"{'%.1f' % spk if spk else 'n/a'} s per 1,000 training examples per epoch.")
    lp = result.layer_probes
    if lp is not None:
        lines.append(f"Layer probes over layers {list(lp.layers)}: best layer {lp.best_layer}, chosen on the "
                     f"{lp.chosen_on} split ({lp.criterion}); the tables report the {lp.reported_on} split.")
        lines += ["", "| layer | zero-shot avg (dev) | zero-shot avg (test) |", "|---|---|---|"]
        for L in lp.layers:
            d, te = lp.dev[L].zero_shot_average, lp.test[L].zero_shot_average
            lines.append(f"| {L} | {d.mean:.1f} | {te.mean:.1f} |" if d and te else f"| {L} | | |")
    lines.append("")
    for suite, agg in result.suites.items():
        lines += [f"### {suite}", "", "| language | mean | sd | per seed |", "|---|---|---|---|"]
        for lang, v in agg.per_language.items():
            tag = " (source)" if lang == result.train_lang else ""
            lines.append(f"| {lang}{tag} | {v.mean:.1f} | {v.sd:.1f} | {', '.join(f'{x:.1f}' for x in v.seeds)} |")
        if agg.zero_shot_average is not None:
            a = agg.zero_shot_average
            lines.append(f"| **zero-shot average** | {a.mean:.1f} | {a.sd:.1f} | |")
        if agg.transfer_gap is not None:
            lines.append(f"| transfer gap ({result.train_lang} − avg) | {agg.transfer_gap:.1f} | | |")
        lines.append("")
    lines += [f"- {k}: {v}" for k, v in result.notes.items()]
    return "\n".join(lines) + "\n"
