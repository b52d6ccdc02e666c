"""Demo section: an index over the embedded corpus's translations (every demo language, last
layer, cosine), then neighbour queries: each English message's nearest translations. Runs
the retrieval studies ``index_build`` and ``search``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..studies.base import StudyResult


@dataclass(frozen=True, kw_only=True)
class DemoNeighbours(StudyResult):
    kind = "neighbours"
    layer: int
    index_key: str
    n_vectors: int
    languages: tuple[str, ...]
    en_to_xx_p_at_1: float
    per_language_p_at_1: dict[str, float]
    n_queries: int
    examples: dict[str, dict[str, tuple[tuple[str, float], ...]]]  # query -> lang -> (text, score)


def section(ctx: Any) -> str:
    """Build the index with :func:`~mbert_lab.studies.retrieval.build_index` from a TSV of the
    translations, query it with :func:`~mbert_lab.studies.retrieval.search` (English -> each
    language, k=1) and score P@1 against the corpus's own pairs."""
    from ..data.readers.text import write_lines
    from ..languages import to_iso639_3
    from ..studies.retrieval import IndexBuildConfig, SearchConfig, build_index, search

    out = ctx.out / "retrieval"
    layer = ctx.encoder.num_layers
    par = {to_iso639_3(lg): pairs for lg, pairs in ctx.parallel.items() if len(pairs) >= 5}
    if not par:
        return "retrieval: skipped, the embedded corpus has no language with 5 or more pairs"
    english: dict[str, set[str]] = {}
    rows = []
    for lg, pairs in par.items():
        for i, (en, xx) in enumerate(pairs):
            rows.append(f"{lg}\t{lg}:{i}\t{xx.replace(chr(9), ' ')}")
            english.setdefault(en, set()).add(f"{lg}:{i}")
    out.mkdir(parents=True, exist_ok=True)
    write_lines(out / "translations.tsv", rows)
    common = dict(model=ctx.encoder.model_id, layers=layer, threads=None)
    b = build_index(IndexBuildConfig(index=str(out / "index"), input=str(out / "translations.tsv"), **common),
                    encoder=ctx.encoder, store=ctx.store)
    queries = sorted(english, key=lambda e: (-len(english[e]), e))
    r = search(SearchConfig(index=str(out / "index"), texts=tuple(queries), lang="eng", to=tuple(sorted(par)), k=3,
                            **common), encoder=ctx.encoder, store=ctx.store)
    per = {lg: [0, 0] for lg in par}
    for q, qh in zip(queries, r.queries):
        for lg, hits in qh.hits.items():
            want = {s for s in english[q] if s.startswith(lg + ":")}
            if want:
                per[lg][0] += int(hits[0].sid in want)
                per[lg][1] += 1
    total, correct = sum(b_ for _, b_ in per.values()), sum(a for a, _ in per.values())
    to = sorted(par)[:3]
    examples = {qh.query: {lg: tuple((h.text, round(h.score, 4)) for h in qh.hits[lg]) for lg in to} for qh in r.queries[:3]}
    res = DemoNeighbours(provenance=b.provenance, layer=layer, index_key=b.key, n_vectors=b.ntotal,
                         languages=tuple(sorted(par)), en_to_xx_p_at_1=correct / max(total, 1),
                         per_language_p_at_1={lg: a / max(n, 1) for lg, (a, n) in per.items()}, n_queries=total,
                         examples=examples)
    path = res.save(out)
    q0 = queries[0]
    ex = "; ".join(f"{lg}: {examples[q0][lg][0][0]!r} ({examples[q0][lg][0][1]:.3f})" for lg in to)
    return (f"retrieval: a {b.key} index of {b.ntotal} translations in {len(par)} languages (layer {layer}, cosine); "
            f"English -> translation P@1 {res.en_to_xx_p_at_1:.3f} over {total} queries; neighbours of {q0!r}: {ex}; "
            f"details: {path}")
