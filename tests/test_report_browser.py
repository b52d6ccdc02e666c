"""The report's HTML in headless Chromium (the shared fixture of tests/browser.py): every claim
section, table and plot is rendered, and opening the page makes no request at all beyond the
file itself (images are data: URIs, CSS is inline)."""

from __future__ import annotations

import pytest

from tests.browser import assert_no_external_requests
from tests.test_report import ALIGN, CENTERING, FAMILIES, _write


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, _tiny_wordpiece_session):
    from mbert_lab.studies.report import ReportConfig, report

    d = tmp_path_factory.mktemp("report-browser")
    _write(d / "claims", "01_small_align.toml", ALIGN)
    _write(d / "claims", "03_small_families.toml", FAMILIES)
    _write(d / "claims", "04_small_centering.toml", CENTERING)
    cfg = ReportConfig(models=("tiny",), claims_dir=str(d / "claims"), out=str(d / "out"), cache=False)
    res = report(cfg, encoders={"tiny": _tiny_wordpiece_session})
    return res, d / "out" / "report.html"


def test_report_html_renders_every_claim_without_requests(page, report_page):
    res, html = report_page
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    sections = page.locator("section.claim")
    assert sections.count() == len(res.claims) == 3
    for i, c in enumerate(res.claims):
        sec = page.locator(f"section#claim-{c.id}")
        assert sec.is_visible()
        assert sec.locator("h2").inner_text().startswith(f"{c.number}. {c.title}")
        for cls in ("anchors", "ours", "verdicts"):
            t = sec.locator(f"table.{cls}")
            assert t.count() == 1 and t.is_visible(), (c.id, cls)
            assert t.locator("tr").count() >= 2, (c.id, cls)
        img = sec.locator("img.plot")
        assert img.count() == 1
        # the image really decoded and has a size (a broken data: URI renders 0 x 0)
        w, h = img.evaluate("e => [e.naturalWidth, e.naturalHeight]")
        assert w > 100 and h > 100, (c.id, w, h)
        assert img.evaluate("e => e.complete")
    summary = page.locator("table.summary tr")
    assert summary.count() == 1 + len(res.claims)
    assert "not measurable here" in page.locator("section#claim-small_align table.verdicts").inner_text()
    # nothing but the page itself (file:) and its data: images was requested
    assert page.mbert_requests and all(u.startswith(("file:", "data:")) for u in page.mbert_requests), page.mbert_requests
    assert_no_external_requests(page)
