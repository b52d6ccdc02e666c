"""Property tests of the pure readers (issue #11): any bytes in -> a clean InputError or a
parse that round-trips through the format's writer; BOM / CRLF / lone-CR variants of a file
give identical records (or the identical error at the identical line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbert_lab.data.readers import alignment as A
from mbert_lab.data.readers import conllu as U
from mbert_lab.data.readers import muse as M
from mbert_lab.data.readers import ner as N
from mbert_lab.data.readers import nli as X
from mbert_lab.data.readers import parallel as P
from mbert_lab.data.readers import tagged as G
from mbert_lab.errors import InputError

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Pieces chosen to hit the formats' separators, the line rule's edge cases (BOM, U+3000,
# U+2028, U+0085 inside a line) and valid labels, so that both outcomes occur often.
PIECES = [
    "a", "zu", "é", " ", "  ", "\t", "\u3000", "\u2028", "\x85", "\ufeff", "|||", "|",
    "0", "1", "2", "-", "p", "#", "=", "_", "NOUN", "VERB", "O", "B-PER", "I-PER",
    "entailment", "neutral", "NS", "-DOCSTART-",
]
piece_text = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
WORD_PIECES = ["a", "zu", "é", "\u3000", "x|", "#", "\u2028", "-"]
word = st.lists(st.sampled_from(WORD_PIECES), min_size=1, max_size=3).map("".join)
noise_line = piece_text


def one_of_values(*values: str):
    return st.sampled_from(list(values))


def joined(sep: str, *parts):
    """Lines made of ``parts`` (strategies) joined by ``sep``."""
    return st.tuples(*parts).map(sep.join)


def lines_of(line_strategy, max_size=8):
    """Lines of a format mixed with blank and noise lines."""
    choice = st.one_of(line_strategy, line_strategy, st.just(""), noise_line)
    return st.lists(choice, max_size=max_size)


def _word_line(i: str, form: str, upos: str, head: str) -> str:
    return "\t".join([i, form, form, upos, "_", "_", head, "dep", "_", "_"])


conllu_line = st.one_of(
    st.builds(
        _word_line,
        one_of_values("1", "2", "3", "1-2", "1.1", "0", "x"),
        word,
        one_of_values("NOUN", "VERB", "PUNCT", "NOUNY"),
        one_of_values("_", "0", "1", "x", "\u00b2"),
    ),
    joined(" = ", one_of_values("# sent_id", "# text", "# x"), piece_text),
)
tagged_line = joined("\t", word, one_of_values("NOUN", "VERB", "X", "DETT", ""))
ner_line = joined(" ", word, one_of_values("O", "B-PER", "I-PER", "I-LOC", "X-1"))
nli_line = joined("\t", word, word, one_of_values("entailment", "neutral", "0", "1", "2"))
dict_line = st.builds(lambda a, b, s: f"{a}{s}{b}", word, word, one_of_values("\t", " ", "  "))
align_line = joined(
    " ||| ", st.lists(word, max_size=4).map(" ".join), st.lists(word, max_size=4).map(" ".join)
)
index = st.integers(0, 4).map(str)
link = joined("", index, one_of_values("-", "p", "x"), index)
link_line = st.lists(link, max_size=4).map(" ".join)


def to_bytes(lines: list[str], end: str = "\n", bom: bool = False, final: bool = True) -> bytes:
    text = end.join(lines) + (end if final and lines else "")
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _conllu_sentence(words, sid, text):
    out = [f"# sent_id = {sid}"] if sid is not None else []
    out += [f"# text = {text}"] if text is not None else []
    out += [_word_line(str(i), w, u, h) for i, (w, u, h) in enumerate(words, 1)]
    return out + [""]


conllu_sentence = st.builds(
    _conllu_sentence,
    st.lists(
        st.tuples(word, one_of_values("NOUN", "VERB", "PUNCT"), one_of_values("_", "0", "1")),
        min_size=1,
        max_size=4,
    ),
    st.one_of(st.none(), st.uuids().map(lambda u: str(u)[:8])),
    st.one_of(st.none(), piece_text),
)


VALID_LINES = {
    "tagged": joined("\t", word, one_of_values("NOUN", "VERB", "X")),
    "xnli": joined("\t", word, word, one_of_values("entailment", "neutral")),
    "pawsx": joined("\t", word, one_of_values("NS", "b"), one_of_values("0", "1")),
}


def valid_doc(fmt: str):
    """Mostly well-formed documents of a format (so that parses are not all empty)."""
    if fmt == "conllu":
        return st.lists(conllu_sentence, max_size=4).map(lambda ss: [x for s in ss for x in s])
    line = VALID_LINES.get(fmt, FORMATS[fmt][3])
    if fmt in ("tagged", "ner"):
        return st.lists(st.one_of(line, line, line, st.just("")), max_size=10)
    return st.lists(line, max_size=8)


def any_input(fmt: str):
    """Arbitrary bytes, text built from the format's own lines with noise, or well-formed text."""
    ends = st.sampled_from(["\n", "\r\n", "\r"])
    return st.one_of(
        st.binary(max_size=120),
        st.builds(to_bytes, lines_of(FORMATS[fmt][3]), ends, st.booleans(), st.booleans()),
        st.builds(to_bytes, valid_doc(fmt), ends, st.booleans(), st.booleans()),
        st.builds(to_bytes, valid_doc(fmt), ends, st.booleans(), st.booleans()),
    )


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


