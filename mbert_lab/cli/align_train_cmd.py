"""``mbert-lab align-train``: flags -> AlignTrainConfig -> :mod:`mbert_lab.studies.align_train`
-> checkpoint folder, result JSON, training-curve plot, printed before/after AER."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_model_options, check_out, model_fields, print_config, split_list, with_command

EPILOG = """examples:
  # the recipe measured on the offline model (layer 7: its best zero-shot layer on the dev halves):
  # 20 Tatoeba languages x 1000 pairs, SO+CO+PSI; test-half mean AER 31.65 (zero-shot, layer 8) -> 28.71
  mbert-lab align-train --tatoeba fr,ro,ja,de,es,it,ru,zh,pt,nl,pl,tr,ar,ko,sv,cs,fi,hu,el,bg --layers 7 --steps 1500 --objectives so,co,psi --eval-every 150 --out runs/align7   # [long]
  # your own parallel text: one 'src ||| tgt' file, or two line-aligned files
  mbert-lab align-train --parallel train.src-tgt --steps 500 --out runs/mine   # [long]
  mbert-lab align-train --parallel train.en train.fr --objectives so,co,psi --out runs/enfr   # [long]
  # the embedded (Django) corpus, no gold evaluation
  mbert-lab align-train --embedded de,fr --gold none --steps 50 --out runs/django

The checkpoint is OUT/checkpoint (a Hugging Face model folder with a sha256 manifest, verified
on every load); `mbert-lab align --model OUT/checkpoint` and `align-eval --model OUT/checkpoint`
use its trained layer unless --layers says otherwise. A stopped run started again with the same
options resumes from its last saved step (OUT/resume). Gold sentences (en-fr, ro-en, ja-en) in
--parallel files are refused. Writes OUT/align_train.json and OUT/align_train_curve.png/.svg.
AER: the checkpoint step is chosen on the seeded dev halves of the gold sets, the figures are
on the test halves (as align-eval).
"""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "align-train", help="fine-tune an encoder for word alignment (awesome-align SO/CO/PSI)",
        description="Fine-tune one layer for word alignment on unlabelled parallel text.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("data (at least one)")
    g.add_argument("--parallel", nargs="+", default=None, metavar="FILE",
                   help="one 'src ||| tgt' file or two line-aligned files")
    g.add_argument("--tatoeba", default=None, help="Tatoeba languages paired with English (comma list or 'all')")
    g.add_argument("--embedded", default=None, help="languages of the embedded Django corpus (comma list)")
    g.add_argument("--pairs-per-lang", type=int, default=1000, help="at most N pairs per language (default 1000)")
    t = p.add_argument_group("training")
    t.add_argument("--objectives", default="so,co", help="so, co, psi (mlm/tlm need an MLM head) (default so,co)")
    t.add_argument("--frozen-layers", default="0", help="layers not updated, 0 = embeddings, or 'none' (default 0)")
    t.add_argument("--lr", type=float, default=2e-5, help="learning rate, decays linearly to 0 (default 2e-5)")
    t.add_argument("--steps", type=int, default=200, help="training steps (default 200)")
    t.add_argument("--threshold", type=float, default=1e-3, help="softmax threshold of SO targets (default 1e-3)")
    t.add_argument("--temperature", type=float, default=0.05, help="PSI softmax temperature (default 0.05)")
    t.add_argument("--dropout", action=argparse.BooleanOptionalAction, default=True,
                   help="self-training targets from a dropout-free pass, the loss from a pass with the "
                        "model's dropout, as awesome-align (default: on; measured on the offline model, "
                        "lr 2e-5, 500 steps: mean dev AER -1.64 points with it, -1.13 without)")
    t.add_argument("--seed", type=int, default=0, help="data order, dropout and the dev/test split (default 0)")
    t.add_argument("--save-every", type=int, default=50, help="resume point every N steps (default 50)")
    t.add_argument("--no-resume", action="store_true", help="start over even if OUT holds a stopped run")
    e = p.add_argument_group("evaluation")
    e.add_argument("--gold", default="en-fr,ro-en,ja-en", help="gold sets scored before/after, or 'none'")
    e.add_argument("--gold-limit", type=int, default=None, help="first N pairs of each gold set")
    e.add_argument("--eval-methods", default="argmax", help="argmax, itermax, match, softmax (default argmax)")
    e.add_argument("--eval-every", type=int, default=50, help="dev AER every N steps, 0 = before/after only")
    e.add_argument("--select", default="best_dev", choices=("best_dev", "last"),
                   help="checkpoint step: best mean dev AER (default) or the last")
    p.add_argument("--out", required=True, help="run folder: checkpoint/, resume/, align_train.json, plot")
    add_model_options(p, layers_default="8")
    p.set_defaults(func=run, batch_size=8, max_length=64)
    for a in p._actions:  # training defaults differ from extraction's
        if a.dest == "batch_size":
            a.help = "pairs per training step (default: 8)"
        if a.dest == "max_length":
            a.help = "subwords per sentence (default: 64)"


def train_config(args: argparse.Namespace) -> Any:
    from ..studies.align_train import AlignTrainConfig

    gold = () if args.gold.strip().lower() == "none" else split_list(args.gold)
    return AlignTrainConfig(
        parallel=tuple(args.parallel or ()), tatoeba=split_list(args.tatoeba) or (),
        embedded=split_list(args.embedded) or (), pairs_per_lang=args.pairs_per_lang,
        objectives=split_list(args.objectives), frozen_layers=args.frozen_layers, lr=args.lr, steps=args.steps,
        threshold=args.threshold, temperature=args.temperature, dropout=args.dropout, seed=args.seed,
        save_every=args.save_every, resume=not args.no_resume, gold=gold, gold_limit=args.gold_limit,
        eval_methods=split_list(args.eval_methods), eval_every=args.eval_every, select=args.select,
        train_dir=args.out, **model_fields(args),
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..studies.align_train import align_train

    check_out("--out", args.out)
    cfg = train_config(args)
    if print_config(args, cfg):
        return 0
    result = with_command(align_train(cfg))
    out = Path(args.out)
    path = result.save(out)
    figs: list[Any] = []
    if len(result.curve) > 1:
        from ..plots.align_train import plot_curve

        figs = plot_curve(result, out / "align_train_curve")
    for line in result.summary():
        print(line)
    print(f"wrote {result.checkpoint}, {path}" + "".join(f", {f}" for f in figs))
    return 0
