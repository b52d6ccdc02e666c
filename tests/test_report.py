"""The findings report (issue #15): claim-file validation, the verdict vocabulary, a claim's
figures equal to its study run alone, two models side by side, errors reported not raised."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mbert_lab.errors import ConfigError
from mbert_lab.report.claims import Anchors, Rule, load_anchors, load_claim, load_claims
from mbert_lab.report.rules import evaluate, verdict_of, verdicts
from mbert_lab.report.types import Figure, Measurement

# ------------------------------------------------------------------ small claim files

ALIGN = """id = "small_align"
number = 1
title = "small alignment"
question = "Do embeddings align words?"
citations = ["dou2021"]
measure = "mbert_lab.report.measures.alignment:measure"
plot = "mbert_lab.report.measures.alignment:plot"
[[study]]
profile = "both"
study = "align_eval"
gold = ["en-fr"]
layers = "all"
methods = ["argmax", "softmax"]
limit = 10
[[rule]]
verdict = "figure"
kind = "abs_tol"
ours = "aer.fr.softmax.l8"
anchor = "dou2021.aer.fr.softmax"
tol = 3.0
[[rule]]
verdict = "finding"
kind = "at_most"
ours = "aer.fr.softmax.best"
value = "dou2021.aer.fr.fast_align"
"""

CENTROIDS_STUDY = """[[study]]
profile = "both"
study = "centroids"
languages = ["deu", "nld", "fra", "spa", "rus", "pol"]
min_sentences = 12
max_sentences = 12
layers = "all"
geometry = false
lid_centered = true
"""

CENTERING = """id = "small_centering"
number = 4
title = "small centering"
question = "Does centering help retrieval?"
citations = ["libovicky2020"]
measure = "mbert_lab.report.measures.centering:measure"
plot = "mbert_lab.report.measures.centering:plot"
""" + CENTROIDS_STUDY + """[[rule]]
verdict = "finding"
kind = "ci_excludes_zero"
ours = "retr.gain.mean"
sign = "positive"
"""

FAMILIES = """id = "small_families"
number = 3
title = "small families"
question = "Do centroids cluster by family?"
citations = ["libovicky2019"]
measure = "mbert_lab.report.measures.families:measure"
plot = "mbert_lab.report.measures.families:plot"
""" + CENTROIDS_STUDY + """[[rule]]
verdict = "finding"
kind = "at_most"
ours = "p.genus"
value = 0.05
"""


def _write(d: Path, name: str, text: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ validation


def test_package_claims_and_anchors_load():
    anchors = load_anchors()
    claims = load_claims(anchors=anchors)
    ids = [c.id for c in claims]
    for cid in ("alignment", "centroid_families", "centering"):
        assert cid in ids
    assert [c.number for c in claims] == sorted(c.number for c in claims)
    a = anchors.anchors["dou2021.aer.fr.softmax"]
    assert (a["value"], a["n"], a["model"]) == (5.6, 447, "bert-base-multilingual-cased")
    for a in anchors.anchors.values():
        assert a["checked"].strip()  # every anchor says how it was verified (or that it was not)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace('title = "small alignment"', 'titel = "x"'), "small.toml: unknown key 'titel' (did you mean 'title'?)"),
    (lambda s: s.replace('kind = "at_most"', 'kind = "at_mots"'), "small.toml: rule #2: kind: unknown rule kind 'at_mots' (did you mean 'at_most'?)"),
    (lambda s: s.replace('anchor = "dou2021.aer.fr.softmax"', 'anchor = "dou2021.aer.xx.softmax"'), "small.toml: rule #1: anchor: no anchor \"dou2021.aer.xx.softmax\""),
    (lambda s: s.replace('value = "dou2021.aer.fr.fast_align"', 'value = "dou2021.aer.zz.fast_align"'), "small.toml: rule #2: value: no anchor \"dou2021.aer.zz.fast_align\""),
    (lambda s: s.replace("limit = 10", "limt = 10"), "small.toml: study #1 (align_eval): unknown key 'limt' (did you mean 'limit'?)"),
    (lambda s: s.replace("limit = 10", 'model = "x"'), "small.toml: study #1: model: set by the report per model column"),
    (lambda s: s.replace('profile = "both"', 'profile = "quik"'), "small.toml: study #1: profile: unknown profile 'quik'"),
    (lambda s: s.replace('study = "align_eval"', 'study = "align_evl"'), "small.toml: study #1: study:"),
    (lambda s: s.replace("tol = 3.0", "tol = 3.0\nmargin = 1"), "small.toml: rule #1: unknown key 'margin' for rule kind 'abs_tol'"),
    (lambda s: s.replace("tol = 3.0", ""), "small.toml: rule #1: tol: missing"),
    (lambda s: s.replace('citations = ["dou2021"]', 'citations = ["dou2012"]'), "small.toml: citations: unknown source 'dou2012'"),
    (lambda s: s.replace('verdict = "finding"', 'verdict = "findings"'), "small.toml: rule #2: verdict: unknown verdict 'findings'"),
    (lambda s: s.replace('profile = "both"', 'profile = "full"'), "small.toml: study: no study for the 'quick' profile"),
])
def test_claim_file_errors_name_file_and_key(tmp_path, edit, message):
    p = _write(tmp_path, "small.toml", edit(ALIGN))
    with pytest.raises(ConfigError) as e:
        load_claim(p)
    assert message in str(e.value)


def test_figure_rule_needs_an_anchor(tmp_path):
    text = ALIGN.replace('verdict = "finding"\nkind = "at_most"', 'verdict = "figure"\nkind = "at_most"')
    text = text.replace('value = "dou2021.aer.fr.fast_align"', "value = 10")
    with pytest.raises(ConfigError, match=r"small.toml: rule #2: a 'figure' rule compares with a published figure"):
        load_claim(_write(tmp_path, "small.toml", text))


@pytest.mark.parametrize("edit, message", [
    (lambda s: s + '\n[anchor."x.y"]\nvalue = 1\nunit = "u"\nmodel = "m"\ndata = "d"\nsource = "nosuch"\nwhere = "w"\nchecked = "c"\n',
     'anchors.toml: anchor."x.y": source: no [source.nosuch]'),
    (lambda s: s + '\n[anchor."x.y"]\nvalue = 1\nunit = "u"\nmodel = "m"\ndata = "d"\nsource = "dou2021"\nwhere = "w"\nchecked = "c"\nvalu = 2\n',
     "anchors.toml: anchor.\"x.y\": unknown key 'valu' (did you mean 'value'?)"),
    (lambda s: s + '\n[anchor."x.y"]\nvalue = 1\nunit = "u"\nmodel = "m"\ndata = "d"\nsource = "dou2021"\nwhere = "w"\n',
     "anchors.toml: anchor.\"x.y\": missing key 'checked'"),
    (lambda s: s + '\n[anchor."x.y"]\nvalue = "5"\nunit = "u"\nmodel = "m"\ndata = "d"\nsource = "dou2021"\nwhere = "w"\nchecked = "c"\n',
     "anchors.toml: anchor.\"x.y\": value: must be a number"),
])
def test_anchor_file_errors(tmp_path, edit, message):
    from mbert_lab.report.claims import anchors_path

    p = _write(tmp_path, "anchors.toml", edit(anchors_path().read_text(encoding="utf-8")))
    with pytest.raises(ConfigError) as e:
        load_anchors(p)
    assert message in str(e.value)


# ------------------------------------------------------------------ rules (known answers)

ANCH = Anchors({"src": "A source."}, {
    "src.a": {"value": 10.0, "unit": "%", "model": "bert-base-multilingual-cased", "data": "d", "source": "src",
              "where": "w", "checked": "c", "n": 100},
})


def _m(**figs) -> Measurement:
    m = Measurement()
    for k, v in figs.items():
        val, lo, hi, n = (v + (None, None, None))[:4] if isinstance(v, tuple) else (v, None, None, None)
        m.figures[k] = Figure(k, k, val, lo, hi, n=n)
    m.series["curve"] = {"x": [0, 1, 2, 3, 4], "y": [1.0, 3.0, 5.0, 4.0, 2.0]}
    return m


def _rule(kind, verdict="finding", **p) -> Rule:
    return Rule(verdict, kind, p, "t.toml: rule #1")


@pytest.mark.parametrize("kind, params, figs, expected", [
    ("abs_tol", {"ours": "x", "anchor": "src.a", "tol": 1.0}, {"x": 10.9}, True),
    ("abs_tol", {"ours": "x", "anchor": "src.a", "tol": 1.0}, {"x": 11.1}, False),
    ("rel_tol", {"ours": "x", "anchor": "src.a", "tol": 0.1}, {"x": 9.05}, True),
    ("rel_tol", {"ours": "x", "anchor": "src.a", "tol": 0.1}, {"x": 8.9}, False),
    ("direction", {"ours": "x", "sign": "positive"}, {"x": 0.2}, True),
    ("direction", {"ours": "x", "sign": "negative"}, {"x": 0.2}, False),
    ("greater", {"ours": "x", "than": "y"}, {"x": 2.0, "y": 1.0}, True),
    ("greater", {"ours": "x", "than": "y", "margin": 1.5}, {"x": 2.0, "y": 1.0}, False),
    ("greater", {"ours": "x", "than": "src.a"}, {"x": 10.5}, True),
    ("ordering", {"keys": ["a", "b", "c"]}, {"a": 3.0, "b": 2.0, "c": 1.0}, True),
    ("ordering", {"keys": ["a", "b", "c"]}, {"a": 3.0, "b": 4.0, "c": 1.0}, False),
    ("ordering", {"keys": ["a", "b"], "descending": False}, {"a": 1.0, "b": 2.0}, True),
    ("peak_in_range", {"series": "curve", "low": 1, "high": 3}, {}, True),
    ("peak_in_range", {"series": "curve", "low": 3, "high": 4}, {}, False),
    ("peak_in_range", {"series": "curve", "low": 0, "high": 0, "at": "min"}, {}, True),
    ("ci_excludes_zero", {"ours": "x"}, {"x": (1.0, 0.2, 1.8)}, True),
    ("ci_excludes_zero", {"ours": "x"}, {"x": (1.0, -0.2, 1.8)}, False),
    ("ci_excludes_zero", {"ours": "x", "sign": "negative"}, {"x": (1.0, 0.2, 1.8)}, False),
    ("ci_excludes_zero", {"ours": "x", "sign": "negative"}, {"x": (-1.0, -1.8, -0.2)}, True),
    ("at_least", {"ours": "x", "value": 0.5}, {"x": 0.5}, True),
    ("at_least", {"ours": "x", "value": "src.a"}, {"x": 9.0}, False),
    ("at_most", {"ours": "x", "value": 0.05}, {"x": 0.01}, True),
    ("at_most", {"ours": "x", "value": 0.05}, {"x": 0.2}, False),
])
def test_rule_kinds_known_answers(kind, params, figs, expected):
    o = evaluate(_rule(kind, **params), _m(**figs), ANCH, "offline")
    assert o.applicable and o.passed is expected, o


def test_missing_figure_or_interval_is_not_evaluated():
    o = evaluate(_rule("at_most", ours="nope", value=1), _m(), ANCH, "offline")
    assert o.passed is None and "nope" in o.detail
    o = evaluate(_rule("ci_excludes_zero", ours="x"), _m(x=1.0), ANCH, "offline")
    assert o.passed is None and "no confidence interval" in o.detail


def test_figure_rules_apply_only_to_the_published_model_and_data():
    r = _rule("abs_tol", verdict="figure", ours="x", anchor="src.a", tol=1.0)
    o = evaluate(r, _m(x=(10.0, None, None, 100)), ANCH, "offline")
    assert not o.applicable and "bert-base-multilingual-cased" in o.detail and "offline" in o.detail
    o = evaluate(r, _m(x=(10.0, None, None, 100)), ANCH, "google-bert/bert-base-multilingual-cased")
    assert o.applicable and o.passed is True
    o = evaluate(r, _m(x=(10.0, None, None, 40)), ANCH, "bert-base-multilingual-cased")
    assert not o.applicable and "100 items" in o.detail and "40" in o.detail


def test_verdicts_all_some_none_and_not_measurable():
    from mbert_lab.report.claims import Claim

    def claim(*rules):
        return Claim("c", 1, "t", "q", ("src",), "m:f", "m:g", (), tuple(rules))

    ok, bad = _rule("at_least", ours="x", value=0), _rule("at_least", ours="x", value=5)
    m = _m(x=1.0)
    assert verdicts(claim(ok, ok), m, ANCH, "offline")["finding"].verdict == "reproduced"
    assert verdicts(claim(ok, bad), m, ANCH, "offline")["finding"].verdict == "partly"
    assert verdicts(claim(bad), m, ANCH, "offline")["finding"].verdict == "not reproduced"
    v = verdicts(claim(ok), m, ANCH, "offline")["figure"]
    assert v.verdict == "not measurable here" and "no figure rule" in v.reason
    fig = _rule("abs_tol", verdict="figure", ours="x", anchor="src.a", tol=1.0)
    v = verdicts(claim(fig), m, ANCH, "offline")["figure"]
    assert v.verdict == "not measurable here" and "this column is offline" in v.reason
    m.not_measurable = "no data for it"
    v = verdicts(claim(ok), m, ANCH, "offline")
    assert v["finding"].verdict == "not measurable here" and v["finding"].reason == "no data for it"
    assert verdict_of([], "finding").verdict == "not measurable here"


# ------------------------------------------------------------------ running (tiny random BERT)


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory, _tiny_wordpiece_session):
    from mbert_lab.studies.report import ReportConfig, report

    d = tmp_path_factory.mktemp("report")
    _write(d / "claims", "01_small_align.toml", ALIGN)
    _write(d / "claims", "03_small_families.toml", FAMILIES)
    _write(d / "claims", "04_small_centering.toml", CENTERING)
    _write(d / "claims", "09_broken.toml", ALIGN.replace("small_align", "broken").replace("number = 1", "number = 9")
           .replace("alignment:measure", "alignment:no_such_measure"))
    cfg = ReportConfig(models=("tiny",), claims_dir=str(d / "claims"), out=str(d / "out"), cache=False)
    return report(cfg, encoders={"tiny": _tiny_wordpiece_session}), d


def test_claim_figures_equal_the_study_run_alone(tiny_report, _tiny_wordpiece_session):
    from mbert_lab.studies.alignment import AlignEvalConfig, align_eval
    from mbert_lab.studies.centroids import CentroidsConfig, centroids

    res, _ = tiny_report
    col = res.claim("small_align").columns[0]
    alone = align_eval(AlignEvalConfig(gold=["en-fr"], layers="all", methods=["argmax", "softmax"], limit=10,
                                       model="tiny", cache=False), encoder=_tiny_wordpiece_session)
    for b in alone.best:
        assert col.figure(f"aer.fr.{b.method}.best").value == pytest.approx(b.test.aer * 100)
        assert col.figure(f"layer.fr.{b.method}.best").value == b.layer
    cen = centroids(CentroidsConfig(languages=["deu", "nld", "fra", "spa", "rus", "pol"], min_sentences=12,
                                    max_sentences=12, layers="all", geometry=False, lid_centered=True, model="tiny",
                                    cache=False), encoder=_tiny_wordpiece_session)
    col = res.claim("small_centering").columns[0]
    la = cen.retrieval.best["centered"].layer
    raw = [cen.retrieval.per_language[k]["raw"].xx_to_eng[la] for k in cen.retrieval.languages]
    assert col.figure("retr.raw.xx2eng").value == pytest.approx(100 * sum(raw) / len(raw))
    assert col.figure("lid.knn.centered").value == pytest.approx(100 * cen.lid["knn_centered"].by_layer[la].accuracy)
    fam = res.claim("small_families").columns[0]
    la = cen.layers[len(cen.layers) // 2] if 8 not in cen.layers else 8
    assert fam.figure("ari.genus").value == pytest.approx(cen.centroid_geometry[la].agreement["genus"].adjusted_rand)


def test_shared_study_runs_once_and_results_are_saved(tiny_report):
    res, d = tiny_report
    fam, cen = res.claim("small_families").columns[0], res.claim("small_centering").columns[0]
    assert "run once" in cen.studies[0] and "run once" not in fam.studies[0]
    assert (d / "out" / "tiny" / "small_families" / "1-centroids" / "centroids.json").is_file()
    assert (d / "out" / "tiny" / "small_align" / "1-align_eval" / "align_eval.json").is_file()


def test_a_failing_measure_is_an_error_in_the_page_not_a_crash(tiny_report):
    res, d = tiny_report
    col = res.claim("broken").columns[0]
    assert col.status == "error" and "no_such_measure" in col.error
    assert col.finding.verdict == "error"
    page = (d / "out" / "report.html").read_text(encoding="utf-8")
    assert "no_such_measure" in page


def test_pages_and_json_round_trip(tiny_report):
    from mbert_lab.studies import load_result

    res, d = tiny_report
    out = d / "out"
    back = load_result(out / "report.json")
    assert back.claims == res.claims and back.models == ("tiny",)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4 - 1  # every claim but the broken one has a plot
    assert "http://" not in page and "https://" not in page and "<script" not in page and "<link" not in page
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## 1. small alignment" in md and "(figures/01_small_align.png)" in md
    assert (out / "figures" / "01_small_align.png").read_bytes()[:4] == b"\x89PNG"


def test_figure_match_not_measurable_for_another_model(tiny_report):
    res, _ = tiny_report
    col = res.claim("small_align").columns[0]
    assert col.figure_match.verdict == "not measurable here"
    assert "bert-base-multilingual-cased" in col.figure_match.reason


def test_report_config_validation(tmp_path):
    from mbert_lab.studies.report import ReportConfig

    with pytest.raises(ConfigError, match="profile: unknown value 'fast'"):
        ReportConfig(profile="fast")
    with pytest.raises(ConfigError, match="claims: unknown value 'alignmnet' .did you mean 'alignment'"):
        ReportConfig(claims="alignmnet")
    with pytest.raises(ConfigError, match="models: a model is listed twice"):
        ReportConfig(models=["offline", "offline"])
    with pytest.raises(Exception, match="model: no such folder"):
        ReportConfig(models=["./nope"])
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(Exception, match="out: exists and is not a folder"):
        ReportConfig(out=str(f))
    assert ReportConfig(claims="1,centering").claims == ("1", "centering")


# ------------------------------------------------------------------ two models side by side


@pytest.mark.integration
def test_two_models_side_by_side(tmp_path, _tiny_wordpiece_session, offline_encoder):
    from mbert_lab.studies.report import ReportConfig, report

    _write(tmp_path / "claims", "01_small_align.toml", ALIGN.replace("limit = 10", "limit = 6"))
    cfg = ReportConfig(models=("tiny", "offline"), claims_dir=str(tmp_path / "claims"), out=str(tmp_path / "out"))
    res = report(cfg, encoders={"tiny": _tiny_wordpiece_session, "offline": offline_encoder})
    cols = res.claim("small_align").columns
    assert [c.model for c in cols] == ["tiny", "offline"] and all(c.status == "ok" for c in cols)
    # the offline model (12 layers) has layer 8: the published layer's figure; the tiny one (4) has not
    assert cols[1].figure("aer.fr.softmax.l8") is not None and cols[0].figure("aer.fr.softmax.l8") is None
    # each column ran its own model: AER by layer over 5 (tiny: 4 blocks) and 13 layers
    assert [len(c.series["aer.fr.argmax"]["y"]) for c in cols] == [5, 13]
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<th>tiny</th><th>offline</th>" in page
    assert "tiny: figure match" in page and "offline: finding holds" in page
    assert (tmp_path / "out" / "tiny").is_dir() and (tmp_path / "out" / "offline").is_dir()


# ------------------------------------------------------------------ CLI, study file


@pytest.mark.integration
def test_cli_and_library_agree(tmp_path, monkeypatch, capsys, offline_encoder):
    from mbert_lab.cli import main
    from mbert_lab.studies.report import ReportConfig, report

    claims = tmp_path / "claims"
    _write(claims, "01_small_align.toml", ALIGN.replace("limit = 10", "limit = 5").replace('layers = "all"', "layers = [8]"))
    assert main(["report", "--claims-dir", str(claims), "--out", str(tmp_path / "cli")]) == 0
    assert "small_align" in capsys.readouterr().out
    lib = report(ReportConfig(claims_dir=str(claims), out=str(tmp_path / "lib")), encoder=offline_encoder)
    from mbert_lab.studies import load_result

    cli = load_result(tmp_path / "cli" / "report.json")
    a, b = cli.claim("small_align").columns[0], lib.claim("small_align").columns[0]
    assert [(f.key, f.value) for f in a.figures] == [(f.key, f.value) for f in b.figures]
    assert a.figure("aer.fr.softmax.l8").n == 5


def test_cli_bad_input_is_one_line(capsys, tmp_path):
    from mbert_lab.cli import main

    assert main(["report", "--profile", "fast", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "profile: unknown value 'fast'" in err[0]
    assert main(["report", "--claims", "nosuch", "--out", str(tmp_path / "o")]) == 2
    assert "claims: unknown value 'nosuch'" in capsys.readouterr().err


def test_cli_print_config_and_list(capsys):
    from mbert_lab.cli import main

    assert main(["report", "--list-claims"]) == 0
    out = capsys.readouterr().out
    assert "alignment" in out and "centering" in out
    assert main(["report", "--model", "offline", "--claims", "1,4", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("[[study]]") and 'study = "report"' in text and 'claims = ["1", "4"]' in text


@pytest.mark.integration
def test_example_study_file_runs(tmp_path, monkeypatch, offline_encoder):
    from mbert_lab.config import load_study_file
    from mbert_lab.studies import run_config

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    declared = load_study_file("examples/report.toml")
    assert [d.name for d in declared] == ["report"]
    res = run_config(declared[0].config, encoder=offline_encoder)
    col = res.claims[0].columns[0]
    assert col.status == "ok" and col.figure("aer.fr.softmax.l8").value is not None
    res.save(tmp_path / "o")
    assert (tmp_path / "o" / "report.html").is_file()


def test_knn_lid_known_answer():
    import numpy as np

    from mbert_lab.studies.centroids import knn_lid

    rng = np.random.default_rng(0)
    base = {"aaa": np.array([5.0, 0, 0]), "bbb": np.array([0, 5.0, 0])}
    train = {k: v + rng.normal(0, 0.1, (20, 3)) for k, v in base.items()}
    test = {k: v + rng.normal(0, 0.1, (10, 3)) for k, v in base.items()}
    assert knn_lid(train, test).accuracy == 1.0
    # the same noise around both means: once each language's centroid is removed, nothing is left
    noise_tr, noise_te = rng.normal(0, 1, (40, 3)), rng.normal(0, 1, (20, 3))
    tr = {"aaa": noise_tr[:20], "bbb": noise_tr[20:]}
    te = {"aaa": noise_te[:10], "bbb": noise_te[10:]}
    assert 0.2 <= knn_lid(tr, te).accuracy <= 0.8


def test_a_model_that_cannot_load_is_an_error_in_every_claim_of_its_column(tmp_path, monkeypatch,
                                                                           _tiny_wordpiece_session):
    import mbert_lab.models.registry as reg
    from mbert_lab.studies.report import ReportConfig, report

    calls = []

    def boom(model, **kw):
        calls.append(model)
        raise OSError(f"cannot reach the hub for {model}")

    monkeypatch.setattr(reg, "load_encoder", boom)
    _write(tmp_path / "claims", "01_small_align.toml", ALIGN.replace("limit = 10", "limit = 4"))
    _write(tmp_path / "claims", "02_other.toml", ALIGN.replace("small_align", "other").replace("number = 1", "number = 2")
           .replace("limit = 10", "limit = 3"))
    res = report(ReportConfig(models=("tiny", "org/unreachable"), claims_dir=str(tmp_path / "claims"), cache=False),
                 encoders={"tiny": _tiny_wordpiece_session})
    for c in res.claims:
        ok, bad = c.columns
        assert ok.status == "ok" and bad.status == "error" and "cannot reach the hub" in bad.error
    assert calls == ["org/unreachable"]  # loaded once, not once per claim
