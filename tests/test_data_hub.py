"""Hub dataset sources (mbert_lab.data.hub): tiny local datasets in the upstream hub layout
(column names, ClassLabel features, configs, splits), loaded through the ``datasets``
library with ``HF_DATASETS_OFFLINE=1``, give the records the local-file readers give for
the same content. Nothing here touches the network."""

from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value  # noqa: E402

from mbert_lab.data import hub  # noqa: E402
from mbert_lab.data.hub import (  # noqa: E402
    PARQUET_EXPORT,
    HubProvenance,
    HubSource,
    load_hub_ner,
    load_hub_pawsx,
    load_hub_pos,
    load_hub_ud,
    load_hub_xnli,
    parse_source,
)
from mbert_lab.data.readers.conllu import read_conllu  # noqa: E402
from mbert_lab.data.readers.ner import read_conll_ner, write_conll_ner  # noqa: E402
from mbert_lab.data.readers.nli import (  # noqa: E402
    NliPair,
    ParaphrasePair,
    read_pawsx_tsv,
    read_xnli_tsv,
    write_pawsx_tsv,
    write_xnli_tsv,
)
from mbert_lab.data.readers.tagged import (  # noqa: E402
    TaggedSentence,
    read_tagged_tsv,
    write_tagged_tsv,
)
from mbert_lab.data.registry import file_sha256  # noqa: E402
from mbert_lab.errors import ConfigError, DataMissingError, InputError  # noqa: E402

XNLI_NAMES = ["entailment", "neutral", "contradiction"]
NER_NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]
UPOS_NAMES = [
    "NOUN", "PUNCT", "ADP", "NUM", "SYM", "SCONJ", "ADJ", "PART", "DET", "CCONJ",
    "PROPN", "PRON", "X", "_", "ADV", "INTJ", "VERB", "AUX",
]  # the universal_dependencies ClassLabel order ('_' = multi-word token rows)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _loc(r):
    """A record without where it came from (a file:line locally, a row on the hub)."""
    return dataclasses.replace(r, path="", line=0)


def _same(hub_records, file_records):
    assert len(hub_records) == len(file_records) > 0
    assert [_loc(r) for r in hub_records] == [_loc(r) for r in file_records]
    assert [r.line for r in hub_records] == list(range(1, len(hub_records) + 1))


# ============================================================================ sources


def test_parse_source_forms(tmp_path):
    assert parse_source("hub:facebook/xnli") == HubSource("facebook/xnli")
    assert parse_source("HF:google-research-datasets/paws-x@abc123") == HubSource(
        "google-research-datasets/paws-x", "abc123"
    )
    assert parse_source(f"hub:{tmp_path}") == HubSource(str(tmp_path), None, True)
    assert parse_source("hub:./my_folder").local
    assert parse_source("xnli") is None and parse_source(None) is None
    assert str(parse_source("hub:facebook/xnli@main")) == "hub:facebook/xnli@main"
    for bad in ("hub:", "hf:  ", "hub:a/b/c", "hub:facebook/xnli@", "hub:bad id"):
        with pytest.raises(ConfigError) as e:
            parse_source(bad)
        assert "\n" not in str(e.value)


# ============================================================================ XNLI

XNLI_ITEMS = [
    ("Der Hund schläft.", "Ein Tier ruht.", "entailment"),
    ("Es regnet.", "Die Sonne scheint.", "contradiction"),
    ("Sie liest ein Buch.", "Das Buch ist neu.", "neutral"),
    ("\u3000全角スペース", "x\u00a0y", "neutral"),
]


def _xnli_file(tmp_path: Path, items) -> list[NliPair]:
    f = tmp_path / "dev-de.tsv"
    write_xnli_tsv(f, [NliPair(a, b, lab, i, "", 0) for i, (a, b, lab) in enumerate(items)])
    return read_xnli_tsv(f)


def _xnli_dataset(items) -> Dataset:
    feats = Features(
        {
            "premise": Value("string"),
            "hypothesis": Value("string"),
            "label": ClassLabel(names=XNLI_NAMES),
        }
    )
    cols = {
        "premise": [a for a, _, _ in items],
        "hypothesis": [b for _, b, _ in items],
        "label": [XNLI_NAMES.index(lab) for _, _, lab in items],
    }
    return Dataset.from_dict(cols, features=feats)


