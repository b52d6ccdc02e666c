"""Extractor: equality with a plain forward pass, batch invariance, early stop, windows,
word pooling, the store (hits, misses on every key field, corruption, resume)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbert_lab.encode.extractor import ExtractConfig, Extractor, truncated_layers
from mbert_lab.encode.store import Store
from mbert_lab.encode.windows import WindowPolicy, owner_of_tokens, plan_windows
from mbert_lab.errors import ConfigError, InputError

from .conftest import TOY_CORPUS

ALL = ("sentence", "word", "subword")


def plain_hidden(enc, text: str) -> list[np.ndarray]:
    """Reference: one sentence, HF tokenizer with specials, full forward, all hidden states."""
    batch = enc.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        out = enc.model(**batch, output_hidden_states=True)
    return [h[0].numpy() for h in out.hidden_states]


@pytest.mark.parametrize("fixture", ["tiny_encoder", "tiny_sp_encoder"])
def test_matches_plain_forward(fixture, request):
    enc = request.getfixturevalue(fixture)
    ex = Extractor(enc, ExtractConfig(layers=(0, 2, 4), outputs=ALL), progress=False)
    corpus = ex.encode(TOY_CORPUS)
    for i, text in enumerate(TOY_CORPUS):
        ref = plain_hidden(enc, text)
        for layer in (0, 2, 4):
            sub = corpus.subwords(i, layer)
            np.testing.assert_allclose(sub, ref[layer][1:-1], atol=1e-5)
            np.testing.assert_allclose(corpus.sentence(layer)[i], ref[layer][1:-1].mean(0), atol=1e-5)
            np.testing.assert_allclose(corpus.sentence(layer, "cls")[i], ref[layer][0], atol=1e-5)
            np.testing.assert_allclose(corpus.sentence(layer, "mean_all")[i], ref[layer].mean(0), atol=1e-5)


def test_vector_independent_of_batch_mates(tiny_encoder):
    """Padding never leaks in: a sentence's vector is the same alone and in any batch."""
    cfg = ExtractConfig(layers=(4,), outputs=ALL, batch_size=5)
    ex = Extractor(tiny_encoder, cfg, progress=False)
    target = TOY_CORPUS[0]
    alone = ex.encode([target])
    others = [TOY_CORPUS[5], TOY_CORPUS[10] * 2, TOY_CORPUS[11], "a"]
    mixed = ex.encode(others[:2] + [target] + others[2:])
    np.testing.assert_allclose(mixed.sentence(4)[2], alone.sentence(4)[0], atol=1e-5)
    np.testing.assert_allclose(mixed.subwords(2, 4), alone.subwords(0, 4), atol=1e-5)
    np.testing.assert_allclose(mixed.words(2, 4), alone.words(0, 4), atol=1e-5)


def test_stops_at_deepest_requested_layer(tiny_encoder):
    calls: list[int] = []
    layers = tiny_encoder.model.encoder.layer
    hooks = [m.register_forward_hook(lambda *_a, i=i: calls.append(i)) for i, m in enumerate(layers)]
    try:
        ex = Extractor(tiny_encoder, ExtractConfig(layers=(2,)), progress=False)
        shallow = ex.encode(TOY_CORPUS[:3])
    finally:
        for h in hooks:
            h.remove()
    assert sorted(set(calls)) == [0, 1], "layers beyond the deepest requested one must not run"
    assert len(tiny_encoder.model.encoder.layer) == 4, "the model is restored afterwards"
    full = Extractor(tiny_encoder, ExtractConfig(layers=(0, 1, 2, 3, 4)), progress=False).encode(TOY_CORPUS[:3])
    np.testing.assert_allclose(shallow.sentence(2), full.sentence(2), atol=1e-6)


def test_truncated_layers_restores_on_error(tiny_encoder):
    with pytest.raises(RuntimeError):
        with truncated_layers(tiny_encoder.model, 4, 1):
            assert len(tiny_encoder.model.encoder.layer) == 1
            raise RuntimeError("boom")
    assert len(tiny_encoder.model.encoder.layer) == 4


