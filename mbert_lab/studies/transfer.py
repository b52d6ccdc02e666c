"""Zero-shot cross-lingual transfer: train on English, evaluate other languages.

Two kinds of run, one Config:

- ``mode`` ``full`` / ``frozen-lower`` / ``probe``: fine-tune (or train a head on one frozen
  layer) on the source language, several seeds, evaluate every language and suite;
  resumable when ``work_dir`` is given (``<work_dir>/seed-<s>/``);
- ``mode = "layer-probe"``: a frozen encoder and one softmax probe per layer of ``layers`` on
  cached vectors. Every evaluation set is split (seeded, by sentence / item index, so parallel
  sets stay parallel) into a *dev* half, on which the best layer is chosen (zero-shot average
  of the primary suite), and a disjoint *test* half, on which it is reported.

Language codes are ISO 639-1 or 639-3 and are stored as 639-3 (``zh`` -> ``cmn``); a code the
language table does not know is accepted when the task's data has files for it.

>>> import mbert_lab as ml                                                       # doctest: +SKIP
>>> r = ml.transfer(task="pos", eval_langs="en,de", max_train=500, seeds=1)       # doctest: +SKIP
>>> r.suites["pud"].per_language["deu"].mean                                      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataMissingError, InputError
from ..languages import LanguageInfo
from .base import (
    EncoderOptions,
    StudyResult,
    as_tuple,
    check_choice,
    check_count,
    check_float,
    check_input_file,
    check_output_dir,
    make_provenance,
    normalise_langs,
    resolve_encoder,
    resolve_layers,
    resolve_store,
)

TASK_NAMES = ("pos", "ner", "xnli", "pawsx")
MODES = ("full", "frozen-lower", "probe", "layer-probe")
NER_SPLITS = ("dev", "test")


# ---------------------------------------------------------------------------- config


@dataclass(frozen=True, kw_only=True)
class TransferConfig(EncoderOptions):
    """Defaults are the CLI's. ``layers``: ``mode=probe`` reads one layer (default: last);
    ``mode=layer-probe`` probes each listed layer; ``full`` / ``frozen-lower`` read the last.
    ``max_length``: training tokens; ``eval_max_length``: evaluation tokens (default: the
    model's maximum). ``lr`` default: 1e-4 (``probe``: 1e-3). ``work_dir``: per-seed results
    and checkpoints (a rerun resumes); ``None``: keep nothing on disk. ``data_root``: default
    ``$MBERT_LAB_DATA``.

    Training defaults (``mode="frozen-lower"``, ``freeze_up_to=0``: embeddings frozen;
    ``lr=1e-4``; 1 epoch; ``max_train=5000`` sentences, fewer when the pool is smaller) were
    chosen on English dev data (XTREME UD-POS ``dev-en``, first 300 sentences; 1,000 training
    sentences, seed 0): frozen embeddings at 1e-4 57.4, full fine-tuning at 1e-4 57.7 (a tie
    within noise, 1.7x slower), full at 5e-5 (the former default) 31.9. See
    ``mbert-lab transfer --help`` for what the defaults give on PUD.
    """

    study = "transfer"
    task: str | None = None  # default: pos, or the checkpoint's task
    train_lang: str = "en"
    eval_langs: tuple[str, ...] = ()
    suites: tuple[str, ...] = ()
    eval_sets: tuple[str, ...] = ()  # mixed suites: "suite:lang" each (then eval_langs/suites follow)
    seeds: int = 3
    seed_offset: int = 0
    mode: str = "frozen-lower"
    layers: Any = "last"
    freeze_up_to: int = 0
    lr: float | None = None
    head_lr: float | None = None
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 32
    max_length: int | None = 128
    eval_max_length: int | None = None
    eval_batch_size: int = 64
    warmup: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    word_pooling: str = "first"
    pair_pooling: str = "mean"
    max_train: int | None = 5000
    max_eval: int | None = None
    split_fraction: float = 0.5
    split_seed: int = 0
    ner_split: str = "dev"
    label_map: tuple[tuple[str, str], ...] = ()
    probe_epochs: int = 10
    probe_dev_fraction: float = 0.5
    checkpoint_every: int = 200
    work_dir: str | None = None
    overwrite: bool = False
    progress: bool = True
    data_root: str | None = None
    save_model: bool = False
    checkpoint: str | None = None
    masakhaner: str | None = None  # ner: 'v1' or 'v2' for a language in both (default v1)
    train_file: str | None = None  # the user's training file (read_user_file formats)
    eval_files: Any = None  # {lang: path}: the user's evaluation files
    sources: Any = None  # {dataset: "hub:ID[@REV]"}: xnli, paws-x, masakhaner, ud (PUD suite)

    def normalise(self) -> None:
        super().normalise()
        from ..transfer.data import SUITES
        from ..transfer.tasks import TASKS, Task

        if self.checkpoint is not None:
            self._from_checkpoint()
        self._set("task", str(self.task or "pos").strip().lower().replace("-", ""))
        check_choice("task", self.task, TASK_NAMES)
        task = Task(self.task)
        self._set("eval_files", _user_files(self.eval_files))
        self._set("sources", _sources(self.sources, self.task))
        self._set("eval_sets", _split_sets(as_tuple(self.eval_sets, "eval_sets")))
        if self.eval_files and self.task != "ner" and not self.eval_sets and not self.eval_langs and self.suites:
            raise ConfigError("suites: without eval_langs only your eval_files are evaluated (suite 'files'); "
                              "give eval_langs for the data root's suites")
        derived = tuple(dict.fromkeys(su for su, _ in self.eval_sets))
        if self.eval_sets and as_tuple(self.suites, "suites") not in ((), derived):
            raise ConfigError(f"suites: with eval_sets the suites are those of eval_sets ({', '.join(derived)})")
        self._set("suites", derived or as_tuple(self.suites, "suites") or SUITES[task])
        for s in self.suites:
            check_choice("suites", s, SUITES[task])
        if len(set(self.suites)) != len(self.suites):
            raise ConfigError(f"suites: a suite is listed twice in {list(self.suites)}")
        check_choice("ner_split", self.ner_split, NER_SPLITS)
        self._set("label_map", _label_map(self.label_map))
        self._set("train_lang", normalise_langs("train_lang", [self.train_lang],
                                                known_extra=_user_code(self.train_lang, self.train_file))[0])
        default = () if self.eval_sets or self.eval_files else TASKS[task].default_eval
        self._set("eval_langs", as_tuple(self.eval_langs, "eval_langs") or default)

    def validate(self) -> None:
        super().validate()
        check_input_file("train_file", self.train_file, allow_none=True)
        for lang, path in (self.eval_files or {}).items():
            check_input_file(f"eval_files[{lang}]", path)
        if self.masakhaner is not None:
            check_choice("masakhaner", self.masakhaner, ("v1", "v2"))
            if self.task != "ner":
                raise ConfigError(f"masakhaner: chooses the MasakhaNER version of task ner, not {self.task}")
        if self.train_lang != "eng" and self.train_file is None:
            raise ConfigError(f"train_lang: the data has {self.task} training data for English (eng) only, "
                              f"got '{self.train_lang}' (give your own training data with train_file)")
        for name in ("seeds", "epochs", "eval_batch_size", "probe_epochs"):
            check_count(name, getattr(self, name))
        check_count("seed_offset", self.seed_offset, minimum=0)
        check_count("split_seed", self.split_seed, minimum=0)
        check_count("freeze_up_to", self.freeze_up_to, minimum=0)
        check_count("checkpoint_every", self.checkpoint_every, minimum=0)
        for name in ("max_steps", "max_train", "max_eval", "eval_max_length"):
            check_count(name, getattr(self, name), allow_none=True, minimum=8 if name == "eval_max_length" else 1)
        check_count("max_length", self.max_length, minimum=8)
        check_float("lr", self.lr, low=0, low_open=True, allow_none=True)
        check_float("head_lr", self.head_lr, low=0, low_open=True, allow_none=True)
        check_float("warmup", self.warmup, low=0, high=1, high_open=True)
        check_float("weight_decay", self.weight_decay, low=0)
        check_float("dropout", self.dropout, low=0, high=1, high_open=True)
        check_float("split_fraction", self.split_fraction, low=0, high=1, low_open=True, high_open=True)
        check_float("probe_dev_fraction", self.probe_dev_fraction, low=0, high=1, low_open=True, high_open=True)
        check_choice("mode", self.mode, MODES)
        if self.dtype != "fp32" and self.mode in ("full", "frozen-lower"):
            raise ConfigError(f"dtype: {self.dtype} applies to the frozen encoder of mode probe / layer-probe; "
                              "fine-tuning (full, frozen-lower) trains in fp32")
        check_choice("word_pooling", self.word_pooling, ("first", "mean"))
        check_choice("pair_pooling", self.pair_pooling, ("mean", "cls"))
        check_output_dir("work_dir", self.work_dir, allow_none=True)
        if self.save_model and self.work_dir is None:
            raise ConfigError("save_model: the trained models are saved under work_dir/seed-<s>/model; give work_dir")
        if self.save_model and self.mode == "layer-probe":
            raise ConfigError("save_model: layer probes train no model to save; use mode full, frozen-lower or probe")
        self._validate_layers()
        # last: it reads the data root
        if self.eval_files and not (self.eval_sets or self.eval_langs):
            self._set("suites", tuple(s for s in self.suites if self.task == "ner"))
            return
        sets = _normalise_sets(self, self.eval_sets or tuple((su, x) for su in self.suites for x in self.eval_langs))
        langs = tuple(dict.fromkeys(x for _, x in sets))
        if self.eval_sets:
            given = tuple(_iso(x) for x in as_tuple(self.eval_langs, "eval_langs"))
            if given and given != langs:
                raise ConfigError(f"eval_langs: with eval_sets the languages are those of eval_sets ({', '.join(langs)})")
            self._set("eval_sets", tuple(f"{su}:{x}" for su, x in sets))
        self._set("eval_langs", langs)

    def _from_checkpoint(self) -> None:
        """Evaluation of a saved model: task, pooling, lengths and the parallel split are the
        training run's (verified manifest first)."""
        from ..transfer.checkpoint import verify_model_dir

        if self.save_model or self.mode == "layer-probe":
            raise ConfigError("checkpoint: evaluates a saved model; it cannot be combined with save_model or "
                              "mode 'layer-probe'")
        meta = verify_model_dir(self.checkpoint)
        if self.task is not None and str(self.task).strip().lower() != meta["task"]:
            raise ConfigError(f"task: the checkpoint was trained for '{meta['task']}', not '{self.task}'")
        self._set("task", meta["task"])
        for name in ("word_pooling", "pair_pooling", "dropout", "max_length", "mode"):
            self._set(name, meta[name])
        if self.eval_max_length is None:
            self._set("eval_max_length", meta["eval_max_length"])
        if meta.get("split_fraction") is not None:
            self._set("split_fraction", meta["split_fraction"])
            self._set("split_seed", meta["split_seed"])
        self._set("layers", (meta["read_layer"],) if meta.get("read_layer") is not None else "last")

    def _validate_layers(self) -> None:
        if self.mode in ("full", "frozen-lower") and self.layers != "last":
            raise ConfigError(f"layers: mode '{self.mode}' trains a head on the last layer; to read other layers use "
                              "mode 'probe' (one layer) or 'layer-probe' (one probe per layer)")
        if self.mode == "probe" and self.layers != "last" and len(self.layers) != 1:
            raise ConfigError("layers: mode 'probe' reads one layer (e.g. 8); for several use mode 'layer-probe'")

    @property
    def root(self) -> Path:
        from ..paths import data_root

        return Path(self.data_root).expanduser() if self.data_root else data_root()

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed_offset, self.seed_offset + self.seeds))

    @property
    def effective_lr(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.mode == "probe" else 1e-4)