def test_xnli_save_to_disk_per_config_matches_the_tsv_reader(tmp_path):
    want = _xnli_file(tmp_path, XNLI_ITEMS)
    root = tmp_path / "xnli_hub"
    DatasetDict(
        {"validation": _xnli_dataset(XNLI_ITEMS), "test": _xnli_dataset(XNLI_ITEMS[:1])}
    ).save_to_disk(str(root / "de"))
    got = load_hub_xnli(str(root), "deu", "dev")  # ISO 639-3 in, config 'de'; dev = validation
    _same(got, want)
    p = got.provenance
    assert (p.config, p.split, p.local, p.num_rows) == ("de", "validation", True, 4)
    assert got[0].path == p.locator == f"{root.resolve()}/de/validation"
    split_files = sorted((root / "de" / "validation").iterdir())
    assert set(p.files) == {str(root.resolve() / "de" / "dataset_dict.json")} | {
        str(f.resolve()) for f in split_files
    }
    arrow = next(f for f in split_files if f.suffix == ".arrow")
    assert p.files[str(arrow.resolve())] == file_sha256(arrow)
    assert [x.label for x in load_hub_xnli(f"hub:{root}", "de", "test")] == ["entailment"]


def test_xnli_parquet_folder_with_upstream_split_names(tmp_path):
    want = _xnli_file(tmp_path, XNLI_ITEMS)
    folder = tmp_path / "pq"
    folder.mkdir()
    _xnli_dataset(XNLI_ITEMS).to_parquet(str(folder / "validation.parquet"))
    _xnli_dataset(XNLI_ITEMS[:2]).to_parquet(str(folder / "test.parquet"))
    got = load_hub_xnli(folder, "de", "validation", cache_dir=tmp_path / "c")
    _same(got, want)
    prov = got.provenance.to_dataset_provenance(languages=["deu"])
    pq = str((folder / "validation.parquet").resolve())
    assert prov.files == {pq: file_sha256(folder / "validation.parquet")}
    assert prov.name == f"local:{folder.resolve()}"
    assert (prov.split, prov.languages) == ("validation", ("deu",))
    # the same data loads to the same fingerprint; other data to another one
    again = load_hub_xnli(folder, "de", "dev", cache_dir=tmp_path / "c")
    assert again.provenance.fingerprint == got.provenance.fingerprint
    test = load_hub_xnli(folder, "de", "test", cache_dir=tmp_path / "c")
    assert len(test) == 2 and test.provenance.fingerprint != got.provenance.fingerprint


def test_xnli_integer_labels_and_bad_rows(tmp_path):
    d = tmp_path / "int"
    ds = Dataset.from_dict({"premise": ["a", "b"], "hypothesis": ["c", "d"], "label": [2, 0]})
    DatasetDict({"validation": ds}).save_to_disk(str(d))
    assert [x.label for x in load_hub_xnli(d, "de", "dev")] == ["contradiction", "entailment"]

    single = tmp_path / "single" / "de"  # one Dataset saved (no split of its own)
    _xnli_dataset(XNLI_ITEMS[:2]).save_to_disk(str(single))
    one = load_hub_xnli(single.parent, "de", "dev")
    assert [x.label for x in one] == ["entailment", "contradiction"]
    assert (one.provenance.split, one.provenance.config) == ("dev", "de")

    bad = tmp_path / "bad"
    ds = Dataset.from_dict({"premise": ["a", " \t"], "hypothesis": ["c", "d"], "label": [0, 1]})
    DatasetDict({"validation": ds}).save_to_disk(str(bad))
    with pytest.raises(InputError, match=r"/validation:2: empty first sentence"):
        load_hub_xnli(bad, "de", "dev")

    nocol = tmp_path / "nocol"
    DatasetDict({"validation": Dataset.from_dict({"premise": ["a"], "label": [0]})}).save_to_disk(
        str(nocol)
    )
    with pytest.raises(InputError, match=r"no column 'hypothesis' \(columns: premise, label\)"):
        load_hub_xnli(nocol, "de", "dev")


def test_missing_split_names_the_splits_present(tmp_path):
    d = tmp_path / "x"
    DatasetDict({"test": _xnli_dataset(XNLI_ITEMS)}).save_to_disk(str(d))
    with pytest.raises(DataMissingError, match=r"has no 'dev' split \(splits present: test\)"):
        load_hub_xnli(d, "de", "dev")
    with pytest.raises(DataMissingError, match="not found"):
        load_hub_xnli(tmp_path / "nowhere", "de", "dev")
    f = tmp_path / "file.parquet"
    f.write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a file"):
        load_hub_xnli(f, "de", "dev")


# ============================================================================ PAWS-X

