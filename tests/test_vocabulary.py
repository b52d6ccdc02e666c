"""Known-answer tests for the vocabulary measures on hand-built toy tokenizers.

Every expected value is worked out by hand in the comments from the toy vocabularies below.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mbert_lab.analyses import vocabulary as V
from mbert_lab.errors import ConfigError, InputError


def _toy_wordpiece():
    """WordPiece with a fixed vocabulary, words split on whitespace only."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "ab", "##b", "##c", "c", "x", "ж"]
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(vocab)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )


def _toy_sentencepiece():
    """Unigram + Metaspace with hand-set scores (SentencePiece behaviour, lone '▁' included)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pieces = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0), ("▁", -1.0), ("中", -2.0), ("国", -2.0),
              ("▁a", -1.0), ("b", -2.0), ("▁ab", -1.5)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=0))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


# L1 with the toy WordPiece: ab -> [ab]; abc -> [ab, ##c]; x -> [x]; c -> [c]; zz -> [[UNK]]
L1 = [["ab", "abc", "x"], ["c", "zz"]]
# L2: abb -> [ab, ##b]; a -> [a]; ab -> [ab]
L2 = [["abb", "a"], ["ab"]]


@pytest.fixture(scope="module")
def wp():
    return _toy_wordpiece()


@pytest.fixture(scope="module")
def sp():
    return _toy_sentencepiece()


def test_tokenize_words_keeps_pieces_per_word(wp):
    tc = V.tokenize_words(wp, L1, lang="l1", segmentation="gold")
    assert tc.words == ("ab", "abc", "x", "c", "zz")
    assert tc.pieces == (("ab",), ("ab", "##c"), ("x",), ("c",), ("[UNK]",))
    assert tc.sentence_lengths == (3, 2)
    assert tc.segmentation == "gold"


def test_language_stats_known_answer_wordpiece(wp):
    tc = V.tokenize_words(wp, L1, lang="l1", segmentation="gold")
    st = V.language_stats(tc, vocab_size=12)
    assert st.n_sentences == 2 and st.n_words == 5 and st.n_subwords == 6
    assert st.fertility == pytest.approx(6 / 5)
    assert st.fertility_with_marker == pytest.approx(6 / 5)  # WordPiece has no lone marker
    assert st.continued_share == pytest.approx(1 / 5)  # only "abc"
    assert st.unk_rate == pytest.approx(1 / 6)
    assert st.unk_word_rate == pytest.approx(1 / 5)
    assert st.chars_per_subword == pytest.approx((2 + 3 + 1 + 1 + 2) / 6)
    assert st.distinct_subwords == 5  # ab, ##c, x, c, [UNK]
    assert st.vocab_used_share == pytest.approx(5 / 12)
    assert st.lone_marker_share == 0.0
    assert st.script == "Latin"


def test_lone_marker_reported_both_ways(sp):
    # 中国 -> [▁, 中, 国]; ab -> [▁ab] (score -1.5 beats ▁a + b = -3); 中 -> [▁, 中]
    tc = V.tokenize_words(sp, [["中国", "ab", "中"]], lang="zh", segmentation="gold")
    assert tc.pieces == (("▁", "中", "国"), ("▁ab",), ("▁", "中"))
    st = V.language_stats(tc)
    assert st.fertility == pytest.approx((2 + 1 + 1) / 3)
    assert st.fertility_with_marker == pytest.approx((3 + 1 + 2) / 3)
    assert st.continued_share == pytest.approx(1 / 3)  # only 中国 has two content pieces
    assert st.continued_share_with_marker == pytest.approx(2 / 3)
    assert st.lone_marker_share == pytest.approx(2 / 3)
    assert st.chars_per_subword == pytest.approx(5 / 4)
    assert st.distinct_subwords == 3  # 中, 国, ▁ab  (the lone ▁ is not a subword type)
    assert st.unk_rate == 0.0
    counts = V.subword_counts(tc)
    assert counts == Counter({"中": 2, "国": 1, "▁ab": 1})


def test_unknown_character_counts_as_unk_by_id(sp):
    """A Unigram model keeps an unknown character's text but gives it the UNK id."""
    # 中x -> [▁, 中, x(UNK id)]; ab -> [▁ab]
    enc = sp([["中x"]], is_split_into_words=True, add_special_tokens=False)
    assert enc.tokens(0) == ["▁", "中", "x"] and enc["input_ids"][0][2] == sp.unk_token_id
    tc = V.tokenize_words(sp, [["中x", "ab"]], lang="zh", segmentation="gold")
    assert tc.pieces == (("▁", "中", "<unk>"), ("▁ab",))
    st = V.language_stats(tc)
    assert st.unk_rate == pytest.approx(1 / 3) and st.unk_word_rate == pytest.approx(1 / 2)
    assert V.subword_counts(tc) == Counter({"中": 1, "▁ab": 1})  # UNK is no shared subword


