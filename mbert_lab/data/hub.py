"""XNLI, PAWS-X, MasakhaNER and Universal Dependencies from the Hugging Face hub (or a
local copy), as the same records the local-file readers give.

A *source* is a hub dataset id (``facebook/xnli``, optionally ``@revision``) or a local
folder: one written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``, or a
script-free folder of parquet/json/csv files per split that ``datasets.load_dataset(path)``
reads (a ``<config>/`` sub-folder per language is used when present). Loading goes through
the ``datasets`` library; dataset scripts are never run (``trust_remote_code`` is never
passed): a hub repository that holds a loading script (MasakhaNER and UD upstream, see
``SCRIPT_REPOS``, or any other found to) is read from the hub's own parquet export
(revision ``refs/convert/parquet``, one folder per config).

=================  =========================================  ==========================
loader             default hub id (upstream)                   config (``lang`` -> config)
=================  =========================================  ==========================
load_hub_xnli      ``facebook/xnli``                           ISO 639-1 (``de``)
load_hub_pawsx     ``google-research-datasets/paws-x``         ISO 639-1 (``de``)
load_hub_ner       ``masakhane/masakhaner2`` (v1:              ISO 639-3 (``yor``)
                   ``masakhane/masakhaner``)
load_hub_ud        ``universal-dependencies/universal_         treebank (``en_ewt``, or
                   dependencies``                              ``lang="en", treebank="ewt"``)
=================  =========================================  ==========================

Columns (upstream names): XNLI ``premise``, ``hypothesis``, ``label`` (ClassLabel
entailment/neutral/contradiction); PAWS-X ``sentence1``, ``sentence2``, ``label``
(ClassLabel "0"/"1"); MasakhaNER ``tokens``, ``ner_tags`` (ClassLabel O, B-PER, ...);
UD ``idx``, ``text``, ``tokens``, ``lemmas``, ``upos`` (ClassLabel NOUN, ..., ``_``),
``xpos``, ``feats``, ``head``, ``deprel``, ``misc`` (only ``tokens`` and ``upos`` are
required). Splits: ``dev`` means the hub's ``validation``.

Every loader returns a :class:`HubRecords` (a ``list`` of the reader's records with a
``provenance`` attribute, a :class:`HubProvenance`: source, config, split, revision,
commit, fingerprint; ``.to_dataset_provenance()`` gives the
:class:`mbert_lab.results.DatasetProvenance` a result stores). A record's ``path`` is the
source locator (``hf://datasets/<id>@<rev>/<config>/<split>``) and its ``line`` the 1-based
row, so errors read ``<locator>:<row>: ...``.

Offline: ``HF_DATASETS_OFFLINE=1`` / ``HF_HUB_OFFLINE=1`` (read at call time), or a failed
2-second connect to the hub, puts the ``datasets`` library in offline mode for the call; a
dataset neither cached nor local then fails at once with ``ConfigError("dataset 'X' is not
on this machine and the hub is unreachable")``.

>>> parse_source("hub:facebook/xnli@main")
HubSource(id='facebook/xnli', revision='main', local=False)
>>> parse_source("xnli") is None
True
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, DataMissingError, InputError, choice_error
from .readers.conllu import UPOS_TAGS, UDSentence, UDToken
from .readers.nli import XNLI_LABELS, NliPair, ParaphrasePair
from .readers.tagged import TaggedSentence

PathLike = str | Path

HUB_IDS: dict[str, str] = {
    "xnli": "facebook/xnli",
    "paws-x": "google-research-datasets/paws-x",
    "masakhaner-v1": "masakhane/masakhaner",
    "masakhaner-v2": "masakhane/masakhaner2",
    "ud": "universal-dependencies/universal_dependencies",
}
PARQUET_EXPORT = "refs/convert/parquet"
# upstream repositories that hold a loading script (which datasets>=4 does not run): read
# from the hub's parquet export unless a revision is given
SCRIPT_REPOS = frozenset(
    {
        "masakhane/masakhaner",
        "masakhane/masakhaner2",
        "universal-dependencies/universal_dependencies",
    }
)
SOURCE_PREFIXES = ("hub:", "hf:")
SPLIT_NAMES: dict[str, tuple[str, ...]] = {
    "dev": ("validation", "dev", "valid"),
    "validation": ("validation", "dev", "valid"),
    "valid": ("validation", "dev", "valid"),
}
HUB_HOST_TIMEOUT_S = 2.0

_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")
_NER_TAG = re.compile(r"^(O|([BI])-([A-Za-z][A-Za-z0-9_]*))$", re.ASCII)
_TRUE = {"1", "ON", "YES", "TRUE"}


# ============================================================================ sources


@dataclass(frozen=True)
class HubSource:
    """A parsed dataset source: a hub repository id (with an optional revision) or a
    local dataset folder (``local=True``, ``id`` is the path as given)."""

    id: str
    revision: str | None = None
    local: bool = False

    def __str__(self) -> str:
        return f"hub:{self.id}" + (f"@{self.revision}" if self.revision else "")


def _looks_local(s: str) -> bool:
    return s.startswith(("/", "./", "../", "~")) or os.path.isdir(os.path.expanduser(s))


def parse_source(value: str | HubSource | None) -> HubSource | None:
    """Parse a ``--source`` style value: ``hub:ID[@REV]`` or ``hf:ID[@REV]`` (a hub
    dataset id such as ``facebook/xnli``), ``hub:PATH`` (a local dataset folder; a
    path starting with ``/``, ``./``, ``../``, ``~`` or naming an existing folder).
    Returns None for a value without the prefix (not a hub source).

    >>> parse_source("hf:masakhane/masakhaner2")
    HubSource(id='masakhane/masakhaner2', revision=None, local=False)
    >>> parse_source("hub:/data/my_xnli").local
    True
    >>> parse_source("hub:")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mbert_lab.errors.ConfigError: empty hub source 'hub:': expected hub:ORG/NAME[@REVISION] ...
    """
    if value is None or isinstance(value, HubSource):
        return value
    s = str(value).strip()
    prefix = next((p for p in SOURCE_PREFIXES if s.lower().startswith(p)), None)
    if prefix is None:
        return None
    rest = s[len(prefix) :].strip()
    if not rest:
        raise ConfigError(
            f"empty hub source '{s}': expected hub:ORG/NAME[@REVISION] or hub:/path/to/folder"
        )
    if _looks_local(rest):
        return HubSource(rest, None, True)
    ident, at, rev = rest.partition("@")
    if not _REPO_ID.fullmatch(ident) or (at and not rev.strip()):
        raise ConfigError(
            f"bad hub source '{s}': expected hub:ORG/NAME[@REVISION] (e.g. hub:facebook/xnli) "
            "or a local dataset folder (hub:/path/to/folder)"
        )
    return HubSource(ident, rev.strip() or None, False)


def _source(name: str | HubSource | PathLike | None, kind: str, revision: str | None) -> HubSource:
    if name is None:
        return HubSource(HUB_IDS[kind], revision)
    src = HubSource(str(name), None, True) if isinstance(name, Path) else parse_source(name)
    if src is None:  # a bare id or path
        s = str(name).strip()
        src = HubSource(s, None, True) if _looks_local(s) else parse_source("hub:" + s)
    assert src is not None
    if revision is not None:
        if src.local:
            raise ConfigError(f"a revision ('{revision}') only applies to a hub id, not {src.id}")
        if src.revision not in (None, revision):
            raise ConfigError(f"two revisions for {src.id}: '{src.revision}' and '{revision}'")
        src = HubSource(src.id, revision, False)
    return src


# ============================================================================ provenance


@dataclass(frozen=True)
class HubProvenance:
    """Where hub records came from. ``revision``: the one asked for (None: the default
    branch) or ``refs/convert/parquet`` for a repository read from its parquet export;
    ``commit``: the commit the hub resolved, where it said; ``fingerprint``: the
    ``datasets`` fingerprint of the split; ``files``: for a local folder, its data files
    with their sha256."""

    source: str
    config: str | None
    split: str
    revision: str | None
    commit: str | None
    fingerprint: str
    num_rows: int
    local: bool = False
    files: dict[str, str] = field(default_factory=dict)

    @property
    def locator(self) -> str:
        """``hf://datasets/<id>@<rev>/<config>/<split>`` (hub) or ``<folder>/<config>/<split>``."""
        tail = "/".join(x for x in (self.config, self.split) if x)
        if self.local:
            return f"{self.source}/{tail}"
        rev = self.commit or self.revision or "main"
        return f"hf://datasets/{self.source}@{rev}/{tail}"

    def to_dataset_provenance(self, name: str | None = None, languages: Sequence[str] = ()):
        """A :class:`mbert_lab.results.DatasetProvenance`: ``name`` (default
        ``hub:<id>``), ``files`` = the local files' sha256, or for a hub split
        ``{locator: "fingerprint:<fp>"}``."""
        from ..results import DatasetProvenance

        files = dict(self.files) or {self.locator: f"fingerprint:{self.fingerprint}"}
        return DatasetProvenance(
            name=name or (f"hub:{self.source}" if not self.local else f"local:{self.source}"),
            files=files,
            split=self.split,
            languages=tuple(languages),
        )