PAWS_ITEMS = [
    ("Das ist ein Satz.", "Ein Satz ist das.", 1),
    ("NS", "Ein anderer Satz.", 0),
    ("Paris ist in Frankreich.", "Frankreich ist in Paris.", 0),
]


def test_pawsx_parquet_matches_the_tsv_reader(tmp_path):
    f = tmp_path / "dev-de.tsv"
    items = [ParaphrasePair(a, b, y, i, "", 0) for i, (a, b, y) in enumerate(PAWS_ITEMS)]
    write_pawsx_tsv(f, items)
    want = read_pawsx_tsv(f)
    feats = Features(
        {
            "id": Value("int32"),
            "sentence1": Value("string"),
            "sentence2": Value("string"),
            "label": ClassLabel(names=["0", "1"]),
        }
    )
    ds = Dataset.from_dict(
        {
            "id": [1, 2, 3],
            "sentence1": [a for a, _, _ in PAWS_ITEMS],
            "sentence2": [b for _, b, _ in PAWS_ITEMS],
            "label": [y for _, _, y in PAWS_ITEMS],
        },
        features=feats,
    )
    (tmp_path / "paws" / "de").mkdir(parents=True)
    ds.to_parquet(str(tmp_path / "paws" / "de" / "validation.parquet"))
    got = load_hub_pawsx(f"hf:{tmp_path / 'paws'}", "de", "dev", cache_dir=tmp_path / "c")
    _same(got, want)
    assert [x.untranslated for x in got] == [False, True, False]
    assert got.provenance.config == "de"

    bad = tmp_path / "bad"
    DatasetDict(
        {"validation": Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"], "label": [-1]})}
    ).save_to_disk(str(bad))
    with pytest.raises(InputError, match=r"validation:1: bad label '-1'; valid: 0, 1"):
        load_hub_pawsx(bad, "de", "dev")


# ============================================================================ MasakhaNER

NER_SENTS = [
    (["Emeka", "Okafor", "lọ", "sí", "Lagos", "."], ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]),
    (["Ní", "ọdún", "2020", "ni"], ["O", "B-DATE", "I-DATE", "O"]),
    (["Ajo", "UN", "sọ"], ["O", "I-ORG", "O"]),  # breaks IOB2: repaired to B-ORG
]


def _ner_dataset(sents) -> Dataset:
    feats = Features(
        {
            "id": Value("string"),
            "tokens": Sequence(Value("string")),
            "ner_tags": Sequence(ClassLabel(names=NER_NAMES)),
        }
    )
    return Dataset.from_dict(
        {
            "id": [str(i) for i in range(len(sents))],
            "tokens": [t for t, _ in sents],
            "ner_tags": [[NER_NAMES.index(x) for x in tags] for _, tags in sents],
        },
        features=feats,
    )


def test_masakhaner_classlabels_match_the_conll_reader(tmp_path):
    f = tmp_path / "test.txt"
    write_conll_ner(f, [TaggedSentence(tuple(t), tuple(g), "", 0) for t, g in NER_SENTS])
    want = read_conll_ner(f, types={"PER", "ORG", "LOC", "DATE"})
    root = tmp_path / "masakhaner2"
    splits = {"test": _ner_dataset(NER_SENTS), "train": _ner_dataset(NER_SENTS[:1])}
    DatasetDict(splits).save_to_disk(str(root / "yor"))
    got = load_hub_ner(str(root), "yo", "test", types={"PER", "ORG", "LOC", "DATE"})
    assert [_loc(dataclasses.replace(s, notes=())) for s in got] == [
        _loc(dataclasses.replace(s, notes=())) for s in want
    ]
    assert got[2].tags == ("O", "B-ORG", "O")
    assert [len(s.notes) for s in got] == [len(s.notes) for s in want] == [0, 0, 1]
    assert got[2].notes[0].startswith(f"{got.provenance.locator}:3: token 2: 'I-ORG' after 'O'")
    assert got.provenance.config == "yor"
    keep = load_hub_ner(root, "yor", "test", iob="keep")
    assert keep[2].tags == ("O", "I-ORG", "O") and keep[2].notes == ()
    with pytest.raises(InputError, match=r"test:3: token 2: 'I-ORG' after 'O' breaks IOB2"):
        load_hub_ner(root, "yor", "test", iob="strict")
    with pytest.raises(InputError, match=r"test:1: token 1: unknown entity type 'PER'"):
        load_hub_ner(root, "yor", "test", types={"LOC"})
    with pytest.raises(ConfigError, match="unknown MasakhaNER version 'v3'"):
        load_hub_ner(root, "yor", "test", version="v3")