def test_pair_measures_known_answer(wp):
    c1 = V.subword_counts(V.tokenize_words(wp, L1, lang="l1", segmentation="gold"))
    c2 = V.subword_counts(V.tokenize_words(wp, L2, lang="l2", segmentation="gold"))
    # UNK excluded: l1 {ab:2 (from ab and abc), ##c:1, x:1, c:1}; l2 {ab:2, ##b:1, a:1}
    assert c1 == Counter({"ab": 2, "##c": 1, "x": 1, "c": 1})
    assert c2 == Counter({"ab": 2, "##b": 1, "a": 1})
    assert V.jaccard(c1, c2) == pytest.approx(1 / 6)
    # p1 = ab .4, ##c/x/c .2; p2 = ab .5, ##b .25, a .25 -> min sum .4, max sum .5+.2*3+.25*2 = 1.6
    assert V.weighted_jaccard(c1, c2) == pytest.approx(0.4 / 1.6)
    # Wu & Dredze, source l1, target l2: types {ab, ##b, a}, seen {ab} -> 1/3; tokens 2 of 4
    s = V.seen_share(c1, c2)
    assert s.by_type == pytest.approx(1 / 3) and s.by_token == pytest.approx(0.5)
    # reverse: target l1 has 4 types / 5 tokens, only ab (2 tokens) seen -> 1/4 and 2/5
    r = V.seen_share(c2, c1)
    assert r.by_type == pytest.approx(0.25) and r.by_token == pytest.approx(0.4)


def test_entity_overlap_known_answer(wp):
    t1 = V.tokenize_words(wp, L1, lang="l1", segmentation="gold")
    t2 = V.tokenize_words(wp, L2, lang="l2", segmentation="gold")
    e1 = V.subword_counts(t1, mask=[False, True, True, False, False])  # abc, x -> {ab, ##c, x}
    e2 = V.subword_counts(t2, mask=[True, False, False])  # abb -> {ab, ##b}
    assert V.entity_overlap(e1, e2) == pytest.approx(1 / 4)
    with pytest.raises(ValueError):
        V.subword_counts(t1, mask=[True])


def test_pairwise_matrix_equals_pairwise_calls():
    rng = np.random.default_rng(3)
    types = [f"t{i}" for i in range(30)]
    counts = {
        lang: Counter({t: int(rng.integers(1, 9)) for t in rng.choice(types, size=12, replace=False)})
        for lang in ("a", "b", "c", "d")
    }
    for m in V.PairMeasure:
        langs, mat = V.pairwise_matrix(counts, m)
        for i, x in enumerate(langs):
            for j, y in enumerate(langs):
                assert mat[i, j] == pytest.approx(V.pair_measure(m, counts[x], counts[y])), (m, x, y)
    with pytest.raises(ConfigError, match="did you mean 'jaccard'"):
        V.pairwise_matrix(counts, "jacard")


