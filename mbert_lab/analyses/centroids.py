"""Language centroids, language neutrality and the geometry of the representation space.

Pure numpy/scipy/scikit-learn core (no model, no files): it receives sentence or word
vectors grouped by language and returns arrays and frozen records. Reproduces and extends
Libovický et al. ("How language-neutral is multilingual BERT?", 2019; "On the language
neutrality of pre-trained multilingual representations", 2020) and the geometry measures
of Ethayarajh (2019, "How contextual are contextualized word representations?").

What is here:

- :func:`language_centroids`: the mean vector of each language (callers pass mean-pooled
  sentence vectors over real tokens only: the extractor never lets padding in).
- :func:`split_indices`: a seeded, per-language train/test split whose halves are disjoint;
  languages too small for it are excluded *with a reason* (never silently).
- :class:`LanguageTransform`: centering by the language centroid (fitted on one split,
  applied to another) and an optional linear projection onto a pivot language learned from
  a small parallel set; saved as ``.npz`` + ``.json`` with its provenance.
- :func:`nearest_centroid_lid`, :func:`probe_lid`: language identification with accuracy,
  per-language accuracy, the confusion matrix and the most-confused pairs.
- :func:`pairwise_distances`, :func:`cluster_centroids`, :func:`cluster_agreement`,
  :func:`pca_2d`: centroid geometry, hierarchical clustering and its agreement with families.
- :func:`anisotropy`, :func:`self_similarity`, :func:`intra_sentence_similarity`: the
  geometry of the word space, per layer and language, with or without centering.
- :func:`retrieval_accuracy`: cosine 1-NN accuracy of line-aligned parallel vectors.

>>> import numpy as np
>>> c = language_centroids({"a": np.array([[0., 2.], [2., 0.]]), "b": np.array([[4., 4.]])})
>>> c["a"].tolist(), c["b"].tolist()
([1.0, 1.0], [4.0, 4.0])
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError, choice_error

TRANSFORM_FORMAT = "mbert-lab/language-transform"
TRANSFORM_VERSION = 1


class Metric(str, enum.Enum):
    """Distance / similarity used between vectors."""

    COSINE = "cosine"
    EUCLIDEAN = "euclidean"

    @classmethod
    def parse(cls, value: str | Metric) -> Metric:
        try:
            return cls(value)
        except ValueError:
            raise choice_error("metric", value, [m.value for m in cls]) from None


class ProjectionMethod(str, enum.Enum):
    """How a language's (centred) space is mapped onto the pivot's."""

    LSTSQ = "lstsq"  # ridge-regularised least squares: any linear map
    ORTHOGONAL = "orthogonal"  # Procrustes: a rotation, distances kept

    @classmethod
    def parse(cls, value: str | ProjectionMethod) -> ProjectionMethod:
        try:
            return cls(value)
        except ValueError:
            raise choice_error("projection method", value, [m.value for m in cls]) from None


# --------------------------------------------------------------------------- helpers
def _as2d(x: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ConfigError(f"{what}: expected a 2-D array [n, dim], got shape {a.shape}")
    return a


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero).

    >>> l2_normalize(np.array([[3., 4.], [0., 0.]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, eps)


def _stable_seed(seed: int, *parts: str) -> int:
    """A seed that depends on ``seed`` and the names only (not on dict order or the other
    languages present), so a language's split is the same in every run."""
    h = hashlib.sha256(("\x1f".join([str(seed), *parts])).encode()).digest()
    return int.from_bytes(h[:8], "little")