# ============================================================================ UD

CONLLU = """# sent_id = s1
# text = Vamos al mercado.
1	Vamos	ir	VERB	_	Mood=Ind|Number=Plur	0	root	_	_
2-3	al	_	_	_	_	_	_	_	_
2	a	a	ADP	_	_	4	case	_	_
3	el	el	DET	_	Definite=Def	4	det	_	_
4	mercado	mercado	NOUN	_	Gender=Masc	1	obl	_	SpaceAfter=No
5	.	.	PUNCT	_	_	1	punct	_	_

# sent_id = s2
# text = Ella come y él también.
1	Ella	él	PRON	_	_	2	nsubj	_	_
2	come	comer	VERB	_	_	0	root	_	_
3	y	y	CCONJ	_	_	4	cc	_	_
4	él	él	PRON	_	_	2	conj	_	_
4.1	come	comer	VERB	_	_	_	_	2:conj	CopyOf=2
5	también	también	ADV	_	_	4	advmod	_	SpaceAfter=No

"""

# what the hub's universal_dependencies rows hold for the file above: every line of the
# conllu library's token list (ranges and empty nodes included), str() of its values
UD_ROWS = {
    "idx": ["s1", "s2"],
    "text": ["Vamos al mercado.", "Ella come y él también."],
    "tokens": [
        ["Vamos", "al", "a", "el", "mercado", "."],
        ["Ella", "come", "y", "él", "come", "también"],
    ],
    "lemmas": [
        ["ir", "_", "a", "el", "mercado", "."],
        ["él", "comer", "y", "él", "comer", "también"],
    ],
    "upos": [
        ["VERB", "_", "ADP", "DET", "NOUN", "PUNCT"],
        ["PRON", "VERB", "CCONJ", "PRON", "VERB", "ADV"],
    ],
    "xpos": [[None] * 6, [None] * 6],
    "feats": [
        ["{'Mood': 'Ind', 'Number': 'Plur'}", "None", "None", "{'Definite': 'Def'}",
         "{'Gender': 'Masc'}", "None"],
        ["None"] * 6,
    ],
    "head": [["0", "None", "4", "4", "1", "1"], ["2", "0", "4", "2", "None", "4"]],
    "deprel": [
        ["root", "_", "case", "det", "obl", "punct"],
        ["nsubj", "root", "cc", "conj", "_", "advmod"],
    ],
    "deps": [["None"] * 6, ["None", "None", "None", "None", "[('conj', 2)]", "None"]],
    "misc": [
        ["None", "None", "None", "None", "{'SpaceAfter': 'No'}", "None"],
        ["None", "None", "None", "None", "{'CopyOf': '2'}", "{'SpaceAfter': 'No'}"],
    ],
}


def _ud_dataset() -> Dataset:
    s = Sequence(Value("string"))
    feats = Features(
        {
            "idx": Value("string"),
            "text": Value("string"),
            "tokens": s,
            "lemmas": s,
            "upos": Sequence(ClassLabel(names=UPOS_NAMES)),
            "xpos": s,
            "feats": s,
            "head": s,
            "deprel": s,
            "deps": s,
            "misc": s,
        }
    )
    rows = dict(UD_ROWS)
    rows["upos"] = [[UPOS_NAMES.index(u) for u in sent] for sent in UD_ROWS["upos"]]
    return Dataset.from_dict(rows, features=feats)


def test_universal_dependencies_rows_match_the_conllu_reader(tmp_path):
    f = tmp_path / "es_test-ud-test.conllu"
    f.write_text(CONLLU, encoding="utf-8")
    want = read_conllu(f)
    root = tmp_path / "ud"
    (root / "es_test").mkdir(parents=True)
    _ud_dataset().to_parquet(str(root / "es_test" / "test.parquet"))
    got = load_hub_ud(root, "es", "test", treebank="test", cache_dir=tmp_path / "c")
    _same(got, want)
    assert got[0].words == ("Vamos", "a", "el", "mercado", ".")
    assert got[0].tokens[0].feats == "Mood=Ind|Number=Plur" and got[1].sent_id == "s2"
    assert got.provenance.config == "es_test"
    same = load_hub_ud(root, "es_test", "test", cache_dir=tmp_path / "c")  # the config itself
    assert same.provenance.fingerprint == got.provenance.fingerprint
    with pytest.raises(ConfigError, match="UD on the hub is per treebank"):
        load_hub_ud(root, "es", "test")


