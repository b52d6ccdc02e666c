"""``mbert-lab transfer``: zero-shot cross-lingual transfer (POS, NER, XNLI, PAWS-X).

Writes ``<out>/<task>/transfer.json`` (ResultRecord, kind ``transfer``; the primary suite's
per-language scores at ``payload["per_language"][lang]["mean"]``), ``transfer.md`` (tables)
and ``transfer_by_language.png/.svg``; per-seed results and checkpoints under
``<out>/<task>/seed-<s>/`` (a rerun resumes).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

EXAMPLES = """examples:
  # POS, 5,000 English training sentences, PUD + XTREME dev (first 1000 sentences per language), 3 seeds
  mbert-lab transfer --task pos --train en --eval en,de,fr,es,ru,zh,ar --max-train 5000 \\
      --max-eval 1000 --seeds 3 --epochs 1 --batch-size 32 --max-length 128 --out results/transfer

  # NER: CoNLL-2003 English -> MasakhaNER (DATE mapped to O, and kept as always-missed)
  mbert-lab transfer --task ner --eval en,hau,swa,yor,pcm --max-train 5000 --seeds 3

  # XNLI: train on half of the English dev items, evaluate every language on the other half
  mbert-lab transfer --task xnli --eval en,de,fr,es,ru,zh,ar --epochs 2 --seeds 3

  # frozen encoder, a linear probe on each layer (vectors from the shared cache)
  mbert-lab transfer --task pos --mode probe --probe-layers all --max-train 2000

  # keep embeddings and layers 1..4 frozen
  mbert-lab transfer --task pos --mode frozen-lower --freeze-up-to 4
