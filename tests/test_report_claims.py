"""Claims 2 and 5-9 of the findings report: claim files, measures, and the new metrics.

- every claim file's [[study]] tables (``profile`` dropped) load as a study file with valid Configs;
- each measure's figures equal those of its studies run alone (tiny random BERT, small data);
- known answers for the new metrics (anisotropy, self-similarity, intra-sentence similarity,
  rank swaps, partial correlation).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

from mbert_lab.report.types import ClaimContext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CLAIMS = Path(__file__).resolve().parent.parent / "mbert_lab" / "report" / "claims"
MINE = ("02_open_class", "05_zero_shot", "06_word_piece_overlap", "07_middle_layers", "08_narrow_cone",
        "09_seed_variance")
RULE_KINDS = {"abs_tol", "rel_tol", "direction", "greater", "ordering", "peak_in_range", "ci_excludes_zero",
              "at_least", "at_most"}


def ctx(tmp_path: Path, claim: str = "c") -> ClaimContext:
    return ClaimContext(claim, "tiny", "quick", None, tmp_path)


# ---------------------------------------------------------------------------- claim files


def _study_file(tables: list[dict], path: Path) -> Path:
    from mbert_lab.config import _toml_value

    lines = []
    for t in tables:
        lines.append("[[study]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in t.items() if k != "profile"]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.integration
@pytest.mark.parametrize("name", MINE)
def test_claim_file_parses_as_study_file_tables(name, tmp_path, data_root):
    import importlib

    from mbert_lab.config import load_study_file

    d = tomllib.loads((CLAIMS / f"{name}.toml").read_text(encoding="utf-8"))
    assert d["number"] == int(name[:2]) and d["id"] == name[3:]
    for key in ("title", "question", "citations", "measure", "plot", "study", "rule"):
        assert key in d, key
    for dotted in (d["measure"], d["plot"]):
        mod, fn = dotted.split(":")
        assert callable(getattr(importlib.import_module(mod), fn))
    for profile in ("quick", "full"):
        tables = [t for t in d["study"] if t["profile"] in (profile, "both")]
        assert tables, profile
        for t in tables:
            assert not {"model", "revision", "device", "threads", "dtype", "cache"} & set(t)
        declared = load_study_file(_study_file(tables, tmp_path / f"{profile}.toml"))
        assert [s.name for s in declared] == [t["study"] for t in tables]
    for rule in d["rule"]:
        assert rule["verdict"] in ("finding", "figure") and rule["kind"] in RULE_KINDS
        assert ("series" if rule["kind"] == "peak_in_range" else "ours") in rule


# ---------------------------------------------------------------------------- known answers


def test_geometry_known_answers():
    from mbert_lab.analyses.geometry import (
        anisotropy,
        geometry_scores,
        intra_sentence_similarity,
        sample_pairs,
        self_similarity,
    )

    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    assert anisotropy(X, np.array([[0, 1]])) == pytest.approx(0.0)
    assert anisotropy(X, np.array([[0, 3], [0, 2]])) == pytest.approx((1 + 2 ** -0.5) / 2)
    # word 'a' = rows 0 and 3 (same direction), word 'b' = rows 1 and 2
    assert self_similarity(X, [np.array([0, 3]), np.array([1, 2])]) == pytest.approx((1 + 2 ** -0.5) / 2)
    assert self_similarity(X, [np.array([0])]) != self_similarity(X, [np.array([0])])  # nan: no pairs
    # sentence of rows 0, 1: mean (0.5, 0.5) is 45 degrees from both
    assert intra_sentence_similarity(X, [np.array([0, 1])]) == pytest.approx(2 ** -0.5)
    # a shared offset makes everything similar; centring removes it
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(400, 16)) + 10.0
    pairs = sample_pairs(400, 2000, 0)
    assert (pairs[:, 0] != pairs[:, 1]).all()
    raw = geometry_scores(Y, pairs, [], [np.arange(0, 10)])
    cen = geometry_scores(Y, pairs, [], [np.arange(0, 10)], centre=True)
    assert raw.anisotropy > 0.9 and abs(cen.anisotropy) < 0.05
    assert raw.intra_sentence_adjusted == pytest.approx(raw.intra_sentence - raw.anisotropy)


def test_rank_swaps_known_answers():
    from mbert_lab.analyses.seeds import rank_swaps, seed_spread

    r = rank_swaps({"a": [1.0, 2.0, 3.0], "b": [2.0, 1.0, 0.0], "c": [9.0, 9.0, 9.0]})
    # a/b flip between seeds 0 and 1, and 0 and 2 (not 1 and 2): 2 of 9 comparisons
    assert (r.n_language_pairs, r.pairs_swapped, r.swapped) == (3, 1, (("a", "b"),))
    assert r.flip_rate == pytest.approx(2 / 9) and r.share_swapped == pytest.approx(1 / 3)
    assert rank_swaps({"a": [1.0, 1.0], "b": [1.0, 2.0]}).pairs_swapped == 0  # a tie is no swap
    assert seed_spread([1.0, 3.0]) == (pytest.approx(2 ** 0.5), 2.0)
    assert seed_spread([5.0]) == (0.0, 0.0)


def test_partial_correlation_known_answers():
    from mbert_lab.analyses.partial import partial_correlation

    # y tracks z only: the plain r with x is high, the partial r given z is ~0
    z = [0, 0, 0, 0, 1, 1, 1, 1]
    x = [1.0, 2.0, 1.5, 2.5, 5.0, 6.0, 5.5, 6.5]
    y = [10.0, 10.0, 11.0, 11.0, 20.0, 20.0, 21.0, 21.0]
    assert np.corrcoef(x, y)[0, 1] > 0.9
    p = partial_correlation(x, y, z, n_boot=200, seed=1)
    # residuals of x: -.75 .25 -.25 .75 (twice); of y: -.5 -.5 .5 .5 (twice) -> r = 1 / sqrt(5)
    assert p.r == pytest.approx(5 ** -0.5) and p.n == 8 and not p.covariate_constant
    assert p.ci[0] <= p.r <= p.ci[1] and p.n_boot_used > 150
    q = partial_correlation([1, 2, 3, 4], [2, 4, 6, 9], [1, 1, 1, 1], n_boot=0)
    assert q.covariate_constant and q.r == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 4, 6, 9])[0, 1])


# ---------------------------------------------------------------------------- measures == studies


@pytest.fixture(scope="module")
def tiny(_tiny_wordpiece_session):
    return _tiny_wordpiece_session


@pytest.mark.integration
def test_geometry_measure_equals_study(tiny, tmp_path, data_root):
    from mbert_lab.report.measures import geometry as G
    from mbert_lab.studies.geometry import GeometryConfig, geometry

    r = geometry(GeometryConfig(langs="en,de", max_sentences=12, n_pairs=300, min_occurrences=2, cache=False),
                 encoder=tiny)
    assert r.layers == (0, 1, 2, 3, 4) and r.samples["eng"].n_sentences == 12
    m = G.measure([r], ctx(tmp_path))
    assert m.figures["anisotropy.last"].value == r.average[4].raw.anisotropy
    assert m.figures["anisotropy.first"].value == r.average[1].raw.anisotropy
    assert m.figures["anisotropy.centred.last"].value == r.average[4].centred.anisotropy
    assert m.figures["anisotropy.rise"].value == pytest.approx(r.average[4].raw.anisotropy - r.average[1].raw.anisotropy)
    assert m.series["self_similarity (raw)"]["y"] == [r.average[L].raw.self_similarity for L in r.layers]
    mean_en_de = (r.per_language["eng"][2].raw.anisotropy + r.per_language["deu"][2].raw.anisotropy) / 2
    assert m.series["anisotropy (raw)"]["y"][2] == pytest.approx(mean_en_de)
    G.plot({"tiny": m}, ctx(tmp_path))


@pytest.fixture(scope="module")
def pos_probe(tiny, data_root):
    from mbert_lab.studies.transfer import TransferConfig, transfer

    cfg = TransferConfig(task="pos", suites="xtreme-dev", eval_langs="en,de,fr,zh", mode="layer-probe", layers="all",
                         max_train=30, max_eval=12, seeds=3, probe_epochs=3, progress=False, cache=False)
    return transfer(cfg, encoder=tiny)


@pytest.mark.integration
def test_transfer_measure_equals_study(pos_probe, tmp_path):
    from mbert_lab.report.measures import transfer as T

    r = pos_probe
    m = T.measure([r], ctx(tmp_path))
    s = r.suites["xtreme-dev"]
    assert m.figures["pos.zero_shot"].value == s.zero_shot_average.mean
    assert m.figures["pos.zero_shot"].spread == s.zero_shot_average.sd
    assert m.figures["pos.source"].value == s.source.mean
    assert m.figures["pos.deu"].value == s.per_language["deu"].mean
    assert m.figures["pos.deu"].n == r.layer_probes.n_test["xtreme-dev:deu"]
    assert m.figures["pos.gap"].value == s.transfer_gap
    T.plot({"tiny": m}, ctx(tmp_path))


@pytest.mark.integration
def test_seeds_measure_equals_study(pos_probe, tmp_path):
    from mbert_lab.report.measures import seeds as S

    r = pos_probe
    m = S.measure([r], ctx(tmp_path))
    per = {k: v.seeds for k, v in r.suites["xtreme-dev"].per_language.items()}
    assert len(per["deu"]) == 3
    assert m.figures["pos.deu.sd"].value == pytest.approx(statistics.stdev(per["deu"]))
    assert m.figures["pos.sd.max"].value == pytest.approx(max(statistics.stdev(v) for v in per.values()))
    # rank swaps by hand over the zero-shot languages
    zs = [x for x in per if x != "eng"]
    flips = sum(1 for i, a in enumerate(zs) for b in zs[i + 1:]
                if len({np.sign(x - y) for x, y in zip(per[a], per[b])} - {0}) == 2)
    assert m.figures["pos.rank_swaps.share"].value == pytest.approx(flips / 3)
    S.plot({"tiny": m}, ctx(tmp_path))


@pytest.mark.integration
def test_layers_measure_equals_studies(pos_probe, tiny, tmp_path):
    from mbert_lab.report.measures import layers as LY
    from mbert_lab.studies.alignment import AlignEvalConfig, align_eval
    from mbert_lab.studies.retrieval import TatoebaConfig, tatoeba

    al = align_eval(AlignEvalConfig(gold=["en-fr"], layers="all", methods=["argmax"], limit=6, cache=False),
                    encoder=tiny)
    ta = tatoeba(TatoebaConfig(langs=["de"], layers="all", transforms=["none"], cache=False), encoder=tiny)
    m = LY.measure([pos_probe, al, ta], ctx(tmp_path))
    lp = pos_probe.layer_probes
    ys = [lp.test[L].zero_shot_average.mean for L in range(5)]
    assert m.series["pos_transfer"]["y"] == ys and m.series["pos_transfer"]["x"] == [L / 4 for L in range(5)]
    assert m.figures["pos_transfer.peak_layer"].value == float(int(np.argmax(ys)))
    aer = [al.row("en-fr", "subword", L, "argmax").aer for L in range(5)]
    assert m.series["alignment"]["y"] == [100.0 * (1.0 - a) for a in aer]  # AER is a fraction in align_eval
    assert m.figures["alignment.peak_layer"].value == float(int(np.argmin(aer)))
    acc = [100 * ta.transforms["none"].average_by_layer[L].mean_accuracy for L in range(5)]
    assert m.series["retrieval (by layer)"]["y"] == acc
    LY.plot({"tiny": m}, ctx(tmp_path))


@pytest.mark.integration
def test_bli_measure_equals_study(tiny, tmp_path, data_root):
    from mbert_lab.report.measures import bli_pos as B
    from mbert_lab.studies.retrieval import BliConfig, bli

    r = bli(BliConfig(pair="en-de", layers=[2, 4], methods=["cosine"], cache=False), encoder=tiny)
    assert {"n", "v", "a", "pn", "o"} <= set(r.categories)
    m = B.measure([r], ctx(tmp_path))
    L = r.layer_choice.best_layer
    by = r.results[L]["cosine"].by_category
    for c in r.categories:
        assert m.figures[f"bli.en-de.{c}"].value == pytest.approx(by[c].p_at_1)  # P@1 is x100 in the study
        assert m.figures[f"bli.en-de.{c}"].n == by[c].n
    n = sum(by[c].n for c in "nva")
    assert m.figures["bli.en-de.open"].value == pytest.approx(sum(by[c].p_at_1 * by[c].n for c in "nva") / n)
    assert m.figures["bli.en-de.closed_minus_open"].value == pytest.approx(
        by["o"].p_at_1 - m.figures["bli.en-de.open"].value)
    B.plot({"tiny": m}, ctx(tmp_path))


@pytest.mark.integration
@pytest.mark.slow
def test_overlap_measure_equals_vocab_study_with_the_transfer_scores(pos_probe, tiny, tmp_path):
    """The measure's correlation = the vocab study's own, given the transfer result as its scores."""
    from mbert_lab.report.measures import overlap as O
    from mbert_lab.studies.vocabulary import VocabConfig, vocab

    base = dict(tokenizers=["offline"], pud=[], tatoeba=[], alignment=[], transfer_data=True, suite="xtreme-dev",
                measures=["seen_type", "seen_token"], n_boot=300)
    v = vocab(VocabConfig(**base), encoder=tiny)
    m = O.measure([pos_probe, v], ctx(tmp_path))
    path = pos_probe.save(tmp_path)
    v2 = vocab(VocabConfig(**base, scores=str(path)), encoder=tiny)
    c = v2.tokenizers[0].correlation("seen_token")
    f = m.figures["pos.seen_token.pearson"]
    assert set(c.languages) == {"deu", "fra", "cmn"} and f.n == 3
    assert f.value == pytest.approx(c.pearson) and (f.ci_low, f.ci_high) == pytest.approx(c.pearson_ci)
    assert m.figures["pos.seen_type.spearman"].value == pytest.approx(v2.tokenizers[0].correlation("seen_type").spearman)
    # deu, fra share English's script (Latn), cmn does not: the covariate varies
    assert not any("one script class" in n for n in m.notes if n.startswith("pos."))
    assert m.figures["pos.seen_token.partial_script"].n == 3
    json.dumps([t for t in m.tables.values()])
    O.plot({"tiny": m}, ctx(tmp_path))


@pytest.mark.integration
def test_geometry_example_study_file_runs(tiny, data_root):
    from mbert_lab.config import load_study_file
    from mbert_lab.studies import run_config

    (d,) = load_study_file(Path(__file__).resolve().parent.parent / "examples" / "geometry.toml")
    assert d.name == "geometry" and d.config.layers == (0, 4, 8, 12)
    r = run_config(d.config.replace(layers=(0, 2, 4), cache=False), encoder=tiny)
    assert r.samples["eng"].n_sentences == 20 and r.samples["deu"].n_pairs == 500
    a = [r.average[L].raw.anisotropy for L in (0, 2, 4)]
    assert all(-1 <= x <= 1 for x in a) and all(abs(r.average[L].centred.anisotropy) < 0.1 for L in (0, 2, 4))


def test_geometry_config_validation(data_root):
    from mbert_lab.errors import ConfigError
    from mbert_lab.studies.geometry import GeometryConfig

    assert GeometryConfig(langs="en,zh").langs == ("eng", "cmn")
    for kw, msg in [(dict(langs="en,en"), "listed twice"), (dict(max_sentences=1), "max_sentences"),
                    (dict(n_pairs=0), "n_pairs"), (dict(min_occurrences=1), "min_occurrences"),
                    (dict(langs="ja"), "no PUD treebank for 'jpn'")]:
        with pytest.raises(ConfigError, match=msg):
            GeometryConfig(**kw)


@pytest.mark.integration
def test_align_pos_study_and_measure(tiny, tmp_path, data_root):
    """AER per POS group: the groups partition the links (their counts add up to the overall
    ones), the overall AER equals align_eval's on the same pairs, and the measure's figures are
    the study's."""
    from mbert_lab.report.measures import bli_pos as B
    from mbert_lab.studies.align_pos import AlignPosConfig, align_pos
    from mbert_lab.studies.alignment import AlignEvalConfig, align_eval

    r = align_pos(AlignPosConfig(gold=["en-fr", "ro-en"], limit=5, max_train=20, max_eval=5, layers=2, tag_layer=3,
                                 probe_epochs=2, cache=False), encoder=tiny)
    assert 0 <= r.tagger.accuracy <= 100 and r.tagger.train_sentences == 20 and r.tagger.eval_sentences == 5
    s = r.sets["en-fr"]
    assert s.english_side == "source" and r.sets["ro-en"].english_side == "target"
    assert sum(v.n_sure for v in s.by_group.values()) == s.overall.n_sure
    assert sum(v.n_pred for v in s.by_tag.values()) == s.overall.n_pred
    assert sum(s.tag_counts.values()) == sum(len(p.src) for p in __import__(
        "mbert_lab.studies.alignment", fromlist=["load_gold"]).load_gold("en-fr", limit=5).pairs)
    ev = align_eval(AlignEvalConfig(gold=["en-fr"], layers=2, methods=["argmax"], limit=5, cache=False), encoder=tiny)
    assert s.overall.aer == pytest.approx(ev.row("en-fr", "subword", 2, "argmax").aer)
    m = B.measure([r], ctx(tmp_path))
    assert m.figures["tagger.accuracy"].value == r.tagger.accuracy
    for g, v in s.by_group.items():
        assert m.figures[f"align.en-fr.{g}"].value == pytest.approx(100 * v.aer)
    if {"open", "closed"} <= set(s.by_group):
        assert m.figures["align.en-fr.open_minus_closed"].value == pytest.approx(
            100 * (s.by_group["open"].aer - s.by_group["closed"].aer))