def test_pos_records_match_the_tagged_tsv_reader(tmp_path):
    sents = read_conllu_text(tmp_path, CONLLU)
    f = tmp_path / "test-es.tsv"
    write_tagged_tsv(f, [TaggedSentence(s.words, s.upos, "", 0) for s in sents])
    want = read_tagged_tsv(f)
    DatasetDict({"test": _ud_dataset()}).save_to_disk(str(tmp_path / "ud" / "es_test"))
    got = load_hub_pos(tmp_path / "ud", "es_test", "test")
    _same(got, want)
    assert got[1].tags == ("PRON", "VERB", "CCONJ", "PRON", "ADV")


def read_conllu_text(tmp_path, text):
    f = tmp_path / "x.conllu"
    f.write_text(text, encoding="utf-8")
    return read_conllu(f)


def test_ud_minimal_columns_and_bad_upos(tmp_path):
    ds = Dataset.from_dict({"tokens": [["a", "b"]], "upos": [["NOUN", "VERB"]]})
    DatasetDict({"validation": ds}).save_to_disk(str(tmp_path / "m"))
    (s,) = load_hub_ud(tmp_path / "m", "xx_tb", "dev")
    assert (s.words, s.upos, s.sent_id, s.tokens[0].head, s.tokens[0].lemma) == (
        ("a", "b"), ("NOUN", "VERB"), None, None, "_"
    )
    ds = Dataset.from_dict({"tokens": [["a", "b"]], "upos": [["NOUN", "VRB"]]})
    DatasetDict({"validation": ds}).save_to_disk(str(tmp_path / "b"))
    with pytest.raises(InputError, match=r"validation:1: token 2: unknown UPOS 'VRB'"):
        load_hub_ud(tmp_path / "b", "xx_tb", "dev")


# ============================================================================ the hub


def test_unreachable_hub_is_one_clear_line_fast(tmp_path):
    t = time.monotonic()
    with pytest.raises(ConfigError) as e:
        load_hub_xnli("facebook/xnli", "de", "dev", cache_dir=tmp_path / "c")
    assert time.monotonic() - t < 5
    want = "dataset 'facebook/xnli' is not on this machine and the hub is unreachable"
    assert str(e.value) == want and "\n" not in str(e.value)
    assert e.value.exit_code == 2
    for load, name in ((load_hub_ner, None), (load_hub_pawsx, "hub:no-such-org/no-such-set")):
        with pytest.raises(ConfigError, match="is not on this machine and the hub is unreachable"):
            load(name, "yor" if load is load_hub_ner else "de", "test", cache_dir=tmp_path / "c")


def test_failed_connect_switches_to_offline_mode(tmp_path, monkeypatch):
    """Without the offline variables, one failed 2 s connect decides: no retries."""
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    calls = []

    def refuse(addr, timeout=None, *a, **k):
        calls.append((addr, timeout))
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    t = time.monotonic()
    with pytest.raises(ConfigError, match="'masakhane/masakhaner2' is not on this machine"):
        load_hub_ner(None, "yor", "test", cache_dir=tmp_path / "c")
    assert time.monotonic() - t < 5
    assert calls == [(("huggingface.co", 443), 2.0)]
    import datasets.config as dconf
    from huggingface_hub import constants

    assert dconf.HF_HUB_OFFLINE is False and constants.HF_HUB_OFFLINE is False  # restored


class _FakeBuilder:
    """A builder on a local parquet folder standing in for the hub's, recording its calls."""

    def __init__(self, real, sha):
        self._real, self.hash, self.info, self.config = real, sha, real.info, real.config

    def download_and_prepare(self):
        self._real.download_and_prepare()

    def as_dataset(self, split):
        return self._real.as_dataset(split=split)


@pytest.fixture
def export(tmp_path, monkeypatch):
    """hub._builder answering like the hub: the main revision holds a loading script; the
    parquet export (one folder per config) is a local parquet folder."""
    folder = tmp_path / "export" / "yor"
    folder.mkdir(parents=True)
    _ner_dataset(NER_SENTS).to_parquet(str(folder / "test.parquet"))
    sha = "0123456789abcdef0123456789abcdef01234567"
    calls = []
    real_builder = hub._builder

    def fake(ident, config, revision, cache_dir, data_dir=None):
        calls.append((ident, config, revision, data_dir))
        if revision != PARQUET_EXPORT:
            raise RuntimeError("Dataset scripts are no longer supported, but found x.py")
        real = real_builder(str(tmp_path / "export" / data_dir), None, None, str(tmp_path / "c"))
        return _FakeBuilder(real, sha)

    monkeypatch.setattr(hub, "_builder", fake)
    return calls, sha


