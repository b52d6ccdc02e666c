"""Alignment fine-tuning (issue #14): train an encoder's layer for word alignment on unlabelled
parallel text with awesome-align's objectives that need no MLM head (SO, CO, PSI: see
:mod:`mbert_lab.training.align_losses`), score AER before and after on the gold sets (choices
on the seeded dev halves, figures on the test halves, as ``align_eval``), and write a
checkpoint folder that every command loads with ``--model DIR``.

>>> import mbert_lab.studies.align_train as at                                  # doctest: +SKIP
>>> r = at.align_train(at.AlignTrainConfig(tatoeba=["de", "fr"], train_dir="runs/at"))  # doctest: +SKIP
>>> [(a.gold, a.test_aer) for a in r.after]                                      # doctest: +SKIP

Files under ``train_dir``: ``checkpoint/`` (the model folder, sha256 manifest, verified on load),
``resume/`` (the last saved step: weights, optimiser and RNG state; a killed run started again
with the same config continues from there and ends with a bitwise-identical checkpoint at the
same thread count).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .base import (
    EncoderOptions,
    StudyResult,
    as_tuple,
    check_choice,
    check_choices,
    check_count,
    check_float,
    check_input_file,
    check_output_dir,
    make_provenance,
    normalise_langs,
    parse_layers_spec,
    resolve_encoder,
)

OBJECTIVES = ("so", "co", "psi", "mlm", "tlm")
SELECT = ("best_dev", "last")


@dataclass(frozen=True, kw_only=True)
class AlignTrainConfig(EncoderOptions):
    """Fine-tune ``layers`` (ONE layer, default 8) for alignment.

    Data (at least one): ``parallel`` (one ``src ||| tgt`` file or two line-aligned files),
    ``tatoeba`` (languages paired with English from the data mirror, or ``all``), ``embedded``
    (languages of the embedded Django corpus); at most ``pairs_per_lang`` pairs per language.
    Training: ``objectives`` (so, co, psi; mlm/tlm need an MLM head), ``frozen_layers`` (0 =
    embeddings), ``lr`` (linear decay to 0), ``steps`` of ``batch_size`` pairs, ``threshold``
    (softmax threshold of the SO targets and of the checkpoint), ``temperature`` (PSI),
    ``dropout``, ``seed``. Evaluation: ``gold`` sets (empty: none), ``gold_limit`` pairs per set,
    ``eval_every`` steps (0: before and after only), ``select`` the step with the best mean dev
    AER or the last. ``save_every``: resume points. ``resume``: continue a killed run in ``train_dir``."""

    study = "align_train"
    layers: Any = 8
    batch_size: int = 8
    max_length: int | None = 64
    train_dir: str = ""
    parallel: tuple[str, ...] = ()
    tatoeba: tuple[str, ...] = ()
    embedded: tuple[str, ...] = ()
    pairs_per_lang: int = 1000
    objectives: tuple[str, ...] = ("so", "co")
    frozen_layers: Any = (0,)
    lr: float = 2e-5
    steps: int = 200
    threshold: float = 1e-3
    temperature: float = 0.05
    dropout: bool = True
    seed: int = 0
    gold: tuple[str, ...] = ("en-fr", "ro-en", "ja-en")
    gold_limit: int | None = None
    eval_methods: tuple[str, ...] = ("argmax",)
    dev_fraction: float = 0.5
    eval_every: int = 50
    save_every: int = 50
    select: str = "best_dev"
    resume: bool = True

    def normalise(self) -> None:
        super().normalise()
        from .alignment import gold_set_name

        for name in ("parallel", "objectives", "eval_methods"):
            self._set(name, tuple(str(x) for x in as_tuple(getattr(self, name), name)))
        self._set("objectives", tuple(o.lower() for o in self.objectives))
        self._set("gold", tuple(gold_set_name(str(g)) for g in as_tuple(self.gold, "gold")))
        tat = as_tuple(self.tatoeba, "tatoeba")
        if tat != ("all",):
            tat = normalise_langs("tatoeba", tat, dataset="tatoeba") if tat else ()
        self._set("tatoeba", tuple(tat))
        self._set("embedded", tuple(str(x) for x in as_tuple(self.embedded, "embedded")))
        fl = self.frozen_layers
        none = fl is None or (isinstance(fl, str) and fl.strip().lower() == "none") or fl == () or fl == []
        self._set("frozen_layers", () if none else parse_layers_spec("frozen_layers", fl))

    def validate(self) -> None:
        super().validate()
        if self.single_layer is None:
            raise ConfigError("layers: align_train trains one layer (e.g. 8)")
        if self.dtype != "fp32":
            raise ConfigError(f"dtype: {self.dtype}: alignment fine-tuning trains and evaluates in fp32")
        if not (self.parallel or self.tatoeba or self.embedded):
            raise ConfigError("parallel / tatoeba / embedded: give the parallel data to train on")
        if len(self.parallel) > 2:
            raise ConfigError("parallel: one 'src ||| tgt' file or two line-aligned files")
        for f in self.parallel:
            check_input_file("parallel", f)
        if not self.train_dir:
            raise ConfigError("train_dir: give the folder for the checkpoint and the resume state")
        check_output_dir("train_dir", self.train_dir)
        check_count("pairs_per_lang", self.pairs_per_lang)
        if not self.objectives:
            raise ConfigError("objectives: give at least one of so, co, psi")
        check_choices("objectives", self.objectives, OBJECTIVES)
        if isinstance(self.frozen_layers, str):
            raise ConfigError("frozen_layers: give layer numbers (0 = embeddings) or 'none'")
        check_float("lr", self.lr, low=0.0, high=1.0, low_open=True)
        check_count("steps", self.steps, maximum=10**7)
        check_float("threshold", self.threshold, low=0.0, high=1.0, high_open=True)
        check_float("temperature", self.temperature, low=0.0, low_open=True)
        check_count("seed", self.seed, minimum=0)
        check_count("gold_limit", self.gold_limit, minimum=2, allow_none=True)
        check_choices("eval_methods", self.eval_methods, ("argmax", "itermax", "match", "softmax"))
        check_float("dev_fraction", self.dev_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        check_count("eval_every", self.eval_every, minimum=0)
        check_count("save_every", self.save_every)
        check_choice("select", self.select, SELECT)
        for name in ("dropout", "resume"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name}: must be true or false")

    @property
    def layer(self) -> int:
        return int(self.single_layer)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- result


@dataclass(frozen=True)
class DataSource:
    """One training source: its name, pairs used, files with sha256, gold sentences dropped."""

    name: str
    pairs: int
    files: dict[str, str]
    gold_dropped: int = 0


@dataclass(frozen=True)
class CurvePoint:
    """Mean training loss (and per objective) over the steps since the previous point; the dev
    AER per gold set (first eval method) when evaluated at this step."""

    step: int
    loss: float | None
    losses: dict[str, float]
    dev_aer: dict[str, float]
    mean_dev_aer: float | None


@dataclass(frozen=True)
class GoldAER:
    """One gold set's AER at the trained layer: on the dev half (choices) and the test half."""

    gold: str
    method: str
    layer: int
    dev_aer: float
    test_aer: float
    dev_pairs: int
    test_pairs: int


