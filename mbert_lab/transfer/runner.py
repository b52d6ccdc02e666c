"""Fine-tune on the source language, evaluate zero-shot; several seeds, resumable.

Per seed, everything lives under ``<out>/seed-<s>/``:

- ``result.json``: the finished seed (scores per suite and language, loss curve, timings).
  A rerun skips seeds whose result exists *for the same run fingerprint*;
- ``checkpoint.safetensors`` + ``optimizer.safetensors`` + ``state.json``: written every
  ``checkpoint_every`` steps (trainable weights, AdamW moments, step, torch RNG state); a
  killed run resumes from the last one and, because batch order is a function of
  (seed, epoch), reproduces the uninterrupted run exactly;
- ``final.safetensors``: trainable weights of the finished model (head included).

Determinism: ``random``, ``numpy`` and ``torch`` are seeded; batch order comes from
``numpy.random.default_rng([seed, epoch])``; on CPU with a fixed thread count the same seed
gives the same numbers.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import math
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..io import atomic_write_json
from .data import TaskData
from .model import (
    Features,
    Mode,
    TransferModel,
    collate,
    configure_encoder,
    featurize_pairs,
    featurize_tokens,
    length_buckets,
)
from .tasks import TASKS, TaskType

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    mode: str = Mode.FULL.value
    freeze_up_to: int = 0  # frozen-lower: freeze layers 0..K (0 = embeddings only)
    probe_layer: int | None = None  # probe: the layer read (None: last)
    lr: float = 5e-5  # encoder learning rate
    head_lr: float | None = None  # head learning rate (default: lr; probe: lr)
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 32
    max_length: int = 128
    eval_max_length: int | None = None  # default: the model's maximum (no truncation in eval)
    eval_batch_size: int = 64
    warmup: float = 0.1  # fraction of steps with linear warm-up, then linear decay to 0
    weight_decay: float = 0.01
    dropout: float = 0.1
    grad_clip: float = 1.0
    word_pooling: str = "first"  # token tasks: "first" content subword or "mean"
    pair_pooling: str = "mean"  # pair tasks: "mean" over tokens or "cls"
    checkpoint_every: int = 200
    keep_final: bool = True
    device: str = "cpu"  # torch device of the run (not part of the fingerprint)

    def __post_init__(self) -> None:
        Mode.parse(self.mode)
        if self.epochs < 1 and not self.max_steps:
            raise ConfigError("--epochs must be >= 1")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ConfigError("--batch-size must be >= 1")
        if self.lr <= 0:
            raise ConfigError("--lr must be > 0")
        if not 0 <= self.warmup < 1:
            raise ConfigError("--warmup is a fraction of the steps in [0, 1)")
        if self.word_pooling not in ("first", "mean"):
            from ..errors import choice_error

            raise choice_error("word pooling", self.word_pooling, ("first", "mean"))

    def fingerprint_fields(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("checkpoint_every", "keep_final", "eval_batch_size", "device"):
            d.pop(k)
        return d


@dataclass
class SeedResult:
    seed: int
    scores: dict[str, dict[str, float]]  # suite -> lang -> score (0..100)
    details: dict[str, dict[str, dict[str, Any]]]
    loss_curve: list[tuple[int, float]]
    train_examples: int
    steps: int
    train_seconds: float
    eval_seconds: float
    train_examples_per_s: float
    resumed_from_step: int = 0
    fingerprint: str = ""
    train_info: dict[str, Any] = field(default_factory=dict)
    reused: bool = False  # loaded from an earlier run's result.json (not trained now)


class TrainingInterrupted(RuntimeError):
    """Raised by the ``interrupt_after_steps`` hook (tests simulate a killed run with it)."""


def set_seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def run_fingerprint(encoder: Any, data: TaskData, cfg: TrainConfig) -> str:
    """Everything a seed's result depends on, hashed: model, data, labels, config."""
    d = {
        "model": encoder.model_id,
        "revision": encoder.revision,
        "weights": encoder.weights_sha256,
        "task": data.task.value,
        "labels": list(data.labels),
        "train": hashlib.sha256(json.dumps([dataclasses.astuple(x) for x in data.train]).encode()).hexdigest(),
        "evals": [(e.suite, e.lang, len(e.examples)) for e in data.evals],
        "datasets": [dataclasses.asdict(p) for p in data.datasets],
        "config": cfg.fingerprint_fields(),
    }
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:20]


