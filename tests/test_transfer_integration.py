"""Transfer on the data mirror (and, small, on the offline model)."""

from __future__ import annotations

import pytest

from mbert_lab.transfer.data import load_task_data
from mbert_lab.transfer.runner import TrainConfig, run_seeds

pytestmark = pytest.mark.integration


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


def test_offline_model_pos_transfer_runs(offline_encoder, data_root):
    """A few steps on 64 English sentences: the pipeline runs end to end on the real model."""
    import torch

    torch.set_num_threads(1)
    data = load_task_data("pos", data_root, eval_langs=["en", "de", "zh"], max_train=64, max_eval=10, suites=["pud"])
    cfg = TrainConfig(mode="frozen-lower", freeze_up_to=0, lr=1e-4, epochs=1, batch_size=16, checkpoint_every=0)
    (r,) = run_seeds(offline_encoder, data, cfg, [0], None, progress=False)
    assert r.steps == 4 and set(r.scores["pud"]) == {"en", "de", "zh"}
    assert r.loss_curve[-1][1] < r.loss_curve[0][1]
