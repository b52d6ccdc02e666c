"""The dataset catalogue: the one place that builds dataset paths under the data root.

Languages, splits, MUSE pairs and categories come from **what is on disk** in the upstream
layout (plus what the data cards list, so that a missing file still says how to fetch it):
any language whose files are present is usable, including languages the language table
has never named (e.g. local-use codes ``qaa``-``qtz``).

=================  ===============================================================  =====
dataset            files under the data root (upstream names)                        codes
=================  ===============================================================  =====
``tatoeba``        ``tatoeba/v1/tatoeba.<xxx>-eng.<xxx>`` + ``.eng``                 639-3
``ud-pud``         ``ud-pud/<xx>_pud-ud-test.conllu``                                file
``ud``             ``ud/**/<xx>_<treebank>-ud-<split>.conllu`` (any UD treebank)     file
``xtreme-udpos``   ``xtreme-udpos/<split>-<xx>.tsv``                                 file
``xnli``           ``xnli/<split>-<xx>.tsv``                                         file
``paws-x``         ``paws-x/<split>-<xx>.tsv``                                       file
``conll2003-en``   ``ner/conll2003-en/<split>.txt``                                  --
``masakhaner-v1``  ``ner/masakhaner-v1/<xxx>/<split>.txt``                           639-3
``masakhaner-v2``  ``ner/masakhaner-v2/<xxx>/<split>.txt`` (any subset of splits)    639-3
``muse``           ``muse/<s>-<t>.<range>.txt``, ``muse/by-pos/<s>-<t>.<range>.<cat>.txt``
``word-alignment`` ``word-alignment/<name>.src-tgt`` + ``<name>.gold``
=================  ===============================================================  =====

A language code given by a user is valid when the language table knows it (ISO 639-1,
639-3 or an alias) or when the dataset has files for it under the root
(:func:`check_language`); otherwise ``ConfigError("unknown language 'zz': not in the
language table and no <dataset> files for it under <root> (found: ...)")``.

>>> corpus = load_tatoeba("deu")                                 # doctest: +SKIP
>>> gold = load_gold_alignment("enfr"); gold.index_base          # doctest: +SKIP
1
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, DataMissingError, InputError, choice_error
from ..paths import data_root
from .readers.alignment import AlignmentGold, read_alignment
from .readers.conllu import UDSentence, read_conllu
from .readers.muse import MUSE_RECOMMENDED, DictEntry, read_dictionary
from .readers.ner import read_conll_ner
from .readers.nli import NliPair, ParaphrasePair, read_pawsx_tsv, read_xnli_tsv
from .readers.parallel import ParallelCorpus, read_parallel_corpus
from .readers.tagged import TaggedSentence, read_tagged_tsv

PathLike = str | Path

# ============================================================================ layouts


@dataclass(frozen=True)
class Layout:
    """Where a dataset's files live: ``folder`` (relative to the root) and a regular
    expression over root-relative POSIX paths with named groups (``lang``, ``split``,
    ``tb``, ``src``, ``tgt``, ``cat``, ``name``). ``code_len`` is the length of the
    language codes upstream file names use (2: ISO 639-1, 3: ISO 639-3)."""

    name: str
    folder: str
    pattern: str
    code_len: int = 2


_C = r"[a-z]{2,3}"
LAYOUTS: dict[str, Layout] = {
    "tatoeba": Layout(
        "tatoeba", "tatoeba/v1", rf"tatoeba/v1/tatoeba\.(?P<lang>{_C})-eng\.(?P=lang)", 3
    ),
    "ud-pud": Layout("ud-pud", "ud-pud", rf"ud-pud/(?P<lang>{_C})_pud-ud-(?P<split>test)\.conllu"),
    "ud": Layout(
        "ud",
        "ud",
        rf"ud/(?:[^/]+/)*(?P<lang>{_C})_(?P<tb>[a-z0-9]+)-ud-(?P<split>train|dev|test)\.conllu",
    ),
    "xtreme-udpos": Layout(
        "xtreme-udpos", "xtreme-udpos", rf"xtreme-udpos/(?P<split>[a-z]+)-(?P<lang>{_C})\.tsv"
    ),
    "xnli": Layout("xnli", "xnli", rf"xnli/(?P<split>[a-z]+)-(?P<lang>{_C})\.tsv"),
    "paws-x": Layout("paws-x", "paws-x", rf"paws-x/(?P<split>[a-z]+)-(?P<lang>{_C})\.tsv"),
    "conll2003-en": Layout(
        "conll2003-en", "ner/conll2003-en", r"ner/conll2003-en/(?P<split>[a-z]+)\.txt"
    ),
    "masakhaner-v1": Layout(
        "masakhaner-v1",
        "ner/masakhaner-v1",
        rf"ner/masakhaner-v1/(?P<lang>{_C})/(?P<split>[a-z]+)\.txt",
        3,
    ),
    "masakhaner-v2": Layout(
        "masakhaner-v2",
        "ner/masakhaner-v2",
        rf"ner/masakhaner-v2/(?P<lang>{_C})/(?P<split>[a-z]+)\.txt",
        3,
    ),
    "muse": Layout(
        "muse",
        "muse",
        rf"muse/(?P<pos>by-pos/)?(?P<src>{_C})-(?P<tgt>{_C})\.(?P<split>0-5000|5000-6500)"
        r"(?:\.(?P<cat>[a-z]+))?\.txt",
    ),
    "word-alignment": Layout(
        "word-alignment", "word-alignment", r"word-alignment/(?P<name>[a-z0-9]+)\.gold"
    ),
}

# dataset name -> loader function of this module (called with keyword args)
LOADERS: dict[str, str] = {
    "tatoeba": "load_tatoeba",
    "ud-pud": "load_pud",
    "ud": "load_ud",
    "xtreme-udpos": "load_udpos",
    "word-alignment": "load_gold_alignment",
    "muse": "load_muse",
    "xnli": "load_xnli",
    "paws-x": "load_pawsx",
    "conll2003-en": "load_ner",
    "masakhaner-v1": "load_ner",
    "masakhaner-v2": "load_ner",
}

NER_TYPES: dict[str, frozenset[str]] = {
    "conll2003-en": frozenset({"PER", "ORG", "LOC"}),
    "masakhaner-v1": frozenset({"PER", "ORG", "LOC", "DATE"}),
    "masakhaner-v2": frozenset({"PER", "ORG", "LOC", "DATE"}),
}
MASAKHANER_VERSIONS: tuple[str, ...] = ("v1", "v2")

ALIGNMENT_SETS: dict[str, tuple[str, str]] = {
    "enfr": ("eng", "fra"),
    "roen": ("ron", "eng"),
    "jaen": ("jpn", "eng"),
}


def _root(root: PathLike | None) -> Path:
    return Path(root).expanduser().resolve() if root is not None else data_root()


def _layout(dataset: str) -> Layout:
    if dataset not in LAYOUTS:
        raise choice_error("dataset", dataset, LAYOUTS)
    return LAYOUTS[dataset]


def loader(name: str):
    """The loader function of a dataset (e.g. ``loader("xnli") is load_xnli``)."""
    _layout(name)
    return globals()[LOADERS[name]]


# ============================================================================ discovery


def files_on_disk(dataset: str, root: PathLike | None = None) -> list[str]:
    """Root-relative POSIX paths of every file under the dataset's folder (sorted)."""
    r = _root(root)
    top = r / _layout(dataset).folder
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for f in filenames:
            out.append((Path(dirpath) / f).relative_to(r).as_posix())
    return sorted(out)


