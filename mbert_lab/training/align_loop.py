"""The alignment fine-tuning loop: deterministic batches, AdamW with linear decay, resume
points (trainable weights, optimiser and RNG state) and the dev-AER curve.

Only the layers up to the trained one run in the forward pass (the layers above cannot
change the loss); the frozen ones and those above get no update. Without dropout (the
default) one forward pass gives both the self-training targets and the loss, which equals
awesome-align's targets from a dropout-free pass."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError

UNTRAINED = ("train_dir", "threads", "device", "resume", "cache")


@dataclass
class TrainRun:
    encoder: Any
    fingerprint: str
    curve: list[Any] = field(default_factory=list)
    chosen_step: int = 0
    chosen_on: str = "last"
    resumed_from: int = 0
    pairs_per_s: float = 0.0
    best: dict[str, Any] | None = None
    best_score: float | None = None


def fingerprint(config: Any, enc: Any, pairs: list[tuple[str, str]]) -> str:
    """What a resumed run must share with the stopped one: training fields, base weights, data."""
    h = hashlib.sha256()
    d = {k: v for k, v in config.to_dict().items() if k not in UNTRAINED}
    h.update(json.dumps(d, sort_keys=True, default=str).encode())
    h.update(str(enc.weights_sha256).encode())
    for s, t in pairs:
        h.update(f"{s}\t{t}\n".encode())
    return h.hexdigest()


def batch_plan(n: int, batch: int, steps: int, seed: int) -> list[list[int]]:
    """Pair indices of every step: seeded epoch permutations, concatenated."""
    import numpy as np

    order: list[int] = []
    e = 0
    while len(order) < steps * batch:
        order += [int(x) for x in np.random.default_rng([seed, e]).permutation(n)]
        e += 1
    return [order[s * batch:(s + 1) * batch] for s in range(steps)]


def trainable_params(model: Any, layer: int, frozen: tuple[int, ...]) -> list[tuple[str, Any]]:
    """Unfreeze the embeddings (0) and blocks 1..layer not in ``frozen``; freeze the rest."""
    if not (hasattr(model, "embeddings") and hasattr(getattr(model, "encoder", None), "layer")):
        raise ConfigError("model: align_train needs a BERT-style encoder (embeddings + encoder.layer)")
    model.requires_grad_(False)
    if 0 not in frozen:
        model.embeddings.requires_grad_(True)
    for i in range(1, layer + 1):
        if i not in frozen:
            model.encoder.layer[i - 1].requires_grad_(True)
    out = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not out:
        raise ConfigError(f"frozen_layers: every layer up to {layer} is frozen; nothing to train")
    return out


def hidden_at(model: Any, layer: int, inputs: dict[str, Any]) -> Any:
    """The hidden states after block ``layer`` (only blocks 1..layer run)."""
    full = model.encoder.layer
    model.encoder.layer = full[:layer]
    try:
        return model(**inputs).last_hidden_state
    finally:
        model.encoder.layer = full


def tokenize(enc: Any, texts: list[str], max_length: int, device: str) -> tuple[dict[str, Any], Any]:
    """Words split on whitespace -> model inputs and the content mask (no special tokens, no
    padding, no lone '▁' pieces)."""
    tok = enc.tokenizer
    b = tok([t.split() or [t] for t in texts], is_split_into_words=True, truncation=True, max_length=max_length,
            padding=True, return_tensors="pt", return_special_tokens_mask=True)
    special = b.pop("special_tokens_mask")
    mask = (b["attention_mask"] == 1) & (special == 0)
    lone = tok.convert_tokens_to_ids("▁") if "▁" in tok.get_vocab() else None
    if lone is not None:
        mask &= b["input_ids"] != lone
    return {k: v.to(device) for k, v in b.items()}, mask.to(device)


def train_step(enc: Any, opt: Any, batch: list[tuple[str, str]], config: Any, objectives: tuple[str, ...],
               lr: float) -> dict[str, float]:
    """One update on one batch; both sides in one forward pass. Returns each loss and the total."""
    import torch

    from .align_losses import alignment_probs, objective_losses, self_training_guide

    model, layer = enc.model, config.layer
    inputs, mask = tokenize(enc, [s for s, _ in batch] + [t for _, t in batch], config.max_length or enc.max_length,
                            config.device)
    n = len(batch)
    guide = None
    if config.dropout and "so" in objectives:
        model.eval()
        with torch.no_grad():
            h = hidden_at(model, layer, inputs)
            guide = self_training_guide(*alignment_probs(h[:n], h[n:], mask[:n], mask[n:]), config.threshold)
        model.train()
    h = hidden_at(model, layer, inputs)
    losses = objective_losses(h[:n], h[n:], mask[:n], mask[n:], objectives, config.threshold,
                              config.temperature, guide)
    total = sum(losses.values())
    for g in opt.param_groups:
        g["lr"] = lr
    opt.zero_grad(set_to_none=True)
    total.backward()
    opt.step()
    return {"loss": float(total.detach()), **{k: float(v.detach()) for k, v in losses.items()}}


# ---------------------------------------------------------------------------- resume state


def _tensors(params: list[tuple[str, Any]]) -> dict[str, Any]:
    return {n: p.detach().cpu().clone().contiguous() for n, p in params}


def save_state(rdir: Path, run: TrainRun, params: list[tuple[str, Any]], opt: Any, step: int) -> None:
    """Write ``rdir`` atomically: weights, optimiser + RNG state, best weights, curve."""
    import torch
    from safetensors.torch import save_file

    tmp = rdir.with_name(f".{rdir.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_file(_tensors(params), str(tmp / "weights.safetensors"))
    if run.best is not None:
        save_file(run.best, str(tmp / "best.safetensors"))
    torch.save({"optimizer": opt.state_dict(), "rng": torch.get_rng_state()}, tmp / "optimizer.pt")
    state = {"fingerprint": run.fingerprint, "step": step, "chosen_step": run.chosen_step,
             "best_score": run.best_score, "curve": [asdict(c) for c in run.curve]}
    (tmp / "state.json").write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    if rdir.exists():
        shutil.rmtree(rdir)
    tmp.replace(rdir)


def load_state(rdir: Path, run: TrainRun, params: list[tuple[str, Any]], opt: Any) -> int:
    """Restore a stopped run of the same fingerprint; returns the step it had reached."""
    import torch
    from safetensors.torch import load_file

    from ..studies.align_train import CurvePoint

    state = json.loads((rdir / "state.json").read_text(encoding="utf-8"))
    if state.get("fingerprint") != run.fingerprint:
        raise InputError("train_dir: holds the resume state of a different run (config, model or data changed); "
                         "use another train_dir (--out) or resume = false", rdir)
    w = load_file(str(rdir / "weights.safetensors"))
    with torch.no_grad():
        for n, p in params:
            p.copy_(w[n])
    saved = torch.load(rdir / "optimizer.pt", weights_only=True)
    opt.load_state_dict(saved["optimizer"])
    torch.set_rng_state(saved["rng"])
    if (rdir / "best.safetensors").exists():
        run.best = load_file(str(rdir / "best.safetensors"))
    run.chosen_step, run.best_score = state["chosen_step"], state["best_score"]
    run.curve = [CurvePoint(**c) for c in state["curve"]]
    return int(state["step"])


# ---------------------------------------------------------------------------- the loop


def _point(config: Any, enc: Any, run: TrainRun, params: list[tuple[str, Any]], step: int,
           acc: dict[str, list[float]]) -> None:
    """Close a curve point at ``step``: mean losses, and the dev AER when it is an eval step."""
    from ..studies.align_train import CurvePoint, evaluate, mean_dev

    losses = {k: sum(v) / len(v) for k, v in acc.items() if v}
    dev: dict[str, float] = {}
    score = None
    if config.eval_every and config.gold and (step % config.eval_every == 0 or step == config.steps):
        enc.model.eval()
        scores = evaluate(config, enc, f"align_train:{run.fingerprint[:12]}:step{step}")
        dev = {s.gold: s.dev_aer for s in scores if s.method == config.eval_methods[0]}
        score = mean_dev(scores, config.eval_methods[0])
        if config.select == "best_dev" and score is not None and (run.best_score is None or score < run.best_score):
            run.best, run.best_score, run.chosen_step = _tensors(params), score, step
    run.curve.append(CurvePoint(step, losses.pop("loss", None), losses, dev, score))
    acc.clear()


def train(config: Any, enc: Any, pairs: list[tuple[str, str]], objectives: tuple[str, ...], before: Any,
          on_step: Any = None) -> TrainRun:
    """Train ``enc.model`` in place; leave it holding the chosen step's weights."""
    import torch
    from tqdm.auto import tqdm

    from ..studies.align_train import CurvePoint, mean_dev

    run = TrainRun(enc, fingerprint(config, enc, pairs))
    params = trainable_params(enc.model, config.layer, config.frozen_layers)
    torch.manual_seed(config.seed)
    opt = torch.optim.AdamW([p for _, p in params], lr=config.lr, weight_decay=0.0)
    rdir = Path(config.train_dir).expanduser() / "resume"
    start = 0
    if rdir.exists() and not config.resume:
        shutil.rmtree(rdir)
    if rdir.exists():
        start = run.resumed_from = load_state(rdir, run, params, opt)
    else:
        run.best_score = mean_dev(before, config.eval_methods[0]) if config.select == "best_dev" else None
        run.best = _tensors(params) if run.best_score is not None else None
        run.curve = [CurvePoint(0, None, {}, {b.gold: b.dev_aer for b in before
                                              if b.method == config.eval_methods[0]}, run.best_score)]
    plan = batch_plan(len(pairs), config.batch_size, config.steps, config.seed)
    enc.model.train(config.dropout)
    log_every = config.eval_every or config.save_every
    acc: dict[str, list[float]] = {}
    t0, done = time.perf_counter(), 0
    bar = tqdm(total=config.steps, initial=start, desc="align-train", unit="step", leave=False)
    for step in range(start + 1, config.steps + 1):
        lr = config.lr * (1 - (step - 1) / config.steps)
        for k, v in train_step(enc, opt, [pairs[i] for i in plan[step - 1]], config, objectives, lr).items():
            acc.setdefault(k, []).append(v)
        done += len(plan[step - 1])
        bar.update(1)
        bar.set_postfix(loss=f"{acc['loss'][-1]:.4f}", pairs_s=f"{done / (time.perf_counter() - t0):.1f}")
        if step % log_every == 0 or step == config.steps:
            _point(config, enc, run, params, step, acc)
            enc.model.train(config.dropout)
        if step % config.save_every == 0 or step == config.steps:
            save_state(rdir, run, params, opt, step)
        if on_step is not None:
            on_step(step)
    bar.close()
    run.pairs_per_s = done / max(time.perf_counter() - t0, 1e-9)
    _choose(config, run, params)
    enc.model.eval()
    return run  # the study writes the checkpoint once the method is chosen


def _choose(config: Any, run: TrainRun, params: list[tuple[str, Any]]) -> None:
    import torch

    if config.select == "best_dev" and run.best is not None:
        run.chosen_on = "dev"
        with torch.no_grad():
            for n, p in params:
                p.copy_(run.best[n])
    else:
        run.chosen_step, run.chosen_on = config.steps, "last"
