"""A trained transfer model as a folder: train once, evaluate many.

The folder is a Hugging Face model folder that :func:`mbert_lab.models.registry.load_encoder`
loads (the fine-tuned encoder, safetensors, and its tokenizer), plus

- ``transfer_head.safetensors``: the classification head (``weight``, ``bias``);
- ``transfer_head.json``: task, label map (index order), pooling, max lengths, the parallel
  split of XNLI/PAWS-X, seed, the training run's fingerprint and source model;
- ``mbert_lab_manifest.json``: what :func:`load_encoder` reads (pooler or not, weights hash);
- ``transfer_manifest.json``: the sha256 of every other file, verified on load (a changed,
  missing or extra file is an error).

For ``mode = "probe"`` the encoder is cut after the probed layer and saved with that many
layers, so the folder's last layer is the one the head reads.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import sha256_file

FORMAT = "mbert-lab-transfer-checkpoint/1"
HEAD = "transfer_head.safetensors"
META = "transfer_head.json"
MANIFEST = "transfer_manifest.json"


def save_model_dir(d: Path, model: Any, tokenizer: Any, meta: dict[str, Any]) -> Path:
    """Write the folder atomically (a temporary sibling renamed into place)."""
    from safetensors.torch import save_file

    d = Path(d)
    tmp = d.with_name(f".{d.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    enc = model.encoder
    read_layer = meta.get("read_layer")
    if read_layer is not None and hasattr(enc.config, "num_hidden_layers"):
        enc.config.num_hidden_layers = int(read_layer)
    enc.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    head = {k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}
    save_file(head, str(tmp / HEAD))
    (tmp / META).write_text(json.dumps({"format": FORMAT, **meta}, indent=2, ensure_ascii=False) + "\n")
    reg: dict[str, Any] = {"has_pooler": getattr(enc, "pooler", None) is not None}  # read by load_encoder
    if (tmp / "model.safetensors").exists():
        reg["weights_sha256"] = sha256_file(tmp / "model.safetensors")
    (tmp / "mbert_lab_manifest.json").write_text(json.dumps(reg, indent=2) + "\n")
    files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    (tmp / MANIFEST).write_text(json.dumps({"format": FORMAT, "files": files}, indent=2) + "\n")
    if d.exists():
        shutil.rmtree(d)
    tmp.replace(d)
    return d


def verify_model_dir(d: str | Path) -> dict[str, Any]:
    """Check the manifest (every file present with its sha256, nothing extra); return the head
    metadata. Raises InputError naming the folder or the file."""
    d = Path(d)
    if not d.is_dir():
        raise InputError("checkpoint: no such folder" if not d.exists() else "checkpoint: expected a folder", d)
    if not (d / MANIFEST).is_file():
        raise InputError(f"checkpoint: no {MANIFEST} (not a folder written by `mbert-lab transfer train`)", d)
    from ..models.checkpoint import verify_checkpoint

    verify_checkpoint(d)  # every file present with its sha256, nothing extra
    return json.loads((d / META).read_text(encoding="utf-8"))


def load_model_dir(d: str | Path, device: str = "cpu", meta: dict[str, Any] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """``(encoder, TransferModel, meta)`` of a verified folder, in eval mode on ``device``."""
    from safetensors.torch import load_file

    from ..models.registry import load_encoder
    from .model import TransferModel
    from .tasks import TaskType

    meta = meta if meta is not None else verify_model_dir(d)
    enc = load_encoder(str(d), device=device)
    model = TransferModel(enc.model, enc.hidden_size, len(meta["labels"]), TaskType(meta["kind"]), meta["dropout"],
                          meta["pair_pooling"], meta["use_token_types"])
    model.head.load_state_dict(load_file(str(Path(d) / HEAD)))
    model.to(device).eval()
    return enc, model, meta