def test_scripts():
    assert V.piece_script("▁Haus") == "Latin"
    assert V.piece_script("##ый") == "Cyrillic"
    assert V.piece_script("中") == "Han" and V.piece_script("の") == "Hiragana"
    assert V.piece_script("▁12,") == "Common"
    assert V.piece_script("é") == "Latin" and V.piece_script("e\u0301") == "Latin"  # combining mark
    assert V.piece_script("aж") == "Mixed"
    shares = V.script_shares(["[UNK]", "a", "##b", "ж", "▁中"], special=["[UNK]"])
    assert shares == {"Latin": 0.4, "Cyrillic": 0.2, "Han": 0.2, "Special": 0.2}
    assert V.dominant_script(["中国", "ab", "1"]) == "Han"


def test_vocab_share_own_script(wp):
    vocab = wp.convert_ids_to_tokens(list(range(len(wp))))
    shares = V.script_shares(vocab, special=wp.all_special_tokens)
    # 12 pieces: 4 special, 7 Latin (a b ab ##b ##c c x), 1 Cyrillic
    assert shares["Latin"] == pytest.approx(7 / 12) and shares["Special"] == pytest.approx(4 / 12)
    tc = V.tokenize_words(wp, [["ж", "жж"]], lang="ru", segmentation="gold")
    st = V.language_stats(tc, vocab_size=len(wp), vocab_script_share=shares)
    assert st.script == "Cyrillic" and st.vocab_share_own_script == pytest.approx(1 / 12)
    assert st.unk_rate == pytest.approx(1 / 2)  # "жж": WordPiece has no "##ж" -> one [UNK]


def test_empty_corpus_is_a_clear_error(wp):
    with pytest.raises(InputError, match="empty corpus for language 'xx'"):
        V.tokenize_words(wp, [[], [""]], lang="xx", segmentation="gold")


def test_correlation_matches_scipy_and_is_seeded():
    from scipy import stats

    x = {"de": 0.1, "fr": 0.4, "es": 0.35, "ru": 0.2, "zh": 0.05, "ar": 0.15, "ja": 0.3}
    y = {"de": 70.0, "fr": 80.0, "es": 85.0, "ru": 72.0, "zh": 50.0, "ar": 66.0, "en": 99.0}
    c = V.correlate(x, y, measure_name="jaccard", n_boot=500, seed=1)
    langs = ["ar", "de", "es", "fr", "ru", "zh"]  # shared, sorted; ja and en dropped
    assert c.languages == tuple(langs) and c.n == 6
    xs, ys = [x[k] for k in langs], [y[k] for k in langs]
    assert c.pearson == pytest.approx(stats.pearsonr(xs, ys)[0])
    assert c.spearman == pytest.approx(stats.spearmanr(xs, ys)[0])
    assert c.pearson_ci[0] <= c.pearson <= c.pearson_ci[1]
    assert -1 <= c.spearman_ci[0] <= c.spearman_ci[1] <= 1
    again = V.correlate(x, y, measure_name="jaccard", n_boot=500, seed=1)
    assert again.pearson_ci == c.pearson_ci and again.spearman_ci == c.spearman_ci
    other = V.correlate(x, y, measure_name="jaccard", n_boot=500, seed=2)
    assert other.pearson_ci != c.pearson_ci
    assert c.n_boot_used <= 500 and c.notes  # few languages -> a note


def test_correlation_known_answers():
    x = {k: float(i) for i, k in enumerate("abcde")}
    lin = V.correlate(x, {k: 2 * v + 1 for k, v in x.items()}, n_boot=200, seed=0)
    assert lin.pearson == pytest.approx(1.0) and lin.spearman == pytest.approx(1.0)
    assert lin.pearson_ci == pytest.approx((1.0, 1.0))  # every valid resample is exactly linear
    mono = V.correlate(x, {k: math.exp(v) for k, v in x.items()}, n_boot=200, seed=0)
    assert mono.spearman == pytest.approx(1.0) and mono.pearson < 1.0
    neg = V.correlate(x, {k: -v for k, v in x.items()}, n_boot=200, seed=0)
    assert neg.spearman == pytest.approx(-1.0)