# --------------------------------------------------------------------------- centroids
def language_centroids(vectors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Language -> mean of its vectors ([n, H] -> [H]). An empty language is an error."""
    out: dict[str, np.ndarray] = {}
    for lang, v in vectors.items():
        a = _as2d(v, f"vectors of '{lang}'")
        if len(a) == 0:
            raise InputError(f"language '{lang}' has no vectors to average")
        out[lang] = a.mean(axis=0)
    return out


@dataclass(frozen=True)
class Split:
    """Disjoint index sets per language. ``excluded``: language -> why it was left out."""

    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    excluded: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    train_fraction: float = 0.5

    @property
    def languages(self) -> list[str]:
        return list(self.train)

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "train_fraction": self.train_fraction,
            "n_train": {k: int(len(v)) for k, v in self.train.items()},
            "n_test": {k: int(len(v)) for k, v in self.test.items()},
            "excluded": dict(self.excluded),
        }


def split_indices(
    sizes: Mapping[str, int],
    train_fraction: float = 0.5,
    min_sentences: int = 20,
    seed: int = 0,
) -> Split:
    """Random per-language split of ``range(n)`` into disjoint train and test indices.

    Languages with fewer than ``min_sentences`` items (or where one side would be empty) are
    excluded and listed in ``Split.excluded`` with the reason.

    >>> s = split_indices({"a": 10, "b": 3}, min_sentences=4)
    >>> sorted(np.concatenate([s.train["a"], s.test["a"]]).tolist()) == list(range(10)), s.excluded
    (True, {'b': '3 sentences, fewer than the 4 needed for the train/test split'})
    """
    if not 0.0 < train_fraction < 1.0:
        raise ConfigError(f"train fraction must be strictly between 0 and 1, got {train_fraction}")
    train: dict[str, np.ndarray] = {}
    test: dict[str, np.ndarray] = {}
    excluded: dict[str, str] = {}
    for lang, n in sizes.items():
        n = int(n)
        n_train = int(round(n * train_fraction))
        if n < max(min_sentences, 2) or n_train < 1 or n - n_train < 1:
            excluded[lang] = (
                f"{n} sentences, fewer than the {max(min_sentences, 2)} needed for the train/test split"
            )
            continue
        perm = np.random.default_rng(_stable_seed(seed, lang)).permutation(n)
        train[lang] = np.sort(perm[:n_train])
        test[lang] = np.sort(perm[n_train:])
    return Split(train=train, test=test, excluded=excluded, seed=seed, train_fraction=train_fraction)


# --------------------------------------------------------------------------- transforms
def fit_projection(
    src: np.ndarray,
    tgt: np.ndarray,
    method: str | ProjectionMethod = ProjectionMethod.LSTSQ,
    ridge: float = 1e-2,
) -> np.ndarray:
    """A matrix ``W`` [H, H] with ``src @ W ≈ tgt`` for row-aligned parallel vectors.

    ``lstsq``: ridge least squares ``(XᵀX + λ·mean(diag)·I)⁻¹ XᵀY`` (the ridge keeps it
    defined when the parallel set has fewer pairs than dimensions); ``orthogonal``: the
    Procrustes rotation ``U Vᵀ`` from ``svd(XᵀY)``.
    """
    method = ProjectionMethod.parse(method)
    x = _as2d(src, "projection source")
    y = _as2d(tgt, "projection target")
    if x.shape != y.shape:
        raise InputError(f"parallel set: source {x.shape} and target {y.shape} differ in shape")
    if len(x) < 2:
        raise InputError("parallel set: at least 2 pairs are needed to learn a projection")
    if method is ProjectionMethod.ORTHOGONAL:
        u, _, vt = np.linalg.svd(x.T @ y)
        return u @ vt
    g = x.T @ x
    lam = ridge * max(float(np.mean(np.diag(g))), 1e-12)
    return np.linalg.solve(g + lam * np.eye(g.shape[0]), x.T @ y)


@dataclass
class LanguageTransform:
    """Language-neutral transform: ``x -> (x - centroid[lang, layer]) @ projection[lang, layer]``.

    ``centroids[lang]`` is [n_layers, H] in the order of ``layers``; ``projections[lang]``
    (optional, [n_layers, H, H]) maps the centred space of ``lang`` onto the centred space of
    ``pivot`` (the pivot itself is never projected). ``provenance`` is free JSON (model,
    data, split, config) saved with the arrays.

    >>> t = LanguageTransform.fit({"a": {0: np.array([[1., 1.], [3., 3.]])}})
    >>> t.apply(np.array([[2., 5.]]), "a", 0).tolist()
    [[0.0, 3.0]]
    """

    layers: tuple[int, ...]
    centroids: dict[str, np.ndarray]
    projections: dict[str, np.ndarray] = field(default_factory=dict)
    pivot: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        vectors: Mapping[str, Mapping[int, np.ndarray]],
        provenance: Mapping[str, Any] | None = None,
    ) -> LanguageTransform:
        """Centroids from ``vectors[lang][layer]`` ([n, H]); every language needs every layer."""
        if not vectors:
            raise InputError("no languages to fit a transform on")
        layer_sets = {lang: tuple(sorted(d)) for lang, d in vectors.items()}
        layers = next(iter(layer_sets.values()))
        for lang, ls in layer_sets.items():
            if ls != layers:
                raise InputError(f"language '{lang}' has layers {list(ls)}, others {list(layers)}")
        cents = {
            lang: np.stack([language_centroids({lang: d[layer]})[lang] for layer in layers]).astype(np.float32)
            for lang, d in vectors.items()
        }
        return cls(layers=layers, centroids=cents, provenance=dict(provenance or {}))

    def add_projections(
        self,
        pivot: str,
        parallel: Mapping[str, Mapping[int, tuple[np.ndarray, np.ndarray]]],
        method: str | ProjectionMethod = ProjectionMethod.LSTSQ,
        ridge: float = 1e-2,
    ) -> LanguageTransform:
        """Learn, per language and layer, a map of centred ``lang`` vectors onto centred
        ``pivot`` vectors from ``parallel[lang][layer] = (lang_vectors, pivot_vectors)``
        (row-aligned translations). Returns a new transform."""
        if pivot not in self.centroids:
            raise InputError(f"pivot language '{pivot}' has no centroid in this transform")
        method = ProjectionMethod.parse(method)
        projs = dict(self.projections)
        for lang, per_layer in parallel.items():
            if lang == pivot:
                continue
            if lang not in self.centroids:
                raise InputError(f"language '{lang}' has no centroid in this transform")
            mats = []
            for layer in self.layers:
                if layer not in per_layer:
                    raise InputError(f"parallel set for '{lang}' lacks layer {layer}")
                x, y = per_layer[layer]
                mats.append(
                    fit_projection(
                        self.center(x, lang, layer), self.center(y, pivot, layer), method, ridge
                    ).astype(np.float32)
                )
            projs[lang] = np.stack(mats)
        prov = dict(self.provenance)
        prov["projection"] = {"pivot": pivot, "method": method.value, "ridge": ridge}
        return LanguageTransform(self.layers, dict(self.centroids), projs, pivot, prov)

    def _li(self, lang: str, layer: int) -> int:
        if lang not in self.centroids:
            raise choice_error("language (no centroid fitted)", lang, self.centroids)
        if layer not in self.layers:
            raise ConfigError(f"layer {layer} not in this transform (has {list(self.layers)})")
        return self.layers.index(layer)

    def center(self, x: np.ndarray, lang: str, layer: int) -> np.ndarray:
        """``x`` minus the centroid of ``lang`` at ``layer``."""
        li = self._li(lang, layer)
        return np.asarray(x, dtype=np.float64) - self.centroids[lang][li]

    def apply(self, x: np.ndarray, lang: str, layer: int, project: bool = True) -> np.ndarray:
        """Centre ``x`` ([n, H]) by its language's centroid, then project it if a projection
        was learned for ``lang`` (and ``project``)."""
        y = self.center(x, lang, layer)
        if project and lang in self.projections:
            y = y @ self.projections[lang][self._li(lang, layer)]
        return y

    # ---------------------------------------------------------------- save / load
    def save(self, stem: str | Path) -> tuple[Path, Path]:
        """Write ``stem.npz`` (arrays) and ``stem.json`` (layers, languages, provenance and
        the npz's sha256) atomically."""
        import io as _io

        from ..io import atomic_write_bytes, atomic_write_json

        stem = Path(stem)
        arrays = {f"centroid/{k}": v for k, v in self.centroids.items()}
        arrays.update({f"projection/{k}": v for k, v in self.projections.items()})
        buf = _io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        data = buf.getvalue()
        npz, meta = stem.with_suffix(".npz"), stem.with_suffix(".json")
        atomic_write_bytes(npz, data)
        atomic_write_json(
            meta,
            {
                "format": TRANSFORM_FORMAT,
                "version": TRANSFORM_VERSION,
                "layers": list(self.layers),
                "languages": sorted(self.centroids),
                "projected_languages": sorted(self.projections),
                "pivot": self.pivot,
                "npz_sha256": hashlib.sha256(data).hexdigest(),
                "provenance": self.provenance,
            },
        )
        return npz, meta

    @classmethod
    def load(cls, stem: str | Path) -> LanguageTransform:
        stem = Path(stem)
        meta_path, npz_path = stem.with_suffix(".json"), stem.with_suffix(".npz")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = npz_path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read language transform: {e}", path=str(stem)) from e
        if meta.get("format") != TRANSFORM_FORMAT or int(meta.get("version", -1)) != TRANSFORM_VERSION:
            raise InputError(
                f"not a version-{TRANSFORM_VERSION} language transform "
                f"(format {meta.get('format')!r}, version {meta.get('version')!r})",
                path=meta_path,
            )
        if hashlib.sha256(data).hexdigest() != meta.get("npz_sha256"):
            raise InputError("arrays do not match the checksum in the metadata", path=npz_path)
        import io as _io

        with np.load(_io.BytesIO(data)) as z:
            cents = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("centroid/")}
            projs = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("projection/")}
        return cls(tuple(meta["layers"]), cents, projs, meta.get("pivot"), meta.get("provenance", {}))


