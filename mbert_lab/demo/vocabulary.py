"""Demo section: fertility per language and pairwise subword overlap on the embedded corpus,
through the vocabulary study (:func:`mbert_lab.studies.vocabulary.vocab`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_corpora(ctx: Any, folder: Path) -> list[str]:
    """The demo's translations (and the English side once) as one-sentence-per-line files;
    returns ``LANG=FILE`` entries for the study. Empty messages are left out."""
    from ..data.readers.text import strip_ascii, write_lines

    entries: list[str] = []
    english: list[str] = []
    for lang, pairs in sorted(ctx.parallel.items()):
        lines = [strip_ascii(t) for _, t in pairs if strip_ascii(t)]
        if not lines:
            continue
        write_lines(folder / f"{lang}.txt", lines)
        entries.append(f"{lang}={folder / f'{lang}.txt'}")
        if not english:
            english = [strip_ascii(e) for e, _ in pairs if strip_ascii(e)]
    if english and "en" not in ctx.parallel:
        write_lines(folder / "en.txt", english)
        entries.insert(0, f"en={folder / 'en.txt'}")
    return entries


def section(ctx: Any) -> str:
    """Tokenize the demo languages with the model's own tokenizer (words split on ASCII spaces:
    for unspaced scripts the word measures are flagged as not comparable); writes
    ``ctx.out/vocabulary/`` (``vocab.json``, ``comparison.md``, plots)."""
    import numpy as np

    from ..errors import InputError
    from ..io import atomic_write_text
    from ..plots.vocabulary import plot_fertility, plot_heatmap
    from ..studies.vocabulary import VocabConfig, vocab

    out = Path(ctx.out) / "vocabulary"
    entries = write_corpora(ctx, out / "corpus")
    if not entries:
        raise InputError("the demo corpus has no translations")
    model_id = getattr(ctx.encoder, "model_id", "offline")
    cfg = VocabConfig(tokenizers=(model_id,), corpora=tuple(entries), transfer_data=False)
    result = vocab(cfg, encoder=ctx.encoder)
    result.save(out)
    atomic_write_text(out / "comparison.md", result.comparison_markdown())
    group = result.tokenizers[0].groups["corpus"]
    plot_heatmap(group, "jaccard", "subword-type Jaccard overlap", out / "overlap_jaccard")
    plot_fertility(group, out / "fertility", with_marker=False)
    comp = [s for s in group.stats if s.word_measures_comparable]
    m = np.asarray(group.jaccard, dtype=float)
    off = m[~np.eye(len(m), dtype=bool)] if len(m) > 1 else np.array([np.nan])
    txt = (f"Vocabulary: {len(group.languages)} languages tokenized with the model's tokenizer "
           f"({result.tokenizers[0].tokenizer.vocab_size} pieces). ")
    if comp:
        lo, hi = min(comp, key=lambda s: s.fertility), max(comp, key=lambda s: s.fertility)
        txt += (f"Fertility (subwords per space-separated word, lone '\u2581' excluded) ranges from "
                f"{lo.fertility:.2f} ({lo.lang}) to {hi.fertility:.2f} ({hi.lang}); ")
    return txt + (f"the mean pairwise Jaccard overlap of subword types is {float(np.nanmean(off)):.3f}. "
                  f"Results and plots in {out}.")
