"""``mbert-lab centroids``: language centroids, language identification, centroid geometry,
the geometry of the word space, and the effect of centering on retrieval.

Wiring only: files -> extractor -> :mod:`mbert_lab.analyses.centroids` -> JSON + plots.
The same wiring (:func:`analyze_parallel_vectors`) serves the demo section
(:func:`demo_section`) on the embedded corpus.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import add_model_options, add_output_options

EXAMPLES = """examples:
  # every Tatoeba language with >= 500 sentences (the default input), all layers:
  mbert-lab centroids --out results/centroids
  # a few languages, faster: no PUD geometry, plots at layer 12 only
  mbert-lab centroids --languages deu,fra,rus,cmn,jpn --min-sentences 500 --no-geometry --plot-layers 12
  # your own language-tagged files (one sentence per line); --pair adds line-aligned English
  mbert-lab centroids --file deu de.txt --file fra fr.txt --pair spa es.txt es-en.en.txt --min-sentences 100

Outputs in --out: centroids.json (LID, retrieval, centroid distances, clustering, geometry, with
provenance), transform.npz/.json (centering transform, fitted on the train split),
dendrogram_L<l>, projection_L<l>, lid_by_layer, retrieval_by_layer, geometry_by_layer (.png/.svg).
Sentence vectors are extracted for all layers at once (shared cache); --layers picks the layers
analysed. Languages below --min-sentences or with unknown codes are excluded and listed.
"""

POOLINGS = ("mean", "cls", "mean_all")


# --------------------------------------------------------------------------- parser
def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "centroids",
        help="language centroids, LID, centroid clustering, space geometry, centering and retrieval",
        description="Language centroids and language neutrality (Libovický et al. 2019/2020) and the "
        "geometry of the space (Ethayarajh 2019) for an encoder, over language-tagged files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("input")
    g.add_argument(
        "--tatoeba",
        default=None,
        help="Tatoeba folder with tatoeba.<xxx>-eng.<xxx|eng> (default: $MBERT_LAB_DATA/tatoeba/v1 "
        "when no --file/--pair is given)",
    )
    g.add_argument("--file", nargs=2, action="append", metavar=("LANG", "PATH"), default=[],
                   help="a file of LANG sentences, one per line (repeatable)")
    g.add_argument("--pair", nargs=3, action="append", metavar=("LANG", "XX_PATH", "ENG_PATH"), default=[],
                   help="line-aligned LANG and English files; adds retrieval (repeatable)")
    g.add_argument("--languages", default=None, help="comma-separated subset of languages (ISO 639-3)")
    g.add_argument("--min-sentences", type=int, default=500,
                   help="languages with fewer sentences are excluded and reported (default 500)")
    a = p.add_argument_group("analysis")
    a.add_argument("--train-fraction", type=float, default=0.5, help="share of each language for training (0.5)")
    a.add_argument("--seed", type=int, default=0, help="split and sampling seed (0)")
    a.add_argument("--pooling", default="mean", help="sentence pooling: mean (content tokens), cls, mean_all")
    a.add_argument("--metric", default="cosine", help="nearest-centroid and clustering metric: cosine, euclidean")
    a.add_argument("--linkage", default="average", help="hierarchical clustering linkage (average)")
    a.add_argument("--probe-c", type=float, default=1.0, help="inverse regularisation of the LID probe (1.0)")
    a.add_argument("--probe-max-iter", type=int, default=200, help="LID probe iterations (200)")
    a.add_argument("--projection", default="lstsq",
                   help="retrieval projection learned on the train pairs: lstsq, orthogonal or none")
    a.add_argument("--plot-layers", default="8,12", help="layers for dendrogram and projection plots (8,12)")
    a.add_argument("--save-projections", action="store_true",
                   help="also store the per-language projections in transform.npz (large: H x H per layer)")
    geo = p.add_argument_group("geometry (PUD)")
    geo.add_argument("--pud", default=None, help="folder of <xx>_pud-ud-test.conllu (default: $MBERT_LAB_DATA/ud-pud)")
    geo.add_argument("--pud-sentences", type=int, default=150,
                     help="sentences measured per language; as many others fit the centroid (150)")
    geo.add_argument("--no-geometry", action="store_true", help="skip the PUD word-space geometry")
    add_model_options(p, layers_default="all")
    add_output_options(p, "results/centroids")
    p.set_defaults(func=run)


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Source:
    """One language's sentences, and optionally a line-aligned English side."""

    lang: str
    path: Path
    eng_path: Path | None = None


def language_info(code: str) -> dict[str, str]:
    """ISO code -> {code, name, family, genus, script} from :mod:`mbert_lab.languages`
    (unknown code: ConfigError with a did-you-mean)."""
    from mbert_lab.languages import get_language

    lang = get_language(code)
    return {"code": lang.code, "name": lang.name, "family": lang.family, "genus": lang.genus, "script": lang.script}


