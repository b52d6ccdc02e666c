"""Task data for transfer runs: readers, the parallel train/eval split, label checks.

The readers here are small and private to transfer (word/tag TSV, CoNLL-U UPOS, CoNLL NER,
pair TSV); they raise :class:`~mbert_lab.errors.InputError` with file and line on bad input.
(``mbert_lab.data.formats`` is being written on the ``data`` branch; these readers are kept
minimal so switching is a one-line change per reader.)

Parallel pair sets (XNLI, PAWS-X dev): item *i* is line *i* in every language, and only these
dev sets exist. A run trains on part of the English items and evaluates every language on the
*other* items. :func:`split_parallel_items` does the split by item index, grouped so that items
sharing an English premise / first sentence fall on the same side (XNLI has three hypotheses
per premise: an item split alone would put the same premise in both halves).

>>> s = split_parallel_items(10, train_fraction=0.5, seed=0)
>>> sorted(set(s.train) | set(s.eval)) == list(range(10)) and not set(s.train) & set(s.eval)
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataMissingError, InputError
from ..io import sha256_file
from ..results import DatasetProvenance
from .tasks import TASKS, PairExample, Task, TaskType, TokenExample

# ----------------------------------------------------------------------------- readers
# Thin adapters over mbert_lab.data.formats (which checks formats and reports file:line).


def _exists(path: Path) -> Path:
    if not path.exists():
        raise DataMissingError(f"{path}: file not found (is MBERT_LAB_DATA set to the data mirror?)")
    return path


def read_word_tag_tsv(path: str | Path) -> list[TokenExample]:
    """XTREME UD-POS layout: ``word<TAB>TAG`` per line (UPOS checked), blank line between sentences."""
    from ..data.readers.tagged import read_tagged_tsv

    return [TokenExample(s.tokens, s.tags, i) for i, s in enumerate(read_tagged_tsv(_exists(Path(path))))]


def read_conll_ner(path: str | Path) -> list[TokenExample]:
    """CoNLL NER: ``token label`` per line, IOB2 (a stray ``I-X`` is read as ``B-X``, as
    seqeval scores it), blank line between sentences; ``-DOCSTART-`` dropped."""
    from ..data.readers.ner import read_conll_ner as _read

    return [TokenExample(s.tokens, s.tags, i) for i, s in enumerate(_read(_exists(Path(path))))]


def read_conllu_upos(path: str | Path) -> list[TokenExample]:
    """CoNLL-U: FORM and UPOS of each syntactic word (multi-word ranges, empty nodes skipped)."""
    from ..data.readers.conllu import read_conllu

    return [TokenExample(s.words, s.upos, i) for i, s in enumerate(read_conllu(_exists(Path(path))))]


def read_pair_tsv(path: str | Path) -> list[PairExample]:
    """XTREME XNLI / PAWS-X layout ``a<TAB>b<TAB>label``; item = row index. PAWS-X rows whose
    translation is the 'NS' placeholder keep their item index and are marked by ``text_a``
    or ``text_b`` == 'NS' (see :func:`is_untranslated`)."""
    from ..data.readers.text import read_lines

    path = _exists(Path(path))
    out: list[PairExample] = []
    for ln, line in enumerate(read_lines(path), start=1):
        cols = line.split("\t")
        if len(cols) != 3:
            raise InputError(f"expected 3 tab-separated columns (a, b, label), got {len(cols)}", path=path, line=ln)
        if not cols[0].strip() or not cols[1].strip() or not cols[2].strip():
            raise InputError("empty field", path=path, line=ln)
        out.append(PairExample(cols[0], cols[1], cols[2].strip(), item=ln - 1))
    return out


def is_untranslated(ex: PairExample) -> bool:
    from ..data.readers.nli import PAWSX_UNTRANSLATED

    return ex.text_a == PAWSX_UNTRANSLATED or ex.text_b == PAWSX_UNTRANSLATED


# ------------------------------------------------------------------ parallel split


@dataclass(frozen=True)
class ParallelSplit:
    """Disjoint item indices of a parallel set: train on ``train`` (source language only),
    evaluate every language on ``eval``. Construction fails if the halves share an item."""

    train: tuple[int, ...]
    eval: tuple[int, ...]
    n_items: int
    seed: int
    train_fraction: float

    def __post_init__(self) -> None:
        both = set(self.train) & set(self.eval)
        if both:
            raise ValueError(f"parallel split leaks {len(both)} item(s) into both halves, e.g. {sorted(both)[:5]}")
        if not self.train or not self.eval:
            raise ConfigError(
                f"parallel split of {self.n_items} items with train fraction {self.train_fraction} leaves an empty half"
            )

    def fingerprint(self) -> str:
        return hashlib.sha256(
            (",".join(map(str, self.train)) + "|" + ",".join(map(str, self.eval))).encode()
        ).hexdigest()[:16]


def split_parallel_items(
    n_items: int,
    train_fraction: float = 0.5,
    seed: int = 0,
    groups: Sequence[Any] | None = None,
) -> ParallelSplit:
    """Split item indices ``0..n_items-1`` into disjoint train / eval halves
    (:func:`mbert_lab.data.formats.parallel_item_split`, checked again here for leaks).

    ``groups``: one key per item (e.g. the English premise); items of one group always fall
    on the same side. The split depends only on ``seed`` (not on the training seed), so all
    training seeds of a run see the same split.
    """
    if n_items < 2:
        raise ConfigError(f"a parallel split needs at least 2 items, got {n_items}")
    from ..data.splits import parallel_item_split

    sp = parallel_item_split(n_items, train_fraction=train_fraction, seed=seed, groups=groups)
    train, ev = list(sp.train), list(sp.eval)
    return ParallelSplit(tuple(sorted(train)), tuple(sorted(ev)), n_items, seed, train_fraction)


# ---------------------------------------------------------------------- labels


@dataclass(frozen=True)
class LabelPolicy:
    """What to do with evaluation labels the training data lacks.

    ``mapping``: explicit label -> label replacements applied to the evaluation gold (e.g.
    ``{"B-DATE": "O", "I-DATE": "O"}``); ``keep_unseen``: keep remaining unseen labels in the
    gold (they can never be predicted, so they count as misses); otherwise they are an error.
    """

    name: str = "strict"
    mapping: tuple[tuple[str, str], ...] = ()
    keep_unseen: bool = False


def apply_label_policy(
    examples: list[Any], train_labels: Sequence[str], policy: LabelPolicy, where: str
) -> tuple[list[Any], dict[str, Any]]:
    """Map / check the gold labels of ``examples``; return (examples, report).

    Raises InputError naming ``where`` when an unseen label is found and the policy neither
    maps nor keeps it.
    """
    known = set(train_labels)
    mapping = dict(policy.mapping)
    counts: dict[str, int] = {}
    unseen: dict[str, int] = {}
    out: list[Any] = []
    for ex in examples:
        if isinstance(ex, TokenExample):
            new = []
            for lab in ex.labels:
                m = mapping.get(lab, lab)
                if m != lab:
                    counts[lab] = counts.get(lab, 0) + 1
                if m not in known:
                    unseen[m] = unseen.get(m, 0) + 1
                new.append(m)
            out.append(TokenExample(ex.words, tuple(new), ex.item))
        else:
            m = mapping.get(ex.label, ex.label)
            if m != ex.label:
                counts[ex.label] = counts.get(ex.label, 0) + 1
            if m not in known:
                unseen[m] = unseen.get(m, 0) + 1
            out.append(PairExample(ex.text_a, ex.text_b, m, ex.item))
    if unseen and not policy.keep_unseen:
        raise InputError(
            f"evaluation labels not in the training data: {dict(sorted(unseen.items()))} "
            f"(training labels: {sorted(known)}); map them explicitly (e.g. --label-map B-DATE=O,I-DATE=O) "
            "or keep them as always-missed",
            path=where,
        )
    report = {
        "policy": policy.name,
        "mapping": mapping,
        "mapped_counts": counts,
        "unseen_kept_counts": unseen,
    }
    return out, report


def parse_label_map(spec: str | None) -> tuple[tuple[str, str], ...]:
    """'B-DATE=O,I-DATE=O' -> (('B-DATE', 'O'), ('I-DATE', 'O'))."""
    if not spec:
        return ()
    pairs = []
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ConfigError(f"bad --label-map entry '{part}'; use FROM=TO, e.g. B-DATE=O")
        a, b = part.split("=", 1)
        pairs.append((a.strip(), b.strip()))
    return tuple(pairs)


# -------------------------------------------------------------------- task data


@dataclass
class EvalSet:
    """One evaluation set: a suite (e.g. ``pud``) in one language."""

    suite: str
    lang: str
    examples: list[Any]
    label_report: dict[str, Any] = field(default_factory=dict)
    path: str = ""


@dataclass
class TaskData:
    task: Task
    train_lang: str
    train: list[Any]
    evals: list[EvalSet]
    labels: tuple[str, ...]
    primary_suite: str
    datasets: list[DatasetProvenance] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def suites(self) -> list[str]:
        seen: list[str] = []
        for e in self.evals:
            if e.suite not in seen:
                seen.append(e.suite)
        return seen


def _require_nonempty(examples: list[Any], what: str) -> None:
    if not examples:
        raise InputError(f"empty split: {what} has no examples", path=what)


def _subset(examples: list[Any], n: int | None, seed: int = 0) -> list[Any]:
    """A fixed subset of ``n`` examples (same for every training seed), in file order."""
    if n is None or n >= len(examples):
        return examples
    idx = np.sort(np.random.default_rng(seed).choice(len(examples), size=n, replace=False))
    return [examples[int(i)] for i in idx]


def _prov(name: str, root: Path, files: list[Path], split: str, langs: Sequence[str]) -> DatasetProvenance:
    return DatasetProvenance(
        name=name,
        files={str(f.relative_to(root)) if f.is_relative_to(root) else str(f): sha256_file(f) for f in files},
        split=split,
        languages=tuple(langs),
    )


NER_DATE_TO_O = LabelPolicy("date-as-O", (("B-DATE", "O"), ("I-DATE", "O")), keep_unseen=False)
NER_DATE_KEPT = LabelPolicy("date-kept", (), keep_unseen=True)


def load_task_data(
    task: Task | str,
    root: str | Path,
    train_lang: str = "en",
    eval_langs: Sequence[str] | None = None,
    max_train: int | None = None,
    max_eval: int | None = None,
    suites: Sequence[str] | None = None,
    split_fraction: float = 0.5,
    split_seed: int = 0,
    label_map: tuple[tuple[str, str], ...] = (),
    ner_split: str = "dev",
    suite_langs: dict[str, Sequence[str]] | None = None,
) -> TaskData:
    """Read a task's training set and evaluation sets from the data mirror at ``root``.

    POS suites: ``pud`` (UD PUD test, 1000 parallel sentences) and ``xtreme-dev``. NER suites:
    ``date-as-O`` (MasakhaNER DATE mapped to O: the primary view) and ``date-kept`` (DATE left
    in the gold; never predicted, so always missed). XNLI/PAWS-X: ``heldout`` (the eval half).
    ``max_eval`` caps sentences / pairs per evaluation set (first N; parallel sets stay parallel).
    ``suite_langs``: per suite, the languages evaluated in it (mixed suites; default: every
    language of ``eval_langs`` in every suite).
    """
    task = Task.parse(task)
    root = Path(root)
    spec = TASKS[task]
    langs = list(eval_langs or spec.default_eval)
    if train_lang != "en":
        raise ConfigError(f"the data mirror has {task.value} training data for English only; got --train {train_lang}")
    evals: list[EvalSet] = []
    provs: list[DatasetProvenance] = []
    notes: dict[str, Any] = {}

    def cap(xs: list[Any]) -> list[Any]:
        return xs if max_eval is None else xs[:max_eval]

    if task is Task.POS:
        d = root / "xtreme-udpos"
        train_path = d / "train-en.tsv"
        full = read_word_tag_tsv(train_path)
        _require_nonempty(full, str(train_path))
        train = _subset(full, max_train)
        notes["train_pool"] = len(full)
        labels = tuple(sorted({lab for ex in train for lab in ex.labels}))
        provs.append(_prov("xtreme-udpos", root, [train_path], "train", ["en"]))
        suites = list(suites or ("pud", "xtreme-dev"))
        for s in suites:
            if s not in ("pud", "xtreme-dev"):
                from ..errors import choice_error

                raise choice_error("POS evaluation suite", s, ("pud", "xtreme-dev"))
        files: dict[str, list[Path]] = {s: [] for s in suites}
        for s in suites:
            for lang in (suite_langs or {}).get(s, langs):
                if s == "pud":
                    p = root / "ud-pud" / f"{lang}_pud-ud-test.conllu"
                    exs = read_conllu_upos(p)
                else:
                    p = d / f"dev-{lang}.tsv"
                    exs = read_word_tag_tsv(p)
                _require_nonempty(exs, str(p))
                exs, rep = apply_label_policy(cap(exs), labels, LabelPolicy("strict", label_map), str(p))
                evals.append(EvalSet(s, lang, exs, rep, str(p)))
                files[s].append(p)
        for s in suites:
            provs.append(_prov("ud-pud" if s == "pud" else "xtreme-udpos", root, files[s], "test" if s == "pud" else "dev",
                               list((suite_langs or {}).get(s, langs))))
        primary = suites[0]
    elif task is Task.NER:
        d = root / "ner"
        train_path = d / "conll2003-en" / "train.txt"
        full = read_conll_ner(train_path)
        _require_nonempty(full, str(train_path))
        train = _subset(full, max_train)
        notes["train_pool"] = len(full)
        labels = tuple(sorted({lab for ex in train for lab in ex.labels}))
        provs.append(_prov("conll2003-en", root, [train_path], "train", ["en"]))
        suites = list(suites or ("date-as-O", "date-kept"))
        policies = {"date-as-O": NER_DATE_TO_O, "date-kept": NER_DATE_KEPT}
        for s in suites:
            if s not in policies:
                from ..errors import choice_error

                raise choice_error("NER evaluation suite", s, tuple(policies))
        mfiles: list[Path] = []
        for lang in langs:
            if lang == "en":
                p = d / "conll2003-en" / f"{ner_split}.txt"
            else:
                p = d / "masakhaner-v1" / lang / f"{ner_split}.txt"
            raw = read_conll_ner(p)
            _require_nonempty(raw, str(p))
            raw = cap(raw)
            mfiles.append(p)
            for s in suites:
                if suite_langs is not None and lang not in suite_langs.get(s, ()):
                    continue
                pol = policies[s]
                if label_map:
                    pol = LabelPolicy(pol.name, pol.mapping + label_map, pol.keep_unseen)
                exs, rep = apply_label_policy(raw, labels, pol, str(p))
                evals.append(EvalSet(s, lang, exs, rep, str(p)))
        provs.append(_prov("masakhaner-v1+conll2003-en", root, mfiles, ner_split, langs))
        notes["date_mapping"] = (
            "MasakhaNER has DATE, which CoNLL-2003 English training data lacks. 'date-as-O': gold B-DATE/I-DATE "
            "mapped to O (DATE excluded). 'date-kept': DATE left in the gold; the model never predicts it, so "
            "every DATE span is a miss (lower recall)."
        )
        primary = suites[0]
    else:  # XNLI / PAWS-X
        d = root / ("xnli" if task is Task.XNLI else "paws-x")
        src_path = d / f"dev-{train_lang}.tsv"
        src = read_pair_tsv(src_path)
        _require_nonempty(src, str(src_path))
        if any(is_untranslated(x) for x in src):
            raise InputError("the source-language file has untranslated ('NS') rows", path=src_path)
        split = split_parallel_items(len(src), split_fraction, split_seed, groups=[ex.text_a for ex in src])
        train = _subset([src[i] for i in split.train], max_train)
        labels = tuple(sorted({ex.label for ex in train}))
        eval_items = split.eval if max_eval is None else split.eval[:max_eval]
        files_p: list[Path] = []
        for lang in langs:
            p = d / f"dev-{lang}.tsv"
            exs = read_pair_tsv(p)
            if len(exs) != len(src):
                raise InputError(
                    f"not parallel with {src_path.name}: {len(exs)} items vs {len(src)}; items are matched by line",
                    path=p,
                )
            sel = [exs[i] for i in eval_items]
            n_ns = sum(is_untranslated(x) for x in sel)
            if n_ns:  # PAWS-X 'NS': no translation exists; such rows are not scored
                sel = [x for x in sel if not is_untranslated(x)]
                notes.setdefault("untranslated_items_excluded", {})[lang] = n_ns
            _require_nonempty(sel, str(p))
            sel, rep = apply_label_policy(sel, labels, LabelPolicy("strict", label_map), str(p))
            evals.append(EvalSet("heldout", lang, sel, rep, str(p)))
            files_p.append(p)
        provs.append(_prov(d.name, root, sorted(set(files_p + [src_path])), "dev", sorted(set(langs) | {train_lang})))
        notes["split"] = {
            "n_items": split.n_items,
            "train_items": len(split.train),
            "eval_items": len(split.eval),
            "used_train": len(train),
            "used_eval": len(eval_items),
            "train_fraction": split.train_fraction,
            "split_seed": split.seed,
            "grouped_by": "English text_a (premise / sentence1)",
            "fingerprint": split.fingerprint(),
        }
        notes["train_pool"] = len(split.train)
        primary = "heldout"
    if not train:
        raise InputError("empty split: no training examples", path=str(root))
    return TaskData(task, train_lang, train, evals, labels, primary, provs, notes)


def task_type(task: Task) -> TaskType:
    return TASKS[task].type


# ------------------------------------------------------------ languages on disk

SUITES: dict[Task, tuple[str, ...]] = {
    Task.POS: ("pud", "xtreme-dev"),
    Task.NER: ("date-as-O", "date-kept"),
    Task.XNLI: ("heldout",),
    Task.PAWSX: ("heldout",),
}


def _code_files(pattern_dir: Path, glob: str, prefix: str, suffix: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    if pattern_dir.is_dir():
        for p in sorted(pattern_dir.glob(glob)):
            name = p.name if p.is_file() else ""
            if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
                out[name[len(prefix) : len(name) - len(suffix)]] = p
    return out


def language_files(task: Task | str, root: str | Path, suite: str, ner_split: str = "dev") -> dict[str, Path]:
    """The evaluation files of one suite under the data root, by the code their file name uses
    (``de`` for ``ud-pud/de_pud-ud-test.conllu``, ``hau`` for ``ner/masakhaner-v1/hau/``).

    (The mirror's layout is known here and in :func:`load_task_data`; the data catalogue
    will own it.)"""
    task = Task.parse(task)
    root = Path(root)
    if task is Task.POS:
        if suite == "pud":
            return _code_files(root / "ud-pud", "*_pud-ud-test.conllu", "", "_pud-ud-test.conllu")
        return _code_files(root / "xtreme-udpos", "dev-*.tsv", "dev-", ".tsv")
    if task is Task.NER:
        out = {}
        en = root / "ner" / "conll2003-en" / f"{ner_split}.txt"
        if en.is_file():
            out["en"] = en
        m = root / "ner" / "masakhaner-v1"
        if m.is_dir():
            for d in sorted(m.iterdir()):
                if (d / f"{ner_split}.txt").is_file():
                    out[d.name] = d / f"{ner_split}.txt"
        return out
    return _code_files(root / ("xnli" if task is Task.XNLI else "paws-x"), "dev-*.tsv", "dev-", ".tsv")
