"""Compute precision (fp32 / bf16 autocast / int8 dynamic quantisation): vectors close to
fp32, support detection with a clear ConfigError, the dtypes in the store key and in every
result's provenance, and the CLI options that set them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mbert_lab.encode import precision
from mbert_lab.encode.extractor import ExtractConfig, Extractor
from mbert_lab.encode.store import Store
from mbert_lab.errors import ConfigError
from mbert_lab.results import Provenance

from .conftest import TOY_CORPUS

ALL = ("sentence", "word", "subword")
LAYERS = (0, 2, 4)

# Measured on the tiny random BERTs (WordPiece and SentencePiece, TOY_CORPUS, layers 0, 2, 4):
# per-token cosine to fp32 >= 1 - 7.2e-5 (bf16 weights copy) and >= 1 - 2.4e-7 (int8); largest
# absolute difference 4.8e-2 (bf16) and 1.8e-3 (int8). The bounds below leave a margin of 5-40x;
# the lower bounds on the difference show that the precision really changed (an ignored dtype
# gives exactly fp32). (The tiny random model's states are dominated by its embeddings, hence
# cosines this close to 1; the offline model's figures on Tatoeba are in extract_bench.)
COS_MIN = {"bf16": 1 - 5e-4, "int8": 1 - 1e-5}
MAX_DIFF = {"bf16": 0.25, "int8": 2.5e-2}
MIN_DIFF = {"bf16": 1e-3, "int8": 1e-4}


@pytest.fixture
def bf16_ok(monkeypatch):
    """bf16 runs anywhere under autocast (emulated where the CPU lacks it): let it run here."""
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: True)


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


@pytest.mark.parametrize("fixture", ["tiny_encoder", "tiny_sp_encoder"])
@pytest.mark.parametrize("dtype", ["bf16", "int8"])
def test_low_precision_close_to_fp32(request, fixture, dtype, bf16_ok):
    enc = request.getfixturevalue(fixture)
    ref = Extractor(enc, ExtractConfig(layers=LAYERS, outputs=ALL), progress=False).encode(TOY_CORPUS)
    low = Extractor(enc, ExtractConfig(layers=LAYERS, outputs=ALL, dtype=dtype), progress=False).encode(TOY_CORPUS)
    if dtype == "int8":  # the embeddings (layer 0) run no Linear layer: unchanged
        np.testing.assert_array_equal(low.sentence(0), ref.sentence(0))
    for layer in (2, 4):
        a = np.concatenate([ref.subwords(i, layer) for i in range(len(ref))])
        b = np.concatenate([low.subwords(i, layer) for i in range(len(low))])
        assert _cos(a, b).min() >= COS_MIN[dtype]
        assert _cos(ref.sentence(layer), low.sentence(layer)).min() >= COS_MIN[dtype]
        diff = np.abs(a - b).max()
        assert MIN_DIFF[dtype] < diff < MAX_DIFF[dtype], diff
        w = np.abs(ref.word_matrix(layer) - low.word_matrix(layer)).max()
        assert w < MAX_DIFF[dtype]
        assert low.sentence(layer).dtype == np.float32


def test_bf16_runs_the_matmuls_in_bf16(tiny_encoder, bf16_ok):
    seen: list[torch.dtype] = []
    lin = precision.compute_model(tiny_encoder, "bf16").encoder.layer[0].intermediate.dense
    h = lin.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    try:
        Extractor(tiny_encoder, ExtractConfig(layers=(1,), dtype="bf16"), progress=False).encode(TOY_CORPUS[:2])
    finally:
        h.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert precision.compute_model(tiny_encoder, "bf16") is precision.compute_model(tiny_encoder, "bf16")
    assert next(tiny_encoder.model.parameters()).dtype == torch.float32  # a copy, made once


def test_int8_quantises_a_copy_once(tiny_encoder):
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    first = Extractor(tiny_encoder, ExtractConfig(layers=(2,), dtype="int8"), progress=False)
    a = first.encode(TOY_CORPUS[:3])
    q = tiny_encoder.extra["_compute_models"]["int8"][1]
    assert isinstance(q.encoder.layer[0].attention.self.query, QLinear)
    assert isinstance(q.encoder.layer[0].intermediate.dense, QLinear)
    # the feed-forward down-projection (narrows the width; outliers in its input) stays fp32
    assert type(q.encoder.layer[0].output.dense) is torch.nn.Linear
    assert isinstance(tiny_encoder.model.encoder.layer[0].attention.self.query, torch.nn.Linear)
    assert len(tiny_encoder.model.encoder.layer) == 4 and len(q.encoder.layer) == 4  # both restored
    second = Extractor(tiny_encoder, ExtractConfig(layers=(2,), dtype="int8"), progress=False)
    b = second.encode(TOY_CORPUS[:3])
    assert tiny_encoder.extra["_compute_models"]["int8"][1] is q, "quantised once per encoder"
    np.testing.assert_array_equal(a.sentence(2), b.sentence(2))
    # another model on the same encoder object: quantised again, not the stale copy
    import copy

    tiny_encoder.model = copy.deepcopy(tiny_encoder.model)
    Extractor(tiny_encoder, ExtractConfig(layers=(2,), dtype="int8"), progress=False).encode(TOY_CORPUS[:1])
    assert tiny_encoder.extra["_compute_models"]["int8"][1] is not q


def test_int8_stops_at_the_deepest_layer(tiny_encoder):
    Extractor(tiny_encoder, ExtractConfig(layers=(1,), dtype="int8"), progress=False).encode(TOY_CORPUS[:1])
    q = tiny_encoder.extra["_compute_models"]["int8"][1]
    calls: list[int] = []
    hooks = [m.register_forward_hook(lambda *_a, i=i: calls.append(i)) for i, m in enumerate(q.encoder.layer)]
    try:
        Extractor(tiny_encoder, ExtractConfig(layers=(2,), dtype="int8"), progress=False).encode(TOY_CORPUS[:3])
    finally:
        for hk in hooks:
            hk.remove()
    assert sorted(set(calls)) == [0, 1]


@pytest.mark.parametrize("dtype", ["bf16", "int8"])
def test_dtype_is_in_the_store_key(tiny_encoder, tmp_path, dtype, bf16_ok):
    store = Store(tmp_path)
    cfg = dict(layers=(2,), outputs=("sentence",))
    Extractor(tiny_encoder, ExtractConfig(**cfg), store=store, progress=False).encode(TOY_CORPUS[:4])
    ex = Extractor(tiny_encoder, ExtractConfig(**cfg, dtype=dtype), store=store, progress=False)
    low = ex.encode(TOY_CORPUS[:4])
    assert ex.stats["forward_passes"] == 1 and store.stats["writes"] == 6, "a changed dtype is a miss"
    again = Extractor(tiny_encoder, ExtractConfig(**cfg, dtype=dtype), store=store, progress=False)
    np.testing.assert_array_equal(again.encode(TOY_CORPUS[:4]).sentence(2), low.sentence(2))
    assert again.stats["forward_passes"] == 0, "the same dtype again is a hit"
    assert ex.config_key(False) != Extractor(tiny_encoder, ExtractConfig(**cfg), progress=False).config_key(False)


def test_float16_storage(tiny_encoder, tmp_path):
    store = Store(tmp_path)
    ref = Extractor(tiny_encoder, ExtractConfig(layers=(3,), outputs=ALL), progress=False).encode(TOY_CORPUS)
    half = Extractor(tiny_encoder, ExtractConfig(layers=(3,), outputs=ALL, store_dtype="float16"),
                     store=store, progress=False).encode(TOY_CORPUS)
    assert half.shards[0].vectors[("subword", 3)].dtype == np.float16
    assert half.subwords(0, 3).dtype == np.float32  # callers always get float32
    assert _cos(ref.sentence(3), half.sentence(3)).min() > 1 - 1e-5
    assert np.abs(ref.sentence(3) - half.sentence(3)).max() < 5e-3


def test_unsupported_dtype_is_a_config_error(tiny_encoder, monkeypatch):
    with pytest.raises(ConfigError, match="did you mean 'bf16'"):
        ExtractConfig(dtype="bf61")
    with pytest.raises(ConfigError, match="valid choices"):
        ExtractConfig(dtype="fp16")
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: False)
    with pytest.raises(ConfigError, match="AVX512_BF16"):
        Extractor(tiny_encoder, ExtractConfig(layers=(1,), dtype="bf16"), progress=False)
    monkeypatch.setattr(precision, "int8_engine", lambda: None)
    with pytest.raises(ConfigError, match="quantised engine"):
        Extractor(tiny_encoder, ExtractConfig(layers=(1,), dtype="int8"), progress=False)
    with pytest.raises(ConfigError, match="CPU only"):
        precision.check_compute_dtype("int8", "cuda:0")
    precision.check_compute_dtype("fp32", "cpu")  # always fine


def test_support_detection_reads_the_cpu():
    flags = precision.cpu_flags()
    assert isinstance(flags, frozenset)
    if {"avx512_bf16", "amx_bf16"} & flags:
        assert precision.cpu_supports_bf16()
    assert precision.int8_engine() in (None, "x86", "fbgemm")


def test_encoder_options_validate_dtypes(monkeypatch):
    from mbert_lab.studies.base import EncoderOptions

    assert EncoderOptions().dtype == "fp32" and EncoderOptions().store_dtype == "float32"
    assert EncoderOptions(dtype="int8", store_dtype="float16").to_dict()["dtype"] == "int8"
    with pytest.raises(ConfigError, match="dtype: unknown value 'in8'"):
        EncoderOptions(dtype="in8")
    with pytest.raises(ConfigError, match="store_dtype: unknown value 'bf16'"):
        EncoderOptions(store_dtype="bf16")
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: False)
    with pytest.raises(ConfigError, match="bf16 needs a CPU"):
        EncoderOptions(dtype="bf16")
    EncoderOptions(dtype="fp32")  # no support check when not asked for


def test_provenance_carries_the_dtype(tiny_encoder, tmp_path):
    from mbert_lab.studies.representations import RepresentationsConfig, RepresentationsResult, extract

    cfg = RepresentationsConfig(texts=TOY_CORPUS[:3], layers="2", dtype="int8", store_dtype="float16", cache=False)
    r = extract(cfg, encoder=tiny_encoder)
    assert r.provenance.dtype == "int8"
    assert r.provenance.config["store_dtype"] == "float16"
    back = RepresentationsResult.load(r.save(tmp_path))
    assert back.provenance.dtype == "int8"
    ref = extract(RepresentationsConfig(texts=TOY_CORPUS[:3], layers="2", cache=False), encoder=tiny_encoder)
    assert ref.provenance.dtype == "fp32"
    assert not np.array_equal(ref.corpus.sentence(2), r.corpus.sentence(2))  # the dtype took effect
    old = {k: v for k, v in ref.to_dict()["provenance"].items() if k != "dtype"}
    assert Provenance.from_dict(old).dtype == "fp32"  # records written before the field


def test_cli_options_reach_the_config(tmp_path):
    """--dtype / --store-dtype on a command that encodes, through the real entry point."""
    import os
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "mbert_lab", "extract", "--text", "Hallo Welt", "--out", str(tmp_path / "x.npz")]
        return subprocess.run(cmd + list(args) + ["--print-config"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=60)

    out = cli("--dtype", "int8", "--store-dtype", "float16")
    assert out.returncode == 0, out.stderr
    assert 'dtype = "int8"' in out.stdout and 'store_dtype = "float16"' in out.stdout
    default = cli()
    assert 'dtype = "fp32"' in default.stdout and 'store_dtype = "float32"' in default.stdout
    bad = cli("--dtype", "in8")
    assert bad.returncode == 2
    last = bad.stderr.strip().splitlines()[-1]
    assert last.endswith("dtype: unknown value 'in8' (did you mean 'int8'?); valid choices: fp32, bf16, int8")