def _card_files(dataset: str) -> list[str]:
    from .cards import load_cards

    c = load_cards().get(dataset)
    return list(c.files) if c is not None else []


def matches(
    dataset: str, root: PathLike | None = None, *, card: bool = False
) -> list[tuple[str, dict[str, str]]]:
    """``(path, groups)`` of the dataset's files in the upstream layout: those on disk,
    and with ``card=True`` also those its data card lists (present or not)."""
    rx = re.compile(_layout(dataset).pattern)
    paths = set(files_on_disk(dataset, root))
    if card:
        paths |= set(_card_files(dataset))
    out = []
    for p in sorted(paths):
        m = rx.fullmatch(p)
        if m:
            g = {k: v for k, v in m.groupdict().items() if v is not None}
            if dataset == "muse" and ("pos" in g) != ("cat" in g):
                continue
            out.append((p, g))
    return out


def _values(dataset: str, key: str, root, card: bool, **where: str) -> list[str]:
    return sorted(
        {
            g[key]
            for _, g in matches(dataset, root, card=card)
            if key in g and all(g.get(k) == v for k, v in where.items())
        }
    )


def available_languages(
    dataset: str, root: PathLike | None = None, *, stored: bool = False
) -> list[str]:
    """The language codes (as in the file names) the dataset has files for under the root;
    with ``stored=True`` in their stored form (ISO 639-3 where the language table knows
    the code, else the file's code).

    MUSE: the languages of either side of its pairs; ``word-alignment``: the set names.

    >>> available_languages("xnli", "/nonexistent")
    []
    """
    if dataset == "muse":
        codes = sorted({x for p in muse_pairs(root, card=False) for x in p.split("-")})
    elif dataset == "conll2003-en":
        codes = ["en"] if matches(dataset, root) else []
    elif dataset == "word-alignment":
        return _values(dataset, "name", root, False)
    else:
        codes = _values(dataset, "lang", root, False)
    if stored:
        from ..languages import storage_code

        return sorted({storage_code(c) for c in codes})
    return codes


