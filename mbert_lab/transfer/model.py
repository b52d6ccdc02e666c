"""Encoder + classification head, featurisation, freezing.

Token tasks: each word's vector is taken from its subwords through a [words x subwords]
weight matrix built from the fast tokenizer's ``word_ids``: ``first`` puts weight 1 on the
word's first *content* subword (a lone SentencePiece ``▁`` piece in front of a word carries
no content and is skipped), ``mean`` averages the content subwords. Pair tasks pool the
sequence (``mean`` over real tokens, or ``cls``).

>>> # model = TransferModel(encoder.model, 384, num_labels=17, kind=TaskType.TOKEN)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, choice_error
from .tasks import PairExample, TaskType, TokenExample

LONE_MARKERS = frozenset({"▁", "Ġ"})


class Mode(str, enum.Enum):
    FULL = "full"  # everything trains, embeddings included
    FROZEN_LOWER = "frozen-lower"  # layers 0..freeze_up_to frozen (0 = embeddings)
    PROBE = "probe"  # encoder frozen; a linear head on one layer

    @classmethod
    def parse(cls, v: str | Mode) -> Mode:
        if isinstance(v, Mode):
            return v
        try:
            return cls(v)
        except ValueError:
            raise choice_error("training mode", v, [m.value for m in cls]) from None


@dataclass
class Features:
    """Model inputs of one example (lists of ints), before padding."""

    input_ids: list[int]
    token_type_ids: list[int] | None
    word_pieces: list[list[int]] | None  # token tasks: content piece positions per word
    label: int | list[int]  # pair: label id; token: label id per word (-100: unseen / none)
    length: int


def featurize_tokens(
    tokenizer: Any,
    examples: Sequence[TokenExample],
    label2id: dict[str, int],
    max_length: int,
) -> list[Features]:
    """Tokenize pre-split words; map each word to its content subword positions.

    Words cut off by ``max_length`` get no positions (not trained on; scored as misses).
    """
    out: list[Features] = []
    step = 512
    for s in range(0, len(examples), step):
        chunk = examples[s : s + step]
        enc = tokenizer(
            [list(ex.words) for ex in chunk],
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
        )
        for i, ex in enumerate(chunk):
            ids = enc["input_ids"][i]
            wids = enc.word_ids(i)
            toks = tokenizer.convert_ids_to_tokens(ids)
            pieces: list[list[int]] = [[] for _ in ex.words]
            markers: list[list[int]] = [[] for _ in ex.words]
            for pos, w in enumerate(wids):
                if w is None:
                    continue
                (markers if toks[pos] in LONE_MARKERS else pieces)[w].append(pos)
            for w in range(len(ex.words)):
                if not pieces[w]:
                    pieces[w] = markers[w][:1]  # a word that is only a marker keeps it
            labels = [label2id.get(lab, -100) for lab in ex.labels]
            out.append(Features(list(ids), None, pieces, labels, len(ids)))
    return out


def featurize_pairs(
    tokenizer: Any,
    examples: Sequence[PairExample],
    label2id: dict[str, int],
    max_length: int,
    use_token_types: bool,
) -> list[Features]:
    out: list[Features] = []
    step = 512
    for s in range(0, len(examples), step):
        chunk = examples[s : s + step]
        enc = tokenizer(
            [ex.text_a for ex in chunk],
            [ex.text_b for ex in chunk],
            truncation="longest_first",
            max_length=max_length,
        )
        for i, ex in enumerate(chunk):
            ids = enc["input_ids"][i]
            tt = enc["token_type_ids"][i] if (use_token_types and "token_type_ids" in enc) else None
            out.append(Features(list(ids), tt, None, label2id.get(ex.label, -100), len(ids)))
    return out


def collate(feats: Sequence[Features], pad_id: int, word_pooling: str = "first") -> dict[str, Any]:
    """Pad a batch. Token tasks get ``word_weights`` [B, W, T] (rows sum to 1 or 0)."""
    import torch

    B = len(feats)
    T = max(f.length for f in feats)
    ids = torch.full((B, T), pad_id, dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    tt = None
    if feats[0].token_type_ids is not None:
        tt = torch.zeros((B, T), dtype=torch.long)
    for b, f in enumerate(feats):
        ids[b, : f.length] = torch.tensor(f.input_ids)
        mask[b, : f.length] = 1
        if tt is not None and f.token_type_ids is not None:
            tt[b, : f.length] = torch.tensor(f.token_type_ids)
    batch: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
    if tt is not None:
        batch["token_type_ids"] = tt
    if feats[0].word_pieces is not None:
        W = max(1, max(len(f.word_pieces or []) for f in feats))
        weights = torch.zeros((B, W, T))
        labels = torch.full((B, W), -100, dtype=torch.long)
        for b, f in enumerate(feats):
            for w, ps in enumerate(f.word_pieces or []):
                if not ps:
                    continue
                if word_pooling == "first":
                    weights[b, w, ps[0]] = 1.0
                else:
                    weights[b, w, ps] = 1.0 / len(ps)
                labels[b, w] = f.label[w]  # type: ignore[index]
        batch["word_weights"] = weights
        batch["labels"] = labels
    else:
        batch["labels"] = torch.tensor([f.label for f in feats], dtype=torch.long)
    return batch


def _module_base():  # type: ignore[no-untyped-def]
    import torch.nn as nn

    return nn.Module


class TransferModel(_module_base()):  # type: ignore[misc]
    """``encoder`` (a transformers base model) + dropout + a linear head."""

    def __init__(
        self,
        encoder: Any,
        hidden_size: int,
        num_labels: int,
        kind: TaskType,
        dropout: float = 0.1,
        pooling: str = "mean",
        use_token_types: bool = False,
    ) -> None:
        import torch.nn as nn

        super().__init__()
        if pooling not in ("mean", "cls"):
            raise choice_error("pair pooling", pooling, ("mean", "cls"))
        self.encoder = encoder
        self.kind = TaskType(kind)
        self.pooling = pooling
        self.use_token_types = use_token_types
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, num_labels)

    def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None, word_weights: Any = None) -> Any:
        kw = {}
        if token_type_ids is not None and self.use_token_types:
            kw["token_type_ids"] = token_type_ids
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kw).last_hidden_state
        if self.kind is TaskType.TOKEN:
            rep = word_weights @ h  # [B, W, H]
        elif self.pooling == "cls":
            rep = h[:, 0]
        else:
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            rep = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(self.dropout(rep))


def layer_list(model: Any, num_layers: int) -> Any:
    from ..encode.extractor import _find_layer_list

    return _find_layer_list(model, num_layers)[0]


def configure_encoder(encoder_model: Any, num_layers: int, mode: Mode, freeze_up_to: int, probe_layer: int | None) -> dict[str, Any]:
    """Freeze parameters for ``mode``; for probes, cut the encoder after ``probe_layer``.

    Returns a summary (trainable / frozen parameter counts, the layer read).
    """
    layers = layer_list(encoder_model, num_layers)
    read_layer = num_layers
    if mode is Mode.FULL:
        frozen: list[Any] = []
    elif mode is Mode.FROZEN_LOWER:
        if not 0 <= freeze_up_to < num_layers:
            raise ConfigError(
                f"--freeze-up-to {freeze_up_to} out of range: 0 (embeddings) .. {num_layers - 1} "
                "(freezing every layer is --mode probe)"
            )
        emb = getattr(encoder_model, "embeddings", None)
        if emb is None:
            raise ConfigError(f"cannot find the embeddings of {type(encoder_model).__name__}")
        frozen = [emb] + [layers[i] for i in range(freeze_up_to)]
    else:
        read_layer = num_layers if probe_layer is None else int(probe_layer)
        if not 0 <= read_layer <= num_layers:
            raise ConfigError(f"probe layer {read_layer} out of range 0..{num_layers}")
        frozen = [encoder_model]
        # Run only the blocks up to the probed layer: the rest cannot change the output.
        from ..encode.extractor import _find_layer_list

        _, path = _find_layer_list(encoder_model, num_layers)
        parent = encoder_model
        parts = path.split(".")
        for part in parts[:-1]:
            parent = getattr(parent, part)
        import torch.nn as nn

        setattr(parent, parts[-1], nn.ModuleList(list(layers)[:read_layer]))
    pooler = getattr(encoder_model, "pooler", None)
    if pooler is not None:  # never used (heads read hidden states): keep it out of the counts
        frozen.append(pooler)
    for mod in frozen:
        for p in mod.parameters():
            p.requires_grad_(False)
    n_train = sum(p.numel() for p in encoder_model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in encoder_model.parameters())
    return {"mode": mode.value, "encoder_trainable_params": n_train, "encoder_params": n_all, "read_layer": read_layer,
            "frozen_up_to": freeze_up_to if mode is Mode.FROZEN_LOWER else (-1 if mode is Mode.FULL else read_layer)}


def length_buckets(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool: int = 50) -> list[np.ndarray]:
    """Shuffled batches of similar length: shuffle, sort within pools of ``pool`` batches,
    cut into batches, shuffle the batches. Deterministic for a given ``rng`` state.

    >>> bs = length_buckets(np.arange(10), 3, np.random.default_rng(0))
    >>> sorted(int(i) for b in bs for i in b) == list(range(10))
    True
    """
    perm = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    span = batch_size * pool
    for s in range(0, len(perm), span):
        chunk = perm[s : s + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    order = rng.permutation(len(batches))
    return [batches[int(i)] for i in order]
