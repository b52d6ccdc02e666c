"""Transfer on the data mirror and the offline model (small)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mbert_lab.studies.transfer import TransferConfig, transfer
from mbert_lab.transfer.data import load_task_data

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parent.parent


def test_mirror_task_data(data_root):
    pos = load_task_data("pos", data_root, max_train=200, max_eval=20)
    assert len(pos.train) == 200 and len(pos.labels) == 17
    assert {e.lang for e in pos.evals if e.suite == "pud"} == {"en", "de", "fr", "es", "ru", "zh", "ar"}
    ner = load_task_data("ner", data_root, eval_langs=["en", "hau", "yor"], max_train=300)
    assert "B-DATE" not in ner.labels
    rep = {(e.suite, e.lang): e.label_report for e in ner.evals}
    assert rep[("date-as-O", "hau")]["mapped_counts"]["B-DATE"] > 0
    assert rep[("date-kept", "hau")]["unseen_kept_counts"]["B-DATE"] > 0
    for task in ("xnli", "pawsx"):
        d = load_task_data(task, data_root)
        train_items = {e.item for e in d.train}
        train_a = {e.text_a for e in d.train}
        for ev in d.evals:
            assert not train_items & {e.item for e in ev.examples}
            if ev.lang == "en":
                assert not train_a & {e.text_a for e in ev.examples}
        assert d.notes["split"]["train_items"] + d.notes["split"]["eval_items"] == d.notes["split"]["n_items"]


def test_mirror_languages_as_iso639_3(data_root):
    c = TransferConfig(task="ner", eval_langs="en,hau,sw,yo")
    assert c.eval_langs == ("eng", "hau", "swa", "yor")
    assert TransferConfig(task="xnli").eval_langs == ("eng", "deu", "fra", "spa", "rus", "cmn", "ara")


def test_offline_model_layer_probe_known_accuracy(offline_encoder, data_root):
    """Layer 8 probe on 200 English sentences: English and German PUD POS accuracy on the test
    half in line with BASELINES.md (5,000 sentences: en 94.6, de 87.0 at layer 8)."""
    r = transfer(TransferConfig(task="pos", eval_langs="en,de", suites="pud", mode="layer-probe", layers=8,
                                max_train=200, max_eval=100, seeds=1, progress=False, threads=1),
                 encoder=offline_encoder)
    assert r.layer_probes.best_layer == 8 and r.layer_probes.n_test == {"pud:eng": 50, "pud:deu": 50}
    assert 85.0 <= r.per_language["eng"].mean <= 97.0
    assert 75.0 <= r.per_language["deu"].mean <= r.per_language["eng"].mean


def test_offline_model_head_on_frozen_layer_learns(offline_encoder, data_root):
    """A head on frozen layer 8, 64 sentences, 20 steps: the loss falls and English tagging
    is far above the majority tag (NOUN, about 17% of PUD words)."""
    cfg = TransferConfig(task="pos", eval_langs="en,de,zh", suites="pud", mode="probe", layers=8, lr=1e-2, epochs=5,
                         max_train=64, max_eval=20, batch_size=16, seeds=1, checkpoint_every=0, progress=False,
                         threads=1)
    r = transfer(cfg, encoder=offline_encoder)
    run = r.training.runs[0]
    assert run.steps == 20 and r.training.read_layer == 8 and r.training.encoder_trainable_params == 0
    assert set(r.per_language) == {"eng", "deu", "cmn"}
    assert r.per_language["eng"].mean >= 65.0 and r.per_language["deu"].mean >= 55.0


def test_example_study_file_runs(offline_encoder, data_root):
    from mbert_lab.config import load_study_file
    from mbert_lab.studies import run_config

    probes, head = [run_config(d.config, encoder=offline_encoder)
                    for d in load_study_file(REPO / "examples" / "transfer.toml")]
    assert probes.layer_probes.layers == (4, 8) and probes.layer_probes.n_test == {"pud:eng": 5, "pud:deu": 5}
    assert probes.per_language["eng"].mean >= 60.0
    assert head.training.total_steps == 1 and head.training.train_examples == 40
    assert head.details[0]["pud"]["deu"].n_examples == 5


def test_example_study_file_with_user_files_runs(offline_encoder, data_root, monkeypatch):
    from mbert_lab.config import load_study_file
    from mbert_lab.studies import run_config

    monkeypatch.chdir(REPO)
    (d,) = load_study_file(REPO / "examples" / "transfer_files.toml")
    r = run_config(d.config, encoder=offline_encoder)
    assert r.details[0]["files"]["qaa"].n_examples == 3 and r.details[0]["files"]["qaa"].n_words == 16
    assert r.languages["qaa"].name == "unknown" and r.details[0]["pud"]["deu"].n_examples == 5
    assert r.suites["files"].per_language["qaa"].mean >= 50.0  # plain English words, tagged by a probe