def _found(dataset: str, root: PathLike | None) -> str:
    langs = available_languages(dataset, root)
    return ", ".join(langs) if langs else "none"


def check_language(dataset: str, code: str, root: PathLike | None = None) -> str:
    """Validate a user's language code for ``dataset`` and return its stored form:
    ISO 639-3 where the language table knows it, else the code as the files name it.

    Valid when the table knows the code or the dataset has files for it under the root;
    otherwise a ConfigError ``unknown language 'zz': not in the language table and no
    <dataset> files for it under <root> (found: ...)``.
    """
    from ..languages import is_known, storage_code

    c = str(code).strip()
    if not c:
        raise ConfigError(f"empty language code for {dataset}")
    if is_known(c):
        return storage_code(c)
    if c.lower() in available_languages(dataset, root):
        return c.lower()
    raise ConfigError(
        f"unknown language '{c}': not in the language table and no {dataset} files for it "
        f"under {_root(root)} (found: {_found(dataset, root)})"
    )


def check_languages(
    dataset: str, codes: str | Iterable[str], root: PathLike | None = None
) -> tuple[str, ...]:
    """:func:`check_language` for a comma string or a list of codes."""
    if isinstance(codes, str):
        codes = codes.split(",")
    return tuple(check_language(dataset, c, root) for c in codes)


def dataset_code(dataset: str, code: str, root: PathLike | None = None) -> str:
    """The code the dataset's file names use for a user's code (639-1, 639-3, alias or the
    file's own code); validates with :func:`check_language`."""
    from ..languages import get_language, is_known, to_iso639_3

    c = str(code).strip().lower()
    natives = _values(dataset, "lang", root, True)
    if c in natives:
        return c
    iso = check_language(dataset, code, root)
    for n in natives:
        if is_known(n) and to_iso639_3(n) == iso:
            return n
    if not is_known(iso):
        return iso
    lang = get_language(iso)
    return lang.part1 if _layout(dataset).code_len == 2 and lang.part1 else lang.code


def language_info(code: str):
    """:func:`mbert_lab.languages.language_info` (``"unknown"`` where the table has nothing)."""
    from ..languages import language_info as _info

    return _info(code)


def _require(dataset: str, rel: str, root: PathLike | None, what: str = "") -> Path:
    r = _root(root)
    p = r / rel
    if p.is_file():
        return p
    hint = (
        f"run `mbert-lab data get {dataset}`"
        if rel in _card_files(dataset)
        else f"put the file there in the upstream layout ({_layout(dataset).folder}/...)"
    )
    raise DataMissingError(
        f"dataset '{dataset}': file {rel} not found under the data root {r}"
        + (f" ({what})" if what else "")
        + f"; set $MBERT_LAB_DATA to the mirror, or {hint}"
    )


def _split(dataset: str, split: str, have: Sequence[str], where: str) -> None:
    if split not in have:
        raise DataMissingError(
            f"{where} has no '{split}' split (splits present: {', '.join(have) or 'none'})"
        )


def discovered(root: PathLike | None = None) -> dict[str, list[str]]:
    """Datasets without a data card that have files in the upstream layout under the root:
    name -> files (e.g. ``masakhaner-v2``, ``ud``)."""
    from .cards import load_cards

    cards = load_cards()
    out = {}
    for name in LAYOUTS:
        if name not in cards:
            files = [p for p, _ in matches(name, root)]
            if files:
                out[name] = files
    return out


# ============================================================================ loaders


def tatoeba_languages(root: PathLike | None = None) -> list[str]:
    """The ISO 639-3 codes of the Tatoeba test sets (the card's and any on disk).

    >>> len(tatoeba_languages()) >= 112, tatoeba_languages()[:3]
    (True, ['afr', 'amh', 'ang'])
    """
    return _values("tatoeba", "lang", root, True)


def load_tatoeba(
    lang: str, *, root: PathLike | None = None, empty: Literal["error", "skip"] = "error"
) -> ParallelCorpus:
    """Tatoeba test pairs ``lang`` -> English (source = ``lang``, target = ``eng``)."""
    code = dataset_code("tatoeba", lang, root)
    a = _require("tatoeba", f"tatoeba/v1/tatoeba.{code}-eng.{code}", root)
    b = _require("tatoeba", f"tatoeba/v1/tatoeba.{code}-eng.eng", root)
    return read_parallel_corpus(a, b, src_lang=code, tgt_lang="eng", empty=empty)


def pud_languages(root: PathLike | None = None) -> list[str]:
    """The PUD languages, as in the file names (``en``, ``de``, ...)."""
    return _values("ud-pud", "lang", root, True)


