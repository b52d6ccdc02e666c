"""``mbert-lab transfer``: zero-shot cross-lingual transfer (study: ``transfer``).

Writes into ``--out`` itself: ``transfer.json`` (the TransferResult), ``transfer.md`` (tables),
``transfer_by_language.png/.svg`` (and ``transfer_by_layer.png/.svg`` for layer probes);
per-seed results and checkpoints under ``<out>/seed-<s>/`` (a rerun resumes).
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_print_config, check_out, print_config, with_command

EXAMPLES = """examples:
  # POS, 5,000 English training sentences, PUD + XTREME dev (first 1000 sentences per language), 3 seeds
  mbert-lab transfer --task pos --train en --eval en,de,fr,es,ru,zh,ar --max-train 5000 \\
      --max-eval 1000 --seeds 3 --epochs 1 --batch-size 32 --max-length 128 --out results/transfer/pos   # [long]

  # the defaults (= the POS settings of scripts/transfer_acceptance.sh), one seed, on a GPU
  mbert-lab transfer --task pos --eval en,de,fr,es,ru,zh,ar --suites pud --seeds 1 --device cuda \\
      --out results/transfer/pos-gpu   # [gpu]

  # the former default: full fine-tuning at lr 5e-5 (English PUD 76.8 with 3,000 sentences)
  mbert-lab transfer --task pos --mode full --lr 5e-5 --max-train 3000 --seeds 1 --out results/transfer/pos-full   # [long]

  # NER: CoNLL-2003 English -> MasakhaNER (DATE mapped to O, and kept as always-missed)
  mbert-lab transfer --task ner --eval en,hau,swa,yor,pcm --max-train 5000 --seeds 3 --out results/transfer/ner   # [long]

  # XNLI: train on half of the English dev items, evaluate every language on the other half
  mbert-lab transfer --task xnli --eval en,de,fr,es,ru,zh,ar --epochs 2 --seeds 3 --out results/transfer/xnli   # [long]

  # frozen encoder, a softmax probe on each layer (vectors from the shared cache); the best layer
  # is chosen on a dev half of each evaluation set and reported on the other (test) half
  mbert-lab transfer --task pos --mode layer-probe --layers all --max-train 2000 --out results/transfer/probes   # [long]

  # your own data: a UD treebank for training, CoNLL-U files for evaluation, MasakhaNER 2.0
  mbert-lab transfer --task pos --train-file fi_tdt-ud-train.conllu --train fi --eval-file et=et_edt-ud-test.conllu \
      --max-train 2000 --seeds 1 --out results/transfer/fi-et   # [long]
  mbert-lab transfer --task ner --eval en,zul,yor --masakhaner v2 --seeds 1 --out results/transfer/ner-v2   # [data]: MasakhaNER 2.0 files under the data root
  mbert-lab transfer --task xnli --source xnli=hub:facebook/xnli --eval en,sw,ur --seeds 1 --out results/transfer/xnli-hub   # [hub]

  # keep embeddings and layers 1..4 frozen
  mbert-lab transfer --task pos --mode frozen-lower --freeze-up-to 4 --out results/transfer/frozen4   # [long]

  # train once (the model of each seed saved under OUT/seed-<s>/model), evaluate many
  mbert-lab transfer train --task pos --eval en,de --max-train 2000 --seeds 1 --out results/transfer/pos-2k   # [long]
  mbert-lab transfer eval --checkpoint results/transfer/pos-2k/seed-0/model --eval fr,es,ru \
      --out results/transfer/pos-2k-eval   # [after]: reads the model the line above saves

Defaults: mode frozen-lower (embeddings frozen), lr 1e-4, 1 epoch, 5,000 training sentences. Chosen
on English dev data (XTREME UD-POS dev-en, 300 sentences; 1,000 training sentences, seed 0): frozen 1e-4
57.4, full 1e-4 57.7 (a tie, 1.7x slower), full 5e-5 (the former default) 31.9. What they give
(`transfer --task pos --suites pud --seeds 1`, offline model, seed 0, 12 min on 1 CPU thread): English
PUD 93.9, zero-shot average over de fr es ru zh ar 82.9 (de 88.6 fr 88.0 es 88.8 ru 87.8 zh 69.1 ar 75.0).

