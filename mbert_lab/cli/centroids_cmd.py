"""``mbert-lab centroids``: language centroids, LID, centroid clustering, the geometry of the
word space and centering for retrieval (study: ``centroids``, :mod:`mbert_lab.studies.centroids`).

argparse -> :class:`CentroidsConfig` -> :func:`centroids` -> JSON + transform + plots.
"""

from __future__ import annotations

import argparse

from .common import add_model_options, add_output_options, check_out, model_fields, print_config, split_list, with_command

EXAMPLES = """examples:
  # every Tatoeba language with >= 500 sentences (the default input), all layers:
  mbert-lab centroids --out results/centroids   # [long]: all Tatoeba languages
  # a few Tatoeba languages, faster: no PUD geometry, plots at layer 12 only
  mbert-lab centroids --languages deu,fra,rus,cmn,jpn --layers 0,8,12 --no-geometry --plot-layers 12   # [long]
  # your own files: one sentence per line; --pair adds line-aligned English (retrieval)
  mbert-lab centroids --file de=de.txt --file fr=fr.txt --pair es es.txt es-en.en.txt --min-sentences 100 --no-geometry
  # lang<TAB>text files, or CoNLL-U treebanks (a sentence = its words joined by spaces)
  mbert-lab centroids --tsv sentences.tsv --min-sentences 50 --no-geometry
  mbert-lab centroids --conllu fi=fi_tdt-ud-test.conllu --conllu et=et_edt-ud-test.conllu --min-sentences 50 --no-geometry

Outputs in --out: centroids.json (LID by layer with confusions, centroid distances, clustering
and family agreement, retrieval raw/centred, word-space geometry, exclusions, with provenance),
transform.npz/.json (centering transform fitted on the train split), dendrogram_L<l>,
projection_L<l>, lid_by_layer, retrieval_by_layer, geometry_by_layer (.png/.svg).
Each language is split (seeded) into train and test rows; best layers are chosen on a dev part
of the train rows and reported on test. Languages below --min-sentences are excluded and listed.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "centroids",
        help="language centroids, LID, centroid clustering, space geometry, centering and retrieval",
        description="Language centroids and language neutrality (Libovický et al. 2019/2020) and the "
        "geometry of the space (Ethayarajh 2019) for an encoder, over language-tagged sentences.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("input (default: the Tatoeba test sets of the data root)")
    g.add_argument("--tatoeba", default=None,
                   help="Tatoeba folder with tatoeba.<xxx>-eng.<xxx|eng> (default: $MBERT_LAB_DATA/tatoeba/v1)")
    g.add_argument("--file", nargs="+", action="append", metavar="LANG=PATH", default=[],
                   help="a file of LANG sentences, one per line: LANG=PATH or LANG PATH (repeatable)")
    g.add_argument("--pair", nargs=3, action="append", metavar=("LANG", "XX_PATH", "ENG_PATH"), default=[],
                   help="line-aligned LANG and English files; adds retrieval (repeatable)")
    g.add_argument("--tsv", action="append", default=[], metavar="PATH",
                   help="a file of 'lang<TAB>text' rows (repeatable)")
    g.add_argument("--conllu", action="append", default=[], metavar="LANG=PATH",
                   help="a CoNLL-U file of LANG (e.g. a UD treebank; repeatable)")
    g.add_argument("--languages", default=None, help="comma-separated subset of languages (ISO 639-1 or 639-3)")
    g.add_argument("--min-sentences", type=int, default=500,
                   help="languages with fewer sentences are excluded and reported (default 500)")
    g.add_argument("--max-sentences", type=int, default=None,
                   help="use at most the first N sentences of each language (default: all)")
    a = p.add_argument_group("analysis")
    a.add_argument("--train-fraction", type=float, default=0.5, help="share of each language for training (0.5)")
    a.add_argument("--dev-fraction", type=float, default=0.2,
                   help="share of the training rows held out to choose best layers (0.2)")
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


def _file_items(values: list[list[str]]) -> tuple[str, ...]:
    """``--file de=de.txt`` or ``--file de de.txt`` -> ``('de=de.txt', ...)``."""
    from ..errors import ConfigError

    out = []
    for v in values:
        if len(v) == 1 and "=" in v[0]:
            out.append(v[0])
        elif len(v) == 2 and "=" not in v[0]:
            out.append(f"{v[0]}={v[1]}")
        else:
            raise ConfigError(f"--file: expected LANG=PATH or LANG PATH, got {' '.join(v)!r}")
    return tuple(out)


def _plot_layers(text: str) -> list[int] | None:
    """``8,12`` -> ``[8, 12]``; ``all`` -> ``None`` (every analysed layer); ``last`` -> ``[-1]``."""
    from ..studies.base import parse_layers_spec

    spec = parse_layers_spec("--plot-layers", text)
    return None if spec == "all" else [-1] if spec == "last" else list(spec)


def config_from_args(args: argparse.Namespace) -> object:
    from ..studies.centroids import CentroidsConfig

    return CentroidsConfig(
        tatoeba=args.tatoeba, files=_file_items(args.file), pairs={lang: [x, e] for lang, x, e in args.pair},
        tsv=tuple(args.tsv), conllu=tuple(args.conllu), languages=split_list(args.languages) or (),
        min_sentences=args.min_sentences, max_sentences=args.max_sentences,
        train_fraction=args.train_fraction, dev_fraction=args.dev_fraction, seed=args.seed,
        pooling=args.pooling, metric=args.metric, linkage=args.linkage, probe_c=args.probe_c,
        probe_max_iter=args.probe_max_iter, projection=args.projection,
        save_projections=args.save_projections, geometry=not args.no_geometry, pud=args.pud,
        pud_sentences=args.pud_sentences, **model_fields(args),
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from ..plots.centroids import plot_all
    from ..studies.centroids import centroids

    cfg = config_from_args(args)
    plot_layers = _plot_layers(args.plot_layers)
    if print_config(args, cfg, out=args.out):
        return 0
    check_out("--out", args.out)
    result = with_command(centroids(cfg))  # type: ignore[arg-type]
    for code, why in result.excluded.items():
        print(f"[centroids] excluded {code}: {why}", file=sys.stderr)
    out = Path(args.out)
    path = result.save(out)
    layers = list(result.layers)
    plots = plot_all(result, out, layers if plot_layers is None else [layers[-1] if la == -1 else la for la in plot_layers])
    print("\n".join(result.summary()))
    print(f"results: {path}")
    for name, p in plots.items():
        print(f"plot {name}: {p}")
    return 0