def test_word_pooling_mean_and_first(tiny_encoder):
    words = [["Hello", "wonderful", "world", "!"], ["Fuchs", "springt"]]
    for pooling in ("mean", "first"):
        ex = Extractor(tiny_encoder, ExtractConfig(layers=(3,), outputs=ALL, word_pooling=pooling), progress=False)
        c = ex.encode(words)
        for i, ws in enumerate(words):
            sub, wid, wv = c.subwords(i, 3), c.word_ids(i), c.words(i, 3)
            assert wv.shape == (len(ws), 32)
            for w in range(len(ws)):
                pieces = sub[wid == w]
                expect = pieces.mean(0) if pooling == "mean" else pieces[0]
                np.testing.assert_allclose(wv[w], expect, atol=1e-6)


def test_lone_metaspace_pieces_dropped_from_word_pool(tiny_sp_encoder):
    ex = Extractor(tiny_sp_encoder, ExtractConfig(layers=(2,), outputs=ALL), progress=False)
    c = ex.encode([["敏捷的", "棕色", "狐狸"]])
    toks, wid, mask = c.tokens(0), c.word_ids(0), c.pooled_mask(0)
    assert "▁" in toks
    assert not any(m for t, m in zip(toks, mask) if t == "▁")
    sub = c.subwords(0, 2)
    for w in range(3):
        sel = (wid == w) & mask
        np.testing.assert_allclose(c.words(0, 2)[w], sub[sel].mean(0), atol=1e-6)
    keep_all = Extractor(
        tiny_sp_encoder, ExtractConfig(layers=(2,), outputs=ALL, drop_lone_marker=False), progress=False
    ).encode([["敏捷的", "棕色", "狐狸"]])
    assert keep_all.pooled_mask(0).all()


def test_windows_plan_and_owner():
    assert plan_windows(0, 4, 2) == [(0, 0)]
    assert plan_windows(4, 4, 2) == [(0, 4)]
    assert plan_windows(9, 4, 2) == [(0, 4), (2, 6), (4, 8), (5, 9)]
    own = owner_of_tokens(9, plan_windows(9, 4, 2))
    # every token owned by a window that contains it
    for t, w in enumerate(own):
        a, b = plan_windows(9, 4, 2)[w]
        assert a <= t < b
    with pytest.raises(ConfigError):
        WindowPolicy(size=4, stride=5)


