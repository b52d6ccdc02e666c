"""The calling convention every study follows.

A study module has

- ``Config``: a frozen, keyword-only dataclass (a :class:`StudyConfig`) whose fields are
  validated at construction, so bad input fails before any model is loaded, in every client
  alike (CLI, study files, notebooks, the report, the web app);
- ``Result``: a frozen dataclass (a :class:`StudyResult`) with ``schema_version``,
  ``provenance`` and typed fields; ``Result.save(dir)`` / ``Result.load(dir)`` round-trip it
  through JSON;
- ``run(config, *, encoder=None, store=None) -> Result``: never parses argv, never prints.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, kw_only=True)
... class ToyConfig(StudyConfig):
...     study = "toy"
...     limit: int | None = None
...     def validate(self):
...         check_count("limit", self.limit, allow_none=True)
>>> ToyConfig(limit=3).to_dict()
{'limit': 3}
>>> ToyConfig(limit=0)
Traceback (most recent call last):
...
mbert_lab.errors.ConfigError: limit: must be a whole number >= 1, got 0
>>> ToyConfig.from_dict({"limt": 3}, source="s.toml")
Traceback (most recent call last):
...
mbert_lab.errors.ConfigError: s.toml: unknown key 'limt' for study 'toy' (did you mean 'limit'?); valid keys: limit
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..errors import ConfigError, InputError
from ..results import SCHEMA_VERSION, DatasetProvenance, ModelProvenance, Provenance

C = TypeVar("C", bound="StudyConfig")
R = TypeVar("R", bound="StudyResult")

DEFAULT_MODEL = "offline"  # multilingual-e5-small, 4-bit-derived weights, built locally
DEVICES = ("cpu", "cuda", "mps")


# ---------------------------------------------------------------------------- field checks


def check_count(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None, allow_none: bool = False) -> None:
    """A whole number in ``[minimum, maximum]`` (``None`` allowed when ``allow_none``)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: must be a whole number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        rng = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise ConfigError(f"{name}: must be a whole number {rng}, got {value}")


def check_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, allow_none: bool = False) -> None:
    """A finite number in a range; ``*_open`` excludes the bound."""
    import math

    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number, got {value!r}")
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        raise ConfigError(f"{name}: must be in {lo or '(-inf'}, {hi or 'inf)'}, got {value}")


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"{name}: unknown value '{value}'{hint}; valid choices: {', '.join(map(str, choices))}")


def check_choices(name: str, values: Sequence[str], choices: Sequence[str]) -> None:
    if not values:
        raise ConfigError(f"{name}: give at least one of {', '.join(choices)}")
    for v in values:
        check_choice(name, v, choices)


def check_text(name: str, value: Any, *, allow_empty: bool = False) -> None:
    """A str that is valid Unicode text (no lone surrogates from undecodable argv bytes)."""
    if not isinstance(value, str):
        raise ConfigError(f"{name}: must be text, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{name}: not valid UTF-8 text") from None
    if not allow_empty and not value.strip(" \t"):
        raise ConfigError(f"{name}: empty text")


def check_input_file(name: str, value: Any, *, allow_none: bool = False) -> None:
    """An existing, readable file (not a folder)."""
    if value is None and allow_none:
        return
    p = Path(str(value))
    if p.is_dir():
        raise InputError(f"{name}: is a folder, expected a file", p)
    if not p.exists():
        raise InputError(f"{name}: no such file", p)
    if not os.access(p, os.R_OK):
        raise InputError(f"{name}: cannot read (permission denied)", p)