@dataclass(frozen=True, kw_only=True)
class AlignTrainResult(StudyResult):
    kind = "align_train"
    layer: int
    objectives: tuple[str, ...]
    skipped: tuple[str, ...]
    data: tuple[DataSource, ...]
    n_pairs: int
    steps: int
    resumed_from: int
    chosen_step: int
    chosen_on: str
    method: str
    threshold: float
    curve: tuple[CurvePoint, ...]
    before: tuple[GoldAER, ...]
    after: tuple[GoldAER, ...]
    checkpoint: str
    wall_s: float
    pairs_per_s: float

    def summary(self) -> list[str]:
        out = [f"trained layer {self.layer} ({'+'.join(self.objectives)}) on {self.n_pairs} pairs, "
               f"{self.steps} steps in {self.wall_s:.0f} s ({self.pairs_per_s:.1f} pairs/s); "
               f"checkpoint: step {self.chosen_step} ({self.chosen_on}) -> {self.checkpoint}"]
        out += [f"note: {s}" for s in self.skipped]
        after = {(a.gold, a.method): a for a in self.after}
        for b in self.before:
            a = after.get((b.gold, b.method))
            if a is not None:
                out.append(f"{b.gold:6s} {b.method:7s} L{b.layer}  test AER {b.test_aer:.4f} -> {a.test_aer:.4f}  "
                           f"(dev {b.dev_aer:.4f} -> {a.dev_aer:.4f}; {a.test_pairs} test pairs)")
        return out


# ---------------------------------------------------------------------------- data


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def gold_sentences() -> dict[str, str]:
    """Every sentence of the mirror's gold sets (both sides; whitespace-free, casefolded) ->
    ``<set>:<pair number>``."""
    from ..data.datasets import load_gold_alignment
    from .alignment import GOLD_SETS

    out: dict[str, str] = {}
    for g in GOLD_SETS:
        for k, p in enumerate(load_gold_alignment(g).pairs, 1):
            out.setdefault(_norm("".join(p.src)), f"{g}:{k}")
            out.setdefault(_norm("".join(p.tgt)), f"{g}:{k}")
    return out


