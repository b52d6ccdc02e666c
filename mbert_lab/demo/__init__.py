"""The README's main job: every analysis, offline, on the embedded model and corpus.

``mbert-lab demo`` builds (once) the offline model (multilingual-e5-small, 4-bit-derived
weights), reads the embedded corpus (Django's translation catalogues), and runs each
registered section. A section is a function ``section(ctx) -> str`` that writes its JSON
records and plots under ``ctx.out / <name>`` and returns a short summary. Sections are
listed in :data:`SECTIONS` as ``(name, "module:function")`` and imported lazily.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write_json

# Languages shown by default: several families and scripts, all well covered by the corpus.
DEFAULT_LANGUAGES = ("de", "fr", "es", "ru", "el", "ar", "he", "hi", "ja", "zh", "ko", "fi", "tr", "ka")

SECTIONS: list[tuple[str, str]] = [
    ("representations", "mbert_lab.demo.representations:section"),
    ("alignment", "mbert_lab.demo.alignment:section"),
    ("centroids", "mbert_lab.demo.centroids:section"),
    ("vocabulary", "mbert_lab.demo.vocabulary:section"),
    ("retrieval", "mbert_lab.demo.retrieval:section"),
    ("transfer", "mbert_lab.demo.transfer:section"),
]


@dataclass
class DemoContext:
    encoder: Any
    corpus: Any  # EmbeddedCorpus
    languages: tuple[str, ...]
    out: Path
    store: Any = None
    max_pairs: int = 200
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def parallel(self) -> dict[str, list[tuple[str, str]]]:
        """lang -> [(english, translation)] for the demo languages (at most ``max_pairs`` each)."""
        return {lang: self.corpus.parallel(lang)[: self.max_pairs] for lang in self.languages}

    def extract(
        self,
        texts: Sequence[str] | Sequence[Sequence[str]],
        layers: Sequence[int] | None = None,
        outputs: Sequence[str] = ("sentence",),
        **kw: Any,
    ) -> Any:
        """Encode with the shared, cached extractor (all layers unless told otherwise)."""
        from ..encode.extractor import ExtractConfig, Extractor

        layers = tuple(layers) if layers is not None else tuple(range(self.encoder.num_layers + 1))
        cfg = ExtractConfig(layers=layers, outputs=tuple(outputs), **kw)
        return Extractor(self.encoder, cfg, store=self.store, progress=False).encode(texts)

    def provenance(self, config: dict[str, Any] | None = None, layers: Sequence[int] = (), pooling: str | None = None):  # type: ignore[no-untyped-def]
        from ..results import DatasetProvenance, Provenance

        src = self.corpus.source
        ds = DatasetProvenance(
            name=f"django-gettext-{src['version']}",
            files={src["filename"]: src["sha256"]},
            languages=tuple(self.languages),
        )
        return Provenance.collect(
            config=config or {}, model=self.encoder.provenance, layers=tuple(layers), pooling=pooling, datasets=[ds]
        )


def run_demo(
    out: str | Path = "results/demo",
    model: str = "offline",
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    max_pairs: int = 200,
    sections: Sequence[str] | None = None,
    use_cache: bool = True,
    device: str = "cpu",
    threads: int | None = None,
) -> dict[str, Any]:
    from ..data.embedded import load_embedded_corpus
    from ..encode import default_store
    from ..errors import DataMissingError, choice_error
    from ..models.registry import load_encoder
    from ..studies.base import check_count, check_device, check_output_dir, set_threads

    check_count("max_pairs", max_pairs, minimum=10)  # fewer pairs give no usable statistics
    check_count("threads", threads, maximum=1024, allow_none=True)
    check_device(device)
    check_output_dir("out", out)
    out = Path(out)
    names = [n for n, _ in SECTIONS]
    for s in sections or ():
        if s not in names:
            raise choice_error("demo section", s, names)
    t0 = time.time()
    corpus = load_embedded_corpus()
    missing = [la for la in languages if la not in corpus.translations]
    if missing or not languages:
        raise choice_error("demo language", missing[0] if missing else "", corpus.languages)
    print(f"[demo] loading model '{model}' (the offline model is built on first use)...", flush=True)
    set_threads(threads)
    encoder = load_encoder(model, device=device)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(
        encoder=encoder,
        corpus=corpus,
        languages=tuple(languages),
        out=out,
        store=default_store() if use_cache else None,
        max_pairs=max_pairs,
    )
    print(
        f"[demo] model: {encoder.label} ({encoder.num_layers} layers, hidden {encoder.hidden_size}); "
        f"corpus: Django {corpus.source['version']} catalogues, {len(corpus.english)} messages, "
        f"{len(languages)} of {len(corpus.languages)} languages",
        flush=True,
    )
    summaries: dict[str, Any] = {}
    for name, target in SECTIONS:
        if sections and name not in sections:
            continue
        modname, fn = target.split(":")
        t1 = time.time()
        try:
            summary = getattr(importlib.import_module(modname), fn)(ctx)
        except DataMissingError as e:
            # Sections that also read the data mirror say so and the demo goes on.
            summary = f"{name}: not run, it needs a dataset that is not present: {e}"
        summaries[name] = {"summary": summary, "seconds": round(time.time() - t1, 1)}
        print(f"[demo] {summary}  ({time.time() - t1:.0f}s)", flush=True)
    meta = {
        "model": dataclasses.asdict(encoder.provenance),
        "languages": list(languages),
        "sections": summaries,
        "seconds": round(time.time() - t0, 1),
    }
    atomic_write_json(out / "summary.json", meta)
    print(f"[demo] done in {time.time() - t0:.0f}s; results in {out}/", flush=True)
    return meta