def _label_map(value: Any) -> tuple[tuple[str, str], ...]:
    """``'B-DATE=O,I-DATE=O'``, ``{'B-DATE': 'O'}`` or ``[['B-DATE', 'O']]`` -> pairs."""
    if isinstance(value, str):
        from ..transfer.data import parse_label_map

        try:
            return parse_label_map(value)
        except ConfigError as e:
            raise ConfigError(f"label_map: {e}") from None
    if isinstance(value, dict):
        value = list(value.items())
    try:
        pairs = tuple((str(a).strip(), str(b).strip()) for a, b in value)
    except (TypeError, ValueError):
        raise ConfigError(f"label_map: expected FROM=TO pairs, e.g. 'B-DATE=O,I-DATE=O', got {value!r}") from None
    if any(not a or not b for a, b in pairs):
        raise ConfigError("label_map: an empty label in a FROM=TO pair")
    return pairs


def _split_sets(items: tuple[Any, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for it in items:
        if isinstance(it, (list, tuple)) and len(it) == 2:
            out.append((str(it[0]).strip(), str(it[1]).strip()))
            continue
        su, sep, lang = str(it).partition(":")
        if not sep or not su.strip() or not lang.strip():
            raise ConfigError(f"eval_sets: '{it}' is not SUITE:LANG (e.g. pud:de)")
        out.append((su.strip(), lang.strip()))
    return tuple(out)


def _user_code(code: Any, path: Any) -> tuple[str, ...]:
    """A language the user's own file is for is valid whatever the language table says."""
    from ..languages import is_known

    c = str(code).strip()
    return (c.lower(),) if path is not None and c and not is_known(c) else ()


def _user_files(value: Any) -> dict[str, str] | None:
    """``{lang: path}``, ``'de=a.conllu,qaa=b.tsv'`` or ``['de=a.conllu']`` -> {stored code: path}."""
    if value is None or value == {} or value == ():
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, dict):
        items = []
        for v in value:
            lang, sep, path = str(v).partition("=")
            if not sep or not lang.strip() or not path.strip():
                raise ConfigError(f"eval_files: '{v}' is not LANG=PATH (e.g. de=my_de.conllu)")
            items.append((lang.strip(), path.strip()))
        value = dict(items)
    out: dict[str, str] = {}
    for lang, path in value.items():
        code = normalise_langs("eval_files", [lang], known_extra=_user_code(lang, path))[0]
        if code in out:
            raise ConfigError(f"eval_files: two files for '{lang}'")
        out[code] = str(path)
    return out


def _sources(value: Any, task: str) -> dict[str, str] | None:
    """``{dataset: "hub:ID[@REV]"}`` (or ``'xnli=hub:facebook/xnli'`` items) -> {dataset: source},
    each parsed with :func:`mbert_lab.data.hub.parse_source`."""
    from ..data.hub import parse_source
    from ..transfer.data import SOURCE_DATASETS

    if value is None or value == {} or value == ():
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, dict):
        pairs = [str(v).partition("=") for v in value]
        if any(not sep for _, sep, _ in pairs):
            raise ConfigError("sources: expected DATASET=hub:ID[@REV], e.g. xnli=hub:facebook/xnli")
        value = {a.strip(): b.strip() for a, _, b in pairs}
    usable = {"pos": ("ud",), "ner": ("masakhaner",), "xnli": ("xnli",), "pawsx": ("paws-x",)}[task]
    out = {}
    for ds, src in value.items():
        ds = {"pawsx": "paws-x"}.get(str(ds).strip().lower(), str(ds).strip().lower())
        check_choice("sources", ds, tuple(SOURCE_DATASETS))
        if ds not in usable:
            raise ConfigError(f"sources: '{ds}' is not read by task {task} (it reads: {', '.join(usable)})")
        try:
            parsed = parse_source(src)
        except ConfigError as e:
            raise ConfigError(f"sources[{ds}]: {e}") from None
        if parsed is None:
            raise ConfigError(f"sources[{ds}]: '{src}' is not a hub source; expected hub:ID[@REV] or hub:/folder")
        out[ds] = str(src).strip()
    return out