def _by_sent_id(sents: list[UDSentence], path: Path) -> dict[str, UDSentence]:
    out: dict[str, UDSentence] = {}
    for s in sents:
        if s.sent_id is None:
            raise InputError(
                "sentence without '# sent_id' (needed to align PUD across languages)", path, s.line
            )
        out[s.sent_id] = s
    return out


def load_pud(lang: str, *, root: PathLike | None = None) -> dict[str, UDSentence]:
    """PUD sentences of one language keyed by ``sent_id`` (file order kept)."""
    code = dataset_code("ud-pud", lang, root)
    path = _require("ud-pud", f"ud-pud/{code}_pud-ud-test.conllu", root)
    return _by_sent_id(read_conllu(path), path)


def ud_treebanks(lang: str | None = None, root: PathLike | None = None) -> list[str]:
    """Root-relative paths of the UD treebank files under ``ud/`` (of one language)."""
    code = dataset_code("ud", lang, root) if lang is not None else None
    return [p for p, g in matches("ud", root) if code is None or g["lang"] == code]


def load_ud(
    lang: str, split: str = "test", *, treebank: str | None = None, root: PathLike | None = None
) -> list[UDSentence]:
    """Sentences of a UD treebank under ``ud/`` (any depth, upstream file names such as
    ``ud/UD_Finnish-TDT/fi_tdt-ud-test.conllu``). ``treebank`` (e.g. ``tdt``) chooses when
    a language has several."""
    code = dataset_code("ud", lang, root)
    found = [(p, g) for p, g in matches("ud", root) if g["lang"] == code]
    tbs = sorted({g["tb"] for _, g in found})
    if not found:
        raise DataMissingError(
            f"dataset 'ud': no treebank for '{lang}' under {_root(root)}/ud "
            f"(languages present: {_found('ud', root)})"
        )
    if treebank is None:
        if len(tbs) > 1:
            raise ConfigError(f"'{lang}' has several UD treebanks ({', '.join(tbs)}); pick one")
        treebank = tbs[0]
    if treebank not in tbs:
        raise choice_error(f"UD treebank for '{lang}'", treebank, tbs)
    have = sorted(g["split"] for _, g in found if g["tb"] == treebank)
    _split("ud", split, have, f"UD treebank {code}_{treebank}")
    rel = next(p for p, g in found if g["tb"] == treebank and g["split"] == split)
    return read_conllu(_root(root) / rel)


@dataclass(frozen=True)
class ParallelSentence:
    """The same PUD sentence in several languages."""

    sent_id: str
    by_lang: dict[str, UDSentence]


def load_pud_parallel(
    langs: Sequence[str] | None = None,
    *,
    root: PathLike | None = None,
    missing: Literal["error", "intersect"] = "error",
) -> list[ParallelSentence]:
    """PUD sentences aligned across languages by ``sent_id`` (order of the first language).

    A ``sent_id`` absent from some language raises an InputError naming it and the
    language, unless ``missing='intersect'`` (then only ids present everywhere are kept).
    """
    codes = [dataset_code("ud-pud", x, root) for x in (langs or pud_languages(root))]
    per = {c: load_pud(c, root=root) for c in codes}
    first = per[codes[0]]
    common = set(first)
    for c in codes[1:]:
        diff = set(first) ^ set(per[c])
        if diff and missing == "error":
            sid = sorted(diff)[0]
            where = codes[0] if sid not in first else c
            raise InputError(
                f"sent_id '{sid}' is missing from the {where} PUD file ({len(diff)} ids differ "
                f"between {codes[0]} and {c}); pass missing='intersect' to keep the common ids"
            )
        common &= set(per[c])
    return [
        ParallelSentence(sid, {c: per[c][sid] for c in codes}) for sid in first if sid in common
    ]


def udpos_languages(split: str = "dev", root: PathLike | None = None) -> list[str]:
    """Languages with a UD-POS file for ``split`` (mirror: 'train' en only; 'dev' seven)."""
    return _values("xtreme-udpos", "lang", root, True, split=split)


def load_udpos(split: str, lang: str, *, root: PathLike | None = None) -> list[TaggedSentence]:
    """XTREME UD-POS sentences of ``split`` ('train', 'dev', ...) and ``lang``."""
    code = dataset_code("xtreme-udpos", lang, root)
    have = _values("xtreme-udpos", "split", root, True, lang=code)
    if have:
        _split("xtreme-udpos", split, have, f"xtreme-udpos for '{code}'")
    return read_tagged_tsv(_require("xtreme-udpos", f"xtreme-udpos/{split}-{code}.tsv", root))


def xnli_languages(root: PathLike | None = None) -> list[str]:
    return _values("xnli", "lang", root, True, split="dev")


def pawsx_languages(root: PathLike | None = None) -> list[str]:
    return _values("paws-x", "lang", root, True, split="dev")


