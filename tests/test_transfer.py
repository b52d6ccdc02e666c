"""Zero-shot transfer: tiny random model, tiny synthetic data (no mirror, no offline model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbert_lab.errors import ConfigError, InputError
from mbert_lab.transfer.data import (
    LabelPolicy,
    apply_label_policy,
    load_task_data,
    parse_label_map,
    read_conll_ner,
    read_conllu_upos,
    read_pair_tsv,
    split_parallel_items,
)
from mbert_lab.studies.transfer import TransferConfig, TransferResult, aggregate, transfer
from mbert_lab.transfer.probe import dev_test_split
from mbert_lab.transfer.report import aggregate_scores
from mbert_lab.transfer.runner import TrainConfig, TrainingInterrupted, run_seeds, score_token_predictions
from mbert_lab.transfer.tasks import PairExample, Task, TokenExample

WORDS = ("the quick brown fox jumps over lazy dog Der schnelle braune Fuchs springt Le renard brun "
         "rapide saute chien El zorro salta perro tea Hello world").split()


def _tag(word: str) -> str:
    # a learnable word -> tag rule (by first letter)
    return ["NOUN", "VERB", "ADJ"][ord(word[0].lower()) % 3]


def _token_examples(n: int, seed: int, length: int = 6) -> list[TokenExample]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ws = tuple(WORDS[int(j)] for j in rng.integers(0, len(WORDS), size=length))
        out.append(TokenExample(ws, tuple(_tag(w) for w in ws), i))
    return out


def _write_pos_mirror(root: Path, n_train: int = 40) -> None:
    d = root / "xtreme-udpos"
    d.mkdir(parents=True)
    (root / "ud-pud").mkdir()

    def tsv(exs: list[TokenExample]) -> str:
        return "".join("".join(f"{w}\t{lab}\n" for w, lab in zip(e.words, e.labels)) + "\n" for e in exs)

    (d / "train-en.tsv").write_text(tsv(_token_examples(n_train, 0)))
    for lang, s in (("en", 1), ("de", 2)):
        (d / f"dev-{lang}.tsv").write_text(tsv(_token_examples(8, s)))
        lines = []
        for k, e in enumerate(_token_examples(6, s + 10)):
            lines.append(f"# sent_id = n{k}")
            for j, (w, lab) in enumerate(zip(e.words, e.labels), start=1):
                lines.append(f"{j}\t{w}\t_\t{lab}\t_\t_\t0\t_\t_\t_")
            lines.append("")
        (root / "ud-pud" / f"{lang}_pud-ud-test.conllu").write_text("\n".join(lines) + "\n")


def _write_pair_mirror(root: Path, n: int = 24) -> None:
    d = root / "xnli"
    d.mkdir(parents=True)
    labs = ["entailment", "neutral", "contradiction"]
    for lang in ("en", "de"):
        rows = []
        for i in range(n):
            a = " ".join(WORDS[(i // 3 + k) % len(WORDS)] for k in range(4))  # 3 items per premise
            b = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(3))
            rows.append(f"{a}\t{b}\t{labs[i % 3]}")
        (d / f"dev-{lang}.tsv").write_text("\n".join(rows) + "\n")


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is far faster than two on a shared, loaded machine."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


FAST = dict(lr=2e-3, batch_size=8, max_length=32, warmup=0.0, dropout=0.0, checkpoint_every=0)


# ------------------------------------------------------------------------- split


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 300), frac=st.floats(0.05, 0.95), seed=st.integers(0, 10**6), g=st.integers(1, 5))
def test_parallel_split_has_no_item_or_group_in_both_halves(n, frac, seed, g):
    groups = [i // g for i in range(n)]
    try:
        s = split_parallel_items(n, frac, seed, groups=groups)
    except ConfigError:
        return  # a half would be empty: refused, not leaked
    assert not set(s.train) & set(s.eval)
    assert sorted(s.train + s.eval) == list(range(n))
    assert not {groups[i] for i in s.train} & {groups[i] for i in s.eval}


def test_split_is_a_function_of_its_seed_only():
    assert split_parallel_items(100, 0.5, 3) == split_parallel_items(100, 0.5, 3)
    assert split_parallel_items(100, 0.5, 3).train != split_parallel_items(100, 0.5, 4).train


def test_xnli_task_data_trains_and_evaluates_on_disjoint_items(tmp_path):
    _write_pair_mirror(tmp_path)
    data = load_task_data("xnli", tmp_path, eval_langs=["en", "de"])
    train_items = {e.item for e in data.train}
    assert train_items
    for ev in data.evals:
        assert ev.examples and not train_items & {e.item for e in ev.examples}
    # premises (3 items each) never straddle the split
    assert not {e.text_a for e in data.train} & {e.text_a for e in data.evals[0].examples}


def test_non_parallel_pair_file_is_an_error(tmp_path):
    _write_pair_mirror(tmp_path)
    p = tmp_path / "xnli" / "dev-de.tsv"
    p.write_text("\n".join(p.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(InputError, match="not parallel"):
        load_task_data("xnli", tmp_path, eval_langs=["de"])


# ----------------------------------------------------------------- readers, labels


def test_readers(tmp_path):
    p = tmp_path / "x.conllu"
    p.write_text("# c\n1-2\tdu\t_\t_\t_\t_\t_\t_\t_\t_\n1\tde\t_\tADP\t_\t_\t0\t_\t_\t_\n2\tle\t_\tDET\t_\t_\t0\t_\t_\t_\n"
                 "2.1\tx\t_\t_\t_\t_\t_\t_\t_\t_\n\n")
    assert read_conllu_upos(p) == [TokenExample(("de", "le"), ("ADP", "DET"), 0)]
    q = tmp_path / "n.txt"
    q.write_text("-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n")
    assert [e.labels for e in read_conll_ner(q)] == [("B-ORG", "O"), ("B-PER",)]
    r = tmp_path / "p.tsv"
    r.write_text("a\tb\t1\nc\td\n")
    with pytest.raises(InputError, match=r"p.tsv:2"):
        read_pair_tsv(r)


def test_unseen_eval_label_is_an_error_or_an_explicit_reported_mapping():
    exs = [TokenExample(("Lagos", "Monday"), ("B-LOC", "B-DATE"))]
    with pytest.raises(InputError, match="B-DATE"):
        apply_label_policy(exs, ["O", "B-LOC"], LabelPolicy(), "masakhaner/x.txt")
    mapped, rep = apply_label_policy(exs, ["O", "B-LOC"], LabelPolicy("m", parse_label_map("B-DATE=O")), "f")
    assert mapped[0].labels == ("B-LOC", "O") and rep["mapped_counts"] == {"B-DATE": 1}
    kept, rep2 = apply_label_policy(exs, ["O", "B-LOC"], LabelPolicy("k", (), keep_unseen=True), "f")
    assert kept[0].labels == ("B-LOC", "B-DATE") and rep2["unseen_kept_counts"] == {"B-DATE": 1}
    with pytest.raises(ConfigError):
        parse_label_map("B-DATE")


def test_pos_eval_label_missing_from_training_is_an_error(tmp_path):
    _write_pos_mirror(tmp_path)
    p = tmp_path / "ud-pud" / "de_pud-ud-test.conllu"
    p.write_text(p.read_text().replace("\tNOUN\t", "\tINTJ\t", 1))  # a valid tag training lacks
    with pytest.raises(InputError, match="INTJ"):
        load_task_data("pos", tmp_path, eval_langs=["de"], suites=["pud"])


def test_empty_split_is_an_error(tmp_path):
    _write_pos_mirror(tmp_path)
    (tmp_path / "ud-pud" / "de_pud-ud-test.conllu").write_text("\n")
    with pytest.raises(InputError, match="empty split"):
        load_task_data("pos", tmp_path, eval_langs=["de"], suites=["pud"])
    (tmp_path / "xtreme-udpos" / "train-en.tsv").write_text("")
    with pytest.raises(InputError, match="empty split"):
        load_task_data("pos", tmp_path, eval_langs=["en"], suites=["xtreme-dev"])


def test_unknown_task_suggests():
    with pytest.raises(ConfigError, match="did you mean 'pos'"):
        Task.parse("poss")


def test_ner_date_views_score_differently():
    gold = [["B-PER", "O", "B-DATE", "I-DATE"]]
    pred = [["B-PER", "O", "O", "O"]]
    assert score_token_predictions(gold, pred, "span_f1")["score"] == pytest.approx(100 * 2 * 1 * 0.5 / 1.5)
    gold_o = [["B-PER", "O", "O", "O"]]
    assert score_token_predictions(gold_o, pred, "span_f1")["score"] == pytest.approx(100.0)


# ----------------------------------------------------------------------- training


def _pos_data(tmp_path, n_train=40):
    _write_pos_mirror(tmp_path, n_train)
    return load_task_data("pos", tmp_path, eval_langs=["en", "de"])


def test_loss_goes_down_and_model_overfits_20_examples(tmp_path, tiny_encoder):
    data = _pos_data(tmp_path, n_train=20)
    # evaluate on the training sentences themselves
    from mbert_lab.transfer.data import EvalSet

    data.evals = [EvalSet("train", "en", data.train)]
    cfg = TrainConfig(epochs=40, **{**FAST, "batch_size": 10})
    (r,) = run_seeds(tiny_encoder, data, cfg, [0], None, progress=False)
    losses = [x[1] for x in r.loss_curve]
    assert np.mean(losses[-5:]) < 0.25 * np.mean(losses[:3])
    assert r.scores["train"]["en"] >= 97.0


def test_pair_task_loss_goes_down(tmp_path, tiny_sp_encoder):
    _write_pair_mirror(tmp_path, n=24)
    data = load_task_data("xnli", tmp_path, eval_langs=["en", "de"])
    cfg = TrainConfig(epochs=40, **FAST)
    (r,) = run_seeds(tiny_sp_encoder, data, cfg, [0], None, progress=False)
    losses = [x[1] for x in r.loss_curve]
    assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:2])
    assert set(r.scores["heldout"]) == {"en", "de"}


def test_same_seed_reproduces_exactly_other_seed_differs(tmp_path, tiny_encoder):
    data = _pos_data(tmp_path)
    cfg = TrainConfig(epochs=2, **{**FAST, "dropout": 0.1})
    a = run_seeds(tiny_encoder, data, cfg, [7], None, progress=False)[0]
    b = run_seeds(tiny_encoder, data, cfg, [7], None, progress=False)[0]
    c = run_seeds(tiny_encoder, data, cfg, [8], None, progress=False)[0]
    assert a.loss_curve == b.loss_curve and a.scores == b.scores
    assert a.loss_curve != c.loss_curve


def test_resume_after_interruption_reproduces_the_uninterrupted_run(tmp_path, tiny_encoder):
    data = _pos_data(tmp_path)
    cfg = TrainConfig(epochs=3, **{**FAST, "dropout": 0.1})
    full = run_seeds(tiny_encoder, data, cfg, [1], tmp_path / "a", progress=False)[0]
    with pytest.raises(TrainingInterrupted):
        run_seeds(tiny_encoder, data, cfg, [1], tmp_path / "b", progress=False, interrupt_after_steps=7)
    sd = tmp_path / "b" / "seed-1"
    assert (sd / "checkpoint.safetensors").exists() and not (sd / "result.json").exists()
    resumed = run_seeds(tiny_encoder, data, cfg, [1], tmp_path / "b", progress=False)[0]
    assert resumed.resumed_from_step == 7
    assert resumed.loss_curve == full.loss_curve[7:]
    assert resumed.scores == full.scores
    assert (sd / "result.json").exists() and (sd / "final.safetensors").exists()
    assert not (sd / "checkpoint.safetensors").exists()
    # a finished seed is loaded, not retrained; a changed config is refused
    again = run_seeds(tiny_encoder, data, cfg, [1], tmp_path / "b", progress=False)[0]
    assert again.scores == full.scores
    with pytest.raises(ConfigError, match="different configuration"):
        run_seeds(tiny_encoder, data, TrainConfig(epochs=2, **FAST), [1], tmp_path / "b", progress=False)


def test_frozen_modes_freeze(tmp_path, tiny_encoder):
    data = _pos_data(tmp_path)
    before = {n: p.detach().clone() for n, p in tiny_encoder.model.named_parameters()}
    r = run_seeds(tiny_encoder, data, TrainConfig(epochs=1, mode="probe", probe_layer=2, **FAST), [0],
                  tmp_path / "p", progress=False)[0]
    assert r.train_info["encoder_trainable_params"] == 0 and r.train_info["read_layer"] == 2
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "p" / "seed-0" / "final.safetensors"))
    assert set(saved) == {"head.weight", "head.bias"}
    r2 = run_seeds(tiny_encoder, data, TrainConfig(epochs=1, mode="frozen-lower", freeze_up_to=2, **FAST), [0], None,
                   progress=False)[0]
    assert 0 < r2.train_info["encoder_trainable_params"] < r2.train_info["encoder_params"]
    # the pristine encoder is never modified by a run
    for n, p in tiny_encoder.model.named_parameters():
        assert np.array_equal(p.detach().numpy(), before[n].numpy())
    with pytest.raises(ConfigError):
        TrainConfig(mode="fulll")


# ------------------------------------------------------------------------ report


def test_aggregate_known_answer():
    agg = aggregate_scores({"en": [90.0, 94.0], "de": [80.0, 82.0], "fr": [70.0, 74.0]}, source="en")
    assert agg["per_language"]["en"]["mean"] == 92.0
    assert agg["per_language"]["en"]["sd"] == pytest.approx(np.std([90, 94], ddof=1))
    assert agg["average_zero_shot"]["seeds"] == [75.0, 78.0]
    assert agg["transfer_gap"] == pytest.approx(92.0 - 76.5)
    typed = aggregate([{"pud": {"eng": 90.0, "deu": 80.0}}, {"pud": {"eng": 94.0, "deu": 82.0}}], "eng")["pud"]
    assert typed.per_language["deu"].mean == 81.0 and typed.per_language["deu"].seeds == (80.0, 82.0)
    assert typed.zero_shot_average.mean == 81.0 and typed.transfer_gap == pytest.approx(11.0)


# -------------------------------------------------------------------------- study


def _cfg(root: Path, **kw) -> TransferConfig:
    base = dict(task="pos", eval_langs="en,de", data_root=str(root), seeds=1, epochs=2, lr=2e-3, batch_size=8,
                mode="full", max_length=32, warmup=0.0, dropout=0.0, checkpoint_every=0, progress=False, cache=False)
    return TransferConfig(**{**base, **kw})


@pytest.mark.parametrize("kw, msg", [
    (dict(max_train=0), "max_train: must be a whole number >= 1, got 0"),
    (dict(max_eval=0), "max_eval: must be a whole number >= 1, got 0"),
    (dict(max_eval=-5), "max_eval: must be a whole number >= 1"),
    (dict(eval_langs="en,zz"), "unknown language 'zz': not in the language table and no pos 'pud' files"),
    (dict(eval_langs="ja"), r"'ja' \(jpn\): no pos 'pud' files for it under .* \(found: deu, eng\)"),
    (dict(threads=0), "threads: must be a whole number"),
    (dict(device="gpu"), "device: unknown device 'gpu'"),
    (dict(mode="layer_probe"), "did you mean 'layer-probe'"),
    (dict(layers="4"), "mode 'full' trains a head on the last layer"),
    (dict(mode="probe", layers="1,2"), "mode 'probe' reads one layer"),
    (dict(suites="pud,pud"), "listed twice"),
    (dict(train_lang="de"), "English .* only"),
    (dict(seeds=0), "seeds: must be a whole number >= 1"),
    (dict(label_map="B-DATE"), "label_map: bad"),
])
def test_config_rejects_bad_values_before_any_model(tmp_path, kw, msg):
    _write_pos_mirror(tmp_path)
    with pytest.raises((ConfigError, InputError), match=msg):
        _cfg(tmp_path, **kw)


def test_config_languages_are_stored_as_iso639_3_and_round_trip_through_a_study_file(tmp_path):
    from mbert_lab.config import dump_studies, load_study_file

    _write_pos_mirror(tmp_path)
    c = _cfg(tmp_path, eval_langs=["de", "eng"], label_map="X=Y")
    assert c.eval_langs == ("deu", "eng") and c.train_lang == "eng" and c.label_map == (("X", "Y"),)
    f = tmp_path / "s.toml"
    f.write_text(dump_studies([c]))
    assert load_study_file(f)[0].config == c


def test_fine_tune_study_result_is_typed_and_round_trips(tmp_path, tiny_encoder):
    _write_pos_mirror(tmp_path)
    r = transfer(_cfg(tmp_path, seeds=2, work_dir=str(tmp_path / "w")), encoder=tiny_encoder)
    assert r.primary_suite == "pud" and set(r.suites) == {"pud", "xtreme-dev"}
    assert set(r.per_language) == {"eng", "deu"} and len(r.per_language["deu"].seeds) == 2
    d = r.details[0]["pud"]["deu"]
    assert d.n_examples == 6 and d.n_words == 36 and d.score == r.per_language["deu"].seeds[0]
    assert r.training.train_examples == 40 and r.training.total_steps == 10
    assert [x.reused for x in r.training.runs] == [False, False]
    back = TransferResult.load(r.save(tmp_path / "res"))
    assert back == r
    again = transfer(_cfg(tmp_path, seeds=2, work_dir=str(tmp_path / "w")), encoder=tiny_encoder)
    assert [x.reused for x in again.training.runs] == [True, True] and again.suites == r.suites


def test_mixed_suites_per_language(tmp_path, tiny_encoder):
    _write_pos_mirror(tmp_path)
    pud = tmp_path / "ud-pud"
    (pud / "fr_pud-ud-test.conllu").write_text((pud / "de_pud-ud-test.conllu").read_text())  # PUD only
    with pytest.raises(ConfigError, match="'fr' \\(fra\\): no pos 'xtreme-dev' files"):
        _cfg(tmp_path, eval_langs="en,fr")
    c = _cfg(tmp_path, eval_langs=None, eval_sets="pud:en,pud:fr,xtreme-dev:de", epochs=1)
    assert c.suites == ("pud", "xtreme-dev") and c.eval_langs == ("eng", "fra", "deu")
    r = transfer(c, encoder=tiny_encoder)
    assert set(r.suites["pud"].per_language) == {"eng", "fra"} and set(r.suites["xtreme-dev"].per_language) == {"deu"}
    assert r.details[0]["pud"]["fra"].n_examples == 6 and r.details[0]["xtreme-dev"]["deu"].n_examples == 8
    assert r.suites["xtreme-dev"].source is None and r.suites["pud"].transfer_gap is not None


def test_separable_toy_task_is_learned_exactly(tmp_path, tiny_encoder):
    """Tags are a function of the word: after training, held-out sentences of the same
    words are tagged perfectly, in both suites."""
    _write_pos_mirror(tmp_path, n_train=40)
    r = transfer(_cfg(tmp_path, epochs=30, batch_size=10), encoder=tiny_encoder)
    for suite in ("pud", "xtreme-dev"):
        for lang in ("eng", "deu"):
            assert r.suites[suite].per_language[lang].mean == 100.0, (suite, lang)


def test_dev_test_split_is_disjoint_and_covers(tmp_path):
    for n in (2, 3, 10, 101):
        d, t = dev_test_split(n, 0.5, 3)
        assert len(d) and len(t) and not set(d) & set(t) and sorted([*d, *t]) == list(range(n))
    assert (dev_test_split(50, 0.5, 1)[0] == dev_test_split(50, 0.5, 1)[0]).all()
    with pytest.raises(InputError):
        dev_test_split(1)


def test_layer_probe_picks_the_planted_layer_on_dev_and_reports_test(tmp_path, tiny_encoder, monkeypatch):
    """Synthetic vectors: only layer 3 carries the tag (a one-hot plus noise); every other
    layer is noise. The study must choose 3 on the dev split and report it on test."""
    import mbert_lab.studies.transfer as T

    _write_pos_mirror(tmp_path, n_train=40)
    tags = {}

    def fake_vector_fn(config, data, enc, store, layers):
        for lab in data.labels:
            tags.setdefault(lab, len(tags))

        def vectors(examples, desc):
            labs = [lab for e in examples for lab in e.labels]
            rng = np.random.default_rng(len(labs))
            out = {}
            for L in layers:
                X = rng.normal(size=(len(labs), 8)).astype(np.float32)
                if L == 3:
                    X[np.arange(len(labs)), [tags[lab] for lab in labs]] += 6.0
                out[L] = X
            return out

        return vectors

    monkeypatch.setattr(T, "_vector_fn", fake_vector_fn)
    r = transfer(_cfg(tmp_path, mode="layer-probe", layers="all", probe_epochs=30), encoder=tiny_encoder)
    lp = r.layer_probes
    assert lp.layers == (0, 1, 2, 3, 4) and lp.best_layer == 3
    assert (lp.chosen_on, lp.reported_on) == ("dev", "test")
    assert lp.n_dev == {"pud:eng": 3, "pud:deu": 3, "xtreme-dev:eng": 4, "xtreme-dev:deu": 4}
    assert lp.n_test == lp.n_dev
    assert r.per_language["deu"].mean == 100.0 and lp.test[3].per_language["deu"].mean == 100.0
    assert max(lp.dev[L].zero_shot_average.mean for L in (0, 1, 2, 4)) < 75.0
    assert r.suites["pud"] == lp.test[3]  # the reported figures are the test split's
    assert TransferResult.load(r.save(tmp_path / "p")) == r


def test_train_once_evaluate_many_reproduces_the_figures(tmp_path, tiny_encoder):
    from mbert_lab.transfer.checkpoint import MANIFEST, verify_model_dir

    _write_pos_mirror(tmp_path)
    pud = tmp_path / "ud-pud"
    (pud / "fr_pud-ud-test.conllu").write_text((pud / "de_pud-ud-test.conllu").read_text().replace("\tthe\t", "\tle\t"))
    trained = transfer(_cfg(tmp_path, seeds=2, save_model=True, work_dir=str(tmp_path / "w")), encoder=tiny_encoder)
    ck = tmp_path / "w" / "seed-1" / "model"
    meta = verify_model_dir(ck)
    assert meta["task"] == "pos" and meta["seed"] == 1 and meta["labels"] == list(trained.labels)
    ev = transfer(TransferConfig(checkpoint=str(ck), eval_langs="en,de", data_root=str(tmp_path), progress=False))
    assert ev.mode == "eval" and ev.seeds == (1,) and ev.training is None
    for suite in ("pud", "xtreme-dev"):
        for lang in ("eng", "deu"):
            assert abs(ev.suites[suite].per_language[lang].mean - trained.suites[suite].per_language[lang].seeds[1]) <= 1e-6
    fr = transfer(TransferConfig(checkpoint=str(ck), eval_langs="fr", suites="pud", data_root=str(tmp_path),
                                 progress=False))  # a language the training run did not evaluate
    assert fr.details[1]["pud"]["fra"].n_examples == 6 and set(fr.per_language) == {"fra"}
    with pytest.raises(ConfigError, match="trained for 'pos', not 'ner'"):
        TransferConfig(checkpoint=str(ck), task="ner", data_root=str(tmp_path))
    with pytest.raises(ConfigError, match="save_model"):
        _cfg(tmp_path, save_model=True)  # no work_dir
    head = ck / "transfer_head.safetensors"
    head.write_bytes(head.read_bytes()[:-1] + b"\0")
    with pytest.raises(InputError, match="sha256 does not match"):
        TransferConfig(checkpoint=str(ck), data_root=str(tmp_path))
    (ck / "extra.txt").write_text("x")
    with pytest.raises(InputError, match="not in the manifest"):
        verify_model_dir(ck)
    (ck / MANIFEST).unlink()
    with pytest.raises(InputError, match="no transfer_manifest.json"):
        verify_model_dir(ck)


def test_demo_section_reports_the_dev_chosen_layer_on_test(tmp_path, tiny_encoder, monkeypatch):
    from mbert_lab.demo import DemoContext
    from mbert_lab.demo.transfer import section

    _write_pos_mirror(tmp_path / "data", n_train=40)
    for lang in ("fr", "es", "ru", "zh", "ar"):  # the demo's 7 PUD languages
        (tmp_path / "data" / "ud-pud" / f"{lang}_pud-ud-test.conllu").write_text(
            (tmp_path / "data" / "ud-pud" / "de_pud-ud-test.conllu").read_text())
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "data"))

    class Corpus:
        source = {"version": "t", "filename": "x", "sha256": "0"}

    ctx = DemoContext(encoder=tiny_encoder, corpus=Corpus(), languages=("de",), out=tmp_path / "out")
    s = section(ctx, n_train=40, n_eval=6, layers=(0, 4))
    r = TransferResult.load(tmp_path / "out" / "transfer")
    lp = r.layer_probes
    assert "SMOKE DEMO" in s and f"best layer {lp.best_layer}" in s
    assert lp.n_dev["pud:eng"] == 3 and lp.n_test["pud:eng"] == 3
    # the same study run directly gives the same figures
    direct = transfer(TransferConfig(task="pos", eval_langs=("en", "de", "fr", "es", "ru", "zh", "ar"),
                                     suites="pud", mode="layer-probe", layers=(0, 4), max_train=40, max_eval=6,
                                     seeds=1, word_pooling="mean", progress=False), encoder=tiny_encoder)
    assert direct.suites == r.suites and direct.layer_probes.best_layer == lp.best_layer
    # the layer is the dev split's best, and the reported figures are the test split's
    assert lp.best_layer == max(lp.layers, key=lambda L: lp.dev[L].zero_shot_average.mean)
    assert r.suites["pud"] == lp.test[lp.best_layer]
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "nowhere"))
    assert "not run" in section(ctx)


def test_pawsx_untranslated_rows_are_not_scored(tmp_path):
    d = tmp_path / "paws-x"
    d.mkdir()
    rows = [f"{WORDS[i % 20]} a {i}\t{WORDS[(i + 3) % 20]} b\t{i % 2}" for i in range(20)]
    (d / "dev-en.tsv").write_text("\n".join(rows) + "\n")
    de = list(rows)
    de = [("NS\tNS\t0" if i % 4 == 0 else r) for i, r in enumerate(de)]
    (d / "dev-de.tsv").write_text("\n".join(de) + "\n")
    data = load_task_data("pawsx", tmp_path, eval_langs=["en", "de"])
    ev = {e.lang: e.examples for e in data.evals}
    assert all(x.text_a != "NS" for x in ev["de"])
    assert len(ev["de"]) == len(ev["en"]) - data.notes["untranslated_items_excluded"]["de"]


def test_word_label_goes_to_first_content_piece_not_lone_marker(tiny_sp_encoder):
    from mbert_lab.transfer.model import featurize_tokens

    tok = tiny_sp_encoder.tokenizer
    ex = TokenExample(("狐狸", "跳过", "fox"), ("NOUN", "VERB", "NOUN"))
    (f,) = featurize_tokens(tok, [ex], {"NOUN": 0, "VERB": 1}, max_length=32)
    toks = tok.convert_ids_to_tokens(f.input_ids)
    assert len(f.word_pieces) == 3 and f.label == [0, 1, 0]
    wids = tok([list(ex.words)], is_split_into_words=True, truncation=True, max_length=32).word_ids(0)
    n_marker_words = 0
    for w, ps in enumerate(f.word_pieces):
        pieces = [toks[i] for i, x in enumerate(wids) if x == w]
        if pieces[0] == "▁" and len(pieces) > 1:
            n_marker_words += 1
            assert toks[ps[0]] == pieces[1]  # skipped the lone marker
        assert toks[ps[0]] != "▁" or pieces == ["▁"]
    assert n_marker_words >= 1  # the tokenizer does emit lone markers here


def test_truncated_words_are_unscored_misses(tiny_encoder):
    from mbert_lab.transfer.model import featurize_tokens

    ex = TokenExample(tuple(WORDS[:20]), tuple(_tag(w) for w in WORDS[:20]))
    (f,) = featurize_tokens(tiny_encoder.tokenizer, [ex], {"NOUN": 0, "VERB": 1, "ADJ": 2}, max_length=8)
    assert sum(bool(p) for p in f.word_pieces) < 20 and not f.word_pieces[-1]
    s = score_token_predictions([["NOUN", "VERB"]], [["NOUN", None]], "accuracy")
    assert s["score"] == 50.0 and s["n_unscored_words"] == 1