def test_long_input_windowed_not_truncated(tiny_encoder):
    text = " ".join(["fox dog tea"] * 60)  # far beyond max_length=64
    ex = Extractor(tiny_encoder, ExtractConfig(layers=(4,), outputs=ALL, window_overlap=16), progress=False)
    c = ex.encode([text])
    n = len(tiny_encoder.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert c.subwords(0, 4).shape == (n, 32)
    assert np.isfinite(c.subwords(0, 4)).all()
    # a token in the middle of its owning window equals a direct run of that window
    plan = plan_windows(n, ex.policy.size, ex.policy.stride)
    a, b = plan[1]
    ids = tiny_encoder.tokenizer(text, add_special_tokens=False)["input_ids"]
    seq = torch.tensor([[ex.cls_id] + ids[a:b] + [ex.sep_id]])
    with torch.inference_mode():
        direct = tiny_encoder.model(input_ids=seq, output_hidden_states=True).hidden_states[4][0, 1:-1]
    mid = (a + b) // 2
    np.testing.assert_allclose(c.subwords(0, 4)[mid], direct[mid - a].numpy(), atol=1e-5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["", " ", "😀🎉 emoji", "שלום עולם", "مرحبا بالعالم", "\u200f\u200e", "a\u0301"]),
            st.integers(min_value=1, max_value=2000).map(lambda n: " ".join(["word"] * n)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_text_edge_cases_never_crash(_tiny_sp_session, texts):
    ex = Extractor(_tiny_sp_session, ExtractConfig(layers=(1,), outputs=ALL), progress=False)
    c = ex.encode(texts)
    assert len(c) == len(texts)
    for i in range(len(texts)):
        assert np.isfinite(c.subwords(i, 1)).all()
        assert c.words(i, 1).shape[0] == len(c.words_text(i))
    assert np.isfinite(c.sentence(1)).all()


def test_bad_inputs(tiny_encoder):
    with pytest.raises(ConfigError, match="out of range"):
        Extractor(tiny_encoder, ExtractConfig(layers=(9,)))
    with pytest.raises(ConfigError, match="valid choices"):
        ExtractConfig(word_pooling="max")
    ex = Extractor(tiny_encoder, ExtractConfig(layers=(1,)), progress=False)
    with pytest.raises(InputError, match="not a string"):
        ex.encode(["ok", 3])  # type: ignore[list-item]


# ------------------------------------------------------------------------- store
def _ex(enc, store, **kw):
    base = dict(layers=(1, 3), outputs=ALL, shard_max_sentences=4)
    base.update(kw)
    return Extractor(enc, ExtractConfig(**base), store=store, progress=False)


PER_LAYER = 5  # entries per shard and layer with ALL outputs: 3 sentence pools, word, subword


def test_store_reuse_and_equality(tiny_encoder, tmp_path):
    store = Store(tmp_path)
    first = _ex(tiny_encoder, store).encode(TOY_CORPUS)
    assert store.stats["writes"] == 3 * 2 * PER_LAYER  # 12 sentences / 4 per shard, 2 layers
    ex = _ex(tiny_encoder, store)
    second = ex.encode(TOY_CORPUS)
    assert store.stats["writes"] == 30 and store.stats["hits"] == 30
    assert ex.stats == {"forward_passes": 0, "shards_computed": 0}
    np.testing.assert_array_equal(first.sentence(3), second.sentence(3))
    assert second.tokens(5) == first.tokens(5)
    np.testing.assert_array_equal(first.subwords(7, 1), second.subwords(7, 1))
    np.testing.assert_array_equal(first.words(7, 3), second.words(7, 3))
    assert not isinstance(second.shards[0].vectors[("subword", 1)], np.memmap)  # small: in memory
    mapped = _ex(tiny_encoder, Store(tmp_path, mmap_min_bytes=0)).encode(TOY_CORPUS)
    assert isinstance(mapped.shards[0].vectors[("subword", 1)], np.memmap)
    np.testing.assert_array_equal(mapped.subwords(7, 1), first.subwords(7, 1))
    assert second.subwords_all_layers(2).shape == (2, len(second.tokens(2)), 32)
    # the same vectors as without a store
    plain = Extractor(tiny_encoder, ExtractConfig(layers=(1, 3), outputs=ALL), progress=False).encode(TOY_CORPUS)
    np.testing.assert_allclose(second.words(7, 3), plain.words(7, 3), atol=1e-6)


def _count_blocks(enc):
    """A list that each transformer block appends its index to when it runs, and the hooks."""
    calls: list[int] = []
    hooks = [m.register_forward_hook(lambda *_a, i=i: calls.append(i)) for i, m in enumerate(enc.model.encoder.layer)]
    return calls, hooks


def test_subset_of_stored_layers_encodes_nothing(tiny_encoder, tmp_path):
    """`align --layers 3` after `align-eval --layers 1,2,3` over the same texts: no forward."""
    store = Store(tmp_path)
    multi = _ex(tiny_encoder, store, layers=(1, 2, 3)).encode(TOY_CORPUS)
    calls, hooks = _count_blocks(tiny_encoder)
    try:
        for layers in [(3,), (1, 3), (2,)]:
            ex = _ex(tiny_encoder, store, layers=layers)
            one = ex.encode(TOY_CORPUS)
            assert ex.stats["forward_passes"] == 0 and ex.stats["shards_computed"] == 0
            for layer in layers:
                np.testing.assert_array_equal(one.sentence(layer), multi.sentence(layer))
                np.testing.assert_array_equal(one.subwords(4, layer), multi.subwords(4, layer))
            with pytest.raises(KeyError, match="not extracted"):
                one.sentence(0)
        # fewer outputs than were stored: also nothing to run
        _ex(tiny_encoder, store, layers=(2,), outputs=("sentence",)).encode(TOY_CORPUS)
    finally:
        for h in hooks:
            h.remove()
    assert calls == [], "no transformer block may run when every requested layer is stored"
    assert store.stats["writes"] == 3 * 3 * PER_LAYER


def test_one_more_layer_computes_only_what_is_missing(tiny_encoder, tmp_path):
    store = Store(tmp_path)
    _ex(tiny_encoder, store, layers=(1, 3)).encode(TOY_CORPUS)
    writes = store.stats["writes"]
    calls, hooks = _count_blocks(tiny_encoder)
    try:
        ex = _ex(tiny_encoder, store, layers=(1, 2, 3))
        c = ex.encode(TOY_CORPUS)
    finally:
        for h in hooks:
            h.remove()
    # only layer 2 was missing: blocks 1 and 2 ran (indices 0, 1), never block 3 (index 2)
    assert sorted(set(calls)) == [0, 1]
    assert store.stats["writes"] == writes + 3 * PER_LAYER  # one layer of 3 shards
    assert ex.stats["shards_computed"] == 3
    ref = Extractor(tiny_encoder, ExtractConfig(layers=(1, 2, 3), outputs=ALL), progress=False).encode(TOY_CORPUS)
    for layer in (1, 2, 3):
        np.testing.assert_allclose(c.sentence(layer), ref.sentence(layer), atol=1e-6)
        np.testing.assert_allclose(c.words(6, layer), ref.words(6, layer), atol=1e-6)
    # a new output for stored layers: computed (one forward) and only the new entries written
    writes = store.stats["writes"]
    _ex(tiny_encoder, store, layers=(1, 2, 3), word_pooling="first").encode(TOY_CORPUS)
    assert store.stats["writes"] == writes + 3 * 3  # word.first for 3 layers of 3 shards


def test_shards_do_not_depend_on_layers_or_outputs(tiny_encoder):
    ex_a = _ex(tiny_encoder, None, layers=(1,), outputs=("sentence",), shard_max_sentences=512)
    ex_b = _ex(tiny_encoder, None, layers=(0, 1, 2, 3, 4), outputs=ALL, shard_max_sentences=512)
    texts = TOY_CORPUS * 100
    plan_a = ex_a._plan_shards(ex_a.tokenize(texts, False))
    assert plan_a == ex_b._plan_shards(ex_b.tokenize(texts, False))
    assert len(plan_a) == 3 and all(hi - lo <= 512 for lo, hi in plan_a)
    assert ex_a.config_key(False) == ex_b.config_key(False)


@pytest.mark.parametrize(
    "change",
    [
        {"max_length": 32},
        {"window_overlap": 3},
        {"word_pooling": "first"},
        {"drop_lone_marker": False},
        {"store_dtype": "float16"},
        {"dtype": "int8"},
    ],
)
def test_store_key_covers_every_field(tiny_encoder, tmp_path, change):
    store = Store(tmp_path)
    _ex(tiny_encoder, store).encode(TOY_CORPUS[:4])
    writes = store.stats["writes"]
    _ex(tiny_encoder, store, **change).encode(TOY_CORPUS[:4])
    assert store.stats["writes"] > writes, f"changing {change} must be a cache miss"


def test_old_storage_dtype_spelling():
    assert ExtractConfig(dtype="float16").store_dtype == "float16"
    assert ExtractConfig(dtype="float16").dtype == "fp32"
    assert ExtractConfig(store_dtype="float16").key_fields()["store_dtype"] == "float16"
    with pytest.raises(ConfigError, match="valid choices"):
        ExtractConfig(store_dtype="int8")


def test_store_key_covers_model_tokenizer_and_text(tiny_encoder, tmp_path):
    store = Store(tmp_path)
    ex = lambda: _ex(tiny_encoder, store, layers=(1,), outputs=("sentence",))  # noqa: E731
    ex().encode(TOY_CORPUS[:4])
    assert store.stats["writes"] == 3
    tiny_encoder.weights_sha256 = "other-weights"
    ex().encode(TOY_CORPUS[:4])
    assert store.stats["writes"] == 6
    tiny_encoder.revision = "other-revision"
    ex().encode(TOY_CORPUS[:4])
    assert store.stats["writes"] == 9
    tiny_encoder.extra["_tok_fp"] = "another-tokenizer"
    ex().encode(TOY_CORPUS[:4])
    assert store.stats["writes"] == 12
    ex().encode(TOY_CORPUS[:3] + ["changed text"])
    assert store.stats["writes"] == 15
    ex().encode([s.split() for s in TOY_CORPUS[:4]])  # pre-tokenized
    assert store.stats["writes"] == 18
    ex().encode(TOY_CORPUS[:4])
    assert store.stats["writes"] == 18


@pytest.mark.parametrize("mmap_min_bytes", [0, 1 << 20])  # memory-mapped / read whole
def test_store_detects_corruption(tiny_encoder, tmp_path, mmap_min_bytes):
    store = Store(tmp_path, mmap_min_bytes=mmap_min_bytes)
    ref = _ex(tiny_encoder, store).encode(TOY_CORPUS[:4])
    ref_vec = np.array(ref.subwords(2, 3))
    del ref
    shard_files = list(tmp_path.rglob("subword.L3.npy"))
    assert len(shard_files) == 1
    data = bytearray(shard_files[0].read_bytes())
    data[-7] ^= 0xFF
    shard_files[0].write_bytes(bytes(data))
    writes = store.stats["writes"]
    ex = _ex(tiny_encoder, store)
    again = ex.encode(TOY_CORPUS[:4])
    assert store.stats["corrupt"] == 1 and store.stats["writes"] == writes + 1  # that entry rewritten
    assert ex.stats["shards_computed"] == 1
    np.testing.assert_allclose(again.subwords(2, 3), ref_vec, atol=1e-6)
    # a missing data file or a garbled manifest is a miss too, never a crash
    next(tmp_path.rglob("word.mean.L1.npy")).unlink()
    next(tmp_path.rglob("sentence_cls.L1.json")).write_text("{not json")
    _ex(tiny_encoder, store).encode(TOY_CORPUS[:4])
    assert store.stats["corrupt"] == 3 and store.stats["writes"] == writes + 3
    _ex(tiny_encoder, store).encode(TOY_CORPUS[:4])
    assert store.stats["corrupt"] == 3 and store.stats["writes"] == writes + 3


def test_killed_run_resumes(tiny_encoder, tmp_path, monkeypatch):
    store = Store(tmp_path)
    ex = _ex(tiny_encoder, store)
    real = ex._compute_shard
    done = []

    def dying(tk, lo, hi, layers):
        if done:
            raise KeyboardInterrupt  # killed while computing the second shard
        done.append(lo)
        return real(tk, lo, hi, layers)

    monkeypatch.setattr(ex, "_compute_shard", dying)
    with pytest.raises(KeyboardInterrupt):
        ex.encode(TOY_CORPUS)
    assert store.stats["writes"] == 2 * PER_LAYER
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert not leftovers, f"no temporary files may remain: {leftovers}"
    again = _ex(tiny_encoder, store)
    resumed = again.encode(TOY_CORPUS)
    assert again.stats["shards_computed"] == 2  # one shard reused, two computed
    assert store.stats["writes"] == 3 * 2 * PER_LAYER
    assert len(resumed) == len(TOY_CORPUS)


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_store_files_follow_the_umask(tiny_encoder, tmp_path, mask):
    old = os.umask(mask)
    try:
        _ex(tiny_encoder, Store(tmp_path / "store")).encode(TOY_CORPUS[:4])
    finally:
        os.umask(old)
    paths = list((tmp_path / "store").rglob("*"))
    assert len([p for p in paths if p.suffix == ".npy"]) == 2 * PER_LAYER
    for p in paths:
        want = (0o777 if p.is_dir() else 0o666) & ~mask
        assert p.stat().st_mode & 0o777 == want, p


def test_shards_bound_memory(tiny_encoder, tmp_path):
    c = _ex(tiny_encoder, Store(tmp_path), shard_max_sentences=2).encode(TOY_CORPUS)
    assert len(c.shards) == 6
    assert all(s.n <= 2 for s in c.shards)
    assert os.path.isdir(tmp_path)


@pytest.mark.parametrize("arch", ["xlm-roberta", "distilbert"])
def test_other_architectures(_tiny_sp_session, arch):
    """XLM-R (position offset) and DistilBERT (transformer.layer, no token types) work too."""
    import copy

    from transformers import DistilBertConfig, DistilBertModel, XLMRobertaConfig, XLMRobertaModel

    enc = copy.deepcopy(_tiny_sp_session)
    tok = enc.tokenizer
    torch.manual_seed(0)
    if arch == "xlm-roberta":
        cfg = XLMRobertaConfig(
            vocab_size=len(tok), hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=66, pad_token_id=tok.pad_token_id,
        )
        enc.model = XLMRobertaModel(cfg, add_pooling_layer=False).eval()
    else:
        cfg = DistilBertConfig(
            vocab_size=len(tok), dim=32, n_layers=3, n_heads=4, hidden_dim=64,
            max_position_embeddings=64, pad_token_id=tok.pad_token_id,
        )
        enc.model = DistilBertModel(cfg).eval()
    enc.num_layers = 3
    ex = Extractor(enc, ExtractConfig(layers=(0, 2), outputs=ALL, batch_size=3), progress=False)
    c = ex.encode(TOY_CORPUS)
    for i, text in enumerate(TOY_CORPUS):
        ref = plain_hidden(enc, text)
        np.testing.assert_allclose(c.subwords(i, 2), ref[2][1:-1], atol=1e-5)
        np.testing.assert_allclose(c.subwords(i, 0), ref[0][1:-1], atol=1e-5)
