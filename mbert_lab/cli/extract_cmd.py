"""``mbert-lab extract``: sentence / word / subword vectors for texts, cached on disk."""

from __future__ import annotations

import argparse

from .common import add_model_options

EXAMPLES = """examples:
  mbert-lab extract --text "Hello world." --text "Hallo Welt." --layers 8 --out vecs.npz
  mbert-lab extract --file sentences.txt --layers all --outputs sentence,word --out vecs.npz
  mbert-lab extract --file words.txt --pretokenized --layers 4,8 --out vecs.npz   # space-separated words

The .npz holds sentence_<pooling>_L<layer> [N, H] for pooling mean, cls and mean_all, and with
--outputs word/subword: word_L<layer> / subword_L<layer> [total, H] with *_offsets [N+1] to slice
sentence i as arr[offsets[i]:offsets[i+1]]. A JSON file with provenance is written beside it.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="extract per-layer sentence/word/subword vectors",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", action="append", help="a sentence (repeatable)")
    src.add_argument("--file", help="one sentence per line (UTF-8)")
    p.add_argument("--pretokenized", action="store_true", help="lines are words separated by ASCII spaces")
    p.add_argument("--outputs", default="sentence", help="comma list of sentence,word,subword")
    p.add_argument("--word-pooling", default="mean", help="mean or first")
    p.add_argument("--out", required=True, help="output .npz path")
    add_model_options(p, layers_default="all")
    p.set_defaults(func=run)


def _read_lines(path: str) -> list[str]:
    from mbert_lab.errors import InputError

    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n").rstrip("\r") for line in f]
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 ({e.reason} at byte {e.start})", path=path) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=path) from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from mbert_lab.encode import default_store
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.io import atomic_open
    from mbert_lab.models.registry import load_encoder, parse_layers
    from mbert_lab.results import Provenance, record

    texts = args.text if args.text else _read_lines(args.file)
    items = [t.split(" ") if args.pretokenized else t for t in texts]
    enc = load_encoder(args.model, revision=args.revision, device=args.device)
    layers = parse_layers(args.layers, enc.num_layers)
    cfg = ExtractConfig(
        layers=tuple(layers),
        outputs=tuple(o.strip() for o in args.outputs.split(",") if o.strip()),
        word_pooling=args.word_pooling,
        max_length=args.max_length,
        batch_size=args.batch_size,
    )
    store = None if args.no_cache else default_store()
    corpus = Extractor(enc, cfg, store=store, device=args.device).encode(items, pretokenized=args.pretokenized)
    arrays: dict[str, np.ndarray] = {}
    for layer in layers:
        for pooling in ("mean", "cls", "mean_all"):
            arrays[f"sentence_{pooling}_L{layer}"] = corpus.sentence(layer, pooling)
        for kind in ("word", "subword"):
            if corpus.has(kind):
                getter = corpus.words if kind == "word" else corpus.subwords
                parts = [getter(i, layer) for i in range(len(corpus))]
                arrays[f"{kind}_L{layer}"] = np.concatenate(parts) if parts else np.zeros((0, enc.hidden_size))
                arrays[f"{kind}_offsets"] = np.cumsum([0] + [len(x) for x in parts])
    out = Path(args.out)
    with atomic_open(out, "wb") as f:
        np.savez(f, **arrays)
    prov = Provenance.collect(config=vars(args) | {"func": None}, model=enc.provenance, layers=layers, pooling=args.word_pooling)
    meta = {"n": len(corpus), "arrays": {k: list(v.shape) for k, v in arrays.items()}, "tokens": [corpus.tokens(i) for i in range(len(corpus))]}
    record("extract", meta, prov).save(out.with_suffix(".json"))
    print(f"wrote {out} ({len(corpus)} texts, layers {layers}) and {out.with_suffix('.json')}")
    return 0