class HubRecords(list):
    """A list of records (``NliPair``, ``TaggedSentence``, ...) with the
    :class:`HubProvenance` it was loaded from."""

    def __init__(self, records=(), provenance: HubProvenance | None = None):
        super().__init__(records)
        self.provenance = provenance


# ============================================================================ opening


def _env_offline() -> bool:
    return any(
        os.environ.get(k, "").strip().upper() in _TRUE
        for k in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
    )


def hub_reachable(timeout: float = HUB_HOST_TIMEOUT_S) -> bool:
    """One TCP connect to the hub's host (``HF_ENDPOINT``, default huggingface.co:443)."""
    from urllib.parse import urlparse

    u = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = u.port or (80 if u.scheme == "http" else 443)
    try:
        with socket.create_connection((u.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _offline_mode(on: bool) -> Iterator[None]:
    """The ``datasets`` / ``huggingface_hub`` offline switches (read at import time by
    those libraries) set for the duration of one load."""
    import datasets.config as dconf
    from huggingface_hub import constants as hconst

    saved = (dconf.HF_HUB_OFFLINE, dconf.HF_DATASETS_OFFLINE, hconst.HF_HUB_OFFLINE)
    if on:
        dconf.HF_HUB_OFFLINE = dconf.HF_DATASETS_OFFLINE = hconst.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        dconf.HF_HUB_OFFLINE, dconf.HF_DATASETS_OFFLINE, hconst.HF_HUB_OFFLINE = saved


@contextlib.contextmanager
def _errors(what: str, offline: bool) -> Iterator[None]:
    """The ``datasets`` library's errors as one-line MbertLabErrors."""
    from datasets.exceptions import DatasetNotFoundError

    try:
        yield
    except ConnectionError as e:
        if offline or "Couldn't reach" in str(e) or "offline" in str(e).lower():
            raise ConfigError(
                f"dataset '{what}' is not on this machine and the hub is unreachable"
            ) from None
        raise ConfigError(f"dataset '{what}': {_first_line(e)}") from None
    except DatasetNotFoundError as e:
        raise ConfigError(f"dataset '{what}': {_first_line(e)}") from None
    except FileNotFoundError as e:
        raise DataMissingError(f"dataset '{what}': {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def _pick_split(split: str, have: Sequence[str], where: str) -> str:
    s = str(split).strip()
    for cand in (s, *SPLIT_NAMES.get(s, ())):
        if cand in have:
            return cand
    raise DataMissingError(
        f"{where} has no '{s}' split (splits present: {', '.join(sorted(have)) or 'none'})"
    )


def _builder(ident: str, config: str | None, revision: str | None, cache_dir, data_dir=None):
    import datasets

    try:
        return datasets.load_dataset_builder(
            ident, config, data_dir=data_dir, revision=revision, cache_dir=cache_dir
        )
    except ValueError as e:  # unknown config: "BuilderConfig 'xx' not found. Available: [...]"
        if "BuilderConfig" in str(e) or "config" in str(e).lower():
            raise ConfigError(f"dataset '{ident}': {_first_line(e)}") from None
        raise


def _hub_builder(src: HubSource, config: str | None, cache_dir):
    """(builder, revision used): a repository known to hold a loading script, or one found
    to, is read from the hub's parquet export (config = that export's folder)."""
    rev = src.revision
    if rev is None and src.id in SCRIPT_REPOS:
        rev = PARQUET_EXPORT
    if rev == PARQUET_EXPORT:
        return _builder(src.id, None, rev, cache_dir, data_dir=config), rev
    try:
        return _builder(src.id, config, rev, cache_dir), rev
    except RuntimeError as e:
        if "scripts are no longer supported" not in str(e):
            raise
        if rev not in (None, "main"):
            raise ConfigError(
                f"dataset '{src.id}' at revision '{rev}' has a loading script, which is never "
                f"run; use revision '{PARQUET_EXPORT}' (the hub's parquet export) or a local copy"
            ) from None
    return _builder(src.id, None, PARQUET_EXPORT, cache_dir, data_dir=config), PARQUET_EXPORT


def _open_hub(src: HubSource, config: str | None, split: str, cache_dir):
    offline = _env_offline() or not hub_reachable()
    with _offline_mode(offline), _errors(src.id, offline):
        b, revision = _hub_builder(src, config, cache_dir)
        b.download_and_prepare()
        where = f"dataset '{src.id}'" + (f" config '{config}'" if config else "")
        chosen = _pick_split(split, list(b.info.splits or {}), where)
        ds = b.as_dataset(split=chosen)
    commit = b.hash if isinstance(b.hash, str) and re.fullmatch(r"[0-9a-f]{40}", b.hash) else None
    prov = HubProvenance(
        src.id, config, chosen, revision, commit, ds._fingerprint, ds.num_rows, False
    )
    return ds, prov


def _local_files(paths: Sequence[PathLike]) -> dict[str, str]:
    """sha256 of the given files, and of the files inside the given folders (hidden
    files and folders left out)."""
    from .registry import file_sha256

    out = {}
    for top in map(Path, paths):
        found = [top] if top.is_file() else sorted(top.rglob("*"))
        for p in found:
            rel = p.relative_to(top) if p != top else Path(p.name)
            if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                out[str(p)] = file_sha256(p)
    return dict(sorted(out.items()))


def _local_config(folder: Path, config: str | None) -> tuple[Path, str | None, str | None]:
    """(folder to load, config sub-folder used, builder config name) for a local folder."""
    if config and (folder / config).is_dir():
        return folder / config, config, None
    if (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file():
        return folder, None, None
    if config is None:
        return folder, None, None
    import datasets

    names = datasets.get_dataset_config_names(str(folder))
    if config in names:
        return folder, config, config
    if list(names) == ["default"]:
        return folder, None, None
    raise choice_error(f"config of the dataset folder {folder}", config, names)


def _open_local(src: HubSource, config: str | None, split: str, cache_dir):
    import datasets

    folder = Path(src.id).expanduser()
    if not folder.exists():
        raise DataMissingError(f"dataset folder {folder} not found")
    if not folder.is_dir():
        raise ConfigError(
            f"{folder} is a file; a hub source must be a dataset folder (save_to_disk, or "
            "parquet/json/csv files per split)"
        )
    folder = folder.resolve()
    with _offline_mode(True), _errors(str(folder), True):
        base, used, name = _local_config(folder, config)
        where = f"dataset folder {base}"
        if (base / "dataset_dict.json").is_file() or (base / "state.json").is_file():
            obj = datasets.load_from_disk(str(base))
            if isinstance(obj, datasets.DatasetDict):
                chosen = _pick_split(split, list(obj), where)
                ds, files = obj[chosen], [base / "dataset_dict.json", base / chosen]
            else:
                have = [str(obj.split)] if obj.split is not None else []
                chosen = _pick_split(split, have, where) if have else split
                ds, files = obj, [base]
        else:
            b = _builder(str(base), name, None, cache_dir)
            b.download_and_prepare()
            chosen = _pick_split(split, list(b.info.splits or {}), where)
            ds = b.as_dataset(split=chosen)
            files = [f for f in (b.config.data_files or {}).get(chosen, []) if Path(f).is_file()]
    prov = HubProvenance(
        str(folder), used, chosen, None, None, ds._fingerprint, ds.num_rows, True,
        _local_files(files),
    )
    return ds, prov


def open_split(
    name: str | HubSource | PathLike | None,
    config: str | None,
    split: str,
    *,
    kind: str = "xnli",
    revision: str | None = None,
    cache_dir: PathLike | None = None,
):
    """``(datasets.Dataset, HubProvenance)`` of one split of one config of a source
    (see :func:`parse_source`); ``name=None`` is the upstream id of ``kind``."""
    src = _source(name, kind, revision)
    cd = str(cache_dir) if cache_dir is not None else None
    if src.local:
        return _open_local(src, config, split, cd)
    return _open_hub(src, config, split, cd)


# ============================================================================ columns


def _require_columns(ds, cols: Sequence[str], where: str) -> None:
    missing = [c for c in cols if c not in ds.column_names]
    if missing:
        raise InputError(
            f"no column {', '.join(repr(c) for c in missing)} (columns: "
            f"{', '.join(ds.column_names)})",
            where,
        )


def _rows(ds) -> Iterator[dict[str, Any]]:
    """The rows of a Dataset as dicts, read in Arrow batches (much faster than ``iter(ds)``)."""
    for batch in ds.iter(batch_size=1024):
        keys = list(batch)
        for vals in zip(*(batch[k] for k in keys)):
            yield dict(zip(keys, vals))


def _decoder(feature: Any) -> Callable[[Any], Any]:
    """ClassLabel ids -> names (for a column or a sequence column); other values as they are."""
    inner = getattr(feature, "feature", feature)
    if hasattr(inner, "int2str") and hasattr(inner, "names"):
        names = list(inner.names)

        def dec(v):
            if isinstance(v, int) and 0 <= v < len(names):
                return names[v]
            return v

        return dec
    return lambda v: v


def _text(v: Any, col: str, where: str, row: int) -> str:
    if not isinstance(v, str):
        raise InputError(
            f"column '{col}' holds {type(v).__name__}, not text (use a per-language config "
            "such as 'de', not 'all_languages')",
            where,
            row,
        )
    return v


def _pair_rows(ds, cols: tuple[str, str, str], where: str) -> Iterator[tuple[int, str, str, Any]]:
    _require_columns(ds, cols, where)
    a_col, b_col, lab_col = cols
    dec = _decoder(ds.features[lab_col])
    for i, row in enumerate(_rows(ds)):
        n = i + 1
        a = _text(row[a_col], a_col, where, n)
        b = _text(row[b_col], b_col, where, n)
        if not a.strip(" \t") or not b.strip(" \t"):
            which = "first" if not a.strip(" \t") else "second"
            raise InputError(f"empty {which} sentence", where, n)
        yield n, a, b, dec(row[lab_col])


def _lang_code(lang: str, width: int) -> str:
    """A user's code as the hub configs spell it (``width`` 2: ISO 639-1, 3: ISO 639-3);
    a code of that width, or one the language table does not know, is kept as given.

    >>> _lang_code("deu", 2), _lang_code("zh", 2), _lang_code("yo", 3), _lang_code("qaa", 3)
    ('de', 'zh', 'yor', 'qaa')
    """
    from ..languages import ALIASES, get_language, is_known, to_iso639_3

    c = str(lang).strip().lower()
    if not c:
        raise ConfigError("empty language code")
    if len(c) == width or not is_known(c):
        return c
    iso = to_iso639_3(c)
    if width == 3:
        return iso
    part1 = get_language(iso).part1
    two = sorted(a for a, t in ALIASES.items() if t == iso and len(a) == 2)
    return part1 or (two[0] if two else c)


# ============================================================================ loaders


def load_hub_xnli(
    name: str | HubSource | PathLike | None,
    lang: str,
    split: str = "dev",
    revision: str | None = None,
    *,
    config: str | None = None,
    cache_dir: PathLike | None = None,
) -> HubRecords:
    """XNLI items of one language (config = the ISO 639-1 code unless ``config``) as
    :class:`~mbert_lab.data.readers.nli.NliPair` records, like
    :func:`mbert_lab.data.datasets.load_xnli`. ``name``: a hub id, ``hub:ID``, a local
    folder, or None for ``facebook/xnli``."""
    ds, prov = open_split(
        name, config or _lang_code(lang, 2), split, kind="xnli", revision=revision,
        cache_dir=cache_dir,
    )
    where = prov.locator
    out = []
    for n, a, b, lab in _pair_rows(ds, ("premise", "hypothesis", "label"), where):
        if isinstance(lab, int) and not isinstance(lab, bool) and 0 <= lab < len(XNLI_LABELS):
            lab = XNLI_LABELS[lab]  # an integer column in the upstream order
        if lab not in XNLI_LABELS:
            raise InputError(f"bad label '{lab}'; valid: {', '.join(XNLI_LABELS)}", where, n)
        out.append(NliPair(a, b, lab, len(out), where, n))
    return HubRecords(out, prov)


def load_hub_pawsx(
    name: str | HubSource | PathLike | None,
    lang: str,
    split: str = "dev",
    revision: str | None = None,
    *,
    config: str | None = None,
    cache_dir: PathLike | None = None,
) -> HubRecords:
    """PAWS-X items of one language as
    :class:`~mbert_lab.data.readers.nli.ParaphrasePair` records, like
    :func:`mbert_lab.data.datasets.load_pawsx` (label 0 or 1; another value, such as the
    -1 upstream uses for a missing label, is an error naming the row)."""
    ds, prov = open_split(
        name, config or _lang_code(lang, 2), split, kind="paws-x", revision=revision,
        cache_dir=cache_dir,
    )
    where = prov.locator
    out = []
    for n, a, b, lab in _pair_rows(ds, ("sentence1", "sentence2", "label"), where):
        if str(lab) not in ("0", "1"):
            raise InputError(f"bad label '{lab}'; valid: 0, 1", where, n)
        out.append(ParaphrasePair(a, b, int(lab), len(out), where, n))
    return HubRecords(out, prov)


def _iob2(
    tags: Sequence[str], where: str, n: int, types, iob: str
) -> tuple[list[str], list[str]]:
    """Check IOB2 tags (and entity types) as :func:`read_conll_ner` does; repair or keep."""
    out, notes, prev = [], [], "O"
    for k, lab in enumerate(tags, 1):
        m = _NER_TAG.match(str(lab))
        if not m:
            raise InputError(
                f"token {k}: bad label '{lab}': expected O, B-TYPE or I-TYPE", where, n
            )
        typ = m.group(3)
        if typ is not None and types is not None and typ not in types:
            raise InputError(
                f"token {k}: unknown entity type '{typ}' in '{lab}'; valid: "
                f"{', '.join(sorted(types))}",
                where,
                n,
            )
        if m.group(2) == "I" and prev[2:] != typ:
            if iob == "strict":
                raise InputError(f"token {k}: '{lab}' after '{prev}' breaks IOB2", where, n)
            if iob == "repair":
                notes.append(f"{where}:{n}: token {k}: '{lab}' after '{prev}' read as 'B-{typ}'")
                lab = f"B-{typ}"
        out.append(str(lab))
        prev = str(lab)
    return out, notes


def _token_rows(ds, tag_col: str, where: str) -> Iterator[tuple[int, dict, list[str], list]]:
    _require_columns(ds, ("tokens", tag_col), where)
    dec = _decoder(ds.features[tag_col])
    for i, row in enumerate(_rows(ds)):
        n = i + 1
        toks, tags = row["tokens"], [dec(t) for t in row[tag_col]]
        if not toks:
            raise InputError("empty sentence (no tokens)", where, n)
        if len(toks) != len(tags):
            raise InputError(f"{len(toks)} tokens but {len(tags)} {tag_col}", where, n)
        for k, t in enumerate(toks, 1):
            if not isinstance(t, str) or not t:
                raise InputError(f"token {k} is empty", where, n)
        yield n, row, list(toks), tags


def load_hub_ner(
    name: str | HubSource | PathLike | None,
    lang: str,
    split: str = "test",
    revision: str | None = None,
    *,
    config: str | None = None,
    version: Literal["v1", "v2"] = "v2",
    types: Sequence[str] | None = None,
    iob: Literal["repair", "strict", "keep"] = "repair",
    cache_dir: PathLike | None = None,
) -> HubRecords:
    """MasakhaNER sentences of one language (config = ISO 639-3 code) as
    :class:`~mbert_lab.data.readers.tagged.TaggedSentence` records with IOB2 string tags
    (the ``ner_tags`` ClassLabel names), like :func:`mbert_lab.data.datasets.load_ner`.
    ``name=None``: ``masakhane/masakhaner2`` (``version='v1'``: ``masakhane/masakhaner``).
    ``types`` restricts entity types; ``iob`` as in
    :func:`mbert_lab.data.readers.ner.read_conll_ner`."""
    if version not in ("v1", "v2"):
        raise choice_error("MasakhaNER version", version, ("v1", "v2"))
    if iob not in ("repair", "strict", "keep"):
        raise choice_error("IOB policy", iob, ["repair", "strict", "keep"])
    ds, prov = open_split(
        name, config or _lang_code(lang, 3), split, kind=f"masakhaner-{version}",
        revision=revision, cache_dir=cache_dir,
    )
    where, ok = prov.locator, (frozenset(types) if types is not None else None)
    out = []
    for n, _row, toks, tags in _token_rows(ds, "ner_tags", where):
        fixed, notes = _iob2(tags, where, n, ok, iob)
        out.append(TaggedSentence(tuple(toks), tuple(fixed), where, n, tuple(notes)))
    return HubRecords(out, prov)


# ---------------------------------------------------------------------------- UD


def _ud_field(v: Any) -> str:
    """A column value of the HF UD set (``str()`` of the conllu library's value) as the
    CoNLL-U field: None/'None' -> '_', a dict repr -> ``K=V|K=V``."""
    if v is None or v == "None" or v == "":
        return "_"
    s = str(v)
    if s.startswith("{") and s.endswith("}"):
        try:
            d = ast.literal_eval(s)
        except (ValueError, SyntaxError):
            return s
        if isinstance(d, dict):
            return "|".join(k if val is None else f"{k}={val}" for k, val in d.items()) or "_"
    return s


def _ud_head(v: Any, where: str, n: int, k: int) -> int | None:
    s = _ud_field(v)
    if s == "_":
        return None
    if s.isascii() and s.isdigit():
        return int(s)
    raise InputError(f"token {k}: bad head '{v}': expected a word index or '_'", where, n)


def _ud_sentence(row: dict, toks: list[str], upos: list, where: str, n: int) -> UDSentence:
    m = len(toks)

    def col(c: str) -> list:
        v = row.get(c)
        return list(v) if v is not None and len(v) == m else [None] * m

    lemmas, xpos, feats, heads, deprel, misc = (
        col(c) for c in ("lemmas", "xpos", "feats", "head", "deprel", "misc")
    )
    # multi-word ranges have UPOS '_'; empty nodes have no head where the other words do
    words = [k for k in range(m) if upos[k] != "_"]
    if any(_ud_field(heads[k]) != "_" for k in words):
        words = [k for k in words if _ud_field(heads[k]) != "_"]
    tokens = []
    for i, k in enumerate(words, 1):
        if upos[k] not in UPOS_TAGS:
            raise InputError(
                f"token {k + 1}: unknown UPOS '{upos[k]}' for word '{toks[k]}'; valid: "
                f"{', '.join(sorted(UPOS_TAGS))}",
                where,
                n,
            )
        tokens.append(
            UDToken(
                i, toks[k], _ud_field(lemmas[k]), upos[k], _ud_field(xpos[k]),
                _ud_field(feats[k]), _ud_head(heads[k], where, n, k + 1),
                _ud_field(deprel[k]), _ud_field(misc[k]),
            )
        )
    if not tokens:
        raise InputError("sentence has no syntactic words", where, n)
    sid = row.get("idx")
    return UDSentence(None if sid is None else str(sid), row.get("text"), tuple(tokens), where, n)


def _ud_config(lang: str, treebank: str | None) -> str:
    c = str(lang).strip()
    if "_" in c and treebank is None:
        return c  # already a treebank config such as en_ewt
    if treebank is None:
        raise ConfigError(
            f"UD on the hub is per treebank: pass treebank= (e.g. lang='{c}', treebank='ewt') "
            "or the config itself (e.g. 'en_ewt')"
        )
    return f"{_lang_code(c, 2)}_{str(treebank).strip().lower()}"


def load_hub_ud(
    name: str | HubSource | PathLike | None,
    lang: str,
    split: str = "test",
    revision: str | None = None,
    *,
    treebank: str | None = None,
    config: str | None = None,
    cache_dir: PathLike | None = None,
) -> HubRecords:
    """Sentences of a UD treebank (config ``<lang>_<treebank>``, e.g. ``en_ewt``) as
    :class:`~mbert_lab.data.readers.conllu.UDSentence` records, like
    :func:`mbert_lab.data.datasets.load_ud`: UPOS ids -> names; the rows the HF set keeps
    for multi-word ranges (UPOS ``_``) and empty nodes (no head) are dropped, as
    :func:`~mbert_lab.data.readers.conllu.read_conllu` skips them; ``sent_id`` from
    ``idx``, ``text`` from ``text``; FEATS/MISC back in ``K=V|K=V`` form."""
    ds, prov = open_split(
        name, config or _ud_config(lang, treebank), split, kind="ud", revision=revision,
        cache_dir=cache_dir,
    )
    where = prov.locator
    rows = _token_rows(ds, "upos", where)
    out = [_ud_sentence(row, toks, upos, where, n) for n, row, toks, upos in rows]
    return HubRecords(out, prov)


def load_hub_pos(
    name: str | HubSource | PathLike | None,
    lang: str,
    split: str = "test",
    revision: str | None = None,
    **kw: Any,
) -> HubRecords:
    """:func:`load_hub_ud` as POS-tagged :class:`TaggedSentence` records (words and
    UPOS), the record :func:`mbert_lab.data.datasets.load_udpos` gives."""
    sents = load_hub_ud(name, lang, split, revision, **kw)
    out = [TaggedSentence(s.words, s.upos, s.path, s.line) for s in sents]
    return HubRecords(out, sents.provenance)


HUB_LOADERS: dict[str, Callable[..., HubRecords]] = {
    "xnli": load_hub_xnli,
    "paws-x": load_hub_pawsx,
    "masakhaner": load_hub_ner,
    "ud": load_hub_ud,
    "ud-pos": load_hub_pos,
}


def load_hub(
    dataset: str,
    source: str | HubSource | PathLike | None,
    lang: str,
    split: str,
    revision: str | None = None,
    **kw: Any,
) -> HubRecords:
    """The loader of ``dataset`` (``xnli``, ``paws-x``, ``masakhaner``, ``ud``,
    ``ud-pos``) on ``source`` (``hub:ID[@REV]``, a hub id, a local folder, or None for the
    upstream id).

    >>> load_hub("xnl", None, "de", "dev")
    Traceback (most recent call last):
    ...
    mbert_lab.errors.ConfigError: unknown hub dataset 'xnl' (did you mean 'xnli'?); valid \
choices: masakhaner, paws-x, ud, ud-pos, xnli
    """
    if dataset not in HUB_LOADERS:
        raise choice_error("hub dataset", dataset, HUB_LOADERS)
    return HUB_LOADERS[dataset](source, lang, split, revision, **kw)


__all__ = [
    "HUB_LOADERS",
    "HUB_IDS",
    "PARQUET_EXPORT",
    "SCRIPT_REPOS",
    "HubProvenance",
    "HubRecords",
    "HubSource",
    "hub_reachable",
    "load_hub",
    "load_hub_ner",
    "load_hub_pawsx",
    "load_hub_pos",
    "load_hub_ud",
    "load_hub_xnli",
    "open_split",
    "parse_source",
]