def _pair_file(dataset: str, lang: str, split: str, root) -> Path:
    code = dataset_code(dataset, lang, root)
    have = _values(dataset, "split", root, True, lang=code)
    if have:
        _split(dataset, split, have, f"{dataset} for '{code}'")
    return _require(dataset, f"{dataset}/{split}-{code}.tsv", root)


def load_xnli(lang: str, split: str = "dev", *, root: PathLike | None = None) -> list[NliPair]:
    """XNLI items of one language (the mirror has 'dev' only). Parallel across languages:
    see :func:`mbert_lab.data.splits.parallel_item_split`."""
    return read_xnli_tsv(_pair_file("xnli", lang, split, root))


def load_pawsx(
    lang: str, split: str = "dev", *, root: PathLike | None = None
) -> list[ParaphrasePair]:
    """PAWS-X items of one language (the mirror has 'dev' only); see ``untranslated``."""
    return read_pawsx_tsv(_pair_file("paws-x", lang, split, root))


def masakhaner_languages(
    version: str | None = None, root: PathLike | None = None
) -> list[str]:
    """MasakhaNER languages (ISO 639-3) of ``version`` ('v1', 'v2'; None: either)."""
    versions = [version] if version else list(MASAKHANER_VERSIONS)
    for v in versions:
        if v not in MASAKHANER_VERSIONS:
            raise choice_error("MasakhaNER version", v, MASAKHANER_VERSIONS)
    return sorted({x for v in versions for x in _values(f"masakhaner-{v}", "lang", root, True)})


def _masakhaner_versions_of(lang: str, root: PathLike | None, *, card: bool) -> list[str]:
    """The MasakhaNER versions with ``lang``: among the files on disk (``card=False``) or on
    disk plus what the cards list (``card=True``)."""
    out = []
    for v in MASAKHANER_VERSIONS:
        name = f"masakhaner-{v}"
        try:
            code = dataset_code(name, lang, root)
        except ConfigError:
            continue
        if code in _values(name, "lang", root, card):
            out.append(v)
    return out


def masakhaner_version(
    lang: str, version: str | None = None, root: PathLike | None = None
) -> str:
    """The MasakhaNER dataset name for a language: ``version`` when given (it must have the
    language), else the only version with files for it on disk, else ``masakhaner-v1`` when
    both have them (the project's published figures use 1.0; pass ``version='v2'`` for 2.0);
    a language only a card lists (files not fetched yet) picks that card's version."""
    if version is not None and version not in MASAKHANER_VERSIONS:
        raise choice_error("MasakhaNER version", version, MASAKHANER_VERSIONS)
    have = _masakhaner_versions_of(lang, root, card=True)
    on_disk = _masakhaner_versions_of(lang, root, card=False)
    if version is not None:
        if version not in have:
            raise DataMissingError(
                f"MasakhaNER {version} has no files for '{lang}' under {_root(root)} "
                f"(versions with it: {', '.join(have) or 'none'}; "
                f"{version} languages: {', '.join(masakhaner_languages(version, root)) or 'none'})"
            )
        return f"masakhaner-{version}"
    if not have:
        from ..languages import is_known

        if not is_known(lang):
            check_language("masakhaner-v2", lang, root)  # raises the unknown-language error
        raise DataMissingError(
            f"MasakhaNER has no files for '{lang}' under {_root(root)} "
            f"(languages present: {', '.join(masakhaner_languages(None, root)) or 'none'})"
        )
    return f"masakhaner-{(on_disk or have)[0]}"


def load_ner(
    name: str,
    split: str,
    lang: str | None = None,
    *,
    version: str | None = None,
    root: PathLike | None = None,
    iob: Literal["repair", "strict", "keep"] = "repair",
) -> list[TaggedSentence]:
    """NER sentences: ``load_ner("conll2003-en", "train")``,
    ``load_ner("masakhaner-v1", "test", "yor")``, ``load_ner("masakhaner-v2", "dev", "zul")``
    or ``load_ner("masakhaner", "test", "yor", version="v2")`` (version chosen by
    :func:`masakhaner_version`). A missing split names the splits present.
    See :func:`mbert_lab.data.readers.ner.read_conll_ner` for ``iob``.
    """
    if name == "masakhaner":
        if lang is None:
            raise ConfigError("masakhaner needs a language")
        name = masakhaner_version(lang, version, root)
    if name not in NER_TYPES:
        raise choice_error("NER dataset", name, list(NER_TYPES) + ["masakhaner"])
    if name == "conll2003-en":
        if lang is not None and check_language(name, lang, root) != "eng":
            raise ConfigError("conll2003-en is English only")
        have = _values(name, "split", root, True)
        _split(name, split, have, "conll2003-en")
        rel = f"ner/conll2003-en/{split}.txt"
    else:
        if lang is None:
            raise ConfigError(
                f"{name} needs a language; present: {', '.join(_values(name, 'lang', root, True))}"
            )
        code = dataset_code(name, lang, root)
        have = _values(name, "split", root, True, lang=code)
        if not have:
            raise DataMissingError(
                f"dataset '{name}': no files for '{lang}' under {_root(root)} "
                f"(languages present: {_found(name, root)})"
            )
        _split(name, split, have, f"{name}/{code}")
        rel = f"ner/{name}/{code}/{split}.txt"
    return read_conll_ner(_require(name, rel, root), types=NER_TYPES[name], iob=iob)