# --------------------------------------------------------------------------- metrics


def score_token_predictions(gold: list[list[str]], pred: list[list[str | None]], metric: str) -> dict[str, Any]:
    """Word accuracy or seqeval span F1 (x100). ``None`` predictions (words the model could
    not see) count as wrong / as ``O``."""
    n_words = sum(len(g) for g in gold)
    n_none = sum(p is None for ps in pred for p in ps)
    if metric == "accuracy":
        correct = sum(int(p == g) for gs, ps in zip(gold, pred) for g, p in zip(gs, ps))
        return {"score": 100.0 * correct / max(n_words, 1), "n_sentences": len(gold), "n_words": n_words,
                "n_unscored_words": n_none}
    from seqeval.metrics import f1_score, precision_score, recall_score

    p2 = [[x if x is not None else "O" for x in ps] for ps in pred]
    return {
        "score": 100.0 * float(f1_score(gold, p2)),
        "precision": 100.0 * float(precision_score(gold, p2)),
        "recall": 100.0 * float(recall_score(gold, p2)),
        "n_sentences": len(gold),
        "n_words": n_words,
        "n_unscored_words": n_none,
    }


# ----------------------------------------------------------------------- checkpoints


def _trainable_state(model: Any) -> dict[str, Any]:
    return {n: p.detach().cpu().clone().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(d: Path, model: Any, optim: Any, step: int, fingerprint: str) -> None:
    import torch
    from safetensors.torch import save_file

    d.mkdir(parents=True, exist_ok=True)
    names = {id(p): n for n, p in model.named_parameters()}
    opt_tensors: dict[str, Any] = {}
    for group in optim.param_groups:
        for p in group["params"]:
            st = optim.state.get(p)
            if not st:
                continue
            for k, v in st.items():
                t = v if torch.is_tensor(v) else torch.tensor(v)
                opt_tensors[f"{names[id(p)]}::{k}"] = t.detach().cpu().clone().contiguous()
    opt_tensors["__torch_rng_state__"] = torch.get_rng_state()
    tmp_w = d / ".checkpoint.safetensors.tmp"
    tmp_o = d / ".optimizer.safetensors.tmp"
    save_file(_trainable_state(model), str(tmp_w))
    save_file(opt_tensors, str(tmp_o))
    tmp_w.replace(d / "checkpoint.safetensors")
    tmp_o.replace(d / "optimizer.safetensors")
    atomic_write_json(d / "state.json", {"step": step, "fingerprint": fingerprint})


def load_checkpoint(d: Path, model: Any, optim: Any, fingerprint: str) -> int:
    """Restore weights, optimizer moments and RNG state; return the step (0: nothing to resume)."""
    from safetensors.torch import load_file

    sp = d / "state.json"
    if not sp.exists() or not (d / "checkpoint.safetensors").exists() or not (d / "optimizer.safetensors").exists():
        return 0
    state = json.loads(sp.read_text())
    if state.get("fingerprint") != fingerprint:
        log.warning("checkpoint in %s belongs to another configuration; starting this seed afresh", d)
        return 0
    import torch

    weights = load_file(str(d / "checkpoint.safetensors"))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for n, t in weights.items():
            params[n].copy_(t)
    opt = load_file(str(d / "optimizer.safetensors"))
    dev = next(iter(params.values())).device
    for n, p in params.items():
        if not p.requires_grad:
            continue
        st = {k.split("::", 1)[1]: (v if k.endswith("::step") else v.to(dev)) for k, v in opt.items()
              if k.split("::", 1)[0] == n}
        if st:
            optim.state[p] = st
    torch.set_rng_state(opt["__torch_rng_state__"])
    return int(state["step"])


# ---------------------------------------------------------------------------- runner


@dataclass
class Prepared:
    """Tokenized train and eval data (shared by all seeds)."""

    label2id: dict[str, int]
    train: list[Features]
    evals: list[tuple[str, str, list[Features], list[Any]]]  # suite, lang, features, examples
    pad_id: int
    use_token_types: bool


def prepare(encoder: Any, data: TaskData, cfg: TrainConfig) -> Prepared:
    tok = encoder.tokenizer
    label2id = {lab: i for i, lab in enumerate(data.labels)}
    kind = TASKS[data.task].type
    emax = int(cfg.eval_max_length or encoder.max_length)
    if cfg.max_length > encoder.max_length or emax > encoder.max_length:
        raise ConfigError(f"max length exceeds the model's maximum {encoder.max_length}")
    use_tt = int(getattr(encoder.model.config, "type_vocab_size", 1) or 1) > 1
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0

    def feats(exs: Sequence[Any], ml: int) -> list[Features]:
        if kind is TaskType.TOKEN:
            return featurize_tokens(tok, exs, label2id, ml)
        return featurize_pairs(tok, exs, label2id, ml, use_tt)

    train = feats(data.train, cfg.max_length)
    evals = [(e.suite, e.lang, feats(e.examples, emax), e.examples) for e in data.evals]
    return Prepared(label2id, train, evals, pad, use_tt)


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if warmup and step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def train_seed(
    encoder: Any,
    data: TaskData,
    prep: Prepared,
    cfg: TrainConfig,
    seed: int,
    seed_dir: Path | None,
    fingerprint: str = "",
    progress: bool = True,
    interrupt_after_steps: int | None = None,
    on_step: Callable[[int, float], None] | None = None,
    save_model: bool = False,
) -> SeedResult:
    """Train one seed from the pristine ``encoder`` weights and evaluate every eval set."""
    import torch

    mode = Mode.parse(cfg.mode)
    kind = TASKS[data.task].type
    set_seed(seed)
    enc_model = copy.deepcopy(encoder.model)
    info = configure_encoder(enc_model, encoder.num_layers, mode, cfg.freeze_up_to, cfg.probe_layer)
    model = TransferModel(enc_model, encoder.hidden_size, len(prep.label2id), kind, cfg.dropout,
                          cfg.pair_pooling, prep.use_token_types).to(cfg.device)
    head_lr = cfg.head_lr if cfg.head_lr is not None else cfg.lr
    decay, no_decay, head = [], [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if n.startswith("head."):
            head.append(p)
        elif p.ndim < 2:
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay, "base_lr": cfg.lr},
        {"params": no_decay, "weight_decay": 0.0, "base_lr": cfg.lr},
        {"params": head, "weight_decay": cfg.weight_decay, "base_lr": head_lr},
    ]
    groups = [g for g in groups if g["params"]]
    optim = torch.optim.AdamW([{**g, "lr": g["base_lr"]} for g in groups], lr=cfg.lr)
    lengths = np.asarray([f.length for f in prep.train])
    steps_per_epoch = math.ceil(len(prep.train) / cfg.batch_size)
    total = cfg.max_steps or steps_per_epoch * cfg.epochs
    warm = int(cfg.warmup * total)
    start = 0
    if seed_dir is not None:
        start = load_checkpoint(seed_dir, model, optim, fingerprint)
        if start:
            log.info("seed %d: resuming at step %d/%d", seed, start, total)
    step = start
    curve: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    seen = 0
    bar = _bar(total, f"train seed {seed}", progress, initial=start)
    ema = None
    model.train()
    if mode is Mode.PROBE:
        model.encoder.eval()
    epoch = step // steps_per_epoch
    while step < total:
        batches = length_buckets(lengths, cfg.batch_size, np.random.default_rng([seed, epoch]))
        for bi in range(step - epoch * steps_per_epoch, len(batches)):
            if step >= total:
                break
            idx = batches[bi]
            batch = _to(collate([prep.train[int(i)] for i in idx], prep.pad_id, cfg.word_pooling), cfg.device)
            labels = batch.pop("labels")
            for g in optim.param_groups:
                g["lr"] = g["base_lr"] * _lr_factor(step, total, warm)
            logits = model(**batch)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                     ignore_index=-100)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_([p for g in optim.param_groups for p in g["params"]], cfg.grad_clip)
            optim.step()
            step += 1
            seen += len(idx)
            lv = float(loss.detach())
            ema = lv if ema is None else 0.9 * ema + 0.1 * lv
            curve.append((step, lv))
            if on_step is not None:
                on_step(step, lv)
            el = time.perf_counter() - t0
            bar.update(1)
            bar.set_postfix(loss=f"{ema:.3f}", ex_s=f"{seen / max(el, 1e-9):.1f}")
            if seed_dir is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < total:
                save_checkpoint(seed_dir, model, optim, step, fingerprint)
            if interrupt_after_steps is not None and step - start >= interrupt_after_steps and step < total:
                if seed_dir is not None:
                    save_checkpoint(seed_dir, model, optim, step, fingerprint)
                bar.close()
                raise TrainingInterrupted(f"interrupted at step {step}")
        epoch += 1
    bar.close()
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    scores, details = evaluate(model, prep, data, cfg, progress)
    eval_s = time.perf_counter() - t1
    if seed_dir is not None and cfg.keep_final:
        from safetensors.torch import save_file

        seed_dir.mkdir(parents=True, exist_ok=True)
        tmp = seed_dir / ".final.safetensors.tmp"
        save_file(_trainable_state(model), str(tmp), metadata={"fingerprint": fingerprint, "seed": str(seed),
                                                               "labels": json.dumps(list(prep.label2id))})
        tmp.replace(seed_dir / "final.safetensors")
    if seed_dir is not None and save_model:
        from .checkpoint import save_model_dir

        save_model_dir(seed_dir / "model", model, encoder.tokenizer,
                       model_meta(encoder, data, prep, cfg, seed, fingerprint, info))
    return SeedResult(
        seed=seed,
        scores=scores,
        details=details,
        loss_curve=curve,
        train_examples=len(prep.train),
        steps=step,
        train_seconds=train_s,
        eval_seconds=eval_s,
        train_examples_per_s=seen / max(train_s, 1e-9),
        resumed_from_step=start,
        fingerprint=fingerprint,
        train_info={**info, "total_steps": total, "warmup_steps": warm, "steps_per_epoch": steps_per_epoch},
    )


