"""Demo section: how cross-lingual is each layer? Translation pairs vs. mismatched pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..studies.base import StudyResult
from . import DemoContext


@dataclass(frozen=True, kw_only=True)
class LayerSimilarity(StudyResult):
    """Cosine of mean-pooled sentence vectors: translation pairs vs. mismatched pairs, by layer."""

    kind = "layer_similarity"
    layers: tuple[int, ...]
    languages: tuple[str, ...]
    translation_cosine: dict[str, tuple[float, ...]]  # lang -> per layer
    random_cosine: dict[str, tuple[float, ...]]
    gap_mean: tuple[float, ...]  # per layer, averaged over languages
    n_pairs: dict[str, int]


def pair_similarity_by_layer(
    src: np.ndarray, tgt: np.ndarray, seed: int = 0
) -> tuple[float, float]:
    """Mean cosine of aligned rows vs. rows paired with a random permutation of ``tgt``.

    >>> a = np.eye(3); pair_similarity_by_layer(a, a)[0]
    1.0
    """
    from ..analyses.centroids import l2_normalize

    s, t = l2_normalize(src), l2_normalize(tgt)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(t))
    fixed = perm == np.arange(len(t))
    perm[fixed] = (perm[fixed] + 1) % len(t)
    return float((s * t).sum(1).mean()), float((s * t[perm]).sum(1).mean())


def section(ctx: DemoContext) -> str:
    """Extract every layer once for English and each language; compare translation pairs with
    mismatched pairs by layer (how cross-lingual is each layer?)."""
    from ..plots import new_figure, save_figure
    out = ctx.out / "representations"
    layers = list(range(ctx.encoder.num_layers + 1))
    trans: dict[str, list[float]] = {}
    rand: dict[str, list[float]] = {}
    n_pairs: dict[str, int] = {}
    for lang, pairs in ctx.parallel.items():
        if len(pairs) < 10:
            continue
        en = ctx.extract([p[0] for p in pairs], layers)
        xx = ctx.extract([p[1] for p in pairs], layers)
        tc, rc = zip(*(pair_similarity_by_layer(en.sentence(la), xx.sentence(la)) for la in layers))
        trans[lang], rand[lang], n_pairs[lang] = list(tc), list(rc), len(pairs)
    langs = sorted(trans)
    gap = [float(np.mean([trans[la][i] - rand[la][i] for la in langs])) for i in range(len(layers))]
    res = LayerSimilarity(
        provenance=ctx.provenance({"study": "demo.representations", "pooling": "mean"}, layers, "mean"),
        layers=tuple(layers), languages=tuple(langs), n_pairs=n_pairs, gap_mean=tuple(gap),
        translation_cosine={k: tuple(v) for k, v in trans.items()},
        random_cosine={k: tuple(v) for k, v in rand.items()},
    )
    res.save(out)
    fig, ax = new_figure(8, 4.5)
    for la in langs:
        ax.plot(layers, np.array(trans[la]) - np.array(rand[la]), alpha=0.5, lw=1, label=la)
    ax.plot(layers, gap, color="black", lw=2.5, label="mean over languages")
    ax.set_xlabel("layer")
    ax.set_ylabel("cosine(translation) - cosine(random pair)")
    ax.set_title(f"{ctx.encoder.label}\ntranslation pairs vs. mismatched pairs, by layer", fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="best")
    save_figure(fig, out / "layer_similarity")
    best = int(np.argmax(gap))
    return (
        f"representations: {len(langs)} languages x {sum(n_pairs.values())} pairs, layers 0-{layers[-1]}; "
        f"translation-vs-random cosine gap is largest at layer {best} ({gap[best]:.3f}); "
        f"plot: {out / 'layer_similarity.png'}"
    )