def muse_pairs(
    root: PathLike | None = None, *, split: str = "5000-6500", card: bool = True
) -> list[str]:
    """MUSE language pairs ('de-en', ...) with a combined or a by-pos file for ``split``."""
    return sorted(
        {
            f"{g['src']}-{g['tgt']}"
            for _, g in matches("muse", root, card=card)
            if g["split"] == split
        }
    )


def _muse_files(pair: str, split: str, root) -> tuple[list[str], bool]:
    """(categories with a by-pos file, whether the combined file exists) for a pair."""
    a, _, b = pair.partition("-")
    cats, combined = [], False
    for _, g in matches("muse", root, card=True):
        if (g["src"], g["tgt"], g["split"]) == (a, b, split):
            if "cat" in g:
                cats.append(g["cat"])
            else:
                combined = True
    return sorted(cats), combined


def muse_categories(pair: str, root: PathLike | None = None, split: str = "5000-6500") -> list[str]:
    """The part-of-speech categories annotated for ``pair`` (de-en: all six; es: pn, o;
    none for a pair with only the combined file)."""
    return _muse_files(_muse_pair(pair, root, split), split, root)[0]


def _muse_pair(pair: str, root, split: str = "5000-6500") -> str:
    pairs = muse_pairs(root, split=split)
    p = pair.replace("_", "-").lower()
    if p in pairs:
        return p
    a, sep, b = p.partition("-")
    if not sep:
        raise ConfigError(f"MUSE pair '{pair}': expected 'src-tgt' such as 'de-en'")
    from ..languages import is_known, to_iso639_3

    want = (check_language("muse", a, root), check_language("muse", b, root))
    for q in pairs:
        x, _, y = q.partition("-")
        got = tuple(to_iso639_3(c) if is_known(c) else c for c in (x, y))
        if got == want:
            return q
    raise DataMissingError(
        f"dataset 'muse': no {split} dictionary for '{pair}' under {_root(root)} "
        f"(pairs present: {', '.join(pairs) or 'none'})"
    )


def _dedupe(entries: list[DictEntry]) -> list[DictEntry]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for e in entries:
        if (e.src, e.tgt) not in seen:
            seen.add((e.src, e.tgt))
            kept.append(e)
    return kept


def load_muse(
    pair: str,
    categories: Iterable[str] | str | None = None,
    *,
    root: PathLike | None = None,
    dedupe: bool = True,
    split: str = "5000-6500",
) -> list[DictEntry]:
    """MUSE entries of ``pair`` with their part-of-speech category (``split`` '5000-6500'
    (test, default) or '0-5000' (train)).

    ``categories``: None = all categories of the pair; ``"recommended"`` = n, v, a, o (as
    the annotators advise; for en-es/es-en that is 'o'); or a list such as ``["n", "v"]``.
    A pair without ``by-pos/`` files falls back to the combined ``muse/<pair>.<split>.txt``
    (entries without a category; ``"recommended"`` then means all of it, and a list of
    categories is an error).
    ``dedupe`` drops repeated (source, target) lines within a category (de-en has 31);
    a pair filed under two categories stays once per category.
    """
    p = _muse_pair(pair, root, split)
    have, combined = _muse_files(p, split, root)
    if not have:
        if categories not in (None, "recommended"):
            raise ConfigError(
                f"MUSE {p} has no part-of-speech files (muse/by-pos/); only the combined "
                "dictionary: pass categories=None"
            )
        entries = read_dictionary(_require("muse", f"muse/{p}.{split}.txt", root))
        return _dedupe(entries) if dedupe else entries
    if categories is None:
        cats = have
    elif categories == "recommended":
        cats = [c for c in MUSE_RECOMMENDED if c in have]
    else:
        cats = [categories] if isinstance(categories, str) else list(categories)
        for c in cats:
            if c not in have:
                raise choice_error(f"MUSE category for {p}", c, have)
    out: list[DictEntry] = []
    for c in cats:
        rel = f"muse/by-pos/{p}.{split}.{c}.txt"
        entries = read_dictionary(_require("muse", rel, root), category=c)
        out.extend(_dedupe(entries) if dedupe else entries)
    return out