def model_meta(encoder: Any, data: TaskData, prep: Prepared, cfg: TrainConfig, seed: int, fingerprint: str,
               info: dict[str, Any]) -> dict[str, Any]:
    """What a saved model folder needs to be evaluated again exactly as in training."""
    split = data.notes.get("split") or {}
    return {
        "task": data.task.value, "kind": TASKS[data.task].type.value, "labels": list(prep.label2id),
        "train_lang": data.train_lang, "mode": cfg.mode,
        "read_layer": info.get("read_layer") if cfg.mode == Mode.PROBE.value else None,
        "word_pooling": cfg.word_pooling, "pair_pooling": cfg.pair_pooling, "dropout": cfg.dropout,
        "use_token_types": prep.use_token_types, "max_length": cfg.max_length,
        "eval_max_length": cfg.eval_max_length, "eval_batch_size": cfg.eval_batch_size,
        "split_fraction": split.get("train_fraction"), "split_seed": split.get("split_seed"),
        "seed": seed, "fingerprint": fingerprint,
        "source_model": {"id": encoder.model_id, "revision": encoder.revision, "weights_sha256": encoder.weights_sha256},
    }


def predict(model: Any, feats: list[Features], cfg: TrainConfig, pad_id: int, id2label: list[str]) -> list[Any]:
    """Predicted labels: per word (token tasks; None for words without pieces) or per pair."""
    import torch

    model.eval()
    lengths = np.asarray([f.length for f in feats])
    order = np.argsort(-lengths, kind="stable")
    out: list[Any] = [None] * len(feats)
    with torch.inference_mode():
        for s in range(0, len(order), cfg.eval_batch_size):
            idx = order[s : s + cfg.eval_batch_size]
            fb = [feats[int(i)] for i in idx]
            batch = _to(collate(fb, pad_id, cfg.word_pooling), cfg.device)
            batch.pop("labels")
            pred = model(**batch).argmax(-1).cpu().numpy()
            for j, i in enumerate(idx):
                f = feats[int(i)]
                if f.word_pieces is not None:
                    out[int(i)] = [id2label[int(pred[j, w])] if ps else None for w, ps in enumerate(f.word_pieces)]
                else:
                    out[int(i)] = id2label[int(pred[j])]
    return out