# format name -> (read, write, key of the records' content)
def _ud_key(sents):
    return [(s.sent_id, s.text, s.tokens) for s in sents]


def _tag_key(sents):
    return [(s.tokens, s.tags) for s in sents]


def _nli_key(xs):
    return [(x.premise, x.hypothesis, x.label, x.item) for x in xs]


def _paws_key(xs):
    return [(x.sentence1, x.sentence2, x.label, x.item) for x in xs]


def _dict_key(es):
    return [(e.src, e.tgt) for e in es]


FORMATS = {
    "conllu": (U.read_conllu, U.write_conllu, _ud_key, conllu_line),
    "tagged": (G.read_tagged_tsv, G.write_tagged_tsv, _tag_key, tagged_line),
    "ner": (N.read_conll_ner, N.write_conll_ner, _tag_key, ner_line),
    "xnli": (X.read_xnli_tsv, X.write_xnli_tsv, _nli_key, nli_line),
    "pawsx": (X.read_pawsx_tsv, X.write_pawsx_tsv, _paws_key, nli_line),
    "muse": (M.read_dictionary, M.write_dictionary, _dict_key, dict_line),
}


def outcome(read, key, path: Path):
    try:
        recs = read(path)
    except InputError as e:
        return ("error", e.reason, e.line)
    return ("ok", key(recs), [getattr(r, "line", None) for r in recs])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_any_bytes_clean_error_or_round_trip(fmt, tmp):
    read, write, key, line = FORMATS[fmt]

    @SETTINGS
    @given(data=any_input(fmt))
    def prop(data: bytes) -> None:
        src = tmp / f"{fmt}.in"
        src.write_bytes(data)
        try:
            recs = read(src)
        except InputError as e:
            assert e.path == str(src) and e.reason
            return
        out = tmp / f"{fmt}.out"
        write(out, recs)
        assert key(read(out)) == key(recs)

    prop()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_bom_crlf_and_cr_variants_read_the_same(fmt, tmp):
    read, _write, key, line = FORMATS[fmt]

    @SETTINGS
    @given(lines=st.one_of(lines_of(line), valid_doc(fmt)), final=st.booleans())
    def prop(lines: list[str], final: bool) -> None:
        if lines and lines[0].startswith("\ufeff"):
            lines = ["x" + lines[0]]  + lines[1:]  # a leading U+FEFF is the BOM by the rule
        results = []
        variants = (("\n", False), ("\r\n", False), ("\r", False), ("\n", True), ("\r\n", True))
        for end, bom in variants:
            p = tmp / f"{fmt}.variant"
            p.write_bytes(to_bytes(lines, end, bom, final))
            results.append(outcome(read, key, p))
        assert all(r == results[0] for r in results), results

    prop()