_TATOEBA = re.compile(r"^tatoeba\.([a-z]{2,3})-eng\.([a-z]{2,3})$")


def tatoeba_sources(folder: Path) -> list[Source]:
    """The (xx, eng) file pairs of a Tatoeba folder, sorted by language code."""
    from mbert_lab.errors import DataMissingError

    if not folder.is_dir():
        raise DataMissingError(f"Tatoeba folder not found: {folder} (set MBERT_LAB_DATA or pass --tatoeba)")
    out = []
    for f in sorted(folder.iterdir()):
        m = _TATOEBA.match(f.name)
        if m and m.group(2) == m.group(1):
            eng = folder / f"tatoeba.{m.group(1)}-eng.eng"
            out.append(Source(m.group(1), f, eng if eng.exists() else None))
    if not out:
        raise DataMissingError(f"no tatoeba.<xxx>-eng.<xxx> files in {folder}")
    return out


def read_lines(path: Path) -> list[str]:
    """Lines of a UTF-8 file (:func:`mbert_lab.data.formats.read_lines`: no line ends, no
    BOM). An empty line is an error: it would get no vector and break line alignment."""
    from mbert_lab.data.formats import read_lines as _read
    from mbert_lab.errors import InputError

    lines = _read(path)
    for i, ln in enumerate(lines):
        if not ln.strip():
            raise InputError("empty line (every line must hold a sentence)", path=path, line=i + 1)
    return lines


@dataclass
class LoadedInputs:
    texts: dict[str, list[str]]  # lang -> sentences
    eng: dict[str, list[str]]  # lang -> line-aligned English (pairs only)
    info: dict[str, dict[str, str]]
    excluded: dict[str, str]
    files: dict[str, str]  # path -> sha256


def load_inputs(
    sources: Sequence[Source],
    min_sentences: int,
    languages: Sequence[str] | None = None,
    strict_codes: bool = True,
) -> LoadedInputs:
    """Read, validate and filter the sources.

    Unknown codes: a ConfigError when ``strict_codes`` (user-named files), else an exclusion.
    Paired files of different lengths: an InputError naming both. Fewer than
    ``min_sentences`` sentences: an exclusion with the reason.
    """
    from mbert_lab.errors import ConfigError, InputError
    from mbert_lab.io import sha256_file

    wanted = None
    if languages:
        wanted = set()
        for code in languages:
            wanted.add(language_info(code)["code"])  # unknown -> did-you-mean error
    texts: dict[str, list[str]] = {}
    eng: dict[str, list[str]] = {}
    info: dict[str, dict[str, str]] = {}
    excluded: dict[str, str] = {}
    files: dict[str, str] = {}
    seen_codes = set()
    for s in sources:
        try:
            li = language_info(s.lang)
        except ConfigError as e:
            if strict_codes:
                raise ConfigError(f"{s.path}: {e}") from None
            excluded[s.lang] = "unknown language code (not in mbert_lab.languages)"
            continue
        code = li["code"]
        seen_codes.add(code)
        if wanted is not None and code not in wanted:
            continue
        if code in texts:
            raise InputError(f"language '{code}' given twice", path=s.path)
        if s.eng_path is not None:
            from mbert_lab.data.formats import read_parallel

            # different line counts or an empty line: InputError naming the file (and line)
            par = read_parallel(s.path, s.eng_path, src_lang=code, tgt_lang="eng", empty="error")
            lines, en = par.src_sentences, par.tgt_sentences
        else:
            lines = read_lines(s.path)
        if len(lines) < min_sentences:
            excluded[code] = f"{len(lines)} sentences, fewer than --min-sentences {min_sentences}"
            continue
        texts[code] = lines
        info[code] = li
        files[str(s.path)] = sha256_file(s.path)
        if s.eng_path is not None:
            eng[code] = en
            files[str(s.eng_path)] = sha256_file(s.eng_path)
    if wanted is not None:
        for code in sorted(wanted - seen_codes):
            excluded[code] = "requested but no input file for it"
    if len(texts) < 2:
        raise InputError(
            f"at least 2 languages are needed, {len(texts)} remain"
            + (f" (excluded: {excluded})" if excluded else "")
        )
    return LoadedInputs(texts, eng, info, excluded, files)