def load_muse_combined(
    pair: str, *, root: PathLike | None = None, split: str = "5000-6500"
) -> list[DictEntry]:
    """The combined ``muse/<pair>.<split>.txt`` (all categories, sorted, no category)."""
    p = _muse_pair(pair, root, split)
    return read_dictionary(_require("muse", f"muse/{p}.{split}.txt", root))


def alignment_sets(root: PathLike | None = None) -> list[str]:
    """Names of the gold alignment sets (mirror: ``enfr``, ``jaen``, ``roen``)."""
    return _values("word-alignment", "name", root, True)


def load_gold_alignment(
    name: str, *, index_base: int | None = None, root: PathLike | None = None
) -> AlignmentGold:
    """A gold alignment set by name (``enfr``, ``roen``, ``jaen``; ``en-fr`` works too).

    The index convention is detected (these files are 1-based) unless ``index_base`` is
    given; links come back 0-based, with the evidence in ``index_evidence``.
    """
    key = name.replace("-", "").replace("_", "").lower()
    have = alignment_sets(root)
    if key not in have:
        raise choice_error("gold alignment set", name, have)
    src, tgt = ALIGNMENT_SETS.get(key, ("src", "tgt"))
    return read_alignment(
        _require("word-alignment", f"word-alignment/{key}.src-tgt", root),
        _require("word-alignment", f"word-alignment/{key}.gold", root),
        index_base=index_base,
        name=key,
        src_lang=src,
        tgt_lang=tgt,
    )


def dataset_files(dataset: str, root: PathLike | None = None) -> list[Path]:
    """Absolute paths of a dataset's files present under the root (layout matches)."""
    r = _root(root)
    return [r / p for p, _ in matches(dataset, root)]


def language_table(dataset: str, root: PathLike | None = None) -> list[dict[str, Any]]:
    """One row per language the dataset has files for: its file code and its
    :class:`~mbert_lab.languages.LanguageInfo` fields ("unknown" where the table has nothing)."""
    return [
        {"file_code": c, **language_info(c).to_dict()}
        for c in available_languages(dataset, root)
    ]


# ============================================================================ transfer tasks

# task -> its evaluation suites (first = primary). POS: ``pud`` (UD PUD test) and
# ``xtreme-dev`` (XTREME UD-POS dev); NER: two label views of the same files (CoNLL-2003
# English and MasakhaNER); XNLI / PAWS-X: ``heldout`` (the evaluation half of the dev items).
TRANSFER_SUITES: dict[str, tuple[str, ...]] = {
    "pos": ("pud", "xtreme-dev"),
    "ner": ("date-as-O", "date-kept"),
    "xnli": ("heldout",),
    "pawsx": ("heldout",),
}
_PAIR_DATASET = {"xnli": "xnli", "pawsx": "paws-x"}


def _task(task: Any) -> str:
    t = str(getattr(task, "value", task)).strip().lower().replace("-", "")
    if t not in TRANSFER_SUITES:
        raise choice_error("transfer task", t, TRANSFER_SUITES)
    return t


def _suite(task: str, suite: str) -> None:
    if suite not in TRANSFER_SUITES[task]:
        raise choice_error(f"{task} evaluation suite", suite, TRANSFER_SUITES[task])


def transfer_train_file(
    task: Any, lang: str = "en", *, root: PathLike | None = None
) -> tuple[str, Path]:
    """(dataset, path) of a transfer task's training data in ``lang``: POS
    ``xtreme-udpos/train-<xx>.tsv``, NER ``ner/conll2003-en/train.txt`` (English),
    XNLI / PAWS-X ``<set>/dev-<xx>.tsv`` (a run trains on part of its items)."""
    t = _task(task)
    if t == "pos":
        code = dataset_code("xtreme-udpos", lang, root)
        return "xtreme-udpos", _require("xtreme-udpos", f"xtreme-udpos/train-{code}.tsv", root)
    if t == "ner":
        if check_language("conll2003-en", lang, root) != "eng":
            raise ConfigError(
                f"NER training data under the data root is English (conll2003-en) only, "
                f"not '{lang}'"
            )
        return "conll2003-en", _require("conll2003-en", "ner/conll2003-en/train.txt", root)
    ds = _PAIR_DATASET[t]
    return ds, _require(ds, f"{ds}/dev-{dataset_code(ds, lang, root)}.tsv", root)