def test_align_pos_config_validation():
    from mbert_lab.errors import ConfigError
    from mbert_lab.studies.align_pos import AlignPosConfig

    assert AlignPosConfig(gold="enfr,roen").gold == ("en-fr", "ro-en")
    for kw, msg in [(dict(gold=[]), "gold"), (dict(layers="4,8"), "one layer"), (dict(method="softmax"), "method"),
                    (dict(max_train=0), "max_train"), (dict(limit=0), "limit")]:
        with pytest.raises(ConfigError, match=msg):
            AlignPosConfig(**kw)


def test_bar_plot_draws_an_interval_that_misses_its_point():
    """A bootstrap percentile interval need not contain the point estimate (a skewed statistic
    on a few items): the bars draw the interval as it is instead of failing on a negative
    error-bar length."""
    from mbert_lab.report.measures._claims_common import bar_plot
    from mbert_lab.report.types import Figure, Measurement

    m = Measurement(figures={"a": Figure("a", "A", 0.50, ci_low=0.55, ci_high=0.70),
                             "b": Figure("b", "B", 0.30, spread=0.05), "c": Figure("c", "C", None)})
    fig = bar_plot({"tiny": m}, None, ["a", "b", "c"], title="t")
    ax = fig.axes[0]
    segs = [s for c in ax.collections for s in c.get_segments()]
    spans = sorted((round(float(s[:, 1].min()), 2), round(float(s[:, 1].max()), 2)) for s in segs
                   if abs(s[0, 0] - s[1, 0]) < 1e-9)  # the vertical segments
    assert spans == [(0.25, 0.35), (0.55, 0.70)]