# --------------------------------------------------------------------------- analysis wiring
def analyze_parallel_vectors(
    xx: Callable[[int], Mapping[str, Any]],
    eng: Callable[[int], Mapping[str, Any]] | None,
    layers: Sequence[int],
    info: Mapping[str, Mapping[str, str]],
    *,
    train_fraction: float = 0.5,
    min_per_split: int = 2,
    seed: int = 0,
    metric: str = "cosine",
    linkage: str = "average",
    probe_c: float = 1.0,
    probe_max_iter: int = 200,
    projection: str | None = "lstsq",
    progress: bool = False,
) -> tuple[dict[str, Any], Any]:
    """All sentence-level analyses, layer by layer.

    ``xx(layer)``: lang -> [n, H] sentence vectors; ``eng(layer)``: lang -> [n, H] line-aligned
    English vectors for the languages that have them (or None). Returns (payload, transform)
    where the transform centres by centroids fitted on the train split at every layer.
    """
    import numpy as np

    from mbert_lab.analyses import centroids as C

    first = xx(layers[0])
    sizes = {k: len(v) for k, v in first.items()}
    split = C.split_indices(sizes, train_fraction, min_sentences=min_per_split, seed=seed)
    langs = split.languages
    if len(langs) < 2:
        from mbert_lab.errors import InputError

        raise InputError(f"fewer than 2 languages left after the split (excluded: {split.excluded})")
    families = {k: info[k]["family"] for k in langs}
    scripts = {k: info[k]["script"] for k in langs}
    genera = {k: f"{info[k]['family']}/{info[k].get('genus', '')}" for k in langs}
    lid: dict[str, dict[str, Any]] = {"nearest_centroid": {}, "probe": {}}
    geometry: dict[str, Any] = {}
    retr: dict[str, dict[str, dict[str, list[float]]]] = {}
    fit_means: dict[str, list[np.ndarray]] = {k: [] for k in langs}  # train-split centroids by layer
    eng_langs: list[str] = []
    bar = _bar(len(layers), "layers", progress)
    for layer in layers:
        vx = first if layer == layers[0] else xx(layer)
        train = {k: np.asarray(vx[k])[split.train[k]] for k in langs}
        test = {k: np.asarray(vx[k])[split.test[k]] for k in langs}
        nc = C.nearest_centroid_lid(train, test, metric)
        pr = C.probe_lid(train, test, c=probe_c, max_iter=probe_max_iter, seed=seed)
        lid["nearest_centroid"][str(layer)] = C.to_jsonable(nc)
        lid["probe"][str(layer)] = C.to_jsonable(pr)
        cents = C.language_centroids(train)
        for k in langs:
            fit_means[k].append(cents[k])
        mat = np.stack([cents[k] for k in langs])
        cl = C.cluster_centroids(cents, metric, linkage)
        coords, explained = C.pca_2d(mat)
        geometry[str(layer)] = {
            "labels": langs,
            "cosine_distance": C.pairwise_distances(mat, "cosine").round(6).tolist(),
            "euclidean_distance": C.pairwise_distances(mat, "euclidean").round(6).tolist(),
            "clustering": C.to_jsonable(cl),
            "agreement": {
                "family": C.to_jsonable(C.cluster_agreement(cl, families)),
                "genus": C.to_jsonable(C.cluster_agreement(cl, genera)),
                "script": C.to_jsonable(C.cluster_agreement(cl, scripts)),
            },
            "pca": {"coords": coords.round(6).tolist(), "explained_variance": explained},
        }
        if eng is not None:
            ve = eng(layer)
            eng_langs = [k for k in langs if k in ve]
            for k in eng_langs:
                if len(ve[k]) != len(vx[k]):
                    from mbert_lab.errors import InputError

                    raise InputError(f"'{k}': {len(vx[k])} sentences but {len(ve[k])} English lines")
                res = C.retrieval_with_centering(
                    np.asarray(vx[k]), np.asarray(ve[k]), split.train[k], split.test[k], projection=projection
                )
                for cond, (a, b) in res.items():
                    d = retr.setdefault(k, {}).setdefault(cond, {"xx_to_eng": [], "eng_to_xx": []})
                    d["xx_to_eng"].append(a)
                    d["eng_to_xx"].append(b)
            if eng_langs and "eng" not in langs:
                ve_train = np.concatenate([np.asarray(ve[k])[split.train[k]] for k in eng_langs])
                fit_means.setdefault("eng", []).append(ve_train.mean(0))
        bar.update(1)
    bar.close()
    if "eng" in fit_means and len(fit_means["eng"]) != len(layers):
        fit_means.pop("eng")
    transform = C.LanguageTransform(
        tuple(layers),
        {k: np.stack(v).astype(np.float32) for k, v in fit_means.items()},
        provenance={"split": {"seed": seed, "train_fraction": train_fraction}, "fitted_on": "train split",
                    "eng_centroid": "pooled English sides (train rows) of all paired languages"},
    )
    retrieval: dict[str, Any] = {}
    if retr:
        conds = list(next(iter(retr.values())))
        retrieval = {
            "languages": eng_langs,
            "per_language": retr,
            "mean": {
                cond: {
                    d: [float(np.mean([retr[k][cond][d][i] for k in eng_langs])) for i in range(len(layers))]
                    for d in ("xx_to_eng", "eng_to_xx")
                }
                for cond in conds
            },
            "conditions": {
                "raw": "test rows, no transform",
                "centered": "test rows, each side minus its centroid fitted on the train rows",
                "projected": f"centered, then xx mapped onto English by a {projection} projection fitted on the train pairs",
                "all_raw": "all rows, no transform",
                "all_centered_in_sample": "all rows, each side minus its own mean over all rows (transductive)",
            },
        }
    payload = {
        "layers": list(layers),
        "languages": langs,
        "info": {k: dict(info[k]) for k in langs},
        "split": split.summary(),
        "lid": lid,
        "lid_accuracy_by_layer": {m: [lid[m][str(la)]["accuracy"] for la in layers] for m in lid},
        "centroid_geometry": geometry,
        "retrieval": retrieval,
        "note": "LID classes are the non-English languages; English sides serve retrieval only.",
    }
    return payload, transform


