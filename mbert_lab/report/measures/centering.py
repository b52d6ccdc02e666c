"""Claim 4: removing the language centroid improves language neutrality (Libovický et al. 2020).

From the ``centroids`` study (Tatoeba pairs with English, ``lid_centered = true``): at the layer
chosen on the dev rows for centred retrieval, xx->eng and eng->xx 1-NN retrieval on the test rows
before and after centering (each side minus its train-split centroid), with the gain's 95%
bootstrap interval over languages; and LID by a 1-nearest-neighbour classifier on raw vs centred
vectors (what is left of language identity once the centroid is removed), with a bootstrap
interval over test sentences. Accuracies in percent.
"""

from __future__ import annotations

from typing import Any

from ..types import ClaimContext, Figure, Measurement

N_BOOT = 2000


def bootstrap_mean_ci(values: list[float], seed: int = 0, n_boot: int = N_BOOT) -> tuple[float, float]:
    """95% percentile interval of the mean of ``values`` (resampled with replacement)."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    lo, hi = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    return float(lo), float(hi)


def _correct(confusion: Any) -> Any:
    """Per test item 1/0 (correct or not), from a confusion matrix (rows: true languages)."""
    import numpy as np

    c = np.asarray(confusion, dtype=np.int64)
    total, hits = int(c.sum()), int(np.trace(c))
    return np.concatenate([np.ones(hits), np.zeros(total - hits)])


def accuracy_change_ci(conf_a: Any, conf_b: Any, seed: int = 0, n_boot: int = N_BOOT) -> tuple[float, float]:
    """95% interval of accuracy(b) - accuracy(a) in points, items resampled independently."""
    import numpy as np

    a, b = _correct(conf_a), _correct(conf_b)
    rng = np.random.default_rng(seed)
    da = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    db = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
    lo, hi = np.percentile((db - da) * 100, [2.5, 97.5])
    return float(lo), float(hi)


def _retrieval(res: Any, m: Measurement, seed: int) -> int | None:
    r = res.retrieval
    if r is None:
        m.notes.append("no English sides: retrieval not measured")
        return None
    la = r.best["centered"].layer
    langs = list(r.languages)
    for dname, attr in (("xx2eng", "xx_to_eng"), ("eng2xx", "eng_to_xx")):
        raw = [getattr(r.per_language[k]["raw"], attr)[la] * 100 for k in langs]
        cen = [getattr(r.per_language[k]["centered"], attr)[la] * 100 for k in langs]
        gain = [c - a for a, c in zip(raw, cen)]
        m.figures[f"retr.raw.{dname}"] = Figure(f"retr.raw.{dname}", f"retrieval {dname}, raw, layer {la}",
                                                sum(raw) / len(raw), *bootstrap_mean_ci(raw, seed), n=len(langs),
                                                unit="accuracy %")
        m.figures[f"retr.centered.{dname}"] = Figure(
            f"retr.centered.{dname}", f"retrieval {dname}, centred, layer {la}", sum(cen) / len(cen),
            *bootstrap_mean_ci(cen, seed), n=len(langs), unit="accuracy %")
        m.figures[f"retr.gain.{dname}"] = Figure(
            f"retr.gain.{dname}", f"retrieval {dname}: centred - raw (mean over languages)", sum(gain) / len(gain),
            *bootstrap_mean_ci(gain, seed), n=len(langs), unit="points")
    pl = r.per_language
    both = [((pl[k]["centered"].xx_to_eng[la] + pl[k]["centered"].eng_to_xx[la])
             - (pl[k]["raw"].xx_to_eng[la] + pl[k]["raw"].eng_to_xx[la])) * 50 for k in langs]  # mean of 2, in %
    m.figures["retr.gain.mean"] = Figure("retr.gain.mean", "retrieval, both directions: centred - raw",
                                         sum(both) / len(both), *bootstrap_mean_ci(both, seed), n=len(langs),
                                         unit="points")
    for cond in ("raw", "centered"):
        m.series[f"retrieval.{cond}"] = {"x": [float(x) for x in res.layers],
                                         "y": [r.mean[cond].xx_to_eng[x] * 100 for x in res.layers]}
    m.notes.append(f"retrieval layer {la}: chosen on the dev rows for centred retrieval "
                   f"(dev {r.best['centered'].dev_score:.3f}); figures on the test rows; intervals: bootstrap "
                   f"over {len(langs)} languages")
    return la


def _lid(res: Any, m: Measurement, la: int, seed: int) -> None:
    if "knn_centered" not in res.lid:
        m.notes.append("the centroids study ran without lid_centered: LID after centering not measured")
        return
    raw, cen = res.lid["knn"].by_layer[la], res.lid["knn_centered"].by_layer[la]
    for name, s in (("raw", raw), ("centered", cen)):
        lo, hi = _acc_ci(s.confusion, seed)
        m.figures[f"lid.knn.{name}"] = Figure(f"lid.knn.{name}", f"LID (1-NN), {name}, layer {la}",
                                              s.accuracy * 100, lo, hi, n=s.n_test, unit="accuracy %")
    lo, hi = accuracy_change_ci(raw.confusion, cen.confusion, seed)
    m.figures["lid.knn.change"] = Figure("lid.knn.change", "LID (1-NN): centred - raw",
                                         (cen.accuracy - raw.accuracy) * 100, lo, hi, n=raw.n_test, unit="points")
    for key, label in (("probe", "linear probe"), ("nearest_centroid", "nearest centroid")):
        s = res.lid[key].by_layer[la]
        m.figures[f"lid.{key}.raw"] = Figure(f"lid.{key}.raw", f"LID ({label}), raw, layer {la}", s.accuracy * 100,
                                             *_acc_ci(s.confusion, seed), n=s.n_test, unit="accuracy %")
    for key in ("knn", "knn_centered"):
        m.series[f"lid.{key}"] = {"x": [float(x) for x in res.layers],
                                  "y": [res.lid[key].by_layer[x].accuracy * 100 for x in res.layers]}
    m.notes.append("LID after centering: a 1-NN classifier (cosine) on vectors minus their language's train "
                   "centroid, against the same classifier on raw vectors (a linear probe is at chance on centred "
                   "vectors by construction: every class has mean 0)")


def _acc_ci(confusion: Any, seed: int) -> tuple[float, float]:
    v = _correct(confusion) * 100
    return bootstrap_mean_ci(list(v), seed)


def measure(results: list[Any], ctx: ClaimContext) -> Measurement:
    res = results[0]
    m = Measurement()
    la = _retrieval(res, m, ctx.seed)
    if la is None:
        la = res.lid["probe"].best.layer
    _lid(res, m, la, ctx.seed)
    m.notes.append(f"{len(res.languages)} Tatoeba languages, {min(res.split.n_test.values())}-"
                   f"{max(res.split.n_test.values())} test sentences each; centroids fitted on the train split")
    if not m.figures:
        m.not_measurable = "the centroids study produced neither retrieval nor LID figures"
    return m


def plot(measurements: dict[str, Measurement], ctx: ClaimContext) -> Any:
    """Retrieval (xx->eng) and LID (probe) by layer, raw vs centred, a line style per model."""
    from ...plots import _plt

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), squeeze=False)
    panels = (("retrieval", "xx->eng retrieval accuracy % (test rows)"), ("lid", "LID 1-NN accuracy % (test rows)"))
    for ax, (prefix, ylabel) in zip(axes[0], panels):
        for model, m in measurements.items():
            for name, s in m.series.items():
                if name.startswith(prefix + "."):
                    cond = "centred" if "cent" in name else "raw"
                    ax.plot(s["x"], s["y"], marker=".", ls="-" if cond == "centred" else "--",
                            label=f"{model} {cond}")
        ax.set_xlabel("layer")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_title("retrieval: raw vs centred", fontsize=9)
    axes[0][1].set_title("language identity left after centering", fontsize=9)
    return fig
