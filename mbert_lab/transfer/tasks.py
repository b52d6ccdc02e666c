"""Transfer tasks: what is predicted, how it is scored, and the examples' shapes.

Two task types:

- token classification (POS, NER): one label per *word*; the model reads subwords and the
  label is predicted from the first content subword of each word (a lone SentencePiece
  ``▁`` piece in front of a word is skipped: it carries no content);
- sequence-pair classification (XNLI, PAWS-X): one label per (text_a, text_b) pair.

>>> TASKS[Task.POS].metric
'accuracy'
>>> TASKS[Task("ner")].metric
'span_f1'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import choice_error


class Task(str, enum.Enum):
    POS = "pos"
    NER = "ner"
    XNLI = "xnli"
    PAWSX = "pawsx"

    @classmethod
    def parse(cls, name: str | Task) -> Task:
        """'pos' -> Task.POS; unknown names raise a ConfigError with a did-you-mean."""
        if isinstance(name, Task):
            return name
        try:
            return cls(str(name).strip().lower().replace("-", ""))
        except ValueError:
            raise choice_error("task", name, [t.value for t in cls]) from None


class TaskType(str, enum.Enum):
    TOKEN = "token"  # one label per word
    PAIR = "pair"  # one label per text pair


@dataclass(frozen=True)
class TokenExample:
    """A sentence as words with one label per word. ``item``: index in its source file."""

    words: tuple[str, ...]
    labels: tuple[str, ...]
    item: int = -1


@dataclass(frozen=True)
class PairExample:
    """A text pair with one label. ``item``: the item index shared by all translations of
    the pair (parallel XNLI/PAWS-X files have item i on line i in every language)."""

    text_a: str
    text_b: str
    label: str
    item: int = -1


@dataclass(frozen=True)
class TaskSpec:
    task: Task
    type: TaskType
    metric: str  # "accuracy" (per word or per pair) or "span_f1" (seqeval, IOB2)
    description: str
    default_train: str  # source language
    default_eval: tuple[str, ...]


# Codes of the mirror's files -> ISO 639-3, for joining with other analyses (zh -> cmn as in Tatoeba).
ISO639_3: dict[str, str] = {
    "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "ru": "rus", "zh": "cmn", "ar": "ara",
    "amh": "amh", "hau": "hau", "ibo": "ibo", "kin": "kin", "lug": "lug", "luo": "luo", "pcm": "pcm",
    "swa": "swa", "wol": "wol", "yor": "yor",
}

TASKS: dict[Task, TaskSpec] = {
    Task.POS: TaskSpec(
        Task.POS,
        TaskType.TOKEN,
        "accuracy",
        "UPOS tagging: train on XTREME UD-POS train-en.tsv, evaluate on UD PUD and XTREME dev sets",
        "en",
        ("en", "de", "fr", "es", "ru", "zh", "ar"),
    ),
    Task.NER: TaskSpec(
        Task.NER,
        TaskType.TOKEN,
        "span_f1",
        "NER (PER/ORG/LOC): train on CoNLL-2003 English, evaluate on MasakhaNER 1.0 (DATE mapped to O, and as-is)",
        "en",
        ("en", "amh", "hau", "ibo", "kin", "lug", "luo", "pcm", "swa", "wol", "yor"),
    ),
    Task.XNLI: TaskSpec(
        Task.XNLI,
        TaskType.PAIR,
        "accuracy",
        "NLI (entailment/neutral/contradiction): train on part of the English XNLI dev items, "
        "evaluate every language on the other, disjoint items",
        "en",
        ("en", "de", "fr", "es", "ru", "zh", "ar"),
    ),
    Task.PAWSX: TaskSpec(
        Task.PAWSX,
        TaskType.PAIR,
        "accuracy",
        "paraphrase (0/1): train on part of the English PAWS-X dev items, evaluate every language "
        "on the other, disjoint items",
        "en",
        ("en", "de", "fr", "es"),
    ),
}
