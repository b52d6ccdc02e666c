"""Transfer data from the catalogue, the user's own files and hub sources (issue #12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mbert_lab.data.datasets import transfer_eval_file, transfer_languages
from mbert_lab.errors import ConfigError, DataMissingError
from mbert_lab.studies.transfer import TransferConfig, load_data
from mbert_lab.transfer.data import load_task_data

from .test_transfer import _write_pair_mirror, _write_pos_mirror

NER_EN = "EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n\nLagos B-LOC\nis O\n"


def _ner_root(root: Path) -> Path:
    (root / "ner" / "conll2003-en").mkdir(parents=True)
    for split in ("train", "dev"):
        (root / "ner" / "conll2003-en" / f"{split}.txt").write_text(NER_EN)
    for v, langs in (("v1", ("yor", "qaa")), ("v2", ("yor", "qab"))):
        for lang in langs:
            d = root / "ner" / f"masakhaner-{v}" / lang
            d.mkdir(parents=True)
            word = f"{lang}{v}"
            (d / "test.txt").write_text(f"{word} B-PER\nOjo B-DATE\n")
            if not (v == "v2" and lang == "qab"):
                (d / "dev.txt").write_text(f"{word} B-PER\nOjo B-DATE\n")
    return root


def test_masakhaner_version_option_and_missing_split(tmp_path):
    root = _ner_root(tmp_path)
    assert transfer_languages("ner", "date-as-O", root=root) == ["en", "qaa", "qab", "yor"]
    assert transfer_eval_file("ner", "date-as-O", "yo", root=root)[0] == "masakhaner-v1"  # default v1
    assert transfer_eval_file("ner", "date-as-O", "yor", root=root, masakhaner="v2")[0] == "masakhaner-v2"
    # a language in one version only uses that one, whatever the option
    assert transfer_eval_file("ner", "date-as-O", "qaa", root=root, masakhaner="v2")[0] == "masakhaner-v1"
    with pytest.raises(DataMissingError, match=r"no 'dev' split \(splits present: test\)"):
        transfer_eval_file("ner", "date-as-O", "qab", root=root)
    # the config fails at construction, naming the splits present
    with pytest.raises(ConfigError, match=r"splits present: test"):
        TransferConfig(task="ner", eval_langs="qab", data_root=str(root))
    cfg = TransferConfig(task="ner", eval_langs="en,yor,qaa", masakhaner="v2", data_root=str(root))
    data = load_data(cfg)
    words = {(e.suite, e.lang): e.examples[0].words[0] for e in data.evals}
    assert words[("date-as-O", "yor")] == "yorv2" and words[("date-as-O", "qaa")] == "qaav1"
    assert {d.name for d in data.datasets} == {"conll2003-en", "masakhaner-v1", "masakhaner-v2"}
    assert TransferConfig(task="ner", eval_langs="qab", ner_split="test", data_root=str(root)).eval_langs == ("qab",)
    with pytest.raises(ConfigError, match="masakhaner: chooses"):
        TransferConfig(task="pos", masakhaner="v2", data_root=str(root))
    with pytest.raises(ConfigError, match="masakhaner"):
        TransferConfig(task="ner", masakhaner="v3", eval_langs="en", data_root=str(root))


def _conllu(sents) -> str:
    out = []
    for k, s in enumerate(sents):
        out.append(f"# sent_id = s{k}")
        out += [f"{j}\t{w}\t_\t{t}\t_\t_\t0\t_\t_\t_" for j, (w, t) in enumerate(s, start=1)]
        out.append("")
    return "\n".join(out) + "\n"


def test_user_training_and_evaluation_files(tmp_path):
    _write_pos_mirror(tmp_path / "data")
    train = tmp_path / "qaa_user-ud-train.conllu"
    train.write_text(_conllu([[("ka", "NOUN"), ("mi", "VERB")], [("mi", "VERB"), ("ka", "NOUN")]]))
    ev = tmp_path / "qab.tsv"
    ev.write_text("ka\tNOUN\nmi\tVERB\n\n")
    cfg = TransferConfig(task="pos", train_lang="qaa", train_file=str(train), eval_files={"qab": str(ev)},
                         data_root=str(tmp_path / "data"))
    assert cfg.train_lang == "qaa" and cfg.eval_files == {"qab": str(ev)} and cfg.eval_langs == ()
    data = load_data(cfg)
    assert [e.words for e in data.train] == [("ka", "mi"), ("mi", "ka")]
    assert [(e.suite, e.lang, e.examples[0].labels) for e in data.evals] == [("files", "qab", ("NOUN", "VERB"))]
    assert {d.name for d in data.datasets} == {"user-train", "user-eval"}
    # with mirror languages too: the catalogue's suites, then the user's
    both = load_data(cfg.replace(eval_langs="de", train_file=None, train_lang="en"))
    assert [(e.suite, e.lang) for e in both.evals] == [("pud", "deu"), ("xtreme-dev", "deu"), ("files", "qab")]
    with pytest.raises(ConfigError, match="train_file"):
        TransferConfig(task="pos", train_lang="de", data_root=str(tmp_path / "data"))
    with pytest.raises(ConfigError, match="suites: without eval_langs only your eval_files"):
        TransferConfig(task="pos", suites="pud", eval_files={"qab": str(ev)}, data_root=str(tmp_path / "data"))
    with pytest.raises(ConfigError, match="not LANG=PATH"):
        TransferConfig(task="pos", eval_files=["qab"], data_root=str(tmp_path / "data"))
    with pytest.raises(Exception, match="no such file"):
        TransferConfig(task="pos", eval_files={"qab": str(tmp_path / "nope.tsv")}, data_root=str(tmp_path / "data"))


def test_sources_are_validated_at_construction(tmp_path):
    _write_pair_mirror(tmp_path)
    with pytest.raises(ConfigError, match=r"sources\[xnli\]: bad hub source"):
        TransferConfig(task="xnli", sources={"xnli": "hub:not a repo"}, data_root=str(tmp_path))
    with pytest.raises(ConfigError, match="not a hub source"):
        TransferConfig(task="xnli", sources={"xnli": "facebook/xnli"}, data_root=str(tmp_path))
    with pytest.raises(ConfigError, match="not read by task xnli"):
        TransferConfig(task="xnli", sources={"masakhaner": "hub:masakhane/masakhaner2"}, data_root=str(tmp_path))
    c = TransferConfig(task="xnli", sources="xnli=hub:facebook/xnli@main", eval_langs="en,sw", data_root=str(tmp_path))
    assert c.sources == {"xnli": "hub:facebook/xnli@main"} and c.eval_langs == ("eng", "swa")


def test_xnli_from_a_local_hub_folder_matches_the_tsv_files(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    _write_pair_mirror(tmp_path / "data")
    names = ["entailment", "neutral", "contradiction"]
    feats = datasets.Features({"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
                               "label": datasets.ClassLabel(names=names)})
    hubdir = tmp_path / "xnli_hub"
    for lang in ("en", "de"):
        rows = [ln.split("\t") for ln in (tmp_path / "data" / "xnli" / f"dev-{lang}.tsv").read_text().splitlines()]
        ds = datasets.Dataset.from_dict({"premise": [r[0] for r in rows], "hypothesis": [r[1] for r in rows],
                                         "label": [names.index(r[2]) for r in rows]}, features=feats)
        datasets.DatasetDict({"validation": ds}).save_to_disk(str(hubdir / lang))
    files = load_data(TransferConfig(task="xnli", eval_langs="en,de", data_root=str(tmp_path / "data")))
    cfg = TransferConfig(task="xnli", eval_langs="en,de", sources={"xnli": f"hub:{hubdir}"},
                         data_root=str(tmp_path / "empty"))
    hub = load_data(cfg)
    assert hub.train == files.train and len(hub.train) > 0
    assert [(e.lang, e.examples) for e in hub.evals] == [(e.lang, e.examples) for e in files.evals]
    provs = hub.datasets  # one per hub split (en: train and eval; de: eval)
    assert [(p.name, p.split, p.languages) for p in provs] == [("hub-xnli", "validation", ("eng",)),
                                                               ("hub-xnli", "validation", ("deu",))]
    assert all(len(p.files) >= 2 for p in provs)
    assert hub.notes["split"]["fingerprint"] == files.notes["split"]["fingerprint"]


def test_pos_eval_files_alone_in_load_task_data(tmp_path):
    _write_pos_mirror(tmp_path)
    ev = tmp_path / "x.conllu"
    ev.write_text(_conllu([[("the", "NOUN")]]))
    d = load_task_data("pos", tmp_path, eval_files={"qaa": ev})
    assert [(e.suite, e.lang) for e in d.evals] == [("files", "qaa")] and d.primary_suite == "files"


def test_cli_user_files_and_sources_flags(tmp_path, monkeypatch):
    from mbert_lab.cli import build_parser
    from mbert_lab.cli.transfer_cmd import config_from_args

    _write_pos_mirror(tmp_path / "data")
    monkeypatch.setenv("MBERT_LAB_DATA", str(tmp_path / "data"))
    ev = tmp_path / "x.conllu"
    ev.write_text(_conllu([[("the", "NOUN")]]))
    args = build_parser().parse_args(["transfer", "--task", "pos", "--eval", "de", "--eval-file", f"qaa={ev}",
                                      "--eval-file", f"qab={ev}", "--source", "ud=hub:universal-dependencies/ud@v2",
                                      "--train-file", str(ev), "--out", str(tmp_path / "o")])
    cfg = config_from_args(args)
    assert cfg.eval_files == {"qaa": str(ev), "qab": str(ev)} and cfg.train_file == str(ev)
    assert cfg.sources == {"ud": "hub:universal-dependencies/ud@v2"} and cfg.eval_langs == ("deu",)


def test_training_defaults_are_the_documented_ones(tmp_path):
    """Chosen on English dev data (see TransferConfig's docstring and `transfer --help`)."""
    _write_pos_mirror(tmp_path)
    c = TransferConfig(task="pos", eval_langs="en", data_root=str(tmp_path))
    assert (c.mode, c.freeze_up_to, c.effective_lr, c.epochs, c.max_train) == ("frozen-lower", 0, 1e-4, 1, 5000)
    assert c.replace(mode="probe").effective_lr == 1e-3


def test_checkpoint_evaluated_on_a_user_file(tmp_path, tiny_encoder):
    """Train once, then evaluate the saved model on the user's own CoNLL-U file of an
    unnamed language: a copy of the German PUD file scores exactly what German scored."""
    from mbert_lab.studies.transfer import transfer

    _write_pos_mirror(tmp_path)
    trained = transfer(TransferConfig(task="pos", eval_langs="de", suites="pud", data_root=str(tmp_path), seeds=1,
                                      epochs=2, lr=2e-3, batch_size=8, max_length=32, checkpoint_every=0,
                                      save_model=True, work_dir=str(tmp_path / "w"), progress=False),
                       encoder=tiny_encoder)
    mine = tmp_path / "qaa.conllu"
    mine.write_text((tmp_path / "ud-pud" / "de_pud-ud-test.conllu").read_text())
    ev = transfer(TransferConfig(checkpoint=str(tmp_path / "w" / "seed-0" / "model"), eval_files={"qaa": str(mine)},
                                 data_root=str(tmp_path), progress=False))
    assert ev.eval_langs == ("qaa",) and ev.languages["qaa"].name == "unknown"
    assert abs(ev.suites["files"].per_language["qaa"].mean - trained.per_language["deu"].mean) <= 1e-6
