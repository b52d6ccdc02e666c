"""Representation extraction: the only place that runs the encoder for analyses.

One call encodes a corpus (raw sentences, or sentences pre-tokenized into words) and returns
an :class:`~mbert_lab.encode.store.EncodedCorpus` holding, for every requested layer:

- ``subword``: one vector per content subword (special tokens excluded);
- ``word``: subwords pooled into words (``mean`` or ``first``) through the fast tokenizer's
  word ids, so WordPiece ``##`` and SentencePiece ``▁`` both work. A lone ``▁`` piece (what
  SentencePiece emits in front of many CJK words given as separate words) carries no content
  and is left out of its word's pool by default;
- ``sentence``: ``mean`` over real content tokens (no special tokens, no padding), ``cls``
  (the first special token) and ``mean_all`` (mean over all real tokens including the special
  ones, as E5-style models pool).

How it works: texts are tokenized once, cut into windows when longer than the model allows
(overlapping, stitched back: see :mod:`~mbert_lab.encode.windows`), sorted by length into
batches, and run through the model *only up to the deepest layer still needed*. Work is
split into shards of bounded size (planned from the texts alone, so every request over the
same texts gets the same shards) whose vectors are written to the on-disk store per output
and layer as they finish: a killed run resumes, peak memory does not grow with the corpus,
layers already stored for a shard are reused and only the missing ones are computed (none
at all: no forward pass).

``dtype`` is the *compute* precision (``fp32``, ``bf16`` autocast, ``int8`` dynamic
quantisation: :mod:`~mbert_lab.encode.precision`); ``store_dtype`` the precision vectors are
kept in (``float32`` or ``float16``). Both are in the store key.

>>> # from mbert_lab.models.registry import load_encoder
>>> # enc = load_encoder("offline")
>>> # ex = Extractor(enc, ExtractConfig(layers=(8,)))
>>> # corpus = ex.encode(["Hello world.", "Hallo Welt."])
>>> # corpus.sentence(8).shape
>>> # (2, 384)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError, choice_error
from .precision import COMPUTE_DTYPES, STORE_DTYPES, check_compute_dtype, compute_context, compute_model
from .store import SCHEMA as STORE_SCHEMA
from .store import EncodedCorpus, EntryKey, ShardArrays, Store
from .windows import WindowPolicy, owner_of_tokens, plan_windows

log = logging.getLogger(__name__)

OUTPUTS = ("sentence", "word", "subword")
WORD_POOLINGS = ("mean", "first")
SENTENCE_POOLINGS = ("mean", "cls", "mean_all")
LONE_MARKERS = frozenset({"▁", "Ġ"})
SENTENCE_ENTRIES = ("sentence_mean", "sentence_cls", "sentence_mean_all")
_BATCH_KNOBS = ("batch_size", "max_batch_tokens", "shard_max_sentences", "shard_max_mb")


@dataclass(frozen=True)
class ExtractConfig:
    """Everything that changes the vectors (besides the model and the text).

    ``max_length``: tokens per forward window including special tokens (default: the model's
    maximum). ``window_overlap``: content tokens shared by consecutive windows (default: a
    quarter of a window). ``outputs``: which of sentence/word/subword to keep. ``dtype``:
    compute precision fp32|bf16|int8; ``store_dtype``: storage precision float32|float16
    (``dtype="float16"``/``"float32"``, the old spelling of the storage dtype, still means
    ``store_dtype``). ``shard_max_sentences`` / ``shard_max_mb``: shard bounds (the MB bound
    is for the token vectors of all the model's layers, so it does not depend on the layers
    asked for: 6,721 content tokens for the offline model). Measured on this shared 2-core
    machine: one shard of 512 Tatoeba sentences (8 languages), all 13 layers, all outputs, 1
    thread, takes 10.6 s in fp32 and 5.6 s in bf16, so a killed run loses well under a minute.
    """

    layers: tuple[int, ...] = (8,)
    outputs: tuple[str, ...] = ("sentence",)
    word_pooling: str = "mean"
    drop_lone_marker: bool = True
    max_length: int | None = None
    window_overlap: int | None = None
    batch_size: int = 64
    max_batch_tokens: int = 16384
    shard_max_sentences: int = 512
    shard_max_mb: int = 256
    dtype: str = "fp32"
    store_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.dtype in STORE_DTYPES and self.store_dtype == "float32":  # the old spelling
            object.__setattr__(self, "store_dtype", self.dtype)
            object.__setattr__(self, "dtype", "fp32")
        for o in self.outputs:
            if o not in OUTPUTS:
                raise choice_error("output", o, OUTPUTS)
        if self.word_pooling not in WORD_POOLINGS:
            raise choice_error("word pooling", self.word_pooling, WORD_POOLINGS)
        if self.dtype not in COMPUTE_DTYPES:
            raise choice_error("dtype", self.dtype, COMPUTE_DTYPES)
        if self.store_dtype not in STORE_DTYPES:
            raise choice_error("storage dtype", self.store_dtype, STORE_DTYPES)
        for k in ("shard_max_sentences", "shard_max_mb", "max_batch_tokens"):
            if getattr(self, k) < 1:
                raise ConfigError(f"{k.replace('_', ' ')} must be >= 1, got {getattr(self, k)}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_size}")
        if not self.layers:
            raise ConfigError("at least one layer is needed")
        object.__setattr__(self, "layers", tuple(sorted(set(int(x) for x in self.layers))))
        object.__setattr__(self, "outputs", tuple(o for o in OUTPUTS if o in self.outputs))

    def key_fields(self) -> dict[str, Any]:
        """Fields that change the stored vectors (batching knobs excluded: they do not)."""
        d = dataclasses.asdict(self)
        for k in _BATCH_KNOBS:
            d.pop(k)
        return d

    def base_key_fields(self) -> dict[str, Any]:
        """The key fields shared by every entry: all but the layers and the outputs (each
        entry's name carries its output, word pooling and layer)."""
        d = self.key_fields()
        for k in ("layers", "outputs", "word_pooling", "drop_lone_marker"):
            d.pop(k)
        return d

    def word_entry(self) -> str:
        """The store name of word vectors: the pooling (and marker rule) are part of it."""
        return f"word.{self.word_pooling}" + ("" if self.drop_lone_marker else ".keepmarker")

    def entry_names(self) -> tuple[str, ...]:
        """Store names of the entries per layer: sentence pools always (they are cheap and
        every corpus has them), word and subword vectors when asked for."""
        names: list[str] = list(SENTENCE_ENTRIES)
        if "word" in self.outputs:
            names.append(self.word_entry())
        if "subword" in self.outputs:
            names.append("subword")
        return tuple(names)


@dataclass
class _Tokenized:
    ids: list[np.ndarray]  # content ids per text (no specials)
    word_ids: list[np.ndarray]  # word index per content token, -1 for none
    tokens: list[list[str]]
    words: list[list[str]]  # the words (given, or recovered from offsets for raw text)
    keep: list[np.ndarray] = field(default_factory=list)  # bool per token: enters word pool


def _find_layer_list(model: Any, num_layers: int) -> tuple[Any, str]:
    """The ModuleList holding the transformer blocks (encoder.layer, transformer.layer, ...)."""
    import torch.nn as nn

    for path in ("encoder.layer", "transformer.layer", "encoder.layers", "layers"):
        obj = model
        ok = True
        for part in path.split("."):
            if not hasattr(obj, part):
                ok = False
                break
            obj = getattr(obj, part)
        if ok and isinstance(obj, nn.ModuleList) and len(obj) == num_layers:
            return obj, path
    for name, mod in model.named_modules():
        if isinstance(mod, nn.ModuleList) and len(mod) == num_layers:
            return mod, name
    raise ConfigError(f"cannot find the {num_layers} transformer layers in {type(model).__name__}")


@contextlib.contextmanager
def truncated_layers(model: Any, num_layers: int, keep: int) -> Iterator[None]:
    """Temporarily run only the first ``keep`` transformer blocks (restored afterwards)."""
    if keep >= num_layers:
        yield
        return
    layers, path = _find_layer_list(model, num_layers)
    parent = model
    parts = path.split(".")
    for part in parts[:-1]:
        parent = getattr(parent, part)
    setattr(parent, parts[-1], layers[:keep])
    try:
        yield
    finally:
        setattr(parent, parts[-1], layers)


@contextlib.contextmanager
def capture_hidden_states(model: Any, num_layers: int, wanted: Sequence[int]) -> Iterator[dict[int, Any]]:
    """Collect the output of the embeddings (layer 0) and of blocks 1..L with forward hooks.

    Our own hooks rather than ``output_hidden_states``: independent of how a transformers
    version records hidden states, and only the wanted layers are kept alive.
    """
    layers, _ = _find_layer_list(model, num_layers)
    got: dict[int, Any] = {}
    handles = []

    def hook(idx: int):  # type: ignore[no-untyped-def]
        def fn(_mod, _inp, out):  # type: ignore[no-untyped-def]
            got[idx] = out[0] if isinstance(out, (tuple, list)) else out

        return fn

    try:
        if 0 in wanted:
            emb = getattr(model, "embeddings", None)
            if emb is None:
                raise ConfigError(f"cannot find the embeddings module of {type(model).__name__}")
            handles.append(emb.register_forward_hook(hook(0)))
        for layer in wanted:
            if layer > 0:
                handles.append(layers[layer - 1].register_forward_hook(hook(layer)))
        yield got
    finally:
        for h in handles:
            h.remove()


class Extractor:
    """Encode corpora with one encoder and one :class:`ExtractConfig`.

    ``store``: a :class:`Store` to read and write shards (``None``: compute in memory only).
    """

    def __init__(
        self,
        encoder: Any,
        config: ExtractConfig | None = None,
        store: Store | None = None,
        device: str | None = None,
        progress: bool = True,
    ) -> None:
        self.encoder = encoder
        self.config = config or ExtractConfig()
        self.store = store
        self.progress = progress
        bad = [x for x in self.config.layers if x < 0 or x > encoder.num_layers]
        if bad:
            raise ConfigError(
                f"layer(s) {bad} out of range: model has layers 0..{encoder.num_layers} (0 = embeddings)"
            )
        tok = encoder.tokenizer
        self.n_special = int(tok.num_special_tokens_to_add(pair=False))
        self.max_length = int(self.config.max_length or encoder.max_length)
        if self.max_length > encoder.max_length:
            raise ConfigError(
                f"max length {self.max_length} exceeds the model's maximum {encoder.max_length}"
            )
        if self.max_length <= self.n_special:
            raise ConfigError(f"max length {self.max_length} leaves no room for content tokens")
        self.policy = WindowPolicy.for_length(self.max_length - self.n_special, self.config.window_overlap)
        self.cls_id = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        self.sep_id = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
        self.device = device or str(next(encoder.model.parameters()).device)
        check_compute_dtype(self.config.dtype, self.device)
        # forward_passes: batches run; shards_computed: shards that needed the model
        self.stats = {"forward_passes": 0, "shards_computed": 0}

    # ------------------------------------------------------------------ keys
    def config_key(self, pretokenized: bool) -> str:
        enc = self.encoder
        d = {
            "store_schema": STORE_SCHEMA,
            "model_id": enc.model_id,
            "revision": enc.revision,
            "weights": enc.weights_sha256,
            "tokenizer": enc.tokenizer_fingerprint(),
            "config": self.config.base_key_fields(),
            "max_length": self.max_length,
            "window": dataclasses.asdict(self.policy),
            "pretokenized": pretokenized,
        }
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    # ------------------------------------------------------------- tokenize
    def tokenize(self, texts: Sequence[str] | Sequence[Sequence[str]], pretokenized: bool) -> _Tokenized:
        """Content ids, word ids, tokens, words and the word-pool mask of every text."""
        out = _Tokenized([], [], [], [], [])
        tok = self.encoder.tokenizer
        step = 1024
        with _no_length_warning(tok):
            for s in range(0, len(texts), step):
                chunk = list(texts[s : s + step])
                if pretokenized:
                    chunk = [list(ws) for ws in chunk]
                    enc = tok(chunk, is_split_into_words=True, add_special_tokens=False, truncation=False)
                else:
                    enc = tok(chunk, add_special_tokens=False, truncation=False, return_offsets_mapping=True)
                for i in range(len(chunk)):
                    ids = np.asarray(enc["input_ids"][i], dtype=np.int64)
                    wids = np.asarray([-1 if w is None else w for w in enc.word_ids(i)], dtype=np.int64)
                    toks = tok.convert_ids_to_tokens(enc["input_ids"][i])
                    if pretokenized:
                        words = chunk[i]
                    else:
                        words = _words_from_offsets(chunk[i], wids, enc["offset_mapping"][i])
                        wids = _renumber(wids)  # word ids 0..n_words-1 in order of appearance
                    out.ids.append(ids)
                    out.word_ids.append(wids)
                    out.tokens.append(toks)
                    out.words.append(words)
                    out.keep.append(self._pool_mask(toks, wids, len(words)))
        return out

    def _pool_mask(self, toks: list[str], wids: np.ndarray, n_words: int) -> np.ndarray:
        """Which subwords enter their word's pool: all but lone '▁' markers of words that have
        other pieces (a word that is *only* a marker keeps it, so it still gets a vector)."""
        keep = np.ones(len(toks), dtype=bool)
        if not self.config.drop_lone_marker or not len(toks):
            return keep
        lone = np.asarray([t in LONE_MARKERS for t in toks], dtype=bool) & (wids >= 0)
        if not lone.any():
            return keep
        size = max(n_words, int(wids.max()) + 1, 1)
        counts = np.bincount(wids[wids >= 0], minlength=size)
        lone_counts = np.bincount(wids[lone], minlength=size)
        safe = np.maximum(wids, 0)
        return keep & ~(lone & (counts[safe] > lone_counts[safe]))

    # --------------------------------------------------------------- encode
    def encode(
        self,
        texts: Sequence[str] | Sequence[Sequence[str]],
        pretokenized: bool | None = None,
        desc: str = "encoding",
    ) -> EncodedCorpus:
        """Encode ``texts`` (strings, or lists of words when ``pretokenized``)."""
        texts = list(texts)
        if pretokenized is None:
            pretokenized = bool(texts) and not isinstance(texts[0], str)
        for i, t in enumerate(texts):
            if pretokenized:
                if isinstance(t, str) or not all(isinstance(w, str) for w in t):
                    raise InputError(f"item {i} is not a list of words", path="<input>", line=i + 1)
            elif not isinstance(t, str):
                raise InputError(
                    f"item {i} is a {type(t).__name__}, not a string (pass pretokenized=True for word lists)",
                    path="<input>",
                    line=i + 1,
                )
        ckey = self.config_key(pretokenized)
        tk = self.tokenize(texts, pretokenized)
        cfg = self.config
        names = cfg.entry_names()
        results: list[ShardArrays] = []
        bar = _progress(total=len(texts), desc=desc, enabled=self.progress and len(texts) > 256)
        for lo, hi in self._plan_shards(tk):
            wanted = [(name, layer) for layer in cfg.layers for name in names]
            got: dict[EntryKey, np.ndarray] = {}
            if self.store is not None:
                skey = _shard_key(ckey, texts[lo:hi], pretokenized)
                got = self.store.get(ckey, skey, wanted)
            missing = sorted({layer for name, layer in wanted if (name, layer) not in got})
            if missing:
                new = self._compute_shard(tk, lo, hi, tuple(missing))
                want = set(wanted)
                new = {k: v for k, v in new.items() if k in want and k not in got}
                if self.store is not None:
                    meta = {"config": cfg.base_key_fields(), "pretokenized": pretokenized}
                    new = self.store.put(ckey, skey, new, meta=meta)  # memory-mapped
                got.update(new)
            arrays, meta = self._text_arrays(tk, lo, hi)
            results.append(ShardArrays(arrays=arrays, meta=meta, vectors=got))
            bar.update(hi - lo)
        bar.close()
        return EncodedCorpus(layers=cfg.layers, shards=results, config_key=ckey, word_key=cfg.word_entry())

    def _plan_shards(self, tk: _Tokenized) -> list[tuple[int, int]]:
        """Shard bounds from the texts alone (never from the layers or outputs asked for, so
        every request over the same texts meets the same shards in the store): at most
        ``shard_max_sentences`` texts, and content tokens whose vectors for *all* the model's
        layers (subword + word) fit in ``shard_max_mb``."""
        cfg = self.config
        per_token = 2 * (self.encoder.num_layers + 1) * self.encoder.hidden_size * 4
        budget = max(1, cfg.shard_max_mb * (1 << 20) // per_token)
        out: list[tuple[int, int]] = []
        lo, used = 0, 0
        for i, ids in enumerate(tk.ids):
            cost = len(ids) + 3
            if i > lo and (i - lo >= cfg.shard_max_sentences or used + cost > budget):
                out.append((lo, i))
                lo, used = i, 0
            used += cost
        if lo < len(tk.ids) or not out:
            out.append((lo, len(tk.ids)))
        return out

    def _text_arrays(self, tk: _Tokenized, lo: int, hi: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Per-text arrays of a shard (ids, word ids, pool mask, offsets) and tokens/words."""
        n = hi - lo
        sub_off = np.zeros(n + 1, dtype=np.int64)
        sub_off[1:] = np.cumsum([len(tk.ids[i]) for i in range(lo, hi)])
        word_off = np.zeros(n + 1, dtype=np.int64)
        word_off[1:] = np.cumsum([len(tk.words[i]) for i in range(lo, hi)])

        def cat(xs: list[np.ndarray], dt: Any) -> np.ndarray:
            return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)

        arrays = {
            "input_ids": cat(tk.ids[lo:hi], np.int32),
            "word_ids": cat(tk.word_ids[lo:hi], np.int32),
            "pooled_mask": cat(tk.keep[lo:hi], np.uint8),
            "subword_offsets": sub_off,
            "word_offsets": word_off,
        }
        return arrays, {"tokens": tk.tokens[lo:hi], "words": tk.words[lo:hi]}

    def _compute_shard(self, tk: _Tokenized, lo: int, hi: int, layers: tuple[int, ...]) -> dict[EntryKey, np.ndarray]:
        """Run texts ``lo:hi`` up to the deepest of ``layers``; every entry of those layers."""
        import torch

        cfg = self.config
        enc = self.encoder
        H = enc.hidden_size
        L = len(layers)
        n = hi - lo
        want_sub = "subword" in cfg.outputs
        want_word = "word" in cfg.outputs
        np_dtype = np.float16 if cfg.store_dtype == "float16" else np.float32
        self.stats["shards_computed"] += 1

        lengths = np.array([len(tk.ids[i]) for i in range(lo, hi)], dtype=np.int64)
        sub_off = np.zeros(n + 1, dtype=np.int64)
        sub_off[1:] = np.cumsum(lengths)
        n_words = np.array([len(tk.words[i]) for i in range(lo, hi)], dtype=np.int64)
        word_off = np.zeros(n + 1, dtype=np.int64)
        word_off[1:] = np.cumsum(n_words)

        # full-precision per-token buffer for the shard (content tokens, selected layers)
        # per-token buffer only when token-level outputs are wanted; sentence pools are
        # reduced on the fly, so sentence-only extraction needs O(sentences) memory
        keep_tokens = want_sub or want_word
        tokbuf = np.zeros((L, int(sub_off[-1]) if keep_tokens else 0, H), dtype=np.float32)
        content_sum = np.zeros((L, n, H), dtype=np.float32)
        cls = np.zeros((L, n, H), dtype=np.float32)
        special_sum = np.zeros((L, n, H), dtype=np.float32)
        special_cnt = np.zeros(n, dtype=np.int64)

        # windows: (text idx within shard, a, b, owned mask)
        windows: list[tuple[int, int, int, np.ndarray]] = []
        for j in range(n):
            m = int(lengths[j])
            plan = plan_windows(m, self.policy.size, self.policy.stride)
            owner = owner_of_tokens(m, plan)
            for w, (a, b) in enumerate(plan):
                windows.append((j, a, b, owner[a:b] == w))
        order = sorted(range(len(windows)), key=lambda k: windows[k][2] - windows[k][1])
        deepest = max(layers)
        model = compute_model(enc, cfg.dtype)
        bstart = 0
        with (
            torch.inference_mode(),
            capture_hidden_states(model, enc.num_layers, layers) as hs,
            truncated_layers(model, enc.num_layers, deepest),
        ):
            while bstart < len(order):
                # a batch: up to batch_size windows and max_batch_tokens padded tokens
                bend = bstart
                while bend < len(order) and bend - bstart < cfg.batch_size:
                    k = order[bend]
                    width = windows[k][2] - windows[k][1] + self.n_special
                    if bend > bstart and width * (bend - bstart + 1) > cfg.max_batch_tokens:
                        break
                    bend += 1
                batch = [windows[order[k]] for k in range(bstart, bend)]
                bstart = bend
                T = max(b - a for _, a, b, _ in batch) + self.n_special
                ids = np.full((len(batch), T), self.pad_id, dtype=np.int64)
                mask = np.zeros((len(batch), T), dtype=np.int64)
                for r, (j, a, b, _) in enumerate(batch):
                    seq = self._with_specials(tk.ids[lo + j][a:b])
                    ids[r, : len(seq)] = seq
                    mask[r, : len(seq)] = 1
                hs.clear()
                with compute_context(cfg.dtype, self.device):
                    model(
                        input_ids=torch.from_numpy(ids).to(self.device),
                        attention_mask=torch.from_numpy(mask).to(self.device),
                        return_dict=True,
                    )
                self.stats["forward_passes"] += 1
                # reduce each layer in place (no stacking copy): owned-token sums by a
                # batched mask product, first and last special token by indexing
                widths = np.array([b - a for _, a, b, _ in batch])
                owned_mask = np.zeros((len(batch), 1, T), dtype=np.float32)
                for r, (_, _, _, owned) in enumerate(batch):
                    owned_mask[r, 0, 1 : 1 + widths[r]] = owned
                mask_t = torch.from_numpy(owned_mask).to(self.device)
                rows = torch.arange(len(batch))
                last_pos = torch.from_numpy(widths + 1)
                sums = np.empty((L, len(batch), H), dtype=np.float32)
                first = np.empty((L, len(batch), H), dtype=np.float32)
                last = np.empty((L, len(batch), H), dtype=np.float32)
                per_layer = []
                for li, layer in enumerate(layers):
                    h = hs[layer].float()
                    sums[li] = torch.bmm(mask_t, h)[:, 0].cpu().numpy()
                    first[li] = h[:, 0].cpu().numpy()
                    last[li] = h[rows, last_pos].cpu().numpy()
                    if keep_tokens:
                        per_layer.append(h.cpu().numpy())
                for r, (j, a, b, owned) in enumerate(batch):
                    content_sum[:, j] += sums[:, r]
                    if a == 0:
                        cls[:, j] = first[:, r]
                    # specials of every window enter the mean_all pool
                    special_sum[:, j] += first[:, r] + last[:, r]
                    special_cnt[j] += 2
                    if keep_tokens:
                        idx = np.nonzero(owned)[0]
                        for li in range(L):
                            tokbuf[li, sub_off[j] + a + idx] = per_layer[li][r, 1 + idx]
        # sentence pools
        sent_mean = np.zeros((L, n, H), dtype=np.float32)
        n_content = lengths.astype(np.float32)
        nz = n_content > 0
        sent_mean[:, nz] = content_sum[:, nz] / n_content[nz][None, :, None]
        sent_all = (content_sum + special_sum) / (n_content + special_cnt)[None, :, None]
        out: dict[EntryKey, np.ndarray] = {}
        word = self._pool_words(tk, lo, hi, tokbuf, sub_off, word_off) if want_word else None
        for li, layer in enumerate(layers):
            out[("sentence_mean", layer)] = sent_mean[li].astype(np_dtype, copy=False)
            out[("sentence_cls", layer)] = cls[li].astype(np_dtype, copy=False)
            out[("sentence_mean_all", layer)] = sent_all[li].astype(np_dtype, copy=False)
            if word is not None:
                out[(cfg.word_entry(), layer)] = word[li].astype(np_dtype, copy=False)
            if want_sub:
                out[("subword", layer)] = tokbuf[li].astype(np_dtype, copy=False)
        return out

    def _with_specials(self, content: np.ndarray) -> np.ndarray:
        if self.n_special == 2:
            return np.concatenate([[self.cls_id], content, [self.sep_id]])
        seq = self.encoder.tokenizer.build_inputs_with_special_tokens(content.tolist())
        return np.asarray(seq, dtype=np.int64)

    def _pool_words(
        self,
        tk: _Tokenized,
        lo: int,
        hi: int,
        tokbuf: np.ndarray,
        sub_off: np.ndarray,
        word_off: np.ndarray,
    ) -> np.ndarray:
        L, _, H = tokbuf.shape
        out = np.zeros((L, int(word_off[-1]), H), dtype=np.float32)
        for j in range(hi - lo):
            wids = tk.word_ids[lo + j]
            keep = tk.keep[lo + j] & (wids >= 0)
            nw = len(tk.words[lo + j])
            if nw == 0 or not keep.any():
                continue
            s = sub_off[j]
            pos = np.nonzero(keep)[0]
            w = wids[pos]
            target = word_off[j] + w
            if self.config.word_pooling == "first":
                first = np.unique(w, return_index=True)[1]
                out[:, target[first]] = tokbuf[:, s + pos[first]]
            else:
                counts = np.bincount(w, minlength=nw).astype(np.float32)
                acc = np.zeros((L, nw, H), dtype=np.float32)
                for li in range(L):
                    np.add.at(acc[li], w, tokbuf[li, s + pos])
                nz = counts > 0
                acc[:, nz] /= counts[nz][None, :, None]
                out[:, word_off[j] : word_off[j] + nw] = acc
        return out


@contextlib.contextmanager
def _no_length_warning(tok: Any) -> Iterator[None]:
    """Long inputs are windowed here, so the tokenizer's 'sequence too long' warning is moot."""
    old = tok.model_max_length
    tok.model_max_length = int(1e30)
    try:
        yield
    finally:
        tok.model_max_length = old


def _renumber(wids: np.ndarray) -> np.ndarray:
    out = wids.copy()
    mapping: dict[int, int] = {}
    for i, w in enumerate(wids):
        if w < 0:
            continue
        if w not in mapping:
            mapping[int(w)] = len(mapping)
        out[i] = mapping[int(w)]
    return out


def _words_from_offsets(text: str, wids: np.ndarray, offsets: Sequence[Sequence[int]]) -> list[str]:
    spans: dict[int, list[int]] = {}
    order: list[int] = []
    for w, (a, b) in zip(wids.tolist(), offsets):
        if w < 0:
            continue
        if w not in spans:
            spans[w] = [a, b]
            order.append(w)
        else:
            spans[w][0] = min(spans[w][0], a)
            spans[w][1] = max(spans[w][1], b)
    return [text[spans[w][0] : spans[w][1]].strip() for w in order]


def _shard_key(config_key: str, texts: Sequence[Any], pretokenized: bool) -> str:
    h = hashlib.sha256(config_key.encode())
    for t in texts:
        if pretokenized:
            h.update("\x1e".join(t).encode("utf-8", "surrogatepass"))
        else:
            h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    h.update(str(len(texts)).encode())
    return h.hexdigest()


class _NoBar:
    def update(self, n: int) -> None:  # noqa: D401
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sent", file=sys.stderr, leave=False)
