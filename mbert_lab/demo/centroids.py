"""Demo section: centroids, LID (nearest centroid and probe), retrieval with centering and a
dendrogram on the embedded corpus (translations of Django's messages; the English sides serve
retrieval), through the ``centroids`` study."""

from __future__ import annotations

from typing import Any


def section(ctx: Any) -> str:
    from ..languages import is_known
    from ..plots.centroids import plot_all
    from ..studies.centroids import CentroidsConfig, centroids

    texts, eng = {}, {}
    for lang, pairs in ctx.parallel.items():
        if len(pairs) >= 20 and is_known(lang):
            texts[lang] = [p[1] for p in pairs]
            eng[lang] = [p[0] for p in pairs]
    cfg = CentroidsConfig(texts=texts, texts_eng=eng, min_sentences=20, projection="none", geometry=False,
                          model=ctx.encoder.provenance.model_id)
    result = centroids(cfg, encoder=ctx.encoder, store=ctx.store)
    out = ctx.out / "centroids"
    result.save(out)
    last = result.layers[-1]
    plots = plot_all(result, out, [last], ctx.encoder.label)
    nc, pr = result.lid["nearest_centroid"], result.lid["probe"]
    ag = result.centroid_geometry[last].agreement["family"]
    mean = result.retrieval.mean if result.retrieval else None
    retr = (f"retrieval xx->eng at the last layer {mean['raw'].xx_to_eng[last]:.3f} raw, "
            f"{mean['centered'].xx_to_eng[last]:.3f} centred; ") if mean else ""
    return (
        f"centroids: {len(result.languages)} languages; nearest-centroid LID best at layer {nc.best.layer} "
        f"(chosen on dev; test {nc.best.test_score:.3f}), probe best at layer {pr.best.layer} "
        f"(test {pr.best.test_score:.3f}); last layer {nc.by_layer[last].accuracy:.3f} / probe "
        f"{pr.by_layer[last].accuracy:.3f}; {retr}family agreement of the layer-{last} clustering ARI "
        f"{ag.adjusted_rand:.2f}; dendrogram: {plots.get(f'dendrogram_L{last}')}"
    )
