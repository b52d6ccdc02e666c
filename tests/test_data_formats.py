"""Unit tests of the format readers (mbert_lab.data.readers.*) and the splits/export
helpers on small files written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mbert_lab.data import splits as S
from mbert_lab.data.readers import alignment as A
from mbert_lab.data.readers import conllu as U
from mbert_lab.data.readers import muse as M
from mbert_lab.data.readers import ner as N
from mbert_lab.data.readers import nli as X
from mbert_lab.data.readers import parallel as P
from mbert_lab.data.readers import tagged as G
from mbert_lab.data.readers import text as T
from mbert_lab.errors import ConfigError, InputError


def w(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


# ----------------------------------------------------------------------------- lines


def test_read_lines_crlf_bom_lone_cr_and_unicode_separators(tmp_path):
    p = w(tmp_path / "a.txt", "\ufeffone\r\ntwo\u2028still two\r\nthree\rfour")
    assert T.read_lines(p) == ["one", "two\u2028still two", "three", "four"]


def test_read_lines_invalid_utf8_names_line(tmp_path):
    p = w(tmp_path / "a.txt", b"ok\nbad \xff here\n")
    with pytest.raises(InputError) as e:
        T.read_lines(p)
    assert e.value.line == 2 and e.value.path == str(p)


def test_read_lines_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        T.read_lines(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a folder"):
        T.read_lines(tmp_path)


# ----------------------------------------------------------------------------- parallel


def test_parallel_reads_pairs_and_keeps_punctuation_only(tmp_path):
    a = w(tmp_path / "t.deu", "Hallo!\n...\n")
    b = w(tmp_path / "t.eng", "Hello!\n?!\n")
    c = P.read_parallel_corpus(a, b, src_lang="deu", tgt_lang="eng")
    assert [(p.src, p.tgt, p.line) for p in c] == [("Hallo!", "Hello!", 1), ("...", "?!", 2)]
    assert c.skipped == () and len(c) == 2 and c.src_sentences == ["Hallo!", "..."]


def test_parallel_different_lengths_names_both_files_and_counts(tmp_path):
    a = w(tmp_path / "t.deu", "a\nb\nc\n")
    b = w(tmp_path / "t.eng", "a\nb\n")
    with pytest.raises(InputError) as e:
        P.read_parallel_corpus(a, b)
    msg = str(e.value)
    assert str(a) in msg and str(b) in msg and "3 lines" in msg and "2 lines" in msg


@pytest.mark.parametrize("side", ["src", "tgt"])
def test_parallel_empty_line_is_an_error_with_file_and_line(tmp_path, side):
    a = w(tmp_path / "t.deu", "a\n \nc\n" if side == "src" else "a\nb\nc\n")
    b = w(tmp_path / "t.eng", "a\nb\nc\n" if side == "src" else "a\nb\n\n")
    with pytest.raises(InputError) as e:
        P.read_parallel_corpus(a, b)
    assert e.value.path == str(a if side == "src" else b)
    assert e.value.line == (2 if side == "src" else 3)
    assert "empty='skip'" in str(e.value)


def test_parallel_empty_line_skip_reports_exclusion(tmp_path):
    a = w(tmp_path / "t.deu", "a\n\nc\n")
    b = w(tmp_path / "t.eng", "A\nB\n\n")
    c = P.read_parallel_corpus(a, b, empty="skip")
    assert [p.line for p in c] == [1]
    assert [(s.path, s.line) for s in c.skipped] == [(str(a), 2), (str(b), 3)]
    assert all("dropped" in s.reason for s in c.skipped)


def test_parallel_bad_policy(tmp_path):
    a = w(tmp_path / "t.deu", "a\n")
    with pytest.raises(ConfigError, match="did you mean 'skip'"):
        P.read_parallel_corpus(a, a, empty="skp")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- alignment


def align_files(tmp_path, text: str, gold: str):
    return w(tmp_path / "x.src-tgt", text), w(tmp_path / "x.gold", gold)


def test_alignment_one_based_detected_and_converted(tmp_path):
    t, g = align_files(tmp_path, "a b ||| x y\nc ||| z\n", "1-1 2p2\n1-1\n")
    gold = A.read_alignment(t, g)
    assert gold.index_base == 1
    assert "1-based" in gold.index_evidence and f"{g}:1" in gold.index_evidence
    assert "[detected]" in gold.index_evidence
    p = gold.pairs[0]
    assert p.sure == {(0, 0)} and p.possible == {(1, 1)} and p.sure_or_possible == {(0, 0), (1, 1)}


def test_alignment_zero_based_detected(tmp_path):
    t, g = align_files(tmp_path, "a b c ||| x y z\n", "0-0 1-2\n")
    gold = A.read_alignment(t, g)
    assert gold.index_base == 0 and "index 0" in gold.index_evidence
    assert gold.pairs[0].sure == {(0, 0), (1, 2)}


def test_alignment_ambiguous_needs_override(tmp_path):
    # no index 0, no index equal to the length: 1-1 fits both conventions
    t, g = align_files(tmp_path, "a b c ||| x y z\n", "1-1 2-1\n")
    with pytest.raises(InputError, match="index_base=0 or index_base=1"):
        A.read_alignment(t, g)
    g0 = A.read_alignment(t, g, index_base=0)
    g1 = A.read_alignment(t, g, index_base=1)
    assert g0.pairs[0].sure == {(1, 1), (2, 1)} and g1.pairs[0].sure == {(0, 0), (1, 0)}
    assert "[given]" in g1.index_evidence


def test_alignment_contradictory_evidence(tmp_path):
    t, g = align_files(tmp_path, "a b ||| x y\n", "0-0 2-2\n")
    with pytest.raises(InputError, match="neither convention"):
        A.read_alignment(t, g)


def test_alignment_index_beyond_sentence_names_gold_line(tmp_path):
    t, g = align_files(tmp_path, "a b ||| x y\na b c ||| x\n", "1-1 2-2\n1-1 3-2\n")
    with pytest.raises(InputError) as e:
        A.read_alignment(t, g, index_base=1)
    assert e.value.path == str(g) and e.value.line == 2
    assert "target index 2" in str(e.value) and "1 tokens" in str(e.value)


def test_alignment_override_rejects_zero_in_one_based(tmp_path):
    t, g = align_files(tmp_path, "a b ||| x y\n", "0-1\n")
    with pytest.raises(InputError, match="index 0 in a 1-based"):
        A.read_alignment(t, g, index_base=1)
    with pytest.raises(ConfigError):
        A.read_alignment(t, g, index_base=2)


def test_alignment_ideographic_space_is_a_token(tmp_path):
    # U+3000 between ASCII spaces is a token of its own: str.split() would drop it and shift
    # the gold index of every later token.
    t, g = align_files(tmp_path, "彼 \u3000 は 来た ||| he came\n", "1-1 4-2\n")
    gold = A.read_alignment(t, g)
    p = gold.pairs[0]
    assert p.src_tokens == ("彼", "\u3000", "は", "来た")
    assert gold.index_base == 1 and p.sure == {(0, 0), (3, 1)}
    assert len("彼 \u3000 は 来た".split()) == 3  # what a naive split would give


def test_alignment_padding_spaces(tmp_path):
    t, g = align_files(tmp_path, "2 .   ||| 2 .  \n", "2-2 1-1\n")
    p = A.read_alignment(t, g).pairs[0]
    assert p.src_tokens == ("2", ".") and p.tgt_tokens == ("2", ".")


@pytest.mark.parametrize(
    "text,gold,match,path_is_gold,line",
    [
        ("a ||| b\nc ||| d\n", "1-1\n", "line counts differ", True, 2),
        ("a ||| b\n\nc ||| d\n", "1-1\n\n1-1\n", "blank line", False, 2),
        ("a b x y\n", "1-1\n", "one '\\|\\|\\|'", False, 1),
        ("a ||| b ||| c\n", "1-1\n", "found 2 separators", False, 1),
        ("a ||| b\n   ||| c\n", "1-1\n1-1\n", "empty source", False, 2),
        ("a ||| b\n", "1-1 1x1\n", "bad link '1x1'", True, 1),
    ],
)
def test_alignment_malformed(tmp_path, text, gold, match, path_is_gold, line):
    t, g = align_files(tmp_path, text, gold)
    with pytest.raises(InputError, match=match) as e:
        A.read_alignment(t, g, index_base=1)
    assert e.value.path == str(g if path_is_gold else t)
    assert e.value.line == line


def test_alignment_empty_gold_line_means_no_links(tmp_path):
    t, g = align_files(tmp_path, "a ||| b\nc d ||| e\n", "1-1\n\n")
    gold = A.read_alignment(t, g)
    assert gold.pairs[1].sure == frozenset() and gold.index_base == 1


# ----------------------------------------------------------------------------- CoNLL-U

CONLLU = """# newdoc id = d1
# sent_id = s1
# text = I'm here.
1-2\tI'm\t_\t_\t_\t_\t_\t_\t_\t_
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2\t'm\tbe\tAUX\tVBP\t_\t3\tcop\t_\t_
3\there\there\tADV\tRB\t_\t0\troot\t_\tSpaceAfter=No
3.1\tis\tbe\tAUX\t_\t_\t_\t_\t3:conj\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# sent_id = s2
# text = Go!
1\tGo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
2\t!\t!\tPUNCT\t.\t_\t1\tpunct\t_\t_
"""


def test_conllu_skips_multiword_and_empty_nodes_keeps_comments(tmp_path):
    p = w(tmp_path / "x.conllu", CONLLU)
    s1, s2 = U.read_conllu(p)
    assert s1.sent_id == "s1" and s1.text == "I'm here." and s1.line == 1
    assert s1.words == ("I", "'m", "here", ".")
    assert s1.upos == ("PRON", "AUX", "ADV", "PUNCT")
    assert s1.tokens[2].head == 0 and s1.tokens[2].misc == "SpaceAfter=No"
    assert s2.sent_id == "s2" and s2.words == ("Go", "!") and s2.line == 11


@pytest.mark.parametrize(
    "bad_line,match",
    [
        ("2\tx\tx\tNOUN\t_\t_\t1\tdep\t_", "10 tab-separated columns"),
        ("2\tx\tx\tNOUNY\t_\t_\t1\tdep\t_\t_", "unknown UPOS 'NOUNY'"),
        ("3\tx\tx\tNOUN\t_\t_\t1\tdep\t_\t_", "out of sequence"),
        ("two\tx\tx\tNOUN\t_\t_\t1\tdep\t_\t_", "bad ID 'two'"),
        ("2\tx\tx\tNOUN\t_\t_\tone\tdep\t_\t_", "bad HEAD 'one'"),
        ("5-6\tx\t_\t_\t_\t_\t_\t_\t_\t_", "range '5-6'"),
        ("   ", "whitespace-only"),
    ],
)
def test_conllu_malformed_line(tmp_path, bad_line, match):
    text = "# sent_id = a\n1\tGo\tgo\tVERB\t_\t_\t0\troot\t_\t_\n" + bad_line + "\n"
    p = w(tmp_path / "bad.conllu", text)
    with pytest.raises(InputError, match=match) as e:
        U.read_conllu(p)
    assert e.value.path == str(p) and e.value.line == 3


def test_conllu_duplicate_sent_id_and_tokenless_sentence(tmp_path):
    one = "# sent_id = a\n1\tGo\tgo\tVERB\t_\t_\t0\troot\t_\t_\n"
    p = w(tmp_path / "dup.conllu", one + "\n" + one)
    with pytest.raises(InputError, match="duplicate sent_id 'a'") as e:
        U.read_conllu(p)
    assert e.value.line == 4
    p2 = w(tmp_path / "empty.conllu", "# sent_id = a\n\n")
    with pytest.raises(InputError, match="no word lines"):
        U.read_conllu(p2)


def test_conllu_last_sentence_without_blank_line(tmp_path):
    p = w(tmp_path / "x.conllu", "1\tGo\tgo\tVERB\t_\t_\t0\troot\t_\t_")
    (s,) = U.read_conllu(p)
    assert s.sent_id is None and s.words == ("Go",)


# ----------------------------------------------------------------------------- tagged


def test_tagged_tsv(tmp_path):
    p = w(tmp_path / "dev-en.tsv", "From\tADP\nthe\tDET\n\n\nGo\tVERB")
    a, b = G.read_tagged_tsv(p)
    assert a.tokens == ("From", "the") and a.tags == ("ADP", "DET") and a.line == 1
    assert b.tokens == ("Go",) and b.line == 5


@pytest.mark.parametrize(
    "text,line,match",
    [
        ("a\tDET\nb DET\n", 2, "tab-separated fields"),
        ("a\tDET\nb\tDET\tX\n", 2, "3 tab-separated"),
        ("a\tDETT\n", 1, "unknown tag 'DETT'"),
        ("\tDET\n", 1, "empty word"),
        ("a\tDET\n \n", 2, "whitespace-only"),
    ],
)
def test_tagged_tsv_errors(tmp_path, text, line, match):
    p = w(tmp_path / "x.tsv", text)
    with pytest.raises(InputError, match=match) as e:
        G.read_tagged_tsv(p)
    assert e.value.line == line and e.value.path == str(p)


# ----------------------------------------------------------------------------- NER


def test_conll_ner_reads_and_repairs_iob(tmp_path):
    text = "-DOCSTART- O\n\nPeter B-PER\nBlackburn I-PER\nin O\n\nlast O\nweek I-DATE\n\n"
    p = w(tmp_path / "test.txt", text)
    a, b = N.read_conll_ner(p, types={"PER", "DATE"})
    assert a.tokens == ("Peter", "Blackburn", "in") and a.tags == ("B-PER", "I-PER", "O")
    assert a.line == 3 and a.notes == ()
    assert b.tags == ("O", "B-DATE") and b.notes == (f"{p}:8: 'I-DATE' after 'O' read as 'B-DATE'",)
    (_, kept) = N.read_conll_ner(p, iob="keep")
    assert kept.tags == ("O", "I-DATE") and kept.notes == ()
    with pytest.raises(InputError, match="breaks IOB2") as e:
        N.read_conll_ner(p, iob="strict")
    assert e.value.line == 8


def test_conll_ner_type_change_is_an_iob_break(tmp_path):
    p = w(tmp_path / "t.txt", "a B-PER\nb I-ORG\n")
    with pytest.raises(InputError, match="'I-ORG' after 'B-PER'"):
        N.read_conll_ner(p, iob="strict")


@pytest.mark.parametrize(
    "text,match",
    [
        ("a O\nb\n", "one field"),
        ("a O\nb X-PER\n", "bad label 'X-PER'"),
        ("a O\nb B-MISC\n", "unknown entity type 'MISC'"),
    ],
)
def test_conll_ner_errors(tmp_path, text, match):
    p = w(tmp_path / "t.txt", text)
    with pytest.raises(InputError, match=match) as e:
        N.read_conll_ner(p, types={"PER", "ORG", "LOC"})
    assert e.value.line == 2


# ----------------------------------------------------------------------------- XNLI / PAWS-X


def test_xnli_tsv_crlf_and_errors(tmp_path):
    p = w(tmp_path / "dev-en.tsv", "P one\tH one\tneutral\r\nP one\tH two\tentailment\r\n")
    a, b = X.read_xnli_tsv(p)
    assert (a.label, a.item, a.line, b.item) == ("neutral", 0, 1, 1)
    bad = w(tmp_path / "bad.tsv", "P\tH\tneutral\nP\tH\tmaybe\n")
    with pytest.raises(InputError, match="bad label 'maybe'") as e:
        X.read_xnli_tsv(bad)
    assert e.value.line == 2
    bad2 = w(tmp_path / "bad2.tsv", "P\tH\n")
    with pytest.raises(InputError, match="3 tab-separated fields, found 2"):
        X.read_xnli_tsv(bad2)
    bad3 = w(tmp_path / "bad3.tsv", "P\t \tneutral\n")
    with pytest.raises(InputError, match="empty second sentence"):
        X.read_xnli_tsv(bad3)


def test_pawsx_tsv_labels_and_untranslated(tmp_path):
    p = w(tmp_path / "dev-de.tsv", "A\tB\t1\r\nNS\tC\t0\r\n")
    a, b = X.read_pawsx_tsv(p)
    assert a.label == 1 and not a.untranslated and b.untranslated and b.item == 1
    with pytest.raises(InputError, match="bad label '2'"):
        X.read_pawsx_tsv(w(tmp_path / "x.tsv", "A\tB\t2\n"))


def test_parallel_item_split_is_disjoint_and_grouped():
    groups = [i // 3 for i in range(30)]
    s = S.parallel_item_split(30, groups=groups, seed=3)
    assert set(s.train).isdisjoint(s.eval) and sorted(s.train + s.eval) == list(range(30))
    assert {groups[i] for i in s.train}.isdisjoint({groups[i] for i in s.eval})
    assert len(s.train) == 15
    assert S.parallel_item_split(30, groups=groups, seed=3) == s
    with pytest.raises(ConfigError):
        S.parallel_item_split(3, train_fraction=1.0)
    with pytest.raises(ConfigError):
        S.parallel_item_split(3, groups=[1, 2])


# ----------------------------------------------------------------------------- dictionaries


def test_dictionary_and_translations(tmp_path):
    p = w(tmp_path / "de-en.n.txt", "haus\thouse\nhaus\thome\n")
    es = M.read_dictionary(p, category="n")
    assert [(e.src, e.tgt, e.category, e.line) for e in es] == [
        ("haus", "house", "n", 1),
        ("haus", "home", "n", 2),
    ]
    assert M.translations(es) == {"haus": {"house", "home"}}
    with pytest.raises(InputError, match="source<TAB>target") as e:
        M.read_dictionary(w(tmp_path / "bad.txt", "haus\thouse\nhaus\thome\textra\n"))
    assert e.value.line == 2


# ----------------------------------------------------------------------------- HF datasets


def test_to_hf_dataset_from_records_and_containers(tmp_path):
    t, g = align_files(tmp_path, "a b ||| x y\n", "1-1 2p2\n")
    ds = S.to_hf_dataset(A.read_alignment(t, g))
    assert ds.num_rows == 1 and ds[0]["src"] == ["a", "b"] and ds[0]["sure"] == [[0, 0]]
    p = w(tmp_path / "x.conllu", CONLLU)
    ds2 = S.to_hf_dataset(U.read_conllu(p))
    assert ds2[0]["tokens"][0]["form"] == "I"
    with pytest.raises(ConfigError, match="expected loader records"):
        S.to_records([1, 2])