def check_input_dir(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    p = Path(str(value))
    if p.exists() and not p.is_dir():
        raise InputError(f"{name}: is a file, expected a folder", p)
    if not p.is_dir():
        raise InputError(f"{name}: no such folder", p)


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be created in ``folder`` (a probe file, removed at once):
    ``os.access`` says yes to root even on folders no one can write, such as ``/proc``."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".mbert-lab-probe-"):
            return True
    except OSError:
        return False


def check_output_dir(name: str, value: Any, *, allow_none: bool = False) -> None:
    """A folder that exists and is writable, or can be created (its nearest existing
    ancestor is a writable folder). Nothing is left behind."""
    if value is None and allow_none:
        return
    p = Path(str(value)).expanduser()
    if p.exists():
        if not p.is_dir():
            raise InputError(f"{name}: exists and is not a folder", p)
        if not _can_create_in(p):
            raise InputError(f"{name}: folder is not writable", p)
        return
    anc = p.absolute().parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(f"{name}: cannot create the folder: {anc} is not a folder", p)
    if not _can_create_in(anc):
        raise InputError(f"{name}: cannot create the folder: {anc} is not writable", p)


def check_output_file(name: str, value: Any, *, allow_none: bool = False) -> None:
    """A file path that can be written: not a folder, its folder writable or creatable."""
    if value is None and allow_none:
        return
    p = Path(str(value)).expanduser()
    if p.is_dir():
        raise InputError(f"{name}: is a folder, expected a file path", p)
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{name}: file is not writable", p)
    check_output_dir(name, p.parent if str(p.parent) else Path("."))


def parse_layers_spec(name: str, value: Any) -> str | tuple[int, ...]:
    """``'all'``, ``'last'``, ``8``, ``'4,8,12'``, ``[4, 8]`` -> ``'all'`` / ``'last'`` / a tuple
    of distinct layers >= 0 in the given order. Ranges against the model are checked at run
    time, when its depth is known (:func:`resolve_layers`)."""
    if isinstance(value, str):
        s = value.strip().lower()
        if s in ("all", "last"):
            return s
        parts = [x.strip() for x in s.split(",") if x.strip()]
    elif isinstance(value, bool):
        parts = ["?"]
    elif isinstance(value, int):
        parts = [str(value)]
    elif isinstance(value, (list, tuple)):
        parts = [str(x) for x in value]
    else:
        parts = ["?"]
    try:
        layers = tuple(int(x) for x in parts)
    except ValueError:
        raise ConfigError(
            f"{name}: bad value {value!r}; use 'all', 'last', one layer like 8 or a list like 4,8,12"
        ) from None
    if not layers:
        raise ConfigError(f"{name}: no layers given; use 'all', 'last', 8 or 4,8,12")
    neg = [x for x in layers if x < 0]
    if neg:
        raise ConfigError(f"{name}: layers are >= 0 (0 = embeddings), got {neg}")
    if len(set(layers)) != len(layers):
        raise ConfigError(f"{name}: a layer is listed twice in {value!r}")
    return layers


def resolve_layers(spec: str | tuple[int, ...], num_layers: int, name: str = "layers") -> tuple[int, ...]:
    """A validated spec against a model of ``num_layers`` blocks (layer 0 = embeddings)."""
    if spec == "all":
        return tuple(range(num_layers + 1))
    if spec == "last":
        return (num_layers,)
    bad = [x for x in spec if x > num_layers]  # type: ignore[union-attr]
    if bad:
        raise ConfigError(f"{name}: layer(s) {bad} out of range: this model has layers 0..{num_layers} (0 = embeddings)")
    return tuple(spec)  # type: ignore[arg-type]


def normalise_langs(name: str, values: Any, *, known_extra: Sequence[str] = (),
                    dataset: str | None = None, root: Any = None) -> tuple[str, ...]:
    """Language codes (ISO 639-1 or 639-3, a comma string or a list) -> stored codes
    (ISO 639-3 where the language table knows the code).

    A code is valid when the language table knows it, when it is in ``known_extra`` (codes a
    user's file names), or when ``dataset`` has files for it under the data root ``root``;
    otherwise ``unknown language 'zz': not in the language table and no <dataset> files for
    it under <root> (found: ...)``."""
    from ..languages import is_known, to_iso639_3

    if values is None:
        return ()
    if isinstance(values, str):
        values = [v for v in values.split(",")]
    out = []
    extra = {str(x) for x in known_extra}
    for v in values:
        v = str(v).strip()
        if not v:
            raise ConfigError(f"{name}: empty language code")
        if v in extra:
            out.append(v)
        elif dataset is not None:
            from ..data.datasets import check_language

            try:
                out.append(check_language(dataset, v, root))
            except ConfigError as e:
                raise ConfigError(f"{name}: {e}") from None
        elif is_known(v):
            out.append(to_iso639_3(v))
        else:
            raise ConfigError(f"{name}: unknown language '{v}': not in the language table")
    return tuple(out)


def as_tuple(value: Any, name: str) -> tuple[Any, ...]:
    """A comma string, list or tuple -> tuple of stripped strings (for list fields)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(x.strip() for x in value.split(",") if x.strip())
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise ConfigError(f"{name}: expected a list or a comma-separated string, got {value!r}")


# ---------------------------------------------------------------------------- configs


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """Base of every study's Config. Subclasses set ``study`` and override ``validate``
    (call ``super().validate()``); list-like fields are normalised in ``normalise``."""

    study: ClassVar[str] = ""

    def __post_init__(self) -> None:
        self.normalise()
        self.validate()

    def normalise(self) -> None:
        """Turn friendly input (comma strings, 639-1 codes) into the canonical field values.
        Use ``self._set(name, value)`` (the dataclass is frozen)."""

    def validate(self) -> None:
        """Check every field; raise ConfigError / InputError naming the field."""

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """Field name -> JSON-ready value, in declaration order (provenance, study files)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any], source: str = "<config>") -> C:
        """Build from a mapping (a study file table); unknown keys get a 'did you mean'."""
        valid = cls.field_names()
        for k in d:
            if k not in valid:
                close = difflib.get_close_matches(k, valid, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(
                    f"{source}: unknown key '{k}' for study '{cls.study}'{hint}; valid keys: {', '.join(valid)}"
                )
        try:
            return cls(**d)
        except TypeError as e:  # a missing required field
            raise ConfigError(f"{source}: study '{cls.study}': {e}") from None
        except (ConfigError, InputError) as e:
            raise type(e)(f"{source}: study '{cls.study}': {e}") if isinstance(e, ConfigError) else e

    def replace(self: C, **changes: Any) -> C:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class EncoderOptions(StudyConfig):
    """The fields of every study that runs a model. One meaning per name everywhere."""

    model: str = DEFAULT_MODEL
    revision: str | None = None
    layers: Any = "all"
    batch_size: int = 64
    max_length: int | None = None
    device: str = "cpu"
    threads: int | None = None
    cache: bool = True
    dtype: str = "fp32"  # compute precision: fp32, bf16 (autocast) or int8 (dynamic quantisation)
    store_dtype: str = "float32"  # precision of stored vectors: float32 or float16

    def normalise(self) -> None:
        super().normalise()
        self._set("layers", parse_layers_spec("layers", self.layers))

    def validate(self) -> None:
        super().validate()
        check_text("model", self.model)
        from ..models.registry import _looks_like_path, check_model_revision

        check_model_revision(self.model, self.revision)
        if self.model not in ("offline",) and _looks_like_path(self.model):
            local = Path(self.model).expanduser()
            if not local.exists():
                raise InputError("model: no such folder (a hub id is 'name' or 'org/name')", local)
            if not local.is_dir():
                raise InputError("model: expected a model folder, got a file", local)
        check_count("batch_size", self.batch_size, maximum=65536)
        check_count("max_length", self.max_length, minimum=8, allow_none=True)
        check_count("threads", self.threads, maximum=1024, allow_none=True)
        check_device(self.device)
        from ..encode.precision import COMPUTE_DTYPES, STORE_DTYPES, check_compute_dtype

        check_choice("dtype", self.dtype, COMPUTE_DTYPES)
        check_choice("store_dtype", self.store_dtype, STORE_DTYPES)
        if self.dtype != "fp32":
            check_compute_dtype(self.dtype, self.device)  # can this machine run it?

    @property
    def single_layer(self) -> int | None:
        """The one layer named, if exactly one was."""
        return self.layers[0] if isinstance(self.layers, tuple) and len(self.layers) == 1 else None


def check_device(device: str) -> None:
    """``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and available in this torch (checked only for
    non-CPU devices, which imports torch)."""
    if not isinstance(device, str):
        raise ConfigError(f"device: must be text, got {device!r}")
    base, _, idx = device.partition(":")
    if base not in DEVICES or (idx and not idx.isdigit()) or (idx and base != "cuda"):
        raise ConfigError(f"device: unknown device '{device}'; valid: cpu, cuda, cuda:N, mps")
    if base == "cpu":
        return
    import torch

    if base == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device: '{device}' asked for, but this torch has no usable CUDA device ({torch.__version__}); use --device cpu")
        if idx and int(idx) >= torch.cuda.device_count():
            raise ConfigError(f"device: '{device}' asked for, but only {torch.cuda.device_count()} CUDA device(s) are visible")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device: 'mps' asked for, but this torch has no MPS backend")


# ---------------------------------------------------------------------------- running


def set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(int(threads))


def resolve_encoder(cfg: EncoderOptions, encoder: Any = None) -> Any:
    """The given encoder, or the one the config names (loaded now, after validation)."""
    set_threads(cfg.threads)
    if encoder is not None:
        return encoder
    from ..models.registry import load_encoder

    return load_encoder(cfg.model, revision=cfg.revision, device=cfg.device)


def resolve_store(cfg: EncoderOptions, store: Any = None) -> Any:
    if store is not None or not cfg.cache:
        return store
    from ..encode import default_store

    return default_store()


def make_extractor(cfg: EncoderOptions, encoder: Any, store: Any, layers: Sequence[int],
                   outputs: Sequence[str] = ("sentence",), progress: bool = True, **kw: Any) -> Any:
    """An Extractor for the config's batch size, max length and the given layers/outputs."""
    from ..encode.extractor import ExtractConfig, Extractor

    kw = {"dtype": cfg.dtype, "store_dtype": cfg.store_dtype, **kw}
    ec = ExtractConfig(layers=tuple(layers), outputs=tuple(outputs), batch_size=cfg.batch_size,
                       max_length=cfg.max_length, **kw)
    # the device the encoder's weights are on (resolve_encoder put them on cfg.device; an encoder
    # passed in by the caller keeps its own)
    return Extractor(encoder, ec, store=store, device=None, progress=progress)


def make_provenance(cfg: StudyConfig, *, encoder: Any = None, layers: Sequence[int] = (),
                    pooling: str | None = None, datasets: Sequence[DatasetProvenance] = (),
                    command: str | None = None) -> Provenance:
    """Provenance for a study's result: the config as given, no ``sys.argv`` (clients that
    have a command line pass it as ``command``)."""
    model = encoder.provenance if encoder is not None else None
    return Provenance.collect(config={"study": cfg.study, **cfg.to_dict()}, model=model, layers=tuple(layers),
                              pooling=pooling, datasets=tuple(datasets), command=command,
                              dtype=getattr(cfg, "dtype", "fp32"), warnings=trained_on_warnings(encoder, datasets))


def trained_on_warnings(encoder: Any, datasets: Sequence[DatasetProvenance]) -> tuple[str, ...]:
    """One warning (logged, and kept in the provenance) per dataset file this result evaluates
    on that the model was fine-tuned on (an ``align-train`` checkpoint's training files, matched
    by sha256): its scores there are not zero-shot."""
    import logging

    trained = (getattr(encoder, "extra", None) or {}).get("trained_on") or {}
    hits = sorted({f"{ds.name}: {f}" for ds in datasets for f, digest in ds.files.items() if digest in trained})
    if not hits:
        return ()
    line = (f"model {encoder.model_id} was fine-tuned on {len(hits)} file(s) this result evaluates on "
            f"({'; '.join(hits)}): scores on them are not zero-shot")
    logging.getLogger("mbert_lab").warning("warning: %s", line)
    return (line,)


# ---------------------------------------------------------------------------- results


def transient(default: Any = None) -> Any:
    """A Result field that lives in memory only (vectors, a corpus): not in the JSON."""
    return dataclasses.field(default=default, compare=False, repr=False, metadata={"transient": True})


@dataclass(frozen=True, kw_only=True)
class StudyResult:
    """Base of every study's Result: ``schema_version``, ``provenance`` and typed fields.

    ``kind`` names the JSON file (``<kind>.json``) and lets :func:`load_result` find the class.
    Subclasses declare typed fields (dataclasses, tuples, dicts of plain values); they
    round-trip through :meth:`to_dict` / :meth:`from_dict`. A field declared with
    :func:`transient` (e.g. in-memory vectors) is kept on the object but not serialised.
    """

    kind: ClassVar[str] = ""
    provenance: Provenance
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        d = {"schema_version": self.schema_version, "kind": self.kind}
        for f in fields(self):
            if f.name != "schema_version" and not f.metadata.get("transient"):
                d[f.name] = _plain(getattr(self, f.name))
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls: type[R], d: dict[str, Any], source: str = "<dict>") -> R:
        ver = d.get("schema_version")
        if ver is None or str(ver).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise InputError(f"result schema version {ver!r} is not compatible with {SCHEMA_VERSION}", path=source)
        if d.get("kind") != cls.kind:
            raise InputError(f"a '{d.get('kind')}' result, expected '{cls.kind}'", path=source)
        hints = typing.get_type_hints(cls)
        kw = {}
        for f in fields(cls):
            if f.name in d and not f.metadata.get("transient"):
                kw[f.name] = _decode(hints[f.name], d[f.name])
        return cls(**kw)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``<out_dir>/<kind>.json`` atomically; returns its path."""
        from ..io import atomic_write_text

        path = Path(out_dir) / f"{self.kind}.json"
        atomic_write_text(path, self.to_json() + "\n")
        return path

    @classmethod
    def load(cls: type[R], path: str | Path) -> R:
        """From ``<dir>/<kind>.json`` or the JSON file itself."""
        p = Path(path)
        if p.is_dir():
            p = p / f"{cls.kind}.json"
        from ..data.readers.text import decode_utf8, read_bytes

        try:
            d = json.loads(decode_utf8(read_bytes(p), p))
        except json.JSONDecodeError as e:
            raise InputError(f"not a JSON result ({e.msg})", p, e.lineno) from None
        return cls.from_dict(d, source=str(p))


def _plain(x: Any) -> Any:
    """Dataclasses, tuples, paths, numpy scalars/arrays -> JSON-ready values."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted(_plain(v) for v in x)
    if isinstance(x, Path):
        return str(x)
    if hasattr(x, "item") and hasattr(x, "dtype") and getattr(x, "ndim", 1) == 0:
        return x.item()
    if hasattr(x, "tolist") and hasattr(x, "dtype"):
        return x.tolist()
    if isinstance(x, float) and x != x:
        return None  # NaN -> null (JSON has no NaN)
    return x


