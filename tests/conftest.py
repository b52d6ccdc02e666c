"""Shared fixtures.

Unit tests use a tiny random BERT built from a config (no downloads) with a WordPiece or a
SentencePiece-style (Unigram + Metaspace) fast tokenizer trained here on a few sentences.
Integration tests use the offline model and the data mirror (``MBERT_LAB_DATA``, defaulting
to ``../shared/data`` beside the repository); a missing mirror fails them loudly.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The shared browser fixtures (`browser`, `page`): tests/browser.py.
pytest_plugins = ["tests.browser"]

TOY_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "El rápido zorro marrón salta sobre el perro perezoso.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "敏捷的棕色狐狸跳过了懒狗。",
    "素早い茶色の狐がのろまな犬を飛び越える。",
    "الثعلب البني السريع يقفز فوق الكلب الكسول.",
    "Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο.",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।",
    "I like green tea. Ich mag grünen Tee. J'aime le thé vert.",
    "Hello world! Hallo Welt! Bonjour le monde! Hola mundo! Привет мир!",
]

# Make the data mirror and a private cache visible to every test process.
os.environ.setdefault("MBERT_LAB_DATA", str((REPO.parent / "shared" / "data").resolve()))


TOKENIZER_DIR = REPO / "tests" / "data" / "tokenizers"


def _train_tokenizer(kind: str):
    """Train a tiny tokenizer on ``TOY_CORPUS`` (``tokenizers``' trainers; not reproducible).

    The ``tokenizers`` trainers break ties between equally frequent candidates in hash-map
    order, so two processes train different vocabularies from the same corpus. The fixtures
    therefore load the trained files under ``tests/data/tokenizers`` (``_load_tokenizer``);
    this function writes them: ``python -m tests.conftest``.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    corpus = TOY_CORPUS * 3
    if kind == "wordpiece":
        from mbert_lab.models.wordpiece import train_wordpiece

        return train_wordpiece(corpus, vocab_size=400).backend_tokenizer
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tok.train_from_iterator(corpus, trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    tok.decoder = decoders.Metaspace()
    return tok


def _load_tokenizer(kind: str):
    """The committed tiny tokenizer of ``kind`` as a fast tokenizer (same in every process)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer.from_file(str(TOKENIZER_DIR / f"tiny-{kind}.json"))
    if kind == "wordpiece":
        from mbert_lab.models.wordpiece import _wrap

        fast = _wrap(tok)
    else:
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tok,
            unk_token="<unk>",
            pad_token="<pad>",
            bos_token="<s>",
            eos_token="</s>",
            cls_token="<s>",
            sep_token="</s>",
        )
    fast.model_max_length = 64
    return fast


def make_tiny_encoder(kind: str = "wordpiece", max_position: int = 64, layers: int = 4, seed: int = 0):
    import torch
    from transformers import BertConfig, BertModel

    from mbert_lab.models.registry import Encoder

    tok = _load_tokenizer(kind)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=max_position,
        pad_token_id=tok.pad_token_id,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = BertModel(cfg, add_pooling_layer=False).eval()
    return Encoder(
        model=model,
        tokenizer=tok,
        model_id=f"tiny-random-bert-{kind}",
        revision="test",
        weights_sha256=f"seed{seed}",
        label=f"tiny random BERT ({kind})",
        num_layers=layers,
        hidden_size=32,
        max_length=max_position,
    )


_CACHE: dict[str, object] = {}


@pytest.fixture(scope="session")
def _tiny_wordpiece_session():
    return make_tiny_encoder("wordpiece")


@pytest.fixture(scope="session")
def _tiny_sp_session():
    return make_tiny_encoder("sentencepiece")


@pytest.fixture
def tiny_encoder(_tiny_wordpiece_session):
    """A tiny random BERT with a WordPiece tokenizer (deep-copied per test)."""
    return copy.deepcopy(_tiny_wordpiece_session)


@pytest.fixture
def tiny_sp_encoder(_tiny_sp_session):
    """A tiny random BERT with a SentencePiece-style (Unigram + Metaspace) tokenizer."""
    return copy.deepcopy(_tiny_sp_session)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The data mirror; a missing mirror is a failure, never a skip."""
    root = Path(os.environ["MBERT_LAB_DATA"])
    if not (root / "README.md").exists():
        pytest.fail(
            f"data mirror not found at {root} (set MBERT_LAB_DATA); integration tests need it",
            pytrace=False,
        )
    return root


@pytest.fixture(scope="session")
def offline_encoder():
    """The offline default model (multilingual-e5-small, 4-bit-derived weights), built once."""
    from mbert_lab.models.registry import load_encoder

    return load_encoder("offline")


if __name__ == "__main__":  # python -m tests.conftest: (re)train the committed tiny tokenizers
    TOKENIZER_DIR.mkdir(parents=True, exist_ok=True)
    for _kind in ("wordpiece", "sentencepiece"):
        _train_tokenizer(_kind).save(str(TOKENIZER_DIR / f"tiny-{_kind}.json"), pretty=True)
        print(TOKENIZER_DIR / f"tiny-{_kind}.json")