def _iso(code: str) -> str:
    from ..languages import is_known, to_iso639_3

    return to_iso639_3(code) if is_known(code) else str(code).strip()


def _normalise_sets(cfg: TransferConfig, sets: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """(suite, 639-3) pairs; each language must be in the language table or have files in its
    suite, and have files in its suite."""
    from ..languages import is_known, to_iso639_3

    from ..data.datasets import transfer_eval_file

    files = suite_languages(cfg)
    out: list[tuple[str, str]] = []
    name = "eval_sets" if cfg.eval_sets else "eval_langs"
    for suite, code in sets:
        iso = to_iso639_3(code) if is_known(code) else code
        if _hub_suite(cfg, suite, iso):
            if not is_known(code):
                raise ConfigError(f"{name}: unknown language '{code}': not in the language table "
                                  f"(hub source {cfg.sources})")
            out.append((suite, iso))
            continue
        by_code = files[suite]
        if iso not in by_code:
            found = ", ".join(sorted(by_code)) or "none"
            where = f"no {cfg.task} '{suite}' files for it under {cfg.root}"
            if not is_known(code):
                raise ConfigError(f"{name}: unknown language '{code}': not in the language table and {where} "
                                  f"(found: {found})")
            raise ConfigError(f"{name}: '{code}' ({iso}): {where} (found: {found})")
        try:  # the catalogue's file for it: a missing split names the splits present
            transfer_eval_file(cfg.task, suite, by_code[iso][0], root=cfg.root, split=cfg.ner_split,
                               masakhaner=cfg.masakhaner)
        except (DataMissingError, InputError) as e:
            raise ConfigError(f"{name}: {e}") from None
        if (suite, iso) in out:
            raise ConfigError(f"{name}: '{code}' is listed twice" + (f" for suite '{suite}'" if cfg.eval_sets else ""))
        out.append((suite, iso))
    if not out:
        raise ConfigError(f"{name}: give at least one language")
    return tuple(out)


def _hub_suite(cfg: TransferConfig, suite: str, iso: str) -> bool:
    """Whether the (suite, language) set comes from a hub source rather than the data root."""
    src = cfg.sources or {}
    if cfg.task == "pos":
        return suite == "pud" and "ud" in src
    if cfg.task == "ner":
        return iso != "eng" and "masakhaner" in src
    return bool(src)


def suite_languages(cfg: TransferConfig) -> dict[str, dict[str, tuple[str]]]:
    """suite -> ISO 639-3 (or the file's own code when the table does not know it) ->
    (the code the files use,), from the catalogue
    (:func:`mbert_lab.data.datasets.transfer_languages`)."""
    from ..data.datasets import transfer_languages
    from ..languages import is_known, to_iso639_3

    out: dict[str, dict[str, tuple[str]]] = {}
    for suite in cfg.suites:
        found = transfer_languages(cfg.task, suite, root=cfg.root, split=cfg.ner_split)
        out[suite] = {(to_iso639_3(c) if is_known(c) else c): (c,) for c in found}
    return out


# ---------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Score:
    """A score (0..100) over seeds: mean, sample sd (0 for one seed), one value per seed."""

    mean: float
    sd: float
    seeds: tuple[float, ...]


@dataclass(frozen=True)
class SuiteScores:
    suite: str
    per_language: dict[str, Score]
    zero_shot_average: Score | None  # over languages other than the source, seed by seed
    source: Score | None
    transfer_gap: float | None  # source mean - zero-shot average mean


@dataclass(frozen=True)
class EvalDetail:
    score: float
    n_examples: int
    n_words: int | None = None
    n_unscored_words: int | None = None
    precision: float | None = None
    recall: float | None = None


@dataclass(frozen=True)
class SeedRun:
    seed: int
    steps: int
    train_seconds: float
    eval_seconds: float
    train_examples_per_s: float
    resumed_from_step: int
    reused: bool  # loaded from an earlier run in work_dir
    final_loss: float | None  # mean of the last 20 steps' losses


@dataclass(frozen=True)
class TrainingInfo:
    mode: str
    lr: float
    train_examples: int
    train_pool: int
    epochs: int
    total_steps: int
    warmup_steps: int
    read_layer: int
    encoder_trainable_params: int
    encoder_params: int
    seconds_per_1000_train_examples_per_epoch: float | None
    fingerprint: str
    runs: tuple[SeedRun, ...]


@dataclass(frozen=True)
class LayerProbes:
    """Per-layer probes. ``best_layer`` was chosen on the ``chosen_on`` split; the study's
    ``suites`` report it on the disjoint ``reported_on`` split."""

    layers: tuple[int, ...]
    best_layer: int
    chosen_on: str
    reported_on: str
    criterion: str
    dev_fraction: float
    split_seed: int
    n_dev: dict[str, int]  # "suite:lang" -> examples
    n_test: dict[str, int]
    dev: dict[int, SuiteScores]  # primary suite, per layer
    test: dict[int, SuiteScores]
    probe_epochs: int
    features: str


@dataclass(frozen=True)
class LabelReport:
    policy: str
    mapping: dict[str, str]
    mapped_counts: dict[str, int]
    unseen_kept_counts: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class TransferResult(StudyResult):
    kind = "transfer"
    task: str
    metric: str  # accuracy or span_f1, x100
    mode: str  # full, frozen-lower, probe, layer-probe, or eval (a saved checkpoint evaluated)
    train_lang: str
    eval_langs: tuple[str, ...]
    primary_suite: str
    seeds: tuple[int, ...]
    labels: tuple[str, ...]
    suites: dict[str, SuiteScores]
    details: dict[int, dict[str, dict[str, EvalDetail]]]  # seed -> suite -> lang (fine-tuning runs)
    label_reports: dict[str, LabelReport]  # "suite:lang"
    notes: dict[str, str]
    training: TrainingInfo | None = None
    layer_probes: LayerProbes | None = None
    languages: dict[str, LanguageInfo] = dataclasses.field(default_factory=dict)  # "unknown" where the table has nothing

    @property
    def per_language(self) -> dict[str, Score]:
        """The primary suite's scores by language."""
        return self.suites[self.primary_suite].per_language

    @property
    def zero_shot_average(self) -> Score | None:
        return self.suites[self.primary_suite].zero_shot_average

    def summary(self) -> list[str]:
        """A few lines: the primary suite per language, zero-shot average, gap, chosen layer."""
        lines = []
        lp = self.layer_probes
        if lp is not None:
            lines.append(f"best layer {lp.best_layer} (chosen on {lp.chosen_on}: {lp.criterion}); "
                         f"scores below on the {lp.reported_on} split")
        lines.append(f"{self.task} / {self.primary_suite} ({self.metric} x100, mean ± sd over {len(self.seeds)} seed(s))")
        lines += [f"  {lang:>4}: {v.mean:6.2f} ± {v.sd:.2f}" for lang, v in self.per_language.items()]
        s = self.suites[self.primary_suite]
        if s.zero_shot_average is not None:
            gap = f"; transfer gap {s.transfer_gap:.2f}" if s.transfer_gap is not None else ""
            lines.append(f"  zero-shot average {s.zero_shot_average.mean:.2f}{gap}")
        return lines


# ---------------------------------------------------------------------------- running


def transfer(config: TransferConfig, *, encoder: Any = None, store: Any = None) -> TransferResult:
    """Run the config's transfer experiment (see the module docstring)."""
    data = load_data(config)
    if config.checkpoint is not None:
        if encoder is not None:
            raise ConfigError("encoder: not used when evaluating a checkpoint (the checkpoint holds the model)")
        return _evaluate_checkpoint(config, data)
    enc = resolve_encoder(config, encoder)
    if config.mode == "layer-probe":
        return _layer_probes(config, data, enc, resolve_store(config, store))
    return _fine_tune(config, data, enc)


run = transfer


def load_data(config: TransferConfig) -> Any:
    """The task's training and evaluation sets, languages as ISO 639-3 codes."""
    from ..transfer.data import load_task_data

    files = suite_languages(config)
    to_file = {iso: by[0] for f in files.values() for iso, by in f.items() if iso in config.eval_langs}
    to_file.update({x: x for x in config.eval_langs if x not in to_file})  # hub-served languages
    per_suite = None
    if config.eval_sets:
        per_suite = {}
        for item in config.eval_sets:
            su, _, iso = item.partition(":")
            per_suite.setdefault(su, []).append(to_file[iso])
    data = load_task_data(
        config.task, config.root, train_lang="en" if config.train_file is None else config.train_lang,
        eval_langs=[to_file[x] for x in config.eval_langs],
        max_train=config.max_train, max_eval=config.max_eval, suites=list(config.suites),
        split_fraction=config.split_fraction, split_seed=config.split_seed, label_map=config.label_map,
        ner_split=config.ner_split, suite_langs=per_suite, masakhaner=config.masakhaner,
        train_file=config.train_file, eval_files=config.eval_files, sources=config.sources,
    )
    back = {code: iso for iso, code in to_file.items()}
    back.update({x: x for x in (config.eval_files or {})})
    for e in data.evals:
        e.lang = back[e.lang]
    data.train_lang = config.train_lang
    for i, d in enumerate(data.datasets):
        langs = tuple(dict.fromkeys(back.get(x, _iso(x)) for x in d.languages))
        data.datasets[i] = dataclasses.replace(d, languages=langs)
    return data


def train_config(config: TransferConfig) -> Any:
    from ..transfer.runner import TrainConfig

    return TrainConfig(
        mode=config.mode, freeze_up_to=config.freeze_up_to,
        probe_layer=config.single_layer if config.mode == "probe" else None, lr=config.effective_lr,
        head_lr=config.head_lr, epochs=config.epochs, max_steps=config.max_steps, batch_size=config.batch_size,
        max_length=int(config.max_length or 128), eval_max_length=config.eval_max_length,
        eval_batch_size=config.eval_batch_size, warmup=config.warmup, weight_decay=config.weight_decay,
        dropout=config.dropout, word_pooling=config.word_pooling, pair_pooling=config.pair_pooling,
        checkpoint_every=config.checkpoint_every, device=config.device,
    )


def _fine_tune(config: TransferConfig, data: Any, enc: Any) -> TransferResult:
    from ..transfer.runner import run_seeds

    tc = train_config(config)
    results = run_seeds(enc, data, tc, config.seed_list, config.work_dir, progress=config.progress,
                        overwrite=config.overwrite, save_model=config.save_model)
    details = {r.seed: {s: {lang: _detail(d) for lang, d in by.items()} for s, by in r.details.items()}
               for r in results}
    return _result(config, data, enc, [r.scores for r in results], details, training=_training(config, data, results),
                   layers=(results[0].train_info.get("read_layer", enc.num_layers),))


def _evaluate_checkpoint(config: TransferConfig, data: Any) -> TransferResult:
    """Evaluate a saved model (``checkpoint``) on the config's languages and suites."""
    from ..transfer.checkpoint import load_model_dir, verify_model_dir
    from ..transfer.runner import evaluate, prepare
    from .base import set_threads

    set_threads(config.threads)
    enc, model, meta = load_model_dir(config.checkpoint, config.device, verify_model_dir(config.checkpoint))
    data.labels = tuple(meta["labels"])
    data.train = []
    tc = train_config(config)
    scores, details = evaluate(model, prepare(enc, data, tc), data, tc, config.progress)
    seed = int(meta["seed"])
    det = {seed: {s: {lang: _detail(d) for lang, d in by.items()} for s, by in details.items()}}
    return _result(config, data, enc, [scores], det, layers=(enc.num_layers,), seeds=(seed,), mode="eval")


def _layer_probes(config: TransferConfig, data: Any, enc: Any, store: Any) -> TransferResult:
    """Frozen encoder, one probe per layer; best layer chosen on dev, reported on test."""
    from ..transfer.probe import layer_probe_scores

    layers = resolve_layers(config.layers, enc.num_layers)
    raw = layer_probe_scores(data, _vector_fn(config, data, enc, store, layers), layers, config.seed_list,
                             epochs=config.probe_epochs, dev_fraction=config.probe_dev_fraction,
                             split_seed=config.split_seed)
    prim, src = data.primary_suite, config.train_lang
    dev = {L: aggregate(raw["dev"][L], src)[prim] for L in layers}
    test = {L: aggregate(raw["test"][L], src)[prim] for L in layers}

    def criterion(L: int) -> float:
        s = dev[L].zero_shot_average or dev[L].source
        return s.mean if s is not None else float("-inf")

    best = max(layers, key=criterion)  # ties: the first listed layer
    zs = dev[best].zero_shot_average is not None
    probes = LayerProbes(
        layers=tuple(layers), best_layer=best, chosen_on="dev", reported_on="test",
        criterion=f"{'zero-shot average' if zs else 'source-language score'} of suite '{prim}' on the dev split",
        dev_fraction=config.probe_dev_fraction, split_seed=config.split_seed, n_dev=raw["n_dev"],
        n_test=raw["n_test"], dev=dev, test=test, probe_epochs=config.probe_epochs,
        features=_probe_features(data),
    )
    return _result(config, data, enc, raw["test"][best], {}, layers=tuple(layers), probes=probes)


def _probe_features(data: Any) -> str:
    from ..transfer.tasks import TASKS, TaskType

    if TASKS[data.task].type is TaskType.TOKEN:
        return "word vectors (word_pooling of the word's content subwords), standardised"
    return "[u, v, |u-v|, u*v] of the two sentence vectors (mean pooling), standardised"


def _vector_fn(config: TransferConfig, data: Any, enc: Any, store: Any, layers: tuple[int, ...]) -> Any:
    """``(examples, desc) -> {layer: matrix}`` through the (cached) extractor."""
    from ..encode.extractor import ExtractConfig, Extractor
    from ..transfer.probe import pair_features
    from ..transfer.tasks import TASKS, TaskType

    token = TASKS[data.task].type is TaskType.TOKEN
    ec = ExtractConfig(layers=tuple(layers), outputs=("word",) if token else ("sentence",),
                       word_pooling=config.word_pooling, batch_size=config.eval_batch_size,
                       max_length=config.eval_max_length, dtype=config.dtype, store_dtype=config.store_dtype)
    ex = Extractor(enc, ec, store=store, device=None, progress=config.progress)  # the encoder's own device

    def vectors(examples: list[Any], desc: str) -> dict[int, Any]:
        if token:
            c = ex.encode([list(e.words) for e in examples], pretokenized=True, desc=desc)
            return {L: c.word_matrix(L) for L in layers}
        ca = ex.encode([e.text_a for e in examples], desc=desc + " a")
        cb = ex.encode([e.text_b for e in examples], desc=desc + " b")
        return {L: pair_features(ca.sentence(L), cb.sentence(L)) for L in layers}

    return vectors


def _result(config: TransferConfig, data: Any, enc: Any, seed_scores: list[dict[str, dict[str, float]]],
            details: dict[int, Any], *, layers: tuple[int, ...], training: TrainingInfo | None = None,
            probes: LayerProbes | None = None, seeds: tuple[int, ...] | None = None,
            mode: str | None = None) -> TransferResult:
    from ..transfer.tasks import TASKS, Task

    return TransferResult(
        provenance=make_provenance(config, encoder=enc, layers=layers, datasets=data.datasets),
        task=config.task, metric=TASKS[Task(config.task)].metric, mode=mode or config.mode,
        train_lang=config.train_lang,
        eval_langs=tuple(dict.fromkeys(tuple(config.eval_langs) + tuple(config.eval_files or ()))), primary_suite=data.primary_suite,
        seeds=seeds or tuple(config.seed_list),
        labels=tuple(data.labels), suites=aggregate(seed_scores, config.train_lang), details=details,
        label_reports={f"{e.suite}:{e.lang}": LabelReport(**e.label_report) for e in data.evals},
        notes={k: v if isinstance(v, str) else _json(v) for k, v in data.notes.items()},
        training=training, layer_probes=probes, languages=_language_info(config),
    )


def _language_info(config: TransferConfig) -> dict[str, LanguageInfo]:
    from ..languages import language_info

    codes = [config.train_lang, *config.eval_langs, *(config.eval_files or {})]
    return {c: language_info(c) for c in dict.fromkeys(codes)}


def aggregate(seed_scores: list[dict[str, dict[str, float]]], source: str) -> dict[str, SuiteScores]:
    """suite -> lang -> one score per seed (same seed order) -> typed means, sds, averages."""
    from ..transfer.report import aggregate_scores

    out: dict[str, SuiteScores] = {}
    for suite in dict.fromkeys(s for sc in seed_scores for s in sc):
        langs = list(dict.fromkeys(lang for sc in seed_scores for lang in sc.get(suite, {})))
        agg = aggregate_scores({lang: [sc[suite][lang] for sc in seed_scores if lang in sc.get(suite, {})]
                                for lang in langs}, source)
        avg = agg["average_zero_shot"]
        out[suite] = SuiteScores(
            suite=suite,
            per_language={k: Score(v["mean"], v["sd"], tuple(v["seeds"])) for k, v in agg["per_language"].items()},
            zero_shot_average=Score(avg["mean"], avg["sd"], tuple(avg["seeds"])) if avg else None,
            source=Score(agg["source"]["mean"], agg["source"]["sd"], tuple(agg["source"]["seeds"]))
            if agg["source"] else None,
            transfer_gap=agg["transfer_gap"],
        )
    return out


def _detail(d: dict[str, Any]) -> EvalDetail:
    return EvalDetail(score=float(d["score"]), n_examples=int(d.get("n_sentences", d.get("n_pairs", 0))),
                      n_words=d.get("n_words"), n_unscored_words=d.get("n_unscored_words"),
                      precision=d.get("precision"), recall=d.get("recall"))


def _training(config: TransferConfig, data: Any, results: list[Any]) -> TrainingInfo:
    import numpy as np

    r0 = results[0]
    info = r0.train_info
    fresh = [r.train_seconds for r in results if r.resumed_from_step == 0 and not r.reused]
    spk = (float(np.mean(fresh)) / config.epochs / r0.train_examples * 1000.0
           if fresh and not config.max_steps else None)
    runs = tuple(SeedRun(
        seed=r.seed, steps=r.steps, train_seconds=r.train_seconds, eval_seconds=r.eval_seconds,
        train_examples_per_s=r.train_examples_per_s, resumed_from_step=r.resumed_from_step, reused=r.reused,
        final_loss=float(np.mean([x[1] for x in r.loss_curve[-20:]])) if r.loss_curve else None) for r in results)
    return TrainingInfo(
        mode=config.mode, lr=config.effective_lr, train_examples=r0.train_examples,
        train_pool=int(data.notes.get("train_pool", r0.train_examples)), epochs=config.epochs,
        total_steps=int(info.get("total_steps", r0.steps)), warmup_steps=int(info.get("warmup_steps", 0)),
        read_layer=int(info.get("read_layer", -1)), encoder_trainable_params=int(info.get("encoder_trainable_params", 0)),
        encoder_params=int(info.get("encoder_params", 0)), seconds_per_1000_train_examples_per_epoch=spk,
        fingerprint=r0.fingerprint, runs=runs,
    )


def _json(v: Any) -> str:
    import json

    return json.dumps(v, sort_keys=True, ensure_ascii=False)


__all__ = ["TransferConfig", "TransferResult", "transfer", "run", "Score", "SuiteScores", "LayerProbes",
           "TrainingInfo", "SeedRun", "EvalDetail", "LabelReport", "load_data", "aggregate", "suite_languages"]