# --------------------------------------------------------------------------- LID
@dataclass(frozen=True)
class LidResult:
    """Language identification on a test split.

    ``confusion[i][j]``: test items of ``labels[i]`` predicted as ``labels[j]``.
    ``most_confused``: off-diagonal cells, largest first: ``(true, predicted, count, rate)``
    where rate is the share of the true language's test items.
    """

    method: str
    accuracy: float
    per_language: dict[str, float]
    labels: list[str]
    confusion: list[list[int]]
    most_confused: list[tuple[str, str, int, float]]
    n_train: int
    n_test: int


def _stack(groups: Mapping[str, np.ndarray], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i, lang in enumerate(labels):
        a = _as2d(groups[lang], f"vectors of '{lang}'")
        xs.append(a)
        ys.append(np.full(len(a), i, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _lid_result(method: str, y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], n_train: int, top: int) -> LidResult:
    k = len(labels)
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (y_true, y_pred), 1)
    totals = conf.sum(axis=1)
    per = {lang: float(conf[i, i] / totals[i]) if totals[i] else float("nan") for i, lang in enumerate(labels)}
    off = [
        (labels[i], labels[j], int(conf[i, j]), float(conf[i, j] / totals[i]))
        for i in range(k)
        for j in range(k)
        if i != j and conf[i, j] > 0
    ]
    off.sort(key=lambda t: (-t[2], -t[3], t[0], t[1]))
    return LidResult(
        method=method,
        accuracy=float(np.trace(conf) / max(conf.sum(), 1)),
        per_language=per,
        labels=list(labels),
        confusion=conf.tolist(),
        most_confused=off[:top],
        n_train=int(n_train),
        n_test=int(len(y_true)),
    )


def _check_groups(train: Mapping[str, np.ndarray], test: Mapping[str, np.ndarray]) -> list[str]:
    labels = list(train)
    if len(labels) < 2:
        raise InputError(f"language identification needs at least 2 languages, got {labels}")
    missing = [lang for lang in test if lang not in train]
    if missing:
        raise InputError(f"test languages without training data: {missing}")
    for lang in labels:
        if len(train[lang]) == 0:
            raise InputError(f"language '{lang}' has no training vectors")
    return labels


def nearest_centroid_lid(
    train: Mapping[str, np.ndarray],
    test: Mapping[str, np.ndarray],
    metric: str | Metric = Metric.COSINE,
    top_confused: int = 20,
) -> LidResult:
    """Predict each test vector's language as its nearest training centroid."""
    metric = Metric.parse(metric)
    labels = _check_groups(train, test)
    cents = np.stack([language_centroids({lang: train[lang]})[lang] for lang in labels])
    test_labels = [lang for lang in labels if lang in test]
    x, y = _stack(test, test_labels)
    y = np.asarray([labels.index(test_labels[i]) for i in y], dtype=np.int64)
    pred = np.argmin(pairwise_distances(x, metric, cents), axis=1)
    n_train = sum(len(train[lang]) for lang in labels)
    return _lid_result(f"nearest-centroid/{metric.value}", y, pred, labels, n_train, top_confused)


def probe_lid(
    train: Mapping[str, np.ndarray],
    test: Mapping[str, np.ndarray],
    c: float = 1.0,
    max_iter: int = 300,
    seed: int = 0,
    top_confused: int = 20,
) -> LidResult:
    """A multinomial logistic-regression probe (scikit-learn) on standardised vectors,
    trained on ``train`` and evaluated on ``test``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = _check_groups(train, test)
    xtr, ytr = _stack(train, labels)
    test_labels = [lang for lang in labels if lang in test]
    xte, yte = _stack(test, test_labels)
    yte = np.asarray([labels.index(test_labels[i]) for i in yte], dtype=np.int64)
    clf = make_pipeline(
        StandardScaler(), LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    )
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(xtr.astype(np.float32), ytr)
    pred = clf.predict(xte.astype(np.float32))
    return _lid_result(f"logistic-probe/C={c}", yte, pred, labels, len(ytr), top_confused)


# --------------------------------------------------------------------------- distances
def pairwise_distances(
    a: np.ndarray, metric: str | Metric = Metric.COSINE, b: np.ndarray | None = None
) -> np.ndarray:
    """Distances between the rows of ``a`` and ``b`` (default ``a``): cosine distance
    ``1 - cos`` or euclidean.

    >>> pairwise_distances(np.array([[1., 0.], [0., 2.]]), "euclidean").round(4).tolist()
    [[0.0, 2.2361], [2.2361, 0.0]]
    """
    metric = Metric.parse(metric)
    a = _as2d(a, "vectors")
    b = a if b is None else _as2d(b, "vectors")
    if metric is Metric.COSINE:
        d = 1.0 - l2_normalize(a) @ l2_normalize(b).T
    else:
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
        d = np.sqrt(np.maximum(sq, 0.0))
    if b is a:
        np.fill_diagonal(d, 0.0)
        d = (d + d.T) / 2.0
    return d


@dataclass(frozen=True)
class Clustering:
    """Agglomerative clustering of centroids (scipy ``linkage`` matrix) and its leaf order."""

    labels: list[str]
    metric: str
    method: str
    linkage: list[list[float]]
    leaf_order: list[str]


def cluster_centroids(
    centroids: Mapping[str, np.ndarray],
    metric: str | Metric = Metric.COSINE,
    method: str = "average",
) -> Clustering:
    """Hierarchical clustering (scipy) of the centroids on ``metric`` distances."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    metric = Metric.parse(metric)
    methods = ("average", "complete", "single", "weighted", "ward")
    if method not in methods:
        raise choice_error("linkage method", method, methods)
    if method == "ward" and metric is not Metric.EUCLIDEAN:
        raise ConfigError("ward linkage needs the euclidean metric")
    labels = list(centroids)
    if len(labels) < 2:
        raise InputError(f"clustering needs at least 2 languages, got {labels}")
    c = np.stack([np.asarray(centroids[k], dtype=np.float64) for k in labels])
    d = pairwise_distances(c, metric)
    z = linkage(squareform(d, checks=False), method=method)
    order = [labels[i] for i in leaves_list(z)]
    return Clustering(labels, metric.value, method, z.tolist(), order)


@dataclass(frozen=True)
class Agreement:
    """How well the tree, cut into as many clusters as there are groups, matches them."""

    n_groups: int
    n_clusters: int
    adjusted_rand: float
    purity: float
    clusters: dict[str, int]


def cluster_agreement(clustering: Clustering, groups: Mapping[str, str]) -> Agreement:
    """Cut ``clustering`` into k = number of distinct groups (e.g. families) and compare:
    adjusted Rand index (1 = identical partitions, ~0 = chance) and purity (share of
    languages whose cluster's majority group is their own)."""
    from scipy.cluster.hierarchy import fcluster
    from sklearn.metrics import adjusted_rand_score

    missing = [x for x in clustering.labels if x not in groups]
    if missing:
        raise InputError(f"no group (family) given for: {missing}")
    truth = [groups[x] for x in clustering.labels]
    k = len(set(truth))
    z = np.asarray(clustering.linkage, dtype=np.float64)
    assign = fcluster(z, t=k, criterion="maxclust")
    correct = 0
    for cl in set(assign.tolist()):
        members = [truth[i] for i in range(len(truth)) if assign[i] == cl]
        correct += max(members.count(g) for g in set(members))
    return Agreement(
        n_groups=k,
        n_clusters=len(set(assign.tolist())),
        adjusted_rand=float(adjusted_rand_score(truth, assign)),
        purity=float(correct / len(truth)),
        clusters={x: int(a) for x, a in zip(clustering.labels, assign)},
    )


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Rows of ``x`` projected on their first two principal components, and the share of
    variance each explains."""
    a = _as2d(x, "vectors")
    a = a - a.mean(axis=0)
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    k = min(2, vt.shape[0])
    proj = a @ vt[:k].T
    if k < 2:
        proj = np.pad(proj, ((0, 0), (0, 2 - k)))
    var = s**2
    ratio = (var / var.sum()).tolist() if var.sum() > 0 else [0.0] * len(var)
    return proj, [float(r) for r in ratio[:2]]


# --------------------------------------------------------------------------- retrieval
def retrieval_accuracy(src: np.ndarray, tgt: np.ndarray) -> float:
    """Share of rows ``i`` whose cosine nearest neighbour among ``tgt`` is ``tgt[i]``.

    >>> retrieval_accuracy(np.eye(3), np.array([[1., 0, 0], [0, 1, 1], [0, 1, .2]]))
    0.3333333333333333
    """
    s = l2_normalize(_as2d(src, "source vectors"))
    t = l2_normalize(_as2d(tgt, "target vectors"))
    if s.shape != t.shape:
        raise InputError(f"retrieval needs row-aligned sets; got {s.shape} and {t.shape}")
    if len(s) == 0:
        raise InputError("retrieval on an empty set")
    nn = np.argmax(s @ t.T, axis=1)
    return float(np.mean(nn == np.arange(len(s))))


def retrieval_with_centering(
    xx: np.ndarray,
    eng: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    projection: str | ProjectionMethod | None = None,
    ridge: float = 1e-2,
) -> dict[str, tuple[float, float]]:
    """Retrieval accuracy ``(xx->eng, eng->xx)`` of line-aligned ``xx``/``eng`` vectors under
    several conditions; each language's centroid (and projection) is fitted on ``train`` rows.

    - ``raw`` / ``centered`` / ``projected``: on the ``test`` rows only (candidates = test
      rows), centroids and projection fitted on the disjoint ``train`` rows;
    - ``all_raw``: on all rows, no transform;
    - ``all_centered_in_sample``: all rows, each side centred by its own mean over all rows
      (transductive; the setting of the usual "centering by the language mean" figure).
    """
    x = _as2d(xx, "xx vectors")
    e = _as2d(eng, "eng vectors")
    if x.shape != e.shape:
        raise InputError(f"retrieval needs line-aligned sides; got {x.shape} and {e.shape}")
    train, test = np.asarray(train), np.asarray(test)
    if np.intersect1d(train, test).size:
        raise InputError("train and test rows overlap")

    def both(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        return retrieval_accuracy(a, b), retrieval_accuracy(b, a)

    mx, me = x[train].mean(0), e[train].mean(0)
    out = {
        "raw": both(x[test], e[test]),
        "centered": both(x[test] - mx, e[test] - me),
        "all_raw": both(x, e),
        "all_centered_in_sample": both(x - x.mean(0), e - e.mean(0)),
    }
    if projection is not None:
        w = fit_projection(x[train] - mx, e[train] - me, projection, ridge)
        out["projected"] = both((x[test] - mx) @ w, e[test] - me)
    return out


# --------------------------------------------------------------------------- geometry
def _cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(l2_normalize(a) * l2_normalize(b), axis=-1)


def anisotropy(sentences: Sequence[np.ndarray], n_pairs: int = 5000, seed: int = 0) -> float:
    """Expected cosine between a random word of a random sentence and a random word of
    another random sentence (Ethayarajh 2019's baseline). ``sentences``: [n_words_i, H]."""
    sents = [np.asarray(s, dtype=np.float64) for s in sentences if len(s)]
    if len(sents) < 2:
        raise InputError("anisotropy needs at least 2 non-empty sentences")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(sents), n_pairs)
    j = (i + rng.integers(1, len(sents), n_pairs)) % len(sents)  # j != i
    a = np.stack([sents[k][rng.integers(0, len(sents[k]))] for k in i])
    b = np.stack([sents[k][rng.integers(0, len(sents[k]))] for k in j])
    return float(np.mean(_cos_rows(a, b)))


def self_similarity(
    sentences: Sequence[np.ndarray],
    words: Sequence[Sequence[str]],
    min_contexts: int = 2,
    max_contexts: int = 20,
    seed: int = 0,
) -> tuple[float, int]:
    """Mean over word types of the mean pairwise cosine between the type's vectors in
    different sentences (one occurrence per sentence; at most ``max_contexts`` sentences per
    type, sampled). Returns (value, number of types used); NaN when no type qualifies."""
    if len(sentences) != len(words):
        raise InputError(f"{len(sentences)} vector sets but {len(words)} word lists")
    occ: dict[str, list[tuple[int, int]]] = {}
    for si, ws in enumerate(words):
        if len(ws) != len(sentences[si]):
            raise InputError(f"sentence {si}: {len(ws)} words but {len(sentences[si])} vectors")
        seen: set[str] = set()
        for wi, w in enumerate(ws):
            if w in seen:
                continue
            seen.add(w)
            occ.setdefault(w, []).append((si, wi))
    rng = np.random.default_rng(seed)
    vals = []
    for w in sorted(occ):
        places = occ[w]
        if len(places) < min_contexts:
            continue
        if len(places) > max_contexts:
            pick = rng.choice(len(places), max_contexts, replace=False)
            places = [places[p] for p in sorted(pick)]
        v = l2_normalize(np.stack([np.asarray(sentences[si][wi], dtype=np.float64) for si, wi in places]))
        g = v @ v.T
        n = len(v)
        vals.append((g.sum() - np.trace(g)) / (n * (n - 1)))
    if not vals:
        return float("nan"), 0
    return float(np.mean(vals)), len(vals)


def intra_sentence_similarity(sentences: Sequence[np.ndarray]) -> float:
    """Mean over sentences (with >= 2 words) of the mean cosine between each word vector
    and the sentence's mean word vector."""
    vals = []
    for s in sentences:
        s = np.asarray(s, dtype=np.float64)
        if len(s) < 2:
            continue
        vals.append(float(np.mean(_cos_rows(s, s.mean(axis=0, keepdims=True)))))
    if not vals:
        raise InputError("intra-sentence similarity needs a sentence with at least 2 words")
    return float(np.mean(vals))


@dataclass(frozen=True)
class Geometry:
    """Geometry measures of one language at one layer (raw, or after centering)."""

    anisotropy: float
    self_similarity: float
    self_similarity_types: int
    intra_sentence: float
    n_sentences: int
    n_words: int

    @property
    def adjusted(self) -> dict[str, float]:
        """Measures minus the anisotropy baseline (Ethayarajh's adjustment)."""
        return {
            "self_similarity": self.self_similarity - self.anisotropy,
            "intra_sentence": self.intra_sentence - self.anisotropy,
        }


def geometry(
    sentences: Sequence[np.ndarray],
    words: Sequence[Sequence[str]],
    center: np.ndarray | None = None,
    n_pairs: int = 5000,
    max_contexts: int = 20,
    seed: int = 0,
) -> Geometry:
    """All three measures on the word vectors of one language at one layer; ``center``
    (e.g. that language's mean word vector, fitted on other sentences) is subtracted first."""
    sents = [np.asarray(s, dtype=np.float64) for s in sentences]
    if center is not None:
        c = np.asarray(center, dtype=np.float64)
        sents = [s - c for s in sents]
    ss, n_types = self_similarity(sents, words, max_contexts=max_contexts, seed=seed)
    return Geometry(
        anisotropy=anisotropy(sents, n_pairs=n_pairs, seed=seed),
        self_similarity=ss,
        self_similarity_types=n_types,
        intra_sentence=intra_sentence_similarity(sents),
        n_sentences=len(sents),
        n_words=int(sum(len(s) for s in sents)),
    )


def to_jsonable(obj: Any) -> Any:
    """Dataclass / numpy -> plain JSON types (NaN kept as None)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if np.isnan(f) else f
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


__all__ = [
    "Agreement",
    "Clustering",
    "Geometry",
    "LanguageTransform",
    "LidResult",
    "Metric",
    "ProjectionMethod",
    "Split",
    "anisotropy",
    "cluster_agreement",
    "cluster_centroids",
    "fit_projection",
    "geometry",
    "intra_sentence_similarity",
    "l2_normalize",
    "language_centroids",
    "nearest_centroid_lid",
    "pairwise_distances",
    "pca_2d",
    "probe_lid",
    "retrieval_accuracy",
    "self_similarity",
    "split_indices",
    "to_jsonable",
]