def _decode(tp: Any, v: Any) -> Any:
    """JSON value -> the annotated type (dataclasses, tuple[...], list[...], dict[...], Optional)."""
    if v is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        for a in non_none:
            if dataclasses.is_dataclass(a) and isinstance(v, dict):
                return _decode(a, v)
        return _decode(non_none[0], v) if len(non_none) == 1 else v
    if dataclasses.is_dataclass(tp) and isinstance(v, dict):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _decode(hints[f.name], v[f.name]) for f in fields(tp) if f.name in v})
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], x) for x in v)
        if args:
            return tuple(_decode(a, x) for a, x in zip(args, v))
        return tuple(v)
    if origin is list:
        return [_decode(args[0], x) for x in v] if args else list(v)
    if origin is dict:
        kt, vt = args if args else (str, Any)
        return {_decode(kt, k): _decode(vt, x) for k, x in v.items()}
    if tp is int and isinstance(v, str):
        return int(v)
    if tp is float and isinstance(v, int):
        return float(v)
    if tp is float and v is None:
        return float("nan")
    return v


__all__ = [
    "StudyConfig",
    "EncoderOptions",
    "StudyResult",
    "check_count",
    "check_float",
    "check_choice",
    "check_choices",
    "check_text",
    "check_input_file",
    "check_input_dir",
    "check_output_dir",
    "check_output_file",
    "check_device",
    "parse_layers_spec",
    "resolve_layers",
    "normalise_langs",
    "as_tuple",
    "resolve_encoder",
    "transient",
    "resolve_store",
    "make_extractor",
    "make_provenance",
    "set_threads",
    "ModelProvenance",
    "DatasetProvenance",
    "Provenance",
]