def test_script_repository_is_read_from_its_parquet_export(export):
    calls, sha = export
    got = load_hub_ner(None, "yor", "test")  # masakhane/masakhaner2: a known script repo
    assert calls == [("masakhane/masakhaner2", None, PARQUET_EXPORT, "yor")]
    assert [s.tokens for s in got] == [tuple(t) for t, _ in NER_SENTS]
    p = got.provenance
    assert (p.source, p.config, p.split, p.revision, p.commit, p.local) == (
        "masakhane/masakhaner2", "yor", "test", PARQUET_EXPORT, sha, False
    )
    assert got[0].path == f"hf://datasets/masakhane/masakhaner2@{sha}/yor/test"
    dp = p.to_dataset_provenance(languages=["yor"])
    assert dp.name == "hub:masakhane/masakhaner2"
    assert dp.files == {got[0].path: f"fingerprint:{p.fingerprint}"}


def test_a_repository_found_to_hold_a_script_falls_back_to_the_export(export):
    calls, _ = export
    got = load_hub_ner("hub:some-org/scripted-ner", "yo", "test")
    assert calls == [
        ("some-org/scripted-ner", "yor", None, None),
        ("some-org/scripted-ner", None, PARQUET_EXPORT, "yor"),
    ]
    assert len(got) == 3 and got.provenance.revision == PARQUET_EXPORT
    # a pinned revision is not silently replaced by the export
    with pytest.raises(ConfigError, match="at revision 'v1.0' has a loading script"):
        load_hub_ner("some-org/scripted-ner@v1.0", "yor", "test")
    explicit = load_hub_ner("some-org/scripted-ner", "yor", "test", revision=PARQUET_EXPORT)
    assert explicit == got and calls[-1] == ("some-org/scripted-ner", None, PARQUET_EXPORT, "yor")


def test_revision_rules(tmp_path):
    with pytest.raises(ConfigError, match="only applies to a hub id"):
        load_hub_xnli(tmp_path, "de", "dev", revision="main")
    with pytest.raises(ConfigError, match="two revisions"):
        load_hub_xnli("hub:facebook/xnli@a", "de", "dev", revision="b")


def test_provenance_locator_forms():
    p = HubProvenance("facebook/xnli", "de", "validation", None, None, "fp", 3)
    assert p.locator == "hf://datasets/facebook/xnli@main/de/validation"
    q = dataclasses.replace(p, commit="c" * 40)
    assert q.locator == f"hf://datasets/facebook/xnli@{'c' * 40}/de/validation"
    assert q.to_dataset_provenance().files == {q.locator: "fingerprint:fp"}


def test_load_hub_dispatches_by_dataset_name(tmp_path):
    DatasetDict({"validation": _xnli_dataset(XNLI_ITEMS)}).save_to_disk(str(tmp_path / "x" / "de"))
    assert hub.load_hub("xnli", f"hub:{tmp_path / 'x'}", "de", "dev") == load_hub_xnli(
        tmp_path / "x", "de", "dev"
    )
    DatasetDict({"test": _ud_dataset()}).save_to_disk(str(tmp_path / "ud" / "es_test"))
    pos = hub.load_hub("ud-pos", tmp_path / "ud", "es", "test", treebank="test")
    assert [s.tags for s in pos][0] == ("VERB", "ADP", "DET", "NOUN", "PUNCT")
    with pytest.raises(ConfigError, match="unknown hub dataset 'pawsx' .*'paws-x'"):
        hub.load_hub("pawsx", None, "de", "dev")


def test_json_lines_folder_with_string_labels(tmp_path):
    """A script-free folder of JSON lines per split (no features block): string labels."""
    import json

    want = _xnli_file(tmp_path, XNLI_ITEMS)
    folder = tmp_path / "jsonl" / "de"
    folder.mkdir(parents=True)
    with open(folder / "validation.jsonl", "w", encoding="utf-8") as f:
        for a, b, lab in XNLI_ITEMS:
            f.write(json.dumps({"premise": a, "hypothesis": b, "label": lab}) + "\n")
    got = load_hub_xnli(tmp_path / "jsonl", "de", "dev", cache_dir=tmp_path / "c")
    _same(got, want)
    assert list(got.provenance.files) == [str((folder / "validation.jsonl").resolve())]
