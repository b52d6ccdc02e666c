"""Alignment fine-tuning (issue #14): the objectives on hand-made batches, one step on the tiny
model, seeded reproducibility, kill-and-resume, gold-leak refusal, tampered checkpoints."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

from mbert_lab.errors import ConfigError, InputError

PAIRS = [
    ("The quick brown fox jumps over the lazy dog .", "Le renard brun rapide saute par-dessus le chien paresseux ."),
    ("I like green tea .", "J'aime le thé vert ."),
    ("Hello world !", "Bonjour le monde !"),
    ("The quick brown fox .", "Der schnelle braune Fuchs ."),
    ("Hello world !", "Hallo Welt !"),
    ("I like green tea .", "Ich mag grünen Tee ."),
]


@pytest.fixture
def pairs_file(tmp_path):
    p = tmp_path / "train.src-tgt"
    p.write_text("".join(f"{s} ||| {t}\n" for s, t in PAIRS), encoding="utf-8")
    return p


def _cfg(pairs_file, out, **kw):
    from mbert_lab.studies.align_train import AlignTrainConfig

    base = dict(parallel=(str(pairs_file),), train_dir=str(out), layers=2, steps=4, batch_size=3, gold=(),
                eval_every=0, save_every=2, objectives=("so", "co", "psi"), lr=1e-3)
    base.update(kw)
    return AlignTrainConfig(**base)


def _files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------ losses (known answers)


def _eye_batch(pad: bool = False):
    import torch

    h = torch.eye(2)[None]  # one pair, two words each side, unit vectors
    mask = torch.ones(1, 2, dtype=torch.bool)
    if pad:  # a padding position with a huge vector must change nothing
        h = torch.cat([h, torch.full((1, 1, 2), 50.0)], 1)
        mask = torch.tensor([[True, True, False]])
    return h, mask


@pytest.mark.parametrize("pad", [False, True])
def test_so_co_losses_known_answer(pad):
    from mbert_lab.training.align_losses import alignment_probs, co_loss, self_training_guide, so_loss

    h, m = _eye_batch(pad)
    s2t, t2s = alignment_probs(h, h, m, m)
    p = math.e / (math.e + 1)  # softmax([1, 0])[0]
    assert s2t[0, :2, :2].flatten().tolist() == pytest.approx([p, 1 - p, 1 - p, p])
    assert float(s2t.sum()) == pytest.approx(2.0) and float(t2s.sum()) == pytest.approx(2.0)
    guide = self_training_guide(s2t, t2s, 0.5)
    assert guide[0, :2, :2].tolist() == [[1.0, 0.0], [0.0, 1.0]] and float(guide.sum()) == 2.0
    # SO: -(sum(s2t*G)/m + sum(t2s*G)/n) = -(2p/2 + 2p/2)
    assert float(so_loss(s2t, t2s, guide, m, m)) == pytest.approx(-2 * p)
    # CO: -sum(s2t*t2s)/min(m, n) = -(2p^2 + 2(1-p)^2)/2
    assert float(co_loss(s2t, t2s, m, m)) == pytest.approx(-(p * p + (1 - p) ** 2))


def test_psi_loss_known_answer():
    import torch

    from mbert_lab.training.align_losses import objective_losses, psi_loss

    v = torch.eye(2)
    # cos = identity; with temperature 1 each row is softmax([1, 0]): loss = log(1 + e^-1)
    assert float(psi_loss(v, v, 1.0)) == pytest.approx(math.log(1 + math.exp(-1)))
    # through the mean pooling of one-word sentences (plus a masked padding word)
    h = torch.tensor([[[3.0, 0.0], [9.0, 9.0]], [[0.0, 2.0], [9.0, 9.0]]])
    m = torch.tensor([[True, False], [True, False]])
    out = objective_losses(h, h, m, m, ("psi",), 1e-3, 1.0)
    assert set(out) == {"psi"} and float(out["psi"]) == pytest.approx(math.log(1 + math.exp(-1)))


def test_one_step_reduces_the_loss_on_the_tiny_model(tiny_encoder, tmp_path, pairs_file):
    import torch

    from mbert_lab.training.align_loop import hidden_at, tokenize, train_step, trainable_params
    from mbert_lab.training.align_losses import objective_losses

    cfg = _cfg(pairs_file, tmp_path / "o", dropout=False)  # one pass: the step's loss is the eval-mode loss
    enc = tiny_encoder
    batch = PAIRS[:3]

    def loss() -> float:
        inputs, mask = tokenize(enc, [s for s, _ in batch] + [t for _, t in batch], 64, "cpu")
        with torch.no_grad():
            h = hidden_at(enc.model, 2, inputs)
            d = objective_losses(h[:3], h[3:], mask[:3], mask[3:], cfg.objectives, cfg.threshold, cfg.temperature)
        return float(sum(d.values()))

    params = trainable_params(enc.model, 2, (0,))
    assert {n.split(".")[0] for n, _ in params} == {"encoder"}  # embeddings frozen
    assert all(".layer.0." in n or ".layer.1." in n for n, _ in params)  # blocks above layer 2 untouched
    opt = torch.optim.AdamW([p for _, p in params], lr=1e-3, weight_decay=0.0)
    enc.model.eval()
    first = loss()
    torch.manual_seed(0)  # dropout inside the step: independent of what ran before in this process
    step = train_step(enc, opt, batch, cfg, cfg.objectives, 1e-3)
    assert step["loss"] == pytest.approx(first, abs=1e-5)
    assert loss() < first - 1e-4


# ------------------------------------------------------------------------ runs


def test_seed_reproduces_and_resume_is_bitwise_identical(_tiny_wordpiece_session, tmp_path, pairs_file):
    import torch

    from mbert_lab.studies.align_train import align_train

    torch.set_num_threads(1)
    base = _tiny_wordpiece_session
    a = align_train(_cfg(pairs_file, tmp_path / "a"), encoder=copy.deepcopy(base))
    b = align_train(_cfg(pairs_file, tmp_path / "b"), encoder=copy.deepcopy(base))
    fa, fb = _files(tmp_path / "a" / "checkpoint"), _files(tmp_path / "b" / "checkpoint")
    assert fa == fb and a.chosen_step == 4 and a.chosen_on == "last"
    assert [c.loss for c in a.curve] == [c.loss for c in b.curve]
    other = align_train(_cfg(pairs_file, tmp_path / "s1", seed=1), encoder=copy.deepcopy(base))
    assert _files(tmp_path / "s1" / "checkpoint")["model.safetensors"] != fa["model.safetensors"]
    assert other.curve[-1].loss != a.curve[-1].loss
    # killed after step 3 (last resume point: step 2), started again: the same bytes
    def kill(step):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        align_train(_cfg(pairs_file, tmp_path / "k"), encoder=copy.deepcopy(base), on_step=kill)
    assert not (tmp_path / "k" / "checkpoint").exists()
    r = align_train(_cfg(pairs_file, tmp_path / "k"), encoder=copy.deepcopy(base))
    assert r.resumed_from == 2
    assert _files(tmp_path / "k" / "checkpoint") == fa
    # a changed config does not resume someone else's state
    with pytest.raises(InputError, match="resume state of a different run"):
        align_train(_cfg(pairs_file, tmp_path / "k", lr=5e-4), encoder=copy.deepcopy(base))


def test_checkpoint_loads_records_and_is_verified(tiny_encoder, tmp_path, pairs_file):
    import json

    from mbert_lab.models.registry import load_encoder
    from mbert_lab.studies.align_train import align_train
    from mbert_lab.studies.alignment import AlignConfig, align

    r = align_train(_cfg(pairs_file, tmp_path / "o", objectives=("so", "mlm")), encoder=tiny_encoder)
    assert r.objectives == ("so",) and "MLM skipped: the model has no MLM head" in r.skipped[0]
    ck = tmp_path / "o" / "checkpoint"
    man = json.loads((ck / "checkpoint_manifest.json").read_text())
    assert man["layer"] == 2 and man["method"] == "argmax" and man["softmax_threshold"] == 1e-3
    meta = json.loads((ck / "align_train.json").read_text())
    assert meta["base_model"]["model_id"] == "tiny-random-bert-wordpiece"
    assert meta["data"][0]["files"][str(pairs_file)] == r.data[0].files[str(pairs_file)]
    enc = load_encoder(str(ck))
    assert enc.num_layers == 4
    # align / align-eval default to the trained layer; an explicit layer wins
    assert align(AlignConfig(model=str(ck), pairs=[("a b", "c d")], cache=False)).layer == 2
    assert align(AlignConfig(model=str(ck), pairs=[("a b", "c d")], cache=False, layers=3)).layer == 3
    # tampering: a changed byte, an extra file
    cfg = ck / "config.json"
    cfg.write_text(cfg.read_text().replace("}", ' }', 1))
    with pytest.raises(InputError, match="sha256 does not match"):
        load_encoder(str(ck))
    cfg.write_text(cfg.read_text().replace(' }', "}", 1))
    load_encoder(str(ck))
    (ck / "extra.txt").write_text("x")
    with pytest.raises(InputError, match="not in the manifest"):
        load_encoder(str(ck))


def test_gold_sentences_in_training_files_are_refused(tmp_path, pairs_file):
    from mbert_lab.data.datasets import load_gold_alignment
    from mbert_lab.studies.align_train import load_training_pairs

    g = load_gold_alignment("ro-en").pairs[4]
    leak = tmp_path / "leak.src-tgt"
    leak.write_text(pairs_file.read_text() + f"{' '.join(g.src)} ||| something else\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"1 gold-set sentence.*leak.src-tgt:7 \(ro-en:5\)"):
        load_training_pairs(_cfg(leak, tmp_path / "o"))
    src, tgt = tmp_path / "a.txt", tmp_path / "b.txt"
    ja = load_gold_alignment("ja-en").pairs[0]
    src.write_text("hello\n" + "".join(ja.src) + "\n", encoding="utf-8")  # untokenized Japanese too
    tgt.write_text("bonjour\nx\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a.txt:2 \(ja-en:1\)"):
        load_training_pairs(_cfg(pairs_file, tmp_path / "o", parallel=(str(src), str(tgt))))
    pairs, sources = load_training_pairs(_cfg(pairs_file, tmp_path / "o"))
    assert pairs == PAIRS and sources[0].pairs == 6


def test_config_validation(tmp_path, pairs_file, tiny_encoder):
    from mbert_lab.studies.align_train import AlignTrainConfig, align_train

    with pytest.raises(ConfigError, match="parallel / tatoeba / embedded"):
        AlignTrainConfig(train_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="one layer"):
        _cfg(pairs_file, tmp_path, layers="all")
    with pytest.raises(ConfigError, match="objectives"):
        _cfg(pairs_file, tmp_path, objectives=("so", "xx"))
    with pytest.raises(ConfigError, match="steps"):
        _cfg(pairs_file, tmp_path, steps=0)
    with pytest.raises(ConfigError, match="parallel"):
        _cfg(pairs_file, tmp_path, parallel=(str(pairs_file),) * 3)
    assert _cfg(pairs_file, tmp_path, frozen_layers="none").frozen_layers == ()
    assert _cfg(pairs_file, tmp_path, tatoeba="de,fr").tatoeba == ("deu", "fra")
    with pytest.raises(ConfigError, match="no MLM head"):
        align_train(_cfg(pairs_file, tmp_path / "o", objectives=("mlm",)), encoder=tiny_encoder)
    with pytest.raises(ConfigError, match="frozen"):
        align_train(_cfg(pairs_file, tmp_path / "o", frozen_layers="0,1,2"), encoder=tiny_encoder)
    cfg = _cfg(pairs_file, tmp_path)
    assert type(cfg).from_dict(cfg.to_dict()) == cfg


def test_before_after_on_gold_and_curve(tiny_encoder, tmp_path, pairs_file):
    from mbert_lab.plots.align_train import plot_curve
    from mbert_lab.studies.align_train import AlignTrainResult, align_train

    r = align_train(_cfg(pairs_file, tmp_path / "o", gold=("en-fr",), gold_limit=20, eval_every=2), encoder=tiny_encoder)
    assert [c.step for c in r.curve] == [0, 2, 4]
    assert r.curve[0].loss is None and r.curve[1].loss is not None and set(r.curve[1].dev_aer) == {"en-fr"}
    b, a = r.before[0], r.after[0]
    assert (b.gold, b.layer, b.dev_pairs, b.test_pairs) == ("en-fr", 2, 10, 10)
    best = min(r.curve, key=lambda c: (c.mean_dev_aer, c.step))
    assert r.chosen_step == best.step and r.chosen_on == "dev"
    assert a.dev_aer == pytest.approx(best.mean_dev_aer)
    r.save(tmp_path / "o")
    back = AlignTrainResult.load(tmp_path / "o" / "align_train.json")
    assert back.curve == r.curve and back.after == r.after
    files = plot_curve(r, tmp_path / "o" / "curve")
    assert {f.suffix for f in files} == {".png", ".svg"}


@pytest.mark.integration
def test_example_study_file_runs(tmp_path, monkeypatch):
    """examples/align_train.toml through the study-file loader (offline model, tiny sizes)."""
    from mbert_lab import studies
    from mbert_lab.config import load_study_file

    repo = Path(__file__).resolve().parent.parent
    [declared] = load_study_file(repo / "examples" / "align_train.toml")
    cfg = declared.config.replace(train_dir=str(tmp_path / "run"))
    _, fn = studies.get_study("align_train")
    r = fn(cfg)
    assert r.n_pairs == 16 and r.steps == 2 and [g.gold for g in r.before] == ["en-fr"]
    assert r.before[0].test_pairs == 10 and 0.0 < r.after[0].test_aer < 1.0
    assert (tmp_path / "run" / "checkpoint" / "checkpoint_manifest.json").is_file()


@pytest.mark.integration
def test_results_on_training_data_carry_a_warning(tiny_encoder, tmp_path, caplog):
    """A checkpoint trained on Tatoeba fra-eng: a Tatoeba result on fra warns (log + provenance),
    on deu it does not."""
    from mbert_lab.studies.align_train import AlignTrainConfig, align_train
    from mbert_lab.studies.retrieval import TatoebaConfig, tatoeba

    align_train(AlignTrainConfig(tatoeba=("fr",), pairs_per_lang=6, train_dir=str(tmp_path / "o"), layers=2,
                                 steps=1, batch_size=3, gold=(), eval_every=0), encoder=tiny_encoder)
    ck = str(tmp_path / "o" / "checkpoint")
    with caplog.at_level("WARNING", logger="mbert_lab"):
        fr = tatoeba(TatoebaConfig(model=ck, langs=("fr", "de"), layers=2, cache=False, transforms=("none",)))
    (w,) = fr.provenance.warnings
    assert "tatoeba.fra-eng.fra" in w and "tatoeba.fra-eng.eng" in w and "deu" not in w and "not zero-shot" in w
    assert any("not zero-shot" in r.getMessage() for r in caplog.records)
    de = tatoeba(TatoebaConfig(model=ck, langs=("de",), layers=2, cache=False, transforms=("none",)))
    assert de.provenance.warnings == ()
    base = tatoeba(TatoebaConfig(model="tiny", langs=("fr",), layers=2, cache=False, transforms=("none",)),
                   encoder=tiny_encoder)
    assert base.provenance.warnings == ()
    # the warning survives the JSON round trip
    from mbert_lab.studies import load_result

    fr.save(tmp_path / "r")
    assert load_result(tmp_path / "r" / "tatoeba.json").provenance.warnings == (w,)