def _user_pairs(files: tuple[str, ...], gold: dict[str, str]) -> tuple[list[tuple[str, str]], Any]:
    from ..data.readers.pairs import read_pairs_file, read_parallel_files
    from .alignment import file_provenance

    data = read_pairs_file(files[0], False) if len(files) == 1 else read_parallel_files(files[0], files[1], False)
    leaks = [f"{w[0]}:{w[1]} ({gold.get(_norm(s)) or gold.get(_norm(t))})"
             for s, t, w in zip(data.src, data.tgt, data.where) if _norm(s) in gold or _norm(t) in gold]
    if leaks:
        more = f" and {len(leaks) - 10} more" if len(leaks) > 10 else ""
        raise InputError(f"training data contains {len(leaks)} gold-set sentence(s) (never train on the test "
                         f"sentences): {', '.join(leaks[:10])}{more}", files[0])
    prov = file_provenance("parallel", files)
    return list(zip(data.src, data.tgt)), DataSource("parallel", len(data.src), dict(prov.files))


def _capped(name: str, pairs: list[tuple[str, str]], cap: int, gold: dict[str, str], files: dict[str, str]
            ) -> tuple[list[tuple[str, str]], DataSource]:
    keep = [(s, t) for s, t in pairs if _norm(s) not in gold and _norm(t) not in gold]
    dropped = len(pairs) - len(keep)
    return keep[:cap], DataSource(name, len(keep[:cap]), files, dropped)


def load_training_pairs(config: AlignTrainConfig) -> tuple[list[tuple[str, str]], list[DataSource]]:
    """The training pairs of every source; a user file with a gold-set sentence is refused
    (listing them), gold sentences in the mirror's or the embedded corpora are dropped (counted)."""
    from ..io import sha256_file

    gold = gold_sentences()
    pairs: list[tuple[str, str]] = []
    sources: list[DataSource] = []
    if config.parallel:
        p, src = _user_pairs(config.parallel, gold)
        pairs += p
        sources.append(src)
    if config.tatoeba:
        from ..data.datasets import load_tatoeba, tatoeba_languages

        for lang in (tatoeba_languages() if config.tatoeba == ("all",) else config.tatoeba):
            c = load_tatoeba(lang, empty="skip")
            p, src = _capped(f"tatoeba:{c.src_lang}", [(x.src, x.tgt) for x in c.pairs], config.pairs_per_lang, gold,
                             {c.src_path: sha256_file(c.src_path), c.tgt_path: sha256_file(c.tgt_path)})
            pairs += p
            sources.append(src)
    if config.embedded:
        from ..data.embedded import DJANGO_WHEEL, load_embedded_corpus

        corpus = load_embedded_corpus()
        for lang in config.embedded:
            if lang not in corpus.translations:
                raise ConfigError(f"embedded: no language '{lang}' in the embedded corpus (have: "
                                  f"{', '.join(corpus.languages)})")
            p, src = _capped(f"embedded:{lang}", corpus.parallel(lang), config.pairs_per_lang, gold,
                             {DJANGO_WHEEL["filename"]: DJANGO_WHEEL["sha256"]})
            pairs += p
            sources.append(src)
    if len(pairs) < 2:
        raise ConfigError(f"parallel data: {len(pairs)} usable pair(s); training needs at least 2")
    return pairs, sources


# ---------------------------------------------------------------------------- evaluation


def evaluate(config: AlignTrainConfig, enc: Any, tag: str, store: Any = None) -> tuple[GoldAER, ...]:
    """AER at the trained layer on each gold set's dev and test halves (``align_eval``'s split)."""
    import dataclasses

    from .alignment import AlignEvalConfig, align_eval

    if not config.gold:
        return ()
    cfg = AlignEvalConfig(model=config.model, revision=config.revision, layers=(config.layer,),
                          methods=config.eval_methods, gold=config.gold, limit=config.gold_limit,
                          dev_fraction=config.dev_fraction, seed=config.seed, batch_size=32,
                          max_length=None, device=config.device, threads=config.threads,
                          cache=config.cache and tag == "base", store_dtype=config.store_dtype,
                          softmax_threshold=config.threshold)
    view = enc if tag == "base" else dataclasses.replace(enc, weights_sha256=f"{enc.weights_sha256}+{tag}")
    res = align_eval(cfg, encoder=view, store=store if tag == "base" else None)
    return tuple(GoldAER(b.gold, b.method, b.layer, b.dev_aer, b.test.aer, b.dev_pairs, b.test.pairs)
                 for b in res.best)


def mean_dev(scores: tuple[GoldAER, ...], method: str) -> float | None:
    xs = [s.dev_aer for s in scores if s.method == method]
    return sum(xs) / len(xs) if xs else None


# ---------------------------------------------------------------------------- run


