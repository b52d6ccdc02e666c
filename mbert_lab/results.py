"""Result records: schema version, provenance, JSON round trip.

Every analysis returns a frozen dataclass and wraps it in a :class:`ResultRecord` whose
``provenance`` block says exactly what produced it: model id, revision and weights hash,
layers, pooling, dataset names with checksums, the config, package versions, git commit and
time. ``ResultRecord.save`` writes JSON atomically; ``ResultRecord.load`` reads it back and
checks the schema version.

>>> rec = ResultRecord(kind="demo", payload={"x": 1}, provenance=Provenance.collect(config={"a": 1}))
>>> ResultRecord.from_json(rec.to_json()).payload
{'x': 1}
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import InputError
from .io import atomic_write_json

SCHEMA_VERSION = "1.0"

_PACKAGES = (
    "mbert-lab",
    "torch",
    "transformers",
    "tokenizers",
    "numpy",
    "scipy",
    "scikit-learn",
    "faiss-cpu",
    "datasets",
)


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _PACKAGES + extra:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out["python"] = platform.python_version()
    return out


def git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    commit = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
    )
    return commit + ("+dirty" if dirty.stdout.strip() else "")


@dataclass(frozen=True)
class ModelProvenance:
    model_id: str
    revision: str | None = None
    weights_sha256: str | None = None
    label: str | None = None  # human label, e.g. "multilingual-e5-small, 4-bit-derived weights"


@dataclass(frozen=True)
class DatasetProvenance:
    name: str
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    split: str | None = None
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provenance:
    created: str
    git_commit: str | None
    packages: dict[str, str]
    command: str | None = None  # the command line, when a client with one (the CLI) ran it
    config: dict[str, Any] = field(default_factory=dict)
    model: ModelProvenance | None = None
    layers: tuple[int, ...] = ()
    pooling: str | None = None
    datasets: tuple[DatasetProvenance, ...] = ()
    dtype: str = "fp32"  # compute precision of the encoder's forward pass: fp32, bf16 or int8
    warnings: tuple[str, ...] = ()  # e.g. the model was fine-tuned on data this result evaluates on

    @classmethod
    def collect(
        cls,
        *,
        config: dict[str, Any] | None = None,
        model: ModelProvenance | None = None,
        layers: tuple[int, ...] | list[int] = (),
        pooling: str | None = None,
        datasets: tuple[DatasetProvenance, ...] | list[DatasetProvenance] = (),
        command: str | None = None,
        dtype: str = "fp32",
        warnings: tuple[str, ...] | list[str] = (),
    ) -> Provenance:
        """Everything but the command line, which only a client that has one passes in
        (a notebook kernel's ``sys.argv`` says nothing about the result)."""
        return cls(
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            git_commit=git_commit(),
            packages=package_versions(),
            command=command,
            config=dict(config or {}),
            model=model,
            layers=tuple(int(x) for x in layers),
            pooling=pooling,
            datasets=tuple(datasets),
            dtype=dtype,
            warnings=tuple(warnings),
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Provenance:
        d = dict(d)
        if d.get("model") is not None:
            d["model"] = ModelProvenance(**d["model"])
        d["datasets"] = tuple(DatasetProvenance(**{**x, "languages": tuple(x.get("languages", ()))}) for x in d.get("datasets", ()))
        d["layers"] = tuple(d.get("layers", ()))
        d["warnings"] = tuple(d.get("warnings", ()))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class ResultRecord:
    """A typed result with provenance. ``payload`` is a JSON-ready dict (``dataclasses.asdict``
    of the analysis record)."""

    kind: str
    payload: dict[str, Any]
    provenance: Provenance
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "provenance": dataclasses.asdict(self.provenance),
            "payload": self.payload,
        }

    def to_json(self) -> str:
        from .io import _json_default

        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=_json_default)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<dict>") -> ResultRecord:
        ver = d.get("schema_version")
        if ver is None or str(ver).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise InputError(
                f"result schema version {ver!r} is not compatible with {SCHEMA_VERSION}", path=source
            )
        return cls(
            kind=d["kind"],
            payload=d["payload"],
            provenance=Provenance.from_dict(d["provenance"]),
            schema_version=str(ver),
        )

    @classmethod
    def from_json(cls, text: str, source: str = "<json>") -> ResultRecord:
        return cls.from_dict(json.loads(text), source=source)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path: str | Path) -> ResultRecord:
        path = Path(path)
        return cls.from_json(path.read_text(encoding="utf-8"), source=str(path))


def record(kind: str, payload: Any, provenance: Provenance) -> ResultRecord:
    """Wrap a dataclass (or dict) payload into a ResultRecord."""
    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        payload = dataclasses.asdict(payload)
    from .io import _json_default

    payload = json.loads(json.dumps(payload, default=_json_default))
    return ResultRecord(kind=kind, payload=payload, provenance=provenance)