def evaluate(model: Any, prep: Prepared, data: TaskData, cfg: TrainConfig, progress: bool = True
             ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, Any]]]]:
    metric = TASKS[data.task].metric
    kind = TASKS[data.task].type
    id2label = list(prep.label2id)
    scores: dict[str, dict[str, float]] = {}
    details: dict[str, dict[str, dict[str, Any]]] = {}
    cache: dict[tuple[str, int], list[Any]] = {}  # suites sharing the same inputs predict once
    bar = _bar(len(prep.evals), "evaluate", progress)
    for suite, lang, feats, exs in prep.evals:
        key = (lang, id(exs[0].words) if kind is TaskType.TOKEN else id(exs[0].text_a))
        if key not in cache:
            cache[key] = predict(model, feats, cfg, prep.pad_id, id2label)
        pred = cache[key]
        if kind is TaskType.TOKEN:
            d = score_token_predictions([list(e.labels) for e in exs], pred, metric)
        else:
            correct = sum(int(p == e.label) for p, e in zip(pred, exs))
            d = {"score": 100.0 * correct / len(exs), "n_pairs": len(exs)}
        scores.setdefault(suite, {})[lang] = d["score"]
        details.setdefault(suite, {})[lang] = d
        bar.update(1)
    bar.close()
    return scores, details