def _skipped(config: AlignTrainConfig, enc: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The objectives that run, and notes on the ones skipped (MLM/TLM)."""
    masked = [o for o in config.objectives if o in ("mlm", "tlm")]
    if not masked:
        return tuple(config.objectives), ()
    archs = list(getattr(enc.model.config, "architectures", None) or [])
    if any("MaskedLM" in a or "ForPreTraining" in a for a in archs):
        raise ConfigError(f"objectives: {'/'.join(masked)} with this model's MLM head is not implemented yet; "
                          "use so, co, psi")
    run = tuple(o for o in config.objectives if o not in ("mlm", "tlm"))
    if not run:
        raise ConfigError("objectives: this model has no MLM head, so mlm/tlm cannot run; add so, co or psi")
    return run, (f"{'/'.join(masked).upper()} skipped: the model has no MLM head",)


def align_train(config: AlignTrainConfig, *, encoder: Any = None, store: Any = None,
                on_step: Any = None) -> AlignTrainResult:
    """Read the data (refusing gold sentences), score the base model, train (resuming from
    ``train_dir/resume`` when a run of the same config was stopped), choose the checkpoint step on the
    dev halves, write ``train_dir/checkpoint`` and score it. ``on_step(step)``: called after each step."""
    import time

    from ..training.align_loop import train

    pairs, sources = load_training_pairs(config)
    if encoder is None:
        import torch

        torch.manual_seed(config.seed)  # weights a folder lacks (e.g. a pooler) are initialised alike
    enc = resolve_encoder(config, encoder)
    layer = config.layer
    if layer > enc.num_layers or layer < 1:
        raise ConfigError(f"layers: layer {layer} out of range: this model has layers 1..{enc.num_layers} to train")
    objectives, skipped = _skipped(config, enc)
    t0 = time.perf_counter()
    before = evaluate(config, enc, "base", store)
    run = train(config, enc, pairs, objectives, before, on_step=on_step)
    after = evaluate(config, run.encoder, f"align_train:{run.fingerprint[:12]}:step{run.chosen_step}")
    method = min(config.eval_methods, key=lambda m: mean_dev(after, m) or 0.0) if after else config.eval_methods[0]
    write_checkpoint(config, enc, run, objectives, sources, method)
    wall = time.perf_counter() - t0
    prov = make_provenance(config, encoder=enc, layers=(layer,), pooling="subword vectors",
                           datasets=[_dataset(s) for s in sources])
    return AlignTrainResult(provenance=prov, layer=layer, objectives=objectives, skipped=skipped, data=tuple(sources),
                            n_pairs=len(pairs), steps=config.steps, resumed_from=run.resumed_from,
                            chosen_step=run.chosen_step, chosen_on=run.chosen_on, method=method,
                            threshold=float(config.threshold), curve=tuple(run.curve), before=before, after=after,
                            checkpoint=str(checkpoint_dir(config.train_dir)), wall_s=round(wall, 3),
                            pairs_per_s=round(run.pairs_per_s, 3))


def write_checkpoint(config: AlignTrainConfig, enc: Any, run: Any, objectives: tuple[str, ...],
                     sources: list[DataSource], method: str) -> Path:
    """``train_dir/checkpoint``: the trained model folder with what made it (no times: a resumed run
    writes the same bytes)."""
    from ..models.checkpoint import save_checkpoint

    base = {"model_id": enc.model_id, "revision": enc.revision, "weights_sha256": enc.weights_sha256}
    training = {k: v for k, v in config.to_dict().items() if k not in ("train_dir", "threads", "device", "resume", "cache")}
    meta = {"format": "mbert-lab-align-train/1", "base_model": base, "layer": config.layer, "method": method,
            "softmax_threshold": float(config.threshold), "objectives": list(objectives),
            "chosen_step": run.chosen_step, "chosen_on": run.chosen_on, "fingerprint": run.fingerprint,
            "data": [{"name": s.name, "pairs": s.pairs, "files": s.files, "gold_dropped": s.gold_dropped}
                     for s in sources], "training": training}
    extra = {"kind": "align_train", "layer": config.layer, "method": method,
             "softmax_threshold": float(config.threshold), "base_model": base}
    return save_checkpoint(checkpoint_dir(config.train_dir), enc.model, enc.tokenizer, "align_train.json", meta, extra)


def _dataset(s: DataSource) -> Any:
    from ..results import DatasetProvenance

    return DatasetProvenance(name=s.name, files=dict(s.files))


def checkpoint_dir(out: str | Path) -> Path:
    return Path(out).expanduser() / "checkpoint"


run = align_train

__all__ = ["AlignTrainConfig", "AlignTrainResult", "CurvePoint", "DataSource", "GoldAER", "align_train",
           "evaluate", "gold_sentences", "load_training_pairs", "checkpoint_dir"]
