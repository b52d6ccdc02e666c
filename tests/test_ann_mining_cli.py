"""``index mine --knn ivf``: the CLI and the library give the same pairs; bad options exit 2."""

from __future__ import annotations

import json

from mbert_lab.cli import main
from tests.test_ann_mining import tatoeba_mining_files
from tests.test_index_cli import use_encoder


def test_mine_knn_ivf_cli_equals_library(tmp_path, monkeypatch, tiny_encoder, capsys) -> None:
    from mbert_lab.studies.retrieval import MineConfig, mine

    monkeypatch.setenv("MBERT_LAB_CACHE", str(tmp_path / "cache"))
    use_encoder(monkeypatch, tiny_encoder)
    src, tgt, gold = tatoeba_mining_files(tmp_path / "in", n=300)
    out = tmp_path / "pairs.tsv"
    args = ["index", "mine", "--src", str(src), "--tgt", str(tgt), "--with-ids", "--gold", str(gold), "--layers", "4",
            "--knn", "ivf", "--knn-recall", "0.9", "--threads", "1", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "forward k-NN: IVF" in text and "backward k-NN: IVF" in text
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["knn"] == "ivf" and [s["direction"] for s in rec["knn_searches"]] == ["forward", "backward"]
    lib = mine(MineConfig(src=str(src), tgt=str(tgt), with_ids=True, gold=str(gold), layers=4, threads=1,
                          knn="ivf", knn_recall=0.9), encoder=tiny_encoder)
    rows = [r.split("\t") for r in out.read_text(encoding="utf-8").splitlines()[1:]]
    assert [(r[1], r[2]) for r in rows] == [(p.src_id, p.tgt_id) for p in lib.pairs]
    assert rec["evaluation"]["test"]["f1"] == lib.evaluation.test.f1
    assert rec["knn_searches"][0]["nprobe"] == lib.knn_searches[0].nprobe
    for bad, msg in [(["--nprobe", "4"], "only with knn='ivf'"), (["--knn", "ivf", "--nprobe", "0"], "nprobe"),
                     (["--memory", "2G"], "only with ray")]:
        assert main(args[:-8] + bad + ["--out", str(out)]) == 2
        assert msg in capsys.readouterr().err
