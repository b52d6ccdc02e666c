"""Claim 3: language centroids cluster by family (Libovický et al. 2019; the primer's Figure 7).

From the ``centroids`` study: the centroids' hierarchical clustering cut into as many clusters as
there are families (genera), its agreement with the families (adjusted Rand index, purity), and a
permutation test: the same clusters against random relabellings of the languages (family sizes
kept). Figures (``ari.family``, ``p.family``, ``purity.genus``, ...) at layer 8 (the middle layer
for a model without one) and per layer (series ``ari_by_layer.family`` / ``ari_by_layer.genus``).
"""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement

FOCUS_LAYER = 8
N_PERMUTATIONS = 2000


def adjusted_rand(a: Any, b: Any) -> float:
    """Adjusted Rand index of two labellings given as integer codes (as sklearn's, faster for
    thousands of permutations)."""
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    n = len(a)
    table = np.zeros((a.max() + 1, b.max() + 1), dtype=np.int64)
    np.add.at(table, (a, b), 1)

    def c2(x: Any) -> float:
        return float((x * (x - 1) // 2).sum())

    sum_ij, sum_a, sum_b, total = c2(table), c2(table.sum(1)), c2(table.sum(0)), n * (n - 1) / 2
    expected = sum_a * sum_b / total if total else 0.0
    top = (sum_a + sum_b) / 2 - expected
    return 1.0 if top == 0 else float((sum_ij - expected) / top)


def permutation_test(truth: list[str], clusters: list[int], n: int = N_PERMUTATIONS, seed: int = 0
                     ) -> tuple[float, float, float]:
    """(observed ARI, p-value, mean ARI under permutation) of ``clusters`` against ``truth``
    and against ``n`` random permutations of ``truth``; p = (1 + #null >= observed) / (1 + n)."""
    import numpy as np

    t = np.unique(np.asarray(truth), return_inverse=True)[1]
    c = np.unique(np.asarray(clusters), return_inverse=True)[1]
    obs = adjusted_rand(t, c)
    rng = np.random.default_rng(seed)
    null = np.array([adjusted_rand(rng.permutation(t), c) for _ in range(n)])
    return obs, float((1 + np.sum(null >= obs - 1e-12)) / (1 + n)), float(null.mean())


def focus_layer(layers: tuple[int, ...]) -> int:
    return FOCUS_LAYER if FOCUS_LAYER in layers else layers[len(layers) // 2]


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    res = results[0]
    m = Measurement()
    la = focus_layer(res.layers)
    geo = res.centroid_geometry[la]
    langs = list(geo.labels)
    groups = {"family": [res.info[k].family for k in langs],
              "genus": [f"{res.info[k].family}/{res.info[k].genus}" for k in langs]}
    for g, truth in groups.items():
        ag = geo.agreement[g]
        obs, p, null = permutation_test(truth, [ag.clusters[k] for k in langs], seed=ctx.seed)
        m.figures[f"ari.{g}"] = Figure(f"ari.{g}", f"adjusted Rand index, clusters vs {g}, layer {la}",
                                             obs, n=len(langs), unit="ARI")
        m.figures[f"p.{g}"] = Figure(f"p.{g}", f"permutation p-value ({N_PERMUTATIONS} relabellings), {g}, layer {la}",
                                           p, n=N_PERMUTATIONS, unit="p")
        m.figures[f"null.{g}"] = Figure(f"null.{g}", f"mean ARI of random relabellings, {g}", null,
                                              unit="ARI")
        m.figures[f"purity.{g}"] = Figure(f"purity.{g}", f"cluster purity, {g}, layer {la}", ag.purity,
                                                n=len(langs), unit="share")
        m.series[f"ari_by_layer.{g}"] = {"x": [float(x) for x in res.layers],
                                "y": [res.centroid_geometry[x].agreement[g].adjusted_rand for x in res.layers]}
    m.tables[f"clusters at layer {la}"] = [
        {"language": k, "name": res.info[k].name, "family": res.info[k].family, "genus": res.info[k].genus,
         "cluster (k = families)": geo.agreement["family"].clusters[k]} for k in geo.leaf_order]
    m.notes.append(f"{len(langs)} languages ({', '.join(langs)}); centroids of the train split "
                   f"({res.split.train_fraction:g} of each language's sentences, seed {res.split.seed}); "
                   f"{geo.method} linkage on {geo.metric} distance; cut into k = number of families / genera")
    if res.excluded:
        m.notes.append(f"excluded: {', '.join(f'{k} ({v})' for k, v in res.excluded.items())}")
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    """Per model: the dendrogram at the focus layer (leaves labelled with their family) and the
    agreement (ARI) with families and genera by layer."""
    from ...plots import _plt

    plt = _plt()
    models = list(measurements)
    fig, axes = plt.subplots(len(models), 2, figsize=(12, 4.2 * len(models)), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 1]})
    for row, model in zip(axes, models):
        m = measurements[model]
        _dendrogram(row[0], ctx, model, m)
        for g, s in m.series.items():
            row[1].plot(s["x"], s["y"], marker=".", label=g.split(".")[1])
        row[1].axhline(0, color="grey", lw=0.8)
        row[1].set_xlabel("layer")
        row[1].set_ylabel("adjusted Rand index")
        row[1].set_title(f"{model}: agreement by layer", fontsize=9)
        row[1].legend(fontsize=7)
    return fig


def _dendrogram(ax: Any, ctx: ClaimContext, model: str, m: Measurement) -> None:
    """The dendrogram from the study's saved linkage (read back from the work folder)."""
    from scipy.cluster.hierarchy import dendrogram

    from ...studies.centroids import CentroidsResult

    found = sorted((ctx.work_dir / _slug(model)).glob("*/*-centroids/centroids.json"))  # work_dir: the report folder
    if not found:
        ax.text(0.5, 0.5, "no saved centroids result", ha="center")
        return
    res = CentroidsResult.load(found[0])
    la = focus_layer(res.layers)
    geo = res.centroid_geometry[la]
    labels = [f"{k} ({res.info[k].genus})" for k in geo.labels]
    dendrogram([list(r) for r in geo.linkage], labels=labels, ax=ax, leaf_rotation=90, leaf_font_size=7)
    ax.set_title(f"{model}: language centroids, layer {la} ({geo.method}, {geo.metric})", fontsize=9)


def _slug(model: str) -> str:
    from ..runner import model_slug

    return model_slug(model)
