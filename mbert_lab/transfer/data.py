"""Task data for transfer runs: readers, the parallel train/eval split, label checks.

Every dataset path comes from the catalogue (:mod:`mbert_lab.data.datasets`:
``transfer_train_file``, ``transfer_eval_file``), from the user's own files
(:func:`read_user_file`) or from hub sources (:func:`mbert_lab.data.hub.load_hub`); the readers
raise :class:`~mbert_lab.errors.InputError` with file and line on bad input.

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
from ..data.datasets import TRANSFER_SUITES as _TRANSFER_SUITES
from .tasks import TASKS, PairExample, Task, TaskType, TokenExample

# ----------------------------------------------------------------------------- readers
# Thin adapters over mbert_lab.data.readers / datasets (which check formats and report file:line).


def _exists(path: Path) -> Path:
    if not path.exists():
        raise DataMissingError(f"{path}: file not found")
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
    (:func:`mbert_lab.data.splits.parallel_item_split`, checked again here for leaks).

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
NER_POLICIES = {"date-as-O": NER_DATE_TO_O, "date-kept": NER_DATE_KEPT}
USER_SUITE = "files"  # the suite of the user's own evaluation files (POS, XNLI, PAWS-X)
# dataset of a ``sources`` entry -> the hub loader (mbert_lab.data.hub.load_hub) it uses
SOURCE_DATASETS = {"xnli": "xnli", "paws-x": "paws-x", "masakhaner": "masakhaner", "ud": "ud-pos"}


def read_user_file(task: Task | str, path: str | Path) -> list[Any]:
    """A user's training / evaluation file for ``task``: POS a CoNLL-U file (``.conllu``,
    e.g. a UD treebank) or ``word<TAB>UPOS`` lines; NER CoNLL (``token label``); XNLI /
    PAWS-X ``a<TAB>b<TAB>label``."""
    task = Task.parse(task)
    if task is Task.POS:
        return read_conllu_upos(path) if str(path).endswith(".conllu") else read_word_tag_tsv(path)
    if task is Task.NER:
        return read_conll_ner(path)
    return read_pair_tsv(path)


def _from_records(records: list[Any]) -> list[Any]:
    """Hub records (TaggedSentence, NliPair, ParaphrasePair) -> task examples."""
    out: list[Any] = []
    for i, r in enumerate(records):
        if hasattr(r, "tags"):
            out.append(TokenExample(tuple(r.tokens), tuple(r.tags), i))
        elif hasattr(r, "premise"):
            out.append(PairExample(r.premise, r.hypothesis, str(r.label), r.item))
        else:
            out.append(PairExample(r.sentence1, r.sentence2, str(r.label), r.item))
    return out


@dataclass
class _Loaded:
    examples: list[Any]
    dataset: str
    where: str
    file: Path | None = None  # a local file (sha256 in provenance)
    hub: Any = None  # a HubProvenance


def _hub(dataset: str, source: str, lang: str, split: str, **kw: Any) -> _Loaded:
    from ..data.hub import load_hub

    recs = load_hub(SOURCE_DATASETS[dataset], source, lang, split, **kw)
    return _Loaded(_from_records(recs), f"hub-{dataset}", recs.provenance.locator, hub=recs.provenance)


def _file(task: Task, dataset: str, path: Path) -> _Loaded:
    return _Loaded(read_user_file(task, path), dataset, str(path), file=path)


def _train_set(task: Task, root: Path, lang: str, train_file: Any, sources: dict[str, str]) -> _Loaded:
    from ..data.datasets import transfer_train_file

    if train_file is not None:
        return _file(task, "user-train", Path(train_file))
    ds = {Task.XNLI: "xnli", Task.PAWSX: "paws-x"}.get(task)
    if ds in sources:
        return _hub(ds, sources[ds], lang, "dev")
    name, path = transfer_train_file(task.value, lang, root=root)
    return _file(task, name, path)


def _eval_set(task: Task, root: Path, suite: str, lang: str, user: dict[str, Any], sources: dict[str, str],
              ner_split: str, masakhaner: str | None) -> _Loaded:
    from ..data.datasets import transfer_eval_file
    from ..languages import is_known, to_iso639_3

    if suite == USER_SUITE or (task is Task.NER and lang in user):
        return _file(task, "user-eval", Path(user[lang]))
    english = is_known(lang) and to_iso639_3(lang) == "eng"
    if task is Task.POS and suite == "pud" and "ud" in sources:
        return _hub("ud", sources["ud"], lang, "test", treebank="pud")
    if task is Task.NER and not english and "masakhaner" in sources:
        return _hub("masakhaner", sources["masakhaner"], lang, ner_split)
    ds = {Task.XNLI: "xnli", Task.PAWSX: "paws-x"}.get(task)
    if ds in sources:
        return _hub(ds, sources[ds], lang, "dev")
    name, path = transfer_eval_file(task.value, suite, lang, root=root, split=ner_split, masakhaner=masakhaner)
    return _file(task, name, path)


def _provenance(loaded: list[tuple[_Loaded, str, str]], root: Path) -> list[DatasetProvenance]:
    """One DatasetProvenance per (dataset, split): files with sha256, hub splits by fingerprint."""
    groups: dict[tuple[str, str], list[tuple[_Loaded, str]]] = {}
    for ld, split, lang in loaded:
        groups.setdefault((ld.dataset, split), []).append((ld, lang))
    out = []
    for (name, split), items in groups.items():
        langs = tuple(dict.fromkeys(lang for _, lang in items))
        files = [ld.file for ld, _ in items if ld.file is not None]
        hubs: dict[str, tuple[Any, list[str]]] = {}
        for ld, lang in items:
            if ld.hub is not None:
                hubs.setdefault(ld.hub.locator, (ld.hub, []))[1].append(lang)
        if files:
            out.append(_prov(name, root, sorted(set(files)), split, langs))
        for h, hl in hubs.values():
            out.append(h.to_dataset_provenance(name, tuple(dict.fromkeys(hl))))
    return out


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
    *,
    masakhaner: str | None = None,
    train_file: str | Path | None = None,
    eval_files: dict[str, str | Path] | None = None,
    sources: dict[str, str] | None = None,
) -> TaskData:
    """Read a task's training set and evaluation sets; every dataset path comes from the
    catalogue (:mod:`mbert_lab.data.datasets`), the user's files or hub ``sources``.

    POS suites: ``pud`` (UD PUD test, 1000 parallel sentences) and ``xtreme-dev``. NER suites:
    ``date-as-O`` (MasakhaNER DATE mapped to O: the primary view) and ``date-kept`` (DATE left
    in the gold; never predicted, so always missed). XNLI/PAWS-X: ``heldout`` (the eval half).
    ``max_eval`` caps sentences / pairs per evaluation set (first N; parallel sets stay parallel).
    ``suite_langs``: per suite, the languages evaluated in it (mixed suites; default: every
    language of ``eval_langs`` in every suite). ``masakhaner``: 'v1' / 'v2' when a language
    has files in both. ``train_file``: the user's training file (:func:`read_user_file`; XNLI /
    PAWS-X then train on all of it and evaluate whole sets). ``eval_files``: language -> the
    user's evaluation file (NER: in every suite; otherwise in the suite ``files``).
    ``sources``: dataset (``xnli``, ``paws-x``, ``masakhaner``, ``ud``) -> hub source
    (``hub:ID[@REV]`` or ``hub:/local/folder``) read instead of the data root.
    """
    task = Task.parse(task)
    root = Path(root)
    spec = TASKS[task]
    user = dict(eval_files or {})
    sources = dict(sources or {})
    langs = list(eval_langs if eval_langs is not None else ([] if user else spec.default_eval))
    if train_lang != "en" and train_file is None:
        raise ConfigError(f"the data root has {task.value} training data for English only; got --train {train_lang}")
    suites = list(suites or ([] if user and not langs and task is not Task.NER else SUITES[task]))
    policies = NER_POLICIES if task is Task.NER else None
    for s in suites:
        if s not in SUITES[task]:
            from ..errors import choice_error

            raise choice_error(f"{task.value} evaluation suite", s, SUITES[task])
    notes: dict[str, Any] = {}
    used: list[tuple[_Loaded, str, str]] = []

    tr = _train_set(task, root, train_lang, train_file, sources)
    _require_nonempty(tr.examples, tr.where)
    used.append((tr, "train" if task in (Task.POS, Task.NER) or train_file else "dev", train_lang))
    split = None
    if task in (Task.XNLI, Task.PAWSX) and train_file is None:
        src = tr.examples
        if any(is_untranslated(x) for x in src):
            raise InputError("the source-language file has untranslated ('NS') rows", path=tr.where)
        split = split_parallel_items(len(src), split_fraction, split_seed, groups=[ex.text_a for ex in src])
        pool = [src[i] for i in split.train]
    else:
        pool = tr.examples
    train = _subset(pool, max_train)
    notes["train_pool"] = len(pool)
    labels = tuple(sorted({lab for ex in train for lab in ex.labels} if spec.type is TaskType.TOKEN
                          else {ex.label for ex in train}))

    plan = [(s, lang) for s in suites for lang in (suite_langs or {}).get(s, langs)]
    if user:
        plan += [(s, lang) for s in (suites if task is Task.NER else [USER_SUITE]) for lang in user
                 if (s, lang) not in plan]
    cache: dict[tuple[str, str], _Loaded] = {}
    evals: list[EvalSet] = []
    for s, lang in plan:
        key = ("*" if task is Task.NER else s, lang)
        if key not in cache:
            cache[key] = _eval_set(task, root, s, lang, user, sources, ner_split, masakhaner)
            used.append((cache[key], "dev" if task is not Task.POS or s == "xtreme-dev" else "test", lang))
        ld = cache[key]
        exs = _eval_examples(ld, split, max_eval, lang, notes, is_user=ld.dataset == "user-eval")
        _require_nonempty(exs, ld.where)
        pol = LabelPolicy("strict", label_map)
        if policies is not None:
            base = policies[s]
            pol = LabelPolicy(base.name, base.mapping + label_map, base.keep_unseen)
        exs, rep = apply_label_policy(exs, labels, pol, ld.where)
        evals.append(EvalSet(s, lang, exs, rep, ld.where))
    if task is Task.NER:
        notes["date_mapping"] = (
            "MasakhaNER has DATE, which CoNLL-2003 English training data lacks. 'date-as-O': gold B-DATE/I-DATE "
            "mapped to O (DATE excluded). 'date-kept': DATE left in the gold; the model never predicts it, so "
            "every DATE span is a miss (lower recall)."
        )
    if split is not None:
        notes["split"] = {
            "n_items": split.n_items, "train_items": len(split.train), "eval_items": len(split.eval),
            "used_train": len(train), "used_eval": len(split.eval if max_eval is None else split.eval[:max_eval]),
            "train_fraction": split.train_fraction, "split_seed": split.seed,
            "grouped_by": "English text_a (premise / sentence1)", "fingerprint": split.fingerprint(),
        }
    if not train:
        raise InputError("empty split: no training examples", path=str(root))
    primary = evals[0].suite if evals else (suites[0] if suites else USER_SUITE)
    return TaskData(task, train_lang, train, evals, labels, primary, _provenance(used, root), notes)


def _eval_examples(ld: _Loaded, split: ParallelSplit | None, max_eval: int | None, lang: str,
                   notes: dict[str, Any], is_user: bool) -> list[Any]:
    """The examples of one evaluation set: the held-out items of a parallel set (XNLI /
    PAWS-X; a user's file that is not parallel with the source is evaluated whole), capped."""
    exs = ld.examples
    if split is None:
        return exs if max_eval is None else exs[:max_eval]
    if len(exs) != split.n_items:
        if not is_user:
            raise InputError(
                f"not parallel with the source-language file: {len(exs)} items vs {split.n_items}; "
                "items are matched by line", path=ld.where)
        notes.setdefault("whole_files", {})[lang] = "not parallel with the source: evaluated whole"
        sel = exs if max_eval is None else exs[:max_eval]
    else:
        items = split.eval if max_eval is None else split.eval[:max_eval]
        sel = [exs[i] for i in items]
    n_ns = sum(is_untranslated(x) for x in sel)
    if n_ns:  # PAWS-X 'NS': no translation exists; such rows are not scored
        sel = [x for x in sel if not is_untranslated(x)]
        notes.setdefault("untranslated_items_excluded", {})[lang] = n_ns
    return sel


def task_type(task: Task) -> TaskType:
    return TASKS[task].type


# ------------------------------------------------------------------------ suites
# (the files of each suite are the catalogue's: mbert_lab.data.datasets.transfer_eval_file)

SUITES: dict[Task, tuple[str, ...]] = {Task(t): v for t, v in _TRANSFER_SUITES.items()}
