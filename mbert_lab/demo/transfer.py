"""Demo section: a SMOKE DEMO of the transfer study (not a transfer result)."""

from __future__ import annotations

from typing import Any

DEMO_LANGS = ("en", "de", "fr", "es", "ru", "zh", "ar")


def section(ctx: Any, n_train: int = 200, n_eval: int = 100, layers: tuple[int, ...] = (4, 8, 12)) -> str:
    """A frozen-encoder POS probe per layer on ``n_train`` English UD sentences (XTREME
    train-en.tsv), tagging the first ``n_eval`` PUD sentences of 7 languages: the layer is
    chosen on half of them (dev) and reported on the other half (test). Needs the data mirror
    (``$MBERT_LAB_DATA``); without it the section says so and writes nothing."""
    from ..errors import MbertLabError
    from ..plots.transfer import bar_chart
    from ..studies.transfer import TransferConfig, transfer

    out = ctx.out / "transfer"
    layers = tuple(L for L in layers if L <= ctx.encoder.num_layers) or (ctx.encoder.num_layers,)
    try:
        cfg = TransferConfig(task="pos", eval_langs=DEMO_LANGS, suites=("pud",), mode="layer-probe",
                             layers=layers, max_train=n_train, max_eval=n_eval, seeds=1, word_pooling="mean",
                             progress=False, model=getattr(ctx.encoder, "model_id", "offline"))
    except MbertLabError as e:
        return f"transfer (smoke demo): not run, the POS data is not available ({e}); see `mbert-lab transfer --help`"
    r = transfer(cfg, encoder=ctx.encoder, store=ctx.store)
    r.save(out)
    lp = r.layer_probes
    bar_chart(r, out / "transfer_smoke", title=f"SMOKE DEMO: POS probe, layer {lp.best_layer} (chosen on dev), "
              f"{n_train} English sentences, test half")
    per = r.per_language
    avg = r.zero_shot_average.mean if r.zero_shot_average else float("nan")
    return (
        f"transfer (SMOKE DEMO, frozen-encoder POS probe on {n_train} English sentences, {n_eval} PUD sentences per "
        f"language: layer chosen on {lp.n_dev['pud:eng']}, reported on the other {lp.n_test['pud:eng']}): "
        f"best layer {lp.best_layer}, English {per['eng'].mean:.1f}, zero-shot average {avg:.1f} "
        f"({', '.join(f'{k} {v.mean:.0f}' for k, v in per.items() if k != 'eng')}); "
        f"real runs: `mbert-lab transfer`; plot: {out / 'transfer_smoke.png'}"
    )