"""


def add_parser(subparsers: Any) -> None:
    from .common import add_output_options

    p = subparsers.add_parser(
        "transfer",
        help="zero-shot cross-lingual transfer: fine-tune on English, evaluate other languages",
        description="Fine-tune (or probe) on the source language, evaluate zero-shot on others; several "
        "seeds with mean and sd per language; resumable.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--task", required=True, help="pos, ner, xnli or pawsx")
    p.add_argument("--train", default="en", help="source language (the mirror has English training data)")
    p.add_argument("--eval", default=None, help="comma-separated evaluation languages (default: all of the task)")
    p.add_argument("--suites", default=None,
                   help="evaluation suites: pos: pud,xtreme-dev; ner: date-as-O,date-kept; first = primary")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1 + --seed-offset)")
    p.add_argument("--seed-offset", type=int, default=0)
    p.add_argument("--model", default="offline", help="Hugging Face id or local path; default: offline")
    p.add_argument("--revision", default=None)
    p.add_argument("--mode", default="full", help="full, frozen-lower or probe")
    p.add_argument("--freeze-up-to", type=int, default=0,
                   help="frozen-lower: freeze layers 0..K (0 = embeddings only)")
    p.add_argument("--probe-layer", type=int, default=None, help="probe: layer to read (default: last)")
    p.add_argument("--probe-layers", default=None,
                   help="probe on cached vectors, one probe per layer: 'all' or '4,8,12'")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 5e-5; probe 1e-3)")
    p.add_argument("--head-lr", type=float, default=None)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128, help="training max tokens")
    p.add_argument("--eval-max-length", type=int, default=None, help="eval max tokens (default: model max)")
    p.add_argument("--warmup", type=float, default=0.1, help="warm-up fraction of steps")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--word-pooling", default="first", help="token tasks: first (content subword) or mean")
    p.add_argument("--pair-pooling", default="mean", help="pair tasks: mean or cls")
    p.add_argument("--max-train", type=int, default=None, help="training examples (fixed subset)")
    p.add_argument("--max-eval", type=int, default=None, help="first N sentences/pairs per eval set")
    p.add_argument("--split-fraction", type=float, default=0.5, help="xnli/pawsx: share of items for training")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--ner-split", default="dev", help="MasakhaNER / CoNLL evaluation split: dev or test")
    p.add_argument("--label-map", default=None, help="explicit eval label mapping, e.g. B-DATE=O,I-DATE=O")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--overwrite", action="store_true", help="discard finished seeds and start afresh")
    p.add_argument("--no-progress", action="store_true")
    add_output_options(p, "results/transfer")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mbert_lab.errors import ConfigError
    from mbert_lab.paths import data_root
    from mbert_lab.transfer.data import load_task_data, parse_label_map
    from mbert_lab.transfer.tasks import TASKS, Task

    task = Task.parse(args.task)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    langs = [x.strip() for x in args.eval.split(",") if x.strip()] if args.eval else list(TASKS[task].default_eval)
    if args.seeds < 1:
        raise ConfigError("--seeds must be >= 1")
    seeds = list(range(args.seed_offset, args.seed_offset + args.seeds))
    data = load_task_data(
        task,
        data_root(),
        train_lang=args.train,
        eval_langs=langs,
        max_train=args.max_train,
        max_eval=args.max_eval,
        suites=[s.strip() for s in args.suites.split(",")] if args.suites else None,
        split_fraction=args.split_fraction,
        split_seed=args.split_seed,
        label_map=parse_label_map(args.label_map),
        ner_split=args.ner_split,
    )
    from mbert_lab.models.registry import load_encoder

    encoder = load_encoder(args.model, revision=args.revision)
    out = Path(args.out) / task.value
    if args.probe_layers:
        rec = run_layer_probes(encoder, data, args.probe_layers, seeds, out, progress=not args.no_progress,
                               max_length=args.eval_max_length)
    else:
        from mbert_lab.transfer.runner import TrainConfig

        mode = args.mode
        lr = args.lr if args.lr is not None else (1e-3 if mode == "probe" else 5e-5)
        cfg = TrainConfig(
            mode=mode, freeze_up_to=args.freeze_up_to, probe_layer=args.probe_layer, lr=lr, head_lr=args.head_lr,
            epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size, max_length=args.max_length,
            eval_max_length=args.eval_max_length, warmup=args.warmup, weight_decay=args.weight_decay,
            dropout=args.dropout, word_pooling=args.word_pooling, pair_pooling=args.pair_pooling,
            checkpoint_every=args.checkpoint_every,
        )
        rec = run_transfer_experiment(encoder, data, cfg, seeds, out, progress=not args.no_progress,
                                      overwrite=args.overwrite)
    p = rec.payload
    print(f"results: {out / 'transfer.json'}")
    print(f"table:   {out / 'transfer.md'}")
    print(f"chart:   {out / 'transfer_by_language.png'} (+ .svg)")
    for lang, v in p["per_language"].items():
        print(f"  {lang:>4}: {v['mean']:6.2f} ± {v['sd']:.2f}")
    if p.get("average_zero_shot"):
        print(f"  zero-shot average {p['average_zero_shot']['mean']:.2f}; transfer gap {p['transfer_gap']}")
    return 0


def run_transfer_experiment(encoder: Any, data: Any, cfg: Any, seeds: list[int], out: Path, progress: bool = True,
                            overwrite: bool = False) -> Any:
    """Run / resume all seeds, aggregate, write JSON + markdown + chart under ``out``."""
    import numpy as np

    from mbert_lab.io import atomic_write_text
    from mbert_lab.results import Provenance, record
    from mbert_lab.transfer.report import bar_chart, build_payload, markdown_table
    from mbert_lab.transfer.runner import run_seeds
    from mbert_lab.transfer.tasks import TASKS

    results = run_seeds(encoder, data, cfg, seeds, out, progress=progress, overwrite=overwrite)
    n_train = results[0].train_examples
    train_s = [r.train_seconds for r in results if r.resumed_from_step == 0]
    cost = {
        "train_examples": n_train,
        "epochs": cfg.epochs,
        "train_seconds_per_seed": [r.train_seconds for r in results],
        "eval_seconds_per_seed": [r.eval_seconds for r in results],
        "train_examples_per_s": [r.train_examples_per_s for r in results],
        # seconds per 1,000 training examples for one pass (epoch), from seeds not resumed
        "seconds_per_1000_train_examples_per_epoch": (
            float(np.mean(train_s)) / max(1, cfg.epochs) / n_train * 1000.0 if train_s and not cfg.max_steps else None
        ),
    }
    from mbert_lab.transfer.tasks import ISO639_3

    langs = sorted({e.lang for e in data.evals} | {data.train_lang})
    extra = {
        "train_lang": data.train_lang,
        "language_codes_iso639_3": {lang: ISO639_3.get(lang) for lang in langs},
        "seeds": [r.seed for r in results],
        "labels": list(data.labels),
        "config": dataclasses.asdict(cfg),
        "train_info": results[0].train_info,
        "data_notes": data.notes,
        "label_reports": {f"{e.suite}:{e.lang}": e.label_report for e in data.evals},
        "details": {str(r.seed): r.details for r in results},
        "final_loss": {str(r.seed): float(np.mean([x[1] for x in r.loss_curve[-20:]])) if r.loss_curve else None
                       for r in results},
        "cost": cost,
        "fingerprint": results[0].fingerprint,
    }
    payload = build_payload(data.task.value, TASKS[data.task].metric, data.primary_suite, data.train_lang,
                            [r.scores for r in results], extra)
    prov = Provenance.collect(config={**dataclasses.asdict(cfg), "seeds": seeds}, model=encoder.provenance,
                              datasets=data.datasets)
    rec = record("transfer", payload, prov)
    out.mkdir(parents=True, exist_ok=True)
    rec.save(out / "transfer.json")
    atomic_write_text(out / "transfer.md", _md_header(payload, encoder, cfg) + markdown_table(payload))
    bar_chart(payload, out / "transfer_by_language")
    return rec


def _md_header(payload: dict[str, Any], encoder: Any, cfg: Any) -> str:
    c = payload["cost"]
    spk = c.get("seconds_per_1000_train_examples_per_epoch")
    return (
        f"# Zero-shot transfer: {payload['task']} ({payload['metric']})\n\n"
        f"Model: {encoder.label}. Source: {payload['train_lang']} ({c['train_examples']} training examples, "
        f"{cfg.epochs} epoch(s), batch {cfg.batch_size}, max length {cfg.max_length}, lr {cfg.lr}, mode {cfg.mode}). "
        f"Seeds: {payload['seeds']}. CPU cost: "
        f"{'%.1f' % spk if spk else 'n/a'} s per 1,000 training examples per epoch.\n\n"
        + "".join(f"- {k}: {v}\n" for k, v in payload.get("data_notes", {}).items())
        + "\n"
    )


def run_layer_probes(encoder: Any, data: Any, layers_spec: str, seeds: list[int], out: Path, progress: bool = True,
                     max_length: int | None = None, epochs: int = 10) -> Any:
    """Frozen encoder: one softmax probe per layer on cached vectors; scores per language and layer."""
    import numpy as np

    from mbert_lab.encode import default_store
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.io import atomic_write_text
    from mbert_lab.models.registry import parse_layers
    from mbert_lab.results import Provenance, record
    from mbert_lab.transfer.probe import pair_features, predict_probe, train_linear_probe
    from mbert_lab.transfer.report import aggregate_scores, bar_chart, build_payload
    from mbert_lab.transfer.runner import score_token_predictions
    from mbert_lab.transfer.tasks import TASKS, TaskType

    layers = parse_layers(layers_spec, encoder.num_layers)
    kind = TASKS[data.task].type
    metric = TASKS[data.task].metric
    outputs = ("word",) if kind is TaskType.TOKEN else ("sentence",)
    ex = Extractor(encoder, ExtractConfig(layers=tuple(layers), outputs=outputs, max_length=max_length),
                   store=default_store(), progress=progress)
    label2id = {lab: i for i, lab in enumerate(data.labels)}

    def vectors(examples: list[Any], desc: str) -> dict[int, Any]:
        if kind is TaskType.TOKEN:
            c = ex.encode([list(e.words) for e in examples], pretokenized=True, desc=desc)
            return {L: c.word_matrix(L) for L in layers}
        ca = ex.encode([e.text_a for e in examples], desc=desc + " a")
        cb = ex.encode([e.text_b for e in examples], desc=desc + " b")
        return {L: pair_features(ca.sentence(L), cb.sentence(L)) for L in layers}

    def labels_of(examples: list[Any]) -> np.ndarray:
        if kind is TaskType.TOKEN:
            return np.asarray([label2id.get(lab, -1) for e in examples for lab in e.labels])
        return np.asarray([label2id.get(e.label, -1) for e in examples])

    Xtr = vectors(data.train, "train vectors")
    ytr = labels_of(data.train)
    evals = [(e, vectors(e.examples, f"{e.suite}:{e.lang}")) for e in data.evals]
    # scores[layer][suite][lang] -> list over seeds
    by_layer: dict[int, list[dict[str, dict[str, float]]]] = {L: [] for L in layers}
    id2label = list(label2id)
    for L in layers:
        for seed in seeds:
            pr = train_linear_probe(Xtr[L], ytr, len(label2id), seed=seed, epochs=epochs)
            sc: dict[str, dict[str, float]] = {}
            for e, X in evals:
                pred = predict_probe(pr, X[L])
                if kind is TaskType.TOKEN:
                    it = iter(pred.tolist())
                    p_lab = [[id2label[next(it)] for _ in x.labels] for x in e.examples]
                    s = score_token_predictions([list(x.labels) for x in e.examples], p_lab, metric)["score"]
                else:
                    s = 100.0 * float(np.mean([id2label[int(p)] == x.label for p, x in zip(pred, e.examples)]))
                sc.setdefault(e.suite, {})[e.lang] = s
            by_layer[L].append(sc)
    best = max(layers, key=lambda L: aggregate_scores(
        {lang: [s[data.primary_suite][lang] for s in by_layer[L]] for lang in by_layer[L][0][data.primary_suite]},
        data.train_lang)["average_zero_shot"]["mean"] if len(by_layer[L][0][data.primary_suite]) > 1 else 0.0)
    per_layer = {str(L): build_payload(data.task.value, metric, data.primary_suite, data.train_lang, by_layer[L], {})
                 for L in layers}
    payload = build_payload(data.task.value, metric, data.primary_suite, data.train_lang, by_layer[best], {
        "train_lang": data.train_lang, "seeds": seeds, "labels": list(data.labels),
        "mode": "layer-probe (frozen encoder, softmax probe on cached vectors)", "best_layer": best,
        "layers": layers, "per_layer": per_layer, "data_notes": data.notes,
        "label_reports": {f"{e.suite}:{e.lang}": e.label_report for e in data.evals},
        "cost": {"train_examples": len(data.train)},
        "probe_features": "word vectors (extractor mean pooling)" if kind is TaskType.TOKEN else "[u, v, |u-v|, u*v]",
    })
    prov = Provenance.collect(config={"probe_layers": layers, "seeds": seeds, "epochs": epochs},
                              model=encoder.provenance, layers=layers, datasets=data.datasets)
    rec = record("transfer-layer-probe", payload, prov)
    out.mkdir(parents=True, exist_ok=True)
    rec.save(out / "transfer.json")
    md = [f"# Layer probes: {data.task.value} ({metric}); best layer by zero-shot average: {best}\n",
          "| layer | " + " | ".join(per_layer[str(layers[0])]["per_language"]) + " | zero-shot avg |",
          "|---|" + "---|" * (len(per_layer[str(layers[0])]["per_language"]) + 1)]
    for L in layers:
        pl = per_layer[str(L)]
        avg = pl["average_zero_shot"]["mean"] if pl["average_zero_shot"] else float("nan")
        md.append(f"| {L} | " + " | ".join(f"{v['mean']:.1f}" for v in pl["per_language"].values()) + f" | {avg:.1f} |")
    atomic_write_text(out / "transfer.md", "\n".join(md) + "\n")
    bar_chart(payload, out / "transfer_by_language", title=f"{data.task.value}: probe at best layer {best}")
    return rec


if __name__ == "__main__":  # pragma: no cover
    from mbert_lab.cli import main

    sys.exit(main(["transfer", *sys.argv[1:]]))


DEMO_LANGS = ("en", "de", "fr", "es", "ru", "zh", "ar")


def demo_section(ctx: Any, n_train: int = 200, n_eval: int = 100, layers: tuple[int, ...] = (4, 8, 12)) -> str:
    """SMOKE DEMO (not a transfer result): a frozen-encoder POS probe on a handful of sentences.

    Trains a softmax probe on ``n_train`` English UD sentences (XTREME train-en.tsv) per layer
    and tags the first ``n_eval`` PUD sentences of 7 languages. Needs the data mirror
    (``$MBERT_LAB_DATA``); without it the section says so and writes nothing. The real
    figures come from ``mbert-lab transfer`` (several seeds, fine-tuning).
    """
    import numpy as np

    from mbert_lab.errors import MbertLabError
    from mbert_lab.paths import data_root
    from mbert_lab.results import record
    from mbert_lab.transfer.data import load_task_data
    from mbert_lab.transfer.probe import predict_probe, train_linear_probe
    from mbert_lab.transfer.report import bar_chart, build_payload

    out = ctx.out / "transfer"
    try:
        data = load_task_data("pos", data_root(), eval_langs=DEMO_LANGS, max_train=n_train, max_eval=n_eval,
                              suites=["pud"])
    except MbertLabError as e:
        return f"transfer (smoke demo): not run, the POS data is not available ({e}); see `mbert-lab transfer --help`"
    layers = tuple(L for L in layers if L <= ctx.encoder.num_layers) or (ctx.encoder.num_layers,)
    label2id = {lab: i for i, lab in enumerate(data.labels)}
    tr = ctx.extract([list(e.words) for e in data.train], layers, outputs=("word",))
    ytr = np.asarray([label2id[lab] for e in data.train for lab in e.labels])
    scores: dict[int, dict[str, float]] = {}
    ev_corpora = {e.lang: (e, ctx.extract([list(x.words) for x in e.examples], layers, outputs=("word",)))
                  for e in data.evals}
    id2label = list(label2id)
    for L in layers:
        pr = train_linear_probe(tr.word_matrix(L), ytr, len(label2id), seed=0, epochs=10)
        for lang, (e, c) in ev_corpora.items():
            gold = [lab for x in e.examples for lab in x.labels]
            pred = [id2label[int(i)] for i in predict_probe(pr, c.word_matrix(L))]
            scores.setdefault(L, {})[lang] = 100.0 * float(np.mean([g == p for g, p in zip(gold, pred)]))
    best = max(layers, key=lambda L: np.mean([v for k, v in scores[L].items() if k != "en"]))
    payload = build_payload("pos", "accuracy", "pud", "en", [{"pud": scores[best]}], {
        "train_lang": "en", "smoke_demo": True, "best_layer": best, "layers": list(layers),
        "per_layer": {str(L): scores[L] for L in layers}, "n_train_sentences": n_train, "n_eval_sentences": n_eval,
        "note": "SMOKE DEMO: frozen encoder + softmax probe, one seed, a handful of sentences; not a transfer result",
    })
    prov = ctx.provenance({"n_train": n_train, "n_eval": n_eval, "probe": "softmax", "seed": 0}, layers, "word-mean")
    record("demo.transfer", payload, prov).save(out / "transfer_smoke.json")
    bar_chart(payload, out / "transfer_smoke", title=f"SMOKE DEMO: POS probe, layer {best}, {n_train} English sentences")
    avg = payload["average_zero_shot"]["mean"]
    return (
        f"transfer (SMOKE DEMO, frozen-encoder POS probe on {n_train} English sentences, {n_eval} PUD sentences per "
        f"language): best layer {best}, English {scores[best]['en']:.1f}, zero-shot average {avg:.1f} "
        f"({', '.join(f'{k} {v:.0f}' for k, v in scores[best].items() if k != 'en')}); "
        f"real runs: `mbert-lab transfer`; plot: {out / 'transfer_smoke.png'}"
    )
