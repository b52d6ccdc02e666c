"""``extract --ray`` over a plain text file: the file is a Ray dataset read by Ray tasks with
the project's line rule, the model actors tokenize and plan, and the driver never tokenizes
a text; the vectors and the store are the single process's (issue 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mbert_lab.errors import InputError
from tests._ray_cluster import ray_cluster, tatoeba_corpus  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory) -> tuple[Path, list[str]]:
    """A BOM, CRLF line ends and lines padded with ASCII blanks (stripped by the line rule)."""
    texts = tatoeba_corpus(("deu",))[:1300]
    p = tmp_path_factory.mktemp("txt") / "corpus.txt"
    body = "".join((f"  {t}\t" if i % 7 == 0 else t) + "\r\n" for i, t in enumerate(texts))
    p.write_bytes(("\ufeff" + body).encode("utf-8"))
    return p, texts


@pytest.fixture
def small_blocks(monkeypatch):
    import mbert_lab.distributed.corpus as C

    monkeypatch.setattr(C, "BLOCK_BYTES", 8192)  # the driver cuts the file into many ranges


def _entries(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "writer.json"}


def _no_driver_tokenization(monkeypatch, encoder, texts) -> list[object]:
    """Make the driver's tokenization fail, and record what its tokenizer is called with."""
    from mbert_lab.encode.extractor import Extractor

    def refuse(*a, **k):
        raise AssertionError("the driver tokenized the corpus")

    monkeypatch.setattr(Extractor, "tokenize", refuse)
    seen: list[object] = []
    cls = type(encoder.tokenizer)
    real = cls.__call__
    monkeypatch.setattr(cls, "__call__", lambda self, *a, **k: seen.append(a[0] if a else k) or real(self, *a, **k))
    return seen


def test_text_file_on_ray_equals_one_process(_tiny_wordpiece_session, text_file, small_blocks, tmp_path,
                                             monkeypatch) -> None:
    from mbert_lab.distributed.corpus import BLOCK_BYTES, byte_ranges
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.representations import RepresentationsConfig, extract

    path, texts = text_file
    assert len(byte_ranges(path, BLOCK_BYTES)) >= 5
    cfg = RepresentationsConfig(file=str(path), layers="2,4", threads=1)
    plain = extract(cfg, encoder=_tiny_wordpiece_session, store=Store(tmp_path / "a"))
    assert plain.n == len(texts) == 1300
    seen = _no_driver_tokenization(monkeypatch, _tiny_wordpiece_session, texts)
    on_ray = extract(cfg.replace(ray="local", ray_workers=2), encoder=_tiny_wordpiece_session,
                     store=Store(tmp_path / "b"))
    assert on_ray.tokens == plain.tokens and on_ray.n == plain.n
    a, b = plain.arrays(), on_ray.arrays()
    assert sorted(a) == sorted(b)
    for k in a:
        assert np.abs(a[k] - b[k]).max() <= 1e-5, k
    assert _entries(tmp_path / "a") == _entries(tmp_path / "b")  # the same shards, file for file
    no_cache = extract(cfg.replace(ray="local", ray_workers=2, cache=False), encoder=_tiny_wordpiece_session)
    assert no_cache.tokens == plain.tokens
    assert np.abs(no_cache.corpus.sentence(4) - plain.corpus.sentence(4)).max() <= 1e-5
    corpus_texts = set(texts)  # the driver's tokenizer never saw a text of the corpus
    assert not [s for s in seen if (s in corpus_texts if isinstance(s, str) else
                                    isinstance(s, list) and corpus_texts.intersection(map(str, s)))]


def test_pretokenized_text_file_on_ray(_tiny_wordpiece_session, text_file, small_blocks, tmp_path) -> None:
    from mbert_lab.encode.store import Store
    from mbert_lab.studies.representations import RepresentationsConfig, extract

    path, _ = text_file
    cfg = RepresentationsConfig(file=str(path), layers="3", pretokenized=True, outputs=("sentence", "word"), threads=1)
    plain = extract(cfg, encoder=_tiny_wordpiece_session, store=Store(tmp_path / "a"))
    on_ray = extract(cfg.replace(ray="local", ray_workers=2), encoder=_tiny_wordpiece_session,
                     store=Store(tmp_path / "b"))
    assert on_ray.tokens == plain.tokens
    a, b = plain.arrays(), on_ray.arrays()
    for k in ("sentence_mean_L3", "word_L3", "word_offsets"):
        assert np.abs(a[k] - b[k]).max() <= 1e-5, k


@pytest.mark.parametrize(("body", "line", "msg"), [
    (b"a\r\nb\n" * 3000 + b"c\n \t\nd\n", 6002, "blank line"),
    (b"\xef\xbb\xbfa\rb\n" * 3000 + b"c\n\xff\n", 6002, "not valid UTF-8"),
    (b"", None, "no sentences"),
])
def test_text_file_errors_name_file_and_line(_tiny_wordpiece_session, small_blocks, tmp_path, body, line, msg):
    from mbert_lab.data.readers.text import read_sentences
    from mbert_lab.studies.representations import RepresentationsConfig, extract

    p = tmp_path / "bad.txt"
    p.write_bytes(body)
    with pytest.raises(InputError) as plain:
        read_sentences(p)
    with pytest.raises(InputError) as on_ray:
        extract(RepresentationsConfig(file=str(p), layers="2", ray="local", cache=False), encoder=_tiny_wordpiece_session,
                store=None)
    assert str(on_ray.value) == str(plain.value)
    assert msg in str(on_ray.value) and on_ray.value.line == line
