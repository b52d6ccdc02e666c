"""Demo section: word-align English/translation pairs of the embedded corpus with the
``align`` study (raw text, ArgMax and Match, lone '▁' pieces left out)."""

from __future__ import annotations

from typing import Any

#: Layer the demo aligns at: the offline model's best ArgMax layer on the gold sets (6-7;
#: see ``mbert-lab align-eval --layers all``), not mBERT's customary 8.
DEMO_LAYER = 7
PAIRS_PER_LANGUAGE = 60


def _heatmap_pair(result: Any) -> int | None:
    """The first pair with 5-10 words on both sides (a readable heatmap)."""
    for p in result.pairs:
        if 5 <= len(p.src) <= 10 and 5 <= len(p.tgt) <= 10:
            return p.pair
    return None


def section(ctx: Any) -> str:
    """Align up to 60 pairs per demo language; write each language's links as JSONL, a
    summary (mean ArgMax link confidence and word coverage per language) and one heatmap."""
    from ..io import atomic_write_text
    from ..plots.alignment import heatmap
    from ..results import record
    from ..studies.alignment import AlignConfig, align

    out = ctx.out / "alignment"
    layer = min(DEMO_LAYER, ctx.encoder.num_layers)
    fields = dict(input="raw", methods=("argmax", "match"), layers=layer, level="subword", cache=ctx.store is not None)
    stats: dict[str, dict[str, float]] = {}
    shown = ""
    for lang, pairs in ctx.parallel.items():
        pairs = [(e, x) for e, x in pairs if e.strip(" \t") and x.strip(" \t")][:PAIRS_PER_LANGUAGE]
        if len(pairs) < 5:
            continue
        res = align(AlignConfig(pairs=pairs, **fields), encoder=ctx.encoder, store=ctx.store)
        atomic_write_text(out / f"links_en-{lang}.jsonl", "".join(x + "\n" for x in res.jsonl_lines(4)))
        a = res.by_method[0]
        stats[lang] = {"pairs": res.n_pairs, "mean_confidence": a.mean_confidence, "mean_coverage": a.mean_coverage}
        k = _heatmap_pair(res) if not shown and lang in ("de", "fr", "es") else None
        if k is not None:
            one = align(AlignConfig(pairs=[pairs[k - 1]], heatmaps=(1,), **fields), encoder=ctx.encoder, store=ctx.store)
            paths = heatmap(one, 1, out / f"heatmap_en-{lang}_pair{k}", title=f"en-{lang} pair {k}, layer {layer}, argmax")
            shown = f"; heatmap: {paths[0]}"
    if not stats:
        return "alignment: no language with enough pairs"
    rec = record("demo.alignment", {"layer": layer, "method": "argmax", "languages": stats},
                 ctx.provenance({"study": "align", **{k: v for k, v in fields.items() if k != "cache"}}, [layer],
                                "subword"))
    rec.save(out / "alignment_summary.json")
    worst = min(stats, key=lambda k: stats[k]["mean_coverage"])
    best = max(stats, key=lambda k: stats[k]["mean_coverage"])
    return (
        f"alignment: {sum(s['pairs'] for s in stats.values())} English/translation pairs in {len(stats)} languages "
        f"aligned at layer {layer} (ArgMax, Match); ArgMax word coverage is highest for {best} "
        f"({stats[best]['mean_coverage']:.2f}) and lowest for {worst} ({stats[worst]['mean_coverage']:.2f}); "
        f"links: {out}/links_en-*.jsonl{shown}"
    )