@st.composite
def aligned_doc(draw):
    """Well-formed ``src ||| tgt`` lines with in-range 0-based links (sometimes noise)."""
    text, gold = [], []
    for _ in range(draw(st.integers(0, 5))):
        src = draw(st.lists(word, min_size=1, max_size=4))
        tgt = draw(st.lists(word, min_size=1, max_size=4))
        sep = draw(st.sampled_from([" ||| ", "|||", "  |||\t"]))
        text.append(" ".join(src) + sep + " ".join(tgt))
        links = draw(
            st.lists(
                st.tuples(
                    st.integers(0, len(src) - 1), st.sampled_from("-p"), st.integers(0, len(tgt) - 1)
                ),
                max_size=4,
            )
        )
        gold.append(" ".join(f"{i}{k}{j}" for i, k, j in links))
    if draw(st.booleans()):
        if draw(st.booleans()):
            text = draw(st.lists(st.one_of(align_line, noise_line), max_size=6))
        gold = draw(st.lists(link_line, max_size=6)) if draw(st.booleans()) else gold
    return text, gold


@SETTINGS
@given(doc=aligned_doc(), end=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans())
def test_alignment_round_trip_and_variants(tmp, doc, end, bom):
    text, gold = doc
    t, g = tmp / "a.src-tgt", tmp / "a.gold"

    def read_with(tb: bytes, gb: bytes):
        t.write_bytes(tb)
        g.write_bytes(gb)
        try:
            gs = A.read_alignment(t, g, index_base=0)
        except InputError as e:
            return ("error", e.reason, e.line, Path(e.path).name if e.path else None)
        return ("ok", [(p.src, p.tgt, p.sure, p.possible, p.line) for p in gs.pairs])

    if text and text[0].startswith("\ufeff"):
        text = ["x" + text[0]] + text[1:]
    plain = read_with(to_bytes(text), to_bytes(gold))
    assert read_with(to_bytes(text, end, bom), to_bytes(gold, end, bom)) == plain
    if plain[0] == "ok":
        gs = A.read_alignment(t, g, index_base=0)
        for base in (0, 1):
            A.write_alignment(tmp / "o.src-tgt", tmp / "o.gold", gs.pairs, index_base=base)
            again = A.read_alignment(tmp / "o.src-tgt", tmp / "o.gold", index_base=base)
            assert again.pairs == gs.pairs


@SETTINGS
@given(
    a=st.lists(st.one_of(word, piece_text), max_size=6),
    b=st.lists(st.one_of(word, piece_text), max_size=6),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_parallel_round_trip_and_variants(tmp, a, b, end):
    if a and a[0].startswith("\ufeff"):
        a = ["x" + a[0]] + a[1:]
    pa, pb = tmp / "p.src", tmp / "p.tgt"

    def read_with(bom: bool, end: str):
        pa.write_bytes(to_bytes(a, end, bom))
        pb.write_bytes(to_bytes(b, end, bom))
        try:
            c = P.read_parallel_corpus(pa, pb, empty="skip")
        except InputError as e:
            return ("error", e.reason, e.line)
        return ("ok", c.pairs, [(s.line, s.reason) for s in c.skipped])

    plain = read_with(False, "\n")
    assert read_with(True, end) == plain
    if plain[0] == "ok":
        P.write_parallel_corpus(tmp / "q.src", tmp / "q.tgt", plain[1])
        again = P.read_parallel_corpus(tmp / "q.src", tmp / "q.tgt")
        assert [(p.src, p.tgt) for p in again.pairs] == [(p.src, p.tgt) for p in plain[1]]
