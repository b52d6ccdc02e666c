"""Representations: per-layer sentence / word / subword vectors for any text.

>>> import mbert_lab as ml                                              # doctest: +SKIP
>>> r = ml.extract(texts=["Hello world.", "Hallo Welt."], layers=[8])    # doctest: +SKIP
>>> r.corpus.sentence(8).shape                                          # doctest: +SKIP
(2, 384)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..encode.extractor import OUTPUTS, WORD_POOLINGS
from ..errors import ConfigError
from .base import (
    EncoderOptions,
    Provenance,
    StudyResult,
    as_tuple,
    check_choice,
    check_choices,
    check_input_file,
    check_text,
    make_extractor,
    make_provenance,
    resolve_encoder,
    resolve_layers,
    resolve_store,
    transient,
)


@dataclass(frozen=True, kw_only=True)
class RepresentationsConfig(EncoderOptions):
    """Vectors for ``texts`` (given inline) or ``file`` (one text per line; a blank line is
    an error). ``pretokenized``: lines are words separated by ASCII spaces. ``ray``: encode
    on a Ray cluster (``'local'``, ``'auto'``, ``HOST:PORT``; :mod:`mbert_lab.distributed`)
    with ``ray_workers`` model actors; the vectors are the same as without it."""

    study = "extract"
    texts: tuple[str, ...] = ()
    file: str | None = None
    pretokenized: bool = False
    outputs: tuple[str, ...] = ("sentence",)
    word_pooling: str = "mean"
    ray: str | None = None
    ray_workers: int | None = None
    id_column: str | None = None
    text_column: str | None = None

    def normalise(self) -> None:
        super().normalise()
        self._set("texts", as_tuple(self.texts, "texts") if not isinstance(self.texts, str) else (self.texts,))
        self._set("outputs", as_tuple(self.outputs, "outputs"))

    def validate(self) -> None:
        super().validate()
        if bool(self.texts) == (self.file is not None):
            raise ConfigError("texts / file: give exactly one of them")
        for i, t in enumerate(self.texts, 1):
            check_text(f"texts[{i}]", t)
        check_input_file("file", self.file, allow_none=True)
        _check_record_columns(self)
        check_choices("outputs", self.outputs, OUTPUTS)
        check_choice("word_pooling", self.word_pooling, WORD_POOLINGS)
        from ..distributed import check_ray_fields

        check_ray_fields(self)

    def read_texts(self) -> list[Any]:
        return self.read_items()[1]

    def read_items(self) -> tuple[tuple[str, ...], list[Any]]:
        """(ids, texts): ids from the id column of a Parquet / JSON Lines ``file`` (read as a
        Ray dataset with ``ray``, inside a Ray session), else (). With ``ray`` a plain text
        ``file`` is not read here: a :class:`~mbert_lab.distributed.corpus.LineFile` stands
        for it (read and tokenized on the cluster by the extractor)."""
        from ..data.readers.records import is_record_file, read_records, read_records_ray
        from ..data.readers.text import read_sentences, split_ascii_space

        ids: tuple[str, ...] = ()
        if self.texts:
            texts = list(self.texts)
        elif is_record_file(self.file):  # type: ignore[arg-type]
            read = read_records_ray if self.ray is not None else read_records
            got = read(self.file, id_column=self.id_column or "id", text_column=self.text_column or "text")  # type: ignore[arg-type]
            ids, texts = tuple(got[0]), got[1]
        elif self.ray is not None:  # read on the cluster, as a Ray dataset (mbert_lab.distributed.corpus)
            from ..distributed.corpus import LineFile

            return ids, LineFile(str(self.file), words=self.pretokenized)  # type: ignore[return-value]
        else:
            texts = read_sentences(self.file)  # type: ignore[arg-type]
        return ids, [list(split_ascii_space(t)) for t in texts] if self.pretokenized else texts


def _check_record_columns(cfg: RepresentationsConfig) -> None:
    from ..data.readers.records import RECORD_SUFFIXES, is_record_file

    for name in ("id_column", "text_column"):
        v = getattr(cfg, name)
        if v is not None:
            check_text(name, v)
        if v is not None and (cfg.file is None or not is_record_file(cfg.file)):
            raise ConfigError(f"{name}: only for a Parquet / JSON Lines file ({', '.join(RECORD_SUFFIXES)})")


@dataclass(frozen=True, kw_only=True)
class RepresentationsResult(StudyResult):
    kind = "extract"
    n: int
    layers: tuple[int, ...]
    outputs: tuple[str, ...]
    hidden_size: int
    tokens: tuple[tuple[str, ...], ...]
    ids: tuple[str, ...] = ()  # the id column of a Parquet / JSON Lines input, in row order
    corpus: Any = transient()  # the EncodedCorpus (memory-mapped from the store when cached)

    def arrays(self) -> dict[str, Any]:
        """``sentence_<pooling>_L<l>``, ``word_L<l>`` / ``subword_L<l>`` (rows of every text
        stacked; ``<kind>_offsets`` says where each text starts)."""
        import numpy as np

        c = self.corpus
        if c is None:
            raise ConfigError("this result was loaded from JSON: its vectors are in the saved .npz")
        out: dict[str, Any] = {}
        for layer in self.layers:
            for pooling in ("mean", "cls", "mean_all"):
                out[f"sentence_{pooling}_L{layer}"] = c.sentence(layer, pooling)
            for kind in ("word", "subword"):
                if c.has(kind):
                    getter = c.words if kind == "word" else c.subwords
                    parts = [getter(i, layer) for i in range(len(c))]
                    out[f"{kind}_L{layer}"] = np.concatenate(parts) if parts else np.zeros((0, self.hidden_size))
                    out[f"{kind}_offsets"] = np.cumsum([0] + [len(x) for x in parts])
        return out

    def write_npz(self, path: str | Path) -> Path:
        import numpy as np

        from ..io import atomic_open

        path = Path(path)
        with atomic_open(path, "wb") as f:
            np.savez(f, **self.arrays())
        return path

    def save(self, out_dir: str | Path) -> Path:
        """``extract.json`` plus ``vectors.npz`` (when the vectors are in memory)."""
        if self.corpus is not None:
            self.write_npz(Path(out_dir) / "vectors.npz")
        return super().save(out_dir)


def extract(config: RepresentationsConfig, *, encoder: Any = None, store: Any = None) -> RepresentationsResult:
    """Encode the config's texts once, keeping the requested layers and outputs."""
    from ..data.readers.records import check_record_file
    from ..distributed import extractor_for, session_for

    if config.file is not None:  # the columns of a Parquet / JSON Lines file, before any Ray or model work
        check_record_file(config.file, id_column=config.id_column or "id", text_column=config.text_column or "text")
    with session_for(config):  # with ray: a Parquet / JSON Lines file is read as a Ray dataset
        ids, items = config.read_items()
        enc = resolve_encoder(config, encoder)
        layers = resolve_layers(config.layers, enc.num_layers)
        ex = make_extractor(config, enc, resolve_store(config, store), layers, config.outputs,
                            word_pooling=config.word_pooling)
        corpus = extractor_for(config, ex).encode(items, pretokenized=config.pretokenized)
    prov: Provenance = make_provenance(config, encoder=enc, layers=layers, pooling=config.word_pooling)
    return RepresentationsResult(
        provenance=prov,
        n=len(corpus),
        layers=tuple(layers),
        outputs=tuple(config.outputs),
        hidden_size=int(enc.hidden_size),
        tokens=tuple(tuple(corpus.tokens(i)) for i in range(len(corpus))),
        ids=ids,
        corpus=corpus,
    )


run = extract