def run_seeds(
    encoder: Any,
    data: TaskData,
    cfg: TrainConfig,
    seeds: Sequence[int],
    out_dir: str | Path | None,
    progress: bool = True,
    overwrite: bool = False,
    interrupt_after_steps: int | None = None,
    save_model: bool = False,
) -> list[SeedResult]:
    """Run (or resume) every seed; finished seeds with a matching fingerprint are loaded."""
    if not seeds:
        raise ConfigError("no seeds to run")
    fp = run_fingerprint(encoder, data, cfg)
    out = Path(out_dir) if out_dir is not None else None
    prep: Prepared | None = None
    results: list[SeedResult] = []
    for seed in seeds:
        sd = out / f"seed-{seed}" if out is not None else None
        rp = sd / "result.json" if sd is not None else None
        if sd is not None and overwrite and sd.exists():
            shutil.rmtree(sd)
        if rp is not None and rp.exists():
            d = json.loads(rp.read_text())
            if d.get("fingerprint") == fp:
                log.info("seed %d: finished earlier, loaded %s", seed, rp)
                d["loss_curve"] = [tuple(x) for x in d["loss_curve"]]
                d["reused"] = True
                results.append(SeedResult(**d))
                continue
            raise ConfigError(
                f"{rp} was produced by a different configuration/data/model (fingerprint {d.get('fingerprint')} "
                f"!= {fp}); use another --out or --overwrite"
            )
        if prep is None:
            prep = prepare(encoder, data, cfg)
        r = train_seed(encoder, data, prep, cfg, seed, sd, fp, progress, interrupt_after_steps,
                       save_model=save_model)
        if rp is not None and sd is not None:
            atomic_write_json(rp, dataclasses.asdict(r))
            for f in ("checkpoint.safetensors", "optimizer.safetensors", "state.json"):
                (sd / f).unlink(missing_ok=True)
        results.append(r)
    return results


def _to(batch: dict[str, Any], device: str) -> dict[str, Any]:
    return batch if device == "cpu" else {k: v.to(device) for k, v in batch.items()}


def _bar(total: int, desc: str, enabled: bool, initial: int = 0) -> Any:
    if not enabled:
        from ..encode.extractor import _NoBar

        class _B(_NoBar):
            def set_postfix(self, **kw: Any) -> None:
                pass

        return _B()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, initial=initial, file=sys.stderr, mininterval=2.0)