def transfer_languages(
    task: Any, suite: str, *, root: PathLike | None = None, split: str = "dev"
) -> list[str]:
    """The language codes (as the files name them) with evaluation files of a suite under
    the root; NER: ``en`` when ``ner/conll2003-en/<split>.txt`` exists, and every language
    with files in MasakhaNER 1.0 or 2.0 (a missing split is reported by
    :func:`transfer_eval_file`)."""
    t = _task(task)
    _suite(t, suite)
    if t == "pos":
        if suite == "pud":
            return available_languages("ud-pud", root)
        return _values("xtreme-udpos", "lang", root, False, split="dev")
    if t == "ner":
        have = files_on_disk("conll2003-en", root)
        en = ["en"] if f"ner/conll2003-en/{split}.txt" in have else []
        v12 = [available_languages(f"masakhaner-{v}", root) for v in MASAKHANER_VERSIONS]
        return en + sorted({c for codes in v12 for c in codes})
    return _values(_PAIR_DATASET[t], "lang", root, False, split="dev")


def transfer_eval_file(
    task: Any,
    suite: str,
    lang: str,
    *,
    root: PathLike | None = None,
    split: str = "dev",
    masakhaner: str | None = None,
) -> tuple[str, Path]:
    """(dataset, path) of one evaluation set: POS ``pud`` -> ``ud-pud/<xx>_pud-ud-test.conllu``,
    ``xtreme-dev`` -> ``xtreme-udpos/dev-<xx>.tsv``; NER -> ``ner/conll2003-en/<split>.txt``
    (English) or ``ner/masakhaner-v1|v2/<xxx>/<split>.txt``; XNLI / PAWS-X ->
    ``<set>/dev-<xx>.tsv``. ``masakhaner`` ('v1' / 'v2') chooses the MasakhaNER version when
    a language has files in both (default v1, the project's published figures); a language
    in one version only uses that one. A missing split names the splits present."""
    t = _task(task)
    _suite(t, suite)
    if t == "pos":
        if suite == "pud":
            code = dataset_code("ud-pud", lang, root)
            return "ud-pud", _require("ud-pud", f"ud-pud/{code}_pud-ud-test.conllu", root)
        code = dataset_code("xtreme-udpos", lang, root)
        have = _values("xtreme-udpos", "split", root, False, lang=code)
        if have:
            _split("xtreme-udpos", "dev", have, f"xtreme-udpos for '{code}'")
        return "xtreme-udpos", _require("xtreme-udpos", f"xtreme-udpos/dev-{code}.tsv", root)
    if t == "ner":
        if masakhaner is not None and masakhaner not in MASAKHANER_VERSIONS:
            raise choice_error("MasakhaNER version", masakhaner, MASAKHANER_VERSIONS)
        from ..languages import is_known, to_iso639_3

        if is_known(lang) and to_iso639_3(lang) == "eng":
            have = _values("conll2003-en", "split", root, False)
            if have:
                _split("conll2003-en", split, have, "conll2003-en")
            return "conll2003-en", _require("conll2003-en", f"ner/conll2003-en/{split}.txt", root)
        name = _masakhaner_on_disk(lang, masakhaner, root)
        code = dataset_code(name, lang, root)
        have = _values(name, "split", root, False, lang=code)
        _split(name, split, have, f"{name}/{code}")
        return name, _require(name, f"ner/{name}/{code}/{split}.txt", root)
    ds = _PAIR_DATASET[t]
    return ds, _pair_file(ds, lang, "dev", root)


def _masakhaner_on_disk(lang: str, version: str | None, root) -> str:
    versions = _masakhaner_versions_of(lang, root, card=False)
    if not versions:
        check_language("masakhaner-v2", lang, root)  # an unknown code: the unknown-language error
        raise DataMissingError(
            f"MasakhaNER has no files for '{lang}' under {_root(root)} "
            f"(languages present: {', '.join(masakhaner_languages(None, root)) or 'none'})"
        )
    pick = version if version in versions else versions[0]
    return f"masakhaner-{pick}"


__all__ = [
    "ALIGNMENT_SETS",
    "LAYOUTS",
    "LOADERS",
    "MASAKHANER_VERSIONS",
    "NER_TYPES",
    "Layout",
    "TRANSFER_SUITES",
    "ParallelSentence",
    "alignment_sets",
    "available_languages",
    "check_language",
    "check_languages",
    "dataset_code",
    "dataset_files",
    "discovered",
    "files_on_disk",
    "language_info",
    "language_table",
    "load_gold_alignment",
    "load_muse",
    "load_muse_combined",
    "load_ner",
    "load_pawsx",
    "load_pud",
    "load_pud_parallel",
    "load_tatoeba",
    "load_ud",
    "load_udpos",
    "load_xnli",
    "loader",
    "masakhaner_languages",
    "masakhaner_version",
    "matches",
    "muse_categories",
    "muse_pairs",
    "pawsx_languages",
    "pud_languages",
    "tatoeba_languages",
    "transfer_eval_file",
    "transfer_languages",
    "transfer_train_file",
    "ud_treebanks",
    "udpos_languages",
    "xnli_languages",
]
