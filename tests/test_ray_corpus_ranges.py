"""The byte ranges a text file is cut into for Ray tasks, read by the project's line rule,
give the lines (and the errors, at the same file:line) of the one-process reader. No Ray."""

from __future__ import annotations

import itertools
import random

import pytest

from mbert_lab.data.readers.text import read_sentences
from mbert_lab.distributed.corpus import byte_ranges, read_range
from mbert_lab.errors import InputError


def _read_by_ranges(path, block):
    """What the cluster reads: every range's rows, the first error row as file:line."""
    got, line = [], 0
    for k, (a, b) in enumerate(byte_ranges(path, block)):
        r = read_range(str(path), a, b, k)
        for t, e in zip(r["text"], r["err"]):
            if e is not None:
                n, msg = e.split("\t", 1)
                raise InputError(msg, path, line + int(n))
            got.append(t)
        line += len(r["text"])
    if not got:
        raise InputError("no sentences (the file is empty)", path)
    return got


@pytest.mark.parametrize("seed", range(40))
def test_ranges_read_like_the_whole_file(tmp_path, seed):
    rng = random.Random(seed)
    pieces = ["a", "bé", "日本語", "\ufeffx", " \tpad\t ", "\u3000", "c\u2028d", "\x0cf"]
    lines = [rng.choice(pieces) * rng.randint(1, 3) for _ in range(rng.randint(1, 60))]
    if rng.random() < 0.2:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["", " \t"]))
    body = "".join(ln + rng.choice(["\n", "\r\n", "\r"]) for ln in lines)
    data = (("\ufeff" if rng.random() < 0.3 else "") + body).encode("utf-8")
    if rng.random() < 0.2:
        cut = rng.randrange(len(data) + 1)
        data = data[:cut] + b"\xff" + data[cut:]
    p = tmp_path / "f.txt"
    p.write_bytes(data)
    block = rng.randint(1, 40)
    ranges = byte_ranges(p, block)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(b == c for (_, b), (c, _) in itertools.pairwise(ranges))
    try:
        want = read_sentences(p)
    except InputError as e:
        with pytest.raises(InputError) as got:
            _read_by_ranges(p, block)
        if "UTF-8" in str(e) and "UTF-8" in str(got.value):
            assert str(got.value) == str(e)  # the same line and byte offset
        elif "UTF-8" not in str(e) and "UTF-8" not in str(got.value):
            assert str(got.value) == str(e)
        return
    assert _read_by_ranges(p, block) == want