# --------------------------------------------------------------------------- PUD geometry
def pud_geometry(
    encoder: Any,
    store: Any,
    pud_dir: Path,
    layers: Sequence[int],
    n_sentences: int,
    seed: int = 0,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Anisotropy, self-similarity and intra-sentence similarity of word vectors per layer and
    language, raw and centred (centroid = mean word vector of *other* sentences)."""
    import numpy as np

    from mbert_lab.analyses import centroids as C
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.errors import DataMissingError, InputError
    from mbert_lab.io import sha256_file

    files = sorted(pud_dir.glob("*_pud-ud-test.conllu")) if pud_dir.is_dir() else []
    if not files:
        raise DataMissingError(f"no <xx>_pud-ud-test.conllu files in {pud_dir}")
    from mbert_lab.data.formats import read_conllu

    sents = {}
    for f in files:
        rows = read_conllu(f)
        missing = [r.line for r in rows if r.sent_id is None]
        if missing:
            raise InputError("sentence without '# sent_id' (needed to align PUD)", path=f, line=missing[0])
        sents[f.name.split("_")[0]] = [(r.sent_id, list(r.words), list(r.upos)) for r in rows]
    common = set.intersection(*(set(s for s, _, _ in v) for v in sents.values()))
    order = sorted(common)
    if len(order) < 2 * n_sentences:
        raise InputError(f"only {len(order)} sentence ids shared by all PUD files; need {2 * n_sentences}", path=pud_dir)
    rng = np.random.default_rng(seed)
    pick = [order[i] for i in sorted(rng.choice(len(order), 2 * n_sentences, replace=False))]
    measure_ids, fit_ids = pick[::2], pick[1::2]
    ex = Extractor(
        encoder,
        ExtractConfig(layers=tuple(range(encoder.num_layers + 1)), outputs=("word",), dtype="float16",
                      batch_size=batch_size),
        store=store,
        progress=False,
    )
    per_lang: dict[str, Any] = {}
    for code, rows in sorted(sents.items()):
        by_id = {s: (w, u) for s, w, u in rows}
        ids = measure_ids + fit_ids
        corpus = ex.encode([by_id[s][0] for s in ids], pretokenized=True, desc=f"PUD {code}")
        n_words = [len(by_id[s][0]) for s in ids]
        # self-similarity word types: lower-cased forms, punctuation and symbols left out
        types = [
            [w.lower() if u not in ("PUNCT", "SYM") else f"\x00{j}" for j, (w, u) in enumerate(zip(*by_id[s]))]
            for s in measure_ids
        ]
        res: dict[str, Any] = {"raw": {}, "centered": {}}
        for layer in layers:
            mat = corpus.word_matrix(layer)
            if len(mat) != sum(n_words):
                raise InputError(f"PUD {code}: {len(mat)} word vectors for {sum(n_words)} words")
            bounds = np.cumsum([0] + n_words)
            per_sent = [mat[bounds[i] : bounds[i + 1]] for i in range(len(ids))]
            meas, fit = per_sent[:n_sentences], per_sent[n_sentences:]
            center = np.concatenate(fit).astype(np.float64).mean(0)
            for kind, c in (("raw", None), ("centered", center)):
                g = C.geometry(meas, types, center=c, seed=seed)
                res[kind][str(layer)] = {**C.to_jsonable(g), "adjusted": C.to_jsonable(g.adjusted)}
        per_lang[code] = res
    langs = sorted(per_lang)
    mean: dict[str, Any] = {}
    for kind in ("raw", "centered"):
        mean[kind] = {
            m: [float(np.nanmean([_num(per_lang[k][kind][str(la)][m]) for k in langs])) for la in layers]
            for m in ("anisotropy", "self_similarity", "intra_sentence")
        }
    return {
        "languages": langs,
        "layers": list(layers),
        "n_sentences_measured": n_sentences,
        "n_sentences_centroid": n_sentences,
        "per_language": per_lang,
        "mean": mean,
        "files": {str(f): sha256_file(f) for f in files},
        "definitions": {
            "anisotropy": "mean cosine between random words of two different random sentences",
            "self_similarity": "mean over word types (lower-cased, punctuation excluded) of the mean pairwise "
            "cosine of the type's vectors in different sentences (<= 20 sentences per type)",
            "intra_sentence": "mean over sentences of the mean cosine between each word and the sentence's mean word",
            "centered": "word vectors minus the language's mean word vector over other PUD sentences",
        },
    }


def _num(v: Any) -> float:
    """JSON value -> float (None, i.e. NaN, stays NaN; 0.0 stays 0.0)."""
    return float("nan") if v is None else float(v)


# --------------------------------------------------------------------------- plots
def _colors(groups: Sequence[str]) -> dict[str, Any]:
    import matplotlib

    uniq = sorted(set(groups), key=lambda g: (-list(groups).count(g), g))  # biggest groups first
    # dark, distinct colours first (readable as label text), then the rest of tab20
    palette = [matplotlib.colormaps["tab10"](i) for i in range(10)]
    palette += [matplotlib.colormaps["Dark2"](i) for i in range(8)]
    palette += [matplotlib.colormaps["tab20"](i) for i in range(1, 20, 2)]
    return {g: palette[i % len(palette)] for i, g in enumerate(uniq)}


def plot_all(payload: Mapping[str, Any], out: Path, plot_layers: Sequence[int], title: str) -> dict[str, str]:
    """Dendrogram and PCA projection per plot layer, LID / retrieval / geometry by layer."""
    import numpy as np
    from scipy.cluster.hierarchy import dendrogram

    from mbert_lab.plots import new_figure, save_figure

    paths: dict[str, str] = {}
    info = payload["info"]
    layers = payload["layers"]
    for layer in plot_layers:
        g = payload["centroid_geometry"].get(str(layer))
        if g is None:
            continue
        labels = g["labels"]
        fams = [info[k]["family"] for k in labels]
        col = _colors(fams)
        fig, ax = new_figure(7, max(4.0, 0.17 * len(labels) + 1.5))
        dendrogram(np.asarray(g["clustering"]["linkage"]), labels=labels, orientation="left", ax=ax,
                   color_threshold=0, above_threshold_color="0.4", leaf_font_size=7)
        for t in ax.get_yticklabels():
            t.set_color(col[info[t.get_text()]["family"]])
        ag = g["agreement"]["family"]
        ax.set_title(f"{title}: centroids, layer {layer} ({g['clustering']['metric']}, "
                     f"{g['clustering']['method']})\nfamily agreement ARI {ag['adjusted_rand']:.2f}, "
                     f"purity {ag['purity']:.2f}; labels coloured by family", fontsize=9)
        ax.set_xlabel(f"{g['clustering']['metric']} distance")
        paths[f"dendrogram_L{layer}"] = str(save_figure(fig, out / f"dendrogram_L{layer}")[0])

        xy = np.asarray(g["pca"]["coords"])
        fig, axes = new_figure(13, 6, ncols=2)
        for ax, key in zip(axes, ("family", "script")):
            grp = [info[k][key] for k in labels]
            c = _colors(grp)
            for name in sorted(set(grp)):
                idx = [i for i, x in enumerate(grp) if x == name]
                ax.scatter(xy[idx, 0], xy[idx, 1], color=c[name], label=name, s=25)
            for i, k in enumerate(labels):
                ax.annotate(k, xy[i], fontsize=6, xytext=(2, 2), textcoords="offset points")
            ev = g["pca"]["explained_variance"]
            ax.set_xlabel(f"PC1 ({ev[0]:.0%})")
            ax.set_ylabel(f"PC2 ({ev[1]:.0%})")
            ax.set_title(f"centroids, layer {layer}, coloured by {key}", fontsize=9)
            ax.legend(fontsize=6, ncol=2, loc="best", markerscale=0.7)
        paths[f"projection_L{layer}"] = str(save_figure(fig, out / f"projection_L{layer}")[0])

    fig, ax = new_figure(7, 4)
    for m, acc in payload["lid_accuracy_by_layer"].items():
        ax.plot(layers, acc, marker="o", label=m.replace("_", " "))
    ax.set_xlabel("layer")
    ax.set_ylabel("LID accuracy (test split)")
    ax.set_title(f"{title}: language identification, {len(payload['languages'])} languages", fontsize=9)
    ax.legend()
    paths["lid_by_layer"] = str(save_figure(fig, out / "lid_by_layer")[0])

    if payload.get("retrieval"):
        mean = payload["retrieval"]["mean"]
        fig, ax = new_figure(8, 4.5)
        styles = {"raw": "-", "centered": "--", "projected": ":"}
        for cond, ls in styles.items():
            if cond not in mean:
                continue
            for d, color in (("xx_to_eng", "C0"), ("eng_to_xx", "C1")):
                ax.plot(layers, mean[cond][d], ls, color=color, marker=".", label=f"{d.replace('_', '->')} {cond}")
        ax.set_xlabel("layer")
        ax.set_ylabel("retrieval accuracy (mean over languages)")
        ax.set_title(f"{title}: Tatoeba-style retrieval, test split, "
                     f"{len(payload['retrieval']['languages'])} languages", fontsize=9)
        ax.legend(fontsize=7)
        paths["retrieval_by_layer"] = str(save_figure(fig, out / "retrieval_by_layer")[0])

    geo = payload.get("word_geometry")
    if geo:
        gl = geo["layers"]
        fig, axes = new_figure(15, 4.2, ncols=3)
        for ax, m in zip(axes, ("anisotropy", "self_similarity", "intra_sentence")):
            for i, k in enumerate(geo["languages"]):
                for kind, ls in (("raw", "-"), ("centered", "--")):
                    vals = [geo["per_language"][k][kind][str(la)][m] for la in gl]
                    vals = [np.nan if v is None else v for v in vals]
                    ax.plot(gl, vals, ls, color=f"C{i}", lw=0.8, alpha=0.6, label=f"{k}" if kind == "raw" else None)
            ax.plot(gl, geo["mean"]["raw"][m], "-", color="black", lw=2.2, label="mean, raw")
            ax.plot(gl, geo["mean"]["centered"][m], "--", color="black", lw=2.2, label="mean, centred")
            ax.set_title(m.replace("_", " "), fontsize=10)
            ax.set_xlabel("layer")
            ax.set_ylabel("cosine")
        axes[0].legend(fontsize=7)
        paths["geometry_by_layer"] = str(save_figure(fig, out / "geometry_by_layer")[0])
    return paths


# --------------------------------------------------------------------------- run
def _bar(total: int, desc: str, enabled: bool) -> Any:
    if enabled:
        try:
            from tqdm import tqdm

            return tqdm(total=total, desc=desc, file=sys.stderr)
        except ImportError:  # pragma: no cover
            pass

    class _No:
        def update(self, n: int) -> None:
            pass

        def close(self) -> None:
            pass

    return _No()


def _int_list(text: str, what: str) -> list[int]:
    from mbert_lab.errors import ConfigError

    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{what}: expected comma-separated integers, got '{text}'") from None


def run_centroids(
    encoder: Any,
    sources: Sequence[Source],
    out: Path,
    *,
    layers: Sequence[int] | None = None,
    store: Any = None,
    strict_codes: bool = True,
    languages: Sequence[str] | None = None,
    min_sentences: int = 500,
    train_fraction: float = 0.5,
    seed: int = 0,
    pooling: str = "mean",
    metric: str = "cosine",
    linkage: str = "average",
    probe_c: float = 1.0,
    probe_max_iter: int = 200,
    projection: str | None = "lstsq",
    plot_layers: Sequence[int] = (8, 12),
    pud_dir: Path | None = None,
    pud_sentences: int = 150,
    save_projections: bool = False,
    batch_size: int = 64,
    progress: bool = True,
    config: Mapping[str, Any] | None = None,
    loaded: LoadedInputs | None = None,
) -> dict[str, Any]:
    """The whole command on a loaded encoder; returns {results, payload, transform, plots}.
    ``loaded``: inputs already read by :func:`load_inputs` (else read from ``sources``)."""
    from mbert_lab.analyses.centroids import Metric, ProjectionMethod
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.errors import choice_error
    from mbert_lab.results import DatasetProvenance, Provenance, record

    if pooling not in POOLINGS:
        raise choice_error("sentence pooling", pooling, POOLINGS)
    Metric.parse(metric)
    if projection is not None:
        ProjectionMethod.parse(projection)
    all_layers = tuple(range(encoder.num_layers + 1))
    layers = list(layers) if layers is not None else list(all_layers)
    if loaded is None:
        loaded = load_inputs(sources, min_sentences, languages, strict_codes)
    for code, why in loaded.excluded.items():
        print(f"[centroids] excluded {code}: {why}", file=sys.stderr)
    # Exactly this config for every file: the vector store then shares the vectors with every
    # other analysis that encodes the same files (all layers, sentence outputs, raw text).
    ex = Extractor(encoder, ExtractConfig(layers=all_layers, outputs=("sentence",), batch_size=batch_size),
                   store=store, progress=progress)
    corp_xx = {k: ex.encode(v, desc=f"{k}") for k, v in loaded.texts.items()}
    corp_en = {k: ex.encode(v, desc=f"{k} (eng side)") for k, v in loaded.eng.items()}

    def xx(layer: int) -> dict[str, Any]:
        return {k: c.sentence(layer, pooling) for k, c in corp_xx.items()}

    def en(layer: int) -> dict[str, Any]:
        return {k: c.sentence(layer, pooling) for k, c in corp_en.items()}

    payload, transform = analyze_parallel_vectors(
        xx, en if corp_en else None, layers, loaded.info,
        train_fraction=train_fraction, min_per_split=2, seed=seed, metric=metric, linkage=linkage,
        probe_c=probe_c, probe_max_iter=probe_max_iter, projection=projection, progress=progress,
    )
    payload["excluded"] = {**loaded.excluded, **payload["split"]["excluded"]}
    datasets = [DatasetProvenance(name="sentences", files=loaded.files, split=f"train {train_fraction}",
                                  languages=tuple(payload["languages"]))]
    if pud_dir is not None:
        payload["word_geometry"] = pud_geometry(encoder, store, pud_dir, layers, pud_sentences, seed, batch_size)
        datasets.append(DatasetProvenance(name="ud-pud", files=payload["word_geometry"]["files"],
                                          languages=tuple(payload["word_geometry"]["languages"])))
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(config or {})
    cfg.update({"pooling": pooling, "metric": metric, "linkage": linkage, "train_fraction": train_fraction,
                "seed": seed, "min_sentences": min_sentences, "probe_c": probe_c,
                "probe_max_iter": probe_max_iter, "projection": projection, "pud_sentences": pud_sentences})
    prov = Provenance.collect(config=cfg, model=encoder.provenance, layers=layers, pooling=pooling, datasets=datasets)
    if save_projections and projection is not None and loaded.eng:
        pairs = {}
        for k, c in corp_xx.items():
            if k in corp_en and k in payload["split"]["n_train"]:
                from mbert_lab.analyses.centroids import split_indices

                tr = split_indices({k: len(c)}, train_fraction, 2, seed).train[k]
                pairs[k] = {la: (c.sentence(la, pooling)[tr], corp_en[k].sentence(la, pooling)[tr]) for la in layers}
        transform = transform.add_projections("eng", pairs, method=projection)
    import dataclasses

    transform.provenance.update({"provenance": dataclasses.asdict(prov)})
    tpaths = transform.save(out / "transform")
    payload["transform"] = {"npz": str(tpaths[0]), "json": str(tpaths[1])}
    payload["plots"] = plot_all(payload, out, [la for la in plot_layers if la in layers], encoder.label)
    res_path = record("centroids", payload, prov).save(out / "centroids.json")
    return {"results": str(res_path), "payload": payload, "transform": payload["transform"], "plots": payload["plots"]}


def summary_lines(payload: Mapping[str, Any]) -> list[str]:
    layers = payload["layers"]
    lines = [f"{len(payload['languages'])} languages; excluded: {len(payload.get('excluded', {}))}"]
    lines.append("layer  LID-centroid  LID-probe" + ("  retr xx->eng raw/centred  eng->xx raw/centred" if payload.get("retrieval") else ""))
    for i, la in enumerate(layers):
        row = f"{la:>5}  {payload['lid_accuracy_by_layer']['nearest_centroid'][i]:>12.3f}  {payload['lid_accuracy_by_layer']['probe'][i]:>9.3f}"
        if payload.get("retrieval"):
            m = payload["retrieval"]["mean"]
            row += (f"  {m['raw']['xx_to_eng'][i]:>10.3f} / {m['centered']['xx_to_eng'][i]:.3f}"
                    f"        {m['raw']['eng_to_xx'][i]:.3f} / {m['centered']['eng_to_xx'][i]:.3f}")
        lines.append(row)
    return lines


def run(args: argparse.Namespace) -> int:
    from mbert_lab.encode import default_store
    from mbert_lab.errors import ConfigError
    from mbert_lab.models.registry import load_encoder, parse_layers
    from mbert_lab.paths import data_root

    sources: list[Source] = []
    strict = True
    if args.tatoeba or not (args.file or args.pair):
        folder = Path(args.tatoeba) if args.tatoeba else data_root() / "tatoeba" / "v1"
        sources += tatoeba_sources(folder)
        strict = False  # a scanned folder: unknown codes are reported exclusions
    if (args.file or args.pair) and not strict:
        raise ConfigError("use either --tatoeba or --file/--pair, not both")
    sources += [Source(lang, Path(p)) for lang, p in args.file]
    sources += [Source(lang, Path(p), Path(e)) for lang, p, e in args.pair]
    if args.min_sentences < 2:
        raise ConfigError(f"--min-sentences must be >= 2, got {args.min_sentences}")
    projection = None if args.projection == "none" else args.projection
    pud = None
    if not args.no_geometry:
        pud = Path(args.pud) if args.pud else data_root() / "ud-pud"
    from mbert_lab.analyses.centroids import Metric, ProjectionMethod
    from mbert_lab.errors import choice_error

    # every cheap check before the model is loaded
    Metric.parse(args.metric)
    if projection is not None:
        ProjectionMethod.parse(projection)
    if args.pooling not in POOLINGS:
        raise choice_error("sentence pooling", args.pooling, POOLINGS)
    plot_layers = _int_list(args.plot_layers, "--plot-layers")
    langs = [x.strip() for x in args.languages.split(",") if x.strip()] if args.languages else None
    loaded = load_inputs(sources, args.min_sentences, langs, strict)
    enc = load_encoder(args.model, revision=args.revision, device=args.device)
    layers = parse_layers(args.layers, enc.num_layers)
    res = run_centroids(
        enc, sources, Path(args.out), layers=layers, store=None if args.no_cache else default_store(),
        strict_codes=strict, languages=langs, min_sentences=args.min_sentences,
        train_fraction=args.train_fraction, seed=args.seed, pooling=args.pooling, metric=args.metric,
        linkage=args.linkage, probe_c=args.probe_c, probe_max_iter=args.probe_max_iter,
        projection=projection, plot_layers=plot_layers, pud_dir=pud,
        pud_sentences=args.pud_sentences, save_projections=args.save_projections,
        batch_size=args.batch_size, config={"argv": sys.argv[1:]}, loaded=loaded,
    )
    for line in summary_lines(res["payload"]):
        print(line)
    print(f"results: {res['results']}")
    for name, p in res["plots"].items():
        print(f"plot {name}: {p}")
    return 0


# --------------------------------------------------------------------------- demo
def demo_section(ctx: Any) -> str:
    """Demo: centroids, LID (nearest centroid and probe) and a dendrogram on the embedded
    corpus (translations of Django's messages; the English sides serve retrieval)."""
    from mbert_lab.errors import ConfigError
    from mbert_lab.results import record

    out = Path(ctx.out) / "centroids"
    layers = list(range(ctx.encoder.num_layers + 1))
    info: dict[str, dict[str, str]] = {}
    xs: dict[str, Any] = {}
    es: dict[str, Any] = {}
    for lang, pairs in ctx.parallel.items():
        if len(pairs) < 20:
            continue
        try:
            li = language_info(lang)
        except ConfigError:
            continue
        info[lang] = {**li, "code": lang}
        es[lang] = ctx.extract([p[0] for p in pairs], layers)
        xs[lang] = ctx.extract([p[1] for p in pairs], layers)
    payload, _ = analyze_parallel_vectors(
        lambda la: {k: c.sentence(la) for k, c in xs.items()},
        lambda la: {k: c.sentence(la) for k, c in es.items()},
        layers, info, projection=None,
    )
    plot_layer = layers[-1]
    payload["plots"] = plot_all(payload, out, [plot_layer], ctx.encoder.label)
    record("demo.centroids", payload, ctx.provenance({"pooling": "mean"}, layers, "mean")).save(out / "centroids.json")
    nc, pr = payload["lid_accuracy_by_layer"]["nearest_centroid"], payload["lid_accuracy_by_layer"]["probe"]
    best = max(range(len(layers)), key=lambda i: nc[i])
    ag = payload["centroid_geometry"][str(plot_layer)]["agreement"]["family"]
    mean = payload["retrieval"]["mean"]
    return (
        f"centroids: {len(payload['languages'])} languages; nearest-centroid LID best at layer {layers[best]} "
        f"({nc[best]:.3f}; probe {pr[best]:.3f}), last layer {nc[-1]:.3f} / probe {pr[-1]:.3f}; "
        f"retrieval xx->eng at the last layer {mean['raw']['xx_to_eng'][-1]:.3f} raw, "
        f"{mean['centered']['xx_to_eng'][-1]:.3f} centred; family agreement of the layer-{plot_layer} "
        f"clustering ARI {ag['adjusted_rand']:.2f}; dendrogram: {payload['plots'].get(f'dendrogram_L{plot_layer}')}"
    )
