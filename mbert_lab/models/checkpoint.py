"""Model folders written by mbert-lab training (``align-train``; the transfer folders use the
same manifest structure under ``transfer_manifest.json``): an ordinary Hugging Face model folder
(safetensors + tokenizer) that :func:`mbert_lab.models.registry.load_encoder` loads, plus

- ``mbert_lab_manifest.json``: pooler or not and the weights' sha256 (read by ``load_encoder``);
- ``<meta file>``: what the training recorded (base model, data checksums, layer, method...);
- ``checkpoint_manifest.json``: format, the sha256 of every other file, and the ``layer`` /
  ``method`` / ``softmax_threshold`` the folder was trained for. Verified on every
  ``load_encoder``: a changed, missing or extra file is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import sha256_file

MANIFEST = "checkpoint_manifest.json"
MANIFESTS = (MANIFEST, "transfer_manifest.json")


def save_checkpoint(d: str | Path, model: Any, tokenizer: Any, meta_name: str, meta: dict[str, Any],
                    manifest_extra: dict[str, Any]) -> Path:
    """Write the folder atomically (a temporary sibling renamed into place)."""
    d = Path(d)
    tmp = d.with_name(f".{d.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / meta_name).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    reg: dict[str, Any] = {"has_pooler": getattr(model, "pooler", None) is not None}
    if (tmp / "model.safetensors").exists():
        reg["weights_sha256"] = sha256_file(tmp / "model.safetensors")
    (tmp / "mbert_lab_manifest.json").write_text(json.dumps(reg, indent=2) + "\n")
    files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    man = {"format": "mbert-lab-checkpoint/1", **manifest_extra, "files": files}
    (tmp / MANIFEST).write_text(json.dumps(man, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if d.exists():
        shutil.rmtree(d)
    tmp.replace(d)
    return d


def manifest_of(d: str | Path) -> tuple[Path, dict[str, Any]] | None:
    """``(path, manifest)`` of a checkpoint folder, or None when ``d`` is not one."""
    d = Path(d)
    for name in MANIFESTS:
        p = d / name
        if p.is_file():
            try:
                man = json.loads(p.read_text(encoding="utf-8"))
                if not isinstance(man.get("files"), dict):
                    raise TypeError("no 'files' table")
            except (ValueError, TypeError, AttributeError) as e:
                raise InputError(f"checkpoint: unreadable manifest ({e})", p) from None
            return p, man
    return None


def verify_checkpoint(d: str | Path) -> dict[str, Any] | None:
    """Check every file against the manifest (present, same sha256, nothing extra); return the
    manifest, or None when the folder has none (an ordinary model folder)."""
    found = manifest_of(d)
    if found is None:
        return None
    man_path, man = found
    d = Path(d)
    files = man["files"]
    present = {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()} - {man_path.name}
    for name in sorted(set(files) - present):
        raise InputError(f"checkpoint: file listed in the manifest is missing: {name}", d)
    for name in sorted(present - set(files)):
        raise InputError(f"checkpoint: file not in the manifest: {name}", d / name)
    for name, digest in files.items():
        if sha256_file(d / name) != digest:
            raise InputError("checkpoint: sha256 does not match the manifest (file changed or corrupt)", d / name)
    return man


def checkpoint_layer(model: str) -> int | None:
    """The layer a checkpoint folder was trained for (its manifest's ``layer``), else None."""
    p = Path(str(model)).expanduser()
    if not p.is_dir():
        return None
    found = manifest_of(p)
    layer = found[1].get("layer") if found else None
    return int(layer) if isinstance(layer, int) and not isinstance(layer, bool) else None


def training_data(model: str | Path) -> dict[str, str]:
    """sha256 -> ``"<dataset>: <file>"`` of every file an ``align-train`` checkpoint was trained
    on (its ``align_train.json``'s ``data``); empty for any other folder or model id."""
    p = Path(str(model)).expanduser()
    found = manifest_of(p) if p.is_dir() else None
    if not found or found[1].get("kind") != "align_train" or not (p / "align_train.json").is_file():
        return {}
    try:
        meta = json.loads((p / "align_train.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"checkpoint: unreadable align_train.json ({e})", p / "align_train.json") from None
    out: dict[str, str] = {}
    for d in meta.get("data", ()):
        for f, digest in (d.get("files") or {}).items():
            out[str(digest)] = f"{d.get('name', '?')}: {f}"
    return out
