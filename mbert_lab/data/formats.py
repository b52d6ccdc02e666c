"""Compatibility module: the names that lived here, re-exported from their new homes.

No logic lives here. New code imports from:

- :mod:`mbert_lab.data.readers` (pure parsers, one module per format: ``alignment``,
  ``conllu``, ``tagged``, ``ner``, ``nli``, ``muse``, ``parallel``, ``text``);
- :mod:`mbert_lab.data.datasets` (the catalogue: ``load_*``, ``*_languages``, discovery);
- :mod:`mbert_lab.data.splits` (``parallel_item_split``, ``to_records``, ``to_hf_dataset``);
- :mod:`mbert_lab.data.registry` (``dataset_provenance``).
"""

from __future__ import annotations

from .datasets import (
    ALIGNMENT_SETS,
    NER_TYPES,
    ParallelSentence,
    alignment_sets,
    load_gold_alignment,
    load_muse,
    load_muse_combined,
    load_ner,
    load_pawsx,
    load_pud,
    load_pud_parallel,
    load_tatoeba,
    load_udpos,
    load_xnli,
    masakhaner_languages,
    muse_categories,
    muse_pairs,
    pawsx_languages,
    pud_languages,
    tatoeba_languages,
    udpos_languages,
    xnli_languages,
)
from .readers.alignment import (
    AlignedPair,
    AlignmentGold,
    IndexBase,
    detect_index_base,
    read_alignment,
    read_alignment_text,
    read_pharaoh,
)
from .readers.conllu import UPOS_TAGS, UDSentence, UDToken, read_conllu
from .readers.muse import (
    MUSE_CATEGORIES,
    MUSE_RECOMMENDED,
    DictEntry,
    read_dictionary,
    translations,
)
from .readers.ner import read_conll_ner
from .readers.nli import (
    PAWSX_UNTRANSLATED,
    XNLI_LABELS,
    NliPair,
    ParaphrasePair,
    read_pawsx_tsv,
    read_xnli_tsv,
)
from .readers.parallel import ParallelCorpus, SentencePair, SkippedLine
from .readers.parallel import read_parallel_corpus as read_parallel
from .readers.tagged import TaggedSentence, read_tagged_tsv
from .readers.text import read_lines, split_ascii_space
from .registry import dataset_provenance
from .splits import ItemSplit, parallel_item_split, to_hf_dataset, to_records

__all__ = [
    "ALIGNMENT_SETS",
    "MUSE_CATEGORIES",
    "MUSE_RECOMMENDED",
    "NER_TYPES",
    "PAWSX_UNTRANSLATED",
    "UPOS_TAGS",
    "XNLI_LABELS",
    "AlignedPair",
    "AlignmentGold",
    "DictEntry",
    "IndexBase",
    "ItemSplit",
    "NliPair",
    "ParallelCorpus",
    "ParallelSentence",
    "ParaphrasePair",
    "SentencePair",
    "SkippedLine",
    "TaggedSentence",
    "UDSentence",
    "UDToken",
    "alignment_sets",
    "dataset_provenance",
    "detect_index_base",
    "load_gold_alignment",
    "load_muse",
    "load_muse_combined",
    "load_ner",
    "load_pawsx",
    "load_pud",
    "load_pud_parallel",
    "load_tatoeba",
    "load_udpos",
    "load_xnli",
    "masakhaner_languages",
    "muse_categories",
    "muse_pairs",
    "parallel_item_split",
    "pawsx_languages",
    "pud_languages",
    "read_alignment",
    "read_alignment_text",
    "read_conll_ner",
    "read_conllu",
    "read_dictionary",
    "read_lines",
    "read_parallel",
    "read_pawsx_tsv",
    "read_pharaoh",
    "read_tagged_tsv",
    "read_xnli_tsv",
    "split_ascii_space",
    "tatoeba_languages",
    "to_hf_dataset",
    "to_records",
    "translations",
    "udpos_languages",
    "xnli_languages",
]