Languages: ISO 639-1 or 639-3 (stored as 639-3: zh -> cmn); a code the language table does not
know works when the task's data has files for it.
"""

ARGS = {  # flag -> (Config field, type, help)
    "--train": ("train_lang", str, "source language (the data has English training data): default en"),
    "--eval": ("eval_langs", str, "comma-separated evaluation languages (default: all of the task)"),
    "--suites": ("suites", str, "evaluation suites, first = primary: pos: pud,xtreme-dev; ner: date-as-O,date-kept"),
    "--eval-sets": ("eval_sets", str, "mixed suites instead of --eval/--suites: SUITE:LANG list, e.g. "
                    "pud:en,pud:fi,xtreme-dev:eu (first suite = primary)"),
    "--seeds": ("seeds", int, "number of seeds (offset .. offset+N-1); default 3"),
    "--seed-offset": ("seed_offset", int, "first seed (default 0)"),
    "--mode": ("mode", str, "frozen-lower (default: embeddings frozen, or up to --freeze-up-to), full, probe "
               "(a head on one frozen layer: --layers 8) or layer-probe (one probe per layer of --layers)"),
    "--freeze-up-to": ("freeze_up_to", int, "frozen-lower: freeze layers 0..K (0 = embeddings only)"),
    "--lr": ("lr", float, "learning rate (default 1e-4; probe 1e-3)"),
    "--head-lr": ("head_lr", float, "head learning rate (default: --lr)"),
    "--epochs": ("epochs", int, "training epochs (default 1)"),
    "--max-steps": ("max_steps", int, "stop after N optimizer steps"),
    "--eval-max-length": ("eval_max_length", int, "evaluation tokens (default: the model's maximum)"),
    "--eval-batch-size": ("eval_batch_size", int, "evaluation / probe extraction batch (default 64)"),
    "--warmup": ("warmup", float, "warm-up fraction of steps (default 0.1)"),
    "--weight-decay": ("weight_decay", float, "default 0.01"),
    "--dropout": ("dropout", float, "default 0.1"),
    "--word-pooling": ("word_pooling", str, "token tasks: first (content subword) or mean; default first"),
    "--pair-pooling": ("pair_pooling", str, "pair tasks: mean or cls; default mean"),
    "--max-train": ("max_train", int, "training examples (a fixed subset; default 5000, all when fewer)"),
    "--max-eval": ("max_eval", int, "first N sentences/pairs per evaluation set (default all)"),
    "--split-fraction": ("split_fraction", float, "xnli/pawsx: share of items for training (default 0.5)"),
    "--split-seed": ("split_seed", int, "seed of the xnli/pawsx item split and of the probes' dev/test split"),
    "--ner-split": ("ner_split", str, "MasakhaNER / CoNLL evaluation split: dev or test"),
    "--label-map": ("label_map", str, "explicit evaluation label mapping, e.g. B-DATE=O,I-DATE=O"),
    "--probe-epochs": ("probe_epochs", int, "layer-probe: epochs of each softmax probe (default 10)"),
    "--probe-dev-fraction": ("probe_dev_fraction", float, "layer-probe: share of each evaluation set that "
                             "chooses the layer (the rest reports it); default 0.5"),
    "--checkpoint-every": ("checkpoint_every", int, "checkpoint every N steps (0 = never; default 200)"),
    "--data-root": ("data_root", str, "data folder (default: $MBERT_LAB_DATA)"),
    "--masakhaner": ("masakhaner", str, "ner: MasakhaNER version (v1 or v2) for a language in both (default v1)"),
    "--train-file": ("train_file", str, "your training file: pos CoNLL-U (.conllu, e.g. a UD treebank) or "
                     "word<TAB>UPOS; ner CoNLL; xnli/pawsx a<TAB>b<TAB>label (--train names its language)"),
}
REPEATED = {  # flag -> (Config field, help)
    "--eval-file": ("eval_files", "LANG=PATH: your evaluation file for LANG (same formats as --train-file; "
                    "pos/xnli/pawsx: suite 'files', ner: every suite); repeatable"),
    "--source": ("sources", "DATASET=hub:ID[@REV] (or hub:/local/folder): read xnli, paws-x, masakhaner or ud "
                 "(the PUD suite) from the Hugging Face hub; repeatable"),
}
DEFAULT_OUT = "results/transfer"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "transfer",
        help="zero-shot cross-lingual transfer: fine-tune on English, evaluate other languages",
        description="Fine-tune (or probe) on the source language, evaluate zero-shot on others; several "
        "seeds with mean and sd per language; resumable.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", choices=("train", "eval"), default=None,
                   help="train: as without an action, and save each seed's model under OUT/seed-<s>/model; "
                   "eval: evaluate a saved model (--checkpoint DIR) on --eval / --suites")
    p.add_argument("--task", default=None, help="pos, ner, xnli or pawsx (eval: the checkpoint's)")
    p.add_argument("--checkpoint", default=None, help="eval: a model folder written by `transfer train`")
    for flag, (_, typ, hlp) in ARGS.items():
        p.add_argument(flag, type=typ, default=None, help=hlp)
    for flag, (_, hlp) in REPEATED.items():
        p.add_argument(flag, action="append", default=None, metavar="K=V", help=hlp)
    p.add_argument("--overwrite", action="store_true", help="discard finished seeds in --out and start afresh")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder, written into as is (default: {DEFAULT_OUT})")
    for old in ("--probe-layer", "--probe-layers", "--eval-layers"):
        p.add_argument(old, default=None, help=argparse.SUPPRESS)
    g = p.add_argument_group("model")
    g.add_argument("--model", default="offline", help="Hugging Face id or local path (default: offline)")
    g.add_argument("--revision", default=None, help="model revision (branch, tag or commit)")
    g.add_argument("--layers", default="last", help="probe: one layer (e.g. 8); layer-probe: 'all' or "
                   "'4,8,12'; full / frozen-lower read the last layer (default: last)")
    g.add_argument("--batch-size", type=int, default=32, help="training batch size (default: 32)")
    g.add_argument("--max-length", type=int, default=128, help="training tokens per example (default: 128)")
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    g.add_argument("--no-cache", action="store_true", help="layer-probe: do not read or write the vector store")
    g.add_argument("--dtype", default="fp32", help="probe / layer-probe: compute precision of the frozen encoder, "
                   "fp32, bf16 or int8 (fine-tuning trains in fp32; default fp32)")
    g.add_argument("--store-dtype", default="float32", help="probe / layer-probe: stored vectors, float32 or float16")
    add_print_config(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> Any:
    from ..errors import ConfigError
    from ..studies.transfer import TransferConfig

    for old in ("probe_layer", "probe_layers", "eval_layers"):
        if getattr(args, old, None) is not None:
            raise ConfigError(f"--{old.replace('_', '-')} is gone: use --mode probe --layers N (one layer) or "
                              "--mode layer-probe --layers all|4,8,12")
    fields = {f: getattr(args, flag[2:].replace("-", "_")) for flag, (f, _, _) in ARGS.items()}
    fields.update({f: getattr(args, flag[2:].replace("-", "_")) for flag, (f, _) in REPEATED.items()})
    fields = {k: v for k, v in fields.items() if v is not None}
    if args.action == "eval":
        return _eval_config(args, fields)
    if args.checkpoint is not None:
        raise ConfigError("--checkpoint is for `mbert-lab transfer eval`")
    if args.task is None:
        raise ConfigError("--task is required (pos, ner, xnli or pawsx)")
    return TransferConfig(
        task=args.task, save_model=args.action == "train", model=args.model, revision=args.revision, layers=args.layers, batch_size=args.batch_size,
        max_length=args.max_length, device=args.device, threads=args.threads, cache=not args.no_cache,
        dtype=args.dtype, store_dtype=args.store_dtype, overwrite=args.overwrite, progress=not args.no_progress, work_dir=args.out, **fields,
    )


EVAL_FIELDS = ("eval_langs", "suites", "eval_sets", "max_eval", "eval_max_length", "eval_batch_size", "ner_split", "label_map",
               "data_root", "masakhaner", "eval_files", "sources")


def _eval_config(args: argparse.Namespace, fields: dict[str, Any]) -> Any:
    """``transfer eval``: only evaluation options; training options are refused, not ignored."""
    from ..errors import ConfigError
    from ..studies.transfer import TransferConfig

    if args.checkpoint is None:
        raise ConfigError("--checkpoint: `transfer eval` needs the folder of a saved model (from `transfer train`)")
    flags = {f: flag for flag, (f, _, _) in ARGS.items()}
    flags.update({f: flag for flag, (f, _) in REPEATED.items()})
    bad = [flags[k] for k in fields if k not in EVAL_FIELDS]
    bad += [f for f, v, d in (("--model", args.model, "offline"), ("--revision", args.revision, None),
                              ("--layers", args.layers, "last"), ("--batch-size", args.batch_size, 32),
                              ("--max-length", args.max_length, 128), ("--overwrite", args.overwrite, False),
                              ("--dtype", args.dtype, "fp32"), ("--store-dtype", args.store_dtype, "float32"))
            if v != d]
    if bad:
        raise ConfigError(f"{bad[0]}: not an option of `transfer eval` (the checkpoint fixes the model and training)")
    return TransferConfig(task=args.task, checkpoint=args.checkpoint, device=args.device, threads=args.threads,
                          progress=not args.no_progress, **fields)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..studies.transfer import transfer

    cfg = config_from_args(args)
    if print_config(args, cfg, out=args.out):
        return 0
    check_out("--out", args.out)
    result = with_command(transfer(cfg))
    out = Path(args.out)
    written = save_outputs(result, out)
    for p in written:
        print(f"wrote {p}")
    print("\n".join(result.summary()))
    return 0


def save_outputs(result: Any, out: Any) -> list[Any]:
    """``transfer.json``, ``transfer.md`` and the charts, directly under ``out``."""
    from ..io import atomic_write_text
    from ..plots.transfer import bar_chart, layer_chart, markdown

    out.mkdir(parents=True, exist_ok=True)
    written = [result.save(out)]
    atomic_write_text(out / "transfer.md", markdown(result))
    written.append(out / "transfer.md")
    written += bar_chart(result, out / "transfer_by_language")
    if result.layer_probes is not None:
        written += layer_chart(result, out / "transfer_by_layer")
    return written