def test_correlation_bad_input():
    with pytest.raises(InputError, match="at least 3 languages"):
        V.correlate({"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3})
    with pytest.raises(InputError, match="constant"):
        V.correlate({"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 2, "c": 3})
    with pytest.raises(ConfigError):
        V.correlate({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "c": 4}, ci_level=95)


def test_wordpiece_mirror_cached_and_reproducible(tmp_path, monkeypatch):
    """The trainer breaks ties in hash order, so reproducibility comes from the cache."""
    from mbert_lab.models import wordpiece as W

    texts = ["Das Haus ist rot.", "La maison est rouge.", "房子是红色的。", "Дом красный."] * 5
    monkeypatch.setattr(W, "mirror_sample", lambda root, per_language: (texts, "sha-of-sample"))
    a, info = W.mirror_wordpiece(vocab_size=120, data_root=tmp_path, cache=tmp_path / "c")
    b, info_b = W.mirror_wordpiece(vocab_size=120, data_root=tmp_path, cache=tmp_path / "c")
    assert info == info_b and (tmp_path / "c").exists()
    assert a.get_vocab() == b.get_vocab()  # second call reads the cached file
    c, info_c = W.mirror_wordpiece(vocab_size=100, data_root=tmp_path, cache=tmp_path / "c")
    assert info_c["cache_file"] != info["cache_file"]  # the size is part of the key
    enc = a([["房子", "Haus"]], is_split_into_words=True, add_special_tokens=False)
    assert enc.tokens(0)[:2] == ["房", "子"]  # mBERT recipe: each CJK character is its own word
    assert enc.word_ids(0)[:2] == [0, 0]


# ============================================================================ the vocab study


def _conllu(path, sentences):
    """A small CoNLL-U file: one sentence per word list (UPOS X)."""
    rows = []
    for i, words in enumerate(sentences, 1):
        rows.append(f"# sent_id = s{i}")
        rows += [f"{j}\t{w}\t{w}\tX\t_\t_\t0\troot\t_\t_" for j, w in enumerate(words, 1)]
        rows.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def synthetic_root(tmp_path, monkeypatch):
    """A data root with PUD files for fi, en and the local-use code qaa (none is in the card)."""
    root = tmp_path / "data"
    _conllu(root / "ud-pud" / "fi_pud-ud-test.conllu", [["talo", "on", "punainen"], ["hyvää", "päivää"]])
    _conllu(root / "ud-pud" / "en_pud-ud-test.conllu", [["the", "house", "is", "red"], ["hello"]])
    _conllu(root / "ud-pud" / "qaa_pud-ud-test.conllu", [["qqq", "aaa", "qaqaqa", "x"]])
    monkeypatch.setenv("MBERT_LAB_DATA", str(root))
    return root


def test_config_normalises_codes_and_validates_every_field(tmp_path):
    from mbert_lab.studies.vocabulary import VocabConfig

    c = VocabConfig(pud="en,zh", tatoeba="de", alignment="en-fr", transfer_data=False)
    assert c.pud == ("eng", "cmn") and c.tatoeba == ("deu",) and c.alignment == ("enfr",)
    assert c.source == "eng" and VocabConfig.from_dict(c.to_dict()) == c
    (tmp_path / "de.txt").write_text("das Haus\n", encoding="utf-8")
    u = VocabConfig(corpora={"de": str(tmp_path / "de.txt")}, transfer_data=False)
    assert u.corpora == (f"deu={tmp_path / 'de.txt'}",) and u.pud == () and u.tatoeba == () and u.alignment == ()
    assert VocabConfig().pud == ("eng", "deu", "fra", "spa", "rus", "cmn", "ara") and VocabConfig().tatoeba == "all"
    bad = [
        (dict(tatoeba_max=0), ConfigError, "tatoeba_max: must be a whole number >= 1, got 0"),
        (dict(n_boot=0), ConfigError, "n_boot: must be a whole number >= 1"),
        (dict(seed=-1), ConfigError, "seed: must be a whole number >= 0"),
        (dict(tokenizers=[]), ConfigError, "tokenizers: give at least one"),
        (dict(tokenizers=["wordpiece-mirror:big"]), ConfigError, "use wordpiece-mirror or wordpiece-mirror:30000"),
        (dict(pud="de,deu"), ConfigError, "pud: a language or set is listed twice"),
        (dict(alignment="enfrr"), ConfigError, "did you mean 'enfr'"),
        (dict(suite="dev"), ConfigError, "suite: unknown value 'dev'"),
        (dict(measures=["seen"]), ConfigError, "measures: unknown value 'seen'"),
        (dict(scores=str(tmp_path)), InputError, "scores: is a folder"),
        (dict(scores=str(tmp_path / "de.txt"), transfer_data=False), ConfigError,
         "seen_token, seen_type, jaccard, weighted_jaccard need the transfer data"),
    ]
    for kw, err, msg in bad:
        with pytest.raises(err, match=re.escape(msg)):
            VocabConfig(**kw)


def test_pud_languages_are_found_on_disk_not_in_the_card(synthetic_root, tiny_sp_encoder):
    from mbert_lab.studies.vocabulary import VocabConfig, VocabResult, vocab

    c = VocabConfig(pud="fi,qaa,en", tatoeba="none", alignment="none", transfer_data=False)
    assert c.pud == ("fin", "qaa", "eng")
    with pytest.raises(ConfigError, match=re.escape(
            f"pud: unknown language 'zz': not in the language table and no ud-pud files for it under "
            f"{synthetic_root} (found: eng, fin, qaa)")):
        VocabConfig(pud="zz", tatoeba="none", alignment="none")
    with pytest.raises(ConfigError, match="pud: language 'deu' has no ud-pud files"):
        VocabConfig(pud="de", tatoeba="none", alignment="none")
    r = vocab(c, encoder=tiny_sp_encoder)
    g = r.tokenizers[0].groups["pud"]
    assert g.languages == ("fin", "qaa", "eng")
    assert [s.n_words for s in g.stats] == [5, 4, 5] and [s.n_sentences for s in g.stats] == [2, 1, 2]
    assert r.language_names == {"eng": "English", "fin": "Finnish", "qaa": "unknown"}
    assert r.segmentation()["pud"]["fin"].startswith("gold (UD words")
    ds = r.provenance.datasets[0]
    assert ds.name == "ud-pud" and sorted(ds.files) == [f"ud-pud/{x}_pud-ud-test.conllu" for x in ("en", "fi", "qaa")]
    loaded = VocabResult.load(r.save(synthetic_root.parent / "out"))
    assert loaded.to_dict() == r.to_dict() and loaded.tokenizers[0].groups["pud"].stat("qaa") == g.stat("qaa")


def test_correlation_uses_every_scored_language_with_a_corpus(synthetic_root, tmp_path, tiny_sp_encoder):
    """Scores for 7 languages: every one with a corpus is used (PUD or the user's files), and
    each left-out language comes with its reason."""
    from mbert_lab.studies.vocabulary import VocabConfig, vocab

    (tmp_path / "de.txt").write_text("Der schnelle braune Fuchs springt\nHallo Welt\n", encoding="utf-8")
    (tmp_path / "s.tsv").write_text("zh\t敏捷的 棕色 狐狸\nru\tБыстрая коричневая лиса прыгает\n", encoding="utf-8")
    scores = tmp_path / "scores.csv"
    scores.write_text("lang,score\nfi,70\nqaa,60\nde,88\nzh,69\nru,85\nen,95\nsw,50\n", encoding="utf-8")
    c = VocabConfig(pud="fi,qaa,en", corpora=[f"de={tmp_path / 'de.txt'}", str(tmp_path / "s.tsv")],
                    transfer_data=False, scores=str(scores), measures=["fertility", "distinct_subwords"], n_boot=100)
    t = vocab(c, encoder=tiny_sp_encoder).tokenizers[0]
    f = t.correlation("fertility")
    assert f.languages == ("deu", "fin", "qaa", "rus")
    assert f.corpus == {"deu": "corpus", "fin": "pud", "qaa": "pud", "rus": "corpus"}
    assert f.x == tuple(t.groups[f.corpus[k]].stat(k).fertility for k in f.languages)
    assert f.y == (88.0, 70.0, 60.0, 85.0)
    assert f.excluded["eng"] == "the source (training) language"
    assert f.excluded["swa"] == "no corpus for it (give one with corpora / --corpus)"
    assert f.excluded["cmn"].startswith("word measure not comparable: whitespace (ASCII space) of an unspaced script")
    d = t.correlation("distinct_subwords")
    assert d.languages == ("cmn", "deu", "fin", "qaa", "rus") and set(d.excluded) == {"eng", "swa"}
    import scipy.stats

    assert d.pearson == pytest.approx(scipy.stats.pearsonr(d.x, d.y)[0])


def test_read_scores_csv_and_json(tmp_path):
    from mbert_lab.studies.vocabulary import read_scores, scores_by_code

    (tmp_path / "s.csv").write_text("\ufefflang,score\r\nde,80.5\r\nfr,81\r\n", encoding="utf-8")
    assert read_scores(tmp_path / "s.csv") == {"de": 80.5, "fr": 81.0}
    (tmp_path / "bad.csv").write_text("lang,score\nde,high\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.csv:2"):
        read_scores(tmp_path / "bad.csv")
    rec = {"schema_version": "1.0", "kind": "transfer", "payload": {
        "task": "udpos", "per_language": {"de": {"accuracy": 0.8, "n": 10}, "zh": {"accuracy": 0.6, "n": 9}}}}
    (tmp_path / "r.json").write_text(json.dumps(rec), encoding="utf-8")
    assert read_scores(tmp_path / "r.json") == {"de": 0.8, "zh": 0.6}
    assert read_scores(tmp_path / "r.json", field="n") == {"de": 10.0, "zh": 9.0}
    with pytest.raises(InputError, match="no per-language scores"):
        read_scores(tmp_path / "r.json", field="f1")
    assert scores_by_code({"de": 1.0, "zh": 2.0, "qaa": 3.0}, "x") == {"deu": 1.0, "cmn": 2.0, "qaa": 3.0}
    with pytest.raises(InputError, match="two scores for language 'deu'"):
        scores_by_code({"de": 1.0, "deu": 2.0}, "x")


def test_read_scores_from_a_transfer_results_file(tmp_path):
    """The layout of ``mbert-lab transfer`` results: suites -> per_language -> mean (0..100)."""
    from mbert_lab.studies.vocabulary import read_scores

    per = lambda a, b: {"en": {"mean": 95.0, "sd": 0.1}, "de": {"mean": a, "sd": 1.0}, "zh": {"mean": b, "sd": 2.0}}  # noqa: E731
    rec = {"schema_version": "1.0", "kind": "transfer", "payload": {
        "task": "pos", "metric": "accuracy", "primary_suite": "pud", "per_language": per(80.0, 50.0),
        "suites": {"pud": {"per_language": per(80.0, 50.0)}, "xtreme-dev": {"per_language": per(85.0, 60.0)}}}}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(rec), encoding="utf-8")
    assert read_scores(f) == {"en": 95.0, "de": 80.0, "zh": 50.0}
    assert read_scores(f, suite="xtreme-dev") == {"en": 95.0, "de": 85.0, "zh": 60.0}
    assert read_scores(f, field="sd", suite="pud")["zh"] == 2.0
    with pytest.raises(InputError, match="no suite 'ud'"):
        read_scores(f, suite="ud")


def test_user_corpus_readers(tmp_path):
    """CoNLL-U: syntactic words ('du' = 'de' + 'le'); plain lines: ASCII spaces only."""
    from mbert_lab.studies.vocabulary import read_conllu_words, read_lines_words

    p = tmp_path / "x.conllu"
    rows = ["# sent_id = 1", "1-2\tdu\t_\t_\t_\t_\t_\t_\t_\t_", "1\tde\tde\tADP\t_\t_\t0\troot\t_\t_",
            "2\tle\tle\tDET\t_\t_\t1\tdet\t_\t_", "2.1\tvide\t_\t_\t_\t_\t_\t_\t_\t_",
            "3\tpain\tpain\tNOUN\t_\t_\t1\tobj\t_\t_", "", "1\t中国\t中国\tPROPN\t_\t_\t0\troot\t_\t_", ""]
    p.write_text("\n".join(rows), encoding="utf-8")
    assert read_conllu_words(p) == [("de", "le", "pain"), ("中国",)]
    (tmp_path / "bad.conllu").write_text("1\tx\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.conllu:1"):
        read_conllu_words(tmp_path / "bad.conllu")
    t = tmp_path / "t.txt"
    t.write_text("\ufeffa b  c\r日本\u3000語\n", encoding="utf-8")
    assert read_lines_words(t) == [("a", "b", "c"), ("日本\u3000語",)]


def test_demo_section_calls_the_study(tmp_path, tiny_sp_encoder):
    from types import SimpleNamespace

    from mbert_lab.demo.vocabulary import section
    from mbert_lab.studies.vocabulary import VocabResult

    parallel = {
        "de": [("The dog", "Der Hund"), ("Hello world", "Hallo Welt")],
        "zh": [("The dog", "狗"), ("Hello world", "你好世界")],
    }
    ctx = SimpleNamespace(encoder=tiny_sp_encoder, parallel=parallel, out=tmp_path)
    text = section(ctx)
    r = VocabResult.load(tmp_path / "vocabulary")
    g = r.tokenizers[0].groups["corpus"]
    assert g.languages == ("eng", "deu", "cmn") and [s.n_words for s in g.stats] == [4, 4, 2]
    assert g.stat("cmn").word_measures_comparable is False  # Han split on spaces is not a segmentation
    lo = min(g.stats[:2], key=lambda s: s.fertility)
    assert f"from {lo.fertility:.2f} ({lo.lang})" in text and "Jaccard" in text
    assert (tmp_path / "vocabulary" / "overlap_jaccard.png").exists()
    assert (tmp_path / "vocabulary" / "fertility.svg").exists()


@pytest.mark.integration
def test_example_study_file_runs(data_root, monkeypatch):
    """examples/vocab.toml through the study-file loader: the published PUD fertilities."""
    from mbert_lab.config import load_study_file
    from mbert_lab.studies import run_config

    repo = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(repo)
    (d,) = load_study_file("examples/vocab.toml")
    t = run_config(d.config).tokenizers[0]
    pud = t.groups["pud"]
    assert pud.languages == ("deu", "fra", "cmn", "ara")
    assert [s.fertility for s in pud.stats] == pytest.approx([1.376, 1.325, 1.237, 1.433], abs=6e-4)  # stop-8 note
    assert t.groups["tatoeba"].stat("jpn").word_measures_comparable is False
    assert t.groups["alignment"].stat("jpn").word_measures_comparable is True
    c = t.correlation("fertility")
    assert c.languages == ("ara", "cmn", "deu", "fra") and c.y == (75.9, 69.0, 88.5, 88.2)
    assert set(c.excluded) == {"spa", "rus"}
